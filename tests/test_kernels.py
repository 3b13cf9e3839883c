"""Kernels against the float64 references in reference.py, both compiled
variants, float32 and float64; backward kernels against central differences."""

import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest

import reference as ref
from kerasr import kernels
from kerasr.kernels import _jit, activations, dropout, embedding, losses, optimizers
from kerasr.kernels import reductions, softmax
from kerasr.kernels.activations import ACTIVATION_CODES

VARIANTS = ["serial", "parallel"]
DTYPES = [np.float32, np.float64]
NAMES = list(ACTIVATION_CODES)
ALPHAS = {"elu": 0.7, "leaky_relu": 0.2, "thresholded_relu": 0.5, "relu_max": 2.0}
# The three activations whose gradient can come from a only while alpha >= 0.
NEGATIVE_ALPHA_NAMES = ["elu", "leaky_relu", "thresholded_relu"]

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def kernel(module, name, variant):
    return getattr(module, f"_{name}_{variant}")


def tol(dtype):
    if dtype == np.float64:
        return dict(rtol=1e-12, atol=1e-13)
    return dict(rtol=1e-5, atol=1e-6)


def assert_close(actual, expected, dtype):
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, **tol(dtype))


def draw_away_from(rng, shape, kinks, scale=3.0, margin=1e-3):
    """Normal draws, redrawn wherever they land within margin of a kink."""
    z = rng.normal(0.0, scale, shape)
    for _ in range(100):
        near = np.zeros(shape, bool)
        for k in kinks:
            near |= np.abs(z - k) < margin
        if not near.any():
            return z
        z[near] = rng.normal(0.0, scale, int(near.sum()))
    raise AssertionError("could not draw away from kinks")


def assert_matches_numeric(analytic, numeric):
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-7)


def central_difference(f, x, h=1e-6):
    """Gradient of the scalar function f at float64 array x."""
    grad = np.empty_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for k in range(flat.size):
        saved = flat[k]
        flat[k] = saved + h
        up = f(x)
        flat[k] = saved - h
        down = f(x)
        flat[k] = saved
        gflat[k] = (up - down) / (2 * h)
    return grad


# ---------------------------------------------------------------- activations


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_activation_forward(variant, dtype, name):
    alpha = ALPHAS.get(name, 0.0)
    rng = np.random.default_rng(1)
    # Three 16384-element blocks plus a partial one.
    z = draw_away_from(rng, 40000, ref.activation_kinks(name, alpha)).astype(dtype)
    code = ACTIVATION_CODES[name]
    forward = kernel(activations, "activation_forward", variant)
    out = forward(z, code, alpha, np.empty_like(z))
    assert out.dtype == dtype
    assert_close(out, ref.ref_activation(z, name, alpha), dtype)
    in_place = z.copy()
    assert forward(in_place, code, alpha, in_place) is in_place
    np.testing.assert_array_equal(in_place, out)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_activation_backward(variant, dtype, name):
    alpha = ALPHAS.get(name, 0.0)
    rng = np.random.default_rng(2)
    z = draw_away_from(rng, 40000, ref.activation_kinks(name, alpha)).astype(dtype)
    g = rng.normal(size=z.shape).astype(dtype)
    code = ACTIVATION_CODES[name]
    a = kernel(activations, "activation_forward", variant)(z, code, alpha, np.empty_like(z))
    backward = kernel(activations, "activation_backward", variant)
    expected = g * ref.ref_activation_grad(z, name, alpha)
    out = backward(z, a, g, code, alpha, np.empty_like(z))
    assert_close(out, expected, dtype)
    if not activations.needs_preactivation(code, alpha):
        # the caller then passes a for z
        assert_close(backward(a, a, g, code, alpha, np.empty_like(z)), expected, dtype)
    g_alias = g.copy()
    assert backward(z, a, g_alias, code, alpha, g_alias) is g_alias
    np.testing.assert_array_equal(g_alias, out)


