"""Differentiable convolutions over the kernels in `kernels/convolution.py`: `conv` (the
convolution, its bias and an elementwise activation as one op, like `ops.dense`) and
`conv_transpose` (whose forward pass is the convolution's input gradient).

Tensors are (batch, spatial..., channels) ("channels_last") or (batch, channels, spatial...)
("channels_first", transposed on the way in and back on the way out); 1, 2 or 3 spatial
axes, run as 3 with singleton leading axes. Kernels have Keras's layouts: (k..., in/groups,
filters) for `conv`, (k..., filters, in) for `conv_transpose`. The window geometry follows
Keras 3 (TensorFlow's rules): `conv_geometry` and `conv_transpose_geometry` give the output
sizes and the zeros padded before each axis.
"""

import numpy as np

from ..engine.tape import record, recording_tape
from ..engine.tensor import Tensor, as_tensor
from ..kernels import activations as act_kernels
from ..kernels import conv_pool as conv_pool_kernels
from ..kernels import convolution as kernels
from ..kernels import pooling as pool_kernels

_FORMATS = ("channels_last", "channels_first")


# ---- geometry ------------------------------------------------------------------------------
def conv_geometry(spatial, kernel_size, strides, padding, dilation_rate):
    """(output sizes, zeros before) per spatial axis of a convolution; None sizes stay None.

    "valid": no padding, floor((n - span) / stride) + 1 outputs, span = (k - 1) * d + 1;
    "same": ceil(n / stride) outputs, the padding split with the odd zero after (TensorFlow);
    "causal" (1D): ceil(n / stride) outputs, span - 1 zeros before only.
    Raises ValueError when an axis would have no output.
    """
    sizes, pads = [], []
    for n, k, s, d in zip(spatial, kernel_size, strides, dilation_rate):
        span = (k - 1) * d + 1
        if padding == "valid":
            out = None if n is None else (n - span) // s + 1
            pad = 0
        elif padding == "same":
            out = None if n is None else (n - 1) // s + 1
            pad = 0 if n is None else max((out - 1) * s + span - n, 0) // 2
        elif padding == "causal":
            out = None if n is None else (n - 1) // s + 1
            pad = span - 1
        else:
            raise ValueError(f"padding must be 'valid', 'same' or 'causal', got {padding!r}.")
        if out is not None and out < 1:
            raise ValueError(f"The convolution window (kernel_size {tuple(kernel_size)}, "
                             f"dilation_rate {tuple(dilation_rate)}) is larger than the input's "
                             f"spatial shape {tuple(spatial)} with padding {padding!r}.")
        sizes.append(out)
        pads.append(pad)
    return tuple(sizes), tuple(pads)


def conv_transpose_geometry(spatial, kernel_size, strides, padding, output_padding,
                            dilation_rate):
    """(output sizes, zeros before) of a transposed convolution, by Keras 3's formulas:
    "valid": (n - 1) * stride + span + output_padding, output_padding defaulting to
    max(span, stride) - span; "same": n * stride, or (n - 1) * stride + span % 2 +
    output_padding when given. The zeros before are those of the convolution it transposes
    (the one mapping the output back to the input)."""
    if output_padding is None:
        output_padding = (None,) * len(spatial)
    sizes, pads = [], []
    for n, k, s, p, d in zip(spatial, kernel_size, strides, output_padding, dilation_rate):
        span = (k - 1) * d + 1
        if padding == "valid":
            extra = max(span, s) - span if p is None else p
            out = None if n is None else (n - 1) * s + span + extra
            left = span - 1
        elif padding == "same":
            out = None if n is None else (n * s if p is None else (n - 1) * s + span % 2 + p)
            pad_len = s + span - 2 if p is None else span + span % 2 - 2 + p
            left = min(pad_len // 2 + pad_len % 2, span - 1)
        else:
            raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
        sizes.append(out)
        pads.append(span - 1 - left)
    return tuple(sizes), tuple(pads)


# ---- helpers -------------------------------------------------------------------------------
def _per_axis(value, rank, name, least=1):
    values = (value,) * rank if np.ndim(value) == 0 else tuple(value)
    if len(values) != rank or any(int(v) != v or v < least for v in values):
        raise ValueError(f"{name} must be an integer >= {least} or {rank} of them, got {value!r}.")
    return tuple(int(v) for v in values)


def _lift(values, fill):
    """Per-axis values of a rank-1/2/3 op as three, `fill` on the missing leading axes."""
    return (fill,) * (3 - len(values)) + tuple(int(v) for v in values)


def _spatial_rank(x, what):
    rank = x.ndim - 2
    if not 1 <= rank <= 3:
        raise ValueError(f"{what} expects a tensor of rank 3, 4 or 5 (batch, spatial..., "
                         f"channels), got shape {x.shape}.")
    return rank


def _to_last(array, data_format):
    """A C-contiguous channels_last view or copy of `array`."""
    if data_format not in _FORMATS:
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', "
                         f"got {data_format!r}.")
    if data_format == "channels_first":
        array = np.moveaxis(array, 1, -1)
    return np.ascontiguousarray(array)


