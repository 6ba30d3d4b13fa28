"""Binomial GLMs with trials and with prior weights against R's two spellings.

R 4.2: ``glm(cbind(s, n - s) ~ x, binomial)`` and ``glm(s / n ~ x, binomial,
weights = n)`` (tests/reference/glm_binomial_weights.R, numbers in
glm_binomial_weights_results.csv) on the budworm experiment (Venables &
Ripley 2002, 7.2) and R's ``esoph`` (trials varying by row). likelihax's
``trials=`` and its proportions with ``weight_type="variance"`` weights
(likelihax.models.glm._conventions) both give R's estimates, standard errors,
deviance, log-likelihood (with :math:`\\log\\binom{n}{s}`, as R's ``logLik``)
and AIC.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest
from scipy import special

from likelihax.models.glm import glm

REF = pathlib.Path(__file__).resolve().parents[1] / "reference"
R = pd.read_csv(REF / "glm_binomial_weights_results.csv")
BUDWORM = pd.read_csv(REF / "glm_binomial_weights_data_budworm.csv")
ESOPH = pd.read_csv(REF / "glm_binomial_weights_data_esoph.csv")
RTOL = 1e-6


def r_value(model, kind, term):
    row = R[(R.model == model) & (R.kind == kind) & (R.term == term)]
    assert len(row) == 1, (model, kind, term)
    return float(row.value.iloc[0])


def r_name(column: str) -> str:
    # formulaic's "Intercept", "sex[T.M]", "agegp[T.35-44]" -> R's names
    if column == "Intercept":
        return "(Intercept)"
    return column.replace("[T.", "").replace("]", "")


CASES = {
    # model: (formula, data, likelihax options)
    "budworm_trials": ("dead ~ sex + ldose", BUDWORM, {"trials": "n"}),
    "budworm_weights": ("p ~ sex + ldose", BUDWORM,
                        {"weights": "n", "weight_type": "variance"}),
    "budworm_probit_weights": ("p ~ sex + ldose", BUDWORM,
                               {"weights": "n", "weight_type": "variance", "link": "probit"}),
    "esoph_trials": ("ncases ~ agegp + alc + tob", ESOPH, {"trials": "n"}),
    "esoph_weights": ("p ~ agegp + alc + tob", ESOPH,
                      {"weights": "n", "weight_type": "variance"}),
}  # fmt: skip


@pytest.mark.parametrize("model", list(CASES))
def test_trials_and_prior_weights_match_r(model):
    formula, data, kw = CASES[model]
    res = glm(formula, data, family="binomial", **kw)
    names = [r_name(c) for c in res.columns]
    np.testing.assert_allclose(res.coef, [r_value(model, "coef", t) for t in names],
                               rtol=RTOL, atol=1e-9)  # fmt: skip
    np.testing.assert_allclose(res.se_coef, [r_value(model, "se", t) for t in names],
                               rtol=RTOL)  # fmt: skip
    for ours, term in [(res.deviance, "deviance"), (res.null_deviance, "null_deviance"),
                       (res.loglik, "logLik"), (res.aic, "AIC"), (res.nobs, "nobs"),
                       (res.df_resid, "df_residual")]:  # fmt: skip
        assert ours == pytest.approx(r_value(model, "stat", term), rel=RTOL), term


def test_r_spellings_agree_and_loglik_includes_the_binomial_coefficient():
    # R gives the same numbers for cbind(s, n - s) and s/n with weights = n ...
    for a, b in [("budworm_trials", "budworm_weights"), ("esoph_trials", "esoph_weights")]:
        ra, rb = R[R.model == a].value.to_numpy(), R[R.model == b].value.to_numpy()
        np.testing.assert_allclose(ra, rb, rtol=1e-9)
    # ... and its log-likelihood is the binomial density with log choose(n, s):
    # the kernel sum(s log mu + (n - s) log(1 - mu)) plus the coefficients.
    res = glm("p ~ agegp + alc + tob", ESOPH, family="binomial", weights="n",
              weight_type="variance")  # fmt: skip
    mu = np.asarray(res.fitted)
    n, s = ESOPH.n.to_numpy(float), ESOPH.ncases.to_numpy(float)
    kernel = np.sum(s * np.log(mu) + (n - s) * np.log1p(-mu))
    coef = np.sum(special.gammaln(n + 1) - special.gammaln(s + 1) - special.gammaln(n - s + 1))
    assert res.loglik == pytest.approx(kernel + coef, rel=1e-10)
    assert res.loglik == pytest.approx(r_value("esoph_weights", "stat", "logLik"), rel=RTOL)


def test_binary_response_with_prior_weights_is_unchanged():
    # 0/1 responses with prior weights: the binomial coefficients are 1, so the
    # fit equals frequency weights in every number but nobs (rows).
    df = BUDWORM.assign(y=[0.0, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1], w=np.arange(1.0, 13.0))
    v = glm("y ~ ldose", df, family="binomial", weights="w", weight_type="variance")
    f = glm("y ~ ldose", df, family="binomial", weights="w")
    np.testing.assert_allclose(v.coef, f.coef, rtol=1e-10)
    np.testing.assert_allclose(v.se_coef, f.se_coef, rtol=1e-8)
    assert v.loglik == pytest.approx(f.loglik, rel=1e-10)
    assert v.nobs == 12 and f.nobs == 78


def test_proportions_with_weights_name_bad_rows():
    df = BUDWORM.copy()
    df.loc[3, "n"] = 19.0  # 19 * 0.65 successes
    with pytest.raises(ValueError, match=r"rows \[3\] have weights \* y that are not whole"):
        glm("p ~ ldose", df, family="binomial", weights="n", weight_type="variance")
    df = BUDWORM.assign(n=BUDWORM.n - 0.5)
    with pytest.raises(ValueError, match="not whole numbers of trials"):
        glm("p ~ ldose", df, family="binomial", weights="n", weight_type="variance")
    # frequency weights keep the binary check (a proportion is not a 0/1 row)
    with pytest.raises(ValueError, match="are not 0 or 1"):
        glm("p ~ ldose", BUDWORM, family="binomial", weights="n")
    assert BUDWORM.n.iloc[3] == 20.0  # the caller's frame is untouched
