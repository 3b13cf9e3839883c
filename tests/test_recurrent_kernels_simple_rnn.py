"""The fused SimpleRNN sequence op (kerasr/ops/simple_rnn.py over
kerasr/kernels/simple_rnn.py) against the step-by-step float64 reference, float32 and
float64, serial and parallel kernels; float64 central-difference gradients; serial and
parallel bit-identical."""

import numpy as np
import pytest

import reference as ref
from gradcheck import check_gradients
from kerasr import ops
from kerasr.engine import GradientTape, Variable
from kerasr.kernels import simple_rnn as rnn_kernels
from kerasr.ops.simple_rnn import simple_rnn_sequence

DTYPES = [np.float32, np.float64]
ACTIVATIONS = ["tanh", "sigmoid", "hard_sigmoid", "relu", "linear"]
KERNELS = ("simple_rnn_forward", "simple_rnn_backward")


@pytest.fixture(params=["serial", "parallel"])
def variant(request, monkeypatch):
    """The entry points run with the serial (their choice here) or the parallel copies."""
    if request.param == "parallel":
        for name in KERNELS:
            monkeypatch.setattr(rnn_kernels, f"_{name}_serial",
                                getattr(rnn_kernels, f"_{name}_parallel"))
    return request.param


def tol(dtype):
    return dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=2e-6)


def make(rng, batch=5, steps=7, features=3, units=4, use_bias=True, dtype=np.float64,
         scale=0.5):
    x = rng.normal(size=(batch, steps, features))
    h0 = rng.normal(size=(batch, units)) * 0.5
    w = rng.normal(size=(features, units)) * scale
    u = rng.normal(size=(units, units)) * scale
    arrays = [x, h0, w, u] + ([rng.normal(size=units) * 0.3] if use_bias else [])
    return [a.astype(dtype) for a in arrays]


def masks(rng, batch, steps, kind):
    if kind is None:
        return None
    if kind == "random":
        m = rng.random((batch, steps)) > 0.35
    else:  # "padding": leading padding on some rows, trailing on others
        m = np.ones((batch, steps), bool)
        m[0, :3] = False
        m[1, -2:] = False
        m[2, 1:4] = False
    m[-1] = False  # a fully masked row
    m[-2, :] = True
    return m


def dropout_mask(rng, batch, units, use, dtype, rate=0.4):
    return ((rng.random((batch, units)) >= rate) / (1 - rate)).astype(dtype) if use else None


def run(tensors, **options):
    b = tensors[4] if len(tensors) > 4 else None
    out, (h,) = simple_rnn_sequence(tensors[0], [tensors[1]], tensors[2], tensors[3], b,
                                    **options)
    return out, h


def reference(arrays, **options):
    b = arrays[4] if len(arrays) > 4 else None
    out, (h,) = ref.simple_rnn_sequence_reference(arrays[0], [arrays[1]], arrays[2], arrays[3],
                                                  b, **options)
    return out, h


def as_tensors(arrays):
    return [Variable(np.array(a)) for a in arrays]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask_kind", [None, "random", "padding"])
