"""Ready-made mixtures against independent references: scikit-learn
``GaussianMixture`` from the same initialization, mclust on Old Faithful,
closed forms; degenerate components and bad input."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats
from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning
from sklearn.mixture import GaussianMixture
from statsmodels.tools.numdiff import approx_hess3

import likelihax as lx
from likelihax.models.mixtures import (
    choose_k,
    gaussian_mixture,
    latent_class,
    mixture_regression,
    poisson_mixture,
    univariate_mixture,
)

REF = Path(__file__).resolve().parents[2] / "reference"


@pytest.fixture(scope="module")
def faithful():
    return np.loadtxt(REF / "faithful.csv", delimiter=",", skiprows=1)


@pytest.fixture(scope="module")
def blobs(make_rng):
    rng = make_rng(21)
    a = rng.multivariate_normal([0, 0], [[1.0, 0.5], [0.5, 1.5]], 250)
    b = rng.multivariate_normal([3, 2], [[0.6, -0.2], [-0.2, 0.4]], 150)
    c = rng.multivariate_normal([-1, 4], [[0.3, 0.0], [0.0, 0.8]], 100)
    return np.concatenate([a, b, c])


def _init(cov_type, rng, x, k=3):
    d = x.shape[1]
    means = x[rng.choice(len(x), k, replace=False)]
    w = np.array([0.5, 0.3, 0.2])
    full = np.array([np.cov(x.T) * s for s in (1.0, 0.7, 1.3)])
    if cov_type == "full":
        return {"weights": w, "means": means, "cov": full}
    if cov_type == "tied":
        return {"weights": w, "means": means, "cov": full[0]}
    if cov_type == "diag":
        return {
            "weights": w,
            "means": means,
            "var": np.array([np.diag(s) for s in full]),
        }
    return {
        "weights": w,
        "means": means,
        "var": np.array([np.trace(s) / d for s in full]),
    }


def _sk_precisions(init, cov_type):
    if cov_type in ("full", "tied"):
        return np.linalg.inv(init["cov"])
    return 1.0 / init["var"]


def _sklearn(x, init, cov_type, max_iter, tol):
    gm = GaussianMixture(
        len(init["weights"]), covariance_type=cov_type, reg_covar=0.0, tol=tol,
        max_iter=max_iter, weights_init=init["weights"], means_init=init["means"],
        precisions_init=_sk_precisions(init, cov_type), random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkConvergenceWarning)
        gm.fit(x)
    return gm


@pytest.mark.parametrize("cov_type", ["full", "diag", "tied", "spherical"])
def test_same_loglik_as_sklearn_from_same_init(blobs, cov_type, make_rng):
    init = _init(cov_type, make_rng(5), blobs)
    n = len(blobs)
    f = gaussian_mixture(blobs, 3, cov_type, init=init, tol=1e-12)
    # Per iteration: sklearn's lower_bound_ after max_iter = t is the mean
    # log-likelihood at the parameters of iteration t - 1.
    for t in (1, 2, 3, 5):
        gm = _sklearn(blobs, init, cov_type, t, 1e-300)
        assert f.em.trace[t - 1] == pytest.approx(gm.lower_bound_ * n, rel=1e-10)
    gm = _sklearn(blobs, init, cov_type, 2000, 1e-12)
    assert f.loglik == pytest.approx(gm.score(blobs) * n, rel=1e-9)
    order = np.argsort(gm.means_[:, 0])
    np.testing.assert_allclose(f.params["means"], gm.means_[order], atol=1e-5)
    np.testing.assert_allclose(f.params["weights"], gm.weights_[order], rtol=1e-5)
    if cov_type == "full":
        np.testing.assert_allclose(np.array(f.params["cov"]), gm.covariances_[order],
                                   rtol=1e-5)  # fmt: skip
    elif cov_type == "tied":
        np.testing.assert_allclose(f.params["cov"], gm.covariances_, rtol=1e-5)
    else:
        np.testing.assert_allclose(f.params["var"], gm.covariances_[order], rtol=1e-5)
    assert f.converged and f.em.monotone


def test_iterations_match_sklearn_with_same_tol(blobs, make_rng):
    init = _init("full", make_rng(5), blobs)
    f = gaussian_mixture(blobs, 3, init=init, tol=1e-3)
    gm = _sklearn(blobs, init, "full", 1000, 1e-3)
    # sklearn evaluates the log-likelihood of iteration t - 1 in its E-step of
    # iteration t, so it sees the same small change one iteration later (and
    # returns the parameters after one more M-step).
    assert gm.n_iter_ == f.em.iterations + 1
    assert f.em.trace[-1] - f.em.trace[-2] <= 1e-3 * len(blobs)


def test_old_faithful_known_maximum(faithful):
    with open(REF / "faithful_gmm_results.csv") as fh:
        ref = {r["name"]: float(r["value"]) for r in csv.DictReader(fh)}
    f = gaussian_mixture(faithful, 2, starts=5)
    assert f.loglik == pytest.approx(ref["loglik"], rel=1e-9)
    for k in range(2):
        assert f.params["weights"][k] == pytest.approx(ref[f"weights[{k}]"], rel=1e-6)
        for j in range(2):
            assert f.params["means"][k, j] == pytest.approx(ref[f"means[{k},{j}]"],
                                                            rel=1e-6)  # fmt: skip
            for i in range(2):
                assert f.params["cov"][k][i, j] == pytest.approx(
                    ref[f"cov[{k}][{i},{j}]"], rel=1e-5
                )
    # mclust's BIC is 2 loglik - k log n (sign reversed).
    assert f.bic == pytest.approx(-ref["bic_mclust"], rel=1e-9)
    assert f.em.starts["at_best"] >= 1 and f.em.starts["starts"] == 5
    assert f.labels[:2] == ["weights[0]", "weights[1]"]


def test_em_and_direct_newton_same_optimum(faithful):
    a = gaussian_mixture(faithful, 2, starts=3)
    b = gaussian_mixture(faithful, 2, starts=3, method="newton")
    c = gaussian_mixture(faithful, 2, starts=3, accelerate="squarem")
    for f in (b, c):
        assert f.loglik == pytest.approx(a.loglik, rel=1e-10)
        np.testing.assert_allclose(f.params["means"], a.params["means"], rtol=1e-6)
        np.testing.assert_allclose(f.se["means"], a.se["means"], rtol=1e-5)
    assert c.em.iterations < a.em.iterations


def test_standard_errors_by_finite_differences(faithful):
    """SEs are the inverse Hessian of the marginal loglik: check by differences."""
    f = gaussian_mixture(faithful, 2, "spherical", starts=3)
    p = f.params
    x = faithful

    def ll(m00):
        w, mu, v = p["weights"], p["means"].copy(), p["var"]
        mu[0, 0] = m00
        dens = sum(w[k] * np.exp(-0.5 * np.sum((x - mu[k]) ** 2, 1) / v[k])
                   / (2 * np.pi * v[k]) for k in range(2))  # fmt: skip
        return np.sum(np.log(dens))

    h = 1e-4
    m = p["means"][0, 0]
    d2 = (ll(m + h) - 2 * ll(m) + ll(m - h)) / h**2
    info = -np.asarray(f.information)
    i = f.unconstrained_labels.index("means[0,0]")
    assert -info[i, i] == pytest.approx(-d2, rel=1e-4)


def test_weights_equal_duplicated_rows(blobs):
    rng = np.random.default_rng(3)
    w = rng.integers(1, 4, len(blobs))
    init = _init("diag", rng, blobs)
    a = gaussian_mixture(blobs, 3, "diag", weights=w, init=init)
    b = gaussian_mixture(np.repeat(blobs, w, axis=0), 3, "diag", init=init)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-10)
    np.testing.assert_allclose(a.params["var"], b.params["var"], rtol=1e-6)
    np.testing.assert_allclose(a.se["means"], b.se["means"], rtol=1e-5)


def test_canonical_order_and_one_component(blobs):
    # Random-responsibility starts from a key, EM only: components come out
    # sorted by the first coordinate of the mean whatever the start.
    r = gaussian_mixture(blobs, 3, "tied", init="random", starts=3, key=lx_key(7),
                         se=False)  # fmt: skip
    assert r.em.starts["starts"] == 3 and np.all(np.diff(r.params["means"][:, 0]) > 0)
    g = gaussian_mixture(blobs, 1)
    np.testing.assert_allclose(g.params["means"][0], blobs.mean(0), rtol=1e-10)
    np.testing.assert_allclose(g.params["cov"][0], np.cov(blobs.T, bias=True),
                               rtol=1e-8)  # fmt: skip
    np.testing.assert_allclose(g.se["means"][0],
                               np.sqrt(np.diag(np.cov(blobs.T, bias=True)) / len(blobs)),
                               rtol=1e-8)  # fmt: skip


def lx_key(i):
    import jax

    return jax.random.key(i)


# ----- bad input and degenerate solutions ---------------------------------------------
def test_collapsing_component_named(make_rng):
    rng = make_rng(31)
    x = np.concatenate([rng.normal(0, 1, (100, 2)), [[20.0, 20.0]]])
    init = {"weights": np.array([0.9, 0.1]), "means": np.array([[0.0, 0.0], x[-1]]),
            "cov": np.array([np.eye(2), 0.5 * np.eye(2)])}  # fmt: skip
    with pytest.raises(ValueError, match=r"covariance of component 1 collapsed .*"
                       r"parameter 'cov\[1\]'"):  # fmt: skip
        gaussian_mixture(x, 2, init=init)


def test_empty_component_named(make_rng):
    x = make_rng(32).normal(0, 1, (100, 2))
    init = {"weights": np.array([0.9, 0.1]), "means": np.array([[0.0, 0.0],
            [200.0, 200.0]]), "cov": np.array([np.eye(2), 0.5 * np.eye(2)])}  # fmt: skip
    with pytest.raises(ValueError, match=r"component 1 is empty .*'weights\[1\]'"):
        gaussian_mixture(x, 2, init=init)


def test_degenerate_start_left_out(make_rng):
    rng = make_rng(33)
    x = np.concatenate([rng.normal(0, 1, (100, 2)), rng.normal(6, 1, (60, 2))])
    good = {"weights": np.array([0.5, 0.5]), "means": np.array([[0.0, 0.0],
            [6.0, 6.0]]), "cov": np.array([np.eye(2), np.eye(2)])}  # fmt: skip
    bad = {"weights": np.array([0.99, 0.01]), "means": np.array([[3.0, 3.0], x[0]]),
           "cov": np.array([10 * np.eye(2), 1e-4 * np.eye(2)])}  # fmt: skip
    with pytest.warns(lx.ConvergenceWarning, match=r"1 of 2 starts reached a "
                      r"degenerate solution .*cov\[1\]"):  # fmt: skip
        f = gaussian_mixture(x, 2, init=[good, bad])
    assert f.converged and f.em.starts["degenerate"] == 1


def test_diag_variance_collapse_named():
    x = np.array([[0.0, 0.0], [0.0, 1.0], [0.0, 2.0], [5.0, 0.3], [5.5, 1.2],
                  [6.0, 0.1], [5.2, 2.2]])  # fmt: skip
    init = {"weights": np.array([0.4, 0.6]), "means": np.array([[0.0, 1.0],
            [5.5, 1.0]]), "var": np.array([[0.1, 1.0], [1.0, 1.0]])}  # fmt: skip
    with pytest.raises(ValueError, match=r"variance of component 0 collapsed.*"
                       r"'var\[0\]'"):  # fmt: skip
        gaussian_mixture(x, 2, "diag", init=init)


def test_bad_input_messages(blobs):
    with pytest.raises(ValueError, match="k=4 components but the data have only 3 "
                       "distinct rows"):  # fmt: skip
        gaussian_mixture(np.array([[0.0], [1.0], [1.0], [2.0]]), 4)
    with pytest.raises(ValueError, match="integer >= 1"):
        gaussian_mixture(blobs, 0)
    with pytest.raises(ValueError, match="covariance must be one of"):
        gaussian_mixture(blobs, 2, "banded")
    x = blobs.copy()
    x[7, 1] = np.nan
    with pytest.raises(ValueError, match=r"1 row\(s\) with NaN .*first rows \[7\].*"
                       "mvn_missing"):  # fmt: skip
        gaussian_mixture(x, 2)
    assert np.isnan(x[7, 1])  # the caller's array is untouched
    with pytest.raises(ValueError, match=r"must be an \(n, d\) array"):
        gaussian_mixture(np.zeros((2, 2, 2)), 2)
    with pytest.raises(TypeError, match="numeric"):
        gaussian_mixture([["a", "b"]], 1)
    with pytest.raises(ValueError, match=r"init\[0\] must have the keys"):
        gaussian_mixture(blobs, 2, init={"weights": [0.5, 0.5]})
    with pytest.raises(ValueError, match=r"init\[0\]\['means'\] must have shape"):
        gaussian_mixture(blobs, 2, init={"weights": [0.5, 0.5], "means": [0.0],
                                         "cov": np.array([np.eye(2)] * 2)})  # fmt: skip
    with pytest.raises(ValueError, match="init must be 'kmeans"):
        gaussian_mixture(blobs, 2, init="kmeans")
    with pytest.raises(ValueError, match="starts must be >= 1"):
        gaussian_mixture(blobs, 2, starts=0)
    with pytest.raises(ValueError, match=r"weights must have shape"):
        gaussian_mixture(blobs, 2, weights=np.ones(3))


# ----- univariate mixtures, regression mixtures, latent classes ----------------------


def _reference(negll, theta0):
    """Independent optimum (scipy BFGS then Nelder-Mead polish) and SEs from a
    numerical Hessian of the natural-scale log-likelihood."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        r = optimize.minimize(
            negll,
            theta0,
            method="Nelder-Mead",
            options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 40000},
        )
        r = optimize.minimize(negll, r.x, method="BFGS", options={"gtol": 1e-9})
        r = optimize.minimize(
            negll,
            r.x,
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 40000},
        )
    se = np.sqrt(np.diag(np.linalg.inv(approx_hess3(r.x, negll))))  # fmt: skip
    return r.x, -r.fun, se


