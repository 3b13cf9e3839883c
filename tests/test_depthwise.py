"""Depthwise, separable and locally connected convolutions: the kernels (both compiled
variants, float32 and float64) against the plain-loop references, the ops' channels_first
handling and Keras 2's channels_first bias, every layer through a float64 gradient check,
Keras's weight layouts and output shapes, the errors, the verbs, and the book's separable
convnet (§7.3) learning on synthetic images."""

import re

import numpy as np
import pytest

import reference as ref
from gradcheck import check_layer_gradients
from kerasr import (compile, evaluate, fit, keras_model_sequential, layer_dense, layer_flatten,
                    layer_input, set_random_seed, to_categorical)
from kerasr import layers
from kerasr.engine import Variable
from kerasr.kernels import depthwise as dw_kernels
from kerasr.kernels import locally_connected as lc_kernels
from kerasr.ops.depthwise import depthwise_conv
from kerasr.ops.locally_connected import locally_connected
from kerasr.verbs.depthwise import (layer_depthwise_conv_1d, layer_depthwise_conv_2d,
                                    layer_locally_connected_1d, layer_locally_connected_2d,
                                    layer_separable_conv_1d, layer_separable_conv_2d)

VARIANTS = ["serial", "parallel"]
DTYPES = [np.float32, np.float64]

rng = np.random.default_rng(5)


def c(*values):
    """R's c()."""
    return values


def assert_close(actual, expected, dtype):
    tol = {"rtol": 1e-12, "atol": 1e-12} if dtype == np.float64 else {"rtol": 2e-5, "atol": 2e-5}
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, **tol)


@pytest.fixture(params=VARIANTS)
def variant(request, monkeypatch):
    """Makes the kernel modules' entry points take the serial or the parallel compilation."""
    index = VARIANTS.index(request.param)
    for module in (dw_kernels, lc_kernels):
        monkeypatch.setattr(module, "pick", lambda pair, n_elements: pair[index])
    return request.param


# ---------------------------------------------------------------- depthwise kernels

# (spatial, kernel_size, channels, depth multiplier, strides, dilation, padding)
DEPTHWISE_CASES = [
    ((7, 6), (3, 3), 3, 1, (1, 1), (1, 1), "valid"),
    ((7, 6), (3, 2), 3, 2, (2, 1), (1, 1), "same"),
    ((8, 9), (2, 3), 4, 3, (1, 1), (2, 2), "same"),
    ((9, 8), (3, 3), 2, 1, (1, 1), (2, 3), "valid"),
    ((6, 7), (4, 4), 5, 1, (3, 2), (1, 1), "same"),
    ((1, 11), (1, 3), 4, 2, (1, 2), (1, 1), "same"),   # 1-D as height 1
    ((1, 12), (1, 4), 3, 1, (1, 1), (1, 3), "valid"),
]


