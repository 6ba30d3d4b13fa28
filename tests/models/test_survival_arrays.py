"""Survival models from arrays: ``lx.Surv(time, event)`` (or ``y`` for Tobit)
with a covariate matrix ``X`` gives the formula's fit, to 1e-12, with the same
results (summary, predict, coefficient names); bad input names the argument
or the rows, and the caller's arrays and frames are never modified."""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest

import likelihax as lx

REF = pathlib.Path(__file__).resolve().parents[1] / "reference"
LUNG = pd.read_csv(REF / "survreg_data_lung.csv")
INTERVAL = pd.read_csv(REF / "survreg_data_lung_interval.csv")
TOBIN = pd.read_csv(REF / "survreg_data_tobin.csv")
COVS = ["age", "sex", "ph.ecog"]
SURV = lx.Surv(LUNG.time, LUNG.status == 2)


def same_fit(a, b, tol=1e-12):
    """Coefficients, every parameter, SEs and log-likelihood equal to ``tol``."""
    assert list(a.coef) == list(b.coef)
    np.testing.assert_allclose(list(a.coef.values()), list(b.coef.values()), rtol=tol, atol=0)
    for k in ("beta", "scale", "shape"):
        if k in b.fit.params:
            pa, pb = a.fit.params[k], b.fit.params[k]
            sa, sb = a.se[k], b.se[k]
            if isinstance(pb, dict):
                pa, pb = [pa[c] for c in pb], list(pb.values())
                sa, sb = [sa[c] for c in b.se[k]], list(sb.values())
            np.testing.assert_allclose(np.asarray(pa, float), np.asarray(pb, float), rtol=tol)
            np.testing.assert_allclose(np.asarray(sa, float), np.asarray(sb, float), rtol=tol)
    assert a.loglik == pytest.approx(b.loglik, rel=tol, abs=0)
    assert a.nobs == b.nobs


@pytest.mark.parametrize("dist", ["weibull", "exponential", "lognormal", "loglogistic"])
def test_survreg_from_arrays_is_the_formula_fit(dist):
    f = lx.survreg("Surv(time, status == 2) ~ age + sex + ph.ecog", LUNG, dist=dist)
    a = lx.survreg(SURV, LUNG[COVS], dist=dist)
    same_fit(a, f)
    assert list(a.coef) == ["(Intercept)", *COVS]
    assert type(a) is type(f) and a.dist == f.dist and a.scale == pytest.approx(f.scale, rel=1e-12)
    assert str(a.summary()) == str(f.summary())
    # an ndarray X: columns x0, x1, ...; the same numbers
    n = lx.survreg(SURV, LUNG[COVS].to_numpy(), dist=dist)
    assert list(n.coef) == ["(Intercept)", "x0", "x1", "x2"]
    np.testing.assert_allclose(list(n.coef.values()), list(f.coef.values()), rtol=1e-12)
    # predict: newdata as a frame (by name) or an array (X's columns, no intercept)
    new = LUNG.iloc[:5]
    for which in ("median", "lp"):
        want, want_se = f.predict(new, which=which, se=True)
        for x, newdata in ((a, new[COVS[::-1]]), (a, new[COVS].to_numpy()),
                           (n, new[COVS].to_numpy()), (a, new[COVS].to_dict("list"))):
            got, got_se = x.predict(newdata, which=which, se=True)
            np.testing.assert_allclose(got, want, rtol=1e-11)
            np.testing.assert_allclose(got_se, want_se, rtol=1e-9)
    np.testing.assert_allclose(a.predict(which="survival", times=[100.0, 300.0]),
                               f.predict(which="survival", times=[100.0, 300.0]), rtol=1e-11)
    np.testing.assert_allclose(a.predict(new[COVS].to_numpy()[0], which="lp"),
                               f.predict(new.iloc[:1], which="lp"), rtol=1e-12)  # one row


