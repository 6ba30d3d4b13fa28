"""Encoding a parameter tree, its constraints and numbers as plain JSON (no
pickle) for :mod:`._io`, and decoding them with checks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..parameters import constraints as C

# Deepest nesting of dicts, lists and tuples in a saved parameter tree.
MAX_TREE_DEPTH = 64


def _num(x) -> Any:
    """A float for JSON: finite numbers as numbers, others as strings."""
    x = float(x)
    return x if math.isfinite(x) else str(x)


def _nobs(n):
    if n is None:
        return None
    if isinstance(n, (int, np.integer)):
        return int(n)
    return float(n)


def _encode_constraint(c, name: str) -> dict:
    try:
        return c.to_dict()
    except (ValueError, AttributeError):
        raise ValueError(
            f"Parameter '{name}' has the constraint {c!r}, which save_result cannot "
            "write by name (it is not one of likelihax.constraints). Use a built-in "
            "constraint, or save the numbers yourself (fit.params, fit.cov.matrix)."
        ) from None


def _decode_constraint(d: dict) -> C.Constraint:
    return C.from_dict(d)


def _encode_tree(node, path: str = "params", depth: int = 0) -> dict:
    """The parameter container (dicts, lists, tuples) as JSON; leaves by index."""
    if depth > MAX_TREE_DEPTH:
        raise ValueError(
            f"save_result writes parameter trees nested at most {MAX_TREE_DEPTH} "
            f"levels deep; {path} is deeper. Flatten the parameter dict."
        )
    if isinstance(node, int) and not isinstance(node, bool):
        return {"leaf": node}
    if node is None:
        return {"none": True}
    if type(node) is dict:
        bad = [k for k in node if not isinstance(k, str)]
        if bad:
            raise ValueError(
                f"save_result writes dict keys as JSON strings; {path} has the "
                f"non-string key(s) {bad!r}. Use string keys."
            )
        return {
            "dict": {
                k: _encode_tree(v, f"{path}.{k}", depth + 1) for k, v in node.items()
            }
        }
    if type(node) in (list, tuple):
        kids = [_encode_tree(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(node)]
        return {type(node).__name__: kids}
    raise ValueError(
        f"save_result can write parameters held in dicts, lists and tuples; "
        f"{path} is a {type(node).__name__}. Pass the parameters as a dict."
    )


def _tree_depth(d) -> int:
    """Nesting depth of a JSON value, without recursion; stops past MAX_TREE_DEPTH."""
    deepest, stack = 0, [(d, 0)]
    while stack and deepest <= MAX_TREE_DEPTH:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        kids = node.values() if isinstance(node, dict) else node
        if isinstance(node, (dict, list)):
            stack.extend((k, depth + 1) for k in kids)
    return deepest


def _decode_tree(d: dict):
    if "leaf" in d:
        return 0
    if "none" in d:
        return None
    if "dict" in d:
        return {k: _decode_tree(v) for k, v in d["dict"].items()}
    if "list" in d:
        return [_decode_tree(v) for v in d["list"]]
    if "tuple" in d:
        return tuple(_decode_tree(v) for v in d["tuple"])
    raise ValueError(f"unknown container {sorted(d)!r}")
