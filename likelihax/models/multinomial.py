r"""Multinomial logit regression (baseline-category logit), through the one engine.

:func:`mnlogit` fits a response with :math:`K` unordered categories,

.. math::

    P(Y_i = k \mid x_i) = \frac{\exp(x_i^\top \beta_k)}
                              {\sum_{j=1}^{K} \exp(x_i^\top \beta_j)},
    \qquad \beta_{\text{base}} = 0,

as statsmodels ``MNLogit`` and R ``nnet::multinom`` (base: the first level).
Each coefficient is labelled ``"<response>=<category>.<column>"``: the change in
the log-odds of that category against the base category per unit of the column.

The log-likelihood is the log-softmax of the linear predictors, handed to
:func:`likelihax.fit` with a ``fisher`` function (linear predictors
:math:`\eta_i\in\mathbb R^{K-1}` and information
:math:`c_i = \operatorname{diag}(p_i) - p_i p_i^\top` over the non-base
categories) so ``method="fisher"`` and ``cov="eim"`` work; for this canonical
link the expected and observed information coincide.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..engine import Model
from ..results import FitResult, ModelInfo, ModelResult
from ._design import Design, check_rank, design, from_arrays, model_matrix
from ._predictor import mnlogit_predictor

__all__ = ["MultinomialFit", "mnlogit"]


# ----- shared input handling (also used by ordinal.py) ------------------------------
def _level_name(v) -> str:
    """Readable level label: 1.0 -> "1", "a" -> "a"."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _is_missing(y) -> np.ndarray:
    """Missing entries of a response (NaN, None, pandas NA)."""
    arr = np.asarray(y, dtype=object).ravel()
    return np.array(
        [v is None
         or (isinstance(v, (float, np.floating)) and math.isnan(v))
         or type(v).__name__ in ("NAType", "NaTType")
         for v in arr], dtype=bool,
    ).reshape(-1)  # fmt: skip


def _prepare(formula_or_y, data_or_X, *, weights, missing, columns, what) -> Design:
    """A Design (rows with missing values handled) with weights in ``extra``."""
    if missing not in ("raise", "drop"):
        raise ValueError(f"missing must be 'raise' or 'drop'; got {missing!r}.")
    if isinstance(formula_or_y, str):
        if columns is not None:
            raise ValueError("`columns` is for arrays; a formula names its columns.")
        return design(
            formula_or_y, data_or_X, missing=missing, extra={"weights": weights}
        )
    if data_or_X is None:
        raise TypeError(f"{what}(y, X): the model matrix X is missing.")
    y, X = formula_or_y, data_or_X
    response = str(getattr(y, "name", None) or "y")
    if columns is None and hasattr(X, "columns"):
        columns = [str(c) for c in X.columns]
    if not _is_categorical(y):
        y = np.array(y.to_numpy() if hasattr(y, "to_numpy") else y)  # a copy
    try:
        Xa = np.array(X, dtype=np.float64)  # a copy: the caller's X is untouched
    except (TypeError, ValueError) as e:
        raise TypeError(f"X must be a numeric matrix: {e}") from None
    if isinstance(weights, str):
        raise TypeError(
            f"weights={weights!r} names a column, which needs a formula and a "
            "DataFrame; with arrays give the weights as an array."
        )
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    Xa = Xa[:, None] if Xa.ndim == 1 else Xa
    if np.ndim(y) != 1 or Xa.ndim != 2 or len(y) != Xa.shape[0]:
        raise ValueError(
            f"y must be one value per row of X: got y of shape {np.shape(y)} and X "
            f"of shape {Xa.shape}."
        )
    if w is not None and w.shape != (len(y),):
        raise ValueError(
            f"weights must be one value per row ({len(y)}); got shape {w.shape}."
        )
    names = columns or [f"x{j}" for j in range(Xa.shape[1])]
    parts = [("y", _is_missing(y))]
    parts += [
        (f"X column {names[j]!r}", np.isnan(Xa[:, j])) for j in range(Xa.shape[1])
    ]
    parts += [] if w is None else [("weights", np.isnan(w))]
    miss = np.any([m for _, m in parts], axis=0)
    keep = np.flatnonzero(~miss)
    if miss.any():
        if missing == "raise":
            rows = np.flatnonzero(miss)
            where = "; ".join(f"{n}: {int(m.sum())}" for n, m in parts if m.any())
            raise ValueError(
                f"{rows.size} of {miss.size} rows have missing values (NaN/None) "
                f"({where}); first rows {rows[:5].tolist()}. Remove or impute "
                "them, or pass missing='drop' to drop those rows."
            )
        y = y[keep]
        Xa = Xa[keep]
        w = None if w is None else w[keep]
    d = from_arrays(y, Xa, columns)
    extra = {} if w is None else {"weights": np.array(w)}
    return dataclasses.replace(
        d, response=response, rows=keep, n_dropped=int(miss.sum()), extra=extra
    )


