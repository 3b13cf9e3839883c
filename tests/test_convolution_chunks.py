"""The chunked convolution kernels (one group, either side, bias and activation fused into
each chunk of samples) against the float64 loop reference, for every chunking, both
compiled variants and both float types; the kernels' one-thread BLAS and small products."""

import ctypes
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

import reference as ref
from kerasr.kernels import ACTIVATION_CODES, needs_preactivation
from kerasr.kernels import _blas
from kerasr.kernels import convolution as conv_kernels
from kerasr.kernels import matmul as matmul_kernels
from kerasr.ops import convolution as conv_ops
from kerasr import (Layer, keras_model_sequential, layer_conv_2d, layer_dense, layer_gru,
                    layer_max_pooling_2d)

rng = np.random.default_rng(23)

DTYPES = [np.float32, np.float64]

# (spatial, kernel_size, strides, dilation, padding, channels, filters): one group each
CASES = [
    ((9,), (3,), (1,), (1,), "valid", 3, 4),
    ((8,), (3,), (1,), (2,), "causal", 2, 3),
    ((9,), (4,), (3,), (1,), "causal", 5, 3),
    ((7, 6), (3, 3), (1, 1), (1, 1), "valid", 1, 5),
    ((7, 8), (3, 3), (2, 2), (1, 1), "same", 1, 4),
    ((7, 6), (3, 3), (1, 1), (1, 1), "valid", 4, 3),
    ((6, 7), (3, 4), (2, 1), (2, 1), "same", 5, 2),
    ((3, 2), (3, 3), (1, 1), (1, 1), "same", 4, 2),
    ((6, 7), (2, 3), (1, 1), (2, 1), "same", 2, 3),
    ((4, 5, 6), (2, 2, 3), (2, 1, 1), (1, 2, 1), "same", 4, 2),
    ((4, 5, 7), (2, 2, 3), (1, 1, 1), (1, 1, 2), "valid", 2, 4),
]
CASE_IDS = [f"{len(c[0])}d-{c[4]}-s{c[2]}-d{c[3]}-c{c[5]}" for c in CASES]

# relu and tanh recover f' from the output; elu and swish keep the pre-activation z
ACTIVATIONS = ["linear", "relu", "tanh", "elu", "swish"]

# (CHUNK_ELEMENTS, MIN_CHUNKS): the default; one sample per chunk; a last chunk shorter
CHUNKINGS = [(conv_kernels.CHUNK_ELEMENTS, conv_kernels.MIN_CHUNKS), (1, 1), (1 << 30, 3)]


def tol(dtype):
    return dict(rtol=1e-11, atol=1e-11) if dtype == np.float64 else dict(rtol=3e-5, atol=3e-5)


@pytest.fixture(params=CHUNKINGS, ids=["default", "per-sample", "uneven"])
def chunking(request, monkeypatch):
    elements, least = request.param
    monkeypatch.setattr(conv_kernels, "CHUNK_ELEMENTS", elements)
    monkeypatch.setattr(conv_kernels, "MIN_CHUNKS", least)
    return request.param


def make_case(spatial, ksize, strides, dilation, padding, channels, filters, dtype, batch=5):
    x = rng.standard_normal((batch,) + spatial + (channels,)).astype(dtype)
    w = rng.standard_normal(ksize + (channels, filters)).astype(dtype)
    bias = rng.standard_normal(filters).astype(dtype)
    out_size, pads = conv_ops.conv_geometry(spatial, ksize, strides, padding, dilation)

    def lift(values, fill):
        return (fill,) * (3 - len(values)) + tuple(values)
    geometry = conv_kernels.Geometry(lift(ksize, 1), lift(strides, 1), lift(dilation, 1),
                                     lift(pads, 0), lift(out_size, 1))
    x5 = x.reshape((batch,) + lift(spatial, 1) + (channels,))
    w5 = w.reshape(lift(ksize, 1) + w.shape[-2:])
    return x, w, bias, x5, w5, geometry


def run_forward(x5, w5, bias, activation, geometry, keep_columns=True):
    code = ACTIVATION_CODES[activation]
    return conv_kernels.conv_activation_forward(
        x5, w5, bias, code, 1.0 if activation == "elu" else 0.0, geometry,
        keep_columns=keep_columns, keep_preactivation=needs_preactivation(code))


