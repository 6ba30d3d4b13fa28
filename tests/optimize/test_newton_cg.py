"""Truncated Newton (Newton-CG): the same estimates and SEs as dense Newton.

Dense Newton is the reference where both run (it is itself tested against
statsmodels, R and closed forms); the inner CG solve against NumPy's solve;
the start's status; and ``fit``'s default, which stays dense Newton.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import likelihax as lx
from likelihax.optimize import NewtonCG, cg_direction


def _logistic(p, d):
    eta = p["a"] + d["X"] @ p["b"]
    return d["y"] * eta - jnp.logaddexp(0.0, eta)


def _data(n, k, seed=0, scale=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k)) * (np.ones(k) if scale is None else scale)
    beta = rng.uniform(-0.3, 0.3, k) / (np.ones(k) if scale is None else scale)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.4 + X @ beta)))).astype(float)
    return {"X": X, "y": y}


@pytest.mark.parametrize("scaled", [False, True])
def test_same_fit_as_dense_newton(scaled):
    k = 120
    scale = np.exp(np.linspace(-2, 2, k)) if scaled else None  # columns in other units
    data = _data(4000, k, scale=scale)
    start = {"a": 0.0, "b": np.zeros(k)}
    dense = lx.fit(_logistic, start, data, method="newton")
    cg = lx.fit(_logistic, start, data, method="newton-cg")
    assert cg.method == "newton-cg" and cg.converged and str(cg.status) == "success"
    assert cg.loglik == pytest.approx(dense.loglik, rel=1e-13)
    se = np.asarray(dense.se["b"])
    np.testing.assert_allclose(np.asarray(cg.params["b"]), np.asarray(dense.params["b"]),
                               atol=1e-7 * se.min())  # fmt: skip
    np.testing.assert_allclose(np.asarray(cg.se["b"]), se, rtol=1e-9)
    assert cg.edm <= 1e-9


def test_a_model_with_a_constrained_scale():
    rng = np.random.default_rng(1)
    y = rng.normal(3.0, 2.0, size=(500, 80)) + np.arange(80)

    def normal(p, d):
        return jnp.sum(-0.5 * ((d["y"] - p["mu"]) / p["s"]) ** 2 - jnp.log(p["s"]), axis=-1)

    start = {"mu": np.zeros(80), "s": 1.0}
    cons = {"s": lx.constraints.positive}
    cg = lx.fit(normal, start, {"y": y}, constraints=cons, method="newton-cg")
    assert cg.converged
    np.testing.assert_allclose(np.asarray(cg.params["mu"]), y.mean(axis=0), rtol=1e-10)
    s_ml = np.sqrt(np.mean((y - y.mean(axis=0)) ** 2))
    assert float(cg.params["s"]) == pytest.approx(s_ml, rel=1e-10)


def test_cg_direction_solves_and_handles_negative_curvature():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(60, 40))
    H, g = A.T @ A, rng.normal(size=40)
    with jax.enable_x64(True):
        d, n = cg_direction(lambda v: jnp.asarray(H) @ v, jnp.asarray(g), 200, 1e-12)
        np.testing.assert_allclose(np.asarray(d), -np.linalg.solve(H, g), rtol=1e-8)
        assert int(n) <= 60
        # indefinite at once along -g: the steepest-descent direction
        d2, n2 = cg_direction(lambda v: -v, jnp.asarray(g), 10, 1e-12)
        np.testing.assert_allclose(np.asarray(d2), -g)
        assert int(n2) == 1


def test_the_search_backs_off_outside_the_support():
    # a gamma rate by a log-free parametrization: full steps from the start
    # overshoot below zero, where the log-likelihood is NaN
    y = np.random.default_rng(5).gamma(2.0, 1.0 / 7.0, size=400)

    def gamma(p, d):
        return 2.0 * jnp.log(p["rate"]) - p["rate"] * d["y"]

    for m in ("newton", "newton-cg"):
        f = lx.fit(gamma, {"rate": jnp.ones(1) * 0.01}, {"y": y}, method=m)
        assert f.converged
        np.testing.assert_allclose(np.asarray(f.params["rate"]), 2.0 / y.mean(), rtol=1e-10)


def test_many_parameters_and_the_default_method():
    k = 2500
    y = np.random.default_rng(4).normal(size=(3, k))

    def normal(p, d):
        return jnp.sum(-0.5 * (d["y"] - p["mu"]) ** 2, axis=-1)

    cg = lx.fit(normal, {"mu": np.zeros(k)}, {"y": y}, method=NewtonCG(tol=1e-12))
    assert cg.method == "newton-cg" and cg.converged
    np.testing.assert_allclose(np.asarray(cg.params["mu"]), y.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(cg.se["mu"]), 1 / np.sqrt(3), rtol=1e-12)
    # up to 8,192 free parameters the default is dense Newton
    assert lx.fit(normal, {"mu": np.zeros(k)}, {"y": y}).method == "newton"


def test_the_default_method_follows_the_number_of_parameters(monkeypatch):
    from likelihax.engine import _options

    assert _options.default_method(8192) == "newton"
    assert _options.default_method(8193) == "newton-cg"
    y = np.random.default_rng(6).normal(size=(4, 30))

    def normal(p, d):
        return jnp.sum(-0.5 * (d["y"] - p["mu"]) ** 2, axis=-1)

    monkeypatch.setattr(_options, "NEWTON_CG_ABOVE", 29)
    auto = lx.fit(normal, {"mu": np.zeros(30)}, {"y": y})
    assert auto.method == "newton-cg" and auto.converged
    np.testing.assert_allclose(np.asarray(auto.params["mu"]), y.mean(axis=0), rtol=1e-10)
    # the caller's choice wins
    assert lx.fit(normal, {"mu": np.zeros(30)}, {"y": y}, method="newton").method == "newton"


@pytest.mark.parametrize("method", ["newton", "newton-cg", "lbfgs"])
@pytest.mark.parametrize("seed", [0, 3])
def test_complete_separation_is_unbounded_whatever_the_method(method, seed):
    # y is 1 exactly where a linear score is positive: no finite maximum. The
    # truncated solves leave Newton-CG's end point off the ray to infinity, so
    # the Newton direction there misses it; the displacement probe does not.
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, 70))
    y = (X[:, 0] + (0.5 * X[:, 1] if seed else 0.0) > 0.0).astype(float)
    with pytest.warns(lx.InformationWarning):
        f = lx.fit(_logistic, {"a": 0.0, "b": np.zeros(70)}, {"X": X, "y": y},
                   method=method)  # fmt: skip
    assert str(f.status) in ("unbounded", "information_singular") and not f.converged
