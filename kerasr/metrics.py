"""Metrics (Keras 3's `keras.metrics`, R's `metric_*()` functions).

Metrics are stateful and work on numpy arrays (kerasr Tensors are accepted too); they are
never differentiated. `update_state(y_true, y_pred, sample_weight=None)` accumulates a
batch, `result()` gives the value so far as a float, `reset_state()` starts over.
Metric functions such as `binary_accuracy(y_true, y_pred)` return one value per sample;
`MeanMetricWrapper` keeps their running mean weighted by the sample weights,
sum(values * weights) / sum(weights), as Keras does.

AUC, Precision, Recall, the true/false positive/negative counts and MeanIoU keep counts
instead (float64 confusion counts at thresholds, a confusion matrix), so their value over an
epoch is computed from all of its predictions, not averaged over batches; the counting runs
in Numba kernels (kerasr/kernels/metrics.py).
"""

import numpy as np

from . import config, losses
from .engine.tensor import Tensor
from .identifiers import lookup, snake_case
from .kernels import metrics as metric_kernels
from .losses import r_function, squeeze_or_expand_to_same_rank


def _array(x):
    return np.asarray(x.data if isinstance(x, Tensor) else x)


# ---- metric functions: one value per sample ----------------------------------------------

def _matches(equal):
    return equal.astype(config.floatx())


def accuracy(y_true, y_pred):
    """How often y_pred equals y_true exactly, averaged over the last axis."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(_array(y_true), _array(y_pred))
    return np.mean(_matches(y_true == y_pred), axis=-1)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """How often (y_pred > threshold) equals the 0/1 label, averaged over the last axis."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(_array(y_true), _array(y_pred))
    return np.mean(_matches(y_true == (y_pred > threshold)), axis=-1)


def categorical_accuracy(y_true, y_pred):
    """Whether the predicted class (argmax of y_pred) is the one-hot target's class."""
    return _matches(np.argmax(_array(y_true), axis=-1) == np.argmax(_array(y_pred), axis=-1))


def _sparse_labels(y_true, y_pred):
    """Integer labels with a trailing axis of size 1 squeezed, as Keras accepts (n, 1)."""
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        return y_true.reshape(y_true.shape[:-1])
    return y_true


def sparse_categorical_accuracy(y_true, y_pred):
    """Whether the predicted class (argmax of y_pred) is the integer label."""
    y_pred = _array(y_pred)
    return _matches(_sparse_labels(_array(y_true), y_pred) == np.argmax(y_pred, axis=-1))


