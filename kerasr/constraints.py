"""Weight constraints (Keras 3's `keras.constraints`, R's `constraint_*()` functions).

A constraint maps a weight array to its projection (e.g. rescaled to a maximum norm); the
optimizer applies it to the weight after every update. Constraints work on numpy arrays and
are not differentiated.
"""

import numpy as np

from . import config
from .identifiers import resolve


class Constraint:
    """Base class: subclasses implement `__call__(weights) -> array`."""

    def __call__(self, weights):
        return weights

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _norms(weights, axis):
    return np.sqrt(np.sum(np.square(weights), axis=_axis(axis), keepdims=True))


def _axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _axis_argument(axis):
    """An axis (int) or axes (a tuple; JSON gives a list back) as plain Python ints."""
    if isinstance(axis, (list, tuple, np.ndarray)):
        return tuple(int(a) for a in axis)
    return int(axis)


def _number(value):
    return value.item() if isinstance(value, np.generic) else value


class MinMaxNorm(Constraint):
    """Rescales each slice along `axis` towards a norm in [min_value, max_value]: to
    `rate * clip(norm, min_value, max_value) + (1 - rate) * norm`.

    For a Dense kernel (input_dim, units), axis=0 constrains each unit's incoming weights.
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        if min_value < 0 or max_value < min_value:
            raise ValueError(f"Norm bounds need 0 <= min_value <= max_value, got "
                             f"min_value={min_value!r}, max_value={max_value!r}.")
        self.min_value = _number(min_value)
        self.max_value = _number(max_value)
        self.rate = _number(rate)
        self.axis = _axis_argument(axis)

    def __call__(self, weights):
        weights = np.asarray(weights)
        norms = _norms(weights, self.axis)
        desired = self.rate * np.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return (weights * (desired / (config.epsilon() + norms))).astype(weights.dtype, copy=False)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


class MaxNorm(MinMaxNorm):
    """Rescales each slice along `axis` whose norm exceeds `max_value` down to it."""

    def __init__(self, max_value=2, axis=0):
        super().__init__(min_value=0.0, max_value=max_value, rate=1.0, axis=axis)

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class UnitNorm(Constraint):
    """Rescales each slice along `axis` to norm 1."""

    def __init__(self, axis=0):
        self.axis = _axis_argument(axis)

    def __call__(self, weights):
        weights = np.asarray(weights)
        return (weights / (config.epsilon() + _norms(weights, self.axis))).astype(
            weights.dtype, copy=False)

    def get_config(self):
        return {"axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, weights):
        return np.maximum(weights, 0).astype(np.asarray(weights).dtype, copy=False)


# R keras's constructors.

def constraint_maxnorm(max_value=2, axis=0):
    return MaxNorm(max_value, axis)


def constraint_minmaxnorm(min_value=0, max_value=1, rate=1, axis=0):
    return MinMaxNorm(min_value, max_value, rate, axis)


def constraint_unitnorm(axis=0):
    return UnitNorm(axis)


def constraint_nonneg():
    return NonNeg()


# The one table of constraint names: Keras's snake_case names, Keras 2's short aliases
# and the class names (added below).
_BY_NAME = {
    "max_norm": MaxNorm, "maxnorm": MaxNorm, "min_max_norm": MinMaxNorm,
    "minmaxnorm": MinMaxNorm, "unit_norm": UnitNorm, "unitnorm": UnitNorm,
    "non_neg": NonNeg, "nonneg": NonNeg,
}
_BY_NAME.update({cls.__name__: cls for cls in set(_BY_NAME.values())})


def get(identifier):
    """A constraint from a name (`"max_norm"`, `"MaxNorm"`, ...), a config dict, a
    Constraint class or instance, or a function `array -> array`. None gives None."""
    return resolve(identifier, "constraint", Constraint, _BY_NAME)
