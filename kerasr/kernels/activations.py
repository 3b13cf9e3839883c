"""Elementwise activations (Keras 3 formulas, plus Keras 2's hard sigmoid for models saved
by Keras 2 / R keras), forward and backward, plain or fused with the bias add of a dense
layer."""

import math

import numpy as np

from ._jit import (dtype_const, njit_exact, njit_helper, njit_inlined, njit_pair, pick, prange,
                   row_chunking)

(
    LINEAR,
    RELU,
    SIGMOID,
    TANH,
    SOFTPLUS,
    SOFTSIGN,
    ELU,
    SELU,
    EXPONENTIAL,
    SWISH,
    GELU,
    HARD_SIGMOID,
    LEAKY_RELU,
    THRESHOLDED_RELU,
    RELU_MAX,
    HARD_SIGMOID_KERAS2,
) = range(16)

ACTIVATION_CODES = {
    "linear": LINEAR,
    "relu": RELU,
    "sigmoid": SIGMOID,
    "tanh": TANH,
    "softplus": SOFTPLUS,
    "softsign": SOFTSIGN,
    "elu": ELU,
    "selu": SELU,
    "exponential": EXPONENTIAL,
    "swish": SWISH,
    "gelu": GELU,
    "hard_sigmoid": HARD_SIGMOID,
    "leaky_relu": LEAKY_RELU,
    "thresholded_relu": THRESHOLDED_RELU,
    "relu_max": RELU_MAX,
    "hard_sigmoid_keras2": HARD_SIGMOID_KERAS2,
}

_VALID_CODES = frozenset(ACTIVATION_CODES.values())

# Keras 3's fixed SELU constants.
SELU_ALPHA = 1.67326324
SELU_SCALE = 1.05070098

# Elements per task of the 1-D kernels (the parallel axis is the block index).
_BLOCK = 1 << 14


def needs_preactivation(code, alpha=None):
    """True when the backward needs z itself, not only a = f(z).

    ELU, LEAKY_RELU and THRESHOLDED_RELU recover f'(z) from a only for
    alpha >= 0; without alpha the answer is the safe one (True).
    """
    if code not in _VALID_CODES:
        raise ValueError(f"unknown activation code {code!r}")
    if code in (SOFTSIGN, SWISH, GELU):
        return True
    if code in (ELU, LEAKY_RELU, THRESHOLDED_RELU):
        return alpha is None or alpha < 0
    return False


def commutes_with_max(code, alpha):
    """True when f(max(z) + b) is max(f(z + b)) exactly, NaN included: the piecewise-linear
    activations that never decrease (a rounded z + b never decreases in z either)."""
    if code in (LINEAR, RELU, RELU_MAX):
        return True
    return code == LEAKY_RELU and alpha >= 0


def _check_code(code):
    code = int(code)
    if code not in _VALID_CODES:
        raise ValueError(f"unknown activation code {code!r}")
    return code


# ---------------------------------------------------------------- scalar math


@njit_helper
def sigmoid_scalar(x):
    # exp of -|x| only, so large |x| neither overflows nor loses the tail.
    one = dtype_const(x, 1.0)
    e = math.exp(-abs(x))
    s = one / (one + e)
    return s if x >= 0 else e * s


@njit_helper
def softplus_scalar(x):
    zero = dtype_const(x, 0.0)
    positive_part = x if x > zero else zero
    return positive_part + math.log1p(math.exp(-abs(x)))


@njit_exact
def hard_sigmoid_scalar(x):
    # relu6(x + 3) / 6 as Keras writes it, exactly 0 at x = -3; without
    # fastmath, since "reassoc" may rewrite it as x/6 + 0.5 (2.8e-17 there).
    zero = dtype_const(x, 0.0)
    one = dtype_const(x, 1.0)
    t = (x + dtype_const(x, 3.0)) * dtype_const(x, 1.0 / 6.0)
    return zero if t < zero else (one if t > one else t)


@njit_exact
def hard_sigmoid_keras2_scalar(x):
    # Keras 2 / tf.keras 2 (and R keras 2): clip(0.2 x + 0.5, 0, 1), a multiply then an add
    # as TensorFlow ran it; without fastmath, so "contract" cannot fuse them into one FMA.
    zero = dtype_const(x, 0.0)
    one = dtype_const(x, 1.0)
    t = x * dtype_const(x, 0.2) + dtype_const(x, 0.5)
    return zero if t < zero else (one if t > one else t)


