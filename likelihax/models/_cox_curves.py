r"""Survival curves of Cox fits: their variance and their quantiles.

:func:`hazard_and_variance` gives the cumulative hazard of new rows and its
variance (Tsiatis, 1981), from the baseline hazard's increments
(:meth:`likelihax.models.cox.CoxResult._increments`). :func:`curve_quantiles`
reads quantiles off the curves and off the bounds of survfit's pointwise
confidence band (``conf.type = "log"``): :math:`S e^{\mp z\,\mathrm{se}(H)}`,
the upper bound capped at 1. The quantile :math:`t_p` of a curve is the first
time it falls to :math:`1-p` or below, by the rule of R's
``quantile.survfit`` (:func:`find_quantiles`): where the curve stays at
:math:`1-p` (within :data:`TOL`) up to the next drop, the midpoint of the two
times; NaN where it never reaches :math:`1-p`. The limits of :math:`t_p` are
the same rule applied to the lower and the upper bound.

References
----------
Tsiatis, A. A. (1981). A large sample study of Cox's regression model.
*Annals of Statistics* 9, 93-108. Brookmeyer, R. & Crowley, J. (1982). A
confidence interval for the median survival time. *Biometrics* 38, 29-41.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TOL", "check_probabilities", "curve_quantiles", "find_quantiles",
           "hazard_and_variance"]  # fmt: skip

#: Tolerance within which a curve counts as equal to a level (R's
#: ``sqrt(.Machine$double.eps)``, quantile.survfit's default).
TOL = float(np.sqrt(np.finfo(np.float64).eps))


def hazard_and_variance(beta, V, X, t, t0, inc, var_inc, q_inc):
    """Cumulative hazard :math:`H(t; x) = H_0(t) e^{x^\\top\\beta}` of the rows
    of ``X`` at times ``t`` (``(n, len(t))``) and its variance
    :math:`e^{2x^\\top\\beta}[\\sum dV_0 + (Q - x H_0)^\\top V (Q - x H_0)]`,
    with ``(t0, inc, var_inc, q_inc)`` the increments at the event times
    ``t0`` (increasing) and ``V`` the coefficients' covariance."""
    at = np.searchsorted(t0, t, side="right")
    H0 = np.r_[0.0, np.cumsum(inc)][at]
    V0 = np.r_[0.0, np.cumsum(var_inc)][at]
    Q = np.vstack([np.zeros(q_inc.shape[1]), np.cumsum(q_inc, axis=0)])[at]  # (T, p)
    risk = np.exp(X @ beta)
    D = Q[None, :, :] - X[:, None, :] * H0[None, :, None]  # (n, T, p)
    var_h = risk[:, None] ** 2 * (V0[None, :] + np.einsum("ntp,pq,ntq->nt", D, V, D))
    return np.outer(risk, H0), var_h


def check_probabilities(value, name: str) -> np.ndarray:
    """``value`` as a 1-d float array of numbers strictly between 0 and 1, or
    a ValueError naming ``name``."""
    try:
        a = np.atleast_1d(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers in (0, 1); got {value!r}.") from None
    if a.ndim != 1 or a.size == 0 or not np.all((a > 0) & (a < 1)):
        raise ValueError(f"{name} must be numbers in (0, 1) (a scalar or a 1-d list); "
                         f"got {value!r}.")  # fmt: skip
    return a


def _first_at_or_above(y, v):
    """Index into ``y`` that R's ``approx(y, seq_along(y), v, method =
    "constant", f = 1)`` returns (-1 outside ``[min y, max y]``): the point
    with the smallest ``y`` at or above ``v``."""
    o = np.argsort(y, kind="stable")
    ys = y[o]
    j = np.minimum(np.searchsorted(ys, v, side="left"), ys.size - 1)
    return np.where((v >= ys[0]) & (v <= ys[-1]), o[j], -1)


def find_quantiles(x, y, probs, xmax, tol: float = TOL) -> np.ndarray:
    """Times at which the non-decreasing step function ``y`` (``1 - S`` at
    times ``x``, starting at 0) reaches each of ``probs``, by R's
    ``survival:::findq``.

    Steps of equal height are merged (the first time kept). The answer is the
    first time where ``y`` reaches ``p - tol``; where ``y`` stays within
    ``tol`` of ``p`` until the next step, the midpoint of the two times, and
    where that is the last step, the midpoint of it and ``xmax`` (the last
    observed time). NaN where ``y`` stays below ``p`` (for every ``p`` when
    the largest ``y`` is below the smallest ``p``).

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models._cox_curves import find_quantiles
    >>> x = np.array([0.0, 1.0, 2.0, 4.0])
    >>> y = np.array([0.0, 0.25, 0.5, 0.75])      # 1 - S: flat at 0.5 on [2, 4)
    >>> find_quantiles(x, y, np.array([0.3, 0.5, 0.75, 0.9]), xmax=6.0).tolist()
    [2.0, 3.0, 5.0, nan]
    """
    probs = np.asarray(probs, dtype=np.float64)
    out = np.full(probs.size, np.nan)
    if np.max(y) < np.min(probs):
        return out
    _, first = np.unique(y, return_index=True)
    keep = np.sort(first)
    x, y = np.asarray(x, dtype=np.float64)[keep], y[keep]
    i1 = _first_at_or_above(y + tol, probs)
    i2 = _first_at_or_above(y - tol, probs)
    x1 = np.where(i1 >= 0, x[i1], np.nan)
    quant = (x1 + np.where(i2 >= 0, x[i2], np.nan)) / 2
    last = np.abs(probs - y[-1]) < tol
    quant[last] = (x1[last] + xmax) / 2
    return quant


def curve_quantiles(t0, H, se, probs, z, xmax):
    """Quantiles of the curves :math:`e^{-H}` (rows of ``H``, at the event
    times ``t0``) and their limits from the log-scale band
    :math:`e^{-H \\mp z\\,\\mathrm{se}}` (upper bound capped at 1), as
    ``quantile(survfit(...))``: three ``(n, len(probs))`` arrays (estimate,
    lower, upper)."""
    x = np.r_[0.0, t0]
    lower = np.exp(-H - z * se)
    upper = np.minimum(np.exp(-H + z * se), 1.0)
    res = [np.empty((H.shape[0], probs.size)) for _ in range(3)]
    for i in range(H.shape[0]):
        for k, curve in enumerate((np.exp(-H[i]), lower[i], upper[i])):
            res[k][i] = find_quantiles(x, np.r_[0.0, 1.0 - curve], probs, xmax)
    return tuple(res)
