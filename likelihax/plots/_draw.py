"""Matplotlib renderers: each draws one record of :mod:`likelihax.plots._compute`.

matplotlib is imported here only, inside the functions (optional extra
``likelihax[plot]``). Artists that carry the numbers get a ``gid`` (e.g.
``"interval"``, ``"lr-region"``, ``"ci-0"``) so that tests and users can find
them on the Axes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from ..inference import chi2_ppf
from ._compute import (
    CalibrationCurve,
    DistributionCheck,
    ForestTable,
    LoglikSurface,
    MixtureDensity,
    OptimizerTrace,
    distribution_check,
    forest_table,
    mixture_density,
    optimizer_trace,
)

__all__ = [
    "plot_calibration",
    "plot_contour",
    "plot_distribution",
    "plot_forest",
    "plot_mixture",
    "plot_profile",
    "plot_trace",
]


def _plt():
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - exercised with matplotlib hidden
        raise ImportError(
            "likelihax.plots needs matplotlib: pip install likelihax[plot] "
            "(or pip install matplotlib)."
        ) from e
    return plt


def _axes(ax, figsize=(5.0, 3.8)):
    if ax is not None:
        return ax
    _, ax = _plt().subplots(figsize=figsize, layout="constrained")
    return ax


# Docstring sections that every renderer drawing into one Axes has, written
# once: ``{ax}`` is the ``ax`` parameter and ``{returns_axes}`` the Returns
# section with the Examples heading and its line choosing matplotlib's
# file backend (the examples draw without a display).
_SHARED_DOC = {
    "{ax}": "ax : matplotlib Axes, optional",
    "{returns_axes}": """Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")""",
}


def _shared_doc(func):
    """``func`` with the ``_SHARED_DOC`` sections filled into its docstring."""
    if func.__doc__:  # None under python -OO
        for key, text in _SHARED_DOC.items():
            func.__doc__ = func.__doc__.replace(key, text)
    return func


# ----- profile ----------------------------------------------------------------------------------
def _interp_interval(c, zcrit):
    """Interval endpoints where the signed root statistic crosses ``-z``, ``+z``."""
    ok = (np.asarray(c["status"]) == 0) & np.isfinite(c["z"])
    z, v = np.asarray(c["z"])[ok], np.asarray(c["value"])[ok]
    out = []
    for side in (-1.0, 1.0):
        m = side * z >= 0
        zs, vs = side * z[m], v[m]
        order = np.argsort(zs)
        zs, vs = zs[order], vs[order]
        out.append(
            float(np.interp(zcrit, zs, vs)) if zs.size > 1 and zs[-1] >= zcrit
            else math.nan
        )  # fmt: skip
    return tuple(out)


