"""Depthwise and separable convolution layers (Keras 3): DepthwiseConv1D, DepthwiseConv2D,
SeparableConv1D, SeparableConv2D, and the shape helpers they share with the locally
connected layers (`conv_output_shape`, `known_channels`, `fused_call`).

One base class per family takes the rank; the 1D and 2D layers are thin subclasses.
"""


from .. import activations, constraints, initializers, ops, regularizers
from ..identifiers import serialize
from ..ops.depthwise import conv_output_length, depthwise_conv
from .arguments import (channel_axis, check_strides_dilation, normalize_data_format,  # noqa: F401
                        normalize_padding, normalize_tuple, spatial_axes)
from .base import InputSpec, Layer, format_shape
from .core import positive_int


# ---- shape helpers shared with the locally connected layers ----------------------------

def conv_output_shape(layer, input_shape, channels_out):
    """Keras's output shape of a convolution-like layer; a ValueError naming the layer when the
    (dilated) kernel does not fit in the (padded) input."""
    spatial = [input_shape[a] for a in spatial_axes(layer.data_format, layer.rank)]
    dilation = getattr(layer, "dilation_rate", (1,) * layer.rank)
    out = [conv_output_length(n, k, s, d, layer.padding)
           for n, k, s, d in zip(spatial, layer.kernel_size, layer.strides, dilation)]
    if any(o is not None and o < 1 for o in out):
        span = tuple((k - 1) * d + 1 for k, d in zip(layer.kernel_size, dilation))
        raise ValueError(f"{layer.name}: the kernel (spanning {format_shape(span)}) is larger "
                         f"than the input of shape {format_shape(input_shape)} with "
                         f'padding="{layer.padding}".')
    if layer.data_format == "channels_first":
        return (input_shape[0], channels_out) + tuple(out)
    return (input_shape[0],) + tuple(out) + (channels_out,)


def known_channels(layer, input_shape):
    if len(input_shape) != layer.rank + 2:
        raise ValueError(f"{layer.name} expects input of rank {layer.rank + 2} (batch, "
                         f"{layer.rank} spatial axes and channels), got "
                         f"{format_shape(input_shape)}.")
    channels = input_shape[channel_axis(layer.data_format)]
    if channels is None:
        raise ValueError(f"{layer.name} needs the number of input channels, got input shape "
                         f"{format_shape(input_shape)}.")
    return int(channels)


def fused_call(op, activation, *args, **kwargs):
    """Runs `op` with the activation fused into its kernel when it can, else after it."""
    fused = activations.fused_kernel(activation)
    if fused is not None:
        name, alpha = fused
        return op(*args, activation=name, alpha=alpha, **kwargs)
    return activation(op(*args, **kwargs))


# ---- depthwise ---------------------------------------------------------------------------
class _DepthwiseCommon(Layer):
    """What depthwise and separable convolutions share: the depthwise step's arguments."""

    runs_on_numba_threads = True

    def __init__(self, rank, depth_multiplier, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.depth_multiplier = positive_int(self, "depth_multiplier", depth_multiplier)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", self)
        self.strides = normalize_tuple(strides, rank, "strides", self)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", self)
        self.padding = normalize_padding(padding, self)
        self.data_format = normalize_data_format(data_format, self)
        check_strides_dilation(self)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=rank + 2)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "depth_multiplier": self.depth_multiplier, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "depthwise_initializer": serialize(self.depthwise_initializer),
                "bias_initializer": serialize(self.bias_initializer),
                "depthwise_regularizer": serialize(self.depthwise_regularizer),
                "bias_regularizer": serialize(self.bias_regularizer),
                "activity_regularizer": serialize(self.activity_regularizer),
                "depthwise_constraint": serialize(self.depthwise_constraint),
                "bias_constraint": serialize(self.bias_constraint)}


