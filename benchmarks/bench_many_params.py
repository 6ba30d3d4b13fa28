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
  tol=1e-10)``, with SEs from ``(X'WX)^-1`` by NumPy (timed), and with
  ``solver="lbfgs"`` (no SEs);
* glum ``GeneralizedLinearRegressor(family="binomial", alpha=0)`` and its
  ``std_errors`` (its n/(n-k) factor divided out);
* statsmodels ``Logit(...).fit(method="newton")`` and ``.bse``.

A competitor whose first call takes longer than ``--limit`` seconds (60) is
left out at that ``p``.

Each method's maximized log-likelihood and largest SE difference from
likelihax Newton's are printed (should be 1e-6 or below; L-BFGS stops at its
own tolerance). Goal (issue: many parameters): likelihax Newton's per-step
cost is one Hessian at the speed of the machine's matrix product, one
Cholesky and a few evaluations: at p = 1,000 no slower than the hand-written
JAX Newton and within a small factor of scikit-learn.

Rerun
-----
From the repository root::

    python benchmarks/bench_many_params.py                       # p = 10, 100, 300, 1000
    python benchmarks/bench_many_params.py --p 1000 --repeats 3
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

    def sklearn_run():
        from sklearn.linear_model import LogisticRegression

        m = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-10,
                               max_iter=100).fit(X, y)  # fmt: skip
        beta = np.concatenate([m.intercept_, m.coef_[0]])
        mu = 1.0 / (1.0 + np.exp(-(X1 @ beta)))
        H = X1.T @ (X1 * (mu * (1 - mu))[:, None])
        return beta, np.sqrt(np.diag(np.linalg.inv(H))), "-"

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

    def sklearn_lbfgs():
        from sklearn.linear_model import LogisticRegression

        m = LogisticRegression(C=np.inf, solver="lbfgs", tol=1e-10, max_iter=10_000).fit(X, y)
        beta = np.concatenate([m.intercept_, m.coef_[0]])
        return beta, np.full(p + 1, np.nan), "-"  # no SEs

    return {
        "likelihax newton": lx_fit("newton"),
        "likelihax newton-cg": lx_fit("newton-cg"),
        "likelihax lbfgs": lx_fit("lbfgs"),
        "JAX Newton (hand-written)": jax_run,
        "sklearn newton-cholesky": sklearn_run,
        "sklearn lbfgs (no SEs)": sklearn_lbfgs,
        "glum": glum_run,
        "statsmodels Logit": statsmodels_run,
    }, X1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--p", type=int, nargs="+", default=[10, 100, 300, 1000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--limit", type=float, default=60.0,
                    help="leave out a competitor whose first call takes longer (s)")
    args = ap.parse_args(argv)
    import platform

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"N = {args.n}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")  # fmt: skip
    for p in args.p:
        X, y = simulate(args.n, p)
        runs, X1 = methods(X, y)
        out, times = {}, {name: [] for name in runs}
        for name, fn in list(runs.items()):  # warm-up (compiles); drop the slow
            t = time.perf_counter()
            out[name] = fn()
            if time.perf_counter() - t > args.limit and name != "likelihax newton":
                print(f"  {name}: {time.perf_counter() - t:.0f} s > --limit, left out at p = {p}")
                del runs[name], out[name], times[name]
        for _ in range(args.repeats):  # interleaved rounds
            for name, fn in runs.items():
                t = time.perf_counter()
                out[name] = fn()
                times[name].append(time.perf_counter() - t)
        ref_b, ref_se, _ = out["likelihax newton"]
        ref_ll = binomial_loglik(X1, y, ref_b)
        base = statistics.median(times["likelihax newton"])
        print(f"\np = {p}")
        print(f"{'method':28s} {'warm s':>8s} {'vs lx':>7s} {'loglik - lx':>12s} "
              f"{'max SE rel diff':>15s}")  # fmt: skip
        for name in runs:
            b, se, _ = out[name]
            med = statistics.median(times[name])
            dll = binomial_loglik(X1, y, b) - ref_ll
            dse = float(np.nanmax(np.abs(se / ref_se - 1))) if np.isfinite(se).any() else np.nan
            print(f"{name:28s} {med:8.3f} {med / base:7.2f} {dll:12.2e} {dse:15.1e}")


if __name__ == "__main__":
    main()
