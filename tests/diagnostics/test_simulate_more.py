"""lx.simulate for GAMs, Cox models and the class-imbalance fits.

References: the families' closed-form moments at the fitted means (NumPy),
with the GAM scale equal to mgcv 1.8-41's ``sig2`` (``tests/reference/gam.R``);
for Cox models the fitted survival curves of ``CoxResult.predict`` (survfit's):
the survival function of the simulated times, pooled over rows, against the
mean of the rows' curves, and the event probability of a censored row,
:math:`1 - S(C \\mid x)`, each within five Monte Carlo standard errors
(fixed seeds).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import likelihax as lx

REF = Path(__file__).resolve().parents[1] / "reference"


def _within(observed, expected, sd, k=5.0):
    assert np.all(np.abs(observed - expected) <= k * sd + 1e-12), np.max(
        np.abs(observed - expected) / np.maximum(sd, 1e-300))


# ----- GAMs ----------------------------------------------------------------------------
def test_gaussian_gam_draws_with_the_reml_scale():
    data = pd.read_csv(REF / "gam_data.csv")
    ref = pd.read_csv(REF / "gam.csv")
    scale = float(ref[(ref.model == "gaussian3") & (ref.what == "scale")].value.iloc[0])
    r = lx.gam("y ~ s(x0) + s(x1) + s(x2)", data)
    sims = lx.simulate(r, 200, seed=3)
    mu = r.predict()
    z = (sims - mu) / np.sqrt(scale)  # N(0, 1) with mgcv's scale
    N = z.size
    assert abs(z.mean()) < 5 / np.sqrt(N)
    assert abs((z**2).mean() - 1) < 5 * np.sqrt(2 / N)
    assert lx.quantile_residuals(r).method == "exact"


def test_poisson_gam_draws_its_family():
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, 300)
    df = pd.DataFrame({"x": x, "y": rng.poisson(np.exp(0.5 + np.sin(6 * x)))})
    r = lx.gam("y ~ s(x, k=6)", df, family="poisson")
    sims = r.simulate(300, seed=1)
    mu = r.predict()
    assert np.array_equal(sims, np.round(sims)) and sims.min() >= 0
    z = (sims - mu) / np.sqrt(mu)
    assert abs(z.mean()) < 5 / np.sqrt(z.size)
    assert abs((z**2).mean() - 1) < 5 * (z**2).std() / np.sqrt(z.size)
    new = lx.simulate(r, 4000, seed=2, newdata=pd.DataFrame({"x": [0.3]}))
    m = r.predict(pd.DataFrame({"x": [0.3]}))[0]
    _within(new.mean(), m, np.sqrt(m / 4000))


# ----- Cox models ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cox_data():
    rng = np.random.default_rng(8)
    n = 300
    x = rng.normal(size=n)
    g = rng.integers(0, 2, n)
    t = np.round(rng.weibull(1.5, n) * np.exp(-0.6 * x) * (1 + g), 2)  # ties
    c = rng.exponential(3.0, n)
    return pd.DataFrame({"t": np.minimum(t, c), "d": (t <= c).astype(int), "x": x, "g": g,
                         "t_full": t})  # fmt: skip


def test_cox_simulated_survival_is_the_mean_fitted_curve(cox_data):
    # no censoring in the data: the draws are censored only beyond the last
    # event time, so their Kaplan-Meier curve before it is the empirical one
    df = cox_data.assign(t=cox_data["t_full"], d=1)
    r = lx.coxph("Surv(t, d) ~ x", df)
    S = 200
    times, events = r.simulate(S, seed=5), r.simulate_events(S, seed=5)
    assert np.all(events[times < df.t.max()] == 1)
    grid = np.quantile(df.t, [0.1, 0.25, 0.5, 0.75, 0.9])
    curve = r.predict(which="survival", times=grid).mean(axis=0)
    km = np.array([(times > g).mean() for g in grid])
    # MC sd of the pooled indicator mean: independent rows, per-row variance S_i(1-S_i)
    Si = r.predict(which="survival", times=grid)
    sd = np.sqrt((Si * (1 - Si)).sum(axis=0) / S) / df.shape[0]
    _within(km, curve, sd)
    # simulated times are the fitted event times (or the last observed time)
    ev_times = np.r_[r.baseline_hazard()[0], df.t.max()]
    assert np.isin(times, ev_times).all()


def test_cox_keeps_the_observed_censoring(cox_data):
    r = lx.coxph("Surv(t, d) ~ x", cox_data)
    S = 2000
    times, events = r.simulate(S, seed=7), r.simulate_events(S, seed=7)
    cens = np.flatnonzero(cox_data.d.values == 0)
    C = cox_data.t.values[cens]
    assert np.all(times[:, cens] <= C + 1e-12)
    assert np.all(times[:, cens][events[:, cens] == 0] == np.broadcast_to(C, (S, cens.size))[
        events[:, cens] == 0])
    # P(event) of a censored row is P(T <= C) = 1 - S(C | x)
    rows = cens[:25]
    Sc = np.array([r.predict(cox_data.iloc[[i]], which="survival", times=[cox_data.t.values[i]])[0, 0]
                   for i in rows])  # fmt: skip
    _within(events[:, rows].mean(axis=0), 1 - Sc, np.sqrt(Sc * (1 - Sc) / S))
    u = lx.quantile_residuals(r, uniforms=np.full(cox_data.shape[0], 0.5))
    assert u.method == "exact" and np.all(np.isfinite(u.residuals))


def test_cox_strata_draw_from_their_own_baseline(cox_data):
    r = lx.coxph("Surv(t, d) ~ x", cox_data, strata="g")
    S = 400
    times, events = r.simulate(S, seed=2), r.simulate_events(S, seed=2)
    for k in ("0", "1"):
        rows = np.flatnonzero(cox_data.g.astype(str).values == k)
        tk = r.baseline_hazard(stratum=k)[0]
        drawn = times[:, rows][events[:, rows] == 1]
        assert np.isin(drawn, tk).all()
    new = pd.DataFrame({"x": [0.0], "g": [1]})
    draws = lx.simulate(r, 4000, seed=3, newdata=new)[:, 0]
    grid = np.quantile(cox_data.t[cox_data.g == 1], [0.2, 0.5])
    Sx = r.predict(new, which="survival", times=grid)[0]
    _within(np.array([(draws > g).mean() for g in grid]), Sx, np.sqrt(Sx * (1 - Sx) / 4000))


# ----- class-imbalance fits ---------------------------------------------------------------
def test_imbalance_fits_draw_bernoulli_with_their_probability():
    from likelihax.models.imbalance import predict_proba

    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 2))
    y = (rng.random(300) < 1 / (1 + np.exp(2.0 - X[:, 0]))).astype(int)
    for f in (lx.weighted_logit(y, X), lx.focal_logit(y, X, gamma=1.0)):
        p = predict_proba(f, X)
        sims = lx.simulate(f, 400, seed=1)
        assert set(np.unique(sims)) <= {0.0, 1.0}
        z = (sims - p) / np.sqrt(p * (1 - p))
        assert abs(z.mean()) < 5 / np.sqrt(z.size)
        new = lx.simulate(f, 5000, seed=2, newdata=np.array([[1.0, 0.0]]))
        pn = predict_proba(f, np.array([[1.0, 0.0]]))[0]
        _within(new.mean(), pn, np.sqrt(pn * (1 - pn) / 5000))
