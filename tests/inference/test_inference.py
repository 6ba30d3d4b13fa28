"""Inference functions against statsmodels and closed forms.

hc1 and cluster covariances, Wald / LR / score tests, the delta method and the
information-criteria table. Every expected value is computed by statsmodels
(its own score, Hessian and covariance code) or by a textbook formula in NumPy
from statsmodels' numbers; nothing is a stored output of likelihax.
Tolerance: rtol 1e-6.
"""

from __future__ import annotations

import jax.numpy as jnp
import jax.scipy.stats as jst
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.tools import eval_measures

import likelihax as lx
from likelihax.inference import (
    delta_method,
    ic_table,
    lr_test,
    score_test,
    vcov,
    wald_test,
)
from likelihax.inference._hypothesis import parse_hypothesis

RTOL = 1e-6


def _close(actual, expected, rtol=RTOL, atol=0.0):
    np.testing.assert_allclose(
        np.asarray(actual, float), np.asarray(expected, float), rtol=rtol, atol=atol
    )


def logistic(params, data):
    eta = data["X"] @ params["beta"]
    return data["y"] * eta - jnp.logaddexp(0.0, eta)


def normal_regression(params, data):
    return jst.norm.logpdf(data["y"], data["X"] @ params["beta"], params["sigma"])


# --------------------------------------------------------------------------------------
# data and fits (module-scoped: each compiled program is built once)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def logit(make_rng):
    rng = make_rng(41)
    n = 400
    X = np.column_stack(
        [np.ones(n), rng.normal(size=n), rng.normal(size=n), rng.binomial(1, 0.4, n)]
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ [-0.3, 0.7, 0.5, -0.4]))).astype(float)
    g1 = rng.integers(0, 15, n)
    g2 = np.array(list("abcdefghij"))[rng.integers(0, 10, n)]
    Xdf = pd.DataFrame(X, columns=["const", "x1", "x2", "x3"])
    data = {"X": X, "y": y}
    fit = lx.fit(logistic, {"beta": np.zeros(4)}, data)
    model = sm.Logit(y, Xdf)
    res = model.fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    return {"X": X, "y": y, "g1": g1, "g2": g2, "data": data, "fit": fit,
            "model": model, "res": res}  # fmt: skip


@pytest.fixture(scope="module")
def nested(logit):
    """Logit fits on the first 2, 3 and 4 columns, and on 2 columns of fewer rows."""
    X, y = logit["X"], logit["y"]
    fits = [
        lx.fit(logistic, {"beta": np.zeros(k)}, {"X": X[:, :k], "y": y}) for k in (2, 3)
    ]
    short = lx.fit(logistic, {"beta": np.zeros(2)}, {"X": X[:-5, :2], "y": y[:-5]})
    return fits + [logit["fit"]], short


def _sm_fit(model, **kw):
    return model.fit(disp=0, method="newton", tol=1e-12, maxiter=100, **kw)


# --------------------------------------------------------------------------------------
# hc1 and cluster-robust covariances
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("two_way", [False, True])
@pytest.mark.parametrize("correction", [True, False])
def test_cluster_matches_statsmodels_logit(logit, two_way, correction):
    if two_way:
        codes2 = np.unique(logit["g2"], return_inverse=True)[1]
        sm_groups = np.column_stack([logit["g1"], codes2])
        groups = (logit["g1"], logit["g2"])  # strings work as labels
    else:
        sm_groups = groups = logit["g1"]
    ref = _sm_fit(
        logit["model"],
        cov_type="cluster",
        cov_kwds={"groups": sm_groups, "use_correction": correction},
    )
    cov = vcov(logit["fit"], "cluster", groups=groups, correction=correction)
    _close(cov.matrix, ref.cov_params())
    assert cov.kind == "cluster"
    assert ("two-way" if two_way else "one-way") in cov.description
    assert ("small-sample" in cov.description) == correction


def test_cluster_two_way_as_n_by_2_array(logit):
    codes2 = np.unique(logit["g2"], return_inverse=True)[1]
    g = np.column_stack([logit["g1"], codes2])
    ref = _sm_fit(logit["model"], cov_type="cluster", cov_kwds={"groups": g})
    _close(vcov(logit["fit"], "cluster", groups=g).matrix, ref.cov_params())


