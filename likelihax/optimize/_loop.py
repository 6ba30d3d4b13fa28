"""The single optimization driver and the shared stopping rules.

Every solver supplies ``init(problem, u0, max_steps) -> state`` and
``step(problem, state) -> state``; its state carries the common fields
``u, f, g, done, code, n_iter, n_eval, trace``. This module runs the steps in
one ``lax.while_loop`` until the solver is done or ``max_steps`` iterations
have been accepted (a solver bounds its own inner retries), and assigns the
``max_steps`` status. Stopping rules live here, once, for all solvers.

Stopping rules (any one suffices):

* **EDM** (solvers with curvature): the estimated distance to the maximum
  :math:`\\tfrac12 g^\\top H^{-1} g \\le` ``tol`` (log-likelihood units, as
  iminuit's EDM). It is invariant to reparametrization and to the number of
  observations, and :math:`\\sqrt{2\\,\\mathrm{EDM}}` bounds the distance to the
  optimum in standard-error units.
* **gradient**: :math:`\\max_j |g_j| \\le` ``gtol`` :math:`\\cdot \\max(1, |f|)`.
* **relative change** (off when ``rtol = 0``): between accepted iterates,
  :math:`|f_k - f_{k-1}| \\le` ``rtol`` :math:`\\max(1, |f_k|)` and
  :math:`\\max_j |u_{k,j}-u_{k-1,j}| \\le` ``rtol`` :math:`\\max(1, \\max_j|u_{k,j}|)`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..core import Status

__all__ = ["run", "stopping_rule", "record"]


def stopping_rule(f_new, f_old, u_new, u_old, g, edm, tol, gtol, rtol):
    """True when any of the stopping rules in the module notes holds."""
    by_edm = edm <= tol
    by_grad = jnp.max(jnp.abs(g), initial=0.0) <= gtol * jnp.maximum(
        1.0, jnp.abs(f_new)
    )
    du = jnp.max(jnp.abs(u_new - u_old), initial=0.0)
    scale_u = jnp.maximum(1.0, jnp.max(jnp.abs(u_new), initial=0.0))
    by_change = (
        (rtol > 0)
        & (jnp.abs(f_new - f_old) <= rtol * jnp.maximum(1.0, jnp.abs(f_new)))
        & (du <= rtol * scale_u)
    )
    return by_edm | by_grad | by_change


def record(trace, n_iter, f):
    """Store ``f`` at position ``n_iter`` of the trace buffer."""
    return trace.at[jnp.minimum(n_iter, trace.shape[0] - 1)].set(f)


def run(solver, problem, u0, max_steps: int, verbose: bool = False):
    """Run ``solver`` from ``u0`` for at most ``max_steps`` steps under one while_loop."""
    state = solver.init(problem, u0, max_steps)

    def cond(s):
        return (~s.done) & (s.n_iter < max_steps)

    def body(s):
        s = solver.step(problem, s)
        if verbose:
            jax.debug.print(
                "likelihax: step {k:4d}  loglik {ll: .10g}  max|grad| {g:.3e}",
                k=s.n_iter,
                ll=-s.f,
                g=jnp.max(jnp.abs(s.g), initial=0.0),
            )
        return s

    state = jax.lax.while_loop(cond, body, state)
    # A solver that met its stopping rule but ran out of steps for its final
    # move (Newton's extra step) has still converged.
    # (Not when that iterate was a chord step: its Hessian is not its own.)
    finished = state.done | (
        getattr(state, "final_step", False) & getattr(state, "fresh", True)
    )
    code = jnp.where(finished, state.code, Status.max_steps.value)
    return state._replace(code=code.astype(jnp.int32))
