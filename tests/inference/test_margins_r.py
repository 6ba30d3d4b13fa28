"""lx.slopes, lx.comparisons and lx.predict against R's ``marginaleffects``.

Reference: marginaleffects 0.11.0 (R 4.2.2), written by
tests/reference/marginaleffects.R to tests/reference/marginaleffects_results.csv,
on MASS::birthwt (a logistic GLM ``low ~ age * lwt + race + smoke``) and
pscl::bioChemists (a Poisson GLM ``art ~ fem + mar + kid5 + phd * ment``),
both read from the CSV files that script writes.

Conventions matched: predictions on the response scale; ``avg_slopes``
(``at="overall"``) and ``slopes(newdata = "mean")`` (``at="mean"``: numeric
covariates at their means, factors at their modes); factor levels against the
reference level; a 0/1 numeric covariate as the contrast 1 - 0
(``dummy=True``); ``eyex`` per row then averaged; a ratio per row then
averaged (marginaleffects' ``"ratio"``, not ``"ratioavg"``);
``predictions(newdata = datagrid(...))`` by ``lx.predict`` at
``lx.inference.datagrid``. ``avg_predictions(by = )``, the mean prediction
over the rows of each level, is ``lx.predict(by=)``, also checked against the
delta method (``lx.delta_method``) of the mean of the model's predictor over
those rows.

Tolerances. Coefficients, contrasts and predictions involve no derivative in
the covariate; R's delta-method Jacobian is numDeriv's Richardson
extrapolation, and estimates and SEs agree to about 3e-9 (rtol 1e-8). A slope
(dY/dX, eY/eX) in marginaleffects 0.11 is the forward difference
(f(x + h) - f(x))/h, here with h = 1e-7 times the covariate's range: its
truncation error h f''/(2 f') is about 1e-7 relative (likelihax
differentiates exactly), and its SE, the Jacobian of that difference with
respect to the coefficients, also carries the difference's rounding error
(about 1e-16/h) divided by the Jacobian's step: slopes agree to about 1e-7
and their SEs to about 4e-7, compared at rtol 1e-6.
"""

from __future__ import annotations

from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import likelihax as lx

REF = Path(__file__).resolve().parents[1] / "reference"
MODELS = {
    "logit": ("birthwt", "low ~ age * lwt + race + smoke", "binomial", "race"),
    "poisson": ("biochemists", "art ~ fem + mar + kid5 + phd * ment", "poisson", "fem"),
}
SLOPE_RTOL, RTOL = 1e-6, 1e-8


@pytest.fixture(scope="module")
def ref():
    return pd.read_csv(REF / "marginaleffects_results.csv", keep_default_na=False)


@pytest.fixture(scope="module", params=list(MODELS))
def model(request, ref):
    name = request.param
    data, formula, family, factor = MODELS[name]
    df = pd.read_csv(REF / f"marginaleffects_data_{data}.csv")
    r = lx.glm(formula, df, family=family)
    return name, df, r, factor, ref[ref.model == name]


def _rows(ref, quantity):
    out = ref[ref.quantity == quantity]
    assert len(out) > 0, quantity
    return out


def _match(t, r, rtol):
    """Compare a likelihax table to R's rows, keyed by (term, contrast)."""
    got = t.set_index(["term", "contrast"])
    key = list(zip(r.term, r.contrast))
    assert sorted(key) == sorted(got.index.tolist())
    got = got.loc[key]
    np.testing.assert_allclose(got.estimate, r.estimate, rtol=rtol)
    np.testing.assert_allclose(got.std_error, r.std_error, rtol=rtol)


def test_coefficients(model):
    name, df, r, factor, ref = model
    c = _rows(ref, "coef")
    np.testing.assert_allclose(r.coef, c.estimate, rtol=RTOL)
    np.testing.assert_allclose(np.sqrt(np.diag(r.beta_cov)), c.std_error, rtol=RTOL)


@pytest.mark.parametrize("at", ["overall", "mean"])
def test_slopes(model, at):
    name, df, r, factor, ref = model
    quantity = "avg_slopes" if at == "overall" else "slopes_mean"
    t = lx.slopes(r, at=at, dummy=True)
    want = _rows(ref, quantity)
    slope = want.contrast == "dY/dX"
    assert sorted(zip(want.term, want.contrast)) == sorted(zip(t.term, t.contrast))
    _match(t[t.contrast == "dY/dX"], want[slope], SLOPE_RTOL)
    _match(t[t.contrast != "dY/dX"], want[~slope], RTOL)
    if at == "overall":  # avg_comparisons' differences are avg_slopes' contrasts
        diff = _rows(ref, "avg_comparisons_difference")
        _match(t[t.term == factor], diff, RTOL)


def test_elasticities(model):
    name, df, r, factor, ref = model
    want = _rows(ref, "avg_slopes_eyex")
    _match(lx.slopes(r, want.term.tolist(), slope="eyex"), want, SLOPE_RTOL)


def test_factor_ratios(model):
    name, df, r, factor, ref = model
    t = lx.comparisons(r, factor, comparison="ratio")
    _match(t, _rows(ref, "avg_comparisons_ratio"), RTOL)


def test_predictions_at_datagrid(model):
    name, df, r, factor, ref = model
    want = _rows(ref, "predictions_grid")
    grid = lx.inference.datagrid(r, **{factor: want.by.tolist()})
    t = lx.predict(r, grid)
    assert t[factor].tolist() == want.by.tolist()
    np.testing.assert_allclose(t.estimate, want.estimate, rtol=RTOL)
    np.testing.assert_allclose(t.std_error, want.std_error, rtol=RTOL)


def test_average_predictions_by_factor(model):
    name, df, r, factor, ref = model
    want = _rows(ref, "avg_predictions")
    t = lx.predict(r, by=factor)
    assert t[factor].astype(str).tolist() == want.by.astype(str).tolist()
    np.testing.assert_allclose(t.estimate, want.estimate, rtol=RTOL)
    np.testing.assert_allclose(t.std_error, want.std_error, rtol=RTOL)
    # the same as the delta method of the mean predictor over each level's rows
    pred = r.predictor("response")
    data = [pred.build(df[df[factor] == level]) for level in want.by]
    d = lx.delta_method(r, lambda p: jnp.stack([jnp.mean(pred.fn(p, x)) for x in data]))
    np.testing.assert_allclose(t.std_error, d.se, rtol=1e-10)