@_shared_doc
def plot_profile(
    profile,
    which: str | None = None,
    *,
    ci=None,
    alpha: float = 0.05,
    ax=None,
):
    r"""Profile log-likelihood with the confidence interval marked.

    Draws the curve of :func:`likelihax.profile`, the cut
    :math:`\hat\ell - \chi^2_{1,1-\alpha}/2` (horizontal, ``gid="threshold"``)
    and the interval (vertical lines, ``gid="interval"``): the endpoints of
    ``ci`` (a :func:`likelihax.profile_ci` result, whose level then replaces
    ``alpha``) or, without ``ci``, the crossings interpolated on the grid.

    Parameters
    ----------
    profile : Profile
        From :func:`likelihax.profile`.
    which : str, optional
        The parameter; default every profiled parameter (one panel each).
    ci : ProfileCI, optional
        Exact interval endpoints to mark.
    alpha : float
        1 - confidence level (without ``ci``).
    {ax}
        For a single parameter.

    Returns
    -------
    Axes, or a Figure for several parameters.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, jax.numpy as jnp, likelihax as lx
    >>> y = np.array([0.4, 1.9, 0.7, 3.1, 1.2, 0.2, 2.4, 0.9])
    >>> f = lx.fit(lambda p, d: jnp.log(p["rate"]) - p["rate"] * d["y"],
    ...            {"rate": 1.0}, {"y": y},
    ...            constraints={"rate": lx.constraints.positive})
    >>> ax = lx.plots.plot_profile(lx.profile(f, n_points=9), ci=lx.profile_ci(f))
    >>> ax.get_xlabel()
    'rate'
    """
    labels = list(profile.curves) if which is None else [which]
    for lab in labels:
        if lab not in profile.curves:
            raise KeyError(
                f"'{lab}' was not profiled; profiled: {list(profile.curves)}."
            )
    if len(labels) > 1:
        if ax is not None:
            raise ValueError("ax= is for one parameter; pass which=.")
        plt = _plt()
        fig, axes = plt.subplots(
            1, len(labels), figsize=(4.2 * len(labels), 3.6), layout="constrained",
            squeeze=False,
        )  # fmt: skip
        for a, lab in zip(axes[0], labels):
            plot_profile(profile, lab, ci=ci, alpha=alpha, ax=a)
        return fig
    lab = labels[0]
    ax = _axes(ax)
    c = profile.curves[lab]
    if ci is not None:
        if lab not in ci.labels:
            raise KeyError(f"ci has no interval for '{lab}'; it has {ci.labels}.")
        alpha = 1.0 - ci.level
        lo, hi = ci[lab]
        how = f"profile_ci {ci.level:.0%}"
    else:
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
        lo, hi = _interp_interval(c, NormalDist().inv_cdf(1 - alpha / 2))
        how = f"{1 - alpha:.0%} (grid interpolation)"
    ok = np.asarray(c["status"]) == 0
    ax.plot(np.asarray(c["value"])[ok], np.asarray(c["loglik"])[ok], "-",
            color="C0", label="profile log-likelihood", gid="curve")  # fmt: skip
    thr = profile.loglik - chi2_ppf(1 - alpha, 1) / 2
    ax.axhline(thr, color="0.4", ls=":", lw=1, gid="threshold",
               label=r"$\hat\ell - \chi^2_{1}/2$")  # fmt: skip
    ends = [v for v in (lo, hi) if np.isfinite(v)]
    if ends:
        ax.vlines(ends, 0, 1, transform=ax.get_xaxis_transform(), colors="C3",
                  linestyles="--", gid="interval", label=f"interval, {how}")  # fmt: skip
    ax.plot([profile.estimate[lab]], [profile.loglik], "o", color="C1",
            label="MLE", gid="estimate")  # fmt: skip
    ax.set_xlabel(lab)
    ax.set_ylabel("profile log-likelihood")
    ax.set_title(f"Profile likelihood: {lab}")
    ax.legend(fontsize="small")
    return ax


# ----- contour ----------------------------------------------------------------------------------
@_shared_doc
def plot_contour(surface: LoglikSurface, *, ax=None, colorbar: bool = True):
    r"""Log-likelihood contours of two parameters with the confidence regions.

    Filled contours of :func:`likelihax.loglik_surface`, the likelihood-ratio
    region boundary at ``surface.level`` (black, ``gid="lr-region"``), the
    Wald ellipse (white dashes outlined in black, ``gid="wald-ellipse"``) and
    the MLE.

    Parameters
    ----------
    surface : LoglikSurface
    {ax}
    colorbar : bool

    {returns_axes}
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> y = np.array([0.3, 1.2, 2.5, 0.9, 1.6, -0.4, 1.1])
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], p["sigma"]),
    ...            {"mu": 0.0, "sigma": 1.0}, {"y": y},
    ...            constraints={"sigma": lx.constraints.positive})
    >>> ax = lx.plots.plot_contour(lx.loglik_surface(f, "mu", "sigma", grid=15))
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('mu', 'sigma')
    """
    if not isinstance(surface, LoglikSurface):
        raise TypeError("plot_contour draws a LoglikSurface from lx.loglik_surface.")
    from matplotlib import patheffects
    from matplotlib.lines import Line2D

    ax = _axes(ax, (5.2, 4.2))
    x, y, Z = surface.x, surface.y, np.ma.masked_invalid(surface.loglik)
    zmin, zmax = float(Z.min()), float(Z.max())
    handles = []
    if zmax > zmin:
        cf = ax.contourf(x, y, Z, levels=20, cmap="viridis")
        if colorbar:
            ax.figure.colorbar(cf, ax=ax, label="log-likelihood")
    if zmin < surface.level < zmax:
        cs = ax.contour(x, y, Z, levels=[surface.level], colors="k", linewidths=2)
        cs.set_gid("lr-region")
        handles.append(Line2D([], [], color="k", lw=2,
                              label=f"LR region {1 - surface.alpha:.0%}"))  # fmt: skip
    e = surface.ellipse
    # White dashes with a black outline: visible on the dark and the light
    # colours of the map, and in the legend's white box.
    outline = [patheffects.Stroke(linewidth=3.0, foreground="k"), patheffects.Normal()]
    (line,) = ax.plot(e[:, 0], e[:, 1], "--", color="w", lw=1.5, gid="wald-ellipse",
                      label=f"Wald {1 - surface.alpha:.0%}", path_effects=outline)  # fmt: skip
    (pt,) = ax.plot(*surface.estimate, "o", color="C1", label="MLE", gid="estimate")
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(y.min(), y.max())
    ax.set_xlabel(surface.names[0])
    ax.set_ylabel(surface.names[1])
    kind = (
        "profile log-likelihood" if surface.profile else "log-likelihood, others at MLE"
    )
    ax.set_title(f"{surface.names[0]} vs {surface.names[1]}: {kind}", fontsize="medium")
    ax.legend(handles=handles + [line, pt], fontsize="small", loc="upper right")
    return ax


