"""Helpers shared by the benchmark scripts (timing, workers, reporting).

Each framework is measured in a fresh subprocess (a "worker") so that its
peak memory and start-up are its own; a worker prints one line
``BENCH_RESULT {json}`` that :func:`run_worker` picks up.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
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
