r"""Smooth terms of :func:`likelihax.gam`: the bases, their penalties and the ``s()`` terms.

A smooth's basis is evaluated on the data, its penalty :math:`S` gives the
wiggliness :math:`\beta^\top S\beta`, and the sum-to-zero constraint (the
smooth's values sum to zero over the data) is absorbed as mgcv does, by the
QR factorization of the constraint: :class:`Smooth` keeps the constraint's
null space ``Z``, the centred penalty :math:`Z^\top S Z`, its rank and log
pseudo-determinant, and evaluates the centred basis at new values.

The bases (``s(x, bs=..., k=...)``, each as mgcv's constructor of that name):

* ``"cr"`` (the default), cubic regression spline: ``k`` knots by
  :func:`place_knots`, the natural cubic spline parametrised by its values at
  the knots (formulaic's ``cubic_spline``), penalty :func:`cr_penalty`
  (:math:`\int f''^2`). Values beyond the end knots are clamped to them.
* ``"cc"``, cyclic cubic regression spline: the same knots, the cubic spline
  whose value and first two derivatives agree at the two end knots
  (:func:`cc_basis`; ``k - 1`` coefficients, the values at all knots but the
  last), penalty :func:`cc_penalty` (:math:`\int f''^2`). Values are wrapped
  into the knots' period.
* ``"ps"``, P-spline (Eilers and Marx): ``k`` cubic B-splines on evenly
  spaced knots reaching three knot intervals beyond the data
  (:func:`ps_knots`), the second-order difference penalty :func:`ps_penalty`.
  Beyond the B-splines' base interval the basis continues linearly.
* ``"tp"``, thin-plate regression spline (Wood, 2003; one covariate,
  :math:`m = 2`): the radial basis :math:`\eta(r) = r^3/12` at the distinct
  values (the knots), truncated to the eigenvectors of the ``k - 2``
  eigenvalues largest in magnitude, orthogonal to the linear null space,
  which is appended; penalty :math:`\int f''^2`. With more than 2000
  distinct values the knots are 2000 of them by :func:`place_knots` (mgcv
  draws 2000 at random).

References
----------
Wood, S. N. (2003). Thin plate regression splines. *J. R. Statist. Soc. B*
65, 95-114. Eilers, P. H. C. and Marx, B. D. (1996). Flexible smoothing with
B-splines and penalties. *Statist. Sci.* 11, 89-121. Wood, S. N. (2017).
*Generalized Additive Models: An Introduction with R*, 2nd ed., sec. 5.3.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from ._design import split_top_level

__all__ = ["BASES", "Smooth", "cc_basis", "cc_penalty", "cr_basis", "cr_penalty", "make_smooth",
           "parse_formula", "place_knots", "ps_basis", "ps_knots", "ps_penalty", "tp_basis"]

# The bases s() accepts, with the least k each takes.
BASES = {"cr": 3, "cc": 4, "ps": 4, "tp": 3}
# Most knots of a thin-plate regression spline (mgcv's max.knots).
TP_MAX_KNOTS = 2000


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
    """The natural cubic spline basis at ``x`` (within the knots): column
    ``j`` is the spline with value 1 at knot ``j`` and 0 at the others.

    Examples
    --------
    >>> from likelihax.models._smooths import cr_basis
    >>> cr_basis([0.0, 1.0, 2.0], [0.0, 1.0, 2.0, 4.0]).round(12).tolist()
    [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]
    """
    from formulaic.transforms.cubic_spline import cubic_spline

    kn = np.asarray(knots)
    vals = cubic_spline(np.asarray(x, dtype=np.float64), knots=kn[1:-1], lower_bound=kn[0],
                        upper_bound=kn[-1], _state={})  # fmt: skip
    return np.column_stack(list(vals.values()))


def _cc_BD(knots):
    """mgcv's ``B`` and ``D`` of a cyclic cubic spline: ``B`` times the
    second derivatives at the knots equals ``D`` times the values (the
    continuity of the first derivative, the last knot identified with the
    first)."""
    h = np.diff(np.asarray(knots, dtype=np.float64))
    n = h.size
    B, D = np.zeros((n, n)), np.zeros((n, n))
    for i in range(n):
        im, ip = (i - 1) % n, (i + 1) % n
        B[i, im] += h[im] / 6
        B[i, i] += (h[im] + h[i]) / 3
        B[i, ip] += h[i] / 6
        D[i, im] += 1 / h[im]
        D[i, i] -= 1 / h[im] + 1 / h[i]
        D[i, ip] += 1 / h[i]
    return B, D


def cc_penalty(knots) -> np.ndarray:
    r""":math:`S = D^\top B^{-1} D` with :math:`\beta^\top S\beta = \int f''(x)^2
    dx` over one period for the cyclic cubic spline whose values at the knots
    but the last are :math:`\beta` (mgcv's ``bs = "cc"``).

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models._smooths import cc_penalty
    >>> S = cc_penalty([0.0, 1.0, 2.5, 3.0, 4.0])
    >>> S.shape, bool(np.allclose(S @ np.ones(4), 0))  # only constants are not penalized
    ((4, 4), True)
    """
    B, D = _cc_BD(knots)
    S = D.T @ np.linalg.solve(B, D)
    return 0.5 * (S + S.T)


def cc_basis(x, knots) -> np.ndarray:
    """The cyclic cubic spline basis at ``x`` (mgcv's
    ``Predict.matrix.cyclic.smooth``): column ``j`` is the periodic cubic
    spline with value 1 at knot ``j`` and 0 at the other knots (the last knot
    is the first one period on); values outside the knots are wrapped into
    them.

    Examples
    --------
    >>> from likelihax.models._smooths import cc_basis
    >>> X = cc_basis([0.0, 1.0, 4.0, 5.0], [0.0, 1.0, 2.5, 3.0, 4.0])
    >>> X.round(12).tolist()[:2], bool((X[0] == X[2]).all() and (X[1] == X[3]).all())
    ([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]], True)
    """
    kn = np.asarray(knots, dtype=np.float64)
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    lo, hi, nk = kn[0], kn[-1], kn.size
    x = np.where((x < lo) | (x > hi), lo + np.mod(x - lo, hi - lo), x)
    B, D = _cc_BD(kn)
    BD = np.linalg.solve(B, D)
    left = np.clip(np.searchsorted(kn, x, side="left") - 1, 0, nk - 2)
    right = np.where(left + 1 == nk - 1, 0, left + 1)
    h = (kn[left + 1] - kn[left])[:, None]
    a, b = (kn[left + 1] - x)[:, None], (x - kn[left])[:, None]
    eye = np.eye(nk - 1)
    return (BD[left] * (a**3 / (6 * h) - h * a / 6) + BD[right] * (b**3 / (6 * h) - h * b / 6)
            + eye[left] * a / h + eye[right] * b / h)  # fmt: skip


def ps_knots(x, k: int) -> np.ndarray:
    """The ``k + 4`` evenly spaced knots of ``k`` cubic B-splines (mgcv's
    ``bs = "ps"``): the data's range widened by 0.1% on each side is cut into
    ``k - 3`` intervals, and three more intervals are added beyond each end.

    Examples
    --------
    >>> from likelihax.models._smooths import ps_knots
    >>> ps_knots([0.0, 1.0], 5).round(3).tolist()
    [-1.504, -1.003, -0.502, -0.001, 0.5, 1.001, 1.502, 2.003, 2.504]
    """
    x = np.asarray(x, dtype=np.float64)
    nk = k - 2  # knots spanning the data
    lo, hi = x.min(), x.max()
    lo, hi = lo - (hi - lo) * 0.001, hi + (hi - lo) * 0.001
    dx = (hi - lo) / (nk - 1)
    return np.linspace(lo - 3 * dx, hi + 3 * dx, nk + 6)


def ps_penalty(k: int) -> np.ndarray:
    r""":math:`S = D^\top D` with :math:`D` the second-order differences of the
    ``k`` coefficients (the P-spline penalty).

    Examples
    --------
    >>> from likelihax.models._smooths import ps_penalty
    >>> ps_penalty(4).astype(int).tolist()
    [[1, -2, 1, 0], [-2, 5, -4, 1], [1, -4, 5, -2], [0, 1, -2, 1]]
    """
    D = np.diff(np.eye(k), n=2, axis=0)
    return D.T @ D


def ps_basis(x, knots) -> np.ndarray:
    """The cubic B-spline basis on ``knots`` at ``x`` (scipy's ``BSpline``),
    continued linearly (value and slope at the end) outside the base interval
    ``knots[3] .. knots[-4]``, as mgcv's ``Predict.matrix.pspline.smooth``.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models._smooths import ps_basis, ps_knots
    >>> X = ps_basis([0.0, 0.3, 1.0, 5.0], ps_knots([0.0, 1.0], 6))
    >>> X.shape, bool(np.allclose(X.sum(axis=1), 1))  # a partition of unity
    ((4, 6), True)
    """
    from scipy.interpolate import BSpline

    t = np.asarray(knots, dtype=np.float64)
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    nb = t.size - 4
    spl = BSpline(t, np.eye(nb), 3, extrapolate=False)
    lo, hi = t[3], t[nb]
    X = spl(np.clip(x, lo, hi))
    slope = spl.derivative()(np.array([lo, hi]))
    return (X + np.minimum(x - lo, 0.0)[:, None] * slope[0]
            + np.maximum(x - hi, 0.0)[:, None] * slope[1])  # fmt: skip


def _tp_eta(x, knots) -> np.ndarray:
    r"""The radial basis :math:`\eta(r) = r^3/12` of the thin-plate spline with
    :math:`m = 2` in one dimension (Green's function of :math:`d^4/dx^4`)."""
    return np.abs(x[:, None] - knots[None, :]) ** 3 / 12.0


def _tp_construct(x, k: int):
    """``(knots, shift, UZ, S)`` of a thin-plate regression spline: ``UZ``
    maps the ``k`` coefficients to those of the radial basis at the knots and
    of ``1, x - shift`` (the truncated eigenbasis of the radial basis at the
    knots, orthogonal to the polynomials, then the polynomials), with each
    column of the basis scaled to unit root mean square over ``x`` (mgcv's
    ``tprs_setup``); ``S`` the penalty of the ``k`` coefficients."""
    shift = float(np.mean(x))
    knots = np.unique(x)
    if knots.size > TP_MAX_KNOTS:
        knots = place_knots(knots, TP_MAX_KNOTS)
    kc = knots - shift
    ev, U = np.linalg.eigh(_tp_eta(kc, kc))
    top = np.argsort(-np.abs(ev), kind="stable")[:k]
    Uk, Dk = U[:, top], ev[top]
    T = np.column_stack([np.ones_like(kc), kc])
    Zt = np.linalg.qr(Uk.T @ T, mode="complete")[0][:, 2:]  # T' U_k delta = 0
    UZ = np.zeros((kc.size + 2, k))
    UZ[: kc.size, : k - 2] = Uk @ Zt
    UZ[kc.size:, k - 2:] = np.eye(2)
    S = np.zeros((k, k))
    S[: k - 2, : k - 2] = Zt.T @ (Dk[:, None] * Zt)
    w = np.sqrt(np.mean(tp_basis(x, knots, shift, UZ) ** 2, axis=0))
    S = S / np.outer(w, w)
    return knots, shift, UZ / w, 0.5 * (S + S.T)


def tp_basis(x, knots, shift, UZ) -> np.ndarray:
    """The thin-plate regression spline basis at ``x``: the radial basis at
    the knots and the linear null space ``1, x - shift``, times ``UZ``.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models._smooths import make_smooth
    >>> x = np.linspace(0.0, 1.0, 50)
    >>> sm, X = make_smooth("x", x, 6, "tp")
    >>> X.shape, bool(np.allclose(X.sum(axis=0), 0))  # centred, k - 1 columns
    ((50, 5), True)
    """
    x = np.atleast_1d(np.asarray(x, dtype=np.float64)) - shift
    kc = np.asarray(knots, dtype=np.float64) - shift
    out = []
    for i in range(0, x.size, 4096):  # the radial basis a block of rows at a time
        xi = x[i: i + 4096]
        out.append(np.column_stack([_tp_eta(xi, kc), np.ones_like(xi), xi]) @ UZ)
    return np.concatenate(out) if out else np.zeros((0, UZ.shape[1]))


@dataclasses.dataclass(frozen=True)
class Smooth:
    """One ``s()`` term: its variable and basis, the knots, the constraint's
    null space ``Z`` and the penalty :math:`Z^\\top S Z` of the centred basis
    (a thin-plate spline also keeps its shift and eigenbasis ``UZ``)."""

    var: str
    knots: np.ndarray
    Z: np.ndarray
    S: np.ndarray
    rank: int
    logdet: float  # log pseudo-determinant of S
    bs: str = "cr"
    shift: float = 0.0
    UZ: np.ndarray | None = dataclasses.field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"s({self.var})"

    def basis(self, x) -> np.ndarray:
        """The centred basis at ``x``."""
        return self._raw(x) @ self.Z

    def slope(self, x) -> np.ndarray:
        r"""The derivative of the centred basis with respect to ``x``, row by
        row, in closed form: the cubic splines' through SciPy's
        ``CubicSpline`` (natural for ``"cr"``, periodic for ``"cc"``; the
        same interpolants as the bases) and ``BSpline.derivative``, the
        thin-plate radial basis' :math:`(x - k)\,|x - k|/4`. Zero where a
        ``"cr"`` basis is clamped beyond its end knots; a ``"ps"`` basis'
        end slopes beyond its base interval.

        Examples
        --------
        >>> import numpy as np
        >>> from likelihax.models._smooths import make_smooth
        >>> x = np.linspace(0.0, 1.0, 40)
        >>> sm, _ = make_smooth("x", x, 6)
        >>> fd = (sm.basis([0.3 + 1e-6]) - sm.basis([0.3 - 1e-6])) / 2e-6
        >>> bool(np.allclose(sm.slope([0.3]), fd, atol=1e-6))
        True
        """
        from scipy.interpolate import BSpline, CubicSpline

        x = np.atleast_1d(np.asarray(x, np.float64))
        kn = np.asarray(self.knots, np.float64)
        if self.bs == "cr":
            spl = CubicSpline(kn, np.eye(kn.size), bc_type="natural")
            inside = ((x >= kn[0]) & (x <= kn[-1]))[:, None]
            raw = np.where(inside, spl.derivative()(np.clip(x, kn[0], kn[-1])), 0.0)
        elif self.bs == "cc":
            eye = np.eye(kn.size - 1)
            spl = CubicSpline(kn, np.vstack([eye, eye[:1]]), bc_type="periodic")
            raw = spl.derivative()(kn[0] + np.mod(x - kn[0], kn[-1] - kn[0]))
        elif self.bs == "ps":
            nb = kn.size - 4
            d = BSpline(kn, np.eye(nb), 3, extrapolate=False).derivative()
            raw = d(np.clip(x, kn[3], kn[nb]))
        else:
            r = (x - self.shift)[:, None] - (kn - self.shift)[None, :]
            radial = r * np.abs(r) / 4.0
            raw = np.column_stack([radial, np.zeros_like(x), np.ones_like(x)]) @ self.UZ
        return raw @ self.Z

    def _raw(self, x) -> np.ndarray:
        x = np.asarray(x, np.float64)
        if self.bs == "cc":
            return cc_basis(x, self.knots)
        if self.bs == "ps":
            return ps_basis(x, self.knots)
        if self.bs == "tp":
            return tp_basis(x, self.knots, self.shift, self.UZ)
        return cr_basis(np.clip(x, self.knots[0], self.knots[-1]), self.knots)


def make_smooth(var: str, x, k: int, bs: str = "cr") -> tuple[Smooth, np.ndarray]:
    """The :class:`Smooth` of ``s(var, bs=bs, k=k)`` on the values ``x`` and its
    centred basis there (``k - 1`` columns).

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models._smooths import make_smooth
    >>> sm, X = make_smooth("x", np.linspace(0.0, 1.0, 30), 8, "ps")
    >>> X.shape, sm.rank  # the linear function is not penalized
    ((30, 7), 6)
    """
    x = np.asarray(x, dtype=np.float64)
    n = np.unique(x).size
    if not BASES[bs] <= k <= n:
        what = "knots" if bs in ("cr", "cc") else "basis functions"
        raise ValueError(f"s({var}, bs='{bs}'): k = {k} {what} need {BASES[bs]} <= k <= {n} "
                         "(the distinct values).")  # fmt: skip
    extra = {}
    if bs == "cr":
        knots = place_knots(x, k)
        S = cr_penalty(knots)
    elif bs == "cc":
        knots = place_knots(x, k)
        S = cc_penalty(knots)
    elif bs == "ps":
        knots = ps_knots(x, k)
        S = ps_penalty(k)
    else:
        knots, shift, UZ, S = _tp_construct(x, k)
        extra = {"shift": shift, "UZ": UZ}
    sm = Smooth(var, knots, np.eye(S.shape[0]), S, 0, 0.0, bs, **extra)
    X = sm._raw(x)
    # Sum-to-zero constraint absorbed as mgcv does: Z spans the null space of
    # the column sums (the last columns of the QR factor of C').
    Z = np.linalg.qr(X.sum(axis=0)[:, None], mode="complete")[0][:, 1:]
    S = Z.T @ S @ Z
    S = 0.5 * (S + S.T)
    ev = np.linalg.eigvalsh(S)
    rank = int(np.sum(ev > ev.max() * 1e-10))
    logdet = float(np.sum(np.log(ev[-rank:])))
    return dataclasses.replace(sm, Z=Z, S=S, rank=rank, logdet=logdet), X @ Z


_S_TERM = re.compile(r"^s\((?P<args>.*)\)$")


def _smooth_args(term: str, args: list) -> tuple:
    """``(var, k, bs)`` of an ``s()`` term's arguments (spaces removed)."""
    supported = ", ".join(repr(b) for b in BASES)
    var, k, bs = args[0], 10, "cr"
    for a in args[1:]:
        key, _, val = a.partition("=")
        if key == "k" and val.isdigit():
            k = int(val)
        elif key == "bs" and val.strip("'\"") in BASES:
            bs = val.strip("'\"")
        elif key == "bs":
            raise ValueError(f"{term}: unknown basis {val}; the supported bases are "
                             f"{supported}.")  # fmt: skip
        else:
            raise ValueError(f"{term}: s() takes a variable, k=<int> and bs= one of "
                             f"{supported}; got {a!r}.")  # fmt: skip
    return var, k, bs


def parse_formula(formula: str, penalized: bool = False) -> tuple[str, list]:
    """``("y ~ parametric terms", [(var, k, bs), ...])``; an error names a term
    it cannot read.

    Examples
    --------
    >>> from likelihax.models._smooths import parse_formula
    >>> parse_formula("y ~ x + s(z) + s(w, bs='cc', k=12)")
    ('y ~ x', [('z', 10, 'cr'), ('w', 12, 'cc')])
    """
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
        if not args:
            raise ValueError(f"{t}: s() needs a variable.")
        smooths.append(_smooth_args(t.strip(), args))
    if not smooths and not penalized:
        raise ValueError(f"No s() term or penalty in {formula!r}: use lx.glm for an "
                         "unpenalized model.")  # fmt: skip
    return f"{lhs.strip()} ~ {' + '.join(para) if para else '1'}", smooths
