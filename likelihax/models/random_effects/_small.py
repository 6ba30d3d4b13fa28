"""Small symmetric positive-definite matrices, unrolled for a static size.

The Laplace approximation needs, for every group, the Cholesky factor of a
``q x q`` matrix (``q`` = random effects per group, typically 1-3): for the
log-determinant, for Newton steps and for implicit differentiation. These are
written as unrolled scalar arithmetic over the static ``q`` instead of
``jnp.linalg.cholesky`` because jaxlib 0.10.2 can hang in
``jax.jit(jax.hessian(f))`` when ``f`` applies the batched LAPACK Cholesky
(``shared/known-issues/cholesky_hessian_hang.py``); the engine takes exactly
that Hessian of the Laplace objective. Unrolled code is also faster for tiny
blocks under ``vmap`` (no custom call, fully fused) and differentiable to any
order. Cost is :math:`O(q^3)` traced operations, so it is meant for small
``q`` (up to about 8).

A matrix that is not positive definite gives NaN (square root of a negative
pivot), which callers turn into a status, never into a silently wrong value.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["chol", "chol_inverse", "chol_logdet", "chol_solve"]


def chol(A):
    """Lower Cholesky factor of ``A`` (``(..., q, q)``) as nested lists of arrays.

    ``L[i][j]`` (``j <= i``) has shape ``A.shape[:-2]``.
    """
    q = A.shape[-1]
    L = [[None] * q for _ in range(q)]
    for j in range(q):
        s = A[..., j, j]
        for k in range(j):
            s = s - L[j][k] * L[j][k]
        L[j][j] = jnp.sqrt(s)
        for i in range(j + 1, q):
            s = A[..., i, j]
            for k in range(j):
                s = s - L[i][k] * L[j][k]
            L[i][j] = s / L[j][j]
    return L


def chol_logdet(L):
    """:math:`\\log\\det A = 2\\sum_i \\log L_{ii}` from :func:`chol`'s factor."""
    return 2.0 * sum(jnp.log(L[i][i]) for i in range(len(L)))


def chol_solve(L, b):
    """Solve :math:`A x = b` (``b``: ``(..., q)``) given :func:`chol`'s factor."""
    q = len(L)
    z = [None] * q
    for i in range(q):  # L z = b
        s = b[..., i]
        for k in range(i):
            s = s - L[i][k] * z[k]
        z[i] = s / L[i][i]
    x = [None] * q
    for i in reversed(range(q)):  # L' x = z
        s = z[i]
        for k in range(i + 1, q):
            s = s - L[k][i] * x[k]
        x[i] = s / L[i][i]
    return jnp.stack(x, axis=-1)


def chol_inverse(L):
    """:math:`A^{-1}` (``(..., q, q)``) given :func:`chol`'s factor."""
    q = len(L)
    shape = L[0][0].shape
    cols = []
    for j in range(q):
        e = jnp.zeros(shape + (q,), L[0][0].dtype).at[..., j].set(1.0)
        cols.append(chol_solve(L, e))
    return jnp.stack(cols, axis=-1)
