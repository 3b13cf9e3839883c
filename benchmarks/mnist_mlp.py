"""MNIST MLP speed benchmark: kerasr, and PyTorch / Keras 3 on JAX if installed.

The network of Deep Learning with R §2.1: 784 -> 512 relu -> 10 softmax,
rmsprop, categorical crossentropy, batch 128, on synthetic float32 data of
MNIST's shapes (60,000 samples by default). Reports:

* training samples/s: one warm-up epoch, then the median of --epochs timed
  epochs, each ``fit(..., epochs=1, verbose=0)``;
* predict samples/s (batch 128), after a warm-up predict;
* peak memory (ru_maxrss) of the process that ran the framework;
* seconds from ``import kerasr`` to the first finished ``train_on_batch``,
  with a cold Numba cache (a fresh NUMBA_CACHE_DIR) and a warm one (the same
  directory again);
* which OpenBLAS kernel numpy (and scipy, whose BLAS Numba calls) use.

Every framework runs in its own subprocess. PyTorch (CPU, 2 threads) and
Keras 3 (KERAS_BACKEND=jax) are measured only when importable; kerasr never
depends on them.

    python benchmarks/mnist_mlp.py
    python benchmarks/mnist_mlp.py --samples 6000 --epochs 1 --skip-peers
"""

import argparse
import importlib.util
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

BATCH = 128
N_IN, N_HIDDEN, N_OUT = 784, 512, 10
SEED = 42


def make_data(n, seed=SEED):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.random((n, N_IN), dtype=np.float32)
    y = np.zeros((n, N_OUT), dtype=np.float32)
    y[np.arange(n), rng.integers(0, N_OUT, n)] = 1.0
    return x, y


# --- workers: each runs in its own process and emits one result -------------

def worker_kerasr(args):
    import numba
    import kerasr as k

    x, y = make_data(args.samples)
    k.set_random_seed(SEED)
    model = k.keras_model_sequential()
    (model
     | k.layer_dense(units=N_HIDDEN, activation="relu", input_shape=N_IN)
     | k.layer_dense(units=N_OUT, activation="softmax"))
    model | k.compile(optimizer="rmsprop", loss="categorical_crossentropy")

    def epoch():
        model | k.fit(x, y, epochs=1, batch_size=BATCH, verbose=0)

    def predict():
        model | k.predict(x, batch_size=BATCH)

    epoch()  # warm-up: compiles the kernels
    train_s, _ = C.median_time(epoch, args.epochs)
    predict()
    predict_s, _ = C.median_time(predict, max(3, args.epochs))
    C.emit({
        "name": f"kerasr {getattr(k, '__version__', '')}".strip(),
        "threads": numba.get_num_threads(),
        "train": args.samples / train_s,
        "predict": args.samples / predict_s,
        "rss": C.peak_rss_mib(),
        "blas": C.blas_report(),
    })


def worker_startup(args):
    import time

    x, y = make_data(BATCH)
    t0 = time.perf_counter()
    import kerasr as k

    model = k.keras_model_sequential()
    (model
     | k.layer_dense(units=N_HIDDEN, activation="relu", input_shape=N_IN)
     | k.layer_dense(units=N_OUT, activation="softmax"))
    model | k.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    model.train_on_batch(x, y)
    C.emit({"seconds": time.perf_counter() - t0})


def worker_torch(args):
    import torch

    torch.set_num_threads(2)
    # Without this, RMSprop's slots turn subnormal where gradients are zero and PyTorch slows
    # by 2-3x within a few epochs; JAX, TensorFlow and kerasr flush them to zero.
    torch.set_flush_denormal(True)
    torch.manual_seed(SEED)
    xn, yn = make_data(args.samples)
    x, labels = torch.from_numpy(xn), torch.from_numpy(yn.argmax(axis=1))
    model = torch.nn.Sequential(
        torch.nn.Linear(N_IN, N_HIDDEN), torch.nn.ReLU(), torch.nn.Linear(N_HIDDEN, N_OUT)
    )
    # Keras's RMSprop defaults: lr 0.001, rho 0.9, epsilon 1e-7.
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()  # softmax + categorical crossentropy

    def epoch():
        model.train()
        perm = torch.randperm(len(x))  # Keras shuffles every epoch
        for i in range(0, len(x), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), labels[idx]).backward()
            opt.step()

    def predict():
        model.eval()
        with torch.inference_mode():
            for i in range(0, len(x), BATCH):
                torch.softmax(model(x[i:i + BATCH]), dim=1)

    epoch()
    train_s, _ = C.median_time(epoch, args.epochs)
    predict()
    predict_s, _ = C.median_time(predict, max(3, args.epochs))
    C.emit({
        "name": f"PyTorch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "train": args.samples / train_s,
        "predict": args.samples / predict_s,
        "rss": C.peak_rss_mib(),
    })


