"""The curvature probe at a stopping point, and the restart loop around a solver.

After the solver stops, two points one standard error away (along the weakest
direction of the information and the Newton direction) show whether the point
is a finite maximum; where one is higher, the solver restarts from it. See
:func:`likelihax.fit`, Notes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # optax is imported when used
    pass

import jax
import jax.numpy as jnp

from ..core import Status
from ..objective import hvp_at
from ..optimize import (
    POLISHED,
    NewtonCG,
    ScaledFactor,
    factor_extremes,
    newton_direction,
    run,
    scaled_factor,
)
from ._matrix_free import Curvature, matrix_free_curvature, newton_by_cg

# A quadratic log-likelihood drops by exactly 1/2 one standard error from its
# maximum; a drop below this along a probed direction means the curvature at
# the estimate says nothing about the likelihood one SE away.
FLAT_DROP = 0.05
# A probe point this much higher than the estimate (log-likelihood units, far
# above a converged fit's remaining EDM) shows that the estimate is not a
# maximum: the optimizer restarts from it, at most MAX_RESTARTS times.
RISE = 1e-3
MAX_RESTARTS = 3


class Probe(NamedTuple):
    drop: jax.Array  # smallest drop of the log-likelihood one SE away (NaN: none)
    code: jax.Array  # Status: success, unbounded, at_boundary or not_maximum
    best: jax.Array  # the probe point with the highest log-likelihood
    rise: jax.Array  # how much higher it is than the estimate (beyond its EDM)
    # the extreme eigenvalues of the scaled information the probe used (NaN:
    # not computed), handed on so the analysis does not compute them again
    lo: jax.Array
    hi: jax.Array


def run_with_probe(problem, static, u0):
    """Run the solver from ``u0``, probe the curvature at its end point and, while
    a probe point is higher by more than ``RISE``, run it again from there.

    One ``while_loop`` around the solver's loop, so the program holds one copy
    of the solver (its first pass is the loop's first iteration). Returns the
    solver's state, ``final`` values, the probe and the number of restarts.
    """

    def attempt(u_start):
        s = run(static.solver, problem, u_start, static.max_steps, static.verbose)
        if static.matrix_free:  # no k x k matrix (likelihax.engine._matrix_free)
            (f, g), H = problem.value_and_grad(s.u), None
            eig = matrix_free_curvature(problem, s.u)
        else:
            f, g, H, eig = static.solver.final(problem, s)
        if eig is None:  # one decomposition for the probe and the analysis
            eig = scaled_factor(H)
        # The probe's points start the model from the estimate's state.
        probe = curvature_probe(problem.with_warm(getattr(s, "warm", None)), static,
                                s, f, g, H, eig, u_start)  # fmt: skip
        return s, f, g, H, eig, probe

    # The loop's carry before its first pass: the solver's initial state and
    # zeros of the shapes ``attempt`` returns (not traced a second time).
    k, dt = u0.shape[0], u0.dtype
    z, zk, zkk = jnp.zeros((), dt), jnp.zeros((k,), dt), jnp.zeros((k, k), dt)
    probe0 = Probe(z, jnp.zeros((), jnp.int32), u0, z, z, z)
    if static.matrix_free:
        zkk, factor0 = None, Curvature(zk, z, z, zk)
    else:
        factor0 = ScaledFactor(zk, zkk, zk, jnp.zeros((), bool))
    out = (static.solver.init(problem, u0, static.max_steps), z, zk, zkk, factor0, probe0)

    def again(c):
        k, _, (s, *_, probe) = c
        rises = (s.code == Status.success.value) & (probe.rise > RISE)
        return (k == 0) | ((k <= MAX_RESTARTS) & rises)

    def body(c):
        k, u_start, prev = c
        u_start = jnp.where(k == 0, u_start, prev[-1].best)
        return k + 1, u_start, attempt(u_start)

    k, _, out = jax.lax.while_loop(again, body, (jnp.zeros((), jnp.int32), u0, out))
    s, f, g, H, eig, probe = out
    # Still higher after the last restart: not a maximum.
    code = jnp.where(
        (s.code == Status.success.value) & (probe.rise > RISE),
        Status.not_maximum.value,
        probe.code,
    )
    return s, f, g, H, eig, probe._replace(code=code), k - 1


def curvature_probe(problem, static, s, f, g, H, eig, u_start=None) -> Probe:
    r"""The log-likelihood one standard error from the end point ``s.u``.

    Two directions, each scaled to one standard error (:math:`d^\top H d = 1`):
    the weakest eigen-direction of the scaled information
    :math:`S = D^{-1/2} H D^{-1/2} = Q \Lambda Q^\top`,
    :math:`d = D^{-1/2} q_1 / \sqrt{\lambda_1}`, the way the log-likelihood
    rises (its gradient's side); and either the other way along :math:`d`
    (a Newton fit polished to its target: quadratic convergence to a regular
    maximum) or the Newton direction :math:`-H^{-1} g` at the end point
    (otherwise: e.g. the linear convergence towards a maximum at infinity).
    Two points, evaluated in one call. The drop
    :math:`\ell(\hat u) - \ell(\hat u + d)` is 0.5 for a quadratic
    log-likelihood. Where the maximum is at infinity (complete or
    quasi-complete separation, an all-zero count response) the optimizer
    stops where the gradient has vanished to rounding, the information is
    tiny along the direction to infinity, and one standard error along it the
    log-likelihood is still rising or flat: which the scaled information alone
    cannot show (its condition number can be 1). The Newton direction points
    that way even when the information ties several directions, so either
    probe catches it. A solver that does not polish to quadratic convergence
    is probed along a third direction, its whole displacement
    ``s.u - u_start``: an inexact solver (truncated Newton, quasi-Newton)
    leaves gradient components along weak directions that turn the Newton
    direction at its end point away from infinity, but its iterates have
    travelled along the way there, which dominates the displacement. A drop
    below ``FLAT_DROP`` gives ``Status.unbounded``, or ``Status.at_boundary``
    when the natural-scale parameters moving along that direction approach
    finite bounds of their constraints (:meth:`ParamSpec.toward_bound`).
    Two evaluations of the log-likelihood (three with the displacement)
    (more only where a value is not finite); no probe (drop NaN) when the
    information is not positive definite (already reported) and for streamed
    data (more passes over the source).
    """
    u = s.u
    success = jnp.asarray(Status.success.value, jnp.int32)
    nan = jnp.full((), jnp.nan, u.dtype)
    if static.source is not None:
        return Probe(nan, success, u, jnp.zeros((), u.dtype), nan, nan)
    if isinstance(eig, Curvature):  # a matrix-free fit: products only
        lo, hi, weakest = eig.lo, eig.hi, eig.weakest
        if isinstance(static.solver, NewtonCG):  # its own last direction
            d_newton, edm = s.d, s.edm
        else:
            d_newton, edm = newton_by_cg(problem, u, g, eig)
        times_H = hvp_at(problem, u)
    else:
        lo, hi, weakest = factor_extremes(eig)  # of the scaled information
        d_newton, edm, _ = newton_direction(H, g, eig)
        times_H = lambda v: H @ v  # noqa: E731
    pd = (lo > 0) & jnp.isfinite(lo)
    d_weak = eig.scale * weakest / jnp.sqrt(jnp.where(pd, lo, 1.0))
    d_weak = jnp.where(jnp.dot(g, d_weak) > 0, -d_weak, d_weak)  # the uphill way
    # Unit information norm: d' H d = 2 EDM for the Newton direction.
    norm = jnp.sqrt(2.0 * jnp.where(pd, edm, 0.0))
    usable = pd & (norm > 0) & jnp.isfinite(norm)
    d_newton = jnp.where(usable, d_newton / jnp.where(usable, norm, 1.0), -d_weak)
    # A Newton fit that polished to its target converged quadratically: a
    # regular maximum, probed both ways along the weakest direction. One that
    # stopped polishing on a slower fall of the EDM (linear convergence: the
    # way to a maximum at infinity or on a boundary, or rounding), and any
    # other solver, is probed along the Newton direction too.
    solver = static.solver
    quadratic = (
        s.edm <= POLISHED * solver.tol if solver.polish else False
    )
    dirs = [d_weak, jnp.where(quadratic, -d_weak, d_newton)]
    if not solver.polish and u_start is not None:
        d_disp = u - u_start
        norm = jnp.sqrt(jnp.abs(jnp.dot(d_disp, times_H(d_disp))))
        ok = pd & (norm > 0) & jnp.isfinite(norm)
        dirs.append(jnp.where(ok, d_disp / jnp.where(ok, norm, 1.0), -d_weak))
    dirs = jnp.stack(dirs)
    fp, drops = _probe_values(problem, u, f, dirs)
    i = jnp.argmin(drops)
    drop = jnp.where(pd, drops[i], jnp.nan)
    flat = pd & (drop < FLAT_DROP)
    # Towards a bound: every unconstrained coordinate that takes part in the
    # flat direction (at least 0.1 of the largest, in standard-error units)
    # leads, on the side it moves to, to a bound of its parameter's support
    # (a static property of the constraints: ParamSpec.toward_bound).
    step = dirs[i]
    part = jnp.abs(step / eig.scale)
    part = part >= 0.1 * jnp.max(part)
    down, up = static.spec.toward_bound()
    side = jnp.where(step < 0, jnp.asarray(down), jnp.asarray(up))
    bounded = jnp.all(jnp.where(part, side, True))
    code = jnp.where(
        flat,
        jnp.where(bounded, Status.at_boundary.value, Status.unbounded.value),
        Status.success.value,
    ).astype(jnp.int32)
    # How much higher the best probe point is than a quadratic model of the
    # log-likelihood at the end point allows: at most sqrt(2 EDM) - 1/2 one
    # standard error away (0 and below at a converged point). A loosely
    # converged fit (a first-order method's gtol) is not restarted for the
    # rise its own gradient predicts.
    allowed = jnp.maximum(jnp.sqrt(2.0 * jnp.maximum(edm, 0.0)) - 0.5, 0.0)
    top = jnp.argmin(fp)
    rise = jnp.where(pd & jnp.isfinite(fp[top]), f - fp[top] - allowed, 0.0)
    return Probe(drop, code, u + dirs[top], rise, lo, hi)


# Where the log-likelihood is not finite one standard error away, the probe
# looks this many times closer, then this many times closer again.
CLOSER = 1e-2


def _probe_values(problem, u, f, dirs):
    """Objective one standard error along each direction (``inf`` where not
    finite), and the drop of the log-likelihood along each, as the drop one
    standard error away would be for a quadratic (0.5 at a quadratic maximum).

    A direction whose value one standard error away is not finite (an
    overflow such as ``0 * log(0)`` in a log-likelihood written without
    ``xlogy``, far out along the direction to infinity; or the edge of the
    support) is evaluated at ``CLOSER`` and ``CLOSER**2`` of that distance,
    where a quadratic drops ``t**2 / 2``, and ``(value - f) / t**2`` stands for
    it; a distance at which that drop is within the rounding of ``f`` decides
    nothing (drop ``inf``). One evaluation site in the program: the first pass
    of a loop that runs again only when a value was not finite.
    """
    noise = 16 * jnp.finfo(f.dtype).eps * (1.0 + jnp.abs(f))
    inf = jnp.full(dirs.shape[:1], jnp.inf, f.dtype)

    def step(c):
        t, fp, drops = c
        # All points in one call: a batched evaluation (one copy of the
        # log-likelihood in the program), or for large data one evaluation
        # per point through the linear predictors (see Problem.values).
        v = problem.values(u + t * dirs)
        ok = jnp.isinf(drops) & jnp.isfinite(v) & (0.5 * t**2 > 100.0 * noise)
        fp = jnp.where(t == 1.0, jnp.where(jnp.isfinite(v), v, jnp.inf), fp)
        return t * CLOSER, fp, jnp.where(ok, (v - f) / t**2, drops)

    def again(c):
        t, _, drops = c
        return (t == 1.0) | (jnp.any(jnp.isinf(drops)) & (t > CLOSER**2 / 1.5))

    one = jnp.ones((), f.dtype)
    _, fp, drops = jax.lax.while_loop(again, step, (one, inf, inf))
    return fp, drops
