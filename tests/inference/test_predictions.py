"""lx.predict: predictions with delta-method, simulation and bootstrap intervals.

References: statsmodels ``get_prediction().summary_frame()`` (logit, Poisson
GLM), ``MNLogit.predict`` and ``OrderedModel.predict`` on statsmodels' public
data sets (spector, randhie, a mode-choice-like subset of anes96); closed forms
for a normal linear model written with ``lx.fit``.
"""

from __future__ import annotations

from statistics import NormalDist

import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import pandas as pd
import pytest

import likelihax as lx

sm = pytest.importorskip("statsmodels.api")


@pytest.fixture(scope="module")
def spector():
    d = sm.datasets.spector.load_pandas().data
    X = sm.add_constant(d[["GPA", "TUCE", "PSI"]])
    ref = sm.Logit(d["GRADE"], X).fit(disp=0)
    r = lx.glm(d["GRADE"].to_numpy(), X.to_numpy(), family="binomial",
               columns=list(X.columns))  # fmt: skip
    return d, X, ref, r


@pytest.fixture(scope="module")
def line():
    """Normal linear model through lx.fit, sigma known: closed-form SEs."""
    rng = np.random.default_rng(3)
    x = np.linspace(0.0, 4.0, 25)
    y = 1.0 + 0.5 * x + rng.normal(scale=0.7, size=x.size)

    def loglik(p, d):
        return st.norm.logpdf(d["y"], p["a"] + p["b"] * d["x"], 0.7)

    f = lx.fit(loglik, {"a": 0.0, "b": 0.0}, {"x": x, "y": y})
    X = np.column_stack([np.ones_like(x), x])
    V = 0.7**2 * np.linalg.inv(X.T @ X)
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    return f, beta, V


def linear_fn(p, d):
    return p["a"] + p["b"] * d["x"]


def test_logit_matches_statsmodels_get_prediction(spector):
    d, X, ref, r = spector
    sf = ref.get_prediction().summary_frame()
    t = lx.predict(r)
    np.testing.assert_allclose(t.estimate, sf["predicted"], rtol=1e-6)
    np.testing.assert_allclose(t.std_error, sf["se"], rtol=1e-6)
    z = NormalDist().inv_cdf(0.975)
    np.testing.assert_allclose(t.conf_high - t.estimate, z * sf["se"], rtol=1e-6)
    assert list(t.columns[:5]) == ["rowid", "const", "GPA", "TUCE", "PSI"]


def test_formula_newdata_and_link_scale(spector):
    d, X, ref, _ = spector
    r = lx.glm("GRADE ~ GPA + TUCE + PSI", d, family="binomial")
    new = pd.DataFrame({"GPA": [2.5, 3.5], "TUCE": [20.0, 25.0], "PSI": [0, 1]})
    before = new.copy()
    t = lx.predict(r, new, which="link")
    Xn = sm.add_constant(new, has_constant="add")
    sf = ref.get_prediction(Xn, which="linear").summary_frame()
    np.testing.assert_allclose(t.estimate, sf["predicted"], rtol=1e-6)
    np.testing.assert_allclose(t.std_error, sf["se"], rtol=1e-6)
    pd.testing.assert_frame_equal(new, before)  # the caller's frame is untouched
    assert t.GPA.tolist() == [2.5, 3.5]


def test_poisson_glm_matches_statsmodels():
    d = sm.datasets.randhie.load_pandas().data.iloc[:1500]
    cols = ["lncoins", "idp", "lpi", "fmde", "physlm", "disea"]
    X = sm.add_constant(d[cols])
    ref = sm.GLM(d["mdvis"], X, family=sm.families.Poisson()).fit()
    r = lx.glm(d["mdvis"].to_numpy(), X.to_numpy(), family="poisson", columns=list(X.columns))
    sf = ref.get_prediction(X.iloc[:40]).summary_frame()
    t = lx.predict(r, X.iloc[:40].to_numpy())
    np.testing.assert_allclose(t.estimate, sf["mean"], rtol=1e-6)
    np.testing.assert_allclose(t.std_error, sf["mean_se"], rtol=1e-6)
    # statsmodels' interval of the mean is made on the link scale
    tl = lx.predict(r, X.iloc[:40].to_numpy(), ci_scale="link")
    np.testing.assert_allclose(tl.conf_low, sf["mean_ci_lower"], rtol=1e-6)
    np.testing.assert_allclose(tl.conf_high, sf["mean_ci_upper"], rtol=1e-6)
    np.testing.assert_allclose(tl.std_error, t.std_error, rtol=1e-12)
    with pytest.raises(ValueError, match="not an inverse link"):
        lx.predict(r, which="link", ci_scale="link")


