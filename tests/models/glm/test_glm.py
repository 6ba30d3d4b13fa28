"""GLMs (likelihax.models.glm) against statsmodels GLM / NegativeBinomial.

Data: datasets shipped with statsmodels (spector, scotland, star98, randhie,
cpunish) and one fixed-seed simulated set, all CSV-exportable for R. The
reference model is statsmodels on the *same* model matrix as ours, so the
comparison tests estimation, not formula parsing (checked separately by names).
Log-likelihoods follow R's logLik.glm: for the dispersion families the
reference is statsmodels' ``family.loglike(y, mu, scale=deviance/nobs)``.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from likelihax.models.glm import SeparationWarning, glm

L = sm.families.links
RTOL = 1e-6


def _load(name):
    return getattr(sm.datasets, name).load_pandas().data


SPECTOR = _load("spector")
SCOTLAND = _load("scotland")
STAR = _load("star98").assign(N=lambda d: d.NABOVE + d.NBELOW)
RAND = _load("randhie").iloc[:600].assign(
    expo=lambda d: 1.0 + d.idp, off=lambda d: 0.1 * d.physlm
)
CPUNISH = _load("cpunish")


def _sim_logbinomial():
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 2, 400)
    return pd.DataFrame({"y": rng.binomial(1, np.exp(-2.0 + 0.5 * x)), "x": x})


SIMLB = _sim_logbinomial()

# name: (formula, data, family, link, glm kwargs, statsmodels family, sm kwargs,
#        dispersion family)
CASES = {
    "logit_interaction": ("GRADE ~ GPA * C(PSI) + TUCE", SPECTOR, "binomial", None,
                          {}, sm.families.Binomial(), {}, False),
    "probit": ("GRADE ~ GPA + TUCE + C(PSI)", SPECTOR, "binomial", "probit", {},
               sm.families.Binomial(L.Probit()), {}, False),
    "cloglog": ("GRADE ~ GPA + TUCE + C(PSI)", SPECTOR, "binomial", "cloglog", {},
                sm.families.Binomial(L.CLogLog()), {}, False),
    "log_binomial": ("y ~ x", SIMLB, "binomial", "log", {},
                     sm.families.Binomial(L.Log()), {}, False),
    "binomial_trials": ("NABOVE ~ LOWINC + PERASIAN + PERBLACK + PERHISP + PCTCHRT",
                        STAR, "binomial", None, {"trials": "N"},
                        sm.families.Binomial(), {}, False),
    "poisson_offset_exposure": (
        "mdvis ~ lncoins + idp + lpi + fmde + C(hlthg)", RAND, "poisson", None,
        {"exposure": "expo", "offset": "off"}, sm.families.Poisson(),
        {"exposure": RAND.expo.to_numpy(), "offset": RAND.off.to_numpy()}, False),
    "poisson_identity": ("EXECUTIONS ~ INCOME + PERPOVERTY + SOUTH", CPUNISH,
                         "poisson", "identity", {},
                         sm.families.Poisson(L.Identity()), {}, False),
    "gamma_inverse": ("YES ~ COUTAX + UNEMPF + AGE", SCOTLAND, "gamma", None, {},
                      sm.families.Gamma(), {}, True),
    "gamma_log": ("YES ~ COUTAX + UNEMPF + AGE", SCOTLAND, "gamma", "log", {},
                  sm.families.Gamma(L.Log()), {}, True),
    "inverse_gaussian": ("YES ~ COUTAX + UNEMPF + AGE", SCOTLAND, "inverse_gaussian",
                         None, {}, sm.families.InverseGaussian(), {}, True),
    "inverse_gaussian_log": ("YES ~ COUTAX + UNEMPF + AGE", SCOTLAND,
                             "inverse_gaussian", "log", {},
                             sm.families.InverseGaussian(L.Log()), {}, True),
    "gaussian_log": ("YES ~ COUTAX + UNEMPF + AGE", SCOTLAND, "gaussian", "log", {},
                     sm.families.Gaussian(L.Log()), {}, True),
}  # fmt: skip


def _sm_endog(name, data, res):
    if name == "binomial_trials":
        return np.column_stack([data.NABOVE, data.NBELOW])
    return np.asarray(res.design.y, dtype=float)


@pytest.fixture(scope="module", params=list(CASES))
def pair(request):
    name = request.param
    formula, data, fam, link, kw, smfam, smkw, disp = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels DomainWarning for some links
        res = glm(formula, data, family=fam, link=link, **kw)
        ref = sm.GLM(_sm_endog(name, data, res), res.design.X, family=smfam,
                     **smkw).fit(tol=1e-14, maxiter=1000)  # fmt: skip
    return name, res, ref, disp


def _close(a, b, rtol=RTOL, atol=0.0):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol,
                               atol=atol)  # fmt: skip


def test_estimates_and_standard_errors(pair):
    name, res, ref, disp = pair
    assert res.converged
    _close(res.coef, ref.params)
    _close(res.se_coef, ref.bse)
    _close(res.dispersion, ref.scale)
    _close([float(res.se[c]) for c in res.columns], ref.bse)


def test_loglik_deviance_pearson(pair):
    name, res, ref, disp = pair
    if disp:  # R's logLik.glm: density at dispersion deviance / n
        ll = ref.model.family.loglike(ref.model.endog, ref.mu,
                                      scale=ref.deviance / ref.nobs)  # fmt: skip
        _close(res.aic, -2 * ll + 2 * (len(res.columns) + 1))
    else:
        ll = ref.llf
        _close(res.aic, ref.aic)
        _close(res.pseudo_r2("mcfadden"), ref.pseudo_rsquared("mcf"))
        _close(res.pseudo_r2("cox_snell"), ref.pseudo_rsquared("cs"))
    _close(res.loglik, ll)
    _close(res.deviance, ref.deviance)
    _close(res.null_deviance, ref.null_deviance)
    _close(res.pearson_chi2, ref.pearson_chi2)
    assert res.df_resid == ref.df_resid


def test_residuals_and_fitted(pair):
    name, res, ref, disp = pair
    _close(res.fitted, ref.fittedvalues, atol=1e-10)
    # R's residuals(type="response") are on the proportion scale; statsmodels'
    # binomial with trials gives successes - trials * mu
    _close(res.resid_response * res._data["m"], ref.resid_response, atol=1e-8)
    _close(res.resid_pearson, ref.resid_pearson, atol=1e-8)
    _close(res.resid_deviance, ref.resid_deviance, atol=1e-8)


def test_predict_with_standard_errors(pair):
    name, res, ref, disp = pair
    X = res.design.X[:7]
    off = res._data["offset"][:7]
    new = CASES[name][1].iloc[:7]
    kw = {"offset": "off", "exposure": "expo"} if name.startswith("poisson_o") else {}
    for which, smwhich in (("response", "mean"), ("link", "linear")):
        pred = ref.get_prediction(X, offset=off, which=smwhich)
        val, se = res.predict(new, which=which, se=True, **kw)
        _close(val, pred.predicted)
        _close(se, pred.se)
    _close(res.predict(), ref.fittedvalues, atol=1e-10)


def test_formula_columns_match_patsy():
    res = glm("GRADE ~ GPA * C(PSI) + TUCE", SPECTOR, family="binomial")
    ref = smf.glm("GRADE ~ GPA * C(PSI) + TUCE", SPECTOR,
                  family=sm.families.Binomial()).fit(tol=1e-14)  # fmt: skip
    # formulaic and patsy name the dummy "C(PSI)[T.1.0]" / "C(PSI)[T.1.0]"
    assert sorted(res.columns) == sorted(ref.params.index)
    _close(res.coef, ref.params[res.columns])
    _close(res.se_coef, ref.bse[res.columns])


def test_negative_binomial_nb2():
    formula = "mdvis ~ lncoins + idp + lpi + fmde"
    res = glm(formula, RAND, family="negative_binomial")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' own trial steps (log of < 0)
        pois = smf.poisson(formula, RAND).fit(disp=0)
        ref = smf.negativebinomial(formula, RAND, loglike_method="nb2").fit(
            start_params=np.r_[pois.params, 1.0], method="newton", tol=1e-14,
            maxiter=200, disp=0,
        )
    assert ref.mle_retvals["converged"]
    assert res.converged
    _close(res.coef, ref.params[res.columns])
    _close(res.se_coef, ref.bse[res.columns])
    _close(res.alpha, ref.params["alpha"])
    _close(res.se["alpha"], ref.bse["alpha"])
    _close(res.loglik, ref.llf)
    _close(res.aic, ref.aic)
    ref2 = sm.GLM(res.design.y.astype(float), res.design.X,
                  family=sm.families.NegativeBinomial(alpha=res.alpha)).fit(tol=1e-14)  # fmt: skip
    _close(res.deviance, ref2.deviance)
    _close(res.null_deviance, ref2.null_deviance)
    _close(res.pearson_chi2, ref2.pearson_chi2)
    _close(res.resid_pearson, ref2.resid_pearson, atol=1e-8)
    _close(res.resid_deviance, ref2.resid_deviance, atol=1e-8)


def test_negative_binomial_start_is_used():
    """start= is honoured for NB2 (it was once replaced by the default start):
    from the optimal coefficients (alpha still from the moments) Newton needs
    fewer steps than from zeros, and both reach the same optimum."""
    formula = "mdvis ~ lncoins + idp + lpi + fmde"
    default = glm(formula, RAND, family="negative_binomial")
    at_opt = glm(formula, RAND, family="negative_binomial", start=default.coef)
    zeros = glm(formula, RAND, family="negative_binomial", start=np.zeros(5))
    assert zeros.converged and at_opt.converged
    assert int(at_opt.fit.iterations) < int(zeros.fit.iterations)
    _close(zeros.coef, default.coef)
    _close(zeros.alpha, default.alpha)


@pytest.mark.parametrize("case", ["no_convergence", "not_finite"])
def test_negative_binomial_falls_back_to_the_poisson_start(monkeypatch, case):
    """When NB2 does not converge from its IRLS start, or the start's
    log-likelihood is not finite on some row (a start from a sample of rows is
    checked by the fit's first evaluation, not on every row beforehand),
    glm() refits from the Poisson MLE (MASS::glm.nb's start) and reports
    that fit."""
    from likelihax.models.glm import _glm as G

    formula = "mdvis ~ lncoins + idp + lpi + fmde"
    reference = glm(formula, RAND, family="negative_binomial")
    calls = []
    real = G._poisson_start

    def spy(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(G, "_poisson_start", spy)
    # A start far from the optimum cannot converge in 3 steps; exp(800)
    # overflows, so that start's log-likelihood is not finite.
    start, kw = {
        "no_convergence": ({"alpha": 5.0}, {"max_steps": 3}),
        "not_finite": ({"Intercept": 800.0, "alpha": 1.0}, {}),
    }[case]
    monkeypatch.setattr(
        G, "_nb_start", lambda lnk, cols, *a: {**dict.fromkeys(cols, 0.0), **start}
    )
    res = glm(formula, RAND, family="negative_binomial", **kw)
    assert calls == [1] and res.converged
    if case == "no_convergence":
        # The refit from the Poisson MLE uses the same step limit: the
        # stopping rule is met there without the polish step.
        assert int(res.fit.iterations) <= 3
        _close(res.coef, reference.coef, rtol=1e-4)
    else:
        _close(res.coef, reference.coef, rtol=1e-7)
        _close(res.alpha, reference.alpha, rtol=1e-7)


def test_negative_binomial_irls_start(monkeypatch):
    """The NB2 start (one Poisson and two NB2 IRLS steps, alpha by moments)
    is inside the model, reaches the MLE in fewer Newton steps than the
    Poisson IRLS step alone; when it is not available, the Poisson step is
    used and the optimum is the same."""
    from likelihax.models.glm import _glm as G
    from likelihax.models.glm import _starts as S

    formula = "mdvis ~ lncoins + idp + lpi + fmde"
    default = glm(formula, RAND, family="negative_binomial")
    des = G.design(formula, RAND)
    y = np.asarray(des.y, dtype=np.float64)
    ones, zero = np.ones_like(y), np.zeros_like(y)
    start = S._nb_start(G.LINKS["log"], des.columns, {"X": des.X, "y": y}, zero, ones)
    assert set(start) == set(des.columns) | {"alpha"} and start["alpha"] > 0
    # The same steps in NumPy: Poisson working weights mu, then NB2 ones.
    X = np.asarray(des.X)
    mu = y + 0.1
    eta = np.log(mu)
    beta = np.linalg.solve((X.T * mu) @ X, (X.T * mu) @ (eta + (y - mu) / mu))
    for _ in range(S.NB_START_STEPS):
        mu = np.exp(X @ beta)
        a = max(np.mean(((y - mu) ** 2 - mu) / mu**2), 0.1)
        wt = mu / (1 + a * mu)
        beta = np.linalg.solve((X.T * wt) @ X, (X.T * wt) @ (np.log(mu) + (y - mu) / mu))
    mu = np.exp(X @ beta)
    _close(np.array([start[c] for c in des.columns]), beta, rtol=1e-10)
    _close(start["alpha"], max(np.mean(((y - mu) ** 2 - mu) / mu**2), 0.1), rtol=1e-10)
    # Without it (e.g. a start outside the range of the mean): the Poisson step.
    monkeypatch.setattr(G, "_nb_start", lambda *a: None)
    fallback = glm(formula, RAND, family="negative_binomial")
    assert int(default.fit.iterations) < int(fallback.fit.iterations)
    _close(fallback.coef, default.coef, rtol=1e-7)
    _close(fallback.alpha, default.alpha, rtol=1e-7)


def test_negative_binomial_start_on_a_sample_of_rows(monkeypatch):
    """Above 2 * NB_START_ROWS rows the NB2 start's IRLS steps use a sample of
    rows; the fit reaches the same optimum as from the start on every row."""
    from likelihax.models.glm import _starts as G

    rng = np.random.default_rng(11)
    n = 2 * G.NB_START_ROWS + 1000
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    mu = np.exp(X @ np.array([0.8, 0.3, -0.2]))
    y = rng.negative_binomial(2.0, 2.0 / (2.0 + mu)).astype(float)  # alpha = 0.5
    seen = []
    real = G._nb_start_program

    def spy(name, *args):
        prog = real(name, *args)

        def run(X, y, w, off, rows):
            seen.append(None if rows is None else len(rows))
            return prog(X, y, w, off, rows)

        return run

    monkeypatch.setattr(G, "_nb_start_program", spy)
    sample = G.NB_START_ROWS
    sampled = glm(y, X, family="negative_binomial")
    monkeypatch.setattr(G, "NB_START_ROWS", n)
    every = glm(y, X, family="negative_binomial")
    assert seen == [sample, None]
    assert sampled.converged and every.converged
    _close(sampled.coef, every.coef, rtol=1e-8)
    _close(sampled.alpha, every.alpha, rtol=1e-8)
    _close(sampled.se_coef, every.se_coef, rtol=1e-7)
    _close(sampled.loglik, every.loglik, rtol=1e-12)


def test_const_terms_table_equals_gammaln():
    """log y! and log C(m, k) from the log-factorial table equal scipy's gammaln
    (to rounding), on counts spanning several table blocks, and non-integer
    values fall back to gammaln itself."""
    from scipy.special import gammaln

    from likelihax.models.glm._family import _log_factorials, const_terms

    k = np.arange(5000.0)
    np.testing.assert_allclose(_log_factorials(4999), gammaln(k + 1), rtol=4e-15)
    rng = np.random.default_rng(3)
    y = rng.poisson(40.0, size=4000).astype(float)
    np.testing.assert_allclose(const_terms("poisson", y, np.ones_like(y)), -gammaln(y + 1),
                               rtol=4e-15)  # fmt: skip
    m = rng.integers(1, 700, size=4000).astype(float)
    kk = rng.binomial(m.astype(int), 0.3).astype(float)
    ref = gammaln(m + 1) - gammaln(kk + 1) - gammaln(m - kk + 1)
    np.testing.assert_allclose(const_terms("binomial", kk / m, m), ref, rtol=1e-12,
                               atol=1e-11)  # fmt: skip
    frac = np.array([0.5, 2.0, 7.25])  # not counts: gammaln
    np.testing.assert_allclose(const_terms("negative.binomial", frac, np.ones(3)),
                               -gammaln(frac + 1), rtol=1e-14)  # fmt: skip


def test_fisher_equals_newton_for_canonical_links():
    f = "GRADE ~ GPA + TUCE + C(PSI)"
    a = glm(f, SPECTOR, family="binomial", method="fisher", cov="eim")
    b = glm(f, SPECTOR, family="binomial")  # canonical link: Newton, oim
    assert a.fit.method == "fisher" and a.fit.cov.kind == "eim"
    assert b.fit.method == "newton" and b.fit.cov.kind == "oim"
    _close(a.coef, b.coef, rtol=1e-9)
    _close(a.beta_cov, b.beta_cov, rtol=1e-9)
    _close(a.loglik, b.loglik, rtol=1e-12)


def test_frequency_weights_equal_duplicated_rows():
    d = SCOTLAND.iloc[:20].reset_index(drop=True).assign(CNT=lambda x: np.round(x.AGE))
    w = np.tile([1.0, 2.0, 3.0, 1.0], 5)
    dup = d.loc[d.index.repeat(w.astype(int))].reset_index(drop=True)
    for fam in ("gamma", "poisson"):
        f = "YES ~ COUTAX + UNEMPF" if fam == "gamma" else "CNT ~ UNEMPF"
        a = glm(f, d, family=fam, weights=w)
        b = glm(f, dup, family=fam)
        _close(a.coef, b.coef, rtol=1e-9)
        _close(a.se_coef, b.se_coef, rtol=1e-9)
        for k in ("loglik", "deviance", "null_deviance", "dispersion", "aic", "nobs"):
            _close(getattr(a, k), getattr(b, k), rtol=1e-9)


def test_array_form_equals_formula_and_no_mutation():
    d = SCOTLAND.copy()
    before = d.copy()
    a = glm("YES ~ COUTAX + UNEMPF", d, family="gamma", link="log")
    pd.testing.assert_frame_equal(d, before)
    X = np.column_stack([np.ones(len(d)), d.COUTAX, d.UNEMPF])
    y = d.YES.to_numpy()
    y0, X0 = y.copy(), X.copy()
    b = glm(y, X, family="gamma", link="log", columns=["Intercept", "COUTAX", "UNEMPF"])
    _close(a.coef, b.coef, rtol=1e-12)
    _close(a.se_coef, b.se_coef, rtol=1e-12)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(X, X0)


def test_summary_shows_glm_header_and_dropped_rows():
    d = SCOTLAND.copy()
    d.loc[[3, 5], "AGE"] = np.nan
    with pytest.raises(ValueError, match=r"2 of 32 rows have missing values \(column 'AGE': 2\)"):
        glm("YES ~ COUTAX + AGE", d, family="gamma")
    res = glm("YES ~ COUTAX + AGE", d, family="gamma", missing="drop")
    assert res.n_dropped == 2 and res.nobs == 30
    text = res.summary().to_text()
    for part in ("GLM: Gamma (inverse)", "Family", "Null deviance", "Dispersion",
                 "Pseudo R2 (McFadden)", "Rows dropped (missing)",
                 "2 rows with missing values were dropped"):  # fmt: skip
        assert part in text


# ----- bad input --------------------------------------------------------------------
@pytest.mark.parametrize(
    "y, fam, kw, match",
    [
        ([1, 2, -1, 3, 0, 4], "poisson", {}, r"1 response value\(s\) are negative counts: rows \[2\]"),
        ([0, 1, 2, 1, 0, 1], "binomial", {}, r"are not 0 or 1: rows \[2\]"),
        ([0, 1, 4, 1, 0, 1], "binomial", {"trials": [2, 2, 3, 2, 2, 2]}, r"have successes > trials: rows \[2\]"),
        ([1.0, 2.0, 0.0, 1.5, -1.0, 2.0], "gamma", {}, r"2 response value\(s\) are outside the support \(y > 0\): rows \[2, 4\]"),
        ([1.0, 2.0, 0.0, 1.5, 1.0, 2.0], "inverse_gaussian", {}, r"outside the support \(y > 0\): rows \[2\]"),
        ([1, 2, 1.5, 3, 0, 4], "poisson", {}, r"outside the support \(counts 0, 1, 2, ...\): rows \[2\]"),
        ([1, 2, 1, 3, 0, 4], "poisson", {"trials": [1] * 6}, "`trials` applies to the binomial family only"),
        ([1, 2, 1, 3, 0, 4], "poisson", {"link": "logit"}, "Link 'logit' is not available for the poisson family; use one of log, identity, sqrt"),
        ([1, 2, 1, 3, 0, 4], "gamma", {"link": "inverse", "exposure": [1.0] * 6}, "exposure= needs the log link"),
        ([1, 2, 1, 3, 0, 4], "tweedie", {}, "Unknown family 'tweedie'"),
        (["a", "b", "a", "b", "a", "b"], "binomial", {}, "must be numeric for a GLM"),
    ],
)  # fmt: skip
def test_bad_input_errors(y, fam, kw, match):
    X = np.column_stack([np.ones(6), np.arange(6.0)])
    with pytest.raises((ValueError, TypeError), match=match):
        glm(np.array(y, dtype=object if isinstance(y[0], str) else float), X,
            family=fam, **kw)  # fmt: skip


def test_rank_deficient_design_names_columns():
    d = SCOTLAND.assign(U2=lambda x: 2 * x.UNEMPF + x.AGE)
    with pytest.raises(ValueError, match=r"rank deficient.*'U2' = 1\*'UNEMPF'|rank deficient.*'U2' = 2\*'UNEMPF' \+ 1\*'AGE'"):
        glm("YES ~ UNEMPF + AGE + U2", d, family="gamma")


def test_complete_separation_warns_and_names_variable():
    x = np.array([-3.0, -2, -1, -0.5, 0.5, 1, 2, 3])
    d = pd.DataFrame({"y": (x > 0).astype(float), "x": x, "z": np.cos(x)})
    with pytest.warns(SeparationWarning, match=r"Complete separation.*involves.*x"):
        res = glm("y ~ x + z", d, family="binomial")
    assert "Complete separation" in res.summary().to_text()


def test_quasi_complete_separation_warns():
    # g == "b" predicts y = 1 perfectly; g == "a" has both outcomes
    d = pd.DataFrame({"y": [0, 1, 0, 1, 0, 1, 1, 1, 1, 1.0],
                      "g": ["a"] * 6 + ["b"] * 4,
                      "x": [0.1, 0.4, 0.3, 0.2, 0.8, 0.5, 0.9, 0.2, 0.3, 0.6]})  # fmt: skip
    with pytest.warns(SeparationWarning, match=r"Quasi-complete separation.*g\[T.b\]"):
        glm("y ~ g + x", d, family="binomial")


def test_no_separation_warning_for_ordinary_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        glm("GRADE ~ GPA + TUCE + C(PSI)", SPECTOR, family="binomial")


def test_separation_facts_are_structured():
    """``separation`` holds the kind, the columns and the direction; the
    direction separates the responses by its definition, checked here from the
    model matrix alone."""
    x = np.array([-3.0, -2, -1, -0.5, 0.5, 1, 2, 3])
    d = pd.DataFrame({"y": (x > 0).astype(float), "x": x, "z": np.cos(x)})
    with pytest.warns(SeparationWarning):
        res = glm("y ~ x + z", d, family="binomial")
    sep = res.separation
    assert sep.kind == "complete" and "x" in sep.columns
    assert (sep.n_separated, sep.n_responses) == (8, 8)
    scale = np.abs(res.design.X).max(axis=0)
    s = (2 * d.y.to_numpy() - 1) * ((res.design.X / scale) @ np.array(sep.direction))
    assert np.all(s > 1e-7)  # every response on its side: complete
    assert res.model_info.flags == ("separation",) == res.fit.model_info.flags
    text = "".join(res.summary().to_text().split())  # notes are wrapped
    assert "".join(sep.message.split()) in text

    q = pd.DataFrame({"y": [0, 1, 0, 1, 0, 1, 1, 1, 1, 1.0],
                      "g": ["a"] * 6 + ["b"] * 4,
                      "x": [0.1, 0.4, 0.3, 0.2, 0.8, 0.5, 0.9, 0.2, 0.3, 0.6]})  # fmt: skip
    with pytest.warns(SeparationWarning) as rec:
        res = glm("y ~ g + x", q, family="binomial")
    sep = res.separation
    assert str(rec[0].message) == sep.message
    assert sep.kind == "quasi-complete" and sep.columns == ("g[T.b]",)
    s = (2 * q.y.to_numpy() - 1) * (res.design.X @ np.array(sep.direction))
    assert np.all(s > -1e-9) and int(np.sum(s > 1e-7)) == sep.n_separated == 4
    assert sep.n_responses == 10

    res = glm("GRADE ~ GPA + TUCE + C(PSI)", SPECTOR, family="binomial")
    assert res.separation is None and res.model_info.flags == ()


def test_model_info_and_the_inference_functions():
    """A GLM result says what it is (in its engine fit too) and goes to the
    inference functions as it is."""
    import likelihax as lx

    res = glm("YES ~ COUTAX + UNEMPF + AGE", SCOTLAND, family="gamma", link="log")
    info = res.model_info
    assert (info.kind, info.family, info.link, info.flags) == ("glm", "Gamma", "log",
                                                               ())  # fmt: skip
    assert res.fit.model_info == info
    np.testing.assert_array_equal(np.asarray(lx.vcov(res, "oim")),
                                  np.asarray(lx.vcov(res.fit, "oim")))
    w = lx.wald_test(res, "UNEMPF = 0")
    z = res.fit.params["UNEMPF"] / res.fit.se["UNEMPF"]
    assert w.statistic == pytest.approx(float(z) ** 2, rel=1e-10)


@pytest.mark.parametrize("fam, link", [("gaussian", "identity"), ("gamma", "log"),
                                       ("inverse_gaussian", "1/mu^2")])  # fmt: skip
def test_dispersion_loglik_is_evaluated_at_d_over_n_without_a_second_fit(
    monkeypatch, fam, link
):
    """R's logLik.glm, the density at phi = D/n, evaluated from the one fit
    (scipy's densities as the reference), the covariance scaled to the
    Pearson dispersion, and no recompilation for a second fit of that shape."""
    from scipy import stats

    from likelihax.models.glm import _glm as G
    from likelihax.models.glm import _result as GR

    calls = []
    real = G.engine_fit
    monkeypatch.setattr(G, "engine_fit", lambda *a, **k: calls.append(1) or real(*a, **k))
    d = SCOTLAND
    res = glm("YES ~ COUTAX + UNEMPF + AGE", d, family=fam, link=link)
    assert len(calls) == 1
    y, mu, phi = d.YES.to_numpy(float), res.fitted, res.deviance / res.nobs
    ref = {
        "gaussian": lambda: stats.norm.logpdf(y, mu, np.sqrt(phi)),
        "gamma": lambda: stats.gamma.logpdf(y, 1 / phi, scale=mu * phi),
        "inverse_gaussian": lambda: stats.invgauss.logpdf(y, mu * phi, scale=1 / phi),
    }[fam]().sum()
    assert res.loglik == pytest.approx(ref, rel=1e-12)
    assert float(res.fit.setup.data["phi"]) == pytest.approx(phi, rel=1e-14)
    # the trace ends at the reported log-likelihood
    trace = np.asarray(res.fit.trace)
    assert trace[np.isfinite(trace)][-1] == pytest.approx(res.loglik, rel=1e-12)
    sm_ref = sm.GLM(y, res.design.X, family={
        "gaussian": sm.families.Gaussian(), "gamma": sm.families.Gamma(L.Log()),
        "inverse_gaussian": sm.families.InverseGaussian()}[fam]).fit(tol=1e-14)  # fmt: skip
    _close(res.se_coef, sm_ref.bse)
    size = GR._total_loglik._cache_size()
    glm("YES ~ COUTAX + UNEMPF + AGE", d.assign(YES=d.YES * 1.1), family=fam,
        link=link)  # fmt: skip
    assert GR._total_loglik._cache_size() == size
