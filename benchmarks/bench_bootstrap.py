"""Benchmark: nonparametric bootstrap of a logistic regression.

What is measured
----------------
One simulated data set (fixed seed; the simulation of ``bench_logistic.py``):
``N`` rows (default 1,000), ``p`` standard-normal covariates (default 5) plus
an intercept.  ``B`` (default 1,000) nonparametric bootstrap replicates, each
a refit of the logistic regression on a resample of the rows.

The resamples are drawn **once**, outside every timed region, as a ``(B, N)``
matrix of multinomial counts with the recipe of ``lx.bootstrap``
(``resample_counts(np.random.default_rng(boot_seed), N, B)``;
drawing in batches from one generator gives the same rows as one draw).  So
every method fits the *same* ``B`` resamples:

* ``statsmodels loop``: for each replicate, the row indices equivalent to its
  counts (``np.repeat(arange(N), counts)``, built untimed) and
  ``sm.Logit(y[idx], Xc[idx]).fit(disp=0).params`` (parameters only, no
  standard errors or summaries; row indexing is inside the timed loop);
* ``likelihax lx.bootstrap(fit)``: ``fit = lx.fit(loglik, ...)`` with the
  custom per-observation logistic log-likelihood of ``bench_logistic.py``
  (exact Newton; fitted untimed), then ``lx.bootstrap(fit, B, seed=boot_seed)``
  (its own draws, identical to the counts above: checked by comparing the
  replicates with statsmodels' one by one);
* ``likelihax lx.bootstrap(glm.fit)``: ``lx.glm(y, Xc, family="binomial")``
  (its canonical-link model: natural-parameter log-likelihood with its
  constant terms precomputed, fitted by Newton, which equals Fisher scoring
  here), then
  ``lx.bootstrap(glm_result.fit, B, seed=boot_seed)``;
* ``jax.vmap reference Newton``: a hand-written jitted Newton with the analytic
  Hessian ``X'WX`` (frequency weights = the counts), a fixed number of
  iterations (default 6) from the full-sample estimate (the warm start that
  ``lx.bootstrap`` uses too), float64, ``jax.vmap`` over the ``B`` weight
  vectors; the count matrix is transferred inside the timed call.  For
  context: what a bare batched Newton costs on this machine.

Warm: one untimed call, then ``--repeats`` timed calls (``--sm-repeats`` for
statsmodels); median and min.  Cold: for the likelihax rows the first
``lx.bootstrap`` call of the process, compilation included (persistent
compilation cache switched off; ``lx.fit`` / ``lx.glm`` were called before
it, untimed for the table but reported), with a ``jax.monitoring`` breakdown.

Agreement: bootstrap SEs (standard deviation of the replicates, ddof 1) of
every method against statsmodels' (max relative difference), and the largest
absolute difference of the replicate estimates, row by row, where no method
left a replicate out.  Failed replicates: statsmodels fits that raise, do not
report convergence or give non-finite estimates; likelihax's ``n_failed``; for
the reference Newton, replicates whose final gradient is not below 1e-6.

Target: ``lx.bootstrap`` warm at least 10x faster than the statsmodels
loop warm (ratio statsmodels / likelihax >= 10), cold reported separately.
When the target is missed, a diagnosis times the parts of one batched Newton
iteration over the ``B`` replicates: the engine's own vmapped evaluation
(value, gradient, Hessian / expected information) and Newton direction, and
hand-written equivalents (``jax.vmap(value_and_grad)``, forward-over-reverse
Hessian, analytic ``X'WX``, batched ``eigh`` and Cholesky solve, the
``logaddexp`` / ``exp`` passes over ``B x N`` elements).

Rerun
-----
From the repository root::

    python benchmarks/bench_bootstrap.py                          # ~1 min
    python benchmarks/bench_bootstrap.py --n-boot 200 --sm-repeats 1  # smoke test
    python benchmarks/bench_bootstrap.py --wait-quiet 300 --write-results

Needs statsmodels (``pip install -e .[bench]``).
"""

from __future__ import annotations

