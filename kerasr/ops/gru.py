"""The whole-sequence GRU as one differentiable op over the fused kernels
(kerasr/kernels/gru.py: input projection, recurrence, BPTT and weight gradients all in
compiled loops, no BLAS), one tape record."""

import numpy as np

from ..engine.tape import record
from ..engine.tensor import as_tensor
from ..kernels import gru as gru_kernels


def _array(tensor, dtype):
    return np.ascontiguousarray(tensor.data, dtype=dtype)


def sequence_mask(mask, batch, steps):
    """(has_mask, contiguous bool (B, T) mask or a dummy)."""
    if mask is None:
        return False, np.ones((1, 1), dtype=np.bool_)
    mask = np.ascontiguousarray(getattr(mask, "data", mask), dtype=np.bool_)
    if mask.shape != (batch, steps):
        raise ValueError(f"mask must have shape {(batch, steps)}, got {mask.shape}")
    return True, mask


def recurrent_dropout_masks(rdm, batch, units, dtype, n_gates):
    """(has_rdm, contiguous (n_gates, B, U) masks or a dummy); a single (B, U) mask is
    used for every gate."""
    if rdm is None:
        return False, np.ones((1, 1, 1), dtype=dtype)
    rdm = np.asarray(getattr(rdm, "data", rdm), dtype=dtype)
    if rdm.shape == (batch, units):
        rdm = np.broadcast_to(rdm, (n_gates, batch, units))
    if rdm.shape != (n_gates, batch, units):
        raise ValueError(f"recurrent_dropout_mask must have shape {(batch, units)} or "
                         f"{(n_gates, batch, units)}, got {rdm.shape}")
    return True, np.ascontiguousarray(rdm)


def gru_sequence(inputs, initial_states, kernel, recurrent_kernel, bias=None, *,
                 reset_after=True, mask=None, recurrent_dropout_mask=None, go_backwards=False,
                 return_sequences=False, zero_output_for_mask=False, activation="tanh",
                 recurrent_activation="sigmoid"):
    """A GRU over inputs (B, T, F) from initial_states [h0 (B, U)] -> (output, [h_T]).

    kernel (F, 3U), recurrent_kernel (U, 3U), bias (2, 3U) with reset_after else (3U,)
    or None; gates z, r, h (Keras 3 layout). mask: bool (B, T) or None. The recurrent
    dropout mask is (B, U), or (3, B, U) for Keras 3's one mask per gate; it multiplies
    h_{t-1} only inside the recurrent matmuls, not in z * h_{t-1} (as Keras 3's GRUCell).
    output: (B, T, U) in processing order with return_sequences, else (B, U).
    """
    act = gru_kernels.activation_code(activation, "activation")
    ract = gru_kernels.activation_code(recurrent_activation, "recurrent_activation")
    inputs, kernel, recurrent_kernel = (as_tensor(inputs), as_tensor(kernel),
                                        as_tensor(recurrent_kernel))
    if len(initial_states) != 1:
        raise ValueError(f"gru_sequence expects 1 initial state, got {len(initial_states)}")
    h0_t = as_tensor(initial_states[0])
    x = np.ascontiguousarray(inputs.data)
    dtype = x.dtype
    if x.ndim != 3:
        raise ValueError(f"gru_sequence expects inputs of shape (batch, steps, features), "
                         f"got {x.shape}")
    batch, steps, features = x.shape
    w = _array(kernel, dtype)
    ur = _array(recurrent_kernel, dtype)
    units = ur.shape[0]
    u3 = 3 * units
    if w.shape != (features, u3) or ur.shape != (units, u3):
        raise ValueError(f"kernel {w.shape} / recurrent_kernel {ur.shape} do not match "
                         f"{features} features and {units} units")
    h0 = _array(h0_t, dtype)
    if h0.shape != (batch, units):
        raise ValueError(f"initial state must have shape {(batch, units)}, got {h0.shape}")
    if steps == 0:
        raise ValueError("gru_sequence needs at least one time step")
    b1 = np.zeros(u3, dtype=dtype)
    if bias is not None:
        bias = as_tensor(bias)
        b = _array(bias, dtype)
        expected = (2, u3) if reset_after else (u3,)
        if b.shape != expected:
            raise ValueError(f"bias must have shape {expected}, got {b.shape}")
        b0 = b[0] if reset_after else b
        if reset_after:
            b1 = np.ascontiguousarray(b[1])
    has_mask, mask_arr = sequence_mask(mask, batch, steps)
    has_rdm, rdm = recurrent_dropout_masks(recurrent_dropout_mask, batch, units, dtype, 3)

    b0 = np.ascontiguousarray(b0) if bias is not None else np.zeros(u3, dtype=dtype)
    alloc = np.zeros if has_mask else np.empty  # masked steps leave storage unwritten
    h_prev = alloc((batch, steps, units), dtype=dtype)
    gates = alloc((batch, steps, u3), dtype=dtype)
    rh = alloc((batch, steps, units), dtype=dtype) if reset_after else np.empty(
        (1, 1, 1), dtype=dtype)
    out_seq = (np.empty((batch, steps, units), dtype=dtype) if return_sequences
               else np.empty((1, 1, 1), dtype=dtype))
    out_last = np.empty((batch, units), dtype=dtype)
    h_final = np.empty((batch, units), dtype=dtype)
    gru_kernels.gru_forward(x, w, b0, ur, b1, h0, rdm, mask_arr, reset_after, go_backwards,
                            zero_output_for_mask, return_sequences, act, ract, out_seq,
                            out_last, h_final, h_prev, gates, rh,
                            has_mask=has_mask, has_rdm=has_rdm)

    def backward(upstream, needs):
        g_output, g_state = upstream
        g_out = np.ascontiguousarray(g_output, dtype=dtype)
        if not return_sequences:
            g_out = g_out.reshape(batch, 1, units)
        g_state = np.ascontiguousarray(g_state, dtype=dtype)
        dx = np.empty_like(x)
        dh0 = np.empty((batch, units), dtype=dtype)
        dw = np.empty((features, u3), dtype=dtype)
        dur = np.empty((units, u3), dtype=dtype)
        db = np.empty((2, u3), dtype=dtype)
        gru_kernels.gru_backward(g_out, g_state, x, w, np.ascontiguousarray(ur.T), rdm,
                                 mask_arr, reset_after, go_backwards, zero_output_for_mask,
                                 return_sequences, act, ract, h_prev, gates, rh, dx, dh0, dw,
                                 dur, db, has_mask=has_mask, has_rdm=has_rdm)
        grads = (dx, dh0, dw, dur)
        if bias is None:
            return grads
        return grads + (db if reset_after else db[0],)

    op_inputs = (inputs, h0_t, kernel, recurrent_kernel) + ((bias,) if bias is not None else ())
    output = out_seq if return_sequences else out_last
    output_t, h_t = record(op_inputs, (output, h_final), backward)
    return output_t, [h_t]
