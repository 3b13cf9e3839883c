"""Activation layers with parameters: ReLU, LeakyReLU, PReLU, ELU, Softmax, ThresholdedReLU."""

import numpy as np

from .. import activations, constraints, initializers, ops, regularizers
from ..identifiers import serialize
from .base import Layer


class _ElementwiseActivation(Layer):
    """An activation layer: shape and mask pass through unchanged."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape


def _non_negative(layer, name, value):
    if value is None or value < 0:
        raise ValueError(f"{layer.name}: {name} must be a non-negative number, got {value!r}.")
    return float(value)


class ReLU(_ElementwiseActivation):
    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else _non_negative(self, "max_value", max_value)
        self.negative_slope = _non_negative(self, "negative_slope", negative_slope)
        self.threshold = float(threshold)

    def call(self, inputs):
        return activations.relu(inputs, self.negative_slope, self.max_value, self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(_ElementwiseActivation):
    def __init__(self, negative_slope=0.3, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = _non_negative(self, "negative_slope", negative_slope)

    def call(self, inputs):
        return ops.activation(inputs, "leaky_relu", self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(_ElementwiseActivation):
    """max(x, 0) + alpha * min(x, 0) with a learned alpha per unit."""

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = ()
        else:
            axes = (shared_axes,) if np.ndim(shared_axes) == 0 else tuple(shared_axes)
            self.shared_axes = tuple(int(a) for a in axes)

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes:
            shape[axis - 1] = 1
        self.alpha = self.add_weight(tuple(shape), self.alpha_initializer, "alpha",
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)

    def call(self, inputs):
        negative_part = ops.minimum(inputs, 0.0)
        return ops.add(ops.activation(inputs, "relu"), ops.multiply(self.alpha, negative_part))

    def get_config(self):
        return {**super().get_config(), "shared_axes": list(self.shared_axes),
                "alpha_initializer": serialize(self.alpha_initializer),
                "alpha_regularizer": serialize(self.alpha_regularizer),
                "alpha_constraint": serialize(self.alpha_constraint)}


class ELU(_ElementwiseActivation):
    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        return ops.activation(inputs, "elu", self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(_ElementwiseActivation):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def call(self, inputs, mask=None):
        if mask is not None:
            # Masked positions get a large negative logit, as Keras does.
            inputs = ops.add(inputs, (1.0 - mask.astype(inputs.dtype)) * -1e9)
        return ops.softmax(inputs, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class ThresholdedReLU(_ElementwiseActivation):
    """x where x > theta, else 0."""

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.theta = _non_negative(self, "theta", theta)

    def call(self, inputs):
        return ops.activation(inputs, "thresholded_relu", self.theta)

    def get_config(self):
        return {**super().get_config(), "theta": self.theta}
