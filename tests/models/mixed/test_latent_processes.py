"""Latent processes integrated out by the general Laplace approximation (``integrate``).

Reference numbers: tests/reference/latent_processes.R (glmmTMB 1.1.5, TMB
1.9.2, R 4.2.2) -> tests/reference/latent_processes_results.csv; simulated
data in latent_processes_data_*.csv.

* ar1_pois: a Poisson state-space count model, y_t ~ Poisson(exp(mu + u_t)),
  u a stationary AR(1), T = 200; glmmTMB ``y ~ 1 + ar1(time + 0 | group)``.
* ar1_gauss: y_t = mu + u_t + e_t, T = 300; glmmTMB, the same formula,
  Gaussian (exact, as is ``integrate`` with ``quadratic=True``), and the
  multivariate-normal log-likelihood computed in R.
* gmrf_pois / gmrf_gauss: a proper CAR field on a 12 x 12 lattice, precision
  tau (D - rho W), under Poisson and Gaussian observations; references from
  dense R code (the textbook Laplace approximation, and the exact
  multivariate-normal marginal), as glmmTMB has no CAR structure.
* rw_gauss: a Gaussian local-level model, y_t = u_t + e_t with a random walk
  u_1 ~ N(mu, sd^2), u_t = u_{t-1} + N(0, sd^2), T = 120, simulated here;
  against the exact marginal y ~ N(mu 1, sd^2 K + sigma^2 I), K_ij =
  min(i, j), maximised by scipy (mu profiled out by generalised least
  squares), with the conditional means and SDs of u in closed form.
* Band storage against the dense layout: the fit of ar1_pois (estimates,
  SEs, conditional modes and SDs), and the CAR lattice's permuted band at the
  dense estimates (marginal, conditional modes and SDs).

glmmTMB's ar1 reports the marginal SD of u and the lag-one correlation rho;
the joints below take the same SD and rho = tanh(z), with innovation SD
sd * sqrt(1 - rho^2). The CAR log-determinant uses the eigenvalues of
D^-1/2 W D^-1/2: log det(D - rho W) = sum log d_i + sum log(1 - rho lambda_k).

Tolerances: log-likelihood 1e-6 relative for the Poisson models (1e-8 for
the Gaussian ones, where the approximation is exact), parameters 1e-4, the SE
of mu 1e-3 (the references' SEs come from a finite-difference Hessian of an
exact gradient, or from numDeriv), conditional modes of u and their
conditional SDs given the parameters 1e-4.
The random walk, against scipy in this file: log-likelihood 1e-8,
parameters 1e-5, SEs 1e-5 (a central-difference Hessian of the exact
marginal), conditional means and SDs 1e-8.
"""

from __future__ import annotations

import functools
import math
import pathlib

import jax
import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import pandas as pd
import pytest
import scipy.linalg as sla
import scipy.optimize as so

import likelihax as lx

REF = pathlib.Path(__file__).resolve().parents[2] / "reference"
RES = pd.read_csv(REF / "latent_processes_results.csv")
POS = lx.constraints.positive


def ref(model, kind, term, software):
    r = RES[(RES.model == model) & (RES.software == software) & (RES.kind == kind)
            & (RES.term == term)]  # fmt: skip
    assert len(r) == 1, (model, kind, term, software)
    return float(r.value.iloc[0])


def ref_vector(model, kind, prefix, n, software):
    r = RES[(RES.model == model) & (RES.software == software) & (RES.kind == kind)]
    values = dict(zip(r.term, r.value.astype(float)))
    return np.array([values[f"{prefix}{i}"] for i in range(1, n + 1)])


# ----- joint log-densities ------------------------------------------------------------
def _ar1_prior(u, sd, rho):
    """Stationary AR(1) with marginal SD ``sd``: one term per transition, one for u_1."""
    return (st.norm.logpdf(u[1:], rho * u[:-1], sd * jnp.sqrt(1.0 - rho**2)),
            st.norm.logpdf(u[0], 0.0, sd))  # fmt: skip


