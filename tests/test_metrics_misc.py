"""Regression and accuracy metrics, MeanIoU, Mean/Sum, custom_metric, names and the
metrics a fit logs, against numpy formulas written here."""

import numpy as np
import pytest

import kerasr
from kerasr import compile, fit, keras_model_sequential, layer_dense, metrics

rng = np.random.default_rng(5)
N, C = 60, 4
Y = rng.uniform(0.5, 2.0, size=(N, C))
P = Y + rng.normal(scale=0.3, size=(N, C))
P_POS = np.abs(P)
W = rng.uniform(0.0, 2.0, size=N)
SPLITS = (0, 9, 31, N)


def feed(metric, y, p, w=None):
    for a, b in zip(SPLITS[:-1], SPLITS[1:]):
        metric.update_state(y[a:b], p[a:b], sample_weight=None if w is None else w[a:b])
    return metric.result()


def wmean(values, w=None):
    w = np.ones(len(values)) if w is None else w
    return np.sum(values * w) / np.sum(w)


def cosine(y, p):
    return np.sum(y * p, -1) / (np.linalg.norm(y, axis=-1) * np.linalg.norm(p, axis=-1))


REGRESSION = {
    "mae": (metrics.metric_mean_absolute_error, lambda y, p: np.abs(p - y).mean(-1), P),
    "mse": (metrics.metric_mean_squared_error, lambda y, p: ((p - y) ** 2).mean(-1), P),
    "mape": (metrics.metric_mean_absolute_percentage_error,
             lambda y, p: 100 * np.abs((y - p) / y).mean(-1), P),
    "msle": (metrics.metric_mean_squared_logarithmic_error,
             lambda y, p: ((np.log1p(p) - np.log1p(y)) ** 2).mean(-1), P_POS),
    "logcosh": (metrics.metric_log_cosh_error, lambda y, p: np.log(np.cosh(p - y)).mean(-1), P),
    "cosine": (metrics.metric_cosine_similarity, cosine, P),
}


@pytest.mark.parametrize("name", REGRESSION)
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_metrics_running_weighted_mean(name, weighted):
    r_function, formula, p = REGRESSION[name]
    w = W if weighted else None
    expected = wmean(formula(Y, p), w)
    assert feed(r_function(), Y, p, w) == pytest.approx(expected, rel=1e-6)
    # The R function called with data gives the per-sample values.
    np.testing.assert_allclose(np.asarray(getattr(r_function(Y, p), "data", r_function(Y, p))),
                               formula(Y, p), rtol=1e-6)


def test_root_mean_squared_error_is_sqrt_of_the_epoch_mean():
    rmse = feed(metrics.metric_root_mean_squared_error(), Y, P, W)
    assert rmse == pytest.approx(np.sqrt(wmean(((P - Y) ** 2).mean(-1), W)), rel=1e-12)


def test_cosine_similarity_metric_is_the_negated_loss_and_handles_zero_vectors():
    values = metrics.cosine_similarity(Y, P)
    loss = kerasr.losses.cosine_similarity(Y, P).data
    np.testing.assert_allclose(values, -loss, rtol=1e-10)
    assert metrics.cosine_similarity(np.zeros((1, 3)), np.ones((1, 3)))[0] == 0.0
    other_axis = metrics.CosineSimilarity(axis=0)
    assert other_axis(Y[:, :1], P[:, :1]) == pytest.approx(cosine(Y[:, 0], P[:, 0]), rel=1e-10)


LABELS = rng.integers(0, C, size=N)
ONE_HOT = np.eye(C)[LABELS]
PROBS = rng.dirichlet(np.ones(C), size=N)


def in_top_k(labels, probs, k):
    return np.array([np.sum(row > row[label]) < k for label, row in zip(labels, probs)])


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracies(k):
    expected = in_top_k(LABELS, PROBS, k)
    top = feed(metrics.metric_top_k_categorical_accuracy(k=k), ONE_HOT, PROBS, W)
    sparse = feed(metrics.metric_sparse_top_k_categorical_accuracy(k=k), LABELS, PROBS, W)
    assert top == pytest.approx(wmean(expected, W), rel=1e-12)
    assert sparse == pytest.approx(wmean(expected, W), rel=1e-12)


def test_accuracy_family():
    assert feed(metrics.metric_categorical_accuracy(), ONE_HOT, PROBS) == pytest.approx(
        np.mean(PROBS.argmax(-1) == LABELS))
    assert feed(metrics.metric_sparse_categorical_accuracy(), LABELS[:, None], PROBS) == \
        pytest.approx(np.mean(PROBS.argmax(-1) == LABELS))
    binary = (LABELS % 2).astype(float)[:, None]
    assert feed(metrics.metric_binary_accuracy(threshold=0.3), binary, PROBS[:, :1], W) == \
        pytest.approx(wmean(((PROBS[:, 0] > 0.3) == binary[:, 0]), W))


