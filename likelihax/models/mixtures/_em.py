r"""Generic EM for models with a discrete latent variable, with SEs from the engine.

The user writes the *complete-data* log-density of every observation at every
value of the latent variable,

.. math::

    c_{ik}(\theta) = \log p(x_i, z_i = k \mid \theta), \qquad
    \ell(\theta) = \sum_i w_i \log \sum_k e^{c_{ik}(\theta)},

``complete(params, data) -> (n, K)``. :func:`em` runs, in one
``lax.while_loop`` under ``jit``:

* **E-step**: responsibilities :math:`r_{ik} = \exp(c_{ik} - \mathrm{lse}_k c_{ik})`
  (log-sum-exp), multiplied by the observation weights :math:`w_i`; the
  observed-data log-likelihood :math:`\ell` comes out of the same pass.
* **M-step**: ``mstep(resp, data, params) -> params`` when the user gives a
  closed form (``resp`` rows sum to :math:`w_i`); otherwise a few Newton
  steps (:func:`likelihax.optimize.newton_step`: the optimizer's direction and
  backtracking line search, autodiff, on the unconstrained scale of the
  parameters' constraints, each step taken only if it increases :math:`Q`) on
  :math:`Q(\theta) = \sum_{ik} r_{ik} c_{ik}(\theta)`, which is a generalized
  EM and keeps :math:`\ell` monotone.
* The loop, its monotonicity record, stopping rule and SQUAREM
  (``accelerate="squarem"``, on the unconstrained scale) are those of the
  library's EM driver (:mod:`likelihax.models._em_driver`): a decrease of
  :math:`\ell` beyond rounding is reported in ``fit.em`` (``monotone=False``,
  with the iteration and size) and by a warning, never hidden; EM stops when
  the mean log-likelihood per observation rises by at most ``tol``.

**Standard errors come from the engine.** After EM, the marginal
log-likelihood :math:`\ell_i = \mathrm{lse}_k c_{ik}` is handed to
:func:`likelihax.fit` (Newton) starting at the EM estimate: Newton polishes
the estimate to rounding (a few steps from a converged EM; more when EM
stopped on a flat ridge, as EM does when components overlap), and the result
is a :class:`~likelihax.FitResult` (observed information by autodiff,
summary, Wald and LR tests, profiles), annotated with the EM details;
``fit.em`` holds the :class:`EMInfo` record, whose ``status`` is a
:class:`~likelihax.Status`.
``method="newton"`` skips EM and runs the engine directly on the marginal
likelihood (same optimum). Each Newton step evaluates the exact Hessian, which
costs about as much as one gradient pass over the data per parameter: for
large ``n`` when only the estimate is needed, ``se=False`` stops after EM and
returns an :class:`EMResult`.

References
----------
Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from
incomplete data via the EM algorithm. *JRSS B* 39, 1-38.
Louis, T. A. (1982). Finding the observed information matrix when using the EM
algorithm. *JRSS B* 44, 226-233.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from ...core import Status, x64_scope
from ...data import prepare_data
from ...engine import check_fit_options
from ...optimize import newton_step
from ...parameters import Param, ParamSpec, build_spec
from ...parameters import constraints as C
from .._em_driver import (
    EMInfo,
    EMResult,
    em_finish,
    em_loop,
    em_record,
    prepare_weights,
    warn_em,
)

__all__ = ["EMInfo", "EMResult", "EMStatus", "em", "marginal_loglik"]

# EM outcomes are members of likelihax.Status (not_monotone, degenerate);
# EMStatus is another name for it, for code that uses it.
EMStatus = Status


# ----- the compiled EM loop -------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _EMProgram:
    complete: Callable
    spec: ParamSpec
    mstep: Callable | None
    accelerate: str | None
    max_steps: int
    tol: float
    newton_steps: int


def _estep(st: _EMProgram, u, fixed, data, w):
    p = st.spec.to_natural(u, fixed)
    c = st.complete(p, data)
    # log-sum-exp with one exp per entry (the E-step's main cost for large n)
    mx = jax.lax.stop_gradient(jnp.max(c, axis=1, keepdims=True))
    mx = jnp.where(jnp.isfinite(mx), mx, 0.0)
    e = jnp.exp(c - mx)
    tot = jnp.sum(e, axis=1, keepdims=True)
    resp = e * (w[:, None] / tot)
    return jnp.sum(w * (jnp.log(tot[:, 0]) + mx[:, 0])), resp


def _mstep(st: _EMProgram, u, resp, fixed, data):
    """New unconstrained point and the natural-scale M-step output (flat).

    The flat natural values are kept so that a step into a degenerate point
    (a variance of exactly 0, a weight of 0, where the unconstrained value is
    infinite) can be diagnosed by the models.
    """
    if st.mstep is not None:
        p_new = st.mstep(resp, data, st.spec.to_natural(u, fixed))
        leaves = jax.tree_util.tree_leaves(p_new)
        if len(leaves) != len(st.spec.shapes):
            raise ValueError(
                f"mstep returned {len(leaves)} parameter arrays; the parameters "
                f"have {len(st.spec.shapes)} ({', '.join(st.spec.names)})."
            )
        leaves = [
            jnp.asarray(x, u.dtype).reshape(s) for x, s in zip(leaves, st.spec.shapes)
        ]
        flat = jnp.concatenate([jnp.ravel(x) for x in leaves])
        return st.spec.to_unconstrained(leaves), flat
    u1 = _newton_mstep(st, u, resp, fixed, data)
    return u1, st.spec.natural_flat(u1, fixed)


def _newton_mstep(st: _EMProgram, u, resp, fixed, data):
    """A few Newton steps that increase Q (a generalized M-step)."""

    def negq(v):
        c = st.complete(st.spec.to_natural(v, fixed), data)
        return -jnp.sum(jnp.where(resp > 0, resp * c, 0.0))

    return jax.lax.fori_loop(
        0, st.newton_steps, lambda _, v: newton_step(negq, v)[0], u
    )


def _em_core(st: _EMProgram, u0, fixed, data, w):
    out = em_loop(
        lambda u: _estep(st, u, fixed, data, w),
        lambda u, resp: _mstep(st, u, resp, fixed, data),
        u0, total_weight=jnp.sum(w), max_steps=st.max_steps, tol=st.tol,
        accelerate=st.accelerate, attempt0=st.spec.natural_flat(u0, fixed),
    )  # fmt: skip
    out["params_flat"] = st.spec.natural_flat(out["theta"], fixed)
    return out


_em_many = jax.jit(
    jax.vmap(_em_core, in_axes=(None, 0, None, None, None)), static_argnums=0
)


# ----- the engine side ------------------------------------------------------------------
@functools.lru_cache(maxsize=128)
def marginal_loglik(complete: Callable) -> Callable:
    """The per-observation marginal log-likelihood :math:`\\mathrm{lse}_k c_{ik}`.

    One function object per ``complete`` (cached), so the engine compiles it once.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.models.mixtures import marginal_loglik
    >>> f = marginal_loglik(lambda p, d: jnp.log(jnp.array([[0.25, 0.75]])))
    >>> abs(float(f({}, None)[0])) < 1e-6
    True
    """

    def marginal(params, data):
        return jax.scipy.special.logsumexp(complete(params, data), axis=1)

    marginal.__name__ = getattr(complete, "__name__", "mixture")
    return marginal


def _rebuild_params(spec: ParamSpec, leaves) -> Any:
    """A params pytree of :class:`Param` with ``leaves`` as starting values."""
    out = [
        Param(np.asarray(x), fixed=True)
        if spec.is_fixed(i)
        else Param(np.asarray(x), spec.constraints[i])
        for i, x in enumerate(leaves)
    ]
    return jax.tree_util.tree_unflatten(spec.treedef, out)


def _starts_u(spec, starts, constraints, dtype):
    us, fixed = [], None
    for i, st in enumerate(starts):
        try:
            s_spec, leaves = build_spec(st, constraints)
        except ValueError as e:
            raise ValueError(f"starts[{i}]: {e}") from e
        if s_spec.treedef != spec.treedef or s_spec.shapes != spec.shapes:
            raise ValueError(f"starts[{i}] does not have the structure of params.")
        jl = [jnp.asarray(x, dtype) for x in leaves]
        fixed = jl if fixed is None else fixed
        us.append(spec.to_unconstrained(jl))
    return jnp.stack(us), fixed


def _check_complete(complete, spec, leaves, jdata, dtype):
    p_struct = jax.tree_util.tree_unflatten(
        spec.treedef, [jax.ShapeDtypeStruct(s, dtype) for s in spec.shapes]
    )
    out = jax.eval_shape(complete, p_struct, jdata)
    if not isinstance(out, jax.ShapeDtypeStruct) or len(out.shape) != 2:
        shape = getattr(out, "shape", type(out).__name__)
        raise ValueError(
            "complete(params, data) must return an (n, K) array of "
            "log p(x_i, z_i = k | params), one row per observation and one column "
            f"per latent value; it returned {shape}."
        )
    if out.shape[1] < 1 or out.shape[0] < 1:
        raise ValueError(f"complete(params, data) returned an empty array {out.shape}.")
    return out.shape


def run_em(
    complete, spec, starts_u, fixed, jdata, w, *, mstep, accelerate, max_steps, tol,
    newton_steps,
):  # fmt: skip
    """Run EM from every row of ``starts_u`` at once; host arrays out."""
    st = _EMProgram(
        complete=complete, spec=spec, mstep=mstep, accelerate=accelerate,
        max_steps=int(max_steps), tol=float(tol), newton_steps=int(newton_steps),
    )  # fmt: skip
    out = _em_many(st, starts_u, fixed, jdata, w)
    return jax.tree_util.tree_map(np.asarray, out)


def pick_best(out: dict, rel: float = 1e-6):
    """Index of the best finite start and the multi-start summary."""
    ll = np.where(out["finite"], out["ll"], -np.inf)
    best = int(np.argmax(ll))
    ok = np.isfinite(ll)
    top = ll[best]
    thr = rel * max(1.0, abs(top)) if np.isfinite(top) else np.inf
    summary = {
        "starts": int(ll.size),
        "finite": int(ok.sum()),
        "at_best": int(np.sum(top - ll[ok] <= thr)),
        "best_loglik": float(top),
        "logliks": out["ll"].copy(),
        "loglik_spread": float(ll[ok].max() - ll[ok].min()) if ok.any() else np.nan,
    }
    return best, summary


def em_info(out: dict, i: int, accelerate, starts, status=None, message=None):
    """The :class:`EMInfo` of start ``i`` of :func:`run_em`'s output."""
    one = {k: v[i] for k, v in out.items()}
    return em_record(one, accelerate, starts, status, message)


