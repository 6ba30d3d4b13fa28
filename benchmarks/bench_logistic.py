"""Benchmark: unpenalized logistic regression, fit + standard errors.

What is measured
----------------
One simulated data set (fixed seed): ``N`` rows (default 1,000,000), ``p``
standard-normal float64 covariates (default 20) plus an intercept, true
coefficients drawn uniform(-0.5, 0.5), ``y ~ Bernoulli(sigmoid(eta))``.

On that same data, in the same process, each method is timed doing
"fit + standard errors" (everything a user needs for a coefficient table):

* statsmodels ``sm.Logit(y, X_with_const).fit(disp=0)`` and ``.bse``;
* scikit-learn ``LogisticRegression(C=np.inf, ...)`` (unpenalized; ``penalty=``
  is deprecated since 1.8) with ``solver="lbfgs"`` and
  ``solver="newton-cholesky"``, each followed by standard errors from the
  inverse observed information ``(X'WX)^-1`` computed with numpy (timed);
* glum ``GeneralizedLinearRegressor(family="binomial", alpha=0)`` and
  ``std_errors(X, y, dispersion=1)`` (timed);
* likelihax ``lx.fit(loglik, start, data)`` and ``fit.se``, with
  ``jax.block_until_ready`` on the results.  Two rows: data passed as numpy
  arrays (the plain user call, host-to-device transfer included) and data
  already placed on the JAX device with ``jax.device_put`` (transfer excluded;
  matters on a GPU).

Data preparation (simulation, adding the constant column for statsmodels,
``device_put``) is outside the timed region.  The global JAX configuration is
left alone (likelihax computes in float64 in a scoped x64 mode by itself); the
script's own JAX arrays (device-resident data, hardware measurements) are made
inside ``jax.enable_x64(True)``, so every method works in float64.

WARM time: one untimed warm-up call, then ``--repeats`` timed calls; the table
shows the median and the minimum.  For likelihax the warm-up includes JIT
compilation, which is why there is also a COLD time: the first ``lx.fit`` call
in a fresh Python process (``--cold`` mode of this script, launched with
``subprocess``), with JAX's persistent compilation cache switched off so that
nothing compiled by an earlier run is reused.  Import time and JAX backend
initialisation are measured separately and reported beside it.  If a
persistent compilation cache directory is configured (environment or by
likelihax itself), cold runs with the cache as configured are reported too.

The table also shows, per method, the share of the machine's CPU used by
*other* processes while it was timed ("other CPU"); on a small machine any
other job distorts the timings, and the script warns above 10%.

Correctness: every method's coefficients and standard errors are compared with
statsmodels' (max relative difference).  glum always multiplies its covariance
by the finite-sample factor N/(N-k); that factor is divided out before the
comparison (it is a documented modelling choice of glum, not an error).

Hardware floor: a Newton iteration must read the design matrix
(N*(p+1)*8 bytes) at least about twice and compute X'WX (2*N*(p+1)^2 flops).
The script measures memory read bandwidth and float64 matmul throughput on this
machine and prints ``iterations * max(bytes/bandwidth, flops/peak)`` as a
lower bound for an exact-Newton fit.

Targets checked: likelihax warm time faster than every
competitor and at most 0.5x scikit-learn newton-cholesky; cold under 1.0 s.

Rerun
-----
From the repository root::

    python benchmarks/bench_logistic.py                        # full run, ~minutes
    python benchmarks/bench_logistic.py --n 20000 --repeats 2  # quick smoke test
    python benchmarks/bench_logistic.py --write-results        # update RESULTS.md
    python benchmarks/bench_logistic.py --device gpu           # JAX on the GPU

Competitors always run on the CPU (numpy/BLAS); ``--device`` only selects
JAX's platform (default: whatever JAX picks).  Needs the ``bench`` extra:
``pip install -e .[bench]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
RESULTS_PATH = HERE / "RESULTS.md"
COLD_TAG = "COLD_JSON:"
GOAL_TEXT = (
    "warm: faster than every competitor, and at most 0.5x scikit-learn "
    "newton-cholesky; cold under 1.0 s"
)
COLD_GOAL_S = 1.0
NEWTON_CHOLESKY_FACTOR = 0.5
FLOOR_ITERATIONS = 6  # typical Newton iterations from a zero start
PASSES_PER_ITERATION = 2  # reads of the design matrix per Newton iteration
BUSY_WARN = 0.10  # warn when other processes used >10% of the CPU during timing

# Tolerances (max relative difference to statsmodels) for the correctness check.
TOL = {
    "default": 1e-6,  # exact-Newton methods, likelihax
    "scikit-learn lbfgs": 1e-4,  # first-order method with a gradient tolerance
}


# --------------------------------------------------------------------------
# setup helpers
# --------------------------------------------------------------------------


def _select_jax_platform(device: str | None) -> None:
    """Set JAX_PLATFORMS before jax is imported (no-op for 'auto').

    'gpu' means 'cuda': JAX expands JAX_PLATFORMS=gpu to every GPU platform
    (cuda, rocm, ...) and then fails on the ones that are not installed.
    """
    if device and device != "auto":
        os.environ["JAX_PLATFORMS"] = "cuda" if device == "gpu" else device


def _ensure_repo_on_path() -> None:
    """Make ``import likelihax`` work from a source checkout without install."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))


def simulate(n: int, p: int, seed: int):
    """Return X (n, p), y (n,), true coefficients (p + 1,; intercept first)."""
    from scipy.special import expit

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    coef = rng.uniform(-0.5, 0.5, size=p + 1)
    eta = coef[0] + X @ coef[1:]
    y = (rng.random(n) < expit(eta)).astype(np.float64)
    return X, y, coef


def loglik(params, data):
    """Per-observation Bernoulli log-likelihood with a logit link.

    Defined once at module level, as a user would, so that any cache keyed on
    the function object is reused between calls.
    """
    import jax.numpy as jnp

    eta = params["intercept"] + data["X"] @ params["beta"]
    return data["y"] * eta - jnp.logaddexp(0.0, eta)


