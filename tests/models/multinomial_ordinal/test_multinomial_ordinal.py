"""Multinomial logit and ordinal regression against statsmodels and R.

References:

* statsmodels ``MNLogit`` (Newton to 1e-14) and ``OrderedModel`` (BFGS), run here;
* R ``nnet::multinom`` and ``MASS::polr``, numbers made by
  ``tests/reference/multinom_polr.R`` and committed beside it (R 4.2.2, MASS
  7.3-58.2, nnet 7.3-18), so R is not needed to run this file.

Data: statsmodels' ``anes96`` (party identification, 7 categories) and ``fair``
(marriage rating 1-5), exported to CSV by :func:`export_statsmodels_data` so that R
reads the same numbers (checked by ``test_committed_data_are_statsmodels``), and
MASS's ``housing`` (satisfaction Low < Medium < High, with frequency weights
``Freq``), exported by the R script.

Tolerances: statsmodels MNLogit and likelihax both reach the optimum to rounding
(1e-9 relative here). The R optimizers and statsmodels' OrderedModel stop earlier
(BFGS; relative change of the deviance below 1e-14, or a gradient tolerance), which
leaves an error in the estimates of order ``sqrt(2 * Delta loglik)`` standard
errors; their estimates are compared at ``1e-6 * |ref| + 1e-5 * se`` and the
log-likelihoods at 1e-10 relative (likelihax must reach at least R's value).
polr's standard errors are central differences of its analytic gradient (step
1e-5) and OrderedModel's a numerical Hessian: 1e-6 and 2e-6 relative.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest

from likelihax.models.multinomial import mnlogit
from likelihax.models.ordinal import ordinal

sm = pytest.importorskip("statsmodels.api")
from statsmodels.miscmodels.ordinal_model import OrderedModel

REF = pathlib.Path(__file__).resolve().parents[2] / "reference"
ANES_X = ["logpopul", "selfLR", "age", "educ", "income"]
FAIR_X = ["age", "yrs_married", "children", "religious", "educ"]
# MASS::housing's factor levels, in R's order (the CSV holds the labels only)
HOUSING_LEVELS = {
    "Sat": ["Low", "Medium", "High"],
    "Infl": ["Low", "Medium", "High"],
    "Type": ["Tower", "Apartment", "Atrium", "Terrace"],
    "Cont": ["Low", "High"],
}


def export_statsmodels_data():
    """Write the statsmodels data sets that the R script reads (run once)."""
    anes = sm.datasets.anes96.load_pandas().data[["PID", *ANES_X]]
    anes.to_csv(REF / "multinom_polr_anes96.csv", index=False)
    fair = sm.datasets.fair.load_pandas().data[["rate_marriage", *FAIR_X]]
    fair.to_csv(REF / "multinom_polr_fair.csv", index=False)


def _csv(name):
    return pd.read_csv(REF / f"multinom_polr_{name}.csv")


def _housing():
    df = _csv("housing")
    for col, lev in HOUSING_LEVELS.items():
        df[col] = pd.Categorical(df[col], categories=lev, ordered=col == "Sat")
    return df


RESULTS = _csv("results")


def _ref(model):
    r = RESULTS[RESULTS["model"] == model]
    assert len(r) and r["converged"].all()
    return (
        dict(zip(r["param"], r["estimate"])),
        dict(zip(r["param"], r["se"])),
        float(r["loglik"].iloc[0]),
    )


def _r_name(col):
    """formulaic column name -> R's: 'Infl[T.Medium]' -> 'InflMedium'."""
    return "(Intercept)" if col == "Intercept" else col.replace("[T.", "").rstrip("]")


def _close_to_optimizer(est, ref, se):
    """Estimates of an optimizer that stops early: 1e-6 relative or 1e-5 SE."""
    est, ref, se = map(np.asarray, (est, ref, se))
    return np.all(np.abs(est - ref) <= 1e-6 * np.abs(ref) + 1e-5 * se)


def _maxrel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


