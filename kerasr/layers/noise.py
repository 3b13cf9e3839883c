"""Noise layers (Keras 3's GaussianNoise, GaussianDropout, AlphaDropout): active only in
training, the identity at inference. Every draw comes from `kerasr.random`, so
`set_random_seed` makes them reproducible; `seed` is kept for Keras's signature only, as in
`Dropout`."""

import math

import numpy as np

from .. import ops, random
from .base import Layer
from .core import noise_shape_argument, rate_in_unit_interval, seed_argument

# SELU's constants (Klambauer et al. 2017), as Keras's AlphaDropout writes them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class _NoiseLayer(Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed_argument(self, seed)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape


class GaussianNoise(_NoiseLayer):
    """Adds zero-centered Gaussian noise of standard deviation `stddev` in training."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        number = isinstance(stddev, (int, float, np.integer, np.floating)) \
            and not isinstance(stddev, bool)
        if not number or not stddev >= 0 or not math.isfinite(stddev):
            raise ValueError(f"{self.name}: stddev must be a finite number >= 0, got {stddev!r}.")
        self.stddev = float(stddev)

    def call(self, inputs, training=None):
        if not training or self.stddev == 0.0:
            return inputs
        return ops.add(inputs, random.normal(inputs.shape, stddev=self.stddev, dtype=inputs.dtype))

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_NoiseLayer):
    """Multiplies by 1-centered Gaussian noise of standard deviation sqrt(rate / (1 - rate))
    in training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = rate_in_unit_interval(self, "rate", rate)

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return ops.multiply(inputs, random.normal(inputs.shape, mean=1.0, stddev=stddev,
                                                  dtype=inputs.dtype))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(_NoiseLayer):
    """Dropout for SELU networks: dropped units are set to SELU's negative saturation
    -alpha * scale, then an affine map a * x + b restores the inputs' mean and variance
    (for inputs of mean 0 and variance 1): a = ((1 - rate) (1 + rate alpha'^2))^(-1/2),
    b = -a alpha' rate, alpha' = -alpha * scale."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = rate_in_unit_interval(self, "rate", rate)
        self.noise_shape = noise_shape_argument(noise_shape)

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        shape = inputs.shape
        if self.noise_shape is not None:
            if len(self.noise_shape) != inputs.ndim:
                raise ValueError(f"{self.name}: noise_shape {self.noise_shape} must have one "
                                 f"entry per input axis, inputs have shape {inputs.shape}.")
            shape = tuple(s if n is None else int(n)
                          for s, n in zip(inputs.shape, self.noise_shape))
        rate = self.rate
        alpha_p = -SELU_ALPHA * SELU_SCALE
        a = ((1.0 - rate) * (1.0 + rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * rate
        kept = (random.uniform(shape, dtype=inputs.dtype) >= rate).astype(inputs.dtype)
        # a * (x * kept + alpha_p * (1 - kept)) + b, as one multiply and one add.
        factor = (a * kept).astype(inputs.dtype)
        offset = (a * alpha_p * (1.0 - kept) + b).astype(inputs.dtype)
        return ops.add(ops.multiply(inputs, factor), offset)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": self.seed}
