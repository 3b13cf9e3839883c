"""The one random generator behind every draw: initializers, dropout, noise and shuffling.

`set_random_seed(seed)` reseeds it, so two runs with the same seed on the same machine are
bit-identical.
"""

import numpy as np

_generator = np.random.default_rng()


def set_random_seed(seed):
    """Seed every random draw kerasr makes (R keras's `set_random_seed()`, also `tensorflow::set_random_seed`)."""
    global _generator
    if seed is not None and (isinstance(seed, bool) or int(seed) != seed or seed < 0):
        raise ValueError(f"set_random_seed() expects a non-negative integer seed, got {seed!r}.")
    _generator = np.random.default_rng(None if seed is None else int(seed))


def generator():
    """The shared `numpy.random.Generator`."""
    return _generator


def uniform(shape, minval=0.0, maxval=1.0, dtype="float32"):
    dtype = np.dtype(dtype)
    if dtype in (np.float32, np.float64) and minval == 0.0 and maxval == 1.0:
        return _generator.random(shape, dtype=dtype)
    return _generator.uniform(minval, maxval, size=shape).astype(dtype, copy=False)


def normal(shape, mean=0.0, stddev=1.0, dtype="float32"):
    dtype = np.dtype(dtype)
    if dtype in (np.float32, np.float64):
        draw = _generator.standard_normal(shape, dtype=dtype)
    else:
        draw = _generator.standard_normal(shape).astype(dtype)
    if stddev != 1.0:
        draw *= stddev
    if mean != 0.0:
        draw += mean
    return draw


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype="float32"):
    """Normal draws redrawn until they fall within two standard deviations, as Keras does."""
    draw = _generator.standard_normal(shape)
    outside = np.abs(draw) > 2.0
    while outside.any():
        draw[outside] = _generator.standard_normal(int(outside.sum()))
        outside = np.abs(draw) > 2.0
    return (draw * stddev + mean).astype(dtype)


def permutation(n):
    return _generator.permutation(n)
