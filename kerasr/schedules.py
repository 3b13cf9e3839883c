"""Learning rate schedules (Keras 3's `keras.optimizers.schedules`, R's
`learning_rate_schedule_*()` functions).

A schedule is called with the optimizer's iteration count (the number of updates done so
far, 0 for the first update) and returns the learning rate of that update, as a Python float
computed in float64. Pass one as `learning_rate=` of any optimizer:

    optimizer_sgd(learning_rate=learning_rate_schedule_exponential_decay(0.1, 1000, 0.96))

Formulas, defaults, names and argument checks are Keras 3's.
"""

import math
import numbers

import numpy as np

from .identifiers import resolve


def _number(value, name, owner):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"{owner}: argument `{name}` must be a number. Received: "
                         f"{name}={value!r}")
    return value


def _positive(value, name, owner):
    _number(value, name, owner)
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value!r}")
    return value


def _step(step):
    if not isinstance(step, (numbers.Real, np.ndarray, np.generic)):
        step = getattr(step, "data", step)  # a Tensor
    try:
        step = float(step)
    except (TypeError, ValueError):
        raise ValueError(f"A learning rate schedule is called with the iteration count, "
                         f"got {step!r}.") from None
    if math.isnan(step) or step < 0:
        raise ValueError(f"The iteration count must be >= 0, got {step!r}.")
    return step


