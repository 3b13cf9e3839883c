"""Convolutions: the im2col/GEMM kernels against plain-loop float64 references (valid, same,
causal, strides, dilation, groups; float32 and float64; serial and parallel copies; several
batch chunks), the ops (channels_first, conv_transpose), gradient checks of every layer in
float64, Keras's output-shape formulas and weight layouts, the errors, and the verbs."""

import inspect

import numpy as np
import pytest

import reference as ref
from kerasr import keras_model_sequential, layers, ops
from kerasr.engine import GradientTape, Variable
from kerasr.kernels import convolution as conv_kernels
from kerasr.ops import convolution as conv_ops
from kerasr.verbs import convolution as conv_verbs
from kerasr.verbs.convolution import layer_conv_1d, layer_conv_2d

from gradcheck import check_layer_gradients

rng = np.random.default_rng(17)

VARIANTS = ["serial", "parallel"]
DTYPES = [np.float32, np.float64]


def tol(dtype):
    return dict(rtol=1e-11, atol=1e-11) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)


@pytest.fixture(params=VARIANTS)
def variant(request, monkeypatch):
    """The entry points run with the serial (their choice) or the parallel copies."""
    if request.param == "parallel":
        for name in ("im2col", "col2im", "gather_taps", "spread_taps", "im2col_transposed"):
            monkeypatch.setattr(conv_kernels, f"_{name}_serial",
                                getattr(conv_kernels, f"_{name}_parallel"))
    return request.param


@pytest.fixture(params=["im2col", "output_side"])
def side(request, monkeypatch):
    """The entry points multiply im2col columns by the kernel, or the input by the tap
    kernels (the output side), whichever their size rule would pick."""
    monkeypatch.setattr(conv_kernels, "output_side",
                        lambda *args: request.param == "output_side")
    return request.param


# (spatial, kernel_size, strides, dilation, padding, groups, channels, filters)
GEOMETRIES = [
    ((9,), (3,), (1,), (1,), "valid", 1, 3, 4),
    ((8,), (3,), (1,), (2,), "causal", 1, 2, 3),
    ((9,), (4,), (3,), (1,), "causal", 1, 2, 3),
    ((10,), (4,), (2,), (1,), "same", 2, 4, 6),
    ((7, 6), (3, 3), (1, 1), (1, 1), "valid", 1, 1, 5),
    ((7, 8), (3, 3), (2, 2), (1, 1), "same", 1, 3, 4),
    ((6, 7), (2, 3), (1, 1), (2, 1), "same", 1, 2, 3),
    ((6, 5), (3, 2), (2, 1), (1, 1), "valid", 3, 6, 3),
    ((5, 4, 6), (2, 3, 2), (1, 2, 1), (1, 1, 1), "same", 1, 2, 3),
    ((4, 5, 7), (2, 2, 3), (1, 1, 1), (1, 1, 2), "valid", 2, 4, 4),
    # One group, stride and dilation 1 along W, 4+ channels: im2col's one-run-per-kernel-row
    # path, inside, at padded edges, and with no output whose row of taps lies all inside.
    ((7, 6), (3, 3), (1, 1), (1, 1), "valid", 1, 4, 3),
    ((6, 7), (3, 4), (2, 1), (2, 1), "same", 1, 5, 2),
    ((3, 2), (3, 3), (1, 1), (1, 1), "same", 1, 4, 2),
    ((8,), (3,), (1,), (1,), "causal", 1, 4, 3),
    ((4, 5, 6), (2, 2, 3), (2, 1, 1), (1, 2, 1), "same", 1, 4, 2),
    # One channel per group (groups == channels), along W with strides 1 and 2.
    ((7, 6), (3, 3), (1, 1), (1, 1), "valid", 4, 4, 4),
    ((7, 6), (3, 3), (2, 2), (1, 1), "same", 3, 3, 6),
]


