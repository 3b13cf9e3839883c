"""R keras's sequence, text and time-series preprocessing verbs.

Each verb whose first argument is data pipes: called with all its required arguments it runs
at once (`pad_sequences(seqs, maxlen=500)`); called without them it waits for `|`
(`seqs | pad_sequences(maxlen=500)`, `texts | texts_to_sequences(tokenizer)`). The tokenizer
verbs take the tokenizer and the texts in either order, so both R's
`tokenizer %>% texts_to_sequences(texts)` and `texts | texts_to_sequences(tokenizer)` work.
"""

import inspect

import numpy as np

from ..preprocessing import arrays as _arrays
from ..preprocessing import sequence as _sequence
from ..preprocessing import text as _text
from ..preprocessing import timeseries as _timeseries
from ..preprocessing.sequence import unwrap
from ..preprocessing.text import DEFAULT_FILTERS, Tokenizer
from .pipe import Verb

__all__ = ["array_reshape", "pad_sequences", "skipgrams", "make_sampling_table", "text_tokenizer",
           "fit_text_tokenizer", "texts_to_sequences", "texts_to_sequences_generator",
           "texts_to_matrix", "sequences_to_matrix", "sequences_to_texts", "save_text_tokenizer",
           "load_text_tokenizer", "text_to_word_sequence", "text_one_hot", "text_hashing_trick",
           "timeseries_generator", "timeseries_dataset_from_array"]


class DataVerb(Verb):
    """A verb that runs as soon as its required arguments are all given, and otherwise binds
    what it got and waits for its first argument through `|`."""

    def __call__(self, *args, **kwargs):
        bound_args, bound_kwargs = self._bound
        if not bound_args and not bound_kwargs:
            signature = inspect.signature(self._target)
            try:
                signature.bind(*args, **kwargs)
            except TypeError:
                try:  # would the call be valid once the piped subject arrives first?
                    signature.bind(_PIPED, *args, **kwargs)
                except TypeError as error:
                    raise TypeError(f"{self._target.__name__}(): {error}") from None
            else:
                return self._target(*args, **kwargs)
        return type(self)(self._target, *bound_args, *args, subject=self._subject,
                          **bound_kwargs, **kwargs)


_PIPED = object()


def data_verb(function):
    return DataVerb(function)


def _tokenizer_and(first, second, function):
    """(tokenizer, data) from two arguments given in either order."""
    if isinstance(first, Tokenizer):
        return first, second
    if isinstance(second, Tokenizer):
        return second, first
    raise TypeError(f"{function}() needs a text tokenizer (from text_tokenizer()) and the data, "
                    f"got {type(first).__name__} and {type(second).__name__}.")


@data_verb
def array_reshape(x, dim, order="C"):
    """Reshapes `x` to `dim` in row-major order (reticulate's default); `order="F"` for
    column-major. Returns an array."""
    return _arrays.array_reshape(x, dim, order=order)


@data_verb
def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pads or truncates a list of sequences to `maxlen` (default: the longest). Returns a
    (num_samples, maxlen) array."""
    return _sequence.pad_sequences(sequences, maxlen=maxlen, dtype=dtype, padding=padding,
                                  truncating=truncating, value=value)


@data_verb
def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1.0, shuffle=True,
              categorical=False, sampling_table=None, seed=None):
    """Skip-gram (word, context) pairs and 1/0 labels. Returns `(couples, labels)`, also
    readable as `.couples` / `.labels`."""
    return _sequence.skipgrams(sequence, vocabulary_size, window_size=window_size,
                               negative_samples=negative_samples, shuffle=shuffle,
                               categorical=categorical, sampling_table=sampling_table, seed=seed)


def make_sampling_table(size, sampling_factor=1e-5):
    """Word2vec's rank-based sampling probabilities, for `skipgrams(sampling_table=)`."""
    return _sequence.make_sampling_table(size, sampling_factor=sampling_factor)


def text_tokenizer(num_words=None, filters=DEFAULT_FILTERS, lower=True, split=" ",
                   char_level=False, oov_token=None):
    """A new text tokenizer; fit it with `fit_text_tokenizer`. Only word indices below
    `num_words` are used when converting (the num_words - 1 most frequent words), as in Keras."""
    return Tokenizer(num_words=num_words, filters=filters, lower=lower, split=split,
                     char_level=char_level, oov_token=oov_token)


def _split_fit_data(x):
    """(is_index_sequences, items): integer sequences (R's `is.list(x)` branch) or texts."""
    x = unwrap(x)
    if isinstance(x, str) or not hasattr(x, "__iter__"):
        return False, x
    items = list(x)  # may be a generator of texts: read it once
    is_sequences = bool(items) and all(
        not isinstance(item, str) and hasattr(item, "__iter__")
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in item)
        for item in items)
    return is_sequences, items


