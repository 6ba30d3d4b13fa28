"""Bootstrap: each replicate equals an explicit refit; intervals follow their formulas."""

import jax
import jax.numpy as jnp
import jax.scipy.stats as jst
import numpy as np
import pytest
from scipy.stats import norm

import likelihax as lx


def normal_ll(p, d):
    return jst.norm.logpdf(d["y"], p["mu"], p["s"])


@pytest.fixture(scope="module")
def normal_fit():
    y = np.random.default_rng(5).normal(2.0, 1.5, size=40)
    f = lx.fit(normal_ll, {"mu": 0.0, "s": 1.0}, {"y": y},
               constraints={"s": lx.constraints.positive})  # fmt: skip
    return f, y


def test_nonparametric_replicates_equal_weighted_refits(normal_fit):
    f, y = normal_fit
    b = lx.bootstrap(f, 30, seed=3, batch_size=7)  # several batches
    assert b.n_failed == 0 and b.replicates.shape == (30, 2)
    # The same counts, drawn the same way, fitted one by one.
    rng = np.random.default_rng(3)
    n = len(y)
    draws = []
    for size in (7, 7, 7, 7, 2):
        idx = rng.integers(0, n, size=(size, n))  # n draws with replacement
        draws.append(np.stack([np.bincount(r, minlength=n) for r in idx]))
    W = np.concatenate(draws)
    for r in (0, 11, 29):
        w = W[r]
        mu = np.sum(w * y) / n  # weighted MLE in closed form
        s = np.sqrt(np.sum(w * (y - mu) ** 2) / n)
        # Replicates stop at EDM <= 1e-12 without a polishing Newton step
        # (Newton.polish, Refitter): their error is below sqrt(2e-12) ~ 1.4e-6
        # standard errors (SE/estimate ~ 0.2 here), so 1e-6 relative.
        np.testing.assert_allclose(b.replicates[r], [mu, s], rtol=1e-6)


def test_intervals_follow_their_formulas(normal_fit):
    f, y = normal_fit
    b = lx.bootstrap(f, 400, seed=1)
    R, est = b.replicates, b.estimate
    lo, hi = b.conf_int(0.1, "percentile")
    np.testing.assert_allclose(lo, np.quantile(R, 0.05, axis=0))
    np.testing.assert_allclose(hi, np.quantile(R, 0.95, axis=0))
    blo, bhi = b.conf_int(0.1, "basic")
    np.testing.assert_allclose(blo, 2 * est - hi)
    np.testing.assert_allclose(bhi, 2 * est - lo)
    # BCa for mu (the sample mean): jackknife values in closed form.
    n = len(y)
    jack = (y.sum() - y) / (n - 1)
    d = jack.mean() - jack
    a = (d**3).sum() / (6 * ((d**2).sum()) ** 1.5)
    z0 = norm.ppf((R[:, 0] < est[0]).mean() + 0.5 * (R[:, 0] == est[0]).mean())
    levels = [
        norm.cdf(z0 + (z0 + zq) / (1 - a * (z0 + zq)))
        for zq in (norm.ppf(0.05), norm.ppf(0.95))
    ]
    clo, chi = b.conf_int(0.1, "bca")
    np.testing.assert_allclose(
        [clo[0], chi[0]], np.quantile(R[:, 0], levels), rtol=1e-6
    )  # jackknife refits stop at EDM <= 1e-12 (no polishing step)
    np.testing.assert_allclose(b.se, R.std(axis=0, ddof=1))
    assert "400 of 400" in repr(b)


def test_cluster_bootstrap_weights_are_group_counts():
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(8), 5)
    y = rng.normal(size=40) + rng.normal(size=8)[g]
    f = lx.fit(normal_ll, {"mu": 0.0, "s": 1.0}, {"y": y},
               constraints={"s": lx.constraints.positive})  # fmt: skip
    b = lx.bootstrap(f, 10, method="cluster", groups=g, seed=4)
    rng = np.random.default_rng(4)
    idx = rng.integers(0, 8, size=(10, 8))  # 8 groups drawn with replacement
    counts = np.stack([np.bincount(r, minlength=8) for r in idx])
    for r in (0, 9):
        w = counts[r][g].astype(float)
        mu = np.sum(w * y) / w.sum()
        np.testing.assert_allclose(b.replicates[r, 0], mu, rtol=1e-6)  # see above


