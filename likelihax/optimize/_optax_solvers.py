"""Quasi-Newton (L-BFGS) and first-order solvers built on optax.

``LBFGS`` wraps :func:`optax.lbfgs`, whose zoom line search enforces the strong
Wolfe conditions; ``memory_size`` large enough to hold every step makes it BFGS.
``OptaxSolver`` runs any :class:`optax.GradientTransformation` (Adam, SGD, ...)
on the *mean* negative log-likelihood :math:`f(u)/n`, so learning rates do not
depend on the number of observations; this scaling stays inside the solver.
Both use the shared stopping rules (gradient and relative change) of
:mod:`likelihax.optimize._loop`, evaluated on the unscaled objective.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ..core import Status
from ._loop import record, stopping_rule

__all__ = ["LBFGS", "OptaxSolver"]


class OptaxState(NamedTuple):
    u: jax.Array
    f: jax.Array
    g: jax.Array
    opt_state: Any
    done: jax.Array
    code: jax.Array
    n_iter: jax.Array
    n_eval: jax.Array
    trace: jax.Array


def _init_state(u0, f, g, opt_state, max_steps):
    zero = jnp.zeros((), jnp.int32)
    ok = jnp.isfinite(f) & jnp.all(jnp.isfinite(g))
    trace = jnp.full((max_steps + 1,), jnp.nan, f.dtype)
    return OptaxState(
        u=u0, f=f, g=g, opt_state=opt_state, done=~ok,
        code=jnp.where(ok, Status.success.value, Status.nonfinite_start.value).astype(
            jnp.int32
        ),
        n_iter=zero, n_eval=jnp.ones((), jnp.int32),
        trace=record(trace, 0, f),
    )  # fmt: skip


def _advance(s, u_new, f_new, g_new, opt_state, conv, n_eval):
    finite = jnp.isfinite(f_new) & jnp.all(jnp.isfinite(g_new))
    stalled = finite & jnp.all(u_new == s.u)
    code = jnp.where(
        finite,
        jnp.where(
            stalled & ~conv, Status.line_search_failed.value, Status.success.value
        ),
        Status.nonfinite.value,
    )
    n_iter = s.n_iter + 1
    return OptaxState(
        u=jnp.where(finite, u_new, s.u), f=jnp.where(finite, f_new, s.f),
        g=jnp.where(finite, g_new, s.g), opt_state=opt_state,
        done=(~finite) | conv | stalled, code=code.astype(jnp.int32),
        n_iter=n_iter, n_eval=s.n_eval + n_eval,
        trace=record(s.trace, n_iter, jnp.where(finite, f_new, jnp.nan)),
    )  # fmt: skip


class _OptaxSteps:
    """What both optax solvers share: the first state, the stopping rule of
    each step and the final information. A subclass gives ``_transform()``
    (its optax transformation) and the ``gtol``, ``rtol`` fields."""

    information: ClassVar[str] = "observed"  # final() returns the observed H
    polish: ClassVar[bool] = False

    def init(self, problem, u0, max_steps):
        f, g = problem.value_and_grad(u0)
        return _init_state(u0, f, g, self._transform().init(u0), max_steps)

    def _next_state(self, s, u_new, f_new, g_new, opt_state, n_eval):
        conv = stopping_rule(
            f_new, s.f, u_new, s.u, g_new, jnp.inf, 0.0, self.gtol, self.rtol
        )
        return _advance(s, u_new, f_new, g_new, opt_state, conv, n_eval)

    def final(self, problem, s):
        return (*problem.value_grad_hessian(s.u), None)


@dataclasses.dataclass(frozen=True)
class LBFGS(_OptaxSteps):
    """L-BFGS with a strong-Wolfe zoom line search (optax).

    Parameters
    ----------
    memory_size : int
        Number of past steps kept; ``method="bfgs"`` uses 100.
    gtol, rtol : float
        Stopping rules (see :mod:`likelihax.optimize._loop`).
    """

    memory_size: int = 10
    gtol: float = 1e-9
    rtol: float = 0.0
    name: str = "lbfgs"
    default_max_steps: ClassVar[int] = 1000

    def _transform(self):
        return optax.lbfgs(memory_size=self.memory_size)

    def step(self, problem, s):
        opt = self._transform()
        updates, opt_state = opt.update(
            s.g, s.opt_state, s.u, value=s.f, grad=s.g, value_fn=problem.value
        )
        u_new = optax.apply_updates(s.u, updates)
        f_new, g_new = optax.value_and_grad_from_state(problem.value)(
            u_new, state=opt_state
        )
        return self._next_state(s, u_new, f_new, g_new, opt_state, 2)


@dataclasses.dataclass(frozen=True)
class OptaxSolver(_OptaxSteps):
    """Any optax gradient transformation, run on the mean negative log-likelihood.

    Parameters
    ----------
    transform : optax.GradientTransformation
        For example ``optax.adam(1e-2)``. Create it once and reuse it: a new
        object compiles a new program.
    gtol, rtol : float
        Stopping rules (see :mod:`likelihax.optimize._loop`).
    """

    transform: Any
    gtol: float = 1e-9
    rtol: float = 0.0
    name: str = "optax"
    default_max_steps: ClassVar[int] = 10_000

    def _transform(self):
        return self.transform

    def step(self, problem, s):
        n = jnp.asarray(problem.nobs, s.f.dtype)
        updates, opt_state = self.transform.update(s.g / n, s.opt_state, s.u)
        u_new = optax.apply_updates(s.u, updates)
        f_new, g_new = problem.value_and_grad(u_new)
        return self._next_state(s, u_new, f_new, g_new, opt_state, 1)
