"""Recurrent layers: SimpleRNN, LSTM and GRU, each running a whole sequence as one fused op.

`Recurrent` holds what the three share (sequence checks, masks, dropout masks fixed over time,
initial and stateful states, return_sequences/return_state, go_backwards); a subclass says how
many gate blocks its kernels have, makes its weights and names the op that runs the sequence.
"""

import numpy as np

from .. import activations, constraints, initializers, random, regularizers
from ..engine.tensor import Tensor
from ..identifiers import serialize
from .. import ops
from ..ops.gru import gru_sequence
from ..ops.lstm import lstm_sequence
from ..ops.simple_rnn import simple_rnn_sequence
from .base import InputSpec, Layer, format_shape
from .core import positive_int, rate_in_unit_interval, seed_argument

# Activations the fused sequence kernels evaluate inside their time loop.
FUSED_ACTIVATIONS = ("tanh", "sigmoid", "hard_sigmoid", "relu", "linear", "hard_sigmoid_keras2")


def _fused_activation_name(layer, argument, value):
    function = activations.get(value)
    name = activations.serialize(function)
    if name not in FUSED_ACTIVATIONS:
        raise ValueError(f"{layer.name}: {argument} must be one of {', '.join(FUSED_ACTIVATIONS)} "
                         f"(the activations the fused sequence kernels run), got {value!r}.")
    return name


