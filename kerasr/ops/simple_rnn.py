"""The whole-sequence SimpleRNN as one differentiable op over the fused kernels
(kerasr/kernels/simple_rnn.py: input projection, recurrence, BPTT and weight gradients
all in compiled loops, no BLAS), one tape record."""

import numpy as np

from ..engine.tape import record
from ..kernels import simple_rnn as rnn_kernels
from ..kernels.recurrent_common import activation_code
from .recurrent_common import (
    backward_arrays,
    output_buffers,
    sequence_arguments,
    step_buffers,
)


def simple_rnn_sequence(inputs, initial_states, kernel, recurrent_kernel, bias=None, *,
                        mask=None, recurrent_dropout_mask=None, go_backwards=False,
                        return_sequences=False, zero_output_for_mask=False,
                        activation="tanh"):
    """h = act(x @ kernel + bias + (h*m) @ recurrent_kernel) over inputs (B, T, F) from
    initial_states [h0 (B, U)] -> (output, [h_T]).

    kernel (F, U), recurrent_kernel (U, U), bias (U,) or None; mask bool (B, T) or None;
    recurrent_dropout_mask (B, U) or None. output: (B, T, U) in processing order with
    return_sequences, else (B, U). When no tape records the op, the kernels keep only the
    running state (no backward buffers).
    """
    act = activation_code(activation, "activation")
    a = sequence_arguments(
        "simple_rnn_sequence", inputs, initial_states, ("initial state",), kernel,
        recurrent_kernel, bias, n_blocks=1, bias_shape=lambda units: (units,), mask=mask,
        recurrent_dropout_mask=recurrent_dropout_mask, n_dropout_masks=1)
    dtype, features, units = a.dtype, a.features, a.units
    x, w, ur, h0 = a.x, a.w, a.ur, a.states[0]
    b = a.b if a.b is not None else np.zeros(units, dtype=dtype)
    h_prev, hs = step_buffers(a, units, units)
    out_seq, out_last, h_final = output_buffers(a, return_sequences)
    rnn_kernels.simple_rnn_forward(x, w, b, ur, h0, a.rdm, a.mask, go_backwards,
                                   zero_output_for_mask, return_sequences, act, out_seq,
                                   out_last, h_final, h_prev, hs,
                                   has_mask=a.has_mask, has_rdm=a.has_rdm, keep=a.keep)

    def backward(upstream, needs):
        g_out, g_state, dx, dh0 = backward_arrays(a, upstream, return_sequences)
        dw = np.empty((features, units), dtype=dtype)
        dur = np.empty((units, units), dtype=dtype)
        db = np.empty(units, dtype=dtype)
        rnn_kernels.simple_rnn_backward(g_out, g_state, x, w, np.ascontiguousarray(ur.T),
                                        a.rdm, a.mask, go_backwards, zero_output_for_mask,
                                        return_sequences, act, h_prev, hs, dx, dh0, dw, dur,
                                        db, has_mask=a.has_mask, has_rdm=a.has_rdm)
        grads = (dx, dh0, dw, dur)
        return grads if a.bias_t is None else grads + (db,)

    output = out_seq if return_sequences else out_last
    output_t, h_t = record(a.op_inputs, (output, h_final), backward)
    return output_t, [h_t]
