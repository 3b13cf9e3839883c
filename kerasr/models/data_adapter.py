"""Turning what users pass to fit/evaluate/predict into checked arrays, and batching them.

Every check runs before training starts, so bad data never leaves a half-trained model.
"""

import warnings

import numpy as np

from .. import config
from ..engine.tensor import Tensor
from ..layers.base import format_shape


def as_array_list(data, names, role, model_name):
    """`data` (an array, a list of arrays, or a dict by input/output name) as a list of arrays
    in the order of `names`."""
    if data is None:
        return None
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        if missing:
            raise ValueError(f"Model {model_name}: {role} is missing entries for {missing}; "
                             f"expected keys {names}, got {list(data)}.")
        return [_as_array(data[n], role) for n in names]
    if isinstance(data, (list, tuple)) and len(names) > 1:
        if len(data) != len(names):
            kind = "outputs" if role.split()[-1] in ("y", "sample_weight") else "inputs"
            raise ValueError(f"Model {model_name} has {len(names)} {kind} "
                             f"({', '.join(names)}), got a list of {len(data)} arrays for {role}.")
        return [_as_array(d, role) for d in data]
    if isinstance(data, (list, tuple)) and len(data) == 1 and _is_array_like(data[0]):
        return [_as_array(data[0], role)]
    return [_as_array(data, role)]


def _is_array_like(value):
    return isinstance(value, (np.ndarray, Tensor)) or (
        isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple)))


def _as_array(value, role):
    if isinstance(value, Tensor):
        value = value.data
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{role} must be a numeric array: {error}") from None
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(np.float64)
        except (ValueError, TypeError):
            raise ValueError(f"{role} must be numeric, got an array of dtype {array.dtype} "
                             f"(e.g. {_first(array)!r}); convert it to numbers first.") from None
    if array.ndim == 0:
        raise ValueError(f"{role} must be an array of samples, got the single value {array!r}.")
    return array


def _first(array):
    return array.reshape(-1)[0] if array.size else None


def check_finite(arrays, role):
    for i, array in enumerate(arrays):
        # A NaN or inf makes the sum non-finite; only then (or on overflow) look closer.
        if array.dtype.kind == "f" and not np.isfinite(array.sum()) and not np.isfinite(array).all():
            bad = np.argwhere(~np.isfinite(array))
            where = tuple(int(v) for v in bad[0])
            label = role if len(arrays) == 1 else f"{role} #{i}"
            raise ValueError(f"{label} contains {len(bad)} NaN or infinite value(s), the first at "
                             f"index {where}; clean or impute them before training.")


def check_sample_counts(groups):
    """All arrays in all (role, arrays) groups must have the same number of samples."""
    counts = [(role, len(a)) for role, arrays in groups if arrays is not None for a in arrays]
    if len({n for _, n in counts}) > 1:
        described = ", ".join(f"{role} has {n}" for role, n in counts)
        raise ValueError(f"x and y must have the same number of samples: {described}.")
    return counts[0][1] if counts else 0


def cast_inputs(arrays, symbolic_inputs):
    """Float data in floatx; integer inputs kept as integers where the model takes indices."""
    out = []
    for array, symbolic in zip(arrays, symbolic_inputs):
        target = np.dtype(symbolic.dtype) if symbolic is not None else np.dtype(config.floatx())
        if target.kind == "f" and array.dtype != target:
            array = array.astype(target)
        out.append(array)
    return out


def cast_targets(arrays):
    floatx = np.dtype(config.floatx())
    return [a if a.dtype == floatx else a.astype(floatx) for a in arrays]


def class_weights_to_sample_weights(class_weight, y):
    """Per-sample weights from `class_weight` ({class: weight}) for integer or one-hot labels."""
    labels = np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else (
        np.round(y.reshape(len(y), -1)[:, 0]).astype(np.int64))
    weights = np.ones(len(y), dtype=config.floatx())
    for cls, weight in class_weight.items():
        weights[labels == int(cls)] = weight
    return weights


