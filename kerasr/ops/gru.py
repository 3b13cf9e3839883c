"""The whole-sequence GRU as one differentiable op over the fused kernels
(kerasr/kernels/gru.py: input projection, recurrence, BPTT and weight gradients all in
compiled loops, no BLAS), one tape record."""

import numpy as np

from ..engine.tape import record
from ..kernels import gru as gru_kernels
from ..kernels.recurrent_common import activation_code
from .recurrent_common import (
    backward_arrays,
    output_buffers,
    sequence_arguments,
    step_buffers,
)


def gru_sequence(inputs, initial_states, kernel, recurrent_kernel, bias=None, *,
                 reset_after=True, mask=None, recurrent_dropout_mask=None, go_backwards=False,
                 return_sequences=False, zero_output_for_mask=False, activation="tanh",
                 recurrent_activation="sigmoid"):
    """A GRU over inputs (B, T, F) from initial_states [h0 (B, U)] -> (output, [h_T]).

    kernel (F, 3U), recurrent_kernel (U, 3U), bias (2, 3U) with reset_after else (3U,)
    or None; gates z, r, h (Keras 3 layout). mask: bool (B, T) or None. The recurrent
    dropout mask is (B, U), or (3, B, U) for Keras 3's one mask per gate; it multiplies
    h_{t-1} only inside the recurrent matmuls, not in z * h_{t-1} (as Keras 3's GRUCell).
    output: (B, T, U) in processing order with return_sequences, else (B, U). When no tape
    records the op, the kernels keep only the running state (no backward buffers).
    """
    act = activation_code(activation, "activation")
    ract = activation_code(recurrent_activation, "recurrent_activation")
    a = sequence_arguments(
        "gru_sequence", inputs, initial_states, ("initial state",), kernel, recurrent_kernel,
        bias, n_blocks=3,
        bias_shape=lambda units: (2, 3 * units) if reset_after else (3 * units,), mask=mask,
        recurrent_dropout_mask=recurrent_dropout_mask, n_dropout_masks=3)
    dtype, features, units = a.dtype, a.features, a.units
    x, w, ur, h0 = a.x, a.w, a.ur, a.states[0]
    u3 = 3 * units
    b0 = np.zeros(u3, dtype=dtype)
    b1 = np.zeros(u3, dtype=dtype)
    if a.b is not None:
        b0 = np.ascontiguousarray(a.b[0]) if reset_after else a.b
        if reset_after:
            b1 = np.ascontiguousarray(a.b[1])
    h_prev, gates = step_buffers(a, units, u3)
    rh = step_buffers(a, units)[0] if reset_after else np.empty((1, 1, 1), dtype=dtype)
    out_seq, out_last, h_final = output_buffers(a, return_sequences)
    gru_kernels.gru_forward(x, w, b0, ur, b1, h0, a.rdm, a.mask, reset_after, go_backwards,
                            zero_output_for_mask, return_sequences, act, ract, out_seq,
                            out_last, h_final, h_prev, gates, rh,
                            has_mask=a.has_mask, has_rdm=a.has_rdm, keep=a.keep)

    def backward(upstream, needs):
        g_out, g_state, dx, dh0 = backward_arrays(a, upstream, return_sequences)
        dw = np.empty((features, u3), dtype=dtype)
        dur = np.empty((units, u3), dtype=dtype)
        db = np.empty((2, u3), dtype=dtype)
        gru_kernels.gru_backward(g_out, g_state, x, w, np.ascontiguousarray(ur.T), a.rdm,
                                 a.mask, reset_after, go_backwards, zero_output_for_mask,
                                 return_sequences, act, ract, h_prev, gates, rh, dx, dh0, dw,
                                 dur, db, has_mask=a.has_mask, has_rdm=a.has_rdm)
        grads = (dx, dh0, dw, dur)
        if a.bias_t is None:
            return grads
        return grads + (db if reset_after else db[0],)

    output = out_seq if return_sequences else out_last
    output_t, h_t = record(a.op_inputs, (output, h_final), backward)
    return output_t, [h_t]