class Recurrent(Layer):
    """Base of the fused recurrent layers; subclasses set `gate_count` and `state_count`."""

    runs_on_numba_threads = True
    gate_count = 1
    state_count = 1
    state_names = ("h",)

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.units = positive_int(self, "units", units)
        self.activation = _fused_activation_name(self, "activation", activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = rate_in_unit_interval(self, "dropout", dropout)
        self.recurrent_dropout = rate_in_unit_interval(self, "recurrent_dropout", recurrent_dropout)
        # Like the other random layers, draws come from the generator set_random_seed() seeds.
        self.seed = seed_argument(self, seed)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # accepted for Keras's signature: the fused loop never unrolls
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.states = None
        self.input_spec = InputSpec(ndim=3)

    # ---- building --------------------------------------------------------------------------
    def build(self, input_shape):
        sequence_shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        if len(sequence_shape) != 3:
            raise ValueError(self._rank_message(sequence_shape))
        features = sequence_shape[-1]
        if features is None:
            raise ValueError(f"{self.name} needs the number of input features (the last axis), got "
                             f"input shape {format_shape(sequence_shape)}.")
        if self.stateful and sequence_shape[0] is None:
            raise ValueError(
                f"{self.name} is stateful, so it needs a fixed batch size: give the first layer "
                f"batch_input_shape=(batch, timesteps, features) (or batch_size=), got input shape "
                f"{format_shape(sequence_shape)}.")
        width = self.gate_count * self.units
        self.kernel = self.add_weight((features, width), self.kernel_initializer, "kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight((self.units, width), self.recurrent_initializer,
                                                "recurrent_kernel",
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = self.add_weight(self._bias_shape(), self._bias_initializer(), "bias",
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.input_spec = InputSpec(ndim=3, axes={-1: features})
        if self.stateful:
            self._batch_size = sequence_shape[0]
            self.states = self._zero_states()

    def _bias_shape(self):
        return (self.gate_count * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    # ---- input checks ----------------------------------------------------------------------
    def _rank_message(self, shape):
        return (f"{self.name} expects a 3D input (batch, timesteps, features), got shape "
                f"{format_shape(shape)}.")

    def _expected_shape(self):
        # Any number of time steps is fine, whatever the length the layer was built with.
        return format_shape((None, None, self.input_spec.axes.get(-1)))

    def _check_input(self, shape):
        if isinstance(shape, tuple) and len(shape) != 3:
            raise ValueError(self._rank_message(shape))
        super()._check_input(shape)

    def __call__(self, inputs, *args, initial_state=None, **kwargs):
        # Initial states travel with the inputs, so a graph model sees them as inputs too.
        if initial_state is not None:
            states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
            inputs = [inputs] + list(states)
        return super().__call__(inputs, *args, **kwargs)

    def _split_inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            return inputs, None
        sequence, states = inputs[0], list(inputs[1:])
        return sequence, (states or None)

    def _state_shape(self, batch):
        """The shape of each state for a batch."""
        return (batch, self.units)

    def _check_states(self, states, batch):
        if len(states) != self.state_count:
            names = ", ".join(self.state_names)
            plural = "s" if self.state_count > 1 else ""
            raise ValueError(f"{self.name} expects {self.state_count} initial state{plural} "
                             f"[{names}], got {len(states)}.")
        expected = self._state_shape(batch)
        for i, state in enumerate(states):
            if tuple(state.shape) != expected:
                raise ValueError(f"{self.name} expects initial state {i} of shape "
                                 f"{format_shape(expected)}, got {format_shape(state.shape)}.")

    def _initial_states(self, given, batch, dtype):
        """The states the sequence starts from: given, carried (stateful) or zeros."""
        if given is not None:
            states = [self._to_tensor(s) for s in given]
            self._check_states(states, batch)
            return states
        if self.stateful:
            if batch != self._batch_size:
                raise ValueError(f"{self.name} is stateful with batch size {self._batch_size}, got "
                                 f"a batch of {batch}; keep the batch size fixed (and the number "
                                 f"of samples a multiple of it).")
            return [Tensor(s) for s in self.states]
        return [Tensor(np.zeros(self._state_shape(batch), dtype=dtype))
                for _ in range(self.state_count)]

    def _sequence_mask(self, mask, sequence):
        if isinstance(mask, list):
            mask = mask[0]
        if mask is None:
            return None
        mask = np.asarray(getattr(mask, "data", mask), dtype=bool)
        if mask.shape != tuple(sequence.shape[:2]):
            raise ValueError(f"{self.name} expects a mask of shape (batch, timesteps) = "
                             f"{format_shape(sequence.shape[:2])}, got {format_shape(mask.shape)}.")
        return mask

    # ---- calling ---------------------------------------------------------------------------
    def call(self, inputs, mask=None, training=None):
        sequence, states = self._split_inputs(inputs)
        if sequence.ndim != self.input_spec.ndim:
            raise ValueError(self._rank_message(sequence.shape))
        self._check_input(tuple(sequence.shape))
        states = self._initial_states(states, sequence.shape[0], sequence.dtype)
        output, final_states = self._run_sequence(
            sequence, states, training=bool(training), mask=self._sequence_mask(mask, sequence),
            go_backwards=self.go_backwards, return_sequences=self.return_sequences,
            zero_output_for_mask=self.zero_output_for_mask)
        if self.stateful:
            self.states = [np.array(s.data) for s in final_states]
        if self.return_state:
            return [output] + list(final_states)
        return output

    def _run_sequence(self, sequence, states, training, **options):
        """(output, final states) of the fused op; subclasses apply their dropout here."""
        raise NotImplementedError

    def _dropped_inputs(self, sequence, training):
        """The inputs with one dropout mask per sequence (fixed over time), in training."""
        if not training or self.dropout == 0.0:
            return sequence
        keep = _dropout_mask((sequence.shape[0], sequence.shape[-1]), self.dropout,
                             sequence.dtype)
        return ops.multiply(sequence, keep[:, None, :])

    def _recurrent_dropout_mask(self, sequence, training):
        if not training or self.recurrent_dropout == 0.0:
            return None
        return _dropout_mask(self._state_shape(sequence.shape[0]), self.recurrent_dropout,
                             sequence.dtype)

    def reset_states(self, states=None):
        """Zero the carried states of a stateful layer (or set them to `states`)."""
        if not self.stateful:
            raise ValueError(f"{self.name} is not stateful: only stateful=True layers keep states "
                             f"between batches.")
        if not self.built:
            return
        if states is None:
            self.states = self._zero_states()
            return
        states = states if isinstance(states, (list, tuple)) else [states]
        arrays = [np.asarray(s.data if isinstance(s, Tensor) else s, dtype=self.dtype)
                  for s in states]
        self._check_states(arrays, self._batch_size)
        self.states = [a.copy() for a in arrays]

    def _zero_states(self):
        shape = self._state_shape(self._batch_size)
        return [np.zeros(shape, dtype=self.dtype) for _ in range(self.state_count)]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, list):
            mask = mask[0]
        sequence_mask = mask if self.return_sequences else None
        if self.return_state:
            return [sequence_mask] + [None] * self.state_count
        return sequence_mask

    def compute_output_shape(self, input_shape):
        sequence_shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        batch, steps = sequence_shape[0], sequence_shape[1]
        output = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [output] + [(batch, self.units)] * self.state_count
        return output

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "use_bias": self.use_bias,
                "kernel_initializer": serialize(self.kernel_initializer),
                "recurrent_initializer": serialize(self.recurrent_initializer),
                "bias_initializer": serialize(self.bias_initializer),
                "kernel_regularizer": serialize(self.kernel_regularizer),
                "recurrent_regularizer": serialize(self.recurrent_regularizer),
                "bias_regularizer": serialize(self.bias_regularizer),
                "activity_regularizer": serialize(self.activity_regularizer),
                "kernel_constraint": serialize(self.kernel_constraint),
                "recurrent_constraint": serialize(self.recurrent_constraint),
                "bias_constraint": serialize(self.bias_constraint),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed, "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}


def unit_forget_bias_initializer(layer):
    """The bias initializer of an LSTM-like layer (gates i, f, c, o of `layer.units` each):
    with Keras's unit_forget_bias, the forget gate's block starts at 1."""
    if not layer.unit_forget_bias:
        return layer.bias_initializer
    units, inner = layer.units, layer.bias_initializer

    def forget_gate_ones(shape, dtype=None):
        return np.concatenate([np.asarray(inner((units,), dtype=dtype)),
                               np.ones(units, dtype=dtype),
                               np.asarray(inner((2 * units,), dtype=dtype))])
    return forget_gate_ones


def _dropout_mask(shape, rate, dtype):
    """Inverted-dropout multipliers (0 or 1/(1-rate)), drawn once per sequence."""
    draws = random.uniform(shape, dtype=dtype)
    return ((draws >= rate) / (1.0 - rate)).astype(dtype)


class SimpleRNN(Recurrent):
    """Fully connected recurrence: h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)."""

    def _run_sequence(self, sequence, states, training, **options):
        return simple_rnn_sequence(
            self._dropped_inputs(sequence, training), states, self.kernel,
            self.recurrent_kernel, self.bias, activation=self.activation,
            recurrent_dropout_mask=self._recurrent_dropout_mask(sequence, training), **options)


class LSTM(Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997); gates i, f, c, o in the kernels'
    column blocks, as Keras."""

    gate_count = 4
    state_count = 2
    state_names = ("h", "c")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.recurrent_activation = _fused_activation_name(self, "recurrent_activation",
                                                           recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_initializer(self):
        return unit_forget_bias_initializer(self)

    def _run_sequence(self, sequence, states, training, **options):
        return lstm_sequence(
            self._dropped_inputs(sequence, training), states, self.kernel,
            self.recurrent_kernel, self.bias, activation=self.activation,
            recurrent_activation=self.recurrent_activation,
            recurrent_dropout_mask=self._recurrent_dropout_mask(sequence, training), **options)

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": self.recurrent_activation,
                "unit_forget_bias": self.unit_forget_bias}


class GRU(Recurrent):
    """Gated recurrent unit (Cho et al., 2014); gates z, r, h. With `reset_after=True` (Keras's
    and PyTorch's default) the reset gate multiplies the recurrent projection, and the bias has
    separate input and recurrent rows, shape (2, 3 * units)."""

    gate_count = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = _fused_activation_name(self, "recurrent_activation",
                                                           recurrent_activation)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        width = self.gate_count * self.units
        return (2, width) if self.reset_after else (width,)

    def _run_sequence(self, sequence, states, training, **options):
        return gru_sequence(
            self._dropped_inputs(sequence, training), states, self.kernel,
            self.recurrent_kernel, self.bias, reset_after=self.reset_after,
            activation=self.activation, recurrent_activation=self.recurrent_activation,
            recurrent_dropout_mask=self._recurrent_dropout_mask(sequence, training), **options)

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": self.recurrent_activation,
                "reset_after": self.reset_after}
