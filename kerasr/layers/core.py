"""Core layers: Input, Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector,
Lambda, ActivityRegularization, Masking and Embedding."""

import numpy as np

from .. import activations, constraints, initializers, ops, regularizers
from ..engine.graph import KerasTensor
from ..engine.tensor import Tensor
from ..identifiers import serialize
from .base import InputSpec, Layer, format_shape


# ---- argument checks shared by the layers ------------------------------------------------
def positive_int(layer, name, value):
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
            or int(value) != value or value < 1):
        raise ValueError(f"{layer.name}: {name} must be a positive integer, got {value!r}.")
    return int(value)


def seed_argument(layer, seed):
    """None or a non-negative integer, as a Python int (configs must stay JSON)."""
    if seed is None:
        return None
    if (isinstance(seed, bool) or not isinstance(seed, (int, float, np.integer, np.floating))
            or int(seed) != seed or seed < 0):
        raise ValueError(f"{layer.name}: seed must be a non-negative integer or None, "
                         f"got {seed!r}.")
    return int(seed)


def noise_shape_argument(noise_shape):
    """A noise shape as a tuple of Python ints and Nones (or None)."""
    if noise_shape is None:
        return None
    shape = (noise_shape,) if np.ndim(noise_shape) == 0 else tuple(noise_shape)
    return tuple(None if d is None else int(d) for d in shape)


def rate_in_unit_interval(layer, name, value):
    if not isinstance(value, (int, float, np.floating, np.integer)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{layer.name}: {name} must be a number in [0, 1), got {value!r}.")
    return float(value)


class InputLayer(Layer):
    """The entry of a model: holds the symbolic input tensor."""

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None,
                 **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("An input needs a shape, e.g. layer_input(shape=784).")
            shape = (shape,) if np.ndim(shape) == 0 else tuple(shape)
            batch_shape = (batch_size,) + shape
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self.batch_input_shape = self.batch_shape
        self.output_tensor = KerasTensor(self.batch_shape, self.dtype, name=self.name,
                                         history=(self, 0, 0))
        from ..engine.graph import Node
        self._inbound_nodes.append(Node(self, [], self.output_tensor, {}))
        self.built = True

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, batch_shape=None, name=None):
    """A symbolic input tensor (Keras's `Input`)."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                      name=name).output_tensor


class Dense(Layer):
    """activation(inputs @ kernel + bias); the kernel has shape (input_dim, units)."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.units = positive_int(self, "units", units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
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
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"{self.name} needs the size of the last input axis, got input shape "
                             f"{format_shape(input_shape)}.")
        self.kernel = self.add_weight((input_dim, self.units), self.kernel_initializer, "kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight((self.units,), self.bias_initializer, "bias",
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs):
        fused = activations.fused_kernel(self.activation)
        if fused is not None:
            return ops.dense(inputs, self.kernel, self.bias, *fused)
        return self.activation(ops.dense(inputs, self.kernel, self.bias))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": serialize(self.kernel_initializer),
                "bias_initializer": serialize(self.bias_initializer),
                "kernel_regularizer": serialize(self.kernel_regularizer),
                "bias_regularizer": serialize(self.bias_regularizer),
                "activity_regularizer": serialize(self.activity_regularizer),
                "kernel_constraint": serialize(self.kernel_constraint),
                "bias_constraint": serialize(self.bias_constraint)}


