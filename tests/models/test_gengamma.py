"""Generalized gamma and gamma accelerated-failure-time models.

Reference numbers: tests/reference/gengamma.R (R 4.2.2, numDeriv 2016.8-1.1)
-> gengamma_results.csv: the log-likelihood written independently in R
(dgamma/pgamma, flexsurv's parametrisation), maximized and polished by Newton
on numDeriv's Richardson derivatives, SEs from numDeriv's Hessian (so SEs
agree to about 1e-7, not to the analytic 1e-9 of survreg's). Also: the
nesting of the Weibull (Q = 1), the log-normal (Q = 0) and the gamma (Q =
sigma) in closed form, the standard law's functions and their second
derivatives in Q against mpmath, and a data set whose maximum lies at an
extreme shape (ovarian) reported as not converged.
"""

from __future__ import annotations

import functools
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
import scipy.stats as ss

import likelihax as lx
from likelihax.models import _gengamma

REF = pathlib.Path(__file__).resolve().parents[1] / "reference"
RES = pd.read_csv(REF / "gengamma_results.csv")
LUNG = "Surv(time, status == 2) ~ age + sex + ph.ecog"


def ref(model, kind, term):
    r = RES[(RES.model == model) & (RES.kind == kind) & (RES.term == str(term))]
    assert len(r) == 1, (model, kind, term)
    return float(r.value.iloc[0])


def data(name):
    return pd.read_csv(REF / f"survreg_data_{name}.csv")


CASES = {
    "lung_gengamma": (lambda: lx.survreg(LUNG, data("lung"), dist="gengamma"), "lung"),
    "lung_gamma": (lambda: lx.survreg(LUNG, data("lung"), dist="gamma"), "lung"),
    "interval_gengamma": (lambda: lx.survreg("Surv(lower, upper, type='interval') ~ age + sex",
                                             data("lung_interval"), dist="gengamma"),
                          "lung_interval"),
}  # fmt: skip


@functools.cache
def fitted(name):
    """The fit of ``CASES[name]``, shared by the tests that read it."""
    return CASES[name][0]()


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_the_r_likelihood(name):
    dname = CASES[name][1]
    r = fitted(name)
    assert r.converged and str(r.fit.status) == "success"
    assert r.loglik == pytest.approx(ref(name, "stat", "logLik"), rel=1e-11)
    for k, v in r.coef.items():
        assert v == pytest.approx(ref(name, "coef", k), rel=1e-7), k
        assert float(r.se["beta"][k]) == pytest.approx(ref(name, "se", k), rel=1e-6), k
    assert r.scale == pytest.approx(ref(name, "scale", "scale"), rel=1e-7)
    assert float(r.se["scale"]) / r.scale == pytest.approx(ref(name, "se", "Log(scale)"),
                                                           rel=1e-6)  # fmt: skip
    if r.dist == "gengamma":
        assert float(r.fit.params["shape"]) == pytest.approx(ref(name, "shape", "shape"),
                                                             rel=1e-7)  # fmt: skip
        assert float(r.se["shape"]) == pytest.approx(ref(name, "se", "shape"), rel=1e-6)
    med = r.predict(data(dname).iloc[:5])
    np.testing.assert_allclose(med, [ref(name, "median", i) for i in range(1, 6)], rtol=1e-7)


def test_the_weibull_log_normal_and_gamma_are_special_cases():
    df = data("lung")
    weib = lx.survreg(LUNG, df)
    logn = lx.survreg(LUNG, df, dist="lognormal")
    gg = fitted("lung_gengamma")
    assert gg.loglik >= max(weib.loglik, logn.loglik)
    # the generalized gamma's log-likelihood at Q = 1 (Weibull) and Q = 0
    # (log-normal) with those fits' estimates equals theirs
    lik = gg._loglik
    from likelihax.models.survival import _prepare

    _, d = _prepare(LUNG, df, entry=None, missing="raise", log_scale=True)
    with jax.enable_x64(True):
        for other, q in ((weib, 1.0), (logn, 0.0)):
            p = {"beta": {k: jnp.float64(v) for k, v in other.coef.items()},
                 "scale": jnp.float64(other.scale), "shape": jnp.float64(q)}  # fmt: skip
            assert float(jnp.sum(lik(p, d))) == pytest.approx(other.loglik, rel=1e-12)


