"""Golden summaries: ``str(result.summary())`` of each result type against a file.

One small, deterministic fit per result type, its summary text compared with a
committed file in ``tests/golden/`` (the convention of ``test_summary.py``,
whose ``normal_summary.txt`` covers the plain normal fit):

* FitResult from ``lx.fit``: ``fit_exponential_summary.txt``;
* GLMResult from ``lx.glm``: ``glm_poisson_summary.txt``;
* MixedResult from ``lx.mixed``: ``mixed_lmm_summary.txt``;
* OrdinalFit from ``lx.ordinal``: ``ordinal_summary.txt``;
* MultinomialFit from ``lx.mnlogit``: ``mnlogit_summary.txt``;
* EMFit from the generic ``lx.em``: ``em_poisson_mixture_summary.txt``, from a
  ready-made mixture ``lx.poisson_mixture``: ``poisson_mixture_summary.txt``,
  and from ``lx.mvn_missing``: ``mvn_missing_summary.txt``;
* FitResult from ``lx.fit_distribution``: ``distribution_normal_summary.txt``;
* FitResult from ``lx.fit_map`` (MAP): ``map_normal_summary.txt``;
* LoadedFitResult from ``lx.load_result`` (a saved GLM): ``loaded_glm_summary.txt``.

Stable across machines: the data are small and well conditioned, every model
reaches its optimum to rounding (the summaries print 4-8 significant digits),
and the entries that depend on the last iterations are masked before the
comparison: ``max|grad|``, ``EDM`` and ``Cond. number`` (as in
``test_summary.py``) and the iteration counts (``Iterations``, ``EM
iterations``, the mixed model's ``N Newton iterations``); trailing spaces are
dropped from each line. Each test also checks the estimates behind its text
against closed forms (sample mean and variance, posterior mode, Anderson's
monotone-missing estimates, balanced-design GLS = OLS, the generic EM = the
ready-made mixture) or statsmodels (GLM, MNLogit, OrderedModel), so that a
regeneration cannot bless wrong estimates; the files were read by hand when
written (e.g. the normal ``mu`` is the sample mean 4.91, the MAP mode
49.1 / 10.25 = 4.7902).

Regenerate the files after an intended change of the summary layout::

    LIKELIHAX_UPDATE_GOLDEN=1 python -m pytest -q -p no:cacheprovider \\
        tests/results/test_golden_summaries.py tests/results/test_summary.py

(the tests that write a file are reported as skipped), then read the diff of
``tests/golden/`` before committing it.
"""

from __future__ import annotations

import re

import jax.numpy as jnp
import jax.scipy.stats as jst
import numpy as np
import pandas as pd
import pytest

import likelihax as lx

# Entries whose last digits (or counts) depend on the last iterations.
_MASKS = [
    (re.compile(r"(max\|grad\|:|EDM:|Cond\. number:)\s+\S+"), r"\1 *"),
    (re.compile(r"(?<![A-Za-z])(Iterations:)\s+\d+ \(\d+ evals\)"), r"\1 *"),
    (re.compile(r"(EM iterations:)\s+\d+"), r"\1 *"),
    (re.compile(r"\b\d+ (Newton iterations)"), r"* \1"),
]


def _stable(summary) -> str:
    text = str(summary)
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return "\n".join(line.rstrip() for line in text.splitlines())


def _close(a, b, rtol=1e-6, atol=0.0):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol,
                               atol=atol)  # fmt: skip


# ----- data -------------------------------------------------------------------------
Y_EXP = np.array([0.5, 1.5, 0.8, 2.2, 1.0, 0.4, 1.6, 0.7, 1.2, 2.1])  # mean 1.2
X_NORM = np.array([4.1, 5.3, 3.8, 4.9, 6.2, 5.0, 4.4, 5.7, 4.6, 5.1])  # mean 4.91
GLM_DATA = pd.DataFrame(
    {"y": [2.0, 3.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0, 15.0, 20.0],
     "x": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8]}
)  # fmt: skip
Y_MIX = np.array([0, 1, 0, 2, 1, 0, 9, 11, 8, 10, 12, 1])  # two clear clusters


def _lmm_data():
    """5 groups x 4 observations, the same x in every group (balanced)."""
    x = np.tile([0.0, 1.0, 2.0, 3.0], 5)
    u = np.repeat([-1.0, 0.5, 1.5, -0.5, 0.0], 4)
    e = np.array([0.3, -0.2, 0.1, -0.4, 0.2, 0.5, -0.3, 0.0, -0.1, 0.3,
                  -0.5, 0.2, 0.4, -0.3, 0.1, -0.2, 0.0, 0.2, -0.1, 0.3])  # fmt: skip
    g = np.repeat(["a", "b", "c", "d", "e"], 4)
    return pd.DataFrame({"y": 1.0 + 0.5 * x + u + e, "x": x, "g": g})