def _in_top_k(labels, y_pred, k):
    """TensorFlow's in_top_k: a label counts when fewer than k classes score strictly
    higher, so ties at the k-th place all count."""
    scores = y_pred.reshape(-1, y_pred.shape[-1])
    flat = labels.reshape(-1).astype(np.int64)
    label_scores = scores[np.arange(flat.size), flat]
    higher = np.sum(scores > label_scores[:, None], axis=-1)
    return _matches(higher < k).reshape(labels.shape)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Whether the one-hot target's class is among the k highest-scored classes."""
    return _in_top_k(np.argmax(_array(y_true), axis=-1), _array(y_pred), k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Whether the integer label is among the k highest-scored classes."""
    y_pred = _array(y_pred)
    return _in_top_k(_sparse_labels(_array(y_true), y_pred), y_pred, k)


def cosine_similarity(y_true, y_pred, axis=-1):
    """sum(l2_normalize(y_true) * l2_normalize(y_pred), axis): 1 when the vectors point the
    same way, 0 when orthogonal (or one of them is zero)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(_array(y_true).astype(np.float64),
                                                    _array(y_pred).astype(np.float64))
    tiny = config.epsilon() ** 2
    y_true = y_true / np.sqrt(np.maximum(np.sum(np.square(y_true), axis=axis, keepdims=True), tiny))
    y_pred = y_pred / np.sqrt(np.maximum(np.sum(np.square(y_pred), axis=axis, keepdims=True), tiny))
    return np.sum(y_true * y_pred, axis=axis)


def custom_metric(name, metric_fn):
    """R keras's `custom_metric(name, metric_fn)`: `metric_fn(y_true, y_pred)` under the name
    the training history logs it as (`compile(metrics = list(custom_metric("f", fn)))` logs
    "f" and "val_f"). It may return one value per sample or one value per batch."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"custom_metric() needs a non-empty name; got {name!r}.")
    if not callable(metric_fn):
        raise ValueError(f"custom_metric() needs a function (y_true, y_pred); got {metric_fn!r}.")

    def metric(y_true, y_pred):
        return metric_fn(y_true, y_pred)

    metric.__name__ = metric.__qualname__ = name
    metric.__doc__ = getattr(metric_fn, "__doc__", None)
    metric._kerasr_custom = metric_fn
    return metric


# ---- Metric objects ------------------------------------------------------------------------

class Metric:
    """Base class: subclasses implement `update_state`, `result` and `reset_state`.
    Calling a metric updates it with a batch and returns the result so far."""

    def __init__(self, name=None, dtype=None):
        self.name = name or snake_case(type(self).__name__)
        self.dtype = dtype or config.floatx()

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} result={self.result()!r}>"


def _samplewise(values, sample_weight):
    """Per-sample values (the mean over non-batch axes) weighted by `sample_weight`, and
    the per-sample weights; Keras's reduction of metric values."""
    values = np.asarray(values, dtype=np.float64)
    if sample_weight is None:
        weights = None
    else:
        weights = np.asarray(_array(sample_weight), dtype=np.float64)
        values, weights = squeeze_or_expand_to_same_rank(values, weights)
        if values.ndim > weights.ndim:
            values = values.mean(axis=tuple(range(weights.ndim, values.ndim)))
        weights = np.broadcast_to(weights, values.shape)
        values = values * weights
        if weights.ndim > 1:
            weights = weights.mean(axis=tuple(range(1, weights.ndim)))
    if values.ndim > 1:
        values = values.mean(axis=tuple(range(1, values.ndim)))
    return values, weights


class Mean(Metric):
    """The (weighted) mean of the values seen: sum(values * weights) / sum(weights)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name, dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        if np.ndim(values) == 0 and np.ndim(sample_weight) == 0:
            # One number (a batch's loss), weighted by one number (its batch size).
            weight = 1.0 if sample_weight is None else float(sample_weight)
            self.total += float(values) * weight
            self.count += weight
            return
        values = _array(values)
        if sample_weight is None and values.ndim == 1:
            # The common case, one value per sample: skip the weighting machinery.
            self.total += float(values.sum(dtype=np.float64))
            self.count += values.shape[0]
            return
        values, weights = _samplewise(values, sample_weight)
        self.total += float(np.sum(values))
        if weights is not None:
            self.count += float(np.sum(weights))
        else:
            self.count += values.shape[0] if values.ndim else 1

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The running mean of `fn(y_true, y_pred, **kwargs)`, a function giving one value per
    sample (as a numpy array or a Tensor)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", None) or snake_case(
            type(fn).__name__), dtype)
        self.fn = fn
        self.fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(_array(self.fn(y_true, y_pred, **self.fn_kwargs)), sample_weight)

    def get_config(self):
        config = {**super().get_config(), **self.fn_kwargs}
        if type(self) is MeanMetricWrapper:
            config["fn"] = self.fn
        return config


class Accuracy(MeanMetricWrapper):
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if not 0 < threshold < 1:
            raise ValueError(f"threshold must be in (0, 1), got {threshold!r}.")
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name, dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=k)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(losses.mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(losses.mean_absolute_error, name, dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(losses.mean_absolute_percentage_error, name, dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(losses.mean_squared_logarithmic_error, name, dtype)


class RootMeanSquaredError(Mean):
    """sqrt of the (weighted) mean of the squared errors."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = squeeze_or_expand_to_same_rank(_array(y_true), _array(y_pred))
        super().update_state(np.square(y_pred - y_true, dtype=np.float64), sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


class BinaryCrossentropy(MeanMetricWrapper):
    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0.0):
        super().__init__(losses.binary_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0.0, axis=-1):
        super().__init__(losses.categorical_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 axis=-1):
        super().__init__(losses.sparse_categorical_crossentropy, name, dtype,
                         from_logits=from_logits, axis=axis)


class BinaryFocalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="binary_focal_crossentropy", dtype=None, apply_class_balancing=False,
                 alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
        super().__init__(losses.binary_focal_crossentropy, name, dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="categorical_focal_crossentropy", dtype=None, alpha=0.25, gamma=2.0,
                 from_logits=False, label_smoothing=0.0, axis=-1):
        super().__init__(losses.categorical_focal_crossentropy, name, dtype, alpha=alpha,
                         gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)


class Hinge(MeanMetricWrapper):
    def __init__(self, name="hinge", dtype=None):
        super().__init__(losses.hinge, name, dtype)


class SquaredHinge(MeanMetricWrapper):
    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(losses.squared_hinge, name, dtype)


class CategoricalHinge(MeanMetricWrapper):
    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(losses.categorical_hinge, name, dtype)


class KLDivergence(MeanMetricWrapper):
    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(losses.kl_divergence, name, dtype)


class Poisson(MeanMetricWrapper):
    def __init__(self, name="poisson", dtype=None):
        super().__init__(losses.poisson, name, dtype)


class LogCoshError(MeanMetricWrapper):
    def __init__(self, name="logcosh", dtype=None):
        super().__init__(losses.log_cosh, name, dtype)


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity of targets and predictions (1 when they point the same way;
    the loss of the same name is its negative)."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name, dtype, axis=axis)


class Sum(Metric):
    """The (weighted) sum of the values seen."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name, dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(_array(values), dtype=np.float64)
        if sample_weight is not None:
            weights = np.asarray(_array(sample_weight), dtype=np.float64)
            values, weights = squeeze_or_expand_to_same_rank(values, weights)
            weights = weights.reshape(weights.shape + (1,) * (values.ndim - weights.ndim))
            try:
                values = values * weights
            except ValueError:
                raise ValueError(f"{self.name}: sample_weight of shape {weights.shape} does not fit "
                                 f"values of shape {values.shape}.") from None
        self.total += float(np.sum(values))

    def result(self):
        return self.total


# ---- confusion-matrix metrics: AUC, precision, recall, true/false positives/negatives ------

# The threshold every top-k prediction exceeds and every filtered-out one does not.
_NEG_INF = -1e10


def _parse_thresholds(thresholds, default, owner):
    """`thresholds` (a number or a list of numbers in [0, 1]) as a list of floats."""
    if thresholds is None:
        return [float(default)]
    values = [thresholds] if np.ndim(thresholds) == 0 else list(np.asarray(thresholds).ravel())
    if not values:
        raise ValueError(f"{owner}: thresholds must not be empty.")
    try:
        values = [float(v) for v in values]
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: threshold values must be numbers in [0, 1]; got "
                         f"{thresholds!r}.") from None
    invalid = [v for v in values if not 0.0 <= v <= 1.0]
    if invalid:
        raise ValueError(f"{owner}: threshold values must be in [0, 1]; got {invalid}.")
    return values


def _evenly_distributed(thresholds):
    """Whether the thresholds are i / (n - 1) for i = 0..n-1 (Keras's test), which lets the
    counts come from one histogram instead of comparing with every threshold."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float64) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=config.epsilon()))


def _filter_top_k(y_pred, k):
    """y_pred with all but the k largest values of each row (last axis) set to _NEG_INF;
    of tied values, the first ones are kept."""
    order = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    out = np.full_like(y_pred, _NEG_INF)
    np.put_along_axis(out, order, np.take_along_axis(y_pred, order, axis=-1), axis=-1)
    return out


def _confusion_inputs(owner, y_true, y_pred, sample_weight, top_k=None, class_id=None,
                      label_weights=None, multi_label=False, logits_hint=False):
    """Targets, predictions and weights as float64 (elements, labels) arrays: flattened to
    one column, or one column per label for multi-label metrics."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(_array(y_true), _array(y_pred))
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{owner} expects y_true and y_pred of the same shape; got "
                         f"{y_true.shape} and {y_pred.shape}.")
    if y_pred.dtype.kind not in "fiub" or y_true.dtype.kind not in "fiub":
        raise ValueError(f"{owner} expects numeric y_true and y_pred; got {y_true.dtype} and "
                         f"{y_pred.dtype}.")
    y_pred = y_pred.astype(np.float64)
    y_true = y_true.astype(np.float64)
    if y_pred.size and not (y_pred.min() >= 0.0 and y_pred.max() <= 1.0):
        hint = (" They look like logits: pass from_logits=True." if logits_hint else
                " Use a sigmoid or softmax output.")
        raise ValueError(f"{owner} expects predictions in [0, 1] (probabilities); got values "
                         f"from {y_pred.min()} to {y_pred.max()}.{hint}")
    if sample_weight is None:
        weights = np.ones(y_pred.shape)
    else:
        weights = np.asarray(_array(sample_weight), dtype=np.float64)
        if weights.ndim:
            _, weights = squeeze_or_expand_to_same_rank(y_pred, weights, expand_rank_1=False)
            weights = weights.reshape(weights.shape + (1,) * (y_pred.ndim - weights.ndim))
        try:
            weights = np.broadcast_to(weights, y_pred.shape)
        except ValueError:
            raise ValueError(f"{owner}: sample_weight of shape {np.shape(sample_weight)} does not "
                             f"fit predictions of shape {y_pred.shape}.") from None
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 0 or not 0 <= class_id < y_pred.shape[-1]:
            raise ValueError(f"{owner}: class_id={class_id} is not a class of predictions of "
                             f"shape {y_pred.shape}.")
        y_true, y_pred, weights = (a[..., class_id] for a in (y_true, y_pred, weights))
    if label_weights is not None and not multi_label:
        if y_pred.ndim == 0 or y_pred.shape[-1] != label_weights.shape[0]:
            raise ValueError(f"{owner}: {label_weights.shape[0]} label_weights for predictions "
                             f"of shape {y_pred.shape}.")
        weights = weights * label_weights
    if multi_label:
        if y_pred.ndim < 2:
            raise ValueError(f"{owner} with multi_label=True expects predictions of shape "
                             f"(batch_size, num_labels); got {y_pred.shape}.")
        columns = y_pred.shape[-1]
    else:
        columns = 1
    return tuple(np.ascontiguousarray(a.reshape(-1, columns)) for a in (y_true, y_pred, weights))


def _confusion_counts(y_true, y_pred, weights, thresholds, evenly=False, with_epsilon=False):
    """This batch's weighted (tp, fp, tn, fn), each of shape (thresholds, labels), float64."""
    shape = (len(thresholds), y_pred.shape[1])
    tp, fp, tn, fn = (np.zeros(shape) for _ in range(4))
    if evenly:
        # Keras's optimized path: soft targets weigh as positives and negatives.
        metric_kernels.threshold_histogram(y_pred, y_true, weights, shape[0], with_epsilon,
                                           tp, fp, tn, fn)
    else:
        # Keras's general path: any non-zero target is a positive.
        metric_kernels.threshold_compare(y_pred, (y_true != 0).astype(np.float64), weights,
                                         np.asarray(thresholds, dtype=np.float64), tp, fp, tn, fn)
    return tp, fp, tn, fn


def _divide_no_nan(x, y):
    x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    out = np.zeros(x.shape)
    np.divide(x, y, out=out, where=y != 0)
    return out


def _result(values):
    """One threshold's value as a float, several as an array."""
    return float(values[0]) if len(values) == 1 else values.copy()


class _ConfusionMatrixConditionCount(Metric):
    """The weighted count of one confusion-matrix cell at each threshold (a prediction above
    the threshold counts as positive)."""

    _condition = None  # index into (tp, fp, tn, fn)

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name, dtype)
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(thresholds, 0.5, self.name)
        self.reset_state()

    def reset_state(self):
        self.accumulator = np.zeros(len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None):
        inputs = _confusion_inputs(self.name, y_true, y_pred, sample_weight)
        self.accumulator += _confusion_counts(*inputs, self.thresholds)[self._condition][:, 0]

    def result(self):
        return _result(self.accumulator)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """The weighted number of positives predicted positive (above the threshold)."""

    _condition = 0


class FalsePositives(_ConfusionMatrixConditionCount):
    """The weighted number of negatives predicted positive."""

    _condition = 1


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The weighted number of negatives predicted negative."""

    _condition = 2


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The weighted number of positives predicted negative."""

    _condition = 3


def _check_top_k_class_id(top_k, class_id, owner):
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer))
                              or top_k < 1):
        raise ValueError(f"{owner}: top_k must be a positive integer or None; got {top_k!r}.")
    if class_id is not None and (isinstance(class_id, bool)
                                 or not isinstance(class_id, (int, np.integer)) or class_id < 0):
        raise ValueError(f"{owner}: class_id must be a non-negative integer or None; got "
                         f"{class_id!r}.")