def worker_keras_jax(args):
    os.environ["KERAS_BACKEND"] = "jax"
    import keras

    keras.utils.set_random_seed(SEED)
    x, y = make_data(args.samples)
    model = keras.Sequential([
        keras.Input(shape=(N_IN,)),
        keras.layers.Dense(N_HIDDEN, activation="relu"),
        keras.layers.Dense(N_OUT, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")

    def epoch():
        model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0)

    def predict():
        model.predict(x, batch_size=BATCH, verbose=0)

    epoch()
    train_s, _ = C.median_time(epoch, args.epochs)
    predict()
    predict_s, _ = C.median_time(predict, max(3, args.epochs))
    C.emit({
        "name": f"Keras {keras.__version__} / JAX",
        "threads": os.cpu_count(),
        "train": args.samples / train_s,
        "predict": args.samples / predict_s,
        "rss": C.peak_rss_mib(),
    })


WORKERS = {
    "kerasr": worker_kerasr,
    "startup": worker_startup,
    "torch": worker_torch,
    "keras-jax": worker_keras_jax,
}


# --- the parent --------------------------------------------------------------

def importable(*modules):
    return all(importlib.util.find_spec(m) is not None for m in modules)


def keras3_importable():
    if not importable("keras", "jax"):
        return False
    try:
        from importlib.metadata import version

        return int(version("keras").split(".")[0]) >= 3
    except Exception:
        return False


def main(argv=None):
    p = argparse.ArgumentParser(description="MNIST MLP benchmark (kerasr vs PyTorch / Keras-JAX).")
    p.add_argument("--epochs", type=int, default=3,
                   help="timed epochs after one warm-up epoch; the median is reported (default 3)")
    p.add_argument("--samples", type=int, default=60000, help="training samples (default 60000)")
    p.add_argument("--skip-peers", action="store_true", help="do not run PyTorch / Keras-JAX")
    p.add_argument("--skip-startup", action="store_true",
                   help="do not measure the import-to-first-batch time")
    p.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.epochs < 1 or args.samples < BATCH:
        p.error(f"need --epochs >= 1 and --samples >= {BATCH}")

    if args.worker:
        WORKERS[args.worker](args)
        return 0

    me = os.path.abspath(__file__)
    common = ["--samples", str(args.samples), "--epochs", str(args.epochs)]
    print(f"MNIST MLP {N_IN}-{N_HIDDEN}-{N_OUT}, rmsprop, batch {BATCH}, "
          f"{args.samples:,} synthetic samples; 1 warm-up + {args.epochs} timed epoch(s)",
          flush=True)

    rows, notes, failed = [], [], False

    def measure(worker, label, env=None):
        nonlocal failed
        print(f"  running {label} ...", flush=True)
        result, err = C.run_worker([me, "--worker", worker, *common], env=env)
        if result is None:
            notes.append(f"{label}: failed ({err})")
            if worker == "kerasr":
                failed = True
            return None
        rows.append([result["name"], result["threads"], C.fmt_rate(result["train"]),
                     C.fmt_rate(result["predict"]), C.fmt_num(result["rss"], 0)])
        return result

    kr = measure("kerasr", "kerasr")

    startup = None
    if not args.skip_startup:
        print("  running kerasr start-up (cold, then warm Numba cache) ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="kerasr-numba-cache-") as cache:
            env = {"NUMBA_CACHE_DIR": cache}
            cold, err_c = C.run_worker([me, "--worker", "startup"], env=env)
            warm, err_w = C.run_worker([me, "--worker", "startup"], env=env)
        if cold is None or warm is None:
            notes.append(f"start-up: failed ({err_c or err_w})")
            failed = True
        else:
            startup = (cold["seconds"], warm["seconds"])

    if args.skip_peers:
        notes.append("peers skipped (--skip-peers)")
    else:
        if importable("torch"):
            measure("torch", "PyTorch (CPU, 2 threads)")
        else:
            notes.append("PyTorch: not importable, skipped")
        if keras3_importable():
            measure("keras-jax", "Keras 3 on JAX", env={"KERAS_BACKEND": "jax"})
        else:
            notes.append("Keras 3 on JAX: keras>=3 and jax not importable, skipped")

    print()
    C.print_table(["framework", "threads", "train samples/s", "predict samples/s", "peak RSS MiB"],
                  rows)
    if startup:
        print()
        C.print_table(["import kerasr -> first train_on_batch", "seconds"],
                      [["cold Numba cache", C.fmt_num(startup[0], 2)],
                       ["warm Numba cache", C.fmt_num(startup[1], 2)]])
    if kr and kr.get("blas"):
        print()
        C.print_table(["BLAS library", "OpenBLAS kernel", "threads"], kr["blas"])
        hint = C.avx512_hint([b[1] for b in kr["blas"]])
        if hint:
            print(hint)
    if notes:
        print()
        for n in notes:
            print(f"note: {n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
