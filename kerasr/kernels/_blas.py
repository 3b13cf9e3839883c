"""Hold the BLAS that Numba's ``np.dot`` calls (SciPy's) to one thread (once per process).

Kernels that run ``np.dot`` inside a ``prange`` loop (convolution chunks, the recurrent
cells) want one BLAS thread per chunk: the parallel loop already keeps both cores busy,
and a BLAS call that starts its own threads inside it oversubscribes the cores (the
MNIST convnet's second convolution took 8 ms that way against 2.8 ms held; see
``convolution.py``). Numba's ``np.dot`` goes through ``scipy.linalg.cython_blas``, which on
the PyPI wheels is a different OpenBLAS library (``libscipy_openblas``) from the one
numpy's ``matmul`` uses (``libscipy_openblas64_``). So holding SciPy's to one thread
leaves numpy's two-thread GEMMs (the dense layers) alone.

The cost: SciPy's own BLAS calls in this process (``scipy.linalg``) also run on one thread
after ``import kerasr``. Set the environment variable KERASR_HOLD_KERNEL_BLAS=0 before
importing kerasr to leave it alone (the chunked kernels then run slower, not wrong).

The library is found from the address of the ``sgemm`` SciPy exports to Numba (``dladdr``
names the module holding it; looking the thread setter up through that module reaches the
BLAS it links), so it is the one Numba calls whatever its file name. OpenBLAS builds
(SciPy's prefixed one or a plain one) are recognised; anything else is left alone.
"""

import ctypes
import os

_SET_THREADS = ("scipy_openblas_set_num_threads", "openblas_set_num_threads",
                "scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_")
_held = None


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


def kernel_blas_path():
    """File of the module holding the sgemm Numba's np.dot calls, or None if unknown."""
    try:
        from scipy.linalg import cython_blas
        capsule = cython_blas.__pyx_capi__["sgemm"]
        api = ctypes.pythonapi
        api.PyCapsule_GetName.restype = ctypes.c_char_p
        api.PyCapsule_GetName.argtypes = (ctypes.py_object,)
        api.PyCapsule_GetPointer.restype = ctypes.c_void_p
        api.PyCapsule_GetPointer.argtypes = (ctypes.py_object, ctypes.c_char_p)
        address = api.PyCapsule_GetPointer(capsule, api.PyCapsule_GetName(capsule))
        dladdr = ctypes.CDLL(None).dladdr
        dladdr.argtypes = (ctypes.c_void_p, ctypes.POINTER(_DlInfo))
        dladdr.restype = ctypes.c_int
        info = _DlInfo()
        if not dladdr(address, ctypes.byref(info)) or not info.dli_fname:
            return None
        return os.fsdecode(info.dli_fname)
    except (ImportError, KeyError, OSError, AttributeError, ValueError):
        return None


def hold_kernel_blas():
    """Set the kernels' BLAS to one thread (once per process); True when it is held."""
    global _held
    if _held is not None:
        return _held
    _held = False
    if os.environ.get("KERASR_HOLD_KERNEL_BLAS", "1") == "0":
        return _held
    path = kernel_blas_path()
    if path is None:
        return _held
    try:
        library = ctypes.CDLL(path)
    except OSError:
        return _held
    for name in _SET_THREADS:
        setter = getattr(library, name, None)
        if setter is not None:
            setter.argtypes = (ctypes.c_int,)
            setter.restype = None
            setter(1)
            _held = True
            break
    return _held
