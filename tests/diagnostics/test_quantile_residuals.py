"""Randomized quantile residuals and the residual tests (uniformity, dispersion, zeros).

References: Dunn-Smyth residuals recomputed with scipy.stats CDFs and the same
uniforms; DHARMa's scaled residuals and its dispersion and zero-inflation
statistics recomputed with numpy from the same simulations (R's DHARMa is not
packaged here); the KS test against scipy.stats.kstest. Correctly specified
simulated models keep the tests quiet; a Poisson fit to negative binomial data
fails them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats as ss

import likelihax as lx


@pytest.fixture(scope="module")
def nb_data(make_rng):
    rng = make_rng(91)
    n = 400
    x = rng.normal(size=n)
    mu = np.exp(0.5 + 0.5 * x)
    y = rng.negative_binomial(1.2, 1.2 / (1.2 + mu)).astype(float)
    X = np.column_stack([np.ones(n), x])
    return y, X, lx.glm(y, X, family="poisson"), lx.glm(y, X, family="nb2")


def test_dunn_smyth_poisson_and_nb2_match_scipy(nb_data):
    y, X, rp, rn = nb_data
    U = np.random.default_rng(5).random(y.size)
    q = lx.quantile_residuals(rp, uniforms=U)
    mu = rp.fitted
    u = ss.poisson.cdf(y - 1, mu) + U * ss.poisson.pmf(y, mu)
    assert q.method == "exact"
    np.testing.assert_allclose(q.uniform, u, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(q.residuals, ss.norm.ppf(u), rtol=1e-8, atol=1e-10)
    size = 1.0 / rn.alpha
    p = size / (size + rn.fitted)
    u = ss.nbinom.cdf(y - 1, size, p) + U * ss.nbinom.pmf(y, size, p)
    np.testing.assert_allclose(lx.quantile_residuals(rn, uniforms=U).uniform, u,
                               rtol=1e-9, atol=1e-12)  # fmt: skip


def test_dunn_smyth_binomial_with_trials_matches_scipy(make_rng):
    rng = make_rng(92)
    n = 150
    x = rng.normal(size=n)
    m = rng.integers(1, 10, size=n)
    k = rng.binomial(m, 1 / (1 + np.exp(-(0.2 + x))))
    r = lx.glm(k.astype(float), np.column_stack([np.ones(n), x]), family="binomial",
               trials=m.astype(float))  # fmt: skip
    U = np.random.default_rng(1).random(n)
    p = r.fitted
    u = ss.binom.cdf(k - 1, m, p) + U * ss.binom.pmf(k, m, p)
    np.testing.assert_allclose(lx.quantile_residuals(r, uniforms=U).uniform, u,
                               rtol=1e-9, atol=1e-12)  # fmt: skip


def test_continuous_families_match_scipy_cdfs(make_rng):
    rng = make_rng(93)
    n = 120
    x = rng.normal(size=n)
    X = np.column_stack([np.ones(n), x])
    mu = np.exp(0.3 + 0.4 * x)
    rg = lx.glm(rng.gamma(2.0, mu / 2.0), X, family="Gamma", link="log")
    yg = rg._data["y"]
    u = ss.gamma.cdf(yg, 1 / rg.dispersion, scale=rg.fitted * rg.dispersion)
    np.testing.assert_allclose(lx.quantile_residuals(rg).uniform, u, rtol=1e-9)
    ri = lx.glm(rng.wald(mu, 3.0), X, family="inverse.gaussian", link="log")
    lam = 1 / ri.dispersion
    u = ss.invgauss.cdf(ri._data["y"], ri.fitted / lam, scale=lam)
    np.testing.assert_allclose(lx.quantile_residuals(ri).uniform, u, rtol=1e-8)


def test_simulation_residuals_follow_dharma_definition(nb_data):
    y, X, rp, _ = nb_data
    U = np.random.default_rng(2).random(y.size)
    q = lx.quantile_residuals(rp, method="simulation", n_sims=100, seed=7, uniforms=U)
    sims = lx.simulate(rp, 100, seed=7)  # the same draws
    np.testing.assert_array_equal(q.simulated, sims)
    lo = (sims < y).mean(axis=0)
    hi = (sims <= y).mean(axis=0)
    u = np.where(hi > lo, lo + U * (hi - lo), lo)
    np.testing.assert_allclose(q.uniform, u, rtol=0, atol=1e-15)
    np.testing.assert_allclose(q.residuals, ss.norm.ppf(np.clip(u, 0.005, 0.995)))


def test_uniformity_dispersion_and_zeros_reject_poisson_on_nb_data(nb_data):
    y, X, rp, rn = nb_data
    t = lx.uniformity_test(lx.quantile_residuals(rp))
    ref = ss.kstest(lx.quantile_residuals(rp).uniform, "uniform")
    assert t.statistic == pytest.approx(ref.statistic) and t.pvalue == pytest.approx(ref.pvalue)
    assert t.pvalue < 0.01
    d = lx.dispersion_test(rp, n_sims=200, seed=1)
    assert d.statistic > 1.5 and d.pvalue < 0.01
    z = lx.zero_inflation_test(rp, n_sims=200, seed=1)
    assert z.statistic > 1.2 and z.pvalue < 0.01
    # the NB2 fit of the same data: no test rejects
    assert lx.uniformity_test(lx.quantile_residuals(rn)).pvalue > 0.05
    assert lx.dispersion_test(rn, n_sims=200, seed=1).pvalue > 0.05
    assert lx.zero_inflation_test(rn, n_sims=200, seed=1).pvalue > 0.05


def test_dispersion_and_zero_statistics_follow_dharma_definition(nb_data):
    y, X, rp, _ = nb_data
    sims = lx.simulate(rp, 60, seed=3)
    mu = rp.fitted
    obs = np.var(y - mu, ddof=1)
    sim = np.var(sims - mu, axis=1, ddof=1)
    d = lx.dispersion_test(rp, n_sims=60, seed=3, alternative="greater")
    assert d.statistic == pytest.approx(obs / sim.mean(), rel=1e-12)
    assert d.pvalue == pytest.approx(np.mean(sim >= obs))
    np.testing.assert_allclose(d.simulated, sim, rtol=1e-12)
    z0 = (sims == 0).sum(axis=1)
    z = lx.zero_inflation_test(rp, n_sims=60, seed=3)
    o = (y == 0).sum()
    assert z.statistic == pytest.approx(o / z0.mean(), rel=1e-12)
    assert z.pvalue == pytest.approx(min(1, 2 * min(np.mean(z0 >= o), np.mean(z0 <= o))))


def test_zero_inflated_model_fits_zero_inflated_data(make_rng):
    rng = make_rng(94)
    n = 300
    x = rng.normal(size=n)
    y = np.where(rng.random(n) < 0.35, 0, rng.poisson(np.exp(0.7 + 0.4 * x)))
    df = pd.DataFrame({"y": y, "x": x})
    zi = lx.zeroinfl("y ~ x", df)
    assert lx.uniformity_test(lx.quantile_residuals(zi)).pvalue > 0.05
    assert lx.zero_inflation_test(zi, n_sims=200).pvalue > 0.05
    rp = lx.glm("y ~ x", df, family="poisson")
    assert lx.zero_inflation_test(rp, n_sims=200).pvalue < 0.01


def test_mixed_model_simulation_residuals_are_uniform(make_rng):
    rng = make_rng(95)
    g = np.repeat(np.arange(30), 8)
    x = rng.normal(size=240)
    y = rng.poisson(np.exp(0.2 + 0.5 * x + 0.7 * rng.normal(size=30)[g]))
    r = lx.mixed("y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": g}),
                 family="poisson")  # fmt: skip
    q = lx.quantile_residuals(r, n_sims=100)
    assert q.method == "simulation" and q.simulated.shape == (100, 240)
    assert lx.uniformity_test(q).pvalue > 0.05
    with pytest.raises(ValueError, match="closed-form CDF"):
        lx.quantile_residuals(r, method="exact")
    assert lx.quantile_residuals(r, conditional=True).method == "exact"


def test_censored_survival_residuals(make_rng):
    rng = make_rng(96)
    n = 200
    x = rng.normal(size=n)
    t = np.exp(1.0 + 0.5 * x + 0.8 * np.log(rng.exponential(size=n)))
    c = rng.exponential(8.0, size=n)
    time, event = np.minimum(t, c), (t <= c).astype(float)
    r = lx.survreg(lx.Surv(time, event), x[:, None])
    U = np.random.default_rng(0).random(n)
    q = lx.quantile_residuals(r, uniforms=U)
    b = np.array(list(r.coef.values()))
    # Weibull: F(t) = 1 - exp(-exp((log t - eta) / s)); censored: U(F(c), 1)
    F = 1 - np.exp(-np.exp((np.log(time) - b[0] - b[1] * x) / r.scale))
    u = np.where(event == 1, F, F + U * (1 - F))
    np.testing.assert_allclose(q.uniform, u, rtol=1e-8, atol=1e-12)
    assert lx.uniformity_test(q).pvalue > 0.05


def test_errors(nb_data, make_rng):
    y, X, rp, _ = nb_data
    with pytest.raises(ValueError, match="method must be one of"):
        lx.quantile_residuals(rp, method="pit")
    with pytest.raises(ValueError, match="uniforms must be"):
        lx.quantile_residuals(rp, uniforms=np.zeros(3))
    with pytest.raises(ValueError, match="n_sims must be"):
        lx.dispersion_test(rp, n_sims=1)
    with pytest.raises(ValueError, match="alternative must be"):
        lx.zero_inflation_test(rp, alternative="both")
    with pytest.raises(TypeError, match="quantile_residuals"):
        lx.uniformity_test(rp)
    rng = make_rng(97)
    df = pd.DataFrame({"y": rng.choice(["a", "b", "c"], 60), "x": rng.normal(size=60)})
    with pytest.raises(ValueError, match="no quantile residuals"):
        lx.quantile_residuals(lx.mnlogit("y ~ x", df))


# ----- the checklist's residual item: advice that depends on the model ------------------
SIM = "residuals (simulation)"


def test_checklist_points_poisson_to_nb_and_nb_elsewhere(nb_data):
    y, X, rp, rn = nb_data
    item = lx.checklist(rp, starts=None, items=[SIM])[SIM]
    assert item.verdict == "warn"
    assert "overdispersion" in item.values["findings"]
    assert "family='nb2'" in item.advice
    ok = lx.checklist(rn, starts=None, items=[SIM])[SIM]
    assert ok.verdict == "ok" and ok.advice == ""


def test_advice_by_model_kind():
    from likelihax.diagnostics._checks_residuals import model_advice
    from likelihax.results import ModelInfo

    nb = ModelInfo("glm", "negative.binomial", "log")
    assert "dist='negbin'" in model_advice(nb, "excess_zeros")
    assert "zeroinfl" in model_advice(nb, "excess_zeros")
    assert "nb2" not in model_advice(nb, "overdispersion")
    zi = ModelInfo("zeroinfl", "poisson", "log")
    assert "zero part" in model_advice(zi, "excess_zeros")
    assert "zeroinfl" not in model_advice(zi, "excess_zeros")
    zinb = ModelInfo("zeroinfl", "negbin", "log")
    assert "negbin" not in model_advice(zinb, "overdispersion")
    mixed = ModelInfo("mixed", "poisson", "log")
    assert "negative_binomial" in model_advice(mixed, "overdispersion")


def test_checklist_zero_inflated_fit_gets_no_zero_inflation_advice(make_rng):
    rng = make_rng(98)
    n = 300
    x = rng.normal(size=n)
    mu = np.exp(0.8 + 0.4 * x)
    # zero-inflated NB data: a zero-inflated Poisson fit is overdispersed
    y = np.where(rng.random(n) < 0.3, 0, rng.negative_binomial(1.0, 1 / (1 + mu)))
    zi = lx.zeroinfl("y ~ x", pd.DataFrame({"y": y, "x": x}))
    item = lx.checklist(zi, starts=None, items=[SIM])[SIM]
    assert item.verdict == "warn" and "overdispersion" in item.values["findings"]
    assert "dist='negbin'" in item.advice and "lx.zeroinfl" not in item.advice


@pytest.mark.parametrize("family", ["gamma", "weibull", "student_t", "negbin", "geometric"])
def test_distribution_fits_cdf_matches_scipy(family, make_rng):
    rng = make_rng(99)
    x = {"gamma": lambda: rng.gamma(3.0, 2.0, 200),
         "weibull": lambda: 2.0 * rng.weibull(1.5, 200),
         "student_t": lambda: 1.0 + 2.0 * rng.standard_t(4.0, 200),
         "negbin": lambda: rng.negative_binomial(2.0, 0.4, 200),
         "geometric": lambda: rng.geometric(0.3, 200) - 1}[family]()  # fmt: skip
    f = lx.fit_distribution(family, x)
    p = {k: float(v) for k, v in f.params.items()}
    F = {"gamma": lambda y: ss.gamma.cdf(y, p["shape"], scale=1 / p["rate"]),
         "weibull": lambda y: ss.weibull_min.cdf(y, p["shape"], scale=p["scale"]),
         "student_t": lambda y: ss.t.cdf(y, p["df"], p["loc"], p["scale"]),
         "negbin": lambda y: ss.nbinom.cdf(y, p["size"], p["size"] / (p["size"] + p["mu"])),
         "geometric": lambda y: ss.geom.cdf(y + 1, p["prob"])}[family]  # fmt: skip
    U = np.random.default_rng(3).random(200)
    lo = F(x - 1) if family in ("negbin", "geometric") else F(x)
    u = lo + U * (F(x) - lo)
    np.testing.assert_allclose(lx.quantile_residuals(f, uniforms=U).uniform, u,
                               rtol=1e-9, atol=1e-12)  # fmt: skip
