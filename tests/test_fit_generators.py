"""fit / evaluate / predict on generators: image flows, plain Python generators of (x, y) or
(x, y, sample_weight) batches, Sequence-like objects, the book's fit_generator aliases, and
the errors for missing step counts."""

import warnings

import numpy as np
import pytest

from kerasr import (
    compile,
    evaluate,
    fit,
    keras_model_sequential,
    layer_dense,
    layer_flatten,
    optimizer_adam,
    predict,
    set_random_seed,
)
from kerasr.verbs.images import (
    evaluate_generator,
    fit_generator,
    flow_images_from_data,
    image_data_generator,
    predict_generator,
)


def image_data(n=96, seed=0):
    """4x4 one-channel images whose class is whether the left half is brighter."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 4, 4, 1)).astype(np.float32)
    labels = rng.integers(0, 2, n)
    x[labels == 1, :, :2] += 1.0
    x[labels == 0, :, 2:] += 1.0
    return x, labels.astype(np.float32)


def tiny_model():
    model = keras_model_sequential(input_shape=(4, 4, 1))
    model | layer_flatten() | layer_dense(8, activation="relu") | \
        layer_dense(1, activation="sigmoid")
    model | compile(optimizer=optimizer_adam(learning_rate=0.02), loss="binary_crossentropy",
                    metrics="accuracy")
    return model


def batches_forever(x, y, batch_size, with_weights=False):
    while True:
        for i in range(0, len(x), batch_size):
            batch = (x[i:i + batch_size], y[i:i + batch_size])
            yield batch + (np.ones(len(batch[0])),) if with_weights else batch


def test_fit_on_an_image_flow_trains_a_tiny_model():
    set_random_seed(0)
    x, y = image_data()
    flow = flow_images_from_data(x, y, image_data_generator(vertical_flip=True), batch_size=16)
    model = tiny_model()
    history = model | fit(flow, epochs=10, verbose=0)  # steps_per_epoch = len(flow) = 6
    assert len(history.history["loss"]) == 10
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] > 0.85


def test_fit_on_a_python_generator_with_steps_per_epoch_and_validation_generator():
    set_random_seed(1)
    x, y = image_data()
    model = tiny_model()
    history = model | fit(batches_forever(x[:64], y[:64], 16), steps_per_epoch=4, epochs=3,
                          validation_data=batches_forever(x[64:], y[64:], 16),
                          validation_steps=2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["val_loss"]) == 3
    # the validation generator's 2 batches are x[64:96]: the same numbers as evaluate on arrays
    direct = model.evaluate(x[64:], y[64:], verbose=0, return_dict=True)
    again = model.evaluate(batches_forever(x[64:], y[64:], 16), steps=2, verbose=0,
                           return_dict=True)
    assert again["loss"] == pytest.approx(direct["loss"], rel=1e-6)


def test_generator_training_matches_array_training_batch_for_batch():
    x, y = image_data(32)
    set_random_seed(3)
    by_arrays = tiny_model()
    by_arrays.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    set_random_seed(3)
    by_generator = tiny_model()
    by_generator.fit(batches_forever(x, y, 8), steps_per_epoch=4, epochs=2, verbose=0)
    for a, b in zip(by_arrays.get_weights(), by_generator.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_sample_weights_from_the_generator_and_validation_arrays():
    set_random_seed(2)
    x, y = image_data(32)
    model = tiny_model()
    history = fit(model, batches_forever(x, y, 8, with_weights=True), steps_per_epoch=4,
                  epochs=1, validation_data=(x, y), verbose=0)
    assert "val_loss" in history.history


def test_evaluate_and_predict_on_generators_match_arrays():
    set_random_seed(4)
    x, y = image_data(40)
    model = tiny_model()
    flow = flow_images_from_data(x, y, batch_size=16, shuffle=False)  # 3 batches: 16, 16, 8
    np.testing.assert_allclose(model | predict(flow), model | predict(x), rtol=1e-6)
    scores = model | evaluate(flow, verbose=0)
    assert scores["loss"] == pytest.approx((model | evaluate(x, y, verbose=0))["loss"], rel=1e-6)
    only_x = flow_images_from_data(x, batch_size=10, shuffle=False)
    assert predict(model, only_x, steps=2).shape == (20, 1)


def test_sequence_like_objects_are_read_by_index():
    class Batches:
        def __init__(self, x, y):
            self.x, self.y, self.epochs_ended = x, y, 0

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return self.x[i * 8:(i + 1) * 8], self.y[i * 8:(i + 1) * 8]

        def on_epoch_end(self):
            self.epochs_ended += 1

    x, y = image_data(16)
    batches = Batches(x, y)
    history = tiny_model().fit(batches, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3 and batches.epochs_ended == 2


def test_the_books_generator_verbs_are_deprecated_aliases():
    set_random_seed(5)
    x, y = image_data(32)
    model = tiny_model()
    with pytest.warns(DeprecationWarning, match="fit"):
        history = model | fit_generator(batches_forever(x, y, 8), steps_per_epoch=4, epochs=2,
                                        verbose=0)
    assert len(history.history["loss"]) == 2
    with pytest.warns(DeprecationWarning):
        scores = evaluate_generator(model, batches_forever(x, y, 8), steps=4)
    assert set(scores) == {"loss", "accuracy"}
    with pytest.warns(DeprecationWarning):
        assert predict_generator(model, batches_forever(x, y, 8), steps=2).shape == (16, 1)


def test_a_generator_that_runs_dry_stops_training_with_a_warning():
    x, y = image_data(16)
    finite = (b for b in [(x[:8], y[:8]), (x[8:], y[8:]), (x[:8], y[:8])])
    with pytest.warns(UserWarning, match="ran out of data after 3 batch"):
        history = tiny_model().fit(finite, steps_per_epoch=2, epochs=5, verbose=0)
    assert len(history.history["loss"]) == 2


def test_generator_errors():
    x, y = image_data(16)
    model = tiny_model()
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(batches_forever(x, y, 8), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="validation_steps"):
        model.fit(batches_forever(x, y, 8), steps_per_epoch=1, verbose=0,
                  validation_data=batches_forever(x, y, 8))
    with pytest.raises(ValueError, match="leave y and sample_weight unset"):
        model.fit(batches_forever(x, y, 8), y, steps_per_epoch=1, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(batches_forever(x, y, 8), steps_per_epoch=1, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch must be a positive integer"):
        model.fit(batches_forever(x, y, 8), steps_per_epoch=0, verbose=0)
    with pytest.raises(ValueError, match="steps"):
        model.evaluate(batches_forever(x, y, 8), verbose=0)
    with pytest.raises(ValueError, match="steps"):
        model.predict(batches_forever(x, y, 8))
    with pytest.raises(ValueError, match="batches x, \\(x, y\\)"):
        model.fit((b + (None, None) for b in batches_forever(x, y, 8)), steps_per_epoch=1,
                  verbose=0)
    with pytest.raises(ValueError, match="y is required"):
        model.fit(flow_images_from_data(x, batch_size=8), epochs=1, verbose=0)
    # Nothing was trained by the failed calls.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.predict(x).shape == (16, 1)


def test_predict_reads_an_image_flow_from_its_first_batch():
    set_random_seed(6)
    x, y = image_data(20)
    model = tiny_model()
    flow = flow_images_from_data(x, batch_size=8, shuffle=False)
    next(flow)  # looking at a batch first does not shift what predict sees
    np.testing.assert_allclose(model.predict(flow), model.predict(x), rtol=1e-6)
