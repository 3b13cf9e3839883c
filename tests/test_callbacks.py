"""Callbacks (issue 7): early stopping, checkpoints, learning-rate callbacks, CSV logging,
NaN termination, lambda hooks, custom classes, backup-and-restore across a killed process, and
the minimal saving functions checkpoints use."""

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import kerasr
from kerasr import (callback_backup_and_restore, callback_csv_logger, callback_early_stopping,
                    callback_lambda, callback_learning_rate_scheduler, callback_model_checkpoint,
                    callback_progbar_logger, callback_reduce_lr_on_plateau,
                    callback_terminate_on_nan, keras_model_sequential, layer_dense, layer_dropout,
                    load_model, load_model_weights, new_callback_class, optimizer_adam,
                    optimizer_sgd, save_model, save_model_weights, set_random_seed)
from kerasr.callbacks import Callback
from kerasr.saving import atomic_write
from kerasr.saving._npz import read_npz

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], dtype="float32"))[:, None]
    return x, y


def _model(optimizer=None, dropout=False, seed=1):
    set_random_seed(seed)
    model = keras_model_sequential(input_shape=(4,)) | layer_dense(8, activation="relu")
    if dropout:
        model = model | layer_dropout(0.25)
    model = model | layer_dense(1)
    model.compile(optimizer=optimizer or optimizer_sgd(0.01), loss="mse", metrics=["mae"])
    return model


