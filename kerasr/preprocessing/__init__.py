"""Preparing data: label encoding and scaling (sequences and text come with the datasets issue)."""

from .numeric import normalize, to_categorical  # noqa: F401
from .arrays import array_reshape  # noqa: F401
from .sequence import make_sampling_table, pad_sequences, skipgrams  # noqa: F401
from .text import (Tokenizer, hashing_trick, one_hot, text_to_word_sequence,  # noqa: F401
                   tokenizer_from_json)
from .timeseries import (TimeseriesDataset, TimeseriesGenerator,  # noqa: F401
                         timeseries_dataset_from_array)
