"""lx.predict for GAMs and for the class-imbalance fits.

References: mgcv 1.8-41's ``predict.gam(se.fit = TRUE)`` on gamSim data
(``tests/reference/gam.R``: the link-scale standard errors of the fitted rows,
from the Bayesian covariance Vp); closed forms :math:`\\sqrt{x^\\top V_p x}`
and :math:`|d\\mu/d\\eta|\\sqrt{x^\\top V_p x}` in NumPy; the logistic
probability :math:`\\sigma(x^\\top\\hat\\beta)` and its delta-method SE
:math:`p(1-p)\\sqrt{x^\\top V x}` with the fit's (sandwich) covariance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import likelihax as lx
from likelihax.models.imbalance import predict_proba

REF = Path(__file__).resolve().parents[1] / "reference"


@pytest.fixture(scope="module")
def pois_gam():
    data = pd.read_csv(REF / "gam_data.csv")
    fitted = pd.read_csv(REF / "gam_fitted.csv")
    r = lx.gam("py ~ s(px0) + s(px1) + s(px2) + s(px3, k=10)", data, family="poisson")
    return r, data, fitted


def test_gam_link_se_is_mgcv_predict_se_fit(pois_gam):
    r, data, fitted = pois_gam
    t = lx.predict(r, which="link")
    np.testing.assert_allclose(t.std_error, fitted["poisson_eta_se"], rtol=1e-4)
    np.testing.assert_allclose(np.exp(t.estimate), fitted["poisson"], rtol=1e-5)
    # response scale: mgcv's se.fit of type = "response" is |dmu/deta| se(eta) = mu se(eta)
    tr = lx.predict(r)
    np.testing.assert_allclose(tr.std_error, fitted["poisson"] * fitted["poisson_eta_se"],
                               rtol=2e-4)  # fmt: skip


def test_gam_predict_agrees_with_its_own_predict_and_closed_form(pois_gam):
    r, data, _ = pois_gam
    rng = np.random.default_rng(5)
    new = pd.DataFrame({c: rng.uniform(0.05, 0.95, 7) for c in ("px0", "px1", "px2", "px3")})
    for which in ("response", "link"):
        t = lx.predict(r, new, which=which)
        est, se = r.predict(new, which=which, se=True)
        np.testing.assert_allclose(t.estimate, est, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(t.std_error, se, rtol=1e-10)
    # closed form from the basis and Vp (NumPy, no delta-method code)
    X = r._matrix(new)
    eta = X @ np.array(list(r.coef.values()))
    se_eta = np.sqrt(np.einsum("ij,jk,ik->i", X, r.Vp, X))
    t = lx.predict(r, new)
    np.testing.assert_allclose(t.estimate, np.exp(eta), rtol=1e-10)
    np.testing.assert_allclose(t.std_error, np.exp(eta) * se_eta, rtol=1e-10)
    # intervals on the link scale stay positive and contain the estimate
    tl = lx.predict(r, new, ci_scale="link")
    np.testing.assert_allclose(tl.conf_low, np.exp(eta - 1.959963984540054 * se_eta), rtol=1e-9)
    # simulation intervals: draws from N(beta, Vp), SE within 10% of the delta method
    ts = lx.predict(r, new, which="link", interval="simulation", n_draws=4000, seed=1)
    np.testing.assert_allclose(ts.std_error, se_eta, rtol=0.1)


def test_gam_slopes_of_a_parametric_term_is_its_coefficient():
    rng = np.random.default_rng(2)
    x, z = rng.uniform(0, 1, (2, 200))
    df = pd.DataFrame({"x": x, "z": z, "y": np.sin(5 * x) + 0.7 * z + 0.3 * rng.normal(size=200)})
    r = lx.gam("y ~ z + s(x)", df)
    s = lx.slopes(r, "z")
    np.testing.assert_allclose(s.estimate[0], r.coef["z"], rtol=1e-8)
    np.testing.assert_allclose(s.std_error[0], r.se["z"], rtol=1e-6)
    with pytest.raises(ValueError, match="which must be"):
        lx.predict(r, which="prob")


@pytest.fixture(scope="module")
def imbalance_data():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(400, 2))
    y = (rng.random(400) < 1 / (1 + np.exp(2.0 - X[:, 0] + 0.5 * X[:, 1]))).astype(int)
    return X, y


@pytest.mark.parametrize("kind", ["balanced", "none", "focal"])
def test_imbalance_fit_predicts_its_probability(imbalance_data, kind):
    X, y = imbalance_data
    if kind == "focal":
        f = lx.focal_logit(y, X, gamma=2.0, columns=["a", "b"])
    else:
        f = lx.weighted_logit(y, X, class_weight=None if kind == "none" else "balanced",
                              columns=["a", "b"])  # fmt: skip
    new = np.array([[0.0, 0.0], [1.0, -1.0], [-2.0, 0.5]])
    t = lx.predict(f, new)
    b = np.array([float(f.params[k]) for k in ("intercept", "a", "b")])
    Xn = np.column_stack([np.ones(3), new])
    p = 1 / (1 + np.exp(-(Xn @ b)))
    labels = list(f.labels)
    idx = [labels.index(k) for k in ("intercept", "a", "b")]
    V = np.asarray(f.cov)[np.ix_(idx, idx)]
    np.testing.assert_allclose(t.estimate, p, rtol=1e-10)
    np.testing.assert_allclose(t.estimate, predict_proba(f, new), rtol=1e-10)
    np.testing.assert_allclose(t.std_error, p * (1 - p) * np.sqrt(np.einsum("ij,jk,ik->i", Xn, V, Xn)),
                               rtol=1e-8)  # fmt: skip
    # a DataFrame of the named columns, in any order; the fitted rows by default
    t2 = lx.predict(f, pd.DataFrame({"b": new[:, 1], "a": new[:, 0]}), which="link")
    np.testing.assert_allclose(t2.estimate, Xn @ b, rtol=1e-10)
    assert len(lx.predict(f, se=False)) == 400
    with pytest.raises(ValueError, match="lacks the fitted column"):
        lx.predict(f, pd.DataFrame({"a": [0.0]}))
    with pytest.raises(ValueError, match=r"shape \(m, 2\)"):
        lx.predict(f, np.zeros((2, 3)))


def test_a_fit_without_a_known_model_still_needs_fn():
    import jax.scipy.stats as st

    f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0), {"mu": 0.0},
               {"y": np.array([0.5, 1.5])})  # fmt: skip
    with pytest.raises(TypeError, match="fn="):
        lx.predict(f)


# ----- marginal effects of smooths --------------------------------------------------------
def test_gam_slopes_are_the_derivative_of_the_prediction(pois_gam):
    """lx.slopes through a smooth: each row's dmu/dx against central differences
    of GamResult.predict, its SE against sqrt(g' Vp g) with the gradient
    g = mu (dX/dx + (dX/dx . beta) X) in NumPy (the design's derivative by
    central differences of the basis), and the average effect their mean."""
    r, data, _ = pois_gam
    rng = np.random.default_rng(8)
    new = pd.DataFrame({c: rng.uniform(0.05, 0.95, 6) for c in ("px0", "px1", "px2", "px3")})
    t = lx.slopes(r, "px1", newdata=new, at="all")
    h = 1e-6
    up, down = new.assign(px1=new.px1 + h), new.assign(px1=new.px1 - h)
    np.testing.assert_allclose(t.estimate, (r.predict(up) - r.predict(down)) / (2 * h),
                               rtol=1e-6)  # fmt: skip
    X, dX = r._matrix(new), (r._matrix(up) - r._matrix(down)) / (2 * h)
    beta = np.array(list(r.coef.values()))
    mu = np.exp(X @ beta)
    g = mu[:, None] * (dX + (dX @ beta)[:, None] * X)
    np.testing.assert_allclose(t.std_error, np.sqrt(np.einsum("ij,jk,ik->i", g, r.Vp, g)),
                               rtol=1e-6)  # fmt: skip
    avg = lx.slopes(r, "px1", newdata=new)
    assert avg.estimate[0] == pytest.approx(np.mean(t.estimate), rel=1e-10)
    gm = g.mean(axis=0)
    assert avg.std_error[0] == pytest.approx(np.sqrt(gm @ r.Vp @ gm), rel=1e-6)


@pytest.mark.parametrize("bs", ["cr", "cc", "ps", "tp"])
def test_smooth_slope_is_the_basis_derivative(bs):
    """Smooth.slope against central differences of Smooth.basis, inside the
    data's range and beyond it (cr: clamped, slope 0; cc: periodic; ps and
    tp: linear continuation)."""
    from likelihax.models._smooths import make_smooth

    x = np.random.default_rng(2).uniform(0.0, 1.0, 60)
    sm, _ = make_smooth("x", x, 7, bs)
    at = np.array([0.07, 0.33, 0.52, 0.81, 0.96, 1.4, -0.3])
    h = 1e-6
    fd = (sm.basis(at + h) - sm.basis(at - h)) / (2 * h)
    np.testing.assert_allclose(sm.slope(at), fd, atol=1e-7 * (1 + np.abs(fd).max()))
    if bs == "cr":
        assert np.all(sm.slope(at[5:]) == 0.0)
