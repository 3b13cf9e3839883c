"""Keras 2's hard sigmoid, clip(0.2 x + 0.5, 0, 1), as its own activation
("hard_sigmoid_keras2"): the elementwise and fused bias kernels bit for bit against numpy in
the input's dtype (the kinks at +-2.5 included), gradients against the float64 reference,
Dense and LSTM layer gradient checks, the recurrent ops against tests/reference.py, and Keras 2
HDF5 files whose "hard_sigmoid" now loads as this activation (kerasr's own files round trip)."""

import json
import warnings

import numpy as np
import pytest
import reference as ref
from gradcheck import check_layer_gradients

import kerasr
from kerasr import activations as A
from kerasr import layers as L
from kerasr.kernels import activations as K
from kerasr.kernels import conv_lstm as conv_lstm_kernels
from kerasr.kernels import gru as gru_kernels
from kerasr.kernels import lstm as lstm_kernels
from kerasr.kernels import recurrent_common
from kerasr.kernels import simple_rnn as simple_rnn_kernels
from kerasr.models import Sequential
from kerasr.ops.conv_lstm import conv_lstm2d_sequence
from kerasr.ops.gru import gru_sequence
from kerasr.ops.lstm import lstm_sequence
from kerasr.ops.simple_rnn import simple_rnn_sequence
from kerasr.saving import hdf5

try:
    import h5py
except ImportError:
    h5py = None
needs_h5py = pytest.mark.skipif(h5py is None, reason="h5py is not installed")

NAME = "hard_sigmoid_keras2"
CODE = K.ACTIVATION_CODES[NAME]
VARIANTS = ["serial", "parallel"]
DTYPES = [np.float32, np.float64]
KINKS = [-2.5, 2.5]
# Exactly on the kinks, around them, on Keras 3's kinks (+-3) and far out; NaN passes.
SPECIAL = [-2.5, 2.5, -2.5000002, -2.4999998, 2.4999998, 2.5000002, -3.0, 3.0, -1e30, 1e30,
           0.0, -0.0, 1.0, -1.0]


def numpy_keras2(z):
    """What TensorFlow ran for Keras 2: multiply, add, clip, in z's dtype."""
    z = np.asarray(z)
    return np.clip(z * z.dtype.type(0.2) + z.dtype.type(0.5), 0, 1)


def draw_away_from_kinks(rng, shape, scale=3.0, margin=1e-3):
    z = rng.normal(0.0, scale, shape)
    for _ in range(100):
        near = np.zeros(shape, bool)
        for k in KINKS:
            near |= np.abs(z - k) < margin
        if not near.any():
            return z
        z[near] = rng.normal(0.0, scale, int(near.sum()))
    raise AssertionError("could not draw away from the kinks")


def kernel(name, variant):
    return getattr(K, f"_{name}_{variant}")


