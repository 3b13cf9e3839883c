"""The training loop: compile, fit, evaluate, predict and their batch-level forms."""

import math

import numpy as np

from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import ops
from .. import optimizers as optimizers_module
from .. import random
from ..callbacks import CallbackList, History, ProgbarLogger
from ..engine.tape import GradientTape
from . import data_adapter as data


class Trainer:
    """Training methods shared by every model (mixed into `Model`)."""

    def __init__(self):
        self.optimizer = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._loss_spec = None
        self._metric_spec = None
        self._output_metrics = None

    # ---- compile -------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=None, steps_per_execution=1, jit_compile=None,
                **kwargs):
        """Configures the model for training (Keras's `compile`); returns None."""
        if kwargs:
            raise TypeError(f"compile() got unexpected argument(s): {', '.join(kwargs)}.")
        self.optimizer = optimizers_module.get(optimizer)
        names = self.output_names
        self._loss_fns = self._per_output(loss, names, "loss", losses_module.get)
        weights = self._per_output(loss_weights, names, "loss_weights", float)
        self._loss_weights = [1.0 if w is None else w for w in weights]
        self._metric_spec = self._per_output_lists(metrics, names)
        self._weighted_metric_spec = self._per_output_lists(weighted_metrics, names)
        self._output_metrics = None
        self.compiled = True

    def _per_output(self, spec, names, what, resolve):
        if isinstance(spec, dict):
            unknown = set(spec) - set(names)
            if unknown:
                raise ValueError(f"compile(): {what} names unknown outputs {sorted(unknown)}; "
                                 f"outputs are {names}.")
            return [None if spec.get(n) is None else resolve(spec[n]) for n in names]
        if isinstance(spec, (list, tuple)) and len(names) > 1:
            if len(spec) != len(names):
                raise ValueError(f"compile(): {what} has {len(spec)} entries for {len(names)} outputs.")
            return [None if s is None else resolve(s) for s in spec]
        if isinstance(spec, (list, tuple)) and len(spec) == 1:
            spec = spec[0]
        resolved = None if spec is None else resolve(spec)
        return [resolved] * len(names)

    @staticmethod
    def _per_output_lists(spec, names):
        if spec is None:
            return [[] for _ in names]
        if isinstance(spec, dict):
            return [_as_list(spec.get(n)) for n in names]
        if isinstance(spec, (list, tuple)) and len(names) > 1 and spec and all(
                isinstance(s, (list, tuple)) for s in spec):
            return [list(s) for s in spec]
        return [_as_list(spec) for _ in names]

    def _build_metrics(self, ys, outputs_shape):
        """Resolves metrics once the shapes of targets and outputs are known."""
        names = self.output_names
        self._output_metrics = []
        for i, name in enumerate(names):
            built = []
            for spec_list, weighted in ((self._metric_spec[i], False), (self._weighted_metric_spec[i], True)):
                for spec in spec_list:
                    metric = metrics_module.get(spec, loss=self._loss_fns[i],
                                                y_true_shape=ys[i].shape, y_pred_shape=outputs_shape[i])
                    if len(names) > 1:
                        metric.name = f"{name}_{metric.name}"
                    built.append((metric, weighted))
            self._output_metrics.append(built)
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._output_loss_trackers = [metrics_module.Mean(name=f"{n}_loss") for n in names] \
            if len(names) > 1 else []

    def _all_metrics(self):
        if self._output_metrics is None:
            return []
        return [self._loss_tracker] + self._output_loss_trackers + [
            m for group in self._output_metrics for m, _ in group]

    def reset_metrics(self):
        for metric in self._all_metrics():
            metric.reset_state()

    @property
    def metrics_names(self):
        return [m.name for m in self._all_metrics()]

    # ---- one step ------------------------------------------------------------------------
    def _forward(self, xs, training):
        outputs = self(xs if len(xs) > 1 else xs[0], training=training)
        return outputs if isinstance(outputs, (list, tuple)) else [outputs]

    def compute_loss(self, ys, outputs, sample_weights, variables=None):
        """The total loss: weighted per-output losses plus the layers' regularization losses
        (of `variables`, by default the trainable weights)."""
        total = None
        per_output = []
        for fn, weight, y, out, sw in zip(self._loss_fns, self._loss_weights, ys, outputs,
                                          sample_weights):
            if fn is None:
                per_output.append(None)
                continue
            value = fn(y, out, sample_weight=sw)
            per_output.append(value)
            term = value if weight == 1.0 else ops.multiply(value, weight)
            total = term if total is None else ops.add(total, term)
        if variables is None:
            variables = self.trainable_weights
        penalties = [v.regularizer(v) for v in variables if v.regularizer is not None]
        for penalty in penalties + self._all_activity_losses():
            total = penalty if total is None else ops.add(total, penalty)
        if total is None:
            raise ValueError(f"Model {self.name} has no loss to minimise: compile it with loss=... "
                             "or add losses in its layers.")
        return total, per_output

    def _train_step(self, xs, ys, sample_weights):
        ys = ys if ys is not None else [None] * len(self.outputs)  # losses added by layers only
        variables = self.trainable_weights
        with GradientTape() as tape:
            outputs = self._forward(xs, training=True)
            total, per_output = self.compute_loss(ys, outputs, sample_weights, variables)
        grads = tape.gradient(total, variables)
        self.optimizer.apply(grads, variables)
        return self._update_metrics(ys, outputs, sample_weights, total, per_output, len(xs[0]))

    def _test_step(self, xs, ys, sample_weights):
        ys = ys if ys is not None else [None] * len(self.outputs)
        outputs = self._forward(xs, training=False)
        total, per_output = self.compute_loss(ys, outputs, sample_weights)
        return self._update_metrics(ys, outputs, sample_weights, total, per_output, len(xs[0]))

    def _update_metrics(self, ys, outputs, sample_weights, total, per_output, batch_size):
        if self._output_metrics is None:
            self._build_metrics(ys, [o.shape for o in outputs])
        self._loss_tracker.update_state(float(total.data), sample_weight=batch_size)
        for tracker, value in zip(self._output_loss_trackers, per_output):
            if value is not None:
                tracker.update_state(float(value.data), sample_weight=batch_size)
        for group, y, out, sw in zip(self._output_metrics, ys, outputs, sample_weights):
            if y is None:
                continue
            for metric, weighted in group:
                metric.update_state(y, out.data, sample_weight=sw if weighted or sw is not None else None)
        return self._logs()

    def _logs(self):
        return {m.name: float(m.result()) for m in self._all_metrics()}

    # ---- preparing data ------------------------------------------------------------------
    def _assert_compiled(self, what):
        if not self.compiled:
            raise ValueError(f"Model {self.name} must be compiled before {what}(): call "
                             f"compile(model, optimizer=..., loss=...) first.")

    def _prepare(self, x, y, sample_weight=None, class_weight=None, role_prefix=""):
        """Checked, converted arrays for inputs, targets and sample weights."""
        if x is None:
            raise ValueError("x is required: pass the input data.")
        if not self.built:
            self._ensure_built(x if not isinstance(x, dict) else list(x.values())[0])
        xs = data.as_array_list(x, self.input_names, role_prefix + "x", self.name)
        ys = data.as_array_list(y, self.output_names, role_prefix + "y", self.name)
        if ys is None and any(fn is not None for fn in self._loss_fns):
            raise ValueError(f"y is required to train or evaluate model {self.name} with a loss.")
        sws = None
        if sample_weight is not None:
            sws = data.as_array_list(sample_weight, self.output_names, role_prefix + "sample_weight",
                                     self.name)
        for array, symbolic in zip(xs, self.inputs):
            self._input_value(symbolic, array)
        data.check_finite(xs, role_prefix + "x")
        if ys is not None:
            data.check_finite(ys, role_prefix + "y")
        data.check_sample_counts([(role_prefix + "x", xs), (role_prefix + "y", ys),
                                  (role_prefix + "sample_weight", sws)])
        xs = data.cast_inputs(xs, self.inputs)
        if ys is not None:
            ys = data.cast_targets(ys)
            for fn, y, out, name in zip(self._loss_fns, ys, self.outputs, self.output_names):
                if fn is not None:
                    losses_module.check_targets(fn, y.shape, out.shape, name)
        if class_weight is not None:
            if ys is None or len(ys) != 1:
                raise ValueError("class_weight applies to models with a single output.")
            weights = data.class_weights_to_sample_weights(class_weight, ys[0])
            sws = [weights if sws is None else sws[0] * weights]
        if sws is not None:
            sws = data.cast_targets([s.reshape(len(s)) if s.ndim > 1 and s.shape[1] == 1 else s
                                     for s in sws])
        return xs, ys, sws

    def _ensure_built(self, x):
        if not self.built:
            raise ValueError(f"Model {self.name} is not built.")

    # ---- fit / evaluate / predict --------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains the model; returns a History.

        `x` may also be a generator of batches (x, y) or (x, y, sample_weight), e.g. an image
        flow: then `steps_per_epoch` batches make an epoch (required unless it has a length),
        and `validation_data` may be a generator too, with `validation_steps`.
        """
        self._assert_compiled("fit")
        batch_size = _positive_int(batch_size, "batch_size", 32)
        epochs = _non_negative_int(epochs, "epochs")
        if not isinstance(validation_split, (int, float)) or not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be a number in [0, 1), got {validation_split!r}.")
        source = None
        if data.is_generator(x):
            _check_generator_arguments("fit", y, sample_weight)
            if validation_split:
                raise ValueError("fit(): validation_split needs arrays; with a generator, pass "
                                 "validation_data= (arrays or a generator) instead.")
            source = data.GeneratorBatches(x, steps_per_epoch, "fit()", "steps_per_epoch")
            n, steps = None, source.steps
        else:
            xs, ys, sws = self._prepare(x, y, sample_weight, class_weight)
            n = len(xs[0])
        val = None
        if validation_data is not None and data.is_generator(validation_data):
            val = data.GeneratorBatches(validation_data, validation_steps, "fit()",
                                        "validation_steps")
        elif validation_data is not None:
            val = self._prepare(*_unpack_validation(validation_data), role_prefix="validation ")
        elif validation_split > 0:
            (xs, ys, sws), val, n = data.split_validation([xs, ys, sws], validation_split, n)
            val = tuple(val)
        if source is None:
            steps = math.ceil(n / batch_size)
        verbose = 1 if verbose == "auto" else int(verbose)
        history = History()
        own = [ProgbarLogger(verbose)] if verbose else []
        params = {"verbose": verbose, "epochs": epochs, "steps": steps, "batch_size": batch_size,
                  "samples": n}
        callback_list = CallbackList(own + list(callbacks or []) + [history], self, params)
        self.stop_training = False
        self.history = history
        callback_list.call("on_train_begin", {})
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.call("on_epoch_begin", epoch, {})
            logs = {}
            if source is not None:
                batches = self._generator_batches(source, class_weight)
            else:
                batches = ((data.take(xs, index), data.take(ys, index), data.take(sws, index))
                           for index in data.batch_indices(n, batch_size, shuffle, random.permutation))
            for step, (batch_x, batch_y, batch_sw) in enumerate(batches):
                callback_list.train_batch_begin(step, {})
                logs = self._train_step(batch_x, batch_y, batch_sw or [None] * len(self.outputs))
                callback_list.train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(self._logs() if self._output_metrics is not None else logs)
            if val is not None and (epoch + 1) % validation_freq == 0:
                if isinstance(val, data.GeneratorBatches):
                    val_logs = self._evaluate_batches(self._generator_batches(val))
                else:
                    val_logs = self._evaluate_arrays(*val, validation_batch_size or batch_size)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            callback_list.call("on_epoch_end", epoch, epoch_logs)
            if self.stop_training or (source is not None and source.exhausted):
                break
        callback_list.call("on_train_end", {})
        return history

    def _generator_batches(self, source, class_weight=None):
        """The checked (xs, ys, sample_weights) of each batch one epoch of `source` yields."""
        for batch in source.epoch():
            batch_x, batch_y, batch_sw = data.unpack_batch(batch, "The generator")
            yield self._prepare(batch_x, batch_y, batch_sw, class_weight)

    def _evaluate_arrays(self, xs, ys, sws, batch_size, callback_list=None):
        batches = ((data.take(xs, index), data.take(ys, index), data.take(sws, index))
                   for index in data.batch_indices(len(xs[0]), batch_size, False, None))
        return self._evaluate_batches(batches, callback_list)

    def _evaluate_batches(self, batches, callback_list=None):
        self.reset_metrics()
        for step, (batch_x, batch_y, batch_sw) in enumerate(batches):
            logs = self._test_step(batch_x, batch_y, batch_sw or [None] * len(self.outputs))
            if callback_list is not None:
                callback_list.call("on_test_batch_end", step, logs)
        logs = self._logs()
        self.reset_metrics()
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics on data: a scalar, a list, or a dict with `return_dict=True`."""
        self._assert_compiled("evaluate")
        batch_size = _positive_int(batch_size, "batch_size", 32)
        if data.is_generator(x):  # `steps` batches of a generator (all of it if it has a length)
            _check_generator_arguments("evaluate", y, sample_weight)
            batches = self._generator_batches(data.GeneratorBatches(x, steps, "evaluate()", "steps"))
        else:
            batches = None
            xs, ys, sws = self._prepare(x, y, sample_weight)
        callback_list = CallbackList(list(callbacks or []), self, {"verbose": verbose})
        callback_list.call("on_test_begin", {})
        if batches is not None:
            logs = self._evaluate_batches(batches, callback_list)
        else:
            logs = self._evaluate_arrays(xs, ys, sws, batch_size, callback_list)
        callback_list.call("on_test_end", logs)
        if verbose not in (0, "0"):
            print(" - ".join(f"{k}: {v:.4f}" for k, v in sorted(logs.items())))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for the inputs `x`, computed batch by batch: an array (a list for several outputs)."""
        batch_size = _positive_int(batch_size, "batch_size", 32)
        chunks = []
        if data.is_generator(x):  # the inputs of `steps` batches (targets, if any, ignored)
            for batch in data.GeneratorBatches(x, steps, "predict()", "steps").epoch():
                xs = self._predict_inputs(data.unpack_batch(batch, "The generator")[0])
                chunks.append([o.data for o in self._forward(xs, training=False)])
            if not chunks:
                raise ValueError("predict(): the generator yielded no batches.")
        else:
            xs = self._predict_inputs(x)
            for index in data.batch_indices(len(xs[0]), batch_size, False, None):
                chunks.append([o.data for o in self._forward(data.take(xs, index), training=False)])
        if not chunks:
            return np.zeros((0,) + tuple(self.outputs[0].shape[1:]), dtype=self.outputs[0].dtype)
        results = [np.concatenate(parts) for parts in zip(*chunks)]
        return results[0] if len(results) == 1 else results

    def _predict_inputs(self, x):
        if not self.built:
            self._ensure_built(x)
        xs = data.as_array_list(x, self.input_names, "x", self.name)
        for array, symbolic in zip(xs, self.inputs):
            self._input_value(symbolic, array)
        return data.cast_inputs(xs, self.inputs)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient step on one batch; returns the loss (and metrics) on that batch."""
        self._assert_compiled("train_on_batch")
        xs, ys, sws = self._prepare(x, y, sample_weight, class_weight)
        self.reset_metrics()
        logs = self._train_step(xs, ys, sws or [None] * len(self.outputs))
        return _batch_result(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._assert_compiled("test_on_batch")
        xs, ys, sws = self._prepare(x, y, sample_weight)
        self.reset_metrics()
        logs = self._test_step(xs, ys, sws or [None] * len(self.outputs))
        return _batch_result(logs, return_dict)

    def predict_on_batch(self, x):
        if not self.built:
            self._ensure_built(x)
        xs = data.cast_inputs(data.as_array_list(x, self.input_names, "x", self.name), self.inputs)
        outputs = [o.data for o in self._forward(xs, training=False)]
        return outputs[0] if len(outputs) == 1 else outputs


def _batch_result(logs, return_dict):
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _positive_int(value, name, default):
    if value is None:
        return default
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _non_negative_int(value, name):
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}.")
    return int(value)


def _check_generator_arguments(what, y, sample_weight):
    if y is not None or sample_weight is not None:
        raise ValueError(f"{what}(): x is a generator, which yields the targets (and sample "
                         f"weights) itself: leave y and sample_weight unset.")


def _unpack_validation(validation_data):
    if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data must be a list (x_val, y_val) or (x_val, y_val, "
                         "sample_weight_val).")
    return tuple(validation_data) + (None,) * (3 - len(validation_data))

