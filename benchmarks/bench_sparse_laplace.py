"""Benchmark: the Laplace approximation over a GMRF on an irregular mesh, dense vs sparse layout.

What is measured
----------------
Poisson counts on the sites of an irregular mesh (the Delaunay triangulation
of ``n`` random points in the unit square), ``y_i ~ Poisson(exp(mu + u_i))``
with a latent proper CAR field, precision ``tau (D - 0.9 W)`` (``W`` the
mesh's adjacency, ``D`` its degrees), ``mu`` and ``tau`` estimated, through
``lx.integrate`` with the latent pattern declared
(``LatentPattern.from_supports``). Timed doing "fit + standard errors":

* ``sparse``: the latent Hessian in sparse storage (QDLDL's LDL'
  factorization after an approximate minimum degree ordering, Takahashi's
  selected inverse for the gradient, the information by central differences
  of the exact gradient): the automatic layout for such a mesh when qdldl is
  installed;
* ``dense``: LAPACK's Cholesky of the dense latent Hessian, the exact
  forward-over-reverse information (only up to ``--dense-max`` sites: the
  work grows as ``n^3``).

The band layout is not timed: after reverse Cuthill-McKee the band of a
2,000-point mesh is about 190 wide, and one evaluation of the marginal and
its gradient takes longer than a whole sparse fit.

R's glmmTMB has no CAR or irregular GMRF structure; no R competitor runs.

Timing: in this process, the first call is "cold" (tracing and XLA
compilation included, JAX's persistent compilation cache switched off), then
``--repeats`` timed calls whose median ("warm") is shown. The layouts of one
size run interleaved. Both layouts must reach the same log-likelihood (1e-8
relative) and estimates.

Rerun
-----
From the repository root::

    python benchmarks/bench_sparse_laplace.py                   # 2,000 and 10,000 sites
    python benchmarks/bench_sparse_laplace.py --sizes 5000 --dense-max 0
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def make_data(n: int, seed: int = 20240607) -> dict:
    from scipy.spatial import Delaunay

    rng = np.random.default_rng(seed)
    pts = rng.random((n, 2))
    s = Delaunay(pts).simplices
    e = np.unique(np.sort(np.concatenate([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]]), 1),
                  axis=0)  # fmt: skip
    deg = np.bincount(e.ravel(), minlength=n).astype(float)
    field = 0.5 * np.sin(4 * pts[:, 0]) * np.cos(3 * pts[:, 1]) + 0.2 * rng.normal(size=n)
    y = rng.poisson(np.exp(1.0 + field)).astype(float)
    return {"y": y, "ei": e[:, 0], "ej": e[:, 1], "deg": deg}


def joint(p, d):
    import jax.numpy as jnp
    import jax.scipy.stats as st

    u, tau = p["u"], p["tau"]
    n = u.shape[0]
    return (st.poisson.logpmf(d["y"], jnp.exp(p["mu"] + u)),
            -0.5 * tau * d["deg"] * u**2, 0.9 * tau * u[d["ei"]] * u[d["ej"]],
            0.5 * n * jnp.log(tau))  # fmt: skip


def pattern(d, sparse: bool):
    from likelihax.models.random_effects import LatentPattern

    n, m = d["y"].size, d["ei"].size
    rows = np.concatenate([np.arange(n), n + np.arange(n), 2 * n + np.arange(m),
                           2 * n + np.arange(m)])  # fmt: skip
    cols = np.concatenate([np.arange(n), np.arange(n), d["ei"], d["ej"]])
    return LatentPattern.from_supports(rows, cols, 2 * n + m + 1, n, banded=False,
                                       sparse=sparse)  # fmt: skip


def fit_layout(d, sparse: bool):
    import likelihax as lx

    pat = pattern(d, sparse)
    m = lx.integrate(joint, {"u": d["y"].size}, pattern=pat)
    fit = lx.fit(m, {"mu": 0.0, "tau": 1.0}, d, constraints={"tau": lx.constraints.positive})
    _ = fit.se
    return fit


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    ap.add_argument("--dense-max", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)

    import jax

    jax.config.update("jax_enable_compilation_cache", False)
    for n in args.sizes:
        d = make_data(n)
        layouts = ["sparse"] + (["dense"] if n <= args.dense_max else [])
        load0 = os.getloadavg()[0]
        times = {k: [] for k in layouts}
        fits = {}
        for r in range(args.repeats + 1):
            for lay in layouts:
                t0 = time.perf_counter()
                fits[lay] = fit_layout(d, lay == "sparse")
                times[lay].append(time.perf_counter() - t0)
        load1 = os.getloadavg()[0]
        print(f"\n== Poisson CAR on a Delaunay mesh: {n} sites, {d['ei'].size} edges ==")
        print(f"{'layout':<10}{'cold s':>9}{'warm s':>9}{'loglik':>20}{'mu':>12}{'se(mu)':>12}"
              f"{'warm/sparse':>13}")  # fmt: skip
        ws = statistics.median(times["sparse"][1:])
        for lay in layouts:
            f = fits[lay]
            w = statistics.median(times[lay][1:])
            print(f"{lay:<10}{times[lay][0]:>9.2f}{w:>9.2f}{float(f.loglik):>20.8f}"
                  f"{float(f.params['mu']):>12.6f}{float(f.se['mu']):>12.6f}{w / ws:>13.1f}")  # fmt: skip
        if "dense" in fits:
            a, b = float(fits["sparse"].loglik), float(fits["dense"].loglik)
            print(f"  loglik sparse - dense: {a - b:+.2e} ({'same' if abs(a - b) <= 1e-8 * abs(b) else 'DIFFER'})")
        print(f"  sparse: status {fits['sparse'].status.name}; load average {load0:.2f} -> "
              f"{load1:.2f} on {os.cpu_count()} CPUs")  # fmt: skip


if __name__ == "__main__":
    main()
