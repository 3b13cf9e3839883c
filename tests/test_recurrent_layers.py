"""SimpleRNN, LSTM and GRU layers: weights in Keras's layouts, options against the float64
step-by-step references, states, masks, dropout, errors, gradients, and the book's models."""

import numpy as np
import pytest

from kerasr import (Variable, compile, evaluate, fit, keras_model, keras_model_sequential,
                    layer_dense, layer_embedding, layer_gru, layer_input, layer_lstm,
                    layer_masking, layer_simple_rnn, optimizer_rmsprop, predict,
                    set_random_seed)
from kerasr import layers
from kerasr.engine import GradientTape
from gradcheck import check_layer_gradients
from reference import (gru_sequence_reference, lstm_sequence_reference,
                       simple_rnn_sequence_reference)

CELLS = {
    "simple_rnn": (layers.SimpleRNN, simple_rnn_sequence_reference, 1),
    "lstm": (layers.LSTM, lstm_sequence_reference, 2),
    "gru": (layers.GRU, gru_sequence_reference, 1),
}


def make_layer(cell, units=3, **options):
    layer_class = CELLS[cell][0]
    return layer_class(units, **options)


def reference_of(cell, layer, x, states=None, mask=None, **extra):
    """The reference run with the layer's own weights and options."""
    _, reference, state_count = CELLS[cell]
    weights = [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]
    kernel, recurrent = weights[0], weights[1]
    bias = weights[2] if layer.use_bias else None
    if states is None:
        states = [np.zeros((x.shape[0], layer.units))] * state_count
    options = dict(mask=mask, go_backwards=layer.go_backwards,
                   return_sequences=layer.return_sequences,
                   zero_output_for_mask=layer.zero_output_for_mask,
                   activation=layer.activation, **extra)
    if cell != "simple_rnn":
        options["recurrent_activation"] = layer.recurrent_activation
    if cell == "gru":
        options["reset_after"] = layer.reset_after
    return reference(np.asarray(x, dtype=np.float64), [np.asarray(s, np.float64) for s in states],
                     kernel, recurrent, bias, **options)


def sequences(batch=4, steps=5, features=2, seed=0):
    return np.random.default_rng(seed).standard_normal((batch, steps, features))


# ---- weights -----------------------------------------------------------------------------
@pytest.mark.parametrize("cell, shapes", [
    ("simple_rnn", [(2, 3), (3, 3), (3,)]),
    ("lstm", [(2, 12), (3, 12), (12,)]),
    ("gru", [(2, 9), (3, 9), (2, 9)]),
])
def test_weights_have_keras_shapes_and_order(cell, shapes):
    layer = make_layer(cell)
    layer(sequences().astype("float32"))
    assert [tuple(w.shape) for w in layer.get_weights()] == shapes
    assert [v.name for v in layer.weights] == ["kernel", "recurrent_kernel", "bias"]


def test_gru_without_reset_after_has_one_bias_row():
    layer = layers.GRU(3, reset_after=False)
    layer(sequences().astype("float32"))
    assert layer.bias.shape == (9,)