# ----- data ----------------------------------------------------------------------------
def test_committed_data_are_statsmodels():
    anes = sm.datasets.anes96.load_pandas().data[["PID", *ANES_X]]
    fair = sm.datasets.fair.load_pandas().data[["rate_marriage", *FAIR_X]]
    pd.testing.assert_frame_equal(_csv("anes96"), anes.reset_index(drop=True))
    pd.testing.assert_frame_equal(_csv("fair"), fair.reset_index(drop=True))


# ----- multinomial logit ------------------------------------------------------------------
@pytest.fixture(scope="module")
def anes():
    return _csv("anes96")


@pytest.fixture(scope="module")
def anes_formula(anes):
    return mnlogit("PID ~ " + " + ".join(ANES_X), anes)


@pytest.fixture(scope="module")
def sm_mnlogit(anes):
    X = sm.add_constant(anes[ANES_X])
    return sm.MNLogit(anes["PID"], X).fit(method="newton", tol=1e-14, maxiter=100,
                                          disp=0)  # fmt: skip


def test_mnlogit_arrays_match_statsmodels(anes, sm_mnlogit):
    # same names and shapes as the formula fit below: one compilation for both
    X = sm.add_constant(anes[ANES_X]).to_numpy()
    res = mnlogit(anes["PID"], X, columns=["Intercept", *ANES_X])
    assert res.fit.converged
    assert res.design.response == "PID"  # the Series' name
    ref = sm_mnlogit.params.to_numpy().T  # (K-1, p)
    np.testing.assert_allclose(res.coef, ref, rtol=1e-9)
    np.testing.assert_allclose(res.coef_se, sm_mnlogit.bse.to_numpy().T, rtol=1e-9)
    assert res.loglik == pytest.approx(sm_mnlogit.llf, rel=1e-12)
    np.testing.assert_allclose(res.predict_proba(), sm_mnlogit.predict(), atol=1e-12)
    # labelled by category and column
    assert res.fit.labels[:2] == ["PID=1.Intercept", "PID=1.logpopul"]
    assert float(res.fit.params["PID=6"]["selfLR"]) == pytest.approx(ref[5, 2], 1e-9)
    # robust (HC0) covariance from the per-observation scores
    hc0 = sm.MNLogit(anes["PID"], sm.add_constant(anes[ANES_X])).fit(
        method="newton", tol=1e-14, maxiter=100, disp=0, cov_type="HC0"
    )
    V = res.fit.vcov("sandwich")
    assert V.labels[:2] == ["PID=1.Intercept", "PID=1.logpopul"]
    se = np.sqrt(np.diag(np.asarray(V))).reshape(res.coef.shape)
    np.testing.assert_allclose(se, hc0.bse.to_numpy().T, rtol=1e-9)


def test_mnlogit_formula_matches_nnet(anes_formula):
    est, se, ll = _ref("multinom_anes96")
    res = anes_formula
    assert res.fit.converged
    assert res.fit.labels[0] == "PID=1.Intercept"
    keys = [f"{k}:{_r_name(c)}" for k in "123456" for c in res.columns]
    assert _close_to_optimizer(
        res.coef.ravel(), [est[k] for k in keys], [se[k] for k in keys]
    )
    np.testing.assert_allclose(res.coef_se.ravel(), [se[k] for k in keys], rtol=1e-6)
    assert res.loglik >= ll - 1e-9
    assert res.loglik == pytest.approx(ll, rel=1e-10)


def test_mnlogit_formula_matches_statsmodels(anes_formula, sm_mnlogit):
    np.testing.assert_allclose(anes_formula.coef, sm_mnlogit.params.to_numpy().T,
                               rtol=1e-9)  # fmt: skip
    assert anes_formula.fit.nobs == 944
    assert anes_formula.fit.aic == pytest.approx(sm_mnlogit.aic, rel=1e-12)
    assert anes_formula.fit.bic == pytest.approx(sm_mnlogit.bic, rel=1e-12)


