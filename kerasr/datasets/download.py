"""``get_file()``: download a file once, verify it, and keep it in kerasr's cache.

R keras's ``get_file()`` (Keras's ``keras.utils.get_file``): the file at
``origin`` is saved as ``<cache_dir>/<cache_subdir>/<fname>``, where
``cache_dir`` defaults to ``$KERASR_HOME`` or ``~/.kerasr``. A file already in
the cache is used without any network access (after checking its hash, when
one is given).

Guarantees:

* atomic: the download goes to a hidden temporary file in the target folder,
  is verified, then renamed into place with ``os.replace``; an error (HTTP
  error, dropped connection, checksum mismatch, Ctrl-C) removes the temporary
  file, so the cache never holds a partial or unverified download;
* clear errors: :class:`DownloadError` (unreachable URL, no network, dropped
  connection) names the URL and the exact path where to put the file to work
  offline; :class:`ChecksumError` gives the expected and actual hashes;
  a truncated or corrupt archive raises ``ValueError`` naming the file;
* a progress bar on stderr while downloading (``progress=False`` silences it).
"""

import hashlib
import http.client
import os
import shutil
import socket
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile

__all__ = ["get_file", "hash_file", "cache_root", "DownloadError", "ChecksumError"]

_CHUNK = 1 << 16


class DownloadError(ConnectionError):
    """A file could not be downloaded (no network, bad URL, dropped connection)."""


class ChecksumError(ValueError):
    """A file's hash does not match the published one."""


def cache_root():
    """kerasr's cache folder: ``$KERASR_HOME`` if set, else ``~/.kerasr``."""
    home = os.environ.get("KERASR_HOME")
    if home:
        return os.path.abspath(os.path.expanduser(home))
    return os.path.join(os.path.expanduser("~"), ".kerasr")


def _hasher(algorithm, file_hash=None):
    if algorithm == "auto":
        # Keras's rule: 64 hex digits are SHA-256, anything else MD5 (legacy).
        algorithm = "sha256" if file_hash is None or len(file_hash) == 64 else "md5"
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "md5":
        return hashlib.md5()
    raise ValueError(
        f'hash_algorithm must be "auto", "sha256" or "md5", got {algorithm!r}')


def hash_file(fpath, algorithm="sha256", chunk_size=_CHUNK):
    """The hex digest of a file (``"sha256"``, ``"md5"``; ``"auto"`` means SHA-256)."""
    h = _hasher(algorithm)
    with open(fpath, "rb") as f:
        for block in iter(lambda: f.read(chunk_size), b""):
            h.update(block)
    return h.hexdigest()


