"""Safeguarded Newton's method with the exact autodiff Hessian.

Descent: solve :math:`H d = -g` by Cholesky. When :math:`H` is not positive
definite (far from the maximum, or at a saddle), the direction uses the
eigen-decomposition with eigenvalues replaced by
:math:`\\max(|\\lambda_j|, 10^{-8}\\max_k|\\lambda_k|)`, which is always a descent
direction (Nocedal & Wright, 2006, sec. 3.4).

Search: backtracking on the Armijo condition. A trial point is *evaluated
fully* (value, gradient and Hessian in one fused pass); when it is accepted,
which is the usual case, the next direction needs no further pass over the
data. A trial whose value, gradient or Hessian is not finite is rejected like
any other, so the search survives overflow and points outside the support.
A slack of a few ulps of :math:`|f|` lets steps through whose change is below
rounding, so the last steps near the optimum are not refused for noise.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp

from .._status import Status
from ._loop import record, stopping_rule

__all__ = ["Newton", "newton_direction"]


def newton_direction(H, g):
    """Descent direction ``d`` and EDM ``-g.d/2`` (see module notes)."""
    L = jnp.linalg.cholesky(H)
    ok = jnp.all(jnp.isfinite(L))

    def by_cholesky(_):
        return -jax.scipy.linalg.cho_solve((L, True), g)

    def by_eigen(_):
        lam, Q = jnp.linalg.eigh(H)
        floor = jnp.maximum(1e-8 * jnp.max(jnp.abs(lam)), jnp.finfo(H.dtype).tiny)
        return -Q @ ((Q.T @ g) / jnp.maximum(jnp.abs(lam), floor))

    d = jax.lax.cond(ok, by_cholesky, by_eigen, None)
    return d, -0.5 * jnp.dot(g, d)


def _finite(*xs):
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in xs]))


class NewtonState(NamedTuple):
    u: jax.Array
    f: jax.Array
    g: jax.Array
    H: jax.Array
    d: jax.Array
    edm: jax.Array
    t: jax.Array
    n_back: jax.Array
    done: jax.Array
    code: jax.Array
    n_steps: jax.Array
    n_iter: jax.Array
    n_eval: jax.Array
    trace: jax.Array


@dataclasses.dataclass(frozen=True)
class Newton:
    """Newton's method with line search (default solver).

    Parameters
    ----------
    tol : float
        Stop when EDM :math:`= \\tfrac12 g^\\top H^{-1} g \\le` ``tol``.
    gtol, rtol : float
        Gradient and relative-change rules of :mod:`likelihax.optimize._loop`.
    max_backtracks : int
        Step halvings before the line search gives up.
    """

    tol: float = 1e-12
    gtol: float = 0.0
    rtol: float = 0.0
    max_backtracks: int = 40
    name: str = "newton"
    has_curvature = True

    def init(self, problem, u0, max_steps):
        f, g, H = problem.value_grad_hessian(u0)
        d, edm = newton_direction(H, g)
        ok = _finite(f, g, H)
        conv = stopping_rule(f, f, u0, u0, g, edm, self.tol, self.gtol, 0.0)
        trace = jnp.full((max_steps + 1,), jnp.nan, f.dtype)
        zero = jnp.zeros((), jnp.int32)
        return NewtonState(
            u=u0, f=f, g=g, H=H, d=d, edm=edm, t=jnp.ones((), f.dtype), n_back=zero,
            done=(~ok) | conv,
            code=jnp.where(ok, Status.success.value, Status.nonfinite_start.value),
            n_steps=zero, n_iter=zero, n_eval=jnp.ones((), jnp.int32),
            trace=record(trace, 0, f),
        )  # fmt: skip

    def step(self, problem, s: NewtonState) -> NewtonState:
        u_try = s.u + s.t * s.d
        f_try, g_try, H_try = problem.value_grad_hessian(u_try)
        finite = _finite(f_try, g_try, H_try)
        slope = jnp.dot(s.g, s.d)
        slack = 16 * jnp.finfo(s.f.dtype).eps * (1.0 + jnp.abs(s.f))
        accept = finite & (f_try <= s.f + 1e-4 * s.t * slope + slack)

        d_new, edm_new = newton_direction(H_try, g_try)
        conv = stopping_rule(
            f_try, s.f, u_try, s.u, g_try, edm_new, self.tol, self.gtol, self.rtol
        )
        # Backtrack: quadratic interpolation when the trial is finite, else halve.
        t_interp = -slope * s.t**2 / (2.0 * (f_try - s.f - slope * s.t))
        t_back = jnp.where(
            finite & jnp.isfinite(t_interp),
            jnp.clip(t_interp, 0.1 * s.t, 0.5 * s.t),
            0.5 * s.t,
        )
        n_back = jnp.where(accept, 0, s.n_back + 1)
        gave_up = (~accept) & (n_back > self.max_backtracks)
        fail_code = jnp.where(
            finite, Status.line_search_failed.value, Status.nonfinite.value
        )
        pick = lambda a, b: jnp.where(accept, a, b)  # noqa: E731
        n_iter = s.n_iter + accept.astype(jnp.int32)
        return NewtonState(
            u=pick(u_try, s.u), f=pick(f_try, s.f), g=pick(g_try, s.g),
            H=pick(H_try, s.H), d=pick(d_new, s.d), edm=pick(edm_new, s.edm),
            t=pick(jnp.ones_like(s.t), t_back), n_back=n_back,
            done=(accept & conv) | gave_up,
            code=jnp.where(gave_up, fail_code, Status.success.value).astype(jnp.int32),
            n_steps=s.n_steps + 1, n_iter=n_iter, n_eval=s.n_eval + 1,
            trace=jnp.where(accept, record(s.trace, n_iter, f_try), s.trace),
        )  # fmt: skip

    def final(self, problem, s: NewtonState):
        """Value, gradient and Hessian at the final point (already computed)."""
        return s.f, s.g, s.H
