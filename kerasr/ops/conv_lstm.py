"""Differentiable convolutional LSTM over a whole sequence (Keras 3's ConvLSTM2D cell) as one
tape op: `conv_lstm2d_sequence`, in the style of the recurrent ops (`lstm_sequence`).

The input convolution of all T steps runs at once, the batch and time axes merged into one
(the chunked `kernels.convolution.conv_activation_forward`: strides, dilation, "valid"/"same"
padding); the recurrence, whose convolution of h is "same" padded with stride 1 (Keras's
recurrent_conv), runs in the compiled loops of `kernels/conv_lstm.py`, forward and backward
through time.

Dropout masks are Keras 3's: its ConvLSTM cell draws four input masks and four recurrent
masks (one per gate i, f, c, o), fixed over time; either one mask (shared by the gates) or
four stacked on a leading axis may be given. Inputs are masked before the input convolution
of their gate, h_{t-1} before the recurrent convolution of each gate.

Speed: see kernels/conv_lstm.py (per-step costs of the recurrence and why it is serial).
"""

import numpy as np

from ..engine.tape import record
from ..engine.tensor import Tensor, as_tensor
from ..kernels import conv_lstm as cl_kernels
from ..kernels import convolution as conv_kernels
from ..kernels.activations import LINEAR
from ..kernels.recurrent_common import activation_code
from .convolution import conv_geometry
from .recurrent_common import sequence_mask

_FORMATS = ("channels_last", "channels_first")


def _pair(value, name):
    values = (value,) * 2 if np.ndim(value) == 0 else tuple(value)
    if len(values) != 2 or any(int(v) != v or v < 1 for v in values):
        raise ValueError(f"conv_lstm2d_sequence: {name} must be a positive integer or 2 of "
                         f"them, got {value!r}.")
    return tuple(int(v) for v in values)


def _step_to_last(array, data_format):
    """(..., C, H, W) -> (..., H, W, C) for channels_first (the last three axes)."""
    if data_format == "channels_first":
        array = np.moveaxis(array, -3, -1)
    return np.ascontiguousarray(array)


def _step_from_last(array, data_format):
    if data_format == "channels_first":
        return np.ascontiguousarray(np.moveaxis(array, -1, -3))
    return array


def _array(value):
    return np.asarray(value.data if isinstance(value, Tensor) else value)


def _dropout_masks(mask, shape, dtype, what):
    """A mask of one step's shape (B, H, W, C) or four stacked, as (G, B, H, W, C), G in 0, 1, 4."""
    if mask is None:
        return np.zeros((0,) + shape, dtype)
    mask = np.asarray(mask)
    if mask.shape == shape:
        mask = mask[None]
    if mask.shape not in ((1,) + shape, (4,) + shape):
        raise ValueError(f"conv_lstm2d_sequence: {what} must have shape {shape} or "
                         f"{(4,) + shape} (channels_last), got {mask.shape}.")
    return np.ascontiguousarray(mask, dtype=dtype)


