"""AUC (ROC and PR) against plain numpy computations written here, over several batches."""

import numpy as np
import pytest

from kerasr import metrics
from kerasr.kernels import metrics as metric_kernels

EPS = 1e-7
rng = np.random.default_rng(7)
N = 300
LABELS = rng.integers(0, 2, size=N).astype(np.float64)
# Informative but imperfect scores in [0, 1], with some exact 0s, 1s and ties.
SCORES = np.clip(0.35 * LABELS + 0.65 * rng.uniform(size=N), 0.0, 1.0)
SCORES[:5] = [0.0, 1.0, 0.5, 0.5, 0.25]
WEIGHTS = rng.uniform(0.1, 2.0, size=N)


def keras_thresholds(num_thresholds):
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return np.array([-EPS] + inner + [1.0 + EPS])


def confusion(y, p, w, thresholds):
    """(tp, fp, tn, fn) at each threshold by direct comparison: p > t is a positive."""
    above = p[None, :] > thresholds[:, None]
    pos, neg = y * w, (1 - y) * w
    tp = (above * pos).sum(1)
    fp = (above * neg).sum(1)
    return tp, fp, neg.sum() - fp, pos.sum() - tp


def ratio(a, b):
    return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)


def riemann(x, y, method):
    if method == "interpolation":
        heights = (y[:-1] + y[1:]) / 2
    elif method == "minoring":
        heights = np.minimum(y[:-1], y[1:])
    else:
        heights = np.maximum(y[:-1], y[1:])
    return float(np.sum((x[:-1] - x[1:]) * heights))


def ref_auc(y, p, w=None, num_thresholds=200, curve="ROC", method="interpolation",
            thresholds=None):
    w = np.ones_like(p) if w is None else w
    ts = keras_thresholds(num_thresholds) if thresholds is None else np.array(
        [-EPS] + sorted(thresholds) + [1 + EPS])
    tp, fp, tn, fn = confusion(y, p, w, ts)
    recall = ratio(tp, tp + fn)
    if curve == "ROC":
        return riemann(ratio(fp, fp + tn), recall, method)
    if method != "interpolation":
        return riemann(recall, ratio(tp, tp + fp), method)
    # Davis & Goadrich: between two thresholds, TP grows linearly with the number of
    # predicted positives P; integrate precision = TP / P over recall numerically.
    total = 0.0
    positives = tp + fp
    for i in range(len(ts) - 1):
        p_hi, p_lo, tp_hi, tp_lo = positives[i], positives[i + 1], tp[i], tp[i + 1]
        if p_hi <= p_lo or tp[i] + fn[i] <= 0:
            continue
        slope = (tp_hi - tp_lo) / (p_hi - p_lo)
        grid = p_lo + (np.arange(4000) + 0.5) / 4000 * (p_hi - p_lo)  # midpoints
        tp_at = tp_lo + slope * (grid - p_lo)
        total += np.sum(tp_at / grid) * (p_hi - p_lo) / 4000 * slope / (tp_lo + fn[i + 1])
    return total


def mann_whitney(y, p):
    pos, neg = p[y == 1], p[y == 0]
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return (greater + 0.5 * ties) / (pos.size * neg.size)


def batches(*arrays, sizes=(32, 100, 7, 161)):
    start = 0
    for size in sizes:
        yield tuple(a[start:start + size] for a in arrays)
        start += size
    assert start == len(arrays[0])


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("method", ["interpolation", "minoring", "majoring"])
@pytest.mark.parametrize("weighted", [False, True])
def test_auc_over_batches_equals_whole_data_formula(curve, method, weighted):
    auc = metrics.AUC(curve=curve, summation_method=method)
    for y, p, w in batches(LABELS, SCORES, WEIGHTS):
        auc.update_state(y, p, sample_weight=w if weighted else None)
    expected = ref_auc(LABELS, SCORES, WEIGHTS if weighted else None, curve=curve, method=method)
    rtol = 1e-4 if (curve, method) == ("PR", "interpolation") else 1e-10
    assert auc.result() == pytest.approx(expected, rel=rtol)


def test_state_accumulates_counts_not_batch_means():
    auc = metrics.AUC()
    per_batch = []
    for y, p in batches(LABELS, SCORES):
        one = metrics.AUC()
        one.update_state(y, p)
        per_batch.append(one.result())
        auc.update_state(y, p)
    assert auc.result() == pytest.approx(ref_auc(LABELS, SCORES), rel=1e-10)
    assert abs(auc.result() - np.mean(per_batch)) > 1e-4  # it is not the mean of the batches
    auc.reset_state()
    assert auc.result() == 0.0 and not auc.true_positives.any()


