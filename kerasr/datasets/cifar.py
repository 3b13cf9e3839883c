"""``dataset_cifar10()`` and ``dataset_cifar100()``: 32x32 colour images."""

import pickle
import tarfile
import zlib

import numpy as np

from ._files import fetch
from ._result import Dataset, Split
from ._safe import restricted_loads

__all__ = ["dataset_cifar10", "dataset_cifar100"]


def _read_members(archive, names):
    """The bytes of the named members of a tar.gz, read in one pass without extracting.

    The archive has passed its SHA-256 check (``fetch``), so its pickled
    batches are the published ones; they are still read by the restricted
    unpickler. Reading from the archive means there is no extracted folder in
    the cache that could be swapped for something else.
    """
    wanted, found = set(names), {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name in wanted and member.isfile():
                    found[member.name] = tar.extractfile(member).read()
                    if len(found) == len(wanted):
                        break
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise ValueError(f"{archive} is truncated or corrupt ({exc}); "
                         "delete it and try again.") from exc
    missing = [n for n in names if n not in found]
    if missing:
        raise ValueError(f"{archive} is not the CIFAR archive (or it is truncated): "
                         f"it lacks {', '.join(missing)}")
    return [found[n] for n in names]


def _batch(raw, label_key, where):
    try:
        d = restricted_loads(raw, encoding="bytes")
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise ValueError(f"{where} is not a CIFAR batch: {exc}") from exc
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in d.items()} \
        if isinstance(d, dict) else {}
    if "data" not in d or label_key not in d:
        raise ValueError(f"{where} is not a CIFAR batch with 'data' and '{label_key}'")
    data = np.asarray(d["data"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32 \
            or len(d[label_key]) != len(data):
        raise ValueError(f"{where} is not a CIFAR batch: data {data.dtype} {data.shape}, "
                         f"{len(d[label_key])} labels")
    # Each row is 1024 red, then 1024 green, then 1024 blue values (row-major 32x32).
    return data.reshape(len(data), 3, 32, 32), d[label_key]


def _channels_last(x):
    # Keras transposes (n, 3, 32, 32) to channels_last; a contiguous copy keeps
    # later reshapes and kernels fast.
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def dataset_cifar10():
    """CIFAR-10: 50,000 training and 10,000 test 32x32 colour images, 10 classes.

    As R keras's ``dataset_cifar10()`` / Keras's ``cifar10.load_data()``.
    ``cifar-10-python.tar.gz`` is cached in ``~/.kerasr/datasets`` (downloaded
    from the CIFAR page on first use, checked against its published SHA-256).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` uint8, channels last,
        ``(50000, 32, 32, 3)`` / ``(10000, 32, 32, 3)``; ``y`` uint8 of shape
        ``(50000, 1)`` / ``(10000, 1)``, labels 0-9 (airplane, automobile,
        bird, cat, deer, dog, frog, horse, ship, truck).
    """
    archive = fetch("cifar-10-python.tar.gz")
    names = [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)]
    names.append("cifar-10-batches-py/test_batch")
    batches = [_batch(raw, "labels", f"{archive}:{name}")
               for raw, name in zip(_read_members(archive, names), names)]
    x_train = np.concatenate([x for x, _ in batches[:5]])
    y_train = np.concatenate([np.asarray(y, dtype=np.uint8) for _, y in batches[:5]])
    x_test, y_test = batches[5][0], np.asarray(batches[5][1], dtype=np.uint8)
    return Dataset(Split(_channels_last(x_train), y_train.reshape(-1, 1)),
                   Split(_channels_last(x_test), y_test.reshape(-1, 1)))


def dataset_cifar100(label_mode="fine"):
    """CIFAR-100: 50,000 training and 10,000 test 32x32 colour images, 100 classes in 20 groups.

    As R keras's ``dataset_cifar100()`` / Keras's ``cifar100.load_data()``.

    Args:
        label_mode: ``"fine"`` (100 classes, 0-99) or ``"coarse"`` (the 20
            superclasses, 0-19).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` uint8, channels last,
        ``(50000, 32, 32, 3)`` / ``(10000, 32, 32, 3)``; ``y`` of shape
        ``(50000, 1)`` / ``(10000, 1)``, int64 as Keras actually returns it
        (Keras's docstring says uint8, but its code reshapes a list of ints).
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'label_mode must be "fine" or "coarse", got {label_mode!r}')
    archive = fetch("cifar-100-python.tar.gz")
    names = ["cifar-100-python/train", "cifar-100-python/test"]
    key = f"{label_mode}_labels"
    parts = []
    for raw, name in zip(_read_members(archive, names), names):
        x, y = _batch(raw, key, f"{archive}:{name}")
        parts.append(Split(_channels_last(x), np.asarray(y, dtype=np.int64).reshape(-1, 1)))
    return Dataset(*parts)
