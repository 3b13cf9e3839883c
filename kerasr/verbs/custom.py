"""R keras's ways to make custom layers and to clone models."""

from ..layers.base import Layer
from ..models.cloning import clone_model as _clone_model
from .pipe import compose

__all__ = ["create_layer", "new_layer_class", "clone_model"]

# Arguments every layer takes; new_layer_class hands them to Layer.__init__.
_BASE_ARGUMENTS = ("name", "trainable", "dtype", "input_shape", "batch_input_shape",
                   "batch_size", "input_dim", "weights")


def create_layer(layer_class, object=None, args=None):
    """An instance of a custom layer class made with `args` (a dict), composed with `object`
    like any layer verb: returns the model (layer added), the output tensor, or the layer."""
    if not (isinstance(layer_class, type) and issubclass(layer_class, Layer)):
        raise TypeError(f"create_layer() needs a Layer subclass, got {layer_class!r}.")
    return compose(object, layer_class(**dict(args or {})))


def new_layer_class(classname, initialize=None, build=None, call=None, compute_output_shape=None,
                    get_config=None, **methods):
    """A Layer subclass from functions of `self` (R keras's `new_layer_class()`).

    `initialize(self, ...)` receives the layer's own arguments (the common ones, such as
    `name` or `input_shape`, go to the base class first); `build(self, input_shape)` makes
    weights with `self.add_weight(...)`; `call(self, inputs)` holds the math in `k_*` ops,
    which the engine differentiates. Returns the class: call it, or pass it to create_layer().
    """
    if call is None:
        raise ValueError(f"new_layer_class({classname!r}) needs a call function.")

    def __init__(self, *args, **kwargs):
        base = {key: kwargs.pop(key) for key in _BASE_ARGUMENTS if key in kwargs}
        Layer.__init__(self, **base)
        self._init_arguments = (args, dict(kwargs))
        if initialize is not None:
            initialize(self, *args, **kwargs)

    def default_get_config(self):
        args, kwargs = self._init_arguments
        if args:
            raise NotImplementedError(f"{classname}.get_config(): give the layer's arguments by "
                                      "name, or define get_config.")
        return {**Layer.get_config(self), **kwargs}

    namespace = {"__init__": __init__, "call": call, "get_config": get_config or default_get_config,
                 "__doc__": f"Custom layer {classname} (made with new_layer_class)."}
    if build is not None:
        namespace["build"] = build
    if compute_output_shape is not None:
        namespace["compute_output_shape"] = compute_output_shape
    namespace.update(methods)
    return type(classname, (Layer,), namespace)


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture and freshly initialised weights. Returns it."""
    return _clone_model(model, input_tensors=input_tensors, clone_function=clone_function)