@pytest.mark.parametrize("case", DEPTHWISE_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_depthwise_kernels_match_reference(case, dtype, variant):
    spatial, k, channels, mult, strides, dilation, padding = case
    x = rng.standard_normal((3,) + spatial + (channels,)).astype(dtype)
    w = rng.standard_normal(k + (channels, mult)).astype(dtype)
    expected = ref.ref_depthwise_conv(x, w, strides, padding, dilation)
    geometry = [ref.ref_conv_geometry(n, kk, s, d, padding)
                for n, kk, s, d in zip(spatial, k, strides, dilation)]
    pads = tuple(before for _, before in geometry)
    out = np.empty(expected.shape, dtype=dtype)
    dw_kernels.depthwise_forward(x, w, strides, dilation, pads, out)
    assert_close(out, expected, dtype)
    g = rng.standard_normal(expected.shape).astype(dtype)
    dx_ref, dk_ref = ref.ref_depthwise_conv_grads(x, w, g, strides, padding, dilation)
    dx = dw_kernels.depthwise_backward_input(g, w, strides, dilation, pads, np.empty_like(x))
    dk = dw_kernels.depthwise_backward_weight(x, g, strides, dilation, pads, np.empty_like(w))
    assert dx.dtype == dtype and dk.dtype == dtype
    assert_close(dx, dx_ref, dtype)
    assert_close(dk, dk_ref, dtype)


def test_depthwise_kernels_are_deterministic_and_variant_independent(monkeypatch):
    x = rng.standard_normal((4, 9, 9, 6)).astype(np.float32)
    w = rng.standard_normal((3, 3, 6, 2)).astype(np.float32)
    g = rng.standard_normal((4, 7, 7, 12)).astype(np.float32)
    results = []
    for index in (0, 1, 1):
        monkeypatch.setattr(dw_kernels, "pick", lambda pair, n, index=index: pair[index])
        geo = ((1, 1), (1, 1), (0, 0))
        results.append((dw_kernels.depthwise_forward(x, w, *geo, np.empty_like(g)),
                        dw_kernels.depthwise_backward_input(g, w, *geo, np.empty_like(x)),
                        dw_kernels.depthwise_backward_weight(x, g, *geo, np.empty_like(w))))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- locally connected kernels

# (spatial, kernel_size, channels, filters, strides)
LOCAL_CASES = [
    ((5, 6), (3, 2), 3, 4, (1, 1)),
    ((7, 6), (3, 2), 2, 3, (2, 3)),
    ((6, 6), (2, 2), 1, 2, (2, 2)),
    ((1, 9), (1, 3), 4, 2, (1, 2)),
]


@pytest.mark.parametrize("case", LOCAL_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_locally_connected_kernels_match_reference(case, data_format, dtype, variant):
    spatial, k, channels, filters, strides = case
    first = data_format == "channels_first"
    x = rng.standard_normal((3,) + spatial + (channels,)).astype(dtype)
    out_shape = tuple((n - kk) // s + 1 for n, kk, s in zip(spatial, k, strides))
    n_pos = int(np.prod(out_shape))
    w = rng.standard_normal((n_pos, int(np.prod(k)) * channels, filters)).astype(dtype)
    x_in = np.moveaxis(x, -1, 1) if first else x
    expected = ref.ref_local_conv(x_in, w, k, strides, data_format)
    g = rng.standard_normal(expected.shape).astype(dtype)
    dx_ref, dk_ref = ref.ref_local_conv_grads(x_in, w, g, k, strides, data_format)
    if first:  # the kernels work channels-last; only the patch order follows the format
        expected, g, dx_ref = (np.moveaxis(a, 1, -1) for a in (expected, g, dx_ref))
    g = np.ascontiguousarray(g).reshape(3, n_pos, filters)
    patches = lc_kernels.local_patches(x, k, strides, out_shape, first)
    out = lc_kernels.local_forward(patches, w, np.empty((3, n_pos, filters), dtype))
    assert_close(out.reshape(expected.shape), expected, dtype)
    dx = lc_kernels.local_backward_input(g, w, k, strides, out_shape[1], first, np.empty_like(x))
    dk = lc_kernels.local_backward_weight(patches, g)
    assert dx.dtype == dtype and dk.dtype == dtype
    assert_close(dx, dx_ref, dtype)
    assert_close(dk, dk_ref, dtype)


# ---------------------------------------------------------------- ops


@pytest.mark.parametrize("rank", [1, 2])
def test_depthwise_op_channels_first_matches_channels_last(rank):
    spatial = (7,) if rank == 1 else (7, 6)
    x = rng.standard_normal((2,) + spatial + (3,))
    w = rng.standard_normal((3,) * rank + (3, 2))
    bias = rng.standard_normal(6)
    last = depthwise_conv(x, Variable(w), Variable(bias), strides=2, padding="same",
                          activation="tanh")
    first = depthwise_conv(np.moveaxis(x, -1, 1), Variable(w), Variable(bias), strides=2,
                           padding="same", data_format="channels_first", activation="tanh")
    np.testing.assert_allclose(np.moveaxis(first.data, 1, -1), last.data, rtol=1e-12)
    x2 = x if rank == 2 else x[:, None]
    w2 = w if rank == 2 else w[None]
    expected = ref.ref_depthwise_conv(x2, w2, (1, 2) if rank == 1 else (2, 2), "same", (1, 1))
    expected = np.tanh(expected + bias)
    np.testing.assert_allclose(last.data, expected if rank == 2 else expected[:, 0], rtol=1e-12)


@pytest.mark.parametrize("rank", [1, 2])
def test_locally_connected_channels_first_bias_is_keras_2s_reshape(rank):
    """Keras 2 adds a channels-first layer's bias (*out, filters) reshaped, not transposed, to
    (filters, *out): weights then trade with Keras unchanged."""
    spatial, k = ((7,), (3,)) if rank == 1 else ((5, 4), (2, 2))
    x = rng.standard_normal((2, 3) + spatial)
    out_spatial = tuple(n - kk + 1 for n, kk in zip(spatial, k))
    w = rng.standard_normal((int(np.prod(out_spatial)), int(np.prod(k)) * 3, 4))
    bias = rng.standard_normal(out_spatial + (4,))
    out = locally_connected(x, Variable(w), Variable(bias), kernel_size=k,
                            data_format="channels_first")
    expected = ref.ref_local_conv(x, w, k, (1,) * rank, "channels_first") + \
        bias.reshape((1, 4) + out_spatial)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)


# ---------------------------------------------------------------- layers: values and weights


def test_depthwise_layer_matches_reference_and_keras_weight_layout():
    layer = layers.DepthwiseConv2D(kernel_size=c(3, 2), depth_multiplier=2, padding="same",
                                   activation="relu")
    x = rng.standard_normal((2, 6, 5, 3)).astype(np.float32)
    out = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 3, 2) and bias.shape == (6,)
    assert [v.name for v in layer.weights] == ["kernel", "bias"]
    assert out.shape == (2, 6, 5, 6) and out.dtype == np.float32
    expected = np.maximum(ref.ref_depthwise_conv(x, kernel, (1, 1), "same", (1, 1)) + bias, 0)
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-5)


