"""Mixed models (lme4-style formulas) against lme4 and glmmTMB; bad input.

Reference numbers: tests/reference/mixed.R (lme4 1.1.31, glmmTMB 1.1.5,
R 4.2.2) -> tests/reference/mixed_results.csv; data in mixed_data_*.csv.
"""

from __future__ import annotations

import pathlib
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import likelihax as lx
from likelihax.models.random_effects import SingularFitWarning, mixed

REF = pathlib.Path(__file__).resolve().parents[2] / "reference"


@pytest.fixture(scope="module")
def ref():
    return pd.read_csv(REF / "mixed_results.csv")


def R(ref, model, software, kind):
    r = ref[(ref.model == model) & (ref.software == software) & (ref.kind == kind)]
    return dict(zip(r.term, r.value.astype(float)))


def data(name):
    return pd.read_csv(REF / f"mixed_data_{name}.csv")


def r_name(c):  # formulaic's treatment-contrast names -> R's
    for pre, new in (("C(period)[T.", "period"), ("YEAR[T.", "YEAR")):
        c = c.replace(pre, new)
    return c.replace("]", "")


def check(m, ref, model, software, *, fixef, se, loglik, sd, se_kind=None):
    fe, ses = R(ref, model, software, "fixef"), R(ref, model, software, "se")
    names = m.fixed_names
    got_se = np.sqrt(np.diag(m.vcov(se_kind)))
    np.testing.assert_allclose([m.fixef[c] for c in names],
                               [fe[r_name(c)] for c in names], rtol=fixef)  # fmt: skip
    np.testing.assert_allclose(got_se, [ses[r_name(c)] for c in names], rtol=se)
    st = R(ref, model, software, "stat")
    np.testing.assert_allclose(m.loglik, st["logLik"], rtol=loglik)
    np.testing.assert_allclose([m.aic, m.bic], [st["AIC"], st["BIC"]], rtol=loglik)
    sds = R(ref, model, software, "sd")
    got_sd = np.sqrt(np.diag(m.L @ m.L.T))
    np.testing.assert_allclose(got_sd, [sds[n] for n in m.random_names], rtol=sd)


@pytest.fixture(scope="module")
def sleep():
    return mixed("Reaction ~ Days + (Days | Subject)", data("sleepstudy"), reml=False)