def _from_last(array, data_format):
    if data_format == "channels_first":
        return np.ascontiguousarray(np.moveaxis(array, -1, 1))
    return array


def _bias_activation(z, bias, code, alpha):
    """In place on the (rows, filters) matrix z: a = f(z + bias), z kept when f' needs it."""
    keep_z = code != act_kernels.LINEAR and act_kernels.needs_preactivation(code)
    a = np.empty_like(z) if keep_z else z
    if bias is not None:
        act_kernels.bias_activation_forward(z, bias.data, code, alpha, a)
    elif code != act_kernels.LINEAR:
        act_kernels.activation_forward(z.reshape(-1), code, alpha, a.reshape(-1))
    return a


def _bias_activation_grad(z, a, g2, bias, code, alpha):
    """(dz, dbias) from the output gradient g2 (rows, filters)."""
    if bias is not None:
        dz = np.empty_like(g2)
        db = np.empty(g2.shape[1], dtype=g2.dtype)
        act_kernels.bias_activation_backward(z, a, g2, code, alpha, dz, db)
        return dz, db
    if code != act_kernels.LINEAR:
        dz = np.empty_like(g2)
        act_kernels.activation_backward(z.reshape(-1), a.reshape(-1), g2.reshape(-1), code,
                                        alpha, dz.reshape(-1))
        return dz, None
    return g2, None


# ---- ops -----------------------------------------------------------------------------------
def conv(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, groups=1,
         activation="linear", alpha=0.0, data_format="channels_last"):
    """activation(convolution(x, kernel) + bias) as one op.

    `kernel` has shape (k..., channels / groups, filters); output channel f of group
    g = f // (filters / groups) sees the input channels of that group only.
    """
    x, kernel, bias = _tensors(x, kernel, bias)
    code = act_kernels.ACTIVATION_CODES[activation]
    x_last, x5, w5, geometry, out_size = _conv_arrays(x, kernel, strides, padding,
                                                      dilation_rate, groups, data_format, "conv")
    w = kernel.data
    batch, filters = x_last.shape[0], w.shape[-1]
    inputs = (x, kernel, bias) if bias is not None else (x, kernel)
    if kernels.chunked(geometry):
        return _conv_chunked(inputs, x5, w5, bias, code, alpha, geometry, x_last.shape,
                             out_size, data_format)
    z, columns = kernels.conv_forward(x5, w5, geometry)
    a = _bias_activation(z, bias, code, alpha)
    out = _from_last(a.reshape((batch,) + out_size + (filters,)), data_format)

    def backward(g, needs):
        g2 = _to_last(g, data_format).reshape(-1, filters)
        dz, db = _bias_activation_grad(z, a, g2, bias, code, alpha)
        dx, dw = kernels.conv_backward(dz, geometry, x5.shape, w5.shape,
                                       w=w5 if needs[0] else None, x=x5 if needs[1] else None,
                                       columns=columns)
        if dx is not None:
            dx = _from_last(dx.reshape(x_last.shape), data_format)
        if dw is not None:
            dw = dw.reshape(w.shape)
        return (dx, dw, db) if bias is not None else (dx, dw)

    return record(inputs, out, backward)