def test_fn_on_plain_fit_closed_form(line):
    f, beta, V = line
    t = lx.predict(f, {"x": np.array([0.0, 2.0, 10.0])}, fn=linear_fn, level=0.9)
    Xn = np.column_stack([np.ones(3), [0.0, 2.0, 10.0]])
    se = np.sqrt(np.einsum("ij,jk,ik->i", Xn, V, Xn))
    np.testing.assert_allclose(t.estimate, Xn @ beta, rtol=1e-8)
    np.testing.assert_allclose(t.std_error, se, rtol=1e-6)
    z = NormalDist().inv_cdf(0.95)
    np.testing.assert_allclose(t.conf_low, Xn @ beta - z * se, rtol=1e-6)
    # default rows: the fit's data
    assert len(lx.predict(f, fn=linear_fn)) == 25


def test_simulation_interval_is_seeded_and_normal(line):
    f, beta, V = line
    new = {"x": np.array([1.0, 3.0])}
    a = lx.predict(f, new, fn=linear_fn, interval="simulation", n_draws=4000, seed=7)
    b = lx.predict(f, new, fn=linear_fn, interval="simulation", n_draws=4000, seed=7)
    c = lx.predict(f, new, fn=linear_fn, interval="simulation", n_draws=4000, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.conf_low, c.conf_low)
    # a linear prediction of normal draws: quantiles of N(x'b, x'Vx)
    Xn = np.column_stack([np.ones(2), new["x"]])
    se = np.sqrt(np.einsum("ij,jk,ik->i", Xn, V, Xn))
    z = NormalDist().inv_cdf(0.975)
    np.testing.assert_allclose(a.std_error, se, rtol=0.05)
    np.testing.assert_allclose(a.conf_high, Xn @ beta + z * se, atol=0.1 * se.max())
    np.testing.assert_allclose(a.estimate, Xn @ beta, rtol=1e-8)  # not the draws' mean


def test_bootstrap_interval(line):
    f, beta, V = line
    t = lx.predict(f, {"x": np.array([2.0])}, fn=linear_fn, interval="bootstrap",
                   n_draws=200, seed=1)  # fmt: skip
    se = np.sqrt(np.array([1.0, 2.0]) @ V @ [1.0, 2.0])
    assert abs(t.std_error[0] / se - 1) < 0.3
    assert t.conf_low[0] < t.estimate[0] < t.conf_high[0]


def test_no_se_and_no_interval(line):
    f, beta, _ = line
    t = lx.predict(f, {"x": np.array([1.0])}, fn=linear_fn, se=False, interval=None)
    assert list(t.columns) == ["rowid", "x", "estimate"]
    np.testing.assert_allclose(t.estimate, beta[0] + beta[1], rtol=1e-8)
    t = lx.predict(f, {"x": np.array([1.0])}, fn=linear_fn, se=False)
    assert list(t.columns) == ["rowid", "x", "estimate", "conf_low", "conf_high"]


def test_mnlogit_probabilities_match_statsmodels():
    d = sm.datasets.anes96.load_pandas().data.iloc[:300]
    y = np.digitize(d["PID"], [1.5, 4.5])  # three party groups
    X = sm.add_constant(d[["logpopul", "selfLR", "age"]])
    ref = sm.MNLogit(y, X).fit(disp=0, method="newton", maxiter=100)
    r = lx.mnlogit(y, X.to_numpy(), columns=list(X.columns))
    t = lx.predict(r)
    assert t.group.tolist()[:3] == ["0", "1", "2"]
    np.testing.assert_allclose(t.estimate.to_numpy().reshape(-1, 3), ref.predict(X),
                               rtol=1e-6)  # fmt: skip
    # SEs: delta method with the Jacobian of statsmodels' own probabilities
    # by central differences (an independent derivative), statsmodels' covariance
    eps = 1e-6
    b = ref.params.to_numpy().T.ravel()  # (K-1) x p, level-major as likelihax labels
    x0 = X.to_numpy()[:2]

    def probs(v):
        B = v.reshape(2, -1)
        e = np.exp(np.column_stack([np.zeros(2), x0 @ B.T]))
        return (e / e.sum(1, keepdims=True)).ravel()

    J = np.column_stack([(probs(b + eps * np.eye(b.size)[i]) - probs(b - eps * np.eye(b.size)[i]))
                         / (2 * eps) for i in range(b.size)])  # fmt: skip
    cov = ref.cov_params().to_numpy()  # ordered (level, column), level-major
    se = np.sqrt(np.einsum("ij,jk,ik->i", J, cov, J))
    np.testing.assert_allclose(t.std_error.to_numpy()[:6], se, rtol=1e-5)


