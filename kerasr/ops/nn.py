"""Fused neural-network ops over the Numba kernels: dense+activation, activations, softmax,
dropout, embedding lookup and the losses computed from logits."""

import numpy as np

from .. import random
from ..engine.tape import record
from ..engine.tensor import as_tensor
from ..kernels import activations as act_kernels
from ..kernels import dropout as dropout_kernels
from ..kernels import embedding as embedding_kernels
from ..kernels import losses as loss_kernels
from ..kernels.matmul import large_on_kernel_blas, matmul
from ..kernels import softmax as softmax_kernels


def _rows(array):
    """A C-contiguous 2-D view (rows, last axis) of `array`."""
    return np.ascontiguousarray(array).reshape(-1, array.shape[-1])


def dense(x, kernel, bias=None, activation="linear", alpha=0.0):
    """activation(x @ kernel + bias) as one op; x of any rank, contracted on its last axis."""
    x, kernel = as_tensor(x), as_tensor(kernel)
    bias = None if bias is None else as_tensor(bias)
    code = act_kernels.ACTIVATION_CODES[activation]
    x2 = _rows(x.data)
    w = kernel.data
    on_kernel_blas = large_on_kernel_blas()  # decided once, for the backward too
    z = matmul(x2, w, on_kernel_blas)
    keep_z = code != act_kernels.LINEAR and act_kernels.needs_preactivation(code)
    a = np.empty_like(z) if keep_z else z
    if bias is not None:
        act_kernels.bias_activation_forward(z, bias.data, code, alpha, a)
    elif code != act_kernels.LINEAR:
        act_kernels.activation_forward(z.reshape(-1), code, alpha, a.reshape(-1))
    out_shape = x.shape[:-1] + (w.shape[1],)

    def backward(g, needs):
        g2 = _rows(g)
        db = None
        if bias is not None:
            dz = np.empty_like(g2)
            db = np.empty(w.shape[1], dtype=g2.dtype)
            act_kernels.bias_activation_backward(z, a, g2, code, alpha, dz, db)
        elif code != act_kernels.LINEAR:
            dz = np.empty_like(g2)
            act_kernels.activation_backward(z.reshape(-1), a.reshape(-1), g2.reshape(-1),
                                            code, alpha, dz.reshape(-1))
        else:
            dz = g2
        dx = matmul(dz, w.T, on_kernel_blas).reshape(x2.shape[:-1] + (w.shape[0],)).reshape(x.shape) if needs[0] else None
        dw = matmul(x2.T, dz, on_kernel_blas) if needs[1] else None
        return (dx, dw, db) if bias is not None else (dx, dw)

    inputs = (x, kernel, bias) if bias is not None else (x, kernel)
    return record(inputs, a.reshape(out_shape), backward)


def activation(x, name, alpha=0.0):
    """An elementwise activation by kernel name (`"relu"`, `"elu"`, ...)."""
    x = as_tensor(x)
    code = act_kernels.ACTIVATION_CODES[name]
    if code == act_kernels.LINEAR:
        return x
    flat = np.ascontiguousarray(x.data).reshape(-1)
    out = np.empty_like(flat)
    act_kernels.activation_forward(flat, code, alpha, out)

    def backward(g, needs):
        grad = np.empty_like(flat)
        act_kernels.activation_backward(flat, out, np.ascontiguousarray(g).reshape(-1),
                                        code, alpha, grad)
        return (grad.reshape(x.shape),)
    result = record((x,), out.reshape(x.shape), backward)
    if name == "sigmoid":
        result._keras_logits = ("sigmoid", x)
    return result


def softmax(x, axis=-1):
    """Softmax along `axis`; the result remembers its logits so losses can fuse with it."""
    x = as_tensor(x)
    last = axis in (-1, x.ndim - 1)
    moved = x.data if last else np.moveaxis(x.data, axis, -1)
    z = _rows(moved)
    p = np.empty_like(z)
    softmax_kernels.softmax_forward(z, p)

    def backward(g, needs):
        g2 = _rows(g if last else np.moveaxis(g, axis, -1))
        grad = np.empty_like(g2)
        softmax_kernels.softmax_backward(p, g2, grad)
        grad = grad.reshape(moved.shape)
        return (grad if last else np.moveaxis(grad, -1, axis),)

    probs = p.reshape(moved.shape)
    result = record((x,), probs if last else np.moveaxis(probs, -1, axis), backward)
    if last:
        result._keras_logits = ("softmax", x)
    return result


