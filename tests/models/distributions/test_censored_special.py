"""Censored gamma, beta and Student-t fits, and the special functions behind them.

References are independent of likelihax: scipy.stats log CDFs / survival
functions, scipy's own censored MLE, and numpy finite differences of a
scipy-based censored log-likelihood.
"""

import math

import jax
import numpy as np
import pytest
import scipy.optimize as so
import scipy.stats as ss

import likelihax as lx
from likelihax.models import _special as S

# (family, true law, frozen scipy law from the parameters, parameter order)
CASES = {
    "gamma": (
        ss.gamma(2.5, scale=1 / 1.5),
        lambda p: ss.gamma(p["shape"], scale=1 / p["rate"]),
        ("shape", "rate"),
    ),
    "beta": (ss.beta(2.0, 3.5), lambda p: ss.beta(p["a"], p["b"]), ("a", "b")),
    "student_t": (
        ss.t(4.0, 1.0, 2.0),
        lambda p: ss.t(p["df"], p["loc"], p["scale"]),
        ("loc", "scale", "df"),
    ),
}


def _sample(dist, n=300, seed=11):
    """50% exact, 25% right-, 12.5% left-, 12.5% interval-censored."""
    rng = np.random.default_rng(seed)
    x = dist.rvs(size=n, random_state=rng)
    lo_sup, hi_sup = dist.support()
    u = rng.random(n)
    lo, hi = x.copy(), x.copy()
    right, left, inter = (u >= 0.5) & (u < 0.75), (u >= 0.75) & (u < 0.875), u >= 0.875
    spread = (
        np.abs(x) * 0.3 + 0.05 if math.isinf(hi_sup) else 0.3 * np.minimum(x, 1 - x)
    )
    lo[right], hi[right] = (
        x[right] - rng.uniform(0, 1, n)[right] * spread[right],
        np.inf,
    )
    hi[left], lo[left] = x[left] + rng.uniform(0, 1, n)[left] * spread[left], -np.inf
    lo[inter], hi[inter] = x[inter] - spread[inter] / 2, x[inter] + spread[inter] / 2
    if lo_sup == 0:
        lo = np.where(np.isfinite(lo), np.maximum(lo, x / 2), lo)
    return lo, hi


def _scipy_loglik(dist, lo, hi):
    exact, left, right = lo == hi, np.isneginf(lo), np.isposinf(hi)
    inter = ~(exact | left | right)
    return (
        dist.logpdf(lo[exact]).sum()
        + dist.logcdf(hi[left]).sum()
        + dist.logsf(lo[right]).sum()
        + np.log(dist.cdf(hi[inter]) - dist.cdf(lo[inter])).sum()
    )


def _fd_hessian(f, x, rel=2e-4):
    """Central-difference Hessian, Richardson-extrapolated over steps h and h/2:
    truncation O(h^4), rounding about eps * |f| / h^2."""

    def hess(h):
        k = x.size
        H = np.empty((k, k))
        for i in range(k):
            for j in range(k):
                ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
                H[i, j] = (
                    f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
                ) / (4 * h[i] * h[j])
        return H

    h = rel * np.abs(x)
    return (4 * hess(h / 2) - hess(h)) / 3


@pytest.fixture(scope="module", params=sorted(CASES))
def censored_fit(request):
    name = request.param
    dist, frozen, order = CASES[name]
    lo, hi = _sample(dist)
    return name, frozen, order, lo, hi, lx.fit_distribution(name, lower=lo, upper=hi)


def test_loglik_matches_scipy_and_mle_matches_scipy_optimum(censored_fit):
    _, frozen, order, lo, hi, fit = censored_fit
    assert fit.converged
    p = {k: float(v) for k, v in fit.params.items()}
    assert float(fit.loglik) == pytest.approx(
        _scipy_loglik(frozen(p), lo, hi), rel=1e-11
    )

    # scipy's censored log-likelihood maximized by scipy (Nelder-Mead, then
    # Powell polish at tight tolerances), from scipy's own CensoredData fit
    def nll(v):
        q = dict(zip(order, v))
        if any(q[k] <= 0 for k in order if k != "loc"):
            return np.inf
        return -_scipy_loglik(frozen(q), lo, hi)

    x0 = np.array([p[k] for k in order]) * 1.05
    opt = so.minimize(nll, x0, method="Nelder-Mead",
                      options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})  # fmt: skip
    assert float(fit.loglik) >= -opt.fun - 1e-9
    np.testing.assert_allclose([p[k] for k in order], opt.x, rtol=2e-5)