def conv_case(spatial, ksize, strides, dilation, padding, groups, channels, filters, dtype,
              batch=3):
    x = rng.standard_normal((batch,) + spatial + (channels,)).astype(dtype)
    w = rng.standard_normal(ksize + (channels // groups, filters)).astype(dtype)
    out_size, pads = conv_ops.conv_geometry(spatial, ksize, strides, padding, dilation)

    def lift(values, fill):
        return (fill,) * (3 - len(values)) + tuple(values)
    geometry = conv_kernels.Geometry(lift(ksize, 1), lift(strides, 1), lift(dilation, 1),
                                     lift(pads, 0), lift(out_size, 1), groups)
    x5 = x.reshape((batch,) + lift(spatial, 1) + (channels,))
    w5 = w.reshape(lift(ksize, 1) + w.shape[-2:])
    return x, w, x5, w5, geometry, out_size


# ---- kernels -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", GEOMETRIES,
                         ids=lambda c: f"{len(c[0])}d-{c[4]}-s{c[2]}-d{c[3]}-g{c[5]}")
def test_conv_kernels_match_reference(variant, side, dtype, case):
    _, _, strides, dilation, padding, groups, _, filters = case
    x, w, x5, w5, geometry, out_size = conv_case(*case, dtype)
    z, columns = conv_kernels.conv_forward(x5, w5, geometry)
    assert z.dtype == dtype and (columns is None) == (side == "output_side")
    expected = ref.ref_convnd(x, w, strides, dilation, padding, groups)
    assert expected.shape[1:-1] == out_size
    np.testing.assert_allclose(z.reshape(expected.shape), expected, **tol(dtype))

    g = rng.standard_normal(expected.shape).astype(dtype)
    ref_dx, ref_dw = ref.ref_convnd_grads(x, w, g, strides, dilation, padding, groups)
    dx = conv_kernels.conv_input_grad(g.reshape(-1, filters), w5, geometry, x5.shape)
    np.testing.assert_allclose(dx.reshape(x.shape), ref_dx, **tol(dtype))
    for kept in (columns, None):  # from the forward's columns, or rebuilt
        dw = conv_kernels.conv_weight_grad(x5, g.reshape(-1, filters), geometry, w5.shape, kept)
        assert dw.dtype == dtype
        np.testing.assert_allclose(dw.reshape(w.shape), ref_dw, **tol(dtype))
    both = conv_kernels.conv_backward(g, geometry, x5.shape, w5.shape, w=w5, x=x5,
                                      columns=columns)
    np.testing.assert_array_equal(both[0], dx)
    np.testing.assert_array_equal(both[1], dw)


# One channel, one group: im2col builds its matrix transposed (taps, positions).
ONE_CHANNEL = [
    ((7, 6), (3, 3), (1, 1), (1, 1), "valid", 1, 1, 5),
    ((7, 8), (3, 3), (2, 2), (1, 1), "same", 1, 1, 4),
    ((6, 7), (2, 3), (1, 2), (2, 1), "same", 1, 1, 3),
    ((3, 2), (3, 3), (1, 1), (1, 1), "same", 1, 1, 2),
    ((9,), (4,), (3,), (1,), "causal", 1, 1, 3),
    ((8,), (3,), (1,), (2,), "causal", 1, 1, 2),
    ((4, 5, 6), (2, 2, 3), (2, 1, 2), (1, 2, 1), "same", 1, 1, 2),
]


@pytest.mark.parametrize("layout", ["transposed", "rows"])
@pytest.mark.parametrize("budget", [None, 40])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ONE_CHANNEL,
                         ids=lambda c: f"{len(c[0])}d-{c[4]}-s{c[2]}-d{c[3]}")
def test_one_channel_columns_in_both_layouts_match_reference(monkeypatch, variant, layout,
                                                             budget, dtype, case):
    monkeypatch.setattr(conv_kernels, "transposed_columns",
                        lambda channels, groups: layout == "transposed")
    if budget is not None:  # several chunks (the weight gradient rebuilds its columns)
        monkeypatch.setattr(conv_kernels, "COLUMN_BUDGET", budget)
    _, _, strides, dilation, padding, groups, _, filters = case
    x, w, x5, w5, geometry, _ = conv_case(*case, dtype, batch=4)
    z, columns = conv_kernels.conv_forward(x5, w5, geometry)
    assert conv_kernels.transposed_columns(1, 1) == (layout == "transposed")
    assert (columns is None) == (budget is not None)
    expected = ref.ref_convnd(x, w, strides, dilation, padding, groups)
    np.testing.assert_allclose(z.reshape(expected.shape), expected, **tol(dtype))
    g = rng.standard_normal(expected.shape).astype(dtype)
    ref_dx, ref_dw = ref.ref_convnd_grads(x, w, g, strides, dilation, padding, groups)
    for kept in (columns, None):
        dx, dw = conv_kernels.conv_backward(g, geometry, x5.shape, w5.shape, w=w5, x=x5,
                                            columns=kept)
        assert dw.dtype == dtype
        np.testing.assert_allclose(dx.reshape(x.shape), ref_dx, **tol(dtype))
        np.testing.assert_allclose(dw.reshape(w.shape), ref_dw, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ONE_CHANNEL,
                         ids=lambda c: f"{len(c[0])}d-{c[4]}-s{c[2]}-d{c[3]}")
def test_transposed_im2col_is_im2col_transposed(dtype, case):
    _, _, x5, w5, geometry, _ = conv_case(*case, dtype, batch=3)
    rows, taps = x5.shape[0] * geometry.positions, w5.shape[0] * w5.shape[1] * w5.shape[2]
    cols = conv_kernels._im2col_serial(x5, *geometry.args(),
                                       np.full((1, rows, taps), np.nan, dtype))
    for v in VARIANTS:
        # two spare columns at the end: left alone
        cols_t = np.full((taps, rows + 2), np.nan, dtype)
        getattr(conv_kernels, f"_im2col_transposed_{v}")(x5, *geometry.args()[:5], cols_t)
        np.testing.assert_array_equal(cols_t[:, :rows], cols[0].T)
        assert np.isnan(cols_t[:, rows:]).all()


