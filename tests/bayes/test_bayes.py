"""likelihax.bayes: priors, MAP, Laplace posterior, NUTS, diagnostics, comparison.

References are closed forms of conjugate models (normal mean with known
variance and normal prior; beta-binomial; Poisson-gamma; ridge regression as
the MAP under normal priors), scipy.stats log densities, and independent
formulas for split R-hat (BDA3) and ESS (blackjax.diagnostics, AR(1) theory).
"""

from __future__ import annotations

import math
import sys

import jax
import jax.numpy as jnp
import jax.scipy.stats as jst
import numpy as np
import pytest
import scipy.stats as ss

import likelihax as lx
from likelihax.bayes import _nuts, ess_bulk, split_rhat

P = lx.priors

# ----- priors vs scipy.stats ---------------------------------------------------------
X_REAL = np.array([-3.0, -0.4, 0.0, 0.7, 2.5])
X_POS = np.array([0.05, 0.4, 1.0, 2.5, 7.0])
X_UNIT = np.array([0.01, 0.2, 0.5, 0.77, 0.99])

PRIOR_CASES = [
    (P.Normal(1.0, 2.0), ss.norm(1.0, 2.0), X_REAL),
    (P.HalfNormal(1.5), ss.halfnorm(scale=1.5), X_POS),
    (P.Exponential(0.5), ss.expon(scale=2.0), X_POS),
    (P.Gamma(2.5, 3.0), ss.gamma(2.5, scale=1 / 3.0), X_POS),
    (P.InverseGamma(3.0, 2.0), ss.invgamma(3.0, scale=2.0), X_POS),
    (P.Beta(2.0, 5.0), ss.beta(2.0, 5.0), X_UNIT),
    (P.LogNormal(0.3, 0.8), ss.lognorm(0.8, scale=math.exp(0.3)), X_POS),
    (P.StudentT(4.0, 0.5, 2.0), ss.t(4.0, 0.5, 2.0), X_REAL),
    (P.Cauchy(-1.0, 0.5), ss.cauchy(-1.0, 0.5), X_REAL),
    (P.HalfCauchy(2.0), ss.halfcauchy(scale=2.0), X_POS),
    (P.Uniform(-4.0, 3.0), ss.uniform(-4.0, 7.0), X_REAL),
]


@pytest.mark.parametrize("prior, ref, x", PRIOR_CASES, ids=lambda v: repr(v)[:14])
def test_prior_log_prob_matches_scipy(prior, ref, x):
    with lx.core.x64_scope():
        got = np.asarray(prior.log_prob(jnp.asarray(x)))
    np.testing.assert_allclose(got, ref.logpdf(x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "prior, outside",
    [(P.HalfNormal(1.0), -0.5), (P.Gamma(2.0, 1.0), -1.0), (P.Beta(2, 2), 1.5),
     (P.Uniform(0.0, 1.0), 2.0), (P.LogNormal(0, 1), -2.0)],
)  # fmt: skip
def test_prior_outside_support_is_minus_inf(prior, outside):
    with lx.core.x64_scope():
        assert float(prior.log_prob(jnp.asarray(outside))) == -math.inf


def test_prior_array_hyperparameters_and_flat():
    pr = P.Normal(np.array([0.0, 1.0, 2.0]), 2.0)
    x = np.array([0.5, 0.5, 0.5])
    with lx.core.x64_scope():
        got = np.asarray(pr.log_prob(jnp.asarray(x)))
        flat = np.asarray(P.Flat().log_prob(jnp.asarray(x)))
    np.testing.assert_allclose(got, ss.norm([0, 1, 2], 2.0).logpdf(x), rtol=1e-12)
    assert np.all(flat == 0.0)
    assert pr.batch_shape == (3,)
    assert P.Gamma(2, 1).support is lx.constraints.positive
    assert P.Uniform(1, 3).support == lx.constraints.interval(1.0, 3.0)


def test_prior_bad_hyperparameters():
    with pytest.raises(ValueError, match="`scale` must be > 0"):
        P.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match="low < high"):
        P.Uniform(2.0, 1.0)
    with pytest.raises(ValueError, match="must be finite"):
        P.Gamma(np.nan, 1.0)