def _import_likelihax():
    """Return (module, None) or (None, reason)."""
    _ensure_repo_on_path()
    try:
        import likelihax as lx  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - report any import problem
        return None, f"{type(exc).__name__}: {exc}"
    if not hasattr(lx, "fit"):
        return None, "likelihax has no attribute 'fit' yet"
    return lx, None


def _lx_provenance(lx) -> str:
    """'likelihax <version> (<path>, git <commit>[+uncommitted changes])'."""
    def git(*a):
        try:
            r = subprocess.run(["git", *a], capture_output=True, text=True,
                               cwd=REPO_ROOT, timeout=10)
            return r.stdout.strip() if r.returncode == 0 else None
        except (OSError, subprocess.SubprocessError):
            return None

    head = git("rev-parse", "--short", "HEAD") or "no commit"
    dirty = git("status", "--porcelain", "--", "likelihax")
    where = Path(lx.__file__).resolve().parent
    try:
        where = where.relative_to(REPO_ROOT)
    except ValueError:
        pass
    return (f"likelihax {getattr(lx, '__version__', '?')} ({where}, git {head}"
            f"{'+uncommitted changes' if dirty else ''})")


def _lx_start(p: int):
    import jax.numpy as jnp

    return {"intercept": 0.0, "beta": jnp.zeros(p)}


def _lx_run(lx, start, data):
    """The timed likelihax call: fit + standard errors, blocked until ready."""
    import jax

    fit = lx.fit(loglik, start, data)
    jax.block_until_ready((fit.params, fit.se))
    return fit


def _lx_vectors(fit):
    """Flatten likelihax params / se pytrees to [intercept, beta...]."""
    def vec(tree):
        return np.concatenate(
            [np.atleast_1d(np.asarray(tree["intercept"], dtype=np.float64)),
             np.asarray(tree["beta"], dtype=np.float64).ravel()]
        )

    return vec(fit.params), vec(fit.se)


# --------------------------------------------------------------------------
# --cold mode (runs in a fresh subprocess)
# --------------------------------------------------------------------------


def jax_newton(X, y):
    """The cold-start floor: a hand-written JAX Newton for this model.

    Analytic gradient and Hessian, a Cholesky solve per step in one
    ``while_loop``, standard errors from the inverse Hessian; no input checks,
    line search or diagnostics. Compiled as one program, as likelihax's fit
    is, so its first call in a fresh process is what JAX itself needs (trace,
    lower, XLA compile, run) for this fit on this machine.
    """
    import jax
    import jax.numpy as jnp

    n = X.shape[0]
    rows = next(r for r in (12_500, 10_000, 8_000, 5_000, 4_000, 2_500, 2_000, 1_000,
                            500, 250, 200, 100, 50, 25, 20, 10, 5, 4, 2, 1)
                if n % r == 0)  # blocks that stay in cache, as likelihax's

    @jax.jit
    def fit(X, y):
        k = X.shape[1] + 1

        def parts(b):
            def block(i, acc):
                Xb = jax.lax.dynamic_slice_in_dim(X, i * rows, rows)
                yb = jax.lax.dynamic_slice_in_dim(y, i * rows, rows)
                Z = jnp.concatenate([jnp.ones((rows, 1), X.dtype), Xb], axis=1)
                mu = jax.nn.sigmoid(Z @ b)
                w = mu * (1.0 - mu)
                M = Z.T @ jnp.concatenate([Z * w[:, None], (yb - mu)[:, None]], axis=1)
                return acc + M

            M = jax.lax.fori_loop(0, n // rows, block, jnp.zeros((k, k + 1), X.dtype))
            return M[:, -1], M[:, :-1]

        def step(state):
            b, i, _ = state
            g, H = parts(b)
            d = jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(H), g)
            return b + d, i + 1, g @ d

        b, it, _ = jax.lax.while_loop(
            lambda s: (s[1] < 50) & (s[2] > 1e-12), step,
            (jnp.zeros(k, X.dtype), 0, jnp.asarray(jnp.inf, X.dtype)))
        _, H = parts(b)
        return b, jnp.sqrt(jnp.diag(jnp.linalg.inv(H))), it

    return fit(X, y)


def cold_main(args) -> None:
    """Time the first lx.fit call in this fresh process; print one JSON line."""
    out: dict = {}
    t0 = time.perf_counter()
    import jax

    out["import_jax_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if args.cold_floor:  # the hand-written JAX Newton instead of likelihax
        jax.config.update("jax_enable_x64", True)
        lx, err = None, None
    else:
        lx, err = _import_likelihax()
    out["import_likelihax_s"] = time.perf_counter() - t0
    if lx is None and not args.cold_floor:
        out["error"] = err
        print(COLD_TAG + json.dumps(out), flush=True)
        return

    # Record the cache configuration *after* importing likelihax, which might
    # set it itself; then switch the cache off unless asked to keep it.
    out["cache_dir"] = jax.config.jax_compilation_cache_dir
    out["cache_enabled_before"] = bool(jax.config.jax_enable_compilation_cache)
    if args.cold_cache == "off":
        jax.config.update("jax_enable_compilation_cache", False)
    out["cache_enabled"] = bool(jax.config.jax_enable_compilation_cache)
    cache_files_before = _count_files(out["cache_dir"])

    t0 = time.perf_counter()
    dev = jax.devices()[0]
    out["backend_init_s"] = time.perf_counter() - t0
    out["device"] = f"{dev.platform}:{dev.device_kind}"

    X, y, _ = simulate(args.n, args.p, args.seed)  # untimed
    data = {"X": X, "y": y}
    start = _lx_start(args.p)

    # Break the first call down with JAX's monitoring events (tracing,
    # lowering to MLIR, XLA backend compile), summed over all programs.
    events: dict = {}

    def listener(event, duration, **_):
        tot, cnt = events.get(event, (0.0, 0))
        events[event] = (tot + duration, cnt + 1)

    try:
        jax.monitoring.register_event_duration_secs_listener(listener)
    except Exception:  # noqa: BLE001 - breakdown is optional
        pass
    if args.cold_floor:
        def call():
            return jax.block_until_ready(jax_newton(X, y))
    else:
        def call():
            return _lx_run(lx, start, data)
    with BackgroundLoad() as load:
        t0 = time.perf_counter()
        fit = call()
        out["first_call_s"] = time.perf_counter() - t0
    out["other_cpu"] = load.fraction
    out["events"] = {k: v for k, v in events.items() if "compile" in k}

    t0 = time.perf_counter()
    call()
    out["second_call_s"] = time.perf_counter() - t0
    out["converged"] = (bool(np.asarray(fit[2]) < 50) if args.cold_floor
                        else bool(np.asarray(fit.converged)))
    out["cache_files_added"] = _count_files(out["cache_dir"]) - cache_files_before
    print(COLD_TAG + json.dumps(out), flush=True)


def _count_files(path) -> int:
    if not path or not os.path.isdir(path):
        return 0
    return sum(len(files) for _, _, files in os.walk(path))


def run_cold(args, cache: str, repeats: int, floor: bool = False) -> list[dict]:
    """Launch ``repeats`` fresh processes in --cold mode; return their reports.

    ``floor``: time :func:`jax_newton` instead of likelihax."""
    env = dict(os.environ)
    if cache == "off":
        env["JAX_ENABLE_COMPILATION_CACHE"] = "false"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--cold",
           "--cold-cache", cache, "--n", str(args.n), "--p", str(args.p),
           "--seed", str(args.seed), "--device", args.device] + \
        (["--cold-floor"] if floor else [])
    reports = []
    for _ in range(repeats):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                              cwd=str(REPO_ROOT))
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(COLD_TAG)]
        if proc.returncode != 0 or not lines:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
            reports.append({"error": f"exit {proc.returncode}: " + " | ".join(tail)})
            break
        rep = json.loads(lines[-1][len(COLD_TAG):])
        reports.append(rep)
        if "error" in rep:
            break
    return reports


