r"""The fit without a :math:`k \times k` matrix: for very many parameters.

A fit with ``matrix_free=True`` (the default beyond
:data:`~likelihax.engine._options.NEWTON_CG_ABOVE` free parameters) never
forms the information matrix. Everything the dense fit reads from it comes
from Hessian-vector products at the estimate instead (``jax.linearize`` of the
gradient: one forward pass over the reverse-mode gradient per product):

* **Scale**: :math:`D` is Hutchinson's estimate of the information's diagonal
  (:func:`~likelihax.optimize.hutchinson_diagonal`), exact at the small
  parameters' coordinates (:meth:`Problem.small_coordinates`), so the "scaled
  information" is :math:`\hat D^{-1/2} H \hat D^{-1/2}`.
* **Extreme eigenvalues and the weakest direction** (the singular/indefinite
  test, the condition number, the curvature probe): at most ``2 * ITERATIONS``
  Lanczos steps on the scaled information
  (:func:`~likelihax.optimize.lanczos_extremes`), fewer (at least
  ``ITERATIONS // 2``) once both extreme Ritz pairs' residuals are at most
  :data:`RITZ_RTOL` of their values.
  Ritz values lie inside the spectrum, so the reported condition number is a
  lower bound, and an indefinite information is detected only where Lanczos
  finds a negative Ritz value.
* **The Newton direction** of the probe and the EDM: preconditioned CG.
* **Covariance**: of the requested parameters only (``cov_params``; default
  the scalars and arrays of at most :data:`SMALL_ARRAY` elements), by CG
  solves (:mod:`likelihax.objective._matrix_free`), with the largest scaled
  residual of the solves kept in the result (``fit.cov_partial.residual``).
  Standard errors of the other parameters are NaN; Wald tests, intervals and
  the delta method work on the requested ones.

The solver must itself work from gradients or products (``"newton-cg"``,
``"lbfgs"``, ``"bfgs"`` or an optax transformation).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..core import Status
from ..objective import Problem, hvp_at, matrix_free_covariance
from ..optimize import NewtonCG, cg_direction, hutchinson_diagonal, lanczos_extremes
from ._outputs import fit_outputs, fit_status

__all__ = ["Curvature", "CovPartial", "SMALL_ARRAY", "cov_indices", "fit_core_matrix_free",
           "matrix_free_curvature", "newton_by_cg"]  # fmt: skip

# Parameters with at most this many elements get standard errors by default
# in a matrix-free fit (module notes).
SMALL_ARRAY = 100
# Relative residual of the covariance solves (module notes of
# likelihax.objective._matrix_free).
COV_TOL = 1e-10
# Relative residual of the extreme Ritz pairs that ends the Lanczos steps.
RITZ_RTOL = 1e-6


class Curvature(NamedTuple):
    """What a matrix-free fit knows of its information (module notes)."""

    scale: jax.Array  # D^-1/2, from Hutchinson's diagonal
    lo: jax.Array  # smallest Ritz value of the scaled information
    hi: jax.Array  # largest
    weakest: jax.Array  # unit Ritz vector of ``lo`` (scaled coordinates)


class CovPartial(NamedTuple):
    """The covariance of the requested parameters of a matrix-free fit.

    ``natural``: flat natural-scale indices of the rows of ``cov``;
    ``free``: unconstrained indices of the rows of ``cov_u``; ``residual``:
    the largest scaled residual of the CG solves.
    """

    natural: jax.Array
    cov: jax.Array
    free: jax.Array
    cov_u: jax.Array
    residual: jax.Array


def matrix_free_curvature(problem, u) -> Curvature:
    """:class:`Curvature` at ``u`` from Hessian-vector products (module notes)."""
    hvp = hvp_at(problem, u)
    k = u.shape[0]
    exact = problem.small_coordinates()
    scale = 1.0 / jnp.sqrt(hutchinson_diagonal(hvp, k, u.dtype, exact=exact))
    lo, hi, v = lanczos_extremes(lambda x: scale * hvp(scale * x), k, u.dtype, rtol=RITZ_RTOL)
    return Curvature(scale, lo, hi, v)


def newton_by_cg(problem, u, g, curvature: Curvature, rel_tol=1e-6):
    """``(d, edm)``: the Newton direction :math:`-H^{-1} g` by preconditioned CG."""
    k = u.shape[0]
    d, _ = cg_direction(hvp_at(problem, u), g, min(k, 500), rel_tol, curvature.scale**2)
    return d, -0.5 * jnp.dot(g, d)


def cov_indices(spec, names) -> tuple[tuple, tuple]:
    """``(free, natural)`` index tuples of the parameters ``names`` (None: the
    scalars and arrays of at most ``SMALL_ARRAY`` elements), fixed ones left out.
    """
    free, natural, f0, n0 = [], [], 0, 0
    for i, (name, shape) in enumerate(zip(spec.names, spec.shapes)):
        size, fsize = math.prod(shape), spec.free_sizes[i]
        wanted = size <= SMALL_ARRAY if names is None else name in names
        if wanted and not spec.is_fixed(i):
            free.extend(range(f0, f0 + fsize))
            natural.extend(range(n0, n0 + size))
        f0 += 0 if spec.is_fixed(i) else fsize
        n0 += size
    return tuple(free), tuple(natural)


def fit_core_matrix_free(static, u0, fixed_leaves, data, weights):
    """The compiled fit without a ``k x k`` matrix (module notes); the same
    output as :func:`likelihax.engine._compiled.fit_core`, with ``cov_partial``
    in place of the information and the full covariances."""
    from ._probe import run_with_probe  # (the probe module imports this one)

    problem = Problem.from_static(static, fixed_leaves, data, weights)
    problem = problem.with_transposed_data()
    if u0 is None:
        u0 = static.spec.to_unconstrained(fixed_leaves)
    gap = problem.separable_gap(u0)
    s, f, g, _, cur, probe, restarts = run_with_probe(problem, static, u0)
    tol = static.info_tol
    indefinite = cur.lo < -tol
    singular = (~indefinite) & (cur.lo <= tol)
    ok = ~(indefinite | singular) & jnp.isfinite(cur.lo) & jnp.isfinite(cur.hi)
    info_code = jnp.where(
        indefinite,
        Status.information_indefinite.value,
        jnp.where(singular, Status.information_singular.value, Status.success.value),
    )
    if isinstance(static.solver, NewtonCG):  # the EDM of its last (tight) solve
        edm = s.edm
    else:
        _, edm = newton_by_cg(problem, s.u, g, cur)
    status = fit_status(s.code, info_code, probe.code, gap, u0.dtype)
    free, natural = np.asarray(static.cov_free, int), np.asarray(static.cov_natural, int)
    if free.size:
        cov_u, residual = matrix_free_covariance(
            problem, static.cov, s.u, free, static.weight_type, cur.scale**2, COV_TOL
        )
        cov_u = jnp.where(ok, cov_u, jnp.nan)
        E = jnp.zeros((free.size, s.u.shape[0]), s.u.dtype)
        E = E.at[jnp.arange(free.size), free].set(1.0)

        def nat(v):
            return static.spec.natural_flat(v, fixed_leaves)[natural]

        J = jax.vmap(lambda e: jax.jvp(nat, (s.u,), (e,))[1])(E).T  # (|natural|, |free|)
        cov_nat = J @ cov_u @ J.T
    else:
        cov_u = cov_nat = jnp.zeros((0, 0), s.u.dtype)
        residual = jnp.zeros((), s.u.dtype)
    partial = CovPartial(jnp.asarray(natural, jnp.int32), cov_nat,
                         jnp.asarray(free, jnp.int32), cov_u, residual)  # fmt: skip
    return fit_outputs(
        static, s, f, g, fixed_leaves, probe, restarts, information=None, cov_u=None,
        cov=None, cov_partial=partial, status=status, edm=edm,
        cond=jnp.where(ok, cur.hi / cur.lo, jnp.inf),
    )


def resolve_matrix_free(matrix_free, cov_params, spec, method, cov) -> dict:
    """The ``FitProgram`` fields of the ``matrix_free`` and ``cov_params``
    options of :func:`likelihax.fit`, checked (errors name the option)."""
    from ..objective import MATRIX_FREE_KINDS
    from ._options import NEWTON_CG_ABOVE

    if matrix_free is not None and not isinstance(matrix_free, (bool, np.bool_)):
        raise TypeError(f"matrix_free must be True, False or None; got {matrix_free!r}.")
    name = method if isinstance(method, str) else getattr(method, "name", "")
    if matrix_free is None:  # beyond the threshold, unless a dense method is asked for
        on = spec.n_free > NEWTON_CG_ABOVE and name not in ("newton", "fisher")
    else:
        on = bool(matrix_free)
    if not on:
        if cov_params is not None:
            raise ValueError(
                "cov_params chooses the parameters whose covariance a matrix-free fit "
                "computes; this fit forms the information and gives every covariance "
                "(pass matrix_free=True to use cov_params)."
            )
        return {}
    if name in ("newton", "fisher"):
        raise ValueError(
            f"method={name!r} forms the k x k information at every step; a "
            "matrix-free fit needs method='newton-cg', 'lbfgs', 'bfgs' or an optax "
            "transformation."
        )
    if cov not in MATRIX_FREE_KINDS:
        raise ValueError(
            f"cov={cov!r} needs the k x k information; a matrix-free fit offers "
            f"{MATRIX_FREE_KINDS} (or pass matrix_free=False)."
        )
    if cov_params is not None:
        if isinstance(cov_params, str):
            cov_params = [cov_params]
        unknown = [p for p in cov_params if p not in spec.names]
        if unknown:
            raise ValueError(
                f"cov_params names {unknown}, which are not parameters; the "
                f"parameters are {list(spec.names)}."
            )
    free, natural = cov_indices(spec, None if cov_params is None else set(cov_params))
    return dict(matrix_free=True, cov_free=free, cov_natural=natural)