def _two_poisson(make_rng):
    rng = make_rng(41)
    z = rng.random(500) < 0.3
    return np.where(z, rng.poisson(2.0, 500), rng.poisson(9.0, 500))


def test_poisson_mixture_against_scipy(make_rng):
    y = _two_poisson(make_rng)
    f = poisson_mixture(y, 2, starts=4)

    def negll(t):
        w, a, b = t
        if not (0 < w < 1 and a > 0 and b > 0):
            return np.inf
        return -np.sum(
            np.log(w * stats.poisson.pmf(y, a) + (1 - w) * stats.poisson.pmf(y, b))
        )

    th, ll, se = _reference(negll, np.array([0.5, 1.0, 8.0]))
    assert f.loglik == pytest.approx(ll, rel=1e-9)
    est = [f.params["weights"][0], *f.params["rate"]]
    np.testing.assert_allclose(est, th, rtol=1e-5)
    np.testing.assert_allclose([f.se["weights"][0], *f.se["rate"]], se, rtol=2e-3)
    assert f.labels == ["weights[0]", "weights[1]", "rate[0]", "rate[1]"]
    assert np.diff(f.params["rate"])[0] > 0  # sorted by rate


def test_exponential_and_normal_mixtures_against_scipy(make_rng):
    rng = make_rng(42)
    z = rng.random(400) < 0.4
    y = np.where(z, rng.exponential(0.5, 400), rng.exponential(5.0, 400))
    f = univariate_mixture(y, 2, "exponential", starts=4, accelerate="squarem")

    def negll(t):
        w, a, b = t
        if not (0 < w < 1 and a > 0 and b > 0):
            return np.inf
        return -np.sum(np.log(w * a * np.exp(-a * y) + (1 - w) * b * np.exp(-b * y)))

    th, ll, se = _reference(negll, np.array([0.5, 0.1, 1.0]))
    assert f.loglik == pytest.approx(ll, rel=1e-9)
    np.testing.assert_allclose(
        [f.params["weights"][0], *f.params["rate"]], th, rtol=1e-4
    )
    np.testing.assert_allclose([f.se["weights"][0], *f.se["rate"]], se, rtol=5e-3)

    x = np.concatenate([rng.normal(-1, 0.5, 200), rng.normal(2, 1.5, 300)])
    g = univariate_mixture(x, 2, "normal", starts=4)
    init = {"weights": np.array([0.5, 0.5]), "mean": np.array([-1.0, 1.0]),
            "sd": np.array([1.0, 1.0])}  # fmt: skip
    h = univariate_mixture(x, 2, "normal", init=init)
    gm = GaussianMixture(2, reg_covar=0.0, tol=1e-12, max_iter=5000,
                         weights_init=init["weights"], means_init=init["mean"][:, None],
                         precisions_init=1 / init["sd"][:, None, None] ** 2).fit(x[:, None])  # fmt: skip
    assert g.loglik == pytest.approx(gm.score(x[:, None]) * len(x), rel=1e-9)
    assert h.loglik == pytest.approx(g.loglik, rel=1e-12)
    np.testing.assert_allclose(g.params["sd"] ** 2, np.sort(gm.covariances_.ravel())[
        np.argsort(np.argsort(gm.means_.ravel()))], rtol=1e-5)  # fmt: skip


