r"""Symmetric banded matrices: LAPACK's banded Cholesky, differentiable once.

The latent Hessian of a latent time series (an AR1 or random-walk state
vector: each transition touches two neighbouring states) is tridiagonal, and
that of a Gaussian Markov random field on a lattice becomes banded, of
bandwidth about the lattice's width, once its entries are put in reverse
Cuthill-McKee order (:func:`scipy.sparse.csgraph.reverse_cuthill_mckee`).
Held dense, a series of 10,000 states needs an 800 MB matrix and a
:math:`10^{12}`-flop factorization; held as its band of width :math:`b`, it
needs :math:`(b + 1) n` numbers and :math:`O(n b^2)` flops.

The factorization and the solves are LAPACK's (``pbtrf``/``pbtrs`` through
:func:`scipy.linalg.cholesky_banded` and :func:`scipy.linalg.cho_solve_banded`)
on the host (``buffer_callback`` through ``host_call``, as :mod:`likelihax.optimize._host` does
for dense matrices). Derivatives:

* :func:`banded_solve` :math:`x = A^{-1} c` is a
  ``jax.lax.custom_linear_solve``: linear in :math:`c`, with the rule
  :math:`dx = A^{-1}(dc - dA\,x)`, itself a banded solve, so it is
  differentiable to any order.
* :func:`banded_logdet` has the rule :math:`d\log\det A = \operatorname{tr}(Z\,dA)`,
  which reads only the entries of :math:`Z = A^{-1}` inside the band. They
  are computed from the factor by the recursion of Takahashi, Fagan and Chin
  (1973), the "selected inverse", in :math:`O(n b^2)`, written here as a
  ``jax.lax.scan`` (no library offers it for banded matrices; it is a
  recursion on an existing factor, not a factorization). The rule is not
  differentiable again: a second derivative of :math:`\log\det A` needs
  entries of :math:`A^{-1}` outside the band. Models that need curvature
  (the Laplace approximation's standard errors) differentiate the exact
  gradient instead, as TMB's ``sdreport`` does
  (:mod:`likelihax.models.random_effects._joint`).

Reference: Takahashi, K., Fagan, J. & Chin, M.-S. (1973). Formation of a sparse
bus impedance matrix and its application to short circuit study. *8th PICA
Conference Proceedings*, 63-69.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._host import host_call

__all__ = [
    "Banded",
    "banded_cholesky",
    "banded_direction",
    "banded_logdet",
    "banded_solve",
    "selected_inverse",
]


class Banded(NamedTuple):
    """A symmetric banded matrix in LAPACK's lower band storage, permuted.

    Attributes
    ----------
    ab : array (b + 1, n)
        ``ab[k, j]`` is the entry ``(j + k, j)`` of the permuted matrix
        :math:`P A P^\\top` (zero where ``j + k >= n``).
    perm : int array (n,), optional
        ``perm[i]`` is the original index of permuted entry ``i`` (None: no
        permutation).
    """

    ab: jax.Array
    perm: jax.Array | None = None

    @property
    def n(self) -> int:
        return self.ab.shape[1]

    @property
    def bandwidth(self) -> int:
        return self.ab.shape[0] - 1

    def to_band(self, x):
        """Vector(s) in the original order to the band's order."""
        return x if self.perm is None else x[self.perm]

    def from_band(self, x):
        """Vector(s) in the band's order to the original order."""
        if self.perm is None:
            return x
        return jnp.zeros_like(x).at[self.perm].set(x, unique_indices=True)

    def matvec_band(self, x):
        """:math:`(P A P^\\top) x` for ``x`` ``(n,)`` or ``(n, k)`` in the band's order."""
        ab = self.ab if x.ndim == 1 else self.ab[..., None]
        y = ab[0] * x
        n = self.n
        for k in range(1, self.bandwidth + 1):
            y = y.at[k:].add(ab[k, : n - k] * x[: n - k])
            y = y.at[: n - k].add(ab[k, : n - k] * x[k:])
        return y

    def dense(self) -> jax.Array:
        """The whole ``(n, n)`` matrix in the original order (tests, small cases)."""
        n = self.n
        M = jnp.diag(self.ab[0])
        for k in range(1, self.bandwidth + 1):
            M = M + jnp.diag(self.ab[k, : n - k], -k) + jnp.diag(self.ab[k, : n - k], k)
        if self.perm is None:
            return M
        out = jnp.zeros_like(M)
        return out.at[self.perm[:, None], self.perm[None, :]].set(M)

    def shift(self, tau):
        """:math:`A + \\tau I`."""
        return self._replace(ab=self.ab.at[0].add(tau))

    def gershgorin_shift(self):
        """Smallest :math:`\\tau \\ge 0` making :math:`A + \\tau I` diagonally
        dominant, plus :math:`10^{-8}` of the largest diagonal entry."""
        n = self.n
        off = jnp.zeros_like(self.ab[0])
        for k in range(1, self.bandwidth + 1):
            a = jnp.abs(self.ab[k, : n - k])
            off = off.at[: n - k].add(a).at[k:].add(a)
        d = self.ab[0]
        need = jnp.max(off - d, initial=0.0)
        return jnp.maximum(need, 0.0) + 1e-8 * jnp.max(jnp.abs(d), initial=0.0)


