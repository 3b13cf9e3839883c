"""Callbacks: hooks into training (Keras 3's `keras.callbacks`, R keras's `callback_*()`).

`History` records every fit; `ProgbarLogger` prints progress; `EarlyStopping`,
`ModelCheckpoint`, `ReduceLROnPlateau`, `LearningRateScheduler`, `CSVLogger`,
`TerminateOnNaN`, `LambdaCallback` and `BackupAndRestore` are Keras's, with Keras's arguments
and defaults; `new_callback_class()` makes a custom class as R keras does.
"""

import csv
import inspect
import math
import numbers
import os
import sys
import time
import types
import warnings

import numpy as np


class Callback:
    """Base class (R keras's `KerasCallback`): override the `on_*` hooks you need.

    `self.model` is the model being trained, `self.params` the fit's settings; set
    `self.model.stop_training = True` to stop after the current epoch.
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    # Keras 2 / R keras names for the training batch hooks.
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass


class CallbackList:
    """Calls each hook on every callback, in order."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)

    def call(self, hook, *args):
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def train_batch_begin(self, batch, logs):
        for callback in self.callbacks:
            callback.on_train_batch_begin(batch, logs)
            callback.on_batch_begin(batch, logs)

    def train_batch_end(self, batch, logs):
        for callback in self.callbacks:
            callback.on_train_batch_end(batch, logs)
            callback.on_batch_end(batch, logs)


class MetricsDict(dict):
    """A dict of per-epoch values that also answers R-style names: `metrics.val_acc`, and
    `acc`/`accuracy` for each other (the book writes `history$metrics$acc`)."""

    _ALIASES = {"acc": "accuracy", "accuracy": "acc"}

    def __missing__(self, key):
        prefix = "val_" if key.startswith("val_") else ""
        alias = self._ALIASES.get(key[len(prefix):])
        if alias is not None and prefix + alias in self:
            return self[prefix + alias]
        raise KeyError(key)

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"No metric {key!r}; recorded: {', '.join(self)}.") from None


class History(Callback):
    """What `fit` returns: `history` (per-epoch values by metric), `params`, `epoch`.

    `epochs_of[key]` lists the (0-based) epochs at which `key` was logged: validation metrics
    miss the epochs `validation_freq` skips. `print(history)` is R keras's summary of the
    final epoch; `plot(history)` and `as_data_frame(history)` show all of them.
    """

    def __init__(self):
        super().__init__()
        self.history = MetricsDict()
        self.epoch = []
        self.epochs_of = {}

    @property
    def metrics(self):
        return self.history

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = MetricsDict()
        self.epochs_of = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
            self.epochs_of.setdefault(key, []).append(epoch)

    def __repr__(self):
        if not self.epoch:
            return "<History: no epochs>"
        params = self.params or {}
        settings = ", ".join(f"{k}={params[k]}" for k in ("batch_size", "epochs")
                             if params.get(k) is not None)
        if params.get("samples") is not None:
            lines = [f"Trained on {params['samples']:,} samples"
                     + (f", validated on {params['validation_samples']:,} samples"
                        if params.get("validation_samples") is not None else "")
                     + (f" ({settings})" if settings else "")]
        else:
            lines = [f"Trained on {params.get('steps', '?')} batches per epoch"
                     + (f" ({settings})" if settings else "")]
        keys = list(self.history)
        width = max(len(k) for k in keys)
        lines.append("Final epoch (plot to see history):")
        lines += [f"{k:>{width}}: {self._r_number(self.history[k][-1])}" for k in keys]
        return "\n".join(lines)

    __str__ = __repr__

    @staticmethod
    def _r_number(value):
        """R's prettyNum(value, big.mark=",", digits=4, scientific=FALSE): 4 significant
        digits, trailing zeros dropped, integer digits always shown."""
        if getattr(value, "ndim", 0) > 0:  # a metric with several thresholds
            return " ".join(History._r_number(v) for v in value.ravel())
        value = float(value)
        if not math.isfinite(value):
            return "NaN" if math.isnan(value) else ("Inf" if value > 0 else "-Inf")
        if value == 0:
            return "0"
        digits = 4 - 1 - math.floor(math.log10(abs(value)))
        text = f"{round(value, max(digits, 0)):,.{max(digits, 0)}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text


