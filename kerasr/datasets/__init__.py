"""Built-in data sets, as R keras's ``dataset_*()`` functions.

Each loader returns a :class:`Dataset` that unpacks the Python way,
``(x_train, y_train), (x_test, y_test) = dataset_boston_housing()``, and reads
the R way, ``boston.train.x`` (R: ``boston$train$x``).
"""

from ._result import Dataset, Split
from .boston_housing import dataset_boston_housing

__all__ = ["Dataset", "Split", "dataset_boston_housing"]
