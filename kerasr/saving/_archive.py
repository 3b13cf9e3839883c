"""Reading zip archives (`.keras` files, `.npz` files) that may be hostile.

    with open_archive(path_or_bytes, what="Model file 'm.keras'") as archive:
        archive.names()                      # member names, in archive order
        "config.json" in archive             # membership
        archive.read("config.json", max_bytes=64 << 20)   # bytes, at most max_bytes

    members = read_members(path_or_bytes, what, allowed=(...), required=(...))  # {name: bytes}

`open_archive` checks the whole central directory before anything is read and refuses, with an
`ArchiveError` (a `ValueError`) naming the file and the problem:
- a file that is not a zip, or a truncated or corrupt one;
- member names that could escape a folder if someone extracted them (absolute, `..`, `.` or
  empty parts, backslashes, drive letters, control characters), and duplicate names;
- more than `max_members` members; encrypted members; compression other than stored/deflate;
- zip bombs: a member declaring more than `max_member_bytes`, a large compressed member
  expanding more than `max_ratio` times, declared sizes summing to more than `max_ratio` times
  the archive's size (plus a small allowance), stored members whose sizes disagree, and members
  whose data overlap (the "overlapping files" bomb).
`read` never trusts the header alone: it decompresses at most `min(max_bytes, declared size)`
+ 1 bytes, and a member whose actual size or CRC differs from its header is refused.
Nothing is ever extracted to disk.
"""

import io
import os
import struct
import zipfile
import zlib

__all__ = ["MAX_JSON_BYTES", "MAX_MEMBERS", "MAX_MEMBER_BYTES", "MAX_RATIO", "ArchiveError",
           "SafeArchive", "UnsafeArchiveError", "open_archive", "read_members"]

MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 8 << 30          # one member, uncompressed
MAX_JSON_BYTES = 64 << 20          # read_members' default cap for a .json member
MAX_RATIO = 100                     # uncompressed / compressed, for large compressed members
_RATIO_FREE_BYTES = 1 << 20         # members this small may compress as well as they like
_TOTAL_ALLOWANCE = 64 << 20         # total uncompressed may exceed ratio * archive by this
_LOCAL_HEADER = 30                  # fixed part of a zip local file header
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}


class ArchiveError(ValueError):
    """A zip archive kerasr cannot read: not a zip, truncated, corrupt, or a missing member."""


class UnsafeArchiveError(ArchiveError):
    """A zip archive refused as hostile: escaping or duplicate names, a zip bomb, ..."""


def _check_name(name, what):
    """Refuses member names that are not plain relative paths."""
    problem = None
    if not name:
        problem = "is empty"
    elif "\\" in name:
        problem = "contains a backslash"
    elif name.startswith("/"):
        problem = "is an absolute path"
    elif ":" in name:
        problem = "contains ':' (a drive letter or an alternate stream)"
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        problem = "contains control characters"
    else:
        parts = name[:-1].split("/") if name.endswith("/") else name.split("/")
        if any(part in ("", ".", "..") for part in parts):
            problem = "has an empty, '.' or '..' part (it could escape its folder)"
    if problem:
        raise UnsafeArchiveError(f"{what}: member name {name!r:.200} {problem}; refused.")