class ProgbarLogger(Callback):
    """Keras's progress line: live in a terminal, one line per epoch otherwise.

    verbose=1: `469/469 ━━━━━━━━━━━━━━━━━━━━ 2s 4ms/step - accuracy: 0.9123 - loss: 0.2981`;
    verbose=2: `469/469 - 2s - 4ms/step - accuracy: 0.9123 - loss: 0.2981`, once per epoch.
    """

    BAR_WIDTH = 20

    def __init__(self, verbose=1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream

    def set_params(self, params):
        # As Keras: fit's `verbose` decides (a callback_progbar_logger() passed to a fit with
        # verbose=0 stays silent).
        super().set_params(params)
        verbose = params.get("verbose", self.verbose)
        self.verbose = 1 if verbose == "auto" else int(verbose)

    def _out(self):
        return self.stream or sys.stdout

    def _live(self):
        stream = self._out()
        return self.verbose == 1 and hasattr(stream, "isatty") and stream.isatty()

    def on_train_begin(self, logs=None):
        self.epochs = self.params.get("epochs", 1)
        self.steps = self.params.get("steps")

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._last_draw = 0.0
        if not self.verbose:
            return
        print(f"Epoch {epoch + 1}/{self.epochs}", file=self._out(), flush=True)

    def on_train_batch_end(self, batch, logs=None):
        if not self._live():
            return
        now = time.perf_counter()
        if now - self._last_draw < 0.05 and batch + 1 < (self.steps or 0):
            return
        self._last_draw = now
        self._out().write("\r" + self._line(batch + 1, logs, final=False))
        self._out().flush()

    def on_epoch_end(self, epoch, logs=None):
        if not self.verbose:
            return
        line = self._line(self.steps or 0, logs, final=True)
        self._out().write(("\r" if self._live() else "") + line + "\n")
        self._out().flush()

    def _line(self, step, logs, final):
        elapsed = time.perf_counter() - self._start
        total = self.steps or step
        filled = int(self.BAR_WIDTH * step / total) if total else self.BAR_WIDTH
        bar = "━" * filled + " " * (self.BAR_WIDTH - filled)
        per_step = elapsed / max(step, 1)
        if final:
            timing = f"{round(elapsed)}s {_format_duration(per_step)}/step"
        else:
            timing = f"{round(per_step * (total - step))}s {_format_duration(per_step)}/step"
        width = len(str(total))
        if self.verbose == 2:
            parts = [f"{step}/{total}", f"{round(elapsed)}s", f"{_format_duration(per_step)}/step"]
        else:
            parts = [f"{step:>{width}}/{total} {bar} {timing}"]
        parts += [f"{k}: {_format_number(v)}" for k, v in _ordered(logs)]
        return " - ".join(parts)


def _ordered(logs):
    logs = logs or {}
    train = sorted((k, v) for k, v in logs.items() if not k.startswith("val_"))
    val = sorted((k, v) for k, v in logs.items() if k.startswith("val_"))
    return train + val


def _format_number(value):
    if hasattr(value, "ndim") and value.ndim > 0:
        return "[" + " ".join(_format_number(float(v)) for v in value.ravel()) + "]"
    if isinstance(value, float) and (value == 0 or 1e-3 <= abs(value) < 1e5 or math.isnan(value)):
        return f"{value:.4f}"
    if isinstance(value, float):
        return f"{value:.4e}"
    return str(value)


def _format_duration(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms"
    return f"{seconds * 1e6:.0f}us"


# ---- helpers shared by the monitoring callbacks ---------------------------------------------
def _warn_unavailable(what, monitor, logs):
    """Keras's warning for a monitored quantity missing from the logs, naming those there are."""
    available = ",".join(logs or {}) or "(none)"
    warnings.warn(f"{what} conditioned on metric `{monitor}` which is not available. "
                  f"Available metrics are: {available}", UserWarning, stacklevel=3)


# Metric names whose larger values are better (Keras 3 reads each metric's direction; kerasr's
# metrics are known by name). Anything else found here is minimised.
_UP = ("acc", "accuracy", "auc", "precision", "recall", "true_positives", "true_negatives",
       "iou", "f1_score", "fbeta_score", "r2_score", "cosine_similarity",
       "sensitivity_at_specificity", "specificity_at_sensitivity")
_DOWN = ("loss", "error", "crossentropy", "hinge", "false_positives", "false_negatives",
         "poisson", "kl_divergence", "logcosh", "log_cosh")
_DOWN_WORDS = ("mae", "mse", "rmse", "mape", "msle")


def _metric_direction(monitor, model):
    """'up', 'down' or None for a monitored name such as `val_accuracy`."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    for metric in getattr(model, "_all_metrics", lambda: [])():
        direction = getattr(metric, "_direction", None)
        if metric.name == name and direction in ("up", "down"):
            return direction
    if name == "loss" or name.endswith("_loss"):
        return "down"
    words = name.split("_")
    if any(name == u or name.endswith("_" + u) or u in words for u in _UP):
        return "up"
    if any(d in name for d in _DOWN) or any(d in words for d in _DOWN_WORDS):
        return "down"
    return None


def _check_mode(mode, who):
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{who} mode {mode} is unknown, fallback to auto mode.", UserWarning,
                      stacklevel=3)
        return "auto"
    return mode


def _optimizer_of(model, who):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(f"{who} needs a compiled model whose optimizer has a learning_rate.")
    return optimizer


def _set_learning_rate(model, value, who):
    optimizer = _optimizer_of(model, who)
    if callable(getattr(optimizer, "_learning_rate", None)):
        raise TypeError(f"{who}: this optimizer was created with a learning rate schedule as its "
                        "learning_rate, hence its learning rate is not settable. Create the "
                        "optimizer with a number as learning_rate to change it from a callback.")
    optimizer.learning_rate = value


def _number(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    return float(value)


def _non_negative_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != int(value) \
            or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}.")
    return int(value)


def _save_freq(value, who):
    if value == "epoch":
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{who}: invalid value for argument `save_freq`: expected 'epoch' or a "
                         f"positive integer (a number of batches), received save_freq={value!r}.")
    return int(value)


class _BatchCounter:
    """Counts training batches across epochs for `save_freq=<integer>` (as Keras does)."""

    def __init__(self, every):
        self.every = every
        self.seen = 0
        self.last = -1

    def reset(self):
        self.seen, self.last = 0, -1

    def due(self, batch):
        self.seen += batch + 1 if batch <= self.last else batch - self.last
        self.last = batch
        if self.seen >= self.every:
            self.seen = 0
            return True
        return False


# ---- EarlyStopping --------------------------------------------------------------------------
class EarlyStopping(Callback):
    """Stops training when the monitored quantity has stopped improving (Keras's semantics).

    An epoch improves when the value beats the best so far by more than `min_delta`; after
    `patience` epochs without improvement (not counting the first `start_from_epoch` epochs)
    `model.stop_training` is set. With `restore_best_weights=True` the weights of the best
    epoch are put back when training ends. `baseline`: training stops unless the value beats it.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(_number(min_delta, "min_delta"))
        self.patience = _non_negative_int(patience, "patience")
        self.verbose = verbose
        self.baseline = None if baseline is None else _number(baseline, "baseline")
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = _non_negative_int(start_from_epoch, "start_from_epoch")
        self.mode = _check_mode(mode, "EarlyStopping")
        self.monitor_op = None
        self.best = None
        self.best_weights = None
        self.best_epoch = 0
        self.wait = 0
        self.stopped_epoch = 0

    def _set_monitor_op(self):
        if self.mode == "min":
            up = False
        elif self.mode == "max":
            up = True
        else:
            direction = _metric_direction(self.monitor, self.model)
            if direction is None:
                raise ValueError(
                    f"EarlyStopping callback received monitor={self.monitor} but kerasr cannot "
                    "tell whether that metric should be maximized or minimized. Pass "
                    "mode='max' to stop on the highest value, or mode='min' for the lowest.")
            up = direction == "up"
        self.monitor_op = np.greater if up else np.less
        self._delta = self.min_delta if up else -self.min_delta
        self.best = -math.inf if up else math.inf

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0
        self.monitor_op = None

    def _is_improvement(self, value, reference):
        return bool(self.monitor_op(value - self._delta, reference))

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = (logs or {}).get(self.monitor)
        if current is None:
            _warn_unavailable("Early stopping", self.monitor, logs)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


# ---- ModelCheckpoint ------------------------------------------------------------------------
class ModelCheckpoint(Callback):
    """Saves the model (or its weights) during training, to files named by a template such as
    `"weights.{epoch:02d}-{val_loss:.2f}.keras"` (filled from `epoch`, 1-based, `batch` and the
    logs). Every file is written atomically (a temporary file renamed over the target).

    `save_weights_only=False` writes a `.keras` model file (`load_model()` reads it);
    `save_weights_only=True` writes kerasr's weights file (a numpy `.npz`, `load_weights()`
    reads it; name it e.g. `"weights.{epoch:02d}.weights.npz"`). HDF5 names (`.h5`) are refused
    until kerasr writes Keras's HDF5 layout.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        filepath = os.fspath(filepath)
        if str(filepath).lower().endswith((".h5", ".hdf5")):
            raise ValueError(f"ModelCheckpoint: filepath={filepath!r} names an HDF5 file, which "
                             "kerasr cannot write yet; use a '.keras' name (the whole model) "
                             "or, with save_weights_only=True, a '.weights.npz' name.")
        if not save_weights_only and not filepath.endswith(".keras"):
            raise ValueError("ModelCheckpoint: when save_weights_only=False the filepath must "
                             f"end in '.keras' (a whole-model file), received filepath={filepath!r}.")
        self.filepath = filepath
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.save_freq = _save_freq(save_freq, "ModelCheckpoint")
        mode = _check_mode(mode, "ModelCheckpoint")
        if mode == "auto":
            mode = "max" if ("acc" in monitor or monitor.startswith("fmeasure")
                             or _metric_direction(monitor, None) == "up") else "min"
        self.mode = mode
        self.monitor_op = np.greater if mode == "max" else np.less
        if initial_value_threshold is not None:
            self.best = _number(initial_value_threshold, "initial_value_threshold")
        else:
            self.best = -math.inf if mode == "max" else math.inf
        self._counter = _BatchCounter(self.save_freq) if self.save_freq != "epoch" else None
        self._current_epoch = 0

    def on_train_begin(self, logs=None):
        if self._counter is not None:
            self._counter.reset()

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._counter is not None and self._counter.due(batch):
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _file_path(self, epoch, batch, logs):
        values = dict(logs or {})
        values["epoch"] = epoch + 1
        if batch is not None and "batch" not in (logs or {}):
            values["batch"] = batch + 1
        try:
            return self.filepath.format(**values)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f'Failed to format this callback filepath: "{self.filepath}". '
                             f"Reason: {error!r}; the values available are "
                             f"{', '.join(values)}.") from None

    def _save(self, epoch, batch, logs):
        from . import saving
        logs = logs or {}
        filepath = self._file_path(epoch, batch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available. "
                              f"Available metrics are: {','.join(logs) or '(none)'}",
                              UserWarning, stacklevel=2)
                return
            if not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {filepath}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        if self.save_weights_only:
            saving.save_weights(self.model, filepath)
        else:
            saving.save_model(self.model, filepath)


# ---- learning rate --------------------------------------------------------------------------
class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by `factor` after `patience` epochs without improvement of
    the monitored quantity, then waits `cooldown` epochs; never below `min_lr`."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if "epsilon" in kwargs:  # Keras 2's name for min_delta
            min_delta = kwargs.pop("epsilon")
            warnings.warn("ReduceLROnPlateau: `epsilon` is deprecated, use `min_delta`.",
                          UserWarning, stacklevel=2)
        if kwargs:
            raise ValueError(f"ReduceLROnPlateau: argument(s) not recognized: "
                             f"{', '.join(sorted(kwargs))}.")
        self.factor = _number(factor, "factor")
        if self.factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received factor={factor}")
        self.monitor = monitor
        self.patience = _non_negative_int(patience, "patience")
        self.verbose = verbose
        self.min_delta = _number(min_delta, "min_delta")
        self.cooldown = _non_negative_int(cooldown, "cooldown")
        self.min_lr = _number(min_lr, "min_lr")
        self.mode = _check_mode(mode, "Learning rate reduction")
        self._reset()

    def _reset(self):
        mode = self.mode
        if mode == "auto":
            mode = "max" if "acc" in self.monitor else "min"
        if mode == "min":
            self.monitor_op = lambda a, b: bool(np.less(a, b - self.min_delta))
            self.best = math.inf
        else:
            self.monitor_op = lambda a, b: bool(np.greater(a, b + self.min_delta))
            self.best = -math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = _optimizer_of(self.model, "ReduceLROnPlateau")
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            _warn_unavailable("Learning rate reduction", self.monitor, logs)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.learning_rate)
                if old_lr > self.min_lr:
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    _set_learning_rate(self.model, new_lr, "ReduceLROnPlateau")
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch to `schedule(epoch, lr)` (R's
    `function(epoch, lr)`; epoch counts from 0, lr is the current rate). A one-argument
    `schedule(epoch)` works too."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise ValueError(f"schedule must be a function(epoch, lr), got {schedule!r}.")
        self.schedule = schedule
        self.verbose = verbose
        self._two_arguments = _accepts(schedule, 2)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = _optimizer_of(self.model, "LearningRateScheduler")
        lr = float(optimizer.learning_rate)
        lr = self.schedule(epoch, lr) if self._two_arguments else self.schedule(epoch)
        if isinstance(lr, np.ndarray) and lr.size == 1:
            lr = lr.reshape(()).item()
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {lr!r}")
        lr = float(lr)
        _set_learning_rate(self.model, lr, "LearningRateScheduler")
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


def _accepts(fn, count):
    """Whether `fn` can be called with `count` positional arguments."""
    try:
        inspect.signature(fn).bind(*range(count))
        return True
    except TypeError:
        return False
    except ValueError:  # no signature (some builtins): assume Keras's two arguments
        return count == 2


# ---- CSVLogger ------------------------------------------------------------------------------
class CSVLogger(Callback):
    """Writes each epoch's logs as a row of a CSV file: `epoch` (from 0, as Keras) then the
    logged names in alphabetical order. `append=True` continues an existing file (its header
    is kept). Rows are flushed as they are written, so the file is readable during training."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"separator must be a single character, got {separator!r}.")
        self.sep = separator
        self.append = bool(append)
        self.writer = None
        self.keys = None
        self.csv_file = None
        self.append_header = True

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, newline="") as existing:
                    self.append_header = not bool(existing.readline())
            mode = "a"
        else:
            mode = "w"
        folder = os.path.dirname(os.path.abspath(self.filename))
        os.makedirs(folder, exist_ok=True)
        self.csv_file = open(self.filename, mode, newline="")
        self.writer = None
        self.keys = None

    @staticmethod
    def _value(value):
        if isinstance(value, str):
            return value
        array = np.asarray(value)
        if array.ndim > 0:
            return f'"[{", ".join(str(v) for v in array.reshape(-1))}]"'
        return value.item() if isinstance(value, np.generic) else value

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self.model is not None and self.model.stop_training:
            logs = {k: logs.get(k, "NA") for k in self.keys}
        if self.writer is None:
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         delimiter=self.sep, lineterminator="\n")
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, self._value(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None


# ---- TerminateOnNaN, LambdaCallback ----------------------------------------------------------
class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


_HOOKS = ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
          "on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end",
          "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
          "on_predict_begin", "on_predict_end", "on_predict_batch_begin",
          "on_predict_batch_end")


class LambdaCallback(Callback):
    """A callback made of functions: `on_epoch_begin(epoch, logs)`, `on_epoch_end(epoch,
    logs)`, `on_batch_begin(batch, logs)`, `on_batch_end(batch, logs)`, `on_train_begin(logs)`,
    `on_train_end(logs)`, and the other hooks by their names."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        functions = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                         on_train_begin=on_train_begin, on_train_end=on_train_end,
                         on_train_batch_begin=on_train_batch_begin,
                         on_train_batch_end=on_train_batch_end, **kwargs)
        unknown = sorted(set(functions) - set(_HOOKS))
        if unknown:
            raise ValueError(f"LambdaCallback: unknown hook(s) {', '.join(unknown)}; hooks are "
                             f"{', '.join(_HOOKS)}.")
        for hook, fn in functions.items():
            if fn is None:
                continue
            if not callable(fn):
                raise ValueError(f"LambdaCallback: {hook} must be a function, got {fn!r}.")
            setattr(self, hook, _lambda_hook(fn, hook))


_NO_INDEX = ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
             "on_predict_begin", "on_predict_end")


def _lambda_hook(fn, hook):
    # Hooks get (logs) or (index, logs); a function may leave logs out (R's `function(epoch)`).
    full = 1 if hook in _NO_INDEX else 2
    keep = full if _accepts(fn, full) else full - 1

    def call(*args, logs=None):
        if len(args) < full:
            args = args + (logs,)
        return fn(*args[:keep])
    return call


# ---- BackupAndRestore -----------------------------------------------------------------------
class BackupAndRestore(Callback):
    """Backs up the training state each epoch and resumes an interrupted fit where it stopped.

    At the end of every epoch (or every `save_freq` batches) one file,
    `<backup_dir>/training_state.npz`, is written atomically: the model's weights, the
    optimizer's state (iterations, learning rate, slots), the next epoch to run, and the state
    of kerasr's random generator. When a fit starts and that file exists, all of it is
    restored and the fit continues from that epoch. When the fit completes, the backup is
    deleted (`delete_checkpoint=True`).

    Reproducibility across a resume: shuffling, dropout and every other draw come from the one
    generator `set_random_seed()` seeds. The backup stores its state as it is at the end of the
    epoch, which is exactly the state the next epoch starts from, and restoring sets it back,
    so a resumed fit draws the same shuffles and dropout masks as an uninterrupted one and ends
    with bit-identical weights (same machine and thread count). Whatever the new process drew
    before the fit (e.g. initializing the weights) does not matter: the generator is reset.
    With an integer `save_freq` the backup is taken mid-epoch: the resumed fit re-runs that
    epoch from the mid-epoch weights, with the generator as it was when the epoch began (as
    Keras does, the result then differs from an uninterrupted run). Other callbacks' state
    (early stopping's patience count, ...) is not part of the backup, as in Keras.

    `double_checkpoint=True` keeps the previous backup too, and falls back to it if the latest
    cannot be read.
    """

    FILE = "training_state.npz"
    PREVIOUS = "training_state.previous.npz"

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed to BackupAndRestore.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = _save_freq(save_freq, "BackupAndRestore")
        self.double_checkpoint = bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self._counter = _BatchCounter(self.save_freq) if self.save_freq != "epoch" else None
        self._current_epoch = 0
        self._epoch_rng = None

    @property
    def _path(self):
        return os.path.join(self.backup_dir, self.FILE)

    @property
    def _previous_path(self):
        return os.path.join(self.backup_dir, self.PREVIOUS)

    def on_train_begin(self, logs=None):
        from .saving.state import load_training_state
        if self._counter is not None:
            self._counter.reset()
        candidates = [self._path] + ([self._previous_path] if self.double_checkpoint else [])
        for i, path in enumerate(candidates):
            if not os.path.exists(path):
                continue
            try:
                header = load_training_state(self.model, path)
            except ValueError:
                if i + 1 < len(candidates) and os.path.exists(candidates[i + 1]):
                    continue
                raise
            self.model._initial_epoch = header["epoch"]
            return

    def on_epoch_begin(self, epoch, logs=None):
        from . import random
        self._current_epoch = epoch
        if self._counter is not None:
            self._epoch_rng = random.generator().bit_generator.state

    def on_train_batch_end(self, batch, logs=None):
        if self._counter is not None and self._counter.due(batch):
            self._backup(self._current_epoch, self._epoch_rng)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._backup(epoch + 1, None)

    def _backup(self, next_epoch, rng_state):
        from .saving.state import save_training_state
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._path):
            os.replace(self._path, self._previous_path)
        save_training_state(self.model, self._path, next_epoch, rng_state=rng_state)

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint:
            return
        for path in (self._path, self._previous_path):
            if os.path.exists(path):
                os.remove(path)
        try:
            os.rmdir(self.backup_dir)  # only if nothing else lives there
        except OSError:
            pass


# ---- R keras's constructors -----------------------------------------------------------------
def callback_early_stopping(monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                            baseline=None, restore_best_weights=False, start_from_epoch=0):
    """Stop training when a monitored metric has stopped improving."""
    return EarlyStopping(monitor=monitor, min_delta=min_delta, patience=patience,
                         verbose=verbose, mode=mode, baseline=baseline,
                         restore_best_weights=restore_best_weights,
                         start_from_epoch=start_from_epoch)


def callback_model_checkpoint(filepath, monitor="val_loss", verbose=0, save_best_only=False,
                              save_weights_only=False, mode="auto", save_freq="epoch",
                              initial_value_threshold=None):
    """Save the model (or its weights) at some frequency, to templated file names."""
    return ModelCheckpoint(filepath, monitor=monitor, verbose=verbose,
                           save_best_only=save_best_only, save_weights_only=save_weights_only,
                           mode=mode, save_freq=save_freq,
                           initial_value_threshold=initial_value_threshold)


def callback_reduce_lr_on_plateau(monitor="val_loss", factor=0.1, patience=10, verbose=0,
                                  mode="auto", min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
    """Reduce the learning rate when a metric has stopped improving."""
    return ReduceLROnPlateau(monitor=monitor, factor=factor, patience=patience, verbose=verbose,
                             mode=mode, min_delta=min_delta, cooldown=cooldown, min_lr=min_lr,
                             **kwargs)


def callback_learning_rate_scheduler(schedule, verbose=0):
    """Set the learning rate each epoch from `schedule(epoch, lr)`."""
    return LearningRateScheduler(schedule, verbose=verbose)


def callback_csv_logger(filename, separator=",", append=False):
    """Stream each epoch's results to a CSV file."""
    return CSVLogger(filename, separator=separator, append=append)


def callback_terminate_on_nan():
    """Stop training when a NaN (or infinite) loss is met."""
    return TerminateOnNaN()


def callback_lambda(on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                    on_batch_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                    on_train_begin=None, on_train_end=None, **kwargs):
    """A callback made of functions for the hooks you name."""
    given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                 on_batch_begin=on_batch_begin, on_batch_end=on_batch_end,
                 on_train_batch_begin=on_train_batch_begin,
                 on_train_batch_end=on_train_batch_end, on_train_begin=on_train_begin,
                 on_train_end=on_train_end, **kwargs)
    return LambdaCallback(**{k: v for k, v in given.items() if v is not None})


def callback_progbar_logger(count_mode=None, stateful_metrics=None):
    """Keras's progress bar (fit adds one itself when verbose; pass this to place it among
    your callbacks). `count_mode` and `stateful_metrics` are Keras 2's and are ignored."""
    return ProgbarLogger()


def callback_backup_and_restore(backup_dir, save_freq="epoch", delete_checkpoint=True,
                                double_checkpoint=False):
    """Back up training each epoch and resume an interrupted fit at the epoch it reached."""
    return BackupAndRestore(backup_dir, save_freq=save_freq,
                            double_checkpoint=double_checkpoint,
                            delete_checkpoint=delete_checkpoint)


def new_callback_class(classname, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                       on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                       on_test_begin=None, on_test_end=None, on_test_batch_begin=None,
                       on_test_batch_end=None, on_predict_begin=None, on_predict_end=None,
                       on_predict_batch_begin=None, on_predict_batch_end=None, *, public=None,
                       private=None, inherit=None, **members):
    """A custom callback class, as R keras's `new_callback_class()` / `Callback()`.

    Hooks and other methods are functions taking `self` first (R's methods see `self` without
    declaring it; Python's declare it): `self.model`, `self.params` and `self.model.stop_training`
    are there as in any callback. `initialize` (or `__init__`) becomes the constructor (call
    `super` via `Callback.__init__(self)`, done for you when you don't define one). `public`
    adds members; `private` values are copied into each instance's `self.private` namespace
    (functions there are bound to the instance), hidden from Keras as R's private env is.
    Returns the class: `MyCallback = new_callback_class(...)`, then `MyCallback()`.
    """
    if not isinstance(classname, str) or not classname.isidentifier():
        raise ValueError(f"classname must be a name such as 'MyCallback', got {classname!r}.")
    base = inherit if inherit is not None else Callback
    if not (isinstance(base, type) and issubclass(base, Callback)):
        raise ValueError(f"inherit must be a callback class, got {base!r}.")
    hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                 on_train_begin=on_train_begin, on_train_end=on_train_end,
                 on_train_batch_begin=on_train_batch_begin, on_train_batch_end=on_train_batch_end,
                 on_test_begin=on_test_begin, on_test_end=on_test_end,
                 on_test_batch_begin=on_test_batch_begin, on_test_batch_end=on_test_batch_end,
                 on_predict_begin=on_predict_begin, on_predict_end=on_predict_end,
                 on_predict_batch_begin=on_predict_batch_begin,
                 on_predict_batch_end=on_predict_batch_end)
    namespace = {k: v for k, v in hooks.items() if v is not None}
    namespace.update(public or {})
    namespace.update(members)
    for name, value in namespace.items():
        if name.startswith("on_") and name not in _HOOKS:
            raise ValueError(f"new_callback_class(): unknown hook {name!r}; hooks are "
                             f"{', '.join(_HOOKS)}.")
        if name.startswith("on_") and not callable(value):
            raise ValueError(f"new_callback_class(): {name} must be a function, got {value!r}.")
    init = namespace.pop("initialize", None) or namespace.pop("__init__", None)
    private = dict(private or {})

    def __init__(self, *args, **kwargs):
        self.private = types.SimpleNamespace(**{
            k: types.MethodType(v, self) if isinstance(v, types.FunctionType) else v
            for k, v in private.items()})
        if init is None:
            base.__init__(self, *args, **kwargs)
        else:
            Callback.__init__(self)  # model and params exist before the user's initialize runs
            init(self, *args, **kwargs)

    namespace["__init__"] = __init__
    namespace.setdefault("__doc__", f"Custom callback {classname} (new_callback_class).")
    return type(classname, (base,), namespace)
