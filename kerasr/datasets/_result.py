"""The result type shared by all ``dataset_*()`` loaders.

R keras returns ``list(train = list(x, y), test = list(x, y))``; Python code
unpacks a pair of pairs. These two tuple subclasses allow both::

    (x_train, y_train), (x_test, y_test) = dataset_boston_housing()
    boston = dataset_boston_housing()
    boston.train.x          # R: boston$train$x
    boston["test"]["y"]     # R: boston[["test"]][["y"]]
"""

from collections import namedtuple

__all__ = ["Dataset", "Split"]


class _NamedAccess:
    """Adds ``obj["name"]`` to a namedtuple; integer indexing is unchanged."""

    __slots__ = ()

    def __getitem__(self, key):
        if isinstance(key, str):
            if key in self._fields:
                return getattr(self, key)
            raise KeyError(f"{key!r}: expected one of {', '.join(self._fields)}")
        return super().__getitem__(key)


class Split(_NamedAccess, namedtuple("Split", ["x", "y"])):
    """One part of a data set: ``(x, y)`` with ``.x`` / ``.y`` / ``["x"]``."""

    __slots__ = ()


class Dataset(_NamedAccess, namedtuple("Dataset", ["train", "test"])):
    """``(train, test)``, each a :class:`Split`."""

    __slots__ = ()