def test_mixture_regression_against_scipy(make_rng):
    rng = make_rng(43)
    n = 300
    x = rng.uniform(-2, 2, n)
    z = rng.random(n) < 0.45
    y = np.where(z, 1.0 + 2.0 * x, -1.0 - 0.5 * x) + rng.normal(
        0, np.where(z, 0.4, 0.7)
    )
    f = mixture_regression(y, x, 2, starts=6)

    def negll(t):
        w, a0, a1, b0, b1, s0, s1 = t
        if not (0 < w < 1 and s0 > 0 and s1 > 0):
            return np.inf
        d = w * stats.norm.pdf(y, a0 + a1 * x, s0) + (1 - w) * stats.norm.pdf(
            y, b0 + b1 * x, s1)  # fmt: skip
        return -np.sum(np.log(d))

    th, ll, se = _reference(negll, np.array([0.5, -1.2, -0.3, 0.8, 1.8, 0.5, 0.5]))
    assert f.loglik == pytest.approx(ll, rel=1e-9)
    est = [f.params["weights"][0], *f.params["coef"].ravel(), *f.params["sd"]]
    np.testing.assert_allclose(est, th, rtol=1e-4, atol=1e-6)
    ses = [f.se["weights"][0], *f.se["coef"].ravel(), *f.se["sd"]]
    np.testing.assert_allclose(ses, se, rtol=5e-3)
    n_fit = mixture_regression(y, x, 2, starts=6, method="newton")
    assert n_fit.loglik == pytest.approx(f.loglik, rel=1e-9) or n_fit.loglik < f.loglik