def test_ordinal_probabilities_match_statsmodels():
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    d = sm.datasets.anes96.load_pandas().data.iloc[:300]
    y = np.digitize(d["PID"], [1.5, 4.5])
    X = d[["logpopul", "selfLR"]]
    ref = OrderedModel(y, X, distr="logit").fit(method="newton", disp=0, maxiter=200)
    r = lx.ordinal(y, X.to_numpy(), columns=list(X.columns))
    t = lx.predict(r, X.to_numpy()[:10])
    np.testing.assert_allclose(t.estimate.to_numpy().reshape(-1, 3),
                               ref.predict(X.iloc[:10]), rtol=1e-5)  # fmt: skip


@pytest.fixture(scope="module")
def mixed_fit():
    rng = np.random.default_rng(11)
    g = np.repeat(np.arange(12), 6)
    x = rng.normal(size=g.size)
    y = 1.0 + 0.8 * x + rng.normal(size=12)[g] + rng.normal(scale=0.5, size=g.size)
    df = pd.DataFrame({"y": y, "x": x, "g": g})
    return df, lx.mixed("y ~ x + (1 | g)", df)


def test_mixed_conditional_and_population(mixed_fit):
    df, m = mixed_fit
    np.testing.assert_allclose(lx.predict(m).estimate, m.predict(), rtol=1e-10)
    new = pd.DataFrame({"x": [0.0, 1.0], "g": [0, 99]})
    pop, se = m.predict(new, kind="population", se=True)
    t = lx.predict(m, new, which="population")
    np.testing.assert_allclose(t.estimate, pop, rtol=1e-10)
    np.testing.assert_allclose(t.std_error, se, rtol=1e-8)
    # population prediction of a linear mixed model: x'beta, SE sqrt(x'Vx)
    xb = m.fixef["(Intercept)"] + m.fixef["x"] * new.x.to_numpy()
    np.testing.assert_allclose(t.estimate, xb, rtol=1e-10)


def test_average_predictions_by(spector):
    """predict(by=): the mean prediction over the rows and over each group, its
    SE sqrt(g' V g) with g the mean of the rows' gradients p(1-p)x (closed form
    for the logit)."""
    d, X, ref, r = spector
    Xn = X.to_numpy()
    p = 1.0 / (1.0 + np.exp(-Xn @ r.coef))
    grad = p[:, None] * (1 - p[:, None]) * Xn
    t = lx.predict(r, by=True)
    assert "rowid" not in t.columns and len(t) == 1
    assert t.estimate[0] == pytest.approx(p.mean(), rel=1e-12)
    gm = grad.mean(axis=0)
    assert t.std_error[0] == pytest.approx(np.sqrt(gm @ r.beta_cov @ gm), rel=1e-10)
    tb = lx.predict(r, by="PSI")
    assert tb.PSI.tolist() == [0.0, 1.0]
    for k, level in enumerate([0.0, 1.0]):
        rows = Xn[:, 3] == level
        gm = grad[rows].mean(axis=0)
        assert tb.estimate[k] == pytest.approx(p[rows].mean(), rel=1e-12)
        assert tb.std_error[k] == pytest.approx(np.sqrt(gm @ r.beta_cov @ gm), rel=1e-10)
    with pytest.raises(ValueError, match=r"by: \['nope'\] are not columns"):
        lx.predict(r, by="nope")
    with pytest.raises(ValueError, match="ci_scale='link' does not apply to averages"):
        lx.predict(r, by="PSI", ci_scale="link")


def test_errors(spector, line):
    d, X, ref, r = spector
    f, _, _ = line
    with pytest.raises(ValueError, match="which must be 'response' or 'link'"):
        lx.predict(r, which="zero")
    with pytest.raises(TypeError, match="pass fn=lambda params, data"):
        lx.predict(f)
    with pytest.raises(ValueError, match="interval must be one of"):
        lx.predict(r, interval="wald")
    with pytest.raises(ValueError, match="level must be in"):
        lx.predict(r, level=95)
    with pytest.raises(ValueError, match="Give fn or which"):
        lx.predict(f, fn=linear_fn, which="link")
    with pytest.raises(ValueError, match="one value per row"):
        lx.predict(f, fn=lambda p, d: jnp.zeros((2, 2, 2)))


def test_plot_predictions(spector):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    d = spector[0]
    r = lx.glm("GRADE ~ GPA + TUCE + C(PSI)", d, family="binomial")
    grid = lx.plots.prediction_grid(r, "GPA", n=5)
    assert grid.PSI.tolist() == [0] * 5  # a factor at its most frequent level
    np.testing.assert_allclose(grid.TUCE, d.TUCE.mean())
    ax = lx.plot_predictions(r, "GPA", n=5)
    line = [a for a in ax.lines if a.get_gid() == "prediction"][0]
    np.testing.assert_allclose(line.get_ydata(), grid.estimate)
    assert any(c.get_gid() == "interval" for c in ax.collections)
    ax2 = lx.plot_predictions(r, "PSI")
    assert [t.get_text() for t in ax2.get_xticklabels()] == ["0", "1"]
    import matplotlib.pyplot as plt

    plt.close("all")

