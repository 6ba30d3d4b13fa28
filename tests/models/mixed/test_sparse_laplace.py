"""The general Laplace approximation with the latent Hessian in sparse storage.

A Gaussian Markov random field on an irregular graph (the Delaunay
triangulation of random points: no narrow band in any ordering), a proper CAR
precision tau (D - rho W), under Poisson counts (two per site) and Gaussian
observations, through ``lx.integrate``:

* sparse layout (QDLDL's LDL' factorization, Takahashi's selected inverse for
  the gradient, the observed information by central differences of that
  exact gradient) against the dense layout (LAPACK's Cholesky, the exact
  forward-over-reverse information): marginal log-likelihood 1e-9, estimates
  1e-7, standard errors 1e-6, conditional modes 1e-8;
* Gaussian observations: the Laplace marginal is exact, so it and its
  gradient equal the multivariate-normal log-density of the data,
  y ~ N(mu, Q^-1 + sigma^2 I), computed densely;
* the automatic choice of layout, bad input, a missing ``qdldl``, and a
  latent Hessian that is not positive definite.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import pytest

import likelihax as lx
from likelihax.core import x64_scope
from likelihax.models.random_effects import LatentPattern
from likelihax.models.random_effects import _pattern

pytest.importorskip("qdldl")
POS = lx.constraints.positive


def mesh(n, seed=0):
    """Edges of the Delaunay triangulation of n random points in the unit square."""
    from scipy.spatial import Delaunay

    s = Delaunay(np.random.default_rng(seed).random((n, 2))).simplices
    return np.unique(np.sort(np.concatenate([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]]), 1),
                     axis=0)  # fmt: skip


def car_data(n, seed=0):
    e = mesh(n, seed)
    deg = np.bincount(e.ravel(), minlength=n).astype(float)
    W = np.zeros((n, n))
    W[e[:, 0], e[:, 1]] = W[e[:, 1], e[:, 0]] = 1.0
    lam = np.linalg.eigvalsh(W / np.sqrt(np.outer(deg, deg)))
    return {"ei": e[:, 0], "ej": e[:, 1], "deg": deg, "lam": lam}, W


def car_prior(u, tau, rho, d):
    """log N(u; 0, Q^-1), Q = tau (D - rho W): a term per site, one per edge, the constant."""
    n = u.shape[0]
    logdet = n * jnp.log(tau) + jnp.sum(jnp.log(d["deg"])) + jnp.sum(jnp.log1p(-rho * d["lam"]))
    return (-0.5 * tau * d["deg"] * u**2, tau * rho * u[d["ei"]] * u[d["ej"]],
            0.5 * logdet - 0.5 * n * math.log(2 * math.pi))  # fmt: skip


def pois_joint(p, d):
    u = p["u"]
    return (st.poisson.logpmf(d["y"], jnp.exp(p["mu"] + u[d["site"]])),
            *car_prior(u, p["tau"], jnp.tanh(p["z"]), d))  # fmt: skip


def gauss_joint(p, d):
    u = p["u"]
    return (st.norm.logpdf(d["y"], p["mu"] + u, p["sigma"]),
            *car_prior(u, p["tau"], jnp.tanh(p["z"]), d))  # fmt: skip


N_SITES = 150
START = {"mu": 0.0, "tau": 1.0, "z": 0.5}


@functools.cache
def pois_data():
    d, _ = car_data(N_SITES)
    rng = np.random.default_rng(1)
    site = np.repeat(np.arange(N_SITES), 2)
    field = 0.6 * np.sin(6.0 * rng.random(N_SITES))
    return {**d, "site": site, "y": rng.poisson(np.exp(0.5 + field[site])).astype(float)}


@functools.cache
def fitted(sparse: bool):
    data = pois_data()
    pat = lx.latent_pattern(pois_joint, {**START, "u": np.zeros(N_SITES)}, data, ["u"],
                            sparse=sparse)  # fmt: skip
    m = lx.integrate(pois_joint, {"u": N_SITES}, pattern=pat)
    return pat, m, lx.fit(m, START, data, constraints={"tau": POS})


def test_sparse_layout_gives_the_dense_numbers():
    pat_s, m_s, sparse = fitted(True)
    pat_d, m_d, dense = fitted(False)
    assert pat_s.sparse is not None and pat_s.bandwidth is None and pat_s.lead is None
    assert pat_d.sparse is None and pat_d.bandwidth is None and pat_d.lead is None
    assert pat_s.n_colors == pat_d.n_colors >= 4  # a triangulation needs at least 4 colours
    assert sparse.converged and dense.converged
    assert float(sparse.loglik) == pytest.approx(float(dense.loglik), rel=1e-9)
    for k in dense.params:
        assert float(sparse.params[k]) == pytest.approx(float(dense.params[k]), rel=1e-7)
        assert float(sparse.se[k]) == pytest.approx(float(dense.se[k]), rel=1e-6)
    # conditional modes, and SDs from the selected inverse's diagonal
    data = pois_data()
    re_s = m_s.random_effects(sparse.params, data)
    re_d = m_d.random_effects(dense.params, data, full=True)
    np.testing.assert_allclose(re_s.modes["u"], re_d.modes["u"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(re_s.se["u"], np.sqrt(np.diag(re_d.cov)), rtol=1e-8)


def test_gaussian_marginal_and_gradient_are_the_exact_likelihood():
    """y = mu + u + e: the Laplace marginal is exact; against the dense
    multivariate-normal log-density of y and its gradient."""
    n = 120
    d, W = car_data(n, seed=2)
    y = 1.0 + np.random.default_rng(3).normal(size=n)
    data = {**d, "y": y}
    params = {"mu": 0.8, "tau": 1.5, "z": 0.4, "sigma": 0.7}
    pat = lx.latent_pattern(gauss_joint, {**params, "u": np.zeros(n)}, data, ["u"], sparse=True)
    assert pat.sparse is not None
    m = lx.integrate(gauss_joint, {"u": n}, pattern=pat, quadratic=True)

    def exact(p):
        Q = p["tau"] * (jnp.diag(d["deg"]) - jnp.tanh(p["z"]) * W)
        S = jnp.linalg.inv(Q) + p["sigma"] ** 2 * jnp.eye(n)
        return jax.scipy.stats.multivariate_normal.logpdf(y, p["mu"] * jnp.ones(n), S)

    with x64_scope():
        p = {k: jnp.asarray(v, jnp.float64) for k, v in params.items()}
        value, grad = jax.jit(jax.value_and_grad(m))(p, data)
        ref, ref_grad = jax.jit(jax.value_and_grad(exact))(p)
    assert float(value) == pytest.approx(float(ref), rel=1e-11)
    for k in params:
        assert float(grad[k]) == pytest.approx(float(ref_grad[k]), rel=1e-8, abs=1e-10)


def _supports(n_sites, seed=0):
    """Terms of a CAR prior on a mesh: a term per site and per edge."""
    e = mesh(n_sites, seed)
    rows = np.concatenate([np.arange(n_sites), n_sites + np.arange(len(e)),
                           n_sites + np.arange(len(e))])  # fmt: skip
    cols = np.concatenate([np.arange(n_sites), e[:, 0], e[:, 1]])
    return rows, cols, n_sites + len(e), n_sites


def _series(T):
    rows = np.concatenate([np.arange(T), T + np.arange(T - 1), T + np.arange(T - 1)])
    cols = np.concatenate([np.arange(T), np.arange(T - 1), np.arange(1, T)])
    return rows, cols, 2 * T - 1, T


def test_automatic_layout(monkeypatch):
    """From 1,000 latent entries: sparse for an irregular mesh, band storage for
    a series (band 1); dense below; without qdldl, the band or dense rule."""
    mesh_pat = LatentPattern.from_supports(*_supports(1200))
    assert mesh_pat.sparse is not None and mesh_pat.bandwidth is None
    assert mesh_pat.storage_size == mesh_pat.sparse.nnz + 1
    assert mesh_pat.sparse.nnz == 1200 + mesh(1200).shape[0]
    series = LatentPattern.from_supports(*_series(1500))
    assert series.bandwidth == 1 and series.sparse is None
    small = LatentPattern.from_supports(*_supports(400))
    assert small.sparse is None and small.bandwidth is None
    assert LatentPattern.from_supports(*_supports(400), sparse=True).sparse is not None
    assert LatentPattern.from_supports(*_supports(1200), sparse=False).sparse is None
    # the same content, the same pattern (compiled programs are shared)
    assert LatentPattern.from_supports(*_supports(1200)) == mesh_pat
    assert hash(LatentPattern.from_supports(*_supports(1200))) == hash(mesh_pat)
    assert mesh_pat != LatentPattern.from_supports(*_supports(1200), banded=True)
    monkeypatch.setattr(_pattern, "qdldl_available", lambda: False)
    no_qdldl = LatentPattern.from_supports(*_supports(1200))
    assert no_qdldl.sparse is None and no_qdldl.bandwidth is not None  # band < n / 4
    with pytest.raises(ImportError, match=r"pip install 'likelihax\[sparse\]'"):
        LatentPattern.from_supports(*_supports(400), sparse=True)


def test_bad_input():
    rows, cols, n_terms, n = _supports(60)
    with pytest.raises(ValueError, match="sparse=True excludes lead blocks and banded=True"):
        LatentPattern.from_supports(rows, cols, n_terms, n, sparse=True, banded=True)
    with pytest.raises(ValueError, match="sparse=True excludes lead blocks"):
        LatentPattern.from_supports(*_series(20), lead=(1, 1), sparse=True)
    d, _ = car_data(60)
    data = {**d, "y": np.ones(60)}
    params = {"mu": 0.0, "tau": 1.0, "z": 0.5, "sigma": 1.0, "u": np.zeros(60)}
    with pytest.raises(ValueError, match="sparse=True excludes"):
        lx.latent_pattern(gauss_joint, params, data, ["u"], sparse=True, banded=True)


def test_not_positive_definite_gives_nan_as_dense():
    """A latent Hessian that is not positive definite at the inner optimum: the
    marginal is NaN in both layouts (the fit would report a non-finite status)."""
    n = 60
    d, _ = car_data(n, seed=4)
    data = {**d, "y": np.zeros(n)}

    def joint(p, d):  # the CAR 'prior' with a negative precision: no maximum in u
        u = p["u"]
        prior = car_prior(u, p["tau"], 0.5, d)
        return (st.norm.logpdf(d["y"], u, 10.0), -prior[0], -prior[1])

    params = {"tau": 1.0, "u": np.zeros(n)}
    values = []
    for sparse in (True, False):
        pat = lx.latent_pattern(joint, params, data, ["u"], sparse=sparse)
        m = lx.integrate(joint, {"u": n}, pattern=pat, max_inner_steps=5)
        with x64_scope():
            values.append(float(jax.jit(m)({"tau": jnp.float64(1.0)}, data)))
    assert np.isnan(values).all()
