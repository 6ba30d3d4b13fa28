"""Every model function's result answers one protocol: ``.fit`` and ``.model_info``.

A model result is either the engine's FitResult (or a registered subclass) or a
``ModelResult`` that wraps it; inference functions read ``.fit`` through
``as_fit``, saving keeps the model's own summary rows, and the readings a
``ModelResult`` inherits equal the engine fit's (checked against closed forms
where the model has one).
"""

from __future__ import annotations

import math

import jax
import numpy as np
import pandas as pd
import pytest

import likelihax as lx
from likelihax.results import FitResult, ModelResult, as_fit

DF = pd.DataFrame(
    {"y": [2.0, 3.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0, 15.0, 20.0, 4.0, 5.0],
     "x": np.round(np.linspace(0.0, 1.8, 12), 4)}
)  # fmt: skip
ORD = pd.DataFrame({"y": [0, 0, 1, 0, 1, 1, 2, 1, 2, 2, 2, 1, 0, 2, 1],
                    "x": np.round(np.linspace(-1.0, 1.0, 15), 4)})  # fmt: skip
MN = pd.DataFrame({"y": list("abacbaccbabcaccbcc"),
                   "x": np.round(np.linspace(-1.0, 1.0, 18), 4)})  # fmt: skip
_X4 = np.tile([0.0, 1.0, 2.0, 3.0], 5)
LMM = pd.DataFrame({
    "y": 1.0 + 0.5 * _X4 + np.repeat([-1.0, 0.5, 1.5, -0.5, 0.0], 4)
    + np.array([0.3, -0.2, 0.1, -0.4, 0.2, 0.5, -0.3, 0.0, -0.1, 0.3,
                -0.5, 0.2, 0.4, -0.3, 0.1, -0.2, 0.0, 0.2, -0.1, 0.3]),
    "x": _X4, "g": np.repeat(["a", "b", "c", "d", "e"], 4)})  # fmt: skip
Y_MIX = np.array([0, 1, 0, 2, 1, 0, 9, 11, 8, 10, 12, 1])

MODELS = {
    "glm": lambda: lx.glm("y ~ x", DF, family="poisson"),
    "mixed": lambda: lx.mixed("y ~ x + (1 | g)", LMM),
    "ordinal": lambda: lx.ordinal("y ~ x", ORD),
    "multinomial": lambda: lx.mnlogit("y ~ x", MN),
    "distribution": lambda: lx.fit_distribution("normal", DF["y"].to_numpy()),
    "mixture": lambda: lx.poisson_mixture(Y_MIX, 2, init={"weights": [0.5, 0.5],
                                                          "rate": [1.0, 5.0]}),
}  # fmt: skip


@pytest.fixture(scope="module", params=sorted(MODELS))
def result(request):
    return request.param, MODELS[request.param]()


def test_protocol(result):
    kind, r = result
    assert isinstance(r, (ModelResult, FitResult))
    assert isinstance(r.fit, FitResult)
    assert as_fit(r) is r.fit
    assert r.fit.fit is r.fit  # a FitResult is its own engine fit
    assert r.model_info == r.fit.model_info
    assert r.model_info.kind == kind


def test_wrapped_readings_are_the_fits(result):
    kind, r = result
    if not isinstance(r, ModelResult):
        pytest.skip("the FitResult itself")
    f = r.fit
    assert r.loglik == float(f.loglik)
    assert r.status == f.status
    if kind != "mixed":  # MixedResult.converged also asks for a non-singular fit
        assert r.converged == bool(f.converged)
    k = r.n_params
    n = getattr(r, "nobs", None) or f.nobs
    assert r.aic == pytest.approx(-2 * r.loglik + 2 * k, rel=1e-14)
    assert r.bic == pytest.approx(-2 * r.loglik + k * math.log(n), rel=1e-14)
    for mine, engine in zip(r.conf_int(0.1), f.conf_int(0.1)):
        np.testing.assert_array_equal(np.concatenate([np.ravel(v) for v in
                                                      jax.tree_util.tree_leaves(mine)]),
                                      np.concatenate([np.ravel(v) for v in
                                                      jax.tree_util.tree_leaves(engine)]))


def test_ordinal_and_multinomial_information_criteria_match_statsmodels():
    """AIC and BIC, inherited from ModelResult, equal statsmodels' for the same models."""
    import statsmodels.api as sm
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    o = lx.ordinal("y ~ x", ORD)
    ref = OrderedModel(ORD["y"].to_numpy(), ORD[["x"]].to_numpy(), distr="logit").fit(
        method="bfgs", disp=False, gtol=1e-10, maxiter=2000)
    assert o.loglik == pytest.approx(ref.llf, rel=1e-7)
    assert o.aic == pytest.approx(ref.aic, rel=1e-7)
    assert o.bic == pytest.approx(ref.bic, rel=1e-7)

    m = lx.mnlogit("y ~ x", MN)
    codes = pd.Categorical(MN["y"]).codes
    ref = sm.MNLogit(codes, sm.add_constant(MN["x"].to_numpy())).fit(disp=False, tol=1e-12)
    assert m.loglik == pytest.approx(ref.llf, rel=1e-7)
    assert m.aic == pytest.approx(ref.aic, rel=1e-7)
    assert m.bic == pytest.approx(ref.bic, rel=1e-7)


def test_mixed_result_saves_its_description(tmp_path):
    r = MODELS["mixed"]()
    r.save(tmp_path / "lmm")
    back = lx.load_result(tmp_path / "lmm")
    header = dict(back.summary().header)
    assert header["Groups"] == "g: 5"
    assert header["Formula"] == "y ~ x + (1 | g)"
    sd = float(r.varcorr().estimate[0])
    assert float(header["sd((Intercept))"]) == pytest.approx(sd, rel=1e-5)
    assert back.loglik == pytest.approx(r.loglik, rel=1e-12)
    np.testing.assert_allclose(back.cov_flat, r.fit.cov_flat, rtol=1e-12)
