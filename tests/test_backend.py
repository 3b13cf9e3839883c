"""The k_* backend: values against numpy, gradients against central differences, settings."""

import numpy as np
import pytest

import kerasr
from kerasr import (k_abs, k_clip, k_concatenate, k_dot, k_epsilon, k_exp, k_floatx, k_log,
                    k_maximum, k_mean, k_minimum, k_relu, k_reshape, k_set_floatx, k_sigmoid,
                    k_softmax, k_sqrt, k_square, k_sum, k_tanh, k_transpose)
from kerasr.engine import Tensor

from gradcheck import check_gradients

rng = np.random.default_rng(3)
x = rng.standard_normal((3, 4))
x[np.abs(x) < 1e-2] = 0.3
positive = np.abs(x) + 0.5

CASES = [
    ("k_mean", lambda t: k_mean(t, axis=1), lambda a: a.mean(axis=1), x),
    ("k_sum", lambda t: k_sum(t, axis=0, keepdims=True), lambda a: a.sum(axis=0, keepdims=True), x),
    ("k_square", k_square, np.square, x),
    ("k_sqrt", k_sqrt, np.sqrt, positive),
    ("k_exp", k_exp, np.exp, x),
    ("k_log", k_log, np.log, positive),
    ("k_abs", k_abs, np.abs, x),
    ("k_clip", lambda t: k_clip(t, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5),
     np.where(np.abs(np.abs(x) - 0.5) < 1e-2, 0.1, x)),
    ("k_maximum", lambda t: k_maximum(t, 0.1), lambda a: np.maximum(a, 0.1), x + 0.05),
    ("k_minimum", lambda t: k_minimum(t, 0.1), lambda a: np.minimum(a, 0.1), x + 0.05),
    ("k_dot", lambda t: k_dot(t, np.ones((4, 2))), lambda a: a @ np.ones((4, 2)), x),
    ("k_reshape", lambda t: k_reshape(t, (2, 6)), lambda a: a.reshape(2, 6), x),
    ("k_transpose", k_transpose, np.transpose, x),
    ("k_concatenate", lambda t: k_concatenate([t, t * 2], axis=0),
     lambda a: np.concatenate([a, a * 2], axis=0), x),
    ("k_sigmoid", k_sigmoid, lambda a: 1 / (1 + np.exp(-a)), x),
    ("k_tanh", k_tanh, np.tanh, x),
    ("k_relu", k_relu, lambda a: np.maximum(a, 0), x),
    ("k_softmax", k_softmax, lambda a: np.exp(a) / np.exp(a).sum(-1, keepdims=True), x),
]


@pytest.mark.parametrize("name,fn,reference,data", CASES, ids=[c[0] for c in CASES])
def test_backend_function(name, fn, reference, data):
    np.testing.assert_allclose(fn(Tensor(data.copy())).data, reference(data), rtol=1e-10, atol=1e-12)
    check_gradients(fn, data)


def test_floatx_and_epsilon():
    assert k_floatx() == "float32" and k_epsilon() == 1e-7
    k_set_floatx("float64")
    try:
        assert k_floatx() == "float64"
        layer = kerasr.layers.Dense(2)
        assert layer(np.ones((1, 3))).dtype == np.float64
    finally:
        k_set_floatx("float32")
    with pytest.raises(ValueError, match="floatx"):
        k_set_floatx("float31")


def test_custom_loss_written_with_backend_ops_trains():
    from kerasr import compile, fit, keras_model_sequential, layer_dense, set_random_seed
    set_random_seed(0)

    def mean_fourth_power(y_true, y_pred):
        return k_mean(k_square(k_square(y_pred - y_true)), axis=-1)

    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]])).astype(np.float32)
    model = keras_model_sequential() | layer_dense(units=1, input_shape=3)
    model | compile(optimizer="adam", loss=mean_fourth_power)
    history = model | fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