def _tensors(x, kernel, bias):
    return as_tensor(x), as_tensor(kernel), None if bias is None else as_tensor(bias)


def _conv_arrays(x, kernel, strides, padding, dilation_rate, groups, data_format, what):
    """(x_last, x5, w5, geometry, out_size) of a convolution of the tensor x by kernel: x as
    C-contiguous channels_last, x and the kernel as 5-D views (see kernels/convolution.py),
    the window geometry and the output's spatial size. Checks that they fit."""
    rank = _spatial_rank(x, what)
    strides = _per_axis(strides, rank, "strides")
    dilation = _per_axis(dilation_rate, rank, "dilation_rate")
    x_last = _to_last(x.data, data_format)
    w = np.ascontiguousarray(kernel.data)
    batch, spatial, channels = x_last.shape[0], x_last.shape[1:-1], x_last.shape[-1]
    ksize, filters = w.shape[:rank], w.shape[-1]
    if w.ndim != rank + 2 or channels != w.shape[-2] * groups or filters % groups:
        raise ValueError(f"{what}: a kernel of shape {w.shape} with groups={groups} does not "
                         f"fit input of shape {x.shape} ({data_format}).")
    out_size, pads = conv_geometry(spatial, ksize, strides, padding, dilation)
    geometry = kernels.Geometry(_lift(ksize, 1), _lift(strides, 1), _lift(dilation, 1),
                                _lift(pads, 0), _lift(out_size, 1), groups)
    x5 = x_last.reshape((batch,) + _lift(spatial, 1) + (channels,))
    w5 = w.reshape(_lift(ksize, 1) + w.shape[-2:])
    return x_last, x5, w5, geometry, out_size


def _conv_chunked(inputs, x5, w5, bias, code, alpha, geometry, input_shape, out_size,
                  data_format):
    """`conv` on the chunked kernels (one group): bias and activation fused into each chunk;
    im2col rows kept for the weight gradient only when a tape records."""
    training = recording_tape(inputs) is not None
    keep_z = code != act_kernels.LINEAR and act_kernels.needs_preactivation(code)
    a, z, columns = kernels.conv_activation_forward(
        x5, w5, None if bias is None else bias.data, code, alpha, geometry,
        keep_columns=training, keep_preactivation=keep_z)
    filters = w5.shape[-1]
    out = _from_last(a.reshape((x5.shape[0],) + out_size + (filters,)), data_format)

    def backward(g, needs):
        g2 = _to_last(g, data_format).reshape(-1, filters)
        dx, dw, db = kernels.conv_activation_backward(
            g2, z, a, code, alpha, w5, x5, columns, geometry, need_dx=needs[0],
            need_dw=needs[1], need_db=bias is not None and needs[2])
        if dx is not None:
            dx = _from_last(dx.reshape(input_shape), data_format)
        if dw is not None:
            dw = dw.reshape(inputs[1].shape)
        return (dx, dw, db) if bias is not None else (dx, dw)

    return record(inputs, out, backward)


def conv_pool(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
              activation="linear", alpha=0.0, data_format="channels_last", pool_mode="max",
              pool_size=2, pool_strides=None, pool_padding="valid"):
    """pool(activation(convolution(x, kernel) + bias)) in one kernel, for inference: the
    values of `conv` then `pooling.max_pool` / `average_pool` (``pool_mode`` "max" or
    "average"), without the convolution's full output in memory; bit for bit, or to rounding
    where Winograd's products run (kernels/conv_pool.py). One group only. Records nothing on
    a tape (it has no gradient): training runs the two ops."""
    x, kernel, bias = _tensors(x, kernel, bias)
    code = act_kernels.ACTIVATION_CODES[activation]
    _, x5, w5, geometry, out_size = _conv_arrays(x, kernel, strides, padding, dilation_rate, 1,
                                                 data_format, "conv_pool")
    rank = len(out_size)
    if pool_mode not in ("max", "average"):
        raise ValueError(f"pool_mode must be 'max' or 'average', got {pool_mode!r}.")
    if pool_padding not in ("valid", "same"):
        raise ValueError(f"pool_padding must be 'valid' or 'same', got {pool_padding!r}.")
    pool_size = _per_axis(pool_size, rank, "pool_size")
    pool_strides = pool_size if pool_strides is None else _per_axis(pool_strides, rank,
                                                                    "pool_strides")
    pooled, before = pool_kernels.pool_geometry(out_size, pool_size, pool_strides, pool_padding)
    if min(pooled) < 1:
        raise ValueError(f"conv_pool: pool_size {pool_size} is larger than the convolution's "
                         f"output, spatial shape {out_size}, with padding {pool_padding!r}.")
    out = conv_pool_kernels.conv_pool_forward(
        x5, w5, None if bias is None else bias.data, code, alpha, geometry,
        pool_mode == "max", _lift(pool_size, 1), _lift(pool_strides, 1), _lift(before, 0),
        _lift(pooled, 1))
    return Tensor(_from_last(out.reshape((x5.shape[0],) + pooled + (w5.shape[-1],)),
                             data_format))