@data_verb
def fit_text_tokenizer(object, x):
    """Fits the tokenizer on texts (strings, or lists of word strings) or, for sequences of
    word indices, updates its document counts. Returns the tokenizer (updated in place)."""
    tokenizer, data = _tokenizer_and(object, x, "fit_text_tokenizer")
    is_sequences, items = _split_fit_data(data)
    if is_sequences:
        return tokenizer.fit_on_sequences(items)
    return tokenizer.fit_on_texts(items)


@data_verb
def texts_to_sequences(tokenizer, texts):
    """One list of word indices per text. Returns a list of lists."""
    tokenizer, texts = _tokenizer_and(tokenizer, texts, "texts_to_sequences")
    return tokenizer.texts_to_sequences(texts)


@data_verb
def texts_to_sequences_generator(tokenizer, texts):
    """A generator of word-index lists, one per text."""
    tokenizer, texts = _tokenizer_and(tokenizer, texts, "texts_to_sequences_generator")
    return tokenizer.texts_to_sequences_generator(texts)


@data_verb
def texts_to_matrix(tokenizer, texts, mode="binary"):
    """A (len(texts), num_words) matrix, mode "binary", "count", "tfidf" or "freq"."""
    tokenizer, texts = _tokenizer_and(tokenizer, texts, "texts_to_matrix")
    return tokenizer.texts_to_matrix(texts, mode=mode)


@data_verb
def sequences_to_matrix(tokenizer, sequences, mode="binary"):
    """A (len(sequences), num_words) matrix from word-index sequences (modes as
    `texts_to_matrix`)."""
    tokenizer, sequences = _tokenizer_and(tokenizer, sequences, "sequences_to_matrix")
    return tokenizer.sequences_to_matrix(sequences, mode=mode)


@data_verb
def sequences_to_texts(tokenizer, sequences):
    """Word-index sequences back to space-joined texts."""
    tokenizer, sequences = _tokenizer_and(tokenizer, sequences, "sequences_to_texts")
    return tokenizer.sequences_to_texts(sequences)


@data_verb
def save_text_tokenizer(object, filename):
    """Saves the tokenizer as JSON (Keras's `to_json` layout, written atomically). Returns the
    tokenizer."""
    return _text.save_tokenizer(object, filename)


def load_text_tokenizer(filename):
    """A tokenizer saved by `save_text_tokenizer` (JSON only; pickles are refused)."""
    return _text.load_tokenizer(filename)


@data_verb
def text_to_word_sequence(text, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """A text split into words (filters removed, lower-cased). Returns a list of strings."""
    return _text.text_to_word_sequence(text, filters=filters, lower=lower, split=split)


@data_verb
def text_one_hot(input_text, n, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """Word indices in [1, n - 1] by hashing (md5: stable across sessions, unlike Keras's
    default `hash()`). Returns a list of ints."""
    return _text.one_hot(input_text, n, filters=filters, lower=lower, split=split)


@data_verb
def text_hashing_trick(text, n, hash_function=None, filters=DEFAULT_FILTERS, lower=True,
                       split=" "):
    """Word indices in [1, n - 1] by `hash_function` (None or "md5": md5; or a function).
    Returns a list of ints."""
    return _text.hashing_trick(text, n, hash_function=hash_function, filters=filters,
                               lower=lower, split=split)


@data_verb
def timeseries_generator(data, targets, length, sampling_rate=1, stride=1, start_index=0,
                         end_index=None, shuffle=False, reverse=False, batch_size=128):
    """Batches of (`length`-step windows every `sampling_rate` steps, target) over a time
    series. Returns a generator usable with `fit` (also `len`, `[i]`, `next()`)."""
    return _timeseries.TimeseriesGenerator(
        data, targets, length, sampling_rate=sampling_rate, stride=stride,
        start_index=start_index, end_index=end_index, shuffle=shuffle, reverse=reverse,
        batch_size=batch_size)


@data_verb
def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None):
    """Batches of sliding windows (and targets) over a time series, 0-based indices. Returns a
    dataset usable with `fit` (also `len`, `[i]`, `next()`)."""
    return _timeseries.timeseries_dataset_from_array(
        data, targets, sequence_length, sequence_stride=sequence_stride,
        sampling_rate=sampling_rate, batch_size=batch_size, shuffle=shuffle, seed=seed,
        start_index=start_index, end_index=end_index)