@pytest.mark.parametrize("budget", [1, 60, 200])
def test_batch_chunks_give_the_same_results(monkeypatch, side, budget):
    # Budgets below one sample's columns (one sample per chunk) and between: the weight
    # gradient then sums several chunks, and the forward's columns are not kept.
    case = ((7, 6), (3, 2), (1, 2), (1, 1), "same", 1, 2, 3)
    _, _, x5, w5, geometry, _ = conv_case(*case, np.float64, batch=5)
    whole_z, _ = conv_kernels.conv_forward(x5, w5, geometry)
    g = rng.standard_normal(whole_z.shape)
    whole_dx = conv_kernels.conv_input_grad(g, w5, geometry, x5.shape)
    whole_dw = conv_kernels.conv_weight_grad(x5, g, geometry, w5.shape)
    monkeypatch.setattr(conv_kernels, "COLUMN_BUDGET", budget)
    z, columns = conv_kernels.conv_forward(x5, w5, geometry)
    assert columns is None
    np.testing.assert_array_equal(z, whole_z)
    np.testing.assert_array_equal(conv_kernels.conv_input_grad(g, w5, geometry, x5.shape),
                                  whole_dx)
    np.testing.assert_allclose(conv_kernels.conv_weight_grad(x5, g, geometry, w5.shape),
                               whole_dw, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_im2col_variants_agree_and_col2im_is_its_adjoint(dtype):
    case = ((6, 7), (3, 2), (2, 1), (1, 1), "same", 2, 4, 2)
    _, _, x5, _, geometry, _ = conv_case(*case, dtype, batch=4)
    shape = (geometry.groups, x5.shape[0] * geometry.positions, 3 * 2 * 2)
    cols = {v: getattr(conv_kernels, f"_im2col_{v}")(x5, *geometry.args(),
                                                     np.full(shape, np.nan, dtype))
            for v in VARIANTS}
    np.testing.assert_array_equal(cols["serial"], cols["parallel"])
    c = rng.standard_normal(shape).astype(dtype)
    back = {v: getattr(conv_kernels, f"_col2im_{v}")(c, *geometry.args(),
                                                     np.full(x5.shape, np.nan, dtype))
            for v in VARIANTS}
    np.testing.assert_array_equal(back["serial"], back["parallel"])
    # <im2col(x), c> == <x, col2im(c)>
    np.testing.assert_allclose(np.sum(cols["serial"] * c, dtype=np.float64),
                               np.sum(x5 * back["serial"], dtype=np.float64), rtol=1e-5)

    # The output side's pair: <gather_taps(y), d> == <y, spread_taps(d)>
    in_size = x5.shape[1:4]
    y_shape = (geometry.groups, x5.shape[0] * 6 * 7, 3 * 2 * 1)
    y = rng.standard_normal(y_shape).astype(dtype)
    gathered = {v: getattr(conv_kernels, f"_gather_taps_{v}")(
        y, *geometry.args(), in_size, np.full((shape[1], 2), np.nan, dtype)) for v in VARIANTS}
    np.testing.assert_array_equal(gathered["serial"], gathered["parallel"])
    d = rng.standard_normal((shape[1], 2)).astype(dtype)
    spread = {v: getattr(conv_kernels, f"_spread_taps_{v}")(
        d, *geometry.args(), in_size, np.full(y_shape, np.nan, dtype)) for v in VARIANTS}
    np.testing.assert_array_equal(spread["serial"], spread["parallel"])
    np.testing.assert_allclose(np.sum(gathered["serial"] * d, dtype=np.float64),
                               np.sum(y * spread["serial"], dtype=np.float64), rtol=1e-5)


@pytest.mark.parametrize("in_shape, k, filters, expected", [
    ((28, 28, 1), 3, 32, False), ((13, 13, 32), 3, 64, False), ((5, 5, 64), 3, 64, False),
    ((500, 128), 7, 32, True), ((98, 32), 7, 32, False)])
def test_the_smaller_matrices_decide_the_side(in_shape, k, filters, expected):
    # MNIST's convnet: im2col; IMDB's first conv1d (128 channels -> 32 filters): output side.
    rank = len(in_shape) - 1
    out = tuple(n - k + 1 for n in in_shape[:-1])
    geometry = conv_kernels.Geometry((1,) * (3 - rank) + (k,) * rank, (1, 1, 1), (1, 1, 1),
                                     (0, 0, 0), (1,) * (3 - rank) + out)
    assert conv_kernels.output_side(geometry, int(np.prod(in_shape[:-1])), in_shape[-1],
                                    filters) == expected


def test_kernels_are_deterministic(side):
    case = ((13, 13), (3, 3), (1, 1), (1, 1), "valid", 1, 8, 16)
    _, _, x5, w5, geometry, _ = conv_case(*case, np.float32, batch=16)
    runs = []
    for _ in range(2):
        z, columns = conv_kernels.conv_forward(x5, w5, geometry)
        g = np.sin(z)
        runs.append((z, conv_kernels.conv_input_grad(g, w5, geometry, x5.shape),
                     conv_kernels.conv_weight_grad(x5, g, geometry, w5.shape, columns)))
    for first, second in zip(*runs):
        np.testing.assert_array_equal(first, second)


# ---- ops -----------------------------------------------------------------------------------

def test_conv_op_channels_first_is_the_transposed_channels_last():
    x = rng.standard_normal((2, 7, 6, 3))
    w = Variable(rng.standard_normal((3, 2, 3, 4)))
    b = Variable(rng.standard_normal(4))
    x_first = Variable(np.ascontiguousarray(np.moveaxis(x, -1, 1)))
    g_last = rng.standard_normal((2, 4, 3, 4))
    last = conv_ops.conv(x, w, b, strides=(2, 2), padding="same")
    with GradientTape() as tape:
        first = conv_ops.conv(x_first, w, b, strides=2, padding="same",
                              data_format="channels_first")
        loss = ops.sum(ops.multiply(first, np.moveaxis(g_last, -1, 1)))
    assert first.shape == (2, 4, 4, 3)
    np.testing.assert_allclose(np.moveaxis(first.data, 1, -1), last.data, rtol=1e-12)
    dx, dw, db = tape.gradient(loss, [x_first, w, b])
    ref_dx, ref_dw = ref.ref_convnd_grads(x, w.data, g_last, (2, 2), (1, 1), "same")
    np.testing.assert_allclose(np.moveaxis(dx, 1, -1), ref_dx, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(db, g_last.sum(axis=(0, 1, 2)), rtol=1e-12)


# (spatial, kernel_size, strides, dilation, padding, output_padding)
TRANSPOSE_CASES = [
    ((5,), (3,), (2,), (1,), "valid", None),
    ((5,), (2,), (3,), (1,), "valid", None),
    ((4,), (3,), (2,), (1,), "same", None),
    ((4,), (4,), (2,), (1,), "same", 1),
    ((4,), (2,), (2,), (1,), "same", 0),
    ((6,), (3,), (1,), (2,), "same", None),
    ((3, 4), (3, 2), (2, 1), (1, 1), "valid", (1, 0)),
    ((4, 3), (3, 3), (2, 2), (1, 1), "same", None),
    ((3, 4), (3, 4), (3, 2), (1, 1), "same", (2, 1)),
    ((2, 3, 3), (2, 3, 2), (2, 1, 2), (1, 1, 1), "same", None),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=str)
def test_conv_transpose_op_matches_reference(variant, dtype, case):
    spatial, ksize, strides, dilation, padding, output_padding = case
    channels, filters = 3, 2
    x = rng.standard_normal((2,) + spatial + (channels,)).astype(dtype)
    w = rng.standard_normal(ksize + (filters, channels)).astype(dtype)
    out = conv_ops.conv_transpose(x, w, strides=strides, padding=padding,
                                  output_padding=output_padding, dilation_rate=dilation)
    assert out.dtype == dtype
    expected = ref.ref_conv_transpose_nd(x, w, strides, dilation, out.shape[1:-1])
    np.testing.assert_allclose(out.data, expected, **tol(dtype))


@pytest.mark.parametrize("case", [c for c in TRANSPOSE_CASES if c[4] == "valid" or c[5] is None],
                         ids=str)
def test_conv_transpose_is_the_adjoint_of_conv(case):
    # <conv_transpose(x), y> == <x, conv(y)>: the convolution (same padding mode) maps the
    # transposed op's output shape back to its input shape.
    spatial, ksize, strides, dilation, padding, output_padding = case
    x = rng.standard_normal((2,) + spatial + (3,))
    w = rng.standard_normal(ksize + (2, 3))
    out = conv_ops.conv_transpose(x, w, strides=strides, padding=padding,
                                  output_padding=output_padding, dilation_rate=dilation).data
    y = rng.standard_normal(out.shape)
    back = conv_ops.conv(y, w, strides=strides, padding=padding, dilation_rate=dilation).data
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(out * y), np.sum(x * back), rtol=1e-10)


# ---- layers: values, layouts, gradients ----------------------------------------------------

def test_conv2d_matches_reference_with_fused_relu_and_keras_layout():
    layer = layers.Conv2D(4, (3, 2), strides=(2, 1), padding="same", activation="relu")
    x = rng.standard_normal((2, 7, 5, 3)).astype(np.float32)
    out = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 3, 4) and bias.shape == (4,)
    assert out.dtype == np.float32 and out.shape == (2, 4, 5, 4)
    bias = rng.standard_normal(4).astype(np.float32)
    layer.set_weights([kernel, bias])
    expected = np.maximum(ref.ref_convnd(x, kernel, (2, 1), (1, 1), "same") + bias, 0)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-5, atol=1e-5)


