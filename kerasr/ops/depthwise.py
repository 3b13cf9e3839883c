"""Depthwise convolution as one differentiable op, fused with its bias and activation (as
`ops.dense`), and the convolution geometry shared by the depthwise, separable and locally
connected layers."""

import numpy as np

from ..engine.tape import record
from ..engine.tensor import as_tensor
from ..kernels import activations as act_kernels
from ..kernels import depthwise as depthwise_kernels


def conv_output_length(size, kernel, stride=1, dilation=1, padding="valid"):
    """Keras's output length of one spatial axis (None stays None): "valid" keeps the windows
    inside the input, "same" gives ceil(size / stride)."""
    if size is None:
        return None
    if padding == "same":
        return (size + stride - 1) // stride
    return (size - (kernel - 1) * dilation - 1) // stride + 1


def conv_padding(size, kernel, stride, dilation, padding):
    """Zeros before the input on one axis ("same": half the padding, the odd one after)."""
    if padding != "same":
        return 0
    out = conv_output_length(size, kernel, stride, dilation, padding)
    return max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0) // 2


def channels_last(array, data_format):
    """A channels-first array with its channel axis moved last (a view)."""
    return np.moveaxis(array, 1, -1) if data_format == "channels_first" else array


def channels_back(array, data_format):
    """Inverse of `channels_last` (a contiguous copy for channels-first)."""
    if data_format == "channels_first":
        return np.ascontiguousarray(np.moveaxis(array, -1, 1))
    return array


def bias_activation(z, bias, code, alpha):
    """activation(z + bias) for 2-D z (rows, columns), in place where it can: returns the
    activation and what its backward needs (`z` keeps the pre-activation)."""
    keep_z = code != act_kernels.LINEAR and act_kernels.needs_preactivation(code)
    a = np.empty_like(z) if keep_z else z
    if bias is not None:
        act_kernels.bias_activation_forward(z, bias, code, alpha, a)
    elif code != act_kernels.LINEAR:
        act_kernels.activation_forward(z.reshape(-1), code, alpha, a.reshape(-1))
    return a


def bias_activation_backward(z, a, g, has_bias, code, alpha):
    """(gradient of z, gradient of the bias or None) for 2-D contiguous g."""
    if has_bias:
        dz = np.empty_like(g)
        db = np.empty(g.shape[1], dtype=g.dtype)
        act_kernels.bias_activation_backward(z, a, g, code, alpha, dz, db)
        return dz, db
    if code != act_kernels.LINEAR:
        dz = np.empty_like(g)
        act_kernels.activation_backward(z.reshape(-1), a.reshape(-1), g.reshape(-1), code, alpha,
                                        dz.reshape(-1))
        return dz, None
    return g, None


def depthwise_conv(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
                   data_format="channels_last", activation="linear", alpha=0.0):
    """activation(depthwise_conv(x, kernel) + bias) for 1-D or 2-D x.

    x: (batch, *spatial, C) channels-last, (batch, C, *spatial) channels-first; kernel
    (*kernel_size, C, M) as Keras; bias (C*M,). Output channel c*M + m is channel c convolved
    with filter m. `strides` and `dilation_rate` are ints or one int per spatial axis.
    """
    x, kernel = as_tensor(x), as_tensor(kernel)
    bias = None if bias is None else as_tensor(bias)
    rank = x.ndim - 2
    code = act_kernels.ACTIVATION_CODES[activation]
    strides = _per_axis(strides, rank)
    dilation = _per_axis(dilation_rate, rank)
    xd = channels_last(x.data, data_format)
    w = kernel.data
    if rank == 1:  # as 2-D with a height of 1
        xd, w = xd[:, None], w[None]
        strides, dilation = (1,) + strides, (1,) + dilation
    xd = np.ascontiguousarray(xd)  # once: the forward and the kernel gradient both read it
    batch, height, width, channels = xd.shape
    k_h, k_w, _, mult = w.shape
    out_h = conv_output_length(height, k_h, strides[0], dilation[0], padding)
    out_w = conv_output_length(width, k_w, strides[1], dilation[1], padding)
    pads = (conv_padding(height, k_h, strides[0], dilation[0], padding),
            conv_padding(width, k_w, strides[1], dilation[1], padding))
    out = np.empty((batch, out_h, out_w, channels * mult), dtype=xd.dtype)
    depthwise_kernels.depthwise_forward(xd, w, strides, dilation, pads, out)
    z = out.reshape(-1, channels * mult)
    a = bias_activation(z, None if bias is None else bias.data, code, alpha)
    spatial = (out_w,) if rank == 1 else (out_h, out_w)
    result = channels_back(a.reshape((batch,) + spatial + (channels * mult,)), data_format)

    def backward(g, needs):
        g2 = np.ascontiguousarray(channels_last(g, data_format)).reshape(z.shape)
        dz, db = bias_activation_backward(z, a, g2, bias is not None, code, alpha)
        dz = dz.reshape(out.shape)
        dx = dw = None
        if needs[0]:
            dx = depthwise_kernels.depthwise_backward_input(
                dz, w, strides, dilation, pads, np.empty(xd.shape, dtype=xd.dtype))
            dx = channels_back(_squeeze_height(dx, rank), data_format)
        if needs[1]:
            dw = depthwise_kernels.depthwise_backward_weight(
                xd, dz, strides, dilation, pads, np.empty(w.shape, dtype=w.dtype))
            dw = dw.reshape(kernel.shape)
        return (dx, dw, db) if bias is not None else (dx, dw)

    inputs = (x, kernel, bias) if bias is not None else (x, kernel)
    return record(inputs, result, backward)


def _squeeze_height(array, rank):
    return array[:, 0] if rank == 1 else array


def _per_axis(value, rank):
    return (int(value),) * rank if np.ndim(value) == 0 else tuple(int(v) for v in value)
