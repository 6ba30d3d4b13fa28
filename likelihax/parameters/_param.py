"""Parameter specification: names, shapes, constraints and the unconstrained map.

A :class:`ParamSpec` is the static (hashable) description of a parameter pytree.
It maps a flat unconstrained vector ``u`` (the optimizer's variables) to the
natural-scale pytree the user's log-likelihood receives, and labels every
element (``beta[0]``, ``Sigma[1,0]``, ``group.mu``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from . import constraints as C

__all__ = ["Param", "ParamSpec", "build_spec"]


@dataclasses.dataclass(frozen=True)
class Param:
    """A parameter's starting value with its constraint.

    Parameters
    ----------
    init : array_like
        Starting value, on the natural scale (scalar or array).
    constraint : Constraint, optional
        One of :mod:`likelihax.constraints`; default ``real``.
    fixed : bool, optional
        Hold the parameter at ``init`` (same as ``constraint=constraints.fixed``).

    Examples
    --------
    >>> import likelihax as lx
    >>> p = lx.Param(1.0, constraint=lx.constraints.positive)
    >>> p.constraint
    positive
    """

    init: Any
    constraint: C.Constraint = C.real
    fixed: bool = False


def path_name(path) -> str:
    parts: list[str] = []
    for k in path:
        if isinstance(k, jax.tree_util.DictKey):
            parts.append(("." if parts else "") + str(k.key))
        elif isinstance(k, jax.tree_util.GetAttrKey):
            parts.append(("." if parts else "") + k.name)
        elif isinstance(k, jax.tree_util.SequenceKey):
            parts.append(f"[{k.idx}]")
        else:  # pragma: no cover - exotic pytree nodes
            parts.append(("." if parts else "") + str(k))
    return "".join(parts) or "theta"


def element_labels(name: str, shape: tuple[int, ...]) -> list[str]:
    if shape == ():
        return [name]
    return [f"{name}[{','.join(str(i) for i in idx)}]" for idx in np.ndindex(*shape)]


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """Static description of a parameter pytree (hashable; one compile per spec)."""

    treedef: Any
    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    constraints: tuple[C.Constraint, ...]
    order: tuple[int, ...] = ()

    # ----- sizes ---------------------------------------------------------------
    @property
    def free_sizes(self) -> tuple[int, ...]:
        return tuple(c.free_size(s) for c, s in zip(self.constraints, self.shapes))

    @property
    def n_free(self) -> int:
        """Number of estimated (unconstrained) values."""
        return sum(self.free_sizes)

    @property
    def n_natural(self) -> int:
        """Number of natural-scale elements (all leaves, flattened)."""
        return sum(math.prod(s) for s in self.shapes)

    def is_fixed(self, i: int) -> bool:
        return self.constraints[i] is C.fixed or self.free_sizes[i] == 0

    # ----- maps ----------------------------------------------------------------
    def to_unconstrained(self, leaves) -> jax.Array:
        """Flat unconstrained vector from natural-scale leaves (fixed ones skipped)."""
        parts = [
            jnp.ravel(c.inverse(jnp.asarray(x)))
            for c, x, i in zip(self.constraints, leaves, range(len(leaves)))
            if not self.is_fixed(i)
        ]
        if not parts:
            return jnp.zeros((0,), jnp.result_type(float))
        return jnp.concatenate(parts)

    def natural_leaves(self, u, fixed_leaves) -> list:
        """Natural-scale leaves from ``u``; fixed leaves are taken from ``fixed_leaves``."""
        free = [i for i in range(len(self.shapes)) if not self.is_fixed(i)]
        # One split, not one slice per parameter: its transpose is a single
        # concatenate, which keeps the differentiated program (and its compile
        # time) small for models with many separate parameters.
        cuts = np.cumsum([self.free_sizes[i] for i in free])[:-1].tolist()
        parts = iter(jnp.split(u, cuts) if free else [])
        out = []
        for i, (c, shape) in enumerate(zip(self.constraints, self.shapes)):
            if self.is_fixed(i):
                out.append(jax.lax.stop_gradient(jnp.asarray(fixed_leaves[i])))
            else:
                out.append(c.forward(next(parts), shape))
        return out

    def to_natural(self, u, fixed_leaves):
        """Natural-scale parameter pytree from the unconstrained vector."""
        return jax.tree_util.tree_unflatten(
            self.treedef, self.natural_leaves(u, fixed_leaves)
        )

    def toward_bound(self) -> tuple[np.ndarray, np.ndarray]:
        """Per unconstrained coordinate, whether moving it to -inf / +inf leads
        to a bound of its parameter's support (see
        :meth:`likelihax.constraints.Constraint.toward_bound`)."""
        return _spec_toward_bound(self)

    def natural_flat(self, u, fixed_leaves) -> jax.Array:
        """All natural-scale elements as one flat vector (for the delta method)."""
        leaves = self.natural_leaves(u, fixed_leaves)
        return jnp.concatenate([jnp.ravel(x) for x in leaves])

    def unflatten_natural(self, flat) -> Any:
        """Pytree shaped like the parameters from a flat natural-scale vector.

        Works on NumPy and JAX arrays (also traced ones) and keeps leading
        batch axes.
        """
        leaves, off = [], 0
        for shape in self.shapes:
            m = math.prod(shape)
            leaves.append(flat[..., off : off + m].reshape(flat.shape[:-1] + shape))
            off += m
        return self._written_dicts(jax.tree_util.tree_unflatten(self.treedef, leaves))

    def _written_dicts(self, tree, prefix: str = ""):
        """``tree`` with its dicts' keys in the order the user wrote them.

        JAX sorts dict keys when flattening; results read better (and, passed
        back as starting values, keep the reported order) in the user's order.
        """
        if not isinstance(tree, dict) or not self.order:
            return tree
        rank = {self.names[i]: r for r, i in enumerate(self.order)}

        def first(key):
            name = f"{prefix}.{key}" if prefix else str(key)
            hits = [
                r for n, r in rank.items()
                if n == name or n.startswith(name + ".") or n.startswith(name + "[")
            ]  # fmt: skip
            return min(hits, default=len(rank))

        keys = sorted(tree, key=first)
        return {
            k: self._written_dicts(tree[k], f"{prefix}.{k}" if prefix else str(k))
            for k in keys
        }

    # ----- labels --------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        """Label of every natural-scale element, in flat order."""
        out: list[str] = []
        for name, shape in zip(self.names, self.shapes):
            out.extend(element_labels(name, shape))
        return out

    @property
    def reported(self) -> list[int]:
        """Flat natural indices shown in summaries (e.g. lower triangle of a matrix).

        Leaves appear in the order the user wrote them (JAX sorts dict keys).
        """
        offsets = np.cumsum([0] + [math.prod(s) for s in self.shapes])
        out = []
        for i in self.order or range(len(self.shapes)):
            c, shape = self.constraints[i], self.shapes[i]
            out.extend(int(offsets[i]) + j for j in c.reported(shape))
        return out

    @property
    def element_constraints(self) -> list[C.Constraint]:
        """Constraint of every natural-scale element, in flat order."""
        out: list[C.Constraint] = []
        for c, shape in zip(self.constraints, self.shapes):
            out.extend([c] * math.prod(shape))
        return out

    @property
    def free_labels(self) -> list[str]:
        """Labels of the unconstrained coordinates (``log(sigma)`` for positive ...)."""
        out: list[str] = []
        for i, (name, shape, c, m) in enumerate(
            zip(self.names, self.shapes, self.constraints, self.free_sizes)
        ):
            if self.is_fixed(i):
                continue
            out.extend(c.free_labels(name, shape, element_labels(name, shape)))
        return out


# What to do when a model's state holds more than its parameters.
_NOT_PARAMS = (
    "Keep random keys, counters and other state that is not estimated out of "
    "`params` and close over it in the log-likelihood: for Flax NNX, "
    "`graphdef, params, rest = nnx.split(model, nnx.Param, ...)` and "
    "`nnx.merge(graphdef, p, rest)`; for Equinox, "
    "`params, static = eqx.partition(model, eqx.is_inexact_array)`."
)


def build_spec(
    params: Any, constraints: Mapping[str, C.Constraint] | None = None
) -> tuple[ParamSpec, list[np.ndarray]]:
    """Build the spec and the natural-scale starting leaves from user input.

    ``params`` is a pytree whose leaves are array-likes or :class:`Param`.
    ``constraints`` maps parameter names (top-level keys or full dotted names)
    to constraints.

    Raises
    ------
    ValueError
        Unknown constraint names, constraints that do not fit a shape, or
        starting values outside their constraint.
    TypeError
        Non-numeric starting values.
    """
    is_param = lambda x: isinstance(x, Param)  # noqa: E731
    flat, treedef = jax.tree_util.tree_flatten_with_path(params, is_leaf=is_param)
    if not flat:
        raise ValueError("`params` is empty: give at least one parameter to estimate.")
    names, shapes, cons, leaves = [], [], [], []
    for path, leaf in flat:
        name = path_name(path)
        con = C.real
        if isinstance(leaf, Param):
            con = C.fixed if leaf.fixed else leaf.constraint
            leaf = leaf.init
        try:
            value = np.array(leaf, copy=True)
        except Exception as e:  # random keys and other exotic objects
            raise TypeError(
                f"Starting value of '{name}' is not numeric: a "
                f"{type(leaf).__name__} of dtype {getattr(leaf, 'dtype', None)}. "
                f"{_NOT_PARAMS}"
            ) from e
        if value.dtype.kind not in "biuf":
            raise TypeError(
                f"Starting value of '{name}' has dtype {value.dtype}; parameters must "
                f"be real numbers (int and bool are converted to float). {_NOT_PARAMS}"
            )
        names.append(name)
        shapes.append(tuple(value.shape))
        cons.append(con)
        leaves.append(value.astype(np.float64))
    constraints = dict(constraints or {})
    for key, con in constraints.items():
        if not isinstance(con, C.Constraint):
            raise TypeError(
                f"constraints['{key}'] = {con!r} is not a constraint; use one of "
                "likelihax.constraints (positive, interval(a, b), simplex, ...)."
            )
        hits = [
            i
            for i, n in enumerate(names)
            if n == key or n.startswith(key + ".") or n.startswith(key + "[")
        ]
        if not hits:
            raise ValueError(
                f"Constraint given for '{key}', which matches no parameter. "
                f"Parameters are: {', '.join(names)}."
            )
        for i in hits:
            cons[i] = con
    for name, shape, con, value in zip(names, shapes, cons, leaves):
        why = con.check_shape(shape)
        if why:
            raise ValueError(f"Parameter '{name}': {why}.")
        if not np.all(np.isfinite(value)):
            raise ValueError(
                f"Starting value of '{name}' is not finite ({value}); give finite "
                "starting values."
            )
        why = con.violation(value)
        if why:
            raise ValueError(
                f"Starting value of '{name}' = {value} is outside its constraint "
                f"{con.name}: it {why}. Give a starting value inside the support."
            )
    written = _written_order(params, is_param)
    order = tuple(sorted(range(len(names)), key=lambda i: written.get(names[i], i)))
    spec = ParamSpec(treedef, tuple(names), tuple(shapes), tuple(cons), order)
    return spec, leaves


def _written_order(tree, is_leaf, prefix="") -> dict[str, int]:
    """Leaf names in the order the user wrote them (insertion order of dicts and
    other mappings, such as Flax's ``FrozenDict`` and ``nnx.State``)."""
    out: dict[str, int] = {}

    def walk(node, name):
        if isinstance(node, Mapping) and not is_leaf(node):
            for k, v in node.items():
                walk(v, f"{name}.{k}" if name else str(k))
        elif isinstance(node, (list, tuple)) and not is_leaf(node):
            for j, v in enumerate(node):
                walk(v, f"{name}[{j}]")
        else:
            out.setdefault(name or "theta", len(out))

    walk(tree, prefix)
    return out


@functools.lru_cache(maxsize=256)
def _spec_toward_bound(spec: ParamSpec):
    sides = [c.toward_bound(shape) for i, (c, shape)
             in enumerate(zip(spec.constraints, spec.shapes)) if not spec.is_fixed(i)]  # fmt: skip
    if not sides:
        return np.zeros(0, bool), np.zeros(0, bool)
    return tuple(np.concatenate(x) for x in zip(*sides))
