"""lx.simulate and result.simulate: draws from every model's fitted response law.

Moments of the simulations are checked against the closed forms of each
family's mean and variance at the estimates (numpy formulas, not likelihax's),
with tolerances from the Monte Carlo error of the pooled standardized draws
(five standard errors, fixed seeds).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import pandas as pd
import pytest
import scipy.special as sp

import likelihax as lx
from likelihax.models.mixtures import poisson_mixture

N_SIMS = 400


def _check_moments(sims, mean, var):
    """Pooled z = (y - mean) / sd: E z = 0 and E z^2 = 1 within 5 MC errors."""
    z = (sims - mean[None, :]) / np.sqrt(var)[None, :]
    N = z.size
    assert abs(z.mean()) < 5.0 / np.sqrt(N), z.mean()
    z2 = z**2
    assert abs(z2.mean() - 1.0) < 5.0 * z2.std() / np.sqrt(N), z2.mean()


@pytest.fixture(scope="module")
def xdata(make_rng):
    rng = make_rng(71)
    n = 200
    x = rng.normal(size=n)
    return rng, x, np.column_stack([np.ones(n), x])


@pytest.mark.parametrize(
    "family", ["gaussian", "poisson", "binomial", "Gamma", "inverse.gaussian", "nb2"]
)
def test_glm_moments_match_family_closed_forms(xdata, family):
    rng, x, X = xdata
    n = x.size
    mu = np.exp(0.4 + 0.3 * x)
    m = None
    if family == "gaussian":
        y = mu + rng.normal(size=n)
    elif family == "poisson":
        y = rng.poisson(mu)
    elif family == "binomial":
        m = rng.integers(1, 8, size=n).astype(float)
        y = rng.binomial(m.astype(int), 1 / (1 + np.exp(-x))).astype(float)
    elif family == "Gamma":
        y = rng.gamma(3.0, mu / 3.0)
    elif family == "inverse.gaussian":
        y = rng.wald(mu, 4.0)
    else:
        y = rng.negative_binomial(2.0, 2.0 / (2.0 + mu))
    kw = {"link": "log"} if family in ("gaussian", "Gamma", "inverse.gaussian") else {}
    if m is not None:
        kw["trials"] = m
    r = lx.glm(y, X, family=family, **kw)
    sims = r.simulate(N_SIMS, seed=3)
    assert sims.shape == (N_SIMS, n)
    f = r.fitted
    phi = r.dispersion
    var = {
        "gaussian": np.full(n, phi),
        "poisson": f,
        "binomial": f * (1 - f) / (m if m is not None else 1.0),
        "Gamma": phi * f**2,
        "inverse.gaussian": phi * f**3,
        "nb2": f + (r.alpha or 0.0) * f**2,
    }[family]
    _check_moments(sims, f, var)
    if family in ("poisson", "nb2"):
        assert np.all(sims == np.round(sims)) and sims.min() >= 0
    if family == "binomial":
        assert np.allclose(sims * m, np.round(sims * m))


def test_seeds_and_newdata(xdata):
    rng, x, X = xdata
    y = rng.poisson(np.exp(0.2 + 0.5 * x))
    r = lx.glm(y, X, family="poisson")
    a, b = lx.simulate(r, 5, seed=1), r.simulate(5, seed=1)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, lx.simulate(r, 5, seed=2))
    assert np.array_equal(lx.simulate(r, 3, seed=jax.random.key(4)),
                          lx.simulate(r, 3, seed=jax.random.key(4)))  # fmt: skip
    new = np.array([[1.0, 0.0], [1.0, 2.0]])
    s = lx.simulate(r, 4000, seed=0, newdata=new)
    assert s.shape == (4000, 2)
    mu = np.exp(new @ r.coef)
    assert np.all(np.abs(s.mean(0) - mu) < 5 * np.sqrt(mu / 4000))


def test_zero_inflated_and_hurdle_moments(make_rng):
    rng = make_rng(72)
    n = 250
    x = rng.normal(size=n)
    lam = np.exp(0.6 + 0.4 * x)
    y = np.where(rng.random(n) < 0.3, 0, rng.poisson(lam))
    df = pd.DataFrame({"y": y, "x": x})
    zi = lx.zeroinfl("y ~ x", df)
    mu = zi.predict(which="count")
    pi = zi.predict(which="zero_part")
    sims = zi.simulate(N_SIMS, seed=5)
    # ZIP: mean (1 - pi) mu, variance (1 - pi) mu (1 + pi mu)
    _check_moments(sims, (1 - pi) * mu, (1 - pi) * mu * (1 + pi * mu))
    p0 = pi + (1 - pi) * np.exp(-mu)
    assert abs((sims == 0).mean() - p0.mean()) < 5 * np.sqrt(np.mean(p0 * (1 - p0)) / sims.size)
    hu = lx.hurdle("y ~ x", df)
    mu, pi = hu.predict(which="count"), hu.predict(which="zero_part")
    sims = hu.simulate(N_SIMS, seed=6)
    # hurdle: P(0) = 1 - pi; positives zero-truncated Poisson
    mean = pi * mu / (1 - np.exp(-mu))
    ey2 = pi * (mu + mu**2) / (1 - np.exp(-mu))
    _check_moments(sims, mean, ey2 - mean**2)
    zt = lx.zerotrunc("y ~ x", df[df.y > 0])
    assert zt.simulate(50, seed=0).min() >= 1


def test_beta_moments(make_rng):
    rng = make_rng(74)
    x = rng.normal(size=150)
    mu = 1 / (1 + np.exp(-(0.3 + 0.8 * x)))
    y = rng.beta(mu * 15, (1 - mu) * 15)
    r = lx.betareg("y ~ x", pd.DataFrame({"y": y, "x": x}))
    m = r.predict()
    phi = r.predict(which="precision")
    _check_moments(r.simulate(N_SIMS, seed=1), m, m * (1 - m) / (1 + phi))


def test_mixed_unconditional_and_conditional(make_rng):
    rng = make_rng(75)
    g = np.repeat(np.arange(30), 6)
    y = 2.0 + 1.5 * rng.normal(size=30)[g] + rng.normal(size=180)
    df = pd.DataFrame({"y": y, "g": g})
    r = lx.mixed("y ~ 1 + (1 | g)", df)
    sd_b, sigma, b0 = float(r.L[0, 0]), r.sigma, r.fixef["(Intercept)"]
    sims = r.simulate(2000, seed=0)
    _check_moments(sims, np.full(180, b0), np.full(180, sd_b**2 + sigma**2))
    # rows of one group share the drawn effect: covariance sd_b^2, of two groups 0
    c_in = np.cov(sims[:, 0], sims[:, 1])[0, 1]
    c_out = np.cov(sims[:, 0], sims[:, 6])[0, 1]
    se = (sd_b**2 + sigma**2) / np.sqrt(2000)
    assert abs(c_in - sd_b**2) < 5 * se and abs(c_out) < 5 * se
    cond = r.simulate(2000, seed=0, conditional=True)
    _check_moments(cond, r.predict(kind="conditional"), np.full(180, sigma**2))


def test_poisson_mixture_moments():
    y = np.array([0, 1, 0, 2, 1, 0, 9, 11, 8, 10, 12, 1, 3, 0, 7])
    f = poisson_mixture(y, 2, starts=3)
    w, lam = np.asarray(f.params["weights"]), np.asarray(f.params["rate"])
    mean = w @ lam
    var = w @ (lam + lam**2) - mean**2
    sims = lx.simulate(f, 1000, seed=0)
    _check_moments(sims, np.full(y.size, mean), np.full(y.size, var))


def test_ordinal_class_frequencies(make_rng):
    rng = make_rng(77)
    n = 400
    x = rng.normal(size=n)
    lat = 0.8 * x + rng.logistic(size=n)
    y = np.digitize(lat, [-1.0, 0.5, 1.5])
    r = lx.ordinal("y ~ x", pd.DataFrame({"y": y, "x": x}))
    # polr probabilities from the cut-points and slope, by scipy's logistic CDF
    cum = sp.expit(r.zeta[None, :] - (x * r.beta[0])[:, None])
    P = np.diff(np.column_stack([np.zeros(n), cum, np.ones(n)]), axis=1)
    sims = r.simulate(N_SIMS, seed=0)
    assert set(np.unique(sims)) <= {0.0, 1.0, 2.0, 3.0}
    for k in range(4):
        p = P[:, k]
        freq = (sims == k).mean(axis=0)
        z = (freq.sum() - N_SIMS * 0 - p.sum()) / np.sqrt(np.sum(p * (1 - p)) / N_SIMS)
        assert abs(z) < 5


def test_weibull_aft_log_times(make_rng):
    rng = make_rng(78)
    n = 300
    x = rng.normal(size=n)
    t = np.exp(1.0 + 0.5 * x + 0.7 * np.log(rng.exponential(size=n)))
    r = lx.survreg(lx.Surv(t, np.ones(n)), x[:, None])
    eta = np.column_stack([np.ones(n), x]) @ np.array(list(r.coef.values()))
    s = r.scale
    logs = np.log(r.simulate(N_SIMS, seed=0))
    # log T = eta + s W, W minimum extreme value: mean -gamma, variance pi^2 / 6
    _check_moments(logs, eta - s * np.euler_gamma, np.full(n, s**2 * np.pi**2 / 6))


def test_tobit_censors_at_its_limit(make_rng):
    rng = make_rng(79)
    x = rng.normal(size=300)
    y = np.maximum(0.0, 0.5 + x + rng.normal(size=300))
    r = lx.tobit(y, x[:, None], left=0.0)
    s = r.simulate(50, seed=0)
    assert s.min() == 0.0 and abs((s == 0).mean() - (y == 0).mean()) < 0.05


def test_custom_fit_needs_a_sampler():
    y = np.array([0.3, -0.2, 1.1, 0.7])
    f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0), {"mu": 0.0}, {"y": y})
    with pytest.raises(ValueError, match="sampler="):
        lx.simulate(f, 3)

    def sampler(key, p, d):
        return p["mu"] + jax.random.normal(key, d["y"].shape)

    s = lx.simulate(f, 20000, seed=0, sampler=sampler)
    assert s.shape == (20000, 4)
    _check_moments(s, np.full(4, y.mean()), np.ones(4))
    with pytest.raises(ValueError, match="one response per row"):
        lx.simulate(f, 2, sampler=lambda k, p, d: jnp.zeros((4, 2)))
    with pytest.raises(TypeError, match="sampler must be a function"):
        lx.simulate(f, 2, sampler=3)


def test_bad_options(xdata):
    rng, x, X = xdata
    r = lx.glm(rng.poisson(1.0, size=x.size), X, family="poisson")
    with pytest.raises(ValueError, match="n must be a positive integer"):
        lx.simulate(r, 0)
    with pytest.raises(ValueError, match="conditional= applies to mixed models"):
        lx.simulate(r, 2, conditional=True)


def test_distribution_fit_moments(make_rng):
    rng = make_rng(80)
    f = lx.fit_distribution("weibull", 2.0 * rng.weibull(1.5, 150))
    k, lam = float(f.params["shape"]), float(f.params["scale"])
    mean = lam * np.exp(sp.gammaln(1 + 1 / k))
    var = lam**2 * np.exp(sp.gammaln(1 + 2 / k)) - mean**2
    _check_moments(lx.simulate(f, N_SIMS, seed=0), np.full(150, mean), np.full(150, var))
    g = lx.fit_distribution("negbin", rng.negative_binomial(2.0, 0.4, 150))
    size, mu = float(g.params["size"]), float(g.params["mu"])
    _check_moments(g.simulate(N_SIMS, seed=1), np.full(150, mu), np.full(150, mu + mu**2 / size))


def test_gaussian_prior_weights_divide_the_variance(xdata):
    # R's simulate.glm: sd = sqrt(dispersion / prior weight)
    rng, x, X = xdata
    w = rng.uniform(0.5, 4.0, size=x.size)
    y = 1 + x + rng.normal(size=x.size) / np.sqrt(w)
    r = lx.glm(y, X, family="gaussian", weights=w, weight_type="variance")
    _check_moments(r.simulate(N_SIMS, seed=0), r.fitted, r.dispersion / w)