@pytest.mark.parametrize("use_rdm", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
def test_forward_matches_reference(variant, dtype, mask_kind, use_rdm, return_sequences,
                                   go_backwards, zero_output_for_mask, use_bias):
    rng = np.random.default_rng(1)
    arrays = make(rng, dtype=dtype, use_bias=use_bias)
    options = dict(mask=masks(rng, 5, 7, mask_kind),
                   recurrent_dropout_mask=dropout_mask(rng, 5, 4, use_rdm, dtype),
                   go_backwards=go_backwards, return_sequences=return_sequences,
                   zero_output_for_mask=zero_output_for_mask)
    out, h = run(as_tensors(arrays), **options)
    expected_out, expected_h = reference(arrays, **options)
    assert out.dtype == dtype and h.dtype == dtype
    assert out.shape == ((5, 7, 4) if return_sequences else (5, 4))
    np.testing.assert_allclose(out.data, expected_out, **tol(dtype))
    np.testing.assert_allclose(h.data, expected_h, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activations_match_reference(variant, dtype, activation):
    rng = np.random.default_rng(2)
    arrays = make(rng, dtype=dtype, steps=12, scale=0.4)
    options = dict(activation=activation, return_sequences=True,
                   mask=masks(rng, 5, 12, "random"))
    out, h = run(as_tensors(arrays), **options)
    expected_out, expected_h = reference(arrays, **options)
    scale = max(1.0, float(np.abs(expected_out).max()))  # relu / linear are unbounded
    np.testing.assert_allclose(out.data, expected_out, rtol=tol(dtype)["rtol"],
                               atol=tol(dtype)["atol"] * scale)
    np.testing.assert_allclose(h.data, expected_h, rtol=tol(dtype)["rtol"],
                               atol=tol(dtype)["atol"] * scale)


GRAD_CASES = [
    # (mask, rdm, return_sequences, go_backwards, zero_output, activation)
    (None, False, False, False, False, "tanh"),
    (None, True, True, False, False, "tanh"),
    ("random", True, True, True, False, "sigmoid"),
    ("padding", False, True, False, True, "tanh"),
    ("padding", True, False, True, True, "linear"),
    ("random", True, False, False, False, "relu"),
    ("random", False, True, False, False, "hard_sigmoid"),
]


@pytest.mark.parametrize("case", GRAD_CASES)
@pytest.mark.parametrize("use_bias", [True, False])
def test_gradients_match_central_differences(variant, case, use_bias):
    mask_kind, use_rdm, return_sequences, go_backwards, zero_output, activation = case
    rng = np.random.default_rng(4)
    arrays = make(rng, batch=4, steps=6, features=3, units=3, use_bias=use_bias, scale=0.8)
    options = dict(mask=masks(rng, 4, 6, mask_kind),
                   recurrent_dropout_mask=dropout_mask(rng, 4, 3, use_rdm, np.float64),
                   return_sequences=return_sequences, go_backwards=go_backwards,
                   zero_output_for_mask=zero_output, activation=activation)

    def fn(*tensors):
        return list(run(list(tensors), **options))

    check_gradients(fn, *arrays, rtol=1e-6, atol=1e-8)


def _forward_and_gradients(arrays, options):
    tensors = as_tensors(arrays)
    with GradientTape() as tape:
        out, h = run(tensors, **options)
        loss = ops.add(ops.sum(ops.multiply(out, out)), ops.sum(h))
    return [out.data, h.data] + tape.gradient(loss, tensors)


def test_float32_gradients_follow_float64(variant):
    rng = np.random.default_rng(5)
    arrays = make(rng, batch=6, steps=9, features=4, units=5)
    options = dict(mask=masks(rng, 6, 9, "random"), return_sequences=True,
                   recurrent_dropout_mask=dropout_mask(rng, 6, 5, True, np.float64))
    g64 = _forward_and_gradients(arrays, options)
    options32 = dict(options,
                     recurrent_dropout_mask=options["recurrent_dropout_mask"].astype(np.float32))
    g32 = _forward_and_gradients([a.astype(np.float32) for a in arrays], options32)
    for a, b in zip(g32, g64):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_serial_and_parallel_are_bit_identical(monkeypatch, dtype):
    rng = np.random.default_rng(6)
    arrays = make(rng, batch=37, steps=11, features=5, units=6, dtype=dtype)
    options = dict(mask=masks(rng, 37, 11, "random"), return_sequences=True, go_backwards=True,
                   recurrent_dropout_mask=dropout_mask(rng, 37, 6, True, dtype))
    serial = _forward_and_gradients(arrays, options)
    for name in KERNELS:
        monkeypatch.setattr(rnn_kernels, f"_{name}_serial",
                            getattr(rnn_kernels, f"_{name}_parallel"))
    parallel = _forward_and_gradients(arrays, options)
    for a, b in zip(serial, parallel):
        assert np.array_equal(a, b)


def test_unsupported_activation_raises():
    with pytest.raises(ValueError, match="activation"):
        run(as_tensors(make(np.random.default_rng(8))), activation="softplus")


def test_bad_shapes_raise():
    x, h0, w, u, b = as_tensors(make(np.random.default_rng(9)))
    with pytest.raises(ValueError, match="bias"):
        simple_rnn_sequence(x, [h0], w, u, Variable(np.zeros(5)))
    with pytest.raises(ValueError, match="initial state"):
        simple_rnn_sequence(x, [h0, h0], w, u, b)
    with pytest.raises(ValueError, match="mask"):
        simple_rnn_sequence(x, [h0], w, u, b, mask=np.ones((7, 5), bool))
