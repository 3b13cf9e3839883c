"""The R-style verbs and `|` (magrittr's %>%): one test per promise."""

import builtins

import numpy as np
import pytest

import kerasr
from kerasr import (compile, fit, evaluate, get_layer, get_weights, keras_model,
                    keras_model_sequential, layer_dense, layer_dropout, layer_input, normalize,
                    pop_layer, predict, set_weights, summary, to_categorical)
from kerasr.engine.graph import KerasTensor
from kerasr.layers import Dense
from kerasr.verbs import Verb

rng = np.random.default_rng(0)


def test_pipe_adds_layers_in_place_and_returns_the_same_model():
    model = keras_model_sequential()
    result = model | layer_dense(units=8, activation="relu", input_shape=4) | layer_dense(units=2)
    assert result is model
    assert [type(layer) for layer in model.layers] == [Dense, Dense]
    assert model.outputs[0].shape == (None, 2)


def test_r_style_call_with_model_first_does_the_same():
    model = keras_model_sequential()
    result = layer_dense(model, units=16, input_shape=(3,))
    assert result is model and len(model.layers) == 1


def test_layer_verb_without_model_returns_a_layer_that_pipes_later():
    layer = layer_dense(units=3)
    assert isinstance(layer, Dense)
    model = keras_model_sequential(input_shape=5)
    model | layer
    assert model.layers == [layer]


def test_layer_called_on_data_twice_shares_its_weights():
    layer = layer_dense(units=3)
    x = rng.standard_normal((2, 4)).astype(np.float32)
    first = layer(x)
    second = x | layer
    np.testing.assert_array_equal(first.data, second.data)
    assert len(layer.weights) == 2


def test_layer_verb_on_a_tensor_returns_the_output():
    out = layer_dense(np.ones((2, 4), dtype=np.float32), units=5)
    assert out.shape == (2, 5)


def test_positional_first_argument_is_the_layers_first_argument():
    layer = layer_dense(64, activation="relu")
    assert layer.units == 64
    assert layer_dropout(0.5).rate == 0.5


def test_a_model_pipes_into_another_model_as_a_layer():
    inner = keras_model_sequential() | layer_dense(units=4, input_shape=3)
    outer = keras_model_sequential(input_shape=3) | inner | layer_dense(units=1)
    assert outer.layers[0] is inner
    assert outer.outputs[0].shape == (None, 1)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(outer.predict(x, verbose=0),
                               outer.layers[1](inner(x)).data, rtol=1e-6)


def test_numpy_array_on_the_left_of_a_verb():
    y = np.array([0, 2, 1])
    onehot = y | to_categorical(num_classes=3)
    np.testing.assert_array_equal(onehot, np.eye(3)[y])
    np.testing.assert_allclose(np.array([[3.0, 4.0]]) | normalize(), [[0.6, 0.8]])


def test_bound_verbs_keep_the_verb_type():
    bound = to_categorical(num_classes=10)
    assert isinstance(bound, Verb)
    assert isinstance(fit(np.zeros((2, 2)), np.zeros(2), epochs=1), Verb)
    assert isinstance(compile(optimizer="sgd")(loss="mse"), Verb)


def test_verb_applies_at_once_when_its_first_argument_is_a_model():
    model = keras_model_sequential() | layer_dense(units=1, input_shape=2)
    assert compile(model, optimizer="sgd", loss="mse") is model
    assert model.compiled
    assert isinstance(to_categorical([0, 1]), np.ndarray)


def test_pipe_chain_compile_fit_evaluate_predict():
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    model = keras_model_sequential() | layer_dense(units=1, input_shape=3)
    assert (model | compile(optimizer="sgd", loss="mse", metrics="mae")) is model
    history = model | fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert set(history.history) == {"loss", "mae"}
    scores = model | evaluate(x, y, verbose=0)
    assert set(scores) == {"loss", "mae"}
    assert (model | predict(x)).shape == (64, 1)


def test_summary_verb_prints_the_table(capsys):
    model = keras_model_sequential() | layer_dense(units=512, input_shape=784) | layer_dense(units=10)
    assert (model | summary()) is None
    printed = capsys.readouterr().out
    assert "dense" in printed and "(None, 512)" in printed
    assert "Total params: 407,050" in printed


def test_weights_verbs_and_get_layer():
    model = keras_model_sequential() | layer_dense(units=2, input_shape=3, name="first") | layer_dense(units=1)
    weights = model | get_weights()
    assert [w.shape for w in weights] == [(3, 2), (2,), (2, 1), (1,)]
    zeros = [np.zeros_like(w) for w in weights]
    assert set_weights(model, zeros) is model
    assert all((w == 0).all() for w in get_weights(model))
    assert get_layer(model, index=0).name == "first"
    assert get_layer(model, name="first") is model.layers[0]
    pop_layer(model)
    assert len(model.layers) == 1 and model.outputs[0].shape == (None, 2)


def test_symbolic_tensors_pipe_through_layers_into_a_model():
    inputs = layer_input(shape=784)
    outputs = inputs | layer_dense(units=64, activation="relu") | layer_dense(units=10, activation="softmax")
    assert isinstance(outputs, KerasTensor) and outputs.shape == (None, 10)
    model = keras_model(inputs=inputs, outputs=outputs)
    assert model.predict(np.zeros((2, 784), dtype=np.float32), verbose=0).shape == (2, 10)


def test_star_import_shadows_no_builtin_but_compile():
    names = set(kerasr.__all__)
    assert names & set(dir(builtins)) == {"compile"}
    namespace = {}
    exec("from kerasr import *", namespace)
    assert "keras_model_sequential" in namespace and "layer_dense" in namespace


def test_compile_with_the_builtins_arguments_is_the_builtin():
    code = compile("1+1", "<s>", "eval")
    assert eval(code) == 2
    code = compile(source="x = 3", filename="<s>", mode="exec")
    scope = {}
    exec(code, scope)
    assert scope["x"] == 3


def test_methods_for_python_habits():
    model = kerasr.Sequential()
    model.add(Dense(4, input_shape=(2,)))
    model.add(Dense(1))
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(np.zeros((8, 2)), np.zeros(8), epochs=1, verbose=0)
    assert history.epoch == [0]


def test_piping_a_layer_into_a_functional_model_is_a_clear_error():
    inputs = layer_input(shape=3)
    model = keras_model(inputs, inputs | layer_dense(units=2))
    with pytest.raises(TypeError, match="Sequential"):
        model | layer_dense(units=1)


def test_printing_a_model_shows_its_summary_as_in_r():
    model = keras_model_sequential() | layer_dense(units=2, input_shape=3)
    assert "Total params: 8" in str(model)
    assert repr(model).startswith("<Sequential")


def test_positional_arguments_follow_the_verbs_signature_as_in_r():
    def c(*values):
        return values

    dense = layer_dense(64, "relu")
    assert dense.units == 64 and dense.activation.__name__ == "relu"
    from kerasr import layer_conv_2d
    conv = layer_conv_2d(32, c(3, 3), activation="relu")
    assert conv.filters == 32 and conv.kernel_size == (3, 3)
    strided = layer_conv_2d(16, 3, 2)
    assert strided.kernel_size == (3, 3) and strided.strides == (2, 2)
    model = keras_model_sequential(input_shape=(8, 8, 1)) | layer_conv_2d(4, c(3, 3))
    assert model.outputs[0].shape == (None, 6, 6, 4)
