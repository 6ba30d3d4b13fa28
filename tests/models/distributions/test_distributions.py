"""Distribution fitting against scipy/statsmodels and closed forms."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as ss

import likelihax as lx
from likelihax.models.distributions import FAMILIES, closed_form_mle

RNG = np.random.default_rng(20261125)

# family -> (params for the logpdf check, scipy frozen distribution, sample)
CASES = {
    "normal": ({"mu": 0.7, "sigma": 1.3}, ss.norm(0.7, 1.3)),
    "lognormal": ({"mu": 0.2, "sigma": 0.6}, ss.lognorm(0.6, scale=math.exp(0.2))),
    "exponential": ({"rate": 2.5}, ss.expon(scale=1 / 2.5)),
    "gamma": ({"shape": 2.2, "rate": 0.8}, ss.gamma(2.2, scale=1 / 0.8)),
    "weibull": ({"shape": 1.7, "scale": 2.0}, ss.weibull_min(1.7, scale=2.0)),
    "beta": ({"a": 2.0, "b": 5.0}, ss.beta(2.0, 5.0)),
    "student_t": ({"loc": 1.0, "scale": 2.0, "df": 4.5}, ss.t(4.5, 1.0, 2.0)),
    "logistic": ({"loc": -1.0, "scale": 0.7}, ss.logistic(-1.0, 0.7)),
    "gumbel": ({"loc": 3.0, "scale": 1.5}, ss.gumbel_r(3.0, 1.5)),
    "pareto": ({"shape": 3.0, "scale": 1.2}, ss.pareto(3.0, scale=1.2)),
    "poisson": ({"rate": 3.3}, ss.poisson(3.3)),
    "binomial": ({"prob": 0.3}, ss.binom(12, 0.3)),
    "negbin": ({"size": 2.5, "mu": 4.0}, ss.nbinom(2.5, 2.5 / (2.5 + 4.0))),
    "geometric": ({"prob": 0.35}, ss.geom(0.35, loc=-1)),
}


def _data(name, x):
    d = {"x": jnp.asarray(x, dtype=jnp.float64)}
    if name == "binomial":
        d["trials"] = jnp.full(x.shape, 12.0)
    return d


def test_catalogue_is_complete():
    assert set(FAMILIES) == set(CASES) | {"zip"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_logpdf_matches_scipy(name):
    params, dist = CASES[name]
    x = dist.rvs(size=50, random_state=RNG)
    with jax.enable_x64(True):
        p = {k: jnp.asarray(v) for k, v in params.items()}
        got = np.asarray(FAMILIES[name].loglik(p, _data(name, x)))
    np.testing.assert_allclose(got, dist.logpdf(x) if not FAMILIES[name].discrete
                               else dist.logpmf(x), rtol=1e-11, atol=1e-12)  # fmt: skip


def test_zip_logpmf_matches_mixture():
    x = np.array([0, 0, 1, 3, 0, 2, 5])
    pi, lam = 0.3, 2.0
    ref = np.where(x == 0, np.log(pi + (1 - pi) * np.exp(-lam)),
                   np.log(1 - pi) + ss.poisson(lam).logpmf(x))  # fmt: skip
    with jax.enable_x64(True):
        got = FAMILIES["zip"].loglik({"pi": jnp.asarray(pi), "rate": jnp.asarray(lam)},
                                     {"x": jnp.asarray(x, float)})  # fmt: skip
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-12)


CLOSED = [
    "normal",
    "lognormal",
    "exponential",
    "pareto",
    "poisson",
    "binomial",
    "geometric",
]


@pytest.mark.parametrize("name", CLOSED)
def test_numerical_fit_equals_closed_form(name):
    params, dist = CASES[name]
    x = dist.rvs(size=300, random_state=RNG)
    trials = 12 if name == "binomial" else None
    fit = lx.fit_distribution(name, x, trials=trials)
    assert fit.converged
    for k, v in closed_form_mle(name, x, trials=trials).items():
        assert float(fit.params[k]) == pytest.approx(v, rel=1e-10)


@pytest.mark.parametrize(
    "name, se_formula",
    [
        ("exponential", lambda p, x: p["rate"] / math.sqrt(x.size)),
        ("poisson", lambda p, x: math.sqrt(p["rate"] / x.size)),
        (
            "binomial",
            lambda p, x: math.sqrt(p["prob"] * (1 - p["prob"]) / (12 * x.size)),
        ),
        (
            "geometric",
            lambda p, x: p["prob"] * math.sqrt(1 - p["prob"]) / math.sqrt(x.size),
        ),
        ("pareto", lambda p, x: p["shape"] / math.sqrt(x.size)),
    ],
)
def test_standard_errors_equal_fisher_information(name, se_formula):
    _, dist = CASES[name]
    x = dist.rvs(size=400, random_state=RNG)
    fit = lx.fit_distribution(name, x, trials=12 if name == "binomial" else None)
    p = {k: float(v) for k, v in fit.params.items()}
    (free,) = [k for k in p if not (name == "pareto" and k == "scale")]
    assert float(fit.se[free]) == pytest.approx(se_formula(p, x), rel=1e-7)
    if name == "pareto":
        assert math.isnan(float(fit.se["scale"]))


SCIPY_FIT = {
    "gamma": (
        lambda x: ss.gamma.fit(x, floc=0),
        lambda q: {"shape": q[0], "rate": 1 / q[2]},
    ),
    "weibull": (
        lambda x: ss.weibull_min.fit(x, floc=0),
        lambda q: {"shape": q[0], "scale": q[2]},
    ),
    "beta": (
        lambda x: ss.beta.fit(x, floc=0, fscale=1),
        lambda q: {"a": q[0], "b": q[1]},
    ),
    "student_t": (ss.t.fit, lambda q: {"df": q[0], "loc": q[1], "scale": q[2]}),
    "logistic": (ss.logistic.fit, lambda q: {"loc": q[0], "scale": q[1]}),
    "gumbel": (ss.gumbel_r.fit, lambda q: {"loc": q[0], "scale": q[1]}),
}


@pytest.mark.parametrize("name", sorted(SCIPY_FIT))
def test_fit_agrees_with_scipy_mle(name):
    """scipy's numerical MLE stops at its optimizer's tolerance: we must reach
    at least its log-likelihood and agree on the estimates to 1e-4."""
    _, dist = CASES[name]
    x = dist.rvs(size=400, random_state=RNG)
    fit = lx.fit_distribution(name, x)
    assert fit.converged
    sp_fit, to_params = SCIPY_FIT[name]
    ref = to_params(sp_fit(x))
    with jax.enable_x64(True):
        ll_ref = float(jnp.sum(FAMILIES[name].loglik(
            {k: jnp.asarray(v) for k, v in ref.items()}, _data(name, x))))  # fmt: skip
    assert float(fit.loglik) >= ll_ref - 1e-9
    for k, v in ref.items():
        assert float(fit.params[k]) == pytest.approx(v, rel=1e-4)


def test_negbin_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    _, dist = CASES["negbin"]
    x = dist.rvs(size=500, random_state=RNG)
    res = sm.NegativeBinomial(x, np.ones_like(x, dtype=float)).fit(
        disp=0, method="newton", maxiter=200, tol=1e-12
    )
    fit = lx.fit_distribution("negbin", x)
    assert float(fit.params["mu"]) == pytest.approx(math.exp(res.params[0]), rel=1e-6)
    assert float(fit.params["size"]) == pytest.approx(1 / res.params[1], rel=1e-6)
    assert float(fit.loglik) == pytest.approx(res.llf, rel=1e-10)
    # SE of mu by the delta method from statsmodels' SE of log(mu)
    assert float(fit.se["mu"]) == pytest.approx(
        math.exp(res.params[0]) * res.bse[0], rel=1e-5
    )


def test_zip_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    n = 600
    x = np.where(RNG.random(n) < 0.25, 0, RNG.poisson(2.5, n)).astype(float)
    ones = np.ones((n, 1))
    res = sm.ZeroInflatedPoisson(x, ones, exog_infl=ones).fit(
        disp=0, method="newton", maxiter=100
    )
    assert res.mle_retvals["converged"]
    fit = lx.fit_distribution("zip", x)
    assert float(fit.loglik) == pytest.approx(res.llf, rel=1e-10)
    pi = 1 / (1 + math.exp(-res.params[0]))
    assert float(fit.params["pi"]) == pytest.approx(pi, rel=1e-6)
    assert float(fit.params["rate"]) == pytest.approx(math.exp(res.params[1]), rel=1e-6)

    # SEs: inverse of a central finite-difference Hessian of the ZIP
    # log-likelihood in (pi, rate), computed here with numpy
    def ll(pi, lam):
        z = np.log(pi + (1 - pi) * np.exp(-lam))
        return np.where(x == 0, z, np.log(1 - pi) + ss.poisson(lam).logpmf(x)).sum()

    th = np.array([float(fit.params["pi"]), float(fit.params["rate"])])
    h = 1e-4 * th
    H = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            e_i, e_j = np.eye(2)[i] * h[i], np.eye(2)[j] * h[j]
            H[i, j] = (
                ll(*(th + e_i + e_j)) - ll(*(th + e_i - e_j))
                - ll(*(th - e_i + e_j)) + ll(*(th - e_i - e_j))
            ) / (4 * h[i] * h[j])  # fmt: skip
    se_fd = np.sqrt(np.diag(np.linalg.inv(-H)))
    np.testing.assert_allclose([fit.se["pi"], fit.se["rate"]], se_fd, rtol=1e-5)


def test_method_of_moments_formulas_and_se():
    x = RNG.gamma(2.0, 1.5, size=400)
    m, v = x.mean(), x.var()
    mom = lx.method_of_moments("gamma", x)
    assert mom["params"]["shape"] == pytest.approx(m**2 / v, rel=1e-12)
    assert mom["params"]["rate"] == pytest.approx(m / v, rel=1e-12)
    k = RNG.poisson(3.0, size=400)
    mp = lx.method_of_moments("poisson", k)
    assert mp["se"]["rate"] == pytest.approx(k.std() / math.sqrt(k.size), rel=1e-10)
    e = RNG.exponential(0.5, size=400)
    me = lx.method_of_moments("exponential", e)
    assert me["se"]["rate"] == pytest.approx(
        e.std() / e.mean() ** 2 / math.sqrt(e.size), rel=1e-10
    )
    w = RNG.weibull(1.7, size=2000) * 2.0
    mw = lx.method_of_moments("weibull", w)
    from scipy.special import gamma as G

    k_ = mw["params"]["shape"]
    assert G(1 + 2 / k_) / G(1 + 1 / k_) ** 2 - 1 == pytest.approx(
        w.var() / w.mean() ** 2, rel=1e-10
    )
    assert mw["se"]["shape"] > 0


def test_mom_invalid_gives_nan_and_fit_still_works():
    x = np.array([2, 3, 2, 3, 2, 3, 2, 3], dtype=float)  # variance below the mean
    mom = lx.method_of_moments("negbin", x)
    assert math.isnan(mom["params"]["size"])


def test_compare_table():
    _, dist = CASES["gamma"]
    x = dist.rvs(size=300, random_state=RNG)
    table = lx.compare_mle_mom("gamma", x)
    head = dict(table.header)
    assert float(head["Loglik at MLE"]) >= float(head["Loglik at MoM"])
    frame = table.to_frame()
    assert list(frame.index) == ["shape", "rate"]
    fit = lx.fit_distribution("gamma", x)
    assert frame.loc["shape", "MLE"] == pytest.approx(
        float(fit.params["shape"]), rel=1e-12
    )


def test_bad_input_messages():
    with pytest.raises(ValueError, match="Unknown family 'gaussian'. Families: normal"):
        lx.fit_distribution("gaussian", [1.0, 2.0])
    with pytest.raises(
        ValueError,
        match=r"2 value\(s\) of x lie outside the support of gamma \(x > 0\): rows \[1, 3\]",
    ):
        lx.fit_distribution("gamma", [1.0, -2.0, 3.0, 0.0])
    with pytest.raises(ValueError, match=r"outside the support of poisson.*rows \[2\]"):
        lx.fit_distribution("poisson", [1, 2, 2.5])
    with pytest.raises(ValueError, match="needs `trials`"):
        lx.fit_distribution("binomial", [1, 2])
    with pytest.raises(ValueError, match="`trials` is for the binomial family"):
        lx.fit_distribution("poisson", [1, 2], trials=3)
    with pytest.raises(
        ValueError, match=r"outside the support of binomial.*rows \[1\]"
    ):
        lx.fit_distribution("binomial", [1, 5], trials=4)
    with pytest.raises(ValueError, match="NaN or infinite"):
        lx.fit_distribution("normal", [1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="one-dimensional"):
        lx.fit_distribution("normal", np.ones((3, 2)))


# ----- censored data ---------------------------------------------------------------
def _censored_sample(dist, n=400, seed=3):
    """Mixed censoring: 60% exact, 20% right-, 10% left-, 10% interval-censored."""
    rng = np.random.default_rng(seed)
    x = dist.rvs(size=n, random_state=rng)
    u = rng.random(n)
    lo, hi = x.copy(), x.copy()
    right, left, inter = (u >= 0.6) & (u < 0.8), (u >= 0.8) & (u < 0.9), u >= 0.9
    lo[right] = (
        x[right] * rng.uniform(0.5, 1.0, right.sum())
        if dist.support()[0] >= 0
        else x[right] - rng.uniform(0, 1, right.sum())
    )
    hi[right] = np.inf
    hi[left] = (
        x[left] * rng.uniform(1.0, 1.5, left.sum())
        if dist.support()[0] >= 0
        else x[left] + rng.uniform(0, 1, left.sum())
    )
    lo[left] = -np.inf
    width = np.abs(x[inter]) * 0.2 + 0.1
    lo[inter], hi[inter] = x[inter] - width / 2, x[inter] + width / 2
    if dist.support()[0] >= 0:
        lo[inter] = np.maximum(lo[inter], x[inter] / 2)
    return lo, hi


def _scipy_censored_loglik(dist):
    def ll(lo, hi):
        exact, left, right = lo == hi, np.isneginf(lo), np.isposinf(hi)
        inter = ~(exact | left | right)
        return (
            dist.logpdf(lo[exact]).sum()
            + dist.logcdf(hi[left]).sum()
            + dist.logsf(lo[right]).sum()
            + np.log(dist.cdf(hi[inter]) - dist.cdf(lo[inter])).sum()
        )

    return ll


CENSORED = {
    "normal": (ss.norm(2.0, 1.5), lambda p: ss.norm(p["mu"], p["sigma"])),
    "lognormal": (
        ss.lognorm(0.5, scale=2.0),
        lambda p: ss.lognorm(p["sigma"], scale=math.exp(p["mu"])),
    ),
    "exponential": (ss.expon(scale=2.0), lambda p: ss.expon(scale=1 / p["rate"])),
    "weibull": (
        ss.weibull_min(1.6, scale=3.0),
        lambda p: ss.weibull_min(p["shape"], scale=p["scale"]),
    ),
    "logistic": (ss.logistic(1.0, 0.8), lambda p: ss.logistic(p["loc"], p["scale"])),
    "gumbel": (ss.gumbel_r(2.0, 1.2), lambda p: ss.gumbel_r(p["loc"], p["scale"])),
}


@pytest.mark.parametrize("name", sorted(CENSORED))
def test_censored_loglik_matches_scipy_and_fit_is_a_maximum(name):
    dist, frozen = CENSORED[name]
    lo, hi = _censored_sample(dist)
    fit = lx.fit_distribution(name, lower=lo, upper=hi)
    assert fit.converged
    p = {k: float(v) for k, v in fit.params.items()}
    # the log-likelihood at the estimate, recomputed independently with scipy
    assert float(fit.loglik) == pytest.approx(
        _scipy_censored_loglik(frozen(p))(lo, hi), rel=1e-10
    )
    # and scipy's own censored MLE is no better
    cd = ss.CensoredData(
        uncensored=lo[lo == hi], left=hi[np.isneginf(lo)], right=lo[np.isposinf(hi)],
        interval=np.column_stack([lo, hi])[(lo != hi) & np.isfinite(lo) & np.isfinite(hi)],
    )  # fmt: skip
    kw = {"floc": 0} if name in ("lognormal", "exponential", "weibull") else {}
    q = type(dist.dist).fit(dist.dist, cd, **kw)
    ll_scipy = _scipy_censored_loglik(dist.dist(*q))(lo, hi)
    assert float(fit.loglik) >= ll_scipy - 1e-8


def test_exponential_right_censored_closed_form():
    rng = np.random.default_rng(5)
    t, c = rng.exponential(2.0, 500), rng.exponential(3.0, 500)
    obs, event = np.minimum(t, c), t <= c
    fit = lx.fit_distribution(
        "exponential", lower=obs, upper=np.where(event, obs, np.inf)
    )
    rate = event.sum() / obs.sum()  # events / total time at risk
    assert float(fit.params["rate"]) == pytest.approx(rate, rel=1e-10)
    assert float(fit.se["rate"]) == pytest.approx(
        rate / math.sqrt(event.sum()), rel=1e-8
    )


def test_censored_with_only_exact_rows_equals_plain_fit():
    x = CENSORED["weibull"][0].rvs(size=200, random_state=np.random.default_rng(9))
    a = lx.fit_distribution("weibull", x)
    b = lx.fit_distribution("weibull", lower=x, upper=x)
    assert float(b.loglik) == pytest.approx(float(a.loglik), rel=1e-12)
    np.testing.assert_allclose(b.se["shape"], a.se["shape"], rtol=1e-9)


def test_censored_bad_input():
    lo = np.array([1.0, 2.0, 3.0])
    with pytest.raises(NotImplementedError, match="not for pareto"):
        lx.fit_distribution("pareto", lower=lo, upper=lo)
    with pytest.raises(ValueError, match=r"1 row\(s\) have lower > upper: rows \[1\]"):
        lx.fit_distribution("weibull", lower=lo, upper=np.array([1.0, 1.5, 3.0]))
    with pytest.raises(ValueError, match=r"are NaN \(use -inf / \+inf"):
        lx.fit_distribution("weibull", lower=lo, upper=np.array([1.0, np.nan, 3.0]))
    with pytest.raises(ValueError, match="censored on both sides"):
        lx.fit_distribution(
            "normal", lower=np.array([-np.inf, 1.0]), upper=np.array([np.inf, 1.0])
        )
    with pytest.raises(
        ValueError, match=r"finite lower bound outside the support \(x > 0\)"
    ):
        lx.fit_distribution(
            "weibull", lower=np.array([0.0, 1.0]), upper=np.array([1.0, 1.0])
        )
    with pytest.raises(ValueError, match="Give either `x` or censored"):
        lx.fit_distribution("normal", lo, lower=lo, upper=lo)
    with pytest.raises(ValueError, match="Give both `lower` and `upper`"):
        lx.fit_distribution("normal", lower=lo)


def test_fits_say_what_they_are_and_go_to_the_inference_functions():
    """model_info names the distribution (flag "censored" for censored data);
    the result is a FitResult, accepted as it is."""
    x = RNG.gamma(2.0, 1.5, size=200)
    fit = lx.fit_distribution("gamma", x)
    info = fit.model_info
    assert (info.kind, info.family, info.link, info.flags) == (
        "distribution", "gamma", None, ())  # fmt: skip
    w = lx.wald_test(fit, "shape = 2")
    z = (fit.params["shape"] - 2.0) / fit.se["shape"]
    assert w.statistic == pytest.approx(float(z) ** 2, rel=1e-10)
    cens = lx.fit_distribution("exponential", lower=x, upper=np.where(x > 3, np.inf, x))
    assert cens.model_info.flags == ("censored",)
    assert cens.model_info.family == "exponential"


def test_method_of_moments_se_is_the_delta_method_by_hand():
    """Gamma moment estimators shape = m^2/v, rate = m/v: their delta-method
    SEs with the gradient written out and Cov of the raw moments from the
    sample (an independent computation)."""
    x = RNG.gamma(2.0, 1.5, size=500)
    n, r1, r2 = x.size, x.mean(), np.mean(x**2)
    v = r2 - r1**2
    S = np.cov(np.stack([x, x**2]), bias=True) / n
    grads = {  # d/d(r1, r2) of shape and rate, with v = r2 - r1^2
        "shape": np.array([2 * r1 / v + 2 * r1**3 / v**2, -(r1**2) / v**2]),
        "rate": np.array([1 / v + 2 * r1**2 / v**2, -r1 / v**2]),
    }
    mom = lx.method_of_moments("gamma", x)
    for k, g in grads.items():
        assert mom["se"][k] == pytest.approx(math.sqrt(g @ S @ g), rel=1e-10)
