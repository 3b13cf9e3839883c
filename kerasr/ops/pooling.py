"""Differentiable pooling and upsampling over the Numba kernels in `kernels/pooling.py`.

Every op takes a tensor of shape (batch, spatial..., channels) ("channels_last") or
(batch, channels, spatial...) ("channels_first"); the kernels work channels_last, so
channels_first data is transposed on the way in and back on the way out (and its gradient
the other way). The spatial rank is the tensor's rank minus 2; windowed pooling and nearest
upsampling run 1-D and 2-D data as 3-D with singleton leading axes.
"""

import numpy as np

from ..engine.tape import record, recording_tape
from ..engine.tensor import Tensor, as_tensor
from ..kernels import pooling as kernels

_FORMATS = ("channels_last", "channels_first")


def _check_format(data_format):
    if data_format not in _FORMATS:
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', "
                         f"got {data_format!r}.")


def _to_last(array, data_format, dtype=None):
    """A C-contiguous channels_last copy or view of `array` (in `dtype`, if given)."""
    if data_format == "channels_first":
        array = np.moveaxis(array, 1, -1)
    return np.ascontiguousarray(array, dtype=dtype)


def _from_last(array, data_format):
    if data_format == "channels_first":
        return np.ascontiguousarray(np.moveaxis(array, -1, 1))
    return array


def _lift(values, fill):
    """Per-axis values of a rank-1/2/3 op as three, `fill` on the missing leading axes."""
    values = tuple(int(v) for v in values)
    return (fill,) * (3 - len(values)) + values


def _spatial_rank(x, what):
    rank = x.ndim - 2
    if not 1 <= rank <= 3:
        raise ValueError(f"{what} expects a tensor of rank 3, 4 or 5 (batch, spatial..., "
                         f"channels), got shape {x.shape}.")
    return rank


def _per_axis(value, rank, name):
    values = (value,) * rank if np.ndim(value) == 0 else tuple(value)
    if len(values) != rank or any(int(v) != v or v < 1 for v in values):
        raise ValueError(f"{name} must be a positive integer or {rank} of them, got {value!r}.")
    return tuple(int(v) for v in values)


def _pool(x, pool_size, strides, padding, data_format, mode):
    x = as_tensor(x)
    _check_format(data_format)
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
    rank = _spatial_rank(x, f"{mode}_pool")
    pool_size = _per_axis(pool_size, rank, "pool_size")
    strides = pool_size if strides is None else _per_axis(strides, rank, "strides")
    xl = _to_last(x.data, data_format)
    n, spatial, c = xl.shape[0], xl.shape[1:-1], xl.shape[-1]
    out_spatial, before = kernels.pool_geometry(spatial, pool_size, strides, padding)
    if min(out_spatial) < 1:
        raise ValueError(f"{mode}_pool: pool_size {pool_size} is larger than the input's "
                         f"spatial shape {spatial} with padding {padding!r}.")
    pool3, strides3, pad3 = _lift(pool_size, 1), _lift(strides, 1), _lift(before, 0)
    x5 = xl.reshape((n,) + _lift(spatial, 1) + (c,))
    out = np.empty((n,) + _lift(out_spatial, 1) + (c,), dtype=xl.dtype)
    result_shape = (n,) + out_spatial + (c,)
    if mode == "max" and recording_tape((x,)) is None:
        # No gradient to route: the values alone, no maxima kept.
        kernels.max_pool_values(x5, pool3, strides3, pad3, out)
        return Tensor(_from_last(out.reshape(result_shape), data_format))
    if mode == "max":
        arg = np.empty(out.shape, dtype=np.int32)
        kernels.max_pool_forward(x5, pool3, strides3, pad3, out, arg)

        def backward(g, needs):
            g3 = _to_last(g, data_format, xl.dtype).reshape(n, -1, c)
            dx = np.empty((n, int(np.prod(spatial)), c), dtype=xl.dtype)
            kernels.max_pool_backward(g3, arg.reshape(n, -1, c), dx)
            return (_from_last(dx.reshape(xl.shape), data_format),)
    else:
        kernels.avg_pool_forward(x5, pool3, strides3, pad3, out)

        def backward(g, needs):
            g5 = _to_last(g, data_format, xl.dtype).reshape(out.shape)
            dx = np.empty(x5.shape, dtype=xl.dtype)
            kernels.avg_pool_backward(g5, pool3, strides3, pad3, dx)
            return (_from_last(dx.reshape(xl.shape), data_format),)

    return record((x,), _from_last(out.reshape(result_shape), data_format), backward)


def max_pool(x, pool_size, strides=None, padding="valid", data_format="channels_last"):
    """Max over sliding windows of the spatial axes (strides default to pool_size); "same"
    pads with -inf, so padding is never the maximum. The gradient goes to the first
    maximum of each window."""
    return _pool(x, pool_size, strides, padding, data_format, "max")


def average_pool(x, pool_size, strides=None, padding="valid", data_format="channels_last"):
    """Mean over sliding windows; with "same", border windows average only their entries
    inside the input (as Keras on TensorFlow)."""
    return _pool(x, pool_size, strides, padding, data_format, "average")


