"""`.keras` files written by Keras 3 (Python's `model.save()`, R keras3's `save_model()`):
config.json in Keras 3's layout and the weights as `model.weights.h5`. They load compiled and
predict as Keras did; tampered weights are refused with a ValueError naming the problem."""

import io
import json
import os
import warnings
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from kerasr.saving import model_file
from kerasr.verbs import saving as verbs

FOLDER = os.path.join(os.path.dirname(__file__), "data")
# keras3_model.keras was written by Keras 3.15.1 (JAX backend) with model.save(): inputs
# "image" (8, 8, 1) -> Conv2D -> BatchNormalization -> global average pooling, and "series"
# (6, 3) -> LSTM (sequences) -> Bidirectional(GRU); concatenated -> Dense -> a nested
# Sequential "block" (Dense, Dense) -> Dense softmax; compiled with RMSprop(0.01),
# categorical cross-entropy and accuracy, and fitted 2 epochs (trained batch-norm statistics,
# optimizer slots in the file). keras3_model_io.npz holds inputs and Keras's predictions.
KERAS_FILE = os.path.join(FOLDER, "keras3_model.keras")
EXPECTED = np.load(os.path.join(FOLDER, "keras3_model_io.npz"))
INPUTS = [EXPECTED["image"], EXPECTED["series"]]


def test_a_keras_3_file_loads_compiled_and_predicts_as_keras_did():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = verbs.load_model(KERAS_FILE)
    assert model.compiled and type(model.optimizer).__name__ == "RMSprop"
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.01)
    assert {type(layer).__name__ for layer in model.layers} >= {
        "Conv2D", "BatchNormalization", "LSTM", "Bidirectional", "Sequential", "Dense"}
    got = model.predict(INPUTS, verbose=0)
    np.testing.assert_allclose(got, EXPECTED["prediction"], rtol=1e-5, atol=1e-6)
    # The compile settings work: a training step runs and changes the predictions.
    y = np.eye(3, dtype="float32")[[0, 1, 2, 0]]
    model.fit(INPUTS, y, epochs=1, verbose=0)
    assert not np.allclose(model.predict(INPUTS, verbose=0), got)


def test_a_keras_3_sequential_file_loads_compiled_and_predicts_as_keras_did():
    # keras3_sequential.keras, by Keras 3.15.1 (JAX) too: Input(5) -> Dense(4) -> Dropout ->
    # GaussianNoise -> Reshape -> SimpleRNN (sequences) -> TimeDistributed(Dense) -> Flatten ->
    # Dense(2, "hard_sigmoid", Keras 3's); SGD with momentum, a MeanSquaredError object and a
    # MeanAbsoluteError metric object; fitted one step.
    expected = np.load(os.path.join(FOLDER, "keras3_sequential_io.npz"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = model_file.load_model(os.path.join(FOLDER, "keras3_sequential.keras"))
    assert model.compiled and type(model.optimizer).__name__ == "SGD"
    np.testing.assert_allclose(model.predict(expected["x"], verbose=0), expected["y"],
                               rtol=1e-5, atol=1e-6)


def test_compile_false_and_bytes_and_a_kerasr_round_trip(tmp_path):
    model = model_file.load_model(KERAS_FILE, compile=False)
    assert not model.compiled
    with open(KERAS_FILE, "rb") as handle:
        again = model_file.unserialize_model(handle.read())
    np.testing.assert_array_equal(again.predict(INPUTS, verbose=0),
                                  model.predict(INPUTS, verbose=0))
    model_file.save_model(again, tmp_path / "kerasr.keras")
    third = model_file.load_model(tmp_path / "kerasr.keras")
    assert third.compiled
    np.testing.assert_array_equal(third.predict(INPUTS, verbose=0),
                                  model.predict(INPUTS, verbose=0))


def _members():
    with zipfile.ZipFile(KERAS_FILE) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tampered(tmp_path, edit):
    """The fixture with its model.weights.h5 edited in place by `edit(h5 file)`."""
    members = _members()
    path = tmp_path / "weights.h5"
    path.write_bytes(members["model.weights.h5"])
    with h5py.File(path, "r+") as f:
        edit(f)
    members["model.weights.h5"] = path.read_bytes()
    out = tmp_path / "tampered.keras"
    out.write_bytes(_zip(members))
    return out


def _replace(f, name, data):
    del f[name]
    f.create_dataset(name, data=data)


def test_a_weight_with_the_wrong_shape_is_refused(tmp_path):
    path = _tampered(tmp_path, lambda f: _replace(f, "layers/dense/vars/0",
                                                  np.zeros((6, 7), "float32")))
    with pytest.raises(ValueError, match=r"dense_1.*shape \(6, 7\).*\(6, 5\)"):
        model_file.load_model(path)


def test_a_missing_weight_is_refused(tmp_path):
    def drop(f):
        del f["layers/bidirectional/backward_layer/cell/vars/2"]
    with pytest.raises(ValueError, match=r"2 weight\(s\).*expects 3"):
        model_file.load_model(_tampered(tmp_path, drop))


def test_a_missing_layer_group_and_a_left_over_weight_are_refused(tmp_path):
    def drop(f):
        del f["layers/sequential/layers/dense_1"]
    with pytest.raises(ValueError, match=r"no weights for layer 'dense_3'.*missing"):
        model_file.load_model(_tampered(tmp_path, drop))

    def extra(f):
        f.create_dataset("layers/concatenate/vars/0", data=np.ones(3, "float32"))
    with pytest.raises(ValueError, match=r"no place for: layers/concatenate/vars/0"):
        model_file.load_model(_tampered(tmp_path, extra))


def test_hostile_hdf5_members_are_refused(tmp_path):
    def link(f):
        f["layers/dense/vars/extra"] = h5py.ExternalLink("/etc/passwd", "/x")
    with pytest.raises(ValueError, match="external link"):
        model_file.load_model(_tampered(tmp_path, link))

    def strings(f):
        _replace(f, "layers/dense/vars/1", np.array([b"abc"] * 5))
    with pytest.raises(ValueError, match="plain"):
        model_file.load_model(_tampered(tmp_path, strings))

    members = _members()
    members["model.weights.h5"] = b"not hdf5 at all"
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        model_file.unserialize_model(_zip(members))


def test_unexpected_members_are_refused():
    members = _members()
    members["assets/run.py"] = b"print('hi')"
    with pytest.raises(ValueError, match="unexpected member 'assets/run.py'"):
        model_file.unserialize_model(_zip(members))


def test_compile_settings_that_do_not_resolve_load_uncompiled_with_a_warning():
    members = _members()
    config = json.loads(members["config.json"])
    config["compile_config"]["optimizer"]["class_name"] = "NoSuchOptimizer"
    members["config.json"] = json.dumps(config).encode()
    with pytest.warns(UserWarning, match="loaded but not compiled"):
        model = model_file.unserialize_model(_zip(members))
    assert not model.compiled
    np.testing.assert_allclose(model.predict(INPUTS, verbose=0), EXPECTED["prediction"],
                               rtol=1e-5, atol=1e-6)