def test_mnlogit_predict_new_data(anes, anes_formula, sm_mnlogit):
    new = anes.iloc[[3, 100, 500]][ANES_X].reset_index(drop=True)
    p = anes_formula.predict_proba(new)
    ref = sm_mnlogit.predict(sm.add_constant(new, has_constant="add"))
    np.testing.assert_allclose(p, ref, atol=1e-12)
    assert anes_formula.levels == tuple(float(k) for k in range(7))


@pytest.fixture(scope="module")
def housing():
    return _housing()


@pytest.fixture(scope="module")
def housing_mnlogit(housing):
    return mnlogit("Sat ~ Infl + Type + Cont", housing, weights="Freq")


@pytest.fixture(scope="module")
def housing_sm_duplicated(housing):
    """statsmodels MNLogit on the data with row i repeated Freq[i] times."""
    rows = housing.loc[housing.index.repeat(housing["Freq"])].reset_index(drop=True)
    X = pd.get_dummies(rows[["Infl", "Type", "Cont"]], drop_first=True, dtype=float)
    return sm.MNLogit(rows["Sat"].cat.codes, sm.add_constant(X)).fit(
        method="newton", tol=1e-14, maxiter=100, disp=0
    )


def test_mnlogit_frequency_weights(housing_mnlogit, housing_sm_duplicated):
    """MASS::housing with Freq as weights: nnet, and statsmodels on duplicated rows."""
    res, m = housing_mnlogit, housing_sm_duplicated
    assert res.fit.converged
    assert res.fit.nobs == 1681
    assert res.levels == ("Low", "Medium", "High")
    est, se, ll = _ref("multinom_housing")
    keys = [f"{k}:{_r_name(c)}" for k in ("Medium", "High") for c in res.columns]
    assert _close_to_optimizer(
        res.coef.ravel(), [est[k] for k in keys], [se[k] for k in keys]
    )
    np.testing.assert_allclose(res.coef_se.ravel(), [se[k] for k in keys], rtol=1e-6)
    assert res.loglik == pytest.approx(ll, rel=1e-10)
    np.testing.assert_allclose(res.coef, m.params.to_numpy().T, rtol=1e-9)
    np.testing.assert_allclose(res.coef_se, m.bse.to_numpy().T, rtol=1e-9)
    assert res.loglik == pytest.approx(m.llf, rel=1e-12)
    assert res.fit.bic == pytest.approx(m.bic, rel=1e-12)


def test_mnlogit_fisher_scoring(housing, housing_sm_duplicated):
    # canonical link: expected information = observed information
    res = mnlogit("Sat ~ Infl + Type + Cont", housing, weights="Freq",
                  method="fisher", cov="eim")  # fmt: skip
    m = housing_sm_duplicated
    assert res.fit.converged
    assert res.fit.method == "fisher"
    np.testing.assert_allclose(res.coef, m.params.to_numpy().T, rtol=1e-9)
    np.testing.assert_allclose(res.coef_se, m.bse.to_numpy().T, rtol=1e-9)


def test_mnlogit_base_category(housing, housing_mnlogit):
    ref = housing_mnlogit
    res = mnlogit("Sat ~ Infl + Type + Cont", housing, weights="Freq", base="High")
    assert res.base == "High"
    assert res.loglik == pytest.approx(ref.loglik, rel=1e-12)
    B0 = np.vstack([np.zeros(len(ref.columns)), ref.coef])  # rows: Low, Medium, High
    np.testing.assert_allclose(res.coef, (B0 - B0[2])[:2], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res.predict_proba(), ref.predict_proba(), atol=1e-12)
    assert ("Base category", "High") in res.summary().header
    assert res.fit.labels[0] == "Sat=Low.Intercept"


# ----- ordinal regression -----------------------------------------------------------------
@pytest.fixture(scope="module")
def fair():
    return _csv("fair")


FAIR_FORMULA = "rate_marriage ~ " + " + ".join(FAIR_X)
POLR = {"logit": "logistic", "probit": "probit", "cloglog": "cloglog"}


@pytest.fixture(scope="module")
def fair_fits(fair):
    return {link: ordinal(FAIR_FORMULA, fair, link=link) for link in POLR}