def _global(x, data_format, keepdims, mode):
    x = as_tensor(x)
    _check_format(data_format)
    rank = _spatial_rank(x, f"global_{mode}_pool")
    xl = _to_last(x.data, data_format)
    n, c = xl.shape[0], xl.shape[-1]
    x3 = xl.reshape(n, -1, c)
    if x3.shape[1] == 0:
        raise ValueError(f"global_{mode}_pool needs at least one spatial position, got shape "
                         f"{x.shape}.")
    out = np.empty((n, c), dtype=xl.dtype)
    if mode == "max":
        arg = np.empty((n, c), dtype=np.int64)
        kernels.global_max_forward(x3, out, arg)
    else:
        kernels.global_avg_forward(x3, out)

    def backward(g, needs):
        g2 = np.ascontiguousarray(np.asarray(g, dtype=xl.dtype).reshape(n, c))
        dx = np.empty(x3.shape, dtype=xl.dtype)
        if mode == "max":
            kernels.global_max_backward(g2, arg, dx)
        else:
            kernels.global_avg_backward(g2, dx)
        return (_from_last(dx.reshape(xl.shape), data_format),)

    if keepdims:
        kept = (n,) + (1,) * rank + (c,)
        result = out.reshape(kept) if data_format == "channels_last" else out.reshape(
            (n, c) + (1,) * rank)
    else:
        result = out
    return record((x,), result, backward)


def global_max_pool(x, data_format="channels_last", keepdims=False):
    """Max over all spatial axes: (batch, channels), or with singleton spatial axes."""
    return _global(x, data_format, keepdims, "max")


def global_average_pool(x, data_format="channels_last", keepdims=False):
    """Mean over all spatial axes: (batch, channels), or with singleton spatial axes."""
    return _global(x, data_format, keepdims, "average")


def k_max_pool(x, k):
    """The k largest values over time of each channel of x (batch, steps, channels), kept in
    their time order: (batch, k, channels). Ties keep the earliest steps."""
    x = as_tensor(x)
    if x.ndim != 3:
        raise ValueError(f"k_max_pool expects (batch, steps, channels), got shape {x.shape}.")
    k = int(k)
    n, steps, c = x.shape
    if not 1 <= k <= steps:
        raise ValueError(f"k_max_pool: k must be in [1, {steps}] (the number of steps), got {k}.")
    xl = np.ascontiguousarray(x.data)
    out = np.empty((n, k, c), dtype=xl.dtype)
    idx = np.empty((n, k, c), dtype=np.int64)
    kernels.k_max_forward(xl, k, out, idx)

    def backward(g, needs):
        dx = np.empty(xl.shape, dtype=xl.dtype)
        kernels.k_max_backward(np.ascontiguousarray(g, dtype=xl.dtype), idx, dx)
        return (dx,)
    return record((x,), out, backward)


def upsample(x, size, data_format="channels_last", interpolation="nearest"):
    """Scales the spatial axes up by integer factors: each entry repeated size[i] times
    along axis i ("nearest"), or, for 2-D data, "bilinear" interpolation with half-pixel
    centers (TensorFlow's resize: source = (i + 0.5) / size - 0.5, clamped to the edges)."""
    x = as_tensor(x)
    _check_format(data_format)
    rank = _spatial_rank(x, "upsample")
    size = _per_axis(size, rank, "size")
    xl = _to_last(x.data, data_format)
    n, spatial, c = xl.shape[0], xl.shape[1:-1], xl.shape[-1]
    out_spatial = tuple(s * f for s, f in zip(spatial, size))
    if interpolation == "nearest":
        size3 = _lift(size, 1)
        x5 = xl.reshape((n,) + _lift(spatial, 1) + (c,))
        out = np.empty((n,) + _lift(out_spatial, 1) + (c,), dtype=xl.dtype)
        kernels.upsample_nearest_forward(x5, size3, out)

        def backward(g, needs):
            g5 = _to_last(g, data_format, xl.dtype).reshape(out.shape)
            dx = np.empty(x5.shape, dtype=xl.dtype)
            kernels.upsample_nearest_backward(g5, size3, dx)
            return (_from_last(dx.reshape(xl.shape), data_format),)
    elif interpolation == "bilinear":
        if rank != 2:
            raise ValueError(f"bilinear upsampling needs 2-D data (batch, rows, cols, "
                             f"channels), got shape {x.shape}.")
        coords_h = kernels.bilinear_coordinates(spatial[0], size[0], xl.dtype)
        coords_w = kernels.bilinear_coordinates(spatial[1], size[1], xl.dtype)
        out = np.empty((n,) + out_spatial + (c,), dtype=xl.dtype)
        kernels.upsample_bilinear_forward(xl, coords_h, coords_w, out)

        def backward(g, needs):
            g4 = _to_last(g, data_format, xl.dtype)
            dx = np.empty(xl.shape, dtype=xl.dtype)
            kernels.upsample_bilinear_backward(g4, coords_h, coords_w, dx)
            return (_from_last(dx, data_format),)
    else:
        raise ValueError(f"interpolation must be 'nearest' or 'bilinear', got {interpolation!r}.")
    result = out.reshape((n,) + out_spatial + (c,))
    return record((x,), _from_last(result, data_format), backward)
