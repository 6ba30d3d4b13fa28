"""Multivariate normal with values missing at random: EM and direct FIML agree,
and both match the closed form for monotone bivariate data (Anderson, 1957)
for the estimates, the log-likelihood and the standard errors."""

from __future__ import annotations

import logging

import jax
import numpy as np
import pytest
from scipy import stats

import likelihax as lx
from likelihax.models.missing import mvn_fiml_loglik, mvn_missing


@pytest.fixture(scope="module")
def monotone(make_rng):
    rng = make_rng(51)
    n = 400
    x = rng.multivariate_normal([1.0, -0.5], [[1.0, 0.6], [0.6, 2.0]], n)
    # MAR: x2 is missing more often when x1 is large (depends on observed x1 only).
    miss = rng.random(n) < 1 / (1 + np.exp(-(x[:, 0] - 1.0) * 2))
    x[miss, 1] = np.nan
    return x


def anderson(x):
    """Closed-form MLE, loglik and SEs for bivariate monotone missing data."""
    x1 = x[:, 0]
    cc = ~np.isnan(x[:, 1])
    n, m = len(x1), int(cc.sum())
    mu1, s11 = x1.mean(), x1.var()
    a, b = x[cc, 0], x[cc, 1]
    beta = np.cov(a, b, bias=True)[0, 1] / a.var()
    beta0 = b.mean() - beta * a.mean()
    s221 = np.mean((b - beta0 - beta * a) ** 2)
    theta = np.array([mu1, beta0 + beta * mu1, s11, beta * s11, s221 + beta**2 * s11])
    ll = -n / 2 * (np.log(2 * np.pi * s11) + 1) - m / 2 * (np.log(2 * np.pi * s221) + 1)
    # Factored parameters phi = (mu1, s11, beta0, beta, s22.1): independent
    # blocks of the inverse observed information at the MLE.
    X = np.column_stack([np.ones(m), a])
    V = np.zeros((5, 5))
    V[0, 0], V[1, 1] = s11 / n, 2 * s11**2 / n
    V[2:4, 2:4] = s221 * np.linalg.inv(X.T @ X)
    V[4, 4] = 2 * s221**2 / m
    J = np.zeros((5, 5))  # d theta / d phi
    J[0, 0] = 1
    J[1, [0, 2, 3]] = beta, 1, mu1
    J[2, 1] = 1
    J[3, [1, 3]] = beta, s11
    J[4, [1, 3, 4]] = beta**2, 2 * beta * s11, 1
    se = np.sqrt(np.diag(J @ V @ J.T))
    return theta, ll, se


def _flat(fit, what="params"):
    p = getattr(fit, what)
    return np.array([*p["mean"], p["cov"][0, 0], p["cov"][1, 0], p["cov"][1, 1]])


def test_monotone_closed_form(monotone):
    theta, ll, se = anderson(monotone)
    em = mvn_missing(monotone)
    fiml = mvn_missing(monotone, method="fiml")
    for f in (em, fiml):
        np.testing.assert_allclose(_flat(f), theta, rtol=1e-9)
        assert f.loglik == pytest.approx(ll, rel=1e-11)
        np.testing.assert_allclose(_flat(f, "se"), se, rtol=1e-7)
        assert f.converged
    assert em.em.status == lx.Status.success and em.em.monotone
    assert np.all(np.diff(em.em.trace) >= -1e-9)
    assert fiml.em is None
    head = dict(em.summary().header)
    assert head["Patterns"] == "2" and "EM" in head["Estimation"]


def test_em_and_fiml_agree_general_pattern(make_rng):
    rng = make_rng(52)
    n = 250
    S = np.array([[1.0, 0.4, -0.3], [0.4, 1.5, 0.5], [-0.3, 0.5, 0.8]])
    x = rng.multivariate_normal([0.0, 1.0, 2.0], S, n)
    x[rng.random((n, 3)) < 0.25] = np.nan
    x[3] = np.nan  # a row with nothing observed is dropped
    x_before = x.copy()
    a = mvn_missing(x)
    b = mvn_missing(x, method="fiml")
    np.testing.assert_array_equal(np.isnan(x), np.isnan(x_before))  # untouched
    np.testing.assert_allclose(_all(a), _all(b), rtol=1e-6)
    np.testing.assert_allclose(a.se_flat, b.se_flat, rtol=1e-6)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-12)
    # Independent log-likelihood: scipy's normal density of each row's
    # observed coordinates at the estimate.
    mu, C = a.params["mean"], a.params["cov"]
    ll = 0.0
    for row in x:
        o = ~np.isnan(row)
        if o.any():
            ll += stats.multivariate_normal.logpdf(row[o], mu[o], C[np.ix_(o, o)])
    assert a.loglik == pytest.approx(ll, rel=1e-12)
    empty = int(np.all(np.isnan(x), axis=1).sum())
    assert empty >= 1 and a.nobs == n - empty
    assert dict(a.summary().header)["Rows dropped"] == f"{empty} (no observed value)"


