"""Models whose MLE and standard errors have closed forms, one per constraint.

The expected values are textbook formulas evaluated with NumPy/SciPy on the
data (sample means, biased variances, counts / n, ...); the log-likelihood at
the optimum is evaluated with ``scipy.stats``. Standard errors are the inverse
observed information at the MLE, which for these models equals the formula
given in each test. Constrained parameters are fitted on their unconstrained
scale, so these tests also check the delta-method transfer back to the natural
scale.
"""

from __future__ import annotations

import jax.numpy as jnp
import jax.scipy.special as jsp
import jax.scipy.stats as jst
import numpy as np
import pytest
from scipy import optimize, special, stats

import likelihax as lx

C = lx.constraints
RTOL = 1e-6


def _close(actual, expected, rtol=RTOL, atol=0.0, what=""):
    np.testing.assert_allclose(
        np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol, err_msg=what
    )


# --------------------------------------------------------------------------------------
# one-parameter families
# --------------------------------------------------------------------------------------


def bernoulli_loglik(params, data):
    p = params["p"]
    return data["y"] * jnp.log(p) + (1.0 - data["y"]) * jnp.log1p(-p)


def poisson_loglik(params, data):
    lam = params["lam"]
    return data["y"] * jnp.log(lam) - lam - jsp.gammaln(data["y"] + 1.0)


def exponential_loglik(params, data):
    rate = params["rate"]
    return jnp.log(rate) - rate * data["y"]


KNOWN_SD = 1.5


def bounded_mean_loglik(params, data):
    """Normal with known sd; the mean is constrained to an interval."""
    return jst.norm.logpdf(data["y"], params["m"], KNOWN_SD)


def _bernoulli_case(rng, n):
    y = rng.binomial(1, 0.3, size=n).astype(float)
    p = y.mean()
    return dict(
        loglik=bernoulli_loglik, params={"p": 0.5}, constraints={"p": C.unit_interval},
        data={"y": y}, name="p", mle=p, se=np.sqrt(p * (1 - p) / n),
        ll=stats.bernoulli.logpmf(y, p).sum(),
    )  # fmt: skip


def _poisson_case(rng, n):
    y = rng.poisson(3.5, size=n)
    lam = y.mean()
    return dict(
        loglik=poisson_loglik, params={"lam": 1.0}, constraints={"lam": C.positive},
        data={"y": y}, name="lam", mle=lam, se=np.sqrt(lam / n),
        ll=stats.poisson.logpmf(y, lam).sum(),
    )  # fmt: skip


def _exponential_case(rng, n):
    y = rng.exponential(1 / 2.0, size=n)
    rate = 1.0 / y.mean()
    return dict(
        loglik=exponential_loglik, params={"rate": 1.0},
        constraints={"rate": C.positive}, data={"y": y}, name="rate",
        mle=rate, se=rate / np.sqrt(n),
        ll=stats.expon.logpdf(y, scale=1 / rate).sum(),
    )  # fmt: skip


def _interval_case(rng, n):
    y = rng.normal(1.2, KNOWN_SD, size=n)
    m = y.mean()
    assert -1.0 < m < 3.0
    return dict(
        loglik=bounded_mean_loglik, params={"m": 0.0},
        constraints={"m": C.interval(-1.0, 3.0)}, data={"y": y}, name="m",
        mle=m, se=KNOWN_SD / np.sqrt(n), ll=stats.norm.logpdf(y, m, KNOWN_SD).sum(),
    )  # fmt: skip


