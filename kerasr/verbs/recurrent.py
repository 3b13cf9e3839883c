"""R keras's `layer_*` verbs for the recurrent layers.

Each returns the model with the layer added (for a Sequential model), the layer's output (for a
tensor; a list `[output, state...]` with `return_state=True`), or the layer itself (no object).
Initial states go in when the layer is called on a tensor:
`layer_lstm(units=32)(x, initial_state=[h, c])`.
"""

from .. import layers
from .pipe import make_layer

__all__ = ["layer_simple_rnn", "layer_lstm", "layer_gru"]


def layer_simple_rnn(object=None, units=None, activation="tanh", use_bias=True,
                     kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                     bias_initializer="zeros", kernel_regularizer=None,
                     recurrent_regularizer=None, bias_regularizer=None,
                     activity_regularizer=None, kernel_constraint=None,
                     recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                     recurrent_dropout=0.0, return_sequences=False, return_state=False,
                     go_backwards=False, stateful=False, unroll=False, seed=None,
                     input_shape=None, batch_input_shape=None, batch_size=None, dtype=None,
                     name=None, trainable=None, weights=None):
    """A fully connected recurrent layer whose output is fed back as the next step's input."""
    return make_layer(layers.SimpleRNN, locals(), first_argument="units")


def layer_lstm(object=None, units=None, activation="tanh", recurrent_activation="sigmoid",
               use_bias=True, kernel_initializer="glorot_uniform",
               recurrent_initializer="orthogonal", bias_initializer="zeros",
               unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
               bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
               recurrent_constraint=None, bias_constraint=None, dropout=0.0,
               recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
               go_backwards=False, stateful=False, unroll=False, input_shape=None,
               batch_input_shape=None, batch_size=None, dtype=None, name=None, trainable=None,
               weights=None):
    """Long short-term memory layer (gates i, f, c, o)."""
    return make_layer(layers.LSTM, locals(), first_argument="units")


def layer_gru(object=None, units=None, activation="tanh", recurrent_activation="sigmoid",
              use_bias=True, kernel_initializer="glorot_uniform",
              recurrent_initializer="orthogonal", bias_initializer="zeros",
              kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
              activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
              bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
              return_sequences=False, return_state=False, go_backwards=False, stateful=False,
              unroll=False, reset_after=True, input_shape=None, batch_input_shape=None,
              batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Gated recurrent unit layer (gates z, r, h; `reset_after=True` as Keras and PyTorch)."""
    return make_layer(layers.GRU, locals(), first_argument="units")