def _check_polr(res, model):
    est, se, ll = _ref(model)
    names = [_r_name(c) for c in res.columns] + res.cut_labels
    assert res.fit.converged
    ours = np.r_[res.beta, res.zeta]
    ours_se = np.r_[res.beta_se, res.zeta_se]
    ref_se = [se[k] for k in names]
    assert _close_to_optimizer(ours, [est[k] for k in names], ref_se)
    np.testing.assert_allclose(ours_se, ref_se, rtol=1e-6)
    assert res.loglik >= ll - 1e-9
    assert res.loglik == pytest.approx(ll, rel=1e-10)


@pytest.mark.parametrize("link", list(POLR))
def test_ordinal_matches_polr(fair_fits, link):
    _check_polr(fair_fits[link], f"polr_fair_{POLR[link]}")
    assert fair_fits[link].fit.labels[0] == "beta.age"


def _thresholds_se(m, p):
    """OrderedModel: cut-points and their delta-method SEs from its parametrization
    (first cut-point, then log increments)."""
    th = m.model.transform_threshold_params(m.params.to_numpy())[1:-1]
    k = th.size
    J = np.zeros((k, k))
    J[:, 0] = 1.0
    inc = np.exp(m.params.to_numpy()[p + 1 :])
    for i in range(1, k):
        J[i:, i] = inc[i - 1]
    V = J @ m.cov_params().to_numpy()[p:, p:] @ J.T
    return th, np.sqrt(np.diag(V))


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_ordinal_matches_statsmodels(fair, fair_fits, link):
    res = fair_fits[link]
    m = OrderedModel(fair["rate_marriage"], fair[FAIR_X], distr=link).fit(
        method="bfgs", gtol=1e-8, maxiter=2000, disp=0
    )
    assert m.mle_retvals["converged"]
    th, th_se = _thresholds_se(m, len(FAIR_X))
    ref = np.r_[m.params.to_numpy()[: len(FAIR_X)], th]
    ref_se = np.r_[m.bse.to_numpy()[: len(FAIR_X)], th_se]
    assert _close_to_optimizer(np.r_[res.beta, res.zeta], ref, ref_se)
    np.testing.assert_allclose(np.r_[res.beta_se, res.zeta_se], ref_se, rtol=2e-6)
    assert res.loglik == pytest.approx(m.llf, rel=1e-10)
    np.testing.assert_allclose(res.predict_proba(), m.predict(), atol=1e-7)


def test_ordinal_arrays_and_new_data(fair, fair_fits):
    X = fair[FAIR_X].to_numpy()
    res = ordinal(fair["rate_marriage"], X, columns=FAIR_X, link="probit")
    ref = fair_fits["probit"]
    np.testing.assert_allclose(res.beta, ref.beta, rtol=1e-9)
    np.testing.assert_allclose(res.zeta, ref.zeta, rtol=1e-9)
    assert res.design.response == "rate_marriage"
    new = fair.iloc[[0, 10, 20]]
    np.testing.assert_allclose(
        ref.predict_proba(new), res.predict_proba(new[FAIR_X].to_numpy()), atol=1e-13
    )
    np.testing.assert_allclose(ref.predict_proba(new), ref.predict_proba()[[0, 10, 20]],
                               atol=1e-13)  # fmt: skip


def test_ordinal_two_levels_is_logistic_regression(fair):
    """With 2 levels, P(Y = high) = sigmoid(x'beta - zeta): statsmodels Logit."""
    y = np.where(fair["rate_marriage"] >= 4, "happy", "not")
    res = ordinal(y, fair[FAIR_X], levels=["not", "happy"])
    m = sm.Logit((y == "happy").astype(float), sm.add_constant(fair[FAIR_X])).fit(
        method="newton", tol=1e-14, maxiter=100, disp=0
    )
    ref = m.params.to_numpy()
    np.testing.assert_allclose(np.r_[res.beta, -res.zeta], np.r_[ref[1:], ref[0]],
                               rtol=1e-9)  # fmt: skip
    ref_se = m.bse.to_numpy()
    np.testing.assert_allclose(np.r_[res.beta_se, res.zeta_se],
                               np.r_[ref_se[1:], ref_se[0]], rtol=1e-9)  # fmt: skip
    assert res.loglik == pytest.approx(m.llf, rel=1e-12)
    np.testing.assert_allclose(res.predict_proba()[:, 1], m.predict(), atol=1e-12)


