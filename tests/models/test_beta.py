"""Beta regression against statsmodels' BetaModel (in process, the same data).

statsmodels' ``BetaModel`` (mean-precision parametrisation, log link for the
precision, analytic derivatives) is fitted by Newton to a tight tolerance
beside ``lx.betareg``; log-likelihoods, coefficients and standard errors are
compared at 1e-8, for the logit and probit mean links, with and without a
precision submodel. Predictions are checked against the closed forms.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import likelihax as lx


def _data(n=400, seed=7):
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=(2, n))
    mu, phi = 1 / (1 + np.exp(-(-0.3 + 0.6 * x))), np.exp(1.5 + 0.4 * z)
    return pd.DataFrame({"y": rng.beta(mu * phi, (1 - mu) * phi), "x": x, "z": z})


def _statsmodels(df, link, precision):
    import statsmodels.api as sm
    from statsmodels.othermod.betareg import BetaModel

    X = np.column_stack([np.ones(len(df)), df.x])
    Z = np.column_stack([np.ones(len(df)), df.z]) if precision else np.ones((len(df), 1))
    links = {"logit": sm.families.links.Logit(), "probit": sm.families.links.Probit()}
    m = BetaModel(df.y.to_numpy(), X, exog_precision=Z, link=links[link])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return m.fit(method="newton", maxiter=500, disp=False, tol=1e-12)


@pytest.mark.parametrize("link", ["logit", "probit"])
@pytest.mark.parametrize("precision", [True, False])
def test_matches_statsmodels(link, precision):
    df = _data()
    r = lx.betareg("y ~ x | z" if precision else "y ~ x", df, link=link)
    s = _statsmodels(df, link, precision)
    assert r.converged
    assert r.loglik == pytest.approx(s.llf, rel=1e-10)
    np.testing.assert_allclose(list(r.coef.values()), s.params, rtol=1e-7, atol=1e-9)
    se = [float(r.se["mean"][c]) for c in r.mean_columns]
    se += [float(r.se["precision"][c]) for c in r.precision_columns]
    np.testing.assert_allclose(se, s.bse, rtol=1e-6)


def test_predictions_are_the_closed_forms():
    df = _data()
    r = lx.betareg("y ~ x | z", df)
    new = pd.DataFrame({"x": [0.0, 1.0], "z": [0.5, -1.0]})
    c = r.coef
    mu = 1 / (1 + np.exp(-(c["(Intercept)"] + c["x"] * new.x)))
    phi = np.exp(c["(phi)_(Intercept)"] + c["(phi)_z"] * new.z)
    np.testing.assert_allclose(r.predict(new), mu, rtol=1e-12)
    np.testing.assert_allclose(r.predict(new, which="precision"), phi, rtol=1e-12)
    np.testing.assert_allclose(r.predict(new, which="variance"), mu * (1 - mu) / (1 + phi),
                               rtol=1e-12)  # fmt: skip
    _, se = r.predict(new, se=True)
    assert np.all(se > 0)


def test_zeros_and_ones_need_the_squeeze_by_name():
    df = _data()
    df.loc[[3, 9], "y"] = [0.0, 1.0]
    with pytest.raises(ValueError, match=r"Rows \[3, 9\] have a response of exactly 0 or 1"):
        lx.betareg("y ~ x", df)
    r = lx.betareg("y ~ x", df, squeeze="smithson")
    n = len(df)
    assert r.converged
    bad = df.assign(y=df.y.where(df.index != 5, 1.5))
    with pytest.raises(ValueError, match=r"Rows \[5\] have a response outside \[0, 1\]"):
        lx.betareg("y ~ x", bad, squeeze="smithson")
    with pytest.raises(ValueError, match="squeeze must be"):
        lx.betareg("y ~ x", df, squeeze="clip")
    with pytest.raises(ValueError, match="link must be one of"):
        lx.betareg("y ~ x", _data(), link="log")
    # the squeezed response is (y (n - 1) + 0.5) / n: the same fit as squeezing by hand
    before = df.copy()
    manual = lx.betareg("y ~ x", df.assign(y=(df.y * (n - 1) + 0.5) / n))
    lx.betareg("y ~ x", df, squeeze="smithson")
    pd.testing.assert_frame_equal(df, before)  # the squeeze works on a copy
    assert r.loglik == pytest.approx(manual.loglik, rel=1e-12)