# ----- the host side ------------------------------------------------------------------------
def _host_factor(ab, dtype):
    """LAPACK ``pbtrf``; NaN factor when not positive definite."""
    from scipy.linalg import cholesky_banded

    try:
        return cholesky_banded(ab, lower=True, check_finite=False)
    except (np.linalg.LinAlgError, ValueError):
        return np.full(ab.shape, np.nan, dtype)


def _host_chol(ab, dtype):
    return (_host_factor(ab, dtype),)


def _host_solve(ab, c, dtype):
    from scipy.linalg import cho_solve_banded

    L = _host_factor(ab, dtype)
    if not np.all(np.isfinite(L)):
        return (np.full(c.shape, np.nan, dtype),)
    return (cho_solve_banded((L, True), c, check_finite=False),)


def _callback(fn, out_shape, dtype, *args):
    return host_call(fn, [out_shape], dtype, *args)[0]


def banded_cholesky(ab):
    """LAPACK's lower banded Cholesky factor (``pbtrf``, on the host).

    Parameters
    ----------
    ab : array (b + 1, n)
        Lower band storage of a symmetric matrix (:class:`Banded`).

    Returns
    -------
    array (b + 1, n)
        The factor :math:`L` (:math:`A = L L^\\top`) in the same storage; NaN
        where the matrix is not positive definite. Not differentiable (the
        log-determinant and solves have their own rules).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import banded_cholesky
    >>> L = banded_cholesky(jnp.array([[4.0, 5.0], [2.0, 0.0]]))   # [[4, 2], [2, 5]]
    >>> [round(float(v), 6) for v in L.ravel()]
    [2.0, 2.0, 1.0, 0.0]
    """
    return _callback(_host_chol, ab.shape, ab.dtype, ab)


