r"""Firth's bias-reduced logistic and Poisson regression (R ``logistf``).

Firth (1993) maximizes the penalized log-likelihood

.. math::

    \ell^*(\beta) = \ell(\beta) + \tfrac12 \log\det I(\beta),
    \qquad I(\beta) = X^\top W X,

the Jeffreys-prior penalty, with :math:`W = \operatorname{diag}(m_i
\mu_i(1 - \mu_i))` for the logistic model (``m`` trials) and
:math:`\operatorname{diag}(\mu_i)` for the log-linear Poisson model. The
estimates have no first-order bias and stay finite under complete or
quasi-complete separation, where the maximum-likelihood estimates diverge
(the remedy :class:`likelihax.SeparationWarning` points to). As ``logistf``:
the standard errors come from :math:`I(\hat\beta)^{-1}` (``cov="eim"``, the
default here; the engine's other kinds are available), and profile intervals
(:func:`likelihax.profile_ci`) are those of the penalized likelihood ratio,
``logistf``'s default intervals.

The penalty is a log-determinant of a :math:`p \times p` matrix, so the model
is a scalar log-likelihood (``nobs`` rows) handed to the engine, with the
expected information of the unpenalized model given through ``fisher=``.

References
----------
Firth, D. (1993). Bias reduction of maximum likelihood estimates.
*Biometrika* 80, 27-38. Heinze, G. & Schemper, M. (2002). A solution to the
problem of separation in logistic regression. *Stat. Med.* 21, 2409-2419.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..engine import Model
from ..optimize import spd_inverse_logdet
from ..results import ModelInfo, ModelResult
from ._design import check_rank, model_matrix
from ._predictor import firth_predictor
from ._predict import delta_predict
from .counts import _designs, _names

__all__ = ["FirthResult", "firth"]


@dataclasses.dataclass(frozen=True)
class _Firth:
    columns: tuple
    family: str  # "binomial" or "poisson"

    @property
    def __name__(self) -> str:
        return f"Firth-penalized {self.family}"

    def eta_w(self, p, d):
        eta = d["X"] @ jnp.stack([p[c] for c in self.columns]) + d["offset"]
        if self.family == "binomial":
            mu = jax.nn.sigmoid(eta)
            return eta, d["m"] * mu * (1.0 - mu)
        return eta, jnp.exp(eta)

    def fisher(self, p, d):
        return self.eta_w(p, d)

    def __call__(self, p, d):
        eta, w = self.eta_w(p, d)
        y = d["y"]
        if self.family == "binomial":  # successes y of m trials
            ll = y * jax.nn.log_sigmoid(eta) + (d["m"] - y) * jax.nn.log_sigmoid(-eta)
        else:
            ll = y * eta - jnp.exp(eta)
        info = d["X"].T @ (w[:, None] * d["X"])
        return jnp.sum(ll) + 0.5 * spd_inverse_logdet(info)[1]


class FirthResult(ModelResult):
    """Result of :func:`firth`.

    Attributes
    ----------
    fit : FitResult
        The penalized fit (``fit.params[column]``); ``loglik`` is the
        penalized log-likelihood (``logistf``'s ``loglik``).
    family : str
    columns : list of str
    nobs : int
    """

    def __init__(self, fit, family, des, model):
        self.fit, self.family, self._design, self._model = fit, family, des, model
        self.columns = list(model.columns)
        self.nobs = des.nobs

    @property
    def coef(self) -> dict:
        return {c: float(self.fit.params[c]) for c in self.columns}

    predictor = firth_predictor  # the protocol of lx.predict and lx.slopes

    def predict(self, newdata: Any = None, which: str = "response", se: bool = False):
        """The probability (binomial) or mean (Poisson), or the linear predictor
        (``which="link"``), with delta-method SEs on request.

        Examples
        --------
        >>> import numpy as np, likelihax as lx
        >>> X = np.column_stack([np.ones(6), [0.0, 0, 0, 1, 1, 1]])
        >>> r = lx.firth(np.array([0, 0, 1, 1, 1, 1]), X)   # x = 1: all successes
        >>> round(float(r.predict(np.array([[1.0, 1.0]]))[0]), 4)   # (3 + 0.5) / (3 + 1)
        0.875
        """
        if which not in ("response", "link"):
            raise ValueError(f"which must be 'response' or 'link'; got {which!r}.")
        X = self._design.X if newdata is None else (
            np.asarray(newdata, dtype=np.float64) if isinstance(newdata, np.ndarray)
            else model_matrix(self._design, newdata))  # fmt: skip

        f = self._prediction_fn(which)
        return delta_predict(lambda p: f(p, X), self.fit, se)

    def _prediction_fn(self, which: str):
        """``f(p, X)``: the prediction ``which`` as a JAX function of the
        parameters and the design (:meth:`predict`, and the ``predictor``
        protocol of :func:`likelihax.predict`)."""
        columns, binomial = list(self.columns), self.family == "binomial"

        def f(p, X):
            eta = jnp.asarray(X) @ jnp.stack([p[c] for c in columns])
            if which == "link":
                return eta
            return jax.nn.sigmoid(eta) if binomial else jnp.exp(eta)

        return f


def firth(formula_or_y, data_or_X=None, *, family: str = "binomial", trials: Any = None,
          offset: Any = None, missing: str = "raise", **fit_kwargs) -> FirthResult:  # fmt: skip
    """Firth's penalized-likelihood logistic or Poisson regression (module notes).

    Parameters
    ----------
    formula_or_y : str or array
        ``"y ~ x1 + x2"``, or the response with ``data_or_X`` the model matrix.
        Binomial: 0/1 responses, or successes with ``trials``.
    data_or_X : DataFrame, dict of columns, or array
        Not modified.
    family : {"binomial", "poisson"}
        With the canonical link (logit, log).
    trials : str or array, optional
        Binomial numbers of trials (default 1).
    offset : str or array, optional
    missing : {"raise", "drop"}
    **fit_kwargs
        Passed to :func:`likelihax.fit` (default ``cov="eim"``, as ``logistf``).

    Returns
    -------
    FirthResult

    Raises
    ------
    ValueError
        An unknown family; responses outside the family's support (naming
        the rows).

    Examples
    --------
    A 2 x 2 table with a zero cell: the maximum-likelihood log odds ratio is
    infinite; Firth's equals the one with 0.5 added to every cell.

    >>> import numpy as np, likelihax as lx
    >>> x = np.repeat([0.0, 1.0], [10, 10])
    >>> y = np.r_[np.repeat([1.0, 0.0], [3, 7]), np.ones(10)]   # 3/10 and 10/10
    >>> r = lx.firth(y, np.column_stack([np.ones(20), x]))
    >>> round(r.coef["x1"], 6) == round(float(np.log((10.5 / 0.5) / (3.5 / 7.5))), 6)
    True
    """
    if family not in ("binomial", "poisson"):
        raise ValueError(f"family must be 'binomial' or 'poisson'; got {family!r}.")
    des, _ = _designs("firth", formula_or_y, data_or_X, None, offset, None, missing)
    y = np.asarray(des.y, dtype=np.float64)
    rows, n = des.rows, y.size
    m = np.ones(n)
    if trials is not None:
        m = np.asarray(data_or_X[trials] if isinstance(trials, str) else trials,
                       dtype=np.float64)[rows]  # fmt: skip
    bad = ~np.isfinite(y) | (y < 0) | (y != np.round(y))
    if family == "binomial":
        bad |= y > m
    if np.any(bad):
        what = "successes in 0..trials" if family == "binomial" else "counts 0, 1, 2, ..."
        raise ValueError(f"Rows {rows[bad][:5].tolist()} are not {what} "
                         f"({int(bad.sum())} in all).")  # fmt: skip
    cols = _names(des.columns)
    check_rank(des.X, cols)
    model = _Firth(tuple(cols), family)
    data = {"X": des.X, "y": y, "m": m, "offset": des.extra.get("offset", np.zeros(n))}
    fit_kwargs.setdefault("cov", "eim")
    fit_kwargs.setdefault("nobs", n)
    res = Model(model, dict.fromkeys(cols, 0.0), name="Firth regression",
                fisher=model.fisher).fit(data, **fit_kwargs)  # fmt: skip
    notes = ["Penalized log-likelihood l(beta) + 0.5 log det I(beta) (Firth); "
             "SEs from I(beta)^-1 as logistf; profile intervals: lx.profile_ci."]  # fmt: skip
    res = res.annotate(f"Firth {family} regression", [("Rows", str(n))], notes).replace(
        model_info=ModelInfo(kind="firth", family=family,
                             link="logit" if family == "binomial" else "log"))  # fmt: skip
    return FirthResult(res, family, des, model)
