"""Sequence preprocessing: Keras's `pad_sequences`, `skipgrams` and `make_sampling_table`.

Semantics follow Keras (keras.utils.pad_sequences and the legacy
keras.preprocessing.sequence functions that R keras wraps); where Keras fails late or silently
(a bad `padding` noticed only at the first non-empty sequence, `maxlen=0`), kerasr raises a
ValueError up front.
"""

from collections import namedtuple
from numbers import Integral

import numpy as np

from .. import random as _random
from ..engine.tensor import Tensor


def unwrap(value):
    """The numpy array behind a kerasr Tensor; anything else unchanged."""
    return value.data if isinstance(value, Tensor) else value


def check_positive_int(value, name, function, allow_none=False):
    """`value` as a Python int > 0 (None passes through when allowed); ValueError otherwise."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not _is_integral(value) or value <= 0:
        raise ValueError(f"{function}(): `{name}` must be a positive integer, got {value!r}.")
    return int(value)


def _is_integral(value):
    if isinstance(value, Integral):
        return True
    # R habit: 500 arrives as 500.0 from numeric vectors; accept whole floats.
    return isinstance(value, (float, np.floating)) and np.isfinite(value) and value == int(value)


def as_list_of_sequences(sequences, function):
    """The outer list of a list of sequences; each element must have a length."""
    sequences = unwrap(sequences)
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__iter__"):
        raise ValueError(f"{function}() expects a list of sequences, got {type(sequences).__name__}.")
    if isinstance(sequences, np.ndarray) and sequences.ndim == 0:
        raise ValueError(f"{function}() expects a list of sequences, got a scalar array.")
    sequences = list(sequences)
    for position, sequence in enumerate(sequences):
        if isinstance(sequence, (str, bytes)) or not hasattr(sequence, "__len__") or (
                isinstance(sequence, np.ndarray) and sequence.ndim == 0):
            raise ValueError(f"{function}() expects a list of sequences (lists of integers); element "
                             f"{position} is not a sequence: {sequence!r}.")
    return sequences


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pads (or truncates) a list of sequences to one length: an array (num_samples, maxlen).

    `maxlen=None` takes the longest sequence's length. `padding="pre"` puts `value` before
    shorter sequences, `"post"` after; `truncating="pre"` drops the beginning of longer ones,
    `"post"` the end. Elements may themselves be vectors (all of one shape): the output is then
    (num_samples, maxlen) + that shape. Values are cast to `dtype` as numpy casts them.
    """
    sequences = as_list_of_sequences(sequences, "pad_sequences")
    maxlen = check_positive_int(maxlen, "maxlen", "pad_sequences", allow_none=True)
    if padding not in ("pre", "post"):
        raise ValueError(f'pad_sequences(): `padding` must be "pre" or "post", got {padding!r}.')
    if truncating not in ("pre", "post"):
        raise ValueError(f'pad_sequences(): `truncating` must be "pre" or "post", got {truncating!r}.')
    dtype = np.dtype(dtype)
    if isinstance(value, str) and dtype != np.dtype(object) and dtype.kind not in "US":
        raise ValueError(f"pad_sequences(): `dtype` {dtype} cannot hold the string padding value "
                         f"{value!r}; use dtype=object or a string dtype.")

    lengths = [len(s) for s in sequences]
    sample_shape = ()
    for position, sequence in enumerate(sequences):
        if len(sequence):  # the first non-empty sequence fixes the per-step shape, as in Keras
            sample_shape = _as_array(sequence, None, position).shape[1:]
            break
    if maxlen is None:
        maxlen = max(lengths, default=0)

    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for position, sequence in enumerate(sequences):
        if not len(sequence):
            continue
        kept = sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen]
        kept = _as_array(kept, dtype, position)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"pad_sequences(): sequence {position} has steps of shape "
                             f"{kept.shape[1:]}, the others {sample_shape} (ragged input).")
        if padding == "post":
            out[position, :len(kept)] = kept
        else:
            out[position, maxlen - len(kept):] = kept
    return out