# ------------------------------------------------------------ 1-D helpers
# One loop per activation (branching outside the loop keeps it vectorisable).


def _forward_loops(z, code, alpha, out):
    zero = dtype_const(z, 0.0)
    one = dtype_const(z, 1.0)
    half = dtype_const(z, 0.5)
    alpha_t = dtype_const(z, alpha)
    if code == LINEAR:
        for i in range(z.shape[0]):
            out[i] = z[i]
    elif code == RELU:
        for i in range(z.shape[0]):
            zi = z[i]
            out[i] = zero if zi < zero else zi  # NaN passes through
    elif code == SIGMOID:
        for i in range(z.shape[0]):
            out[i] = sigmoid_scalar(z[i])
    elif code == TANH:
        for i in range(z.shape[0]):
            out[i] = math.tanh(z[i])
    elif code == SOFTPLUS:
        for i in range(z.shape[0]):
            out[i] = softplus_scalar(z[i])
    elif code == SOFTSIGN:
        for i in range(z.shape[0]):
            zi = z[i]
            out[i] = zi / (one + abs(zi))
    elif code == ELU:
        for i in range(z.shape[0]):
            zi = z[i]
            out[i] = zi if zi > zero else alpha_t * math.expm1(zi)
    elif code == SELU:
        scale = dtype_const(z, SELU_SCALE)
        scale_alpha = dtype_const(z, SELU_SCALE * SELU_ALPHA)
        for i in range(z.shape[0]):
            zi = z[i]
            out[i] = scale * zi if zi > zero else scale_alpha * math.expm1(zi)
    elif code == EXPONENTIAL:
        for i in range(z.shape[0]):
            out[i] = math.exp(z[i])
    elif code == SWISH:
        for i in range(z.shape[0]):
            zi = z[i]
            out[i] = zi * sigmoid_scalar(zi)
    elif code == GELU:
        # erfc(-x) == 1 + erf(x), without the cancellation for x << 0.
        neg_inv_sqrt2 = dtype_const(z, -1.0 / math.sqrt(2.0))
        for i in range(z.shape[0]):
            zi = z[i]
            out[i] = half * zi * math.erfc(zi * neg_inv_sqrt2)
    elif code == HARD_SIGMOID:
        for i in range(z.shape[0]):
            out[i] = hard_sigmoid_scalar(z[i])
    elif code == LEAKY_RELU:
        for i in range(z.shape[0]):
            zi = z[i]
            out[i] = alpha_t * zi if zi < zero else zi
    elif code == THRESHOLDED_RELU:
        for i in range(z.shape[0]):
            zi = z[i]
            out[i] = zero if zi <= alpha_t else zi
    elif code == RELU_MAX:
        for i in range(z.shape[0]):
            zi = z[i]
            t = zero if zi < zero else zi
            out[i] = alpha_t if t > alpha_t else t
    elif code == HARD_SIGMOID_KERAS2:
        for i in range(z.shape[0]):
            out[i] = hard_sigmoid_keras2_scalar(z[i])
    else:
        raise ValueError("unknown activation code")


_forward_apart = njit_helper(_forward_loops)
_forward_inlined = njit_inlined(_forward_loops)


@njit_helper
def _forward_in_place(out, code, alpha):
    # One array read and written: compiled apart, each loop would first test whether out
    # and z overlap, find that they do, and run scalar (relu 0.22 -> 0.03 ns an element).
    _forward_inlined(out, code, alpha, out)


@njit_helper
def _forward_1d(z, code, alpha, out):
    """out = f(z) over 1-D arrays of one length; out may be z."""
    if z.ctypes.data == out.ctypes.data:
        _forward_in_place(out, code, alpha)
    else:
        _forward_apart(z, code, alpha, out)


