"""Benchmark: Gaussian mixture by EM, likelihax beside scikit-learn ``GaussianMixture``.

What is measured
----------------
One simulated data set (fixed seed): N = 1,000,000 points in d = 2 from K = 5
normal clusters with random full covariances. Both methods fit a K = 5
full-covariance mixture by EM **from the same initialization** (equal weights,
means at K data points drawn with the seed, every covariance equal to the
data covariance) and **with the same stopping rule** (the change of the mean
log-likelihood per point below ``--tol``, default scikit-learn's 1e-3), in the
same process on the same data:

``scikit-learn GaussianMixture``
    ``covariance_type="full"``, ``reg_covar=0`` (no ridge added to the
    covariances, so both fit the same model), ``weights_init``,
    ``means_init``, ``precisions_init`` from the shared start, ``max_iter=1000``.
``likelihax gaussian_mixture (EM only)``
    ``gaussian_mixture(x, 5, init=start, tol=tol, se=False)``: the EM loop of
    :mod:`likelihax.models.mixtures` under one ``jit``, without the Newton
    polish and standard errors (scikit-learn computes none).

With ``--se`` the full likelihax fit (EM, then the engine's Newton on the
marginal likelihood and observed-information standard errors) is timed once
as well, for information (no competitor computes SEs).

Timing: one untimed warm-up call, then ``--repeats`` timed calls (median and
minimum; scikit-learn gets ``--sk-repeats``, default 2, as one fit takes tens
of seconds). The cold time of likelihax is its first call in a fresh process
with JAX's persistent compilation cache off (tracing and XLA compilation
included), measured in a subprocess. "other CPU" is the share of the machine
used by other processes while a method was timed (see ``bench_logistic.py``);
above 10% timings are inflated and the script warns.

Correctness: scikit-learn evaluates the log-likelihood of iteration t - 1 in
its E-step of iteration t, so with the same rule it stops one iteration later
than likelihax (``n_iter_ = iterations + 1``) and returns the parameters after
that extra M-step. The check runs likelihax for exactly ``n_iter_`` M-steps and
compares the log-likelihood at the final parameters with
``score(x) * N`` (relative difference, must be below 1e-9).

Target: likelihax at least 10x faster than scikit-learn (warm).

Rerun
-----
From the repository root::

    python benchmarks/bench_gmm.py                        # full run
    python benchmarks/bench_gmm.py --n 100000 --repeats 2 # smoke test
    python benchmarks/bench_gmm.py --se                   # also time SEs
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_logistic import BUSY_WARN, REPO_ROOT, BackgroundLoad

GOAL = 10.0


def make_data(n: int, k: int, d: int, seed: int):
    """Points from K normal clusters, and the shared EM start."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 4.0, (k, d))
    chol = [np.tril(rng.normal(0.0, 0.4, (d, d)), -1) + np.diag(rng.uniform(0.5, 1.2, d))
            for _ in range(k)]  # fmt: skip
    z = rng.integers(0, k, n)
    x = centers[z] + np.einsum(
        "nij,nj->ni", np.asarray(chol)[z], rng.normal(size=(n, d))
    )
    start = {
        "weights": np.full(k, 1.0 / k),
        "means": x[rng.choice(n, k, replace=False)].copy(),
        "cov": np.repeat(np.cov(x.T)[None], k, axis=0),
    }
    return x, start


