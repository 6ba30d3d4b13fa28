"""Parametric survival (AFT) and Tobit regression against survival::survreg and AER::tobit.

Reference numbers: tests/reference/survreg.R (survival 3.5-3, AER 1.2-10,
R 4.2.2) -> survreg_results.csv, data in survreg_data_*.csv: lung (right
censoring; four distributions), ovarian, lung with interval and left
censoring, and tobin (Tobit, with and without a right limit). survreg's
standard errors come from its analytic information, so everything is
compared at 1e-9 or better. Left truncation (which survreg does not fit) is
checked against the closed form of the exponential model.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest

import likelihax as lx

REF = pathlib.Path(__file__).resolve().parents[1] / "reference"
RES = pd.read_csv(REF / "survreg_results.csv")


def ref(model, kind, term):
    r = RES[(RES.model == model) & (RES.kind == kind) & (RES.term == str(term))]
    assert len(r) == 1, (model, kind, term)
    return float(r.value.iloc[0])


def data(name):
    return pd.read_csv(REF / f"survreg_data_{name}.csv")


LUNG = "Surv(time, status == 2) ~ age + sex + ph.ecog"
CASES = {
    "lung_weibull": (lambda: lx.survreg(LUNG, data("lung"))),
    "lung_exponential": (lambda: lx.survreg(LUNG, data("lung"), dist="exponential")),
    "lung_lognormal": (lambda: lx.survreg(LUNG, data("lung"), dist="lognormal")),
    "lung_loglogistic": (lambda: lx.survreg(LUNG, data("lung"), dist="loglogistic")),
    "ovarian_weibull": (lambda: lx.survreg("Surv(futime, fustat) ~ age + ecog.ps",
                                           data("ovarian"))),
    "lung_interval": (lambda: lx.survreg("Surv(lower, upper, type='interval') ~ age + sex",
                                         data("lung_interval"))),
    "tobin_tobit": (lambda: lx.tobit("durable ~ age + quant", data("tobin"))),
    "tobin_tobit2": (lambda: lx.tobit("durable ~ age + quant", data("tobin"), right=5.0)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_survreg(name):
    r = CASES[name]()
    assert r.converged
    assert r.loglik == pytest.approx(ref(name, "stat", "logLik"), rel=1e-12)
    assert r.n_params == ref(name, "stat", "df") and r.nobs == ref(name, "stat", "nobs")
    for k, v in r.coef.items():
        assert v == pytest.approx(ref(name, "coef", k), rel=1e-9), k
        assert float(r.se["beta"][k]) == pytest.approx(ref(name, "se", k), rel=1e-9), k
    if r.dist != "exponential":
        assert r.scale == pytest.approx(ref(name, "scale", "scale"), rel=1e-9)
        # R reports Log(scale): se(log s) = se(s) / s
        assert float(r.se["scale"]) / r.scale == pytest.approx(ref(name, "se", "Log(scale)"),
                                                               rel=1e-9)  # fmt: skip
    new = (data("lung") if name.startswith("lung_") and name != "lung_interval"
           else data({"ovarian_weibull": "ovarian", "lung_interval": "lung_interval"}
                     .get(name, "tobin"))).iloc[:5]  # fmt: skip
    np.testing.assert_allclose(r.predict(new, which="lp"),
                               [ref(name, "lp", i) for i in range(1, 6)], rtol=1e-10)  # fmt: skip
    if r.dist != "gaussian":
        med, se = r.predict(new, se=True)
        np.testing.assert_allclose(med, [ref(name, "median", i) for i in range(1, 6)],
                                   rtol=1e-9)  # fmt: skip
        np.testing.assert_allclose(se, [ref(name, "median_se", i) for i in range(1, 6)],
                                   rtol=1e-8)  # fmt: skip


def test_survival_curves_and_quantiles_agree():
    r = CASES["lung_weibull"]()
    new = data("lung").iloc[:3]
    q = r.predict(new, which="quantile", p=[0.25, 0.5, 0.75])
    assert q.shape == (3, 3) and np.all(np.diff(q, axis=1) > 0)
    for i in range(3):
        S = r.predict(new.iloc[[i]], which="survival", times=q[i])
        np.testing.assert_allclose(S[0], [0.75, 0.5, 0.25], rtol=1e-12)
    S, se = r.predict(new, which="survival", times=[100.0, 300.0], se=True)
    assert S.shape == se.shape == (3, 2) and np.all((se > 0) & (se < 0.2))


def test_left_truncation_matches_the_exponential_closed_form():
    """Exponential, no covariates, delayed entry e_i: the rate's MLE is
    d / sum(t_i - e_i) (memoryless), with SE rate / sqrt(d); entry 0 for all
    is the fit without truncation."""
    rng = np.random.default_rng(5)
    n = 400
    e = rng.uniform(0, 2, n)
    t = e + rng.exponential(1 / 0.7, n)
    c = e + rng.uniform(0.5, 4, n)
    df = pd.DataFrame({"t": np.minimum(t, c), "d": (t <= c).astype(int), "e": e})
    r = lx.survreg("Surv(t, d) ~ 1", df, dist="exponential", entry="e")
    rate = df.d.sum() / (df.t - df.e).sum()
    assert np.exp(-r.coef["(Intercept)"]) == pytest.approx(rate, rel=1e-10)
    assert float(r.se["beta"]["(Intercept)"]) == pytest.approx(1 / np.sqrt(df.d.sum()), rel=1e-8)
    plain = lx.survreg("Surv(t, d) ~ 1", df, dist="weibull")
    zero = lx.survreg("Surv(t, d) ~ 1", df, dist="weibull", entry=np.zeros(n))
    assert zero.loglik == pytest.approx(plain.loglik, rel=1e-13)


def test_bad_input_names_rows():
    lung = data("lung")
    with pytest.raises(ValueError, match=r"event codes other than 0/1 \(write e.g."):
        lx.survreg("Surv(time, status) ~ age", lung)
    bad = lung.assign(time=lung.time.astype(float))
    bad.loc[4, "time"] = -3.0
    with pytest.raises(ValueError, match=r"Rows \[4\] have negative"):
        lx.survreg("Surv(time, status == 2) ~ age", bad)
    iv = data("lung_interval").assign(lower=lambda d: d.lower.astype(float))
    iv.loc[0, "lower"] = 1e6
    with pytest.raises(ValueError, match=r"Rows \[0\] have a lower bound above the upper"):
        lx.survreg("Surv(lower, upper, type='interval') ~ age", iv)
    with pytest.raises(ValueError, match="enter at or after"):
        lx.survreg("Surv(time, status == 2) ~ age", lung, entry=lung.time + 1.0)
    with pytest.raises(ValueError, match="dist must be one of"):
        lx.survreg(LUNG, lung, dist="gompertz")
    with pytest.raises(ValueError, match="type='interval'"):
        lx.survreg("Surv(a, b, type='counting') ~ age", lung)
    with pytest.raises(ValueError, match="must be Surv"):
        lx.survreg("time ~ age", lung)
    before = lung.copy()
    lx.survreg(LUNG, lung)
    pd.testing.assert_frame_equal(lung, before)
