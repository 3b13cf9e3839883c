"""The training loop end to end: the book's dense networks learn, runs are reproducible, and bad
input fails before any weight changes."""

import re

import numpy as np
import pytest

from kerasr import (compile, evaluate, fit, keras_model_sequential, layer_dense, layer_dropout,
                    predict, set_random_seed, to_categorical, dataset_boston_housing,
                    optimizer_rmsprop, loss_binary_crossentropy, metric_binary_accuracy,
                    regularizer_l2)


def blobs(n, dim, classes, seed, spread=1.0):
    """Class-dependent Gaussian clusters: learnable, not trivially separable."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((classes, dim)) * spread
    labels = rng.integers(0, classes, n)
    x = centers[labels] + rng.standard_normal((n, dim))
    return x.astype(np.float32), labels


def test_book_mnist_network_learns():
    """§2.1: dense 512 relu -> dense 10 softmax, rmsprop, categorical crossentropy."""
    set_random_seed(1)
    x, labels = blobs(2000, 784, 10, seed=1, spread=0.15)
    y = to_categorical(labels, 10)
    model = keras_model_sequential()
    model | layer_dense(units=512, activation="relu", input_shape=784) | \
        layer_dense(units=10, activation="softmax")
    model | compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics="accuracy")
    history = model | fit(x[:1500], y[:1500], epochs=4, batch_size=128, verbose=0,
                          validation_split=0.2)
    assert history.history["loss"][-1] < history.history["loss"][0]
    scores = model | evaluate(x[1500:], y[1500:], verbose=0)
    assert scores["accuracy"] > 0.8  # chance is 0.1
    assert set(history.metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.metrics["val_acc"] == history.metrics["val_accuracy"]


def test_book_imdb_network_learns_with_objects_from_the_book():
    """§3.4: 16 relu -> 16 relu -> 1 sigmoid on multi-hot vectors, optimizer and loss as objects."""
    set_random_seed(2)
    rng = np.random.default_rng(2)
    words = 500
    x = (rng.random((2000, words)) < 0.04).astype(np.float32)
    sentiment = rng.standard_normal(words)
    y = (x @ sentiment > 0).astype(np.float32)
    model = keras_model_sequential() | \
        layer_dense(units=16, activation="relu", input_shape=words) | \
        layer_dense(units=16, activation="relu") | layer_dense(units=1, activation="sigmoid")
    with pytest.warns((UserWarning, DeprecationWarning), match="learning_rate"):
        optimizer = optimizer_rmsprop(lr=0.001)
    model | compile(optimizer=optimizer, loss=loss_binary_crossentropy,
                    metrics=[metric_binary_accuracy])
    history = model | fit(x[:1600], y[:1600], epochs=8, batch_size=64, verbose=0,
                          validation_data=[x[1600:], y[1600:]])
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["val_binary_accuracy"][-1] > 0.75  # chance is about 0.5


def test_book_boston_network_learns_regression():
    """§3.6: 64 relu -> 64 relu -> 1, mse, metric mae."""
    set_random_seed(3)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((400, 13)).astype(np.float32)
    y = (x @ rng.standard_normal(13) + 0.5 * np.sin(x[:, 0]) + 20).astype(np.float32)
    model = keras_model_sequential() | layer_dense(units=64, activation="relu", input_shape=13) | \
        layer_dense(units=64, activation="relu") | layer_dense(units=1)
    model | compile(optimizer="rmsprop", loss="mse", metrics=c_("mae"))
    history = model | fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["mae"][-1] < 0.2 * history.history["mae"][0]


def c_(*values):
    """R's c(): the book writes metrics = c("mae")."""
    return list(values)


def test_boston_vignette_reaches_the_books_error_on_shipped_data():
    set_random_seed(42)
    (x_train, y_train), (x_test, y_test) = dataset_boston_housing()
    mean, std = x_train.mean(axis=0), x_train.std(axis=0, ddof=1)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    model = keras_model_sequential() | layer_dense(units=64, activation="relu", input_shape=13) | \
        layer_dense(units=64, activation="relu") | layer_dense(units=1)
    model | compile(optimizer="rmsprop", loss="mse", metrics="mae")
    model | fit(x_train, y_train, epochs=80, batch_size=16, verbose=0)
    assert (model | evaluate(x_test, y_test, verbose=0))["mae"] < 4.0


def small_model(seed=0, dropout=0.0):
    set_random_seed(seed)
    model = keras_model_sequential() | layer_dense(units=8, activation="relu", input_shape=5)
    if dropout:
        model | layer_dropout(rate=dropout)
    model | layer_dense(units=3, activation="softmax")
    model | compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics="accuracy")
    return model


