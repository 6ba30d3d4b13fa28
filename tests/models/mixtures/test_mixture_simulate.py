"""simulate and quantile residuals of Gaussian mixtures and latent class models
(likelihax.models.mixtures._simulate).

* Large simulated samples reproduce the fitted moments (mean vector and
  covariance :math:`\\sum_k\\pi_k(\\Sigma_k + \\mu_k\\mu_k^\\top) -
  \\mu\\mu^\\top`) and, for a latent class model, the marginal and pairwise
  item probabilities :math:`\\sum_k\\pi_k\\rho_{kja}\\rho_{klb}` (which carry
  the class-conditional response probabilities), within 4.5 Monte Carlo SEs.
* Exact quantile residuals equal the marginal mixture CDFs computed here with
  SciPy; DHARMa-style simulation residuals agree with them within Monte Carlo
  error; residuals of a wrong model (one component for two) are not uniform.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import likelihax as lx
from likelihax.models.mixtures import gaussian_mixture, latent_class

MC_Z = 4.5


@pytest.fixture(scope="module")
def data(make_rng):
    rng = make_rng(11)
    x = np.concatenate([rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], 150),
                        rng.multivariate_normal([4, 3], [[0.6, -0.2], [-0.2, 0.4]], 100)])
    c = rng.random(500) < 0.4
    items = (rng.random((500, 3)) < np.where(c[:, None], 0.85, 0.2)).astype(int)
    third = np.where(c, rng.choice(3, 500, p=[0.1, 0.3, 0.6]),
                     rng.choice(3, 500, p=[0.6, 0.3, 0.1]))  # fmt: skip
    return x, np.column_stack([items, third])


@pytest.fixture(scope="module")
def gmm(data):
    return gaussian_mixture(data[0], 2, method="newton", init={
        "weights": [0.6, 0.4], "means": [[0.0, 0.0], [4.0, 3.0]],
        "cov": [[[1.0, 0.5], [0.5, 1.0]], [[0.6, -0.2], [-0.2, 0.4]]]})  # fmt: skip


@pytest.fixture(scope="module")
def lca(data):
    return latent_class(data[1], 2, starts=3)


def _mixture_moments(p):
    w = np.asarray(p["weights"])
    m = np.asarray(p["means"])
    S = np.asarray(p["cov"])
    mu = w @ m
    second = np.einsum("k,kij->ij", w, S + m[:, :, None] * m[:, None, :])
    return mu, second - np.outer(mu, mu)


def test_gaussian_mixture_draws_reproduce_the_fitted_moments(gmm):
    sims = lx.simulate(gmm, n=200, seed=4)
    assert sims.shape == (200, 250, 2)
    mu, cov = _mixture_moments(gmm.params)
    x = sims.reshape(-1, 2)
    N = len(x)
    assert np.all(np.abs(x.mean(0) - mu) < MC_Z * np.sqrt(np.diag(cov) / N))
    c = x - mu
    for i, j in [(0, 0), (0, 1), (1, 1)]:
        prod = c[:, i] * c[:, j]
        assert abs(prod.mean() - cov[i, j]) < MC_Z * prod.std() / np.sqrt(N), (i, j)
    # seeded: the same seed gives the same draws, another seed others
    np.testing.assert_array_equal(lx.simulate(gmm, n=2, seed=4), sims[:2])
    assert not np.array_equal(lx.simulate(gmm, n=2, seed=5), sims[:2])
    assert lx.simulate(gmm, n=3, newdata=np.zeros((7, 2))).shape == (3, 7, 2)


@pytest.mark.parametrize("covariance", ["tied", "spherical"])  # (diag: as spherical)
def test_other_covariance_structures_simulate_their_moments(data, covariance):
    fit = gaussian_mixture(data[0], 2, covariance, method="newton", init={
        "weights": [0.6, 0.4], "means": [[0.0, 0.0], [4.0, 3.0]],
        **({"cov": [[1.0, 0.2], [0.2, 1.0]]} if covariance == "tied" else
           {"var": [[1.0, 1.0], [0.5, 0.5]]} if covariance == "diag" else
           {"var": [1.0, 0.5]})})  # fmt: skip
    p = fit.params
    k, d = 2, 2
    if covariance == "tied":
        S = np.broadcast_to(np.asarray(p["cov"]), (k, d, d))
    else:
        v = np.broadcast_to(np.asarray(p["var"]).reshape(k, -1), (k, d))
        S = np.stack([np.diag(r) for r in v])
    mu, cov = _mixture_moments({"weights": p["weights"], "means": p["means"], "cov": S})
    x = lx.simulate(fit, n=100, seed=1).reshape(-1, 2)
    se = np.sqrt(np.diag(cov) / len(x))
    assert np.all(np.abs(x.mean(0) - mu) < MC_Z * se)
    c = x - mu
    prod = c[:, 0] * c[:, 1]
    assert abs(prod.mean() - cov[0, 1]) < MC_Z * prod.std() / np.sqrt(len(x))


def test_latent_class_draws_reproduce_item_and_pair_probabilities(lca):
    p = lca.params
    w = np.asarray(p["weights"])
    rho = [[np.asarray(a) for a in cls] for cls in p["probs"]]
    sims = lx.simulate(lca, n=100, seed=2)
    assert sims.shape == (100, 500, 4)
    y = sims.reshape(-1, 4).astype(int)
    N = len(y)

    def check(freq, prob, what):
        assert abs(freq - prob) < MC_Z * np.sqrt(prob * (1 - prob) / N) + 1e-12, what

    for j in range(4):
        for a in range(len(rho[0][j])):
            check(np.mean(y[:, j] == a), sum(w[k] * rho[k][j][a] for k in range(2)), (j, a))
    for j, m in [(0, 1), (0, 3), (2, 3)]:
        for a in range(len(rho[0][j])):
            for b in range(len(rho[0][m])):
                prob = sum(w[k] * rho[k][j][a] * rho[k][m][b] for k in range(2))
                check(np.mean((y[:, j] == a) & (y[:, m] == b)), prob, (j, m, a, b))
    assert set(np.unique(y[:, 3])) == {0, 1, 2} and set(np.unique(y[:, :3])) == {0, 1}


def test_gaussian_quantile_residuals_are_the_marginal_cdfs(gmm, data):
    x = data[0]
    p = gmm.params
    w, m = np.asarray(p["weights"]), np.asarray(p["means"])
    sd = np.sqrt(np.stack([np.diag(np.asarray(s)) for s in p["cov"]]))  # (k, d)
    F = sum(w[k] * stats.norm.cdf((x - m[k]) / sd[k]) for k in range(2))
    res = lx.quantile_residuals(gmm)
    assert res.method == "exact" and res.residuals.shape == (500,)
    np.testing.assert_allclose(res.uniform, F.ravel(), rtol=1e-10)
    np.testing.assert_allclose(res.fitted, np.tile(w @ m, 250), rtol=1e-12)
    np.testing.assert_allclose(res.residuals, stats.norm.ppf(F.ravel()), rtol=1e-8)
    sim = lx.quantile_residuals(gmm, method="simulation", n_sims=1000, seed=1)
    assert sim.simulated.shape == (1000, 500)
    # the empirical CDF of 1000 draws: SE at most 0.5 / sqrt(1000)
    assert np.max(np.abs(sim.uniform - res.uniform)) < MC_Z * 0.5 / np.sqrt(1000)
    for j in range(2):
        assert stats.kstest(res.uniform.reshape(250, 2)[:, j], "uniform").pvalue > 0.01
    # one Gaussian for two clusters: the residuals of each coordinate are not uniform
    one = gaussian_mixture(x, 1, method="newton", init={
        "weights": [1.0], "means": [x.mean(0).tolist()], "cov": [np.cov(x.T, bias=True).tolist()]})
    u = lx.quantile_residuals(one).uniform.reshape(250, 2)
    assert stats.kstest(u[:, 0], "uniform").pvalue < 1e-3


def test_latent_class_quantile_residuals_fill_the_jump_at_the_code(lca, data):
    y = data[1]
    p = lca.params
    w = np.asarray(p["weights"])
    U = np.random.default_rng(3).random(y.size)
    res = lx.quantile_residuals(lca, uniforms=U)
    lo, hi = np.zeros(y.shape), np.zeros(y.shape)
    for j in range(y.shape[1]):
        marg = sum(w[k] * np.asarray(p["probs"][k][j]) for k in range(2))
        cum = np.concatenate([[0.0], np.cumsum(marg)])
        lo[:, j], hi[:, j] = cum[y[:, j]], cum[y[:, j] + 1]
    np.testing.assert_allclose(res.uniform, (lo + U.reshape(y.shape) * (hi - lo)).ravel(),
                               rtol=1e-10, atol=1e-14)  # fmt: skip
    sim = lx.quantile_residuals(lca, method="simulation", n_sims=2000, seed=1, uniforms=U)
    assert np.max(np.abs(sim.uniform - res.uniform)) < MC_Z * 0.5 / np.sqrt(2000)
    for j in range(4):
        assert stats.kstest(res.uniform.reshape(y.shape)[:, j], "uniform").pvalue > 0.01


def test_new_rows_are_checked(gmm, lca):
    with pytest.raises(ValueError, match=r"points \(m, 2\)"):
        lx.simulate(gmm, newdata=np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"rows \[1\] are not codes"):
        lx.simulate(lca, newdata=np.array([[0, 1, 0, 2], [0, 1, 0, 3]]))


def test_simulation_tests_take_multivariate_responses(gmm, lca):
    # DHARMa's dispersion test on every coordinate (item): the fitted mixture's
    # marginal variances are the data's, so the ratio is near 1
    for fit in (gmm, lca):
        t = lx.dispersion_test(fit, n_sims=100, seed=1)
        assert 0.8 < t.statistic < 1.25 and 0 < t.pvalue <= 1