def _backward_loops(z, a, g, code, alpha, out):
    # out[i] = g[i] * f'(z[i]); codes without needs_preactivation read only a.
    zero = dtype_const(z, 0.0)
    one = dtype_const(z, 1.0)
    half = dtype_const(z, 0.5)
    alpha_t = dtype_const(z, alpha)
    if code == LINEAR:
        for i in range(z.shape[0]):
            out[i] = g[i]
    elif code == RELU:
        for i in range(z.shape[0]):
            out[i] = g[i] * (one if a[i] > zero else zero)
    elif code == SIGMOID:
        for i in range(z.shape[0]):
            ai = a[i]
            out[i] = g[i] * (ai * (one - ai))
    elif code == TANH:
        for i in range(z.shape[0]):
            ai = a[i]
            out[i] = g[i] * (one - ai * ai)
    elif code == SOFTPLUS:
        # f'(z) = sigmoid(z) = 1 - exp(-a)
        for i in range(z.shape[0]):
            out[i] = g[i] * -math.expm1(-a[i])
    elif code == SOFTSIGN:
        for i in range(z.shape[0]):
            d = one / (one + abs(z[i]))
            out[i] = g[i] * (d * d)
    elif code == ELU:
        if alpha >= 0.0:
            # a > 0 exactly when z > 0, and there f(z) + alpha = alpha*exp(z)
            for i in range(z.shape[0]):
                ai = a[i]
                out[i] = g[i] * (one if ai > zero else ai + alpha_t)
        else:
            for i in range(z.shape[0]):
                zi = z[i]
                out[i] = g[i] * (one if zi > zero else alpha_t * math.exp(zi))
    elif code == SELU:
        scale = dtype_const(z, SELU_SCALE)
        scale_alpha = dtype_const(z, SELU_SCALE * SELU_ALPHA)
        for i in range(z.shape[0]):
            ai = a[i]
            # scale at z = 0, as TensorFlow's SeluGrad
            out[i] = g[i] * (scale if ai >= zero else ai + scale_alpha)
    elif code == EXPONENTIAL:
        for i in range(z.shape[0]):
            out[i] = g[i] * a[i]
    elif code == SWISH:
        for i in range(z.shape[0]):
            zi = z[i]
            s = sigmoid_scalar(zi)
            out[i] = g[i] * (s * (one + zi * (one - s)))
    elif code == GELU:
        neg_inv_sqrt2 = dtype_const(z, -1.0 / math.sqrt(2.0))
        inv_sqrt_2pi = dtype_const(z, 1.0 / math.sqrt(2.0 * math.pi))
        for i in range(z.shape[0]):
            zi = z[i]
            cdf = half * math.erfc(zi * neg_inv_sqrt2)
            pdf = inv_sqrt_2pi * math.exp(-half * zi * zi)
            out[i] = g[i] * (cdf + zi * pdf)
    elif code == HARD_SIGMOID:
        sixth = dtype_const(z, 1.0 / 6.0)
        for i in range(z.shape[0]):
            ai = a[i]
            out[i] = g[i] * (sixth if (ai > zero and ai < one) else zero)
    elif code == LEAKY_RELU:
        if alpha >= 0.0:
            for i in range(z.shape[0]):
                out[i] = g[i] * (one if a[i] > zero else alpha_t)
        else:
            for i in range(z.shape[0]):
                out[i] = g[i] * (one if z[i] > zero else alpha_t)
    elif code == THRESHOLDED_RELU:
        # for theta >= 0, a > theta exactly when z > theta
        if alpha >= 0.0:
            for i in range(z.shape[0]):
                out[i] = g[i] * (one if a[i] > alpha_t else zero)
        else:
            for i in range(z.shape[0]):
                out[i] = g[i] * (one if z[i] > alpha_t else zero)
    elif code == RELU_MAX:
        for i in range(z.shape[0]):
            ai = a[i]
            out[i] = g[i] * (one if (ai > zero and ai < alpha_t) else zero)
    elif code == HARD_SIGMOID_KERAS2:
        # 0.2 strictly inside (0, 1), 0 at and beyond the kinks (z = +-2.5), as HARD_SIGMOID
        fifth = dtype_const(z, 0.2)
        for i in range(z.shape[0]):
            ai = a[i]
            out[i] = g[i] * (fifth if (ai > zero and ai < one) else zero)
    else:
        raise ValueError("unknown activation code")


_backward_apart = njit_helper(_backward_loops)
_backward_inlined = njit_inlined(_backward_loops)


@njit_helper
def _backward_in_place(z, a, out, code, alpha):
    # out holds g: one array read and written (see _forward_in_place).
    _backward_inlined(z, a, out, code, alpha, out)


@njit_helper
def _backward_1d(z, a, g, code, alpha, out):
    """out = g * f'(z) over 1-D arrays of one length; out may be g."""
    if g.ctypes.data == out.ctypes.data:
        _backward_in_place(z, a, out, code, alpha)
    else:
        _backward_apart(z, a, g, code, alpha, out)


# For kernels in other modules that apply an activation to a block of their own (the
# convolution chunks): out = f(z) and out = g * f'(z) over 1-D views, serial.
forward_1d = _forward_1d
backward_1d = _backward_1d


# ------------------------------------------------------------------ kernels


