"""``dataset_boston_housing()``: R keras's Boston housing loader."""

import numbers
from importlib import resources

import numpy as np

from ._result import Dataset, Split

__all__ = ["dataset_boston_housing"]

_N_FEATURES = 13


def _load_csv():
    # kerasr/data/boston_housing.csv: header row, then 506 rows of
    # CRIM ... LSTAT (13 features) and MEDV (the target).
    ref = resources.files("kerasr").joinpath("data").joinpath("boston_housing.csv")
    with ref.open("r", encoding="utf-8") as f:
        data = np.loadtxt(f, delimiter=",", skiprows=1, dtype=np.float64)
    return data[:, :_N_FEATURES], data[:, _N_FEATURES]


def dataset_boston_housing(path="boston_housing.npz", test_split=0.2, seed=113):
    """Boston housing price regression data set.

    Same signature and same train/test split as R keras's
    ``dataset_boston_housing()`` (and Keras's ``boston_housing.load_data()``):
    the 506 samples are shuffled with ``np.random.RandomState(seed)`` and the
    first ``int(506 * (1 - test_split))`` become the training set.

    Args:
        path: accepted for compatibility with R keras and ignored: the data
            ships with kerasr (``kerasr/data/boston_housing.csv``), so nothing
            is downloaded or cached.
        test_split: fraction of the data to keep as the test set, in [0, 1).
        seed: random seed for shuffling the data before the split.

    Returns:
        A :class:`~kerasr.datasets.Dataset`: unpacks as
        ``(x_train, y_train), (x_test, y_test)`` and reads as
        ``boston.train.x`` / ``boston["test"]["y"]``. ``x`` is float64 with
        13 columns (CRIM ... LSTAT), ``y`` float64 (median value, k$).
    """
    if (
        isinstance(test_split, bool)
        or not isinstance(test_split, numbers.Real)
        or not 0 <= test_split < 1
    ):
        raise ValueError(
            f"test_split must be a number in [0, 1), got {test_split!r}"
        )
    x, y = _load_csv()
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    n_train = int(len(x) * (1 - test_split))
    return Dataset(
        Split(x[:n_train], y[:n_train]),
        Split(x[n_train:], y[n_train:]),
    )