# ---- the elementwise kernels ------------------------------------------------------------------
def test_formulas_differ_from_keras3_and_name_is_exported():
    z = np.array([-3.0, -2.5, -1.0, 0.0, 1.0, 2.5, 3.0])
    np.testing.assert_array_equal(A.hard_sigmoid_keras2(z).data,
                                  [0.0, 0.0, 0.3, 0.5, 0.7, 1.0, 1.0])
    assert A.get(NAME) is A.hard_sigmoid_keras2 and A.serialize(A.hard_sigmoid_keras2) == NAME
    assert kerasr.activation_hard_sigmoid_keras2 is A.hard_sigmoid_keras2
    assert "activation_hard_sigmoid_keras2" in kerasr.__all__
    assert A.fused_kernel(A.hard_sigmoid_keras2) == (NAME, 0.0)
    assert not K.needs_preactivation(CODE)
    # Keras 3's hard_sigmoid is untouched
    np.testing.assert_allclose(A.hard_sigmoid(np.array([-1.5, 1.5])).data, [0.25, 0.75])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_forward_is_numpys_formula_bit_for_bit(variant, dtype):
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(0, 3, 40000), SPECIAL]).astype(dtype)
    out = kernel("activation_forward", variant)(z, CODE, 0.0, np.empty_like(z))
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, numpy_keras2(z))
    np.testing.assert_allclose(out.astype(np.float64), ref.ref_activation(z, NAME),
                               rtol=0, atol=1e-15 if dtype == np.float64 else 6e-8)
    assert out[-14] == 0.0 and out[-13] == 1.0      # exactly at -2.5 and 2.5
    assert np.isnan(kernel("activation_forward", variant)(
        np.array([np.nan], dtype), CODE, 0.0, np.empty(1, dtype))[0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_backward_against_the_reference(variant, dtype):
    rng = np.random.default_rng(1)
    z = draw_away_from_kinks(rng, 40000).astype(dtype)
    g = rng.normal(size=z.shape).astype(dtype)
    a = kernel("activation_forward", variant)(z, CODE, 0.0, np.empty_like(z))
    expected = g.astype(np.float64) * ref.ref_activation_grad(z, NAME)
    for zz in (z, a):                      # the gradient comes from a: callers may pass a for z
        out = kernel("activation_backward", variant)(zz, a, g, CODE, 0.0, np.empty_like(z))
        np.testing.assert_array_equal(out, g * np.where(np.abs(z) < 2.5, dtype(0.2), dtype(0)))
        np.testing.assert_allclose(out, expected, rtol=1e-6 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gradient_at_the_kinks_is_zero(dtype):
    # From a alone: 0.2 strictly inside (0, 1), 0 where a is clipped (so at z = +-2.5 too).
    z = np.array([-2.5, 2.5, -2.4, 2.4, -2.6, 2.6], dtype)
    a = K.activation_forward(z, CODE, 0.0, np.empty_like(z))
    out = K.activation_backward(z, a, np.ones_like(z), CODE, 0.0, np.empty_like(z))
    np.testing.assert_array_equal(out, np.array([0, 0, 0.2, 0.2, 0, 0], dtype))


def test_backward_central_difference():
    rng = np.random.default_rng(2)
    z = draw_away_from_kinks(rng, 300)
    g = rng.normal(size=z.shape)

    def f(x):
        return K._activation_forward_serial(x, CODE, 0.0, np.empty_like(x))
    h = 1e-6
    numeric = g * (f(z + h) - f(z - h)) / (2 * h)
    out = K._activation_backward_serial(z, f(z), g, CODE, 0.0, np.empty_like(z))
    np.testing.assert_allclose(out, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_fused_bias_activation(variant, dtype):
    rng = np.random.default_rng(3)
    bias = rng.normal(size=37).astype(dtype)
    z = draw_away_from_kinks(rng, (100, 37)).astype(dtype)
    z[0, :2] = [-2.5, 2.5]                 # exactly on the kinks after the bias add
    z[0, :2] -= bias[:2]
    pre = z + bias
    out = kernel("bias_activation_forward", variant)(z, bias, CODE, 0.0, np.empty_like(z))
    np.testing.assert_array_equal(z, pre)
    np.testing.assert_array_equal(out, numpy_keras2(pre))
    g = rng.normal(size=z.shape).astype(dtype)
    dz, db = kernel("bias_activation_backward", variant)(
        z, out, g, CODE, 0.0, np.empty_like(z), np.empty(37, dtype))
    expected = g.astype(np.float64) * ref.ref_activation_grad(pre, NAME)
    expected[0, :2] = 0.0                  # the kinks: 0, as the kernel documents
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dz, expected, **tol)
    np.testing.assert_allclose(db, expected.sum(axis=0), **tol)


# ---- layers -----------------------------------------------------------------------------------
def test_dense_gradients(float64):
    rng = np.random.default_rng(4)
    # z = x W + b lands near +-2.5 with probability ~0: still, redraw x if it does.
    for _ in range(20):
        layer = L.Dense(5, activation=NAME, bias_initializer="glorot_uniform")
        x = rng.normal(0.0, 2.0, (4, 3))
        layer(x)
        z = x @ layer.kernel.data + layer.bias.data
        if np.min(np.abs(np.abs(z) - 2.5)) > 1e-3:
            break
    assert np.any(np.abs(z) > 2.5) and np.any(np.abs(z) < 2.5)   # both branches checked
    check_layer_gradients(layer, x)


def test_lstm_gradients(float64):
    rng = np.random.default_rng(5)
    layer = L.LSTM(3, recurrent_activation=NAME, return_sequences=True)
    x = rng.normal(0.0, 2.0, (2, 4, 3))
    check_layer_gradients(layer, x)
    assert layer.get_config()["recurrent_activation"] == NAME


def test_recurrent_layers_accept_it_and_reject_unknown_names():
    for layer in (L.LSTM(2, activation=NAME, recurrent_activation=NAME),
                  L.GRU(2, activation=NAME, recurrent_activation=NAME),
                  L.SimpleRNN(2, activation=NAME),
                  L.ConvLSTM2D(2, 3, activation=NAME, recurrent_activation=NAME)):
        assert layer.activation == NAME
    assert NAME in recurrent_common.SUPPORTED_ACTIVATIONS
    with pytest.raises(ValueError, match="recurrent_activation"):
        recurrent_common.activation_code("hard_sigmoid_keras3", "recurrent_activation")


# ---- the fused recurrent ops vs tests/reference.py ----------------------------------------
def _case(rng, batch, steps, features, units, blocks, scale=0.8):
    return (rng.normal(size=(batch, steps, features)), rng.normal(size=(batch, units)) * 0.5,
            rng.normal(size=(batch, units)) * 0.5,
            rng.normal(size=(features, blocks * units)) * scale,
            rng.normal(size=(units, blocks * units)) * scale,
            rng.normal(size=blocks * units) * 0.5)


def _tol(dtype):
    return dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_lstm_op_against_reference(variant, dtype, monkeypatch):
    monkeypatch.setattr(lstm_kernels, "_use_parallel", lambda requested, n: variant == "parallel")
    x, h0, c0, w, u, b = _case(np.random.default_rng(6), 5, 7, 3, 4, 4)
    for act, ract in ((NAME, NAME), ("tanh", NAME)):
        out, states = lstm_sequence(x.astype(dtype), [h0.astype(dtype), c0.astype(dtype)],
                                    w.astype(dtype), u.astype(dtype), b.astype(dtype),
                                    return_sequences=True, activation=act,
                                    recurrent_activation=ract)
        expected, expected_states = ref.lstm_sequence_reference(
            x, [h0, c0], w, u, b, return_sequences=True, activation=act,
            recurrent_activation=ract)
        np.testing.assert_allclose(out.data, expected, **_tol(dtype))
        for got, want in zip(states, expected_states):
            np.testing.assert_allclose(got.data, want, **_tol(dtype))
        # the other hard sigmoid really computes something else here
        other, _ = ref.lstm_sequence_reference(x, [h0, c0], w, u, b, return_sequences=True,
                                               activation=act, recurrent_activation="hard_sigmoid")
        assert np.max(np.abs(other - expected)) > 1e-2


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_gru_and_simple_rnn_ops_against_reference(variant, dtype, monkeypatch):
    for module in (gru_kernels, simple_rnn_kernels):
        monkeypatch.setattr(module, "pick_variant", lambda pair, batch, parallel=None:
                            pair[1] if variant == "parallel" else pair[0])
    rng = np.random.default_rng(7)
    x, h0, _, w, u, b = _case(rng, 5, 6, 3, 4, 3)
    b2 = rng.normal(size=(2, 12)) * 0.5
    out, _ = gru_sequence(x.astype(dtype), [h0.astype(dtype)], w.astype(dtype),
                          u.astype(dtype), b2.astype(dtype), return_sequences=True,
                          activation=NAME, recurrent_activation=NAME)
    expected, _ = ref.gru_sequence_reference(x, [h0], w, u, b2, return_sequences=True,
                                             activation=NAME, recurrent_activation=NAME)
    np.testing.assert_allclose(out.data, expected, **_tol(dtype))
    w1, u1 = w[:, :4], u[:, :4]
    out, _ = simple_rnn_sequence(x.astype(dtype), [h0.astype(dtype)], w1.astype(dtype),
                                 u1.astype(dtype), b[:4].astype(dtype), return_sequences=True,
                                 activation=NAME)
    expected, _ = ref.simple_rnn_sequence_reference(x, [h0], w1, u1, b[:4],
                                                    return_sequences=True, activation=NAME)
    np.testing.assert_allclose(out.data, expected, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_conv_lstm_op_against_reference(variant, dtype, monkeypatch):
    monkeypatch.setattr(conv_lstm_kernels, "FORCE_VARIANT", variant)
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 3, 5, 5, 2))
    h0, c0 = rng.normal(size=(2, 5, 5, 3)) * 0.5, rng.normal(size=(2, 5, 5, 3)) * 0.5
    w, u = rng.normal(size=(3, 3, 2, 12)) * 0.5, rng.normal(size=(3, 3, 3, 12)) * 0.5
    b = rng.normal(size=12) * 0.5
    out, _ = conv_lstm2d_sequence(x.astype(dtype), [h0.astype(dtype), c0.astype(dtype)],
                                  w.astype(dtype), u.astype(dtype), b.astype(dtype),
                                  padding="same", return_sequences=True, activation="tanh",
                                  recurrent_activation=NAME)
    expected, _ = ref.conv_lstm2d_sequence_reference(x, [h0, c0], w, u, b, padding="same",
                                                     return_sequences=True, activation="tanh",
                                                     recurrent_activation=NAME)
    np.testing.assert_allclose(out.data, expected, **_tol(dtype))


# ---- HDF5 -------------------------------------------------------------------------------------
def _lstm_config(recurrent_activation="hard_sigmoid", activation="tanh"):
    """R keras 2.2's Sequential: LSTM(recurrent_activation = "hard_sigmoid") -> Dense."""
    zeros = {"class_name": "Zeros", "config": {}}
    glorot = {"class_name": "VarianceScaling", "config": {
        "scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}}
    return {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": [
        {"class_name": "LSTM", "config": {
            "name": "lstm_1", "trainable": True, "batch_input_shape": [None, 6, 3],
            "dtype": "float32", "return_sequences": False, "return_state": False,
            "go_backwards": False, "stateful": False, "unroll": False, "units": 4,
            "activation": activation, "recurrent_activation": recurrent_activation,
            "use_bias": True, "kernel_initializer": glorot,
            "recurrent_initializer": {"class_name": "Orthogonal",
                                      "config": {"gain": 1.0, "seed": None}},
            "bias_initializer": zeros, "unit_forget_bias": True, "kernel_regularizer": None,
            "recurrent_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None,
            "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0,
            "recurrent_dropout": 0.0, "implementation": 1}},
        {"class_name": "Dense", "config": {
            "name": "dense_1", "trainable": True, "units": 2, "activation": "hard_sigmoid",
            "use_bias": True, "kernel_initializer": glorot, "bias_initializer": zeros,
            "kernel_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None,
            "bias_constraint": None}}]}}


def _weights(seed=9):
    rng = np.random.default_rng(seed)
    f32 = np.float32
    return [("lstm_1", [("lstm_1/kernel:0", rng.normal(0, 0.8, (3, 16)).astype(f32)),
                        ("lstm_1/recurrent_kernel:0", rng.normal(0, 0.8, (4, 16)).astype(f32)),
                        ("lstm_1/bias:0", rng.normal(0, 0.5, 16).astype(f32))]),
            ("dense_1", [("dense_1/kernel:0", rng.normal(0, 2.0, (4, 2)).astype(f32)),
                         ("dense_1/bias:0", rng.normal(0, 0.5, 2).astype(f32))])]


def _write(path, config, weights, version=b"2.2.4"):
    with h5py.File(path, "w") as f:
        if version is not None:
            f.attrs["keras_version"] = version
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = np.array([n.encode() for n, _ in weights])
        group.attrs["backend"] = b"tensorflow"
        if version is not None:
            group.attrs["keras_version"] = version
        for name, ws in weights:
            g = group.create_group(name)
            g.attrs["weight_names"] = np.array([w.encode() for w, _ in ws])
            for w, value in ws:
                g.create_dataset(w, data=value)


def _numpy_model(x, weights, hard_sigmoid):
    """The file's model in float64 numpy: Keras's LSTM (gates i, f, c, o) then Dense."""
    (_, lstm), (_, dense) = weights
    w, u, b = (np.float64(v) for _, v in lstm)
    k, bias = (np.float64(v) for _, v in dense)
    n = u.shape[0]
    h = c = np.zeros((x.shape[0], n))
    for t in range(x.shape[1]):
        z = x[:, t] @ w + h @ u + b
        i, f, o = hard_sigmoid(z[:, :n]), hard_sigmoid(z[:, n:2 * n]), hard_sigmoid(z[:, 3 * n:])
        c = f * c + i * np.tanh(z[:, 2 * n:3 * n])
        h = o * np.tanh(c)
    return hard_sigmoid(h @ k + bias)


def keras2(z):
    return np.clip(0.2 * z + 0.5, 0.0, 1.0)


def keras3(z):
    return np.clip(z / 6.0 + 0.5, 0.0, 1.0)


@needs_h5py
@pytest.mark.parametrize("version", [b"2.2.4", b"2.2.4-tf", b"2.11.0", None])
def test_keras2_file_loads_with_keras2_hard_sigmoid(tmp_path, version):
    weights = _weights()
    _write(tmp_path / "m.h5", _lstm_config(), weights, version)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no "predictions will differ" warning any more
        model = hdf5.load_model_hdf5(tmp_path / "m.h5")
    assert model.layers[0].recurrent_activation == NAME
    assert A.serialize(model.layers[1].activation) == NAME
    x = np.random.default_rng(10).normal(0, 1.5, (8, 6, 3)).astype(np.float32)
    got = model.predict(x, verbose=0)
    expected = _numpy_model(np.float64(x), weights, keras2)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=2e-6)
    # and the Keras 3 formula would have been far off: the test tells the two apart
    assert np.max(np.abs(_numpy_model(np.float64(x), weights, keras3) - expected)) > 0.05
    assert np.any((expected > 0) & (expected < 1))


@needs_h5py
@pytest.mark.parametrize("version", [b"3.3.3", b"kerasr 0.1.0"])
def test_keras3_and_kerasr_files_keep_keras3_hard_sigmoid(tmp_path, version):
    weights = _weights()
    _write(tmp_path / "m.h5", _lstm_config(), weights, version)
    model = hdf5.load_model_hdf5(tmp_path / "m.h5")
    assert model.layers[0].recurrent_activation == "hard_sigmoid"
    x = np.random.default_rng(11).normal(0, 1.5, (4, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               _numpy_model(np.float64(x), weights, keras3), rtol=1e-5, atol=2e-6)


def _model(recurrent_activation, dense_activation):
    model = Sequential([L.LSTM(4, recurrent_activation=recurrent_activation,
                               input_shape=(6, 3), name="lstm_1"),
                        L.Dense(2, activation=dense_activation, name="dense_1")])
    for layer, (_, values) in zip(model.layers, _weights()):
        layer.set_weights([v for _, v in values])
    return model


@needs_h5py
@pytest.mark.parametrize("recurrent_activation,dense_activation,written,version_prefix", [
    (NAME, NAME, "hard_sigmoid", "2."),             # Keras 2's file, as Keras 2 wrote it
    ("hard_sigmoid", "hard_sigmoid", "hard_sigmoid", "kerasr "),
    (NAME, "hard_sigmoid", None, "kerasr "),         # mixed: the name stays kerasr's
])
def test_kerasr_file_round_trips_exactly(tmp_path, recurrent_activation, dense_activation,
                                         written, version_prefix):
    model = _model(recurrent_activation, dense_activation)
    hdf5.save_model_hdf5(model, tmp_path / "r.h5")
    with h5py.File(tmp_path / "r.h5", "r") as f:
        version = f.attrs["keras_version"]
        version = version.decode() if isinstance(version, bytes) else version
        layers = {entry["config"]["name"]: entry["config"]
                  for entry in json.loads(f.attrs["model_config"])["config"]["layers"]}
        weights_version = f["model_weights"].attrs["keras_version"]
    assert version.startswith(version_prefix)
    assert (weights_version.decode() if isinstance(weights_version, bytes)
            else weights_version) == version
    saved = (layers["lstm_1"]["recurrent_activation"], layers["dense_1"]["activation"])
    assert saved == ((written, written) if written else (recurrent_activation, dense_activation))
    loaded = hdf5.load_model_hdf5(tmp_path / "r.h5")
    assert loaded.layers[0].recurrent_activation == recurrent_activation
    assert A.serialize(loaded.layers[1].activation) == dense_activation
    x = np.random.default_rng(12).normal(0, 1.5, (4, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # written again, the file says the same
    hdf5.save_model_hdf5(loaded, tmp_path / "r2.h5")
    with h5py.File(tmp_path / "r2.h5", "r") as f:
        again = {entry["config"]["name"]: entry["config"]
                 for entry in json.loads(f.attrs["model_config"])["config"]["layers"]}
        assert again["lstm_1"]["recurrent_activation"] == saved[0]
