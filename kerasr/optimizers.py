"""Optimizers (Keras 3's `keras.optimizers`, R's `optimizer_*()` functions).

An optimizer updates variables in place from their gradients: `apply(grads, variables)`
clips the gradients, runs one Numba kernel per variable on its flat data and per-variable
slot arrays (momentums, velocities; created on first use), then applies the variable's
constraint. Update rules and defaults are Keras 3's.

The book's Keras 2 arguments still work with a warning: `lr=` (now `learning_rate=`) and
`decay=`, the time-based decay lr / (1 + decay * iterations).
"""

import inspect
import math
import numbers
import os
import sys
import warnings

import numpy as np

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
    # A schedule: any callable of the iteration count returning the rate.
    return value if callable(value) else _non_negative(value, "learning_rate")


class Optimizer:
    """Base class. Subclasses list their per-variable slots in `_slot_names()` and update
    one variable with one kernel call in `_update_step(var, grad, slots, learning_rate)`,
    all arrays flat (1-D) and in the variable's dtype.

    `iterations` counts the updates done; `learning_rate` is the rate the next update
    uses (a schedule evaluated at `iterations`, with the legacy `decay` applied).
    """

    def __init__(self, learning_rate, name, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, **kwargs):
        learning_rate = self._take_legacy_lr(learning_rate, kwargs)
        decay = kwargs.pop("decay", None)
        if kwargs:
            raise ValueError(f"{type(self).__name__}: argument(s) not recognized: "
                             f"{', '.join(sorted(kwargs))}.")
        self.decay = 0.0 if decay is None else _non_negative(decay, "decay")
        if self.decay:
            _warn_deprecated(
                "`decay` is deprecated (Keras 3 removed it). Use a learning rate schedule "
                "instead: learning_rate=learning_rate_schedule_inverse_time_decay("
                f"{learning_rate!r}, decay_steps=1, decay_rate={self.decay!r}).")
        self._learning_rate = _learning_rate(learning_rate)
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
        self.iterations = 0
        self._slots = {}  # Variable -> {slot name: flat array}, in first-update order

    def _take_legacy_lr(self, learning_rate, kwargs):
        """`lr=` as Keras 2 and the book spell it: honoured with a warning."""
        if "lr" not in kwargs:
            return learning_rate
        lr = kwargs.pop("lr")
        default = inspect.signature(type(self).__init__).parameters["learning_rate"].default
        if learning_rate != default:
            raise ValueError("Pass the learning rate once: either learning_rate= or the "
                             "deprecated lr=, not both.")
        _warn_deprecated("The `lr` argument has been renamed to `learning_rate`.")
        return lr

    # ---- learning rate ---------------------------------------------------------------------
    @property
    def learning_rate(self):
        rate = self._learning_rate
        rate = float(rate(self.iterations)) if callable(rate) else rate
        return rate / (1.0 + self.decay * self.iterations) if self.decay else rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = _learning_rate(value)

    # ---- updates ---------------------------------------------------------------------------
    def _slot_names(self):
        return ()

    def _update_step(self, var, grad, slots, learning_rate):
        raise NotImplementedError

    def build(self, variables):
        """Creates the slots of `variables` now rather than at their first update."""
        for var in variables:
            self._slots_of(var)

    def _slots_of(self, var):
        slots = self._slots.get(var)
        if slots is None:
            slots = self._slots[var] = {name: np.zeros(var.size, dtype=var.dtype)
                                        for name in self._slot_names()}
        return slots

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
        for grad, var in zip(grads, variables):
            flat = _flat_data(var)
            if self.weight_decay:
                flat *= 1.0 - self.weight_decay * learning_rate
            self._update_step(flat, grad.reshape(-1), self._slots_of(var), learning_rate)
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

    def variables(self):
        """The slot arrays (shaped like their variables) in a stable order: slot by slot,
        each over the variables in the order of their first update, as Keras orders them."""
        return [slots[name].reshape(var.shape) for name in self._slot_names()
                for var, slots in self._slots.items()]

    # ---- config ----------------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "learning_rate": self._learning_rate,
                  "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                  "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue}
        if self.decay:
            config["decay"] = self.decay
        return config

    @classmethod
    def from_config(cls, config):
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
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="SGD", **kwargs):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         **kwargs)
        self.momentum = _in_range(momentum, "momentum", 0.0, 1.0)
        self.nesterov = bool(nesterov)

    def _slot_names(self):
        return ("momentum",) if self.momentum else ()

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
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name="rmsprop", **kwargs):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         **kwargs)
        self.rho = _in_range(rho, "rho", 0.0, 1.0, high_inclusive=False)
        self.momentum = _in_range(momentum, "momentum", 0.0, 1.0)
        self.epsilon = _non_negative(epsilon, "epsilon")
        self.centered = bool(centered)

    def _slot_names(self):
        return ("velocity",) + (("momentum",) if self.momentum else ()) + (
            ("average_gradient",) if self.centered else ())

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
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name="adam", **kwargs):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         **kwargs)
        self.beta_1 = _in_range(beta_1, "beta_1", 0.0, 1.0, high_inclusive=False)
        self.beta_2 = _in_range(beta_2, "beta_2", 0.0, 1.0, high_inclusive=False)
        self.epsilon = _non_negative(epsilon, "epsilon")
        self.amsgrad = bool(amsgrad)

    def _slot_names(self):
        return ("momentum", "velocity") + (("velocity_hat",) if self.amsgrad else ())

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


# The one table of optimizer names; lookups are case-insensitive.
_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam}


def get(identifier):
    """An optimizer from a name (`"rmsprop"`, `"Adam"`, ...; case-insensitive), a config dict
    `{"class_name": ..., "config": {...}}`, an Optimizer class or instance."""
    if identifier is None:
        raise ValueError("An optimizer is required: pass a name such as 'rmsprop' or an "
                         "optimizer such as optimizer_rmsprop().")
    return resolve(identifier, "optimizer", Optimizer, _BY_NAME, valid_names=list(_BY_NAME),
                   accepts_functions=False, normalize=str.lower)


# R keras's constructors. **kwargs: weight_decay, clipnorm, clipvalue, global_clipnorm, name,
# and the deprecated lr= and decay=.

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
