"""lx.predict of finite mixtures (likelihax.models._predictor_mixture) against
closed forms computed here in NumPy/SciPy from the estimates.

* posterior component probabilities of new rows by Bayes' rule, marginal
  densities, marginal means and component means;
* delta-method standard errors: a central finite-difference Jacobian of the
  same quantity, written in NumPy as a function of the flat natural-scale
  estimates, times the fit's covariance (``fit.cov_flat``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import likelihax as lx
from likelihax.models.mixtures import (
    gaussian_mixture,
    latent_class,
    mixture_regression,
    poisson_mixture,
    univariate_mixture,
)


@pytest.fixture(scope="module")
def fits(make_rng):
    rng = make_rng(5)
    y = np.concatenate([rng.normal(0, 1, 120), rng.normal(4, 0.8, 80)])
    counts = np.concatenate([rng.poisson(1.5, 100), rng.poisson(8.0, 60)])
    x = np.concatenate([rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], 120),
                        rng.multivariate_normal([3, 2], [[0.6, -0.2], [-0.2, 0.4]], 80)])
    xr = rng.uniform(0, 10, 200)
    z = rng.random(200) < 0.5
    yr = np.where(z, 1 + 2 * xr, 8 - xr) + rng.normal(0, 0.7, 200)
    c = rng.random(400) < 0.4
    items = (rng.random((400, 3)) < np.where(c[:, None], 0.85, 0.2)).astype(int)
    third = np.where(c, rng.choice(3, 400, p=[0.1, 0.3, 0.6]), rng.choice(3, 400, p=[0.6, 0.3, 0.1]))
    yl = np.column_stack([items, third])
    # (Newton from a start near the optimum: the predictions do not depend on how
    # the estimates were found, and EM's compilation is skipped)
    return {
        "normal": univariate_mixture(y, 2, "normal", method="newton",
                                     init={"weights": [0.6, 0.4], "mean": [0.0, 4.0],
                                           "sd": [1.0, 0.8]}),
        "poisson": poisson_mixture(counts, 2, method="newton",
                                   init={"weights": [0.6, 0.4], "rate": [1.5, 8.0]}),
        "gaussian": gaussian_mixture(x, 2, method="newton", init={
            "weights": [0.6, 0.4], "means": [[0.0, 0.0], [3.0, 2.0]],
            "cov": [[[1.0, 0.5], [0.5, 1.0]], [[0.6, -0.2], [-0.2, 0.4]]]}),
        "regression": mixture_regression(yr, xr, 2, method="newton", init={
            "weights": [0.5, 0.5], "coef": [[1.0, 2.0], [8.0, -1.0]], "sd": [0.7, 0.7]}),
        "lca": latent_class(yl, 2, starts=3),
    }  # fmt: skip


# ----- the quantities in NumPy, as functions of the parameter pytree -----------------------
def log_components(kind, p, rows):
    """(m, K): log pi_k + log f_k(row)."""
    w = np.asarray(p["weights"], float)
    if kind == "normal":
        lf = stats.norm.logpdf(rows[:, None], p["mean"][None], p["sd"][None])
    elif kind == "poisson":
        lf = stats.poisson.logpmf(rows[:, None], p["rate"][None])
    elif kind == "gaussian":
        lf = np.column_stack([
            stats.multivariate_normal.logpdf(rows, p["means"][k],
                                             0.5 * (p["cov"][k] + p["cov"][k].T))
            for k in range(len(w))])  # fmt: skip
    elif kind == "regression":
        X, y = rows
        lf = stats.norm.logpdf(y[:, None], X @ p["coef"].T, p["sd"][None])
    else:  # latent class
        lf = np.zeros((len(rows), len(w)))
        for k in range(len(w)):
            for j in range(rows.shape[1]):
                lf[:, k] += np.log(np.asarray(p["probs"][k][j])[rows[:, j]])
    return np.log(w)[None] + lf


def posterior(kind, p, rows):
    c = log_components(kind, p, rows)
    return np.exp(c - special.logsumexp(c, axis=1, keepdims=True))


def log_density(kind, p, rows):
    return special.logsumexp(log_components(kind, p, rows), axis=1)


def fd_se(fit, fun):
    """Delta-method SE: central-difference Jacobian of fun(params) times cov_flat."""
    theta = np.asarray(fit.params_flat, float)
    spec = fit.spec
    J = []
    for i in range(theta.size):
        h = 1e-6 * max(1.0, abs(theta[i]))
        up, dn = theta.copy(), theta.copy()
        up[i] += h
        dn[i] -= h
        J.append((np.ravel(fun(spec.unflatten_natural(up)))
                  - np.ravel(fun(spec.unflatten_natural(dn)))) / (2 * h))  # fmt: skip
    J = np.array(J).T
    V = np.asarray(fit.cov_flat, float)
    return np.sqrt(np.einsum("ij,jk,ik->i", J, V, J))


def _np(p):
    import jax

    return jax.tree_util.tree_map(lambda a: np.asarray(a, float), p)


ROWS = {
    "normal": np.array([-1.0, 1.5, 2.0, 3.5]),
    "poisson": np.array([0.0, 3.0, 5.0, 12.0]),
    "gaussian": np.array([[0.0, 0.0], [1.5, 1.0], [3.0, 2.5]]),
    "lca": np.array([[1, 1, 0, 2], [0, 0, 0, 0], [1, 0, 1, 1]]),
}


@pytest.mark.parametrize("kind", list(ROWS))
def test_posterior_and_density_of_new_rows_by_bayes_rule(fits, kind):
    fit, rows = fits[kind], ROWS[kind]
    p = _np(fit.params)
    t = lx.predict(fit, rows)  # default: the posterior
    K = len(p["weights"])
    assert t.group.tolist() == list(range(K)) * len(rows)
    post = posterior(kind, p, rows)
    np.testing.assert_allclose(t.estimate.to_numpy().reshape(-1, K), post, rtol=1e-10,
                               atol=1e-14)  # fmt: skip
    se = fd_se(fit, lambda q: posterior(kind, _np(q), rows))
    np.testing.assert_allclose(t.std_error, se, rtol=2e-5, atol=1e-9)
    ld = lx.predict(fit, rows, which="log_density")
    np.testing.assert_allclose(ld.estimate, log_density(kind, p, rows), rtol=1e-10)
    np.testing.assert_allclose(ld.std_error, fd_se(fit, lambda q: log_density(kind, _np(q), rows)),
                               rtol=2e-5)  # fmt: skip
    d = lx.predict(fit, rows, which="density", interval=None)
    np.testing.assert_allclose(d.estimate, np.exp(log_density(kind, p, rows)), rtol=1e-10)
    # delta intervals are estimate -/+ z SE
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose(t.conf_high - t.estimate, z * t.std_error, rtol=1e-9, atol=1e-15)


def marginal_mean(kind, p):
    w = np.asarray(p["weights"], float)
    if kind == "normal":
        return np.array([w @ p["mean"]])
    if kind == "poisson":
        return np.array([w @ p["rate"]])
    if kind == "gaussian":
        return w @ p["means"]
    return np.concatenate([sum(w[k] * np.asarray(p["probs"][k][j]) for k in range(len(w)))
                           for j in range(len(p["probs"][0]))])  # fmt: skip


@pytest.mark.parametrize("kind", list(ROWS))
def test_marginal_mean(fits, kind):
    fit, rows = fits[kind], ROWS[kind][:1]
    t = lx.predict(fit, rows, which="mean")
    ref = marginal_mean(kind, _np(fit.params))
    np.testing.assert_allclose(t.estimate, ref, rtol=1e-10)
    np.testing.assert_allclose(t.std_error, fd_se(fit, lambda q: marginal_mean(kind, _np(q))),
                               rtol=2e-5, atol=1e-10)  # fmt: skip
    if kind == "gaussian":
        assert t.group.tolist() == ["x0", "x1"]
    if kind == "lca":
        assert t.group.tolist()[-3:] == ["item3=0", "item3=1", "item3=2"]


def test_regression_means_posterior_and_slopes(fits):
    fit = fits["regression"]
    p = _np(fit.params)
    assert fit.model_info.flags == ("intercept",)
    xnew, ynew = np.array([0.5, 4.0, 9.0]), np.array([2.0, 5.0, 0.0])
    X = np.column_stack([np.ones(3), xnew])
    comp = lambda q: X @ _np(q)["coef"].T  # noqa: E731
    mean = lambda q: comp(q) @ _np(q)["weights"]  # noqa: E731
    t = lx.predict(fit, xnew)  # default: the marginal mean
    np.testing.assert_allclose(t.estimate, mean(p), rtol=1e-10)
    np.testing.assert_allclose(t.std_error, fd_se(fit, mean), rtol=2e-5)
    c = lx.predict(fit, {"x1": xnew}, which="component_mean")
    np.testing.assert_allclose(c.estimate, comp(p).ravel(), rtol=1e-10)
    np.testing.assert_allclose(c.std_error, fd_se(fit, comp), rtol=2e-5)
    frame = pd.DataFrame({"x1": xnew, "y": ynew})
    post = lx.predict(fit, frame, which="posterior")
    ref = posterior("regression", p, (X, ynew))
    np.testing.assert_allclose(post.estimate.to_numpy().reshape(3, 2), ref, rtol=1e-9,
                               atol=1e-14)  # fmt: skip
    np.testing.assert_allclose(
        post.std_error, fd_se(fit, lambda q: posterior("regression", _np(q), (X, ynew))),
        rtol=2e-5, atol=1e-9)  # fmt: skip
    assert list(frame.columns) == ["x1", "y"] and frame.y.tolist() == ynew.tolist()
    # d mean / dx = sum_k pi_k beta_k1, by autodiff through the design
    s = lx.slopes(fit, newdata=pd.DataFrame({"x1": [2.0]}))
    beta = lambda q: np.array([_np(q)["weights"] @ _np(q)["coef"][:, 1]])  # noqa: E731
    assert s.estimate[0] == pytest.approx(beta(p)[0], rel=1e-8)
    assert s.std_error[0] == pytest.approx(fd_se(fit, beta)[0], rel=2e-5)


def test_fitted_rows_are_the_default_and_gaussian_records_its_covariance(fits):
    g = fits["gaussian"]
    assert g.model_info.flags == ("covariance=full",)
    x = np.asarray(g.setup.data["x"])
    t = lx.predict(g, which="density", se=False)
    assert list(t.columns[:3]) == ["rowid", "x0", "x1"] and len(t) == len(x)
    np.testing.assert_allclose(t.estimate, np.exp(log_density("gaussian", _np(g.params), x)),
                               rtol=1e-10)  # fmt: skip
    same = lx.predict(g, pd.DataFrame({"x0": x[:3, 0], "x1": x[:3, 1]}), which="density")
    np.testing.assert_allclose(same.estimate, t.estimate[:3], rtol=1e-12)


def test_bad_rows_and_options_name_the_problem(fits):
    with pytest.raises(ValueError, match="which must be one of"):
        lx.predict(fits["normal"], np.array([1.0]), which="component_mean")
    with pytest.raises(ValueError, match="needs the response: give newdata a column 'y'"):
        lx.predict(fits["regression"], np.array([1.0]), which="posterior")
    with pytest.raises(ValueError, match=r"rows \[1\] are outside the support"):
        lx.predict(fits["lca"], np.array([[1, 1, 0, 2], [0, 2, 0, 0]]))
    with pytest.raises(ValueError, match=r"rows \[0\] are outside the support"):
        lx.predict(fits["poisson"], np.array([-1.0, 2.0]))
    with pytest.raises(ValueError, match=r"an array \(m, 2\) or the column\(s\) \['x0', 'x1'\]"):
        lx.predict(fits["gaussian"], np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"rows \[1\] have NaN"):
        lx.predict(fits["normal"], np.array([1.0, np.nan]))