# --------------------------------------------------------------------------
# competitors
# --------------------------------------------------------------------------


def _logit_se_numpy(X, intercept, coef):
    """SEs from the inverse observed information (X'WX)^-1, intercept first.

    Builds X'WX blockwise so no (N, p+1) copy with a constant column is made.
    """
    from scipy.special import expit

    mu = expit(X @ coef + intercept)
    w = mu * (1.0 - mu)
    Xs = X * np.sqrt(w)[:, None]
    k = X.shape[1] + 1
    H = np.empty((k, k))
    H[0, 0] = w.sum()
    H[0, 1:] = H[1:, 0] = w @ X
    H[1:, 1:] = Xs.T @ Xs
    return np.sqrt(np.diag(np.linalg.inv(H)))


def make_methods(X, Xc, y, notes: list):
    """Return a list of (name, run, extract) for the competitors.

    ``run()`` is the timed call; ``extract(result)`` -> (params, se, iterations),
    params and se ordered [intercept, beta...].  statsmodels (the reference)
    is required; a missing scikit-learn or glum is skipped with a note.
    """
    import statsmodels.api as sm

    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:
        LogisticRegression = None
        notes.append(f"scikit-learn skipped: {exc}")
    try:
        from glum import GeneralizedLinearRegressor
    except ImportError as exc:
        GeneralizedLinearRegressor = None
        notes.append(f"glum skipped: {exc}")

    def sm_run():
        res = sm.Logit(y, Xc).fit(disp=0)
        return res, res.bse

    def sm_extract(r):
        res, bse = r
        return (np.asarray(res.params), np.asarray(bse),
                res.mle_retvals.get("iterations"))

    def sk_factory(solver):
        def run():
            m = LogisticRegression(C=np.inf, solver=solver, max_iter=1000,
                                   tol=1e-10).fit(X, y)
            se = _logit_se_numpy(X, m.intercept_[0], m.coef_[0])
            return m, se

        def extract(r):
            m, se = r
            return np.r_[m.intercept_, m.coef_[0]], se, int(m.n_iter_[0])

        return run, extract

    n, k = X.shape[0], X.shape[1] + 1
    glum_correction = np.sqrt(n / (n - k))

    def glum_run():
        g = GeneralizedLinearRegressor(family="binomial", alpha=0, robust=False,
                                       gradient_tol=1e-10)
        g.fit(X, y)
        se = g.std_errors(X, y, dispersion=1.0)
        return g, se

    def glum_extract(r):
        g, se = r
        return (np.r_[g.intercept_, g.coef_], np.asarray(se) / glum_correction,
                int(g.n_iter_))

    methods = [("statsmodels Logit", sm_run, sm_extract)]
    if LogisticRegression is not None:
        methods.append(("scikit-learn lbfgs", *sk_factory("lbfgs")))
        methods.append(("scikit-learn newton-cholesky", *sk_factory("newton-cholesky")))
    if GeneralizedLinearRegressor is not None:
        methods.append(("glum irls", glum_run, glum_extract))
    return methods


class BackgroundLoad:
    """CPU time used by *other* processes while a block runs, as a fraction.

    Busy time of the whole machine (``/proc/stat``) minus this process's own
    CPU time (``os.times``, children included), divided by wall time x cores.
    Near 0 on a quiet machine; other jobs on a 2-core box inflate timings a lot
    (OpenBLAS threads spin when oversubscribed), so the table reports it.
    """

    def __enter__(self):
        self._t, self._busy, self._own = time.perf_counter(), _busy_s(), _own_s()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self._t
        busy, own = _busy_s(), _own_s()
        if busy is None or wall <= 0:
            self.fraction = None
        else:
            other = (busy - self._busy) - (own - self._own)
            self.fraction = max(0.0, other / (wall * (os.cpu_count() or 1)))
        return False


def _busy_s():
    try:
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = vals
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_s():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def time_method(run, repeats: int):
    """One warm-up call, then ``repeats`` timed calls.

    Returns (times, first_call_s, last_result, warnings_seen, background_load).
    """
    seen: list[str] = []
    with warnings.catch_warnings(record=True) as caught, BackgroundLoad() as load:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        result = run()
        first = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            result = run()
            times.append(time.perf_counter() - t0)
    for w in caught:
        msg = f"{w.category.__name__}: {str(w.message).splitlines()[0][:120]}"
        if msg not in seen:
            seen.append(msg)
    return times, first, result, seen, load.fraction