ORD_Y = np.array([0, 0, 1, 0, 1, 1, 2, 1, 2, 2, 2, 1, 0, 2, 1])
ORD_X = np.round(np.linspace(-1.0, 1.0, 15), 4)
MN_Y = np.array(list("abacbaccbabcaccbcc"))
MN_X = np.round(np.linspace(-1.0, 1.0, 18), 4)
# x2 missing in the last two rows (x1 large: missing at random given x1).
MVN_X = np.array([[1.0, 2.1], [2.0, 2.9], [3.0, 3.2], [4.0, 4.8], [5.0, 5.1],
                  [6.0, 6.4], [7.0, np.nan], [8.0, np.nan]])  # fmt: skip


# ----- FitResult --------------------------------------------------------------------
def _exponential(p, d):
    return jnp.log(p["rate"]) - p["rate"] * d["y"]


def _exp_fit():
    return lx.fit(_exponential, {"rate": 1.0}, {"y": Y_EXP},
                  constraints={"rate": lx.constraints.positive})  # fmt: skip


def test_fit_result(golden):
    fit = _exp_fit()
    n, rate = Y_EXP.size, 1 / Y_EXP.mean()  # closed forms: 1 / mean, rate / sqrt(n)
    _close(fit.params["rate"], rate, rtol=1e-10)
    _close(fit.se["rate"], rate / np.sqrt(n), rtol=1e-8)
    _close(fit.loglik, n * np.log(rate) - n, rtol=1e-12)
    golden("fit_exponential_summary.txt", _stable(fit.summary()))


# ----- GLMResult and its saved-and-loaded form --------------------------------------
def _glm():
    return lx.glm("y ~ x", GLM_DATA, family="poisson")


def test_glm_result(golden):
    import statsmodels.api as sm

    res = _glm()
    ref = sm.GLM(GLM_DATA["y"], sm.add_constant(GLM_DATA["x"]),
                 family=sm.families.Poisson()).fit(tol=1e-14)  # fmt: skip
    _close(res.coef, ref.params, rtol=1e-8)
    _close(res.se_coef, ref.bse, rtol=1e-6)
    _close(res.deviance, ref.deviance, rtol=1e-8)
    _close(res.loglik, ref.llf, rtol=1e-10)
    golden("glm_poisson_summary.txt", _stable(res.summary()))


def test_loaded_result(golden, tmp_path):
    res = _glm()
    res.save(tmp_path / "glm")
    back = lx.load_result(tmp_path / "glm")
    assert type(back).__name__ == "LoadedFitResult"
    assert _stable(back.summary()) == _stable(res.summary())
    golden("loaded_glm_summary.txt", _stable(back.summary()))


# ----- MixedResult ------------------------------------------------------------------
def test_mixed_result(golden):
    df = _lmm_data()
    res = lx.mixed("y ~ x + (1 | g)", df, reml=False)
    # Balanced design, the same x in every group: GLS equals OLS.
    slope, intercept = np.polyfit(df["x"], df["y"], 1)
    _close(res.fit.params["(Intercept)"], intercept, rtol=1e-8)
    _close(res.fit.params["x"], slope, rtol=1e-8)
    golden("mixed_lmm_summary.txt", _stable(res.summary()))


# ----- OrdinalFit and MultinomialFit ------------------------------------------------
def test_ordinal_result(golden):
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    res = lx.ordinal("y ~ x", pd.DataFrame({"y": ORD_Y, "x": ORD_X}))
    ref = OrderedModel(ORD_Y, ORD_X[:, None], distr="logit").fit(
        method="bfgs", disp=0, gtol=1e-10
    )
    b, z0, log_gap = np.asarray(ref.params)
    _close(res.beta, [b], rtol=1e-5)
    _close(res.zeta, [z0, z0 + np.exp(log_gap)], rtol=1e-5)
    assert float(res.fit.loglik) >= ref.llf - 1e-10
    golden("ordinal_summary.txt", _stable(res.summary()))


def test_multinomial_result(golden):
    import statsmodels.api as sm

    res = lx.mnlogit("y ~ x", pd.DataFrame({"y": MN_Y, "x": MN_X}))
    codes = pd.Categorical(MN_Y).codes
    ref = sm.MNLogit(codes, sm.add_constant(MN_X)).fit(method="newton", tol=1e-14,
                                                       disp=0)  # fmt: skip
    _close(res.coef, np.asarray(ref.params).T, rtol=1e-8)
    _close(res.fit.loglik, ref.llf, rtol=1e-12)
    golden("mnlogit_summary.txt", _stable(res.summary()))


