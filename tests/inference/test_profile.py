"""Profile likelihood: closed forms, an independent root-finder, and R.

R numbers: tests/reference/profile.R (MASS confint on glm fits, and the same
intervals solved directly with uniroot over glm refits).
"""

import math
from pathlib import Path

import jax.numpy as jnp
import jax.scipy.stats as jst
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from scipy.stats import chi2

import likelihax as lx
from likelihax.inference import profile, profile_ci

REF = Path(__file__).resolve().parents[1] / "reference"


def _exp_fit(y):
    return lx.fit(
        lambda p, d: jnp.log(p["rate"]) - p["rate"] * d["y"], {"rate": 1.0},
        {"y": y}, constraints={"rate": lx.constraints.positive},
    )  # fmt: skip


def test_exponential_profile_interval_equals_root_of_likelihood_ratio():
    y = np.random.default_rng(1).exponential(2.0, size=15)
    fit = _exp_fit(y)
    ci = profile_ci(fit, alpha=0.1)
    n, s = len(y), y.sum()
    ll = lambda lam: n * np.log(lam) - lam * s  # noqa: E731
    lam = n / s
    g = lambda v: 2 * (ll(lam) - ll(v)) - chi2.ppf(0.9, 1)  # noqa: E731
    lo, hi = brentq(g, 1e-8, lam, xtol=1e-15), brentq(g, lam, 50 * lam, xtol=1e-15)
    np.testing.assert_allclose(ci["rate"], (lo, hi), rtol=1e-9)
    assert ci.open_lower[0] == ci.open_upper[0] == False  # noqa: E712
    assert ci.monotone[0]
    # Asymmetric, inside the support, unlike a Wald interval on the rate.
    assert hi - lam > lam - lo > 0


def test_normal_mean_profile_equals_wald_and_sigma_matches_chi2_root():
    y = np.random.default_rng(2).normal(3.0, 1.5, size=40)
    fit = lx.fit(
        lambda p, d: jst.norm.logpdf(d["y"], p["mu"], p["sigma"]),
        {"mu": 0.0, "sigma": 1.0}, {"y": y},
        constraints={"sigma": lx.constraints.positive},
    )  # fmt: skip
    ci = profile_ci(fit)
    n, m = len(y), y.mean()
    ss = ((y - m) ** 2).sum()
    # mu: profile over sigma gives n*log(1 + n (mu - m)^2 / ss) = q.
    q = chi2.ppf(0.95, 1)
    half = math.sqrt(ss / n * (math.exp(q / n) - 1))
    np.testing.assert_allclose(ci["mu"], (m - half, m + half), rtol=1e-9)
    # sigma: 2 (ll_hat - ll(s)) = n (ss/(n s^2) - 1 - log(ss/(n s^2))) = q.
    s_hat = math.sqrt(ss / n)

    def g(s):
        r = ss / (n * s * s)
        return n * (r - 1 - math.log(r)) - q

    lo, hi = brentq(g, 1e-6, s_hat, xtol=1e-15), brentq(g, s_hat, 10 * s_hat, xtol=1e-15)
    np.testing.assert_allclose(ci["sigma"], (lo, hi), rtol=1e-9)


def test_profile_curves_one_call_and_peak_at_mle():
    y = np.random.default_rng(3).normal(1.0, 2.0, size=30)
    fit = lx.fit(
        lambda p, d: jst.norm.logpdf(d["y"], p["mu"], p["sigma"]),
        {"mu": 0.0, "sigma": 1.0}, {"y": y},
        constraints={"sigma": lx.constraints.positive},
    )  # fmt: skip
    pr = profile(fit, n_points=7)
    for lab in ("mu", "sigma"):
        c = pr.curves[lab]
        assert c["monotone"] and np.all(c["status"] == 0)
        np.testing.assert_allclose(c["loglik"][3], fit.loglik, rtol=1e-12)
        assert np.all(c["loglik"] <= fit.loglik + 1e-9)
    # mu's profile over sigma in closed form.
    n, ss = len(y), ((y - y.mean()) ** 2).sum()
    mu = pr.curves["mu"]["value"]
    s2 = (ss + n * (mu - y.mean()) ** 2) / n
    ll = -0.5 * n * (np.log(2 * np.pi * s2) + 1)
    np.testing.assert_allclose(pr.curves["mu"]["loglik"], ll, rtol=1e-10)
    df = pr.to_frame()
    assert set(df["parameter"]) == {"mu", "sigma"} and len(df) == 14