def _as_array(sequence, dtype, position):
    try:
        return np.asarray(sequence, dtype=dtype)
    except (ValueError, TypeError) as error:
        raise ValueError(f"pad_sequences(): sequence {position} cannot be read as an array of "
                         f"{dtype or 'numbers'} (ragged steps or non-numeric values): {error}") from None


def make_sampling_table(size, sampling_factor=1e-5):
    """Word2vec's sampling probabilities by word rank (index 0 treated as rank 1): a float64
    array of length `size`, for `skipgrams(sampling_table=...)`.

    Word frequencies are approximated by Zipf's law,
    `1 / (rank * (log(rank) + gamma) + 1/2 - 1/(12 rank))` with gamma = 0.577 (Keras's value),
    and `p = min(1, sqrt(f / sampling_factor) / (f / sampling_factor))`.
    """
    size = check_positive_int(size, "size", "make_sampling_table")
    gamma = 0.577
    rank = np.arange(size, dtype=np.float64)
    rank[0] = 1.0
    inverse_frequency = rank * (np.log(rank) + gamma) + 0.5 - 1.0 / (12.0 * rank)
    scaled = sampling_factor * inverse_frequency
    return np.minimum(1.0, scaled / np.sqrt(scaled))


Skipgrams = namedtuple("Skipgrams", ["couples", "labels"])


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1.0, shuffle=True,
              categorical=False, sampling_table=None, seed=None):
    """Skip-gram word pairs from one sequence of word indices: `(couples, labels)`.

    Each non-zero word `w_i` pairs with every non-zero word within `window_size` positions
    (label 1); then `int(n_positive * negative_samples)` pairs of a (shuffled) context word
    with a random index in [1, vocabulary_size) get label 0. Index 0 is a non-word and is
    skipped. With a `sampling_table`, word `w_i` is kept with probability `sampling_table[w_i]`.
    `categorical=True` gives labels [0, 1] / [1, 0]. Returns a named pair (`couples`, `labels`)
    of lists, as R keras's `list(couples, labels)`.

    Randomness comes from `numpy.random.default_rng(seed)`, or kerasr's shared generator (see
    `set_random_seed`) when `seed` is None; Keras draws from Python's `random` module, so the
    pairs are the same set but the random choices differ from Keras's.
    """
    try:
        sequence = np.asarray(unwrap(sequence))
    except ValueError:  # ragged nesting
        sequence = np.empty((0, 0))
    if sequence.ndim != 1 or (sequence.size and sequence.dtype.kind not in "biu"):
        raise ValueError("skipgrams() expects one sequence of integer word indices (a flat list).")
    sequence = [int(w) for w in sequence]
    vocabulary_size = check_positive_int(vocabulary_size, "vocabulary_size", "skipgrams")
    if isinstance(window_size, bool) or not _is_integral(window_size) or window_size < 0:
        raise ValueError(f"skipgrams(): `window_size` must be a non-negative integer, got "
                         f"{window_size!r}.")
    window_size = int(window_size)
    if negative_samples < 0:
        raise ValueError(f"skipgrams(): `negative_samples` must be >= 0, got {negative_samples!r}.")
    if any(w < 0 or w >= vocabulary_size for w in sequence):
        raise ValueError(f"skipgrams(): word indices must lie in [0, vocabulary_size="
                         f"{vocabulary_size}).")
    rng = np.random.default_rng(seed) if seed is not None else _random.generator()
    positive, negative = ([0, 1], [1, 0]) if categorical else (1, 0)

    couples, labels = [], []
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < rng.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([wi, sequence[j]])
                labels.append(list(positive) if categorical else positive)

    if negative_samples > 0 and couples:
        count = int(len(labels) * negative_samples)
        if count and vocabulary_size < 2:
            raise ValueError("skipgrams(): negative samples need vocabulary_size >= 2.")
        words = [c[0] for c in couples]
        words = [words[k] for k in rng.permutation(len(words))]
        draws = rng.integers(1, vocabulary_size, size=count)
        couples += [[words[k % len(words)], int(draws[k])] for k in range(count)]
        labels += [list(negative) if categorical else negative for _ in range(count)]

    if shuffle:
        order = rng.permutation(len(couples))
        couples = [couples[k] for k in order]
        labels = [labels[k] for k in order]
    return Skipgrams(couples, labels)
