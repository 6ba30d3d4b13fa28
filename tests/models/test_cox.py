"""Cox proportional hazards regression against survival::coxph.

Reference numbers: tests/reference/coxph.R (survival 3.5-3, R 4.2.2) ->
coxph_results.csv, on lung (Efron and Breslow ties, and a stratified model)
and ovarian: partial log-likelihoods at zero and at the estimate,
coefficients, model-based SEs and robust (Lin-Wei) SEs, all compared at 1e-9
(coxph's are exact: Newton-Raphson with analytic derivatives); case weights
(integer and fractional, Efron and Breslow); survfit curves of plain, weighted
and stratified fits. tests/reference/coxph_quantile.R -> coxph_quantile.csv:
quantile(survfit(...)) with its log-scale 95% limits (event times, equal
exactly; NaN where R gives NA).
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest

import likelihax as lx
from likelihax.core import x64_scope

REF = pathlib.Path(__file__).resolve().parents[1] / "reference"
RES = pd.read_csv(REF / "coxph_results.csv")
LUNG = pd.read_csv(REF / "survreg_data_lung.csv")
OVARIAN = pd.read_csv(REF / "survreg_data_ovarian.csv")


def ref(model, kind, term):
    r = RES[(RES.model == model) & (RES.kind == kind) & (RES.term == str(term))]
    assert len(r) == 1, (model, kind, term)
    return float(r.value.iloc[0])


F = "Surv(time, status == 2) ~ age + sex + ph.ecog"
CASES = {
    "lung_efron": lambda: lx.coxph(F, LUNG),
    "lung_breslow": lambda: lx.coxph(F, LUNG, ties="breslow"),
    "lung_strata": lambda: lx.coxph("Surv(time, status == 2) ~ age + ph.ecog", LUNG,
                                    strata="sex"),
    "ovarian_efron": lambda: lx.coxph("Surv(futime, fustat) ~ age + ecog.ps", OVARIAN),
    "lung_weights": lambda: lx.coxph(F, LUNG.assign(w=1 + np.arange(1, len(LUNG) + 1) % 3), weights="w"),
    "lung_weights_breslow": lambda: lx.coxph(F, LUNG, ties="breslow",
                                             weights=(1 + np.arange(1, len(LUNG) + 1) % 3) / 1.7),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_coxph(name):
    r = CASES[name]()
    assert r.converged and r.n_events == ref(name, "stat", "nevent")
    assert r.loglik == pytest.approx(ref(name, "stat", "loglik"), rel=1e-12)
    # the partial log-likelihood itself, at beta = 0 (the sum of the per-row terms)
    zero = {"beta": dict.fromkeys(r.columns, 0.0)}
    with x64_scope():
        null = float(np.sum(r._loglik(zero, r._data)))
    assert null == pytest.approx(ref(name, "stat", "loglik_null"), rel=1e-12)
    robust = np.sqrt(np.diag(r.vcov("sandwich")))
    for i, (k, v) in enumerate(r.coef.items()):
        assert v == pytest.approx(ref(name, "coef", k), rel=1e-9), k
        assert float(r.se["beta"][k]) == pytest.approx(ref(name, "se", k), rel=1e-9), k
        assert robust[i] == pytest.approx(ref(name, "robust_se", k), rel=1e-9), k
    assert r.hazard_ratio[r.columns[0]] == pytest.approx(np.exp(r.coef[r.columns[0]]))


def test_sandwich_through_the_engine_and_clusters():
    """cov="sandwich" in the fit gives the robust SEs; clusters of one row each
    give the sandwich; two-row clusters sum the rows' score residuals."""
    r = lx.coxph(F, LUNG, cov="sandwich")
    for k in r.columns:
        assert float(r.se["beta"][k]) == pytest.approx(ref("lung_efron", "robust_se", k),
                                                       rel=1e-9)  # fmt: skip
    base = CASES["lung_efron"]()
    np.testing.assert_allclose(base.vcov("cluster", groups=np.arange(base.nobs)),
                               base.vcov("sandwich"), rtol=1e-12)  # fmt: skip
    pairs = base.vcov("cluster", groups=np.arange(base.nobs) // 2)
    assert not np.allclose(pairs, base.vcov("sandwich"))


def test_bad_input_names_rows():
    with pytest.raises(ValueError, match="event codes other than 0/1"):
        lx.coxph("Surv(time, status) ~ age", LUNG)
    bad = LUNG.assign(time=LUNG.time.astype(float))
    bad.loc[[1, 2], "time"] = -1.0
    with pytest.raises(ValueError, match=r"Rows \[1, 2\] have negative times"):
        lx.coxph(F, bad)
    with pytest.raises(ValueError, match="No events"):
        lx.coxph(F, LUNG.assign(status=1))
    with pytest.raises(ValueError, match="ties must be"):
        lx.coxph(F, LUNG, ties="exact")
    with pytest.raises(ValueError, match="no covariates"):
        lx.coxph("Surv(time, status == 2) ~ 1", LUNG)
    before = LUNG.copy()
    lx.coxph("Surv(time, status == 2) ~ age + ph.ecog", LUNG, strata="sex")
    pd.testing.assert_frame_equal(LUNG, before)  # the caller's frame is untouched


def test_large_data_is_fitted_whole():
    """From 4,096 rows the engine accumulates per-row terms in blocks; the Cox
    terms read the whole risk set, so coxph fits unblocked (the engine would
    otherwise refuse: a term changes when the data are split). Checked
    against the closed form of a two-group model with no ties and no
    censoring: the score equation of one binary covariate."""
    rng = np.random.default_rng(11)
    n = 6000
    x = (rng.random(n) < 0.5).astype(float)
    t = rng.exponential(np.exp(-0.4 * x))
    r = lx.coxph("Surv(t, d) ~ x", pd.DataFrame({"t": t, "d": 1, "x": x}))
    assert r.converged
    b = r.coef["x"]
    order = np.argsort(-t)
    xs = x[order]
    risk = np.cumsum(np.exp(b * xs))
    xbar = np.cumsum(xs * np.exp(b * xs)) / risk
    assert abs(np.sum(xs - xbar)) < 1e-8 * n  # the score at the estimate


SURVFIT = pd.read_csv(REF / "coxph_survfit.csv")
NEW = pd.DataFrame({"age": [60.0, 70.0], "sex": [1.0, 2.0], "ph.ecog": [1.0, 0.0]})
TIMES = np.arange(100.0, 900.0, 100.0)


def _survfit(model, kind="surv"):
    """survfit's values for the two new rows at TIMES, (2, 8)."""
    sel = SURVFIT[(SURVFIT.model == model) & (SURVFIT.kind == kind)].set_index("term").value
    return np.array([[float(sel[f"{row}:{int(t)}"]) for t in TIMES] for row in (1, 2)])


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_survival_curves_match_survfit(ties):
    """survfit(coxph, newdata) at two rows and eight times (tests/reference/
    coxph.R -> coxph_survfit.csv): the baseline hazard of the fit's ties."""
    r = lx.coxph(F, LUNG, ties=ties)
    S, se = r.predict(NEW, which="survival", times=TIMES, se=True)
    np.testing.assert_allclose(S, _survfit(f"lung_{ties}"), rtol=1e-9)
    # survfit's std.err (Tsiatis' variance)
    np.testing.assert_allclose(se, _survfit(f"lung_{ties}", "surv_se"), rtol=1e-9)
    with pytest.raises(ValueError, match="one baseline hazard per stratum"):
        CASES["lung_strata"]().baseline_hazard()


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_weighted_survival_curves_match_survfit(ties):
    r = lx.coxph(F, LUNG, ties=ties, weights=(1 + np.arange(1, len(LUNG) + 1) % 3) / 1.7)
    S = r.predict(NEW, which="survival", times=TIMES)
    np.testing.assert_allclose(S, _survfit(f"lung_weights_{ties}"), rtol=1e-9)


def test_stratified_survival_curves_use_each_rows_stratum():
    r = CASES["lung_strata"]()
    new = NEW.assign(sex=[1, 2])
    times = TIMES
    S = r.predict(new, which="survival", times=times)
    np.testing.assert_allclose(S, _survfit("lung_strata"), rtol=1e-9)
    t1, H1 = r.baseline_hazard(stratum=1)
    assert t1.size == int(((LUNG.sex == 1) & (LUNG.status == 2)).groupby(LUNG.time).any().sum())
    with pytest.raises(ValueError, match="strata the fit did not see"):
        r.predict(new.assign(sex=[1, 3]), which="survival", times=times)
    with pytest.raises(ValueError, match="needs the strata column 'sex'"):
        r.predict(new.drop(columns="sex"), which="survival", times=times)


def test_covariate_constant_within_strata_and_bad_weights_are_named():
    with pytest.raises(ValueError, match=r"\['sex'\] are constant within every stratum"):
        lx.coxph(F, LUNG, strata="sex")
    w = np.ones(len(LUNG))
    w[[4, 9]] = [0.0, np.nan]
    with pytest.raises(ValueError, match=r"Rows \[4, 9\] have weights that are not positive"):
        lx.coxph(F, LUNG, weights=w)


QUANT = pd.read_csv(REF / "coxph_quantile.csv", keep_default_na=False, na_values=["NA"])
QUANT_FITS = {
    "lung_efron": CASES["lung_efron"],
    "lung_breslow": CASES["lung_breslow"],
    "lung_weights": CASES["lung_weights"],
    # non-integer weights: coxph's default variance is the robust one, which survfit uses
    "lung_weights_robust": lambda: lx.coxph(F, LUNG, cov="sandwich",
                                            weights=(1 + np.arange(1, len(LUNG) + 1) % 3) / 1.7),
    "lung_strata": CASES["lung_strata"],
    "lung_strata_all": CASES["lung_strata"],
    "lung_hit": CASES["lung_efron"],
}  # fmt: skip


@pytest.mark.parametrize("case", list(QUANT_FITS))
def test_quantiles_match_survfit(case):
    """quantile(survfit(fit, newdata), c(0.25, 0.5, 0.75)) with its default
    log-scale 95% limits (tests/reference/coxph_quantile.R ->
    coxph_quantile.csv): plain, Breslow, weighted (with coxph's robust
    variance for non-integer weights) and stratified fits (each
    row in its own stratum, and rows without the stratum in every stratum),
    limits that never reach the level (NA in R, NaN here), and curves equal
    to 0.5 at an event time (the midpoint of the flat stretch) and at the
    last event time (the midpoint of it and the last observed time)."""
    ref_ = QUANT[QUANT.case == case].sort_values(["row", "stratum", "p"], kind="stable")
    rows = ref_.drop_duplicates("row")
    new = rows[["age", "sex", "ph.ecog"]].reset_index(drop=True)
    if case == "lung_strata_all":  # rows without the stratum: one curve per stratum
        new = new.drop(columns="sex")
    else:
        new["sex"] = new.sex.astype(int)  # the strata labels are the fitted data's, 1 and 2
    got = QUANT_FITS[case]().quantile(new, p=[0.25, 0.5, 0.75])
    assert len(got) == len(ref_) and got.p.tolist() == ref_.p.tolist()
    assert got.row.tolist() == (ref_.row - 1).tolist()
    if case == "lung_strata":
        assert got.stratum.tolist() == ref_.sex.astype(int).astype(str).tolist()
    elif case == "lung_strata_all":
        assert got.stratum.tolist() == ref_.stratum.astype(int).astype(str).tolist()
    for col, rcol in (("estimate", "quantile"), ("lower", "lower"), ("upper", "upper")):
        np.testing.assert_allclose(got[col].to_numpy(), ref_[rcol].to_numpy(float), rtol=1e-9,
                                   err_msg=col)  # fmt: skip


def test_quantile_rules_and_layout():
    """The median of each fitted row by default; p and level checked; the
    caller's frame untouched; the band widens with the level."""
    r = CASES["lung_efron"]()
    med = r.quantile()
    assert len(med) == r.nobs and (med.p == 0.5).all() and list(med.columns) == [
        "row", "p", "estimate", "lower", "upper"]
    ok = med.dropna()
    assert ((ok.lower <= ok.estimate) & (ok.estimate <= ok.upper)).all()
    new = NEW.set_index(pd.Index(["a", "b"]))
    before = new.copy()
    q90, q99 = r.quantile(new, level=0.9), r.quantile(new, level=0.99)
    pd.testing.assert_frame_equal(new, before)
    assert q90.row.tolist() == ["a", "b"]
    assert (q99.lower <= q90.lower).all() and (q99.upper.fillna(np.inf) >= q90.upper).all()
    for bad in (0.0, 1.0, -0.5, 1.5, np.nan, [0.5, 2.0], "half", [[0.5]], []):
        with pytest.raises(ValueError, match="p must be numbers in"):
            r.quantile(NEW, p=bad)
    for bad in (0.0, 95, np.nan, [0.9, 0.95]):
        with pytest.raises(ValueError, match="level must be"):
            r.quantile(NEW, level=bad)
    with pytest.raises(ValueError, match="newdata"):
        r.quantile(NEW.assign(age=[60.0, np.nan]))
    with pytest.raises(ValueError, match="times must be finite"):
        r.predict(NEW, which="survival", times=[100.0, np.nan])
    with pytest.raises(ValueError, match="strata the fit did not see"):
        CASES["lung_strata"]().quantile(NEW.assign(sex=[1, 3]))


def test_find_quantiles_follows_quantile_survfit():
    """survival:::findq's rules on hand-made steps (1 - S at times x)."""
    from likelihax.models._cox_curves import TOL, find_quantiles

    x = np.array([0.0, 1.0, 2.0, 3.0, 5.0])
    y = np.array([0.0, 0.2, 0.2, 0.6, 0.6])  # flat stretches merge to their first time
    got = find_quantiles(x, y, np.array([0.1, 0.2, 0.2 + TOL / 2, 0.5, 0.6, 0.7]), xmax=9.0)
    np.testing.assert_array_equal(got, [1.0, 2.0, 2.0, 3.0, 6.0, np.nan])
    # every p is NaN when the curve stays above 1 - min(p)
    assert np.isnan(find_quantiles(x, y, np.array([0.65, 0.7]), xmax=9.0)).all()
