"""Core layers: output values and shapes, Keras's weight layouts, gradient checks in float64,
and clear errors for bad arguments and inputs."""

import numpy as np
import pytest

from kerasr import layers
from kerasr.engine import Tensor

from gradcheck import check_layer_gradients
from reference import ref_activation

rng = np.random.default_rng(7)



def test_dense_matches_numpy_and_uses_keras_weight_layout():
    layer = layers.Dense(4, activation="relu")
    x = rng.standard_normal((3, 5)).astype(np.float32)
    out = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (5, 4) and bias.shape == (4,)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, np.maximum(x @ kernel + bias, 0), rtol=1e-6)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "softmax", "elu", "gelu", None])
def test_dense_gradients(float64, activation):
    layer = layers.Dense(3, activation=activation, kernel_regularizer="l2")
    x = rng.standard_normal((4, 5))
    layer(x)
    layer.set_weights([rng.standard_normal((5, 3)), rng.standard_normal(3)])
    check_layer_gradients(layer, x)


def test_dense_on_sequences_acts_on_last_axis():
    layer = layers.Dense(2)
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    out = layer(x)
    kernel, bias = layer.get_weights()
    assert out.shape == (3, 4, 2)
    np.testing.assert_allclose(out.data, x @ kernel + bias, rtol=1e-5, atol=1e-6)


def test_dense_rejects_wrong_feature_count_naming_the_layer():
    layer = layers.Dense(4, name="dense_x")
    layer(np.zeros((2, 784), dtype=np.float32))
    with pytest.raises(ValueError, match=r"dense_x expects input of shape \(None, 784\), got \(32, 28\)"):
        layer(np.zeros((32, 28), dtype=np.float32))


@pytest.mark.parametrize("make", [
    lambda: layers.Dense(0), lambda: layers.Dense(-3), lambda: layers.Dense(2.5),
    lambda: layers.Dropout(1.5), lambda: layers.Dropout(-0.1), lambda: layers.Dropout(1.0),
    lambda: layers.RepeatVector(0), lambda: layers.Embedding(0, 3), lambda: layers.Permute((1, 3)),
    lambda: layers.Reshape((-1, -1)), lambda: layers.LeakyReLU(-1.0),
])
def test_out_of_range_arguments_are_value_errors(make):
    with pytest.raises(ValueError):
        make()


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match="Valid names: .*relu"):
        layers.Dense(3, activation="rleu")


def test_unknown_initializer_lists_valid_names():
    with pytest.raises(ValueError, match="glorot_uniform"):
        layers.Dense(3, kernel_initializer="glorot_unifrom")