def test_same_seed_gives_identical_weights():
    x, labels = blobs(200, 5, 3, seed=4)
    runs = []
    for _ in range(2):
        model = small_model(seed=11, dropout=0.3)
        model | fit(x, labels, epochs=3, batch_size=32, verbose=0, validation_split=0.1)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    other = small_model(seed=12, dropout=0.3)
    other | fit(x, labels, epochs=3, batch_size=32, verbose=0, validation_split=0.1)
    assert not np.array_equal(other.get_weights()[0], runs[0][0])


def test_validation_split_takes_the_last_samples_before_shuffling():
    x, labels = blobs(100, 5, 3, seed=5)
    model = small_model()
    history = model | fit(x, labels, epochs=1, batch_size=10, verbose=0, validation_split=0.2)
    after = model | evaluate(x[80:], labels[80:], verbose=0)
    assert history.params["samples"] == 80
    assert history.history["val_loss"][0] == pytest.approx(after["loss"], rel=1e-5)


def test_history_prints_its_final_epoch():
    x, labels = blobs(60, 5, 3, seed=6)
    model = small_model()
    history = model | fit(x, labels, epochs=2, verbose=0)
    text = str(history)
    # R keras's print(history): the fit's settings, then 4 significant digits per metric
    assert text.startswith("Trained on 60 samples (batch_size=32, epochs=2)\n"
                           "Final epoch (plot to see history):\n")
    assert re.search(r"\n    loss: \d\.\d{1,3}\n", text) and "accuracy: " in text
    assert history.epoch == [0, 1] and history.params["epochs"] == 2


def test_progress_output_is_one_line_per_epoch_when_not_a_terminal(capsys):
    x, labels = blobs(64, 5, 3, seed=7)
    model = small_model()
    model | fit(x, labels, epochs=2, batch_size=16, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert re.fullmatch(r"4/4 ━{20} \d+s \d+(ms|us|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}",
                        lines[1]), lines[1]
    assert len(lines) == 4


def test_sample_weights_scale_the_loss_like_keras():
    x, labels = blobs(32, 5, 3, seed=8)
    model = small_model()
    weights = np.linspace(0.0, 2.0, 32).astype(np.float32)
    plain = model.evaluate(x, labels, batch_size=32, verbose=0, return_dict=True)["loss"]
    per_sample = model.predict(x, verbose=0)
    nll = -np.log(per_sample[np.arange(32), labels])
    weighted = model.evaluate(x, labels, batch_size=32, sample_weight=weights, verbose=0,
                              return_dict=True)["loss"]
    assert plain == pytest.approx(nll.mean(), rel=1e-4)
    assert weighted == pytest.approx((nll * weights).sum() / 32, rel=1e-4)


def test_class_weight_reweights_samples_by_label():
    x, labels = blobs(30, 5, 3, seed=9)
    model = small_model()
    probs = model.predict(x, verbose=0)
    nll = -np.log(probs[np.arange(30), labels])
    loss = model.evaluate(x, labels, batch_size=30, verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(nll.mean(), rel=1e-4)
    model.fit(x, labels, epochs=1, batch_size=30, class_weight={0: 1.0, 1: 0.0, 2: 0.0},
              shuffle=False, verbose=0)  # runs: weights zero out two classes


def test_regularization_penalty_is_part_of_the_loss():
    set_random_seed(0)
    model = keras_model_sequential() | layer_dense(units=2, input_shape=3,
                                                   kernel_regularizer=regularizer_l2(0.5))
    model | compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
    kernel, bias = model.get_weights()
    expected = ((x @ kernel + bias) ** 2).mean() + 0.5 * (kernel ** 2).sum()
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-5)


# ---- bad input: a clear error, nothing half-done ------------------------------------------

def compiled_mnist_like():
    model = keras_model_sequential() | layer_dense(units=4, activation="relu", input_shape=784, name="dense_1") | \
        layer_dense(units=10, activation="softmax")
    model | compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics="accuracy")
    return model


def assert_fit_fails_untouched(model, match, *args, **kwargs):
    before = model.get_weights()
    with pytest.raises(ValueError, match=match):
        model | fit(*args, verbose=0, **kwargs)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_wrong_feature_count_names_the_first_layer():
    model = compiled_mnist_like()
    assert_fit_fails_untouched(model, r"dense_1 expects input of shape \(None, 784\), got \(32, 28\)",
                               np.zeros((32, 28)), np.zeros((32, 10)))


def test_wrong_rank_is_reported():
    model = compiled_mnist_like()
    assert_fit_fails_untouched(model, r"expects input of shape \(None, 784\), got \(32, 28, 28\)",
                               np.zeros((32, 28, 28)), np.zeros((32, 10)))


def test_integer_labels_with_categorical_crossentropy_hint_to_categorical():
    model = compiled_mnist_like()
    assert_fit_fails_untouched(model, "to_categorical", np.zeros((32, 784)), np.zeros(32))


