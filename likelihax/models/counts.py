r"""Count regressions with extra zeros: zero-inflated, hurdle and zero-truncated models.

Each is a log-likelihood of two linear predictors handed to the engine, as
R's ``pscl`` (``zeroinfl``, ``hurdle``) and statsmodels
(``ZeroInflatedPoisson``, ``ZeroInflatedNegativeBinomialP``) define them.
With a count density :math:`f(y; \mu)`, :math:`\mu = \exp(x^\top\beta + o)`
(Poisson, or NB2 with :math:`\operatorname{Var} = \mu + \alpha\mu^2`,
:math:`\theta = 1/\alpha` in pscl's terms) and a binary part
:math:`\pi = F(z^\top\gamma)` (logit by default):

* **zero-inflated** (:func:`zeroinfl`): a zero comes from the point mass with
  probability :math:`\pi`, else from :math:`f`:
  :math:`P(0) = \pi + (1 - \pi) f(0)`, :math:`P(y) = (1 - \pi) f(y)` for
  :math:`y > 0`; mean :math:`(1 - \pi)\mu`.
* **hurdle** (:func:`hurdle`): :math:`\pi = P(y > 0)`, and the positive counts
  follow the zero-truncated :math:`f`: :math:`P(0) = 1 - \pi`,
  :math:`P(y) = \pi f(y) / (1 - f(0))`; mean :math:`\pi\mu / (1 - f(0))`.
  The two parts separate: the count part is the zero-truncated model of the
  positive counts.
* **zero-truncated** (:func:`zerotrunc`): only :math:`y \ge 1` observed,
  :math:`P(y) = f(y) / (1 - f(0))`.

Formulas are R's: ``"y ~ x1 + x2 | z1 + z2"`` gives the count part's
regressors before the bar and the zero part's after it; without a bar both
parts use the same regressors. Coefficients are named ``count_<column>`` and
``zero_<column>`` (pscl's names); the NB2 dispersion is ``alpha``
(:attr:`CountResult.theta` is pscl's :math:`\theta = 1/\alpha`). Starting
values: the Poisson GLM of the counts (positive counts for hurdle and
truncated models) and the logistic regression of the zero indicator.

References
----------
Lambert, D. (1992). Zero-inflated Poisson regression. *Technometrics* 34, 1-14.
Mullahy, J. (1986). Specification and testing of some modified count data
models. *J. Econometrics* 33, 341-365.
Zeileis, A., Kleiber, C. & Jackman, S. (2008). Regression models for count
data in R. *J. Stat. Softw.* 27(8).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..engine import Model
from ..parameters import constraints as C
from ..results import ModelInfo, ModelResult
from ._design import check_rank, design, from_arrays, model_matrix
from ._predict import delta_predict
from ._predictor import count_predictor
from ._special import log1mexp as _log1mexp

__all__ = ["CountResult", "hurdle", "zeroinfl", "zerotrunc"]

_DISTS = ("poisson", "negbin")
_ZERO_LINKS = ("logit", "probit", "cloglog")


# ----- densities ---------------------------------------------------------------------------
def _count_logpmf(y, mu_log, alpha):
    """:math:`\\log f(y)` and :math:`\\log f(0)` of the Poisson (``alpha`` None)
    or NB2 count density, from :math:`\\log\\mu`."""
    mu = jnp.exp(mu_log)
    if alpha is None:
        return y * mu_log - mu - jax.scipy.special.gammaln(y + 1.0), -mu
    theta = 1.0 / alpha
    log1p = jnp.log1p(alpha * mu)  # log((theta + mu) / theta)
    lf = (jax.scipy.special.gammaln(y + theta) - jax.scipy.special.gammaln(theta)
          - jax.scipy.special.gammaln(y + 1.0) - theta * log1p
          + y * (mu_log + jnp.log(alpha) - log1p))  # fmt: skip
    return lf, -theta * log1p


def _log_binary(eta, link):
    """:math:`(\\log F(\\eta), \\log(1 - F(\\eta)))` for the zero part's link."""
    if link == "logit":
        return jax.nn.log_sigmoid(eta), jax.nn.log_sigmoid(-eta)
    if link == "probit":
        return jax.scipy.special.log_ndtr(eta), jax.scipy.special.log_ndtr(-eta)
    # cloglog: F = 1 - exp(-exp(eta))
    e = jnp.exp(eta)
    return jnp.log(-jnp.expm1(-e)), -e