def test_unfusable_activation_and_no_bias():
    layer = layers.Conv1D(3, 2, activation="softmax", use_bias=False)
    x = rng.standard_normal((2, 6, 4)).astype(np.float32)
    out = layer(x)
    (kernel,) = layer.get_weights()
    z = ref.ref_convnd(x, kernel, (1,), (1,), "valid")
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(out.data, e / e.sum(axis=-1, keepdims=True), rtol=1e-5, atol=1e-6)


def test_transposed_kernel_layout_and_values():
    layer = layers.Conv2DTranspose(5, 3, strides=2, padding="same")
    x = rng.standard_normal((2, 4, 3, 2)).astype(np.float32)
    out = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 5, 2) and bias.shape == (5,)
    assert out.shape == (2, 8, 6, 5)
    np.testing.assert_allclose(out.data, ref.ref_conv_transpose_nd(x, kernel, (2, 2), (1, 1),
                                                                   (8, 6)) + bias,
                               rtol=1e-5, atol=1e-5)


GRADIENT_LAYERS = [
    lambda: layers.Conv1D(3, 3, activation="tanh"),
    lambda: layers.Conv1D(4, 2, padding="causal", dilation_rate=2, groups=2),
    lambda: layers.Conv1D(2, 3, strides=2, padding="same", data_format="channels_first"),
    lambda: layers.Conv2D(3, (2, 3), activation="sigmoid", kernel_regularizer="l2"),
    lambda: layers.Conv2D(4, 3, strides=2, padding="same", groups=2),
    lambda: layers.Conv2D(2, 2, dilation_rate=(2, 1), data_format="channels_first",
                          use_bias=False),
    lambda: layers.Conv3D(2, (2, 2, 1), padding="same", activation="elu"),
    lambda: layers.Conv1DTranspose(3, 3, strides=2),
    lambda: layers.Conv1DTranspose(2, 2, strides=2, padding="same", output_padding=1,
                                   activation="tanh"),
    lambda: layers.Conv2DTranspose(2, (3, 2), strides=(2, 1), padding="same"),
    lambda: layers.Conv2DTranspose(3, 2, dilation_rate=2, data_format="channels_first"),
    lambda: layers.Conv3DTranspose(2, 2, strides=(1, 2, 1), use_bias=False),
]
GRADIENT_INPUTS = [(2, 6, 2), (2, 7, 4), (2, 2, 7), (2, 5, 5, 2), (2, 5, 4, 4), (2, 2, 5, 4),
                   (1, 3, 3, 2, 2), (2, 3, 2), (2, 3, 2), (2, 3, 3, 2), (1, 2, 3, 3),
                   (1, 2, 2, 2, 3)]


