"""Shared Numba setup: one kernel source compiled as a serial and a parallel variant.

Kernels loop over their parallel axis with ``prange``; compiled with
``parallel=False`` that is a plain ``range``. Nothing compiles at import time.
"""

import types

import numpy as np

import numba
from numba import prange  # noqa: F401  (re-exported for the kernel modules)
from numba.core import types as nbtypes
from numba.extending import overload

# No nnan/ninf: NaN and inf must still come out of the kernels.
FASTMATH = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})

_JIT_OPTIONS = dict(cache=True, error_model="numpy", fastmath=set(FASTMATH), nogil=True)

# Work (elements) from which the public entry points take the parallel variant.
# Measured on the 2-core box: alone, parallel wins from ~2^18 elements; but
# alternating with OpenBLAS calls, as a training step does, it lost at every
# size up to 2^24 (spin-waiting OpenMP and BLAS threads take each other's core).
# So only for very large single operations.
PARALLEL_MIN_ELEMENTS = 1 << 24

# Row chunking for column reductions: a fixed number of per-chunk partial sums
# (independent of the thread count), so serial and parallel sum in the same order.
ROW_CHUNKS_MAX = 32
ROWS_PER_CHUNK_MIN = 32


def njit_helper(fn):
    """Serial njit with the kernel options, for helpers called from kernels."""
    return numba.njit(**_JIT_OPTIONS)(fn)


def njit_exact(fn):
    """Serial njit without fastmath, for the few expressions whose evaluation
    order matters ("reassoc" would let LLVM regroup them and lose digits)."""
    options = dict(_JIT_OPTIONS, fastmath=False)
    return numba.njit(**options)(fn)


def _renamed_copy(fn, name):
    # Numba's disk cache is indexed by qualname + line and its key ignores the
    # `parallel` flag, so each variant needs its own name or one would load the
    # other's machine code.
    copy = types.FunctionType(
        fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__
    )
    copy.__qualname__ = name
    copy.__module__ = fn.__module__
    copy.__doc__ = fn.__doc__
    return copy


def njit_pair(fn):
    """Compile ``fn`` lazily twice: returns ``(serial, parallel)`` dispatchers
    named ``<name>_serial`` and ``<name>_parallel``."""
    name = fn.__name__
    serial = numba.njit(parallel=False, **_JIT_OPTIONS)(
        _renamed_copy(fn, name + "_serial")
    )
    parallel = numba.njit(parallel=True, **_JIT_OPTIONS)(
        _renamed_copy(fn, name + "_parallel")
    )
    return serial, parallel


def njit_inlined(fn):
    """``fn`` compiled into each jitted caller (Numba's ``inline="always"``), as its own copy
    named ``<name>_inlined`` for the cache. LLVM then sees the caller's arguments: one array
    passed as both input and output is known to be one array (see activations.py)."""
    return numba.njit(inline="always", **_JIT_OPTIONS)(
        _renamed_copy(fn, fn.__name__ + "_inlined"))


def use_parallel(n_elements):
    """True when the work is big enough for the parallel variant to pay off."""
    return n_elements >= PARALLEL_MIN_ELEMENTS and numba.get_num_threads() > 1


def pick(pair, n_elements):
    """The serial or parallel dispatcher of ``pair`` for this much work."""
    return pair[1] if use_parallel(n_elements) else pair[0]


def dtype_const(like, value):
    """``value`` cast to the float type of ``like`` (an array or a scalar).

    Only callable from jitted code; keeps float32 loops free of float64 promotion.
    """
    raise NotImplementedError("dtype_const is only usable inside jitted code")


@overload(dtype_const)  # tiny: LLVM inlines it; numba-level inlining only slows compiles
def _dtype_const_overload(like, value):
    target = like.dtype if isinstance(like, nbtypes.Array) else like

    def impl(like, value):
        return target(value)

    return impl


def smallest_normal(like):
    """The smallest normal number of ``like``'s float type (jitted code only)."""
    raise NotImplementedError("smallest_normal is only usable inside jitted code")


@overload(smallest_normal)
def _smallest_normal_overload(like):
    target = like.dtype if isinstance(like, nbtypes.Array) else like
    tiny = float(np.finfo(str(target)).tiny)

    def impl(like):
        return target(tiny)

    return impl


@njit_helper
def flush_subnormal(x, tiny):
    """0 for |x| below the smallest normal number, else x (NaN stays NaN).

    Optimizer slots decay geometrically where gradients are zero; once subnormal, every
    operation on them costs ~100x (RMSprop training slowed 2x within two MNIST epochs).
    TensorFlow and XLA avoid this by flushing subnormals to zero, as this does.
    """
    return x - x if abs(x) < tiny else x  # x - x: a zero of x's own type


@njit_helper
def row_chunking(rows):
    """(number of chunks, rows per chunk) for per-chunk partial column sums."""
    n_chunks = min(ROW_CHUNKS_MAX, (rows + ROWS_PER_CHUNK_MIN - 1) // ROWS_PER_CHUNK_MIN)
    if n_chunks == 0:
        return 0, 0
    return n_chunks, (rows + n_chunks - 1) // n_chunks


@njit_helper
def even_chunk(chunk, n, n_chunks):
    """[lo, hi) of chunk ``chunk`` when n items split into n_chunks chunks whose sizes differ
    by one at most."""
    return chunk * n // n_chunks, (chunk + 1) * n // n_chunks


def sum_in_chunk_order(parts, out=None):
    """parts[0] + parts[1] + ... added in that order (the serial and the parallel variants
    then give the same bits), into ``out`` if given."""
    if out is None:
        out = parts[0].copy()
    else:
        out[...] = parts[0]
    for part in parts[1:]:
        out += part
    return out