def test_parametric_bootstrap_refits_simulated_data(normal_fit):
    f, y = normal_fit

    def simulate(key, p, d):
        return {"y": p["mu"] + p["s"] * jax.random.normal(key, d["y"].shape)}

    b = lx.bootstrap(f, 20, method="parametric", simulate=simulate, seed=2)
    keys = jax.random.split(jax.random.key(2), 20)
    with jax.enable_x64(True):
        p = {k: jnp.asarray(v, jnp.float64) for k, v in f.params.items()}
        ys = np.asarray(simulate(keys[5], p, {"y": jnp.asarray(y)})["y"])
    np.testing.assert_allclose(b.replicates[5], [ys.mean(), ys.std()], rtol=1e-6)


def test_failed_replicates_are_counted_not_averaged():
    # Poisson regression with a rare binary covariate present in one row (with
    # a positive count, so its coefficient is finite when the row is drawn).
    # Resamples without that row cannot estimate the coefficient (information
    # singular): they must be counted as failed and left out, not averaged in.
    rng = np.random.default_rng(0)
    n = 60
    x = np.zeros(n)
    x[0] = 1.0
    z = rng.normal(size=n)
    y = rng.poisson(np.exp(0.3 + 0.2 * z)).astype(float)
    y[0] = 3.0
    X = np.c_[np.ones(n), z, x]

    def poisson(p, d):
        eta = d["X"] @ p["b"]
        return d["y"] * eta - jnp.exp(eta)

    f = lx.fit(poisson, {"b": jnp.zeros(3)}, {"X": X, "y": y})
    with pytest.warns(lx.ConvergenceWarning, match="information_singular"):
        b = lx.bootstrap(f, 200, seed=0)
    assert 40 < b.n_failed < 120  # P(row 0 left out) = (1 - 1/60)^60 = 0.364
    assert b.failures == {"information_singular": b.n_failed}
    assert b.replicates.shape[0] == 200 - b.n_failed
    assert np.all(np.isfinite(b.replicates)) and np.all(np.abs(b.replicates) < 10)


def test_bootstrap_errors(normal_fit):
    f, _ = normal_fit
    with pytest.raises(ValueError, match="groups="):
        lx.bootstrap(f, 10, method="cluster")
    with pytest.raises(ValueError, match="simulate"):
        lx.bootstrap(f, 10, method="parametric")
    with pytest.raises(ValueError, match="method must be"):
        lx.bootstrap(f, 10, method="jackknife")
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        lx.bootstrap(f, 10, batch_size=0)
    with pytest.raises(ValueError, match=r"groups must have shape \(40,\)"):
        lx.bootstrap(f, 10, method="cluster", groups=[1, 2])


def test_bootstrap_of_an_m_estimator():
    # Not a likelihood (least squares on a probability scale): the bootstrap
    # needs only refits, so it works where profile likelihood must refuse.
    rng = np.random.default_rng(2)
    x = rng.normal(size=80)
    y = (rng.random(80) < 1 / (1 + np.exp(-x))).astype(float)

    def neg_sq(p, d):
        return -((d["y"] - jax.nn.sigmoid(p["a"] + p["b"] * d["x"])) ** 2)

    f = lx.fit(neg_sq, {"a": 0.0, "b": 0.0}, {"x": x, "y": y}, likelihood=False)
    b = lx.bootstrap(f, 50, seed=0)
    assert b.n_failed == 0 and b.replicates.shape == (50, 2)
    with pytest.raises(ValueError, match="need a log-likelihood"):
        lx.profile_ci(f)
