"""Pooling: the kernels (both compiled variants, float32 and float64) against the plain-loop
references, the ops' channels_first handling, every layer through a float64 gradient check,
output shapes by Keras's formulas, k-max order, bilinear upsampling by hand, and errors."""

import numpy as np
import pytest

import reference as ref
from gradcheck import check_layer_gradients
from kerasr import layers
from kerasr.engine import GradientTape, Variable
from kerasr.kernels import pooling as kernels
from kerasr.ops import pooling as pooling_ops
from kerasr.verbs.pooling import (layer_average_pooling_2d, layer_global_average_pooling_1d,
                                  layer_k_max_pooling_1d, layer_max_pooling_1d,
                                  layer_max_pooling_2d, layer_max_pooling_3d)

VARIANTS = ["serial", "parallel"]
DTYPES = [np.float32, np.float64]

rng = np.random.default_rng(11)


def kernel(name, variant):
    return getattr(kernels, f"_{name}_{variant}")


def assert_close(actual, expected, dtype):
    tol = {"rtol": 1e-12, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, **tol)


def draw_without_ties(shape, margin=1e-3):
    """Normal draws, redrawn until no two values lie within `margin` of each other (so no
    max-pool window or k-max column sits on a kink of central differences)."""
    x = rng.standard_normal(shape)
    flat = x.reshape(-1)
    for _ in range(1000):
        order = np.argsort(flat)
        close = np.flatnonzero(np.diff(flat[order]) < margin)
        if close.size == 0:
            return x
        flat[order[close]] = rng.standard_normal(close.size)
    raise AssertionError("could not draw values without near-ties")


def lift(values, fill):
    return (fill,) * (3 - len(values)) + tuple(values)


def run_pool_kernels(x, g, pool, strides, padding, mode, variant):
    """The op's calling convention spelled out: lower ranks as 3-D with singleton axes. Max
    pooling also checks the values-only kernel against the one keeping the maxima."""
    n, spatial, c = x.shape[0], x.shape[1:-1], x.shape[-1]
    out_spatial, before = kernels.pool_geometry(spatial, pool, strides, padding)
    x5 = x.reshape((n,) + lift(spatial, 1) + (c,))
    out = np.empty((n,) + lift(out_spatial, 1) + (c,), dtype=x.dtype)
    args = (lift(pool, 1), lift(strides, 1), lift(before, 0))
    g5 = np.ascontiguousarray(g, dtype=x.dtype).reshape(out.shape)
    if mode == "max":
        arg = np.empty(out.shape, dtype=np.int32)
        kernel("max_pool_forward", variant)(x5, *args, out, arg)
        # inference's kernel (no maxima kept) gives the same values, NaN and ties included
        values = np.empty_like(out)
        kernel("max_pool_values", variant)(x5, *args, values)
        np.testing.assert_array_equal(values, out)
        dx = np.empty((n, int(np.prod(spatial)), c), dtype=x.dtype)
        kernel("max_pool_backward", variant)(g5.reshape(n, -1, c), arg.reshape(n, -1, c), dx)
    else:
        kernel("avg_pool_forward", variant)(x5, *args, out)
        dx = np.empty(x5.shape, dtype=x.dtype)
        kernel("avg_pool_backward", variant)(g5, *args, dx)
    return out.reshape((n,) + out_spatial + (c,)), dx.reshape(x.shape)


# (input shape, pool, strides, padding): 1-D, 2-D and 3-D; valid and same; strides below,
# equal to and above the pool; windows that do not tile the input.
POOL_CASES = [
    ((2, 7, 3), (2,), (2,), "valid"),
    ((2, 7, 3), (3,), (2,), "same"),
    ((2, 5, 6, 2), (2, 2), (2, 2), "valid"),
    ((2, 5, 6, 2), (3, 3), (2, 1), "same"),
    ((1, 6, 7, 3), (3, 2), (1, 3), "valid"),
    ((2, 4, 5, 2), (2, 4), (3, 2), "same"),
    ((2, 3, 4, 5, 2), (2, 2, 2), (2, 2, 2), "same"),
    ((1, 4, 3, 5, 2), (2, 1, 3), (1, 2, 2), "valid"),
    # 2x2 / stride 2 max pooling has a fast path (windows all inside): even and odd sizes,
    # and "same" on odd sizes, whose last windows are partial (the general loop).
    ((3, 6, 8, 5), (2, 2), (2, 2), "valid"),
    ((2, 7, 5, 4), (2, 2), (2, 2), "valid"),
    ((2, 5, 7, 3), (2, 2), (2, 2), "same"),
    ((2, 3, 4, 6, 2), (1, 2, 2), (1, 2, 2), "valid"),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}-{c[3]}")
