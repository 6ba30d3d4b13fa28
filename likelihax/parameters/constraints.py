r"""Parameter constraints and the bijections that remove them.

Every constraint maps an unconstrained vector :math:`u \in \mathbb{R}^m` onto the
support of a parameter (its *natural* scale). Optimizers work on :math:`u`;
estimates and standard errors are reported on the natural scale with the delta
method. Which one to use:

==========================  ==============================================  =========================
constraint                  support                                         map from :math:`u`
==========================  ==============================================  =========================
``real``                    :math:`\mathbb{R}` (default)                    identity
``positive``                :math:`x > 0`                                   :math:`\exp(u)`
``greater_than(a)``         :math:`x > a`                                   :math:`a + \exp(u)`
``less_than(b)``            :math:`x < b`                                   :math:`b - \exp(u)`
``interval(a, b)``          :math:`a < x < b`                               :math:`a + (b-a)\,\sigma(u)`
``unit_interval``           :math:`0 < x < 1`                               :math:`\sigma(u)`
``ordered``                 strictly increasing vector (cut-points)         :math:`x_0=u_0,\ x_i=x_{i-1}+e^{u_i}`
``simplex``                 :math:`x_i>0,\ \sum x_i = 1` (K-1 free)         softmax of :math:`(u, 0)`
``cov_matrix``              symmetric positive-definite matrix              :math:`LL^\top`, :math:`L` lower, :math:`\exp` on diagonal
``corr_matrix``             correlation matrix (unit diagonal, PD)          :math:`LL^\top`, rows of :math:`L` normalized
``fixed``                   held at its starting value                      none (not estimated)
==========================  ==============================================  =========================

Constraints are immutable and hashable, so a model that uses them compiles once.

Examples
--------
>>> import likelihax as lx
>>> c = lx.constraints.interval(0.0, 2.0)
>>> round(float(c.forward(c.inverse(1.5), ())), 6)
1.5
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from ..core import x64_scope

__all__ = [
    "Constraint",
    "real",
    "positive",
    "greater_than",
    "less_than",
    "interval",
    "unit_interval",
    "ordered",
    "simplex",
    "cov_matrix",
    "corr_matrix",
    "fixed",
    "from_dict",
]


class Constraint:
    """Abstract constraint: a bijection from an unconstrained vector to a support.

    Subclasses define ``free_size``, ``forward``, ``inverse`` and ``violation``;
    ``reported`` and ``bounds`` have elementwise defaults.
    """

    name: str = "constraint"
    # Each natural element is a function of its own unconstrained value only.
    elementwise = False
    # (down, up) of toward_bound for every coordinate, where known: no eager
    # evaluation of ``forward`` (whose operations a fresh process would first
    # have to compile).
    sides: tuple[bool, bool] | None = None
    # Elementwise constraints: whether the natural value increases with u.
    increasing = True
    # Name of the map from the natural to the unconstrained scale, for labels
    # such as ``log(sigma)`` (elementwise constraints; None: the identity).
    link_name: str | None = None

    def free_size(self, shape: tuple[int, ...]) -> int:
        """Number of unconstrained values for a parameter of this shape."""
        return math.prod(shape)

    def forward(self, u, shape):
        """Map the flat unconstrained vector ``u`` to the natural scale."""
        raise NotImplementedError

    def inverse(self, x):
        """Map a natural-scale value to the flat unconstrained vector."""
        raise NotImplementedError

    def violation(self, x: np.ndarray) -> str | None:
        """Return why ``x`` is outside the support (``None`` when inside)."""
        return None

    def check_shape(self, shape: tuple[int, ...]) -> str | None:
        """Return why this constraint cannot apply to ``shape`` (``None`` if it can)."""
        return None

    def reported(self, shape: tuple[int, ...]) -> list[int]:
        """Flat indices of the elements shown in summaries (all by default)."""
        return list(range(math.prod(shape)))

    def bounds(self) -> tuple[float, float] | None:
        """Elementwise (lower, upper) bounds, used to flag estimates near a bound."""
        return None

    def toward_bound(self, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Whether each unconstrained coordinate leads to a bound of the support.

        Two boolean arrays of length ``free_size(shape)``: moving the coordinate
        to :math:`-\\infty` (first) or :math:`+\\infty` (second), the others at
        0, takes the natural-scale values to a finite limit on the boundary of
        the support (``positive``: to 0 as :math:`u \\to -\\infty`) rather than
        to infinity. The fit uses it to tell a maximum on a boundary
        (``Status.at_boundary``) from one at infinity (``Status.unbounded``).
        By default it is found once from :meth:`forward`: a side leads to a
        bound when every natural value lies no more than 10 times as far from
        its value at 0 at :math:`u = \\pm 3000` as at :math:`u = \\pm 30`.

        Examples
        --------
        >>> from likelihax import constraints as C
        >>> [a.tolist() for a in C.positive.toward_bound(())]
        [[True], [False]]
        >>> [a.tolist() for a in C.simplex.toward_bound((3,))]
        [[True, True], [True, True]]
        """
        k = self.free_size(tuple(shape))
        if self.sides is not None:  # the built-in constraints
            return np.full(k, self.sides[0]), np.full(k, self.sides[1])
        if self.elementwise:  # one scalar, repeated
            down, up = _toward_bound(self, ())
            return np.repeat(down, k), np.repeat(up, k)
        return _toward_bound(self, tuple(shape))

    def free_labels(self, name: str, shape: tuple, labels: list[str]) -> list[str]:
        """Labels of the unconstrained coordinates of a parameter ``name`` of
        ``shape`` whose natural elements are labelled ``labels``: ``log(sigma)``
        for a positive ``sigma``, ``name:simplex[u0]``, ... for the others."""
        if self.elementwise:
            fn = self.link_name
            return list(labels) if fn is None else [f"{fn}({lab})" for lab in labels]
        return [f"{name}:{self.name}[u{j}]" for j in range(self.free_size(shape))]

    def to_dict(self) -> dict:
        """The constraint as plain JSON (``kind`` and its numbers) for saved
        results; :func:`from_dict` reads it back."""
        for key, c in _SINGLETONS.items():
            if c is self:
                return {"kind": key, "name": self.name}
        raise ValueError(
            f"The constraint {self!r} cannot be written by name (it is not one of "
            "likelihax.constraints)."
        )

    def __repr__(self) -> str:
        return self.name