# ----- models with closed forms -------------------------------------------------------
SIGMA = 2.0
Y_NORM = np.array([1.3, 2.9, 0.4, 3.6, 2.2, 1.7, 4.1, 2.8])
MU0, TAU0 = 1.0, 1.5
A_B, B_B = 2.0, 3.0  # Beta prior
BERN = np.array([1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1])
A_G, B_G = 3.0, 2.0  # Gamma prior (shape, rate)
COUNTS = np.array([2, 5, 1, 3, 4, 0, 3])


def normal_mean(params, data):
    return jst.norm.logpdf(data["y"], params["mu"], SIGMA)


def bernoulli(params, data):
    p = params["p"]
    return data["b"] * jnp.log(p) + (1 - data["b"]) * jnp.log1p(-p)


def poisson(params, data):
    lam = params["lam"]
    return data["c"] * jnp.log(lam) - lam


def normal_posterior():
    n = Y_NORM.size
    prec = 1 / TAU0**2 + n / SIGMA**2
    return (MU0 / TAU0**2 + Y_NORM.sum() / SIGMA**2) / prec, 1 / math.sqrt(prec)


@pytest.fixture(scope="module")
def normal_map():
    return lx.fit_map(
        normal_mean, {"mu": 0.0}, {"y": Y_NORM}, priors={"mu": P.Normal(MU0, TAU0)}
    )


def test_normal_mean_map_and_laplace_are_the_exact_posterior(normal_map):
    mean, sd = normal_posterior()
    assert float(normal_map.params["mu"]) == pytest.approx(mean, rel=1e-10)
    assert float(normal_map.se["mu"]) == pytest.approx(sd, rel=1e-8)
    post = lx.laplace_posterior(normal_map, draws=4000)
    assert post.mode_u[0] == pytest.approx(mean, rel=1e-10)
    assert math.sqrt(post.cov_u[0, 0]) == pytest.approx(sd, rel=1e-8)
    # Monte Carlo: mean within 4 standard errors; sd within 5 %.
    assert abs(post.mean[0] - mean) < 4 * sd / math.sqrt(4000)
    assert post.sd[0] == pytest.approx(sd, rel=0.05)
    lo, hi = post.interval(0.1)
    assert lo[0] == pytest.approx(ss.norm(mean, sd).ppf(0.05), abs=0.1 * sd)
    assert hi[0] == pytest.approx(ss.norm(mean, sd).ppf(0.95), abs=0.1 * sd)
    assert post.samples["mu"].shape == (4000,)


def test_map_summary_is_labelled_map(normal_map):
    s = normal_map.summary()
    assert s.title == "likelihax MAP fit (posterior mode)"
    keys = [k for k, _ in s.header]
    assert "Log-posterior" in keys and "Log-prior" in keys and "Log-likelihood" in keys
    assert "AIC" not in keys and "BIC" not in keys
    assert math.isnan(normal_map.aic) and math.isnan(normal_map.bic)
    header = dict(s.header)
    mu = float(normal_map.params["mu"])
    ll = ss.norm(mu, SIGMA).logpdf(Y_NORM).sum()
    lp = ss.norm(MU0, TAU0).logpdf(mu)
    assert float(header["Log-likelihood"]) == pytest.approx(ll, rel=1e-7)
    assert float(header["Log-prior"]) == pytest.approx(lp, rel=1e-7)
    assert float(normal_map.loglik) == pytest.approx(ll + lp, rel=1e-10)
    assert header["Observations"] == str(Y_NORM.size)
    text = s.to_text()
    assert "mu ~ Normal(1, 1.5)" in text and "MAP" in text
    assert "<h4>likelihax MAP fit (posterior mode)</h4>" in s.to_html()
    # An ordinary fit keeps its maximum-likelihood title and AIC.
    mle = lx.fit(normal_mean, {"mu": 0.0}, {"y": Y_NORM})
    assert mle.summary().title == "likelihax maximum-likelihood fit"
    assert math.isfinite(mle.aic)