def test_lmm_sleepstudy_matches_lmer(sleep, ref):
    """lmer(Reaction ~ Days + (Days | Subject), REML = FALSE); measured ~1e-8."""
    m = sleep
    assert m.converged and not m.singular and m.nobs == 180 and m.ngroups == 18
    check(m, ref, "sleepstudy", "lme4", fixef=1e-6, se=1e-6, loglik=1e-6, sd=1e-6)
    vc = m.varcorr()
    est = dict(zip(vc.labels, vc.values))
    assert np.isclose(est["cor(Days,(Intercept))"],
                      R(ref, "sleepstudy", "lme4", "cor")["(Intercept),Days"],
                      rtol=1e-6)  # fmt: skip
    assert np.isclose(
        m.sigma, R(ref, "sleepstudy", "lme4", "sigma")["sigma"], rtol=1e-6
    )
    # conditional modes and conditional SDs (lme4 ranef(condVar = TRUE))
    re = m.ranef()
    rr, rs = (R(ref, "sleepstudy", "lme4", k) for k in ("ranef", "ranef_se"))
    for c in m.random_names:
        keys = [f"{lev}:{c}" for lev in re.index]
        np.testing.assert_allclose(re[c], [rr[k] for k in keys], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(re[f"se({c})"], [rs[k] for k in keys], rtol=1e-6)


def test_lmm_conditional_and_full_vcov(sleep):
    """lme4's vcov is the inverse of the beta block of the information."""
    full, cond = sleep.vcov("full"), sleep.vcov("conditional")
    lab = sleep.fit.unconstrained_labels
    idx = [lab.index(c) for c in sleep.fixed_names]
    info = np.asarray(sleep.fit.information)
    np.testing.assert_allclose(cond, np.linalg.inv(info[np.ix_(idx, idx)]))
    Vu = np.linalg.inv(info)[np.ix_(idx, idx)]
    np.testing.assert_allclose(full, Vu, rtol=1e-9)
    assert sleep.vcov() is not None and np.allclose(sleep.vcov(), cond)
    with pytest.raises(ValueError, match="conditional"):
        sleep.vcov("robust")


@pytest.fixture(scope="module")
def sleep_int():
    return mixed("Reaction ~ Days + (1 | Subject)", data("sleepstudy"), reml=False)


def test_lmm_random_intercept_matches_lmer(sleep_int, ref):
    check(sleep_int, ref, "sleepstudy_int", "lme4", fixef=1e-6, se=1e-6, loglik=1e-6,
          sd=1e-6)  # fmt: skip


def test_summary_text(sleep):
    text = sleep.summary().to_text()
    for part in ("Linear mixed model", "Random effects:", "Fixed effects:",
                 "Subject", "Residual", "-876.0", "Number of obs: 180"):  # fmt: skip
        assert part in text
    assert "MixedResult(gaussian" in repr(sleep)


def test_glmm_binomial_cbpp(ref):
    df = data("cbpp")
    before = df.copy()
    f = "cbind(incidence, size - incidence) ~ C(period) + (1 | herd)"
    m = mixed(f, df, family="binomial")
    pd.testing.assert_frame_equal(df, before)  # the caller's frame is untouched
    assert m.converged
    # glmmTMB: exact (autodiff) Laplace Hessian; measured agreement ~7e-7
    check(m, ref, "cbpp", "glmmTMB", fixef=1e-5, se=1e-5, loglik=1e-9, sd=1e-5)
    # glmer: its optimum lies 3e-4 lower in log-likelihood and its SEs come from
    # a finite-difference Hessian (1.3% off here)
    check(m, ref, "cbpp", "lme4", fixef=2e-3, se=2e-2, loglik=1e-5, sd=2e-3)
    assert m.loglik >= R(ref, "cbpp", "lme4", "stat")["logLik"]
    # proportion + weights form gives the same fit
    df2 = df.assign(prop=df.incidence / df["size"])
    m2 = mixed("prop ~ C(period) + (1 | herd)", df2, family="binomial", weights="size")
    assert np.isclose(m2.loglik, m.loglik, rtol=1e-10)


@pytest.fixture(scope="module")
def grouse():
    return mixed("TICKS ~ YEAR + HEIGHT + (1 | BROOD)", data("grouseticks"),
                 family="poisson")  # fmt: skip


def test_glmm_poisson_grouseticks(grouse, ref):
    m = grouse
    assert m.converged and m.n_singletons == 18
    check(m, ref, "grouseticks", "glmmTMB", fixef=2e-5, se=1e-5, loglik=1e-9, sd=1e-5)
    check(m, ref, "grouseticks", "lme4", fixef=2e-5, se=1e-4, loglik=1e-8, sd=1e-5)
    re = m.ranef()
    rs = R(ref, "grouseticks", "lme4", "ranef_se")
    np.testing.assert_allclose(
        re["se((Intercept))"], [rs[f"{k}:(Intercept)"] for k in re.index], rtol=1e-4
    )


def test_row_order_does_not_matter(sleep):
    df = data("sleepstudy").sample(frac=1.0, random_state=3)
    m = mixed("Reaction ~ Days + (Days | Subject)", df, reml=False)
    assert np.isclose(m.loglik, sleep.loglik, rtol=1e-12)
    np.testing.assert_allclose(list(m.fixef.values()), list(sleep.fixef.values()))


# ----- bad input ----------------------------------------------------------------------
def test_unknown_grouping_column():
    with pytest.raises(KeyError, match="'Patient' is not a column"):
        mixed("Reaction ~ Days + (1 | Patient)", data("sleepstudy"))


def test_missing_values_raise_or_drop():
    df = data("sleepstudy")
    df.loc[[3, 7], "Days"] = np.nan
    with pytest.raises(ValueError, match=r"2 of 180 rows .*Days: 2"):
        mixed("Reaction ~ Days + (1 | Subject)", df)
    m = mixed("Reaction ~ Days + (1 | Subject)", df, missing="drop", reml=False)
    assert m.nobs == 178 and m.n_dropped == 2 and m.converged
    assert "2 rows with missing values were dropped" in m.summary().to_text()


def test_formula_errors():
    df = data("sleepstudy")
    with pytest.raises(ValueError, match="no random-effect term"):
        mixed("Reaction ~ Days", df)
    with pytest.raises(NotImplementedError, match=r"grouping factor 'Subject \+ Days'"):
        mixed("Reaction ~ Days + (1 | Subject + Days)", df)
    with pytest.raises(ValueError, match="'Subject:Days' has 180 levels for 180"):
        mixed("Reaction ~ Days + (1 | Subject/Days)", df)
    # Every family of the GLM registry is accepted; links are checked, and
    # unknown names get the registry's list.
    with pytest.raises(NotImplementedError, match="Gaussian family with the identity link"):
        mixed("Reaction ~ Days + (1 | Subject)", df, link="log")
    with pytest.raises(ValueError, match="link 'inverse' is not a link of the poisson"):
        mixed("Reaction ~ Days + (1 | Subject)", df, family="poisson", link="inverse")
    with pytest.raises(ValueError, match="Unknown family 'weibull'. Families: gaussian"):
        mixed("Reaction ~ Days + (1 | Subject)", df, family="weibull")
    with pytest.raises(ValueError, match="non-negative integer"):
        mixed("Reaction ~ Days + (1 | Subject)", df, family="poisson")


def test_one_observation_per_group_is_an_error_for_lmm():
    df = data("sleepstudy").assign(row=np.arange(180))
    with pytest.raises(ValueError, match="not identified"):
        mixed("Reaction ~ Days + (1 | row)", df)


# The two simulated Gaussian designs below have 18 groups and one covariate named
# Days, as sleepstudy's random-intercept model: the per-group closed form then
# has the same parameters and data shapes, and the compiled fit is reused.
def test_singleton_groups_are_reported(make_rng):
    rng = make_rng(61)
    g = np.r_[np.repeat(np.arange(12), 5), np.arange(12, 18)]
    x = rng.normal(size=g.size)
    y = 1 + x + rng.normal(size=18)[g] + rng.normal(size=g.size)
    m = mixed("y ~ Days + (1 | g)", pd.DataFrame({"y": y, "Days": x, "g": g}), reml=False)
    assert m.converged and m.n_singletons == 6
    assert "6 group(s) have a single observation" in m.summary().to_text()


def test_singular_fit_is_flagged(make_rng):
    """No between-group variation: lme4's 'boundary (singular) fit'."""
    rng = make_rng(62)
    g = np.repeat(np.arange(18), 5)
    x = rng.normal(size=90)
    y = 1 + 0.5 * x + rng.normal(size=90)
    y = y - pd.Series(y).groupby(g).transform("mean").to_numpy() + y.mean()
    df = pd.DataFrame({"y": y, "Days": x, "g": g})
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        m = mixed("y ~ Days + (1 | g)", df, reml=False)
    msgs = [str(w.message) for w in rec if issubclass(w.category, SingularFitWarning)]
    assert msgs and "boundary (singular) fit" in msgs[0]
    assert "L_diag[0] ((Intercept)|g)" in msgs[0]
    assert m.singular and not m.converged
    assert m.model_info.flags == ("singular",) == m.fit.model_info.flags
    assert np.all(np.isfinite(list(m.fixef.values())))
    # the engine's own probe finds the boundary too
    assert m.fit.status == lx.Status.at_boundary
    assert "Status: boundary (singular) fit; engine at_boundary" in m.summary().to_text()
    assert "boundary" in m.message


def test_start_values_and_options(sleep):
    m = mixed("Reaction ~ Days + (Days | Subject)", data("sleepstudy"), reml=False,
              start={"sigma": 30.0, "L_diag": [20.0, 5.0]})  # fmt: skip
    assert np.isclose(m.loglik, sleep.loglik, rtol=1e-10)
    with pytest.raises(ValueError, match="not a parameter"):
        mixed("Reaction ~ Days + (1 | Subject)", data("sleepstudy"), start={"tau": 1})
    assert isinstance(sleep.fit, lx.FitResult)


def test_lmm_closed_form_equals_laplace_engine(sleep):
    """The Gaussian closed form the engine fits is the Laplace marginal of the
    joint density (inner Newton, generic and quadratic), value and fit. Each
    marginal is evaluated as one jitted program."""
    from likelihax.models.random_effects import laplace

    lap = sleep._model
    generic = laplace(lap.joint, {"v": 2})
    params = dict(sleep.fit.params)
    for m in (lap, generic):
        with jax.enable_x64(True):
            p = {k: jnp.asarray(v) for k, v in params.items()}
            d = {k: jnp.asarray(v) for k, v in sleep._data.items()}
            val = float(jnp.sum(jax.jit(m)(p, d)))
        assert np.isclose(val, sleep.loglik, rtol=1e-12)
    start = {k: np.asarray(v) * 1.1 for k, v in params.items()}
    fit = lx.fit(
        lap,
        start,
        sleep._data,
        constraints={
            "sigma": lx.constraints.positive,
            "L_diag": lx.constraints.positive,
        },
    )
    assert np.isclose(fit.loglik, sleep.loglik, rtol=1e-12)
    a, b = np.asarray(fit.cov), np.asarray(sleep.fit.cov)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8 * np.abs(b).max())


