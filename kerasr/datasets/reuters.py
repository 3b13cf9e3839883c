"""``dataset_reuters()`` and ``dataset_reuters_word_index()``: Reuters newswire topics."""

import numbers

import numpy as np

from . import _sequences as seq
from ._result import Dataset, Split

__all__ = ["dataset_reuters", "dataset_reuters_word_index"]


def dataset_reuters(path="reuters.npz", num_words=None, skip_top=0, maxlen=None,
                    test_split=0.2, seed=113, start_char=1, oov_char=2, index_from=3,
                    trust=False):
    """11,228 Reuters newswires labelled over 46 topics.

    As R keras's ``dataset_reuters()`` / Keras's ``reuters.load_data()``, same
    arrays: all newswires are shuffled with ``np.random.RandomState(seed)``,
    indices shifted by ``index_from`` after ``start_char``, newswires of
    ``maxlen`` words or more dropped, indices outside ``[skip_top, num_words)``
    replaced by ``oov_char``; then the first ``int(n * (1 - test_split))``
    are the training set.

    Args:
        path, num_words, skip_top, maxlen, seed, start_char, oov_char,
            index_from, trust: as in :func:`~kerasr.datasets.dataset_imdb`.
        test_split: fraction of the newswires kept for the test set, in [0, 1).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` 1-D object arrays of
        lists of int, ``y`` int64 topic labels 0-45.
    """
    seq.check_args("dataset_reuters", num_words, skip_top, maxlen, seed, start_char, oov_char,
                   index_from)
    if isinstance(test_split, bool) or not isinstance(test_split, numbers.Real) or \
            not 0 <= test_split < 1:
        raise ValueError(f"dataset_reuters: test_split must be a number in [0, 1), "
                         f"got {test_split!r}")
    fpath, arrays = seq.open_npz("reuters.npz", path, trust, ("x", "y"), "dataset_reuters")
    xs, labels = arrays["x"], arrays["y"]
    seq.check_pair(xs, labels, f"dataset_reuters: {fpath}")
    rng = np.random.RandomState(seed)
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    xs, labels = xs[indices], labels[indices]

    xs = seq.shift(xs, start_char, index_from)
    if maxlen:
        xs, labels = seq.keep_shorter(maxlen, xs, labels)
        if not xs:
            raise ValueError(f"dataset_reuters: no newswire is shorter than maxlen={maxlen}; "
                             "increase maxlen.")
    xs = seq.cut(xs, num_words, skip_top, oov_char)
    idx = int(len(xs) * (1 - test_split))
    return Dataset(Split(seq.object_array(xs[:idx]), np.array(labels[:idx])),
                   Split(seq.object_array(xs[idx:]), np.array(labels[idx:])))


def dataset_reuters_word_index(path="reuters_word_index.json"):
    """The Reuters word index: a dict ``{word: rank}``; in the sequences a word of
    rank ``r`` appears as ``r + index_from`` (default ``r + 3``)."""
    return seq.load_word_index("reuters_word_index.json", path, "dataset_reuters_word_index")
