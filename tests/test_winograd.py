"""Winograd's F(2x2, 3x3) (kernels/winograd.py) against the float64 loop convolution: odd and
even output sizes, both paddings, bias and activations; when it applies; the filter
transform written out by hand."""

import numpy as np
import pytest

import reference as ref
from kerasr.kernels import ACTIVATION_CODES
from kerasr.kernels import convolution as conv_kernels
from kerasr.kernels import winograd
from kerasr.ops import convolution as conv_ops

rng = np.random.default_rng(41)


def geometry_of(spatial, padding, ksize=(3, 3), strides=(1, 1), dilation=(1, 1)):
    out_size, pads = conv_ops.conv_geometry(spatial, ksize, strides, padding, dilation)
    lift = (lambda values, fill: (fill,) * (3 - len(values)) + tuple(values))
    return conv_kernels.Geometry(lift(ksize, 1), lift(strides, 1), lift(dilation, 1),
                                 lift(pads, 0), lift(out_size, 1))


# (height, width, channels, filters, padding): outputs of even and odd sizes, one tile
# short of a row or column, a single tile, "same" with zeros on both sides
CASES = [
    (6, 6, 8, 3, "valid"),
    (7, 8, 9, 4, "valid"),
    (5, 7, 8, 2, "same"),
    (3, 3, 8, 2, "same"),
    (4, 3, 10, 5, "valid"),
    (13, 13, 16, 6, "valid"),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["linear", "relu", "swish"])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "x".join(map(str, c[:4])) + c[4])
def test_rows_match_the_loop_convolution(case, with_bias, activation, dtype):
    height, width, channels, filters, padding = case
    x = rng.standard_normal((3, height, width, channels)).astype(dtype)
    w = rng.standard_normal((3, 3, channels, filters)).astype(dtype)
    bias = rng.standard_normal(filters).astype(dtype) if with_bias else np.empty(0, dtype)
    geometry = geometry_of((height, width), padding)
    z = np.empty((3 * geometry.positions, filters), dtype)
    winograd.winograd_rows(x[:, None], winograd.filter_transform(w[None]), bias,
                           ACTIVATION_CODES[activation], 0.0, geometry.pad, geometry.out_size,
                           z, z)
    expected = ref.ref_convnd(x, w, (1, 1), (1, 1), padding)
    if with_bias:
        expected = expected + bias
    expected = ref.ref_activation(expected, activation)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(z.reshape(expected.shape), expected, **tol)


def test_filter_transform_is_g_kernel_g_transposed():
    g = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
    w = rng.standard_normal((1, 3, 3, 2, 3))
    u = winograd.filter_transform(w).reshape(4, 4, 2, 3)
    for c in range(2):
        for f in range(3):
            np.testing.assert_allclose(u[:, :, c, f], g @ w[0, :, :, c, f] @ g.T, rtol=1e-14)
    assert winograd.filter_transform(w.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("spatial, padding, ksize, strides, dilation, channels, expected", [
    ((13, 13), "valid", (3, 3), (1, 1), (1, 1), 32, True),    # MNIST convnet's second
    ((5, 5), "valid", (3, 3), (1, 1), (1, 1), 64, False),     # its third: 9 of 16 used
    ((28, 28), "valid", (3, 3), (1, 1), (1, 1), 1, False),    # its first: one channel
    ((150, 150), "same", (3, 3), (1, 1), (1, 1), 32, True),
    ((13, 13), "valid", (3, 3), (2, 2), (1, 1), 32, False),
    ((13, 13), "valid", (3, 3), (1, 1), (2, 2), 32, False),
    ((13, 13), "valid", (5, 5), (1, 1), (1, 1), 32, False),
    ((13,), "valid", (3,), (1,), (1,), 32, False),
    ((4, 13, 13), "valid", (1, 3, 3), (1, 1, 1), (1, 1, 1), 32, False),  # depth > 1
])
def test_applies(spatial, padding, ksize, strides, dilation, channels, expected):
    geometry = geometry_of(spatial, padding, ksize, strides, dilation)
    assert winograd.applies(geometry, channels) is expected