def test_bernoulli_rows_equal_cbind(ref):
    """cbpp expanded to one 0/1 row per animal: same fit, loglik differs by the
    binomial coefficients only."""
    from scipy.special import gammaln

    df = data("cbpp")
    rows = []
    for r in df.itertuples():
        rows += [(r.herd, str(r.period), 1.0)] * r.incidence
        rows += [(r.herd, str(r.period), 0.0)] * (r.size - r.incidence)
    long = pd.DataFrame(rows, columns=["herd", "period", "y"])
    m = mixed("y ~ period + (1 | herd)", long, family="binomial")
    n, k = df["size"].to_numpy(float), df.incidence.to_numpy(float)
    logc = np.sum(gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1))
    tmb = R(ref, "cbpp", "glmmTMB", "stat")["logLik"]
    assert np.isclose(m.loglik + logc, tmb, rtol=1e-9)
    fe = R(ref, "cbpp", "glmmTMB", "fixef")
    assert np.isclose(m.fixef["period[T.4]"], fe["period4"], rtol=1e-5)
    with pytest.raises(ValueError, match="must be 0/1"):
        mixed("incidence ~ 1 + (1 | herd)", df, family="binomial")
    with pytest.raises(NotImplementedError, match="weights"):
        mixed("incidence ~ 1 + (1 | herd)", df, weights="size")


