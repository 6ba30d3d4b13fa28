"""The log-likelihood over a grid of two parameters, with its likelihood-ratio
and Wald confidence regions (drawn by :func:`likelihax.plots.plot_contour`)."""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from ..core import Status, x64_scope
from ..results import as_fit
from ._profile import _naturals, _runner, _se_u, _select
from ._tails import chi2_ppf

__all__ = ["LoglikSurface", "loglik_surface"]


def _check_alpha(alpha):
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}.")


class LoglikSurface(NamedTuple):
    r"""Log-likelihood over a grid of two parameters.

    Attributes
    ----------
    names : tuple of str
        The two parameter labels ``(a, b)``.
    x, y : ndarray
        Natural-scale grid values of ``a`` (length ``nx``) and ``b`` (``ny``).
    loglik : ndarray (ny, nx)
        ``loglik[i, j]`` at ``a = x[j]``, ``b = y[i]`` (matplotlib's
        ``contour(x, y, loglik)`` layout); NaN where a profile fit failed.
    status : ndarray (ny, nx) of int
        Solver status of each profile fit (all 0 without profiling).
    profile : bool
        True: the other parameters were maximized out at each point.
    loglik_max : float
        Maximized log-likelihood of the fit.
    level : float
        Boundary of the likelihood-ratio confidence region,
        :math:`\hat\ell - \chi^2_{2,1-\alpha}/2`.
    alpha : float
    estimate : ndarray (2,)
        MLE of ``(a, b)``.
    cov : ndarray (2, 2)
        The fit's covariance of ``(a, b)`` (natural scale).
    ellipse : ndarray (m, 2)
        Boundary of the Wald region
        :math:`(\theta-\hat\theta)^\top V^{-1}(\theta-\hat\theta) = \chi^2_{2,1-\alpha}`.
    """

    names: tuple
    x: np.ndarray
    y: np.ndarray
    loglik: np.ndarray
    status: np.ndarray
    profile: bool
    loglik_max: float
    level: float
    alpha: float
    estimate: np.ndarray
    cov: np.ndarray
    ellipse: np.ndarray


def _wald_ellipse(est, cov, alpha, m=181):
    c = chi2_ppf(1 - alpha, 2)
    t = np.linspace(0.0, 2.0 * np.pi, m)
    circle = np.stack([np.cos(t), np.sin(t)])
    w, Q = np.linalg.eigh(np.asarray(cov, dtype=float))
    if not (np.all(np.isfinite(w)) and np.all(w > 0)):
        return np.full((m, 2), np.nan)
    A = Q * np.sqrt(w * c)
    return (est[:, None] + A @ circle).T


def _axis_values(fit, runner, lab, coords, spec, span):
    """Unconstrained and natural grid values for one parameter."""
    j, c = coords[lab]
    if np.ndim(spec) == 0:
        t = np.linspace(-span, span, int(spec))
        u = runner.u_hat[j] + t * _se_u(fit, j)
    else:
        x = np.asarray(spec, dtype=float)
        if x.ndim != 1 or x.size < 2 or not np.all(np.isfinite(x)):
            raise ValueError(
                f"grid for '{lab}' must be a 1-D array of at least 2 finite values."
            )
        with x64_scope():
            u = np.array([float(np.asarray(c.inverse(jnp.asarray(v)))[0]) for v in x])
        if not np.all(np.isfinite(u)):
            raise ValueError(
                f"grid for '{lab}' has values outside the parameter's constraint "
                f"({c.name})."
            )
    return j, u, _naturals([c] * len(u), u)