class _PrecisionRecall(Metric):
    """Shared state of Precision and Recall: true positives and the cell they are divided by,
    accumulated over every batch since the last reset (not a mean of per-batch values)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name, dtype)
        _check_top_k_class_id(top_k, class_id, self.name)
        self.init_thresholds = thresholds
        self.top_k = None if top_k is None else int(top_k)
        self.class_id = None if class_id is None else int(class_id)
        default = 0.5 if top_k is None else _NEG_INF
        self.thresholds = _parse_thresholds(thresholds, default, self.name)
        self.reset_state()

    def reset_state(self):
        self.true_positives = np.zeros(len(self.thresholds))
        self.false_positives = np.zeros(len(self.thresholds))
        self.false_negatives = np.zeros(len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None):
        inputs = _confusion_inputs(self.name, y_true, y_pred, sample_weight, top_k=self.top_k,
                                   class_id=self.class_id)
        tp, fp, _, fn = _confusion_counts(*inputs, self.thresholds)
        self.true_positives += tp[:, 0]
        self.false_positives += fp[:, 0]
        self.false_negatives += fn[:, 0]

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """tp / (tp + fp) over all batches so far (0 when nothing was predicted positive)."""

    def result(self):
        return _result(_divide_no_nan(self.true_positives,
                                      self.true_positives + self.false_positives))


class Recall(_PrecisionRecall):
    """tp / (tp + fn) over all batches so far (0 when there was no positive)."""

    def result(self):
        return _result(_divide_no_nan(self.true_positives,
                                      self.true_positives + self.false_negatives))


class _AtConstraint(Metric):
    """Best value of one rate among the thresholds where another rate reaches `value`
    (sensitivity at specificity, precision at recall, ...), from confusion counts at
    `num_thresholds` evenly spaced thresholds accumulated over all batches."""

    _value_name = None  # the constructor argument holding the constraint

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name, dtype)
        if np.ndim(value) or not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"Argument `{self._value_name}` must be in the range [0, 1]. "
                             f"Received: {self._value_name}={value!r}")
        if isinstance(num_thresholds, bool) or not float(num_thresholds).is_integer() or (
                num_thresholds <= 0):
            raise ValueError("Argument `num_thresholds` must be an integer > 0. Received: "
                             f"num_thresholds={num_thresholds!r}")
        _check_top_k_class_id(None, class_id, self.name)
        self.value = float(value)
        self.num_thresholds = int(num_thresholds)
        self.class_id = None if class_id is None else int(class_id)
        if self.num_thresholds == 1:
            self.thresholds, self._evenly = [0.5], False
        else:
            n = self.num_thresholds
            self.thresholds = [0.0] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1.0]
            self._evenly = True
        self.reset_state()

    def reset_state(self):
        shape = len(self.thresholds)
        self.true_positives, self.false_positives = np.zeros(shape), np.zeros(shape)
        self.true_negatives, self.false_negatives = np.zeros(shape), np.zeros(shape)

    def update_state(self, y_true, y_pred, sample_weight=None):
        inputs = _confusion_inputs(self.name, y_true, y_pred, sample_weight,
                                   class_id=self.class_id)
        counts = _confusion_counts(*inputs, self.thresholds, self._evenly, with_epsilon=False)
        for state, batch in zip((self.true_positives, self.false_positives,
                                 self.true_negatives, self.false_negatives), counts):
            state += batch[:, 0]

    def _rates(self):
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        return {"sensitivity": _divide_no_nan(tp, tp + fn), "recall": _divide_no_nan(tp, tp + fn),
                "specificity": _divide_no_nan(tn, tn + fp), "precision": _divide_no_nan(tp, tp + fp)}

    def _best(self, constrained, dependent):
        rates = self._rates()
        feasible = rates[constrained] >= self.value
        return float(np.max(rates[dependent][feasible])) if feasible.any() else 0.0

    def get_config(self):
        return {**super().get_config(), self._value_name: self.value,
                "num_thresholds": self.num_thresholds, "class_id": self.class_id}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(config.pop(cls._value_name), **config)


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity (recall) among thresholds whose specificity is >= specificity."""

    _value_name = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("specificity", "sensitivity")


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity among thresholds whose sensitivity is >= sensitivity."""

    _value_name = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("sensitivity", "specificity")


class PrecisionAtRecall(_AtConstraint):
    """The best precision among thresholds whose recall is >= recall."""

    _value_name = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("recall", "precision")


class RecallAtPrecision(_AtConstraint):
    """The best recall among thresholds whose precision is >= precision."""

    _value_name = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("precision", "recall")


_AUC_CURVES = ("ROC", "PR")
_AUC_SUMMATIONS = ("interpolation", "minoring", "majoring")


class AUC(Metric):
    """Area under the ROC or precision-recall curve, approximated with a Riemann sum over
    `num_thresholds` thresholds, from the confusion counts accumulated over all batches.

    curve "ROC" (true vs false positive rate) or "PR" (precision vs recall);
    summation_method "interpolation" (trapezoids; for PR, Davis & Goadrich's interpolation),
    "minoring" or "majoring" (left or right heights). With multi_label=True, an AUC per
    label (column) is computed and averaged, weighted by label_weights; otherwise all labels
    are pooled, each weighted by label_weights.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        super().__init__(name, dtype)
        if str(curve).upper() not in _AUC_CURVES:
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are '
                             '["PR", "ROC"].')
        if str(summation_method).lower() not in _AUC_SUMMATIONS:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". Expected '
                             'values are ["interpolation", "majoring", "minoring"].')
        self.curve = str(curve).upper()
        self.summation_method = str(summation_method).lower()
        if thresholds is not None:
            user = sorted(_parse_thresholds(thresholds, None, self.name))
            self.num_thresholds = len(user) + 2
            self._evenly = _evenly_distributed([0.0] + user + [1.0])
        else:
            if (isinstance(num_thresholds, bool) or not float(num_thresholds).is_integer()
                    or num_thresholds <= 1):
                raise ValueError("Argument `num_thresholds` must be an integer > 1. Received: "
                                 f"num_thresholds={num_thresholds!r}")
            self.num_thresholds = int(num_thresholds)
            user = [(i + 1) / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            self._evenly = True
        # End thresholds just outside [0, 1], so predictions of exactly 0 or 1 are counted.
        epsilon = config.epsilon()
        self._thresholds = [0.0 - epsilon] + user + [1.0 + epsilon]
        self._init_from_thresholds = thresholds is not None
        self.multi_label = bool(multi_label)
        self.from_logits = bool(from_logits)
        if num_labels is not None and (isinstance(num_labels, bool) or int(num_labels) != num_labels
                                       or num_labels < 1):
            raise ValueError(f"{self.name}: num_labels must be a positive integer; got "
                             f"{num_labels!r}.")
        self.num_labels = None if num_labels is None else int(num_labels)
        if label_weights is not None:
            label_weights = np.asarray(label_weights, dtype=np.float64).ravel()
            if (label_weights < 0).any():
                raise ValueError("All values of `label_weights` must be non-negative. Received: "
                                 f"label_weights={label_weights.tolist()}")
            if self.num_labels is not None and label_weights.size != self.num_labels:
                raise ValueError(f"{self.name}: {label_weights.size} label_weights for "
                                 f"num_labels={self.num_labels}.")
        self.label_weights = label_weights
        self.reset_state()

    @property
    def thresholds(self):
        """The thresholds, including the end points -epsilon and 1 + epsilon."""
        return list(self._thresholds)

    def reset_state(self):
        labels = (self.num_labels or 0) if self.multi_label else 1
        shape = (self.num_thresholds, labels)
        self.true_positives = np.zeros(shape)
        self.false_positives = np.zeros(shape)
        self.true_negatives = np.zeros(shape)
        self.false_negatives = np.zeros(shape)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _array(y_pred)
        if self.from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-y_pred.astype(np.float64)))
        y_true, y_pred, weights = _confusion_inputs(
            self.name, y_true, y_pred, sample_weight, label_weights=self.label_weights,
            multi_label=self.multi_label, logits_hint=not self.from_logits)
        if self.multi_label:
            labels = y_pred.shape[1]
            if self.num_labels is None and self.true_positives.shape[1] == 0:
                self.num_labels = labels  # set by the first batch, as Keras builds the metric
                self.reset_state()
            if labels != self.true_positives.shape[1]:
                raise ValueError(f"{self.name} was built for {self.true_positives.shape[1]} labels; "
                                 f"got predictions with {labels}.")
        counts = _confusion_counts(y_true, y_pred, weights, self._thresholds, self._evenly,
                                   with_epsilon=True)
        for state, batch in zip((self.true_positives, self.false_positives,
                                 self.true_negatives, self.false_negatives), counts):
            state += batch

    def _by_label(self, areas):
        """The AUC from per-label areas: their sum when labels are pooled, their (weighted)
        mean with multi_label."""
        if not self.multi_label:
            return float(np.sum(areas))
        if areas.size == 0:
            return 0.0
        if self.label_weights is None:
            return float(np.mean(areas))
        return float(_divide_no_nan(np.sum(areas * self.label_weights),
                                    np.sum(self.label_weights)))

    def _interpolate_pr_auc(self):
        # Davis & Goadrich (2006): precision interpolated between thresholds, where the
        # number of predicted positives changes linearly.
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0.0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _divide_no_nan(p[:-1], np.maximum(p[1:], 0.0)), 1.0)
        increments = _divide_no_nan(slope * (dtp + intercept * np.log(ratio)),
                                    np.maximum(tp[1:] + fn[1:], 0.0))
        return self._by_label(np.sum(increments, axis=0))

    def result(self):
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.curve == "PR" and self.summation_method == "interpolation":
                return self._interpolate_pr_auc()
            tp, fp = self.true_positives, self.false_positives
            tn, fn = self.true_negatives, self.false_negatives
            recall = _divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = _divide_no_nan(fp, fp + tn), recall
            else:
                x, y = recall, _divide_no_nan(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[:-1] + y[1:]) / 2.0
            elif self.summation_method == "minoring":
                heights = np.minimum(y[:-1], y[1:])
            else:
                heights = np.maximum(y[:-1], y[1:])
            return self._by_label(np.sum((x[:-1] - x[1:]) * heights, axis=0))

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "curve": self.curve, "summation_method": self.summation_method,
                "thresholds": self._thresholds[1:-1] if self._init_from_thresholds else None,
                "multi_label": self.multi_label, "num_labels": self.num_labels,
                "label_weights": None if self.label_weights is None
                else self.label_weights.tolist(),
                "from_logits": self.from_logits}


