"""Explicit float32 mode: accuracy against float64 (the figures in the README).

Measured on this machine (logistic with 5 covariates and a normal model, N from
1e3 to 1e6): float32 estimates are within 1.1e-5 standard errors (about 1e-7
relative) of float64, standard errors within 5e-7 relative, log-likelihoods
within 1e-7 relative. The chunked sums keep float32 rounding small. The bounds
asserted here are 10-100x looser than those figures, and they fail for a
float32 computation without chunked accumulation of large N.
"""

from __future__ import annotations

import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import pytest

import likelihax as lx


def logistic(params, data):
    eta = params["a"] + data["X"] @ params["b"]
    return data["y"] * eta - jnp.logaddexp(0.0, eta)


def normal(params, data):
    return st.norm.logpdf(data["y"], params["mu"], params["s"])


@pytest.fixture(scope="module")
def logistic_pair():
    rng = np.random.default_rng(8)
    n = 200_000
    X = rng.standard_normal((n, 5))
    eta = 0.3 + X @ np.array([0.5, -0.3, 0.2, 0.1, -0.4])
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    d = {"X": X, "y": y}
    start = {"a": 0.0, "b": np.zeros(5)}
    return lx.fit(logistic, start, d), lx.fit(logistic, start, d, dtype="float32")


def _flat(tree):
    return np.concatenate([np.ravel(np.asarray(v, float)) for v in tree.values()])


def test_float32_logistic_accuracy(logistic_pair):
    f64, f32 = logistic_pair
    assert f32.dtype == "float32" and f32.converged
    p64, p32 = _flat(f64.params), _flat(f32.params)
    s64, s32 = _flat(f64.se), _flat(f32.se)
    assert np.max(np.abs(p32 - p64) / s64) < 1e-3  # in standard errors
    assert np.max(np.abs(s32 - s64) / s64) < 1e-4
    assert abs(float(f32.loglik) - float(f64.loglik)) / abs(float(f64.loglik)) < 1e-5
    assert np.asarray(f32.cov).dtype == np.float32


def test_float32_normal_accuracy():
    y = {"y": np.random.default_rng(9).normal(3.0, 2.0, 200_000)}
    kw = dict(constraints={"s": lx.constraints.positive})
    a = lx.fit(normal, {"mu": 0.0, "s": 1.0}, y, **kw)
    b = lx.fit(normal, {"mu": 0.0, "s": 1.0}, y, dtype="float32", **kw)
    assert abs(float(b.params["mu"]) - float(a.params["mu"])) / float(a.se["mu"]) < 1e-3
    assert abs(float(b.params["s"]) / float(a.params["s"]) - 1) < 1e-5
    assert abs(float(b.se["s"]) / float(a.se["s"]) - 1) < 1e-4
