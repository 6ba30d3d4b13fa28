"""A spatial count model: a Poisson count per site, driven by a latent Gaussian
Markov random field.

Counts y_s on the 144 sites of a 12 x 12 lattice are Poisson with log-mean
mu + u_s, where the latent field u is a proper conditional autoregression
(CAR) on the lattice's rook neighbours,

    u ~ N(0, Q^-1),   Q = tau (D - rho W),

with W the adjacency matrix (W_st = 1 for neighbouring sites), D the diagonal
of the numbers of neighbours, tau > 0 a precision and rho = tanh(z) in
(-1, 1): given its neighbours, u_s has mean rho times their average and
variance 1 / (tau d_s). The precision is sparse, so the log-density is a sum
of terms that touch one site or two neighbouring sites:

    log p(u) = -tau/2 sum_s d_s u_s^2 + tau rho sum_{s~t} u_s u_t
               + 1/2 log det Q - n/2 log(2 pi),

    log det Q = n log tau + sum_s log d_s + sum_k log(1 - rho lambda_k),

lambda_k the eigenvalues of D^-1/2 W D^-1/2 (computed once, with the data).
The 144 latent values are integrated out by the Laplace approximation
(``lx.integrate``, TMB's ``random=``). The joint returns its terms: an
observation and a diagonal term per site (the normalising constant is spread
over the site terms) and a term per edge. Their supports are known from the
lattice, so the pattern is declared (``lx.LatentPattern.from_supports``) rather
than detected: the lattice is bipartite and the greedy colouring finds the
checkerboard, so the 144 x 144 latent Hessian comes from three forward-mode
passes.

The data and the reference come from tests/reference/latent_processes.R:
glmmTMB has no CAR structure, so the reference is the textbook Laplace
approximation written densely in R (the inner mode by Newton; the outer
maximum by nlminb with numDeriv gradients, then Newton steps with numDeriv's
Hessian, whose inverse gives the SE of mu). The estimates, the
log-likelihood and the conditional modes of u are printed beside it, and the
script stops with an error where they disagree.

Run:  python examples/latent_gmrf.py
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


def lattice(rows, cols):
    """Rook neighbours of the sites (each edge once), the numbers of neighbours and
    the eigenvalues of D^-1/2 W D^-1/2."""
    adj = (np.abs(rows[:, None] - rows[None, :]) + np.abs(cols[:, None] - cols[None, :])) == 1
    i, j = np.nonzero(np.triu(adj))
    deg = adj.sum(1).astype(float)
    lam = np.linalg.eigvalsh(adj / np.sqrt(np.outer(deg, deg)))
    return {"edge_i": i, "edge_j": j, "deg": deg, "lam": lam}


def joint(p, d):
    """Terms of log p(y, u | mu, tau, rho)."""
    u, tau, rho = p["u"], p["tau"], jnp.tanh(p["z"])
    n = u.shape[0]
    logdet = n * jnp.log(tau) + jnp.sum(jnp.log(d["deg"])) + jnp.sum(jnp.log1p(-rho * d["lam"]))
    const = 0.5 * logdet - 0.5 * n * math.log(2 * math.pi)
    return (
        st.poisson.logpmf(d["y"], jnp.exp(p["mu"] + u)),  # observations
        -0.5 * tau * d["deg"] * u**2 + const / n,  # sites: the diagonal of Q
        tau * rho * u[d["edge_i"]] * u[d["edge_j"]],  # edges: Q's off-diagonal
    )


def pattern(data):
    """Which site each term touches: observation s and site term s touch u_s, edge
    k its two ends."""
    n, e = data["y"].size, data["edge_i"].size
    site = np.arange(n)
    term = np.concatenate([site, n + site, 2 * n + np.arange(e), 2 * n + np.arange(e)])
    entry = np.concatenate([site, site, data["edge_i"], data["edge_j"]])
    return lx.LatentPattern.from_supports(term, entry, n_terms=2 * n + e, n_latent=n)


def main():
    df = pd.read_csv(REF / "latent_processes_data_gmrf.csv")
    res = pd.read_csv(REF / "latent_processes_results.csv")
    res = res[(res.model == "gmrf_pois") & (res.software == "R")]
    ref = {(k, t): v for k, t, v in zip(res.kind, res.term, res.value)}

    data = {"y": df["count"].to_numpy(float),
            **lattice(df["row"].to_numpy(), df["col"].to_numpy())}  # fmt: skip
    n = data["y"].size
    pat = pattern(data)
    print(f"{n} sites, {data['edge_i'].size} edges; latent pattern: {pat.n_terms} terms, "
          f"{pat.n_colors} colours, {pat.passes} passes per latent Hessian")  # fmt: skip

    marginal = lx.integrate(joint, {"u": n}, pattern=pat)
    start = {"mu": 0.0, "tau": 1.0, "z": 0.5}
    fit = lx.fit(marginal, start, data, constraints={"tau": lx.constraints.positive})
    print(fit.summary())

    rho = math.tanh(float(fit.params["z"]))
    rows = [
        ("logLik", float(fit.loglik), ref[("stat", "logLik")]),
        ("mu", float(fit.params["mu"]), ref[("fixef", "(Intercept)")]),
        ("se(mu)", float(fit.se["mu"]), ref[("se", "(Intercept)")]),
        ("tau", float(fit.params["tau"]), ref[("car", "tau")]),
        ("rho", rho, ref[("car", "rho")]),
    ]
    print(f"\n{'':15s} {'likelihax':>18s} {'R (dense)':>18s} {'rel. diff':>10s}")
    for name, mine, theirs in rows:
        print(f"{name:15s} {mine:18.10f} {theirs:18.10f} {abs(mine - theirs) / abs(theirs):10.1e}")

    re = marginal.random_effects(fit.params, data)
    modes, theirs = re.modes["u"], np.array([ref[("ranef", f"site{s}")] for s in range(1, n + 1)])
    print("\nconditional modes of u (first five sites):")
    print("  likelihax", np.round(modes[:5], 6))
    print("  R        ", np.round(theirs[:5], 6))
    print(f"  max |difference| over all {n}: {np.max(np.abs(modes - theirs)):.1e}")

    rel = {name: abs(mine - theirs) / abs(theirs) for name, mine, theirs in rows}
    assert rel["logLik"] < 1e-6 and max(rel["mu"], rel["tau"], rel["rho"]) < 1e-4, rel
    assert rel["se(mu)"] < 1e-3, rel
    np.testing.assert_allclose(modes, theirs, rtol=1e-4, atol=1e-6)
    print("\nOK: log-likelihood, estimates, SE of mu and conditional modes agree with R")


if __name__ == "__main__":
    main()
