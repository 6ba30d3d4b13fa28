"""Shared machinery of the ready-made mixtures: starts, degeneracy checks, the engine.

Each model supplies its complete-data log-density, closed-form M-step,
parameter constraints, a batch of starting points, a ``diagnose`` function
naming degenerate components, and a canonical ordering of the components.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ...core import ConvergenceWarning, Status, x64_scope
from ...parameters import Param, build_spec
from ...parameters import constraints as C
from .._em_driver import em_finish, warn_em
from ._em import (
    em_info,
    marginal_loglik,
    pick_best,
    prepare_weights,
    run_em,
)
from ._options import MixtureOptions

__all__ = [
    "check_k",
    "choose_k",
    "empty_components",
    "fit_mixture",
    "prepare_weights",
    "seeded_starts",
    "stack_inits",
    "weights_param",
]


def weights_param(w) -> Param:
    """Mixture weights: ``simplex`` for K >= 2, fixed at 1 for K = 1."""
    w = np.asarray(w, dtype=np.float64)
    return Param(w, fixed=True) if w.size == 1 else Param(w, C.simplex)


def empty_components(p, unit: str = "component"):
    """Components of a host-side estimate ``p`` whose weight is (nearly) 0.

    Returns the set of their indices and one message per component naming it
    and its parameter, for a model's ``diagnose``.
    """
    w = np.atleast_1d(np.asarray(p["weights"], dtype=float))
    empty = np.flatnonzero(~(w > 1e-8))
    return set(empty.tolist()), [
        f"{unit} {j} is empty (weight {w[j]:.3g}; parameter 'weights[{j}]')"
        for j in empty
    ]


def count_distinct(a, limit: int) -> int:
    """Number of distinct rows of ``a``, counted up to ``limit`` (O(n limit)).

    ``np.unique(a, axis=0)`` sorts, which takes about a second for a million
    rows; only "fewer than k distinct rows" matters here.
    """
    rest = np.asarray(a).reshape(np.shape(a)[0], -1)
    count = 0
    while rest.shape[0] and count < limit:
        rest = rest[np.any(rest != rest[0], axis=1)]
        count += 1
    return count


def check_k(k, data, what: str):
    """``k`` is an int >= 1 and not above the number of distinct rows of ``data``."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(
            f"k (number of components) must be an integer >= 1; got {k!r}."
        )
    n_distinct = count_distinct(data, int(k))
    if k > n_distinct:
        raise ValueError(
            f"k={k} components but the data have only {n_distinct} distinct "
            f"{what}: at least one component would be empty or sit on a single "
            "value, where the likelihood is unbounded or the components are not "
            f"identified. Use k <= {n_distinct}."
        )


def _seed_many(keys, features, w, k, kind, mstep, fix, data):
    from ._gaussian import _random_resp, kmeanspp_resp

    def one(key):
        if kind == "kmeans++":
            resp = kmeanspp_resp(key, features, k)
        else:
            resp = _random_resp(key, features, k)
        p = mstep(resp * w[:, None], data, None)
        return p if fix is None else fix(p)

    return jax.vmap(one)(keys)


def seeded_starts(key, features, w, k, starts, init, mstep, data, fix=None):
    """Starting params (leading axis: starts) from seeded responsibilities.

    ``init`` is ``"kmeans++"`` (on the rows of ``features``) or ``"random"``;
    the closed-form ``mstep`` turns each set of responsibilities into params.
    """
    if init not in ("kmeans++", "random"):
        raise ValueError(
            f"init must be 'kmeans++', 'random', a dict or a list of dicts; got {init!r}."
        )
    if isinstance(starts, bool) or int(starts) < 1:
        raise ValueError(f"starts must be >= 1; got {starts}.")
    with x64_scope():
        keys = jax.random.split(jax.random.key(0) if key is None else key, int(starts))
        feats = jnp.asarray(features, jnp.float64)
        feats = feats[:, None] if feats.ndim == 1 else feats
        wj = jnp.ones(feats.shape[0]) if w is None else jnp.asarray(w)
        jdata = jax.tree_util.tree_map(jnp.asarray, data)
        return _seed_many(keys, feats, wj, int(k), init, mstep, fix, jdata)


