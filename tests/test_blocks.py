"""kerasr's blocks: ResidualBlock (F(x) + x, projected when F changes the width) and
Highway (H T + x (1 - T)): values against numpy, weights, gradients in float64, errors, and
training inside a Sequential model."""

import numpy as np
import pytest

from kerasr import layers
from kerasr.models import Sequential
from kerasr.verbs.normalization import layer_highway, layer_residual_block

from gradcheck import check_layer_gradients

rng = np.random.default_rng(9)



def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ---- ResidualBlock -------------------------------------------------------------------------

def test_residual_block_adds_f_of_x_to_x(float64):
    dense = layers.Dense(4, activation="tanh")
    block = layers.ResidualBlock(dense)
    x = rng.normal(size=(3, 4))
    out = block(x)
    kernel, bias = dense.get_weights()
    np.testing.assert_allclose(out.data, np.tanh(x @ kernel + bias) + x, rtol=1e-12)
    assert block.projection is None
    assert [w.name for w in block.weights] == ["kernel", "bias"]
    assert block.weights[0] is dense.kernel  # the block owns F's weights


def test_residual_block_of_a_list_projects_x_when_the_width_changes(float64):
    first, second = layers.Dense(5, activation="relu"), layers.Dense(3)
    block = layers.ResidualBlock([first, second])
    x = rng.normal(size=(4, 2))
    out = block(x)
    assert isinstance(block.projection, layers.Dense) and not block.projection.use_bias
    w1, b1, w2, b2, projection = block.get_weights()
    assert projection.shape == (2, 3)
    expected = np.maximum(x @ w1 + b1, 0) @ w2 + b2 + x @ projection
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert block.count_params() == 2 * 5 + 5 + 5 * 3 + 3 + 2 * 3
    assert block.compute_output_shape((None, 2)) == (None, 3)


def test_residual_block_projection_choices(float64):
    x = rng.normal(size=(2, 3))
    forced = layers.ResidualBlock(layers.Dense(3), projection=True)
    forced(x)
    assert forced.projection is not None and forced.get_weights()[-1].shape == (3, 3)
    given = layers.Dense(4, name="my_projection")
    custom = layers.ResidualBlock(layers.Dense(4), projection=given)
    out = custom(x)
    assert custom.projection is given and out.shape == (2, 4)
    assert len(custom.weights) == 4
    refused = layers.ResidualBlock(layers.Dense(4), projection=False, name="res_x")
    with pytest.raises(ValueError, match="res_x: F\\(x\\) has 4 features and x has 3"):
        refused(x)


def test_residual_block_with_a_model_as_f_and_sequence_inputs(float64):
    f = Sequential([layers.Dense(6, activation="relu"), layers.Dense(3)])
    block = layers.ResidualBlock(f)
    x = rng.normal(size=(2, 5, 3))
    out = block(x)
    w1, b1, w2, b2 = f.get_weights()
    np.testing.assert_allclose(out.data, np.maximum(x @ w1 + b1, 0) @ w2 + b2 + x, rtol=1e-12)
    assert len(block.trainable_weights) == 4


def test_residual_block_rejects_f_changing_other_axes():
    block = layers.ResidualBlock(layers.Flatten(), name="res_y")
    with pytest.raises(ValueError, match="res_y: F maps inputs of shape \\(2, 3, 4\\)"):
        block(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="f must be a layer"):
        layers.ResidualBlock("dense")
    with pytest.raises(ValueError, match="projection must be"):
        layers.ResidualBlock(layers.Dense(2), projection="yes")


@pytest.mark.parametrize("make", [
    lambda: layers.ResidualBlock(layers.Dense(3, activation="tanh")),
    lambda: layers.ResidualBlock([layers.Dense(4, activation="sigmoid"), layers.Dense(2)]),
    lambda: layers.ResidualBlock([layers.Dense(3), layers.LayerNormalization()]),
], ids=["same-width", "projected", "with-layer-norm"])
def test_residual_block_gradients(float64, make):
    # x reaches the output twice (through F and the shortcut): the tape must sum both.
    check_layer_gradients(make(), rng.normal(size=(4, 3)))


