"""Finding a loader's data file: the verified cache, or a file the user names with ``path=``."""

import os

from . import _sources
from .download import _matches, get_file

__all__ = ["fetch", "resolve"]


def _split(key):
    subdir, _, name = key.rpartition("/")
    return os.path.join("datasets", subdir) if subdir else "datasets", name


def fetch(key, fname=None):
    """The cached, hash-verified copy of ``SOURCES[key]`` (downloaded if needed)."""
    source = _sources.SOURCES[key]
    cache_subdir, name = _split(key)
    return get_file(fname or name, origin=source.url, file_hash=source.file_hash,
                    cache_subdir=cache_subdir)


def is_user_path(path):
    """A ``path=`` with a folder part (or a ``PathLike``) names the user's own file;
    a bare name like Keras's default ``"imdb.npz"`` is a file name in the cache."""
    if isinstance(path, os.PathLike):
        return True
    return os.sep in path or "/" in path or (os.altsep is not None and os.altsep in path)


def resolve(key, path, loader):
    """``(file, verified)`` for a loader's ``path=`` argument.

    A bare name is the name of the file in the cache: downloaded from the
    canonical URL if missing, always checked against the published hash
    (``verified`` is True). A path with a folder is the user's own file, used
    where it is (nothing is copied or downloaded); ``verified`` says whether
    it matches the published hash.
    """
    if path is None:
        path = _split(key)[1]
    if not isinstance(path, (str, os.PathLike)) or (isinstance(path, str) and not path):
        raise ValueError(f"{loader}: path must be a file name or a path, got {path!r}")
    if not is_user_path(path):
        return fetch(key, fname=path), True
    path = os.path.expanduser(os.fspath(path))
    if not os.path.isfile(path):
        source = _sources.SOURCES[key]
        raise FileNotFoundError(
            f"{loader}: path={path!r} does not exist. Pass the path of a copy of "
            f"{source.url}, or a bare file name such as {_split(key)[1]!r} to use "
            "kerasr's cache (downloaded on first use).")
    source = _sources.SOURCES[key]
    return path, _matches(path, source.file_hash, "auto")