@pytest.mark.parametrize("name", NAMES)
def test_activation_backward_central_difference(name):
    alpha = ALPHAS.get(name, 0.0)
    rng = np.random.default_rng(3)
    z = draw_away_from(rng, 300, ref.activation_kinks(name, alpha))
    g = rng.normal(size=z.shape)
    code = ACTIVATION_CODES[name]
    forward = activations._activation_forward_serial

    def f(x):
        return forward(x, code, alpha, np.empty_like(x))

    # Elementwise, so all elements can be stepped at once.
    h = 1e-6
    numeric = g * (f(z + h) - f(z - h)) / (2 * h)
    out = activations._activation_backward_serial(z, f(z), g, code, alpha, np.empty_like(z))
    np.testing.assert_allclose(out, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", NEGATIVE_ALPHA_NAMES)
def test_negative_alpha_needs_preactivation(name):
    code = ACTIVATION_CODES[name]
    assert activations.needs_preactivation(code) is True  # alpha unknown: safe answer
    assert activations.needs_preactivation(code, 0.3) is False
    assert activations.needs_preactivation(code, -0.3) is True
    rng = np.random.default_rng(4)
    z = draw_away_from(rng, 2000, ref.activation_kinks(name, -0.3))
    g = rng.normal(size=z.shape)
    a = activations.activation_forward(z, code, -0.3, np.empty_like(z))
    assert_close(a, ref.ref_activation(z, name, -0.3), np.float64)
    out = activations.activation_backward(z, a, g, code, -0.3, np.empty_like(z))
    assert_close(out, g * ref.ref_activation_grad(z, name, -0.3), np.float64)


def test_needs_preactivation_table():
    needs = {n for n in NAMES if activations.needs_preactivation(ACTIVATION_CODES[n], 1.0)}
    assert needs == {"softsign", "swish", "gelu"}
    with pytest.raises(ValueError):
        activations.needs_preactivation(99)
    with pytest.raises(ValueError):
        activations.activation_forward(np.zeros(3), 99, 0.0, np.zeros(3))


KINK_GRADIENTS = [  # f'(kink) as TensorFlow's kernels (Keras 3's default backend) give it
    ("relu", 0.0, 0.0),
    ("leaky_relu", 0.0, ALPHAS["leaky_relu"]),
    ("elu", 0.0, ALPHAS["elu"]),
    ("selu", 0.0, ref.SELU_SCALE),
    ("hard_sigmoid", -3.0, 0.0),
    ("hard_sigmoid", 3.0, 0.0),
    ("thresholded_relu", ALPHAS["thresholded_relu"], 0.0),
    ("relu_max", 0.0, 0.0),
    ("relu_max", ALPHAS["relu_max"], 0.0),
]


@pytest.mark.parametrize("name,kink,expected", KINK_GRADIENTS)
def test_gradient_at_kinks(name, kink, expected):
    code, alpha = ACTIVATION_CODES[name], ALPHAS.get(name, 0.0)
    z = np.array([kink])
    a = activations.activation_forward(z, code, alpha, np.empty(1))
    out = activations.activation_backward(z, a, np.ones(1), code, alpha, np.empty(1))
    assert out[0] == pytest.approx(expected, rel=1e-12)
    if not activations.needs_preactivation(code, alpha):
        out = activations.activation_backward(a, a, np.ones(1), code, alpha, np.empty(1))
        assert out[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_activation_propagates_nan(name):
    z = np.array([np.nan, 1.0, np.nan])
    code, alpha = ACTIVATION_CODES[name], ALPHAS.get(name, 0.0)
    out = activations.activation_forward(z, code, alpha, np.empty(3))
    assert np.isnan(out[0]) and np.isnan(out[2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_family_extreme_inputs(dtype):
    z = np.array([-100.0, -30.0, 30.0, 100.0], dtype)
    for name in ["sigmoid", "softplus", "swish", "tanh", "gelu"]:
        out = activations.activation_forward(z, ACTIVATION_CODES[name], 0.0, np.empty_like(z))
        assert np.all(np.isfinite(out)), name
        assert_close(out, ref.ref_activation(z, name), dtype)
    # sigmoid keeps its tail instead of rounding it to 0 (float64 resolves e^-100)
    if dtype == np.float64:
        out = activations.activation_forward(z, activations.SIGMOID, 0.0, np.empty_like(z))
        assert out[0] == pytest.approx(np.exp(-100.0), rel=1e-12)


def test_hard_sigmoid_is_keras3_definition():
    z = np.array([-4.0, -3.0, -1.5, 0.0, 1.5, 3.0, 4.0])
    out = activations.activation_forward(z, activations.HARD_SIGMOID, 0.0, np.empty_like(z))
    np.testing.assert_allclose(out, [0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_bias_activation_forward(variant, dtype, name):
    alpha = ALPHAS.get(name, 0.0)
    rng = np.random.default_rng(5)
    bias = rng.normal(size=37)
    pre = draw_away_from(rng, (100, 37), ref.activation_kinks(name, alpha))
    z = (pre - bias).astype(dtype)
    bias = bias.astype(dtype)
    z_before = z.copy()
    code = ACTIVATION_CODES[name]
    forward = kernel(activations, "bias_activation_forward", variant)
    out = forward(z, bias, code, alpha, np.empty_like(z))
    expected_pre = z_before + bias  # in dtype, as the kernel adds
    np.testing.assert_array_equal(z, expected_pre)
    assert_close(out, ref.ref_activation(expected_pre, name, alpha), dtype)
    # out may be z itself
    z_again = z_before.copy()
    assert forward(z_again, bias, code, alpha, z_again) is z_again
    np.testing.assert_array_equal(z_again, out)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_bias_activation_backward(variant, dtype, name):
    alpha = ALPHAS.get(name, 0.0)
    rng = np.random.default_rng(6)
    # 100 rows: 4 row chunks of partial column sums.
    z = draw_away_from(rng, (100, 37), ref.activation_kinks(name, alpha)).astype(dtype)
    g = rng.normal(size=z.shape).astype(dtype)
    code = ACTIVATION_CODES[name]
    a = kernel(activations, "activation_forward", variant)(
        z.reshape(-1), code, alpha, np.empty(z.size, dtype)
    ).reshape(z.shape)
    backward = kernel(activations, "bias_activation_backward", variant)
    expected_dz = g * ref.ref_activation_grad(z, name, alpha)
    dz, db = backward(z, a, g, code, alpha, np.empty_like(z), np.empty(37, dtype))
    assert_close(dz, expected_dz, dtype)
    assert_close(db, expected_dz.sum(axis=0), dtype)
    # dz may alias g
    g_alias = g.copy()
    dz2, db2 = backward(z, a, g_alias, code, alpha, g_alias, np.full(37, np.nan, dtype))
    assert dz2 is g_alias
    np.testing.assert_array_equal(dz2, dz)
    np.testing.assert_array_equal(db2, db)


@pytest.mark.parametrize("name", ["relu", "tanh", "gelu", "selu", "hard_sigmoid", "relu_max"])
def test_bias_activation_backward_central_difference(name):
    alpha = ALPHAS.get(name, 0.0)
    rng = np.random.default_rng(7)
    bias = rng.normal(size=4)
    z = draw_away_from(rng, (6, 4), ref.activation_kinks(name, alpha)) - bias
    g = rng.normal(size=z.shape)
    code = ACTIVATION_CODES[name]
    forward = activations._bias_activation_forward_serial

    def loss_of_bias(b):
        return np.sum(g * forward(z.copy(), b, code, alpha, np.empty_like(z)))

    def loss_of_z(x):
        return np.sum(g * forward(x.copy(), bias, code, alpha, np.empty_like(x)))

    pre = z.copy()
    a = forward(pre, bias, code, alpha, np.empty_like(z))
    dz, db = activations._bias_activation_backward_serial(
        pre, a, g, code, alpha, np.empty_like(z), np.empty(4)
    )
    assert_matches_numeric(db, central_difference(loss_of_bias, bias.copy()))
    assert_matches_numeric(dz, central_difference(loss_of_z, z.copy()))


# -------------------------------------------------------------------- softmax


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_softmax(variant, dtype):
    rng = np.random.default_rng(8)
    z = (rng.normal(0, 3, (50, 13))).astype(dtype)
    z[0] = [1e4, -1e4] + [0.0] * 11  # stability
    z[1, :] = -1e4
    p = kernel(softmax, "softmax_forward", variant)(z, np.empty_like(z))
    assert np.all(np.isfinite(p))
    assert_close(p, ref.ref_softmax(z), dtype)
    g = rng.normal(size=z.shape).astype(dtype)
    out = kernel(softmax, "softmax_backward", variant)(p, g, np.empty_like(z))
    assert_close(out, ref.ref_softmax_grad(p, g), dtype)
    # in place: out may be z, and the backward's out may be g
    # (aliasing may switch LLVM to the scalar loop: same sums, other rounding)
    z2 = z.copy()
    kernel(softmax, "softmax_forward", variant)(z2, z2)
    assert_close(z2, ref.ref_softmax(z), dtype)
    kernel(softmax, "softmax_backward", variant)(p, g, g)
    assert_close(g, out, dtype)


def test_softmax_backward_central_difference():
    rng = np.random.default_rng(9)
    z = rng.normal(size=(3, 5))
    g = rng.normal(size=z.shape)

    def loss(x):
        return np.sum(g * softmax._softmax_forward_serial(x, np.empty_like(x)))

    p = softmax._softmax_forward_serial(z, np.empty_like(z))
    out = softmax._softmax_backward_serial(p, g, np.empty_like(z))
    assert_matches_numeric(out, central_difference(loss, z.copy()))


def test_softmax_nan_row_stays_nan():
    z = np.array([[0.0, np.nan, 1.0], [1.0, 2.0, 3.0]])
    p = softmax.softmax_forward(z, np.empty_like(z))
    assert np.all(np.isnan(p[0])) and np.all(np.isfinite(p[1]))


# --------------------------------------------------------------------- losses


def logits_and_targets(rng, dtype):
    rows, cols = 40, 7
    logits = rng.normal(0, 3, (rows, cols))
    logits[0] = [1e4, -1e4, 0, 0, 0, 0, 5e3]
    logits[1] = -1e4
    logits[2] = [-1e4, 1e4, 1e4, -1e4, 0, 0, 0]
    y = rng.dirichlet(np.ones(cols), rows)  # soft labels
    y[3] *= 2.0  # rows need not sum to one
    labels = rng.integers(0, cols, rows).astype(np.int64)
    labels[0] = 1  # the -1e4 logit: loss 2e4
    return logits.astype(dtype), y.astype(dtype), labels


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_softmax_cross_entropy(variant, dtype):
    rng = np.random.default_rng(10)
    logits, y, _ = logits_and_targets(rng, dtype)
    rows = logits.shape[0]
    forward = kernel(losses, "softmax_cross_entropy_forward", variant)
    probs, loss = forward(logits, y, np.empty_like(logits), np.empty(rows, dtype))
    expected_probs, expected_loss = ref.ref_softmax_cross_entropy(logits, y)
    assert np.all(np.isfinite(loss))
    assert_close(probs, expected_probs, dtype)
    assert_close(loss, expected_loss, dtype)
    g = rng.normal(size=rows).astype(dtype)
    backward = kernel(losses, "softmax_cross_entropy_backward", variant)
    out = backward(probs, y, g, np.empty_like(logits))
    assert_close(out, ref.ref_softmax_cross_entropy_grad(logits, y, g), dtype)
    assert backward(probs, y, g, probs) is probs  # out may be probs
    np.testing.assert_array_equal(probs, out)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_sparse_softmax_cross_entropy(variant, dtype):
    rng = np.random.default_rng(11)
    logits, _, labels = logits_and_targets(rng, dtype)
    rows = logits.shape[0]
    forward = kernel(losses, "sparse_softmax_cross_entropy_forward", variant)
    probs, loss = forward(logits, labels, np.empty_like(logits), np.empty(rows, dtype))
    expected_probs, expected_loss = ref.ref_sparse_softmax_cross_entropy(logits, labels)
    assert loss[0] == pytest.approx(2e4, rel=1e-6)
    assert_close(probs, expected_probs, dtype)
    assert_close(loss, expected_loss, dtype)
    g = rng.normal(size=rows).astype(dtype)
    backward = kernel(losses, "sparse_softmax_cross_entropy_backward", variant)
    out = backward(probs, labels, g, np.empty_like(logits))
    assert_close(out, ref.ref_sparse_softmax_cross_entropy_grad(logits, labels, g), dtype)
    assert backward(probs, labels, g, probs) is probs
    np.testing.assert_array_equal(probs, out)


def test_cross_entropy_backward_central_difference():
    rng = np.random.default_rng(12)
    logits = rng.normal(size=(4, 5))
    y = rng.dirichlet(np.ones(5), 4) * 1.5
    labels = np.array([0, 4, 2, 2], np.int64)
    g = rng.normal(size=4)
    dense_f = losses._softmax_cross_entropy_forward_serial
    sparse_f = losses._sparse_softmax_cross_entropy_forward_serial

    def dense_loss(x):
        return np.dot(g, dense_f(x, y, np.empty_like(x), np.empty(4))[1])

    def sparse_loss(x):
        return np.dot(g, sparse_f(x, labels, np.empty_like(x), np.empty(4))[1])

    probs, _ = dense_f(logits, y, np.empty_like(logits), np.empty(4))
    out = losses._softmax_cross_entropy_backward_serial(probs, y, g, np.empty_like(logits))
    assert_matches_numeric(out, central_difference(dense_loss, logits.copy()))
    out = losses._sparse_softmax_cross_entropy_backward_serial(
        probs, labels, g, np.empty_like(logits)
    )
    assert_matches_numeric(out, central_difference(sparse_loss, logits.copy()))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_sigmoid_cross_entropy(variant, dtype):
    rng = np.random.default_rng(13)
    z = rng.normal(0, 4, 3000)
    z[:6] = [100.0, -100.0, 1e4, -1e4, 100.0, -100.0]
    y = rng.uniform(size=z.size)
    y[:6] = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    z, y = z.astype(dtype), y.astype(dtype)
    out = kernel(losses, "sigmoid_cross_entropy_forward", variant)(z, y, np.empty_like(z))
    assert np.all(np.isfinite(out))
    assert_close(out, ref.ref_sigmoid_cross_entropy(z, y), dtype)
    tail = np.log1p(np.exp(np.float64(-100)))  # z=100, y=1 and z=-100, y=0: no cancellation
    if dtype == np.float64:
        assert out[0] == pytest.approx(tail, rel=1e-12) and out[4] == pytest.approx(100.0)
        assert out[1] == pytest.approx(tail, rel=1e-12)
    g = rng.normal(size=z.size).astype(dtype)
    backward = kernel(losses, "sigmoid_cross_entropy_backward", variant)
    grad = backward(z, y, g, np.empty_like(z))
    assert_close(grad, ref.ref_sigmoid_cross_entropy_grad(z, y, g), dtype)
    assert backward(z, y, g, g) is g
    np.testing.assert_array_equal(g, grad)


def test_sigmoid_cross_entropy_central_difference():
    rng = np.random.default_rng(14)
    z, y, g = rng.normal(size=50), rng.uniform(size=50), rng.normal(size=50)

    def loss(x):
        return np.dot(g, losses._sigmoid_cross_entropy_forward_serial(x, y, np.empty_like(x)))

    out = losses._sigmoid_cross_entropy_backward_serial(z, y, g, np.empty_like(z))
    assert_matches_numeric(out, central_difference(loss, z.copy()))


# ----------------------------------------------------------------- optimizers

STEPS = 5


def optimizer_problem(dtype, seed):
    rng = np.random.default_rng(seed)
    var = rng.normal(size=1000).astype(dtype)
    grads = [rng.normal(size=1000).astype(dtype) for _ in range(STEPS)]
    return var, grads


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_sgd(variant, dtype):
    var, grads = optimizer_problem(dtype, 15)
    expected = var.astype(np.float64)
    for grad in grads:
        assert kernel(optimizers, "sgd_update", variant)(var, grad, 0.05) is var
        expected = ref.ref_sgd_step(expected, grad, 0.05)
        assert_close(var, expected, dtype)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_sgd_momentum(variant, dtype, nesterov):
    var, grads = optimizer_problem(dtype, 16)
    velocity = np.zeros_like(var)
    expected, expected_velocity = var.astype(np.float64), np.zeros(var.size)
    update = kernel(optimizers, "sgd_momentum_update", variant)
    for grad in grads:
        update(var, grad, velocity, 0.05, 0.9, nesterov)
        expected, expected_velocity = ref.ref_sgd_momentum_step(
            expected, grad, expected_velocity, 0.05, 0.9, nesterov
        )
        assert_close(var, expected, dtype)
        assert_close(velocity, expected_velocity, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_rmsprop(variant, dtype):
    var, grads = optimizer_problem(dtype, 17)
    velocity = np.zeros_like(var)
    expected, state = var.astype(np.float64), {"velocity": np.zeros(var.size)}
    for grad in grads:
        kernel(optimizers, "rmsprop_update", variant)(var, grad, velocity, 0.01, 0.9, 1e-7)
        expected, state = ref.ref_rmsprop_step(expected, grad, state, 0.01, 0.9, 0.0, 1e-7, False)
        assert_close(var, expected, dtype)
        assert_close(velocity, state["velocity"], dtype)


@pytest.mark.parametrize("momentum,centered", [(0.5, False), (0.0, True), (0.5, True)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_rmsprop_momentum(variant, dtype, momentum, centered):
    var, grads = optimizer_problem(dtype, 18)
    slots = {"velocity": np.zeros_like(var)}
    if centered:
        slots["average_grad"] = np.zeros_like(var)
    if momentum > 0:
        slots["momentum"] = np.zeros_like(var)
    unused = np.empty(0, dtype)  # Keras creates no slot there
    expected, state = var.astype(np.float64), {k: v.astype(np.float64) for k, v in slots.items()}
    update = kernel(optimizers, "rmsprop_momentum_update", variant)
    for grad in grads:
        update(
            var, grad, slots["velocity"], slots.get("average_grad", unused),
            slots.get("momentum", unused), 0.01, 0.9, momentum, 1e-7, centered,
        )
        expected, state = ref.ref_rmsprop_step(
            expected, grad, state, 0.01, 0.9, momentum, 1e-7, centered
        )
        assert_close(var, expected, dtype)
        for key in slots:
            assert_close(slots[key], state[key], dtype)


def test_rmsprop_matches_keras_docstring_example():
    # keras.optimizers.RMSprop(learning_rate=0.1), var 10, loss var^2/2 -> 9.683772
    var = np.array([10.0], np.float32)
    optimizers.rmsprop_update(var, var.copy(), np.zeros(1, np.float32), 0.1, 0.9, 1e-7)
    assert var[0] == pytest.approx(9.683772, abs=1e-6)


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_adam(variant, dtype, amsgrad):
    var, grads = optimizer_problem(dtype, 19)
    lr, beta_1, beta_2, epsilon = 0.01, 0.9, 0.999, 1e-7
    m, v, v_hat = np.zeros_like(var), np.zeros_like(var), np.zeros_like(var)
    expected, em, ev = var.astype(np.float64), np.zeros(var.size), np.zeros(var.size)
    ev_hat = np.zeros(var.size) if amsgrad else None
    for t, grad in enumerate(grads, start=1):
        alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)  # the caller's part
        if amsgrad:
            update = kernel(optimizers, "adam_amsgrad_update", variant)
            update(var, grad, m, v, v_hat, alpha, beta_1, beta_2, epsilon)
        else:
            update = kernel(optimizers, "adam_update", variant)
            update(var, grad, m, v, alpha, beta_1, beta_2, epsilon)
        expected, em, ev, ev_hat = ref.ref_adam_step(
            expected, grad, em, ev, lr, beta_1, beta_2, epsilon, t, ev_hat
        )
        assert_close(var, expected, dtype)
        assert_close(m, em, dtype)
        assert_close(v, ev, dtype)
        if amsgrad:
            assert_close(v_hat, ev_hat, dtype)


def test_amsgrad_keeps_the_largest_v():
    var, m = np.zeros(2), np.zeros(2)
    v, v_hat = np.zeros(2), np.zeros(2)
    optimizers.adam_amsgrad_update(var, np.array([3.0, 3.0]), m, v, v_hat, 0.1, 0.9, 0.5, 1e-7)
    peak = v_hat.copy()
    optimizers.adam_amsgrad_update(var, np.array([0.0, 0.0]), m, v, v_hat, 0.1, 0.9, 0.5, 1e-7)
    assert np.all(v < peak) and np.all(v_hat == peak)


# ------------------------------------------------------------------- dropout


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_dropout(variant, dtype):
    rng = np.random.default_rng(20)
    rate = 0.3
    x = rng.normal(size=20000).astype(dtype)
    u = rng.uniform(size=x.size).astype(dtype)
    u[:3] = [rate, np.nextafter(dtype(rate), dtype(0)), 0.0]  # the boundary keeps
    forward = kernel(dropout, "dropout_forward", variant)
    out, mask = forward(x, u, rate, np.empty_like(x), np.empty_like(x))
    assert mask.dtype == dtype
    assert set(np.unique(mask)) == {dtype(0), dtype(1 / (1 - rate))}
    assert mask[0] != 0 and mask[1] == 0 and mask[2] == 0
    assert abs(np.mean(mask != 0) - (1 - rate)) < 0.02
    expected_out, expected_mask = ref.ref_dropout(x, u, rate)
    assert_close(mask, expected_mask, dtype)
    assert_close(out, expected_out, dtype)
    g = rng.normal(size=x.size).astype(dtype)
    back = kernel(dropout, "dropout_backward", variant)(g, mask, np.empty_like(g))
    assert_close(back, g.astype(np.float64) * mask, dtype)
    # the backward is the derivative of the forward (linear in x)
    x64 = x.astype(np.float64)
    step = np.ones_like(x64)
    u64 = u.astype(np.float64)
    forward64 = dropout._dropout_forward_serial
    up, _ = forward64(x64 + step, u64, rate, np.empty_like(x64), np.empty_like(x64))
    down, _ = forward64(x64 - step, u64, rate, np.empty_like(x64), np.empty_like(x64))
    np.testing.assert_allclose((up - down) / 2.0, mask, rtol=1e-6)


# ------------------------------------------------------------------ embedding


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_embedding(variant, dtype):
    rng = np.random.default_rng(21)
    table = rng.normal(size=(50, 70)).astype(dtype)
    indices = rng.integers(0, 50, 400).astype(np.int64)
    indices[:4] = [7, 7, 7, 49]  # repeats
    forward = kernel(embedding, "embedding_forward", variant)
    out = forward(table, indices, np.empty((400, 70), dtype))
    np.testing.assert_array_equal(out, table[indices])
    g = rng.normal(size=out.shape).astype(dtype)
    n_blocks = 8 if variant == "parallel" else 1  # as the entry point runs them
    dtable = kernel(embedding, "embedding_backward", variant)(indices, g, 50, n_blocks)
    assert dtable.shape == (50, 70) and dtable.dtype == dtype
    assert_close(dtable, ref.ref_embedding_grad(indices, g, 50), dtype)
    unused = np.setdiff1d(np.arange(50), indices)
    assert np.all(dtable[unused] == 0)


def test_embedding_backward_central_difference():
    rng = np.random.default_rng(22)
    table = rng.normal(size=(6, 3))
    indices = np.array([0, 2, 2, 5, 2], np.int64)
    g = rng.normal(size=(5, 3))

    def loss(t):
        return np.sum(g * embedding._embedding_forward_serial(t, indices, np.empty((5, 3))))

    numeric = central_difference(loss, table.copy())
    for n_blocks in (1, 4, 6, 8):  # one pass; row blocks (some rows-less when 8 > 6)
        dtable = embedding._embedding_backward_serial(indices, g, 6, n_blocks)
        assert_matches_numeric(dtable, numeric)


# ----------------------------------------------------------------- reductions


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_column_sum(variant, dtype):
    rng = np.random.default_rng(23)
    for rows in [0, 1, 31, 33, 1000]:
        x = rng.normal(size=(rows, 9)).astype(dtype)
        out = kernel(reductions, "column_sum", variant)(x, np.full(9, np.nan, dtype))
        assert_close(out, ref.ref_column_sum(x), dtype)


# ------------------------------------------------- parallel splits for real


def test_parallel_matches_serial_on_large_shapes():
    # Large enough that the parallel variants actually split the work (32 row
    # chunks, 8 column blocks); with one Numba thread they just run serially.
    rng = np.random.default_rng(24)
    x = rng.normal(size=(20000, 300))
    serial = reductions._column_sum_serial(x, np.empty(300))
    parallel = reductions._column_sum_parallel(x, np.empty(300))
    np.testing.assert_allclose(parallel, serial, rtol=1e-13, atol=0)
    assert_close(parallel, ref.ref_column_sum(x), np.float64)

    indices = rng.integers(0, 100, 20000).astype(np.int64)
    g = rng.normal(size=(20000, 256)).astype(np.float32)
    serial = embedding._embedding_backward_serial(indices, g, 100, 1)
    parallel = embedding._embedding_backward_parallel(indices, g, 100, 8)
    # every element is summed in index order either way
    np.testing.assert_array_equal(parallel, serial)
    expected = ref.ref_embedding_grad(indices, g, 100)
    np.testing.assert_allclose(parallel, expected, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------- public entry points


def public_calls(dtype):
    """One call of every public entry point on small valid inputs: name -> thunk."""
    k = kernels
    rng = np.random.default_rng(25)
    z2 = rng.normal(size=(8, 5)).astype(dtype)
    z1 = z2.reshape(-1).copy()
    g1, g2, g_rows = np.ones_like(z1), np.ones_like(z2), np.ones(8, dtype)
    labels = np.arange(8, dtype=np.int64) % 5
    y = np.eye(5, dtype=dtype)[labels]
    flat = np.ones(40, dtype)

    def e(shape=None):
        return np.empty(shape if shape is not None else z2.shape, dtype)

    def slots(n):
        return [flat.copy() for _ in range(n)]

    return {
        "activation_forward": lambda: k.activation_forward(z1, k.TANH, 0.0, e(40)),
        "activation_backward": lambda: k.activation_backward(z1, z1, g1, k.TANH, 0.0, e(40)),
        "bias_activation_forward":
            lambda: k.bias_activation_forward(z2.copy(), z2[0], k.RELU, 0.0, e()),
        "bias_activation_backward":
            lambda: k.bias_activation_backward(z2, z2, g2, k.RELU, 0.0, e(), e(5))[1],
        "softmax_forward": lambda: k.softmax_forward(z2, e()),
        "softmax_backward": lambda: k.softmax_backward(z2, g2, e()),
        "softmax_cross_entropy_forward":
            lambda: k.softmax_cross_entropy_forward(z2, y, e(), e(8))[1],
        "softmax_cross_entropy_backward":
            lambda: k.softmax_cross_entropy_backward(z2, y, g_rows, e()),
        "sparse_softmax_cross_entropy_forward":
            lambda: k.sparse_softmax_cross_entropy_forward(z2, labels, e(), e(8))[1],
        "sparse_softmax_cross_entropy_backward":
            lambda: k.sparse_softmax_cross_entropy_backward(z2, labels, g_rows, e()),
        "sigmoid_cross_entropy_forward": lambda: k.sigmoid_cross_entropy_forward(z1, g1, e(40)),
        "sigmoid_cross_entropy_backward":
            lambda: k.sigmoid_cross_entropy_backward(z1, g1, g1, e(40)),
        "sgd_update": lambda: k.sgd_update(*slots(2), 0.1),
        "sgd_momentum_update": lambda: k.sgd_momentum_update(*slots(3), 0.1, 0.9, True),
        "rmsprop_update": lambda: k.rmsprop_update(*slots(3), 0.1, 0.9, 1e-7),
        "rmsprop_momentum_update":
            lambda: k.rmsprop_momentum_update(*slots(5), 0.1, 0.9, 0.5, 1e-7, True),
        "adam_update": lambda: k.adam_update(*slots(4), 0.1, 0.9, 0.999, 1e-7),
        "adam_amsgrad_update": lambda: k.adam_amsgrad_update(*slots(5), 0.1, 0.9, 0.999, 1e-7),
        "dropout_forward": lambda: k.dropout_forward(z1, np.abs(z1) % 1, 0.5, e(40), e(40))[0],
        "dropout_backward": lambda: k.dropout_backward(g1, z1, e(40)),
        "embedding_forward": lambda: k.embedding_forward(z2, labels, e((8, 5))),
        "embedding_backward": lambda: k.embedding_backward(labels, z2, 8),
        "column_sum": lambda: k.column_sum(z2, e(5)),
    }


def test_public_entry_points_choose_parallel_only_for_large_work(monkeypatch):
    """Every public function runs, serial by default; with the threshold at 0 it
    takes the parallel variant and gives the same result."""
    serial_results = {name: np.array(call()) for name, call in public_calls(np.float32).items()}
    monkeypatch.setattr(_jit, "PARALLEL_MIN_ELEMENTS", 0)
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)  # force the choice even on 1 thread
    for name, call in public_calls(np.float32).items():
        result = np.array(call())
        np.testing.assert_allclose(result, serial_results[name], rtol=1e-6, err_msg=name)
    assert _jit.use_parallel(1)
    monkeypatch.setattr(_jit, "PARALLEL_MIN_ELEMENTS", 1 << 20)
    assert not _jit.use_parallel((1 << 20) - 1)


def test_import_compiles_nothing():
    code = (
        "from kerasr.kernels import activations\n"
        "assert not activations._activation_forward_serial.signatures\n"
        "assert not activations._forward_1d.signatures\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT, env=_env())


# ------------------------------------------------------------ on-disk cache


def _env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def test_disk_cache_keeps_serial_and_parallel_apart(tmp_path):
    """Numba's cache index ignores `parallel`; njit_pair must still give each
    variant its own entry. Two fresh processes share one cache directory; the
    probe records which thread ran each iteration (2 threads forced)."""
    (tmp_path / "probe_kernels.py").write_text(textwrap.dedent(
        """
        import numba
        from kerasr.kernels._jit import njit_pair, prange

        def thread_ids(out):
            for i in prange(out.shape[0]):
                out[i] = numba.get_thread_id()
            return out

        thread_ids_serial, thread_ids_parallel = njit_pair(thread_ids)
        """
    ))
    run = textwrap.dedent(
        """
        import sys, numpy as np, probe_kernels as p
        first, second = (p.thread_ids_serial, p.thread_ids_parallel)[::int(sys.argv[1])]
        for f in (first, second):
            f(np.zeros(4096, np.int64))
        serial = p.thread_ids_serial(np.zeros(4096, np.int64))
        parallel = p.thread_ids_parallel(np.zeros(4096, np.int64))
        hits = sum(sum(f.stats.cache_hits.values()) for f in (first, second))
        print(int(serial.max()), int(parallel.max()), hits)
        """
    )
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "cache"), NUMBA_NUM_THREADS="2")
    env["PYTHONPATH"] = str(tmp_path) + os.pathsep + env["PYTHONPATH"]
    results = []
    for order in ["1", "-1"]:  # compile+save serial first, then load in reverse order
        done = subprocess.run(
            [sys.executable, "-c", run, order], env=env, cwd=tmp_path,
            capture_output=True, text=True, check=True,
        )
        results.append(done.stdout.split())
    assert results[0] == ["0", "1", "0"]  # fresh compile: parallel uses thread 1
    assert results[1] == ["0", "1", "2"]  # both loaded from disk, still distinct


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_optimizer_slots_never_hold_subnormal_numbers(dtype):
    """Slots decaying under zero gradients are flushed to 0 instead of turning subnormal
    (which makes every later step far slower)."""
    from kerasr.kernels import optimizers as opt
    tiny = np.finfo(dtype).tiny
    n = 4
    var = np.ones(n, dtype)
    grad = np.zeros(n, dtype)
    slots = {name: np.full(n, 1e-3, dtype) for name in ("velocity", "avg", "buf", "m", "v", "v2")}
    for _ in range(10000):
        opt.sgd_momentum_update(var, grad, slots["velocity"], 0.01, 0.5, False)
        opt.rmsprop_update(var, grad, slots["v"], 0.001, 0.5, 1e-7)
        opt.rmsprop_momentum_update(var, grad, slots["v2"], slots["avg"], slots["buf"],
                                    0.001, 0.5, 0.5, 1e-7, True)
        opt.adam_update(var, grad, slots["m"], slots["v"], 0.001, 0.5, 0.5, 1e-7)
    for name, slot in slots.items():
        assert np.all((slot == 0) | (np.abs(slot) >= tiny)), name
    assert np.all(slots["velocity"] == 0) and np.all(slots["m"] == 0)
