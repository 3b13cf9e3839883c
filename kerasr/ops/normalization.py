"""Fused normalization ops over the Numba kernels in `kernels/normalization.py`: batch
normalization (training and inference) and layer normalization, on a (rows, columns) view
with the normalized axes last."""

import numpy as np

from ..engine.tape import record
from ..kernels import normalization as norm_kernels


def _as_columns(array, axes):
    """`array` as a C-contiguous (rows, columns) array, the (sorted) `axes` moved last and
    flattened into the columns; returns it with what `_from_columns` needs to undo it."""
    ndim = array.ndim
    perm = [a for a in range(ndim) if a not in axes] + list(axes)
    identity = perm == list(range(ndim))
    moved = array if identity else np.transpose(array, perm)
    cols = int(np.prod([array.shape[a] for a in axes], dtype=np.int64))
    return np.ascontiguousarray(moved).reshape(-1, cols), (None if identity else perm, moved.shape)


def _from_columns(array2d, layout):
    perm, moved_shape = layout
    out = array2d.reshape(moved_shape)
    return out if perm is None else np.ascontiguousarray(np.transpose(out, np.argsort(perm)))


def _param_vector(param, cols, fill, dtype):
    return np.full(cols, fill, dtype) if param is None else param.data.reshape(-1)


def _with_params(grads, gamma, beta, dgamma, dbeta):
    grads = [grads]
    if gamma is not None:
        grads.append(dgamma.reshape(gamma.shape))
    if beta is not None:
        grads.append(dbeta.reshape(beta.shape))
    return tuple(grads)


def _params(x, gamma, beta):
    return (x,) + tuple(p for p in (gamma, beta) if p is not None)


def batch_normalization_train(x, gamma, beta, axes, epsilon):
    """Batch normalization with the statistics of `x` over every axis but the (sorted)
    `axes`; returns (output tensor, mean, variance) with mean and variance as flat arrays.
    The gradient includes the statistics' dependence on x."""
    x2, layout = _as_columns(x.data, axes)
    cols, dtype = x2.shape[1], x2.dtype
    gamma_v = _param_vector(gamma, cols, 1.0, dtype)
    beta_v = _param_vector(beta, cols, 0.0, dtype)
    out = np.empty_like(x2)
    mean, var, inv_std = (np.empty(cols, dtype) for _ in range(3))
    norm_kernels.batch_norm_forward(x2, gamma_v, beta_v, epsilon, out, mean, var, inv_std)

    def backward(g, needs):
        g2, _ = _as_columns(g, axes)
        dx = np.empty_like(x2)
        dgamma, dbeta = np.empty(cols, dtype), np.empty(cols, dtype)
        norm_kernels.batch_norm_backward(x2, g2, mean, inv_std, gamma_v, dx, dgamma, dbeta)
        return _with_params(_from_columns(dx, layout) if needs[0] else None,
                            gamma, beta, dgamma, dbeta)

    return record(_params(x, gamma, beta), _from_columns(out, layout), backward), mean, var


def batch_normalization_inference(x, gamma, beta, mean, variance, axes, epsilon):
    """Batch normalization with given statistics (arrays over `axes`), e.g. the moving ones."""
    shape = [1] * x.ndim
    for a in axes:
        shape[a] = x.shape[a]
    reduce_axes = tuple(a for a in range(x.ndim) if a not in axes)
    xd = x.data
    mean = np.array(mean, dtype=xd.dtype).reshape(shape)  # copies: later updates stay out
    inv_std = (1.0 / np.sqrt(np.asarray(variance, dtype=xd.dtype) + epsilon)).reshape(shape)
    scale = inv_std if gamma is None else inv_std * gamma.data.reshape(shape)
    out = (xd - mean) * scale
    if beta is not None:
        out += beta.data.reshape(shape)

    def backward(g, needs):
        dgamma = dbeta = None
        if gamma is not None and needs[1]:
            dgamma = np.sum(g * ((xd - mean) * inv_std), axis=reduce_axes)
        if beta is not None and needs[-1]:
            dbeta = np.sum(g, axis=reduce_axes)
        return _with_params(g * scale if needs[0] else None, gamma, beta, dgamma, dbeta)

    return record(_params(x, gamma, beta), out.astype(xd.dtype, copy=False), backward)


def layer_normalization(x, gamma, beta, axes, epsilon):
    """Normalizes each sample over the (sorted) `axes` with its own mean and variance."""
    x2, layout = _as_columns(x.data, axes)
    rows, cols = x2.shape
    dtype = x2.dtype
    gamma_v = _param_vector(gamma, cols, 1.0, dtype)
    beta_v = _param_vector(beta, cols, 0.0, dtype)
    out = np.empty_like(x2)
    mean, inv_std = np.empty(rows, dtype), np.empty(rows, dtype)
    norm_kernels.layer_norm_forward(x2, gamma_v, beta_v, epsilon, out, mean, inv_std)

    def backward(g, needs):
        g2, _ = _as_columns(g, axes)
        dx = np.empty_like(x2)
        dgamma, dbeta = np.empty(cols, dtype), np.empty(cols, dtype)
        norm_kernels.layer_norm_backward(x2, g2, mean, inv_std, gamma_v, dx, dgamma, dbeta)
        return _with_params(_from_columns(dx, layout) if needs[0] else None,
                            gamma, beta, dgamma, dbeta)

    return record(_params(x, gamma, beta), _from_columns(out, layout), backward)