def test_fine_thresholds_give_the_exact_rank_statistic():
    # One distinct score per bucket: the trapezoidal ROC area is the Mann-Whitney U / (n+ n-),
    # ties between a positive and a negative counting one half.
    y = rng.integers(0, 2, size=400).astype(np.float64)
    k = rng.integers(0, 1000, size=400)
    p = (np.where(y == 1, np.minimum(k + 200, 999), k) + 0.5) / 1000  # ties stay exact ties
    auc = metrics.AUC(num_thresholds=1001)
    auc.update_state(y, p)
    assert auc.result() == pytest.approx(mann_whitney(y, p), rel=1e-12)


def test_perfect_and_inverted_scores():
    y = np.array([0, 0, 1, 1.0])
    for scores, expected in (([0.1, 0.2, 0.8, 0.9], 1.0), ([0.9, 0.8, 0.2, 0.1], 0.0)):
        auc = metrics.AUC()
        auc.update_state(y, np.array(scores))
        assert auc.result() == pytest.approx(expected, abs=1e-12)


def test_custom_thresholds_uneven_and_even():
    uneven = [0.9, 0.1, 0.3, 0.75]  # unsorted on purpose: AUC sorts them
    auc = metrics.AUC(thresholds=uneven)
    assert auc.num_thresholds == 6 and auc.thresholds[1:-1] == sorted(uneven)
    for y, p in batches(LABELS, SCORES):
        auc.update_state(y, p)
    assert auc.result() == pytest.approx(ref_auc(LABELS, SCORES, thresholds=uneven), rel=1e-12)

    even = [0.25, 0.5, 0.75]  # the histogram path
    auc = metrics.AUC(thresholds=even, curve="PR", summation_method="minoring")
    assert auc._evenly
    auc.update_state(LABELS, SCORES)
    expected = ref_auc(LABELS, SCORES, thresholds=even, curve="PR", method="minoring")
    assert auc.result() == pytest.approx(expected, rel=1e-12)


def test_soft_labels_weigh_as_positive_and_negative():
    # Keras's evenly spaced path: a label of 0.3 counts 0.3 positive and 0.7 negative.
    soft = rng.uniform(size=N)
    auc = metrics.AUC(num_thresholds=50)
    auc.update_state(soft, SCORES)
    ts = keras_thresholds(50)
    above = SCORES[None, :] > ts[:, None]
    tp, fp = (above * soft).sum(1), (above * (1 - soft)).sum(1)
    tpr, fpr = tp / soft.sum(), fp / (1 - soft).sum()
    assert auc.result() == pytest.approx(riemann(fpr, tpr, "interpolation"), rel=1e-10)


def test_multi_label_averages_per_label_areas():
    y = rng.integers(0, 2, size=(120, 3)).astype(np.float64)
    p = np.clip(0.3 * y + 0.7 * rng.uniform(size=(120, 3)), 0, 1)
    per_label = [ref_auc(y[:, j], p[:, j]) for j in range(3)]

    auc = metrics.AUC(multi_label=True)
    auc.update_state(y[:50], p[:50])
    auc.update_state(y[50:], p[50:])
    assert auc.num_labels == 3 and auc.true_positives.shape == (200, 3)
    assert auc.result() == pytest.approx(np.mean(per_label), rel=1e-10)

    weights = np.array([1.0, 0.0, 3.0])
    auc = metrics.AUC(multi_label=True, num_labels=3, label_weights=weights)
    auc.update_state(y, p)
    assert auc.result() == pytest.approx(np.dot(per_label, weights) / 4, rel=1e-10)

    # Without multi_label, the labels are pooled into one curve.
    pooled = metrics.AUC()
    pooled.update_state(y, p)
    assert pooled.result() == pytest.approx(ref_auc(y.ravel(), p.ravel()), rel=1e-10)


def test_multi_label_pr_interpolation():
    y = rng.integers(0, 2, size=(80, 2)).astype(np.float64)
    p = np.clip(0.3 * y + 0.7 * rng.uniform(size=(80, 2)), 0, 1)
    auc = metrics.AUC(multi_label=True, curve="PR", num_thresholds=21)
    auc.update_state(y, p)
    expected = np.mean([ref_auc(y[:, j], p[:, j], curve="PR", num_thresholds=21)
                        for j in range(2)])
    assert auc.result() == pytest.approx(expected, rel=1e-4)


def test_from_logits_applies_a_sigmoid():
    logits = rng.normal(scale=3, size=N)
    auc = metrics.AUC(from_logits=True)
    auc.update_state(LABELS, logits)
    assert auc.result() == pytest.approx(ref_auc(LABELS, 1 / (1 + np.exp(-logits))), rel=1e-10)


