"""R keras's `layer_conv_lstm_2d` verb: `object` first, then Keras 3's ConvLSTM2D arguments in
Keras's order with Keras's defaults, then the common ones. Sizes may be one integer for both
axes (`kernel_size = 3`) or one per axis. Initial states go in when the layer is called on a
tensor: `layer_conv_lstm_2d(filters = 8, kernel_size = 3)(x, initial_state = [h, c])`."""

from ..layers.conv_lstm import ConvLSTM2D
from .pipe import make_layer

__all__ = ["layer_conv_lstm_2d"]


def layer_conv_lstm_2d(object=None, filters=None, kernel_size=None, strides=1, padding="valid",
                       data_format=None, dilation_rate=1, activation="tanh",
                       recurrent_activation="sigmoid", use_bias=True,
                       kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                       bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                       recurrent_regularizer=None, bias_regularizer=None,
                       activity_regularizer=None, kernel_constraint=None,
                       recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                       recurrent_dropout=0.0, seed=None, return_sequences=False,
                       return_state=False, go_backwards=False, stateful=False, unroll=False,
                       input_shape=None, batch_input_shape=None, batch_size=None, dtype=None,
                       name=None, trainable=None, weights=None):
    """2D convolutional LSTM over sequences of images (batch, time, rows, cols, channels): an
    LSTM whose input and recurrent transformations are convolutions."""
    return make_layer(ConvLSTM2D, locals(), first_argument="filters")
