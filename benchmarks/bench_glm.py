"""Benchmark: GLMs (logistic, Poisson, NB2) through ``likelihax.models.glm.glm``.

What is measured
----------------
Three workloads, each one simulated data set (fixed seed) on which every
method runs in the same process, timed doing "fit + standard errors":

``logistic``
    N = 1,000,000 rows, p = 20 standard-normal float64 covariates plus an
    intercept (the data of ``bench_logistic.py``: same simulation, same seed).
    likelihax ``glm(y, X, family="binomial")`` (Fisher scoring = IRLS) beside
    statsmodels ``GLM(y, X, Binomial()).fit()`` + ``.bse``; scikit-learn
    ``LogisticRegression(C=np.inf)`` with ``solver="newton-cholesky"`` and
    ``"lbfgs"``, standard errors from ``(X'WX)^-1`` in numpy (timed); glum
    ``GeneralizedLinearRegressor(family="binomial", alpha=0)`` +
    ``std_errors``; and likelihax's same model written as a per-observation
    log-likelihood through ``lx.fit`` (exact Newton).
``poisson``
    N = 1,000,000, p = 10 (+ intercept); the same competitors with
    scikit-learn ``PoissonRegressor(alpha=0, solver="newton-cholesky")`` and
    glum/statsmodels with the Poisson family.
``nb2``
    N = 100,000, p = 5 (+ intercept) and dispersion alpha = 0.5 (NB2:
    Var y = mu + alpha mu^2). likelihax ``glm(y, X, family="negative_binomial")``
    (joint ML of beta and alpha, Newton from a Poisson start) and a hand-written
    NB2 log-likelihood through ``lx.fit``, beside statsmodels
    ``NegativeBinomial(y, X)``: its default ``.fit()`` (BFGS, maxiter=35),
    BFGS with maxiter=1000 and Newton (the reference); and statsmodels
    ``GenericLikelihoodModel`` with a hand-written NB2 ``loglikeobs``, with
    ``method="bfgs"`` and with its default (Nelder-Mead, maxiter=500).

Timing: one untimed warm-up call, then ``--repeats`` timed calls (default 5;
statsmodels methods whose warm-up takes more than 5 s get ``--slow-repeats``,
default 3);
the table shows the median and minimum.  The warm-up time is shown as
"first call"; for likelihax it is the cold-in-process time (tracing and XLA
compilation included, JAX's persistent compilation cache switched off), broken
down with ``jax.monitoring`` events.  Workloads run in the order given, so a
later workload may reuse compiled pieces of an earlier one (noted).  Data
preparation (simulation, adding the intercept column) is outside the timing;
likelihax outputs are waited for with ``jax.block_until_ready``.

"other CPU" is the share of the machine used by other processes while a method
was timed (``bench_logistic.BackgroundLoad``); above 10% the script warns.

Correctness: coefficients and standard errors of every method are compared
with the statsmodels reference (GLM IRLS; for NB2, ``NegativeBinomial``
Newton) as the max relative difference, against stated tolerances.  glum
multiplies its covariance by N/(N-k); that factor is divided out first (as in
``bench_logistic.py``).  Methods that do not reach the reference optimum are
marked and left out of the target checks.

Diagnostics: after timing, one more (untimed) likelihax GLM call runs under
``cProfile``, and the time of ``glm()`` is broken down into its callees (input
checks, starting values, engine fit, result construction) so that overhead
outside the engine is visible; JAX compilations during warm calls are counted
(there should be none).

Targets: logistic and Poisson: the GLM API faster than the
fastest competitor (ratio < 1) and no slower than the custom log-likelihood
(5% allowance for timing noise); NB2: at least 10x faster than the fastest
statsmodels method that reaches the optimum.  Each target is judged on its two
methods timed again interleaved (ABBA: A B B A ..., 2 x ``--repeats`` calls
each), so that both see the same state of the machine; the table keeps the
sequential medians.

Rerun
-----
From the repository root::

    python benchmarks/bench_glm.py                                   # full run
    python benchmarks/bench_glm.py --n-scale 0.01 --repeats 2        # smoke test
    python benchmarks/bench_glm.py --workloads nb2                   # one workload
    python benchmarks/bench_glm.py --wait-quiet 300 --write-results  # RESULTS.md

Needs the ``bench`` extra (statsmodels, scikit-learn, glum).  Reuses the
machine description, load measurement and RESULTS.md writer of
``bench_logistic.py``.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import pstats
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_logistic import (
    BUSY_WARN,
    REPO_ROOT,
    RESULTS_PATH,
    BackgroundLoad,
    _compile_breakdown,
    _import_likelihax,
    _logit_se_numpy,
    _lx_provenance,
    _select_jax_platform,
    machine_info,
    max_rel,
    round_robin,
    simulate,
    wait_until_quiet,
    write_results,
)

WORKLOADS = {  # name: (N, p) at --n-scale 1
    "logistic": (1_000_000, 20),
    "poisson": (1_000_000, 10),
    "nb2": (100_000, 5),
}
TITLES = {"logistic": "logistic (binomial)", "poisson": "Poisson",
          "nb2": "negative binomial (NB2)"}
NB2_ALPHA = 0.5
SLOW_S = 5.0  # warm-up longer than this -> --slow-repeats timed calls
CUSTOM_ALLOWANCE = 1.05  # "no slower than custom": GLM <= 1.05 x custom median
NB2_FACTOR = 10.0
GLM_ROW = "likelihax glm()"
CUSTOM_ROW = "likelihax custom loglik (lx.fit)"
# Max relative difference to the statsmodels reference, per method prefix.
TOL = {
    "default": 1e-6,  # exact Newton / IRLS to tight tolerances
    "scikit-learn lbfgs": 1e-4,  # first-order, gradient tolerance
    "statsmodels NegativeBinomial bfgs": 1e-4,
    "statsmodels GenericLikelihoodModel": 1e-3,  # numerical derivatives
}


def _tol(name: str) -> float:
    return next((v for k, v in TOL.items() if name.startswith(k)), TOL["default"])


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------


def make_data(workload: str, n: int, p: int, seed: int):
    """Return X (n, p) without and Xc (n, p+1) with intercept column, y, truth."""
    if workload == "logistic":
        X, y, coef = simulate(n, p, seed)  # the data of bench_logistic.py
    else:
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, p))
        coef = np.r_[0.5 if workload == "poisson" else 1.0,
                     rng.uniform(-0.3, 0.3, size=p)]
        mu = np.exp(coef[0] + X @ coef[1:])
        if workload == "poisson":
            y = rng.poisson(mu).astype(np.float64)
        else:  # NB2 as a gamma-Poisson mixture: mean mu, variance mu + a mu^2
            r = 1.0 / NB2_ALPHA
            y = rng.negative_binomial(r, r / (r + mu)).astype(np.float64)
            coef = np.r_[coef, NB2_ALPHA]
    Xc = np.empty((n, p + 1))
    Xc[:, 0] = 1.0
    Xc[:, 1:] = X
    return X, Xc, y, coef


# --------------------------------------------------------------------------
# likelihax: GLM API and the same models as custom log-likelihoods
# --------------------------------------------------------------------------


def ll_logistic(params, data):
    import jax.numpy as jnp

    eta = data["X"] @ params["beta"]
    return data["y"] * eta - jnp.logaddexp(0.0, eta)


def ll_poisson(params, data):
    import jax.numpy as jnp
    from jax.scipy.special import gammaln

    eta = data["X"] @ params["beta"]
    return data["y"] * eta - jnp.exp(eta) - gammaln(data["y"] + 1.0)


def ll_nb2(params, data):
    """NB2: log Gamma(y+r) - log Gamma(r) - log y! + r log(r/(r+mu)) + y log(mu/(r+mu))."""
    import jax.numpy as jnp
    from jax.scipy.special import gammaln

    y, eta = data["y"], data["X"] @ params["beta"]
    r = 1.0 / params["alpha"]
    log_r_mu = jnp.logaddexp(jnp.log(r), eta)  # log(r + mu)
    return (gammaln(y + r) - gammaln(r) - gammaln(y + 1.0)
            + r * (jnp.log(r) - log_r_mu) + y * (eta - log_r_mu))


def likelihax_methods(lx, workload, Xc, y):
    """(name, run, extract) for the GLM API and the custom log-likelihood."""
    import jax

    from likelihax.models.glm import glm

    family = {"logistic": "binomial", "poisson": "poisson",
              "nb2": "negative_binomial"}[workload]
    has_alpha = workload == "nb2"

    def glm_run():
        res = glm(y, Xc, family=family)
        jax.block_until_ready((res.params, res.se))
        return res

    def glm_extract(res):
        params, se = np.asarray(res.coef), np.asarray(res.se_coef)
        if has_alpha:
            params = np.r_[params, float(res.params["alpha"])]
            se = np.r_[se, float(res.se["alpha"])]
        return _out(params, se, res.fit)

    loglik = {"logistic": ll_logistic, "poisson": ll_poisson, "nb2": ll_nb2}[workload]
    k = Xc.shape[1]
    data = {"X": Xc, "y": y}
    start = {"beta": np.zeros(k)}
    constraints = None
    if workload != "logistic":  # a user's obvious start for a log link
        start["beta"][0] = np.log(y.mean())
    if has_alpha:
        start["alpha"] = 1.0
        constraints = {"alpha": lx.constraints.positive}

    def custom_run():
        fit = lx.fit(loglik, start, data, constraints=constraints)
        jax.block_until_ready((fit.params, fit.se))
        return fit

    def custom_extract(fit):
        params = np.asarray(fit.params["beta"], dtype=np.float64)
        se = np.asarray(fit.se["beta"], dtype=np.float64)
        if has_alpha:
            params = np.r_[params, float(fit.params["alpha"])]
            se = np.r_[se, float(fit.se["alpha"])]
        return _out(params, se, fit)

    return [(GLM_ROW, glm_run, glm_extract), (CUSTOM_ROW, custom_run, custom_extract)]


def _out(params, se, fit):
    return {"params": params, "se": se, "iters": int(np.asarray(fit.iterations)),
            "converged": bool(np.asarray(fit.converged))}


# --------------------------------------------------------------------------
# competitors
# --------------------------------------------------------------------------


def _glm_se_numpy(X, intercept, coef, weight_fn):
    """SEs from (X'WX)^-1 for a canonical-link GLM, intercept first.

    ``weight_fn(eta)`` gives W (mu(1-mu) for logit, mu for log).  Built blockwise
    so that no (N, p+1) copy with a constant column is made.
    """
    w = weight_fn(X @ coef + intercept)
    Xs = X * np.sqrt(w)[:, None]
    k = X.shape[1] + 1
    H = np.empty((k, k))
    H[0, 0] = w.sum()
    H[0, 1:] = H[1:, 0] = w @ X
    H[1:, 1:] = Xs.T @ Xs
    return np.sqrt(np.diag(np.linalg.inv(H)))


class _NB2Generic:
    """statsmodels GenericLikelihoodModel with a hand-written NB2 log-likelihood,
    as in statsmodels' "Maximum Likelihood Estimation (Generic models)" example
    (start: zero coefficients, alpha 0.5)."""

    @staticmethod
    def build():
        from scipy.special import gammaln
        from statsmodels.base.model import GenericLikelihoodModel

        class NB2(GenericLikelihoodModel):
            def loglikeobs(self, params):
                beta, alpha = params[:-1], params[-1]
                y, mu = self.endog, np.exp(self.exog @ beta)
                r = 1.0 / alpha
                return (gammaln(y + r) - gammaln(r) - gammaln(y + 1.0)
                        + r * np.log(r / (r + mu)) + y * np.log(mu / (r + mu)))

        return NB2


def competitor_methods(workload, X, Xc, y, notes):
    """(name, run, extract) for the competitors; the reference comes first."""
    import statsmodels.api as sm

    try:
        import sklearn.linear_model as sklm
    except ImportError as exc:
        sklm = None
        notes.append(f"scikit-learn skipped: {exc}")
    try:
        from glum import GeneralizedLinearRegressor
    except ImportError as exc:
        GeneralizedLinearRegressor = None
        notes.append(f"glum skipped: {exc}")
    n, k = Xc.shape
    methods = []

    def sm_glm_extract(r):
        res, bse = r
        return {"params": np.asarray(res.params), "se": np.asarray(bse),
                "iters": res.fit_history.get("iteration"),
                "converged": bool(res.converged)}

    def sm_mle_extract(r):
        res, bse = r
        rv = res.mle_retvals
        iters = rv.get("iterations")
        if iters is None and rv.get("fcalls") is not None:  # scipy bfgs reports calls
            iters = f"{rv['fcalls']} f / {rv.get('gcalls')} g calls"
        return {"params": np.asarray(res.params), "se": np.asarray(bse),
                "iters": iters, "converged": bool(rv.get("converged"))}

    if workload in ("logistic", "poisson"):
        fam = sm.families.Binomial() if workload == "logistic" else sm.families.Poisson()

        def sm_run():
            res = sm.GLM(y, Xc, family=fam).fit()
            return res, res.bse

        methods.append((f"statsmodels GLM {type(fam).__name__} (IRLS)", sm_run,
                        sm_glm_extract))

        if sklm is not None:
            if workload == "logistic":
                def sk_factory(solver):
                    def run():
                        m = sklm.LogisticRegression(C=np.inf, solver=solver,
                                                    max_iter=1000, tol=1e-10).fit(X, y)
                        return m, _logit_se_numpy(X, m.intercept_[0], m.coef_[0])
                    return run

                def sk_extract(r):
                    m, se = r
                    return {"params": np.r_[m.intercept_, m.coef_[0]], "se": se,
                            "iters": int(m.n_iter_[0]), "converged": None}

                methods.append(("scikit-learn newton-cholesky",
                                sk_factory("newton-cholesky"), sk_extract))
                methods.append(("scikit-learn lbfgs", sk_factory("lbfgs"), sk_extract))
            else:
                def sk_run():
                    m = sklm.PoissonRegressor(alpha=0.0, solver="newton-cholesky",
                                              max_iter=1000, tol=1e-10).fit(X, y)
                    return m, _glm_se_numpy(X, m.intercept_, m.coef_, np.exp)

                def sk_extract(r):
                    m, se = r
                    return {"params": np.r_[m.intercept_, m.coef_], "se": se,
                            "iters": int(m.n_iter_), "converged": None}

                methods.append(("scikit-learn newton-cholesky", sk_run, sk_extract))

        if GeneralizedLinearRegressor is not None:
            glum_family = "binomial" if workload == "logistic" else "poisson"
            correction = np.sqrt(n / (n - k))

            def glum_run():
                g = GeneralizedLinearRegressor(family=glum_family, alpha=0,
                                               robust=False, gradient_tol=1e-10)
                g.fit(X, y)
                return g, g.std_errors(X, y, dispersion=1.0)

            def glum_extract(r):
                g, se = r
                return {"params": np.r_[g.intercept_, g.coef_],
                        "se": np.asarray(se) / correction, "iters": int(g.n_iter_),
                        "converged": None}

            methods.append(("glum irls", glum_run, glum_extract))
        return methods

    # nb2
    def nb_factory(**kw):
        def run():
            res = sm.NegativeBinomial(y, Xc).fit(disp=0, **kw)
            return res, res.bse
        return run

    methods.append(("statsmodels NegativeBinomial newton",
                    nb_factory(method="newton", maxiter=100), sm_mle_extract))
    methods.append(("statsmodels NegativeBinomial bfgs, default fit() (maxiter=35)",
                    nb_factory(), sm_mle_extract))
    methods.append(("statsmodels NegativeBinomial bfgs maxiter=1000",
                    nb_factory(method="bfgs", maxiter=1000), sm_mle_extract))
    NB2 = _NB2Generic.build()
    start = np.r_[np.zeros(k), 0.5]

    def gen_factory(**kw):
        def run():
            res = NB2(y, Xc, extra_params_names=["alpha"]).fit(
                start_params=start, disp=0, **kw)
            return res, res.bse
        return run

    methods.append(("statsmodels GenericLikelihoodModel bfgs maxiter=1000",
                    gen_factory(method="bfgs", maxiter=1000), sm_mle_extract))
    methods.append(("statsmodels GenericLikelihoodModel default (nm, maxiter=500)",
                    gen_factory(), sm_mle_extract))
    return methods


# --------------------------------------------------------------------------
# timing and diagnostics
# --------------------------------------------------------------------------


class CompileEvents:
    """Collect jax.monitoring compile events into the current bucket."""

    def __init__(self):
        self.bucket = None
        self._registered = False

    def register(self):
        import jax

        try:
            jax.monitoring.register_event_duration_secs_listener(self._listen)
            self._registered = True
        except Exception:  # noqa: BLE001 - the breakdown is optional
            self._registered = False

    def _listen(self, event, duration, **_):
        if self.bucket is not None and "compile" in event:
            tot, cnt = self.bucket.get(event, (0.0, 0))
            self.bucket[event] = (tot + duration, cnt + 1)


EVENTS = CompileEvents()


def time_calls(run, repeats: int, slow_repeats: int):
    """One warm-up call, then ``repeats`` timed calls (``slow_repeats`` when the
    warm-up took more than SLOW_S).  Like ``bench_logistic.time_method``, plus
    the compile events of the first and of the warm calls."""
    seen: list[str] = []
    first_ev, warm_ev = {}, {}
    with warnings.catch_warnings(record=True) as caught, BackgroundLoad() as load:
        warnings.simplefilter("always")
        EVENTS.bucket = first_ev
        t0 = time.perf_counter()
        result = run()
        first = time.perf_counter() - t0
        EVENTS.bucket = warm_ev
        reps = repeats if first <= SLOW_S else min(repeats, slow_repeats)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            result = run()
            times.append(time.perf_counter() - t0)
        EVENTS.bucket = None
    for w in caught:
        msg = f"{w.category.__name__}: {str(w.message).splitlines()[0][:120]}"
        if msg not in seen:
            seen.append(msg)
    return {"times": times, "first": first, "result": result, "warnings": seen,
            "bg": load.fraction, "first_events": first_ev, "warm_events": warm_ev}


def profile_breakdown(run, depth: int = 3, min_frac: float = 0.03):
    """Run once under cProfile; return (total s, lines) of glm()'s call tree.

    Every callee of ``glm`` (and of its callees, ``depth`` levels) taking at
    least ``min_frac`` of the call is listed with its cumulative time.
    """
    prof = cProfile.Profile()
    with BackgroundLoad() as load:
        t0 = time.perf_counter()
        prof.enable()
        run()
        prof.disable()
        total = time.perf_counter() - t0
    stats = pstats.Stats(prof).stats
    children: dict = {}
    for func, (_cc, _nc, _tt, _ct, callers) in stats.items():
        for caller, vals in callers.items():
            children.setdefault(caller, []).append((func, vals[3], vals[0]))
    roots = [f for f in stats if f[2] == "glm" and f[0].endswith("_glm.py")]
    if not roots:
        return total, load.fraction, ["(glm() not found in the profile)"]

    def label(f):
        file, line, name = f
        if file == "~":
            return name
        p = Path(file)
        where = p.name if "likelihax" not in p.parts else "/".join(
            p.parts[p.parts.index("likelihax"):])
        return f"{name} ({where}:{line})"

    lines = [f"glm() under cProfile: {total:.3f} s"]

    def walk(f, level, seen):
        kids = sorted(children.get(f, []), key=lambda t: -t[1])
        for g, ct, calls in kids:
            if ct < min_frac * total or g in seen:
                continue
            lines.append(f"{'  ' * level}- {label(g)}: {ct:.3f} s "
                         f"({100 * ct / total:.0f}%){f', {calls} calls' if calls > 1 else ''}")
            if level < depth:
                walk(g, level + 1, seen | {g})

    walk(roots[0], 0, {roots[0]})
    return total, load.fraction, lines


# --------------------------------------------------------------------------
# one workload
# --------------------------------------------------------------------------


def _goal_competitor(workload, rows):
    """The row a target compares glm() with: the fastest competitor that reaches
    the reference optimum (for NB2, the fastest such statsmodels method)."""
    comps = [r for r in rows if not r["name"].startswith("likelihax") and r["ok"]]
    if workload == "nb2":
        comps = [r for r in comps if r["name"].startswith("statsmodels")]
    return min(comps, key=lambda r: r["median"]) if comps else None


def _goal_partners(workload, rows):
    best = _goal_competitor(workload, rows)
    names = [best["name"]] if best else []
    if workload in ("logistic", "poisson"):
        names.append(CUSTOM_ROW)
    return names


def run_workload(workload, args, lx, order_note):
    import jax

    notes: list[str] = []
    if args.wait_quiet > 0:
        frac = wait_until_quiet(args.wait_quiet)
        if frac is not None and frac >= BUSY_WARN:
            notes.append(f"machine still busy after waiting {args.wait_quiet:.0f} s "
                         f"(other processes {100 * frac:.0f}% CPU)")
    n0, p = WORKLOADS[workload]
    n = max(round(n0 * args.n_scale), 100 * (p + 1))
    k = p + 1
    print(f"\n=== {TITLES[workload]}: N={n:,}, p={p} (+ intercept), seed {args.seed}; "
          f"design matrix {n * k * 8 / 1e6:.0f} MB ===", flush=True)
    X, Xc, y, truth = make_data(workload, n, p, args.seed)
    methods = competitor_methods(workload, X, Xc, y, notes)
    if lx is not None:
        methods += likelihax_methods(lx, workload, Xc, y)
    rows, ref = [], None
    glm_timing = None
    for name, run, extract in methods:
        print(f"timing {name} ...", flush=True)
        try:
            # Only statsmodels gets fewer repeats when slow: a likelihax or other
            # warm-up may be slow because it compiles or the machine is busy.
            slow = args.slow_repeats if name.startswith("statsmodels") else args.repeats
            t = time_calls(run, args.repeats, slow)
            out = extract(t["result"])
        except Exception as exc:  # noqa: BLE001 - report, keep going
            import traceback

            traceback.print_exc()
            notes.append(f"{name} failed: {type(exc).__name__}: {exc}")
            continue
        if ref is None:
            ref = out
            ref["name"] = name
        row = {"name": name, "median": statistics.median(t["times"]),
               "min": min(t["times"]), "repeats": len(t["times"]),
               "first": t["first"], "bg": t["bg"], "iters": out["iters"],
               "converged": out["converged"],
               "d_params": max_rel(out["params"], ref["params"]),
               "d_se": max_rel(out["se"], ref["se"])}
        row["ok"] = row["d_params"] <= _tol(name) and row["d_se"] <= _tol(name)
        rows.append(row)
        print(f"  median {row['median']:.3f} s, first {row['first']:.3f} s, "
              f"iterations {row['iters']}, params diff {row['d_params']:.1e}, "
              f"SE diff {row['d_se']:.1e}", flush=True)
        for w in t["warnings"]:
            notes.append(f"{name} warned: {w}")
        if name.startswith("likelihax"):
            row["first_events"] = t["first_events"]
            row["warm_compiles"] = sum(c for e, (_, c) in t["warm_events"].items()
                                       if "backend_compile" in e)
            if out["converged"] is False:
                notes.append(f"{name}: converged is False")
        if name == GLM_ROW:
            glm_timing = run
        del t, out
    # Each target compares glm() with one other method; those two are timed
    # again back to back in alternating order (ABBA), so that both see the
    # same state of the machine (the benchmark machine's speed can drift by 20-50% between
    # minutes, and the first large fits of a process are often slower; the
    # per-method timing above runs the methods one after the other).
    runs = {name: run for name, run, _ in methods}
    for other in _goal_partners(workload, rows):
        if GLM_ROW not in runs or other not in runs:
            continue
        print(f"timing likelihax glm() and {other} interleaved (ABBA) ...", flush=True)
        # round_robin with two methods alternates their order: A B, B A, A B, ...
        paired = round_robin({GLM_ROW: runs[GLM_ROW], other: runs[other]},
                             2 * args.repeats)
        for r in rows:
            if r["name"] in paired:
                r.setdefault("paired", {})[other if r["name"] == GLM_ROW else GLM_ROW] = \
                    statistics.median(paired[r["name"]])
    profile = None
    if glm_timing is not None:
        print("profiling one more likelihax glm() call ...", flush=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            profile = profile_breakdown(glm_timing)
    del X, Xc, y
    if args.clear_caches:
        jax.clear_caches()
    return {"workload": workload, "n": n, "p": p, "rows": rows, "ref": ref,
            "notes": notes, "profile": profile, "order_note": order_note,
            "truth": truth}


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------


def report(res: dict) -> str:
    """Markdown section body for one workload (also printed to the console)."""
    rows, notes = res["rows"], list(res["notes"])
    glm_row = next((r for r in rows if r["name"] == GLM_ROW), None)
    custom = next((r for r in rows if r["name"] == CUSTOM_ROW), None)
    base = glm_row["median"] if glm_row else None
    md = [("| method | median s | min s | repeats | iterations | ratio (method / "
          "likelihax glm) | first call s | other CPU |"),
          "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ratio = f"{r['median'] / base:.2f}" if base else "n/a"
        it = "" if r["iters"] is None else str(r["iters"])
        bg = "n/a" if r["bg"] is None else f"{100 * r['bg']:.0f}%"
        md.append(f"| {r['name']} | {r['median']:.3f} | {r['min']:.3f} | "
                  f"{r['repeats']} | {it} | {ratio} | {r['first']:.3f} | {bg} |")
    busy = [r["name"] for r in rows if (r["bg"] or 0) > BUSY_WARN]
    if busy:
        notes.insert(0, f"WARNING: other processes used more than "
                     f"{100 * BUSY_WARN:.0f}% of the CPU while timing "
                     f"{', '.join(busy)}; those timings are unreliable, rerun on a "
                     "quiet machine")

    ref = res["ref"]
    md += ["", (f"Agreement with the reference, {ref['name'] if ref else 'n/a'} (max "
           "relative difference; glum SEs divided by its sqrt(N/(N-k)) factor):"), "",
           "| method | params | SEs | tolerance | converged flag | ok |",
           "|---|---:|---:|---:|---|---|"]
    for r in rows[1:]:
        conv = {True: "yes", False: "NO", None: "n/a"}[r["converged"]]
        md.append(f"| {r['name']} | {r['d_params']:.2e} | {r['d_se']:.2e} | "
                  f"{_tol(r['name']):.0e} | {conv} | {'yes' if r['ok'] else 'NO'} |")

    md += ["", ("likelihax first call in this process (cold in process: tracing and "
           f"XLA compilation included; persistent compilation cache off; "
           f"{res['order_note']}):"), ""]
    for r in rows:
        if r["name"].startswith("likelihax"):
            md.append(f"- {r['name']}: {r['first']:.3f} s"
                      f"{_compile_breakdown(r.get('first_events', {}))}; warm median "
                      f"{r['median']:.3f} s; XLA compilations during the warm calls: "
                      f"{r.get('warm_compiles', 'n/a')}")

    if res["profile"] is not None:
        _total, bg, lines = res["profile"]
        md += ["", ("Where likelihax glm() spends its time (one untimed call under "
               "cProfile, callees above 3%; other CPU "
               f"{'n/a' if bg is None else f'{100 * bg:.0f}%'}; cProfile attributes "
               "time per calling function, not per call path, so a function reached "
               "along two paths shows its total under each):"), "", "```"]
        md += lines + ["```"]
        if glm_row and custom and glm_row["iters"] and custom["iters"]:
            md += ["", (f"Per iteration (warm median / engine iterations): glm() "
                   f"{glm_row['median'] / glm_row['iters'] * 1e3:.1f} ms x "
                   f"{glm_row['iters']}, custom log-likelihood "
                   f"{custom['median'] / custom['iters'] * 1e3:.1f} ms x "
                   f"{custom['iters']}.")]

    md += ["", "Goals:", ""]
    for txt, ok in goals(res["workload"], rows):
        md.append(f"- {'PASS' if ok else 'FAIL'}: {txt}")
    if notes:
        md += ["", "Notes:", ""] + [f"- {x}" for x in notes]
    return "\n".join(md)


def goals(workload, rows):
    """Targets, each judged on the ABBA-interleaved medians of glm() and
    the method it is compared with (the table's sequential medians where the
    interleaved timing is missing)."""
    glm_row = next((r for r in rows if r["name"] == GLM_ROW), None)
    custom = next((r for r in rows if r["name"] == CUSTOM_ROW), None)
    if glm_row is None:
        return [("not checked: likelihax glm() was not measured", False)]
    out = []
    if not glm_row["ok"]:
        out.append(("likelihax glm() agrees with the reference", False))

    def pair(other):
        gp = glm_row.get("paired", {}).get(other["name"])
        op = other.get("paired", {}).get(GLM_ROW)
        if gp is None or op is None:
            return glm_row["median"], other["median"], "table medians"
        return gp, op, "interleaved ABBA medians"

    best = _goal_competitor(workload, rows)
    if workload in ("logistic", "poisson"):
        if best is not None:
            g, c, how = pair(best)
            out.append(((f"glm() faster than the fastest competitor ({how}: glm "
                        f"{g:.3f} s vs {best['name']} {c:.3f} s; ratio glm/competitor "
                        f"{g / c:.2f})"), g < c))
        else:
            out.append(("no competitor reached the reference optimum", False))
        if custom is not None:
            g, c, how = pair(custom)
            out.append(((f"glm() no slower than the custom log-likelihood ({how}: "
                        f"glm {g:.3f} s vs custom {c:.3f} s; ratio "
                        f"{g / c:.2f}; allowance "
                        f"{CUSTOM_ALLOWANCE:.2f}x for noise)"),
                        g <= CUSTOM_ALLOWANCE * c))
    else:
        if best is not None:
            g, c, how = pair(best)
            out.append(((f"glm() at least {NB2_FACTOR:.0f}x faster than the fastest "
                        f"statsmodels method reaching the optimum ({how}: "
                        f"{best['name']} {c:.3f} s / glm {g:.3f} s = "
                        f"{c / g:.1f}x)"), c >= NB2_FACTOR * g))
        else:
            out.append(("no statsmodels method reached the optimum", False))
        if custom is not None:
            g = glm_row["median"]
            out.append(((f"(information only) glm() vs custom NB2 "
                        f"log-likelihood: {g:.3f} s vs {custom['median']:.3f} s, ratio "
                        f"{g / custom['median']:.2f}"), True))
    return out


def section_heading(workload, n, p, backend):
    head = f"## GLM {TITLES[workload]}, N={n:,}, p={p}"
    return head if backend == "cpu" else f"{head}, JAX on {backend}"


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def main(args) -> None:
    import jax

    # Cold-in-process times must include compilation: no persistent cache.
    jax.config.update("jax_enable_compilation_cache", False)
    EVENTS.register()
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    bad = [w for w in workloads if w not in WORKLOADS]
    if bad:
        raise SystemExit(f"unknown workload(s) {bad}; choose from {list(WORKLOADS)}")
    info = machine_info()
    lx, lx_err = _import_likelihax()
    if lx is not None:
        info["likelihax"] = _lx_provenance(lx)
    print("Machine:")
    print(f"  CPU: {info['cpu']} ({info['cores']} cores)")
    print(f"  Python {info['python']}, numpy {info['numpy']}, jax {info['jax']}; "
          f"{info['versions']}; {info.get('likelihax', f'likelihax unavailable: {lx_err}')}")
    print(f"  JAX backend {info['jax_backend']}, device {info['jax_device']}; "
          "competitors run on the CPU")
    for b in info["blas"]:
        print(f"  BLAS: {b}")

    results = []
    for i, w in enumerate(workloads):
        order = ("first workload of this process" if i == 0 else
                 f"after {', '.join(workloads[:i])} in the same process, so shared "
                 "engine pieces may already be compiled")
        res = run_workload(w, args, lx, order)
        if lx is None:
            res["notes"].append(f"likelihax skipped: {lx_err}")
        body = report(res)
        heading = section_heading(w, res["n"], res["p"], info["jax_backend"])
        print(f"\n{heading}\n\n{body}\n", flush=True)
        results.append((heading, body))

    if args.write_results:
        cmdline = ("python benchmarks/bench_glm.py " + " ".join(sys.argv[1:])).strip()
        head = "\n".join([
            f"Command: `{cmdline}`", "",
            f"Date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}", "",
            (f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, "
            f"numpy {info['numpy']}, jax {info['jax']} (backend "
            f"{info['jax_backend']}, device {info['jax_device']}); {info['versions']}; "
            f"{info.get('likelihax', 'likelihax unavailable')}; BLAS: "
            f"{'; '.join(info['blas'])}; env: {info['blas_env'] or 'none set'}."), "",
            (f"Fit + standard errors, float64, seed {args.seed}, written by "
            "`benchmarks/bench_glm.py`. Median and min over warm repeats after one "
            f"warm-up call ({args.repeats}; {args.slow_repeats} for statsmodels "
            f"methods whose warm-up took over {SLOW_S:.0f} s); ratio = method median / likelihax glm() median "
            "(above 1: glm() faster); first call = the warm-up call; other CPU = share "
            "of the machine's CPU used by other processes while the method was timed "
            "(should be ~0%)."), "", ""])
        for heading, body in results:
            write_results(heading, head + body)
        print(f"wrote {RESULTS_PATH.relative_to(REPO_ROOT)}")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default="logistic,poisson,nb2",
                    help="comma-separated subset of logistic,poisson,nb2")
    ap.add_argument("--n-scale", type=float, default=1.0,
                    help="multiply every workload's N (e.g. 0.01 for a smoke run)")
    ap.add_argument("--repeats", type=int, default=5, help="timed warm repeats")
    ap.add_argument("--slow-repeats", type=int, default=3,
                    help="timed repeats for statsmodels methods whose warm-up "
                    f"took > {SLOW_S:.0f} s")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto",
                    help="JAX platform: auto (JAX's default), cpu, gpu, cuda, ...")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                    help="before each workload, wait up to SECONDS for other "
                    "processes to go quiet")
    ap.add_argument("--clear-caches", action="store_true",
                    help="jax.clear_caches() after each workload (each workload's "
                    "first call then compiles everything again)")
    ap.add_argument("--write-results", action="store_true",
                    help="write/replace this benchmark's sections in RESULTS.md")
    return ap.parse_args(argv)


if __name__ == "__main__":
    _args = parse_args()
    _select_jax_platform(_args.device)
    main(_args)
