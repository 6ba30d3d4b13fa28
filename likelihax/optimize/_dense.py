"""Newton directions for large dense Hessians: one LAPACK Cholesky, a shift only where it fails.

:func:`likelihax.optimize.newton_direction` eigen-decomposes the Hessian,
which is the right tool for the few parameters of a model (it sees and
reports the directions of negative curvature) but costs several times a
Cholesky factorization. For a latent vector of thousands of entries (the inner
problem of a Laplace approximation) the direction is instead one Cholesky
solve; where the matrix is not positive definite (far from the mode of a
joint density that is not log-concave), it is shifted by its Gershgorin bound,
which makes it diagonally dominant and so positive definite, and the
direction stays a descent direction.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

from ._host import host_direction

__all__ = ["cholesky_direction", "gershgorin_shift"]


def gershgorin_shift(A):
    """Smallest :math:`\\tau \\ge 0` with :math:`A + \\tau I` diagonally dominant.

    Parameters
    ----------
    A : array (d, d)
        Symmetric matrix.

    Returns
    -------
    scalar
        :math:`\\max(0, \\max_i (\\sum_{j\\ne i} |A_{ij}| - A_{ii}))` plus
        :math:`10^{-8}` of the largest diagonal entry (strict dominance).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import gershgorin_shift
    >>> round(float(gershgorin_shift(jnp.array([[1.0, 2.0], [2.0, 1.0]]))), 6)
    1.0
    """
    d = jnp.diagonal(A)
    off = jnp.sum(jnp.abs(A), axis=1) - jnp.abs(d)
    scale = jnp.max(jnp.abs(d))
    return jnp.maximum(jnp.max(off - d), 0.0) + 1e-8 * scale


def cholesky_direction(A, g):
    """Newton direction :math:`d = -A^{-1} g` by one Cholesky factorization.

    Parameters
    ----------
    A : array (d, d)
        Symmetric Hessian of the function being minimized.
    g : array (d,)
        Its gradient.

    Returns
    -------
    d : array (d,)
        :math:`-A^{-1} g`, or :math:`-(A + \\tau I)^{-1} g` with
        :math:`\\tau` = :func:`gershgorin_shift` where ``A`` is not positive
        definite (a descent direction either way).
    positive_definite : bool array
        Whether ``A`` itself was factorized.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import cholesky_direction
    >>> d, ok = cholesky_direction(jnp.array([[2.0, 0.0], [0.0, 4.0]]), jnp.array([2.0, 2.0]))
    >>> [round(float(v), 6) for v in d], bool(ok)
    ([-1.0, -0.5], True)
    """
    if jax.default_backend() == "cpu":  # LAPACK inside XLA:CPU can deadlock (._host)
        return host_direction(A, g, gershgorin_shift(A))
    L = jnp.linalg.cholesky(A)
    ok = jnp.all(jnp.isfinite(L))

    def shifted(_):
        B = A + gershgorin_shift(A) * jnp.eye(A.shape[0], dtype=A.dtype)
        return jnp.linalg.cholesky(B)

    L = jax.lax.cond(ok, lambda _: L, shifted, None)
    return -jsl.cho_solve((L, True), g), ok
