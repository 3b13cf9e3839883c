"""Batch and layer normalization over a 2-D (rows, columns) view, forward and backward.

Batch normalization takes per-column statistics over the rows (the channels are the
columns); layer normalization takes per-row statistics over the columns. Both then compute
out = (x - mean) * inv_std * gamma + beta, with inv_std = 1 / sqrt(var + epsilon) and the
biased variance (divided by the count, as Keras does). Statistics and the gamma/beta
gradients are accumulated in float64 whatever the array type; column reductions go through
fixed row chunks (as `reductions.column_sum`), so serial and parallel sum in the same order.
"""

import math

import numpy as np

from ._jit import dtype_const, njit_pair, pick, prange, row_chunking


def _batch_norm_forward(x, gamma, beta, epsilon, out, mean, var, inv_std):
    rows, cols = x.shape
    n_chunks, chunk_rows = row_chunking(rows)
    partial = np.empty((n_chunks, cols), dtype=np.float64)
    # Pass 1: column means.
    for chunk in prange(n_chunks):
        acc = partial[chunk]
        for j in range(cols):
            acc[j] = 0.0
        for i in range(chunk * chunk_rows, min((chunk + 1) * chunk_rows, rows)):
            for j in range(cols):
                acc[j] += x[i, j]
    mu = np.zeros(cols, dtype=np.float64)
    for chunk in range(n_chunks):
        for j in range(cols):
            mu[j] += partial[chunk, j]
    for j in range(cols):
        mu[j] = mu[j] / rows
    # Pass 2: mean squared deviations (two passes: no cancellation for large means).
    for chunk in prange(n_chunks):
        acc = partial[chunk]
        for j in range(cols):
            acc[j] = 0.0
        for i in range(chunk * chunk_rows, min((chunk + 1) * chunk_rows, rows)):
            for j in range(cols):
                d = x[i, j] - mu[j]
                acc[j] += d * d
    sq = np.zeros(cols, dtype=np.float64)
    for chunk in range(n_chunks):
        for j in range(cols):
            sq[j] += partial[chunk, j]
    scale = np.empty(cols, dtype=x.dtype)
    for j in range(cols):
        v = sq[j] / rows
        r = 1.0 / math.sqrt(v + epsilon)
        mean[j] = mu[j]
        var[j] = v
        inv_std[j] = r
        scale[j] = r * gamma[j]
    # Pass 3: normalize, scale and shift.
    for i in prange(rows):
        for j in range(cols):
            out[i, j] = (x[i, j] - mean[j]) * scale[j] + beta[j]
    return out, mean, var, inv_std


def _batch_norm_backward(x, g, mean, inv_std, gamma, dx, dgamma, dbeta):
    rows, cols = x.shape
    n_chunks, chunk_rows = row_chunking(rows)
    partial_g = np.empty((n_chunks, cols), dtype=np.float64)
    partial_gx = np.empty((n_chunks, cols), dtype=np.float64)
    # Pass 1: dbeta = sum_i g, dgamma = sum_i g * xhat.
    for chunk in prange(n_chunks):
        acc_g = partial_g[chunk]
        acc_gx = partial_gx[chunk]
        for j in range(cols):
            acc_g[j] = 0.0
            acc_gx[j] = 0.0
        for i in range(chunk * chunk_rows, min((chunk + 1) * chunk_rows, rows)):
            for j in range(cols):
                gij = g[i, j]
                acc_g[j] += gij
                acc_gx[j] += gij * ((x[i, j] - mean[j]) * inv_std[j])
    sum_g = np.zeros(cols, dtype=np.float64)
    sum_gx = np.zeros(cols, dtype=np.float64)
    for chunk in range(n_chunks):
        for j in range(cols):
            sum_g[j] += partial_g[chunk, j]
            sum_gx[j] += partial_gx[chunk, j]
    # Pass 2: dx = gamma * inv_std * (g - mean(g) - xhat * mean(g * xhat)), the batch
    # statistics being functions of x too.
    a = np.empty(cols, dtype=x.dtype)
    b = np.empty(cols, dtype=x.dtype)
    c = np.empty(cols, dtype=x.dtype)
    for j in range(cols):
        dbeta[j] = sum_g[j]
        dgamma[j] = sum_gx[j]
        a[j] = gamma[j] * inv_std[j]
        b[j] = sum_g[j] / rows
        c[j] = sum_gx[j] / rows
    for i in prange(rows):
        for j in range(cols):
            xhat = (x[i, j] - mean[j]) * inv_std[j]
            dx[i, j] = a[j] * (g[i, j] - b[j] - xhat * c[j])
    return dx, dgamma, dbeta


