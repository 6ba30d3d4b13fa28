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
  closed form (``resp`` rows sum to :math:`w_i`); otherwise a few damped
  Newton steps (autodiff, on the unconstrained scale of the parameters'
  constraints, each step accepted only if it increases) on
  :math:`Q(\theta) = \sum_{ik} r_{ik} c_{ik}(\theta)`, which is a generalized
  EM and keeps :math:`\ell` monotone.
* **Monotonicity**: :math:`\ell` is recorded every iteration; a decrease of more
  than :math:`10^{-10}\max(1,|\ell|)` (rounding of a sum over the data) is
  reported in ``fit.em`` (``monotone=False``, with the iteration and size) and
  by a warning, never hidden.
* **Stopping**: :math:`(\ell_t - \ell_{t-1}) / \sum_i w_i \le` ``tol`` (the
  change of the mean log-likelihood per observation, as scikit-learn's
  ``GaussianMixture``), or ``max_steps``.
* **SQUAREM** (``accelerate="squarem"``, scheme S3 of Varadhan & Roland, 2008):
  two EM maps :math:`\theta_1 = F(\theta_0)`, :math:`\theta_2 = F(\theta_1)`,
  :math:`r = \theta_1-\theta_0`, :math:`v = \theta_2 - 2\theta_1 + \theta_0`,
  :math:`\alpha = -\|r\|/\|v\|` (clipped to :math:`[-100, -1]`) and the
  extrapolation :math:`\theta_0 - 2\alpha r + \alpha^2 v` on the unconstrained
  scale, kept only when its :math:`\ell` is at least that of :math:`\theta_2`
  (so the accelerated sequence stays monotone).

**Standard errors come from the engine.** After EM, the marginal
log-likelihood :math:`\ell_i = \mathrm{lse}_k c_{ik}` is handed to
:func:`likelihax.fit` (Newton) starting at the EM estimate: Newton polishes
the estimate to rounding (a few steps from a converged EM; more when EM
stopped on a flat ridge, as EM does when components overlap), and the result
is an ordinary :class:`~likelihax.FitResult` (observed information by
autodiff, summary, Wald and LR tests, profiles), annotated with the EM
details; ``fit.em`` holds the :class:`EMInfo` record (a plain attribute: a
result derived from it, e.g. by ``annotate``, does not carry it).
``method="newton"`` skips EM and runs the engine directly on the marginal
likelihood (same optimum). Each Newton step evaluates the exact Hessian, which
costs about as much as one gradient pass over the data per parameter: for
large ``n`` when only the estimate is needed, ``se=False`` stops after EM and
returns an :class:`EMResult`.

References
----------
Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from
incomplete data via the EM algorithm. *JRSS B* 39, 1-38.
Varadhan, R. & Roland, C. (2008). Simple and globally convergent methods for
accelerating the convergence of any EM algorithm. *Scand. J. Stat.* 35, 335-353.
Louis, T. A. (1982). Finding the observed information matrix when using the EM
algorithm. *JRSS B* 44, 226-233.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ...engine._fit import fit as engine_fit
from ...core._precision import x64_scope
from ...core._warnings import ConvergenceWarning
from ...data._dataset import prepare_data
from ...parameters import constraints as C
from ...parameters._param import Param, ParamSpec, build_spec

__all__ = ["EMInfo", "EMResult", "EMStatus", "em", "marginal_loglik"]

_NOISE = 1e-10  # relative size of a log-likelihood change treated as rounding


class EMStatus(enum.IntEnum):
    """Outcome of the EM iterations (the engine's polish has its own status)."""

    success = 0
    max_steps = 1
    not_monotone = 2
    nonfinite = 3
    degenerate = 4

    @property
    def message(self) -> str:
        """Readable explanation with remedies."""
        return _MESSAGES[self]


_MESSAGES = {
    EMStatus.success: "EM converged: the change of the mean log-likelihood per "
    "observation fell below `tol`, and the log-likelihood never decreased.",
    EMStatus.max_steps: "EM stopped at max_steps before its stopping rule was met "
    "(the Newton polish that follows may still converge; see fit.status). Try "
    "(a) accelerate='squarem', (b) a larger max_steps, or (c) other starts.",
    EMStatus.not_monotone: "The observed-data log-likelihood decreased during EM, "
    "which an exact E-step and an M-step that increases Q cannot do: (a) the "
    "closed-form `mstep` does not maximize the expected complete-data "
    "log-likelihood (check it, with the weights: resp rows sum to w_i), or (b) "
    "`complete` is not log p(x_i, z_i = k).",
    EMStatus.nonfinite: "The log-likelihood or the parameters became NaN or "
    "infinite during EM.",
    EMStatus.degenerate: "EM reached a degenerate point of the parameter space.",
}


