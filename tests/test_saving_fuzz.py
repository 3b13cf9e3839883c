"""Saved files are untrusted input (issue 8, "Safety").

- Targeted tests of the safe readers (`kerasr.saving._archive`, `kerasr.saving._npz`): hostile
  member paths, duplicate names, zip bombs (honest, lying headers, overlapping members,
  zip64-declared sizes), truncation and corruption, shape bombs, pickled and non-numeric
  arrays.
- A fuzz test: valid files (a small Sequential and a small graph model saved with `save_model`,
  and a weights file) mutated a few thousand times (seeded: `KERASR_FUZZ_SEED`;
  `KERASR_FUZZ_CASES` raises the count). Every case must end in a kerasr error (`accepted`)
  or a usable model; never in
  another exception, a hang (a per-case SIGALRM watchdog), inflating a bomb (zipfile's
  decompressor is wrapped with a byte budget), a file written outside the target, or code
  run (planted pickles and class names that would create a marker file).
- A save killed by SIGKILL mid-write leaves the previous file loadable.
"""

import copy
import io
import json
import os
import pickle
import random
import signal
import struct
import subprocess
import sys
import textwrap
import time
import traceback
import zipfile
import zlib
from functools import cache

try:
    import resource
except ImportError:  # not POSIX
    resource = None

import numpy as np
import pytest

from kerasr import (keras_model, keras_model_sequential, layer_concatenate, layer_dense,
                    layer_input, load_model, load_model_weights, optimizer_adam, save_model,
                    save_model_weights, set_random_seed)
from kerasr.saving._archive import ArchiveError, UnsafeArchiveError, open_archive, read_members
from kerasr.saving._npz import HEADER, NpzError, read_npz

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = int(os.environ.get("KERASR_FUZZ_SEED", "8"))
N_CASES = int(os.environ.get("KERASR_FUZZ_CASES", "10000"))
CASE_SECONDS = 30            # a case running longer is a hang
INFLATE_BUDGET = 32 << 20    # bytes any one case may decompress (the files are ~10 KB)
BOMB_BYTES = 300 << 20


# ---- the outcomes that count as "a kerasr error" --------------------------------------------
def accepted(error):
    """A clean refusal: a ValueError or OSError with a message, not raised by numba."""
    return (isinstance(error, (ValueError, OSError)) and bool(str(error).strip())
            and not type(error).__module__.startswith("numba"))


class Hang(BaseException):
    """Raised by the watchdog (a BaseException, so `except Exception` cannot swallow it)."""


class BombInflated(BaseException):
    """A case decompressed more than INFLATE_BUDGET bytes."""


class _Budget:
    spent = 0


class _CountingDecompressor:
    """Wraps zlib's decompressor (used by zipfile) and stops a case that inflates too much."""

    def __init__(self, inner):
        self._inner = inner

    def _spend(self, data):
        _Budget.spent += len(data)
        if _Budget.spent > INFLATE_BUDGET:
            raise BombInflated(f"inflated {_Budget.spent} bytes")
        return data

    def decompress(self, data, max_length=0):
        return self._spend(self._inner.decompress(data, max_length))

    def flush(self, *args):
        return self._spend(self._inner.flush(*args))

    def __getattr__(self, name):
        return getattr(self._inner, name)


@pytest.fixture
def inflate_budget(monkeypatch):
    original = zipfile._get_decompressor

    def counting(compress_type):
        inner = original(compress_type)
        return _CountingDecompressor(inner) if compress_type == zipfile.ZIP_DEFLATED else inner
    monkeypatch.setattr(zipfile, "_get_decompressor", counting)
    _Budget.spent = 0
    yield


# ---- hand-built zips (sizes, names and offsets under the test's control) --------------------
def entry(name, payload, deflate=False, size=None, crc=None, at=None):
    """A member: `payload` is the uncompressed content; `size`/`crc` override the header."""
    data = payload
    if deflate:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = packer.compress(payload) + packer.flush()
    return {"name": name, "data": data, "method": 8 if deflate else 0,
            "size": len(payload) if size is None else size,
            "crc": zlib.crc32(payload) if crc is None else crc, "at": at}


def raw_entry(name, data, method, size, crc=0, at=None):
    return {"name": name, "data": data, "method": method, "size": size, "crc": crc, "at": at}