# ---- intersection over union ------------------------------------------------------------

def _class_ids(values, num_classes, owner, what, hint=""):
    """Integer class ids in [0, num_classes) from an array of whole numbers."""
    as_int = values.astype(np.int64)
    if values.size and (as_int != values).any():
        raise ValueError(f"{owner} expects integer class ids as {what}; got non-integer values."
                         f"{hint}")
    if as_int.size and (as_int.min() < 0 or as_int.max() >= num_classes):
        raise ValueError(f"{owner} expects {what} in [0, {num_classes}); got values from "
                         f"{as_int.min()} to {as_int.max()}.")
    return as_int


class IoU(Metric):
    """Intersection over union of the target classes, tp / (tp + fp + fn) per class from a
    confusion matrix accumulated over all batches, averaged over `target_class_ids`
    (classes never seen, in targets or predictions, are left out of the mean)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name, dtype)
        if isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 1:
            raise ValueError(f"{self.name}: num_classes must be a positive integer; got "
                             f"{num_classes!r}.")
        self.num_classes = int(num_classes)
        target_class_ids = [int(c) for c in np.atleast_1d(target_class_ids)]
        if not target_class_ids or max(target_class_ids) >= self.num_classes or min(
                target_class_ids) < 0:
            raise ValueError(f"Target class id {max(target_class_ids, default=None)} is out of "
                             f"range, which is [0, {self.num_classes}).")
        self.target_class_ids = target_class_ids
        self.ignore_class = ignore_class
        self.sparse_y_true = bool(sparse_y_true)
        self.sparse_y_pred = bool(sparse_y_pred)
        self.axis = axis
        self.reset_state()

    def reset_state(self):
        self.total_cm = np.zeros((self.num_classes, self.num_classes))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _array(y_true), _array(y_pred)
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        if y_true.size != y_pred.size:
            raise ValueError(f"{self.name} expects as many targets as predictions (after argmax "
                             f"over the class axis where not sparse); got {y_true.size} and "
                             f"{y_pred.size}.")
        if sample_weight is None:
            weights = np.ones(y_true.size)
        else:
            # Per-sample weights (batch,) weigh every element (pixel) of their sample.
            weights = np.asarray(_array(sample_weight), dtype=np.float64)
            if weights.size != y_true.size:
                weights = weights.reshape(weights.shape + (1,) * (y_true.ndim - weights.ndim))
                try:
                    weights = np.broadcast_to(weights, y_true.shape)
                except ValueError:
                    raise ValueError(f"{self.name}: sample_weight of shape "
                                     f"{np.shape(sample_weight)} does not fit targets of shape "
                                     f"{y_true.shape}.") from None
            weights = weights.reshape(-1)
        y_true = y_true.reshape(-1)
        y_pred = y_pred.reshape(-1)
        if self.ignore_class is not None:
            keep = y_true != self.ignore_class
            y_true, y_pred, weights = y_true[keep], y_pred[keep], weights[keep]
        y_true = _class_ids(y_true, self.num_classes, self.name, "targets")
        y_pred = _class_ids(y_pred, self.num_classes, self.name, "predictions",
                            " For class probabilities, pass sparse_y_pred=False.")
        cells = np.bincount(y_true * self.num_classes + y_pred, weights=weights,
                            minlength=self.num_classes ** 2)
        self.total_cm += cells.reshape(self.num_classes, self.num_classes)

    def result(self):
        predicted = self.total_cm.sum(axis=0)
        actual = self.total_cm.sum(axis=1)
        true_positives = np.diag(self.total_cm)
        denominator = (predicted + actual - true_positives)[self.target_class_ids]
        true_positives = true_positives[self.target_class_ids]
        epsilon = config.epsilon()
        valid = np.sum(denominator > 1e-9)
        iou = true_positives / (denominator + epsilon)
        return float(np.sum(iou) / (valid + epsilon))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class MeanIoU(IoU):
    """The mean intersection over union of all `num_classes` classes (semantic
    segmentation's usual score)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        count = num_classes if _is_count(num_classes) else 1  # IoU reports a bad num_classes
        super().__init__(num_classes, list(range(int(count))), name, dtype, ignore_class,
                         sparse_y_true, sparse_y_pred, axis)

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


def _is_count(value):
    return (not isinstance(value, bool) and isinstance(value, (int, np.integer, float))
            and value >= 1 and float(value).is_integer())


# ---- names ------------------------------------------------------------------------------

# The one table of metrics that have a per-sample function: function -> Metric class.
_BY_FUNCTION = {
    accuracy: Accuracy,
    binary_accuracy: BinaryAccuracy,
    categorical_accuracy: CategoricalAccuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    top_k_categorical_accuracy: TopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
    losses.mean_squared_error: MeanSquaredError,
    losses.mean_absolute_error: MeanAbsoluteError,
    losses.mean_absolute_percentage_error: MeanAbsolutePercentageError,
    losses.mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    losses.binary_crossentropy: BinaryCrossentropy,
    losses.categorical_crossentropy: CategoricalCrossentropy,
    losses.sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    losses.hinge: Hinge,
    losses.squared_hinge: SquaredHinge,
    losses.categorical_hinge: CategoricalHinge,
    losses.kl_divergence: KLDivergence,
    losses.poisson: Poisson,
    losses.log_cosh: LogCoshError,
    losses.binary_focal_crossentropy: BinaryFocalCrossentropy,
    losses.categorical_focal_crossentropy: CategoricalFocalCrossentropy,
    cosine_similarity: CosineSimilarity,
}
# Metrics without a per-sample function, found by class name and its snake case ("auc").
_STATEFUL = (RootMeanSquaredError, Mean, Sum, AUC, Precision, Recall, TruePositives,
             FalsePositives, TrueNegatives, FalseNegatives, IoU, MeanIoU,
             SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall,
             RecallAtPrecision)
_ALIASES = {
    "mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError,
    "MAE": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
    "MAPE": MeanAbsolutePercentageError, "msle": MeanSquaredLogarithmicError,
    "MSLE": MeanSquaredLogarithmicError, "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "kld": KLDivergence, "KLD": KLDivergence, "logcosh": LogCoshError,
    "root_mean_squared_error": RootMeanSquaredError, "mean": Mean,
}
_BY_NAME = {
    **{fn.__name__: cls for fn, cls in _BY_FUNCTION.items()},
    **{cls.__name__: cls for cls in (*_BY_FUNCTION.values(), *_STATEFUL)},
    **{snake_case(cls.__name__): cls for cls in _STATEFUL},
    **_ALIASES,
}
_ACCURACY_NAMES = ("accuracy", "acc")


def get(identifier, loss=None, y_true_shape=None, y_pred_shape=None):
    """A Metric from a name, a config dict, a Metric class or instance, a built-in or R
    metric function (`metric_binary_accuracy`), or any function
    `(y_true, y_pred) -> per-sample values`. None gives None.

    A metric named by a string keeps that name ("mae" is logged as "mae"). "accuracy" and
    "acc" become binary accuracy when the output has one unit or the loss is
    binary_crossentropy, sparse categorical accuracy when the targets are integer labels
    (one dimension fewer than the output, or a last dimension of 1 against several units)
    or the loss is sparse_categorical_crossentropy, and categorical accuracy otherwise.
    """
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in _ACCURACY_NAMES:
            return _accuracy_class(loss, y_true_shape, y_pred_shape)(name=identifier)
        cls = _lookup(identifier)
        # A class name gives the class's own name ("AUC" logs "auc", as in Keras).
        return _instantiate(cls, identifier, {} if identifier == cls.__name__
                            else {"name": identifier})
    if isinstance(identifier, dict):
        return _lookup(identifier["class_name"]).from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return _instantiate(identifier, identifier.__name__, {})
    if callable(identifier):
        # An R function stands for its metric; R loss functions for the loss's function.
        fn = getattr(identifier, "_kerasr_function", identifier)
        if fn is None:
            return _instantiate(identifier._kerasr_class, identifier.__name__, {})
        cls = _BY_FUNCTION.get(fn)
        return cls(name=fn.__name__) if cls is not None else MeanMetricWrapper(fn)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}.")


