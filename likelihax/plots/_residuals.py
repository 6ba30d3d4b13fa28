"""Residual plots of randomized quantile residuals: QQ and residual vs fitted.

:func:`plot_residuals` draws a :class:`~likelihax.results.QuantileResiduals`
record (from :func:`likelihax.quantile_residuals`), or computes one from a
model result first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from ..results import QuantileResiduals, quantile_residuals
from ._draw import _plt

__all__ = ["plot_residuals"]


def plot_residuals(result: Any, *, scale: str = "normal", n_sims: int = 250,
                   seed: int = 0, conditional: bool | None = None, axes=None):  # fmt: skip
    r"""QQ plot of randomized quantile residuals and residuals against fitted values.

    Under a correctly specified model the residuals are standard normal
    (``scale="normal"``) or uniform (``scale="uniform"``, DHARMa's scale): the
    QQ points follow the diagonal, and the residuals show no trend or change
    of spread along the fitted values (the right panel marks the 0.25, 0.5 and
    0.75 quantiles of the reference distribution).

    Parameters
    ----------
    result : QuantileResiduals or model result
        A record of :func:`likelihax.quantile_residuals`, or a model result
        to compute one from (with ``n_sims``, ``seed``, ``conditional``).
    scale : {"normal", "uniform"}
    n_sims, seed, conditional
        As in :func:`likelihax.quantile_residuals` (model results only).
    axes : pair of Axes, optional
        Where to draw (default a new figure with two panels).

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> y = np.random.default_rng(0).poisson(2.0, size=200)
    >>> fig = lx.plot_residuals(lx.glm(y, np.ones((200, 1)), family="poisson"))
    >>> [ax.get_title() for ax in fig.axes]
    ['QQ plot (normal)', 'Residuals vs fitted']
    """
    if scale not in ("normal", "uniform"):
        raise ValueError(f"scale must be 'normal' or 'uniform'; got {scale!r}.")
    from .. import models  # noqa: F401  (registers the models' response laws)

    res = result if isinstance(result, QuantileResiduals) else quantile_residuals(
        result, n_sims=n_sims, seed=seed, conditional=conditional)  # fmt: skip
    plt = _plt()
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.8), layout="constrained")
    else:
        fig = axes[0].figure
    ax_qq, ax_rf = axes
    r = res.residuals if scale == "normal" else res.uniform
    n = r.size
    p = (np.arange(1, n + 1) - 0.5) / n
    theo = stats.norm.ppf(p) if scale == "normal" else p
    ax_qq.plot(theo, np.sort(r), "o", ms=3, alpha=0.6, gid="qq-points")
    lo, hi = theo[0], theo[-1]
    ax_qq.plot([lo, hi], [lo, hi], color="0.3", lw=1, gid="qq-line")
    ax_qq.set_xlabel(f"{scale} quantiles")
    ax_qq.set_ylabel(f"quantile residuals ({res.method})")
    ax_qq.set_title(f"QQ plot ({scale})")
    ax_rf.plot(res.fitted, r, "o", ms=3, alpha=0.6, gid="resid-points")
    ref = stats.norm.ppf([0.25, 0.5, 0.75]) if scale == "normal" else [0.25, 0.5, 0.75]
    for q in ref:
        ax_rf.axhline(q, color="0.3", lw=1, ls="--" if q != ref[1] else "-")
    ax_rf.set_xlabel("fitted mean")
    ax_rf.set_ylabel("quantile residual")
    ax_rf.set_title("Residuals vs fitted")
    return fig