@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_pool_kernels_match_reference(case, mode, dtype, variant):
    shape, pool, strides, padding = case
    x = rng.standard_normal(shape).astype(dtype)
    expected = ref.ref_pool(x, pool, strides, padding, mode)
    g = rng.standard_normal(expected.shape)
    out, dx = run_pool_kernels(x, g, pool, strides, padding, mode, variant)
    assert out.dtype == dtype and dx.dtype == dtype
    assert_close(out, expected, dtype)
    assert_close(dx, ref.ref_pool_grad(x, g.astype(dtype), pool, strides, padding, mode), dtype)


@pytest.mark.parametrize("variant", VARIANTS)
def test_max_pool_ties_send_the_gradient_to_the_first_maximum(variant):
    x = np.array([[[[1.0], [3.0], [3.0]], [[3.0], [0.0], [2.0]]]])  # (1, 2, 3, 1)
    out, dx = run_pool_kernels(x, np.ones((1, 1, 2, 1)), (2, 2), (1, 1), "valid", "max", variant)
    np.testing.assert_array_equal(out[0, 0, :, 0], [3.0, 3.0])
    # Window 1 = x[0:2, 0:2], its first 3 at (0, 1); window 2 = x[0:2, 1:3], first 3 at (0, 1).
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("variant", VARIANTS)
def test_max_pool_2x2_fast_path_ties_and_nan(variant):
    # Channel 0: ties (the first in window order wins); channel 1: a NaN after the maximum
    # is taken, then kept against a larger value; channel 2: -inf everywhere (first wins).
    x = np.zeros((1, 2, 4, 3))
    x[0, :, :2, 0] = [[1.0, 3.0], [3.0, 3.0]]
    x[0, :, :2, 1] = [[5.0, np.nan], [7.0, 1.0]]
    x[0, :, 2:, 0] = [[0.0, -1.0], [2.0, 2.0]]
    x[0, :, 2:, 1] = [[-2.0, -1.0], [-3.0, -1.0]]
    x[0, :, :, 2] = -np.inf
    out, dx = run_pool_kernels(x, np.ones((1, 1, 2, 3)), (2, 2), (2, 2), "valid", "max",
                               variant)
    np.testing.assert_array_equal(out[0, 0, :, 0], [3.0, 2.0])
    assert np.isnan(out[0, 0, 0, 1]) and out[0, 0, 1, 1] == -1.0
    np.testing.assert_array_equal(out[0, 0, :, 2], [-np.inf, -np.inf])
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 1, 0, 0], [0, 0, 1, 0]])
    np.testing.assert_array_equal(dx[0, :, :, 1], [[0, 1, 0, 1], [0, 0, 0, 0]])
    np.testing.assert_array_equal(dx[0, :, :, 2], [[1, 0, 1, 0], [0, 0, 0, 0]])