# ----- trace --------------------------------------------------------------------------------------
@_shared_doc
def plot_trace(fit, *, ax=None):
    """Log-likelihood at each accepted iterate (and EM iterations for mixtures).

    Parameters
    ----------
    fit : FitResult or OptimizerTrace
    {ax}

    {returns_axes}
    >>> import numpy as np, jax.numpy as jnp, likelihax as lx
    >>> f = lx.fit(lambda p, d: jnp.log(p["rate"]) - p["rate"] * d["y"],
    ...            {"rate": 5.0}, {"y": np.array([0.5, 1.2, 0.3, 2.0])},
    ...            constraints={"rate": lx.constraints.positive})
    >>> lx.plots.plot_trace(f).get_ylabel()
    'log-likelihood'
    """
    t = fit if isinstance(fit, OptimizerTrace) else optimizer_trace(fit)
    ax = _axes(ax)
    start = 0
    if t.em_loglik.size:
        ax.plot(np.arange(t.em_loglik.size), t.em_loglik, ".-", color="C2",
                label="EM", gid="em-trace")  # fmt: skip
        start = t.em_loglik.size - 1
    ax.plot(start + t.iteration, t.loglik, "o-", color="C0", label=t.method,
            gid="trace")  # fmt: skip
    ax.set_xlabel("iteration")
    ax.set_ylabel("log-likelihood")
    state = "converged" if t.converged else "NOT converged"
    ax.set_title(f"Optimizer trace ({t.method}, {state})", fontsize="medium")
    ax.legend(fontsize="small")
    return ax


# ----- distribution -------------------------------------------------------------------------------
def plot_distribution(fit, x=None, *, family: str | None = None, bins: Any = "auto",
                      axes: Sequence | None = None):  # fmt: skip
    """Fitted density over the histogram, and a QQ plot, for a distribution fit.

    Parameters
    ----------
    fit : FitResult or DistributionCheck
        From :func:`likelihax.fit_distribution` (or its
        :func:`distribution_check`).
    x : array_like, optional
        The sample (default: the fit's data).
    family : str, optional
        Family name, if it cannot be read from the fit.
    bins : int or str
        Histogram bins (continuous families); discrete families use one bar
        per value.
    axes : pair of Axes, optional

    Returns
    -------
    Figure
        Left: histogram (density scale) with the fitted density (``gid="density"``);
        right: sample against fitted quantiles (``gid="qq"``) with the line y = x.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, likelihax as lx
    >>> x = np.random.default_rng(0).gamma(2.0, 1.5, 200)
    >>> fig = lx.plots.plot_distribution(lx.fit_distribution("gamma", x))
    >>> len(fig.axes)
    2
    """
    d = (
        fit
        if isinstance(fit, DistributionCheck)
        else distribution_check(fit, x, family=family)
    )
    if axes is None:
        fig, axes = _plt().subplots(1, 2, figsize=(8.4, 3.6), layout="constrained")
    else:
        if len(axes) != 2:
            raise ValueError("axes must be a pair of Axes (density, QQ).")
        fig = axes[0].figure
    a0, a1 = axes
    if d.discrete:
        vals, counts = np.unique(d.sample, return_counts=True)
        a0.bar(vals, counts / d.sample.size, width=0.8, color="0.75", label="data")
        a0.plot(d.grid, d.density, "o-", color="C3", ms=4, label="fitted pmf",
                gid="density")  # fmt: skip
        a0.set_ylabel("relative frequency")
    else:
        a0.hist(d.sample, bins=bins, density=True, color="0.75", label="data")
        a0.plot(d.grid, d.density, "-", color="C3", label="fitted density",
                gid="density")  # fmt: skip
        a0.set_ylabel("density")
    a0.set_xlabel("x")
    pars = ", ".join(f"{k}={v:.3g}" for k, v in d.params.items())
    a0.set_title(f"{d.family}: {pars}", fontsize="medium")
    a0.legend(fontsize="small")
    a1.plot(d.theoretical, d.sample, "o", ms=3, color="C0", gid="qq")
    lo = float(np.nanmin([d.theoretical.min(), d.sample.min()]))
    hi = float(np.nanmax([d.theoretical[np.isfinite(d.theoretical)].max(),
                          d.sample.max()]))  # fmt: skip
    a1.plot([lo, hi], [lo, hi], "-", color="0.4", lw=1, gid="identity")
    a1.set_xlabel(f"fitted {d.family} quantiles")
    a1.set_ylabel("sample quantiles")
    a1.set_title("QQ plot", fontsize="medium")
    return fig