def round_robin(runs: dict, rounds: int) -> dict:
    """Each round calls every method once, in an order rotated by one place
    per round; returns the seconds per call of each method, by round.

    The sequential timing above measures each method in its own stretch of
    time; the benchmark machine's speed can drift by 20-50% between minutes, which moves a
    ratio of two sequential medians by as much. Here every method sees the
    same stretches, and the ratio of two methods can be taken round by round.
    """
    names = list(runs)
    out = {name: [] for name in names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(rounds):
            k = i % len(names)
            for name in names[k:] + names[:k]:
                t0 = time.perf_counter()
                runs[name]()
                out[name].append(time.perf_counter() - t0)
    return out


# --------------------------------------------------------------------------
# hardware floor
# --------------------------------------------------------------------------


def _best_time(fn, reps: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure_numpy_hardware(X, Xc) -> dict:
    """Memory read bandwidth and float64 matmul throughput via numpy/BLAS."""
    from concurrent.futures import ThreadPoolExecutor

    out = {}
    big = np.ones(64 * 1024 * 1024)  # 512 MiB, far larger than any cache
    out["sum_GBps"] = big.nbytes / _best_time(big.sum) / 1e9
    # numpy's sum is single-threaded; sum one chunk per core (releases the GIL)
    workers = os.cpu_count() or 1
    chunks = np.array_split(big, workers)
    with ThreadPoolExecutor(workers) as pool:
        out["sum_threads_GBps"] = big.nbytes / _best_time(
            lambda: list(pool.map(np.sum, chunks))) / 1e9
    dst = np.empty_like(big)
    # copy: bytes read + bytes written (informational, not used for the floor)
    out["copy_GBps"] = 2 * big.nbytes / _best_time(lambda: np.copyto(dst, big)) / 1e9
    del big, dst, chunks
    v = np.ones(X.shape[0])
    out["gemv_GBps"] = X.nbytes / _best_time(lambda: X.T @ v) / 1e9
    out["read_GBps"] = max(out["sum_GBps"], out["sum_threads_GBps"], out["gemv_GBps"])

    a = np.random.default_rng(1).standard_normal((2000, 2000))
    out["gemm_square_GFLOPs"] = 2 * 2000**3 / _best_time(lambda: a @ a) / 1e9
    n, k = Xc.shape
    out["xtx_tall_GFLOPs"] = 2 * n * k * k / _best_time(lambda: Xc.T @ Xc) / 1e9
    out["peak_GFLOPs"] = max(out["gemm_square_GFLOPs"], out["xtx_tall_GFLOPs"])
    return out


def measure_jax_hardware(X, Xc) -> dict:
    """The same measurements with jax.numpy on JAX's default device."""
    import jax

    with jax.enable_x64(True):
        return _measure_jax_hardware(X, Xc)


def _measure_jax_hardware(X, Xc) -> dict:
    import jax
    import jax.numpy as jnp

    out = {}
    big = jnp.ones(64 * 1024 * 1024)
    s = jax.jit(jnp.sum)
    out["sum_GBps"] = big.nbytes / _best_time(
        lambda: s(big).block_until_ready()) / 1e9
    del big
    Xd, Xcd = jax.device_put(X), jax.device_put(Xc)
    v = jnp.ones(X.shape[0])
    gemv = jax.jit(lambda A, u: A.T @ u)
    out["gemv_GBps"] = X.nbytes / _best_time(
        lambda: gemv(Xd, v).block_until_ready()) / 1e9
    out["read_GBps"] = max(out["sum_GBps"], out["gemv_GBps"])
    a = jax.device_put(np.random.default_rng(1).standard_normal((2000, 2000)))
    mm = jax.jit(lambda A: A @ A)
    out["gemm_square_GFLOPs"] = 2 * 2000**3 / _best_time(
        lambda: mm(a).block_until_ready()) / 1e9
    xtx = jax.jit(lambda A: A.T @ A)
    n, k = Xc.shape
    out["xtx_tall_GFLOPs"] = 2 * n * k * k / _best_time(
        lambda: xtx(Xcd).block_until_ready()) / 1e9
    out["peak_GFLOPs"] = max(out["gemm_square_GFLOPs"], out["xtx_tall_GFLOPs"])
    del Xd, Xcd
    return out


def floor_seconds(n: int, k: int, hw: dict, iterations: int) -> dict:
    bytes_iter = PASSES_PER_ITERATION * n * k * 8
    flops_iter = 2 * n * k * k
    t_mem = bytes_iter / (hw["read_GBps"] * 1e9)
    t_flop = flops_iter / (hw["peak_GFLOPs"] * 1e9)
    return {"bytes_per_iter": bytes_iter, "flops_per_iter": flops_iter,
            "mem_s_per_iter": t_mem, "flop_s_per_iter": t_flop,
            "iterations": iterations,
            "floor_s": iterations * max(t_mem, t_flop)}


# --------------------------------------------------------------------------
# machine description
# --------------------------------------------------------------------------


def machine_info() -> dict:
    import jax

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count()
    cores = str(usable) if usable == os.cpu_count() else \
        f"{usable} usable of {os.cpu_count()}"
    info = {"python": platform.python_version(), "numpy": np.__version__,
            "jax": jax.__version__, "cores": cores}
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["cpu"] = model
    dev = jax.devices()[0]
    info["jax_backend"] = jax.default_backend()
    info["jax_device"] = f"{dev.platform}:{dev.device_kind}"
    info["jax_device_count"] = jax.device_count()
    # Import the competitors first so that threadpoolctl sees every BLAS /
    # OpenMP library they load (scipy's and scikit-learn's bundled copies).
    import importlib

    versions = []
    for mod, sub in (("statsmodels", "statsmodels.api"),
                     ("sklearn", "sklearn.linear_model"), ("glum", "glum")):
        try:
            importlib.import_module(sub)
            versions.append(f"{mod} {importlib.import_module(mod).__version__}")
        except ImportError:
            versions.append(f"{mod} not installed")

    blas = []
    try:
        from threadpoolctl import threadpool_info

        for lib in threadpool_info():
            name = Path(lib.get("filepath", "")).name
            if lib.get("user_api") == "blas":
                blas.append(f"{lib.get('internal_api')} {lib.get('version')} "
                            f"({lib.get('architecture')}, "
                            f"{lib.get('num_threads')} threads, {name})")
            else:
                blas.append(f"{lib.get('internal_api')} "
                            f"({lib.get('num_threads')} threads, {name})")
    except Exception as exc:  # noqa: BLE001
        blas.append(f"threadpoolctl unavailable: {exc}")
    info["blas"] = blas
    info["blas_env"] = {k: v for k, v in os.environ.items()
                        if k.startswith(("OPENBLAS", "OMP_", "MKL_", "XLA_FLAGS",
                                         "JAX_PLATFORMS", "NVPL_", "GOTO"))}
    info["versions"] = ", ".join(versions)
    return info


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------


def max_rel(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def fmt_s(x) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def build_report(ctx: dict) -> tuple[str, str]:
    """Return (console text, markdown section)."""
    rows = ctx["rows"]
    lx_row = next((r for r in rows if r["name"] == "likelihax"), None)
    lx_med = lx_row["median"] if lx_row else None
    lines, md = [], []

    hdr = (f"{'method':<34}{'median s':>10}{'min s':>9}{'reps':>6}"
           f"{'iters':>7}{'ratio':>8}{'1st call s':>12}{'other CPU':>11}")
    lines += [hdr, "-" * len(hdr)]
    md += ["| method | median s | min s | repeats | iterations | "
           "ratio (method / likelihax) | first call s | other CPU |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ratio = f"{r['median'] / lx_med:.2f}" if lx_med else "n/a"
        it = "" if r["iters"] is None else str(r["iters"])
        bg = "n/a" if r.get("bg") is None else f"{100 * r['bg']:.0f}%"
        lines.append(f"{r['name']:<34}{r['median']:>10.3f}{r['min']:>9.3f}"
                     f"{r['repeats']:>6}{it:>7}{ratio:>8}{r['first']:>12.3f}"
                     f"{bg:>11}")
        md.append(f"| {r['name']} | {r['median']:.3f} | {r['min']:.3f} | "
                  f"{r['repeats']} | {it} | {ratio} | {r['first']:.3f} | {bg} |")
    rr = [r for r in rows if r.get("rounds")]
    if rr and lx_row is not None and lx_row.get("rounds"):
        lxr = statistics.median(lx_row["rounds"])
        n_r = len(lx_row["rounds"])
        lines += ["", f"Interleaved: {n_r} rounds, each calling every method once "
                  "(order rotated per round):"]
        md += ["", f"Interleaved: {n_r} rounds, each calling every method once "
               "(order rotated by one place per round); the goals are judged on "
               "these medians.", "",
               "| method | median s | min s | max s | ratio (method / likelihax) |",
               "|---|---:|---:|---:|---:|"]
        for r in rr:
            m = statistics.median(r["rounds"])
            lines.append(f"  {r['name']:<34}{m:>10.3f}{min(r['rounds']):>9.3f}"
                         f"{max(r['rounds']):>9.3f}{m / lxr:>8.2f}")
            md.append(f"| {r['name']} | {m:.3f} | {min(r['rounds']):.3f} | "
                      f"{max(r['rounds']):.3f} | {m / lxr:.2f} |")
    busy = [r["name"] for r in rows if (r.get("bg") or 0) > BUSY_WARN]
    if busy:
        ctx["notes"].insert(0, "WARNING: other processes used more than "
                            f"{100 * BUSY_WARN:.0f}% of the CPU while timing "
                            f"{', '.join(busy)}; those timings are unreliable, "
                            "rerun on a quiet machine")

    # correctness
    clines = ["", "Agreement with statsmodels (max relative difference):"]
    cmd = ["", "Agreement with statsmodels (max relative difference; glum SEs "
           "divided by its fixed sqrt(N/(N-k)) factor):", "",
           "| method | params | SEs | tolerance | ok |", "|---|---:|---:|---:|---|"]
    for r in rows:
        if r["name"].startswith("statsmodels"):
            continue
        tol = TOL.get(r["name"], TOL["default"])
        ok = r["d_params"] <= tol and r["d_se"] <= tol
        clines.append(f"  {r['name']:<32} params {r['d_params']:.2e}  "
                      f"SEs {r['d_se']:.2e}  (tol {tol:.0e}) "
                      f"{'OK' if ok else 'FAIL'}")
        cmd.append(f"| {r['name']} | {r['d_params']:.2e} | {r['d_se']:.2e} | "
                   f"{tol:.0e} | {'yes' if ok else 'NO'} |")
    lines += clines
    md += cmd

    # cold
    cold = ctx.get("cold")
    clines, cmd = ["", "likelihax cold (fresh process, first lx.fit call):"], \
        ["", "likelihax cold start (fresh process per run):", ""]
    if cold is None:
        clines.append(f"  skipped: {ctx.get('lx_skip', 'likelihax unavailable')}")
        cmd.append(f"skipped: {ctx.get('lx_skip', 'likelihax unavailable')}")
    else:
        for label, key in (("persistent cache off", "off"),
                           ("persistent cache as configured", "env"),
                           ("for comparison, a hand-written JAX Newton (analytic "
                            "gradient and Hessian, Cholesky steps in one while_loop, "
                            "SEs; no checks or diagnostics), persistent cache off",
                            "floor")):
            reps = cold.get(key)
            if not reps:
                continue
            errs = [r["error"] for r in reps if "error" in r]
            good = [r for r in reps if "error" not in r]
            if errs:
                clines.append(f"  {label}: ERROR {errs[0]}")
                cmd.append(f"- {label}: ERROR `{errs[0]}`")
            if good:
                med = {k: statistics.median(r[k] for r in good)
                       for k in ("first_call_s", "second_call_s", "import_jax_s",
                                 "import_likelihax_s", "backend_init_s")}
                firsts = ", ".join(f"{r['first_call_s']:.3f}" for r in good)
                ev = _compile_breakdown(good[0].get("events", {}))
                oth = max((r.get("other_cpu") or 0) for r in good)
                txt = (f"{label}: first call median {med['first_call_s']:.3f} s "
                       f"(runs: {firsts}; max other-process CPU {100 * oth:.0f}%)"
                       f"{ev}; second call {med['second_call_s']:.3f} s; "
                       f"import jax {med['import_jax_s']:.3f} s, import likelihax "
                       f"{med['import_likelihax_s']:.3f} s, backend init "
                       f"{med['backend_init_s']:.3f} s; cache dir "
                       f"{good[0]['cache_dir']}, cache enabled "
                       f"{good[0]['cache_enabled']}, cache files added "
                       f"{[r['cache_files_added'] for r in good]}")
                clines.append("  " + txt)
                cmd.append("- " + txt)
        if not cold.get("env"):
            note = ("no persistent compilation cache directory configured, so "
                    "the cold time is compile-included")
            clines.append("  " + note)
            cmd.append("- " + note)
    lines += clines
    md += cmd

    # floor
    fl = ctx["floor"]
    clines = ["", "Hardware floor (exact Newton, lower bound):"]
    cmd = ["", "Hardware floor (lower bound for an exact-Newton fit):", ""]
    for label, hw, f in fl:
        parts = [f"{name} {hw[key]:.1f}" for name, key in (
            ("sum", "sum_GBps"), ("threaded sum", "sum_threads_GBps"),
            ("X'v gemv", "gemv_GBps"), ("copy r+w", "copy_GBps")) if key in hw]
        txt = (f"{label}: read bandwidth {hw['read_GBps']:.1f} GB/s "
               f"({', '.join(parts)}); float64 matmul "
               f"{hw['gemm_square_GFLOPs']:.1f} GFLOP/s square 2000^3, "
               f"{hw['xtx_tall_GFLOPs']:.1f} GFLOP/s for Xc'Xc ({ctx['n']}x{ctx['k']}). "
               f"Per iteration: {f['bytes_per_iter'] / 1e6:.0f} MB read "
               f"({PASSES_PER_ITERATION} passes) -> {f['mem_s_per_iter'] * 1e3:.3g} ms; "
               f"{f['flops_per_iter'] / 1e9:.2f} GFLOP for X'WX -> "
               f"{f['flop_s_per_iter'] * 1e3:.3g} ms. "
               f"Floor for {f['iterations']} iterations: {f['floor_s']:.3g} s"
               + (f" (likelihax warm median = {lx_med / f['floor_s']:.0f}x this)"
                  if lx_med and label.startswith(("CPU, best", "JAX device"))
                  and not (label.startswith("JAX device") and ctx["cpu_backend"])
                  else ""))
        clines.append("  " + txt)
        cmd.append("- " + txt)
    lines += clines
    md += cmd

    # goals
    clines, cmd = ["", f"Goals ({GOAL_TEXT}):"], ["", f"Goals ({GOAL_TEXT}):", ""]
    if lx_row is None:
        clines.append("  not checked: likelihax unavailable")
        cmd.append("not checked: likelihax unavailable")
    else:
        comps = [r for r in rows if not r["name"].startswith("likelihax")]
        # Judged on the interleaved rounds when they ran (module notes).
        key = "rounds" if lx_row.get("rounds") and all(r.get("rounds") for r in comps) \
            else None
        med = (lambda r: statistics.median(r["rounds"])) if key else \
            (lambda r: r["median"])
        how = (f"medians of {len(lx_row['rounds'])} interleaved rounds" if key
               else "sequential medians")
        lx_g = med(lx_row)
        best = min(comps, key=med)
        nc = next((r for r in comps
                   if r["name"] == "scikit-learn newton-cholesky"), None)
        goals = [
            (f"warm faster than every competitor measured ({how}: likelihax "
             f"{lx_g:.3f} s vs fastest competitor {best['name']} "
             f"{med(best):.3f} s)", lx_g < med(best)),
        ]
        if nc is None:
            goals.append(("warm <= 0.5x scikit-learn newton-cholesky: not "
                          "measured (scikit-learn missing)", False))
        else:
            extra = ""
            if key:
                per = [a / b for a, b in zip(lx_row["rounds"], nc["rounds"])]
                extra = (f"; round by round {min(per):.2f}-{max(per):.2f}x, "
                         f"median {statistics.median(per):.2f}x")
            goals.append(
                (f"warm <= {NEWTON_CHOLESKY_FACTOR}x scikit-learn newton-cholesky "
                 f"({how}: likelihax {lx_g:.3f} s vs limit "
                 f"{NEWTON_CHOLESKY_FACTOR * med(nc):.3f} s; ratio "
                 f"{lx_g / med(nc):.2f}x{extra})",
                 lx_g <= NEWTON_CHOLESKY_FACTOR * med(nc)))
        off = [r for r in (cold or {}).get("off", []) if "error" not in r]
        if off:
            cmed = statistics.median(r["first_call_s"] for r in off)
            goals.append((f"cold first call under {COLD_GOAL_S} s "
                          f"(median {cmed:.3f} s, persistent cache off)",
                          cmed < COLD_GOAL_S))
        else:
            goals.append(("cold under 1.0 s: not measured", False))
        for txt, ok in goals:
            clines.append(f"  [{'PASS' if ok else 'FAIL'}] {txt}")
            cmd.append(f"- {'PASS' if ok else 'FAIL'}: {txt}")
    lines += clines
    md += cmd

    if ctx["notes"]:
        lines += ["", "Notes:"] + [f"  - {x}" for x in ctx["notes"]]
        md += ["", "Notes:", ""] + [f"- {x}" for x in ctx["notes"]]
    return "\n".join(lines), "\n".join(md)


def _compile_breakdown(events: dict) -> str:
    """Summarise JAX compile events of the first run: ', of which ...'."""
    names = {"jaxpr_trace": "tracing", "jaxpr_to_mlir": "lowering",
             "backend_compile": "XLA compile"}
    parts = []
    for key, label in names.items():
        hits = [(t, c) for e, (t, c) in events.items() if key in e]
        if hits:
            tot = sum(t for t, _ in hits)
            cnt = sum(c for _, c in hits)
            parts.append(f"{label} {tot:.3f} s ({cnt}x)")
    return f", of which {', '.join(parts)}" if parts else ""


def section_heading(n: int, p: int, backend: str = "cpu") -> str:
    """RESULTS.md heading; runs with JAX on an accelerator get their own section."""
    head = f"## Logistic regression, N={n:,}, p={p}"
    return head if backend == "cpu" else f"{head}, JAX on {backend}"


def results_head(command: str) -> str:
    """The Command / Date / Machine lines that open a RESULTS.md section."""
    info = machine_info()
    try:
        import likelihax as lx

        prov = _lx_provenance(lx)
    except Exception as e:  # noqa: BLE001 - a report, not a failure
        prov = f"likelihax not importable: {e}"
    return (
        f"Command: `{command}`\n\n"
        f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC\n\n"
        f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, "
        f"jax {info['jax']}; {prov}\n\n"
    )


def write_results(heading: str, body: str, path: Path = RESULTS_PATH) -> None:
    """Replace (or append) the section starting at ``heading`` in RESULTS.md.

    A section runs from its ``## `` heading line to the next line starting
    with ``## `` (or the end of the file); other sections are left untouched.
    """
    text = path.read_text() if path.exists() else (
        "# Benchmark results\n\n"
        "Each section is written by one benchmark script (`--write-results`) and "
        "is replaced when that script is rerun with the same settings; other "
        "sections are left as they are.\n")
    lines = text.splitlines()
    new = [heading, ""] + body.rstrip().splitlines() + [""]
    try:
        i = lines.index(heading)
    except ValueError:
        if lines and lines[-1].strip():
            lines.append("")
        lines += new
    else:
        j = i + 1
        while j < len(lines) and not lines[j].startswith("## "):
            j += 1
        lines[i:j] = new
    path.write_text("\n".join(lines).rstrip() + "\n")


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def wait_until_quiet(max_wait_s: float, window_s: float = 3.0) -> float | None:
    """Poll until other processes use < BUSY_WARN of the CPU over ``window_s``.

    Gives up after ``max_wait_s`` and returns the last measured fraction.
    """
    deadline = time.perf_counter() + max_wait_s
    while True:
        with BackgroundLoad() as load:
            time.sleep(window_s)
        if load.fraction is None or load.fraction < BUSY_WARN:
            return load.fraction
        if time.perf_counter() > deadline:
            return load.fraction
        print(f"  machine busy (other processes {100 * load.fraction:.0f}% CPU), "
              "waiting ...", flush=True)


def main(args) -> None:
    import jax

    notes: list[str] = []
    if args.wait_quiet > 0:
        frac = wait_until_quiet(args.wait_quiet)
        if frac is not None and frac >= BUSY_WARN:
            notes.append(f"machine still busy after waiting {args.wait_quiet:.0f} s "
                         f"(other processes {100 * frac:.0f}% CPU)")
    info = machine_info()
    print("Machine:")
    print(f"  CPU: {info['cpu']} ({info['cores']} cores)")
    print(f"  Python {info['python']}, numpy {info['numpy']}, jax {info['jax']}; "
          f"{info['versions']}")
    print(f"  JAX backend {info['jax_backend']}, device {info['jax_device']} "
          f"(x{info['jax_device_count']}); competitors run on the CPU")
    for b in info["blas"]:
        print(f"  BLAS: {b}")
    print(f"  BLAS/threading env: {info['blas_env'] or 'none set'}")

    n, p = args.n, args.p
    k = p + 1
    print(f"\nData: N={n:,}, p={p} (+ intercept), seed {args.seed}; "
          f"design matrix {n * k * 8 / 1e6:.0f} MB")
    X, y, true_coef = simulate(n, p, args.seed)
    Xc = np.empty((n, k))
    Xc[:, 0] = 1.0
    Xc[:, 1:] = X

    rows: list[dict] = []
    ref = None
    runs: dict = {}  # name -> timed call, for the interleaved rounds
    for name, run, extract in make_methods(X, Xc, y, notes):
        runs[name] = run
        print(f"timing {name} ...", flush=True)
        times, first, result, warns, bg = time_method(run, args.repeats)
        params, se, iters = extract(result)
        del result
        if ref is None:
            ref = (params, se)
        rows.append({"name": name, "median": statistics.median(times),
                     "min": min(times), "repeats": len(times), "iters": iters,
                     "first": first, "d_params": max_rel(params, ref[0]),
                     "d_se": max_rel(se, ref[1]), "bg": bg})
        for w in warns:
            notes.append(f"{name} warned: {w}")
    import statsmodels.api as sm

    ref_llf = float(sm.Logit(y, Xc).loglike(ref[0]))

    # likelihax
    lx, lx_err = _import_likelihax()
    cold = None
    lx_iters = None
    if lx is None:
        msg = f"likelihax skipped ({lx_err})"
        print(msg)
        notes.append(msg)
    else:
        info["likelihax"] = _lx_provenance(lx)
        print(f"  {info['likelihax']}")
        try:
            start = _lx_start(p)
            variants = [("likelihax", {"X": X, "y": y})]
            with jax.enable_x64(True):  # keep float64 on the device
                dev_data = {"X": jax.device_put(X), "y": jax.device_put(y)}
            jax.block_until_ready(dev_data)
            variants.append(("likelihax (data on device)", dev_data))
            runs["likelihax"] = lambda d=variants[0][1]: _lx_run(lx, start, d)
            for name, data in variants:
                print(f"timing {name} ...", flush=True)
                times, first, fit, warns, bg = time_method(
                    lambda d=data: _lx_run(lx, start, d), args.repeats)
                params, se = _lx_vectors(fit)
                iters = int(np.asarray(fit.iterations))
                lx_iters = lx_iters or iters
                rows.append({"name": name, "median": statistics.median(times),
                             "min": min(times), "repeats": len(times),
                             "iters": iters, "first": first,
                             "d_params": max_rel(params, ref[0]),
                             "d_se": max_rel(se, ref[1]), "bg": bg})
                if not bool(np.asarray(fit.converged)):
                    notes.append(f"{name}: fit.converged is False")
                llf = float(np.asarray(fit.loglik))
                if abs(llf - ref_llf) > 1e-6 * abs(ref_llf):
                    notes.append(f"{name}: fit.loglik {llf:.6f} differs from "
                                 f"statsmodels llf {ref_llf:.6f}")
                for w in warns:
                    notes.append(f"{name} warned: {w}")
                del fit
            del dev_data
        except Exception as exc:  # noqa: BLE001 - report API problems, keep going
            import traceback

            traceback.print_exc()
            msg = f"likelihax call failed: {type(exc).__name__}: {exc}"
            print(msg)
            notes.append(msg)
            rows = [r for r in rows if not r["name"].startswith("likelihax")]
            lx = None
        if lx is not None and "likelihax" in runs and args.rounds > 0:
            print(f"timing likelihax and the competitors interleaved "
                  f"({args.rounds} rounds) ...", flush=True)
            rr = round_robin(runs, args.rounds)
            for r in rows:
                if r["name"] in rr:
                    r["rounds"] = rr[r["name"]]
        if lx is not None and not args.no_cold:
            print(f"timing likelihax cold start ({args.cold_repeats} fresh "
                  f"processes) ...", flush=True)
            cold = {"off": run_cold(args, "off", args.cold_repeats)}
            print(f"timing a hand-written JAX Newton cold ({args.cold_repeats} "
                  f"fresh processes) ...", flush=True)
            cold["floor"] = run_cold(args, "off", args.cold_repeats, floor=True)
            first_ok = next((r for r in cold["off"] if "error" not in r), None)
            if first_ok and (first_ok.get("cache_dir")
                             or os.environ.get("JAX_COMPILATION_CACHE_DIR")):
                # A cache is configured: also report what a user with it sees
                # (first run may populate the cache, later runs may hit it).
                cold["env"] = run_cold(args, "env", max(2, args.cold_repeats))

    print("measuring hardware floor ...", flush=True)
    floor = []
    with BackgroundLoad() as load:
        hw_np = measure_numpy_hardware(X, Xc)
    iters_floor = FLOOR_ITERATIONS
    floor.append(("CPU (numpy/BLAS)", hw_np, floor_seconds(n, k, hw_np, iters_floor)))
    try:
        hw_jax = measure_jax_hardware(X, Xc)
        floor.append((f"JAX device {info['jax_device']} (jax.numpy)", hw_jax,
                      floor_seconds(n, k, hw_jax, iters_floor)))
        if info["jax_backend"] == "cpu":
            # Same hardware measured two ways: the floor uses the best of both.
            best = {key: max(hw_np[key], hw_jax[key])
                    for key in ("read_GBps", "gemm_square_GFLOPs",
                                "xtx_tall_GFLOPs", "peak_GFLOPs")}
            best["sum_GBps"] = max(hw_np["sum_GBps"], hw_jax["sum_GBps"])
            best["gemv_GBps"] = max(hw_np["gemv_GBps"], hw_jax["gemv_GBps"])
            floor.append(("CPU, best of numpy and JAX", best,
                          floor_seconds(n, k, best, iters_floor)))
    except Exception as exc:  # noqa: BLE001
        notes.append(f"JAX hardware measurement failed: {exc}")
    if (load.fraction or 0) > BUSY_WARN:
        notes.append(f"other processes used {100 * load.fraction:.0f}% of the CPU "
                     "during the numpy hardware measurement; the floor is too high")
    if lx_iters is not None and lx_iters != iters_floor:
        notes.append(f"floor assumes {iters_floor} Newton iterations; likelihax "
                     f"reported {lx_iters}")
    del Xc

    ctx = {"rows": rows, "cold": cold, "floor": floor, "notes": notes, "n": n,
           "k": k, "lx_skip": lx_err, "cpu_backend": info["jax_backend"] == "cpu"}
    console, md = build_report(ctx)
    print()
    print(console)

    if args.write_results:
        cmdline = ("python benchmarks/bench_logistic.py "
                   + " ".join(sys.argv[1:])).strip()
        head = [
            f"Command: `{cmdline}`",
            "",
            f"Date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
            "",
            f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, "
            f"numpy {info['numpy']}, jax {info['jax']} (backend "
            f"{info['jax_backend']}, device {info['jax_device']}); "
            f"{info['versions']}; {info.get('likelihax', 'likelihax unavailable')}; "
            f"BLAS: {'; '.join(info['blas'])}; env: "
            f"{info['blas_env'] or 'none set'}.",
            "",
            f"Fit + standard errors, float64, seed {args.seed}. Median and min "
            f"over {args.repeats} warm repeats after one warm-up call; ratio = "
            "method median / likelihax median (above 1: likelihax faster); "
            "other CPU = share of the machine's CPU used by other processes while "
            "the method was timed (should be ~0%).",
            "",
            "",
        ]
        write_results(section_heading(n, p, info["jax_backend"]),
                      "\n".join(head) + md)
        print(f"\nwrote {RESULTS_PATH.relative_to(REPO_ROOT)}")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="rows (default 1e6)")
    ap.add_argument("--p", type=int, default=20, help="covariates besides intercept")
    ap.add_argument("--repeats", type=int, default=5, help="timed warm repeats")
    ap.add_argument("--rounds", type=int, default=10,
                    help="interleaved rounds of likelihax and every competitor, "
                         "which the warm goals are judged on (0: judge on the "
                         "sequential medians)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cold-repeats", type=int, default=3,
                    help="fresh processes for the cold likelihax time")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold runs")
    ap.add_argument("--device", default="auto",
                    help="JAX platform: auto (JAX's default), cpu, gpu, cuda, ...")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                    help="first wait up to SECONDS for other processes to go quiet")
    ap.add_argument("--write-results", action="store_true",
                    help="write/replace this benchmark's section in RESULTS.md")
    ap.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--cold-floor", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--cold-cache", choices=["off", "env"], default="off",
                    help=argparse.SUPPRESS)
    return ap.parse_args(argv)


if __name__ == "__main__":
    _args = parse_args()
    _select_jax_platform(_args.device)
    if _args.cold:
        cold_main(_args)
    else:
        main(_args)
