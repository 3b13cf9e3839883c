"""The functional API: graphs of layers, several inputs and outputs, shared layers, models as
layers, custom layers, cloning, and the book's chapter 7 models on synthetic data."""

import re

import numpy as np
import pytest

from kerasr import (Layer, clone_model, compile, create_layer, evaluate, fit, get_layer,
                    k_mean, k_square, k_sum, keras_model, keras_model_sequential,
                    layer_add, layer_concatenate, layer_dense, layer_embedding, layer_input,
                    layer_lambda, new_layer_class, predict, set_random_seed, summary,
                    to_categorical)
from kerasr.engine import GradientTape
from kerasr import ops

from gradcheck import check_layer_gradients

rng = np.random.default_rng(21)



def learns(model, x, y, epochs=10, batch_size=32, **kwargs):
    history = model | fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, **kwargs)
    return history.history["loss"][-1] < 0.7 * history.history["loss"][0]


# ---- the book's chapter 7 models ----------------------------------------------------------

def mean_over_time(t):
    return k_mean(t, axis=1)


def test_two_input_question_answering_model():
    """§7.1.2: a text and a question, each embedded and encoded, concatenated, answered."""
    set_random_seed(1)
    text_vocab, question_vocab, answer_vocab = 200, 100, 20
    text = layer_input(shape=(12,), dtype="int32", name="text")
    encoded_text = text | layer_embedding(input_dim=text_vocab, output_dim=16) | \
        layer_lambda(mean_over_time)
    question = layer_input(shape=(6,), dtype="int32", name="question")
    encoded_question = question | layer_embedding(input_dim=question_vocab, output_dim=8) | \
        layer_lambda(mean_over_time)
    answer = layer_concatenate([encoded_text, encoded_question]) | \
        layer_dense(units=answer_vocab, activation="softmax")
    model = keras_model([text, question], answer)
    model | compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics="acc")
    n = 600
    topics = rng.integers(0, answer_vocab, n)
    texts = rng.integers(1, text_vocab, (n, 12))
    texts[:, ::2] = topics[:, None] + 1  # half the words name the answer
    questions = rng.integers(1, question_vocab, (n, 6))
    answers = to_categorical(topics, answer_vocab)
    assert learns(model, [texts, questions], answers, epochs=30)
    by_name = model | evaluate({"text": texts, "question": questions}, answers, verbose=0)
    by_list = model | evaluate([texts, questions], answers, verbose=0)
    assert by_name == by_list


def test_three_output_model_with_loss_weights():
    """§7.1.3: age (regression), income (10 classes) and gender (binary) from one input."""
    set_random_seed(2)
    posts = layer_input(shape=(30,), name="posts")
    features = posts | layer_dense(units=32, activation="relu")
    age = features | layer_dense(units=1, name="age")
    income = features | layer_dense(units=10, activation="softmax", name="income")
    gender = features | layer_dense(units=1, activation="sigmoid", name="gender")
    model = keras_model(posts, [age, income, gender])
    model | compile(optimizer="rmsprop",
                    loss=["mse", "categorical_crossentropy", "binary_crossentropy"],
                    loss_weights=[0.25, 1, 10], metrics={"gender": "accuracy"})
    x = rng.standard_normal((400, 30)).astype(np.float32)
    y_age = x[:, :3].sum(1, keepdims=True)
    y_income = to_categorical(np.argmax(x[:, 3:13], axis=1), 10)
    y_gender = (x[:, 13] > 0).astype(np.float32)
    history = model | fit(x, {"age": y_age, "income": y_income, "gender": y_gender},
                          epochs=30, batch_size=32, verbose=0)
    assert set(history.history) == {"loss", "age_loss", "income_loss", "gender_loss",
                                    "gender_accuracy"}
    last = {k: v[-1] for k, v in history.history.items()}
    assert last["loss"] == pytest.approx(
        0.25 * last["age_loss"] + last["income_loss"] + 10 * last["gender_loss"], rel=1e-3)
    assert last["loss"] < 0.5 * history.history["loss"][0]
    predictions = model | predict(x[:5])
    assert [p.shape for p in predictions] == [(5, 1), (5, 10), (5, 1)]
    table = str(model)
    for row in (r"age \(Dense\)\s+│ \(None, 1\)\s+│\s+33 │", r"income \(Dense\)\s+│ \(None, 10\)\s+│\s+330 │",
                r"gender \(Dense\)\s+│ \(None, 1\)\s+│\s+33 │", r"Total params: 1,388"):
        assert re.search(row, table), row


