"""The compiled programs: one fit, many starts, and the vmapped refits.

Each is ``jax.jit``-compiled with the :class:`~._program.FitProgram` as its
static argument, so a second call with the same shapes reuses the program.
The refit programs (profiles, bootstrap replicates, start sensitivity,
log-likelihood surfaces) are exported from :mod:`likelihax.engine` for
:mod:`likelihax.inference`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # optax is imported when used
    pass

import jax
import jax.numpy as jnp
import numpy as np

from ..core import Status
from ..objective import COVARIANCES, Problem, analyze_information, covariances
from ..optimize import run, small_linalg
from ..results import MultiStart
from ._matrix_free import fit_core_matrix_free
from ._outputs import fit_outputs, fit_status
from ._probe import run_with_probe
from ._program import FitProgram


def fit_core(static: FitProgram, u0, fixed_leaves, data, weights):
    """The compiled fit: optimize, then information, diagnostics and covariance."""
    if static.matrix_free:
        return fit_core_matrix_free(static, u0, fixed_leaves, data, weights)
    problem = Problem.from_static(static, fixed_leaves, data, weights)
    if u0 is None:
        u0 = static.spec.to_unconstrained(fixed_leaves)
    problem = problem.with_transposed_data(u0)
    gap = problem.separable_gap(u0)
    s, f, g, H, eig, probe, restarts = run_with_probe(problem, static, u0)
    # The information behind the covariance kind (observed or expected).
    # Recomputed (one pass) only when the solver used the other one.
    want = COVARIANCES[static.cov].information
    if static.solver.information != want:
        if want == "expected":
            f, g, H = problem.value_grad_fisher(s.u)
        else:
            f, g, H = problem.value_grad_hessian(s.u)
        eig = None
    # the probe's extreme eigenvalues where it computed them from this factor
    extremes = None if eig is None or static.source is not None else (probe.lo, probe.hi)
    info_code, cond, edm, Hinv = analyze_information(H, g, static.info_tol, eig, extremes)
    status = fit_status(s.code, info_code, probe.code, gap, u0.dtype)
    cov_u, cov_nat = covariances(problem, static.cov, s.u, Hinv, static.weight_type)
    return fit_outputs(
        static, s, f, g, fixed_leaves, probe, restarts, information=H, cov_u=cov_u,
        cov=cov_nat, status=status, edm=edm, cond=cond,
    )


def refit_core(static: FitProgram, u0, fixed_leaves, data, weights, pin=None):
    """Optimize only (no information or covariance): for bootstrap and profiles.

    Returns the log-likelihood, solver status, iterations, the maximizing point
    and its natural-scale parameters. With ``pin = (e, c)`` the coordinate
    ``e . u`` is held at ``c`` (see :meth:`Problem.pinned`); ``e`` and ``c``
    are traced, so a ``vmap`` over them profiles every parameter at every
    value in one program. Every argument but ``static`` may be ``vmap``ped
    (bootstrap: the weights or the data).
    """
    problem = Problem.from_static(static, fixed_leaves, data, weights, pin)
    u0 = problem.pinned(u0)
    if pin is None:
        # A replicate is probed like a fit (and restarted from a higher probe
        # point): a resample whose maximum is at infinity (separation in a
        # small binary data set) or on a boundary is a failed replicate.
        s, _, g, H, eig, probe, _ = run_with_probe(problem, static, u0)
        probe_code = probe.code
    else:
        s = run(static.solver, problem, u0, static.max_steps, False)
        _, g, H, eig = static.solver.final(problem, s)
        probe_code = Status.success.value
    u = problem.pinned(s.u)
    f = s.f if pin is None else s.f - problem._pin_terms(s.u, 1)[0]
    # A replicate whose information is singular or indefinite at its optimum
    # (a parameter not identified in that resample) has not been estimated.
    info_code = analyze_information(H, g, static.info_tol, eig)[0]
    status = jnp.where(s.code != Status.success.value, s.code, info_code)
    status = jnp.where(status == Status.success.value, probe_code, status)
    return dict(
        loglik=-f, status=status, u=u, iterations=s.n_iter,
        params_flat=static.spec.natural_flat(u, fixed_leaves),
    )  # fmt: skip


def profile_core(static, u0, fixed_leaves, data, weights, e, c):
    return refit_core(static, u0, fixed_leaves, data, weights, (e, c))


profile_many = jax.jit(
    jax.vmap(profile_core, in_axes=(None, 0, None, None, None, 0, 0)),
    static_argnums=0,
)
refit_weights_many = jax.jit(
    jax.vmap(refit_core, in_axes=(None, None, None, None, 0)), static_argnums=0
)
def value_core(static: FitProgram, u, fixed_leaves, data, weights):
    """The log-likelihood at ``u`` (surfaces of the log-likelihood)."""
    return -Problem.from_static(static, fixed_leaves, data, weights).value(u)


values_many = jax.jit(
    jax.vmap(value_core, in_axes=(None, 0, None, None, None)), static_argnums=0
)
refit_starts_many = jax.jit(
    jax.vmap(refit_core, in_axes=(None, 0, None, None, None)), static_argnums=0
)
refit_data_many = jax.jit(
    jax.vmap(refit_core, in_axes=(None, None, None, 0, None)), static_argnums=0
)
fit_program = jax.jit(fit_core, static_argnums=0)
fit_starts_program = jax.jit(
    jax.vmap(fit_core, in_axes=(None, 0, None, None, None)), static_argnums=0
)

# Small problems on the CPU: compile for latency, not for throughput. With
# XLA:CPU's loop emitters instead of its fusion emitters and without LLVM's
# optimization passes, the fit program of a 2-parameter model on 100 rows
# compiles in a fraction of the time and runs as fast: at this size the run
# time is per-operation overhead, not generated-code quality. Larger data
# keep XLA's default (optimized) code.
SMALL_DATA_BYTES = 1 << 20
_FAST_COMPILE = {"xla_cpu_use_fusion_emitters": False, "xla_backend_optimization_level": 0}


def fit_core_small(static: FitProgram, u0, fixed_leaves, data, weights):
    """``fit_core`` for small data: also decomposes small information matrices
    without LAPACK (:mod:`likelihax.optimize._jacobi`), so that a fresh process
    does not import ``scipy.linalg`` for its first fit."""
    with small_linalg():
        return fit_core(static, u0, fixed_leaves, data, weights)


fit_program_small = jax.jit(fit_core_small, static_argnums=0, compiler_options=_FAST_COMPILE)
fit_starts_program_small = jax.jit(
    jax.vmap(fit_core_small, in_axes=(None, 0, None, None, None)), static_argnums=0,
    compiler_options=_FAST_COMPILE,
)  # fmt: skip


def is_small(data, weights) -> bool:
    """Data small enough to favour compile time (CPU backend only)."""
    if jax.default_backend() != "cpu" or data is None:
        return False
    leaves = jax.tree_util.tree_leaves((data, weights))
    nbytes = sum(int(np.size(x)) * np.dtype(jnp.result_type(x)).itemsize for x in leaves)
    return nbytes <= SMALL_DATA_BYTES


to_unconstrained = jax.jit(
    lambda spec, leaves: spec.to_unconstrained(leaves), static_argnums=0
)


def pick_best(outs, traced):
    ll = outs["loglik"]
    ok = outs["status"] == Status.success.value
    score = jnp.where(ok & jnp.isfinite(ll), ll, -jnp.inf)
    best = jnp.where(
        jnp.any(ok),
        jnp.argmax(score),
        jnp.argmax(jnp.where(jnp.isfinite(ll), ll, -jnp.inf)),
    )
    out = jax.tree_util.tree_map(lambda a: a[best], outs)
    multi = MultiStart(
        loglik=outs["loglik"], status=outs["status"], params_flat=outs["params_flat"]
    )
    if not traced:
        multi = jax.tree_util.tree_map(np.asarray, multi)
    return out, multi
