"""save_model / load_model, serialize_model, model_to_json, the Model methods and the weights
verbs: Sequential, graph and nested models, compile settings, custom objects, Lambda layers,
and files whose contents do not fit (refused with a ValueError naming the problem)."""

import io
import json
import warnings
import zipfile

import numpy as np
import pytest

from kerasr import (Layer, custom_metric, keras_model, keras_model_sequential, layer_dense,
                    layer_dropout, layer_input, layer_lambda, load_model, load_model_weights,
                    losses, metric_auc, metrics, model_from_json, model_to_json,
                    optimizer_sgd, learning_rate_schedule_piecewise_constant_decay,
                    register_keras_serializable, save_model, save_model_weights,
                    serialize_model, set_random_seed, unserialize_model)
from kerasr.backend import k_square
from kerasr.saving import model_file


def data(n=24, features=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)).astype("float32")


def same_predictions(a, b, x):
    pa, pb = a.predict(x, verbose=0), b.predict(x, verbose=0)
    pa, pb = (pa, pb) if isinstance(pa, list) else ([pa], [pb])
    assert len(pa) == len(pb)
    for u, v in zip(pa, pb):
        np.testing.assert_array_equal(u, v)


def graph_model():
    """Two inputs, a shared layer, a nested Sequential model, two outputs."""
    set_random_seed(1)
    a, b = layer_input(shape=4, name="a"), layer_input(shape=4, name="b")
    shared = layer_dense(units=5, activation="relu", name="shared")
    inner = keras_model_sequential(input_shape=5, name="inner") | layer_dense(3) | \
        layer_dropout(0.3)
    ha, hb = shared(a), shared(b)
    merged = layer_dense(ha, 5, name="merge_a")
    out1 = inner(merged)
    out2 = layer_dense(hb, 1, activation="sigmoid", name="prob")
    return keras_model([a, b], [out1, out2], name="two_heads")


def rewrite(path, member, change):
    """Rewrites one member of a .keras zip with change(bytes) -> bytes (None drops it)."""
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    new = change(members.get(member))
    if new is None:
        members.pop(member, None)
    else:
        members[member] = new
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in members.items():
            archive.writestr(name, value)


def edit_config(path, change):
    def apply(raw):
        config = json.loads(raw)
        change(config)
        return json.dumps(config).encode()
    rewrite(path, "config.json", apply)


# ---- models --------------------------------------------------------------------------------
def test_graph_model_with_shared_and_nested_layers_round_trips(tmp_path):
    model = graph_model()
    x = [data(), data(seed=1)]
    path = tmp_path / "graph.keras"
    assert save_model(model, path) is model
    loaded = load_model(path)
    assert type(loaded) is type(model) and loaded.name == "two_heads"
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert loaded.get_config() == json.loads(json.dumps(model.get_config()))
    same_predictions(model, loaded, x)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json",
                                              "model.weights.npz"]
        metadata = json.loads(archive.read("metadata.json"))
        config = json.loads(archive.read("config.json"))
    assert metadata["keras_version"].startswith("kerasr ") and "date_saved" in metadata
    assert config["class_name"] == "Functional" and config["compile_config"] is None


def test_sequential_model_round_trips_and_overwrite_false_refuses(tmp_path):
    set_random_seed(2)
    model = keras_model_sequential(input_shape=4) | layer_dense(6, activation="tanh") | \
        layer_dense(2, activation="softmax")
    path = tmp_path / "seq.keras"
    model.save(path)
    same_predictions(model, load_model(path), data())
    with open(path, "rb") as f:
        before = f.read()
    with pytest.raises(FileExistsError, match="overwrite"):
        save_model(model, path, overwrite=False)
    with pytest.raises(FileExistsError):
        model.save(path, overwrite=False)
    with open(path, "rb") as f:
        assert f.read() == before
    with pytest.raises(ValueError, match=".keras"):
        save_model(model, tmp_path / "seq.zip")


