"""The one random generator behind every draw: initializers, dropout, noise and shuffling.

`set_random_seed(seed)` reseeds it, so two runs with the same seed on the same machine are
bit-identical.
"""

import numpy as np

_generator = np.random.default_rng()


def set_random_seed(seed):
    """Seed every random draw kerasr makes (R keras's `set_random_seed()`, also
    `tensorflow::set_random_seed`): initializers, dropout and noise, shuffling, augmentation.

    After `set_random_seed(s)`, the same code on the same machine with the same thread count
    gives bit-identical weights, losses and history, in one process or another, with every
    optimizer and the parallel kernels. Another thread count, machine or library version
    may change the last bits. numpy's and Python's global generators are neither used nor
    seeded. `seed=None` reseeds from the operating system. See docs/reproducibility.md.
    """
    global _generator
    if seed is not None and (isinstance(seed, bool) or int(seed) != seed or seed < 0):
        raise ValueError(f"set_random_seed() expects a non-negative integer seed, got {seed!r}.")
    _generator = np.random.default_rng(None if seed is None else int(seed))


def generator():
    """The shared `numpy.random.Generator`."""
    return _generator


def _draw_dtype(dtype):
    # numpy draws float32 or float64 directly; other float types go through float32.
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float32)


def uniform(shape, minval=0.0, maxval=1.0, dtype="float32", generator=None):
    """Uniform draws in [minval, maxval); `generator` defaults to the shared one."""
    dtype = np.dtype(dtype)
    draw = (generator or _generator).random(shape, dtype=_draw_dtype(dtype))
    if minval != 0.0 or maxval != 1.0:
        draw = draw * (maxval - minval) + minval
    return draw.astype(dtype, copy=False)


def normal(shape, mean=0.0, stddev=1.0, dtype="float32", generator=None):
    dtype = np.dtype(dtype)
    draw = (generator or _generator).standard_normal(shape, dtype=_draw_dtype(dtype))
    if stddev != 1.0 or mean != 0.0:
        draw = draw * stddev + mean
    return draw.astype(dtype, copy=False)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype="float32", generator=None):
    """Normal draws, those beyond two standard deviations redrawn (as Keras does)."""
    generator = generator or _generator
    dtype = np.dtype(dtype)
    draw = generator.standard_normal(shape, dtype=_draw_dtype(dtype))
    outside = np.abs(draw) > 2.0
    while outside.any():
        draw[outside] = generator.standard_normal(int(outside.sum()), dtype=draw.dtype)
        outside = np.abs(draw) > 2.0
    return (draw * stddev + mean).astype(dtype, copy=False)


def permutation(n):
    return _generator.permutation(n)