class Scripted(Callback):
    """Overwrites logs[key] with scripted values (so monitors see a known sequence) and records
    the weights at each epoch end. Put it before the callbacks under test."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, list(values)
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append(self.model.get_weights())


def _same(weights_a, weights_b):
    return len(weights_a) == len(weights_b) and all(
        np.array_equal(a, b) for a, b in zip(weights_a, weights_b))


# ---- early stopping ---------------------------------------------------------------------------
def test_early_stopping_stops_at_the_right_epoch_and_restores_best_weights(capsys):
    x, y = _data()
    model = _model()
    # best at epoch index 1; no improvement at 2 and 3: patience 2 stops after epoch index 3.
    script = Scripted("val_loss", [1.0, 0.8, 0.9, 0.85, 0.5, 0.4, 0.3, 0.2])
    stop = callback_early_stopping(monitor="val_loss", patience=2, restore_best_weights=True,
                                   verbose=1)
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0, callbacks=[script, stop])
    assert history.epoch == [0, 1, 2, 3]
    assert stop.stopped_epoch == 3 and stop.best_epoch == 1 and stop.best == 0.8
    assert _same(model.get_weights(), script.weights[1])
    assert not _same(model.get_weights(), script.weights[3])
    out = capsys.readouterr().out
    assert "Epoch 4: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out


def test_early_stopping_min_delta_baseline_mode_and_start_from_epoch():
    x, y = _data()

    def run(values, **kwargs):
        model = _model()
        stop = callback_early_stopping(**kwargs)
        history = model.fit(x, y, epochs=len(values), batch_size=32, verbose=0,
                            callbacks=[Scripted(kwargs.get("monitor", "val_loss"), values), stop])
        return len(history.epoch)

    # 0.95 is not 0.1 better than 1.0: no improvement, patience 1 stops at epoch index 1.
    assert run([1.0, 0.95, 0.5, 0.4], min_delta=0.1, patience=1) == 2
    assert run([1.0, 0.85, 0.7, 0.55], min_delta=0.1, patience=1) == 4
    # accuracy is maximised in auto mode
    assert run([0.5, 0.6, 0.7, 0.8], monitor="val_accuracy", patience=0) == 4
    assert run([0.5, 0.4, 0.7, 0.8], monitor="val_accuracy", patience=0) == 2
    assert run([0.5, 0.4, 0.3, 0.2], monitor="val_accuracy", mode="min", patience=0) == 4
    assert run([1.0, 0.5, 0.7, 0.1], monitor="val_mae", patience=0) == 3  # errors: minimised
    # epochs that do not beat the baseline keep counting towards patience (Keras's rule:
    # the count restarts only when the value beats both the best and the baseline)
    assert run([1.0, 0.9, 0.95, 0.97, 0.99], patience=2) == 4
    assert run([1.0, 0.9, 0.95, 0.97, 0.99], baseline=0.1, patience=2) == 3
    # the first epochs do not count
    assert run([1.0, 2.0, 3.0, 4.0, 5.0], patience=0, start_from_epoch=3) == 5


def test_monitoring_a_metric_that_is_not_logged_warns_with_the_available_ones():
    x, y = _data()
    model = _model()
    with pytest.warns(UserWarning, match=r"val_loss.*not available\. Available metrics are: "
                                         r"loss,mae"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callback_early_stopping()])
    with pytest.warns(UserWarning, match=r"Learning rate reduction.*val_acc.*Available metrics "
                                         r"are: loss,mae"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[callback_reduce_lr_on_plateau(monitor="val_acc")])


def test_early_stopping_unknown_direction_asks_for_a_mode():
    x, y = _data()
    model = _model()
    with pytest.raises(ValueError, match="mode='max'"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[Scripted("val_wobble", [1.0]),
                             callback_early_stopping(monitor="val_wobble")])


# ---- checkpoints --------------------------------------------------------------------------------
def test_checkpoint_files_have_templated_names_and_load_back(tmp_path):
    x, y = _data()
    model = _model(optimizer_adam(0.01))
    template = str(tmp_path / "weights.{epoch:02d}-{val_loss:.2f}.keras")
    recorder = Scripted("unused", [0] * 3)
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[callback_model_checkpoint(template), recorder])
    expected = [f"weights.{e + 1:02d}-{v:.2f}.keras" for e, v in
                zip(history.epoch, history.history["val_loss"])]
    assert sorted(os.listdir(tmp_path)) == sorted(expected)  # and no temporary files left
    for epoch, name in enumerate(expected):
        loaded = load_model(str(tmp_path / name))
        assert _same(loaded.get_weights(), recorder.weights[epoch])
        assert type(loaded.optimizer).__name__ == "Adam"
        assert loaded.optimizer.iterations == 3 * (epoch + 1)  # 48 samples / 16 per batch


def test_checkpoint_weights_only_best_only(tmp_path):
    x, y = _data()
    model = _model()
    script = Scripted("val_loss", [1.0, 0.7, 0.9, 0.6])
    template = str(tmp_path / "best.{epoch:02d}.weights.npz")
    model.fit(x, y, epochs=4, verbose=0,
              callbacks=[script, callback_model_checkpoint(template, save_best_only=True,
                                                           save_weights_only=True)])
    assert sorted(os.listdir(tmp_path)) == ["best.01.weights.npz", "best.02.weights.npz",
                                            "best.04.weights.npz"]
    fresh = _model(seed=7)
    load_model_weights(fresh, str(tmp_path / "best.02.weights.npz"))
    assert _same(fresh.get_weights(), script.weights[1])


def test_checkpoint_save_freq_in_batches(tmp_path):
    x, y = _data()
    model = _model()
    template = str(tmp_path / "w-{epoch}-{batch}.weights.npz")
    # 64 samples, batch 16: 4 batches per epoch; every 3 batches over 2 epochs -> 2 saves
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,
              callbacks=[callback_model_checkpoint(template, save_weights_only=True,
                                                   save_freq=3)])
    assert sorted(os.listdir(tmp_path)) == ["w-1-3.weights.npz", "w-2-2.weights.npz"]


def test_checkpoint_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="HDF5"):
        callback_model_checkpoint(str(tmp_path / "model.h5"))
    with pytest.raises(ValueError, match="must end in '.keras'"):
        callback_model_checkpoint(str(tmp_path / "model.npz"))
    with pytest.raises(ValueError, match="save_freq"):
        callback_model_checkpoint(str(tmp_path / "m.keras"), save_freq="batch")
    x, y = _data()
    model = _model()
    with pytest.raises(ValueError, match="Failed to format this callback filepath"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[callback_model_checkpoint(str(tmp_path / "{val_acc}.keras"))])


# ---- learning rate -----------------------------------------------------------------------------
def test_reduce_lr_on_plateau_changes_the_learning_rate():
    x, y = _data()
    model = _model(optimizer_sgd(0.1))
    script = Scripted("val_loss", [1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    reduce = callback_reduce_lr_on_plateau(factor=0.5, patience=1, cooldown=2, min_lr=0.02)
    history = model.fit(x, y, epochs=6, verbose=0, callbacks=[script, reduce])
    # logs show the rate each epoch ran with; reductions after epochs 1, 3 and 5 (Keras counts
    # the cooldown down before checking it, so cooldown=2 skips one epoch), the last one
    # clamped at min_lr
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert model.optimizer.learning_rate == pytest.approx(0.02)
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callback_reduce_lr_on_plateau(factor=1.5)


def test_learning_rate_scheduler_uses_function_of_epoch_and_lr():
    x, y = _data()
    model = _model(optimizer_sgd(0.1))
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return lr if epoch == 0 else lr * 0.5

    history = model.fit(x, y, epochs=3, verbose=0,
                        callbacks=[callback_learning_rate_scheduler(schedule)])
    assert [e for e, _ in seen] == [0, 1, 2]
    assert [lr for _, lr in seen] == pytest.approx([0.1, 0.1, 0.05])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])

    # the rate really drives the updates: lr 0 leaves the weights alone
    before = model.get_weights()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callback_learning_rate_scheduler(lambda e: 0.0)])
    assert _same(before, model.get_weights())
    with pytest.raises(ValueError, match="should be a float"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[callback_learning_rate_scheduler(lambda e, lr: "fast")])


# ---- CSV logger --------------------------------------------------------------------------------
def test_csv_logger_contents_and_append(tmp_path):
    x, y = _data()
    model = _model()
    path = str(tmp_path / "logs" / "training.csv")
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[callback_csv_logger(path, separator=";")])
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [int(r[0]) for r in rows[1:]] == [0, 1, 2]
    for column, name in enumerate(rows[0][1:], start=1):
        assert [float(r[column]) for r in rows[1:]] == history.history[name]

    model.fit(x, y, epochs=2, validation_split=0.25, verbose=0,
              callbacks=[callback_csv_logger(path, separator=";", append=True)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert len(rows) == 1 + 3 + 2 and rows.count(rows[0]) == 1
    assert [int(r[0]) for r in rows[1:]] == [0, 1, 2, 0, 1]


# ---- terminate on NaN ---------------------------------------------------------------------------
def test_terminate_on_nan_stops_at_the_first_bad_batch(capsys):
    x, y = _data()
    x = x * 1e6
    model = _model(optimizer_sgd(1e6))
    batches = []
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0,
                        callbacks=[callback_terminate_on_nan(),
                                   callback_lambda(on_batch_end=lambda b, logs: batches.append(
                                       logs["loss"]))])
    assert len(history.epoch) == 1
    assert not np.isfinite(batches[-1]) and all(np.isfinite(batches[:-1]))
    assert len(batches) < 8
    assert f"Batch {len(batches) - 1}: Invalid loss, terminating training" in capsys.readouterr().out


# ---- lambda, custom classes, progbar ---------------------------------------------------------------
def test_lambda_hooks_are_called_in_order():
    x, y = _data(n=32)
    model = _model()
    events = []
    cb = callback_lambda(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: events.append(f"epoch_begin {epoch}"),
        on_batch_begin=lambda batch, logs: events.append(f"batch_begin {batch}"),
        on_batch_end=lambda batch, logs: events.append(f"batch_end {batch} {sorted(logs)}"),
        on_epoch_end=lambda epoch: events.append(f"epoch_end {epoch}"),  # R's function(epoch)
        on_train_end=lambda logs: events.append("train_end"))
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[cb])
    epoch = lambda e: [f"epoch_begin {e}", "batch_begin 0", "batch_end 0 ['loss', 'mae']",
                       "batch_begin 1", "batch_end 1 ['loss', 'mae']", f"epoch_end {e}"]
    assert events == ["train_begin"] + epoch(0) + epoch(1) + ["train_end"]
    with pytest.raises(ValueError, match="unknown hook"):
        callback_lambda(on_epoch_ends=print)


def test_new_callback_class_has_model_params_and_can_stop_training():
    x, y = _data()

    def initialize(self, stop_after):
        self.stop_after = stop_after
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append((epoch, self.params["epochs"], sorted(logs), self.private.label()))
        if epoch + 1 >= self.stop_after:
            self.model.stop_training = True

    StopAfter = new_callback_class("StopAfter", on_epoch_end=on_epoch_end,
                                   initialize=initialize,
                                   private={"label": lambda self: f"after {self.stop_after}"})
    assert issubclass(StopAfter, Callback) and StopAfter.__name__ == "StopAfter"
    model = _model()
    cb = StopAfter(2)
    history = model.fit(x, y, epochs=10, verbose=0, callbacks=[cb])
    assert history.epoch == [0, 1]
    assert cb.model is model
    assert cb.seen == [(0, 10, ["loss", "mae"], "after 2"), (1, 10, ["loss", "mae"], "after 2")]
    with pytest.raises(ValueError, match="unknown hook"):
        new_callback_class("Bad", on_epoch_finish=lambda self, epoch, logs: None)


def test_a_progbar_logger_passed_by_the_user_is_the_only_one(capsys):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, verbose=2, callbacks=[callback_progbar_logger()])
    out = capsys.readouterr().out
    assert out.count("Epoch 1/2") == 1 and out.count("Epoch 2/2") == 1
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callback_progbar_logger()])
    assert capsys.readouterr().out == ""


# ---- backup and restore ---------------------------------------------------------------------------
class Interrupt(Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise RuntimeError("interrupted")


def _backup_run(backup_dir, interrupt=None, draw_before_fit=False):
    x, y = _data()
    model = _model(optimizer_adam(0.01), dropout=True, seed=42)
    if draw_before_fit:  # a resumed process may draw differently before fit: must not matter
        kerasr.random.uniform((5,))
    callbacks = [callback_backup_and_restore(backup_dir)] + ([interrupt] if interrupt else [])
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0, callbacks=callbacks)
    return model, history


def test_backup_and_restore_resumes_an_interrupted_fit_in_process(tmp_path):
    backup = str(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="interrupted"):
        _backup_run(backup, Interrupt(epoch=2, batch=1))
    assert os.listdir(backup) == ["training_state.npz"]
    resumed, history = _backup_run(backup, draw_before_fit=True)
    assert history.epoch == [2, 3, 4]
    assert not os.path.exists(backup)  # deleted once the fit completed
    plain, _ = _backup_run(str(tmp_path / "other"))
    assert _same(resumed.get_weights(), plain.get_weights())
    assert resumed.optimizer.iterations == plain.optimizer.iterations == 20


_KILL_SCRIPT = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    sys.path.insert(0, {repo!r})
    import kerasr
    from kerasr import *
    from kerasr.callbacks import Callback

    backup_dir, out, mode = sys.argv[1:4]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6)).astype("float32")
    y = (np.sin(x @ rng.normal(size=(6, 1))) > 0).astype("float32")
    set_random_seed(123)
    model = (keras_model_sequential(input_shape=(6,)) | layer_dense(16, activation="relu")
             | layer_dropout(0.3) | layer_dense(1, activation="sigmoid"))
    model.compile(optimizer=optimizer_adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    if mode == "resume":
        kerasr.random.uniform((11,))  # different draws before fit: the restore resets them

    class Hang(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_end(self, batch, logs=None):
            if mode == "kill" and self.epoch == 3 and batch == 2:
                open(out + ".ready", "w").close()
                time.sleep(120)  # the test kills us here, mid-epoch

    history = model.fit(x, y, epochs=6, batch_size=16, verbose=0, validation_split=0.25,
                        callbacks=[callback_backup_and_restore(backup_dir), Hang()])
    np.savez(out, *model.get_weights(), epochs=np.array(history.epoch),
             iterations=np.array(model.optimizer.iterations))
""")


