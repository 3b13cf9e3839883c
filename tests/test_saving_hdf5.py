"""Keras's HDF5 layout: files written here with h5py from Keras 2's documented structure load
into kerasr and predict exactly like the same model built by hand; kerasr's own `.h5` files
have that structure; weights-only loading by order and by name; hostile files refused."""

import json
import os
import sys
import warnings

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from kerasr import layers as L
from kerasr.models import Functional, Sequential
from kerasr.saving import hdf5
from kerasr.verbs import saving_hdf5 as verbs

RNG = np.random.default_rng(8)


def rand(*shape):
    return RNG.normal(scale=0.5, size=shape).astype("float32")


def glorot(seed=None):
    # Keras 2.2's serialization of glorot_uniform.
    return {"class_name": "VarianceScaling",
            "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": seed}}


ZEROS = {"class_name": "Zeros", "config": {}}


def write_keras2_file(path, model_config, layer_weights, training_config=None, root=None,
                      weights_only=False):
    """A file in Keras 2's layout, written with h5py only: `layer_weights` is a list of
    (layer name, [(weight name, array)]) in the model's layer order."""
    with h5py.File(path, "w") as f:
        if weights_only:
            group = f
        else:
            f.attrs["keras_version"] = b"2.2.4-tf"
            f.attrs["backend"] = b"tensorflow"
            f.attrs["model_config"] = json.dumps(model_config).encode("utf8")
            if training_config is not None:
                f.attrs["training_config"] = json.dumps(training_config).encode("utf8")
            group = f.create_group("model_weights")
        group.attrs["layer_names"] = np.array([n.encode("utf8") for n, _ in layer_weights])
        group.attrs["backend"] = b"tensorflow"
        group.attrs["keras_version"] = b"2.2.4-tf"
        for name, weights in layer_weights:
            g = group.create_group(name)
            g.attrs["weight_names"] = np.array([w.encode("utf8") for w, _ in weights],
                                               dtype="S" if weights else "S1")
            for weight_name, value in weights:
                g.create_dataset(weight_name, data=value)
        if root is not None:
            root(f)


# ---- a Sequential conv / LSTM / dense model, Keras 2.2's config ---------------------------------
def sequential_case():
    conv = [("conv1d_1/kernel:0", rand(3, 3, 4)), ("conv1d_1/bias:0", rand(4))]
    lstm = [("lstm_1/kernel:0", rand(4, 20)), ("lstm_1/recurrent_kernel:0", rand(5, 20)),
            ("lstm_1/bias:0", rand(20))]
    dense = [("dense_1/kernel:0", rand(5, 2)), ("dense_1/bias:0", rand(2))]
    config = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": [
        {"class_name": "Conv1D", "config": {
            "name": "conv1d_1", "trainable": True, "batch_input_shape": [None, 10, 3],
            "dtype": "float32", "filters": 4, "kernel_size": [3], "strides": [1],
            "padding": "same", "data_format": "channels_last", "dilation_rate": [1],
            "activation": "relu", "use_bias": True, "kernel_initializer": glorot(),
            "bias_initializer": ZEROS, "kernel_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}},
        {"class_name": "MaxPooling1D", "config": {
            "name": "max_pooling1d_1", "trainable": True, "strides": [2], "pool_size": [2],
            "padding": "valid", "data_format": "channels_last"}},
        {"class_name": "LSTM", "config": {
            "name": "lstm_1", "trainable": True, "return_sequences": False,
            "return_state": False, "go_backwards": False, "stateful": False, "unroll": False,
            "units": 5, "activation": "tanh", "recurrent_activation": "sigmoid",
            "use_bias": True, "kernel_initializer": glorot(),
            "recurrent_initializer": {"class_name": "Orthogonal",
                                      "config": {"gain": 1.0, "seed": None}},
            "bias_initializer": ZEROS, "unit_forget_bias": True, "kernel_regularizer": None,
            "recurrent_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.0}},
            "kernel_constraint": None, "recurrent_constraint": None, "bias_constraint": None,
            "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2}},
        {"class_name": "Dropout", "config": {"name": "dropout_1", "trainable": True,
                                             "rate": 0.5, "noise_shape": None, "seed": None}},
        {"class_name": "Dense", "config": {
            "name": "dense_1", "trainable": True, "units": 2, "activation": "softmax",
            "use_bias": True, "kernel_initializer": glorot(), "bias_initializer": ZEROS,
            "kernel_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None,
            "bias_constraint": None}}]}}
    weights = [("conv1d_1", conv), ("max_pooling1d_1", []), ("lstm_1", lstm),
               ("dropout_1", []), ("dense_1", dense)]
    training = {"optimizer_config": {"class_name": "RMSprop", "config": {
        "lr": 0.0005, "rho": 0.9, "decay": 0.0, "epsilon": 1e-07}},
        "loss": "categorical_crossentropy", "metrics": ["accuracy"],
        "sample_weight_mode": None, "loss_weights": None}
    return config, weights, training


def sequential_by_hand(weights):
    model = Sequential([
        L.Conv1D(4, 3, padding="same", activation="relu", input_shape=(10, 3), name="conv1d_1"),
        L.MaxPooling1D(2, name="max_pooling1d_1"), L.LSTM(5, name="lstm_1"),
        L.Dropout(0.5, name="dropout_1"), L.Dense(2, activation="softmax", name="dense_1")])
    for layer, (_, values) in zip(model.layers, weights):
        layer.set_weights([v for _, v in values])
    return model


def test_keras2_sequential_file_loads_and_predicts_like_the_model_built_by_hand(tmp_path):
    config, weights, training = sequential_case()
    path = tmp_path / "model.h5"
    write_keras2_file(path, config, weights, training)
    model = verbs.load_model_hdf5(str(path))
    assert isinstance(model, Sequential)
    assert [layer.name for layer in model.layers] == [n for n, _ in weights]
    x = rand(6, 10, 3)
    expected = sequential_by_hand(weights).predict(x, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), expected)
    # training_config: Keras 2's lr= read as learning_rate, compiled with its loss.
    assert type(model.optimizer).__name__ == "RMSprop"
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.0005)
    uncompiled = hdf5.load_model_hdf5(path, compile=False)
    assert not getattr(uncompiled, "compiled", False)


