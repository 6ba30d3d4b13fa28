"""The scaled-Hessian factorization beyond EIGEN_MAX parameters (Cholesky, eigen fallback).

Against NumPy's dense linear algebra: the Newton direction, the inverse and
the extreme eigenvalues and weakest direction of the scaled matrix; the
fallback to the eigen-decomposition for indefinite and singular matrices;
and whole fits with more than EIGEN_MAX parameters against statsmodels and
against the same fit's status vocabulary (separation, a duplicated column).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import likelihax as lx
from likelihax.optimize import (
    EIGEN_MAX,
    factor_direction,
    factor_extremes,
    factor_inverse,
    newton_direction,
    scaled_factor,
)

K = EIGEN_MAX + 36


def _spd(k, seed=0, spread=3.0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(k, k)))
    lam = np.exp(np.linspace(-spread, spread, k))
    D = np.diag(np.exp(rng.normal(size=k)))  # units differ by parameter
    return D @ (Q * lam) @ Q.T @ D


def _scaled_numpy(H):
    s = 1 / np.sqrt(np.diag(H))
    return H * s[:, None] * s[None, :]


def test_positive_definite_uses_cholesky_and_agrees_with_numpy():
    H = _spd(K)
    g = np.random.default_rng(1).normal(size=K)
    with jax.enable_x64(True):
        f = jax.jit(scaled_factor)(jnp.asarray(H))
        assert bool(f.chol)
        d = np.asarray(factor_direction(f, jnp.asarray(g)))
        inv = np.asarray(factor_inverse(f))
        lo, hi, v = (np.asarray(x) for x in jax.jit(factor_extremes)(f))
    np.testing.assert_allclose(d, -np.linalg.solve(H, g), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(inv, np.linalg.inv(H), rtol=1e-9, atol=1e-12 * np.abs(inv).max())
    lam, Q = np.linalg.eigh(_scaled_numpy(H))
    # iterated estimates (an upper bound on the smallest, a lower bound on the largest)
    assert lo == pytest.approx(lam[0], rel=1e-8) and hi == pytest.approx(lam[-1], rel=1e-8)
    assert lo >= lam[0] * (1 - 1e-12) and hi <= lam[-1] * (1 + 1e-12)
    assert abs(abs(v @ Q[:, 0]) - 1) < 1e-8


def test_indefinite_falls_back_to_the_eigen_decomposition():
    H = _spd(K)
    rng = np.random.default_rng(2)
    u = rng.normal(size=K)
    H = H - 2 * np.abs(np.linalg.eigvalsh(H)).max() * np.outer(u, u) / (u @ u)
    g = rng.normal(size=K)
    with jax.enable_x64(True):
        f = scaled_factor(jnp.asarray(H))
        assert not bool(f.chol)
        d, edm, _ = newton_direction(jnp.asarray(H), jnp.asarray(g), f)
        lo, hi, _ = factor_extremes(f)
    # the eigen path: |eigenvalues| of the scaled matrix, a descent direction
    lam = np.linalg.eigvalsh(_scaled_numpy(np.where(np.eye(K) > 0, np.abs(H), H)))
    assert float(lo) < 0 and float(edm) > 0 and float(np.dot(g, d)) < 0
    assert np.isfinite(lam).all()


def test_a_singular_matrix_is_not_taken_for_positive_definite():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(3 * K, K - 1))
    A = np.column_stack([A, A[:, 0]])  # a repeated column: rank K - 1
    with jax.enable_x64(True):
        f = scaled_factor(jnp.asarray(A.T @ A))
        lo, _, _ = factor_extremes(f)
    assert not bool(f.chol) and abs(float(lo)) < 1e-10


def _logistic(p, d):
    eta = p["a"] + d["X"] @ p["b"]
    return d["y"] * eta - jnp.logaddexp(0.0, eta)


def test_fit_with_many_parameters_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(4)
    n, p = 3000, K
    X = rng.normal(size=(n, p))
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.2 + X @ rng.uniform(-0.2, 0.2, p))))).astype(float)
    f = lx.fit(_logistic, {"a": 0.0, "b": np.zeros(p)}, {"X": X, "y": y})
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    assert f.converged and str(f.status) == "success"
    assert f.loglik == pytest.approx(ref.llf, rel=1e-12)
    np.testing.assert_allclose(np.asarray(f.params["b"]), ref.params[1:], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(np.asarray(f.se["b"]), ref.bse[1:], rtol=1e-7)
    # the condition number (estimated from the Cholesky factor) against NumPy's
    H = np.asarray(f.information)
    lam = np.linalg.eigvalsh(_scaled_numpy(H))
    assert f.condition_number == pytest.approx(lam[-1] / lam[0], rel=1e-8)


def test_separation_with_many_parameters_is_reported():
    rng = np.random.default_rng(5)
    n, p = 400, K
    X = rng.normal(size=(n, p))
    y = (X[:, 0] > 0).astype(float)  # the first column separates the classes
    with pytest.warns(Warning):
        f = lx.fit(_logistic, {"a": 0.0, "b": np.zeros(p)}, {"X": X, "y": y})
    assert not f.converged and str(f.status) != "success"


def test_a_duplicated_column_is_reported_singular():
    rng = np.random.default_rng(6)
    n, p = 2000, K
    X = rng.normal(size=(n, p))
    X[:, 1] = X[:, 0]
    y = (rng.uniform(size=n) < 0.4).astype(float)
    with pytest.warns(Warning):
        f = lx.fit(_logistic, {"a": 0.0, "b": np.zeros(p)}, {"X": X, "y": y})
    assert f.status == lx.Status.information_singular and not f.converged


def test_lanczos_stops_once_the_extreme_ritz_pairs_have_converged():
    """With ``rtol`` the Lanczos steps end early, and the extremes still
    agree with numpy's eigenvalues to about ``rtol`` (the Ritz pairs'
    residual bound), on an operator with isolated extremes and a dense,
    clustered middle; without ``rtol`` every step is taken."""
    from likelihax.optimize import lanczos_extremes

    with jax.enable_x64(True):
        k = 400
        rng = np.random.default_rng(3)
        Q, _ = np.linalg.qr(rng.normal(size=(k, k)))
        lam = np.r_[0.05, rng.uniform(0.9, 1.1, k - 2), 30.0]
        A = jnp.asarray((Q * lam) @ Q.T)
        calls = []

        def apply(x):
            jax.debug.callback(lambda: calls.append(1))
            return A @ x

        for rtol, steps in ((1e-6, 80), (0.0, 80)):
            calls.clear()
            lo, hi, v = lanczos_extremes(apply, k, jnp.float64, steps=steps, rtol=rtol)
            jax.effects_barrier()
            assert float(lo) == pytest.approx(0.05, rel=1e-6)
            assert float(hi) == pytest.approx(30.0, rel=1e-6)
            assert abs(float(jnp.dot(v, jnp.asarray(Q[:, 0])))) == pytest.approx(1.0, rel=1e-5)
            if rtol:
                assert 20 <= len(calls) < 60
            else:
                assert len(calls) == steps
