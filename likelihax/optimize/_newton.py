"""Safeguarded Newton's method with the exact autodiff Hessian.

Descent: the Newton direction :math:`d = -H^{-1} g` is computed from a
factorization of the *scaled* Hessian :math:`S = D^{-1/2} H D^{-1/2}`
(:math:`D = \\operatorname{diag} H`). Eigenvalues of :math:`S` that are
positive beyond rounding (:math:`\\lambda_j > 64\\,\\epsilon \\max_k|\\lambda_k|`)
are used as they are; the others (negative curvature far from the maximum or
at a saddle, or zero within rounding where the information is singular) are
replaced by :math:`\\max(|\\lambda_j|, 64\\,\\epsilon\\max_k|\\lambda_k|)`, which
gives a descent direction (Nocedal & Wright, 2006, sec. 3.4). So where
:math:`H` is positive definite this is exactly Newton's step, however
ill-conditioned :math:`H` is (scaled condition numbers up to about
:math:`10^{13}` in float64): convergence is quadratic and the EDM below is
exact. Only non-positive curvature is modified. One factorization per step
(:mod:`likelihax.optimize._factor`) serves for the direction, the
positive-definiteness test and, at the end, the covariance: the symmetric
eigen-decomposition up to ``EIGEN_MAX`` parameters (microseconds there, and
it compiles faster than a Cholesky-with-fallback), beyond that a Cholesky
factorization, with the eigen-decomposition only where the Cholesky fails
(the matrix is not positive definite to rounding).

Stopping: once the stopping rule holds at an iterate, full Newton steps
(*polishing* steps) are taken and evaluated until the EDM is at most
``POLISHED * tol`` (1e-15 by default: within 4.5e-8 standard errors of the
maximum), or stops falling (by at least ``POLISH_GAIN``: the rounding level
of the log-likelihood's gradient), or ``MAX_POLISH`` of them were taken. One
step usually suffices: Newton's quadratic convergence makes the error of the
point after it of order EDM² (1e-16 and below on the GLM benchmarks). Where the information is so ill-conditioned
that its decomposition has lost digits (scaled condition numbers of 1e9 and
more, e.g. a polynomial in raw calendar years), convergence is only linear
with a small rate, and a second step brings the estimate to rounding. So
estimates match closed forms and certified values to rounding, and the
log-likelihood, gradient and information (hence standard errors) are those
of the reported estimate. (If a polishing step cannot be accepted, the
iterate before it is kept.)

Chord steps (large data): near the optimum, an iterate may be evaluated for
its value and gradient only, and its step taken with the Hessian of the
iterate before it (a *chord* or Shamanskii step; Kelley, 2003, sec. 5.4.3).
This happens when the previous iterate was evaluated fully and its EDM is
at most ``CHORD_EDM`` (it is then within :math:`\\sqrt{2 \\cdot 10^{-2}}
\\approx 0.14` standard errors of the optimum), and never at the point the
fit reports: when the stopping rule holds at a chord iterate, the final step
(its chord step) is evaluated fully, so the reported log-likelihood,
gradient, information and EDM are exact at the reported point, as above.
The chord step's error is of order (previous distance) x (current
distance) x (relative third derivative :math:`\\kappa/\\sqrt{n}`) instead of
Newton's (current distance) squared x that: at worst (EDM ``1e-2`` then
``tol = 1e-9``, :math:`n` = ``LARGE_ROWS``) about :math:`10^{-7}\\kappa`
standard errors, on the benchmark below about :math:`10^{-9}`.
On the NB2 benchmark (N = 1e5, 6 parameters) the evaluations
go from (full, full, full, full) to (full, full, gradient only, full); a
value and gradient cost about 60% of a value, gradient and Hessian there.
Only for a problem that allows it (:attr:`Problem.chord_steps`: at least
``LARGE_ROWS`` observations, not batched under ``vmap``, where a
conditional would evaluate both branches), and for polished fits (Newton
and Fisher scoring; with Fisher scoring the carried matrix is the expected
information).

Search: backtracking on the Armijo condition (:func:`armijo`), each rejected
trial step shortened by :func:`shorter_step`. A trial point is *evaluated
fully* (value, gradient and Hessian in one fused pass); when it is accepted,
which is the usual case, the next direction needs no further pass over the
data. The starting point is the first trial, so the program contains one
evaluation site. A trial whose value, gradient or Hessian is not finite is
rejected like any other, so the search survives overflow and points outside
the support. Near the optimum, when the predicted decrease is below the
rounding of :math:`f` or the EDM is at most ``NEAR_EDM`` (within
:math:`1.4\\cdot 10^{-3}` standard errors, where the quadratic model holds), a
full step is accepted if it lowers the EDM, and :math:`f` does not rise by
more than its rounding plus ten times the predicted decrease: the last steps
are not refused for noise in :math:`f`, whose rounding error grows with the
cancellation in the linear predictor of ill-conditioned designs (the EDM, a
gradient norm, resolves the progress to far smaller distances). A kink,
where the EDM does not fall, still ends in ``line_search_failed``.

Other Newton iterations of the library (the generalized M-step of EM, the
inner mode search of the Laplace approximation) use the same direction
(:func:`newton_direction`) and the same search (:func:`backtrack`, built on
:func:`armijo` and :func:`shorter_step`), through :func:`newton_step` or
directly. They differ from :class:`Newton` only in what a trial evaluates:
there the objective is cheap and only its value is needed to judge a trial,
so :func:`backtrack` runs its own ``while_loop`` of value evaluations, where
:class:`Newton` evaluates each trial fully, one per iteration of the fit's
loop, so that an accepted trial's gradient and Hessian are already at hand.

References
----------
Kelley, C. T. (2003). *Solving Nonlinear Equations with Newton's Method*. SIAM.
Nocedal, J. & Wright, S. J. (2006). *Numerical Optimization*, 2nd ed. Springer.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp

from ..core import Status
from ._factor import ScaledFactor, as_factor, factor_direction, scaled_factor
from ._loop import record, stopping_rule

__all__ = [
    "Newton",
    "armijo",
    "backtrack",
    "judge_trial",
    "newton_direction",
    "newton_step",
    "shorter_step",
]

# A chord step (module notes) only from an iterate this close to the optimum.
CHORD_EDM = 1e-2
# Polishing (module notes): at most this many steps after the stopping rule
# holds, until the EDM is at most POLISHED * tol; another one only while each
# lowers the EDM at least POLISH_GAIN times.
MAX_POLISH = 4
POLISHED = 1e-6
POLISH_GAIN = 16.0
# Full steps from an iterate this close to the optimum are judged by the EDM
# when f cannot resolve them (module notes).
NEAR_EDM = 1e-6


def newton_direction(H, g, eig=None):
    """Descent direction ``d``, EDM ``-g.d/2`` and the factorization used.

    For minimizing a function with gradient ``g`` and Hessian ``H`` (module
    notes). The scaled ``H`` is factorized by :func:`scaled_factor`: a
    Cholesky factor where it is positive definite and has more than
    ``EIGEN_MAX`` rows (the exact Newton step), else its eigen-decomposition.
    Eigenvalues of the scaled ``H`` above the rounding level
    ``ROUNDING_EIGEN * eps * max|lam|`` are used as they are; the others
    (negative, or zero within rounding) are replaced by
    ``max(|lam|, ROUNDING_EIGEN * eps * max|lam|)``. So when ``H`` is positive
    definite ``d`` is the exact Newton step ``-H^{-1} g`` and the EDM is
    exact, at any condition number up to about ``1 / (ROUNDING_EIGEN * eps)``
    (7e13 in float64); otherwise ``d`` is a descent direction that keeps the
    exact step along every direction of positive curvature and does not run
    off along the others.

    Parameters
    ----------
    H : array (k, k)
        Hessian of the function minimized.
    g : array (k,)
        Its gradient.
    eig : ScaledFactor or tuple, optional
        The :class:`ScaledFactor` of ``H`` (or ``(lam, Q, scale)`` from
        :func:`scaled_eigh`), when already computed.

    Returns
    -------
    d : array (k,)
    edm : scalar
        Expected decrease to the minimum of the quadratic model, ``-g.d/2``.
    eig : ScaledFactor
        The factorization used.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import newton_direction
    >>> d, edm, _ = newton_direction(jnp.array([[2.0, 0.0], [0.0, -1.0]]),
    ...                              jnp.array([2.0, 1.0]))
    >>> d.tolist(), float(edm)  # negative curvature: its size is used instead
    ([-1.0, -1.0], 1.5)
    """
    f = scaled_factor(H) if eig is None else as_factor(eig)
    d = factor_direction(f, g)
    return d, -0.5 * jnp.dot(g, d), f


# Sufficient decrease of the Armijo condition (Nocedal & Wright, 2006, sec. 3.1).
ARMIJO = 1e-4


def armijo(f0, slope, t, f_t):
    """Armijo's sufficient-decrease condition ``f_t <= f0 + 1e-4 * t * slope``.

    For minimizing: ``f0`` and ``slope = g.d`` (negative along a descent
    direction ``d``) at the start, ``f_t`` the value after the step ``t * d``.
    False where ``f_t`` is NaN.

    Examples
    --------
    >>> from likelihax.optimize import armijo
    >>> bool(armijo(1.0, -2.0, 0.5, 0.2)), bool(armijo(1.0, -2.0, 0.5, 1.0))
    (True, False)
    """
    return f_t <= f0 + ARMIJO * t * slope


def shorter_step(t, f0, slope, f_t, finite=None):
    """Next trial length after the trial ``t`` was rejected.

    The minimizer of the quadratic through ``f0``, ``slope`` and ``f_t``,
    clipped to ``[0.1 t, 0.5 t]`` (Nocedal & Wright, 2006, sec. 3.5); half of
    ``t`` where the trial (``finite``: by default ``f_t``) is not finite.

    Examples
    --------
    >>> from likelihax.optimize import shorter_step
    >>> float(shorter_step(1.0, 0.0, -1.0, 1.0))
    0.25
    >>> float(shorter_step(1.0, 0.0, -1.0, float("nan")))
    0.5
    """
    finite = jnp.isfinite(f_t) if finite is None else finite
    t_interp = -slope * t**2 / (2.0 * (f_t - f0 - slope * t))
    return jnp.where(
        finite & jnp.isfinite(t_interp), jnp.clip(t_interp, 0.1 * t, 0.5 * t), 0.5 * t
    )


def backtrack(fun, x, d, f0, slope, *, max_backtracks=40, accept_full=False):
    """Backtracking line search along ``d`` from ``x`` for minimizing ``fun``.

    Tries ``t = 1`` and shortens the step (:func:`shorter_step`) until
    :func:`armijo` holds at a finite value, at most ``max_backtracks`` times.
    One ``lax.while_loop`` of value evaluations: usable under ``jit``,
    ``vmap`` and inside other loops.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> scalar``, the function minimized.
    x, d : arrays (k,)
        Start and search direction (a descent direction: ``slope < 0``).
    f0, slope : scalars
        ``fun(x)`` and the directional derivative ``grad.d``.
    max_backtracks : int
        Step shortenings before giving up.
    accept_full : bool or bool array
        Accept the full step ``t = 1`` without a test (near a minimum, where
        ``fun`` cannot resolve the decrease).

    Returns
    -------
    t : scalar
        Accepted step length (the last one tried when none was accepted).
    f_t : scalar
        ``fun(x + t * d)``.
    ok : bool array
        Whether a step was accepted.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import backtrack
    >>> f = lambda x: jnp.sum(x**4)   # minimum at 0; a full step overshoots
    >>> x, d = jnp.array([1.0]), jnp.array([-2.5])
    >>> t, ft, ok = backtrack(f, x, d, f(x), -10.0)   # slope: f'(1) * -2.5
    >>> bool(ok), round(float(t), 4), bool(ft < f(x))
    (True, 0.3556, True)
    """
    one = jnp.ones((), jnp.result_type(x))
    accept_full = jnp.asarray(accept_full, bool)

    def cond(c):
        _, _, k, ok = c
        return (~ok) & (k < max_backtracks)

    def body(c):
        t, f_t, k, _ = c
        t = shorter_step(t, f0, slope, f_t)
        f_t = fun(x + t * d)
        return t, f_t, k + 1, jnp.isfinite(f_t) & armijo(f0, slope, t, f_t)

    f1 = fun(x + d)
    ok1 = accept_full | (jnp.isfinite(f1) & armijo(f0, slope, one, f1))
    t, f_t, _, ok = jax.lax.while_loop(cond, body, (one, f1, 0, ok1))
    return t, f_t, ok


def newton_step(fun, x, *, max_backtracks=40):
    """One safeguarded Newton step for minimizing ``fun`` from ``x``.

    The direction of :func:`newton_direction` (exact gradient and Hessian by
    autodiff) and the search of :func:`backtrack`; usable under ``jit``,
    ``vmap`` and inside other loops.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> scalar`` for a vector ``x`` (twice differentiable).
    x : array (k,)
    max_backtracks : int
        Step shortenings before giving up.

    Returns
    -------
    x_new : array (k,)
        ``x + t * d``, or ``x`` itself when no step lowered ``fun`` (or the
        direction was not finite).
    f_new : scalar
        ``fun(x_new)``.
    ok : bool array
        Whether a step was taken.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import newton_step
    >>> f = lambda x: (x[0] - 1.0) ** 2 + 10.0 * (x[1] + 2.0) ** 2
    >>> x, fx, ok = newton_step(f, jnp.zeros(2))   # exact for a quadratic
    >>> x.tolist(), bool(ok)
    ([1.0, -2.0], True)
    """
    f0, g = jax.value_and_grad(fun)(x)
    H = jax.hessian(fun)(x)
    d, _, _ = newton_direction(H, g)
    t, f_t, ok = backtrack(fun, x, d, f0, jnp.dot(g, d), max_backtracks=max_backtracks)
    ok = ok & jnp.all(jnp.isfinite(d))
    return jnp.where(ok, x + t * d, x), jnp.where(ok, f_t, f0), ok


def judge_trial(solver, s, u_try, f_try, g_try, edm_new, finite):
    """The line search's verdict on the trial ``u_try = s.u + s.t * s.d``,
    shared by :class:`Newton` and :class:`~likelihax.optimize.NewtonCG`.

    Accepted: the first evaluation (the start), Armijo's condition, or (when
    the predicted decrease is below the rounding of f) a smaller EDM after a
    full step: near the optimum f cannot resolve the progress (only full
    steps: tiny backtracked steps would stall). Returns ``(accept, conv,
    t_back, n_back, gave_up, fail_code)``: the stopping rule at the trial, the
    next shorter step, the count of rejections in a row, whether the search
    gave up, and the status it gives up with.
    """
    first = s.n_iter < 0
    slope = jnp.dot(s.g, s.d)
    noise = 16 * jnp.finfo(s.f.dtype).eps * (1.0 + jnp.abs(s.f))
    in_noise = (
        (s.t == 1.0)
        & ((-slope <= noise) | (s.edm <= NEAR_EDM))
        & (f_try <= s.f + noise - 10.0 * slope)
        & (edm_new < s.edm)
    )
    accept = finite & (first | armijo(s.f, slope, s.t, f_try) | in_noise)
    conv = stopping_rule(
        f_try, s.f, u_try, s.u, g_try, edm_new, solver.tol, solver.gtol,
        jnp.where(first, 0.0, solver.rtol),
    )  # fmt: skip
    t_back = shorter_step(s.t, s.f, slope, f_try, finite)
    n_back = jnp.where(accept, 0, s.n_back + 1)
    gave_up = (~accept) & (first | (n_back > solver.max_backtracks))
    fail_code = jnp.where(
        first,
        Status.nonfinite_start.value,
        jnp.where(finite, Status.line_search_failed.value, Status.nonfinite.value),
    )
    return accept, conv, t_back, n_back, gave_up, fail_code


def _finite(*xs):
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in xs]))


class NewtonState(NamedTuple):
    u: jax.Array
    f: jax.Array
    g: jax.Array
    H: jax.Array
    d: jax.Array
    eig: tuple
    edm: jax.Array
    t: jax.Array
    n_back: jax.Array
    final_step: jax.Array
    done: jax.Array
    code: jax.Array
    n_iter: jax.Array
    n_eval: jax.Array
    trace: jax.Array
    fresh: jax.Array  # H (and eig) evaluated at u, not carried from before (chord)
    n_hess: jax.Array  # evaluations with a Hessian
    n_polish: jax.Array  # polishing steps accepted (module notes)
    warm: Any = None  # the model's state at u (Problem's warm starts), or None


@dataclasses.dataclass(frozen=True)
class Newton:
    """Newton's method with line search (default solver).

    Parameters
    ----------
    tol : float
        Stop when EDM :math:`= \\tfrac12 g^\\top H^{-1} g \\le` ``tol``.
    gtol, rtol : float
        Gradient and relative-change rules of :mod:`likelihax.optimize._loop`.
    max_backtracks : int
        Step halvings before the line search gives up.
    polish : bool
        After the stopping rule holds, take one more full Newton step
        (default), so that the error of the estimate is O(EDM^2) and the
        reported gradient and information belong to the reported point.
        ``False`` stops at the first point meeting the rule: its error is below
        :math:`\\sqrt{2\\,\\mathrm{tol}}` standard errors. The bootstrap and profile refits
        this way, with a 1000x tighter ``tol`` in float64 (usually met by the
        same number of steps: one evaluation fewer per replicate).
    information : {"observed", "expected"}
        Curvature used for the step: the exact Hessian (Newton) or the
        model's expected information (Fisher scoring; IRLS for GLMs; see
        :mod:`likelihax.objective._problem`). Everything else (search, stopping,
        final step) is shared. For a canonical-link GLM both are the same matrix.
    """

    tol: float = 1e-9
    gtol: float = 0.0
    rtol: float = 0.0
    max_backtracks: int = 40
    name: str = "newton"
    information: str = "observed"
    polish: bool = True
    default_max_steps: ClassVar[int] = 100

    def _evaluate(self, problem, u):
        """``(f, g, H, state)``: the curvature used for steps, and the
        model's warm-start state at ``u`` (see :class:`likelihax.objective.Problem`)."""
        if self.information == "expected":
            return (*problem.value_grad_fisher(u), problem.warm)
        return problem.value_grad_hessian_warm(u)

    def _chords(self, problem) -> bool:
        """Whether this fit may take chord steps (module notes)."""
        return self.polish and bool(getattr(problem, "chord_steps", False))

    def _trial(self, problem, s, u_try):
        """``(f, g, H, eig, fresh, state)`` at ``u_try``: fully evaluated, or
        for a chord step value and gradient with the current ``H`` and ``eig``;
        the model started from the state of the current iterate."""
        problem = problem.with_warm(s.warm)

        def full(v):
            f, g, H, state = self._evaluate(problem, v)
            return f, g, H, scaled_factor(H), jnp.ones((), bool), state

        if not self._chords(problem):
            return full(u_try)

        def chord(v):
            f, g, state = problem.value_and_grad_warm(v)
            return f, g, s.H, s.eig, jnp.zeros((), bool), state

        # (``fresh`` is False until the start has been evaluated.)
        use = s.fresh & (s.edm <= CHORD_EDM) & ~s.final_step
        return jax.lax.cond(use, chord, full, u_try)

    def init(self, problem, u0, max_steps):
        # The start is evaluated by the first step (a trial at u0 with d = 0).
        k = u0.shape[0]
        dt = u0.dtype
        inf = jnp.full((), jnp.inf, dt)
        zero = jnp.zeros((), jnp.int32)
        return NewtonState(
            u=u0, f=inf, g=jnp.zeros((k,), dt), H=jnp.zeros((k, k), dt),
            d=jnp.zeros((k,), dt),
            eig=ScaledFactor(jnp.zeros((k,), dt), jnp.zeros((k, k), dt), jnp.zeros((k,), dt),
                             jnp.zeros((), bool)),
            edm=inf, t=jnp.ones((), dt), n_back=zero,
            final_step=jnp.zeros((), bool), done=jnp.zeros((), bool), code=zero,
            n_iter=jnp.full((), -1, jnp.int32), n_eval=zero,
            trace=jnp.full((max_steps + 1,), jnp.nan, dt),
            fresh=jnp.zeros((), bool), n_hess=zero, n_polish=zero,
            warm=problem.init_warm(u0),
        )  # fmt: skip

    def step(self, problem, s: NewtonState) -> NewtonState:
        u_try = s.u + s.t * s.d
        f_try, g_try, H_try, eig_try, fresh_try, warm_try = self._trial(problem, s, u_try)
        finite = _finite(f_try, g_try, H_try)
        d_new, edm_new, eig_new = newton_direction(H_try, g_try, eig_try)
        accept, conv, t_back, n_back, gave_up, fail_code = judge_trial(
            self, s, u_try, f_try, g_try, edm_new, finite
        )
        pick = lambda a, b: jnp.where(accept, a, b)  # noqa: E731
        n_iter = s.n_iter + accept.astype(jnp.int32)
        # Polished: an accepted step after the stopping rule held, whose EDM is
        # at most POLISHED * tol, or no longer falling, or the last one allowed.
        n_polish = s.n_polish + (accept & s.final_step).astype(jnp.int32)
        polished = (
            (edm_new <= POLISHED * self.tol)
            | (edm_new * POLISH_GAIN > s.edm)
            | (n_polish >= MAX_POLISH)
        )
        return NewtonState(
            u=pick(u_try, s.u), f=pick(f_try, s.f), g=pick(g_try, s.g),
            H=pick(H_try, s.H), d=pick(d_new, s.d), edm=pick(edm_new, s.edm),
            eig=jax.tree_util.tree_map(pick, eig_new, s.eig),
            t=pick(jnp.ones_like(s.t), t_back), n_back=n_back,
            # Converged: take one more full Newton step, evaluated like any
            # other, so the estimate, log-likelihood, gradient and information
            # all refer to the reported point and its error is O(EDM^2).
            final_step=s.final_step | (accept & conv),
            done=(accept & ((s.final_step & polished) if self.polish else conv))
            | gave_up,
            # Giving up on the final step keeps the converged iterate; if that
            # iterate was a chord step, its Hessian is not its own: reported.
            code=jnp.where(
                gave_up & ~(s.final_step & s.fresh), fail_code, Status.success.value
            ).astype(jnp.int32),
            n_iter=n_iter, n_eval=s.n_eval + 1,
            trace=jnp.where(accept, record(s.trace, n_iter, f_try), s.trace),
            fresh=pick(fresh_try, s.fresh),
            n_hess=s.n_hess + fresh_try.astype(jnp.int32), n_polish=n_polish,
            warm=jax.tree_util.tree_map(pick, warm_try, s.warm),
        )  # fmt: skip

    def final(self, problem, s: NewtonState):
        """Value, gradient, Hessian and its eigen-decomposition (already computed)."""
        return s.f, s.g, s.H, s.eig
