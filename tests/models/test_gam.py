"""Penalized regression splines with REML smoothing parameters (``lx.gam``) against mgcv.

References: ``tests/reference/gam.R`` (mgcv 1.8-41 on its ``gamSim(1)``
examples, cubic regression splines with k = 10, REML) -> ``gam.csv``,
``gam_fitted.csv``, data ``gam_data.csv``. ``lambda`` there is mgcv's
smoothing parameter for the unscaled penalty (divided by the scale for the
Gaussian models), likelihax's ``fit.params["lambda"]``. The REML (LAML)
criterion is mgcv's ``gcv.ubre`` with its constants, minus likelihax's
marginal log-likelihood.

* ``gaussian3`` (three smooths) and ``poisson`` (four, LAML): everything to
  mgcv's optimizer tolerance.
* ``gaussian`` (four smooths): the REML criterion of s(x3) keeps rising
  towards lambda = infinity (a linear effect); mgcv stops at lambda = 262
  (EDF 1.0009), likelihax reports the smooth at its linear limit, holds its
  lambda there, and reaches a higher criterion.
* The penalty ``cr_penalty`` integrates the squared second derivative of
  formulaic's basis (checked by quadrature of finite differences).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import likelihax as lx
from likelihax.models._smooths import cr_basis
from likelihax.models.gam import cr_penalty, place_knots

REF = Path(__file__).resolve().parents[1] / "reference"
DATA = pd.read_csv(REF / "gam_data.csv")
R = pd.read_csv(REF / "gam.csv")
FITTED = pd.read_csv(REF / "gam_fitted.csv")
MODELS = {
    "gaussian3": ("y ~ s(x0) + s(x1) + s(x2)", "gaussian"),
    "poisson": ("py ~ s(px0) + s(px1) + s(px2) + s(px3, k=10)", "poisson"),
    "gaussian": ("y ~ s(x0) + s(x1) + s(x2) + s(x3)", "gaussian"),
}


@pytest.fixture(scope="module")
def fits():
    before = DATA.copy()
    out = {m: lx.gam(f, DATA, family=fam) for m, (f, fam) in MODELS.items()}
    pd.testing.assert_frame_equal(DATA, before)  # the caller's frame is untouched
    return out


def _ref(model, what, term=""):
    r = R[(R.model == model) & (R.what == what) & (R.term.fillna("") == term)]
    return float(r.value.iloc[0])


@pytest.mark.parametrize("model", ["gaussian3", "poisson"])
def test_matches_mgcv(fits, model):
    r = fits[model]
    assert r.converged and not r.at_limit
    for s in r.smooths:
        np.testing.assert_allclose(float(r.fit.params["lambda"][s.label]),
                                   _ref(model, "lambda", s.label), rtol=2e-4)  # fmt: skip
        np.testing.assert_allclose(r.edf[s.label], _ref(model, "edf", s.label), rtol=5e-5)
        knots = R[(R.model == model) & (R.term == s.label) & R.what.str.startswith("knot")]
        np.testing.assert_allclose(s.knots, knots.value.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(r.edf_total, _ref(model, "edf_total"), rtol=1e-5)
    # the same criterion, constants included; ours at least as high
    reml = -_ref(model, "reml")
    assert abs(r.loglik - reml) <= 1e-8 * abs(reml) and r.loglik >= reml - 1e-9 * abs(reml)
    np.testing.assert_allclose(r.coef["(Intercept)"], _ref(model, "intercept"), rtol=1e-7)
    np.testing.assert_allclose(r.se["(Intercept)"], _ref(model, "intercept_se"), rtol=1e-5)
    if model == "gaussian3":
        np.testing.assert_allclose(float(r.fit.params["sigma"]) ** 2, _ref(model, "scale"),
                                   rtol=1e-6)  # fmt: skip
    np.testing.assert_allclose(r.predict(), FITTED[model], rtol=1e-5)
    _, se = r.predict(which="link", se=True)
    np.testing.assert_allclose(se, FITTED[model + "_eta_se"], rtol=1e-4)


def test_a_smooth_at_its_linear_limit_is_reported(fits):
    r = fits["gaussian"]
    assert r.converged and r.at_limit == ("s(x3)",)
    assert abs(r.edf["s(x3)"] - 1.0) < 1e-3
    reml = -_ref("gaussian", "reml")
    assert r.loglik > reml  # mgcv stopped short of the limit
    for lab in ("s(x0)", "s(x1)", "s(x2)"):
        np.testing.assert_allclose(r.edf[lab], _ref("gaussian", "edf", lab), rtol=1e-3)
    assert "s(x3)" in r.summary() and "at lambda = infinity" in r.summary()
    np.testing.assert_allclose(r.predict(), FITTED["gaussian"], atol=2e-3)


def test_predictions_at_new_rows_use_the_fitted_basis(fits):
    r = fits["poisson"]
    new = DATA[["px0", "px1", "px2", "px3"]].iloc[:7]
    mu, se = r.predict(new, se=True)
    np.testing.assert_allclose(mu, r.predict()[:7], rtol=1e-12)
    eta, se_eta = r.predict(new, which="link", se=True)
    np.testing.assert_allclose(se, mu * se_eta, rtol=1e-12)  # delta method, log link


def test_penalty_is_the_integrated_squared_second_derivative():
    knots = np.array([0.0, 0.1, 0.35, 0.5, 0.8, 1.0])
    beta = np.array([0.3, -1.0, 0.4, 2.0, -0.5, 0.1])
    x = np.linspace(0.0, 1.0, 200001)
    f = cr_basis(x, knots) @ beta
    h = x[1] - x[0]
    f2 = (f[2:] - 2 * f[1:-1] + f[:-2]) / h**2
    integral = np.sum(0.5 * (f2[1:] ** 2 + f2[:-1] ** 2)) * h
    np.testing.assert_allclose(beta @ cr_penalty(knots) @ beta, integral, rtol=1e-5)


def test_knots_follow_mgcv_place_knots():
    assert place_knots(np.arange(11.0), 6).tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    with pytest.raises(ValueError, match="k = 12 knots"):
        place_knots(np.arange(11.0), 12)


def test_bad_terms_are_named():
    with pytest.raises(ValueError, match=r"s\(x0, bs='ad'\): unknown basis"):
        lx.gam("y ~ s(x0, bs='ad')", DATA)
    with pytest.raises(ValueError, match="No s\\(\\) term or penalty"):
        lx.gam("y ~ x0", DATA)
    with pytest.raises(ValueError, match="k = 500 knots"):
        lx.gam("y ~ s(x0, k=500)", DATA)


# ----- quadratic penalties on parametric coefficients (mgcv's paraPen) ------------------
PARAPEN = pd.read_csv(REF / "gam_parapen.csv")


@pytest.mark.parametrize("model", ["gaussian", "poisson"])
def test_ridge_penalty_with_reml_matches_mgcv_parapen(model):
    ref = PARAPEN[PARAPEN.model == model].set_index("what").value
    p = "p" if model == "poisson" else ""
    cols = [f"{p}x0", f"{p}x1", f"{p}x3"]
    r = lx.gam(f"{p}y ~ {' + '.join(cols)} + s({p}x2)", DATA,
               family=model, penalty={"ridge": cols})  # fmt: skip
    assert r.converged and not r.at_limit
    # (the criterion is flat in lambda: mgcv's tolerance leaves 2e-4 there)
    np.testing.assert_allclose(float(r.fit.params["lambda"]["ridge"]), ref["lambda_penalty"],
                               rtol=1e-3)  # fmt: skip
    np.testing.assert_allclose(float(r.fit.params["lambda"][f"s({p}x2)"]), ref["lambda_smooth"],
                               rtol=1e-3)  # fmt: skip
    np.testing.assert_allclose(r.edf["ridge"], ref["edf_penalty"], rtol=2e-5)
    np.testing.assert_allclose(r.edf_total, ref["edf_total"], rtol=2e-5)
    assert abs(r.loglik + ref["reml"]) <= 1e-8 * ref["reml"]
    assert r.loglik >= -ref["reml"] - 1e-9 * ref["reml"]
    for i, c in enumerate(cols, 1):
        np.testing.assert_allclose(r.coef[c], ref[f"coef{i}"], rtol=2e-5, atol=1e-6)
        np.testing.assert_allclose(r.se[c], ref[f"se{i}"], rtol=2e-5)


def test_a_fixed_ridge_penalty_is_the_penalized_least_squares():
    rng = np.random.default_rng(8)
    n = 120
    df = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    df["y"] = 1.0 + df.a - 0.5 * df.b + 0.8 * rng.normal(size=n)
    lam = 0.7  # the log-density's coefficient: penalty lam * phi on the RSS scale
    r = lx.gam("y ~ a + b + c", df, penalty={"ridge": ["a", "b", "c"]}, sp={"ridge": lam})
    sigma2 = float(r.fit.params["sigma"]) ** 2
    X = np.column_stack([np.ones(n), df[["a", "b", "c"]]])
    P = np.diag([0.0, 1.0, 1.0, 1.0]) * lam * sigma2
    beta = np.linalg.solve(X.T @ X + P, X.T @ df.y)
    np.testing.assert_allclose([r.coef[c] for c in ("(Intercept)", "a", "b", "c")], beta,
                               rtol=1e-9)  # fmt: skip
    Vp = sigma2 * np.linalg.inv(X.T @ X + P)
    np.testing.assert_allclose(r.se["b"], np.sqrt(Vp[2, 2]), rtol=1e-9)
    np.testing.assert_allclose(r.edf_total, np.trace(np.linalg.solve(X.T @ X + P, X.T @ X)),
                               rtol=1e-9)  # fmt: skip


def test_bad_penalties_are_named():
    with pytest.raises(ValueError, match="'zz' is not a penalizable column"):
        lx.gam("y ~ x0 + s(x1)", DATA, penalty={"r": ["zz"]})
    with pytest.raises(ValueError, match="symmetric 1 x 1"):
        lx.gam("y ~ x0 + s(x1)", DATA, penalty={"r": (["x0"], np.eye(2))})
    with pytest.raises(ValueError, match="sp names 'nope'"):
        lx.gam("y ~ x0 + s(x1)", DATA, sp={"nope": 1.0})
