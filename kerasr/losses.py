"""Losses (Keras 3's `keras.losses`, R's `loss_*()` functions).

Loss functions take `(y_true, y_pred)` and return one value per sample, reducing the last
axis (mse = mean(square(y_pred - y_true), axis=-1)), as a Tensor built from kerasr's
differentiable ops. `Loss` objects reduce those values to the scalar that training
minimises, optionally weighting the samples.

The crossentropies are computed from logits whenever they can be: with `from_logits=True`,
and also when `y_pred` is the output of a softmax or sigmoid, whose logits it remembers
(as Keras's TensorFlow backend does). Otherwise they work on probabilities clipped to
[epsilon, 1 - epsilon].
"""

import inspect
import math
import warnings

import numpy as np

from . import config, ops
from .identifiers import resolve, snake_case
from .engine.tensor import Tensor, as_tensor


# ---- shared helpers ----------------------------------------------------------------------

def _data(x):
    return x.data if isinstance(x, Tensor) else x


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras's alignment of two arrays or Tensors whose ranks differ by one through a
    trailing axis of size 1: that axis is squeezed, or, when the other one is a vector (and
    `expand_rank_1`), added to it. `(n,)` targets thus fit `(n, 1)` outputs."""
    rank_1, rank_2 = np.ndim(x1), np.ndim(x2)
    if rank_1 == rank_2 + 1 and x1.shape[-1] == 1:
        if rank_2 == 1 and expand_rank_1:
            x2 = x2.reshape(x2.shape + (1,))
        else:
            x1 = x1.reshape(x1.shape[:-1])
    elif rank_2 == rank_1 + 1 and x2.shape[-1] == 1:
        if rank_1 == 1 and expand_rank_1:
            x1 = x1.reshape(x1.shape + (1,))
        else:
            x2 = x2.reshape(x2.shape[:-1])
    return x1, x2


def _prediction(y_pred):
    """y_pred as a float Tensor (integer predictions become floatx)."""
    y_pred = as_tensor(y_pred)
    return y_pred if y_pred.dtype.kind == "f" else ops.cast(y_pred, config.floatx())


def _prepare(y_true, y_pred):
    """y_pred as a float Tensor, y_true as a constant array of its dtype, ranks aligned."""
    y_pred = _prediction(y_pred)
    y_true = np.asarray(_data(y_true), dtype=y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def _is_last_axis(axis, ndim):
    return axis == -1 or axis == ndim - 1


def _logits(y_pred, activation, from_logits, loss_name, axis=-1):
    """The logits to compute a crossentropy from, or None to use probabilities.

    The logits behind a softmax/sigmoid output are used even with from_logits=False: they
    give the same value without the clipping of saturated probabilities.
    """
    found = None
    if isinstance(y_pred, Tensor) and _is_last_axis(axis, y_pred.ndim):
        found = ops.logits_of(y_pred, activation)
    if found is not None:
        if from_logits:
            warnings.warn(f"{loss_name} received from_logits=True, but y_pred was produced by a "
                          f"{activation} activation and thus does not represent logits. "
                          "Was this intended?", stacklevel=3)
        return found
    return y_pred if from_logits else None


def _axis_to_last(axis, ndim):
    """The axis order moving the class axis to the end, where the crossentropy ops expect it."""
    axis %= ndim
    return [i for i in range(ndim) if i != axis] + [axis]


def _clipped_probabilities(y_pred):
    epsilon = config.epsilon()
    return ops.clip(y_pred, epsilon, 1.0 - epsilon)


def _l2_normalize(x, axis):
    """x / max(||x||, epsilon) along axis, as Keras normalizes."""
    squared_norm = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return ops.divide(x, ops.sqrt(ops.maximum(squared_norm, config.epsilon() ** 2)))


# ---- loss functions: one value per sample -----------------------------------------------

def mean_squared_error(y_true, y_pred):
    """mean(square(y_pred - y_true), axis=-1)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return ops.mean(ops.square(ops.subtract(y_pred, y_true)), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(abs(y_pred - y_true), axis=-1)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return ops.mean(ops.abs(ops.subtract(y_pred, y_true)), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    scale = np.maximum(np.abs(y_true), config.epsilon()).astype(y_true.dtype)
    return ops.multiply(ops.mean(ops.abs(ops.divide(ops.subtract(y_true, y_pred), scale)),
                                 axis=-1), 100.0)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean(square(log(1 + y_pred) - log(1 + y_true)), axis=-1), values below epsilon
    raised to epsilon."""
    y_true, y_pred = _prepare(y_true, y_pred)
    epsilon = config.epsilon()
    log_pred = ops.log(ops.add(ops.maximum(y_pred, epsilon), 1.0))
    log_true = np.log(np.maximum(y_true, epsilon) + 1.0).astype(y_true.dtype)
    return ops.mean(ops.square(ops.subtract(log_pred, log_true)), axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean(-(y log p + (1 - y) log(1 - p)), axis); label smoothing moves y towards 0.5."""
    logits = _logits(y_pred, "sigmoid", from_logits, "binary_crossentropy")
    y_true, y_pred = _prepare(y_true, y_pred if logits is None else logits)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if logits is not None:
        return ops.mean(ops.sigmoid_cross_entropy(y_true, y_pred), axis=axis)
    p = _clipped_probabilities(y_pred)
    log_likelihood = ops.add(ops.multiply(y_true, ops.log(p)),
                             ops.multiply(1.0 - y_true, ops.log(ops.subtract(1.0, p))))
    return ops.negative(ops.mean(log_likelihood, axis=axis))


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(y log p, axis) for one-hot (or soft) targets y; p is renormalised to sum to 1.
    Label smoothing mixes y with the uniform distribution."""
    logits = _logits(y_pred, "softmax", from_logits, "categorical_crossentropy", axis)
    y_true, y_pred = _prepare(y_true, y_pred if logits is None else logits)
    if not _is_last_axis(axis, y_pred.ndim):
        order = _axis_to_last(axis, y_pred.ndim)
        y_true, y_pred = np.transpose(y_true, order), ops.transpose(y_pred, order)
    if y_pred.shape[-1] == 1:
        warnings.warn("categorical_crossentropy expects y_pred of shape (batch_size, "
                      f"num_classes) with num_classes > 1, got {y_pred.shape}; with one class "
                      "the loss is always 0. Use binary_crossentropy for two classes.",
                      stacklevel=2)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if logits is not None:
        return ops.softmax_cross_entropy(y_true, y_pred)
    p = _clipped_probabilities(ops.divide(y_pred, ops.sum(y_pred, axis=-1, keepdims=True)))
    return ops.negative(ops.sum(ops.multiply(y_true, ops.log(p)), axis=-1))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """categorical_crossentropy with integer class labels instead of one-hot targets.
    Elements labelled `ignore_class` (e.g. a segmentation's "void" label) give 0; the Loss
    object then averages over the other elements only."""
    logits = _logits(y_pred, "softmax", from_logits, "sparse_categorical_crossentropy", axis)
    y_pred = _prediction(y_pred if logits is None else logits)
    labels = np.asarray(_data(y_true))
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if not _is_last_axis(axis, y_pred.ndim):
        y_pred = ops.transpose(y_pred, _axis_to_last(axis, y_pred.ndim))
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = np.where(valid, labels, 0)
    labels = _class_labels(labels, y_pred.shape)
    if logits is not None:
        values = ops.sparse_softmax_cross_entropy(labels, y_pred)
    else:
        p = _clipped_probabilities(ops.divide(y_pred, ops.sum(y_pred, axis=-1, keepdims=True)))
        one_hot = np.eye(y_pred.shape[-1], dtype=y_pred.dtype)[labels]
        values = ops.negative(ops.sum(ops.multiply(one_hot, ops.log(p)), axis=-1))
    return values if valid is None else ops.multiply(values, valid.astype(values.dtype))


def _ignore_class_weights(y_true, values_shape, ignore_class, sample_weight, reduction):
    """Sample weights masking the elements labelled `ignore_class`, as Keras's loss mask
    does: 0 on them and, for a mean, total / valid on the others (a mean over the valid
    elements)."""
    labels = np.asarray(_data(y_true))
    if labels.ndim == len(values_shape) + 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    valid = (labels != ignore_class).astype(np.float64)
    count = valid.sum()
    mask = valid * (valid.size / (count + config.epsilon())) if reduction in (
        "sum_over_batch_size", "mean") else valid
    if sample_weight is None:
        return mask
    weights = np.asarray(_data(sample_weight), dtype=np.float64)
    if weights.ndim == mask.ndim + 1 and weights.shape[-1] == 1:
        weights = weights.reshape(weights.shape[:-1])
    return weights.reshape(weights.shape + (1,) * (mask.ndim - weights.ndim)) * mask


def _class_labels(labels, pred_shape):
    """The labels as int64 after checking they index the classes of predictions of
    `pred_shape` (the kernels trust them)."""
    num_classes = pred_shape[-1]
    if labels.shape != pred_shape[:-1]:
        hint = (" They look one-hot encoded: use loss='categorical_crossentropy'."
                if labels.shape == pred_shape else "")
        raise ValueError(f"sparse_categorical_crossentropy expects integer labels of shape "
                         f"{pred_shape[:-1]} for predictions of shape {pred_shape}; got labels "
                         f"of shape {labels.shape}.{hint}")
    as_int = labels.astype(np.int64)
    if labels.size and ((as_int != labels).any() or as_int.min() < 0
                        or as_int.max() >= num_classes):
        raise ValueError(f"sparse_categorical_crossentropy expects integer labels in "
                         f"[0, {num_classes}); got values from {labels.min()} to {labels.max()}.")
    return as_int


def _hinge_labels(y_true):
    """Keras's hinge losses take labels in {-1, 1}; {0, 1} labels are converted."""
    return 2.0 * y_true - 1.0 if np.isin(y_true, (0, 1)).all() else y_true


def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0), axis=-1) for labels in {-1, 1} (or {0, 1})."""
    y_true, y_pred = _prepare(y_true, y_pred)
    margins = ops.subtract(1.0, ops.multiply(_hinge_labels(y_true), y_pred))
    return ops.mean(ops.maximum(margins, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(square(max(1 - y_true * y_pred, 0)), axis=-1)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    margins = ops.subtract(1.0, ops.multiply(_hinge_labels(y_true), y_pred))
    return ops.mean(ops.square(ops.maximum(margins, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(neg - pos + 1, 0) with pos = sum(y_true * y_pred), neg = max((1 - y_true) * y_pred)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    positive = ops.sum(ops.multiply(y_true, y_pred), axis=-1)
    negative = ops.max(ops.multiply(1.0 - y_true, y_pred), axis=-1)
    return ops.maximum(ops.add(ops.subtract(negative, positive), 1.0), 0.0)


def log_cosh(y_true, y_pred):
    """mean(log(cosh(y_pred - y_true)), axis=-1), computed as x + softplus(-2x) - log(2)
    so large errors do not overflow."""
    y_true, y_pred = _prepare(y_true, y_pred)
    error = ops.subtract(y_pred, y_true)
    softplus = ops.activation(ops.multiply(error, -2.0), "softplus")
    return ops.mean(ops.subtract(ops.add(error, softplus), math.log(2.0)), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """mean over the last axis of 0.5 x^2 where |x| <= delta, else delta |x| - 0.5 delta^2,
    with x = y_pred - y_true."""
    y_true, y_pred = _prepare(y_true, y_pred)
    error = ops.subtract(y_pred, y_true)
    abs_error = ops.abs(error)
    quadratic = ops.multiply(ops.square(error), 0.5)
    linear = ops.subtract(ops.multiply(abs_error, delta), 0.5 * delta ** 2)
    return ops.mean(ops.where(abs_error.data <= delta, quadratic, linear), axis=-1)


def kl_divergence(y_true, y_pred):
    """sum(y_true * log(y_true / y_pred), axis=-1), both clipped to [epsilon, 1]."""
    y_true, y_pred = _prepare(y_true, y_pred)
    epsilon = config.epsilon()
    y_true = np.clip(y_true, epsilon, 1.0).astype(y_true.dtype)
    y_pred = ops.clip(y_pred, epsilon, 1.0)
    return ops.sum(ops.multiply(y_true, ops.log(ops.divide(y_true, y_pred))), axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    log_pred = ops.log(ops.add(y_pred, config.epsilon()))
    return ops.mean(ops.subtract(y_pred, ops.multiply(y_true, log_pred)), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis): -1 when the vectors point
    the same way, 0 when orthogonal (or one is zero)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return ops.negative(ops.sum(ops.multiply(_l2_normalize(y_true, axis),
                                             _l2_normalize(y_pred, axis)), axis=axis))


def _focal_factor(one_minus_p, gamma):
    """(1 - p)^gamma; gamma = 0 gives 1 (without power's 0 * inf gradient at p = 1)."""
    return None if gamma == 0 else ops.power(one_minus_p, float(gamma))


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy scaled by the focal factor (1 - p_t)^gamma, p_t the probability
    given to the true class (Lin et al., 2018), averaged over `axis`; with
    apply_class_balancing, positives also weigh alpha and negatives 1 - alpha."""
    logits = _logits(y_pred, "sigmoid", from_logits, "binary_focal_crossentropy")
    y_true, y_pred = _prepare(y_true, y_pred if logits is None else logits)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if logits is not None:
        bce = ops.sigmoid_cross_entropy(y_true, y_pred)
        probabilities = ops.sigmoid(y_pred)
    else:
        p = _clipped_probabilities(y_pred)
        bce = ops.negative(ops.add(ops.multiply(y_true, ops.log(p)),
                                   ops.multiply(1.0 - y_true, ops.log(ops.subtract(1.0, p)))))
        probabilities = y_pred
    p_t = ops.add(ops.multiply(y_true, probabilities),
                  ops.multiply(1.0 - y_true, ops.subtract(1.0, probabilities)))
    focal = _focal_factor(ops.subtract(1.0, p_t), gamma)
    loss = bce if focal is None else ops.multiply(focal, bce)
    if apply_class_balancing:
        loss = ops.multiply(loss, y_true * alpha + (1.0 - y_true) * (1.0 - alpha))
    return ops.mean(loss, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """sum(alpha * (1 - p)^gamma * -y log p, axis): categorical crossentropy scaled down where
    the predicted probability p is already high (Lin et al., 2018); alpha is one weight or
    one per class."""
    logits = _logits(y_pred, "softmax", from_logits, "categorical_focal_crossentropy", axis)
    y_true, y_pred = _prepare(y_true, y_pred if logits is None else logits)
    if not _is_last_axis(axis, y_pred.ndim):
        order = _axis_to_last(axis, y_pred.ndim)
        y_true, y_pred = np.transpose(y_true, order), ops.transpose(y_pred, order)
    if y_pred.shape[-1] == 1:
        warnings.warn("categorical_focal_crossentropy expects y_pred of shape (batch_size, "
                      f"num_classes) with num_classes > 1, got {y_pred.shape}; with one class "
                      "the loss is always 0. Use binary_focal_crossentropy for two classes.",
                      stacklevel=2)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    probabilities = ops.softmax(y_pred, axis=-1) if logits is not None else y_pred
    p = _clipped_probabilities(ops.divide(probabilities,
                                          ops.sum(probabilities, axis=-1, keepdims=True)))
    crossentropy = ops.multiply(-y_true, ops.log(p))
    alpha = np.asarray(alpha, dtype=y_true.dtype)
    if alpha.ndim and alpha.shape[-1] != y_pred.shape[-1]:
        raise ValueError(f"categorical_focal_crossentropy: alpha has {alpha.shape[-1]} values for "
                         f"{y_pred.shape[-1]} classes.")
    focal = _focal_factor(ops.subtract(1.0, p), gamma)
    weighting = alpha if focal is None else ops.multiply(focal, alpha)
    return ops.sum(ops.multiply(weighting, crossentropy), axis=-1)


# ---- Loss objects -------------------------------------------------------------------------

_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


class Loss:
    """Base class: subclasses implement `call(y_true, y_pred)` returning per-sample values.

    Calling a Loss, `loss(y_true, y_pred, sample_weight=None)`, weights the values and
    reduces them according to `reduction`: "sum_over_batch_size" (or "mean", the default:
    sum(values * weights) / number of values), "sum", "mean_with_sample_weight"
    (sum(values * weights) / sum(weights)) or "none".
    """

    def __init__(self, name=None, reduction="sum_over_batch_size"):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {list(_REDUCTIONS)}, got {reduction!r}.")
        self.name = name or snake_case(type(self).__name__)
        self.reduction = reduction

    def __call__(self, y_true, y_pred, sample_weight=None):
        return reduce_weighted_values(self.call(y_true, y_pred), sample_weight, self.reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


def reduce_weighted_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Weights per-sample loss values and reduces them to a scalar Tensor (see Loss)."""
    values = as_tensor(values)
    weights = None
    if sample_weight is not None:
        weights = np.asarray(_data(sample_weight), dtype=values.dtype)
        # (n, 1) weights are squeezed to fit (n,) values (Keras would expand the values).
        values, weights = squeeze_or_expand_to_same_rank(values, weights, expand_rank_1=False)
        # Per-sample weights also weight every value of a sample with more than one.
        weights = weights.reshape(weights.shape + (1,) * (values.ndim - weights.ndim))
        values = ops.multiply(values, weights)
    if reduction in ("none", None) or values.ndim == 0:
        return values
    if reduction in ("sum_over_batch_size", "mean") or (
            reduction == "mean_with_sample_weight" and weights is None):
        return ops.mean(values)  # one op: sum(values * weights) / number of values
    total = ops.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weights is not None:
        divisor = float(weights.sum())
    else:
        divisor = values.size
    return ops.divide(total, divisor) if divisor else ops.multiply(total, 0.0)


class LossFunctionWrapper(Loss):
    """A Loss computing its per-sample values with `fn(y_true, y_pred, **kwargs)`."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction)
        self.fn = fn
        self.fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        # The built-in functions align ranks themselves, after looking for logits behind
        # y_pred; user functions get the targets and predictions aligned as in Keras.
        if self.fn not in _BY_FUNCTION:
            y_true, y_pred = squeeze_or_expand_to_same_rank(
                y_true if isinstance(y_true, Tensor) else np.asarray(y_true), as_tensor(y_pred))
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self):
        config = {**super().get_config(), **self.fn_kwargs}
        if type(self) is LossFunctionWrapper:
            config["fn"] = self.fn
        return config


class MeanSquaredError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error"):
        super().__init__(mean_squared_error, reduction, name)


class MeanAbsoluteError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error"):
        super().__init__(mean_absolute_error, reduction, name)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error"):
        super().__init__(mean_absolute_percentage_error, reduction, name)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error"):
        super().__init__(mean_squared_logarithmic_error, reduction, name)


class BinaryCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy"):
        super().__init__(binary_crossentropy, reduction, name, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy"):
        super().__init__(categorical_crossentropy, reduction, name, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, ignore_class=None, axis=-1,
                 reduction="sum_over_batch_size", name="sparse_categorical_crossentropy"):
        super().__init__(sparse_categorical_crossentropy, reduction, name,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.call(y_true, y_pred)
        ignore_class = self.fn_kwargs["ignore_class"]
        if ignore_class is not None:
            sample_weight = _ignore_class_weights(y_true, values.shape, ignore_class,
                                                  sample_weight, self.reduction)
        return reduce_weighted_values(values, sample_weight, self.reduction)


class Hinge(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="hinge"):
        super().__init__(hinge, reduction, name)


class SquaredHinge(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge"):
        super().__init__(squared_hinge, reduction, name)


class CategoricalHinge(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge"):
        super().__init__(categorical_hinge, reduction, name)


class LogCosh(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="log_cosh"):
        super().__init__(log_cosh, reduction, name)


class Huber(LossFunctionWrapper):
    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss"):
        super().__init__(huber, reduction, name, delta=delta)


class KLDivergence(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence"):
        super().__init__(kl_divergence, reduction, name)


class Poisson(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="poisson"):
        super().__init__(poisson, reduction, name)


class CosineSimilarity(LossFunctionWrapper):
    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity"):
        super().__init__(cosine_similarity, reduction, name, axis=axis)


class BinaryFocalCrossentropy(LossFunctionWrapper):
    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy"):
        super().__init__(binary_focal_crossentropy, reduction, name,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy"):
        super().__init__(categorical_focal_crossentropy, reduction, name, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


# ---- names ------------------------------------------------------------------------------

# The one table of built-in losses: function -> Loss class. Names, aliases and R functions
# all resolve through it.
_BY_FUNCTION = {
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    binary_crossentropy: BinaryCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    hinge: Hinge,
    squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge,
    log_cosh: LogCosh,
    huber: Huber,
    kl_divergence: KLDivergence,
    poisson: Poisson,
    cosine_similarity: CosineSimilarity,
    binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy,
}
_ALIASES = {
    "mse": mean_squared_error, "MSE": mean_squared_error, "mae": mean_absolute_error,
    "MAE": mean_absolute_error, "mape": mean_absolute_percentage_error,
    "MAPE": mean_absolute_percentage_error, "msle": mean_squared_logarithmic_error,
    "MSLE": mean_squared_logarithmic_error, "bce": binary_crossentropy,
    "BCE": binary_crossentropy, "kld": kl_divergence, "KLD": kl_divergence,
    "kullback_leibler_divergence": kl_divergence, "logcosh": log_cosh, "huber_loss": huber,
}
_BY_NAME = {
    **{fn.__name__: cls for fn, cls in _BY_FUNCTION.items()},
    **{cls.__name__: cls for cls in _BY_FUNCTION.values()},
    **{alias: _BY_FUNCTION[fn] for alias, fn in _ALIASES.items()},
}

# Shown for unknown names: Keras's function names and short aliases.
_VALID_NAMES = sorted({fn.__name__ for fn in _BY_FUNCTION} | {a for a in _ALIASES if a.islower()})


def get(identifier):
    """A Loss from a name (`"mse"`, `"categorical_crossentropy"`, `"CategoricalCrossentropy"`),
    a config dict, a Loss class or instance, a built-in or R loss function (`loss_mse`), or
    any function `(y_true, y_pred) -> per-sample values`. None gives None."""
    if callable(identifier) and not isinstance(identifier, (type, Loss)):
        # An R function (loss_mse) stands for its loss function.
        fn = getattr(identifier, "_kerasr_function", None) or identifier
        cls = _BY_FUNCTION.get(fn)
        return cls() if cls is not None else LossFunctionWrapper(fn)
    return resolve(identifier, "loss", Loss, _BY_NAME, valid_names=_VALID_NAMES,
                   accepts_functions=False)


def base_function(loss):
    """The built-in loss function behind `loss` (a name, function, R function or Loss),
    or None for a custom loss."""
    fn = getattr(get(loss), "fn", None)
    return fn if fn in _BY_FUNCTION else None


# ---- target checks ---------------------------------------------------------------------------

def _shape_text(shape):
    return str(tuple(shape))


def check_targets(loss, y_true_shape, y_pred_shape, output_name=None):
    """Raises ValueError, before any training, when targets of `y_true_shape` cannot be
    what the built-in `loss` expects for model outputs of `y_pred_shape` (batch axis first,
    None allowed): one-hot targets with sparse_categorical_crossentropy, integer labels with
    categorical_crossentropy, or a target shape that differs from the output's."""
    fn = base_function(loss)
    if fn is None:
        return
    true_shape = tuple(y_true_shape)
    pred_shape = (None,) + tuple(y_pred_shape)[1:]
    prefix = f"Output {output_name!r}: " if output_name else ""
    num_classes = pred_shape[-1]
    labels_shaped = len(true_shape) == len(pred_shape) - 1 or (
        len(true_shape) == len(pred_shape) and true_shape[-1] == 1)

    if fn is sparse_categorical_crossentropy:
        label_shape = true_shape if len(true_shape) < len(pred_shape) else true_shape[:-1]
        if not labels_shaped or not _compatible(label_shape[1:], pred_shape[1:-1]):
            one_hot = len(true_shape) == len(pred_shape) and true_shape[-1] == num_classes
            hint = (" They look one-hot encoded: use loss='categorical_crossentropy', or convert "
                    "them to labels with y.argmax(axis=-1)." if one_hot else "")
            raise ValueError(f"{prefix}sparse_categorical_crossentropy expects integer class "
                             f"labels of shape {_shape_text(pred_shape[:-1])}; got "
                             f"{_shape_text(true_shape)}.{hint}")
        return
    if fn is categorical_crossentropy and labels_shaped and num_classes not in (None, 1):
        raise ValueError(f"{prefix}categorical_crossentropy expects targets of shape "
                         f"{_shape_text(pred_shape)} (one-hot); got {_shape_text(true_shape)}. "
                         f"Convert the labels with to_categorical(y, {num_classes}) or use "
                         "loss='sparse_categorical_crossentropy'.")
    aligned_true, aligned_pred = squeeze_or_expand_to_same_rank(_ShapeOnly(true_shape),
                                                                _ShapeOnly(pred_shape))
    if not _compatible(aligned_true.shape[1:], aligned_pred.shape[1:]):
        raise ValueError(f"{prefix}{fn.__name__} expects targets shaped like the model output "
                         f"{_shape_text(pred_shape)}; got {_shape_text(true_shape)}.")


class _ShapeOnly:
    """Stands for an array of a shape (None allowed) in squeeze_or_expand_to_same_rank, so
    shapes are aligned exactly as the loss will align the arrays."""

    def __init__(self, shape):
        self.shape = tuple(shape)
        self.ndim = len(self.shape)

    def reshape(self, shape):
        return _ShapeOnly(shape)


def _compatible(shape, expected):
    """Whether two shapes match, a None dimension matching anything."""
    return len(shape) == len(expected) and all(
        a is None or b is None or a == b for a, b in zip(shape, expected))


# ---- R functions ------------------------------------------------------------------------------

def r_function(r_name, cls, fn=None):
    """An R keras function for `cls` that, as in R keras, is both constructor and function.

    Called without y_true and y_pred it returns a `cls` configured by the keyword arguments
    (`loss_binary_crossentropy(from_logits=True)`); called with them it returns
    `fn(y_true, y_pred, ...)`, one value per sample; passed itself where a loss or metric
    is expected (`compile(loss=loss_binary_crossentropy)`) it stands for `cls()`.
    """
    def function(y_true=None, y_pred=None, **options):
        if y_true is None and y_pred is None:
            return cls(**options)
        if fn is None:
            raise TypeError(f"{r_name}() makes a {cls.__name__} object: call it without y_true "
                            "and y_pred.")
        return fn(y_true, y_pred, **options)

    positional = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)
                  for n in ("y_true", "y_pred")]
    options = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
               for p in inspect.signature(cls).parameters.values()]
    function.__signature__ = inspect.Signature(positional + options)
    function.__name__ = function.__qualname__ = r_name
    function.__module__ = cls.__module__
    function.__doc__ = (f"R keras's `{r_name}()`: a {cls.__name__} when called without y_true "
                        f"and y_pred" + (f", else the per-sample values of {fn.__name__}()."
                                         if fn is not None else "."))
    function._kerasr_class = cls
    function._kerasr_function = fn
    return function


