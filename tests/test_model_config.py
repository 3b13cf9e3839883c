"""Model configs in Keras 3's layout: JSON round trips of graph and sequential models, custom
classes through custom_objects or registration, and hostile or broken configs refused."""

import json

import numpy as np
import pytest

from kerasr import (Layer, bidirectional, keras_model, keras_model_sequential, layer_concatenate,
                    layer_dense, layer_dropout, layer_embedding, layer_global_average_pooling_1d,
                    layer_gru, layer_input, layer_lstm, predict, set_random_seed)
from kerasr.models import Functional, Sequential
from kerasr.saving.serialization import register_keras_serializable


def through_json(config):
    return json.loads(json.dumps(config))


def same_predictions(a, b, x):
    pa, pb = a | predict(x), b | predict(x)
    pa, pb = (pa, pb) if isinstance(pa, list) else ([pa], [pb])
    for u, v in zip(pa, pb):
        np.testing.assert_array_equal(u, v)


def test_graph_with_shared_layer_states_nested_model_and_wrapper_round_trips():
    set_random_seed(0)
    sequence, h, c = layer_input(shape=(5, 2)), layer_input(shape=3), layer_input(shape=3)
    shared = layer_dense(units=3, activation="tanh")
    state = layer_lstm(units=3)(sequence, initial_state=[h, c])
    once = shared(state)
    twice = shared(once)
    inner = keras_model_sequential() | layer_dense(units=4, input_shape=3) | layer_dropout(0.2)
    pooled = bidirectional(layer_gru(units=2, return_sequences=True))(sequence) | \
        layer_global_average_pooling_1d()
    out = layer_concatenate([inner(twice), pooled]) | layer_dense(1)
    model = keras_model([sequence, h, c], [out, once], name="graph")
    config = through_json(model.get_config())
    assert config["input_layers"] == [[model.layers[i].name, 0, 0] for i in range(3)]
    rebuilt = Functional.from_config(config)
    assert [type(layer).__name__ for layer in rebuilt.layers] == \
        [type(layer).__name__ for layer in model.layers]
    assert rebuilt.name == "graph"
    rebuilt.set_weights(model.get_weights())
    rng = np.random.default_rng(1)
    x = [rng.random((4, 5, 2), dtype="float32"), rng.random((4, 3), dtype="float32"),
         rng.random((4, 3), dtype="float32")]
    same_predictions(model, rebuilt, x)
    shared_entry = next(e for e in config["layers"] if e["name"] == shared.name)
    assert len(shared_entry["inbound_nodes"]) == 2


def test_sequential_round_trips_with_its_input_shape():
    model = keras_model_sequential() | layer_embedding(100, 8, input_length=10) | \
        layer_lstm(5) | layer_dense(1, activation="sigmoid")
    config = through_json(model.get_config())
    assert config["layers"][0]["class_name"] == "InputLayer"
    rebuilt = Sequential.from_config(config)
    assert rebuilt.built and rebuilt.count_params() == model.count_params()
    rebuilt.set_weights(model.get_weights())
    same_predictions(model, rebuilt, np.random.default_rng(2).integers(0, 100, (3, 10)))


class Scale(Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_custom_layer_needs_custom_objects_or_registration():
    x = layer_input(shape=3)
    model = keras_model(x, Scale(3.0)(x))
    config = through_json(model.get_config())
    with pytest.raises(ValueError, match="Unknown layer class 'Scale'.*custom_objects"):
        Functional.from_config(config)
    rebuilt = Functional.from_config(config, custom_objects={"Scale": Scale})
    assert rebuilt.layers[1].factor == 3.0

    @register_keras_serializable(package="tests")
    class Shift(Layer):
        def call(self, inputs):
            return inputs + 1.0

    model = keras_model(x, Shift()(x))
    config = through_json(model.get_config())
    assert config["layers"][1]["registered_name"] == "tests>Shift"
    assert type(Functional.from_config(config).layers[1]) is Shift


def test_names_in_a_config_are_never_imported():
    x = layer_input(shape=3)
    config = through_json(keras_model(x, layer_dense(2)(x)).get_config())
    config["layers"][1]["class_name"] = "os.system"
    config["layers"][1]["module"] = "os"
    with pytest.raises(ValueError, match="Unknown layer class 'os.system'"):
        Functional.from_config(config)


@pytest.mark.parametrize("break_config, message", [
    (lambda c: c.pop("layers"), "lacks layers"),
    (lambda c: c["layers"][1].__setitem__("config", [1, 2]), "must be a dict"),
    (lambda c: c["layers"][1]["inbound_nodes"][0]["args"][0]["config"].__setitem__(
        "keras_history", ["nowhere", 0, 0]), "cannot be rebuilt"),
    (lambda c: c["layers"][1]["inbound_nodes"][0]["args"][0]["config"].__setitem__(
        "keras_history", "x"), "keras_history"),
    (lambda c: c.__setitem__("output_layers", ["dense_9", 4, 0]), "names no tensor"),
    (lambda c: c["layers"][1]["config"].__setitem__("units", "many"), "units"),
    (lambda c: c["layers"][1]["config"].__setitem__("no_such_argument", 1), "Could not rebuild"),
])
def test_broken_configs_are_refused_with_a_reason(break_config, message):
    x = layer_input(shape=3)
    config = through_json(keras_model(x, layer_dense(2)(x)).get_config())
    break_config(config)
    with pytest.raises(ValueError, match=message):
        Functional.from_config(config)


def test_a_cycle_in_a_config_is_refused():
    x = layer_input(shape=3)
    hidden = layer_dense(3, name="a")(x)
    model = keras_model(x, layer_dense(3, name="b")(hidden))
    config = through_json(model.get_config())
    # a's input now comes from b, whose input comes from a.
    config["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["b", 0, 0]
    with pytest.raises(ValueError, match="cannot be rebuilt"):
        Functional.from_config(config)
