"""Wrappers: TimeDistributed (one call over the merged batch, equal to the wrapped layer on each
time step) and Bidirectional (each merge mode against the two directions composed by hand,
masks, return_state, initial states, weight order, Keras's checks), gradients in float64,
summaries, and the R verbs `time_distributed()` and `bidirectional()`."""

import numpy as np
import pytest

from kerasr import layers, ops, optimizers
from kerasr.engine import GradientTape, Tensor, Variable
from kerasr.engine.graph import KerasTensor
from kerasr.layers.base import Layer
from kerasr.layers.wrappers import Bidirectional, TimeDistributed
from kerasr.models.functional import Functional
from kerasr.models.sequential import Sequential
from kerasr.random import set_random_seed
from kerasr.verbs import keras_model_sequential, layer_dense, layer_embedding, layer_input
from kerasr.verbs.wrappers import bidirectional, time_distributed

from gradcheck import check_gradients, check_layer_gradients

rng = np.random.default_rng(5)


def data(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


# ---- a tiny recurrent layer in plain ops (a Python loop), for the wrapper logic ------------
class TinyRNN(Layer):
    """h_t = tanh(x_t W + h_{t-1} U + b), with Keras's recurrent-layer switches and masks."""

    def __init__(self, units, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.stateful = go_backwards, stateful
        self.zero_output_for_mask = zero_output_for_mask
        self.supports_masking = True

    def build(self, input_shape):
        shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        self.kernel = self.add_weight((shape[-1], self.units), "glorot_uniform", "kernel")
        self.recurrent_kernel = self.add_weight((self.units, self.units), "glorot_uniform",
                                                "recurrent_kernel")
        self.bias = self.add_weight((self.units,), "random_normal", "bias")

    def __call__(self, inputs, *args, initial_state=None, **kwargs):
        if initial_state is not None:
            inputs = [inputs] + list(initial_state)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, mask=None):
        x, states = (inputs[0], inputs[1:]) if isinstance(inputs, list) else (inputs, [])
        mask = mask[0] if isinstance(mask, list) else mask
        batch, steps = x.shape[:2]
        h = states[0] if states else Tensor(np.zeros((batch, self.units), x.dtype))
        out = Tensor(np.zeros((batch, self.units), x.dtype))
        outputs = []
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        for t in order:
            new = ops.tanh(ops.add(ops.add(ops.matmul(ops.getitem(x, (slice(None), t)),
                                                      self.kernel),
                                           ops.matmul(h, self.recurrent_kernel)), self.bias))
            if mask is None:
                h = out = new
            else:
                keep = mask[:, t:t + 1].astype(x.dtype)
                h = ops.add(ops.multiply(new, keep), ops.multiply(h, 1 - keep))
                held = 0.0 if self.zero_output_for_mask else out
                out = ops.add(ops.multiply(new, keep), ops.multiply(held, 1 - keep))
            outputs.append(out)
        result = ops.stack(outputs, axis=1) if self.return_sequences else out
        return [result, h] if self.return_state else result

    def compute_output_shape(self, input_shape):
        shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        out = (shape[0], shape[1], self.units) if self.return_sequences else (shape[0], self.units)
        return [out, (shape[0], self.units)] if self.return_state else out

    def compute_mask(self, inputs, mask=None):
        mask = mask[0] if isinstance(mask, list) else mask
        out = mask if self.return_sequences else None
        return [out, None] if self.return_state else out

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful,
                "zero_output_for_mask": self.zero_output_for_mask}


class MaskRecorder(Layer):
    """Identity that records the mask its call receives."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = "not called"

    def call(self, inputs, mask=None):
        self.seen = mask
        return inputs


RECURRENT = {
    "tiny": lambda units, **kw: TinyRNN(units, **kw),
    "lstm": lambda units, **kw: layers.LSTM(units, **kw),
    "gru": lambda units, **kw: layers.GRU(units, **kw),
}
MERGES = {
    "concat": lambda a, b: np.concatenate([a, b], axis=-1),
    "sum": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "ave": lambda a, b: (a + b) / 2,
}


def same_layer_on(layer_like, weights, x, **call_kwargs):
    """A fresh forward-going copy of `layer_like`'s class and config with `weights`, run on x."""
    config_ = dict(layer_like.get_config(), go_backwards=False, name=None)
    copy = type(layer_like).from_config(config_)
    copy._maybe_build(tuple(x.shape))
    copy.set_weights(weights)
    return copy(x, **call_kwargs)


