"""Per-row / per-element losses fused with their output activation (softmax,
sigmoid) for stability. The engine applies reductions and sample weights."""

import math

from ._jit import dtype_const, njit_exact, njit_pair, pick, prange
from .activations import sigmoid_scalar
from .softmax import softmax_row


# Order-sensitive expressions, compiled without fastmath so that "reassoc"
# cannot regroup them.


@njit_exact
def _minus_log_softmax(largest, z, log_total):
    # (max - z) is exact for logits of +-1e4; (max + log_total) - z would
    # round log_total to the spacing of 1e4 in float32.
    return (largest - z) + log_total


@njit_exact
def _sigmoid_cross_entropy(z, y):
    # in this order y == 1 and large z give exactly the tiny log1p term
    zero = dtype_const(z, 0.0)
    return ((z if z > zero else zero) - z * y) + math.log1p(math.exp(-abs(z)))


def _softmax_cross_entropy_forward(logits, y, probs, loss):
    rows, cols = logits.shape
    for i in prange(rows):
        largest, log_total = softmax_row(logits[i], probs[i])
        # -log_softmax = (max - z) + log_total; max - z is exact for logits of
        # +-1e4, where lse - z or sum(y)*lse - sum(y*z) would lose digits.
        total = dtype_const(logits, 0.0)
        for j in range(cols):
            total += y[i, j] * _minus_log_softmax(largest, logits[i, j], log_total)
        loss[i] = total
    return probs, loss


def _softmax_cross_entropy_backward(probs, y, g, out):
    rows, cols = probs.shape
    for i in prange(rows):
        y_total = dtype_const(probs, 0.0)
        for j in range(cols):
            y_total += y[i, j]
        gi = g[i]
        for j in range(cols):
            out[i, j] = gi * (probs[i, j] * y_total - y[i, j])
    return out


def _sparse_softmax_cross_entropy_forward(logits, labels, probs, loss):
    for i in prange(logits.shape[0]):
        largest, log_total = softmax_row(logits[i], probs[i])
        loss[i] = _minus_log_softmax(largest, logits[i, labels[i]], log_total)
    return probs, loss


def _sparse_softmax_cross_entropy_backward(probs, labels, g, out):
    rows, cols = probs.shape
    for i in prange(rows):
        gi = g[i]
        for j in range(cols):
            out[i, j] = gi * probs[i, j]
        out[i, labels[i]] -= gi
    return out


def _sigmoid_cross_entropy_forward(logits, y, out):
    for i in prange(logits.shape[0]):
        out[i] = _sigmoid_cross_entropy(logits[i], y[i])
    return out


def _sigmoid_cross_entropy_backward(logits, y, g, out):
    for i in prange(logits.shape[0]):
        out[i] = g[i] * (sigmoid_scalar(logits[i]) - y[i])
    return out


(
    _softmax_cross_entropy_forward_serial,
    _softmax_cross_entropy_forward_parallel,
) = njit_pair(_softmax_cross_entropy_forward)
(
    _softmax_cross_entropy_backward_serial,
    _softmax_cross_entropy_backward_parallel,
) = njit_pair(_softmax_cross_entropy_backward)
(
    _sparse_softmax_cross_entropy_forward_serial,
    _sparse_softmax_cross_entropy_forward_parallel,
) = njit_pair(_sparse_softmax_cross_entropy_forward)
(
    _sparse_softmax_cross_entropy_backward_serial,
    _sparse_softmax_cross_entropy_backward_parallel,
) = njit_pair(_sparse_softmax_cross_entropy_backward)
(
    _sigmoid_cross_entropy_forward_serial,
    _sigmoid_cross_entropy_forward_parallel,
) = njit_pair(_sigmoid_cross_entropy_forward)
(
    _sigmoid_cross_entropy_backward_serial,
    _sigmoid_cross_entropy_backward_parallel,
) = njit_pair(_sigmoid_cross_entropy_backward)


def softmax_cross_entropy_forward(logits, y, probs, loss):
    """probs = softmax(logits); loss[i] = -sum_j y[i,j] * log_softmax(logits)[i,j].
    probs must not alias logits."""
    kernel = pick(
        (_softmax_cross_entropy_forward_serial, _softmax_cross_entropy_forward_parallel),
        logits.size,
    )
    return kernel(logits, y, probs, loss)


def softmax_cross_entropy_backward(probs, y, g, out):
    """out[i,j] = g[i] * (probs[i,j] * sum_j y[i,j] - y[i,j]); out may be probs."""
    kernel = pick(
        (_softmax_cross_entropy_backward_serial, _softmax_cross_entropy_backward_parallel),
        probs.size,
    )
    return kernel(probs, y, g, out)


def sparse_softmax_cross_entropy_forward(logits, labels, probs, loss):
    """As softmax_cross_entropy_forward with y one-hot at int64 labels (in range).
    probs must not alias logits."""
    kernel = pick(
        (
            _sparse_softmax_cross_entropy_forward_serial,
            _sparse_softmax_cross_entropy_forward_parallel,
        ),
        logits.size,
    )
    return kernel(logits, labels, probs, loss)


def sparse_softmax_cross_entropy_backward(probs, labels, g, out):
    """out[i,j] = g[i] * (probs[i,j] - [j == labels[i]]); out may be probs."""
    kernel = pick(
        (
            _sparse_softmax_cross_entropy_backward_serial,
            _sparse_softmax_cross_entropy_backward_parallel,
        ),
        probs.size,
    )
    return kernel(probs, labels, g, out)


def sigmoid_cross_entropy_forward(logits, y, out):
    """out = max(z,0) - z*y + log1p(exp(-|z|)) elementwise (1-D); out may be logits."""
    kernel = pick(
        (_sigmoid_cross_entropy_forward_serial, _sigmoid_cross_entropy_forward_parallel),
        logits.size,
    )
    return kernel(logits, y, out)


def sigmoid_cross_entropy_backward(logits, y, g, out):
    """out = g * (sigmoid(z) - y) elementwise (1-D); out may be g or logits."""
    kernel = pick(
        (_sigmoid_cross_entropy_backward_serial, _sigmoid_cross_entropy_backward_parallel),
        logits.size,
    )
    return kernel(logits, y, g, out)