def check_method(method, se):
    """``method`` is "em" or "newton"; ``se=False`` only with EM."""
    if method not in ("em", "newton"):
        raise ValueError(f"method must be 'em' or 'newton'; got {method!r}.")
    if method == "newton" and not se:
        raise ValueError(
            "se=False skips the engine, which is what method='newton' runs; use "
            "method='em' with se=False, or method='newton' with se=True."
        )


def em(
    complete: Callable,
    params: Any,
    data: Any,
    *,
    mstep: Callable | None = None,
    constraints: Mapping[str, C.Constraint] | None = None,
    weights: Any = None,
    method: Literal["em", "newton"] = "em",
    accelerate: Literal["squarem"] | None = None,
    max_steps: int = 1000,
    tol: float = 1e-10,
    newton_steps: int = 3,
    starts: list | None = None,
    canonical: Callable | None = None,
    cov: Literal["oim", "opg", "sandwich", "hc1"] | None = None,
    name: str | None = None,
    se: bool = True,
    warn: bool = True,
):
    r"""Maximum likelihood for a discrete latent-variable model by EM.

    Parameters
    ----------
    complete : callable
        ``complete(params, data)`` returning an ``(n, K)`` array with
        :math:`\log p(x_i, z_i = k \mid \theta)`.
    params : pytree
        Starting values (natural scale); leaves may be :class:`~likelihax.Param`.
    data : pytree
        Passed to ``complete`` (validated as in :func:`likelihax.fit`).
    mstep : callable, optional
        Closed-form M-step ``mstep(resp, data, params) -> params`` maximizing
        :math:`\sum_{ik} r_{ik} c_{ik}`; ``resp`` is ``(n, K)`` with rows summing
        to the observation weights. Default: ``newton_steps`` Newton steps.
    constraints : dict, optional
        As in :func:`likelihax.fit` (e.g. ``simplex`` for mixture weights).
    weights : array (n,), optional
        Frequency weights.
    method : {"em", "newton"}
        ``"newton"``: no EM, the engine's Newton on the marginal likelihood.
    accelerate : {"squarem"}, optional
        SQUAREM extrapolation (see module notes).
    max_steps : int
        EM iterations at most.
    tol : float
        Stop when the mean log-likelihood per observation rises by at most ``tol``.
    newton_steps : int
        Newton steps per M-step when ``mstep`` is not given.
    starts : list of pytrees, optional
        Several starting points, run at once (``vmap``); the best is kept and
        the spread reported in ``fit.em.starts``.
    canonical : callable, optional
        ``canonical(params) -> params`` applied to the EM estimate (e.g. sort
        components to fix the labelling).
    cov : str, optional
        Covariance kind for the engine (default ``"oim"``).
    name : str, optional
        Model name in the summary.
    se : bool
        False: stop after EM and return an :class:`EMResult` (estimate,
        log-likelihood, EM record) without the engine's Newton polish and
        standard errors (whose Hessian costs about as much as ``p`` gradient
        evaluations over the data).
    warn : bool
        Warn when EM was not monotone (and engine warnings).

    Returns
    -------
    FitResult or EMResult
        The engine's result on the marginal likelihood, annotated with the EM
        details; ``fit.em`` is an :class:`EMInfo` (None for ``method="newton"``).
        An :class:`EMResult` when ``se=False``.

    Raises
    ------
    TypeError
        An option of the wrong kind (as :func:`likelihax.fit`'s
        ``check_fit_options``), ``complete`` or ``mstep`` not a function.
    ValueError
        An option out of range; ``complete`` not returning ``(n, K)``; every
        start ending with a non-finite log-likelihood.

    Examples
    --------
    Two-component Poisson mixture with a closed-form M-step:

    >>> import numpy as np, jax.numpy as jnp, jax.scipy.stats as st
    >>> import likelihax as lx
    >>> from likelihax.models.mixtures import em
    >>> y = np.array([0, 1, 0, 2, 1, 0, 9, 11, 8, 10, 12, 1])
    >>> def complete(p, d):
    ...     return jnp.log(p["w"]) + st.poisson.logpmf(d["y"][:, None], p["rate"])
    >>> def mstep(r, d, p):
    ...     nk = r.sum(0)
    ...     return {"w": nk / nk.sum(), "rate": r.T @ d["y"] / nk}
    >>> fit = em(complete, {"w": np.array([0.5, 0.5]), "rate": np.array([1.0, 5.0])},
    ...          {"y": y}, mstep=mstep, constraints={"w": lx.constraints.simplex,
    ...          "rate": lx.constraints.positive})
    >>> fit.em.monotone, np.round(fit.params["rate"], 3).tolist()
    (True, [0.712, 9.973])
    """
    check_method(method, se)
    check_fit_options(cov=cov, max_steps=max_steps, tol=tol, starts=starts)
    if accelerate not in (None, "squarem"):
        raise ValueError(f"accelerate must be None or 'squarem'; got {accelerate!r}.")
    if not callable(complete):
        raise TypeError("complete must be a function complete(params, data).")
    if mstep is not None and not callable(mstep):
        raise TypeError("mstep must be a function mstep(resp, data, params).")
    if int(max_steps) < 1:
        raise ValueError(f"max_steps must be >= 1; got {max_steps}.")
    if mstep is None and (isinstance(newton_steps, bool) or int(newton_steps) < 1):
        raise ValueError(
            f"newton_steps must be an integer >= 1 without mstep; got {newton_steps!r}."
        )
    fn = marginal_loglik(complete)
    label = name or getattr(complete, "__name__", "mixture")
    with x64_scope():
        spec, leaves = build_spec(params, constraints)
        jdata = prepare_data(data, np.float64)
        n, _ = _check_complete(complete, spec, leaves, jdata, np.float64)
        if method == "newton":
            return em_finish(
                fn,
                params if constraints is None else _rebuild_params(spec, leaves),
                data,
                weights,
                None,
                cov=cov,
                warn=warn,
                name=label,
            )
        w = prepare_weights(weights, n)
        w = jnp.ones((n,), jnp.float64) if w is None else jnp.asarray(w)
        starts_u, fixed = _starts_u(
            spec, [params] if starts is None else list(starts), constraints,
            np.float64,
        )  # fmt: skip
        out = run_em(
            complete, spec, starts_u, fixed, jdata, w, mstep=mstep,
            accelerate=accelerate, max_steps=max_steps, tol=tol,
            newton_steps=newton_steps,
        )  # fmt: skip
        best, summary = pick_best(out)
        info = em_info(out, best, accelerate, summary)
        if info.status == Status.nonfinite:
            raise ValueError(
                f"{info.message} Every start ended with a non-finite "
                "log-likelihood; check complete() and the starting values."
            )
        est = spec.unflatten_natural(out["params_flat"][best])
        if canonical is not None:
            est = canonical(est)
        est_leaves = jax.tree_util.tree_leaves(est)
    if warn:
        warn_em(info)
    return em_finish(
        fn, _rebuild_params(spec, est_leaves), data, weights, info, cov=cov,
        warn=warn, name=label, se=se,
    )  # fmt: skip