def test_gamma_is_the_gamma_law_in_closed_form():
    # uncensored times: log T = mu + sigma W with Q = sigma is T ~ Gamma(shape
    # 1/sigma^2, scale sigma^2 e^mu)
    rng = np.random.default_rng(3)
    x = rng.normal(size=400)
    t = rng.gamma(2.5, np.exp(1.0 + 0.4 * x) / 2.5)
    df = pd.DataFrame({"t": t, "d": 1, "x": x})
    r = lx.survreg("Surv(t, d) ~ x", df, dist="gamma")
    s = r.scale
    mu = r.coef["(Intercept)"] + r.coef["x"] * x
    direct = ss.gamma.logpdf(t, 1 / s**2, scale=s**2 * np.exp(mu)).sum()
    assert r.loglik == pytest.approx(direct, rel=1e-12)
    assert 1 / s**2 == pytest.approx(2.5, rel=0.2)
    # ... and its maximum: scipy's optimizer on the same closed form agrees
    import scipy.optimize as so

    def nll(th):
        m = th[0] + th[1] * x
        return -ss.gamma.logpdf(t, np.exp(-2 * th[2]), scale=np.exp(2 * th[2] + m)).sum()

    best = so.minimize(nll, [1.0, 0.4, np.log(0.6)], method="Nelder-Mead",
                       options=dict(xatol=1e-10, fatol=1e-12, maxiter=20000)).x  # fmt: skip
    np.testing.assert_allclose([r.coef["(Intercept)"], r.coef["x"], np.log(s)], best,
                               atol=2e-6)  # fmt: skip


def _log_function(w, q, k):
    """Sum over ``w`` of the standard law's ``k``-th log-function (log density,
    log CDF, log survival) at shape ``q``."""
    return jnp.sum(_gengamma.logs(w, q)[k])


# compiled once per k and shared by every q
_VALUE_AND_D1 = jax.jit(jax.value_and_grad(_log_function, argnums=1), static_argnums=2)
_D2 = jax.jit(jax.grad(jax.grad(_log_function, argnums=1), argnums=1), static_argnums=2)


@pytest.mark.parametrize("q", [0.12, 0.05, -0.02, -0.3])
def test_standard_law_and_shape_derivatives_against_mpmath(q):
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    w = np.array([-2.5, 0.4, 1.8])

    def exact(qq, ww, k):
        a = 1 / qq**2
        u = a * mp.exp(qq * ww)
        if k == 0:
            return mp.log(abs(qq)) + a * mp.log(a) - mp.loggamma(a) + a * (qq * ww - mp.exp(qq * ww))
        upper = (k == 2) == (qq > 0)
        g = mp.gammainc(a, u, mp.inf, regularized=True) if upper else \
            mp.gammainc(a, 0, u, regularized=True)  # fmt: skip
        return mp.log(g)

    with jax.enable_x64(True):
        for k in range(3):
            v, d1 = _VALUE_AND_D1(jnp.asarray(w), jnp.float64(q), k)
            d2 = _D2(jnp.asarray(w), jnp.float64(q), k)
            tot = [sum(mp.diff(lambda z: exact(z, mp.mpf(wi), k), mp.mpf(q), n) for wi in w)
                   for n in range(3)]  # fmt: skip
            assert float(v) == pytest.approx(float(tot[0]), rel=1e-9, abs=1e-12)
            assert float(d1) == pytest.approx(float(tot[1]), rel=1e-7, abs=1e-9)
            assert float(d2) == pytest.approx(float(tot[2]), rel=2e-6, abs=1e-8)


def test_median_standard_errors_are_the_delta_method():
    r = fitted("lung_gengamma")
    new = data("lung").iloc[:2]
    med, se = r.predict(new, se=True)
    # finite differences of the median in the parameters, with the covariance
    names = list(r.coef)
    theta = np.array([r.coef[k] for k in names] + [r.scale, float(r.fit.params["shape"])])
    X = np.column_stack([np.ones(2), new.age, new.sex, new["ph.ecog"]])

    def median(th):
        q = th[-1]
        a = 1 / q**2
        wq = np.log(ss.gamma.ppf(0.5, a) / a) / q  # the median of W (either sign of Q)
        return np.exp(X @ th[:4] + th[4] * wq)

    G = np.zeros((2, len(theta)))
    for j in range(len(theta)):
        h = 1e-6 * max(1.0, abs(theta[j]))
        e = np.zeros_like(theta)
        e[j] = h
        G[:, j] = (median(theta + e) - median(theta - e)) / (2 * h)
    labels = [f"beta.{k}" for k in names] + ["scale", "shape"]
    cov = r.fit.cov
    V = np.array([[cov[a, b] for b in labels] for a in labels])
    np.testing.assert_allclose(med, median(theta), rtol=1e-10)
    np.testing.assert_allclose(se, np.sqrt(np.einsum("ij,jk,ik->i", G, V, G)), rtol=1e-5)


def test_an_extreme_shape_is_reported_not_converged():
    # ovarian (26 rows, 12 deaths): the likelihood keeps rising towards a
    # degenerate law (Q about -20, sigma about 0.1) where the incomplete gamma
    # underflows; the fit must say so rather than report a maximum
    with pytest.warns(Warning):
        r = lx.survreg("Surv(futime, fustat) ~ age + ecog.ps", data("ovarian"),
                       dist="gengamma")  # fmt: skip
    assert not r.converged and str(r.fit.status) != "success"


def test_bad_dist_lists_the_choices():
    with pytest.raises(ValueError, match="gengamma"):
        lx.survreg(LUNG, data("lung"), dist="gompertz")
