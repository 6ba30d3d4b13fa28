"""The applied-work checklist (lx.checklist) and the information-matrix test (lx.im_test).

Each item reaches its verdicts on constructed cases, and the numbers behind
them are checked against independent computations: numpy eigen-decompositions,
closed forms, scipy fits and optimizers, statsmodels OLS/Poisson/cluster SEs.
"""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import pytest
import scipy.optimize as so
import scipy.special as sp
import scipy.stats as ss
import statsmodels.api as sm

import likelihax as lx
from likelihax.diagnostics import CheckItem, ChecklistReport, IMTest


def normal_loglik(p, d):
    return st.norm.logpdf(d["y"], p["mu"], p["sigma"])


def normal_known(p, d):
    return st.norm.logpdf(d["y"], p["mu"], 1.0)


def linreg(p, d):
    return st.norm.logpdf(d["y"], d["X"] @ p["beta"], p["sigma"])


def poisson_reg(p, d):
    eta = d["X"] @ p["beta"]
    return d["y"] * eta - jnp.exp(eta) - d["lgy"]


def cauchy_loc(p, d):
    return st.cauchy.logpdf(d["y"], p["m"], 0.3)


POS = {"sigma": lx.constraints.positive}


def _normal_fit(y, **kw):
    return lx.fit(normal_loglik, {"mu": 0.0, "sigma": 1.0}, {"y": y},
                  constraints=POS, **kw)  # fmt: skip


# ----- a well-posed fit ---------------------------------------------------------------
def test_well_posed_fit_is_all_ok(make_rng):
    y = make_rng(1).normal(1.0, 2.0, 400)
    rep = lx.checklist(_normal_fit(y), starts=6, family="normal")
    assert isinstance(rep, ChecklistReport)
    assert rep.verdict == "ok"
    assert rep.verdicts == {
        "model assumed": "ok", "convergence": "ok", "information": "ok",
        "boundary": "ok", "starting values": "ok", "method of moments": "ok",
        "misspecification (IM test)": "ok", "separation": "skip",
        "residuals (simulation)": "skip",
    }  # fmt: skip
    # normal: the MoM estimates are the MLE (mean, sd with divisor n)
    mom = rep["method of moments"].values["mom"]
    np.testing.assert_allclose([mom["mu"], mom["sigma"]], [y.mean(), y.std()],
                               rtol=1e-10)  # fmt: skip
    assert rep["starting values"].values["at_best"] == 6
    # text and HTML carry every item and verdict
    text, page = str(rep), rep._repr_html_()
    for it in rep:
        assert it.name in text and f"[{it.verdict.upper():>4}] {it.name}" in text
        assert it.name in page
    assert text.startswith("Applied-work checklist: OK")
    assert "<table>" in page and "SKIP" in page
    assert list(rep.to_frame()["verdict"]) == [it.verdict for it in rep]
    with pytest.raises(KeyError, match="No checklist item 'nope'"):
        rep["nope"]


def test_convergence_scaled_gradient_closed_form_and_verdicts(make_rng):
    y = make_rng(2).normal(0.3, 1.0, 200)
    seen = set()
    for gtol in (1e-1, 1e-3):
        f = lx.fit(normal_loglik, {"mu": 3.0, "sigma": 2.0}, {"y": y},
                   constraints=POS, method="lbfgs", gtol=gtol, warn=False)  # fmt: skip
        it = lx.checklist(f, items=["convergence"])["convergence"]
        # analytic gradient and information of the normal in (mu, log sigma)
        m, s = float(f.params["mu"]), float(f.params["sigma"])
        r = y - m
        g = np.array([r.sum() / s**2, (r**2).sum() / s**2 - y.size])
        H = np.array([[y.size / s**2, 2 * r.sum() / s**2],
                      [2 * r.sum() / s**2, 2 * (r**2).sum() / s**2]])  # fmt: skip
        expect = g @ np.linalg.solve(H, g)
        np.testing.assert_allclose(it.values["scaled_gradient"], expect, rtol=1e-6)
        verdict = "fail" if expect > 1e-2 else "warn" if expect > 1e-6 else "ok"
        assert it.verdict == verdict, (it.values, gtol)
        seen.add(verdict)
    assert seen == {"fail", "warn"}
    f = lx.fit(normal_known, {"mu": 3.0}, {"y": y})
    assert lx.checklist(f, items=["convergence"])["convergence"].verdict == "ok"
    f = lx.fit(normal_known, {"mu": 3.0}, {"y": y}, method="lbfgs", max_steps=1,
               warn=False)  # fmt: skip
    it = lx.checklist(f, items=["convergence"])["convergence"]
    assert it.verdict == "fail" and it.values["status"] == "max_steps"
    assert "max_steps" in it.advice


