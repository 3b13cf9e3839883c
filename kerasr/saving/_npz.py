"""Numpy `.npz` archives with a JSON header, read without pickle and without trusting sizes.

`read_npz` opens the archive through `_archive.open_archive` (hostile names, zip bombs,
truncation and corruption are refused there), then parses each `.npy` member's header itself
and refuses, before allocating anything: object (pickled) arrays, structured and non-numeric
dtypes (only float, int, unsigned and bool arrays are weights), negative or absurd shapes, and
any member whose declared shape x itemsize differs from the bytes it actually holds (a shape
bomb or a truncated array). Every refusal is a `ValueError` (an `NpzError`) naming the file and
the member.
"""

import io
import json
import math

import numpy as np

from ._archive import ArchiveError, open_archive

HEADER = "__kerasr_header__"
MAX_ARRAYS = 100_000
_MAX_HEADER_BYTES = 64 << 20      # the JSON header member
_MAX_NPY_HEADER = 10_000          # numpy's own default limit for a .npy header
_MAX_NDIM = 64
_KINDS = "fiub"                   # float, signed int, unsigned int, bool


class NpzError(ArchiveError):
    """An `.npz` file kerasr refuses to read (corrupt, truncated, or holding unsafe arrays)."""


def write_npz(handle, arrays, header):
    """Writes `arrays` ({name: array}) and a JSON `header` (a uint8 array) into `handle`."""
    members = {HEADER: np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)}
    for name, array in arrays.items():
        array = np.asarray(array)
        if array.dtype.hasobject:
            raise ValueError(f"Cannot save {name!r}: an array of Python objects ({array.dtype}).")
        members[name] = array
    np.savez(handle, **members)


def parse_npy(data, where):
    """The array stored in `data` (the bytes of one `.npy` file), checked as described in the
    module's docstring; a fresh, writable, native-byte-order array."""
    buffer = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(buffer)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                buffer, max_header_size=_MAX_NPY_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                buffer, max_header_size=_MAX_NPY_HEADER)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except Exception as error:  # noqa: BLE001 - numpy reports bad headers in several types
        raise NpzError(f"{where} is not a valid .npy array ({type(error).__name__}: "
                       f"{str(error)[:200]}).") from None
    if not isinstance(dtype, np.dtype):
        raise NpzError(f"{where} has no valid dtype.")
    if dtype.hasobject:
        raise NpzError(f"{where} is not a readable kerasr file: it holds Python objects, "
                       "which need pickle to load; refused (kerasr never unpickles a file).")
    if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in _KINDS:
        raise NpzError(f"{where} has dtype {dtype!s:.80}; weights must be float, int or bool "
                       "arrays.")
    if (not isinstance(shape, tuple) or len(shape) > _MAX_NDIM
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                       for d in shape)):
        raise NpzError(f"{where} declares an invalid shape {shape!r:.200}.")
    offset = buffer.tell()
    count = math.prod(shape)
    available = len(data) - offset
    if count * dtype.itemsize != available:
        raise NpzError(f"{where} declares shape {shape!r:.200} of {dtype} ("
                       f"{count * dtype.itemsize} bytes) but holds {available} bytes of data: "
                       "a truncated array or a forged shape; refused.")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    array = array.reshape(shape, order="F" if fortran else "C")
    return np.array(array, dtype=dtype.newbyteorder("="), order="C", copy=True)


def read_npz(source, what, expected_format):
    """(header, {name: array}) from an `.npz` path, file object or bytes; pickled (object)
    arrays, bombs and corrupt members are refused. Errors are ValueErrors naming `what`; a
    missing file raises the usual OSError."""
    arrays, raw = {}, None
    with open_archive(source, what, max_members=MAX_ARRAYS) as archive:
        for member in archive.names():
            if not member.endswith(".npy"):
                raise NpzError(f"{what} holds member {member!r:.200}, which is not a .npy "
                               "array: not a kerasr file.")
            name = member[:-len(".npy")]
            where = f"{what}: array {name!r:.200}"
            limit = _MAX_HEADER_BYTES if name == HEADER else None
            arrays[name] = parse_npy(archive.read(member, max_bytes=limit), where)
    raw = arrays.pop(HEADER, None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise NpzError(f"{what} is not a kerasr {expected_format} file (no header).")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise NpzError(f"{what} has a corrupt header ({type(error).__name__}: "
                       f"{str(error)[:200]}).") from None
    if not isinstance(header, dict) or header.get("format") != expected_format:
        found = header.get("format") if isinstance(header, dict) else None
        raise NpzError(f"{what} is not a kerasr {expected_format} file (format {found!r:.100}).")
    return header, arrays