def test_bytes_json_and_methods(tmp_path):
    model = graph_model()
    x = [data(), data(seed=1)]
    blob = serialize_model(model)
    assert isinstance(blob, bytes) and blob[:2] == b"PK"
    same_predictions(model, unserialize_model(blob), x)
    assert unserialize_model(model | serialize_model()).get_config() == \
        unserialize_model(blob).get_config()
    text = model_to_json(model)
    assert text == model.to_json()
    assert json.loads(text)["class_name"] == "Functional"
    fresh = model_from_json(text)
    assert fresh.get_config() == json.loads(json.dumps(model.get_config()))
    model.save_weights(tmp_path / "w.weights.npz")
    assert fresh.load_weights(tmp_path / "w.weights.npz") is fresh
    same_predictions(model, fresh, x)
    with pytest.raises(ValueError, match="bytes"):
        unserialize_model("not bytes")
    with pytest.raises(ValueError, match="JSON"):
        model_from_json("{")


def test_compile_settings_come_back(tmp_path):
    model = graph_model()
    schedule = learning_rate_schedule_piecewise_constant_decay([4, 8], [0.1, 0.05, 0.01])
    model.compile(optimizer=optimizer_sgd(schedule, momentum=0.5, clipvalue=1.0),
                  loss={"prob": losses.BinaryCrossentropy(label_smoothing=0.1),
                        "inner": "mse"},
                  metrics={"prob": ["accuracy", metric_auc(num_thresholds=50)],
                           "inner": [losses.mean_absolute_error]},
                  weighted_metrics={"prob": ["binary_crossentropy"]},
                  loss_weights=[0.5, 2.0])
    x = [data(), data(seed=1)]
    y = [data(features=3, seed=2), (data(features=1, seed=3) > 0).astype("float32")]
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    save_model(model, tmp_path / "c.keras")
    loaded = load_model(tmp_path / "c.keras")
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded._loss_weights == [0.5, 2.0]
    assert [type(f) for f in loaded._loss_fns] == [losses.MeanSquaredError,
                                                   losses.BinaryCrossentropy]
    assert loaded._loss_fns[1].get_config() == model._loss_fns[1].get_config()
    again = loaded.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert list(again.metrics) == list(history.metrics)
    assert "prob_auc" in again.metrics and "inner_mean_absolute_error" in again.metrics
    assert load_model(tmp_path / "c.keras", compile=False).optimizer is None