def _is_categorical(y) -> bool:
    return type(y).__name__ == "Categorical" and hasattr(y, "categories")


def _codes(y, levels, response: str, ordered_hint: bool):
    """Levels (tuple) and integer codes of the response.

    ``levels`` given: its order; else a pandas categorical's order (ordered
    categoricals, or any categorical when ``ordered_hint`` is False), else
    the sorted distinct values.
    """
    if _is_categorical(y):
        cats = list(y.categories)
        vals = np.asarray(y.astype(object))
        use_cat_order = levels is None and (y.ordered or not ordered_hint)
    else:
        vals = np.asarray(y)
        cats = None
        use_cat_order = False
    if vals.dtype.kind == "f" and np.isinf(vals).any():
        raise ValueError(f"The response {response!r} has infinite values.")
    if levels is not None:
        levels = list(levels)
        if len(set(map(_level_name, levels))) != len(levels):
            raise ValueError(f"`levels` has repeated entries: {levels}.")
    elif use_cat_order:
        levels = cats
    else:
        try:
            levels = sorted(set(vals.tolist()))
        except TypeError as e:
            raise TypeError(
                f"The values of {response!r} cannot be sorted ({e}); give `levels`."
            ) from None
    index = {_level_name(v): j for j, v in enumerate(levels)}
    names = [_level_name(v) for v in vals.tolist()]
    unknown = sorted({n for n in names if n not in index})
    if unknown:
        raise ValueError(
            f"The response {response!r} has value(s) {unknown[:5]} that are not in "
            f"the levels {[_level_name(v) for v in levels]}; add them to `levels` "
            "or remove those rows."
        )
    codes = np.array([index[n] for n in names], dtype=np.int64)
    return tuple(levels), codes


def _check_levels(levels, codes, weights, response: str):
    """At least two levels, each with observations (positive weight)."""
    if len(levels) < 2:
        raise ValueError(
            f"The response {response!r} has {len(levels)} category "
            f"({[_level_name(v) for v in levels]}); a multinomial or ordinal model "
            "needs at least 2."
        )
    w = np.ones(codes.shape) if weights is None else np.asarray(weights)
    counts = np.bincount(codes, weights=w, minlength=len(levels))
    empty = [_level_name(levels[j]) for j in np.flatnonzero(counts <= 0)]
    if empty:
        raise ValueError(
            f"Level(s) {empty} of the response {response!r} have no observations; "
            "their probabilities would be estimated as 0 (coefficients at "
            "infinity). Remove them from `levels` (for a pandas categorical: "
            "y.cat.remove_unused_categories())."
        )
    return counts


def _one_hot(codes, k) -> np.ndarray:
    return np.eye(k, dtype=np.float64)[codes]