def _instantiate(cls, given_as, kwargs):
    try:
        return cls(**kwargs)
    except TypeError:
        if cls in (IoU, MeanIoU) or issubclass(cls, _AtConstraint):
            raise ValueError(f"Metric {given_as!r} needs its arguments: pass a configured "
                             "metric, e.g. metric_mean_iou(num_classes=3) or "
                             "metric_precision_at_recall(recall=0.8).") from None
        raise


def _lookup(name):
    valid = sorted({n for n in _BY_NAME if n.islower()} | set(_ACCURACY_NAMES))
    return lookup(name, "metric", _BY_NAME, valid_names=valid)


def _accuracy_class(loss, y_true_shape, y_pred_shape):
    loss_fn = losses.base_function(loss) if loss is not None else None
    if y_pred_shape is None and loss_fn is None:
        raise ValueError("metrics='accuracy' needs the model's output shape or its loss to choose "
                         "between binary, categorical and sparse categorical accuracy.")
    units = y_pred_shape[-1] if y_pred_shape else None
    if units == 1 or loss_fn in (losses.binary_crossentropy, losses.binary_focal_crossentropy):
        return BinaryAccuracy
    integer_labels = y_true_shape is not None and y_pred_shape is not None and (
        len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and units != 1))
    if integer_labels or loss_fn is losses.sparse_categorical_crossentropy:
        return SparseCategoricalAccuracy
    return CategoricalAccuracy


