"""The LSTM over a whole sequence as one differentiable op (fused Numba kernels)."""

import numpy as np

from ..engine.tape import record
from ..kernels import lstm as lstm_kernels
from ..kernels.recurrent_common import activation_code
from .recurrent_common import sequence_arguments


def lstm_sequence(inputs, initial_states, kernel, recurrent_kernel, bias=None, *, mask=None,
                  recurrent_dropout_mask=None, go_backwards=False, return_sequences=False,
                  zero_output_for_mask=False, activation="tanh",
                  recurrent_activation="sigmoid"):
    """Keras's LSTM over inputs (B, T, F) from initial_states [h0, c0] (B, U each).

    kernel (F, 4U), recurrent_kernel (U, 4U), bias (4U,) or None; gates i, f, c, o.
    mask: numpy bool (B, T) or None: at a masked step the states are carried and the output
    is the previous output (zeros before the first step), or zeros if zero_output_for_mask.
    recurrent_dropout_mask: numpy (B, U) multiplied into h_{t-1} before the recurrent
    product (fixed over time), or None. go_backwards processes steps T-1..0 and returns the
    sequence in processing order. Returns (output, [h_T, c_T]): output (B, T, U) if
    return_sequences else the last output (B, U). One tape record for the whole sequence;
    when no tape records it, the kernels keep only the running states (no backward buffers).
    """
    act = activation_code(activation, "activation")
    ract = activation_code(recurrent_activation, "recurrent_activation")
    a = sequence_arguments("lstm_sequence", inputs, initial_states, ("initial h", "initial c"),
                           kernel, recurrent_kernel, bias, n_blocks=4,
                           bias_shape=lambda units: (4 * units,), mask=mask,
                           recurrent_dropout_mask=recurrent_dropout_mask, n_dropout_masks=1)
    b = a.b if a.b is not None else np.zeros(4 * a.units, dtype=a.dtype)
    output, h_t, c_t, saved = lstm_kernels.lstm_forward(
        a.x, a.w, a.ur, b, a.states[0], a.states[1], a.mask, a.rdm[0], a.has_mask, a.has_rdm,
        go_backwards=go_backwards, return_sequences=return_sequences,
        zero_output_for_mask=zero_output_for_mask, act=act, ract=ract, keep=a.keep)

    def backward(upstream, needs):
        g_out, g_h, g_c = upstream
        dx, dh0, dc0, dw, du, db = lstm_kernels.lstm_backward(saved, g_out, g_h, g_c)
        grads = (dx, dh0, dc0, dw, du) + ((db,) if a.bias_t is not None else ())
        return tuple(g if need else None for g, need in zip(grads, needs))

    out_t, h_t, c_t = record(a.op_inputs, (output, h_t, c_t), backward)
    return out_t, [h_t, c_t]
