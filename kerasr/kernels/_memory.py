"""Keep freed memory in the process instead of handing it back to the OS (glibc only).

A training step allocates and frees the same large arrays every batch (im2col columns,
convolution outputs, their gradients: 1-20 MB each for the book's MNIST convnet). glibc
serves such blocks with fresh mmap()s, or trims them off the heap once freed, so every
batch touches several thousand new pages, each a page fault (2,800 per predict batch of
128, 5,200 per training batch of 64). Measured on the 2-core box, MNIST convnet, median
samples/s: predict 7,300 -> 13,000, training 2,700 -> 4,400 with the two limits below.
The cost: memory freed by kerasr (or anything else in the process) stays reserved for
reuse, up to ``TRIM_THRESHOLD`` above the heap's live data, instead of going back to the
OS. Set the environment variable KERASR_KEEP_FREED_MEMORY=0 before importing kerasr to
keep glibc's defaults.
"""

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

# Blocks below this come from the heap (reused) rather than from their own mmap().
MMAP_THRESHOLD = 1 << 28
# Free memory at the top of the heap beyond this goes back to the OS.
TRIM_THRESHOLD = 1 << 29


def keep_freed_memory():
    """Raise glibc's mmap and trim thresholds (once per process); True when applied."""
    if os.environ.get("KERASR_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (or no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
