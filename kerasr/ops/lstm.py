"""The LSTM over a whole sequence as one differentiable op (fused Numba kernels)."""

import numpy as np

from ..engine.tape import record
from ..engine.tensor import as_tensor
from ..kernels import lstm as lstm_kernels


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
    return_sequences else the last output (B, U). One tape record for the whole sequence.
    """
    lstm_kernels.activation_code(activation)  # ValueError for unsupported names
    lstm_kernels.activation_code(recurrent_activation)
    if len(initial_states) != 2:
        raise ValueError(f"lstm_sequence expects 2 initial states [h, c], got {len(initial_states)}")
    x = as_tensor(inputs)
    h0, c0 = (as_tensor(s) for s in initial_states)
    kernel, recurrent_kernel = as_tensor(kernel), as_tensor(recurrent_kernel)
    bias = None if bias is None else as_tensor(bias)
    dtype = x.dtype
    if x.ndim != 3:
        raise ValueError(f"lstm_sequence expects inputs of rank 3 (batch, time, features), "
                         f"got shape {x.shape}")

    def arr(t):
        return np.ascontiguousarray(t.data, dtype=dtype)

    output, h_t, c_t, saved = lstm_kernels.lstm_forward(
        arr(x), arr(kernel), arr(recurrent_kernel), None if bias is None else arr(bias),
        arr(h0), arr(c0), mask=mask, recurrent_dropout_mask=recurrent_dropout_mask,
        go_backwards=go_backwards, return_sequences=return_sequences,
        zero_output_for_mask=zero_output_for_mask, activation=activation,
        recurrent_activation=recurrent_activation)

    def backward(upstream, needs):
        g_out, g_h, g_c = upstream
        dx, dh0, dc0, dw, du, db = lstm_kernels.lstm_backward(saved, g_out, g_h, g_c)
        grads = (dx, dh0, dc0, dw, du) + ((db,) if bias is not None else ())
        return tuple(g if need else None for g, need in zip(grads, needs))

    op_inputs = (x, h0, c0, kernel, recurrent_kernel) + ((bias,) if bias is not None else ())
    out_t, h_t, c_t = record(op_inputs, (output, h_t, c_t), backward)
    return out_t, [h_t, c_t]
