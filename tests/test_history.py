"""What fit returns, seen as R keras shows it: print(history), as_data_frame(history) and
plot(history) (one panel per metric, loess curves from 10 epochs on, PNG files)."""

import math
import sys

import numpy as np
import pytest

import kerasr
from kerasr import (Callback, as_data_frame, compile, fit, keras_model_sequential, layer_dense,
                    plot, set_random_seed)
from kerasr.callbacks import History
from kerasr.plotting import loess


def blobs(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    return (rng.standard_normal((3, 4))[labels] + rng.standard_normal((n, 4))).astype(
        np.float32), labels


def trained(epochs=3, seed=0, **fit_kwargs):
    set_random_seed(seed)
    model = keras_model_sequential(input_shape=4) | layer_dense(units=3, activation="softmax")
    model | compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics="accuracy")
    x, labels = blobs(40, seed + 1)
    return model | fit(x, labels, epochs=epochs, batch_size=8, verbose=0, **fit_kwargs)


class StopAfter(Callback):
    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 >= self.epochs:
            self.model.stop_training = True


# ---- print -----------------------------------------------------------------------------------

def test_print_is_r_keras_summary_of_the_final_epoch():
    history = trained(epochs=3, validation_split=0.25)
    lines = str(history).split("\n")
    assert lines[0] == "Trained on 30 samples, validated on 10 samples (batch_size=8, epochs=3)"
    assert lines[1] == "Final epoch (plot to see history):"
    assert [line.split(":")[0] for line in lines[2:]] == [
        "        loss", "    accuracy", "    val_loss", "val_accuracy"]
    for line, key in zip(lines[2:], ["loss", "accuracy", "val_loss", "val_accuracy"]):
        shown = line.split(": ")[1]
        value = history.history[key][-1]
        assert float(shown) == pytest.approx(float(f"{value:.4g}"), abs=1e-12)
    assert repr(history) == str(history)


@pytest.mark.parametrize("value, text", [(0.021171, "0.02117"), (0.9964, "0.9964"),
                                         (0.5, "0.5"), (12345.678, "12,346"), (0.0, "0"),
                                         (1.99996, "2"), (float("nan"), "NaN"),
                                         (-0.123456, "-0.1235")])
def test_values_have_r_prettynum_four_significant_digits(value, text):
    assert History._r_number(value) == text


def test_print_without_epochs():
    assert str(History()) == "<History: no epochs>"


# ---- as_data_frame ---------------------------------------------------------------------------

def rows_of(history):
    table = as_data_frame(history)
    if isinstance(table, list):
        return table
    return [{"epoch": int(r.epoch), "value": float(r.value), "metric": str(r.metric),
             "data": str(r.data)} for r in table.itertuples()]


def test_data_frame_is_r_long_table():
    history = trained(epochs=3, validation_split=0.25)
    rows = rows_of(history)
    assert len(rows) == 4 * 3
    assert [(r["metric"], r["data"], r["epoch"]) for r in rows] == [
        (m, d, e) for m, d in [("loss", "training"), ("accuracy", "training"),
                               ("loss", "validation"), ("accuracy", "validation")]
        for e in (1, 2, 3)]
    assert [r["value"] for r in rows[:3]] == history.history["loss"]
    assert [r["value"] for r in rows[9:]] == history.history["val_accuracy"]


def test_data_frame_pads_an_early_stop_with_nan_like_r():
    history = trained(epochs=5, callbacks=[StopAfter(2)])
    rows = rows_of(history)
    loss = [r["value"] for r in rows if r["metric"] == "loss"]
    assert len(loss) == 5 and loss[:2] == history.history["loss"]
    assert all(math.isnan(v) for v in loss[2:])


def test_data_frame_places_sparse_validation_at_its_epochs():
    history = trained(epochs=4, validation_split=0.25, validation_freq=2)
    rows = rows_of(history)
    val = [r["value"] for r in rows if r["metric"] == "loss" and r["data"] == "validation"]
    assert math.isnan(val[0]) and math.isnan(val[2])
    assert [val[1], val[3]] == history.history["val_loss"]


def test_data_frame_is_pandas_when_installed():
    pd = pytest.importorskip("pandas")
    table = as_data_frame(trained(epochs=2, validation_split=0.25))
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["epoch", "value", "metric", "data"]
    assert list(table["data"].cat.categories) == ["training", "validation"]
    assert list(table["metric"].cat.categories) == ["loss", "accuracy"]


