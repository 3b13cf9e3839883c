"""Helpers shared by the benchmark scripts (timing, workers, reporting).

Each framework is measured in a fresh subprocess (a "worker") so that its
peak memory and start-up are its own; a worker prints one line
``BENCH_RESULT {json}`` that :func:`run_worker` picks up.
"""

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

RESULT_TAG = "BENCH_RESULT "

# OpenBLAS kernels that use AVX-512.
AVX512_KERNELS = {"skylakex", "cooperlake", "sapphirerapids"}


def time_call(fn):
    """Seconds one call of ``fn()`` takes."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def median_time(fn, repeats):
    """Median seconds over ``repeats`` calls of ``fn()`` (and all the times)."""
    times = [time_call(fn) for _ in range(max(1, repeats))]
    return statistics.median(times), times


def peak_rss_mib():
    """This process's peak resident memory in MiB (Linux: ru_maxrss is KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes there
        kib /= 1024
    return kib / 1024


def emit(result):
    """Worker side: hand ``result`` (a JSON-able dict) to the parent."""
    print(RESULT_TAG + json.dumps(result), flush=True)


def run_worker(argv, env=None, timeout=3600):
    """Parent side: run ``[python] + argv``; return (result dict or None, error text)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        proc = subprocess.run(
            [sys.executable, *argv], env=full_env, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):]), ""
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    return None, f"exit {proc.returncode}: " + " | ".join(tail)


def blas_report():
    """[(owner: library file, OpenBLAS kernel, threads)] of the BLAS libraries loaded now."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    out = []
    for d in threadpool_info():
        if d.get("user_api") != "blas":
            continue
        path = d.get("filepath", "?")
        owner = os.path.basename(os.path.dirname(path)).replace(".libs", "")  # numpy.libs -> numpy
        out.append((f"{owner}: {os.path.basename(path)}", d.get("architecture", "?"),
                    d.get("num_threads")))
    return out


def avx512_hint(kernels):
    """A hint when OpenBLAS was steered off its AVX-512 kernel, else ''."""
    steered = [v for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ]
    not_avx512 = any(str(k).lower() not in AVX512_KERNELS for k in kernels)
    if not (steered or not_avx512):
        return ""
    hint = (
        "hint: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python "
        f"{os.path.relpath(sys.argv[0])}` gives numpy its AVX-512 kernel (on a CPU that has it)"
    )
    if steered:
        hint += f"; set here: {', '.join(f'{v}={os.environ[v]}' for v in steered)}"
    return hint


def print_table(header, rows):
    """Print a small left/right aligned table (text columns left, numbers right)."""
    cells = [list(map(str, header))] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def fmt(row, first=False):
        out = []
        for i, c in enumerate(row):
            numeric = i > 0 and not first
            out.append(c.rjust(widths[i]) if numeric else c.ljust(widths[i]))
        return "  ".join(out).rstrip()

    print(fmt(cells[0], first=True))
    print("  ".join("-" * w for w in widths))
    for r in cells[1:]:
        print(fmt(r))


def fmt_rate(x):
    return "-" if x is None else f"{x:,.0f}"


def fmt_num(x, digits=1):
    return "-" if x is None else f"{x:,.{digits}f}"


def time_fit(epoch, predict, samples, epochs):
    """Training and predict samples/s: one warm-up call each, then medians."""
    epoch()
    train_s, _ = median_time(epoch, epochs)
    predict()
    predict_s, _ = median_time(predict, max(3, epochs))
    return {"train": samples / train_s, "predict": samples / predict_s, "rss": peak_rss_mib()}


def kerasr_workers(build, make_data, batch, predict_batch):
    """The "kerasr" and "startup" workers for a model: `build()` returns (kerasr, model),
    compiled; `make_data(n)` returns (x, y)."""

    def train_and_predict(args):
        import numba

        x, y = make_data(args.samples)
        k, model = build()

        def epoch():
            model | k.fit(x, y, epochs=1, batch_size=batch, verbose=0)

        def predict():
            model | k.predict(x, batch_size=predict_batch)

        emit({"name": f"kerasr {k.__version__}", "threads": numba.get_num_threads(),
              **time_fit(epoch, predict, args.samples, args.epochs), "blas": blas_report()})

    def startup(args):
        x, y = make_data(batch)
        t0 = time.perf_counter()
        _, model = build()  # imports kerasr: the clock includes the import
        model.train_on_batch(x, y)
        emit({"seconds": time.perf_counter() - t0})

    return {"kerasr": train_and_predict, "startup": startup}


def torch_worker_setup(seed):
    """Import and return torch, set up as every PyTorch worker runs: 2 threads, subnormals
    flushed to zero, seeded with `seed`. Call it before building the model or data."""
    import torch

    torch.set_num_threads(2)
    # Without this, RMSprop's slots turn subnormal where gradients are zero and PyTorch slows
    # by 2-3x within a few epochs; JAX, TensorFlow and kerasr flush them to zero.
    torch.set_flush_denormal(True)
    torch.manual_seed(seed)
    return torch