@pytest.mark.parametrize("index", range(len(GRADIENT_LAYERS)))
def test_layer_gradients(float64, index):
    layer = GRADIENT_LAYERS[index]()
    x = rng.standard_normal(GRADIENT_INPUTS[index])
    layer(x)
    layer.set_weights([rng.standard_normal(v.shape) * 0.5 for v in layer.get_weights()])
    check_layer_gradients(layer, x)


def test_relu_layer_gradient_away_from_the_kink(float64):
    layer = layers.Conv2D(3, 2, activation="relu")
    x = rng.standard_normal((2, 4, 4, 2))
    layer(x)
    for _ in range(100):  # redraw until no pre-activation lies near relu's kink
        layer.set_weights([rng.standard_normal((2, 2, 2, 3)), rng.standard_normal(3)])
        kernel, bias = layer.get_weights()
        z = ref.ref_convnd(x, kernel, (1, 1), (1, 1), "valid") + bias
        if np.abs(z).min() > 1e-3:
            break
    check_layer_gradients(layer, x)


# ---- output shapes -------------------------------------------------------------------------

def keras_conv_size(n, k, s, d, padding):
    """Keras 3's compute_conv_output_shape for one axis."""
    if padding == "valid":
        return int(np.floor((n - d * (k - 1) - 1) / s)) + 1
    return int(np.floor((n - 1) / s)) + 1