def test_ordinal_reversed_levels(fair, fair_fits):
    """Reversing the order of the levels flips the signs: beta -> -beta and
    zeta_k -> -zeta_{K-k}."""
    res = ordinal(FAIR_FORMULA, fair, levels=[5, 4, 3, 2, 1])
    ref = fair_fits["logit"]
    np.testing.assert_allclose(res.beta, -ref.beta, rtol=1e-9)
    np.testing.assert_allclose(res.zeta, -ref.zeta[::-1], rtol=1e-9)
    np.testing.assert_allclose(res.predict_proba(), ref.predict_proba()[:, ::-1],
                               atol=1e-12)  # fmt: skip
    assert res.cut_labels[0] == "5|4"


def test_ordinal_intercept_only_closed_form(fair):
    """No regressors: zeta_k = logit of the cumulative proportion P(Y <= k)."""
    res = ordinal("rate_marriage ~ 1", fair)
    counts = fair["rate_marriage"].value_counts().sort_index().to_numpy()
    cum = np.cumsum(counts)[:-1] / counts.sum()
    np.testing.assert_allclose(res.zeta, np.log(cum / (1 - cum)), rtol=1e-10)
    assert res.columns == () and res.beta.shape == (0,)
    np.testing.assert_allclose(
        res.predict_proba()[0], counts / counts.sum(), rtol=1e-10
    )
    n = counts.sum()
    assert res.loglik == pytest.approx(np.sum(counts * np.log(counts / n)), rel=1e-12)


@pytest.fixture(scope="module")
def housing_polr(housing):
    return {
        link: ordinal("Sat ~ Infl + Type + Cont", housing, link=link, weights="Freq")
        for link in ("logit", "probit")
    }


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_ordinal_weighted_matches_polr(housing_polr, link):
    res = housing_polr[link]
    _check_polr(res, f"polr_housing_{POLR[link]}")
    assert res.fit.nobs == 1681
    assert res.levels == ("Low", "Medium", "High")  # the ordered categorical's order


def test_ordinal_row_order_and_new_data(housing, housing_polr):
    ref = housing_polr["logit"]
    perm = np.random.default_rng(3).permutation(len(housing))
    shuffled = housing.iloc[perm]
    res = ordinal("Sat ~ Infl + Type + Cont", shuffled, weights="Freq")
    np.testing.assert_allclose(np.r_[res.beta, res.zeta], np.r_[ref.beta, ref.zeta],
                               rtol=1e-10)  # fmt: skip
    np.testing.assert_allclose(res.predict_proba(), ref.predict_proba()[perm],
                               atol=1e-13)  # fmt: skip
    new = housing.iloc[[0, 30, 71]][["Infl", "Type", "Cont"]]
    np.testing.assert_allclose(ref.predict_proba(new),
                               ref.predict_proba()[[0, 30, 71]], atol=1e-13)  # fmt: skip


def _polr_probs(theta, X, link, k):
    """Category probabilities of polr's model, written with scipy (independent)."""
    from scipy import stats

    cdf = {"logit": stats.logistic.cdf, "probit": stats.norm.cdf}[link]
    p = X.shape[1]
    beta, zeta = theta[:p], theta[p:]
    F = cdf(zeta[None, :] - (X @ beta)[:, None])
    F = np.column_stack([np.zeros(len(X)), F, np.ones(len(X))])
    return np.diff(F, axis=1)


