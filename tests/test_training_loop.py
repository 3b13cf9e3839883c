"""The training loop's finer controls: regularizers in the reported loss, constraints after
each update, seeded initializers, freezing (and the recompile Keras requires), batch-level
training, class and sample weights, steps, validation frequency, stateful resets and
k_clear_session."""

import gc
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest

import kerasr
from kerasr import (Layer, as_data_frame, compile, constraint_maxnorm, constraint_minmaxnorm,
                    constraint_nonneg, constraint_unitnorm, evaluate, fit, freeze_weights,
                    k_clear_session, keras_model, keras_model_sequential, layer_dense,
                    layer_dropout, layer_input, layer_simple_rnn, predict_on_batch,
                    regularizer_l1, regularizer_l1_l2, regularizer_l2, regularizer_orthogonal,
                    reset_states, set_random_seed, summary, train_on_batch,
                    unfreeze_weights)
from kerasr import initializers, regularizers
from kerasr import test_on_batch as evaluate_on_batch  # (pytest would collect test_*)


def blobs(n, dim, classes, seed):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((classes, dim))
    labels = rng.integers(0, classes, n)
    return (centers[labels] + rng.standard_normal((n, dim))).astype(np.float32), labels


def dense_model(seed=0, units=8, inputs=5, classes=3, **dense_kwargs):
    set_random_seed(seed)
    model = keras_model_sequential(input_shape=inputs)
    model | layer_dense(units=units, activation="relu", name="hidden", **dense_kwargs) | \
        layer_dense(units=classes, activation="softmax", name="out")
    model | compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics="accuracy")
    return model


# ---- regularizers ----------------------------------------------------------------------------

def orthogonal_reference(w, factor, mode):
    """Keras 3's formula as plain loops, float64."""
    w = np.asarray(w, dtype=np.float64)
    vectors = w if mode == "rows" else w.T
    size = len(vectors)
    unit = [v / np.sqrt(max(np.sum(v * v), 1e-12)) for v in vectors]
    total = 0.0
    for i in range(size):
        for j in range(size):
            if i != j:
                total += abs(np.dot(unit[i], unit[j]))
    return factor * 0.5 * total / (size * (size - 1) / 2)


@pytest.mark.parametrize("mode", ["rows", "columns"])
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 2)])
def test_orthogonal_regularizer_matches_keras_formula(mode, shape):
    w = np.random.default_rng(1).standard_normal(shape)
    penalty = regularizer_orthogonal(factor=0.3, mode=mode)(w)
    assert float(penalty.data) == pytest.approx(orthogonal_reference(w, 0.3, mode), rel=1e-12)
    assert float(regularizer_orthogonal(mode=mode)(np.eye(3)).data) == 0.0  # orthogonal: none


def test_orthogonal_regularizer_gradient(float64):
    w = np.random.default_rng(2).standard_normal((4, 3))
    reg = regularizer_orthogonal(factor=0.7, mode="columns")
    variable = kerasr.Variable(w.copy())
    with kerasr.GradientTape() as tape:
        value = reg(variable)
    grad = tape.gradient(value, [variable])[0]
    grad = getattr(grad, "data", grad)
    numeric = np.zeros_like(w)
    for index in np.ndindex(w.shape):
        for sign in (1, -1):
            bumped = w.copy()
            bumped[index] += sign * 1e-6
            numeric[index] += sign * orthogonal_reference(bumped, 0.7, "columns") / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_orthogonal_regularizer_config_names_and_errors():
    reg = regularizers.get("orthogonal_regularizer")
    assert isinstance(reg, regularizers.OrthogonalRegularizer) and reg.get_config() == {
        "factor": 0.01, "mode": "rows"}
    again = regularizers.get({"class_name": "OrthogonalRegularizer",
                              "config": {"factor": 0.2, "mode": "columns"}})
    assert again.get_config() == {"factor": 0.2, "mode": "columns"}
    with pytest.raises(ValueError, match="mode"):
        regularizer_orthogonal(mode="diagonal")
    with pytest.raises(ValueError, match="factor"):
        regularizer_orthogonal(factor=-1)
    with pytest.raises(ValueError, match="rank-2"):
        regularizer_orthogonal()(np.ones((2, 2, 2)))
    assert "regularizer_orthogonal" in kerasr.__all__