def loglik_surface(
    fit,
    a: str,
    b: str,
    *,
    grid: int | tuple = 41,
    span: float = 3.0,
    profile: bool = False,
    alpha: float = 0.05,
) -> LoglikSurface:
    r"""Log-likelihood of two parameters over a grid, with confidence regions.

    With ``profile=False`` the other parameters stay at the MLE (a slice);
    with ``profile=True`` they are maximized out at every grid point (the
    profile log-likelihood :math:`\ell_p(a, b)`), using the engine's pinned
    refits: every point is one ``vmap`` of one compiled program, warm-started
    at the MLE. The likelihood-ratio region at level :math:`1-\alpha` is
    :math:`\{\ell_p \ge \hat\ell - \chi^2_{2,1-\alpha}/2\}` (Wilks, 2 degrees
    of freedom); the Wald ellipse uses the fit's covariance.

    Parameters
    ----------
    fit : FitResult or model result
        A maximum-likelihood fit from :func:`likelihax.fit`, or a model result
        holding one (:func:`likelihax.glm`, ...; a GLM's surface then has its
        dispersion maximized out, as its profiles).
    a, b : str
        Parameter labels (``fit.labels``); ``a`` is the x axis.
    grid : int or (array, array)
        Points per axis (covering ``span`` standard errors on each side of the
        estimate, on the unconstrained scale so it stays inside bounds), or the
        natural-scale values of ``a`` and ``b``.
    span : float
        Half-width of the default grid in standard errors.
    profile : bool
        Maximize over the other parameters at each point.
    alpha : float
        1 - confidence level of the regions.

    Returns
    -------
    LoglikSurface

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> y = np.array([0.3, 1.2, 2.5, 0.9, 1.6, -0.4, 1.1])
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], p["sigma"]),
    ...            {"mu": 0.0, "sigma": 1.0}, {"y": y},
    ...            constraints={"sigma": lx.constraints.positive})
    >>> s = lx.loglik_surface(f, "mu", "sigma", grid=11)
    >>> s.loglik.shape, bool(np.isclose(s.loglik.max(), f.loglik))
    ((11, 11), True)
    >>> round(s.loglik_max - s.level, 4)  # chi2_2(0.95) / 2
    2.9957
    """
    _check_alpha(alpha)
    if a == b:
        raise ValueError(f"a and b must be two different parameters; got {a!r} twice.")
    fit = as_fit(fit, likelihood=True)  # a model result: its full likelihood
    runner = _runner(fit, None, None)
    _, coords = _select(fit, [a, b], "on a surface axis")
    if isinstance(grid, (int, np.integer)):
        if grid < 2:
            raise ValueError(f"grid must be at least 2 points; got {grid}.")
        ga = gb = grid
    else:
        try:
            ga, gb = grid
        except (TypeError, ValueError):
            raise TypeError(
                "grid must be an int or a pair (values of a, values of b)."
            ) from None
    ja, ua, x = _axis_values(fit, runner, a, coords, ga, span)
    jb, ub, y = _axis_values(fit, runner, b, coords, gb, span)
    UB, UA = np.meshgrid(ub, ua, indexing="ij")  # (ny, nx)
    B = UA.size
    U = np.tile(runner.u_hat, (B, 1))
    U[:, ja], U[:, jb] = UA.ravel(), UB.ravel()
    if profile:
        out = runner.pinned(
            np.tile([ja, jb], (B, 1)), np.stack([UA.ravel(), UB.ravel()], axis=1), U
        )
        status = np.asarray(out["status"]).astype(int)
        ll = np.where(status == Status.success.value, out["loglik"], np.nan)
    else:
        ll = runner.values(U)
        status = np.zeros(B, int)
    labels = fit.labels
    ia, ib = labels.index(a), labels.index(b)
    params = np.asarray(fit.params_flat, dtype=float)[np.asarray(fit.spec.reported)]
    est = params[[ia, ib]]
    cov = np.asarray(fit.cov.matrix, dtype=float)[np.ix_([ia, ib], [ia, ib])]
    ll_hat = float(fit.loglik)
    return LoglikSurface(
        names=(a, b), x=x, y=y, loglik=ll.reshape(UA.shape),
        status=status.reshape(UA.shape), profile=bool(profile), loglik_max=ll_hat,
        level=ll_hat - chi2_ppf(1 - alpha, 2) / 2, alpha=float(alpha),
        estimate=est, cov=cov, ellipse=_wald_ellipse(est, cov, alpha),
    )  # fmt: skip
