"""BatchNormalization and LayerNormalization: the Numba kernels against float64 references,
layer values in training and inference against numpy, the moving statistics, Keras's weight
layout, gradient checks in float64, masks, argument errors, and training in a model."""

import numpy as np
import pytest

import reference as ref
from kerasr import layers
from kerasr.engine import GradientTape, Variable
from kerasr.kernels import normalization as norm_kernels
from kerasr.verbs.normalization import layer_batch_normalization, layer_layer_normalization

from gradcheck import check_layer_gradients

rng = np.random.default_rng(11)



def numpy_batch_norm(x, gamma, beta, mean, var, epsilon, axes):
    shape = [1] * x.ndim
    for a in axes:
        shape[a] = x.shape[a]
    r = lambda v: np.reshape(v, shape)  # noqa: E731
    return r(gamma) * (x - r(mean)) / np.sqrt(r(var) + epsilon) + r(beta)


def batch_stats(x, axes):
    reduce = tuple(a for a in range(x.ndim) if a not in axes)
    return x.mean(axis=reduce), x.var(axis=reduce)  # numpy's var: biased, as Keras's


def set_random_params(layer, shape, moving=True):
    weights = [rng.normal(size=shape), rng.normal(size=shape)]
    if moving:
        weights += [rng.normal(size=shape), rng.uniform(0.5, 2.0, size=shape)]
    layer.set_weights(weights)
    return weights


# ---- kernels ----------------------------------------------------------------------------

VARIANTS = ["serial", "parallel"]
DTYPES = [np.float32, np.float64]


