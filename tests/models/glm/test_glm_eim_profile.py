"""NB2's expected information, and GLM profiles with the dispersion maximized out.

References:

- R 4.2.2 with MASS 7.3-58.2: ``tests/reference/glm_eim_profile.R`` simulates
  the data (``glm_eim_profile_data.csv``) and writes
  ``glm_eim_profile_results.csv``: ``summary(glm.nb)`` standard errors and
  ``SE.theta``; MASS's ``confint``; and the full profile-likelihood intervals
  solved with ``uniroot`` over ``glm.fit`` refits, the dispersion maximized at
  every point;
- statsmodels ``GLM(y, X, family=NegativeBinomial(alpha=alpha_hat))`` (the
  expected information with alpha fixed);
- closed forms (Gaussian linear model) and scipy on the full likelihood.
"""

import csv
import math
from pathlib import Path

import jax.numpy as jnp
import jax.scipy.stats as jst
import numpy as np
import pytest
from scipy import optimize, special, stats

import likelihax as lx

REF = Path(__file__).resolve().parents[2] / "reference"
Z = stats.norm.ppf(0.975)
Q = stats.chi2.ppf(0.95, 1)


def _read():
    out = {}
    with open(REF / "glm_eim_profile_results.csv") as f:
        for r in csv.DictReader(f):
            out.setdefault(r["model"], {}).setdefault(r["kind"], {})[r["term"]] = float(
                r["value"]
            )
    return out


R = _read()
COLS = ["(Intercept)", "x"]


def _ends(model, side):
    """R's full-profile endpoints (side "lower" or "upper") in column order."""
    return [R[model][f"full_{side}"][t] for t in COLS]


@pytest.fixture(scope="module")
def data():
    with open(REF / "glm_eim_profile_data.csv") as f:
        rows = list(csv.DictReader(f))
    d = {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}
    d["X"] = np.column_stack([np.ones(d["x"].size), d["x"]])
    return d


def _glm(d, y, **kw):
    return lx.glm(d[y], d["X"], columns=COLS, **kw)


# ----- NB2: expected information ------------------------------------------------------
@pytest.fixture(scope="module")
def nb2(data):
    return _glm(data, "y_nb", family="negative_binomial")


def test_nb2_eim_is_mass_glm_nb(nb2):
    """Coefficients' SEs as summary(glm.nb); alpha's as MASS's SE.theta / theta^2."""
    ref = R["nb2"]
    np.testing.assert_allclose(nb2.coef, [ref["coef"][c] for c in COLS], rtol=1e-6)
    theta = 1.0 / float(nb2.params["alpha"])
    assert theta == pytest.approx(ref["theta"]["theta"], rel=1e-6)
    cov = lx.vcov(nb2, "eim")
    assert cov.labels == [*COLS, "alpha"]
    se = np.sqrt(np.diag(np.asarray(cov)))
    np.testing.assert_allclose(se[:2], [ref["se"][c] for c in COLS], rtol=1e-6)
    se_theta = se[2] * theta**2  # delta method, exact at the MLE (zero score)
    # MASS's formula at the converged (theta, mu); glm.nb's own SE.theta is
    # from one theta.ml step before its convergence (tolerance 1.2e-4).
    assert se_theta == pytest.approx(ref["se_theta_tight"]["theta"], rel=1e-6)
    assert se_theta == pytest.approx(ref["se_theta"]["theta"], rel=1e-4)
    # The cross block is zero, its expectation (to the rounding of the
    # inverse: a few eps of the diagonal's scale)
    C = np.asarray(cov)
    assert np.max(np.abs(C[:2, 2])) <= 1e-12 * np.sqrt(np.max(np.diag(C)) * C[2, 2])


def test_nb2_eim_matches_statsmodels_with_alpha_fixed(nb2, data):
    sm = pytest.importorskip("statsmodels.api")
    alpha = float(nb2.params["alpha"])
    ref = sm.GLM(
        data["y_nb"], data["X"], family=sm.families.NegativeBinomial(alpha=alpha)
    ).fit(tol=1e-13)
    np.testing.assert_allclose(ref.params, nb2.coef, rtol=1e-7)
    cov = np.asarray(lx.vcov(nb2, "eim"))[:2, :2]
    np.testing.assert_allclose(cov, ref.cov_params(), rtol=1e-6)