@pytest.mark.parametrize("where", ["kernel_regularizer", "bias_regularizer",
                                   "activity_regularizer"])
@pytest.mark.parametrize("make", [lambda: regularizer_l1(0.05), lambda: regularizer_l2(0.05),
                                  lambda: regularizer_l1_l2(0.02, 0.03),
                                  lambda: regularizer_orthogonal(0.5)])
def test_penalties_appear_in_the_reported_loss(where, make):
    if where == "bias_regularizer" and isinstance(make(), regularizers.OrthogonalRegularizer):
        pytest.skip("a bias is rank 1: the orthogonal regularizer needs rank 2")
    x, labels = blobs(16, 5, 3, seed=3)
    plain = dense_model(seed=4)
    penalised = dense_model(seed=4, **{where: make()})
    penalised.layers[0].set_weights([w + 0.3 for w in plain.layers[0].get_weights()])
    plain.layers[0].set_weights(penalised.layers[0].get_weights())
    data_loss = plain | evaluate(x, labels, batch_size=16, verbose=0)
    total = penalised | evaluate(x, labels, batch_size=16, verbose=0)
    kernel, bias = penalised.layers[0].get_weights()
    reg = make()
    if where == "kernel_regularizer":
        expected = float(reg(kernel.astype(np.float64)).data)
    elif where == "bias_regularizer":
        expected = float(reg(bias.astype(np.float64)).data)
    else:  # activity: the hidden layer's outputs, divided by the batch size
        hidden = np.maximum(x @ kernel + bias, 0).astype(np.float64)
        expected = float(reg(hidden).data) / len(x)
    assert expected > 1e-4
    assert total["loss"] - data_loss["loss"] == pytest.approx(expected, rel=2e-4, abs=1e-6)
    # and the training loss reports the same total on that batch before the step
    penalised | compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert penalised | train_on_batch(x, labels) == pytest.approx(total["loss"], rel=1e-5)


# ---- constraints -----------------------------------------------------------------------------

@pytest.mark.parametrize("constraint, check", [
    (constraint_maxnorm(0.5), lambda w: np.all(np.linalg.norm(w, axis=0) <= 0.5 + 1e-5)),
    (constraint_minmaxnorm(0.2, 0.4), lambda w: np.all(
        (np.linalg.norm(w, axis=0) >= 0.2 - 1e-5) & (np.linalg.norm(w, axis=0) <= 0.4 + 1e-5))),
    (constraint_nonneg(), lambda w: np.all(w >= 0)),
    (constraint_unitnorm(), lambda w: np.allclose(np.linalg.norm(w, axis=0), 1, atol=1e-5)),
])
def test_constraints_hold_after_every_update(constraint, check):
    x, labels = blobs(64, 5, 3, seed=5)
    model = dense_model(seed=6, kernel_constraint=constraint, bias_constraint=constraint_nonneg())
    model | compile(optimizer=kerasr.optimizer_sgd(learning_rate=0.5), loss="sparse_categorical_crossentropy")
    seen = []

    class Watch(kerasr.Callback):
        def on_train_batch_end(self, batch, logs=None):
            kernel, bias = self.model.layers[0].get_weights()
            seen.append(bool(check(kernel)) and bool(np.all(bias >= 0)))

    model | fit(x, labels, epochs=2, batch_size=8, verbose=0, callbacks=[Watch()])
    assert len(seen) == 16 and all(seen)


# ---- initializers ----------------------------------------------------------------------------

INITIALIZERS = sorted(name for name in dir(initializers) if name.startswith("initializer_"))


def test_all_fifteen_r_initializers_exist():
    assert len(INITIALIZERS) == 15
    assert set(INITIALIZERS) <= set(kerasr.__all__)


