"""Built-in data sets, as R keras's ``dataset_*()`` functions.

Each loader returns a :class:`Dataset` that unpacks the Python way,
``(x_train, y_train), (x_test, y_test) = dataset_boston_housing()``, and reads
the R way, ``boston.train.x`` (R: ``boston$train$x``). Downloaded files are verified
against their published hashes and cached in ``~/.kerasr/datasets``
(``KERASR_HOME`` overrides ``~/.kerasr``); see :func:`get_file`.
"""

from ._result import Dataset, Split
from .boston_housing import dataset_boston_housing
from .cifar import dataset_cifar10, dataset_cifar100
from .download import ChecksumError, DownloadError, get_file
from .imdb import dataset_imdb, dataset_imdb_word_index
from .mnist import dataset_fashion_mnist, dataset_mnist
from .reuters import dataset_reuters, dataset_reuters_word_index

__all__ = ["Dataset", "Split", "dataset_boston_housing", "dataset_cifar10", "dataset_cifar100",
           "dataset_fashion_mnist", "dataset_imdb", "dataset_imdb_word_index", "dataset_mnist",
           "dataset_reuters", "dataset_reuters_word_index", "get_file", "DownloadError",
           "ChecksumError"]
