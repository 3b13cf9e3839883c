"""Differentiable array math: arithmetic with broadcasting, reductions and shape ops.

These are numpy's own vectorised routines wrapped as forward/backward pairs; the heavy,
fused ops of the layers live in `nn.py` and call the Numba kernels.
"""

import numpy as np

from ..engine.tape import record
from ..engine.tensor import Tensor, as_tensor


def _pair(x, y):
    """Both operands as tensors, a plain number taking the other operand's dtype."""
    if isinstance(x, Tensor) and not isinstance(y, Tensor):
        return x, as_tensor(y, _constant_dtype(y, x.dtype))
    if isinstance(y, Tensor) and not isinstance(x, Tensor):
        return as_tensor(x, _constant_dtype(x, y.dtype)), y
    return as_tensor(x), as_tensor(y)


def _constant_dtype(value, tensor_dtype):
    # A constant follows a float tensor's dtype, so `x * 2.0` stays float32.
    return tensor_dtype if tensor_dtype.kind == "f" else None


def unbroadcast(grad, shape):
    """Sum `grad` over the axes along which an operand of `shape` was broadcast."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def add(x, y):
    x, y = _pair(x, y)
    xs, ys = x.shape, y.shape

    def backward(g, needs):
        return (unbroadcast(g, xs) if needs[0] else None, unbroadcast(g, ys) if needs[1] else None)
    return record((x, y), x.data + y.data, backward)


def subtract(x, y):
    x, y = _pair(x, y)
    xs, ys = x.shape, y.shape

    def backward(g, needs):
        return (unbroadcast(g, xs) if needs[0] else None,
                unbroadcast(-g, ys) if needs[1] else None)
    return record((x, y), x.data - y.data, backward)


def multiply(x, y):
    x, y = _pair(x, y)
    xd, yd = x.data, y.data

    def backward(g, needs):
        return (unbroadcast(g * yd, xd.shape) if needs[0] else None,
                unbroadcast(g * xd, yd.shape) if needs[1] else None)
    return record((x, y), xd * yd, backward)


def divide(x, y):
    x, y = _pair(x, y)
    xd, yd = x.data, y.data
    out = xd / yd

    def backward(g, needs):
        return (unbroadcast(g / yd, xd.shape) if needs[0] else None,
                unbroadcast(-g * out / yd, yd.shape) if needs[1] else None)
    return record((x, y), out, backward)


def power(x, y):
    x, y = _pair(x, y)
    xd, yd = x.data, y.data
    out = xd ** yd

    def backward(g, needs):
        gx = gy = None
        if needs[0]:
            gx = unbroadcast(g * yd * xd ** (yd - 1), xd.shape)
        if needs[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_x = np.where(xd > 0, np.log(np.where(xd > 0, xd, 1)), 0).astype(out.dtype)
            gy = unbroadcast(g * out * log_x, yd.shape)
        return gx, gy
    return record((x, y), out, backward)


def negative(x):
    x = as_tensor(x)
    return record((x,), -x.data, lambda g, needs: (-g,))


def _unary(x, forward, derivative):
    """An elementwise op whose derivative is a function of (input, output)."""
    x = as_tensor(x)
    xd = x.data
    out = forward(xd)

    def backward(g, needs):
        return (g * derivative(xd, out),)
    return record((x,), out, backward)


def exp(x):
    return _unary(x, np.exp, lambda x, y: y)


def log(x):
    return _unary(x, np.log, lambda x, y: 1 / x)


def sqrt(x):
    return _unary(x, np.sqrt, lambda x, y: 0.5 / y)


def square(x):
    return _unary(x, np.square, lambda x, y: 2 * x)


def abs(x):  # noqa: A001 (mirrors numpy's name)
    return _unary(x, np.abs, lambda x, y: np.sign(x))


def sign(x):
    x = as_tensor(x)
    return record((x,), np.sign(x.data), lambda g, needs: (np.zeros_like(g),))


def clip(x, min_value, max_value):
    x = as_tensor(x)
    xd = x.data
    lo = -np.inf if min_value is None else min_value
    hi = np.inf if max_value is None else max_value
    inside = (xd >= lo) & (xd <= hi)
    return record((x,), np.clip(xd, lo, hi).astype(xd.dtype, copy=False),
                  lambda g, needs: (g * inside,))


def _choose(x, y, pick_x):
    x, y = _pair(x, y)
    xd, yd = x.data, y.data
    take_x = pick_x(xd, yd)

    def backward(g, needs):
        return (unbroadcast(np.where(take_x, g, 0), xd.shape) if needs[0] else None,
                unbroadcast(np.where(take_x, 0, g), yd.shape) if needs[1] else None)
    return record((x, y), np.where(take_x, xd, yd), backward)


def maximum(x, y):
    return _choose(x, y, lambda a, b: a >= b)


def minimum(x, y):
    return _choose(x, y, lambda a, b: a <= b)


def where(condition, x, y):
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition, bool)
    return _choose(x, y, lambda a, b: np.broadcast_to(condition, np.broadcast_shapes(
        condition.shape, a.shape, b.shape)))


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(int(a) % ndim for a in axes)


def _restore_reduced(g, shape, axes, keepdims):
    """A reduction's gradient spread back over the reduced axes (a read-only view)."""
    if not keepdims:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


def sum(x, axis=None, keepdims=False):  # noqa: A001
    x = as_tensor(x)
    shape, axes = x.shape, _axes(axis, x.ndim)
    out = np.sum(x.data, axis=axes, keepdims=keepdims)

    def backward(g, needs):
        return (np.array(_restore_reduced(g, shape, axes, keepdims)),)
    return record((x,), np.asarray(out), backward)