# ---- R functions ------------------------------------------------------------------------------

metric_accuracy = r_function("metric_accuracy", Accuracy, accuracy)
metric_binary_accuracy = r_function("metric_binary_accuracy", BinaryAccuracy, binary_accuracy)
metric_categorical_accuracy = r_function("metric_categorical_accuracy", CategoricalAccuracy,
                                         categorical_accuracy)
metric_sparse_categorical_accuracy = r_function(
    "metric_sparse_categorical_accuracy", SparseCategoricalAccuracy, sparse_categorical_accuracy)
metric_top_k_categorical_accuracy = r_function(
    "metric_top_k_categorical_accuracy", TopKCategoricalAccuracy, top_k_categorical_accuracy)
metric_sparse_top_k_categorical_accuracy = r_function(
    "metric_sparse_top_k_categorical_accuracy", SparseTopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy)
metric_mean_squared_error = r_function("metric_mean_squared_error", MeanSquaredError,
                                       losses.mean_squared_error)
metric_mean_absolute_error = r_function("metric_mean_absolute_error", MeanAbsoluteError,
                                        losses.mean_absolute_error)
metric_mean_absolute_percentage_error = r_function(
    "metric_mean_absolute_percentage_error", MeanAbsolutePercentageError,
    losses.mean_absolute_percentage_error)