def test_separable_layer_is_depthwise_then_pointwise():
    layer = layers.SeparableConv2D(4, 3, depth_multiplier=2, strides=2, activation="elu")
    x = rng.standard_normal((2, 7, 8, 3)).astype(np.float32)
    out = layer(x)
    depthwise, pointwise, bias = layer.get_weights()
    assert depthwise.shape == (3, 3, 3, 2) and pointwise.shape == (1, 1, 6, 4)
    assert bias.shape == (4,)
    assert [v.name for v in layer.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]
    z = ref.ref_depthwise_conv(x, depthwise, (2, 2), "valid", (1, 1)) @ pointwise[0, 0] + bias
    np.testing.assert_allclose(out.data, np.where(z > 0, z, np.expm1(z)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_locally_connected_layer_matches_reference_with_keras_2_layout(data_format):
    layer = layers.LocallyConnected2D(5, c(3, 2), strides=c(2, 1), data_format=data_format)
    shape = (2, 7, 6, 3) if data_format == "channels_last" else (2, 3, 7, 6)
    x = rng.standard_normal(shape).astype(np.float32)
    out = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3 * 5, 3 * 2 * 3, 5) and bias.shape == (3, 5, 5)
    bias = rng.standard_normal(bias.shape).astype(np.float32)
    layer.set_weights([kernel, bias])
    out = layer(x)
    expected = ref.ref_local_conv(x, kernel, (3, 2), (2, 1), data_format)
    if data_format == "channels_first":
        assert out.shape == (2, 5, 3, 5)
        expected = expected + bias.reshape((1, 5, 3, 5))
    else:
        assert out.shape == (2, 3, 5, 5)
        expected = expected + bias
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-5)


def test_locally_connected_1d_weight_layout():
    layer = layers.LocallyConnected1D(4, 3, strides=2)
    out = layer(np.zeros((2, 9, 5), np.float32))
    assert out.shape == (2, 4, 4)
    assert [w.shape for w in layer.get_weights()] == [(4, 15, 4), (4, 4)]


