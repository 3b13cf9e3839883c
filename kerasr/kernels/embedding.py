"""Embedding lookup (row gather) and its gradient (row scatter-add)."""

import numpy as np

from ._jit import njit_pair, pick, prange

# Row blocks of the parallel backward (the serial one makes a single pass).
_PARALLEL_ROW_BLOCKS = 8


def _embedding_forward(table, indices, out):
    dim = table.shape[1]
    for k in prange(indices.shape[0]):
        row = indices[k]
        for j in range(dim):
            out[k, j] = table[row, j]
    return out


def _embedding_backward(indices, g, n_rows, n_blocks):
    dim = g.shape[1]
    dtable = np.empty((n_rows, dim), dtype=g.dtype)
    # Split over the table's rows, never over indices: a repeated index would make two
    # threads add into the same row. Each block scans all indices and adds those in its
    # rows, in index order, so the result does not depend on the split. One block: one
    # pass, each g row read once and added whole (IMDB's 64,000 x 128 into 10,000 rows:
    # 2.7 ms, against 9.4 ms when blocks took 32 columns each; 8 blocks on 2 threads 2.5).
    for block in prange(n_blocks):
        first = block * n_rows // n_blocks
        last = (block + 1) * n_rows // n_blocks
        for row in range(first, last):  # each block zeroes its own rows
            zeros = dtable[row]
            for j in range(dim):
                zeros[j] = 0
        for k in range(indices.shape[0]):
            row = indices[k]
            if first <= row < last:
                target = dtable[row]
                source = g[k]
                for j in range(dim):
                    target[j] += source[j]
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
    n_blocks = _PARALLEL_ROW_BLOCKS if kernel is _embedding_backward_parallel else 1
    return kernel(indices, g, int(n_rows), n_blocks)