import argparse
import datetime
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
    _lx_provenance,
    _select_jax_platform,
    loglik,
    machine_info,
    simulate,
    time_method,
    wait_until_quiet,
    write_results,
)

GOAL_FACTOR = 10.0  # statsmodels warm / likelihax warm must be >= this
SE_TOL = 1e-6  # max relative SE difference to statsmodels (same resamples)
REF_GTOL = 1e-6  # reference Newton: max |gradient| for a "converged" replicate
SM_ROW = "statsmodels Logit loop"
LX_ROW = "likelihax lx.bootstrap(fit), Newton"
GLM_ROW = "likelihax lx.bootstrap(glm.fit)"
REF_ROW = "jax.vmap reference Newton, fixed iterations"


# --------------------------------------------------------------------------
# data and resamples
# --------------------------------------------------------------------------


def draw_counts(n: int, n_boot: int, boot_seed: int) -> np.ndarray:
    """(B, N) multinomial counts: the recipe of ``lx.bootstrap`` (no fit weights)."""
    rng = np.random.default_rng(boot_seed)
    from likelihax.inference._bootstrap import resample_counts

    return resample_counts(rng, n, n_boot)


# --------------------------------------------------------------------------
# methods
# --------------------------------------------------------------------------


def statsmodels_loop(Xc, y, index_sets):
    """Params of every replicate (B, k) and a failure mask; params only."""
    import statsmodels.api as sm

    B, k = len(index_sets), Xc.shape[1]
    out = np.full((B, k), np.nan)
    failed = np.zeros(B, bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation / convergence: counted below
        for b, idx in enumerate(index_sets):
            try:
                res = sm.Logit(y[idx], Xc[idx]).fit(disp=0)
            except Exception:  # noqa: BLE001 - perfect separation, singular ...
                failed[b] = True
                continue
            out[b] = res.params
            failed[b] = (not res.mle_retvals.get("converged", False)) or \
                not np.all(np.isfinite(res.params))
    return out, failed


def make_reference(Xc, y, iters: int):
    """jit(vmap(fixed-iteration Newton with analytic X'WX)) over weight rows."""
    import jax
    import jax.numpy as jnp

    def newton(beta0, w, Xd, yd):
        def body(_, b):
            mu = jax.nn.sigmoid(Xd @ b)
            g = Xd.T @ (w * (yd - mu))
            H = (Xd * (w * mu * (1.0 - mu))[:, None]).T @ Xd
            L = jnp.linalg.cholesky(H)
            return b + jax.scipy.linalg.cho_solve((L, True), g)

        b = jax.lax.fori_loop(0, iters, body, beta0)
        mu = jax.nn.sigmoid(Xd @ b)
        return b, jnp.max(jnp.abs(Xd.T @ (w * (yd - mu))))

    batched = jax.jit(jax.vmap(newton, in_axes=(None, 0, None, None)))
    with jax.enable_x64(True):
        Xd, yd = jax.device_put(Xc), jax.device_put(y)

    def run(beta0, counts):
        with jax.enable_x64(True):
            W = jax.device_put(np.asarray(counts, np.float64))
            b, gmax = batched(jnp.asarray(beta0, jnp.float64), W, Xd, yd)
            jax.block_until_ready((b, gmax))
        return np.asarray(b), np.asarray(gmax)

    return run


def first_call(fn, events: dict):
    """Time fn() once with jax.monitoring compile events collected into ``events``."""
    _EVENTS["bucket"] = events
    try:
        with BackgroundLoad() as load:
            t0 = time.perf_counter()
            out = fn()
            dt = time.perf_counter() - t0
    finally:
        _EVENTS["bucket"] = None
    return out, dt, load.fraction


_EVENTS: dict = {"bucket": None}


def _register_events() -> None:
    import jax

    def listen(event, duration, **_):
        bucket = _EVENTS["bucket"]
        if bucket is not None and "compile" in event:
            tot, cnt = bucket.get(event, (0.0, 0))
            bucket[event] = (tot + duration, cnt + 1)

    try:
        jax.monitoring.register_event_duration_secs_listener(listen)
    except Exception:  # noqa: BLE001, S110 - the breakdown is optional
        pass


# --------------------------------------------------------------------------
# diagnosis: where one batched Newton iteration spends its time
# --------------------------------------------------------------------------


def _median_time(fn, reps: int = 7) -> float:
    import jax

    jax.block_until_ready(fn())
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def diagnose(lx_fit, glm_fit, Xc, y, counts) -> list[tuple[str, float]]:
    """Time the parts of one vmapped Newton iteration over all B replicates."""
    import jax

    with jax.enable_x64(True):
        return _diagnose(lx_fit, glm_fit, Xc, y, counts)


def _diagnose(lx_fit, glm_fit, Xc, y, counts):
    import jax
    import jax.numpy as jnp

    B, n = counts.shape
    k = Xc.shape[1]
    X = Xc[:, 1:]
    W = jax.device_put(np.asarray(counts, np.float64))
    Xd, Xcd, yd = jax.device_put(X), jax.device_put(Xc), jax.device_put(y)
    rng = np.random.default_rng(0)
    U = jnp.asarray(rng.normal(0, 0.1, size=(B, k)))  # near the optimum (~0)
    rows: list[tuple[str, float]] = []

    def add(label, fn):
        try:
            rows.append((label, _median_time(fn)))
        except Exception as exc:  # noqa: BLE001 - keep the other parts
            rows.append((f"{label}: FAILED {type(exc).__name__}: {exc}", float("nan")))

    # Hand-written, with the user's loglik (params pytree from a flat vector).
    def negll(u, w):
        params = {"intercept": u[0], "beta": u[1:]}
        return -jnp.sum(w * loglik(params, {"X": Xd, "y": yd}))

    def vgh(u, w):
        def gaux(v):
            f, g = jax.value_and_grad(negll)(v, w)
            return g, (f, g)

        H, (f, g) = jax.jacfwd(gaux, has_aux=True)(u)
        return f, g, H

    def analytic(u, w):
        eta = Xcd @ u
        mu = jax.nn.sigmoid(eta)
        f = -jnp.sum(w * (yd * eta - jnp.logaddexp(0.0, eta)))
        g = -(Xcd.T @ (w * (yd - mu)))
        H = (Xcd * (w * mu * (1.0 - mu))[:, None]).T @ Xcd
        return f, g, H

    v_val = jax.jit(jax.vmap(negll))
    v_vg = jax.jit(jax.vmap(jax.value_and_grad(negll)))
    v_vgh = jax.jit(jax.vmap(vgh))
    v_an = jax.jit(jax.vmap(analytic))
    add("vmap(value) of the custom loglik (B x N logaddexp + X @ beta)",
        lambda: v_val(U, W))
    add("vmap(value_and_grad) of the custom loglik", lambda: v_vg(U, W))
    add("vmap(value, grad, Hessian by jacfwd(grad)) of the custom loglik "
        "(the engine's recipe)", lambda: v_vgh(U, W))
    add("vmap(analytic value, grad, X'WX)", lambda: v_an(U, W))

    xwx = jax.jit(lambda C, u: jnp.einsum(
        "bn,ni,nj->bij", C * jax.nn.sigmoid(u @ Xcd.T) * (1 - jax.nn.sigmoid(
            u @ Xcd.T)), Xcd, Xcd))
    add("batched X'WX as one einsum over (B, N) weights (no vmap)",
        lambda: xwx(W, U))

    H = jax.device_put(np.asarray(v_an(U, W)[2]))
    g = jnp.asarray(rng.normal(size=(B, k)))
    # (each jitted function is built once: a jit of a fresh lambda per call
    # would recompile every time)
    eigh = jax.jit(jax.vmap(jnp.linalg.eigh))
    chol = jax.jit(jax.vmap(lambda A, b: jax.scipy.linalg.cho_solve(
        (jnp.linalg.cholesky(A), True), b)))
    add("batched eigh of B (k x k) Hessians", lambda: eigh(H))
    add("batched Cholesky solve of B (k x k) systems", lambda: chol(H, g))

    ETA = jnp.asarray(rng.normal(size=(B, n)))
    lae = jax.jit(lambda e: jnp.logaddexp(0.0, e))
    ex = jax.jit(jnp.exp)
    sig = jax.jit(jax.nn.sigmoid)
    xb = jax.jit(jax.vmap(lambda u: Xcd @ u))
    add("logaddexp(0, eta) over B x N elements", lambda: lae(ETA))
    add("exp(eta) over B x N elements", lambda: ex(ETA))
    add("sigmoid(eta) over B x N elements", lambda: sig(ETA))
    add("batched X @ beta (B x N x k)", lambda: xb(U))

    from likelihax.inference._bootstrap import resample_counts

    add("draw of the B x N resampling counts (inside lx.bootstrap)",
        lambda: resample_counts(np.random.default_rng(0), n, B))

    add("  for comparison: numpy multinomial(N, 1/N) counts (the textbook recipe)",
        lambda: np.random.default_rng(0).multinomial(n, np.full(n, 1.0 / n), size=B))

    # The engine's own pieces (internal API; skipped if it moved).
    try:
        from likelihax.objective import Problem
        from likelihax.optimize import newton_direction
    except ImportError as exc:
        rows.append((f"engine pieces skipped: {exc}", float("nan")))
        return rows
    for name, fit in (("Newton (custom loglik)", lx_fit), ("glm", glm_fit)):
        st = fit.setup.program
        data = fit.setup.data
        try:
            fixed = [jnp.asarray(x) for x in _fixed(fit)]

            def make(w, st=st, data=data, fixed=fixed):
                return Problem(st.loglik, st.spec, fixed, data, st.nobs, st.chunk,
                               w, st.fisher, None)

            if st.solver.information == "expected":
                ev = jax.jit(jax.vmap(lambda u, w: make(w).value_grad_fisher(u)))
            else:
                ev = jax.jit(jax.vmap(lambda u, w: make(w).value_grad_hessian(u)))
            add(f"engine {name}: vmap(evaluate f, g, information) "
                f"(chunk={st.chunk})", lambda ev=ev: ev(U, W))
        except Exception as exc:  # noqa: BLE001
            msg = f"engine {name} evaluation skipped: {type(exc).__name__}: {exc}"
            rows.append((msg, float("nan")))
    import likelihax as lx

    for name, fit in (("custom", lx_fit), ("glm", glm_fit)):
        add(f"whole lx.bootstrap({name}) with batch_size=B (one batch, one program)",
            lambda fit=fit: lx.bootstrap(fit, B, seed=1, batch_size=B).replicates)
    nd = jax.jit(jax.vmap(lambda A, b: newton_direction(A, b)[0]))
    add("engine newton_direction (scaled eigh + solve), vmapped", lambda: nd(H, g))
    return rows


def _fixed(fit):
    from likelihax.inference import Refitter

    return Refitter(fit, None, None, "bootstrap").fixed


def engine_iterations(fit, counts):
    """Accepted Newton steps per replicate, from the engine's batched refit."""
    import jax
    import jax.numpy as jnp

    from likelihax.inference import Refitter

    # As lx.bootstrap refits: no polishing step, the batched log-likelihood.
    r = Refitter(fit, None, None, "bootstrap", polish=False)
    with jax.enable_x64(True):
        return np.asarray(r.reweighted(jnp.asarray(counts, jnp.float64))["iterations"])


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------


def se_of(R: np.ndarray) -> np.ndarray:
    return np.std(R, axis=0, ddof=1)


def build_report(ctx: dict) -> tuple[str, str]:
    rows, notes = ctx["rows"], ctx["notes"]
    sm = next(r for r in rows if r["name"] == SM_ROW)
    lines, md = [], []
    hdr = (f"{'method':<46}{'median s':>10}{'min s':>9}{'reps':>6}{'1st call s':>12}"
           f"{'sm/method':>11}{'failed':>8}{'SE rel.diff':>13}{'max|dparam|':>13}"
           f"{'other CPU':>11}")
    lines += [hdr, "-" * len(hdr)]
    md += [("| method | warm median s | min s | repeats | first call s | "
            "ratio statsmodels / method | failed replicates | SE max rel. diff "
            "vs statsmodels | max abs. diff of replicate estimates | other CPU |"),
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ratio = sm["median"] / r["median"]
        dse = "ref" if r is sm else f"{r['d_se']:.1e}"
        dpar = "ref" if r is sm else ("n/a" if r["d_par"] is None
                                      else f"{r['d_par']:.1e}")
        bg = "n/a" if r.get("bg") is None else f"{100 * r['bg']:.0f}%"
        lines.append(f"{r['name']:<46}{r['median']:>10.4f}{r['min']:>9.4f}"
                     f"{r['repeats']:>6}{r['first']:>12.3f}{ratio:>11.2f}"
                     f"{r['failed']:>8}{dse:>13}{dpar:>13}{bg:>11}")
        md.append(f"| {r['name']} | {r['median']:.4f} | {r['min']:.4f} | "
                  f"{r['repeats']} | {r['first']:.3f} | {ratio:.2f} | {r['failed']} "
                  f"| {dse} | {dpar} | {bg} |")
    busy = [r["name"] for r in rows if (r.get("bg") or 0) > BUSY_WARN]
    if busy:
        notes.insert(0, f"WARNING: other processes used more than "
                     f"{100 * BUSY_WARN:.0f}% of the CPU while timing "
                     f"{', '.join(busy)}; those timings are unreliable")

    # cold
    cl = ["", ("likelihax first calls in this process (persistent compilation "
               "cache off; compile included):")]
    for c in ctx["cold"]:
        cl.append(f"  {c['label']}: {c['s']:.3f} s{_compile_breakdown(c['events'])}"
                  f" (other CPU {100 * (c['bg'] or 0):.0f}%)")
    lines += cl
    md += ["", cl[1], ""] + ["- " + x.strip() for x in cl[2:]]

    # SEs
    se_lines = ["", "Bootstrap SEs (" + ", ".join(ctx["labels"]) + "):"]
    for r in rows:
        se_lines.append(f"  {r['name']:<46}" + " ".join(f"{v:.6f}" for v in r["se"]))
    lines += se_lines
    md += ["", se_lines[1], "", "```"] + [x[2:] for x in se_lines[2:]] + ["```"]

    # targets
    gl = ["", (f"Target: lx.bootstrap warm at least {GOAL_FACTOR:.0f}x "
               "faster than the statsmodels loop warm; SEs agree (same resamples) "
               f"to {SE_TOL:.0e} relative:")]
    ok_all = True
    for name in (LX_ROW, GLM_ROW):
        r = next((x for x in rows if x["name"] == name), None)
        if r is None:
            continue
        ratio = sm["median"] / r["median"]
        ok = ratio >= GOAL_FACTOR
        ok_all &= ok
        gl.append(f"  [{'PASS' if ok else 'FAIL'}] {name}: {r['median']:.4f} s vs "
                  f"statsmodels {sm['median']:.4f} s, ratio {ratio:.2f}x (goal >= "
                  f"{GOAL_FACTOR:.0f}x; needs <= {sm['median'] / GOAL_FACTOR:.4f} s); "
                  f"cold {r['first']:.3f} s")
        okse = r["d_se"] <= SE_TOL
        gl.append(f"  [{'PASS' if okse else 'FAIL'}] {name}: SEs vs statsmodels max "
                  f"rel. diff {r['d_se']:.1e}")
    ref = next((x for x in rows if x["name"] == REF_ROW), None)
    if ref is not None:
        gl.append(f"  (context) {REF_ROW}: {ref['median']:.4f} s, ratio "
                  f"{sm['median'] / ref['median']:.2f}x")
    lines += gl
    md += ["", gl[1], ""] + ["- " + x.strip().replace("[PASS]", "PASS:")
                             .replace("[FAIL]", "FAIL:") for x in gl[2:]]
    ctx["goal_ok"] = ok_all

    diag = ctx.get("diag")
    if diag:
        dl = ["", (f"Diagnosis: one batched iteration over B={ctx['B']} replicates "
                   f"(N={ctx['n']}, k={ctx['k']}, float64; median of 7 calls, jit'd, "
                   "after a warm-up):")]
        for label, s in diag:
            dl.append(f"  {s * 1e3:9.2f} ms  {label}" if np.isfinite(s)
                      else f"        n/a  {label}")
        for line in ctx.get("diag_notes", []):
            dl.append("  " + line)
        lines += dl
        md += ["", dl[1], "", "```"] + [x[2:] for x in dl[2:]] + ["```"]

    if notes:
        lines += ["", "Notes:"] + [f"  - {x}" for x in notes]
        md += ["", "Notes:", ""] + [f"- {x}" for x in notes]
    return "\n".join(lines), "\n".join(md)


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def main(args) -> None:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_compilation_cache", False)  # cold = compile included
    _register_events()
    notes: list[str] = []
    if args.wait_quiet > 0:
        frac = wait_until_quiet(args.wait_quiet)
        if frac is not None and frac >= BUSY_WARN:
            notes.append(f"machine still busy after waiting {args.wait_quiet:.0f} s "
                         f"(other processes {100 * frac:.0f}% CPU)")
    info = machine_info()
    lx, lx_err = _import_likelihax()
    if lx is None:
        raise SystemExit(f"likelihax unavailable: {lx_err}")
    info["likelihax"] = _lx_provenance(lx)
    print("Machine:")
    print(f"  CPU: {info['cpu']} ({info['cores']} cores)")
    print(f"  Python {info['python']}, numpy {info['numpy']}, jax {info['jax']}; "
          f"{info['versions']}; {info['likelihax']}")
    print(f"  JAX backend {info['jax_backend']}, device {info['jax_device']}")
    for b in info["blas"]:
        print(f"  BLAS: {b}")

    n, p, B = args.n, args.p, args.n_boot
    k = p + 1
    X, y, _ = simulate(n, p, args.seed)
    Xc = np.column_stack([np.ones(n), X])
    counts = draw_counts(n, B, args.boot_seed)
    index_sets = [np.repeat(np.arange(n), c) for c in counts]
    print(f"\nData: N={n:,}, p={p} (+ intercept), seed {args.seed}; B={B:,} "
          f"resamples, seed {args.boot_seed}", flush=True)

    rows, cold = [], []

    # ---- likelihax, custom log-likelihood (Newton): cold first, then warm
    start = {"intercept": 0.0, "beta": jnp.zeros(p)}
    fit, t_fit, bg_fit = first_call(
        lambda: lx.fit(loglik, start, {"X": X, "y": y}), ev_fit := {})
    cold.append({"label": "lx.fit (custom loglik), untimed in the table", "s": t_fit,
                 "events": ev_fit, "bg": bg_fit})
    labels = list(fit.labels)
    order = [labels.index("intercept")] + [labels.index(f"beta[{j}]") for j in range(p)]
    if not bool(np.asarray(fit.converged)):
        notes.append("lx.fit did not converge on the full sample")

    def lx_boot(f):
        return lambda: lx.bootstrap(f, B, seed=args.boot_seed)

    print(f"timing {LX_ROW} ...", flush=True)
    boot, t_cold, bg_cold = first_call(lx_boot(fit), ev := {})
    cold.append({"label": f"{LX_ROW} (cold)", "s": t_cold, "events": ev, "bg": bg_cold})
    times, _, boot, warns, bg = time_method(lx_boot(fit), args.repeats)
    notes += [f"{LX_ROW} warned: {w}" for w in warns]
    rows.append({"name": LX_ROW, "median": statistics.median(times),
                 "min": min(times), "repeats": len(times), "first": t_cold,
                 "failed": boot.n_failed, "bg": bg,
                 "R": boot.replicates[:, order]})

    # ---- likelihax GLM
    g, t_glm, bg_glm = first_call(lambda: lx.glm(y, Xc, family="binomial"),
                                  ev_glm := {})
    cold.append({"label": "lx.glm(family='binomial'), untimed in the table",
                 "s": t_glm, "events": ev_glm, "bg": bg_glm})
    print(f"timing {GLM_ROW} ...", flush=True)
    gboot, t_gcold, bg_gcold = first_call(lx_boot(g.fit), ev := {})
    cold.append({"label": f"{GLM_ROW} (cold)", "s": t_gcold, "events": ev,
                 "bg": bg_gcold})
    times, _, gboot, warns, bg = time_method(lx_boot(g.fit), args.repeats)
    notes += [f"{GLM_ROW} warned: {w}" for w in warns]
    rows.append({"name": GLM_ROW, "median": statistics.median(times),
                 "min": min(times), "repeats": len(times), "first": t_gcold,
                 "failed": gboot.n_failed, "bg": bg, "R": gboot.replicates})

    # ---- plain jax.vmap reference Newton
    print(f"timing {REF_ROW} ...", flush=True)
    ref_run = make_reference(Xc, y, args.newton_iters)
    beta_hat = np.asarray(fit.params_flat, float)[np.asarray(fit.spec.reported)][order]
    times, t_ref, (Rref, gmax), _, bg = time_method(
        lambda: ref_run(beta_hat, counts), args.repeats)
    ref_fail = ~(np.isfinite(gmax) & (gmax < REF_GTOL)) | ~np.all(np.isfinite(Rref), 1)
    rows.append({"name": REF_ROW,
                 "median": statistics.median(times), "min": min(times),
                 "repeats": len(times), "first": t_ref, "failed": int(ref_fail.sum()),
                 "bg": bg, "R": Rref[~ref_fail], "mask": ~ref_fail})

    # ---- statsmodels loop (the reference for agreement)
    print(f"timing {SM_ROW} ({args.sm_repeats} warm repeats) ...", flush=True)
    times, t_sm, (Rsm, sm_fail), _, bg = time_method(
        lambda: statsmodels_loop(Xc, y, index_sets), args.sm_repeats)
    sm_row = {"name": SM_ROW, "median": statistics.median(times), "min": min(times),
              "repeats": len(times), "first": t_sm, "failed": int(sm_fail.sum()),
              "bg": bg, "R": Rsm[~sm_fail], "mask": ~sm_fail}
    rows.insert(0, sm_row)

    # ---- agreement
    se_sm = se_of(sm_row["R"])
    for r in rows:
        r["se"] = se_of(r["R"])
        r["d_se"] = float(np.max(np.abs(r["se"] - se_sm) / se_sm))
        r["d_par"] = None
        if r is sm_row:
            continue
        mask = r.get("mask")
        if r["failed"] == 0 and sm_row["failed"] == 0:
            r["d_par"] = float(np.max(np.abs(r["R"] - Rsm)))
        elif mask is not None:  # both masks known: compare the common replicates
            both = mask & ~sm_fail
            r["d_par"] = float(np.max(np.abs(Rref[both] - Rsm[both])))
        else:
            notes.append(f"{r['name']}: replicates left out (by it or by "
                         "statsmodels), so they are compared through the SEs only")
    notes.append("statsmodels times parameters only (no SEs or summaries); "
                 "likelihax rows include lx.bootstrap's own resampling draws, "
                 "identical to the count matrix the other rows use (see max abs. "
                 "diff of replicate estimates)")
    notes.append(f"reference Newton starts at the full-sample estimate (as "
                 f"lx.bootstrap does) and runs {args.newton_iters} iterations; a "
                 f"replicate counts as failed unless max|gradient| < {REF_GTOL:g}")

    ctx = {"rows": rows, "cold": cold, "notes": notes, "labels": labels,
           "B": B, "n": n, "k": k}
    console, md = build_report(ctx)
    goal_ok = ctx["goal_ok"]
    if not goal_ok or args.diagnose:
        print("diagnosing ...", flush=True)
        with BackgroundLoad() as load:
            ctx["diag"] = diagnose(fit, g.fit, Xc, y, counts)
        dn = []
        try:
            for name, f, r in ((LX_ROW, fit, rows[1]), (GLM_ROW, g.fit, rows[2])):
                it = engine_iterations(f, counts)
                steps = int(it.max()) + 1  # + the first trial at the start
                dn.append(f"{name}: accepted steps per replicate median "
                          f"{np.median(it):.0f}, max {it.max()} -> the vmapped "
                          f"while_loop runs >= {steps} evaluations for every "
                          f"replicate; warm {r['median'] * 1e3:.0f} ms / {steps} = "
                          f"{r['median'] / steps * 1e3:.1f} ms per loop step")
        except Exception as exc:  # noqa: BLE001 - internal API, optional
            dn.append(f"engine iteration counts unavailable: {exc}")
        per_rep = max(n, 1) * (k + 4) * 8 * 4  # lx.bootstrap's default rule
        bs = int(max(1, min(B, (256 << 20) // per_rep)))
        nb = -(-B // bs)
        dn.append(f"lx.bootstrap's default batch_size for N={n}, k={k}: {bs} -> "
                  f"{nb} batch(es) of sizes "
                  f"{sorted({min(bs, B - a) for a in range(0, B, bs)}, reverse=True)}"
                  + (" (each distinct batch size is its own compiled program: "
                     "the cold time compiles twice)" if B % bs and nb > 1 else ""))
        dn.append(f"(other processes used {100 * (load.fraction or 0):.0f}% of the "
                  "CPU during the diagnosis)")
        ctx["diag_notes"] = dn
        ctx["notes"] = [x for x in notes if not x.startswith("WARNING")]
        console, md = build_report(ctx)
    print()
    print(console)

    if args.write_results:
        cmdline = ("python benchmarks/bench_bootstrap.py "
                   + " ".join(sys.argv[1:])).strip()
        head = "\n".join([
            f"Command: `{cmdline}`", "",
            f"Date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}", "",
            (f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, "
             f"numpy {info['numpy']}, jax {info['jax']} (backend "
             f"{info['jax_backend']}, device {info['jax_device']}); {info['versions']}; "
             f"{info['likelihax']}; BLAS: {'; '.join(info['blas'])}; env: "
             f"{info['blas_env'] or 'none set'}."), "",
            (f"{B:,} nonparametric bootstrap replicates, the same resamples for every "
             f"method (multinomial counts, seed {args.boot_seed}), float64, data "
             f"seed {args.seed}, written by `benchmarks/bench_bootstrap.py`. Warm "
             f"median and min after one untimed call ({args.repeats} repeats; "
             f"{args.sm_repeats} for statsmodels); first call = for likelihax the "
             "first lx.bootstrap call of the process (compile included, persistent "
             "cache off), otherwise the untimed warm-up; other CPU = share of the "
             "machine's CPU used by other processes while the method was timed."),
            "", ""])
        heading = f"## Bootstrap, logistic regression, N={n:,}, p={p}, B={B:,}"
        if info["jax_backend"] != "cpu":
            heading += f", JAX on {info['jax_backend']}"
        write_results(heading, head + md)
        print(f"\nwrote {RESULTS_PATH.relative_to(REPO_ROOT)}")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="rows (default 1,000)")
    ap.add_argument("--p", type=int, default=5, help="covariates besides intercept")
    ap.add_argument("--n-boot", type=int, default=1000, help="replicates B")
    ap.add_argument("--repeats", type=int, default=5, help="warm repeats, JAX rows")
    ap.add_argument("--sm-repeats", type=int, default=3,
                    help="warm repeats of the statsmodels loop")
    ap.add_argument("--seed", type=int, default=0, help="data seed")
    ap.add_argument("--boot-seed", type=int, default=1, help="resampling seed")
    ap.add_argument("--newton-iters", type=int, default=6,
                    help="iterations of the reference Newton")
    ap.add_argument("--diagnose", action="store_true",
                    help="print the diagnosis even when the goal passes")
    ap.add_argument("--device", default="auto",
                    help="JAX platform: auto (JAX's default), cpu, gpu, cuda, ...")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                    help="first wait up to SECONDS for other processes to go quiet")
    ap.add_argument("--write-results", action="store_true",
                    help="write/replace this benchmark's section in RESULTS.md")
    return ap.parse_args(argv)


if __name__ == "__main__":
    _args = parse_args()
    _select_jax_platform(_args.device)
    main(_args)
