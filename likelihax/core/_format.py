"""One format for p-values in every printed table and test line.

The rule is that of the fit summary's ``P>|z|`` column: four decimals from
0.001 up, three significant digits in scientific notation below, ``<1e-300``
for a p-value that underflowed to zero and ``nan`` when there is none.
"""

from __future__ import annotations

import math

__all__ = ["format_pvalue"]


def format_pvalue(p) -> str:
    """A p-value as text, without padding.

    Examples
    --------
    >>> from likelihax.core import format_pvalue
    >>> [format_pvalue(p) for p in (0.5, 0.0012, 3.2e-7, 0.0, float("nan"))]
    ['0.5000', '0.0012', '3.200e-07', '<1e-300', 'nan']
    """
    if p is None:
        return "nan"
    p = float(p)
    if math.isnan(p):
        return "nan"
    if p == 0:
        return "<1e-300"
    if p < 1e-3:
        return f"{p:.3e}"
    return f"{p:.4f}"
