"""likelihax against independent references: statsmodels and textbook formulas.

Every expected value here is computed by statsmodels (Newton-Raphson on its own
analytic score and Hessian) or by a closed-form formula evaluated with NumPy;
nothing is a stored output of likelihax. Tolerance: rtol 1e-6 on estimates,
standard errors and log-likelihoods unless stated.

Fits are module-scoped fixtures so that each compiled program is built once.
"""

from __future__ import annotations

import jax.numpy as jnp
import jax.scipy.special as jsp
import jax.scipy.stats as jst
import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

import likelihax as lx

RTOL = 1e-6


def _close(actual, expected, rtol=RTOL, atol=0.0, what=""):
    np.testing.assert_allclose(
        np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol, err_msg=what
    )


# --------------------------------------------------------------------------------------
# log-likelihoods written from scratch (per observation)
# --------------------------------------------------------------------------------------


def logistic_loglik(params, data):
    eta = data["X"] @ params["beta"]
    return data["y"] * eta - jnp.logaddexp(0.0, eta)


def poisson_loglik(params, data):
    eta = data["X"] @ params["beta"] + data["offset"]
    return data["y"] * eta - jnp.exp(eta) - jsp.gammaln(data["y"] + 1.0)


def normal_regression_loglik(params, data):
    return jst.norm.logpdf(data["y"], data["X"] @ params["beta"], params["sigma"])


# --------------------------------------------------------------------------------------
# logistic regression vs statsmodels Logit
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def logit_data(make_rng):
    rng = make_rng(1)
    n = 2000
    X = np.column_stack(
        [
            np.ones(n),
            rng.normal(size=n),
            rng.uniform(-1, 1, size=n),
            rng.binomial(1, 0.4, size=n),
        ]
    )
    beta = np.array([-0.4, 0.8, -1.2, 0.6])
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-X @ beta))).astype(float)
    return {"X": X, "y": y}


@pytest.fixture(scope="module")
def sm_logit(logit_data):
    model = sm.Logit(logit_data["y"], logit_data["X"])
    res = model.fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    res_hc0 = model.fit(disp=0, method="newton", tol=1e-12, maxiter=100, cov_type="HC0")
    assert res.mle_retvals["converged"] and res_hc0.mle_retvals["converged"]
    return model, res, res_hc0


@pytest.fixture(scope="module")
def lx_logit(logit_data):
    return lx.fit(logistic_loglik, {"beta": np.zeros(4)}, logit_data, method="newton")


@pytest.fixture(scope="module")
def lx_logit_sandwich(logit_data):
    return lx.fit(logistic_loglik, {"beta": np.zeros(4)}, logit_data, cov="sandwich")


def test_logit_newton_matches_statsmodels(lx_logit, sm_logit):
    _, res, _ = sm_logit
    fit = lx_logit
    assert fit.converged
    _close(fit.params["beta"], res.params, what="params")
    _close(fit.se["beta"], res.bse, what="se")
    _close(fit.loglik, res.llf, what="loglik")
    _close(np.asarray(fit.cov), res.cov_params(), what="full covariance")
    # labelled access to an off-diagonal element
    _close(fit.cov["beta[1]", "beta[2]"], res.cov_params()[1, 2])
    assert fit.nobs == 2000 and fit.n_params == 4


def test_logit_aic_bic_conf_int_match_statsmodels(lx_logit, sm_logit):
    _, res, _ = sm_logit
    _close(lx_logit.aic, res.aic)
    _close(lx_logit.bic, res.bic)
    lo, hi = lx_logit.conf_int(0.1)
    ci = res.conf_int(alpha=0.1)  # normal quantiles for discrete models
    _close(lo["beta"], ci[:, 0])
    _close(hi["beta"], ci[:, 1])


