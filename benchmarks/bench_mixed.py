"""Benchmark: mixed models through ``likelihax.models.random_effects.mixed``.

What is measured
----------------
Four workloads, each one data set written once to CSV so that every method
fits the same numbers, timed doing "fit + standard errors":

``lmm``
    Linear mixed model with correlated random intercept and slope,
    ``y ~ x + (x | g)``, 2,000 groups x 10 observations (x = 0..9 within each
    group, as sleepstudy's Days), maximum likelihood (not REML). likelihax
    ``mixed(..., family="gaussian")`` beside lme4 ``lmer(REML = FALSE)``,
    glmmTMB and statsmodels ``MixedLM(...).fit(reml=False)`` (in process).
``poisson``
    Poisson GLMM with random intercepts, ``y ~ x + (1 | g)``, 2,000 groups x
    20 observations, Laplace approximation. likelihax ``mixed(...,
    family="poisson")`` beside glmmTMB and lme4 ``glmer(nAGQ = 1)``.
``crossed``
    Poisson GLMM with crossed random intercepts, ``y ~ x + (1 | a) + (1 | b)``,
    ``--groups`` levels of ``a`` (default 2,000), a tenth as many of ``b``,
    50 rows per level of ``a`` (N = 100,000), Laplace approximation, beside
    glmmTMB and ``glmer``.
``insteval``
    lme4's InstEval (73,421 ratings; 2,972 students x 1,128 instructors x 14
    departments, crossed), ``y ~ service + (1 | s) + (1 | d) + (1 | dept)`` by
    REML, beside ``lmer`` (REML, its default) and glmmTMB (``REML = TRUE``);
    the data as ``tests/reference/mixed_terms.R`` wrote them.
``ar1``
    Poisson counts driven by a latent stationary AR(1) series of ``--T``
    states (default 10,000; rho 0.7, marginal SD 0.4, log-mean 1 + u_t): the
    state-space model of ``examples/latent_ar1.py`` through ``lx.integrate``
    (pattern detection included in the time; the latent Hessian held in band
    storage), beside glmmTMB ``y ~ 1 + ar1(time + 0 | group)``.

Timing: likelihax and statsmodels in this process: the first call is "cold"
(for likelihax: tracing and XLA compilation included, JAX's persistent
compilation cache switched off), then ``--repeats`` timed calls whose median
("warm") and minimum are shown. R methods run in one ``Rscript`` subprocess
(packages loaded before timing); each is timed inside R with ``proc.time()``
over the same number of repeats, the first call reported as "cold". Data
preparation (simulation, reading the CSV) is outside the timing. R methods are
skipped with a message when ``Rscript`` or a package is missing.

Correctness: each method's maximized log-likelihood is printed beside
likelihax's; likelihax should be at least as high (to 1e-6 relative).

Targets: LMM faster than lme4 (ratio lme4/likelihax > 1); Poisson GLMM at least
4x faster than glmmTMB; crossed Poisson GLMM at least 5x faster than glmmTMB;
InstEval faster than lme4 with the same REML criterion; the AR(1) model
faster than glmmTMB.

The 1-minute load average is printed before and after each workload (on a
machine shared with other jobs); figures measured under load are slower
and noisier than on a quiet machine.

Rerun
-----
From the repository root::

    python benchmarks/bench_mixed.py                 # full run
    python benchmarks/bench_mixed.py --groups 200 --repeats 2   # smoke test
    python benchmarks/bench_mixed.py --no-r          # likelihax + statsmodels only
    python benchmarks/bench_mixed.py --workloads crossed insteval --repeats 2
    python benchmarks/bench_mixed.py --workloads ar1 --T 10000 --repeats 3
"""

from __future__ import annotations

import argparse
import functools
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
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
file <- args[1]; workload <- args[2]; reps <- as.integer(args[3])
suppressMessages({ok_lme4 <- requireNamespace("lme4", quietly = TRUE)
                  ok_tmb <- requireNamespace("glmmTMB", quietly = TRUE)})