def test_max_pool_keeps_nan_and_same_padding_never_wins():
    x = np.full((1, 3, 1), -5.0)
    x[0, 1, 0] = np.nan
    out, _ = run_pool_kernels(x, np.ones((1, 2, 1)), (2,), (2,), "same", "max", "serial")
    assert np.isnan(out[0, 0, 0]) and out[0, 1, 0] == -5.0  # -5, not a padded 0


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_pool_ops_channels_first_is_channels_last_transposed(mode, rank):
    shape = (2,) + (5, 4, 3)[:rank] + (3,)
    x = rng.standard_normal(shape)
    pool = (2, 3, 2)[:rank]
    op = pooling_ops.max_pool if mode == "max" else pooling_ops.average_pool
    last = op(x, pool, (1, 2, 1)[:rank], "same")
    first = op(np.moveaxis(x, -1, 1), pool, (1, 2, 1)[:rank], "same", "channels_first")
    np.testing.assert_allclose(first.data, np.moveaxis(last.data, -1, 1), rtol=1e-12)
    g = rng.standard_normal(last.shape)
    for data_format, inp, weight in [("channels_last", x, g),
                                     ("channels_first", np.moveaxis(x, -1, 1),
                                      np.moveaxis(g, -1, 1))]:
        v = Variable(inp.copy())
        with GradientTape() as tape:
            out = op(v, pool, (1, 2, 1)[:rank], "same", data_format)
        grad = tape.gradient(out, v, output_gradients=weight)
        expected = ref.ref_pool_grad(x, g, pool, (1, 2, 1)[:rank], "same", mode)
        if data_format == "channels_first":
            expected = np.moveaxis(expected, -1, 1)
        np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- global and k-max pooling


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_global_pool_kernels(mode, dtype, variant):
    x = rng.standard_normal((3, 7, 5)).astype(dtype)
    g = rng.standard_normal((3, 5)).astype(dtype)
    out = np.empty((3, 5), dtype=dtype)
    dx = np.empty_like(x)
    x64 = x.astype(np.float64)
    if mode == "max":
        arg = np.empty((3, 5), dtype=np.int64)
        kernel("global_max_forward", variant)(x, out, arg)
        kernel("global_max_backward", variant)(g, arg, dx)
        expected_dx = np.zeros_like(x64)
        for n in range(3):
            for c in range(5):
                expected_dx[n, np.argmax(x64[n, :, c]), c] = g[n, c]
        assert_close(out, x64.max(axis=1), dtype)
    else:
        kernel("global_avg_forward", variant)(x, out)
        kernel("global_avg_backward", variant)(g, dx)
        expected_dx = np.broadcast_to(g[:, None, :].astype(np.float64) / 7, x.shape)
        assert_close(out, x64.mean(axis=1), dtype)
    assert_close(dx, expected_dx, dtype)


@pytest.mark.parametrize("k", [1, 3, 40])  # 40: the argsort path (k above 32)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_k_max_kernels_match_reference_with_ties(k, dtype, variant):
    # Small integers: many ties, which must keep the earliest steps.
    x = rng.integers(-3, 4, (2, 45, 3)).astype(dtype)
    out = np.empty((2, k, 3), dtype=dtype)
    idx = np.empty((2, k, 3), dtype=np.int64)
    kernel("k_max_forward", variant)(x, k, out, idx)
    expected, steps = ref.ref_k_max_pool(x, k)
    np.testing.assert_array_equal(idx, steps)
    assert_close(out, expected, dtype)
    g = rng.standard_normal((2, k, 3)).astype(dtype)
    dx = np.empty_like(x)
    kernel("k_max_backward", variant)(g, idx, dx)
    expected_dx = np.zeros(x.shape)
    for n in range(2):
        for j in range(k):
            for c in range(3):
                expected_dx[n, steps[n, j, c], c] += g[n, j, c]
    assert_close(dx, expected_dx, dtype)


def test_k_max_keeps_time_order():
    x = np.array([[[1.0], [9.0], [2.0], [7.0], [8.0], [0.0]]])  # (1, 6, 1)
    out = layers.KMaxPooling1D(3)(x)
    np.testing.assert_array_equal(out.data[0, :, 0], [9.0, 7.0, 8.0])  # not sorted by value
    np.testing.assert_array_equal(layers.KMaxPooling1D(6)(x).data, x)


# ---------------------------------------------------------------- upsampling kernels


