r"""Cox proportional hazards regression by partial likelihood (R ``survival::coxph``).

The hazard of row :math:`i` is :math:`h_0(t) e^{x_i^\top\beta}` with the
baseline :math:`h_0` left free (per stratum with ``strata=``). With case
weights :math:`w` (all 1 unless given) and the risk set :math:`R(t)` of the
rows of the stratum still at risk at :math:`t` (time :math:`\ge t`), a group
:math:`D` of :math:`d` events tied at :math:`t` contributes, as ``coxph`` does,

.. math::

    \sum_{i \in D} w_i \eta_i - \bar w_D \sum_{k=0}^{d-1}
        \log\Big(S_0 - \tfrac{k}{d} S_D\Big),
    \qquad S_0 = \sum_{j \in R(t)} w_j e^{\eta_j},\;
    S_D = \sum_{i \in D} w_i e^{\eta_i},

with :math:`\bar w_D` the mean weight of the events (Efron's approximation;
Breslow's drops the :math:`k/d` term). The risk sums are cumulative sums in
decreasing time, so a fit costs :math:`O(n)` per evaluation after one sort.

Per-row terms and robust standard errors
----------------------------------------
The partial likelihood does not split into one term per row, but the
derivative of :math:`\ell(\beta, w)` with respect to a row's weight does:
:math:`t_i = \partial \ell/\partial w_i + \delta_i` sums to :math:`\ell` (the
derivatives sum to :math:`\ell - \sum_i \delta_i`), and the gradient of
:math:`t_i` in :math:`\beta` is row :math:`i`'s score residual. The model hands
these terms to the engine, so ``cov="sandwich"`` is the robust (Lin-Wei)
covariance of ``coxph(..., robust = TRUE)`` and ``cov="cluster"`` its
``cluster()`` version, with no covariance code of its own. With case weights
the terms are :math:`t_i = w_i(\partial\ell/\partial w_i + \delta_i)`: they
sum to the weighted :math:`\ell` (Euler's identity: :math:`\ell(\beta, c w)
= c\,\ell(\beta, w) - c \log c \sum_i w_i \delta_i`), and their scores are
the weighted score residuals of ``coxph(..., weights =)``'s robust variance.

References
----------
Cox, D. R. (1972). Regression models and life-tables. *JRSS B* 34, 187-220.
Efron, B. (1977). The efficiency of Cox's likelihood function for censored
data. *JASA* 72, 557-565. Lin, D. Y. & Wei, L. J. (1989). The robust
inference for the Cox proportional hazards model. *JASA* 84, 1074-1078.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..data import checked_view
from ..engine import Model
from ..results import ModelInfo, ModelResult
from ._cox_partial import partial_loglik
from ._cox_curves import check_probabilities, curve_quantiles, hazard_and_variance
from ._design import check_rank, column_values
from ._responses_more import simulate_events
from ._predict import delta_predict
from ._predictor import cox_predictor
from ._surv import inputs, new_matrix, per_row, rows_error

__all__ = ["CoxResult", "coxph"]


@dataclasses.dataclass(frozen=True)
class _CoxLoglik:
    """Per-row terms of the partial log-likelihood (module notes); the data are
    sorted by stratum, then decreasing time."""

    columns: tuple
    efron: bool
    strata: bool = False

    @property
    def __name__(self) -> str:
        return "Cox partial likelihood (" + ("Efron" if self.efron else "Breslow") + ")"

    def partial(self, beta, w, d):
        eta = d["X"] @ beta
        eta = eta - jax.lax.stop_gradient(jnp.max(eta))  # the partial likelihood is shift-free
        r = w * jnp.exp(eta)
        c = jnp.concatenate([jnp.zeros(1, r.dtype), jnp.cumsum(r)])
        S0 = c[d["last"] + 1] - c[d["first"]]  # per tie group: the stratum's rows at risk
        ev = d["event"] > 0
        g = d["group"]
        n_g = d["last"].shape[0]
        SD = jax.ops.segment_sum(jnp.where(ev, r, 0.0), g, n_g)
        mw = jax.ops.segment_sum(jnp.where(ev, w, 0.0), g, n_g) / jnp.maximum(d["n_dead"], 1)
        frac = d["rank"] / jnp.maximum(d["n_dead"][g], 1) if self.efron else 0.0
        denom = jnp.log(S0[g] - frac * SD[g])
        return jnp.sum(jnp.where(ev, w * eta - mw[g] * denom, 0.0))

    def __call__(self, p, d):
        beta = jnp.stack([p["beta"][c] for c in self.columns])
        w = d["w"]
        return w * (jax.grad(self.partial, argnums=1)(beta, w, d) + d["event"])

    def total(self, p, d):
        """The weighted partial log-likelihood, the sum of the terms (module
        notes): the engine's value, gradient and Hessian are taken from it
        (see :class:`likelihax.objective.Problem`)."""
        beta = jnp.stack([p["beta"][c] for c in self.columns])
        return partial_loglik(beta, d["X"], d, self.efron, self.strata)


class CoxResult(ModelResult):
    """Result of :func:`coxph`.

    Attributes
    ----------
    fit : FitResult
        ``fit.params["beta"][column]``; SEs (model-based, or robust with
        ``cov="sandwich"`` / clustered with ``cov="cluster"``); the maximized
        partial log-likelihood as ``loglik``.
    ties : {"efron", "breslow"}
    columns : list of str
    nobs, n_events : int
    """

    def __init__(self, fit, des, loglik, ties, n_events, keep, order, data, times,
                 strata=None):  # fmt: skip
        self.fit, self._design, self._loglik, self.ties = fit, des, loglik, ties
        self.columns = list(loglik.columns)
        self.nobs, self.n_events = des.nobs, int(n_events)
        self._keep, self._order, self._data, self._times = keep, order, data, times
        # strata: (name or None, sorted labels, codes of the sorted rows)
        self._strata_name, self._strata_labels, self._codes = strata or (None, None, None)

    def _curves(self, X, t, t0, inc, var_inc, q_inc, hazard=False):
        """Survival curves of the rows of ``X`` at times ``t`` and their
        standard errors: :math:`\\operatorname{Var} \\hat H(t; x) =
        e^{2x^\\top\\beta}[\\sum dV_0 + (Q - x H_0)^\\top V (Q - x H_0)]`
        (Tsiatis, 1981; survfit's ``std.err``, of :math:`S = e^{-H}`), with
        :math:`V` the fit's covariance (model-based unless ``cov=`` said
        otherwise, as survfit uses coxph's, robust with ``robust = TRUE``). With
        ``hazard=True``: :math:`H` and the standard error of :math:`H`."""
        beta = np.array([self.coef[c] for c in self.columns])
        cov = self.fit.cov  # the fit's own (cov=): survfit uses coxph's var, robust or not
        V = np.array([[float(cov[f"beta.{a}", f"beta.{b}"]) for b in self.columns]
                      for a in self.columns])  # fmt: skip
        H, var_h = hazard_and_variance(beta, V, X, t, t0, inc, var_inc, q_inc)
        if hazard:
            return H, np.sqrt(var_h)
        S = np.exp(-H)
        return S, S * np.sqrt(var_h)

    def _row_strata(self, newdata) -> np.ndarray:
        """The stratum label of each row to predict (as str)."""
        if newdata is None:
            out = np.empty(self.nobs, dtype=object)
            out[self._order] = np.asarray(self._strata_labels, dtype=object)[self._codes]
            return out.astype(str)
        name = self._strata_name
        if name is None or not hasattr(newdata, "keys") or name not in newdata:
            raise ValueError(f"newdata needs the strata column {name!r} (given as an array "
                             "at the fit: predict the fitted rows, newdata=None).")  # fmt: skip
        lab = np.asarray(newdata[name]).astype(str)
        unknown = sorted(set(lab) - set(self._strata_labels))
        if unknown:
            raise ValueError(f"newdata has strata the fit did not see: {unknown}.")
        return lab

    def vcov(self, kind: str = "oim", groups: Any = None):
        """Covariance of the coefficients: ``"oim"`` (model-based), ``"sandwich"``
        (robust, ``coxph(..., robust = TRUE)``) or ``"cluster"`` with one group
        label per row of the fitted data (``coxph``'s ``cluster()``: the score
        residuals summed per group, no small-sample factor).

        Examples
        --------
        >>> import numpy as np, pandas as pd, likelihax as lx
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=300)
        >>> df = pd.DataFrame({"t": rng.exponential(np.exp(-x)), "d": 1, "x": x})
        >>> r = lx.coxph("Surv(t, d) ~ x", df)
        >>> V = r.vcov("cluster", groups=np.arange(300))   # one row per cluster
        >>> bool(np.allclose(V, r.vcov("sandwich")))
        True
        """
        from ..inference import vcov

        if kind == "cluster":
            if groups is None:
                raise ValueError("kind='cluster' needs groups= (one label per fitted row).")
            g = np.asarray(groups)
            if g.shape[0] != self.nobs:
                raise ValueError(f"groups must have one label per fitted row ({self.nobs}).")
            cov = vcov(self.fit, "cluster", self._data, groups=g[self._order], correction=False)
        elif groups is not None:
            raise ValueError("groups= goes with kind='cluster'.")
        else:
            cov = vcov(self.fit, kind, self._data)
        return np.array([[float(cov[f"beta.{a}", f"beta.{b}"]) for b in self.columns]
                         for a in self.columns])  # fmt: skip

    @property
    def coef(self) -> dict:
        """Log hazard ratios by column."""
        return {c: float(self.fit.params["beta"][c]) for c in self.columns}

    @property
    def hazard_ratio(self) -> dict:
        """:math:`e^\\beta` by column (``exp(coef)``)."""
        return {c: float(np.exp(v)) for c, v in self.coef.items()}

    def baseline_hazard(self, stratum: Any = None):
        """``(times, H0)``: the cumulative baseline hazard at the event times
        (:math:`x = 0`), by the estimator of the fit's ties as ``survfit``
        computes it: Breslow's :math:`\\sum d_k / S_0(t_k)`, or Efron's
        :math:`\\sum_k \\sum_{r < d_k} 1/(S_0 - \\tfrac{r}{d_k} S_D)` (with case
        weights, :math:`d_k` and the terms weighted). A stratified fit has one
        per stratum: give its label as ``stratum``.

        Examples
        --------
        >>> import numpy as np, pandas as pd, likelihax as lx
        >>> df = pd.DataFrame({"t": [1.0, 2.0, 3.0], "d": [1, 1, 1], "x": [0.0, 1.0, 0.5]})
        >>> t, H = lx.coxph("Surv(t, d) ~ x", df).baseline_hazard()
        >>> t.tolist(), bool(np.all(np.diff(H) > 0))
        ([1.0, 2.0, 3.0], True)
        """
        t, inc, _, _ = self._increments(stratum)
        return t, np.cumsum(inc)

    def _increments(self, stratum=None):
        """Per event time of the stratum (increasing): the baseline hazard's
        increment, the increment of its variance term and of
        :math:`\\sum \\bar x\\, dH_0` (survfit's ``agsurv``: with Efron's ties
        each of the :math:`d` tied events has its own denominator
        :math:`S_0 - \\tfrac{r}{d} S_D` and mean :math:`\\bar x_r`)."""
        d = self._data
        labels = self._strata_labels
        if labels is None and stratum is not None:
            raise ValueError("stratum= applies to a stratified fit.")
        if labels is not None:
            if stratum is None or str(stratum) not in labels:
                raise ValueError(f"A stratified fit has one baseline hazard per stratum: "
                                 f"give stratum= one of {labels}.")  # fmt: skip
            code = labels.index(str(stratum))
        beta = np.array([self.coef[c] for c in self.columns])
        X, wt = np.asarray(d["X"]), np.asarray(d["w"])
        r = wt * np.exp(X @ beta)
        c0 = np.r_[0.0, np.cumsum(r)]
        c1 = np.vstack([np.zeros(X.shape[1]), np.cumsum(r[:, None] * X, axis=0)])
        S0 = c0[d["last"] + 1] - c0[d["first"]]
        S1 = c1[d["last"] + 1] - c1[d["first"]]
        ev = d["event"] > 0
        g = d["group"]
        n_g = S0.size
        SD = np.bincount(g, weights=np.where(ev, r, 0.0), minlength=n_g)
        SD1 = np.zeros_like(S1)
        np.add.at(SD1, g[ev], r[ev, None] * X[ev])
        dead = np.bincount(g, weights=np.where(ev, wt, 0.0), minlength=n_g)
        mw = dead / np.maximum(d["n_dead"], 1)
        # one term per event row: Efron's r/d share of the tied events removed
        frac = d["rank"] / np.maximum(d["n_dead"][g], 1) if self.ties == "efron" else 0.0
        frac = np.where(ev, frac, 0.0)
        den = S0[g] - frac * SD[g]
        xbar = (S1[g] - frac[:, None] * SD1[g]) / den[:, None]
        h = np.where(ev, mw[g] / den, 0.0)
        if self.ties == "breslow":  # one denominator per time: the deaths' total weight
            h = np.where(ev, wt / S0[g], 0.0)
        inc = np.bincount(g, weights=h, minlength=n_g)
        var_inc = np.bincount(g, weights=np.where(ev, h / den, 0.0), minlength=n_g)
        if self.ties == "breslow":
            var_inc = dead / S0**2
        q_inc = np.zeros_like(S1)
        np.add.at(q_inc, g, h[:, None] * xbar)
        times = self._times[d["last"]]
        keep = d["n_dead"] > 0
        if labels is not None:
            keep = keep & (self._codes[d["last"]] == code)
        order = np.argsort(times[keep], kind="stable")  # groups run in decreasing time
        pick = np.flatnonzero(keep)[order]
        return times[pick], inc[pick], var_inc[pick], q_inc[pick]

    predictor = cox_predictor  # the protocol of lx.predict and lx.slopes
    simulate_events = simulate_events  # the event indicators of lx.simulate's draws

    def predict(self, newdata: Any = None, which: str = "lp", se: bool = False,
                times: Any = None):  # fmt: skip
        """The linear predictor :math:`x^\\top\\beta` (``"lp"``), the relative
        risk :math:`e^{x^\\top\\beta}` (``"risk"``), with delta-method SEs on
        request (uncentred: ``coxph``'s ``reference = "zero"``), or survival
        curves :math:`\\exp(-H_0(t) e^{x^\\top\\beta})` at ``times``
        (``"survival"``, ``(n, len(times))``, as ``survfit(fit, newdata)``;
        with ``se=True`` survfit's standard errors, from the variance of the
        baseline hazard and the fit's covariance of the coefficients,
        :meth:`_curves`; for a stratified fit each row's stratum, a column of
        ``newdata`` named as ``strata``, or the fitted rows' own). Median and
        other quantile survival times with confidence limits:
        :meth:`quantile`.

        Examples
        --------
        >>> import numpy as np, pandas as pd, likelihax as lx
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=200)
        >>> t = rng.exponential(np.exp(-0.5 * x))
        >>> r = lx.coxph("Surv(t, d) ~ x", pd.DataFrame({"t": t, "d": 1, "x": x}))
        >>> bool(np.isclose(r.predict(pd.DataFrame({"x": [1.0]}), which="risk")[0],
        ...                 r.hazard_ratio["x"]))
        True
        """
        if which not in ("lp", "risk", "survival"):
            raise ValueError(f"which must be 'lp', 'risk' or 'survival'; got {which!r}.")
        X = new_matrix(self._design, newdata)[:, self._keep]
        if which == "survival":
            if times is None:
                raise ValueError("which='survival' needs times=.")
            t = np.atleast_1d(np.asarray(times, float))
            if t.ndim != 1 or not np.all(np.isfinite(t)):
                raise ValueError(f"times must be finite numbers (a 1-d list); got {times!r}.")
            lab = (np.zeros(X.shape[0], int) if self._strata_labels is None
                   else self._row_strata(newdata))  # fmt: skip
            S, sd = np.empty((X.shape[0], t.size)), np.empty((X.shape[0], t.size))
            for k in np.unique(lab):
                rows_k = lab == k
                parts = self._increments(None if self._strata_labels is None else k)
                S[rows_k], sd[rows_k] = self._curves(X[rows_k], t, *parts)
            return (S, sd) if se else S

        def f(p):
            eta = jnp.asarray(X) @ jnp.stack([p["beta"][c] for c in self.columns])
            return eta if which == "lp" else jnp.exp(eta)

        return delta_predict(f, self.fit, se)

    def quantile(self, newdata: Any = None, p: Any = 0.5, level: float = 0.95):
        """Quantiles of the survival curves (the median by default) with their
        confidence limits, as R's ``quantile(survfit(fit, newdata), probs)``
        (and the median columns of ``print(survfit(fit, newdata))``).

        The ``p`` quantile of the curve :math:`S(t; x) = \\exp(-H_0(t)
        e^{x^\\top\\beta})` (:meth:`predict`) is the first event time at which
        it falls to ``1 - p`` or below, by survfit's rules: where the curve
        equals ``1 - p`` (within :math:`1.5 \\times 10^{-8}`) up to its next
        drop, the midpoint of the two times (of the last event time and the
        last observed time, if it is the last drop); NaN where the curve never
        falls that low. The limits are the same times for the lower and the
        upper bound of survfit's default pointwise band (``conf.type =
        "log"``): :math:`S e^{\\mp z\\,\\mathrm{se}(\\hat H)}` with survfit's
        standard error of the cumulative hazard, the upper bound capped at 1
        (Brookmeyer & Crowley, 1982); NaN where a bound stays above ``1 - p``
        (typically the upper limit).

        Parameters
        ----------
        newdata : DataFrame or dict of columns, optional
            Covariate rows; None: the fitted rows. For a stratified fit each
            row's stratum is read from the ``strata`` column; without that
            column (or with ``strata`` given as an array at the fit) each row
            has one curve per stratum, as survfit gives.
        p : float or 1-d sequence of floats in (0, 1)
            Probabilities of failure: 0.5 is the median survival time.
        level : float in (0, 1)
            Confidence level of the band (survfit's ``conf.int``).

        Returns
        -------
        DataFrame
            One line per row of ``newdata`` (and stratum) and ``p``: ``row``
            (the row's index label; its position for a dict or the fitted
            rows), ``stratum`` (stratified fits only), ``p``, ``estimate``,
            ``lower``, ``upper``.

        Raises
        ------
        ValueError
            ``p`` or ``level`` not in (0, 1); ``newdata`` missing a covariate
            or with missing values; a stratum the fit did not see.

        Examples
        --------
        >>> import numpy as np, pandas as pd, likelihax as lx
        >>> rng = np.random.default_rng(1)
        >>> x = np.repeat([0.0, 1.0], 100)
        >>> t = np.ceil(30 * rng.exponential(np.exp(-0.8 * x)))   # days
        >>> r = lx.coxph("Surv(t, d) ~ x", pd.DataFrame({"t": t, "d": 1, "x": x}))
        >>> r.quantile(pd.DataFrame({"x": [0.0, 1.0]}))
           row    p  estimate  lower  upper
        0    0  0.5      22.0   17.0   28.0
        1    1  0.5      11.0    9.0   14.0
        """
        import pandas as pd
        from scipy.special import ndtri

        probs = check_probabilities(p, "p")
        lev = check_probabilities(level, "level")
        if lev.size != 1:
            raise ValueError(f"level must be one number in (0, 1); got {level!r}.")
        z = float(ndtri(1.0 - (1.0 - lev[0]) / 2.0))  # R's qnorm(1 - (1 - conf.int)/2)
        X = new_matrix(self._design, newdata)[:, self._keep]
        names = (np.asarray(newdata.index) if isinstance(newdata, pd.DataFrame)
                 else np.arange(X.shape[0]))  # fmt: skip
        rows, lab = np.arange(X.shape[0]), np.zeros(X.shape[0], int)
        labels = self._strata_labels
        by_name = hasattr(newdata, "keys") and self._strata_name in newdata
        if labels is not None and (newdata is None or by_name):
            lab = self._row_strata(newdata)
        elif labels is not None:  # every row in every stratum
            rows, lab = np.repeat(rows, len(labels)), np.tile(np.asarray(labels), X.shape[0])
        est, lo, hi = (np.empty((rows.size, probs.size)) for _ in range(3))
        for k in np.unique(lab):
            sel = lab == k
            in_k = slice(None) if labels is None else self._codes == labels.index(k)
            parts = self._increments(None if labels is None else k)
            H, se = self._curves(X[rows[sel]], parts[0], *parts, hazard=True)
            est[sel], lo[sel], hi[sel] = curve_quantiles(parts[0], H, se, probs, z,
                                                         self._times[in_k].max())  # fmt: skip
        m = probs.size
        out = {"row": np.repeat(names[rows], m)}
        if labels is not None:
            out["stratum"] = np.repeat(lab, m)
        out.update(p=np.tile(probs, rows.size), estimate=est.ravel(), lower=lo.ravel(),
                   upper=hi.ravel())  # fmt: skip
        return pd.DataFrame(out)


def _sorted_layout(time, event, strata):
    """Row order (stratum, decreasing time) and the tie-group arrays of the
    partial likelihood (the order of the rows within a tie group is
    immaterial: the partial likelihood depends on the group's sums only)."""
    order = np.argsort(-time) if np.all(strata == strata[0]) else np.lexsort((-time, strata))
    t, e, s = time[order], event[order], strata[order]
    n = t.size
    new_stratum = np.r_[True, s[1:] != s[:-1]]
    new_group = new_stratum | np.r_[True, t[1:] != t[:-1]]
    starts = np.flatnonzero(new_group)  # the first row of each tie group
    group = np.cumsum(new_group) - 1
    last = np.r_[starts[1:] - 1, n - 1]  # the last row of each tie group
    stratum_of_group = np.cumsum(new_stratum)[starts] - 1
    first = np.flatnonzero(new_stratum)[stratum_of_group]  # the first row of its stratum
    n_dead = np.add.reduceat(e, starts)
    # rank of each event within its tie group (0, 1, ...)
    cum = np.cumsum(e)
    rank = np.where(e > 0, cum - 1 - (cum[starts] - e[starts])[group], 0.0)
    return order, {"event": e.astype(np.float64), "group": group, "last": last, "first": first,
                   "n_dead": n_dead, "rank": rank,
                   "stratum_start": new_stratum[starts]}  # the first tie group of each stratum


def coxph(formula_or_y: Any, data_or_X: Any = None, ties: str = "efron", *, strata: Any = None,
          weights: Any = None, missing: str = "raise", **fit_kwargs) -> CoxResult:  # fmt: skip
    """Cox proportional hazards regression (R ``survival::coxph``).

    Parameters
    ----------
    formula_or_y : str or Surv
        ``"Surv(time, event) ~ x1 + x2"`` (``event`` 1 for an event, 0 for
        right censoring; an expression such as ``status == 2`` is evaluated).
        The intercept is dropped (the baseline hazard absorbs it). Or the
        response as arrays, ``lx.Surv(time, event)``
        (:class:`~likelihax.Surv`), with ``data_or_X`` the covariates.
    data_or_X : DataFrame, dict of columns, or array
        The formula's data; or, with a :class:`~likelihax.Surv`, the
        covariate matrix ``X`` (n, p), with no intercept column (nor any
        constant one); its columns are named by a DataFrame's names or
        ``x0, x1, ...``. Not modified.
    ties : {"efron", "breslow"}
        Handling of tied event times (module notes).
    strata : str or array, optional
        A separate baseline hazard per stratum (R's ``strata()`` term): a
        column name (with a formula) or one label per row.
    weights : str or array, optional
        Case weights (a column name, with a formula, or one positive number
        per row), as ``coxph(weights =)``: the weighted partial likelihood
        (module notes).
    missing : {"raise", "drop"}
        ``"drop"``: with a formula only.
    **fit_kwargs
        Passed to :func:`likelihax.fit` (``cov="sandwich"`` for the robust,
        Lin-Wei, covariance of ``coxph(..., robust = TRUE)``; clustered:
        :meth:`CoxResult.vcov`).

    Returns
    -------
    CoxResult

    Raises
    ------
    ValueError
        Event codes other than 0/1, negative or missing times, weights not
        positive and finite, non-finite covariates (naming the rows); no
        events; an unknown ``ties``; a covariate constant within every
        stratum (the strata's baselines absorb it); ``X`` with another number
        of rows than the response; an interval-censored response.
    TypeError
        A formula with an array as its data; a response that is neither a
        formula nor a :class:`~likelihax.Surv`; a column name or
        ``missing="drop"`` with arrays.

    Examples
    --------
    >>> import numpy as np, pandas as pd, likelihax as lx
    >>> rng = np.random.default_rng(3)
    >>> x = rng.normal(size=1000)
    >>> t = rng.exponential(np.exp(-0.7 * x))    # hazard ratio exp(0.7) per unit of x
    >>> c = rng.exponential(2.0, 1000)
    >>> df = pd.DataFrame({"t": np.minimum(t, c), "d": (t <= c).astype(int), "x": x})
    >>> r = lx.coxph("Surv(t, d) ~ x", df)
    >>> round(r.coef["x"], 1)
    0.7

    From arrays (the same fit; columns ``x0, x1, ...`` for an array ``X``):

    >>> ra = lx.coxph(lx.Surv(df["t"], df["d"]), x)
    >>> ra.coef["x0"] == r.coef["x"], ra.loglik == r.loglik
    (True, True)
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow'; got {ties!r}.")
    des, time, event, frame = _cox_inputs(formula_or_y, data_or_X, missing)
    rows = des.rows
    n_input = time.size
    time, event = time[rows], event[rows]
    w = np.ones(rows.size)
    if weights is not None:
        w = per_row(frame, weights, "weights", n_input, column_values).astype(np.float64)[rows]
        rows_error(~(np.isfinite(w) & (w > 0)), rows, "have weights that are not positive")
    rows_error(np.isnan(time) | np.isnan(event), rows, "have a missing time or event")
    rows_error(time < 0, rows, "have negative times")
    rows_error(~np.isin(event, (0.0, 1.0)), rows,
               "have event codes other than 0/1 (write e.g. Surv(time, status == 2))")  # fmt: skip
    if not np.any(event == 1):
        raise ValueError("No events: the partial likelihood is flat.")
    codes = np.zeros(rows.size, np.int64)
    if strata is not None:
        lab = per_row(frame, strata, "strata", n_input)[rows]
        codes = np.unique(lab.astype(str), return_inverse=True)[1]
    keep = [j for j, c in enumerate(des.columns) if c != "Intercept"]
    cols = [des.columns[j] for j in keep]
    if not cols:
        raise ValueError(f"{'X' if frame is None else 'The formula'} has no covariates: "
                         "nothing to estimate.")  # fmt: skip
    X = des.X[:, keep]
    check_rank(X, cols)
    if strata is not None:
        _strata_identifiable(X, cols, codes)
    order, layout = _sorted_layout(time, event, codes)
    ws = w[order]
    # the partial likelihood's per-group mean event weight and Efron's k/d
    mw = np.bincount(layout["group"], weights=ws * layout["event"], minlength=layout["n_dead"].size)
    nd = np.maximum(layout["n_dead"], 1)
    # (X was checked finite with the design, the group codes are small: the
    # engine need not read them again)
    data_ = {**layout, "X": checked_view(X[order]), "w": ws, "mw": mw / nd,
             "frac": layout["rank"] / nd[layout["group"]],
             "group": checked_view(layout["group"])}  # fmt: skip
    loglik = _CoxLoglik(tuple(cols), ties == "efron", strata is not None)
    # The rows' terms read the risk sets (all rows): never split into blocks.
    fit_kwargs.setdefault("chunk_size", False)
    res = Model(loglik, {"beta": dict.fromkeys(cols, 0.0)}, name="Cox regression").fit(
        data_, **fit_kwargs)  # fmt: skip
    header = [("Ties", ties), ("Rows", str(des.nobs)), ("Events", str(int(event.sum())))]
    if strata is not None:
        header.append(("Strata", str(int(codes.max()) + 1)))
    notes = ["hazard = h0(t) exp(x'beta); beta are log hazard ratios."]
    res = res.annotate("Cox proportional hazards", header, notes).replace(
        model_info=ModelInfo(kind="cox"))
    st = None
    if strata is not None:
        labels = [str(v) for v in np.unique(lab.astype(str))]
        st = (strata if isinstance(strata, str) else None, labels, codes[order])
    return CoxResult(res, des, loglik, ties, event.sum(), keep, order, data_, time[order], st)


def _cox_inputs(formula_or_y, data_or_X, missing):
    """The design, the times and events of all input rows, and the data frame
    (None for arrays), from a formula and its data or a Surv and ``X``."""
    des, time, event, interval, frame = inputs("coxph", formula_or_y, data_or_X,
                                               missing=missing, response="cox")  # fmt: skip
    if interval:
        raise ValueError("coxph takes Surv(time, event); interval censoring is not supported.")
    return des, time, event, frame


def _strata_identifiable(X, cols, codes):
    """ValueError naming the covariates that are constant within every
    stratum (the stratified partial likelihood does not depend on them)."""
    n_s = int(codes.max()) + 1
    lo = np.full((n_s, X.shape[1]), np.inf)
    hi = np.full((n_s, X.shape[1]), -np.inf)
    np.minimum.at(lo, codes, X)
    np.maximum.at(hi, codes, X)
    flat = [c for j, c in enumerate(cols) if np.all(hi[:, j] - lo[:, j] <= 0)]
    if flat:
        raise ValueError(f"{flat} are constant within every stratum: the strata's baseline "
                         "hazards absorb them, so their coefficients are not identified. "
                         "Drop them from the covariates (or from strata).")  # fmt: skip