CASES = {
    "bernoulli-unit_interval": _bernoulli_case,
    "poisson-positive": _poisson_case,
    "exponential-positive": _exponential_case,
    "normal_mean-interval": _interval_case,
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_parameter_family(case, rng):
    n = 300
    c = CASES[case](rng, n)
    fit = lx.fit(c["loglik"], c["params"], c["data"], constraints=c["constraints"])
    assert fit.converged
    name = c["name"]
    _close(fit.params[name], c["mle"], what="mle")
    _close(fit.se[name], c["se"], what="se")
    _close(fit.loglik, c["ll"], what="loglik")
    assert fit.n_params == 1 and fit.nobs == n
    _close(fit.aic, -2 * c["ll"] + 2 * 1)
    _close(fit.bic, -2 * c["ll"] + 1 * np.log(n))


# --------------------------------------------------------------------------------------
# normal: sigma (positive) vs log_sigma (real), AIC/BIC, Wald intervals
# --------------------------------------------------------------------------------------


def normal_sigma_loglik(params, data):
    return jst.norm.logpdf(data["y"], params["mu"], params["sigma"])


def normal_log_sigma_loglik(params, data):
    return jst.norm.logpdf(data["y"], params["mu"], jnp.exp(params["log_sigma"]))


@pytest.fixture(scope="module")
def normal_sample(make_rng):
    y = make_rng(10).normal(2.0, 0.7, size=250)
    n = y.size
    mu, sigma = y.mean(), np.sqrt(np.mean((y - y.mean()) ** 2))  # biased (MLE) sd
    ref = dict(
        n=n, mu=mu, sigma=sigma,
        se_mu=sigma / np.sqrt(n), se_sigma=sigma / np.sqrt(2 * n),
        ll=stats.norm.logpdf(y, mu, sigma).sum(),
    )  # fmt: skip
    return y, ref


@pytest.fixture(scope="module")
def normal_fit_sigma(normal_sample):
    y, _ = normal_sample
    return lx.fit(
        normal_sigma_loglik, {"mu": 0.0, "sigma": 1.0}, {"y": y},
        constraints={"sigma": C.positive},
    )  # fmt: skip


def test_normal_sigma_positive(normal_fit_sigma, normal_sample):
    _, ref = normal_sample
    fit = normal_fit_sigma
    assert fit.converged
    _close(fit.params["mu"], ref["mu"])
    _close(fit.params["sigma"], ref["sigma"])
    _close(fit.se["mu"], ref["se_mu"])
    _close(fit.se["sigma"], ref["se_sigma"])
    _close(fit.loglik, ref["ll"])
    # mu and sigma are orthogonal at the MLE
    corr = fit.cov["mu", "sigma"] / (fit.se["mu"] * fit.se["sigma"])
    assert abs(corr) < 1e-8


def test_normal_log_sigma_gives_same_mle_and_delta_method_se(
    normal_sample, normal_fit_sigma
):
    y, ref = normal_sample
    fit = lx.fit(normal_log_sigma_loglik, {"mu": 0.0, "log_sigma": 0.0}, {"y": y})
    assert fit.converged
    _close(fit.params["mu"], ref["mu"])
    _close(np.exp(fit.params["log_sigma"]), ref["sigma"])
    _close(fit.loglik, ref["ll"])
    _close(fit.se["mu"], ref["se_mu"])
    # se(log sigma) = 1 / sqrt(2n); delta method: se(sigma) = sigma * se(log sigma)
    _close(fit.se["log_sigma"], 1.0 / np.sqrt(2 * ref["n"]))
    delta_se_sigma = np.exp(fit.params["log_sigma"]) * fit.se["log_sigma"]
    _close(delta_se_sigma, ref["se_sigma"])
    _close(delta_se_sigma, normal_fit_sigma.se["sigma"])
    # the unconstrained scale of the `positive` fit is log(sigma): same numbers
    _close(normal_fit_sigma.params_unconstrained[1], fit.params["log_sigma"])
    _close(np.sqrt(normal_fit_sigma.cov_unconstrained[1, 1]), fit.se["log_sigma"])


def test_aic_bic_formulas(normal_fit_sigma, normal_sample):
    _, ref = normal_sample
    k, n = 2, ref["n"]
    assert normal_fit_sigma.n_params == k and normal_fit_sigma.nobs == n
    _close(normal_fit_sigma.aic, -2 * ref["ll"] + 2 * k)
    _close(normal_fit_sigma.bic, -2 * ref["ll"] + k * np.log(n))


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.32])
def test_conf_int_is_wald(normal_fit_sigma, normal_sample, alpha):
    _, ref = normal_sample
    z = stats.norm.ppf(1 - alpha / 2)
    lo, hi = normal_fit_sigma.conf_int(alpha)
    _close(lo["mu"], ref["mu"] - z * ref["se_mu"])
    _close(hi["mu"], ref["mu"] + z * ref["se_mu"])
    _close(lo["sigma"], ref["sigma"] - z * ref["se_sigma"])
    _close(hi["sigma"], ref["sigma"] + z * ref["se_sigma"])


