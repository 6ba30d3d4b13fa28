"""Banded matrices (LAPACK's banded Cholesky) against the dense linear algebra.

The log-determinant, solves, the selected inverse (the band of the inverse)
and their derivatives equal those of ``numpy.linalg`` / ``jnp.linalg`` on the
dense matrix; a permuted band gives the same numbers in the original order;
the Newton direction of an indefinite matrix is a descent direction.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from likelihax.core import x64_scope
from likelihax.optimize import (
    Banded,
    banded_cholesky,
    banded_direction,
    banded_logdet,
    banded_solve,
    selected_inverse,
)


def _band(n=14, b=3, seed=0):
    rng = np.random.default_rng(seed)
    ab = np.zeros((b + 1, n))
    ab[0] = 6.0 + rng.random(n)
    for k in range(1, b + 1):
        ab[k, : n - k] = 0.8 * rng.normal(size=n - k)
    return ab


@pytest.mark.parametrize("b", [0, 1, 3])
def test_logdet_solve_and_selected_inverse_equal_dense(b):
    with x64_scope():
        ab = jnp.asarray(_band(b=b))
        perm = jnp.asarray(np.random.default_rng(1).permutation(ab.shape[1]))
        A = Banded(ab, perm)
        M = np.asarray(A.dense())
        np.testing.assert_allclose(M, M.T)
        assert float(banded_logdet(ab)) == pytest.approx(np.linalg.slogdet(M)[1], rel=1e-13)
        c = np.random.default_rng(2).normal(size=(ab.shape[1], 2))
        x = A.from_band(banded_solve(ab, A.to_band(jnp.asarray(c))))
        np.testing.assert_allclose(x, np.linalg.solve(M, c), rtol=1e-12)
        # the band of the inverse, in the band's order
        Zi = np.linalg.inv(np.asarray(Banded(ab).dense()))
        Z = np.asarray(selected_inverse(banded_cholesky(ab)))
        n = ab.shape[1]
        for k in range(b + 1):
            np.testing.assert_allclose(Z[k, : n - k], np.diag(Zi, -k), rtol=1e-12, atol=1e-15)


def test_derivatives_equal_dense():
    """First derivatives of log det and of a solve; second derivatives of the
    solve (to any order by its rule); all as jnp.linalg on the dense matrix."""
    with x64_scope():
        ab0 = jnp.asarray(_band(b=2, seed=3))
        n = ab0.shape[1]
        E = np.random.default_rng(4).normal(size=ab0.shape)
        E[1, n - 1:] = E[2, n - 2:] = 0.0
        E = jnp.asarray(E)
        c = jnp.asarray(np.random.default_rng(5).normal(size=n))

        def f(t, dense):
            ab = ab0 * jnp.exp(t[0]) + t[1] * E
            if dense:
                M = Banded(ab).dense()
                return jnp.linalg.slogdet(M)[1] + (c * t[2]) @ jnp.linalg.solve(M, c)
            return banded_logdet(ab) + (c * t[2]) @ banded_solve(ab, c)

        def g(t, dense):
            ab = ab0 * jnp.exp(t[0]) + t[1] * E
            x = jnp.linalg.solve(Banded(ab).dense(), c * t[2]) if dense else banded_solve(ab, c * t[2])
            return jnp.sum(x**2)

        t = jnp.array([0.1, 0.05, 1.2])
        np.testing.assert_allclose(jax.grad(f)(t, False), jax.grad(f)(t, True), rtol=1e-11)
        np.testing.assert_allclose(jax.hessian(g)(t, False), jax.hessian(g)(t, True),
                                   rtol=1e-10, atol=1e-14)  # fmt: skip


def test_direction_is_newton_or_descent():
    with x64_scope():
        ab = jnp.asarray(_band(b=1, seed=6))
        perm = jnp.asarray(np.random.default_rng(7).permutation(ab.shape[1]))
        A = Banded(ab, perm)
        g = jnp.asarray(np.random.default_rng(8).normal(size=ab.shape[1]))
        np.testing.assert_allclose(banded_direction(A, g), -np.linalg.solve(A.dense(), g),
                                   rtol=1e-12)  # fmt: skip
        neg = A._replace(ab=A.ab.at[0].set(-A.ab[0]))  # indefinite
        assert not np.isfinite(float(banded_logdet(neg.ab)))
        d = banded_direction(neg, g)
        assert np.all(np.isfinite(d)) and float(d @ g) < 0