def test_lstm_unit_forget_bias_starts_the_forget_gate_at_one():
    layer = layers.LSTM(3)
    layer(sequences().astype("float32"))
    np.testing.assert_array_equal(layer.bias.data, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    plain = layers.LSTM(3, unit_forget_bias=False)
    plain(sequences().astype("float32"))
    assert not plain.bias.data.any()


def test_recurrent_kernel_is_orthogonal_by_default():
    layer = layers.SimpleRNN(4)
    layer(sequences().astype("float32"))
    u = layer.recurrent_kernel.data
    np.testing.assert_allclose(u @ u.T, np.eye(4), atol=1e-5)


# ---- forward against the references -------------------------------------------------------
OPTION_SETS = [
    {},
    {"return_sequences": True},
    {"go_backwards": True},
    {"go_backwards": True, "return_sequences": True},
    {"use_bias": False, "return_sequences": True},
    {"activation": "relu", "return_sequences": True},
]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("options", OPTION_SETS)
def test_layer_matches_reference(float64, cell, options):
    layer = make_layer(cell, **options)
    x = sequences()
    out = layer(x)
    expected, _ = reference_of(cell, layer, x)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("options", [{"reset_after": False},
                                     {"reset_after": False, "return_sequences": True,
                                      "go_backwards": True},
                                     {"recurrent_activation": "hard_sigmoid"}])
def test_gru_variants_match_reference(float64, options):
    layer = make_layer("gru", **options)
    x = sequences()
    out = layer(x)
    expected, _ = reference_of("gru", layer, x)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_return_state_gives_the_final_states(float64, cell):
    layer = make_layer(cell, return_state=True, return_sequences=True)
    x = sequences()
    outputs = layer(x)
    expected, states = reference_of(cell, layer, x)
    assert len(outputs) == 1 + CELLS[cell][2]
    np.testing.assert_allclose(outputs[0].data, expected, rtol=1e-10, atol=1e-12)
    for got, want in zip(outputs[1:], states):
        np.testing.assert_allclose(got.data, want, rtol=1e-10, atol=1e-12)
    # The output at the last step is the hidden state.
    np.testing.assert_allclose(outputs[0].data[:, -1], outputs[1].data, rtol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_initial_state_is_used(float64, cell):
    layer = make_layer(cell, return_sequences=True)
    x = sequences()
    states = [np.random.default_rng(i + 1).standard_normal((4, 3)) for i in range(CELLS[cell][2])]
    out = layer(x, initial_state=states)
    expected, _ = reference_of(cell, layer, x, states=states)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)
    assert not np.allclose(out.data, layer(x).data)


# ---- masks ------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_embedding_mask_zero_skips_padding(float64, cell, return_sequences):
    # Pre-padding (pad_sequences' default) and post-padding in one batch, and a row all padding.
    tokens = np.array([[0, 0, 3, 4, 5], [6, 7, 8, 0, 0], [0, 0, 0, 0, 0], [1, 2, 3, 4, 5]])
    embedding = layers.Embedding(10, 2, mask_zero=True)
    layer = make_layer(cell, return_sequences=return_sequences)
    out = layer(embedding(tokens))
    expected, _ = reference_of(cell, layer, embedding(tokens).data, mask=tokens != 0)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)
    if not return_sequences:
        # The last output of a post-padded row is its output at its last real step.
        trimmed = layer(embedding(tokens[1:2, :3]))
        np.testing.assert_allclose(out.data[1], trimmed.data[0], rtol=1e-10)


