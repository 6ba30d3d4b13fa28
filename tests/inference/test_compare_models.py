"""Model comparison across kinds (likelihax.inference._compare) against R.

References (tests/reference/glm_conventions.R, output glm_conventions_results.csv):
log-likelihoods and LR statistics of R ``glm`` against ``glmmTMB`` (cbpp,
binomial, random intercept) and ``lmer(REML = FALSE)`` (sleepstudy, one and
two independent variance components), with the chi-bar-squared p-values
:math:`\\sum_j \\binom{k}{j}2^{-k} P(\\chi^2_j > LR)`; ``pscl::vuong`` on
bioChemists (Poisson against zero-inflated Poisson, ZIP against ZINB).
Poisson against NB2 is checked against statsmodels' discrete models and
scipy's chi-squared tail.
"""

from __future__ import annotations

import pathlib
import warnings

import jax.scipy.stats as jst
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import likelihax as lx
from likelihax.inference import compare_lr, loglik_obs, vuong_test

REF = pathlib.Path(__file__).resolve().parents[1] / "reference"
R = pd.read_csv(REF / "glm_conventions_results.csv")


def r_value(model, kind, term):
    row = R[(R.model == model) & (R.kind == kind) & (R.term == term)]
    assert len(row) == 1, (model, kind, term)
    return float(row.value.iloc[0])


@pytest.fixture(scope="module")
def cbpp():
    d = pd.read_csv(REF / "mixed_data_cbpp.csv").astype({"herd": str, "period": str})
    return d.assign(fail=d["size"] - d["incidence"])


@pytest.fixture(scope="module")
def sleep():
    return pd.read_csv(REF / "mixed_data_sleepstudy.csv").astype({"Subject": str})


@pytest.fixture(scope="module")
def sleep_fits(sleep):
    """The GLM and the ML random-intercept model of sleepstudy."""
    return (lx.glm("Reaction ~ Days", sleep),
            lx.mixed("Reaction ~ Days + (1 | Subject)", sleep, reml=False))  # fmt: skip


@pytest.fixture(scope="module")
def biochem():
    return pd.read_csv(REF / "count_models_data_biochemists.csv")


def test_glm_against_glmm_random_intercept_matches_r(cbpp):
    g = lx.glm("incidence ~ period", cbpp, family="binomial", trials="size")
    m = lx.mixed("cbind(incidence, fail) ~ period + (1 | herd)", cbpp, family="binomial")
    t = compare_lr(g, m)
    assert t.loglik[0] == pytest.approx(r_value("lr_cbpp", "stat", "logLik0"), rel=1e-9)
    assert t.statistic == pytest.approx(r_value("lr_cbpp", "stat", "LR"), rel=1e-6)
    assert t.pvalue == pytest.approx(r_value("lr_cbpp", "stat", "p_chibar"), rel=1e-5)
    assert (t.distribution, t.df, t.boundary) == ("chibar2", 1, ("L_diag[0]",))
    # half the chi2(1) p-value, and the plain test on request
    plain = compare_lr(g, m, boundary="none")
    assert plain.pvalue == pytest.approx(stats.chi2.sf(t.statistic, 1), rel=1e-10)
    assert t.pvalue == pytest.approx(plain.pvalue / 2, rel=1e-12)
    stat, p, df = t
    assert (stat, p, df) == (t.statistic, t.pvalue, 1)


@pytest.mark.parametrize("model,term,k", [
    ("lr_sleepstudy", "(1 | Subject)", 1),
    ("lr_sleepstudy_2", "(Days || Subject)", 2),
])  # fmt: skip
def test_gaussian_glm_against_lmm_matches_lme4(sleep, sleep_fits, model, term, k):
    g, m = sleep_fits
    if k > 1:
        m = lx.mixed(f"Reaction ~ Days + {term}", sleep, reml=False)
    t = compare_lr(g, m)
    # The GLM's full likelihood: dispersion D/n, R's logLik of the lm
    assert t.loglik[0] == pytest.approx(r_value(model, "stat", "logLik0"), rel=1e-10)
    assert t.loglik[1] == pytest.approx(r_value(model, "stat", "logLik1"), rel=1e-9)
    assert t.statistic == pytest.approx(r_value(model, "stat", "LR"), rel=1e-7)
    assert t.pvalue == pytest.approx(r_value(model, "stat", "p_chibar"), rel=1e-6)
    assert len(t.boundary) == k and list(t.mixture) == list(range(k + 1))
    np.testing.assert_allclose(list(t.mixture.values()),
                               stats.binom.pmf(np.arange(k + 1), k, 0.5), rtol=1e-12)  # fmt: skip


def test_correlated_random_slope_needs_explicit_weights(sleep, sleep_fits):
    g = sleep_fits[0]
    m = lx.mixed("Reaction ~ Days + (Days | Subject)", sleep, reml=False)
    with pytest.raises(ValueError, match="mixture="):
        compare_lr(g, m)
    mix = {1: 0.25, 2: 0.5, 3: 0.25}
    t = compare_lr(g, m, mixture=mix)
    expected = sum(w * stats.chi2.sf(t.statistic, d) for d, w in mix.items())
    assert t.pvalue == pytest.approx(expected, rel=1e-9, abs=1e-300)
    assert compare_lr(g, m, boundary="none").df == 3
    with pytest.raises(ValueError, match="summing to 1"):
        compare_lr(g, m, mixture={1: 0.5, 2: 0.4})


