r"""Ordinal regression with cumulative links (proportional odds), through the one engine.

:func:`ordinal` fits a response with ordered levels :math:`1 < \dots < K`,
parametrized as R ``MASS::polr``:

.. math::

    P(Y_i \le k \mid x_i) = F(\zeta_k - x_i^\top\beta), \qquad
    \zeta_1 < \dots < \zeta_{K-1},

with :math:`F` the logistic (``link="logit"``, proportional odds), standard
normal (``"probit"``) or :math:`1 - \exp(-e^{t})` (``"cloglog"``, R's
``method = "cloglog"``) distribution function. There is no intercept: the
cut-points :math:`\zeta` take its place (a formula's intercept is dropped, as
``polr`` does). A positive :math:`\beta_j` moves the response towards the high
levels. The cut-points are one parameter ``zeta`` with the ``ordered``
constraint; ``zeta[k]`` (0-based) is the boundary between levels ``k`` and
``k + 1``, which ``polr`` labels ``"1|2"``, ``"2|3"``, ...

statsmodels ``OrderedModel`` has the same model with its thresholds written as
the first cut-point and the logs of the increments (its ``exog`` coefficients
are :math:`\beta`).

Each term :math:`\log\{F(\zeta_{y}-x^\top\beta) - F(\zeta_{y-1}-x^\top\beta)\}`
is computed from the lower tails when the interval lies below the median and
from the upper tails otherwise, so probabilities far in a tail keep their
precision. A ``fisher`` function gives the engine the expected information
through the :math:`K-1` linear predictors :math:`\eta_{ik} = \zeta_k - x_i^\top\beta`
(tridiagonal, :math:`c_{kk} = f_k^2(1/\pi_k + 1/\pi_{k+1})`,
:math:`c_{k,k+1} = -f_k f_{k+1}/\pi_{k+1}`), for ``method="fisher"`` and
``cov="eim"``.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..core import x64_scope
from ..engine import Model
from ..parameters import constraints as C
from ..results import FitResult, ModelInfo, ModelResult
from ._design import Design, check_rank, model_matrix
from ._predictor import ordinal_predictor
from ._special import log1mexp as _log1mexp
from .glm._link import LINKS, Link
from .multinomial import _check_levels, _codes, _level_name, _one_hot, _prepare

__all__ = ["ORDINAL_LINKS", "OrdinalFit", "ordinal"]


# The cumulative links, from the package's table of links: the inverse link is
# the distribution function F (``log_mu``, ``log1m_mu``: log F and log(1 - F);
# ``deriv``: the density f; ``link``: the quantile F^{-1}).
ORDINAL_LINKS = ("logit", "probit", "cloglog")


def _log_interval(link: Link, lo, hi):
    """log(F(hi) - F(lo)) for lo < hi, from whichever tail is accurate.

    Both branches get inputs that are valid where they are not used (the
    double-``where`` rule), so neither puts NaN into the derivatives.
    """
    lower = (lo + hi) < 0
    lo_a, hi_a = jnp.where(lower, lo, -2.0), jnp.where(lower, hi, -1.0)
    lo_b, hi_b = jnp.where(lower, 1.0, lo), jnp.where(lower, 2.0, hi)
    fa_hi = link.log_mu(hi_a)
    from_lower = fa_hi + _log1mexp(link.log_mu(lo_a) - fa_hi)
    sb_lo = link.log1m_mu(lo_b)
    from_upper = sb_lo + _log1mexp(link.log1m_mu(hi_b) - sb_lo)
    return jnp.where(lower, from_lower, from_upper)


def _eta(p, d):
    """Linear predictors zeta_k - x'beta, shape (n, K-1)."""
    zeta = p["zeta"]
    if "beta" not in p:
        return jnp.broadcast_to(zeta, (d["Y"].shape[0], zeta.shape[0]))
    beta = jnp.stack(jax.tree_util.tree_leaves(p["beta"]))
    return zeta[None, :] - (d["X"] @ beta)[:, None]


def _log_probs(link: Link, eta):
    """log P(Y = k), shape (n, K), from the (n, K-1) linear predictors."""
    first = link.log_mu(eta[:, :1])
    last = link.log1m_mu(eta[:, -1:])
    middle = _log_interval(link, eta[:, :-1], eta[:, 1:])
    return jnp.concatenate([first, middle, last], axis=1)


def _make_model_fns(link: Link):
    def loglik(p, d):
        return jnp.sum(d["Y"] * _log_probs(link, _eta(p, d)), axis=1)

    def fisher(p, d):
        eta = _eta(p, d)
        prob = jnp.exp(_log_probs(link, eta))  # (n, K)
        f = link.deriv(eta)  # (n, K-1): the density of F
        diag = f**2 * (1.0 / prob[:, :-1] + 1.0 / prob[:, 1:])
        off = -f[:, :-1] * f[:, 1:] / prob[:, 1:-1]
        c = jax.vmap(jnp.diag)(diag)
        c = c + jax.vmap(lambda o: jnp.diag(o, 1) + jnp.diag(o, -1))(off)
        return eta, c

    loglik.__name__ = f"ordinal_{link.name}"
    fisher.__name__ = f"ordinal_{link.name}_fisher"
    return loglik, fisher