def split_validation(arrays_groups, validation_split, n):
    """Keras's split: the last `validation_split` fraction of the samples, before shuffling."""
    split_at = int(n * (1.0 - validation_split))
    if split_at == 0 or split_at == n:
        raise ValueError(f"validation_split={validation_split} leaves no samples for "
                         f"{'training' if split_at == 0 else 'validation'} out of {n}.")
    train = [None if g is None else [a[:split_at] for a in g] for g in arrays_groups]
    val = [None if g is None else [a[split_at:] for a in g] for g in arrays_groups]
    return train, val, split_at


def batch_indices(n, batch_size, shuffle, rng_permutation):
    """Index arrays (or slices when not shuffling) for the batches of one epoch."""
    if shuffle:
        order = rng_permutation(n)
        return [order[i:i + batch_size] for i in range(0, n, batch_size)]
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def take(arrays, index):
    if arrays is None:
        return None
    if isinstance(index, slice):
        return [a[index] for a in arrays]
    return [np.take(a, index, axis=0) for a in arrays]


def describe_shape(shape):
    return format_shape(shape)


# ---- generators: Python generators/iterators of batches, and Keras-Sequence-like objects ----
def is_generator(value):
    """True for data that yields batches: a Python generator or iterator (kerasr's image
    iterators included), or a Keras `Sequence`-like object (`__getitem__`, `__len__` and
    `on_epoch_end`)."""
    if isinstance(value, (np.ndarray, Tensor, list, tuple, dict, str, bytes)):
        return False
    return hasattr(value, "__next__") or all(
        hasattr(value, name) for name in ("__getitem__", "__len__", "on_epoch_end"))


def unpack_batch(batch, role):
    """A generator's batch as (x, y, sample_weight): `x`, `(x,)`, `(x, y)` or `(x, y, sw)`
    (a list counts as a tuple, as in Keras)."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return batch, None, None
    if 1 <= len(batch) <= 3:
        return batch + (None,) * (3 - len(batch))
    raise ValueError(f"{role} must yield batches x, (x, y) or (x, y, sample_weight); got a "
                     f"batch of {len(batch)} elements.")


class GeneratorBatches:
    """`steps` batches per epoch drawn from a generator; `exhausted` once it has run dry."""

    def __init__(self, source, steps, what, steps_name):
        if steps is None:
            try:
                steps = len(source)
            except TypeError:
                raise ValueError(f"{what}: the data is a generator, which may never end: pass "
                                 f"{steps_name}= (the number of batches to draw per epoch).") from None
        if isinstance(steps, bool) or int(steps) != steps or steps < 1:
            raise ValueError(f"{steps_name} must be a positive integer, got {steps!r}.")
        self.source = source
        self.steps = int(steps)
        self.what = what
        self.steps_name = steps_name
        self.exhausted = False
        self.drawn = 0
        self._position = 0  # for Sequence-like sources

    def _next(self):
        # Sequence-like sources (kerasr's image flows too) are read by index from batch 0, as
        # Keras reads a PyDataset: predict(flow) starts at the first image even if the flow was
        # advanced by generator_next() before.
        if not all(hasattr(self.source, name) for name in ("__getitem__", "__len__", "on_epoch_end")):
            return next(self.source)
        if self._position >= len(self.source):
            self.source.on_epoch_end()
            self._position = 0
        if len(self.source) == 0:
            raise StopIteration
        self._position += 1
        return self.source[self._position - 1]

    def epoch(self):
        """Yields the raw batches of one epoch; stops early (with a warning) if the source ends."""
        for _ in range(self.steps):
            try:
                batch = self._next()
            except StopIteration:
                self.exhausted = True
                warnings.warn(f"{self.what}: the generator ran out of data after {self.drawn} "
                              f"batch(es); stopping. It must yield {self.steps_name} batches for "
                              f"every epoch (e.g. loop forever, as the image flows do).")
                return
            self.drawn += 1
            yield batch