def test_ordinal_fisher_scoring_expected_information(housing, housing_polr):
    """method="fisher", cov="eim": same estimates; the covariance is the inverse of
    sum_i w_i sum_k (d pi_ik)(d pi_ik)' / pi_ik, with scipy CDFs and central
    differences (not the engine's tridiagonal formula)."""
    res = ordinal("Sat ~ Infl + Type + Cont", housing, weights="Freq",
                  method="fisher", cov="eim")  # fmt: skip
    ref = housing_polr["logit"]
    assert res.fit.converged and res.fit.method == "fisher"
    np.testing.assert_allclose(np.r_[res.beta, res.zeta], np.r_[ref.beta, ref.zeta],
                               rtol=1e-9)  # fmt: skip
    X = ref.design.X[:, 1:]
    theta = np.r_[ref.beta, ref.zeta]
    h = 1e-6
    dP = np.stack(
        [
            (
                _polr_probs(theta + h * e, X, "logit", 3)
                - _polr_probs(theta - h * e, X, "logit", 3)
            )
            / (2 * h)
            for e in np.eye(theta.size)
        ],
        axis=-1,
    )  # fmt: skip  (n, K, q)
    P = _polr_probs(theta, X, "logit", 3)
    w = housing["Freq"].to_numpy(float)
    info = np.einsum("i,ikq,ikr,ik->qr", w, dP, dP, 1.0 / P)
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    np.testing.assert_allclose(np.r_[res.beta_se, res.zeta_se], se, rtol=1e-6)
    # and it is not the observed information's
    assert np.max(np.abs(res.beta_se / ref.beta_se - 1)) > 1e-4


def test_summaries_describe_the_model(anes_formula, housing_polr):
    s = anes_formula.summary()
    assert ("Base category", "0") in s.header
    assert any("log[P(k) / P(0)]" in n for n in s.notes)
    s = housing_polr["probit"].summary()
    assert ("Levels", "Low < Medium < High") in s.header
    assert ("Link", "probit") in s.header
    assert any("zeta[0] = Low|Medium" in n for n in s.notes)
    assert housing_polr["logit"].cut_labels == ["Low|Medium", "Medium|High"]


# ----- input handling ---------------------------------------------------------------------
def test_missing_values_drop_and_raise(fair):
    df = fair.iloc[:300].copy()
    df.loc[[5, 17], "age"] = np.nan
    before = df.copy()
    with pytest.raises(ValueError, match="2 of 300 rows have missing values"):
        ordinal(FAIR_FORMULA, df)
    res = ordinal(FAIR_FORMULA, df, missing="drop")
    ref = ordinal(FAIR_FORMULA, df.dropna())
    pd.testing.assert_frame_equal(df, before)  # the caller's data are untouched
    assert res.design.n_dropped == 2 and res.fit.nobs == 298
    np.testing.assert_allclose(res.zeta, ref.zeta, rtol=1e-12)
    assert ("Rows dropped", "2 (missing values)") in res.summary().header
    y, X = df["rate_marriage"].to_numpy(), df[FAIR_X].to_numpy()
    Xc = X.copy()
    with pytest.raises(ValueError, match=r"2 of 300 rows .*\(X column 'age': 2\)"):
        mnlogit(y, X, columns=FAIR_X)
    with pytest.raises(TypeError, match="names a column, which needs a formula"):
        mnlogit(y, X, weights="Freq")
    res = ordinal(y, X, columns=FAIR_X, missing="drop")
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_allclose(res.zeta, ref.zeta, rtol=1e-12)


def test_too_few_categories():
    X = np.column_stack([np.ones(4), [0.1, 0.4, 0.2, 0.9]])
    with pytest.raises(ValueError, match=r"has 1 category \(\['a'\]\).*at least 2"):
        mnlogit(np.array(["a"] * 4), X)
    with pytest.raises(ValueError, match="at least 2"):
        ordinal(np.ones(4), X[:, 1:])


