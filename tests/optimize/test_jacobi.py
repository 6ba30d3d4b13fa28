"""LAPACK-free linear algebra of small matrices: the Jacobi eigen-decomposition
(optimize._jacobi) and the unrolled Cholesky, solves and normal log-density
(optimize._linalg), against NumPy and SciPy."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as ss

from likelihax.core import x64_scope
from likelihax.optimize import (
    chol,
    chol_inverse,
    chol_logdet,
    chol_solve,
    mvn_logpdf,
    solve_lower,
)
from likelihax.optimize._jacobi import _schedule, jacobi_eigh

ROOT = Path(__file__).resolve().parents[2]


def test_round_robin_schedule_covers_every_pair_once():
    for m in (2, 4, 6, 12):
        s = _schedule(m)
        assert s.shape == (m - 1, m // 2, 2)
        pairs = {tuple(sorted(p)) for r in s for p in r}
        assert len(pairs) == m * (m - 1) // 2
        for r in s:  # each round: disjoint pairs covering every index
            assert sorted(r.ravel().tolist()) == list(range(m))


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8, 12])
@pytest.mark.parametrize("kind", ["pd", "indefinite", "singular", "repeated"])
def test_matches_lapack(k, kind):
    rng = np.random.default_rng(100 * k + len(kind))
    B = rng.standard_normal((k, k))
    if kind == "pd":
        A = B @ B.T + 0.1 * np.eye(k)
    elif kind == "indefinite":
        A = B + B.T
    elif kind == "singular":
        C = B[:, : max(k - 1, 1)]
        A = C @ C.T if k > 1 else np.zeros((1, 1))
    else:
        Q, _ = np.linalg.qr(B)
        A = Q @ np.diag(np.r_[np.full(k // 2, 2.0), np.arange(k - k // 2)]) @ Q.T
    A = 0.5 * (A + A.T)
    with x64_scope():
        w, V = jax.jit(jacobi_eigh)(jnp.asarray(A))
    w, V = np.asarray(w), np.asarray(V)
    scale = max(np.max(np.abs(A)), 1e-300)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(A), rtol=0, atol=1e-14 * scale)
    assert np.all(np.diff(w) >= 0)
    np.testing.assert_allclose(V.T @ V, np.eye(k), atol=1e-14)
    np.testing.assert_allclose(V @ np.diag(w) @ V.T, A, atol=1e-13 * scale)


def test_small_fit_needs_no_scipy_linalg():
    """A fresh process fits a small model without importing scipy.linalg (and
    gets the closed-form normal MLE and standard errors)."""
    code = textwrap.dedent(
        """
        import sys, numpy as np, jax.scipy.stats as st, likelihax as lx
        y = np.random.default_rng(0).normal(1.0, 2.0, 100)
        f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], p["sigma"]),
                   {"mu": 0.0, "sigma": 1.0}, {"y": y},
                   constraints={"sigma": lx.constraints.positive})
        s = np.sqrt(np.mean((y - y.mean()) ** 2))
        assert abs(float(f.params["sigma"]) - s) < 1e-12 * s
        assert abs(float(f.se["mu"]) - s / 10) < 1e-10 * s
        print("scipy.linalg" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(ROOT), timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize(
    "A",
    [
        [[3.0, 0.0], [0.0, -1.0]],  # diagonal, descending: the order is swapped
        [[1.0, 1e-170], [1e-170, 1.0]],  # off-diagonal below the rotation threshold?
        [[1e8, 1.0], [1.0, 1e-8]],  # badly scaled, nearly singular
    ],
)
def test_closed_form_2x2(A):
    A = np.asarray(A)
    with x64_scope():
        w, V = jax.jit(jacobi_eigh)(jnp.asarray(A))
    w, V = np.asarray(w), np.asarray(V)
    ref = np.linalg.eigvalsh(A)
    np.testing.assert_allclose(w, ref, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(V.T @ V, np.eye(2), atol=1e-14)
    np.testing.assert_allclose(V @ np.diag(w) @ V.T, A, rtol=1e-12, atol=1e-14)


def _pd_batch(rng, batch, k):
    B = rng.standard_normal((*batch, k, k))
    return B @ np.swapaxes(B, -1, -2) + 0.5 * np.eye(k)


@pytest.mark.parametrize("k", [1, 2, 3, 6])
def test_unrolled_cholesky_matches_numpy(k):
    rng = np.random.default_rng(7 + k)
    A = _pd_batch(rng, (4, 3), k)
    b = rng.standard_normal((4, 3, k))
    with x64_scope():
        L = chol(jnp.asarray(A))
        Lm = np.zeros(A.shape)
        for i in range(k):
            for j in range(i + 1):
                Lm[..., i, j] = np.asarray(L[i][j])
        x = np.asarray(chol_solve(L, jnp.asarray(b)))
        inv = np.asarray(chol_inverse(L))
        logdet = np.asarray(chol_logdet(L))
        z = np.stack([np.asarray(zj) for zj in solve_lower(L, jnp.asarray(b))], -1)
    np.testing.assert_allclose(Lm, np.linalg.cholesky(A), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(x, np.linalg.solve(A, b[..., None])[..., 0], rtol=1e-10)
    np.testing.assert_allclose(inv, np.linalg.inv(A), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(logdet, np.linalg.slogdet(A)[1], rtol=1e-12)
    np.testing.assert_allclose(np.sum(z * z, -1),
                               np.einsum("...i,...i", b, x), rtol=1e-10)  # fmt: skip


def test_mvn_logpdf_matches_scipy_and_broadcasts():
    rng = np.random.default_rng(3)
    covs = _pd_batch(rng, (3,), 3)  # (K, d, d), one per component
    means = rng.standard_normal((3, 3))
    x = rng.standard_normal((5, 3))
    with x64_scope():
        got = np.asarray(mvn_logpdf(jnp.asarray(x)[:, None, :], jnp.asarray(means),
                                    jnp.asarray(covs)))  # fmt: skip
        bad = float(mvn_logpdf(jnp.zeros(2), 0.0, jnp.array([[1.0, 2.0], [2.0, 1.0]])))
    want = np.stack([ss.multivariate_normal(means[j], covs[j]).logpdf(x)
                     for j in range(3)], axis=1)  # fmt: skip
    assert got.shape == (5, 3)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert np.isnan(bad)  # not positive definite: NaN, never a number
