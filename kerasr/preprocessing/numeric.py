"""Label encoding and vector scaling (Keras's `to_categorical` and `normalize`)."""

import numpy as np


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encodes 0-based integer labels: shape y.shape + (num_classes,), a trailing
    axis of size 1 in y dropped first, as Keras does."""
    labels = np.asarray(getattr(y, "data", y))
    if labels.dtype.kind not in "biuf":
        raise ValueError(f"to_categorical() expects integer class labels, got dtype {labels.dtype}.")
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise ValueError("to_categorical() expects integer class labels, got non-integer values.")
    labels = labels.astype(np.int64)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.size and labels.min() < 0:
        raise ValueError(f"to_categorical() expects labels counted from 0, got {labels.min()}.")
    largest = int(labels.max()) if labels.size else -1
    if num_classes is None:
        num_classes = largest + 1
    elif int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}.")
    elif largest >= num_classes:
        raise ValueError(f"to_categorical(): label {largest} does not fit num_classes={num_classes} "
                         f"(labels are counted from 0).")
    num_classes = int(num_classes)
    out = np.zeros(labels.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, labels[..., None], 1, axis=-1)
    return out


def normalize(x, axis=-1, order=2):
    """Scales vectors along `axis` to unit `order`-norm; zero vectors stay zero."""
    x = np.asarray(getattr(x, "data", x))
    norms = np.atleast_1d(np.linalg.norm(x, order, axis))
    norms[norms == 0] = 1
    return x / np.expand_dims(norms, axis)