def test_inception_style_branches_and_connected_to_column(capsys):
    """§7.1.4: parallel branches concatenated."""
    inputs = layer_input(shape=(16,))
    branches = [inputs | layer_dense(units=8, activation="relu") for _ in range(3)]
    branches.append(inputs | layer_dense(units=8, activation="relu") | layer_dense(units=8))
    merged = layer_concatenate(branches)
    model = keras_model(inputs, merged | layer_dense(units=1))
    assert merged.shape == (None, 32)
    model | summary()
    table = capsys.readouterr().out
    assert "Connected to" in table and "input_layer" in table
    assert re.search(r"concatenate(_\d+)? \(Concatenate\)", table) and "(None, 32)" in table
    model | compile(optimizer="adam", loss="mse")
    x = rng.standard_normal((300, 16)).astype(np.float32)
    assert learns(model, x, 2 * x[:, 0] - x[:, 1], epochs=20)


def test_residual_connection():
    """§7.1.4: y = f(x) + x."""
    set_random_seed(3)
    x = layer_input(shape=(10,))
    y = x | layer_dense(units=10, activation="relu") | layer_dense(units=10)
    model = keras_model(x, layer_add([y, x]))
    data = rng.standard_normal((4, 10)).astype(np.float32)
    inner = keras_model(x, y)
    np.testing.assert_allclose(model.predict(data, verbose=0),
                               inner.predict(data, verbose=0) + data, rtol=1e-5, atol=1e-6)


def test_shared_layer_uses_one_set_of_weights_and_sums_gradients(float64):
    """§7.1.5: one layer applied to two inputs."""
    shared = layer_dense(units=3, activation="tanh")
    left, right = layer_input(shape=(4,)), layer_input(shape=(4,))
    merged = layer_concatenate([left | shared, right | shared])
    model = keras_model([left, right], merged | layer_dense(units=1, activation="sigmoid"))
    assert len(model.trainable_weights) == 4
    a, b = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    kernel = shared.kernel
    with GradientTape() as tape:
        out = ops.sum(model([a, b]))
    analytic = tape.gradient(out, kernel)
    expected = np.zeros_like(kernel.data)
    for position in np.ndindex(kernel.shape):
        original = kernel.data[position]
        values = []
        for step in (1e-6, -1e-6):
            kernel.data[position] = original + step
            values.append(float(model([a, b]).data.sum()))
        kernel.data[position] = original
        expected[position] = (values[0] - values[1]) / 2e-6
    np.testing.assert_allclose(analytic, expected, rtol=1e-5, atol=1e-8)


def test_model_used_as_a_layer():
    """§7.1.6: a siamese pair through one model."""
    set_random_seed(4)
    base_input = layer_input(shape=(5,))
    base = keras_model(base_input, base_input | layer_dense(units=4, activation="relu"))
    left, right = layer_input(shape=(5,)), layer_input(shape=(5,))
    features = layer_concatenate([left | base, right | base])
    model = keras_model([left, right], features | layer_dense(units=1))
    assert base in model.layers
    a, b = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    together = model.predict([a, b], verbose=0)
    by_hand = model.layers[-1](np.concatenate([base(a).data, base(b).data], axis=1)).data
    np.testing.assert_allclose(together, by_hand, rtol=1e-5)


# ---- graph semantics and errors -----------------------------------------------------------