# ---------------------------------------------------------------- gradient checks (float64)


def _near_zero_free(shape):
    x = rng.standard_normal(shape)
    x[np.abs(x) < 1e-2] = 0.5
    return x


GRADIENT_LAYERS = [
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=2, activation="tanh"), (2, 5, 4, 3)),
    (lambda: layers.DepthwiseConv2D(c(2, 3), strides=2, padding="same", use_bias=False),
     (2, 5, 6, 2)),
    (lambda: layers.DepthwiseConv2D(2, dilation_rate=2, padding="same", activation="softmax",
                                    data_format="channels_first"), (2, 2, 5, 4)),
    (lambda: layers.DepthwiseConv1D(3, depth_multiplier=3, padding="same", activation="elu",
                                    depthwise_regularizer="l2"), (2, 6, 2)),
    (lambda: layers.DepthwiseConv1D(2, strides=2, data_format="channels_first"), (2, 3, 7)),
    (lambda: layers.SeparableConv2D(3, 3, depth_multiplier=2, activation="tanh"), (2, 5, 4, 2)),
    (lambda: layers.SeparableConv2D(2, 2, strides=c(2, 1), padding="same", use_bias=False,
                                    data_format="channels_first"), (2, 3, 5, 4)),
    (lambda: layers.SeparableConv1D(3, 3, dilation_rate=2, padding="same", activation="sigmoid",
                                    pointwise_regularizer="l1_l2"), (2, 7, 2)),
    (lambda: layers.LocallyConnected2D(2, 2, strides=c(1, 2), activation="tanh"), (2, 4, 5, 2)),
    (lambda: layers.LocallyConnected2D(2, c(2, 3), data_format="channels_first",
                                       activation="softmax"), (2, 2, 4, 4)),
    (lambda: layers.LocallyConnected1D(3, 2, strides=2, use_bias=False), (2, 7, 2)),
    (lambda: layers.LocallyConnected1D(2, 3, data_format="channels_first", activation="elu",
                                       kernel_regularizer="l2"), (2, 3, 6)),
]


@pytest.mark.parametrize("make, shape", GRADIENT_LAYERS)
def test_layer_gradients(float64, make, shape):
    layer = make()
    x = _near_zero_free(shape)
    layer(x)
    # Non-trivial biases, so activations are not all evaluated around 0.
    layer.set_weights([rng.standard_normal(w.shape) * (0.5 if w.ndim == 1 else 1.0)
                       for w in layer.get_weights()])
    assert layer(x).dtype == np.float64
    check_layer_gradients(layer, x)


# ---------------------------------------------------------------- output shapes