CONV_SHAPES = [  # (class, kwargs, input shape, expected output shape)
    (layers.Conv2D, dict(filters=32, kernel_size=3), (None, 28, 28, 1), (None, 26, 26, 32)),
    (layers.Conv2D, dict(filters=64, kernel_size=3), (None, 13, 13, 32), (None, 11, 11, 64)),
    (layers.Conv2D, dict(filters=64, kernel_size=3), (None, 5, 5, 64), (None, 3, 3, 64)),
    (layers.Conv1D, dict(filters=32, kernel_size=7), (None, 500, 128), (None, 494, 32)),
    (layers.Conv1D, dict(filters=8, kernel_size=5, padding="causal"), (4, 20, 3), (4, 20, 8)),
    (layers.Conv1D, dict(filters=8, kernel_size=3, strides=2, padding="causal"), (None, 9, 3),
     (None, 5, 8)),
    (layers.Conv2D, dict(filters=6, kernel_size=(3, 5), strides=(2, 3), padding="same"),
     (None, 11, 10, 3), (None, 6, 4, 6)),
    (layers.Conv2D, dict(filters=6, kernel_size=3, dilation_rate=(2, 3)), (None, 11, 10, 3),
     (None, 7, 4, 6)),
    (layers.Conv2D, dict(filters=6, kernel_size=3, data_format="channels_first"),
     (None, 3, 11, 10), (None, 6, 9, 8)),
    (layers.Conv2D, dict(filters=4, kernel_size=3), (None, None, 12, 2), (None, None, 10, 4)),
    (layers.Conv3D, dict(filters=4, kernel_size=(2, 3, 4), strides=(1, 2, 3)),
     (None, 5, 9, 13, 2), (None, 4, 4, 4, 4)),
    (layers.Conv3D, dict(filters=4, kernel_size=3, strides=2, padding="same"),
     (None, 5, 8, 9, 2), (None, 3, 4, 5, 4)),
]


@pytest.mark.parametrize("cls, kwargs, input_shape, expected", CONV_SHAPES)
def test_conv_output_shapes(cls, kwargs, input_shape, expected):
    layer = cls(**kwargs)
    assert layer.compute_output_shape(input_shape) == expected
    rank = len(input_shape) - 2
    first = kwargs.get("data_format") == "channels_first"
    spatial = input_shape[2:] if first else input_shape[1:-1]
    norm = lambda v: (v,) * rank if np.ndim(v) == 0 else tuple(v)  # noqa: E731
    k, s, d = norm(kwargs["kernel_size"]), norm(kwargs.get("strides", 1)), \
        norm(kwargs.get("dilation_rate", 1))
    keras = tuple(None if n is None else keras_conv_size(n, *a, kwargs.get("padding", "valid"))
                  for n, *a in zip(spatial, k, s, d))
    assert (expected[2:] if first else expected[1:-1]) == keras
    concrete = tuple(12 if n is None else n for n in input_shape)
    out = layer(np.zeros(concrete, dtype=np.float32))
    assert out.shape == layer.compute_output_shape(concrete)
    assert all(e is None or e == o for e, o in zip(expected, out.shape))


def keras_transpose_size(n, k, s, d, padding, output_padding):
    """Keras 3's conv transpose output size for one axis."""
    span = (k - 1) * d + 1
    if padding == "valid":
        extra = max(span, s) - span if output_padding is None else output_padding
        return (n - 1) * s + span + extra
    return n * s if output_padding is None else (n - 1) * s + span % 2 + output_padding


TRANSPOSE_SHAPES = [  # (class, kwargs, input shape, expected output shape)
    (layers.Conv2DTranspose, dict(filters=3, kernel_size=3), (None, 5, 5, 2), (None, 7, 7, 3)),
    (layers.Conv2DTranspose, dict(filters=3, kernel_size=3, strides=2, padding="same"),
     (None, 7, 5, 2), (None, 14, 10, 3)),
    (layers.Conv2DTranspose, dict(filters=3, kernel_size=2, strides=3), (None, 4, 4, 2),
     (None, 12, 12, 3)),
    (layers.Conv2DTranspose, dict(filters=3, kernel_size=3, strides=2, output_padding=1),
     (None, 4, 4, 2), (None, 10, 10, 3)),
    (layers.Conv2DTranspose, dict(filters=3, kernel_size=4, strides=2, padding="same",
                                  output_padding=(0, 1)), (None, 4, 4, 2), (None, 6, 7, 3)),
    (layers.Conv1DTranspose, dict(filters=3, kernel_size=3, dilation_rate=2), (None, 6, 2),
     (None, 10, 3)),
    (layers.Conv1DTranspose, dict(filters=3, kernel_size=5, strides=4, padding="same"),
     (None, None, 2), (None, None, 3)),
    (layers.Conv2DTranspose, dict(filters=3, kernel_size=3, data_format="channels_first"),
     (None, 2, 5, 4), (None, 3, 7, 6)),
    (layers.Conv3DTranspose, dict(filters=2, kernel_size=(1, 2, 3), strides=(1, 2, 2)),
     (None, 3, 3, 3, 4), (None, 3, 6, 7, 2)),
]


