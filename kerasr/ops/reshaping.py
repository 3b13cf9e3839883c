"""Differentiable zero padding and cropping: numpy slice copies (memcpy speed, nothing for
a kernel to fuse), each op's backward the other's forward."""

import numpy as np

from ..engine.tape import record
from ..engine.tensor import as_tensor


def _pairs(widths, ndim, what):
    pairs = tuple((int(a), int(b)) for a, b in widths)
    if len(pairs) != ndim or any(a < 0 or b < 0 for a, b in pairs):
        raise ValueError(f"{what} needs one (before, after) pair of non-negative integers per "
                         f"axis ({ndim}), got {widths!r}.")
    return pairs


def _inner(shape, pairs):
    """The slices of a padded shape that hold the unpadded data."""
    return tuple(slice(a, size - b) for size, (a, b) in zip(shape, pairs))


def zero_pad(x, padding):
    """x with padding[i] = (before, after) zeros added along axis i (one pair per axis)."""
    x = as_tensor(x)
    pairs = _pairs(padding, x.ndim, "zero_pad")
    out = np.zeros(tuple(s + a + b for s, (a, b) in zip(x.shape, pairs)), dtype=x.dtype)
    inner = _inner(out.shape, pairs)
    out[inner] = x.data
    return record((x,), out, lambda g, needs: (np.ascontiguousarray(g[inner]),))


def crop(x, cropping):
    """x with cropping[i] = (before, after) entries removed along axis i (one pair per axis)."""
    x = as_tensor(x)
    pairs = _pairs(cropping, x.ndim, "crop")
    if any(a + b >= s for s, (a, b) in zip(x.shape, pairs) if a + b):
        raise ValueError(f"crop: cropping {pairs} leaves nothing of an input of shape {x.shape}.")
    inner = _inner(x.shape, pairs)
    shape, dtype = x.shape, x.dtype

    def backward(g, needs):
        dx = np.zeros(shape, dtype=dtype)
        dx[inner] = g
        return (dx,)
    return record((x,), np.ascontiguousarray(x.data[inner]), backward)
