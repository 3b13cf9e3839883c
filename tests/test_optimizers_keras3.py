"""Adagrad, Adadelta, Adamax, Nadam, AdamW and Ftrl against plain float64 numpy versions of
Keras 3's update rules, step by step; the options every optimizer shares (clipping, weight
decay, moving averages of the weights, legacy lr=/decay=); the optimizer state; errors."""

import math
import warnings

import numpy as np
import pytest

from kerasr import constraints, optimizers
from kerasr.engine.tensor import Variable
from kerasr.kernels import optimizers as kernels

rng = np.random.default_rng(7)
W0 = {"kernel": rng.normal(size=(3, 4)), "bias": rng.normal(size=(4,))}
GRADS = [{name: rng.normal(size=w.shape) for name, w in W0.items()} for _ in range(3)]


# ---- references: one weight array, a list of gradients and learning rates; the weights after
# each step. Written from the formulas in Keras 3's optimizer docs and sources.

def ref_adagrad(w, grads, lrs, initial_accumulator_value=0.1, epsilon=1e-7):
    acc = np.full_like(w, initial_accumulator_value)
    out = []
    for g, lr in zip(grads, lrs):
        acc = acc + g * g
        w = w - lr * g / np.sqrt(acc + epsilon)
        out.append(w)
    return out


def ref_adadelta(w, grads, lrs, rho=0.95, epsilon=1e-7):
    acc_g, acc_d = np.zeros_like(w), np.zeros_like(w)
    out = []
    for g, lr in zip(grads, lrs):
        acc_g = rho * acc_g + (1 - rho) * g ** 2
        delta = -np.sqrt(acc_d + epsilon) * g / np.sqrt(acc_g + epsilon)
        acc_d = rho * acc_d + (1 - rho) * delta ** 2
        w = w + lr * delta
        out.append(w)
    return out


