"""Reading data files without giving pickle a chance to run code.

IMDB's and Reuters's ``.npz`` files hold ragged sequences as numpy object
arrays, and CIFAR's batches are pickled dicts: both need pickle. The loaders
only unpickle a file whose hash matched the published one (or that the user
vouched for with ``trust=True``), and even then through
:class:`RestrictedUnpickler`, which can rebuild numpy arrays, numbers, strings,
lists and dicts but refuses every other global (``os.system``, ``eval``, ...).
Numeric arrays are always read with ``allow_pickle=False``.
"""

import io
import pickle
import zipfile

import numpy as np

__all__ = ["RestrictedUnpickler", "UnsafeFileError", "load_npz", "restricted_loads"]

# The globals a pickled numpy array needs (numpy < 2 spells the module
# numpy.core, numpy >= 2 numpy._core); nothing else is allowed.
_ALLOWED = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
})


class UnsafeFileError(ValueError):
    """A file would need pickle but is not known to be safe."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that only rebuilds numpy arrays and Python's plain containers."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing to unpickle {module}.{name}: a data file may only hold arrays, "
            "numbers, strings, lists and dicts (the file is corrupt or malicious)")


def restricted_loads(data, encoding="ASCII"):
    """``pickle.loads`` through :class:`RestrictedUnpickler`."""
    return RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()


def _read_npy(buf, allow_objects, where):
    version = np.lib.format.read_magic(buf)
    if version[0] == 1:
        _, _, dtype = np.lib.format.read_array_header_1_0(buf)
    else:
        _, _, dtype = np.lib.format.read_array_header_2_0(buf)
    if not dtype.hasobject:
        buf.seek(0)
        return np.lib.format.read_array(buf, allow_pickle=False)
    if not allow_objects:
        raise UnsafeFileError(f"{where} holds a pickled object array")
    array = RestrictedUnpickler(buf).load()
    if not isinstance(array, np.ndarray):
        raise ValueError(f"{where} does not hold an array")
    return array


def load_npz(path, allow_objects=False):
    """All arrays of an ``.npz`` file as a dict; object arrays only if ``allow_objects``.

    Raises ``ValueError`` for a file that is not a readable ``.npz`` (truncated,
    corrupt) and :class:`UnsafeFileError` for an object array when
    ``allow_objects`` is False.
    """
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                name = info.filename[: -len(".npy")]
                with archive.open(info) as raw:
                    buf = io.BytesIO(raw.read())
                arrays[name] = _read_npy(buf, allow_objects, f"{path} ({name})")
    except (zipfile.BadZipFile, EOFError, pickle.UnpicklingError) as exc:
        raise ValueError(f"{path} is not a readable .npz file (truncated or corrupt?): {exc}") \
            from exc
    return arrays