def test_beta_binomial_map_and_laplace_closed_forms():
    s, n = BERN.sum(), BERN.size
    data = {"b": BERN}
    m = lx.fit_map(bernoulli, {"p": 0.5}, data, priors={"p": P.Beta(A_B, B_B)})
    mode = (A_B + s - 1) / (A_B + B_B + n - 2)
    assert float(m.params["p"]) == pytest.approx(mode, rel=1e-10)
    # Curvature of the log posterior in p at the mode.
    h = (A_B + s - 1) / mode**2 + (B_B + n - s - 1) / (1 - mode) ** 2
    assert float(m.se["p"]) == pytest.approx(1 / math.sqrt(h), rel=1e-7)
    assert m.spec.constraints[0] == lx.constraints.unit_interval  # from the prior
    # On the logit scale (Jacobian p(1-p) included): mode (a+s)/(a+b+n),
    # curvature (a+b+n) p (1-p).
    post = lx.laplace_posterior(m, draws=10)
    pu = (A_B + s) / (A_B + B_B + n)
    assert post.mode_u[0] == pytest.approx(math.log(pu / (1 - pu)), rel=1e-9)
    assert post.cov_u[0, 0] == pytest.approx(
        1 / ((A_B + B_B + n) * pu * (1 - pu)), rel=1e-8
    )
    assert np.all((post.draws > 0) & (post.draws < 1))
    assert data["b"] is BERN and BERN.dtype.kind == "i"  # caller's data untouched


def test_poisson_gamma_map_and_laplace_closed_forms():
    s, n = COUNTS.sum(), COUNTS.size
    m = lx.fit_map(
        poisson, {"lam": 1.0}, {"c": COUNTS}, priors={"lam": P.Gamma(A_G, B_G)}
    )
    assert float(m.params["lam"]) == pytest.approx((A_G + s - 1) / (B_G + n), rel=1e-10)
    post = lx.laplace_posterior(m, draws=10)
    assert math.exp(post.mode_u[0]) == pytest.approx((A_G + s) / (B_G + n), rel=1e-9)
    assert post.cov_u[0, 0] == pytest.approx(1 / (A_G + s), rel=1e-8)
    summ = post.summary()
    assert summ.rows[0][0] == "lam"
    assert summ.rows[0][1][0] == pytest.approx((A_G + s) / (B_G + n), rel=1e-9)


def normal2(params, data):
    return jst.norm.logpdf(data["y"], params["mu"], params["sigma"])


def test_flat_prior_map_equals_mle():
    data = {"y": Y_NORM}
    start = {"mu": 0.0, "sigma": 1.0}
    pos = {"sigma": lx.constraints.positive}
    mle = lx.fit(normal2, start, data, constraints=pos)
    for priors in (None, {"mu": P.Flat(), "sigma": P.Flat()}):
        m = lx.fit_map(normal2, start, data, priors=priors, constraints=pos)
        for k in ("mu", "sigma"):
            assert float(m.params[k]) == pytest.approx(float(mle.params[k]), rel=1e-9)
            assert float(m.se[k]) == pytest.approx(float(mle.se[k]), rel=1e-6)
        assert float(m.loglik) == pytest.approx(float(mle.loglik), rel=1e-12)
    assert "flat (improper) prior" in m.summary().to_text() or priors is not None
    # The closed form: ybar and the ML standard deviation.
    assert float(mle.params["sigma"]) == pytest.approx(Y_NORM.std(), rel=1e-9)


def test_vector_parameter_normal_priors_give_ridge(make_rng):
    rng = make_rng(7)
    X = rng.normal(size=(30, 3))
    y = X @ np.array([1.0, -0.5, 0.2]) + rng.normal(size=30)
    tau = np.array([0.5, 1.0, 3.0])

    def linreg(params, data):
        return jst.norm.logpdf(data["y"], data["X"] @ params["beta"], 1.0)

    m = lx.fit_map(linreg, {"beta": np.zeros(3)}, {"X": X, "y": y},
                   priors={"beta": P.Normal(0.0, tau)})  # fmt: skip
    A = X.T @ X + np.diag(1 / tau**2)
    np.testing.assert_allclose(m.params["beta"], np.linalg.solve(A, X.T @ y), rtol=1e-9)
    np.testing.assert_allclose(np.asarray(m.cov), np.linalg.inv(A), rtol=1e-7)
    assert m.labels == ["beta[0]", "beta[1]", "beta[2]"]