@dataclasses.dataclass(frozen=True)
class _CountLoglik:
    """Per-row log-likelihood of a two-part count model (module notes)."""

    kind: str  # "zeroinfl", "hurdle", "zerotrunc"
    count: tuple  # count-part columns
    zero: tuple  # zero-part columns
    nb: bool
    link: str

    @property
    def __name__(self) -> str:
        return f"{self.kind} ({'negbin' if self.nb else 'poisson'})"

    def __call__(self, p, d):
        b = jnp.stack([p["count"][c] for c in self.count])
        mu_log = d["X"] @ b + d["offset"]
        lf, lf0 = _count_logpmf(d["y"], mu_log, p["alpha"] if self.nb else None)
        if self.kind == "zerotrunc":
            return lf - _log1mexp(lf0)
        g = jnp.stack([p["zero"][c] for c in self.zero])
        lp, lq = _log_binary(d["Z"] @ g + d["zero_offset"], self.link)
        y0 = d["y"] == 0
        if self.kind == "zeroinfl":  # pi = P(structural zero)
            return jnp.where(y0, jnp.logaddexp(lp, lq + lf0), lq + lf)
        # hurdle: pi = P(y > 0)
        return jnp.where(y0, lq, lp + lf - _log1mexp(lf0))


# ----- the result ----------------------------------------------------------------------------
class CountResult(ModelResult):
    """Result of :func:`zeroinfl`, :func:`hurdle` and :func:`zerotrunc`.

    Attributes
    ----------
    fit : FitResult
        Estimates ``fit.params["count"][column]``, ``fit.params["zero"][column]``
        and ``fit.params["alpha"]`` (NB2), SEs, covariance, log-likelihood;
        accepted by every inference function.
    kind : {"zeroinfl", "hurdle", "zerotrunc"}
    dist : {"poisson", "negbin"}
    zero_link : str
    count_columns, zero_columns : list of str
    nobs : int
    """

    def __init__(self, fit, kind, dist, zero_link, count_design, zero_design, loglik):
        self.fit = fit
        self.kind, self.dist, self.zero_link = kind, dist, zero_link
        self._count, self._zero, self._loglik = count_design, zero_design, loglik
        self.count_columns = list(loglik.count)
        self.zero_columns = list(loglik.zero)
        self.nobs = count_design.nobs

    @property
    def coef(self) -> dict:
        """Coefficients by pscl's names (``count_x``, ``zero_x``)."""
        p = self.fit.params
        out = {f"count_{c}": float(p["count"][c]) for c in self.count_columns}
        out.update({f"zero_{c}": float(p["zero"][c]) for c in self.zero_columns})
        return out

    @property
    def theta(self) -> float | None:
        """pscl's NB2 size :math:`\\theta = 1/\\alpha` (None for Poisson)."""
        return 1.0 / float(self.fit.params["alpha"]) if self.dist == "negbin" else None

    predictor = count_predictor  # the protocol of lx.predict and lx.slopes

    def predict(self, newdata: Any = None, which: str = "response", se: bool = False,
                at: Any = None, offset: Any = None):  # fmt: skip
        r"""Predictions, optionally with delta-method SEs.

        Parameters
        ----------
        newdata : DataFrame, dict or (X, Z) arrays, optional
            Default: the fitted rows (with their offset).
        which : {"response", "zero", "count", "prob"}
            The mean of :math:`y`; the probability of a zero,
            :math:`P(y = 0)` (pscl's ``type = "zero"`` is different: it is
            the zero part's :math:`\pi`, available as ``"zero_part"``); the
            count component's mean :math:`\mu`; or the probabilities
            :math:`P(y = k)` for ``k`` in ``at`` (default 0..max(y)),
            ``(n, len(at))``.
        se : bool
            Also return delta-method SEs (automatic differentiation with the
            covariance of all the estimates).
        at : array of int, optional
            Counts for ``which="prob"``.
        offset : array or column name of ``newdata``, optional
            The count part's offset of new rows (default none).

        Returns
        -------
        ndarray, or (ndarray, ndarray) with ``se=True``

        Examples
        --------
        >>> import numpy as np, pandas as pd, likelihax as lx
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=400)
        >>> y = np.where(rng.random(400) < 0.3, 0, rng.poisson(np.exp(0.5 + 0.4 * x)))
        >>> r = lx.zeroinfl("y ~ x", pd.DataFrame({"y": y, "x": x}))
        >>> p = r.predict(which="prob", at=[0, 1, 2])
        >>> bool(np.allclose(p[:, 0], r.predict(which="zero")))
        True
        """
        kinds = ("response", "zero", "zero_part", "count", "prob")
        if which not in kinds:
            raise ValueError(f"which must be one of {kinds}; got {which!r}.")
        if which == "zero_part" and self.kind == "zerotrunc":
            raise ValueError("A zero-truncated model has no zero part.")
        X, Z, off = self._rows(newdata, offset)
        k = np.arange(int(np.max(self._count.y)) + 1) if at is None else np.asarray(at)
        f = self._prediction_fn(which, k)
        return delta_predict(lambda p: f(p, X, Z, off), self.fit, se)

    def _prediction_fn(self, which: str, k):
        """``f(p, X, Z, off)``: the prediction ``which`` as a JAX function of the
        parameters and the rows' designs (:meth:`predict`, and the ``predictor``
        protocol of :func:`likelihax.predict`)."""
        lik = self._loglik

        def f(p, X, Z, off):
            mu_log = jnp.asarray(X) @ jnp.stack([p["count"][c] for c in lik.count]) + off
            alpha = p["alpha"] if lik.nb else None
            if which == "count":
                return jnp.exp(mu_log)
            pz = None
            if lik.kind != "zerotrunc":
                g = jnp.asarray(Z) @ jnp.stack([p["zero"][c] for c in lik.zero])
                pz = jnp.exp(_log_binary(g, lik.link)[0])
                if which == "zero_part":
                    return pz
            _, lf0 = _count_logpmf(0.0, mu_log, alpha)
            if which == "prob":
                lfk = _count_logpmf(jnp.asarray(k, float)[None, :], mu_log[:, None],
                                    alpha)[0]  # fmt: skip
                return self._probs(jnp.exp(lfk), jnp.exp(lf0)[:, None], pz, k)
            f0 = jnp.exp(lf0)
            if which == "zero":
                return self._probs(f0[:, None], f0[:, None], pz, np.zeros(1, int))[:, 0]
            mu = jnp.exp(mu_log)
            if lik.kind == "zeroinfl":
                return (1.0 - pz) * mu
            trunc = mu / (1.0 - f0)
            return trunc if lik.kind == "zerotrunc" else pz * trunc

        return f

    def _probs(self, fk, f0, pz, k):
        """:math:`P(y = k)` from the count density's :math:`f(k)`, :math:`f(0)`."""
        zero = jnp.asarray(np.asarray(k) == 0)[None, :]
        if self.kind == "zeroinfl":
            pz = pz[:, None]
            return jnp.where(zero, pz + (1.0 - pz) * fk, (1.0 - pz) * fk)
        trunc = fk / (1.0 - f0)
        if self.kind == "zerotrunc":
            return jnp.where(zero, 0.0, trunc)
        pz = pz[:, None]
        return jnp.where(zero, 1.0 - pz, pz * trunc)

    def _rows(self, newdata, offset):
        if newdata is None:
            return self._count.X, self._zero.X, self._count.extra.get("offset", 0.0)
        if isinstance(newdata, tuple):
            X, Z = (np.asarray(a, dtype=np.float64) for a in newdata)
        else:
            X = model_matrix(self._count, newdata)
            Z = model_matrix(self._zero, newdata) if self.kind != "zerotrunc" else X
        off = 0.0
        if offset is not None:
            off = np.asarray(newdata[offset] if isinstance(offset, str) else offset,
                             dtype=np.float64).reshape(-1)  # fmt: skip
        return X, Z, off


