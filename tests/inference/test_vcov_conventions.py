"""Named covariance conventions against Stata, R's sandwich and statsmodels.

Each kind of the table in ``likelihax.objective._covariance`` is checked
against the tool whose option it claims to equal:

- Stata: covariance matrices that statsmodels ships from Stata runs, exported
  with their command lines to ``tests/reference/vcov_conventions_stata.json``
  by ``tests/reference/export_vcov_conventions.py``;
- R: ``sandwich`` 3.0-2, numbers written by ``tests/reference/vcov_conventions.R``
  to ``tests/reference/vcov_conventions_r.csv``;
- statsmodels: computed here (``OLS``/``WLS`` HC2/HC3, ``cov_hac``,
  ``nw-groupsum``);
- CRV3: brute-force leave-one-cluster-out refits with statsmodels.

Tolerance: rtol 1e-6 (the Grunfeld data statsmodels ships agree with Stata's
to about 1e-7).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.stats.sandwich_covariance as sw
from statsmodels.datasets import macrodata

import likelihax as lx
from likelihax.objective import default_maxlags

REF = Path(__file__).resolve().parents[1] / "reference"
RTOL = 1e-6


def _close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(
        np.asarray(actual, float), np.asarray(expected, float), rtol=rtol, atol=0.0
    )


# ----- data and fits ----------------------------------------------------------------


@pytest.fixture(scope="module")
def data():
    d2 = macrodata.load_pandas().data
    g_gdp = 400 * np.diff(np.log(d2["realgdp"].to_numpy()))
    g_inv = 400 * np.diff(np.log(d2["realinv"].to_numpy()))
    macro = pd.DataFrame(
        {"g_realinv": g_inv, "g_realgdp": g_gdp, "realint": d2["realint"].to_numpy()[:-1]}
    )
    return {
        "macro": macro,
        "grunfeld": pd.read_csv(REF / "vcov_data_grunfeld.csv"),
        "ships": pd.read_csv(REF / "vcov_data_ships.csv"),
        "spector": pd.read_csv(REF / "glm_data_spector.csv"),
    }


@pytest.fixture(scope="module")
def fits(data):
    """GLM fits: from arrays with the constant last (Stata's order) for the Stata
    cases, from formulas (R's names) for the R cases."""
    macro, grun, ships = data["macro"], data["grunfeld"], data["ships"]

    def design(df, *names):
        return np.column_stack([*(df[n].to_numpy() for n in names), np.ones(len(df))])

    y_ships, X_ships = ships["accident"].to_numpy(), design(ships, "yr_con", "op_75_79")
    return {
        "macro": lx.glm(macro["g_realinv"].to_numpy(),
                        design(macro, "g_realgdp", "realint"), family="gaussian"),
        "grunfeld_stata": lx.glm(grun["invest"].to_numpy(),
                                 design(grun, "value", "capital"), family="gaussian"),
        "ships_stata": lx.glm(y_ships, X_ships, family="poisson"),
        "ships_exposure": lx.glm(y_ships, X_ships, family="poisson",
                                 exposure=ships["service"].to_numpy()),
        "ships_nb2": lx.glm(y_ships, X_ships, family="negative_binomial"),
        "grunfeld": lx.glm("invest ~ value + capital", grun, family="gaussian"),
        "ships": lx.glm("accident ~ yr_con + op_75_79", ships, family="poisson"),
        "spector": lx.glm("GRADE ~ GPA + TUCE + PSI", data["spector"],
                          family="binomial"),
    }  # fmt: skip


def _cols(df, *names):
    return tuple(df[n].to_numpy() for n in names)


# ----- Stata (results shipped by statsmodels) -------------------------------------------

STATA = json.loads((REF / "vcov_conventions_stata.json").read_text())

# case: (fit, kind, options); "groups"/"time" name data columns
STATA_CASES = {
    "macro_regress_robust": ("macro", "hc1", {}),
    "macro_ivreg2_robust": ("macro", "hc0", {}),
    "macro_ivreg2_robust_small": ("macro", "hc1", {}),
    "macro_newey_lag4": ("macro", "hac", {"maxlags": 4, "correction": True}),
    "macro_ivreg2_bw5": ("macro", "hac", {"maxlags": 4}),
    "macro_ivreg2_bw5_small": ("macro", "hac", {"maxlags": 4, "correction": True}),
    "grunfeld_regress_cluster": ("grunfeld_stata", "cluster", {"groups": "firm"}),
    "grunfeld_ivreg2_cluster": (
        "grunfeld_stata", "cluster", {"groups": "firm", "correction": False}),
    "grunfeld_ivreg2_cluster2_small": (
        "grunfeld_stata", "cluster", {"groups": ("firm", "year"), "correction": "min"}),
    "grunfeld_ivreg2_cluster2": (
        "grunfeld_stata", "cluster", {"groups": ("firm", "year"), "correction": False}),
    "grunfeld_xtscc_lag4": ("grunfeld_stata", "driscoll-kraay", {"time": "year", "maxlags": 4}),
    "grunfeld_ivreg2_dkraay5": (
        "grunfeld_stata", "driscoll-kraay", {"time": "year", "maxlags": 4}),
    "grunfeld_ivreg2_dkraay5_small": (
        "grunfeld_stata", "driscoll-kraay",
        {"time": "year", "maxlags": 4, "correction": "cluster"}),
    "ships_poisson_robust": ("ships_stata", "stata", {}),
    "ships_poisson_cluster": ("ships_stata", "stata", {"groups": "ship"}),
    "ships_poisson_exposure_robust": ("ships_exposure", "stata", {}),
    "ships_poisson_exposure_cluster": ("ships_exposure", "stata", {"groups": "ship"}),
    "ships_nbreg_robust": ("ships_nb2", "stata", {}),
    "ships_nbreg_cluster": ("ships_nb2", "stata", {"groups": "ship"}),
}  # fmt: skip


def _options(opts, df):
    out = dict(opts)
    for key in ("groups", "time"):
        if key in out:
            v = out[key]
            out[key] = _cols(df, *v) if isinstance(v, tuple) else df[v].to_numpy()
    return out


@pytest.mark.parametrize("case", sorted(STATA_CASES))
def test_against_stata(case, data, fits):
    name, kind, opts = STATA_CASES[case]
    ref = STATA[case]
    df = data[name.split("_")[0]]  # macro, grunfeld, ships
    fit = fits[name]
    got = lx.vcov(fit, kind, **_options(opts, df)).matrix
    _close(fit.coef, ref["params"][: len(fit.coef)], rtol=1e-6)
    if name == "ships_nb2":
        # Stata's nbreg reports ln(alpha): the delta method, J = diag(1, 1, 1, 1/alpha).
        J = np.diag([1.0, 1.0, 1.0, 1.0 / float(fit.fit.params["alpha"])])
        got = J @ got @ J
    _close(got, ref["cov"])


def _cpunish():
    from statsmodels.datasets import cpunish

    d = cpunish.load()
    X = np.asarray(d.exog, dtype=float).copy()
    X[:, 3] = np.log(X[:, 3])
    X = np.column_stack([X, np.ones(len(X))])
    y = np.asarray(d.endog, dtype=float)
    fw = np.array([1, 1, 1, 2, 2, 2, 3, 3, 3, 1, 1, 1, 2, 2, 2, 3, 3], float)
    ids = np.arange(1, 18) // 2  # the variable id of the Stata runs
    weights = {"none": {}, "fweight": {"weights": fw},
               "aweight": {"weights": fw, "weight_type": "importance"},
               "pweight": {"weights": fw, "weight_type": "importance"}}  # fmt: skip
    return y, X, ids, weights


@pytest.mark.parametrize("weights", ["none", "fweight", "pweight"])
def test_against_stata_glm_weights(weights):
    # Stata's glm, family(poisson), vce(robust) and vce(cluster id), with
    # frequency (fweight) and sampling (pweight) weights: kind "stata" with
    # frequency and importance weights. Stata's IRLS stopped about 1e-6
    # (relative) from the maximum, so its covariances carry about 1e-5 of error
    # (statsmodels' GLM agrees with likelihax to 1e-11 and with Stata to 5e-6).
    y, X, ids, kw = _cpunish()
    fit = lx.glm(y, X, family="poisson", **kw[weights])
    robust = STATA[f"cpunish_glm_{weights}_robust"]
    _close(fit.coef, robust["params"][:7], rtol=2e-6)
    _close(lx.vcov(fit, "stata").matrix, robust["cov"], rtol=2e-5)
    cluster = STATA[f"cpunish_glm_{weights}_cluster"]
    _close(lx.vcov(fit, "stata", groups=ids).matrix, cluster["cov"], rtol=2e-5)


@pytest.mark.parametrize("weights", ["aweight", "fweight", "pweight"])
def test_against_stata_regress_weights(weights):
    # regress [aweight|fweight|pweight=], vce(cluster id) (and vce(robust) with
    # aweights): kinds "cluster" and "hc1" of a Gaussian GLM with importance
    # or frequency weights (Stata's estimates agree to 5e-7 with the data as
    # statsmodels ships them).
    y, X, ids, kw = _cpunish()
    fit = lx.glm(y, X, family="gaussian", **kw[weights])
    cluster = STATA[f"cpunish_regress_{weights}_cluster"]
    _close(fit.coef, cluster["params"][:7], rtol=1e-6)
    _close(lx.vcov(fit, "cluster", groups=ids).matrix, cluster["cov"], rtol=2e-6)
    if weights == "aweight":
        robust = STATA["cpunish_regress_aweight_robust"]["cov"]
        _close(lx.vcov(fit, "hc1").matrix, robust, rtol=2e-6)


# ----- R sandwich -------------------------------------------------------------------------

R = pd.read_csv(REF / "vcov_conventions_r.csv")

# case: (fit, kind, options, factor applied to R's matrix)
R_CASES = {
    **{f"ships_vcovHC_HC{j}": ("ships", f"hc{j}", {}, 1.0) for j in range(4)},
    **{f"spector_vcovHC_HC{j}": ("spector", f"hc{j}", {}, 1.0) for j in range(4)},
    "grunfeld_vcovHC_HC2": ("grunfeld", "hc2", {}, 1.0),
    "grunfeld_vcovHC_HC3": ("grunfeld", "hc3", {}, 1.0),
    "ships_vcovCL_ship": ("ships", "stata", {"groups": "ship"}, 1.0),
    "ships_vcovCL_ship_HC1": ("ships", "cluster", {"groups": "ship"}, 1.0),
    "ships_vcovCL_2way": ("ships", "stata", {"groups": ("ship", "yr_con")}, 1.0),
    "ships_vcovCL_2way_HC1": ("ships", "cluster", {"groups": ("ship", "yr_con")}, 1.0),
    # One factor G_min/(G_min-1) (4 building years) on R's unadjusted sum.
    "ships_vcovCL_2way_HC1_noadj": (
        "ships", "cluster", {"groups": ("ship", "yr_con"), "correction": "min"}, 4 / 3),
    "grunfeld_vcovCL_2way_HC1_noadj": (
        "grunfeld", "cluster", {"groups": ("firm", "year"), "correction": "min"},
        10 / 9),
    "ships_NeweyWest_lag2": ("ships", "hac", {"maxlags": 2}, 1.0),
    "ships_NeweyWest_lag2_adjust": (
        "ships", "hac", {"maxlags": 2, "correction": True}, 1.0),
    "spector_NeweyWest_lag3": ("spector", "hac", {"maxlags": 3}, 1.0),
    **{f"{d}_NeweyWest_auto": (d, "hac", {"maxlags": "nw1994"}, 1.0)
       for d in ("ships", "spector", "grunfeld")},
    "grunfeld_vcovPL_lag4": (
        "grunfeld", "driscoll-kraay", {"time": "year", "maxlags": 4}, 1.0),
}  # fmt: skip


def _r_matrix(case, names):
    d = R[R["case"] == case].pivot(index="row", columns="col", values="value")
    names = ["(Intercept)" if n in ("Intercept", "const") else n for n in names]
    return d.loc[names, names].to_numpy()


@pytest.mark.parametrize("case", sorted(R_CASES))
def test_against_r_sandwich(case, data, fits):
    name, kind, opts, factor = R_CASES[case]
    fit = fits[name]
    got = lx.vcov(fit, kind, **_options(opts, data[name]))
    assert got.labels[0] == "Intercept"
    # R's glm() stops at a relative deviance change of 1e-15: its estimates
    # carry about 1e-10 of error, its covariances about 1e-8 here.
    _close(got.matrix, factor * _r_matrix(case, got.labels), rtol=1e-7)


@pytest.mark.parametrize("name", ["ships", "spector", "grunfeld"])
def test_newey_west_1994_lag_is_r_bwneweywest(name, fits):
    lag = int(R.loc[R["case"] == f"{name}_bwNeweyWest", "value"].iloc[0])
    got = lx.vcov(fits[name], "hac", maxlags="nw1994").description
    assert got.endswith(f"maxlags {lag} (Newey-West 1994 automatic)")


# ----- statsmodels -------------------------------------------------------------------------


def _grunfeld_design(data):
    g = data["grunfeld"]
    return g["invest"].to_numpy(), np.column_stack(
        [np.ones(len(g)), g["value"], g["capital"]]
    )


@pytest.mark.parametrize("kind", ["hc2", "hc3"])
def test_hc2_hc3_ols_wls_and_frequency_weights(kind, data):
    y, X = _grunfeld_design(data)
    ols = lx.glm(y, X, family="gaussian")
    _close(lx.vcov(ols, kind).matrix, sm.OLS(y, X).fit(cov_type=kind.upper()).cov_params())
    # Importance weights: the weighted hat matrix, as statsmodels' WLS.
    iw = 1.0 / data["grunfeld"]["value"].to_numpy()
    wls = lx.glm(y, X, family="gaussian", weights=iw, weight_type="importance")
    ref = sm.WLS(y, X, weights=iw).fit(cov_type=kind.upper()).cov_params()
    _close(lx.vcov(wls, kind).matrix, ref)
    # Frequency weights: the same as the data with duplicated rows.
    fw = np.tile([1.0, 2.0, 3.0, 1.0], len(y) // 4)
    fwf = lx.glm(y, X, family="gaussian", weights=fw)
    rep = fw.astype(int)
    ref = sm.OLS(np.repeat(y, rep), np.repeat(X, rep, 0)).fit(cov_type=kind.upper())
    _close(lx.vcov(fwf, kind).matrix, ref.cov_params())


def test_hac_default_bandwidth_rule(data, fits):
    fit = fits["macro"]
    n = len(data["macro"])
    assert default_maxlags(n) == int(np.floor(4 * (n / 100) ** (2 / 9))) == 4
    ols = sm.OLS(data["macro"]["g_realinv"],
                 np.column_stack([data["macro"]["g_realgdp"], data["macro"]["realint"],
                                  np.ones(n)])).fit()  # fmt: skip
    got = lx.vcov(fit, "hac")
    # statsmodels' default rule (nlags=None)
    _close(got.matrix, sw.cov_hac(ols, nlags=None, use_correction=False))
    assert "maxlags 4 (floor(4 (T/100)^(2/9)))" in got.description
    ref = ols.get_robustcov_results("HAC", maxlags=2, use_correction=True).cov_params()
    _close(lx.vcov(fit, "hac", maxlags=2, correction=True).matrix, ref)


def test_driscoll_kraay_statsmodels_nw_groupsum(data, fits):
    y, X = _grunfeld_design(data)
    year = data["grunfeld"]["year"].to_numpy()
    ols = sm.OLS(y, X).fit()
    fit = lx.glm(y, X, family="gaussian")
    t = year - year.min()
    for opts, corr in (({}, False), ({"correction": True}, "hac"),
                       ({"correction": "cluster"}, "cluster")):  # fmt: skip
        ref = sw.cov_nw_groupsum(ols, 3, t, use_correction=corr)
        _close(lx.vcov(fit, "driscoll-kraay", time=year, maxlags=3, **opts).matrix, ref)
    # Default lags from the number of periods (20), not of rows (200).
    _close(lx.vcov(fit, "driscoll-kraay", time=year.astype(str)).matrix,
           sw.cov_nw_groupsum(ols, default_maxlags(20), t))  # fmt: skip


# ----- CRV3 (leave-one-cluster-out refits) ---------------------------------------------------


def _jackknife(estimates, theta):
    D = np.asarray(estimates) - np.asarray(theta)[None, :]
    G = len(D)
    return (G - 1) / G * D.T @ D


def test_crv3_ols_closed_form(data):
    y, X = _grunfeld_design(data)
    firm = data["grunfeld"]["firm"].to_numpy()
    b = sm.OLS(y, X).fit().params
    # MacKinnon, Nielsen and Webb's closed form for OLS (no refits).
    XtX = X.T @ X
    e = y - X @ b
    steps = []
    for c in np.unique(firm):
        m = firm == c
        steps.append(-np.linalg.solve(XtX - X[m].T @ X[m], X[m].T @ e[m]) + b)
    got = lx.vcov(lx.glm(y, X, family="gaussian"), "crv3", groups=firm)
    _close(got.matrix, _jackknife(steps, b))
    assert "10 clusters, 10 refits" in got.description


def test_crv3_poisson_refits(data, fits):
    ships = data["ships"]
    X = np.column_stack([ships["yr_con"], ships["op_75_79"], np.ones(len(ships))])
    y = ships["accident"].to_numpy()
    ship = ships["ship"].to_numpy()
    full = sm.GLM(y, X, family=sm.families.Poisson()).fit(tol=1e-14)
    est = [
        sm.GLM(y[ship != c], X[ship != c], family=sm.families.Poisson())
        .fit(tol=1e-14).params
        for c in np.unique(ship)
    ]
    got = lx.vcov(fits["ships_stata"], "crv3", groups=ship)
    _close(got.matrix, _jackknife(est, full.params))


def test_crv3_cluster_that_identifies_a_parameter_gives_nan_and_a_warning(rng):
    n = 60
    g = np.arange(n) % 6
    X = np.column_stack([np.ones(n), rng.normal(size=n), (g == 0).astype(float)])
    y = X @ [1.0, 2.0, 0.5] + rng.normal(size=n)
    fit = lx.glm(y, X, family="gaussian")
    with pytest.warns(lx.ConvergenceWarning, match=r"without cluster\(s\) \[0\]"):
        got = lx.vcov(fit, "crv3", groups=g)
    assert np.all(np.isnan(got.matrix))


# ----- fit(cov=) and errors ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["hc0", "hc2", "hc3", "stata", "hac"])
def test_fit_cov_equals_vcov(kind, data):
    sp = data["spector"]
    fit = lx.glm("GRADE ~ GPA + TUCE + PSI", sp, family="binomial", cov=kind)
    assert fit.fit.cov_kind == kind
    _close(fit.fit.cov.matrix, lx.vcov(fit, kind).matrix, rtol=1e-10)


def test_errors_name_the_option(fits):
    fit = fits["ships"]
    n = fit.fit.nobs
    g = np.arange(n) % 4
    cases = [
        (dict(kind="hac", groups=g), "groups= is for kind='cluster' only"),
        (dict(kind="driscoll-kraay"), "needs time="),
        (dict(kind="driscoll-kraay", groups=g), "as time=, not groups="),
        (dict(kind="hc1", time=g), "time= is for kind='driscoll-kraay' only"),
        (dict(kind="hc1", maxlags=2), "maxlags= is for kind='hac'"),
        (dict(kind="hac", maxlags=-1), "maxlags must be a whole number"),
        (dict(kind="hac", maxlags=2.5), "maxlags must be a whole number"),
        (dict(kind="hac", maxlags="auto"), "or 'nw1994'"),
        (dict(kind="hac", correction="min"), "must be True or False"),
        (dict(kind="cluster", groups=g, correction="max"), "True, False or 'min'"),
        (dict(kind="stata", correction="min"), "needs groups="),
        (dict(kind="hc3", correction=True), "correction= is for kinds"),
        (dict(kind="crv3"), "needs groups="),
        (dict(kind="crv3", groups=(g, g)), "one label per observation"),
        (dict(kind="driscoll-kraay", time=np.zeros(n)), "at least 2 periods"),
    ]
    for kwargs, match in cases:
        with pytest.raises(ValueError, match=match):
            lx.vcov(fit, **kwargs)


def test_leverage_needs_linear_predictors():
    import jax.numpy as jnp

    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(40), rng.normal(size=40)])
    y = (rng.random(40) < 0.5).astype(float)

    def logistic(p, d):
        eta = d["X"] @ p["b"]
        return d["y"] * eta - jnp.logaddexp(0.0, eta)

    fit = lx.fit(logistic, {"b": np.zeros(2)}, {"X": X, "y": y})
    for kind in ("hc2", "hc3"):
        with pytest.raises(ValueError, match=f"kind='{kind}' needs the model's leverages"):
            lx.vcov(fit, kind)
        with pytest.raises(ValueError, match=f"cov='{kind}' needs leverages"):
            lx.fit(logistic, {"b": np.zeros(2)}, {"X": X, "y": y}, cov=kind)
    # The kinds that need no leverage work for any per-observation model.
    for kind in ("stata", "hac", "hc0"):
        assert np.all(np.isfinite(lx.vcov(fit, kind).matrix))


def test_descriptions(fits):
    fit = fits["grunfeld"]
    g = pd.read_csv(REF / "vcov_data_grunfeld.csv")
    two = (g["firm"].to_numpy(), g["year"].to_numpy())
    d = lx.vcov(fit, "cluster", groups=two, correction="min").description
    assert "two-way, 10 and 20 clusters" in d and "G_min/(G_min-1)" in d
    assert "applied once" in d
    ship = pd.read_csv(REF / "vcov_data_ships.csv")["ship"].to_numpy()
    d = lx.vcov(fits["ships"], "stata", groups=ship).description
    assert d.startswith("cluster-robust") and "G/(G-1)" in d and "(n-1)" not in d
    assert "n/(n-1)" in lx.vcov(fits["ships"], "stata").description
