"""`clone_model`: the same architecture with new layers (and so new, freshly drawn weights)."""

from ..engine.graph import KerasTensor, flatten, map_structure
from ..layers.core import Input, InputLayer
from .functional import Functional, Model
from .sequential import Sequential


def clone_model(model, input_tensors=None, clone_function=None):
    """A copy of `model`'s architecture. Each layer is rebuilt from its config (weights are
    initialised anew) or by `clone_function(layer)`; models used as layers are cloned whole."""
    clone_function = clone_function or _from_config

    def clone_layer(layer):
        return clone_model(layer, clone_function=clone_function) if isinstance(layer, Model) \
            else clone_function(layer)

    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, clone_layer)
    if not isinstance(model, Functional):
        raise ValueError(f"clone_model() clones Sequential and functional models; {model.name} is "
                         f"a subclassed {type(model).__name__}: construct a new one instead.")
    return _clone_functional(model, input_tensors, clone_layer)


def _from_config(layer):
    return type(layer).from_config(layer.get_config())


def _clone_sequential(model, input_tensors, clone_layer):
    clone = Sequential(name=model.name)
    if input_tensors is not None:
        clone.add(_input_layer_of(input_tensors))
    elif model._input_layer is not None:
        source = model._input_layer
        clone.add(InputLayer(batch_shape=source.batch_shape, dtype=source.dtype, name=source.name))
    for layer in model.layers:
        clone.add(clone_layer(layer))
    return clone


def _input_layer_of(input_tensors):
    tensor = flatten(input_tensors)[0]
    if not isinstance(tensor, KerasTensor):
        raise ValueError("input_tensors must be symbolic tensors from layer_input().")
    return tensor._keras_history[0]


def _clone_functional(model, input_tensors, clone_layer):
    if input_tensors is None:
        input_tensors = [Input(batch_shape=t.shape, dtype=t.dtype, name=t._keras_history[0].name)
                         for t in model.inputs]
    new_inputs = flatten(input_tensors)
    if len(new_inputs) != len(model.inputs):
        raise ValueError(f"clone_model(): model {model.name} has {len(model.inputs)} inputs, got "
                         f"{len(new_inputs)} input tensors.")
    computed = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    clones = {}
    for node in model._nodes:
        if isinstance(node.layer, InputLayer):
            continue
        layer = clones.get(id(node.layer))
        if layer is None:
            layer = clones[id(node.layer)] = clone_layer(node.layer)
        arguments = map_structure(lambda t: computed[id(t)] if isinstance(t, KerasTensor) else t,
                                  node.inputs)
        kwargs = {k: v for k, v in node.call_kwargs.items() if k != "_args"}
        outputs = layer(arguments, *node.call_kwargs.get("_args", ()), **kwargs)
        computed.update(zip((id(t) for t in node.output_tensors), flatten(outputs)))
    outputs = map_structure(lambda t: computed[id(t)], model._nested_outputs)
    inputs = new_inputs if isinstance(model._nested_inputs, (list, tuple)) else new_inputs[0]
    return Functional(inputs=inputs, outputs=outputs, name=model.name)
