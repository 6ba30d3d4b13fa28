"""Zero-inflated, hurdle and zero-truncated count regressions against pscl and statsmodels.

Reference numbers: tests/reference/count_models.R (pscl 1.5.5, R 4.2.2) ->
count_models_results.csv, on pscl's bioChemists data
(count_models_data_biochemists.csv). Standard errors are checked against the
script's "se_exact": the inverse of a Richardson-extrapolated Hessian
(numDeriv) of the log-likelihood written out independently in R at pscl's
estimates (pscl's own SEs come from optim's cruder numerical Hessian).
"""

from __future__ import annotations

import pathlib
import warnings

import numpy as np
import pandas as pd
import pytest

import likelihax as lx

REF = pathlib.Path(__file__).resolve().parents[1] / "reference"
DATA = pd.read_csv(REF / "count_models_data_biochemists.csv")
RES = pd.read_csv(REF / "count_models_results.csv")
SE = pd.read_csv(REF / "count_models_se.csv")  # tests/reference/count_models_se.py (mpmath)


def se_mp(model, term):
    r = SE[(SE.model == model) & (SE.term == term)]
    assert len(r) == 1, (model, term)
    return float(r.value.iloc[0])


def ref(model, kind, term):
    r = RES[(RES.model == model) & (RES.kind == kind) & (RES.term == str(term))]
    assert len(r) == 1, (model, kind, term)
    return float(r.value.iloc[0])


FULL = "art ~ fem + mar + kid5 + phd + ment"
MODELS = {
    "zip_full": (lx.zeroinfl, FULL, "poisson", {}),
    "zinb": (lx.zeroinfl, FULL + " | ment", "negbin", {}),
    "hp": (lx.hurdle, FULL + " | ment", "poisson", {}),
    "hnb": (lx.hurdle, FULL, "negbin", {}),
    "zip_off": (lx.zeroinfl, "art ~ fem + ment | ment", "poisson",
                {"offset": np.log(DATA.phd.to_numpy())}),
}  # fmt: skip


def _fit(name):
    fn, formula, dist, kw = MODELS[name]
    return fn(formula, DATA, dist=dist, **kw)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_matches_pscl(name):
    r = _fit(name)
    assert r.converged
    assert r.loglik == pytest.approx(ref(name, "stat", "logLik"), rel=1e-9)
    assert r.n_params == ref(name, "stat", "df")
    se = {f"count_{c}": float(r.se["count"][c]) for c in r.count_columns}
    se.update({f"zero_{c}": float(r.se["zero"][c]) for c in r.zero_columns})
    assert r.loglik == pytest.approx(ref(name, "stat", "logLik_exact"), rel=1e-12)
    for k, v in r.coef.items():
        # estimates to 1e-6 relative, or 1e-6 of their SE for one near zero
        assert v == pytest.approx(ref(name, "coef_exact", k), rel=1e-6, abs=1e-6 * se[k]), k
        assert v == pytest.approx(ref(name, "coef", k), rel=1e-4, abs=1e-4 * se[k]), k
        # 50-digit central differences of an independent log-likelihood; numDeriv's
        # SEs move by 1e-6 to 1e-5 across its step settings (zip_full: 12
        # parameters, condition number 1e5), so they are checked at 2e-5
        assert se[k] == pytest.approx(se_mp(name, k), rel=1e-7), k
        assert se[k] == pytest.approx(ref(name, "se_exact", k), rel=2e-5), k
        assert se[k] == pytest.approx(ref(name, "se", k), rel=1e-3), k
    if r.dist == "negbin":
        assert -np.log(float(r.params["alpha"])) == pytest.approx(
            ref(name, "coef_exact", "logtheta"), rel=1e-6)
        # se(log theta) = se(log alpha) = se(alpha) / alpha
        se_log = float(r.se["alpha"]) / float(r.params["alpha"])
        assert se_log == pytest.approx(se_mp(name, "logtheta"), rel=1e-7)


@pytest.mark.parametrize("name", ["zinb", "hnb", "zip_off"])
def test_predictions_match_pscl(name):
    r = _fit(name)
    new = DATA.iloc[:5]
    off = MODELS[name][3].get("offset")
    kw = {} if off is None else {"offset": off[:5]}
    rows = [ref(name, "pred_response", i) for i in range(1, 6)]
    np.testing.assert_allclose(r.predict(new, **kw), rows, rtol=1e-6)
    rows = [ref(name, "pred_count", i) for i in range(1, 6)]
    np.testing.assert_allclose(r.predict(new, which="count", **kw), rows, rtol=1e-6)
    probs = [ref(name, "prob", f"p{k}") for k in range(5)]
    np.testing.assert_allclose(r.predict(new.iloc[:1], which="prob", at=np.arange(5), **kw)[0],
                               probs, rtol=1e-6)  # fmt: skip
    if r.kind == "zeroinfl":  # pscl's type = "zero": the zero part's probability
        rows = [ref(name, "pred_zero", i) for i in range(1, 6)]
        np.testing.assert_allclose(r.predict(new, which="zero_part", **kw), rows, rtol=1e-6)