loss_mean_squared_error = r_function("loss_mean_squared_error", MeanSquaredError,
                                     mean_squared_error)
loss_mean_absolute_error = r_function("loss_mean_absolute_error", MeanAbsoluteError,
                                      mean_absolute_error)
loss_mean_absolute_percentage_error = r_function(
    "loss_mean_absolute_percentage_error", MeanAbsolutePercentageError,
    mean_absolute_percentage_error)
loss_mean_squared_logarithmic_error = r_function(
    "loss_mean_squared_logarithmic_error", MeanSquaredLogarithmicError,
    mean_squared_logarithmic_error)
loss_binary_crossentropy = r_function("loss_binary_crossentropy", BinaryCrossentropy,
                                      binary_crossentropy)
loss_categorical_crossentropy = r_function("loss_categorical_crossentropy",
                                           CategoricalCrossentropy, categorical_crossentropy)
loss_sparse_categorical_crossentropy = r_function(
    "loss_sparse_categorical_crossentropy", SparseCategoricalCrossentropy,
    sparse_categorical_crossentropy)
loss_hinge = r_function("loss_hinge", Hinge, hinge)
loss_squared_hinge = r_function("loss_squared_hinge", SquaredHinge, squared_hinge)
loss_categorical_hinge = r_function("loss_categorical_hinge", CategoricalHinge, categorical_hinge)
loss_log_cosh = r_function("loss_log_cosh", LogCosh, log_cosh)
loss_huber = r_function("loss_huber", Huber, huber)
loss_kl_divergence = r_function("loss_kl_divergence", KLDivergence, kl_divergence)
loss_poisson = r_function("loss_poisson", Poisson, poisson)
loss_cosine_similarity = r_function("loss_cosine_similarity", CosineSimilarity, cosine_similarity)
loss_binary_focal_crossentropy = r_function(
    "loss_binary_focal_crossentropy", BinaryFocalCrossentropy, binary_focal_crossentropy)
loss_categorical_focal_crossentropy = r_function(
    "loss_categorical_focal_crossentropy", CategoricalFocalCrossentropy,
    categorical_focal_crossentropy)

# Keras's short aliases of the functions, and R keras 2's names.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
loss_logcosh = loss_log_cosh
loss_kullback_leibler_divergence = loss_kl_divergence