def _activation_forward(z, code, alpha, out):
    n = z.shape[0]
    for block in prange((n + _BLOCK - 1) // _BLOCK):
        start = block * _BLOCK
        stop = min(start + _BLOCK, n)
        _forward_1d(z[start:stop], code, alpha, out[start:stop])
    return out


def _activation_backward(z, a, g, code, alpha, out):
    n = z.shape[0]
    for block in prange((n + _BLOCK - 1) // _BLOCK):
        start = block * _BLOCK
        stop = min(start + _BLOCK, n)
        _backward_1d(
            z[start:stop], a[start:stop], g[start:stop], code, alpha, out[start:stop]
        )
    return out


def _bias_activation_forward(z, bias, code, alpha, out):
    rows, cols = z.shape
    # Whole rows per task, about _BLOCK elements: the activation then runs once
    # over the block's flat (still cache-warm) memory instead of once per row.
    block_rows = max(1, _BLOCK // max(cols, 1))
    z_flat = z.reshape(-1)
    out_flat = out.reshape(-1)
    for block in prange((rows + block_rows - 1) // block_rows):
        first = block * block_rows
        last = min(first + block_rows, rows)
        for i in range(first, last):
            for j in range(cols):
                z[i, j] += bias[j]
        lo, hi = first * cols, last * cols
        _forward_1d(z_flat[lo:hi], code, alpha, out_flat[lo:hi])
    return out


def _bias_activation_backward(z, a, g, code, alpha, dz, db):
    rows, cols = z.shape
    n_chunks, chunk_rows = row_chunking(rows)
    block_rows = max(1, _BLOCK // max(cols, 1))
    z_flat, a_flat = z.reshape(-1), a.reshape(-1)
    g_flat, dz_flat = g.reshape(-1), dz.reshape(-1)
    # One partial db row per chunk; threads never add into shared memory.
    # (np.empty + zeroing in the loop: np.zeros would be one more parallel loop
    # to compile.)
    partial = np.empty((n_chunks, cols), dtype=dz.dtype)
    for chunk in prange(n_chunks):
        acc = partial[chunk]
        for j in range(cols):
            acc[j] = 0
        chunk_end = min((chunk + 1) * chunk_rows, rows)
        # blocks of rows: dz is summed while still in cache
        for first in range(chunk * chunk_rows, chunk_end, block_rows):
            last = min(first + block_rows, chunk_end)
            lo, hi = first * cols, last * cols
            _backward_1d(
                z_flat[lo:hi], a_flat[lo:hi], g_flat[lo:hi], code, alpha, dz_flat[lo:hi]
            )
            for i in range(first, last):
                for j in range(cols):
                    acc[j] += dz[i, j]
    for j in range(cols):
        db[j] = 0
    for chunk in range(n_chunks):
        for j in range(cols):
            db[j] += partial[chunk, j]
    return dz, db


_activation_forward_serial, _activation_forward_parallel = njit_pair(_activation_forward)
_activation_backward_serial, _activation_backward_parallel = njit_pair(_activation_backward)
_bias_activation_forward_serial, _bias_activation_forward_parallel = njit_pair(
    _bias_activation_forward
)
_bias_activation_backward_serial, _bias_activation_backward_parallel = njit_pair(
    _bias_activation_backward
)


# ------------------------------------------------------------ entry points


def activation_forward(z, code, alpha, out):
    """out = f(z) for 1-D z; out may be z."""
    kernel = pick((_activation_forward_serial, _activation_forward_parallel), z.size)
    return kernel(z, _check_code(code), float(alpha), out)


def activation_backward(z, a, g, code, alpha, out):
    """out = g * f'(z), 1-D; z may be a when needs_preactivation is False; out may be g."""
    kernel = pick((_activation_backward_serial, _activation_backward_parallel), z.size)
    return kernel(z, a, g, _check_code(code), float(alpha), out)


def bias_activation_forward(z, bias, code, alpha, out):
    """z += bias (in place, per row), then out = f(z); out may be z."""
    kernel = pick(
        (_bias_activation_forward_serial, _bias_activation_forward_parallel), z.size
    )
    return kernel(z, bias, _check_code(code), float(alpha), out)


def bias_activation_backward(z, a, g, code, alpha, dz, db):
    """dz = g * f'(z) and db = column sums of dz, in one pass; dz may be g."""
    kernel = pick(
        (_bias_activation_backward_serial, _bias_activation_backward_parallel), z.size
    )
    return kernel(z, a, g, _check_code(code), float(alpha), dz, db)
