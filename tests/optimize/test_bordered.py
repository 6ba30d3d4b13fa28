"""The bordered block-diagonal Cholesky against the dense factorization.

log-determinant, solves and their first and second derivatives equal those of
``numpy.linalg`` / ``jnp.linalg`` on the dense matrix, for a dense and a sparse
border; the Gershgorin shift makes an indefinite matrix factorizable.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from likelihax.core import x64_scope
from likelihax.optimize import Bordered, border_pairs, bordered_chol


def _random(seed=1, n=6, q=2, r=7, m=3):
    """Blocks, a sparse border (block l uses its first counts[l] slots; the
    rest are padding: column 0, value 0) and the rest."""
    rng = np.random.default_rng(seed)
    cols = np.stack([rng.choice(r, m, replace=False) for _ in range(n)]).astype(np.int32)
    counts = rng.integers(1, m + 1, n)
    counts[0] = m
    vals = rng.normal(size=(n, q, m))
    pad = np.arange(m)[None, :] >= counts[:, None]
    cols[pad] = 0
    vals[np.broadcast_to(pad[:, None, :], vals.shape)] = 0.0
    _random.counts = counts
    A11 = np.stack([(lambda G: G @ G.T + 5 * np.eye(q))(rng.normal(size=(q, q)))
                    for _ in range(n)])  # fmt: skip
    A22 = (lambda G: G @ G.T + 20 * np.eye(r))(rng.normal(size=(r, r)))
    return A11, vals, A22, cols


def _layout(kind, A11, vals, A22, cols):
    """The same matrix with a dense border, a padded sparse one, or a sparse
    one with its slot pairs (:func:`border_pairs`)."""
    Bs = Bordered(A11, vals, A22, cols)
    if kind == "dense":
        return Bordered(A11, Bs.border(), A22)
    if kind == "pairs":
        return Bs._replace(pairs=jnp.asarray(border_pairs(cols, _random.counts, A22.shape[0])))
    return Bs


KINDS = ["dense", "padded", "pairs"]


def test_border_pairs_lists_each_used_pair_once():
    _, _, A22, cols = _random()
    P = border_pairs(cols, _random.counts, A22.shape[0])
    m = cols.shape[1]
    blk, a, b = P[0] // m, P[0] % m, P[1] % m
    assert np.all(P[1] // m == blk)
    assert np.all(np.diff(P[2]) >= 0)  # sorted for the scatter
    np.testing.assert_array_equal(P[2], cols[blk, a] * A22.shape[0] + cols[blk, b])
    assert np.all(cols[blk, a] >= cols[blk, b])
    assert P.shape[1] == int(np.sum(_random.counts * (_random.counts + 1) // 2))
    assert np.all(a < _random.counts[blk]) and np.all(b < _random.counts[blk])


@pytest.mark.parametrize("kind", KINDS)
def test_logdet_and_solve_equal_the_dense_ones(kind):
    with x64_scope():
        A11, vals, A22, cols = (jnp.asarray(a) for a in _random())
        B = _layout(kind, A11, vals, A22, cols)
        M = np.asarray(B.dense())
        F = bordered_chol(B)
        assert float(F.logdet()) == pytest.approx(np.linalg.slogdet(M)[1], rel=1e-13)
        rng = np.random.default_rng(2)
        b = rng.normal(size=(M.shape[0], 3))
        n, q = A11.shape[:2]
        x1, x2 = F.solve(jnp.asarray(b[: n * q].reshape(n, q, 3)), jnp.asarray(b[n * q:]))
        x = np.r_[np.asarray(x1).reshape(n * q, 3), np.asarray(x2)]
        np.testing.assert_allclose(x, np.linalg.solve(M, b), rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("kind", KINDS)
def test_derivatives_equal_the_dense_ones(kind):
    """First and second derivatives of log det A(t) and of b'A(t)^-1 b, with t
    scaling the blocks, the border and the rest: as jnp.linalg on the dense A."""
    with x64_scope():
        A11, vals, A22, cols = (jnp.asarray(a) for a in _random(seed=3))
        n, q = A11.shape[:2]
        b = jnp.asarray(np.random.default_rng(4).normal(size=(n * q + A22.shape[0],)))

        def make(t):
            return _layout(kind, A11 * jnp.exp(t[0]), vals * t[1], A22 * jnp.exp(t[2]), cols)

        def f(t):
            B = make(t)
            F = bordered_chol(B)
            x1, x2 = F.solve(jnp.reshape(b[: n * q], (n, q, 1)), b[n * q:, None])
            return F.logdet() + jnp.sum(b[: n * q] * jnp.ravel(x1)) + b[n * q:] @ x2[:, 0]

        def f_dense(t):
            M = _layout("dense", A11 * jnp.exp(t[0]), vals * t[1], A22 * jnp.exp(t[2]),
                        cols).dense()  # fmt: skip
            return jnp.linalg.slogdet(M)[1] + b @ jnp.linalg.solve(M, b)

        t = jnp.array([0.1, 0.8, -0.2])
        np.testing.assert_allclose(jax.grad(f)(t), jax.grad(f_dense)(t), rtol=1e-10)
        np.testing.assert_allclose(jax.hessian(f)(t), jax.hessian(f_dense)(t), rtol=1e-9,
                                   atol=1e-12)  # fmt: skip


def test_gershgorin_shift_makes_it_positive_definite():
    with x64_scope():
        A11, vals, A22, cols = (jnp.asarray(a) for a in _random(seed=5))
        B = Bordered(-A11, vals, A22, cols)  # indefinite
        assert not bool(bordered_chol(B).is_finite())
        S = B.shift(B.gershgorin_shift())
        assert bool(bordered_chol(S).is_finite())
        assert np.linalg.eigvalsh(np.asarray(S.dense())).min() > 0
