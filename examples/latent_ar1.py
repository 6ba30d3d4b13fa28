"""A Poisson state-space model: counts driven by a latent AR(1) process.

Counts y_1..y_T (T = 200) are Poisson with log-mean mu + u_t, where the
latent u is a stationary AR(1) series,

    u_1 ~ N(0, sd^2),   u_t = rho u_{t-1} + e_t,   e_t ~ N(0, sd^2 (1 - rho^2)),

so ``sd`` is the marginal SD of u (glmmTMB's parametrisation) and rho the
lag-one correlation. The 200 latent states are integrated out of the joint
density by the Laplace approximation (``lx.integrate``, TMB's ``random=``).
The joint returns its terms (the observations, the transitions and the
first state); ``lx.latent_pattern`` finds that each term touches at most two
neighbouring states, so the 200 x 200 latent Hessian is assembled from three
forward-mode passes (two colours). ``lx.fit`` then maximises the marginal
likelihood over (mu, sd, rho), with sd > 0 and rho = tanh(z).

A random walk is the non-stationary limit: u_1 ~ N(mu, sd^2) and
u_t = u_{t-1} + e_t, e_t ~ N(0, sd^2), with log-mean u_t. Only the prior
terms change (``st.norm.logpdf(u[1:], u[:-1], sd)`` and
``st.norm.logpdf(u[0], mu, sd)``); they touch the same states, so the same
pattern serves. notebooks/07_random_effects.ipynb fits one to simulated
counts, and the Gaussian local-level version is checked against its exact
multivariate-normal marginal in tests/models/mixed/test_latent_processes.py.

The data and the glmmTMB fit (``y ~ 1 + ar1(time + 0 | group)``, family
poisson) come from tests/reference/latent_processes.R; the estimates, the
log-likelihood and the conditional modes of u are printed beside glmmTMB's.

Run:  python examples/latent_ar1.py
"""

from __future__ import annotations

import math
from pathlib import Path

import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import pandas as pd

import likelihax as lx

REF = Path(__file__).resolve().parents[1] / "tests" / "reference"


def joint(p, d):
    """Terms of log p(y, u | mu, sd, rho)."""
    u, rho, sd = p["u"], jnp.tanh(p["z"]), p["sd"]
    return (
        st.poisson.logpmf(d["y"], jnp.exp(p["mu"] + u)),  # observations
        st.norm.logpdf(u[1:], rho * u[:-1], sd * jnp.sqrt(1.0 - rho**2)),  # transitions
        st.norm.logpdf(u[0], 0.0, sd),  # the first state, stationary
    )


def main():
    y = pd.read_csv(REF / "latent_processes_data_ar1_pois.csv")["y"].to_numpy(float)
    res = pd.read_csv(REF / "latent_processes_results.csv")
    res = res[(res.model == "ar1_pois") & (res.software == "glmmTMB")]
    tmb = {(k, t): v for k, t, v in zip(res.kind, res.term, res.value)}

    data = {"y": y}
    T = y.size
    start = {"mu": 0.0, "sd": 0.5, "z": 0.0}
    pattern = lx.latent_pattern(joint, {**start, "u": np.zeros(T)}, data, ["u"])
    print(f"latent pattern: {pattern.n_terms} terms, {pattern.n_colors} colours, "
          f"{pattern.passes} passes per latent Hessian")  # fmt: skip

    marginal = lx.integrate(joint, {"u": T}, pattern=pattern)
    fit = lx.fit(marginal, start, data, constraints={"sd": lx.constraints.positive})
    print(fit.summary())

    rho = math.tanh(float(fit.params["z"]))
    rows = [
        ("logLik", float(fit.loglik), tmb[("stat", "logLik")]),
        ("mu", float(fit.params["mu"]), tmb[("fixef", "(Intercept)")]),
        ("se(mu)", float(fit.se["mu"]), tmb[("se", "(Intercept)")]),
        ("sd (marginal)", float(fit.params["sd"]), tmb[("ar1", "sd")]),
        ("rho", rho, tmb[("ar1", "rho")]),
    ]
    print(f"\n{'':15s} {'likelihax':>18s} {'glmmTMB':>18s} {'rel. diff':>10s}")
    for name, mine, theirs in rows:
        print(f"{name:15s} {mine:18.10f} {theirs:18.10f} {abs(mine - theirs) / abs(theirs):10.1e}")
    print(f"innovation sd = sd * sqrt(1 - rho^2) = "
          f"{float(fit.params['sd']) * math.sqrt(1 - rho**2):.6f}")  # fmt: skip

    modes = marginal.random_effects(fit.params, data).modes["u"]
    theirs = np.array([tmb[("ranef", f"time{t}")] for t in range(1, T + 1)])
    print("\nconditional modes of u (first five):")
    print("  likelihax", np.round(modes[:5], 6))
    print("  glmmTMB  ", np.round(theirs[:5], 6))
    print(f"  max |difference| over all {T}: {np.max(np.abs(modes - theirs)):.1e}")


if __name__ == "__main__":
    main()