@functools.lru_cache(maxsize=512)
def _toward_bound(constraint, shape):
    """:meth:`Constraint.toward_bound` from ``forward``, 64 coordinates at a time,
    evaluated eagerly (also when asked while a fit is being traced)."""
    k = constraint.free_size(shape)
    sides = []
    with jax.ensure_compile_time_eval(), x64_scope():
        f = jax.vmap(lambda u: jnp.ravel(constraint.forward(u, shape)))
        base = np.asarray(f(jnp.zeros((1, k))))[0]
        for sign in (-1.0, 1.0):
            side = np.zeros(k, bool)
            for a in range(0, k, 64):
                m = min(64, k - a)
                E = np.zeros((m, k))
                E[np.arange(m), a + np.arange(m)] = 1.0
                near = np.abs(np.asarray(f(jnp.asarray(sign * 30.0 * E))) - base)
                far = np.abs(np.asarray(f(jnp.asarray(sign * 3000.0 * E))) - base)
                with np.errstate(invalid="ignore"):
                    side[a : a + 64] = np.all(far <= 10.0 * near, axis=1)
            sides.append(side)
    return sides[0], sides[1]


@dataclasses.dataclass(frozen=True, repr=False)
class _Real(Constraint):
    name: str = "real"
    elementwise = True
    link_name = None
    sides = (False, False)

    def forward(self, u, shape):
        return jnp.reshape(u, shape)

    def inverse(self, x):
        return jnp.ravel(x)


@dataclasses.dataclass(frozen=True, repr=False)
class greater_than(Constraint):  # noqa: N801 - lowercase like numpyro constraints
    """Support :math:`x > a`, via :math:`x = a + e^u`."""

    lower: float = 0.0
    elementwise = True
    sides = (True, False)  # u -> -inf: x -> a
    link_name = "log"

    @property
    def name(self) -> str:  # type: ignore[override]
        return "positive" if self.lower == 0.0 else f"greater_than({self.lower:g})"

    def forward(self, u, shape):
        return self.lower + jnp.exp(jnp.reshape(u, shape))

    def inverse(self, x):
        return jnp.log(jnp.ravel(x) - self.lower)

    def violation(self, x):
        if np.any(~(x > self.lower)):
            return f"must be > {self.lower:g}"
        return None

    def bounds(self):
        return (self.lower, math.inf)

    def to_dict(self) -> dict:
        return {"kind": "greater_than", "lower": _json_num(self.lower), "name": self.name}


@dataclasses.dataclass(frozen=True, repr=False)
class less_than(Constraint):  # noqa: N801
    """Support :math:`x < b`, via :math:`x = b - e^u`."""

    upper: float = 0.0
    elementwise = True
    sides = (True, False)  # u -> -inf: x -> b
    increasing = False  # x = b - exp(u)
    link_name = "log"

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"less_than({self.upper:g})"

    def forward(self, u, shape):
        return self.upper - jnp.exp(jnp.reshape(u, shape))

    def inverse(self, x):
        return jnp.log(self.upper - jnp.ravel(x))

    def violation(self, x):
        if np.any(~(x < self.upper)):
            return f"must be < {self.upper:g}"
        return None

    def bounds(self):
        return (-math.inf, self.upper)

    def to_dict(self) -> dict:
        return {"kind": "less_than", "upper": _json_num(self.upper), "name": self.name}


