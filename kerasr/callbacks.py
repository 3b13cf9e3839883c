"""Callbacks: hooks into training. `History` records every fit; `ProgbarLogger` prints progress."""

import math
import sys
import time


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
    """What `fit` returns: `history` (per-epoch values by metric), `params`, `epoch`."""

    def __init__(self):
        super().__init__()
        self.history = MetricsDict()
        self.epoch = []

    @property
    def metrics(self):
        return self.history

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = MetricsDict()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        if not self.epoch:
            return "<History: no epochs>"
        keys = list(self.history)
        width = max(len(k) for k in keys)
        lines = ["Final epoch (plot to see history):"]
        lines += [f"{k:>{width}}: {_format_number(self.history[k][-1])}" for k in keys]
        return "\n".join(lines)

    __str__ = __repr__


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