def dropout(x, rate, noise_shape=None):
    """Inverted dropout: keeps each unit with probability 1 - rate and scales it by 1/(1 - rate)."""
    x = as_tensor(x)
    if noise_shape is None or tuple(noise_shape) == x.shape:
        flat = np.ascontiguousarray(x.data).reshape(-1)
        draws = random.uniform(flat.shape, dtype=flat.dtype)
        out = np.empty_like(flat)
        mask = np.empty_like(flat)
        dropout_kernels.dropout_forward(flat, draws, float(rate), out, mask)
        mask = mask.reshape(x.shape)
        result = out.reshape(x.shape)
    else:
        draws = random.uniform(tuple(noise_shape), dtype=x.dtype)
        mask = ((draws >= rate) / (1.0 - rate)).astype(x.dtype)
        result = x.data * mask
    return record((x,), result, lambda g, needs: (g * mask,))


def embedding(indices, table):
    """Rows of `table` picked by the integer array `indices`: shape indices.shape + (dim,)."""
    flat = np.ascontiguousarray(indices, dtype=np.int64).reshape(-1)
    n_rows, dim = table.shape
    out = np.empty((flat.size, dim), dtype=table.dtype)
    embedding_kernels.embedding_forward(table.data, flat, out)

    def backward(g, needs):
        return (embedding_kernels.embedding_backward(flat, _rows(g), n_rows),)
    return record((table,), out.reshape(np.shape(indices) + (dim,)), backward)


def softmax_cross_entropy(y_true, logits):
    """Per-sample categorical cross-entropy of one-hot (or soft) targets, from logits."""
    logits = as_tensor(logits)
    z = _rows(logits.data)
    y = _rows(np.asarray(getattr(y_true, "data", y_true), dtype=z.dtype))
    probs = np.empty_like(z)
    loss = np.empty(z.shape[0], dtype=z.dtype)
    loss_kernels.softmax_cross_entropy_forward(z, y, probs, loss)

    def backward(g, needs):
        grad = np.empty_like(z)
        loss_kernels.softmax_cross_entropy_backward(probs, y, np.ascontiguousarray(g).reshape(-1), grad)
        return (grad.reshape(logits.shape),)
    return record((logits,), loss.reshape(logits.shape[:-1]), backward)


def sparse_softmax_cross_entropy(labels, logits):
    """Per-sample cross-entropy of integer class labels, from logits."""
    logits = as_tensor(logits)
    z = _rows(logits.data)
    flat = np.ascontiguousarray(getattr(labels, "data", labels), dtype=np.int64).reshape(-1)
    probs = np.empty_like(z)
    loss = np.empty(z.shape[0], dtype=z.dtype)
    loss_kernels.sparse_softmax_cross_entropy_forward(z, flat, probs, loss)

    def backward(g, needs):
        grad = np.empty_like(z)
        loss_kernels.sparse_softmax_cross_entropy_backward(
            probs, flat, np.ascontiguousarray(g).reshape(-1), grad)
        return (grad.reshape(logits.shape),)
    return record((logits,), loss.reshape(logits.shape[:-1]), backward)


def sigmoid_cross_entropy(y_true, logits):
    """Elementwise binary cross-entropy from logits."""
    logits = as_tensor(logits)
    z = np.ascontiguousarray(logits.data).reshape(-1)
    y = np.ascontiguousarray(np.broadcast_to(
        np.asarray(getattr(y_true, "data", y_true), dtype=z.dtype), logits.shape)).reshape(-1)
    loss = np.empty_like(z)
    loss_kernels.sigmoid_cross_entropy_forward(z, y, loss)

    def backward(g, needs):
        grad = np.empty_like(z)
        loss_kernels.sigmoid_cross_entropy_backward(z, y, np.ascontiguousarray(g).reshape(-1), grad)
        return (grad.reshape(logits.shape),)
    return record((logits,), loss.reshape(logits.shape), backward)


def logits_of(tensor, activation_name):
    """The logits that a softmax or sigmoid output was computed from, else None."""
    made_by = getattr(tensor, "_keras_logits", None)
    return made_by[1] if made_by is not None and made_by[0] == activation_name else None