def test_masking_layer_feeds_the_mask_to_a_sequential_lstm():
    x = sequences(batch=3, steps=6).astype("float32")
    x[0, 4:] = 0.0
    set_random_seed(1)
    model = keras_model_sequential() | layer_masking(mask_value=0.0, input_shape=(None, 2)) | \
        layer_lstm(units=4)
    full = model | predict(x)
    trimmed = model | predict(x[:1, :4])
    np.testing.assert_allclose(full[0], trimmed[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", CELLS)
def test_mask_propagates_only_with_return_sequences(cell):
    tokens = np.array([[0, 1, 2], [3, 4, 0]])
    embedded = layers.Embedding(10, 2, mask_zero=True)(tokens)
    sequence_out = make_layer(cell, return_sequences=True)(embedded)
    np.testing.assert_array_equal(sequence_out._keras_mask, tokens != 0)
    assert getattr(make_layer(cell)(embedded), "_keras_mask", None) is None


# ---- stateful -----------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_stateful_layer_carries_state_across_batches(float64, cell):
    x = sequences(batch=2, steps=6)
    whole = make_layer(cell, return_sequences=True)
    split = make_layer(cell, return_sequences=True, stateful=True,
                       batch_input_shape=(2, None, 2))
    whole(x)
    split(x[:, :3])
    split.set_weights(whole.get_weights())
    split.reset_states()
    first, second = split(x[:, :3]), split(x[:, 3:])
    np.testing.assert_allclose(np.concatenate([first.data, second.data], axis=1), whole(x).data,
                               rtol=1e-12)
    split.reset_states()
    np.testing.assert_allclose(split(x[:, :3]).data, first.data, rtol=1e-12)


def test_stateful_needs_a_fixed_batch_size():
    model = keras_model_sequential()
    with pytest.raises(ValueError, match="lstm.*stateful.*fixed batch size"):
        model | layer_lstm(units=3, stateful=True, input_shape=(5, 2))
    layer = layers.LSTM(3, stateful=True, batch_input_shape=(4, 5, 2))
    layer(sequences(batch=4).astype("float32"))
    with pytest.raises(ValueError, match="stateful with batch size 4, got a batch of 3"):
        layer(sequences(batch=3).astype("float32"))


def test_reset_states_on_a_stateless_layer_is_an_error():
    with pytest.raises(ValueError, match="not stateful"):
        layers.GRU(3).reset_states()


# ---- dropout ----------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_dropout_only_in_training_and_reproducible(float64, cell):
    layer = make_layer(cell, dropout=0.5, recurrent_dropout=0.3)
    x = sequences()
    plain = make_layer(cell)
    plain(x)
    layer(x)
    layer.set_weights(plain.get_weights())
    np.testing.assert_array_equal(layer(x).data, plain(x).data)
    np.testing.assert_array_equal(layer(x, training=False).data, plain(x).data)
    set_random_seed(3)
    a = layer(x, training=True).data
    set_random_seed(3)
    b = layer(x, training=True).data
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, plain(x).data)


@pytest.mark.parametrize("cell", CELLS)
def test_dropout_masks_are_fixed_across_time(float64, cell):
    # With the input dropout mask drawn once per sequence, a feature dropped for a row is
    # dropped at every step: the output is that of the input with the feature zeroed.
    layer = make_layer(cell, dropout=0.5, return_sequences=True)
    x = sequences(batch=6, features=4)
    layer(x)
    set_random_seed(11)
    dropped = layer(x, training=True).data
    set_random_seed(11)
    from kerasr import random
    keep = (random.uniform((6, 4), dtype="float64") >= 0.5) * 2.0
    expected = layer(x * keep[:, None, :]).data
    np.testing.assert_allclose(dropped, expected, rtol=1e-12)


@pytest.mark.parametrize("argument", ["dropout", "recurrent_dropout"])
@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_rates_outside_unit_interval_are_rejected(argument, rate):
    with pytest.raises(ValueError, match=f"lstm.*{argument} must be a number in \\[0, 1\\)"):
        layers.LSTM(3, **{argument: rate})


# ---- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_two_dimensional_input_is_rejected(cell):
    layer = make_layer(cell)
    with pytest.raises(ValueError, match=r"expects a 3D input \(batch, timesteps, features\), "
                                         r"got shape \(32, 10\)"):
        layer(np.zeros((32, 10), dtype="float32"))


def test_feature_count_must_match_the_built_kernel():
    layer = layers.GRU(3, name="gru_x")
    layer(np.zeros((2, 5, 4), dtype="float32"))
    with pytest.raises(ValueError, match=r"gru_x expects input of shape \(None, None, 4\), "
                                         r"got \(2, 5, 3\)"):
        layer(np.zeros((2, 5, 3), dtype="float32"))


def test_initial_state_count_and_shape_are_checked():
    layer = layers.LSTM(3, name="lstm_s")
    x = np.zeros((2, 5, 4), dtype="float32")
    with pytest.raises(ValueError, match="lstm_s expects 2 initial state"):
        layer(x, initial_state=[np.zeros((2, 3), dtype="float32")])
    with pytest.raises(ValueError, match=r"lstm_s expects initial state 1 of shape \(2, 3\), "
                                         r"got \(2, 4\)"):
        layer(x, initial_state=[np.zeros((2, 3)), np.zeros((2, 4))])


def test_unfused_activation_is_refused_with_the_supported_list():
    with pytest.raises(ValueError, match="simple_rnn.*activation must be one of tanh"):
        layers.SimpleRNN(3, activation="softmax", name="simple_rnn_a")


# ---- gradients ---------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("options", [{}, {"return_sequences": True, "go_backwards": True}])
def test_layer_gradients(float64, cell, options):
    check_layer_gradients(make_layer(cell, units=2, **options), sequences(batch=2, steps=4))


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_through_masks_and_dropout(float64, cell):
    class Reseeded(CELLS[cell][0]):
        def call(self, inputs, mask=None, training=None):
            set_random_seed(5)  # the same dropout masks in every evaluation
            return super().call(inputs, mask=np.array([[1, 1, 0, 1], [0, 1, 1, 0]], bool),
                                training=training)
    layer = Reseeded(2, dropout=0.3, recurrent_dropout=0.4, return_sequences=True)
    check_layer_gradients(layer, sequences(batch=2, steps=4), training=True)


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_reach_the_initial_states(float64, cell):
    layer = make_layer(cell, units=2)
    x = Variable(sequences(batch=2, steps=3))
    states = [Variable(np.random.default_rng(i).standard_normal((2, 2)))
              for i in range(CELLS[cell][2])]
    with GradientTape() as tape:
        from kerasr import ops
        loss = ops.sum(layer(x, initial_state=states))
    grads = tape.gradient(loss, states)
    assert all(g is not None and np.abs(g).sum() > 0 for g in grads)


# ---- models ----------------------------------------------------------------------------------
def test_functional_model_with_initial_states_from_inputs():
    sequence = layer_input(shape=(5, 2))
    h, c = layer_input(shape=3), layer_input(shape=3)
    output = layer_lstm(units=3)(sequence, initial_state=[h, c])
    model = keras_model(inputs=[sequence, h, c], outputs=output)
    x = sequences(batch=4).astype("float32")
    h0, c0 = np.ones((4, 3), "float32"), np.full((4, 3), 0.5, "float32")
    got = model | predict([x, h0, c0])
    layer = model.layers[-1]
    np.testing.assert_allclose(got, layer(x, initial_state=[h0, c0]).data, rtol=1e-6)
    assert model.output_shape == (None, 3)


def test_return_state_in_a_functional_model():
    sequence = layer_input(shape=(None, 2))
    output, h, c = layer_lstm(units=3, return_state=True)(sequence)
    assert output.shape == (None, 3) and h.shape == (None, 3) and c.shape == (None, 3)
    model = keras_model(sequence, [output, h, c])
    out, h_value, c_value = model | predict(sequences().astype("float32"))
    np.testing.assert_allclose(out, h_value)


def test_summary_shows_sequence_shapes():
    model = keras_model_sequential() | layer_embedding(input_dim=100, output_dim=8,
                                                       input_length=20) | \
        layer_gru(units=16, return_sequences=True) | layer_simple_rnn(units=4)
    text = str(model)
    assert "(None, 20, 16)" in text and "(None, 4)" in text
    # GRU: 3 * (8*16 + 16*16 + 2*16) params; SimpleRNN: 16*4 + 4*4 + 4.
    assert model.layers[1].count_params() == 3 * (8 * 16 + 16 * 16 + 2 * 16)
    assert model.layers[2].count_params() == 16 * 4 + 4 * 4 + 4


def test_verbs_take_units_positionally_and_pipe():
    layer = layer_lstm(8, return_sequences=True)
    assert isinstance(layer, layers.LSTM) and layer.units == 8 and layer.return_sequences
    model = keras_model_sequential()
    model | layer_simple_rnn(4, input_shape=(None, 3))
    assert isinstance(model.layers[0], layers.SimpleRNN)


def _first_step_sign_task(n, steps, features, seed):
    # The label is the sign of the first step's first feature: only a model that remembers
    # across the whole sequence can learn it.
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, steps, features)).astype("float32")
    y = (x[:, 0, 0] > 0).astype("float32")
    return x, y


