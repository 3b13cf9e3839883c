"""Downloads, cache and loaders, tested for real against a local HTTP server on 127.0.0.1.

The server serves small generated files in each data set's real format and
member names; the loaders' source table (``kerasr.datasets._sources.SOURCES``)
is pointed at it with the generated files' hashes. Nothing else is contacted.
"""

import gzip
import hashlib
import http.server
import io
import json
import os
import pickle
import socket
import tarfile
import threading
import zipfile
from collections import Counter

import numpy as np
import pytest

from kerasr.datasets import (ChecksumError, Dataset, DownloadError, _sources, dataset_cifar10,
                             dataset_cifar100, dataset_fashion_mnist, dataset_imdb,
                             dataset_imdb_word_index, dataset_mnist, dataset_reuters,
                             dataset_reuters_word_index, get_file)
from kerasr.datasets._safe import UnsafeFileError


# --------------------------------------------------------------------------- server


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.hits[self.path] += 1
        entry = self.server.files.get(self.path)
        if entry is None:
            self.send_error(404, "Not Found")
            return
        body, mode = entry
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "drop":
            # Announce the full length, send half, then hang up.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self.wfile.write(body)

    def log_message(self, *args):
        pass


class LocalServer:
    def __init__(self):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.files = {}
        self.httpd.hits = Counter()
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def url(self, name):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def serve(self, name, body, mode="ok"):
        self.httpd.files["/" + name] = (body, mode)
        return self.url(name)

    def hits(self, name):
        return self.httpd.hits["/" + name]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server():
    s = LocalServer()
    yield s
    s.close()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty kerasr cache root (KERASR_HOME)."""
    root = tmp_path / "kerasr_home"
    monkeypatch.setenv("KERASR_HOME", str(root))
    return root


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def publish(monkeypatch, server, key, body, file_hash=None, mode="ok"):
    """Serve ``body`` for the loaders' source ``key`` and point the table at it."""
    name = key.rpartition("/")[2]
    url = server.serve(name, body, mode)
    monkeypatch.setitem(_sources.SOURCES, key, _sources.Source(url, file_hash or sha256(body)))
    return name


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist.npz"


def read(path):
    with open(path, "rb") as f:
        return f.read()


def listing(folder):
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


# --------------------------------------------------------------------------- generated files


def npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def mnist_arrays(n_train=6, n_test=4, seed=0):
    rng = np.random.RandomState(seed)
    return {
        "x_train": rng.randint(0, 256, (n_train, 28, 28)).astype(np.uint8),
        "y_train": rng.randint(0, 10, n_train).astype(np.uint8),
        "x_test": rng.randint(0, 256, (n_test, 28, 28)).astype(np.uint8),
        "y_test": rng.randint(0, 10, n_test).astype(np.uint8),
    }