SHAPE_TABLE = [
    # Keras: valid -> (n - (k - 1) * d - 1) // s + 1, same -> ceil(n / s)
    (lambda: layers.DepthwiseConv2D(3), (None, 28, 28, 3), (None, 26, 26, 3)),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=4), (None, 28, 28, 3), (None, 26, 26, 12)),
    (lambda: layers.DepthwiseConv2D(3, strides=2), (None, 28, 27, 3), (None, 13, 13, 3)),
    (lambda: layers.DepthwiseConv2D(3, strides=2, padding="same"), (None, 28, 27, 3),
     (None, 14, 14, 3)),
    (lambda: layers.DepthwiseConv2D(3, dilation_rate=c(2, 3)), (None, 28, 27, 3),
     (None, 24, 21, 3)),
    (lambda: layers.DepthwiseConv2D(c(5, 1), data_format="channels_first"), (None, 2, 9, 9),
     (None, 2, 5, 9)),
    (lambda: layers.DepthwiseConv2D(3), (None, None, 10, 3), (None, None, 8, 3)),
    (lambda: layers.DepthwiseConv1D(7, depth_multiplier=2), (None, 500, 128), (None, 494, 256)),
    (lambda: layers.DepthwiseConv1D(4, strides=3, padding="same"), (None, 10, 2), (None, 4, 2)),
    (lambda: layers.SeparableConv2D(32, 3), (None, 64, 64, 3), (None, 62, 62, 32)),
    (lambda: layers.SeparableConv2D(8, 3, strides=2, padding="same"), (None, 15, 16, 3),
     (None, 8, 8, 8)),
    (lambda: layers.SeparableConv2D(8, 3, data_format="channels_first"), (None, 3, 15, 16),
     (None, 8, 13, 14)),
    (lambda: layers.SeparableConv1D(16, 5, dilation_rate=2), (None, 20, 4), (None, 12, 16)),
    (lambda: layers.LocallyConnected2D(64, 3), (None, 32, 32, 3), (None, 30, 30, 64)),
    (lambda: layers.LocallyConnected2D(4, c(3, 2), strides=c(2, 3)), (None, 9, 10, 3),
     (None, 4, 3, 4)),
    (lambda: layers.LocallyConnected2D(4, 3, data_format="channels_first"), (None, 3, 6, 5),
     (None, 4, 4, 3)),
    (lambda: layers.LocallyConnected1D(64, 3), (None, 10, 32), (None, 8, 64)),
    (lambda: layers.LocallyConnected1D(2, 3, strides=2), (None, 10, 3), (None, 4, 2)),
]


@pytest.mark.parametrize("make, input_shape, expected", SHAPE_TABLE)
def test_output_shapes_follow_keras_formulas(make, input_shape, expected):
    layer = make()
    if None in input_shape[1:]:
        assert layer.compute_output_shape(input_shape) == expected
        return
    symbolic = layer(layer_input(shape=input_shape[1:]))
    assert symbolic.shape == expected
    eager = layer(np.zeros((2,) + input_shape[1:], np.float32))
    assert eager.shape == (2,) + expected[1:]


def test_parameter_counts_match_keras():
    # Keras: depthwise k*k*C*M + C*M; separable k*k*C*M + C*M*F + F; LC P*(k*k*C*F) + P*F.
    cases = [(layers.DepthwiseConv2D(3, depth_multiplier=2), (8, 8, 3), 3 * 3 * 3 * 2 + 6),
             (layers.SeparableConv2D(32, 3), (64, 64, 3), 27 + 3 * 32 + 32),
             (layers.SeparableConv1D(8, 5, use_bias=False), (20, 4), 20 + 32),
             (layers.LocallyConnected2D(64, 3), (32, 32, 3),
              30 * 30 * 3 * 3 * 3 * 64 + 30 * 30 * 64),
             (layers.LocallyConnected1D(64, 3), (10, 32), 8 * 3 * 32 * 64 + 8 * 64)]
    for layer, shape, count in cases:
        layer(layer_input(shape=shape))
        assert layer.count_params() == count, layer.name


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("make, message", [
    (lambda: layers.DepthwiseConv2D(0), "kernel_size must be a positive integer"),
    (lambda: layers.DepthwiseConv2D(c(3, 3, 3)), "kernel_size must be"),
    (lambda: layers.DepthwiseConv2D(3, strides=0), "strides must be"),
    (lambda: layers.DepthwiseConv2D(3, strides=-1), "strides must be"),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier must be"),
    (lambda: layers.DepthwiseConv1D(2.5), "kernel_size must be"),
    (lambda: layers.DepthwiseConv2D(3, strides=2, dilation_rate=2), "strides > 1 cannot be"),
    (lambda: layers.SeparableConv1D(4, 3, strides=2, dilation_rate=2), "strides > 1 cannot be"),
    (lambda: layers.DepthwiseConv2D(3, padding="causal"), "padding must be"),
    (lambda: layers.DepthwiseConv2D(3, data_format="NHWC"), "data_format must be"),
    (lambda: layers.SeparableConv2D(0, 3), "filters must be a positive integer"),
    (lambda: layers.SeparableConv2D(4, 3, dilation_rate=0), "dilation_rate must be"),
    (lambda: layers.LocallyConnected2D(4, 3, padding="same"), "padding must be 'valid'"),
    (lambda: layers.LocallyConnected1D(-1, 3), "filters must be"),
    (lambda: layers.LocallyConnected1D(4, 3, implementation=4), "implementation must be"),
])
def test_bad_arguments_are_value_errors_naming_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_kernel_larger_than_input_names_the_layer():
    with pytest.raises(ValueError, match="dw_big: the kernel .* larger than the input"):
        layers.DepthwiseConv2D(5, name="dw_big")(np.zeros((1, 4, 6, 2), np.float32))
    with pytest.raises(ValueError, match="sep_big: the kernel .* larger than the input"):
        layers.SeparableConv1D(2, 3, dilation_rate=3, name="sep_big")(layer_input(shape=c(6, 2)))
    with pytest.raises(ValueError, match="lc_big: the kernel .* larger than the input"):
        layers.LocallyConnected2D(2, 3, name="lc_big")(np.zeros((1, 2, 5, 1), np.float32))
    # "same" padding never runs out of input
    same = layers.DepthwiseConv2D(5, padding="same")
    assert same(np.zeros((1, 4, 6, 2), np.float32)).shape == (1, 4, 6, 2)


