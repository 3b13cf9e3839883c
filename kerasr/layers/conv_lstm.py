"""ConvLSTM2D (Keras 3): an LSTM whose input and recurrent transformations are convolutions,
over sequences of images (batch, time, rows, cols, channels) or, with
data_format="channels_first", (batch, time, channels, rows, cols).

Weights in Keras's layouts, gates i, f, c, o in the last axis's blocks: kernel
(kh, kw, channels, 4 * filters), recurrent_kernel (kh, kw, filters, 4 * filters), bias
(4 * filters,). The input convolution takes strides, dilation_rate and padding; the recurrent
one is "same" padded with stride 1, so the states keep the input convolution's output size.

The sequence runs as one fused op (`ops.conv_lstm.conv_lstm2d_sequence`). What the recurrent
layers share (initial_state passed with the inputs, masks, stateful states, return_state,
compute_mask, argument checks) comes from `Recurrent`; the state and step shapes are images
here, so building, the input checks and `call` are this class's own. Dropout follows Keras 3's
ConvLSTM cell: four input masks and four recurrent masks (one per gate), fixed over time.
"""

from ..ops import convolution as conv_ops
from ..ops.conv_lstm import conv_lstm2d_sequence
from .arguments import (check_strides_dilation, normalize_data_format, normalize_padding,
                        normalize_tuple)
from .base import InputSpec, format_shape
from .core import positive_int
from .recurrent import (Recurrent, _dropout_mask, _fused_activation_name,
                        unit_forget_bias_initializer)