# ----- information: collinear directions named -------------------------------------------
def _collinear_data(rng, noise):
    n = 200
    x1 = rng.normal(size=n)
    x2 = x1 + noise * rng.normal(size=n)
    x3 = rng.normal(size=n)
    X = np.c_[np.ones(n), x1, x2, x3]
    y = X @ np.array([1.0, 0.5, 0.5, -1.0]) + rng.normal(size=n)
    return X, y


def test_near_collinear_direction_names_the_right_parameters(make_rng):
    X, y = _collinear_data(make_rng(3), 1e-3)
    f = lx.fit(linreg, {"beta": np.zeros(4), "sigma": 1.0}, {"X": X, "y": y},
               constraints=POS)  # fmt: skip
    it = lx.checklist(f, items=["information"])["information"]
    assert it.verdict == "warn"
    weak = it.values["weak"][0]
    assert set(weak["loadings"]) == {"beta[1]", "beta[2]"}
    assert "beta[1], beta[2] are nearly confounded" in it.advice
    # independent: the smallest eigenpair of the scaled X'X (the information of
    # beta is X'X / sigma^2, block-diagonal with log(sigma) at the MLE)
    A = X.T @ X
    s = 1 / np.sqrt(np.diag(A))
    lam, Q = np.linalg.eigh(A * s[:, None] * s[None, :])
    np.testing.assert_allclose(weak["eigenvalue"], lam[0], rtol=1e-5)
    v = Q[:, 0] / Q[np.argmax(np.abs(Q[:, 0])), 0]
    got = np.array([weak["loadings"].get(f"beta[{j}]", 0.0) for j in range(4)])
    np.testing.assert_allclose(got[np.abs(v) >= 0.2], v[np.abs(v) >= 0.2], rtol=1e-4)
    # log(sigma) adds a scaled eigenvalue of exactly 1
    np.testing.assert_allclose(it.values["cond"], max(lam[-1], 1.0) / lam[0], rtol=1e-4)
    # a well-separated design is ok, with the same threshold
    X2, y2 = _collinear_data(make_rng(3), 1.0)
    f2 = lx.fit(linreg, {"beta": np.zeros(4), "sigma": 1.0}, {"X": X2, "y": y2},
                constraints=POS)  # fmt: skip
    assert lx.checklist(f2, items=["information"])["information"].verdict == "ok"


def test_exactly_collinear_information_fails(make_rng):
    X, y = _collinear_data(make_rng(4), 0.0)
    with pytest.warns(lx.InformationWarning):
        f = lx.fit(linreg, {"beta": np.zeros(4), "sigma": 1.0}, {"X": X, "y": y},
                   constraints=POS)  # fmt: skip
    rep = lx.checklist(f, starts=None)
    it = rep["information"]
    assert it.verdict == "fail" and rep.verdict == "fail"
    assert set(it.values["weak"][0]["loadings"]) == {"beta[1]", "beta[2]"}
    assert "not identified" in it.advice


# ----- boundary -------------------------------------------------------------------------
def test_boundary_at_near_and_away(make_rng):
    rng = make_rng(5)
    pos = {"mu": lx.constraints.positive}
    # sample mean below 0: the MLE of a positive mean is the bound itself
    y = rng.normal(-0.5, 1.0, 100)
    f = lx.fit(normal_known, {"mu": 1.0}, {"y": y}, constraints=pos, warn=False)
    it = lx.checklist(f, items=["boundary"])["boundary"]
    assert it.verdict == "fail" and "mu" in it.evidence and "profile" in it.advice
    # 1.2 SE above the bound: near (SE = 1/sqrt(n) in closed form)
    y = rng.normal(0.0, 1.0, 100)
    y = y - y.mean() + 0.12
    f = lx.fit(normal_known, {"mu": 1.0}, {"y": y}, constraints=pos)
    it = lx.checklist(f, items=["boundary"])["boundary"]
    assert it.verdict == "warn"
    np.testing.assert_allclose(it.values["mu"]["distance_se"], 0.12 * 10, rtol=1e-6)
    f = lx.fit(normal_known, {"mu": 1.0}, {"y": y + 1.0}, constraints=pos)
    assert lx.checklist(f, items=["boundary"])["boundary"].verdict == "ok"
    # unconstrained models have nothing to check
    f = lx.fit(normal_known, {"mu": 1.0}, {"y": y})
    assert lx.checklist(f, items=["boundary"])["boundary"].verdict == "skip"