def test_interval_censoring_and_gengamma_from_arrays():
    f = lx.survreg("Surv(lower, upper, type='interval') ~ age + sex", INTERVAL)
    s = lx.Surv(INTERVAL.lower, INTERVAL.upper, type="interval")
    assert s.type == "interval" and s.event is None and s.upper.shape == (len(INTERVAL),)
    same_fit(lx.survreg(s, INTERVAL[["age", "sex"]]), f)
    g = lx.survreg("Surv(time, status == 2) ~ age + sex", LUNG, dist="gengamma")
    same_fit(lx.survreg(SURV, LUNG[["age", "sex"]], dist="gengamma"), g)


def test_delayed_entry_from_arrays():
    rng = np.random.default_rng(5)
    n = 300
    e = rng.uniform(0, 2, n)
    x = rng.normal(size=n)
    t = e + rng.exponential(np.exp(0.5 * x))
    c = e + rng.uniform(0.5, 4, n)
    df = pd.DataFrame({"t": np.minimum(t, c), "d": (t <= c).astype(int), "x": x, "e": e})
    f = lx.survreg("Surv(t, d) ~ x", df, entry="e")
    same_fit(lx.survreg(lx.Surv(df.t, df.d), df[["x"]], entry=df.e.to_numpy()), f)
    same_fit(lx.survreg(lx.Surv(df.t, df.d), df[["x"]], entry=list(df.e)), f)
    with pytest.raises(ValueError, match="enter at or after"):
        lx.survreg(lx.Surv(df.t, df.d), df[["x"]], entry=df.t + 1.0)
    with pytest.raises(ValueError, match=r"entry must have one value per row \(300\)"):
        lx.survreg(lx.Surv(df.t, df.d), df[["x"]], entry=e[:10])


@pytest.mark.parametrize("right", [np.inf, 5.0])
def test_tobit_from_arrays(right):
    f = lx.tobit("durable ~ age + quant", TOBIN, right=right)
    a = lx.tobit(TOBIN.durable, TOBIN[["age", "quant"]], left=0, right=right)
    same_fit(a, f)
    assert a.dist == "gaussian" and str(a.summary()) == str(f.summary())
    np.testing.assert_allclose(a.predict(TOBIN[["age", "quant"]].to_numpy()[:4], which="lp"),
                               f.predict(TOBIN.iloc[:4], which="lp"), rtol=1e-12)
    with pytest.raises(ValueError, match=r"Rows \[2\] have a missing response"):
        lx.tobit(TOBIN.durable.where(TOBIN.index != 2), TOBIN[["age", "quant"]])


CASES = {
    "efron": dict(ties="efron"),
    "breslow": dict(ties="breslow"),
    "weights": dict(weights=1 + np.arange(1, len(LUNG) + 1) % 3),
    "sandwich": dict(cov="sandwich"),
}


@pytest.mark.parametrize("case", CASES)
def test_cox_from_arrays_is_the_formula_fit(case):
    f = lx.coxph("Surv(time, status == 2) ~ age + sex + ph.ecog", LUNG, **CASES[case])
    a = lx.coxph(SURV, LUNG[COVS], **CASES[case])
    same_fit(a, f)
    assert a.ties == f.ties and a.n_events == f.n_events
    assert str(a.summary()) == str(f.summary())
    new = LUNG[COVS].iloc[:3]
    times = [100.0, 300.0, 500.0]
    for newdata in (new, new.to_numpy()):
        S, se = a.predict(newdata, which="survival", times=times, se=True)
        S0, se0 = f.predict(new, which="survival", times=times, se=True)
        np.testing.assert_allclose(S, S0, rtol=1e-11)
        np.testing.assert_allclose(se, se0, rtol=1e-9)
        np.testing.assert_allclose(a.predict(newdata, which="risk"), f.predict(new, which="risk"),
                                   rtol=1e-12)  # fmt: skip
    q_a, q_f = a.quantile(new.to_numpy()), f.quantile(new)
    pd.testing.assert_frame_equal(q_a, q_f)
    t, H = a.baseline_hazard()
    t0, H0 = f.baseline_hazard()
    np.testing.assert_array_equal(t, t0)
    np.testing.assert_allclose(H, H0, rtol=1e-12)
    n = lx.coxph(SURV, LUNG[COVS].to_numpy(), **CASES[case])
    assert list(n.coef) == ["x0", "x1", "x2"]
    np.testing.assert_allclose(list(n.coef.values()), list(f.coef.values()), rtol=1e-12)


