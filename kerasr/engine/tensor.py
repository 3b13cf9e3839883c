"""Tensors and variables: numpy arrays that the gradient tape can follow."""

import numpy as np

from .. import config


class Tensor:
    """An array value in a computation; ops on it are differentiable while a tape records.

    Arithmetic operators, indexing and numpy ufuncs on tensors run kerasr's differentiable ops.
    """

    __slots__ = ("data", "_tape", "_keras_logits", "_keras_mask", "__weakref__")

    def __init__(self, data):
        self.data = data
        self._tape = None
        self._keras_logits = None
        self._keras_mask = None

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    T = property(lambda self: ops.transpose(self))

    def numpy(self):
        return self.data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        return f"<{type(self).__name__} shape={self.shape} dtype={self.dtype}>\n{self.data!r}"

    def __float__(self):
        return float(self.data)

    def __bool__(self):
        return bool(self.data)

    # Keeps `ndarray + tensor` from being broadcast element by element by numpy.
    def __array_ufunc__(self, ufunc, method, *args, **kwargs):
        name = _UFUNC_OPS.get(ufunc.__name__) if method == "__call__" and not kwargs else None
        if name is None:
            arrays = [a.data if isinstance(a, Tensor) else a for a in args]
            return getattr(ufunc, method)(*arrays, **kwargs)
        return getattr(ops, name)(*args)

    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.subtract(self, other)
    def __rsub__(self, other): return ops.subtract(other, self)
    def __mul__(self, other): return ops.multiply(self, other)
    def __rmul__(self, other): return ops.multiply(other, self)
    def __truediv__(self, other): return ops.divide(self, other)
    def __rtruediv__(self, other): return ops.divide(other, self)
    def __pow__(self, other): return ops.power(self, other)
    def __rpow__(self, other): return ops.power(other, self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __neg__(self): return ops.negative(self)
    def __pos__(self): return self
    def __abs__(self): return ops.abs(self)
    def __getitem__(self, index): return ops.getitem(self, index)

    # Comparisons have no gradient: they return plain boolean arrays.
    def __lt__(self, other): return self.data < _value(other)
    def __le__(self, other): return self.data <= _value(other)
    def __gt__(self, other): return self.data > _value(other)
    def __ge__(self, other): return self.data >= _value(other)

    def reshape(self, *shape):
        return ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def sum(self, axis=None, keepdims=False):
        return ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return ops.mean(self, axis=axis, keepdims=keepdims)


class Variable(Tensor):
    """A named, mutable weight. Optimizers update `data` in place."""

    __slots__ = ("name", "trainable", "regularizer", "constraint", "path")

    def __init__(self, value, name="variable", trainable=True, regularizer=None, constraint=None):
        super().__init__(np.ascontiguousarray(value))
        self.name = name
        self.trainable = trainable
        self.regularizer = regularizer
        self.constraint = constraint
        self.path = name

    def assign(self, value):
        value = np.asarray(value)
        if value.shape != self.data.shape:
            raise ValueError(f"Variable {self.name!r} has shape {self.data.shape}, "
                             f"cannot assign a value of shape {value.shape}.")
        self.data[...] = value

    def __repr__(self):
        return f"<Variable {self.name!r} shape={self.shape} dtype={self.dtype}>\n{self.data!r}"

    # Variables are identified by object, so they can live in sets and dict keys.
    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other


def _value(x):
    return x.data if isinstance(x, Tensor) else x


def as_tensor(x, dtype=None):
    """A Tensor for `x`; numbers and arrays become constants in `dtype` (default: floatx for floats)."""
    if isinstance(x, Tensor):
        return x
    array = np.asarray(x)
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    elif array.dtype.kind == "f" and array.dtype != np.dtype(config.floatx()) and array.ndim == 0:
        array = array.astype(config.floatx())
    elif array.dtype.kind in "iub" and array.ndim == 0:
        array = array.astype(config.floatx())
    return Tensor(array)


from .. import ops  # noqa: E402  (ops build on Tensor)

# numpy ufuncs that run as differentiable ops when a tensor is among their arguments.
_UFUNC_OPS = {
    "add": "add", "subtract": "subtract", "multiply": "multiply", "true_divide": "divide",
    "divide": "divide", "negative": "negative", "power": "power", "exp": "exp", "log": "log",
    "sqrt": "sqrt", "square": "square", "absolute": "abs", "maximum": "maximum",
    "minimum": "minimum", "tanh": "tanh", "matmul": "matmul",
}
