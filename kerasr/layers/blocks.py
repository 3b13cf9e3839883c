"""kerasr's building blocks beyond Keras: a residual block F(x) + x and a highway layer."""

import numpy as np

from .. import activations, constraints, initializers, ops, regularizers
from ..identifiers import serialize
from .base import InputSpec, Layer, format_shape
from .core import Dense, positive_int


def _as_initializer(value):
    """A number means a constant initializer (`transform_bias_initializer=-2`)."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return initializers.Constant(float(value))
    return initializers.get(value)


class ResidualBlock(Layer):
    """F(x) + x, with F a layer, a model or a list of layers applied in order (He et al. 2016).

    The block owns F: F's weights are the block's weights. When F(x)'s last axis differs from
    x's, x goes through a linear projection (a Dense layer without bias, made at build) before
    the sum. `projection`: None projects only when needed; True always projects; False
    never does (then the shapes must match); or a layer to use as the projection.
    """

    def __init__(self, f, projection=None, **kwargs):
        super().__init__(**kwargs)
        components = list(f) if isinstance(f, (list, tuple)) else [f]
        if not components or not all(isinstance(c, Layer) for c in components):
            raise ValueError(f"{self.name}: f must be a layer, a model or a list of layers, "
                             f"got {f!r}.")
        if any(c is self for c in components):
            raise ValueError(f"{self.name}: a residual block cannot contain itself.")
        if not (projection is None or isinstance(projection, (bool, Layer))):
            raise ValueError(f"{self.name}: projection must be None, True, False or a layer, "
                             f"got {projection!r}.")
        self.f = components
        # (not the layer itself: an attribute holding a layer is tracked as a sublayer)
        self._projection_argument = "layer" if isinstance(projection, Layer) else projection
        self.projection = projection if isinstance(projection, Layer) else None
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape):
        shape = tuple(input_shape)
        for component in self.f:
            component._maybe_build(shape)
            shape = tuple(component.compute_output_shape(shape))
        if len(shape) != len(input_shape) or any(
                a is not None and b is not None and a != b
                for a, b in zip(shape[1:-1], input_shape[1:-1])):
            raise ValueError(f"{self.name}: F maps inputs of shape {format_shape(input_shape)} to "
                             f"{format_shape(shape)}; a residual block needs F(x) to keep every "
                             f"axis but the last.")
        needed = shape[-1] != input_shape[-1]
        choice = self._projection_argument
        if choice is False and needed:
            raise ValueError(f"{self.name}: F(x) has {shape[-1]} features and x has "
                             f"{input_shape[-1]}; allow a projection (projection=None) or make "
                             f"them equal.")
        if choice is True or (choice is None and needed):
            if shape[-1] is None:
                raise ValueError(f"{self.name} needs the size of F(x)'s last axis to project x, "
                                 f"got {format_shape(shape)}.")
            self.projection = Dense(shape[-1], use_bias=False, name=f"{self.name}_projection",
                                    dtype=self.dtype)
        if self.projection is not None:
            self.projection._maybe_build(tuple(input_shape))
        self._output_shape = (None,) + shape[1:]

    def call(self, inputs, training=None):
        outputs = inputs
        for component in self.f:
            outputs = component(outputs, training=training)
        shortcut = inputs if self.projection is None else self.projection(inputs, training=training)
        return ops.add(outputs, shortcut)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for component in self.f:
            shape = tuple(component.compute_output_shape(shape))
        return (input_shape[0],) + shape[1:]

    def get_config(self):
        from ..saving.serialization import serialize_layer
        return {**super().get_config(), "f": [serialize_layer(c) for c in self.f],
                "projection": self._projection_argument if self._projection_argument != "layer"
                else serialize_layer(self.projection)}

    @classmethod
    def from_config(cls, config_, custom_objects=None):
        from ..saving.serialization import deserialize_layer
        config_ = dict(config_)
        f = config_.pop("f")
        f = [deserialize_layer(c, custom_objects) for c in (f if isinstance(f, list) else [f])]
        projection = config_.pop("projection", None)
        if isinstance(projection, dict):
            projection = deserialize_layer(projection, custom_objects)
        return cls(f, projection=projection, **config_)


class Highway(Layer):
    """A highway layer (Srivastava et al. 2015): y = H(x) * T(x) + x * (1 - T(x)), with
    H(x) = activation(x W_H + b_H), the transform gate T(x) = sigmoid(x W_T + b_T) and the
    carry gate C = 1 - T. `units` must equal the input's last dimension (the default).
    The transform bias starts at -2, so the layer first mostly carries its input.
    Weights: kernel, bias (of H), transform_kernel, transform_bias.
    """

    def __init__(self, units=None, activation="relu", transform_bias_initializer=-2.0,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.units = None if units is None else positive_int(self, "units", units)
        self.activation = activations.get(activation)
        self.transform_bias_initializer = _as_initializer(transform_bias_initializer)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim is None:
            raise ValueError(f"{self.name} needs the size of the last input axis, got input shape "
                             f"{format_shape(input_shape)}.")
        if self.units is not None and self.units != dim:
            raise ValueError(f"{self.name}: units ({self.units}) must equal the input's last "
                             f"dimension ({dim}), as y = H(x) T(x) + x (1 - T(x)) adds x; leave "
                             f"units unset or put a Dense layer first.")
        self.units = dim
        self.kernel = self.add_weight((dim, dim), self.kernel_initializer, "kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight((dim,), self.bias_initializer, "bias",
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint)
        self.transform_kernel = self.add_weight((dim, dim), self.kernel_initializer,
                                                "transform_kernel",
                                                regularizer=self.kernel_regularizer,
                                                constraint=self.kernel_constraint)
        self.transform_bias = self.add_weight((dim,), self.transform_bias_initializer,
                                              "transform_bias",
                                              regularizer=self.bias_regularizer,
                                              constraint=self.bias_constraint)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: dim})

    def call(self, inputs):
        fused = activations.fused_kernel(self.activation)
        if fused is not None:
            h = ops.dense(inputs, self.kernel, self.bias, *fused)
        else:
            h = self.activation(ops.dense(inputs, self.kernel, self.bias))
        t = ops.dense(inputs, self.transform_kernel, self.transform_bias, "sigmoid")
        # H T + x (1 - T) = x + T (H - x)
        return ops.add(inputs, ops.multiply(t, ops.subtract(h, inputs)))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation),
                "transform_bias_initializer": serialize(self.transform_bias_initializer),
                "kernel_initializer": serialize(self.kernel_initializer),
                "bias_initializer": serialize(self.bias_initializer),
                "kernel_regularizer": serialize(self.kernel_regularizer),
                "bias_regularizer": serialize(self.bias_regularizer),
                "activity_regularizer": serialize(self.activity_regularizer),
                "kernel_constraint": serialize(self.kernel_constraint),
                "bias_constraint": serialize(self.bias_constraint)}