# ----- the fits ------------------------------------------------------------------------------
def _split_bar(formula: str) -> tuple[str, str | None]:
    """``"y ~ a + b | c"`` -> ``("y ~ a + b", "c")`` (the bar at the top level)."""
    depth = 0
    for i, ch in enumerate(formula):
        depth += (ch == "(") - (ch == ")")
        if ch == "|" and depth == 0:
            return formula[:i].strip(), formula[i + 1 :].strip()
    return formula.strip(), None


def _designs(kind, formula_or_y, data_or_X, Z, offset, weights, missing):
    """Count and zero designs of the same rows (missing values dropped in both)."""
    extra = {k: v for k, v in (("offset", offset), ("weights", weights)) if v is not None}
    if isinstance(formula_or_y, str):
        if data_or_X is None:
            raise TypeError(f"{kind}(formula, data): `data` is missing.")
        count_f, zero_rhs = _split_bar(formula_or_y)
        if "~" not in count_f:
            raise ValueError(f"The formula needs a response: 'y ~ x | z'; got {formula_or_y!r}.")
        lhs = count_f.split("~", 1)[0]
        zero_f = f"{lhs} ~ {zero_rhs}" if zero_rhs else count_f
        if zero_rhs is not None and kind == "zerotrunc":
            raise ValueError("A zero-truncated model has one part: no '|' in its formula.")
        dc = design(count_f, data_or_X, missing=missing, extra=extra)
        dz = design(zero_f, data_or_X, missing=missing)
        if dc.rows.size != dz.rows.size or np.any(dc.rows != dz.rows):  # drop in both
            import pandas as pd

            keep = np.intersect1d(dc.rows, dz.rows)
            df = data_or_X if isinstance(data_or_X, pd.DataFrame) else pd.DataFrame(dict(data_or_X))
            sub = df.iloc[keep]
            ex = {k: (v if isinstance(v, str) else np.asarray(v)[keep]) for k, v in extra.items()}
            dc, dz = design(count_f, sub, extra=ex), design(zero_f, sub)
            dropped = len(df) - keep.size
            dc = dataclasses.replace(dc, rows=keep, n_dropped=dropped)
            dz = dataclasses.replace(dz, rows=keep, n_dropped=dropped)
        return dc, dz
    if data_or_X is None:
        raise TypeError(f"{kind}(y, X): the count part's model matrix X is missing.")
    dc = from_arrays(formula_or_y, data_or_X)
    ex = {}
    for k, v in extra.items():
        a = np.array(v, dtype=np.float64).reshape(-1)
        if a.shape != (dc.nobs,) or not np.all(np.isfinite(a)):
            raise ValueError(f"`{k}` must have one finite value per row ({dc.nobs}).")
        ex[k] = a
    dc = dataclasses.replace(dc, extra=ex)
    dz = dc if Z is None else from_arrays(formula_or_y, Z)
    if dz.nobs != dc.nobs:
        raise ValueError(f"Z has {dz.nobs} rows; X has {dc.nobs}.")
    return dc, dz