@pytest.mark.parametrize("cls, kwargs, input_shape, expected", TRANSPOSE_SHAPES)
def test_conv_transpose_output_shapes(cls, kwargs, input_shape, expected):
    layer = cls(**kwargs)
    assert layer.compute_output_shape(input_shape) == expected
    rank = len(input_shape) - 2
    first = kwargs.get("data_format") == "channels_first"
    spatial = input_shape[2:] if first else input_shape[1:-1]
    norm = lambda v: (v,) * rank if np.ndim(v) == 0 else tuple(v)  # noqa: E731
    op = kwargs.get("output_padding")
    keras = tuple(None if n is None else keras_transpose_size(
        n, k, s, d, kwargs.get("padding", "valid"), p)
        for n, k, s, d, p in zip(spatial, norm(kwargs["kernel_size"]),
                                 norm(kwargs.get("strides", 1)),
                                 norm(kwargs.get("dilation_rate", 1)),
                                 (None,) * rank if op is None else norm(op)))
    assert (expected[2:] if first else expected[1:-1]) == keras
    concrete = tuple(2 if n is None else n for n in input_shape)
    out = layer(np.zeros(concrete, dtype=np.float32))
    assert out.shape == layer.compute_output_shape(concrete)
    assert all(e is None or e == o for e, o in zip(expected, out.shape))


# ---- errors --------------------------------------------------------------------------------

@pytest.mark.parametrize("make, message", [
    (lambda: layers.Conv2D(0, 3), "filters must be a positive integer"),
    (lambda: layers.Conv2D(4.5, 3), "filters must be a positive integer"),
    (lambda: layers.Conv2D(4, 0), "kernel_size"),
    (lambda: layers.Conv2D(4, (3, 3, 3)), "kernel_size"),
    (lambda: layers.Conv2D(4, 3, strides=0), "strides"),
    (lambda: layers.Conv2D(4, 3, dilation_rate=(1, -1)), "dilation_rate"),
    (lambda: layers.Conv2D(4, 3, groups=0), "groups"),
    (lambda: layers.Conv2D(6, 3, groups=4), "filters .6. must be divisible by groups .4."),
    (lambda: layers.Conv2D(4, 3, strides=2, dilation_rate=2), "strides > 1 cannot be combined"),
    (lambda: layers.Conv2DTranspose(4, 3, strides=(2, 1), dilation_rate=(1, 2)),
     "strides > 1 cannot be combined"),
    (lambda: layers.Conv2D(4, 3, padding="causal"), "'causal' is only for Conv1D"),
    (lambda: layers.Conv3D(4, 3, padding="causal"), "'causal' is only for Conv1D"),
    (lambda: layers.Conv1DTranspose(4, 3, padding="causal"), "'causal' is only for Conv1D"),
    (lambda: layers.Conv2D(4, 3, padding="full"), "padding must be 'valid' or 'same'"),
    (lambda: layers.Conv2D(4, 3, data_format="nhwc"), "data_format"),
    (lambda: layers.Conv2DTranspose(4, 3, strides=2, output_padding=2),
     "output_padding must be smaller than strides"),
    (lambda: layers.Conv2DTranspose(4, 3, output_padding=-1), "output_padding"),
])
def test_bad_arguments_are_value_errors_naming_the_layer(make, message):
    with pytest.raises(ValueError, match=message) as error:
        make()
    assert str(error.value).startswith("conv")  # the layer's name: conv2d_3, ...


def test_kernel_larger_than_the_input():
    with pytest.raises(ValueError, match=r"conv_big: the kernel .* is larger than the input"):
        layers.Conv2D(4, 5, name="conv_big")(np.zeros((2, 4, 8, 1), np.float32))
    with pytest.raises(ValueError, match="larger than the input"):
        layers.Conv1D(4, 3, dilation_rate=3)(np.zeros((2, 6, 1), np.float32))
    layer = layers.Conv2D(4, 3, name="conv_later", input_shape=(None, None, 1))
    model = keras_model_sequential() | layer
    assert model.layers[-1].output_shape == (None, None, None, 4)
    with pytest.raises(ValueError, match="conv_later: the kernel"):
        layer(np.zeros((2, 2, 9, 1), np.float32))
    same = layers.Conv2D(4, 5, padding="same")  # padded: any input size will do
    assert same(np.zeros((1, 4, 2, 1), np.float32)).shape == (1, 4, 2, 4)