def test_keras_2_2_2_sequential_config_as_a_plain_list_of_layers(tmp_path):
    config, weights, _ = sequential_case()
    config["config"] = config["config"]["layers"]
    write_keras2_file(tmp_path / "old.h5", config, weights)
    model = hdf5.load_model_hdf5(tmp_path / "old.h5")
    x = rand(2, 10, 3)
    np.testing.assert_array_equal(model.predict(x, verbose=0),
                                  sequential_by_hand(weights).predict(x, verbose=0))


# ---- a functional model (tf.keras 2.x's "Functional" config) -----------------------------------
def functional_case(reset_after=True):
    units = 4
    gru_bias = rand(2, 3 * units) if reset_after else rand(3 * units)
    gru = [("gru/gru_cell/kernel:0", rand(3, 3 * units)),
           ("gru/gru_cell/recurrent_kernel:0", rand(units, 3 * units)),
           ("gru/gru_cell/bias:0", gru_bias)]
    dense_a = [("dense/kernel:0", rand(5, 3)), ("dense/bias:0", rand(3))]
    bn = [("batch_normalization/gamma:0", rand(7) + 1),
          ("batch_normalization/beta:0", rand(7)),
          ("batch_normalization/moving_mean:0", rand(7)),
          ("batch_normalization/moving_variance:0", np.abs(rand(7)) + 0.5)]
    out = [("dense_1/kernel:0", rand(7, 1)), ("dense_1/bias:0", rand(1))]

    def node(*names):
        return [[[n, 0, 0, {}] for n in names]]
    gru_config = {
        "name": "gru", "trainable": True, "dtype": "float32", "return_sequences": False,
        "return_state": False, "go_backwards": False, "stateful": False, "unroll": False,
        "time_major": False, "units": units, "activation": "tanh",
        "recurrent_activation": "sigmoid", "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "recurrent_initializer": {"class_name": "Orthogonal",
                                  "config": {"gain": 1.0, "seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
        "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
        "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0,
        "implementation": 2}
    if reset_after is not None:
        gru_config["reset_after"] = reset_after
    layers = [
        {"class_name": "InputLayer", "name": "sequence", "inbound_nodes": [], "config": {
            "batch_input_shape": [None, 6, 3], "dtype": "float32", "sparse": False,
            "ragged": False, "name": "sequence"}},
        {"class_name": "InputLayer", "name": "features", "inbound_nodes": [], "config": {
            "batch_input_shape": [None, 5], "dtype": "float32", "sparse": False,
            "ragged": False, "name": "features"}},
        {"class_name": "GRU", "name": "gru", "config": gru_config,
         "inbound_nodes": node("sequence")},
        {"class_name": "Dense", "name": "dense", "inbound_nodes": node("features"), "config": {
            "name": "dense", "trainable": True, "dtype": "float32", "units": 3,
            "activation": "linear", "use_bias": True,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.01}},
            "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 3,
                                                                      "axis": 0}},
            "bias_constraint": None}},
        {"class_name": "LeakyReLU", "name": "leaky_re_lu", "inbound_nodes": node("dense"),
         "config": {"name": "leaky_re_lu", "trainable": True, "dtype": "float32",
                    "alpha": 0.1}},
        {"class_name": "Concatenate", "name": "concatenate",
         "inbound_nodes": node("gru", "leaky_re_lu"),
         "config": {"name": "concatenate", "trainable": True, "dtype": "float32",
                    "axis": -1}},
        {"class_name": "BatchNormalization", "name": "batch_normalization",
         "inbound_nodes": node("concatenate"), "config": {
             "name": "batch_normalization", "trainable": True, "dtype": "float32",
             "axis": [1], "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
             "beta_initializer": {"class_name": "Zeros", "config": {}},
             "gamma_initializer": {"class_name": "Ones", "config": {}},
             "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
             "moving_variance_initializer": {"class_name": "Ones", "config": {}},
             "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
             "gamma_constraint": None}},
        {"class_name": "Dense", "name": "dense_1", "inbound_nodes": node("batch_normalization"),
         "config": {"name": "dense_1", "trainable": True, "dtype": "float32", "units": 1,
                    "activation": "sigmoid", "use_bias": True,
                    "kernel_initializer": {"class_name": "GlorotUniform",
                                           "config": {"seed": None}},
                    "bias_initializer": {"class_name": "Zeros", "config": {}},
                    "kernel_regularizer": None, "bias_regularizer": None,
                    "activity_regularizer": None, "kernel_constraint": None,
                    "bias_constraint": None}}]
    config = {"class_name": "Functional", "config": {
        "name": "model", "layers": layers, "input_layers": [["sequence", 0, 0],
                                                            ["features", 0, 0]],
        "output_layers": [["dense_1", 0, 0]]}}
    # Keras lists every layer, those without weights too.
    weights = [("sequence", []), ("features", []), ("gru", gru), ("dense", dense_a),
               ("leaky_re_lu", []), ("concatenate", []), ("batch_normalization", bn),
               ("dense_1", out)]
    return config, weights


