"""Predictions of models fitted with an offset or exposure taken from data columns.

New rows take their offset from the same columns (statsmodels' ``predict(...,
exposure=)`` and R's ``predict(glm, newdata)`` with ``offset(log(t))`` in the
formula are the references); rows without them are an error, never a
prediction at exposure 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import likelihax as lx


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(4)
    n = 300
    df = pd.DataFrame({"x": rng.normal(size=n), "t": rng.uniform(0.5, 3.0, n),
                       "o": rng.normal(0, 0.2, n)})  # fmt: skip
    df["y"] = rng.poisson(df["t"] * np.exp(0.3 + 0.5 * df["x"] + df["o"]))
    return df


def test_new_rows_take_their_exposure_and_offset_from_their_columns(counts):
    import statsmodels.api as sm

    res = lx.glm("y ~ x", counts, family="poisson", exposure="t", offset="o")
    new = pd.DataFrame({"x": [0.0, 0.0, 1.0], "t": [1.0, 2.0, 0.7], "o": [0.0, 0.0, 0.1]})
    got = lx.predict(res, new)
    X = sm.add_constant(counts[["x"]])
    ref = sm.GLM(counts["y"], X, family=sm.families.Poisson(), exposure=counts["t"],
                 offset=counts["o"]).fit(tol=1e-12)  # fmt: skip
    frame = ref.get_prediction(sm.add_constant(new[["x"]], has_constant="add"),
                               exposure=new["t"], offset=new["o"]).summary_frame()
    np.testing.assert_allclose(got["estimate"], frame["mean"], rtol=1e-7)
    np.testing.assert_allclose(got["std_error"], frame["mean_se"], rtol=1e-6)
    # twice the exposure, twice the mean
    assert got["estimate"][1] == pytest.approx(2 * got["estimate"][0], rel=1e-12)
    # the fitted rows: the fit's own offsets
    np.testing.assert_allclose(lx.predict(res, se=False)["estimate"], ref.fittedvalues,
                               rtol=1e-7)


def test_rows_without_the_exposure_column_are_an_error(counts):
    res = lx.glm("y ~ x", counts, family="poisson", exposure="t")
    with pytest.raises(ValueError, match=r"exposure='t'.*\['t'\]"):
        lx.predict(res, pd.DataFrame({"x": [0.0]}))
    with pytest.raises(ValueError, match="must be > 0"):
        lx.predict(res, pd.DataFrame({"x": [0.0], "t": [0.0]}))
    # the offset itself as a column is accepted
    one = lx.predict(res, pd.DataFrame({"x": [0.0], "(offset)": [np.log(2.0)]}))
    two = lx.predict(res, pd.DataFrame({"x": [0.0], "t": [2.0]}))
    assert one["estimate"][0] == pytest.approx(two["estimate"][0], rel=1e-12)


def test_slopes_at_a_given_exposure_use_it(counts):
    """``at={"t": 1}``: the other covariates at their means and the exposure
    at 1, so dmu/dx = beta_x * exp(b0 + b1 * mean(x)) (closed form)."""
    res = lx.glm("y ~ x", counts, family="poisson", exposure="t")
    b0, b1 = res.coef
    xbar = counts["x"].mean()
    for t in (1.0, 2.5):
        s = lx.slopes(res, variables="x", at={"t": t})
        assert float(np.asarray(s["estimate"])[0]) == pytest.approx(
            b1 * t * np.exp(b0 + b1 * xbar), rel=1e-8)