def test_one_hot_labels_with_sparse_loss_are_rejected():
    model = compiled_mnist_like()
    model | compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    assert_fit_fails_untouched(model, "sparse_categorical_crossentropy",
                               np.zeros((32, 784)), np.zeros((32, 10)))


def test_x_and_y_sample_counts_must_match():
    model = compiled_mnist_like()
    assert_fit_fails_untouched(model, "same number of samples", np.zeros((32, 784)), np.zeros((30, 10)))


def test_fit_before_compile():
    model = keras_model_sequential() | layer_dense(units=1, input_shape=2)
    with pytest.raises(ValueError, match="compile"):
        model | fit(np.zeros((4, 2)), np.zeros(4), verbose=0)


@pytest.mark.parametrize("kind,value", [("optimizer", "rmsporp"), ("loss", "categorical_crossentropi"),
                                        ("metrics", "acuracy")])
def test_unknown_names_list_the_valid_ones(kind, value):
    model = keras_model_sequential() | layer_dense(units=1, input_shape=2)
    arguments = {"optimizer": "rmsprop", "loss": "mse", kind: value}
    with pytest.raises(ValueError, match="Unknown|Valid|valid"):
        model | compile(**arguments)
        model | fit(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0)


def test_non_numeric_input_is_rejected():
    model = compiled_mnist_like()
    assert_fit_fails_untouched(model, "numeric", np.full((4, 784), "a"), np.zeros((4, 10)))


@pytest.mark.parametrize("where", ["x", "y"])
def test_nan_or_infinite_values_are_rejected(where):
    model = compiled_mnist_like()
    x, y = np.zeros((8, 784)), to_categorical(np.zeros(8), 10)
    (x if where == "x" else y)[3, 2] = np.nan if where == "x" else np.inf
    assert_fit_fails_untouched(model, f"{where} contains 1 NaN or infinite", x, y)


@pytest.mark.parametrize("split", [1.0, -0.1, 1.5])
def test_validation_split_outside_unit_interval(split):
    model = compiled_mnist_like()
    assert_fit_fails_untouched(model, "validation_split", np.zeros((8, 784)),
                               to_categorical(np.zeros(8), 10), validation_split=split)


def test_unbuilt_sequential_builds_from_the_first_data():
    set_random_seed(0)
    model = keras_model_sequential() | layer_dense(units=4, activation="relu") | layer_dense(units=1)
    model | compile(optimizer="rmsprop", loss="mse")
    model | fit(np.ones((8, 6)), np.ones(8), epochs=1, verbose=0)
    assert model.get_weights()[0].shape == (6, 4)
    assert (model | predict(np.ones((3, 6)))).shape == (3, 1)


def test_float64_models_train_with_the_same_kernels():
    from kerasr import k_set_floatx
    k_set_floatx("float64")
    try:
        model = small_model()
        x, labels = blobs(64, 5, 3, seed=10)
        model | fit(x, labels, epochs=2, verbose=0)
        assert model.get_weights()[0].dtype == np.float64
        assert model.predict(x, verbose=0).dtype == np.float64
    finally:
        k_set_floatx("float32")


def test_verbose_2_prints_keras_one_line_summary(capsys):
    x, labels = blobs(64, 5, 3, seed=7)
    model = small_model()
    model | fit(x, labels, epochs=1, batch_size=16, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "Epoch 1/1"
    assert re.fullmatch(r"4/4 - \d+s - \d+(ms|us|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}",
                        lines[1]), lines[1]


def test_verbose_0_prints_nothing(capsys):
    x, labels = blobs(64, 5, 3, seed=7)
    small_model() | fit(x, labels, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_custom_metric_function_is_named_after_the_function():
    def mean_prediction(y_true, y_pred):
        return y_pred.mean(axis=-1)

    x, labels = blobs(40, 5, 3, seed=12)
    model = small_model()
    model | compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                    metrics=["acc", mean_prediction])
    history = model | fit(x, labels, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "acc", "mean_prediction"}
    assert history.history["mean_prediction"][0] == pytest.approx(1 / 3, rel=1e-4)
    assert history.metrics["accuracy"] == history.metrics["acc"]


def test_plot_history_draws_one_panel_per_metric_or_names_the_extra(tmp_path):
    from kerasr import plot
    x, labels = blobs(40, 5, 3, seed=13)
    history = small_model() | fit(x, labels, epochs=2, verbose=0, validation_split=0.25)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"kerasr\[plot\]"):
            plot(history)
        return
    figure = history | plot(filename=str(tmp_path / "history.png"))
    assert [axis.get_ylabel() for axis in figure.axes] == ["loss", "accuracy"]
    assert (tmp_path / "history.png").stat().st_size > 0
