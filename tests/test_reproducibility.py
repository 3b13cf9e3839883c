"""The reproducibility promise (docs/reproducibility.md): after `set_random_seed(s)`, the same
code on the same machine with the same thread count gives bit-identical weights, losses and
history, with dropout, noise, shuffling, augmentation, every optimizer and the parallel
kernels; in this process or another."""

import hashlib
import json
import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest

from kerasr import (compile, fit, flow_images_from_data, image_data_generator,
                    keras_model_sequential, layer_batch_normalization, layer_conv_2d,
                    layer_dense, layer_dropout, layer_embedding, layer_flatten,
                    layer_gaussian_noise, layer_gru, layer_lstm, layer_max_pooling_2d,
                    set_random_seed)
from kerasr import optimizers
from kerasr.kernels import _jit

OPTIMIZERS = sorted(name for name in dir(optimizers) if name.startswith("optimizer_"))


def fingerprint(model, history):
    """Every weight byte and every logged value, exactly."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    for key in sorted(history.history):
        digest.update(key.encode())
        digest.update(np.asarray(history.history[key], dtype=np.float64).tobytes())
    return digest.hexdigest()


def dense_run(seed, optimizer="optimizer_rmsprop", samples=120, epochs=3):
    set_random_seed(seed)
    data = np.random.default_rng(100)
    x = data.standard_normal((samples, 10)).astype(np.float32)
    y = data.integers(0, 4, samples)
    model = keras_model_sequential(input_shape=10) | \
        layer_dense(units=16, activation="relu") | layer_gaussian_noise(stddev=0.2) | \
        layer_dropout(rate=0.4) | layer_batch_normalization() | \
        layer_dense(units=4, activation="softmax")
    model | compile(optimizer=getattr(optimizers, optimizer)(), loss="sparse_categorical_crossentropy",
                    metrics="accuracy")
    history = model | fit(x, y, epochs=epochs, batch_size=16, validation_split=0.25, verbose=0)
    return model, history


def conv_run(seed):
    """A convnet fed by an augmenting image generator."""
    set_random_seed(seed)
    data = np.random.default_rng(101)
    x = data.random((40, 10, 10, 1)).astype(np.float32)
    y = data.integers(0, 3, 40)
    model = keras_model_sequential(input_shape=(10, 10, 1)) | \
        layer_conv_2d(filters=4, kernel_size=3, activation="relu") | layer_batch_normalization() | \
        layer_max_pooling_2d(pool_size=2) | layer_flatten() | layer_dropout(rate=0.3) | \
        layer_dense(units=3, activation="softmax")
    model | compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics="accuracy")
    augment = image_data_generator(rotation_range=15, width_shift_range=0.1, zoom_range=0.1,
                                   horizontal_flip=True)
    history = model | fit(flow_images_from_data(x, y, generator=augment, batch_size=8),
                          steps_per_epoch=4, epochs=2, verbose=0)
    return model, history


def recurrent_run(seed):
    set_random_seed(seed)
    data = np.random.default_rng(102)
    x = data.integers(1, 40, (32, 6))
    y = data.integers(0, 2, 32).astype(np.float32)
    model = keras_model_sequential() | layer_embedding(input_dim=40, output_dim=5) | \
        layer_lstm(units=4, return_sequences=True, dropout=0.2, recurrent_dropout=0.2) | \
        layer_gru(units=3, dropout=0.1) | layer_dense(units=1, activation="sigmoid")
    model | compile(optimizer="nadam" if "optimizer_nadam" in OPTIMIZERS else "adam",
                    loss="binary_crossentropy", metrics="accuracy")
    history = model | fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0)
    return model, history


def assert_identical(first, second):
    (model_a, history_a), (model_b, history_b) = first, second
    for a, b in zip(model_a.get_weights(), model_b.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert history_a.history == history_b.history  # exact float equality, every epoch
    assert fingerprint(*first) == fingerprint(*second)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_same_seed_same_bits_with_every_optimizer(optimizer):
    assert_identical(dense_run(3, optimizer), dense_run(3, optimizer))


@pytest.mark.parametrize("run", [conv_run, recurrent_run], ids=["conv-augmented", "recurrent"])
def test_same_seed_same_bits_for_convnets_and_recurrent_networks(run):
    assert_identical(run(4), run(4))


def test_another_seed_gives_other_weights():
    model_a, _ = dense_run(5)
    model_b, _ = dense_run(6)
    assert not np.array_equal(model_a.get_weights()[0], model_b.get_weights()[0])


def test_reseeding_mid_session_restarts_the_sequence():
    """Whatever ran before (here a different fit) does not leak into a reseeded run."""
    first = dense_run(7)
    conv_run(8)
    np.random.default_rng().random(5)  # numpy's own global generators are not kerasr's
    assert_identical(first, dense_run(7))


@pytest.mark.skipif(numba.get_num_threads() < 2, reason="the parallel kernels need 2 threads")
def test_parallel_kernels_are_deterministic_for_a_thread_count(monkeypatch):
    """Forces every kernel's prange variant (normally only for >= 2^24 elements; on tiny
    arrays the parallel pool is slow, hence the small run)."""
    monkeypatch.setattr(_jit, "PARALLEL_MIN_ELEMENTS", 0)
    assert_identical(dense_run(9, "optimizer_adam", samples=48, epochs=2),
                     dense_run(9, "optimizer_adam", samples=48, epochs=2))


SCRIPT = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {tests!r})
    import test_reproducibility as t
    print(json.dumps([t.fingerprint(*t.dense_run(11)), t.fingerprint(*t.conv_run(11))]))
""")


def test_a_fresh_process_gives_the_same_bits():
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(here)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    env["NUMBA_NUM_THREADS"] = str(numba.get_num_threads())  # the same thread count
    result = subprocess.run([sys.executable, "-c", SCRIPT.format(tests=here)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    in_child = json.loads(result.stdout.strip().splitlines()[-1])
    assert in_child == [fingerprint(*dense_run(11)), fingerprint(*conv_run(11))]