def _counts(y, rows, kind):
    """The response as float64 counts; errors naming the rows."""
    y = np.asarray(y, dtype=np.float64)
    bad = ~np.isfinite(y) | (y < 0) | (y != np.round(y))
    if bad.any():
        raise ValueError(
            f"The response must be counts 0, 1, 2, ...; rows {rows[bad][:5].tolist()} "
            f"are not ({np.sum(bad)} in all)."
        )
    if kind == "zerotrunc" and np.any(y == 0):
        raise ValueError(
            f"A zero-truncated model observes counts >= 1; rows "
            f"{rows[y == 0][:5].tolist()} are 0. Drop them, or fit a hurdle model."
        )
    if kind != "zerotrunc" and np.all(y > 0):
        raise ValueError(
            f"The response has no zeros: a {kind} model's zero part is not identified. "
            "Fit a count GLM (lx.glm) or a zero-truncated model (lx.zerotrunc)."
        )
    if kind != "zerotrunc" and np.all(y == 0):
        raise ValueError(f"The response is all zeros: a {kind} model's count part is "
                         "not identified.")  # fmt: skip
    return y


def _names(columns):
    return [("(Intercept)" if c == "Intercept" else c) for c in columns]


def _starts(kind, y, X, Z, off, w, nb):
    """Poisson GLM of the counts (the positive ones for hurdle and truncated
    models) and the logistic regression of the zero (or positive) indicator."""
    from .glm import glm

    pos = y > 0 if kind != "zeroinfl" else np.ones(y.size, bool)
    wpos = None if w is None else w[pos]
    offp = np.broadcast_to(off, y.shape)[pos]
    b = glm(y[pos], X[pos], family="poisson", offset=offp, weights=wpos).coef
    g = None
    if kind != "zerotrunc":
        ind = (y > 0) if kind == "hurdle" else (y == 0)
        g = np.array(glm(ind.astype(float), Z, family="binomial", weights=w).coef)
    b = np.array(b, dtype=np.float64)
    if kind == "zeroinfl":
        _zero_share(b, g, X, Z, y, off, w, nb)
    return b, g


