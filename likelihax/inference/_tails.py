"""Tail probabilities and quantiles of the chi-squared and F distributions,
for tests and likelihood-ratio regions (through ``jax.scipy.special``, so
scipy is not needed)."""

from __future__ import annotations

import math

import jax

from ..core import x64_scope

__all__ = ["chi2_ppf", "chi2_sf", "f_sf"]


def chi2_ppf(q: float, df: int) -> float:
    r""":math:`\chi^2` quantile for df 1 or 2 (closed forms, no scipy needed)."""
    from statistics import NormalDist

    if df == 1:
        return NormalDist().inv_cdf(0.5 + q / 2) ** 2
    if df == 2:
        return -2.0 * math.log1p(-q)
    raise ValueError(f"df must be 1 or 2; got {df}.")


def chi2_sf(x: float, df: float) -> float:
    """Upper tail of the chi-squared distribution (NaN for df <= 0 or NaN x)."""
    if df <= 0:
        return math.nan
    if not math.isfinite(x):
        return math.nan if math.isnan(x) else 0.0
    with x64_scope():
        return float(jax.scipy.special.gammaincc(df / 2.0, max(x, 0.0) / 2.0))


def f_sf(x: float, d1: float, d2: float) -> float:
    """Upper tail of the F distribution with ``d1`` and ``d2`` degrees of freedom."""
    if not math.isfinite(x):
        return math.nan if math.isnan(x) else 0.0
    x = max(x, 0.0)
    with x64_scope():
        return float(jax.scipy.special.betainc(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * x)))