def test_sequential_and_functional_versions_give_identical_results():
    set_random_seed(5)
    sequential = keras_model_sequential() | layer_dense(units=8, activation="relu", input_shape=6) | \
        layer_dense(units=3, activation="softmax")
    inputs = layer_input(shape=6)
    functional = keras_model(inputs, inputs | layer_dense(units=8, activation="relu") |
                             layer_dense(units=3, activation="softmax"))
    functional.set_weights(sequential.get_weights())
    for model in (sequential, functional):
        model | compile(optimizer="sgd", loss="categorical_crossentropy")
    x = rng.standard_normal((64, 6)).astype(np.float32)
    y = to_categorical(rng.integers(0, 3, 64), 3)
    np.testing.assert_array_equal(sequential.predict(x, verbose=0), functional.predict(x, verbose=0))
    sequential | fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    functional | fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(sequential.get_weights(), functional.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_inputs_outputs_layers_and_get_layer():
    a, b = layer_input(shape=2, name="a"), layer_input(shape=3, name="b")
    out = layer_concatenate([a, b], name="joined") | layer_dense(units=1, name="head")
    model = keras_model([a, b], out)
    assert model.inputs == [a, b] and model.outputs == [out]
    assert [layer.name for layer in model.layers] == ["a", "b", "joined", "head"]
    assert get_layer(model, name="head") is model.layers[-1]
    assert get_layer(model, index=2).name == "joined"


def test_fit_with_the_wrong_number_of_inputs_or_their_shapes_swapped():
    a, b = layer_input(shape=2, name="a"), layer_input(shape=3, name="b")
    model = keras_model([a, b], layer_concatenate([a, b]) | layer_dense(units=1))
    model | compile(optimizer="sgd", loss="mse")
    xa, xb, y = np.zeros((4, 2)), np.zeros((4, 3)), np.zeros((4, 1))
    with pytest.raises(ValueError, match="2 inputs .*got a list of 3"):
        model | fit([xa, xb, xb], y, verbose=0)
    with pytest.raises(ValueError, match=r"expects input of shape \(None, 2\), got \(4, 3\)"):
        model | fit([xb, xa], y, verbose=0)


def test_output_not_depending_on_the_given_inputs_names_the_missing_one():
    a, b = layer_input(shape=2, name="given"), layer_input(shape=2, name="missing")
    out = layer_add([a, b])
    with pytest.raises(ValueError, match="missing"):
        keras_model(a, out)


def test_an_input_feeding_nothing_is_an_error():
    a, unused = layer_input(shape=2), layer_input(shape=2, name="unused")
    with pytest.raises(ValueError, match="unused feeds none of the outputs"):
        keras_model([a, unused], a | layer_dense(units=1))


def test_duplicate_layer_names_are_an_error():
    a = layer_input(shape=2)
    out = a | layer_dense(units=2, name="twin") | layer_dense(units=1, name="twin")
    with pytest.raises(ValueError, match="'twin' is used by 2 layers"):
        keras_model(a, out)


def test_a_cycle_is_detected():
    a = layer_input(shape=2)
    first = layer_dense(units=2)
    second = layer_dense(units=2)
    b = a | first
    c = b | second
    # Rewire first's input to c, closing the loop b -> c -> b (impossible through the API).
    node = first._inbound_nodes[0]
    node.inputs, node.input_tensors = c, [c]
    with pytest.raises(ValueError, match="cycle"):
        keras_model(a, c)


# ---- custom layers ------------------------------------------------------------------------

class Scale(Layer):
    """A custom layer: y = x * w + b with one weight per feature."""

    def __init__(self, initial=1.0, **kwargs):
        super().__init__(**kwargs)
        self.initial = initial

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
        self.b = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="b")

    def call(self, inputs):
        return inputs * self.w * self.initial + self.b

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "initial": self.initial}


def test_custom_layer_is_differentiated_and_trains(float64):
    layer = Scale(initial=2.0)
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(layer(x).data, 2 * x)
    layer.set_weights([rng.standard_normal(4), rng.standard_normal(4)])
    check_layer_gradients(layer, x)


