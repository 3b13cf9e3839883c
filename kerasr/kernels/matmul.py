"""Matrix products for the dense layers: small ones on the kernels' one-thread BLAS.

numpy's ``matmul`` runs on numpy's OpenBLAS, which starts its two threads for any product
above about 2^18 multiply-adds. Between the parallel convolution chunks of a training step
those threads (spinning after each call) and Numba's take each other's cores: the MNIST
convnet's predict batch took 16 ms with its two small dense layers on numpy (576 x 64 at
batch 128, 4.7M multiply-adds) against 6.6 ms with numpy's BLAS held to one thread. So
products below ``SMALL_PRODUCT`` multiply-adds go through Numba's ``np.dot`` (SciPy's BLAS,
held to one thread, see ``_blas.py``); large ones, where two threads pay (the MNIST MLP's
784 x 512 at batch 128: 51M), stay on numpy.
"""

import numpy as np

from ._jit import njit_helper

# Multiply-adds below which a product runs on one thread (2^23: a 64 x 576 x 64 dense step
# takes ~30 us on one core; the MLP's products are 6x above).
SMALL_PRODUCT = 1 << 23


@njit_helper
def _dot_into(a, b, out):
    np.dot(a, b, out)
    return out


def matmul(a, b):
    """a @ b for 2-D float arrays of one dtype (C- or F-contiguous, e.g. a transposed view)."""
    m, k = a.shape
    n = b.shape[1]
    if m * k * n >= SMALL_PRODUCT or a.dtype != b.dtype or m == 0 or n == 0 or k == 0:
        return a @ b
    if not (a.flags.c_contiguous or a.flags.f_contiguous):
        a = np.ascontiguousarray(a)
    if not (b.flags.c_contiguous or b.flags.f_contiguous):
        b = np.ascontiguousarray(b)
    return _dot_into(a, b, np.empty((m, n), dtype=a.dtype))
