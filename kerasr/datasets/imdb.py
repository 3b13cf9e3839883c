"""``dataset_imdb()`` and ``dataset_imdb_word_index()``: IMDB movie review sentiment."""

import numpy as np

from . import _sequences as seq
from ._result import Dataset, Split

__all__ = ["dataset_imdb", "dataset_imdb_word_index"]


def dataset_imdb(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
                 start_char=1, oov_char=2, index_from=3, trust=False):
    """25,000 training and 25,000 test movie reviews, labelled positive (1) or negative (0).

    As R keras's ``dataset_imdb()`` / Keras's ``imdb.load_data()``, same arrays:
    each part is shuffled with ``np.random.RandomState(seed)`` (train first, then
    test, from the same generator); every word index ``w`` becomes
    ``w + index_from`` and each review starts with ``start_char``; reviews of
    ``maxlen`` words or more are dropped; indices outside ``[skip_top, num_words)``
    become ``oov_char``.

    Args:
        path: a bare file name (default ``"imdb.npz"``) is the file's name in
            kerasr's cache (downloaded on first use, checked against the
            published SHA-256). A path with a folder is a copy you already
            have: it is opened only if its SHA-256 matches, or with
            ``trust=True`` (the file stores its sequences with pickle).
        num_words: keep the ``num_words`` most frequent words (indices below
            ``num_words``); None keeps all.
        skip_top: also replace the ``skip_top`` most frequent words (indices
            below ``skip_top``) with ``oov_char``.
        maxlen: keep only reviews shorter than ``maxlen`` (counting ``start_char``);
            None keeps all.
        seed: seed of the shuffle.
        start_char: index put at the start of every review (None: nothing).
        oov_char: index of the words cut by ``num_words``/``skip_top`` (None: drop them).
        index_from: shift of the word indices (0, 1, 2 are padding, start, OOV).
        trust: open a ``path=`` file whose hash does not match the published one.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` 1-D object arrays of
        lists of int (the reviews, ragged), ``y`` int64 arrays of 0/1.
    """
    seq.check_args("dataset_imdb", num_words, skip_top, maxlen, seed, start_char, oov_char,
                   index_from)
    fpath, arrays = seq.open_npz("imdb.npz", path, trust,
                                 ("x_train", "y_train", "x_test", "y_test"), "dataset_imdb")
    parts = []
    rng = np.random.RandomState(seed)
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        seq.check_pair(x, y, f"dataset_imdb: {fpath} ({part})")
        indices = np.arange(len(x))
        rng.shuffle(indices)
        parts.append([x[indices], y[indices]])

    for p in parts:
        p[0] = seq.shift(p[0], start_char, index_from)
    if maxlen:
        for p in parts:
            p[0], p[1] = seq.keep_shorter(maxlen, p[0], p[1])
        if not parts[0][0] or not parts[1][0]:
            raise ValueError(
                f"dataset_imdb: no review is shorter than maxlen={maxlen} in the "
                f"{'training' if not parts[0][0] else 'test'} set; increase maxlen.")
    n_train = len(parts[0][0])
    xs = seq.cut(parts[0][0] + parts[1][0], num_words, skip_top, oov_char)
    return Dataset(Split(seq.object_array(xs[:n_train]), parts[0][1]),
                   Split(seq.object_array(xs[n_train:]), parts[1][1]))


def dataset_imdb_word_index(path="imdb_word_index.json"):
    """The IMDB word index: a dict ``{word: rank}`` (1 is the most frequent word).

    In the sequences of :func:`dataset_imdb` a word of rank ``r`` appears as
    ``r + index_from`` (default ``r + 3``: 0, 1 and 2 are padding, start and OOV).
    ``path`` works as in :func:`dataset_imdb`; the file is JSON, read without pickle.
    """
    return seq.load_word_index("imdb_word_index.json", path, "dataset_imdb_word_index")
