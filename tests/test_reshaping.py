"""Spatial reshaping layers: upsampling (nearest and bilinear), zero padding, cropping and
spatial dropout. Values against numpy and the references, Keras's argument forms, gradient
checks in float64, output shapes, channels_first, errors naming the layer, and the verbs."""

import numpy as np
import pytest

import reference as ref
from gradcheck import check_layer_gradients
from kerasr import layers, set_random_seed
from kerasr.engine import GradientTape, Variable
from kerasr.verbs.pooling import (layer_cropping_1d, layer_cropping_2d, layer_cropping_3d,
                                  layer_spatial_dropout_1d, layer_spatial_dropout_2d,
                                  layer_spatial_dropout_3d, layer_upsampling_1d,
                                  layer_upsampling_2d, layer_upsampling_3d, layer_zero_padding_1d,
                                  layer_zero_padding_2d, layer_zero_padding_3d)

rng = np.random.default_rng(5)


# ---------------------------------------------------------------- upsampling


def test_upsampling_values():
    seq = rng.standard_normal((2, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(layers.UpSampling1D(3)(seq).data, np.repeat(seq, 3, axis=1))
    img = rng.standard_normal((2, 3, 4, 2)).astype(np.float32)
    np.testing.assert_array_equal(layers.UpSampling2D((2, 3))(img).data,
                                  np.repeat(np.repeat(img, 2, axis=1), 3, axis=2))
    vol = rng.standard_normal((1, 2, 3, 2, 2))
    np.testing.assert_allclose(layers.UpSampling3D((1, 2, 3), dtype="float64")(vol).data,
                               ref.ref_upsample_nearest(vol, (1, 2, 3)))
    out = layers.UpSampling2D((3, 2), interpolation="bilinear")(img)
    assert out.dtype == np.float32 and out.shape == (2, 9, 8, 2)
    np.testing.assert_allclose(out.data, ref.ref_upsample_bilinear(img, (3, 2)), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_upsampling_2d_channels_first(interpolation):
    img = rng.standard_normal((2, 3, 4, 2))
    last = layers.UpSampling2D(2, interpolation=interpolation, dtype="float64")(img)
    first = layers.UpSampling2D(2, data_format="channels_first", interpolation=interpolation,
                                dtype="float64")(np.moveaxis(img, -1, 1))
    np.testing.assert_allclose(first.data, np.moveaxis(last.data, -1, 1), rtol=1e-12)


RESHAPING_LAYERS = [
    lambda: layers.UpSampling1D(2),
    lambda: layers.UpSampling2D((2, 1)),
    lambda: layers.UpSampling2D(2, interpolation="bilinear"),
    lambda: layers.UpSampling2D((3, 2), data_format="channels_first", interpolation="bilinear"),
    lambda: layers.UpSampling3D(2, data_format="channels_first"),
    lambda: layers.ZeroPadding1D((1, 2)),
    lambda: layers.ZeroPadding2D(((1, 0), (2, 1))),
    lambda: layers.ZeroPadding2D(1, data_format="channels_first"),
    lambda: layers.ZeroPadding3D((1, 0, 2)),
    lambda: layers.Cropping1D((0, 2)),
    lambda: layers.Cropping2D(((1, 0), (0, 1))),
    lambda: layers.Cropping2D(1, data_format="channels_first"),
    lambda: layers.Cropping3D(((0, 1), (1, 0), (1, 1))),
    lambda: layers.SpatialDropout2D(0.5),  # identity at inference
]


@pytest.mark.parametrize("make", RESHAPING_LAYERS)
def test_reshaping_layer_gradients(float64, make):
    layer = make()
    rank = layer.input_spec.ndim
    x = rng.standard_normal((2,) + (5, 4, 4)[:rank - 2] + (3,))
    check_layer_gradients(layer, x)


# ---------------------------------------------------------------- padding and cropping


@pytest.mark.parametrize("make, pairs", [
    (lambda: layers.ZeroPadding1D(), ((1, 1),)),
    (lambda: layers.ZeroPadding1D(3), ((3, 3),)),
    (lambda: layers.ZeroPadding1D((0, 2)), ((0, 2),)),
    (lambda: layers.ZeroPadding2D(), ((1, 1), (1, 1))),
    (lambda: layers.ZeroPadding2D(2), ((2, 2), (2, 2))),
    (lambda: layers.ZeroPadding2D((1, 3)), ((1, 1), (3, 3))),
    (lambda: layers.ZeroPadding2D([[1, 2], [0, 3]]), ((1, 2), (0, 3))),
    (lambda: layers.ZeroPadding2D((1, (0, 2))), ((1, 1), (0, 2))),
    (lambda: layers.ZeroPadding3D(), ((1, 1), (1, 1), (1, 1))),
    (lambda: layers.ZeroPadding3D((1, 2, 0)), ((1, 1), (2, 2), (0, 0))),
    (lambda: layers.Cropping1D(), ((1, 1),)),
    (lambda: layers.Cropping1D(2), ((2, 2),)),
    (lambda: layers.Cropping2D(), ((0, 0), (0, 0))),
    (lambda: layers.Cropping2D(((2, 2), (4, 4))), ((2, 2), (4, 4))),
    (lambda: layers.Cropping2D((1, 0)), ((1, 1), (0, 0))),
    (lambda: layers.Cropping3D(), ((1, 1), (1, 1), (1, 1))),
    (lambda: layers.Cropping3D(((0, 1), 2, (3, 0))), ((0, 1), (2, 2), (3, 0))),
])
def test_padding_and_cropping_argument_forms(make, pairs):
    layer = make()
    widths = layer.padding if hasattr(layer, "padding") else layer.cropping
    assert widths == pairs
    rank = len(pairs)
    x = rng.standard_normal((2,) + (9, 10, 11)[:rank] + (3,)).astype(np.float32)
    inner = (slice(None),) + tuple(slice(a, x.shape[i + 1] - b) for i, (a, b) in
                                   enumerate(pairs)) + (slice(None),)
    out = layer(x).data
    if "padding" in layer.name:
        np.testing.assert_array_equal(out, np.pad(x, ((0, 0),) + pairs + ((0, 0),)))
    else:
        np.testing.assert_array_equal(out, x[inner])
    assert (None,) + out.shape[1:] == layer.compute_output_shape((None,) + x.shape[1:])


def test_padding_and_cropping_channels_first_and_round_trip():
    x = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    padded = layers.ZeroPadding2D(((1, 2), (3, 0)), data_format="channels_first")(x)
    np.testing.assert_array_equal(padded.data, np.pad(x, ((0, 0), (0, 0), (1, 2), (3, 0))))
    back = layers.Cropping2D(((1, 2), (3, 0)), data_format="channels_first")(padded)
    np.testing.assert_array_equal(back.data, x)
    seq = rng.standard_normal((2, 3, 7)).astype(np.float32)  # (batch, features, steps)
    np.testing.assert_array_equal(layers.ZeroPadding1D(2, data_format="channels_first")(seq).data,
                                  np.pad(seq, ((0, 0), (0, 0), (2, 2))))


def test_cropping_gradient_is_zero_outside():
    x = Variable(np.ones((1, 4, 1)))
    with GradientTape() as tape:
        out = layers.Cropping1D((1, 2), dtype="float64")(x)
    np.testing.assert_array_equal(tape.gradient(out, x)[0, :, 0], [0.0, 1.0, 0.0, 0.0])


# ---------------------------------------------------------------- spatial dropout


@pytest.mark.parametrize("make, shape, channel_axis", [
    (lambda: layers.SpatialDropout1D(0.5), (20, 6, 8), -1),
    (lambda: layers.SpatialDropout2D(0.5), (20, 4, 5, 8), -1),
    (lambda: layers.SpatialDropout2D(0.5, data_format="channels_first"), (20, 8, 4, 5), 1),
    (lambda: layers.SpatialDropout3D(0.5), (20, 2, 3, 4, 8), -1),
    (lambda: layers.SpatialDropout3D(0.5, data_format="channels_first"), (20, 8, 2, 3, 4), 1),
])
def test_spatial_dropout_drops_whole_channels(make, shape, channel_axis):
    layer = make()
    x = np.ones(shape, dtype=np.float32)
    np.testing.assert_array_equal(layer(x).data, x)  # inference: the identity
    out = layer(x, training=True).data
    assert out.dtype == np.float32 and out.shape == shape
    maps = np.moveaxis(out, channel_axis, 1).reshape(shape[0], 8, -1)
    # Every (sample, channel) map is all dropped or all kept and scaled by 1 / (1 - rate).
    assert np.all((maps == maps[:, :, :1]).all(axis=-1))
    assert set(np.unique(maps)) <= {0.0, 2.0}
    assert 0.3 < (maps[:, :, 0] == 0).mean() < 0.7


def test_spatial_dropout_gradient_follows_the_mask(float64):
    set_random_seed(3)
    layer = layers.SpatialDropout1D(0.4)
    x = Variable(rng.standard_normal((4, 5, 6)))
    w = rng.standard_normal((4, 5, 6))
    with GradientTape() as tape:
        out = layer(x, training=True)
    grad = tape.gradient(out, x, output_gradients=w)
    mask = out.data / x.data
    assert set(np.round(np.unique(mask), 12)) <= {0.0, round(1 / 0.6, 12)}
    np.testing.assert_allclose(grad, w * mask, rtol=1e-12)
    set_random_seed(3)
    again = layers.SpatialDropout1D(0.4)(x, training=True)
    np.testing.assert_array_equal(again.data, out.data)  # reproducible with the seed


# ---------------------------------------------------------------- shapes and errors


SHAPE_TABLE = [
    (lambda: layers.UpSampling1D(), (None, 5, 3), (None, 10, 3)),
    (lambda: layers.UpSampling1D(4), (None, None, 3), (None, None, 3)),
    (lambda: layers.UpSampling2D(), (None, 7, 7, 16), (None, 14, 14, 16)),
    (lambda: layers.UpSampling2D((1, 3), data_format="channels_first"), (None, 16, 7, 5),
     (None, 16, 7, 15)),
    (lambda: layers.UpSampling3D(), (None, 2, 3, 4, 1), (None, 4, 6, 8, 1)),
    (lambda: layers.ZeroPadding1D(), (None, 5, 3), (None, 7, 3)),
    (lambda: layers.ZeroPadding2D(((1, 2), (3, 4))), (None, 28, 28, 1), (None, 31, 35, 1)),
    (lambda: layers.ZeroPadding2D(2, data_format="channels_first"), (None, 1, 28, 28),
     (None, 1, 32, 32)),
    (lambda: layers.ZeroPadding3D(), (None, 2, 3, 4, 1), (None, 4, 5, 6, 1)),
    (lambda: layers.Cropping1D(), (None, 5, 3), (None, 3, 3)),
    (lambda: layers.Cropping2D(((2, 2), (4, 4))), (None, 28, 28, 3), (None, 24, 20, 3)),
    (lambda: layers.Cropping2D(1, data_format="channels_first"), (None, 3, 28, 28),
     (None, 3, 26, 26)),
    (lambda: layers.Cropping3D(), (None, 3, 4, 5, 1), (None, 1, 2, 3, 1)),
    (lambda: layers.SpatialDropout1D(0.2), (None, 5, 3), (None, 5, 3)),
]


@pytest.mark.parametrize("make, input_shape, expected", SHAPE_TABLE)
def test_output_shapes(make, input_shape, expected):
    layer = make()
    assert layer.compute_output_shape(input_shape) == expected
    if None in input_shape[1:]:
        return
    out = layer(np.zeros((2,) + input_shape[1:], dtype=np.float32))
    assert (None,) + out.shape[1:] == expected


@pytest.mark.parametrize("make, message", [
    (lambda: layers.UpSampling1D(0), "size must be a positive integer"),
    (lambda: layers.UpSampling2D((2, 0)), "size"),
    (lambda: layers.UpSampling2D(interpolation="bicubic"), "interpolation must be one of"),
    (lambda: layers.UpSampling3D(data_format="nhwc"), "data_format"),
    (lambda: layers.ZeroPadding1D(-1), "padding must be a non-negative integer"),
    (lambda: layers.ZeroPadding2D((1, 2, 3)), "padding must be an int, a tuple of 2"),
    (lambda: layers.ZeroPadding2D(((1, 2, 3), (1, 1))), "1st entry of padding"),
    (lambda: layers.ZeroPadding3D(((1, 1), (1, 1), (-1, 1))), "3rd entry of padding"),
    (lambda: layers.Cropping1D((1, 2, 3)), "cropping must be"),
    (lambda: layers.Cropping2D(-2), "cropping must be a non-negative integer"),
    (lambda: layers.SpatialDropout1D(1.0), "rate must be a number in"),
    (lambda: layers.SpatialDropout2D(-0.1), "rate must be a number in"),
])
def test_bad_arguments_are_value_errors_naming_the_layer(make, message):
    with pytest.raises(ValueError, match=r"^\w+: .*" + message):
        make()


@pytest.mark.parametrize("make, shape, message", [
    (lambda: layers.Cropping1D((2, 3), name="crop_a"), (2, 5, 1),
     r"crop_a: cropping \(\(2, 3\),\) removes all of a spatial axis of size 5"),
    (lambda: layers.Cropping2D(((0, 0), (3, 3)), name="crop_b"), (2, 8, 6, 1), "crop_b: cropping"),
    (lambda: layers.Cropping3D(name="crop_c"), (1, 3, 2, 5, 1), "crop_c: cropping"),
    (lambda: layers.UpSampling2D(name="up_a"), (2, 4, 4),
     r"up_a expects input of shape \(None, rows, cols, channels\), got \(2, 4, 4\)"),
    (lambda: layers.ZeroPadding2D(data_format="channels_first", name="pad_a"), (2, 4, 4),
     r"pad_a expects input of shape \(None, channels, rows, cols\)"),
    (lambda: layers.SpatialDropout1D(0.5, name="drop_a"), (2, 4, 4, 1), "drop_a expects input"),
])
def test_bad_inputs_are_value_errors_naming_the_layer(make, shape, message):
    with pytest.raises(ValueError, match=message):
        make()(np.zeros(shape, dtype=np.float32))


def test_config_round_trip():
    for make in RESHAPING_LAYERS + [lambda: layers.SpatialDropout1D(0.3, seed=4),
                                    lambda: layers.SpatialDropout3D(0.1), layers.Cropping1D]:
        layer = make()
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config


def test_verbs():
    def c(*values):
        return list(values)

    assert layer_upsampling_1d().size == (2,)
    up = layer_upsampling_2d(size=c(2, 3), interpolation="bilinear")
    assert (up.size, up.interpolation) == ((2, 3), "bilinear")
    assert layer_upsampling_3d(size=2).size == (2, 2, 2)
    assert layer_zero_padding_1d().padding == ((1, 1),)
    assert layer_zero_padding_2d(padding=c(c(1, 0), c(2, 2))).padding == ((1, 0), (2, 2))
    assert layer_zero_padding_3d(padding=1).padding == ((1, 1),) * 3
    assert layer_cropping_1d(cropping=c(0, 3)).cropping == ((0, 3),)
    assert layer_cropping_2d().cropping == ((0, 0), (0, 0))
    assert layer_cropping_3d(cropping=0).cropping == ((0, 0),) * 3
    drop = layer_spatial_dropout_1d(0.25)
    assert isinstance(drop, layers.SpatialDropout1D) and drop.rate == 0.25
    assert layer_spatial_dropout_2d(rate=0.5, data_format="channels_first").data_format == \
        "channels_first"
    assert layer_spatial_dropout_3d(0.1, seed=7).seed == 7
    x = np.arange(6, dtype=np.float32).reshape(1, 3, 2)
    np.testing.assert_array_equal((x | layer_zero_padding_1d(padding=1)).data[0, :, 0],
                                  [0, 0, 2, 4, 0])
