"""Sequential: a linear stack of layers, kept as a Functional graph.

The graph is made as soon as the input shape is known (from the first layer's `input_shape`,
a `layer_input()` or the first data the model sees); until then the layers wait in a list.
"""

import numpy as np

from ..layers.base import Layer, format_shape
from ..layers.core import InputLayer
from .functional import Functional, Model


class Sequential(Functional):
    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        Model.__init__(self, name=name or _sequential_name(), trainable=trainable, **kwargs)
        self._stack = []
        self._input_layer = None
        self.built = False
        self._graph_layers = []
        self.inputs, self.outputs = [], []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        """Appends a layer (or a model used as a layer); returns the model."""
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(f"{self.name}: an input layer can only come first.")
            self._input_layer = layer
            return self
        if not isinstance(layer, Layer):
            raise TypeError(f"{self.name}.add() expects a layer, got {type(layer).__name__}.")
        if layer is self:
            raise ValueError(f"Model {self.name} cannot be added to itself.")
        if any(existing is layer for existing in self._stack):
            raise ValueError(f"Layer {layer.name} is already in model {self.name}; "
                             "create a new layer to add another of its kind.")
        if self._input_layer is None and not self._stack and layer.batch_input_shape is not None:
            self._input_layer = InputLayer(batch_shape=layer.batch_input_shape,
                                           dtype=_input_dtype(layer))
        if self._input_layer is not None:
            # Connect the new layer first, so a layer that does not fit leaves the model unchanged.
            start = self.outputs[0] if self.built else self._input_layer.output_tensor
            output = layer(start)
            self._stack.append(layer)
            self._init_graph(self._input_layer.output_tensor, output)
        else:
            self._stack.append(layer)
        return self

    def pop(self):
        """Removes the last layer; returns the model."""
        if not self._stack:
            raise ValueError(f"Model {self.name} has no layers to pop.")
        self._stack.pop()
        if self._stack and self._input_layer is not None:
            self._rebuild()
        else:
            self._reset_graph()
        return self

    def _reset_graph(self):
        self.built = False
        self.inputs, self.outputs = [], []
        self._graph_layers = []

    def _rebuild(self):
        tensor = self._input_layer.output_tensor
        for layer in self._stack:
            tensor = layer(tensor)
        self._init_graph(self._input_layer.output_tensor, tensor)

    def build(self, input_shape=None):
        """Makes the graph for inputs of `input_shape` (batch axis included)."""
        if self.built:
            return
        if not self._stack:
            raise ValueError(f"Model {self.name} has no layers yet.")
        if input_shape is None:
            raise ValueError(f"Model {self.name} does not know its input shape: give the first "
                             f"layer input_shape=..., or fit/predict on data first.")
        shape = (None,) + tuple(input_shape[1:])
        self._input_layer = InputLayer(batch_shape=shape, dtype=_input_dtype(self._stack[0]))
        self._rebuild()

    def _ensure_built(self, x):
        if not self.built:
            first = x[0] if isinstance(x, (list, tuple)) else x
            self.build(np.shape(first))

    def __call__(self, inputs, *args, **kwargs):
        if not self.built and not hasattr(inputs, "_keras_history"):
            self._ensure_built(inputs)
        elif not self.built:
            self.build(inputs.shape)
        return super().__call__(inputs, *args, **kwargs)

    @property
    def layers(self):
        return list(self._stack)

    @property
    def input_names(self):
        return super().input_names if self.built else ["input"]

    @property
    def output_names(self):
        if self.built:
            return super().output_names
        return [self._stack[-1].name if self._stack else "output"]

    def _sublayers(self):
        return list(self.__dict__.get("_stack", []))

    def get_config(self):
        from ..saving.serialization import sequential_config
        return sequential_config(self)

    @classmethod
    def from_config(cls, config_, custom_objects=None):
        from ..saving.serialization import sequential_from_config
        return sequential_from_config(cls, config_, custom_objects)

    def __repr__(self):
        shape = format_shape(self.inputs[0].shape) if self.built else "not built"
        return f"<Sequential name={self.name}, {len(self._stack)} layers, input {shape}>"


def _input_dtype(layer):
    from .. import config
    return config.floatx() if layer.casts_inputs_to_float else "int64"


def _sequential_name():
    from ..layers.base import unique_name
    return unique_name("sequential")
