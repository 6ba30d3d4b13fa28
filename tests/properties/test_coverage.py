"""Coverage simulations: 95% Wald intervals cover the truth about 95% of the time.

Each check fits R simulated data sets in one compiled call (``lx.fit_many``).
With R = 600 replicates the standard error of a coverage near 0.95 is
sqrt(0.95 * 0.05 / 600) = 0.0089; we accept [0.92, 0.98] (about +-3.4 SE), so a
correct method fails by chance with probability below 1e-3, while an interval
with the wrong SE (e.g. 20% too short, coverage about 0.89) fails.
"""

import jax.numpy as jnp
import jax.scipy.stats as jst
import numpy as np
import pytest

import likelihax as lx

R = 600
LOW, HIGH = 0.92, 0.98


def _coverage(fits, name, truth, index=None):
    lo, hi = fits.conf_int(0.05)
    lo, hi = np.asarray(lo[name]), np.asarray(hi[name])
    if index is not None:
        lo, hi = lo[:, index], hi[:, index]
    assert np.all(fits.converged)
    return float(np.mean((lo <= truth) & (truth <= hi)))


@pytest.mark.slow
def test_normal_mean_and_sigma_coverage():
    rng = np.random.default_rng(11)
    y = rng.normal(2.0, 1.5, size=(R, 40))

    def normal(p, d):
        return jst.norm.logpdf(d["y"], p["mu"], p["sigma"])

    fits = lx.fit_many(
        normal, {"mu": 0.0, "sigma": 1.0}, {"y": y},
        constraints={"sigma": lx.constraints.positive},
    )  # fmt: skip
    assert LOW <= _coverage(fits, "mu", 2.0) <= HIGH
    assert LOW <= _coverage(fits, "sigma", 1.5) <= HIGH


@pytest.mark.slow
def test_poisson_rate_coverage():
    rng = np.random.default_rng(12)
    k = rng.poisson(3.0, size=(R, 60))

    def poisson(p, d):
        return jst.poisson.logpmf(d["k"], p["rate"])

    fits = lx.fit_many(
        poisson, {"rate": 1.0}, {"k": k}, constraints={"rate": lx.constraints.positive}
    )
    assert LOW <= _coverage(fits, "rate", 3.0) <= HIGH


@pytest.mark.slow
def test_logistic_slope_coverage():
    rng = np.random.default_rng(13)
    n = 300
    X = rng.normal(size=(R, n, 2))
    beta = np.array([0.8, -0.4])
    eta = -0.3 + X @ beta
    y = (rng.random((R, n)) < 1 / (1 + np.exp(-eta))).astype(float)

    def logistic(p, d):
        e = p["a"] + d["X"] @ p["beta"]
        return d["y"] * e - jnp.logaddexp(0.0, e)

    fits = lx.fit_many(logistic, {"a": 0.0, "beta": jnp.zeros(2)}, {"X": X, "y": y})
    for j in range(2):
        assert LOW <= _coverage(fits, "beta", beta[j], index=j) <= HIGH


@pytest.mark.slow
def test_sandwich_valid_under_misspecified_variance():
    """Normal regression with constant sigma, data heteroskedastic: only the
    sandwich covers; the model-based (oim) interval for the slope undercovers."""
    rng = np.random.default_rng(14)
    n = 200
    x = rng.uniform(0, 3, size=(R, n))
    y = 1.0 + 0.5 * x + rng.normal(size=(R, n)) * (0.2 + x**2)

    def reg(p, d):
        return jst.norm.logpdf(d["y"], p["a"] + p["b"] * d["x"], p["sigma"])

    start = {"a": 0.0, "b": 0.0, "sigma": 1.0}
    con = {"sigma": lx.constraints.positive}
    robust = lx.fit_many(reg, start, {"x": x, "y": y}, constraints=con, cov="sandwich")
    model = lx.fit_many(reg, start, {"x": x, "y": y}, constraints=con)
    assert LOW <= _coverage(robust, "b", 0.5) <= HIGH
    assert _coverage(model, "b", 0.5) < 0.90
