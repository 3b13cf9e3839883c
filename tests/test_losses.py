import inspect
import warnings

import numpy as np
import pytest
from gradcheck import check_gradients

from kerasr import losses, ops
from kerasr.engine.tape import GradientTape
from kerasr.engine.tensor import Tensor

EPS = 1e-7  # kerasr's default epsilon()
N, C = 6, 4


# ---- float64 references, written from Keras's formulas ----------------------------------

def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def log_softmax(z):
    shifted = z - z.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def ref_mse(y, p):
    return np.mean((p - y) ** 2, axis=-1)


def ref_mae(y, p):
    return np.mean(np.abs(p - y), axis=-1)


def ref_mape(y, p):
    return 100 * np.mean(np.abs((y - p) / np.maximum(np.abs(y), EPS)), axis=-1)


def ref_msle(y, p):
    return np.mean((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(y, EPS) + 1)) ** 2, axis=-1)


def ref_bce(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=-1)


def ref_bce_logits(y, z):
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), axis=-1)


def ref_cce(y, p):
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -np.sum(y * np.log(p), axis=-1)


def ref_cce_logits(y, z):
    return -np.sum(y * log_softmax(z), axis=-1)


def ref_scce(labels, p):
    return ref_cce(np.eye(p.shape[-1])[labels], p)


def ref_hinge(y, p):
    y = 2 * y - 1 if np.isin(y, (0, 1)).all() else y
    return np.mean(np.maximum(1 - y * p, 0), axis=-1)


def ref_squared_hinge(y, p):
    y = 2 * y - 1 if np.isin(y, (0, 1)).all() else y
    return np.mean(np.maximum(1 - y * p, 0) ** 2, axis=-1)


def ref_categorical_hinge(y, p):
    pos = np.sum(y * p, axis=-1)
    neg = np.max((1 - y) * p, axis=-1)
    return np.maximum(neg - pos + 1, 0)


def ref_log_cosh(y, p):
    return np.mean(np.log(np.cosh(p - y)), axis=-1)


def ref_huber(y, p, delta=1.0):
    x = p - y
    return np.mean(np.where(np.abs(x) <= delta, 0.5 * x ** 2, delta * np.abs(x) - 0.5 * delta ** 2),
                   axis=-1)


def ref_kld(y, p):
    y, p = np.clip(y, EPS, 1), np.clip(p, EPS, 1)
    return np.sum(y * np.log(y / p), axis=-1)


def ref_poisson(y, p):
    return np.mean(p - y * np.log(p + EPS), axis=-1)


def ref_cosine(y, p):
    unit = lambda v: v / np.linalg.norm(v, axis=-1, keepdims=True)  # noqa: E731
    return -np.sum(unit(y) * unit(p), axis=-1)


# ---- data (float64) ---------------------------------------------------------------------

rng = np.random.default_rng(0)
LOGITS = rng.normal(size=(N, C)) * 2
PROBS = softmax(LOGITS)
LABELS = np.array([0, 3, 1, 2, 1, 0])
ONE_HOT = np.eye(C)[LABELS]
BINARY = rng.integers(0, 2, size=(N, C)).astype(np.float64)
UNIT = rng.uniform(0.05, 0.95, size=(N, C))
REG_TRUE = rng.uniform(0.5, 3.0, size=(N, C))
REG_PRED = REG_TRUE + rng.normal(size=(N, C))
SIGNED = rng.normal(size=(N, C)) * 2
SOFT = softmax(rng.normal(size=(N, C)))