# ----- starting values: a bimodal likelihood ----------------------------------------------
def test_bimodal_likelihood_flags_start_sensitivity(make_rng):
    rng = make_rng(6)
    y = np.r_[rng.normal(-4, 0.2, 10), rng.normal(4, 0.2, 14)]
    # independent: the global maximum by a grid and a bounded 1-d optimizer (scipy)
    grid = np.linspace(-8, 8, 4001)
    ll = ss.cauchy.logpdf(y[None, :], grid[:, None], 0.3).sum(axis=1)
    g0 = grid[np.argmax(ll)]
    res = so.minimize_scalar(lambda m: -ss.cauchy.logpdf(y, m, 0.3).sum(),
                             bounds=(g0 - 0.01, g0 + 0.01), method="bounded",
                             options={"xatol": 1e-10})  # fmt: skip
    local = lx.fit(cauchy_loc, {"m": -4.0}, {"y": y})  # the lower mode
    it = lx.checklist(local, starts=20, start_scale=6.0, items=["starting values"])[
        "starting values"
    ]
    assert it.verdict == "fail" and "local, not the global" in it.evidence
    np.testing.assert_allclose(it.values["best_loglik"], -res.fun, rtol=1e-9)
    assert 0 < it.values["share_at_best"] < 1
    best = lx.fit(cauchy_loc, {"m": 4.0}, {"y": y})
    it = lx.checklist(best, starts=20, start_scale=6.0, items=["starting values"])[
        "starting values"
    ]
    assert it.verdict == "warn" and len(it.values["optima"]) >= 2
    np.testing.assert_allclose(float(best.params["m"]), res.x, atol=1e-6)
    # a fit made with starts= is judged on its own starts
    multi = lx.fit(cauchy_loc, {"m": -4.0}, {"y": y}, starts=10, start_scale=6.0)
    it = lx.checklist(multi, items=["starting values"])["starting values"]
    assert it.values["starts"] == 10 and "own multi-start" in it.evidence


# ----- method of moments -----------------------------------------------------------------
def test_mom_agrees_for_the_right_family_and_not_for_a_wrong_one(make_rng):
    rng = make_rng(7)
    x = rng.gamma(3.0, 2.0, 400)
    it = lx.checklist(lx.fit_distribution("gamma", x), items=["method of moments"])[
        "method of moments"
    ]
    assert it.verdict == "ok"
    np.testing.assert_allclose(it.values["mom"]["shape"], x.mean() ** 2 / x.var(),
                               rtol=1e-10)  # fmt: skip
    x = rng.lognormal(0.0, 1.0, 400)  # gamma is the wrong family
    f = lx.fit_distribution("gamma", x)
    a, _, _ = ss.gamma.fit(x, floc=0)  # independent MLE of the shape
    np.testing.assert_allclose(float(f.params["shape"]), a, rtol=1e-4)
    it = lx.checklist(f, items=["method of moments"])["method of moments"]
    assert it.verdict == "warn" and it.values["pvalue"] < 1e-3
    assert "does not describe the data" in it.advice
    # not a distribution fit: skipped with the reason
    f = lx.fit(normal_known, {"mu": 0.0}, {"y": x})
    it = lx.checklist(f, items=["method of moments"])["method of moments"]
    assert it.verdict == "skip"


# ----- separation -------------------------------------------------------------------------
def test_separation_flagged_in_a_binomial_glm():
    x = np.linspace(-2, 2, 40)
    X = np.c_[np.ones(40), x]
    with pytest.warns(lx.SeparationWarning):
        g = lx.glm((x > 0).astype(float), X, family="binomial", columns=["const", "x"])
    rep = lx.checklist(g, starts=None)
    it = rep["separation"]
    assert it.verdict == "fail" and rep.verdict == "fail"
    assert "separating direction involves x" in it.evidence
    assert "Firth" in it.advice
    assert rep["misspecification (IM test)"].verdict == "skip"  # all scores vanish
    y = (x + np.random.default_rng(0).normal(0, 1.5, 40) > 0).astype(float)
    g = lx.glm(y, X, family="binomial", columns=["const", "x"])
    assert lx.checklist(g, items=["separation"])["separation"].verdict == "ok"