def ar1_pois_joint(p, d):
    u = p["u"]
    return (st.poisson.logpmf(d["y"], jnp.exp(p["mu"] + u)),
            *_ar1_prior(u, p["sd"], jnp.tanh(p["z"])))  # fmt: skip


def ar1_gauss_joint(p, d):
    u = p["u"]
    return (st.norm.logpdf(d["y"], p["mu"] + u, p["sigma"]),
            *_ar1_prior(u, p["sd"], jnp.tanh(p["z"])))  # fmt: skip


def _car_prior(u, tau, rho, d):
    """log N(u; 0, Q^-1), Q = tau (D - rho W): a term per site (the diagonal of Q),
    one per edge, and the normalising constant."""
    n = u.shape[0]
    logdet = n * jnp.log(tau) + jnp.sum(jnp.log(d["deg"])) + jnp.sum(jnp.log1p(-rho * d["lam"]))
    return (-0.5 * tau * d["deg"] * u**2,
            tau * rho * u[d["edge_i"]] * u[d["edge_j"]],
            0.5 * logdet - 0.5 * n * math.log(2 * math.pi))  # fmt: skip


def gmrf_pois_joint(p, d):
    u = p["u"]
    return (st.poisson.logpmf(d["y"], jnp.exp(p["mu"] + u)),
            *_car_prior(u, p["tau"], jnp.tanh(p["z"]), d))  # fmt: skip


def gmrf_gauss_joint(p, d):
    u = p["u"]
    return (st.norm.logpdf(d["y"], p["mu"] + u, p["sigma"]),
            *_car_prior(u, p["tau"], jnp.tanh(p["z"]), d))  # fmt: skip


# ----- data and fits --------------------------------------------------------------------
def _lattice(df):
    """Rook neighbours of the lattice sites, their numbers and the eigenvalues of
    D^-1/2 W D^-1/2."""
    r, c = df["row"].to_numpy(), df["col"].to_numpy()
    adj = (np.abs(r[:, None] - r[None, :]) + np.abs(c[:, None] - c[None, :])) == 1
    i, j = np.nonzero(np.triu(adj))
    deg = adj.sum(1).astype(float)
    lam = np.linalg.eigvalsh(adj / np.sqrt(np.outer(deg, deg)))
    return {"edge_i": i, "edge_j": j, "deg": deg, "lam": lam}


MODELS = {
    # name: (joint, response column, start, constraints, Gaussian)
    "ar1_pois": (ar1_pois_joint, "y", {"mu": 0.0, "sd": 0.5, "z": 0.0}, {"sd": POS}, False),
    "ar1_gauss": (ar1_gauss_joint, "y", {"mu": 2.0, "sd": 0.5, "z": 0.0, "sigma": 0.5},
                  {"sd": POS, "sigma": POS}, True),
    "gmrf_pois": (gmrf_pois_joint, "count", {"mu": 0.0, "tau": 1.0, "z": 0.5}, {"tau": POS},
                  False),
    "gmrf_gauss": (gmrf_gauss_joint, "yg", {"mu": 1.0, "tau": 1.0, "z": 0.5, "sigma": 0.5},
                   {"tau": POS, "sigma": POS}, True),
}  # fmt: skip


@functools.cache
def fitted(name, banded=None):
    joint, col, start, cons, gaussian = MODELS[name]
    file = name if name.startswith("ar1") else "gmrf"  # both lattice models share one file
    df = pd.read_csv(REF / f"latent_processes_data_{file}.csv")
    data = {"y": df[col].to_numpy(float)}
    if name.startswith("gmrf"):
        data.update(_lattice(df))
    n = data["y"].size
    pat = lx.latent_pattern(joint, {**start, "u": np.zeros(n)}, data, ["u"], banded=banded)
    marginal = lx.integrate(joint, {"u": n}, pattern=pat, quadratic=gaussian)
    fit = lx.fit(marginal, start, data, constraints=cons)
    return pat, marginal, fit, data