class EMInfo(NamedTuple):
    """What EM did (``fit.em`` of an EM fit).

    Attributes
    ----------
    status : EMStatus
        Outcome; ``message`` explains it (and names components for mixtures).
    message : str
    iterations : int
        EM iterations (a SQUAREM iteration counts once, and uses 3 E-steps).
    monotone : bool
        False when the log-likelihood decreased beyond rounding.
    max_decrease : float
        Largest decrease of the log-likelihood between iterations (0 if none).
    first_decrease : int
        Iteration of the first decrease beyond rounding (-1 if none).
    loglik : float
        Observed-data log-likelihood at the EM estimate (before the Newton polish).
    trace : ndarray
        Log-likelihood at each iteration (``trace[0]``: at the start).
    accelerate : str or None
    starts : dict or None
        Multi-start summary: number of starts, final log-likelihood of each,
        how many reached the best (within ``1e-6`` relative), spread.
    """

    status: EMStatus
    message: str
    iterations: int
    monotone: bool
    max_decrease: float
    first_decrease: int
    loglik: float
    trace: Any
    accelerate: str | None
    starts: dict | None = None


class EMResult(NamedTuple):
    """EM estimate without standard errors (``se=False``).

    Attributes
    ----------
    params : pytree
        EM estimate (natural scale, canonical order for the ready-made models).
    loglik : float
        Observed-data log-likelihood at ``params``.
    em : EMInfo
        What EM did.
    name : str
    """

    params: Any
    loglik: float
    em: EMInfo
    name: str = "mixture"

    @property
    def converged(self) -> bool:
        """True when EM met its stopping rule monotonically."""
        return self.em.status == EMStatus.success


# ----- the compiled EM loop -------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _EMStatic:
    complete: Callable
    spec: ParamSpec
    mstep: Callable | None
    accelerate: str | None
    max_steps: int
    tol: float
    newton_steps: int


class _EMState(NamedTuple):
    u: jax.Array
    ll: jax.Array
    resp: jax.Array
    n_iter: jax.Array
    done: jax.Array
    max_dec: jax.Array
    first_dec: jax.Array
    trace: jax.Array
    attempt: jax.Array


def _estep(st: _EMStatic, u, fixed, data, w):
    p = st.spec.to_natural(u, fixed)
    c = st.complete(p, data)
    # log-sum-exp with one exp per entry (the E-step's main cost for large n)
    mx = jax.lax.stop_gradient(jnp.max(c, axis=1, keepdims=True))
    mx = jnp.where(jnp.isfinite(mx), mx, 0.0)
    e = jnp.exp(c - mx)
    tot = jnp.sum(e, axis=1, keepdims=True)
    resp = e * (w[:, None] / tot)
    ll = jnp.sum(w * (jnp.log(tot[:, 0]) + mx[:, 0]))
    return jnp.where(jnp.isnan(ll), -jnp.inf, ll), resp


def _mstep(st: _EMStatic, u, resp, fixed, data):
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


def _descent(H, g):
    """Descent direction for minimizing with Hessian ``H`` and gradient ``g``.

    Newton's step from the eigen-decomposition of the diagonally scaled
    Hessian, with eigenvalues replaced by their absolute values (floored at
    ``1e-8`` of the largest), so it descends even where ``H`` is indefinite
    (Nocedal & Wright, 2006, sec. 3.4). One small matrix, never differentiated.
    """
    diag = jnp.diag(H)
    scale = 1.0 / jnp.sqrt(jnp.where(diag > 0, diag, 1.0))
    lam, Q = jnp.linalg.eigh(H * scale[:, None] * scale[None, :])
    floor = jnp.maximum(1e-8 * jnp.max(jnp.abs(lam)), jnp.finfo(H.dtype).tiny)
    return -scale * (Q @ ((Q.T @ (scale * g)) / jnp.maximum(jnp.abs(lam), floor)))


def prepare_weights(weights, n: int):
    """Validated frequency weights as a new float64 NumPy array, or None.

    The engine's checks (shape, finite, non-negative, not all zero), so EM and
    the engine's standard-error fit accept and refuse the same weights.
    """
    if weights is None:
        return None
    from ...engine._fit import prepare_weights

    with x64_scope():
        return np.array(prepare_weights(weights, n, True, np.float64))


