"""Convolution + pooling fused for inference: the kernel against the float64 loop reference
and, bit for bit, against the two ops run apart; the model plan that uses it (which pairs
fuse, which must not) and its results against the layers run one by one."""

import numpy as np
import pytest

import reference as ref
from kerasr import (GradientTape, keras_model, keras_model_sequential, layer_average_pooling_1d,
                    layer_average_pooling_2d, layer_conv_1d, layer_conv_2d, layer_conv_3d,
                    layer_dense, layer_embedding, layer_flatten, layer_global_max_pooling_1d,
                    layer_input, layer_max_pooling_1d, layer_max_pooling_2d,
                    layer_max_pooling_3d, regularizer_l2, set_random_seed)
from kerasr.kernels import convolution as conv_kernels
from kerasr.kernels import winograd
from kerasr.models.fusion import ConvPoolStep
from kerasr.ops import convolution as conv_ops
from kerasr.ops import pooling as pool_ops

rng = np.random.default_rng(31)

DTYPES = [np.float32, np.float64]

# (input spatial, kernel_size, strides, dilation, padding, channels, filters,
#  pool mode, pool_size, pool strides, pool padding)
CASES = [
    ((11,), (3,), (1,), (1,), "valid", 3, 4, "max", (2,), None, "valid"),
    ((10,), (3,), (1,), (2,), "causal", 2, 3, "average", (3,), (2,), "same"),
    ((9, 8), (3, 3), (1, 1), (1, 1), "valid", 1, 5, "max", (2, 2), None, "valid"),
    ((9, 9), (3, 3), (1, 1), (1, 1), "valid", 1, 4, "max", (2, 2), None, "same"),
    ((8, 7), (3, 2), (2, 1), (1, 1), "same", 4, 3, "max", (3, 2), (1, 2), "valid"),
    ((7, 8), (2, 3), (1, 1), (2, 1), "same", 3, 2, "average", (2, 2), None, "valid"),
    ((5, 6, 6), (2, 3, 3), (1, 1, 1), (1, 1, 1), "valid", 2, 3, "max", (2, 2, 2), None,
     "same"),
    # Winograd's F(2x2, 3x3) where it applies (3x3, stride 1, enough channels)
    ((9, 9), (3, 3), (1, 1), (1, 1), "valid", 8, 5, "max", (2, 2), None, "valid"),
    ((8, 7), (3, 3), (1, 1), (1, 1), "same", 9, 3, "average", (2, 2), None, "same"),
]
CASE_IDS = [f"{len(c[0])}d-{c[4]}-c{c[5]}-{c[7]}{c[8]}-{c[10]}" for c in CASES]


def tol(dtype):
    return dict(rtol=1e-11, atol=1e-11) if dtype == np.float64 else dict(rtol=3e-5, atol=3e-5)


@pytest.fixture(params=["default", "no-winograd"])
def winograd_used(request, monkeypatch):
    """Records whether the fused kernel took Winograd's products (or forbids them)."""
    used = []
    real = winograd.applies

    def applies(*args):
        used.append(request.param == "default" and real(*args))
        return used[-1]
    monkeypatch.setattr(winograd, "applies", applies)
    return request.param, used


@pytest.fixture(params=["default", "per-sample"])
def chunking(request, monkeypatch):
    if request.param == "per-sample":
        monkeypatch.setattr(conv_kernels, "CHUNK_ELEMENTS", 1)
        monkeypatch.setattr(conv_kernels, "MIN_CHUNKS", 1)
    return request.param