def test_create_layer_composes_a_custom_layer_like_a_verb():
    model = keras_model_sequential() | layer_dense(units=3, input_shape=2)
    result = create_layer(Scale, model, args={"initial": 0.5})
    assert result is model and isinstance(model.layers[-1], Scale)
    assert isinstance(create_layer(Scale, args={"name": "s"}), Scale)


def test_new_layer_class_makes_a_layer_from_functions(float64):
    def initialize(self, units=2):
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")

    def call(self, inputs):
        return k_square(inputs @ self.kernel)

    Squared = new_layer_class("Squared", initialize=initialize, build=build, call=call)
    layer = Squared(units=3, name="squared")
    x = rng.standard_normal((2, 4))
    out = layer(x)
    assert out.shape == (2, 3) and layer.name == "squared"
    np.testing.assert_allclose(out.data, (x @ layer.kernel.data) ** 2)
    check_layer_gradients(layer, x)
    assert type(layer).from_config(layer.get_config()).units == 3


def test_add_loss_trains_a_model_compiled_without_a_loss():
    class ActivityPenalty(Layer):
        def call(self, inputs):
            self.add_loss(k_mean(k_sum(k_square(inputs), axis=-1)))
            return inputs

    set_random_seed(6)
    inputs = layer_input(shape=4)
    model = keras_model(inputs, inputs | layer_dense(units=3) | create_layer(ActivityPenalty))
    model | compile(optimizer="sgd", loss=None)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    history = model | fit(x, None, epochs=12, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


# ---- cloning ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_clone_model_copies_the_architecture_with_new_weights(kind):
    set_random_seed(7)
    if kind == "sequential":
        model = keras_model_sequential() | layer_dense(units=4, activation="relu", input_shape=3,
                                                       kernel_regularizer="l2") | layer_dense(units=2)
    else:
        inputs = layer_input(shape=3)
        hidden = inputs | layer_dense(units=4, activation="relu")
        model = keras_model(inputs, layer_concatenate([hidden, inputs]) | layer_dense(units=2))
    clone = clone_model(model)
    assert type(clone) is type(model)
    assert [type(layer) for layer in clone.layers] == [type(layer) for layer in model.layers]
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert not np.array_equal(clone.get_weights()[0], model.get_weights()[0])
    clone.set_weights(model.get_weights())
    x = rng.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    if kind == "sequential":
        assert clone.layers[0].kernel_regularizer.get_config() == \
            model.layers[0].kernel_regularizer.get_config()


def test_gradients_flow_through_fan_out_in_a_graph(float64):
    """hidden feeds both arms of the add: its gradient is the sum of both paths."""
    inputs = layer_input(shape=3)
    hidden = inputs | layer_dense(units=3, activation="tanh")
    model = keras_model(inputs, layer_add([hidden, hidden | layer_dense(units=3)]))
    check_layer_gradients(model, rng.standard_normal((2, 3)))


def test_freezing_a_model_used_as_a_layer_freezes_its_layers():
    from kerasr import freeze_weights, layer_batch_normalization, unfreeze_weights
    base_input = layer_input(shape=4)
    base = keras_model(base_input, base_input | layer_dense(units=4) | layer_batch_normalization())
    inputs = layer_input(shape=4)
    model = keras_model(inputs, inputs | base | layer_dense(units=1))
    freeze_weights(base)
    assert all(not layer.trainable for layer in base.layers)
    assert len(model.trainable_weights) == 2   # only the head's kernel and bias
    model | compile(optimizer="sgd", loss="mse")
    moving_mean = base.layers[-1].get_weights()[2].copy()
    frozen = [w.copy() for w in base.get_weights()]
    model | fit(rng.standard_normal((32, 4)) + 3.0, np.zeros((32, 1)), epochs=1, verbose=0)
    for before, after in zip(frozen, base.get_weights()):
        np.testing.assert_array_equal(before, after)   # BN ran in inference mode: stats kept
    np.testing.assert_array_equal(moving_mean, base.layers[-1].get_weights()[2])
    unfreeze_weights(base)
    assert len(model.trainable_weights) == 6
