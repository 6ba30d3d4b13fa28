"""Starting-value sensitivity: the optima found match a grid search."""

import jax.numpy as jnp
import numpy as np
from scipy.optimize import minimize_scalar

import likelihax as lx


def cauchy(p, d):
    return -jnp.log1p((d["y"] - p["m"]) ** 2)


def test_cauchy_location_local_maxima_found_and_counted():
    # Cauchy location with well-separated clusters has one local maximum near
    # each cluster; the global one is at the largest cluster.
    y = np.array([-8.0, -7.6, 0.1, 0.3, -0.2, 0.4, 7.9, 8.3])
    rep = lx.start_sensitivity(cauchy, {"m": 0.0}, {"y": y}, n_starts=60,
                               scale=6.0, seed=1, warn=False)  # fmt: skip
    ll = lambda m: -np.sum(np.log1p((y - m) ** 2))  # noqa: E731
    grid = np.linspace(-12, 12, 24001)
    v = np.array([ll(m) for m in grid])
    peaks = [i for i in range(1, len(grid) - 1) if v[i] > v[i - 1] and v[i] > v[i + 1]]
    local = []
    for i in peaks:
        r = minimize_scalar(lambda m: -ll(m), bracket=(grid[i - 1], grid[i], grid[i + 1]),
                            tol=1e-12)  # fmt: skip
        local.append((-r.fun, r.x))
    local.sort(reverse=True)
    assert len(local) == 3
    found = [(o["loglik"], o["params"]["m"]) for o in rep.optima]
    assert len(found) == 3
    for (lf, mf), (lg, mg) in zip(found, local):
        np.testing.assert_allclose(lf, lg, rtol=1e-10)
        np.testing.assert_allclose(mf, mg, rtol=1e-6, atol=1e-8)
    assert sum(o["count"] for o in rep.optima) == rep.n_converged
    assert rep.n_at_best == rep.optima[0]["count"] < rep.n_starts
    assert float(rep.fit.params["m"]) == rep.optima[0]["params"]["m"]
    assert "distinct optima" in repr(rep)
