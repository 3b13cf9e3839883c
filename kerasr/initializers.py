"""Weight initializers (Keras 3's `keras.initializers`, R's `initializer_*()` functions).

An initializer is called as `initializer(shape, dtype=None)` and returns a numpy array
(`dtype` defaults to `floatx()`). Random initializers draw from kerasr's shared generator,
so `set_random_seed()` makes them reproducible; one given an explicit `seed` returns the
same values on every call, as in Keras 3.
"""

import math

import numpy as np

from . import config, random
from .identifiers import resolve

# Standard deviation of a standard normal truncated to [-2, 2]: dividing by it makes the
# truncated draws of VarianceScaling have the intended variance.
_TRUNCATED_STDDEV = 0.87962566103423978


def compute_fans(shape):
    """(fan_in, fan_out) of a weight of `shape`, as Keras counts them.

    For rank > 2 the weight is taken as a convolution kernel `(*receptive_field, in, out)`,
    whose fans are the channel counts times the receptive field size.
    """
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _dtype(dtype):
    return np.dtype(config.floatx() if dtype is None else dtype)


def _shape(shape):
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(d) for d in shape)


def _plain(value):
    """A numpy scalar or array as a Python number or (nested) list, so configs stay JSON."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


class Initializer:
    """Base class: subclasses implement `__call__(shape, dtype=None)`."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return np.zeros(_shape(shape), dtype=_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return np.ones(_shape(shape), dtype=_dtype(dtype))


class Constant(Initializer):
    """Every element equal to `value` (a scalar, or an array that broadcasts to the shape)."""

    def __init__(self, value=0.0):
        self.value = _plain(value)

    def __call__(self, shape, dtype=None):
        return np.array(np.broadcast_to(np.asarray(self.value, dtype=_dtype(dtype)), _shape(shape)))

    def get_config(self):
        return {"value": self.value}


class Identity(Initializer):
    """`gain` times the identity matrix; 2-D shapes only."""

    def __init__(self, gain=1.0):
        self.gain = _plain(gain)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(f"The identity initializer needs a 2-D shape, got {shape}.")
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


