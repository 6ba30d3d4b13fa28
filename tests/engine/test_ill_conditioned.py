"""Ill-conditioned but well-posed fits converge to the maximum (issue 18, item 1).

Regressions on raw calendar years, ``y ~ year + I(year^2)``: the information
has scaled condition numbers of 3.6e9 to 3.7e12 (years 1950-2010 down to
2000-2010). Data: ``tests/reference/export_ill_conditioned.py``. References:
R's ``glm`` (``tests/reference/ill_conditioned.R``, by QR of the weighted
design, so without squaring the condition number) and a 50-digit Newton
solution in mpmath (``tests/reference/ill_conditioned_mp.py``), which agree to
1e-10; for the nonlinear model (``y = exp(b0 + b1 year + b2 year^2) + e``, a
custom log-likelihood) only the mpmath SEs are used, as R's ``solve`` of that
information rounds them at 2e-5.

Estimates must match to 1e-8 relative in default settings. Standard errors from
an information with scaled condition number ``c`` carry a rounding error of
about ``2 c eps`` (the information's entries are sums, each with relative error
eps), checked here at 4 c eps; from ``c = 1e9`` the fit warns with that figure.
"""

import csv
import math
import warnings
from pathlib import Path

import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import pandas as pd
import pytest

import likelihax as lx
from likelihax.core._precision import x64_scope
from likelihax.optimize._newton import newton_direction

REF = Path(__file__).resolve().parents[1] / "reference"
DATA = pd.read_csv(REF / "ill_conditioned_data.csv")
TERMS = ["(Intercept)", "year", "I(year^2)"]
EPS = np.finfo(np.float64).eps


def _ref(name):
    with (REF / name).open() as fh:
        return {(r["set"], r["term"], r["kind"]): float(r["value"])
                for r in csv.DictReader(fh)}  # fmt: skip


R = _ref("ill_conditioned_results.csv")
MP = _ref("ill_conditioned_mp.csv")


def _values(ref, name, kind):
    return np.array([ref[(name, t, kind)] for t in TERMS])


def test_references_agree():
    """R's QR-based IRLS and the 50-digit solution: the same maximum."""
    for name in ["gauss_1950", "gauss_2000", "pois_1980", "logit_1990"]:
        for kind in ["estimate", "se"]:
            np.testing.assert_allclose(_values(R, name, kind), _values(MP, name, kind),
                                       rtol=5e-10)  # fmt: skip


@pytest.mark.parametrize(
    "name, family, cond",
    [("gauss_1950", "gaussian", 3.6e9), ("gauss_2000", "gaussian", 3.7e12),
     ("pois_1980", "poisson", 6.5e10), ("logit_1990", "binomial", 3.0e11)],
)  # fmt: skip
def test_raw_year_glms_match_r(name, family, cond):
    df = DATA[DATA.set == name]
    with pytest.warns(lx.InformationWarning, match="ill-conditioned") as rec:
        res = lx.glm("y ~ year + I(year**2)", df, family=family)
    assert len(rec) == 1  # once, though the Gaussian fit is refitted at phi = D/n
    fit = res.fit
    assert fit.status == lx.Status.success and fit.converged
    assert fit.condition_number == pytest.approx(cond, rel=0.1)
    b = np.array([float(v) for v in res.params.values()])
    se = np.array([float(v) for v in res.se.values()])
    # At the maximum to rounding: within 1e-6 standard errors of the
    # 50-digit solution (and of R's), whose SEs are the scale of any error.
    mp_se = _values(MP, name, "se")
    assert np.max(np.abs(b - _values(MP, name, "estimate")) / mp_se) < 1e-6
    assert np.max(np.abs(b - _values(R, name, "estimate")) / mp_se) < 1e-6
    # The warning's figure, 2 c eps, gives the SE error's order: the
    # information's entries are sums of n terms, with relative rounding errors
    # of a few eps (how many depends on the machine's summation order).
    err = np.max(np.abs(se / mp_se - 1))
    assert err <= 8 * fit.condition_number * EPS
    assert f"{2 * fit.condition_number * EPS:.0e}" in str(rec[0].message)
    assert res.loglik == pytest.approx(MP[(name, "", "loglik")], rel=1e-9)


def _nls(p, d):
    b = p["b"]
    mu = jnp.exp(b[0] + b[1] * d["year"] + b[2] * d["year"] ** 2)
    return st.norm.logpdf(d["y"], mu, p["sigma"])