def test_book_imdb_lstm_learns_to_remember():
    # §6.2: embedding -> LSTM(32) -> dense sigmoid, rmsprop, binary crossentropy.
    set_random_seed(42)
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 50, size=(512, 12))
    y = (tokens[:, 0] < 25).astype("float32")
    model = keras_model_sequential() | layer_embedding(input_dim=50, output_dim=16) | \
        layer_lstm(units=16) | layer_dense(units=1, activation="sigmoid")
    model | compile(optimizer="rmsprop", loss="binary_crossentropy", metrics="acc")
    model | fit(tokens, y, epochs=25, batch_size=64, verbose=0)
    result = model | evaluate(tokens, y, verbose=0)
    assert result["acc"] > 0.9


def test_book_jena_gru_with_dropout_learns():
    # §6.3: GRU(32, dropout, recurrent_dropout) over (timesteps, features) -> dense 1, mae.
    set_random_seed(7)
    x, y = _first_step_sign_task(512, 8, 3, seed=1)
    target = np.where(y > 0, 1.0, -1.0).astype("float32")
    model = keras_model_sequential() | \
        layer_gru(units=16, dropout=0.1, recurrent_dropout=0.1, input_shape=(None, 3)) | \
        layer_dense(units=1)
    # A larger learning rate than the book's so the test trains in well under a second.
    model | compile(optimizer=optimizer_rmsprop(learning_rate=0.005), loss="mae")
    history = model | fit(x, target, epochs=30, batch_size=64, verbose=0)
    assert history.metrics["loss"][-1] < 0.5 * history.metrics["loss"][0]
    assert (model | evaluate(x, target, verbose=0))["loss"] < 0.35


