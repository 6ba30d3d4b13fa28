r"""The EM driver: one compiled loop for every EM of the library, and its report.

A model supplies an E-step and an M-step on its own parameter representation
``theta`` (any pytree of arrays: an unconstrained vector for
:func:`likelihax.models.mixtures.em`, the mean and covariance for
:func:`likelihax.models.missing.mvn_missing`):

* ``estep(theta) -> (ll, aux)``: the observed-data log-likelihood :math:`\ell`
  at ``theta`` and what the M-step needs from the E-step (responsibilities,
  or ``None``);
* ``mstep(theta, aux) -> (theta_new, attempt)``: the M-step, and what it
  tried to reach in a form the model can diagnose (kept even when
  ``theta_new`` is not finite, e.g. a variance of exactly 0), or ``None``.

:func:`em_loop` runs :math:`\theta \leftarrow M(\theta, E(\theta))` in one
``lax.while_loop`` (traced by the caller, under ``jit`` and ``vmap``):

* **Monotonicity**: :math:`\ell` is recorded every iteration; a decrease of more
  than :math:`10^{-10}\max(1,|\ell|)` (rounding of a sum over the data) is
  recorded (first iteration, largest size) and reported as
  ``Status.not_monotone``, never hidden.
* **Stopping**: :math:`(\ell_t - \ell_{t-1}) / \sum_i w_i \le` ``tol`` (the
  change of the mean log-likelihood per observation, as scikit-learn's
  ``GaussianMixture``) without a decrease, a non-finite :math:`\ell` or
  ``theta`` (the last finite iterate is kept), or ``max_steps``.
* **SQUAREM** (``accelerate="squarem"``, scheme S3 of Varadhan & Roland, 2008):
  two EM maps :math:`\theta_1 = F(\theta_0)`, :math:`\theta_2 = F(\theta_1)`,
  :math:`r = \theta_1-\theta_0`, :math:`v = \theta_2 - 2\theta_1 + \theta_0`,
  :math:`\alpha = -\|r\|/\|v\|` (clipped to :math:`[-100, -1]`) and the
  extrapolation :math:`\theta_0 - 2\alpha r + \alpha^2 v`, kept only when its
  :math:`\ell` is at least that of :math:`\theta_2` (so the accelerated
  sequence stays monotone). Meant for an unconstrained ``theta``.

:func:`em_record` turns the loop's output into an :class:`EMInfo` with a
:class:`~likelihax.Status`, and :func:`em_finish` hands the EM estimate to
:func:`likelihax.fit` (Newton polish, observed-information standard errors)
and annotates the result with what EM did.

References
----------
Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from
incomplete data via the EM algorithm. *JRSS B* 39, 1-38.
Varadhan, R. & Roland, C. (2008). Simple and globally convergent methods for
accelerating the convergence of any EM algorithm. *Scand. J. Stat.* 35, 335-353.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..core import ConvergenceWarning, Status, x64_scope
from ..engine import fit as engine_fit
from ..engine import prepare_weights as engine_prepare_weights
from ..parameters import Param
from ..results import FitResult, ModelInfo, register_result_class

__all__ = [
    "EMInfo",
    "EMResult",
    "em_finish",
    "em_loop",
    "em_record",
    "prepare_weights",
    "warn_em",
]

_NOISE = 1e-10  # relative size of a log-likelihood change treated as rounding

# What the outcomes EM shares with the engine's fits mean for the EM
# iterations (the engine's Newton polish that follows has its own status); the
# outcomes of EM alone (not_monotone, degenerate) are worded in Status itself.
_EM_MESSAGES = {
    Status.success: "EM converged: the change of the mean log-likelihood per "
    "observation fell below `tol`, and the log-likelihood never decreased.",
    Status.max_steps: "EM stopped at max_steps before its stopping rule was met "
    "(the Newton polish that follows may still converge; see fit.status). Try "
    "(a) accelerate='squarem', (b) a larger max_steps, or (c) other starts.",
    Status.nonfinite: "The log-likelihood or the parameters became NaN or "
    "infinite during EM.",
}


def em_message(status: Status) -> str:
    """What ``status`` means for the EM iterations, with remedies."""
    return _EM_MESSAGES.get(status, status.message)


class EMInfo(NamedTuple):
    """What EM did (``fit.em`` of an EM fit).

    Attributes
    ----------
    status : Status
        Outcome of the EM iterations: ``success``, ``max_steps``,
        ``not_monotone``, ``nonfinite`` or ``degenerate`` (the engine's polish
        that follows has its own ``fit.status``).
    message : str
        What the status means for EM, with remedies (and, for mixtures, the
        components involved).
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

    status: Status
    message: str
    iterations: int
    monotone: bool
    max_decrease: float
    first_decrease: int
    loglik: float
    trace: Any
    accelerate: str | None
    starts: dict | None = None


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class EMFit(FitResult):
    """The :class:`~likelihax.FitResult` of an EM fit; ``em`` is its :class:`EMInfo`
    (None for ``method="newton"``)."""

    em: Any = None