def test_latent_class_against_scipy(make_rng):
    rng = make_rng(44)
    n = 500
    z = rng.random(n) < 0.35
    p = np.where(z[:, None], [0.9, 0.8, 0.75], [0.2, 0.3, 0.1])
    y = (rng.random((n, 3)) < p).astype(int)
    f = latent_class(y, 2, starts=6)

    def negll(t):
        w, q = t[0], t[1:].reshape(2, 3)
        if not (0 < w < 1 and np.all((q > 0) & (q < 1))):
            return np.inf
        like = [np.prod(np.where(y == 1, q[c], 1 - q[c]), axis=1) for c in range(2)]
        return -np.sum(np.log(w * like[0] + (1 - w) * like[1]))

    th, ll, se = _reference(negll, np.array([0.6, 0.3, 0.3, 0.2, 0.8, 0.8, 0.8]))
    assert f.loglik == pytest.approx(ll, rel=1e-9)
    # Classes by decreasing weight: class 0 is the larger one.
    q = np.array([[f.params["probs"][c][j][1] for j in range(3)] for c in range(2)])
    np.testing.assert_allclose([f.params["weights"][0], *q.ravel()], th, rtol=1e-4)
    qse = np.array([[f.se["probs"][c][j][1] for j in range(3)] for c in range(2)])
    np.testing.assert_allclose([f.se["weights"][0], *qse.ravel()], se, rtol=5e-3)
    assert f.params["weights"][0] > f.params["weights"][1]


