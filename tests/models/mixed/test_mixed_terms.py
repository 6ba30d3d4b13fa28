"""Mixed models with several random-effect terms and REML, against lme4 and
glmmTMB, and their predictions against lme4's ``predict.merMod``.

Reference numbers: tests/reference/mixed_terms.R (lme4 1.1.31, glmmTMB 1.1.5,
R 4.2.2) -> tests/reference/mixed_terms_results.csv; data in
mixed_terms_data_*.csv. Tolerances: 1e-6 relative in the log-likelihood (REML
criterion, deviance), 1e-4 in estimates and standard errors (lme4's optimizer
stops at about that accuracy in the variance parameters; the criterion is flat
there).

A Gamma GLMM (log link): tests/reference/mixed_gamma.R (glmmTMB 1.1.5) ->
mixed_gamma_results.csv on the simulated mixed_gamma_data.csv; conditional SDs
of the random effects against their closed form given the estimates.

Predictions: tests/reference/mixed_predict.R (lme4 1.1-31, R 4.2.2) ->
mixed_predict_results.csv, on the new rows in mixed_predict_newdata_<model>.csv:
conditional predictions (``re.form = NULL``; a level the fit did not see at
zero, ``allow.new.levels = TRUE``) and population ones (``re.form = NA``), on
the link and response scales. likelihax's estimates equal lme4's to about
1e-6 relative or better, and so do the predictions.

Each model is fitted once per module (the ``fit`` fixture) and shared by the
tests that check it.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest

import likelihax as lx

REF = pathlib.Path(__file__).resolve().parents[2] / "reference"
RES = pd.read_csv(REF / "mixed_terms_results.csv")


def ref(model, kind, term, software="lme4"):
    r = RES[(RES.model == model) & (RES.software == software) & (RES.kind == kind)
            & (RES.term == term)]  # fmt: skip
    assert len(r) == 1, (model, kind, term, software)
    return float(r.value.iloc[0])


def data(name):
    df = pd.read_csv(REF / f"mixed_terms_data_{name}.csv")
    if name == "cbpp":
        df = df.assign(period=df.period.astype(str))
    if name == "salamanders":
        df = df.assign(minedno=(df.mined == "no").astype(float))
    return df


@pytest.fixture(scope="module")
def fit():
    """``fit(formula, name, **options)``: lx.mixed on data(name), once per module."""
    fits = {}

    def get(formula, name, **options):
        key = (formula, name, tuple(sorted(options.items())))
        if key not in fits:
            fits[key] = lx.mixed(formula, data(name), **options)
        return fits[key]

    return get


SLEEP = "Reaction ~ Days + (Days | Subject)"
PENICILLIN = "diameter ~ 1 + (1 | plate) + (1 | sample)"
CBPP = "cbind(incidence, size - incidence) ~ period + (1 | herd)"
SALAMANDERS = "count ~ minedno + (1 | site)"


def _check(res, model, sd_terms, software="lme4", rel=1e-4, se=True):
    """Log-likelihood to 1e-6 (1e-8 with glmmTMB's tighter optimum), fixed effects,
    SEs, random-effect SDs and sigma to ``rel``."""
    assert res.converged
    tol = 1e-8 if software == "glmmTMB" else 1e-6
    assert res.loglik == pytest.approx(ref(model, "stat", "logLik", software), rel=tol)
    for c in res.fixed_names:
        assert res.fixef[c] == pytest.approx(ref(model, "fixef", c, software), rel=rel)
        if se:
            assert res.se[c] == pytest.approx(ref(model, "se", c, software), rel=rel)
    vc = dict(zip(res.varcorr().labels, np.ravel(res.varcorr().estimate)))
    for mine, theirs in sd_terms.items():
        assert vc[mine] == pytest.approx(ref(model, "sd", theirs, software), rel=rel)
    if "sigma" in vc:
        assert vc["sigma"] == pytest.approx(ref(model, "sigma", "sigma", software), rel=rel)


# ----- REML, one term -------------------------------------------------------------------
def test_sleepstudy_reml_is_the_default(fit):
    res = fit(SLEEP, "sleepstudy")
    assert res.reml
    _check(res, "sleepstudy_reml", {"sd((Intercept))": "Subject:(Intercept)",
                                    "sd(Days)": "Subject:Days"})  # fmt: skip
    assert -2 * res.loglik == pytest.approx(ref("sleepstudy_reml", "stat", "REMLcrit"),
                                            rel=1e-9)  # fmt: skip
    assert res.aic == pytest.approx(ref("sleepstudy_reml", "stat", "AIC"), rel=1e-9)
    assert res.bic == pytest.approx(ref("sleepstudy_reml", "stat", "BIC"), rel=1e-9)
    assert "fit by REML" in res.summary().to_text()
    # glmmTMB (REML by integrating out the fixed effects) agrees.
    _check(res, "sleepstudy_reml", {"sd((Intercept))": "Subject:(Intercept)"}, "glmmTMB",
           rel=2e-5)  # fmt: skip


def test_reml_equals_the_per_group_ml_fit_when_asked_for_ml():
    df = data("sleepstudy")
    ml = lx.mixed("Reaction ~ Days + (Days | Subject)", df, reml=False)
    assert not ml.reml and ml._layout is None  # the per-group fast path
    ref_ml = ref("sleepstudy_reml", "stat", "deviance_ML")
    assert -2 * ml.loglik == pytest.approx(ref_ml, rel=1e-3)  # ML at the REML optimum >=


# ----- uncorrelated terms (||) ----------------------------------------------------------------
@pytest.mark.parametrize("reml", [True, False])
def test_sleepstudy_uncorrelated(reml):
    res = lx.mixed("Reaction ~ Days + (Days || Subject)", data("sleepstudy"), reml=reml)
    assert [t.names for t in res.terms] == [["(Intercept)"], ["Days"]]
    model = "sleepstudy_diag_reml" if reml else "sleepstudy_diag_ml"
    _check(res, model, {"sd((Intercept)|Subject)": "Subject:(Intercept)",
                        "sd(Days|Subject.1)": "Subject:Days"})  # fmt: skip


# ----- crossed ------------------------------------------------------------------------------
@pytest.mark.parametrize("reml", [True, False])
def test_penicillin_crossed(fit, reml):
    res = fit(PENICILLIN, "penicillin", reml=reml)
    model = "penicillin_reml" if reml else "penicillin_ml"
    _check(res, model, {"sd((Intercept)|plate)": "plate:(Intercept)",
                        "sd((Intercept)|sample)": "sample:(Intercept)"})  # fmt: skip
    _check(res, model, {"sd((Intercept)|plate)": "plate:(Intercept)"}, "glmmTMB", rel=2e-5)
    # Conditional modes and SDs (lme4's ranef(condVar = TRUE)).
    re = res.ranef()
    for key, grp in (("plate", "plate"), ("sample", "sample")):
        df = re[key]
        for level in df.index[:4]:
            term = f"{grp}:{level}:(Intercept)"
            assert df.loc[level, "(Intercept)"] == pytest.approx(
                ref(model, "ranef", term), rel=1e-4, abs=1e-6)
            assert df.loc[level, "se((Intercept))"] == pytest.approx(
                ref(model, "ranef_se", term), rel=1e-4)
    text = res.summary().to_text()
    assert "groups:  plate, 24; sample, 6" in text


# ----- nested -----------------------------------------------------------------------------
@pytest.mark.parametrize("reml", [True, False])
def test_pastes_nested(reml):
    res = lx.mixed("strength ~ 1 + (1 | batch/cask)", data("pastes"), reml=reml)
    assert [t.group for t in res.terms] == ["batch:cask", "batch"]
    assert res.terms[0].n_levels == 30
    model = "pastes_reml" if reml else "pastes_ml"
    _check(res, model, {"sd((Intercept)|batch)": "batch:(Intercept)",
                        "sd((Intercept)|batch:cask)": "cask:batch:(Intercept)"})  # fmt: skip


# ----- crossed Poisson GLMM (Laplace over all effects at once) ------------------------------
@pytest.fixture(scope="module")
def crossed_pois():
    return lx.mixed("y ~ x + (1 | a) + (1 | b)", data("crossed_pois"), family="poisson")


def test_crossed_poisson_glmm(crossed_pois):
    res = crossed_pois
    assert not res.reml
    sds = {"sd((Intercept)|a)": "a:(Intercept)", "sd((Intercept)|b)": "b:(Intercept)"}
    # glmmTMB's optimum is the more accurate one (its log-likelihood is higher).
    _check(res, "crossed_pois", sds, "glmmTMB", rel=2e-5)
    # glmer: same criterion to 1e-9; its SEs come from a finite-difference Hessian.
    assert res.loglik == pytest.approx(ref("crossed_pois", "stat", "logLik"), rel=1e-8)
    _check(res, "crossed_pois", sds, rel=1e-4, se=False)
    for c in res.fixed_names:
        assert res.se[c] == pytest.approx(ref("crossed_pois", "se", c), rel=5e-3)


def test_crossed_poisson_ranef(crossed_pois):
    re = crossed_pois.ranef()
    df = re["b"]
    for level in df.index[:5]:
        term = f"b:{level}:(Intercept)"
        assert df.loc[level, "(Intercept)"] == pytest.approx(
            ref("crossed_pois", "ranef", term, "glmmTMB"), rel=1e-3, abs=1e-5)


def test_second_crossed_fit_reuses_the_compiled_program(crossed_pois):
    """Building the model again for the same data gives an equal model (its
    latent pattern compares by content): the second fit compiles nothing."""
    from likelihax.engine import _compiled

    programs = (_compiled.fit_program, _compiled.fit_program_small)
    before = sum(p._cache_size() for p in programs)
    again = lx.mixed("y ~ x + (1 | a) + (1 | b)", data("crossed_pois"), family="poisson")
    assert sum(p._cache_size() for p in programs) == before
    assert again._model == crossed_pois._model and again._model is not crossed_pois._model
    assert again.loglik == crossed_pois.loglik


# ----- REML for GLMMs (glmmTMB REML = TRUE) ------------------------------------------------
GREML = pd.read_csv(REF / "glmm_reml_results.csv")


def greml(model, kind, term):
    r = GREML[(GREML.model == model) & (GREML.kind == kind) & (GREML.term == term)]
    assert len(r) == 1, (model, kind, term)
    return float(r.value.iloc[0])


GLMM_REML = {
    # model: (formula, data, family, R's fixed-effect names, SD terms)
    "cbpp_reml": ("cbind(incidence, size - incidence) ~ period + (1 | herd)", "cbpp",
                  "binomial", ["(Intercept)", "period2", "period3", "period4"],
                  ["herd:(Intercept)"]),
    "crossed_pois_reml": ("y ~ x + (1 | a) + (1 | b)", "crossed_pois", "poisson",
                          ["(Intercept)", "x"], ["a:(Intercept)", "b:(Intercept)"]),
    "salamanders_reml": ("count ~ minedno + (1 | site)", "salamanders", "negative_binomial",
                         ["(Intercept)", "minedno"], ["site:(Intercept)"]),
}  # fmt: skip


@pytest.mark.parametrize("model", sorted(GLMM_REML))
def test_glmm_reml_matches_glmmtmb(model):
    """The fixed effects integrated out with the random effects (one Laplace
    approximation): REML log-likelihood, estimates and SDs as glmmTMB's
    REML = TRUE; the default SEs are the "full" ones, which add the
    uncertainty of the variance parameters as TMB's sdreport does."""
    formula, name, family, names, sds = GLMM_REML[model]
    res = lx.mixed(formula, data(name), family=family, reml=True)
    assert res.converged and res.reml
    assert res.loglik == pytest.approx(greml(model, "stat", "logLik"), rel=1e-9)
    for mine, theirs in zip(res.fixed_names, names):
        assert res.fixef[mine] == pytest.approx(greml(model, "fixef", theirs), rel=1e-7)
        assert res.se[mine] == pytest.approx(greml(model, "se", theirs), rel=1e-6)
    for est, term in zip(np.ravel(res.varcorr().estimate), sds):
        assert float(est) == pytest.approx(greml(model, "sd", term), rel=1e-6)
    if name == "salamanders":
        theta = greml(model, "disp", "theta")
        assert float(res.fit.params["alpha"]) == pytest.approx(1 / theta, rel=1e-6)
    assert "fit by REML (Laplace)" in res.summary().to_text()
    # the conditional covariance (given the variance parameters) is smaller
    assert np.all(np.diag(res.vcov("conditional")) < np.diag(res.vcov("full")))


def test_reml_by_laplace_is_the_exact_reml_for_the_gaussian_family(fit):
    """RemlLaplace on a Gaussian model (exact Laplace: quadratic in the
    effects) maximizes to lmer's REML: the same criterion, estimates and
    conditional covariance as the exact GaussianTerms fit."""
    from likelihax.models.random_effects._formula import mixed_design
    from likelihax.models.random_effects._terms import RemlLaplace, terms_joint, terms_layout
    from likelihax.models.glm._family import FAMILIES
    from likelihax.models.glm._link import LINKS

    exact = fit(PENICILLIN, "penicillin", reml=True)
    des = mixed_design(PENICILLIN, data("penicillin"))
    lay = terms_layout(des)
    n = des.X.shape[0]
    cols = {"y": des.y.astype(float), "X": des.X, "const": np.zeros(n), "offset": np.zeros(n)}
    model, rows = terms_joint(FAMILIES["gaussian"], LINKS["identity"], des, lay, cols, True,
                              reml=True)  # fmt: skip
    fit = lx.fit(RemlLaplace(model, tuple(des.fixed_names), lay.n_latent),
                 dict(exact.fit.params), rows, constraints={"sigma": lx.constraints.positive})  # fmt: skip
    assert float(fit.loglik) == pytest.approx(exact.loglik, rel=1e-10)
    assert float(fit.loglik) == pytest.approx(-0.5 * ref("penicillin_reml", "stat", "REMLcrit"),
                                              rel=1e-9)  # fmt: skip
    for k, v in exact.fit.params.items():
        np.testing.assert_allclose(fit.params[k], v, rtol=1e-6, atol=1e-8)
    i = list(fit.unconstrained_labels).index("(Intercept)")
    info = np.asarray(fit.information)
    np.testing.assert_allclose(1 / info[i, i], exact.vcov("conditional")[0, 0], rtol=1e-6)


# ----- input checks -------------------------------------------------------------------------
def test_formula_errors_name_the_term():
    df = data("penicillin")
    with pytest.raises(KeyError, match="'plates' is not a column"):
        lx.mixed("diameter ~ 1 + (1 | plates)", df)
    with pytest.raises(NotImplementedError, match=r"grouping factor 'plate \+ sample'"):
        lx.mixed("diameter ~ 1 + (1 | plate + sample)", df)
    with pytest.raises(ValueError, match=r"reml=False\) with one scalar"):
        lx.mixed("y ~ x + (1 | a)", data("crossed_pois"), family="poisson", reml=True,
                 n_agq=5)  # fmt: skip
    rows = df.assign(obs=np.arange(len(df)).astype(str))
    with pytest.raises(ValueError, match="'obs' has 144 levels for 144 observations"):
        lx.mixed("diameter ~ 1 + (1 | plate) + (1 | obs)", rows)


# ----- adaptive Gauss-Hermite quadrature ------------------------------------------------------
def test_cbpp_agq25_matches_glmer(fit):
    res = fit(CBPP, "cbpp", family="binomial", n_agq=25)
    assert res.converged
    # glmer's nAGQ > 1 log-likelihood omits the binomial coefficients (lme4 issue
    # 567); the script stores the full one, checked by numerical integration.
    assert res.loglik == pytest.approx(ref("cbpp_agq25", "stat", "logLik_full"), rel=1e-7)
    names = ["(Intercept)", "period2", "period3", "period4"]
    for mine, theirs in zip(res.fixed_names, names):
        assert res.fixef[mine] == pytest.approx(ref("cbpp_agq25", "fixef", theirs), rel=1e-4)
        assert res.se[mine] == pytest.approx(ref("cbpp_agq25", "se", theirs), rel=2e-3)
    sd = float(np.ravel(res.varcorr().estimate)[0])
    assert sd == pytest.approx(ref("cbpp_agq25", "sd", "herd:(Intercept)"), rel=1e-4)
    assert "nAGQ = 25" in res.summary().to_text()


def test_agq_with_one_node_is_the_laplace_fit(fit):
    one = lx.mixed(CBPP, data("cbpp"), family="binomial", n_agq=1)
    lap = fit(CBPP, "cbpp", family="binomial")  # the default: Laplace
    assert one.loglik == lap.loglik
    # More nodes: a different (better) approximation, close to the Laplace one.
    agq = fit(CBPP, "cbpp", family="binomial", n_agq=25)
    assert agq.loglik != lap.loglik and abs(agq.loglik - lap.loglik) < 0.1


def test_agq_needs_one_scalar_effect():
    with pytest.raises(ValueError, match="n_agq=5: adaptive Gauss-Hermite quadrature"):
        lx.mixed("Reaction ~ Days + (Days | Subject)", data("sleepstudy"), n_agq=5)
    with pytest.raises(ValueError, match="one scalar random-effect term"):
        lx.mixed("y ~ x + (1 | a) + (1 | b)", data("crossed_pois"), family="poisson",
                 n_agq=5)  # fmt: skip


# ----- families from the GLM registry -------------------------------------------------------
def test_salamanders_nb2_matches_glmmtmb(fit):
    res = fit(SALAMANDERS, "salamanders", family="negative_binomial")
    _check(res, "salamanders_nb2", {"sd((Intercept))": "site:(Intercept)"}, "glmmTMB",
           rel=2e-5)  # fmt: skip
    theta = ref("salamanders_nb2", "disp", "theta", "glmmTMB")
    assert float(res.fit.params["alpha"]) == pytest.approx(1 / theta, rel=2e-5)
    assert (res.family, res.link) == ("negative.binomial", "log")


def test_gamma_log_matches_glmmtmb():
    """A Gamma GLMM with the log link (tests/reference/mixed_gamma.R): glmmTMB's
    sigma is the coefficient of variation, likelihax's phi = sigma^2 = 1/shape."""
    res_ref = pd.read_csv(REF / "mixed_gamma_results.csv")
    tmb = {(k, t): v for k, t, v in zip(res_ref.kind, res_ref.term, res_ref.value)}
    df = pd.read_csv(REF / "mixed_gamma_data.csv")
    res = lx.mixed("y ~ x + (1 | g)", df, family="gamma", link="log")
    assert res.converged and (res.family, res.link) == ("Gamma", "log")
    assert res.loglik == pytest.approx(tmb["stat", "logLik"], rel=1e-8)
    for c in ("(Intercept)", "x"):
        assert res.fixef[c] == pytest.approx(tmb["fixef", c], rel=1e-5)
        assert res.se[c] == pytest.approx(tmb["se", c], rel=1e-4)
    vc = dict(zip(res.varcorr().labels, np.ravel(res.varcorr().estimate)))
    assert vc["sd((Intercept))"] == pytest.approx(tmb["sd", "g:(Intercept)"], rel=1e-5)
    assert float(res.fit.params["sigma"]) == pytest.approx(tmb["sigma", "sigma"], rel=1e-5)
    re = res.ranef()
    levels = [f"g{i:02d}" for i in range(1, 61)]
    modes = [tmb["ranef", f"g:{lev}:(Intercept)"] for lev in levels]
    sds = [tmb["ranef_se", f"g:{lev}:(Intercept)"] for lev in levels]  # with beta's
    np.testing.assert_allclose(re.loc[levels, "(Intercept)"], modes, rtol=1e-4, atol=1e-6)
    # glmmTMB's conditional SDs include the fixed effects' uncertainty (sdreport);
    # likelihax's are lme4's, given the parameters: for the log link the curvature
    # of a group's joint in u is sum(shape * y / mu) + 1 / sd^2 at the mode.
    shape = 1.0 / float(res.fit.params["sigma"]) ** 2
    u = re["(Intercept)"].reindex(df.g).to_numpy()
    mu = np.exp(res.fixef["(Intercept)"] + res.fixef["x"] * df.x.to_numpy() + u)
    curv = pd.Series(shape * df.y.to_numpy() / mu).groupby(df.g.to_numpy()).sum()
    cond_sd = 1.0 / np.sqrt(curv.loc[levels] + 1.0 / vc["sd((Intercept))"] ** 2)
    np.testing.assert_allclose(re.loc[levels, "se((Intercept))"], cond_sd, rtol=1e-8)
    assert np.all(re.loc[levels, "se((Intercept))"].to_numpy() < np.array(sds))


def test_offset_shifts_the_linear_predictor(fit):
    """A log-link GLMM (negative binomial) with offset log(t) equals the fit
    without an offset whose intercept absorbs a constant log(t) (t the same in
    every row)."""
    df = data("salamanders")
    a = fit(SALAMANDERS, "salamanders", family="negative_binomial")
    b = lx.mixed(SALAMANDERS, df, family="negative_binomial",
                 offset=np.full(len(df), np.log(3.0)))  # fmt: skip
    assert b.fixef["(Intercept)"] == pytest.approx(a.fixef["(Intercept)"] - np.log(3.0),
                                                   rel=1e-7)  # fmt: skip
    assert b.fixef["minedno"] == pytest.approx(a.fixef["minedno"], rel=1e-7)
    assert b.loglik == pytest.approx(a.loglik, rel=1e-10)
    # Gaussian: the offset moves into the response of the exact likelihood.
    g0 = fit(PENICILLIN, "penicillin", reml=True)
    pen = data("penicillin").assign(o=2.0)
    g1 = lx.mixed(PENICILLIN, pen, offset="o")
    assert g1.fixef["(Intercept)"] == pytest.approx(g0.fixef["(Intercept)"] - 2.0, rel=1e-8)
    assert g1.loglik == pytest.approx(g0.loglik, rel=1e-12)
    with pytest.raises(KeyError, match="offset column 'oo'"):
        lx.mixed("diameter ~ 1 + (1 | plate)", pen, offset="oo")


def test_link_and_support_errors_name_the_option():
    df = data("salamanders")
    with pytest.raises(ValueError, match="link 'logit' is not a link of the poisson"):
        lx.mixed("count ~ 1 + (1 | site)", df, family="poisson", link="logit")
    with pytest.raises(ValueError, match=r"The Gamma response 'count' must be y > 0; rows"):
        lx.mixed("count ~ 1 + (1 | site)", df, family="gamma")


def test_identifiability_checks_as_lme4():
    pen = data("penicillin")
    with pytest.raises(ValueError, match="'one' has 1 level in the rows used"):
        lx.mixed("diameter ~ 1 + (1 | plate) + (1 | one)", pen.assign(one="a"))
    with pytest.raises(ValueError, match=r"Cannot build the random-effect term \(1 \+ nope"):
        lx.mixed("diameter ~ 1 + (nope | plate)", pen)


# ----- a large crossed design ---------------------------------------------------------------
def test_insteval_reml_matches_lmer():
    """lme4's InstEval: 73,421 ratings, 2,972 x 1,128 x 14 crossed levels; the
    students' levels are eliminated first (likelihax.optimize.Bordered)."""
    df = data("insteval").astype({"s": str, "d": str, "dept": str, "service": str})
    res = lx.mixed("y ~ service + (1 | s) + (1 | d) + (1 | dept)", df)
    assert res.converged and res.reml
    assert [t.group for t in res.terms] == ["s", "d", "dept"]
    assert -2 * res.loglik == pytest.approx(ref("insteval_reml", "stat", "REMLcrit"),
                                            rel=1e-9)  # fmt: skip
    names = {"(Intercept)": "(Intercept)", "service[T.1]": "service1"}
    for mine, theirs in names.items():
        assert res.fixef[mine] == pytest.approx(ref("insteval_reml", "fixef", theirs), rel=1e-5)
        assert res.se[mine] == pytest.approx(ref("insteval_reml", "se", theirs), rel=1e-4)
    vc = dict(zip(res.varcorr().labels, np.ravel(res.varcorr().estimate)))
    for g in ("s", "d", "dept"):
        # lme4's own optimum is flat to ~1e-5 in the dept SD (two optimizers differ).
        assert vc[f"sd((Intercept)|{g})"] == pytest.approx(
            ref("insteval_reml", "sd", f"{g}:(Intercept)"), rel=1e-4)
    assert vc["sigma"] == pytest.approx(ref("insteval_reml", "sigma", "sigma"), rel=1e-5)


# ----- predictions (lme4's predict.merMod) ---------------------------------------------------
PRED = pd.read_csv(REF / "mixed_predict_results.csv")

PREDICTED = {
    "sleepstudy_reml": (SLEEP, "sleepstudy", {}),
    "cbpp": (CBPP, "cbpp", {"family": "binomial"}),
    "penicillin_reml": (PENICILLIN, "penicillin", {"reml": True}),
}


@pytest.mark.parametrize("model", sorted(PREDICTED))
@pytest.mark.parametrize("kind", ["conditional", "population"])
@pytest.mark.parametrize("which", ["link", "response"])
def test_predictions_match_lme4(fit, model, kind, which):
    formula, name, options = PREDICTED[model]
    res = fit(formula, name, **options)
    new = pd.read_csv(REF / f"mixed_predict_newdata_{model}.csv")
    if name == "cbpp":
        new = new.assign(period=new.period.astype(str))
    ref = PRED[(PRED.model == model) & (PRED.kind == kind) & (PRED.type == which)]
    got = res.predict(new, which=which, kind=kind)
    np.testing.assert_allclose(got, ref.sort_values("row").value.to_numpy(float), rtol=1e-6)


def test_fitted_rows_and_population_standard_errors(fit):
    """Without new data: the fitted rows (conditional predictions equal the
    fixed part plus each row's effects). Population SEs: the delta method
    over the fixed effects, here sqrt(x' V x) on the link scale."""
    res = fit(SLEEP, "sleepstudy")
    fitted = res.predict(which="link")
    b = res.ranef()
    d = res._design
    subj = d.terms[0].levels[d.terms[0].codes]
    expect = (res.fixef["(Intercept)"] + b.loc[subj, "(Intercept)"].to_numpy()
              + (res.fixef["Days"] + b.loc[subj, "Days"].to_numpy()) * d.X[:, 1])  # fmt: skip
    np.testing.assert_allclose(fitted, expect, rtol=1e-12)
    new = pd.DataFrame({"Days": [0.0, 4.0], "Subject": ["308", "308"]})
    val, se = res.predict(new, kind="population", se=True)
    X = np.array([[1.0, 0.0], [1.0, 4.0]])
    np.testing.assert_allclose(se, np.sqrt(np.einsum("ij,jk,ik->i", X, res.vcov(), X)),
                               rtol=1e-10)  # fmt: skip
    with pytest.raises(ValueError, match="kind='population'"):
        res.predict(new, se=True)
    with pytest.raises(KeyError, match="'Subject' is not a column of the new data"):
        res.predict(pd.DataFrame({"Days": [1.0]}))
