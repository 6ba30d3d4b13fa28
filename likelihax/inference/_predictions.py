r"""Predictions with standard errors and intervals: delta method, simulation, bootstrap.

:func:`predict` evaluates a :class:`~likelihax.inference.Predictor` (a model's
natural quantity, or any ``fn(params, data)``) at the estimate and reports a
tidy table, one row per predicted value, as R's
``marginaleffects::predictions`` and statsmodels'
``get_prediction().summary_frame()``. For a prediction
:math:`g(\hat\theta)` (a vector over rows):

* ``interval="delta"``: :math:`\mathrm{SE} = \sqrt{\operatorname{diag}(G\hat V
  G^\top)}`, :math:`G = \partial g/\partial\theta` by forward-mode automatic
  differentiation, and Wald intervals :math:`g \mp z_{1-\alpha/2}\mathrm{SE}`;
* ``interval="simulation"`` (Krinsky and Robb, 1986): ``n_draws`` parameter
  vectors :math:`\theta^{(s)} \sim N(\hat\theta, \hat V)` (seeded,
  natural scale), :math:`g(\theta^{(s)})` under ``jax.vmap``; the standard
  error is the draws' standard deviation and the interval their
  :math:`\alpha/2` and :math:`1-\alpha/2` quantiles;
* ``interval="bootstrap"``: the same with the parameter replicates of
  :func:`likelihax.bootstrap` (nonparametric, refits under ``vmap``).

:math:`\hat V` is the fit's covariance (or ``cov=``, a kind name or a
:class:`~likelihax.Covariance`); fixed parameters get zero variance.

References
----------
Krinsky, I. & Robb, A. L. (1986). On approximating the statistical properties
of elasticities. *The Review of Economics and Statistics*, 68(4), 715-719.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..core import x64_scope
from ..results import as_fit, pandas_for
from ._delta import _natural_cov
from ._predictor import predictor_of

__all__ = ["predict", "estimate_table"]

INTERVALS = (None, "delta", "simulation", "bootstrap")


def as_jax(tree):
    """The numeric leaves of ``tree`` as float64/int JAX arrays (inside x64)."""
    def one(a):
        a = np.asarray(a)
        if a.dtype.kind in "biu":
            return jnp.asarray(a)
        if a.dtype.kind != "f":
            raise TypeError(
                f"The data of a prediction must be numbers; got an array of dtype "
                f"{a.dtype} (turn strings into codes, or pass numeric columns only)."
            )
        return jnp.asarray(a, jnp.float64)
    return jax.tree_util.tree_map(one, tree)


def _check_options(interval, level, n_draws):
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {INTERVALS}; got {interval!r}.")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}.")
    if interval in ("simulation", "bootstrap") and int(n_draws) < 2:
        raise ValueError(f"n_draws must be at least 2; got {n_draws}.")


def _parameter_draws(result, fit, interval, V, n_draws, seed):
    """``(n_draws, k)`` natural-scale parameter vectors: normal draws or bootstrap."""
    theta = np.asarray(fit.params_flat, dtype=np.float64)
    if interval == "simulation":
        with x64_scope():
            key = jax.random.PRNGKey(int(seed))
            return np.asarray(jax.random.multivariate_normal(
                key, jnp.asarray(theta), jnp.asarray(V), (int(n_draws),), method="eigh"))
    from ._bootstrap import bootstrap

    spec = fit.spec
    reported = np.asarray(spec.reported)
    free = np.flatnonzero(~fit.fixed_mask)
    if not set(free.tolist()) <= set(reported.tolist()):
        raise ValueError(
            "interval='bootstrap' needs every free parameter among the reported "
            "labels; this model reports some in part (e.g. a triangle of a "
            "symmetric matrix): use interval='simulation' instead."
        )
    boot = bootstrap(result, int(n_draws), seed=int(seed))
    draws = np.tile(theta, (boot.replicates.shape[0], 1))
    draws[:, reported] = boot.replicates
    return draws


def estimate_table(result, g: Callable, *, se: bool = True, interval: str | None = "delta",
                   level: float = 0.95, cov: Any = None, n_draws: int = 1000,
                   seed: int = 0, default_cov: Any = None) -> dict:  # fmt: skip
    r"""Estimates of ``g(theta)`` with standard errors and intervals, as columns.

    Parameters
    ----------
    result : FitResult or model result
    g : callable
        JAX function of the flat natural-scale parameters (``fit.params_flat``
        order) returning a vector.
    se, interval, level, cov, n_draws, seed
        As in :func:`predict`.
    default_cov : ndarray, optional
        Covariance over every natural-scale element used when ``cov`` is None
        (:attr:`Predictor.natural_cov`).

    Returns
    -------
    dict of ndarray
        ``estimate`` and, with ``se``, ``std_error``, ``statistic``,
        ``p_value``; with an interval, ``conf_low`` and ``conf_high``.

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> from likelihax.inference import estimate_table
    >>> y = np.array([0.5, 1.5, 1.0, 2.0])
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0), {"mu": 0.0}, {"y": y})
    >>> t = estimate_table(f, lambda th: 2.0 * th)   # 2 * mean, SE 2 / sqrt(n)
    >>> float(t["estimate"][0]), float(t["std_error"][0])
    (2.5, 1.0)
    """
    _check_options(interval, level, n_draws)
    fit = as_fit(result)
    theta = np.asarray(fit.params_flat, dtype=np.float64)
    with x64_scope():
        th = jnp.asarray(theta)
        est = np.asarray(jax.jit(g)(th), dtype=np.float64).reshape(-1)
        out = {"estimate": est}
        if not se and interval is None:
            return out
        if cov is None and default_cov is not None:
            V = np.asarray(default_cov, dtype=np.float64)
        else:
            V, _, _ = _natural_cov(fit, cov)
        if interval in (None, "delta"):
            J = np.asarray(jax.jit(jax.jacfwd(g))(th)).reshape(est.size, theta.size)
            sd = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", J, V, J), 0.0))
        else:
            draws = _parameter_draws(result, fit, interval, V, n_draws, seed)
            vals = np.asarray(jax.jit(jax.vmap(g))(jnp.asarray(draws)))
            vals = vals.reshape(len(draws), -1)
            sd = np.std(vals, axis=0, ddof=1)
    if se:
        out["std_error"] = sd
        with np.errstate(divide="ignore", invalid="ignore"):
            out["statistic"] = est / sd
        out["p_value"] = np.array([math.erfc(abs(z) / math.sqrt(2.0)) for z in out["statistic"]])
    if interval == "delta":
        q = NormalDist().inv_cdf(0.5 + level / 2)
        out["conf_low"], out["conf_high"] = est - q * sd, est + q * sd
    elif interval is not None:
        a = (1 - level) / 2
        out["conf_low"] = np.quantile(vals, a, axis=0)
        out["conf_high"] = np.quantile(vals, 1 - a, axis=0)
    return out


def frame_columns(frame, m: int) -> dict:
    """Columns of ``frame`` with ``m`` rows, for the output table."""
    if frame is None:
        return {}
    if hasattr(frame, "columns") and hasattr(frame, "iloc"):
        return {str(c): frame[c].to_numpy() for c in frame.columns} if len(frame) == m else {}
    return {k: np.asarray(v) for k, v in frame.items()
            if not isinstance(v, dict) and np.ndim(v) == 1 and len(v) == m}  # fmt: skip


def tidy(columns: dict, table: dict, classes, m: int):
    """The DataFrame: ``rowid``, the rows' columns, ``group`` for classes, then ``table``."""
    pd = pandas_for("likelihax.predict")
    k = 1 if classes is None else len(classes)
    idx = np.repeat(np.arange(m), k)
    cols = {"rowid": idx}
    cols.update({c: v[idx] for c, v in columns.items() if c not in table and c != "rowid"})
    if classes is not None:
        cols["group"] = np.tile(np.asarray(classes, dtype=object), m)
    cols.update(table)
    return pd.DataFrame(cols)