def conv_lstm2d_sequence(inputs, initial_states, kernel, recurrent_kernel, bias=None, *,
                         strides=1, padding="valid", dilation_rate=1,
                         data_format="channels_last", mask=None, dropout_mask=None,
                         recurrent_dropout_mask=None, go_backwards=False,
                         return_sequences=False, zero_output_for_mask=False, activation="tanh",
                         recurrent_activation="sigmoid"):
    """A 2D convolutional LSTM over the whole sequence as one op.

    inputs (B, T, H, W, C) ("channels_last") or (B, T, C, H, W) ("channels_first");
    initial_states [h0, c0], each (B, H', W', F) or (B, F, H', W'), or None for zeros;
    kernel (kh, kw, C, 4F), recurrent_kernel (rh, rw, F, 4F), bias (4F,) or None (Keras's
    layouts, gates i, f, c, o). H', W' are the input convolution's output sizes (strides,
    padding, dilation_rate as Conv2D). mask: bool (B, T) or None. dropout_mask: one step's
    input shape (B, H, W, C) or 4 of them stacked (one per gate), in data_format's layout;
    recurrent_dropout_mask likewise with the state's shape. go_backwards processes steps
    T-1..0 and returns the sequence in that order.

    Returns (output, [h_T, c_T]): output (B, T, H', W', F) with return_sequences, else the
    last output (B, H', W', F) (channels_first: F before the spatial axes).
    """
    if data_format not in _FORMATS:
        raise ValueError(f"conv_lstm2d_sequence: data_format must be 'channels_last' or "
                         f"'channels_first', got {data_format!r}.")
    x = as_tensor(inputs)
    if x.ndim != 5:
        raise ValueError(f"conv_lstm2d_sequence expects inputs of rank 5 (batch, time, rows, "
                         f"cols, channels), got shape {x.shape}.")
    dtype = x.dtype
    kernel = as_tensor(kernel)
    recurrent_kernel = as_tensor(recurrent_kernel)
    bias = as_tensor(bias) if bias is not None else None
    act_code = activation_code(activation, "activation")
    ract_code = activation_code(recurrent_activation, "recurrent_activation")
    strides = _pair(strides, "strides")
    dilation = _pair(dilation_rate, "dilation_rate")

    x_last = _step_to_last(x.data, data_format)  # (B, T, H, W, C)
    batch, steps, rows_in, cols_in, channels = x_last.shape
    w = np.ascontiguousarray(kernel.data, dtype=dtype)
    u = np.ascontiguousarray(recurrent_kernel.data, dtype=dtype)
    if w.ndim != 4 or w.shape[2] != channels or w.shape[3] % 4:
        raise ValueError(f"conv_lstm2d_sequence: the kernel must have shape (kh, kw, {channels}, "
                         f"4 * filters) for inputs of shape {x.shape} ({data_format}), got "
                         f"{w.shape}.")
    filters = w.shape[3] // 4
    if u.ndim != 4 or u.shape[2:] != (filters, 4 * filters):
        raise ValueError(f"conv_lstm2d_sequence: the recurrent kernel must have shape (kh, kw, "
                         f"{filters}, {4 * filters}), got {u.shape}.")
    if bias is not None and bias.shape != (4 * filters,):
        raise ValueError(f"conv_lstm2d_sequence: the bias must have shape ({4 * filters},), got "
                         f"{bias.shape}.")
    if steps < 1:
        raise ValueError(f"conv_lstm2d_sequence needs at least one time step, got inputs of "
                         f"shape {x.shape}.")
    (rows, cols_n), pads = conv_geometry((rows_in, cols_in), w.shape[:2], strides, padding,
                                         dilation)
    positions = rows * cols_n
    state_shape = (batch, rows, cols_n, filters)
    state_shape_df = state_shape if data_format == "channels_last" else (
        batch, filters, rows, cols_n)

    if initial_states is None:
        initial_states = [Tensor(np.zeros(state_shape_df, dtype)) for _ in range(2)]
    initial_states = [as_tensor(s) for s in initial_states]
    if len(initial_states) != 2 or any(s.shape != state_shape_df for s in initial_states):
        raise ValueError(f"conv_lstm2d_sequence: initial_states must be 2 tensors [h, c] of "
                         f"shape {state_shape_df}, got "
                         f"{[tuple(s.shape) for s in initial_states]}.")
    h0 = _step_to_last(initial_states[0].data, data_format).astype(dtype, copy=False)
    c0 = _step_to_last(initial_states[1].data, data_format).astype(dtype, copy=False)

    has_mask, mask_arr = sequence_mask(mask, batch, steps, "conv_lstm2d_sequence")
    if not has_mask:
        mask_arr = np.ones((batch, steps), dtype=np.bool_)
    step_in = (batch, rows_in, cols_in, channels)
    in_masks = _dropout_masks(None if dropout_mask is None else _step_to_last(
        _array(dropout_mask), data_format), step_in, dtype, "dropout_mask")
    rmask = _dropout_masks(None if recurrent_dropout_mask is None else _step_to_last(
        _array(recurrent_dropout_mask), data_format), state_shape, dtype,
        "recurrent_dropout_mask")
    rmask = rmask.reshape(rmask.shape[0], batch, positions, filters)

    # ---- input convolution of every step at once (batch and time merged) -------------------
    geometry = conv_kernels.Geometry((1,) + w.shape[:2], (1,) + strides, (1,) + dilation,
                                     (0,) + pads, (1, rows, cols_n), 1)
    x5 = x_last.reshape(batch * steps, 1, rows_in, cols_in, channels)
    n_in_masks = in_masks.shape[0]
    if n_in_masks <= 1:
        gate_ranges = [(0, 4 * filters)]
    else:
        gate_ranges = [(g * filters, (g + 1) * filters) for g in range(4)]
    kernels_5d, inputs_5d, columns = [], [], []
    zx = None if len(gate_ranges) == 1 else np.empty((batch * steps * positions, 4 * filters),
                                                      dtype)
    for index, (lo, hi) in enumerate(gate_ranges):
        w5 = np.ascontiguousarray(w[..., lo:hi]).reshape((1,) + w.shape[:3] + (hi - lo,))
        xg = x5 if n_in_masks == 0 else (
            x_last * in_masks[index][:, None]).reshape(x5.shape)
        _, z, kept = conv_kernels.conv_activation_forward(
            xg, w5, None, LINEAR, 0.0, geometry, keep_columns=True, keep_preactivation=False)
        if len(gate_ranges) == 1:
            zx = z
        else:
            zx[:, lo:hi] = z
        kernels_5d.append(w5)
        inputs_5d.append(xg)
        columns.append(kept)
    zx = zx.reshape(batch, steps, positions, 4 * filters)

    # ---- the recurrence ---------------------------------------------------------------------
    rh, rw = u.shape[:2]
    u2 = u.reshape(rh * rw * filters, 4 * filters)
    u4 = np.ascontiguousarray(u2.reshape(-1, 4, filters).transpose(1, 0, 2))
    bias_arr = (np.ascontiguousarray(bias.data, dtype=dtype) if bias is not None
                else np.zeros(4 * filters, dtype))
    hs = np.empty((steps + 1, batch, positions, filters), dtype)
    cs = np.empty_like(hs)
    gates = np.empty((steps, batch, positions, 4 * filters), dtype)
    ys = np.empty((batch, steps, positions, filters), dtype)
    cl_kernels.conv_lstm_forward(zx, bias_arr, u2, u4, h0.reshape(batch, positions, filters),
                                 c0.reshape(batch, positions, filters), mask_arr, rmask, rows,
                                 cols_n, rh, rw, bool(go_backwards), bool(zero_output_for_mask),
                                 act_code, ract_code, hs, cs, gates, ys)
    del zx

    if return_sequences:
        out = _step_from_last(ys.reshape(batch, steps, rows, cols_n, filters), data_format)
    else:
        out = _step_from_last(ys[:, -1].reshape(state_shape), data_format)
    h_last = _step_from_last(hs[-1].reshape(state_shape), data_format)
    c_last = _step_from_last(cs[-1].reshape(state_shape), data_format)

    def backward(upstream, needs):
        g_out, g_h, g_c = upstream
        if return_sequences:
            dys = _step_to_last(g_out, data_format).reshape(batch, steps, positions, filters)
        else:
            dys = np.zeros((batch, steps, positions, filters), dtype)
            dys[:, -1] = _step_to_last(g_out, data_format).reshape(batch, positions, filters)
        dys = np.ascontiguousarray(dys, dtype=dtype)
        dh_t = _step_to_last(g_h, data_format).astype(dtype, copy=False).reshape(
            batch, positions, filters)
        dc_t = _step_to_last(g_c, data_format).astype(dtype, copy=False).reshape(
            batch, positions, filters)
        dzx = np.empty((batch, steps, positions, 4 * filters), dtype)
        dh0 = np.empty((batch, positions, filters), dtype)
        dc0 = np.empty_like(dh0)
        du2 = cl_kernels.conv_lstm_backward(dys, dh_t, dc_t, hs, cs, gates, u2, u4, mask_arr,
                                            rmask, rows, cols_n, rh, rw, bool(go_backwards),
                                            bool(zero_output_for_mask), act_code, ract_code,
                                            dzx, dh0, dc0)
        dz2 = dzx.reshape(-1, 4 * filters)
        dx = np.zeros(x5.shape, dtype) if needs[0] else None
        dw = np.empty(w.shape, dtype) if needs[3] else None
        for index, (lo, hi) in enumerate(gate_ranges if needs[0] or needs[3] else ()):
            dz_gate = dz2 if len(gate_ranges) == 1 else np.ascontiguousarray(dz2[:, lo:hi])
            dxg, dwg, _ = conv_kernels.conv_activation_backward(
                dz_gate, dz_gate, dz_gate, LINEAR, 0.0, kernels_5d[index], inputs_5d[index],
                columns[index], geometry, need_dx=needs[0], need_dw=needs[3], need_db=False)
            if dxg is not None:
                if n_in_masks:
                    dxg = dxg.reshape(x_last.shape) * in_masks[index][:, None]
                dx += dxg.reshape(x5.shape)
            if dwg is not None:
                dw[..., lo:hi] = dwg.reshape(w.shape[:3] + (hi - lo,))
        if dx is not None:
            dx = _step_from_last(dx.reshape(x_last.shape), data_format)
        grads = (dx,
                 _step_from_last(dh0.reshape(state_shape), data_format) if needs[1] else None,
                 _step_from_last(dc0.reshape(state_shape), data_format) if needs[2] else None,
                 dw,
                 du2.reshape(u.shape) if needs[4] else None)
        if bias is not None:
            grads = grads + (dz2.sum(axis=0) if needs[5] else None,)
        return grads

    tensor_inputs = (x, initial_states[0], initial_states[1], kernel, recurrent_kernel)
    if bias is not None:
        tensor_inputs = tensor_inputs + (bias,)
    out, h_last, c_last = record(tensor_inputs, (out, h_last, c_last), backward)
    return out, [h_last, c_last]