def test_incomparable_fits_raise_clear_errors(sleep, sleep_fits):
    g, m = sleep_fits
    with pytest.raises(ValueError, match="REML"):
        compare_lr(g, lx.mixed("Reaction ~ Days + (1 | Subject)", sleep))
    with pytest.raises(ValueError, match="different numbers of observations"):
        compare_lr(lx.glm("Reaction ~ Days", sleep.iloc[:150]), m)
    other = sleep.assign(Reaction=sleep.Reaction[::-1].to_numpy() + 1.0)
    with pytest.raises(ValueError, match="different responses"):
        compare_lr(lx.glm("Reaction ~ Days", other), m)
    with pytest.raises(ValueError, match="restricted fit first"):
        compare_lr(m, g)
    with pytest.raises(ValueError, match="boundary must be"):
        compare_lr(g, m, boundary="yes")
    with pytest.raises(ValueError, match="no parameter of the full model is on the boundary"):
        compare_lr(g, lx.glm("Reaction ~ Days + I(Days**2)", sleep), boundary="chibar")


def test_poisson_within_nb2_is_a_boundary_test_as_statsmodels_and_stata():
    q = pd.read_csv(REF / "glm_conventions_data_quine.csv")
    f = "Days ~ Eth + Sex + Age + Lrn"
    t = compare_lr(lx.glm(f, q, family="poisson"), lx.glm(f, q, family="nb2"))
    X = sm.add_constant(pd.get_dummies(q[["Eth", "Sex", "Age", "Lrn"]], drop_first=True)
                        .astype(float))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ll0 = sm.Poisson(q.Days, X).fit(disp=0, tol=1e-12).llf
        ll1 = sm.NegativeBinomial(q.Days, X).fit(disp=0, maxiter=500, gtol=1e-10).llf
    assert t.statistic == pytest.approx(2 * (ll1 - ll0), rel=1e-7)
    assert t.boundary == ("alpha",) and t.mixture == {0: 0.5, 1: 0.5}
    assert t.pvalue == pytest.approx(0.5 * stats.chi2.sf(t.statistic, 1), rel=1e-9,
                                     abs=1e-300)  # fmt: skip
    plain = compare_lr(lx.glm(f, q, family="poisson"),
                       lx.glm(f + " + Eth:Sex", q, family="poisson"))  # fmt: skip
    assert plain.distribution == "chi2" and plain.boundary == () and plain.df == 1


# ----- Vuong --------------------------------------------------------------------------


def test_vuong_poisson_against_zip_matches_pscl(biochem):
    f = "art ~ fem + mar + kid5 + phd + ment"
    pois = lx.glm(f, biochem, family="poisson")
    zip_ = lx.zeroinfl(f + " | fem + mar + kid5 + phd + ment", biochem)
    v = vuong_test(pois, zip_)
    assert v.k == (6, 12) and v.nobs == len(biochem)
    for lab, key in [("Raw", "raw"), ("AIC-corrected", "aic"), ("BIC-corrected", "bic")]:
        z = r_value("vuong_pois_zip", "vuong", lab)
        # (pscl's zeroinfl stops at optim's reltol 1e-8: 8e-7 apart in z)
        assert v.statistic[key] == pytest.approx(z, rel=2e-6)
        assert v.pvalue[key] == pytest.approx(stats.norm.cdf(v.statistic[key]), rel=1e-12)
        assert v.pvalue[key] == pytest.approx(r_value("vuong_pois_zip", "vuong_p", lab),
                                              rel=5e-5)  # fmt: skip
        assert v.preferred[key] == "model2"


def test_vuong_counts_parameters_like_pscl_on_request(biochem):
    f = "art ~ fem + mar + kid5 + phd + ment | fem + mar + kid5 + phd + ment"
    zip_ = lx.zeroinfl(f, biochem)
    zinb = lx.zeroinfl(f, biochem, dist="negbin")
    # pscl counts length(coef(m)), leaving out theta: the same k for both
    v = vuong_test(zip_, zinb, k2=zip_.n_params)
    for lab, key in [("Raw", "raw"), ("AIC-corrected", "aic"), ("BIC-corrected", "bic")]:
        assert v.statistic[key] == pytest.approx(r_value("vuong_zip_zinb", "vuong", lab),
                                                 rel=2e-6)  # fmt: skip
    # counting theta moves the corrected statistics towards the smaller model
    d = vuong_test(zip_, zinb)
    assert d.k == (12, 13) and d.statistic["aic"] > v.statistic["aic"]
    m = loglik_obs(zip_) - loglik_obs(zinb)
    n = m.size
    expected = (m.sum() + 1.0) / (m.std(ddof=1) * np.sqrt(n))  # (k1 - k2) / n * n = -1
    assert d.statistic["aic"] == pytest.approx(expected, rel=1e-12)


def test_loglik_obs_sums_to_the_loglik_and_rejects_scalar_models(biochem):
    f = "art ~ fem + mar + kid5 + phd + ment"
    for res in (lx.glm(f, biochem, family="poisson"), lx.glm(f, biochem, family="nb2"),
                lx.zeroinfl(f, biochem)):  # fmt: skip
        ll = loglik_obs(res)
        assert ll.shape == (len(biochem),)
        assert ll.sum() == pytest.approx(res.loglik, rel=1e-12)
    y = biochem.art.to_numpy(float)
    pois = lx.glm(f, biochem, family="poisson")
    np.testing.assert_allclose(loglik_obs(pois), stats.poisson.logpmf(y, pois.fitted),
                               rtol=1e-10)  # fmt: skip
    scalar = lx.fit(lambda p, d: jst.norm.logpdf(d["y"], p["mu"], 1.0).sum(),
                    {"mu": 0.0}, {"y": y})  # fmt: skip
    with pytest.raises(ValueError, match="per-observation"):
        loglik_obs(scalar)
    with pytest.raises(ValueError, match="different numbers of observations"):
        vuong_test(pois, lx.glm(f, biochem.iloc[:900], family="poisson"))