# ----- independence: clusters --------------------------------------------------------------
def test_clustered_rows_flagged_against_statsmodels(make_rng):
    rng = make_rng(8)
    G, m = 30, 10
    g = np.repeat(np.arange(G), m)
    y = 1.0 + rng.normal(0, 1.0, G)[g] + rng.normal(0, 0.5, G * m)
    f = _normal_fit(y)
    it = lx.checklist(f, groups=g, items=["model assumed"])["model assumed"]
    assert it.verdict == "warn" and "lx.mixed" in it.advice
    # statsmodels: cluster-robust over HC0 SE of the mean; its small-sample
    # factor counts k = 1 parameter, ours k = 2 (mu and sigma): (n-1)/(n-k)
    ols = sm.OLS(y, np.ones_like(y))
    n = y.size
    ratio = (ols.fit(cov_type="cluster", cov_kwds={"groups": g}).bse[0]
             / ols.fit(cov_type="HC0").bse[0]) * np.sqrt((n - 1) / (n - 2))  # fmt: skip
    np.testing.assert_allclose(it.values["cluster_ratio"]["mu"], ratio, rtol=1e-6)
    # independent rows: ok
    f = _normal_fit(rng.normal(0, 1.0, G * m))
    it = lx.checklist(f, groups=g, items=["model assumed"])["model assumed"]
    assert it.verdict == "ok"


# ----- information-matrix test --------------------------------------------------------------
def _poisson_data(rng, n, beta, nb_size=None):
    X = np.c_[np.ones(n), rng.normal(size=n)][:, : len(beta)]
    mu = np.exp(X @ np.asarray(beta))
    y = (
        rng.poisson(mu)
        if nb_size is None
        else rng.negative_binomial(nb_size, nb_size / (nb_size + mu))
    )
    y = y.astype(float)
    return {"X": X, "y": y, "lgy": sp.gammaln(y + 1)}


def test_im_statistic_matches_an_independent_opg_regression(make_rng):
    d = _poisson_data(make_rng(9), 300, [0.5, 0.3], nb_size=2.0)
    f = lx.fit(poisson_reg, {"beta": np.zeros(2)}, d)
    t = lx.im_test(f)
    assert isinstance(t, IMTest)
    # independent: Poisson regression by statsmodels, analytic scores and
    # Hessians s_i = (y - mu) x_i, H_i = -mu x_i x_i', then OLS of 1 on [s, vech d]
    X, y = d["X"], d["y"]
    pr = sm.Poisson(y, X).fit(disp=0, tol=1e-12, maxiter=100)
    mu = np.exp(X @ pr.params)
    S = (y - mu)[:, None] * X
    Hd = (
        -mu[:, None, None] * X[:, :, None] * X[:, None, :]
        + S[:, :, None] * S[:, None, :]
    )
    iu = np.triu_indices(2)
    Z = np.c_[S, Hd[:, iu[0], iu[1]]]
    ols = sm.OLS(np.ones(len(y)), Z).fit()  # no constant: uncentered R^2
    np.testing.assert_allclose(t.statistic, len(y) * ols.rsquared, rtol=1e-6)
    assert t.df == np.linalg.matrix_rank(Z) - 2 == 3
    np.testing.assert_allclose(t.pvalue, ss.chi2.sf(len(y) * ols.rsquared, 3),
                               rtol=1e-5)  # fmt: skip
    assert t.pvalue < 1e-3  # overdispersed counts: rejected
    np.testing.assert_allclose(t.se_oim, pr.bse, rtol=1e-5)
    hc0 = sm.Poisson(y, X).fit(disp=0, tol=1e-12, cov_type="HC0").bse
    np.testing.assert_allclose(t.se_sandwich, hc0, rtol=1e-5)
    assert np.all(t.se_ratio > 1.2)
    assert "n R^2" in str(t) and "<table>" in t._repr_html_()


def test_im_statistic_does_not_depend_on_the_parametrization(make_rng):
    y = make_rng(10).standard_t(4, 300)
    a = lx.im_test(_normal_fit(y))

    def log_sigma(p, d):
        return st.norm.logpdf(d["y"], p["mu"], jnp.exp(p["ls"]))

    b = lx.im_test(lx.fit(log_sigma, {"mu": 0.0, "ls": 0.0}, {"y": y}))
    np.testing.assert_allclose(a.statistic, b.statistic, rtol=1e-6)
    assert a.df == b.df == 2  # skewness and kurtosis (Hall, 1987)