def run_case(case, dtype, activation, x=None):
    spatial, ksize, strides, dilation, padding, channels, filters = case[:7]
    mode, pool, pool_strides, pool_padding = case[7:]
    if x is None:
        x = rng.standard_normal((5,) + spatial + (channels,)).astype(dtype)
    w = rng.standard_normal(ksize + (channels, filters)).astype(dtype)
    bias = rng.standard_normal(filters).astype(dtype)
    fused = conv_ops.conv_pool(x, w, bias, strides=strides, padding=padding,
                               dilation_rate=dilation, activation=activation,
                               pool_mode=mode, pool_size=pool, pool_strides=pool_strides,
                               pool_padding=pool_padding).data
    apart = conv_ops.conv(x, w, bias, strides=strides, padding=padding, dilation_rate=dilation,
                          activation=activation)
    pool_op = pool_ops.max_pool if mode == "max" else pool_ops.average_pool
    apart = pool_op(apart, pool, pool_strides, pool_padding).data
    return x, w, bias, fused, apart


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["linear", "relu", "swish"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_fused_kernel_matches_reference_and_the_ops_apart(chunk_kernel_variant, conv_side,
                                                         chunking, winograd_used, dtype,
                                                         activation, case):
    x, w, bias, fused, apart = run_case(case, dtype, activation)
    z = ref.ref_convnd(x, w, case[2], case[3], case[4]) + bias
    pool_strides = case[9] or case[8]
    expected = ref.ref_pool(ref.ref_activation(z, activation), case[8], pool_strides, case[10],
                            case[7])
    assert fused.dtype == dtype and fused.shape == expected.shape
    np.testing.assert_allclose(fused, expected, **tol(dtype))
    mode, used = winograd_used
    if case in CASES[-2:]:
        assert used == [mode == "default"]
    if any(used):  # other products: the same values to rounding
        np.testing.assert_allclose(fused, apart, **tol(dtype))
    else:  # the convolution's own rows, pooled: bit for bit
        np.testing.assert_array_equal(fused, apart)


@pytest.mark.parametrize("variant_index", [0, 1])
def test_fused_kernel_keeps_nan_as_the_ops_apart(monkeypatch, variant_index):
    monkeypatch.setattr(conv_kernels, "chunk_variant", lambda pair: pair[variant_index])
    x = rng.standard_normal((3, 9, 9, 2))
    x[1, 4, 4, 0] = np.nan
    _, _, _, fused, apart = run_case(CASES[3][:5] + (2,) + CASES[3][6:], np.float64, "relu", x)
    assert np.isnan(fused).any() and not np.isnan(fused[0]).any()
    np.testing.assert_array_equal(fused, apart)


def test_fused_op_checks_its_arguments():
    x = np.zeros((2, 6, 6, 1), np.float32)
    w = np.zeros((3, 3, 1, 2), np.float32)
    with pytest.raises(ValueError, match="pool_size"):
        conv_ops.conv_pool(x, w, pool_size=5)
    with pytest.raises(ValueError, match="pool_mode"):
        conv_ops.conv_pool(x, w, pool_mode="min")
    with pytest.raises(ValueError, match="does not fit"):
        conv_ops.conv_pool(np.zeros((2, 6, 6, 3), np.float32), w)


# ---- models ----------------------------------------------------------------------------------
def steps(model):
    return [type(step[0]).__name__ for step in model._inference_plan()]


def outputs_apart(model, x):
    """The model's outputs with every layer run on its own (a tape disables fusion)."""
    with GradientTape():
        result = model(x)
    return [r.data for r in result] if isinstance(result, list) else result.data


def mnist_convnet():
    model = keras_model_sequential()
    model | layer_conv_2d(filters=8, kernel_size=c(3, 3), activation="relu",
                          input_shape=c(14, 14, 1)) | layer_max_pooling_2d(pool_size=c(2, 2)) \
        | layer_conv_2d(filters=6, kernel_size=c(3, 3), activation="relu") \
        | layer_max_pooling_2d(pool_size=c(2, 2)) | layer_flatten() \
        | layer_dense(units=3, activation="softmax")
    return model


def c(*values):
    return tuple(values)


def test_book_convnet_predicts_through_fused_steps_with_the_same_numbers(winograd_used):
    set_random_seed(3)
    model = mnist_convnet()
    x = rng.random((37, 14, 14, 1), dtype=np.float32)
    assert steps(model) == ["ConvPoolStep", "ConvPoolStep", "Flatten", "Dense"]

    def check(predicted):
        mode, used = winograd_used
        assert used[-1] == (mode == "default")  # the second convolution: 8 channels, 3x3
        if mode == "default":
            np.testing.assert_allclose(predicted, outputs_apart(model, x), rtol=1e-5, atol=1e-7)
        else:
            np.testing.assert_array_equal(predicted, outputs_apart(model, x))
    check(model.predict(x, batch_size=16, verbose=0))
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    model.fit(x, rng.integers(0, 3, 37), epochs=1, batch_size=16, verbose=0)  # unfused
    check(model.predict(x, verbose=0))


def test_imdb_conv1d_fuses_its_first_pair_on_the_output_side():
    set_random_seed(4)
    model = keras_model_sequential()
    model | layer_embedding(input_dim=50, output_dim=16, input_length=30) \
        | layer_conv_1d(filters=4, kernel_size=7, activation="relu") \
        | layer_max_pooling_1d(pool_size=5) \
        | layer_conv_1d(filters=4, kernel_size=3, activation="relu") \
        | layer_global_max_pooling_1d() | layer_dense(units=1, activation="sigmoid")
    x = rng.integers(1, 50, (9, 30))
    assert steps(model)[:2] == ["Embedding", "ConvPoolStep"]
    np.testing.assert_array_equal(model.predict(x, verbose=0), outputs_apart(model, x))


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_channels_first_and_average_pooling(rank):
    conv = [layer_conv_1d, layer_conv_2d, layer_conv_3d][rank - 1]
    pool = [layer_average_pooling_1d, layer_average_pooling_2d, layer_max_pooling_3d][rank - 1]
    shape = (3,) + (7, 6, 5)[:rank]
    inputs = layer_input(shape=shape)
    outputs = inputs | conv(filters=4, kernel_size=2, activation="tanh", padding="same",
                            data_format="channels_first") \
        | pool(pool_size=2, padding="same", data_format="channels_first") | layer_flatten()
    model = keras_model(inputs, outputs)
    x = rng.standard_normal((4,) + shape).astype(np.float32)
    assert steps(model)[0] == "ConvPoolStep"
    np.testing.assert_array_equal(model.predict(x, verbose=0), outputs_apart(model, x))


def test_a_convolution_output_someone_else_reads_is_not_fused():
    inputs = layer_input(shape=c(8, 8, 1))
    features = inputs | layer_conv_2d(filters=2, kernel_size=3, activation="relu")
    pooled = features | layer_max_pooling_2d()
    # read twice: by the pooling and by the model's outputs
    model = keras_model(inputs, [pooled, features])
    assert "ConvPoolStep" not in steps(model)
    again = layer_max_pooling_2d(pool_size=3)(features)
    model2 = keras_model(inputs, [pooled | layer_flatten(), again | layer_flatten()])
    assert "ConvPoolStep" not in steps(model2)
    x = rng.random((2, 8, 8, 1), dtype=np.float32)
    for m in (model, model2):
        for got, want in zip(m.predict(x, verbose=0), outputs_apart(m, x)):
            np.testing.assert_array_equal(got, want)


def test_conditions_a_user_can_change_fall_back_to_the_layers(monkeypatch):
    monkeypatch.setattr(winograd, "applies", lambda *args: False)  # all exact
    model = mnist_convnet()
    x = rng.random((5, 14, 14, 1), dtype=np.float32)
    first = model.layers[0]
    step = model._inference_plan()[0][0]
    assert isinstance(step, ConvPoolStep) and step.name == f"{first.name}+{model.layers[1].name}"
    first.activation = lambda t: t * 2.0  # not a kernel activation: the layers run apart
    np.testing.assert_array_equal(model.predict(x, verbose=0), outputs_apart(model, x))
    first.activity_regularizer = regularizer_l2(0.1)
    model(x)
    assert len(first.losses) == 1  # the layer itself ran and recorded its penalty
    second_pool = model.layers[3]
    second_pool.activity_regularizer = regularizer_l2(0.1)  # on the pooling of a fused pair
    model(x)
    assert len(second_pool.losses) == 1


def test_a_wrong_input_names_the_convolution():
    model = mnist_convnet()
    model.predict(rng.random((2, 14, 14, 1), dtype=np.float32), verbose=0)
    with pytest.raises(ValueError, match=model.layers[0].name):
        model(rng.random((2, 14, 14, 2), dtype=np.float32))


@pytest.mark.parametrize("name, alpha", [("linear", 0.0), ("relu", 0.0), ("relu_max", 6.0),
                                         ("leaky_relu", 0.2), ("leaky_relu", -0.5),
                                         ("tanh", 0.0), ("elu", 1.0)])
def test_activations_moved_after_max_pooling_give_the_same_bits(name, alpha):
    from kerasr.kernels import activations
    code = activations.ACTIVATION_CODES[name]
    z = rng.standard_normal((2000, 4)).astype(np.float32) * 5
    z[7, 1] = np.nan
    bias = rng.standard_normal(1).astype(np.float32)

    def f(values):
        return activations.activation_forward((values + bias).ravel(), code, alpha,
                                              np.empty(values.size, np.float32))
    after = f(np.max(z, axis=1))
    before = np.max(f(z).reshape(z.shape), axis=1)  # numpy's max keeps the NaN too
    same = np.array_equal(after, before, equal_nan=True)
    if activations.commutes_with_max(code, alpha):
        assert same
    assert activations.commutes_with_max(code, alpha) == (name in ("linear", "relu", "relu_max")
                                                          or (name == "leaky_relu" and alpha >= 0))
