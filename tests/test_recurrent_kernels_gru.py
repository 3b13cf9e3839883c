"""The fused GRU sequence op (kerasr/ops/gru.py over kerasr/kernels/gru.py) against the
step-by-step float64 reference, float32 and float64, serial and parallel kernels; float64
central-difference gradients; serial and parallel bit-identical."""

import numba
import numpy as np
import pytest

import reference as ref
from gradcheck import check_gradients
from kerasr import ops
from kerasr.engine import GradientTape, Variable
from kerasr.kernels import gru as gru_kernels
from kerasr.kernels import recurrent_common
from kerasr.ops.gru import gru_sequence

DTYPES = [np.float32, np.float64]
ACTIVATIONS = ["tanh", "sigmoid", "hard_sigmoid", "relu", "linear"]


@pytest.fixture(params=["serial", "parallel"])
def variant(request, monkeypatch):
    """The entry points run with the serial (their choice here) or the parallel copies."""
    if request.param == "parallel":
        for name in ("gru_forward", "gru_backward"):
            monkeypatch.setattr(gru_kernels, f"_{name}_serial",
                                getattr(gru_kernels, f"_{name}_parallel"))
    return request.param


def tol(dtype):
    return dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=2e-6)


def make(rng, batch=5, steps=7, features=3, units=4, reset_after=True, use_bias=True,
         dtype=np.float64, scale=0.6):
    x = rng.normal(size=(batch, steps, features))
    h0 = rng.normal(size=(batch, units)) * 0.5
    w = rng.normal(size=(features, 3 * units)) * scale
    u = rng.normal(size=(units, 3 * units)) * scale
    b = None
    if use_bias:
        b = rng.normal(size=(2, 3 * units) if reset_after else (3 * units,)) * 0.3
    arrays = [x, h0, w, u] + ([b] if use_bias else [])
    return [a.astype(dtype) for a in arrays]


def masks(rng, batch, steps, kind):
    if kind is None:
        return None
    if kind == "random":
        m = rng.random((batch, steps)) > 0.35
    elif kind == "padding":  # leading padding on some rows, trailing on others
        m = np.ones((batch, steps), bool)
        m[0, :3] = False
        m[1, -2:] = False
        m[2, 1:4] = False
    m[-1] = False  # a fully masked row
    m[-2, :] = True
    return m


def dropout_mask(rng, batch, units, kind, dtype, rate=0.4):
    if kind is None:
        return None
    shape = (batch, units) if kind == "shared" else (3, batch, units)
    return ((rng.random(shape) >= rate) / (1 - rate)).astype(dtype)


def run(arrays, **options):
    x, h0, w, u = arrays[:4]
    b = arrays[4] if len(arrays) > 4 else None
    out, (h,) = gru_sequence(x, [h0], w, u, b, **options)
    return out, h


def as_tensors(arrays):
    return [Variable(np.array(a)) for a in arrays]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("mask_kind", [None, "random", "padding"])