def fit_sklearn(x, start, tol, max_iter=1000):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(
        len(start["weights"]), covariance_type="full", tol=tol, reg_covar=0.0,
        max_iter=max_iter, weights_init=start["weights"], means_init=start["means"],
        precisions_init=np.linalg.inv(start["cov"]),
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(x)
    return gm


def fit_likelihax(x, start, tol, se=False, max_steps=1000):
    from likelihax.models.mixtures import gaussian_mixture

    return gaussian_mixture(x, len(start["weights"]), init=start, tol=tol, se=se,
                            max_steps=max_steps)  # fmt: skip


def timed(run, repeats):
    run()  # warm-up (compilation for likelihax)
    times = []
    with BackgroundLoad() as load:
        for _ in range(repeats):
            t = time.perf_counter()
            out = run()
            times.append(time.perf_counter() - t)
    return out, times, load.fraction


CHILD = r"""
import json, sys, time
sys.path.insert(0, {bench!r})
import bench_gmm as b
x, start = b.make_data({n}, {k}, {d}, {seed})
t = time.perf_counter()
r = b.fit_likelihax(x, start, {tol})
print(json.dumps({{"cold": time.perf_counter() - t, "iterations": r.em.iterations}}))
"""


def cold_time(args) -> float | None:
    env = dict(os.environ, LIKELIHAX_COMPILATION_CACHE="0")
    code = CHILD.format(bench=str(Path(__file__).resolve().parent), n=args.n, k=args.k,
                        d=args.d, seed=args.seed, tol=args.tol)  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=REPO_ROOT, check=False)  # fmt: skip
    if out.returncode != 0:
        print(out.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])["cold"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--d", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20240607)
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sk-repeats", type=int, default=2)
    ap.add_argument("--no-cold", action="store_true")
    ap.add_argument("--se", action="store_true", help="also time the fit with SEs")
    args = ap.parse_args(argv)

    x, start = make_data(args.n, args.k, args.d, args.seed)
    print(f"Gaussian mixture: N={args.n:,}, d={args.d}, K={args.k}, full covariance, "
          f"tol={args.tol:g} (mean loglik per point), same start")  # fmt: skip

    gm, sk_times, sk_load = timed(
        lambda: fit_sklearn(x, start, args.tol), args.sk_repeats
    )
    lx_fit, lx_times, lx_load = timed(lambda: fit_likelihax(x, start, args.tol),
                                      args.repeats)  # fmt: skip
    cold = None if args.no_cold else cold_time(args)

    # Correctness: the same number of M-steps as scikit-learn, same final point.
    same = fit_likelihax(x, start, -1.0, max_steps=gm.n_iter_)
    ll_sk = gm.score(x) * args.n
    rel = abs(same.em.trace[-1] - ll_sk) / abs(ll_sk)

    rows = [
        ("scikit-learn GaussianMixture", gm.n_iter_, sk_times, None, sk_load),
        ("likelihax gaussian_mixture (EM only)", lx_fit.em.iterations, lx_times, cold,
         lx_load),
    ]  # fmt: skip
    print(f"\n{'method':<40}{'iter':>6}{'median s':>10}{'min s':>9}{'s/iter':>9}"
          f"{'cold s':>9}{'other CPU':>11}")  # fmt: skip
    for name, it, ts, c, load in rows:
        med = statistics.median(ts)
        print(f"{name:<40}{it:>6d}{med:>10.3f}{min(ts):>9.3f}{med / max(it, 1):>9.4f}"
              f"{'' if c is None else f'{c:.2f}':>9}"
              f"{'' if load is None else f'{100 * load:.0f}%':>11}")  # fmt: skip
    ratio = statistics.median(sk_times) / statistics.median(lx_times)
    print(
        f"\nspeed-up (scikit-learn median / likelihax median): {ratio:.1f}x "
        f"(goal >= {GOAL:g}x: {'met' if ratio >= GOAL else 'NOT met'})"
    )
    print(
        f"iterations: scikit-learn {gm.n_iter_} = likelihax {lx_fit.em.iterations} "
        "+ 1 (scikit-learn sees the stopping change one iteration later)"
    )
    print(
        f"loglik after {gm.n_iter_} M-steps: likelihax {same.em.trace[-1]:.10g}, "
        f"scikit-learn {ll_sk:.10g}, relative difference {rel:.2e} "
        f"({'ok' if rel < 1e-9 else 'MISMATCH'})"
    )
    if max(x for x in (sk_load, lx_load) if x is not None) > BUSY_WARN:
        print(
            f"warning: other processes used more than {100 * BUSY_WARN:.0f}% of the "
            "CPU while timing; figures are inflated and the ratio is noisy."
        )
    if args.se:
        t = time.perf_counter()
        full = fit_likelihax(x, start, args.tol, se=True)
        print(
            f"\nfull likelihax fit with SEs (EM + Newton polish, {full.iterations} "
            f"Newton steps): {time.perf_counter() - t:.2f} s (first call with SEs, "
            f"compile included); loglik {full.loglik:.10g}, status {full.status.name}"
        )
    return 0 if rel < 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
