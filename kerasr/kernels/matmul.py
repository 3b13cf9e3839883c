"""Matrix products for the dense layers: on numpy's BLAS, or on the kernels' BLAS.

numpy's ``matmul`` runs on numpy's OpenBLAS, which starts its two threads for any product
above about 2^18 multiply-adds. Between the parallel kernels of a convnet's step those
threads (spinning after each call) and Numba's take each other's cores: the MNIST
convnet's predict batch took 16 ms with its two small dense layers on numpy (576 x 64 at
batch 128, 4.7M multiply-adds) against 6.6 ms with numpy's BLAS held to one thread. So:
- products below ``SMALL_PRODUCT`` multiply-adds go through Numba's ``np.dot`` (SciPy's
  BLAS, held to one thread, see ``_blas.py``);
- large ones stay on numpy's two threads, where they pay (the MNIST MLP's 784 x 512 at batch
  128, 51M: 79,000 samples/s against 54,500 on one thread, 50,500 as parallel chunks of
  rows on one-thread BLAS), unless ``large_products_on_kernel_blas`` is in force: a model
  whose layers run on Numba's threads sets it around its forward pass (the book's
  cats-vs-dogs convnet, whose 6272 x 512 dense layer runs between them: 70 -> 90 samples/s
  training, 149 -> 261 predict). Then they run as parallel chunks of rows, each chunk's
  product on one thread of the kernels' BLAS.
"""

import contextlib

import numba
import numpy as np

from ._jit import even_chunk, njit_helper, njit_pair, prange

# Multiply-adds below which a product runs on one thread (2^23: a 64 x 576 x 64 dense step
# takes ~30 us on one core; the MLP's products are 6x above).
SMALL_PRODUCT = 1 << 23


# Rows per chunk at least, for the parallel product of large ones.
ROWS_PER_CHUNK_MIN = 32
MAX_CHUNKS = 8

_large_on_kernel_blas = False


@njit_helper
def _dot_into(a, b, out):
    np.dot(a, b, out)
    return out


def _rows_product(a, b, out, n_chunks):
    # out = a @ b: chunks of a's rows in parallel, each its own rows of out
    m = a.shape[0]
    for c in prange(n_chunks):
        lo, hi = even_chunk(c, m, n_chunks)
        np.dot(a[lo:hi], b, out[lo:hi])
    return out


_rows_product_serial, _rows_product_parallel = njit_pair(_rows_product)


@contextlib.contextmanager
def large_products_on_kernel_blas(enabled=True):
    """Within it (when ``enabled``), ``matmul`` runs large products on the kernels' BLAS
    too. Nested uses keep the outer setting on."""
    global _large_on_kernel_blas
    before = _large_on_kernel_blas
    _large_on_kernel_blas = before or bool(enabled)
    try:
        yield
    finally:
        _large_on_kernel_blas = before


def large_on_kernel_blas():
    """True while ``large_products_on_kernel_blas`` is in force."""
    return _large_on_kernel_blas


def matmul(a, b, large_on_kernel_blas=False):
    """a @ b for 2-D float arrays of one dtype (C- or F-contiguous, e.g. a transposed view);
    large products on the kernels' BLAS too when ``large_on_kernel_blas`` (see the top)."""
    m, k = a.shape
    n = b.shape[1]
    if a.dtype != b.dtype or m == 0 or n == 0 or k == 0:
        return a @ b
    if m * k * n >= SMALL_PRODUCT:
        if not large_on_kernel_blas:
            return a @ b
        a = np.ascontiguousarray(a)  # rows of a transposed view are not contiguous
        if not (b.flags.c_contiguous or b.flags.f_contiguous):
            b = np.ascontiguousarray(b)
        n_chunks = max(1, min(MAX_CHUNKS, m // ROWS_PER_CHUNK_MIN))
        kernel = _rows_product_parallel if numba.get_num_threads() > 1 else _rows_product_serial
        return kernel(a, b, np.empty((m, n), dtype=a.dtype), n_chunks)
    if not (a.flags.c_contiguous or a.flags.f_contiguous):
        a = np.ascontiguousarray(a)
    if not (b.flags.c_contiguous or b.flags.f_contiguous):
        b = np.ascontiguousarray(b)
    return _dot_into(a, b, np.empty((m, n), dtype=a.dtype))
