r"""Symmetric eigen-decomposition of small matrices without LAPACK (cyclic Jacobi).

Why: on the CPU, the first program that lowers a LAPACK operation
(``jnp.linalg.eigh``) makes jaxlib import ``scipy.linalg`` to find the LAPACK
kernels: about 0.2 s of every fresh process, a fifth of the time from process
start to the first summary of a small model. Fits of small data (see
``likelihax.engine._fit``) therefore decompose their information matrix with this
pure-JAX routine when it has at most ``JACOBI_MAX`` rows; everything else uses
LAPACK.

Algorithm: the cyclic Jacobi method with a round-robin ordering (Golub & Van
Loan, 2013, sec. 8.5): each round applies :math:`m/2` disjoint plane rotations
at once, as one orthogonal matrix :math:`J`, :math:`A \leftarrow J^\top A J`,
:math:`V \leftarrow V J`; :math:`m - 1` rounds make a sweep, and sweeps repeat
until the off-diagonal part is below :math:`10^{-30}\lVert A\rVert_F^2` (it
converges quadratically; 5-8 sweeps here). Jacobi's eigenvalues carry small
*relative* errors, at least as accurate as LAPACK's ``syevd``. An odd size is
padded with an isolated zero row and column, which no rotation touches.

Reference: Golub, G. H. & Van Loan, C. F. (2013). *Matrix Computations*, 4th
ed., Algorithms 8.5.1-8.5.3.
"""

from __future__ import annotations

import contextlib
import threading

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["JACOBI_MAX", "jacobi_eigh", "small_linalg", "use_jacobi"]

JACOBI_MAX = 12
MAX_SWEEPS = 30
_state = threading.local()


@contextlib.contextmanager
def small_linalg():
    """While tracing inside this context, small eigen-decompositions use Jacobi."""
    old = getattr(_state, "on", False)
    _state.on = True
    try:
        yield
    finally:
        _state.on = old


def use_jacobi(k: int) -> bool:
    """True inside :func:`small_linalg` for matrices of at most ``JACOBI_MAX`` rows."""
    return bool(getattr(_state, "on", False)) and k <= JACOBI_MAX


def _schedule(m: int) -> np.ndarray:
    """Round-robin pairs: ``(m - 1, m // 2, 2)``, every pair once per sweep."""
    players = list(range(m))
    rounds = []
    for _ in range(m - 1):
        rounds.append([(players[i], players[m - 1 - i]) for i in range(m // 2)])
        players = [players[0], players[-1], *players[1:-1]]
    return np.array(rounds, dtype=np.int32)


def _rotation(app, aqq, apq):
    """Jacobi rotation ``(t, c, s)`` that zeroes ``apq`` (Golub & Van Loan 8.5.2).

    ``t = tan(theta)``, ``c = cos``, ``s = sin``; no rotation where
    ``|apq|`` is below the smallest normal number.
    """
    nz = jnp.abs(apq) > jnp.finfo(apq.dtype).tiny
    tau = (aqq - app) / (2.0 * jnp.where(nz, apq, 1.0))
    sgn = jnp.where(tau >= 0, 1.0, -1.0)
    t = jnp.where(nz, sgn / (jnp.abs(tau) + jnp.sqrt(1.0 + tau * tau)), 0.0)
    c = 1.0 / jnp.sqrt(1.0 + t * t)
    return t, c, t * c


def _eigh2(A):
    """One Jacobi rotation diagonalizes a 2 x 2 matrix exactly: the closed form.

    Two-parameter models (location-scale families, most distribution fits) are
    common; this keeps their fit program free of the sweep loop (a smaller
    program traces and lowers faster in a fresh process).
    """
    a, b, c = A[0, 0], A[0, 1], A[1, 1]
    t, cs, sn = _rotation(a, c, b)
    w = jnp.stack([a - t * b, c + t * b])  # J' A J with J = [[cs, sn], [-sn, cs]]
    V = jnp.stack([jnp.stack([cs, sn]), jnp.stack([-sn, cs])])
    swap = w[0] > w[1]
    return jnp.where(swap, w[::-1], w), jnp.where(swap, V[:, ::-1], V)


def jacobi_eigh(A):
    """``(w, V)`` with ascending eigenvalues ``w`` and orthonormal columns ``V``.

    Same contract as ``jnp.linalg.eigh`` for one real symmetric matrix.
    """
    k = A.shape[-1]
    if k == 1:
        return A[0], jnp.ones_like(A)
    if k == 2:
        return _eigh2(A)
    m = k + (k % 2)
    if m != k:
        A = jnp.pad(A, ((0, 1), (0, 1)))
    sched = jnp.asarray(_schedule(m))
    eye = jnp.eye(m, dtype=A.dtype)
    fro2 = jnp.sum(A * A)

    def rotation(A, r):
        p, q = sched[r, :, 0], sched[r, :, 1]
        _, c, s = _rotation(A[p, p], A[q, q], A[p, q])
        J = jnp.zeros_like(A)
        J = J.at[p, p].set(c).at[q, q].set(c).at[p, q].set(s).at[q, p].set(-s)
        return J

    def sweep(carry):
        A, V, n = carry

        def one(r, av):
            A, V = av
            J = rotation(A, r)
            return J.T @ A @ J, V @ J

        A, V = jax.lax.fori_loop(0, m - 1, one, (A, V))
        return A, V, n + 1

    def off(A):  # summed directly: a difference of sums would cancel
        return jnp.sum(jnp.where(eye > 0, 0.0, A * A))

    def cond(carry):
        A, _, n = carry
        return (n < MAX_SWEEPS) & (off(A) > 1e-30 * fro2)

    A, V, _ = jax.lax.while_loop(cond, sweep, (A, eye, jnp.zeros((), jnp.int32)))
    w, V = jnp.diag(A)[:k], V[:k, :k]
    order = jnp.argsort(w)
    return w[order], V[:, order]
