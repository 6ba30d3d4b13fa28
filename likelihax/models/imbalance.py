r"""Class imbalance: class weights, weighted logistic regression and focal loss.

What to use when
----------------
* :func:`weighted_logit` with ``class_weight=None``: plain logistic regression
  by maximum likelihood. Its probabilities are calibrated (the fitted rate
  equals the observed rate, see Notes); for a rare class choose the
  classification threshold from those probabilities rather than reweighting.
* :func:`weighted_logit` with ``class_weight="balanced"`` (or a dict): the
  class-weighted estimating equation, as scikit-learn's
  ``LogisticRegression(class_weight=...)``. It trades calibration for recall
  of the rare class at a threshold of 0.5; standard errors are sandwich
  standard errors (importance weights).
* :func:`focal_logit`: the focal loss of Lin et al. (2017), which
  down-weights well-classified observations; an M-estimator (not a
  likelihood), with sandwich standard errors.
* :func:`class_weights`: per-observation weights for any class labels, for
  use as ``weights=`` with ``weight_type="importance"`` in :func:`likelihax.fit`.
* :func:`focal_loss`: the elementwise focal loss of logits, as a JAX function.
* :func:`predict_proba`: fitted probabilities of a fit from this module.

All fits go through :func:`likelihax.fit`: the summary, covariance kinds and
diagnostics are the engine's.

Notes
-----
Every model here has the linear predictor :math:`\eta_i = x_i^\top\beta`
(:math:`x_i` starts with 1 for the intercept), :math:`p_i = \sigma(\eta_i)
= 1/(1 + e^{-\eta_i})` and a binary response :math:`y_i \in \{0, 1\}`.

**Logistic log-likelihood.** :math:`\ell_i = y_i\log p_i + (1-y_i)\log(1-p_i)`,
score :math:`\psi_i = (y_i - p_i)\,x_i`. The intercept's equation
:math:`\sum_i (y_i - \hat p_i) = 0` makes the mean fitted probability equal the
observed rate (calibration in the large).

**Class-weighted logistic.** With weight :math:`w_i = w_{y_i}` per class, the
estimate solves :math:`\sum_i w_i (y_i - p_i)\,x_i = 0`. This is not the score
of a likelihood, so the covariance is the sandwich
:math:`A^{-1}BA^{-1}` with :math:`A = \sum_i w_i p_i(1-p_i)x_i x_i^\top` and
:math:`B = \sum_i w_i^2 (y_i-p_i)^2 x_i x_i^\top` (the engine's
``weight_type="importance"``; it equals statsmodels'
``GLM(y, X, family=Binomial(), var_weights=w).fit(cov_type="HC0")``). When
the logistic model is correct, the weighted estimate converges to the
logistic model for the reweighted population: the slopes are unchanged and
the intercept moves by :math:`\log(w_1/w_0)`, so the probabilities are
inflated for the up-weighted class (Manski and Lerman, 1977; King and Zeng,
2001).

**Focal loss.** With :math:`s_i = (2y_i - 1)\eta_i`, the probability of the
observed class is :math:`p_{t,i} = \sigma(s_i)` and

.. math::

    \mathrm{FL}_i = -\alpha_{t,i}\,(1 - p_{t,i})^\gamma \log p_{t,i},
    \qquad \alpha_{t,i} = \alpha \text{ if } y_i = 1 \text{ else } 1 - \alpha,

(:math:`\alpha_t = 1` when ``alpha=None``), computed from the logit as
:math:`\alpha_t\exp(\gamma\log\sigma(-s))\,\log\sigma(s)` (log-sigmoid: no
:math:`\log 0` for any finite logit). The engine maximizes
:math:`\sum_i -\mathrm{FL}_i`; the estimating function is

.. math::

    \psi_i = -\frac{\partial \mathrm{FL}_i}{\partial\beta}
    = (2y_i - 1)\,\alpha_{t,i}\,(1-p_{t,i})^\gamma
      \bigl[(1 - p_{t,i}) - \gamma\, p_{t,i}\log p_{t,i}\bigr]\,x_i ,

and the covariance is the sandwich :math:`A^{-1}BA^{-1}` with
:math:`A = -\sum_i \partial\psi_i/\partial\beta^\top` and
:math:`B = \sum_i \psi_i\psi_i^\top` (times :math:`w_i` and :math:`w_i^2` with
importance weights). With :math:`\gamma = 0` and ``alpha=None``,
:math:`-\mathrm{FL}_i = \ell_i` and :math:`\psi_i = (y_i - p_i)x_i`: the focal
estimate *is* the logistic MLE (and its sandwich standard errors are the
HC0 ones). For :math:`\gamma > 0` observations with a large :math:`p_t`
(well classified) count less, which for a rare class behaves like up-weighting
it: probabilities are no longer calibrated.

References
----------
Lin, T.-Y., Goyal, P., Girshick, R., He, K. and Dollár, P. (2017). Focal loss
for dense object detection. *ICCV*, 2980-2988.

King, G. and Zeng, L. (2001). Logistic regression in rare events data.
*Political Analysis*, 9(2), 137-163.

Manski, C. F. and Lerman, S. R. (1977). The estimation of choice probabilities
from choice based samples. *Econometrica*, 45(8), 1977-1988.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..engine import Model
from ..results import FitResult, ModelInfo
from ._class_weights import (
    _minus_focal,
    class_weights,
    focal_loss,
)

__all__ = [
    "class_weights",
    "focal_logit",
    "focal_loss",
    "predict_proba",
    "weighted_logit",
]

INTERCEPT = "intercept"

# What the fits of this module are (``FitResult.model_info``): logistic models
# of a binary response, by likelihood (weighted or not) or by the focal loss.
_WEIGHTED_INFO = ModelInfo(kind="weighted_logit", family="binomial", link="logit")
_FOCAL_INFO = ModelInfo(kind="focal_logit", family="binomial", link="logit")


# ----- the objectives handed to the engine (module-level: one compile per shape) ---------
def _eta(params, data):
    # data["X"] holds the columns in sorted-name order (the intercept is a column
    # of ones), matching the coefficients gathered here; the summary shows them
    # in the order written (intercept first, then the columns).
    beta = jnp.stack([params[k] for k in sorted(params)])
    return data["X"] @ beta


def logit_loglik(params, data):
    """Logistic log-likelihood of each observation."""
    eta, y = _eta(params, data), data["y"]
    return y * jax.nn.log_sigmoid(eta) + (1.0 - y) * jax.nn.log_sigmoid(-eta)


def minus_focal_loss(params, data):
    """Minus the focal loss of each observation (an M-estimation objective)."""
    return _minus_focal(_eta(params, data), data["y"], data["a"], data["gamma"])


# ----- design ---------------------------------------------------------------------------
def _design(y, X, columns):
    """Validated (names, y, data) with X's columns in sorted-name order.

    ``names`` is ``["intercept", *columns]`` in the order written. New arrays
    are made; the caller's ``y`` and ``X`` are never modified.
    """
    frame_cols = None
    if hasattr(X, "columns") and type(X).__module__.startswith("pandas"):
        frame_cols = [str(c) for c in X.columns]
        kinds = {c: X[c].dtype.kind for c in X.columns}
        bad = [str(c) for c, k in kinds.items() if k not in "biuf"]
        if bad:
            raise TypeError(
                f"X has non-numeric column(s) {bad}; encode categories as dummy "
                "columns first."
            )
        Xa = X.to_numpy(dtype=np.float64)
    else:
        Xa = np.asarray(X)
        if Xa.dtype.kind not in "biuf":
            raise TypeError(f"X must be numeric; got dtype {Xa.dtype}.")
        Xa = Xa.astype(np.float64)  # a copy
    if Xa.ndim != 2:
        raise ValueError(
            f"X must be two-dimensional (n observations, p features); got shape "
            f"{Xa.shape}. For one feature pass X[:, None]."
        )
    n, p = Xa.shape
    names = _column_names(columns, frame_cols, p)
    yv = _binary_response(y, n)
    full = np.column_stack([np.ones(n), Xa])
    order = sorted(range(p + 1), key=lambda j: names[j])
    data = {"X": np.ascontiguousarray(full[:, order]), "y": yv}
    return names, yv, data


def _column_names(columns, frame_cols, p) -> list[str]:
    if columns is None:
        cols = frame_cols if frame_cols is not None else [f"x{j}" for j in range(p)]
    else:
        cols = [str(c) for c in columns]
        if len(cols) != p:
            raise ValueError(
                f"columns has {len(cols)} name(s) but X has {p} column(s); give one "
                "name per column."
            )
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise ValueError(f"Column names must be unique; repeated: {dup}.")
    if INTERCEPT in cols:
        raise ValueError(
            f"A column is named {INTERCEPT!r}, the name of the fitted intercept; "
            "drop the constant column (an intercept is always included) or rename it."
        )
    return [INTERCEPT, *cols]


def _binary_response(y, n) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(
            f"y must be one-dimensional with one value per row of X ({n}); got shape "
            f"{arr.shape}."
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"y must be numeric 0/1 (or boolean); got dtype {arr.dtype}. Encode the "
            "positive class as 1, e.g. y = (labels == 'yes')."
        )
    yv = arr.astype(np.float64)  # a copy
    nan = np.flatnonzero(np.isnan(yv))
    if nan.size:
        raise ValueError(
            f"y has {nan.size} missing value(s) (first rows: {nan[:5].tolist()}); "
            "drop those rows (from X too) before fitting."
        )
    bad = np.flatnonzero((yv != 0) & (yv != 1))
    if bad.size:
        raise ValueError(
            f"y must be 0 or 1; {bad.size} value(s) are not (first rows: "
            f"{bad[:5].tolist()}, values {arr[bad[:5]].tolist()})."
        )
    if yv.min() == yv.max():
        raise ValueError(
            f"y has only one class ({int(yv[0])}); a logistic fit needs both 0s and "
            "1s (with one class the estimate is infinite)."
        )
    return yv


def _start(names, yv, w) -> dict:
    """Intercept at the (weighted) log-odds of y, slopes at zero."""
    w = np.ones_like(yv) if w is None else w
    # clipped: weights may leave one class with zero total weight, which the
    # engine then reports (no finite estimate)
    rate = min(max(float(np.sum(w * yv) / max(np.sum(w), 1e-300)), 1e-8), 1 - 1e-8)
    return {k: (math.log(rate / (1 - rate)) if k == INTERCEPT else 0.0) for k in names}


def _check_no_clash(fit_kwargs, keys, func):
    clash = [k for k in keys if k in fit_kwargs]
    if clash:
        raise TypeError(
            f"{func}() sets {', '.join(clash)} itself; "
            + (
                "pass observation weights to focal_logit(weights=...) or to "
                "likelihax.fit directly."
                if func == "weighted_logit"
                else "use the keyword arguments of focal_logit."
            )
        )


# ----- fits -----------------------------------------------------------------------------
def weighted_logit(
    y, X, *, class_weight: str | Mapping | None = "balanced", columns=None, **fit_kwargs
) -> FitResult:
    r"""Logistic regression with class weights (importance weights, sandwich SEs).

    Solves :math:`\sum_i w_{y_i}(y_i - p_i)\,x_i = 0` through
    :func:`likelihax.fit` with ``weights=class_weights(y, class_weight)`` and
    ``weight_type="importance"``; the standard errors are the sandwich
    :math:`A^{-1}BA^{-1}` with :math:`B = \sum_i w_i^2 (y_i-p_i)^2 x_i x_i^\top`
    (see the module Notes). The point estimates equal scikit-learn's
    ``LogisticRegression(C=np.inf, class_weight=...)``.

    Parameters
    ----------
    y : array_like (n,)
        Binary response, 0 or 1 (or boolean).
    X : array_like (n, p) or pandas.DataFrame
        Features; an intercept is added (do not include a constant column).
    class_weight : "balanced", dict or None
        ``"balanced"`` (default): :math:`w_c = n / (2 n_c)`; a dict
        ``{0: w0, 1: w1}``; ``None``: no weights, the plain maximum-likelihood
        logistic regression (inverse-information standard errors).
    columns : list of str, optional
        Names of the columns of ``X`` (default: the DataFrame's column names, or
        ``x0, x1, ...``). The coefficients are labelled ``intercept`` and these.
    **fit_kwargs
        Passed to :func:`likelihax.fit` (``method``, ``cov``, ...).

    Returns
    -------
    FitResult
        Coefficients ``fit.params[name]``; the summary names the class weights.
        :func:`predict_proba` gives fitted probabilities. ``model_info``: kind
        ``"weighted_logit"``, family ``"binomial"``, link ``"logit"``, flag
        ``"class_weights"`` when weighted.

    Raises
    ------
    ValueError, TypeError
        ``y`` not binary or with one class only, shapes that do not match,
        bad class weights, non-numeric ``X``, a column named ``intercept``.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.imbalance import (class_weights, predict_proba,
    ...                                         weighted_logit)
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(400, 1))
    >>> y = (rng.random(400) < 1 / (1 + np.exp(2.5 - x[:, 0]))).astype(int)
    >>> fit = weighted_logit(y, x, columns=["x"])
    >>> fit.labels, fit.cov.kind
    (['intercept', 'x'], 'sandwich')
    >>> p = predict_proba(fit, x)
    >>> w = class_weights(y)
    >>> bool(np.isclose(np.sum(w * (y - p)), 0.0, atol=1e-8))  # weighted equation
    True
    """
    _check_no_clash(
        fit_kwargs, ("weights", "weight_type", "likelihood"), "weighted_logit"
    )
    names, yv, data = _design(y, X, columns)
    if class_weight is None:
        model = Model(logit_loglik, _start(names, yv, None), name="logit")
        fit = model.fit(data, **fit_kwargs)
        return fit.annotate(
            name="logit",
            header=[("Class weights", "none")],
        ).replace(model_info=_WEIGHTED_INFO)
    w = class_weights(yv.astype(np.int64), class_weight)
    model = Model(logit_loglik, _start(names, yv, w), name="logit")
    fit = model.fit(data, weights=w, weight_type="importance", **fit_kwargs)
    w0, w1 = float(w[yv == 0][0]), float(w[yv == 1][0])
    label = class_weight if isinstance(class_weight, str) else "given"
    return fit.annotate(
        name="class-weighted logit",
        header=[("Class weights", f"{w0:.4g} / {w1:.4g} (0/1)")],
        notes=[
            (
                f"Class weights ({label}): {w0:.6g} for y=0, {w1:.6g} for y=1. "
                "Class-weighted estimating equation sum_i w_i (y_i - p_i) x_i = 0: "
                "the probabilities are not calibrated (for a correct logistic model "
                f"the intercept moves by log(w1/w0) = {math.log(w1 / w0):.4g})."
            )
        ],
    ).replace(model_info=_WEIGHTED_INFO._replace(flags=("class_weights",)))


def focal_logit(
    y,
    X,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    columns=None,
    weights=None,
    **fit_kwargs,
) -> FitResult:
    r"""Binary logistic-link classifier fitted by minimizing the focal loss.

    An M-estimator (Lin et al., 2017): the engine maximizes
    :math:`\sum_i -w_i\,\mathrm{FL}_i(\beta)` (see :func:`focal_loss` and the
    module Notes for the estimating equation), as a
    ``likelihax.Model(..., likelihood=False)``: sandwich standard errors by
    default and no AIC/BIC. ``gamma=0, alpha=None`` gives the logistic MLE.

    Parameters
    ----------
    y : array_like (n,)
        Binary response, 0 or 1 (or boolean).
    X : array_like (n, p) or pandas.DataFrame
        Features; an intercept is added.
    gamma : float
        Focusing parameter :math:`\gamma \ge 0` (2 in Lin et al.).
    alpha : float in (0, 1), optional
        Weight of the positive class (:math:`1-\alpha` for the negative one);
        ``None``: no class weighting.
    columns : list of str, optional
        Names of the columns of ``X`` (as in :func:`weighted_logit`).
    weights : array_like (n,), optional
        Non-negative observation weights, passed to :func:`likelihax.fit` as
        importance weights (``weight_type`` may be given in ``fit_kwargs``).
    **fit_kwargs
        Passed to :func:`likelihax.fit`.

    Returns
    -------
    FitResult
        Coefficients labelled ``intercept`` and the column names; ``loglik`` is
        minus the total focal loss. ``model_info``: kind ``"focal_logit"``,
        family ``"binomial"``, link ``"logit"``.

    Raises
    ------
    ValueError, TypeError
        As :func:`weighted_logit`; ``gamma`` negative or not finite; ``alpha``
        outside (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.imbalance import focal_logit, focal_loss, predict_proba
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(400, 1))
    >>> y = (rng.random(400) < 1 / (1 + np.exp(2.5 - x[:, 0]))).astype(int)
    >>> fit = focal_logit(y, x, gamma=2.0, columns=["x"])
    >>> fit.cov.kind, bool(np.isnan(fit.aic))
    ('sandwich', True)
    >>> total = -focal_loss(predict_proba(fit, x, logit=True), y).sum()
    >>> bool(np.isclose(fit.loglik, total))
    True
    """
    _check_no_clash(fit_kwargs, ("likelihood",), "focal_logit")
    gamma = float(gamma)
    if not (math.isfinite(gamma) and gamma >= 0):
        raise ValueError(f"gamma must be a finite number >= 0; got {gamma}.")
    if alpha is not None:
        alpha = float(alpha)
        if not 0 < alpha < 1:
            raise ValueError(
                f"alpha must lie strictly between 0 and 1 (or be None); got {alpha}."
            )
    names, yv, data = _design(y, X, columns)
    data["a"] = (
        np.ones_like(yv) if alpha is None else np.where(yv == 1, alpha, 1 - alpha)
    )
    data["gamma"] = np.float64(gamma)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if w is not None and w.shape != yv.shape:
        raise ValueError(
            f"weights must have shape {yv.shape}, one per observation; got {w.shape}."
        )
    model = Model(
        minus_focal_loss, _start(names, yv, w), name="focal logit", likelihood=False
    )
    if w is not None:
        fit_kwargs.setdefault("weight_type", "importance")
        fit_kwargs["weights"] = w
    fit = model.fit(data, **fit_kwargs)
    a_text = "none" if alpha is None else f"{alpha:g} (y=1), {1 - alpha:g} (y=0)"
    return fit.annotate(
        name="focal logit",
        header=[("Focal gamma", f"{gamma:g}"), ("Focal alpha", a_text)],
        notes=[
            (
                "Objective: minus the focal loss, sum_i -alpha_t (1-p_t)^gamma "
                "log p_t (Lin et al. 2017); the objective shown is minus the total "
                "focal loss. Probabilities are not calibrated when gamma > 0 or "
                "alpha is set."
            )
        ],
    ).replace(model_info=_FOCAL_INFO)


def predict_proba(fit: FitResult, X, *, logit: bool = False) -> np.ndarray:
    r"""Fitted probabilities :math:`\sigma(x^\top\hat\beta)` of a fit from this module.

    Parameters
    ----------
    fit : FitResult
        From :func:`weighted_logit` or :func:`focal_logit`.
    X : array_like (m, p) or pandas.DataFrame
        Features in the columns the model was fitted with (a DataFrame is
        matched by column name).
    logit : bool
        Return the linear predictor :math:`x^\top\hat\beta` instead.

    Returns
    -------
    ndarray (m,)

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.imbalance import predict_proba, weighted_logit
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [2.5]])
    >>> y = np.array([0, 0, 1, 1, 1, 0])
    >>> fit = weighted_logit(y, x, class_weight=None)
    >>> bool(np.isclose(predict_proba(fit, x).mean(), y.mean()))  # calibrated
    True
    """
    labels = list(fit.labels)
    if not labels or labels[0] != INTERCEPT:
        raise ValueError(
            "predict_proba needs a fit from weighted_logit or focal_logit (its first "
            f"coefficient is {INTERCEPT!r}); this fit has {labels[:3]}."
        )
    cols = labels[1:]
    if hasattr(X, "columns") and type(X).__module__.startswith("pandas"):
        missing = [c for c in cols if c not in [str(k) for k in X.columns]]
        if missing:
            raise ValueError(f"X lacks the fitted column(s) {missing}.")
        Xa = np.column_stack([X[c].to_numpy(dtype=np.float64) for c in cols])
    else:
        Xa = np.asarray(X, dtype=np.float64)
        if Xa.ndim != 2 or Xa.shape[1] != len(cols):
            raise ValueError(
                f"X must have shape (m, {len(cols)}) (columns {cols}); got {Xa.shape}."
            )
    params: Any = fit.params
    beta = np.array([float(params[c]) for c in cols])
    eta = float(params[INTERCEPT]) + Xa @ beta
    if logit:
        return eta
    return np.exp(-np.logaddexp(0.0, -eta))
