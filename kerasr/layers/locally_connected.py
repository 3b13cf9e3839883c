"""Locally connected layers (Keras 2, kept by R keras): LocallyConnected1D, LocallyConnected2D.

Like a convolution with "valid" padding, but every output position has its own filters. The
weights use Keras 2's layout for `implementation = 1`: kernel (output positions,
prod(kernel_size) * channels, filters), bias (*output_spatial, filters).
"""

import numpy as np

from .. import activations, constraints, initializers, regularizers
from ..identifiers import serialize
from ..ops.locally_connected import locally_connected
from .base import InputSpec, Layer, format_shape
from .core import positive_int
from .arguments import (channel_axis, normalize_data_format, normalize_padding, normalize_tuple,
                        spatial_axes)
from .depthwise import conv_output_shape, fused_call, known_channels


class BaseLocallyConnected(Layer):
    """N-D locally connected layer: unshared weights per output position."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 implementation=1, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.filters = positive_int(self, "filters", filters)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", self)
        self.strides = normalize_tuple(strides, rank, "strides", self)
        # Keras 2 allows "same" only with implementations 2 and 3, whose weights have other
        # layouts; kerasr keeps implementation 1's layout, so "valid" only.
        self.padding = normalize_padding(padding, self, allowed=("valid",))
        self.data_format = normalize_data_format(data_format, self)
        if implementation not in (1, 2, 3) or isinstance(implementation, bool):
            raise ValueError(f"{self.name}: implementation must be 1, 2 or 3, got "
                             f"{implementation!r}.")
        self.implementation = int(implementation)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=rank + 2)

    def build(self, input_shape):
        channels = known_channels(self, input_shape)
        axes = spatial_axes(self.data_format, self.rank)
        if any(input_shape[a] is None for a in axes):
            raise ValueError(f"{self.name} needs fully known spatial dimensions (its weights "
                             f"depend on them), got input shape {format_shape(input_shape)}.")
        output_shape = self.compute_output_shape(input_shape)
        out_spatial = tuple(output_shape[a] for a in axes)
        n_pos = int(np.prod(out_spatial))
        self.kernel = self.add_weight(
            (n_pos, int(np.prod(self.kernel_size)) * channels, self.filters),
            self.kernel_initializer, "kernel", regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.bias = self.add_weight(out_spatial + (self.filters,), self.bias_initializer, "bias",
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        spec_axes = {a: int(input_shape[a]) for a in axes}
        spec_axes[channel_axis(self.data_format)] = channels
        self.input_spec = InputSpec(ndim=self.rank + 2, axes=spec_axes)

    def call(self, inputs):
        return fused_call(locally_connected, self.activation, inputs, self.kernel, self.bias,
                          kernel_size=self.kernel_size, strides=self.strides,
                          data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self, input_shape, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": serialize(self.kernel_initializer),
                "bias_initializer": serialize(self.bias_initializer),
                "kernel_regularizer": serialize(self.kernel_regularizer),
                "bias_regularizer": serialize(self.bias_regularizer),
                "activity_regularizer": serialize(self.activity_regularizer),
                "kernel_constraint": serialize(self.kernel_constraint),
                "bias_constraint": serialize(self.bias_constraint),
                "implementation": self.implementation}


class LocallyConnected1D(BaseLocallyConnected):
    """Locally connected layer for (batch, steps, channels) inputs."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 implementation=1, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint,
                         bias_constraint, implementation, **kwargs)


class LocallyConnected2D(BaseLocallyConnected):
    """Locally connected layer for (batch, rows, cols, channels) inputs."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 implementation=1, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint,
                         bias_constraint, implementation, **kwargs)