def test_glmm_poisson_correlated_slope(ref):
    """Poisson GLMM with correlated random intercept and slope (R-simulated)."""
    m = mixed("y ~ x + (x | g)", data("poisslope"), family="poisson")
    assert m.converged and not m.singular
    check(m, ref, "poisslope", "glmmTMB", fixef=1e-5, se=1e-5, loglik=1e-9, sd=1e-5)
    # glmer stops 1.2e-3 lower in log-likelihood (bobyqa, rhoend 1e-10)
    check(m, ref, "poisslope", "lme4", fixef=1e-2, se=2e-2, loglik=5e-6, sd=1e-2)
    assert m.loglik >= R(ref, "poisslope", "lme4", "stat")["logLik"]
    vc = dict(zip(m.varcorr().labels, m.varcorr().values))
    cor = R(ref, "poisslope", "glmmTMB", "cor")["(Intercept),x"]
    assert np.isclose(vc["cor(x,(Intercept))"], cor, rtol=1e-4)
    rs = R(ref, "poisslope", "lme4", "ranef_se")
    re = m.ranef()
    np.testing.assert_allclose(re["se(x)"], [rs[f"{k}:x"] for k in re.index], rtol=1e-2)


def test_singular_glmm_is_flagged(make_rng):
    rng = make_rng(63)
    g = np.repeat(np.arange(20), 5)
    x = np.tile(rng.normal(size=5), 20)  # every group identical: no
    y = np.tile(rng.poisson(np.exp(1.0 + 0.3 * x[:5])), 20)  # between-group spread
    df = pd.DataFrame({"y": y, "x": x, "g": g})
    with pytest.warns(SingularFitWarning, match=r"L_diag\[0\] \(\(Intercept\)\|g\)"):
        m = mixed("y ~ x + (1 | g)", df, family="poisson")
    assert m.singular and not m.converged
    assert np.all(np.isfinite(list(m.se.values())))


def test_lr_test_random_slope(sleep, sleep_int, ref):
    """Inference tools apply to the engine fit: LR test of the random slope
    (lme4's anova(m1, m2) statistic, from the reference log-likelihoods)."""
    r = lx.lr_test(sleep_int.fit, sleep.fit)
    ll = [R(ref, k, "lme4", "stat")["logLik"] for k in ("sleepstudy_int", "sleepstudy")]
    assert np.isclose(r.statistic, 2 * (ll[1] - ll[0]), rtol=1e-7)
    assert r.df == 2


def test_model_info_and_the_inference_functions(sleep, grouse):
    """A mixed result says what it is (in its engine fit too) and goes to the
    inference functions as it is; the family comes from the GLM registry
    (aliases included)."""
    info = sleep.model_info
    assert (info.kind, info.family, info.link, info.flags) == (
        "mixed", "gaussian", "identity", ())  # fmt: skip
    assert sleep.fit.model_info == info
    np.testing.assert_array_equal(np.asarray(lx.vcov(sleep, "oim")),
                                  np.asarray(lx.vcov(sleep.fit, "oim")))  # fmt: skip
    w = lx.wald_test(sleep, "Days = 0")
    z = sleep.fit.params["Days"] / sleep.fit.se["Days"]
    assert w.statistic == pytest.approx(float(z) ** 2, rel=1e-10)
    m = mixed("Reaction ~ Days + (Days | Subject)", data("sleepstudy"), family="normal",
              reml=False)
    assert m.loglik == sleep.loglik and m.family == "gaussian"
    g = grouse
    assert (g.model_info.kind, g.model_info.family, g.model_info.link) == (
        "mixed", "poisson", "log")  # fmt: skip
    assert "Family: poisson (log)" in g.summary().to_text()
