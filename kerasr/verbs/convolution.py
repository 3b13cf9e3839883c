"""R keras's `layer_conv_*` verbs. Same shape as the core verbs: `object` first, then the
layer's arguments in Keras's order with Keras's defaults, then the common ones. Sizes may be
one integer for every axis (`kernel_size = 3`) or one per axis (`kernel_size = c(3, 3)`)."""

from .. import layers
from .pipe import make_layer

__all__ = [
    "layer_conv_1d",
    "layer_conv_2d",
    "layer_conv_3d",
    "layer_conv_1d_transpose",
    "layer_conv_2d_transpose",
    "layer_conv_3d_transpose",
]


def layer_conv_1d(object=None, filters=None, kernel_size=None, strides=1, padding="valid",
                  data_format=None, dilation_rate=1, groups=1, activation=None, use_bias=True,
                  kernel_initializer="glorot_uniform", bias_initializer="zeros",
                  kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                  kernel_constraint=None, bias_constraint=None, input_shape=None,
                  batch_input_shape=None, batch_size=None, dtype=None, name=None, trainable=None,
                  weights=None):
    """1D convolution over (batch, steps, channels), e.g. over word embeddings;
    `padding = "causal"` lets step t see only steps up to t."""
    return make_layer(layers.Conv1D, locals(), first_argument="filters")


def layer_conv_2d(object=None, filters=None, kernel_size=None, strides=1, padding="valid",
                  data_format=None, dilation_rate=1, groups=1, activation=None, use_bias=True,
                  kernel_initializer="glorot_uniform", bias_initializer="zeros",
                  kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                  kernel_constraint=None, bias_constraint=None, input_shape=None,
                  batch_input_shape=None, batch_size=None, dtype=None, name=None, trainable=None,
                  weights=None):
    """2D convolution over images (batch, rows, cols, channels)."""
    return make_layer(layers.Conv2D, locals(), first_argument="filters")


def layer_conv_3d(object=None, filters=None, kernel_size=None, strides=1, padding="valid",
                  data_format=None, dilation_rate=1, groups=1, activation=None, use_bias=True,
                  kernel_initializer="glorot_uniform", bias_initializer="zeros",
                  kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                  kernel_constraint=None, bias_constraint=None, input_shape=None,
                  batch_input_shape=None, batch_size=None, dtype=None, name=None, trainable=None,
                  weights=None):
    """3D convolution over volumes (batch, dim1, dim2, dim3, channels)."""
    return make_layer(layers.Conv3D, locals(), first_argument="filters")


def layer_conv_1d_transpose(object=None, filters=None, kernel_size=None, strides=1,
                            padding="valid", output_padding=None, data_format=None,
                            dilation_rate=1, activation=None, use_bias=True,
                            kernel_initializer="glorot_uniform", bias_initializer="zeros",
                            kernel_regularizer=None, bias_regularizer=None,
                            activity_regularizer=None, kernel_constraint=None,
                            bias_constraint=None, input_shape=None, batch_input_shape=None,
                            batch_size=None, dtype=None, name=None, trainable=None,
                            weights=None):
    """Transposed 1D convolution (the gradient of a convolution as a layer; upsamples
    sequences when strides > 1)."""
    return make_layer(layers.Conv1DTranspose, locals(), first_argument="filters")


def layer_conv_2d_transpose(object=None, filters=None, kernel_size=None, strides=1,
                            padding="valid", output_padding=None, data_format=None,
                            dilation_rate=1, activation=None, use_bias=True,
                            kernel_initializer="glorot_uniform", bias_initializer="zeros",
                            kernel_regularizer=None, bias_regularizer=None,
                            activity_regularizer=None, kernel_constraint=None,
                            bias_constraint=None, input_shape=None, batch_input_shape=None,
                            batch_size=None, dtype=None, name=None, trainable=None,
                            weights=None):
    """Transposed 2D convolution (upsamples images when strides > 1, as in a decoder)."""
    return make_layer(layers.Conv2DTranspose, locals(), first_argument="filters")


def layer_conv_3d_transpose(object=None, filters=None, kernel_size=None, strides=1,
                            padding="valid", output_padding=None, data_format=None,
                            dilation_rate=1, activation=None, use_bias=True,
                            kernel_initializer="glorot_uniform", bias_initializer="zeros",
                            kernel_regularizer=None, bias_regularizer=None,
                            activity_regularizer=None, kernel_constraint=None,
                            bias_constraint=None, input_shape=None, batch_input_shape=None,
                            batch_size=None, dtype=None, name=None, trainable=None,
                            weights=None):
    """Transposed 3D convolution (upsamples volumes when strides > 1)."""
    return make_layer(layers.Conv3DTranspose, locals(), first_argument="filters")
