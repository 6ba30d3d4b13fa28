"""Parameters as nested pytrees: nested dicts of arrays and Equinox modules.

A logistic regression written three ways (a flat dict, a nested dict, an
``equinox.nn.Linear`` layer split by ``eqx.partition``) is the same
likelihood: the same estimates, SEs and log-likelihood in ``lx.fit``, the
same MAP with a Gaussian prior in ``lx.fit_map`` (an L2 penalty, checked
against the closed-form gradient condition), and a result whose parameters
come back in the caller's structure. The flat fit is itself tested against
statsmodels elsewhere (tests/engine/test_reference.py).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import likelihax as lx

rng = np.random.default_rng(0)
X = rng.normal(size=(800, 3))
Y = (rng.uniform(size=800) < 1 / (1 + np.exp(-(0.3 + X @ [1.0, -0.5, 0.25])))).astype(float)
DATA = {"X": X, "y": Y}


def _bernoulli(eta, y):
    return y * eta - jnp.logaddexp(0.0, eta)


def flat(p, d):
    return _bernoulli(p["a"] + d["X"] @ p["b"], d["y"])


def nested(p, d):
    return _bernoulli(p["layer"]["bias"] + d["X"] @ p["layer"]["weight"], d["y"])


def test_nested_dicts_fit_as_the_flat_dict():
    f1 = lx.fit(flat, {"a": 0.0, "b": np.zeros(3)}, DATA)
    f2 = lx.fit(nested, {"layer": {"weight": np.zeros(3), "bias": 0.0}}, DATA)
    assert f2.converged and f2.loglik == pytest.approx(f1.loglik, rel=1e-13)
    np.testing.assert_allclose(np.asarray(f2.params["layer"]["weight"]),
                               np.asarray(f1.params["b"]), rtol=1e-10)  # fmt: skip
    np.testing.assert_allclose(np.asarray(f2.se["layer"]["weight"]),
                               np.asarray(f1.se["b"]), rtol=1e-10)  # fmt: skip
    assert float(f2.se["layer"]["bias"]) == pytest.approx(float(f1.se["a"]), rel=1e-10)


def test_nested_dicts_in_fit_map_are_an_l2_penalty():
    tau = 0.5
    start = {"layer": {"weight": np.zeros(3), "bias": 0.0}}
    priors = {"layer": lx.priors.Normal(0.0, tau)}  # on every leaf under "layer"
    m = lx.fit_map(nested, start, DATA, priors=priors)
    w = np.asarray(m.params["layer"]["weight"])
    b = float(m.params["layer"]["bias"])
    # the penalized score vanishes: X1'(y - mu) = theta / tau^2
    X1 = np.column_stack([np.ones(len(Y)), X])
    theta = np.concatenate([[b], w])
    mu = 1 / (1 + np.exp(-(X1 @ theta)))
    np.testing.assert_allclose(X1.T @ (Y - mu), theta / tau**2, atol=1e-8)


def test_an_equinox_layer_fits_as_the_flat_dict():
    eqx = pytest.importorskip("equinox")
    layer = eqx.nn.Linear(3, "scalar", key=jax.random.key(0))
    params, static = eqx.partition(layer, eqx.is_inexact_array)

    def loglik(p, d):
        lin = eqx.combine(p, static)
        return _bernoulli(jax.vmap(lin)(d["X"]), d["y"])

    f1 = lx.fit(flat, {"a": 0.0, "b": np.zeros(3)}, DATA)
    f2 = lx.fit(loglik, params, DATA)
    assert f2.converged and f2.loglik == pytest.approx(f1.loglik, rel=1e-13)
    fitted = eqx.combine(f2.params, static)  # the caller's structure comes back
    assert isinstance(fitted, eqx.nn.Linear)
    np.testing.assert_allclose(np.ravel(fitted.weight), np.asarray(f1.params["b"]),
                               rtol=1e-10)  # fmt: skip
    assert float(np.ravel(fitted.bias)[0]) == pytest.approx(float(f1.params["a"]), rel=1e-10)


def test_fit_stochastic_with_nested_dicts_and_an_equinox_layer():
    eqx = pytest.importorskip("equinox")
    optax = pytest.importorskip("optax")
    ref = lx.fit(flat, {"a": 0.0, "b": np.zeros(3)}, DATA)
    start = {"layer": {"weight": np.zeros(3), "bias": 0.0}}
    res = lx.fit_stochastic(nested, start, DATA, batch_size=128, steps=300)
    assert res.converged and float(res.loglik) == pytest.approx(float(ref.loglik), rel=1e-13)
    assert list(res.params) == ["layer"] and list(res.params["layer"]) == ["weight", "bias"]
    np.testing.assert_allclose(np.asarray(res.params["layer"]["weight"]),
                               np.asarray(ref.params["b"]), rtol=1e-8)  # fmt: skip
    np.testing.assert_allclose(np.asarray(res.se["layer"]["weight"]),
                               np.asarray(ref.se["b"]), rtol=1e-7)  # fmt: skip
    # an Equinox layer, unpolished: Adam with a decaying step alone lands within
    # a small fraction of a standard error of the full-batch MLE
    layer = eqx.nn.Linear(3, "scalar", key=jax.random.key(0))
    params, static = eqx.partition(layer, eqx.is_inexact_array)

    def loglik(p, d):
        return _bernoulli(jax.vmap(eqx.combine(p, static))(d["X"]), d["y"])

    adam = optax.adam(optax.cosine_decay_schedule(0.05, 1500))
    raw = lx.fit_stochastic(loglik, params, DATA, batch_size=200, steps=1500,
                            log_every=500, optimizer=adam, polish=False, warn=False)  # fmt: skip
    fitted = eqx.combine(raw.params, static)
    assert isinstance(fitted, eqx.nn.Linear) and raw.status == lx.Status.max_steps
    est = np.concatenate([np.ravel(fitted.bias), np.ravel(fitted.weight)])
    mle = np.concatenate([[ref.params["a"]], ref.params["b"]])
    se = np.concatenate([[ref.se["a"]], ref.se["b"]])
    assert np.max(np.abs(est - mle) / se) < 0.2