def test_cluster_frequency_weights_match_duplicated_rows(logit):
    # A row with frequency weight w stands for w copies in its own cluster:
    # statsmodels on the duplicated data is the reference.
    rng = np.random.default_rng(3)
    w = rng.integers(1, 4, logit["y"].size)
    rep = np.repeat(np.arange(w.size), w)
    fit = lx.fit(
        logistic, {"beta": np.zeros(4)}, logit["data"], weights=w.astype(float)
    )
    ref = _sm_fit(
        sm.Logit(logit["y"][rep], logit["X"][rep]),
        cov_type="cluster",
        cov_kwds={"groups": logit["g1"][rep]},
    )
    _close(vcov(fit, "cluster", groups=logit["g1"]).matrix, ref.cov_params())


def test_hc1_matches_ols_hc1(make_rng):
    # Normal regression with known scale: the scores are x_i e_i and the
    # information X'X, so HC0/HC1 are exactly OLS's (k = number of coefficients).
    rng = make_rng(42)
    n = 120
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    y = X @ [1.0, 2.0, -1.0] + rng.standard_t(4, n) * (1 + np.abs(X[:, 1]))
    fit = lx.fit(
        lambda p, d: -0.5 * (d["y"] - d["X"] @ p["b"]) ** 2,
        {"b": np.zeros(3)},
        {"X": X, "y": y},
        cov="hc1",
    )
    ref = sm.OLS(y, X).fit(cov_type="HC1")
    _close(fit.cov.matrix, ref.cov_params())
    assert "HC1" in fit.cov_description
    assert "HC1" in fit.summary().to_text()


def test_hc1_is_hc0_times_n_over_n_minus_k(logit):
    # statsmodels' Logit returns HC0 for cov_type="HC1" (no factor); the HC1
    # definition n/(n-k) * HC0 is applied to its HC0 here.
    ref = _sm_fit(logit["model"], cov_type="HC0").cov_params()
    n, k = logit["y"].size, 4
    _close(vcov(logit["fit"], "hc1").matrix, ref * n / (n - k))


def test_cluster_and_hc1_errors(logit):
    fit = logit["fit"]
    with pytest.raises(ValueError, match="needs groups="):
        vcov(fit, "cluster")
    with pytest.raises(ValueError, match="for kind='cluster' only"):
        vcov(fit, "sandwich", groups=logit["g1"])
    with pytest.raises(ValueError, match="one cluster label per observation"):
        vcov(fit, "cluster", groups=logit["g1"][:-1])
    with pytest.raises(ValueError, match="at least 2 clusters"):
        vcov(fit, "cluster", groups=np.zeros(logit["y"].size))
    with pytest.raises(ValueError, match="NaN or inf labels"):
        vcov(fit, "cluster", groups=np.r_[np.nan, np.ones(logit["y"].size - 1)])
    with pytest.raises(ValueError, match="cov must be one of"):
        lx.fit(logistic, {"beta": np.zeros(4)}, logit["data"], cov="cluster")
    with pytest.raises(ValueError, match="needs one log-likelihood value per obs"):
        lx.fit(
            lambda p, d: jnp.sum(logistic(p, d)),
            {"beta": np.zeros(4)},
            logit["data"],
            cov="hc1",
        )


# --------------------------------------------------------------------------------------
# Wald tests
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ours, theirs, m",
    [
        ("beta[1] = beta[2]", "x1 = x2", 1),
        ("beta[0] = 0, beta[3] = 0", "const = 0, x3 = 0", 2),
        ("2*beta[1] - beta[2] = 1", "2*x1 - x2 = 1", 1),
        (
            "(beta[1] + beta[2]) / 2 = -beta[3]; beta[0] = 0.1",
            "0.5*x1 + 0.5*x2 + x3 = 0, const = 0.1",
            2,
        ),
    ],
)
def test_wald_test_text_matches_statsmodels(logit, ours, theirs, m):
    ref = logit["res"].wald_test(theirs, use_f=False, scalar=True)
    t = wald_test(logit["fit"], ours)
    _close(t.statistic, ref.statistic)
    _close(t.pvalue, ref.pvalue)
    assert t.df == m
    assert t.distribution == "chi2" and "chi2(" in repr(t)
    f = wald_test(logit["fit"], ours, use_f=True)
    ref_f = logit["res"].f_test(theirs)
    _close(f.statistic, np.squeeze(ref_f.fvalue))
    _close(f.pvalue, ref_f.pvalue)
    assert f.df_denom == ref_f.df_denom and "F(" in repr(f)