def by_hand(wrapper, x):
    """The forward direction, and the backward direction as the same cell run over the reversed
    sequence then reversed back (independent of `go_backwards`)."""
    n = len(wrapper.get_weights()) // 2
    weights = wrapper.get_weights()
    forward = same_layer_on(wrapper.forward_layer, weights[:n], x)
    backward = same_layer_on(wrapper.forward_layer, weights[n:], x[:, ::-1].copy())
    forward, backward = [np.asarray(o.data if isinstance(o, Tensor) else o)
                         for o in _first(forward, backward)]
    if wrapper.return_sequences:
        backward = backward[:, ::-1]
    return forward, backward


def _first(*outs):
    return [o[0] if isinstance(o, list) else o for o in outs]


# ==== TimeDistributed =======================================================================
def test_time_distributed_dense_equals_dense_on_the_merged_batch():
    dense = layers.Dense(4, activation="tanh")
    wrapper = TimeDistributed(dense)
    x = data(3, 5, 6)
    out = wrapper(x)
    assert out.shape == (3, 5, 4) and out.dtype == np.float32
    kernel, bias = wrapper.get_weights()
    assert kernel.shape == (6, 4) and len(wrapper.weights) == 2  # one set of weights
    expected = np.tanh(x.reshape(15, 6) @ kernel + bias).reshape(3, 5, 4)
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.data, dense(x.reshape(15, 6)).data.reshape(3, 5, 4))


def test_time_distributed_conv_equals_the_conv_on_each_step():
    conv = layers.Conv2D(3, 3, padding="valid", activation="relu")
    wrapper = TimeDistributed(conv)
    x = data(2, 4, 7, 6, 2)
    out = wrapper(x).data
    assert out.shape == (2, 4, 5, 4, 3)
    for t in range(4):
        np.testing.assert_allclose(out[:, t], conv(x[:, t]).data, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make, input_shape, expected", [
    (lambda: layers.Dense(8), (None, 10, 16), (None, 10, 8)),
    (lambda: layers.Dense(8), (4, 10, 3, 16), (4, 10, 3, 8)),
    (lambda: layers.Conv2D(64, 3), (32, 10, 128, 128, 3), (32, 10, 126, 126, 64)),
    (lambda: layers.Conv1D(5, 3, padding="same", strides=2), (None, 6, 9, 2), (None, 6, 5, 5)),
    (lambda: layers.Flatten(), (None, 7, 3, 4), (None, 7, 12)),
    (lambda: layers.MaxPooling2D(2), (None, 3, 8, 6, 2), (None, 3, 4, 3, 2)),
])
def test_time_distributed_output_shapes(make, input_shape, expected):
    symbolic = TimeDistributed(make())(layer_input(batch_shape=input_shape))
    assert symbolic.shape == expected
    concrete = tuple(2 if d is None else d for d in input_shape)
    if np.prod(concrete) < 2e6:
        eager = TimeDistributed(make())(data(*concrete))
        assert eager.shape == tuple(c if e is None else e for c, e in zip(concrete, expected))


def test_time_distributed_embedding_keeps_integer_indices():
    embedding = layers.Embedding(6, 3)
    tokens = np.array([[[1, 5], [0, 2], [3, 3]]])
    out = TimeDistributed(embedding)(tokens)
    assert out.shape == (1, 3, 2, 3)
    np.testing.assert_array_equal(out.data[0], embedding.get_weights()[0][tokens[0]])


def test_time_distributed_gradients_dense(float64):
    layer = TimeDistributed(layers.Dense(3, activation="tanh"))
    check_layer_gradients(layer, rng.standard_normal((2, 4, 5)))


def test_time_distributed_gradients_conv(float64):
    layer = TimeDistributed(layers.Conv1D(2, 3, padding="same"))
    check_layer_gradients(layer, rng.standard_normal((2, 3, 5, 2)))


