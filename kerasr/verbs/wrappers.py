"""R keras's wrapper verbs: `time_distributed(object, layer)` and
`bidirectional(object, layer, merge_mode = "concat", ...)`.

As the other layer verbs: `object` (a model or a tensor) first, then Keras's arguments, then
the common layer arguments. The wrapped layer may also come first when there is no object,
`bidirectional(layer_lstm(units = 32))`, which returns the wrapper to pipe on
(`model | bidirectional(layer_lstm(units = 32))`).
"""

from .. import layers as _layers  # noqa: F401 (kerasr.layers first: wrappers import its base)
from ..layers.wrappers import Bidirectional, TimeDistributed
from ..models.functional import Model
from .pipe import _shift_positional, is_layer_target, make_layer

__all__ = [
    "time_distributed",
    "bidirectional",
    "layer_time_distributed",
    "layer_bidirectional",
]


def _wrap(layer_class, arguments, verb):
    arguments = dict(arguments)
    target = arguments["object"]
    wrapped_first = target is not None and (
        not is_layer_target(target)
        or (isinstance(target, Model) and arguments["layer"] is None))
    if wrapped_first:
        # `time_distributed(layer_dense(8))`: the layer to wrap came first, there is no object
        # (a model alone, with no `layer`, is the layer to wrap: Keras wraps models too; and
        # anything else that is no model or tensor is a `layer` argument the wrapper checks).
        del arguments["object"]
        _shift_positional(arguments, verb, "layer", target)
        arguments = {"object": None, **arguments}
    return make_layer(layer_class, arguments, first_argument="layer")


def time_distributed(object=None, layer=None, input_shape=None, batch_input_shape=None,
                     batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Applies `layer` to every time step (axis 1) of a (batch, time, ...) input, with one set of
    weights: e.g. a dense or convolutional layer over each frame of a sequence."""
    return _wrap(TimeDistributed, locals(), time_distributed)


def bidirectional(object=None, layer=None, merge_mode="concat", weights=None, backward_layer=None,
                  input_shape=None, batch_input_shape=None, batch_size=None, dtype=None, name=None,
                  trainable=None):
    """Runs a recurrent layer (layer_lstm(), layer_gru(), layer_simple_rnn()) forwards and
    backwards over the sequence and merges the two outputs: "concat" (default), "sum", "mul",
    "ave", or None for a list of both. The wrapped layer is copied (fresh weights) for each
    direction; get_weights() lists the forward copy's weights, then the backward copy's."""
    return _wrap(Bidirectional, locals(), bidirectional)


def layer_time_distributed(object=None, layer=None, input_shape=None, batch_input_shape=None,
                           batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """R keras 3's name for `time_distributed()`."""
    return _wrap(TimeDistributed, locals(), layer_time_distributed)


def layer_bidirectional(object=None, layer=None, merge_mode="concat", weights=None,
                        backward_layer=None, input_shape=None, batch_input_shape=None,
                        batch_size=None, dtype=None, name=None, trainable=None):
    """R keras 3's name for `bidirectional()`."""
    return _wrap(Bidirectional, locals(), layer_bidirectional)
