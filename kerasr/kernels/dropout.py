"""Inverted dropout with caller-supplied uniform draws."""

from ._jit import dtype_const, njit_pair, pick, prange


def _dropout_forward(x, u, rate, out, mask):
    keep_scale = dtype_const(x, 1.0 / (1.0 - rate))
    zero = dtype_const(x, 0.0)
    rate_u = dtype_const(u, rate)  # compare in u's dtype, as numpy would
    for i in prange(x.shape[0]):
        scale = keep_scale if u[i] >= rate_u else zero
        mask[i] = scale
        out[i] = x[i] * scale
    return out, mask


def _dropout_backward(g, mask, out):
    for i in prange(g.shape[0]):
        out[i] = g[i] * mask[i]
    return out


_dropout_forward_serial, _dropout_forward_parallel = njit_pair(_dropout_forward)
_dropout_backward_serial, _dropout_backward_parallel = njit_pair(_dropout_backward)


def dropout_forward(x, u, rate, out, mask):
    """mask = (u >= rate) / (1 - rate) in x's dtype; out = x * mask (1-D).
    out may be x."""
    kernel = pick((_dropout_forward_serial, _dropout_forward_parallel), x.size)
    return kernel(x, u, float(rate), out, mask)


def dropout_backward(g, mask, out):
    """out = g * mask; out may be g."""
    return pick((_dropout_backward_serial, _dropout_backward_parallel), g.size)(g, mask, out)
