"""get_config / from_config round trips (through JSON) for every optimizer, loss, metric,
regularizer, initializer and constraint class kerasr has, with non-default arguments, and the
same objects inside a saved model's compile settings."""

import json

import numpy as np
import pytest
from test_layer_configs import CONSTRAINTS, INITIALIZERS, REGULARIZERS

from kerasr import (constraints, initializers, keras_model_sequential, layer_dense, load_model,
                    losses, metrics, optimizers, regularizers, save_model, schedules)
from kerasr.saving.serialization import resolve_objects, serialize_object, to_json_ready


def public_subclasses(base, module):
    found, stack = set(), [base]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__ == module.__name__ and not sub.__name__.startswith("_"):
                found.add(sub)
    return found


def through_json(value):
    return json.loads(json.dumps(to_json_ready(value)))


def check_round_trip(obj, get=None):
    config = obj.get_config()
    text = json.dumps(to_json_ready(config))
    # Functions inside (a wrapper's fn) are stored by name; resolve_objects finds them again.
    back = type(obj).from_config(resolve_objects(json.loads(text)))
    assert type(back) is type(obj)
    assert through_json(back.get_config()) == json.loads(text), type(obj).__name__
    if get is not None:
        again = get({"class_name": type(obj).__name__, "config": json.loads(text)})
        assert type(again) is type(obj)
        assert through_json(again.get_config()) == json.loads(text), type(obj).__name__


# ---- optimizers ------------------------------------------------------------------------------
def optimizer_cases():
    schedule = schedules.CosineDecay(0.1, decay_steps=100, alpha=0.1, warmup_target=0.2,
                                     warmup_steps=5) if "warmup_target" in \
        schedules.CosineDecay.__init__.__code__.co_varnames else schedules.CosineDecay(0.1, 100)
    cases = []
    for cls in sorted(public_subclasses(optimizers.Optimizer, optimizers),
                      key=lambda c: c.__name__):
        cases.append(cls(learning_rate=0.05, clipnorm=2.0, name=f"my_{cls.__name__}"))
        cases.append(cls(learning_rate=schedule, use_ema=True, ema_momentum=0.9))
    return cases


@pytest.mark.parametrize("optimizer", optimizer_cases(), ids=lambda o: type(o).__name__)
def test_every_optimizer_round_trips(optimizer):
    check_round_trip(optimizer, optimizers.get)
    entry = json.loads(json.dumps(serialize_object(optimizer)))
    back = optimizers.get({"class_name": entry["class_name"], "config": entry["config"]})
    assert back.learning_rate == optimizer.learning_rate


def test_every_schedule_round_trips():
    cases = [schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
             schedules.InverseTimeDecay(0.1, 10, 0.5),
             schedules.PiecewiseConstantDecay([5, 10], [0.1, 0.01, 0.001]),
             schedules.PolynomialDecay(0.1, 20, end_learning_rate=0.01, power=2.0, cycle=True),
             schedules.CosineDecay(0.1, 100), schedules.CosineDecayRestarts(0.1, 10)]
    assert public_subclasses(schedules.LearningRateSchedule, schedules) <= {type(s) for s in cases}
    for schedule in cases:
        check_round_trip(schedule, schedules.get)
        back = schedules.get(json.loads(json.dumps(schedules.serialize(schedule))))
        assert [back(s) for s in (0, 7, 33)] == [schedule(s) for s in (0, 7, 33)]


# ---- losses ----------------------------------------------------------------------------------
def loss_cases():
    cases = []
    for cls in sorted(public_subclasses(losses.Loss, losses), key=lambda c: c.__name__):
        if cls is losses.LossFunctionWrapper:
            cases.append(cls(losses.huber, reduction="sum", name="wrapped", delta=0.5))
            continue
        cases.append(cls(reduction="sum", name=f"my_{cls.__name__}"))
    return cases


@pytest.mark.parametrize("loss", loss_cases(), ids=lambda o: type(o).__name__)
def test_every_loss_round_trips(loss):
    check_round_trip(loss, None if type(loss) is losses.LossFunctionWrapper else losses.get)
    y_true = np.random.default_rng(0).uniform(0.05, 0.95, (4, 3)).astype("float32")
    y_pred = np.random.default_rng(1).uniform(0.05, 0.95, (4, 3)).astype("float32")
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        y_true = np.array([0, 2, 1, 1])
    back = type(loss).from_config(resolve_objects(through_json(loss.get_config())))
    np.testing.assert_array_equal(np.asarray(getattr(loss(y_true, y_pred), "data", 0.0)),
                                  np.asarray(getattr(back(y_true, y_pred), "data", 0.0)))


# ---- metrics ---------------------------------------------------------------------------------
NEEDS = {"IoU": {"num_classes": 3, "target_class_ids": [0, 2]}, "MeanIoU": {"num_classes": 3},
         "SensitivityAtSpecificity": {"specificity": 0.6},
         "SpecificityAtSensitivity": {"sensitivity": 0.6},
         "PrecisionAtRecall": {"recall": 0.7}, "RecallAtPrecision": {"precision": 0.7},
         "MeanMetricWrapper": {"fn": losses.log_cosh}}


def metric_cases():
    cases = []
    for cls in sorted(public_subclasses(metrics.Metric, metrics), key=lambda c: c.__name__):
        kwargs = dict(NEEDS.get(cls.__name__, {}))
        cases.append(cls(name=f"my_{cls.__name__.lower()}", **kwargs))
    return cases


@pytest.mark.parametrize("metric", metric_cases(), ids=lambda o: type(o).__name__)
def test_every_metric_round_trips(metric):
    check_round_trip(metric, None if type(metric) is metrics.MeanMetricWrapper else metrics.get)


# ---- regularizers, initializers, constraints ------------------------------------------------
@pytest.mark.parametrize("module, base, objects", [
    (initializers, initializers.Initializer, INITIALIZERS),
    (regularizers, regularizers.Regularizer, REGULARIZERS),
    (constraints, constraints.Constraint, CONSTRAINTS)],
    ids=["initializers", "regularizers", "constraints"])
def test_every_weight_helper_round_trips(module, base, objects):
    for obj in objects:
        check_round_trip(obj, module.get)


# ---- inside a model file ---------------------------------------------------------------------
@pytest.mark.parametrize("loss", [l for l in loss_cases() if not isinstance(
    l, losses.SparseCategoricalCrossentropy)], ids=lambda o: type(o).__name__)
def test_every_loss_and_a_metric_come_back_from_a_model_file(tmp_path, loss):
    model = keras_model_sequential(input_shape=3) | layer_dense(3, activation="sigmoid")
    model.compile(optimizer=optimizers.Nadam(0.01), loss=loss,
                  metrics=[metrics.Precision(thresholds=[0.3, 0.6], name="p"), "mae"])
    save_model(model, tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert type(loaded._loss_fns[0]) is type(loss)
    assert through_json(loaded._loss_fns[0].get_config()) == through_json(loss.get_config())
    assert loaded._metric_spec[0][0].get_config() == model._metric_spec[0][0].get_config()
    assert loaded._metric_spec[0][1] == "mae"