# (loss function, reference, y_true, y_pred): predictions away from kinks and clip bounds.
CASES = {
    "mse": (losses.mean_squared_error, ref_mse, REG_TRUE, REG_PRED),
    "mae": (losses.mean_absolute_error, ref_mae, REG_TRUE, REG_PRED),
    "mape": (losses.mean_absolute_percentage_error, ref_mape, REG_TRUE, REG_PRED),
    "msle": (losses.mean_squared_logarithmic_error, ref_msle, REG_TRUE, np.abs(REG_PRED) + 0.1),
    "bce": (losses.binary_crossentropy, ref_bce, BINARY, UNIT),
    "cce": (losses.categorical_crossentropy, ref_cce, ONE_HOT, PROBS),
    "cce_soft_targets": (losses.categorical_crossentropy, ref_cce, SOFT, PROBS),
    "scce": (losses.sparse_categorical_crossentropy, ref_scce, LABELS, PROBS),
    "hinge": (losses.hinge, ref_hinge, BINARY, SIGNED),
    "hinge_signed_labels": (losses.hinge, ref_hinge, 2 * BINARY - 1, SIGNED),
    "squared_hinge": (losses.squared_hinge, ref_squared_hinge, BINARY, SIGNED),
    "categorical_hinge": (losses.categorical_hinge, ref_categorical_hinge, ONE_HOT, SIGNED),
    "log_cosh": (losses.log_cosh, ref_log_cosh, REG_TRUE, REG_PRED),
    "huber": (losses.huber, ref_huber, REG_TRUE, REG_PRED),
    "kld": (losses.kl_divergence, ref_kld, SOFT, PROBS),
    "poisson": (losses.poisson, ref_poisson, REG_TRUE, np.abs(REG_PRED) + 0.1),
    "cosine_similarity": (losses.cosine_similarity, ref_cosine, REG_TRUE, SIGNED),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_values_match_reference(case):
    fn, ref, y_true, y_pred = case
    out = fn(y_true, y_pred)
    assert out.shape == (N,)
    np.testing.assert_allclose(out.data, ref(y_true, y_pred), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_gradient_matches_central_differences(case):
    fn, _, y_true, y_pred = case
    check_gradients(lambda p: fn(y_true, p), y_pred)


LOGIT_CASES = {
    "bce": (losses.binary_crossentropy, ref_bce_logits, BINARY),
    "cce": (losses.categorical_crossentropy, ref_cce_logits, ONE_HOT),
    "scce": (losses.sparse_categorical_crossentropy,
             lambda labels, z: ref_cce_logits(np.eye(C)[labels], z), LABELS),
}


@pytest.mark.parametrize("case", LOGIT_CASES.values(), ids=LOGIT_CASES.keys())
def test_from_logits_values_and_gradients(case):
    fn, ref, y_true = case
    np.testing.assert_allclose(fn(y_true, LOGITS, from_logits=True).data, ref(y_true, LOGITS),
                               rtol=1e-10)
    check_gradients(lambda z: fn(y_true, z, from_logits=True), LOGITS)


@pytest.mark.parametrize("fn, activation, ref, y_true", [
    (losses.categorical_crossentropy, ops.softmax, ref_cce_logits, ONE_HOT),
    (losses.binary_crossentropy, ops.sigmoid, ref_bce_logits, BINARY),
], ids=["softmax", "sigmoid"])
def test_output_of_softmax_or_sigmoid_uses_its_logits(fn, activation, ref, y_true):
    z = Tensor(LOGITS.copy())
    with GradientTape() as tape:
        tape.watch(z)
        out = fn(y_true, activation(z))
        total = ops.sum(out)
    np.testing.assert_allclose(out.data, ref(y_true, LOGITS), rtol=1e-10)
    expected_grad = (softmax(LOGITS) - y_true if activation is ops.softmax
                     else (1 / (1 + np.exp(-LOGITS)) - y_true) / C)
    np.testing.assert_allclose(tape.gradient(total, z), expected_grad, rtol=1e-9, atol=1e-12)


def test_sparse_crossentropy_uses_softmax_logits():
    p = ops.softmax(Tensor(LOGITS.copy()))
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(LABELS, p).data,
                               ref_cce_logits(ONE_HOT, LOGITS), rtol=1e-10)


@pytest.mark.parametrize("fn, activation, y_true", [
    (losses.categorical_crossentropy, ops.softmax, ONE_HOT),
    (losses.sparse_categorical_crossentropy, ops.softmax, LABELS),
    (losses.binary_crossentropy, ops.sigmoid, BINARY),
], ids=["cce", "scce", "bce"])
def test_fused_path_equals_probability_path_on_moderate_inputs(fn, activation, y_true):
    output = activation(Tensor(LOGITS.copy()))
    fused = fn(y_true, output).data
    from_probabilities = fn(y_true, output.data.copy()).data  # a plain array: no logits
    np.testing.assert_allclose(fused, from_probabilities, rtol=1e-9)


def test_extreme_logits_stay_finite_and_exact():
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]], dtype=np.float32)
    y = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    for logits_in in (lambda t: t, ops.softmax):
        x = Tensor(z.copy())
        with GradientTape() as tape:
            tape.watch(x)
            from_logits = logits_in is not ops.softmax
            out = losses.categorical_crossentropy(y, logits_in(x), from_logits=from_logits)
            total = ops.sum(out)
        grad = tape.gradient(total, x)
        np.testing.assert_allclose(out.data, [2000.0, 0.0])
        assert np.isfinite(grad).all()
        np.testing.assert_allclose(grad, [[1, -1, 0], [0, 0, 0]], atol=1e-6)

    zb = np.array([[-100.0], [100.0], [-100.0]], dtype=np.float32)
    yb = np.array([[1.0], [1.0], [0.0]], dtype=np.float32)
    for out in (losses.binary_crossentropy(yb, zb, from_logits=True),
                losses.binary_crossentropy(yb, ops.sigmoid(Tensor(zb.copy())))):
        np.testing.assert_allclose(out.data, [100.0, 0.0, 0.0], atol=1e-6)
    # From bare probabilities the value is capped by the clipping, as in Keras.
    clipped = losses.binary_crossentropy(yb, 1 / (1 + np.exp(-zb.astype(np.float64))))
    np.testing.assert_allclose(clipped.data[0], -np.log(EPS), rtol=1e-6)


