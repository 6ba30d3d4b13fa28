r"""Small symmetric positive-definite matrices: Cholesky, solves and a normal density,
unrolled over the static size and written with elementwise operations only.

Why: on XLA:CPU with jaxlib 0.10.2, ``jax.jit(jax.hessian(f))`` can hang when
``f`` applies ``jnp.linalg.cholesky`` to a batch of matrices
(guarded by ``tests/models/mixed/test_laplace.py::test_outer_hessian_does_not_hang``
and ``tests/models/mixtures/test_em.py::test_gmm_hessian_does_not_hang``). The engine computes the
observed information of every model by forward-over-reverse differentiation,
so log-likelihoods that factor a batch of small matrices (the components of
a Gaussian mixture, the normal with missing values, the per-group blocks of
the Laplace approximation) use these functions instead of LAPACK. Unrolled
code is also fully fused under ``vmap`` (no custom call per matrix) and
differentiable to any order.

The factor :math:`L` (:func:`chol`) is a nested list: ``L[i][j]`` (``j <= i``)
is an array of the batch shape ``A.shape[:-2]``, so every operation acts on a
whole batch at once. Cost is :math:`O(d^3)` traced operations per matrix and
compile time grows as :math:`d^3`: meant for :math:`d \lesssim 15`. A matrix
that is not positive definite gives NaN (the square root of a negative
pivot), which callers turn into a status, never into a silently wrong value.

The symmetric eigen-decomposition of small matrices without LAPACK (cyclic
Jacobi, for the optimizer's information matrix) is in
:mod:`likelihax.optimize._jacobi`.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = [
    "chol",
    "chol_inverse",
    "chol_logdet",
    "chol_solve",
    "mvn_logpdf",
    "solve_lower",
]


def chol(A):
    """Lower Cholesky factor of symmetric positive-definite ``A`` (``(..., d, d)``).

    Parameters
    ----------
    A : array (..., d, d)
        Symmetric positive-definite matrices; only the lower triangle is read.

    Returns
    -------
    list of lists
        ``L[i][j]`` (``j <= i``), each an array of shape ``A.shape[:-2]``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import chol
    >>> L = chol(jnp.array([[4.0, 2.0], [2.0, 5.0]]))
    >>> [float(L[0][0]), float(L[1][0]), float(L[1][1])]
    [2.0, 1.0, 2.0]
    """
    d = A.shape[-1]
    L = [[None] * d for _ in range(d)]
    for j in range(d):
        s = A[..., j, j]
        for k in range(j):
            s = s - L[j][k] * L[j][k]
        L[j][j] = jnp.sqrt(s)
        for i in range(j + 1, d):
            t = A[..., i, j]
            for k in range(j):
                t = t - L[i][k] * L[j][k]
            L[i][j] = t / L[j][j]
    return L


def chol_logdet(L):
    """:math:`\\log\\det A = 2\\sum_j \\log L_{jj}` from :func:`chol`'s factor.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import chol, chol_logdet
    >>> round(float(chol_logdet(chol(jnp.array([[4.0, 2.0], [2.0, 5.0]])))), 6)
    2.772589
    """
    return 2.0 * sum(jnp.log(L[j][j]) for j in range(len(L)))


def solve_lower(L, r):
    """Solve :math:`L z = r` by forward substitution; ``z`` as a list of ``d`` arrays.

    ``r`` has shape ``(..., d)`` and broadcasts against the batch shape of
    ``L``. :math:`\\sum_j z_j^2 = r^\\top A^{-1} r`.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import chol, solve_lower
    >>> L = chol(jnp.array([[4.0, 2.0], [2.0, 5.0]]))
    >>> [float(zj) for zj in solve_lower(L, jnp.array([2.0, 3.0]))]
    [1.0, 1.0]
    """
    z = []
    for j in range(len(L)):
        t = r[..., j]
        for k in range(j):
            t = t - L[j][k] * z[k]
        z.append(t / L[j][j])
    return z


def chol_solve(L, b):
    """Solve :math:`A x = b` (``b``: ``(..., d)``) given :func:`chol`'s factor.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import chol, chol_solve
    >>> L = chol(jnp.array([[4.0, 2.0], [2.0, 5.0]]))
    >>> chol_solve(L, jnp.array([6.0, 7.0])).tolist()
    [1.0, 1.0]
    """
    z = solve_lower(L, b)
    d = len(L)
    x = [None] * d
    for i in reversed(range(d)):  # L' x = z
        s = z[i]
        for k in range(i + 1, d):
            s = s - L[k][i] * x[k]
        x[i] = s / L[i][i]
    return jnp.stack(x, axis=-1)


def chol_inverse(L):
    """:math:`A^{-1}` (``(..., d, d)``) given :func:`chol`'s factor.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import chol, chol_inverse
    >>> (16 * chol_inverse(chol(jnp.array([[4.0, 2.0], [2.0, 5.0]])))).tolist()
    [[5.0, -2.0], [-2.0, 4.0]]
    """
    d = len(L)
    shape = L[0][0].shape
    cols = [
        chol_solve(L, jnp.zeros(shape + (d,), L[0][0].dtype).at[..., j].set(1.0))
        for j in range(d)
    ]
    return jnp.stack(cols, axis=-1)


def mvn_logpdf(x, mean, cov):
    """Multivariate normal log-density, broadcasting ``x - mean`` against ``cov``.

    Parameters
    ----------
    x, mean : arrays (..., d)
        ``x - mean`` has shape ``(..., d)``; its leading axes broadcast with the
        batch axes of ``cov``.
    cov : array (..., d, d)
        Covariance matrices.

    Returns
    -------
    array
        :math:`-\\tfrac12 (d \\log 2\\pi + \\log\\det\\Sigma + r^\\top\\Sigma^{-1} r)`;
        NaN where ``cov`` is not positive definite. Safe inside
        ``jax.hessian`` (no LAPACK call).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import mvn_logpdf
    >>> round(float(mvn_logpdf(jnp.zeros(2), 0.0, jnp.eye(2))), 6)  # -log(2 pi)
    -1.837877
    """
    d = cov.shape[-1]
    L = chol(cov)
    z = solve_lower(L, x - mean)
    maha = sum(zj * zj for zj in z)
    return -0.5 * (d * jnp.log(2.0 * jnp.pi) + chol_logdet(L) + maha)