def functional_by_hand(weights, reset_after=True):
    sequence, features = L.Input(shape=(6, 3)), L.Input(shape=(5,))
    gru = L.GRU(4, reset_after=bool(reset_after))
    dense = L.Dense(3)
    bn = L.BatchNormalization(axis=1)
    out = L.Dense(1, activation="sigmoid")
    merged = L.Concatenate()([gru(sequence), L.LeakyReLU(negative_slope=0.1)(dense(features))])
    model = Functional([sequence, features], out(bn(merged)))
    by_name = dict(weights)
    for layer, name in ((gru, "gru"), (dense, "dense"), (bn, "batch_normalization"),
                        (out, "dense_1")):
        layer.set_weights([v for _, v in by_name[name]])
    return model


@pytest.mark.parametrize("reset_after", [True, False, None])
def test_keras2_functional_file_loads_and_predicts_like_the_model_built_by_hand(tmp_path,
                                                                                reset_after):
    config, weights = functional_case(reset_after)
    if reset_after is None:         # Keras 2.2's older GRUs: no option, the reset_after=False layout
        config["class_name"] = "Model"
    write_keras2_file(tmp_path / "f.h5", config, weights)
    model = hdf5.load_model_hdf5(tmp_path / "f.h5")
    assert isinstance(model, Functional)
    x = [rand(5, 6, 3), rand(5, 5)]
    expected = functional_by_hand(weights, reset_after is not False and reset_after is not None)
    np.testing.assert_array_equal(model.predict(x, verbose=0),
                                  expected.predict(x, verbose=0))
    assert model.get_layer("gru").reset_after is bool(reset_after)


