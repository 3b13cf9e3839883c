"""Text preprocessing: Keras's `Tokenizer`, `text_to_word_sequence`, `one_hot`, `hashing_trick`.

Semantics are Keras's (the legacy keras.preprocessing.text module R keras wraps): the same
splitting, the same word ranks (by count, ties in first-seen order, index 0 never used), the
same `num_words` cut (indices >= num_words are dropped, so num_words - 1 words are kept), the
same matrix modes. A tokenizer saves as Keras's own `Tokenizer.to_json()` layout, so files
trade with Keras's `tokenizer_from_json`; nothing is ever pickled.
"""

import collections
import hashlib
import json
import os
import tempfile

import numpy as np

from .sequence import check_positive_int, unwrap

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
MATRIX_MODES = ("binary", "count", "tfidf", "freq")


def text_to_word_sequence(input_text, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """Splits a text into words: lower-cased (optionally), every character of `filters`
    turned into `split`, split on `split`, empty strings dropped."""
    if not isinstance(input_text, str):
        raise TypeError(f"text_to_word_sequence() expects a string, got {type(input_text).__name__}.")
    if lower:
        input_text = input_text.lower()
    input_text = input_text.translate(str.maketrans({c: split for c in filters}))
    return [word for word in input_text.split(split) if word]


def _md5(word):
    return int(hashlib.md5(word.encode("utf-8"), usedforsecurity=False).hexdigest(), 16)


def hashing_trick(text, n, hash_function=None, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """Maps each word of `text` to `hash(word) % (n - 1) + 1`: indices in [1, n - 1]
    (collisions possible).

    `hash_function`: None or "md5" (the default here, see below), or any function from a string
    to an int (e.g. Python's `hash`).

    Why md5 by default: Keras's default is Python's built-in `hash()`, which is salted per
    process for strings (PYTHONHASHSEED), so the same word gets a different index in every
    session and a model trained on those indices cannot be reused. kerasr uses md5 instead,
    which is stable across runs, platforms and Python versions, and gives exactly the indices
    Keras gives with `hash_function="md5"`. Pass `hash_function=hash` for Keras's default.
    """
    n = check_positive_int(n, "n", "text_hashing_trick")
    if n < 2:
        raise ValueError(f"text_hashing_trick(): `n` must be at least 2 (indices run from 1 to "
                         f"n - 1; 0 is reserved), got {n}.")
    if hash_function is None or hash_function == "md5":
        hash_function = _md5
    elif not callable(hash_function):
        raise ValueError(f'text_hashing_trick(): `hash_function` must be None, "md5" or a function, '
                         f"got {hash_function!r}.")
    words = text_to_word_sequence(text, filters=filters, lower=lower, split=split)
    return [int(hash_function(word)) % (n - 1) + 1 for word in words]


def one_hot(input_text, n, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """R keras's `text_one_hot`: `hashing_trick` with kerasr's stable default hash (md5).

    Keras's `one_hot` hashes with Python's salted `hash()`, so its indices change from one
    session to the next; kerasr's are reproducible (and equal Keras's md5 hashing trick)."""
    return hashing_trick(input_text, n, hash_function=None, filters=filters, lower=lower,
                         split=split)


def as_texts(texts, function):
    """A list of texts: a single string becomes a one-element list (R keras's `as_texts`)."""
    texts = unwrap(texts)
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, np.ndarray):
        texts = texts.tolist() if texts.ndim else [texts.item()]
    if not hasattr(texts, "__iter__"):
        raise TypeError(f"{function}() expects texts (a string or a list of strings), got "
                        f"{type(texts).__name__}.")
    return texts


class Tokenizer:
    """Turns texts into sequences of word indices or into document-term matrices.

    Attributes (as Keras's): `word_counts` (word -> count, in first-seen order), `word_docs`
    (word -> number of documents holding it), `word_index` (word -> rank from 1, the
    `oov_token` first when given), `index_word`, `index_docs` (index -> document count),
    `document_count`. `num_words` keeps the indices below it (the num_words - 1 most frequent
    words) when converting; the vocabulary itself is never cut.
    """

    def __init__(self, num_words=None, filters=DEFAULT_FILTERS, lower=True, split=" ",
                 char_level=False, oov_token=None, document_count=0):
        self.num_words = check_positive_int(num_words, "num_words", "text_tokenizer", allow_none=True)
        if not isinstance(filters, str):
            filters = "".join(filters)
        if not isinstance(split, str) or not split:
            raise ValueError(f"text_tokenizer(): `split` must be a non-empty string, got {split!r}.")
        if oov_token is not None and not isinstance(oov_token, str):
            raise ValueError(f"text_tokenizer(): `oov_token` must be a string or None, got {oov_token!r}.")
        self.filters = filters
        self.lower = bool(lower)
        self.split = split
        self.char_level = bool(char_level)
        self.oov_token = oov_token
        self.document_count = int(document_count)
        self.word_counts = collections.OrderedDict()
        self.word_docs = collections.defaultdict(int)
        self.index_docs = collections.defaultdict(int)
        self.word_index = {}
        self.index_word = {}

    def __repr__(self):
        return (f"<kerasr Tokenizer: {len(self.word_index)} words from {self.document_count} "
                f"documents, num_words={self.num_words}>")

    def _tokens(self, text, function):
        """A text's tokens: characters (char_level), the list itself (pre-split text), or
        `text_to_word_sequence`."""
        if isinstance(text, np.str_):
            text = str(text)
        if isinstance(text, (list, tuple)):
            if not all(isinstance(t, str) for t in text):
                raise TypeError(f"{function}(): a pre-split text must be a list of strings, got {text!r}.")
            return [t.lower() for t in text] if self.lower else list(text)
        if not isinstance(text, str):
            raise TypeError(f"{function}() expects texts (strings), got {type(text).__name__} "
                            f"{text!r}; integer sequences go to fit_on_sequences / "
                            f"sequences_to_matrix.")
        if self.char_level:
            return text.lower() if self.lower else text
        return text_to_word_sequence(text, filters=self.filters, lower=self.lower, split=self.split)

    def fit_on_texts(self, texts):
        """Updates the vocabulary from texts (strings, or lists of word strings)."""
        for text in as_texts(texts, "fit_text_tokenizer"):
            tokens = self._tokens(text, "fit_text_tokenizer")
            self.document_count += 1
            for word in tokens:
                self.word_counts[word] = self.word_counts.get(word, 0) + 1
            for word in set(tokens):
                self.word_docs[word] += 1
        # Stable sort: equal counts keep their first-seen order, as in Keras.
        ranked = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)
        vocabulary = [] if self.oov_token is None else [self.oov_token]
        vocabulary.extend(word for word, _ in ranked)
        self.word_index = dict(zip(vocabulary, range(1, len(vocabulary) + 1)))
        self.index_word = {index: word for word, index in self.word_index.items()}
        for word, count in self.word_docs.items():
            self.index_docs[self.word_index[word]] = count
        return self

    def fit_on_sequences(self, sequences):
        """Updates the document counts (for tfidf) from sequences of word indices."""
        sequences = _as_index_sequences(sequences, "fit_text_tokenizer")
        self.document_count += len(sequences)
        for sequence in sequences:
            for index in set(sequence):
                self.index_docs[index] += 1
        return self

    def texts_to_sequences_generator(self, texts):
        """Yields one list of word indices per text (unknown words dropped, or `oov_token`'s
        index; indices >= num_words likewise)."""
        oov_index = self.word_index.get(self.oov_token)
        for text in as_texts(texts, "texts_to_sequences"):
            vector = []
            for word in self._tokens(text, "texts_to_sequences"):
                index = self.word_index.get(word)
                if index is not None and not (self.num_words and index >= self.num_words):
                    vector.append(index)
                elif oov_index is not None:
                    vector.append(oov_index)
            yield vector

    def texts_to_sequences(self, texts):
        return list(self.texts_to_sequences_generator(texts))

    def sequences_to_texts_generator(self, sequences):
        oov_index = self.word_index.get(self.oov_token)
        for sequence in _as_index_sequences(sequences, "sequences_to_texts"):
            words = []
            for index in sequence:
                word = self.index_word.get(index)
                if word is not None and not (self.num_words and index >= self.num_words):
                    words.append(word)
                elif oov_index is not None:
                    words.append(self.index_word[oov_index])
            yield " ".join(words)

    def sequences_to_texts(self, sequences):
        """Turns sequences of word indices back into space-joined texts."""
        return list(self.sequences_to_texts_generator(sequences))

    def texts_to_matrix(self, texts, mode="binary"):
        """A (len(texts), width) float64 matrix; see `sequences_to_matrix`."""
        _check_mode(mode)
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """A (len(sequences), width) float64 matrix, width = num_words, or len(word_index) + 1.

        Column j of row i, for index j occurring c times in sequence i (of length L):
        binary 1; count c; freq c / L; tfidf (1 + log c) * log(1 + D / (1 + d_j)), D the
        document count and d_j the number of documents holding j. Indices >= width are
        ignored (but still count in L).
        """
        _check_mode(mode)
        if self.num_words:
            width = self.num_words
        elif self.word_index:
            width = len(self.word_index) + 1
        else:
            raise ValueError("sequences_to_matrix(): give the tokenizer `num_words`, or fit it on "
                             "some texts first (the matrix width is unknown).")
        if mode == "tfidf" and not self.document_count:
            raise ValueError('sequences_to_matrix(): mode="tfidf" needs a fitted tokenizer '
                             "(document counts); call fit_text_tokenizer first.")
        sequences = _as_index_sequences(sequences, "sequences_to_matrix")
        out = np.zeros((len(sequences), width))
        for row, sequence in enumerate(sequences):
            if not len(sequence):
                continue
            counts = collections.Counter(j for j in sequence if j < width)
            for j, c in counts.items():
                if mode == "count":
                    out[row, j] = c
                elif mode == "freq":
                    out[row, j] = c / len(sequence)
                elif mode == "binary":
                    out[row, j] = 1
                else:
                    tf = 1 + np.log(c)
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    out[row, j] = tf * idf
        return out

    def get_config(self):
        """Keras's layout: the dictionaries as JSON strings inside the JSON."""
        return {
            "num_words": self.num_words,
            "filters": self.filters,
            "lower": self.lower,
            "split": self.split,
            "char_level": self.char_level,
            "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts),
            "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs),
            "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }

    def to_json(self, **kwargs):
        """The tokenizer as Keras's `Tokenizer.to_json()` string."""
        return json.dumps({"class_name": "Tokenizer", "config": self.get_config()}, **kwargs)


def _check_mode(mode):
    if mode not in MATRIX_MODES:
        raise ValueError(f"Unknown matrix mode {mode!r}: use one of {', '.join(MATRIX_MODES)}.")


def _as_index_sequences(sequences, function):
    sequences = unwrap(sequences)
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__iter__"):
        raise ValueError(f"{function}() expects a list of sequences of word indices.")
    result = []
    for position, sequence in enumerate(sequences):
        array = np.asarray(sequence)
        if array.ndim != 1 or (array.size and array.dtype.kind not in "biu"):
            raise ValueError(f"{function}() expects sequences of integer word indices; element "
                             f"{position} is {sequence!r}.")
        if array.size and array.min() < 0:
            raise ValueError(f"{function}(): word indices cannot be negative (element {position}).")
        result.append([int(i) for i in array])
    return result


def tokenizer_from_json(json_string):
    """A Tokenizer from `Tokenizer.to_json()` text (kerasr's or Keras's)."""
    try:
        document = json.loads(json_string)
        config = dict(document["config"])
        if document.get("class_name") != "Tokenizer":
            raise KeyError("class_name")
        word_counts = json.loads(config.pop("word_counts"), object_pairs_hook=collections.OrderedDict)
        word_docs = json.loads(config.pop("word_docs"))
        index_docs = {int(k): v for k, v in json.loads(config.pop("index_docs")).items()}
        index_word = {int(k): v for k, v in json.loads(config.pop("index_word")).items()}
        word_index = json.loads(config.pop("word_index"))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"Not a text tokenizer saved as JSON (Keras's Tokenizer.to_json layout): "
                         f"{error!r}") from None
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = word_counts
    tokenizer.word_docs = collections.defaultdict(int, word_docs)
    tokenizer.index_docs = collections.defaultdict(int, index_docs)
    tokenizer.word_index = word_index
    tokenizer.index_word = index_word
    return tokenizer


def save_tokenizer(tokenizer, filename):
    """Writes the tokenizer's JSON to `filename` atomically (a temporary file in the same
    folder, then `os.replace`: an interrupted save never leaves a half-written file)."""
    if not isinstance(tokenizer, Tokenizer):
        raise TypeError(f"save_text_tokenizer() expects a text tokenizer, got {type(tokenizer).__name__}.")
    filename = os.fspath(filename)
    folder = os.path.dirname(os.path.abspath(filename))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tokenizer-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(tokenizer.to_json())
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, filename)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return tokenizer


def load_tokenizer(filename):
    """Reads a tokenizer saved by `save_tokenizer` (or Keras's `to_json()` written to a file).
    Files are only ever parsed as JSON, never unpickled."""
    with open(os.fspath(filename), "rb") as stream:
        raw = stream.read()
    if raw[:1] == b"\x80" or raw[:2] == b"X\n":
        raise ValueError(f"{filename} looks like a pickled (R keras / reticulate) tokenizer; kerasr "
                         f"reads only JSON tokenizers. Re-save it as JSON with Keras: "
                         f"open(path, 'w').write(tokenizer.to_json()).")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{filename} is not a JSON text tokenizer (not UTF-8 text).") from None
    return tokenizer_from_json(text)