def test_wald_single_restriction_is_t_test_squared(logit):
    ref = logit["res"].t_test("x1 - x2 = 0.2")
    t = wald_test(logit["fit"], "beta[1] - beta[2] = 0.2")
    _close(t.statistic, np.squeeze(ref.tvalue) ** 2)
    _close(t.pvalue, ref.pvalue)  # Logit's t_test uses the normal distribution


def test_wald_matrix_form_and_robust_covariances(logit):
    R = np.array([[0, 1, -1, 0], [0, 0, 0, 1.0]])
    q = np.array([0.1, 0.0])
    ref = logit["res"].wald_test((R, q), use_f=False, scalar=True)
    t = wald_test(logit["fit"], R, q)
    _close(t.statistic, ref.statistic)
    assert t.hypothesis == "beta[1] - beta[2] = 0.1, beta[3] = 0"
    hc0 = _sm_fit(logit["model"], cov_type="HC0")
    _close(
        wald_test(logit["fit"], R, q, cov="sandwich").statistic,
        hc0.wald_test((R, q), use_f=False, scalar=True).statistic,
    )
    clu = _sm_fit(logit["model"], cov_type="cluster", cov_kwds={"groups": logit["g1"]})
    c = vcov(logit["fit"], "cluster", groups=logit["g1"])
    _close(
        wald_test(logit["fit"], R, q, cov=c).statistic,
        clu.wald_test((R, q), use_f=False, scalar=True).statistic,
    )


def test_wald_nonlinear_by_delta_method(logit):
    # g(beta) = beta1 * beta2 - 0.3 and beta1 / beta2 - 1, by hand with
    # statsmodels' estimates and covariance.
    b, V = logit["res"].params.to_numpy(), logit["res"].cov_params().to_numpy()
    g = np.array([b[1] * b[2] - 0.3, b[1] / b[2] - 1.0])
    G = np.array([[0, b[2], b[1], 0], [0, 1 / b[2], -b[1] / b[2] ** 2, 0]])
    W = g @ np.linalg.solve(G @ V @ G.T, g)
    t = wald_test(
        logit["fit"],
        lambda p: jnp.stack([p["beta"][1] * p["beta"][2], p["beta"][1] / p["beta"][2]]),
        q=[0.3, 1.0],
    )
    _close(t.statistic, W)
    _close(t.pvalue, stats.chi2.sf(W, 2))
    assert t.df == 2


def test_wald_and_lr_accept_glm_results(make_rng):
    rng = make_rng(47)
    n = 200
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    y = rng.poisson(np.exp(X @ [0.5, 0.3, -0.2])).astype(float)
    full, small = lx.glm(y, X, family="poisson"), lx.glm(y, X[:, :2], family="poisson")
    ref = sm.GLM(y, X, family=sm.families.Poisson()).fit(tol=1e-12)
    ref_small = sm.GLM(y, X[:, :2], family=sm.families.Poisson()).fit(tol=1e-12)
    R = np.array([[0.0, 1.0, 1.0]])
    t = wald_test(full, R, [0.1])
    _close(t.statistic, ref.wald_test((R, [0.1]), scalar=True).statistic)
    _close(lr_test(small, full).statistic, 2 * (ref.llf - ref_small.llf))


def test_parse_hypothesis_closed_forms():
    labels = ["a", "b", "S[0,0]", "S[1,0]", "ab"]
    R, q = parse_hypothesis("2*a - b = 1, S[1,0] = S[0,0]/4; ab = a = -b", labels)
    _close(
        R, [[2, -1, 0, 0, 0], [0, 0, -0.25, 1, 0], [-1, 0, 0, 0, 1], [1, 1, 0, 0, 0]]
    )
    _close(q, [1, 0, 0, 0])
    R, q = parse_hypothesis("-(a + 3) * 2 + 1e-1 * b", labels)
    _close(R, [[-2, 0.1, 0, 0, 0]])
    _close(q, [6])


