"""Layer wrappers: `TimeDistributed` (a layer applied to every time step) and `Bidirectional`
(a recurrent layer run forwards and backwards over a sequence, the two outputs merged).

Both follow Keras 3 (`keras/src/layers/rnn/time_distributed.py`, `bidirectional.py`):
- TimeDistributed folds the time axis into the batch, (B, T, ...) -> (B*T, ...), calls the
  wrapped layer once and unfolds its output; Keras 3 loops over time steps instead, which gives
  the same values (each slice sees the same weights) with T calls. A mask (B, T, ...) is folded
  the same way and handed to the wrapped layer only if its `call` takes `mask`; the output keeps
  the input's mask (Keras 3 computes no mask of its own here).
- Bidirectional makes two fresh layers from the wrapped layer's config (names "forward_<name>"
  and "backward_<name>", `go_backwards` flipped for the second; the wrapped instance itself is
  not used, so its weights are not reused), runs both, reverses the backward output sequence
  back to input order and merges them ("concat" | "sum" | "mul" | "ave", or None for a list).
  With return_state, the final states of the forward layer then of the backward layer follow
  the output; an initial_state list gives its first half to the forward layer and its second
  half to the backward one. get_weights lists the forward layer's weights, then the backward's.
"""

import numpy as np

from .. import ops
from ..engine.tape import record
from ..engine.tensor import as_tensor
from ..engine.graph import map_structure
from .base import InputSpec, Layer, _is_shape, format_shape

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _remove_prefix(text, prefix):
    return text[len(prefix):] if text.startswith(prefix) else text


def reverse_time(x):
    """x[:, ::-1] along the time axis (axis 1), differentiable; a contiguous copy so the fused
    kernels downstream get plain C-ordered arrays."""
    x = as_tensor(x)
    return record((x,), np.ascontiguousarray(x.data[:, ::-1]),
                  lambda g, needs: (np.ascontiguousarray(g[:, ::-1]),))


class Wrapper(Layer):
    """Base of the layers that wrap another layer (held in `self.layer`)."""

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise ValueError(f"{self.name}: {type(self).__name__} wraps a layer instance (e.g. "
                             f"layer_dense(units = 8)), got {layer!r}.")
        self.layer = layer

    def build(self, input_shape):
        self.layer._maybe_build(input_shape)

    def get_config(self):
        from ..saving.serialization import serialize_layer
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config_, custom_objects=None):
        from ..saving.serialization import deserialize_layer
        config_ = dict(config_)
        layer = deserialize_layer(config_.pop("layer"), custom_objects)
        return cls(layer, **config_)


class TimeDistributed(Wrapper):
    """Applies `layer` to every time step of inputs (batch, time, ...), with the same weights."""

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)
        self.trainable = self.trainable  # a frozen wrapper freezes the wrapped layer too
        # Integer inputs reach a wrapped Embedding as integers.
        self.casts_inputs_to_float = layer.casts_inputs_to_float

    def _child_shape(self, input_shape):
        if not _is_shape(input_shape):
            raise ValueError(f"{self.name} takes one input tensor (batch, time, ...), got "
                             f"{len(input_shape)} inputs.")
        if len(input_shape) < 3:
            raise ValueError(f"{self.name} expects an input of at least 3 dimensions (batch, time, "
                             f"...) and applies {self.layer.name} to each time step, got input "
                             f"shape {format_shape(input_shape)}.")
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape):
        self.layer._maybe_build(self._child_shape(input_shape))
        # Own input spec: the wrapped layer's, one axis further (so errors name this layer).
        inner = self.layer.input_spec
        axes = {}
        if inner is not None:
            axes = {(a if a < 0 else a + 1): size for a, size in inner.axes.items() if a != 0}
        self.input_spec = InputSpec(min_ndim=3, axes=axes)

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        steps = input_shape[1]
        return map_shape_list(lambda s: (input_shape[0], steps) + tuple(s[1:]), child)

    def call(self, inputs, training=None, mask=None):
        shape = tuple(inputs.shape)
        self._child_shape(shape)  # raises for fewer than 3 axes
        batch, steps = shape[0], shape[1]
        kwargs = {"training": training}
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape[:2] != (batch, steps):
                raise ValueError(f"{self.name} expects a mask of shape ({batch}, {steps}, ...), "
                                 f"got {format_shape(mask.shape)}.")
            kwargs["mask"] = mask.reshape((batch * steps,) + mask.shape[2:])
        merged = ops.reshape(inputs, (batch * steps,) + shape[2:])
        outputs = self.layer(merged, **kwargs)
        return map_structure(
            lambda out: ops.reshape(out, (batch, steps) + tuple(out.shape[1:])), outputs)