def test_channel_and_rank_mismatches_name_the_layer():
    layer = layers.DepthwiseConv2D(3, name="dw_x")
    layer(np.zeros((2, 8, 7, 3), np.float32))
    with pytest.raises(ValueError,
                       match=r"dw_x expects input of shape \(None, 8, 7, 3\), got \(2, 8, 7, 4\)"):
        layer(np.zeros((2, 8, 7, 4), np.float32))
    with pytest.raises(ValueError, match=r"dw_x expects input of shape"):
        layer(np.zeros((2, 8, 3), np.float32))
    with pytest.raises(ValueError, match=r"sep_1d expects input of rank 3"):
        layers.SeparableConv1D(2, 3, name="sep_1d")(np.zeros((2, 8, 7, 3), np.float32))
    with pytest.raises(ValueError, match=r"sep_cf needs the number of input channels"):
        layers.SeparableConv2D(2, 3, name="sep_cf", data_format="channels_first")(
            layer_input(batch_shape=(None, None, 8, 8)))


def test_locally_connected_needs_fixed_spatial_sizes():
    with pytest.raises(ValueError, match="lc_none needs fully known spatial dimensions"):
        layers.LocallyConnected1D(2, 3, name="lc_none")(layer_input(shape=c(None, 4)))
    layer = layers.LocallyConnected2D(2, 3, name="lc_fixed")
    layer(np.zeros((1, 6, 6, 2), np.float32))
    with pytest.raises(ValueError,
                       match=r"lc_fixed expects input of shape \(None, 6, 6, 2\), "
                             r"got \(1, 7, 6, 2\)"):
        layer(np.zeros((1, 7, 6, 2), np.float32))


# ---------------------------------------------------------------- configs and verbs


@pytest.mark.parametrize("make", [
    lambda: layers.DepthwiseConv1D(3, strides=2, depth_multiplier=2, activation="relu",
                                   depthwise_regularizer="l2", bias_constraint="non_neg"),
    lambda: layers.DepthwiseConv2D(c(3, 1), padding="same", dilation_rate=2, use_bias=False),
    lambda: layers.SeparableConv1D(4, 3, padding="same", pointwise_initializer="he_normal"),
    lambda: layers.SeparableConv2D(4, 3, data_format="channels_first", depth_multiplier=3,
                                   activation="tanh", pointwise_constraint="unit_norm"),
    lambda: layers.LocallyConnected1D(4, 3, kernel_regularizer="l1", implementation=2),
    lambda: layers.LocallyConnected2D(4, c(2, 3), strides=2, activation="sigmoid"),
])
def test_configs_are_complete_and_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    assert isinstance(config["kernel_size"], tuple) and isinstance(config["strides"], tuple)


