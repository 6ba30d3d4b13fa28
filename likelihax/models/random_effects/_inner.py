"""The inner problem of every Laplace approximation: the mode of the latent variables.

Shared by the per-group (:mod:`._laplace`) and the whole-data (:mod:`._joint`)
approximations, which differ only in how a Newton direction is computed
(eigen-decomposition of a small block, or a Cholesky solve of the latent
Hessian).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ...optimize import backtrack

__all__ = ["as_float64", "inner_newton", "latent_free"]


def inner_newton(negh: Callable, direction: Callable, u0, tol: float, max_steps: int):
    """Minimize ``negh`` (minus the joint log-density in the latent vector) from ``u0``.

    ``direction(u, g)`` returns a descent direction at ``u`` with gradient
    ``g`` (the Newton direction, shifted where the Hessian is not positive
    definite). Converged when the full step is below ``tol * (1 + |u|)``
    (raised to 100 machine epsilons, the rounding of ``u``); that step is taken,
    so the error is of order ``tol``:sup:`2` (the log-determinant is not
    stationary at the mode, so the mode must be accurate to rounding). The
    optimizer's backtracking line search guards each step; near the mode, where
    the predicted decrease is below the rounding of the density and Armijo's
    test cannot judge it, full steps are taken.
    """
    dt = u0.dtype
    tol = max(tol, 100 * float(jnp.finfo(dt).eps))
    vg = jax.value_and_grad(negh)

    def cond(s):
        return (~s[4]) & (s[3] < max_steps)

    def body(s):
        u, f, g, k, _ = s
        d = direction(u, g)
        slope = jnp.dot(g, d)
        tiny = jnp.max(jnp.abs(d)) <= tol * (1.0 + jnp.max(jnp.abs(u)))
        noise = 64 * jnp.finfo(dt).eps * (1.0 + jnp.abs(f))
        t, _, ok = backtrack(negh, u, d, f, slope, accept_full=tiny | (-slope <= noise))
        u_new = jnp.where(ok, u + t * d, u)
        f_new, g_new = vg(u_new)
        done = tiny | ~ok | ~jnp.isfinite(f_new)
        return u_new, f_new, g_new, k + 1, done

    f0, g0 = vg(u0)
    init = (u0, f0, g0, jnp.zeros((), jnp.int32), jnp.zeros((), bool))
    return jax.lax.while_loop(cond, body, init)[0]


def latent_free(params, random: tuple, what: str) -> dict:
    """``params`` as a dict, refusing the latent leaves (``random``: (name, shape) pairs)."""
    if not isinstance(params, Mapping):
        raise TypeError(
            "A Laplace model needs params as a dict (name -> value); got "
            f"{type(params).__name__}."
        )
    clash = [n for n, _ in random if n in params]
    if clash:
        raise ValueError(
            f"{clash} are {what} (integrated out by the Laplace approximation); do "
            "not give them as parameters to estimate."
        )
    return dict(params)


def as_float64(params, data) -> tuple:
    """Parameters and the floating data as float64 JAX arrays (integer data
    kept), for the conditional modes computed after a fit (call inside
    :func:`likelihax.core.x64_scope`)."""
    theta = jax.tree_util.tree_map(lambda v: jnp.asarray(v, jnp.float64), dict(params))
    data = jax.tree_util.tree_map(
        lambda x: (
            jnp.asarray(x, jnp.float64)
            if np.issubdtype(np.asarray(x).dtype, np.floating)
            else jnp.asarray(x)
        ),
        data,
    )
    return theta, data
