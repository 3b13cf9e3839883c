"""GaussianNoise, GaussianDropout and AlphaDropout: identity at inference, the right noise
statistics in training (large draws), gradients, reproducibility with set_random_seed, and
argument errors."""

import math

import numpy as np
import pytest

from kerasr import layers, set_random_seed
from kerasr.engine import GradientTape, Variable
from kerasr.layers.noise import SELU_ALPHA, SELU_SCALE
from kerasr.verbs.normalization import (layer_alpha_dropout, layer_gaussian_dropout,
                                        layer_gaussian_noise)

rng = np.random.default_rng(5)

ALPHA_P = -SELU_ALPHA * SELU_SCALE



def make_all():
    return [layers.GaussianNoise(0.5), layers.GaussianDropout(0.3), layers.AlphaDropout(0.2)]


@pytest.mark.parametrize("layer", make_all(), ids=lambda l: type(l).__name__)
def test_identity_at_inference(layer):
    x = rng.normal(size=(4, 5)).astype(np.float32)
    for training in (None, False):
        np.testing.assert_array_equal(layer(x, training=training).data, x)


@pytest.mark.parametrize("layer", make_all(), ids=lambda l: type(l).__name__)
def test_training_output_is_noisy_and_keeps_dtype_and_shape(layer):
    x = rng.normal(size=(4, 5)).astype(np.float32)
    out = layer(x, training=True)
    assert out.shape == x.shape and out.dtype == np.float32
    assert not np.allclose(out.data, x)
    assert layer.weights == [] and layer.compute_output_shape((None, 5)) == (None, 5)


def test_gaussian_noise_statistics_and_gradient(float64):
    layer = layers.GaussianNoise(0.3)
    x = Variable(rng.normal(size=(400, 500)))
    with GradientTape() as tape:
        out = layer(x, training=True)
        total = (out * 2.0).sum()
    noise = out.data - x.data
    assert abs(noise.mean()) < 0.003  # 200000 draws: standard error 0.0007
    assert abs(noise.std() - 0.3) < 0.003
    np.testing.assert_allclose(tape.gradient(total, x), 2.0)


def test_gaussian_dropout_statistics_and_gradient(float64):
    rate = 0.2
    layer = layers.GaussianDropout(rate)
    x = Variable(rng.uniform(1, 2, size=(400, 500)))
    with GradientTape() as tape:
        out = layer(x, training=True)
        total = out.sum()
    factor = out.data / x.data
    assert abs(factor.mean() - 1.0) < 0.005
    assert abs(factor.std() - math.sqrt(rate / (1 - rate))) < 0.005  # 0.5
    np.testing.assert_allclose(tape.gradient(total, x), factor, rtol=1e-12)


def test_alpha_dropout_keeps_mean_and_variance_of_standard_inputs(float64):
    rate = 0.25
    layer = layers.AlphaDropout(rate)
    x = Variable(rng.normal(size=(400, 500)))
    with GradientTape() as tape:
        out = layer(x, training=True)
        total = out.sum()
    a = ((1 - rate) * (1 + rate * ALPHA_P ** 2)) ** -0.5
    b = -a * ALPHA_P * rate
    dropped = np.isclose(out.data, a * ALPHA_P + b, rtol=0, atol=1e-12)
    assert abs(dropped.mean() - rate) < 0.005
    np.testing.assert_allclose(out.data[~dropped], a * x.data[~dropped] + b, rtol=1e-12)
    assert abs(out.data.mean()) < 0.01 and abs(out.data.var() - 1.0) < 0.01
    np.testing.assert_allclose(tape.gradient(total, x), np.where(dropped, 0.0, a), atol=1e-12)


def test_alpha_dropout_noise_shape_shares_the_mask(float64):
    layer = layers.AlphaDropout(0.5, noise_shape=(None, 1, 4))
    x = rng.normal(size=(30, 6, 4))
    a = (0.5 * (1 + 0.5 * ALPHA_P ** 2)) ** -0.5
    dropped = np.isclose(layer(x, training=True).data, a * ALPHA_P - a * ALPHA_P * 0.5, atol=1e-12)
    assert np.all(dropped == dropped[:, :1, :])  # the same along the time axis
    assert 0.35 < dropped.mean() < 0.65


@pytest.mark.parametrize("make", [lambda: layers.GaussianNoise(0.2), lambda: layers.GaussianDropout(0.4),
                                  lambda: layers.AlphaDropout(0.3)])
def test_set_random_seed_makes_the_noise_reproducible(make):
    x = rng.normal(size=(3, 7)).astype(np.float32)
    set_random_seed(123)
    first, second = make()(x, training=True).data, make()(x, training=True).data
    set_random_seed(123)
    again = make()(x, training=True).data
    np.testing.assert_array_equal(again, first)
    assert not np.array_equal(first, second)


def test_zero_rates_are_the_identity_even_in_training():
    x = rng.normal(size=(3, 4)).astype(np.float32)
    for layer in (layers.GaussianNoise(0), layers.GaussianDropout(0.0), layers.AlphaDropout(0)):
        np.testing.assert_array_equal(layer(x, training=True).data, x)


@pytest.mark.parametrize("make", [
    lambda: layers.GaussianNoise(-0.1), lambda: layers.GaussianNoise("0.1"),
    lambda: layers.GaussianNoise(float("inf")), lambda: layers.GaussianDropout(1.0),
    lambda: layers.GaussianDropout(-0.5), lambda: layers.AlphaDropout(1.0),
    lambda: layers.AlphaDropout(1.5),
])
def test_bad_arguments_are_value_errors(make):
    with pytest.raises(ValueError, match="(stddev|rate) must be"):
        make()


def test_verbs():
    noise = layer_gaussian_noise(0.1)
    assert isinstance(noise, layers.GaussianNoise) and noise.stddev == 0.1
    dropout = layer_gaussian_dropout(rate=0.3, seed=1)
    assert isinstance(dropout, layers.GaussianDropout) and (dropout.rate, dropout.seed) == (0.3, 1)
    alpha = layer_alpha_dropout(0.1, noise_shape=(None, 1))
    assert isinstance(alpha, layers.AlphaDropout) and alpha.noise_shape == (None, 1)
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal((x | layer_gaussian_noise(stddev=1.0)).data, x)  # inference