def test_stacked_gru_and_reversed_sequences_train():
    # §6.3's stacked GRUs (return_sequences on the first) and a go_backwards layer.
    set_random_seed(3)
    x, y = _first_step_sign_task(256, 8, 2, seed=2)
    model = keras_model_sequential() | \
        layer_gru(units=8, return_sequences=True, input_shape=(None, 2)) | \
        layer_gru(units=8, go_backwards=True) | layer_dense(units=1, activation="sigmoid")
    model | compile(optimizer=optimizer_rmsprop(learning_rate=0.005),
                    loss="binary_crossentropy", metrics="accuracy")
    history = model | fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert history.metrics["accuracy"][-1] > 0.95


def test_book_imdb_simple_rnn_learns():
    # §6.2's first model: embedding -> simple_rnn 32 -> dense sigmoid.
    set_random_seed(4)
    tokens = np.random.default_rng(5).integers(1, 30, size=(256, 6))
    y = (tokens[:, -1] < 15).astype("float32")
    model = keras_model_sequential() | layer_embedding(input_dim=30, output_dim=8) | \
        layer_simple_rnn(units=16) | layer_dense(units=1, activation="sigmoid")
    model | compile(optimizer=optimizer_rmsprop(learning_rate=0.005),
                    loss="binary_crossentropy", metrics="accuracy")
    history = model | fit(tokens, y, epochs=15, batch_size=32, verbose=0)
    assert history.metrics["accuracy"][-1] > 0.95


def test_book_character_lstm_learns_the_next_character():
    # §8.1: one-hot windows of characters -> LSTM -> dense softmax over the characters.
    text = "the cat sat on the mat. " * 12
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    maxlen = 6
    starts = range(0, len(text) - maxlen)
    x = np.zeros((len(starts), maxlen, len(chars)), dtype="float32")
    y = np.zeros((len(starts), len(chars)), dtype="float32")
    for row, start in enumerate(starts):
        for t, c in enumerate(text[start:start + maxlen]):
            x[row, t, index[c]] = 1.0
        y[row, index[text[start + maxlen]]] = 1.0
    set_random_seed(8)
    model = keras_model_sequential() | layer_lstm(units=32, input_shape=(maxlen, len(chars))) | \
        layer_dense(units=len(chars), activation="softmax")
    model | compile(optimizer=optimizer_rmsprop(learning_rate=0.01),
                    loss="categorical_crossentropy", metrics="accuracy")
    model | fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert (model | evaluate(x, y, verbose=0))["accuracy"] > 0.95
