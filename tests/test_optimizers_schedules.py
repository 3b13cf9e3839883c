"""Learning rate schedules against their formulas at several steps, as the `learning_rate=` of
optimizers, their configs, and their errors."""

import math

import numpy as np
import pytest

import kerasr
from kerasr import optimizers, schedules
from kerasr.engine.tensor import Variable
from kerasr.schedules import (learning_rate_schedule_cosine_decay,
                              learning_rate_schedule_cosine_decay_restarts,
                              learning_rate_schedule_exponential_decay,
                              learning_rate_schedule_inverse_time_decay,
                              learning_rate_schedule_piecewise_constant_decay,
                              learning_rate_schedule_polynomial_decay)

STEPS = [0, 1, 2, 5, 9, 10, 11, 25, 99, 100, 101, 250, 1000]


def check(schedule, formula, steps=STEPS):
    for step in steps:
        assert schedule(step) == pytest.approx(formula(step), rel=1e-12, abs=1e-15), step
        assert isinstance(schedule(step), float)


def test_exponential_decay():
    check(learning_rate_schedule_exponential_decay(0.1, decay_steps=10, decay_rate=0.5),
          lambda s: 0.1 * 0.5 ** (s / 10))
    check(learning_rate_schedule_exponential_decay(0.1, 10, 0.5, staircase=True),
          lambda s: 0.1 * 0.5 ** (s // 10))


def test_inverse_time_decay():
    check(learning_rate_schedule_inverse_time_decay(0.1, decay_steps=4, decay_rate=0.5),
          lambda s: 0.1 / (1 + 0.5 * s / 4))
    check(learning_rate_schedule_inverse_time_decay(0.1, 4, 0.5, staircase=True),
          lambda s: 0.1 / (1 + 0.5 * (s // 4)))


def test_piecewise_constant_decay():
    schedule = learning_rate_schedule_piecewise_constant_decay(boundaries=[10, 100],
                                                               values=[1.0, 0.5, 0.1])
    # the value changes just after each boundary
    check(schedule, lambda s: 1.0 if s <= 10 else 0.5 if s <= 100 else 0.1)
    assert schedule(10) == 1.0 and schedule(11) == 0.5 and schedule(101) == 0.1
    single = learning_rate_schedule_piecewise_constant_decay(5, [0.2, 0.02])  # R's scalars
    assert (single(5), single(6)) == (0.2, 0.02)


def test_polynomial_decay():
    check(learning_rate_schedule_polynomial_decay(0.1, decay_steps=100),
          lambda s: (0.1 - 0.0001) * (1 - min(s, 100) / 100) + 0.0001)
    check(learning_rate_schedule_polynomial_decay(0.1, 100, end_learning_rate=0.01, power=0.5),
          lambda s: (0.1 - 0.01) * (1 - min(s, 100) / 100) ** 0.5 + 0.01)

    def cycled(s):
        decay_steps = 100 * (1 if s == 0 else math.ceil(s / 100))
        return (0.1 - 0.01) * (1 - s / decay_steps) ** 2 + 0.01

    schedule = learning_rate_schedule_polynomial_decay(0.1, 100, 0.01, power=2.0, cycle=True)
    check(schedule, cycled)
    assert schedule(100) == pytest.approx(0.01) and schedule(101) > 0.03  # jumps back up


def test_cosine_decay():
    check(learning_rate_schedule_cosine_decay(0.1, decay_steps=100),
          lambda s: 0.1 * 0.5 * (1 + math.cos(math.pi * min(s, 100) / 100)))
    check(learning_rate_schedule_cosine_decay(0.1, 100, alpha=0.2),
          lambda s: 0.1 * (0.8 * 0.5 * (1 + math.cos(math.pi * min(s, 100) / 100)) + 0.2))


def test_cosine_decay_with_warmup():
    schedule = learning_rate_schedule_cosine_decay(0.0, decay_steps=100, alpha=0.1,
                                                   warmup_target=0.5, warmup_steps=10)

    def formula(s):
        if s < 10:
            return 0.5 * s / 10  # linear from 0 to the target
        s = min(s - 10, 100)
        return 0.5 * (0.9 * 0.5 * (1 + math.cos(math.pi * s / 100)) + 0.1)

    check(schedule, formula)
    assert schedule(0) == 0.0 and schedule(10) == 0.5 and schedule(110) == pytest.approx(0.05)
    assert schedule(5000) == pytest.approx(0.05)
    from_nonzero = learning_rate_schedule_cosine_decay(0.1, 100, warmup_target=0.5,
                                                       warmup_steps=4)
    assert from_nonzero(2) == pytest.approx(0.1 + (0.5 - 0.1) * 2 / 4)


def sgdr_reference(initial, first, t_mul, m_mul, alpha, step):
    """Walk the restart periods: period i lasts first * t_mul**i steps and starts at
    m_mul**i times the initial rate."""
    start, length, i = 0.0, float(first), 0
    while step >= start + length:
        start, length, i = start + length, length * t_mul, i + 1
    fraction = (step - start) / length
    cosine = 0.5 * m_mul ** i * (1 + math.cos(math.pi * fraction))
    return initial * ((1 - alpha) * cosine + alpha)


@pytest.mark.parametrize("t_mul, m_mul, alpha", [(2.0, 1.0, 0.0), (1.0, 0.5, 0.1),
                                                 (1.5, 0.8, 0.05)])
def test_cosine_decay_restarts(t_mul, m_mul, alpha):
    schedule = learning_rate_schedule_cosine_decay_restarts(0.1, first_decay_steps=10,
                                                            t_mul=t_mul, m_mul=m_mul,
                                                            alpha=alpha)
    steps = [s for s in STEPS if s < 200] + [29, 30, 31, 69, 70]
    check(schedule, lambda s: sgdr_reference(0.1, 10, t_mul, m_mul, alpha, s), steps)


def test_cosine_decay_restarts_restarts():
    schedule = learning_rate_schedule_cosine_decay_restarts(1.0, 10)  # periods 10, 20, 40
    assert schedule(0) == 1.0 and schedule(10) == pytest.approx(1.0)
    assert schedule(9) < 0.05 and schedule(29) < 0.01 and schedule(30) == pytest.approx(1.0)


def test_schedules_accept_numpy_and_tensor_steps():
    schedule = learning_rate_schedule_exponential_decay(0.1, 10, 0.5)
    assert schedule(np.int64(20)) == schedule(20) == pytest.approx(0.025)
    assert schedule(np.array(20)) == schedule(20)


# ---- schedules as learning rates --------------------------------------------------------------

@pytest.mark.parametrize("schedule", [
    learning_rate_schedule_exponential_decay(0.1, 1, 0.5),
    learning_rate_schedule_inverse_time_decay(0.1, 1, 1.0),
    learning_rate_schedule_piecewise_constant_decay([0, 1], [0.1, 0.05, 0.01]),
    learning_rate_schedule_polynomial_decay(0.1, 2, 0.01),
    learning_rate_schedule_cosine_decay(0.1, 4),
    learning_rate_schedule_cosine_decay(0.0, 4, warmup_target=0.1, warmup_steps=2),
    learning_rate_schedule_cosine_decay_restarts(0.1, 2),
], ids=["exponential", "inverse_time", "piecewise", "polynomial", "cosine", "warmup", "sgdr"])
@pytest.mark.parametrize("cls", [optimizers.SGD, optimizers.Adagrad, optimizers.Ftrl])
def test_optimizers_call_schedules_with_the_iteration_count(schedule, cls):
    grads = [np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([-1.0, 3.0])]
    lrs = [schedule(t) for t in range(3)]
    if cls is optimizers.Ftrl and min(lrs) <= 0:
        pytest.skip("Ftrl needs a positive learning rate")
    optimizer = cls(learning_rate=schedule)
    w = Variable(np.array([0.3, -0.7]), "w")
    # the same optimizer with the rate set by hand before each step
    by_hand = cls(learning_rate=lrs[0])
    w_hand = Variable(np.array([0.3, -0.7]), "w")
    for t, g in enumerate(grads):
        assert optimizer.learning_rate == lrs[t]
        by_hand.learning_rate = lrs[t]
        optimizer.apply([g], [w])
        by_hand.apply([g], [w_hand])
        np.testing.assert_array_equal(w.data, w_hand.data)
    if cls is optimizers.SGD:
        expected = np.array([0.3, -0.7]) - sum(lr * g for lr, g in zip(lrs, grads))
        np.testing.assert_allclose(w.data, expected, rtol=1e-14)


def test_zero_argument_callables_are_called_as_keras_does():
    optimizer = optimizers.SGD(learning_rate=lambda: 0.25)
    assert optimizer.learning_rate == 0.25


def test_schedule_learning_rate_cannot_be_set_to_a_number():
    optimizer = optimizers.Adam(learning_rate=learning_rate_schedule_cosine_decay(0.1, 10))
    with pytest.raises(TypeError, match="not settable"):
        optimizer.learning_rate = 0.01
    optimizer.learning_rate = learning_rate_schedule_cosine_decay(0.2, 10)  # a schedule is fine
    assert optimizer.learning_rate == 0.2


def test_fit_with_a_schedule():
    from kerasr import compile, fit, keras_model_sequential, layer_dense, set_random_seed
    set_random_seed(3)
    x = np.random.default_rng(3).normal(size=(64, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)
    model = keras_model_sequential() | layer_dense(units=1, input_shape=3)
    schedule = learning_rate_schedule_exponential_decay(0.1, decay_steps=4, decay_rate=0.5)
    optimizer = optimizers.optimizer_sgd(learning_rate=schedule)
    model | compile(optimizer=optimizer, loss="mse")
    model | fit(x, y, epochs=2, batch_size=16, verbose=0)  # 4 steps per epoch
    assert optimizer.iterations == 8
    assert optimizer.learning_rate == pytest.approx(0.1 * 0.5 ** 2)


# ---- configs -----------------------------------------------------------------------------------

ALL = [
    learning_rate_schedule_exponential_decay(0.1, 10, 0.9, staircase=True),
    learning_rate_schedule_inverse_time_decay(0.1, 10, 0.9),
    learning_rate_schedule_piecewise_constant_decay([10, 20], [0.1, 0.01, 0.001]),
    learning_rate_schedule_polynomial_decay(0.1, 10, 0.001, power=2.0, cycle=True),
    learning_rate_schedule_cosine_decay(0.1, 10, alpha=0.1, warmup_target=0.2, warmup_steps=3),
    learning_rate_schedule_cosine_decay_restarts(0.1, 10, t_mul=1.5, m_mul=0.9, alpha=0.01),
]


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
def test_config_round_trip(schedule):
    config = schedules.serialize(schedule)
    rebuilt = schedules.get(config)
    assert type(rebuilt) is type(schedule)
    assert rebuilt.get_config() == schedule.get_config()
    assert [rebuilt(s) for s in STEPS] == [schedule(s) for s in STEPS]
    optimizer = optimizers.Adam(learning_rate=schedule)
    opt_config = optimizer.get_config()
    assert opt_config["learning_rate"] == {"class_name": type(schedule).__name__,
                                           "config": schedule.get_config()}
    again = optimizers.get({"class_name": "Adam", "config": opt_config})
    assert type(again._learning_rate) is type(schedule)
    assert again.get_config() == opt_config


def test_keras_defaults_and_names():
    assert learning_rate_schedule_exponential_decay(0.1, 10, 0.9).get_config() == {
        "initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9, "staircase": False,
        "name": "ExponentialDecay"}
    assert learning_rate_schedule_polynomial_decay(0.1, 10).get_config() == {
        "initial_learning_rate": 0.1, "decay_steps": 10, "end_learning_rate": 0.0001,
        "power": 1.0, "cycle": False, "name": "PolynomialDecay"}
    assert learning_rate_schedule_cosine_decay(0.1, 10).get_config() == {
        "initial_learning_rate": 0.1, "decay_steps": 10, "alpha": 0.0, "name": "CosineDecay",
        "warmup_target": None, "warmup_steps": 0}
    assert learning_rate_schedule_cosine_decay_restarts(0.1, 10).get_config() == {
        "initial_learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 2.0, "m_mul": 1.0,
        "alpha": 0.0, "name": "SGDRDecay"}
    assert learning_rate_schedule_piecewise_constant_decay([1], [2, 3]).name == \
        "PiecewiseConstant"
    assert learning_rate_schedule_inverse_time_decay(0.1, 1, 1).name == "InverseTimeDecay"


def test_r_names_are_exported():
    names = [n for n in dir(schedules) if n.startswith("learning_rate_schedule_")]
    assert len(names) == 6
    for name in names:
        assert name in kerasr.__all__ and getattr(kerasr, name) is getattr(schedules, name)


# ---- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, message", [
    (lambda: learning_rate_schedule_exponential_decay(0.1, 0, 0.9),
     r"Argument `decay_steps` must be > 0. Received: decay_steps=0"),
    (lambda: learning_rate_schedule_inverse_time_decay(0.1, -1, 0.9), "decay_steps"),
    (lambda: learning_rate_schedule_polynomial_decay(0.1, 0), "decay_steps"),
    (lambda: learning_rate_schedule_cosine_decay(0.1, 0), "decay_steps"),
    (lambda: learning_rate_schedule_cosine_decay(0.1, 10, warmup_steps=-1), "warmup_steps"),
    (lambda: learning_rate_schedule_cosine_decay_restarts(0.1, 0),
     r"Argument `first_decay_steps` must be > 0"),
    (lambda: learning_rate_schedule_piecewise_constant_decay([1, 2], [0.1, 0.2]),
     "The length of boundaries should be 1 less than the length of values"),
    (lambda: learning_rate_schedule_piecewise_constant_decay([2, 1], [0.1, 0.2, 0.3]),
     "strictly increasing"),
    (lambda: learning_rate_schedule_exponential_decay("0.1", 10, 0.9),
     "argument `initial_learning_rate` must be a number"),
    (lambda: learning_rate_schedule_exponential_decay(0.1, 10, 0.9, decay=0.1),
     r"ExponentialDecay: argument\(s\) not recognized: decay"),
    (lambda: learning_rate_schedule_cosine_decay_restarts(0.1, 10, warmup_steps=3),
     r"CosineDecayRestarts: argument\(s\) not recognized: warmup_steps"),
    (lambda: schedules.get("StepDecay"), "Unknown learning rate schedule 'StepDecay'"),
    (lambda: learning_rate_schedule_cosine_decay(0.1, 10)(-1), "iteration count must be >= 0"),
    (lambda: learning_rate_schedule_cosine_decay(0.1, 10)("x"), "called with the iteration"),
])
def test_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()