def test_im_frequency_weights_equal_duplicated_rows(make_rng):
    rng = make_rng(11)
    y = rng.normal(0, 1, 50)
    w = rng.integers(1, 4, 50)
    a = lx.im_test(_normal_fit(y, weights=w))
    b = lx.im_test(_normal_fit(np.repeat(y, w)))
    np.testing.assert_allclose(a.statistic, b.statistic, rtol=1e-8)
    assert a.df == b.df and a.nobs == b.nobs == w.sum()


def test_im_pvalues_roughly_uniform_under_a_correct_model(make_rng):
    # Poisson rate, n = 300, 200 replicates. The OPG form over-rejects in models
    # with more parameters and small n (Orme 1990); for this one it is close to
    # its nominal size. Tolerance: rejection rate at 5% within [1%, 10%] (about
    # 3 binomial SDs) and a Kolmogorov-Smirnov p-value above 0.01.
    rng = make_rng(12)
    R, n = 200, 300
    Y = rng.poisson(np.e, size=(R, n)).astype(float)
    X = np.ones((n, 1))
    data = {"X": np.broadcast_to(X, (R, n, 1)).copy(), "y": Y, "lgy": sp.gammaln(Y + 1)}
    fits = lx.fit_many(poisson_reg, {"beta": np.zeros(1)}, data)
    p = np.array([
        lx.im_test(fits[i], {"X": X, "y": Y[i], "lgy": data["lgy"][i]}).pvalue
        for i in range(R)
    ])  # fmt: skip
    assert 0.01 <= np.mean(p < 0.05) <= 0.10
    assert ss.kstest(p, "uniform").pvalue > 0.01


def test_im_rejects_misspecified_variance_and_checklist_advises(make_rng):
    rng = make_rng(13)
    n = 400
    x = rng.normal(size=n)
    y = 1.0 + x + rng.normal(size=n) * (0.3 + np.abs(x))  # heteroskedastic
    X = np.c_[np.ones(n), x]
    f = lx.fit(linreg, {"beta": np.zeros(2), "sigma": 1.0}, {"X": X, "y": y},
               constraints=POS)  # fmt: skip
    it = lx.checklist(f, items=["misspecification (IM test)"])[
        "misspecification (IM test)"
    ]
    assert it.verdict == "warn" and it.values["pvalue"] < 1e-3
    assert "sandwich" in it.advice
    # the ratio table: statsmodels OLS HC0 over the ML (divisor n) OLS SEs
    o = sm.OLS(y, X).fit()
    se_ml = np.sqrt(np.diag(o.normalized_cov_params) * o.ssr / n)
    np.testing.assert_allclose(
        [it.values["se_ratio"]["beta[0]"], it.values["se_ratio"]["beta[1]"]],
        sm.OLS(y, X).fit(cov_type="HC0").bse / se_ml,
        rtol=1e-5,
    )


def test_im_rejection_with_sandwich_close_to_observed_is_ok(make_rng):
    # normal fit to t(30) data, n = 20000: the kurtosis (6/26) is detected, but
    # the SE of sigma changes by sqrt((kurtosis - 1) / 2) - 1, about 5%
    y = make_rng(18).standard_t(30, 20000)
    it = lx.checklist(_normal_fit(y), items=["misspecification (IM test)"])[
        "misspecification (IM test)"
    ]
    assert it.values["pvalue"] < 0.05 and it.verdict == "ok"
    assert "the test rejects" in it.evidence
    k = ss.kurtosis(y, fisher=False)
    np.testing.assert_allclose(
        it.values["se_ratio"]["sigma"], np.sqrt((k - 1) / 2), rtol=1e-6
    )


def test_poisson_glm_overdispersion_advice_then_nb2(make_rng):
    d = _poisson_data(make_rng(14), 400, [0.8, 0.4], nb_size=1.5)
    df = {"y": d["y"], "x": d["X"][:, 1]}
    im = ["misspecification (IM test)"]
    rep = lx.checklist(lx.glm("y ~ x", df, family="poisson"), items=im)
    assert rep["misspecification (IM test)"].verdict == "warn"
    assert "NB2" in rep["misspecification (IM test)"].advice
    rep2 = lx.checklist(lx.glm("y ~ x", df, family="negative_binomial"), items=im)
    assert rep2["misspecification (IM test)"].verdict == "ok"