def test_unknown_layers_are_named_and_lambda_code_is_refused(tmp_path):
    config, weights = functional_case()
    config["config"]["layers"][3]["class_name"] = "CuDNNLSTM"
    config["config"]["layers"][4]["class_name"] = "MyCustomLayer"
    write_keras2_file(tmp_path / "u.h5", config, weights)
    with pytest.raises(ValueError, match="CuDNNLSTM \\(layer 'dense'\\).*MyCustomLayer"):
        hdf5.load_model_hdf5(tmp_path / "u.h5")

    config, weights, _ = sequential_case()
    config["config"]["layers"][3] = {"class_name": "Lambda", "config": {
        "name": "lambda_1", "function": ["4wAAAAAAAAAAAQAAAAIAAABDAAAAcwgAAAB8AGQBFABTACkCTg==",
                                         None, None], "function_type": "lambda",
        "output_shape": None, "arguments": {}}}
    write_keras2_file(tmp_path / "l.h5", config, weights)
    with pytest.raises(ValueError, match="Lambda.*never runs code"):
        hdf5.load_model_hdf5(tmp_path / "l.h5")


def test_unsupported_keras2_options_are_named(tmp_path):
    config, weights, _ = sequential_case()
    config["config"]["layers"][2]["config"]["time_major"] = True
    write_keras2_file(tmp_path / "t.h5", config, weights)
    with pytest.raises(ValueError, match="'lstm_1'.*time_major=True"):
        hdf5.load_model_hdf5(tmp_path / "t.h5")
    config, weights, _ = sequential_case()
    config["config"]["layers"][4]["config"]["frobnicate"] = 3
    write_keras2_file(tmp_path / "x.h5", config, weights)
    with pytest.raises(ValueError, match="'dense_1'.*frobnicate"):
        hdf5.load_model_hdf5(tmp_path / "x.h5")


def test_theano_and_keras1_files_are_refused(tmp_path):
    config, weights, _ = sequential_case()
    write_keras2_file(tmp_path / "t.h5", config, weights,
                      root=lambda f: f.attrs.__setitem__("backend", b"theano"))
    with pytest.raises(ValueError, match="theano"):
        hdf5.load_model_hdf5(tmp_path / "t.h5")


# ---- kerasr's own files -------------------------------------------------------------------
def test_kerasr_hdf5_file_has_keras_structure_and_round_trips(tmp_path):
    _, weights = functional_case()
    model = functional_by_hand(weights)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    path = tmp_path / "mine.h5"
    assert verbs.save_model_hdf5(model, str(path)) is model
    with h5py.File(path, "r") as f:
        assert set(f.attrs) >= {"keras_version", "backend", "model_config", "training_config"}
        assert f.attrs["backend"] in (b"tensorflow", "tensorflow")
        saved = json.loads(f.attrs["model_config"])
        assert saved["class_name"] == "Functional"
        entries = {e["name"]: e for e in saved["config"]["layers"]}
        concatenate = next(e for e in entries.values() if e["class_name"] == "Concatenate")
        (node,) = concatenate["inbound_nodes"]
        assert [len(ref) for ref in node] == [4, 4] and node[0][1:] == [0, 0, {}]
        assert {ref[0] for ref in node} <= set(entries)
        first_input = saved["config"]["input_layers"][0]
        assert entries[first_input[0]]["class_name"] == "InputLayer"
        assert "batch_input_shape" in entries[first_input[0]]["config"]
        assert "module" not in json.dumps(saved)
        training = json.loads(f.attrs["training_config"])
        assert training["optimizer_config"]["class_name"] == "Adam"
        assert training["loss"] == "binary_crossentropy"
        group = f["model_weights"]
        names = [n.decode() for n in group.attrs["layer_names"]]
        assert names == [layer.name for layer in model.layers]
        for layer in model.layers:
            weight_names = [n.decode() for n in group[layer.name].attrs["weight_names"]]
            assert len(weight_names) == len(layer.weights)
            for weight_name, variable in zip(weight_names, layer.weights):
                assert weight_name.endswith(":0")
                np.testing.assert_array_equal(group[layer.name][weight_name][()],
                                              variable.data)
    loaded = hdf5.load_model_hdf5(path)
    x = [rand(3, 6, 3), rand(3, 5)]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(loaded.optimizer).__name__ == "Adam"


