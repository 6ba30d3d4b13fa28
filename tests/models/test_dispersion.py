"""GLMs with a dispersion submodel (``lx.glm(..., dispformula=)``).

* Against glmmTMB (``tests/reference/dispformula.R`` -> ``dispformula.csv``, on
  ``dispformula_data.csv``): a Gaussian, a gamma (log link) and an NB2 model,
  estimates, SEs and log-likelihoods. glmmTMB's Gaussian dispersion
  coefficients are on likelihax's scale (log sigma^2); its gamma (log shape)
  and nbinom2 (log theta) ones are the negatives of likelihax's (log 1/shape,
  log alpha).
* A constant dispersion of the Gaussian family has a closed form: OLS
  coefficients, sigma^2 = RSS / n, SEs sqrt(sigma^2 (X'X)^-1).
* Predictions and their delta-method SEs against the parameters' covariance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import likelihax as lx

REF = Path(__file__).resolve().parents[1] / "reference"
DATA = pd.read_csv(REF / "dispformula_data.csv")
R = pd.read_csv(REF / "dispformula.csv")
CASES = {
    "gaussian": ("y1 ~ x + f", "~ z", "gaussian", None, 1.0),
    "gamma": ("y2 ~ x", "~ z + f", "gamma", "log", -1.0),
    "nbinom2": ("y3 ~ x", "~ z", "nb2", None, -1.0),
}


def _r_name(c):
    return {"f[T.b]": "fb", "f[T.c]": "fc"}.get(c, c)


@pytest.mark.parametrize("model", list(CASES))
def test_matches_glmmtmb(model):
    formula, disp, family, link, sign = CASES[model]
    before = DATA.copy()
    r = lx.glm(formula, DATA, family=family, link=link, dispformula=disp)
    pd.testing.assert_frame_equal(DATA, before)  # the caller's frame is untouched
    assert r.converged
    ref = R[R.model == model]
    ll = float(ref[ref.part == "loglik"].estimate.iloc[0])
    # the same maximum (ours at least as high: glmmTMB stops a little earlier)
    assert r.fit.loglik >= ll - 1e-9 * abs(ll)
    assert abs(r.fit.loglik - ll) <= 1e-8 * abs(ll)
    for part, key, s in (("cond", "mean", 1.0), ("disp", "dispersion", sign)):
        tab = ref[ref.part == part].set_index("term")
        for c, v in r.fit.params[key].items():
            est, se = tab.loc[_r_name(c), "estimate"], tab.loc[_r_name(c), "se"]
            assert abs(float(v) - s * est) <= 2e-4 * se, (model, part, c)
            np.testing.assert_allclose(float(r.fit.se[key][c]), se, rtol=2e-5)


def test_constant_gaussian_dispersion_is_ols():
    rng = np.random.default_rng(4)
    X = np.column_stack([np.ones(60), rng.normal(size=(60, 2))])
    y = X @ [1.0, 0.5, -0.2] + 0.7 * rng.normal(size=60)
    r = lx.glm(y, X, family="gaussian", dispformula=np.ones((60, 1)))
    beta, rss = np.linalg.lstsq(X, y, rcond=None)[:2]
    s2 = float(rss[0]) / 60
    np.testing.assert_allclose(list(r.fit.params["mean"].values()), beta, rtol=1e-9)
    np.testing.assert_allclose(float(r.fit.params["dispersion"]["x0"]), np.log(s2), rtol=1e-9)
    se = np.sqrt(np.diag(s2 * np.linalg.inv(X.T @ X)))
    np.testing.assert_allclose(list(r.fit.se["mean"].values()), se, rtol=1e-7)
    # log sigma^2 has SE sqrt(2/n) at the ML estimate (its information is n/2)
    np.testing.assert_allclose(float(r.fit.se["dispersion"]["x0"]), np.sqrt(2 / 60), rtol=1e-7)


def test_predictions_and_their_standard_errors():
    r = lx.glm("y2 ~ x", DATA, family="gamma", link="log", dispformula="~ z + f")
    new = pd.DataFrame({"x": [0.0, 1.0], "z": [0.5, -0.5], "f": ["b", "c"]})
    mean = r.fit.params["mean"]
    mu = np.exp(mean["(Intercept)"] + mean["x"] * new.x.to_numpy())
    g = r.fit.params["dispersion"]
    zrow = np.array([[1.0, 0.5, 1.0, 0.0], [1.0, -0.5, 0.0, 1.0]])
    gam = np.array([g["(Intercept)"], g["z"], g["f[T.b]"], g["f[T.c]"]])
    phi = np.exp(zrow @ gam)
    np.testing.assert_allclose(r.predict(new), mu, rtol=1e-12)
    np.testing.assert_allclose(r.predict(new, which="variance"), phi * mu**2, rtol=1e-12)
    val, se = r.predict(new, which="dispersion", se=True)
    np.testing.assert_allclose(val, phi, rtol=1e-12)
    cov = r.fit.cov  # labelled, in the reported order
    idx = [cov.labels.index(f"dispersion.{c}") for c in ("(Intercept)", "z", "f[T.b]", "f[T.c]")]
    V = np.asarray(cov)[np.ix_(idx, idx)]
    np.testing.assert_allclose(se, phi * np.sqrt(np.einsum("ij,jk,ik->i", zrow, V, zrow)),
                               rtol=1e-10)  # fmt: skip


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="poisson family has no dispersion"):
        lx.glm("y3 ~ x", DATA, family="poisson", dispformula="~ z")
    with pytest.raises(TypeError, match="dispformula is a formula too"):
        lx.glm("y1 ~ x", DATA, dispformula=np.ones((300, 1)))
    with pytest.raises(ValueError, match="exposure"):
        lx.glm("y3 ~ x", DATA, family="nb2", dispformula="~ z", exposure=np.ones(300))
    bad = DATA.assign(y2=DATA.y2.where(DATA.index != 7, -1.0))
    with pytest.raises(ValueError, match=r"Rows \[7\]"):
        lx.glm("y2 ~ x", bad, family="gamma", link="log", dispformula="~ z")
