"""What the fused recurrent kernels (lstm, gru, simple_rnn, conv_lstm) share.

- The activations they support, by Keras name and kernel code, and in-place / derivative
  helpers for them (every supported derivative is a function of the activation's output,
  so no pre-activation is kept for the backward).
- float32 tanh and sigmoid without scalar libm calls (vectorisable), float64 exact.
- The threshold below which BPTT gradients are flushed to zero (no subnormals).
- Masked steps: which outputs a row emits (held or zero output).
- Batch chunking: rows are independent in a recurrence, so each parallel task runs the whole
  sequence for a fixed chunk of rows; the chunks depend on the shapes only and per-chunk
  partial weight gradients are added in chunk order: serial and parallel variants agree bit
  for bit.
"""

import math

import numba
import numpy as np
from numba.core import types as nbtypes
from numba.extending import overload

from ._jit import dtype_const, njit_helper
from .activations import (
    ACTIVATION_CODES,
    HARD_SIGMOID,
    HARD_SIGMOID_KERAS2,
    RELU,
    SIGMOID,
    TANH,
    hard_sigmoid_keras2_scalar,
    hard_sigmoid_scalar,
    sigmoid_scalar,
)

# Activations the fused recurrent kernels support, by Keras name.
SUPPORTED_ACTIVATIONS = ("tanh", "sigmoid", "hard_sigmoid", "relu", "linear",
                         "hard_sigmoid_keras2")


def activation_code(name, argument="activation"):
    """The kernel code of a supported activation name; ValueError otherwise."""
    if name not in SUPPORTED_ACTIVATIONS:
        raise ValueError(
            f"{argument}={name!r} is not supported by the fused recurrent kernels; "
            f"use one of {', '.join(repr(n) for n in SUPPORTED_ACTIVATIONS)}"
        )
    return ACTIVATION_CODES[name]


# ----------------------------------------------------------------- scalar math
# float32: a rational minimax tanh (odd degree-13 over even degree-6 numerator/denominator,
# the form Eigen and XLA use on CPU), clamped where tanh rounds to +-1: vectorisable, max
# relative error 3.5e-7 (measured against numpy over [-20, 20]); NaN stays NaN. Scalar libm
# tanhf/expf calls in the loop made the LSTM forward ~10x slower (146 vs 12 ms).
# sigmoid(x) = 0.5 + 0.5 tanh(x / 2), as XLA's CPU logistic (absolute error <= 2e-7; the
# relative error grows for sigmoid(x) -> 0; x < -17 gives 0, as float32 1 - s would).
# float64 (tests, gradient checks): the exact libm functions.

_TANH_CLAMP = np.float32(7.90531110763549805)
_A1 = np.float32(4.89352455891786e-03)
_A3 = np.float32(6.37261928875436e-04)
_A5 = np.float32(1.48572235717979e-05)
_A7 = np.float32(5.12229709037114e-08)
_A9 = np.float32(-8.60467152213735e-11)
_A11 = np.float32(2.00018790482477e-13)
_A13 = np.float32(-2.76076847742355e-16)
_B0 = np.float32(4.89352518554385e-03)
_B2 = np.float32(2.26843463243900e-03)
_B4 = np.float32(1.18534705686654e-04)
_B6 = np.float32(1.19825839466702e-06)
_HALF32 = np.float32(0.5)


@njit_helper
def _tanh32(x):
    x = _TANH_CLAMP if x > _TANH_CLAMP else (-_TANH_CLAMP if x < -_TANH_CLAMP else x)
    x2 = x * x
    p = ((((((_A13 * x2 + _A11) * x2 + _A9) * x2 + _A7) * x2 + _A5) * x2 + _A3) * x2 + _A1) * x
    q = ((_B6 * x2 + _B4) * x2 + _B2) * x2 + _B0
    return p / q


def fast_tanh(x):
    raise NotImplementedError("fast_tanh is only usable inside jitted code")


