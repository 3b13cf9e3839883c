"""Where each data file comes from, and the published hash it must match.

These are the canonical locations and hashes Keras 3 uses
(``keras/src/datasets/*.py``). The loaders read this table at call time, so
tests can point an entry at a local server without touching the real ones.
64 hex digits are SHA-256; Keras publishes only MD5 (32 hex digits) for the two
word-index JSON files.
"""

from collections import namedtuple

__all__ = ["Source", "SOURCES"]

Source = namedtuple("Source", ["url", "file_hash"])

_GCS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_TORONTO = "https://www.cs.toronto.edu/~kriz/"

SOURCES = {
    "mnist.npz": Source(
        _GCS + "mnist.npz",
        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
    "fashion-mnist/train-labels-idx1-ubyte.gz": Source(
        _GCS + "train-labels-idx1-ubyte.gz",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
    "fashion-mnist/train-images-idx3-ubyte.gz": Source(
        _GCS + "train-images-idx3-ubyte.gz",
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
    "fashion-mnist/t10k-labels-idx1-ubyte.gz": Source(
        _GCS + "t10k-labels-idx1-ubyte.gz",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
    "fashion-mnist/t10k-images-idx3-ubyte.gz": Source(
        _GCS + "t10k-images-idx3-ubyte.gz",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
    "cifar-10-python.tar.gz": Source(
        _TORONTO + "cifar-10-python.tar.gz",
        "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"),
    "cifar-100-python.tar.gz": Source(
        _TORONTO + "cifar-100-python.tar.gz",
        "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"),
    "imdb.npz": Source(
        _GCS + "imdb.npz",
        "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"),
    "imdb_word_index.json": Source(
        _GCS + "imdb_word_index.json",
        "bfafd718b763782e994055a2d397834f"),
    "reuters.npz": Source(
        _GCS + "reuters.npz",
        "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"),
    "reuters_word_index.json": Source(
        _GCS + "reuters_word_index.json",
        "4d44cc38712099c9e383dc6e5f11a921"),
}
