"""Focal crossentropies, sparse crossentropy's ignore_class, and the full list of R keras
losses, against numpy formulas written here."""

import inspect

import numpy as np
import pytest
from gradcheck import check_gradients

import kerasr
from kerasr import losses, metrics, ops
from kerasr.engine.tape import GradientTape
from kerasr.engine.tensor import Tensor

EPS = 1e-7
N, C = 6, 4
rng = np.random.default_rng(3)
LOGITS = rng.normal(size=(N, C)) * 2
BINARY = rng.integers(0, 2, size=(N, C)).astype(np.float64)
UNIT = rng.uniform(0.05, 0.95, size=(N, C))
LABELS = np.array([0, 3, 1, 2, 1, 0])
ONE_HOT = np.eye(C)[LABELS]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def ref_binary_focal(y, p, gamma=2.0, alpha=0.25, balance=False, smoothing=0.0, logits=False):
    y = y * (1 - smoothing) + 0.5 * smoothing
    if logits:
        z = p
        p = sigmoid(z)
        bce = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    else:
        q = np.clip(p, EPS, 1 - EPS)
        bce = -(y * np.log(q) + (1 - y) * np.log(1 - q))
    p_t = y * p + (1 - y) * (1 - p)
    loss = (1 - p_t) ** gamma * bce
    if balance:
        loss = loss * (y * alpha + (1 - y) * (1 - alpha))
    return loss.mean(-1)


def ref_categorical_focal(y, p, gamma=2.0, alpha=0.25, smoothing=0.0, logits=False):
    y = y * (1 - smoothing) + smoothing / y.shape[-1]
    if logits:
        p = softmax(p)
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return np.sum(np.asarray(alpha) * (1 - p) ** gamma * -y * np.log(p), -1)


def test_keras_documentation_examples():
    np.testing.assert_allclose(
        losses.binary_focal_crossentropy(np.array([[0, 1], [0, 0.]]),
                                         np.array([[0.6, 0.4], [0.4, 0.6]])).data,
        [0.330, 0.206], atol=5e-4)
    np.testing.assert_allclose(
        losses.loss_categorical_focal_crossentropy(
            np.array([[0, 1, 0], [0, 0, 1.]]),
            np.array([[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]])).data,
        [2.63401289e-04, 6.75912094e-01], rtol=1e-6)


BINARY_OPTIONS = [
    {}, {"gamma": 0.0}, {"gamma": 1.5}, {"apply_class_balancing": True},
    {"apply_class_balancing": True, "alpha": 0.7, "gamma": 3.0}, {"label_smoothing": 0.2},
]


@pytest.mark.parametrize("options", BINARY_OPTIONS, ids=str)
@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_focal_values_and_gradients(options, from_logits):
    y_pred = LOGITS if from_logits else UNIT
    ref = ref_binary_focal(BINARY, y_pred, gamma=options.get("gamma", 2.0),
                           alpha=options.get("alpha", 0.25),
                           balance=options.get("apply_class_balancing", False),
                           smoothing=options.get("label_smoothing", 0.0), logits=from_logits)
    out = losses.binary_focal_crossentropy(BINARY, y_pred, from_logits=from_logits, **options)
    assert out.shape == (N,)
    np.testing.assert_allclose(out.data, ref, rtol=1e-10, atol=1e-14)
    check_gradients(lambda p: losses.binary_focal_crossentropy(
        BINARY, p, from_logits=from_logits, **options), y_pred)


CATEGORICAL_OPTIONS = [{}, {"gamma": 0.0}, {"gamma": 1.0, "alpha": 1.0},
                       {"alpha": [0.1, 0.2, 0.3, 0.4]}, {"label_smoothing": 0.1}]


@pytest.mark.parametrize("options", CATEGORICAL_OPTIONS, ids=str)
@pytest.mark.parametrize("from_logits", [False, True])
def test_categorical_focal_values_and_gradients(options, from_logits):
    y_pred = LOGITS if from_logits else softmax(LOGITS / 3)  # away from tiny probabilities
    ref = ref_categorical_focal(ONE_HOT, y_pred, gamma=options.get("gamma", 2.0),
                                alpha=options.get("alpha", 0.25),
                                smoothing=options.get("label_smoothing", 0.0), logits=from_logits)
    out = losses.categorical_focal_crossentropy(ONE_HOT, y_pred, from_logits=from_logits,
                                                **options)
    np.testing.assert_allclose(out.data, ref, rtol=1e-10, atol=1e-14)
    check_gradients(lambda p: losses.categorical_focal_crossentropy(
        ONE_HOT, p, from_logits=from_logits, **options), y_pred)