def test_log_cosh_does_not_overflow():
    out = losses.log_cosh(np.zeros((1, 2)), np.array([[1000.0, -1000.0]]))
    np.testing.assert_allclose(out.data, [1000.0 - np.log(2.0)])


def test_label_smoothing():
    smoothing = 0.2
    np.testing.assert_allclose(
        losses.binary_crossentropy(BINARY, UNIT, label_smoothing=smoothing).data,
        ref_bce(BINARY * (1 - smoothing) + 0.5 * smoothing, UNIT), rtol=1e-10)
    np.testing.assert_allclose(
        losses.categorical_crossentropy(ONE_HOT, PROBS, label_smoothing=smoothing).data,
        ref_cce(ONE_HOT * (1 - smoothing) + smoothing / C, PROBS), rtol=1e-10)


def test_class_axis_other_than_last():
    moved = losses.categorical_crossentropy(ONE_HOT.T, PROBS.T, axis=0)
    np.testing.assert_allclose(moved.data, ref_cce(ONE_HOT, PROBS), rtol=1e-10)


def test_huber_delta():
    np.testing.assert_allclose(losses.huber(REG_TRUE, REG_PRED, delta=0.5).data,
                               ref_huber(REG_TRUE, REG_PRED, 0.5), rtol=1e-10)


def test_vector_targets_fit_single_unit_outputs():
    y = REG_TRUE[:, 0]
    p = REG_PRED[:, :1]
    np.testing.assert_allclose(losses.mean_squared_error(y, p).data, (p[:, 0] - y) ** 2)
    np.testing.assert_allclose(losses.binary_crossentropy(BINARY[:, 0], UNIT[:, :1]).data,
                               ref_bce(BINARY[:, :1], UNIT[:, :1]), rtol=1e-10)
    # A user function gets its inputs aligned the same way, instead of broadcasting to (n, n).
    wrapper = losses.LossFunctionWrapper(lambda t, q: ops.mean(ops.square(q - t), axis=-1),
                                         reduction="none")
    assert wrapper(y, p).shape == (N,)


def test_sparse_labels_with_trailing_axis():
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy(LABELS[:, None], PROBS).data,
        ref_scce(LABELS, PROBS), rtol=1e-10)


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 1, 2, 3, 4, 0]), r"in \[0, 4\)"),
    (np.array([0, -1, 2, 3, 1, 0]), r"in \[0, 4\)"),
    (np.array([0.5, 1, 2, 3, 1, 0]), r"in \[0, 4\)"),
    (ONE_HOT, "one-hot"),
], ids=["too_large", "negative", "fractional", "one_hot"])
def test_sparse_rejects_bad_labels(labels, message):
    for from_logits in (False, True):
        with pytest.raises(ValueError, match=message):
            losses.sparse_categorical_crossentropy(labels, PROBS, from_logits=from_logits)


# ---- Loss objects: weighting and reduction ------------------------------------------------

WEIGHTS = rng.uniform(0.0, 2.0, size=N)