def selected_inverse(L):
    """The band of :math:`A^{-1}` from the banded factor ``L`` of :math:`A = L L^\\top`.

    Parameters
    ----------
    L : array (b + 1, n)
        Lower band storage of the Cholesky factor (:func:`banded_cholesky`).

    Returns
    -------
    array (b + 1, n)
        ``Z[k, j]`` is the entry ``(j + k, j)`` of :math:`A^{-1}` (module
        notes: the Takahashi recursion, from the last column to the first).

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp
    >>> from likelihax.optimize import banded_cholesky, selected_inverse
    >>> ab = jnp.array([[4.0, 5.0, 6.0], [1.0, 2.0, 0.0]])  # tridiagonal
    >>> A = np.diag([4.0, 5, 6]) + np.diag([1.0, 2], 1) + np.diag([1.0, 2], -1)
    >>> Z = selected_inverse(banded_cholesky(ab))
    >>> bool(np.allclose(Z[0], np.diag(np.linalg.inv(A))))
    True
    >>> bool(np.allclose(Z[1, :2], np.diag(np.linalg.inv(A), -1)))
    True
    """
    b = L.shape[0] - 1
    d = L[0]
    ell = L[1:] / d  # (b, n): column j below its diagonal, scaled

    def step(W, j):
        # W: the b x b block of Z for the entries j+1..j+b (zero past the end)
        lj = ell[:, j]
        z_off = -W @ lj
        z_jj = 1.0 / d[j] ** 2 - lj @ z_off
        top = jnp.concatenate([z_jj[None], z_off])
        if b == 0:
            return W, top
        newW = jnp.concatenate([top[None, :b], jnp.concatenate(
            [z_off[: b - 1, None], W[: b - 1, : b - 1]], axis=1)], axis=0)  # fmt: skip
        return newW, top

    W0 = jnp.zeros((b, b), L.dtype)
    _, cols = jax.lax.scan(step, W0, jnp.arange(L.shape[1]), reverse=True)
    return cols.T  # (b + 1, n)


@jax.custom_jvp
def banded_logdet(ab):
    """:math:`\\log\\det A` of a symmetric positive-definite banded matrix
    (lower band storage); NaN where not positive definite. Differentiable
    once (module notes).

    Examples
    --------
    >>> import math, jax.numpy as jnp
    >>> from likelihax.optimize import banded_logdet
    >>> ab = jnp.array([[4.0, 5.0, 6.0], [1.0, 2.0, 0.0]])
    >>> abs(float(banded_logdet(ab)) - math.log(98.0)) < 1e-5   # det = 4*26 - 1*6
    True
    """
    L = banded_cholesky(ab)
    return 2.0 * jnp.sum(jnp.log(L[0]))


@banded_logdet.defjvp
def _banded_logdet_jvp(primals, tangents):
    (ab,), (dab,) = primals, tangents
    L = banded_cholesky(ab)
    Z = selected_inverse(jax.lax.stop_gradient(L))
    w = jnp.where(jnp.arange(ab.shape[0])[:, None] == 0, 1.0, 2.0).astype(ab.dtype)
    return 2.0 * jnp.sum(jnp.log(L[0])), jnp.sum(w * Z * dab)


def banded_solve(ab, c):
    """:math:`A^{-1} c` for a symmetric positive-definite banded ``A`` (lower band
    storage, no permutation) and ``c`` ``(n,)`` or ``(n, k)``.

    A ``jax.lax.custom_linear_solve`` around LAPACK's banded solve: linear in
    ``c`` (so transposable, for reverse mode) and differentiable in ``ab`` to
    any order, by :math:`dx = A^{-1}(dc - dA\\,x)`.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import banded_solve
    >>> x = banded_solve(jnp.array([[2.0, 2.0], [1.0, 0.0]]), jnp.array([3.0, 3.0]))
    >>> [round(float(v), 6) for v in x]
    [1.0, 1.0]
    """
    dtype = jnp.result_type(ab, c)
    ab, c = ab.astype(dtype), c.astype(dtype)
    host = jax.lax.stop_gradient(ab)

    def solve(_, rhs):
        return _callback(_host_solve, rhs.shape, dtype, host, rhs)

    return jax.lax.custom_linear_solve(lambda x: Banded(ab).matvec_band(x), c, solve,
                                       symmetric=True)  # fmt: skip


def banded_direction(A: Banded, g):
    """Newton direction :math:`-A^{-1} g` (original order); where :math:`A` is not
    positive definite, of :math:`A + \\tau I` with its Gershgorin shift (a
    descent direction). Not for differentiation."""
    gb = A.to_band(g)
    x = banded_solve(A.ab, gb)
    x = jax.lax.cond(jnp.all(jnp.isfinite(x)), lambda _: x,
                     lambda _: banded_solve(A.shift(A.gershgorin_shift()).ab, gb), None)  # fmt: skip
    return -A.from_band(x)
