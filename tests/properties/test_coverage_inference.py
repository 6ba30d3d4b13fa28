"""Coverage simulations for Wald, profile-likelihood and bootstrap intervals.

For three models (normal mean and standard deviation, Poisson regression with
two covariates, logistic regression with three covariates) we simulate data
sets from known parameters and count how often the nominal 95% interval
contains the truth. A fourth check fits a Poisson regression to overdispersed
(negative binomial) counts: the model-based (``oim``) interval undercovers,
the sandwich interval (and the pairs bootstrap) do not.

Tolerance
---------
With R replicated data sets the Monte Carlo standard error of an empirical
coverage near 0.95 is ``sqrt(0.95 * 0.05 / R)``; we accept
``|coverage - 0.95| <= 4 * sqrt(0.95 * 0.05 / R)``. For an interval whose true
coverage is 0.95 the chance of failing by Monte Carlo noise is about 6e-5 per
check (normal approximation), so the tests essentially never flake when seeds
change, and with fixed seeds they are deterministic. They still catch broken
intervals: an interval 20% too short covers about 0.88, below the accepted
range even at R = 500 (tolerance 0.039), and one built from the variance
instead of the standard error covers far less (``test_wald_coverage`` checks
that the tolerance rejects both).

* Wald intervals: R = 2000 data sets, all fitted in one compiled call
  (``lx.fit_many``); tolerance 0.0195.
* Profile and bootstrap intervals: the first R = 500 of those data sets, one
  data set at a time through the same compiled programs (same shapes every
  time, so nothing recompiles); B = 399 bootstrap replicates; tolerance 0.039.

The bootstrap checks are on location and regression coefficients. The
percentile interval loses some coverage to the Monte Carlo error of its
quantiles (about 1 point at B = 199, half that at B = 399) and to its own
small-sample bias, so the designs keep the bootstrap's operating point near
0.95: bounded (uniform) covariates in the Poisson regression, where with
normal covariates the lognormal means give high-leverage rows and the
percentile interval of the slopes covers about 0.92-0.93 at n = 150 (0.935
with B = 499; 2000-replicate runs). The normal *standard deviation* is not
checked by bootstrap: there the nonparametric bootstrap undercovers at these
sample sizes (percentile about 0.913 at n = 100 and 0.92 at n = 200 with
B = 199, BCa about 0.93), a known small-sample property of bootstrap intervals
for a scale parameter (Schenker, 1985, JASA 80:360-361), reproduced exactly by
an independent NumPy bootstrap with the same resampling draws, so not a defect
of ``lx.bootstrap``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import jax.scipy.stats as jst
import numpy as np
import pytest

import likelihax as lx

R_WALD = 2000  # data sets for the Wald checks (one fit_many call)
R_SLOW = 500  # data sets for the profile and bootstrap checks
N_BOOT = 399  # bootstrap replicates per data set
LEVEL = 0.95


def _tolerance(r: int) -> float:
    """Four Monte Carlo standard errors of a coverage near 0.95 from r replicates."""
    return 4.0 * math.sqrt(LEVEL * (1 - LEVEL) / r)


def _assert_coverage(covered, what: str) -> float:
    """``covered``: booleans, one per data set; asserts the binomial tolerance."""
    covered = np.asarray(covered, bool)
    r = covered.size
    cov, tol = float(covered.mean()), _tolerance(r)
    assert abs(cov - LEVEL) <= tol, (
        f"{what}: coverage {cov:.4f} from R={r} data sets is outside "
        f"0.95 +- {tol:.4f} (4 Monte Carlo SEs)"
    )
    return cov


class Sim:
    """Simulated data sets of one model with their batched fits and the truth."""

    def __init__(self, loglik, start, data, truth, constraints=None, **fit_kw):
        kw = dict(fit_kw)
        if constraints is not None:
            kw["constraints"] = constraints
        self.loglik, self.start, self.data = loglik, start, data
        self.fits = lx.fit_many(loglik, start, data, **kw)
        assert np.all(self.fits.converged)
        self.labels = self.fits[0].labels
        self.truth = np.array([truth[lab] for lab in self.labels])

    def dataset(self, b):
        return jax.tree_util.tree_map(lambda x: x[b], self.data)

    def wald_covered(self, fits=None):
        """(R, k) booleans: the Wald interval of each parameter covers the truth."""
        fits = self.fits if fits is None else fits
        lo, hi = fits.conf_int(1 - LEVEL)
        R = np.shape(fits.loglik)[0]
        lo = np.concatenate([np.reshape(lo[k], (R, -1)) for k in self.start], axis=1)
        hi = np.concatenate([np.reshape(hi[k], (R, -1)) for k in self.start], axis=1)
        return (lo <= self.truth) & (self.truth <= hi)

    def slow_covered(self, r: int, bca: bool = False):
        """Profile and bootstrap intervals of the first r data sets.

        Returns a dict ``kind -> (r, k) booleans`` for ``profile``,
        ``percentile`` (and ``bca``).
        """
        out = {"profile": [], "percentile": []}
        if bca:
            out["bca"] = []
        t = self.truth
        for b in range(r):
            fit, d = self.fits[b], self.dataset(b)
            ci = lx.profile_ci(fit, alpha=1 - LEVEL, data=d)
            assert ci.labels == self.labels
            assert not (np.any(ci.open_lower) or np.any(ci.open_upper)), b
            out["profile"].append((ci.lower <= t) & (t <= ci.upper))
            boot = lx.bootstrap(fit, N_BOOT, seed=b, data=d)
            assert boot.n_failed == 0, b
            for kind, rows in out.items():
                if kind != "profile":
                    lo, hi = boot.conf_int(1 - LEVEL, method=kind)
                    rows.append((lo <= t) & (t <= hi))
        return {k: np.array(v) for k, v in out.items()}


# ----- models -----------------------------------------------------------------------------
def normal(p, d):
    return jst.norm.logpdf(d["y"], p["mu"], p["sigma"])


def poisson_reg(p, d):
    eta = p["a"] + d["X"] @ p["beta"]
    return d["k"] * eta - jnp.exp(eta) - jax.scipy.special.gammaln(d["k"] + 1.0)


def logistic_reg(p, d):
    eta = p["a"] + d["X"] @ p["beta"]
    return d["y"] * eta - jnp.logaddexp(0.0, eta)


POISSON_BETA = np.array([0.4, -0.3])
LOGISTIC_BETA = np.array([0.8, -0.5, 0.3])


@pytest.fixture(scope="module")
def normal_sim():
    rng = np.random.default_rng([4007, 1])
    y = rng.normal(2.0, 1.5, size=(R_WALD, 100))
    return Sim(
        normal, {"mu": 0.0, "sigma": 1.0}, {"y": y}, {"mu": 2.0, "sigma": 1.5},
        constraints={"sigma": lx.constraints.positive},
    )  # fmt: skip


@pytest.fixture(scope="module")
def poisson_sim():
    rng = np.random.default_rng([4007, 2])
    X = rng.uniform(-1.5, 1.5, size=(R_WALD, 150, 2))
    k = rng.poisson(np.exp(0.5 + X @ POISSON_BETA)).astype(float)
    truth = {"a": 0.5, "beta[0]": POISSON_BETA[0], "beta[1]": POISSON_BETA[1]}
    return Sim(poisson_reg, {"a": 0.0, "beta": np.zeros(2)}, {"X": X, "k": k}, truth)


@pytest.fixture(scope="module")
def logistic_sim():
    rng = np.random.default_rng([4007, 3])
    X = rng.normal(size=(R_WALD, 250, 3))
    eta = -0.3 + X @ LOGISTIC_BETA
    y = (rng.random((R_WALD, 250)) < 1 / (1 + np.exp(-eta))).astype(float)
    truth = {"a": -0.3} | {f"beta[{j}]": b for j, b in enumerate(LOGISTIC_BETA)}
    return Sim(logistic_reg, {"a": 0.0, "beta": np.zeros(3)}, {"X": X, "y": y}, truth)


MODELS = ["normal_sim", "poisson_sim", "logistic_sim"]


# ----- Wald, profile and bootstrap intervals --------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_wald_coverage(model, request):
    sim = request.getfixturevalue(model)
    covered = sim.wald_covered()
    for j, lab in enumerate(sim.labels):
        _assert_coverage(covered[:, j], f"{model} Wald {lab}")
    # Power: the same tolerance rejects intervals 20% too short, and intervals
    # that use the variance in place of the standard error.
    est = np.concatenate(
        [np.reshape(sim.fits.params[k], (R_WALD, -1)) for k in sim.start], axis=1
    )
    se = np.concatenate(
        [np.reshape(sim.fits.se[k], (R_WALD, -1)) for k in sim.start], axis=1
    )
    for half in (0.8 * 1.96 * se, 1.96 * se**2):
        bad = np.abs(est - sim.truth) <= half
        for j in range(len(sim.labels)):
            with pytest.raises(AssertionError):
                _assert_coverage(bad[:, j], "broken interval")


_SLOW: dict = {}  # model -> profile/bootstrap coverage indicators, computed once


def _slow_intervals(model, request):
    sim = request.getfixturevalue(model)
    if model not in _SLOW:
        _SLOW[model] = sim.slow_covered(R_SLOW, bca=model == "normal_sim")
    return sim, _SLOW[model]


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_profile_coverage(model, request):
    sim, cov = _slow_intervals(model, request)
    for j, lab in enumerate(sim.labels):
        _assert_coverage(cov["profile"][:, j], f"{model} profile {lab}")


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_bootstrap_percentile_coverage(model, request):
    sim, cov = _slow_intervals(model, request)
    for j, lab in enumerate(sim.labels):
        if lab == "sigma":  # see the module docstring: a known bootstrap undercoverage
            continue
        _assert_coverage(cov["percentile"][:, j], f"{model} percentile {lab}")


@pytest.mark.slow
def test_bootstrap_bca_coverage_normal_mean(request):
    sim, cov = _slow_intervals("normal_sim", request)
    _assert_coverage(cov["bca"][:, sim.labels.index("mu")], "normal BCa mu")


# ----- misspecified variance: sandwich vs model-based -----------------------------------
@pytest.mark.slow
def test_sandwich_covers_under_overdispersion():
    """Negative binomial counts (variance mu + mu^2/2, about twice the mean)
    fitted by a Poisson regression: the coefficients stay consistent, but the
    model-based (inverse observed information) SEs are too small by about
    sqrt(2), so the oim Wald interval undercovers clearly (about 0.83); the
    sandwich SE (Huber-White HC0, equal to statsmodels' ``cov_type="HC0"``)
    and the pairs bootstrap remain valid.

    The covariates are bounded (uniform): with normal covariates the score
    terms x_i (k_i - mu_i) are heavy-tailed (lognormal means, NB2 errors whose
    variance grows like mu^2) and HC0 converges slowly
    (about 0.935 at n = 300 and still 0.94 at n = 1000 in 2000-replicate runs,
    the same with statsmodels), which is the known small-sample downward bias
    of HC0 rather than a defect of the library.
    """
    rng = np.random.default_rng([4007, 4])
    n = 400
    X = rng.uniform(-1.5, 1.5, size=(R_WALD, n, 2))
    mu = np.exp(0.5 + X @ POISSON_BETA)
    k = rng.negative_binomial(2, 2 / (2 + mu)).astype(float)
    data = {"X": X, "k": k}
    truth = {"a": 0.5, "beta[0]": POISSON_BETA[0], "beta[1]": POISSON_BETA[1]}
    start = {"a": 0.0, "beta": np.zeros(2)}
    model = Sim(poisson_reg, start, data, truth)
    robust = Sim(poisson_reg, start, data, truth, cov="sandwich")
    # The batched sandwich is the same matrix as fit.vcov("sandwich") on one fit.
    d0 = model.dataset(0)
    np.testing.assert_allclose(
        np.asarray(model.fits[0].vcov("sandwich", data=d0)),
        np.asarray(robust.fits[0].cov),
        rtol=1e-8,
    )
    oim_cov = model.wald_covered()
    sand_cov = robust.wald_covered()
    for j, lab in enumerate(model.labels):
        if lab == "a":
            continue  # the slopes are the parameters of interest
        oim = float(oim_cov[:, j].mean())
        assert oim < LEVEL - 2 * _tolerance(R_WALD), f"oim {lab}: {oim:.4f}"
        _assert_coverage(sand_cov[:, j], f"overdispersed Poisson sandwich {lab}")
    # The nonparametric (pairs) bootstrap does not use the variance model either.
    r = 300
    boot_cov = []
    for b in range(r):
        boot = lx.bootstrap(model.fits[b], N_BOOT, seed=b, data=model.dataset(b))
        assert boot.n_failed == 0
        lo, hi = boot.conf_int(1 - LEVEL)
        boot_cov.append((lo <= model.truth) & (model.truth <= hi))
    boot_cov = np.array(boot_cov)
    for j in (1, 2):
        _assert_coverage(
            boot_cov[:, j], f"overdispersed Poisson percentile beta[{j - 1}]"
        )