def build_zip(entries):
    """A zip with exactly these entries (duplicates, lies and shared data allowed). `at=i`
    points an entry's central record at entry i's local header (overlapping members)."""
    out, central, offsets = bytearray(), bytearray(), []
    for e in entries:
        name = e["name"].encode("utf-8")
        flags = 0 if name.isascii() else 0x800
        size, csize = e["size"], len(e["data"])
        extra = b""
        size32 = size
        if size >= 0xFFFFFFFF:
            size32, extra = 0xFFFFFFFF, struct.pack("<HHQ", 1, 8, size)
        if e["at"] is None:
            offsets.append(len(out))
            out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, e["method"], 0, 0x21,
                               e["crc"], csize, min(size, 0xFFFFFFFE), len(name), 0)
            out += name + e["data"]
        else:
            offsets.append(offsets[e["at"]])
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, e["method"], 0,
                               0x21, e["crc"], csize, size32, len(name), len(extra), 0, 0, 0,
                               0, offsets[-1])
        central += name + extra
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central),
                       start, 0)
    return bytes(out)


def zip_members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def rebuild(members, deflate=False):
    return build_zip([entry(n, d, deflate=deflate) for n, d in members])


@cache
def zeros_deflated(n_bytes):
    packer, block, parts = zlib.compressobj(9, zlib.DEFLATED, -15), bytes(1 << 20), []
    for _ in range(n_bytes >> 20):
        parts.append(packer.compress(block))
    return b"".join(parts) + packer.flush()


def bomb_entry(name, declared=None):
    """`BOMB_BYTES` zeros deflated (~1000:1), declaring `declared` bytes (default: honest)."""
    return raw_entry(name, zeros_deflated(BOMB_BYTES), 8,
                     BOMB_BYTES if declared is None else declared, 0)


# ---- .npy building blocks -------------------------------------------------------------------
def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def forged_npy(descr, shape, data, fortran=False, version=(1, 0)):
    header = repr({"descr": descr, "fortran_order": fortran, "shape": shape}).encode("latin1")
    header += b" " * ((-(len(header) + 11)) % 64) + b"\n"
    length = struct.pack("<H", len(header)) if version == (1, 0) else \
        struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes(version) + length + header + data


class Payload:
    """Unpickling this would create the marker folder: the test fails if that ever happens."""
    marker = None

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def pickled_npy(marker):
    Payload.marker = marker
    return forged_npy("|O", (1,), pickle.dumps(np.array([Payload()], dtype=object)))


