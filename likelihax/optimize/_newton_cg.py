r"""Truncated Newton (line-search Newton-CG) on Hessian-vector products.

For many parameters, where forming and factorizing the Hessian costs more than
the rest of a step (a logistic regression's :math:`X^\top W X` is :math:`N k^2`
flops, its gradient :math:`2 N k`), the Newton direction is found by the
conjugate gradient method on :math:`H d = -g` using only products
:math:`H v`, each the forward-mode derivative of the reverse-mode gradient
(``jax.linearize`` of the gradient once per iterate, then one pass per
product): :math:`O(N k)` per product, no :math:`k \times k` matrix (Nocedal &
Wright, 2006, Algorithm 7.1).

* **Inner solve**: CG from :math:`d = 0`, preconditioned by the absolute
  diagonal of :math:`H` estimated from :data:`PROBES` products with fixed
  Rademacher vectors (Hutchinson's estimator; floored at :math:`10^{-8}` of
  its largest entry), exact at the coordinates of the small parameters
  (:meth:`Problem.small_coordinates`: one product each), whose coupling to
  every other coordinate would otherwise swamp the estimate: parameters in
  very different units (an intercept and a dispersion beside coefficients)
  would otherwise stall the solve. It stops
  when the scaled residual :math:`\lVert r \rVert_{M^{-1}}` is at most
  :math:`\eta \lVert g \rVert_{M^{-1}}` with the forcing term
  :math:`\eta = \min(1/2, \lVert g \rVert_{M^{-1}}^{1/2})` (superlinear
  convergence), after ``max_cg`` products (default :math:`\min(k, 500)`), or
  at the first direction of non-positive curvature (then the direction so far,
  or :math:`-M^{-1} g` if that is the first).
* **Search, acceptance and stopping**: as :class:`~likelihax.optimize.Newton`:
  each trial is one evaluation (value and gradient), Armijo backtracking, the
  EDM :math:`-g^\top d / 2` of the CG direction (exact as the residual
  vanishes) in the shared stopping rule, full steps near the optimum judged
  by the EDM when the value cannot resolve them. Within :math:`10^3` of the
  EDM target the inner solve is tightened to :math:`10^{-3}` of the forcing
  term, and after the rule holds one more full step is taken (a *polishing*
  step, as Newton's).
* **Final information**: the exact Hessian at the estimate, formed once
  (:meth:`Problem.value_grad_hessian`), for the covariance and diagnostics.

``lx.fit(..., method="newton-cg")`` selects it, and :func:`likelihax.fit`
uses it by default beyond 8,192 free parameters
(:func:`likelihax.engine._options.default_method`). Where the maximum is at
infinity (complete separation in a logistic regression), the truncated inner
solves leave gradient components along the weakest directions of the
information, so the dense Newton direction at the end point no longer points
to infinity; the engine's curvature probe therefore also looks along the
solver's whole displacement (:func:`likelihax.engine._probe.curvature_probe`),
which does.

References
----------
Nocedal, J. & Wright, S. J. (2006). *Numerical Optimization*, 2nd ed.,
chapter 7. Springer.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..core import Status
from ._loop import record
from ._newton import judge_trial

__all__ = ["NewtonCG", "cg_direction", "hutchinson_diagonal"]
# Rademacher probes of the diagonal preconditioner (module notes).
PROBES = 8


def cg_direction(hvp, g, max_iter: int, rel_tol, m_inv=None):
    r"""``(d, n_products)``: preconditioned CG on ``H d = -g`` with products
    ``hvp(v) = H v`` and the diagonal preconditioner ``m_inv`` (:math:`M^{-1}`,
    default 1); stops when :math:`\sqrt{r^\top M^{-1} r} \le` ``rel_tol``
    :math:`\sqrt{g^\top M^{-1} g}` (module notes: negative curvature).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import cg_direction
    >>> H = jnp.array([[4.0, 1.0], [1.0, 3.0]])
    >>> d, n = cg_direction(lambda v: H @ v, jnp.array([1.0, 2.0]), 10, 1e-5)
    >>> [round(float(x), 5) for x in d], int(n)   # -H^-1 g in k = 2 products
    ([-0.09091, -0.63636], 2)
    """
    m_inv = jnp.ones_like(g) if m_inv is None else m_inv
    z0 = m_inv * g
    target = rel_tol * jnp.sqrt(jnp.dot(g, z0))

    def cond(c):
        _, _, _, rz, k, stop = c
        return (~stop) & (k < max_iter) & (jnp.sqrt(jnp.abs(rz)) > target)

    def body(c):
        d, r, p, rz, k, _ = c
        Hp = hvp(p)
        pHp = jnp.dot(p, Hp)
        bad = ~(pHp > 0)
        alpha = rz / jnp.where(bad, 1.0, pHp)
        d_new = d + alpha * p
        r_new = r - alpha * Hp
        z_new = m_inv * r_new
        rz_new = jnp.dot(r_new, z_new)
        p_new = z_new + (rz_new / jnp.where(rz > 0, rz, 1.0)) * p
        # non-positive curvature: keep the direction so far (the preconditioned
        # steepest descent -M^-1 g if none yet)
        d_keep = jnp.where(k == 0, -z0, d)
        return (jnp.where(bad, d_keep, d_new), jnp.where(bad, r, r_new),
                jnp.where(bad, p, p_new), jnp.where(bad, rz, rz_new), k + 1, bad)  # fmt: skip

    c0 = (jnp.zeros_like(g), -g, -z0, jnp.dot(g, z0), jnp.zeros((), jnp.int32),
          jnp.zeros((), bool))  # fmt: skip
    d, _, _, _, k, _ = jax.lax.while_loop(cond, body, c0)
    return d, k


def hutchinson_diagonal(hvp, k, dtype, probes: int = PROBES, exact=()):
    r"""Estimate of diag(H) from ``probes`` products with fixed Rademacher
    vectors (:math:`\operatorname{diag} H \approx \operatorname{mean}_i z_i
    \odot H z_i`), as a preconditioner: absolute values, floored at
    :math:`10^{-8}` of the largest (module notes).

    The coordinates ``exact`` (static indices) get their exact diagonal, from
    one product each with their unit vectors, and the probes are zero there.
    The estimate's error at coordinate :math:`j` is
    :math:`\sum_{l \ne j} H_{jl} z_l` averaged over the probes: a coordinate
    coupled to all others (an intercept beside a sparse design's
    coefficients) puts its large :math:`H_{jl}` into every other coordinate's
    estimate unless it is taken out this way.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import hutchinson_diagonal
    >>> H = jnp.diag(jnp.arange(1.0, 6.0)).at[0, 1:].set(3.0).at[1:, 0].set(3.0)
    >>> d = hutchinson_diagonal(lambda v: H @ v, 5, H.dtype, exact=(0,))
    >>> d.tolist()   # the first (coupled) coordinate taken out: exact here
    [1.0, 2.0, 3.0, 4.0, 5.0]
    """
    exact = np.asarray(exact, dtype=int).reshape(-1)
    z = jax.random.rademacher(jax.random.key(0), (probes, k), dtype=dtype)
    if exact.size:
        z = z.at[:, exact].set(0.0)
    est = jnp.mean(jax.vmap(lambda v: v * hvp(v))(z), axis=0)
    if exact.size:
        E = jnp.zeros((exact.size, k), dtype).at[np.arange(exact.size), exact].set(1.0)
        cols = jax.vmap(hvp)(E)
        est = est.at[exact].set(cols[np.arange(exact.size), exact])
    a = jnp.abs(est)
    floor = 1e-8 * jnp.max(a, initial=0.0)
    return jnp.maximum(a, jnp.maximum(floor, jnp.finfo(dtype).tiny))


class NewtonCGState(NamedTuple):
    u: jax.Array
    f: jax.Array
    g: jax.Array
    d: jax.Array
    edm: jax.Array
    t: jax.Array
    n_back: jax.Array
    final_step: jax.Array
    done: jax.Array
    code: jax.Array
    n_iter: jax.Array
    n_eval: jax.Array
    trace: jax.Array
    n_hvp: jax.Array


@dataclasses.dataclass(frozen=True)
class NewtonCG:
    """Truncated Newton on Hessian-vector products (module notes).

    Parameters
    ----------
    tol : float
        Stop when the EDM :math:`-g^\\top d/2` of the CG direction is at most
        ``tol`` (then one polishing step).
    gtol, rtol : float
        Gradient and relative-change rules of :mod:`likelihax.optimize._loop`.
    max_cg : int
        Hessian-vector products per inner solve (0: :math:`\\min(k, 500)`).
    max_backtracks : int
        Step shortenings before the line search gives up.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp, likelihax as lx
    >>> from likelihax.optimize import NewtonCG
    >>> y = np.random.default_rng(0).normal(2.0, 1.0, size=200)
    >>> f = lx.fit(lambda p, d: -0.5 * (d["y"] - p["mu"]) ** 2, {"mu": jnp.zeros(1)},
    ...            {"y": y}, method=NewtonCG())
    >>> bool(np.isclose(f.params["mu"][0], y.mean(), rtol=1e-10)), f.method
    (True, 'newton-cg')
    """

    tol: float = 1e-9
    gtol: float = 0.0
    rtol: float = 0.0
    max_cg: int = 0
    max_backtracks: int = 40
    name: str = "newton-cg"
    information: ClassVar[str] = "observed"
    # (The polishing step is always taken; ``polish`` False tells the engine's
    # curvature probe not to take the inexact EDM as proof of quadratic
    # convergence, so it also probes along the Newton direction: the way to a
    # maximum at infinity, e.g. under separation.)
    polish: ClassVar[bool] = False
    default_max_steps: ClassVar[int] = 200

    def _direction(self, problem, u, g, tight):
        k = u.shape[0]
        max_iter = self.max_cg or min(k, 500)
        _, hvp = jax.linearize(lambda v: problem.value_and_grad(v)[1], u)
        exact = problem.small_coordinates()
        m_inv = 1.0 / hutchinson_diagonal(hvp, k, u.dtype, exact=exact)
        # forcing term from the scaled gradient (invariant to units)
        eta = jnp.minimum(0.5, jnp.sqrt(jnp.sqrt(jnp.dot(g, m_inv * g))))
        eta = jnp.where(tight, 1e-3 * eta, eta)  # the last steps: a tighter solve
        d, n = cg_direction(hvp, g, max_iter, eta, m_inv)
        return d, -0.5 * jnp.dot(g, d), n + PROBES + len(exact)

    def init(self, problem, u0, max_steps):
        k, dt = u0.shape[0], u0.dtype
        zero = jnp.zeros((), jnp.int32)
        return NewtonCGState(
            u=u0, f=jnp.full((), jnp.inf, dt), g=jnp.zeros((k,), dt), d=jnp.zeros((k,), dt),
            edm=jnp.full((), jnp.inf, dt), t=jnp.ones((), dt), n_back=zero,
            final_step=jnp.zeros((), bool), done=jnp.zeros((), bool), code=zero,
            n_iter=jnp.full((), -1, jnp.int32), n_eval=zero,
            trace=jnp.full((max_steps + 1,), jnp.nan, dt), n_hvp=zero,
        )  # fmt: skip

    def step(self, problem, s: NewtonCGState) -> NewtonCGState:
        u_try = s.u + s.t * s.d
        f_try, g_try = problem.value_and_grad(u_try)
        finite = jnp.isfinite(f_try) & jnp.all(jnp.isfinite(g_try))
        # the next direction is needed only where the trial is accepted; it is
        # computed at every trial (one while_loop, no branch): a rejected
        # trial's direction is discarded.
        g_safe = jnp.where(finite, g_try, 0.0)
        u_safe = jnp.where(finite, u_try, s.u)
        tight = s.final_step | (s.edm <= 1e3 * self.tol)
        d_new, edm_new, n_cg = self._direction(problem, u_safe, g_safe, tight)
        accept, conv, t_back, n_back, gave_up, fail_code = judge_trial(
            self, s, u_try, f_try, g_try, edm_new, finite
        )
        pick = lambda a, b: jnp.where(accept, a, b)  # noqa: E731
        n_iter = s.n_iter + accept.astype(jnp.int32)
        return NewtonCGState(
            u=pick(u_try, s.u), f=pick(f_try, s.f), g=pick(g_try, s.g), d=pick(d_new, s.d),
            edm=pick(edm_new, s.edm), t=pick(jnp.ones_like(s.t), t_back), n_back=n_back,
            final_step=s.final_step | (accept & conv),
            # done after the polishing step (or at once without polishing)
            done=(accept & s.final_step) | gave_up,
            # giving up on the polishing step keeps the converged iterate
            code=jnp.where(gave_up & ~s.final_step, fail_code,
                           Status.success.value).astype(jnp.int32),
            n_iter=n_iter, n_eval=s.n_eval + 1,
            trace=jnp.where(accept, record(s.trace, n_iter, f_try), s.trace),
            n_hvp=s.n_hvp + n_cg,
        )  # fmt: skip

    def final(self, problem, s):
        """The exact Hessian at the estimate, formed once (module notes)."""
        return (*problem.value_grad_hessian(s.u), None)
