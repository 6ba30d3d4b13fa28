"""Warm starts of the Laplace approximation's inner Newton (``likelihax.objective.Problem``).

* From the mode of a nearby point, the marginal, its gradient and its Hessian
  are those of a start from zero (to the inner tolerance), and the state
  returned is the mode at the new point (the one a start from zero reaches).
* The engine's Newton carries the state: a model allowed only two inner steps
  per evaluation, far too few from zero, reaches the estimates of the default
  model, because each evaluation starts from the mode of the last accepted
  iterate.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import pytest

import likelihax as lx
from likelihax.core import x64_scope
from likelihax.models.random_effects import integrate, latent_pattern

POS = lx.constraints.positive


def _data(seed=5, n=400, na=30, nb=8):
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, na, n), rng.integers(0, nb, n)
    x = rng.normal(size=n)
    eta = 0.4 + 0.3 * x + 0.6 * rng.normal(size=na)[i] + 0.4 * rng.normal(size=nb)[j]
    return {"y": rng.poisson(np.exp(eta)).astype(float), "x": x, "i": i, "j": j}, na, nb


def _joint(p, d):
    eta = p["b0"] + p["b1"] * d["x"] + p["sa"] * p["a"][d["i"]] + p["sb"] * p["b"][d["j"]]
    return (st.poisson.logpmf(d["y"], jnp.exp(eta)), st.norm.logpdf(p["a"]),
            st.norm.logpdf(p["b"]))  # fmt: skip


START = {"b0": 0.2, "b1": 0.1, "sa": 0.5, "sb": 0.5}


@pytest.fixture(scope="module")
def model():
    d, na, nb = _data()
    pat = latent_pattern(_joint, {**START, "a": np.zeros(na), "b": np.zeros(nb)}, d,
                         ["a", "b"])  # fmt: skip
    return d, na, nb, pat


def test_warm_start_gives_the_cold_marginal_and_derivatives(model):
    with x64_scope():
        _check_warm_against_cold(*model)


def _check_warm_against_cold(d, na, nb, pat):
    m = integrate(_joint, {"a": na, "b": nb}, pattern=pat)
    p1 = {k: jnp.asarray(v, jnp.float64) for k, v in START.items()}
    p2 = {**p1, "b0": jnp.asarray(0.35, jnp.float64), "sa": jnp.asarray(0.65, jnp.float64)}
    d = {k: jnp.asarray(v) for k, v in d.items()}

    # One program for the marginal, the mode, the gradient and the Hessian from a
    # given start; the start is an argument, so a start from zero (cold) and
    # from the mode at p1 (warm) run the same compiled code.
    @jax.jit
    def evaluate(q, start):
        def f(r):
            return m.warm_call(r, d, start)

        (value, mode), grad = jax.value_and_grad(f, has_aux=True)(q)
        return value, mode, grad, jax.hessian(lambda r: f(r)[0])(q)

    zero = jnp.zeros(na + nb, jnp.float64)
    _, u1, _, _ = evaluate(p1, zero)
    cold, u_cold, g_cold, H_cold = evaluate(p2, zero)
    warm, u2, g_warm, H_warm = evaluate(p2, u1)
    assert abs(float(warm - cold)) <= 1e-10 * abs(float(cold))
    assert np.max(np.abs(np.asarray(u1 - u_cold))) > 1e-3  # a start away from the new mode
    np.testing.assert_allclose(np.asarray(u2), np.asarray(u_cold), rtol=1e-9, atol=1e-10)
    for k in p2:
        np.testing.assert_allclose(g_warm[k], g_cold[k], rtol=1e-8, atol=1e-9)
        for k2 in p2:
            np.testing.assert_allclose(H_warm[k][k2], H_cold[k][k2], rtol=1e-8, atol=1e-9)


def test_newton_starts_each_inner_solve_from_the_last_mode(model):
    d, na, nb, pat = model
    full = integrate(_joint, {"a": na, "b": nb}, pattern=pat)
    short = integrate(_joint, {"a": na, "b": nb}, pattern=pat, max_inner_steps=2)
    cons = {"sa": POS, "sb": POS}
    ref = lx.fit(full, START, d, constraints=cons)
    assert ref.converged
    # Two inner steps from zero are far from the mode at the estimate ...
    p_hat = {k: jnp.asarray(v) for k, v in ref.params.items()}
    assert abs(float(short(p_hat, d)) - ref.loglik) > 1e-3
    # ... but a fit carrying the mode from iterate to iterate gets there.
    fit = lx.fit(short, START, d, constraints=cons)
    assert fit.converged
    assert abs(fit.loglik - ref.loglik) <= 1e-9 * abs(ref.loglik)
    for k in START:
        np.testing.assert_allclose(fit.params[k], ref.params[k], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fit.se_flat, ref.se_flat, rtol=1e-5)