def test_wrong_channel_count_and_rank_are_reported_against_the_built_shape():
    layer = layers.Conv2D(4, 3, name="conv_x")
    layer(np.zeros((2, 28, 28, 1), np.float32))
    with pytest.raises(ValueError, match=r"conv_x expects input of shape \(None, 28, 28, 1\), "
                                         r"got \(32, 28, 28, 3\)"):
        layer(np.zeros((32, 28, 28, 3), np.float32))
    with pytest.raises(ValueError, match=r"conv_x expects input of shape .*got \(32, 28, 28\)"):
        layer(np.zeros((32, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"conv_y expects input of shape \(None, rows, cols, "
                                         r"channels\) \(rank 4\), got \(32, 28, 28\)"):
        layers.Conv2D(4, 3, name="conv_y")(np.zeros((32, 28, 28), np.float32))
    with pytest.raises(ValueError,
                       match=r"conv_t expects input of shape \(None, channels, steps\)"):
        layers.Conv1DTranspose(4, 3, name="conv_t", data_format="channels_first")(
            np.zeros((2, 3, 4, 5), np.float32))


def test_groups_must_divide_the_input_channels():
    with pytest.raises(ValueError, match=r"conv_g: the input's 6 channels must be divisible by "
                                         r"groups \(4\)"):
        layers.Conv2D(8, 3, groups=4, name="conv_g")(np.zeros((1, 5, 5, 6), np.float32))


# ---- configs, verbs, models ----------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: layers.Conv1D(4, 3, padding="causal", groups=2, activation="relu",
                          kernel_regularizer="l2", kernel_constraint="non_neg"),
    lambda: layers.Conv2D(4, (3, 2), strides=2, data_format="channels_first", use_bias=False),
    lambda: layers.Conv3DTranspose(2, 2, strides=2, output_padding=1, activation="tanh"),
    lambda: layers.BaseConv(2, 4, 3, dilation_rate=2),
    lambda: layers.BaseConvTranspose(1, 4, 3),
])
def test_configs_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    assert ("rank" in config) == (type(layer) in (layers.BaseConv, layers.BaseConvTranspose))


def test_verbs_have_keras_argument_order_and_defaults():
    common = ["input_shape", "batch_input_shape", "batch_size", "dtype", "name", "trainable",
              "weights"]
    for verb, cls in [(conv_verbs.layer_conv_1d, layers.Conv1D),
                      (conv_verbs.layer_conv_2d, layers.Conv2D),
                      (conv_verbs.layer_conv_3d, layers.Conv3D),
                      (conv_verbs.layer_conv_1d_transpose, layers.Conv1DTranspose),
                      (conv_verbs.layer_conv_2d_transpose, layers.Conv2DTranspose),
                      (conv_verbs.layer_conv_3d_transpose, layers.Conv3DTranspose)]:
        verb_params = inspect.signature(verb).parameters
        class_params = [p for p in inspect.signature(cls.__init__).parameters.values()
                        if p.name not in ("self", "kwargs")]
        assert list(verb_params) == ["object"] + [p.name for p in class_params] + common
        for p in class_params[2:]:
            default = verb_params[p.name].default
            assert default == p.default or np.all(np.asarray(p.default) == default), p.name


def test_mnist_convnet_shapes_with_layer_conv_2d():
    model = keras_model_sequential() | layer_conv_2d(filters=32, kernel_size=(3, 3),
                                                     activation="relu", input_shape=(28, 28, 1))
    pooling = getattr(layers, "MaxPooling2D", None)
    if pooling is not None:
        model | pooling(pool_size=(2, 2)) | \
            layer_conv_2d(filters=64, kernel_size=(3, 3), activation="relu") | \
            pooling(pool_size=(2, 2)) | \
            layer_conv_2d(filters=64, kernel_size=(3, 3), activation="relu")
        assert [layer.output_shape for layer in model.layers] == [
            (None, 26, 26, 32), (None, 13, 13, 32), (None, 11, 11, 64), (None, 5, 5, 64),
            (None, 3, 3, 64)]
        assert model.count_params() == 320 + 18496 + 36928  # the book's summary
    else:
        assert model.layers[-1].output_shape == (None, 26, 26, 32)
    x = rng.random((3, 28, 28, 1), dtype=np.float32)
    assert model.predict(x, verbose=0).shape == (3,) + model.layers[-1].output_shape[1:]


def test_layer_conv_1d_on_a_tensor_and_alone():
    layer = layer_conv_1d(filters=4, kernel_size=3, padding="causal", name="causal_conv")
    assert isinstance(layer, layers.Conv1D) and layer.name == "causal_conv"
    out = layer_conv_1d(np.ones((2, 5, 3), np.float32), filters=2, kernel_size=c(3))
    assert out.shape == (2, 3, 2)
    x = rng.standard_normal((1, 6, 2)).astype(np.float32)
    y = layer(x).data
    x2 = x.copy()
    x2[0, 4:] += 1.0  # later steps never reach earlier outputs
    np.testing.assert_array_equal(layer(x2).data[0, :4], y[0, :4])


def c(*values):
    """R's c()."""
    return values