def test_levels_errors():
    y = np.array(["lo", "mid", "lo", "mid", "mid"])
    X = np.array([[0.1], [0.5], [0.3], [0.9], [0.2]])
    with pytest.raises(ValueError, match=r"Level\(s\) \['hi'\].*no observations"):
        ordinal(y, X, levels=["lo", "mid", "hi"])
    with pytest.raises(ValueError, match=r"value\(s\) \['mid'\] that are not in"):
        ordinal(y, X, levels=["lo", "hi"])
    with pytest.raises(ValueError, match="repeated"):
        ordinal(y, X, levels=["lo", "mid", "lo"])
    cat = pd.Categorical(y, categories=["lo", "mid", "hi"], ordered=True)
    with pytest.raises(ValueError, match=r"\['hi'\].*remove_unused_categories"):
        mnlogit(cat, np.column_stack([np.ones(5), X]))
    with pytest.raises(ValueError, match=r"base='top' is not a category"):
        mnlogit(y, np.column_stack([np.ones(5), X]), base="top")


def test_non_finite_and_collinear_columns():
    y = np.array([0, 1, 2, 0, 1, 2])
    X = np.column_stack([np.ones(6), [0.1, 0.5, np.inf, 0.9, 0.2, 0.4]])
    with pytest.raises(ValueError, match=r"non-finite values in column\(s\) \['x'\]"):
        mnlogit(y, X, columns=["const", "x"])
    df = pd.DataFrame({"y": y, "x": [0.0, 0.5, 1.0, 0.9, 0.2, 0.4]})
    bad = df.assign(x=X[:, 1])
    with pytest.raises(ValueError, match=r"non-finite values in column\(s\) \['x'\]"):
        ordinal("y ~ x", bad)
    with pytest.raises(ValueError, match=r"\['const'\] of X are constant"):
        ordinal(y, np.column_stack([np.ones(6), df["x"]]), columns=["const", "x"])
    with pytest.raises(ValueError, match="rank deficient.*'x2' = 2\\*'x'"):
        mnlogit(y, np.column_stack([np.ones(6), df["x"], 2 * df["x"]]),
                columns=["const", "x", "x2"])  # fmt: skip
    with pytest.raises(ValueError, match="link must be one of"):
        ordinal("y ~ x", df, link="cauchit")


def test_model_info_and_the_inference_functions(anes_formula, fair_fits):
    """Both results say what they are (in their engine fits too) and go to the
    inference functions as they are."""
    import likelihax as lx

    for res, want in ((anes_formula, ("multinomial", "multinomial", "logit")),
                      (fair_fits["probit"], ("ordinal", None, "probit"))):  # fmt: skip
        info = res.model_info
        assert (info.kind, info.family, info.link, info.flags) == (*want, ())
        assert res.fit.model_info == info
        np.testing.assert_array_equal(np.asarray(lx.vcov(res, "oim")),
                                      np.asarray(lx.vcov(res.fit, "oim")))  # fmt: skip
        lab = res.fit.labels[0]
        w = lx.wald_test(res, f"{lab} = 0")
        est, se = res.fit.params_flat[0], np.sqrt(np.asarray(res.fit.cov)[0, 0])
        assert w.statistic == pytest.approx(float(est / se) ** 2, rel=1e-10)


def test_ordinal_links_are_the_glm_links():
    """One table of links: the cumulative links are the GLM inverse links
    (distribution function, its log, log survival, density, quantile),
    checked against scipy."""
    from scipy import stats

    from likelihax.models.glm import LINKS
    from likelihax.models.ordinal import ORDINAL_LINKS

    t = np.linspace(-6.0, 4.0, 11)
    dists = {"logit": stats.logistic, "probit": stats.norm,
             "cloglog": stats.gumbel_l}  # fmt: skip
    import jax

    with jax.enable_x64(True):
        for name in ORDINAL_LINKS:
            link, d = LINKS[name], dists[name]
            np.testing.assert_allclose(link.log_mu(t), d.logcdf(t), rtol=1e-12)
            # (jax's normal log-CDF near 0, log Phi(6), is good to about 6e-8)
            np.testing.assert_allclose(link.log1m_mu(t), d.logsf(t), rtol=1e-7)
            np.testing.assert_allclose(link.deriv(t), d.pdf(t), rtol=1e-12)
            p = np.array([0.1, 0.5, 0.9])
            np.testing.assert_allclose(link.link(p), d.ppf(p), rtol=1e-12)
