"""Predictions of mixed models against lme4's ``predict.merMod``.

Reference numbers: tests/reference/mixed_predict.R (lme4 1.1-31, R 4.2.2) ->
mixed_predict_results.csv, on the new rows in mixed_predict_newdata_<model>.csv:
conditional predictions (``re.form = NULL``; a level the fit did not see at
zero, ``allow.new.levels = TRUE``) and population ones (``re.form = NA``), on
the link and response scales. likelihax's estimates equal lme4's to about
1e-6 relative or better, and so do the predictions.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest

import likelihax as lx

REF = pathlib.Path(__file__).resolve().parents[2] / "reference"
PRED = pd.read_csv(REF / "mixed_predict_results.csv")

MODELS = {
    "sleepstudy_reml": ("Reaction ~ Days + (Days | Subject)", "sleepstudy", "gaussian"),
    "cbpp": ("cbind(incidence, size - incidence) ~ period + (1 | herd)", "cbpp", "binomial"),
    "penicillin_reml": ("diameter ~ 1 + (1 | plate) + (1 | sample)", "penicillin", "gaussian"),
}


def _frame(name):
    df = pd.read_csv(REF / f"mixed_terms_data_{name}.csv")
    return df.assign(period=df.period.astype(str)) if name == "cbpp" else df


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("kind", ["conditional", "population"])
@pytest.mark.parametrize("which", ["link", "response"])
def test_predictions_match_lme4(model, kind, which):
    formula, name, family = MODELS[model]
    res = lx.mixed(formula, _frame(name), family=family)
    new = pd.read_csv(REF / f"mixed_predict_newdata_{model}.csv")
    if name == "cbpp":
        new = new.assign(period=new.period.astype(str))
    ref = PRED[(PRED.model == model) & (PRED.kind == kind) & (PRED.type == which)]
    got = res.predict(new, which=which, kind=kind)
    np.testing.assert_allclose(got, ref.sort_values("row").value.to_numpy(float), rtol=1e-6)


def test_fitted_rows_and_population_standard_errors():
    """Without new data: the fitted rows (conditional predictions equal the
    fixed part plus each row's effects). Population SEs: the delta method
    over the fixed effects, here sqrt(x' V x) on the link scale."""
    res = lx.mixed("Reaction ~ Days + (Days | Subject)", _frame("sleepstudy"))
    fitted = res.predict(which="link")
    b = {t: df for t, df in [("Subject", res.ranef())]}["Subject"]
    d = res._design
    subj = d.terms[0].levels[d.terms[0].codes]
    expect = (res.fixef["(Intercept)"] + b.loc[subj, "(Intercept)"].to_numpy()
              + (res.fixef["Days"] + b.loc[subj, "Days"].to_numpy()) * d.X[:, 1])  # fmt: skip
    np.testing.assert_allclose(fitted, expect, rtol=1e-12)
    new = pd.DataFrame({"Days": [0.0, 4.0], "Subject": ["308", "308"]})
    val, se = res.predict(new, kind="population", se=True)
    X = np.array([[1.0, 0.0], [1.0, 4.0]])
    np.testing.assert_allclose(se, np.sqrt(np.einsum("ij,jk,ik->i", X, res.vcov(), X)),
                               rtol=1e-10)  # fmt: skip
    with pytest.raises(ValueError, match="kind='population'"):
        res.predict(new, se=True)
    with pytest.raises(KeyError, match="'Subject' is not a column of the new data"):
        res.predict(pd.DataFrame({"Days": [1.0]}))