def emit_torch(model, loss_fn, x, y, args, batch, predict_batch, learning_rate=1e-3,
               finish=None):
    """Time a PyTorch model and `emit` the result: each epoch trains on shuffled minibatches of
    `batch` with RMSprop (Keras's defaults: rho 0.9, epsilon 1e-7; lr `learning_rate`) on
    `loss_fn(model(x[idx]), y[idx])`; predict runs batches of `predict_batch` in inference
    mode and applies `finish` (e.g. softmax, as Keras's output layer does) to each output."""
    import torch

    # Keras's RMSprop defaults: lr 0.001, rho 0.9, epsilon 1e-7 (imdb_conv1d sets lr 1e-4).
    opt = torch.optim.RMSprop(model.parameters(), lr=learning_rate, alpha=0.9, eps=1e-7)

    def epoch():
        model.train()
        perm = torch.randperm(len(x))  # Keras shuffles every epoch
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()

    def predict():
        model.eval()
        with torch.inference_mode():
            for i in range(0, len(x), predict_batch):
                out = model(x[i:i + predict_batch])
                if finish is not None:
                    finish(out)

    emit({"name": f"PyTorch {torch.__version__}", "threads": torch.get_num_threads(),
          **time_fit(epoch, predict, args.samples, args.epochs)})


def keras_worker_setup(seed):
    """Import and return Keras 3 on the JAX backend, seeded with `seed`."""
    os.environ["KERAS_BACKEND"] = "jax"
    import keras

    keras.utils.set_random_seed(seed)
    return keras


def emit_keras(model, x, y, args, batch, predict_batch):
    """Time a compiled Keras model and `emit` the result: each epoch is
    ``fit(x, y, epochs=1, batch_size=batch)``, predict ``predict(x, batch_size=predict_batch)``."""
    import keras

    def epoch():
        model.fit(x, y, epochs=1, batch_size=batch, verbose=0)

    def predict():
        model.predict(x, batch_size=predict_batch, verbose=0)

    emit({"name": f"Keras {keras.__version__} / JAX", "threads": os.cpu_count(),
          **time_fit(epoch, predict, args.samples, args.epochs)})


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


def main(script, title, workers, default_samples, argv=None):
    """The parent process of a benchmark script: runs kerasr's worker, its start-up worker
    (cold, then warm Numba cache) and the peers' workers when importable, then prints tables.

    `workers` maps "kerasr", "startup", "torch" and "keras-jax" to functions of the parsed
    arguments; each runs in its own subprocess and `emit`s its result.
    """
    p = argparse.ArgumentParser(description=title)
    p.add_argument("--epochs", type=int, default=3,
                   help="timed epochs after one warm-up epoch; the median is reported (default 3)")
    p.add_argument("--samples", type=int, default=default_samples,
                   help=f"training samples (default {default_samples})")
    p.add_argument("--skip-peers", action="store_true", help="do not run PyTorch / Keras-JAX")
    p.add_argument("--skip-startup", action="store_true",
                   help="do not measure the import-to-first-batch time")
    p.add_argument("--worker", choices=sorted(workers), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.epochs < 1 or args.samples < 1:
        p.error("need --epochs >= 1 and --samples >= 1")
    if args.worker:
        workers[args.worker](args)
        return 0

    common = ["--samples", str(args.samples), "--epochs", str(args.epochs)]
    print(f"{title}; {args.samples:,} synthetic samples; 1 warm-up + {args.epochs} timed "
          f"epoch(s)", flush=True)
    rows, notes, failed = [], [], False

    def measure(worker, label, env=None):
        nonlocal failed
        print(f"  running {label} ...", flush=True)
        result, err = run_worker([script, "--worker", worker, *common], env=env)
        if result is None:
            notes.append(f"{label}: failed ({err})")
            failed = failed or worker == "kerasr"
            return None
        rows.append([result["name"], result["threads"], fmt_rate(result["train"]),
                     fmt_rate(result["predict"]), fmt_num(result["rss"], 0)])
        return result

    kerasr_result = measure("kerasr", "kerasr")
    startup = None
    if not args.skip_startup:
        print("  running kerasr start-up (cold, then warm Numba cache) ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="kerasr-numba-cache-") as cache:
            env = {"NUMBA_CACHE_DIR": cache}
            cold, err_cold = run_worker([script, "--worker", "startup", *common], env=env)
            warm, err_warm = run_worker([script, "--worker", "startup", *common], env=env)
        if cold is None or warm is None:
            notes.append(f"start-up: failed ({err_cold or err_warm})")
            failed = True
        else:
            startup = (cold["seconds"], warm["seconds"])
    if args.skip_peers:
        notes.append("peers skipped (--skip-peers)")
    else:
        if importable("torch") and "torch" in workers:
            measure("torch", "PyTorch (CPU, 2 threads)")
        else:
            notes.append("PyTorch: not importable, skipped")
        if keras3_importable() and "keras-jax" in workers:
            measure("keras-jax", "Keras 3 on JAX", env={"KERAS_BACKEND": "jax"})
        else:
            notes.append("Keras 3 on JAX: keras>=3 and jax not importable, skipped")

    print()
    print_table(["framework", "threads", "train samples/s", "predict samples/s", "peak RSS MiB"],
                rows)
    if startup:
        print()
        print_table(["import kerasr -> first train_on_batch", "seconds"],
                    [["cold Numba cache", fmt_num(startup[0], 2)],
                     ["warm Numba cache", fmt_num(startup[1], 2)]])
    if kerasr_result and kerasr_result.get("blas"):
        print()
        print_table(["BLAS library", "OpenBLAS kernel", "threads"], kerasr_result["blas"])
        hint = avx512_hint([b[1] for b in kerasr_result["blas"]])
        if hint:
            print(hint)
    for note in notes:
        print(f"note: {note}")
    return 1 if failed else 0