register_result_class(EMFit, meta=("em",))


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
        return self.em.status == Status.success


# ----- the compiled loop -------------------------------------------------------------
class _State(NamedTuple):
    theta: Any
    ll: jax.Array
    aux: Any
    n_iter: jax.Array
    done: jax.Array
    max_dec: jax.Array
    first_dec: jax.Array
    trace: jax.Array
    attempt: Any


def _tree_where(c, a, b):
    return jax.tree_util.tree_map(lambda x, y: jnp.where(c, x, y), a, b)


def _all_finite(tree):
    return jnp.all(
        jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree)])
    )


def _sum_sq(tree):
    return sum(jnp.sum(x * x) for x in jax.tree_util.tree_leaves(tree))


def em_loop(
    estep: Callable, mstep: Callable, theta0: Any, *, total_weight, max_steps: int,
    tol, accelerate: str | None = None, attempt0: Any = None,
) -> dict:  # fmt: skip
    """EM iterations from ``theta0`` in one ``lax.while_loop`` (module notes).

    Parameters
    ----------
    estep : callable
        ``estep(theta) -> (ll, aux)``: observed-data log-likelihood (NaN is
        read as ``-inf``) and what the M-step needs.
    mstep : callable
        ``mstep(theta, aux) -> (theta_new, attempt)``.
    theta0 : pytree of arrays
        Starting point.
    total_weight : scalar
        :math:`\\sum_i w_i`, which scales the stopping rule.
    max_steps : int
        Most iterations (a Python int: the trace has ``max_steps + 1`` entries).
    tol : float or scalar array
        Stop when the mean log-likelihood per observation rises by at most ``tol``.
    accelerate : {"squarem"}, optional
        SQUAREM extrapolation (module notes).
    attempt0 : pytree, optional
        ``attempt`` before the first M-step (same structure as ``mstep``'s).

    Returns
    -------
    dict
        ``theta`` and ``ll`` (the last finite iterate), ``n_iter``, ``done``
        (the stopping rule held, or a step was not finite), ``finite`` (the
        last step was finite), ``max_dec`` and ``first_dec`` (largest decrease,
        first iteration with a decrease; -1 if none), ``trace`` (``ll`` per
        iteration, NaN-padded) and ``attempt`` (of the last M-step).

    Examples
    --------
    EM for the mean of a normal with known variance where some values are
    missing (the E-step fills them with the current mean):

    >>> import jax.numpy as jnp
    >>> from likelihax.models._em_driver import em_loop
    >>> y, seen = jnp.array([1.0, 2.0, 0.0, 3.0]), jnp.array([1.0, 1.0, 0.0, 1.0])
    >>> def estep(mu):
    ...     return -0.5 * jnp.sum(seen * (y - mu) ** 2), None
    >>> def mstep(mu, aux):
    ...     return jnp.mean(jnp.where(seen > 0, y, mu)), None
    >>> out = em_loop(estep, mstep, jnp.zeros(()), total_weight=3.0, max_steps=200,
    ...               tol=1e-14)
    >>> round(float(out["theta"]), 3), bool(out["done"]), int(out["first_dec"])
    (2.0, True, -1)
    """

    def evaluate(theta):
        ll, aux = estep(theta)
        return jnp.where(jnp.isnan(ll), -jnp.inf, ll), aux

    def fmap(theta, aux):
        theta1, attempt = mstep(theta, aux)
        ll1, aux1 = evaluate(theta1)
        return theta1, ll1, aux1, attempt

    ll0, aux0 = evaluate(theta0)
    dt = ll0.dtype
    s0 = _State(
        theta=theta0, ll=ll0, aux=aux0, n_iter=jnp.zeros((), jnp.int32),
        done=~jnp.isfinite(ll0), max_dec=jnp.zeros((), dt),
        first_dec=jnp.full((), -1, jnp.int32),
        trace=jnp.full((max_steps + 1,), jnp.nan, dt).at[0].set(ll0),
        attempt=attempt0,
    )  # fmt: skip

    def body(s: _State):
        th1, ll1, aux1, att1 = fmap(s.theta, s.aux)
        if accelerate == "squarem":
            th2, ll2, aux2, att2 = fmap(th1, aux1)
            ok1 = jnp.isfinite(ll1) & _all_finite(th1)
            att1 = _tree_where(ok1, att2, att1)
            tm = jax.tree_util.tree_map
            r = tm(lambda a, b: a - b, th1, s.theta)
            v = tm(lambda a, b, c: a - 2.0 * b + c, th2, th1, s.theta)
            alpha = -jnp.sqrt(_sum_sq(r) / jnp.maximum(_sum_sq(v), 1e-300))
            alpha = jnp.clip(jnp.where(jnp.isfinite(alpha), alpha, -1.0), -100.0, -1.0)
            thx = tm(lambda a, b, c: a - 2.0 * alpha * b + alpha * alpha * c,
                     s.theta, r, v)  # fmt: skip
            llx, auxx = evaluate(thx)
            take = jnp.isfinite(llx) & (llx >= ll2) & _all_finite(thx)
            th1, ll1, aux1 = _tree_where(take, (thx, llx, auxx), (th2, ll2, aux2))
        k = s.n_iter + 1
        dec = s.ll - ll1
        bad = jnp.isfinite(ll1) & (dec > _NOISE * jnp.maximum(1.0, jnp.abs(s.ll)))
        finite = jnp.isfinite(ll1) & _all_finite(th1)
        conv = (ll1 - s.ll) / total_weight <= tol
        keep = _tree_where(finite, (th1, ll1, aux1), (s.theta, s.ll, s.aux))
        return _State(
            theta=keep[0], ll=keep[1], aux=keep[2], n_iter=k,
            done=~finite | (conv & ~bad),
            max_dec=jnp.maximum(s.max_dec, jnp.where(jnp.isfinite(dec), dec, 0.0)),
            first_dec=jnp.where(bad & (s.first_dec < 0), k, s.first_dec),
            trace=s.trace.at[k].set(ll1), attempt=att1,
        )  # fmt: skip

    s = jax.lax.while_loop(lambda s: (~s.done) & (s.n_iter < max_steps), body, s0)
    return {
        "theta": s.theta, "ll": s.ll, "n_iter": s.n_iter, "done": s.done,
        "finite": jnp.isfinite(s.trace[s.n_iter]), "max_dec": s.max_dec,
        "first_dec": s.first_dec, "trace": s.trace, "attempt": s.attempt,
    }  # fmt: skip