def _all(f):
    return np.concatenate([f.params["mean"], f.params["cov"].ravel()])


def test_complete_data_closed_form(make_rng):
    x = make_rng(53).normal(size=(120, 2)) @ np.array([[1.0, 0.3], [0.0, 0.8]])
    f = mvn_missing(x)
    np.testing.assert_allclose(f.params["mean"], x.mean(0), rtol=1e-10)
    np.testing.assert_allclose(f.params["cov"], np.cov(x.T, bias=True), rtol=1e-9)
    np.testing.assert_allclose(f.se["mean"], np.sqrt(np.diag(np.cov(x.T, bias=True))
                                                     / 120), rtol=1e-8)  # fmt: skip
    assert f.em.iterations <= 2


def test_weights_equal_duplicated_rows(monotone):
    w = np.tile([1, 2], len(monotone) // 2)
    a = mvn_missing(monotone, weights=w)
    b = mvn_missing(np.repeat(monotone, w, axis=0))
    np.testing.assert_allclose(_all(a), _all(b), rtol=1e-9)
    np.testing.assert_allclose(a.se_flat, b.se_flat, rtol=1e-8)


def test_fiml_loglik_against_scipy():
    p = {"mean": np.array([0.5, -1.0, 2.0]),
         "cov": np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.5]])}  # fmt: skip
    x = np.array([[1.0, 0.0, 2.5], [0.2, -0.7, 0.0], [0.0, 0.0, 1.0]])
    mask = np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 1.0]])
    with jax.enable_x64(True):
        got = np.asarray(mvn_fiml_loglik(p, {"x": x, "mask": mask}))
    for i in range(3):
        o = mask[i] > 0
        want = stats.multivariate_normal.logpdf(x[i, o], p["mean"][o],
                                                p["cov"][np.ix_(o, o)])  # fmt: skip
        assert got[i] == pytest.approx(want, rel=1e-12)


def test_max_steps_status(monotone):
    f = mvn_missing(monotone, max_steps=1)
    assert f.em.status == lx.Status.max_steps and f.converged
    assert any("max_steps" in t for t in f.summary().notes)


def test_bad_input():
    with pytest.raises(ValueError, match="method must be 'em' or 'fiml'"):
        mvn_missing(np.zeros((3, 2)), method="newton")
    with pytest.raises(ValueError, match=r"Column\(s\) \[1\] have fewer than 2"):
        mvn_missing(np.array([[1.0, np.nan], [2.0, 1.0], [3.0, np.nan]]))
    with pytest.raises(ValueError, match="infinite values .*first rows \\[1\\]"):
        mvn_missing(np.array([[1.0, 2.0], [np.inf, 1.0], [3.0, 0.0]]))
    with pytest.raises(ValueError, match="Column 0 has no variation"):
        mvn_missing(np.array([[1.0, 2.0], [1.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match=r"must be an \(n, d\) array"):
        mvn_missing(np.zeros((2, 2, 2)))
    with pytest.raises(TypeError, match="numeric"):
        mvn_missing([["a"]])
    with pytest.raises(ValueError, match=r"weights must have shape \(3,\)"):
        mvn_missing(np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 0.5]]), weights=[1, 2])
    # The options shared with lx.fit get lx.fit's checks.
    x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 0.5], [0.5, 1.0]])
    with pytest.raises(ValueError, match="cov must be one of"):
        mvn_missing(x, cov="robust")
    with pytest.raises(ValueError, match="tol must be a finite number >= 0"):
        mvn_missing(x, tol=-1e-3)
    with pytest.raises(ValueError, match="max_steps must be a whole number"):
        mvn_missing(x, max_steps=2.5)


class _Compiles(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.names: list[str] = []

    def emit(self, record):
        msg = record.getMessage()
        if msg.startswith("Compiling "):
            self.names.append(msg.split(" with ")[0])


def test_second_em_with_same_shapes_does_not_recompile(make_rng):
    rng = make_rng(54)
    S = np.array([[1.0, 0.5], [0.5, 2.0]])

    def sample():
        x = rng.multivariate_normal([1.0, -1.0], S, size=120)
        x[rng.random(120) < 0.3, 1] = np.nan
        return x

    x1, x2 = sample(), sample()
    while np.isnan(x2[:, 1]).sum() != np.isnan(x1[:, 1]).sum():  # same patterns
        x2 = sample()
    mvn_missing(x1)
    handler = _Compiles()
    logger = logging.getLogger("jax")
    logger.addHandler(handler)
    try:
        with jax.log_compiles():
            f = mvn_missing(x2, tol=1e-12)  # tol is traced: no new program
    finally:
        logger.removeHandler(handler)
    assert handler.names == [], handler.names
    # and it fitted the new data: EM and direct FIML agree.
    g = mvn_missing(x2, method="fiml")
    np.testing.assert_allclose(f.params["mean"], g.params["mean"], rtol=1e-8)
    assert f.em.status == lx.Status.success
