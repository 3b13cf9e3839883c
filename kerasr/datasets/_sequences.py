"""What IMDB and Reuters share: argument checks, safe opening, and Keras's index transformations."""

import json
import numbers
import os

import numpy as np

from . import _sources
from ._files import resolve
from ._safe import UnsafeFileError, load_npz

__all__ = ["check_args", "open_npz", "shift", "cut", "keep_shorter", "object_array",
           "load_word_index"]


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_args(loader, num_words, skip_top, maxlen, seed, start_char, oov_char, index_from):
    if num_words is not None and (not _is_int(num_words) or num_words <= 0):
        raise ValueError(f"{loader}: num_words must be a positive integer or None, "
                         f"got {num_words!r}")
    if maxlen is not None and (not _is_int(maxlen) or maxlen <= 0):
        raise ValueError(f"{loader}: maxlen must be a positive integer or None, got {maxlen!r}")
    if not _is_int(skip_top) or skip_top < 0:
        raise ValueError(f"{loader}: skip_top must be an integer >= 0, got {skip_top!r}")
    if not _is_int(index_from) or index_from < 0:
        raise ValueError(f"{loader}: index_from must be an integer >= 0, got {index_from!r}")
    for name, value in (("start_char", start_char), ("oov_char", oov_char)):
        if value is not None and (not _is_int(value) or value < 0):
            raise ValueError(f"{loader}: {name} must be an integer >= 0 or None, got {value!r}")
    if seed is not None and (not _is_int(seed) or not 0 <= seed < 2**32):
        raise ValueError(f"{loader}: seed must be an integer in [0, 2**32) or None, got {seed!r}")


def open_npz(key, path, trust, members, loader):
    """The arrays of an IMDB/Reuters ``.npz``, unpickled only once known to be safe."""
    fpath, verified = resolve(key, path, loader)
    if not verified and not trust:
        raise UnsafeFileError(
            f"{loader}: {fpath} is not the published {key} (its SHA-256 differs from "
            f"{_sources.SOURCES[key].file_hash}). Its sequences are stored with pickle, which "
            "can run code when read, so the file was not opened. If you made this file or "
            "trust where it came from, pass trust=True.")
    arrays = load_npz(fpath, allow_objects=True)
    missing = [m for m in members if m not in arrays]
    if missing:
        raise ValueError(f"{loader}: {fpath} lacks the arrays {', '.join(missing)} "
                         f"(it holds {', '.join(sorted(arrays)) or 'no arrays'})")
    return fpath, arrays


def check_pair(x, y, where):
    if x.ndim != 1 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"{where}: expected {len(x)} sequences and as many labels, got "
                         f"arrays of shape {x.shape} and {y.shape}")


def shift(xs, start_char, index_from):
    """Keras's step 1: word ``w`` becomes ``w + index_from``; ``start_char`` goes first."""
    if start_char is not None:
        return [[start_char] + [int(w) + index_from for w in x] for x in xs]
    return [[int(w) + index_from for w in x] for x in xs]


def keep_shorter(maxlen, xs, labels):
    """Keras's ``remove_long_seq``: keep the sequences strictly shorter than ``maxlen``
    (counted after ``start_char`` was added)."""
    keep = np.array([len(x) < maxlen for x in xs], dtype=bool)
    return [x for x, k in zip(xs, keep) if k], labels[keep]


def cut(xs, num_words, skip_top, oov_char):
    """Keras's step 3: indices outside ``[skip_top, num_words)`` become ``oov_char``
    (or are dropped when ``oov_char`` is None).

    With ``num_words=None`` Keras uses the largest index as ``num_words``, so the
    largest index itself falls outside the range and becomes ``oov_char`` too:
    Keras's behaviour, kept so the arrays are identical.
    """
    if num_words is None:
        num_words = max((max(x) for x in xs if x), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def object_array(lists):
    """A 1-D object array of lists (``np.array`` would make a 2-D array of equal-length lists)."""
    out = np.empty(len(lists), dtype=object)
    for i, x in enumerate(lists):
        out[i] = x
    return out


def load_word_index(key, path, loader):
    """A word-index JSON file as a dict ``{word: index}`` (JSON: no pickle involved)."""
    fpath, _ = resolve(key, path, loader)
    try:
        with open(fpath, encoding="utf-8") as f:
            index = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{loader}: {fpath} is not a JSON word index: {exc}") from exc
    if not isinstance(index, dict) or not all(
            isinstance(k, str) and _is_int(v) for k, v in index.items()):
        raise ValueError(f"{loader}: {os.fspath(fpath)} is not a word index "
                         "(a JSON object of word: integer)")
    return index