suppressMessages({if (ok_lme4) library(lme4); if (ok_tmb) library(glmmTMB)})
d <- read.csv(file)
for (v in intersect(c("g", "a", "b", "s", "d", "dept"), names(d))) d[[v]] <- factor(d[[v]])
run <- function(name, f) {
  t <- numeric(reps + 1); fit <- NULL
  for (i in seq_len(reps + 1)) { t0 <- proc.time()[["elapsed"]]; fit <- f()
                                 t[i] <- proc.time()[["elapsed"]] - t0 }
  cat(sprintf("RESULT,%s,%.6f,%.6f,%.6f,%.10f\n", name, t[1], median(t[-1]),
              min(t[-1]), as.numeric(logLik(fit))))
}
if (workload == "crossed") {
  if (ok_tmb) run("glmmTMB", function() { m <- glmmTMB(y ~ x + (1 | a) + (1 | b), d, family = poisson); vcov(m); m })
  if (ok_lme4) run("lme4 glmer", function() { m <- glmer(y ~ x + (1 | a) + (1 | b), d, family = poisson); vcov(m); m })
} else if (workload == "insteval") {
  d$service <- factor(d$service)
  if (ok_lme4) run("lme4 lmer (REML)", function() { m <- lmer(y ~ service + (1 | s) + (1 | d) + (1 | dept), d); vcov(m); m })
  if (ok_tmb) run("glmmTMB (REML)", function() { m <- glmmTMB(y ~ service + (1 | s) + (1 | d) + (1 | dept), d, REML = TRUE); vcov(m); m })
} else if (workload == "ar1") {
  d$time <- factor(d$time); d$group <- factor(1)
  if (ok_tmb) run("glmmTMB", function() { m <- glmmTMB(y ~ 1 + ar1(time + 0 | group), d, family = poisson); vcov(m); m })
} else if (workload == "lmm") {
  if (ok_lme4) run("lme4 lmer", function() { m <- lmer(y ~ x + (x | g), d, REML = FALSE); vcov(m); m })
  if (ok_tmb) run("glmmTMB", function() { m <- glmmTMB(y ~ x + (x | g), d); vcov(m); m })
} else {
  if (ok_tmb) run("glmmTMB", function() { m <- glmmTMB(y ~ x + (1 | g), d, family = poisson); vcov(m); m })
  if (ok_lme4) run("lme4 glmer", function() { m <- glmer(y ~ x + (1 | g), d, family = poisson); vcov(m); m })
}
if (!ok_lme4) cat("MISSING,lme4\n"); if (!ok_tmb) cat("MISSING,glmmTMB\n")
"""


FORMULAS = {
    "lmm": ("y ~ x + (x | g)", "gaussian"),
    "poisson": ("y ~ x + (1 | g)", "poisson"),
    "crossed": ("y ~ x + (1 | a) + (1 | b)", "poisson"),
    "insteval": ("y ~ service + (1 | s) + (1 | d) + (1 | dept)", "gaussian"),
    "ar1": ("y ~ 1 + ar1(time + 0 | group)", "poisson"),
}


def make_data(workload: str, groups: int, seed: int = 20240607) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    if workload == "insteval":  # lme4's InstEval, as tests/reference/mixed_terms.R wrote it
        path = os.path.join(os.path.dirname(__file__), "..", "tests", "reference",
                            "mixed_terms_data_insteval.csv")  # fmt: skip
        df = pd.read_csv(path)
        for c in ("s", "d", "dept", "service"):
            df[c] = df[c].astype(str)
        return df
    if workload == "ar1":  # Poisson counts, log-mean 1 + u_t, u a stationary AR(1)
        T, rho, sd = groups, 0.7, 0.4
        u = np.empty(T)
        u[0] = rng.normal(0.0, sd)
        e = rng.normal(0.0, sd * np.sqrt(1 - rho**2), T)
        for t in range(1, T):
            u[t] = rho * u[t - 1] + e[t]
        return pd.DataFrame({"time": np.arange(1, T + 1), "y": rng.poisson(np.exp(1 + u))})
    if workload == "crossed":  # groups x groups/10 crossed levels, 50 rows per level of a
        na, nb = groups, max(2, groups // 10)
        n = 50 * groups
        a, b = rng.integers(0, na, n), rng.integers(0, nb, n)
        x = rng.normal(size=n)
        eta = 0.5 + 0.3 * x + 0.5 * rng.normal(size=na)[a] + 0.3 * rng.normal(size=nb)[b]
        return pd.DataFrame({"y": rng.poisson(np.exp(eta)).astype(float), "x": x,
                             "a": a, "b": b})  # fmt: skip
    if workload == "lmm":
        n = 10
        g = np.repeat(np.arange(groups), n)
        x = np.tile(np.arange(n, dtype=float), groups)
        cov = [[24.0**2, 0.1 * 24 * 6], [0.1 * 24 * 6, 6.0**2]]
        b = rng.multivariate_normal([0.0, 0.0], cov, size=groups)
        y = 250 + 10 * x + b[g, 0] + b[g, 1] * x + 25 * rng.normal(size=g.size)
    else:
        n = 20
        g = np.repeat(np.arange(groups), n)
        x = rng.normal(size=g.size)
        y = rng.poisson(np.exp(0.5 + 0.3 * x + 0.6 * rng.normal(size=groups)[g]))
        y = y.astype(float)
    return pd.DataFrame({"y": y, "x": x, "g": g})


def ar1_fit(y):
    """The AR(1) state-space model of ``examples/latent_ar1.py`` through
    ``lx.integrate``: the pattern detected from the joint (band storage, one
    off-diagonal), the marginal maximized, standard errors included."""
    import likelihax as lx
    from latent_ar1 import joint

    data, T = {"y": y}, y.size
    start = {"mu": 0.0, "sd": 0.5, "z": 0.0}
    pattern = lx.latent_pattern(joint, {**start, "u": np.zeros(T)}, data, ["u"])
    fit = lx.fit(lx.integrate(joint, {"u": T}, pattern=pattern), start, data,
                 constraints={"sd": lx.constraints.positive})  # fmt: skip
    return fit


def time_calls(fn, repeats):
    t0 = time.perf_counter()
    out = fn()
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        warm.append(time.perf_counter() - t0)
    return cold, statistics.median(warm), min(warm), out


def run_r(path, workload, repeats, notes):
    if shutil.which("Rscript") is None:
        notes.append("Rscript not found: lme4 and glmmTMB skipped.")
        return []
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as f:
        f.write(R_SCRIPT)
    try:
        out = subprocess.run(["Rscript", f.name, path, workload, str(repeats)],
                             capture_output=True, text=True, timeout=3600, check=False)  # fmt: skip
    finally:
        os.unlink(f.name)
    rows = []
    for line in out.stdout.splitlines():
        parts = line.split(",")
        if parts[0] == "RESULT":
            rows.append((parts[1], *map(float, parts[2:])))
        elif parts[0] == "MISSING":
            notes.append(f"R package {parts[1]} not installed: skipped.")
    if out.returncode != 0:
        notes.append(f"Rscript failed: {out.stderr.strip()[-300:]}")
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--groups", type=int, default=2000)
    ap.add_argument("--T", type=int, default=10000, help="length of the ar1 series")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--sm-repeats",
        type=int,
        default=2,
        help="repeats for statsmodels MixedLM (slow)",
    )
    ap.add_argument("--workloads", nargs="+", default=["lmm", "poisson"])
    ap.add_argument("--no-r", action="store_true", help="skip lme4 and glmmTMB")
    args = ap.parse_args(argv)

    import jax

    # Cold times must include compilation: no persistent cache.
    jax.config.update("jax_enable_compilation_cache", False)
    from likelihax.models.random_effects import mixed

    tmp = tempfile.mkdtemp(prefix="bench_mixed_")
    for wl in args.workloads:
        df = make_data(wl, args.T if wl == "ar1" else args.groups)
        path = os.path.join(tmp, f"{wl}.csv")
        df.to_csv(path, index=False)
        notes = []
        load0 = os.getloadavg()[0]
        formula, fam = FORMULAS[wl]
        reml = wl == "insteval"  # lmer's default; the other workloads compare ML

        def lx_run(formula=formula, df=df, fam=fam, reml=reml):
            m = mixed(formula, df, family=fam, reml=reml)
            _ = m.se  # standard errors (computed with the fit)
            return m

        if wl == "ar1":
            lx_run = functools.partial(ar1_fit, df["y"].to_numpy(float))

        cold, warm, best, m = time_calls(lx_run, args.repeats)
        rows = [("likelihax mixed", cold, warm, best, m.loglik)]
        if wl == "lmm":
            try:
                import statsmodels.formula.api as smf

                def sm_run(df=df):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        r = smf.mixedlm("y ~ x", df, groups=df["g"], re_formula="~x")
                        r = r.fit(reml=False)
                        _ = r.bse
                    return r

                c, w, b, r = time_calls(sm_run, args.sm_repeats)
                rows.append(("statsmodels MixedLM", c, w, b, float(r.llf)))
            except ImportError:
                notes.append("statsmodels not installed: MixedLM skipped.")
        if not args.no_r:
            rows += run_r(path, wl, args.repeats, notes)
        load1 = os.getloadavg()[0]
        n = len(df)
        size = f"T = {args.T}" if wl == "ar1" else f"{args.groups} groups"
        print(f"\n== {wl}: {formula}, family={fam}, {size}, {n} rows ==")
        print(f"{'method':<22}{'cold s':>9}{'warm s':>9}{'min s':>9}"
              f"{'loglik':>18}{'warm/lx':>9}")  # fmt: skip
        for name, c, w, b, ll in rows:
            print(f"{name:<22}{c:>9.3f}{w:>9.3f}{b:>9.3f}{ll:>18.6f}"
                  f"{w / warm:>9.2f}")  # fmt: skip
        for name, _, w, _, ll in rows[1:]:
            ok = m.loglik >= ll - 1e-6 * abs(ll)
            print(
                f"  {name}: {w / warm:.1f}x likelihax's warm time; loglik "
                f"{'matches or below' if ok else 'ABOVE'} likelihax's "
                f"(diff {ll - m.loglik:+.2e})"
            )
        goal = {"lmm": ("lme4 lmer", 1.0), "poisson": ("glmmTMB", 4.0),
                "crossed": ("glmmTMB", 5.0), "insteval": ("lme4 lmer (REML)", 1.0),
                "ar1": ("glmmTMB", 1.0)}[wl]
        hit = [w for name, _, w, _, _ in rows if name == goal[0]]
        if hit:
            ratio = hit[0] / warm
            print(
                f"  goal: {goal[0]} / likelihax >= {goal[1]:g}: {ratio:.2f} "
                f"({'met' if ratio >= goal[1] else 'NOT met'})"
            )
        print(
            f"  likelihax: {m.fit.iterations} Newton iterations, status "
            f"{m.fit.status.name}; load average {load0:.2f} -> {load1:.2f} "
            f"on {os.cpu_count()} CPUs"
            + (
                " (machine busy: figures measured under load)"
                if max(load0, load1) > 0.5 * (os.cpu_count() or 1)
                else ""
            )
        )
        for note in notes:
            print("  note:", note)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