def test_open_interval_flagged_at_a_boundary():
    # All successes: the profile of p never falls below the cut-off towards 1.
    y = np.ones(6)
    fit = lx.fit(
        lambda p, d: d["y"] * jnp.log(p["p"]) + (1 - d["y"]) * jnp.log1p(-p["p"]),
        {"p": 0.5}, {"y": y}, constraints={"p": lx.constraints.unit_interval},
        warn=False,
    )  # fmt: skip
    ci = profile_ci(fit, max_rounds=15)
    assert ci.open_upper[0] and np.isnan(ci.upper[0])
    assert "open above" in repr(ci)


def _r_results():
    return pd.read_csv(REF / "profile_results.csv")


TERMS = {
    "(Intercept)": "Intercept", "factor(religious)2": "C(religious)[T.2]",
    "factor(religious)3": "C(religious)[T.3]", "factor(religious)4": "C(religious)[T.4]",
}  # fmt: skip


@pytest.mark.parametrize(
    "model, formula, kw",
    [
        ("spector_logit", "GRADE ~ GPA + TUCE + PSI", dict(family="binomial")),
        (
            "fair_poisson_offset",
            "affairs_n ~ rate_marriage + age + C(religious) + educ",
            dict(family="poisson", exposure="yrs_married"),
        ),
    ],
)
def test_glm_profile_intervals_match_r(model, formula, kw):
    data = pd.read_csv(REF / f"glm_data_{model.split('_')[0]}.csv")
    res = lx.glm(formula, data, **kw)
    ci = profile_ci(res.fit)
    ref = _r_results()
    ref = ref[ref.model == model]
    for _, row in ref.iterrows():
        term = TERMS.get(row.term, row.term)
        got = ci[term]
        if row.method == "uniroot":  # the same interval, solved precisely
            np.testing.assert_allclose(got, (row.lower, row.upper), rtol=1e-7)
        else:  # MASS: spline-interpolated profile, ~4-5 digits
            np.testing.assert_allclose(got, (row.lower, row.upper), rtol=1e-3)
    assert np.all(ci.monotone)


def test_profile_refuses_non_likelihood_and_unknown_labels():
    y = np.array([0.5, 1.5, 2.0, 0.2])
    f = lx.fit(lambda p, d: -((d["y"] - p["m"]) ** 2), {"m": 0.0}, {"y": y},
               likelihood=False)  # fmt: skip
    with pytest.raises(ValueError, match="need a log-likelihood"):
        profile_ci(f)
    g = _exp_fit(y)
    with pytest.raises(KeyError, match="not a parameter"):
        profile_ci(g, "nope")


def test_profile_ci_flags_a_non_monotone_profile():
    """A log-likelihood with a second, lower bump inside the interval: the signed
    root statistic falls on the way out, so theta is flagged non-monotone; the
    endpoint is still the crossing of z (found by brentq on the closed form),
    and the plain quadratic parameter phi stays monotone."""
    from scipy.stats import norm

    def bump(t, xp=np):
        return 0.9 * xp.exp(-((t - 1.4) ** 2) / (2 * 0.15**2))

    def ll(p, d):
        t, f = p["theta"], p["phi"]
        return -0.5 * t**2 + bump(t, jnp) - 0.5 * f**2 + 0.0 * jnp.sum(d["x"])

    fit = lx.fit(ll, {"theta": 0.1, "phi": 0.1}, {"x": np.zeros(3)})
    ci = lx.profile_ci(fit)
    z = norm.ppf(0.975)
    ll_hat = float(fit.loglik)
    r = lambda t: np.sqrt(max(2 * (ll_hat - (-0.5 * t**2 + bump(t))), 0.0))  # noqa: E731
    ts = np.linspace(0.0, 1.9, 200)
    assert np.any(np.diff([r(t) for t in ts]) < 0)  # the construction dips
    upper = brentq(lambda t: r(t) - z, 1.8, 2.5)
    assert ci.labels == ["theta", "phi"]
    assert list(ci.monotone) == [False, True]
    np.testing.assert_allclose(ci.upper[0], upper, rtol=1e-7)
    np.testing.assert_allclose(ci.lower, [-z, -z], rtol=1e-7)
    np.testing.assert_allclose(ci.upper[1], z, rtol=1e-7)