def idx_gz(array, magic):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def tar_gz(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def cifar_batch(data, **labels):
    # CIFAR's batches are Python 2 pickles whose str keys and array buffers read
    # back as bytes with encoding="bytes"; protocol 3's bytes read back the same
    # (Python 3's protocol 2 would route bytes through _codecs.encode instead).
    d = {b"batch_label": b"generated batch", b"data": data,
         b"filenames": [f"img_{i}.png".encode() for i in range(len(data))]}
    d.update({k.encode(): v for k, v in labels.items()})
    return pickle.dumps(d, protocol=3)


def object_array(lists):
    out = np.empty(len(lists), dtype=object)
    for i, x in enumerate(lists):
        out[i] = list(x)
    return out


# IMDB, hand-worked: raw word ranks (1 = most frequent) before Keras's transformations.
IMDB_TRAIN = [[1, 2, 5], [3, 3], [4, 1, 1, 1]]
IMDB_TRAIN_Y = [0, 1, 1]
IMDB_TEST = [[2, 6], [7]]
IMDB_TEST_Y = [1, 0]


def imdb_npz():
    return npz_bytes(x_train=object_array(IMDB_TRAIN), y_train=np.array(IMDB_TRAIN_Y),
                     x_test=object_array(IMDB_TEST), y_test=np.array(IMDB_TEST_Y))


REUTERS_X = [[1, 2], [5, 3, 1], [2], [6, 6, 6, 1], [4, 3]]
REUTERS_Y = [3, 4, 3, 45, 1]


def reuters_npz():
    return npz_bytes(x=object_array(REUTERS_X), y=np.array(REUTERS_Y))


def keras_permutations(seed, *sizes):
    """The shuffles Keras applies: one RandomState, one ``shuffle(arange(n))`` per part."""
    rng = np.random.RandomState(seed)
    perms = []
    for n in sizes:
        idx = np.arange(n)
        rng.shuffle(idx)
        perms.append(idx)
    return perms


# --------------------------------------------------------------------------- get_file


def test_first_call_downloads_and_verifies_second_reads_cache(server, home, capfd):
    body = npz_bytes(**mnist_arrays())
    url = server.serve("mnist.npz", body)
    path = get_file("mnist.npz", url, file_hash=sha256(body))
    assert path == str(home / "datasets" / "mnist.npz")
    assert read(path) == body
    assert server.hits("mnist.npz") == 1
    err = capfd.readouterr().err
    assert f"Downloading data from {url}" in err and "100%" in err
    # Second call: the cache, no request, no progress bar.
    assert get_file("mnist.npz", url, file_hash=sha256(body)) == path
    assert server.hits("mnist.npz") == 1
    assert "Downloading" not in capfd.readouterr().err
    assert listing(home / "datasets") == ["mnist.npz"]


def test_progress_false_is_silent(server, home, capfd):
    url = server.serve("a.bin", b"abc" * 1000)
    get_file("a.bin", url, progress=False)
    assert capfd.readouterr().err == ""


def test_fname_defaults_to_url_name_and_cache_dir(server, tmp_path):
    url = server.serve("data.json", b"{}")
    path = get_file(origin=url, cache_dir=tmp_path / "c", cache_subdir="sub", progress=False)
    assert path == str(tmp_path / "c" / "sub" / "data.json")


def test_corrupt_download_rejected_and_not_cached(server, home):
    body = b"not the published file"
    url = server.serve("mnist.npz", body)
    with pytest.raises(ChecksumError) as err:
        get_file("mnist.npz", url, file_hash=sha256(b"the published file"), progress=False)
    msg = str(err.value)
    assert url in msg and sha256(body) in msg and sha256(b"the published file") in msg
    assert str(home / "datasets" / "mnist.npz") in msg  # where to put it to work offline
    assert listing(home / "datasets") == []


def test_dropped_connection_leaves_no_partial_file(server, home):
    body = os.urandom(300_000)
    url = server.serve("big.bin", body, mode="drop")
    with pytest.raises(DownloadError, match="dropped after 150000 of 300000 bytes"):
        get_file("big.bin", url, progress=False)  # no hash: the length check alone catches it
    assert listing(home / "datasets") == []


def test_http_error_names_url_and_offline_recipe(server, home):
    url = server.url("missing.npz")
    with pytest.raises(DownloadError) as err:
        get_file("missing.npz", url, file_hash="0" * 64, progress=False)
    msg = str(err.value)
    assert url in msg and "404" in msg
    assert str(home / "datasets" / "missing.npz") in msg and "offline" in msg
    assert "0" * 64 in msg
    assert listing(home / "datasets") == []


def test_unreachable_url_names_url_and_offline_recipe(home):
    url = closed_port_url()
    with pytest.raises(DownloadError) as err:
        get_file("mnist.npz", url, progress=False, timeout=5)
    msg = str(err.value)
    assert url in msg and str(home / "datasets" / "mnist.npz") in msg
    assert isinstance(err.value, ConnectionError)
    assert listing(home / "datasets") == []


def test_cached_file_with_wrong_hash_is_downloaded_again(server, home, capfd):
    body = b"good bytes"
    url = server.serve("f.bin", body)
    (home / "datasets").mkdir(parents=True)
    (home / "datasets" / "f.bin").write_bytes(b"stale bytes")
    path = get_file("f.bin", url, file_hash=sha256(body), progress=False)
    assert read(path) == body and server.hits("f.bin") == 1
    assert "downloading it again" in capfd.readouterr().err


def test_user_placed_file_works_offline(home):
    # The offline recipe: a file put at the announced path is used without network.
    body = b"placed by hand"
    (home / "datasets").mkdir(parents=True)
    (home / "datasets" / "x.bin").write_bytes(body)
    path = get_file("x.bin", closed_port_url(), file_hash=sha256(body))
    assert read(path) == body


def test_md5_hash_detected_by_length(server, home):
    body = b'{"the": 1}'
    url = server.serve("wi.json", body)
    md5 = hashlib.md5(body).hexdigest()
    assert get_file("wi.json", url, file_hash=md5, progress=False).endswith("wi.json")
    with pytest.raises(ChecksumError, match="md5"):
        get_file("wi2.json", url, file_hash=hashlib.md5(b"x").hexdigest(), progress=False)
    with pytest.raises(ChecksumError, match="sha256"):
        get_file("wi3.json", url, file_hash=md5, hash_algorithm="sha256", progress=False)


@pytest.mark.parametrize("kwargs, match", [
    (dict(fname="a.bin", origin=None), "origin"),
    (dict(fname="sub/a.bin", origin="http://127.0.0.1:1/a.bin"), "without folders"),
    (dict(fname="a.bin", origin="http://127.0.0.1:1/a.bin", file_hash="xyz"), "hex"),
    (dict(fname="a.bin", origin="http://127.0.0.1:1/a.bin", hash_algorithm="sha1"),
     "hash_algorithm"),
])
def test_get_file_bad_arguments(home, kwargs, match):
    with pytest.raises(ValueError, match=match):
        get_file(**kwargs)


def test_extract_tar_gz(server, home):
    body = tar_gz({"pkg/a.txt": b"alpha", "pkg/sub/b.txt": b"beta"})
    url = server.serve("pkg.tar.gz", body)
    folder = get_file("pkg.tar.gz", url, file_hash=sha256(body), extract=True, progress=False)
    assert folder == str(home / "datasets" / "pkg_extracted")  # Keras 3's naming
    assert read(os.path.join(folder, "pkg", "sub", "b.txt")) == b"beta"
    assert os.path.isfile(home / "datasets" / "pkg.tar.gz")
    # A name without a dot is the folder; the archive is kept as <name>_archive.
    folder = get_file("pkgdir", url, extract=True, progress=False)
    assert folder == str(home / "datasets" / "pkgdir")
    assert os.path.isfile(home / "datasets" / "pkgdir_archive")
    assert read(os.path.join(folder, "pkg", "a.txt")) == b"alpha"


def test_extract_zip_and_unsafe_member_names(server, home, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ok.txt", b"fine")
        zf.writestr("../escaped.txt", b"outside")
    url = server.serve("z.zip", buf.getvalue())
    folder = get_file("z.zip", url, extract=True, progress=False)
    assert read(os.path.join(folder, "ok.txt")) == b"fine"
    assert not (home / "datasets" / "escaped.txt").exists()
    assert not any(p.name == "escaped.txt" for p in tmp_path.rglob("*"))


def test_truncated_archive_is_a_clear_error_and_not_kept(server, home):
    body = tar_gz({f"pkg/f{i}.bin": os.urandom(20_000) for i in range(4)})
    url = server.serve("cut.tar.gz", body[: len(body) // 2])
    with pytest.raises(ValueError, match="truncated"):
        get_file("cut.tar.gz", url, extract=True, progress=False)
    assert listing(home / "datasets") == []


# --------------------------------------------------------------------------- MNIST


def test_mnist_download_cache_shapes(server, home, monkeypatch):
    arrays = mnist_arrays(6, 4)
    name = publish(monkeypatch, server, "mnist.npz", npz_bytes(**arrays))
    (x_train, y_train), (x_test, y_test) = dataset_mnist()
    assert x_train.shape == (6, 28, 28) and x_test.shape == (4, 28, 28)
    assert y_train.shape == (6,) and y_test.shape == (4,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert os.path.isfile(home / "datasets" / "mnist.npz")
    mnist = dataset_mnist()  # from the cache
    assert server.hits(name) == 1
    assert isinstance(mnist, Dataset)
    np.testing.assert_array_equal(mnist.train.x, arrays["x_train"])
    np.testing.assert_array_equal(mnist["test"]["y"], arrays["y_test"])


def test_mnist_corrupt_download_not_cached(server, home, monkeypatch):
    publish(monkeypatch, server, "mnist.npz", b"garbage", file_hash=sha256(b"real"))
    with pytest.raises(ChecksumError):
        dataset_mnist()
    assert listing(home / "datasets") == []


def test_mnist_user_path_needs_no_network(home, tmp_path, monkeypatch):
    arrays = mnist_arrays(3, 2, seed=1)
    user = tmp_path / "my_mnist.npz"
    user.write_bytes(npz_bytes(**arrays))
    # Numbers only, read without pickle: usable even though its hash is not the published one.
    monkeypatch.setitem(_sources.SOURCES, "mnist.npz",
                        _sources.Source(closed_port_url(), "0" * 64))
    for path in (str(user), user):
        (x, y), _ = dataset_mnist(path=path)
        np.testing.assert_array_equal(x, arrays["x_train"])
    assert listing(home) == []


def test_mnist_wrong_path_and_wrong_arrays(home, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        dataset_mnist(path=str(tmp_path / "nowhere" / "mnist.npz"))
    wrong = tmp_path / "wrong.npz"
    wrong.write_bytes(npz_bytes(x=np.zeros(3), y=np.zeros(3)))
    with pytest.raises(ValueError, match="lacks x_train, y_train, x_test, y_test"):
        dataset_mnist(path=str(wrong))
    arrays = mnist_arrays()
    arrays["y_train"] = arrays["y_train"][:-1]
    wrong.write_bytes(npz_bytes(**arrays))
    with pytest.raises(ValueError, match="y_train"):
        dataset_mnist(path=str(wrong))
    wrong.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="truncated or corrupt"):
        dataset_mnist(path=str(wrong))
    wrong.write_bytes(npz_bytes(x_train=object_array([[1]]), y_train=np.zeros(1),
                                x_test=np.zeros((1, 28, 28)), y_test=np.zeros(1)))
    with pytest.raises(UnsafeFileError, match="pickled"):
        dataset_mnist(path=str(wrong))


# --------------------------------------------------------------------------- Fashion-MNIST


def fashion_files(n_train=5, n_test=3):
    rng = np.random.RandomState(3)
    arrays = {"train": (rng.randint(0, 256, (n_train, 28, 28)), rng.randint(0, 10, n_train)),
              "t10k": (rng.randint(0, 256, (n_test, 28, 28)), rng.randint(0, 10, n_test))}
    files = {}
    for prefix, (x, y) in arrays.items():
        files[f"fashion-mnist/{prefix}-images-idx3-ubyte.gz"] = idx_gz(x, 2051)
        files[f"fashion-mnist/{prefix}-labels-idx1-ubyte.gz"] = idx_gz(y, 2049)
    return arrays, files


def test_fashion_mnist(server, home, monkeypatch):
    arrays, files = fashion_files()
    for key, body in files.items():
        publish(monkeypatch, server, key, body)
    (x_train, y_train), (x_test, y_test) = dataset_fashion_mnist()
    assert x_train.shape == (5, 28, 28) and y_train.shape == (5,)
    assert x_test.shape == (3, 28, 28) and y_test.shape == (3,)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    np.testing.assert_array_equal(x_train, arrays["train"][0])
    np.testing.assert_array_equal(y_test, arrays["t10k"][1])
    assert sorted(os.listdir(home / "datasets" / "fashion-mnist")) == sorted(
        k.split("/")[1] for k in files)
    dataset_fashion_mnist()
    assert all(server.hits(k.split("/")[1]) == 1 for k in files)


def test_fashion_mnist_truncated_gzip(server, home, monkeypatch):
    _, files = fashion_files()
    for key, body in files.items():
        if "train-images" in key:
            body = body[: len(body) // 2]  # served with a matching hash: only parsing can tell
        publish(monkeypatch, server, key, body)
    with pytest.raises(ValueError, match="truncated"):
        dataset_fashion_mnist()


# --------------------------------------------------------------------------- CIFAR


def cifar10_archive(per_batch=2, n_test=3):
    rng = np.random.RandomState(4)
    members, xs, ys = {}, [], []
    for i in range(1, 6):
        data = rng.randint(0, 256, (per_batch, 3072)).astype(np.uint8)
        labels = [int(v) for v in rng.randint(0, 10, per_batch)]
        members[f"cifar-10-batches-py/data_batch_{i}"] = cifar_batch(data, labels=labels)
        xs.append(data)
        ys += labels
    test = rng.randint(0, 256, (n_test, 3072)).astype(np.uint8)
    test_labels = [int(v) for v in rng.randint(0, 10, n_test)]
    members["cifar-10-batches-py/test_batch"] = cifar_batch(test, labels=test_labels)
    members["cifar-10-batches-py/batches.meta"] = pickle.dumps({b"label_names": [b"airplane"]})
    members["cifar-10-batches-py/readme.html"] = b"<html></html>"
    return tar_gz(members), np.concatenate(xs), ys, test, test_labels


def test_cifar10(server, home, monkeypatch):
    body, x_raw, y_raw, test_raw, test_labels = cifar10_archive()
    name = publish(monkeypatch, server, "cifar-10-python.tar.gz", body)
    (x_train, y_train), (x_test, y_test) = dataset_cifar10()
    assert x_train.shape == (10, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_train.shape == (10, 1) and y_test.shape == (3, 1)
    assert x_train.dtype == x_test.dtype == y_train.dtype == y_test.dtype == np.uint8
    # Row layout: 1024 red, 1024 green, 1024 blue values, each 32x32 row-major.
    n, c, r, col = 7, 2, 5, 30
    assert x_train[n, r, col, c] == x_raw[n, c * 1024 + r * 32 + col]
    np.testing.assert_array_equal(x_test, test_raw.reshape(3, 3, 32, 32).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_train[:, 0], y_raw)  # batches 1..5 in order
    np.testing.assert_array_equal(y_test[:, 0], test_labels)
    assert x_train.flags.c_contiguous
    dataset_cifar10()
    assert server.hits(name) == 1
    assert listing(home / "datasets") == ["cifar-10-python.tar.gz"]  # nothing extracted


def test_cifar100_label_modes(server, home, monkeypatch):
    rng = np.random.RandomState(5)
    train, test = (rng.randint(0, 256, (n, 3072)).astype(np.uint8) for n in (4, 2))
    fine = {"train": [99, 0, 42, 7], "test": [3, 64]}
    coarse = {"train": [19, 0, 11, 2], "test": [1, 18]}
    body = tar_gz({
        "cifar-100-python/train": cifar_batch(train, fine_labels=fine["train"],
                                              coarse_labels=coarse["train"]),
        "cifar-100-python/test": cifar_batch(test, fine_labels=fine["test"],
                                             coarse_labels=coarse["test"]),
        "cifar-100-python/meta": pickle.dumps({b"fine_label_names": []}),
    })
    publish(monkeypatch, server, "cifar-100-python.tar.gz", body)
    for mode, labels in (("fine", fine), ("coarse", coarse)):
        (x_train, y_train), (x_test, y_test) = dataset_cifar100(label_mode=mode)
        assert x_train.shape == (4, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
        assert x_train.dtype == np.uint8
        assert y_train.shape == (4, 1) and y_test.shape == (2, 1)
        assert y_train.dtype == np.int64  # what Keras's code returns for CIFAR-100
        np.testing.assert_array_equal(y_train[:, 0], labels["train"])
        np.testing.assert_array_equal(y_test[:, 0], labels["test"])
        np.testing.assert_array_equal(x_train, train.reshape(4, 3, 32, 32).transpose(0, 2, 3, 1))
    with pytest.raises(ValueError, match="label_mode"):
        dataset_cifar100(label_mode="medium")


def test_cifar_truncated_archive(server, home, monkeypatch):
    body = cifar10_archive(per_batch=50)[0]
    # Served with a hash that matches the cut file: the archive reader must catch it.
    publish(monkeypatch, server, "cifar-10-python.tar.gz", body[: len(body) // 2])
    with pytest.raises(ValueError, match="truncated"):
        dataset_cifar10()


def test_cifar_archive_with_wrong_members(server, home, monkeypatch):
    publish(monkeypatch, server, "cifar-10-python.tar.gz", tar_gz({"other/file": b"x"}))
    with pytest.raises(ValueError, match="lacks cifar-10-batches-py/data_batch_1"):
        dataset_cifar10()


# --------------------------------------------------------------------------- IMDB


@pytest.fixture
def imdb(server, home, monkeypatch):
    publish(monkeypatch, server, "imdb.npz", imdb_npz())
    return server


def ordered(by_review, perm):
    return [by_review[i] for i in perm]


def as_lists(x):
    assert isinstance(x, np.ndarray) and x.dtype == object and x.ndim == 1
    return [list(r) for r in x]


def test_imdb_defaults_hand_worked(imdb):
    (x_train, y_train), (x_test, y_test) = dataset_imdb()
    p_train, p_test = keras_permutations(113, 3, 2)
    # start_char 1, then rank + 3; num_words=None makes Keras use the largest index
    # (10, in the test set) as num_words, so 10 itself becomes oov_char 2.
    assert as_lists(x_train) == ordered([[1, 4, 5, 8], [1, 6, 6], [1, 7, 4, 4, 4]], p_train)
    assert as_lists(x_test) == ordered([[1, 5, 9], [1, 2]], p_test)
    np.testing.assert_array_equal(y_train, np.array(IMDB_TRAIN_Y)[p_train])
    np.testing.assert_array_equal(y_test, np.array(IMDB_TEST_Y)[p_test])
    assert y_train.dtype == np.int64 and y_train.shape == (3,)
    assert imdb.hits("imdb.npz") == 1
    dataset_imdb()
    assert imdb.hits("imdb.npz") == 1


def test_imdb_num_words_skip_top_oov(imdb):
    p_train, p_test = keras_permutations(113, 3, 2)
    (x_train, _), (x_test, _) = dataset_imdb(num_words=6)
    assert as_lists(x_train) == ordered([[1, 4, 5, 2], [1, 2, 2], [1, 2, 4, 4, 4]], p_train)
    assert as_lists(x_test) == ordered([[1, 5, 2], [1, 2]], p_test)
    (x_train, _), (x_test, _) = dataset_imdb(skip_top=5)
    assert as_lists(x_train) == ordered([[2, 2, 5, 8], [2, 6, 6], [2, 7, 2, 2, 2]], p_train)
    assert as_lists(x_test) == ordered([[2, 5, 9], [2, 2]], p_test)
    (x_train, _), (x_test, _) = dataset_imdb(num_words=6, oov_char=None)
    assert as_lists(x_train) == ordered([[1, 4, 5], [1], [1, 4, 4, 4]], p_train)
    assert as_lists(x_test) == ordered([[1, 5], [1]], p_test)


def test_imdb_start_char_index_from_seed(imdb):
    p_train, p_test = keras_permutations(7, 3, 2)
    (x_train, y_train), (x_test, _) = dataset_imdb(seed=7, start_char=None, index_from=0)
    # Largest index 7 becomes oov 2 (Keras's num_words=None rule).
    assert as_lists(x_train) == ordered([[1, 2, 5], [3, 3], [4, 1, 1, 1]], p_train)
    assert as_lists(x_test) == ordered([[2, 6], [2]], p_test)
    np.testing.assert_array_equal(y_train, np.array(IMDB_TRAIN_Y)[p_train])
    (x_train, _), _ = dataset_imdb(seed=7, start_char=9, index_from=10, num_words=100)
    assert as_lists(x_train) == ordered([[9, 11, 12, 15], [9, 13, 13], [9, 14, 11, 11, 11]],
                                        p_train)


def test_imdb_maxlen_keeps_shorter(imdb):
    p_train, p_test = keras_permutations(113, 3, 2)
    (x_train, y_train), (x_test, y_test) = dataset_imdb(maxlen=4, num_words=100)
    # Lengths after start_char: train 4, 3, 5 and test 3, 2: keep len < 4.
    assert as_lists(x_train) == [[1, 6, 6]]
    np.testing.assert_array_equal(y_train, [1])
    expected_test = ordered([[1, 5, 9], [1, 10]], p_test)
    assert as_lists(x_test) == expected_test
    np.testing.assert_array_equal(y_test, np.array(IMDB_TEST_Y)[p_test])
    with pytest.raises(ValueError, match="increase maxlen"):
        dataset_imdb(maxlen=3)  # nothing left in the training set


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_words=0), "num_words"), (dict(num_words=-5), "num_words"),
    (dict(num_words=2.5), "num_words"), (dict(num_words=True), "num_words"),
    (dict(maxlen=0), "maxlen"), (dict(maxlen=-1), "maxlen"), (dict(maxlen="100"), "maxlen"),
    (dict(skip_top=-1), "skip_top"), (dict(index_from=-1), "index_from"),
    (dict(oov_char=-2), "oov_char"), (dict(start_char="1"), "start_char"),
    (dict(seed=-1), "seed"),
])
def test_imdb_bad_arguments_fail_before_any_download(home, kwargs, match):
    with pytest.raises(ValueError, match=match):
        dataset_imdb(**kwargs)
    assert listing(home) == []


def test_imdb_user_path(home, tmp_path, monkeypatch):
    body = imdb_npz()
    user = tmp_path / "imdb_copy.npz"
    user.write_bytes(body)
    monkeypatch.setitem(_sources.SOURCES, "imdb.npz", _sources.Source(closed_port_url(),
                                                                      sha256(body)))
    (x_train, _), _ = dataset_imdb(path=str(user), num_words=100)  # hash matches: opened
    assert sorted(map(len, x_train)) == [3, 4, 5]
    monkeypatch.setitem(_sources.SOURCES, "imdb.npz", _sources.Source(closed_port_url(),
                                                                      sha256(b"published")))
    with pytest.raises(UnsafeFileError, match="trust=True"):
        dataset_imdb(path=str(user))
    (x_train, _), _ = dataset_imdb(path=str(user), trust=True, num_words=100)
    assert sorted(map(len, x_train)) == [3, 4, 5]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        dataset_imdb(path=str(tmp_path / "missing.npz"))
    wrong = tmp_path / "wrong.npz"
    wrong.write_bytes(npz_bytes(x=object_array([[1]]), y=np.zeros(1)))
    with pytest.raises(ValueError, match="lacks the arrays x_train"):
        dataset_imdb(path=str(wrong), trust=True)
    assert listing(home) == []


class _Planted:
    """Unpickling this object creates a marker folder (the stand-in for running any code)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def malicious_npz(marker):
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        npy, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    pickle.dump(np.array([_Planted(marker)], dtype=object), npy, protocol=2)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("x_train.npy", npy.getvalue())
        for name in ("y_train", "x_test", "y_test"):
            one = io.BytesIO()
            np.save(one, np.zeros(1, dtype=np.int64))
            zf.writestr(f"{name}.npy", one.getvalue())
    return buf.getvalue()


def test_malicious_pickle_is_never_unpickled(server, home, tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil" / "imdb.npz"
    evil.parent.mkdir()
    evil.write_bytes(malicious_npz(str(marker)))
    # The payload is live: numpy's own allow_pickle=True would run it.
    with np.load(evil, allow_pickle=True) as f:
        f["x_train"]
    assert marker.is_dir()
    marker.rmdir()

    publish(monkeypatch, server, "imdb.npz", imdb_npz())
    # 1. path= with a hash that is not the published one: refused before reading.
    with pytest.raises(UnsafeFileError, match="not opened"):
        dataset_imdb(path=str(evil))
    assert not marker.exists()
    # 2. Even trust=True only unpickles numpy arrays and plain containers.
    with pytest.raises(ValueError, match="refusing to unpickle"):
        dataset_imdb(path=str(evil), trust=True)
    assert not marker.exists()
    # 3. Planted in the cache under the expected name: fails the hash, is replaced by
    #    the verified download before anything is unpickled.
    (home / "datasets").mkdir(parents=True)
    (home / "datasets" / "imdb.npz").write_bytes(evil.read_bytes())
    (x_train, _), _ = dataset_imdb(num_words=100)
    assert len(x_train) == 3 and not marker.exists()
    assert (home / "datasets" / "imdb.npz").read_bytes() == imdb_npz()


def old_numpy_npz(**lists):
    """An npz whose object arrays are pickled the way numpy < 2 wrote them (numpy.core)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, value in lists.items():
            npy = io.BytesIO()
            if isinstance(value, np.ndarray):
                np.save(npy, value)
            else:
                np.lib.format.write_array_header_1_0(
                    npy, {"descr": "|O", "fortran_order": False, "shape": (len(value),)})
                data = pickle.dumps(object_array(value), protocol=3)
                assert b"numpy._core.multiarray" in data
                npy.write(data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
            zf.writestr(f"{name}.npy", npy.getvalue())
    return buf.getvalue()


def test_imdb_file_written_by_old_numpy(server, home, monkeypatch):
    body = old_numpy_npz(x_train=IMDB_TRAIN, y_train=np.array(IMDB_TRAIN_Y),
                         x_test=IMDB_TEST, y_test=np.array(IMDB_TEST_Y))
    publish(monkeypatch, server, "imdb.npz", body)
    (x_train, _), (x_test, _) = dataset_imdb(num_words=100)
    p_train, _ = keras_permutations(113, 3, 2)
    assert as_lists(x_train) == ordered([[1, 4, 5, 8], [1, 6, 6], [1, 7, 4, 4, 4]], p_train)


def test_imdb_word_index(server, home, monkeypatch):
    index = {"the": 1, "and": 2, "movie": 17}
    body = json.dumps(index).encode()
    # Keras publishes an MD5 for this file.
    monkeypatch.setitem(_sources.SOURCES, "imdb_word_index.json",
                        _sources.Source(server.serve("imdb_word_index.json", body),
                                        hashlib.md5(body).hexdigest()))
    assert dataset_imdb_word_index() == index
    assert dataset_imdb_word_index() == index
    assert server.hits("imdb_word_index.json") == 1
    bad = home / "bad.json"
    bad.write_text('["not", "a", "dict"]')
    with pytest.raises(ValueError, match="word index"):
        dataset_imdb_word_index(path=str(bad))


# --------------------------------------------------------------------------- Reuters


def test_reuters_hand_worked(server, home, monkeypatch):
    publish(monkeypatch, server, "reuters.npz", reuters_npz())
    (perm,) = keras_permutations(113, 5)
    # num_words=None: Keras's rule turns the largest index, 9, into oov 2.
    by_wire = [[1, 4, 5], [1, 8, 6, 4], [1, 5], [1, 2, 2, 2, 4], [1, 7, 6]]
    (x_train, y_train), (x_test, y_test) = dataset_reuters()
    wires, labels = ordered(by_wire, perm), np.array(REUTERS_Y)[perm]
    assert as_lists(x_train) == wires[:4] and as_lists(x_test) == wires[4:]  # int(5 * 0.8)
    np.testing.assert_array_equal(y_train, labels[:4])
    np.testing.assert_array_equal(y_test, labels[4:])
    assert y_train.dtype == np.int64
    (x_train, y_train), (x_test, _) = dataset_reuters(test_split=0.4, num_words=7, skip_top=4,
                                                      maxlen=5)
    # maxlen=5 drops the 5-long wire; then [4, 7) kept, the rest becomes 2.
    cut = [[2, 4, 5], [2, 2, 6, 4], [2, 5], None, [2, 2, 6]]
    kept = [i for i in perm if cut[i] is not None]
    assert as_lists(x_train) + as_lists(x_test) == [cut[i] for i in kept]
    assert len(x_train) == int(4 * 0.6)
    np.testing.assert_array_equal(y_train, np.array(REUTERS_Y)[kept][:2])
    with pytest.raises(ValueError, match="test_split"):
        dataset_reuters(test_split=1.0)
    with pytest.raises(ValueError, match="num_words"):
        dataset_reuters(num_words=0)
    with pytest.raises(ValueError, match="increase maxlen"):
        dataset_reuters(maxlen=1)


def test_reuters_unverified_path_refused(home, tmp_path):
    user = tmp_path / "r" / "reuters.npz"
    user.parent.mkdir()
    user.write_bytes(reuters_npz())
    with pytest.raises(UnsafeFileError, match="trust=True"):
        dataset_reuters(path=str(user))
    (x_train, y_train), (x_test, _) = dataset_reuters(path=str(user), trust=True)
    assert len(x_train) == 4 and len(x_test) == 1 and y_train.shape == (4,)


def test_reuters_word_index(server, home, monkeypatch):
    body = json.dumps({"said": 1, "mln": 2}).encode()
    monkeypatch.setitem(_sources.SOURCES, "reuters_word_index.json",
                        _sources.Source(server.serve("reuters_word_index.json", body),
                                        hashlib.md5(body).hexdigest()))
    assert dataset_reuters_word_index() == {"said": 1, "mln": 2}


# --------------------------------------------------------------------------- the shipped table


def test_shipped_sources_are_the_canonical_ones():
    gcs = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    s = _sources.SOURCES
    assert s["mnist.npz"] == (gcs + "mnist.npz",
                              "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1")
    assert s["imdb.npz"].url == gcs + "imdb.npz"
    assert s["cifar-10-python.tar.gz"].url == \
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    for key, (url, file_hash) in s.items():
        assert url.startswith("https://"), key
        assert len(file_hash) == (32 if key.endswith(".json") else 64), key
        int(file_hash, 16)


def test_star_import_provides_the_loaders():
    namespace = {}
    exec("from kerasr import *", namespace)
    for name in ("dataset_mnist", "dataset_fashion_mnist", "dataset_cifar10", "dataset_cifar100",
                 "dataset_imdb", "dataset_imdb_word_index", "dataset_reuters",
                 "dataset_reuters_word_index", "dataset_boston_housing", "get_file"):
        assert callable(namespace[name]), name
