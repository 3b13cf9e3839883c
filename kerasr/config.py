"""Global numeric settings: the default float type and the fuzz factor (Keras's `floatx` and `epsilon`)."""

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_VALID_FLOATX = ("float16", "float32", "float64")


def floatx():
    """The default float type as a string, `"float32"` unless changed."""
    return _FLOATX


def set_floatx(value):
    """Set the default float type; new weights and inputs use it."""
    global _FLOATX
    value = str(np.dtype(value)) if not isinstance(value, str) else value
    if value not in _VALID_FLOATX:
        raise ValueError(f"Unknown floatx {value!r}; expected one of {list(_VALID_FLOATX)}.")
    _FLOATX = value


def epsilon():
    """The fuzz factor used to keep divisions and logarithms finite."""
    return _EPSILON


def set_epsilon(value):
    global _EPSILON
    _EPSILON = float(value)