def fast_sigmoid(x):
    raise NotImplementedError("fast_sigmoid is only usable inside jitted code")


@overload(fast_tanh)
def _fast_tanh_overload(x):
    if x == nbtypes.float32:
        return lambda x: _tanh32(x)
    return lambda x: math.tanh(x)


@overload(fast_sigmoid)
def _fast_sigmoid_overload(x):
    if x == nbtypes.float32:
        return lambda x: _HALF32 + _HALF32 * _tanh32(_HALF32 * x)
    return lambda x: sigmoid_scalar(x)


# ------------------------------------------------------------------ activations


@njit_helper
def activate(z, lo, hi, code):
    """z[lo:hi] = f(z[lo:hi]) in place; one loop per activation (stays vectorisable)."""
    zero = dtype_const(z, 0.0)
    if code == TANH:
        for j in range(lo, hi):
            z[j] = fast_tanh(z[j])
    elif code == SIGMOID:
        for j in range(lo, hi):
            z[j] = fast_sigmoid(z[j])
    elif code == HARD_SIGMOID:
        for j in range(lo, hi):
            z[j] = hard_sigmoid_scalar(z[j])
    elif code == HARD_SIGMOID_KERAS2:
        for j in range(lo, hi):
            z[j] = hard_sigmoid_keras2_scalar(z[j])
    elif code == RELU:
        for j in range(lo, hi):
            v = z[j]
            z[j] = zero if v < zero else v
    # LINEAR: nothing


@njit_helper
def derivative(a, code):
    """f'(z) from a = f(z) for the supported activations."""
    zero = dtype_const(a, 0.0)
    one = dtype_const(a, 1.0)
    if code == TANH:
        return one - a * a
    if code == SIGMOID:
        return a * (one - a)
    if code == HARD_SIGMOID:
        return dtype_const(a, 1.0 / 6.0) if (a > zero and a < one) else zero
    if code == HARD_SIGMOID_KERAS2:
        return dtype_const(a, 0.2) if (a > zero and a < one) else zero
    if code == RELU:
        return one if a > zero else zero
    return one


@njit_helper
def times_derivative(a, g, lo, hi, code):
    """g[lo:hi] *= f'(z), from the activation's output a[lo:hi] = f(z); one loop per
    activation (vectorisable)."""
    zero = dtype_const(g, 0.0)
    one = dtype_const(g, 1.0)
    if code == TANH:
        for j in range(lo, hi):
            v = a[j]
            g[j] *= one - v * v
    elif code == SIGMOID:
        for j in range(lo, hi):
            v = a[j]
            g[j] *= v * (one - v)
    elif code == HARD_SIGMOID:
        sixth = dtype_const(g, 1.0 / 6.0)
        for j in range(lo, hi):
            v = a[j]
            g[j] *= sixth if (v > zero and v < one) else zero
    elif code == HARD_SIGMOID_KERAS2:
        fifth = dtype_const(g, 0.2)
        for j in range(lo, hi):
            v = a[j]
            g[j] *= fifth if (v > zero and v < one) else zero
    elif code == RELU:
        for j in range(lo, hi):
            g[j] *= one if a[j] > zero else zero
    # LINEAR: f' = 1


# --------------------------------------------------------- small gradients
# Backward through many steps, the gradient reaching early steps decays geometrically into
# subnormal numbers, where every operation costs ~100x (the IMDB LSTM backward took
# 700-1000 ms instead of tens; the Jena GRU with recurrent dropout 90 ms instead of 14). As
# TensorFlow/XLA's flush-to-zero does, the BPTT carries zero instead of any state or gate
# gradient below smallest_normal / eps (2^-103 in float32, 2^-970 in float64), so that
# its products with other factors stay normal too; such values are below
# eps * smallest_normal of anything they are added to. Flush with _jit.flush_subnormal.