def ref_adamax(w, grads, lrs, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m, u = np.zeros_like(w), np.zeros_like(w)
    out = []
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        m = beta_1 * m + (1 - beta_1) * g
        u = np.maximum(beta_2 * u, np.abs(g))
        w = w - lr / (1 - beta_1 ** t) * m / (u + epsilon)
        out.append(w)
    return out


def ref_nadam(w, grads, lrs, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m, v, u_product = np.zeros_like(w), np.zeros_like(w), 1.0
    out = []
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        u_t = beta_1 * (1 - 0.5 * 0.96 ** t)
        u_next = beta_1 * (1 - 0.5 * 0.96 ** (t + 1))
        u_product = u_product * u_t
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g ** 2
        m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
        v_hat = v / (1 - beta_2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + epsilon)
        out.append(w)
    return out


def ref_adam(w, grads, lrs, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
             weight_decay=None):
    # Keras's epsilon is added to sqrt(v) before the bias correction of v: it is the
    # "epsilon hat" of Kingma & Ba, not the epsilon of their Algorithm 1.
    m, v, v_max = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    out = []
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        if weight_decay is not None:
            w = w - w * weight_decay * lr
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g ** 2
        v_max = np.maximum(v_max, v)
        alpha = lr * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        w = w - alpha * m / (np.sqrt(v_max if amsgrad else v) + epsilon)
        out.append(w)
    return out


def ref_adamw(w, grads, lrs, weight_decay=0.004, **kwargs):
    return ref_adam(w, grads, lrs, weight_decay=weight_decay, **kwargs)


def ref_ftrl(w, grads, lrs, learning_rate_power=-0.5, initial_accumulator_value=0.1,
             l1_regularization_strength=0.0, l2_regularization_strength=0.0,
             l2_shrinkage_regularization_strength=0.0, beta=0.0):
    n, z = np.full_like(w, initial_accumulator_value), np.zeros_like(w)
    l1, l2, shrink, p = (l1_regularization_strength, l2_regularization_strength,
                         l2_shrinkage_regularization_strength, learning_rate_power)
    out = []
    for g, lr in zip(grads, lrs):
        prev_n = n
        n = n + g ** 2
        sigma = (n ** -p - prev_n ** -p) / lr
        z = z + (g + 2 * shrink * w) - sigma * w
        w = np.where(np.abs(z) <= l1, 0.0,
                     (np.sign(z) * l1 - z) / (n ** -p / lr + 2 * (l2 + beta / (2 * lr))))
        out.append(w)
    return out


CASES = {
    "adagrad": (optimizers.Adagrad, dict(learning_rate=0.1), ref_adagrad),
    "adagrad_args": (optimizers.Adagrad,
                     dict(learning_rate=0.05, initial_accumulator_value=0.0, epsilon=1e-3),
                     ref_adagrad),
    "adadelta": (optimizers.Adadelta, dict(learning_rate=1.0), ref_adadelta),
    "adadelta_args": (optimizers.Adadelta, dict(learning_rate=0.5, rho=0.5, epsilon=1e-2),
                      ref_adadelta),
    "adamax": (optimizers.Adamax, dict(learning_rate=0.01), ref_adamax),
    "adamax_args": (optimizers.Adamax, dict(learning_rate=0.02, beta_1=0.5, beta_2=0.6,
                                            epsilon=1e-3), ref_adamax),
    "nadam": (optimizers.Nadam, dict(learning_rate=0.01), ref_nadam),
    "nadam_args": (optimizers.Nadam, dict(learning_rate=0.02, beta_1=0.5, beta_2=0.8,
                                          epsilon=1e-3), ref_nadam),
    "adamw": (optimizers.AdamW, dict(learning_rate=0.01), ref_adamw),
    "adamw_args": (optimizers.AdamW, dict(learning_rate=0.05, weight_decay=0.5, beta_1=0.5,
                                          amsgrad=True), ref_adamw),
    "ftrl": (optimizers.Ftrl, dict(learning_rate=0.1), ref_ftrl),
    "ftrl_l1_l2": (optimizers.Ftrl, dict(learning_rate=0.1, l1_regularization_strength=1.0,
                                         l2_regularization_strength=0.2, beta=0.5),
                   ref_ftrl),
    "ftrl_power_shrinkage": (optimizers.Ftrl,
                             dict(learning_rate=0.2, learning_rate_power=-0.7,
                                  l2_shrinkage_regularization_strength=0.1,
                                  initial_accumulator_value=0.5), ref_ftrl),
    "ftrl_power_zero": (optimizers.Ftrl, dict(learning_rate=0.2, learning_rate_power=0.0,
                                              initial_accumulator_value=0.0), ref_ftrl),
}


def steps(optimizer, dtype=np.float64, grads=GRADS, w0=W0):
    """The weights after each step, updating Variables in place."""
    variables = {name: Variable(w.astype(dtype), name) for name, w in w0.items()}
    buffers = {name: v.data for name, v in variables.items()}
    out = []
    for step in grads:
        optimizer.apply([step[name] for name in variables], list(variables.values()))
        out.append({name: v.data.copy() for name, v in variables.items()})
    for name, v in variables.items():
        assert v.data is buffers[name]  # updated in place
    return out


def reference(ref, kwargs, lrs, grads=GRADS, w0=W0):
    hyper = {k: v for k, v in kwargs.items() if k != "learning_rate"}
    per_name = {name: ref(w0[name], [g[name] for g in grads], lrs, **hyper) for name in w0}
    return [{name: per_name[name][i] for name in w0} for i in range(len(grads))]


def assert_steps_close(got, expected, **tolerance):
    assert len(got) == len(expected)
    for step, (g, e) in enumerate(zip(got, expected), start=1):
        for name in e:
            np.testing.assert_allclose(g[name], e[name], err_msg=f"step {step}, {name}",
                                       **tolerance)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_first_three_updates_match_float64_reference(case):
    cls, kwargs, ref = case
    expected = reference(ref, kwargs, [kwargs["learning_rate"]] * len(GRADS))
    optimizer = cls(**kwargs)
    assert_steps_close(steps(optimizer), expected, rtol=1e-12, atol=1e-14)
    assert optimizer.iterations == len(GRADS)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_float32_kernels_follow_the_float64_reference(case):
    cls, kwargs, ref = case
    expected = reference(ref, kwargs, [kwargs["learning_rate"]] * len(GRADS))
    got = steps(cls(**kwargs), np.float32)
    assert all(w.dtype == np.float32 for step in got for w in step.values())
    assert all(a.dtype == np.float32 for a in cls(**kwargs).variables())
    assert_steps_close(got, expected, rtol=2e-5, atol=2e-6)


def test_ftrl_l1_sets_weights_to_zero():
    # With a strong L1 every |z| stays under the threshold: all weights are exactly 0.
    got = steps(optimizers.Ftrl(learning_rate=0.1, l1_regularization_strength=100.0))
    assert all(np.all(w == 0) for step in got for w in step.values())
    # The ftrl_l1_l2 case above has weights on both sides of the threshold at every step.
    for step in steps(CASES["ftrl_l1_l2"][0](**CASES["ftrl_l1_l2"][1])):
        zeros = sum(int(np.sum(w == 0)) for w in step.values())
        assert 0 < zeros < sum(w.size for w in W0.values())


# ---- the serial and parallel compilations of each kernel agree ------------------------------

def _kernel_calls(dtype, size=1000):
    r = np.random.default_rng(3)

    def a(scale=1.0, positive=False):
        x = r.normal(size=size) * scale
        return (np.abs(x) if positive else x).astype(dtype)

    return {
        "adagrad": (kernels._adagrad_update_serial, kernels._adagrad_update_parallel,
                    lambda: (a(), a(), a(positive=True), 0.1, 1e-7)),
        "adadelta": (kernels._adadelta_update_serial, kernels._adadelta_update_parallel,
                     lambda: (a(), a(), a(positive=True), a(positive=True), 1.0, 0.95, 1e-7)),
        "adamax": (kernels._adamax_update_serial, kernels._adamax_update_parallel,
                   lambda: (a(), a(), a(), a(positive=True), 0.01, 0.9, 0.999, 0.19, 1e-7)),
        "nadam": (kernels._nadam_update_serial, kernels._nadam_update_parallel,
                  lambda: (a(), a(), a(), a(positive=True), 0.01, 0.9, 0.999, 1e-7, 3.0, 0.4,
                           0.002)),
        "ftrl": (kernels._ftrl_update_serial, kernels._ftrl_update_parallel,
                 lambda: (a(), a(), a(positive=True), a(), 0.1, -0.6, 0.1, 0.2, 0.05)),
        "weight_decay": (kernels._weight_decay_serial, kernels._weight_decay_parallel,
                         lambda: (a(), 0.01)),
        "moving_average": (kernels._moving_average_update_serial,
                           kernels._moving_average_update_parallel, lambda: (a(), a(), 0.99)),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(_kernel_calls(np.float64)))
def test_serial_and_parallel_kernels_agree(name, dtype):
    serial, parallel, make = _kernel_calls(dtype)[name]
    args = make()
    copies = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
    serial(*args)
    parallel(*copies)
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    for x, y in zip(args, copies):
        if isinstance(x, np.ndarray):
            assert x.dtype == dtype
            np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol)


def test_slots_flush_subnormals():
    # A slot decaying towards 0 becomes exactly 0 instead of subnormal (costly arithmetic).
    tiny = np.finfo(np.float32).tiny
    var, grad = np.zeros(3, np.float32), np.zeros(3, np.float32)
    m, u = np.full(3, tiny * 1.5, np.float32), np.full(3, tiny * 1.5, np.float32)
    kernels.adamax_update(var, grad, m, u, 0.01, 0.5, 0.5, 0.5, 1e-7)
    np.testing.assert_array_equal(m, 0.0)
    np.testing.assert_array_equal(u, 0.0)
    average = np.full(3, tiny * 1.5, np.float32)
    kernels.moving_average_update(average, var, 0.5)
    np.testing.assert_array_equal(average, 0.0)


def test_nan_propagates_through_adamax_maximum():
    var, m = np.zeros(2), np.zeros(2)
    u = np.array([np.nan, 1.0])
    kernels.adamax_update(var, np.array([1.0, np.nan]), m, u, 0.01, 0.9, 0.999, 0.1, 1e-7)
    assert np.isnan(u).all() and np.isnan(var).all()


# ---- options every optimizer shares ---------------------------------------------------------

ALL = {"sgd": optimizers.SGD, "rmsprop": optimizers.RMSprop, "adam": optimizers.Adam,
       "adagrad": optimizers.Adagrad, "adadelta": optimizers.Adadelta,
       "adamax": optimizers.Adamax, "nadam": optimizers.Nadam, "adamw": optimizers.AdamW,
       "ftrl": optimizers.Ftrl}


def clip_reference(grads, **clip):
    """Keras's clipping of one step's gradients (a dict name -> array)."""
    if "clipnorm" in clip:
        c = clip["clipnorm"]
        return {k: g * c / max(np.linalg.norm(g), c) for k, g in grads.items()}
    if "global_clipnorm" in clip:
        c = clip["global_clipnorm"]
        norm = math.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
        return {k: g * c / max(norm, c) for k, g in grads.items()}
    return {k: np.clip(g, -clip["clipvalue"], clip["clipvalue"]) for k, g in grads.items()}


@pytest.mark.parametrize("clip", [dict(clipnorm=0.5), dict(global_clipnorm=1.0),
                                  dict(clipvalue=0.3)], ids=["clipnorm", "global", "clipvalue"])
@pytest.mark.parametrize("name", ["adagrad", "adadelta", "adamax", "nadam", "adamw", "ftrl"])
def test_clipping_happens_before_the_update(name, clip):
    cls, kwargs, ref = CASES[name]
    clipped = [clip_reference(g, **clip) for g in GRADS]
    expected = reference(ref, kwargs, [kwargs["learning_rate"]] * 3, grads=clipped)
    assert_steps_close(steps(cls(**kwargs, **clip)), expected, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("name", ["adagrad", "adadelta", "adamax", "nadam", "ftrl"])
def test_weight_decay_shrinks_weights_before_each_update(name):
    # Keras: w -= w * weight_decay * lr, then the update step (which for Ftrl reads w).
    cls, kwargs, ref = CASES[name]
    wd, lr = 0.3, kwargs["learning_rate"]
    got = steps(cls(**kwargs, weight_decay=wd))
    expected = reference(_with_decay(ref, wd), kwargs, [lr] * 3)
    assert_steps_close(got, expected, rtol=1e-11, atol=1e-14)


def _with_decay(ref, wd):
    """`ref` with Keras's decoupled weight decay before each step, through the one-step
    versions of the references below (which carry their state explicitly)."""
    def decayed(w, grads, lrs, **hyper):
        out = []
        state_ref = _STATEFUL[ref]
        state = None
        for g, lr in zip(grads, lrs):
            w = w - w * wd * lr
            w, state = state_ref(w, g, lr, state, **hyper)
            out.append(w)
        return out
    return decayed


def _adagrad_step(w, g, lr, state, initial_accumulator_value=0.1, epsilon=1e-7):
    acc = np.full_like(w, initial_accumulator_value) if state is None else state
    acc = acc + g * g
    return w - lr * g / np.sqrt(acc + epsilon), acc


def _adadelta_step(w, g, lr, state, rho=0.95, epsilon=1e-7):
    acc_g, acc_d = (np.zeros_like(w), np.zeros_like(w)) if state is None else state
    acc_g = rho * acc_g + (1 - rho) * g ** 2
    delta = -np.sqrt(acc_d + epsilon) * g / np.sqrt(acc_g + epsilon)
    acc_d = rho * acc_d + (1 - rho) * delta ** 2
    return w + lr * delta, (acc_g, acc_d)


def _adamax_step(w, g, lr, state, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m, u, t = (np.zeros_like(w), np.zeros_like(w), 0) if state is None else state
    t += 1
    m = beta_1 * m + (1 - beta_1) * g
    u = np.maximum(beta_2 * u, np.abs(g))
    return w - lr / (1 - beta_1 ** t) * m / (u + epsilon), (m, u, t)


def _nadam_step(w, g, lr, state, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m, v, u_product, t = (np.zeros_like(w), np.zeros_like(w), 1.0, 0) if state is None else state
    t += 1
    u_t, u_next = beta_1 * (1 - 0.5 * 0.96 ** t), beta_1 * (1 - 0.5 * 0.96 ** (t + 1))
    u_product *= u_t
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
    w = w - lr * m_hat / (np.sqrt(v / (1 - beta_2 ** t)) + epsilon)
    return w, (m, v, u_product, t)


def _ftrl_step(w, g, lr, state, learning_rate_power=-0.5, initial_accumulator_value=0.1,
               l1_regularization_strength=0.0, l2_regularization_strength=0.0,
               l2_shrinkage_regularization_strength=0.0, beta=0.0):
    n, z = (np.full_like(w, initial_accumulator_value), np.zeros_like(w)) if state is None \
        else state
    p, l1 = learning_rate_power, l1_regularization_strength
    prev_n, n = n, n + g ** 2
    z = z + (g + 2 * l2_shrinkage_regularization_strength * w) - (n ** -p - prev_n ** -p) / lr * w
    w = np.where(np.abs(z) <= l1, 0.0, (np.sign(z) * l1 - z) / (
        n ** -p / lr + 2 * (l2_regularization_strength + beta / (2 * lr))))
    return w, (n, z)


_STATEFUL = {ref_adagrad: _adagrad_step, ref_adadelta: _adadelta_step,
             ref_adamax: _adamax_step, ref_nadam: _nadam_step, ref_ftrl: _ftrl_step}


def test_stepwise_references_agree_with_the_loop_references():
    for ref, step in _STATEFUL.items():
        w, state, out = W0["kernel"], None, []
        for g in GRADS:
            w, state = step(w, g["kernel"], 0.1, state)
            out.append(w)
        np.testing.assert_allclose(out, ref(W0["kernel"], [g["kernel"] for g in GRADS],
                                            [0.1] * 3), rtol=1e-14)


def test_adamw_is_adam_with_decoupled_weight_decay():
    adamw = steps(optimizers.AdamW(learning_rate=0.01, weight_decay=0.1))
    adam = steps(optimizers.Adam(learning_rate=0.01, weight_decay=0.1))
    assert_steps_close(adamw, adam, rtol=0, atol=0)
    assert optimizers.AdamW().weight_decay == 0.004


def test_exclude_from_weight_decay():
    optimizer = optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    got = steps(optimizer)
    expected_bias = ref_adam(W0["bias"], [g["bias"] for g in GRADS], [0.1] * 3)
    expected_kernel = ref_adamw(W0["kernel"], [g["kernel"] for g in GRADS], [0.1] * 3,
                                weight_decay=0.5)
    np.testing.assert_allclose(got[-1]["bias"], expected_bias[-1], rtol=1e-12)
    np.testing.assert_allclose(got[-1]["kernel"], expected_kernel[-1], rtol=1e-12)
    with pytest.raises(ValueError, match="before the optimizer is built"):
        optimizer.exclude_from_weight_decay(var_names=["kernel"])
    # by variable
    optimizer = optimizers.SGD(learning_rate=0.1, weight_decay=0.5)
    a, b = Variable(np.ones(2), "a"), Variable(np.ones(2), "b")
    optimizer.exclude_from_weight_decay(var_list=[a])
    optimizer.apply([np.zeros(2), np.zeros(2)], [a, b])
    np.testing.assert_array_equal(a.data, 1.0)
    np.testing.assert_allclose(b.data, 1.0 - 0.5 * 0.1)


# ---- moving average of the weights ------------------------------------------------------------

def ema_reference(weights_after_steps, momentum):
    """Keras: the average copies the weights after the first step, then
    average = momentum * average + (1 - momentum) * weights."""
    averages, average = [], None
    for w in weights_after_steps:
        average = w if average is None else momentum * average + (1 - momentum) * w
        averages.append(average)
    return averages


@pytest.mark.parametrize("name", list(ALL))
def test_use_ema_keeps_a_moving_average_and_finalize_uses_it(name):
    plain = steps(ALL[name](learning_rate=0.01))
    optimizer = ALL[name](learning_rate=0.01, use_ema=True, ema_momentum=0.5)
    variables = {k: Variable(w.copy(), k) for k, w in W0.items()}
    for step, g in enumerate(GRADS):
        optimizer.apply([g[k] for k in variables], list(variables.values()))
        for k, v in variables.items():  # the weights themselves follow the plain optimizer
            np.testing.assert_allclose(v.data, plain[step][k], rtol=1e-13)
    averages = {k: ema_reference([s[k] for s in plain], 0.5)[-1] for k in W0}
    assert_steps_close([{k: a for k, a in zip(W0, optimizer.variables()[:2])}], [averages],
                       rtol=1e-12)
    optimizer.finalize_variable_values(list(variables.values()))
    for k, v in variables.items():
        np.testing.assert_allclose(v.data, averages[k], rtol=1e-12)


def test_ema_overwrite_frequency_replaces_the_weights_every_n_steps():
    lr = 0.1
    optimizer = optimizers.SGD(learning_rate=lr, use_ema=True, ema_momentum=0.9,
                               ema_overwrite_frequency=2)
    w = Variable(np.array([1.0, -1.0]), "w")
    grads = [np.array([1.0, 2.0]), np.array([-1.0, 0.5]), np.array([0.3, 0.3])]
    expected_w, average = np.array([1.0, -1.0]), None
    for t, g in enumerate(grads, start=1):
        optimizer.apply([g], [w])
        expected_w = expected_w - lr * g
        average = expected_w if average is None else 0.9 * average + 0.1 * expected_w
        if t % 2 == 0:
            expected_w = average.copy()
        np.testing.assert_allclose(w.data, expected_w, rtol=1e-14, err_msg=f"step {t}")
    assert not np.allclose(w.data, average)  # step 3 is not an overwrite step


def test_ema_averages_the_weights_before_their_constraint():
    # Keras updates the moving average inside the update, then applies the constraint.
    optimizer = optimizers.SGD(learning_rate=1.0, use_ema=True)
    w = Variable(np.array([0.5, 0.5]), "w", constraint=constraints.NonNeg())
    optimizer.apply([np.array([1.0, -1.0])], [w])
    np.testing.assert_allclose(w.data, [0.0, 1.5])
    np.testing.assert_allclose(optimizer.variables()[0], [-0.5, 1.5])


def test_fit_finalizes_the_moving_average():
    from kerasr import compile, fit, keras_model_sequential, layer_dense, set_random_seed
    set_random_seed(5)
    x = np.random.default_rng(5).normal(size=(64, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    model = keras_model_sequential() | layer_dense(units=1, input_shape=3)
    optimizer = optimizers.Adam(learning_rate=0.05, use_ema=True, ema_momentum=0.9)
    model | compile(optimizer=optimizer, loss="mse")
    model | fit(x, y, epochs=2, batch_size=16, verbose=0)
    averages = optimizer.variables()[:len(model.trainable_weights)]
    for var, average in zip(model.trainable_weights, averages):
        np.testing.assert_array_equal(var.data, average)


# ---- legacy arguments for the new optimizers ---------------------------------------------------

@pytest.mark.parametrize("r_function", [
    optimizers.optimizer_adagrad, optimizers.optimizer_adadelta, optimizers.optimizer_adamax,
    optimizers.optimizer_nadam, optimizers.optimizer_adamw, optimizers.optimizer_ftrl])
def test_lr_and_decay_are_honoured_with_warnings(r_function):
    with pytest.warns(UserWarning) as record:
        optimizer = r_function(lr=0.2, decay=0.5)
    messages = " ".join(str(w.message) for w in record)
    assert "renamed to `learning_rate`" in messages and "decay" in messages
    assert record[0].filename == __file__
    assert optimizer.learning_rate == 0.2
    optimizer.apply([np.ones(2)], [Variable(np.ones(2), "w")])
    assert optimizer.learning_rate == pytest.approx(0.2 / (1 + 0.5 * 1))


def test_decay_feeds_the_update_steps():
    lrs = [0.1 / (1 + 0.5 * t) for t in range(3)]
    with pytest.warns(UserWarning):
        optimizer = optimizers.Nadam(learning_rate=0.1, decay=0.5)
    assert_steps_close(steps(optimizer), reference(ref_nadam, {}, lrs), rtol=1e-12)


# ---- r functions, names, configs ---------------------------------------------------------------

@pytest.mark.parametrize("r_function, cls", [
    (optimizers.optimizer_adagrad, optimizers.Adagrad),
    (optimizers.optimizer_adadelta, optimizers.Adadelta),
    (optimizers.optimizer_adamax, optimizers.Adamax),
    (optimizers.optimizer_nadam, optimizers.Nadam),
    (optimizers.optimizer_adamw, optimizers.AdamW),
    (optimizers.optimizer_ftrl, optimizers.Ftrl),
])
def test_r_functions_have_keras_defaults_and_configs_round_trip(r_function, cls):
    optimizer = r_function()
    assert type(optimizer) is cls
    config = optimizer.get_config()
    assert config == cls().get_config()
    assert config["name"] == cls.__name__.lower()
    assert (config["use_ema"], config["ema_momentum"], config["ema_overwrite_frequency"]) == (
        False, 0.99, None)
    rebuilt = optimizers.get({"class_name": cls.__name__, "config": config})
    assert type(rebuilt) is cls and rebuilt.get_config() == config
    assert type(optimizers.get(cls.__name__)) is cls
    assert type(optimizers.get(cls.__name__.lower())) is cls
    assert r_function(clipnorm=1.0, use_ema=True).get_config()["clipnorm"] == 1.0


def test_keras_defaults():
    assert optimizers.Adagrad().get_config()["initial_accumulator_value"] == 0.1
    assert optimizers.Adadelta().get_config()["rho"] == 0.95
    ftrl = optimizers.Ftrl().get_config()
    assert (ftrl["learning_rate"], ftrl["learning_rate_power"], ftrl["initial_accumulator_value"],
            ftrl["l1_regularization_strength"], ftrl["l2_regularization_strength"],
            ftrl["l2_shrinkage_regularization_strength"], ftrl["beta"]) == (
        0.001, -0.5, 0.1, 0.0, 0.0, 0.0, 0.0)
    for cls in (optimizers.Adamax, optimizers.Nadam, optimizers.AdamW):
        config = cls().get_config()
        assert (config["learning_rate"], config["beta_1"], config["beta_2"],
                config["epsilon"]) == (0.001, 0.9, 0.999, 1e-7)


def test_r_names_are_exported():
    import kerasr
    for name in ("optimizer_adagrad", "optimizer_adadelta", "optimizer_adamax",
                 "optimizer_nadam", "optimizer_adamw", "optimizer_ftrl"):
        assert name in kerasr.__all__ and callable(getattr(kerasr, name))


# ---- state: variables(), get_state(), set_state() ------------------------------------------

def test_state_order_follows_keras():
    a, b = Variable(np.zeros((2, 3)), "a"), Variable(np.zeros(4), "b")
    shapes = lambda opt: [x.shape for x in opt.variables()]  # noqa: E731
    for cls, expected in [
        # Keras creates Adamax's and Ftrl's two slots variable by variable ...
        (optimizers.Adamax, [(2, 3), (2, 3), (4,), (4,)]),
        (optimizers.Ftrl, [(2, 3), (2, 3), (4,), (4,)]),
        # ... and the others slot by slot.
        (optimizers.Adadelta, [(2, 3), (4,), (2, 3), (4,)]),
        (optimizers.Nadam, [(2, 3), (4,), (2, 3), (4,)]),
        (optimizers.Adagrad, [(2, 3), (4,)]),
    ]:
        optimizer = cls()
        assert optimizer.variables() == []
        optimizer.build([a, b])
        assert shapes(optimizer) == expected, cls.__name__
    optimizer = optimizers.Adam(use_ema=True)  # the moving averages come first
    optimizer.build([a, b])
    assert shapes(optimizer) == [(2, 3), (4,)] * 3
    np.testing.assert_array_equal(optimizers.Ftrl().variables(), [])
    ftrl = optimizers.Ftrl(initial_accumulator_value=0.25)
    ftrl.build([b])
    np.testing.assert_array_equal(ftrl.variables()[0], 0.25)  # accumulator
    np.testing.assert_array_equal(ftrl.variables()[1], 0.0)  # linear


@pytest.mark.parametrize("name", list(ALL))
def test_set_state_resumes_bit_identically(name):
    kwargs = dict(learning_rate=0.01, use_ema=True)
    if name == "sgd":
        kwargs["momentum"] = 0.9
    more = [{k: rng.normal(size=w.shape) for k, w in W0.items()} for _ in range(3)]

    def run(optimizer, variables, grads):
        for g in grads:
            optimizer.apply([g[k] for k in variables], list(variables.values()))

    variables = {k: Variable(w.copy(), k) for k, w in W0.items()}
    first = ALL[name](**kwargs)
    run(first, variables, GRADS)
    state = first.get_state()
    saved_weights = {k: v.data.copy() for k, v in variables.items()}
    run(first, variables, more)

    resumed_vars = {k: Variable(w, k) for k, w in saved_weights.items()}
    second = ALL[name](**kwargs)
    with pytest.raises(ValueError, match="Build it first"):
        second.set_state(state)
    second.build(list(resumed_vars.values()))
    second.set_state(state)
    assert second.iterations == 3
    run(second, resumed_vars, more)
    for k in variables:
        np.testing.assert_array_equal(resumed_vars[k].data, variables[k].data)
    for x, y in zip(first.variables(), second.variables()):
        np.testing.assert_array_equal(x, y)
    state["variables"][0] = 123.0  # a copy: the live state does not move
    assert not np.any(first.variables()[0] == 123.0)


def test_set_state_checks_shapes_and_restores_the_learning_rate():
    optimizer = optimizers.Adagrad(learning_rate=0.1)
    w = Variable(np.zeros(3), "w")
    optimizer.apply([np.ones(3)], [w])
    state = optimizer.get_state()
    assert state["learning_rate"] == 0.1 and state["iterations"] == 1
    other = optimizers.Adagrad(learning_rate=0.5)
    other.build([w])
    other.set_state(state)
    assert other.learning_rate == 0.1
    bad = dict(state, variables=[np.zeros(4)])
    with pytest.raises(ValueError, match=r"state array 0 has shape \(3,\).*\(4,\)"):
        other.set_state(bad)
    with pytest.raises(ValueError, match="has 1 state arrays, the state to restore has 2"):
        other.set_state(dict(state, variables=state["variables"] * 2))


# ---- reproducibility ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ALL))
def test_fit_is_bit_identical_across_reruns(name):
    from kerasr import compile, fit, keras_model_sequential, layer_dense, layer_dropout
    from kerasr import set_random_seed

    def run():
        set_random_seed(11)
        x = np.random.default_rng(11).normal(size=(96, 5)).astype(np.float32)
        y = (x[:, :1] - x[:, 1:2] > 0).astype(np.float32)
        model = keras_model_sequential() | layer_dense(units=8, activation="relu",
                                                       input_shape=5) | \
            layer_dropout(rate=0.2) | layer_dense(units=1, activation="sigmoid")
        optimizer = ALL[name](learning_rate=0.01, use_ema=True, ema_overwrite_frequency=5)
        model | compile(optimizer=optimizer, loss="binary_crossentropy")
        history = model | fit(x, y, epochs=3, batch_size=16, verbose=0)
        return [w.data.copy() for w in model.trainable_weights], history.history["loss"]

    weights_a, loss_a = run()
    weights_b, loss_b = run()
    assert loss_a == loss_b
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)


# ---- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, message", [
    (lambda: optimizers.optimizer_adagrad(initial_accumulator_value=-1), ValueError,
     "initial_accumulator_value must be >= 0"),
    (lambda: optimizers.optimizer_adadelta(rho=1.5), ValueError, r"rho must be in \[0.0, 1.0\]"),
    (lambda: optimizers.optimizer_adamax(beta_1=1.0), ValueError, r"beta_1 must be in"),
    (lambda: optimizers.optimizer_nadam(epsilon=-1), ValueError, "epsilon must be >= 0"),
    (lambda: optimizers.optimizer_adamw(weight_decay=None), ValueError,
     "Argument `weight_decay` must be a float"),
    (lambda: optimizers.optimizer_ftrl(learning_rate_power=0.5), ValueError,
     "`learning_rate_power` needs to be negative or zero"),
    (lambda: optimizers.optimizer_ftrl(l1_regularization_strength=-1), ValueError,
     "`l1_regularization_strength` needs to be positive or zero"),
    (lambda: optimizers.optimizer_ftrl(l2_shrinkage_regularization_strength="x"), ValueError,
     "l2_shrinkage_regularization_strength must be a number"),
    (lambda: optimizers.optimizer_nadam(momentum=0.9), ValueError,
     "Nadam: argument.s. not recognized: momentum"),
    (lambda: optimizers.optimizer_ftrl(loss_scale=2), ValueError,
     "Ftrl: argument.s. not recognized: loss_scale"),
    (lambda: optimizers.optimizer_adam(use_ema=True, ema_momentum=1.5), ValueError,
     r"`ema_momentum` must be in the range \[0, 1\]"),
    (lambda: optimizers.optimizer_sgd(ema_overwrite_frequency=0), ValueError,
     "`ema_overwrite_frequency` must be an integer >= 1 or None"),
    (lambda: optimizers.optimizer_sgd(ema_overwrite_frequency=2.5), ValueError,
     "`ema_overwrite_frequency` must be an integer"),
    (lambda: optimizers.optimizer_adagrad(learning_rate=0.1, lr=0.2), ValueError, "not both"),
    (lambda: optimizers.optimizer_adagrad(learning_rate=[0.1]), ValueError,
     "learning_rate must be a number"),
])
def test_argument_errors(make, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=message):
            make()


def test_ftrl_needs_a_positive_learning_rate_at_each_step():
    optimizer = optimizers.Ftrl(learning_rate=lambda step: 0.1 if step == 0 else 0.0)
    w = Variable(np.zeros(2), "w")
    optimizer.apply([np.ones(2)], [w])
    with pytest.raises(ValueError, match="Ftrl divides by the learning rate.*iteration 1"):
        optimizer.apply([np.ones(2)], [w])


def test_public_kernels_take_the_parallel_variant_for_large_work(monkeypatch):
    from kerasr.kernels import _jit

    calls = {
        "adagrad_update": lambda a: kernels.adagrad_update(a[0], a[1], abs(a[2]), 0.1, 1e-7),
        "adadelta_update": lambda a: kernels.adadelta_update(a[0], a[1], abs(a[2]), abs(a[3]),
                                                             1.0, 0.95, 1e-7),
        "adamax_update": lambda a: kernels.adamax_update(a[0], a[1], a[2], abs(a[3]), 0.01,
                                                         0.9, 0.999, 0.1, 1e-7),
        "nadam_update": lambda a: kernels.nadam_update(a[0], a[1], a[2], abs(a[3]), 0.01, 0.9,
                                                       0.999, 1e-7, 3.0, 0.4, 0.002),
        "ftrl_update": lambda a: kernels.ftrl_update(a[0], a[1], abs(a[2]), a[3], 0.1, -0.5,
                                                     0.1, 0.2, 0.05),
        "weight_decay": lambda a: kernels.weight_decay(a[0], 0.01),
        "moving_average_update": lambda a: kernels.moving_average_update(a[0], a[1], 0.9),
    }

    def arrays():
        r = np.random.default_rng(4)
        return [r.normal(size=64).astype(np.float32) for _ in range(4)]

    serial = {name: call(arrays()) for name, call in calls.items()}
    monkeypatch.setattr(_jit, "PARALLEL_MIN_ELEMENTS", 0)
    monkeypatch.setattr(_jit.numba, "get_num_threads", lambda: 2)
    for name, call in calls.items():
        np.testing.assert_allclose(call(arrays()), serial[name], rtol=1e-6, err_msg=name)