@pytest.mark.parametrize(
    "text, match",
    [
        ("gamma = 0", "'gamma' is not a parameter label"),
        ("a2 = 0", "'a2' is not a parameter label"),
        ("a * b = 0", "not linear"),
        ("a / b = 0", "division only by a non-zero number"),
        ("a / 0 = 1", "division only by a non-zero number"),
        ("a = 0,", "empty restriction"),
        ("1 = 0", "names no parameter"),
        ("a - a = 0", "names no parameter"),
        ("(a = 0", "missing"),
        ("a b = 0", "unexpected"),
    ],
)
def test_parse_hypothesis_errors(text, match):
    with pytest.raises(ValueError, match=match):
        parse_hypothesis(text, ["a", "b"])


def test_wald_errors(logit):
    fit = logit["fit"]
    with pytest.raises(ValueError, match="redundant"):
        wald_test(fit, "beta[1] = 0, 2*beta[1] = 0")
    with pytest.raises(ValueError, match="4 columns"):
        wald_test(fit, np.ones((1, 3)))
    with pytest.raises(ValueError, match="q has 1 values"):
        wald_test(fit, lambda p: p["beta"][:2], q=[0.0])
    with pytest.raises(ValueError, match="write it in the text"):
        wald_test(fit, "beta[1] = 0", q=[1.0])
    with pytest.raises(ValueError, match=r"cov=lx.vcov\(fit, 'cluster', groups=g\)"):
        wald_test(fit, "beta[1] = 0", cov="cluster")


def test_wald_rejects_fixed_parameters(make_rng):
    y = make_rng(43).normal(1.0, 2.0, 50)
    fit = lx.fit(
        lambda p, d: jst.norm.logpdf(d["y"], p["mu"], p["s"]),
        {"mu": 0.0, "s": 2.0},
        {"y": y},
        constraints={"s": lx.constraints.fixed},
    )
    with pytest.raises(ValueError, match=r"fixed parameter\(s\) \['s'\]"):
        wald_test(fit, "s = 1")
    t = wald_test(fit, "mu = 1")  # closed form: n (ybar - 1)^2 / s^2
    _close(t.statistic, y.size * (y.mean() - 1) ** 2 / 4.0)


# --------------------------------------------------------------------------------------
# likelihood-ratio tests
# --------------------------------------------------------------------------------------


def test_lr_test_matches_ols_compare_lr_test(make_rng):
    rng = make_rng(44)
    n = 150
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
    y = X @ [1.0, 0.5, 0.2, 0.0] + rng.normal(size=n)
    c = {"sigma": lx.constraints.positive}
    p0 = {"beta": np.zeros(4), "sigma": 1.0}
    full = lx.fit(normal_regression, p0, {"X": X, "y": y}, constraints=c)
    p0 = {"beta": np.zeros(2), "sigma": 1.0}
    small = lx.fit(normal_regression, p0, {"X": X[:, :2], "y": y}, constraints=c)
    ref = sm.OLS(y, X).fit().compare_lr_test(sm.OLS(y, X[:, :2]).fit())
    stat, p, df = lr_test(small, full)
    _close([stat, p, df], ref)


def test_lr_test_matches_logit_llr(logit):
    null = lx.fit(
        logistic, {"beta": np.zeros(1)}, {"X": logit["X"][:, :1], "y": logit["y"]}
    )
    t = lr_test(null, logit["fit"])
    _close(t.statistic, logit["res"].llr)
    _close(t.pvalue, logit["res"].llr_pvalue)
    assert t.df == logit["res"].df_model == 3 and repr(t).startswith("LR test")


def test_lr_test_errors(logit, nested):
    X, y, full = logit["X"], logit["y"], logit["fit"]
    (small, _, _), short = nested
    with pytest.raises(ValueError, match="Pass the restricted fit first"):
        lr_test(full, small)
    with pytest.raises(ValueError, match="different numbers of observations"):
        lr_test(short, full)
    m_est = lx.fit(logistic, {"beta": np.zeros(2)}, {"X": X[:, :2], "y": y},
                   likelihood=False)  # fmt: skip
    with pytest.raises(ValueError, match="M-estimation objective"):
        lr_test(m_est, full)
    w = np.ones(y.size)
    imp = lx.fit(logistic, {"beta": np.zeros(2)}, {"X": X[:, :2], "y": y},
                 weights=w, weight_type="importance")  # fmt: skip
    with pytest.raises(ValueError, match="importance weights"):
        lr_test(imp, full)
    # A "full" model that fits worse than the restricted one is not nested.
    noise = np.random.default_rng(5).normal(size=(y.size, 3))
    worse = lx.fit(logistic, {"beta": np.zeros(3)}, {"X": noise, "y": y})
    with pytest.raises(ValueError, match="exceeds the full one"):
        lr_test(small, worse)


