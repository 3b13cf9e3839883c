"""How R keras's verbs behave in Python: `|` as magrittr's `%>%`, built on `pipe.Pipe`.

A verb called with its subject first (a model, or an array for the array verbs) runs at once,
as in R: `fit(model, x, y)`. Called without it, it binds the arguments and waits for `|`:
`model | fit(x, y)`. Layer verbs return the layer itself when no object is given; layers are
pipeable on their own (`model | layer`, `tensor | layer`).
"""

import builtins

import numpy as np
from pipe import Pipe

from ..engine.graph import KerasTensor
from ..engine.tensor import Tensor
from ..layers.base import Layer
from ..models.functional import Model


class Verb(Pipe):
    """A pipeable R keras verb."""

    # numpy must hand the whole array to the verb (`y | to_categorical(10)`), not broadcast `|`.
    __array_ufunc__ = None

    def __init__(self, function, *args, subject=None, **kwargs):
        super().__init__(function, *args, **kwargs)
        self._target = function
        self._bound = (args, kwargs)
        self._subject = subject or is_model

    def __call__(self, *args, **kwargs):
        bound_args, bound_kwargs = self._bound
        if not bound_args and not bound_kwargs and args and self._subject(args[0]):
            return self._target(*args, **kwargs)
        return type(self)(self._target, *bound_args, *args, subject=self._subject,
                          **bound_kwargs, **kwargs)

    def __repr__(self):
        return f"<kerasr verb {self.__name__}: waiting for `object | {self.__name__}(...)`>"


def verb(subject=None):
    """Decorator making a function a `Verb` whose first argument is `subject`."""
    def wrap(function):
        return Verb(function, subject=subject)
    return wrap


def is_model(value):
    return isinstance(value, Model)


def is_array_like(value):
    return isinstance(value, (np.ndarray, Tensor, list, tuple, np.generic)) and not isinstance(value, Verb)


def is_layer_target(value):
    """What a layer verb can be applied to: a model, a symbolic tensor, data, or a list of them."""
    if isinstance(value, (Model, KerasTensor, Tensor, np.ndarray)):
        return True
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(
        isinstance(v, (KerasTensor, Tensor, np.ndarray)) for v in value)


def create_layer(layer_class, arguments, first_argument=None):
    """Builds a layer from a `layer_*` verb's arguments and composes it with `object`.

    Returns the model (layer added), the layer's output (for a tensor), or the layer itself.
    A first positional value that is not a model or a tensor is taken as the layer's first
    argument (`layer_dense(64, activation="relu")`).
    """
    arguments = dict(arguments)
    target = arguments.pop("object")
    if target is not None and not is_layer_target(target):
        if isinstance(target, Layer):
            raise TypeError(f"A layer cannot be piped into {layer_class.__name__}: pipe a model or "
                            f"a tensor, e.g. `model | layer`.")
        if first_argument is None or arguments.get(first_argument) is not None:
            raise TypeError(f"The first argument of this layer verb must be a model or a tensor, "
                            f"got {target!r}.")
        arguments[first_argument] = target
        target = None
    layer = layer_class(**arguments)
    return compose(target, layer)


def compose(target, layer):
    if target is None:
        return layer
    if isinstance(target, Model):
        return target | layer
    return layer(target)


_BUILTIN_COMPILE_KEYWORDS = {"source", "filename", "mode", "flags", "dont_inherit", "_feature_version"}


def is_builtin_compile_call(args, kwargs):
    """True for Python's own `compile(source, filename, mode, ...)`."""
    if _BUILTIN_COMPILE_KEYWORDS & set(kwargs):
        return True
    return len(args) >= 3 and isinstance(args[0], (str, bytes)) or (
        bool(args) and type(args[0]).__module__ == "ast")


builtin_compile = builtins.compile
