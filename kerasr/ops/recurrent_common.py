"""The argument checks and plumbing the fused recurrent sequence ops share
(`lstm_sequence`, `gru_sequence`, `simple_rnn_sequence`; `conv_lstm2d_sequence` uses the
mask check): tensors in, contiguous arrays of the inputs' dtype out, every shape
checked (the kernels do not check bounds), masks as (flag, array or dummy) pairs, and
whether a gradient tape will record the op (if not, the kernels keep no backward buffers).
"""

from types import SimpleNamespace

import numpy as np

from ..engine.tape import recording_tape
from ..engine.tensor import as_tensor


def float_array(tensor, dtype):
    """A tensor's data as a C-contiguous array of ``dtype``."""
    return np.ascontiguousarray(tensor.data, dtype=dtype)


def check_shapes(op, expected):
    """ValueError naming the first array whose shape differs: ``expected`` maps a name to
    (array or None, shape); None entries are skipped."""
    for what, (array, shape) in expected.items():
        if array is not None and np.shape(array) != tuple(shape):
            raise ValueError(f"{op}: {what} should have shape {tuple(shape)}, "
                             f"got {np.shape(array)}")


def sequence_mask(mask, batch, steps, op="recurrent op"):
    """(has_mask, contiguous bool (B, T) mask or a (1, 1) dummy)."""
    if mask is None:
        return False, np.ones((1, 1), dtype=np.bool_)
    mask = np.ascontiguousarray(getattr(mask, "data", mask), dtype=np.bool_)
    check_shapes(op, {"mask": (mask, (batch, steps))})
    return True, mask


def recurrent_dropout_masks(rdm, batch, units, dtype, n_gates, op="recurrent op"):
    """(has_rdm, contiguous (n_gates, B, U) masks or a (1, 1, 1) dummy); a single (B, U)
    mask is used for every gate."""
    if rdm is None:
        return False, np.ones((1, 1, 1), dtype=dtype)
    rdm = np.asarray(getattr(rdm, "data", rdm), dtype=dtype)
    if rdm.shape == (batch, units):
        rdm = np.broadcast_to(rdm, (n_gates, batch, units))
    if rdm.shape != (n_gates, batch, units):
        allowed = f"{(batch, units)}" + (f" or {(n_gates, batch, units)}" if n_gates > 1 else "")
        raise ValueError(f"{op}: recurrent_dropout_mask should have shape {allowed}, "
                         f"got {rdm.shape}")
    return True, np.ascontiguousarray(rdm)


def sequence_arguments(op, inputs, initial_states, state_names, kernel, recurrent_kernel,
                       bias, *, n_blocks, bias_shape, mask, recurrent_dropout_mask,
                       n_dropout_masks):
    """Checks a dense recurrent op's arguments and converts them for the kernels.

    ``state_names``: one name per initial state (B, U); kernel (F, n_blocks * U),
    recurrent_kernel (U, n_blocks * U), bias of ``bias_shape(units)`` or None. Returns a
    namespace: the tensors (``x_t``, ``states_t``, ``kernel_t``, ``recurrent_kernel_t``,
    ``bias_t``) and ``op_inputs`` (for `record`, bias last if any); arrays ``x``,
    ``states``, ``w``, ``ur``, ``b`` (None without bias); ``dtype``, ``batch``, ``steps``,
    ``features``, ``units``; ``has_mask``, ``mask``, ``has_rdm``, ``rdm``
    ((n_dropout_masks, B, U)); ``keep``: whether a tape records the op (else the kernels
    need not keep what the backward uses).
    """
    if len(initial_states) != len(state_names):
        what = "initial state" if len(state_names) == 1 else "initial states"
        names = "" if len(state_names) == 1 else " [" + ", ".join(
            n.split()[-1] for n in state_names) + "]"
        raise ValueError(f"{op} expects {len(state_names)} {what}{names}, "
                         f"got {len(initial_states)}")
    x_t = as_tensor(inputs)
    states_t = [as_tensor(s) for s in initial_states]
    kernel_t, recurrent_kernel_t = as_tensor(kernel), as_tensor(recurrent_kernel)
    bias_t = None if bias is None else as_tensor(bias)
    x = np.ascontiguousarray(x_t.data)
    dtype = x.dtype
    if x.ndim != 3:
        raise ValueError(f"{op} expects inputs of rank 3 (batch, time, features), "
                         f"got shape {x.shape}")
    batch, steps, features = x.shape
    if steps == 0:
        raise ValueError(f"{op} needs at least one time step")
    w = float_array(kernel_t, dtype)
    ur = float_array(recurrent_kernel_t, dtype)
    if ur.ndim != 2:
        raise ValueError(f"{op}: recurrent_kernel should have rank 2, got shape {ur.shape}")
    units = ur.shape[0]
    states = [float_array(s, dtype) for s in states_t]
    b = None if bias_t is None else float_array(bias_t, dtype)
    expected = {"kernel": (w, (features, n_blocks * units)),
                "recurrent_kernel": (ur, (units, n_blocks * units)),
                "bias": (b, bias_shape(units))}
    expected.update({name: (s, (batch, units)) for name, s in zip(state_names, states)})
    check_shapes(op, expected)
    has_mask, mask_arr = sequence_mask(mask, batch, steps, op)
    has_rdm, rdm = recurrent_dropout_masks(recurrent_dropout_mask, batch, units, dtype,
                                           n_dropout_masks, op)
    op_inputs = (x_t, *states_t, kernel_t, recurrent_kernel_t) + (
        (bias_t,) if bias_t is not None else ())
    return SimpleNamespace(
        x_t=x_t, states_t=states_t, kernel_t=kernel_t, recurrent_kernel_t=recurrent_kernel_t,
        bias_t=bias_t, op_inputs=op_inputs, x=x, states=states, w=w, ur=ur, b=b, dtype=dtype,
        batch=batch, steps=steps, features=features, units=units, has_mask=has_mask,
        mask=mask_arr, has_rdm=has_rdm, rdm=rdm, keep=recording_tape(op_inputs) is not None)


def step_buffers(a, *widths):
    """What the BLAS-free kernels (gru, simple_rnn) keep per step for the backward:
    (B, T, width) arrays, or (B, 1, width) scratch when no tape records the op (``a`` from
    sequence_arguments); zeros with a mask, as masked steps leave them unwritten."""
    alloc = np.zeros if a.has_mask else np.empty
    slots = a.steps if a.keep else 1
    return [alloc((a.batch, slots, width), dtype=a.dtype) for width in widths]


def output_buffers(a, return_sequences):
    """(out_seq, out_last, h_final) for the BLAS-free kernels; out_seq (B, T, U) only with
    return_sequences (else a dummy)."""
    shape = (a.batch, a.steps, a.units) if return_sequences else (1, 1, 1)
    return (np.empty(shape, dtype=a.dtype), np.empty((a.batch, a.units), dtype=a.dtype),
            np.empty((a.batch, a.units), dtype=a.dtype))


def backward_arrays(a, upstream, return_sequences):
    """(g_out, g_state, dx, dh0) for the BLAS-free kernels' backward: the output's gradient
    (B, T, U) in processing order with return_sequences, else (B, 1, U); the final
    state's (B, U); dx and dh0 to be filled."""
    g_output, g_state = upstream
    g_out = np.ascontiguousarray(g_output, dtype=a.dtype)
    if not return_sequences:
        g_out = g_out.reshape(a.batch, 1, a.units)
    return (g_out, np.ascontiguousarray(g_state, dtype=a.dtype), np.empty_like(a.x),
            np.empty((a.batch, a.units), dtype=a.dtype))