class RandomInitializer(Initializer):
    """Base of the random initializers: draws from `np.random.default_rng(seed)` when
    seeded (the same values on every call), else from kerasr's shared generator."""

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or int(seed) != seed or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}.")
        self.seed = None if seed is None else int(seed)

    def _generator(self):
        return random.generator() if self.seed is None else np.random.default_rng(self.seed)

    def _normal(self, shape, mean, stddev, dtype):
        return random.normal(shape, mean, stddev, dtype, generator=self._generator())

    def _truncated_normal(self, shape, mean, stddev, dtype):
        return random.truncated_normal(shape, mean, stddev, dtype, generator=self._generator())

    def _uniform(self, shape, minval, maxval, dtype):
        return random.uniform(shape, minval, maxval, dtype, generator=self._generator())

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = _plain(mean)
        self.stddev = _plain(stddev)

    def __call__(self, shape, dtype=None):
        return self._normal(_shape(shape), self.mean, self.stddev, _dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class TruncatedNormal(RandomInitializer):
    """Normal draws; those more than two standard deviations from the mean are redrawn."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = _plain(mean)
        self.stddev = _plain(stddev)

    def __call__(self, shape, dtype=None):
        return self._truncated_normal(_shape(shape), self.mean, self.stddev, _dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(RandomInitializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval = _plain(minval)
        self.maxval = _plain(maxval)

    def __call__(self, shape, dtype=None):
        return self._uniform(_shape(shape), self.minval, self.maxval, _dtype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


def _default_fan_axes(input_axes, output_axes):
    # Keras 3.15 writes these (None) into its configs; kerasr takes the fans from Keras's
    # default axes only.
    if input_axes is not None or output_axes is not None:
        raise ValueError("input_axes/output_axes are not supported: kerasr computes fan_in and "
                         "fan_out from the kernel's last two axes (Keras's default).")


class VarianceScaling(RandomInitializer):
    """Draws with variance `scale / n`, n being fan_in, fan_out or their mean (`mode`).

    `distribution="truncated_normal"` (or `"normal"`) and `"untruncated_normal"` use a
    standard deviation of sqrt(scale / n); `"uniform"` draws from [-limit, limit] with
    limit = sqrt(3 * scale / n).
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        super().__init__(seed)
        _default_fan_axes(input_axes, output_axes)
        if not scale > 0:
            raise ValueError(f"scale must be a positive number, got {scale!r}.")
        if mode not in self._MODES:
            raise ValueError(f"mode must be one of {list(self._MODES)}, got {mode!r}.")
        distribution = "truncated_normal" if distribution == "normal" else distribution
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {list(self._DISTRIBUTIONS)}, "
                             f"got {distribution!r}.")
        self.scale = _plain(scale)
        self.mode = mode
        self.distribution = distribution

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _dtype(dtype)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            return self._truncated_normal(shape, 0.0, math.sqrt(variance) / _TRUNCATED_STDDEV, dtype)
        if self.distribution == "untruncated_normal":
            return self._normal(shape, 0.0, math.sqrt(variance), dtype)
        limit = math.sqrt(3.0 * variance)
        return self._uniform(shape, -limit, limit, dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling preset: only the seed is configurable."""

    _PRESET = {}

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(seed=seed, input_axes=input_axes, output_axes=output_axes,
                         **self._PRESET)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_FixedVarianceScaling):
    """Uniform in [-limit, limit], limit = sqrt(6 / (fan_in + fan_out))."""
    _PRESET = dict(scale=1.0, mode="fan_avg", distribution="uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out))."""
    _PRESET = dict(scale=1.0, mode="fan_avg", distribution="truncated_normal")


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with stddev sqrt(2 / fan_in)."""
    _PRESET = dict(scale=2.0, mode="fan_in", distribution="truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """Uniform in [-limit, limit], limit = sqrt(6 / fan_in)."""
    _PRESET = dict(scale=2.0, mode="fan_in", distribution="uniform")


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with stddev sqrt(1 / fan_in)."""
    _PRESET = dict(scale=1.0, mode="fan_in", distribution="truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """Uniform in [-limit, limit], limit = sqrt(3 / fan_in)."""
    _PRESET = dict(scale=1.0, mode="fan_in", distribution="uniform")


class Orthogonal(RandomInitializer):
    """`gain` times a random orthogonal matrix (QR of a normal draw, signs fixed so the
    result is uniformly distributed). Higher ranks are flattened to
    (prod(shape[:-1]), shape[-1]) first; the rows are orthonormal if there are fewer rows
    than columns, else the columns are."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = _plain(gain)

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _dtype(dtype)
        if len(shape) < 2:
            raise ValueError(f"The orthogonal initializer needs a shape of rank >= 2, got {shape}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        draw = self._generator().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(draw)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(dtype)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


# The one table of initializer names: Keras's snake_case names and aliases; the class
# names are added below.
_BY_NAME = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "identity": Identity, "random_normal": RandomNormal, "normal": RandomNormal,
    "truncated_normal": TruncatedNormal, "random_uniform": RandomUniform,
    "uniform": RandomUniform, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_normal": HeNormal,
    "he_uniform": HeUniform, "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
    "orthogonal": Orthogonal, "IdentityInitializer": Identity,
    "OrthogonalInitializer": Orthogonal,
}
_BY_NAME.update({cls.__name__: cls for cls in set(_BY_NAME.values())})


def get(identifier):
    """An initializer from a name (`"glorot_uniform"`, `"GlorotUniform"`), a config dict
    `{"class_name": ..., "config": {...}}`, an Initializer class or instance, or a function
    `(shape, dtype) -> array`. None gives None."""
    return resolve(identifier, "initializer", Initializer, _BY_NAME)


# R keras's constructors.

def initializer_zeros():
    return Zeros()


def initializer_ones():
    return Ones()


def initializer_constant(value=0):
    return Constant(value)


def initializer_identity(gain=1):
    return Identity(gain)


def initializer_random_normal(mean=0, stddev=0.05, seed=None):
    return RandomNormal(mean, stddev, seed)


def initializer_random_uniform(minval=-0.05, maxval=0.05, seed=None):
    return RandomUniform(minval, maxval, seed)


def initializer_truncated_normal(mean=0, stddev=0.05, seed=None):
    return TruncatedNormal(mean, stddev, seed)


def initializer_variance_scaling(scale=1, mode="fan_in", distribution="truncated_normal", seed=None):
    return VarianceScaling(scale, mode, distribution, seed)


def initializer_glorot_uniform(seed=None):
    return GlorotUniform(seed)


def initializer_glorot_normal(seed=None):
    return GlorotNormal(seed)


def initializer_he_normal(seed=None):
    return HeNormal(seed)


def initializer_he_uniform(seed=None):
    return HeUniform(seed)


def initializer_lecun_normal(seed=None):
    return LecunNormal(seed)


def initializer_lecun_uniform(seed=None):
    return LecunUniform(seed)


def initializer_orthogonal(gain=1, seed=None):
    return Orthogonal(gain, seed)
