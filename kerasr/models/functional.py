"""Models as graphs of layers: `Model` (the trainable base) and `Functional`, the model defined
by input and output tensors. A Sequential model is a Functional one built layer by layer."""

from ..engine.graph import KerasTensor, flatten, topological_nodes
from ..engine.tape import active_tape
from ..kernels.matmul import large_products_on_kernel_blas
from ..layers.base import Layer, format_shape
from ..layers.core import InputLayer
from .fusion import inference_plan
from .training import Trainer


class Model(Trainer, Layer):
    """The base of every model: a layer that can be compiled, fitted, evaluated and saved.

    Subclass it and write `call(inputs)` for a model defined in code; build it from tensors
    (`keras_model(inputs, outputs)`) for a graph of layers.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and ("inputs" in kwargs or len(args) >= 2):
            return Functional(*args, **kwargs)
        return super().__new__(cls)

    def __init__(self, name=None, trainable=True, **kwargs):
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        Trainer.__init__(self)

    @property
    def layers(self):
        return [layer for layer in self._sublayers()]

    def get_layer(self, name=None, index=None):
        """A layer by name or by 0-based index (R keras counts from 1; kerasr from 0)."""
        layers = self.layers
        if index is not None:
            if name is not None:
                raise ValueError("get_layer() takes a name or an index, not both.")
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Model {self.name} has {len(layers)} layers; index {index} is out "
                                 f"of range (indices are 0-based).")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No layer named {name!r} in model {self.name}; layers: "
                         f"{', '.join(layer.name for layer in layers)}.")

    # A model's inputs reach its own layers unconverted (an Embedding inside wants integers).
    casts_inputs_to_float = False

    def __or__(self, other):
        """`model | layer` appends to a Sequential model; verbs handle the other cases."""
        if isinstance(other, Layer):
            if not hasattr(self, "add"):
                raise TypeError(f"Only Sequential models grow with `model | layer`; {self.name} is a "
                                f"{type(self).__name__}. Call the layer on a tensor instead: "
                                "`outputs = inputs | layer`.")
            return self.add(other)
        return NotImplemented

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False):
        """Prints Keras's table of layers, output shapes and parameter counts."""
        from .summary import print_summary
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable)

    # ---- saving (kerasr.saving does the work) ---------------------------------------------
    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Saves the whole model to a `.keras` file (see `save_model`)."""
        from ..saving import save_model
        return save_model(self, filepath, overwrite=overwrite,
                          include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        """Saves the weights to a `.weights.npz` file (see `save_model_weights`)."""
        from ..saving import save_weights
        return save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False):
        """Loads weights saved by `save_weights` (see `load_model_weights`)."""
        from ..saving import load_weights
        return load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch)

    def to_json(self, **kwargs):
        """The architecture as a JSON string (see `model_to_json`); `kwargs` go to
        `json.dumps` (e.g. `indent=2`)."""
        import json
        from ..saving.model_file import model_entry
        return json.dumps(model_entry(self), **kwargs)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    def __str__(self):
        """`print(model)` shows the summary, as printing a model does in R."""
        lines = []
        self.summary(print_fn=lines.append)
        return "\n".join(lines)


class Functional(Model):
    """A model defined by symbolic input and output tensors."""

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name or _default_name(type(self)), trainable=trainable, **kwargs)
        self._init_graph(inputs, outputs)

    def _init_graph(self, inputs, outputs):
        self._nested_inputs, self._nested_outputs = inputs, outputs
        self.inputs = flatten(inputs)
        self.outputs = flatten(outputs)
        for tensor in self.inputs + self.outputs:
            if not isinstance(tensor, KerasTensor):
                raise ValueError(f"Model {self.name}: inputs and outputs must be symbolic tensors "
                                 f"(from layer_input() and layers called on it), got {tensor!r}.")
        for tensor in self.inputs:
            if not isinstance(tensor._keras_history[0], InputLayer):
                raise ValueError(f"Model {self.name}: every input must come from layer_input(); "
                                 f"{tensor!r} is the output of layer {tensor._keras_history[0].name}.")
        self._nodes = topological_nodes(self.outputs)
        self._check_graph()
        # What `call` runs, node by node, precomputed once per graph. A `training` the layer
        # was called with when the graph was built applies only when the model's own call
        # gives none (as in Keras).
        self._plan = [(node.layer, node.inputs, node.call_kwargs.get("_args", ()),
                       {k: v for k, v in node.call_kwargs.items()
                        if k not in ("_args", "training")},
                       node.call_kwargs.get("training"),
                       [id(t) for t in node.output_tensors])
                      for node in self._nodes if not isinstance(node.layer, InputLayer)]
        self._fused_plan = None  # made on the first call without a tape (fusion.py)
        # Keras's order: the input layers as the inputs are listed, then the others.
        self._graph_layers = [t._keras_history[0] for t in self.inputs]
        for node in self._nodes:
            if all(node.layer is not known for known in self._graph_layers):
                self._graph_layers.append(node.layer)
        self.built = True
        self._build_input_shape = self.inputs[0].shape if len(self.inputs) == 1 else [
            t.shape for t in self.inputs]

    def _check_graph(self):
        given = {id(t) for t in self.inputs}
        used = {id(t) for node in self._nodes for t in node.input_tensors} | {
            id(t) for t in self.outputs}
        for node in self._nodes:
            if isinstance(node.layer, InputLayer) and id(node.output_tensors[0]) not in given:
                raise ValueError(f"Model {self.name}: the outputs depend on input "
                                 f"{node.layer.name}, which is not among the model's inputs.")
        for tensor in self.inputs:
            if id(tensor) not in used:
                raise ValueError(f"Model {self.name}: input {tensor._keras_history[0].name} "
                                 f"feeds none of the outputs; remove it or connect it.")
        names = [node.layer.name for node in self._nodes]
        for name in set(names):
            owners = {id(node.layer) for node in self._nodes if node.layer.name == name}
            if len(owners) > 1:
                raise ValueError(f"Model {self.name}: the name {name!r} is used by "
                                 f"{len(owners)} layers; all layer names in a model must be "
                                 f"unique.")

    @property
    def layers(self):
        return list(self._graph_layers)

    def _sublayers(self):
        return self.__dict__.get("_graph_layers", [])

    @property
    def input_names(self):
        return [t._keras_history[0].name for t in self.inputs]

    @property
    def output_names(self):
        return [t._keras_history[0].name for t in self.outputs]

    def call(self, inputs, training=None):
        values = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        if len(values) != len(self.inputs):
            raise ValueError(f"Model {self.name} expects {len(self.inputs)} input(s), got {len(values)}.")
        computed = {}
        for tensor, value in zip(self.inputs, values):
            computed[id(tensor)] = self._input_value(tensor, value)
        # Without a tape nothing asks for gradients: convolution + pooling pairs may fuse.
        plan = self._plan if active_tape() is not None else self._inference_plan()
        # one thread pool per model: see kernels/matmul.py
        with large_products_on_kernel_blas(self._uses_numba_threads()):
            self._run_plan(plan, computed, training)
        results = [computed[id(t)] for t in self.outputs]
        return results[0] if not isinstance(self._nested_outputs, (list, tuple)) else results

    def _inference_plan(self):
        if self._fused_plan is None:
            self._fused_plan = inference_plan(self._plan, self.outputs)
        return self._fused_plan

    def _run_plan(self, plan, computed, training):
        """Calls the layers of ``plan`` in order, adding their outputs to ``computed`` (by the
        id of their symbolic tensors)."""
        for layer, symbolic_inputs, args, kwargs, built_training, output_ids in plan:
            if isinstance(symbolic_inputs, KerasTensor):
                layer_inputs = computed[id(symbolic_inputs)]
            else:
                layer_inputs = _fill(symbolic_inputs, computed)
            outputs = layer(layer_inputs, *args,
                            training=built_training if training is None else training, **kwargs)
            if len(output_ids) == 1:
                computed[output_ids[0]] = outputs
            else:
                computed.update(zip(output_ids, flatten(outputs)))

    def _input_value(self, symbolic, value):
        """Checks a value fed to an input against the input's shape."""
        shape = getattr(value, "shape", None)
        if shape is None:
            return value
        expected = symbolic.shape
        if len(shape) != len(expected) or any(e is not None and e != s
                                               for e, s in zip(expected[1:], shape[1:])):
            receiver = self._first_consumer(symbolic)
            raise ValueError(f"{receiver} expects input of shape {format_shape(expected)}, "
                             f"got {format_shape(tuple(shape))}.")
        return value

    def _first_consumer(self, symbolic):
        for node in self._nodes:
            if any(t is symbolic for t in node.input_tensors):
                return node.layer.name
        return self.name

    def get_config(self):
        from ..saving.serialization import functional_config
        return functional_config(self)

    @classmethod
    def from_config(cls, config_, custom_objects=None):
        from ..saving.serialization import functional_from_config
        return functional_from_config(cls, config_, custom_objects)

    @property
    def input_shape(self):
        if not self.inputs:
            raise AttributeError(f"Model {self.name} has no input shape yet: give its first layer "
                                 f"input_shape= or call it on data.")
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        if not self.outputs:
            raise AttributeError(f"Model {self.name} has no output shape yet: give its first layer "
                                 f"input_shape= or call it on data.")
        return self.compute_output_shape(self.input_shape)

    def compute_output_shape(self, input_shape):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if not isinstance(self._nested_outputs, (list, tuple)) else shapes

    def _call_symbolic(self, inputs, args, kwargs):
        given = flatten(inputs)
        for tensor, symbolic in zip(given, self.inputs):
            self._input_value(symbolic, tensor)
        return Layer._call_symbolic(self, inputs, args, kwargs)

    def output_dtype(self, inputs):
        return self.outputs[0].dtype


def _fill(structure, computed):
    if isinstance(structure, (list, tuple)):
        return type(structure)(_fill(s, computed) for s in structure)
    if isinstance(structure, dict):
        return {k: _fill(v, computed) for k, v in structure.items()}
    if isinstance(structure, KerasTensor):
        return computed[id(structure)]
    return structure


def _default_name(cls):
    from ..identifiers import snake_case
    from ..layers.base import unique_name
    return unique_name("functional" if cls is Functional else snake_case(cls.__name__))