def test_map_input_errors():
    data, start = {"y": Y_NORM}, {"mu": 0.0, "sigma": 1.0}
    with pytest.raises(
        ValueError, match="'tau', which matches no parameter.*mu, sigma"
    ):
        lx.fit_map(normal2, start, data, priors={"tau": P.Normal(0, 1)})
    with pytest.raises(TypeError, match="is not a prior; use one of likelihax.priors"):
        lx.fit_map(normal2, start, data, priors={"mu": ss.norm(0, 1)})
    with pytest.raises(
        ValueError, match=r"do not broadcast to the parameter's shape \(\)"
    ):
        lx.fit_map(normal2, start, data, priors={"mu": P.Normal(np.zeros(2), 1.0)})
    with pytest.raises(ValueError, match="support positive, but the parameter is "
                       "constrained to real"):  # fmt: skip
        lx.fit_map(normal2, start, data, priors={"sigma": P.HalfNormal(1.0)},
                   constraints={"sigma": lx.constraints.real})  # fmt: skip
    with pytest.raises(TypeError, match="does not take weights="):
        lx.fit_map(normal2, start, data, weights=np.ones(Y_NORM.size))
    mle = lx.fit(normal_mean, {"mu": 0.0}, data)
    with pytest.raises(TypeError, match="needs the result of lx.fit_map"):
        lx.laplace_posterior(mle)


def test_map_from_model_gets_prior_support():
    model = lx.Model(normal2, {"mu": 0.0, "sigma": 1.0})
    m = lx.fit_map(model, {"y": Y_NORM},
                   priors={"mu": P.Normal(0, 10), "sigma": P.HalfNormal(5.0)})  # fmt: skip
    assert m.spec.constraints[1] is lx.constraints.positive

    # Stationarity of the log posterior at the MAP, by scipy finite differences.
    def lp(mu, sig):
        return (ss.norm(mu, sig).logpdf(Y_NORM).sum() + ss.norm(0, 10).logpdf(mu)
                + ss.halfnorm(scale=5.0).logpdf(sig))  # fmt: skip

    mu, sig, h = float(m.params["mu"]), float(m.params["sigma"]), 1e-5
    assert abs(lp(mu + h, sig) - lp(mu - h, sig)) / (2 * h) < 1e-5
    assert abs(lp(mu, sig + h) - lp(mu, sig - h)) / (2 * h) < 1e-5


# ----- NUTS ------------------------------------------------------------------------
def normal_and_bernoulli(params, data):
    """Two independent conjugate models in one posterior (one compile)."""
    return jnp.sum(jst.norm.logpdf(data["y"], params["mu"], SIGMA)) + jnp.sum(
        bernoulli(params, data)
    )