# ---- targeted tests of the readers ----------------------------------------------------------
def test_open_archive_reads_valid_archives_and_caps_reads():
    data = build_zip([entry("config.json", b"{}"), entry("a/b.bin", b"x" * 5000, deflate=True)])
    with open_archive(data, "m.keras") as archive:
        assert archive.names() == ["config.json", "a/b.bin"]
        assert "config.json" in archive and "nope" not in archive
        assert archive.read("a/b.bin") == b"x" * 5000
        with pytest.raises(UnsafeArchiveError, match="declares 5000 bytes; at most 100"):
            archive.read("a/b.bin", max_bytes=100)
        with pytest.raises(ArchiveError, match="lacks member 'nope'"):
            archive.read("nope")
    with zipfile.ZipFile(buffer := io.BytesIO(), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.json", "[1]")
    with open_archive(buffer.getvalue()) as archive:  # zipfile's own output
        assert archive.read("x.json") == b"[1]"


@pytest.mark.parametrize("name", ["../evil", "a/../../evil", "/etc/evil", "\\evil", "a\\..\\b",
                                  "C:/evil", "C:evil", "./a", "a//b", "", "a/./b", "a\x01b",
                                  "..", "a/.."])
def test_open_archive_refuses_escaping_names(name):
    with pytest.raises(UnsafeArchiveError, match="member name"):
        open_archive(build_zip([entry("config.json", b"{}"), entry(name, b"x")]), "f.keras")


def test_open_archive_refuses_duplicates_and_too_many_members():
    with pytest.raises(UnsafeArchiveError, match="'config.json' twice"):
        open_archive(build_zip([entry("config.json", b"{}"), entry("config.json", b"[]")]))
    many = build_zip([entry(f"m{i}", b"") for i in range(50)])
    with pytest.raises(UnsafeArchiveError, match="50 members; at most 10"):
        open_archive(many, max_members=10)
    assert len(open_archive(many).names()) == 50


@pytest.mark.usefixtures("inflate_budget")
def test_open_archive_refuses_zip_bombs_without_inflating_them():
    # Honest header: the ratio (and the total) gives it away before any byte is inflated.
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        open_archive(build_zip([entry("config.json", b"{}"), bomb_entry("model.weights.npz")]))
    # Declared sizes beyond the per-member limit, including a zip64 size.
    for declared in (9 << 30, 1 << 40):
        with pytest.raises(UnsafeArchiveError, match="more than the limit"):
            open_archive(build_zip([raw_entry("w.npz", b"tiny", 0, declared)]))
    # Many small members whose sizes add up (each under the ratio-free size).
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        open_archive(build_zip([entry(f"m{i}", bytes(1 << 20), deflate=True)
                                for i in range(200)]))
    # Overlapping members: every central record points at the same data.
    shared = [entry("m0", os.urandom(4096))] + [dict(entry(f"m{i}", b""), at=0, size=4096,
                                                     data=b"\0" * 4096) for i in range(1, 5)]
    with pytest.raises(UnsafeArchiveError, match="overlaps"):
        open_archive(build_zip(shared))
    # A lying header (declares 1000 bytes, inflates to BOMB_BYTES): read stops at the cap.
    archive = open_archive(build_zip([bomb_entry("config.json", declared=1000)]))
    with pytest.raises(ArchiveError, match="corrupt"):
        archive.read("config.json")
    assert _Budget.spent < 1 << 20


def test_read_members_checks_allowed_and_required_members(tmp_path):
    data = build_zip([entry("config.json", b"{}"), entry("w.npz", b"abc")])
    assert read_members(data, "m.keras", allowed=("config.json", "w.npz", "o.npz"),
                        required=("config.json",)) == {"config.json": b"{}", "w.npz": b"abc"}
    with pytest.raises(ArchiveError, match="unexpected member 'w.npz'"):
        read_members(data, "m.keras", allowed=("config.json",))
    with pytest.raises(ArchiveError, match="m.keras lacks o.npz"):
        read_members(data, "m.keras", required=("o.npz",))
    with pytest.raises(UnsafeArchiveError, match="at most 2"):
        read_members(data, "m.keras", max_bytes={"w.npz": 2})
    path = tmp_path / "m.keras"
    path.write_bytes(data)
    assert read_members(path)["w.npz"] == b"abc"


def test_open_archive_refuses_corrupt_and_truncated_archives(tmp_path):
    good = build_zip([entry("config.json", b'{"a": 1}' * 50, deflate=True),
                      entry("w.bin", os.urandom(300))])
    for cut in range(0, len(good), 3):
        with pytest.raises(ArchiveError), open_archive(good[:cut]) as archive:
            for name in archive.names():
                archive.read(name)
    flipped = bytearray(good)
    flipped[40] ^= 0xFF  # inside config.json's deflate stream
    with pytest.raises(ArchiveError, match="corrupt"):
        open_archive(bytes(flipped)).read("config.json")
    bad_crc = build_zip([entry("w.bin", b"abc", crc=123)])
    with pytest.raises(ArchiveError, match="corrupt.*CRC"):
        open_archive(bad_crc).read("w.bin")
    path = tmp_path / "f.keras"
    path.write_bytes(b"not a zip at all")
    with pytest.raises(ArchiveError, match=r"f\.keras.* not a readable zip"):
        open_archive(path)
    with pytest.raises(FileNotFoundError):
        open_archive(tmp_path / "missing.keras")


def _npz(**members):
    return build_zip([entry(f"{k}.npy", v) for k, v in members.items()])


def _header(fmt="kerasr.weights"):
    return npy_bytes(np.frombuffer(json.dumps({"format": fmt}).encode(), np.uint8))


def test_read_npz_reads_plain_big_endian_and_fortran_arrays():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    data = _npz(__kerasr_header__=_header(), a=npy_bytes(a),
                b=npy_bytes(a.astype(">f8")), c=npy_bytes(np.asfortranarray(a)),
                d=npy_bytes(np.array([True, False])), e=npy_bytes(np.zeros((0, 3), "int64")))
    header, arrays = read_npz(data, "w.npz", "kerasr.weights")
    assert header == {"format": "kerasr.weights"}
    for name in "abc":
        np.testing.assert_array_equal(arrays[name], a)
        assert arrays[name].dtype.isnative and arrays[name].flags.writeable
    assert arrays["d"].dtype == bool and arrays["e"].shape == (0, 3)


def test_read_npz_refuses_shape_bombs_and_unsafe_dtypes(tmp_path):
    marker = str(tmp_path / "PWNED")

    def refused(match, **members):
        with pytest.raises(NpzError, match=match):
            read_npz(_npz(__kerasr_header__=_header(), **members), "w.npz", "kerasr.weights")
    refused("holds 16 bytes", w=forged_npy("<f4", (10**12,), bytes(16)))
    refused("holds 16 bytes", w=forged_npy("<f4", (2**62, 2**62), bytes(16)))
    refused("holds 15 bytes", w=forged_npy("<f4", (4,), bytes(15)))       # truncated
    refused("holds 20 bytes", w=forged_npy("<f4", (4,), bytes(20)))       # trailing bytes
    refused("invalid shape|not a valid", w=forged_npy("<f4", (-1, 4), bytes(16)))
    refused("Python objects", w=pickled_npy(marker))
    refused("not a valid", w=pickle.dumps([1, 2]))                         # raw pickle
    for descr in ("<U4", "|V8", "<c8", "<M8[s]", "|S4", [("a", "<f4")]):
        refused("dtype|not a valid", w=forged_npy(descr, (1,), bytes(16)))
    refused("not a valid", w=b"\x93NUMPY\x01\x00\xff\xff" + b"{" * 100)
    refused("not a valid", w=forged_npy("<f4", (4,), bytes(16), version=(3, 0)))
    with pytest.raises(NpzError, match="not a .npy array"):
        read_npz(build_zip([entry("__kerasr_header__.npy", _header()), entry("w.txt", b"")]),
                 "w.npz", "kerasr.weights")
    assert not os.path.exists(marker)
    with pytest.raises(NpzError, match="no header"):
        read_npz(_npz(w=npy_bytes(np.zeros(2))), "w.npz", "kerasr.weights")
    with pytest.raises(NpzError, match="corrupt header"):
        read_npz(_npz(__kerasr_header__=npy_bytes(np.frombuffer(b"[" * 100_000, np.uint8))),
                 "w.npz", "kerasr.weights")


# ---- the fuzz test --------------------------------------------------------------------------
HOSTILE_NAMES = ["../escaped.txt", "../../escaped.txt", "sub/../../escaped.txt",
                 "\\..\\escaped.txt", "C:/escaped.txt", "/tmp/kerasr_fuzz_abs_escaped.txt",
                 "./config.json", "config.json/", "con fig.json\x00x"]
HOSTILE_CLASSES = ["os.system", "system", "eval", "exec", "__import__", "builtins.eval",
                   "subprocess.Popen", "posix.system", "Layer", "object", "type",
                   "__class__", "Model", "Sequential", "Functional", "__lambda__",
                   "NoSuchLayer", "keras.layers.Dense", "Dense>Dense"]
JSON_VALUES = [None, True, False, 0, -1, 1, 3, 2**31, 2**63, -2**63, 10**30, 1e308, -1e308,
               float("nan"), float("inf"), 0.5, -0.5, "", "x", "float64", "float16", "int8",
               "relu", "softmax", "same", "../../escaped.txt", [], [None], [1, 2], [[None, 4]],
               {}, {"class_name": "os.system", "config": {"command": "mkdir PWNED"}},
               {"class_name": "__lambda__", "config": {"code": "YWJj", "defaults": None}},
               "A" * 5000, [None, 10**9], [2**40, 2**40]]


def _value(rng):
    return copy.deepcopy(rng.choice(JSON_VALUES))


def _json_paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _json_paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _json_paths(value, path + (i,))


def _get(node, path):
    for key in path:
        node = node[key]
    return node


def mutate_json(rng, root, marker):
    root = copy.deepcopy(root)
    for _ in range(rng.randint(1, 3)):
        paths = list(_json_paths(root))
        path = rng.choice(paths[1:]) if len(paths) > 1 else ()
        parent, key = (_get(root, path[:-1]), path[-1]) if path else (None, None)
        kind = rng.random()
        if parent is None:
            root = _value(rng)
        elif kind < 0.45:
            parent[key] = _value(rng)
        elif kind < 0.55 and isinstance(parent, dict):
            del parent[key]
        elif kind < 0.6 and isinstance(parent, dict):
            parent["unexpected_" + str(key)] = _value(rng)
        elif kind < 0.65 and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif kind < 0.7 and isinstance(parent, list):
            del parent[key]
        elif kind < 0.8:  # swap with another subtree
            other = rng.choice(paths[1:])
            if other[:len(path)] != path and path[:len(other)] != other:
                a, b = copy.deepcopy(_get(root, path)), copy.deepcopy(_get(root, other))
                parent[key] = b
                _get(root, other[:-1])[other[-1]] = a
        elif kind < 0.9:  # hostile class names where a class is named
            named = [p for p in paths if p and p[-1] in ("class_name", "registered_name",
                                                          "module")]
            if named:
                p = rng.choice(named)
                _get(root, p[:-1])[p[-1]] = rng.choice(HOSTILE_CLASSES)
        else:  # huge numbers where numbers are
            numbers = [p for p in paths if p and isinstance(_get(root, p), int)
                       and not isinstance(_get(root, p), bool)]
            if numbers:
                p = rng.choice(numbers)
                _get(root, p[:-1])[p[-1]] = rng.choice([10**9, 2**31 - 1, 2**62, -(2**62),
                                                         10**100, 10**7])
    return root


def deep_config(depth):
    """Sequentials nested `depth` deep, as JSON text (deep recursion to parse or rebuild)."""
    return ('{"class_name": "Sequential", "config": {"name": null, "layers": [' * depth
            + '{"class_name": "Dense", "config": {"units": 1}}' + "]}}" * depth).encode()


class Corpus:
    """The valid files and how to mutate them."""

    def __init__(self, marker):
        self.marker = marker
        set_random_seed(3)
        seq = keras_model_sequential(input_shape=(4,), name="seq") | \
            layer_dense(5, activation="relu") | layer_dense(2)
        seq.compile(optimizer=optimizer_adam(), loss="mse")
        x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
        seq.fit(x, x[:, :2], epochs=1, verbose=0)
        a, b = layer_input(shape=(4,)), layer_input(shape=(3,))
        out = layer_concatenate([a | layer_dense(5), b]) | layer_dense(2)
        graph = keras_model(inputs=[a, b], outputs=out)
        graph.compile(optimizer="sgd", loss="mse")
        self.x = x
        self.inputs = {"sequential": x, "graph": [x, np.ones((8, 3), "float32")],
                       "weights": x}
        self.weights_model = seq
        self.files = {}
        for kind, model in (("sequential", seq), ("graph", graph)):
            path = os.path.join(os.path.dirname(marker), f"orig_{kind}.keras")
            save_model(model, path)
            with open(path, "rb") as f:
                self.files[kind] = f.read()
            os.unlink(path)
        path = os.path.join(os.path.dirname(marker), "orig.weights.npz")
        save_model_weights(seq, path)
        with open(path, "rb") as f:
            self.files["weights"] = f.read()
        os.unlink(path)

    # -- mutations: each returns (label, bytes) --
    def mutate(self, rng, kind):
        data = self.files[kind]
        members = zip_members(data)
        npz_names = [n for n, _ in members if n.endswith(".npz")]
        choices = [
            (4, self.bit_flips), (2, self.overwrite), (2, self.truncate), (1, self.garbage),
            (2, self.remove), (2, self.duplicate), (2, self.swap), (1, self.reorder_deflate),
            (2, self.hostile_path), (2, self.bomb), (1, self.pickles), (3, self.npy),
        ]
        if kind != "weights":
            choices += [(8, self.json), (1, self.deep)]
        else:
            choices += [(3, self.npz_header)]
        fns = [fn for weight, fn in choices for _ in range(weight)]
        fn = rng.choice(fns)
        label, out = fn(rng, kind, data, members, npz_names)
        return f"{kind}/{label}", out

    def bit_flips(self, rng, kind, data, members, npz):
        out = bytearray(data)
        n = rng.choice([1, 1, 2, 4, 16])
        for _ in range(n):
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
        return f"bitflip x{n}", bytes(out)

    def overwrite(self, rng, kind, data, members, npz):
        out = bytearray(data)
        i, n = rng.randrange(len(out)), rng.randint(1, 64)
        out[i:i + n] = bytes(rng.choice([0, 0xFF, rng.randrange(256)]) for _ in range(n))
        return f"overwrite {n}@{i}", bytes(out[:len(data)])

    def truncate(self, rng, kind, data, members, npz):
        n = rng.randrange(len(data))
        return f"truncate {n}", data[:n]

    def garbage(self, rng, kind, data, members, npz):
        junk = rng.randbytes(rng.randint(1, 200))
        return ("prepend", junk + data) if rng.random() < 0.5 else ("append", data + junk)

    def remove(self, rng, kind, data, members, npz):
        i = rng.randrange(len(members))
        return f"remove {members[i][0]}", rebuild(members[:i] + members[i + 1:])

    def duplicate(self, rng, kind, data, members, npz):
        i = rng.randrange(len(members))
        name = members[i][0]
        other = rng.choice(members)[1]
        dup = members + [(name, other)] if rng.random() < 0.5 else [(name, other)] + members
        return f"duplicate {name}", rebuild(dup)

    def swap(self, rng, kind, data, members, npz):
        i, j = rng.sample(range(len(members)), 2) if len(members) > 1 else (0, 0)
        out = list(members)
        out[i], out[j] = (members[i][0], members[j][1]), (members[j][0], members[i][1])
        return f"swap {members[i][0]}<->{members[j][0]}", rebuild(out)

    def reorder_deflate(self, rng, kind, data, members, npz):
        out = list(members)
        rng.shuffle(out)
        return "reorder+deflate", rebuild(out, deflate=rng.random() < 0.7)

    def hostile_path(self, rng, kind, data, members, npz):
        name = rng.choice(HOSTILE_NAMES)
        out = list(members)
        if rng.random() < 0.5:
            i = rng.randrange(len(out))
            out[i] = (name, out[i][1])
        else:
            out.append((name, rng.choice(members)[1]))
        return f"hostile path {name!r}", rebuild(out)

    def bomb(self, rng, kind, data, members, npz):
        target = rng.choice([n for n, _ in members])
        variant = rng.choice(["honest", "lying", "zip64", "overlap", "nested"])
        entries = [entry(n, d) for n, d in members if n != target]
        if variant == "honest":
            entries.append(bomb_entry(target))
        elif variant == "lying":
            entries.append(bomb_entry(target, declared=len(dict(members)[target])))
        elif variant == "zip64":
            entries.append(raw_entry(target, b"tiny", rng.choice([0, 8]),
                                     rng.choice([1 << 40, 0xFFFFFFFF, 9 << 30])))
        elif variant == "overlap":
            entries = [entry(n, d) for n, d in members]
            entries += [dict(entry(f"dup{i}", b""), at=0, size=len(entries[0]["data"]),
                             data=entries[0]["data"]) for i in range(20)]
        else:  # a bomb inside the weights .npz of a .keras file (or the .npz itself)
            if npz:
                target = rng.choice(npz)
                inner = zip_members(dict(members)[target])
                inner_name = rng.choice(inner)[0]
                inner = [entry(n, d) for n, d in inner if n != inner_name]
                inner.append(bomb_entry(inner_name, declared=rng.choice([None, 1000])))
                entries = [entry(n, d) for n, d in members if n != target]
                entries.append(entry(target, build_zip(inner)))
            else:
                entries.append(bomb_entry(target, declared=rng.choice([None, 1000])))
        return f"bomb {variant} {target}", build_zip(entries)

    def pickles(self, rng, kind, data, members, npz):
        payload = pickled_npy(self.marker)
        out = list(members)
        if npz:  # a pickled array in a .npz inside the .keras file
            target = rng.choice(npz)
            inner = zip_members(dict(members)[target])
            i = rng.randrange(len(inner))
            inner[i] = (inner[i][0], payload if rng.random() < 0.7
                        else pickle.dumps(Payload()))
            out = [(n, rebuild(inner) if n == target else d) for n, d in out]
            return f"pickle in {target}/{inner[i][0]}", rebuild(out)
        i = rng.randrange(len(out))
        out[i] = (out[i][0], payload if rng.random() < 0.7 else pickle.dumps(Payload()))
        return f"pickle as {out[i][0]}", rebuild(out)

    def _npy_mutation(self, rng, blob):
        """A forged .npy in place of `blob` (a valid .npy)."""
        array = np.load(io.BytesIO(blob), allow_pickle=False)
        raw = array.tobytes()
        variant = rng.choice(["shape_bomb", "overflow", "negative", "dtype", "truncate",
                              "extend", "fortran", "big_endian", "header", "ndim"])
        if variant == "shape_bomb":
            return variant, forged_npy(array.dtype.str, (10**rng.randint(6, 15),), raw)
        if variant == "overflow":
            return variant, forged_npy(array.dtype.str, (2**63, 2**63, 0 + 1), raw)
        if variant == "negative":
            return variant, forged_npy(array.dtype.str, (-1,) + array.shape[1:], raw)
        if variant == "dtype":
            descr = rng.choice(["|O", "<U2", "|V4", "<c8", "<M8[D]", "|S4", "<f8", "<i8",
                                "|b1", "<f2", [("a", "<f4")]])
            return f"dtype {descr}", forged_npy(descr, array.shape, raw)
        if variant == "truncate":
            return variant, blob[:rng.randrange(len(blob))]
        if variant == "extend":
            return variant, blob + bytes(rng.randint(1, 64))
        if variant == "fortran":
            return variant, forged_npy(array.dtype.str, array.shape[::-1], raw, fortran=True)
        if variant == "big_endian":
            return variant, npy_bytes(array.astype(array.dtype.newbyteorder(">")))
        if variant == "ndim":
            return variant, forged_npy(array.dtype.str, (1,) * 70, raw[:array.itemsize])
        junk = rng.choice([b"{" * 200, b"{'descr': os.system}", b"__import__('os')",
                           b"{'descr': '<f4', 'fortran_order': False, 'shape': (1,) * 10**6}"])
        return "header", blob[:10] + junk + blob[10 + len(junk):]

    def npy(self, rng, kind, data, members, npz):
        if kind == "weights":
            i = rng.randrange(len(members))
            label, forged = self._npy_mutation(rng, members[i][1])
            out = list(members)
            out[i] = (out[i][0], forged)
            return f"npy {label} {members[i][0]}", rebuild(out)
        target = rng.choice(npz)
        inner = zip_members(dict(members)[target])
        i = rng.randrange(len(inner))
        label, forged = self._npy_mutation(rng, inner[i][1])
        inner[i] = (inner[i][0], forged)
        out = [(n, rebuild(inner) if n == target else d) for n, d in members]
        return f"npy {label} {target}/{inner[i][0]}", rebuild(out)

    def npz_header(self, rng, kind, data, members, npz):
        out = list(members)
        i = [n for n, _ in members].index(HEADER + ".npy")
        header = json.loads(np.load(io.BytesIO(out[i][1])).tobytes())
        header = mutate_json(rng, header, self.marker)
        text = json.dumps(header).encode()
        out[i] = (out[i][0], npy_bytes(np.frombuffer(text, np.uint8)))
        return "npz header json", rebuild(out)

    def json(self, rng, kind, data, members, npz):
        name = rng.choice(["config.json"] * 4 + ["metadata.json"])
        out = list(members)
        i = [n for n, _ in members].index(name)
        mutated = mutate_json(rng, json.loads(out[i][1]), self.marker)
        out[i] = (name, json.dumps(mutated).encode())
        return f"json {name}", rebuild(out)

    def deep(self, rng, kind, data, members, npz):
        variant = rng.choice(["lists", "objects", "models"])
        if variant == "lists":
            text = b"[" * 100_000 + b"]" * 100_000
        elif variant == "objects":
            text = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
        else:
            text = deep_config(rng.choice([300, 2000]))
        out = [(n, text if n == "config.json" else d) for n, d in members]
        return f"deep {variant}", rebuild(out)


def _site(error):
    frames = traceback.extract_tb(error.__traceback__)
    inside = [f for f in frames if "kerasr" in f.filename and "tests" not in f.filename]
    frame = (inside or frames or [None])[-1]
    if frame is None:
        return "?"
    site = f"{os.path.relpath(frame.filename, REPO)}:{frame.lineno}"
    saving = [f for f in inside if os.sep + "saving" + os.sep in f.filename]
    if saving and saving[-1] is not frame:
        site += f" (via {os.path.relpath(saving[-1].filename, REPO)}:{saving[-1].lineno})"
    return site


def _alarm(signum, frame):
    raise Hang(f"a case ran longer than {CASE_SECONDS} s")


posix_only = pytest.mark.skipif(resource is None or not hasattr(signal, "SIGKILL")
                                or not hasattr(signal, "setitimer"),
                                reason="needs POSIX signals and resource limits")


@posix_only
@pytest.mark.usefixtures("inflate_budget")
def test_fuzzed_files_end_in_a_kerasr_error_or_a_valid_model(tmp_path):
    top = tmp_path / "top"
    sandbox = top / "sandbox"
    sandbox.mkdir(parents=True)
    marker = str(top / "PWNED")
    corpus = Corpus(marker)
    before_top = sorted(os.listdir(top))
    before_cwd = sorted(os.listdir(os.getcwd()))
    rng = random.Random(SEED)
    failures = {}   # (kind of failure, site) -> [count, example]
    outcomes = {"refused": 0, "loaded": 0}
    previous_alarm = signal.signal(signal.SIGALRM, _alarm)
    limits = resource.getrlimit(resource.RLIMIT_AS)
    try:  # an allocation bomb ends in MemoryError, not in the OOM killer
        with open("/proc/self/statm") as f:
            vsize = int(f.read().split()[0]) * resource.getpagesize()
        soft = vsize + (6 << 30)
        if limits[1] == resource.RLIM_INFINITY or soft < limits[1]:
            resource.setrlimit(resource.RLIMIT_AS, (soft, limits[1]))
    except (OSError, ValueError):
        pass
    kinds = ["sequential", "graph", "weights"]
    started = time.time()
    try:
        for case in range(N_CASES):
            kind = kinds[case % 3]
            label, data = corpus.mutate(rng, kind)
            target = sandbox / ("target.weights.npz" if kind == "weights" else "target.keras")
            target.write_bytes(data)
            _Budget.spent = 0
            case_started = time.time()
            signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
            stage = "load"
            try:
                if kind == "weights":
                    model = load_model_weights(corpus.weights_model, str(target))
                else:
                    model = load_model(str(target))
                stage = "predict"
                prediction = model.predict(corpus.inputs[kind], verbose=0)
                assert isinstance(prediction, np.ndarray) and prediction.shape[0] == 8
                outcomes["loaded"] += 1
            except KeyboardInterrupt:
                raise
            except BaseException as error:  # noqa: BLE001 - classify everything else
                if stage == "load" and accepted(error):
                    outcomes["refused"] += 1
                elif stage == "predict" and accepted(error):
                    outcomes["loaded"] += 1   # loaded; the mutated model refuses the inputs
                else:
                    key = (f"{type(error).__name__} in {stage}", _site(error))
                    failures.setdefault(key, [0, label, str(error)[:200]])[0] += 1
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            elapsed = time.time() - case_started
            if elapsed > CASE_SECONDS / 2:
                failures.setdefault((f"slow case ({elapsed:.1f} s)", "-"),
                                    [0, label, ""])[0] += 1
            listing = sorted(os.listdir(sandbox))
            if listing != [target.name] or sorted(os.listdir(top)) != before_top:
                failures.setdefault(("file written outside the target", "-"),
                                    [0, label, repr(listing)])[0] += 1
                for name in listing:
                    if name != target.name:
                        os.unlink(sandbox / name) if (sandbox / name).is_file() else None
            target.unlink()
            if os.path.exists(marker):
                pytest.fail(f"CODE RAN: case {case} ({label}) created the marker {marker}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_alarm)
        resource.setrlimit(resource.RLIMIT_AS, limits)
    assert not os.path.exists("/tmp/kerasr_fuzz_abs_escaped.txt")
    assert sorted(os.listdir(os.getcwd())) == before_cwd
    assert not os.path.exists(tmp_path / "escaped.txt")
    summary = "\n".join(f"  {count:4d} x {what} at {site}; e.g. {label}: {message}"
                        for (what, site), (count, label, message) in sorted(failures.items()))
    print(f"\n{N_CASES} cases in {time.time() - started:.1f} s: {outcomes}")
    assert not failures, f"{sum(v[0] for v in failures.values())} of {N_CASES} cases failed " \
                         f"({outcomes}):\n{summary}"
    # The mutations must exercise both outcomes.
    assert outcomes["refused"] > N_CASES // 2 and outcomes["loaded"] > 0


# ---- a save killed mid-write ----------------------------------------------------------------
KILL_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    import numpy as np
    from kerasr import keras_model_sequential, layer_dense, save_model
    path = sys.argv[1]
    model = keras_model_sequential(input_shape=(1000,)) | layer_dense(3000) | layer_dense(3000)
    shapes = [w.shape for w in model.get_weights()]
    version = 0
    while True:
        version += 1
        model.set_weights([np.full(s, version, dtype="float32") for s in shapes])
        save_model(model, path)
        print(version, flush=True)
""")


@posix_only
def test_a_save_killed_mid_write_leaves_the_previous_file_loadable(tmp_path):
    script = tmp_path / "saver.py"
    script.write_text(KILL_SCRIPT.format(repo=REPO))
    rng = random.Random(SEED)
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "big.keras"
    mid_write = 0
    for attempt in range(12):
        child = subprocess.Popen([sys.executable, str(script), str(path)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            first = child.stdout.readline()   # one complete save (the "old" file)
            if not first:
                pytest.fail("the saving process died: "
                            + child.stderr.read().decode(errors="replace")[-2000:])
            time.sleep(rng.uniform(0.0, 1.5))
        finally:
            child.send_signal(signal.SIGKILL)
            child.communicate()
        assert child.returncode == -signal.SIGKILL
        leftovers = [n for n in os.listdir(folder) if n != "big.keras"]
        mid_write += bool(leftovers)
        assert all(n.startswith(".big.keras.") and n.endswith(".tmp") for n in leftovers)
        model = load_model(str(path))
        weights = model.get_weights()
        version = weights[0].flat[0]
        assert version >= 1 and all(np.all(w == version) for w in weights), \
            "the file holds a mix of two saves"
        for name in leftovers:   # a later save may leave its own; start clean
            os.unlink(folder / name)
        if attempt >= 4 and mid_write >= 2:
            break
    assert mid_write >= 1, "no kill landed during a write: the test proved nothing"
