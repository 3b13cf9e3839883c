"""The recurrent ops without a recording tape (inference) run the forward kernels with
(1-step) scratch instead of the backward buffers: the same outputs and states, bit for bit,
as the forward of a recorded (training) call, for every cell and option."""

import numpy as np
import pytest

from kerasr.engine.tape import GradientTape
from kerasr.engine.tensor import Tensor, Variable
from kerasr.kernels import gru as gru_kernels
from kerasr.kernels import lstm as lstm_kernels
from kerasr.kernels import simple_rnn as rnn_kernels
from kerasr.ops.gru import gru_sequence
from kerasr.ops.lstm import lstm_sequence
from kerasr.ops.simple_rnn import simple_rnn_sequence

BATCH, STEPS, FEATURES, UNITS = 37, 9, 5, 6

# (op, blocks, states, bias shape, extra keyword arguments)
CELLS = {
    "lstm": (lstm_sequence, 4, 2, (4 * UNITS,), {}),
    "gru": (gru_sequence, 3, 1, (2, 3 * UNITS), {"reset_after": True}),
    "gru_reset_before": (gru_sequence, 3, 1, (3 * UNITS,), {"reset_after": False}),
    "simple_rnn": (simple_rnn_sequence, 1, 1, (UNITS,), {}),
}

OPTIONS = {
    "default": {},
    "sequences_backwards": dict(return_sequences=True, go_backwards=True),
    "mask_dropout": dict(mask="random", recurrent_dropout_mask=True, return_sequences=True),
    "mask_zero_output": dict(mask="random", zero_output_for_mask=True, go_backwards=True),
    "hard_sigmoid_relu": dict(activation="relu", recurrent_activation="hard_sigmoid",
                              mask="random", return_sequences=True),
}


def arguments(cell, option, dtype, rng):
    op, blocks, n_states, bias_shape, extra = CELLS[cell]
    arrays = [rng.normal(0, 1, (BATCH, STEPS, FEATURES))]
    arrays += [rng.normal(0, 0.5, (BATCH, UNITS)) for _ in range(n_states)]
    arrays += [rng.normal(0, 0.5, (FEATURES, blocks * UNITS)),
               rng.normal(0, 0.5, (UNITS, blocks * UNITS)), rng.normal(0, 0.3, bias_shape)]
    arrays = [a.astype(dtype) for a in arrays]
    kwargs = dict(extra, **OPTIONS[option])
    if kwargs.get("mask") == "random":
        mask = rng.random((BATCH, STEPS)) < 0.7
        mask[0] = False  # a fully masked row
        mask[1, :3] = False  # leading padding
        mask[2, -3:] = False  # trailing padding
        kwargs["mask"] = mask
    if kwargs.pop("recurrent_dropout_mask", False):
        kwargs["recurrent_dropout_mask"] = (
            (rng.random((BATCH, UNITS)) > 0.4) / 0.6).astype(dtype)
    if cell == "simple_rnn":
        kwargs.pop("recurrent_activation", None)
    return op, n_states, arrays, kwargs


def run(op, n_states, tensors, kwargs):
    out, states = op(tensors[0], tensors[1:1 + n_states], *tensors[1 + n_states:], **kwargs)
    return [out.data] + [s.data for s in states]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_inference_matches_the_recorded_forward_bit_for_bit(cell, option, dtype):
    op, n_states, arrays, kwargs = arguments(cell, option, dtype, np.random.default_rng(3))
    inferred = run(op, n_states, [Tensor(a) for a in arrays], kwargs)
    variables = [Variable(a) for a in arrays]
    with GradientTape() as tape:
        trained = run(op, n_states, variables, kwargs)
    assert len(tape._records) == 1
    for a, b in zip(inferred, trained):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cell, module, entry", [
    ("lstm", lstm_kernels, "lstm_forward"), ("gru", gru_kernels, "gru_forward"),
    ("simple_rnn", rnn_kernels, "simple_rnn_forward")])
def test_backward_buffers_are_kept_only_when_a_tape_records(monkeypatch, cell, module, entry):
    calls = []
    original = getattr(module, entry)

    def spy(*args, **kwargs):
        calls.append(kwargs["keep"])
        return original(*args, **kwargs)

    monkeypatch.setattr(module, entry, spy)
    op, n_states, arrays, kwargs = arguments(cell, "default", np.float32,
                                             np.random.default_rng(4))
    run(op, n_states, [Tensor(a) for a in arrays], kwargs)  # no tape
    with GradientTape() as tape:  # a tape that tracks none of the inputs: nothing recorded
        run(op, n_states, [Tensor(a) for a in arrays], kwargs)
    assert not tape._records
    with GradientTape() as tape:
        run(op, n_states, [Variable(a) for a in arrays], kwargs)
    assert len(tape._records) == 1
    assert calls == [False, False, True]