@pytest.mark.parametrize("size", [(3,), (2, 3), (2, 1, 3)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_upsample_nearest_kernels(size, dtype, variant):
    shape = (2,) + (3, 2, 4)[:len(size)] + (3,)
    x = rng.standard_normal(shape).astype(dtype)
    expected = ref.ref_upsample_nearest(x, size)
    x5 = x.reshape((2,) + lift(shape[1:-1], 1) + (3,))
    out = np.empty((2,) + lift(expected.shape[1:-1], 1) + (3,), dtype=dtype)
    kernel("upsample_nearest_forward", variant)(x5, lift(size, 1), out)
    assert_close(out.reshape(expected.shape), expected, dtype)
    # The backward is the forward's adjoint: <up(x), g> == <x, up'(g)>, and sums blocks.
    g = rng.standard_normal(out.shape).astype(dtype)
    dx = np.empty_like(x5)
    kernel("upsample_nearest_backward", variant)(g, lift(size, 1), dx)
    expected_dx = np.zeros(x.shape)
    gr = g.reshape(expected.shape).astype(np.float64)
    for o in np.ndindex(*expected.shape[1:-1]):
        source = tuple(i // f for i, f in zip(o, size))
        expected_dx[(slice(None),) + source] += gr[(slice(None),) + o]
    assert_close(dx.reshape(x.shape), expected_dx, dtype)


@pytest.mark.parametrize("size", [(2, 2), (3, 2), (1, 4)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_upsample_bilinear_kernels(size, dtype, variant):
    x = rng.standard_normal((2, 3, 4, 2)).astype(dtype)
    coords = (kernels.bilinear_coordinates(3, size[0], dtype),
              kernels.bilinear_coordinates(4, size[1], dtype))
    out = np.empty((2, 3 * size[0], 4 * size[1], 2), dtype=dtype)
    kernel("upsample_bilinear_forward", variant)(x, *coords[0], *coords[1], out)
    assert_close(out, ref.ref_upsample_bilinear(x, size), dtype)
    g = rng.standard_normal(out.shape).astype(dtype)
    dx = np.empty_like(x)
    kernel("upsample_bilinear_backward", variant)(g, *coords[0], *coords[1], dx)
    assert_close(dx, ref.ref_upsample_bilinear_grad(x.shape, g, size), dtype)


def test_bilinear_upsampling_by_hand():
    # TensorFlow's resize (half-pixel centers): output column j samples input column
    # (j + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 -> clamped 0, 0.25, 0.75, 1 (clamped).
    x = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    out = pooling_ops.upsample(x, (2, 2), interpolation="bilinear").data[0, :, :, 0]
    expected = [[1.0, 1.25, 1.75, 2.0],
                [1.5, 1.75, 2.25, 2.5],
                [2.5, 2.75, 3.25, 3.5],
                [3.0, 3.25, 3.75, 4.0]]
    np.testing.assert_allclose(out, expected, rtol=1e-12)


# ---------------------------------------------------------------- layers


POOL_LAYERS = [
    lambda: layers.MaxPooling1D(),
    lambda: layers.MaxPooling1D(3, strides=2, padding="same"),
    lambda: layers.MaxPooling2D(),
    lambda: layers.MaxPooling2D((3, 2), strides=1, padding="same"),
    lambda: layers.MaxPooling2D(2, data_format="channels_first"),
    lambda: layers.MaxPooling3D(2, padding="same"),
    lambda: layers.AveragePooling1D(2, strides=1),
    lambda: layers.AveragePooling2D(3, strides=2, padding="same"),
    lambda: layers.AveragePooling2D((2, 3), data_format="channels_first", padding="same"),
    lambda: layers.AveragePooling3D((1, 2, 2)),
    lambda: layers.GlobalMaxPooling1D(),
    lambda: layers.GlobalMaxPooling2D(keepdims=True),
    lambda: layers.GlobalMaxPooling3D(data_format="channels_first"),
    lambda: layers.GlobalAveragePooling1D(data_format="channels_first"),
    lambda: layers.GlobalAveragePooling2D(),
    lambda: layers.GlobalAveragePooling3D(keepdims=True),
    lambda: layers.KMaxPooling1D(2),
]


@pytest.mark.parametrize("make", POOL_LAYERS)
def test_pooling_layer_gradients(float64, make):
    layer = make()
    rank = layer.input_spec.ndim
    x = draw_without_ties((2,) + (5, 4, 3)[:rank - 2] + (3,))
    check_layer_gradients(layer, x)


def test_global_average_pooling_1d_mask(float64):
    x = rng.standard_normal((2, 4, 3))
    mask = np.array([[True, True, False, True], [False, True, False, False]])
    layer = layers.GlobalAveragePooling1D()
    out = layer(x, mask=mask)
    expected = np.stack([x[i][mask[i]].mean(axis=0) for i in range(2)])
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert out._keras_mask is None
    check_layer_gradients(layer, x, mask=mask)
    first = layers.GlobalAveragePooling1D(data_format="channels_first", keepdims=True)
    np.testing.assert_allclose(first(np.moveaxis(x, -1, 1), mask=mask).data[..., 0], expected,
                               rtol=1e-12)


def test_global_average_pooling_1d_uses_an_embedding_mask():
    from kerasr.layers import Embedding
    idx = np.array([[3, 4, 0, 0]])
    emb = Embedding(5, 2, mask_zero=True)
    vectors = emb(idx)
    out = layers.GlobalAveragePooling1D()(vectors)
    np.testing.assert_allclose(out.data, vectors.data[0, :2].mean(axis=0, keepdims=True),
                               rtol=1e-6)


def test_pooling_values_against_reference():
    x = rng.standard_normal((2, 6, 5, 3)).astype(np.float32)
    out = layers.MaxPooling2D(2, strides=(2, 1))(x)
    assert out.dtype == np.float32
    assert_close(out.data, ref.ref_pool(x, (2, 2), (2, 1), "valid", "max"), np.float32)
    out = layers.AveragePooling2D(3, padding="same")(x)
    assert_close(out.data, ref.ref_pool(x, (3, 3), (3, 3), "same", "average"), np.float32)
    np.testing.assert_allclose(layers.GlobalMaxPooling2D()(x).data, x.max(axis=(1, 2)))
    np.testing.assert_allclose(layers.GlobalAveragePooling2D(keepdims=True)(x).data,
                               x.mean(axis=(1, 2), keepdims=True), rtol=1e-6)


# Output shapes by Keras's formulas: "valid" floor((n - p) / s) + 1, "same" ceil(n / s).
SHAPE_TABLE = [
    (lambda: layers.MaxPooling1D(), (None, 100, 8), (None, 50, 8)),
    (lambda: layers.MaxPooling1D(3), (None, 100, 8), (None, 33, 8)),
    (lambda: layers.MaxPooling1D(3, strides=2, padding="same"), (None, 100, 8), (None, 50, 8)),
    (lambda: layers.MaxPooling1D(5, strides=1), (None, 7, 2), (None, 3, 2)),
    (lambda: layers.MaxPooling1D(2, data_format="channels_first"), (None, 8, 9), (None, 8, 4)),
    (lambda: layers.MaxPooling2D(), (None, 26, 26, 32), (None, 13, 13, 32)),
    (lambda: layers.MaxPooling2D(), (None, 11, 11, 64), (None, 5, 5, 64)),
    (lambda: layers.MaxPooling2D(3, strides=2), (None, 11, 11, 64), (None, 5, 5, 64)),
    (lambda: layers.MaxPooling2D(3, strides=2, padding="same"), (None, 11, 10, 4),
     (None, 6, 5, 4)),
    (lambda: layers.AveragePooling2D((2, 3), strides=(1, 2)), (None, 7, 9, 3), (None, 6, 4, 3)),
    (lambda: layers.AveragePooling2D(2, data_format="channels_first"), (None, 3, 9, 8),
     (None, 3, 4, 4)),
    (lambda: layers.AveragePooling2D(2), (None, None, 8, 3), (None, None, 4, 3)),
    (lambda: layers.MaxPooling3D(), (None, 5, 6, 7, 2), (None, 2, 3, 3, 2)),
    (lambda: layers.AveragePooling3D(2, padding="same"), (None, 5, 6, 7, 2), (None, 3, 3, 4, 2)),
    (lambda: layers.GlobalMaxPooling1D(), (None, 10, 16), (None, 16)),
    (lambda: layers.GlobalMaxPooling1D(keepdims=True), (None, 10, 16), (None, 1, 16)),
    (lambda: layers.GlobalAveragePooling1D(data_format="channels_first", keepdims=True),
     (None, 16, 10), (None, 16, 1)),
    (lambda: layers.GlobalAveragePooling2D(), (None, 7, 7, 512), (None, 512)),
    (lambda: layers.GlobalMaxPooling2D(data_format="channels_first"), (None, 3, 7, 7),
     (None, 3)),
    (lambda: layers.GlobalAveragePooling3D(keepdims=True), (None, 2, 3, 4, 5),
     (None, 1, 1, 1, 5)),
    (lambda: layers.KMaxPooling1D(3), (None, 20, 8), (None, 3, 8)),
]


@pytest.mark.parametrize("make, input_shape, expected", SHAPE_TABLE)
def test_output_shapes(make, input_shape, expected):
    layer = make()
    assert layer.compute_output_shape(input_shape) == expected
    concrete = tuple(2 if d is None else d for d in input_shape)
    out = layer(np.zeros(concrete, dtype=np.float32))
    assert (None,) + out.shape[1:] == layer.compute_output_shape((None,) + concrete[1:])
    if None not in input_shape[1:]:
        assert (None,) + out.shape[1:] == expected


def test_book_convnet_pooling_chain():
    from kerasr import keras_model_sequential
    model = keras_model_sequential(input_shape=(26, 26, 32))
    model | layer_max_pooling_2d(pool_size=c(2, 2))
    model | layer_max_pooling_2d(pool_size=2)
    assert model.outputs[0].shape == (None, 6, 6, 32)
    assert model.layers[0].pool_size == (2, 2) and model.layers[1].strides == (2, 2)


def c(*values):
    """R's c(): a vector of the values."""
    return list(values)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("make, message", [
    (lambda: layers.MaxPooling2D(0), "pool_size must be a positive integer"),
    (lambda: layers.MaxPooling2D((2, -1)), "pool_size"),
    (lambda: layers.MaxPooling2D((2, 2, 2)), "tuple of 2"),
    (lambda: layers.MaxPooling1D(2.5), "pool_size"),
    (lambda: layers.AveragePooling2D(2, strides=0), "strides must be"),
    (lambda: layers.MaxPooling3D(2, padding="causal"), "padding must be 'valid' or 'same'"),
    (lambda: layers.MaxPooling2D(data_format="channels_middle"), "data_format"),
    (lambda: layers.GlobalAveragePooling2D(data_format="nchw"), "data_format"),
    (lambda: layers.KMaxPooling1D(0), "k must be a positive integer"),
    (lambda: layers.KMaxPooling1D(None), "k must be a positive integer"),
])
def test_bad_arguments_are_value_errors_naming_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()
    with pytest.raises(ValueError, match=r"^\w+: "):
        make()


@pytest.mark.parametrize("make, shape, message", [
    (lambda: layers.MaxPooling2D(3, name="pool_a"), (2, 2, 5, 1),
     r"pool_a: pool_size \(3, 3\) is larger than the input's spatial shape \(2, 5\)"),
    (lambda: layers.AveragePooling1D(4, name="pool_b"), (2, 3, 1), "pool_b: pool_size"),
    (lambda: layers.MaxPooling2D(name="pool_c"), (32, 28, 28),
     r"pool_c expects input of shape \(None, rows, cols, channels\), got \(32, 28, 28\)"),
    (lambda: layers.MaxPooling1D(name="pool_d"), (2, 4, 4, 1), "pool_d expects input"),
    (lambda: layers.GlobalMaxPooling2D(name="pool_e"), (2, 4, 3), "pool_e expects input"),
    (lambda: layers.KMaxPooling1D(5, name="kmax"), (2, 4, 3),
     r"kmax: k=5 is larger than the number of steps \(4\)"),
])
def test_bad_inputs_are_value_errors_naming_the_layer(make, shape, message):
    with pytest.raises(ValueError, match=message):
        make()(np.zeros(shape, dtype=np.float32))


def test_pool_larger_than_symbolic_input_fails_at_model_build():
    from kerasr import layer_input
    with pytest.raises(ValueError, match="pool_size"):
        layers.MaxPooling2D(4, name="p")(layer_input(shape=(3, 3, 1)))
    # "same" pads: a pool larger than the input still gives one output position.
    out = layers.MaxPooling2D(4, padding="same")(np.ones((1, 3, 3, 1), np.float32))
    assert out.shape == (1, 1, 1, 1) and out.data.item() == 1.0


def test_config_round_trip():
    for make in POOL_LAYERS:
        layer = make()
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config


def test_verbs():
    pool = layer_max_pooling_2d(pool_size=3, strides=c(1, 2), padding="same")
    assert isinstance(pool, layers.MaxPooling2D)
    assert (pool.pool_size, pool.strides, pool.padding) == ((3, 3), (1, 2), "same")
    assert layer_max_pooling_1d().pool_size == (2,)
    assert layer_max_pooling_3d().pool_size == (2, 2, 2)
    assert layer_average_pooling_2d(data_format="channels_first").data_format == "channels_first"
    x = np.arange(24, dtype=np.float32).reshape(1, 4, 6, 1)
    np.testing.assert_array_equal((x | layer_max_pooling_2d()).data[0, :, :, 0],
                                  [[7, 9, 11], [19, 21, 23]])
    seq = rng.standard_normal((2, 6, 3)).astype(np.float32)
    np.testing.assert_allclose((seq | layer_global_average_pooling_1d()).data, seq.mean(axis=1),
                               rtol=1e-6)
    kmax = layer_k_max_pooling_1d(2)
    assert isinstance(kmax, layers.KMaxPooling1D) and kmax.k == 2
    assert layer_k_max_pooling_1d(seq, k=3).shape == (2, 3, 3)
