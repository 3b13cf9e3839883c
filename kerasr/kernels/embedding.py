"""Embedding lookup (row gather) and its gradient (row scatter-add)."""

import numpy as np

from ._jit import njit_pair, pick, prange

# Column blocks of the backward: at least this many columns each (two cache
# lines of float32), at most this many blocks.
_MIN_BLOCK_COLUMNS = 32
_MAX_COLUMN_BLOCKS = 8


def _embedding_forward(table, indices, out):
    dim = table.shape[1]
    for k in prange(indices.shape[0]):
        row = indices[k]
        for j in range(dim):
            out[k, j] = table[row, j]
    return out


def _embedding_backward(indices, g, n_rows):
    dim = g.shape[1]
    dtable = np.empty((n_rows, dim), dtype=g.dtype)
    # Split over columns, never over indices: a repeated index would make two
    # threads add into the same row. Every element still sums in index order,
    # so the result does not depend on the split.
    n_blocks = max(1, min(_MAX_COLUMN_BLOCKS, dim // _MIN_BLOCK_COLUMNS))
    for block in prange(n_blocks):
        start = block * dim // n_blocks
        stop = (block + 1) * dim // n_blocks
        for row in range(n_rows):  # each block zeroes its own columns
            for j in range(start, stop):
                dtable[row, j] = 0
        for k in range(indices.shape[0]):
            row = indices[k]
            for j in range(start, stop):
                dtable[row, j] += g[k, j]
    return dtable


_embedding_forward_serial, _embedding_forward_parallel = njit_pair(_embedding_forward)
_embedding_backward_serial, _embedding_backward_parallel = njit_pair(_embedding_backward)


def embedding_forward(table, indices, out):
    """out[k] = table[indices[k]]; indices int64, already range-checked."""
    kernel = pick((_embedding_forward_serial, _embedding_forward_parallel), out.size)
    return kernel(table, indices, out)


def embedding_backward(indices, g, n_rows):
    """Gradient of the table: zeros (n_rows, dim) plus g[k] added at row indices[k]."""
    kernel = pick((_embedding_backward_serial, _embedding_backward_parallel), g.size)
    return kernel(indices, g, int(n_rows))