@pytest.mark.parametrize("rdm_kind", [None, "shared", "per_gate"])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_forward_matches_reference(variant, dtype, reset_after, mask_kind, rdm_kind,
                                   return_sequences, go_backwards, zero_output_for_mask):
    rng = np.random.default_rng(1)
    arrays = make(rng, reset_after=reset_after, dtype=dtype)
    options = dict(reset_after=reset_after, mask=masks(rng, 5, 7, mask_kind),
                   recurrent_dropout_mask=dropout_mask(rng, 5, 4, rdm_kind, dtype),
                   go_backwards=go_backwards, return_sequences=return_sequences,
                   zero_output_for_mask=zero_output_for_mask)
    out, h = run(as_tensors(arrays), **options)
    expected_out, (expected_h,) = ref.gru_sequence_reference(
        arrays[0], [arrays[1]], arrays[2], arrays[3], arrays[4], **options)
    assert out.dtype == dtype and h.dtype == dtype
    assert out.shape == ((5, 7, 4) if return_sequences else (5, 4))
    np.testing.assert_allclose(out.data, expected_out, **tol(dtype))
    np.testing.assert_allclose(h.data, expected_h, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("recurrent_activation", ACTIVATIONS)
@pytest.mark.parametrize("use_bias", [True, False])
def test_activations_and_bias_match_reference(variant, dtype, reset_after, activation,
                                              recurrent_activation, use_bias):
    rng = np.random.default_rng(2)
    # small weights: with unbounded (relu, linear) gates, z > 1 amplifies h and float32
    # rounding grows step by step
    arrays = make(rng, reset_after=reset_after, use_bias=use_bias, dtype=dtype, scale=0.3)
    options = dict(reset_after=reset_after, activation=activation,
                   recurrent_activation=recurrent_activation, return_sequences=True,
                   mask=masks(rng, 5, 7, "random"))
    out, h = run(as_tensors(arrays), **options)
    b = arrays[4] if use_bias else None
    expected_out, (expected_h,) = ref.gru_sequence_reference(
        arrays[0], [arrays[1]], arrays[2], arrays[3], b, **options)
    # relu / linear gates are unbounded (z > 1 amplifies h): float32 rounding grows with
    # the values, so the absolute tolerance scales with them
    scale = max(1.0, float(np.abs(expected_out).max()))
    np.testing.assert_allclose(out.data, expected_out, rtol=tol(dtype)["rtol"],
                               atol=tol(dtype)["atol"] * scale)
    np.testing.assert_allclose(h.data, expected_h, rtol=tol(dtype)["rtol"],
                               atol=tol(dtype)["atol"] * scale)


def test_float32_large_preactivations_match_reference(variant):
    # saturating gates (|z| up to ~20) exercise the clamped float32 tanh / sigmoid
    rng = np.random.default_rng(3)
    arrays = make(rng, batch=9, steps=4, features=6, units=8, dtype=np.float32, scale=3.0)
    out, h = run(as_tensors(arrays), return_sequences=True)
    expected_out, _ = ref.gru_sequence_reference(arrays[0], [arrays[1]], arrays[2], arrays[3],
                                                 arrays[4], return_sequences=True)
    np.testing.assert_allclose(out.data, expected_out, rtol=1e-5, atol=5e-6)


def test_fast_tanh_and_sigmoid_float32_accuracy():
    @numba.njit
    def both(x, t, s):
        for i in range(x.shape[0]):
            t[i] = recurrent_common.fast_tanh(x[i])
            s[i] = recurrent_common.fast_sigmoid(x[i])

    x = np.concatenate([np.linspace(-30, 30, 200001), [0.0, 1e-5, -3e-4, 5e-4]]).astype(
        np.float32)
    t, s = np.empty_like(x), np.empty_like(x)
    both(x, t, s)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(t, np.tanh(x64), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(s, ref.special.expit(x64), rtol=0, atol=3e-7)
    assert np.all(np.abs(t) <= 1) and np.all((s >= 0) & (s <= 1))


GRAD_CASES = [
    # (reset_after, mask, rdm, return_sequences, go_backwards, zero_output, activation, ract)
    (True, None, None, False, False, False, "tanh", "sigmoid"),
    (False, None, None, True, False, False, "tanh", "sigmoid"),
    (True, "random", "per_gate", True, True, False, "tanh", "sigmoid"),
    (False, "padding", "shared", True, False, True, "tanh", "sigmoid"),
    (True, "padding", "shared", False, True, True, "linear", "sigmoid"),
    (False, "random", "per_gate", False, False, False, "relu", "hard_sigmoid"),
]


@pytest.mark.parametrize("case", GRAD_CASES)
@pytest.mark.parametrize("use_bias", [True, False])
def test_gradients_match_central_differences(variant, case, use_bias):
    reset_after, mask_kind, rdm_kind, return_sequences, go_backwards, zero_output, act, ract = case
    rng = np.random.default_rng(4)
    arrays = make(rng, batch=4, steps=6, features=3, units=3, reset_after=reset_after,
                  use_bias=use_bias)
    options = dict(reset_after=reset_after, mask=masks(rng, 4, 6, mask_kind),
                   recurrent_dropout_mask=dropout_mask(rng, 4, 3, rdm_kind, np.float64),
                   return_sequences=return_sequences, go_backwards=go_backwards,
                   zero_output_for_mask=zero_output, activation=act, recurrent_activation=ract)

    def fn(*tensors):
        out, h = run(list(tensors), **options)
        return [out, h]

    check_gradients(fn, *arrays, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("reset_after", [True, False])
def test_float32_gradients_follow_float64(variant, reset_after):
    rng = np.random.default_rng(5)
    arrays = make(rng, batch=6, steps=9, features=4, units=5, reset_after=reset_after)
    options = dict(reset_after=reset_after, mask=masks(rng, 6, 9, "random"),
                   recurrent_dropout_mask=dropout_mask(rng, 6, 5, "per_gate", np.float64),
                   return_sequences=True)
    weights = rng.normal(size=(6, 9, 5)), rng.normal(size=(6, 5))
    grads = {}
    for dtype in DTYPES:
        tensors = as_tensors([a.astype(dtype) for a in arrays])
        opts = dict(options, recurrent_dropout_mask=options["recurrent_dropout_mask"].astype(
            dtype))
        with GradientTape() as tape:
            out, h = run(tensors, **opts)
            loss = ops.add(ops.sum(ops.multiply(out, weights[0].astype(dtype))),
                           ops.sum(ops.multiply(h, weights[1].astype(dtype))))
        grads[dtype] = tape.gradient(loss, tensors)
        assert all(g.dtype == dtype for g in grads[dtype])
    for g32, g64 in zip(grads[np.float32], grads[np.float64]):
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-5)


def _forward_and_gradients(arrays, options):
    tensors = as_tensors(arrays)
    with GradientTape() as tape:
        out, h = run(tensors, **options)
        loss = ops.add(ops.sum(ops.multiply(out, out)), ops.sum(h))
    return [out.data, h.data] + tape.gradient(loss, tensors)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reset_after", [True, False])
def test_serial_and_parallel_are_bit_identical(monkeypatch, dtype, reset_after):
    rng = np.random.default_rng(6)
    arrays = make(rng, batch=37, steps=11, features=5, units=6, reset_after=reset_after,
                  dtype=dtype)
    options = dict(reset_after=reset_after, mask=masks(rng, 37, 11, "random"),
                   recurrent_dropout_mask=dropout_mask(rng, 37, 6, "per_gate", dtype),
                   return_sequences=True, go_backwards=True)
    serial = _forward_and_gradients(arrays, options)
    for name in ("gru_forward", "gru_backward"):
        monkeypatch.setattr(gru_kernels, f"_{name}_serial",
                            getattr(gru_kernels, f"_{name}_parallel"))
    parallel = _forward_and_gradients(arrays, options)
    for a, b in zip(serial, parallel):
        assert np.array_equal(a, b)


def test_fully_masked_rows_keep_the_initial_state_and_get_no_input_gradient():
    rng = np.random.default_rng(7)
    arrays = make(rng)
    mask = np.ones((5, 7), bool)
    mask[2] = False
    tensors = as_tensors(arrays)
    with GradientTape() as tape:
        out, h = run(tensors, mask=mask, return_sequences=True)
        loss = ops.add(ops.sum(out), ops.sum(h))
    dx, dh0 = tape.gradient(loss, tensors[:2])
    np.testing.assert_array_equal(h.data[2], arrays[1][2])
    np.testing.assert_array_equal(out.data[2], 0.0)
    np.testing.assert_array_equal(dx[2], 0.0)
    np.testing.assert_array_equal(dh0[2], 1.0)


@pytest.mark.parametrize("argument", ["activation", "recurrent_activation"])
def test_unsupported_activation_raises(argument):
    arrays = as_tensors(make(np.random.default_rng(8)))
    with pytest.raises(ValueError, match=argument):
        run(arrays, **{argument: "softmax"})


def test_bad_shapes_raise():
    rng = np.random.default_rng(9)
    x, h0, w, u, b = as_tensors(make(rng))
    with pytest.raises(ValueError, match="bias"):
        gru_sequence(x, [h0], w, u, b, reset_after=False)
    with pytest.raises(ValueError, match="initial state"):
        gru_sequence(x, [Variable(np.zeros((5, 3)))], w, u, b)
    with pytest.raises(ValueError, match="mask"):
        gru_sequence(x, [h0], w, u, b, mask=np.ones((5, 6), bool))
    with pytest.raises(ValueError, match="recurrent_dropout_mask"):
        gru_sequence(x, [h0], w, u, b, recurrent_dropout_mask=np.ones((5, 3)))


def test_vanishing_gradients_are_flushed_not_subnormal():
    # 300 steps backward from the last output only: the gradient decays through z < 1
    # into subnormals (100x slower arithmetic) unless flushed to zero
    rng = np.random.default_rng(10)
    arrays = make(rng, batch=4, steps=300, features=2, units=4, dtype=np.float32)
    rdm = np.zeros((4, 4), np.float32)  # no recurrent path left: pure decay
    tensors = as_tensors(arrays)
    with GradientTape() as tape:
        out, h = run(tensors, recurrent_dropout_mask=rdm)
        loss = ops.sum(out)
    grads = tape.gradient(loss, tensors)
    tiny = np.finfo(np.float32).tiny
    for g in grads:
        assert not np.any((g != 0) & (np.abs(g) < tiny))
    assert np.all(grads[1] == 0)  # h0 is 300 steps away
    assert np.any(grads[0][:, -1] != 0)