metric_mean_squared_logarithmic_error = r_function(
    "metric_mean_squared_logarithmic_error", MeanSquaredLogarithmicError,
    losses.mean_squared_logarithmic_error)
metric_root_mean_squared_error = r_function("metric_root_mean_squared_error",
                                            RootMeanSquaredError)
metric_binary_crossentropy = r_function("metric_binary_crossentropy", BinaryCrossentropy,
                                        losses.binary_crossentropy)
metric_categorical_crossentropy = r_function("metric_categorical_crossentropy",
                                             CategoricalCrossentropy,
                                             losses.categorical_crossentropy)
metric_sparse_categorical_crossentropy = r_function(
    "metric_sparse_categorical_crossentropy", SparseCategoricalCrossentropy,
    losses.sparse_categorical_crossentropy)
metric_hinge = r_function("metric_hinge", Hinge, losses.hinge)
metric_squared_hinge = r_function("metric_squared_hinge", SquaredHinge, losses.squared_hinge)
metric_categorical_hinge = r_function("metric_categorical_hinge", CategoricalHinge,
                                      losses.categorical_hinge)
metric_kl_divergence = r_function("metric_kl_divergence", KLDivergence, losses.kl_divergence)
metric_poisson = r_function("metric_poisson", Poisson, losses.poisson)
metric_log_cosh_error = r_function("metric_log_cosh_error", LogCoshError, losses.log_cosh)
metric_mean = r_function("metric_mean", Mean)
metric_binary_focal_crossentropy = r_function(
    "metric_binary_focal_crossentropy", BinaryFocalCrossentropy, losses.binary_focal_crossentropy)
