"""Solvers: the while-loop driver, Newton's method and the optax-based solvers.

A solver is an object with ``init(problem, u0) -> state``, ``step(problem,
state) -> state`` (one accepted iterate), ``terminate(state) -> (done,
status)`` and ``final(state) -> (u, f, g, iterations, n_evals, edm, status)``,
run by :func:`run` under one ``jax.lax.while_loop``; ``problem`` is anything
with ``value``, ``value_grad`` and ``value_grad_hessian`` of the log-likelihood
on the unconstrained scale (see :mod:`likelihax.objective`). Solvers never
import the objective: they see the problem through those methods only.
"""

from ._jacobi import small_linalg as small_linalg
from ._loop import record as record
from ._loop import run as run
from ._loop import stopping_rule as stopping_rule
from ._newton import POLISHED as POLISHED
from ._newton import Newton as Newton
from ._newton import newton_direction as newton_direction
from ._newton import scaled_eigh as scaled_eigh