def test_time_distributed_passes_the_mask_through_and_to_the_wrapped_layer():
    x = data(2, 3, 4)
    mask = np.array([[True, True, False], [True, False, False]])
    recorder = MaskRecorder()
    out = TimeDistributed(recorder)(Tensor(x), mask=mask)
    np.testing.assert_array_equal(recorder.seen, mask.reshape(6))  # time folded into the batch
    np.testing.assert_array_equal(out._keras_mask, mask)           # Keras 3: the input's mask
    # A mask carried by the input tensor (e.g. from an embedding with mask_zero) works the same.
    tokens = np.array([[3, 1, 0], [2, 0, 0]])
    embedded = layers.Embedding(5, 4, mask_zero=True)(tokens)
    out = TimeDistributed(layers.Dense(2))(embedded)
    np.testing.assert_array_equal(out._keras_mask, tokens != 0)
    # A wrapped layer whose call takes no mask is not given one (Dense above) and no mask stays
    # no mask.
    recorder = MaskRecorder()
    assert TimeDistributed(recorder)(x)._keras_mask is None and recorder.seen is None


def test_time_distributed_errors_name_the_layer():
    wrapper = TimeDistributed(layers.Dense(3), name="frames")
    with pytest.raises(ValueError, match=r"frames expects an input of at least 3 dimensions.*"
                                         r"\(2, 5\)"):
        wrapper(data(2, 5))
    with pytest.raises(ValueError, match="frames expects an input of at least 3 dimensions"):
        TimeDistributed(layers.Dense(3), name="frames")(layer_input(shape=5))
    with pytest.raises(ValueError, match="time_distributed.*wraps a layer instance"):
        TimeDistributed("dense")
    wrapper(data(2, 4, 5))
    with pytest.raises(ValueError, match=r"frames expects input of shape \(None, 4, 5\), got "
                                         r"\(2, 4, 6\)"):
        wrapper(data(2, 4, 6))
    with pytest.raises(ValueError, match=r"frames expects a mask of shape \(2, 4, \.\.\.\)"):
        wrapper(Tensor(data(2, 4, 5)), mask=np.ones((2, 3), bool))


def test_time_distributed_in_a_sequential_model_summary_and_config():
    model = keras_model_sequential() | time_distributed(layer_dense(units=8),
                                                        input_shape=(10, 16))
    assert model.outputs[0].shape == (None, 10, 8)
    lines = []
    model.summary(print_fn=lines.append)
    row = next(line for line in lines if "TimeDistributed" in line)
    assert "(TimeDistributed)" in row and "(None, 10, 8)" in row and row.split("│")[3].strip() == "136"
    wrapper = model.layers[0]
    clone = TimeDistributed.from_config(wrapper.get_config())
    assert isinstance(clone.layer, layers.Dense) and clone.layer.units == 8
    x = data(2, 10, 16)
    clone(x)
    clone.set_weights(wrapper.get_weights())
    np.testing.assert_allclose(clone(x).data, model.predict(x, verbose=0), rtol=1e-6)


def test_time_distributed_verb_forms():
    inputs = layer_input(shape=(5, 3))
    outputs = time_distributed(inputs, layer_dense(units=2))
    assert isinstance(outputs, KerasTensor) and outputs.shape == (None, 5, 2)
    layer = time_distributed(layer_dense(units=2), name="td")
    assert isinstance(layer, TimeDistributed) and layer.name == "td"
    assert (data(4, 5, 3) | layer).shape == (4, 5, 2)
    model = Functional(inputs, outputs)
    assert model.predict(data(4, 5, 3), verbose=0).shape == (4, 5, 2)
    frozen = time_distributed(layer=layers.Dense(2), trainable=False)
    frozen(data(1, 2, 3))
    assert frozen.trainable_weights == [] and not frozen.layer.trainable