def _zero_share(b, g, X, Z, y, off, w, nb):
    """Zero-inflated starts (in place): the logistic regression of the zeros
    counts every zero as structural, and the Poisson GLM of all counts
    mixes the structural zeros into the mean. With the share ``pi`` of
    structural zeros that the count density's own zeros leave (the scalar
    solution of ``P(0) = pi + (1 - pi) p0(mean / (1 - pi))``, NB2 at the
    starting ``alpha = 0.5``), both intercepts move: the zero part's by
    ``logit(pi) - logit(P(0))``, the count part's by ``-log(1 - pi)``."""
    wt = np.ones(y.size) if w is None else np.asarray(w, float)
    p_obs = float(np.sum(wt * (y == 0)) / np.sum(wt))
    mean = float(np.sum(wt * y) / np.sum(wt))
    if not 0.0 < p_obs < 1.0 or mean <= 0:
        return
    pi = 0.0
    for _ in range(50):  # fixed point: pi = (P(0) - p0) / (1 - p0)
        mu = mean / (1.0 - pi)
        p0 = (1.0 + 0.5 * mu) ** -2.0 if nb else np.exp(-mu)
        pi_new = max((p_obs - p0) / (1.0 - p0), 1e-3)
        if abs(pi_new - pi) < 1e-10:
            break
        pi = min(pi_new, 0.99)
    ones_x = np.all(X == 1.0, axis=0)
    ones_z = np.all(Z == 1.0, axis=0)
    if not (ones_x.any() and ones_z.any()):
        return
    b[np.argmax(ones_x)] -= np.log1p(-pi)
    g[np.argmax(ones_z)] += np.log(pi / (1 - pi)) - np.log(p_obs / (1 - p_obs))


def _fit(kind, formula_or_y, data_or_X, *, Z=None, dist="poisson", zero_link="logit",
         offset=None, weights=None, missing="raise", start=None, **fit_kwargs):  # fmt: skip
    if dist not in _DISTS:
        raise ValueError(f"dist must be one of {_DISTS}; got {dist!r}.")
    if zero_link not in _ZERO_LINKS:
        raise ValueError(f"zero_link must be one of {_ZERO_LINKS}; got {zero_link!r}.")
    dc, dz = _designs(kind, formula_or_y, data_or_X, Z, offset, weights, missing)
    y = _counts(dc.y, dc.rows, kind)
    X, Zm = dc.X, dz.X
    count_cols, zero_cols = _names(dc.columns), _names(dz.columns)
    check_rank(X, count_cols)
    if kind != "zerotrunc":
        check_rank(Zm, zero_cols)
    off = dc.extra.get("offset", np.zeros(dc.nobs))
    w = dc.extra.get("weights")
    nb = dist == "negbin"
    b, g = _starts(kind, y, X, Zm, off, w, nb)
    params: dict[str, Any] = {"count": dict(zip(count_cols, map(float, b)))}
    if g is not None:
        params["zero"] = dict(zip(zero_cols, map(float, g)))
    cons = None
    if nb:
        params["alpha"] = 0.5
        cons = {"alpha": C.positive}
    for k, v in (start or {}).items():
        if k not in params:
            raise ValueError(f"start names {k!r}, not a parameter: {list(params)}.")
        params[k] = v
    loglik = _CountLoglik(kind, tuple(count_cols), tuple(zero_cols) if g is not None else (),
                          nb, zero_link)  # fmt: skip
    data = {"y": y, "X": X, "offset": off}
    if g is not None:
        data.update(Z=Zm, zero_offset=np.float64(0.0))
    if w is not None:
        fit_kwargs["weights"] = w
    title = {"zeroinfl": "Zero-inflated", "hurdle": "Hurdle",
             "zerotrunc": "Zero-truncated"}[kind] + f" {dist} regression"  # fmt: skip
    res = Model(loglik, params, constraints=cons, name=title).fit(data, **fit_kwargs)
    header = [("Response", dc.response), ("Rows", str(dc.nobs))]
    if dc.n_dropped:
        header.append(("Rows dropped", f"{dc.n_dropped} (missing values)"))
    part = {"zeroinfl": f"zero.* : {zero_link} model of P(structural zero)",
            "hurdle": f"zero.* : {zero_link} model of P(y > 0)", "zerotrunc": ""}[kind]  # fmt: skip
    notes = [f"count.* : log-linear {dist} mean" + (f"; {part}" if part else "") + "."]
    if nb:
        notes.append("alpha: NB2 dispersion, Var = mu + alpha mu^2 (pscl's theta = 1/alpha).")
    res = res.annotate(title, header, notes).replace(
        model_info=ModelInfo(kind=kind, family=dist, link="log"))
    return CountResult(res, kind, dist, zero_link, dc, dz, loglik)