class SafeArchive:
    """A checked zip archive (see the module's docstring). Use `open_archive` to make one."""

    def __init__(self, zip_file, handle, what, archive_bytes, max_members, max_member_bytes,
                 max_ratio):
        self._zip = zip_file
        self._handle = handle           # the file object we opened ourselves, if any
        self.what = what
        self.max_member_bytes = max_member_bytes
        infos = zip_file.infolist()
        if len(infos) > max_members:
            raise UnsafeArchiveError(f"{what} has {len(infos)} members; at most {max_members} "
                                     "are allowed.")
        self._infos = {}
        total = 0
        for info in infos:
            name = info.filename
            _check_name(name, what)
            if name in self._infos:
                raise UnsafeArchiveError(f"{what} holds member {name!r:.200} twice; refused.")
            self._infos[name] = info
            if info.flag_bits & 0x1:
                raise ArchiveError(f"{what}: member {name!r:.200} is encrypted.")
            if info.compress_type not in _METHODS:
                raise ArchiveError(f"{what}: member {name!r:.200} uses compression method "
                                   f"{info.compress_type}; only stored and deflate are read.")
            size, packed = info.file_size, info.compress_size
            if size < 0 or packed < 0 or info.header_offset < 0:
                raise ArchiveError(f"{what}: member {name!r:.200} has negative sizes.")
            if size > max_member_bytes:
                raise UnsafeArchiveError(
                    f"{what}: member {name!r:.200} declares {size} bytes uncompressed, more than "
                    f"the limit of {max_member_bytes}; refused (zip bomb?).")
            if info.compress_type == zipfile.ZIP_STORED and size != packed:
                raise ArchiveError(f"{what}: stored member {name!r:.200} declares {size} bytes "
                                   f"but occupies {packed}: a corrupt archive.")
            if size > _RATIO_FREE_BYTES and size > max_ratio * max(packed, 1):
                raise UnsafeArchiveError(
                    f"{what}: member {name!r:.200} expands {packed} compressed bytes into "
                    f"{size} (more than {max_ratio} times); refused (zip bomb?).")
            total += size
        if total > max_ratio * archive_bytes + _TOTAL_ALLOWANCE:
            raise UnsafeArchiveError(
                f"{what}: its members declare {total} bytes uncompressed from an archive of "
                f"{archive_bytes} bytes; refused (zip bomb?).")
        self._check_no_overlap(archive_bytes)

    def _check_no_overlap(self, archive_bytes):
        end = 0
        for info in sorted(self._infos.values(), key=lambda info: info.header_offset):
            if info.header_offset < end:
                raise UnsafeArchiveError(
                    f"{self.what}: member {info.filename!r:.200} overlaps the previous one; "
                    "refused (overlapping members are a zip-bomb trick).")
            end = info.header_offset + _LOCAL_HEADER + len(info.orig_filename.encode("utf-8", "replace")) \
                + info.compress_size
            if end > archive_bytes:
                raise ArchiveError(f"{self.what}: member {info.filename!r:.200} runs past the "
                                   "end of the file: it is truncated.")

    # ---- queries -------------------------------------------------------------------------
    def names(self):
        """The member names, in the archive's order."""
        return list(self._infos)

    def __contains__(self, name):
        return name in self._infos

    def size(self, name):
        """The uncompressed size `name` declares (checked against `read`'s cap)."""
        return self._info(name).file_size

    def _info(self, name):
        try:
            return self._infos[name]
        except KeyError:
            raise ArchiveError(f"{self.what} lacks member {name!r:.200}: not a kerasr file, or a "
                               "damaged one.") from None

    def read(self, name, max_bytes=None):
        """The bytes of member `name`, refusing more than `max_bytes` (default: the archive's
        `max_member_bytes`), and any mismatch between its header and its data."""
        info = self._info(name)
        limit = self.max_member_bytes if max_bytes is None else min(max_bytes,
                                                                    self.max_member_bytes)
        if info.file_size > limit:
            raise UnsafeArchiveError(f"{self.what}: member {name!r:.200} declares "
                                     f"{info.file_size} bytes; at most {limit} are allowed here.")
        expected = info.file_size
        try:
            with self._zip.open(info) as member:
                # zipfile inflates at most `expected` bytes here (it never yields more than a
                # member declares, and checks the CRC once it has them all).
                data = member.read(expected)
                surplus = member.read(1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError,
                NotImplementedError, struct.error, OverflowError) as error:
            raise ArchiveError(f"{self.what}: member {name!r:.200} is corrupt or truncated "
                               f"({type(error).__name__}: {error}).") from None
        if len(data) != expected or surplus:
            raise ArchiveError(f"{self.what}: member {name!r:.200} holds "
                               f"{len(data) + len(surplus)}{'+' if surplus else ''} bytes but "
                               f"declares {expected}: a corrupt archive.")
        return data

    # ---- lifetime --------------------------------------------------------------------------
    def close(self):
        self._zip.close()
        if self._handle is not None:
            self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_archive(source, what=None, *, max_members=MAX_MEMBERS,
                 max_member_bytes=MAX_MEMBER_BYTES, max_ratio=MAX_RATIO):
    """A `SafeArchive` over `source`: a path, bytes (or bytearray/memoryview) or a seekable
    binary file object. `what` names the source in error messages (default: the path, or
    "the archive"). Raises `ArchiveError` / `UnsafeArchiveError` (ValueErrors) for bad
    archives; a missing or unreadable path raises the usual `OSError`."""
    handle = None
    if isinstance(source, (bytes, bytearray, memoryview)):
        stream = io.BytesIO(bytes(source))
        what = what or "The archive"
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        what = what or f"File {path!r}"
        stream = handle = open(path, "rb")  # noqa: SIM115 - closed by close(); OSErrors pass
    else:
        stream = source
        what = what or "The archive"
    try:
        stream.seek(0, io.SEEK_END)
        archive_bytes = stream.tell()
        stream.seek(0)
        try:
            zip_file = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                struct.error, OverflowError, IndexError, KeyError, NotImplementedError) as error:
            raise ArchiveError(f"{what} is not a readable zip archive: truncated or corrupt "
                               f"({type(error).__name__}: {error}).") from None
        try:
            return SafeArchive(zip_file, handle, what, archive_bytes, max_members,
                               max_member_bytes, max_ratio)
        except BaseException:
            zip_file.close()
            raise
    except BaseException:
        if handle is not None:
            handle.close()
        raise


def read_members(source, what=None, *, allowed=None, required=(), max_bytes=None, **limits):
    """{member name: bytes} of a whole archive, checked as `open_archive` does, and refusing
    members not in `allowed` (when given) and missing `required` ones. `max_bytes` caps each
    member ({name: cap} or one number; by default `MAX_JSON_BYTES` for `.json` members and
    `max_member_bytes` for the rest); `limits` go to `open_archive`."""
    with open_archive(source, what, **limits) as archive:
        what = archive.what
        names = archive.names()
        if allowed is not None:
            for name in names:
                if name not in allowed:
                    raise ArchiveError(f"{what} holds an unexpected member {name!r:.100}; it "
                                       f"should hold only {', '.join(allowed)}.")
        missing = [name for name in required if name not in archive]
        if missing:
            raise ArchiveError(f"{what} lacks {', '.join(missing)}: not a kerasr file, or a "
                               "damaged one.")
        members = {}
        for name in names:
            if isinstance(max_bytes, dict):
                cap = max_bytes.get(name)
            else:
                cap = max_bytes
            if cap is None and name.endswith(".json"):
                cap = MAX_JSON_BYTES
            members[name] = archive.read(name, max_bytes=cap)
        return members
