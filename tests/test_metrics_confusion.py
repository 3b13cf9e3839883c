"""Precision, recall and the confusion-matrix counts against numpy formulas written here."""

import numpy as np
import pytest

from kerasr import metrics

rng = np.random.default_rng(11)
N, C = 90, 4
Y = rng.integers(0, 2, size=(N, C)).astype(np.float64)
P = np.clip(0.3 * Y + 0.7 * rng.uniform(size=(N, C)), 0.0, 1.0)
W = rng.uniform(0.0, 2.0, size=N)
SPLITS = (0, 17, 50, N)


def counts(y, p, w, t):
    """Weighted (tp, fp, tn, fn) of every element, a prediction above t being positive."""
    w = np.broadcast_to(w.reshape(w.shape + (1,) * (p.ndim - w.ndim)), p.shape)
    pos, above = y != 0, p > t
    return tuple(float(np.sum(w * cell)) for cell in
                 (pos & above, ~pos & above, ~pos & ~above, pos & ~above))


def feed(metric, y, p, w=None):
    for a, b in zip(SPLITS[:-1], SPLITS[1:]):
        metric.update_state(y[a:b], p[a:b], sample_weight=None if w is None else w[a:b])
    return metric.result()


CELLS = {"tp": (metrics.TruePositives, 0), "fp": (metrics.FalsePositives, 1),
         "tn": (metrics.TrueNegatives, 2), "fn": (metrics.FalseNegatives, 3)}


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("weighted", [False, True])
def test_counts_over_batches(cell, weighted):
    cls, index = CELLS[cell]
    w = W if weighted else np.ones(N)
    assert feed(cls(), Y, P, W if weighted else None) == pytest.approx(
        counts(Y, P, w, 0.5)[index], rel=1e-12)
    several = feed(cls(thresholds=[0.2, 0.9, 0.5]), Y, P, W if weighted else None)
    assert isinstance(several, np.ndarray) and several.shape == (3,)
    np.testing.assert_allclose(several, [counts(Y, P, w, t)[index] for t in (0.2, 0.9, 0.5)],
                               rtol=1e-12)


def test_counts_add_up_and_reset():
    tp, fp, tn, fn = (cls() for cls, _ in CELLS.values())
    for m in (tp, fp, tn, fn):
        feed(m, Y, P)
    assert tp.result() + fp.result() + tn.result() + fn.result() == Y.size
    tp.reset_state()
    assert tp.result() == 0.0


@pytest.mark.parametrize("thresholds", [None, 0.3, [0.1, 0.5, 0.8]])
@pytest.mark.parametrize("weighted", [False, True])
def test_precision_and_recall_accumulate_counts(thresholds, weighted):
    ts = [0.5] if thresholds is None else list(np.atleast_1d(thresholds))
    w = W if weighted else np.ones(N)
    expected_precision, expected_recall = [], []
    for t in ts:
        tp, fp, _, fn = counts(Y, P, w, t)
        expected_precision.append(tp / (tp + fp))
        expected_recall.append(tp / (tp + fn))
    precision = feed(metrics.Precision(thresholds=thresholds), Y, P, W if weighted else None)
    recall = feed(metrics.Recall(thresholds=thresholds), Y, P, W if weighted else None)
    np.testing.assert_allclose(np.atleast_1d(precision), expected_precision, rtol=1e-12)
    np.testing.assert_allclose(np.atleast_1d(recall), expected_recall, rtol=1e-12)
    assert isinstance(precision, float) == (len(ts) == 1)


def test_precision_is_not_a_mean_of_batch_precisions():
    precision = metrics.Precision()
    batch_values = []
    for a, b in zip(SPLITS[:-1], SPLITS[1:]):
        one = metrics.Precision()
        one.update_state(Y[a:b], P[a:b])
        batch_values.append(one.result())
        precision.update_state(Y[a:b], P[a:b])
    tp, fp, _, _ = counts(Y, P, np.ones(N), 0.5)
    assert precision.result() == pytest.approx(tp / (tp + fp), rel=1e-12)
    assert abs(precision.result() - np.mean(batch_values)) > 1e-4


def test_class_id_looks_at_one_column():
    for cls, formula in ((metrics.Precision, lambda c: c[0] / (c[0] + c[1])),
                         (metrics.Recall, lambda c: c[0] / (c[0] + c[3]))):
        got = feed(cls(class_id=2), Y, P, W)
        assert got == pytest.approx(formula(counts(Y[:, 2], P[:, 2], W, 0.5)), rel=1e-12)