def _digest(fpath, file_hash, algorithm):
    h = _hasher(algorithm, file_hash)
    with open(fpath, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.name, h.hexdigest()


def _matches(fpath, file_hash, algorithm):
    return _digest(fpath, file_hash, algorithm)[1] == file_hash.lower()


class _ProgressBar:
    """``  3.1 MB / 11.5 MB [=======>...................]  27%`` on stderr."""

    WIDTH = 30

    def __init__(self, total, enabled, stream=None):
        self.total = total if total and total > 0 else None
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.last = 0.0
        self.drawn = None

    @staticmethod
    def _mb(n):
        return f"{n / 1e6:.1f} MB"

    def update(self, done, final=False):
        if not self.enabled:
            return
        now = time.monotonic()
        if done == self.drawn or (not final and now - self.last < 0.1):
            return
        self.last, self.drawn = now, done
        if self.total:
            frac = min(done / self.total, 1.0)
            filled = int(frac * self.WIDTH)
            bar = "=" * filled + (">" if filled < self.WIDTH else "") + \
                "." * max(self.WIDTH - filled - 1, 0)
            line = f"{self._mb(done)} / {self._mb(self.total)} [{bar}] {frac:4.0%}"
        else:
            line = f"{self._mb(done)} downloaded"
        self.stream.write("\r  " + line)
        self.stream.flush()

    def close(self, done):
        if self.enabled:
            self.update(done, final=True)
            self.stream.write("\n")
            self.stream.flush()


def _offline_recipe(origin, target, file_hash, algorithm):
    lines = [
        "To work offline, download that URL on a machine with network access and save the file as",
        f"  {target}",
    ]
    if file_hash:
        name = _hasher(algorithm, file_hash).name
        lines.append(f"(its {name} must be {file_hash}).")
    lines.append("Set KERASR_HOME to use another cache folder than ~/.kerasr.")
    return "\n".join(lines)


def _download(origin, target, progress, timeout, file_hash, algorithm):
    """Download ``origin`` to a temporary file next to ``target``; return its path."""
    folder, name = os.path.split(target)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    try:
        done = 0
        total = None
        with os.fdopen(fd, "wb") as out:
            if progress:
                print(f"Downloading data from {origin}", file=sys.stderr)
            request = urllib.request.Request(origin, headers={"User-Agent": "kerasr"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                bar = _ProgressBar(total, progress)
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    done += len(chunk)
                    bar.update(done)
                bar.close(done)
            # http.client does not raise when the server closes the connection
            # early: compare with the announced length ourselves.
            if total is not None and done != total:
                raise DownloadError(
                    f"the connection was dropped after {done} of {total} bytes")
            out.flush()
            os.fsync(out.fileno())
        return tmp
    except BaseException as exc:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(exc, urllib.error.HTTPError):
            reason = f"HTTP {exc.code} {exc.reason}"
            exc.close()  # an HTTPError holds the open response
        elif isinstance(exc, urllib.error.URLError):
            reason = str(exc.reason)
        elif isinstance(exc, (DownloadError, http.client.HTTPException, socket.timeout,
                              ConnectionError, TimeoutError)):
            reason = str(exc) or type(exc).__name__
        elif isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
            reason = str(exc)
        else:
            raise
        raise DownloadError(
            f"Could not download {origin}: {reason}.\n"
            + _offline_recipe(origin, target, file_hash, algorithm)) from exc


def _targets(fname, datadir, extract):
    """Keras 3's naming: where the archive goes, and where it is extracted."""
    if not extract:
        return os.path.join(datadir, fname), None
    if "." in fname:
        stem = fname[:fname.find(".")]
        return os.path.join(datadir, fname), os.path.join(datadir, stem + "_extracted")
    return os.path.join(datadir, fname + "_archive"), os.path.join(datadir, fname)


def _within(base, name):
    base = os.path.realpath(base)
    path = os.path.realpath(os.path.join(base, name))
    return os.path.commonpath([base, path]) == base


def _extract(archive, dest, archive_format):
    """Extract ``archive`` into a fresh ``dest`` (atomic: a temporary folder, then a rename)."""
    if archive_format == "auto":
        formats = ["tar", "zip"]
    elif archive_format is None:
        formats = []
    elif isinstance(archive_format, str):
        formats = [archive_format]
    else:
        formats = list(archive_format)
    for fmt in formats:
        if fmt not in ("tar", "zip"):
            raise ValueError(f'archive_format must be "auto", "tar", "zip" or None, got {fmt!r}')
    kind = None
    if "tar" in formats and tarfile.is_tarfile(archive):
        kind = "tar"
    elif "zip" in formats and zipfile.is_zipfile(archive):
        kind = "zip"
    if kind is None:
        raise ValueError(
            f"{archive} is not a {' or '.join(formats) or 'known'} archive "
            "(or it is truncated); delete it and try again.")
    parent = os.path.dirname(dest)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(dest)}.", suffix=".part")
    try:
        if kind == "tar":
            with tarfile.open(archive) as tar:
                # Regular files and folders inside ``tmp`` only (no links, devices or
                # "../" names); the "data" filter, where Python has it, checks again.
                members = [m for m in tar.getmembers()
                           if (m.isfile() or m.isdir()) and _within(tmp, m.name)]
                kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(tmp, members=members, **kwargs)
        else:
            with zipfile.ZipFile(archive) as zf:
                members = [m for m in zf.infolist() if _within(tmp, m.filename)]
                zf.extractall(tmp, members=members)
                bad = zf.testzip()
                if bad is not None:
                    raise zipfile.BadZipFile(f"bad CRC for member {bad}")
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700 folders
        if os.path.isdir(dest):
            shutil.rmtree(dest)
        elif os.path.exists(dest):
            os.remove(dest)
        os.replace(tmp, dest)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError)) and \
                not isinstance(exc, (PermissionError, FileNotFoundError)):
            raise ValueError(
                f"{archive} is truncated or corrupt and could not be extracted ({exc}); "
                "delete it and try again.") from exc
        raise