# --------------------------------------------------------------------------------------
# ordered (sorted group means) + fixed (known common sd)
# --------------------------------------------------------------------------------------

GROUP_SIZES = (40, 70, 110)
SIGMA_FIXED = 1.3


def grouped_normal_loglik(params, data):
    return jst.norm.logpdf(data["y"], params["mu"][data["g"]], params["sigma"])


@pytest.fixture(scope="module")
def grouped(make_rng):
    rng = make_rng(20)
    g = np.repeat(np.arange(3), GROUP_SIZES)
    y = rng.normal(np.array([-1.0, 0.2, 1.5])[g], SIGMA_FIXED)
    means = np.array([y[g == j].mean() for j in range(3)])
    assert np.all(np.diff(means) > 0)  # the unconstrained MLE is inside `ordered`
    data = {"y": y, "g": g}
    fit = lx.fit(
        grouped_normal_loglik, {"mu": np.array([-0.5, 0.0, 0.5]), "sigma": SIGMA_FIXED},
        data, constraints={"mu": C.ordered, "sigma": C.fixed},
    )  # fmt: skip
    ll = stats.norm.logpdf(y, means[g], SIGMA_FIXED).sum()
    return fit, data, means, ll


def test_ordered_group_means(grouped):
    fit, _, means, ll = grouped
    assert fit.converged
    _close(fit.params["mu"], means)
    _close(fit.se["mu"], SIGMA_FIXED / np.sqrt(np.array(GROUP_SIZES)))
    _close(fit.loglik, ll)
    # independent groups: the natural-scale covariance of the means is diagonal.
    # (Exactly so only at the exact optimum: through the `ordered` map the
    # unconstrained Hessian picks up gradient terms, so a stop at a small but
    # nonzero EDM leaves tiny correlations; 1e-6 allows for that.)
    V = np.asarray(fit.cov)[:3, :3]
    corr = V / np.sqrt(np.outer(np.diag(V), np.diag(V)))
    np.testing.assert_allclose(corr, np.eye(3), atol=1e-6)


def test_fixed_parameter(grouped):
    fit, data, _, ll = grouped
    assert float(fit.params["sigma"]) == SIGMA_FIXED
    assert np.isnan(fit.se["sigma"])
    assert fit.n_params == 3  # sigma is not counted
    _close(fit.aic, -2 * ll + 2 * 3)
    _close(fit.bic, -2 * ll + 3 * np.log(sum(GROUP_SIZES)))
    # Param(..., fixed=True) is the same model
    fit2 = lx.fit(
        grouped_normal_loglik,
        {
            "mu": lx.Param(np.array([-0.5, 0.0, 0.5]), C.ordered),
            "sigma": lx.Param(SIGMA_FIXED, fixed=True),
        },
        data,
    )
    assert float(fit2.params["sigma"]) == SIGMA_FIXED and np.isnan(fit2.se["sigma"])
    _close(fit2.params["mu"], fit.params["mu"], rtol=1e-12)


# --------------------------------------------------------------------------------------
# simplex: multinomial probabilities
# --------------------------------------------------------------------------------------


def categorical_loglik(params, data):
    return jnp.log(params["p"][data["y"]])


