"""Class weights, weighted logistic regression and focal loss against references.

References (all independent of likelihax):

* class weights: scikit-learn ``compute_class_weight`` / ``compute_sample_weight``
  (bit-for-bit equal);
* focal loss: a direct NumPy implementation of Lin et al. (2017) (value) and
  central finite differences of it (derivative);
* ``gamma=0``: statsmodels ``Logit`` (params; inverse-information SEs of the
  unweighted fit; ``cov_type="HC0"`` sandwich SEs of the focal fit);
* focal fit, ``gamma=2``: the NumPy estimating equation at the estimate, and
  the sandwich :math:`A^{-1}BA^{-1}` with :math:`\\psi_i` from the closed-form
  derivative of the NumPy focal loss and :math:`A` by central finite
  differences of :math:`\\sum_i w_i\\psi_i`;
* class-weighted logit: scikit-learn ``LogisticRegression(C=np.inf,
  class_weight=..., solver="newton-cholesky")`` (params) and statsmodels
  ``GLM(family=Binomial(), var_weights=w).fit(cov_type="HC0")`` (params and
  SEs: its HC0 meat is :math:`\\sum_i w_i^2 s_i s_i^\\top`, the importance-weight
  sandwich; ``freq_weights`` with HC0 is the frequency-weight sandwich,
  :math:`\\sum_i w_i s_i s_i^\\top`).
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from likelihax.models.imbalance import (
    class_weights,
    focal_logit,
    focal_loss,
    predict_proba,
    weighted_logit,
)

sm = pytest.importorskip("statsmodels.api")

ROOT = Path(__file__).resolve().parents[3]


# ----- NumPy references ------------------------------------------------------------------
def np_log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def np_focal(eta, y, gamma, alpha=None):
    """FL = -alpha_t (1 - p_t)^gamma log p_t, straight from the definition."""
    p = 1.0 / (1.0 + np.exp(-eta))
    p_t = np.where(y == 1, p, 1.0 - p)
    a_t = 1.0 if alpha is None else np.where(y == 1, alpha, 1.0 - alpha)
    return -a_t * (1.0 - p_t) ** gamma * np.log(p_t)


def np_dfocal_deta(eta, y, gamma, alpha=None):
    """Closed-form dFL/deta (see the module Notes), checked by finite differences."""
    s = (2 * y - 1) * eta
    q = np.exp(np_log_sigmoid(s))  # p_t
    log_q = np_log_sigmoid(s)
    a_t = 1.0 if alpha is None else np.where(y == 1, alpha, 1.0 - alpha)
    d_ds = a_t * (1 - q) ** gamma * (gamma * q * log_q - (1 - q))
    return (2 * y - 1) * d_ds


def np_sandwich(X1, y, beta, gamma, alpha=None, w=None, h=1e-5):
    """A^-1 B A^-1 for the focal estimating equation, A by central differences."""
    w = np.ones(len(y)) if w is None else w

    def psi(b):  # (n, k) per-observation estimating functions
        return -(w * np_dfocal_deta(X1 @ b, y, gamma, alpha))[:, None] * X1

    k = beta.size
    A = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        A[:, j] = -(psi(beta + e).sum(0) - psi(beta - e).sum(0)) / (2 * h)
    A = 0.5 * (A + A.T)
    S = psi(beta)
    Ainv = np.linalg.inv(A)
    return Ainv @ (S.T @ S) @ Ainv, S


def coef(fit, names):
    return np.array([float(fit.params[k]) for k in names])


def se(fit, names):
    return np.array([float(fit.se[k]) for k in names])


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.abs(b)))


NAMES = ["intercept", "x0", "x1", "x2"]


@pytest.fixture(scope="module")
def data(make_rng):
    rng = make_rng(31)
    n = 2000
    X = rng.normal(size=(n, 3))
    eta = -2.2 + X @ np.array([1.0, -0.6, 0.3])
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.int64)
    return X, y, sm.add_constant(X)


# ----- class weights ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "y",
    [
        np.array([0, 1, 1, 0, 0, 0, 0, 2, 2, 0]),
        np.array(["b", "a", "a", "c", "a"]),
        np.array([True, False, False, False]),
        np.array([3.5, 3.5, -1.0]),
    ],
)
def test_balanced_class_weights_equal_sklearn(y):
    pytest.importorskip("sklearn")  # test-only; belongs in the `test` extra
    from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

    got = class_weights(y, "balanced")
    np.testing.assert_array_equal(got, compute_sample_weight("balanced", y))
    classes = np.unique(y)
    per_class = compute_class_weight("balanced", classes=classes, y=y)
    for c, wc in zip(classes, per_class):
        np.testing.assert_array_equal(got[y == c], wc)
    # the balanced weights give every class the same total weight n / K
    totals = [got[y == c].sum() for c in classes]
    np.testing.assert_allclose(totals, y.size / classes.size, rtol=1e-14)


def test_dict_class_weights_equal_sklearn():
    pytest.importorskip("sklearn")
    from sklearn.utils.class_weight import compute_sample_weight

    y = np.array([0, 1, 1, 0, 0, 2])
    cw = {0: 0.5, 1: 3.0, 2: 1.25}
    np.testing.assert_array_equal(class_weights(y, cw), compute_sample_weight(cw, y))


@pytest.mark.parametrize(
    "y, kind, err, match",
    [
        ([0, 1, 1], {0: 1.0, 1: 2.0, 2: 1.0}, ValueError, r"class\(es\) \[2\] that do not occur"),
        ([0, 1, 2], {0: 1.0, 1: 2.0}, ValueError, r"no weight for class\(es\) \[2\]"),
        ([0, 1], {0: 0.0, 1: 2.0}, ValueError, "must be positive finite"),
        ([0, 1], {0: -1.0, 1: 2.0}, ValueError, "must be positive finite"),
        ([0, 1], {0: np.nan, 1: 2.0}, ValueError, "must be positive finite"),
        ([0, 1], {0: "heavy", 1: 2.0}, TypeError, "is not a number"),
        ([0, 1], "balance", ValueError, "Unknown class weighting 'balance'"),
        ([0, 1], 3.0, TypeError, "'balanced' or a dict"),
        ([[0, 1], [1, 0]], "balanced", ValueError, "one-dimensional"),
        ([], "balanced", ValueError, "y is empty"),
        ([0.0, np.nan, 1.0], "balanced", ValueError, r"missing value\(s\) \(first rows: \[1\]"),
    ],
)  # fmt: skip
def test_class_weight_errors(y, kind, err, match):
    with pytest.raises(err, match=match):
        class_weights(np.array(y), kind)


# ----- focal loss: value and derivative ------------------------------------------------
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 5.0])
@pytest.mark.parametrize("alpha", [None, 0.25])
def test_focal_loss_value_and_gradient(gamma, alpha, rng):
    eta = rng.uniform(-8, 8, size=200)
    y = rng.integers(0, 2, size=200)
    got = focal_loss(eta, y, gamma=gamma, alpha=alpha)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    # (the direct formula itself loses ~1e-12 in 1 - p_t for large |eta|)
    np.testing.assert_allclose(got, np_focal(eta, y, gamma, alpha), rtol=1e-10)
    # derivative: JAX autodiff, the closed form, and central differences of NumPy
    with jax.enable_x64(True):
        grad = jax.grad(
            lambda e: jnp.sum(focal_loss(e, jnp.asarray(y), gamma=gamma, alpha=alpha))
        )(jnp.asarray(eta))
    h = 1e-6
    fd = (np_focal(eta + h, y, gamma, alpha) - np_focal(eta - h, y, gamma, alpha)) / (
        2 * h
    )
    closed = np_dfocal_deta(eta, y, gamma, alpha)
    np.testing.assert_allclose(closed, fd, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(np.asarray(grad), closed, rtol=1e-12, atol=1e-15)


def test_focal_loss_is_stable_for_extreme_logits():
    eta = np.array([-800.0, -50.0, 50.0, 800.0])
    y = np.ones(4)
    loss = focal_loss(eta, y, gamma=2.0, alpha=0.25)
    # y = 1: -0.25 (1 - p)^2 log p; for eta -> -inf it tends to 0.25 * |eta|,
    # for eta -> +inf to 0.25 e^{-3 eta}
    np.testing.assert_allclose(loss[:2], 0.25 * np.array([800.0, 50.0]), rtol=1e-15)
    np.testing.assert_allclose(loss[2], 0.25 * np.exp(-150.0), rtol=1e-12)
    assert loss[3] == 0.0
    with jax.enable_x64(True):
        g = jax.grad(lambda e: jnp.sum(focal_loss(e, jnp.ones(4), gamma=2.0)))(
            jnp.asarray(eta)
        )
    assert np.all(np.isfinite(np.asarray(g)))
    np.testing.assert_allclose(np.asarray(g)[:2], -1.0, rtol=1e-12)


# ----- gamma = 0 is logistic regression ------------------------------------------------
def test_focal_gamma0_is_logit_with_hc0_sandwich(data):
    X, y, X1 = data
    fit = focal_logit(y, X, gamma=0.0)
    assert fit.converged and fit.cov.kind == "sandwich" and not fit.is_likelihood
    ref = sm.Logit(y, X1).fit(disp=0, method="newton", tol=1e-12, cov_type="HC0")
    assert rel(coef(fit, NAMES), ref.params) < 1e-8
    assert rel(se(fit, NAMES), ref.bse) < 1e-6
    # the objective is the logistic log-likelihood
    np.testing.assert_allclose(fit.loglik, ref.llf, rtol=1e-10)


def test_unweighted_logit_equals_statsmodels(data):
    X, y, X1 = data
    fit = weighted_logit(y, X, class_weight=None)
    assert fit.cov.kind == "oim" and fit.is_likelihood
    ref = sm.Logit(y, X1).fit(disp=0, method="newton", tol=1e-12)
    assert rel(coef(fit, NAMES), ref.params) < 1e-8
    assert rel(se(fit, NAMES), ref.bse) < 1e-6
    np.testing.assert_allclose(fit.loglik, ref.llf, rtol=1e-10)


# ----- focal loss, gamma = 2: estimate and sandwich against NumPy -----------------------
@pytest.mark.parametrize("alpha, weighted", [(None, False), (0.25, True)])
def test_focal_sandwich_equals_numpy(data, alpha, weighted, make_rng):
    X, y, X1 = data
    w = make_rng(5).uniform(0.2, 3.0, size=y.size) if weighted else None
    fit = focal_logit(y, X, gamma=2.0, alpha=alpha, weights=w)
    assert fit.converged and fit.cov.kind == "sandwich"
    beta = coef(fit, NAMES)
    V, S = np_sandwich(X1, y, beta, 2.0, alpha, w)
    # the estimate solves the NumPy estimating equation sum_i w_i psi_i = 0
    assert np.max(np.abs(S.sum(0))) < 1e-9 * np.abs(S).sum(0).max()
    assert rel(se(fit, NAMES), np.sqrt(np.diag(V))) < 1e-6
    assert rel(np.asarray(fit.cov.matrix), V) < 1e-5
    # the objective is minus the total (weighted) focal loss
    ww = 1.0 if w is None else w
    np.testing.assert_allclose(
        fit.loglik, -np.sum(ww * np_focal(X1 @ beta, y, 2.0, alpha)), rtol=1e-12
    )
    assert np.isnan(fit.aic) and np.isnan(fit.bic)


# ----- class-weighted logit against scikit-learn and statsmodels ------------------------
@pytest.mark.parametrize("cw", ["balanced", {0: 1.0, 1: 4.0}])
def test_weighted_logit_equals_sklearn_and_statsmodels(data, cw):
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    X, y, X1 = data
    fit = weighted_logit(y, X, class_weight=cw)
    assert fit.converged and fit.cov.kind == "sandwich"
    b = coef(fit, NAMES)
    # C=inf: no penalty (penalty=None is deprecated in scikit-learn 1.8). The
    # newton-cholesky solver agrees to ~1e-15; lbfgs (tol=1e-12) to ~1e-9 here,
    # asserted at 1e-6 since its stopping rule is on the gradient only.
    for solver, rtol in [("newton-cholesky", 1e-8), ("lbfgs", 1e-6)]:
        sk = LogisticRegression(
            C=np.inf, class_weight=cw, solver=solver, tol=1e-12, max_iter=10_000
        ).fit(X, y)
        assert rel(b, np.r_[sk.intercept_, sk.coef_[0]]) < rtol, solver
    # statsmodels: var_weights + HC0 is the importance-weight sandwich (w_i^2 meat)
    w = class_weights(y, cw)
    ref = sm.GLM(y, X1, family=sm.families.Binomial(), var_weights=w).fit(
        tol=1e-12, cov_type="HC0"
    )
    assert rel(b, ref.params) < 1e-8
    assert rel(se(fit, NAMES), ref.bse) < 1e-6
    # and an independent NumPy sandwich (gamma=0 focal equation = weighted logit)
    V, _ = np_sandwich(X1, y, b, 0.0, None, w)
    assert rel(se(fit, NAMES), np.sqrt(np.diag(V))) < 1e-6
    assert fit.nobs == y.size


def test_statsmodels_weight_options_and_the_two_weight_types(data):
    """The correspondence, with HC0: statsmodels ``var_weights`` is our
    ``weight_type="importance"`` (meat sum w_i^2 s_i s_i'), ``freq_weights`` is
    ``weight_type="frequency"`` (meat sum w_i s_i s_i'). Same point estimates."""
    X, y, X1 = data
    w = class_weights(y)
    fam = sm.families.Binomial()
    var = sm.GLM(y, X1, family=fam, var_weights=w).fit(tol=1e-12, cov_type="HC0")
    freq = sm.GLM(y, X1, family=fam, freq_weights=w).fit(tol=1e-12, cov_type="HC0")
    np.testing.assert_allclose(var.params, freq.params, rtol=1e-8)
    assert rel(freq.bse, var.bse) > 0.05  # the two sandwiches differ
    # gamma=0 focal = weighted logit; frequency weights with a sandwich covariance
    fit = focal_logit(
        y, X, gamma=0.0, weights=w, weight_type="frequency", cov="sandwich"
    )
    assert rel(coef(fit, NAMES), freq.params) < 1e-8
    assert rel(se(fit, NAMES), freq.bse) < 1e-6


# ----- interface -------------------------------------------------------------------------
def test_dataframe_columns_label_coefficients_and_inputs_are_not_modified(data):
    pd = pytest.importorskip("pandas")
    X, y, _ = data
    df = pd.DataFrame(X, columns=["age", "dose", "Zeta"])
    df_before, y_before = df.copy(), y.copy()
    fit = focal_logit(pd.Series(y), df, gamma=2.0)
    assert fit.labels == ["intercept", "age", "dose", "Zeta"]
    pd.testing.assert_frame_equal(df, df_before)
    np.testing.assert_array_equal(y, y_before)
    # same numbers as plain arrays named x0, x1, x2 (whose sort order differs:
    # "Zeta" < "age" < "dose")
    fit2 = focal_logit(y, X, gamma=2.0)
    np.testing.assert_allclose(
        coef(fit, ["intercept", "age", "dose", "Zeta"]), coef(fit2, NAMES), rtol=1e-10
    )
    # predict_proba matches a DataFrame by column name, whatever its order
    p1 = predict_proba(fit, df[["Zeta", "age", "dose"]])
    p2 = predict_proba(fit2, X)
    np.testing.assert_allclose(p1, p2, rtol=1e-9)
    text = str(fit.summary())
    assert "Focal gamma" in text and "focal logit" in text and not fit.is_likelihood


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda X, y: weighted_logit(y * 2, X), ValueError, "y must be 0 or 1"),
        (lambda X, y: weighted_logit(np.zeros_like(y), X), ValueError, "only one class"),
        (lambda X, y: weighted_logit(np.where(y == 1, np.nan, 0.0), X), ValueError,
         "missing value"),
        (lambda X, y: weighted_logit(y.astype(str), X), TypeError, "numeric 0/1"),
        (lambda X, y: weighted_logit(y[:-1], X), ValueError, "one value per row of X"),
        (lambda X, y: weighted_logit(y, X[:, 0]), ValueError, r"X\[:, None\]"),
        (lambda X, y: weighted_logit(y, X, columns=["a"]), ValueError, "1 name"),
        (lambda X, y: weighted_logit(y, X, columns=["a", "a", "b"]), ValueError, "repeated"),
        (lambda X, y: weighted_logit(y, X, columns=["intercept", "a", "b"]), ValueError,
         "always included"),
        (lambda X, y: weighted_logit(y, X, weights=np.ones(y.size)), TypeError,
         "sets weights"),
        (lambda X, y: weighted_logit(y, X, class_weight={0: 1.0, 1: -2.0}), ValueError,
         "positive finite"),
        (lambda X, y: focal_logit(y, X, gamma=-1.0), ValueError, "gamma must be"),
        (lambda X, y: focal_logit(y, X, alpha=1.0), ValueError, "strictly between 0 and 1"),
        (lambda X, y: focal_logit(y, X, weights=np.ones(3)), ValueError, "one per observation"),
    ],
)  # fmt: skip
def test_bad_input_errors(data, call, err, match):
    X, y, _ = data
    with pytest.raises(err, match=match):
        call(X, y)