@dataclasses.dataclass(frozen=True, repr=False)
class interval(Constraint):  # noqa: N801
    """Support :math:`a < x < b`, via :math:`x = a + (b - a)\\,\\mathrm{sigmoid}(u)`."""

    lower: float = 0.0
    upper: float = 1.0
    elementwise = True
    sides = (True, True)
    link_name = "logit"

    def __post_init__(self):
        if not self.lower < self.upper:
            raise ValueError(
                f"interval(a, b) needs a < b; got a={self.lower}, b={self.upper}."
            )

    @property
    def name(self) -> str:  # type: ignore[override]
        if (self.lower, self.upper) == (0.0, 1.0):
            return "unit_interval"
        return f"interval({self.lower:g}, {self.upper:g})"

    def forward(self, u, shape):
        return self.lower + (self.upper - self.lower) * jax.nn.sigmoid(
            jnp.reshape(u, shape)
        )

    def inverse(self, x):
        p = (jnp.ravel(x) - self.lower) / (self.upper - self.lower)
        return jnp.log(p) - jnp.log1p(-p)

    def violation(self, x):
        if np.any(~((x > self.lower) & (x < self.upper))):
            return f"must lie strictly inside ({self.lower:g}, {self.upper:g})"
        return None

    def bounds(self):
        return (self.lower, self.upper)

    def to_dict(self) -> dict:
        return {
            "kind": "interval", "lower": _json_num(self.lower),
            "upper": _json_num(self.upper), "name": self.name,
        }  # fmt: skip


def _need_vector(shape, what):
    if len(shape) != 1 or shape[0] < 2:
        return f"{what} needs a vector of length >= 2, got shape {shape}"
    return None


@dataclasses.dataclass(frozen=True, repr=False)
class _Ordered(Constraint):
    name: str = "ordered"

    def toward_bound(self, shape):
        # the first value is free; the others are exp(u) increments: to 0
        down = np.ones(math.prod(shape), bool)
        down[0] = False
        return down, np.zeros_like(down)

    def check_shape(self, shape):
        return _need_vector(shape, "ordered")

    def forward(self, u, shape):
        return jnp.cumsum(jnp.concatenate([u[:1], jnp.exp(u[1:])]))

    def inverse(self, x):
        x = jnp.ravel(x)
        return jnp.concatenate([x[:1], jnp.log(jnp.diff(x))])

    def violation(self, x):
        if np.any(~(np.diff(np.ravel(x)) > 0)):
            return "must be strictly increasing"
        return None


@dataclasses.dataclass(frozen=True, repr=False)
class _Simplex(Constraint):
    name: str = "simplex"
    sides = (True, True)  # u_i -> -inf: x_i -> 0; u_i -> +inf: x_i -> 1

    def check_shape(self, shape):
        return _need_vector(shape, "simplex")

    def free_size(self, shape):
        return shape[0] - 1

    def forward(self, u, shape):
        return jax.nn.softmax(jnp.concatenate([u, jnp.zeros((1,), u.dtype)]))

    def inverse(self, x):
        logx = jnp.log(jnp.ravel(x))
        return logx[:-1] - logx[-1]

    def violation(self, x):
        x = np.ravel(x)
        if np.any(~(x > 0)) or abs(x.sum() - 1.0) > 1e-6:
            return "must have positive entries summing to 1"
        return None


def _need_square(shape, what):
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
        return f"{what} needs a square matrix, got shape {shape}"
    return None


@dataclasses.dataclass(frozen=True, repr=False)
class _CovMatrix(Constraint):
    name: str = "cov_matrix"

    def toward_bound(self, shape):
        # log of the Cholesky diagonal to -inf: a singular matrix (a bound);
        # the off-diagonal elements are free
        rows, cols = np.tril_indices(shape[0])
        return rows == cols, np.zeros(rows.size, bool)

    def check_shape(self, shape):
        return _need_square(shape, "cov_matrix")

    def free_size(self, shape):
        d = shape[0]
        return d * (d + 1) // 2

    def forward(self, u, shape):
        d = shape[0]
        rows, cols = np.tril_indices(d)
        L = jnp.zeros(shape, u.dtype).at[rows, cols].set(u)
        L = L - jnp.diag(jnp.diag(L)) + jnp.diag(jnp.exp(jnp.diag(L)))
        return L @ L.T

    def inverse(self, x):
        d = x.shape[0]
        L = jnp.linalg.cholesky(x)
        L = L - jnp.diag(jnp.diag(L)) + jnp.diag(jnp.log(jnp.diag(L)))
        return L[np.tril_indices(d)]

    def violation(self, x):
        if not np.allclose(x, x.T) or np.any(~np.isfinite(np.linalg.cholesky(_sym(x)))):
            return "must be a symmetric positive-definite matrix"
        return None

    def reported(self, shape):
        return _lower_triangle(shape, 0)