def test_kerasr_sequential_file_round_trips_and_is_a_keras2_sequential(tmp_path):
    _, weights, _ = sequential_case()
    model = sequential_by_hand(weights)
    hdf5.save_model_hdf5(model, tmp_path / "s.h5")
    with h5py.File(tmp_path / "s.h5", "r") as f:
        saved = json.loads(f.attrs["model_config"])
        assert saved["class_name"] == "Sequential"
        assert saved["config"]["layers"][0]["config"]["batch_input_shape"] == [None, 10, 3]
        assert "training_config" not in f.attrs
    x = rand(2, 10, 3)
    np.testing.assert_array_equal(hdf5.load_model_hdf5(tmp_path / "s.h5").predict(x, verbose=0),
                                  model.predict(x, verbose=0))


def test_save_is_atomic_and_respects_overwrite(tmp_path, monkeypatch):
    _, weights, _ = sequential_case()
    model = sequential_by_hand(weights)
    path = tmp_path / "w.h5"
    hdf5.save_model_weights_hdf5(model, path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        hdf5.save_model_weights_hdf5(model, path, overwrite=False)

    def crash(group, model):
        group.create_group("half_written")
        raise RuntimeError("killed mid-write")
    monkeypatch.setattr(hdf5, "_save_weights_group", crash)
    with pytest.raises(RuntimeError):
        hdf5.save_model_weights_hdf5(model, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["w.h5"]


# ---- weights only -------------------------------------------------------------------------
def test_weights_only_file_by_order_by_name_and_skip_mismatch(tmp_path):
    _, weights, _ = sequential_case()
    source = sequential_by_hand(weights)
    path = tmp_path / "weights.h5"
    assert verbs.save_model_weights_hdf5(source, str(path)) is source
    with h5py.File(path, "r") as f:       # Keras's weights-only layout: groups at the root
        assert "model_config" not in f.attrs
        assert [n.decode() for n in f.attrs["layer_names"]] == [l.name for l in source.layers]
        last = source.layers[-1].name
        assert [n.decode() for n in f[last].attrs["weight_names"]] == \
            [f"{last}/kernel:0", f"{last}/bias:0"]

    # In order: layer names do not matter, layers without weights do not count.
    target = Sequential([L.Conv1D(4, 3, padding="same", activation="relu", input_shape=(10, 3)),
                         L.MaxPooling1D(2), L.LSTM(5), L.Dense(2, activation="softmax")])
    assert verbs.load_model_weights_hdf5(target, str(path)) is target
    x = rand(2, 10, 3)
    np.testing.assert_array_equal(target.predict(x, verbose=0), source.predict(x, verbose=0))

    # By name: only layers whose names match; a shape mismatch fails or, skipped, warns.
    other = Sequential([L.Conv1D(4, 3, padding="same", input_shape=(10, 3), name="conv1d_1"),
                        L.GlobalAveragePooling1D(), L.Dense(7, name="dense_1"),
                        L.Dense(2, name="fresh")])
    before = [w.copy() for w in other.get_weights()]
    with pytest.raises(ValueError, match="dense_1.*shape"):
        hdf5.load_model_weights_hdf5(other, path, by_name=True)
    np.testing.assert_array_equal(other.get_weights()[0], before[0])   # nothing half-loaded
    with pytest.warns(UserWarning, match="Skipped"):
        hdf5.load_model_weights_hdf5(other, path, by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(other.get_layer("conv1d_1").get_weights()[0],
                                  dict(weights)["conv1d_1"][0][1])
    np.testing.assert_array_equal(other.get_layer("dense_1").get_weights()[0], before[2])
    np.testing.assert_array_equal(other.get_layer("fresh").get_weights()[0], before[4])

    # In order with a different number of layers with weights: a clear error.
    with pytest.raises(ValueError, match="3 layer\\(s\\).*by_name"):
        hdf5.load_model_weights_hdf5(Sequential([L.Dense(2, input_shape=(3,))]), path)


def test_weights_load_from_a_keras2_whole_model_file_and_chunked_layer_names(tmp_path):
    config, weights, _ = sequential_case()

    def chunk(f):       # what Keras writes when layer_names overflows one object header
        group = f["model_weights"]
        names = group.attrs["layer_names"]
        del group.attrs["layer_names"]
        group.attrs["layer_names0"] = names[:2]
        group.attrs["layer_names1"] = names[2:]
    write_keras2_file(tmp_path / "m.h5", config, weights, root=chunk)
    target = sequential_by_hand([(n, [(w, np.zeros_like(v)) for w, v in ws])
                                 for n, ws in weights])
    hdf5.load_model_weights_hdf5(target, tmp_path / "m.h5")
    x = rand(2, 10, 3)
    np.testing.assert_array_equal(target.predict(x, verbose=0),
                                  sequential_by_hand(weights).predict(x, verbose=0))
    assert isinstance(hdf5.load_model_hdf5(tmp_path / "m.h5"), Sequential)


# ---- hostile files --------------------------------------------------------------------------
def _weights_file(tmp_path, root):
    _, weights, _ = sequential_case()
    path = tmp_path / "hostile.h5"
    write_keras2_file(path, None, weights, weights_only=True, root=root)
    return path, sequential_by_hand(weights)


def test_external_link_is_refused_and_never_opened(tmp_path):
    _, weights, _ = sequential_case()
    elsewhere = tmp_path / "elsewhere.h5"
    write_keras2_file(elsewhere, None, weights, weights_only=True)

    def link(f):   # the layer group itself points into another file
        del f["dense_1"]
        f["dense_1"] = h5py.ExternalLink(str(elsewhere), "/dense_1")
    path, model = _weights_file(tmp_path, link)
    with pytest.raises(ValueError, match="external link"):
        hdf5.load_model_weights_hdf5(model, path)
    config, weights, _ = sequential_case()
    write_keras2_file(tmp_path / "m.h5", config, weights,
                      root=lambda f: f["model_weights"].__setitem__(
                          "extra", h5py.ExternalLink("/etc/passwd", "/x")))
    with pytest.raises(ValueError, match="external link"):
        hdf5.load_model_hdf5(tmp_path / "m.h5")


@pytest.mark.parametrize("kind", ["soft_link", "external_dataset", "virtual_dataset",
                                  "vlen_dataset", "absurd_shape", "reference_attribute",
                                  "plugin_filter"])
def test_hostile_hdf5_objects_are_refused(tmp_path, kind):
    raw = tmp_path / "raw.bin"
    raw.write_bytes(np.zeros(8, dtype="float32").tobytes())

    def hostile(f):
        if kind == "soft_link":
            del f["dense_1"]
            f["dense_1"] = h5py.SoftLink("/conv1d_1")
        elif kind == "external_dataset":
            f.create_dataset("ext", shape=(8,), dtype="float32", external=[(str(raw), 0, 32)])
        elif kind == "virtual_dataset":
            layout = h5py.VirtualLayout(shape=(8,), dtype="float32")
            layout[:] = h5py.VirtualSource(str(raw), "data", shape=(8,))
            f.create_virtual_dataset("virtual", layout)
        elif kind == "vlen_dataset":
            f.create_dataset("vlen", shape=(2,), dtype=h5py.vlen_dtype(np.float32))
        elif kind == "absurd_shape":
            f.create_dataset("bomb", shape=(1 << 30, 1 << 20), dtype="float32",
                             chunks=(1, 16))
        elif kind == "plugin_filter":   # bzip2's id: HDF5 would look for a plugin library
            dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            dcpl.set_chunk((4,))
            dcpl.set_filter(307, h5py.h5z.FLAG_OPTIONAL)
            h5py.h5d.create(f.id, b"plugin", h5py.h5t.NATIVE_FLOAT,
                            h5py.h5s.create_simple((8,)), dcpl=dcpl)
        elif kind == "reference_attribute":
            f["dense_1"].attrs["weight_names"] = np.array([f["conv1d_1"].ref],
                                                          dtype=h5py.ref_dtype)
    path, model = _weights_file(tmp_path, hostile)
    expected = {"soft_link": "soft link", "external_dataset": "external files",
                "virtual_dataset": "virtual dataset", "vlen_dataset": "plain numbers",
                "absurd_shape": "absurd", "reference_attribute": "attributes are strings",
                "plugin_filter": "filter"}[kind]
    with pytest.raises(ValueError, match=expected):
        hdf5.load_model_weights_hdf5(model, path)


def test_mismatched_and_damaged_weights_are_refused(tmp_path):
    def wrong_dtype(f):
        del f["dense_1"]["dense_1/kernel:0"]
        f["dense_1"].create_dataset("dense_1/kernel:0", data=np.zeros((5, 2), dtype="complex64"))
    path, model = _weights_file(tmp_path, wrong_dtype)
    with pytest.raises(ValueError, match="complex64"):
        hdf5.load_model_weights_hdf5(model, path)

    def missing(f):
        del f["dense_1"]["dense_1/bias:0"]
    path, model = _weights_file(tmp_path, missing)
    with pytest.raises(ValueError, match="missing"):
        hdf5.load_model_weights_hdf5(model, path)

    path, model = _weights_file(tmp_path, None)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError):
        hdf5.load_model_weights_hdf5(model, path)
    (tmp_path / "not.h5").write_bytes(b"not an hdf5 file at all")
    with pytest.raises(ValueError, match="not a readable HDF5"):
        hdf5.load_model_hdf5(tmp_path / "not.h5")


def test_missing_h5py_gives_the_install_hint(tmp_path, monkeypatch):
    _, weights, _ = sequential_case()
    model = sequential_by_hand(weights)
    monkeypatch.setitem(sys.modules, "h5py", None)
    for call in (lambda: hdf5.save_model_hdf5(model, tmp_path / "a.h5"),
                 lambda: hdf5.load_model_hdf5(tmp_path / "a.h5"),
                 lambda: verbs.save_model_weights_hdf5(model, str(tmp_path / "a.h5")),
                 lambda: hdf5.load_model_weights_hdf5(model, tmp_path / "a.h5")):
        with pytest.raises(ImportError, match='pip install "kerasr\\[hdf5\\]"'):
            call()
    assert not os.path.exists(tmp_path / "a.h5")


def test_keras2_hard_sigmoid_loads_as_keras2s_formula_without_a_warning(tmp_path):
    config, weights, _ = sequential_case()
    config["config"]["layers"][2]["config"]["recurrent_activation"] = "hard_sigmoid"
    write_keras2_file(tmp_path / "h.h5", config, weights)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = hdf5.load_model_hdf5(tmp_path / "h.h5")
    lstm = next(layer for layer in model.layers if hasattr(layer, "recurrent_activation"))
    assert lstm.recurrent_activation == "hard_sigmoid_keras2"


def test_verbs_pipe(tmp_path):
    _, weights, _ = sequential_case()
    model = sequential_by_hand(weights)
    path = str(tmp_path / "p.h5")
    assert (model | verbs.save_model_weights_hdf5(path)) is model
    fresh = sequential_by_hand([(n, [(w, np.zeros_like(v)) for w, v in ws]) for n, ws in weights])
    fresh | verbs.load_model_weights_hdf5(path, by_name=True)
    x = rand(2, 10, 3)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_file_written_by_keras_3_loads_compiled_and_predicts_the_same():
    # tests/data/keras3_functional.h5 was written by Keras 3.15.1 (JAX backend) with
    # model.save(): Conv2D -> BatchNormalization (trained statistics) -> pooling, and a
    # bidirectional LSTM -> GRU, concatenated -> Dropout -> Dense softmax; compiled with
    # RMSprop. The .npz holds inputs and Keras's predictions for them.
    folder = os.path.join(os.path.dirname(__file__), "data")
    expected = np.load(os.path.join(folder, "keras3_functional_io.npz"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = hdf5.load_model_hdf5(os.path.join(folder, "keras3_functional.h5"))
    assert model.compiled and type(model.optimizer).__name__ == "RMSprop"
    got = model.predict([expected["image"], expected["series"]], verbose=0)
    np.testing.assert_allclose(got, expected["prediction"], rtol=1e-5, atol=1e-6)


def test_kerasr_round_trips_the_keras_3_file(tmp_path):
    folder = os.path.join(os.path.dirname(__file__), "data")
    expected = np.load(os.path.join(folder, "keras3_functional_io.npz"))
    model = hdf5.load_model_hdf5(os.path.join(folder, "keras3_functional.h5"))
    hdf5.save_model_hdf5(model, tmp_path / "again.h5")
    again = hdf5.load_model_hdf5(tmp_path / "again.h5")
    x = [expected["image"], expected["series"]]
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