class Activation(Layer):
    """Applies an activation function to its input."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Sets a fraction `rate` of inputs to 0 during training, scaling the rest by 1/(1 - rate)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate_in_unit_interval(self, "rate", rate)
        self.noise_shape = noise_shape_argument(noise_shape)
        self.seed = seed_argument(self, seed)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        noise_shape = None
        if self.noise_shape is not None:
            noise_shape = tuple(s if n is None else n for s, n in zip(inputs.shape, self.noise_shape))
        return ops.dropout(inputs, self.rate, noise_shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": self.seed}


class Flatten(Layer):
    """Flattens every axis but the batch axis."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = ops.transpose(inputs, (0,) + tuple(range(2, inputs.ndim)) + (1,))
        return ops.reshape(inputs, (inputs.shape[0], -1))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else int(np.prod(rest, dtype=np.int64)))


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target = (target_shape,) if np.ndim(target_shape) == 0 else tuple(target_shape)
        if sum(1 for d in target if d == -1 or d is None) > 1:
            raise ValueError(f"{self.name}: target_shape may have at most one unknown (-1) "
                             f"dimension, got {target}.")
        self.target_shape = tuple(-1 if d is None else int(d) for d in target)

    def compute_output_shape(self, input_shape):
        size = None if None in input_shape[1:] else int(np.prod(input_shape[1:], dtype=np.int64))
        known = int(np.prod([d for d in self.target_shape if d != -1], dtype=np.int64))
        if -1 in self.target_shape:
            if size is not None and (known == 0 or size % known):
                raise ValueError(f"{self.name} cannot reshape input of shape "
                                 f"{format_shape(input_shape)} to {self.target_shape}.")
            fill = None if size is None else size // known
            return (input_shape[0],) + tuple(fill if d == -1 else d for d in self.target_shape)
        if size is not None and size != known:
            raise ValueError(f"{self.name} cannot reshape input of shape {format_shape(input_shape)} "
                             f"({size} values per sample) to {self.target_shape} ({known} values).")
        return (input_shape[0],) + self.target_shape

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)
        return ops.reshape(inputs, (inputs.shape[0],) + self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Permutes the non-batch axes; `dims` counts them from 1, as Keras does."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(int(d) for d in dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"{self.name}: dims must be a permutation of 1..{len(dims)} "
                             f"(axes are counted from 1, the batch axis excluded), got {dims}.")
        self.dims = dims
        self.input_spec = InputSpec(ndim=len(dims) + 1)

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = positive_int(self, "n", n)
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        return ops.repeat(ops.expand_dims(inputs, 1), self.n, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Lambda(Layer):
    """Wraps a function of tensors written with `k_*` ops; the engine differentiates it."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"{self.name}: function must be callable, got {function!r}.")
        self.function = function
        self.arguments = dict(arguments or {})
        self._output_shape = output_shape
        self._mask = mask

    def call(self, inputs, mask=None):
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        shape = self._output_shape
        shape = (shape,) if np.ndim(shape) == 0 else tuple(shape)
        return (input_shape[0],) + shape

    def compute_mask(self, inputs, mask=None):
        return self._mask(inputs, mask) if callable(self._mask) else self._mask

    def get_config(self):
        # The function itself: kept in memory (saving it is the saving issue's business).
        return {**super().get_config(), "function": self.function,
                "output_shape": self._output_shape, "mask": self._mask,
                "arguments": self.arguments}


class ActivityRegularization(Layer):
    """Identity that adds an L1/L2 penalty on its input to the loss."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        self.l1, self.l2 = float(l1), float(l2)
        self.activity_regularizer = regularizers.L1L2(l1=self.l1, l2=self.l2)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}


class Masking(Layer):
    """Masks time steps whose features all equal `mask_value` (zeroed, and skipped downstream)."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)
        self.supports_masking = True

    def _keep(self, inputs):
        return np.any(inputs.data != self.mask_value, axis=-1)

    def call(self, inputs):
        keep = self._keep(inputs)
        return ops.multiply(inputs, keep[..., None].astype(inputs.dtype))

    def compute_mask(self, inputs, mask=None):
        return self._keep(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


class Embedding(Layer):
    """Turns integer indices into dense vectors: a table of shape (input_dim, output_dim)."""

    casts_inputs_to_float = False

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, activity_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None, **kwargs):
        if input_length is not None and kwargs.get("input_shape") is None \
                and kwargs.get("batch_input_shape") is None:
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        self.input_dim = positive_int(self, "input_dim", input_dim)
        self.output_dim = positive_int(self, "output_dim", output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.input_length = None if input_length is None else positive_int(
            self, "input_length", input_length)
        self.supports_masking = self.mask_zero

    def build(self, input_shape):
        self.embeddings = self.add_weight((self.input_dim, self.output_dim),
                                          self.embeddings_initializer, "embeddings",
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)

    def _to_tensor(self, value):
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind == "f":
            if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
                raise ValueError(f"{self.name} expects integer indices, got non-integer values.")
        elif array.dtype.kind not in "biu":
            raise ValueError(f"{self.name} expects integer indices, got dtype {array.dtype}.")
        array = array.astype(np.int64, copy=False)
        if array.size and (array.min() < 0 or array.max() >= self.input_dim):
            raise ValueError(f"{self.name} expects indices in [0, {self.input_dim}), got values from "
                             f"{array.min()} to {array.max()}; raise input_dim or cap the vocabulary "
                             f"(e.g. num_words).")
        return Tensor(array)

    def call(self, inputs):
        return ops.embedding(inputs.data, self.embeddings)

    def compute_mask(self, inputs, mask=None):
        return inputs.data != 0 if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": serialize(self.embeddings_initializer),
                "embeddings_regularizer": serialize(self.embeddings_regularizer),
                "activity_regularizer": serialize(self.activity_regularizer),
                "embeddings_constraint": serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero, "input_length": self.input_length}
