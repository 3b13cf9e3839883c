"""Weight penalties (Keras 3's `keras.regularizers`, R's `regularizer_*()` functions).

A regularizer is called on a weight tensor and returns a scalar Tensor built from kerasr's
differentiable ops, which the training loop adds to the loss.
"""

import math

import numpy as np

from . import ops
from .identifiers import resolve
from .engine.tensor import as_tensor


def _penalty_factor(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not (
            math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}.")
    return float(value)


class Regularizer:
    """Base class: subclasses implement `__call__(weights) -> scalar Tensor` and `get_config`."""

    def __call__(self, weights):
        raise NotImplementedError

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """l1 * sum(|w|) + l2 * sum(w^2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _penalty_factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _penalty_factor(0.0 if l2 is None else l2, "l2")

    def __call__(self, weights):
        weights = as_tensor(weights)
        penalty = as_tensor(np.zeros((), dtype=weights.dtype))
        if self.l1:
            penalty = ops.add(penalty, ops.multiply(ops.sum(ops.abs(weights)), self.l1))
        if self.l2:
            penalty = ops.add(penalty, ops.multiply(ops.sum(ops.square(weights)), self.l2))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """l1 * sum(|w|)."""

    def __init__(self, l1=0.01):
        super().__init__(l1=0.01 if l1 is None else l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """l2 * sum(w^2)."""

    def __init__(self, l2=0.01):
        super().__init__(l2=0.01 if l2 is None else l2)

    def get_config(self):
        return {"l2": self.l2}


# R keras's constructors.

def regularizer_l1(l=0.01):  # noqa: E741 (R's argument name)
    return L1(l)


def regularizer_l2(l=0.01):  # noqa: E741
    return L2(l)


def regularizer_l1_l2(l1=0.01, l2=0.01):
    return L1L2(l1, l2)


# The one table of regularizer names. The string "l1_l2" means both penalties at 0.01, as
# Keras documents (the L1L2 class itself defaults to no penalty).
_BY_NAME = {"l1": L1, "L1": L1, "l2": L2, "L2": L2, "l1_l2": regularizer_l1_l2, "L1L2": L1L2}


def get(identifier):
    """A regularizer from a name (`"l1"`, `"l2"`, `"l1_l2"`, class names), a config dict, a
    Regularizer class or instance, or a function `weights -> scalar`. None gives None."""
    return resolve(identifier, "regularizer", Regularizer, _BY_NAME)
