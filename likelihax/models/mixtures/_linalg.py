r"""Small dense linear algebra written with elementwise operations only.

Why: on XLA:CPU with jaxlib 0.10.2, ``jax.jit(jax.hessian(f))`` can hang when
``f`` applies ``jnp.linalg.cholesky`` to a batch of matrices (see
``shared/known-issues/cholesky_hessian_hang.py``). The engine computes the
observed information of every model by forward-over-reverse differentiation,
so the log-densities of mixtures and of the normal with missing values never
call LAPACK: the Cholesky factor, its log-determinant and the triangular solve
below are unrolled over the (small, static) dimension :math:`d` and vectorized
over any leading batch axes. Cost is :math:`O(d^3)` operations per matrix,
each one an array operation over the batch; compile time grows as
:math:`d^3`, so this is meant for :math:`d \lesssim 15`.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["chol_unrolled", "logdet_from_chol", "mvn_logpdf", "solve_lower"]


def chol_unrolled(S):
    """Lower Cholesky factor of symmetric PD ``S`` (..., d, d), as a list of rows.

    ``L[i][j]`` (``j <= i``) is an array of the batch shape; a non-PD matrix
    gives NaN (square root of a negative pivot), never a silent value.
    """
    d = S.shape[-1]
    L = [[None] * d for _ in range(d)]
    for j in range(d):
        s = S[..., j, j]
        for m in range(j):
            s = s - L[j][m] * L[j][m]
        ljj = jnp.sqrt(s)
        L[j][j] = ljj
        for i in range(j + 1, d):
            t = S[..., i, j]
            for m in range(j):
                t = t - L[i][m] * L[j][m]
            L[i][j] = t / ljj
    return L


def logdet_from_chol(L):
    """:math:`\\log\\det S = 2\\sum_j \\log L_{jj}` from :func:`chol_unrolled`."""
    return 2.0 * sum(jnp.log(L[j][j]) for j in range(len(L)))


def solve_lower(L, r):
    """Solve :math:`Lz = r` by forward substitution; ``r`` (..., d) broadcasts."""
    d = len(L)
    z = []
    for j in range(d):
        t = r[..., j]
        for m in range(j):
            t = t - L[j][m] * z[m]
        z.append(t / L[j][j])
    return z


def mvn_logpdf(x, mean, cov):
    """Normal log-density, broadcasting ``x - mean`` against ``cov`` (..., d, d).

    ``x - mean`` has shape (..., d); the batch axes of ``cov`` broadcast with
    its leading axes. Safe inside ``jax.hessian`` (no LAPACK call).
    """
    d = cov.shape[-1]
    L = chol_unrolled(cov)
    z = solve_lower(L, x - mean)
    maha = sum(zj * zj for zj in z)
    return -0.5 * (d * jnp.log(2.0 * jnp.pi) + logdet_from_chol(L) + maha)
