"""Column sums (bias gradients outside the fused activation path)."""

import numpy as np

from ._jit import njit_pair, pick, prange, row_chunking


def _column_sum(x, out):
    rows, cols = x.shape
    n_chunks, chunk_rows = row_chunking(rows)
    # Per-chunk partial rows: threads never add into shared memory, and the
    # summation order is the same serial or parallel.
    # (np.empty + zeroing in the loop: np.zeros would be one more parallel loop)
    partial = np.empty((n_chunks, cols), dtype=out.dtype)
    for chunk in prange(n_chunks):
        acc = partial[chunk]
        for j in range(cols):
            acc[j] = 0
        for i in range(chunk * chunk_rows, min((chunk + 1) * chunk_rows, rows)):
            for j in range(cols):
                acc[j] += x[i, j]
    for j in range(cols):
        out[j] = 0
    for chunk in range(n_chunks):
        for j in range(cols):
            out[j] += partial[chunk, j]
    return out


_column_sum_serial, _column_sum_parallel = njit_pair(_column_sum)


def column_sum(x, out):
    """out[j] = sum_i x[i, j] for 2-D x."""
    return pick((_column_sum_serial, _column_sum_parallel), x.size)(x, out)