def test_logit_bfgs_matches_statsmodels(logit_data, sm_logit):
    # BFGS stops on the gradient rule max|g| <= gtol * max(1, |loglik|) (gtol 1e-9,
    # so max|g| <~ 1.4e-6 here) rather than on Newton's EDM. The distance to the
    # optimum is then about |H^-1 g| <~ 1.4e-6 / lambda_min(H) ~ 1e-8 (lambda_min
    # of the information is > 100 for n = 2000), i.e. < 1e-7 relative for these
    # coefficients (all |beta| > 0.3): the default 1e-6 needs no loosening. SEs are
    # from the exact Hessian at the final point; the log-likelihood error is
    # second order (~ g^2 / H).
    _, res, _ = sm_logit
    fit = lx.fit(logistic_loglik, {"beta": np.zeros(4)}, logit_data, method="bfgs")
    assert fit.converged
    assert fit.method == "bfgs"
    _close(fit.params["beta"], res.params, what="params")
    _close(fit.se["beta"], res.bse, what="se")
    _close(fit.loglik, res.llf, what="loglik")


def test_logit_sandwich_matches_statsmodels_hc0(lx_logit_sandwich, sm_logit):
    _, _, res_hc0 = sm_logit
    fit = lx_logit_sandwich
    assert fit.converged
    _close(fit.params["beta"], res_hc0.params)
    _close(fit.se["beta"], res_hc0.bse, what="HC0 se")
    _close(np.asarray(fit.cov), res_hc0.cov_params(), what="HC0 covariance")


def test_logit_vcov_sandwich_equals_refit(lx_logit, lx_logit_sandwich):
    v = lx_logit.vcov("sandwich")
    assert v.kind == "sandwich"
    assert v.labels == lx_logit_sandwich.cov.labels
    np.testing.assert_allclose(
        np.asarray(v), np.asarray(lx_logit_sandwich.cov), rtol=1e-9
    )


def test_logit_opg_matches_bhhh_by_hand(lx_logit, sm_logit):
    model, res, _ = sm_logit
    S = model.score_obs(res.params)  # (n, k) per-observation scores, statsmodels
    bhhh = np.linalg.inv(S.T @ S)
    v = lx_logit.vcov("opg")
    _close(np.asarray(v), bhhh, what="OPG covariance")
    # and it is a different matrix from the OIM (so the comparison is not vacuous)
    assert not np.allclose(np.asarray(v), res.cov_params(), rtol=1e-3)


# --------------------------------------------------------------------------------------
# Poisson regression with exposure vs statsmodels Poisson
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def poisson_data(make_rng):
    rng = make_rng(2)
    n = 1500
    X = np.column_stack(
        [
            np.ones(n),
            rng.normal(size=n),
            rng.uniform(0, 2, size=n),
            rng.binomial(1, 0.5, size=n),
        ]
    )
    beta = np.array([0.3, 0.5, -0.4, 0.7])
    exposure = rng.uniform(0.5, 3.0, size=n)
    # overdispersed counts (gamma-Poisson) so that OIM and sandwich differ
    mu = exposure * np.exp(X @ beta) * rng.gamma(2.0, 0.5, size=n)
    y = rng.poisson(mu)
    return {"X": X, "y": y, "offset": np.log(exposure)}, exposure


@pytest.fixture(scope="module")
def sm_poisson(poisson_data):
    data, exposure = poisson_data
    # statsmodels gets the exposure (it takes the log itself)
    model = sm.Poisson(data["y"], data["X"], exposure=exposure)
    res = model.fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    res_hc0 = model.fit(disp=0, method="newton", tol=1e-12, maxiter=100, cov_type="HC0")
    assert res.mle_retvals["converged"] and res_hc0.mle_retvals["converged"]
    return model, res, res_hc0


@pytest.fixture(scope="module")
def lx_poisson(poisson_data):
    return lx.fit(poisson_loglik, {"beta": np.zeros(4)}, poisson_data[0])


def test_poisson_matches_statsmodels(lx_poisson, sm_poisson):
    _, res, _ = sm_poisson
    fit = lx_poisson
    assert fit.converged
    _close(fit.params["beta"], res.params, what="params")
    _close(fit.se["beta"], res.bse, what="se")
    _close(fit.loglik, res.llf, what="loglik")
    _close(np.asarray(fit.cov), res.cov_params(), what="covariance")


