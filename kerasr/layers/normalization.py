"""Normalization layers: BatchNormalization and LayerNormalization (Keras 3 semantics).

Both compute gamma * (x - mean) / sqrt(var + epsilon) + beta with the biased variance.
The forward and backward passes are fused ops (`ops/normalization.py`) over Numba kernels.
"""

import numpy as np

from .. import config, constraints, initializers, ops, regularizers
from ..identifiers import serialize
from ..ops.normalization import (batch_normalization_inference, batch_normalization_train,
                                 layer_normalization)
from .base import InputSpec, Layer, format_shape


# ---- argument checks -----------------------------------------------------------------------
def _axis_argument(layer, axis):
    """An int or a list/tuple of ints, kept as given until build."""
    if isinstance(axis, np.ndarray):
        axis = axis.tolist()
    items = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if not items or any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in items):
        raise ValueError(f"{layer.name}: axis must be an integer or a list of integers, "
                         f"got {axis!r}.")
    return [int(a) for a in items] if isinstance(axis, (list, tuple)) else int(axis)


def _resolve_axes(layer, axis, input_shape):
    """The axes as sorted non-negative integers for inputs of `input_shape`."""
    rank = len(input_shape)
    items = axis if isinstance(axis, list) else [axis]
    resolved = []
    for a in items:
        if not -rank <= a < rank:
            raise ValueError(f"{layer.name}: axis {a} is out of range for inputs of shape "
                             f"{format_shape(input_shape)} (rank {rank}).")
        resolved.append(a % rank)
    if len(set(resolved)) != len(resolved):
        raise ValueError(f"{layer.name}: axis {axis} names the same axis twice.")
    if 0 in resolved:
        raise ValueError(f"{layer.name}: axis {axis} includes the batch axis 0 of inputs of shape "
                         f"{format_shape(input_shape)}; normalize over feature axes (e.g. -1).")
    unknown = [a for a in resolved if input_shape[a] is None]
    if unknown:
        raise ValueError(f"{layer.name} needs the size of axis {unknown[0]}, got input shape "
                         f"{format_shape(input_shape)}.")
    return tuple(sorted(resolved))


def _epsilon(layer, epsilon):
    if not isinstance(epsilon, (int, float, np.integer, np.floating)) or isinstance(epsilon, bool) \
            or not epsilon >= 0:
        raise ValueError(f"{layer.name}: epsilon must be a number >= 0, got {epsilon!r}.")
    return float(epsilon)