def test_backup_and_restore_resumes_a_killed_process_with_identical_weights(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(_KILL_SCRIPT.format(repo=REPO))
    env = dict(os.environ, PYTHONHASHSEED="0")
    backup, out = str(tmp_path / "backup"), str(tmp_path / "resumed.npz")

    child = subprocess.Popen([sys.executable, str(script), backup, out, "kill"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while not os.path.exists(out + ".ready"):
        if child.poll() is not None:
            pytest.fail("the training process ended early: "
                        + child.stderr.read().decode(errors="replace")[-2000:])
        if time.time() > deadline:
            child.kill()
            pytest.fail("the training process never reached epoch 4")
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert not os.path.exists(out)
    assert sorted(os.listdir(backup)) == ["training_state.npz"]  # no temporary file left
    header, _ = read_npz(os.path.join(backup, "training_state.npz"), "backup",
                         "kerasr.training_state")
    assert header["epoch"] == 3  # epochs 0-2 done; the kill came during epoch 3

    def run(*args):
        done = subprocess.run([sys.executable, str(script), *args], env=env,
                              capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]

    run(backup, out, "resume")
    plain_out = str(tmp_path / "plain.npz")
    run(str(tmp_path / "plain_backup"), plain_out, "plain")
    with np.load(out) as resumed, np.load(plain_out) as plain:
        assert resumed["epochs"].tolist() == [3, 4, 5]
        assert plain["epochs"].tolist() == [0, 1, 2, 3, 4, 5]
        assert int(resumed["iterations"]) == int(plain["iterations"]) == 6 * 5
        names = [k for k in plain.files if k.startswith("arr_")]
        assert names and all(np.array_equal(resumed[k], plain[k]) for k in names)
    assert not os.path.exists(backup)


def test_backup_and_restore_arguments_and_mismatch(tmp_path):
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        callback_backup_and_restore("")
    with pytest.raises(ValueError, match="save_freq"):
        callback_backup_and_restore(str(tmp_path), save_freq=0)
    backup = str(tmp_path / "b")
    with pytest.raises(RuntimeError):
        _backup_run(backup, Interrupt(epoch=1, batch=0))
    x, y = _data()
    set_random_seed(0)
    other = keras_model_sequential(input_shape=(4,)) | layer_dense(3) | layer_dense(1)
    other.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="different architecture|shape"):
        other.fit(x, y, epochs=2, verbose=0, callbacks=[callback_backup_and_restore(backup)])


# ---- the minimal saving functions ---------------------------------------------------------------
def test_save_model_round_trip_resumes_training_exactly(tmp_path):
    x, y = _data()
    model = _model(optimizer_adam(0.01))
    model.fit(x, y, epochs=2, verbose=0, shuffle=False)
    path = str(tmp_path / "model.keras")
    save_model(model, path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    model.fit(x, y, epochs=2, verbose=0, shuffle=False)
    loaded.fit(x, y, epochs=2, verbose=0, shuffle=False)
    assert _same(model.get_weights(), loaded.get_weights())
    with pytest.raises(FileExistsError):
        save_model(model, path, overwrite=False)


def test_weights_files_refuse_pickles_and_mismatches(tmp_path):
    model = _model()
    bad = str(tmp_path / "bad.weights.npz")
    np.savez(bad, __kerasr_header__=np.frombuffer(b'{"format": "kerasr.weights"}', np.uint8),
             weight_00000=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a readable kerasr file"):
        load_model_weights(model, bad)
    np.savez(bad, a=np.zeros(3))
    with pytest.raises(ValueError, match="no header"):
        load_model_weights(model, bad)
    good = str(tmp_path / "good.weights.npz")
    save_model_weights(model, good)
    small = keras_model_sequential(input_shape=(4,)) | layer_dense(1)
    with pytest.raises(ValueError, match="different architecture"):
        load_model_weights(small, good)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = str(tmp_path / "file.bin")
    with atomic_write(path) as f:
        f.write(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(path) as f:
            f.write(b"new, half written")
            raise RuntimeError("crash")
    with open(path, "rb") as f:
        assert f.read() == b"old"
    assert os.listdir(tmp_path) == ["file.bin"]


def test_csv_logger_values_of_arrays_are_quoted_lists():
    from kerasr.callbacks import CSVLogger
    out = CSVLogger._value(np.array([1.5, 2.0]))
    assert out == '"[1.5, 2.0]"'
