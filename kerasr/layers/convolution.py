"""Convolution layers, Keras 3 style: `BaseConv` and `BaseConvTranspose` take the spatial
rank; Conv1D/2D/3D and Conv1DTranspose/2D/3D are thin subclasses.

Weights have Keras's layouts, so get_weights/set_weights trade with Keras unchanged: a
convolution's kernel is (k..., input channels / groups, filters), a transposed one's
(k..., filters, input channels), and the bias (filters,). Sizes may be given as one
integer for every axis (R's `kernel_size = 3`), as Keras accepts."""

from .. import activations, constraints, initializers, regularizers
from ..identifiers import serialize
from ..ops import convolution as conv_ops
from .base import InputSpec, Layer, format_shape
from .core import positive_int
from .arguments import check_strides_dilation, normalize_data_format, normalize_padding, normalize_tuple

_AXIS_NAMES = {1: ("steps",), 2: ("rows", "cols"), 3: ("dim1", "dim2", "dim3")}


class _ConvCommon(Layer):
    """What convolutions and transposed convolutions share: argument checks, the bias and
    activation, the input checks and the layout of the data."""

    runs_on_numba_threads = True

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, allow_causal=False, **kwargs):
        super().__init__(**kwargs)
        if rank not in (1, 2, 3):
            raise ValueError(f"{self.name}: rank must be 1, 2 or 3, got {rank!r}.")
        self.rank = rank
        self.filters = positive_int(self, "filters", filters)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", self)
        self.strides = normalize_tuple(strides, rank, "strides", self)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", self)
        self.padding = normalize_padding(
            padding, self, ("valid", "same", "causal") if allow_causal else ("valid", "same"))
        self.data_format = normalize_data_format(data_format, self)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        check_strides_dilation(self)
        self.input_spec = InputSpec(ndim=rank + 2)

    # ---- layout ----------------------------------------------------------------------------
    def _channel_axis(self):
        return 1 if self.data_format == "channels_first" else -1

    def _spatial(self, shape):
        return tuple(shape[2:]) if self.data_format == "channels_first" else tuple(shape[1:-1])

    def _with_spatial(self, shape, spatial, channels):
        if self.data_format == "channels_first":
            return (shape[0], channels) + tuple(spatial)
        return (shape[0],) + tuple(spatial) + (channels,)

    def _layout(self):
        names = _AXIS_NAMES[self.rank]
        axes = (names + ("channels",) if self.data_format == "channels_last"
                else ("channels",) + names)
        return "(None, " + ", ".join(axes) + ")"

    def _check_rank(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{self.name} expects input of shape {self._layout()} (rank "
                             f"{self.rank + 2}), got {format_shape(input_shape)}.")

    def _input_channels(self, input_shape):
        self._check_rank(input_shape)
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(f"{self.name} needs the number of input channels, got input shape "
                             f"{format_shape(input_shape)}.")
        return channels

    def _make_bias(self):
        self.bias = self.add_weight((self.filters,), self.bias_initializer, "bias",
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None

    def _call_op(self, op, inputs, **arguments):
        fused = activations.fused_kernel(self.activation)
        if fused is not None:
            return op(inputs, self.kernel, self.bias, activation=fused[0], alpha=fused[1],
                      data_format=self.data_format, **arguments)
        return self.activation(op(inputs, self.kernel, self.bias, data_format=self.data_format,
                                  **arguments))

    def get_config(self):
        config_ = {**super().get_config(), "filters": self.filters,
                   "kernel_size": self.kernel_size, "strides": self.strides,
                   "padding": self.padding, "data_format": self.data_format,
                   "dilation_rate": self.dilation_rate}
        if type(self) in (BaseConv, BaseConvTranspose):
            config_["rank"] = self.rank
        return {**config_,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": serialize(self.kernel_initializer),
                "bias_initializer": serialize(self.bias_initializer),
                "kernel_regularizer": serialize(self.kernel_regularizer),
                "bias_regularizer": serialize(self.bias_regularizer),
                "activity_regularizer": serialize(self.activity_regularizer),
                "kernel_constraint": serialize(self.kernel_constraint),
                "bias_constraint": serialize(self.bias_constraint)}


class BaseConv(_ConvCommon):
    """activation(convolution(inputs, kernel) + bias) over `rank` spatial axes.

    The kernel has shape kernel_size + (input channels / groups, filters); with `groups`
    > 1 the channels and filters split into that many independent convolutions.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         allow_causal=rank == 1, **kwargs)
        self.groups = positive_int(self, "groups", groups)
        if self.filters % self.groups:
            raise ValueError(f"{self.name}: filters ({self.filters}) must be divisible by groups "
                             f"({self.groups}).")

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(f"{self.name}: the input's {channels} channels must be divisible by "
                             f"groups ({self.groups}); got input of shape "
                             f"{format_shape(input_shape)}.")
        self.compute_output_shape(input_shape)  # a window larger than the input fails here
        self.kernel = self.add_weight(self.kernel_size + (channels // self.groups, self.filters),
                                      self.kernel_initializer, "kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self._make_bias()
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis(): channels})

    def _output_spatial(self, input_shape):
        self._check_rank(input_shape)
        spatial = self._spatial(input_shape)
        try:
            sizes, _ = conv_ops.conv_geometry(spatial, self.kernel_size, self.strides,
                                              self.padding, self.dilation_rate)
        except ValueError:
            raise ValueError(f"{self.name}: the kernel (kernel_size {self.kernel_size}, "
                             f"dilation_rate {self.dilation_rate}) is larger than the "
                             f"{'padded ' if self.padding != 'valid' else ''}input: spatial "
                             f"shape {format_shape(spatial)} with padding {self.padding!r}; got "
                             f"input of shape {format_shape(input_shape)}.") from None
        return sizes

    def compute_output_shape(self, input_shape):
        return self._with_spatial(input_shape, self._output_spatial(input_shape), self.filters)

    def call(self, inputs):
        self._output_spatial(inputs.shape)
        return self._call_op(conv_ops.conv, inputs, strides=self.strides, padding=self.padding,
                             dilation_rate=self.dilation_rate, groups=self.groups)

    def get_config(self):
        config_ = super().get_config()
        config_["groups"] = self.groups
        return config_


class Conv1D(BaseConv):
    """1D convolution over (batch, steps, channels); `padding="causal"` pads only the start,
    so output step t never sees input steps after t."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


class Conv2D(BaseConv):
    """2D convolution over (batch, rows, cols, channels)."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


class Conv3D(BaseConv):
    """3D convolution over (batch, dim1, dim2, dim3, channels)."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1, 1), groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


class BaseConvTranspose(_ConvCommon):
    """Transposed convolution over `rank` spatial axes: the gradient of a convolution with
    respect to its input, as a layer (upsampling when strides > 1).

    The kernel has shape kernel_size + (filters, input channels). Output sizes follow
    Keras: (n - 1) * stride + max(span, stride) for "valid", n * stride for "same", and
    with `output_padding` (each < its stride) the sizes Keras gives for it.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 output_padding=None, data_format=None, dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         **kwargs)
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = normalize_tuple(output_padding, rank, "output_padding", self,
                                                  allow_zero=True)
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise ValueError(f"{self.name}: output_padding must be smaller than strides, "
                                 f"got output_padding={self.output_padding} and "
                                 f"strides={self.strides}.")

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.kernel = self.add_weight(self.kernel_size + (self.filters, channels),
                                      self.kernel_initializer, "kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self._make_bias()
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis(): channels})

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        sizes, _ = conv_ops.conv_transpose_geometry(self._spatial(input_shape), self.kernel_size,
                                                    self.strides, self.padding,
                                                    self.output_padding, self.dilation_rate)
        return self._with_spatial(input_shape, sizes, self.filters)

    def call(self, inputs):
        return self._call_op(conv_ops.conv_transpose, inputs, strides=self.strides,
                             padding=self.padding, output_padding=self.output_padding,
                             dilation_rate=self.dilation_rate)

    def get_config(self):
        config_ = super().get_config()
        config_["output_padding"] = self.output_padding
        return config_


class Conv1DTranspose(BaseConvTranspose):
    """Transposed 1D convolution over (batch, steps, channels)."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv2DTranspose(BaseConvTranspose):
    """Transposed 2D convolution over (batch, rows, cols, channels)."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv3DTranspose(BaseConvTranspose):
    """Transposed 3D convolution over (batch, dim1, dim2, dim3, channels)."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1, 1),
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)
