"""Locally connected (unshared-weights) convolution as one differentiable op, fused with its
bias and activation."""

import numpy as np

from ..engine.tape import record
from ..engine.tensor import as_tensor
from ..kernels import activations as act_kernels
from ..kernels import locally_connected as local_kernels
from .depthwise import (bias_activation, bias_activation_backward, channels_back, channels_last,
                        conv_output_length)


def locally_connected(x, kernel, bias=None, kernel_size=1, strides=1,
                      data_format="channels_last", activation="linear", alpha=0.0):
    """activation(local_conv(x, kernel) + bias) for 1-D or 2-D x, "valid" padding, with Keras
    2's weights (implementation 1): kernel (P, prod(kernel_size) * C, filters) with P the
    number of output positions (row-major), each patch flattened as (*kernel_size, C)
    channels-last or (C, *kernel_size) channels-first; bias (*output_spatial, filters).

    As Keras 2's `bias_add`, a channels-first layer reads its bias's memory as (filters,
    *output_spatial): a plain reshape, not a transpose, so weights trade with Keras as they are.
    """
    x, kernel = as_tensor(x), as_tensor(kernel)
    bias = None if bias is None else as_tensor(bias)
    rank = x.ndim - 2
    code = act_kernels.ACTIVATION_CODES[activation]
    kernel_size = _per_axis(kernel_size, rank)
    strides = _per_axis(strides, rank)
    first = data_format == "channels_first"
    xd = channels_last(x.data, data_format)
    if rank == 1:
        xd, kernel_size, strides = xd[:, None], (1,) + kernel_size, (1,) + strides
    xd = np.ascontiguousarray(xd)
    batch, height, width, _ = xd.shape
    out_h = conv_output_length(height, kernel_size[0], strides[0])
    out_w = conv_output_length(width, kernel_size[1], strides[1])
    n_pos, filters = out_h * out_w, kernel.shape[-1]
    w = kernel.data
    patches = local_kernels.local_patches(xd, kernel_size, strides, (out_h, out_w), first)
    out = np.empty((batch, n_pos, filters), dtype=xd.dtype)
    local_kernels.local_forward(patches, w, out)
    z = out.reshape(batch, n_pos * filters)  # the bias is per (position, filter): one column each
    bias_vector = None
    if bias is not None:
        flat = bias.data.reshape(-1)
        bias_vector = flat if not first else \
            np.ascontiguousarray(flat.reshape(filters, n_pos).T).reshape(-1)
    a = bias_activation(z, bias_vector, code, alpha)
    spatial = (out_w,) if rank == 1 else (out_h, out_w)
    result = channels_back(a.reshape((batch,) + spatial + (filters,)), data_format)

    def backward(g, needs):
        g2 = np.ascontiguousarray(channels_last(g, data_format)).reshape(z.shape)
        dz, db = bias_activation_backward(z, a, g2, bias is not None, code, alpha)
        dz = dz.reshape(out.shape)
        dx = dw = None
        if needs[0]:
            dx = local_kernels.local_backward_input(dz, w, kernel_size, strides, out_w, first,
                                                    np.empty(xd.shape, dtype=xd.dtype))
            dx = channels_back(dx[:, 0] if rank == 1 else dx, data_format)
        if needs[1]:
            dw = local_kernels.local_backward_weight(patches, dz)
        if db is not None:
            if first:
                db = np.ascontiguousarray(db.reshape(n_pos, filters).T)
            db = db.reshape(bias.shape)
        return (dx, dw, db) if bias is not None else (dx, dw)

    inputs = (x, kernel, bias) if bias is not None else (x, kernel)
    return record(inputs, result, backward)


def _per_axis(value, rank):
    return (int(value),) * rank if np.ndim(value) == 0 else tuple(int(v) for v in value)
