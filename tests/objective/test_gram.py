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


def test_gram_over_blocks_of_rows_equals_numpy_product(monkeypatch):
    """Rows scaled in blocks (256 at a time here: 3 blocks, a short last one),
    both signs of weights."""
    import likelihax.objective._gram as g

    monkeypatch.setattr(g, "BLOCK_BYTES", 1)
    X, v = _data(n=700, k=5)
    with jax.enable_x64(True):
        G = np.asarray(jax.jit(gram)(jnp.asarray(X), jnp.asarray(v)))
    ref = X.T @ (X * v[:, None])
    np.testing.assert_allclose(G, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())


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


def test_default_wide_blocks_read_whole_data_where_memory_allows(monkeypatch):
    """The default blocks of wide rows bound memory only. Where an evaluation
    needs no more than the data (value, gradient, a logistic regression's
    Hessian by syrk) it reads them whole; a Hessian of two linear predictors
    (tangents beyond one X' D X) goes by blocks, and so does every evaluation
    with a chunk_size the caller chose. The fits equal the unchunked ones."""
    import likelihax as lx
    import likelihax.engine._program as prog
    from likelihax.objective._problem import Problem

    rng = np.random.default_rng(5)
    n, k = 1200, 300  # rows of 2,408 bytes: wide
    X = rng.normal(size=(n, k))
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(X @ rng.normal(0, 0.05, k))))) * 1.0
    # blocks of 300 rows under the wide-row rule (4 blocks)
    monkeypatch.setattr(prog, "WIDE_CHUNK_BYTES", 300 * 8 * (k + 1))
    with jax.enable_x64(True):  # (float64 rows, as a fit stages them)
        assert prog.chunk_rows(None, {"X": X, "y": y}, n, True) == 300
    seen = []
    original = Problem._accumulate

    def recorded(self, fn, u, n_out, whole=False):
        seen.append((fn.__name__, bool(self.chunk) and not whole))
        return original(self, fn, u, n_out, whole)

    monkeypatch.setattr(Problem, "_accumulate", recorded)

    def logistic(p, d):
        eta = p["a"] + d["X"] @ p["b"]
        return d["y"] * eta - jnp.logaddexp(0.0, eta)

    def heteroskedastic(p, d):  # mean and log-SD, each linear in X
        mu, log_sd = d["X"] @ p["b"], p["c"] + 0.1 * (d["X"] @ p["g"])
        return jax.scipy.stats.norm.logpdf(d["y"], mu, jnp.exp(log_sd))

    def blocked(fit_kw, loglik, start, data):
        jax.clear_caches()
        seen.clear()
        f = lx.fit(loglik, start, data, **fit_kw)
        return f, {name for name, by_blocks in seen if by_blocks}

    start = {"a": 0.0, "b": np.zeros(k)}
    f, by_blocks = blocked({}, logistic, start, {"X": X, "y": y})
    assert by_blocks == set() and f.converged
    ref = lx.fit(logistic, start, {"X": X, "y": y}, chunk_size=False)
    assert float(f.loglik) == pytest.approx(float(ref.loglik), rel=1e-12)
    np.testing.assert_allclose(np.asarray(f.se["b"]), np.asarray(ref.se["b"]), rtol=1e-9)
    # (a chunk_size the caller chose: every block's X' D X by syrk, in
    # test_chunked_wide_fit_takes_syrk_and_matches_statsmodels)

    m = 20  # 2 x 20 coefficients: two predictors, no single X' D X
    Xm = X[:, :m]
    yn = Xm @ rng.normal(0, 0.05, m) + rng.normal(size=n)
    start2 = {"b": np.zeros(m), "c": 0.0, "g": np.zeros(m)}
    data2 = {"X": Xm, "y": yn, "pad": X[:, m:]}  # wide rows, half of them unused
    f2, by_blocks = blocked({}, heteroskedastic, start2, data2)
    assert "_vgh" in by_blocks and "_vg" not in by_blocks and "_value" not in by_blocks
    ref2 = lx.fit(heteroskedastic, start2, data2, chunk_size=False)
    assert float(f2.loglik) == pytest.approx(float(ref2.loglik), rel=1e-12)
    np.testing.assert_allclose(np.asarray(f2.se["g"]), np.asarray(ref2.se["g"]), rtol=1e-8)


def test_no_transposed_copy_where_the_hessian_is_one_syrk(monkeypatch):
    """A fit's program keeps a transposed copy of its data matrix for the
    linear-predictor products, except where the Hessian is one X' D X by
    syrk (which reads X in place): a logistic regression with 260 columns
    gets none, two linear predictors of the same columns get one."""
    import likelihax as lx
    import likelihax.objective._problem as problem_module
    from likelihax.data._dataset import prepare_data
    from likelihax.objective._problem import Problem

    monkeypatch.setattr(problem_module, "LARGE_ROWS", 1)  # (300 rows count as many)
    rng = np.random.default_rng(6)
    n, k = 300, 260
    data = {"X": rng.normal(size=(n, k)), "y": rng.integers(0, 2, n) * 1.0}

    def logistic(p, d):
        eta = p["a"] + d["X"] @ p["b"]
        return d["y"] * eta - jnp.logaddexp(0.0, eta)

    def two_predictors(p, d):
        return jax.scipy.stats.norm.logpdf(d["y"], d["X"] @ p["b"], jnp.exp(d["X"] @ p["g"]))

    def transposed(loglik, start):
        model = lx.Model(loglik, start)
        fit = lx.fit(model, data, max_steps=1, warn=False)
        with jax.enable_x64(True):
            fixed = [jnp.asarray(x, jnp.float64) for x in model.init_leaves]
            pr = Problem.from_static(fit.setup.program, fixed, prepare_data(data, np.float64), None)
            u0 = fit.setup.spec.to_unconstrained(fixed)
            return pr.with_transposed_data(u0).transposed, pr.with_transposed_data().transposed

    with_u, without_u = transposed(logistic, {"a": 0.0, "b": np.zeros(k)})
    assert with_u is None and without_u is not None
    with_u, _ = transposed(two_predictors, {"b": np.zeros(k), "g": np.zeros(k)})
    assert with_u is not None and any(t is not None for t in with_u)
