"""Activation functions, by name or as `activation_*` functions on tensors.

Elementwise activations with their default arguments run as one Numba kernel and are fused
into a Dense layer's op; softmax and sigmoid outputs keep their logits so that the
cross-entropy losses after them are computed stably from the logits.
"""

import math

from . import ops
from .engine.tensor import as_tensor


def linear(x):
    return as_tensor(x)


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0); Keras's optional leak below `threshold` and cap at `max_value`."""
    if threshold == 0.0:
        if max_value is None:
            return ops.activation(x, "relu") if negative_slope == 0.0 else ops.activation(
                x, "leaky_relu", float(negative_slope))
        if negative_slope == 0.0:
            return ops.activation(x, "relu_max", float(max_value))
    x = as_tensor(x)
    below = ops.multiply(ops.subtract(x, threshold), negative_slope) if negative_slope else 0.0
    out = ops.where(x.data >= threshold, x, below)
    return ops.minimum(out, max_value) if max_value is not None else out


def leaky_relu(x, negative_slope=0.2):
    return ops.activation(x, "leaky_relu", float(negative_slope))


def elu(x, alpha=1.0):
    return ops.activation(x, "elu", float(alpha))


def selu(x):
    return ops.activation(x, "selu")


def sigmoid(x):
    return ops.activation(x, "sigmoid")


def hard_sigmoid(x):
    return ops.activation(x, "hard_sigmoid")


def hard_sigmoid_keras2(x):
    """Keras 2's hard sigmoid, clip(0.2 x + 0.5, 0, 1) (kinks at x = -2.5 and 2.5): what
    "hard_sigmoid" meant in Keras 2, tf.keras 2 and R keras 2 (the default
    recurrent_activation of their older LSTM/GRU layers). Keras 3's `hard_sigmoid` is
    clip(x / 6 + 0.5, 0, 1); HDF5 files from Keras 2 load with this one."""
    return ops.activation(x, "hard_sigmoid_keras2")


def tanh(x):
    return ops.activation(x, "tanh")


def softplus(x):
    return ops.activation(x, "softplus")


def softsign(x):
    return ops.activation(x, "softsign")


def exponential(x):
    return ops.activation(x, "exponential")


def swish(x):
    return ops.activation(x, "swish")


def gelu(x, approximate=False):
    if not approximate:
        return ops.activation(x, "gelu")
    x = as_tensor(x)
    inner = ops.multiply(math.sqrt(2.0 / math.pi), ops.add(x, ops.multiply(0.044715, ops.power(x, 3.0))))
    return ops.multiply(ops.multiply(0.5, x), ops.add(1.0, tanh(inner)))


def softmax(x, axis=-1):
    return ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    x = as_tensor(x)
    shifted = ops.subtract(x, ops.max(x, axis=axis, keepdims=True).data)
    return ops.subtract(shifted, ops.log(ops.sum(ops.exp(shifted), axis=axis, keepdims=True)))


silu = swish

ACTIVATIONS = {
    "linear": linear, "relu": relu, "leaky_relu": leaky_relu, "elu": elu, "selu": selu,
    "sigmoid": sigmoid, "hard_sigmoid": hard_sigmoid, "tanh": tanh, "softplus": softplus,
    "softsign": softsign, "exponential": exponential, "swish": swish, "silu": silu,
    "gelu": gelu, "softmax": softmax, "log_softmax": log_softmax,
    "hard_sigmoid_keras2": hard_sigmoid_keras2,
}

# Activations whose kernel can be fused into a dense op (called with default arguments).
_FUSABLE = {relu: "relu", elu: "elu", selu: "selu", hard_sigmoid: "hard_sigmoid", tanh: "tanh",
            softplus: "softplus", softsign: "softsign", exponential: "exponential",
            swish: "swish", gelu: "gelu", linear: "linear", leaky_relu: "leaky_relu",
            hard_sigmoid_keras2: "hard_sigmoid_keras2"}
_FUSED_ALPHA = {"elu": 1.0, "leaky_relu": 0.2}


def get(identifier):
    """The activation function for a name, a function, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in ACTIVATIONS:
            raise ValueError(f"Unknown activation {identifier!r}. Valid names: "
                             f"{', '.join(sorted(ACTIVATIONS))}.")
        return ACTIVATIONS[key]
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation {identifier!r}: expected a name or a function.")


def serialize(activation):
    for name, fn in ACTIVATIONS.items():
        if fn is activation:
            return name
    return getattr(activation, "__name__", repr(activation))


def fused_kernel(activation):
    """(kernel name, alpha) when `activation` can run inside a dense op's kernel, else None."""
    name = _FUSABLE.get(activation)
    return None if name is None else (name, _FUSED_ALPHA.get(name, 0.0))