def test_focal_gamma_zero_is_plain_crossentropy():
    np.testing.assert_allclose(
        losses.binary_focal_crossentropy(BINARY, UNIT, gamma=0).data,
        losses.binary_crossentropy(BINARY, UNIT).data, rtol=1e-12)
    np.testing.assert_allclose(
        losses.categorical_focal_crossentropy(ONE_HOT, softmax(LOGITS), gamma=0, alpha=1).data,
        losses.categorical_crossentropy(ONE_HOT, softmax(LOGITS)).data, rtol=1e-6)


def test_focal_on_activation_outputs_matches_probability_formula():
    z = Tensor(LOGITS.copy())
    with GradientTape() as tape:
        tape.watch(z)
        out = losses.binary_focal_crossentropy(BINARY, ops.sigmoid(z))
        total = ops.sum(out)
    np.testing.assert_allclose(out.data, ref_binary_focal(BINARY, sigmoid(LOGITS)), rtol=1e-8)
    assert np.isfinite(tape.gradient(total, z)).all()
    out = losses.categorical_focal_crossentropy(ONE_HOT, ops.softmax(Tensor(LOGITS.copy())))
    np.testing.assert_allclose(out.data, ref_categorical_focal(ONE_HOT, softmax(LOGITS)),
                               rtol=1e-8)


def test_focal_float32_stays_float32_and_class_axis():
    out = losses.binary_focal_crossentropy(BINARY.astype(np.float32), UNIT.astype(np.float32))
    assert out.dtype == np.float32
    out = losses.categorical_focal_crossentropy(ONE_HOT.T, softmax(LOGITS).T, axis=0)
    np.testing.assert_allclose(out.data, ref_categorical_focal(ONE_HOT, softmax(LOGITS)),
                               rtol=1e-10)


def test_focal_objects_configs_and_metrics():
    loss = losses.loss_binary_focal_crossentropy(apply_class_balancing=True, alpha=0.4,
                                                 gamma=1.0, from_logits=True)
    assert isinstance(loss, losses.BinaryFocalCrossentropy)
    config = loss.get_config()
    assert config["alpha"] == 0.4 and config["from_logits"] is True
    assert losses.BinaryFocalCrossentropy.from_config(config).get_config() == config
    expected = ref_binary_focal(BINARY, LOGITS, gamma=1.0, alpha=0.4, balance=True, logits=True)
    assert float(loss(BINARY, LOGITS).data) == pytest.approx(expected.mean(), rel=1e-10)
    assert losses.get("categorical_focal_crossentropy").name == "categorical_focal_crossentropy"
    metric = metrics.metric_categorical_focal_crossentropy()
    metric.update_state(ONE_HOT[:2], softmax(LOGITS)[:2])
    metric.update_state(ONE_HOT[2:], softmax(LOGITS)[2:])
    assert metric.result() == pytest.approx(
        ref_categorical_focal(ONE_HOT, softmax(LOGITS)).mean(), rel=1e-10)
    with pytest.raises(ValueError, match="alpha has 3 values for 4 classes"):
        losses.categorical_focal_crossentropy(ONE_HOT, softmax(LOGITS), alpha=[1, 2, 3])


def test_binary_focal_accuracy_resolves_to_binary_accuracy():
    metric = metrics.get("accuracy", loss="binary_focal_crossentropy", y_pred_shape=(None, 3))
    assert isinstance(metric, metrics.BinaryAccuracy)


# ---- sparse_categorical_crossentropy(ignore_class) ---------------------------------------

def test_ignore_class_zeroes_ignored_elements_and_averages_over_the_rest():
    labels = np.array([[0, 3, -1], [2, -1, 1]])
    z = rng.normal(size=(2, 3, C))
    per_element = -np.log(softmax(z))[np.arange(2)[:, None], np.arange(3)[None, :],
                                       np.where(labels < 0, 0, labels)]
    valid = labels >= 0
    values = losses.sparse_categorical_crossentropy(labels, z, from_logits=True, ignore_class=-1)
    np.testing.assert_allclose(values.data, np.where(valid, per_element, 0.0), rtol=1e-10)

    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    assert float(loss(labels, z).data) == pytest.approx(per_element[valid].mean(), rel=1e-6)
    weights = np.array([1.0, 3.0])
    weighted = per_element * weights[:, None]
    assert float(loss(labels, z, sample_weight=weights).data) == pytest.approx(
        weighted[valid].sum() / valid.sum(), rel=1e-6)
    summed = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1,
                                                  reduction="sum")
    assert float(summed(labels, z).data) == pytest.approx(per_element[valid].sum(), rel=1e-10)

    zt = Tensor(z.copy())
    with GradientTape() as tape:
        tape.watch(zt)
        total = loss(labels, zt)
    grad = tape.gradient(total, zt)
    assert not grad[~valid].any() and grad[valid].any()
    with pytest.raises(ValueError, match=r"labels in \[0, 4\)"):
        losses.sparse_categorical_crossentropy(labels, z, from_logits=True)