# ==== Bidirectional =========================================================================
@pytest.mark.parametrize("kind", ["tiny", "lstm", "gru"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merges_the_directions_composed_by_hand(kind, return_sequences, merge_mode):
    inner = RECURRENT[kind](4, return_sequences=return_sequences)
    wrapper = Bidirectional(inner, merge_mode=merge_mode)
    x = data(3, 6, 5)
    out = wrapper(x)
    forward, backward = by_hand(wrapper, x)
    if merge_mode is None:
        assert isinstance(out, list) and len(out) == 2
        np.testing.assert_allclose(out[0].data, forward, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(out[1].data, backward, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(out.data, MERGES[merge_mode](forward, backward),
                                   rtol=1e-5, atol=1e-6)
    assert not np.allclose(forward, backward)  # the two directions do differ


@pytest.mark.parametrize("kind", ["tiny", "lstm", "gru"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", None])
def test_bidirectional_output_shapes(kind, return_sequences, return_state, merge_mode):
    units, batch, steps = 3, 2, 5
    make = lambda: Bidirectional(RECURRENT[kind](units, return_sequences=return_sequences,  # noqa: E731
                                                 return_state=return_state),
                                 merge_mode=merge_mode)
    width = 2 * units if merge_mode == "concat" else units
    output = (batch, steps, width) if return_sequences else (batch, width)
    outputs = [output] * (2 if merge_mode is None else 1)
    state_count = {"tiny": 1, "lstm": 2, "gru": 1}[kind]
    states = [(batch, units)] * (2 * state_count if return_state else 0)
    expected = outputs + states
    eager = make()(data(batch, steps, 4))
    symbolic = make()(layer_input(shape=(steps, 4)))
    if len(expected) == 1:
        assert eager.shape == expected[0]
        assert symbolic.shape == (None,) + expected[0][1:]
    else:
        assert [t.shape for t in eager] == expected
        assert [t.shape for t in symbolic] == [(None,) + s[1:] for s in expected]


@pytest.mark.parametrize("kind", ["tiny", "lstm", "gru"])
def test_bidirectional_return_state_appends_forward_then_backward_states(kind):
    wrapper = Bidirectional(RECURRENT[kind](3, return_state=True, return_sequences=True))
    x = data(2, 4, 5)
    out = wrapper(x)
    n = len(wrapper.get_weights()) // 2
    weights = wrapper.get_weights()
    forward = same_layer_on(wrapper.forward_layer, weights[:n], x)
    backward = same_layer_on(wrapper.forward_layer, weights[n:], x[:, ::-1].copy())
    assert len(out) == 1 + len(forward[1:]) + len(backward[1:])
    for got, want in zip(out[1:], forward[1:] + backward[1:]):
        np.testing.assert_allclose(got.data, want.data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        out[0].data, np.concatenate([forward[0].data, backward[0].data[:, ::-1]], -1),
        rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["tiny", "lstm", "gru"])
def test_bidirectional_initial_state_first_half_forward_second_half_backward(kind):
    count = {"tiny": 1, "lstm": 2, "gru": 1}[kind]
    wrapper = Bidirectional(RECURRENT[kind](3, return_sequences=True), merge_mode=None)
    x = data(2, 4, 5)
    states = [data(2, 3) for _ in range(2 * count)]
    out = wrapper(x, initial_state=states)
    weights = wrapper.get_weights()
    n = len(weights) // 2
    forward = same_layer_on(wrapper.forward_layer, weights[:n], x, initial_state=states[:count])
    backward = same_layer_on(wrapper.forward_layer, weights[n:], x[:, ::-1].copy(),
                             initial_state=states[count:])
    np.testing.assert_allclose(out[0].data, forward.data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[1].data, backward.data[:, ::-1], rtol=1e-5, atol=1e-6)
    assert not np.allclose(out[0].data, wrapper(x)[0].data)  # the states did count
    with pytest.raises(ValueError, match=f"{wrapper.name} expects an even number of initial "):
        wrapper(x, initial_state=states + [data(2, 3)])


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_bidirectional_initial_state_in_a_functional_model(kind):
    count = {"lstm": 2, "gru": 1}[kind]
    sequence = layer_input(shape=(4, 5))
    states = [layer_input(shape=3) for _ in range(2 * count)]
    wrapper = Bidirectional(RECURRENT[kind](3))
    model = Functional([sequence] + states, wrapper(sequence, initial_state=states))
    x, s = data(2, 4, 5), [data(2, 3) for _ in range(2 * count)]
    np.testing.assert_allclose(model.predict([x] + s, verbose=0),
                               wrapper(x, initial_state=s).data, rtol=1e-6)
    assert not np.allclose(model.predict([x] + s, verbose=0), wrapper(x).data)


@pytest.mark.parametrize("kind", ["tiny", "lstm", "gru"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("merge_mode", ["concat", "mul", None])
def test_bidirectional_masked_batch_equals_each_unpadded_sequence(kind, return_sequences,
                                                                  merge_mode):
    wrapper = Bidirectional(RECURRENT[kind](3, return_sequences=return_sequences),
                            merge_mode=merge_mode)
    lengths = [6, 3, 1, 4]
    x = data(4, 6, 2)
    mask = np.arange(6)[None, :] < np.array(lengths)[:, None]
    x[~mask] = 0.0
    x[1, 3:] = 9.0  # values under the mask must not matter
    out = wrapper(Tensor(x), mask=mask)
    outs = out if merge_mode is None else [out]
    for i, length in enumerate(lengths):
        alone = wrapper(x[i:i + 1, :length])
        alone = alone if merge_mode is None else [alone]
        for got, want in zip(outs, alone):
            if return_sequences:
                np.testing.assert_allclose(got.data[i, :length], want.data[0], rtol=1e-5,
                                           atol=1e-6)
                # Keras 3 forces zero_output_for_mask for returned sequences.
                np.testing.assert_array_equal(got.data[i, length:], 0.0)
            else:
                np.testing.assert_allclose(got.data[i], want.data[0], rtol=1e-5, atol=1e-6)
    for got in outs:
        expected_mask = mask if return_sequences else None
        np.testing.assert_array_equal(got._keras_mask, expected_mask)


def test_bidirectional_forces_zero_output_for_mask_only_for_sequences():
    assert Bidirectional(layers.LSTM(2, return_sequences=True)).forward_layer.zero_output_for_mask
    assert Bidirectional(layers.GRU(2, return_sequences=True,
                                    zero_output_for_mask=False)).backward_layer.zero_output_for_mask
    assert not Bidirectional(layers.LSTM(2, zero_output_for_mask=True)).forward_layer.zero_output_for_mask


def test_bidirectional_mask_from_an_embedding_with_mask_zero():
    tokens = np.array([[4, 2, 7, 0, 0], [1, 0, 0, 0, 0]])
    embedding = layers.Embedding(8, 3, mask_zero=True)
    wrapper = Bidirectional(layers.LSTM(2, return_sequences=True))
    out = wrapper(embedding(tokens))
    np.testing.assert_array_equal(out._keras_mask, tokens != 0)
    np.testing.assert_array_equal(out.data[tokens == 0], 0.0)
    first = wrapper(embedding(tokens[:1, :3]))
    np.testing.assert_allclose(out.data[0, :3], first.data[0], rtol=1e-5, atol=1e-6)


def test_bidirectional_names_copies_and_weight_order():
    inner = layers.LSTM(4, name="encoder")
    wrapper = Bidirectional(inner)
    assert (wrapper.forward_layer.name, wrapper.backward_layer.name) == ("forward_encoder",
                                                                         "backward_encoder")
    assert not wrapper.forward_layer.go_backwards and wrapper.backward_layer.go_backwards
    assert wrapper.forward_layer is not inner and wrapper.backward_layer is not inner
    wrapper(data(2, 3, 5))
    assert not inner.built  # the wrapped instance is a template, never built
    weights = wrapper.get_weights()
    assert [w.shape for w in weights] == [(5, 16), (4, 16), (16,)] * 2
    for got, want in zip(weights, wrapper.forward_layer.get_weights()
                         + wrapper.backward_layer.get_weights()):
        np.testing.assert_array_equal(got, want)
    new = [rng.standard_normal(w.shape).astype(np.float32) for w in weights]
    wrapper.set_weights(new)
    for got, want in zip(wrapper.forward_layer.get_weights(), new[:3]):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(wrapper.backward_layer.get_weights(), new[3:]):
        np.testing.assert_array_equal(got, want)
    # The constructor's `weights` are set the same way once the layer is built.
    preset = Bidirectional(layers.LSTM(4), weights=new)
    preset(data(1, 3, 5))
    for got, want in zip(preset.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    # A name already carrying the prefix is not doubled (a config round trip).
    assert Bidirectional(layers.GRU(2, name="forward_gru")).forward_layer.name == "forward_gru"


def test_bidirectional_with_a_backward_layer_of_its_own():
    backward = layers.GRU(3, go_backwards=True, activation="relu", name="reverse")
    wrapper = Bidirectional(layers.GRU(3), backward_layer=backward)
    assert wrapper.backward_layer is backward and backward.activation == "relu"
    x = data(2, 4, 5)
    out = wrapper(x).data
    np.testing.assert_allclose(out[:, 3:], backward(x).data, rtol=1e-6)
    with pytest.raises(ValueError, match="bidirectional.*different go_backwards"):
        Bidirectional(layers.GRU(3), backward_layer=layers.GRU(3))
    with pytest.raises(ValueError, match="bidirectional.*same return_sequences"):
        Bidirectional(layers.GRU(3), backward_layer=layers.GRU(3, go_backwards=True,
                                                              return_sequences=True))
    with pytest.raises(ValueError, match="bidirectional.*same return_state"):
        Bidirectional(layers.LSTM(3), backward_layer=layers.LSTM(3, go_backwards=True,
                                                                return_state=True))
    with pytest.raises(ValueError, match="bidirectional.*backward_layer must be a layer"):
        Bidirectional(layers.LSTM(3), backward_layer="lstm")
    with pytest.raises(ValueError, match="bidirectional.*backward_layer must be a recurrent"):
        Bidirectional(layers.LSTM(3), backward_layer=layers.Dense(3))


def test_bidirectional_bad_arguments_and_inputs_name_the_layer():
    with pytest.raises(ValueError, match=r"bi: layer must be a recurrent layer.*dense.*\(Dense\)"):
        Bidirectional(layers.Dense(3), name="bi")
    with pytest.raises(ValueError, match="bi: .*wraps a layer instance"):
        Bidirectional("lstm", name="bi")
    with pytest.raises(ValueError, match="bi: merge_mode must be one of"):
        Bidirectional(layers.LSTM(3), merge_mode="max", name="bi")
    wrapper = Bidirectional(layers.LSTM(3), name="bi")
    with pytest.raises(ValueError, match=r"bi expects a 3D input.*\(2, 5\)"):
        wrapper(data(2, 5))
    with pytest.raises(ValueError, match=r"bi expects a 3D input"):
        Bidirectional(layers.LSTM(3), name="bi")(layer_input(shape=(2, 3, 4)))
    wrapper(data(2, 4, 5))
    with pytest.raises(ValueError, match=r"bi expects input of shape \(None, 4, 5\), got "
                                         r"\(2, 4, 6\)"):
        wrapper(data(2, 4, 6))
    with pytest.raises(ValueError, match="bi is not stateful"):
        wrapper.reset_states()


@pytest.mark.parametrize("kind", ["tiny", "lstm", "gru"])
@pytest.mark.parametrize("merge_mode", ["concat", "ave", "mul"])
def test_bidirectional_gradients(float64, kind, merge_mode):
    wrapper = Bidirectional(RECURRENT[kind](3, return_sequences=True), merge_mode=merge_mode)
    check_layer_gradients(wrapper, rng.standard_normal((2, 4, 3)))


@pytest.mark.parametrize("kind", ["tiny", "lstm", "gru"])
def test_bidirectional_gradients_with_mask_and_states(float64, kind):
    count = {"tiny": 1, "lstm": 2, "gru": 1}[kind]
    mask = np.array([[True, True, True, False], [False, True, True, True]])
    x = rng.standard_normal((2, 4, 3))
    states = [rng.standard_normal((2, 2)) for _ in range(2 * count)]
    # Input and weights, with a mask and initial states.
    wrapper = Bidirectional(RECURRENT[kind](2, return_sequences=True))
    check_layer_gradients(wrapper, x, mask=mask, initial_state=states)
    # Input and initial states, every output (merge_mode None) and every final state.
    wrapper = Bidirectional(RECURRENT[kind](2, return_sequences=True, return_state=True),
                            merge_mode=None)
    check_gradients(lambda x_, *s: wrapper(x_, initial_state=list(s), mask=mask), x, *states)


def test_bidirectional_summary_and_parameter_count():
    # The book's Jena model: bidirectional(layer_gru(units = 32), input_shape = list(NULL, 14)).
    model = keras_model_sequential() | bidirectional(layers.GRU(32), input_shape=(None, 14)) \
        | layer_dense(units=1)
    lines = []
    model.summary(print_fn=lines.append)
    row = next(line for line in lines if "(Bidirectional)" in line)
    cells = [c.strip() for c in row.split("│")[1:-1]]
    gru = 3 * 32 * (14 + 32) + 2 * 3 * 32
    assert cells[0].startswith("bidirectional") and cells[0].endswith(" (Bidirectional)")
    assert cells[1:] == ["(None, 64)", f"{2 * gru:,}"]
    assert model.count_params() == 2 * gru + 65


def test_bidirectional_verbs_and_models():
    # The book's IMDB model: embedding, bidirectional LSTM, dense.
    model = keras_model_sequential() | layer_embedding(input_dim=50, output_dim=8) \
        | bidirectional(layers.LSTM(4)) | layer_dense(units=1, activation="sigmoid")
    tokens = rng.integers(0, 50, size=(3, 7))
    assert model.predict(tokens, verbose=0).shape == (3, 1)
    assert model.layers[1].forward_layer.name.startswith("forward_lstm")
    # The wrapped layer's own input shape serves as the wrapper's.
    model = keras_model_sequential() | bidirectional(layers.GRU(2, input_shape=(None, 3)),
                                                     "sum")
    assert model.outputs[0].shape == (None, 2) and model.layers[0].merge_mode == "sum"
    inputs = layer_input(shape=(5, 3))
    outputs = bidirectional(inputs, layers.LSTM(2, return_sequences=True), merge_mode=None)
    assert [o.shape for o in outputs] == [(None, 5, 2), (None, 5, 2)]
    layer = bidirectional(layer=layers.LSTM(2), name="bi", trainable=False)
    assert isinstance(layer, Bidirectional) and layer.name == "bi"
    layer(data(1, 2, 3))
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 6


def test_bidirectional_config_round_trip():
    wrapper = Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode="ave", name="bi")
    x = data(2, 4, 5)
    out = wrapper(x)
    config_ = wrapper.get_config()
    assert config_["merge_mode"] == "ave" and config_["layer"]["class_name"] == "LSTM"
    assert config_["backward_layer"]["config"]["go_backwards"] is True
    clone = Bidirectional.from_config(config_)
    assert clone.name == "bi" and clone.forward_layer.name == wrapper.forward_layer.name
    assert clone.backward_layer.name == wrapper.backward_layer.name
    clone(x)
    clone.set_weights(wrapper.get_weights())
    np.testing.assert_allclose(clone(x).data, out.data, rtol=1e-6)


def test_bidirectional_stateful_resets_both_directions():
    wrapper = Bidirectional(layers.GRU(2, stateful=True), batch_input_shape=(2, 3, 4))
    model = Sequential([wrapper])
    x = data(2, 3, 4)
    first = model.predict(x, batch_size=2, verbose=0)
    second = model.predict(x, batch_size=2, verbose=0)
    assert not np.allclose(first, second)  # states carried over
    wrapper.reset_states()
    np.testing.assert_allclose(model.predict(x, batch_size=2, verbose=0), first, rtol=1e-6)
    assert len(wrapper.states) == 2


def test_reverse_time_gradient():
    from kerasr.layers.wrappers import reverse_time
    x = Variable(rng.standard_normal((2, 3, 2)))
    g = rng.standard_normal((2, 3, 2))
    with GradientTape() as tape:
        loss = ops.sum(ops.multiply(reverse_time(x), g))
    np.testing.assert_allclose(tape.gradient(loss, x), g[:, ::-1])


def test_bidirectional_model_with_masking_trains_and_clones():
    from kerasr.verbs import clone_model, compile, fit
    # A task only memory solves: the label is whether the first token is odd; sequences are
    # zero-padded at the end (mask_zero), so the backward direction must skip the padding.
    set_random_seed(1)
    local = np.random.default_rng(3)
    tokens = local.integers(1, 10, size=(96, 6))
    for row, length in zip(tokens, local.integers(2, 7, size=96)):
        row[length:] = 0
    labels = (tokens[:, 0] % 2).astype(np.float32)
    model = keras_model_sequential() | layer_embedding(input_dim=10, output_dim=4,
                                                       mask_zero=True) \
        | bidirectional(layers.LSTM(6)) | layer_dense(units=1, activation="sigmoid")
    model | compile(optimizer=optimizers.Adam(learning_rate=0.03), loss="binary_crossentropy")
    history = model | fit(tokens, labels, epochs=25, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.2 * losses[0]
    clone = clone_model(model)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(tokens, verbose=0), model.predict(tokens, verbose=0),
                               rtol=1e-5)
    # Padding does not change a sequence's prediction.
    padded = np.zeros((1, 6), dtype=np.int64)
    padded[0, :3] = tokens[0, :3]
    embedding, wrapper, dense = model.layers
    unpadded = dense(wrapper(embedding(padded[:, :3]))).data
    np.testing.assert_allclose(model.predict(padded, verbose=0), unpadded, rtol=1e-5)