def map_shape_list(fn, shapes):
    return fn(shapes) if _is_shape(shapes) else [map_shape_list(fn, s) for s in shapes]


_RECURRENT_ATTRIBUTES = ("go_backwards", "return_sequences", "return_state")


class Bidirectional(Wrapper):
    """Runs a recurrent layer forwards and backwards over a sequence and merges the outputs."""

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        # The wrapped layer's input shape (`bidirectional(layer_gru(32, input_shape = ...))`)
        # serves as the wrapper's when the wrapper is given none.
        if isinstance(layer, Layer) and getattr(layer, "batch_input_shape", None) is not None \
                and kwargs.get("input_shape") is None and kwargs.get("batch_input_shape") is None:
            kwargs["batch_input_shape"] = layer.batch_input_shape
        super().__init__(layer, weights=weights, **kwargs)
        self._check_recurrent(layer, "layer")
        if backward_layer is not None:
            if not isinstance(backward_layer, Layer):
                raise ValueError(f"{self.name}: backward_layer must be a layer instance, got "
                                 f"{backward_layer!r}.")
            self._check_recurrent(backward_layer, "backward_layer")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"{self.name}: merge_mode must be one of \"concat\", \"sum\", \"mul\", "
                             f"\"ave\" or None, got {merge_mode!r}.")
        self.merge_mode = merge_mode

        # Fresh copies from the config, so no weights or states carry over from `layer`.
        forward = self._copy(layer, "forward_", go_backwards=layer.go_backwards)
        if backward_layer is None:
            backward = self._copy(layer, "backward_", go_backwards=not layer.go_backwards)
        else:
            backward = backward_layer
        self.layer = forward  # Wrapper's `layer` is the forward copy (its weights come first)
        self.forward_layer = forward
        self.backward_layer = backward
        self._verify_pair()
        # Keras 3: with return_sequences, masked steps of both directions output zeros (so the
        # merged output is zero there whatever the wrapped layer's zero_output_for_mask).
        for direction in (forward, backward):
            if getattr(direction, "zero_output_for_mask", None) is not None:
                direction.zero_output_for_mask = direction.return_sequences
        self.stateful = bool(getattr(forward, "stateful", False))
        self.return_sequences = forward.return_sequences
        self.return_state = forward.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec
        self.trainable = self.trainable  # a frozen wrapper freezes the copies too

    def _check_recurrent(self, layer, argument):
        missing = [a for a in _RECURRENT_ATTRIBUTES if not hasattr(layer, a)]
        if missing or not hasattr(layer, "get_config"):
            raise ValueError(
                f"{self.name}: {argument} must be a recurrent layer (with go_backwards, "
                f"return_sequences and return_state, e.g. layer_lstm() or layer_gru()), got "
                f"{layer.name} ({type(layer).__name__}).")

    def _copy(self, layer, prefix, go_backwards):
        config_ = dict(layer.get_config())
        config_.pop("batch_input_shape", None)
        config_["name"] = prefix + _remove_prefix(layer.name, prefix)
        config_["go_backwards"] = go_backwards
        return type(layer).from_config(config_)

    def _verify_pair(self):
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(f"{self.name}: the forward and backward layers must have different "
                             f"go_backwards, got {forward.go_backwards} for both.")
        for attribute in ("stateful", "return_sequences", "return_state"):
            a, b = getattr(forward, attribute, False), getattr(backward, attribute, False)
            if a != b:
                raise ValueError(f"{self.name}: the forward and backward layers must have the "
                                 f"same {attribute}, got {a} (forward) and {b} (backward).")

    # ---- building and shapes ---------------------------------------------------------------
    @staticmethod
    def _sequence_shape(input_shape):
        return input_shape if _is_shape(input_shape) else input_shape[0]

    def build(self, input_shape):
        shape = self._sequence_shape(input_shape)
        rank = getattr(self.input_spec, "ndim", None)
        if rank is not None and len(shape) != rank:
            raise ValueError(f"{self.name} expects a {rank}D input (batch, timesteps, features), "
                             f"got shape {format_shape(shape)}.")
        self.forward_layer._maybe_build(shape)
        self.backward_layer._maybe_build(shape)
        built_spec = self.forward_layer.input_spec
        if built_spec is not None:  # the feature count is known now: bad inputs name the wrapper
            self.input_spec = InputSpec(ndim=built_spec.ndim, min_ndim=built_spec.min_ndim,
                                        max_ndim=built_spec.max_ndim, axes=dict(built_spec.axes))

    def compute_output_shape(self, input_shape):
        shape = self._sequence_shape(input_shape)
        output = self.forward_layer.compute_output_shape(shape)
        states = []
        if self.return_state:
            output, states = output[0], list(output[1:])
        output = tuple(output)
        if self.merge_mode == "concat":
            output = output[:-1] + (None if output[-1] is None else 2 * output[-1],)
        outputs = [output, output] if self.merge_mode is None else [output]
        if self.return_state:
            # The backward layer's states have the same shapes as the forward layer's.
            return outputs + states + states
        return outputs if self.merge_mode is None else output

    # ---- calling ---------------------------------------------------------------------------
    def __call__(self, inputs, *args, initial_state=None, **kwargs):
        # Initial states travel with the inputs, so a graph model sees them as inputs too.
        if initial_state is not None:
            states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
            inputs = [inputs] + list(states)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, training=None, mask=None):
        if isinstance(inputs, (list, tuple)):
            sequence, states = inputs[0], list(inputs[1:])
        else:
            sequence, states = inputs, []
        if isinstance(mask, list):
            mask = mask[0]
        forward_states = backward_states = None
        if states:
            if len(states) % 2:
                raise ValueError(f"{self.name} expects an even number of initial states (the "
                                 f"forward layer's, then the backward layer's), got "
                                 f"{len(states)}.")
            half = len(states) // 2
            forward_states, backward_states = states[:half], states[half:]
        kwargs = {"training": training, "mask": mask}
        y = self.forward_layer(sequence, **kwargs, **_states_argument(forward_states))
        y_rev = self.backward_layer(sequence, **kwargs, **_states_argument(backward_states))
        final_states = []
        if self.return_state:
            final_states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = reverse_time(y_rev)
        if self.merge_mode == "concat":
            outputs = [ops.concatenate([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            outputs = [ops.add(y, y_rev)]
        elif self.merge_mode == "ave":
            outputs = [ops.multiply(ops.add(y, y_rev), 0.5)]
        elif self.merge_mode == "mul":
            outputs = [ops.multiply(y, y_rev)]
        else:
            outputs = [y, y_rev]
        if mask is not None and self.return_sequences and (self.return_state
                                                           or self.merge_mode is None):
            # Several outputs: the base class attaches masks to single tensors only.
            for out in outputs:
                out._keras_mask = np.asarray(mask, dtype=bool)
        if self.return_state or self.merge_mode is None:
            return outputs + final_states
        return outputs[0]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, list):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state or self.merge_mode is None:
            count = 2 if self.merge_mode is None else 1
            states = self.states_count() if self.return_state else 0
            return [output_mask] * count + [None] * states
        return output_mask

    def states_count(self):
        """How many final states both directions return together (once built)."""
        shape = self.forward_layer._build_input_shape
        if shape is None:
            return 0
        shapes = self.forward_layer.compute_output_shape(self._sequence_shape(shape))
        return 2 * (len(shapes) - 1)

    # ---- states ----------------------------------------------------------------------------
    def reset_states(self, states=None):
        if not self.stateful:
            raise ValueError(f"{self.name} is not stateful: only a wrapped layer with "
                             f"stateful=True keeps states between batches.")
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
            return
        states = list(states)
        half = len(states) // 2
        self.forward_layer.reset_states(states[:half])
        self.backward_layer.reset_states(states[half:])

    reset_state = reset_states

    @property
    def states(self):
        forward = getattr(self.forward_layer, "states", None)
        backward = getattr(self.backward_layer, "states", None)
        if forward and backward:
            return list(forward) + list(backward)
        return None

    # ---- description -----------------------------------------------------------------------
    def get_config(self):
        from ..saving.serialization import serialize_layer
        config_ = Layer.get_config(self)
        return {**config_, "layer": serialize_layer(self.forward_layer),
                "merge_mode": self.merge_mode,
                "backward_layer": serialize_layer(self.backward_layer)}

    @classmethod
    def from_config(cls, config_, custom_objects=None):
        from ..saving.serialization import deserialize_layer
        config_ = dict(config_)
        layer = deserialize_layer(config_.pop("layer"), custom_objects)
        backward = config_.pop("backward_layer", None)
        if backward is not None:
            backward = deserialize_layer(backward, custom_objects)
        return cls(layer, backward_layer=backward, **config_)


def _states_argument(states):
    return {} if states is None else {"initial_state": states}


__all__ = ["Wrapper", "TimeDistributed", "Bidirectional"]