def tol(dtype):
    return dict(rtol=1e-11, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows", [1, 5, 33, 200])
def test_batch_norm_kernels_match_reference(variant, dtype, rows):
    cols = 7
    x = (rng.normal(size=(rows, cols)) * 3 + 50).astype(dtype)  # a large mean: no cancellation
    gamma, beta = rng.normal(size=cols).astype(dtype), rng.normal(size=cols).astype(dtype)
    g = rng.normal(size=(rows, cols)).astype(dtype)
    out, mean, var, inv = (np.full(s, np.nan, dtype) for s in [(rows, cols), cols, cols, cols])
    getattr(norm_kernels, f"_batch_norm_forward_{variant}")(x, gamma, beta, 1e-3, out, mean, var, inv)
    ref_out, ref_mean, ref_var = ref.ref_batch_norm(x, gamma, beta, 1e-3)
    np.testing.assert_allclose(out, ref_out, **tol(dtype))
    np.testing.assert_allclose(mean, ref_mean, **tol(dtype))
    np.testing.assert_allclose(var, ref_var, **tol(dtype))
    np.testing.assert_allclose(inv, 1 / np.sqrt(ref_var + 1e-3), **tol(dtype))
    dx, dgamma, dbeta = (np.full(s, np.nan, dtype) for s in [(rows, cols), cols, cols])
    getattr(norm_kernels, f"_batch_norm_backward_{variant}")(x, g, mean, inv, gamma, dx, dgamma, dbeta)
    ref_dx, ref_dgamma, ref_dbeta = ref.ref_batch_norm_grad(x, gamma, 1e-3, g)
    np.testing.assert_allclose(dx, ref_dx, **tol(dtype))
    np.testing.assert_allclose(dgamma, ref_dgamma, **tol(dtype))
    np.testing.assert_allclose(dbeta, ref_dbeta, **tol(dtype))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows", [1, 5, 33, 200])
def test_layer_norm_kernels_match_reference(variant, dtype, rows):
    cols = 9
    x = (rng.normal(size=(rows, cols)) * 2 - 30).astype(dtype)
    gamma, beta = rng.normal(size=cols).astype(dtype), rng.normal(size=cols).astype(dtype)
    g = rng.normal(size=(rows, cols)).astype(dtype)
    out, mean, inv = (np.full(s, np.nan, dtype) for s in [(rows, cols), rows, rows])
    getattr(norm_kernels, f"_layer_norm_forward_{variant}")(x, gamma, beta, 1e-3, out, mean, inv)
    ref_out, ref_mean, ref_var = ref.ref_layer_norm(x, gamma, beta, 1e-3)
    np.testing.assert_allclose(out, ref_out, **tol(dtype))
    np.testing.assert_allclose(mean, ref_mean, **tol(dtype))
    np.testing.assert_allclose(inv, 1 / np.sqrt(ref_var + 1e-3), **tol(dtype))
    dx, dgamma, dbeta = (np.full(s, np.nan, dtype) for s in [(rows, cols), cols, cols])
    getattr(norm_kernels, f"_layer_norm_backward_{variant}")(x, g, mean, inv, gamma, dx, dgamma, dbeta)
    ref_dx, ref_dgamma, ref_dbeta = ref.ref_layer_norm_grad(x, gamma, 1e-3, g)
    np.testing.assert_allclose(dx, ref_dx, **tol(dtype))
    np.testing.assert_allclose(dgamma, ref_dgamma, **tol(dtype))
    np.testing.assert_allclose(dbeta, ref_dbeta, **tol(dtype))


def test_normalization_kernels_parallel_matches_serial_on_large_shapes():
    x = rng.normal(size=(5000, 300))
    gamma, beta, g = rng.normal(size=300), rng.normal(size=300), rng.normal(size=(5000, 300))
    results = {}
    for variant in VARIANTS:
        out, mean, var, inv = np.empty_like(x), *(np.empty(300) for _ in range(3))
        getattr(norm_kernels, f"_batch_norm_forward_{variant}")(x, gamma, beta, 1e-3, out, mean,
                                                                var, inv)
        dx, dgamma, dbeta = np.empty_like(x), np.empty(300), np.empty(300)
        getattr(norm_kernels, f"_batch_norm_backward_{variant}")(x, g, mean, inv, gamma, dx,
                                                                 dgamma, dbeta)
        ln_out, ln_mean, ln_inv = np.empty_like(x), np.empty(5000), np.empty(5000)
        getattr(norm_kernels, f"_layer_norm_forward_{variant}")(x, gamma, beta, 1e-3, ln_out,
                                                                ln_mean, ln_inv)
        ln_dx, ln_dgamma, ln_dbeta = np.empty_like(x), np.empty(300), np.empty(300)
        getattr(norm_kernels, f"_layer_norm_backward_{variant}")(x, g, ln_mean, ln_inv, gamma,
                                                                 ln_dx, ln_dgamma, ln_dbeta)
        results[variant] = [out, var, dx, dgamma, ln_out, ln_dx, ln_dgamma]
    for serial, parallel in zip(results["serial"], results["parallel"]):
        np.testing.assert_allclose(parallel, serial, rtol=1e-12, atol=1e-12)


def test_public_entry_points_take_either_variant(monkeypatch):
    import numba
    from kerasr.kernels import _jit
    x = rng.normal(size=(40, 6)).astype(np.float32)
    gamma, beta, g = np.ones(6, np.float32), np.zeros(6, np.float32), np.ones_like(x)

    def run():
        out, mean, var, inv = np.empty_like(x), *(np.empty(6, np.float32) for _ in range(3))
        norm_kernels.batch_norm_forward(x, gamma, beta, 1e-3, out, mean, var, inv)
        dx, dgamma, dbeta = np.empty_like(x), np.empty(6, np.float32), np.empty(6, np.float32)
        norm_kernels.batch_norm_backward(x, g, mean, inv, gamma, dx, dgamma, dbeta)
        ln_out, ln_mean, ln_inv = np.empty_like(x), np.empty(40, np.float32), np.empty(40, np.float32)
        norm_kernels.layer_norm_forward(x, gamma, beta, 1e-3, ln_out, ln_mean, ln_inv)
        ln_dx = np.empty_like(x)
        norm_kernels.layer_norm_backward(x, g, ln_mean, ln_inv, gamma, ln_dx, dgamma, dbeta)
        return [out, dx, ln_out, ln_dx, dbeta]

    serial = run()
    monkeypatch.setattr(_jit, "PARALLEL_MIN_ELEMENTS", 0)
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    for a, b in zip(run(), serial):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


# ---- BatchNormalization values ---------------------------------------------------------------

def test_batch_norm_training_uses_batch_statistics_and_updates_moving_ones():
    layer = layers.BatchNormalization(momentum=0.9)
    x = (rng.normal(size=(16, 5)) * 3 + 2).astype(np.float32)
    layer(x[:1])  # build
    gamma, beta, moving_mean, moving_var = set_random_params(layer, (5,))
    out = layer(x, training=True)
    mean, var = batch_stats(x.astype(np.float64), (1,))
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(out.data, numpy_batch_norm(x, gamma, beta, mean, var, 1e-3, (1,)),
                               rtol=1e-4, atol=1e-4)
    new_mean, new_var = layer.get_weights()[2:]
    np.testing.assert_allclose(new_mean, moving_mean * 0.9 + mean * 0.1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_var, moving_var * 0.9 + var * 0.1, rtol=1e-5, atol=1e-6)


def test_batch_norm_inference_uses_moving_statistics_and_changes_nothing():
    layer = layers.BatchNormalization()
    x = rng.normal(size=(8, 3)).astype(np.float32)
    layer(x)
    weights = set_random_params(layer, (3,))
    expected = numpy_batch_norm(x, *weights, 1e-3, (1,))
    for training in (None, False):  # inference is the default, as in Keras
        out = layer(x, training=training)
        np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-5)
    for before, after in zip(weights, layer.get_weights()):
        np.testing.assert_allclose(after, before, rtol=1e-6)