def test_verbs_build_the_layers_from_r_style_arguments():
    model = keras_model_sequential() | \
        layer_separable_conv_2d(filters=8, kernel_size=c(3, 3), activation="relu",
                                input_shape=c(12, 12, 3)) | \
        layer_depthwise_conv_2d(kernel_size=3, depth_multiplier=2, strides=2) | \
        layer_locally_connected_2d(filters=4, kernel_size=2) | layer_flatten() | \
        layer_dense(units=2)
    assert [layer.output_shape for layer in model.layers] == [
        (None, 10, 10, 8), (None, 4, 4, 16), (None, 3, 3, 4), (None, 36), (None, 2)]
    x = layer_input(shape=c(20, 4))
    y = x | layer_separable_conv_1d(filters=6, kernel_size=3) | \
        layer_depthwise_conv_1d(kernel_size=3, padding="same") | \
        layer_locally_connected_1d(filters=2, kernel_size=3, strides=2)
    assert y.shape == (None, 8, 2)
    layer = layer_depthwise_conv_2d(3)
    assert isinstance(layer, layers.DepthwiseConv2D) and layer.kernel_size == (3, 3)
    assert layer_locally_connected_1d(5, kernel_size=3).filters == 5


# ---------------------------------------------------------------- the book's separable convnet


def test_book_separable_convnet_learns_on_synthetic_images():
    """§7.3's stack of layer_separable_conv_2d on 64x64x3 images; strides stand in for the
    max pooling and layer_flatten for the global pooling (other layers' business). A class is
    the quadrant holding a bright square.

    Adam on standardized images, not the book's rmsprop on [0, 1] ones: Keras's glorot
    initialization of a depthwise kernel counts fan_in = k*k*channels, so activations shrink
    ~3x per separable layer, and RMSprop's epsilon under the square root (as Keras 3's)
    damps the tiny gradients that result; training sat on a plateau (Keras does the same).
    """
    set_random_seed(3)
    model = keras_model_sequential() | \
        layer_separable_conv_2d(filters=32, kernel_size=3, activation="relu",
                                input_shape=c(64, 64, 3)) | \
        layer_separable_conv_2d(filters=64, kernel_size=3, strides=2, activation="relu") | \
        layer_separable_conv_2d(filters=64, kernel_size=3, strides=2, activation="relu") | \
        layer_separable_conv_2d(filters=32, kernel_size=3, strides=2, activation="relu") | \
        layer_flatten() | layer_dense(units=32, activation="relu") | \
        layer_dense(units=4, activation="softmax")
    assert [layer.output_shape for layer in model.layers][:4] == [
        (None, 62, 62, 32), (None, 30, 30, 64), (None, 14, 14, 64), (None, 6, 6, 32)]
    model | compile(optimizer="adam", loss="categorical_crossentropy", metrics="accuracy")
    data_rng = np.random.default_rng(3)
    n = 320
    labels = data_rng.integers(0, 4, n)
    x = data_rng.random((n, 64, 64, 3), dtype=np.float32) * 0.3
    for i, label in enumerate(labels):
        row, col = divmod(int(label), 2)
        top, left = 6 + 32 * row + data_rng.integers(0, 8), 6 + 32 * col + data_rng.integers(0, 8)
        x[i, top:top + 12, left:left + 12, :] += 0.7
    x = (x - x.mean()) / x.std()
    y = to_categorical(labels, 4)
    history = model | fit(x[:256], y[:256], epochs=7, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert (model | evaluate(x[256:], y[256:], verbose=0))["accuracy"] > 0.8


def test_default_names_are_keras_names():
    for layer, base in [(layers.DepthwiseConv1D(3), "depthwise_conv1d"),
                        (layers.DepthwiseConv2D(3), "depthwise_conv2d"),
                        (layers.SeparableConv2D(2, 3), "separable_conv2d"),
                        (layers.LocallyConnected1D(2, 3), "locally_connected1d")]:
        assert re.fullmatch(base + r"(_\d+)?", layer.name), layer.name