@pytest.mark.parametrize("name", INITIALIZERS)
def test_every_initializer_is_reproducible_under_set_random_seed(name):
    make = getattr(initializers, name)
    shape = (6, 6)  # square: identity and orthogonal accept it too

    def layer_weights(seed):
        set_random_seed(seed)
        layer = layer_dense(units=6, kernel_initializer=make())
        layer(np.ones((1, 6), dtype=np.float32))
        return layer.get_weights()[0]

    first, second = layer_weights(7), layer_weights(7)
    np.testing.assert_array_equal(first, second)
    assert first.shape == shape
    random_kind = isinstance(make(), initializers.RandomInitializer)
    assert random_kind == (not np.array_equal(first, layer_weights(8)))


# ---- freezing --------------------------------------------------------------------------------

def four_layer_model():
    set_random_seed(9)
    model = keras_model_sequential(input_shape=4, name="stack")
    for i in range(4):
        model | layer_dense(units=4, activation="tanh", name=f"d{i}")
    return model


def trainable_flags(model):
    return [layer.trainable for layer in model.layers]


@pytest.mark.parametrize("start, stop, flags", [
    (None, None, [False] * 4),
    ("d1", "d2", [True, False, False, True]),
    (1, None, [True, False, False, False]),
    (None, "d1", [False, False, True, True]),
    (-1, -1, [True, True, True, False]),
])
def test_freeze_weights_ranges_like_r_keras(start, stop, flags):
    model = four_layer_model()
    freeze_weights(model, from_=start, to=stop)
    assert trainable_flags(model) == flags
    assert len(model.trainable_weights) == 2 * sum(flags)
    unfreeze_weights(model, from_=start, to=stop)
    if start is None and stop is None:
        assert trainable_flags(model) == [True] * 4
    else:  # unfreezing a range freezes the rest, as R keras does
        assert trainable_flags(model) == [not f for f in flags]


def test_freeze_weights_spellings_of_from_which_and_layers():
    model = four_layer_model()
    freeze_weights(model, **{"from": "d2"})
    assert trainable_flags(model) == [True, True, False, False]
    model = four_layer_model()
    model | freeze_weights(from_=model.get_layer("d3"))
    assert trainable_flags(model) == [True, True, True, False]
    model = four_layer_model()
    freeze_weights(model, which=["d0", 2])
    assert trainable_flags(model) == [False, True, False, True]
    unfreeze_weights(model, which=lambda layer: layer.name == "d0")
    assert trainable_flags(model) == [True, True, False, True]


def test_summary_counts_trainable_and_frozen_weights(capsys):
    model = four_layer_model()
    freeze_weights(model, to="d1")
    summary(model)
    out = capsys.readouterr().out
    assert "Total params: 80 " in out
    assert "Trainable params: 40 " in out and "Non-trainable params: 40 " in out


@pytest.mark.parametrize("kwargs, message", [
    ({"from_": "nope"}, r"no layer named 'nope'; its layers are: d0, d1, d2, d3"),
    ({"to": 7}, r"to=7 is out of range: stack has 4 layers"),
    ({"from_": "d3", "to": "d1"}, r"comes after"),
    ({"which": ["d9"]}, r"no layer named 'd9'"),
    ({"from_": 1.5}, r"a layer name or a 0-based index"),
    ({"frm": 1}, r"unexpected argument"),
])
def test_freezing_bad_layers_is_a_clear_error(kwargs, message):
    model = four_layer_model()
    with pytest.raises((ValueError, TypeError), match=message):
        freeze_weights(model, **kwargs)
    assert trainable_flags(model) == [True] * 4


def test_frozen_weights_do_not_move_and_the_rest_do():
    x = np.random.default_rng(10).standard_normal((32, 4)).astype(np.float32)
    y = np.random.default_rng(11).standard_normal((32, 4)).astype(np.float32)
    model = four_layer_model()
    freeze_weights(model, from_="d1", to="d2")
    model | compile(optimizer="adam", loss="mse")
    before = model.get_weights()
    model | fit(x, y, epochs=2, batch_size=8, verbose=0)
    after = model.get_weights()
    moved = [not np.array_equal(a, b) for a, b in zip(before, after)]
    assert moved == [True, True, False, False, False, False, True, True]


