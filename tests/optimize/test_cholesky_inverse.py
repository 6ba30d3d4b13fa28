"""``cholesky_inverse`` (LAPACK ``potri`` on the host from ``HOST_INVERSE_MIN``
rows, XLA's triangular solves below) against NumPy, on both paths."""

import numpy as np
import pytest

import jax
import jax.numpy as jnp

import likelihax.optimize._host as host
from likelihax.optimize._host import cholesky_inverse


@pytest.fixture(autouse=True, params=["xla", "host"])
def path(request, monkeypatch):
    """Every test on both paths (the host one forced from 1 row; traces of
    the other path dropped)."""
    jax.clear_caches()
    if request.param == "host":
        monkeypatch.setattr(host, "HOST_INVERSE_MIN", 1)
    return request.param


def _spd(k=60, seed=0):
    A = np.random.default_rng(seed).normal(size=(k, k))
    return A @ A.T / k + np.eye(k)


def test_inverse_equals_numpy_and_is_symmetric():
    S = _spd()
    with jax.enable_x64(True):
        L = jnp.linalg.cholesky(jnp.asarray(S))
        inv = np.asarray(jax.jit(cholesky_inverse)(L))
    np.testing.assert_allclose(inv, np.linalg.inv(S), rtol=1e-11, atol=1e-13)
    assert np.array_equal(inv, inv.T)


def test_derivative_matches_the_inverse_rule():
    S = _spd(8)
    with jax.enable_x64(True):
        A = jnp.asarray(S)
        dA = jnp.asarray(np.cos(np.arange(64.0)).reshape(8, 8))
        dA = dA + dA.T

        def via(A):
            return cholesky_inverse(jnp.linalg.cholesky(A))

        _, t = jax.jvp(via, (A,), (dA,))
        Ai = np.linalg.inv(S)
        np.testing.assert_allclose(t, -Ai @ np.asarray(dA) @ Ai, rtol=1e-9, atol=1e-12)
        g = jax.grad(lambda A: jnp.trace(via(A)))(A)
        np.testing.assert_allclose(g, -(Ai @ Ai).T, rtol=1e-9, atol=1e-12)


def test_singular_factor_gives_nan_and_vmap_works():
    with jax.enable_x64(True):
        L = jnp.asarray(np.diag([1.0, 0.0, 2.0]))
        assert bool(jnp.all(jnp.isnan(cholesky_inverse(L))))
        Ls = jnp.stack([jnp.linalg.cholesky(jnp.asarray(_spd(5, s))) for s in range(3)])
        out = jax.vmap(cholesky_inverse)(Ls)
        for s in range(3):
            np.testing.assert_allclose(out[s], np.linalg.inv(_spd(5, s)), rtol=1e-11)


def test_only_large_matrices_call_back(path):
    """A program with a host callback is never persistently cached (module
    notes of ``_host``): below HOST_INVERSE_MIN rows there is none."""
    with jax.enable_x64(True):
        L = jnp.linalg.cholesky(jnp.asarray(_spd()))
        text = jax.jit(cholesky_inverse).lower(L).as_text()
    assert ("callback" in text) == (path == "host")