# ---- custom objects ------------------------------------------------------------------------
class Scale(Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def my_loss(y_true, y_pred):
    return k_square(y_true - y_pred)


class MyMetric(metrics.Mean):
    def __init__(self, name="my_metric", dtype=None, offset=0.0):
        super().__init__(name, dtype)
        self.offset = offset

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(np.abs(np.asarray(y_pred)).mean(axis=-1) + self.offset)

    def get_config(self):
        return {**super().get_config(), "offset": self.offset}


def custom_model():
    set_random_seed(4)
    x = layer_input(shape=4)
    model = keras_model(x, layer_dense(Scale(3.0)(x), 2))
    model.compile(optimizer="adam", loss=my_loss,
                  metrics=[MyMetric(offset=1.0), custom_metric("peak", lambda t, p: p),
                           "mae"])
    model.fit(data(), data(features=2, seed=5), epochs=1, verbose=0)
    return model


def test_custom_layers_losses_and_metrics_through_custom_objects(tmp_path):
    model = custom_model()
    save_model(model, tmp_path / "c.keras")
    with pytest.raises(ValueError, match="Unknown layer class 'Scale'.*custom_objects"):
        load_model(tmp_path / "c.keras")
    with pytest.raises(ValueError, match="my_loss.*custom_objects"):
        load_model(tmp_path / "c.keras", custom_objects={"Scale": Scale})
    assert load_model(tmp_path / "c.keras", compile=False,
                      custom_objects={"Scale": Scale}).optimizer is None
    peak = metrics.custom_metric("peak", lambda t, p: p)
    loaded = load_model(tmp_path / "c.keras", custom_objects={
        "Scale": Scale, "my_loss": my_loss, "MyMetric": MyMetric, "peak": peak})
    same_predictions(model, loaded, data())
    assert loaded.layers[1].factor == 3.0
    assert loaded._loss_fns[0].fn is my_loss
    assert type(loaded._metric_spec[0][0]) is MyMetric and loaded._metric_spec[0][0].offset == 1.0
    history = loaded.fit(data(), data(features=2, seed=5), epochs=1, verbose=0)
    assert {"loss", "my_metric", "peak", "mae"} <= set(history.metrics)
    # A plain function given for a custom_metric keeps the name it was logged under.
    loaded = load_model(tmp_path / "c.keras", custom_objects={
        "Scale": Scale, "my_loss": my_loss, "MyMetric": MyMetric, "peak": lambda t, p: p})
    assert "peak" in loaded.fit(data(), data(features=2, seed=5), epochs=1, verbose=0).metrics


def test_registered_classes_and_functions_need_no_custom_objects(tmp_path):
    @register_keras_serializable(package="tests_saving")
    class Shift(Layer):
        def call(self, inputs):
            return inputs + 1.0

    def shifted_mse(y_true, y_pred):
        return k_square(y_true - y_pred + 0.5)
    assert register_keras_serializable(shifted_mse, package="tests_saving") is shifted_mse

    x = layer_input(shape=4)
    model = keras_model(x, Shift()(layer_dense(x, 2)))
    model.compile(optimizer="rmsprop", loss=shifted_mse)
    save_model(model, tmp_path / "r.keras")
    config = json.loads(zipfile.ZipFile(tmp_path / "r.keras").read("config.json"))
    assert config["config"]["layers"][2]["registered_name"] == "tests_saving>Shift"
    assert config["compile_config"]["loss"]["config"]["fn"] == {
        "module": "custom", "class_name": "function", "config": "shifted_mse",
        "registered_name": "tests_saving>shifted_mse"}
    loaded = load_model(tmp_path / "r.keras")
    assert type(loaded.layers[2]) is Shift and loaded._loss_fns[0].fn is shifted_mse
    same_predictions(model, loaded, data())


# ---- Lambda layers: functions by name, never code -----------------------------------------
def double_it(x):
    return x * 2.0


def test_lambda_functions_are_stored_by_name(tmp_path):
    x = layer_input(shape=4)
    model = keras_model(x, layer_lambda(layer_dense(x, 3), double_it))
    save_model(model, tmp_path / "l.keras")
    entry = json.loads(model_to_json(model))["config"]["layers"][2]["config"]["function"]
    assert entry == {"module": "custom", "class_name": "function", "config": "double_it",
                     "registered_name": None}
    with pytest.raises(ValueError, match="double_it.*custom_objects"):
        load_model(tmp_path / "l.keras")
    loaded = load_model(tmp_path / "l.keras", custom_objects={"double_it": double_it})
    same_predictions(model, loaded, data())
    register_keras_serializable(double_it, package="tests_saving")
    try:
        save_model(model, tmp_path / "l.keras")
        same_predictions(model, load_model(tmp_path / "l.keras"), data())
    finally:
        from kerasr.saving import serialization
        serialization._registered.pop("tests_saving>double_it")
        del double_it._registered_name


def test_kerasr_functions_in_a_lambda_need_nothing(tmp_path):
    from kerasr.backend import k_abs
    x = layer_input(shape=4)
    model = keras_model(x, layer_lambda(x, k_abs))
    save_model(model, tmp_path / "k.keras")
    assert load_model(tmp_path / "k.keras").layers[1].function is k_abs


def test_an_anonymous_function_is_refused_at_save(tmp_path):
    x = layer_input(shape=4)
    model = keras_model(x, layer_lambda(x, lambda t: t + 1))
    with pytest.raises(ValueError, match="anonymous function.*never stores code.*register"):
        save_model(model, tmp_path / "a.keras")
    assert not (tmp_path / "a.keras").exists()
    with pytest.raises(ValueError, match="anonymous"):
        model_to_json(model)


@pytest.mark.parametrize("safe_mode", [True, False])
def test_a_file_holding_code_is_refused_whatever_safe_mode_says(tmp_path, safe_mode):
    x = layer_input(shape=4)
    model = keras_model(x, layer_lambda(x, double_it))
    path = tmp_path / "code.keras"
    save_model(model, path)

    def plant_code(config):
        config["config"]["layers"][1]["config"]["function"] = {
            "class_name": "__lambda__",
            "config": {"code": "4wEAAAAAAAAA", "defaults": None, "closure": None}}
    edit_config(path, plant_code)
    with pytest.raises(ValueError, match="stored as code.*never runs code.*register"):
        load_model(path, custom_objects={"double_it": double_it}, safe_mode=safe_mode)
    with pytest.raises(ValueError, match="safe_mode"):
        load_model(path, safe_mode="no")


# ---- weights files -------------------------------------------------------------------------
def test_load_model_weights_by_name_and_skip_mismatch(tmp_path):
    set_random_seed(5)
    source = keras_model_sequential(input_shape=4) | layer_dense(3, name="a") | \
        layer_dense(2, name="b")
    save_model_weights(source, tmp_path / "w.weights.npz")
    target = keras_model_sequential(input_shape=4) | layer_dense(3, name="a") | \
        layer_dense(5, name="b") | layer_dense(1, name="c")
    before = target.get_weights()
    with pytest.raises(ValueError, match="different architecture"):
        load_model_weights(target, tmp_path / "w.weights.npz")
    with pytest.raises(ValueError, match="shape.*skip_mismatch"):
        load_model_weights(target, tmp_path / "w.weights.npz", by_name=True)
    with pytest.raises(ValueError, match="needs by_name"):
        load_model_weights(target, tmp_path / "w.weights.npz", skip_mismatch=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        target | load_model_weights(tmp_path / "w.weights.npz", by_name=True,
                                    skip_mismatch=True)
    assert any("skipping layer 'b'" in str(w.message) for w in caught)
    after = target.get_weights()
    np.testing.assert_array_equal(after[0], source.get_weights()[0])    # a: loaded
    np.testing.assert_array_equal(after[1], source.get_weights()[1])
    for i in range(2, 6):                                                 # b, c: untouched
        np.testing.assert_array_equal(after[i], before[i])


# ---- files that do not fit ------------------------------------------------------------------
def saved(tmp_path, compiled=True):
    set_random_seed(6)
    model = keras_model_sequential(input_shape=4) | layer_dense(3)
    if compiled:
        model.compile(optimizer="adam", loss="mse")
        model.fit(data(), data(features=3), epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    save_model(model, path)
    return model, path


@pytest.mark.parametrize("change, message", [
    (lambda c: c.__setitem__("surprise", 1), "unknown field.*'surprise'"),
    (lambda c: c.__setitem__("config", [1]), "field 'config' has the wrong type"),
    (lambda c: c.pop("class_name"), "lacks 'class_name'"),
    (lambda c: c.__setitem__("class_name", "os.system"), "Unknown layer class 'os.system'"),
    (lambda c: c["compile_config"].__setitem__("run_this", "x"), "unknown field.*'run_this'"),
    (lambda c: c["compile_config"].__setitem__("loss_weights", ["a"]), "loss_weights"),
    (lambda c: c["compile_config"]["optimizer"].__setitem__("class_name", "Evil"),
     "Unknown optimizer 'Evil'"),
    (lambda c: c["compile_config"]["optimizer"]["config"].__setitem__("beta_1", "high"),
     "beta_1"),
    (lambda c: c["config"]["layers"][1]["config"].__setitem__("units", 5), "shape"),
    (lambda c: c["config"]["layers"][1]["config"].__setitem__("dtype", "float64"), "dtype"),
    (lambda c: c["config"]["layers"][1]["config"].__setitem__("units", 2 ** 31 - 1),
     "beyond the weights the file holds"),
    (lambda c: c["config"]["layers"][0]["config"].__setitem__("batch_shape",
                                                              [None, 2 ** 20, 2 ** 20]),
     "shape bomb"),
    (lambda c: c["config"]["layers"][0]["config"].__setitem__("batch_shape", [None, -4]),
     "non-negative"),
    (lambda c: c["config"]["layers"][1].__setitem__("build_config", 7), "build_config"),
])
def test_configs_that_do_not_fit_are_refused(tmp_path, change, message):
    _, path = saved(tmp_path)
    edit_config(path, change)
    with pytest.raises(ValueError, match=message):
        load_model(path)


def optimizer_npz(class_name, **arrays):
    from kerasr.saving._npz import write_npz
    buffer = io.BytesIO()
    write_npz(buffer, arrays, {"format": "kerasr.optimizer", "version": 1,
                               "class_name": class_name, "iterations": 3})
    return buffer.getvalue()


def test_members_that_do_not_fit_are_refused(tmp_path):
    other = keras_model_sequential(input_shape=4) | layer_dense(3) | layer_dense(2)
    save_model(other, tmp_path / "other.keras")
    with zipfile.ZipFile(tmp_path / "other.keras") as archive:
        other_weights = archive.read("model.weights.npz")
    for member, change, message in [
            ("model.weights.npz", lambda raw: None, "lacks model.weights.npz"),
            ("config.json", lambda raw: None, "lacks config.json"),
            ("config.json", lambda raw: b"{not json", "not valid JSON"),
            ("config.json", lambda raw: b"[1, 2]", "JSON object"),
            ("model.weights.npz", lambda raw: other_weights, "different architecture"),
            ("model.weights.npz", lambda raw: raw[:100], "not a readable"),
            ("optimizer.npz", lambda raw: optimizer_npz("Nope"), "state of a Nope optimizer"),
            ("optimizer.npz", lambda raw: optimizer_npz("Adam", opt_00000_momentum=np.zeros(7)),
             "shape"),
            ("../evil.txt", lambda raw: b"x", "escape"),
            ("assets/run.py", lambda raw: b"x", "unexpected member")]:
        _, path = saved(tmp_path)
        rewrite(path, member, change)
        with pytest.raises(ValueError, match=message):
            load_model(path)
    (tmp_path / "junk.keras").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="zip"):
        load_model(tmp_path / "junk.keras")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.keras")


def test_weights_of_another_dtype_are_refused(tmp_path):
    model, path = saved(tmp_path, compiled=False)
    arrays = {f"weight_{i:05d}": w.astype("float64") for i, w in enumerate(model.get_weights())}
    header = {"format": "kerasr.weights", "version": 1, "model": model.name, "names": [],
              "layers": None}
    from kerasr.saving._npz import write_npz
    buffer = io.BytesIO()
    write_npz(buffer, arrays, header)
    rewrite(path, "model.weights.npz", lambda raw: buffer.getvalue())
    with pytest.raises(ValueError, match="dtype float64.*expects float32"):
        load_model(path)


def test_the_model_file_module_lists_its_api():
    assert set(model_file.__all__) == {"save_model", "load_model", "serialize_model",
                                       "unserialize_model", "model_to_json", "model_from_json"}


def test_graph_configs_cannot_smuggle_arguments_or_allocate_wildly():
    x = layer_input(shape=4)
    model = keras_model(x, layer_dense(layer_dense(x, 3), 2))
    config = json.loads(model_to_json(model))
    node = config["config"]["layers"][2]["inbound_nodes"][0]
    node["args"].append(node["args"][0])
    with pytest.raises(ValueError, match="positional arguments"):
        model_from_json(json.dumps(config))
    node["args"].pop()
    node["kwargs"] = {"evil": 1}
    with pytest.raises(ValueError, match="evil"):
        model_from_json(json.dumps(config))
    config = json.loads(model_to_json(model))
    config["config"]["layers"][1]["config"]["units"] = 2 ** 40
    with pytest.raises(ValueError, match="shape bomb"):
        model_from_json(json.dumps(config))


def test_an_anonymous_loss_saves_the_model_without_its_compile_settings(tmp_path):
    from kerasr import compile, fit, keras_model_sequential, layer_dense, predict
    model = keras_model_sequential() | layer_dense(2, input_shape=3)
    model | compile(optimizer="adam", loss=lambda y_true, y_pred: (y_true - y_pred) ** 2)
    x = np.random.default_rng(0).random((8, 3), dtype="float32")
    model | fit(x, x[:, :2], epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="anonymous function.*without its compile settings"):
        save_model(model, tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert not loaded.compiled
    np.testing.assert_array_equal(loaded | predict(x), model | predict(x))
