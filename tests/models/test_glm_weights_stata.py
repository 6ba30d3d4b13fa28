"""Weighted GLMs against Stata's weight conventions (fweight, aweight, pweight).

Stata numbers: ``glm ..., family(poisson)`` and ``regress`` on the cpunish
data with ``[fweight=]``, ``[aweight=]`` and ``[pweight=]`` weights, as
statsmodels ships them, exported with their command lines to
``tests/reference/glm_weights_stata.json`` by
``tests/reference/export_glm_weights_stata.py``. The conventions
(likelihax.models.glm._conventions):

* ``fweight`` is ``weights=w`` (frequency weights): N is the sum of the weights;
* ``aweight`` is ``weight_type="variance"`` with the weights rescaled to sum to
  the number of rows, as Stata rescales them (``w * n / w.sum()``): N is the
  number of rows; the Poisson log-likelihood is :math:`\\sum_i v_i\\ell_i`;
* ``pweight`` is ``weight_type="importance"`` with ``lx.vcov(fit, "stata")``
  (Stata's pweights imply its robust covariance); the log-likelihood is the
  pseudo log-likelihood :math:`\\sum_i w_i\\ell_i`.

Stata's IRLS stopped about 1e-6 (relative) short of the maximum, so its
coefficients carry that much error: they are compared at 2e-6, everything
else at 1e-6.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import likelihax as lx

REF = Path(__file__).resolve().parents[1] / "reference"
STATA = json.loads((REF / "glm_weights_stata.json").read_text())
FW = np.array([1, 1, 1, 2, 2, 2, 3, 3, 3, 1, 1, 1, 2, 2, 2, 3, 3], float)


def _cpunish():
    from statsmodels.datasets import cpunish

    d = cpunish.load()
    X = np.asarray(d.exog, dtype=float).copy()
    X[:, 3] = np.log(X[:, 3])  # LN_VC100k96
    return np.asarray(d.endog, dtype=float), np.column_stack([X, np.ones(len(X))])


def _aweights(w):
    return w * len(w) / w.sum()  # Stata's rescaling of analytic weights


WEIGHTS = {
    "none": {},
    "fweight": {"weights": FW},
    "aweight": {"weights": _aweights(FW), "weight_type": "variance"},
    "pweight": {"weights": FW, "weight_type": "importance"},
}


@pytest.mark.parametrize("weights", list(WEIGHTS))
def test_poisson_glm_matches_stata(weights):
    y, X = _cpunish()
    ref = STATA[f"glm_{weights}"]
    fit = lx.glm(y, X, family="poisson", llf_convention="stata", **WEIGHTS[weights])
    np.testing.assert_allclose(fit.coef, ref["params"], rtol=2e-6)
    se = (np.sqrt(np.diag(lx.vcov(fit, "stata").matrix)) if weights == "pweight"
          else fit.se_coef)  # fmt: skip
    np.testing.assert_allclose(se, ref["bse"], rtol=1e-6)
    assert fit.loglik == pytest.approx(ref["ll"], rel=1e-6)
    assert fit.deviance == pytest.approx(ref["deviance"], rel=1e-6)
    assert fit.nobs == ref["N"]
    assert fit.aic == pytest.approx(ref["aic"], rel=1e-6)
    assert fit.bic == pytest.approx(ref["bic"], rel=1e-6)


def test_aweights_need_stata_rescaling():
    # Unscaled variance weights c * v: the same estimates, the information times
    # c (SEs over sqrt(c)) and the log-likelihood times c; rescaled, Stata's.
    y, X = _cpunish()
    ref = STATA["glm_aweight"]
    raw = lx.glm(y, X, family="poisson", weights=FW, weight_type="variance")
    c = FW.sum() / len(FW)
    np.testing.assert_allclose(raw.coef, ref["params"], rtol=2e-6)
    np.testing.assert_allclose(raw.se_coef * np.sqrt(c), ref["bse"], rtol=1e-6)
    assert raw.loglik / c == pytest.approx(ref["ll"], rel=1e-6)
    assert raw.nobs == ref["N"]


@pytest.mark.parametrize("weights", ["aweight", "fweight"])
def test_gaussian_matches_stata_regress(weights):
    # regress [aweight|fweight=]: coefficients, residual sum of squares (the
    # deviance), root MSE (sqrt of the dispersion, RSS / (N - k)) and N.
    # regress's log-likelihood is -N/2 (1 + log 2 pi + log(RSS/N)) with the
    # rescaled weights; likelihax's Gaussian density of row i at phi / v_i adds
    # sum(log v_i) / 2 (zero for frequency weights).
    y, X = _cpunish()
    ref = STATA[f"regress_{weights}"]
    fit = lx.glm(y, X, family="gaussian", llf_convention="stata", **WEIGHTS[weights])
    np.testing.assert_allclose(fit.coef, ref["params"], rtol=1e-6)
    assert fit.deviance == pytest.approx(ref["rss"], rel=1e-6)
    assert np.sqrt(fit.dispersion) == pytest.approx(ref["rmse"], rel=1e-6)
    assert fit.nobs == ref["N"]
    v = _aweights(FW) if weights == "aweight" else np.ones(len(y))
    assert fit.loglik - 0.5 * np.sum(np.log(v)) == pytest.approx(ref["ll"], rel=1e-6)