def _layer_norm_forward(x, gamma, beta, epsilon, out, mean, inv_std):
    rows, cols = x.shape
    for i in prange(rows):
        total = 0.0
        for j in range(cols):
            total += x[i, j]
        mu = total / cols
        sq = 0.0
        for j in range(cols):
            d = x[i, j] - mu
            sq += d * d
        r = 1.0 / math.sqrt(sq / cols + epsilon)
        mean[i] = mu
        inv_std[i] = r
        m = mean[i]
        s = inv_std[i]
        for j in range(cols):
            out[i, j] = (x[i, j] - m) * s * gamma[j] + beta[j]
    return out, mean, inv_std


def _layer_norm_backward(x, g, mean, inv_std, gamma, dx, dgamma, dbeta):
    rows, cols = x.shape
    n_chunks, chunk_rows = row_chunking(rows)
    partial_g = np.empty((n_chunks, cols), dtype=np.float64)
    partial_gx = np.empty((n_chunks, cols), dtype=np.float64)
    for chunk in prange(n_chunks):
        acc_g = partial_g[chunk]
        acc_gx = partial_gx[chunk]
        for j in range(cols):
            acc_g[j] = 0.0
            acc_gx[j] = 0.0
        for i in range(chunk * chunk_rows, min((chunk + 1) * chunk_rows, rows)):
            m = mean[i]
            s = inv_std[i]
            # dxhat = g * gamma; dx = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
            sum_d = 0.0
            sum_dx = 0.0
            for j in range(cols):
                xhat = (x[i, j] - m) * s
                gij = g[i, j]
                d = gij * gamma[j]
                sum_d += d
                sum_dx += d * xhat
                acc_g[j] += gij
                acc_gx[j] += gij * xhat
            mean_d = dtype_const(x, sum_d / cols)
            mean_dx = dtype_const(x, sum_dx / cols)
            for j in range(cols):
                xhat = (x[i, j] - m) * s
                dx[i, j] = s * (g[i, j] * gamma[j] - mean_d - xhat * mean_dx)
    for j in range(cols):
        total_g = 0.0
        total_gx = 0.0
        for chunk in range(n_chunks):
            total_g += partial_g[chunk, j]
            total_gx += partial_gx[chunk, j]
        dbeta[j] = total_g
        dgamma[j] = total_gx
    return dx, dgamma, dbeta


_batch_norm_forward_serial, _batch_norm_forward_parallel = njit_pair(_batch_norm_forward)
_batch_norm_backward_serial, _batch_norm_backward_parallel = njit_pair(_batch_norm_backward)
_layer_norm_forward_serial, _layer_norm_forward_parallel = njit_pair(_layer_norm_forward)
_layer_norm_backward_serial, _layer_norm_backward_parallel = njit_pair(_layer_norm_backward)


def batch_norm_forward(x, gamma, beta, epsilon, out, mean, var, inv_std):
    """Training-mode batch normalization of 2-D x over its rows: fills mean, var (biased)
    and inv_std = 1/sqrt(var + epsilon) (each of length cols) and
    out = (x - mean) * inv_std * gamma + beta."""
    kernel = pick((_batch_norm_forward_serial, _batch_norm_forward_parallel), x.size)
    return kernel(x, gamma, beta, float(epsilon), out, mean, var, inv_std)


def batch_norm_backward(x, g, mean, inv_std, gamma, dx, dgamma, dbeta):
    """Gradients of batch_norm_forward given the output gradient g (statistics included)."""
    kernel = pick((_batch_norm_backward_serial, _batch_norm_backward_parallel), x.size)
    return kernel(x, g, mean, inv_std, gamma, dx, dgamma, dbeta)


def layer_norm_forward(x, gamma, beta, epsilon, out, mean, inv_std):
    """Layer normalization of each row of 2-D x: fills mean and inv_std (length rows) and
    out = (x - mean) * inv_std * gamma + beta (gamma, beta of length cols)."""
    kernel = pick((_layer_norm_forward_serial, _layer_norm_forward_parallel), x.size)
    return kernel(x, gamma, beta, float(epsilon), out, mean, inv_std)


def layer_norm_backward(x, g, mean, inv_std, gamma, dx, dgamma, dbeta):
    """Gradients of layer_norm_forward given the output gradient g."""
    kernel = pick((_layer_norm_backward_serial, _layer_norm_backward_parallel), x.size)
    return kernel(x, g, mean, inv_std, gamma, dx, dgamma, dbeta)