def test_simplex_multinomial(rng):
    K, n = 4, 500
    y = rng.choice(K, size=n, p=[0.1, 0.2, 0.3, 0.4])
    counts = np.bincount(y, minlength=K)
    p = counts / n
    fit = lx.fit(
        categorical_loglik, {"p": np.full(K, 1 / K)}, {"y": y},
        constraints={"p": C.simplex},
    )  # fmt: skip
    assert fit.converged
    assert fit.n_params == K - 1
    _close(fit.params["p"], p)
    _close(fit.se["p"], np.sqrt(p * (1 - p) / n))
    # the full multinomial covariance (diag(p) - p p') / n
    _close(np.asarray(fit.cov), (np.diag(p) - np.outer(p, p)) / n, atol=1e-14)
    # categorical log-likelihood = multinomial log-pmf without the coefficient
    log_coef = special.gammaln(n + 1) - special.gammaln(counts + 1).sum()
    _close(fit.loglik, stats.multinomial.logpmf(counts, n, p) - log_coef)


# --------------------------------------------------------------------------------------
# cov_matrix: multivariate normal
# --------------------------------------------------------------------------------------


def mvn_loglik(params, data):
    return jst.multivariate_normal.logpdf(data["x"], params["mu"], params["Sigma"])


def test_cov_matrix_multivariate_normal(rng):
    d, n = 3, 400
    A = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [-0.3, 0.4, 1.2]])
    x = rng.normal(size=(n, d)) @ A.T + np.array([0.5, -1.0, 2.0])
    m = x.mean(axis=0)
    S = (x - m).T @ (x - m) / n  # biased sample covariance = MLE
    fit = lx.fit(
        mvn_loglik, {"mu": np.zeros(d), "Sigma": np.eye(d)}, {"x": x},
        constraints={"Sigma": C.cov_matrix},
    )  # fmt: skip
    assert fit.converged
    assert fit.n_params == d + d * (d + 1) // 2
    _close(fit.params["mu"], m)
    _close(fit.params["Sigma"], S)
    _close(fit.loglik, stats.multivariate_normal.logpdf(x, m, S).sum())
    _close(fit.se["mu"], np.sqrt(np.diag(S) / n))
    # Cov(S_ij, S_kl) = (S_ik S_jl + S_il S_jk) / n on the reported lower triangle
    rows, cols = np.tril_indices(d)
    pairs = list(zip(rows, cols))
    G = np.array(
        [
            [(S[i, k] * S[j, l] + S[i, l] * S[j, k]) / n for k, l in pairs]
            for i, j in pairs
        ]
    )
    sig_labels = [f"Sigma[{i},{j}]" for i, j in pairs]
    assert sorted(fit.cov.labels) == sorted(sig_labels + [f"mu[{i}]" for i in range(d)])
    got = np.array([[fit.cov[a, b] for b in sig_labels] for a in sig_labels])
    _close(got, G, what="Cov(Sigma_hat)")
    mu_labels = [f"mu[{i}]" for i in range(d)]
    got_mu = np.array([[fit.cov[a, b] for b in mu_labels] for a in mu_labels])
    _close(got_mu, S / n, what="Cov(mu_hat)")
    # mean and covariance estimates are uncorrelated at the MLE
    V = np.asarray(fit.cov)
    corr = V / np.sqrt(np.outer(np.diag(V), np.diag(V)))
    mu_idx = [fit.cov.labels.index(f"mu[{i}]") for i in range(d)]
    sig_idx = [fit.cov.labels.index(lab) for lab in sig_labels]
    np.testing.assert_allclose(corr[np.ix_(mu_idx, sig_idx)], 0.0, atol=1e-6)


# --------------------------------------------------------------------------------------
# corr_matrix: bivariate normal with unit variances and zero means
# --------------------------------------------------------------------------------------


def corr_loglik(params, data):
    return jst.multivariate_normal.logpdf(data["x"], jnp.zeros(2), params["R"])