# one pair per link at import time: one compiled program per link and shapes
_FNS = {name: _make_model_fns(LINKS[name]) for name in ORDINAL_LINKS}


@dataclasses.dataclass(frozen=True)
class OrdinalFit(ModelResult):
    """Result of :func:`ordinal`: the engine's :class:`~likelihax.FitResult` and
    what is needed to read it.

    Attributes
    ----------
    fit : FitResult
        Estimates (``fit.params["beta"][column]``, ``fit.params["zeta"]``),
        standard errors, covariance, log-likelihood, summary; accepted, as
        this result, by every inference function.
    model_info : ModelInfo
        Kind ``"ordinal"`` and the link (``fit.model_info``).
    levels : tuple
        Response levels, lowest first (``predict_proba`` columns).
    link : str
    columns : tuple of str
        Columns of ``X`` (no intercept).
    design : Design
    """

    fit: FitResult
    levels: tuple
    link: str
    columns: tuple
    design: Design
    _drop: int | None  # index of the formula's intercept column, dropped

    @property
    def beta(self) -> np.ndarray:
        """Coefficients (p,), in the order of :attr:`columns`."""
        return np.array([float(self.fit.params["beta"][c]) for c in self.columns])

    @property
    def beta_se(self) -> np.ndarray:
        return np.array([float(self.fit.se["beta"][c]) for c in self.columns])

    @property
    def zeta(self) -> np.ndarray:
        """Cut-points (K-1,), increasing."""
        return np.asarray(self.fit.params["zeta"], dtype=float)

    @property
    def zeta_se(self) -> np.ndarray:
        return np.asarray(self.fit.se["zeta"], dtype=float)

    @property
    def cut_labels(self) -> list[str]:
        """polr's names of the cut-points: ``"1|2"``, ``"2|3"``, ..."""
        names = [_level_name(v) for v in self.levels]
        return [f"{a}|{b}" for a, b in itertools.pairwise(names)]

    predictor = ordinal_predictor  # the protocol of lx.predict and lx.slopes

    def predict_proba(self, newdata: Any = None) -> np.ndarray:
        """Level probabilities (m, K), columns in the order of :attr:`levels`.

        ``newdata``: a DataFrame/dict for formula fits, a matrix for array fits
        (without the intercept); default the rows of the fit.
        """
        if newdata is None:
            X = _drop_column(self.design.X, self._drop)
        elif self.design.spec is None:
            X = model_matrix(self.design, newdata)
        else:
            X = _drop_column(model_matrix(self.design, newdata), self._drop)
        eta = self.zeta[None, :] - (X @ self.beta)[:, None]
        with x64_scope():
            out = _log_probs(LINKS[self.link], jnp.asarray(eta, jnp.float64))
            return np.exp(np.asarray(out))

    def __repr__(self) -> str:
        return (
            f"OrdinalFit({self.design.response}: {len(self.levels)} levels, "
            f"{self.link} link, loglik={self.loglik:.6g})"
        )


def _drop_column(X, j):
    return X if j is None else np.delete(X, j, axis=1)