# ----- what a fit cannot support, and bad input ---------------------------------------------
def test_scalar_loglik_items_skip_with_the_reason(make_rng):
    y = make_rng(15).normal(size=50)
    f = lx.fit(lambda p, d: jnp.sum(normal_known(p, d)), {"mu": 0.0}, {"y": y})
    rep = lx.checklist(f, starts=None)
    assert rep["model assumed"].verdict == "skip"
    assert rep["misspecification (IM test)"].verdict == "skip"
    assert "scalar total" in rep["misspecification (IM test)"].evidence
    assert rep["convergence"].verdict == "ok"
    assert rep["starting values"].verdict == "skip"  # starts=None
    with pytest.raises(ValueError, match="scalar total"):
        lx.im_test(f)


def test_m_estimation_has_no_im_test(make_rng):
    y = make_rng(16).normal(size=50)
    f = lx.fit(normal_known, {"mu": 0.0}, {"y": y}, likelihood=False)
    with pytest.raises(ValueError, match="needs a likelihood"):
        lx.im_test(f)
    assert lx.checklist(f, starts=None)["misspecification (IM test)"].verdict == "skip"


def test_bad_input_errors(make_rng):
    f = lx.fit(normal_known, {"mu": 0.0}, {"y": make_rng(17).normal(size=20)})
    with pytest.raises(TypeError, match="Expected a likelihax FitResult"):
        lx.checklist(42)
    with pytest.raises(ValueError, match="alpha must be in"):
        lx.checklist(f, alpha=2.0)
    with pytest.raises(ValueError, match="starts must be at least 2"):
        lx.checklist(f, starts=1)
    with pytest.raises(ValueError, match="items must be a list of item names"):
        lx.checklist(f, items=["convergence", "vibes"])
    with pytest.raises(ValueError, match="verdict must be one of"):
        CheckItem("x", "maybe", "")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep = lx.checklist(f, starts=None)
    assert rep.verdict in ("ok", "warn")


# ----- the checklist on the regression models' results -----------------------------------
def _regression_results():
    import pandas as pd

    from pathlib import Path

    d = pd.read_csv(Path(__file__).resolve().parents[1] / "reference" / "dispformula_data.csv")
    e = d.assign(e=(d.z > -0.5).astype(int), b=(d.y1 > 1).astype(int))
    return {
        "dispersion": lambda: lx.glm("y2 ~ x", d, family="gamma", link="log",
                                     dispformula="~ z + f"),  # fmt: skip
        "zeroinfl": lambda: lx.zeroinfl("y3 ~ x | z", d, dist="negbin"),
        "betareg": lambda: lx.betareg("yb ~ x", d.assign(yb=1 / (1 + np.exp(-d.y1)))),
        "survreg": lambda: lx.survreg("Surv(y2, e) ~ x", e, dist="weibull"),
        "coxph": lambda: lx.coxph("Surv(y2, e) ~ x", e),
        "firth": lambda: lx.firth("b ~ x", e),
    }


@pytest.mark.parametrize("kind", list(_regression_results()))
def test_checklist_runs_on_every_regression_model(kind):
    rep = lx.checklist(_regression_results()[kind](), starts=4)
    for item in ("convergence", "information", "starting values"):
        assert rep[item].verdict == "ok", (kind, item, rep[item])
    # y2 is gamma with a dispersion depending on z and f: the dispersion model
    # is the true one, a Weibull AFT of the same times is not.
    if kind == "dispersion":
        assert rep["misspecification (IM test)"].verdict == "ok"
    if kind == "survreg":
        assert rep["misspecification (IM test)"].verdict == "warn"


def test_censored_survival_fit_gets_no_dispersion_test():
    """A correctly specified Weibull AFT fit to right-censored times (drawn
    here from that model): its residual item uses the quantile residuals'
    uniformity only, since the spread of censored times says nothing about the
    model's, and passes."""
    import pandas as pd

    rng = np.random.default_rng(8)
    n = 400
    x = rng.normal(size=n)
    t = np.exp(1.0 + 0.5 * x + 0.7 * np.log(rng.exponential(size=n)))  # Weibull AFT
    c = rng.exponential(8.0, size=n)
    df = pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(float), "x": x})
    res = lx.survreg("Surv(time, event) ~ x", df, dist="weibull")
    from likelihax.diagnostics._checks_residuals import check_residuals

    item = check_residuals(res, n_sims=100)
    assert "dispersion" not in item.evidence
    assert "uniformity" in item.evidence
    assert item.verdict == "ok", item.evidence