def test_mean_and_sum():
    values = rng.normal(size=N)
    mean, total = metrics.metric_mean(), metrics.metric_sum()
    for a, b in zip(SPLITS[:-1], SPLITS[1:]):
        mean.update_state(values[a:b], sample_weight=W[a:b])
        total.update_state(values[a:b], sample_weight=W[a:b])
    assert mean.result() == pytest.approx(wmean(values, W), rel=1e-12)
    assert total.result() == pytest.approx(np.sum(values * W), rel=1e-12)
    total.reset_state()
    total.update_state(3.0)
    total.update_state(np.ones((2, 3)))
    assert total.result() == 9.0
    with pytest.raises(ValueError, match="sample_weight of shape"):
        total.update_state(np.ones(4), sample_weight=np.ones(3))


# ---- IoU ---------------------------------------------------------------------------------

def ref_mean_iou(y, p, num_classes, w=None):
    w = np.ones(len(y)) if w is None else w
    ious = []
    for c in range(num_classes):
        tp = np.sum(w * ((y == c) & (p == c)))
        union = np.sum(w * ((y == c) | (p == c)))
        if union > 0:
            ious.append(tp / union)
    return np.mean(ious)


def test_mean_iou_over_batches():
    y = rng.integers(0, 5, size=N)
    p = np.where(rng.uniform(size=N) < 0.6, y, rng.integers(0, 5, size=N))
    p[p == 4] = 3  # class 4 never predicted; still in the targets
    y[y == 2] = 1
    p[p == 2] = 1  # class 2 never seen at all: left out of the mean
    miou = metrics.metric_mean_iou(num_classes=5)
    assert miou.name == "mean_io_u"
    assert feed(miou, y, p, W) == pytest.approx(ref_mean_iou(y, p, 5, W), rel=1e-6)


def test_mean_iou_from_probabilities_and_one_hot_targets():
    # Segmentation-shaped: (batch, height, width, classes).
    y = rng.integers(0, 3, size=(4, 5, 5))
    probs = rng.dirichlet(np.ones(3), size=(4, 5, 5))
    miou = metrics.MeanIoU(num_classes=3, sparse_y_true=False, sparse_y_pred=False)
    miou.update_state(np.eye(3)[y], probs)
    expected = ref_mean_iou(y.ravel(), probs.argmax(-1).ravel(), 3)
    assert miou.result() == pytest.approx(expected, rel=1e-6)


def test_iou_target_classes_and_ignore_class():
    y = np.array([0, 1, 2, 2, 1, 255])
    p = np.array([0, 1, 1, 2, 2, 0])
    iou = metrics.IoU(num_classes=3, target_class_ids=[2])
    iou.update_state(np.where(y == 255, 0, y), p)
    assert iou.result() == pytest.approx(1 / 3, rel=1e-6)  # class 2: tp 1, union 3
    ignoring = metrics.MeanIoU(num_classes=3, ignore_class=255)
    ignoring.update_state(y, p)
    assert ignoring.result() == pytest.approx(ref_mean_iou(y[:5], p[:5], 3), rel=1e-6)


def test_mean_iou_errors():
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        metrics.MeanIoU(num_classes=0)
    with pytest.raises(ValueError, match="Target class id 3 is out of range"):
        metrics.IoU(num_classes=3, target_class_ids=[0, 3])
    miou = metrics.MeanIoU(num_classes=3)
    with pytest.raises(ValueError, match="sparse_y_pred=False"):
        miou.update_state(np.array([0, 1]), np.array([0.2, 0.7]))
    with pytest.raises(ValueError, match=r"targets in \[0, 3\)"):
        miou.update_state(np.array([0, 3]), np.array([0, 1]))
    with pytest.raises(ValueError, match="as many targets as predictions"):
        miou.update_state(np.array([0, 1, 2]), np.array([0, 1]))
    with pytest.raises(ValueError, match="metric_mean_iou"):
        metrics.get("MeanIoU")


# ---- custom_metric, names, fit -----------------------------------------------------------------

def test_custom_metric_names_a_function():
    def fn(y_true, y_pred):
        return np.abs(y_pred - y_true).max(axis=-1)

    named = kerasr.custom_metric("max_error", fn)
    assert named.__name__ == "max_error"
    metric = metrics.get(named)
    assert metric.name == "max_error"
    assert feed(metric, Y, P) == pytest.approx(np.abs(P - Y).max(-1).mean(), rel=1e-12)
    with pytest.raises(ValueError, match="non-empty name"):
        kerasr.custom_metric("", fn)
    with pytest.raises(ValueError, match="needs a function"):
        kerasr.custom_metric("x", 3)


@pytest.mark.parametrize("identifier, cls, name", [
    ("auc", metrics.AUC, "auc"), ("AUC", metrics.AUC, "auc"),
    ("precision", metrics.Precision, "precision"), ("Recall", metrics.Recall, "recall"),
    ("true_positives", metrics.TruePositives, "true_positives"),
    ("false_negatives", metrics.FalseNegatives, "false_negatives"),
    ("cosine_similarity", metrics.CosineSimilarity, "cosine_similarity"),
    ("sum", metrics.Sum, "sum"), (metrics.metric_auc, metrics.AUC, "auc"),
    (metrics.metric_precision, metrics.Precision, "precision"),
    (metrics.AUC, metrics.AUC, "auc"),
])
def test_names_resolve(identifier, cls, name):
    metric = metrics.get(identifier)
    assert type(metric) is cls and metric.name == name


