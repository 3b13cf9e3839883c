"""The fused LSTM sequence op (kerasr/ops/lstm.py over kerasr/kernels/lstm.py): forward
against the float64 step-by-step reference for every option (float32 and float64, serial and
parallel variants, several batch chunks), float64 central-difference gradient checks with
masks and recurrent dropout masks, float32 gradients against float64 ones, serial ==
parallel bit for bit, one tape record per sequence, and the fast float32 activations."""

import numpy as np
import pytest

import reference as ref
from kerasr.engine import GradientTape, Variable
from kerasr.kernels import lstm as lstm_kernels
from kerasr.kernels import recurrent_common
from kerasr.ops.lstm import lstm_sequence

from gradcheck import check_gradients

VARIANTS = ["serial", "parallel"]
DTYPES = [np.float32, np.float64]
ACTIVATIONS = list(recurrent_common.SUPPORTED_ACTIVATIONS)


@pytest.fixture(params=VARIANTS)
def variant(request, monkeypatch):
    """The op runs the serial or the parallel compilation of the kernels."""
    parallel = request.param == "parallel"
    monkeypatch.setattr(lstm_kernels, "_use_parallel", lambda requested, n_chunks: parallel)
    return request.param


def tol(dtype):
    return dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)


def make_mask(batch, steps, rng):
    """Random steps masked, plus the padding patterns of real data: one row fully masked,
    one with leading padding, one with trailing padding, one never masked."""
    assert batch >= 4, "the padding patterns need four rows"
    mask = rng.random((batch, steps)) > 0.3
    mask[0] = False
    mask[1, : steps // 2] = False
    mask[1, steps // 2:] = True
    mask[2, : steps - 2] = True
    mask[2, steps - 2:] = False
    mask[3] = True
    return mask


def make_case(batch, steps, features, units, seed=0, scale=0.6):
    rng = np.random.default_rng(seed)
    return dict(
        x=rng.standard_normal((batch, steps, features)),
        h0=rng.standard_normal((batch, units)) * 0.5,
        c0=rng.standard_normal((batch, units)) * 0.5,
        kernel=rng.standard_normal((features, 4 * units)) * scale,
        recurrent_kernel=rng.standard_normal((units, 4 * units)) * scale,
        bias=rng.standard_normal(4 * units) * 0.3,
        mask=make_mask(batch, steps, rng),
        rdm=((rng.random((batch, units)) > 0.3) / 0.7),
    )


# Options as the op takes them; "mask"/"rdm" stand for the case's arrays.
OPTIONS = {
    "default": {},
    "return_sequences": dict(return_sequences=True),
    "go_backwards": dict(go_backwards=True),
    "go_backwards_sequences": dict(go_backwards=True, return_sequences=True),
    "mask": dict(mask=True),
    "mask_sequences": dict(mask=True, return_sequences=True),
    "mask_backwards_sequences": dict(mask=True, go_backwards=True, return_sequences=True),
    "mask_zero_output": dict(mask=True, zero_output_for_mask=True, return_sequences=True),
    "mask_zero_output_last": dict(mask=True, zero_output_for_mask=True),
    "recurrent_dropout": dict(rdm=True, return_sequences=True),
    "everything": dict(mask=True, rdm=True, go_backwards=True, return_sequences=True),
    "no_bias": dict(no_bias=True, return_sequences=True),
}


def op_arguments(case, options, dtype):
    options = dict(options)
    kwargs = {}
    if options.pop("mask", False):
        kwargs["mask"] = case["mask"]
    if options.pop("rdm", False):
        kwargs["recurrent_dropout_mask"] = case["rdm"].astype(dtype)
    no_bias = options.pop("no_bias", False)
    kwargs.update(options)
    arrays = [case[k].astype(dtype) for k in ("x", "h0", "c0", "kernel", "recurrent_kernel")]
    bias = None if no_bias else case["bias"].astype(dtype)
    return arrays, bias, kwargs


def run_op(case, options, dtype):
    (x, h0, c0, w, u), bias, kwargs = op_arguments(case, options, dtype)
    out, (h, c) = lstm_sequence(x, [h0, c0], w, u, bias, **kwargs)
    return out.data, h.data, c.data


def run_reference(case, options):
    (x, h0, c0, w, u), bias, kwargs = op_arguments(case, options, np.float64)
    out, (h, c) = ref.lstm_sequence_reference(x, [h0, c0], w, u, bias, **kwargs)
    return out, h, c


# batch 37: three chunks of rows, the last one partial
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("option", list(OPTIONS))
def test_forward_matches_reference(variant, dtype, option):
    case = make_case(37, 9, 5, 6, seed=1)
    got = run_op(case, OPTIONS[option], dtype)
    expected = run_reference(case, OPTIONS[option])
    for g, e, what in zip(got, expected, ("output", "h_T", "c_T")):
        assert g.dtype == dtype
        assert g.shape == e.shape, what
        np.testing.assert_allclose(g, e, err_msg=what, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("which", ["activation", "recurrent_activation"])
def test_forward_every_activation(variant, dtype, name, which):
    case = make_case(20, 7, 4, 5, seed=2)
    options = dict(return_sequences=True, mask=True, **{which: name})
    got = run_op(case, options, dtype)
    expected = run_reference(case, options)
    # linear and relu gates are unbounded (states reach ~10 here): float32 rounding grows
    tolerance = tol(dtype) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    for g, e, what in zip(got, expected, ("output", "h_T", "c_T")):
        np.testing.assert_allclose(g, e, err_msg=what, **tolerance)


def test_masked_steps_hold_or_zero_the_output():
    """Semantics spelled out on one row: masked steps carry the states; the output is the
    previous output (zeros before the first unmasked step) or zeros."""
    case = make_case(4, 6, 3, 2, seed=3)
    mask = np.array([[False, True, False, True, False, False]] * 4)
    (x, h0, c0, w, u), bias, _ = op_arguments(case, {}, np.float64)
    held, (h_held, c_held) = lstm_sequence(x, [h0, c0], w, u, bias, mask=mask,
                                            return_sequences=True)
    zeroed, (h_zero, c_zero) = lstm_sequence(x, [h0, c0], w, u, bias, mask=mask,
                                              return_sequences=True, zero_output_for_mask=True)
    held, zeroed = held.data, zeroed.data
    np.testing.assert_array_equal(held[:, 0], 0.0)
    np.testing.assert_array_equal(held[:, 2], held[:, 1])
    np.testing.assert_array_equal(held[:, 4], held[:, 3])
    np.testing.assert_array_equal(held[:, 5], held[:, 3])
    np.testing.assert_array_equal(zeroed[:, [0, 2, 4, 5]], 0.0)
    np.testing.assert_array_equal(zeroed[:, [1, 3]], held[:, [1, 3]])
    np.testing.assert_array_equal(h_held.data, held[:, 3])  # state after the last unmasked step
    np.testing.assert_array_equal(h_zero.data, h_held.data)
    np.testing.assert_array_equal(c_zero.data, c_held.data)
    # fully masked: the states are the initial ones
    out, (h, c) = lstm_sequence(x, [h0, c0], w, u, bias, mask=np.zeros((4, 6), bool))
    np.testing.assert_array_equal(out.data, 0.0)
    np.testing.assert_array_equal(h.data, h0)
    np.testing.assert_array_equal(c.data, c0)


def test_go_backwards_returns_processing_order():
    case = make_case(4, 5, 2, 3, seed=4)
    (x, h0, c0, w, u), bias, _ = op_arguments(case, {}, np.float64)
    backwards, (h_b, _) = lstm_sequence(x, [h0, c0], w, u, bias, go_backwards=True,
                                        return_sequences=True)
    forwards, (h_f, _) = lstm_sequence(x[:, ::-1].copy(), [h0, c0], w, u, bias,
                                       return_sequences=True)
    np.testing.assert_array_equal(backwards.data, forwards.data)
    np.testing.assert_array_equal(h_b.data, h_f.data)


# ------------------------------------------------------------------ gradients

GRAD_OPTIONS = ["default", "return_sequences", "go_backwards_sequences", "mask",
                "mask_backwards_sequences", "mask_zero_output", "mask_zero_output_last",
                "recurrent_dropout", "everything", "no_bias"]


def gradient_check(case, options, outputs="all", **check_kwargs):
    (x, h0, c0, w, u), bias, kwargs = op_arguments(case, options, np.float64)

    def fn(x, h0, c0, w, u, *maybe_bias):
        out, (h, c) = lstm_sequence(x, [h0, c0], w, u, maybe_bias[0] if maybe_bias else None,
                                    **kwargs)
        return [out, h, c] if outputs == "all" else out

    arrays = [x, h0, c0, w, u] + ([bias] if bias is not None else [])
    check_gradients(fn, *arrays, **check_kwargs)


@pytest.mark.parametrize("option", GRAD_OPTIONS)
def test_gradients_central_differences(variant, option):
    # batch 18: two chunks; gradients w.r.t. inputs, both states, kernel, recurrent kernel, bias
    gradient_check(make_case(18, 5, 3, 3, seed=5), OPTIONS[option])


@pytest.mark.parametrize("option", ["default", "mask"])
def test_gradients_of_the_output_only(option):
    # the final states unused: the tape hands their gradients in as zeros
    gradient_check(make_case(5, 6, 2, 3, seed=6), OPTIONS[option], outputs="output")


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("which", ["activation", "recurrent_activation"])
def test_gradients_every_activation(name, which):
    # inputs on the kinks of relu (0) or hard_sigmoid (+-3) have measure zero here
    options = dict(mask=True, return_sequences=True, **{which: name})
    gradient_check(make_case(6, 5, 3, 3, seed=7), options)


@pytest.mark.parametrize("option", ["everything", "mask_zero_output", "default"])
def test_float32_gradients_match_float64(variant, option):
    case = make_case(37, 8, 4, 5, seed=8)
    grads = {}
    for dtype in DTYPES:
        (x, h0, c0, w, u), bias, kwargs = op_arguments(case, OPTIONS[option], dtype)
        variables = [Variable(a) for a in (x, h0, c0, w, u, bias)]
        rng = np.random.default_rng(0)
        with GradientTape() as tape:
            out, (h, c) = lstm_sequence(variables[0], variables[1:3], *variables[3:], **kwargs)
            loss = ((out * rng.standard_normal(out.shape).astype(dtype)).sum()
                    + (h * rng.standard_normal(h.shape).astype(dtype)).sum()
                    + (c * rng.standard_normal(c.shape).astype(dtype)).sum())
        grads[dtype] = tape.gradient(loss, variables)
    for g32, g64, name in zip(grads[np.float32], grads[np.float64],
                              ("x", "h0", "c0", "kernel", "recurrent_kernel", "bias")):
        assert g32.dtype == np.float32, name
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-4, err_msg=name)


def test_needs_only_some_gradients():
    case = make_case(4, 5, 2, 3, seed=9)
    (x, h0, c0, w, u), bias, _ = op_arguments(case, {}, np.float64)
    kernel = Variable(w)
    with GradientTape() as tape:
        out, _ = lstm_sequence(x, [h0, c0], kernel, u, bias)
        loss = out.sum()
    (dw,) = tape.gradient(loss, [kernel])
    assert dw.shape == w.shape and np.all(np.isfinite(dw)) and np.any(dw != 0)


def test_one_tape_record_for_the_whole_sequence():
    case = make_case(4, 50, 2, 3, seed=10)
    (x, h0, c0, w, u), bias, _ = op_arguments(case, {}, np.float64)
    with GradientTape() as tape:
        lstm_sequence(Variable(x), [h0, c0], Variable(w), Variable(u), Variable(bias),
                      return_sequences=True)
    assert len(tape._records) == 1


# ------------------------------------------------------- serial == parallel, bit for bit

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("option", ["everything", "mask_zero_output_last", "default"])
def test_serial_and_parallel_are_bit_identical(monkeypatch, dtype, option):
    case = make_case(70, 12, 7, 8, seed=11)
    results = {}
    for parallel in (False, True):
        monkeypatch.setattr(lstm_kernels, "_use_parallel", lambda requested, n, p=parallel: p)
        (x, h0, c0, w, u), bias, kwargs = op_arguments(case, OPTIONS[option], dtype)
        variables = [Variable(a) for a in (x, h0, c0, w, u, bias)]
        with GradientTape() as tape:
            out, (h, c) = lstm_sequence(variables[0], variables[1:3], *variables[3:], **kwargs)
            loss = (out * out).sum() + (h * c).sum()
        results[parallel] = [out.data, h.data, c.data] + tape.gradient(loss, variables)
    for a, b in zip(results[False], results[True]):
        np.testing.assert_array_equal(a, b)


def test_chunking_covers_the_batch_and_keeps_blas_single_threaded():
    for n_in, n_gates in ((64, 128), (12, 20), (600, 2048)):
        for batch in (1, 15, 16, 17, 31, 32, 33, 128, 1000):
            n_chunks, rows = lstm_kernels.chunking(batch, n_in, n_gates)
            assert n_chunks * rows >= batch > (n_chunks - 1) * rows
            assert rows == 1 or rows * n_in * n_gates <= 65536 * 4


# ------------------------------------------------------------------ activations, errors

def test_unsupported_activation_raises():
    case = make_case(4, 3, 2, 2)
    (x, h0, c0, w, u), bias, _ = op_arguments(case, {}, np.float64)
    with pytest.raises(ValueError, match="softmax"):
        lstm_sequence(x, [h0, c0], w, u, bias, activation="softmax")
    with pytest.raises(ValueError, match="elu"):
        lstm_sequence(x, [h0, c0], w, u, bias, recurrent_activation="elu")
    with pytest.raises(ValueError, match="2 initial states"):
        lstm_sequence(x, [h0], w, u, bias)


@pytest.mark.parametrize("what, position, bad", [
    ("kernel", 3, np.zeros((3, 8))), ("recurrent_kernel", 4, np.zeros((2, 4))),
    ("bias", 5, np.zeros(6)), ("initial h", 1, np.zeros((3, 2))),
    ("initial c", 2, np.zeros((4, 3))), ("mask", "mask", np.ones((4, 2), bool)),
    ("recurrent_dropout_mask", "rdm", np.ones((4, 3))),
])
def test_wrong_shapes_raise(what, position, bad):
    """The kernels do not check bounds: the entry point checks every shape."""
    case = make_case(4, 3, 2, 2)
    (x, h0, c0, w, u), bias, _ = op_arguments(case, {}, np.float64)
    arrays = [x, h0, c0, w, u, bias]
    kwargs = {}
    if position == "mask":
        kwargs["mask"] = bad
    elif position == "rdm":
        kwargs["recurrent_dropout_mask"] = bad
    else:
        arrays[position] = bad
    with pytest.raises(ValueError, match=what):
        lstm_sequence(arrays[0], arrays[1:3], *arrays[3:], **kwargs)


def test_float32_fast_tanh_and_sigmoid_accuracy():
    import numba

    @numba.njit(error_model="numpy")
    def apply(z):
        t = np.empty_like(z)
        s = np.empty_like(z)
        for i in range(z.shape[0]):
            t[i] = recurrent_common.fast_tanh(z[i])
            s[i] = recurrent_common.fast_sigmoid(z[i])
        return t, s

    z = np.concatenate([np.linspace(-30, 30, 200001), np.logspace(-8, 1, 1000),
                        -np.logspace(-8, 1, 1000)]).astype(np.float32)
    t, s = apply(z)
    z64 = z.astype(np.float64)
    tanh = np.tanh(z64)
    sigmoid = 1 / (1 + np.exp(-z64))
    assert np.max(np.abs(t - tanh) / np.maximum(np.abs(tanh), 1e-30)) < 1e-6
    assert np.max(np.abs(s - sigmoid)) < 3e-7
    assert np.all(np.abs(t) <= 1) and np.all((s >= 0) & (s <= 1))
    t_nan, s_nan = apply(np.array([np.nan], np.float32))
    assert np.isnan(t_nan[0]) and np.isnan(s_nan[0])


def test_long_sequence_gradients_stay_finite_and_flush_tiny_values():
    """500 steps with small weights: the gradients decay far below float32's normal range;
    they come out finite, without subnormal numbers (those are flushed to zero)."""
    case = make_case(8, 500, 4, 4, seed=12, scale=0.1)
    (x, h0, c0, w, u), bias, _ = op_arguments(case, {}, np.float32)
    xv = Variable(x)
    with GradientTape() as tape:
        out, _ = lstm_sequence(xv, [h0, c0], w, u, bias)
        loss = out.sum()
    (dx,) = tape.gradient(loss, [xv])
    assert np.all(np.isfinite(dx))
    tiny = np.finfo(np.float32).tiny
    assert not np.any((dx != 0) & (np.abs(dx) < tiny))
    assert np.any(dx[:, -1] != 0)
