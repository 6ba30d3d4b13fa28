"""Shared machinery of the ready-made mixtures: starts, degeneracy checks, the engine.

Each model supplies its complete-data log-density, closed-form M-step,
parameter constraints, a batch of starting points, a ``diagnose`` function
naming degenerate components, and a canonical ordering of the components.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from ..._fit import _prepare_weights
from ..._precision import x64_scope
from ..._warnings import ConvergenceWarning
from ...model import constraints as C
from ...model._param import Param, build_spec
from ._em import (
    EMStatus,
    em_info,
    finish,
    marginal_loglik,
    pick_best,
    run_em,
    warn_em,
)

__all__ = ["fit_mixture", "check_k", "weights_param", "prepare_weights"]


def weights_param(w) -> Param:
    """Mixture weights: ``simplex`` for K >= 2, fixed at 1 for K = 1."""
    w = np.asarray(w, dtype=np.float64)
    return Param(w, fixed=True) if w.size == 1 else Param(w, C.simplex)


def check_k(k, n_distinct: int, what: str):
    """``k`` is an int >= 1 and not above the number of distinct data values."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k (number of components) must be an integer >= 1; got {k!r}.")
    if k > n_distinct:
        raise ValueError(
            f"k={k} components but the data have only {n_distinct} distinct "
            f"{what}: at least one component would be empty or sit on a single "
            "value, where the likelihood is unbounded or the components are not "
            f"identified. Use k <= {n_distinct}."
        )


def prepare_weights(weights, n):
    """Validated frequency weights (NumPy float64) or None."""
    with x64_scope():
        w = _prepare_weights(weights, n, True, np.float64)
    return None if w is None else np.asarray(w)


def fit_mixture(
    *,
    complete: Callable,
    mstep: Callable,
    template: Any,
    start_params: Any,
    data: dict,
    weights,
    diagnose: Callable,
    canonical: Callable,
    name: str,
    header=(),
    accelerate=None,
    max_steps: int = 1000,
    tol: float = 1e-10,
    cov=None,
    warn: bool = True,
    method: str = "em",
):
    """Run EM from a batch of starts, keep the best non-degenerate one, then the engine.

    ``template`` is a params pytree of :class:`Param` (structure and
    constraints); ``start_params`` the same structure with a leading axis of
    starts (natural scale). ``diagnose(params) -> list[str]`` names degenerate
    components (empty, collapsed) of a host-side estimate.
    """
    with x64_scope():
        spec, leaves = build_spec(template)
        fixed = [jnp.asarray(x, jnp.float64) for x in leaves]
        n = next(iter(data.values())).shape[0]
        jdata = {k: jnp.asarray(v) for k, v in data.items()}
        w = jnp.ones((n,), jnp.float64) if weights is None else jnp.asarray(weights)
        s_leaves = [jnp.asarray(x, jnp.float64) for x in jax.tree_util.tree_leaves(
            start_params)]  # fmt: skip
        to_u = jax.vmap(lambda *ls: spec.to_unconstrained(list(ls)))
        free = [x for i, x in enumerate(s_leaves) if not spec.is_fixed(i)]
        starts_u = to_u(*s_leaves) if free else None
        if method == "newton":
            est = spec.unflatten_natural(
                np.asarray(spec.natural_flat(starts_u[0], fixed))
            )
            return finish(
                marginal_loglik(complete), _as_template(spec, canonical(est)), data,
                weights, None, cov=cov, warn=warn, name=name, header=header,
            )  # fmt: skip
        out = run_em(
            complete, spec, starts_u, fixed, jdata, w, mstep=mstep,
            accelerate=accelerate, max_steps=max_steps, tol=tol, newton_steps=0,
        )  # fmt: skip
    # Degenerate starts (empty or collapsed components) never count as the best.
    # A start that stopped on a non-finite step is diagnosed at that step.
    problems = [
        diagnose(spec.unflatten_natural(
            out["params_flat" if out["finite"][i] else "attempt"][i]))
        for i in range(out["ll"].shape[0])
    ]  # fmt: skip
    bad = np.array([bool(p) for p in problems])
    usable = dict(out, finite=out["finite"] & ~bad)
    best, summary = pick_best(usable)
    summary["degenerate"] = int(bad.sum())
    if not np.isfinite(summary["best_loglik"]):
        i = int(np.argmax(np.where(np.isnan(out["ll"]), -np.inf, out["ll"])))
        why = problems[i] or ["the log-likelihood became non-finite"]
        info = em_info(
            out, i, accelerate, summary, EMStatus.degenerate,
            f"{EMStatus.degenerate.message} Every start degenerated; e.g. start "
            f"{i}: {'; '.join(why)}.",
        )  # fmt: skip
        raise ValueError(
            f"{info.message} Try (a) fewer components, (b) other starts "
            "(`starts=`, `key=`), or (c) a more constrained covariance."
        )
    info = em_info(out, best, accelerate, summary)
    if summary["degenerate"] and warn:
        first = int(np.flatnonzero(bad)[0])
        import warnings

        warnings.warn(
            f"{summary['degenerate']} of {summary['starts']} starts reached a "
            f"degenerate solution and were left out (e.g. start {first}: "
            f"{'; '.join(problems[first])}).",
            ConvergenceWarning,
            stacklevel=3,
        )
    if warn:
        warn_em(info, stacklevel=4)
    est = canonical(spec.unflatten_natural(out["params_flat"][best]))
    return finish(
        marginal_loglik(complete), _as_template(spec, est), data, weights, info,
        cov=cov, warn=warn, name=name, header=header,
    )  # fmt: skip


def _as_template(spec, est):
    """Params pytree of :class:`Param` from an estimate, constraints from ``spec``.

    Walks ``est`` itself (not ``spec.treedef``), so dicts keep the order in
    which the model wrote them and the summary lists ``weights`` first.
    """
    index = {n: i for i, n in enumerate(spec.names)}

    def walk(node, name):
        if isinstance(node, dict):
            return {k: walk(v, f"{name}.{k}" if name else str(k)) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [walk(v, f"{name}[{j}]") for j, v in enumerate(node)]
        i = index[name]
        if spec.is_fixed(i):
            return Param(np.asarray(node), fixed=True)
        return Param(np.asarray(node), spec.constraints[i])

    return walk(est, "")