class BatchNormalization(Layer):
    """Normalizes each channel with the batch's mean and variance during training and with
    their moving averages at inference (Keras 3's `BatchNormalization`).

    Training (`training=True`, as in `fit`) normalizes with the batch statistics (biased
    variance) and then updates moving = moving * momentum + batch_stat * (1 - momentum).
    Inference (the default) normalizes with the moving statistics. A frozen layer
    (`trainable=False`) always runs in inference mode, as in Keras 3.
    Weights: gamma, beta (trainable), moving_mean, moving_variance (not trainable).
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_argument(self, axis)
        if not isinstance(momentum, (int, float, np.integer, np.floating)) \
                or isinstance(momentum, bool) or not 0.0 <= momentum < 1.0:
            raise ValueError(f"{self.name}: momentum must be a number in [0, 1), got {momentum!r}.")
        self.momentum = float(momentum)
        self.epsilon = _epsilon(self, epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        # One device: the local batch is the global batch, so this changes nothing.
        self.synchronized = bool(synchronized)
        self.supports_masking = True
        self.gamma = self.beta = None

    def build(self, input_shape):
        self._axes = _resolve_axes(self, self.axis, input_shape)
        shape = tuple(input_shape[a] for a in self._axes)
        if self.scale:
            self.gamma = self.add_weight(shape, self.gamma_initializer, "gamma",
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(shape, self.beta_initializer, "beta",
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight(shape, self.moving_mean_initializer, "moving_mean",
                                           trainable=False)
        self.moving_variance = self.add_weight(shape, self.moving_variance_initializer,
                                               "moving_variance", trainable=False)
        self.input_spec = InputSpec(ndim=len(input_shape),
                                    axes={a: input_shape[a] for a in self._axes})

    def call(self, inputs, training=None, mask=None):
        if mask is not None:
            mask = np.asarray(getattr(mask, "data", mask))
            if mask.ndim != inputs.ndim - 1:
                raise ValueError(f"{self.name}: the mask must have one axis less than the inputs, "
                                 f"got mask shape {format_shape(mask.shape)} for inputs of shape "
                                 f"{format_shape(inputs.shape)}.")
        if not (training and self.trainable):
            return batch_normalization_inference(inputs, self.gamma, self.beta,
                                                 self.moving_mean.data, self.moving_variance.data,
                                                 self._axes, self.epsilon)
        if mask is None:
            outputs, mean, variance = batch_normalization_train(
                inputs, self.gamma, self.beta, self._axes, self.epsilon)
        else:
            outputs, mean, variance = self._masked_train(inputs, mask)
        # The moving statistics follow the batch's, outside the gradient, after the forward.
        shape = self.moving_mean.shape
        m = self.momentum
        self.moving_mean.data[...] = (self.moving_mean.data * m
                                      + np.reshape(mean, shape) * (1.0 - m))
        self.moving_variance.data[...] = (self.moving_variance.data * m
                                          + np.reshape(variance, shape) * (1.0 - m))
        return outputs

    def _masked_train(self, inputs, mask):
        """Keras's masked moments: masked positions count for neither mean nor variance."""
        reduce_axes = tuple(a for a in range(inputs.ndim) if a not in self._axes)
        weights = np.broadcast_to(np.expand_dims(mask.astype(inputs.dtype), -1),
                                  inputs.shape)
        count = np.sum(weights, axis=reduce_axes, keepdims=True) + config.epsilon()
        count = count.astype(inputs.dtype)
        mean = ops.divide(ops.sum(ops.multiply(inputs, weights), reduce_axes, keepdims=True),
                          count)
        centered = ops.subtract(inputs, mean)
        variance = ops.divide(ops.sum(ops.multiply(ops.square(centered), weights), reduce_axes,
                                      keepdims=True), count)
        outputs = ops.divide(centered, ops.sqrt(ops.add(variance, self.epsilon)))
        if self.gamma is not None:
            outputs = ops.multiply(outputs, ops.reshape(self.gamma, mean.shape))
        if self.beta is not None:
            outputs = ops.add(outputs, ops.reshape(self.beta, mean.shape))
        return outputs, mean.data.reshape(-1), variance.data.reshape(-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": serialize(self.beta_initializer),
                "gamma_initializer": serialize(self.gamma_initializer),
                "moving_mean_initializer": serialize(self.moving_mean_initializer),
                "moving_variance_initializer": serialize(self.moving_variance_initializer),
                "beta_regularizer": serialize(self.beta_regularizer),
                "gamma_regularizer": serialize(self.gamma_regularizer),
                "beta_constraint": serialize(self.beta_constraint),
                "gamma_constraint": serialize(self.gamma_constraint),
                "synchronized": self.synchronized}


class LayerNormalization(Layer):
    """Normalizes each sample over `axis` (Keras 3's `LayerNormalization`, Ba et al. 2016):
    gamma * (x - mean) / sqrt(var + epsilon) + beta, the mean and biased variance taken per
    sample over the axes in `axis`; gamma and beta span those axes.

    With `rms_scaling=True`, `center` and `scale` are ignored and the output is
    gamma * x / sqrt(mean(x^2) + epsilon).
    """

    def __init__(self, axis=-1, epsilon=0.001, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_argument(self, axis)
        self.epsilon = _epsilon(self, epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.rms_scaling = bool(rms_scaling)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.gamma = self.beta = None

    def build(self, input_shape):
        self._axes = _resolve_axes(self, self.axis, input_shape)
        shape = tuple(input_shape[a] for a in self._axes)
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(shape, self.gamma_initializer, "gamma",
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(shape, self.beta_initializer, "beta",
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.input_spec = InputSpec(min_ndim=max(self._axes) + 1,
                                    axes={a: input_shape[a] for a in self._axes})

    def call(self, inputs):
        if not self.rms_scaling:
            return layer_normalization(inputs, self.gamma, self.beta, self._axes, self.epsilon)
        shape = [1] * inputs.ndim
        for a in self._axes:
            shape[a] = inputs.shape[a]
        mean_square = ops.mean(ops.square(inputs), axis=self._axes, keepdims=True)
        outputs = ops.divide(inputs, ops.sqrt(ops.add(mean_square, self.epsilon)))
        return ops.multiply(outputs, ops.reshape(self.gamma, tuple(shape)))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "rms_scaling": self.rms_scaling,
                "beta_initializer": serialize(self.beta_initializer),
                "gamma_initializer": serialize(self.gamma_initializer),
                "beta_regularizer": serialize(self.beta_regularizer),
                "gamma_regularizer": serialize(self.gamma_regularizer),
                "beta_constraint": serialize(self.beta_constraint),
                "gamma_constraint": serialize(self.gamma_constraint)}