# ----- mixture ------------------------------------------------------------------------------------
@_shared_doc
def plot_mixture(fit, x, *, bins: Any = "auto", ax=None):
    """Mixture components over the data.

    Univariate mixtures (and one-dimensional Gaussian mixtures): histogram
    with each weighted component :math:`\\pi_k f_k` (``gid="component-k"``)
    and their sum (``gid="mixture"``). Multivariate Gaussian mixtures: the
    data (first two coordinates) with each component's 95% ellipse and mean.

    Parameters
    ----------
    fit : FitResult or MixtureDensity
        From :func:`likelihax.univariate_mixture` or
        :func:`likelihax.gaussian_mixture` (or :func:`mixture_density`).
    x : array_like
        The data.
    bins : int or str
    {ax}

    {returns_axes}
    >>> import numpy as np, likelihax as lx
    >>> rng = np.random.default_rng(1)
    >>> y = np.concatenate([rng.normal(0, 1, 150), rng.normal(5, 1, 100)])
    >>> ax = lx.plots.plot_mixture(lx.univariate_mixture(y, 2, starts=2), y)
    >>> ax.get_title()
    'normal mixture, K=2'
    """
    m = fit if isinstance(fit, MixtureDensity) else mixture_density(fit, x)
    xa = np.asarray(x, dtype=float)
    ax = _axes(ax)
    K = m.weights.size
    if m.family == "gaussian":
        pts = xa.reshape(xa.shape[0], -1)
        ax.plot(pts[:, 0], pts[:, 1], ".", color="0.6", ms=3, label="data")
        t = np.linspace(0.0, 2.0 * np.pi, 121)
        c = chi2_ppf(0.95, 2)
        for k in range(K):
            S = m.covs[k][:2, :2]
            w, Q = np.linalg.eigh(S)
            e = m.means[k][:2, None] + (Q * np.sqrt(np.maximum(w, 0) * c)) @ np.stack(
                [np.cos(t), np.sin(t)]
            )
            ax.plot(e[0], e[1], "-", color=f"C{k}", gid=f"component-{k}",
                    label=f"component {k + 1} (w={m.weights[k]:.2f})")  # fmt: skip
            ax.plot(*m.means[k][:2], "x", color=f"C{k}", ms=8)
        ax.set_xlabel("x[0]")
        ax.set_ylabel("x[1]")
    else:
        xs = xa.ravel()
        if m.family == "poisson":
            vals, counts = np.unique(xs, return_counts=True)
            ax.bar(vals, counts / xs.size, width=0.8, color="0.8", label="data")
            ax.set_ylabel("relative frequency")
        else:
            ax.hist(xs, bins=bins, density=True, color="0.8", label="data")
            ax.set_ylabel("density")
        style = "o-" if m.family == "poisson" else "-"
        for k in range(K):
            ax.plot(m.grid, m.components[k], style, ms=3, color=f"C{k}",
                    gid=f"component-{k}",
                    label=f"component {k + 1} (w={m.weights[k]:.2f})")  # fmt: skip
        ax.plot(m.grid, m.total, "--", color="k", lw=1, gid="mixture", label="mixture")
        ax.set_xlabel("x")
    ax.set_title(f"{m.family} mixture, K={K}")
    ax.legend(fontsize="small")
    return ax


