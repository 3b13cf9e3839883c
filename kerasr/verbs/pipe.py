"""How R keras's verbs behave in Python: `|` as magrittr's `%>%`, built on `pipe.Pipe`.

A verb called with its subject first (a model, or an array for the array verbs) runs at once,
as in R: `fit(model, x, y)`. Called without it, it binds the arguments and waits for `|`:
`model | fit(x, y)`. Layer verbs return the layer itself when no object is given; layers are
pipeable on their own (`model | layer`, `tensor | layer`).
"""

import builtins
import inspect

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


def make_layer(layer_class, arguments, first_argument=None):
    """Builds a layer from a `layer_*` verb's arguments and composes it with `object`.

    Returns the model (layer added), the layer's output (for a tensor), or the layer itself.
    Called without a model or tensor first, the positional values belong to the layer's own
    arguments: `layer_dense(64, "relu")`, `layer_conv_2d(32, c(3, 3))`.
    """
    arguments = dict(arguments)  # the verb's locals(): its parameters, in order
    target = arguments.pop("object")
    if target is not None and not is_layer_target(target):
        if isinstance(target, Layer):
            raise TypeError(f"A layer cannot be piped into {layer_class.__name__}: pipe a model or "
                            f"a tensor, e.g. `model | layer`.")
        if first_argument is None:
            raise TypeError(f"The first argument of this layer verb must be a model or a tensor, "
                            f"got {target!r}.")
        caller = inspect.currentframe().f_back  # the layer_* verb, whose defaults count
        verb = caller.f_globals.get(caller.f_code.co_name)
        _shift_positional(arguments, verb if callable(verb) else layer_class, first_argument,
                          target)
        target = None
    layer = layer_class(**arguments)
    return compose(target, layer)


def _shift_positional(arguments, verb, first_argument, value):
    """Moves positional values one parameter along, from `first_argument` on.

    `object` held the first positional value; the following ones sit in the parameters after
    it. They shift until a parameter still holding the verb's default takes the last of them.
    """
    defaults = {name: p.default for name, p in inspect.signature(verb).parameters.items()}
    names = list(arguments)
    for name in names[names.index(first_argument):]:
        current = arguments[name]
        arguments[name] = value
        if _is_default(current, defaults.get(name)):
            return
        value = current
    raise TypeError(f"Too many positional arguments for {getattr(verb, '__name__', verb)}().")


def _is_default(value, default):
    if value is None or value is default:
        return True
    try:
        return bool(value == default)
    except (TypeError, ValueError):
        return False


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