def test_nb2_alpha_information_is_observed_theta_information(nb2, data):
    """alpha's entry is -d2 l/d alpha2 at the estimate, MASS's theta.ml formula."""
    y, mu = data["y_nb"], nb2.fitted
    th = 1.0 / float(nb2.params["alpha"])
    i_theta = -np.sum(
        special.polygamma(1, th + y) - special.polygamma(1, th) + 1 / th
        - 2 / (mu + th) + (y + th) / (mu + th) ** 2
    )  # fmt: skip
    var_alpha = float(np.asarray(lx.vcov(nb2, "eim"))[2, 2])
    assert var_alpha == pytest.approx(1.0 / (i_theta * th**4), rel=1e-9)


def test_nb2_glm_cov_eim_gives_finite_ses_without_warnings(nb2, data):
    # pytest turns warnings into errors: none may be emitted.
    res = _glm(data, "y_nb", family="negative_binomial", cov="eim")
    np.testing.assert_allclose(
        np.sqrt(np.diag(np.asarray(res.cov))),
        np.sqrt(np.diag(np.asarray(lx.vcov(nb2, "eim")))), rtol=1e-6,
    )  # fmt: skip
    assert res.fit.cov.kind == "eim"
    assert any("MASS::glm.nb" in t for t in res.summary().notes)


def test_nb2_fisher_scoring_is_refused_with_the_reason(data):
    with pytest.raises(ValueError, match="alpha's expected information has no"):
        _glm(data, "y_nb", family="negative_binomial", method="fisher")


def test_eim_ignoring_a_parameter_is_refused_by_name():
    """A fisher= whose linear predictors miss a parameter: an error, not NaN."""
    y = np.array([0.1, 1.5, 0.7, 2.2, 1.1, 0.4])
    model = lx.Model(
        lambda p, d: jst.norm.logpdf(d["y"], p["mu"], p["s"]),
        {"mu": 0.0, "s": lx.Param(1.0, constraint=lx.constraints.positive)},
        fisher=lambda p, d: (jnp.broadcast_to(p["mu"], d["y"].shape),
                             jnp.ones_like(d["y"]) / p["s"] ** 2),
    )  # fmt: skip
    f = lx.fit(model, {"y": y})
    with pytest.raises(ValueError, match=r"information is zero for \['log\(s\)'\]"):
        lx.vcov(f, "eim")
    # The mean's block alone is right: n / s^2.
    s2 = np.mean((y - y.mean()) ** 2)
    assert float(lx.vcov(f, "oim")["mu", "mu"]) == pytest.approx(s2 / y.size, rel=1e-9)


# ----- profiles with the dispersion maximized out -------------------------------------
@pytest.fixture(scope="module")
def gauss(data):
    return _glm(data, "y_gauss")


def test_gaussian_profile_interval_closed_form(gauss, data):
    """n log(RSS_v / RSS) = chi2 quantile: half-width sqrt(c_jj RSS (e^{z^2/n} - 1))."""
    X, n = data["X"], data["X"].shape[0]
    c = np.diag(np.linalg.inv(X.T @ X))
    rss = float(np.sum((data["y_gauss"] - X @ gauss.coef) ** 2))
    half = np.sqrt(c * rss * np.expm1(Z**2 / n))
    ci = lx.profile_ci(gauss)
    assert ci.labels == COLS
    np.testing.assert_allclose(ci.lower, gauss.coef - half, rtol=1e-8)
    np.testing.assert_allclose(ci.upper, gauss.coef + half, rtol=1e-8)
    np.testing.assert_allclose(ci.lower, _ends("gaussian", "lower"), rtol=1e-8)
    np.testing.assert_allclose(ci.upper, _ends("gaussian", "upper"), rtol=1e-8)


def test_gaussian_profile_curve_and_dispersion_interval(gauss, data):
    X, y, n = data["X"], data["y_gauss"], data["X"].shape[0]
    pr = lx.profile(gauss, "x", n_points=5)
    cur = pr.curves["x"]
    # Profile log-likelihood: -n/2 (log(2 pi RSS_v / n) + 1), RSS_v by least
    # squares of y - v x on the intercept.
    rss_v = np.array([np.sum((y - v * X[:, 1] - np.mean(y - v * X[:, 1])) ** 2)
                      for v in cur["value"]])  # fmt: skip
    np.testing.assert_allclose(
        cur["loglik"], -n / 2 * (np.log(2 * np.pi * rss_v / n) + 1), rtol=1e-10
    )
    assert pr.loglik == pytest.approx(R["gaussian"]["loglik_full"][""], rel=1e-10)
    # The dispersion's own interval: n (log(p / p_hat) + p_hat / p - 1) = q.
    p_hat = float(np.sum((y - X @ gauss.coef) ** 2)) / n

    def g(p):
        return n * (math.log(p / p_hat) + p_hat / p - 1) - Q

    lo, hi = lx.profile_ci(gauss, "dispersion")["dispersion"]
    assert lo == pytest.approx(optimize.brentq(g, 1e-3 * p_hat, p_hat, xtol=1e-14),
                               rel=1e-8)  # fmt: skip
    assert hi == pytest.approx(optimize.brentq(g, p_hat, 1e3 * p_hat, xtol=1e-14),
                               rel=1e-8)  # fmt: skip


