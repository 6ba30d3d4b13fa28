"""Checks of the log-likelihood and the starting values, cached per shape.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # optax is imported when used
    pass

import jax
import jax.numpy as jnp
import numpy as np

from ..data import check_row_broadcast
from ..parameters import build_spec
from ._compiled import to_unconstrained

# Output shape of each log-likelihood for the parameter and data shapes checked
# so far: a second fit of the same model to data of the same shapes does not
# trace the log-likelihood again (a trace runs its Python code, a fixed cost
# that a repeated small fit would otherwise pay every time; the compiled
# program is cached on the same things). Held weakly by the log-likelihood,
# with at most 64 shape combinations each.
_CHECKED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _shape_key(spec, data, dtype) -> tuple:
    """What a log-likelihood's checks depend on: parameter and data shapes."""
    d_leaves, d_tree = jax.tree_util.tree_flatten(data)
    shapes = tuple((tuple(np.shape(x)), jnp.result_type(x).name) for x in d_leaves)
    return (spec.treedef, tuple(spec.shapes), np.dtype(dtype).name, d_tree, shapes)


def _memo(loglik, key, compute):
    """``compute()``, kept in ``_CHECKED`` under ``loglik`` and ``key``."""
    try:
        seen = _CHECKED.get(loglik)
    except TypeError:  # not weakly referenceable or not hashable: no cache
        seen = None
    if seen is not None and key in seen:
        return seen[key]
    value = compute()
    try:
        seen = _CHECKED.setdefault(loglik, {})
        if len(seen) >= 64:
            seen.pop(next(iter(seen)))
        seen[key] = value
    except TypeError:
        pass
    return value


def check_rows(loglik, spec, leaves, data, out_shape, dtype):
    """:func:`check_row_broadcast` once per log-likelihood and data shapes (its
    verdict kept with :func:`check_loglik`'s, so a refit of the same shapes,
    e.g. every NB2 ``lx.glm`` with its one-row count table, does not redo it)."""
    def check():
        trace = lambda d: check_loglik(loglik, spec, leaves, d, dtype)  # noqa: E731
        return check_row_broadcast(data, out_shape, trace)

    _memo(loglik, ("rows",) + _shape_key(spec, data, dtype), check)


def check_loglik(loglik, spec, leaves, data, dtype):
    """Trace the log-likelihood once (no FLOPs) and check what it returns."""

    def trace():
        p_struct = jax.tree_util.tree_unflatten(
            spec.treedef, [jax.ShapeDtypeStruct(s, dtype) for s in spec.shapes]
        )
        d_struct = jax.tree_util.tree_map(
            lambda x: (
                x
                if isinstance(x, jax.ShapeDtypeStruct)
                else jax.ShapeDtypeStruct(jnp.shape(x), jnp.result_type(x))
            ),
            data,
        )
        return _trace_loglik(loglik, spec, p_struct, d_struct, data)

    return _memo(loglik, _shape_key(spec, data, dtype), trace)


def _trace_loglik(loglik, spec, p_struct, d_struct, data):
    try:
        out = jax.eval_shape(loglik, p_struct, d_struct)
    except KeyError as e:
        raise KeyError(
            f"The log-likelihood asked for {e.args[0]!r}, which is neither a parameter "
            f"nor a data field. Parameters: {', '.join(spec.names)}. Data fields: "
            f"{', '.join(_data_names(data))}."
        ) from e
    if not isinstance(out, jax.ShapeDtypeStruct):
        raise TypeError(
            "The log-likelihood must return one array (per-observation values or a "
            f"scalar total); it returned {type(out).__name__}."
        )
    if out.shape != () and len(out.shape) != 1:
        raise ValueError(
            "The log-likelihood must return one value per observation (shape (n,)) "
            f"or a scalar total; it returned shape {out.shape}. If it returns a "
            "column (n, 1), flatten it; if it returns (n, k), sum over the k axis."
        )
    if not jnp.issubdtype(out.dtype, jnp.floating):
        raise TypeError(
            f"The log-likelihood returned dtype {out.dtype}; it must be floating point."
        )
    return out.shape


def _data_names(data):
    from ..parameters import path_name

    flat, _ = jax.tree_util.tree_flatten_with_path(data)
    return [path_name(p) or "data" for p, _ in flat]


def resolve_starts(starts, spec, leaves, u0, key, start_scale):
    """Starting points as a (S, k) array of unconstrained vectors."""
    if isinstance(starts, (int, np.integer)):
        if starts < 1:
            raise ValueError(f"starts must be >= 1; got {starts}.")
        key = jax.random.key(0) if key is None else key
        noise = jax.random.normal(key, (int(starts) - 1, u0.shape[0]), u0.dtype)
        return jnp.concatenate([u0[None], u0[None] + start_scale * noise])
    starts = list(starts)
    if not starts:
        raise ValueError("starts is an empty list; give at least one starting pytree.")
    us = []
    for i, st in enumerate(starts):
        try:
            s_spec, s_leaves = build_spec(st, dict(zip(spec.names, spec.constraints)))
        except ValueError as e:
            raise ValueError(f"starts[{i}]: {e}") from e
        if s_spec.treedef != spec.treedef or s_spec.shapes != spec.shapes:
            raise ValueError(
                f"starts[{i}] does not have the structure and shapes of params."
            )
        us.append(to_unconstrained(spec, [jnp.asarray(x) for x in s_leaves]))
    return jnp.stack(us)