@pytest.mark.parametrize("reduction, expected", [
    ("sum_over_batch_size", lambda v, w: np.sum(v * w) / N),
    ("mean", lambda v, w: np.sum(v * w) / N),
    ("sum", lambda v, w: np.sum(v * w)),
    ("mean_with_sample_weight", lambda v, w: np.sum(v * w) / np.sum(w)),
    ("none", lambda v, w: v * w),
])
def test_reductions_with_sample_weights(reduction, expected):
    loss = losses.BinaryCrossentropy(reduction=reduction)
    values = ref_bce(BINARY, UNIT)
    np.testing.assert_allclose(loss(BINARY, UNIT, sample_weight=WEIGHTS).data,
                               expected(values, WEIGHTS), rtol=1e-10)
    np.testing.assert_allclose(loss(BINARY, UNIT, sample_weight=WEIGHTS[:, None]).data,
                               expected(values, WEIGHTS), rtol=1e-10)
    np.testing.assert_allclose(loss(BINARY, UNIT).data, expected(values, np.ones(N)), rtol=1e-10)


def test_per_sample_weights_broadcast_over_timesteps():
    y = rng.normal(size=(N, 3, 2))
    p = rng.normal(size=(N, 3, 2))
    values = ref_mse(y, p)  # (N, 3)
    out = losses.MeanSquaredError()(y, p, sample_weight=WEIGHTS)
    np.testing.assert_allclose(out.data, np.sum(values * WEIGHTS[:, None]) / values.size)


def test_loss_object_gradient_is_weighted_mean_gradient():
    x = Tensor(UNIT.copy())
    with GradientTape() as tape:
        tape.watch(x)
        total = losses.BinaryCrossentropy()(BINARY, x, sample_weight=WEIGHTS)
    p = UNIT
    expected = WEIGHTS[:, None] * (p - BINARY) / (p * (1 - p)) / C / N
    np.testing.assert_allclose(tape.gradient(total, x), expected, rtol=1e-9)


def test_float32_stays_float32():
    out = losses.CategoricalCrossentropy()(ONE_HOT, PROBS.astype(np.float32))
    assert out.dtype == np.float32 and out.shape == ()


def test_invalid_reduction():
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="average")


def test_config_round_trip():
    loss = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, reduction="sum")
    config = loss.get_config()
    assert config == {"name": "binary_crossentropy", "reduction": "sum", "from_logits": True,
                      "label_smoothing": 0.1, "axis": -1}
    assert losses.BinaryCrossentropy.from_config(config).get_config() == config
    assert losses.get({"class_name": "Huber", "config": {"delta": 2.0}}).get_config()["delta"] == 2.0


def test_from_logits_on_a_softmax_output_warns():
    with pytest.warns(UserWarning, match="from_logits=True"):
        losses.categorical_crossentropy(ONE_HOT, ops.softmax(Tensor(LOGITS.copy())), from_logits=True)


def test_single_unit_categorical_crossentropy_warns():
    with pytest.warns(UserWarning, match="binary_crossentropy"):
        losses.categorical_crossentropy(BINARY[:, :1], UNIT[:, :1])


# ---- lookup and the R functions -------------------------------------------------------------

@pytest.mark.parametrize("identifier, cls", [
    ("mse", losses.MeanSquaredError), ("MSE", losses.MeanSquaredError),
    ("mean_squared_error", losses.MeanSquaredError), ("MeanSquaredError", losses.MeanSquaredError),
    ("mae", losses.MeanAbsoluteError), ("mape", losses.MeanAbsolutePercentageError),
    ("msle", losses.MeanSquaredLogarithmicError), ("kld", losses.KLDivergence),
    ("logcosh", losses.LogCosh), ("huber_loss", losses.Huber),
    ("binary_crossentropy", losses.BinaryCrossentropy),
    ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
    (losses.binary_crossentropy, losses.BinaryCrossentropy),
    (losses.loss_binary_crossentropy, losses.BinaryCrossentropy),
    (losses.loss_mean_squared_error, losses.MeanSquaredError),
    (losses.CategoricalHinge, losses.CategoricalHinge),
])
def test_get(identifier, cls):
    assert type(losses.get(identifier)) is cls