# --------------------------------------------------------------------------------------
# score tests
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def probit(make_rng):
    rng = make_rng(45)
    n = 300
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    y = (rng.random(n) < stats.norm.cdf(X @ [0.2, 0.6, 0.25])).astype(float)

    def loglik(p, d):
        eta = d["X"] @ p["beta"]
        return d["y"] * jst.norm.logcdf(eta) + (1 - d["y"]) * jst.norm.logcdf(-eta)

    def fisher(p, d):
        eta = d["X"] @ p["beta"]
        mu = jst.norm.cdf(eta)
        return eta, jst.norm.pdf(eta) ** 2 / (mu * (1 - mu))

    restricted = lx.fit(loglik, {"beta": np.zeros(2)}, {"X": X[:, :2], "y": y})
    b = np.r_[np.asarray(restricted.params["beta"]), 0.0]
    glm = sm.GLM(y, X, family=sm.families.Binomial(sm.families.links.Probit()))
    full_model = lx.Model(loglik, {"beta": np.zeros(3)}, fisher=fisher)
    return {"X": X, "y": y, "loglik": loglik, "restricted": restricted, "b": b,
            "glm": glm, "model": full_model}  # fmt: skip


@pytest.mark.parametrize("information", ["oim", "eim"])
def test_score_test_matches_statsmodels_glm(probit, information):
    observed = information == "oim"
    stat, p, k = probit["glm"].score_test(
        probit["b"], k_constraints=1, observed=observed
    )
    t = score_test(
        probit["restricted"], probit["model"], {"beta": probit["b"]},
        {"X": probit["X"], "y": probit["y"]}, information=information,
    )  # fmt: skip
    _close(t.statistic, np.squeeze(stat))
    _close(t.pvalue, np.squeeze(p))
    assert t.df == k == 1


def test_score_test_opg_is_n_r_squared(probit):
    # LM_opg = 1' S (S'S)^-1 S' 1 with S the per-observation scores (statsmodels).
    S = probit["glm"].score_obs(probit["b"])
    one = np.ones(S.shape[0])
    lm = one @ S @ np.linalg.solve(S.T @ S, S.T @ one)
    t = score_test(
        probit["restricted"], probit["loglik"], {"beta": probit["b"]},
        {"X": probit["X"], "y": probit["y"]}, information="opg",
    )  # fmt: skip
    _close(t.statistic, lm)


def test_score_test_poisson_against_glm(make_rng):
    rng = make_rng(46)
    n = 250
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
    y = rng.poisson(np.exp(X @ [0.3, 0.4, 0.0, 0.2])).astype(float)

    def poisson(p, d):
        eta = d["X"][:, :2] @ p["beta"] + d["X"][:, 2:] @ p["gamma"]
        return d["y"] * eta - jnp.exp(eta)

    data = {"X": X, "y": y}
    zero2 = {"gamma": np.zeros(2)}
    restricted = lx.fit(poisson, {"beta": np.zeros(2), **zero2}, data,
                        constraints={"gamma": lx.constraints.fixed})  # fmt: skip
    b = np.r_[np.asarray(restricted.params["beta"]), 0.0, 0.0]
    stat, p, _ = sm.GLM(y, X, family=sm.families.Poisson()).score_test(
        b, k_constraints=2
    )
    full = {"beta": np.asarray(restricted.params["beta"]), **zero2}
    t = score_test(restricted, poisson, full)  # data from the restricted fit
    _close(t.statistic, np.squeeze(stat))
    _close(t.pvalue, np.squeeze(p))
    assert t.df == 2
    with pytest.raises(ValueError, match="df = 0"):
        score_test(restricted, poisson, full, fixed=["gamma"])
    with pytest.raises(ValueError, match="not keys of params"):
        score_test(restricted, poisson, full, fixed=["delta"])
    with pytest.raises(ValueError, match="needs the full model's expected"):
        score_test(restricted, poisson, full, information="eim")


