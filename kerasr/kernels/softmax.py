"""Row-wise softmax over the last axis of a 2-D array, forward and backward."""

import math

from ._jit import dtype_const, njit_helper, njit_pair, pick, prange


@njit_helper
def softmax_row(z, out):
    """out = softmax(z) for one row. Returns (max(z), log(sum(exp(z - max(z))))),
    whose sum is log-sum-exp; the loss kernels keep the two apart so that
    logits of 1e4 do not round the small log term away in float32.

    The max is subtracted first so large logits neither overflow nor lose the
    small terms. out may be z.
    """
    n = z.shape[0]
    if n == 0:
        return dtype_const(z, -math.inf), dtype_const(z, 0.0)
    largest = z[0]  # a NaN here (or anywhere) propagates to the whole row
    for j in range(1, n):
        if z[j] > largest:
            largest = z[j]
    total = dtype_const(z, 0.0)
    for j in range(n):
        e = math.exp(z[j] - largest)
        out[j] = e
        total += e
    inv_total = dtype_const(z, 1.0) / total
    for j in range(n):
        out[j] *= inv_total
    return largest, math.log(total)


def _softmax_forward(z, out):
    for i in prange(z.shape[0]):
        softmax_row(z[i], out[i])
    return out


def _softmax_backward(p, g, out):
    rows, cols = p.shape
    for i in prange(rows):
        dot = dtype_const(p, 0.0)
        for j in range(cols):
            dot += g[i, j] * p[i, j]
        for j in range(cols):
            out[i, j] = p[i, j] * (g[i, j] - dot)
    return out


_softmax_forward_serial, _softmax_forward_parallel = njit_pair(_softmax_forward)
_softmax_backward_serial, _softmax_backward_parallel = njit_pair(_softmax_backward)


def softmax_forward(z, out):
    """out[i] = softmax(z[i]) for 2-D z; out may be z."""
    return pick((_softmax_forward_serial, _softmax_forward_parallel), z.size)(z, out)


def softmax_backward(p, g, out):
    """out = p * (g - sum_j g*p) per row, p the softmax output; out may be g."""
    return pick((_softmax_backward_serial, _softmax_backward_parallel), p.size)(p, g, out)