def test_moving_statistics_after_several_training_calls_match_hand_computation():
    layer = layers.BatchNormalization(momentum=0.8)
    batches = [rng.normal(loc=i, scale=1 + i, size=(10, 2)) for i in range(4)]
    moving_mean, moving_var = np.zeros(2), np.ones(2)  # Keras's initial values
    for batch in batches:
        layer(batch.astype(np.float32), training=True)
        moving_mean = moving_mean * 0.8 + batch.mean(axis=0) * 0.2
        moving_var = moving_var * 0.8 + batch.var(axis=0) * 0.2  # biased variance
    np.testing.assert_allclose(layer.moving_mean.data, moving_mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.data, moving_var, rtol=1e-5)


def test_batch_norm_on_sequences_normalizes_over_batch_and_time():
    layer = layers.BatchNormalization(center=False, scale=False)
    x = rng.normal(size=(4, 6, 3)) * [1, 5, 10] + [0, 1, -2]
    out = layer(x, training=True).data
    mean, var = batch_stats(x, (2,))
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4)
    assert [w.shape for w in layer.get_weights()] == [(3,), (3,)]


@pytest.mark.parametrize("axis, axes", [(1, (1,)), ([1, 3], (1, 3)), ([3, 1], (1, 3)), (-3, (1,))])
def test_batch_norm_over_other_axes(float64, axis, axes):
    x = rng.normal(size=(5, 2, 3, 4)) * 2 + 1
    layer = layers.BatchNormalization(axis=axis, momentum=0.5)
    layer(x)
    shape = tuple(x.shape[a] for a in axes)
    gamma, beta, moving_mean, moving_var = set_random_params(layer, shape)
    np.testing.assert_allclose(layer(x).data,
                               numpy_batch_norm(x, gamma, beta, moving_mean, moving_var, 1e-3, axes),
                               rtol=1e-10)
    mean, var = batch_stats(x, axes)
    np.testing.assert_allclose(layer(x, training=True).data,
                               numpy_batch_norm(x, gamma, beta, mean, var, 1e-3, axes), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(layer.moving_variance.data, 0.5 * moving_var + 0.5 * var, rtol=1e-12)


def test_frozen_batch_norm_runs_in_inference_mode_as_in_keras3():
    layer = layers.BatchNormalization(trainable=False)
    x = rng.normal(size=(8, 3)).astype(np.float32) + 4
    layer(x)
    weights = set_random_params(layer, (3,))
    out = layer(x, training=True)
    np.testing.assert_allclose(out.data, numpy_batch_norm(x, *weights, 1e-3, (1,)), rtol=1e-5,
                               atol=1e-5)
    for before, after in zip(weights, layer.get_weights()):
        np.testing.assert_array_equal(after, before.astype(np.float32))
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4


def test_batch_norm_with_a_mask_ignores_masked_steps(float64):
    x = rng.normal(size=(3, 5, 2)) * 2 + 1
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool)
    layer = layers.BatchNormalization(momentum=0.0)
    out = layer(x, training=True, mask=mask).data
    kept = x[mask]  # (9, 2): the unmasked steps
    mean, var = kept.mean(axis=0), kept.var(axis=0)
    # Keras divides the sums by count + backend epsilon (1e-7)
    mean, var = mean * 9 / (9 + 1e-7), ((kept - mean) ** 2).sum(axis=0) / (9 + 1e-7)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-9)
    np.testing.assert_allclose(layer.moving_mean.data, mean, rtol=1e-12)
    np.testing.assert_allclose(layer.moving_variance.data, var, rtol=1e-12)
    layer.set_weights([rng.normal(size=2), rng.normal(size=2), np.zeros(2), np.ones(2)])
    check_layer_gradients(layer, x, training=True, mask=mask)
    with pytest.raises(ValueError, match="one axis less"):
        layer(x, training=True, mask=np.ones((3, 5, 2), bool))


# ---- BatchNormalization gradients ------------------------------------------------------------

