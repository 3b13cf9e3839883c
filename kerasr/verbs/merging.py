"""R keras's merge verbs: `layer_add(inputs, ...)`, `layer_concatenate(inputs, axis, ...)`, ...

As in R keras, `inputs` (a list of tensors) comes first. Given, the verb returns the merged
tensor; omitted, it returns the layer, to call later on a list (`[a, b] | layer_add()`).
"""

from .. import layers
from ..models.functional import Model
from .pipe import make_layer, is_layer_target

__all__ = [
    "layer_add",
    "layer_subtract",
    "layer_multiply",
    "layer_average",
    "layer_maximum",
    "layer_minimum",
    "layer_concatenate",
    "layer_dot",
]


def _merge(layer_class, arguments):
    arguments = dict(arguments)
    inputs = arguments.pop("inputs")
    verb = f"layer_{layer_class.__name__.lower()}"
    if isinstance(inputs, Model):
        raise TypeError(f"{verb}() joins tensors, not a model: give it a list of tensors, e.g. "
                        f"{verb}([a, b]), and build the model with keras_model(inputs, outputs).")
    if inputs is not None and not is_layer_target(inputs):
        raise TypeError(f"{verb}(): inputs must be a list of tensors or arrays, e.g. "
                        f"{verb}([a, b]), got {inputs!r}.")
    return make_layer(layer_class, {"object": inputs, **arguments})


def layer_add(inputs=None, input_shape=None, batch_input_shape=None, batch_size=None, dtype=None,
              name=None, trainable=None, weights=None):
    """Sum of a list of tensors (elementwise, with broadcasting of size-1 axes)."""
    return _merge(layers.Add, locals())


def layer_subtract(inputs=None, input_shape=None, batch_input_shape=None, batch_size=None,
                   dtype=None, name=None, trainable=None, weights=None):
    """inputs[0] - inputs[1], for a list of exactly two tensors."""
    return _merge(layers.Subtract, locals())


def layer_multiply(inputs=None, input_shape=None, batch_input_shape=None, batch_size=None,
                   dtype=None, name=None, trainable=None, weights=None):
    """Elementwise product of a list of tensors."""
    return _merge(layers.Multiply, locals())


def layer_average(inputs=None, input_shape=None, batch_input_shape=None, batch_size=None,
                  dtype=None, name=None, trainable=None, weights=None):
    """Elementwise mean of a list of tensors."""
    return _merge(layers.Average, locals())


def layer_maximum(inputs=None, input_shape=None, batch_input_shape=None, batch_size=None,
                  dtype=None, name=None, trainable=None, weights=None):
    """Elementwise maximum of a list of tensors."""
    return _merge(layers.Maximum, locals())


def layer_minimum(inputs=None, input_shape=None, batch_input_shape=None, batch_size=None,
                  dtype=None, name=None, trainable=None, weights=None):
    """Elementwise minimum of a list of tensors."""
    return _merge(layers.Minimum, locals())


def layer_concatenate(inputs=None, axis=-1, input_shape=None, batch_input_shape=None,
                      batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Joins a list of tensors along `axis` (counted as in Keras: -1 is the last axis)."""
    return _merge(layers.Concatenate, locals())


def layer_dot(inputs=None, axes=None, normalize=False, input_shape=None, batch_input_shape=None,
              batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Per-sample dot products of two tensors along `axes` (an axis, or one per input);
    `normalize=True` gives the cosine similarity."""
    return _merge(layers.Dot, locals())