def test_standard_errors_match_finite_difference_hessian_of_scipy(censored_fit):
    # rtol 1e-5: the reference Hessian is a Richardson-extrapolated central
    # difference of the scipy log-likelihood (relative error ~1e-7 in its
    # entries); the library's comes from the custom derivatives (~1e-10).
    _, frozen, order, lo, hi, fit = censored_fit
    theta = np.array([float(fit.params[k]) for k in order])
    H = _fd_hessian(lambda v: _scipy_loglik(frozen(dict(zip(order, v))), lo, hi), theta)
    se_ref = np.sqrt(np.diag(np.linalg.inv(-H)))
    np.testing.assert_allclose([float(fit.se[k]) for k in order], se_ref, rtol=1e-5)


def _d2_fd(f, args, i, j, h=1e-3):
    """Second partial derivative of a scipy function by 4th-order differences."""
    args = np.array(args, dtype=float)
    hi_, hj = (h * (abs(args[m]) or 1.0) for m in (i, j))
    e_i, e_j = np.eye(args.size)[i] * hi_, np.eye(args.size)[j] * hj
    if i == j:
        return (-f(*(args + 2 * e_i)) + 16 * f(*(args + e_i)) - 30 * f(*args)
                + 16 * f(*(args - e_i)) - f(*(args - 2 * e_i))) / (12 * hi_ * hi_)  # fmt: skip
    g = lambda s, t: f(*(args + s * e_i + t * e_j))
    c1 = g(1, 1) - g(1, -1) - g(-1, 1) + g(-1, -1)
    c2 = g(2, 2) - g(2, -2) - g(-2, 2) + g(-2, -2)
    return (16 * c1 - c2) / (48 * hi_ * hj)


SPECIAL = [
    (S.gamma_logcdf, lambda x, a, r: ss.gamma.logcdf(x, a, scale=1 / r), (1.5, 2.5, 2.0)),
    (S.gamma_logsf, lambda x, a, r: ss.gamma.logsf(x, a, scale=1 / r), (1.5, 2.5, 2.0)),
    (S.gamma_logcdf, lambda x, a, r: ss.gamma.logcdf(x, a, scale=1 / r), (0.02, 0.3, 1.0)),
    (S.gamma_logsf, lambda x, a, r: ss.gamma.logsf(x, a, scale=1 / r), (60.0, 40.0, 1.0)),
    (S.beta_logcdf, ss.beta.logcdf, (0.3, 2.0, 3.5)),
    (S.beta_logsf, ss.beta.logsf, (0.3, 2.0, 3.5)),
    (S.beta_logcdf, ss.beta.logcdf, (0.95, 0.6, 1.4)),
    (S.beta_logsf, ss.beta.logsf, (0.1, 30.0, 60.0)),
    (S.t_logcdf, ss.t.logcdf, (-2.3, 3.5, 0.4, 1.2)),
    (S.t_logsf, ss.t.logsf, (5.0, 2.5, 0.0, 1.0)),
    (S.t_logcdf, ss.t.logcdf, (0.3, 40.0, 0.0, 1.0)),
]  # fmt: skip


@pytest.mark.parametrize("fn, ref, args", SPECIAL)
def test_special_values_and_second_derivatives(fn, ref, args):
    with jax.enable_x64(True):
        k = len(args)
        v = float(fn(*args))
        H = np.array(jax.hessian(fn, argnums=tuple(range(k)))(*args), dtype=float)
    assert v == pytest.approx(ref(*args), rel=1e-12)
    for i in range(k):
        for j in range(k):
            d2 = _d2_fd(ref, args, i, j)
            assert H[i][j] == pytest.approx(d2, rel=1e-6, abs=1e-9), (i, j)
    np.testing.assert_allclose(H, H.T, rtol=1e-9, atol=1e-14)


def test_all_exact_rows_equal_the_plain_fit():
    x = CASES["gamma"][0].rvs(size=150, random_state=np.random.default_rng(4))
    a = lx.fit_distribution("gamma", x)
    b = lx.fit_distribution("gamma", lower=x, upper=x)
    assert float(b.loglik) == pytest.approx(float(a.loglik), rel=1e-12)
    np.testing.assert_allclose(b.se["shape"], a.se["shape"], rtol=1e-8)