def test_freezing_after_compile_needs_a_recompile_as_in_keras():
    """Keras (and R keras's docs) train what was trainable at compile time; kerasr warns."""
    x = np.random.default_rng(12).standard_normal((16, 4)).astype(np.float32)
    y = np.zeros((16, 4), dtype=np.float32)
    model = four_layer_model()
    model | compile(optimizer="sgd", loss="mse")
    freeze_weights(model)
    before = model.get_weights()
    with pytest.warns(UserWarning, match=r"changed after it was compiled.*compile\(\) again"):
        model | train_on_batch(x, y)
    assert not np.array_equal(before[0], model.get_weights()[0])  # compile-time weights trained
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, not at every batch
        model | train_on_batch(x, y)
    model | compile(optimizer="sgd", loss="mse")
    frozen = model.get_weights()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing trainable: Keras's warning, once
        with pytest.raises(UserWarning, match="no trainable weights"):
            model | train_on_batch(x, y)
    for a, b in zip(frozen, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_book_gan_pattern_discriminator_trains_alone_but_not_through_the_gan():
    """Deep Learning with R §8.5: compile the discriminator, freeze it, compile the GAN."""
    set_random_seed(13)
    discriminator = keras_model_sequential(input_shape=3) | layer_dense(units=1, activation="sigmoid")
    discriminator | compile(optimizer="rmsprop", loss="binary_crossentropy")
    freeze_weights(discriminator)
    gan_input = layer_input(shape=2)
    generator = layer_dense(units=3, name="generator")
    gan = keras_model(gan_input, gan_input | generator | discriminator)
    gan | compile(optimizer="rmsprop", loss="binary_crossentropy")
    rng = np.random.default_rng(14)
    d_before = discriminator.get_weights()
    g_before = generator.get_weights()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the discriminator changed after its compile
        discriminator | train_on_batch(rng.standard_normal((8, 3)), np.ones((8, 1)))
    d_trained = discriminator.get_weights()
    assert not np.array_equal(d_before[0], d_trained[0])
    gan | train_on_batch(rng.standard_normal((8, 2)), np.ones((8, 1)))
    for a, b in zip(d_trained, discriminator.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(g_before[0], generator.get_weights()[0])


# ---- batch-level training --------------------------------------------------------------------

def test_train_test_and_predict_on_batch():
    x, labels = blobs(32, 5, 3, seed=15)
    model = dense_model(seed=16)
    twin = dense_model(seed=16)
    loss_before = model | evaluate_on_batch(x, labels)
    assert loss_before[0] == pytest.approx((twin | evaluate(x, labels, batch_size=32, verbose=0))["loss"], rel=1e-6)
    np.testing.assert_allclose(model | predict_on_batch(x), twin.predict(x, verbose=0), rtol=1e-6)
    result = model | train_on_batch(x, labels)
    assert result[0] == pytest.approx(loss_before[0], rel=1e-6)  # loss before the step
    twin | fit(x, labels, batch_size=32, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert (model | evaluate_on_batch(x, labels))[0] < loss_before[0]
    assert model.train_on_batch(x, labels, return_dict=True).keys() == {"loss", "accuracy"}


def test_batch_level_calls_before_compile():
    model = keras_model_sequential(input_shape=5) | layer_dense(units=2)
    x = np.zeros((4, 5), dtype=np.float32)
    for call in (lambda: model | train_on_batch(x, np.zeros((4, 2))),
                 lambda: model | evaluate_on_batch(x, np.zeros((4, 2)))):
        with pytest.raises(ValueError, match=r"must be compiled before \w+_on_batch\(\)"):
            call()
    assert (model | predict_on_batch(x)).shape == (4, 2)  # predicting needs no compile


# ---- class and sample weights ----------------------------------------------------------------

def test_class_weight_equals_the_matching_sample_weights():
    x, labels = blobs(40, 5, 3, seed=17)
    weights = {0: 1.0, 1: 3.0, 2: 0.5}
    a = dense_model(seed=18)
    ha = a | fit(x, labels, epochs=2, batch_size=8, verbose=0, class_weight=weights)
    b = dense_model(seed=18)  # (reseeds: the same shuffles)
    hb = b | fit(x, labels, epochs=2, batch_size=8, verbose=0,
                 sample_weight=np.array([weights[c] for c in labels]))
    assert ha.history["loss"] == hb.history["loss"]
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("class_weight, y_kind, message", [
    ({0: 1.0, 1: 2.0, 3: 5.0}, "sparse", r"class\(es\) \[3\] that do not occur in y \(classes in y: 0, 1, 2"),
    ({"1": 1.0, "2": 2.0, "3": 1.0}, "sparse", r"\[3\] that do not occur in y.*0-based"),
    ({0: 1.0, 5: 2.0}, "one_hot", r"\[5\] but y is one-hot with 3 classes"),
    ({"a": 1.0}, "sparse", r"keys must be 0-based class indices, got 'a'"),
    ([1.0, 2.0], "sparse", r"class_weight must be a dict"),
])
def test_class_weight_naming_an_absent_class_is_an_error(class_weight, y_kind, message):
    x, labels = blobs(30, 5, 3, seed=19)
    labels = labels % 3
    labels[:3] = [0, 1, 2]
    model = dense_model(seed=20)
    if y_kind == "one_hot":
        model | compile(optimizer="sgd", loss="categorical_crossentropy")
        y = np.eye(3)[labels]
    else:
        y = labels
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        model | fit(x, y, epochs=1, verbose=0, class_weight=class_weight)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_sample_weight_of_the_wrong_length_is_an_error():
    x, labels = blobs(30, 5, 3, seed=21)
    model = dense_model(seed=22)
    with pytest.raises(ValueError, match=r"sample_weight has 29"):
        model | fit(x, labels, epochs=1, verbose=0, sample_weight=np.ones(29))
    with pytest.raises(ValueError, match=r"sample_weight has 31"):
        model | train_on_batch(x, labels, sample_weight=np.ones(31))


# ---- epochs and steps ------------------------------------------------------------------------

def test_initial_epoch_numbers_the_epochs_and_continues_training():
    x, labels = blobs(40, 5, 3, seed=23)
    model = dense_model(seed=24)
    first = model | fit(x, labels, epochs=2, verbose=0)
    second = model | fit(x, labels, epochs=5, initial_epoch=2, verbose=0)
    assert first.epoch == [0, 1] and second.epoch == [2, 3, 4]
    assert len(second.history["loss"]) == 3
    assert (model | fit(x, labels, epochs=3, initial_epoch=3, verbose=0)).epoch == []
    with pytest.raises(ValueError, match="initial_epoch"):
        model | fit(x, labels, epochs=3, initial_epoch=-1, verbose=0)


def test_steps_per_epoch_with_arrays_resumes_where_the_last_epoch_stopped():
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.zeros((20, 1), dtype=np.float32)
    set_random_seed(25)
    model = keras_model_sequential(input_shape=2) | layer_dense(units=1)
    model | compile(optimizer="sgd", loss="mse")
    seen = []

    class Batches(kerasr.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(0)

        def on_train_batch_end(self, batch, logs=None):
            seen[-1] += 1

    with pytest.warns(UserWarning, match="ends early"):
        history = model | fit(x, y, batch_size=5, epochs=3, steps_per_epoch=3, shuffle=False,
                              verbose=0, callbacks=[Batches()])
    # 4 batches per pass: 3, then the one left (the pass ran out: a warning), then 3 again
    assert seen == [3, 1, 3]
    assert history.params["steps"] == 3
    seen.clear()
    model | fit(x, y, batch_size=5, epochs=2, steps_per_epoch=2, verbose=0,
                callbacks=[Batches()])
    assert seen == [2, 2]


def test_steps_per_epoch_beyond_the_data_warns():
    x, labels = blobs(20, 5, 3, seed=26)
    model = dense_model(seed=27)
    with pytest.warns(UserWarning, match="ends early"):
        model | fit(x, labels, batch_size=10, epochs=1, steps_per_epoch=5, verbose=0)


def test_validation_steps_and_batch_size_with_arrays():
    x, labels = blobs(60, 5, 3, seed=28)
    model = dense_model(seed=29)
    history = model | fit(x[:40], labels[:40], epochs=1, verbose=0, shuffle=False,
                          validation_data=(x[40:], labels[40:]), validation_steps=2,
                          validation_batch_size=5)
    on_first_ten = model | evaluate(x[40:50], labels[40:50], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(on_first_ten["loss"], rel=1e-6)
    assert history.params["validation_samples"] == 20
    scores = model | evaluate(x[40:], labels[40:], batch_size=5, steps=2, verbose=0)
    assert scores["loss"] == pytest.approx(on_first_ten["loss"], rel=1e-6)


@pytest.mark.parametrize("freq, epochs_validated", [(1, [0, 1, 2, 3, 4]), (2, [1, 3]),
                                                    ([1, 5], [0, 4]), (7, [])])
def test_validation_freq(freq, epochs_validated):
    x, labels = blobs(40, 5, 3, seed=30)
    model = dense_model(seed=31)
    history = model | fit(x, labels, epochs=5, verbose=0, validation_split=0.25,
                          validation_freq=freq)
    assert len(history.history["loss"]) == 5
    assert history.epochs_of.get("val_loss", []) == epochs_validated
    assert len(history.history.get("val_loss", [])) == len(epochs_validated)


@pytest.mark.parametrize("freq", [0, -2, 1.5, "2", [0]])
def test_bad_validation_freq(freq):
    x, labels = blobs(20, 5, 3, seed=32)
    with pytest.raises(ValueError, match="validation_freq"):
        dense_model() | fit(x, labels, epochs=1, verbose=0, validation_split=0.2,
                            validation_freq=freq)


@pytest.mark.parametrize("argument", ["steps_per_epoch", "validation_steps"])
def test_bad_step_counts(argument):
    x, labels = blobs(20, 5, 3, seed=33)
    with pytest.raises(ValueError, match=argument):
        dense_model() | fit(x, labels, epochs=1, verbose=0, **{argument: 0})


# ---- states ----------------------------------------------------------------------------------

def test_reset_states_clears_stateful_recurrent_layers():
    set_random_seed(34)
    model = keras_model_sequential() | layer_simple_rnn(units=3, stateful=True,
                                                        batch_input_shape=(2, 4, 2))
    x = np.random.default_rng(35).standard_normal((2, 4, 2)).astype(np.float32)
    first = model | predict_on_batch(x)
    second = model | predict_on_batch(x)
    assert not np.allclose(first, second)  # the state carried over
    assert (model | reset_states()) is model
    np.testing.assert_allclose(model | predict_on_batch(x), first, rtol=1e-6)
    with pytest.raises(TypeError, match="has no state"):
        reset_states(layer_dense(units=2))


# ---- k_clear_session -------------------------------------------------------------------------

def _build_and_train(x, y, custom_class=None):
    layers = [layer_dense(units=256, activation="relu"), layer_dropout(rate=0.2)]
    if custom_class is not None:
        layers.append(custom_class())
    model = keras_model_sequential(input_shape=x.shape[1], layers=layers + [layer_dense(units=3)])
    model | compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model | fit(x, y, epochs=1, batch_size=32, verbose=0)
    model.predict(x, verbose=0)
    return model


def test_clear_session_resets_names():
    k_clear_session()
    assert layer_dense(units=1).name == "dense"
    assert layer_dense(units=1).name == "dense_1"
    k_clear_session()
    assert layer_dense(units=1).name == "dense"


def test_memory_stays_flat_over_100_model_builds():
    """A leaked model would hold 64x256 float32 kernels plus Adam's two slots (~200 KB each)."""
    rng = np.random.default_rng(36)
    x = rng.standard_normal((64, 64)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    for _ in range(3):
        _build_and_train(x, y)
        k_clear_session()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(100):
            _build_and_train(x, y)
            k_clear_session()
        growth = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert growth < 1_000_000, f"memory grew by {growth:,} bytes over 100 builds"


def test_clear_session_frees_layer_classes_made_in_a_loop():
    rng = np.random.default_rng(37)
    x = rng.standard_normal((16, 8)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    refs = []
    for _ in range(5):
        class Scale(Layer):
            def call(self, inputs, training=None):
                return inputs

        _build_and_train(x, y, Scale)
        refs.append(weakref.ref(Scale))
        del Scale
    k_clear_session()
    gc.collect()
    assert all(ref() is None for ref in refs)


def test_history_to_data_frame_is_exported():
    assert callable(as_data_frame) and "as_data_frame" in kerasr.__all__
    assert "reset_states" in kerasr.__all__
