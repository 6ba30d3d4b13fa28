"""Predictions over one covariate with an interval band: a compute/draw pair.

:func:`prediction_grid` computes the table (no matplotlib): the covariate on
an even grid over its observed range (or given values), every other covariate
at its mean (numeric) or most frequent value, as R's
``marginaleffects::plot_predictions(condition = "x")``; :func:`plot_predictions`
draws it (a line per class for per-class predictions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..inference import datagrid, predict, predictor_of

__all__ = ["plot_predictions", "prediction_grid"]


def prediction_grid(
    result,
    over: str,
    *,
    values: Any = None,
    n: int = 50,
    at: dict | None = None,
    newdata: Any = None,
    which: str | None = None,
    fn: Callable | None = None,
    interval: str = "delta",
    level: float = 0.95,
    n_draws: int = 1000,
    seed: int = 0,
    ci_scale: str = "response",
):
    """Predictions over a grid of one covariate, others at typical values.

    Parameters
    ----------
    result : FitResult or model result
        As :func:`likelihax.predict`.
    over : str
        The covariate on the horizontal axis.
    values : array, optional
        Its values; default ``n`` points evenly over its range in the rows.
    n : int
        Grid size.
    at : dict, optional
        Values of other covariates (default: mean or most frequent).
    newdata : DataFrame or dict, optional
        Rows whose means and ranges are used (default: the fitted rows).
    which, fn, interval, level, n_draws, seed, ci_scale
        As :func:`likelihax.predict` (``ci_scale="link"`` keeps a GLM's band
        within the response's range).

    Returns
    -------
    pandas.DataFrame
        :func:`likelihax.predict`'s table, one row per grid value (and class).

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> from likelihax.plots import prediction_grid
    >>> X = np.column_stack([np.ones(5), [1.0, 2, 3, 4, 5]])
    >>> r = lx.glm(np.array([1, 3, 2, 6, 8]), X, family="poisson", columns=["one", "x"])
    >>> t = prediction_grid(r, "x", n=3)
    >>> t.x.tolist(), bool(np.allclose(t.estimate, np.exp(r.coef[0] + r.coef[1] * t.x)))
    ([1.0, 3.0, 5.0], True)
    """
    pred = predictor_of(result, which, fn)
    rows = pred.rows(newdata)
    if over not in rows:
        raise ValueError(f"over: {over!r} is not a covariate of the rows.")
    x = np.asarray(rows[over])
    if values is None:
        if x.dtype.kind not in "iuf" or over in pred.factors:
            values = sorted(set(x.tolist()), key=str)
        else:
            values = np.linspace(float(np.min(x)), float(np.max(x)), int(n))
    grid = datagrid(result, newdata, which=which, fn=fn, **{**(at or {}), over: list(values)})
    return predict(result, grid, fn, which=which, interval=interval, level=level,
                   n_draws=n_draws, seed=seed, ci_scale=ci_scale)  # fmt: skip


def plot_predictions(result, over: str, *, ax=None, band: bool = True, **options):
    """Plot predictions over one covariate with their interval band.

    Parameters
    ----------
    result : FitResult or model result
    over : str
        The covariate on the horizontal axis.
    ax : matplotlib Axes, optional
    band : bool
        Shade the interval (``gid="interval"``); the line has ``gid="prediction"``.
    **options
        Passed to :func:`prediction_grid` (``values``, ``n``, ``at``,
        ``which``, ``fn``, ``interval``, ``level``, ...).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, likelihax as lx
    >>> X = np.column_stack([np.ones(5), [1.0, 2, 3, 4, 5]])
    >>> r = lx.glm(np.array([1, 3, 2, 6, 8]), X, family="poisson", columns=["one", "x"])
    >>> ax = lx.plot_predictions(r, "x")
    >>> ax.get_xlabel(), [a.get_gid() for a in ax.lines]
    ('x', ['prediction'])
    """
    from ._draw import _axes

    t = prediction_grid(result, over, **options)
    ax = _axes(ax)
    groups = [None] if "group" not in t.columns else list(dict.fromkeys(t["group"]))
    numeric = np.asarray(t[over]).dtype.kind in "iuf" and over not in predictor_of(
        result, options.get("which"), options.get("fn")).factors
    for g in groups:
        part = t if g is None else t[t["group"] == g]
        x = np.asarray(part[over]) if numeric else np.arange(len(part))
        label = None if g is None else str(g)
        if numeric:
            (line,) = ax.plot(x, part["estimate"], label=label, gid="prediction")
            if band and "conf_low" in part:
                ax.fill_between(x, part["conf_low"], part["conf_high"], alpha=0.25,
                                color=line.get_color(), gid="interval")  # fmt: skip
        else:
            err = None
            if band and "conf_low" in part:
                err = np.vstack([part["estimate"] - part["conf_low"],
                                 part["conf_high"] - part["estimate"]])  # fmt: skip
            ax.errorbar(x, part["estimate"], yerr=err, fmt="o", label=label, gid="prediction")
            ax.set_xticks(x, [str(int(v)) if isinstance(v, float) and v.is_integer()
                              else str(v) for v in part[over]])  # fmt: skip
    ax.set_xlabel(over)
    ax.set_ylabel("prediction")
    if groups != [None]:
        ax.legend(title="class")
    return ax