def top_k_mask(p, k):
    """The k highest predictions of each row (first ones of ties), as a boolean mask."""
    mask = np.zeros(p.shape, dtype=bool)
    for i, row in enumerate(p):
        order = sorted(range(len(row)), key=lambda j: (-row[j], j))[:k]
        mask[i, order] = True
    return mask


@pytest.mark.parametrize("k", [1, 2])
def test_top_k_counts_the_k_highest_predictions_as_positive(k):
    keep = top_k_mask(P, k)
    pos = Y != 0
    precision = feed(metrics.Precision(top_k=k), Y, P)
    recall = feed(metrics.Recall(top_k=k), Y, P)
    assert precision == pytest.approx(np.sum(pos & keep) / np.sum(keep), rel=1e-12)
    assert recall == pytest.approx(np.sum(pos & keep) / np.sum(pos), rel=1e-12)
    # With a threshold too, a top-k prediction must also exceed it.
    above = keep & (P > 0.6)
    assert feed(metrics.Precision(top_k=k, thresholds=0.6), Y, P) == pytest.approx(
        np.sum(pos & above) / np.sum(above), rel=1e-12)
    # top_k, then class_id.
    column = keep[:, 1]
    assert feed(metrics.Recall(top_k=k, class_id=1), Y, P) == pytest.approx(
        np.sum(pos[:, 1] & column) / np.sum(pos[:, 1]), rel=1e-12)


def test_ties_in_top_k_keep_the_first():
    p = np.array([[0.5, 0.5, 0.2]])
    y = np.array([[0, 1, 0.0]])
    precision = metrics.Precision(top_k=1)
    precision.update_state(y, p)
    assert precision.result() == 0.0  # column 0 is kept, column 1 is not


def test_no_predicted_positive_gives_zero_not_nan():
    precision, recall = metrics.Precision(), metrics.Recall()
    precision.update_state(np.ones(3), np.zeros(3))
    recall.update_state(np.zeros(3), np.ones(3))
    assert precision.result() == 0.0 and recall.result() == 0.0


def test_vector_targets_fit_single_unit_outputs_and_sample_weight_shapes():
    y, p = Y[:, 0], P[:, :1]
    expected = counts(y, p[:, 0], W, 0.5)[0]
    for sw in (W, W[:, None]):
        tp = metrics.TruePositives()
        tp.update_state(y, p, sample_weight=sw)
        assert tp.result() == pytest.approx(expected, rel=1e-12)
    tp = metrics.TruePositives()
    tp.update_state(Y, P, sample_weight=2.0)
    assert tp.result() == pytest.approx(2 * counts(Y, P, np.ones(N), 0.5)[0], rel=1e-12)


def test_integer_and_boolean_inputs():
    tp = metrics.TruePositives()
    tp.update_state(np.array([1, 0, 1, 1]), np.array([1, 1, 0, 1]))
    assert tp.result() == 2.0
    tp.update_state(np.array([True, False]), np.array([0.9, 0.9], dtype=np.float32))
    assert tp.result() == 3.0


def test_configs():
    precision = metrics.Precision(thresholds=[0.2, 0.4], top_k=2, class_id=1, name="p")
    config = precision.get_config()
    assert config == {"name": "p", "dtype": precision.dtype, "thresholds": [0.2, 0.4],
                      "top_k": 2, "class_id": 1}
    assert metrics.Precision.from_config(config).get_config() == config
    assert metrics.FalseNegatives.from_config(
        metrics.FalseNegatives(thresholds=0.3).get_config()).thresholds == [0.3]


@pytest.mark.parametrize("cls", [metrics.Precision, metrics.Recall, metrics.TruePositives,
                                 metrics.TrueNegatives])
@pytest.mark.parametrize("thresholds", [1.5, [0.5, -0.1], [], "high"])
def test_bad_thresholds(cls, thresholds):
    with pytest.raises(ValueError, match="threshold"):
        cls(thresholds=thresholds)