def test_nuts_matches_conjugate_posteriors():
    pytest.importorskip("blackjax")
    data = {"y": Y_NORM, "b": BERN}
    m = lx.fit_map(normal_and_bernoulli, {"mu": 0.0, "p": 0.5}, data,
                   priors={"mu": P.Normal(MU0, TAU0), "p": P.Beta(A_B, B_B)})  # fmt: skip
    post = lx.nuts(m, chains=4, draws=300, warmup=200)
    assert post.draws.shape == (4, 300, 2) and post.labels == ["mu", "p"]
    # A second call with another key reuses the compiled sampler; a call with
    # the same key reproduces the draws.
    runner = _nuts._run_fast if jax.default_backend() == "cpu" else _nuts._run_default
    size = runner._cache_size()
    other = lx.nuts(m, chains=4, draws=300, warmup=200, key=jax.random.key(5))
    assert runner._cache_size() == size
    assert not np.array_equal(other.draws, post.draws)
    again = lx.nuts(m, chains=4, draws=300, warmup=200, key=jax.random.key(0))
    np.testing.assert_array_equal(again.draws, post.draws)
    mean_mu, sd_mu = normal_posterior()
    s, n = BERN.sum(), BERN.size
    beta = ss.beta(A_B + s, B_B + n - s)
    ref_mean = np.array([mean_mu, beta.mean()])
    ref_sd = np.array([sd_mu, beta.std()])
    # Tolerance: 4 Monte Carlo standard errors sd / sqrt(ESS) for the mean;
    # sd within 15 % (1200 draws, ESS several hundred).
    assert np.all(post.ess > 200)
    assert np.all(np.abs(post.mean - ref_mean) < 4 * ref_sd / np.sqrt(post.ess))
    np.testing.assert_allclose(post.sd, ref_sd, rtol=0.15)
    lo, hi = post.interval(0.1)
    assert lo[1] == pytest.approx(beta.ppf(0.05), abs=0.25 * beta.std())
    assert hi[1] == pytest.approx(beta.ppf(0.95), abs=0.25 * beta.std())
    assert np.all(post.rhat < 1.02)
    assert post.n_divergent == 0
    assert np.all((post.draws[..., 1] > 0) & (post.draws[..., 1] < 1))
    text = post.summary().to_text()
    assert "NUTS (blackjax)" in text and "r_hat" in text and "Divergences" in text
    # The comparison table: MLE, MAP, Laplace and NUTS side by side.
    mle = lx.fit(normal_and_bernoulli, {"mu": 0.0, "p": 0.5}, data, nobs=Y_NORM.size,
                 constraints={"p": lx.constraints.unit_interval})  # fmt: skip
    lap = lx.laplace_posterior(m)
    t = lx.compare_posteriors(mle=mle, map=m, laplace=lap, nuts=post)
    assert [r[:2] for r in t.rows[:4]] == [
        ("mu", "MLE"),
        ("mu", "MAP"),
        ("mu", "Laplace"),
        ("mu", "NUTS"),
    ]
    assert t.rows[0][2] == pytest.approx(Y_NORM.mean(), rel=1e-9)
    assert t.rows[4][2] == pytest.approx(s / n, rel=1e-9)
    assert t.rows[7][2] == pytest.approx(post.mean[1])
    frame = t.to_frame()
    assert frame.loc[("p", "MAP"), "estimate"] == pytest.approx(float(m.params["p"]))
    assert "<td>NUTS</td>" in t.to_html() and "NUTS" in t.to_text()


def test_nuts_without_blackjax_names_the_extra(monkeypatch, normal_map):
    monkeypatch.setitem(sys.modules, "blackjax", None)
    with pytest.raises(ImportError, match=r"pip install likelihax\[bayes\]"):
        lx.nuts(normal_map)


def test_nuts_argument_errors(normal_map):
    pytest.importorskip("blackjax")
    with pytest.raises(ValueError, match="chains must be an integer >= 1"):
        lx.nuts(normal_map, chains=0)
    with pytest.raises(ValueError, match="target_accept must be in"):
        lx.nuts(normal_map, target_accept=1.5)
    with pytest.raises(ValueError, match="start must be 'laplace' or 'map'"):
        lx.nuts(normal_map, start="prior")


def test_nuts_started_at_the_map(normal_map):
    """start="map": every chain starts at the mode; same posterior (closed form)."""
    pytest.importorskip("blackjax")
    post = lx.nuts(normal_map, chains=2, draws=300, warmup=150, start="map")
    # The draws agree with the exact normal posterior (conjugate closed form;
    # 4 Monte Carlo standard errors).
    mean, sd = normal_posterior()
    assert abs(post.mean[0] - mean) < 4 * sd / np.sqrt(post.ess[0])
    assert post.rhat[0] < 1.05 and post.n_divergent == 0


# ----- diagnostics -------------------------------------------------------------------
def _bda3_split_rhat(x):
    """BDA3 (11.4) written out for one quantity."""
    h = x.shape[1] // 2
    halves = [c[:h] for c in x] + [c[-h:] for c in x]
    n = h
    W = np.mean([np.var(c, ddof=1) for c in halves])
    B = n * np.var([np.mean(c) for c in halves], ddof=1)
    return math.sqrt(((n - 1) / n * W + B / n) / W)


