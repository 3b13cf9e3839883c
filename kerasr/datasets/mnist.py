"""``dataset_mnist()`` and ``dataset_fashion_mnist()``: 28x28 grayscale images, 10 classes."""

import gzip
import zlib

import numpy as np

from ._files import fetch, resolve
from ._result import Dataset, Split
from ._safe import load_npz

__all__ = ["dataset_mnist", "dataset_fashion_mnist"]

_MNIST_MEMBERS = ("x_train", "y_train", "x_test", "y_test")


def _check_images(x, y, where, part):
    if not isinstance(x, np.ndarray) or x.ndim != 3:
        raise ValueError(f"{where}: x_{part} should be images of shape (n, rows, cols), "
                         f"got shape {getattr(x, 'shape', None)}")
    if not isinstance(y, np.ndarray) or y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"{where}: y_{part} should be {len(x)} labels (shape ({len(x)},)), "
                         f"got shape {getattr(y, 'shape', None)}")


def dataset_mnist(path="mnist.npz"):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images.

    As R keras's ``dataset_mnist()`` / Keras's ``mnist.load_data()``.

    Args:
        path: a bare file name (default ``"mnist.npz"``) is the name of the
            file in kerasr's cache (``~/.kerasr/datasets``, ``KERASR_HOME``
            overrides): downloaded from Keras's location on first use and
            checked against its published SHA-256. A path with a folder
            (``"./mnist.npz"``, ``"/data/mnist.npz"``) is a copy you already
            have; it must hold the arrays ``x_train``, ``y_train``, ``x_test``,
            ``y_test`` (read without pickle).

    Returns:
        A :class:`~kerasr.datasets.Dataset`, ``(x_train, y_train), (x_test, y_test)``:
        ``x`` uint8 of shape ``(60000, 28, 28)`` / ``(10000, 28, 28)`` with
        values 0-255, ``y`` uint8 digit labels 0-9 of shape ``(60000,)`` / ``(10000,)``.
        Also ``mnist.train.x``, ``mnist["test"]["y"]``.
    """
    fpath, _ = resolve("mnist.npz", path, "dataset_mnist")
    # Numbers only: never needs pickle, so a file that fails the hash is
    # still safe to read; its contents are checked instead.
    arrays = load_npz(fpath, allow_objects=False)
    missing = [m for m in _MNIST_MEMBERS if m not in arrays]
    if missing:
        raise ValueError(
            f"dataset_mnist: {fpath} is not an MNIST file: it lacks {', '.join(missing)} "
            f"(it holds {', '.join(sorted(arrays)) or 'no arrays'})")
    x_train, y_train, x_test, y_test = (arrays[m] for m in _MNIST_MEMBERS)
    _check_images(x_train, y_train, f"dataset_mnist: {fpath}", "train")
    _check_images(x_test, y_test, f"dataset_mnist: {fpath}", "test")
    return Dataset(Split(x_train, y_train), Split(x_test, y_test))


def _read_idx(fpath, magic, ndim):
    """An IDX file (gzip-compressed), as LeCun's MNIST format: big-endian header, uint8 data."""
    try:
        with gzip.open(fpath, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{fpath} is truncated or not a gzip file ({exc}); "
                         "delete it and try again.") from exc
    header = 4 + 4 * ndim
    if len(data) < header or int.from_bytes(data[:4], "big") != magic:
        raise ValueError(f"{fpath} is not an IDX file with {ndim} dimension(s)")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    size = int(np.prod(dims))
    if len(data) - header != size:
        raise ValueError(f"{fpath} is truncated: its header announces {size} bytes of data, "
                         f"it holds {len(data) - header}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims).copy()


def dataset_fashion_mnist():
    """Fashion-MNIST: 60,000 training and 10,000 test 28x28 images of 10 kinds of clothing.

    As R keras's ``dataset_fashion_mnist()`` / Keras's ``fashion_mnist.load_data()``:
    the four gzip files are cached in ``~/.kerasr/datasets/fashion-mnist`` and
    checked against their published SHA-256.

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` as for :func:`dataset_mnist`:
        ``x`` uint8 ``(60000, 28, 28)`` / ``(10000, 28, 28)``, ``y`` uint8 labels
        0-9 (0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal,
        6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot).
    """
    parts = []
    for prefix in ("train", "t10k"):
        y = _read_idx(fetch(f"fashion-mnist/{prefix}-labels-idx1-ubyte.gz"), 2049, 1)
        x = _read_idx(fetch(f"fashion-mnist/{prefix}-images-idx3-ubyte.gz"), 2051, 3)
        if len(x) != len(y):
            raise ValueError(f"dataset_fashion_mnist: {len(x)} {prefix} images "
                             f"but {len(y)} labels")
        parts.append(Split(x, y))
    return Dataset(*parts)