class LearningRateSchedule:
    """Base class: subclasses implement `__call__(step)` and `get_config()`."""

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  "override `__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  "override `get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _reject(self, kwargs):
        if kwargs:
            raise ValueError(f"{type(self).__name__}: argument(s) not recognized: "
                             f"{', '.join(sorted(kwargs))}.")

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"<{type(self).__name__} {args}>"


class _StepDecay(LearningRateSchedule):
    """What exponential and inverse-time decay share: their arguments, and the progress
    step / decay_steps (floored with `staircase`)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None, **kwargs):
        self._reject(kwargs)
        owner = type(self).__name__
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate",
                                             owner)
        self.decay_steps = _positive(decay_steps, "decay_steps", owner)
        self.decay_rate = _number(decay_rate, "decay_rate", owner)
        self.staircase = bool(staircase)
        self.name = owner if name is None else name

    def _progress(self, step):
        p = _step(step) / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_StepDecay):
    """initial_learning_rate * decay_rate ** (step / decay_steps); with `staircase`, the
    exponent is floored."""

    def __call__(self, step):
        return float(self.initial_learning_rate) * float(self.decay_rate) ** self._progress(step)


class InverseTimeDecay(_StepDecay):
    """initial_learning_rate / (1 + decay_rate * step / decay_steps); with `staircase`,
    step / decay_steps is floored."""

    def __call__(self, step):
        return float(self.initial_learning_rate) / (1.0 + self.decay_rate * self._progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <=
    boundaries[i], values[-1] after boundaries[-1]."""

    def __init__(self, boundaries, values, name="PiecewiseConstant", **kwargs):
        self._reject(kwargs)
        owner = type(self).__name__
        boundaries, values = _as_list(boundaries, "boundaries"), _as_list(values, "values")
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}.")
        for b in boundaries:
            _number(b, "boundaries", owner)
        for v in values:
            _number(v, "values", owner)
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(f"{owner}: `boundaries` must be strictly increasing. Received: "
                             f"boundaries={boundaries}")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = _step(step)
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


def _as_list(value, name):
    if isinstance(value, numbers.Real):  # R's length-1 vectors
        return [value]
    try:
        return list(value)
    except TypeError:
        raise ValueError(f"PiecewiseConstantDecay: `{name}` must be a list of numbers. "
                         f"Received: {name}={value!r}") from None


class PolynomialDecay(LearningRateSchedule):
    """(initial - end) * (1 - step / decay_steps) ** power + end, with step capped at
    decay_steps; with `cycle`, decay_steps is instead the first multiple of itself >= step."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay", **kwargs):
        self._reject(kwargs)
        owner = type(self).__name__
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate",
                                             owner)
        self.decay_steps = _positive(decay_steps, "decay_steps", owner)
        self.end_learning_rate = _number(end_learning_rate, "end_learning_rate", owner)
        self.power = _number(power, "power", owner)
        self.cycle = bool(cycle)
        self.name = name

    def __call__(self, step):
        step = _step(step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / decay_steps)
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return ((self.initial_learning_rate - self.end_learning_rate) * (1.0 - p) ** self.power
                + self.end_learning_rate)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay from initial_learning_rate to alpha * initial_learning_rate over
    decay_steps. With `warmup_target`, first a linear warmup from initial_learning_rate to
    warmup_target over warmup_steps, then the cosine decay from warmup_target."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0, **kwargs):
        self._reject(kwargs)
        owner = type(self).__name__
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate",
                                             owner)
        self.decay_steps = _positive(decay_steps, "decay_steps", owner)
        self.alpha = _number(alpha, "alpha", owner)
        self.name = name
        self.warmup_target = (None if warmup_target is None
                              else _number(warmup_target, "warmup_target", owner))
        self.warmup_steps = _number(warmup_steps, "warmup_steps", owner)
        if self.warmup_steps < 0:
            raise ValueError(f"Argument `warmup_steps` must be >= 0. Received: "
                             f"warmup_steps={warmup_steps!r}")

    def _decayed(self, step, start):
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = _step(step)
        if self.warmup_target is None:
            return self._decayed(min(step, self.decay_steps), float(self.initial_learning_rate))
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return delta * (step / self.warmup_steps) + self.initial_learning_rate
        return self._decayed(step - self.warmup_steps, float(self.warmup_target))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR: cosine decay from 1 to alpha (times initial_learning_rate) over
    first_decay_steps, then warm restarts, each t_mul times longer and starting m_mul times
    lower than the one before."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay", **kwargs):
        self._reject(kwargs)
        owner = type(self).__name__
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate",
                                             owner)
        self.first_decay_steps = _positive(first_decay_steps, "first_decay_steps", owner)
        self.t_mul = _positive(t_mul, "t_mul", owner)
        self.m_mul = _number(m_mul, "m_mul", owner)
        self.alpha = _number(alpha, "alpha", owner)
        self.name = name

    def __call__(self, step):
        fraction = _step(step) / self.first_decay_steps
        if self.t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            t_mul = float(self.t_mul)
            restart = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            done = (1.0 - t_mul ** restart) / (1.0 - t_mul)  # length of the finished periods
            fraction = (fraction - done) / t_mul ** restart
        cosine = 0.5 * float(self.m_mul) ** restart * (1.0 + math.cos(math.pi * fraction))
        return float(self.initial_learning_rate) * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self.t_mul,
                "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


_BY_NAME = {cls.__name__: cls for cls in (ExponentialDecay, InverseTimeDecay,
                                          PiecewiseConstantDecay, PolynomialDecay, CosineDecay,
                                          CosineDecayRestarts)}


def serialize(schedule):
    """`{"class_name": ..., "config": {...}}`, as Keras serializes a schedule."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def get(identifier):
    """A schedule from a config dict `{"class_name": "ExponentialDecay", "config": {...}}`,
    a class name with its config, or a schedule (returned as is)."""
    return resolve(identifier, "learning rate schedule", LearningRateSchedule, _BY_NAME,
                   accepts_functions=False)


deserialize = get


# R keras's constructors, with Keras's arguments, order and defaults.

def learning_rate_schedule_exponential_decay(initial_learning_rate, decay_steps, decay_rate,
                                             staircase=False, name="ExponentialDecay",
                                             **kwargs):
    return ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase=staircase,
                            name=name, **kwargs)


def learning_rate_schedule_inverse_time_decay(initial_learning_rate, decay_steps, decay_rate,
                                              staircase=False, name="InverseTimeDecay",
                                              **kwargs):
    return InverseTimeDecay(initial_learning_rate, decay_steps, decay_rate, staircase=staircase,
                            name=name, **kwargs)


def learning_rate_schedule_piecewise_constant_decay(boundaries, values,
                                                    name="PiecewiseConstant", **kwargs):
    return PiecewiseConstantDecay(boundaries, values, name=name, **kwargs)


def learning_rate_schedule_polynomial_decay(initial_learning_rate, decay_steps,
                                            end_learning_rate=0.0001, power=1.0, cycle=False,
                                            name="PolynomialDecay", **kwargs):
    return PolynomialDecay(initial_learning_rate, decay_steps,
                           end_learning_rate=end_learning_rate, power=power, cycle=cycle,
                           name=name, **kwargs)


def learning_rate_schedule_cosine_decay(initial_learning_rate, decay_steps, alpha=0.0,
                                        name="CosineDecay", warmup_target=None, warmup_steps=0,
                                        **kwargs):
    return CosineDecay(initial_learning_rate, decay_steps, alpha=alpha, name=name,
                       warmup_target=warmup_target, warmup_steps=warmup_steps, **kwargs)


def learning_rate_schedule_cosine_decay_restarts(initial_learning_rate, first_decay_steps,
                                                 t_mul=2.0, m_mul=1.0, alpha=0.0,
                                                 name="SGDRDecay", **kwargs):
    return CosineDecayRestarts(initial_learning_rate, first_decay_steps, t_mul=t_mul,
                               m_mul=m_mul, alpha=alpha, name=name, **kwargs)