def test_stratified_cox_from_arrays():
    f = lx.coxph("Surv(time, status == 2) ~ age + ph.ecog", LUNG, strata="sex")
    a = lx.coxph(SURV, LUNG[["age", "ph.ecog"]], strata=LUNG.sex.to_numpy())
    same_fit(a, f)
    S = a.predict(which="survival", times=[200.0, 400.0])
    np.testing.assert_allclose(S, f.predict(which="survival", times=[200.0, 400.0]), rtol=1e-11)
    t, H = a.baseline_hazard(stratum=2)
    t0, H0 = f.baseline_hazard(stratum=2)
    np.testing.assert_allclose(H, H0, rtol=1e-12)
    # new rows without a stratum: one curve per stratum, as for a formula fit with newdata
    # lacking the strata column
    new = LUNG[["age", "ph.ecog"]].iloc[:2]
    pd.testing.assert_frame_equal(a.quantile(new.to_numpy()), f.quantile(new))
    with pytest.raises(ValueError, match="needs the strata column"):
        a.predict(new.to_numpy(), which="survival", times=[200.0])
    with pytest.raises(ValueError, match=r"strata must have one value per row \(227\)"):
        lx.coxph(SURV, LUNG[["age"]], strata=LUNG.sex.to_numpy()[:5])


