import numpy as np
import pytest

from kerasr import losses, metrics, ops
from kerasr.engine.tensor import Tensor

rng = np.random.default_rng(1)
N, C = 8, 5
PROBS = rng.dirichlet(np.ones(C), size=N)
LABELS = rng.integers(0, C, size=N)
ONE_HOT = np.eye(C)[LABELS]
BINARY = rng.integers(0, 2, size=(N, 1)).astype(np.float64)
SCORES = rng.uniform(size=(N, 1))
WEIGHTS = rng.uniform(0.0, 2.0, size=N)


def weighted_mean(values, weights=None):
    weights = np.ones(len(values)) if weights is None else weights
    return np.sum(values * weights) / np.sum(weights)


# (metric class, per-sample reference, y_true, y_pred)
CASES = {
    "binary_accuracy": (metrics.BinaryAccuracy, lambda y, p: ((p > 0.5) == y)[:, 0], BINARY, SCORES),
    "categorical_accuracy": (metrics.CategoricalAccuracy,
                             lambda y, p: y.argmax(-1) == p.argmax(-1), ONE_HOT, PROBS),
    "sparse_categorical_accuracy": (metrics.SparseCategoricalAccuracy,
                                    lambda y, p: y == p.argmax(-1), LABELS, PROBS),
    "sparse_labels_n_by_1": (metrics.SparseCategoricalAccuracy,
                             lambda y, p: y[:, 0] == p.argmax(-1), LABELS[:, None], PROBS),
    "accuracy": (metrics.Accuracy, lambda y, p: (y == p).mean(-1), LABELS[:, None],
                 PROBS.argmax(-1)[:, None]),
    "top_k": (metrics.TopKCategoricalAccuracy,
              lambda y, p: (p > p[np.arange(N), y.argmax(-1)][:, None]).sum(-1) < 5, ONE_HOT, PROBS),
    "mae": (metrics.MeanAbsoluteError, lambda y, p: np.abs(p - y).mean(-1), ONE_HOT, PROBS),
    "mse": (metrics.MeanSquaredError, lambda y, p: ((p - y) ** 2).mean(-1), ONE_HOT, PROBS),
    "mape": (metrics.MeanAbsolutePercentageError,
             lambda y, p: 100 * np.abs((y - p) / y).mean(-1), PROBS + 1, PROBS * 2),
    "bce": (metrics.BinaryCrossentropy,
            lambda y, p: -(y * np.log(p) + (1 - y) * np.log(1 - p))[:, 0], BINARY, SCORES),
    "cce": (metrics.CategoricalCrossentropy, lambda y, p: -np.sum(y * np.log(p), -1), ONE_HOT, PROBS),
    "scce": (metrics.SparseCategoricalCrossentropy,
             lambda y, p: -np.log(p[np.arange(N), y]), LABELS, PROBS),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_running_weighted_mean_over_batches(case):
    cls, ref, y_true, y_pred = case
    per_sample = ref(y_true, y_pred).astype(np.float64)
    metric = cls()
    metric.update_state(y_true[:3], y_pred[:3])
    metric.update_state(y_true[3:], y_pred[3:])
    np.testing.assert_allclose(metric.result(), per_sample.mean(), rtol=1e-6)

    metric.reset_state()
    assert metric.result() == 0.0
    metric.update_state(y_true[:5], y_pred[:5], sample_weight=WEIGHTS[:5])
    metric.update_state(y_true[5:], y_pred[5:], sample_weight=WEIGHTS[5:])
    np.testing.assert_allclose(metric.result(), weighted_mean(per_sample, WEIGHTS), rtol=1e-6)
    assert isinstance(metric.result(), float)


def test_accepts_tensors():
    metric = metrics.CategoricalAccuracy()
    metric.update_state(Tensor(ONE_HOT), ops.softmax(Tensor(PROBS)))
    np.testing.assert_allclose(metric.result(), np.mean(ONE_HOT.argmax(-1) == PROBS.argmax(-1)))


def test_binary_accuracy_threshold_and_vector_targets():
    y = np.array([1, 0, 1, 0])
    p = np.array([[0.8], [0.6], [0.65], [0.2]])
    assert metrics.BinaryAccuracy()(y, p) == 0.75  # (n,) targets against (n, 1) outputs
    assert metrics.BinaryAccuracy(threshold=0.62)(y, p) == 1.0
    with pytest.raises(ValueError, match="threshold"):
        metrics.BinaryAccuracy(threshold=1.5)


def test_top_k_counts_ties_as_in_tensorflow():
    p = np.array([[0.1, 0.3, 0.3, 0.3], [0.4, 0.3, 0.2, 0.1]])
    labels = np.array([1, 2])
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy(labels, p, k=1), [1, 0])
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy(labels, p, k=3), [1, 1])
    np.testing.assert_array_equal(metrics.top_k_categorical_accuracy(np.eye(4)[labels], p, k=2),
                                  [1, 0])


def test_root_mean_squared_error():
    y = rng.normal(size=(N, 3))
    p = rng.normal(size=(N, 3))
    metric = metrics.RootMeanSquaredError()
    metric.update_state(y, p, sample_weight=WEIGHTS)
    squared = ((p - y) ** 2).mean(-1)
    np.testing.assert_allclose(metric.result(), np.sqrt(weighted_mean(squared, WEIGHTS)))


def test_mean_with_scalar_weights_as_the_training_loop_uses_it():
    mean = metrics.Mean(name="loss")
    mean.update_state(2.0, sample_weight=32)
    mean.update_state(5.0, sample_weight=8)
    np.testing.assert_allclose(mean.result(), (2.0 * 32 + 5.0 * 8) / 40)


