"""Optimizers (Keras 3's `keras.optimizers`, R's `optimizer_*()` functions): SGD, RMSprop,
Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam and Ftrl.

An optimizer updates variables in place from their gradients: `apply(grads, variables)`
clips the gradients, decays the weights, runs one Numba kernel per variable on its flat data
and per-variable slot arrays (momentums, velocities, ...; created on first use), updates the
weights' moving averages (`use_ema`), then applies the variables' constraints, in Keras 3's
order. Update rules, defaults and error messages are Keras 3's. `learning_rate` may be a
number, a schedule (`kerasr.schedules`, called with the iteration count) or a callable.
`get_state()` / `set_state()` save and restore everything the next updates depend on.

The book's Keras 2 arguments still work with a warning: `lr=` (now `learning_rate=`) and
`decay=`, the time-based decay lr / (1 + decay * iterations).
"""

import inspect
import math
import numbers
import os
import re
import sys
import warnings

import numpy as np

from . import schedules
from .identifiers import resolve
from .kernels import optimizers as kernels


def _number(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    return float(value)


def _in_range(value, name, low, high, high_inclusive=True):
    value = _number(value, name)
    if not (low <= value and (value <= high if high_inclusive else value < high)):
        bracket = "]" if high_inclusive else ")"
        raise ValueError(f"{name} must be in [{low}, {high}{bracket}, got {value!r}.")
    return value


def _non_negative(value, name):
    value = _number(value, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}.")
    return value


def _positive_or_none(value, name):
    if value is None:
        return None
    value = _number(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    return value


def _warn_deprecated(message):
    """A UserWarning pointing at the first caller outside kerasr (the user's line)."""
    package_dir = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, stacklevel = sys._getframe(1), 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(package_dir):
        frame, stacklevel = frame.f_back, stacklevel + 1
    warnings.warn(message, UserWarning, stacklevel=stacklevel)


def _learning_rate(value):
    # A schedule (called with the iteration count), any callable of the iteration count
    # (or of nothing, as Keras's callables), or a number.
    if isinstance(value, schedules.LearningRateSchedule) or callable(value):
        return value
    return _non_negative(value, "learning_rate")


def _takes_no_argument(fn):
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return not any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
                   for p in parameters)


class Optimizer:
    """Base class. Subclasses list their per-variable slots in `_slot_groups()` and update
    one variable with one kernel call in `_update_step(var, grad, slots, learning_rate)`,
    all arrays flat (1-D) and in the variable's dtype.

    One step, in Keras 3's order: clip the gradients (clipnorm / global_clipnorm /
    clipvalue), decay the weights (w -= w * weight_decay * lr), run the update steps, update
    the weights' moving averages (use_ema) and overwrite the weights with them every
    ema_overwrite_frequency steps, apply the variables' constraints, count the iteration.

    `iterations` counts the updates done; `learning_rate` is the rate the next update
    uses (a schedule evaluated at `iterations`, with the legacy `decay` applied).
    The state (`variables()`, `get_state()` / `set_state()`) is ordered as Keras orders its
    optimizer variables after `iteration` and `learning_rate`.
    """

    def __init__(self, learning_rate, name, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, **kwargs):
        learning_rate = self._take_legacy_lr(learning_rate, kwargs)
        decay = kwargs.pop("decay", None)
        for option in ("loss_scale_factor", "gradient_accumulation_steps"):
            # Keras 3 writes these into every optimizer config; kerasr has neither.
            if kwargs.get(option, "absent") is None:
                del kwargs[option]
        if kwargs:
            raise ValueError(f"{type(self).__name__}: argument(s) not recognized: "
                             f"{', '.join(sorted(kwargs))}.")
        self.decay = 0.0 if decay is None else _non_negative(decay, "decay")
        if self.decay:
            _warn_deprecated(
                "`decay` is deprecated (Keras 3 removed it). Use a learning rate schedule "
                "instead: learning_rate=learning_rate_schedule_inverse_time_decay("
                f"{learning_rate!r}, decay_steps=1, decay_rate={self.decay!r}).")
        self.learning_rate = learning_rate
        self.name = name
        self.weight_decay = (None if weight_decay is None
                             else _non_negative(weight_decay, "weight_decay"))
        self.clipnorm = _positive_or_none(clipnorm, "clipnorm")
        self.clipvalue = _positive_or_none(clipvalue, "clipvalue")
        self.global_clipnorm = _positive_or_none(global_clipnorm, "global_clipnorm")
        if sum(c is not None for c in (self.clipnorm, self.clipvalue, self.global_clipnorm)) > 1:
            raise ValueError("Only one of clipnorm, clipvalue and global_clipnorm can be set; got "
                             f"clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}.")
        self.use_ema = bool(use_ema)
        self.ema_momentum = _number(ema_momentum, "ema_momentum")
        if self.use_ema and not 0.0 <= self.ema_momentum <= 1.0:
            raise ValueError("`ema_momentum` must be in the range [0, 1]. "
                             f"Received: ema_momentum={ema_momentum}")
        if ema_overwrite_frequency is not None and (
                isinstance(ema_overwrite_frequency, bool)
                or not isinstance(ema_overwrite_frequency, numbers.Integral)
                or ema_overwrite_frequency < 1):
            raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. "
                             f"Received: ema_overwrite_frequency={ema_overwrite_frequency}")
        self.ema_overwrite_frequency = (None if ema_overwrite_frequency is None
                                        else int(ema_overwrite_frequency))
        self.iterations = 0
        self.built = False
        self._slots = {}  # Variable -> {slot name: flat array}, in first-update order
        self._exclude_ids = set()
        self._exclude_pattern = None

    def _take_legacy_lr(self, learning_rate, kwargs):
        """`lr=` as Keras 2 and the book spell it: honoured with a warning."""
        if "lr" not in kwargs:
            return learning_rate
        lr = kwargs.pop("lr")
        default = inspect.signature(type(self).__init__).parameters["learning_rate"].default
        if learning_rate is not default and learning_rate != default:
            raise ValueError("Pass the learning rate once: either learning_rate= or the "
                             "deprecated lr=, not both.")
        _warn_deprecated("The `lr` argument has been renamed to `learning_rate`.")
        return lr

    # ---- learning rate ---------------------------------------------------------------------
    @property
    def learning_rate(self):
        rate = self._learning_rate
        if callable(rate):
            rate = float(rate() if self._rate_takes_no_argument else rate(self.iterations))
        return rate / (1.0 + self.decay * self.iterations) if self.decay else rate

    @learning_rate.setter
    def learning_rate(self, value):
        value = _learning_rate(value)
        if (not callable(value) and isinstance(getattr(self, "_learning_rate", None),
                                               schedules.LearningRateSchedule)):
            raise TypeError("This optimizer was created with a learning rate schedule as its "
                            "`learning_rate`, hence its learning rate is not settable. If you "
                            "need the learning rate to be settable, create the optimizer with "
                            "a number as `learning_rate`.")
        self._learning_rate = value
        self._rate_takes_no_argument = (callable(value) and not isinstance(
            value, schedules.LearningRateSchedule) and _takes_no_argument(value))

    # ---- slots -------------------------------------------------------------------------------
    def _slot_groups(self):
        """The subclass's per-variable slots, in Keras's creation order: Keras creates the slots
        of a group variable by variable (for each variable, each slot of the group), group
        after group; most optimizers have one slot per group."""
        return ()

    def _slot_names(self):
        """The names of the per-variable slot arrays: the moving average (use_ema), then the
        subclass's slots."""
        return (("average",) if self.use_ema else ()) + tuple(
            name for group in self._slot_groups() for name in group)

    def _slot_initial_value(self, name):
        return 0.0

    def _update_step(self, var, grad, slots, learning_rate):
        raise NotImplementedError

    def _before_update_steps(self, learning_rate):
        """Per-step work shared by all variables (Nadam's running product)."""

    def build(self, variables):
        """Creates the slots of `variables` now rather than at their first update."""
        for var in variables:
            self._slots_of(var)
        self.built = True

    def _slots_of(self, var):
        slots = self._slots.get(var)
        if slots is None:
            slots = self._slots[var] = {name: np.full(var.size, self._slot_initial_value(name),
                                                      dtype=var.dtype)
                                        for name in self._slot_names()}
        return slots

    # ---- updates ---------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Applies `[(gradient, variable), ...]`; returns the new iteration count."""
        grads, variables = zip(*grads_and_vars)
        self.apply(grads, variables)
        return self.iterations

    def apply(self, grads, variables):
        """Updates each variable in place from its gradient (arrays or Tensors). Variables
        whose gradient is None are left alone."""
        variables = list(variables)
        if len(grads) != len(variables):
            raise ValueError(f"Got {len(grads)} gradients for {len(variables)} variables.")
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not pairs:
            raise ValueError("No gradients provided for any variable.")
        variables = [v for _, v in pairs]
        grads = self._clip([_gradient_array(g, v) for g, v in pairs])
        learning_rate = self.learning_rate
        slots = [self._slots_of(var) for var in variables]
        self.built = True
        flats = [_flat_data(var) for var in variables]
        if self.weight_decay:  # Keras: None skips it, 0 changes nothing
            factor = self.weight_decay * learning_rate
            for var, flat in zip(variables, flats):
                if self._use_weight_decay(var):
                    kernels.weight_decay(flat, factor)
        self._before_update_steps(learning_rate)
        for grad, flat, var_slots in zip(grads, flats, slots):
            self._update_step(flat, grad.reshape(-1), var_slots, learning_rate)
        if self.use_ema:
            self._update_moving_averages()
        for var in variables:
            if var.constraint is not None:
                var.assign(var.constraint(var.data))
        self.iterations += 1

    def _clip(self, grads):
        if self.clipnorm is not None:
            return [_scaled(g, self.clipnorm / max(_norm(g), self.clipnorm)) for g in grads]
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(_norm(g) ** 2 for g in grads))
            # As Keras: a non-finite global norm turns every gradient into NaN.
            scale = self.global_clipnorm / max(norm, self.global_clipnorm) if math.isfinite(norm) \
                else math.nan
            return [_scaled(g, scale) for g in grads]
        if self.clipvalue is not None:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    # ---- weight decay ------------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Variables not to decay: those of `var_list`, and those whose name contains one of
        the strings of `var_names` (e.g. `var_names=["bias"]`). Only before the first update,
        as Keras."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the "
                             "optimizer is built.")
        self._exclude_ids = {id(v) for v in (var_list or [])}
        names = [var_names] if isinstance(var_names, str) else list(var_names or [])
        self._exclude_pattern = re.compile("|".join(map(re.escape, names))) if names else None

    def _use_weight_decay(self, var):
        if id(var) in self._exclude_ids:
            return False
        return self._exclude_pattern is None or self._exclude_pattern.search(var.name) is None

    # ---- moving average of the weights (use_ema) -------------------------------------------
    def _update_moving_averages(self):
        # Keras averages every variable the optimizer was built on; the first step copies.
        momentum = self.ema_momentum if self.iterations else 0.0
        overwrite = (self.ema_overwrite_frequency is not None
                     and (self.iterations + 1) % self.ema_overwrite_frequency == 0)
        for var, slots in self._slots.items():
            flat = _flat_data(var)
            kernels.moving_average_update(slots["average"], flat, momentum)
            if overwrite:
                np.copyto(flat, slots["average"])

    def finalize_variable_values(self, var_list):
        """With use_ema, sets the variables of `var_list` to their moving averages (`fit`
        does this after the last epoch, as Keras)."""
        if not self.use_ema:
            return
        for var in var_list:
            slots = self._slots.get(var)
            if slots is not None:
                np.copyto(_flat_data(var), slots["average"])

    # ---- state -------------------------------------------------------------------------------
    def variables(self):
        """The state arrays (shaped like their variables, views of the live arrays) in a
        stable order, Keras's: the moving averages (use_ema), then each group of slots
        (see `_slot_groups`) over the variables in the order of their first update. With
        the iteration count and the learning rate, that is all the state (Nadam's running
        product of momentums is a function of the iteration count)."""
        items = list(self._slots.items())
        arrays = []
        if self.use_ema:
            arrays += [slots["average"].reshape(var.shape) for var, slots in items]
        for group in self._slot_groups():
            arrays += [slots[name].reshape(var.shape) for var, slots in items for name in group]
        return arrays

    def get_state(self):
        """A copy of everything the next updates depend on: `{"iterations": int,
        "learning_rate": float (absent with a schedule), "variables": [arrays]}`, the arrays
        in `variables()` order. Restore it with `set_state` on an optimizer of the same
        configuration built on the same variables (`build(model.trainable_weights)`)."""
        state = {"iterations": self.iterations,
                 "variables": [np.array(a, copy=True) for a in self.variables()]}
        if not callable(self._learning_rate):
            state["learning_rate"] = self._learning_rate
        return state

    def set_state(self, state):
        """Restores a `get_state()` (values are copied into the live state arrays)."""
        values = list(state["variables"])
        arrays = self.variables()
        if len(values) != len(arrays):
            hint = (" Build it first on the model's variables: "
                    "optimizer.build(model.trainable_weights)." if not arrays else "")
            raise ValueError(f"Optimizer {self.name!r} has {len(arrays)} state arrays, the "
                             f"state to restore has {len(values)}.{hint}")
        for i, (array, value) in enumerate(zip(arrays, values)):
            value = np.asarray(value)
            if value.shape != array.shape:
                raise ValueError(f"Optimizer {self.name!r}: state array {i} has shape "
                                 f"{array.shape}, the value to restore has shape {value.shape}.")
        for array, value in zip(arrays, values):
            np.copyto(array, np.asarray(value, dtype=array.dtype))
        self.iterations = int(state["iterations"])
        if "learning_rate" in state and not callable(self._learning_rate):
            self.learning_rate = state["learning_rate"]

    # ---- config ----------------------------------------------------------------------------
    def get_config(self):
        rate = self._learning_rate
        if isinstance(rate, schedules.LearningRateSchedule):
            rate = schedules.serialize(rate)
        config = {"name": self.name, "learning_rate": rate,
                  "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                  "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                  "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                  "ema_overwrite_frequency": self.ema_overwrite_frequency}
        if self.decay:
            config["decay"] = self.decay
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.get(config["learning_rate"])
        return cls(**config)

    def __repr__(self):
        return (f"<{type(self).__name__} learning_rate={self.learning_rate!r} "
                f"iterations={self.iterations}>")


def _gradient_array(grad, var):
    grad = np.asarray(getattr(grad, "data", grad))
    if grad.shape != var.shape:
        raise ValueError(f"Gradient of shape {grad.shape} does not match variable "
                         f"{var.name!r} of shape {var.shape}.")
    return np.ascontiguousarray(grad, dtype=var.dtype)


def _flat_data(var):
    """The variable's data as a flat view, so kernels update the variable itself."""
    if not var.data.flags.c_contiguous:
        var.data = np.ascontiguousarray(var.data)
    return var.data.reshape(-1)


def _norm(array):
    return float(np.linalg.norm(array.reshape(-1)))


def _scaled(array, scale):
    return array if scale == 1.0 else array * np.asarray(scale, dtype=array.dtype)


class SGD(Optimizer):
    """Gradient descent, optionally with (Nesterov) momentum:
    velocity = momentum * velocity - lr * g; w += velocity
    (Nesterov: w += momentum * velocity - lr * g)."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, name="SGD", **kwargs):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, **kwargs)
        self.momentum = _in_range(momentum, "momentum", 0.0, 1.0)
        self.nesterov = bool(nesterov)

    def _slot_groups(self):
        return (("momentum",),) if self.momentum else ()

    def _update_step(self, var, grad, slots, learning_rate):
        if self.momentum:
            kernels.sgd_momentum_update(var, grad, slots["momentum"], learning_rate,
                                        self.momentum, self.nesterov)
        else:
            kernels.sgd_update(var, grad, learning_rate)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """velocity = rho * velocity + (1 - rho) * g^2; w -= lr * g / sqrt(velocity + epsilon).

    `centered` subtracts the squared moving average of g from the velocity; `momentum` > 0
    accumulates the increments in a momentum buffer that is subtracted instead.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name="rmsprop", **kwargs):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, **kwargs)
        self.rho = _in_range(rho, "rho", 0.0, 1.0, high_inclusive=False)
        self.momentum = _in_range(momentum, "momentum", 0.0, 1.0)
        self.epsilon = _non_negative(epsilon, "epsilon")
        self.centered = bool(centered)

    def _slot_groups(self):
        return (("velocity",),) + ((("momentum",),) if self.momentum else ()) + (
            (("average_gradient",),) if self.centered else ())

    def _update_step(self, var, grad, slots, learning_rate):
        if not self.momentum and not self.centered:
            kernels.rmsprop_update(var, grad, slots["velocity"], learning_rate, self.rho,
                                   self.epsilon)
            return
        unused = np.empty(0, dtype=var.dtype)
        kernels.rmsprop_momentum_update(
            var, grad, slots["velocity"], slots.get("average_gradient", unused),
            slots.get("momentum", unused), learning_rate, self.rho, self.momentum,
            self.epsilon, self.centered)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adam(Optimizer):
    """m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2);
    w -= alpha * m / (sqrt(v) + epsilon) with alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t).
    `amsgrad` uses the running maximum of v instead of v."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name="adam", **kwargs):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, **kwargs)
        self.beta_1 = _in_range(beta_1, "beta_1", 0.0, 1.0, high_inclusive=False)
        self.beta_2 = _in_range(beta_2, "beta_2", 0.0, 1.0, high_inclusive=False)
        self.epsilon = _non_negative(epsilon, "epsilon")
        self.amsgrad = bool(amsgrad)

    def _slot_groups(self):
        return (("momentum",), ("velocity",)) + ((("velocity_hat",),) if self.amsgrad else ())

    def _update_step(self, var, grad, slots, learning_rate):
        step = self.iterations + 1
        alpha = learning_rate * math.sqrt(1.0 - self.beta_2 ** step) / (1.0 - self.beta_1 ** step)
        if self.amsgrad:
            kernels.adam_amsgrad_update(var, grad, slots["momentum"], slots["velocity"],
                                        slots["velocity_hat"], alpha, self.beta_1, self.beta_2,
                                        self.epsilon)
        else:
            kernels.adam_update(var, grad, slots["momentum"], slots["velocity"], alpha,
                                self.beta_1, self.beta_2, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class Adagrad(Optimizer):
    """accumulator += g^2; w -= lr * g / sqrt(accumulator + epsilon), the accumulators
    starting at initial_accumulator_value."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, name="adagrad",
                 **kwargs):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, **kwargs)
        self.initial_accumulator_value = _non_negative(initial_accumulator_value,
                                                       "initial_accumulator_value")
        self.epsilon = _non_negative(epsilon, "epsilon")

    def _slot_groups(self):
        return (("accumulator",),)

    def _slot_initial_value(self, name):
        return self.initial_accumulator_value if name == "accumulator" else 0.0

    def _update_step(self, var, grad, slots, learning_rate):
        kernels.adagrad_update(var, grad, slots["accumulator"], learning_rate, self.epsilon)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """acc_g = rho acc_g + (1 - rho) g^2; delta = -sqrt(acc_d + eps) g / sqrt(acc_g + eps);
    acc_d = rho acc_d + (1 - rho) delta^2; w += lr * delta."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, name="adadelta", **kwargs):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, **kwargs)
        self.rho = _in_range(rho, "rho", 0.0, 1.0)
        self.epsilon = _non_negative(epsilon, "epsilon")

    def _slot_groups(self):
        return (("accumulated_grad",), ("accumulated_delta_var",))

    def _update_step(self, var, grad, slots, learning_rate):
        kernels.adadelta_update(var, grad, slots["accumulated_grad"],
                                slots["accumulated_delta_var"], learning_rate, self.rho,
                                self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """m += (g - m)(1 - beta_1); u = max(beta_2 u, |g|);
    w -= lr * m / ((1 - beta_1^t)(u + epsilon))."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, name="adamax",
                 **kwargs):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, **kwargs)
        self.beta_1 = _in_range(beta_1, "beta_1", 0.0, 1.0, high_inclusive=False)
        self.beta_2 = _in_range(beta_2, "beta_2", 0.0, 1.0)
        self.epsilon = _non_negative(epsilon, "epsilon")

    def _slot_groups(self):
        return (("momentum", "norm"),)  # Keras creates both slots of a variable together

    def _update_step(self, var, grad, slots, learning_rate):
        kernels.adamax_update(var, grad, slots["momentum"], slots["norm"], learning_rate,
                              self.beta_1, self.beta_2,
                              1.0 - self.beta_1 ** (self.iterations + 1), self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat's schedule of momentum u_t = beta_1 (1 - 0.5 *
    0.96^t)): m and v as Adam;
    m_hat = u_{t+1} m / (1 - prod_{s<=t+1} u_s) + (1 - u_t) g / (1 - prod_{s<=t} u_s);
    w -= lr * m_hat / (sqrt(v / (1 - beta_2^t)) + epsilon)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, name="nadam",
                 **kwargs):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, **kwargs)
        self.beta_1 = _in_range(beta_1, "beta_1", 0.0, 1.0, high_inclusive=False)
        self.beta_2 = _in_range(beta_2, "beta_2", 0.0, 1.0, high_inclusive=False)
        self.epsilon = _non_negative(epsilon, "epsilon")
        # Keras's u_product, prod_{s<=t} u_s after t updates: a function of the iteration
        # count, recomputed (in the same order, so to the same bits) when that count was set
        # rather than counted, e.g. by set_state.
        self._u_product, self._u_product_step = 1.0, 0
        self._coefficients = None

    def _slot_groups(self):
        return (("momentum",), ("velocity",))

    def _momentum_at(self, step):
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** step)

    def _before_update_steps(self, learning_rate):
        step = self.iterations + 1
        if self._u_product_step != self.iterations:
            self._u_product = 1.0
            for s in range(1, self.iterations + 1):
                self._u_product *= self._momentum_at(s)
                if self._u_product == 0.0:
                    break
        u_t, u_next = self._momentum_at(step), self._momentum_at(step + 1)
        product = self._u_product = self._u_product * u_t
        self._u_product_step = step
        self._coefficients = (u_next / (1.0 - product * u_next), (1.0 - u_t) / (1.0 - product),
                              1.0 - self.beta_2 ** step)

    def _update_step(self, var, grad, slots, learning_rate):
        momentum_coef, gradient_coef, correction = self._coefficients
        kernels.nadam_update(var, grad, slots["momentum"], slots["velocity"], learning_rate,
                             self.beta_1, self.beta_2, self.epsilon, momentum_coef,
                             gradient_coef, correction)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class AdamW(Adam):
    """Adam with decoupled weight decay: w -= w * weight_decay * lr before each Adam step
    (default weight_decay 0.004)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency, name=name, **kwargs)


class Ftrl(Optimizer):
    """Follow the regularized leader (McMahan et al. 2013), as Keras: per weight, with
    n the accumulator (from initial_accumulator_value) and z the linear term,
    n' = n + g^2; z += g + 2 l2_shrinkage w - (n'^-p - n^-p) / lr * w;
    w = (clip(z, -l1, l1) - z) / (n'^-p / lr + 2 (l2 + beta / (2 lr))); n = n'
    with p = learning_rate_power."""

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name="ftrl", **kwargs):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, **kwargs)
        for value, argument in ((initial_accumulator_value, "initial_accumulator_value"),
                                (l1_regularization_strength, "l1_regularization_strength"),
                                (l2_regularization_strength, "l2_regularization_strength"),
                                (l2_shrinkage_regularization_strength,
                                 "l2_shrinkage_regularization_strength")):
            if _number(value, argument) < 0:
                raise ValueError(f"`{argument}` needs to be positive or zero. Received: "
                                 f"{argument}={value}.")
        if _number(learning_rate_power, "learning_rate_power") > 0:
            raise ValueError("`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = float(learning_rate_power)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.l1_regularization_strength = float(l1_regularization_strength)
        self.l2_regularization_strength = float(l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = float(l2_shrinkage_regularization_strength)
        self.beta = _number(beta, "beta")

    def _slot_groups(self):
        return (("accumulator", "linear"),)  # Keras creates both slots of a variable together

    def _slot_initial_value(self, name):
        return self.initial_accumulator_value if name == "accumulator" else 0.0

    def _update_step(self, var, grad, slots, learning_rate):
        if learning_rate <= 0:
            raise ValueError(f"Ftrl divides by the learning rate: it must be > 0, got "
                             f"{learning_rate!r} at iteration {self.iterations}.")
        l2 = self.l2_regularization_strength + self.beta / (2.0 * learning_rate)
        kernels.ftrl_update(var, grad, slots["accumulator"], slots["linear"], learning_rate,
                            self.learning_rate_power, self.l1_regularization_strength, l2,
                            self.l2_shrinkage_regularization_strength)

    def get_config(self):
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength":
                    self.l2_shrinkage_regularization_strength,
                "beta": self.beta}


# The one table of optimizer names; lookups are case-insensitive.
_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW, "adagrad": Adagrad,
            "adadelta": Adadelta, "adamax": Adamax, "nadam": Nadam, "ftrl": Ftrl}


def get(identifier):
    """An optimizer from a name (`"rmsprop"`, `"Adam"`, ...; case-insensitive), a config dict
    `{"class_name": ..., "config": {...}}`, an Optimizer class or instance."""
    if identifier is None:
        raise ValueError("An optimizer is required: pass a name such as 'rmsprop' or an "
                         "optimizer such as optimizer_rmsprop().")
    return resolve(identifier, "optimizer", Optimizer, _BY_NAME, valid_names=list(_BY_NAME),
                   accepts_functions=False, normalize=str.lower)


# R keras's constructors. **kwargs: weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
# ema_momentum, ema_overwrite_frequency, name, and the deprecated lr= and decay=.

def optimizer_sgd(learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
    return SGD(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov, **kwargs)


def optimizer_rmsprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                      **kwargs):
    return RMSprop(learning_rate=learning_rate, rho=rho, momentum=momentum, epsilon=epsilon,
                   centered=centered, **kwargs)


def optimizer_adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                   **kwargs):
    return Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                amsgrad=amsgrad, **kwargs)


def optimizer_adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                      **kwargs):
    return Adagrad(learning_rate=learning_rate,
                   initial_accumulator_value=initial_accumulator_value, epsilon=epsilon,
                   **kwargs)


def optimizer_adadelta(learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
    return Adadelta(learning_rate=learning_rate, rho=rho, epsilon=epsilon, **kwargs)


def optimizer_adamax(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
    return Adamax(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                  **kwargs)


def optimizer_nadam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
    return Nadam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                 **kwargs)


def optimizer_adamw(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                    epsilon=1e-7, amsgrad=False, **kwargs):
    return AdamW(learning_rate=learning_rate, weight_decay=weight_decay, beta_1=beta_1,
                 beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad, **kwargs)


def optimizer_ftrl(learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                   l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                   l2_shrinkage_regularization_strength=0.0, beta=0.0, **kwargs):
    return Ftrl(learning_rate=learning_rate, learning_rate_power=learning_rate_power,
                initial_accumulator_value=initial_accumulator_value,
                l1_regularization_strength=l1_regularization_strength,
                l2_regularization_strength=l2_regularization_strength,
                l2_shrinkage_regularization_strength=l2_shrinkage_regularization_strength,
                beta=beta, **kwargs)