# ----- the worked example ----------------------------------------------------------------
def _recall_precision(p, y):
    pred = p >= 0.5
    tp = np.sum(pred & (y == 1))
    return tp / np.sum(y == 1), tp / max(np.sum(pred), 1)


def test_imbalanced_example_runs_and_its_claims_hold(capsys):
    # Run in this process (runpy), so the refits below reuse its compiled programs.
    ns = runpy.run_path(str(ROOT / "examples" / "imbalanced.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert out.count("Converged:") == 3
    for head in ("plain logistic MLE", "class-weighted", "focal loss"):
        assert head in out
    assert out.count("Reliability table") == 3

    # Recompute the numbers behind the printed claims from the same data.
    X, y = ns["make_data"]()
    cols = ns["COLUMNS"]
    plain = weighted_logit(y, X, class_weight=None, columns=cols)
    wfit = weighted_logit(y, X, class_weight="balanced", columns=cols)
    p_plain, p_w = predict_proba(plain, X), predict_proba(wfit, X)
    r_plain, _ = _recall_precision(p_plain, y)
    r_w, _ = _recall_precision(p_w, y)
    assert r_w > r_plain
    # plain MLE is calibrated in the large: mean fitted = observed rate (score
    # equation), well within a few binomial SE of the observed rate
    se_rate = np.sqrt(y.mean() * (1 - y.mean()) / y.size)
    assert abs(p_plain.mean() - y.mean()) < 3 * se_rate
    # weighting inflates the probabilities far beyond the observed rate ...
    assert p_w.mean() > y.mean() + 10 * se_rate
    # ... by shifting the intercept by about log(w1/w0) (a correct logistic
    # model: the weighted fit targets the same slopes, intercept + log(w1/w0))
    w = class_weights(y)
    shift = np.log(w[y == 1][0] / w[y == 0][0])
    d_int = float(wfit.params["intercept"] - plain.params["intercept"])
    assert abs(d_int - shift) < 2 * float(wfit.se["intercept"])
    for k in cols:
        assert abs(float(wfit.params[k] - plain.params[k])) < 2 * float(wfit.se[k])
    # the printed recalls are the recomputed ones
    printed = re.findall(r"recall \(y=1, p >= 0\.5\):\s+([\d.]+)", out)
    assert len(printed) == 3
    np.testing.assert_allclose(
        [float(v) for v in printed[:2]], [r_plain, r_w], atol=6e-4
    )


def test_fits_say_what_they_are(data):
    """model_info on every fit of the module; the results are FitResults,
    accepted by the inference functions as they are."""
    import likelihax as lx

    X, y, _ = data
    plain = weighted_logit(y, X, class_weight=None)
    weighted = weighted_logit(y, X)
    focal = focal_logit(y, X, gamma=2.0)
    for fit, kind, flags in ((plain, "weighted_logit", ()),
                             (weighted, "weighted_logit", ("class_weights",)),
                             (focal, "focal_logit", ())):  # fmt: skip
        info = fit.model_info
        assert (info.kind, info.family, info.link, info.flags) == (
            kind, "binomial", "logit", flags)  # fmt: skip
        w = lx.wald_test(fit, "x0 = 0")
        z = fit.params["x0"] / fit.se["x0"]
        assert w.statistic == pytest.approx(float(z) ** 2, rel=1e-10)