def mean(x, axis=None, keepdims=False):
    x = as_tensor(x)
    shape, axes = x.shape, _axes(axis, x.ndim)
    count = int(np.prod([shape[a] for a in axes])) if axes else 1
    out = np.mean(x.data, axis=axes, keepdims=keepdims)

    def backward(g, needs):
        return (np.full(shape, g / count, dtype=g.dtype) if g.ndim == 0 else
                _restore_reduced(g, shape, axes, keepdims) / np.asarray(count, g.dtype),)
    return record((x,), np.asarray(out, dtype=x.dtype), backward)


def _extreme(x, axis, keepdims, reduce):
    x = as_tensor(x)
    xd = x.data
    axes = _axes(axis, x.ndim)
    kept = reduce(xd, axis=axes, keepdims=True)

    def backward(g, needs):
        # Ties share the gradient equally.
        hit = (xd == kept)
        share = hit / hit.sum(axis=axes, keepdims=True)
        return ((_restore_reduced(g, xd.shape, axes, keepdims) * share).astype(xd.dtype),)
    out = kept if keepdims else np.squeeze(kept, axis=axes)
    return record((x,), np.asarray(out), backward)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return _extreme(x, axis, keepdims, np.max)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return _extreme(x, axis, keepdims, np.min)


def matmul(x, y):
    x, y = _pair(x, y)
    xd, yd = x.data, y.data
    if xd.ndim == 0 or yd.ndim == 0:
        raise ValueError(f"matmul needs arrays of rank >= 1, got shapes {xd.shape} and {yd.shape}.")

    def backward(g, needs):
        gx = gy = None
        x2 = xd if xd.ndim > 1 else xd[None, :]
        y2 = yd if yd.ndim > 1 else yd[:, None]
        g2 = g
        if xd.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if yd.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        if needs[0]:
            gx = unbroadcast(np.matmul(g2, np.swapaxes(y2, -1, -2)), x2.shape).reshape(xd.shape)
        if needs[1]:
            gy = unbroadcast(np.matmul(np.swapaxes(x2, -1, -2), g2), y2.shape).reshape(yd.shape)
        return gx, gy
    return record((x, y), np.matmul(xd, yd), backward)


def dot(x, y):
    """Keras's `k_dot`: contracts the last axis of `x` with the second-to-last of `y`."""
    x, y = _pair(x, y)
    if y.ndim <= 2 or x.ndim <= 2:
        return matmul(x, y) if y.ndim <= 2 else matmul(x, y)
    # N-d by N-d: tensordot semantics, y's contracted axis moved to the front.
    y_front = transpose(y, (y.ndim - 2,) + tuple(i for i in range(y.ndim) if i != y.ndim - 2))
    flat_y = reshape(y_front, (y.shape[-2], -1))
    out = matmul(reshape(x, (-1, x.shape[-1])), flat_y)
    return reshape(out, x.shape[:-1] + y.shape[:-2] + y.shape[-1:])


def reshape(x, shape):
    x = as_tensor(x)
    original = x.shape
    shape = (shape,) if np.ndim(shape) == 0 else tuple(-1 if s is None else int(s) for s in shape)
    return record((x,), x.data.reshape(shape), lambda g, needs: (g.reshape(original),))


def transpose(x, axes=None):
    x = as_tensor(x)
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(int(a) % x.ndim for a in axes)
    inverse = tuple(np.argsort(axes))
    return record((x,), np.transpose(x.data, axes), lambda g, needs: (np.transpose(g, inverse),))


def expand_dims(x, axis):
    x = as_tensor(x)
    original = x.shape
    return record((x,), np.expand_dims(x.data, axis), lambda g, needs: (g.reshape(original),))


def squeeze(x, axis=None):
    x = as_tensor(x)
    original = x.shape
    return record((x,), np.squeeze(x.data, axis), lambda g, needs: (g.reshape(original),))


def concatenate(tensors, axis=-1):
    tensors = [as_tensor(t) for t in tensors]
    sizes = [t.shape[axis] for t in tensors]
    bounds = np.cumsum(sizes)[:-1]

    def backward(g, needs):
        return tuple(np.split(g, bounds, axis=axis))
    return record(tuple(tensors), np.concatenate([t.data for t in tensors], axis=axis), backward)


def stack(tensors, axis=0):
    return concatenate([expand_dims(t, axis) for t in tensors], axis=axis)


def repeat(x, repeats, axis):
    x = as_tensor(x)
    shape = x.shape

    def backward(g, needs):
        axis_ = axis % len(shape)
        split = g.reshape(shape[:axis_] + (shape[axis_], repeats) + shape[axis_ + 1:])
        return (split.sum(axis=axis_ + 1),)
    return record((x,), np.repeat(x.data, repeats, axis=axis), backward)


def getitem(x, index):
    x = as_tensor(x)
    shape, dtype = x.shape, x.dtype
    if isinstance(index, Tensor):
        index = index.data

    def backward(g, needs):
        grad = np.zeros(shape, dtype)
        np.add.at(grad, index, g)
        return (grad,)
    return record((x,), x.data[index], backward)


def cast(x, dtype):
    x = as_tensor(x)
    source = x.dtype
    return record((x,), x.data.astype(dtype), lambda g, needs: (g.astype(source),))


def stop_gradient(x):
    return Tensor(as_tensor(x).data)