@dataclasses.dataclass(frozen=True, repr=False)
class _CorrMatrix(Constraint):
    name: str = "corr_matrix"
    sides = (True, True)  # u_i -> -inf or +inf: a correlation -> -1 or 1

    def check_shape(self, shape):
        return _need_square(shape, "corr_matrix")

    def free_size(self, shape):
        d = shape[0]
        return d * (d - 1) // 2

    def forward(self, u, shape):
        # Lower-triangular W with unit diagonal; normalizing its rows gives the
        # Cholesky factor of a correlation matrix (positive diagonal, unit rows).
        d = shape[0]
        rows, cols = np.tril_indices(d, -1)
        W = jnp.eye(d, dtype=u.dtype).at[rows, cols].set(u)
        L = W / jnp.linalg.norm(W, axis=1, keepdims=True)
        return L @ L.T

    def inverse(self, x):
        d = x.shape[0]
        L = jnp.linalg.cholesky(x)
        W = L / jnp.diag(L)[:, None]
        return W[np.tril_indices(d, -1)]

    def violation(self, x):
        if (
            not np.allclose(x, x.T)
            or not np.allclose(np.diag(x), 1.0)
            or np.any(~np.isfinite(np.linalg.cholesky(_sym(x))))
        ):
            return "must be a correlation matrix (symmetric, unit diagonal, PD)"
        return None

    def reported(self, shape):
        return _lower_triangle(shape, -1)


def _lower_triangle(shape, k):
    """Flat indices of the lower triangle of a square matrix of ``shape``,
    ``k`` the diagonal offset of :func:`numpy.tril_indices` (0 with the
    diagonal, -1 without)."""
    d = shape[0]
    rows, cols = np.tril_indices(d, k)
    return [int(i * d + j) for i, j in zip(rows, cols)]


def _sym(x):
    x = np.asarray(x, dtype=float)
    try:
        np.linalg.cholesky(x)
    except np.linalg.LinAlgError:
        return np.full_like(x, np.nan)
    return x


@dataclasses.dataclass(frozen=True, repr=False)
class _Fixed(Constraint):
    name: str = "fixed"

    def free_size(self, shape):
        return 0

    def forward(self, u, shape):  # pragma: no cover - never called for fixed
        raise AssertionError("fixed parameters are not mapped")

    def inverse(self, x):
        return jnp.zeros((0,), jnp.result_type(x))


real: Constraint = _Real()
positive: Constraint = greater_than(0.0)
unit_interval: Constraint = interval(0.0, 1.0)
ordered: Constraint = _Ordered()
simplex: Constraint = _Simplex()
cov_matrix: Constraint = _CovMatrix()
corr_matrix: Constraint = _CorrMatrix()
fixed: Constraint = _Fixed()

_SINGLETONS = {
    "real": real, "ordered": ordered, "simplex": simplex,
    "cov_matrix": cov_matrix, "corr_matrix": corr_matrix, "fixed": fixed,
}  # fmt: skip


def _json_num(x):
    """A float for JSON; inf and NaN as strings (JSON has no such numbers)."""
    x = float(x)
    return x if math.isfinite(x) else str(x)


def from_dict(d: dict) -> Constraint:
    """The constraint written by :meth:`Constraint.to_dict`.

    Examples
    --------
    >>> from likelihax import constraints as C
    >>> C.from_dict(C.interval(0.0, 2.0).to_dict())
    interval(0, 2)
    >>> C.from_dict(C.positive.to_dict()) == C.positive
    True
    """
    if not isinstance(d, dict):
        raise TypeError(f"a constraint is read from a dict; got {type(d).__name__}.")
    kind = d.get("kind")

    def number(key):
        if key not in d:
            raise ValueError(f"constraint {kind!r} needs the field {key!r}; got {d}.")
        return float(d[key])

    if kind == "greater_than":
        return greater_than(number("lower"))
    if kind == "less_than":
        return less_than(number("upper"))
    if kind == "interval":
        return interval(number("lower"), number("upper"))
    if kind in _SINGLETONS:
        return _SINGLETONS[kind]
    raise ValueError(f"unknown constraint kind {kind!r}")