metric_categorical_focal_crossentropy = r_function(
    "metric_categorical_focal_crossentropy", CategoricalFocalCrossentropy,
    losses.categorical_focal_crossentropy)
metric_sum = r_function("metric_sum", Sum)
metric_cosine_similarity = r_function("metric_cosine_similarity", CosineSimilarity,
                                      cosine_similarity)
metric_auc = r_function("metric_auc", AUC)
metric_precision = r_function("metric_precision", Precision)
metric_recall = r_function("metric_recall", Recall)
metric_true_positives = r_function("metric_true_positives", TruePositives)
metric_false_positives = r_function("metric_false_positives", FalsePositives)
metric_true_negatives = r_function("metric_true_negatives", TrueNegatives)
metric_false_negatives = r_function("metric_false_negatives", FalseNegatives)
metric_iou = r_function("metric_iou", IoU)
metric_sensitivity_at_specificity = r_function("metric_sensitivity_at_specificity",
                                               SensitivityAtSpecificity)
metric_specificity_at_sensitivity = r_function("metric_specificity_at_sensitivity",
                                               SpecificityAtSensitivity)
metric_precision_at_recall = r_function("metric_precision_at_recall", PrecisionAtRecall)
metric_recall_at_precision = r_function("metric_recall_at_precision", RecallAtPrecision)
metric_mean_iou = r_function("metric_mean_iou", MeanIoU)
metric_log_cosh = metric_logcosh = metric_log_cosh_error

# Keras's short aliases.
mse = MSE = losses.mean_squared_error
mae = MAE = losses.mean_absolute_error
mape = MAPE = losses.mean_absolute_percentage_error
msle = MSLE = losses.mean_squared_logarithmic_error