@pytest.mark.parametrize("kwargs, shape", [
    ({}, (6, 4)),
    ({"axis": 1}, (4, 3, 5)),
    ({"axis": [1, 2]}, (3, 2, 3, 2)),
    ({"center": False}, (5, 3)),
    ({"scale": False, "gamma_regularizer": "l2"}, (5, 3)),
])
def test_batch_norm_gradients_in_training_mode(float64, kwargs, shape):
    # The moving statistics change on every call but never enter training-mode outputs.
    layer = layers.BatchNormalization(**kwargs)
    x = rng.normal(size=shape) * 2 + 0.5
    layer(x)
    layer.set_weights([rng.normal(size=w.shape) if w.name in ("gamma", "beta") else w.data
                       for w in layer._ordered_weights()])
    check_layer_gradients(layer, x, training=True)


def test_batch_norm_gradients_in_inference_mode(float64):
    layer = layers.BatchNormalization(axis=1)
    x = rng.normal(size=(4, 3, 2))
    layer(x)
    set_random_params(layer, (3,))
    check_layer_gradients(layer, x, training=False)


def test_batch_norm_gradient_of_the_mean_output_is_zero_for_inputs(float64):
    # sum over the batch of a normalized channel is constant (beta * n): d/dx = 0.
    layer = layers.BatchNormalization()
    x = Variable(rng.normal(size=(7, 3)))
    with GradientTape() as tape:
        total = layer(x, training=True).sum()
    dx, dbeta = tape.gradient(total, [x, layer.beta])
    np.testing.assert_allclose(dx, 0, atol=1e-12)
    np.testing.assert_allclose(dbeta, 7)


# ---- BatchNormalization weights and arguments ----------------------------------------------

def test_batch_norm_weights_follow_keras_order_and_trainability():
    layer = layers.BatchNormalization(input_shape=(3,))
    layer(np.zeros((2, 3), np.float32))
    assert [w.name for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in layer.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]
    gamma, beta, mean, var = layer.get_weights()
    assert [a.shape for a in (gamma, beta, mean, var)] == [(3,)] * 4
    np.testing.assert_array_equal(np.stack([gamma, beta, mean, var]), [[1] * 3, [0] * 3, [0] * 3,
                                                                       [1] * 3])
    assert layer.count_params() == 12
    no_center = layers.BatchNormalization(center=False)
    no_center(np.zeros((2, 3), np.float32))
    assert [w.name for w in no_center.weights] == ["gamma", "moving_mean", "moving_variance"]


@pytest.mark.parametrize("make, message", [
    (lambda: layers.BatchNormalization(momentum=1.0), "momentum must be a number in \\[0, 1\\)"),
    (lambda: layers.BatchNormalization(momentum=-0.1), "momentum"),
    (lambda: layers.BatchNormalization(epsilon=-1e-3), "epsilon must be a number >= 0"),
    (lambda: layers.BatchNormalization(axis="channels"), "axis must be an integer"),
    (lambda: layers.LayerNormalization(epsilon=-1), "epsilon"),
    (lambda: layers.LayerNormalization(axis=1.5), "axis"),
])
def test_bad_arguments_are_value_errors_naming_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()
    with pytest.raises(ValueError, match="normalization"):
        make()


@pytest.mark.parametrize("cls", [layers.BatchNormalization, layers.LayerNormalization])
@pytest.mark.parametrize("axis, message", [(2, "axis 2 is out of range"), (-3, "out of range"),
                                           (0, "batch axis"), ([1, -1], "same axis twice")])
def test_bad_axes_are_value_errors_at_build(cls, axis, message):
    layer = cls(axis=axis, name="norm_x")
    with pytest.raises(ValueError, match=f"norm_x: .*{message}"):
        layer(np.zeros((2, 3), np.float32))


def test_batch_norm_rejects_inputs_of_another_size_after_build():
    layer = layers.BatchNormalization(name="bn_x")
    layer(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"bn_x expects input of shape \(None, 3\)"):
        layer(np.zeros((2, 4), np.float32))


# ---- LayerNormalization --------------------------------------------------------------------

def test_layer_norm_defaults_are_keras3s():
    layer = layers.LayerNormalization()
    assert (layer.axis, layer.epsilon, layer.center, layer.scale, layer.rms_scaling) == \
        (-1, 1e-3, True, True, False)


def test_layer_norm_values_match_numpy():
    layer = layers.LayerNormalization()
    x = (rng.normal(size=(4, 6)) * 0.02 + 3).astype(np.float32)  # var ~ 4e-4: epsilon matters
    layer(x)
    gamma, beta = set_random_params(layer, (6,), moving=False)
    x64 = x.astype(np.float64)
    mean, var = x64.mean(axis=1, keepdims=True), x64.var(axis=1, keepdims=True)
    expected = (x64 - mean) / np.sqrt(var + 1e-3) * gamma + beta
    out = layer(x, training=True)  # no training behaviour: the same either way
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer(x).data, out.data)


