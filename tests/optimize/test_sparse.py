"""Sparse symmetric matrices (QDLDL's LDL' factorization) against dense linear algebra.

The log-determinant, solves, the selected inverse (Takahashi's recursion on
the LDL' factor) and their derivatives equal those of ``numpy.linalg`` /
``jnp.linalg`` on the dense matrix; a matrix that is not positive definite
gives NaN, and its Newton direction is a descent direction; bad input and a
missing ``qdldl`` give clear errors.
"""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse as sp

from likelihax.core import x64_scope
from likelihax.optimize import (
    SparsePattern,
    SparseSym,
    ldl_selected_inverse,
    sparse_direction,
    sparse_logdet,
    sparse_selected_inverse,
    sparse_solve,
)

qdldl = pytest.importorskip("qdldl")


def _mesh(n=120, seed=0):
    """Edges of a Delaunay triangulation of random points (an irregular graph)."""
    from scipy.spatial import Delaunay

    pts = np.random.default_rng(seed).random((n, 2))
    s = Delaunay(pts).simplices
    return np.unique(np.sort(np.concatenate([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]]), 1),
                     axis=0)  # fmt: skip


def _matrix(n=120, seed=0, shift=0.3):
    """A positive-definite matrix on the mesh: a weighted graph Laplacian plus a diagonal."""
    e = _mesh(n, seed)
    pat = SparsePattern(e[:, 0], e[:, 1], n)
    rng = np.random.default_rng(seed + 1)
    off = pat.rows != pat.cols
    w = np.where(off, -(0.5 + rng.random(pat.nnz)), 0.0)
    deg = np.bincount(pat.rows[off], -w[off], n) + np.bincount(pat.cols[off], -w[off], n)
    w[pat.diag] = deg + shift + rng.random(n)
    return SparseSym(jnp.asarray(w), pat)