def test_poisson_sandwich_matches_statsmodels_hc0(poisson_data, lx_poisson, sm_poisson):
    _, res, res_hc0 = sm_poisson
    fit = lx.fit(poisson_loglik, {"beta": np.zeros(4)}, poisson_data[0], cov="sandwich")
    assert fit.converged
    _close(fit.params["beta"], res_hc0.params)
    _close(fit.se["beta"], res_hc0.bse, what="HC0 se")
    # overdispersion: robust SEs are clearly larger than the model-based ones
    assert np.all(fit.se["beta"] > 1.1 * res.bse)
    # vcov("sandwich") on the OIM fit is the same matrix
    np.testing.assert_allclose(
        np.asarray(lx_poisson.vcov("sandwich")), np.asarray(fit.cov), rtol=1e-9
    )


def test_poisson_opg_matches_bhhh_by_hand(poisson_data, lx_poisson, sm_poisson):
    model, res, _ = sm_poisson
    S = model.score_obs(res.params)  # statsmodels' analytic per-observation scores
    bhhh = np.linalg.inv(S.T @ S)
    fit = lx.fit(poisson_loglik, {"beta": np.zeros(4)}, poisson_data[0], cov="opg")
    assert fit.converged
    _close(np.asarray(fit.cov), bhhh, what="cov='opg'")
    _close(fit.se["beta"], np.sqrt(np.diag(bhhh)), what="OPG se")
    _close(np.asarray(lx_poisson.vcov("opg")), bhhh, what="vcov('opg')")


def test_vcov_oim_is_the_fit_covariance(lx_logit, lx_poisson):
    for fit in (lx_logit, lx_poisson):
        np.testing.assert_allclose(
            np.asarray(fit.vcov("oim")), np.asarray(fit.cov), rtol=1e-12
        )


# --------------------------------------------------------------------------------------
# Gaussian linear regression: MLE vs OLS
# --------------------------------------------------------------------------------------


def test_normal_regression_matches_ols_mle(make_rng):
    rng = make_rng(3)
    n = 400
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(-2, 2, size=n)])
    y = X @ np.array([1.5, -0.7, 0.4]) + 1.7 * rng.normal(size=n)

    ols = sm.OLS(y, X).fit()
    k = X.shape[1]
    sigma2_mle = ols.ssr / n  # MLE divides by n (OLS bse uses ssr / (n - k))
    sigma_mle = np.sqrt(sigma2_mle)
    cov_beta_mle = sigma2_mle * np.linalg.inv(X.T @ X)

    fit = lx.fit(
        normal_regression_loglik,
        {"beta": np.zeros(k), "sigma": 1.0},
        {"X": X, "y": y},
        constraints={"sigma": lx.constraints.positive},
    )
    assert fit.converged
    _close(fit.params["beta"], ols.params, what="beta")
    _close(fit.params["sigma"], sigma_mle, what="sigma")
    _close(fit.loglik, ols.llf, what="loglik (OLS llf is the Gaussian MLE loglik)")
    # independent check of the same log-likelihood with scipy
    _close(fit.loglik, stats.norm.logpdf(y, X @ ols.params, sigma_mle).sum())
    _close(fit.se["beta"], np.sqrt(np.diag(cov_beta_mle)), what="se(beta), MLE formula")
    _close(fit.se["sigma"], sigma_mle / np.sqrt(2 * n), what="se(sigma)")
    # beta and sigma are orthogonal at the MLE (X'r = 0): correlations ~ 0
    V = np.asarray(fit.cov)
    corr = V / np.sqrt(np.outer(np.diag(V), np.diag(V)))
    np.testing.assert_allclose(corr[:k, k], 0.0, atol=1e-8)
    # sanity: the OLS (n - k) standard errors are a different quantity
    _close(fit.se["beta"] * np.sqrt(n / (n - k)), ols.bse)
    assert fit.n_params == k + 1
