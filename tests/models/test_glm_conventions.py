"""GLM conventions (likelihax.models.glm._conventions) against R, statsmodels and Stata.

References: R 4.2 ``glm(weights=)``, ``glm(family=MASS::negative.binomial(theta))``
and ``MASS::glm.nb`` on ``MASS::quine`` (tests/reference/glm_conventions.R and
its output glm_conventions_results.csv); statsmodels ``GLM(var_weights=)``
and ``NegativeBinomial(alpha=)`` on the same data; Stata's ``nbreg`` and
``glm`` numbers as statsmodels stores them in its test results
(statsmodels/discrete/tests/results/results_discrete.py,
statsmodels/genmod/tests/results/results_glm.py).
"""

from __future__ import annotations

import math
import pathlib
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from likelihax.models.glm import glm

REF = pathlib.Path(__file__).resolve().parents[1] / "reference"
QUINE = pd.read_csv(REF / "glm_conventions_data_quine.csv").assign(
    ly=lambda d: np.log(d.Days + 1.0), d1=lambda d: d.Days + 1.0
)
R = pd.read_csv(REF / "glm_conventions_results.csv")
RHS = "Eth + Sex + Age + Lrn"
# R's coefficient names -> the formula's
NAMES = {"(Intercept)": "Intercept", "EthN": "Eth[T.N]", "SexM": "Sex[T.M]",
         "AgeF1": "Age[T.F1]", "AgeF2": "Age[T.F2]", "AgeF3": "Age[T.F3]",
         "LrnSL": "Lrn[T.SL]"}  # fmt: skip


def r_value(model, kind, term):
    row = R[(R.model == model) & (R.kind == kind) & (R.term == term)]
    assert len(row) == 1, (model, kind, term)
    return float(row.value.iloc[0])


def r_vector(model, kind, columns):
    inv = {v: k for k, v in NAMES.items()}
    return np.array([r_value(model, kind, inv[c]) for c in columns])


WEIGHTED = [
    ("gaussian_w", "gaussian", None, "ly", sm.families.Gaussian()),
    ("gamma_w", "gamma", "log", "d1", sm.families.Gamma(sm.families.links.Log())),
    ("invgauss_w", "inverse_gaussian", "log", "d1",
     sm.families.InverseGaussian(sm.families.links.Log())),
    ("poisson_w", "poisson", None, "Days", sm.families.Poisson()),
]  # fmt: skip