def test_residual_block_passes_training_to_its_layers(float64):
    bn = layers.BatchNormalization(momentum=0.5)
    block = layers.ResidualBlock([layers.Dense(3), bn])
    x = rng.normal(size=(6, 3)) + 2
    inference = block(x).data
    np.testing.assert_array_equal(bn.moving_mean.data, 0)
    training = block(x, training=True)
    assert not np.allclose(bn.moving_mean.data, 0)
    assert not np.allclose(training.data, inference)
    np.testing.assert_allclose(training.data.mean(axis=0), x.mean(axis=0), atol=1e-9)  # F: mean 0
    check_layer_gradients(block, x, training=True)


# ---- Highway -------------------------------------------------------------------------------

def test_highway_matches_numpy(float64):
    layer = layers.Highway()
    x = rng.normal(size=(5, 4))
    layer(x)
    assert [w.name for w in layer.weights] == ["kernel", "bias", "transform_kernel",
                                              "transform_bias"]
    kernel, bias, t_kernel, t_bias = layer.get_weights()
    assert kernel.shape == t_kernel.shape == (4, 4)
    np.testing.assert_array_equal(t_bias, -2.0)  # starts mostly carrying x
    np.testing.assert_array_equal(bias, 0.0)
    weights = [rng.normal(size=(4, 4)), rng.normal(size=4), rng.normal(size=(4, 4)),
               rng.normal(size=4)]
    layer.set_weights(weights)
    h = np.maximum(x @ weights[0] + weights[1], 0)
    t = sigmoid(x @ weights[2] + weights[3])
    np.testing.assert_allclose(layer(x).data, h * t + x * (1 - t), rtol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "tanh", None, "softmax"])
def test_highway_gradients(float64, activation):
    layer = layers.Highway(activation=activation, transform_bias_initializer="zeros")
    x = rng.normal(size=(3, 5))
    layer(x)
    layer.set_weights([rng.normal(size=w.shape) for w in layer.get_weights()])
    check_layer_gradients(layer, x)


def test_highway_units_must_equal_the_input_dimension():
    layer = layers.Highway(units=8, name="hw_x")
    with pytest.raises(ValueError, match="hw_x: units \\(8\\) must equal the input's last "
                                         "dimension \\(5\\)"):
        layer(np.zeros((2, 5), np.float32))
    ok = layers.Highway(units=5)
    assert ok(np.zeros((2, 5), np.float32)).shape == (2, 5)
    with pytest.raises(ValueError, match="units must be a positive integer"):
        layers.Highway(units=0)


def test_highway_on_sequences_acts_on_the_last_axis(float64):
    layer = layers.Highway(activation="tanh")
    x = rng.normal(size=(2, 3, 4))
    out = layer(x)
    kernel, bias, t_kernel, t_bias = layer.get_weights()
    t = sigmoid(x @ t_kernel + t_bias)
    np.testing.assert_allclose(out.data, np.tanh(x @ kernel + bias) * t + x * (1 - t), rtol=1e-12)


# ---- verbs and training --------------------------------------------------------------------

def test_block_verbs():
    from kerasr import layer_dense
    block = layer_residual_block(layer_dense(units=4))
    assert isinstance(block, layers.ResidualBlock) and isinstance(block.f[0], layers.Dense)
    listed = layer_residual_block([layer_dense(units=4), layer_dense(units=2)])
    assert len(listed.f) == 2
    highway = layer_highway(activation="tanh")
    assert isinstance(highway, layers.Highway) and highway.units is None
    out = np.ones((2, 3), np.float32) | layer_residual_block(f=layer_dense(units=3))
    assert out.shape == (2, 3)


def test_a_residual_highway_network_trains():
    from kerasr import (compile, fit, keras_model_sequential, layer_activation, layer_dense,
                        set_random_seed)
    set_random_seed(4)
    data = np.random.default_rng(4)
    x = data.normal(size=(256, 6)).astype(np.float32)
    y = (np.sin(x[:, :1]) + x[:, 1:2] * x[:, 2:3]).astype(np.float32)
    model = keras_model_sequential()
    model | layer_dense(units=16, input_shape=6) \
        | layer_residual_block(f=[layer_dense(units=16, activation="relu"), layer_dense(units=16)]) \
        | layer_activation("relu") | layer_highway() | layer_dense(units=1)
    model | compile(optimizer="adam", loss="mse")
    assert len(model.trainable_weights) == 2 + 4 + 4 + 2
    losses = (model | fit(x, y, epochs=20, batch_size=32, verbose=0)).metrics["loss"]
    assert losses[-1] < 0.3 * losses[0]