def test_choose_k_and_other_model_errors(make_rng):
    y = _two_poisson(make_rng)
    table, fits = choose_k(poisson_mixture, [1, 2, 3], y, starts=3)
    assert min(table.rows, key=lambda r: r.bic).name == "K=2"
    assert set(fits) == {1, 2, 3} and fits[1].params["rate"][0] == pytest.approx(
        y.mean()
    )
    with pytest.raises(ValueError, match="at least two values of k"):
        choose_k(poisson_mixture, [2], y)
    with pytest.raises(ValueError, match="non-negative integer counts; rows \\[1\\]"):
        poisson_mixture(np.array([1.0, 0.5, 2.0]), 2)
    with pytest.raises(ValueError, match="k=3 components but the data have only 2"):
        poisson_mixture(np.array([0, 1, 1, 0]), 3)
    with pytest.raises(ValueError, match="needs y >= 0"):
        univariate_mixture(np.array([1.0, -1.0, 2.0]), 2, "exponential")
    with pytest.raises(ValueError, match="family must be one of"):
        univariate_mixture(y, 2, "gamma")
    with pytest.raises(ValueError, match="NaN or infinite"):
        univariate_mixture(np.array([1.0, np.nan, 2.0]), 2)
    with pytest.raises(ValueError, match="non-empty vector"):
        univariate_mixture(np.zeros((3, 2)), 2)
    with pytest.raises(ValueError, match=r"init\[0\] must have the keys"):
        poisson_mixture(y, 2, init={"weights": [0.5, 0.5]})
    with pytest.raises(ValueError, match="one value per row of X"):
        mixture_regression(np.zeros(3), np.zeros((4, 2)), 2)
    with pytest.raises(ValueError, match=r"row\(s\) of \(y, X\) have NaN"):
        mixture_regression(np.array([1.0, np.nan, 3.0]), np.arange(3.0), 2)
    with pytest.raises(ValueError, match="integer codes"):
        latent_class(np.array([[0, 1], [1, -1]]), 2)
    with pytest.raises(ValueError, match="fewer than 2 categories"):
        latent_class(np.array([[0, 1], [0, 0], [0, 1]]), 2)
    with pytest.raises(ValueError, match="codes >= n_categories"):
        latent_class(np.array([[0, 2], [1, 0]]), 2, n_categories=2)
    with pytest.raises(ValueError, match="init must be 'random' or 'kmeans"):
        latent_class(np.array([[0, 1], [1, 0], [1, 1]]), 2, init="x")