# ----- EM: generic, ready-made mixture, missing values ------------------------------
def _complete(p, d):
    return jnp.log(p["w"]) + jst.poisson.logpmf(d["y"][:, None], p["rate"])


def _mstep(r, d, p):
    n_k = r.sum(0)
    return {"w": n_k / n_k.sum(), "rate": (r * d["y"][:, None]).sum(0) / n_k}


def _em_fit():
    return lx.em(_complete, {"w": jnp.array([0.5, 0.5]), "rate": jnp.array([1.0, 5.0])},
                 {"y": Y_MIX}, mstep=_mstep, name="Poisson mixture (generic EM)",
                 constraints={"w": lx.constraints.simplex,
                              "rate": lx.constraints.positive})  # fmt: skip


def _mixture_fit():
    init = {"weights": [0.5, 0.5], "rate": [1.0, 5.0]}
    return lx.poisson_mixture(Y_MIX, 2, init=init)


def test_em_result(golden):
    fit, ready = _em_fit(), _mixture_fit()
    # The generic EM and the ready-made mixture fit the same model.
    _close(fit.params["rate"], ready.params["rate"], rtol=1e-7)
    _close(fit.params["w"], ready.params["weights"], rtol=1e-7)
    _close(fit.se["rate"], ready.se["rate"], rtol=1e-5)
    _close(fit.loglik, ready.loglik, rtol=1e-12)
    w, rate = np.asarray(fit.params["w"]), np.asarray(fit.params["rate"])
    dens = w * np.exp(-rate) * rate ** Y_MIX[:, None] / np.array(
        [float(np.prod(np.arange(1, k + 1))) for k in Y_MIX]
    )[:, None]
    _close(fit.loglik, np.log(dens.sum(1)).sum(), rtol=1e-12)
    golden("em_poisson_mixture_summary.txt", _stable(fit.summary()))


def test_mixture_result(golden):
    golden("poisson_mixture_summary.txt", _stable(_mixture_fit().summary()))


def test_missing_result(golden):
    res = lx.mvn_missing(MVN_X)
    # Monotone bivariate data: Anderson's (1957) closed form.
    x1, x2 = MVN_X[:, 0], MVN_X[:, 1]
    seen = ~np.isnan(x2)
    b, a = np.polyfit(x1[seen], x2[seen], 1)
    m1, v1 = x1.mean(), x1.var()
    s22 = (x2[seen] - a - b * x1[seen]).var()
    _close(res.params["mean"], [m1, a + b * m1], rtol=1e-7)
    _close(res.params["cov"], [[v1, b * v1], [b * v1, s22 + b * b * v1]], rtol=1e-7)
    golden("mvn_missing_summary.txt", _stable(res.summary()))


# ----- fit_distribution and fit_map -------------------------------------------------
def test_distribution_result(golden):
    fit = lx.fit_distribution("normal", X_NORM)
    n, mu, sigma = X_NORM.size, X_NORM.mean(), X_NORM.std()
    _close(fit.params["mu"], mu, rtol=1e-12)
    _close(fit.params["sigma"], sigma, rtol=1e-10)
    _close(fit.se["mu"], sigma / np.sqrt(n), rtol=1e-8)
    _close(fit.se["sigma"], sigma / np.sqrt(2 * n), rtol=1e-8)
    golden("distribution_normal_summary.txt", _stable(fit.summary()))


def _normal_known_sd(p, d):
    return jst.norm.logpdf(d["y"], p["mu"], 1.0)


def test_map_result(golden):
    fit = lx.fit_map(_normal_known_sd, {"mu": 0.0}, {"y": X_NORM},
                     priors={"mu": lx.priors.Normal(0.0, 2.0)})  # fmt: skip
    # Normal mean, known sd 1, prior N(0, 2^2): mode sum(y) / (n + 1/4).
    prec = X_NORM.size + 1 / 4
    _close(fit.params["mu"], X_NORM.sum() / prec, rtol=1e-12)
    _close(fit.se["mu"], 1 / np.sqrt(prec), rtol=1e-8)
    golden("map_normal_summary.txt", _stable(fit.summary()))


@pytest.mark.parametrize("text, masked", [
    ("Iterations:                4 (5 evals)  Df residuals:   8",
     "Iterations: *  Df residuals:   8"),
    ("AIC:   1.5  EM iterations:                       5",
     "AIC:   1.5  EM iterations: *"),
    ("Status: success; 6 Newton iterations (exact marginal).",
     "Status: success; * Newton iterations (exact marginal)."),
    ("BIC:   2.5  max|grad|:     1.48e-15", "BIC:   2.5  max|grad|: *"),
])  # fmt: skip
def test_masks_only_the_volatile_entries(text, masked):
    assert _stable(text) == masked