def _ar1(rng, chains, n, rho):
    x = np.zeros((chains, n))
    e = rng.normal(size=(chains, n))
    x[:, 0] = e[:, 0] / math.sqrt(1 - rho**2)
    for t in range(1, n):
        x[:, t] = rho * x[:, t - 1] + e[:, t]
    return x


def test_split_rhat_against_bda3(rng):
    x = rng.normal(size=(4, 501))
    x[2] += 0.3
    assert float(split_rhat(x)) == pytest.approx(_bda3_split_rhat(x), rel=1e-12)
    trend = x + np.linspace(0, 3, 501)[None, :]  # within-chain drift: split catches it
    assert float(split_rhat(trend)) > 1.1
    both = split_rhat(np.stack([x, trend], axis=-1))
    assert both.shape == (2,) and both[0] == pytest.approx(_bda3_split_rhat(x))
    with pytest.raises(ValueError, match=r"\(chains, draws\)"):
        split_rhat(np.ones(10))


def test_ess_bulk_ar1_theory_and_blackjax(rng):
    rho, chains, n = 0.6, 4, 2000
    x = _ar1(rng, chains, n, rho)
    theory = chains * n * (1 - rho) / (1 + rho)
    assert float(ess_bulk(x)) == pytest.approx(theory, rel=0.2)
    iid = rng.normal(size=(4, 1000))
    assert float(ess_bulk(iid)) == pytest.approx(4000, rel=0.15)
    bd = pytest.importorskip("blackjax.diagnostics")
    # Same input to blackjax: rank-normalized split chains.
    z = ss.norm.ppf((ss.rankdata(x.ravel()) - 0.375) / (x.size + 0.25)).reshape(x.shape)
    split = np.concatenate([z[:, : n // 2], z[:, n // 2 :]])
    with lx.core.x64_scope():
        ref = float(bd.effective_sample_size(split))
        ref_r = float(bd.potential_scale_reduction(
            np.concatenate([x[:, : n // 2], x[:, n // 2 :]])))  # fmt: skip
    assert float(ess_bulk(x)) == pytest.approx(ref, rel=1e-8)
    assert float(split_rhat(x)) == pytest.approx(ref_r, rel=1e-10)


def test_compare_errors(normal_map):
    with pytest.raises(ValueError, match="Nothing to compare"):
        lx.compare_posteriors()
    other = lx.fit(normal2, {"mu": 0.0, "sigma": 1.0}, {"y": Y_NORM},
                   constraints={"sigma": lx.constraints.positive})  # fmt: skip
    with pytest.raises(ValueError, match="compare results of the same model"):
        lx.compare_posteriors(mle=other, map=normal_map)
    t = lx.compare_posteriors(map=normal_map, alpha=0.1)
    mean, sd = normal_posterior()
    assert t.rows[0][4] == pytest.approx(mean - ss.norm.ppf(0.95) * sd, rel=1e-7)
    assert t.columns == ["estimate", "sd", "0.05", "0.95"]


def test_laplace_with_a_fixed_parameter_and_constraint_errors():
    start = {"mu": 0.0, "sigma": lx.Param(SIGMA, fixed=True)}
    m = lx.fit_map(normal2, start, {"y": Y_NORM}, priors={"mu": P.Normal(MU0, TAU0)})
    mean, sd = normal_posterior()
    post = lx.laplace_posterior(m, draws=50)
    assert post.mode_u[0] == pytest.approx(mean, rel=1e-10)
    assert math.sqrt(post.cov_u[0, 0]) == pytest.approx(sd, rel=1e-8)
    assert np.all(post.samples["sigma"] == SIGMA)

    def multinomial(p, d):
        return jnp.sum(d["n"] * jnp.log(p["w"]))

    ms = lx.fit_map(multinomial, {"w": np.array([0.3, 0.3, 0.4])},
                    {"n": np.array([3.0, 5.0, 2.0])},
                    constraints={"w": lx.constraints.simplex})  # fmt: skip
    np.testing.assert_allclose(ms.params["w"], [0.3, 0.5, 0.2], rtol=1e-8)
    with pytest.raises(ValueError, match="'w' is simplex, whose Jacobian"):
        lx.laplace_posterior(ms)