def _check(name, software, prefix, params, se_mu_rel=1e-3, banded=None):
    pat, marginal, fit, data = fitted(name, banded)
    gaussian = MODELS[name][4]
    assert fit.converged
    ll = ref(name, "stat", "logLik", software)
    assert float(fit.loglik) == pytest.approx(ll, rel=1e-8 if gaussian else 1e-6)
    est = {k: float(v) for k, v in fit.params.items()}
    est["rho"] = math.tanh(est.pop("z"))
    for mine, (kind, term) in params.items():
        assert est[mine] == pytest.approx(ref(name, kind, term, software), rel=1e-4), mine
    assert float(fit.se["mu"]) == pytest.approx(ref(name, "se", "(Intercept)", software),
                                                rel=se_mu_rel)  # fmt: skip
    n = data["y"].size
    re = marginal.random_effects(fit.params, data)
    np.testing.assert_allclose(re.modes["u"], ref_vector(name, "ranef", prefix, n, software),
                               rtol=1e-4, atol=1e-6)  # fmt: skip
    np.testing.assert_allclose(
        re.se["u"], ref_vector(name, "ranef_se_cond", prefix, n, software), rtol=1e-4
    )
    return pat


def _band_pattern(name):
    """The pattern of a model's joint in band storage (no fit)."""
    joint, _, start, _, _ = MODELS[name]
    data = fitted(name)[3]
    return lx.latent_pattern(joint, {**start, "u": np.zeros(data["y"].size)}, data, ["u"],
                             banded=True)  # fmt: skip


def test_ar1_poisson_state_space_against_glmmtmb():
    pat = _check("ar1_pois", "glmmTMB", "time",
                 {"mu": ("fixef", "(Intercept)"), "sd": ("ar1", "sd"), "rho": ("ar1", "rho")})
    # 200 states: dense by default; in band storage, one off-diagonal.
    assert pat.bandwidth is None and _band_pattern("ar1_pois").bandwidth == 1
    # A transition term touches u_{t-1} and u_t, an observation u_t: two colours.
    assert pat.n_colors == 2 and pat.n_terms == 200 + 199 + 1
    # Dense R code (the textbook Laplace approximation) at glmmTMB's estimates.
    _, _, fit, _ = fitted("ar1_pois")
    assert float(fit.loglik) == pytest.approx(
        ref("ar1_pois", "stat", "logLik_laplace", "R"), rel=1e-9
    )


def test_ar1_gaussian_is_exact_against_glmmtmb():
    pat = _check("ar1_gauss", "glmmTMB", "time",
                 {"mu": ("fixef", "(Intercept)"), "sd": ("ar1", "sd"), "rho": ("ar1", "rho"),
                  "sigma": ("sigma", "sigma")})  # fmt: skip
    assert pat.n_colors == 2
    _, _, fit, _ = fitted("ar1_gauss")
    assert float(fit.loglik) == pytest.approx(
        ref("ar1_gauss", "stat", "logLik_exact", "R"), rel=1e-10
    )


def test_gmrf_poisson_against_dense_laplace():
    pat = _check("gmrf_pois", "R", "site",
                 {"mu": ("fixef", "(Intercept)"), "tau": ("car", "tau"), "rho": ("car", "rho")})
    # reverse Cuthill-McKee: the band of a 12 x 12 lattice is about 12 wide
    assert pat.bandwidth is None and 11 <= _band_pattern("gmrf_pois").bandwidth <= 14
    # Edge terms touch two neighbouring sites; the lattice is bipartite, so the
    # greedy colouring finds the checkerboard.
    assert pat.n_colors == 2 and pat.passes == 3
    assert pat.n_terms == 144 + 2 * 12 * 11 + 144 + 1


def test_gmrf_gaussian_against_exact_likelihood():
    pat = _check("gmrf_gauss", "R", "site",
                 {"mu": ("fixef", "(Intercept)"), "tau": ("car", "tau"), "rho": ("car", "rho"),
                  "sigma": ("sigma", "sigma")})  # fmt: skip
    assert pat.n_colors == 2