def test_get_passes_instances_and_wraps_functions():
    loss = losses.Poisson()
    assert losses.get(loss) is loss
    assert losses.get(None) is None

    def my_loss(y_true, y_pred):
        return ops.mean(ops.abs(y_pred - y_true), axis=-1)

    wrapped = losses.get(my_loss)
    assert isinstance(wrapped, losses.LossFunctionWrapper) and wrapped.name == "my_loss"
    np.testing.assert_allclose(wrapped(REG_TRUE, REG_PRED).data, np.mean(ref_mae(REG_TRUE, REG_PRED)))


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown loss 'mean_square_error'.*mean_squared_error"):
        losses.get("mean_square_error")


def test_r_functions_are_both_loss_objects_and_functions():
    assert isinstance(losses.loss_binary_crossentropy(), losses.BinaryCrossentropy)
    configured = losses.loss_binary_crossentropy(from_logits=True, reduction="sum")
    assert configured.get_config()["from_logits"] is True and configured.reduction == "sum"
    np.testing.assert_allclose(losses.loss_binary_crossentropy(BINARY, UNIT).data,
                               ref_bce(BINARY, UNIT), rtol=1e-10)
    np.testing.assert_allclose(
        losses.loss_categorical_crossentropy(ONE_HOT, LOGITS, from_logits=True).data,
        ref_cce_logits(ONE_HOT, LOGITS), rtol=1e-10)
    assert losses.loss_binary_crossentropy.__name__ == "loss_binary_crossentropy"
    assert "from_logits" in str(inspect.signature(losses.loss_binary_crossentropy))


def test_base_function():
    assert losses.base_function("CategoricalCrossentropy") is losses.categorical_crossentropy
    assert losses.base_function(losses.loss_mean_squared_error) is losses.mean_squared_error
    assert losses.base_function(lambda y, p: p) is None


# ---- target checks -------------------------------------------------------------------------

@pytest.mark.parametrize("loss, y_shape, out_shape", [
    ("categorical_crossentropy", (32, 10), (None, 10)),
    ("sparse_categorical_crossentropy", (32,), (None, 10)),
    ("sparse_categorical_crossentropy", (32, 1), (None, 10)),
    ("sparse_categorical_crossentropy", (32, 5), (None, 5, 10)),
    ("binary_crossentropy", (32,), (None, 1)),
    ("binary_crossentropy", (32, 1), (None, 1)),
    ("binary_crossentropy", (32, 3), (None, 3)),
    ("mse", (32,), (None, 1)),
    ("mse", (32, 4), (None, None)),
    (lambda y, p: p, (32, 7), (None, 1)),  # custom losses are not checked
])
def test_check_targets_accepts(loss, y_shape, out_shape):
    losses.check_targets(loss, y_shape, out_shape, "dense")


def test_check_targets_integer_labels_with_categorical_crossentropy():
    expected = ("categorical_crossentropy expects targets of shape (None, 10) (one-hot); got (32,). "
                "Convert the labels with to_categorical(y, 10) or use "
                "loss='sparse_categorical_crossentropy'.")
    with pytest.raises(ValueError) as error:
        losses.check_targets("categorical_crossentropy", (32,), (None, 10))
    assert str(error.value) == expected
    with pytest.raises(ValueError, match=r"^Output 'dense_2': categorical_crossentropy .*got \(32, 1\)"):
        losses.check_targets(losses.CategoricalCrossentropy(), (32, 1), (None, 10), "dense_2")


def test_check_targets_one_hot_with_sparse_crossentropy():
    with pytest.raises(ValueError, match="one-hot encoded: use loss='categorical_crossentropy'"):
        losses.check_targets("sparse_categorical_crossentropy", (32, 10), (None, 10))


@pytest.mark.parametrize("loss, y_shape, out_shape", [
    ("mse", (32, 3), (None, 1)),
    ("binary_crossentropy", (32, 10), (None, 1)),
    ("categorical_crossentropy", (32, 5), (None, 10)),
    ("mae", (32, 1), (None, 4)),
])
def test_check_targets_rejects_mismatched_last_dimension(loss, y_shape, out_shape):
    with pytest.raises(ValueError, match="expects targets shaped like the model output"):
        losses.check_targets(loss, y_shape, out_shape)


def test_no_warnings_on_ordinary_calls():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses.get("categorical_crossentropy")(ONE_HOT, ops.softmax(Tensor(LOGITS.copy())))
