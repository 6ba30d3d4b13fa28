"""Benchmark: count and survival regressions against statsmodels, lifelines and R.

What is measured
----------------
Three workloads on simulated data (N = 100,000 by default), each timed doing
"fit + standard errors", likelihax beside the competitors in the same process
in interleaved rounds (the first call of each method is its "cold" time;
then ``--repeats`` rounds, median "warm"), and R in one ``Rscript``
subprocess on the same data (CSV), timed inside R with ``proc.time()``:

``zinb``
    Zero-inflated negative binomial, 3 count regressors and 2 zero-part
    regressors: ``lx.zeroinfl(..., dist="negbin")`` beside statsmodels
    ``ZeroInflatedNegativeBinomialP(p=2).fit(method="bfgs")`` (started from
    its own defaults) and R ``pscl::zeroinfl``.
``cox``
    Cox regression, p = 10, event times rounded to a grid so that ties occur
    (Efron): ``lx.coxph`` beside lifelines ``CoxPHFitter`` and R
    ``survival::coxph``; likelihax both from the formula and from arrays,
    ``lx.coxph(lx.Surv(time, event), X)``.
``weibull``
    Weibull AFT, p = 10, right-censored: ``lx.survreg`` (formula and arrays)
    beside lifelines ``WeibullAFTFitter`` and R ``survival::survreg``.

Each method's maximized log-likelihood is printed; likelihax's should be at
least as high (to 1e-6 relative). Ratios: each method's warm time over
likelihax's from the formula (``warm/lx``) and from arrays (``warm/lx arrays``). Targets: at least 10x faster than statsmodels
and lifelines, faster than R.

Rerun
-----
From the repository root::

    python benchmarks/bench_regression.py                  # all, N = 100,000
    python benchmarks/bench_regression.py --n 5000 --repeats 1 --no-r   # smoke test
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); workload <- args[2]; reps <- as.integer(args[3])
run <- function(name, f) {
  t <- numeric(reps + 1); fit <- NULL
  for (i in seq_len(reps + 1)) { t0 <- proc.time()[["elapsed"]]; fit <- f()
                                 t[i] <- proc.time()[["elapsed"]] - t0 }
  ll <- if (inherits(fit, "coxph")) fit$loglik[2] else as.numeric(logLik(fit))
  cat(sprintf("RESULT,%s,%.6f,%.6f,%.10f\n", name, t[1], median(t[-1]), ll))
}
xs <- grep("^x", names(d), value = TRUE)
if (workload == "zinb") {
  if (requireNamespace("pscl", quietly = TRUE))
    run("R pscl zeroinfl", function() { m <- pscl::zeroinfl(y ~ x1 + x2 + x3 | z1 + z2, d, dist = "negbin"); vcov(m); m })
} else {
  suppressMessages(library(survival))
  f <- as.formula(paste("Surv(time, event) ~", paste(xs, collapse = " + ")))
  if (workload == "cox") run("R survival coxph", function() { m <- coxph(f, d); vcov(m); m })
  else run("R survival survreg", function() { m <- survreg(f, d); vcov(m); m })
}
"""


def make_data(workload: str, n: int, seed: int = 20261207) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    if workload == "zinb":
        X = rng.normal(size=(n, 3))
        Z = rng.normal(size=(n, 2))
        mu = np.exp(0.5 + X @ np.array([0.3, -0.2, 0.1]))
        pi = 1 / (1 + np.exp(-(-0.8 + Z @ np.array([0.5, -0.4]))))
        theta = 1.5
        y = rng.poisson(rng.gamma(theta, mu / theta))
        y = np.where(rng.random(n) < pi, 0, y)
        return pd.DataFrame({"y": y, "x1": X[:, 0], "x2": X[:, 1], "x3": X[:, 2],
                             "z1": Z[:, 0], "z2": Z[:, 1]})  # fmt: skip
    X = rng.normal(size=(n, 10))
    beta = np.linspace(-0.3, 0.3, 10)
    t = rng.weibull(1.3, n) * np.exp(2.0 - X @ beta)
    c = rng.exponential(np.exp(2.5), n)
    time_ = np.minimum(t, c)
    if workload == "cox":
        time_ = np.ceil(time_ * 10) / 10  # a grid of 0.1: ties
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(10)])
    return df.assign(time=time_, event=(t <= c).astype(int))


