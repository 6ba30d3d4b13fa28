"""``X' diag(v) X`` by BLAS ``syrk`` on the host (``likelihax.objective._gram``),
against NumPy's product."""

import numpy as np
import pytest

import jax
import jax.numpy as jnp

from likelihax.objective._gram import available, gram


def _data(n=200, k=7, seed=0, negative=True):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k))
    v = rng.uniform(0.1, 2.0, n)
    if negative:
        v[::3] *= -1.0  # rows of a non-concave term
    return X, v


@pytest.mark.parametrize("negative", [False, True])
def test_gram_equals_numpy_product(negative):
    X, v = _data(negative=negative)
    with jax.enable_x64(True):
        G = np.asarray(jax.jit(gram)(jnp.asarray(X), jnp.asarray(v)))
    ref = X.T @ (X * v[:, None])
    np.testing.assert_allclose(G, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert np.array_equal(G, G.T)  # exactly symmetric


def test_gram_keeps_float64_outside_a_64_bit_scope():
    """The callback reads the device buffers as they are: nothing is rounded
    to float32, also where it runs outside the fit's 64-bit scope."""
    X, v = _data()
    X = X * (1.0 + 1e-12)  # digits float32 would lose
    with jax.enable_x64(True):
        f = jax.jit(gram)
        Xj, vj = jnp.asarray(X), jnp.asarray(v)
        G = f(Xj, vj)
    ref = X.T @ (X * v[:, None])
    assert G.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(G), ref, rtol=1e-13, atol=1e-13 * np.abs(ref).max())


def test_gram_float32():
    X, v = _data()
    G = gram(jnp.asarray(X, jnp.float32), jnp.asarray(v, jnp.float32))
    assert G.dtype == jnp.float32
    ref = X.T @ (X * v[:, None])
    np.testing.assert_allclose(np.asarray(G), ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


def test_nonfinite_weight_gives_nan_matrix():
    X, v = _data(negative=False)
    v[5] = np.nan
    with jax.enable_x64(True):
        G = gram(jnp.asarray(X), jnp.asarray(v))
    assert bool(jnp.all(jnp.isnan(G)))


def test_all_rows_negative_and_derivatives():
    """All weights negative (only the second ``syrk``); derivatives through
    the JAX formula (``custom_jvp``), forward and reverse, against the plain
    product's."""
    X, v = _data()
    v = -np.abs(v)
    with jax.enable_x64(True):
        Xj, vj = jnp.asarray(X), jnp.asarray(v)
        np.testing.assert_allclose(gram(Xj, vj), X.T @ (X * v[:, None]), rtol=1e-12)

        def plain(X, v):
            return X.T @ (X * v[:, None])

        dv = jnp.asarray(np.linspace(-1, 1, v.size))
        dX = jnp.asarray(np.cos(np.arange(X.size)).reshape(X.shape))
        _, t1 = jax.jvp(gram, (Xj, vj), (dX, dv))
        _, t0 = jax.jvp(plain, (Xj, vj), (dX, dv))
        np.testing.assert_allclose(t1, t0, rtol=1e-12, atol=1e-12)
        g1 = jax.grad(lambda v: jnp.sum(gram(Xj, v) ** 2))(vj)
        g0 = jax.grad(lambda v: jnp.sum(plain(Xj, v) ** 2))(vj)
        np.testing.assert_allclose(g1, g0, rtol=1e-10)


def test_gram_under_vmap():
    X, v = _data()
    V = np.stack([v, 2.0 * v, -v])
    with jax.enable_x64(True):
        G = jax.vmap(gram, in_axes=(None, 0))(jnp.asarray(X), jnp.asarray(V))
    for i in range(3):
        np.testing.assert_allclose(G[i], X.T @ (X * V[i][:, None]), rtol=1e-12, atol=1e-12)


def test_available_only_for_float_matrices():
    assert available(jnp.zeros((3, 2), jnp.float32))
    assert not available(jnp.zeros((3, 2), jnp.int32))
    assert not available(jnp.zeros(3, jnp.float32))


HANG = r"""
import numpy as np, jax, jax.numpy as jnp
from likelihax.objective._gram import gram
X = np.random.default_rng(0).normal(size=(3000, 300))
v = np.abs(X[:, 0])
with jax.enable_x64(True):
    G = jax.jit(gram)(jnp.asarray(X), jnp.asarray(v))
    print(float(jnp.max(jnp.abs(G - X.T @ (X * v[:, None])))))
"""


def test_gram_finishes_on_a_one_thread_pool():
    """A callback that copies its inputs into new device arrays
    (``jax.pure_callback``) waits for a pool thread while holding the only
    one; the in-place buffers must not."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, XLA_FLAGS="--xla_cpu_multi_thread_eigen=false "
               "intra_op_parallelism_threads=1", OPENBLAS_NUM_THREADS="1")  # fmt: skip
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", HANG], env=env, capture_output=True,
                         text=True, timeout=120, check=True)  # fmt: skip
    assert float(out.stdout.strip().splitlines()[-1]) < 1e-8


def test_chunked_wide_fit_takes_syrk_and_matches_statsmodels(monkeypatch):
    """A logistic regression with 260 columns read in blocks of rows: each
    block's X' D X goes through ``gram`` (syrk), and the fit equals
    statsmodels' Logit (estimates, SEs, log-likelihood)."""
    import likelihax as lx
    import likelihax.objective._linear_index as li

    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(4)
    n, k = 1200, 260
    X = rng.normal(size=(n, k))
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.2 + X @ rng.normal(0, 0.05, k))))) * 1.0
    calls = []

    def counted(X_, v_):
        calls.append(X_.shape)
        return gram(X_, v_)

    monkeypatch.setattr(li, "gram", counted)

    def loglik(p, d):
        eta = p["a"] + d["X"] @ p["b"]
        return d["y"] * eta - jnp.logaddexp(0.0, eta)

    f = lx.fit(loglik, {"a": 0.0, "b": np.zeros(k)}, {"X": X, "y": y}, chunk_size=300)
    assert f.converged and calls and all(s == (300, k) for s in calls)
    ref = sm.Logit(y, np.column_stack([np.ones(n), X])).fit(disp=0, method="newton", tol=1e-12)
    est = np.concatenate([[float(f.params["a"])], np.asarray(f.params["b"])])
    se = np.concatenate([[float(f.se["a"])], np.asarray(f.se["b"])])
    assert float(f.loglik) == pytest.approx(ref.llf, rel=1e-10)
    np.testing.assert_allclose(est, ref.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(se, ref.bse, rtol=1e-6)
