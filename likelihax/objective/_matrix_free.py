r"""Covariances without the information matrix: conjugate-gradient solves on products.

Beyond a few thousand parameters the dense information (:math:`k^2` numbers:
80 GB at :math:`k = 10^5`) and its inverse are out of reach, but the
covariance of a few requested coordinates :math:`J` of the unconstrained
vector :math:`u` is not: with :math:`E_J` the columns of the identity at
:math:`J`,

``"oim"``
    :math:`X = H^{-1} E_J` by preconditioned conjugate gradients on
    Hessian-vector products (forward mode over the reverse-mode gradient,
    ``jax.linearize`` once at the estimate; the solves for all of :math:`J`
    batched by ``vmap``); :math:`\hat V_{JJ} = E_J^\top X`.
``"sandwich"`` (``"hc0"``), ``"hc1"`` and ``"stata"``
    :math:`\hat V_{JJ} = X^\top B X` with the meat
    :math:`B = \sum_i v_i s_i s_i^\top` (:meth:`Problem.meat`'s weights
    :math:`v_i`). :math:`S X`, the scores along the columns of :math:`X`, are
    forward-mode directional derivatives of the per-observation terms, block
    by block: no :math:`n \times k` score matrix. ``"hc1"`` multiplies by
    :math:`n/(n-k)`, ``"stata"`` (without clusters) by :math:`n/(n-1)`.
``"opg"``
    :math:`Y = B^{-1} E_J` by conjugate gradients on the products
    :math:`B v = S^\top (v \odot S v)` (a forward and a reverse pass over the
    data each); :math:`\hat V_{JJ} = E_J^\top Y`.

Each solve is preconditioned by Hutchinson's estimate of the diagonal
(:func:`likelihax.optimize.hutchinson_diagonal`) and stops when its scaled
residual :math:`\lVert r \rVert_{M^{-1}} / \lVert e_j \rVert_{M^{-1}}` is at
most ``tol`` (default :math:`10^{-10}`) or after ``max_iter`` products. The
largest scaled residual over the solves is returned with the covariance, so a
result can say how well its solves converged. An exact solve needs at most
:math:`k` products; in practice about :math:`\sqrt{\kappa}\log(1/\mathrm{tol})`
for the scaled condition number :math:`\kappa`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..optimize import cg_direction
from ._robust import meat_weights

__all__ = ["MATRIX_FREE_KINDS", "hvp_at", "matrix_free_covariance", "solve_columns"]

MATRIX_FREE_KINDS = ("oim", "sandwich", "hc0", "hc1", "stata", "opg")


def hvp_at(problem, u):
    """The Hessian-vector product of the objective at ``u``, as a linear function."""
    _, hvp = jax.linearize(lambda v: problem.value_and_grad(v)[1], u)
    return hvp


def solve_columns(apply, E, m_inv, tol, max_iter: int):
    """``(X, residual)``: ``apply(X[:, j]) = E[:, j]`` for every column by
    preconditioned CG, and the largest scaled residual (module notes)."""

    def one(e):
        d, _ = cg_direction(apply, -e, max_iter, tol, m_inv)
        r = apply(d) - e
        return d, jnp.sqrt(jnp.dot(r, m_inv * r) / jnp.dot(e, m_inv * e))

    X, res = jax.vmap(one, in_axes=1, out_axes=(1, 0))(E)
    return X, jnp.max(res, initial=0.0)


def _directional_scores(problem, u, V, data):
    """``(m, rows)``: the per-observation terms' derivatives along ``V``'s columns."""
    terms = lambda x: problem.loglik_terms(x, data)  # noqa: E731
    T = jax.vmap(lambda c: jax.jvp(terms, (u,), (c,))[1])(V.T)
    if T.ndim != 2:
        raise ValueError(
            "The OPG and sandwich covariances need one log-likelihood value per "
            "observation, but the log-likelihood returns a scalar."
        )
    return T


def meat_products(problem, u, V, weight_type: str = "frequency"):
    """``(V' B V, n_eff)`` for a ``(k, m)`` matrix ``V`` (module notes)."""

    def block(v, data, w=None, mask=None):
        T = _directional_scores(problem, v, V, data)
        vv, cnt = meat_weights(T.shape[1], T.dtype, w, mask, weight_type)
        T = jnp.where(vv > 0, T, 0.0)
        return (T * vv) @ T.T, cnt

    return problem._accumulate(block, u, 2)


def meat_matvec(problem, u, x, weight_type: str = "frequency"):
    """:math:`B x = S^\\top (v \\odot S x)` (module notes)."""

    def block(v, data, w=None, mask=None):
        terms = lambda y: problem.loglik_terms(y, data)  # noqa: E731
        t, pull = jax.vjp(terms, v)
        sx = jax.jvp(terms, (v,), (x,))[1]
        vv, _ = meat_weights(sx.shape[0], sx.dtype, w, mask, weight_type)
        return (pull(jnp.where(vv > 0, vv * sx, 0.0))[0],)

    return problem._accumulate(block, u, 1)[0]


def matrix_free_covariance(
    problem, kind: str, u, free_idx, weight_type: str, m_inv, tol=1e-10, max_iter=None
):
    """``(V_JJ, residual)``: the covariance of the unconstrained coordinates
    ``free_idx`` of kind ``kind`` at ``u`` without forming a ``k x k`` matrix
    (module notes). ``m_inv`` is the inverse of the preconditioner's diagonal.
    """
    if kind not in MATRIX_FREE_KINDS:
        raise ValueError(
            f"cov={kind!r} is not available without the information matrix; use one "
            f"of {MATRIX_FREE_KINDS}, or matrix_free=False."
        )
    k = u.shape[0]
    max_iter = max_iter or min(k, 2000)
    idx = jnp.asarray(free_idx, jnp.int32)
    E = jnp.zeros((k, idx.shape[0]), u.dtype).at[idx, jnp.arange(idx.shape[0])].set(1.0)
    if kind == "opg":
        apply = lambda x: meat_matvec(problem, u, x, weight_type)  # noqa: E731
        # (B estimates H where the model holds: H's diagonal preconditions it)
        Y, res = solve_columns(apply, E, m_inv, tol, max_iter)
        return Y[idx, :], res
    X, res = solve_columns(hvp_at(problem, u), E, m_inv, tol, max_iter)
    if kind == "oim":
        return 0.5 * (X[idx, :] + X[idx, :].T), res
    meat, n_eff = meat_products(problem, u, X, weight_type)
    if kind in ("hc1", "stata"):  # n/(n-k); Stata's robust factor n/(n-1)
        meat = meat * n_eff / (n_eff - (k if kind == "hc1" else 1))
    return 0.5 * (meat + meat.T), res