def run_r(path, workload, repeats, notes):
    if shutil.which("Rscript") is None:
        notes.append("Rscript not found: R skipped.")
        return []
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as f:
        f.write(R_SCRIPT)
    try:
        out = subprocess.run(["Rscript", f.name, path, workload, str(repeats)],
                             capture_output=True, text=True, timeout=3600, check=False)  # fmt: skip
    finally:
        os.unlink(f.name)
    rows = [(p[1], float(p[2]), float(p[3]), float(p[4])) for p in
            (line.split(",") for line in out.stdout.splitlines()) if p[0] == "RESULT"]  # fmt: skip
    if out.returncode != 0:
        notes.append(f"Rscript failed: {out.stderr.strip()[-300:]}")
    return rows


def methods(workload: str, df: pd.DataFrame):
    """name -> callable returning the maximized log-likelihood (fit + SEs)."""
    import likelihax as lx

    out = {}
    if workload == "zinb":
        out["likelihax zeroinfl"] = lambda: lx.zeroinfl("y ~ x1 + x2 + x3 | z1 + z2", df,
                                                         dist="negbin").loglik  # fmt: skip
        try:
            from statsmodels.discrete.count_model import ZeroInflatedNegativeBinomialP

            X = np.column_stack([np.ones(len(df)), df[["x1", "x2", "x3"]]])
            Z = np.column_stack([np.ones(len(df)), df[["z1", "z2"]]])

            def sm():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    m = ZeroInflatedNegativeBinomialP(df.y.to_numpy(float), X, exog_infl=Z, p=2)
                    r = m.fit(method="bfgs", maxiter=2000, disp=False)
                    _ = r.bse
                return float(r.llf)

            out["statsmodels ZINB"] = sm
        except ImportError:
            pass
        return out
    xs = [f"x{j}" for j in range(10)]
    f = "Surv(time, event) ~ " + " + ".join(xs)
    try:
        import lifelines
    except ImportError:
        lifelines = None
    X = df[xs].to_numpy()
    if workload == "cox":
        out["likelihax coxph"] = lambda: lx.coxph(f, df).loglik
        out["likelihax coxph (arrays)"] = lambda: lx.coxph(lx.Surv(df.time, df.event), X).loglik
        if lifelines is not None:

            def ll():
                m = lifelines.CoxPHFitter().fit(df, "time", "event")
                _ = m.standard_errors_
                return float(m.log_likelihood_)

            out["lifelines CoxPHFitter"] = ll
    else:
        out["likelihax survreg"] = lambda: lx.survreg(f, df).loglik
        out["likelihax survreg (arrays)"] = lambda: lx.survreg(lx.Surv(df.time, df.event),
                                                               X).loglik  # fmt: skip
        if lifelines is not None:

            def ll():
                m = lifelines.WeibullAFTFitter().fit(df, "time", "event")
                _ = m.standard_errors_
                return float(m.log_likelihood_)

            out["lifelines WeibullAFTFitter"] = ll
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workloads", nargs="+", default=["zinb", "cox", "weibull"])
    ap.add_argument("--no-r", action="store_true")
    args = ap.parse_args(argv)

    import jax

    jax.config.update("jax_enable_compilation_cache", False)
    tmp = tempfile.mkdtemp(prefix="bench_regression_")
    for wl in args.workloads:
        df = make_data(wl, args.n)
        path = os.path.join(tmp, f"{wl}.csv")
        df.to_csv(path, index=False)
        notes: list[str] = []
        fns = methods(wl, df)
        cold, warm, ll = {}, {k: [] for k in fns}, {}
        for name, fn in fns.items():
            t0 = time.perf_counter()
            ll[name] = fn()
            cold[name] = time.perf_counter() - t0
        for _ in range(args.repeats):  # interleaved rounds
            for name, fn in fns.items():
                t0 = time.perf_counter()
                fn()
                warm[name].append(time.perf_counter() - t0)
        rows = [(k, cold[k], statistics.median(warm[k]), ll[k]) for k in fns]
        if not args.no_r:
            rows += run_r(path, wl, args.repeats, notes)
        mine = rows[0]
        arr = next((r for r in rows if r[0].endswith("(arrays)")), mine)
        print(f"\n== {wl}: N = {args.n} ==")
        print(f"{'method':<30}{'cold s':>9}{'warm s':>9}{'loglik':>20}{'warm/lx':>9}"
              f"{'warm/lx arrays':>16}")  # fmt: skip
        for name, c, w, lv in rows:
            print(f"{name:<30}{c:>9.3f}{w:>9.3f}{lv:>20.6f}{w / mine[2]:>9.2f}"
                  f"{w / arr[2]:>16.2f}")  # fmt: skip
        for name, _, _, lv in rows[1:]:
            ok = mine[3] >= lv - 1e-6 * abs(lv)
            print(f"  {name}: loglik {'matches or below' if ok else 'ABOVE'} likelihax's "
                  f"(diff {lv - mine[3]:+.2e})")  # fmt: skip
        print(f"  load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        for note in notes:
            print("  note:", note)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