def test_band_storage_gives_the_dense_numbers():
    """Band storage (one off-diagonal): LAPACK's banded Cholesky, the selected
    inverse for the gradient, and the observed information by central
    differences of that exact gradient (as TMB's sdreport). Against the dense
    path's exact forward-over-reverse information: estimates to 1e-9, SEs to
    1e-7, the conditional modes and SDs to 1e-9."""
    _, m_dense, dense, data = fitted("ar1_pois")
    _, m_band, band, _ = fitted("ar1_pois", True)
    assert band.status == dense.status
    assert float(band.loglik) == pytest.approx(float(dense.loglik), rel=1e-12)
    for k in dense.params:
        assert float(band.params[k]) == pytest.approx(float(dense.params[k]), rel=1e-9)
        assert float(band.se[k]) == pytest.approx(float(dense.se[k]), rel=1e-7)
    re_d, re_b = m_dense.random_effects(dense.params, data), m_band.random_effects(band.params, data)
    np.testing.assert_allclose(re_b.modes["u"], re_d.modes["u"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(re_b.se["u"], re_d.se["u"], rtol=1e-9)


def test_permuted_band_gives_the_dense_numbers():
    """A wide band in a reverse Cuthill-McKee order (the CAR lattice): at the
    dense fit's estimates, the marginal (the band's log-determinant) to 1e-12,
    the conditional modes and SDs (the selected inverse, back in the sites'
    order) to 1e-9."""
    _, m_dense, dense, data = fitted("gmrf_pois")
    pat = _band_pattern("gmrf_pois")
    assert not np.array_equal(pat.perm, np.arange(pat.perm.size))
    m_band = lx.integrate(MODELS["gmrf_pois"][0], {"u": data["y"].size}, pattern=pat)
    with lx.core.x64_scope():
        p = {k: jnp.asarray(v, jnp.float64) for k, v in dense.params.items()}
        value = jax.jit(m_band)(p, jax.tree_util.tree_map(jnp.asarray, data))
    assert float(value) == pytest.approx(float(dense.loglik), rel=1e-12)
    re_d = m_dense.random_effects(dense.params, data)
    re_b = m_band.random_effects(dense.params, data)
    np.testing.assert_allclose(re_b.modes["u"], re_d.modes["u"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(re_b.se["u"], re_d.se["u"], rtol=1e-9)


def test_long_series_takes_band_storage_by_default():
    """At 1,000 states and more the pattern holds the Hessian in band storage
    (a dense one would be 8 MB per copy and cubic to factorize)."""
    T = 1500
    y = np.random.default_rng(3).poisson(2.0, T).astype(float)
    start = {"mu": 0.0, "sd": 0.5, "z": 0.0}
    pat = lx.latent_pattern(ar1_pois_joint, {**start, "u": np.zeros(T)}, {"y": y}, ["u"])
    assert pat.bandwidth == 1 and pat.storage_size == 2 * T + 1
    np.testing.assert_array_equal(np.sort(pat.perm), np.arange(T))


# ----- a random walk, against the exact multivariate-normal marginal --------------------
def rw_gauss_joint(p, d):
    """Local level: y_t = u_t + e_t, u_1 ~ N(mu, sd^2), u_t = u_{t-1} + N(0, sd^2)."""
    u = p["u"]
    return (st.norm.logpdf(d["y"], u, p["sigma"]),
            st.norm.logpdf(u[1:], u[:-1], p["sd"]),
            st.norm.logpdf(u[0], p["mu"], p["sd"]))  # fmt: skip


def _rw_cov(T, sd, sigma):
    """V = sd^2 K + sigma^2 I, K_ij = min(i, j): the covariance of y under the walk."""
    t = np.arange(1, T + 1)
    return sd**2 * np.minimum.outer(t, t) + sigma**2 * np.eye(T)


def _rw_loglik(y, mu, sd, sigma):
    """The exact marginal log N(y; mu 1, V)."""
    cf = sla.cho_factor(_rw_cov(y.size, sd, sigma), lower=True)
    r = y - mu
    return (-0.5 * r @ sla.cho_solve(cf, r) - np.sum(np.log(np.diag(cf[0])))
            - 0.5 * y.size * math.log(2 * math.pi))  # fmt: skip


def _rw_gls_mu(y, sd, sigma):
    """The maximising mu given (sd, sigma): generalised least squares."""
    cf = sla.cho_factor(_rw_cov(y.size, sd, sigma), lower=True)
    one = np.ones(y.size)
    return (one @ sla.cho_solve(cf, y)) / (one @ sla.cho_solve(cf, one))


def test_random_walk_gaussian_is_exact_against_the_multivariate_normal():
    T = 120
    rng = np.random.default_rng(1120)
    u = 1.0 + np.cumsum(0.3 * rng.standard_normal(T))
    y = u + 0.5 * rng.standard_normal(T)
    data = {"y": y}

    # reference: maximise the exact marginal over (log sd, log sigma), mu profiled
    def profile(v):
        sd, sigma = np.exp(v)
        return -_rw_loglik(y, _rw_gls_mu(y, sd, sigma), sd, sigma)

    opts = {"xatol": 1e-11, "fatol": 1e-13, "maxiter": 4000}
    opt = so.minimize(profile, np.log([0.5, 0.5]), method="Nelder-Mead", options=opts)
    assert opt.success
    sd_r, sigma_r = np.exp(opt.x)
    mu_r = _rw_gls_mu(y, sd_r, sigma_r)
    ll_r = _rw_loglik(y, mu_r, sd_r, sigma_r)

    start = {"mu": 0.0, "sd": 0.5, "sigma": 0.5}
    pat = lx.latent_pattern(rw_gauss_joint, {**start, "u": np.zeros(T)}, data, ["u"])
    assert pat.n_colors == 2 and pat.n_terms == T + (T - 1) + 1
    marginal = lx.integrate(rw_gauss_joint, {"u": T}, pattern=pat, quadratic=True)
    fit = lx.fit(marginal, start, data, constraints={"sd": POS, "sigma": POS})
    assert fit.converged
    assert float(fit.loglik) == pytest.approx(ll_r, rel=1e-8)
    est = {k: float(v) for k, v in fit.params.items()}
    for k, v in {"mu": mu_r, "sd": sd_r, "sigma": sigma_r}.items():
        assert est[k] == pytest.approx(v, rel=1e-5), k

    # SEs: the inverse of a central-difference Hessian of the exact marginal
    x0, h = np.array([mu_r, sd_r, sigma_r]), 1e-4 * np.array([1.0, sd_r, sigma_r])
    H = np.empty((3, 3))
    for a in range(3):
        for b in range(3):
            ea, eb = np.eye(3)[a] * h[a], np.eye(3)[b] * h[b]
            H[a, b] = (_rw_loglik(y, *(x0 + ea + eb)) - _rw_loglik(y, *(x0 + ea - eb))
                       - _rw_loglik(y, *(x0 - ea + eb)) + _rw_loglik(y, *(x0 - ea - eb))
                       ) / (4 * h[a] * h[b])  # fmt: skip
    se_r = np.sqrt(np.diag(np.linalg.inv(-H)))
    for k, v in zip(("mu", "sd", "sigma"), se_r):
        assert float(fit.se[k]) == pytest.approx(v, rel=1e-5), k

    # conditional distribution of u given y at the fitted parameters:
    # E[u | y] = mu + C V^-1 (y - mu), Cov[u | y] = C - C V^-1 C, C = sd^2 K
    mu, sd, sigma = est["mu"], est["sd"], est["sigma"]
    C = _rw_cov(T, sd, 0.0)
    cf = sla.cho_factor(_rw_cov(T, sd, sigma), lower=True)
    mean = mu + C @ sla.cho_solve(cf, y - mu)
    cond_sd = np.sqrt(np.diag(C - C @ sla.cho_solve(cf, C)))
    re = marginal.random_effects(fit.params, data)
    np.testing.assert_allclose(re.modes["u"], mean, rtol=1e-8)
    np.testing.assert_allclose(re.se["u"], cond_sd, rtol=1e-8)