def test_r_functions_exist_for_every_metric_of_the_issue():
    for name in ("metric_auc", "metric_precision", "metric_recall", "metric_true_positives",
                 "metric_false_positives", "metric_true_negatives", "metric_false_negatives",
                 "metric_mean_iou", "metric_mean", "metric_sum", "metric_cosine_similarity",
                 "metric_root_mean_squared_error", "metric_log_cosh_error",
                 "metric_binary_accuracy", "metric_categorical_accuracy",
                 "metric_sparse_categorical_accuracy", "metric_top_k_categorical_accuracy",
                 "metric_sparse_top_k_categorical_accuracy", "metric_mean_absolute_error",
                 "metric_mean_squared_error", "metric_mean_absolute_percentage_error",
                 "metric_mean_squared_logarithmic_error", "metric_binary_focal_crossentropy",
                 "metric_categorical_focal_crossentropy", "metric_precision_at_recall",
                 "metric_recall_at_precision", "metric_sensitivity_at_specificity",
                 "metric_specificity_at_sensitivity", "metric_iou"):
        assert callable(getattr(kerasr, name)), name
    assert "custom_metric" in kerasr.__all__
    with pytest.raises(TypeError, match="call it without y_true"):
        metrics.metric_auc(np.zeros(2), np.zeros(2))


def binary_data(n=160, seed=0):
    data = np.random.default_rng(seed)
    x = data.normal(size=(n, 4))
    y = (x[:, 0] + 0.5 * data.normal(size=n) > 0).astype(np.float64)
    return x, y


def binary_model():
    kerasr.set_random_seed(3)
    return (keras_model_sequential(input_shape=4) | layer_dense(6, activation="relu")
            | layer_dense(1, activation="sigmoid"))


def test_fit_logs_stateful_metrics_under_keras_names():
    x, y = binary_data()
    model = binary_model()
    model | compile(optimizer="adam", loss="binary_crossentropy",
                    metrics=[metrics.metric_auc(), "accuracy", metrics.metric_precision(),
                             metrics.metric_recall(), metrics.metric_auc(curve="PR")])
    history = model | fit(x, y, epochs=2, batch_size=32, validation_split=0.25, verbose=0)
    assert list(history.history) == [
        "loss", "auc", "accuracy", "precision", "recall", "auc_1",
        "val_loss", "val_auc", "val_accuracy", "val_precision", "val_recall", "val_auc_1"]

    # The validation values are the whole validation set's, not a mean over its batches.
    x_val, y_val = x[120:], y[120:]
    p = model.predict(x_val, verbose=0)
    auc, pr, precision = metrics.AUC(), metrics.AUC(curve="PR"), metrics.Precision()
    for m in (auc, pr, precision):
        m.update_state(y_val, p)
    assert history.history["val_auc"][-1] == pytest.approx(auc.result(), rel=1e-6)
    assert history.history["val_auc_1"][-1] == pytest.approx(pr.result(), rel=1e-6)
    assert history.history["val_precision"][-1] == pytest.approx(precision.result(), rel=1e-6)
    results = model.evaluate(x_val, y_val, batch_size=7, verbose=0, return_dict=True)
    assert results["auc"] == pytest.approx(auc.result(), rel=1e-6)


def test_fit_with_custom_metric_and_metric_names_by_string():
    x, y = binary_data(64, seed=1)
    model = binary_model()
    model | compile(optimizer="sgd", loss="binary_crossentropy",
                    metrics=["AUC", "true_positives",
                             kerasr.custom_metric("mean_pred", lambda yt, yp: yp.mean(axis=-1))])
    history = model | fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert set(history.history) == {"loss", "auc", "true_positives", "mean_pred"}
    assert 0 <= history.history["true_positives"][0] <= y.sum()


def test_mean_iou_per_sample_weights_weigh_every_pixel_and_configs():
    y = rng.integers(0, 3, size=(4, 5, 5))
    p = np.where(rng.uniform(size=y.shape) < 0.7, y, rng.integers(0, 3, size=y.shape))
    w = np.array([1.0, 0.0, 2.0, 0.5])
    miou = metrics.MeanIoU(num_classes=3)
    miou.update_state(y, p, sample_weight=w)
    pixel_w = np.broadcast_to(w[:, None, None], y.shape).ravel()
    assert miou.result() == pytest.approx(ref_mean_iou(y.ravel(), p.ravel(), 3, pixel_w),
                                          rel=1e-6)
    with pytest.raises(ValueError, match="sample_weight of shape"):
        miou.update_state(y, p, sample_weight=np.ones(3))
    config = metrics.MeanIoU(num_classes=3, ignore_class=0, sparse_y_pred=False).get_config()
    assert "target_class_ids" not in config and config["ignore_class"] == 0
    assert metrics.MeanIoU.from_config(config).get_config() == config
    for metric in (metrics.Sum(name="s"), metrics.CosineSimilarity(axis=0)):
        assert type(metric).from_config(metric.get_config()).get_config() == metric.get_config()
