"""Benchmark: an exact logistic fit to N = 50,000,000 rows streamed from disk.

What is measured
----------------
A logistic regression with ``p`` standard-normal covariates (default 20) plus
an intercept, N rows (default 50,000,000), stored as a float64 ``numpy.memmap``
file of N x p (8 GB at the defaults: more than the in-memory path can hold,
which would need the matrix on the host and again in JAX's memory). The file
is generated once and kept in ``--data-dir`` (default: a cache directory).

Methods, each in its own fresh process (so peak memory is its own), on the
same file:

* likelihax ``lx.fit(loglik, start, lx.ArraySource({...}))``: the exact MLE by
  Newton, every pass streamed block by block from the file, with
  observed-information standard errors; then ``cov="sandwich"`` as a second
  fit (OPG meat accumulated block by block);
* likelihax ``lx.fit_stochastic`` (Adam mini-batches, then the same exact
  Newton pass from where they stopped);
* scikit-learn ``SGDClassifier(loss="log_loss", penalty=None)`` with
  ``partial_fit`` over the same blocks, one epoch (an approximate estimate, no
  standard errors: what out-of-core logistic regression usually means).

Reported: wall time, peak resident memory of the process (``VmHWM``: file
pages of the memory map count while they are mapped; likelihax's
``ArraySource`` unmaps each block after copying it, scikit-learn's loop does
not), the anonymous memory at the end, the largest |difference| of each
estimate from the likelihax MLE in standard errors, and the log-likelihood.
Target: peak resident memory of the likelihax fit below 2 GB.

Rerun
-----
    python benchmarks/bench_chunked.py                   # several minutes
    python benchmarks/bench_chunked.py --n 2000000       # quick
    python benchmarks/bench_chunked.py --write-results
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_logistic import (  # noqa: E402
    REPO_ROOT,
    results_head,
    wait_until_quiet,
    write_results,
)

TAG = "CHUNKED_JSON:"


def data_paths(d: Path, n: int, p: int, seed: int):
    stem = d / f"logit_n{n}_p{p}_s{seed}"
    return Path(f"{stem}_X.f64"), Path(f"{stem}_y.f64")


def generate(d: Path, n: int, p: int, seed: int, block: int = 1_000_000):
    """Write X (n x p) and y (n) as float64 memmaps, block by block."""
    xp, yp = data_paths(d, n, p, seed)
    if xp.exists() and yp.exists() and xp.stat().st_size == n * p * 8:
        return xp, yp
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    beta = rng.uniform(-0.5, 0.5, p)
    X = np.memmap(xp, dtype="float64", mode="w+", shape=(n, p))
    y = np.memmap(yp, dtype="float64", mode="w+", shape=(n,))
    for s in range(0, n, block):
        e = min(s + block, n)
        xb = rng.standard_normal((e - s, p))
        X[s:e] = xb
        y[s:e] = rng.random(e - s) < 1.0 / (1.0 + np.exp(-(0.2 + xb @ beta)))
    X.flush()
    y.flush()
    del X, y
    return xp, yp


def _rss():
    """(peak, anonymous) resident memory of this process in GiB.

    The peak is ``VmHWM`` from ``/proc/self/status``: the high-water mark of
    this process's own address space. (``ru_maxrss`` is not used: on Linux a
    child started from a large parent reports the parent's size.)
    """
    peak = anon = float("nan")
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024**2
            elif line.startswith("RssAnon:"):
                anon = int(line.split()[1]) / 1024**2
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return peak, anon


def worker(method: str, xp: str, yp: str, n: int, p: int, chunk: int) -> None:
    X = np.memmap(xp, dtype="float64", mode="r", shape=(n, p))
    y = np.memmap(yp, dtype="float64", mode="r", shape=(n,))
    out: dict = {}
    t0 = time.perf_counter()
    if method.startswith("likelihax"):
        import jax.numpy as jnp

        import likelihax as lx

        def loglik(params, data):
            eta = params["intercept"] + data["X"] @ params["beta"]
            return data["y"] * eta - jnp.logaddexp(0.0, eta)

        start = {"intercept": 0.0, "beta": np.zeros(p)}
        src = lx.ArraySource({"X": X, "y": y}, chunk_size=chunk)
        if method == "likelihax":
            f = lx.fit(loglik, start, src)
            out["seconds"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            fs = lx.fit(loglik, start, src, cov="sandwich")
            out["sandwich_seconds"] = time.perf_counter() - t1
            out["sandwich_se"] = np.r_[fs.se["intercept"], fs.se["beta"]].tolist()
        else:
            import optax

            r = lx.fit_stochastic(loglik, start, src, optimizer=optax.adam(0.02),
                                  batch_size=4096, steps=2000, log_every=500)  # fmt: skip
            f = r.fit
            out["seconds"] = time.perf_counter() - t0
        out["coef"] = np.r_[f.params["intercept"], f.params["beta"]].tolist()
        out["se"] = np.r_[f.se["intercept"], f.se["beta"]].tolist()
        out["loglik"] = float(f.loglik)
        out["iterations"] = int(f.iterations)
        out["converged"] = bool(f.converged)
    else:
        from sklearn.linear_model import SGDClassifier

        clf = SGDClassifier(loss="log_loss", penalty=None, learning_rate="optimal",
                            random_state=0)  # fmt: skip
        for s in range(0, n, chunk):
            e = min(s + chunk, n)
            clf.partial_fit(np.asarray(X[s:e]), np.asarray(y[s:e]), classes=[0.0, 1.0])
        out["seconds"] = time.perf_counter() - t0
        out["coef"] = np.r_[clf.intercept_, clf.coef_.ravel()].tolist()
    out["peak_rss_gib"], out["anon_rss_gib"] = _rss()
    print(TAG + json.dumps(out), flush=True)


def run(method, xp, yp, args):
    cmd = [sys.executable, __file__, "--worker", method, "--x", str(xp), "--y", str(yp),
           "--n", str(args.n), "--p", str(args.p), "--chunk", str(args.chunk)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(REPO_ROOT))
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith(TAG)]
    if proc.returncode != 0 or not line:
        return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-3:]}
    return json.loads(line[0][len(TAG):])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50_000_000)
    ap.add_argument("--p", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk", type=int, default=100_000, help="rows per block")
    ap.add_argument("--data-dir", default=os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
        "likelihax-bench"))  # fmt: skip
    ap.add_argument("--skip", default="", help="comma-separated methods to skip")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS")
    ap.add_argument("--write-results", action="store_true")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--x", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--y", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.x, args.y, args.n, args.p, args.chunk)
        return 0
    t = time.perf_counter()
    xp, yp = generate(Path(args.data_dir), args.n, args.p, args.seed)
    gen_s = time.perf_counter() - t
    gib = args.n * args.p * 8 / 1024**3
    print(f"data: {xp} ({gib:.1f} GiB), ready in {gen_s:.0f} s", flush=True)
    if args.wait_quiet:
        wait_until_quiet(args.wait_quiet)
    names = {
        "likelihax": "likelihax lx.fit(ArraySource) Newton, exact MLE + SEs",
        "likelihax-stochastic": "likelihax fit_stochastic (Adam 2,000 x 4,096, then Newton)",
        "sklearn": "scikit-learn SGDClassifier partial_fit, 1 epoch (no SEs)",
    }
    skip = set(filter(None, args.skip.split(",")))
    res = {}
    for m in names:
        if m in skip:
            continue
        print(f"running {m} ...", flush=True)
        res[m] = run(m, xp, yp, args)
    ref = res.get("likelihax", {})
    b, se = np.asarray(ref.get("coef", [np.nan])), np.asarray(ref.get("se", [np.nan]))
    lines = [
        f"Logistic regression, N={args.n:,}, p={args.p}+1, float64, streamed from a "
        f"{gib:.1f} GiB numpy.memmap in blocks of {args.chunk:,} rows; each method "
        "in a fresh process, one run each.",
        "",
        "| method | seconds | Newton iterations | max abs(coef - MLE) / SE | peak RSS GiB "
        "| anonymous RSS GiB at end |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m, name in names.items():
        r = res.get(m)
        if r is None:
            continue
        if "error" in r:
            lines.append(f"| {name} | error: {r['error']} | | | | |")
            continue
        dev = np.max(np.abs(np.asarray(r["coef"]) - b) / se) if b.size > 1 else np.nan
        lines.append(
            f"| {name} | {r['seconds']:.1f} | {r.get('iterations', '')} | {dev:.2e} | "
            f"{r['peak_rss_gib']:.2f} | {r['anon_rss_gib']:.2f} |"
        )
    if "sandwich_seconds" in ref:
        lines += ["", f"Sandwich covariance as a second streamed fit: "
                  f"{ref['sandwich_seconds']:.1f} s."]  # fmt: skip
    if "peak_rss_gib" in ref:
        ok = ref["peak_rss_gib"] * 1024**3 < 2e9
        lines += ["", f"Target: peak resident memory of the likelihax "
                  f"fit below 2 GB: {'PASS' if ok else 'FAIL'} "
                  f"({ref['peak_rss_gib'] * 1.073741824:.2f} GB)."]  # fmt: skip
    if ref.get("converged") is not None:
        lines += [f"likelihax converged: {ref['converged']}; log-likelihood "
                  f"{ref['loglik']:.6f}."]  # fmt: skip
    head = results_head("python benchmarks/bench_chunked.py --write-results")
    body = "\n".join(lines)
    print(head + body)
    if args.write_results:
        write_results(f"## Streamed (out-of-core) logistic fit, N={args.n:,}, "
                      f"p={args.p}", head + body)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
