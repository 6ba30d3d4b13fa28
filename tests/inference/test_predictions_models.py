"""lx.predict for count, beta, Firth, survival, Cox and dispersion-submodel fits.

References: statsmodels ``ZeroInflatedPoisson.predict``; each model's own
``predict(se=True)`` (tested against R in ``tests/models``), which shares the
JAX prediction function; closed forms for slopes and link-scale intervals.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

import likelihax as lx

sm = pytest.importorskip("statsmodels.api")


@pytest.fixture(scope="module")
def zip_fit():
    rng = np.random.default_rng(4)
    n = 400
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    pi = 1 / (1 + np.exp(-(-0.5 + 0.8 * df.z)))
    mu = np.exp(0.4 + 0.5 * df.x)
    df["y"] = np.where(rng.random(n) < pi, 0, rng.poisson(mu))
    return df, lx.zeroinfl("y ~ x | z", df)


def test_zeroinfl_matches_statsmodels_and_its_predict(zip_fit):
    from statsmodels.discrete.count_model import ZeroInflatedPoisson

    df, r = zip_fit
    ref = ZeroInflatedPoisson(df.y, sm.add_constant(df[["x"]]),
                              exog_infl=sm.add_constant(df[["z"]])).fit(
        disp=0, method="newton", maxiter=200)  # fmt: skip
    t = lx.predict(r)
    np.testing.assert_allclose(t.estimate, ref.predict(which="mean"), rtol=1e-5)
    t0 = lx.predict(r, which="zero")
    np.testing.assert_allclose(t0.estimate, ref.predict(which="prob-zero"), rtol=1e-5)
    mu, se = r.predict(which="zero", se=True)
    np.testing.assert_allclose(t0.std_error, se, rtol=1e-8)
    tp = lx.predict(r, df.iloc[:2], which="prob")
    assert tp.group.tolist()[:3] == ["0", "1", "2"]
    np.testing.assert_allclose(tp.estimate.to_numpy().reshape(2, -1),
                               r.predict(df.iloc[:2], which="prob"), rtol=1e-10)  # fmt: skip


def test_zeroinfl_slope_closed_form(zip_fit):
    from likelihax.inference import slopes

    df, r = zip_fit
    c, z = r.fit.params["count"], r.fit.params["zero"]
    mu = np.exp(float(c["(Intercept)"]) + float(c["x"]) * df.x.to_numpy())
    pi = 1 / (1 + np.exp(-(float(z["(Intercept)"]) + float(z["z"]) * df.z.to_numpy())))
    t = slopes(r)  # x enters the count part, z the zero part
    assert t.term.tolist() == ["x", "z"]
    np.testing.assert_allclose(t.estimate, [np.mean((1 - pi) * mu * float(c["x"])),
                                            np.mean(-pi * (1 - pi) * float(z["z"]) * mu)],
                               rtol=1e-8)  # fmt: skip


def test_survreg_beta_firth_agree_with_their_predict_and_closed_forms():
    rng = np.random.default_rng(8)
    x = rng.normal(size=150)
    t = np.exp(1.0 + 0.5 * x + 0.7 * np.log(rng.exponential(size=150)))
    df = pd.DataFrame({"t": t, "d": (t < 8).astype(int), "x": x})
    s = lx.survreg("Surv(t, d) ~ x", df)
    med, se = s.predict(df.iloc[:5], se=True)
    tm = lx.predict(s, df.iloc[:5])
    np.testing.assert_allclose(tm.estimate, med, rtol=1e-10)
    np.testing.assert_allclose(tm.std_error, se, rtol=1e-8)
    bx = float(s.fit.params["beta"]["x"])
    # d median / dx = median * beta_x (median = exp(x'beta + scale * log(log 2)))
    sl = lx.slopes(s)
    np.testing.assert_allclose(sl.estimate[0], np.mean(s.predict() * bx), rtol=1e-10)

    mu = 1 / (1 + np.exp(-(0.3 + 0.8 * x)))
    b = lx.betareg("y ~ x", pd.DataFrame({"y": rng.beta(mu * 20, (1 - mu) * 20), "x": x}))
    m, se = b.predict(se=True)
    tb = lx.predict(b)
    np.testing.assert_allclose(tb.estimate, m, rtol=1e-10)
    np.testing.assert_allclose(tb.std_error, se, rtol=1e-8)
    bm = float(b.fit.params["mean"]["x"])
    np.testing.assert_allclose(lx.slopes(b).estimate[0], np.mean(m * (1 - m)) * bm, rtol=1e-8)

    X = np.column_stack([np.ones(6), [0.0, 0, 0, 1, 1, 1]])
    fr = lx.firth(np.array([0, 0, 1, 1, 1, 1]), X)
    p, se = fr.predict(se=True)
    tf = lx.predict(fr)
    np.testing.assert_allclose(tf.estimate, p, rtol=1e-10)
    np.testing.assert_allclose(tf.std_error, se, rtol=1e-8)
    np.testing.assert_allclose(tf.estimate[3], 3.5 / 4, rtol=1e-6)  # (3 + 1/2) / (3 + 1)


def test_dispersion_submodel():
    rng = np.random.default_rng(9)
    x, z = rng.normal(size=(2, 400))
    y = 1.0 + x + np.exp(0.5 * (0.2 + 0.6 * z)) * rng.normal(size=400)
    df = pd.DataFrame({"y": y, "x": x, "z": z})
    r = lx.glm("y ~ x", df, dispformula="~ z")
    phi, se = r.predict(df.iloc[:4], which="dispersion", se=True)
    t = lx.predict(r, df.iloc[:4], which="dispersion")
    np.testing.assert_allclose(t.estimate, phi, rtol=1e-10)
    np.testing.assert_allclose(t.std_error, se, rtol=1e-8)
    s = lx.slopes(r)  # the identity-link mean: d mu / dx = beta_x; z not in the mean
    np.testing.assert_allclose(s.estimate, [float(r.fit.params["mean"]["x"]), 0.0],
                               atol=1e-12)  # fmt: skip


def test_cox_risk_and_link_interval():
    rng = np.random.default_rng(12)
    x = rng.normal(size=150)
    t = rng.exponential(np.exp(-0.5 * x))
    r = lx.coxph("Surv(t, d) ~ x", pd.DataFrame({"t": t, "d": 1, "x": x}))
    new = pd.DataFrame({"x": [-1.0, 2.0]})
    risk, se = r.predict(new, which="risk", se=True)
    tr = lx.predict(r, new, which="risk", ci_scale="link")
    np.testing.assert_allclose(tr.estimate, risk, rtol=1e-10)
    np.testing.assert_allclose(tr.std_error, se, rtol=1e-8)
    b, sb = np.log(r.hazard_ratio["x"]), float(r.fit.se["beta"]["x"])
    z = NormalDist().inv_cdf(0.975)
    np.testing.assert_allclose(tr.conf_low, np.exp(new.x * b - z * np.abs(new.x) * sb), rtol=1e-8)
