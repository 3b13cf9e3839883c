import math
import warnings

import numpy as np
import pytest

from kerasr import constraints, optimizers
from kerasr.engine.tensor import Tensor, Variable

rng = np.random.default_rng(2)
W0 = {"kernel": rng.normal(size=(3, 4)), "bias": rng.normal(size=(4,))}
GRADS = [{name: rng.normal(size=w.shape) for name, w in W0.items()} for _ in range(5)]


# ---- plain numpy versions of Keras 3's update rules -------------------------------------

def ref_sgd(w, grads, lrs, momentum=0.0, nesterov=False):
    velocity = np.zeros_like(w)
    for g, lr in zip(grads, lrs):
        if momentum:
            velocity = momentum * velocity - lr * g
            w = w + (momentum * velocity - lr * g if nesterov else velocity)
        else:
            w = w - lr * g
    return w


def ref_rmsprop(w, grads, lrs, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    velocity, average, buffer = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g, lr in zip(grads, lrs):
        velocity = rho * velocity + (1 - rho) * g ** 2
        if centered:
            average = rho * average + (1 - rho) * g
            denominator = velocity - average ** 2 + epsilon
        else:
            denominator = velocity + epsilon
        increment = lr * g / np.sqrt(denominator)
        if momentum:
            buffer = momentum * buffer + increment
            w = w - buffer
        else:
            w = w - increment
    return w


def ref_adam(w, grads, lrs, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    m, v, v_hat = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        alpha = lr * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        m = m + (g - m) * (1 - beta_1)
        v = v + (g ** 2 - v) * (1 - beta_2)
        if amsgrad:
            v_hat = np.maximum(v_hat, v)
        w = w - alpha * m / (np.sqrt(v_hat if amsgrad else v) + epsilon)
    return w


CASES = {
    "sgd": (optimizers.SGD, dict(learning_rate=0.1), ref_sgd),
    "sgd_momentum": (optimizers.SGD, dict(learning_rate=0.1, momentum=0.9), ref_sgd),
    "sgd_nesterov": (optimizers.SGD, dict(learning_rate=0.1, momentum=0.9, nesterov=True), ref_sgd),
    "rmsprop": (optimizers.RMSprop, dict(learning_rate=0.01), ref_rmsprop),
    "rmsprop_rho": (optimizers.RMSprop, dict(learning_rate=0.01, rho=0.5, epsilon=1e-3), ref_rmsprop),
    "rmsprop_momentum": (optimizers.RMSprop, dict(learning_rate=0.01, momentum=0.5), ref_rmsprop),
    "rmsprop_centered": (optimizers.RMSprop, dict(learning_rate=0.01, centered=True), ref_rmsprop),
    "rmsprop_centered_momentum": (optimizers.RMSprop,
                                  dict(learning_rate=0.01, centered=True, momentum=0.5), ref_rmsprop),
    "adam": (optimizers.Adam, dict(learning_rate=0.01), ref_adam),
    "adam_betas": (optimizers.Adam, dict(learning_rate=0.01, beta_1=0.5, beta_2=0.8), ref_adam),
    "adam_amsgrad": (optimizers.Adam, dict(learning_rate=0.01, amsgrad=True), ref_adam),
}


def train(optimizer, dtype=np.float64, grads=GRADS):
    variables = {name: Variable(w.astype(dtype), name) for name, w in W0.items()}
    buffers = {name: v.data for name, v in variables.items()}
    for step in grads:
        optimizer.apply([step[name] for name in variables], list(variables.values()))
    for name, v in variables.items():
        assert v.data is buffers[name]  # updated in place
    return {name: v.data for name, v in variables.items()}


def reference(ref, kwargs, lrs):
    hyper = {k: v for k, v in kwargs.items() if k != "learning_rate"}
    return {name: ref(W0[name], [g[name] for g in GRADS], lrs, **hyper) for name in W0}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_steps_match_reference(case):
    cls, kwargs, ref = case
    expected = reference(ref, kwargs, [kwargs["learning_rate"]] * len(GRADS))
    optimizer = cls(**kwargs)
    for name, value in train(optimizer).items():
        np.testing.assert_allclose(value, expected[name], rtol=1e-12, atol=1e-14)
    assert optimizer.iterations == len(GRADS)
    for name, value in train(cls(**kwargs), np.float32).items():
        assert value.dtype == np.float32
        np.testing.assert_allclose(value, expected[name], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("r_function, cls", [
    (optimizers.optimizer_sgd, optimizers.SGD),
    (optimizers.optimizer_rmsprop, optimizers.RMSprop),
    (optimizers.optimizer_adam, optimizers.Adam),
])
def test_r_functions_have_keras_defaults(r_function, cls):
    optimizer = r_function()
    assert type(optimizer) is cls
    assert optimizer.get_config() == cls().get_config()
    assert r_function(learning_rate=0.5, clipnorm=1.0).get_config()["clipnorm"] == 1.0


def test_defaults():
    assert optimizers.SGD().get_config() == {
        "name": "SGD", "learning_rate": 0.01, "weight_decay": None, "clipnorm": None,
        "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
        "ema_overwrite_frequency": None, "momentum": 0.0, "nesterov": False}
    rmsprop = optimizers.RMSprop().get_config()
    assert (rmsprop["learning_rate"], rmsprop["rho"], rmsprop["momentum"], rmsprop["epsilon"],
            rmsprop["centered"]) == (0.001, 0.9, 0.0, 1e-7, False)
    adam = optimizers.Adam().get_config()
    assert (adam["learning_rate"], adam["beta_1"], adam["beta_2"], adam["epsilon"],
            adam["amsgrad"]) == (0.001, 0.9, 0.999, 1e-7, False)


def test_config_round_trip():
    optimizer = optimizers.Adam(learning_rate=0.02, amsgrad=True, clipvalue=0.5)
    rebuilt = optimizers.get({"class_name": "Adam", "config": optimizer.get_config()})
    assert rebuilt.get_config() == optimizer.get_config()


# ---- the book's legacy arguments ------------------------------------------------------------

def test_lr_is_renamed_with_a_warning():
    with pytest.warns(UserWarning, match="renamed to `learning_rate`") as record:
        optimizer = optimizers.optimizer_rmsprop(lr=1e-4)
    assert optimizer.learning_rate == 1e-4
    assert record[0].filename == __file__  # the warning points at the caller's line
    with pytest.warns(UserWarning):
        assert optimizers.SGD(lr=0.5).learning_rate == 0.5
    with pytest.raises(ValueError, match="not both"):
        optimizers.optimizer_sgd(learning_rate=0.1, lr=0.2)


def test_decay_is_keras_2_time_based_decay():
    kwargs = dict(learning_rate=0.1, momentum=0.9)
    with pytest.warns(UserWarning, match="decay.*learning_rate_schedule_inverse_time_decay"):
        optimizer = optimizers.SGD(decay=0.5, **kwargs)
    lrs = [0.1 / (1 + 0.5 * t) for t in range(len(GRADS))]
    expected = reference(ref_sgd, kwargs, lrs)
    for name, value in train(optimizer).items():
        np.testing.assert_allclose(value, expected[name], rtol=1e-12)
    assert optimizer.learning_rate == pytest.approx(0.1 / (1 + 0.5 * len(GRADS)))


def test_zero_decay_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizers.optimizer_adam(decay=0.0)


def test_learning_rate_schedule_callable_of_the_step():
    schedule = lambda step: 0.1 * 0.5 ** step  # noqa: E731
    optimizer = optimizers.Adam(learning_rate=schedule)
    expected = reference(ref_adam, {}, [schedule(t) for t in range(len(GRADS))])
    for name, value in train(optimizer).items():
        np.testing.assert_allclose(value, expected[name], rtol=1e-12)
    assert optimizer.learning_rate == schedule(len(GRADS))


def test_learning_rate_can_be_set():
    optimizer = optimizers.SGD()
    optimizer.learning_rate = 0.5
    assert optimizer.learning_rate == 0.5
    with pytest.raises(ValueError, match="learning_rate"):
        optimizer.learning_rate = -1


# ---- clipping, weight decay, constraints -----------------------------------------------------

def one_step(optimizer, w, grads, constraint=None):
    variables = [Variable(np.array(x, dtype=np.float64), f"v{i}", constraint=constraint)
                 for i, x in enumerate(w)]
    optimizer.apply(grads, variables)
    return [v.data for v in variables]


def test_clipnorm_clips_each_gradient_to_the_norm():
    big, small = np.array([3.0, 4.0]), np.array([0.3, 0.4])
    new_big, new_small = one_step(optimizers.SGD(learning_rate=1.0, clipnorm=1.0),
                                  [np.zeros(2), np.zeros(2)], [big, small])
    np.testing.assert_allclose(new_big, -big / 5)
    np.testing.assert_allclose(new_small, -small)


def test_global_clipnorm_scales_all_gradients_together():
    a, b = np.array([3.0, 0.0]), np.array([0.0, 4.0])
    new_a, new_b = one_step(optimizers.SGD(learning_rate=1.0, global_clipnorm=2.5),
                            [np.zeros(2), np.zeros(2)], [a, b])
    np.testing.assert_allclose(new_a, -a / 2)
    np.testing.assert_allclose(new_b, -b / 2)


def test_clipvalue_clips_elements():
    (new,) = one_step(optimizers.SGD(learning_rate=1.0, clipvalue=0.5), [np.zeros(3)],
                      [np.array([-2.0, 0.2, 3.0])])
    np.testing.assert_allclose(new, [0.5, -0.2, -0.5])


def test_gradients_are_not_modified():
    grad = np.array([3.0, 4.0])
    one_step(optimizers.SGD(clipnorm=1.0), [np.zeros(2)], [grad])
    np.testing.assert_array_equal(grad, [3.0, 4.0])


def test_only_one_clipping_argument():
    with pytest.raises(ValueError, match="Only one of clipnorm, clipvalue and global_clipnorm"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="clipnorm must be a positive number"):
        optimizers.Adam(clipnorm=-1.0)


def test_weight_decay_shrinks_weights_before_the_update():
    w, g = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    (new,) = one_step(optimizers.SGD(learning_rate=0.1, weight_decay=0.2), [w], [g])
    np.testing.assert_allclose(new, w * (1 - 0.2 * 0.1) - 0.1 * g)


def test_constraint_is_applied_after_the_update():
    (new,) = one_step(optimizers.SGD(learning_rate=1.0), [np.array([0.5, 0.5])],
                      [np.array([1.0, -1.0])], constraint=constraints.NonNeg())
    np.testing.assert_allclose(new, [0.0, 1.5])
    (new,) = one_step(optimizers.Adam(), [np.full((2, 2), 3.0)], [np.ones((2, 2))],
                      constraint=constraints.MaxNorm(1.0))
    np.testing.assert_allclose(np.linalg.norm(new, axis=0), 1.0, rtol=1e-6)


def test_none_gradients_are_skipped():
    optimizer = optimizers.Adam()
    frozen = Variable(np.ones(3), "frozen")
    trained = Variable(np.ones(3), "trained")
    optimizer.apply([None, np.ones(3)], [frozen, trained])
    np.testing.assert_array_equal(frozen.data, np.ones(3))
    assert not np.allclose(trained.data, 1.0)
    assert len(optimizer.variables()) == 2  # momentum and velocity of `trained` only
    with pytest.raises(ValueError, match="No gradients"):
        optimizer.apply([None], [frozen])


def test_gradients_may_be_tensors_of_another_dtype():
    var = Variable(np.zeros(2, dtype=np.float32), "w")
    optimizers.SGD(learning_rate=1.0).apply_gradients([(Tensor(np.array([1.0, 2.0])), var)])
    assert var.dtype == np.float32
    np.testing.assert_array_equal(var.data, [-1.0, -2.0])


def test_gradient_shape_must_match():
    with pytest.raises(ValueError, match="does not match variable 'w'"):
        optimizers.SGD().apply([np.ones(3)], [Variable(np.ones(2), "w")])


def test_slots_are_per_variable_and_ordered_like_keras():
    optimizer = optimizers.Adam(amsgrad=True)
    a, b = Variable(np.zeros((2, 3)), "a"), Variable(np.zeros(4), "b")
    optimizer.build([a, b])
    slots = optimizer.variables()
    assert [s.shape for s in slots] == [(2, 3), (4,)] * 3  # momentums, velocities, velocity_hats
    optimizer.apply([np.ones((2, 3)), np.ones(4)], [a, b])
    np.testing.assert_allclose(optimizer.variables()[0], 0.1)  # m = (1 - beta_1) * g
    assert optimizer.variables()[0].base is not None  # views of the live slot arrays


def test_plain_sgd_has_no_slots():
    optimizer = optimizers.SGD()
    optimizer.apply([np.ones(2)], [Variable(np.zeros(2), "w")])
    assert optimizer.variables() == []


# ---- lookup and argument checks -------------------------------------------------------------

@pytest.mark.parametrize("name, cls", [
    ("sgd", optimizers.SGD), ("SGD", optimizers.SGD), ("rmsprop", optimizers.RMSprop),
    ("RMSprop", optimizers.RMSprop), ("adam", optimizers.Adam), ("Adam", optimizers.Adam),
])
def test_get_by_name(name, cls):
    assert type(optimizers.get(name)) is cls


def test_get_instances_and_unknown_names():
    optimizer = optimizers.optimizer_sgd()
    assert optimizers.get(optimizer) is optimizer
    assert type(optimizers.get(optimizers.Adam)) is optimizers.Adam
    with pytest.raises(ValueError, match="Unknown optimizer 'adamz'. Valid names: sgd, rmsprop, "
                                         "adam, adamw, adagrad, adadelta, adamax, nadam, ftrl"):
        optimizers.get("adamz")


@pytest.mark.parametrize("make, message", [
    (lambda: optimizers.SGD(learning_rate=-0.1), "learning_rate must be >= 0"),
    (lambda: optimizers.SGD(learning_rate="fast"), "learning_rate must be a number"),
    (lambda: optimizers.SGD(momentum=1.5), r"momentum must be in \[0.0, 1.0\]"),
    (lambda: optimizers.RMSprop(rho=1.0), r"rho must be in \[0.0, 1.0\)"),
    (lambda: optimizers.RMSprop(epsilon=-1e-7), "epsilon must be >= 0"),
    (lambda: optimizers.Adam(beta_1=1.0), r"beta_1 must be in \[0.0, 1.0\)"),
    (lambda: optimizers.Adam(beta_2=-0.1), r"beta_2 must be in \[0.0, 1.0\)"),
    (lambda: optimizers.Adam(decay=-1), "decay must be >= 0"),
    (lambda: optimizers.optimizer_adam(betas=(0.9, 0.99)), "not recognized: betas"),
])
def test_argument_checks(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# ---- constraints ------------------------------------------------------------------------------

W = rng.normal(size=(5, 3)) * 2
NORMS = np.linalg.norm(W, axis=0, keepdims=True)
EPS = 1e-7


@pytest.mark.parametrize("constraint, expected", [
    (constraints.MaxNorm(1.5), W * np.minimum(NORMS, 1.5) / (EPS + NORMS)),
    (constraints.MaxNorm(1.5, axis=1),
     W * np.minimum(np.linalg.norm(W, axis=1, keepdims=True), 1.5)
     / (EPS + np.linalg.norm(W, axis=1, keepdims=True))),
    (constraints.UnitNorm(), W / (EPS + NORMS)),
    (constraints.MinMaxNorm(2.0, 3.0, rate=0.5),
     W * (0.5 * np.clip(NORMS, 2.0, 3.0) + 0.5 * NORMS) / (EPS + NORMS)),
    (constraints.NonNeg(), np.where(W > 0, W, 0.0)),
], ids=["max_norm", "max_norm_axis_1", "unit_norm", "min_max_norm", "non_neg"])
def test_constraints(constraint, expected):
    np.testing.assert_allclose(constraint(W), expected, rtol=1e-12)
    assert constraint(W.astype(np.float32)).dtype == np.float32


def test_constraint_lookup_and_r_functions():
    assert type(constraints.get("max_norm")) is constraints.MaxNorm
    assert type(constraints.get("MinMaxNorm")) is constraints.MinMaxNorm
    assert type(constraints.get("nonneg")) is constraints.NonNeg
    assert constraints.get(None) is None
    assert constraints.constraint_maxnorm(3, axis=1).get_config() == {"max_value": 3, "axis": 1}
    assert constraints.constraint_minmaxnorm().get_config() == {
        "min_value": 0, "max_value": 1, "rate": 1, "axis": 0}
    assert type(constraints.constraint_unitnorm()) is constraints.UnitNorm
    assert type(constraints.constraint_nonneg()) is constraints.NonNeg
    rebuilt = constraints.get({"class_name": "MaxNorm", "config": {"max_value": 4, "axis": 0}})
    assert rebuilt.max_value == 4
    with pytest.raises(ValueError, match="Unknown constraint 'max'.*max_norm"):
        constraints.get("max")