def conv_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                   dilation_rate=1, activation="linear", alpha=0.0,
                   data_format="channels_last"):
    """activation(transposed convolution(x, kernel) + bias) as one op: the gradient of the
    convolution by `kernel` (shape (k..., filters, channels)) with respect to its input,
    whose output size Keras's formulas give (see `conv_transpose_geometry`)."""
    x, kernel, bias = _tensors(x, kernel, bias)
    rank = _spatial_rank(x, "conv_transpose")
    code = act_kernels.ACTIVATION_CODES[activation]
    strides = _per_axis(strides, rank, "strides")
    dilation = _per_axis(dilation_rate, rank, "dilation_rate")
    if output_padding is not None:
        output_padding = _per_axis(output_padding, rank, "output_padding", least=0)
    x_last = _to_last(x.data, data_format)
    w = np.ascontiguousarray(kernel.data)
    batch, spatial, channels = x_last.shape[0], x_last.shape[1:-1], x_last.shape[-1]
    ksize, filters = w.shape[:rank], w.shape[-2]
    if w.ndim != rank + 2 or channels != w.shape[-1]:
        raise ValueError(f"conv_transpose: a kernel of shape {w.shape} does not fit input of "
                         f"shape {x.shape} ({data_format}).")
    out_size, pads = conv_transpose_geometry(spatial, ksize, strides, padding, output_padding,
                                             dilation)
    # The convolution this transposes maps the output (out_size) back to the input (spatial).
    geometry = kernels.Geometry(_lift(ksize, 1), _lift(strides, 1), _lift(dilation, 1),
                                _lift(pads, 0), _lift(spatial, 1), 1)
    x2 = x_last.reshape(-1, channels)
    w5 = w.reshape(_lift(ksize, 1) + w.shape[-2:])
    out5_shape = (batch,) + _lift(out_size, 1) + (filters,)
    # On the chunked kernels, as `conv` (one group): forward, the input gradient of that
    # convolution; backward, the convolution itself and its weight gradient.
    z = kernels.chunked_input_grad(x2, w5, geometry, out5_shape).reshape(-1, filters)
    a = _bias_activation(z, bias, code, alpha)
    out = _from_last(a.reshape((batch,) + out_size + (filters,)), data_format)

    def backward(g, needs):
        g2 = _to_last(g, data_format).reshape(-1, filters)
        dz, db = _bias_activation_grad(z, a, g2, bias, code, alpha)
        dz5 = np.ascontiguousarray(dz).reshape(out5_shape)
        dx = dw = columns = None
        if needs[0]:
            dx, _, columns = kernels.conv_activation_forward(
                dz5, w5, None, act_kernels.LINEAR, 0.0, geometry, keep_columns=needs[1],
                keep_preactivation=False)
            dx = _from_last(dx.reshape(x_last.shape), data_format)
        if needs[1]:
            dw = kernels.chunked_weight_grad(dz5, x2, w5, geometry, columns).reshape(w.shape)
        return (dx, dw, db) if bias is not None else (dx, dw)

    inputs = (x, kernel, bias) if bias is not None else (x, kernel)
    return record(inputs, out, backward)