def stack_inits(init, shapes: dict, what: str):
    """An explicit starting dict, or a list of them, checked against ``shapes``.

    Returns the starts stacked on a new leading axis.
    """
    out = []
    for i, p in enumerate([init] if isinstance(init, dict) else list(init)):
        if not isinstance(p, dict) or set(p) != set(shapes):
            got = sorted(p) if isinstance(p, dict) else type(p).__name__
            raise ValueError(
                f"init[{i}] must have the keys {sorted(shapes)} for {what}; got {got}."
            )
        q = {}
        for name, shape in shapes.items():
            a = np.array(p[name], dtype=np.float64)
            if a.shape != shape:
                raise ValueError(
                    f"init[{i}]['{name}'] must have shape {shape}; got {a.shape}."
                )
            q[name] = a
        out.append(q)
    return jax.tree_util.tree_map(lambda *a: np.stack(a), *out)


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
    options: MixtureOptions,
    model_info=None,
):
    """Run EM from a batch of starts, keep the best non-degenerate one, then the engine.

    ``template`` is a params pytree of :class:`Param` (structure and
    constraints); ``start_params`` the same structure with a leading axis of
    starts (natural scale). ``diagnose(params) -> list[str]`` names degenerate
    components (empty, collapsed) of a host-side estimate. ``options`` are
    the mixture function's EM and engine options.
    """
    options.check()
    accelerate, cov, warn = options.accelerate, options.cov, options.warn
    with x64_scope():
        spec, leaves = build_spec(template)
        fixed = [jnp.asarray(x, jnp.float64) for x in leaves]
        n = next(iter(data.values())).shape[0]
        jdata = jax.tree_util.tree_map(jnp.asarray, data)
        w = jnp.ones((n,), jnp.float64) if weights is None else jnp.asarray(weights)
        s_leaves = [jnp.asarray(x, jnp.float64) for x in jax.tree_util.tree_leaves(
            start_params)]  # fmt: skip
        starts_u = _to_u_many(spec, s_leaves)
        if options.method == "newton":
            est = spec.unflatten_natural(
                np.asarray(spec.natural_flat(starts_u[0], fixed))
            )
            return em_finish(
                marginal_loglik(complete), _as_template(spec, canonical(est)), data,
                weights, None, cov=cov, warn=warn, name=name, header=header,
                model_info=model_info,
            )  # fmt: skip
        out = run_em(
            complete, spec, starts_u, fixed, jdata, w, mstep=mstep,
            accelerate=accelerate, max_steps=options.max_steps, tol=options.tol,
            newton_steps=0,
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
        raise ValueError(
            f"{Status.degenerate.message} Every start degenerated; e.g. start "
            f"{i}: {'; '.join(why)}."
        )
    info = em_info(out, best, accelerate, summary)
    # Warnings name the line that called the mixture function: above this frame
    # are the model's function and its mixture_options wrapper.
    if summary["degenerate"] and warn:
        first = int(np.flatnonzero(bad)[0])
        warnings.warn(
            f"{summary['degenerate']} of {summary['starts']} starts reached a "
            f"degenerate solution and were left out (e.g. start {first}: "
            f"{'; '.join(problems[first])}).",
            ConvergenceWarning,
            stacklevel=4,
        )
    if warn:
        warn_em(info, stacklevel=5)
    est = canonical(spec.unflatten_natural(out["params_flat"][best]))
    return em_finish(
        marginal_loglik(complete), _as_template(spec, est), data, weights, info,
        cov=cov, warn=warn, name=name, header=header, se=options.se,
        model_info=model_info,
    )  # fmt: skip


@functools.partial(jax.jit, static_argnums=0)
def _to_u_many(spec, leaves):
    return jax.vmap(lambda ls: spec.to_unconstrained(ls))(leaves)


def _as_template(spec, est):
    """Params pytree of :class:`Param` from an estimate, constraints from ``spec``.

    Walks ``est`` itself (not ``spec.treedef``), so dicts keep the order in
    which the model wrote them and the summary lists ``weights`` first.
    """
    index = {n: i for i, n in enumerate(spec.names)}

    def walk(node, name):
        if isinstance(node, dict):
            return {
                k: walk(v, f"{name}.{k}" if name else str(k)) for k, v in node.items()
            }
        if isinstance(node, (list, tuple)):
            return [walk(v, f"{name}[{j}]") for j, v in enumerate(node)]
        i = index[name]
        if spec.is_fixed(i):
            return Param(np.asarray(node), fixed=True)
        return Param(np.asarray(node), spec.constraints[i])

    return walk(est, "")


def choose_k(fitter: Callable, ks, *args, names=None, **kwargs):
    """Fit a mixture for every number of components in ``ks`` and compare them.

    ``fitter(*args, k, **kwargs)`` is one of the mixture functions (``k`` is
    passed by keyword). Returns the :func:`likelihax.ic_table` of the fits
    (AIC, AICc, BIC, Akaike weights; sorted by AIC) and the fits by ``k``.
    BIC is the usual choice for the number of components (Fraley & Raftery,
    2002); the likelihood-ratio test between different K is not chi-squared.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.mixtures import choose_k, univariate_mixture
    >>> rng = np.random.default_rng(4)
    >>> y = np.concatenate([rng.normal(0, 1, 200), rng.normal(5, 1, 200)])
    >>> table, fits = choose_k(univariate_mixture, [1, 2], y, starts=2)
    >>> min(table.rows, key=lambda r: r.bic).name
    'K=2'
    """
    from ...inference import ic_table

    ks = [int(k) for k in ks]
    if len(ks) < 2:
        raise ValueError("choose_k needs at least two values of k to compare.")
    fits = {k: fitter(*args, k=k, **kwargs) for k in ks}
    table = ic_table(*fits.values(), names=names or [f"K={k}" for k in ks])
    return table, fits