@pytest.mark.parametrize("start", [[0.0, 0.0, 0.0], [0.9, 0.0, 0.0]])
def test_custom_nonlinear_model_on_raw_years(start):
    """A custom Gaussian nonlinear model, condition number about 1e11, from a naive
    start: the negative curvature met on the way is not floored to a crawl."""
    df = DATA[DATA.set == "nls_1980"]
    data = {"y": df.y.to_numpy(), "year": df.year.to_numpy()}
    with pytest.warns(lx.InformationWarning, match="ill-conditioned"):
        fit = lx.fit(_nls, {"b": np.array(start), "sigma": 1.0}, data,
                     constraints={"sigma": lx.constraints.positive})  # fmt: skip
    assert fit.converged and fit.status == lx.Status.success
    assert 1e10 < fit.condition_number < 1e12
    np.testing.assert_allclose(fit.params["b"], _values(MP, "nls_1980", "estimate"),
                               rtol=1e-8)  # fmt: skip
    assert fit.params["sigma"] == pytest.approx(MP[("nls_1980", "sigma", "estimate")],
                                                rel=1e-8)  # fmt: skip
    np.testing.assert_allclose(fit.se["b"], _values(MP, "nls_1980", "se"),
                               rtol=4 * fit.condition_number * EPS)  # fmt: skip
    assert fit.loglik == pytest.approx(MP[("nls_1980", "", "loglik")], rel=1e-10)


def test_gaussian_lstsq_in_default_settings():
    """``lx.fit`` of least squares on raw years equals ``numpy.linalg.lstsq``,
    and the reported EDM is the exact one (checked against a direct solve)."""
    df = DATA[DATA.set == "gauss_2000"]
    X = np.column_stack([np.ones(len(df)), df.year, df.year**2])
    y = df.y.to_numpy()
    ref = np.linalg.lstsq(X, y, rcond=None)[0]

    def ls(p, d):
        return -0.5 * (d["y"] - d["X"] @ p["b"]) ** 2

    with pytest.warns(lx.InformationWarning, match="ill-conditioned"):
        fit = lx.fit(ls, {"b": np.zeros(3)}, {"y": y, "X": X})
    assert fit.converged
    # within 1e-6 standard errors (rounding: the condition number is 4e12)
    se = np.sqrt(np.diag(np.linalg.inv(X.T @ X)))
    assert np.max(np.abs(fit.params["b"] - ref) / se) < 1e-6
    assert fit.edm < 1e-13  # (the gradient's rounding at this conditioning)


def test_exact_newton_step_when_positive_definite():
    """Positive definite, condition 1e12: the step is -H^-1 g to rounding (no
    eigenvalue floor); indefinite: negative curvature is replaced by its size."""
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    D = np.diag([1e-12, 1e-3, 1.0, 2.0])
    H = Q @ D @ Q.T
    g = rng.normal(size=4)
    with x64_scope():
        d, edm, _ = newton_direction(jnp.asarray(H), jnp.asarray(g))
    exact = -(Q @ np.diag(1 / np.diag(D)) @ Q.T) @ g
    np.testing.assert_allclose(np.asarray(d), exact, rtol=1e-3)
    assert float(edm) == pytest.approx(-0.5 * g @ exact, rel=1e-3)
    Hi = Q @ np.diag([-0.5, 1e-3, 1.0, 2.0]) @ Q.T
    with x64_scope():
        di, _, _ = newton_direction(jnp.asarray(Hi), jnp.asarray(g))
    # |eigenvalues| of the scaled matrix diag(s) Hi diag(s), s = diag(Hi)^-1/2
    # where positive (else 1)
    dg = np.diag(Hi)
    sc = 1 / np.sqrt(np.where(dg > 0, dg, 1.0))
    lam, V = np.linalg.eigh(Hi * np.outer(sc, sc))
    assert lam[0] < 0 < lam[1]
    mod = -sc * (V @ ((V.T @ (sc * g)) / np.abs(lam)))
    np.testing.assert_allclose(np.asarray(di), mod, rtol=1e-6)
    assert g @ np.asarray(di) < 0


def test_no_warning_for_centred_years():
    """The same model on centred, scaled years is well conditioned: no warning,
    the same fitted means (an invariant of the reparametrization)."""
    df = DATA[DATA.set == "gauss_2000"].copy()
    df["t"] = (df.year - 2005.0) / 5.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = lx.glm("y ~ t + I(t**2)", df, family="gaussian")
    raw = _values(MP, "gauss_2000", "estimate")
    c = np.array([float(v) for v in res.params.values()])
    yr = df.year.to_numpy()
    t = df.t.to_numpy()
    np.testing.assert_allclose(c[0] + c[1] * t + c[2] * t**2,
                               raw[0] + raw[1] * yr + raw[2] * yr**2, rtol=1e-9)  # fmt: skip
    assert res.fit.condition_number < 1e3
    assert math.isfinite(res.loglik)