def prepare_weights(weights, n: int):
    """Validated frequency weights as a new float64 NumPy array, or None.

    The engine's checks (shape, finite, non-negative, not all zero), so EM and
    the engine's standard-error fit accept and refuse the same weights.
    """
    if weights is None:
        return None
    with x64_scope():
        return np.array(engine_prepare_weights(weights, n, True, np.float64))


# ----- the report --------------------------------------------------------------------
def em_record(
    out: dict, accelerate=None, starts=None, status=None, message=None
) -> EMInfo:
    """The :class:`EMInfo` of one run of :func:`em_loop` (host arrays, no batch axis).

    ``status`` and ``message`` override what the run itself shows (e.g.
    ``Status.degenerate`` found by a model's own diagnosis).
    """
    n_iter = int(out["n_iter"])
    first = int(out["first_dec"])
    if status is None:
        if not bool(out["finite"]):
            status = Status.nonfinite
        elif first >= 0:
            status = Status.not_monotone
        elif not bool(out["done"]):
            status = Status.max_steps
        else:
            status = Status.success
    if message is None:
        message = em_message(status)
        if status == Status.not_monotone:
            message += (
                f" First decrease at iteration {first}; largest decrease "
                f"{float(out['max_dec']):.3g}."
            )
    return EMInfo(
        status=status, message=message, iterations=n_iter, monotone=first < 0,
        max_decrease=float(out["max_dec"]), first_decrease=first,
        loglik=float(out["ll"]), trace=np.asarray(out["trace"])[: n_iter + 1],
        accelerate=accelerate, starts=starts,
    )  # fmt: skip


def warn_em(info: EMInfo, stacklevel: int = 3):
    """Warn for every EM status but success and max_steps (polished by Newton)."""
    if info.status not in (Status.success, Status.max_steps):
        warnings.warn(info.message, ConvergenceWarning, stacklevel=stacklevel)


def em_finish(
    fn, params_tree, data, weights, info: EMInfo | None, *, cov, warn, name,
    header=(), notes=(), target="the marginal log-likelihood", se=True,
    model_info: ModelInfo | None = None,
):  # fmt: skip
    """Engine fit of ``fn`` from the EM estimate, annotated with what EM did.

    ``model_info`` says what the model is (default: kind ``"em"``).

    ``params_tree`` holds the EM estimate as :class:`~likelihax.Param` starting
    values; ``info`` is None when EM was skipped. ``target`` names ``fn`` in
    the summary's "Estimation" row. ``se=False``: no engine fit; the EM
    estimate as an :class:`EMResult`.
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
    if info is None:
        rows = [("Estimation", f"Newton on {target}")]
    else:
        acc = f" + {info.accelerate.upper()}" if info.accelerate else ""
        rows = [
            ("Estimation", f"EM{acc}, then Newton on {target}"),
            ("EM iterations", str(info.iterations)),
            ("EM status", info.status.name),
            ("EM monotone", "yes" if info.monotone else "no"),
        ]
        if info.starts is not None and info.starts["starts"] > 1:
            s = info.starts
            spread = f"loglik spread {s['loglik_spread']:.4g}"
            rows.append(("Starts", f"{s['starts']} ({s['at_best']} at best, {spread})"))
        if info.status != Status.success:
            notes = (*notes, info.message)
    out = fit.annotate(name, [*rows, *header], notes)
    info_ = ModelInfo(kind="em") if model_info is None else model_info
    return EMFit.from_fit(out, em=info, model_info=info_)