# --------------------------------------------------------------------------------------
# delta method
# --------------------------------------------------------------------------------------


def test_delta_method_closed_forms(logit):
    b = logit["res"].params.to_numpy()
    V = logit["res"].cov_params().to_numpy()
    r = delta_method(
        logit["fit"],
        lambda p: {
            "odds": jnp.exp(p["beta"][1:3]),
            "ratio": p["beta"][1] / p["beta"][2],
        },
    )
    assert r.labels == ["odds[0]", "odds[1]", "ratio"]
    _close(r.estimate["odds"], np.exp(b[1:3]))
    _close(r.se["odds"], np.exp(b[1:3]) * np.sqrt(np.diag(V)[1:3]))
    G = np.array([0, 1 / b[2], -b[1] / b[2] ** 2, 0])
    _close(r.estimate["ratio"], b[1] / b[2])
    _close(r.se["ratio"], np.sqrt(G @ V @ G))
    # covariance between the two odds: exp(b1) exp(b2) V12
    _close(r.cov["odds[0]", "odds[1]"], np.exp(b[1] + b[2]) * V[1, 2])
    lo, hi = r.conf_int(0.1)
    z = stats.norm.ppf(0.95)
    _close(lo["ratio"], b[1] / b[2] - z * np.sqrt(G @ V @ G))
    _close(hi["odds"], np.exp(b[1:3]) + z * r.se["odds"])
    _close(r.pvalues, 2 * stats.norm.sf(np.abs(r.values / r.se_flat)))
    frame = r.to_frame()
    assert list(frame.index) == r.labels and "Delta method" in repr(r)


def test_delta_method_robust_cov_and_names(logit):
    hc0 = _sm_fit(logit["model"], cov_type="HC0")
    b, V = hc0.params.to_numpy(), hc0.cov_params().to_numpy()
    a = np.array([0, 1.0, 2.0, -1.0])
    r = delta_method(logit["fit"], lambda p: p["beta"] @ a, names="contrast",
                     cov="sandwich")  # fmt: skip
    assert r.labels == ["contrast"] and r.cov.kind == "sandwich"
    _close(r.estimate, a @ b)
    _close(r.se, np.sqrt(a @ V @ a))
    c = vcov(logit["fit"], "sandwich")
    _close(delta_method(logit["fit"], lambda p: p["beta"] @ a, cov=c).se, r.se)
    with pytest.raises(ValueError, match="names has 2 entries"):
        delta_method(logit["fit"], lambda p: p["beta"][0], names=["a", "b"])


# --------------------------------------------------------------------------------------
# information-criteria table
# --------------------------------------------------------------------------------------


def test_ic_table_matches_statsmodels(logit, nested):
    X, y = logit["X"], logit["y"]
    fits, short = nested
    refs = [_sm_fit(sm.Logit(y, X[:, :k])) for k in (2, 3, 4)]
    tab = ic_table(*fits, names=["m1", "m2", "m3"])
    aic = np.array([r.aic for r in refs])
    w = np.exp(-(aic - aic.min()) / 2)
    w /= w.sum()
    for name, ref, weight in zip(["m1", "m2", "m3"], refs, w):
        row = tab[name]
        k = ref.df_model + 1
        _close(row.loglik, ref.llf)
        _close(row.aic, ref.aic)
        _close(row.bic, ref.bic)
        _close(row.aicc, eval_measures.aicc(ref.llf, y.size, k))
        _close(row.delta_aic, ref.aic - aic.min(), atol=1e-9)
        _close(row.weight, weight)
        assert row.k == k
    assert tab.names == [["m1", "m2", "m3"][i] for i in np.argsort(aic)]
    assert list(tab.to_frame().columns) == ["loglik", "k", "AIC", "AICc", "BIC",
                                            "dAIC", "weight"]  # fmt: skip
    assert "AICc" in repr(tab) and f"(n = {y.size})" in repr(tab)
    with pytest.raises(ValueError, match="at least two"):
        ic_table(fits[0])
    with pytest.raises(ValueError, match="different numbers of observations"):
        ic_table(fits[0], short)
