"""Solvers: the while-loop driver, Newton's method and the optax-based solvers.

A solver is an object with ``init(problem, u0) -> state``, ``step(problem,
state) -> state`` (one accepted iterate), ``terminate(state) -> (done,
status)`` and ``final(state) -> (u, f, g, iterations, n_evals, edm, status)``,
run by :func:`run` under one ``jax.lax.while_loop``; ``problem`` is anything
with ``value``, ``value_grad`` and ``value_grad_hessian`` of the log-likelihood
on the unconstrained scale (see :mod:`likelihax.objective`). Solvers never
import the objective: they see the problem through those methods only.

Pieces for Newton iterations written elsewhere (EM's M-step, the Laplace
approximation's inner mode search), so that the library has one Newton step:
:func:`newton_direction` (with :func:`scaled_eigh`), the line search
:func:`backtrack` (with :func:`armijo` and :func:`shorter_step`) and both
together, :func:`newton_step`.

Small matrices without LAPACK (safe inside ``jax.jit(jax.hessian(...))``,
fused under ``vmap``): the unrolled Cholesky :func:`chol` with
:func:`chol_logdet`, :func:`solve_lower`, :func:`chol_solve`,
:func:`chol_inverse` and the normal log-density :func:`mvn_logpdf`; the
Jacobi eigen-decomposition used for small fits inside :func:`small_linalg`.
"""

from ._jacobi import small_linalg as small_linalg
from ._linalg import chol as chol
from ._linalg import chol_inverse as chol_inverse
from ._linalg import chol_logdet as chol_logdet
from ._linalg import chol_solve as chol_solve
from ._linalg import mvn_logpdf as mvn_logpdf
from ._linalg import solve_lower as solve_lower
from ._loop import record as record
from ._loop import run as run
from ._loop import stopping_rule as stopping_rule
from ._newton import POLISHED as POLISHED
from ._newton import Newton as Newton
from ._newton import armijo as armijo
from ._newton import backtrack as backtrack
from ._newton import newton_direction as newton_direction
from ._newton import newton_step as newton_step
from ._newton import scaled_eigh as scaled_eigh
from ._newton import shorter_step as shorter_step


def __getattr__(name):
    # The optax-based solvers import optax, which a fit with Newton never needs.
    if name in ("LBFGS", "OptaxSolver"):
        from . import _optax_solvers

        return getattr(_optax_solvers, name)
    raise AttributeError(f"module 'likelihax.optimize' has no attribute {name!r}")