def test_gamma_profile_is_the_full_profile_likelihood(data):
    """Against R (glm.fit + optimize over phi + uniroot) and scipy (BFGS on the
    full likelihood with beta_j fixed + brentq)."""
    y, X = data["y_gamma"], data["X"]
    res = _glm(data, "y_gamma", family="gamma", link="log")
    ref = R["gamma_log"]
    full = res.likelihood_fit
    assert float(full.loglik) == pytest.approx(ref["loglik_full"][""], rel=1e-10)
    assert float(full.params["dispersion"]) == pytest.approx(
        ref["dispersion_ml"][""], rel=1e-6
    )
    assert float(full.loglik) > res.loglik  # R's logLik is at phi = D/n
    ci = lx.profile_ci(res)
    np.testing.assert_allclose(ci.lower, _ends("gamma_log", "lower"), rtol=1e-7)
    np.testing.assert_allclose(ci.upper, _ends("gamma_log", "upper"), rtol=1e-7)

    def nll(theta, j=None, b=None):
        beta = theta[:-1] if j is None else np.insert(theta[:-1], j, b)
        phi, mu = np.exp(theta[-1]), np.exp(X @ beta)
        return -np.sum(stats.gamma.logpdf(y, a=1 / phi, scale=mu * phi))

    opts = dict(method="BFGS", options=dict(gtol=1e-10))
    top = optimize.minimize(nll, np.r_[res.coef, 0.0], **opts)

    def excess(b, j=1):
        th0 = np.r_[np.delete(top.x[:-1], j), top.x[-1]]
        return 2 * (optimize.minimize(nll, th0, args=(j, b), **opts).fun - top.fun) - Q

    b0, se = top.x[1], res.se_coef[1]
    lo = optimize.brentq(excess, b0 - 5 * se, b0, xtol=1e-12)
    hi = optimize.brentq(excess, b0, b0 + 5 * se, xtol=1e-12)
    assert ci["x"] == pytest.approx((lo, hi), rel=1e-7)


def test_inverse_gaussian_profile_matches_r(data):
    res = _glm(data, "y_ig", family="inverse_gaussian", link="log")
    ci = lx.profile_ci(res)
    np.testing.assert_allclose(ci.lower, _ends("invgauss_log", "lower"), rtol=1e-7)
    np.testing.assert_allclose(ci.upper, _ends("invgauss_log", "upper"), rtol=1e-7)
    # MLE of the inverse Gaussian dispersion given the means: D/n.
    assert float(res.likelihood_fit.params["dispersion"]) == pytest.approx(
        res.deviance / res.nobs, rel=1e-8
    )


def test_r_confint_relation_stated_in_the_docs(gauss, data):
    """The module notes of likelihax.inference._profile: R's confint of a
    Gaussian glm is beta_hat -/+ z SE (Pearson dispersion), to MASS's spline
    interpolation, and the full profile interval is that one times
    sqrt((n - p)(exp(z^2/n) - 1)) / z."""
    ref = R["gaussian"]
    se = np.array([ref["se"][t] for t in COLS])
    np.testing.assert_allclose(gauss.se_coef, se, rtol=1e-9)
    mass = np.array([[ref["mass_lower"][t], ref["mass_upper"][t]] for t in COLS])
    wald = np.column_stack([gauss.coef - Z * se, gauss.coef + Z * se])
    np.testing.assert_allclose(mass, wald, rtol=1e-4)
    ci = lx.profile_ci(gauss)
    n, p = data["X"].shape
    ratio = (ci.upper - ci.lower) / (2 * Z * se)
    np.testing.assert_allclose(ratio, math.sqrt((n - p) * math.expm1(Z**2 / n)) / Z,
                               rtol=1e-8)  # fmt: skip


def test_dispersion_column_name_clash_is_refused(data):
    res = lx.glm(data["y_gauss"], data["X"], columns=["(Intercept)", "dispersion"])
    with pytest.raises(ValueError, match="named 'dispersion'"):
        lx.profile_ci(res)
