"""The training loop: compile, fit, evaluate, predict and their batch-level forms."""

import math
import warnings

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
        self._compiled_known = None
        self._compiled_trainable = None

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
        self._snapshot_trainable()
        self.compiled = True

    # ---- which weights train: those trainable when the model was compiled -------------------
    def _snapshot_trainable(self):
        """Records which weights are trainable now. As in Keras (and R keras's freeze_weights
        notes), changing `trainable` after compile takes effect at the next compile: the GAN
        pattern (compile the discriminator, freeze it, build and compile the GAN) relies on it.
        Weights created after compile (a model built on its first data) follow their flags."""
        self._compiled_known = {id(v) for v in self.weights} if self.built else set()
        self._compiled_trainable = {id(v) for v in self.trainable_weights} if self.built else set()
        self._trainable_warned = False

    def _training_variables(self):
        current = self.trainable_weights
        known = getattr(self, "_compiled_known", None)
        chosen = getattr(self, "_compiled_trainable", None)
        if known is None:  # never compiled through Trainer.compile (a subclass's own compile)
            return current
        kept = [v for v in current if id(v) not in known or id(v) in chosen]
        still = [v for v in self.non_trainable_weights if id(v) in chosen]
        if (len(kept) != len(current) or still) and not self._trainable_warned:
            self._trainable_warned = True
            warnings.warn(
                f"The trainable weights of model {self.name} changed after it was compiled "
                f"(freeze_weights(), unfreeze_weights() or layer.trainable): training still "
                f"updates the {len(kept) + len(still)} weight arrays that were trainable at "
                f"compile time, as Keras does. Call compile() again for the change to take "
                f"effect.", UserWarning, stacklevel=4)
        return kept + still

    def _per_output(self, spec, names, what, resolve):
        if isinstance(spec, dict):
            unknown = set(spec) - set(names)
            if unknown:
                raise ValueError(f"compile(): {what} names unknown outputs {sorted(unknown)}; "
                                 f"outputs are {names}.")
            return [None if spec.get(n) is None else resolve(spec[n]) for n in names]
        if isinstance(spec, (list, tuple)) and (len(names) > 1 or len(spec) != 1):
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
        taken = {"loss"} | {f"{n}_loss" for n in names}
        for i, name in enumerate(names):
            built = []
            for spec_list, weighted in ((self._metric_spec[i], False), (self._weighted_metric_spec[i], True)):
                for spec in spec_list:
                    metric = metrics_module.get(spec, loss=self._loss_fns[i],
                                                y_true_shape=ys[i].shape, y_pred_shape=outputs_shape[i])
                    if len(names) > 1:
                        if metric is spec:  # one object per output, and the user's unrenamed
                            metric = _fresh_metric(spec)
                        metric.name = f"{name}_{metric.name}"
                    base, suffix = metric.name, 0
                    while metric.name in taken:  # two AUCs log "auc" and "auc_1", as in Keras
                        suffix += 1
                        metric.name = f"{base}_{suffix}"
                    taken.add(metric.name)
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
        variables = self._training_variables()
        with GradientTape() as tape:
            outputs = self._forward(xs, training=True)
            total, per_output = self.compute_loss(ys, outputs, sample_weights, variables)
        if variables:
            grads = tape.gradient(total, variables)
            self.optimizer.apply(grads, variables)
        elif not getattr(self, "_no_weights_warned", False):
            self._no_weights_warned = True  # Keras trains nothing and says so
            warnings.warn(f"Model {self.name} has no trainable weights: training only reports "
                          "the loss.", UserWarning, stacklevel=4)
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
        return {m.name: _log_value(m.result()) for m in self._all_metrics()}

    # ---- preparing data ------------------------------------------------------------------
    def _assert_compiled(self, what):
        if not self.compiled:
            raise ValueError(f"Model {self.name} must be compiled before {what}(): call "
                             f"compile(model, optimizer=..., loss=...) first.")

    def _prepare(self, x, y, sample_weight=None, class_weight=None, role_prefix="",
                 whole_data=False):
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
            _check_class_weight(class_weight, ys[0], whole_data)
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

        With arrays, `steps_per_epoch` batches make an epoch and the next epoch continues
        where it stopped (a new shuffle once every batch was seen; an epoch that runs out of
        batches ends early with a warning), as Keras does; `validation_steps` validates on
        the first that many batches of the validation data. `validation_freq` is an integer
        (validate every that many epochs) or a list of the (1-based) epochs to validate on.
        `class_weight` ({class index: weight}, 0-based) must name classes that occur in y.
        """
        self._assert_compiled("fit")
        batch_size = _positive_int(batch_size, "batch_size", 32)
        epochs = _non_negative_int(epochs, "epochs")
        initial_epoch = _non_negative_int(initial_epoch, "initial_epoch")
        if steps_per_epoch is not None:
            steps_per_epoch = _positive_int(steps_per_epoch, "steps_per_epoch", None)
        if validation_steps is not None:
            validation_steps = _positive_int(validation_steps, "validation_steps", None)
        should_validate = _validation_schedule(validation_freq)
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
            xs, ys, sws = self._prepare(x, y, sample_weight, class_weight, whole_data=True)
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
            stream = _ArrayBatches(n, batch_size, shuffle, steps_per_epoch)
            steps = stream.steps
        verbose = 1 if verbose == "auto" else int(verbose)
        history = History()
        callbacks = list(callbacks or [])
        own = [ProgbarLogger(verbose)] if verbose and not any(
            isinstance(c, ProgbarLogger) for c in callbacks) else []  # the user's one if given
        params = {"verbose": verbose, "epochs": epochs, "steps": steps, "batch_size": batch_size,
                  "samples": n}
        if isinstance(val, tuple):
            params["validation_samples"] = len(val[0][0])
        callback_list = CallbackList(own + list(callbacks or []) + [history], self, params)
        self.stop_training = False
        self.history = history
        self._initial_epoch = None
        callback_list.call("on_train_begin", {})
        # A callback_backup_and_restore() that restored a backup resumes at its epoch.
        initial_epoch = self._initial_epoch if self._initial_epoch is not None else initial_epoch
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.call("on_epoch_begin", epoch, {})
            logs = {}
            if source is not None:
                batches = self._generator_batches(source, class_weight)
            else:
                batches = ((data.take(xs, index), data.take(ys, index), data.take(sws, index))
                           for index in stream.epoch())
            for step, (batch_x, batch_y, batch_sw) in enumerate(batches):
                callback_list.train_batch_begin(step, {})
                logs = self._train_step(batch_x, batch_y, batch_sw or [None] * len(self.outputs))
                callback_list.train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(self._logs() if self._output_metrics is not None else logs)
            if val is not None and should_validate(epoch + 1):
                if isinstance(val, data.GeneratorBatches):
                    val_logs = self._evaluate_batches(self._generator_batches(val))
                else:
                    val_logs = self._evaluate_arrays(*val, validation_batch_size or batch_size,
                                                     steps=validation_steps)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            callback_list.call("on_epoch_end", epoch, epoch_logs)
            if self.stop_training or (source is not None and source.exhausted):
                break
        if epochs > initial_epoch:  # use_ema: the weights become their moving averages
            self.optimizer.finalize_variable_values(self.trainable_weights)
        callback_list.call("on_train_end", {})
        return history

    def _generator_batches(self, source, class_weight=None):
        """The checked (xs, ys, sample_weights) of each batch one epoch of `source` yields."""
        for batch in source.epoch():
            batch_x, batch_y, batch_sw = data.unpack_batch(batch, "The generator")
            yield self._prepare(batch_x, batch_y, batch_sw, class_weight)

    def _evaluate_arrays(self, xs, ys, sws, batch_size, callback_list=None, steps=None):
        """Loss and metrics over the batches of arrays (only the first `steps` if given)."""
        indices = data.batch_indices(len(xs[0]), batch_size, False, None)
        batches = ((data.take(xs, index), data.take(ys, index), data.take(sws, index))
                   for index in indices[:steps])
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
            if steps is not None:
                steps = _positive_int(steps, "steps", None)
            logs = self._evaluate_arrays(xs, ys, sws, batch_size, callback_list, steps=steps)
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

    def reset_states(self):
        """Resets the state of every stateful layer (recurrent layers with stateful=True)."""
        for layer in _all_layers(self):
            if layer is not self and callable(getattr(layer, "reset_states", None)):
                layer.reset_states()
        return self

    def predict_on_batch(self, x):
        if not self.built:
            self._ensure_built(x)
        xs = data.cast_inputs(data.as_array_list(x, self.input_names, "x", self.name), self.inputs)
        outputs = [o.data for o in self._forward(xs, training=False)]
        return outputs[0] if len(outputs) == 1 else outputs


def _all_layers(layer, seen=None):
    """`layer` and every layer nested in it, each once."""
    seen = set() if seen is None else seen
    if id(layer) in seen:
        return []
    seen.add(id(layer))
    found = [layer]
    for sub in layer._sublayers():
        found += _all_layers(sub, seen)
    return found


class _ArrayBatches:
    """The batch indices of each epoch over `n` samples. Without `steps_per_epoch`, an epoch
    is one pass (reshuffled). With it, epochs take that many batches from one pass after
    another and resume where the previous epoch stopped, as Keras 3's epoch iterator does; a
    pass that ends mid-epoch ends that epoch early (with a warning)."""

    def __init__(self, n, batch_size, shuffle, steps_per_epoch):
        self.n, self.batch_size, self.shuffle = n, batch_size, shuffle
        self.per_pass = math.ceil(n / batch_size)
        self.steps_per_epoch = steps_per_epoch
        self.steps = steps_per_epoch or self.per_pass
        self._pending = []
        self._warned = False

    def _new_pass(self):
        return data.batch_indices(self.n, self.batch_size, self.shuffle, random.permutation)

    def epoch(self):
        if self.steps_per_epoch is None:
            yield from self._new_pass()
            return
        if not self._pending:
            self._pending = list(self._new_pass())
        for _ in range(self.steps_per_epoch):
            if not self._pending:
                if not self._warned:
                    self._warned = True
                    warnings.warn(
                        f"fit(): steps_per_epoch={self.steps_per_epoch} asks for more batches "
                        f"than the data has left ({self.per_pass} batches of {self.batch_size} "
                        f"per pass over {self.n} samples): this epoch ends early.",
                        UserWarning, stacklevel=4)
                return
            yield self._pending.pop(0)


def _validation_schedule(validation_freq):
    """A function epoch (1-based) -> validate?, from an int or a list of epochs (Keras)."""
    if isinstance(validation_freq, (list, tuple, set, range, np.ndarray)):
        epochs = set()
        for e in validation_freq:
            epochs.add(_positive_int(e, "each epoch in validation_freq", None))
        return epochs.__contains__
    if isinstance(validation_freq, bool) or not isinstance(validation_freq, (int, np.integer)) \
            or validation_freq < 1:
        raise ValueError("validation_freq must be a positive integer (validate every that many "
                         f"epochs) or a list of epochs, got {validation_freq!r}.")
    freq = int(validation_freq)
    return lambda epoch: epoch % freq == 0


def _check_class_weight(class_weight, y, whole_data):
    """class_weight maps 0-based class indices to weights; a class index that y cannot hold
    (one-hot labels) or, over the whole data, that never occurs in y, is an error."""
    if not isinstance(class_weight, dict):
        raise ValueError("class_weight must be a dict {class index: weight}, got a "
                         f"{type(class_weight).__name__}.")
    keys = []
    for key in class_weight:
        try:
            index = int(key)
        except (TypeError, ValueError):
            index = None
        if index is None or isinstance(key, bool) or index != float(key) or index < 0:
            raise ValueError(f"class_weight keys must be 0-based class indices, got {key!r}.")
        keys.append(index)
    one_hot = y.ndim > 1 and y.shape[-1] > 1
    if one_hot:
        beyond = sorted(k for k in keys if k >= y.shape[-1])
        if beyond:
            raise ValueError(f"class_weight names class(es) {beyond} but y is one-hot with "
                             f"{y.shape[-1]} classes (0 to {y.shape[-1] - 1}; class indices "
                             "are 0-based).")
    if not whole_data:
        return
    labels = np.argmax(y, axis=-1) if one_hot else np.round(y.reshape(len(y), -1)[:, 0])
    present = set(np.unique(labels).astype(np.int64).tolist())
    absent = sorted(k for k in keys if k not in present)
    if absent:
        shown = sorted(present)
        listed = ", ".join(map(str, shown[:20])) + (", ..." if len(shown) > 20 else "")
        raise ValueError(f"class_weight names class(es) {absent} that do not occur in y "
                         f"(classes in y: {listed}; class indices are 0-based).")


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


def _log_value(result):
    """A metric's result for the logs: a float, or an array for metrics with several
    thresholds (e.g. metric_precision(thresholds=c(0.3, 0.7)))."""
    array = np.asarray(getattr(result, "data", result), dtype=np.float64)
    return float(array) if array.ndim == 0 else array


def _fresh_metric(metric):
    """A new metric like `metric`, with its own state."""
    if hasattr(metric, "get_config") and hasattr(type(metric), "from_config"):
        try:
            return type(metric).from_config(metric.get_config())
        except (TypeError, ValueError):
            pass
    import copy
    return copy.deepcopy(metric)