def run_backward(g, forward, activation, w5, x5, geometry, columns, needs=(True, True, True)):
    a, z, _ = forward
    return conv_kernels.conv_activation_backward(
        g, z, a, ACTIVATION_CODES[activation], 1.0 if activation == "elu" else 0.0, w5, x5,
        columns, geometry, *needs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_forward_and_backward_match_reference(chunk_kernel_variant, conv_side, chunking, dtype,
                                              activation, case):
    strides, dilation, padding = case[2], case[3], case[4]
    x, w, bias, x5, w5, geometry = make_case(*case, dtype)
    alpha = 1.0 if activation == "elu" else 0.0
    z_ref = ref.ref_convnd(x, w, strides, dilation, padding) + bias
    a_ref = ref.ref_activation(z_ref, activation, alpha)

    forward = run_forward(x5, w5, bias, activation, geometry)
    a, z, columns = forward
    assert a.dtype == dtype and (columns is None) == (conv_side == "output_side")
    np.testing.assert_allclose(a.reshape(a_ref.shape), a_ref, **tol(dtype))
    if needs_preactivation(ACTIVATION_CODES[activation]):
        np.testing.assert_allclose(z.reshape(z_ref.shape), z_ref, **tol(dtype))
    else:  # f' from the output alone: z was activated in place
        assert z is a
    # without kept columns (inference): each chunk's own scratch, the same numbers
    a_free, _, no_columns = run_forward(x5, w5, bias, activation, geometry, keep_columns=False)
    assert no_columns is None
    np.testing.assert_array_equal(a_free, a)

    g = rng.standard_normal(a_ref.shape).astype(dtype)
    dz_ref = g * ref.ref_activation_grad(z_ref, activation, alpha)
    dx_ref, dw_ref = ref.ref_convnd_grads(x, w, dz_ref, strides, dilation, padding)
    db_ref = dz_ref.reshape(-1, w.shape[-1]).sum(axis=0)
    g2 = g.reshape(-1, w.shape[-1])
    dx, dw, db = run_backward(g2, forward, activation, w5, x5, geometry, columns)
    np.testing.assert_allclose(dx.reshape(x.shape), dx_ref, **tol(dtype))
    np.testing.assert_allclose(dw.reshape(w.shape), dw_ref, **tol(dtype))
    np.testing.assert_allclose(db, db_ref, **tol(dtype))
    # the weight gradient from columns rebuilt out of x equals the one from kept columns
    rebuilt = run_backward(g2, forward, activation, w5, x5, geometry, None)
    for kept, again in zip((dx, dw, db), rebuilt):
        np.testing.assert_array_equal(again, kept)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_input_and_weight_gradients_alone_match_reference(chunk_kernel_variant, conv_side, dtype,
                                                          case):
    # The transposed convolution's forward (the input gradient) and weight gradient.
    strides, dilation, padding = case[2], case[3], case[4]
    x, w, _, x5, w5, geometry = make_case(*case, dtype)
    g = rng.standard_normal(ref.ref_convnd(x, w, strides, dilation, padding).shape).astype(dtype)
    dx_ref, dw_ref = ref.ref_convnd_grads(x, w, g, strides, dilation, padding)
    g2 = g.reshape(-1, w.shape[-1])
    dx = conv_kernels.chunked_input_grad(g2, w5, geometry, x5.shape)
    np.testing.assert_allclose(dx.reshape(x.shape), dx_ref, **tol(dtype))
    _, _, columns = run_forward(x5, w5, None, "linear", geometry)
    for kept in (columns, None):
        dw = conv_kernels.chunked_weight_grad(x5, g2, w5, geometry, kept)
        np.testing.assert_allclose(dw.reshape(w.shape), dw_ref, **tol(dtype))


def test_only_the_asked_gradients_are_computed(conv_side):
    x, w, bias, x5, w5, geometry = make_case(*CASES[5], np.float64)
    forward = run_forward(x5, w5, bias, "relu", geometry)
    g2 = rng.standard_normal(forward[0].shape)
    everything = run_backward(g2, forward, "relu", w5, x5, geometry, forward[2])
    for needs in [(True, False, False), (False, True, False), (False, False, True)]:
        got = run_backward(g2, forward, "relu", w5, x5, geometry, forward[2], needs)
        for wanted, value, full in zip(needs, got, everything):
            if wanted:
                np.testing.assert_array_equal(value, full)
            else:
                assert value is None


@pytest.mark.parametrize("dtype", DTYPES)
def test_serial_parallel_and_thread_counts_agree_bit_for_bit(monkeypatch, conv_side, dtype):
    # The weight and bias gradients are per-chunk partial sums added in chunk order; the
    # chunks depend on the shapes alone, so no variant or thread count changes a bit.
    monkeypatch.setattr(conv_kernels, "MIN_CHUNKS", 4)
    x, w, bias, x5, w5, geometry = make_case((13, 13), (3, 3), (1, 1), (1, 1), "valid", 8, 16,
                                             dtype, batch=11)
    g2 = None
    results = []
    for index, threads in [(0, 1), (1, 1), (1, numba.config.NUMBA_NUM_THREADS)]:
        monkeypatch.setattr(conv_kernels, "chunk_variant", lambda pair, i=index: pair[i])
        before = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            forward = run_forward(x5, w5, bias, "relu", geometry)
            if g2 is None:
                g2 = np.sin(forward[1] * 7)
            results.append(forward[:1] + run_backward(g2, forward, "relu", w5, x5, geometry,
                                                      forward[2]))
        finally:
            numba.set_num_threads(before)
    for other in results[1:]:
        for first, second in zip(results[0], other):
            np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("n_samples, per_sample", [(64, 34848), (128, 34848), (64, 5184),
                                                   (3, 10), (1, 10 ** 7), (100, 1), (13, 10 ** 5)])
def test_chunks_hold_the_budget_and_share_the_batch(n_samples, per_sample):
    n_chunks = conv_kernels.chunk_count(n_samples, per_sample)
    sizes = [(c + 1) * n_samples // n_chunks - c * n_samples // n_chunks for c in range(n_chunks)]
    assert sum(sizes) == n_samples and min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
    assert (max(sizes) - 1) * per_sample < conv_kernels.CHUNK_ELEMENTS
    if n_samples >= conv_kernels.MIN_CHUNKS:  # two, four or eight threads evenly loaded
        assert n_chunks % conv_kernels.MIN_CHUNKS == 0


@pytest.mark.parametrize("groups, expected", [(1, True), (2, False)])
def test_one_group_runs_chunked(groups, expected):
    geometry = conv_kernels.Geometry((1, 3, 3), (1, 1, 1), (1, 1, 1), (0, 0, 0), (1, 5, 5),
                                     groups)
    assert conv_kernels.chunked(geometry) == expected


# ---- the kernels' BLAS and small products ------------------------------------------------

def test_the_kernels_blas_is_held_to_one_thread():
    path = _blas.kernel_blas_path()
    if path is None:
        pytest.skip("no SciPy BLAS module found by address on this platform")
    library = ctypes.CDLL(path)
    getter = next((getattr(library, name) for name in
                   ("scipy_openblas_get_num_threads", "openblas_get_num_threads")
                   if hasattr(library, name)), None)
    if getter is None:
        pytest.skip("the kernels' BLAS is not an OpenBLAS")
    assert _blas.hold_kernel_blas() is True
    assert getter() == 1


def test_the_hold_can_be_switched_off():
    code = "import kerasr.kernels._blas as b, kerasr; print(b._held)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, KERASR_HOLD_KERNEL_BLAS="0"),
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m, k, n", [(64, 576, 64), (128, 64, 10), (1, 3, 1), (300, 300, 300)])
def test_matmul_matches_numpy_small_and_large(dtype, m, k, n):
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    for left, right in ((a, b), (np.asfortranarray(a), b), (a, np.asfortranarray(b)),
                        (np.ascontiguousarray(a.T).T, np.ascontiguousarray(b.T).T)):
        got = matmul_kernels.matmul(left, right)
        assert got.dtype == dtype and got.shape == (m, n)
        np.testing.assert_allclose(got, expected, **tol(dtype))
    if m * k * n >= matmul_kernels.SMALL_PRODUCT:  # large: parallel row chunks, kernel BLAS
        for left, right in ((a, b), (np.ascontiguousarray(a.T).T, np.asfortranarray(b))):
            got = matmul_kernels.matmul(left, right, large_on_kernel_blas=True)
            assert got.dtype == dtype
            np.testing.assert_allclose(got, expected, **tol(dtype))
    # a view that is neither C- nor F-contiguous is copied first
    wide = rng.standard_normal((m, 2 * k)).astype(dtype)
    np.testing.assert_allclose(matmul_kernels.matmul(wide[:, ::2], b),
                               wide[:, ::2].astype(np.float64) @ b, **tol(dtype))


def test_the_kernel_blas_setting_nests_and_restores():
    assert not matmul_kernels.large_on_kernel_blas()
    with matmul_kernels.large_products_on_kernel_blas(True):
        assert matmul_kernels.large_on_kernel_blas()
        with matmul_kernels.large_products_on_kernel_blas(False):  # the outer stays on
            assert matmul_kernels.large_on_kernel_blas()
        assert matmul_kernels.large_on_kernel_blas()
    assert not matmul_kernels.large_on_kernel_blas()
    with pytest.raises(RuntimeError):
        with matmul_kernels.large_products_on_kernel_blas(True):
            raise RuntimeError
    assert not matmul_kernels.large_on_kernel_blas()


class _Probe(Layer):
    """Records whether large products would run on the kernels' BLAS during its call."""

    def call(self, inputs):
        self.seen = matmul_kernels.large_on_kernel_blas()
        return inputs


@pytest.mark.parametrize("make_first, expected", [
    (lambda: layer_conv_2d(filters=2, kernel_size=3, input_shape=(5, 5, 1)), True),
    (lambda: layer_max_pooling_2d(pool_size=2, input_shape=(4, 4, 1)), True),
    (lambda: layer_gru(units=2, input_shape=(3, 2)), True),
    (lambda: layer_dense(units=2, input_shape=(3,)), False),
])
def test_models_with_layers_on_numba_threads_keep_their_products_there(make_first, expected):
    model = keras_model_sequential()
    first = make_first()
    probe = _Probe()
    model | first | probe
    shape = (2,) + tuple(first.batch_input_shape[1:])
    model(np.zeros(shape, np.float32))
    assert probe.seen is expected
    # a model nested in a plain one still counts
    outer = keras_model_sequential()
    outer_probe = _Probe()
    outer | layer_dense(units=shape[-1], input_shape=shape[1:]) | model | outer_probe
    outer(np.zeros(shape, np.float32))
    assert outer_probe.seen is expected
    assert not matmul_kernels.large_on_kernel_blas()