def test_data_frame_without_pandas_is_a_list_of_rows(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    rows = as_data_frame(trained(epochs=2))
    assert isinstance(rows, list) and set(rows[0]) == {"epoch", "value", "metric", "data"}


# ---- loess -----------------------------------------------------------------------------------

def loess_reference(x, y, x0, span=0.75):
    """Plain loops: the q = floor(span n) nearest points, tricube weights, weighted quadratic
    least squares through the normal equations."""
    n = len(x)
    q = int(math.floor(span * n))
    distances = sorted(abs(xi - x0) for xi in x)
    reach = distances[q - 1]
    a = np.zeros((3, 3))
    b = np.zeros(3)
    for xi, yi in zip(x, y):
        d = abs(xi - x0) / reach
        w = (1 - d ** 3) ** 3 if d < 1 else 0.0
        basis = [1.0, xi - x0, (xi - x0) ** 2]
        for r in range(3):
            b[r] += w * basis[r] * yi
            for c in range(3):
                a[r, c] += w * basis[r] * basis[c]
    return np.linalg.solve(a, b)[0]


def test_loess_matches_a_plain_reference_and_reproduces_quadratics():
    rng = np.random.default_rng(3)
    x = np.arange(1, 21, dtype=np.float64)
    y = np.exp(-x / 6) + 0.05 * rng.standard_normal(20)
    at = np.linspace(1, 20, 37)
    expected = [loess_reference(x, y, x0) for x0 in at]
    np.testing.assert_allclose(loess(x, y, at), expected, rtol=1e-9, atol=1e-12)
    quadratic = 0.3 * x ** 2 - 2 * x + 1
    np.testing.assert_allclose(loess(x, quadratic, at), 0.3 * at ** 2 - 2 * at + 1, rtol=1e-9)


# ---- plot ------------------------------------------------------------------------------------

def test_plot_draws_one_panel_per_metric_with_training_and_validation(tmp_path):
    pytest.importorskip("matplotlib")
    history = trained(epochs=4, validation_split=0.25)
    figure = plot(history, file=tmp_path / "history.png")
    assert [axis.get_ylabel() for axis in figure.axes] == ["loss", "accuracy"]
    for axis, key in zip(figure.axes, ["loss", "accuracy"]):
        points = [c.get_offsets() for c in axis.collections]
        assert len(points) == 2  # training and validation
        np.testing.assert_allclose(points[0][:, 1], history.history[key], rtol=1e-6)
        np.testing.assert_allclose(points[1][:, 1], history.history["val_" + key], rtol=1e-6)
        np.testing.assert_array_equal(points[0][:, 0], [1, 2, 3, 4])
        assert axis.get_lines() == []  # fewer than 10 epochs: no smoothing
    data = (tmp_path / "history.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_smooths_from_ten_epochs_on_unless_told_not_to(tmp_path):
    pytest.importorskip("matplotlib")
    history = trained(epochs=10, validation_split=0.25)
    figure = plot(history)
    assert [len(axis.get_lines()) for axis in figure.axes] == [2, 2]
    curve = figure.axes[0].get_lines()[0].get_ydata()
    assert len(curve) == 80 and np.all(np.isfinite(curve))
    assert [len(axis.get_lines()) for axis in plot(history, smooth=False).axes] == [0, 0]


def test_plot_selected_metrics_and_pipe_form(tmp_path):
    pytest.importorskip("matplotlib")
    history = trained(epochs=2)
    figure = history | plot(metrics="acc", file=str(tmp_path / "acc"))
    assert [axis.get_ylabel() for axis in figure.axes] == ["accuracy"]
    assert len(figure.axes[0].collections) == 1  # no validation data
    assert (tmp_path / "acc").read_bytes()[:4] == b"\x89PNG"  # no extension: a PNG all the same
    with pytest.raises(ValueError, match=r"no metric 'mae' was recorded; available: loss, accuracy"):
        plot(history, metrics=["loss", "mae"])
    with pytest.raises(ValueError, match="smooth"):
        plot(history, smooth="yes")


def test_plot_without_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'kerasr\[plot\]'"):
        plot(trained(epochs=1))


def test_history_verbs_are_exported():
    assert {"plot", "as_data_frame"} <= set(kerasr.__all__)