# ---- the R keras list ----------------------------------------------------------------------

def ref_values(name, y, p):
    """Per-sample values of each R keras loss, from its plain formula."""
    if name == "binary_crossentropy":
        q = np.clip(p, EPS, 1 - EPS)
        return -(y * np.log(q) + (1 - y) * np.log(1 - q)).mean(-1)
    if name == "binary_focal_crossentropy":
        return ref_binary_focal(y, p)
    if name == "categorical_crossentropy":
        return -(y * np.log(np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS))).sum(-1)
    if name == "categorical_focal_crossentropy":
        return ref_categorical_focal(y, p)
    if name == "sparse_categorical_crossentropy":
        return -np.log(np.clip(p, EPS, 1 - EPS))[np.arange(len(y)), y.argmax(-1)]
    if name == "categorical_hinge":
        return np.maximum(((1 - y) * p).max(-1) - (y * p).sum(-1) + 1, 0)
    if name == "cosine_similarity":
        return -np.sum(y * p, -1) / (np.linalg.norm(y, axis=-1) * np.linalg.norm(p, axis=-1))
    if name == "hinge":
        return np.maximum(1 - (2 * y - 1) * p, 0).mean(-1)
    if name == "squared_hinge":
        return (np.maximum(1 - (2 * y - 1) * p, 0) ** 2).mean(-1)
    if name == "huber":
        e = np.abs(p - y)
        return np.where(e <= 1, 0.5 * e ** 2, e - 0.5).mean(-1)
    if name == "kl_divergence":
        yt, pt = np.clip(y, EPS, 1), np.clip(p, EPS, 1)
        return (yt * np.log(yt / pt)).sum(-1)
    if name == "log_cosh":
        return np.log(np.cosh(p - y)).mean(-1)
    if name == "mean_absolute_error":
        return np.abs(p - y).mean(-1)
    if name == "mean_absolute_percentage_error":
        return 100 * np.abs((y - p) / np.maximum(np.abs(y), EPS)).mean(-1)
    if name == "mean_squared_error":
        return ((p - y) ** 2).mean(-1)
    if name == "mean_squared_logarithmic_error":
        return ((np.log1p(p) - np.log1p(y)) ** 2).mean(-1)
    if name == "poisson":
        return (p - y * np.log(p + EPS)).mean(-1)
    raise KeyError(name)


R_LOSSES = ["binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
            "categorical_focal_crossentropy", "categorical_hinge", "cosine_similarity", "hinge",
            "huber", "kl_divergence", "log_cosh", "mean_absolute_error",
            "mean_absolute_percentage_error", "mean_squared_error",
            "mean_squared_logarithmic_error", "poisson", "sparse_categorical_crossentropy",
            "squared_hinge"]
# Keras's arguments for the crossentropies (beyond reduction and name).
KERAS_OPTIONS = {
    "binary_crossentropy": ["from_logits", "label_smoothing", "axis"],
    "binary_focal_crossentropy": ["apply_class_balancing", "alpha", "gamma", "from_logits",
                                  "label_smoothing", "axis"],
    "categorical_crossentropy": ["from_logits", "label_smoothing", "axis"],
    "categorical_focal_crossentropy": ["alpha", "gamma", "from_logits", "label_smoothing",
                                       "axis"],
    "sparse_categorical_crossentropy": ["from_logits", "ignore_class", "axis"],
    "huber": ["delta"], "cosine_similarity": ["axis"],
}


@pytest.mark.parametrize("name", R_LOSSES)
def test_every_r_loss_against_its_formula(name):
    assert len(R_LOSSES) == 17
    r_function = getattr(kerasr, f"loss_{name}")
    probability_like = {"binary_crossentropy", "binary_focal_crossentropy", "kl_divergence",
                        "categorical_crossentropy", "categorical_focal_crossentropy",
                        "sparse_categorical_crossentropy"}
    if name in probability_like or name.startswith("categorical"):
        y, p = ONE_HOT, softmax(LOGITS)
    elif name in ("hinge", "squared_hinge"):
        y, p = BINARY, LOGITS
    else:
        y, p = UNIT + 0.5, UNIT * 2
    if name == "binary_crossentropy" or name == "binary_focal_crossentropy":
        y, p = BINARY, UNIT
    y_arg = LABELS if name == "sparse_categorical_crossentropy" else y
    np.testing.assert_allclose(np.asarray(r_function(y_arg, p).data), ref_values(name, y, p),
                               rtol=1e-10)
    loss = r_function()
    assert float(loss(y_arg, p).data) == pytest.approx(ref_values(name, y, p).mean(), rel=1e-10)
    parameters = [n for n in inspect.signature(type(loss)).parameters
                  if n not in ("reduction", "name")]
    assert parameters == KERAS_OPTIONS.get(name, [])