def get_file(fname=None, origin=None, file_hash=None, extract=False, cache_dir=None,
             cache_subdir="datasets", hash_algorithm="auto", progress=True,
             archive_format="auto", untar=False, force_download=False, timeout=60):
    """Download a file from a URL unless it is already in the cache.

    R keras's ``get_file()``. The file at ``origin`` is saved as
    ``<cache_dir>/<cache_subdir>/<fname>`` (default ``~/.kerasr/datasets/<fname>``,
    ``$KERASR_HOME`` replaces ``~/.kerasr``). A cached file is reused; when
    ``file_hash`` is given it is checked first and downloaded again if it does
    not match.

    Args:
        fname: name of the file in the cache (no folders; default: the last
            part of ``origin``). With ``extract=True``, a name without a dot is
            the extraction folder (the archive is kept as ``<fname>_archive``);
            a name with a dot is the archive and the folder is
            ``<name before the first dot>_extracted``, as in Keras 3.
        origin: the URL of the file.
        file_hash: expected SHA-256 (64 hex digits) or MD5 (32) of the file.
            A download that does not match is deleted and raises
            :class:`ChecksumError`.
        extract: extract a tar (``.tar``, ``.tar.gz``, ``.tar.bz2``) or zip
            archive and return the folder instead of the file.
        cache_dir: root of the cache (default ``$KERASR_HOME`` or ``~/.kerasr``).
        cache_subdir: folder under ``cache_dir``; an absolute path is used as is.
        hash_algorithm: ``"auto"`` (by the length of ``file_hash``, as Keras),
            ``"sha256"`` or ``"md5"``.
        progress: show a progress bar on stderr while downloading.
        archive_format: ``"auto"`` (tar, then zip), ``"tar"``, ``"zip"``.
        untar: deprecated spelling of ``extract=True`` with ``archive_format="tar"``.
        force_download: download even if the file is in the cache.
        timeout: seconds to wait for the server before giving up.

    Returns:
        The path of the file (or of the extraction folder).

    Raises:
        DownloadError: the URL cannot be reached, answers with an HTTP error,
            or drops the connection; the message says where to put the file to
            work offline. Nothing is left in the cache.
        ChecksumError: the downloaded file does not match ``file_hash``;
            nothing is left in the cache.
        ValueError: bad arguments, or an archive that is truncated or corrupt.
    """
    if origin is None or not isinstance(origin, str) or not origin:
        raise ValueError("get_file() needs origin=, the URL of the file to download")
    if file_hash is not None:
        if not isinstance(file_hash, str) or not file_hash or \
                any(c not in "0123456789abcdefABCDEF" for c in file_hash):
            raise ValueError(f"file_hash must be a hex digest string, got {file_hash!r}")
        file_hash = file_hash.lower()
    _hasher(hash_algorithm, file_hash)  # validates hash_algorithm
    if fname is not None:
        fname = os.fspath(fname)
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"Cannot tell a file name from origin={origin!r}: pass fname=")
    elif os.sep in fname or "/" in fname or fname in (".", ".."):
        raise ValueError(
            f"fname must be a file name without folders, got {fname!r}; "
            "use cache_dir= / cache_subdir= to choose the folder")
    if untar:
        extract, archive_format = True, "tar"

    root = os.path.expanduser(os.fspath(cache_dir)) if cache_dir is not None else cache_root()
    datadir = os.path.join(root, os.fspath(cache_subdir))
    try:
        os.makedirs(datadir, exist_ok=True)
    except OSError:
        if cache_dir is not None:
            raise
        # Keras's fallback when the home folder is read-only.
        datadir = os.path.join(tempfile.gettempdir(), ".kerasr", os.fspath(cache_subdir))
        os.makedirs(datadir, exist_ok=True)
    target, extraction_dir = _targets(fname, datadir, extract)

    download = True
    if not force_download and os.path.isfile(target):
        download = False
        if file_hash is not None:
            algo, actual = _digest(target, file_hash, hash_algorithm)
            if actual != file_hash:
                print(f"{target} is in the cache but its {algo} is {actual}, "
                      f"not {file_hash}: downloading it again.", file=sys.stderr)
                download = True

    if download:
        tmp = _download(origin, target, progress, timeout, file_hash, hash_algorithm)
        if file_hash is not None:
            algo, actual = _digest(tmp, file_hash, hash_algorithm)
            if actual != file_hash:
                os.remove(tmp)
                raise ChecksumError(
                    f"The file downloaded from {origin} is incomplete or corrupted: its {algo} is "
                    f"{actual}, expected {file_hash}. It was not saved. Try again later, or\n"
                    + _offline_recipe(origin, target, file_hash, hash_algorithm))
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; a shared cache needs readable ones
        os.replace(tmp, target)

    if extraction_dir is None:
        return target
    if download or not os.path.isdir(extraction_dir):
        try:
            _extract(target, extraction_dir, archive_format)
        except ValueError:
            if download:  # a fresh download that cannot be extracted is not kept
                os.remove(target)
            raise
    return extraction_dir