_DOC_PARAMS = """
    Parameters
    ----------
    formula_or_y : str or array
        ``"y ~ x1 + x2 | z1"`` (count regressors, then the zero part's; without
        ``|`` both parts use the same), or the counts ``y`` with ``data_or_X``
        the count part's model matrix.
    data_or_X : DataFrame, dict of columns, or array
        Not modified.
    Z : array, optional
        The zero part's model matrix (arrays; default ``X``).
    dist : {"poisson", "negbin"}
        The count density (negbin: NB2, ``Var = mu + alpha mu^2``).
    zero_link : {"logit", "probit", "cloglog"}
        Link of the zero part.
    offset : str or array, optional
        Offset of the count part's log-mean (a column name or an array, e.g.
        ``np.log(exposure)``).
    weights : str or array, optional
        Frequency weights of the rows.
    missing : {"raise", "drop"}
        Rows with missing values in a variable of either part.
    start : dict, optional
        Starting values (``count``, ``zero``: dicts by column; ``alpha``).
    **fit_kwargs
        Passed to :func:`likelihax.fit` (``cov="sandwich"``, ``method``, ...).

    Returns
    -------
    CountResult
        ``summary()``, ``coef``, ``predict(...)``, ``conf_int()``, and every
        inference function (``lx.lr_test``, ``lx.profile_ci``, ...).

    Raises
    ------
    ValueError
        Counts that are negative or not integers (naming the rows); no zeros
        or only zeros (zero-inflated, hurdle); zeros (zero-truncated); an
        unknown ``dist`` or ``zero_link``; a rank-deficient design (naming the
        columns); missing values with ``missing="raise"``.
"""


def zeroinfl(formula_or_y, data_or_X=None, **kwargs) -> CountResult:
    return _fit("zeroinfl", formula_or_y, data_or_X, **kwargs)


def hurdle(formula_or_y, data_or_X=None, **kwargs) -> CountResult:
    return _fit("hurdle", formula_or_y, data_or_X, **kwargs)


def zerotrunc(formula_or_y, data_or_X=None, **kwargs) -> CountResult:
    return _fit("zerotrunc", formula_or_y, data_or_X, **kwargs)


zeroinfl.__doc__ = """Zero-inflated Poisson or negative binomial regression (pscl ``zeroinfl``).

    A zero is structural with probability :math:`\\pi = F(z^\\top\\gamma)`, else
    the count follows the Poisson or NB2 density with mean
    :math:`\\exp(x^\\top\\beta + o)` (module notes).
""" + _DOC_PARAMS + """
    Examples
    --------
    >>> import numpy as np, pandas as pd, likelihax as lx
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=2000)
    >>> structural = rng.random(2000) < 0.25
    >>> y = np.where(structural, 0, rng.poisson(np.exp(0.8 + 0.5 * x)))
    >>> r = lx.zeroinfl("y ~ x | 1", pd.DataFrame({"y": y, "x": x}))
    >>> {k: round(v, 1) for k, v in r.coef.items()}   # logit(0.25) = -1.1
    {'count_(Intercept)': 0.8, 'count_x': 0.5, 'zero_(Intercept)': -1.0}
"""

hurdle.__doc__ = """Hurdle Poisson or negative binomial regression (pscl ``hurdle``).

    A binary model :math:`\\pi = F(z^\\top\\gamma) = P(y > 0)` and, for the
    positive counts, the zero-truncated Poisson or NB2 density (module notes).
""" + _DOC_PARAMS + """
    Examples
    --------
    >>> import numpy as np, pandas as pd, likelihax as lx
    >>> rng = np.random.default_rng(2)
    >>> x = rng.normal(size=1000)
    >>> y = np.where(rng.random(1000) < 0.4, 0, 1 + rng.poisson(np.exp(0.3 + 0.2 * x)))
    >>> r = lx.hurdle("y ~ x", pd.DataFrame({"y": y, "x": x}))
    >>> r.converged, sorted(r.coef)[:2]
    (True, ['count_(Intercept)', 'count_x'])
"""

zerotrunc.__doc__ = """Zero-truncated Poisson or negative binomial regression.

    Only counts :math:`y \\ge 1` are observed: :math:`P(y) = f(y) / (1 - f(0))`
    (the count part of a hurdle model; countreg ``zerotrunc``, statsmodels
    ``TruncatedLFPoisson``).
""" + _DOC_PARAMS + """
    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> rng = np.random.default_rng(3)
    >>> y = rng.poisson(2.0, 5000)
    >>> r = lx.zerotrunc(y[y > 0], np.ones((int(np.sum(y > 0)), 1)))
    >>> round(float(np.exp(r.coef["count_x0"])), 1)   # the untruncated mean
    2.0
"""