class ConvLSTM2D(Recurrent):
    """2D convolutional LSTM (Shi et al., 2015, without the peephole connections), Keras 3's
    arguments and defaults."""

    gate_count = 4
    state_count = 2
    state_names = ("h", "c")
    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        # units=1 stands in until filters is checked under its own name, just below
        super().__init__(1, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout,
                         recurrent_dropout=recurrent_dropout, seed=seed,
                         return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, **kwargs)
        self.units = self.filters = positive_int(self, "filters", filters)
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size", self)
        self.strides = normalize_tuple(strides, 2, "strides", self)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate", self)
        self.padding = normalize_padding(padding, self)
        self.data_format = normalize_data_format(data_format, self)
        check_strides_dilation(self)
        self.recurrent_activation = _fused_activation_name(self, "recurrent_activation",
                                                           recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.input_spec = InputSpec(ndim=5)

    # ---- shapes ----------------------------------------------------------------------------
    def _layout(self):
        return ("(batch, time, rows, cols, channels)" if self.data_format == "channels_last"
                else "(batch, time, channels, rows, cols)")

    def _rank_message(self, shape):
        return (f"{self.name} expects a 5D input {self._layout()}, got shape "
                f"{format_shape(shape)}.")

    def _expected_shape(self):
        # Any number of time steps, whatever the length the layer was built with.
        frame = [None, None, None]
        for axis, size in self.input_spec.axes.items():
            frame[axis - 2] = size
        return format_shape((None, None) + tuple(frame))

    def _check_input(self, shape):
        if isinstance(shape, tuple) and len(shape) != 5:
            raise ValueError(self._rank_message(shape))
        super(Recurrent, self)._check_input(shape)

    def _step_spatial(self, sequence_shape):
        """(rows, cols) of one input step."""
        return (tuple(sequence_shape[3:5]) if self.data_format == "channels_first"
                else tuple(sequence_shape[2:4]))

    def _state_spatial(self, sequence_shape):
        spatial = self._step_spatial(sequence_shape)
        try:
            sizes, _ = conv_ops.conv_geometry(spatial, self.kernel_size, self.strides,
                                              self.padding, self.dilation_rate)
        except ValueError:
            raise ValueError(f"{self.name}: the kernel (kernel_size {self.kernel_size}, "
                             f"dilation_rate {self.dilation_rate}) is larger than the input "
                             f"frames {format_shape(spatial)} with padding {self.padding!r}; got "
                             f"input of shape {format_shape(sequence_shape)}.") from None
        return sizes

    def _state_shape_for(self, batch, sequence_shape):
        rows, cols = self._state_spatial(sequence_shape)
        if self.data_format == "channels_first":
            return (batch, self.filters, rows, cols)
        return (batch, rows, cols, self.filters)

    def compute_output_shape(self, input_shape):
        sequence_shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        if len(sequence_shape) != 5:
            raise ValueError(self._rank_message(sequence_shape))
        batch, steps = sequence_shape[0], sequence_shape[1]
        state = self._state_shape_for(batch, sequence_shape)
        output = (batch, steps) + state[1:] if self.return_sequences else state
        if self.return_state:
            return [output, state, state]
        return output

    # ---- building --------------------------------------------------------------------------
    def build(self, input_shape):
        sequence_shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        if len(sequence_shape) != 5:
            raise ValueError(self._rank_message(sequence_shape))
        channels = sequence_shape[2 if self.data_format == "channels_first" else -1]
        if channels is None:
            raise ValueError(f"{self.name} needs the number of input channels, got input shape "
                             f"{format_shape(sequence_shape)}.")
        if None in self._step_spatial(sequence_shape):
            raise ValueError(f"{self.name} needs fixed frame sizes (rows, cols), as Keras's "
                             f"ConvLSTM layers; got input shape {format_shape(sequence_shape)}.")
        self._state_spatial(sequence_shape)  # a kernel larger than the frames fails here
        if self.stateful and sequence_shape[0] is None:
            raise ValueError(
                f"{self.name} is stateful, so it needs a fixed batch size: give the first layer "
                f"batch_input_shape=(batch, time, ...) (or batch_size=), got input shape "
                f"{format_shape(sequence_shape)}.")
        width = 4 * self.filters
        self.kernel = self.add_weight(self.kernel_size + (channels, width),
                                      self.kernel_initializer, "kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(self.kernel_size + (self.filters, width),
                                                self.recurrent_initializer, "recurrent_kernel",
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = self.add_weight((width,), self._bias_initializer(), "bias",
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        first = self.data_format == "channels_first"
        rows, cols = self._step_spatial(sequence_shape)
        axes = {2 if first else 4: channels, 3 if first else 2: rows, 4 if first else 3: cols}
        self.input_spec = InputSpec(ndim=5, axes=axes)
        self._frame_shape = sequence_shape[2:]
        if self.stateful:
            self._batch_size = sequence_shape[0]
            self.states = self._zero_states()

    def _bias_initializer(self):
        return unit_forget_bias_initializer(self)  # units == filters here

    # ---- states and the sequence ---------------------------------------------------------
    def _state_shape(self, batch):
        return self._state_shape_for(batch, (batch, None) + tuple(self._frame_shape))

    def _run_sequence(self, sequence, states, training, **options):
        # Keras 3's ConvLSTM cell draws one mask per gate, for the inputs and for the states.
        batch = sequence.shape[0]
        dropout_mask = recurrent_mask = None
        if training and self.dropout > 0.0:
            dropout_mask = _dropout_mask((4, batch) + tuple(sequence.shape[2:]), self.dropout,
                                         sequence.dtype)
        if training and self.recurrent_dropout > 0.0:
            recurrent_mask = _dropout_mask((4,) + self._state_shape(batch),
                                           self.recurrent_dropout, sequence.dtype)
        return conv_lstm2d_sequence(
            sequence, states, self.kernel, self.recurrent_kernel, self.bias,
            strides=self.strides, padding=self.padding, dilation_rate=self.dilation_rate,
            data_format=self.data_format, dropout_mask=dropout_mask,
            recurrent_dropout_mask=recurrent_mask, activation=self.activation,
            recurrent_activation=self.recurrent_activation, **options)

    def get_config(self):
        config_ = super().get_config()
        del config_["units"]
        return {**config_, "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "recurrent_activation": self.recurrent_activation,
                "unit_forget_bias": self.unit_forget_bias}