# ----- calibration --------------------------------------------------------------------------------
@_shared_doc
def plot_calibration(curve: CalibrationCurve, *, ax=None, label: str = "model"):
    """Calibration (reliability) diagram of :func:`likelihax.calibration_curve`.

    Observed frequency against mean predicted probability per bin
    (``gid="calibration"``; marker area grows with the bin count), and the
    diagonal of perfect calibration.

    Parameters
    ----------
    curve : CalibrationCurve
    {ax}
    label : str
        Legend entry (draw several models into one ``ax``).

    {returns_axes}
    >>> import numpy as np, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=500); y = rng.uniform(size=500) < p
    >>> ax = lx.plots.plot_calibration(lx.calibration_curve(y, p, bins=5))
    >>> ax.get_xlabel()
    'mean predicted probability'
    """
    if not isinstance(curve, CalibrationCurve):
        raise TypeError("plot_calibration draws a CalibrationCurve "
                        "from lx.calibration_curve.")  # fmt: skip
    ax = _axes(ax, (4.4, 4.2))
    if not any(ln.get_gid() == "diagonal" for ln in ax.lines):
        ax.plot([0, 1], [0, 1], ":", color="0.4", gid="diagonal",
                label="perfectly calibrated")  # fmt: skip
    (line,) = ax.plot(curve.prob_pred, curve.prob_true, "-", gid="calibration",
                      label=f"{label} (Brier {curve.brier:.3f})")  # fmt: skip
    size = 15 + 85 * curve.counts / max(curve.counts.max(), 1)
    ax.scatter(curve.prob_pred, curve.prob_true, s=size, color=line.get_color(),
               zorder=3)  # fmt: skip
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed frequency")
    ax.set_title(f"Calibration ({curve.strategy} bins)", fontsize="medium")
    ax.legend(fontsize="small", loc="upper left")
    return ax


# ----- forest --------------------------------------------------------------------------------------
@_shared_doc
def plot_forest(fits, *, alpha: float = 0.05, names: Sequence[str] | None = None,
                params: Sequence[str] | None = None, ref: float | None = 0.0,
                ax=None):  # fmt: skip
    """Coefficient (forest) plot: estimates with Wald intervals, one or several fits.

    Each fit's intervals are a horizontal line collection ``gid="ci-i"``
    (segments from ``fit.conf_int(alpha)``), offset vertically per fit.

    Parameters
    ----------
    fits : FitResult, list of FitResult, or ForestTable
    alpha : float
        1 - confidence level.
    names : list of str, optional
        Legend names of the fits.
    params : list of str, optional
        Parameters to show (default all).
    ref : float or None
        Reference line (default 0; None for none).
    {ax}

    {returns_axes}
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], p["sigma"]),
    ...            {"mu": 0.0, "sigma": 1.0}, {"y": np.array([0.5, 1.5, 1.0, 3.0])},
    ...            constraints={"sigma": lx.constraints.positive})
    >>> [t.get_text() for t in lx.plots.plot_forest(f).get_yticklabels()]
    ['mu', 'sigma']
    """
    t = (
        fits
        if isinstance(fits, ForestTable)
        else forest_table(fits, alpha, names=names, params=params)
    )
    nf, nl = t.estimate.shape
    ax = _axes(ax, (5.0, 1.2 + 0.45 * nl * max(1, 0.6 * nf)))
    off = (np.arange(nf) - (nf - 1) / 2) * (0.6 / max(nf, 1))
    pos = np.arange(nl)
    if ref is not None:
        ax.axvline(ref, color="0.5", ls=":", lw=1, gid="reference")
    for i in range(nf):
        y = pos + off[i]
        ok = np.isfinite(t.estimate[i])
        ax.hlines(y[ok], t.lower[i][ok], t.upper[i][ok], colors=f"C{i}", lw=2,
                  gid=f"ci-{i}")  # fmt: skip
        ax.plot(t.estimate[i][ok], y[ok], "o", color=f"C{i}", gid=f"estimate-{i}",
                label=t.names[i] or None)  # fmt: skip
    ax.set_yticks(pos, t.labels)
    ax.set_ylim(nl - 0.5, -0.5)
    ax.set_xlabel(f"estimate with {t.level:.0%} Wald interval")
    ax.set_title("Coefficients", fontsize="medium")
    if nf > 1 or t.names[0]:
        ax.legend(fontsize="small")
    return ax
