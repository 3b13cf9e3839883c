"""The book's convolutional models (chapters 5.1, 6.4 and 7.3) build as written and learn on
small synthetic data."""

import numpy as np

from kerasr import (compile, evaluate, fit, keras_model_sequential, layer_conv_1d, layer_conv_2d,
                    layer_dense, layer_embedding, layer_flatten, layer_global_max_pooling_1d,
                    layer_max_pooling_1d, layer_max_pooling_2d, optimizer_rmsprop,
                    set_random_seed, to_categorical)


def c(*values):
    """R's c()."""
    return values


def test_mnist_convnet_builds_with_the_books_shapes_and_learns():
    """§5.1, on 10 classes of noisy synthetic digits (a class is a bright 7x7 square's place)."""
    set_random_seed(1)
    model = keras_model_sequential() | \
        layer_conv_2d(filters=32, kernel_size=c(3, 3), activation="relu", input_shape=c(28, 28, 1)) | \
        layer_max_pooling_2d(pool_size=c(2, 2)) | \
        layer_conv_2d(filters=64, kernel_size=c(3, 3), activation="relu") | \
        layer_max_pooling_2d(pool_size=c(2, 2)) | \
        layer_conv_2d(filters=64, kernel_size=c(3, 3), activation="relu")
    assert [layer.output_shape for layer in model.layers] == [
        (None, 26, 26, 32), (None, 13, 13, 32), (None, 11, 11, 64), (None, 5, 5, 64),
        (None, 3, 3, 64)]
    model | layer_flatten() | layer_dense(units=64, activation="relu") | \
        layer_dense(units=10, activation="softmax")
    assert model.count_params() == 93322  # the book's summary
    model | compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics="accuracy")
    rng = np.random.default_rng(1)
    n = 640
    labels = rng.integers(0, 10, n)
    x = rng.random((n, 28, 28, 1), dtype=np.float32) * 0.3
    for i, label in enumerate(labels):
        row, col = divmod(int(label), 5)
        x[i, 3 + 12 * row:10 + 12 * row, 1 + 5 * col:8 + 5 * col, 0] += 0.7
    y = to_categorical(labels, 10)
    history = model | fit(x[:512], y[:512], epochs=3, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert (model | evaluate(x[512:], y[512:], verbose=0))["accuracy"] > 0.8


def test_imdb_conv1d_model_learns_sentiment_words():
    """§6.4, on reviews whose label is whether 'good' words outnumber 'bad' ones."""
    set_random_seed(2)
    rng = np.random.default_rng(2)
    max_features, max_len, n = 500, 60, 600
    x = rng.integers(10, max_features, (n, max_len))
    y = rng.integers(0, 2, n)
    for i in range(n):
        places = rng.choice(max_len, 6, replace=False)
        x[i, places] = rng.integers(1, 5, 6) if y[i] else rng.integers(5, 9, 6)
    model = keras_model_sequential() | \
        layer_embedding(input_dim=max_features, output_dim=16, input_length=max_len) | \
        layer_conv_1d(filters=16, kernel_size=7, activation="relu") | \
        layer_max_pooling_1d(pool_size=5) | \
        layer_conv_1d(filters=16, kernel_size=3, activation="relu") | \
        layer_global_max_pooling_1d() | layer_dense(units=1, activation="sigmoid")
    model | compile(optimizer=optimizer_rmsprop(learning_rate=1e-2), loss="binary_crossentropy",
                    metrics="acc")
    history = model | fit(x, y.astype(np.float32), epochs=8, batch_size=32, verbose=0,
                          validation_split=0.2)
    assert history.history["val_acc"][-1] > 0.8