def _newton_mstep(st: _EMStatic, u, resp, fixed, data):
    """A few Newton steps that increase Q (a generalized M-step)."""

    def negq(v):
        c = st.complete(st.spec.to_natural(v, fixed), data)
        return -jnp.sum(jnp.where(resp > 0, resp * c, 0.0))

    def one(_, v):
        f, g = jax.value_and_grad(negq)(v)
        H = jax.hessian(negq)(v)
        d = _descent(H, g)

        def cond(c):
            _, k, ok = c
            return (~ok) & (k < 30)

        def body(c):
            t, k, _ = c
            ft = negq(v + t * d)
            ok = jnp.isfinite(ft) & (ft <= f)
            return jnp.where(ok, t, 0.5 * t), k + 1, ok

        t, _, ok = jax.lax.while_loop(cond, body, (jnp.ones((), v.dtype), 0, False))
        good = ok & jnp.all(jnp.isfinite(d))
        return jnp.where(good, v + t * d, v)

    return jax.lax.fori_loop(0, st.newton_steps, one, u)


def _em_core(st: _EMStatic, u0, fixed, data, w):
    noise_of = lambda ll: _NOISE * jnp.maximum(1.0, jnp.abs(ll))
    wsum = jnp.sum(w)
    ll0, resp0 = _estep(st, u0, fixed, data, w)
    trace = jnp.full((st.max_steps + 1,), jnp.nan, u0.dtype).at[0].set(ll0)
    s0 = _EMState(
        u=u0, ll=ll0, resp=resp0, n_iter=jnp.zeros((), jnp.int32),
        done=~jnp.isfinite(ll0), max_dec=jnp.zeros((), u0.dtype),
        first_dec=jnp.full((), -1, jnp.int32), trace=trace,
        attempt=st.spec.natural_flat(u0, fixed),
    )  # fmt: skip

    def fmap(u, resp):
        u1, flat1 = _mstep(st, u, resp, fixed, data)
        ll1, r1 = _estep(st, u1, fixed, data, w)
        return u1, ll1, r1, flat1

    def body(s: _EMState):
        u1, ll1, r1, flat1 = fmap(s.u, s.resp)
        if st.accelerate == "squarem":
            u2, ll2, r2, flat2 = fmap(u1, r1)
            ok1 = jnp.isfinite(ll1) & jnp.all(jnp.isfinite(u1))
            flat1 = jnp.where(ok1, flat2, flat1)
            r = u1 - s.u
            v = u2 - 2.0 * u1 + s.u
            alpha = -jnp.sqrt(jnp.sum(r * r) / jnp.maximum(jnp.sum(v * v), 1e-300))
            alpha = jnp.clip(jnp.where(jnp.isfinite(alpha), alpha, -1.0), -100.0, -1.0)
            ux = s.u - 2.0 * alpha * r + alpha * alpha * v
            llx, rx = _estep(st, ux, fixed, data, w)
            take = jnp.isfinite(llx) & (llx >= ll2) & jnp.all(jnp.isfinite(ux))
            pick = lambda a, b: jnp.where(take, a, b)
            u1, ll1, r1 = pick(ux, u2), pick(llx, ll2), pick(rx, r2)
        k = s.n_iter + 1
        dec = s.ll - ll1
        bad = jnp.isfinite(ll1) & (dec > noise_of(s.ll))
        finite = jnp.isfinite(ll1) & jnp.all(jnp.isfinite(u1))
        conv = (ll1 - s.ll) / wsum <= st.tol
        return _EMState(
            u=jnp.where(finite, u1, s.u), ll=jnp.where(finite, ll1, s.ll),
            resp=jnp.where(finite, r1, s.resp), n_iter=k,
            done=~finite | (conv & ~bad),
            max_dec=jnp.maximum(s.max_dec, jnp.where(jnp.isfinite(dec), dec, 0.0)),
            first_dec=jnp.where(bad & (s.first_dec < 0), k, s.first_dec),
            trace=s.trace.at[k].set(ll1),
            attempt=jnp.where(finite, st.spec.natural_flat(u1, fixed), flat1),
        )  # fmt: skip

    s = jax.lax.while_loop(lambda s: (~s.done) & (s.n_iter < st.max_steps), body, s0)
    finite = jnp.isfinite(s.trace[s.n_iter])
    return {
        "u": s.u, "ll": s.ll, "n_iter": s.n_iter, "done": s.done, "finite": finite,
        "max_dec": s.max_dec, "first_dec": s.first_dec, "trace": s.trace,
        "params_flat": st.spec.natural_flat(s.u, fixed), "attempt": s.attempt,
    }  # fmt: skip


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
    st = _EMStatic(
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
    """The :class:`EMInfo` of start ``i``."""
    n_iter = int(out["n_iter"][i])
    first = int(out["first_dec"][i])
    if status is None:
        if not bool(out["finite"][i]):
            status = EMStatus.nonfinite
        elif first >= 0:
            status = EMStatus.not_monotone
        elif not bool(out["done"][i]):
            status = EMStatus.max_steps
        else:
            status = EMStatus.success
    if message is None:
        message = status.message
        if status == EMStatus.not_monotone:
            message += (
                f" First decrease at iteration {first}; largest decrease "
                f"{float(out['max_dec'][i]):.3g}."
            )
    return EMInfo(
        status=status, message=message, iterations=n_iter, monotone=first < 0,
        max_decrease=float(out["max_dec"][i]), first_decrease=first,
        loglik=float(out["ll"][i]), trace=out["trace"][i][: n_iter + 1],
        accelerate=accelerate, starts=starts,
    )  # fmt: skip


def finish(
    fn, params_tree, data, weights, info: EMInfo | None, *, cov, warn, name,
    header=(), notes=(), method_label="EM", se=True,
):  # fmt: skip
    """Engine fit of the marginal likelihood from the EM estimate, annotated.

    ``se=False``: no engine fit; the EM estimate as an :class:`EMResult`.
    """
    if not se:
        est = jax.tree_util.tree_map(
            lambda q: np.asarray(q.init),
            params_tree,
            is_leaf=lambda q: isinstance(q, Param),
        )
        return EMResult(est, info.loglik, info, name)
    fit = engine_fit(
        fn, params_tree, data, weights=weights, method="newton", cov=cov, warn=warn
    )
    rows = []
    if info is not None:
        acc = f" + {info.accelerate.upper()}" if info.accelerate else ""
        rows = [
            ("Estimation", f"{method_label}{acc}, then Newton on the marginal loglik"),
            ("EM iterations", str(info.iterations)),
            ("EM status", info.status.name),
            ("EM monotone", "yes" if info.monotone else "no"),
        ]
        if info.starts is not None and info.starts["starts"] > 1:
            s = info.starts
            spread = f"loglik spread {s['loglik_spread']:.4g}"
            rows.append(("Starts", f"{s['starts']} ({s['at_best']} at best, {spread})"))
        if info.status != EMStatus.success:
            notes = (*notes, info.message)
    else:
        rows = [("Estimation", "Newton on the marginal log-likelihood")]
    out = fit.annotate(name, [*rows, *header], notes)
    out.em = info
    return out


def check_method(method, se):
    """``method`` is "em" or "newton"; ``se=False`` only with EM."""
    if method not in ("em", "newton"):
        raise ValueError(f"method must be 'em' or 'newton'; got {method!r}.")
    if method == "newton" and not se:
        raise ValueError(
            "se=False skips the engine, which is what method='newton' runs; use "
            "method='em' with se=False, or method='newton' with se=True."
        )


def warn_em(info: EMInfo, stacklevel: int = 3):
    """Warn for every EM status but success and max_steps (polished by Newton)."""
    if info.status not in (EMStatus.success, EMStatus.max_steps):
        warnings.warn(info.message, ConvergenceWarning, stacklevel=stacklevel)


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
    ValueError
        ``complete`` not returning ``(n, K)``; the EM fit ending with a
        non-finite log-likelihood (with the iteration).

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
    if accelerate not in (None, "squarem"):
        raise ValueError(f"accelerate must be None or 'squarem'; got {accelerate!r}.")
    if not callable(complete):
        raise TypeError("complete must be a function complete(params, data).")
    if mstep is not None and not callable(mstep):
        raise TypeError("mstep must be a function mstep(resp, data, params).")
    if int(max_steps) < 1:
        raise ValueError(f"max_steps must be >= 1; got {max_steps}.")
    fn = marginal_loglik(complete)
    label = name or getattr(complete, "__name__", "mixture")
    with x64_scope():
        spec, leaves = build_spec(params, constraints)
        jdata = prepare_data(data, np.float64)
        n, _ = _check_complete(complete, spec, leaves, jdata, np.float64)
        if method == "newton":
            return finish(
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
        if info.status == EMStatus.nonfinite:
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
    return finish(
        fn, _rebuild_params(spec, est_leaves), data, weights, info, cov=cov,
        warn=warn, name=label, se=se,
    )  # fmt: skip