@pytest.mark.parametrize("model,family,link,lhs,smfam", WEIGHTED)
def test_variance_weights_match_r_glm(model, family, link, lhs, smfam):
    res = glm(f"{lhs} ~ {RHS}", QUINE, family=family, link=link, weights="w",
              weight_type="variance")  # fmt: skip
    np.testing.assert_allclose(res.coef, r_vector(model, "coef", res.columns), rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(res.se_coef, r_vector(model, "se", res.columns), rtol=1e-6)
    assert res.nobs == len(QUINE) and res.df_resid == r_value(model, "stat", "df_residual")
    assert res.deviance == pytest.approx(r_value(model, "stat", "deviance"), rel=1e-9)
    assert res.null_deviance == pytest.approx(r_value(model, "stat", "null_deviance"),
                                              rel=1e-9)  # fmt: skip
    assert res.dispersion == pytest.approx(r_value(model, "stat", "dispersion"), rel=1e-7)
    assert res.loglik == pytest.approx(r_value(model, "stat", "logLik"), rel=1e-9)
    assert res.aic == pytest.approx(r_value(model, "stat", "AIC"), rel=1e-9)


@pytest.mark.parametrize("model,family,link,lhs,smfam", WEIGHTED)
def test_variance_weights_match_statsmodels_var_weights(model, family, link, lhs, smfam):
    res = glm(f"{lhs} ~ {RHS}", QUINE, family=family, link=link, weights="w",
              weight_type="variance", llf_convention="statsmodels")  # fmt: skip
    ref = smf.glm(f"{lhs} ~ {RHS}", QUINE, family=smfam, var_weights=QUINE.w).fit(
        tol=1e-12, maxiter=200
    )
    np.testing.assert_allclose(res.coef, ref.params[res.columns], rtol=1e-6)
    np.testing.assert_allclose(res.se_coef, ref.bse[res.columns], rtol=1e-6)
    assert res.dispersion == pytest.approx(ref.scale, rel=1e-7)
    assert res.pearson_chi2 == pytest.approx(ref.pearson_chi2, rel=1e-7)
    assert res.loglik == pytest.approx(ref.llf, rel=1e-9)
    assert res.nobs == ref.nobs and res.df_resid == ref.df_resid


def test_variance_weights_differ_from_frequency_weights_only_in_nobs_and_dispersion():
    kw = dict(family="gamma", link="log", weights="w")
    v = glm(f"d1 ~ {RHS}", QUINE, weight_type="variance", **kw)
    f = glm(f"d1 ~ {RHS}", QUINE, **kw)
    np.testing.assert_allclose(v.coef, f.coef, rtol=1e-9)
    assert f.nobs == QUINE.w.sum() and v.nobs == len(QUINE)
    # Pearson chi2 is the same sum; the dispersions differ by the degrees of freedom
    assert v.dispersion * v.df_resid == pytest.approx(f.dispersion * f.df_resid, rel=1e-9)


def test_variance_weights_robust_covariance_matches_statsmodels():
    res = glm(f"d1 ~ {RHS}", QUINE, family="gamma", link="log", weights="w",
              weight_type="variance")  # fmt: skip
    ref = smf.glm(f"d1 ~ {RHS}", QUINE, family=sm.families.Gamma(sm.families.links.Log()),
                  var_weights=QUINE.w).fit(tol=1e-12, cov_type="HC0")  # fmt: skip
    cov = res.fit.vcov("hc0")
    idx = [cov.labels.index(c) for c in res.columns]
    np.testing.assert_allclose(np.asarray(cov.matrix)[np.ix_(idx, idx)],
                               ref.cov_params().loc[res.columns, res.columns], rtol=1e-6)  # fmt: skip
    assert res.fit.nobs == len(QUINE) and "Prior (variance) weights" in res.summary().to_text()


def test_variance_weights_reject_robust_covariances_and_bad_options():
    with pytest.raises(ValueError, match=r"res.fit.vcov\('sandwich'\)"):
        glm(f"d1 ~ {RHS}", QUINE, family="gamma", weights="w", weight_type="variance",
            cov="sandwich")  # fmt: skip
    with pytest.raises(ValueError, match="weight_type must be one of"):
        glm(f"d1 ~ {RHS}", QUINE, family="gamma", weights="w", weight_type="prior")
    with pytest.raises(ValueError, match="llf_convention must be one of"):
        glm(f"d1 ~ {RHS}", QUINE, family="gamma", llf_convention="SAS")
    w = -QUINE.w.to_numpy()
    with pytest.raises(ValueError, match="weights"):
        glm(f"d1 ~ {RHS}", QUINE, family="gamma", weights=w, weight_type="variance")


# ----- NB2 with a fixed dispersion; MASS::glm.nb's standard errors ----------------


@pytest.mark.parametrize("kw", [{"theta": 1.5}, {"alpha": 1 / 1.5}])
def test_nb2_fixed_theta_matches_r_negative_binomial_and_statsmodels(kw):
    model = "nb_theta1.5"
    res = glm(f"Days ~ {RHS}", QUINE, family="negative_binomial", **kw)
    assert res.alpha == 1 / 1.5 and res.n_params == len(res.columns)
    np.testing.assert_allclose(res.coef, r_vector(model, "coef", res.columns), rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(res.se_coef, r_vector(model, "se", res.columns), rtol=1e-6)
    for name, value in [("deviance", res.deviance), ("null_deviance", res.null_deviance),
                        ("logLik", res.loglik), ("AIC", res.aic)]:  # fmt: skip
        assert value == pytest.approx(r_value(model, "stat", name), rel=1e-9), name
    ref = smf.glm(f"Days ~ {RHS}", QUINE,
                  family=sm.families.NegativeBinomial(alpha=1 / 1.5)).fit(tol=1e-12)  # fmt: skip
    np.testing.assert_allclose(res.se_coef, ref.bse[res.columns], rtol=1e-6)
    assert res.loglik == pytest.approx(ref.llf, rel=1e-9)
    assert math.isnan(float(res.se["alpha"]))


def test_nb2_fixed_alpha_errors_name_the_option():
    with pytest.raises(ValueError, match="not both"):
        glm(f"Days ~ {RHS}", QUINE, family="nb2", alpha=1.0, theta=1.0)
    with pytest.raises(ValueError, match="theta= must be a finite number > 0"):
        glm(f"Days ~ {RHS}", QUINE, family="nb2", theta=0.0)
    with pytest.raises(ValueError, match="family='negative_binomial'"):
        glm(f"Days ~ {RHS}", QUINE, family="poisson", alpha=1.0)


def test_glm_nb_standard_errors_match_mass():
    res = glm(f"Days ~ {RHS}", QUINE, family="negative_binomial", cov="eim")
    model = "glm.nb"
    np.testing.assert_allclose(res.coef, r_vector(model, "coef", res.columns), rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(res.se_coef, r_vector(model, "se", res.columns), rtol=1e-6)
    theta = 1.0 / res.alpha
    assert theta == pytest.approx(r_value(model, "theta", "theta"), rel=1e-8)
    # SE(theta) = SE(alpha) / alpha^2. MASS's theta.ml evaluates the
    # information one Newton step before its last theta (3e-6 apart here);
    # the closed form at the estimate is checked exactly below.
    se_theta = float(res.se["alpha"]) / res.alpha**2
    assert se_theta == pytest.approx(r_value(model, "theta", "SE.theta"), rel=1e-5)
    from scipy.special import polygamma

    y, mu = QUINE.Days.to_numpy(float), res.fitted
    info = np.sum(-polygamma(1, theta + y) + polygamma(1, theta) - 1 / theta
                  + 2 / (mu + theta) - (y + theta) / (mu + theta) ** 2)  # fmt: skip
    assert se_theta == pytest.approx(1 / math.sqrt(info), rel=1e-8)
    assert 2 * res.loglik == pytest.approx(r_value(model, "theta", "twologlik"), rel=1e-10)


# ----- Stata's interval for alpha: exp(CI of ln alpha) ------------------------------


def test_nb2_log_scale_interval_matches_stata_nbreg():
    # Stata nbreg on randhie (statsmodels' results_discrete.py,
    # negativebinomial_nb2_bfgs): lnalpha 0.256929012449, SE .0143932,
    # CI for alpha [1.256989, 1.329947].
    d = sm.datasets.randhie.load_pandas().data
    X = sm.add_constant(d.drop(columns="mdvis"), prepend=False)
    res = glm(d.mdvis.to_numpy(float), X.to_numpy(float), family="negative_binomial",
              columns=list(X.columns))  # fmt: skip
    a = float(res.params["alpha"])
    assert math.log(a) == pytest.approx(0.256929012449, abs=1e-6)
    assert float(res.se["alpha"]) / a == pytest.approx(0.0143932, rel=1e-5)
    lo, hi = res.conf_int(0.05, method="log")
    assert [float(lo["alpha"]), float(hi["alpha"])] == pytest.approx(
        [1.256989, 1.329947], abs=2e-6
    )
    wlo, whi = res.conf_int(0.05)  # symmetric Wald interval otherwise
    assert float(whi["alpha"]) - a == pytest.approx(a - float(wlo["alpha"]), rel=1e-12)
    assert float(lo["const"]) == pytest.approx(float(wlo["const"]), rel=1e-12)
    with pytest.raises(ValueError, match="method must be"):
        res.conf_int(method="exp")


# ----- log-likelihood conventions: R, statsmodels, Stata ---------------------------


def _gaussian_log_data():
    # statsmodels' TestGaussianLog data (generated; R and Stata llf stored)
    x = np.arange(100)
    rs = np.random.RandomState(54321)
    X = np.c_[np.ones(100), x, x**2]
    y = np.exp(-(-1.0 + 0.02 * x + 0.0001 * x**2)) + 0.001 * rs.randn(100)
    return y, X


def test_gaussian_log_link_loglik_conventions():
    y, X = _gaussian_log_data()
    r = {c: glm(y, X, family="gaussian", link="log", llf_convention=c)
         for c in ("R", "statsmodels", "stata")}  # fmt: skip
    # results_glm.GaussianLog.llf: R and Stata (dispersion D/n)
    assert r["R"].loglik == pytest.approx(555.9093606536328, rel=1e-9)
    assert r["stata"].loglik == pytest.approx(555.9093606536328, rel=1e-9)
    ref = sm.GLM(y, X, family=sm.families.Gaussian(sm.families.links.Log())).fit(tol=1e-12)
    assert r["statsmodels"].loglik == pytest.approx(ref.llf, rel=1e-9)
    np.testing.assert_allclose(r["statsmodels"].se_coef, r["R"].se_coef, rtol=1e-12)


def test_gamma_loglik_conventions_match_stata_statsmodels_and_r():
    d = sm.datasets.scotland.load_pandas().data
    X = sm.add_constant(d.drop(columns="YES"), prepend=False).to_numpy(float)
    y = d.YES.to_numpy(float)
    res = {c: glm(y, X, family="gamma", llf_convention=c)
           for c in ("R", "statsmodels", "stata")}  # fmt: skip
    # results_glm.Scotvote: Stata's llf (dispersion 1); R's AIC 182.947045954721
    assert res["stata"].loglik == pytest.approx(-163.5539382, rel=1e-8)
    assert res["R"].aic == pytest.approx(182.947045954721, rel=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' DomainWarning (inverse link)
        ref = sm.GLM(y, X, family=sm.families.Gamma()).fit(tol=1e-12)
    assert res["statsmodels"].loglik == pytest.approx(ref.llf, rel=1e-9)
    assert res["R"].loglik != pytest.approx(res["statsmodels"].loglik, rel=1e-6)
    assert res["stata"].summary().to_text().count("Stata's glm") == 1


def test_inverse_gaussian_loglik_conventions_match_stata():
    path = pathlib.Path(sm.__file__).parent / "genmod/tests/results/inv_gaussian.csv"
    if not path.exists():
        pytest.skip("statsmodels' test data are not installed")
    d = pd.read_csv(path).iloc[:5000]  # the rows of Stata's fit
    X = np.column_stack([d.x1, d.x2, np.ones(len(d))])
    y = d.xig.to_numpy(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sm.GLM(y, X, family=sm.families.InverseGaussian()).fit(tol=1e-12)
    st = glm(y, X, family="inverse_gaussian", llf_convention="stata")
    sm_ = glm(y, X, family="inverse_gaussian", llf_convention="statsmodels")
    # results_glm.InvGauss: Stata's llf (dispersion 1; Stata's estimates are
    # 5e-8 away in relative log-likelihood, statsmodels checks 0 decimals)
    assert st.loglik == pytest.approx(-3877.700354, rel=1e-7)
    assert st.deviance == pytest.approx(1423.943980407997, rel=1e-8)
    assert sm_.loglik == pytest.approx(ref.llf, rel=1e-9)