def predict(
    result,
    newdata: Any = None,
    fn: Callable | None = None,
    *,
    which: str | None = None,
    se: bool = True,
    interval: str | None = "delta",
    level: float = 0.95,
    cov: Any = None,
    n_draws: int = 1000,
    seed: int = 0,
    ci_scale: str = "response",
    by: Any = None,
):
    r"""Predictions of any model, with standard errors and intervals, as a table.

    Parameters
    ----------
    result : FitResult or model result
        A fit from :func:`likelihax.fit` (then ``fn`` is needed) or a model
        result with a ``predictor`` method (:func:`likelihax.glm`,
        :func:`likelihax.mixed`, :func:`likelihax.mnlogit`,
        :func:`likelihax.ordinal`, :func:`likelihax.zeroinfl`, ...).
    newdata : DataFrame, dict or array, optional
        The rows to predict: the covariates of a formula model, the model
        matrix of an array model, or the data ``fn`` reads. Default: the
        fitted rows (with their offsets).
    fn : callable, optional
        ``fn(params, data)``: any JAX function of the natural-scale parameter
        pytree and the data (a dict of arrays) returning one value per row, or
        ``(m, k)``.
    which : str, optional
        The model's quantity, as its ``predict`` method names it: GLMs
        ``"response"`` (default) or ``"link"``; mixed models also
        ``"population"``/``"population_link"``; ``mnlogit``/``ordinal``
        ``"prob"``; count models ``"zero"``, ``"count"``, ``"zero_part"``.
    se : bool
        Report ``std_error``, ``statistic`` (estimate / SE) and ``p_value``.
    interval : {"delta", "simulation", "bootstrap", None}
        How intervals are made (module notes); None: no interval.
    level : float
        Confidence level.
    cov : None, str or Covariance, optional
        The covariance of the estimates (default the fit's), as in
        :func:`likelihax.delta_method`.
    n_draws : int
        Draws (simulation) or replicates (bootstrap).
    seed : int
        Seed of the draws or resamples.
    ci_scale : {"response", "link"}
        ``"link"``: a delta-method interval made on the linear predictor's
        scale and mapped through the inverse link (it stays within the
        response's range), as statsmodels' GLM ``summary_frame`` and R
        ``marginaleffects``' ``type = "invlink(link)"``; for a model whose
        prediction is an inverse link (GLMs, mixed models). The standard error
        stays the response scale's.
    by : True, str or list of str, optional
        Average the predictions over the rows (``True``) or over the rows of
        each combination of the values of these columns of the rows
        (``marginaleffects::avg_predictions(by = )``, Stata ``margins
        x``), with the standard errors of the averages.

    Returns
    -------
    pandas.DataFrame
        ``rowid``, the rows' columns, ``group`` (the class, for per-class
        predictions), ``estimate``, and as asked ``std_error``, ``statistic``,
        ``p_value``, ``conf_low``, ``conf_high``. With ``by``: one row per
        combination of the ``by`` columns (and class), no ``rowid``.

    Examples
    --------
    A Poisson regression; the prediction and its SE are the closed forms
    :math:`e^{x^\top\hat\beta}` and :math:`\hat\mu\sqrt{x^\top\hat V x}`:

    >>> import numpy as np, likelihax as lx
    >>> X = np.column_stack([np.ones(5), [1.0, 2, 3, 4, 5]])
    >>> r = lx.glm(np.array([1, 3, 2, 6, 8]), X, family="poisson")
    >>> t = lx.predict(r, np.array([[1.0, 6.0]]))
    >>> mu = np.exp(r.coef @ [1.0, 6.0])
    >>> se = mu * np.sqrt(np.array([1.0, 6.0]) @ r.beta_cov @ [1.0, 6.0])
    >>> bool(np.isclose(t.estimate[0], mu)), bool(np.isclose(t.std_error[0], se))
    (True, True)

    The mean prediction over the fitted rows (``avg_predictions``):

    >>> a = lx.predict(r, by=True)
    >>> bool(np.isclose(a.estimate[0], np.mean(np.exp(X @ r.coef))))
    True

    Any function of the parameters and data of a plain fit:

    >>> import jax.numpy as jnp, jax.scipy.stats as st
    >>> d = {"x": np.array([0.0, 1.0, 2.0, 3.0]), "y": np.array([0.2, 0.9, 2.1, 2.8])}
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["a"] + p["b"] * d["x"], 0.5),
    ...            {"a": 0.0, "b": 0.0}, d)
    >>> t = lx.predict(f, {"x": np.array([10.0])}, fn=lambda p, d: p["a"] + p["b"] * d["x"])
    >>> list(t.columns)
    ['rowid', 'x', 'estimate', 'std_error', 'statistic', 'p_value', 'conf_low', 'conf_high']
    """
    pred = predictor_of(result, which, fn)
    frame = pred.rows(newdata)
    spec = pred.fit.spec
    with x64_scope():
        data = as_jax(pred.build(frame))
        shape = jax.eval_shape(lambda: pred.fn(spec.unflatten_natural(
            jnp.asarray(np.asarray(pred.fit.params_flat, np.float64))), data)).shape
    if len(shape) not in (1, 2):
        raise ValueError(
            f"A prediction must give one value per row, (m,), or per row and class, "
            f"(m, k); got shape {shape}."
        )
    m = shape[0]
    classes = pred.classes
    if len(shape) == 2 and classes is None:
        classes = tuple(range(shape[1]))

    codes, groups = _groups(frame, by, m)

    def g(theta):
        y = pred.fn(spec.unflatten_natural(theta), data)
        if codes is not None:
            y = jax.ops.segment_sum(y, codes, len(groups[0])) / groups[0].reshape(
                (-1,) + (1,) * (y.ndim - 1))  # fmt: skip
        return jnp.reshape(y, -1)

    options = dict(level=level, cov=cov, n_draws=n_draws, seed=seed,
                   default_cov=pred.natural_cov)  # fmt: skip
    # a predictor may predict from a fit other than the result's own (a GAM's
    # coefficients, whose result's fit is of its smoothing parameters)
    owner = result if fn is None and pred.fit is as_fit(result) else pred.fit
    table = estimate_table(owner, g, se=se, interval=interval, **options)
    if ci_scale not in ("response", "link"):
        raise ValueError(f"ci_scale must be 'response' or 'link'; got {ci_scale!r}.")
    if ci_scale == "link" and interval == "delta":
        if codes is not None:
            raise ValueError("ci_scale='link' does not apply to averages (by=): the "
                             "mean of the predictions is not an inverse link.")  # fmt: skip
        if pred.link is None:
            raise ValueError(
                f"ci_scale='link': this prediction ({pred.which!r}) is not an inverse "
                "link of another of the model's predictions."
            )
        lp = predictor_of(result, pred.link[0])

        def g_link(theta):
            return jnp.reshape(lp.fn(spec.unflatten_natural(theta), data), -1)

        t = estimate_table(owner, g_link, se=True, interval="delta", **options)
        with x64_scope():
            a, b = (np.asarray(pred.link[1](jnp.asarray(t[k]))) for k in ("conf_low", "conf_high"))
        table["conf_low"], table["conf_high"] = np.minimum(a, b), np.maximum(a, b)
    if codes is None:
        return tidy(frame_columns(frame, m), table, classes, m)
    return tidy(groups[1], table, classes, len(groups[0])).drop(columns="rowid")


def _groups(frame, by, m):
    """``(codes, (counts, columns))`` of the rows' groups for ``predict(by=)``:
    each row's group, the groups' sizes and their ``by`` values; ``(None,
    None)`` without ``by``."""
    if by is None or by is False:
        return None, None
    if by is True:
        return np.zeros(m, np.int32), (np.array([float(m)]), {})
    names = [by] if isinstance(by, str) else list(by)
    cols = frame_columns(frame, m)
    missing = [c for c in names if c not in cols]
    if missing:
        raise ValueError(f"by: {missing} are not columns of the rows predicted "
                         f"(columns: {sorted(cols)}).")  # fmt: skip
    pd = pandas_for("likelihax.predict(by=)")
    keys = pd.DataFrame({c: cols[c] for c in names})
    codes = keys.groupby(names, sort=True, dropna=False).ngroup().to_numpy()
    first = keys.iloc[np.unique(codes, return_index=True)[1]]  # one row per group, in order
    counts = np.bincount(codes).astype(np.float64)
    return codes.astype(np.int32), (counts, {c: first[c].to_numpy() for c in names})
