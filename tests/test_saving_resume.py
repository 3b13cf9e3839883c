"""Exact resume: fit 2 epochs, save_model, load_model, fit 2 more gives bit for bit the weights
of fitting 4, for every optimizer kerasr has (and their slot-changing variants), with shuffling
and dropout drawing from the global generator (loading must not disturb it)."""

import inspect

import numpy as np
import pytest

from kerasr import (keras_model_sequential, layer_batch_normalization, layer_dense,
                    layer_dropout, learning_rate_schedule_exponential_decay, load_model,
                    optimizers, save_model, set_random_seed)
from kerasr.optimizers import Optimizer


def optimizer_classes():
    found, stack = [], [Optimizer]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__ == "kerasr.optimizers" and not sub.__name__.startswith("_"):
                found.append(sub)
    return sorted(set(found), key=lambda c: c.__name__)


def make(cls, **kwargs):
    accepted = inspect.signature(cls.__init__).parameters
    if "learning_rate" in accepted and "learning_rate" not in kwargs:
        kwargs["learning_rate"] = 0.01
    return cls(**kwargs)


CASES = [(cls.__name__, cls, {}) for cls in optimizer_classes()] + [
    ("SGD_nesterov", optimizers.SGD, {"momentum": 0.9, "nesterov": True}),
    ("RMSprop_centered_momentum", optimizers.RMSprop, {"momentum": 0.5, "centered": True}),
    ("Adam_amsgrad", optimizers.Adam, {"amsgrad": True}),
    ("Adam_ema", optimizers.Adam, {"use_ema": True, "ema_overwrite_frequency": 3}),
    ("Adam_schedule", optimizers.Adam, {"learning_rate": learning_rate_schedule_exponential_decay(
        0.02, decay_steps=3, decay_rate=0.8)}),
    ("AdamW_clipnorm", optimizers.AdamW, {"clipnorm": 0.5}),
]


def test_the_table_covers_every_optimizer():
    assert set(optimizers._BY_NAME.values()) <= set(optimizer_classes())


def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 5)).astype("float32")
    y = (x @ rng.standard_normal((5, 2))).astype("float32")
    return x, y


def model(optimizer):
    set_random_seed(3)
    m = (keras_model_sequential(input_shape=5) | layer_dense(8, activation="tanh")
         | layer_batch_normalization() | layer_dropout(0.2) | layer_dense(2))
    m.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    return m


@pytest.mark.parametrize("name, cls, kwargs", CASES, ids=[c[0] for c in CASES])
def test_fit_save_load_fit_equals_fitting_straight_through(tmp_path, name, cls, kwargs):
    x, y = data()
    straight = model(make(cls, **kwargs))
    first = straight.fit(x, y, epochs=2, batch_size=8, verbose=0)
    second = straight.fit(x, y, epochs=2, batch_size=8, verbose=0)
    if not kwargs.get("use_ema"):
        # Two fits of 2 epochs are one fit of 4 (with use_ema, fit ends by setting the weights
        # to their moving averages, as Keras: the comparison is with continuing in memory).
        four = model(make(cls, **kwargs))
        history = four.fit(x, y, epochs=4, batch_size=8, verbose=0)
        assert first.metrics["loss"] + second.metrics["loss"] == history.metrics["loss"]
        for a, b in zip(straight.get_weights(), four.get_weights()):
            np.testing.assert_array_equal(a, b)

    resumed = model(make(cls, **kwargs))
    resumed.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "m.keras"
    save_model(resumed, path)
    loaded = load_model(path)
    assert type(loaded.optimizer) is cls
    assert loaded.optimizer.iterations == resumed.optimizer.iterations == 10
    assert loaded.optimizer.get_config() == resumed.optimizer.get_config()
    later = loaded.fit(x, y, epochs=2, batch_size=8, verbose=0)

    for a, b in zip(straight.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert later.metrics["loss"] == second.metrics["loss"]
    assert later.metrics["mae"] == second.metrics["mae"]
    for a, b in zip(straight.optimizer.get_state()["variables"],
                    loaded.optimizer.get_state()["variables"]):
        np.testing.assert_array_equal(a, b)


def test_saving_and_loading_leave_the_random_generator_alone(tmp_path):
    from kerasr import random
    m = model("adam")
    state = random.generator().bit_generator.state
    save_model(m, tmp_path / "m.keras")
    load_model(tmp_path / "m.keras")
    assert random.generator().bit_generator.state == state


def test_without_the_optimizer_the_model_loads_compiled_but_fresh(tmp_path):
    x, y = data()
    m = model("adam")
    m.fit(x, y, epochs=1, batch_size=8, verbose=0)
    save_model(m, tmp_path / "m.keras", include_optimizer=False)
    loaded = load_model(tmp_path / "m.keras")
    assert loaded.optimizer.iterations == 0
    assert load_model(tmp_path / "m.keras", compile=False).optimizer is None
