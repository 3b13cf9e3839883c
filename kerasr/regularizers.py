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


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (`mode="rows"`) or columns (`mode="columns"`) of a rank-2 weight towards
    mutual orthogonality: `factor * 0.5 * sum(|offdiag(N N')|) / (size * (size - 1) / 2)`,
    with N the L2-normalized rows (or columns), i.e. `factor` times the mean absolute cosine
    between distinct rows (Keras 3's formula). For a Dense kernel (input_dim, units) rows mode
    makes the feature vectors orthogonal."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _penalty_factor(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(f'mode must be one of "rows", "columns", got {mode!r}.')
        self.mode = mode

    def __call__(self, weights):
        weights = as_tensor(weights)
        if weights.ndim != 2:
            raise ValueError(f"The orthogonal regularizer needs a rank-2 weight, got shape "
                             f"{tuple(weights.shape)}.")
        axis = 1 if self.mode == "rows" else 0
        size = weights.shape[1 - axis]
        if size < 2:  # a single row (column) is orthogonal to all others: no penalty
            return as_tensor(np.zeros((), dtype=weights.dtype))
        squares = ops.sum(ops.square(weights), axis=axis, keepdims=True)
        # tf.math.l2_normalize's floor on the squared norm keeps zero rows finite.
        floor = np.asarray(1e-12, dtype=weights.dtype)
        normalized = ops.divide(weights, ops.sqrt(ops.maximum(squares, floor)))
        if self.mode == "rows":
            product = ops.matmul(normalized, ops.transpose(normalized))
        else:
            product = ops.matmul(ops.transpose(normalized), normalized)
        off_diagonal = ops.multiply(product, (1 - np.eye(size)).astype(weights.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        return ops.multiply(ops.sum(ops.abs(off_diagonal)), self.factor * 0.5 / num_pairs)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# R keras's constructors.

def regularizer_l1(l=0.01):  # noqa: E741 (R's argument name)
    return L1(l)


def regularizer_l2(l=0.01):  # noqa: E741
    return L2(l)


def regularizer_l1_l2(l1=0.01, l2=0.01):
    return L1L2(l1, l2)


def regularizer_orthogonal(factor=0.01, mode="rows"):
    return OrthogonalRegularizer(factor, mode)


# The one table of regularizer names. The string "l1_l2" means both penalties at 0.01, as
# Keras documents (the L1L2 class itself defaults to no penalty).
_BY_NAME = {"l1": L1, "L1": L1, "l2": L2, "L2": L2, "l1_l2": regularizer_l1_l2, "L1L2": L1L2,
            "orthogonal_regularizer": OrthogonalRegularizer,
            "OrthogonalRegularizer": OrthogonalRegularizer}


def get(identifier):
    """A regularizer from a name (`"l1"`, `"l2"`, `"l1_l2"`, class names), a config dict, a
    Regularizer class or instance, or a function `weights -> scalar`. None gives None."""
    return resolve(identifier, "regularizer", Regularizer, _BY_NAME)
