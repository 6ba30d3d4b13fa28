"""Firth's penalized likelihood against closed forms and an independent implementation.

* 2 x 2 tables (logistic) and two-group counts (Poisson): Firth's estimates
  have closed forms (the Jeffreys penalty adds 1/2 to each cell, or to each
  group's total count).
* A separated data set with three covariates: the estimates solve Firth's
  modified score equations X'(y - pi + h (1/2 - pi)) = 0 (h the hat values),
  iterated here in NumPy independently of likelihax, and the SEs are
  sqrt(diag((X'WX)^-1)) as logistf reports them.
* Profile penalized-likelihood intervals (logistf's default): the roots of the
  penalized likelihood ratio, found here by SciPy with the nuisance parameter
  maximized by SciPy.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

import likelihax as lx


def _sep_data():
    rng = np.random.default_rng(4)
    n = 60
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 2)), rng.random(n) < 0.3])
    y = (X[:, 1] + 0.5 * X[:, 2] > 0).astype(float)
    y[X[:, 3] == 1] = 1.0  # the binary covariate separates: all its rows succeed
    return X.astype(float), y


def _firth_numpy(X, y, steps=20000):
    """Firth's modified-score iteration (Heinze and Schemper's), until the
    modified score is below 1e-12 (slow along the separated direction)."""
    b = np.zeros(X.shape[1])
    for _ in range(steps):
        pi = 1 / (1 + np.exp(-X @ b))
        W = pi * (1 - pi)
        A = np.linalg.inv(X.T @ (W[:, None] * X))
        h = np.einsum("ij,jk,ik->i", X, A, X) * W
        score = X.T @ (y - pi + h * (0.5 - pi))
        if np.max(np.abs(score)) < 1e-12:
            break
        b = b + A @ score
    return b, np.sqrt(np.diag(A))


def test_two_by_two_table_adds_a_half_to_every_cell():
    x = np.repeat([0.0, 1.0], [12, 8])
    y = np.r_[np.repeat([1.0, 0.0], [5, 7]), np.repeat([1.0, 0.0], [8, 0])]
    r = lx.firth(y, np.column_stack([np.ones(20), x]))
    assert r.converged
    assert r.coef["x0"] == pytest.approx(np.log(5.5 / 7.5), rel=1e-10)
    assert r.coef["x1"] == pytest.approx(np.log((8.5 / 0.5) / (5.5 / 7.5)), rel=1e-10)


def test_poisson_groups_add_a_half_to_each_total():
    rng = np.random.default_rng(2)
    g = np.repeat([0.0, 1.0], [15, 25])
    y = np.r_[np.zeros(15), rng.poisson(2.0, 25)].astype(float)   # group 0: all zero
    r = lx.firth(y, np.column_stack([np.ones(40), g]), family="poisson")
    mu0, mu1 = 0.5 / 15, (y[15:].sum() + 0.5) / 25
    assert np.exp(r.coef["x0"]) == pytest.approx(mu0, rel=1e-10)
    assert np.exp(r.coef["x0"] + r.coef["x1"]) == pytest.approx(mu1, rel=1e-10)


def test_separated_logistic_matches_the_modified_score():
    X, y = _sep_data()
    with pytest.warns(lx.SeparationWarning, match="firth"):
        lx.glm(y, X, family="binomial")
    r = lx.firth(y, X)
    b, se = _firth_numpy(X, y)
    assert r.converged
    np.testing.assert_allclose(list(r.coef.values()), b, rtol=1e-9)
    np.testing.assert_allclose([float(r.se[c]) for c in r.columns], se, rtol=1e-9)


def test_profile_penalized_likelihood_interval():
    x = np.repeat([0.0, 1.0], [12, 8])
    y = np.r_[np.repeat([1.0, 0.0], [5, 7]), np.ones(8)]
    X = np.column_stack([np.ones(20), x])
    r = lx.firth(y, X)
    lo, hi = (float(v) for v in lx.profile_ci(r)["x1"])

    def pen(b):
        pi = 1 / (1 + np.exp(-X @ b))
        ll = np.sum(y * np.log(pi) + (1 - y) * np.log1p(-pi))
        return ll + 0.5 * np.linalg.slogdet(X.T @ ((pi * (1 - pi))[:, None] * X))[1]

    top = pen(np.array(list(r.coef.values())))

    def prof(b1):
        res = optimize.minimize_scalar(lambda b0: -pen(np.array([b0, b1])),
                                       bounds=(-10, 10), method="bounded",
                                       options={"xatol": 1e-12})  # fmt: skip
        return 2 * (top + res.fun) - stats.chi2.ppf(0.95, 1)

    b1 = r.coef["x1"]
    assert lo == pytest.approx(optimize.brentq(prof, b1 - 8, b1, xtol=1e-12), abs=1e-6)
    assert hi == pytest.approx(optimize.brentq(prof, b1, b1 + 15, xtol=1e-12), abs=1e-6)


def test_bad_input_names_rows():
    X = np.column_stack([np.ones(4), [0.0, 1, 2, 3]])
    with pytest.raises(ValueError, match=r"Rows \[2\] are not successes"):
        lx.firth(np.array([0.0, 1, 2, 1]), X)
    with pytest.raises(ValueError, match="family must be"):
        lx.firth(np.array([0.0, 1, 1, 0]), X, family="gamma")
    y = np.array([0.0, 1, 1, 0])
    y0, X0 = y.copy(), X.copy()
    lx.firth(y, X)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(X, X0)  # the caller's arrays are untouched