def flush_limit(like):
    """The gradient flush threshold of ``like``'s float type (jitted code only)."""
    raise NotImplementedError("flush_limit is only usable inside jitted code")


@overload(flush_limit)
def _flush_limit_overload(like):
    target = like.dtype if isinstance(like, nbtypes.Array) else like
    info = np.finfo(str(target))
    limit = float(info.tiny) / float(info.eps)

    def impl(like):
        return target(limit)

    return impl


# ------------------------------------------------------------------ masked steps
# At a masked step the states are carried unchanged and the output is the previous output
# (the carried h once the row has had an unmasked step, zeros before), or zeros with
# zero_output_for_mask.


@njit_helper
def emits(on, seen, zero_output):
    """Whether a step's output is the state h (else zeros): ``on`` the step is unmasked,
    ``seen`` the row has had an unmasked step (this one included)."""
    return on if zero_output else seen


@njit_helper
def first_unmasked(mask, has_mask, row, steps, backwards):
    """Processing index of the row's first unmasked step (steps if none)."""
    if not has_mask:
        return 0
    for s in range(steps):
        t = steps - 1 - s if backwards else s
        if mask[row, t]:
            return s
    return steps


@njit_helper
def add_output_gradient(dh, g_out, row, s, steps, return_sequences):
    """dh += the gradient of the row's output at processing step s: g_out (B, T, U) in
    processing order with return_sequences, else (B, 1, U) for the last step only."""
    if return_sequences:
        for k in range(dh.shape[0]):
            dh[k] += g_out[row, s, k]
    elif s == steps - 1:
        for k in range(dh.shape[0]):
            dh[k] += g_out[row, 0, k]


# ------------------------------------------------------------------ batch chunks


def batch_chunks(batch, max_rows):
    """(number of chunks, rows per chunk): at most ``max_rows`` rows per chunk, the rows
    spread evenly; a function of the shapes only, never of the thread count."""
    max_rows = max(1, int(max_rows))
    n_chunks = max(1, (batch + max_rows - 1) // max_rows)
    return n_chunks, (batch + n_chunks - 1) // n_chunks


@njit_helper
def chunk_bounds(chunk, chunk_rows, batch):
    """The rows [lo, hi) of a chunk (possibly empty at the end)."""
    lo = min(chunk * chunk_rows, batch)
    return lo, min(lo + chunk_rows, batch)


# The BLAS-free kernels (gru, simple_rnn) run ROWS_PER_TASK rows per task. Both variants
# call the same compiled row helpers: compiled inline into a parfor body, the same loops
# came out rounded differently (FMA contraction / reassociation), not bit-identical.
ROWS_PER_TASK = 8

# Serial or parallel for the BLAS-free kernels: parallel once the batch makes two tasks.
# Measured first (session 2): alone, the GRU's parallel kernels took 2.7 + 3.9 ms (forward
# + backward, Jena shape) vs 4.8 + 7.7 ms serial, but a whole training step (layer_gru ->
# dense, rmsprop, mae) took 20.0 ms parallel vs 12.9 serial, the thread pool fighting
# two-thread BLAS calls; with OpenBLAS held to one thread (threadpoolctl) 6.5 vs 12.4 ms.
# Since kerasr holds the kernels' BLAS to one thread and keeps small dense products off
# numpy's two-thread BLAS (_blas.py, matmul.py), the Jena GRU benchmark trains at 19,600
# samples/s parallel vs 10,500 serial, and predicts at 62,500 vs 33,500 (2026-11-22).
PARALLEL_ROWS_MIN = 2 * ROWS_PER_TASK


def pick_variant(pair, batch, parallel=None):
    """The serial or parallel dispatcher of ``pair``: as asked, or by batch size."""
    if parallel is None:
        parallel = batch >= PARALLEL_ROWS_MIN and numba.get_num_threads() > 1
    return pair[1] if parallel else pair[0]