# ----- the model ------------------------------------------------------------------------
def _coef_matrix(p):
    """(K-1, P) coefficients from the nested parameter dict, in JAX's leaf order."""
    leaves = jax.tree_util.tree_leaves(p)
    k = len(p)
    return jnp.stack(leaves).reshape(k, len(leaves) // k)


def _logits(p, d):
    eta = d["X"] @ _coef_matrix(p).T  # (n, K-1), non-base categories
    return jnp.concatenate([jnp.zeros_like(eta[:, :1]), eta], axis=1), eta


def mnlogit_loglik(p, d):
    """Per-observation log-likelihood: the log-softmax at the observed category."""
    logits, _ = _logits(p, d)
    return jnp.sum(d["Y"] * jax.nn.log_softmax(logits, axis=1), axis=1)


def mnlogit_fisher(p, d):
    r"""Linear predictors (n, K-1) and :math:`\operatorname{diag}(p)-pp^\top`."""
    logits, eta = _logits(p, d)
    prob = jax.nn.softmax(logits, axis=1)[:, 1:]
    c = jax.vmap(jnp.diag)(prob) - prob[:, :, None] * prob[:, None, :]
    return eta, c


def _key_order(params) -> tuple[list[str], list[str]]:
    """Category keys and column keys in the order JAX flattens ``params``."""
    flat, _ = jax.tree_util.tree_flatten_with_path(params)
    cats, cols = [], []
    for path, _ in flat:
        c, x = path[0].key, path[1].key
        if c not in cats:
            cats.append(c)
        if x not in cols:
            cols.append(x)
    return cats, cols


@dataclasses.dataclass(frozen=True)
class MultinomialFit(ModelResult):
    """Result of :func:`mnlogit`: the engine's :class:`~likelihax.FitResult` and
    what is needed to read it.

    Attributes
    ----------
    fit : FitResult
        Estimates, standard errors, covariance, log-likelihood, summary;
        accepted, as this result, by every inference function.
    model_info : ModelInfo
        Kind ``"multinomial"``, family ``"multinomial"``, link ``"logit"``
        (``fit.model_info``).
    levels : tuple
        Response categories, in order (``predict_proba`` columns).
    base : object
        The base category (coefficients fixed at 0).
    columns : tuple of str
        Design columns.
    design : Design
        Response, model matrix and kept rows.
    """

    fit: FitResult
    levels: tuple
    base: Any
    columns: tuple
    design: Design
    _keys: tuple  # non-base category keys, in level order
    _x_order: tuple  # design columns in JAX's leaf order

    @property
    def coef(self) -> np.ndarray:
        """Coefficients (K-1, p): rows the non-base levels in order, columns ``columns``."""
        return self._table(self.fit.params)

    @property
    def coef_se(self) -> np.ndarray:
        """Standard errors, shaped like :attr:`coef`."""
        return self._table(self.fit.se)

    def _table(self, tree) -> np.ndarray:
        return np.array([[float(tree[k][c]) for c in self.columns] for k in self._keys])

    predictor = mnlogit_predictor  # the protocol of lx.predict and lx.slopes

    def predict_proba(self, newdata: Any = None) -> np.ndarray:
        """Category probabilities (m, K), columns in the order of :attr:`levels`.

        ``newdata``: a DataFrame/dict for formula fits, a matrix for array fits;
        default the rows of the fit.
        """
        X = self.design.X if newdata is None else model_matrix(self.design, newdata)
        B = np.zeros((len(self.levels), X.shape[1]))
        base_j = [_level_name(v) for v in self.levels].index(_level_name(self.base))
        others = [j for j in range(len(self.levels)) if j != base_j]
        B[others] = self.coef
        eta = X @ B.T
        eta -= eta.max(axis=1, keepdims=True)
        e = np.exp(eta)
        return e / e.sum(axis=1, keepdims=True)

    def __repr__(self) -> str:
        return (
            f"MultinomialFit({self.design.response}: {len(self.levels)} categories, "
            f"base {_level_name(self.base)!r}, loglik={self.loglik:.6g})"
        )


def mnlogit(
    formula_or_y,
    data_or_X=None,
    *,
    base=None,
    weights=None,
    missing: str = "raise",
    columns=None,
    **fit_kwargs,
) -> MultinomialFit:
    r"""Multinomial logit regression by maximum likelihood.

    Parameters
    ----------
    formula_or_y : str or array_like
        A formula ``"y ~ x1 + C(g)"`` (formulaic; intercept included unless
        removed), or the response: numbers, strings or a pandas Categorical
        with at least 2 distinct values.
    data_or_X : DataFrame, dict or array_like
        The data for a formula, or the model matrix ``X`` (n, p) (add the
        constant column yourself, as in statsmodels).
    base : optional
        The base (reference) category; default the first level (sorted values,
        or a categorical's category order), as statsmodels and ``nnet``.
    weights : array_like or str, optional
        Frequency weights (a column name with a formula); see
        :func:`likelihax.fit` (``weight_type`` passes through).
    missing : {"raise", "drop"}
        Rows with missing values: an error (default) or dropped.
    columns : list of str, optional
        Names of the columns of ``X`` (arrays only; a DataFrame's are used).
    **fit_kwargs
        Passed to :func:`likelihax.fit` (``method="fisher"``, ``cov``, ...).

    Returns
    -------
    MultinomialFit
        ``.fit`` is the :class:`~likelihax.FitResult` (parameters
        ``fit.params["<response>=<category>"]["<column>"]``); ``.coef``
        (K-1, p), ``.predict_proba(newdata)``.

    Raises
    ------
    ValueError
        Fewer than 2 categories, a category without observations, an unknown
        ``base``, missing or non-finite values (naming the column), collinear
        columns.

    Notes
    -----
    Per-observation log-likelihood
    :math:`\ell_i = \eta_{i,y_i} - \log\sum_k e^{\eta_{ik}}` with
    :math:`\eta_{ik} = x_i^\top\beta_k` and :math:`\beta_{\text{base}} = 0`.
    Newton from zero (the log-likelihood is concave); standard errors from the
    inverse observed information, which equals the expected information here.

    References
    ----------
    Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., section 8.1.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.multinomial import mnlogit
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=60)
    >>> y = np.where(x + rng.logistic(size=60) > 0.5, "c", rng.choice(["a", "b"], 60))
    >>> res = mnlogit(y, np.column_stack([np.ones(60), x]), columns=["const", "x"])
    >>> res.fit.labels[:2]
    ['y=b.const', 'y=b.x']
    >>> res.predict_proba().shape, bool(np.allclose(res.predict_proba().sum(1), 1))
    ((60, 3), True)
    """
    d = _prepare(formula_or_y, data_or_X, weights=weights, missing=missing,
                 columns=columns, what="mnlogit")  # fmt: skip
    w = d.extra.get("weights")
    levels, codes = _codes(d.y, None, d.response, ordered_hint=False)
    _check_levels(levels, codes, w, d.response)
    names = [_level_name(v) for v in levels]
    base_name = names[0] if base is None else _level_name(base)
    if base_name not in names:
        raise ValueError(
            f"base={base!r} is not a category of {d.response!r}; categories: {names}."
        )
    check_rank(d.X, d.columns)
    if len(set(d.columns)) != len(d.columns):
        raise ValueError(f"Column names must be distinct; got {d.columns}.")
    base_j = names.index(base_name)
    keys = [f"{d.response}={n}" for j, n in enumerate(names) if j != base_j]
    params = {k: {c: 0.0 for c in d.columns} for k in keys}
    cat_order, col_order = _key_order(params)
    # Y's first column is the base; the others follow the parameter leaf order.
    key_to_level = {f"{d.response}={n}": j for j, n in enumerate(names)}
    perm_y = [base_j] + [key_to_level[k] for k in cat_order]
    perm_x = [d.columns.index(c) for c in col_order]
    data = {"X": d.X[:, perm_x], "Y": _one_hot(codes, len(levels))[:, perm_y]}
    model = Model(mnlogit_loglik, params, name="Multinomial logit",
                  fisher=mnlogit_fisher)  # fmt: skip
    if w is not None:
        fit_kwargs["weights"] = w
    res = model.fit(data, **fit_kwargs)
    header = [
        ("Response", d.response),
        ("Categories", f"{len(levels)} ({', '.join(names)})"),
        ("Base category", base_name),
    ]
    if d.n_dropped:
        header.append(("Rows dropped", f"{d.n_dropped} (missing values)"))
    note = f"'{d.response}=k.x': change in log[P(k) / P({base_name})] per unit of x."
    res = res.annotate("Multinomial logit", header, [note]).replace(
        model_info=ModelInfo(kind="multinomial", family="multinomial", link="logit")
    )
    return MultinomialFit(
        res, levels, levels[base_j], tuple(d.columns), d, tuple(keys), tuple(col_order)
    )
