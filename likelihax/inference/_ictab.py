r"""Information-criteria table for comparing fits of the same data (R ``bbmle::AICtab``).

For each fit with log-likelihood :math:`\ell`, :math:`k` estimated parameters
(plus any counted by ``annotate(extra_params=)``) and :math:`n` observations:

.. math::
   \mathrm{AIC} = -2\ell + 2k, \qquad
   \mathrm{AICc} = \mathrm{AIC} + \frac{2k(k+1)}{n-k-1}, \qquad
   \mathrm{BIC} = -2\ell + k\log n,

:math:`\Delta_i = \mathrm{AIC}_i - \min_j \mathrm{AIC}_j` and the Akaike
weights :math:`w_i = e^{-\Delta_i/2} / \sum_j e^{-\Delta_j/2}`. AICc is
statsmodels' ``eval_measures.aicc``; it is infinite when :math:`n \le k + 1`.

References
----------
Burnham, K. P. and Anderson, D. R. (2002). *Model Selection and Multimodel
Inference*, 2nd ed. Springer. (Sections 2.4 and 2.9.)
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..results import TextReport, pandas_for

__all__ = ["ICTable", "ic_table"]


class ICRow(NamedTuple):
    """One row of an :class:`ICTable`."""

    name: str
    loglik: float
    k: int
    aic: float
    aicc: float
    bic: float
    delta_aic: float
    weight: float


class ICTable(TextReport):
    """Information criteria of several fits, sorted by AIC.

    Attributes
    ----------
    rows : list of ICRow
        ``(name, loglik, k, aic, aicc, bic, delta_aic, weight)`` per fit.
    nobs : int
        Number of observations (the same for every fit).
    """

    _COLUMNS = ("loglik", "k", "AIC", "AICc", "BIC", "dAIC", "weight")

    def __init__(self, rows: list[ICRow], nobs):
        self.rows = rows
        self.nobs = nobs

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.rows]

    def __getitem__(self, name: str) -> ICRow:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"{name!r} is not in the table; names are {self.names}.")

    def __len__(self) -> int:
        return len(self.rows)

    def to_frame(self):
        """The table as a pandas DataFrame indexed by model name."""
        pd = pandas_for("ICTable.to_frame")
        return pd.DataFrame(
            [tuple(r)[1:] for r in self.rows], index=self.names, columns=self._COLUMNS
        )

    def to_text(self) -> str:
        """The table as text."""
        w = max([len(n) for n in self.names] + [5])
        head = f"{'model':<{w}}" + "".join(f"{c:>12}" for c in self._COLUMNS)
        lines = [head]
        for r in self.rows:
            lines.append(
                f"{r.name:<{w}}{r.loglik:>12.6g}{r.k:>12d}{r.aic:>12.6g}"
                f"{r.aicc:>12.6g}{r.bic:>12.6g}{r.delta_aic:>12.4g}{r.weight:>12.4g}"
            )
        return "\n".join(lines) + f"\n(n = {self.nobs})"


def ic_table(*fits, names: Any = None, sort: bool = True) -> ICTable:
    r"""AIC, AICc, BIC, :math:`\Delta`AIC and Akaike weights of fits to the same data.

    Parameters
    ----------
    *fits : FitResult
        Two or more likelihood fits to the same observations.
    names : list of str, optional
        Row names. Default: ``"model1"``, ``"model2"``, ... in argument order
        (a fit's own name is often just ``loglik`` or ``<lambda>``).
    sort : bool
        Sort by AIC, best first (default), as ``bbmle::AICtab``.

    Returns
    -------
    ICTable
        ``rows`` of ``(name, loglik, k, aic, aicc, bic, delta_aic, weight)``,
        ``to_text()``/``repr`` and ``to_frame()`` (pandas).

    Raises
    ------
    ValueError
        Fewer than two fits, fits of different numbers of observations (criteria
        of different data are not comparable), or a fit whose objective is not a
        likelihood (M-estimation, importance weights: AIC is undefined).

    Notes
    -----
    Formulas in :mod:`likelihax.inference._ictab`.

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> y = np.array([0.2, 1.9, 1.1, 2.8, 0.7, 1.6, 2.2, 1.3])
    >>> f0 = lx.fit(lambda p, d: st.norm.logpdf(d["y"], 0.0, p["s"]),
    ...             {"s": 1.0}, {"y": y}, constraints={"s": lx.constraints.positive})
    >>> f1 = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], p["s"]),
    ...             {"mu": 0.0, "s": 1.0}, {"y": y},
    ...             constraints={"s": lx.constraints.positive})
    >>> tab = lx.inference.ic_table(f0, f1, names=["zero mean", "free mean"])
    >>> tab.names
    ['free mean', 'zero mean']
    >>> round(tab["free mean"].weight + tab["zero mean"].weight, 12)
    1.0
    """
    if len(fits) == 1 and isinstance(fits[0], (list, tuple)):
        fits = tuple(fits[0])
    if len(fits) < 2:
        raise ValueError("ic_table needs at least two fits to compare.")
    from ..results import as_fit

    fits = tuple(as_fit(f) for f in fits)
    if names is None:
        names = [f"model{i + 1}" for i in range(len(fits))]
    names = [str(n) for n in names]
    if len(names) != len(fits):
        raise ValueError(f"{len(names)} names for {len(fits)} fits.")
    if len(set(names)) != len(names):
        raise ValueError(f"names must be distinct; got {names}.")
    nobs = [f.nobs for f in fits]
    if any(n != nobs[0] for n in nobs):
        raise ValueError(
            f"The fits have different numbers of observations {nobs}: information "
            "criteria compare fits of the same data only."
        )
    rows = []
    for name, f in zip(names, fits):
        if not f.is_likelihood or f.weight_type == "importance":
            raise ValueError(
                f"{name!r} is not a likelihood fit (M-estimation objective or "
                "importance weights), so AIC is undefined."
            )
        ll = float(f.loglik)
        k = int(f.n_params + f.annotation.extra_params)
        aic, bic, n = float(f.aic), float(f.bic), float(f.nobs)
        aicc = aic + 2.0 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else math.inf
        rows.append([name, ll, k, aic, aicc, bic])
    aics = np.array([r[3] for r in rows])
    best = np.nanmin(aics)
    rel = np.exp(-0.5 * (aics - best))
    weights = rel / rel.sum()
    out = [ICRow(*r, float(a - best), float(w)) for r, a, w in zip(rows, aics, weights)]
    if sort:
        out.sort(key=lambda r: r.aic)
    return ICTable(out, nobs[0])