@pytest.mark.parametrize("kwargs, match", [
    ({"top_k": 0}, "top_k must be a positive integer"),
    ({"top_k": 1.5}, "top_k must be a positive integer"),
    ({"class_id": -1}, "class_id must be a non-negative integer"),
])
def test_bad_top_k_and_class_id(kwargs, match):
    with pytest.raises(ValueError, match=match):
        metrics.Recall(**kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="class_id=7 is not a class"):
        metrics.Precision(class_id=7).update_state(Y, P)
    with pytest.raises(ValueError, match=r"same shape; got \(90, 4\) and \(90, 3\)"):
        metrics.Recall().update_state(Y, P[:, :3])
    with pytest.raises(ValueError, match=r"predictions in \[0, 1\]"):
        metrics.FalsePositives().update_state(Y, P * 3)
    with pytest.raises(ValueError, match="sample_weight of shape"):
        metrics.TruePositives().update_state(Y, P, sample_weight=np.ones(5))


# ---- rates at a constraint: sensitivity at specificity, precision at recall, ... -------------

def rates_at_thresholds(y, p, w, num_thresholds):
    ts = ([0.5] if num_thresholds == 1 else
          [0.0] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0])
    out = {"sensitivity": [], "specificity": [], "precision": []}
    for t in ts:
        tp, fp, tn, fn = counts(y, p, w, t)
        out["sensitivity"].append(tp / (tp + fn) if tp + fn else 0.0)
        out["specificity"].append(tn / (tn + fp) if tn + fp else 0.0)
        out["precision"].append(tp / (tp + fp) if tp + fp else 0.0)
    out["recall"] = out["sensitivity"]
    return {k: np.array(v) for k, v in out.items()}


AT = {
    "sensitivity_at_specificity": (metrics.SensitivityAtSpecificity, "specificity",
                                   "sensitivity"),
    "specificity_at_sensitivity": (metrics.SpecificityAtSensitivity, "sensitivity",
                                   "specificity"),
    "precision_at_recall": (metrics.PrecisionAtRecall, "recall", "precision"),
    "recall_at_precision": (metrics.RecallAtPrecision, "precision", "recall"),
}


@pytest.mark.parametrize("name", AT)
@pytest.mark.parametrize("value", [0.0, 0.3, 0.7, 0.95])
@pytest.mark.parametrize("num_thresholds", [1, 7, 200])
def test_rate_at_constraint_over_batches(name, value, num_thresholds):
    cls, constrained, dependent = AT[name]
    metric = cls(value, num_thresholds=num_thresholds)
    assert metric.name == name
    got = feed(metric, Y, P, W)
    rates = rates_at_thresholds(Y, P, W, num_thresholds)
    feasible = rates[constrained] >= value
    expected = rates[dependent][feasible].max() if feasible.any() else 0.0
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_rate_at_constraint_keras_examples_class_id_and_errors():
    m = metrics.SensitivityAtSpecificity(0.5)
    m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    assert m.result() == 0.5
    m = metrics.RecallAtPrecision(0.8)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert m.result() == 0.5
    m = metrics.PrecisionAtRecall(0.5, class_id=2)
    got = feed(m, Y, P)
    rates = rates_at_thresholds(Y[:, 2], P[:, 2], np.ones(N), 200)
    assert got == pytest.approx(rates["precision"][rates["recall"] >= 0.5].max(), rel=1e-12)
    config = m.get_config()
    assert metrics.PrecisionAtRecall.from_config(config).get_config() == config
    with pytest.raises(ValueError, match=r"Argument `recall` must be in the range \[0, 1\]"):
        metrics.PrecisionAtRecall(1.5)
    with pytest.raises(ValueError, match="num_thresholds` must be an integer > 0"):
        metrics.SensitivityAtSpecificity(0.5, num_thresholds=0)
    with pytest.raises(ValueError, match="metric_precision_at_recall"):
        metrics.get("precision_at_recall")


def test_a_metric_with_several_thresholds_trains_logs_and_plots():
    from kerasr import (as_data_frame, compile, fit, keras_model_sequential, layer_dense,
                        metric_precision, set_random_seed)
    set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((64, 4), dtype="float32")
    y = (x[:, 0] > 0.5).astype("float32")
    model = keras_model_sequential() | layer_dense(1, activation="sigmoid", input_shape=4)
    model | compile(optimizer="rmsprop", loss="binary_crossentropy",
                    metrics=[metric_precision(thresholds=[0.3, 0.7])])
    history = model | fit(x, y, epochs=2, verbose=0, validation_split=0.25)
    assert np.shape(history.metrics["precision"][-1]) == (2,)
    assert "precision: " in str(history)
    metrics = {row["metric"] for row in as_data_frame(history)} if isinstance(
        as_data_frame(history), list) else set(as_data_frame(history)["metric"])
    assert {"precision_1", "precision_2"} <= metrics
