"""Benchmark: logistic regression with many parameters (p = 100 to 1,000).

What is measured
----------------
One simulated data set per ``p`` (fixed seed): ``N`` rows (default 20,000),
``p`` standard-normal float64 covariates plus an intercept, coefficients
uniform(-0.5, 0.5) scaled by ``sqrt(20 / p)`` (so the linear predictor's SD
does not grow with ``p``), ``y ~ Bernoulli(sigmoid(eta))``. Each method is
timed doing "fit + standard errors", in the same process, in interleaved
rounds (one untimed warm-up call each, which for likelihax and the JAX
Newton includes compilation; then ``--repeats`` rounds, median reported):

* likelihax ``lx.fit(loglik, start, data)`` (Newton, the default) and
  ``fit.se``;
* likelihax ``lx.fit(..., method="newton-cg")`` (truncated Newton on
  Hessian-vector products; the Hessian formed once, for the SEs);
* likelihax ``lx.fit(..., method="lbfgs")``;
* a hand-written JAX Newton iteration (``X'WX`` and ``jnp.linalg.solve``,
  jitted; 1e-10 on the step) with SEs from the inverse of ``X'WX``;
* scikit-learn ``LogisticRegression(C=inf, solver="newton-cholesky",
  tol=1e-10)``, with SEs from ``(X'WX)^-1`` by NumPy (timed) and without
  SEs (the goal's reference), and with ``solver="lbfgs"``, without SEs and
  with them by NumPy;
* glum ``GeneralizedLinearRegressor(family="binomial", alpha=0)`` and its
  ``std_errors`` (its n/(n-k) factor divided out);
* statsmodels ``Logit(...).fit(method="newton")`` and ``.bse``.

glum, statsmodels and the hand-written JAX Newton are left out at a ``p``
where their first call takes longer than ``--limit`` seconds (60);
likelihax and scikit-learn always run. ``--methods`` picks methods by name
(substrings, e.g. ``--methods "likelihax newton" sklearn``).

``--memory`` also measures each method's peak memory: each method runs
(warm-up and one timed call) in a fresh process, which reports the peak of
its resident set size during the two calls (Linux) and its size after the
data are made (imports included): the difference is what the fit itself
needed.

``--sparse`` runs the p = 100,000 workload instead: ``N`` rows (default
200,000), each with 20 nonzero covariates among 100,000 (value
``1/sqrt(20)``, positions uniform), an intercept, and an L2 penalty
``0.5 * ||beta||^2`` (``n < p`` locally: without it many coefficients have
no finite maximum). likelihax's log-likelihood gathers ``beta[cols]`` per row
(its default at this size: matrix-free Newton-CG, the intercept's SE by CG;
and L-BFGS); scikit-learn's ``LogisticRegression(C=1, solver="lbfgs")`` on
the same design as a SciPy CSR matrix (no SEs).

``--plot FILE`` draws the time against ``p`` of every method (log-log).

Each method's maximized log-likelihood and largest SE difference from
likelihax Newton's are printed (should be 1e-6 or below; L-BFGS stops at its
own tolerance). Target: likelihax Newton's per-step
cost is one Hessian at the speed of the machine's matrix product, one
Cholesky and a few evaluations: at p = 1,000 no slower than the hand-written
JAX Newton and within a small factor of scikit-learn.

Rerun
-----
From the repository root::

    python benchmarks/bench_many_params.py                       # p = 10, 100, 300, 1000
    python benchmarks/bench_many_params.py --p 1000 --repeats 3
    python benchmarks/bench_many_params.py --p 10 100 1000 5000 --memory \
        --plot benchmarks/many_params.png
    python benchmarks/bench_many_params.py --sparse --memory
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def loglik(params, data):
    import jax.numpy as jnp

    eta = params["intercept"] + data["X"] @ params["beta"]
    return data["y"] * eta - jnp.logaddexp(0.0, eta)


def simulate(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    b = rng.uniform(-0.5, 0.5, p) * np.sqrt(20.0 / p)
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-(0.3 + X @ b)))).astype(float)
    return X, y


def binomial_loglik(X1, y, beta):
    eta = X1 @ beta
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)))


def methods(X, y):
    import jax
    import jax.numpy as jnp

    import likelihax as lx

    n, p = X.shape
    X1 = np.column_stack([np.ones(n), X])
    data = {"X": X, "y": y}
    start = {"intercept": 0.0, "beta": np.zeros(p)}

    def lx_fit(method):
        def run():
            f = lx.fit(loglik, start, data, method=method)
            jax.block_until_ready(f.se)
            beta = np.concatenate([[float(f.params["intercept"])], np.asarray(f.params["beta"])])
            se = np.concatenate([[float(f.se["intercept"])], np.asarray(f.se["beta"])])
            return beta, se, str(f.status)
        return run

    with jax.enable_x64(True):
        Xj, yj = jnp.asarray(X1), jnp.asarray(y)

    @jax.jit
    def jax_newton(Xm, yv):
        def step(c):
            b, _, k = c
            mu = jax.nn.sigmoid(Xm @ b)
            H = (Xm * (mu * (1 - mu))[:, None]).T @ Xm
            d = jnp.linalg.solve(H, Xm.T @ (yv - mu))
            return b + d, jnp.max(jnp.abs(d)), k + 1

        b, _, _ = jax.lax.while_loop(lambda c: (c[1] > 1e-10) & (c[2] < 50), step,
                                     (jnp.zeros(Xm.shape[1]), jnp.inf, 0))  # fmt: skip
        mu = jax.nn.sigmoid(Xm @ b)
        H = (Xm * (mu * (1 - mu))[:, None]).T @ Xm
        return b, jnp.sqrt(jnp.diag(jnp.linalg.inv(H)))

    def jax_run():
        with jax.enable_x64(True):
            b, se = jax.block_until_ready(jax_newton(Xj, yj))
        return np.asarray(b), np.asarray(se), "-"

    def sklearn_nc():
        from sklearn.linear_model import LogisticRegression

        m = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-10,
                               max_iter=100).fit(X, y)  # fmt: skip
        return np.concatenate([m.intercept_, m.coef_[0]])

    def sklearn_nc_only():
        return sklearn_nc(), np.full(p + 1, np.nan), "-"  # no SEs

    def numpy_se(beta):  # SEs from (X'WX)^-1, as a scikit-learn user computes them
        mu = 1.0 / (1.0 + np.exp(-(X1 @ beta)))
        H = X1.T @ (X1 * (mu * (1 - mu))[:, None])
        return np.sqrt(np.diag(np.linalg.inv(H)))

    def sklearn_run():
        beta = sklearn_nc()
        return beta, numpy_se(beta), "-"

    def statsmodels_run():
        import statsmodels.api as sm

        r = sm.Logit(y, X1).fit(disp=0, method="newton", tol=1e-10, maxiter=100)
        return np.asarray(r.params), np.asarray(r.bse), "-"

    def glum_run():
        from glum import GeneralizedLinearRegressor

        m = GeneralizedLinearRegressor(family="binomial", alpha=0, robust=False,
                                       gradient_tol=1e-10).fit(X, y)  # fmt: skip
        beta = np.concatenate([[m.intercept_], m.coef_])
        # glum multiplies its covariance by n / (n - k); divided out here
        se = np.asarray(m.std_errors(X, y, dispersion=1)) * np.sqrt((n - p - 1) / n)
        return beta, se, "-"

    def sklearn_lbfgs_beta():
        from sklearn.linear_model import LogisticRegression

        m = LogisticRegression(C=np.inf, solver="lbfgs", tol=1e-10, max_iter=10_000).fit(X, y)
        return np.concatenate([m.intercept_, m.coef_[0]])

    def sklearn_lbfgs():
        return sklearn_lbfgs_beta(), np.full(p + 1, np.nan), "-"  # no SEs

    def sklearn_lbfgs_se():
        beta = sklearn_lbfgs_beta()
        return beta, numpy_se(beta), "-"

    return {
        "likelihax newton": lx_fit("newton"),
        "likelihax newton-cg": lx_fit("newton-cg"),
        "likelihax lbfgs": lx_fit("lbfgs"),
        "JAX Newton (hand-written)": jax_run,
        "sklearn newton-cholesky": sklearn_run,
        "sklearn newton-cholesky (no SEs)": sklearn_nc_only,
        "sklearn lbfgs (no SEs)": sklearn_lbfgs,
        "sklearn lbfgs (+ SEs)": sklearn_lbfgs_se,
        "glum": glum_run,
        "statsmodels Logit": statsmodels_run,
    }, X1


SPARSE_P, SPARSE_PER_ROW, PENALTY = 100_000, 20, 1.0


def simulate_sparse(n, p=SPARSE_P, per=SPARSE_PER_ROW, seed=0):
    rng = np.random.default_rng(seed)
    cols = rng.integers(0, p, size=(n, per)).astype(np.int32)
    vals = np.full((n, per), 1.0 / np.sqrt(per))
    b = rng.normal(size=p) * 0.5
    eta = 0.2 + (vals * b[cols]).sum(axis=1)
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    return cols, vals, y


def sparse_loglik(params, data):
    import jax.numpy as jnp

    eta = params["intercept"] + jnp.sum(data["vals"] * params["beta"][data["cols"]], axis=1)
    # the penalty shared out over the rows (per-row terms: sandwich-ready)
    pen = 0.5 * PENALTY * jnp.sum(params["beta"] ** 2) / data["y"].shape[0]
    return data["y"] * eta - jnp.logaddexp(0.0, eta) - pen


def sparse_methods(cols, vals, y):
    """The p = 100,000 workload (module notes): ``(runs, objective)``."""
    import jax
    import scipy.sparse as sps

    import likelihax as lx

    n, per = cols.shape
    X = sps.csr_matrix((vals.ravel(), cols.ravel(), np.arange(0, n * per + 1, per)),
                       shape=(n, SPARSE_P))  # fmt: skip
    data = {"cols": cols, "vals": vals, "y": y}
    start = {"intercept": 0.0, "beta": np.zeros(SPARSE_P)}

    def objective(beta):  # penalized log-likelihood at [intercept, beta]
        eta = beta[0] + X @ beta[1:]
        return float(np.sum(y * eta - np.logaddexp(0.0, eta))
                     - 0.5 * PENALTY * np.sum(beta[1:] ** 2))  # fmt: skip

    def lx_fit(method):
        def run():
            f = lx.fit(sparse_loglik, start, data, method=method, chunk_size=False)
            jax.block_until_ready(f.params)
            beta = np.concatenate([[float(f.params["intercept"])], np.asarray(f.params["beta"])])
            se = np.full(SPARSE_P + 1, np.nan)
            se[0] = float(f.se["intercept"])
            return beta, se, str(f.status)
        return run

    def sklearn_lbfgs():
        from sklearn.linear_model import LogisticRegression

        m = LogisticRegression(C=1.0 / PENALTY, solver="lbfgs", tol=1e-8,
                               max_iter=10_000).fit(X, y)  # fmt: skip
        return np.concatenate([m.intercept_, m.coef_[0]]), np.full(SPARSE_P + 1, np.nan), "-"

    return {
        "likelihax default": lx_fit(None),
        "likelihax lbfgs": lx_fit("lbfgs"),
        "sklearn lbfgs (no SEs)": sklearn_lbfgs,
    }, objective


def _workload(args, p):
    """``(runs, objective)`` of one size."""
    if args.sparse:
        cols, vals, y = simulate_sparse(args.n or 200_000)
        return sparse_methods(cols, vals, y)
    X, y = simulate(args.n or 20_000, p)
    runs, X1 = methods(X, y)
    return runs, lambda b: binomial_loglik(X1, y, b)


def _one(args):
    """``--one METHOD``: warm-up and one call in this process; print the
    resident set size after the data are made and its peak during the calls
    (GB; Linux: the peak is reset through ``/proc/self/clear_refs``)."""
    runs, _ = _workload(args, args.p[0])
    base = _status_gb("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the current size
    runs[args.one]()
    t = time.perf_counter()
    runs[args.one]()
    t = time.perf_counter() - t
    print(f"MEMORY {base:.3f} {_status_gb('VmHWM'):.3f} {t:.3f}")


def _status_gb(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1e6  # kB
    return float("nan")


def _memory(args, p, name) -> tuple[float, float]:
    """``(peak GB, peak - after data GB)`` of ``name`` in a fresh process."""
    import subprocess

    cmd = [sys.executable, __file__, "--one", name, "--p", str(p)]
    cmd += ["--sparse"] if args.sparse else []
    cmd += ["--n", str(args.n)] if args.n else []
    out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    line = [x for x in out.splitlines() if x.startswith("MEMORY")]
    if not line:
        return float("nan"), float("nan")
    base, peak, _ = map(float, line[-1].split()[1:])
    return peak, peak - base


OPTIONAL = ("glum", "statsmodels", "JAX Newton")


def _measure(args, p):
    runs, objective = _workload(args, p)
    if args.methods:
        keep = [n for n in runs if n == next(iter(runs)) or any(m in n for m in args.methods)]
        runs = {n: runs[n] for n in keep}
    out, times = {}, {name: [] for name in runs}
    ref = next(iter(runs))
    for name, fn in list(runs.items()):  # warm-up (compiles); drop the slow
        t = time.perf_counter()
        out[name] = fn()
        if time.perf_counter() - t > args.limit and name.startswith(OPTIONAL):
            print(f"  {name}: {time.perf_counter() - t:.0f} s > --limit, left out at p = {p}")
            del runs[name], out[name], times[name]
    for _ in range(args.repeats):  # interleaved rounds
        for name, fn in runs.items():
            t = time.perf_counter()
            out[name] = fn()
            times[name].append(time.perf_counter() - t)
    ref_b, ref_se, _ = out[ref]
    ref_ll = objective(ref_b)
    base = statistics.median(times[ref])
    mem = {name: _memory(args, p, name) for name in runs} if args.memory else {}
    print(f"\np = {p}" + (" (sparse design, L2 penalty)" if args.sparse else ""))
    print(f"{'method':34s} {'warm s':>8s} {'vs lx':>7s} {'loglik - lx':>12s} "
          f"{'max SE rel diff':>15s}" + (f" {'peak GB':>8s} {'fit GB':>7s}" if mem else ""))  # fmt: skip
    rows = {}
    for name in runs:
        b, se, _ = out[name]
        med = statistics.median(times[name])
        dll = objective(b) - ref_ll
        ok = np.isfinite(se) & np.isfinite(ref_se)
        dse = float(np.max(np.abs(se[ok] / ref_se[ok] - 1))) if ok.any() else np.nan
        extra = f" {mem[name][0]:8.2f} {mem[name][1]:7.2f}" if mem else ""
        print(f"{name:34s} {med:8.3f} {med / base:7.2f} {dll:12.2e} {dse:15.1e}{extra}")
        rows[name] = med
    _ratios(rows, out)
    return rows


def _ratios(rows, out):
    """The goal "no size more than 3x the fastest competitor": likelihax's
    fastest method against the fastest competitor, and against the fastest
    competitor that gives SEs too."""
    mine = {n: t for n, t in rows.items() if n.startswith("likelihax")}
    theirs = {n: t for n, t in rows.items() if not n.startswith("likelihax")}
    if not mine or not theirs:
        return
    best = min(mine, key=mine.get)
    with_se = {n: t for n, t in theirs.items() if np.isfinite(out[n][1]).all()}
    for label, pool in (("fastest competitor", theirs), ("fastest with SEs", with_se)):
        if pool:
            other = min(pool, key=pool.get)
            print(f"  {best} / {label} ({other}): {mine[best] / pool[other]:.2f}")


def _plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    names = sorted({n for r in results.values() for n in r}, key=str)
    for name in names:
        ps = [p for p in results if name in results[p]]
        ax.plot(ps, [results[p][name] for p in ps], marker="o", label=name)
    ax.set(xscale="log", yscale="log", xlabel="parameters p",
           ylabel="warm fit time (s, median)",
           title="Logistic regression, N = 20,000: fit with SEs unless marked \"no SEs\"")  # fmt: skip
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"figure: {path}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=None,
                    help="rows (default 20,000; 200,000 with --sparse)")
    ap.add_argument("--p", type=int, nargs="+", default=[10, 100, 300, 1000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--limit", type=float, default=60.0,
                    help="leave out a competitor whose first call takes longer (s)")
    ap.add_argument("--sparse", action="store_true", help="the p = 100,000 workload")
    ap.add_argument("--memory", action="store_true", help="peak memory per method")
    ap.add_argument("--plot", default=None, help="write the time-vs-p figure here")
    ap.add_argument("--methods", nargs="+", default=None,
                    help="only the methods whose names contain one of these")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        return _one(args)
    import platform

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"N = {args.n or (200_000 if args.sparse else 20_000)}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")  # fmt: skip
    ps = [SPARSE_P] if args.sparse else args.p
    results = {p: _measure(args, p) for p in ps}
    if args.plot:
        _plot(results, args.plot)


if __name__ == "__main__":
    main()