def test_mean_of_per_timestep_values_and_zero_weights():
    values = rng.normal(size=(4, 3))
    mean = metrics.Mean()
    mean.update_state(values, sample_weight=np.array([1.0, 0.0, 2.0, 0.0]))
    np.testing.assert_allclose(mean.result(), (values[0].mean() + 2 * values[2].mean()) / 3)
    mean.reset_state()
    mean.update_state(values, sample_weight=np.zeros(4))
    assert mean.result() == 0.0


def test_mean_metric_wrapper_of_a_user_function():
    def doubled_error(y_true, y_pred):
        return 2 * np.abs(y_pred - y_true).mean(-1)

    metric = metrics.get(doubled_error)
    assert isinstance(metric, metrics.MeanMetricWrapper) and metric.name == "doubled_error"
    metric.update_state(ONE_HOT, PROBS)
    np.testing.assert_allclose(metric.result(), 2 * np.abs(PROBS - ONE_HOT).mean())


# ---- get: accuracy resolution and names -------------------------------------------------------

@pytest.mark.parametrize("loss, y_shape, out_shape, cls", [
    ("binary_crossentropy", (32,), (None, 1), metrics.BinaryAccuracy),
    ("mse", (32, 1), (None, 1), metrics.BinaryAccuracy),
    ("binary_crossentropy", (32, 5), (None, 5), metrics.BinaryAccuracy),  # multi-label
    ("categorical_crossentropy", (32, 10), (None, 10), metrics.CategoricalAccuracy),
    ("sparse_categorical_crossentropy", (32,), (None, 10), metrics.SparseCategoricalAccuracy),
    ("sparse_categorical_crossentropy", None, (None, 10), metrics.SparseCategoricalAccuracy),
    (None, (32,), (None, 10), metrics.SparseCategoricalAccuracy),
    (None, (32, 1), (None, 10), metrics.SparseCategoricalAccuracy),
    (None, (32, 10), (None, 10), metrics.CategoricalAccuracy),
    (lambda y, p: p, (32, 10), (None, 10), metrics.CategoricalAccuracy),
])
def test_accuracy_resolution(loss, y_shape, out_shape, cls):
    loss = losses.get(loss)
    for name in ("accuracy", "acc"):
        metric = metrics.get(name, loss=loss, y_true_shape=y_shape, y_pred_shape=out_shape)
        assert type(metric) is cls
        assert metric.name == name


def test_accuracy_needs_something_to_resolve_with():
    with pytest.raises(ValueError, match="accuracy"):
        metrics.get("accuracy")


@pytest.mark.parametrize("identifier, cls, name", [
    ("mae", metrics.MeanAbsoluteError, "mae"),
    ("mse", metrics.MeanSquaredError, "mse"),
    ("mean_absolute_error", metrics.MeanAbsoluteError, "mean_absolute_error"),
    ("binary_accuracy", metrics.BinaryAccuracy, "binary_accuracy"),
    ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy, "top_k_categorical_accuracy"),
    ("root_mean_squared_error", metrics.RootMeanSquaredError, "root_mean_squared_error"),
    (metrics.metric_binary_accuracy, metrics.BinaryAccuracy, "binary_accuracy"),
    (metrics.metric_categorical_accuracy, metrics.CategoricalAccuracy, "categorical_accuracy"),
    (metrics.metric_mean_absolute_error, metrics.MeanAbsoluteError, "mean_absolute_error"),
    (metrics.metric_root_mean_squared_error, metrics.RootMeanSquaredError,
     "root_mean_squared_error"),
    (metrics.binary_accuracy, metrics.BinaryAccuracy, "binary_accuracy"),
    (losses.mean_absolute_error, metrics.MeanAbsoluteError, "mean_absolute_error"),
    (losses.loss_mean_squared_error, metrics.MeanSquaredError, "mean_squared_error"),
    (metrics.SparseCategoricalAccuracy, metrics.SparseCategoricalAccuracy,
     "sparse_categorical_accuracy"),
])
def test_get_names(identifier, cls, name):
    metric = metrics.get(identifier)
    assert type(metric) is cls and metric.name == name


def test_get_passes_instances_and_configs():
    metric = metrics.TopKCategoricalAccuracy(k=2)
    assert metrics.get(metric) is metric
    assert metrics.get(None) is None
    rebuilt = metrics.get({"class_name": "TopKCategoricalAccuracy", "config": metric.get_config()})
    assert rebuilt.get_config() == {"name": "top_k_categorical_accuracy", "dtype": "float32", "k": 2}


def test_unknown_metric_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown metric 'accuracy_score'.*binary_accuracy"):
        metrics.get("accuracy_score")


def test_r_functions_make_metrics_or_compute_values():
    metric = metrics.metric_binary_accuracy(threshold=0.3, name="acc_at_0.3")
    assert isinstance(metric, metrics.BinaryAccuracy) and metric.name == "acc_at_0.3"
    np.testing.assert_array_equal(metrics.metric_binary_accuracy(BINARY, SCORES, threshold=0.3),
                                  ((SCORES > 0.3) == BINARY)[:, 0])
    np.testing.assert_allclose(np.asarray(metrics.metric_mean_squared_error(ONE_HOT, PROBS)),
                               ((PROBS - ONE_HOT) ** 2).mean(-1), rtol=1e-12)
    assert isinstance(metrics.metric_root_mean_squared_error(), metrics.RootMeanSquaredError)
    with pytest.raises(TypeError, match="call it without y_true"):
        metrics.metric_root_mean_squared_error(ONE_HOT, PROBS)
