"""lx.slopes and lx.comparisons: marginal effects and contrasts.

References: statsmodels ``get_margeff`` (Logit, Probit, Poisson, MNLogit;
``at="overall"/"mean"/"all"``, ``method="dydx"/"eyex"/"dyex"/"eydx"``,
``dummy=True``, ``count=True``) on statsmodels' public data sets (spector,
randhie, anes96); closed forms for interactions, factor contrasts, ratios and
linear mixed models. R's ``marginaleffects`` is the reference in
tests/inference/test_margins_r.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import likelihax as lx

sm = pytest.importorskip("statsmodels.api")


@pytest.fixture(scope="module")
def spector():
    d = sm.datasets.spector.load_pandas().data
    X = sm.add_constant(d[["GPA", "TUCE", "PSI"]])
    return d, X


@pytest.fixture(scope="module")
def logit(spector):
    d, X = spector
    ref = sm.Logit(d["GRADE"], X).fit(disp=0)
    r = lx.glm(d["GRADE"].to_numpy(), X.to_numpy(), family="binomial",
               columns=list(X.columns))  # fmt: skip
    return ref, r


def _check(t, me, rtol=1e-6):
    np.testing.assert_allclose(t.estimate, np.ravel(me.margeff), rtol=rtol)
    np.testing.assert_allclose(t.std_error, np.ravel(me.margeff_se), rtol=rtol)


@pytest.mark.parametrize("at", ["overall", "mean"])
@pytest.mark.parametrize("dummy,count", [(False, False), (True, False), (True, True)])
def test_logit_matches_get_margeff(logit, at, dummy, count):
    ref, r = logit
    t = lx.slopes(r, at=at, dummy=dummy, count=count)
    assert t.term.tolist() == ["GPA", "TUCE", "PSI"]
    _check(t, ref.get_margeff(at=at, dummy=dummy, count=count))
    if dummy:
        assert t.contrast[2] == "1 - 0"
    if count:  # TUCE takes integer values: a centred discrete change
        assert t.contrast[1] == "(+1) - (-1), halved"


@pytest.mark.parametrize("method", ["eyex", "dyex", "eydx"])
def test_logit_elasticities_match_get_margeff(logit, method):
    ref, r = logit
    _check(lx.slopes(r, slope=method), ref.get_margeff(method=method))


def test_logit_effects_per_row_match_get_margeff(logit):
    ref, r = logit
    t = lx.slopes(r, at="all")
    me = ref.get_margeff(at="all").margeff  # (n, 3)
    np.testing.assert_allclose(t.estimate.to_numpy().reshape(3, -1).T, me, rtol=1e-6)
    assert t.rowid.tolist()[:2] == [0, 1]


@pytest.mark.parametrize("at", ["overall", "mean"])
def test_probit_matches_get_margeff(spector, at):
    d, X = spector
    ref = sm.Probit(d["GRADE"], X).fit(disp=0, tol=1e-12)
    r = lx.glm(d["GRADE"].to_numpy(), X.to_numpy(), family="binomial", link="probit",
               columns=list(X.columns))  # fmt: skip
    # statsmodels' Probit covariance is the inverse observed information
    _check(lx.slopes(r, at=at, dummy=True, cov="oim"), ref.get_margeff(at=at, dummy=True),
           rtol=1e-6)  # fmt: skip


@pytest.mark.parametrize("at", ["overall", "mean"])
def test_poisson_matches_get_margeff(at):
    d = sm.datasets.randhie.load_pandas().data.iloc[:2000]
    X = sm.add_constant(d[["lncoins", "idp", "lpi", "fmde", "physlm", "disea"]])
    ref = sm.Poisson(d["mdvis"], X).fit(disp=0, method="newton", tol=1e-12)
    r = lx.glm(d["mdvis"].to_numpy(), X.to_numpy(), family="poisson", columns=list(X.columns))
    _check(lx.slopes(r, at=at), ref.get_margeff(at=at))
    _check(lx.slopes(r, at=at, dummy=True), ref.get_margeff(at=at, dummy=True))


def test_mnlogit_matches_get_margeff():
    d = sm.datasets.anes96.load_pandas().data.iloc[:300]
    y = np.digitize(d["PID"], [1.5, 4.5])
    X = sm.add_constant(d[["logpopul", "selfLR", "age"]])
    ref = sm.MNLogit(y, X).fit(disp=0, method="newton", maxiter=100)
    r = lx.mnlogit(y, X.to_numpy(), columns=list(X.columns))
    t = lx.slopes(r)
    me = ref.get_margeff()
    assert t.group.tolist()[:3] == ["0", "1", "2"]
    np.testing.assert_allclose(t.estimate, np.ravel(me.margeff), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(t.std_error, np.ravel(me.margeff_se), rtol=1e-5)


@pytest.fixture(scope="module")
def interaction():
    rng = np.random.default_rng(5)
    n = 300
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n),
                       "g": rng.choice(["a", "b", "c"], size=n)})  # fmt: skip
    eta = -0.3 + 0.8 * df.x - 0.4 * df.z + 0.5 * df.x * df.z + (df.g == "b") * 0.7
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return df, lx.glm("y ~ x * z + g", df, family="binomial")


def test_slope_through_an_interaction_closed_form(interaction):
    df, r = interaction
    c = dict(zip(r.columns, r.coef))

    def ame(b):  # the average of p(1 - p)(b_x + b_xz z), a function of beta
        bd = dict(zip(r.columns, b))
        eta = (bd["Intercept"] + bd["x"] * df.x + bd["z"] * df.z + bd["x:z"] * df.x * df.z
               + bd["g[T.b]"] * (df.g == "b") + bd["g[T.c]"] * (df.g == "c"))  # fmt: skip
        p = 1 / (1 + np.exp(-eta.to_numpy()))
        return np.mean(p * (1 - p) * (bd["x"] + bd["x:z"] * df.z.to_numpy()))

    t = lx.slopes(r, "x")
    b = r.coef
    grad = np.array([(ame(b + 1e-6 * e) - ame(b - 1e-6 * e)) / 2e-6 for e in np.eye(b.size)])
    np.testing.assert_allclose(t.estimate[0], ame(b), rtol=1e-10)
    np.testing.assert_allclose(t.std_error[0], np.sqrt(grad @ r.beta_cov @ grad), rtol=1e-6)
    assert c["x:z"] != 0


def test_factor_contrasts_closed_form(interaction):
    df, r = interaction
    t = lx.slopes(r, "g")  # a string factor: each level against the first
    assert t.contrast.tolist() == ["b - a", "c - a"]
    p = {g: r.predict(df.assign(g=g)) for g in "abc"}
    np.testing.assert_allclose(t.estimate, [np.mean(p["b"] - p["a"]),
                                            np.mean(p["c"] - p["a"])], rtol=1e-10)  # fmt: skip
    c = lx.comparisons(r, {"g": ("b", "c")})
    np.testing.assert_allclose(c.estimate[0], np.mean(p["c"] - p["b"]), rtol=1e-10)
    # the same contrast, from the two contrasts against "a": c - b = (c - a) - (b - a)
    both = lx.comparisons(r, {"g": ("b", "c")}, at="all")
    np.testing.assert_allclose(both.estimate, p["c"] - p["b"], rtol=1e-10)


def test_slopes_at_given_values_closed_form(interaction):
    df, r = interaction
    t = lx.slopes(r, "x", at={"z": [-1.0, 1.0]})
    bd = dict(zip(r.columns, r.coef))
    # other covariates at their means (x) and most frequent level (g)
    g = df.g.value_counts().idxmax()
    out = []
    for z in (-1.0, 1.0):
        eta = (bd["Intercept"] + bd["x"] * df.x.mean() + bd["z"] * z
               + bd["x:z"] * df.x.mean() * z + bd.get(f"g[T.{g}]", 0.0))  # fmt: skip
        p = 1 / (1 + np.exp(-eta))
        out.append(p * (1 - p) * (bd["x"] + bd["x:z"] * z))
    np.testing.assert_allclose(t.estimate, out, rtol=1e-10)
    assert t.z.tolist() == [-1.0, 1.0] and set(t.g) == {g}


def test_poisson_ratio_of_a_unit_change_is_exp_beta():
    x = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5])
    y = np.array([1, 2, 2, 4, 5, 9, 8, 14])
    r = lx.glm(y, np.column_stack([np.ones(8), x]), family="poisson", columns=["one", "x"])
    t = lx.comparisons(r, "x", comparison="ratio")
    se_b = np.sqrt(r.beta_cov[1, 1])
    np.testing.assert_allclose(t.estimate[0], np.exp(r.coef[1]), rtol=1e-10)
    np.testing.assert_allclose(t.std_error[0], np.exp(r.coef[1]) * se_b, rtol=1e-8)
    assert t.contrast[0] == "+1"


def test_nonlinear_design_raises_and_fn_differentiates_raw_covariate():
    rng = np.random.default_rng(2)
    x = rng.uniform(0.5, 5.0, size=200)
    y = (rng.random(200) < 1 / (1 + np.exp(-(-1 + np.log(x))))).astype(float)
    df = pd.DataFrame({"x": x, "y": y})
    r = lx.glm("y ~ np.log(x)", df, family="binomial")
    with pytest.raises(ValueError, match="not linear in 'x'"):
        lx.slopes(r, "x")

    def loglik(p, d):
        eta = p["a"] + p["b"] * jnp.log(d["x"])
        return d["y"] * eta - jnp.logaddexp(0.0, eta)

    def prob(p, d):
        return jax.nn.sigmoid(p["a"] + p["b"] * jnp.log(d["x"]))

    f = lx.fit(loglik, {"a": 0.0, "b": 0.0}, {"x": x, "y": y})
    t = lx.slopes(f, "x", fn=prob)
    a, b = float(f.params["a"]), float(f.params["b"])
    p = 1 / (1 + np.exp(-(a + b * np.log(x))))
    np.testing.assert_allclose(t.estimate[0], np.mean(p * (1 - p) * b / x), rtol=1e-10)
    np.testing.assert_allclose([a, b], r.coef, rtol=1e-6)  # the same model


def test_mixed_population_slope_is_the_fixed_effect():
    rng = np.random.default_rng(11)
    g = np.repeat(np.arange(12), 6)
    x = rng.normal(size=g.size)
    y = 1.0 + 0.8 * x + rng.normal(size=12)[g] + rng.normal(scale=0.5, size=g.size)
    m = lx.mixed("y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": g}))
    t = lx.slopes(m, which="population")
    assert t.term.tolist() == ["x"]  # the grouping factor is not a covariate
    np.testing.assert_allclose(t.estimate[0], m.fixef["x"], rtol=1e-10)
    np.testing.assert_allclose(t.std_error[0], np.sqrt(m.vcov()[1, 1]), rtol=1e-8)


def test_simulation_interval_of_slopes(logit):
    ref, r = logit
    d = lx.slopes(r, "GPA")
    s = lx.slopes(r, "GPA", interval="simulation", n_draws=3000, seed=3)
    assert abs(s.std_error[0] / d.std_error[0] - 1) < 0.1
    np.testing.assert_allclose(s.estimate, d.estimate)


def test_errors(logit):
    ref, r = logit
    with pytest.raises(ValueError, match="'age' is not a covariate"):
        lx.slopes(r, "age")
    with pytest.raises(ValueError, match="slope must be one of"):
        lx.slopes(r, slope="elasticity")
    with pytest.raises(ValueError, match="at must be"):
        lx.slopes(r, at="median")
    with pytest.raises(ValueError, match="comparison must be"):
        lx.comparisons(r, comparison="odds")