class BaseDepthwiseConv(_DepthwiseCommon):
    """N-D depthwise convolution: each input channel convolved with its own
    `depth_multiplier` filters; output channel c * depth_multiplier + m. The kernel has
    shape (*kernel_size, channels, depth_multiplier), the bias (channels * depth_multiplier,)."""

    def build(self, input_shape):
        channels = known_channels(self, input_shape)
        self.kernel = self.add_weight(self.kernel_size + (channels, self.depth_multiplier),
                                      self.depthwise_initializer, "kernel",
                                      regularizer=self.depthwise_regularizer,
                                      constraint=self.depthwise_constraint)
        self.bias = self.add_weight((channels * self.depth_multiplier,), self.bias_initializer,
                                    "bias", regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.input_spec = InputSpec(ndim=self.rank + 2,
                                    axes={channel_axis(self.data_format): channels})

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)  # the kernel must fit in the input
        return fused_call(depthwise_conv, self.activation, inputs, self.kernel, self.bias,
                          strides=self.strides, padding=self.padding,
                          dilation_rate=self.dilation_rate, data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        channels = input_shape[channel_axis(self.data_format)]
        return conv_output_shape(self, input_shape,
                                 None if channels is None else channels * self.depth_multiplier)



class DepthwiseConv1D(BaseDepthwiseConv):
    """1D depthwise convolution of (batch, steps, channels) inputs."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, depth_multiplier, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


class DepthwiseConv2D(BaseDepthwiseConv):
    """2D depthwise convolution of (batch, rows, cols, channels) inputs."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, depth_multiplier, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


# ---- separable ---------------------------------------------------------------------------
class BaseSeparableConv(_DepthwiseCommon):
    """N-D separable convolution: a depthwise convolution (kernel (*kernel_size, channels,
    depth_multiplier)) then a pointwise projection of its channels (kernel (1, ..., 1,
    channels * depth_multiplier, filters)), the bias (filters,) and the activation."""

    def __init__(self, rank, depth_multiplier, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, depth_multiplier, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
        self.filters = positive_int(self, "filters", filters)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        channels = known_channels(self, input_shape)
        inner = channels * self.depth_multiplier
        self.depthwise_kernel = self.add_weight(
            self.kernel_size + (channels, self.depth_multiplier), self.depthwise_initializer,
            "depthwise_kernel", regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            (1,) * self.rank + (inner, self.filters), self.pointwise_initializer,
            "pointwise_kernel", regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self.bias = self.add_weight((self.filters,), self.bias_initializer, "bias",
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.input_spec = InputSpec(ndim=self.rank + 2,
                                    axes={channel_axis(self.data_format): channels})

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)
        first = self.data_format == "channels_first"
        x = ops.transpose(inputs, (0,) + tuple(range(2, inputs.ndim)) + (1,)) if first else inputs
        depthwise = depthwise_conv(x, self.depthwise_kernel, strides=self.strides,
                                   padding=self.padding, dilation_rate=self.dilation_rate)
        # The pointwise step is a dense layer over the channel axis (channels-last).
        pointwise = ops.reshape(self.pointwise_kernel, self.pointwise_kernel.shape[-2:])
        out = fused_call(ops.dense, self.activation, depthwise, pointwise, self.bias)
        if first:
            return ops.transpose(out, (0, out.ndim - 1) + tuple(range(1, out.ndim - 1)))
        return out

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self, input_shape, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "pointwise_initializer": serialize(self.pointwise_initializer),
                "pointwise_regularizer": serialize(self.pointwise_regularizer),
                "pointwise_constraint": serialize(self.pointwise_constraint)}


class SeparableConv1D(BaseSeparableConv):
    """1D separable convolution of (batch, steps, channels) inputs."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, depth_multiplier, filters, kernel_size, strides, padding,
                         data_format, dilation_rate, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)


class SeparableConv2D(BaseSeparableConv):
    """2D separable convolution of (batch, rows, cols, channels) inputs."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, depth_multiplier, filters, kernel_size, strides, padding,
                         data_format, dilation_rate, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)
