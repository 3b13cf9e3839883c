"""Metrics (Keras 3's `keras.metrics`, R's `metric_*()` functions).

Metrics are stateful and work on numpy arrays (kerasr Tensors are accepted too); they are
never differentiated. `update_state(y_true, y_pred, sample_weight=None)` accumulates a
batch, `result()` gives the value so far as a float, `reset_state()` starts over.
Metric functions such as `binary_accuracy(y_true, y_pred)` return one value per sample;
`MeanMetricWrapper` keeps their running mean weighted by the sample weights,
sum(values * weights) / sum(weights), as Keras does.
"""

import numpy as np

from . import config, losses
from .engine.tensor import Tensor
from .identifiers import lookup, snake_case
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
}
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
    **{cls.__name__: cls for cls in (*_BY_FUNCTION.values(), RootMeanSquaredError, Mean)},
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
        return _lookup(identifier)(name=identifier)
    if isinstance(identifier, dict):
        return _lookup(identifier["class_name"]).from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        # An R function stands for its metric; R loss functions for the loss's function.
        fn = getattr(identifier, "_kerasr_function", identifier)
        if fn is None:
            return identifier._kerasr_class()
        cls = _BY_FUNCTION.get(fn)
        return cls(name=fn.__name__) if cls is not None else MeanMetricWrapper(fn)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}.")


def _lookup(name):
    valid = sorted({n for n in _BY_NAME if n.islower()} | set(_ACCURACY_NAMES))
    return lookup(name, "metric", _BY_NAME, valid_names=valid)


def _accuracy_class(loss, y_true_shape, y_pred_shape):
    loss_fn = losses.base_function(loss) if loss is not None else None
    if y_pred_shape is None and loss_fn is None:
        raise ValueError("metrics='accuracy' needs the model's output shape or its loss to choose "
                         "between binary, categorical and sparse categorical accuracy.")
    units = y_pred_shape[-1] if y_pred_shape else None
    if units == 1 or loss_fn is losses.binary_crossentropy:
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

# Keras's short aliases.
mse = MSE = losses.mean_squared_error
mae = MAE = losses.mean_absolute_error
mape = MAPE = losses.mean_absolute_percentage_error
msle = MSLE = losses.mean_squared_logarithmic_error
