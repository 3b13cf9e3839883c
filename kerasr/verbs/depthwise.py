"""R keras's verbs for the depthwise, separable and locally connected layers. Same shape as
the core verbs: `object` first, then the layer's arguments in Keras's order with Keras's
defaults, then the common ones. Sizes may be one integer for every axis (`kernel_size = 3`)
or one per axis (`kernel_size = c(3, 3)`)."""

from .. import layers
from .pipe import make_layer

__all__ = [
    "layer_depthwise_conv_1d",
    "layer_depthwise_conv_2d",
    "layer_separable_conv_1d",
    "layer_separable_conv_2d",
    "layer_locally_connected_1d",
    "layer_locally_connected_2d",
]


def layer_depthwise_conv_1d(object=None, kernel_size=None, strides=1, padding="valid",
                            depth_multiplier=1, data_format=None, dilation_rate=1,
                            activation=None, use_bias=True,
                            depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                            depthwise_regularizer=None, bias_regularizer=None,
                            activity_regularizer=None, depthwise_constraint=None,
                            bias_constraint=None, input_shape=None, batch_input_shape=None,
                            batch_size=None, dtype=None, name=None, trainable=None,
                            weights=None):
    """Depthwise 1D convolution: each input channel convolved with its own
    `depth_multiplier` filters, channels never mixed."""
    return make_layer(layers.DepthwiseConv1D, locals(), first_argument="kernel_size")


def layer_depthwise_conv_2d(object=None, kernel_size=None, strides=1, padding="valid",
                            depth_multiplier=1, data_format=None, dilation_rate=1,
                            activation=None, use_bias=True,
                            depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                            depthwise_regularizer=None, bias_regularizer=None,
                            activity_regularizer=None, depthwise_constraint=None,
                            bias_constraint=None, input_shape=None, batch_input_shape=None,
                            batch_size=None, dtype=None, name=None, trainable=None,
                            weights=None):
    """Depthwise 2D convolution: each input channel convolved with its own
    `depth_multiplier` filters, channels never mixed."""
    return make_layer(layers.DepthwiseConv2D, locals(), first_argument="kernel_size")


def layer_separable_conv_1d(object=None, filters=None, kernel_size=None, strides=1,
                            padding="valid", data_format=None, dilation_rate=1,
                            depth_multiplier=1, activation=None, use_bias=True,
                            depthwise_initializer="glorot_uniform",
                            pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                            depthwise_regularizer=None, pointwise_regularizer=None,
                            bias_regularizer=None, activity_regularizer=None,
                            depthwise_constraint=None, pointwise_constraint=None,
                            bias_constraint=None, input_shape=None, batch_input_shape=None,
                            batch_size=None, dtype=None, name=None, trainable=None,
                            weights=None):
    """Depthwise separable 1D convolution: a depthwise convolution, then a pointwise (1x1)
    convolution mixing the channels into `filters` outputs."""
    return make_layer(layers.SeparableConv1D, locals(), first_argument="filters")


def layer_separable_conv_2d(object=None, filters=None, kernel_size=None, strides=1,
                            padding="valid", data_format=None, dilation_rate=1,
                            depth_multiplier=1, activation=None, use_bias=True,
                            depthwise_initializer="glorot_uniform",
                            pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                            depthwise_regularizer=None, pointwise_regularizer=None,
                            bias_regularizer=None, activity_regularizer=None,
                            depthwise_constraint=None, pointwise_constraint=None,
                            bias_constraint=None, input_shape=None, batch_input_shape=None,
                            batch_size=None, dtype=None, name=None, trainable=None,
                            weights=None):
    """Depthwise separable 2D convolution: a depthwise convolution, then a pointwise (1x1)
    convolution mixing the channels into `filters` outputs (fewer weights and faster than
    layer_conv_2d, often as accurate)."""
    return make_layer(layers.SeparableConv2D, locals(), first_argument="filters")


def layer_locally_connected_1d(object=None, filters=None, kernel_size=None, strides=1,
                               padding="valid", data_format=None, activation=None,
                               use_bias=True, kernel_initializer="glorot_uniform",
                               bias_initializer="zeros", kernel_regularizer=None,
                               bias_regularizer=None, activity_regularizer=None,
                               kernel_constraint=None, bias_constraint=None, implementation=1,
                               input_shape=None, batch_input_shape=None, batch_size=None,
                               dtype=None, name=None, trainable=None, weights=None):
    """Locally connected 1D layer: like layer_conv_1d but with different weights at every
    position ("valid" padding only)."""
    return make_layer(layers.LocallyConnected1D, locals(), first_argument="filters")


def layer_locally_connected_2d(object=None, filters=None, kernel_size=None, strides=1,
                               padding="valid", data_format=None, activation=None,
                               use_bias=True, kernel_initializer="glorot_uniform",
                               bias_initializer="zeros", kernel_regularizer=None,
                               bias_regularizer=None, activity_regularizer=None,
                               kernel_constraint=None, bias_constraint=None, implementation=1,
                               input_shape=None, batch_input_shape=None, batch_size=None,
                               dtype=None, name=None, trainable=None, weights=None):
    """Locally connected 2D layer: like layer_conv_2d but with different weights at every
    position ("valid" padding only)."""
    return make_layer(layers.LocallyConnected2D, locals(), first_argument="filters")