def _profile_loglik(rho, n, sxx, syy, sxy):
    return (
        -n * np.log(2 * np.pi)
        - 0.5 * n * np.log(1 - rho**2)
        - (sxx - 2 * rho * sxy + syy) / (2 * (1 - rho**2))
    )


def test_corr_matrix_bivariate_normal(rng):
    n, rho_true = 300, 0.6
    x = rng.multivariate_normal([0.0, 0.0], [[1.0, rho_true], [rho_true, 1.0]], size=n)
    sxx, syy = np.sum(x[:, 0] ** 2), np.sum(x[:, 1] ** 2)
    sxy = np.sum(x[:, 0] * x[:, 1])
    # The score equation is the cubic -n r^3 + sxy r^2 + (n - sxx - syy) r + sxy = 0;
    # take its real roots in (-1, 1) and keep the one with the largest likelihood.
    roots = np.roots([-n, sxy, n - sxx - syy, sxy])
    roots = roots[(np.abs(roots.imag) < 1e-12) & (np.abs(roots.real) < 1)].real
    rho = max(roots, key=lambda r: _profile_loglik(r, n, sxx, syy, sxy))
    # cross-check the root with a bounded scalar optimizer
    opt = optimize.minimize_scalar(
        lambda r: -_profile_loglik(r, n, sxx, syy, sxy), bounds=(-0.99, 0.99),
        method="bounded", options={"xatol": 1e-10},
    )  # fmt: skip
    assert abs(opt.x - rho) < 1e-7
    # observed information -l''(rho) by a 5-point central difference
    h = 1e-4
    f = lambda r: _profile_loglik(r, n, sxx, syy, sxy)  # noqa: E731
    d2 = (
        -f(rho + 2 * h) + 16 * f(rho + h) - 30 * f(rho)
        + 16 * f(rho - h) - f(rho - 2 * h)
    ) / (12 * h**2)  # fmt: skip
    se = 1.0 / np.sqrt(-d2)

    fit = lx.fit(
        corr_loglik, {"R": np.eye(2)}, {"x": x}, constraints={"R": C.corr_matrix}
    )
    assert fit.converged
    assert fit.n_params == 1
    R = fit.params["R"]
    _close(np.diag(R), 1.0, rtol=1e-12)
    _close(R[1, 0], rho)
    _close(R[0, 1], rho)
    _close(fit.loglik, _profile_loglik(rho, n, sxx, syy, sxy))
    assert fit.cov.labels == ["R[1,0]"]
    _close(fit.se["R"][1, 0], se, rtol=1e-5)  # finite-difference reference


def test_transformed_interval_for_positive_parameter_closed_form():
    """conf_int(method="transformed") for sigma > 0 is sigma * exp(-/+ z se/sigma)."""
    y = np.random.default_rng(7).normal(1.0, 0.3, size=20)
    fit = lx.fit(
        lambda p, d: jst.norm.logpdf(d["y"], p["mu"], p["s"]),
        {"mu": 0.0, "s": 1.0},
        {"y": y},
        constraints={"s": lx.constraints.positive},
    )
    z = stats.norm.ppf(0.95)
    lo, hi = fit.conf_int(0.1, method="transformed")
    s_hat, se = float(fit.params["s"]), float(fit.se["s"])
    assert lo["s"].dtype == np.float64
    np.testing.assert_allclose(lo["s"], s_hat * np.exp(-z * se / s_hat), rtol=1e-12)
    np.testing.assert_allclose(hi["s"], s_hat * np.exp(z * se / s_hat), rtol=1e-12)
    # real parameters: same as Wald
    wlo, whi = fit.conf_int(0.1)
    np.testing.assert_allclose([lo["mu"], hi["mu"]], [wlo["mu"], whi["mu"]], rtol=1e-12)
    with pytest.raises(ValueError, match="method must be 'wald' or 'transformed'"):
        fit.conf_int(0.1, method="profile")
