"""The whole-sequence SimpleRNN as one differentiable op over the fused kernels
(kerasr/kernels/simple_rnn.py: input projection, recurrence, BPTT and weight gradients
all in compiled loops, no BLAS), one tape record."""

import numpy as np

from ..engine.tape import record
from ..engine.tensor import as_tensor
from ..kernels import simple_rnn as rnn_kernels
from .gru import recurrent_dropout_masks, sequence_mask


def simple_rnn_sequence(inputs, initial_states, kernel, recurrent_kernel, bias=None, *,
                        mask=None, recurrent_dropout_mask=None, go_backwards=False,
                        return_sequences=False, zero_output_for_mask=False,
                        activation="tanh"):
    """h = act(x @ kernel + bias + (h*m) @ recurrent_kernel) over inputs (B, T, F) from
    initial_states [h0 (B, U)] -> (output, [h_T]).

    kernel (F, U), recurrent_kernel (U, U), bias (U,) or None; mask bool (B, T) or None;
    recurrent_dropout_mask (B, U) or None. output: (B, T, U) in processing order with
    return_sequences, else (B, U).
    """
    act = rnn_kernels.activation_code(activation, "activation")
    inputs, kernel, recurrent_kernel = (as_tensor(inputs), as_tensor(kernel),
                                        as_tensor(recurrent_kernel))
    if len(initial_states) != 1:
        raise ValueError(f"simple_rnn_sequence expects 1 initial state, "
                         f"got {len(initial_states)}")
    h0_t = as_tensor(initial_states[0])
    x = np.ascontiguousarray(inputs.data)
    dtype = x.dtype
    if x.ndim != 3:
        raise ValueError(f"simple_rnn_sequence expects inputs of shape (batch, steps, "
                         f"features), got {x.shape}")
    batch, steps, features = x.shape
    w = np.ascontiguousarray(kernel.data, dtype=dtype)
    ur = np.ascontiguousarray(recurrent_kernel.data, dtype=dtype)
    units = ur.shape[0]
    if w.shape != (features, units) or ur.shape != (units, units):
        raise ValueError(f"kernel {w.shape} / recurrent_kernel {ur.shape} do not match "
                         f"{features} features and {units} units")
    h0 = np.ascontiguousarray(h0_t.data, dtype=dtype)
    if h0.shape != (batch, units):
        raise ValueError(f"initial state must have shape {(batch, units)}, got {h0.shape}")
    if steps == 0:
        raise ValueError("simple_rnn_sequence needs at least one time step")
    if bias is not None:
        bias = as_tensor(bias)
        if bias.shape != (units,):
            raise ValueError(f"bias must have shape {(units,)}, got {bias.shape}")
    has_mask, mask_arr = sequence_mask(mask, batch, steps)
    has_rdm, rdm = recurrent_dropout_masks(recurrent_dropout_mask, batch, units, dtype, 1)

    b = (np.ascontiguousarray(bias.data, dtype=dtype) if bias is not None
         else np.zeros(units, dtype=dtype))
    alloc = np.zeros if has_mask else np.empty  # masked steps leave storage unwritten
    h_prev = alloc((batch, steps, units), dtype=dtype)
    hs = alloc((batch, steps, units), dtype=dtype)
    out_seq = (np.empty((batch, steps, units), dtype=dtype) if return_sequences
               else np.empty((1, 1, 1), dtype=dtype))
    out_last = np.empty((batch, units), dtype=dtype)
    h_final = np.empty((batch, units), dtype=dtype)
    rnn_kernels.simple_rnn_forward(x, w, b, ur, h0, rdm, mask_arr, go_backwards,
                                   zero_output_for_mask, return_sequences, act, out_seq,
                                   out_last, h_final, h_prev, hs,
                                   has_mask=has_mask, has_rdm=has_rdm)

    def backward(upstream, needs):
        g_output, g_state = upstream
        g_out = np.ascontiguousarray(g_output, dtype=dtype)
        if not return_sequences:
            g_out = g_out.reshape(batch, 1, units)
        g_state = np.ascontiguousarray(g_state, dtype=dtype)
        dx = np.empty_like(x)
        dh0 = np.empty((batch, units), dtype=dtype)
        dw = np.empty((features, units), dtype=dtype)
        dur = np.empty((units, units), dtype=dtype)
        db = np.empty(units, dtype=dtype)
        rnn_kernels.simple_rnn_backward(g_out, g_state, x, w, np.ascontiguousarray(ur.T), rdm,
                                        mask_arr, go_backwards, zero_output_for_mask,
                                        return_sequences, act, h_prev, hs, dx, dh0, dw, dur,
                                        db, has_mask=has_mask, has_rdm=has_rdm)
        grads = (dx, dh0, dw, dur)
        return grads if bias is None else grads + (db,)

    op_inputs = (inputs, h0_t, kernel, recurrent_kernel) + ((bias,) if bias is not None else ())
    output = out_seq if return_sequences else out_last
    output_t, h_t = record(op_inputs, (output, h_final), backward)
    return output_t, [h_t]
