"""kerasr.kernels._memory: glibc's thresholds raised at import unless opted out."""

import ctypes
import sys

import numpy as np
import pytest

from kerasr.kernels import _memory


def test_opt_out_leaves_the_allocator_alone(monkeypatch):
    monkeypatch.setenv("KERASR_KEEP_FREED_MEMORY", "0")
    assert _memory.keep_freed_memory() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_applies_on_glibc_and_big_arrays_still_work(monkeypatch):
    monkeypatch.delenv("KERASR_KEEP_FREED_MEMORY", raising=False)
    try:
        ctypes.CDLL(None).gnu_get_libc_version
    except AttributeError:
        pytest.skip("not glibc")
    assert _memory.keep_freed_memory() is True
    for _ in range(3):  # allocate, fill and free blocks above glibc's default thresholds
        a = np.ones(1 << 23, dtype=np.float32)
        assert a.sum(dtype=np.float64) == 1 << 23
        del a