def test_zero_truncated_is_the_hurdle_count_part():
    """The hurdle likelihood separates: its count part is the zero-truncated
    model of the positive counts (pscl's hnb coefficients)."""
    pos = DATA[DATA.art > 0]
    r = lx.zerotrunc(FULL, pos, dist="negbin")
    for c in r.count_columns:
        assert float(r.params["count"][c]) == pytest.approx(ref("hnb", "coef", f"count_{c}"),
                                                            rel=1e-5, abs=1e-7)  # fmt: skip
    assert r.theta == pytest.approx(ref("hnb", "theta", "theta"), rel=1e-5)
    p = r.predict(pos.iloc[:3], which="prob", at=np.arange(60))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-9)
    assert np.all(p[:, 0] == 0.0)


def test_zip_matches_statsmodels():
    from statsmodels.discrete.count_model import ZeroInflatedPoisson

    X = np.column_stack([np.ones(len(DATA)), DATA[["fem", "mar", "kid5", "phd", "ment"]]])
    r = lx.zeroinfl(DATA.art.to_numpy(), X)  # arrays: the same X in both parts
    mine = np.r_[[float(r.params["zero"][c]) for c in r.zero_columns],
                 [float(r.params["count"][c]) for c in r.count_columns]]  # fmt: skip
    sm = ZeroInflatedPoisson(DATA.art.to_numpy(float), X, exog_infl=X, inflation="logit")
    with warnings.catch_warnings():  # statsmodels' own exp overflows along its path
        warnings.simplefilter("ignore", RuntimeWarning)
        sm = sm.fit(start_params=mine * 0.9, method="newton", maxiter=200, disp=False,
                    tol=1e-12)  # fmt: skip
    assert r.loglik == pytest.approx(sm.llf, rel=1e-10)
    np.testing.assert_allclose(mine, sm.params, rtol=1e-6, atol=1e-9)


def test_prediction_standard_errors_are_the_delta_method():
    """The SE of the count mean exp(x'b) is exp(x'b) sqrt(x' V_b x)."""
    r = _fit("hp")
    new = DATA.iloc[:4]
    mu, se = r.predict(new, which="count", se=True)
    X = np.column_stack([np.ones(4), new[["fem", "mar", "kid5", "phd", "ment"]]])
    labels = [f"count.{c}" for c in r.count_columns]
    V = np.array([[float(r.fit.cov[a, b]) for b in labels] for a in labels])
    np.testing.assert_allclose(se, mu * np.sqrt(np.einsum("ij,jk,ik->i", X, V, X)), rtol=1e-8)
    zp, zse = r.predict(new, which="zero", se=True)
    assert np.all((zp > 0) & (zp < 1) & (zse > 0))


def test_bad_input_names_rows_and_options():
    df = DATA.astype({"art": float})
    df.loc[[3, 7], "art"] = [-1.0, 2.5]
    with pytest.raises(ValueError, match=r"rows \[3, 7\] are not"):
        lx.zeroinfl(FULL, df)
    with pytest.raises(ValueError, match="no zeros"):
        lx.hurdle(FULL, DATA[DATA.art > 0])
    with pytest.raises(ValueError, match="all zeros"):
        lx.zeroinfl(FULL, DATA[DATA.art == 0])
    with pytest.raises(ValueError, match="zero-truncated model observes counts >= 1"):
        lx.zerotrunc(FULL, DATA)
    with pytest.raises(ValueError, match="dist must be one of"):
        lx.zeroinfl(FULL, DATA, dist="nb")
    with pytest.raises(ValueError, match="zero_link must be one of"):
        lx.zeroinfl(FULL, DATA, zero_link="log")
    before = DATA.copy()
    lx.zeroinfl("art ~ fem | 1", DATA)
    pd.testing.assert_frame_equal(DATA, before)  # the caller's frame is untouched


def test_inference_functions_accept_the_result(tmp_path):
    """One way to test and save: a likelihood-ratio test of nested zero parts
    (against the closed form 2 (l1 - l0) on chi2(1)), a profile interval that
    contains the estimate and is close to Wald's, save and load."""
    from scipy import stats

    full = lx.hurdle(FULL + " | ment", DATA)
    null = lx.hurdle(FULL + " | 1", DATA)
    t = lx.lr_test(null, full)
    stat = 2 * (full.loglik - null.loglik)
    assert float(t.statistic) == pytest.approx(stat, rel=1e-10)
    assert float(t.pvalue) == pytest.approx(stats.chi2.sf(stat, 1), rel=1e-8)
    ci = lx.profile_ci(full, "count.fem")
    lo, hi = (float(v) for v in np.ravel(ci["count.fem"]))
    est, se = float(full.params["count"]["fem"]), float(full.se["count"]["fem"])
    assert lo < est < hi
    assert lo == pytest.approx(est - 1.96 * se, abs=0.1 * se)
    full.save(tmp_path / "hurdle")
    back = lx.load_result(tmp_path / "hurdle")
    assert float(back.loglik) == pytest.approx(full.loglik, rel=1e-14)