def ordinal(
    formula_or_y,
    data_or_X=None,
    *,
    link: str = "logit",
    levels=None,
    weights=None,
    missing: str = "raise",
    columns=None,
    **fit_kwargs,
) -> OrdinalFit:
    r"""Cumulative-link (proportional odds) ordinal regression, as R ``MASS::polr``.

    Parameters
    ----------
    formula_or_y : str or array_like
        A formula ``"y ~ x1 + C(g)"`` (its intercept is dropped: the cut-points
        replace it), or the response (numbers, strings, or a pandas
        Categorical).
    data_or_X : DataFrame, dict or array_like
        The data for a formula, or the matrix ``X`` (n, p) without a constant
        column.
    link : {"logit", "probit", "cloglog"}
        :math:`F` in :math:`P(Y \le k) = F(\zeta_k - x^\top\beta)`.
    levels : sequence, optional
        The response levels, lowest first. Default: an ordered pandas
        Categorical's order, else the sorted distinct values.
    weights : array_like or str, optional
        Frequency weights (a column name with a formula), as ``polr``'s
        ``weights``; see :func:`likelihax.fit`.
    missing : {"raise", "drop"}
        Rows with missing values: an error (default) or dropped.
    columns : list of str, optional
        Names of the columns of ``X`` (arrays only).
    **fit_kwargs
        Passed to :func:`likelihax.fit` (``method="fisher"``, ``cov``, ...).

    Returns
    -------
    OrdinalFit
        ``.fit`` is the :class:`~likelihax.FitResult`; ``.beta``, ``.zeta``,
        ``.cut_labels``, ``.predict_proba(newdata)``.

    Raises
    ------
    ValueError
        Unknown link; fewer than 2 levels; a value of the response not in
        ``levels`` or a level without observations (naming it); a constant or
        collinear column; a formula without an intercept; missing or
        non-finite values (naming the column).

    Notes
    -----
    Starting values: :math:`\beta = 0` and :math:`\zeta_k = F^{-1}` of the
    cumulative (weighted) proportions. The log-likelihood is concave in
    :math:`(\zeta, \beta)` for these links (Pratt, 1981); Newton runs on the
    unconstrained scale of the ``ordered`` constraint (first cut-point, then
    logs of the increments, as ``polr`` and statsmodels do), and the standard
    errors of :math:`\zeta` come from the delta method.

    References
    ----------
    McCullagh, P. (1980). Regression models for ordinal data. *JRSS B* 42, 109-142.
    Venables, W. N. and Ripley, B. D. (2002). *Modern Applied Statistics with S*,
    4th ed., section 7.3.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.ordinal import ordinal
    >>> y = np.array(["lo", "mid", "hi", "mid", "lo", "hi", "mid", "hi", "lo", "mid"])
    >>> x = np.array([0.1, 1.2, 2.0, 0.5, 0.7, 2.5, -0.3, 1.1, 1.9, 0.2])
    >>> res = ordinal(y, x[:, None], levels=["lo", "mid", "hi"], columns=["x"])
    >>> res.fit.labels, res.cut_labels
    (['beta.x', 'zeta[0]', 'zeta[1]'], ['lo|mid', 'mid|hi'])
    >>> bool(np.allclose(res.predict_proba().sum(axis=1), 1.0))
    True
    """
    if link not in ORDINAL_LINKS:
        raise ValueError(f"link must be one of {list(ORDINAL_LINKS)}; got {link!r}.")
    d = _prepare(formula_or_y, data_or_X, weights=weights, missing=missing,
                 columns=columns, what="ordinal")  # fmt: skip
    w = d.extra.get("weights")
    lev, codes = _codes(d.y, levels, d.response, ordered_hint=True)
    counts = _check_levels(lev, codes, w, d.response)
    X, cols, drop = _regressors(d)
    data = {"Y": _one_hot(codes, len(lev))}
    params: dict[str, Any] = {}
    if cols:
        params["beta"] = {c: 0.0 for c in cols}
        order = [p[1].key for p, _ in jax.tree_util.tree_flatten_with_path(params)[0]]
        data["X"] = X[:, [cols.index(c) for c in order]]
    cum = np.cumsum(counts)[:-1] / counts.sum()
    with x64_scope():
        params["zeta"] = np.asarray(LINKS[link].link(jnp.asarray(cum)))
    loglik, fisher = _FNS[link]
    # one cut-point (2 levels) needs no ordering constraint
    cons = {"zeta": C.ordered} if len(lev) > 2 else None
    model = Model(loglik, params, constraints=cons, name="Ordinal regression",
                  fisher=fisher)  # fmt: skip
    if w is not None:
        fit_kwargs["weights"] = w
    res = model.fit(data, **fit_kwargs)
    names = [_level_name(v) for v in lev]
    cuts = [
        f"zeta[{k}] = {a}|{b}" for k, (a, b) in enumerate(itertools.pairwise(names))
    ]
    header = [
        ("Response", d.response),
        ("Levels", " < ".join(names)),
        ("Link", {"logit": "logit (proportional odds)"}.get(link, link)),
    ]
    if d.n_dropped:
        header.append(("Rows dropped", f"{d.n_dropped} (missing values)"))
    notes = [
        "P(Y <= k) = F(zeta[k] - x'beta); cut-points " + ", ".join(cuts) + ".",
    ]
    res = res.annotate("Ordinal regression", header, notes).replace(
        model_info=ModelInfo(kind="ordinal", link=link)
    )
    return OrdinalFit(res, lev, link, tuple(cols), d, drop)


def _regressors(d: Design):
    """X without the intercept (formula) and checked for rank with the cut-points."""
    cols = list(d.columns)
    drop = None
    if d.spec is not None:
        if "Intercept" not in cols:
            raise ValueError(
                "The formula has no intercept ('- 1' or '0 +'). The cut-points play "
                "the intercept's role, and without it the categorical codings are "
                "collinear with them; keep the intercept (it is dropped, as polr "
                "does)."
            )
        drop = cols.index("Intercept")
        cols.pop(drop)
    X = _drop_column(d.X, drop)
    if len(set(cols)) != len(cols):
        raise ValueError(f"Column names must be distinct; got {cols}.")
    const = [c for j, c in enumerate(cols) if np.ptp(X[:, j]) == 0]
    if const:
        raise ValueError(
            f"Column(s) {const} of X are constant: the cut-points already act as "
            "the intercept, so a constant column is not identified. Remove it."
        )
    try:
        check_rank(np.column_stack([np.ones(X.shape[0]), X]), ["(cut-points)"] + cols)
    except ValueError as e:
        raise ValueError(f"{e} (The cut-points act as the intercept.)") from None
    return X, cols, drop
