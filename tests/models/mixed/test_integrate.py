"""The general Laplace approximation (``integrate``) against closed forms and the per-group one.

* A crossed linear mixed model: the Laplace marginal is exact, so it equals the
  multivariate-normal log-likelihood of y with covariance
  s^2 I + sa^2 Za Za' + sb^2 Zb Zb', in value, gradient, estimates and standard
  errors (the last checks that the outer Hessian is exact).
* A Poisson GLMM with correlated random intercepts and slopes per group: the
  general Laplace over all groups' effects at once equals the per-group
  ``laplace`` (independent blocks): the dense layout's fit (estimates and
  standard errors), and the marginal with a detected pattern at its estimates.
* The latent Hessian assembled from the coloured passes equals ``jax.hessian``
  for a non-linear AR(1) Poisson state-space model, and the engine's
  information equals a central difference of the exact gradient.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import pytest

import likelihax as lx
from likelihax.models.random_effects import (
    LatentPattern,
    integrate,
    laplace,
    latent_pattern,
    pad_groups,
)

POS = lx.constraints.positive


# ----- crossed LMM: exact ---------------------------------------------------------------
def _crossed_data(seed=3, n=150, na=9, nb=6):
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, na, n), rng.integers(0, nb, n)
    x = rng.normal(size=n)
    y = 1.0 + 0.5 * x + 0.8 * rng.normal(size=na)[i] + 0.6 * rng.normal(size=nb)[j]
    y = y + 0.7 * rng.normal(size=n)
    return {"y": y, "x": x, "i": i, "j": j}, na, nb


def _crossed_joint(p, d):
    mu = p["b0"] + p["b1"] * d["x"] + p["a"][d["i"]] + p["b"][d["j"]]
    return (st.norm.logpdf(d["y"], mu, p["s"]), st.norm.logpdf(p["a"], 0.0, p["sa"]),
            st.norm.logpdf(p["b"], 0.0, p["sb"]))  # fmt: skip


def _crossed_exact(na, nb):
    def loglik(p, d):
        Za = jax.nn.one_hot(d["i"], na)
        Zb = jax.nn.one_hot(d["j"], nb)
        V = (p["s"] ** 2 * jnp.eye(d["y"].shape[0]) + p["sa"] ** 2 * Za @ Za.T
             + p["sb"] ** 2 * Zb @ Zb.T)  # fmt: skip
        return st.multivariate_normal.logpdf(d["y"], p["b0"] + p["b1"] * d["x"], V)

    return loglik


START = {"b0": 0.0, "b1": 0.0, "s": 1.0, "sa": 1.0, "sb": 1.0}
CONS = {"s": POS, "sa": POS, "sb": POS}


@pytest.fixture(scope="module")
def crossed():
    data, na, nb = _crossed_data()
    pat = latent_pattern(_crossed_joint, {**START, "a": np.zeros(na), "b": np.zeros(nb)},
                         data, ["a", "b"])  # fmt: skip
    return data, na, nb, pat


def test_pattern_of_two_crossed_factors(crossed):
    data, na, nb, pat = crossed
    assert pat.n_colors == 2 and pat.passes == 3
    assert pat.n_terms == data["y"].size + na + nb
    # Every observation touches its own level of each factor.
    n = data["y"].size
    touched = sorted({int(c) for c in pat.columns[:, :n].ravel() if c >= 0})
    assert touched == list(range(na + nb))
    cols = np.sort(pat.columns[:, :n], axis=0)
    np.testing.assert_array_equal(cols, np.stack([data["i"], na + data["j"]]))


def test_patterns_compare_by_content(crossed):
    """Detected again from the same density and data: an equal pattern (so an
    equal model, one compiled program); other data: a different one."""
    data, na, nb, pat = crossed
    again = latent_pattern(_crossed_joint, {**START, "a": np.zeros(na), "b": np.zeros(nb)},
                           data, ["a", "b"])  # fmt: skip
    assert again == pat and hash(again) == hash(pat) and again is not pat
    assert integrate(_crossed_joint, {"a": na, "b": nb}, pattern=again) == integrate(
        _crossed_joint, {"a": na, "b": nb}, pattern=pat)
    other = dict(data, j=np.roll(data["j"], 1))
    moved = latent_pattern(_crossed_joint, {**START, "a": np.zeros(na), "b": np.zeros(nb)},
                           other, ["a", "b"])  # fmt: skip
    assert moved != pat


@pytest.fixture(scope="module")
def crossed_exact(crossed):
    """The exact log-likelihood and its gradient at one point (float64)."""
    data, na, nb, pat = crossed
    p = {"b0": 0.9, "b1": 0.4, "s": 0.8, "sa": 0.7, "sb": 0.5}
    with lx.core.x64_scope():
        jd = jax.tree_util.tree_map(jnp.asarray, data)
        jp = {k: jnp.asarray(v, jnp.float64) for k, v in p.items()}
        value, grad = jax.jit(jax.value_and_grad(_crossed_exact(na, nb)))(jp, jd)
    return p, float(value), {k: float(v) for k, v in grad.items()}


@pytest.mark.parametrize("how", ["pattern", "dense", "pattern-quadratic"])
def test_crossed_lmm_marginal_is_the_exact_likelihood(crossed, crossed_exact, how):
    data, na, nb, pat = crossed
    m = integrate(_crossed_joint, {"a": na, "b": nb},
                  pattern=None if how == "dense" else pat,
                  quadratic=how.endswith("quadratic"))  # fmt: skip
    p, ref, g_ref = crossed_exact
    with lx.core.x64_scope():
        jd = jax.tree_util.tree_map(jnp.asarray, data)
        jp = {k: jnp.asarray(v, jnp.float64) for k, v in p.items()}
        value, g = jax.jit(jax.value_and_grad(m))(jp, jd)
    assert float(value) == pytest.approx(ref, rel=1e-11)
    for k in p:
        assert float(g[k]) == pytest.approx(g_ref[k], rel=1e-7, abs=1e-9)


def test_crossed_lmm_fit_equals_the_exact_fit(crossed):
    data, na, nb, pat = crossed
    fit = lx.fit(integrate(_crossed_joint, {"a": na, "b": nb}, pattern=pat), START, data,
                 constraints=CONS)  # fmt: skip
    ref = lx.fit(_crossed_exact(na, nb), START, data, constraints=CONS)
    assert fit.converged and ref.converged
    assert float(fit.loglik) == pytest.approx(float(ref.loglik), rel=1e-10)
    for k in START:
        assert float(fit.params[k]) == pytest.approx(float(ref.params[k]), rel=1e-6)
        # SEs from the outer Hessian: exact second derivatives of the marginal.
        assert float(fit.se[k]) == pytest.approx(float(ref.se[k]), rel=1e-6)


# ----- GLMM: general == per-group -----------------------------------------------------------
def _glmm_data(seed=5, G=25, m=8):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(G), m)
    x = rng.normal(size=G * m)
    b = rng.normal(size=(G, 2)) * [0.6, 0.3]
    y = rng.poisson(np.exp(0.3 + 0.5 * x + b[g, 0] + b[g, 1] * x))
    return g, x, y.astype(float), G


def _cov(p):
    L = jnp.array([[p["l1"], 0.0], [p["l21"], p["l2"]]])
    return L @ L.T


def _glmm_joint_group(p, d):
    eta = p["b0"] + p["b1"] * d["x"] + p["u"][0] + p["u"][1] * d["x"]
    ll = jnp.sum(d["mask"] * st.poisson.logpmf(d["y"], jnp.exp(eta)))
    return ll + st.multivariate_normal.logpdf(p["u"], jnp.zeros(2), _cov(p))


def _glmm_joint_all(p, d):
    u = p["u"]  # (G, 2)
    eta = p["b0"] + p["b1"] * d["x"] + u[d["g"], 0] + u[d["g"], 1] * d["x"]
    return (st.poisson.logpmf(d["y"], jnp.exp(eta)),
            st.multivariate_normal.logpdf(u, jnp.zeros(2), _cov(p)))  # fmt: skip


GLMM_START = {"b0": 0.0, "b1": 0.0, "l1": 0.5, "l21": 0.0, "l2": 0.5}
GLMM_CONS = {"l1": POS, "l2": POS}


@pytest.fixture(scope="module")
def per_group_fit():
    g, x, y, G = _glmm_data()
    padded, _ = pad_groups(g, {"y": y, "x": x})
    return lx.fit(laplace(_glmm_joint_group, {"u": 2}), GLMM_START, padded,
                  constraints=GLMM_CONS)  # fmt: skip


def test_general_laplace_equals_per_group(per_group_fit):
    """The dense layout's fit (its SEs check the outer Hessian through
    ``jax.hessian`` of the joint; the pattern layout's outer Hessian is checked
    by the crossed LMM's fit), and the marginal with a detected pattern at the
    same estimates."""
    g, x, y, G = _glmm_data()
    data = {"y": y, "x": x, "g": g}
    fit = lx.fit(integrate(_glmm_joint_all, {"u": (G, 2)}), GLMM_START, data,
                 constraints=GLMM_CONS)  # fmt: skip
    ref = per_group_fit
    assert fit.converged and ref.converged
    assert float(fit.loglik) == pytest.approx(float(ref.loglik), rel=1e-10)
    for k in GLMM_START:
        assert float(fit.params[k]) == pytest.approx(float(ref.params[k]), rel=1e-6, abs=1e-8)
        assert float(fit.se[k]) == pytest.approx(float(ref.se[k]), rel=1e-6)
    pat = latent_pattern(_glmm_joint_all, {**GLMM_START, "u": np.zeros((G, 2))}, data, ["u"])
    # Observation terms touch 2 entries of their group, prior terms the same 2.
    assert pat.n_colors == 2
    m = integrate(_glmm_joint_all, {"u": (G, 2)}, pattern=pat)
    with lx.core.x64_scope():
        jp = {k: jnp.asarray(v, jnp.float64) for k, v in ref.params.items()}
        value = jax.jit(m)(jp, jax.tree_util.tree_map(jnp.asarray, data))
    assert float(value) == pytest.approx(float(ref.loglik), rel=1e-10)


def test_random_effects_equal_per_group(per_group_fit):
    g, x, y, G = _glmm_data()
    data = {"y": y, "x": x, "g": g}
    m = integrate(_glmm_joint_all, {"u": (G, 2)})
    padded, _ = pad_groups(g, {"y": y, "x": x})
    params = per_group_fit.params
    mine = m.random_effects(params, data)
    ref = laplace(_glmm_joint_group, {"u": 2}).random_effects(params, padded)
    np.testing.assert_allclose(mine.modes["u"], ref.modes["u"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(mine.se["u"], ref.se["u"], rtol=1e-8)


# ----- AR(1) Poisson state space -----------------------------------------------------------
def _ar1_joint(p, d):
    u = p["u"]
    rho, sd = jnp.tanh(p["z"]), jnp.exp(p["lsd"])
    return (st.poisson.logpmf(d["y"], jnp.exp(p["mu"] + u)),
            st.norm.logpdf(u[1:], rho * u[:-1], sd),
            st.norm.logpdf(u[0], 0.0, sd / jnp.sqrt(1.0 - rho**2)))  # fmt: skip


def _ar1_data(T=60, seed=11):
    rng = np.random.default_rng(seed)
    u = np.zeros(T)
    for t in range(1, T):
        u[t] = 0.7 * u[t - 1] + 0.4 * rng.normal()
    return {"y": rng.poisson(np.exp(1.0 + u)).astype(float)}


AR1_START = {"mu": 0.5, "z": 0.0, "lsd": -0.5}


def test_coloured_hessian_equals_jax_hessian():
    data = _ar1_data()
    T = data["y"].size
    pat = latent_pattern(_ar1_joint, {**AR1_START, "u": np.zeros(T)}, data, ["u"])
    assert pat.n_colors == 2
    m = integrate(_ar1_joint, {"u": T}, pattern=pat)
    dense = integrate(_ar1_joint, {"u": T})
    with lx.core.x64_scope():
        u = jnp.asarray(np.random.default_rng(0).normal(size=T))
        th = {k: jnp.asarray(v, jnp.float64) for k, v in AR1_START.items()}
        jd = {"y": jnp.asarray(data["y"])}
        np.testing.assert_allclose(m._neg_hess(th, u, jd), dense._neg_hess(th, u, jd),
                                   rtol=1e-12, atol=1e-12)  # fmt: skip


def test_outer_information_is_the_derivative_of_the_exact_gradient():
    data = _ar1_data()
    T = data["y"].size
    pat = latent_pattern(_ar1_joint, {**AR1_START, "u": np.zeros(T)}, data, ["u"])
    m = integrate(_ar1_joint, {"u": T}, pattern=pat)
    fit = lx.fit(m, AR1_START, data)
    assert fit.converged
    # No constraints: the optimizer's coordinates are the parameters. The
    # information is minus the Hessian of the marginal; compare it with a
    # central difference of the exact gradient.
    names = fit.unconstrained_labels
    with lx.core.x64_scope():
        jd = {"y": jnp.asarray(data["y"])}

        @jax.jit
        def grad_u(v):
            return jax.grad(lambda w: m(dict(zip(names, w)), jd))(v)

        u0 = jnp.asarray(fit.params_unconstrained)
        h = 1e-5
        cols = [(grad_u(u0 + h * e) - grad_u(u0 - h * e)) / (2 * h)
                for e in jnp.eye(u0.size)]  # fmt: skip
    fd = -np.stack([np.asarray(c) for c in cols], 1)
    np.testing.assert_allclose(fit.information, fd, rtol=2e-6, atol=1e-6)


# ----- input checks and the factorization under jit(hessian) -------------------------------
def test_bad_input_is_named():
    with pytest.raises(ValueError, match="random must map"):
        integrate(_ar1_joint, ["u"])
    with pytest.raises(ValueError, match="size 0"):
        integrate(_ar1_joint, {"u": 0})
    pat = LatentPattern.from_supports([0, 1], [0, 1], n_terms=2, n_latent=2)
    with pytest.raises(ValueError, match="pattern has 2 latent entries; random declares 3"):
        integrate(_ar1_joint, {"u": 3}, pattern=pat)
    with pytest.raises(ValueError, match=r"Latent entries \[2\] are touched by no term"):
        LatentPattern.from_supports([0, 1], [0, 1], n_terms=2, n_latent=3)
    with pytest.raises(ValueError, match="not in params"):
        latent_pattern(_ar1_joint, AR1_START, _ar1_data(), ["u"])
    m = integrate(_ar1_joint, {"u": 60})
    with pytest.raises(ValueError, match="are latent"):
        m({**AR1_START, "u": np.zeros(60)}, _ar1_data())


def test_outer_hessian_through_the_cholesky_does_not_hang():
    """jit(hessian) through one LAPACK Cholesky (see the batched-Cholesky hazard
    reproduced in tests/models/mixed/test_laplace.py) finishes in a fresh
    process, run at five points (a deadlock happens, or not, at each run)."""
    child = textwrap.dedent(
        """
        import numpy as np, jax, jax.numpy as jnp, jax.scipy.stats as st
        jax.config.update("jax_enable_x64", True)
        from likelihax.models.random_effects import integrate
        rng = np.random.default_rng(0)
        i = rng.integers(0, 40, 400)
        y = rng.normal(size=40)[i] + rng.normal(size=400)
        def joint(p, d):
            return (st.norm.logpdf(d["y"], p["m"] + p["a"][d["i"]], jnp.exp(p["ls"])),
                    st.norm.logpdf(p["a"], 0.0, jnp.exp(p["la"])))
        m = integrate(joint, {"a": 40})
        f = lambda t: m({"m": t[0], "ls": t[1], "la": t[2]}, {"y": y, "i": i})
        hess = jax.jit(jax.hessian(f))
        for k in range(5):
            H = hess(jnp.array([0.1, 0.0, 0.0]) + 0.05 * k)
            print(float(jax.block_until_ready(H)[0, 0]))
        """
    )
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    values = [float(v) for v in out.stdout.split()]
    assert len(values) == 5 and np.all(np.isfinite(values))


def test_bordered_hessian_equals_jax_hessian(crossed):
    """With lead blocks (the first factor's levels), the coloured Hessian is held
    as a bordered matrix; its dense form is jax.hessian's."""
    data, na, nb, pat = crossed
    assert pat.lead == (na, 1) and pat.border.shape[0] == na
    m = integrate(_crossed_joint, {"a": na, "b": nb}, pattern=pat)
    dense = integrate(_crossed_joint, {"a": na, "b": nb})
    with lx.core.x64_scope():
        u = jnp.asarray(np.random.default_rng(1).normal(size=na + nb))
        th = {k: jnp.asarray(v, jnp.float64) for k, v in
              {"b0": 0.9, "b1": 0.4, "s": 0.8, "sa": 0.7, "sb": 0.5}.items()}  # fmt: skip
        jd = jax.tree_util.tree_map(jnp.asarray, data)
        A = m._neg_hess(th, u, jd)
        np.testing.assert_allclose(A.dense(), dense._neg_hess(th, u, jd), rtol=1e-12,
                                   atol=1e-12)  # fmt: skip
    ar1 = latent_pattern(_ar1_joint, {**AR1_START, "u": np.zeros(20)},
                         {"y": _ar1_data()["y"][:20]}, ["u"])  # fmt: skip
    assert ar1.lead is None  # neighbouring states are linked: held dense