def test_univariate_degenerate_components_named():
    # A normal component sitting on a single repeated value: variance -> 0.
    y = np.array([0.0, 0.0, 0.0, 0.0, 3.0, 3.4, 2.8, 3.9, 2.2, 3.1])
    init = {"weights": np.array([0.4, 0.6]), "mean": np.array([0.0, 3.0]),
            "sd": np.array([0.5, 1.0])}  # fmt: skip
    with pytest.raises(
        ValueError, match=r"variance of component 0 collapsed.*'sd\[0\]'"
    ):
        univariate_mixture(y, 2, "normal", init=init)
    # Poisson: a component on the zeros only has its rate driven to 0.
    init = {"weights": np.array([0.4, 0.6]), "rate": np.array([0.01, 3.0])}
    with pytest.raises(ValueError, match=r"rate of component 0 reached the boundary"
                       r".*'rate\[0\]'"):  # fmt: skip
        poisson_mixture(y.astype(int), 2, init=init)
    # Empty component in a mixture of regressions.
    x = np.linspace(0, 1, 30)
    yy = 1 + x + 0.1 * np.sin(40 * x)
    init = {"weights": np.array([0.9, 0.1]), "coef": np.array([[1.0, 1.0],
            [500.0, 0.0]]), "sd": np.array([0.1, 0.01])}  # fmt: skip
    with pytest.raises(ValueError, match=r"component 1 is empty.*'weights\[1\]'"):
        mixture_regression(yy, x, 2, init=init)