def test_surv_validates_on_construction_and_copies():
    t = np.array([5.0, 8.0, 12.0, 3.0])
    d = np.array([1, 0, 1, 1])
    s = lx.Surv(t, d)
    assert len(s) == 4 and s.type == "right" and s.upper is None
    assert s.time.dtype == np.float64 and s.event.dtype == np.float64
    t[0] = 99.0  # the record holds its own copy, read-only
    assert s.time[0] == 5.0
    with pytest.raises(ValueError):
        s.time[0] = 1.0
    with pytest.raises(AttributeError):
        s.type = "interval"
    with pytest.raises(ValueError, match="time has 4 values and event has 3"):
        lx.Surv(t, d[:3])
    with pytest.raises(ValueError, match=r"Rows \[1, 3\] have event codes other than 0/1"):
        lx.Surv(t, [1, 2, 0, 2])
    with pytest.raises(ValueError, match=r"Rows \[2\] have a missing time or event"):
        lx.Surv([1.0, 2.0, np.nan], [1, 0, 1])
    with pytest.raises(ValueError, match=r"Rows \[1\] have infinite times"):
        lx.Surv([1.0, np.inf], [1, 0])
    with pytest.raises(ValueError, match=r"Rows \[0\] have a lower bound above the upper"):
        lx.Surv([3.0, 1.0], [2.0, 2.0], type="interval")
    with pytest.raises(ValueError, match=r"Rows \[1\] have neither a lower nor an upper"):
        lx.Surv([3.0, np.nan], [4.0, np.nan], type="interval")
    with pytest.raises(ValueError, match="type must be 'right' or 'interval'"):
        lx.Surv(t, d, type="counting")
    with pytest.raises(ValueError, match="one value per row"):
        lx.Surv(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(TypeError, match="column name belongs in a formula"):
        lx.Surv("time", "status")
    assert lx.Surv([1.0, 2.0], [2.0, 2.0], type="interval2").type == "interval"
    # times a log-scale survreg cannot take are named at the fit
    with pytest.raises(ValueError, match=r"Rows \[1\] have negative"):
        lx.survreg(lx.Surv([1.0, -2.0, 3.0, 4.0], [1, 1, 0, 1]), np.arange(4.0))
    with pytest.raises(ValueError, match=r"Rows \[1\] have negative times"):
        lx.coxph(lx.Surv([1.0, -2.0, 3.0, 4.0], [1, 1, 0, 1]), np.arange(4.0))


def test_bad_array_input_names_the_argument_or_rows():
    X = LUNG[COVS].to_numpy(dtype=float)
    with pytest.raises(ValueError, match="X has 10 rows and the response has 227"):
        lx.survreg(SURV, X[:10])
    with pytest.raises(ValueError, match="X has 10 rows and the response has 227"):
        lx.coxph(SURV, X[:10])
    with pytest.raises(ValueError, match="X has 10 rows and the response has 227"):
        lx.tobit(LUNG.time, X[:10])
    bad = X.copy()
    bad[[3, 7], 1] = [np.nan, np.inf]
    for fn in (lx.survreg, lx.coxph):
        with pytest.raises(ValueError, match=r"non-finite values in column\(s\) \['x1'\] at "
                                             r"rows \[3, 7\]"):  # fmt: skip
            fn(SURV, bad)
    with pytest.raises(TypeError, match="A formula reads its variables from data"):
        lx.survreg("Surv(time, status == 2) ~ age", X)
    with pytest.raises(TypeError, match="A formula reads its variables from data"):
        lx.coxph("Surv(time, status == 2) ~ age", X)
    with pytest.raises(TypeError, match="or lx.Surv\\(time, event\\)"):
        lx.survreg(LUNG.time.to_numpy(), X)
    with pytest.raises(TypeError, match="needs the data of the formula, or the covariate"):
        lx.coxph(SURV)
    with pytest.raises(TypeError, match="missing='drop' applies to a formula"):
        lx.survreg(SURV, X, missing="drop")
    with pytest.raises(TypeError, match="entry='time' names a column"):
        lx.survreg(SURV, X, entry="time")
    with pytest.raises(TypeError, match="strata='sex' names a column"):
        lx.coxph(SURV, X, strata="sex")
    with pytest.raises(TypeError, match="weights='w' names a column"):
        lx.coxph(SURV, X, weights="w")
    ones = np.column_stack([np.ones(len(X)), X])
    with pytest.raises(ValueError, match=r"\['x0'\] are constant: survreg\(\) adds the intercept"):
        lx.survreg(SURV, ones)
    with pytest.raises(ValueError, match=r"\['x0'\] are constant: the baseline hazard absorbs"):
        lx.coxph(SURV, ones)
    with pytest.raises(ValueError, match="repeated or the intercept's"):
        lx.survreg(SURV, LUNG[COVS].rename(columns={"age": "Intercept"}))
    with pytest.raises(ValueError, match="X has no covariates"):
        lx.coxph(SURV, np.zeros((len(X), 0)))
    with pytest.raises(ValueError, match="interval censoring is not supported"):
        lx.coxph(lx.Surv(INTERVAL.lower, INTERVAL.upper, type="interval"), INTERVAL[["age"]])
    r = lx.survreg(SURV, LUNG[COVS])
    with pytest.raises(ValueError, match=r"newdata lacks the column\(s\) \['ph.ecog'\]"):
        r.predict(LUNG[["age", "sex"]])
    with pytest.raises(ValueError, match="newdata must have 3 columns"):
        r.predict(X[:, :2])


def test_callers_arrays_and_frames_are_not_modified():
    frame, before = LUNG[COVS].copy(), LUNG[COVS].copy()
    # own, writeable copies (pandas with copy-on-write hands out read-only views)
    X = np.array(frame.to_numpy(dtype=float))
    X0 = X.copy()
    t, d = np.array(LUNG.time.to_numpy(dtype=float)), np.array((LUNG.status == 2).to_numpy())
    t0, d0 = t.copy(), d.copy()
    w = 1.0 + np.arange(len(t)) % 3
    w0 = w.copy()
    entry = np.zeros(len(t))
    lx.survreg(lx.Surv(t, d), X, entry=entry).predict(X[:3])
    lx.survreg(lx.Surv(t, d), frame, dist="lognormal").predict(frame.iloc[:3])
    lx.coxph(lx.Surv(t, d), X[:, [0, 2]], weights=w, strata=LUNG.sex.to_numpy()).predict(
        X[:3, [0, 2]], which="lp")  # fmt: skip
    lx.tobit(t, X, left=100.0).predict(X[:2])
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(t, t0)
    np.testing.assert_array_equal(d, d0)
    np.testing.assert_array_equal(w, w0)
    assert np.all(entry == 0) and X.flags.writeable and t.flags.writeable and d.flags.writeable
    pd.testing.assert_frame_equal(frame, before)
