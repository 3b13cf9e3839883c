"""The `Layer` base class: naming, weights, building from the input shape, input checks, and
calling on data (eager) or on symbolic tensors (recording the layer graph)."""

import inspect

import numpy as np

from .. import config, initializers, regularizers, constraints
from ..identifiers import snake_case
from ..engine.graph import KerasTensor, Node, flatten, is_symbolic, map_structure
from ..engine.tensor import Tensor, Variable
from .. import ops

_name_counts = {}

# Base-class bookkeeping that never holds sublayers.
_UNTRACKED = frozenset({"_variables", "_inbound_nodes", "_activity_losses", "_build_input_shape",
                        "batch_input_shape", "_initial_weights", "input_spec"})


def unique_name(base):
    """`dense`, then `dense_1`, `dense_2`, ... (reset by `k_clear_session()`)."""
    count = _name_counts.get(base, 0)
    _name_counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def reset_names():
    _name_counts.clear()


def format_shape(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


class InputSpec:
    """What a layer accepts: a rank (exact or minimum) and sizes of given axes."""

    def __init__(self, ndim=None, min_ndim=None, max_ndim=None, axes=None):
        self.ndim, self.min_ndim, self.max_ndim = ndim, min_ndim, max_ndim
        self.axes = axes or {}


class Layer:
    """Base class of every layer (Keras's `Layer`).

    Subclasses check their arguments in `__init__`, create weights in `build(input_shape)`
    with `add_weight`, and hold only the math in `call(inputs)`.
    """

    # Lets `ndarray | layer` reach `Layer.__ror__` instead of numpy's elementwise `|`.
    __array_ufunc__ = None
    # Most layers compute in floats: integer inputs are cast (Embedding keeps them).
    casts_inputs_to_float = True
    # Layers whose kernels run in parallel on Numba's threads (convolutions, pooling,
    # recurrent layers): a model holding one keeps its dense products there too (see
    # `kernels.matmul`), so that numpy's BLAS threads do not fight Numba's.
    runs_on_numba_threads = False

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None,
                 batch_input_shape=None, batch_size=None, input_dim=None, weights=None,
                 **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected argument(s): {', '.join(kwargs)}.")
        self.name = name if name is not None else unique_name(snake_case(type(self).__name__))
        self.trainable = True if trainable is None else bool(trainable)
        self.dtype = str(np.dtype(dtype)) if dtype is not None else config.floatx()
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self.batch_input_shape = _plain_shape(batch_input_shape)
        elif input_shape is not None:
            shape = (input_shape,) if np.ndim(input_shape) == 0 else tuple(input_shape)
            self.batch_input_shape = _plain_shape((batch_size,) + shape)
        else:
            self.batch_input_shape = None
        self.built = False
        self.input_spec = None
        self.supports_masking = False
        self._variables = []
        self._initial_weights = weights
        self._inbound_nodes = []
        self._activity_losses = []
        self._build_input_shape = None

    # ---- weights -------------------------------------------------------------------------
    def add_weight(self, shape, initializer="glorot_uniform", name=None, dtype=None,
                   trainable=True, regularizer=None, constraint=None):
        dtype = dtype or self.dtype
        from ..saving.serialization import check_weight_budget  # a no-op outside model loading
        check_weight_budget(shape, dtype, self)
        value = initializers.get(initializer)(tuple(shape), dtype=dtype)
        variable = Variable(np.asarray(value, dtype=dtype), name=name or "variable",
                            trainable=trainable, regularizer=regularizers.get(regularizer),
                            constraint=constraints.get(constraint))
        variable.path = f"{self.name}/{variable.name}"
        self._variables.append(variable)
        return variable

    def __setattr__(self, name, value):
        # Track attributes that hold layers (or lists that may), so weights of nested layers
        # are found without scanning every attribute on every step.
        if isinstance(value, (Layer, list, tuple)) and name not in _UNTRACKED:
            self.__dict__.setdefault("_layer_attributes", {})[name] = None
        object.__setattr__(self, name, value)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freezing (or unfreezing) a layer does the same to every layer inside it, as Keras 3."""
        self._trainable = bool(value)
        for layer in self._sublayers():
            layer.trainable = value

    def _uses_numba_threads(self):
        """True when this layer or one inside it `runs_on_numba_threads`."""
        return self.runs_on_numba_threads or any(
            layer._uses_numba_threads() for layer in self._sublayers())

    def _sublayers(self):
        names = self.__dict__.get("_layer_attributes")
        if not names:
            return []
        found = []
        for name in names:
            value = self.__dict__.get(name)
            items = value if isinstance(value, (list, tuple)) else [value]
            found.extend(v for v in items if isinstance(v, Layer) and v is not self)
        return found

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        own = [v for v in self._variables if v.trainable]
        return _unique(own + [v for layer in self._sublayers() for v in layer.trainable_weights])

    @property
    def non_trainable_weights(self):
        own = [v for v in self._variables if not v.trainable or not self.trainable]
        nested = [v for layer in self._sublayers()
                  for v in (layer.weights if not self.trainable else layer.non_trainable_weights)]
        return _unique(own + nested)

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def variables(self):
        return self.weights

    def _ordered_weights(self):
        """Weights in creation order, as Keras's get_weights lists them."""
        return _unique(list(self._variables) +
                       [v for layer in self._sublayers() for v in layer._ordered_weights()])

    def get_weights(self):
        return [v.data.copy() for v in self._ordered_weights()]

    def set_weights(self, weights):
        variables = self._ordered_weights()
        weights = list(weights)
        if len(weights) != len(variables):
            raise ValueError(f"Layer {self.name} expects {len(variables)} weight arrays "
                             f"({', '.join(format_shape(v.shape) for v in variables) or 'none'}), "
                             f"got {len(weights)}.")
        arrays = [np.asarray(w) for w in weights]
        for variable, array in zip(variables, arrays):
            if array.shape != variable.shape:
                raise ValueError(f"Layer {self.name}: weight {variable.name!r} has shape "
                                 f"{format_shape(variable.shape)}, got an array of shape "
                                 f"{format_shape(array.shape)}.")
        for variable, array in zip(variables, arrays):
            variable.data[...] = array

    def count_params(self):
        if not self.built:
            raise ValueError(f"Layer {self.name} is not built yet, so its weights do not exist: "
                             "give it an input shape or call it on data first.")
        return int(sum(v.size for v in self.weights))

    def add_loss(self, loss):
        """Adds a scalar tensor (computed in `call` from kerasr ops) to the loss minimised in
        training, e.g. a VAE's KL term. Such losses belong to the latest call."""
        self._activity_losses.append(loss)

    @property
    def losses(self):
        """Regularization penalties of the trainable weights plus activity penalties of the last call."""
        penalties = [v.regularizer(v) for v in self.trainable_weights if v.regularizer is not None]
        return penalties + self._all_activity_losses()

    def _all_activity_losses(self):
        return list(self._activity_losses) + [
            loss for layer in self._sublayers() for loss in layer._all_activity_losses()]

    # ---- building and shapes -------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def _maybe_build(self, input_shape):
        if self.built:
            return
        self._build_input_shape = input_shape
        self.build(input_shape)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def compute_output_shape(self, input_shape):
        """Output shape for an input shape; the default runs `call` on zeros of that shape."""
        probe = map_shapes(lambda s: Tensor(np.zeros(tuple(1 if d is None else d for d in s),
                                                     dtype=self.dtype)), input_shape)
        result = self.call(probe, **self._call_extras(training=False, mask=None))
        return map_structure(lambda t: (None,) + tuple(t.shape[1:]), result)

    def compute_mask(self, inputs, mask=None):
        return mask if self.supports_masking else None

    def _check_input(self, shape):
        spec = self.input_spec
        if spec is None or not _is_shape(shape):
            return
        rank = len(shape)
        bad = ((spec.ndim is not None and rank != spec.ndim)
               or (spec.min_ndim is not None and rank < spec.min_ndim)
               or (spec.max_ndim is not None and rank > spec.max_ndim)
               or any(shape[axis] is not None and shape[axis] != size
                      for axis, size in spec.axes.items() if -rank <= axis < rank))
        if bad:
            raise ValueError(f"{self.name} expects input of shape {self._expected_shape()}, "
                             f"got {format_shape(shape)}.")

    def _expected_shape(self):
        spec = self.input_spec
        if self._build_input_shape is not None and _is_shape(self._build_input_shape):
            expected = [None] + list(self._build_input_shape[1:])
            for axis, size in spec.axes.items():
                expected[axis] = size
            return format_shape(expected)
        rank = spec.ndim or spec.min_ndim or (max(-a for a in spec.axes) if spec.axes else 1)
        expected = [None] * max(rank, 1)
        for axis, size in spec.axes.items():
            expected[axis] = size
        text = format_shape(expected)
        return text if spec.min_ndim is None else f"rank >= {spec.min_ndim} like {text}"

    # ---- calling -------------------------------------------------------------------------
    def call(self, inputs):
        return inputs

    def __call__(self, inputs, *args, **kwargs):
        several = isinstance(inputs, (list, tuple))
        if isinstance(inputs, KerasTensor) or (several and is_symbolic(inputs)):
            return self._call_symbolic(inputs, args, kwargs)
        if several:
            tensors = map_structure(self._to_tensor, inputs)
            self._maybe_build(map_structure(lambda t: t.shape, tensors))
        else:
            tensors = self._to_tensor(inputs)
            if not self.built:
                self._maybe_build(tensors.shape)
            if self.input_spec is not None:
                self._check_input(tensors.shape)
        mask = kwargs.pop("mask", None)
        if mask is None:
            mask = _input_masks(tensors, several)
        extras = self._call_extras(training=kwargs.pop("training", None), mask=mask)
        if self._activity_losses:
            self._activity_losses = []  # losses belong to the latest call
        outputs = self.call(tensors, *args, **extras, **kwargs)
        regularizer = getattr(self, "activity_regularizer", None)
        if regularizer is not None:
            self._activity_losses.extend(ops.divide(regularizer(out), out.shape[0])
                                         for out in flatten(outputs))
        if self.supports_masking or type(self).compute_mask is not Layer.compute_mask:
            output_mask = self.compute_mask(tensors, mask)
            if output_mask is not None and isinstance(outputs, Tensor):
                outputs._keras_mask = output_mask
        return outputs

    def _call_extras(self, training, mask):
        accepts = _call_arguments(type(self))
        extras = {}
        if "training" in accepts:
            extras["training"] = training
        if "mask" in accepts and mask is not None:
            extras["mask"] = mask
        return extras

    def _to_tensor(self, value):
        """Inputs as tensors in the layer's float type (differentiably cast, if tensors)."""
        if isinstance(value, Tensor):
            if self.casts_inputs_to_float and value.dtype != self.dtype:
                return ops.cast(value, self.dtype)
            return value
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"{self.name} expects numeric input, got an array of dtype {array.dtype}.")
        if self.casts_inputs_to_float and array.dtype != self.dtype:
            array = array.astype(self.dtype)
        return Tensor(array)

    def _call_symbolic(self, inputs, args, kwargs):
        shapes = map_structure(lambda t: t.shape, inputs)
        self._maybe_build(shapes)
        self._check_input(shapes if isinstance(inputs, KerasTensor) else None)
        output_shape = self.compute_output_shape(shapes)
        node_index = len(self._inbound_nodes)
        dtype = self.output_dtype(inputs)
        if _is_shape(output_shape):
            outputs = KerasTensor(output_shape, dtype, history=(self, node_index, 0))
        else:
            outputs = [KerasTensor(s, dtype, history=(self, node_index, i))
                       for i, s in enumerate(output_shape)]
        self._inbound_nodes.append(Node(self, inputs, outputs, dict(kwargs, _args=args)))
        return outputs

    def output_dtype(self, inputs):
        return self.dtype

    def __ror__(self, other):
        """`x | layer` calls the layer on x (a tensor, an array or a symbolic tensor)."""
        return self(other)

    # ---- description ---------------------------------------------------------------------
    def get_config(self):
        config_ = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self.batch_input_shape is not None:
            config_["batch_input_shape"] = list(self.batch_input_shape)
        return config_

    @classmethod
    def from_config(cls, config_):
        return cls(**config_)

    @property
    def input_shape(self):
        if self._inbound_nodes:
            return _shape_of(self._inbound_nodes[0].inputs)
        if self._build_input_shape is not None:
            return self._build_input_shape
        raise AttributeError(f"Layer {self.name} has not been called yet, so it has no input shape.")

    @property
    def output_shape(self):
        if self._inbound_nodes:
            return _shape_of(self._inbound_nodes[0].outputs)
        raise AttributeError(f"Layer {self.name} has not been called yet, so it has no output shape.")

    @property
    def input(self):
        return self._inbound_nodes[0].inputs

    @property
    def output(self):
        return self._inbound_nodes[0].outputs

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _input_masks(tensors, several):
    """The masks carried by the input tensor(s): None, one mask, or a list for several."""
    if not several:
        return getattr(tensors, "_keras_mask", None)
    masks = [getattr(t, "_keras_mask", None) for t in flatten(tensors)]
    return None if all(m is None for m in masks) else masks


def _plain_shape(shape):
    """A shape as a tuple of Python ints and Nones (numpy integers kept out of configs)."""
    return tuple(None if d is None else int(d) for d in shape)


def _unique(variables):
    seen, out = set(), []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _is_shape(value):
    return isinstance(value, tuple) and all(d is None or isinstance(d, (int, np.integer)) for d in value)


def _shape_of(structure):
    return map_structure(lambda t: t.shape, structure) if isinstance(structure, list) else structure.shape


def map_shapes(fn, shapes):
    """Apply `fn` to each shape in a shape or a (nested) list of shapes."""
    if _is_shape(shapes):
        return fn(shapes)
    return [map_shapes(fn, s) for s in shapes]


_call_argument_cache = {}


def _call_arguments(cls):
    names = _call_argument_cache.get(cls)
    if names is None:
        names = frozenset(inspect.signature(cls.call).parameters)
        _call_argument_cache[cls] = names
    return names
