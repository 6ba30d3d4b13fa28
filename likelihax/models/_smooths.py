r"""Smooth terms of :func:`likelihax.gam`: the bases, their penalties and the ``s()`` terms.

A smooth's basis is evaluated on the data, its penalty :math:`S` gives the
wiggliness :math:`\beta^\top S\beta`, and the sum-to-zero constraint (the
smooth's values sum to zero over the data) is absorbed as mgcv does, by the
QR factorization of the constraint: :class:`Smooth` keeps the constraint's
null space ``Z``, the centred penalty :math:`Z^\top S Z`, its rank and log
pseudo-determinant, and evaluates the centred basis at new values.

Cubic regression splines (mgcv's ``bs = "cr"``): ``k`` knots by
:func:`place_knots`, the natural cubic spline parametrised by its values at
the knots (formulaic's ``cubic_spline``), the penalty :func:`cr_penalty`.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from ._design import split_top_level

__all__ = ["Smooth", "cr_basis", "cr_penalty", "make_smooth", "parse_formula", "place_knots"]


def place_knots(x, k: int) -> np.ndarray:
    """``k`` knots evenly through the sorted distinct values of ``x`` (mgcv's
    ``place.knots``: the ends at the extremes, the others interpolated between
    order statistics).

    Examples
    --------
    >>> from likelihax.models.gam import place_knots
    >>> place_knots([0.0, 1.0, 2.0, 3.0, 4.0, 4.0], 3).tolist()
    [0.0, 2.0, 4.0]
    """
    u = np.unique(np.asarray(x, dtype=np.float64))
    n = u.size
    if k < 3 or k > n:
        raise ValueError(f"k = {k} knots need 3 <= k <= {n} (the distinct values).")
    if k == n:
        return u
    delta = (n - 1) / (k - 1)
    at = delta * np.arange(1, k - 1)
    lbi = np.floor(at).astype(int)  # 0-based index of the lower order statistic
    frac = at - lbi
    inner = u[lbi] * (1 - frac) + u[lbi + 1] * frac
    return np.r_[u[0], inner, u[-1]]


def cr_penalty(knots) -> np.ndarray:
    r""":math:`S` with :math:`\beta^\top S\beta = \int f''(x)^2 dx` for the
    natural cubic spline whose values at ``knots`` are :math:`\beta` (Wood,
    2017, sec. 5.3.1: :math:`S = D^\top B^{-1} D`).

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.gam import cr_penalty
    >>> S = cr_penalty([0.0, 1.0, 2.0, 4.0])
    >>> # constants and straight lines are not penalized
    >>> bool(np.allclose(S @ np.ones(4), 0) and np.allclose(S @ [0.0, 1, 2, 4], 0))
    True
    """
    kn = np.asarray(knots, dtype=np.float64)
    h = np.diff(kn)
    k = kn.size
    D = np.zeros((k - 2, k))
    B = np.zeros((k - 2, k - 2))
    for i in range(k - 2):
        D[i, i], D[i, i + 1], D[i, i + 2] = 1 / h[i], -1 / h[i] - 1 / h[i + 1], 1 / h[i + 1]
        B[i, i] = (h[i] + h[i + 1]) / 3
        if i + 1 < k - 2:
            B[i, i + 1] = B[i + 1, i] = h[i + 1] / 6
    return D.T @ np.linalg.solve(B, D)


def cr_basis(x, knots) -> np.ndarray:
    from formulaic.transforms.cubic_spline import cubic_spline

    kn = np.asarray(knots)
    vals = cubic_spline(np.asarray(x, dtype=np.float64), knots=kn[1:-1], lower_bound=kn[0],
                        upper_bound=kn[-1], _state={})  # fmt: skip
    return np.column_stack(list(vals.values()))


@dataclasses.dataclass(frozen=True)
class Smooth:
    """One ``s()`` term: its variable, knots, the constraint's null space
    ``Z`` and the penalty :math:`Z^\\top S Z` of the centred basis."""

    var: str
    knots: np.ndarray
    Z: np.ndarray
    S: np.ndarray
    rank: int
    logdet: float  # log pseudo-determinant of S

    @property
    def label(self) -> str:
        return f"s({self.var})"

    def basis(self, x) -> np.ndarray:
        lo, hi = self.knots[0], self.knots[-1]
        return cr_basis(np.clip(np.asarray(x, np.float64), lo, hi), self.knots) @ self.Z


def make_smooth(var: str, x, k: int) -> tuple[Smooth, np.ndarray]:
    knots = place_knots(x, k)
    X = cr_basis(x, knots)
    # Sum-to-zero constraint absorbed as mgcv does: Z spans the null space of
    # the column sums (the last k - 1 columns of the QR factor of C').
    Q = np.linalg.qr(X.sum(axis=0)[:, None], mode="complete")[0]
    Z = Q[:, 1:]
    S = Z.T @ cr_penalty(knots) @ Z
    S = 0.5 * (S + S.T)
    ev = np.linalg.eigvalsh(S)
    rank = int(np.sum(ev > ev.max() * 1e-10))
    logdet = float(np.sum(np.log(ev[-rank:])))
    return Smooth(var, knots, Z, S, rank, logdet), X @ Z


_S_TERM = re.compile(r"^s\((?P<args>.*)\)$")


def parse_formula(formula: str, penalized: bool = False) -> tuple[str, list]:
    """``("y ~ parametric terms", [(var, k), ...])``; an error names a term
    it cannot read."""
    if "~" not in formula:
        raise ValueError(f"The formula needs a response: 'y ~ s(x)'; got {formula!r}.")
    lhs, rhs = formula.split("~", 1)
    terms = split_top_level(rhs, "+")
    para, smooths = [], []
    for t in terms:
        m = _S_TERM.match(t.replace(" ", ""))
        if not m:
            para.append(t)
            continue
        args = [a for a in m.group("args").split(",") if a]
        var, k = args[0], 10
        for a in args[1:]:
            key, _, val = a.partition("=")
            if key == "k" and val.isdigit():
                k = int(val)
            elif key == "bs" and val.strip("'\"") == "cr":
                continue
            else:
                raise ValueError(f"{t}: only s(x), s(x, k=<int>) and bs='cr' are supported.")
        smooths.append((var, k))
    if not smooths and not penalized:
        raise ValueError(f"No s() term or penalty in {formula!r}: use lx.glm for an "
                         "unpenalized model.")  # fmt: skip
    return f"{lhs.strip()} ~ {' + '.join(para) if para else '1'}", smooths