def test_float32_column_predictions_and_vector_targets():
    auc = metrics.AUC()
    auc.update_state(LABELS, SCORES.astype(np.float32)[:, None])  # (n,) targets, (n, 1) output
    assert auc.result() == pytest.approx(ref_auc(LABELS, SCORES.astype(np.float32)), rel=1e-10)


def test_pr_auc_interpolation_hand_example():
    # Two thresholds' worth of data: exact value by the closed form, computed by hand.
    auc = metrics.AUC(curve="PR", num_thresholds=3)
    auc.update_state(np.array([1, 0, 1, 0.0]), np.array([0.9, 0.8, 0.3, 0.2]))
    # thresholds (-eps, 0.5, 1+eps): tp = (2, 1, 0), p = tp + fp = (4, 2, 0), positives 2.
    # segment 0: slope 1/2, intercept 0, dtp 1 -> 0.5 * (1 + 0) / 1 ... divided by tp+fn = 2
    # segment 1: p_lo = 0: ratio 1, slope 1/2, dtp 1 -> 0.5 * 1 / 2
    assert auc.result() == pytest.approx(0.5 * 1 / 2 + 0.5 * 1 / 2, rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_serial_and_parallel_kernels_agree_bitwise(dtype):
    y = rng.integers(0, 2, size=(64, 4)).astype(np.float64)
    p = rng.uniform(size=(64, 4)).astype(dtype)
    w = rng.uniform(size=(64, 4))
    results = []
    for kernel in metric_kernels._histogram_pair:
        acc = [np.zeros((11, 4)) for _ in range(4)]
        kernel(p, y, w, 11, True, *acc)
        results.append(acc)
    for kernel in metric_kernels._compare_pair:
        acc = [np.zeros((11, 4)) for _ in range(4)]
        kernel(p, y, w, keras_thresholds(11), *acc)
        results.append(acc)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[2][3], results[3][3])
    for j in range(4):
        tp, fp, tn, fn = confusion(y[:, j], p[:, j].astype(np.float64), w[:, j],
                                   keras_thresholds(11))
        for got, expected in zip(results[0], (tp, fp, tn, fn)):
            np.testing.assert_allclose(got[:, j], expected, rtol=1e-12, atol=1e-12)


def test_config_round_trip():
    auc = metrics.AUC(num_thresholds=50, curve="pr", summation_method="Minoring", name="prc",
                      multi_label=True, num_labels=2, label_weights=[1, 2], from_logits=True)
    config = auc.get_config()
    assert config["curve"] == "PR" and config["summation_method"] == "minoring"
    clone = metrics.AUC.from_config(config)
    assert clone.get_config() == config
    custom = metrics.AUC(thresholds=[0.2, 0.6])
    assert metrics.AUC.from_config(custom.get_config()).thresholds == custom.thresholds


@pytest.mark.parametrize("kwargs, match", [
    ({"num_thresholds": 1}, "num_thresholds` must be an integer > 1"),
    ({"num_thresholds": 2.5}, "num_thresholds` must be an integer > 1"),
    ({"curve": "ROCC"}, 'Invalid AUC curve value: "ROCC"'),
    ({"summation_method": "trapezoid"}, "Invalid AUC summation method"),
    ({"thresholds": [0.5, 1.5]}, r"threshold values must be in \[0, 1\]; got \[1.5\]"),
    ({"thresholds": [-0.1]}, r"must be in \[0, 1\]"),
    ({"label_weights": [1, -1]}, "must be non-negative"),
    ({"multi_label": True, "num_labels": 2, "label_weights": [1, 2, 3]}, "3 label_weights"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        metrics.AUC(**kwargs)


def test_bad_inputs():
    auc = metrics.AUC()
    with pytest.raises(ValueError, match="same shape"):
        auc.update_state(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"predictions in \[0, 1\].*from_logits=True"):
        auc.update_state(np.zeros(4), np.array([0.1, -2.0, 3.0, 0.5]))
    with pytest.raises(ValueError, match=r"predictions in \[0, 1\]"):
        auc.update_state(np.zeros(2), np.array([0.1, np.nan]))
    with pytest.raises(ValueError, match="sample_weight of shape"):
        auc.update_state(np.zeros(4), np.zeros(4), sample_weight=np.ones(3))
    assert auc.result() == 0.0 and not auc.true_positives.any()  # nothing was counted
    multi = metrics.AUC(multi_label=True)
    multi.update_state(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="built for 3 labels"):
        multi.update_state(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="multi_label=True expects"):
        metrics.AUC(multi_label=True).update_state(np.zeros(3), np.zeros(3))