def test_activation_layers(float64):
    x = rng.standard_normal((3, 4)) * 2
    x[np.abs(x) < 1e-2] = 0.5
    x[np.abs(x - 1.0) < 1e-2] = 0.5
    cases = [
        (layers.Activation("tanh"), np.tanh(x)),
        (layers.ReLU(), np.maximum(x, 0)),
        (layers.ReLU(max_value=1.0), np.clip(x, 0, 1)),
        (layers.LeakyReLU(0.1), np.where(x > 0, x, 0.1 * x)),
        (layers.ELU(0.5), ref_activation(x, "elu", 0.5)),
        (layers.ThresholdedReLU(1.0), np.where(x > 1.0, x, 0.0)),
        (layers.Softmax(), np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
        (layers.PReLU(alpha_initializer="ones"), x),
    ]
    for layer, expected in cases:
        np.testing.assert_allclose(layer(x).data, expected, rtol=1e-10, err_msg=layer.name)
        check_layer_gradients(layer, x)


def test_prelu_learns_alpha_per_unit_and_shares_axes(float64):
    layer = layers.PReLU(shared_axes=[1])
    x = rng.standard_normal((2, 3, 4))
    x[np.abs(x) < 1e-2] = 0.5
    layer(x)
    assert layer.alpha.shape == (1, 4)
    layer.set_weights([rng.uniform(0.1, 0.5, (1, 4))])
    check_layer_gradients(layer, x)


def test_dropout_only_in_training():
    layer = layers.Dropout(0.5)
    x = np.ones((100, 10), dtype=np.float32)
    np.testing.assert_array_equal(layer(x).data, x)
    trained = layer(x, training=True).data
    assert set(np.unique(trained)) <= {0.0, 2.0}
    assert 0.35 < (trained == 0).mean() < 0.65


def test_shape_layers(float64):
    x = rng.standard_normal((2, 3, 4))
    assert layers.Flatten()(x).shape == (2, 12)
    assert layers.Reshape((4, 3))(x).shape == (2, 4, 3)
    assert layers.Reshape((-1, 2))(x).shape == (2, 6, 2)
    np.testing.assert_array_equal(layers.Permute((2, 1))(x).data, x.transpose(0, 2, 1))
    repeated = layers.RepeatVector(3)(x[:, 0, :])
    assert repeated.shape == (2, 3, 4)
    np.testing.assert_array_equal(repeated.data[:, 1], x[:, 0, :])
    for layer in [layers.Flatten(), layers.Reshape((12, 1)), layers.Permute((2, 1))]:
        check_layer_gradients(layer, x)
    check_layer_gradients(layers.RepeatVector(2), x[:, 0, :])


def test_reshape_with_wrong_size_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot reshape"):
        layers.Reshape((5, 5))(np.zeros((2, 12), dtype=np.float32))


def test_lambda_layer_is_differentiated_through_backend_ops(float64):
    from kerasr import k_square, k_sum
    layer = layers.Lambda(lambda t: k_sum(k_square(t), axis=-1, keepdims=True))
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(layer(x).data, (x ** 2).sum(-1, keepdims=True))
    check_layer_gradients(layer, x)


def test_activity_regularization_adds_a_loss():
    layer = layers.ActivityRegularization(l1=0.1, l2=0.0)
    x = np.array([[1.0, -2.0], [3.0, 0.0]], dtype=np.float32)
    out = layer(x)
    np.testing.assert_array_equal(out.data, x)
    # Keras divides the activity penalty by the batch size.
    np.testing.assert_allclose(float(layer.losses[0].data), 0.1 * 6.0 / 2, rtol=1e-6)


def test_masking_zeroes_masked_steps_and_sets_the_mask():
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]], dtype=np.float32)
    out = layers.Masking(0.0)(x)
    np.testing.assert_array_equal(out._keras_mask, [[True, False, True]])
    np.testing.assert_array_equal(out.data, x)


def test_masking_gradient(float64):
    # A masked step sits on a kink (any change unmasks it), so check unmasked data only.
    layer = layers.Masking(0.0)
    check_layer_gradients(layer, rng.standard_normal((2, 3, 4)))


def test_embedding_lookup_mask_and_gradient(float64):
    layer = layers.Embedding(10, 3, mask_zero=True)
    idx = np.array([[1, 2, 0], [9, 0, 0]])
    out = layer(idx)
    table = layer.get_weights()[0]
    assert table.shape == (10, 3)
    np.testing.assert_array_equal(out.data, table[idx])
    np.testing.assert_array_equal(out._keras_mask, idx != 0)
    assert np.abs(table).max() <= 0.05  # Keras's default uniform(-0.05, 0.05)
    check_layer_gradients(layer, idx, wrt_input=False)


def test_embedding_rejects_out_of_range_and_fractional_indices():
    layer = layers.Embedding(5, 2, name="emb")
    with pytest.raises(ValueError, match=r"emb expects indices in \[0, 5\)"):
        layer(np.array([[1, 5]]))
    with pytest.raises(ValueError, match="integer"):
        layer(np.array([[1.5, 2.0]]))


def test_get_and_set_weights_check_shapes():
    layer = layers.Dense(2)
    layer(np.zeros((1, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"kernel.*\(3, 2\).*\(2, 2\)"):
        layer.set_weights([np.zeros((2, 2)), np.zeros(2)])
    with pytest.raises(ValueError, match="expects 2 weight arrays"):
        layer.set_weights([np.zeros((3, 2))])
    layer.set_weights([np.ones((3, 2)), np.arange(2)])
    np.testing.assert_array_equal(layer.get_weights()[1], [0, 1])


def test_non_numeric_input_is_a_clear_error():
    with pytest.raises(ValueError, match="numeric"):
        layers.Dense(2)(np.array([["a", "b"]]))


def test_layer_names_count_up_per_kind():
    from kerasr import k_clear_session
    k_clear_session()
    assert [layers.Dense(1).name, layers.Dense(1).name, layers.Dropout(0.1).name] == \
        ["dense", "dense_1", "dropout"]


def test_inputs_as_tensor_keep_their_graph():
    t = Tensor(np.ones((2, 3), dtype=np.float32))
    assert layers.Dense(2)(t).shape == (2, 2)