def test_layer_norm_over_several_axes(float64):
    x = rng.normal(size=(3, 4, 5, 2))
    layer = layers.LayerNormalization(axis=[1, 3])
    layer(x)
    assert [w.shape for w in layer.get_weights()] == [(4, 2), (4, 2)]
    gamma, beta = set_random_params(layer, (4, 2), moving=False)
    mean, var = x.mean(axis=(1, 3), keepdims=True), x.var(axis=(1, 3), keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-3) * gamma[None, :, None, :] + beta[None, :, None, :]
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12)


def test_layer_norm_rms_scaling(float64):
    x = rng.normal(size=(3, 5)) + 1
    layer = layers.LayerNormalization(rms_scaling=True)
    layer(x)
    assert [w.name for w in layer.weights] == ["gamma"]
    gamma = rng.normal(size=5)
    layer.set_weights([gamma])
    expected = x / np.sqrt((x ** 2).mean(axis=1, keepdims=True) + 1e-3) * gamma
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12)
    check_layer_gradients(layer, x)


@pytest.mark.parametrize("kwargs, shape", [
    ({}, (4, 6)),
    ({"axis": [1, 2]}, (3, 2, 4)),
    ({"axis": 1}, (3, 4, 2)),
    ({"center": False, "scale": False}, (3, 5)),
    ({"beta_regularizer": "l2"}, (2, 3, 4)),
])
def test_layer_norm_gradients(float64, kwargs, shape):
    layer = layers.LayerNormalization(**kwargs)
    x = rng.normal(size=shape) * 1.5 - 0.5
    layer(x)
    layer.set_weights([rng.normal(size=w.shape) for w in layer.get_weights()])
    check_layer_gradients(layer, x)


# ---- verbs and training ----------------------------------------------------------------------

def test_verbs_build_the_layers_with_keras_defaults():
    bn = layer_batch_normalization()
    assert isinstance(bn, layers.BatchNormalization)
    assert (bn.axis, bn.momentum, bn.epsilon, bn.center, bn.scale) == (-1, 0.99, 0.001, True, True)
    ln = layer_layer_normalization(axis=[1, 2], epsilon=1e-5)
    assert isinstance(ln, layers.LayerNormalization) and ln.axis == [1, 2] and ln.epsilon == 1e-5
    out = np.ones((2, 3), np.float32) | layer_layer_normalization()
    np.testing.assert_allclose(out.data, 0)


def test_sequential_with_batch_norm_trains_and_predicts_with_moving_statistics():
    from kerasr import compile, fit, keras_model_sequential, layer_dense, predict, set_random_seed
    set_random_seed(3)
    data = np.random.default_rng(3)
    x = (data.normal(size=(512, 8)) * [1, 2, 3, 4, 5, 6, 7, 8] + 10).astype(np.float32)
    y = (x[:, :1] - 10) * 0.5 - (x[:, 1:2] - 10) * 0.25 + 0.1 * data.normal(size=(512, 1))
    model = keras_model_sequential()
    model | layer_dense(units=16, input_shape=8) | layer_batch_normalization(momentum=0.8) \
        | layer_dense(units=16, activation="relu") | layer_dense(units=1)
    model | compile(optimizer="adam", loss="mse")
    history = model | fit(x, y.astype(np.float32), epochs=15, batch_size=32, verbose=0)
    losses = history.metrics["loss"]
    assert losses[-1] < 0.5 * losses[0]
    bn = model.layers[1]
    assert [w.name for w in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]
    # the moving statistics followed the dense layer's outputs (about the last 5 batches with
    # momentum 0.8), far from their initial 0 and 1
    hidden = model.layers[0](x).data
    mean, var = hidden.mean(axis=0), hidden.var(axis=0)
    assert np.all(np.abs(bn.moving_mean.data - mean) < 0.3 * np.sqrt(var))
    assert np.linalg.norm(bn.moving_mean.data - mean) < 0.1 * np.linalg.norm(mean)
    ratio = bn.moving_variance.data / var
    assert np.all((ratio > 0.6) & (ratio < 1.6)), ratio
    assert np.all(var > 1.4)  # so the initial 1 would fail the line above
    # predict runs in inference mode: deterministic, and independent of the batch size
    first = predict(model, x[:64], verbose=0)
    np.testing.assert_allclose(predict(model, x[:64], batch_size=7, verbose=0), first, rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(predict(model, x[:1], verbose=0), first[:1], rtol=1e-5, atol=1e-5)