def test_pattern_and_matrix_products():
    with x64_scope():
        A = _matrix()
        p = A.pattern
        assert np.all(p.rows <= p.cols) and p.nnz == p.diag.size + _mesh().shape[0]
        M = np.asarray(A.dense())
        np.testing.assert_array_equal(M, M.T)
        x = np.random.default_rng(2).normal(size=(p.n, 3))
        np.testing.assert_allclose(A.matvec(jnp.asarray(x)), M @ x, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(A.matvec(jnp.asarray(x[:, 0])), M @ x[:, 0], rtol=1e-13,
                                   atol=1e-13)  # fmt: skip
        # positions: both triangles map to the stored upper entry
        e = _mesh()
        np.testing.assert_array_equal(p.position(e[:, 0], e[:, 1]), p.position(e[:, 1], e[:, 0]))
        assert np.all(p.position(e[:, 0], e[:, 1]) >= 0)
        assert SparsePattern(e[::-1, 1], e[::-1, 0], p.n) == p


def test_ldl_selected_inverse_equals_dense_inverse_on_the_pattern():
    """Takahashi's recursion on QDLDL's factor: every entry of L's pattern (fill
    included) and the diagonal, against numpy's inverse of the permuted matrix."""
    with x64_scope():
        A = _matrix(150, seed=3)
        M = np.asarray(A.dense())
    U = sp.triu(sp.csc_matrix(M), format="csc")
    L, D, perm = qdldl.Solver(U, upper=True).factors()
    L = L.tocsc()
    L.sort_indices()
    assert L.nnz > A.pattern.nnz - A.pattern.n  # the factor has fill
    Zi = np.linalg.inv(M[np.ix_(perm, perm)])
    z, zd = ldl_selected_inverse(L, D)
    cols = np.repeat(np.arange(M.shape[0]), np.diff(L.indptr))
    np.testing.assert_allclose(zd, np.diag(Zi), rtol=1e-12)
    np.testing.assert_allclose(z, Zi[L.indices, cols], rtol=1e-10, atol=1e-14)


def test_logdet_solve_and_selected_inverse_equal_dense():
    with x64_scope():
        A = _matrix(130, seed=4)
        M = np.asarray(A.dense())
        assert float(sparse_logdet(A)) == pytest.approx(np.linalg.slogdet(M)[1], rel=1e-13)
        c = np.random.default_rng(5).normal(size=(M.shape[0], 2))
        np.testing.assert_allclose(sparse_solve(A, jnp.asarray(c)), np.linalg.solve(M, c),
                                   rtol=1e-11)  # fmt: skip
        np.testing.assert_allclose(sparse_solve(A, jnp.asarray(c[:, 1])),
                                   np.linalg.solve(M, c[:, 1]), rtol=1e-11)  # fmt: skip
        Zi = np.linalg.inv(M)
        z = np.asarray(sparse_selected_inverse(A))
        np.testing.assert_allclose(z, Zi[A.pattern.rows, A.pattern.cols], rtol=1e-10, atol=1e-14)


def test_derivatives_equal_dense():
    """First derivatives of log det and of a solve; second derivatives of the
    solve (any order by its rule); all as jnp.linalg on the dense matrix; and
    under jit, vmap and with a new matrix of the same structure."""
    with x64_scope():
        A0 = _matrix(40, seed=6)
        E = jnp.asarray(np.random.default_rng(7).normal(size=A0.pattern.nnz))
        c = jnp.asarray(np.random.default_rng(8).normal(size=A0.n))

        def mat(t):
            return SparseSym(A0.values * jnp.exp(t[0]) + t[1] * E, A0.pattern)

        def f(t, dense):
            A = mat(t)
            if dense:
                M = A.dense()
                return jnp.linalg.slogdet(M)[1] + (c * t[2]) @ jnp.linalg.solve(M, c)
            return sparse_logdet(A) + (c * t[2]) @ sparse_solve(A, c)

        def g(t, dense):
            A = mat(t)
            x = jnp.linalg.solve(A.dense(), c * t[2]) if dense else sparse_solve(A, c * t[2])
            return jnp.sum(x**2)

        t = jnp.array([0.1, 0.05, 1.2])
        grad = jax.jit(jax.grad(f), static_argnums=1)
        hess = jax.jit(jax.hessian(g), static_argnums=1)
        batch = jax.jit(jax.vmap(f, in_axes=(0, None)), static_argnums=1)
        np.testing.assert_allclose(grad(t, False), grad(t, True), rtol=1e-10)
        np.testing.assert_allclose(hess(t, False), hess(t, True), rtol=1e-9, atol=1e-13)
        ts = jnp.stack([t, t * 0.5])
        np.testing.assert_allclose(batch(ts, False), batch(ts, True), rtol=1e-12)


def test_not_positive_definite_gives_nan_and_a_descent_direction():
    with x64_scope():
        A = _matrix(80, seed=9, shift=0.2)
        g = jnp.asarray(np.random.default_rng(10).normal(size=A.n))
        np.testing.assert_allclose(sparse_direction(A, g), -np.linalg.solve(A.dense(), g),
                                   rtol=1e-11)  # fmt: skip
        assert np.isfinite(float(sparse_logdet(A)))  # the structure now holds a factor
        # indefinite, same structure: the cached factorization is replaced
        neg = A.shift(-2.0 * float(jnp.max(A.diagonal())))
        assert np.isnan(float(sparse_logdet(neg)))
        assert np.all(np.isnan(sparse_solve(neg, g)))
        assert np.all(np.isnan(sparse_selected_inverse(neg)))
        d = sparse_direction(neg, g)
        assert np.all(np.isfinite(d)) and float(d @ g) < 0
        # singular (a zero pivot, here in the first factorization of a structure)
        pat = SparsePattern([0], [1], 2)
        sing = SparseSym(jnp.array([1.0, 1.0, 1.0]), pat)
        assert np.isnan(float(sparse_logdet(sing)))
        assert np.isnan(float(sparse_logdet(SparseSym(jnp.array([1.0, jnp.nan, 2.0]), pat))))
        assert float(sparse_logdet(SparseSym(jnp.array([2.0, 1.0, 2.0]), pat))) == (
            pytest.approx(np.log(3.0), rel=1e-14))


def test_bad_input_and_missing_qdldl(monkeypatch):
    with pytest.raises(ValueError, match="outside 0..2"):
        SparsePattern([0, 3], [1, 1], 3)
    with pytest.raises(ValueError, match="differ in length"):
        SparsePattern([0, 1], [1], 3)
    monkeypatch.setitem(sys.modules, "qdldl", None)  # as if not installed
    pat = SparsePattern([0, 1], [2, 2], 3)
    with pytest.raises(ImportError, match=r"likelihax\[sparse\]"):
        pat.factor_counts()
    with x64_scope():  # inside a callback: JAX re-raises it with the message
        A = SparseSym(jnp.array([2.0, 3.0, 1.0, 1.0, 4.0]), pat)
        with pytest.raises(Exception, match=r"likelihax\[sparse\]"):
            jax.block_until_ready(sparse_logdet(A))
