"""R keras's `layer_*` verbs for the normalization and noise layers, and kerasr's blocks
(`layer_residual_block`, `layer_highway`). Same shape as the core verbs: `object` first,
then the layer's arguments in Keras's order with Keras's defaults, then the common ones.
Axes are 0-based, as everywhere in kerasr (-1 is the last axis)."""

from .. import layers
from ..layers.base import Layer
from ..models.functional import Model
from .pipe import make_layer

__all__ = [
    "layer_batch_normalization",
    "layer_layer_normalization",
    "layer_gaussian_noise",
    "layer_gaussian_dropout",
    "layer_alpha_dropout",
    "layer_residual_block",
    "layer_highway",
]


def layer_batch_normalization(object=None, axis=-1, momentum=0.99, epsilon=0.001, center=True,
                              scale=True, beta_initializer="zeros", gamma_initializer="ones",
                              moving_mean_initializer="zeros", moving_variance_initializer="ones",
                              beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                              gamma_constraint=None, synchronized=False, input_shape=None,
                              batch_input_shape=None, batch_size=None, dtype=None, name=None,
                              trainable=None, weights=None):
    """Normalizes each channel with the batch statistics in training and their moving
    averages at inference."""
    return make_layer(layers.BatchNormalization, locals())


def layer_layer_normalization(object=None, axis=-1, epsilon=0.001, center=True, scale=True,
                              rms_scaling=False, beta_initializer="zeros",
                              gamma_initializer="ones", beta_regularizer=None,
                              gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                              input_shape=None, batch_input_shape=None, batch_size=None,
                              dtype=None, name=None, trainable=None, weights=None):
    """Normalizes each sample over `axis` with its own mean and variance."""
    return make_layer(layers.LayerNormalization, locals())


def layer_gaussian_noise(object=None, stddev=None, seed=None, input_shape=None,
                         batch_input_shape=None, batch_size=None, dtype=None, name=None,
                         trainable=None, weights=None):
    """Adds zero-centered Gaussian noise of standard deviation `stddev` during training."""
    return make_layer(layers.GaussianNoise, locals(), first_argument="stddev")


def layer_gaussian_dropout(object=None, rate=None, seed=None, input_shape=None,
                           batch_input_shape=None, batch_size=None, dtype=None, name=None,
                           trainable=None, weights=None):
    """Multiplies by 1-centered Gaussian noise of standard deviation sqrt(rate / (1 - rate))
    during training."""
    return make_layer(layers.GaussianDropout, locals(), first_argument="rate")


def layer_alpha_dropout(object=None, rate=None, noise_shape=None, seed=None, input_shape=None,
                        batch_input_shape=None, batch_size=None, dtype=None, name=None,
                        trainable=None, weights=None):
    """Dropout that keeps SELU's self-normalizing mean and variance, during training."""
    return make_layer(layers.AlphaDropout, locals(), first_argument="rate")


def layer_residual_block(object=None, f=None, projection=None, input_shape=None,
                         batch_input_shape=None, batch_size=None, dtype=None, name=None,
                         trainable=None, weights=None):
    """F(x) + x, F a layer, a model or a list of layers (x linearly projected when F changes
    the number of features). A single layer given first is taken as `f`
    (`layer_residual_block(layer_dense(units=64))`); a model given first is the model the block
    is added to, so pass a model as F by name: `f=`."""
    arguments = dict(locals())
    if isinstance(object, Layer) and not isinstance(object, Model) and f is None:
        arguments["object"], arguments["f"] = None, object
    return make_layer(layers.ResidualBlock, arguments, first_argument="f")


def layer_highway(object=None, units=None, activation="relu", transform_bias_initializer=-2.0,
                  kernel_initializer="glorot_uniform", bias_initializer="zeros",
                  kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                  kernel_constraint=None, bias_constraint=None, input_shape=None,
                  batch_input_shape=None, batch_size=None, dtype=None, name=None,
                  trainable=None, weights=None):
    """A highway layer: H(x) T(x) + x (1 - T(x)), T the sigmoid transform gate."""
    return make_layer(layers.Highway, locals(), first_argument="units")
