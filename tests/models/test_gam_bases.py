"""``lx.gam``'s cyclic (``"cc"``), P-spline (``"ps"``), thin-plate (``"tp"``) smooths vs mgcv.

References: ``tests/reference/gam_bases.R`` (mgcv 1.8-41, REML; Laplace for
the Poisson and binomial models) -> ``gam_bases.csv`` (lambda, EDF per term,
the criterion, intercept, scale, the linear predictor at new values) and
``gam_bases_fitted.csv`` (fitted values and the linear predictor's standard
errors at every 8th row); data ``gam_data.csv`` (gam.R) and
``gam_bases_data.csv`` (a periodic covariate ``t`` for the cyclic models).
``lambda`` is the coefficient of the unscaled penalty (mgcv's sp / S.scale,
divided by the scale for the Gaussian models). The thin-plate basis is mgcv's
up to a rotation of the penalized coefficients, which leaves the fit and the
criterion unchanged.

The penalties in closed form: the P-spline's is :math:`D^\\top D` (second
differences); the cyclic and thin-plate ones integrate the squared second
derivative of the basis (by quadrature), and the cyclic basis has equal
value and first two derivatives at the two end knots.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import likelihax as lx
from likelihax.models._smooths import (cc_basis, cc_penalty, make_smooth, place_knots, ps_knots,
                                       ps_penalty)  # fmt: skip

REF = Path(__file__).resolve().parents[1] / "reference"
DATA = pd.read_csv(REF / "gam_data.csv")
CYC = pd.read_csv(REF / "gam_bases_data.csv")
R = pd.read_csv(REF / "gam_bases.csv")
FITTED = pd.read_csv(REF / "gam_bases_fitted.csv")
MODELS = {
    "cc_gaussian": ("y ~ x + s(t, bs='cc', k=12)", CYC, "gaussian"),
    "cc_binomial": ("by ~ s(t, bs='cc') + s(x, bs='tp', k=6)", CYC, "binomial"),
    "ps_gaussian": ("y ~ s(x0, bs='ps') + s(x1, bs='ps') + s(x2, bs='ps', k=12)", DATA,
                    "gaussian"),
    "ps_poisson": ("py ~ s(px0, bs='ps') + s(px1, bs='ps') + s(px2, bs=\"ps\")", DATA,
                   "poisson"),
    "tp_gaussian": ("y ~ s(x0, bs='tp') + s(x1, bs='tp') + s(x2, bs='tp', k=12)", DATA,
                    "gaussian"),
    "tp_poisson": ("py ~ s(px0, bs='tp') + s(px1, bs='tp') + s(px2, bs='tp') + s(px3, bs='tp')",
                   DATA, "poisson"),
}  # fmt: skip
NEW_X = [-0.1, 0.25, 0.6, 1.15]  # the new values of every covariate (gam_bases.R)


def _ref(model, what, term=""):
    r = R[(R.model == model) & (R.what == what) & (R.term.fillna("") == term)]
    return float(r.value.iloc[0])


@pytest.mark.parametrize("model", list(MODELS))
def test_matches_mgcv(model):
    formula, data, family = MODELS[model]
    before = data.copy()
    r = lx.gam(formula, data, family=family)
    pd.testing.assert_frame_equal(data, before)  # the caller's frame is untouched
    assert r.converged and not r.at_limit
    for s in r.smooths:
        np.testing.assert_allclose(float(r.fit.params["lambda"][s.label]),
                                   _ref(model, "lambda", s.label), rtol=2e-4)  # fmt: skip
        np.testing.assert_allclose(r.edf[s.label], _ref(model, "edf", s.label), rtol=5e-5)
    np.testing.assert_allclose(r.edf_total, _ref(model, "edf_total"), rtol=1e-5)
    # the same criterion, constants included; ours at least as high
    reml = -_ref(model, "reml")
    assert abs(r.loglik - reml) <= 1e-8 * abs(reml) and r.loglik >= reml - 1e-9 * abs(reml)
    np.testing.assert_allclose(r.coef["(Intercept)"], _ref(model, "intercept"), rtol=1e-6)
    np.testing.assert_allclose(r.se["(Intercept)"], _ref(model, "intercept_se"), rtol=1e-5)
    if family == "gaussian":
        np.testing.assert_allclose(float(r.fit.params["sigma"]) ** 2, _ref(model, "scale"),
                                   rtol=1e-6)  # fmt: skip
    rows = FITTED["row"].to_numpy() - 1
    np.testing.assert_allclose(r.predict()[rows], FITTED[model], rtol=1e-5)
    _, se = r.predict(which="link", se=True)
    np.testing.assert_allclose(se[rows], FITTED[model + "_eta_se"], rtol=1e-4)
    # new values: the cyclic basis wraps them, the others continue linearly
    cols = [c for c in data.columns if c in formula.split("~")[1]]
    new = pd.DataFrame({c: NEW_X for c in cols})
    eta = [_ref(model, f"eta_new{i}") for i in range(1, 5)]
    np.testing.assert_allclose(r.predict(new, which="link"), eta, rtol=1e-5, atol=1e-6)


def test_explicit_cr_basis_is_the_default():
    a = lx.gam("y ~ s(x0, k=8) + s(x1)", DATA)
    b = lx.gam("y ~ s(x0, bs='cr', k=8) + s(x1, bs = \"cr\")", DATA)
    assert [s.bs for s in b.smooths] == ["cr", "cr"] and len(b.smooths[0].knots) == 8
    np.testing.assert_allclose(b.loglik, a.loglik, rtol=1e-12)
    np.testing.assert_allclose(b.predict(), a.predict(), rtol=1e-10)


# ----- the penalties in closed form ----------------------------------------------------
def _second_derivative_integral(f, x):
    h = x[1] - x[0]
    f2 = (f[2:] - 2 * f[1:-1] + f[:-2]) / h**2
    return np.sum(0.5 * (f2[1:] ** 2 + f2[:-1] ** 2)) * h


def test_ps_penalty_is_the_squared_second_differences():
    k = 9
    D = np.zeros((k - 2, k))
    for i in range(k - 2):
        D[i, i:i + 3] = [1.0, -2.0, 1.0]
    np.testing.assert_array_equal(ps_penalty(k), D.T @ D)
    beta = np.sin(np.arange(k) * 1.3) + 0.1 * np.arange(k) ** 2
    np.testing.assert_allclose(beta @ ps_penalty(k) @ beta,
                               np.sum((beta[2:] - 2 * beta[1:-1] + beta[:-2]) ** 2), rtol=1e-12)
    # the centred smooth's penalty is that of its coefficients in the B-spline basis
    x = DATA.x1.to_numpy()
    sm, X = make_smooth("x1", x, k, "ps")
    np.testing.assert_allclose(sm.S, sm.Z.T @ (D.T @ D) @ sm.Z, atol=1e-12)
    np.testing.assert_allclose(X.sum(axis=0), 0.0, atol=1e-10)
    t = ps_knots(x, k)  # evenly spaced, three intervals beyond the widened range
    assert t.size == k + 4 and np.allclose(np.diff(t), np.diff(t)[0])
    lo, hi = x.min() - 0.001 * np.ptp(x), x.max() + 0.001 * np.ptp(x)
    np.testing.assert_allclose([t[3], t[-4]], [lo, hi], rtol=1e-12)


def _derivatives_at(f, at, a, b):
    """Value and first two derivatives at ``at`` of ``f``, a cubic on [a, b]."""
    u = np.linspace(a, b, 7)
    c = np.polyfit(u - at, f(u), 3)
    return np.array([c[3], c[2], 2 * c[1]])


def test_cc_basis_is_periodic_and_its_penalty_the_integrated_squared_second_derivative():
    knots = np.array([0.0, 0.1, 0.35, 0.5, 0.8, 1.0])
    beta = np.array([0.3, -1.0, 0.4, 2.0, -0.5])

    def f(x):
        return cc_basis(x, knots) @ beta

    start = _derivatives_at(f, knots[0], knots[0], knots[1])
    end = _derivatives_at(f, knots[-1], knots[-2], knots[-1])
    np.testing.assert_allclose(end, start, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(f(knots[:-1]), beta, atol=1e-12)  # values at the knots
    np.testing.assert_allclose(f(np.array([1.3, -0.2])), f(np.array([0.3, 0.8])), atol=1e-12)
    x = np.arange(-1, 200002) / 200000  # one step beyond each end: f wraps round
    np.testing.assert_allclose(beta @ cc_penalty(knots) @ beta,
                               _second_derivative_integral(f(x), x), rtol=1e-5)  # fmt: skip
    # only constants are unpenalized; centred, the penalty has full rank
    assert np.allclose(cc_penalty(knots) @ np.ones(5), 0)
    sm, X = make_smooth("t", CYC.t.to_numpy(), 10, "cc")
    assert X.shape[1] == 8 and sm.rank == 8
    np.testing.assert_allclose(sm.knots, place_knots(CYC.t, 10), rtol=1e-15)


def test_tp_penalty_is_the_integrated_squared_second_derivative():
    x = DATA.x2.to_numpy()
    sm, X = make_smooth("x2", x, 10, "tp")
    assert X.shape == (x.size, 9) and sm.rank == 8  # one linear function unpenalized
    rng = np.random.default_rng(3)
    beta = rng.normal(size=9)
    grid = np.linspace(x.min(), x.max(), 200001)  # linear beyond the knots: f'' = 0 there
    f = sm.basis(grid) @ beta
    np.testing.assert_allclose(beta @ sm.S @ beta, _second_derivative_integral(f, grid),
                               rtol=1e-5)  # fmt: skip
    outside = sm.basis(np.array([x.max() + 0.1, x.max() + 0.2, x.max() + 0.3])) @ beta
    np.testing.assert_allclose(np.diff(outside, 2), 0.0, atol=1e-10)
    # the data's columns have unit root mean square before centring (mgcv's scaling)
    raw = sm._raw(x)
    np.testing.assert_allclose(np.sqrt(np.mean(raw**2, axis=0)), 1.0, rtol=1e-12)


# ----- bad input ---------------------------------------------------------------------------
def test_bad_smooth_terms_are_named():
    with pytest.raises(ValueError, match=r"s\(x0, bs='ad'\): unknown basis 'ad'; the "
                                         r"supported bases are 'cr', 'cc', 'ps', 'tp'"):
        lx.gam("y ~ s(x0, bs='ad')", DATA)
    with pytest.raises(ValueError, match=r"s\(x0, m=3\): s\(\) takes .*'cr', 'cc', 'ps', "
                                         r"'tp'; got 'm=3'"):
        lx.gam("y ~ s(x0, m=3)", DATA)
    with pytest.raises(ValueError, match=r"s\(x0, bs='cc'\): k = 3 knots need 4 <= k"):
        lx.gam("y ~ s(x0, bs='cc', k=3)", DATA)
    with pytest.raises(ValueError, match=r"s\(x0, bs='ps'\): k = 3 basis functions need 4"):
        lx.gam("y ~ s(x0, bs='ps', k=3)", DATA)
    small = pd.DataFrame({"x": np.repeat(np.arange(5.0), 4), "y": np.arange(20.0)})
    with pytest.raises(ValueError, match=r"s\(x, bs='tp'\): k = 6 basis functions need "
                                         r"3 <= k <= 5"):
        lx.gam("y ~ s(x, bs='tp', k=6)", small)
    with pytest.raises(ValueError, match=r"s\(x0, k=ten\)"):
        lx.gam("y ~ s(x0, k=ten)", DATA)
