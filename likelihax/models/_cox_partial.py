r"""The Cox partial log-likelihood of the coefficients, with its gradient and
Hessian-vector products in closed form.

The engine takes the value, gradient and Hessian of a Cox fit from the
model's ``total`` (:class:`likelihax.objective.Problem`, "A model's own
total") by automatic differentiation: the Hessian is the forward-mode
Jacobian of the gradient, one tangent per coefficient. Differentiated as
written, the risk sums, tie groups and Efron corrections become some fifty
passes over ``(n, k)`` tangents per Hessian (at N = 100,000, p = 10: about
six times the cost of the value and gradient). Here the function of
:math:`\beta` carries its derivatives (``jax.custom_jvp``, two levels: the
value's derivative is the gradient, whose derivative along :math:`v` is the
Hessian-vector product below), so a tangent costs a few operations on
per-group arrays after one weighted cross-product :math:`X^\top
\operatorname{diag}(r c) X` and one scatter of :math:`r x` into the groups.
The engine still computes the Hessian by its own forward-over-reverse pass
and runs its own Newton steps and covariance; the per-row terms of
:class:`~likelihax.models.cox._CoxLoglik` (scores, robust covariances) are
differentiated as before.

With the notation of :mod:`likelihax.models.cox` (rows sorted by stratum,
then decreasing time; tie groups :math:`g` with :math:`d_g` events
:math:`D_g` and mean event weight :math:`\bar w_g`; :math:`\eta = X\beta`,
:math:`r_j = w_j e^{\eta_j}`), each event row :math:`i` of group :math:`g`
with rank :math:`k_i` among the group's events has the denominator
:math:`q_i = S_0(g) - f_i S_D(g)`, :math:`f_i = k_i/d_g` (0 for Breslow's
ties), and

.. math::

    \ell = \sum_i \delta_i (w_i \eta_i - \bar w_{g(i)} \log q_i), \qquad
    \frac{\partial\ell}{\partial\eta_j} = w_j\delta_j - r_j c_j, \quad
    c_j = A_{g(j)} - \delta_j B_{g(j)},

with :math:`a_i = \delta_i \bar w_{g(i)}/q_i`, :math:`\alpha_g = \sum_{i\in
g} a_i`, :math:`B_g = \sum_{i \in g} a_i f_i` and :math:`A_g = \sum_{h \ge g}
\alpha_h` over the groups :math:`h` of the stratum whose risk sets contain
group :math:`g`'s rows (the sums of :math:`S_0` run the other way, over
:math:`h \le g`); the gradient is :math:`X^\top \partial\ell/\partial\eta`.
Along :math:`v`, with :math:`S_1(g) = \sum_{j \in R_g} r_j x_j` and
:math:`S_{D1}(g) = \sum_{i \in D_g} r_i x_i`: :math:`\dot S_0 = S_1 v`,
:math:`\dot S_D = S_{D1} v`, :math:`\dot a_i = -a_i (\dot S_0 - f_i \dot
S_D)/q_i`, and

.. math::

    H v = -X^\top \operatorname{diag}(r c) X v - \sum_g \dot A_g\, s_1(g)
    + \sum_g \dot B_g\, S_{D1}(g),

:math:`s_1(g) = \sum_{j \in g} r_j x_j`, :math:`\dot A, \dot B` the sums of
:math:`\dot a` as :math:`A, B` are of :math:`a`: per-group sums of
:math:`a_i/q_i`, :math:`a_i f_i/q_i` and :math:`a_i f_i^2/q_i` give them for
every :math:`v`. Every sum over a risk set is a cumulative sum over the tie
groups (restarted at each stratum).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

__all__ = ["partial_loglik"]


def _scan(x, start, reverse=False):
    """Cumulative sums over the groups, restarted at each stratum (``start``:
    True at a stratum's first group; None: one stratum)."""
    if start is None:
        return jax.lax.cumsum(x, axis=0, reverse=reverse)
    if reverse:  # the stratum's last group starts the reversed sums
        end = jnp.concatenate([start[1:], jnp.ones(1, bool)])
        return _scan(x[::-1], end[::-1])[::-1]

    def op(a, b):
        return jnp.where(b[1], b[0], a[0] + b[0]), a[1] | b[1]

    flags = jnp.broadcast_to(start.reshape(start.shape + (1,) * (x.ndim - 1)), x.shape)
    return jax.lax.associative_scan(op, (x, flags))[0]


def _sums(x, d):
    """Sums per tie group of the columns of ``x`` (rows sorted by group): one
    scatter for all columns."""
    n_g = d["mw"].shape[0]
    return jax.ops.segment_sum(x, d["group"], n_g, indices_are_sorted=True)


def _parts(eta, d, efron, strata):
    """The value, the gradient in ``eta`` and what the curvature reuses
    (module notes)."""
    w, ev, g, mw = d["w"], d["event"] > 0, d["group"], d["mw"]
    start = d["stratum_start"] if strata else None
    e = eta - jnp.max(eta)  # the partial likelihood is shift-free
    r = w * jnp.exp(e)
    f = d["frac"] if efron else None
    if efron:
        s = _sums(jnp.stack([r, jnp.where(ev, r, 0.0)], axis=1), d)
        at = jnp.stack([_scan(s[:, 0], start), s[:, 1], mw], axis=1)[g]
        q = at[:, 0] - f * at[:, 1]
    else:
        at = jnp.stack([_scan(_sums(r, d), start), mw], axis=1)[g]
        q = at[:, 0]
    mw_row = at[:, -1]
    value = jnp.sum(jnp.where(ev, w * e - mw_row * jnp.log(q), 0.0))
    a = jnp.where(ev, mw_row / q, 0.0)
    if efron:
        s = _sums(jnp.stack([a, a * f], axis=1), d)
        back = jnp.stack([_scan(s[:, 0], start, reverse=True), s[:, 1]], axis=1)[g]
        c = back[:, 0] - jnp.where(ev, back[:, 1], 0.0)
    else:
        c = _scan(_sums(a, d), start, reverse=True)[g]
    score = jnp.where(ev, w, 0.0) - r * c
    return value, score, (r, f, q, a, c)


def _curvature(X, d, efron, strata, cache):
    r"""What the Hessian-vector products share: :math:`X^\top \operatorname{diag}(r c) X`,
    the risk sums of :math:`r x` per group (cumulated over the risk sets) and
    of the events' :math:`r x`, and per group :math:`\sum a_i/q_i`,
    :math:`\sum a_i f_i/q_i`, :math:`\sum a_i f_i^2/q_i` (module notes)."""
    r, f, q, a, c = cache
    p = X.shape[1]
    start = d["stratum_start"] if strata else None
    rx = r[:, None] * X
    gram = X.T @ (c[:, None] * rx)
    aq = a / q
    if efron:
        ev = (d["event"] > 0)[:, None]
        cols = [rx, jnp.where(ev, rx, 0.0), jnp.stack([aq, aq * f, aq * f * f], axis=1)]
        s = _sums(jnp.concatenate(cols, axis=1), d)
        s1, sd1, u = s[:, :p], s[:, p:2 * p], s[:, 2 * p:]
        return gram, s1, _scan(s1, start), sd1, u[:, 0], u[:, 1], u[:, 2]
    s = _sums(jnp.concatenate([rx, aq[:, None]], axis=1), d)
    s1 = s[:, :p]
    return gram, s1, _scan(s1, start), None, s[:, p], None, None


def _hvp(d, efron, strata, shared, v):
    r"""The Hessian of the partial log-likelihood in ``beta`` times ``v``:
    :math:`-X^\top \operatorname{diag}(r c) X v` plus the risk sets' terms, from
    per-group sums (module notes)."""
    gram, s1, s1_cum, sd1, u1, u2, u3 = shared
    start = d["stratum_start"] if strata else None
    ds0 = s1_cum @ v  # the change of each group's risk sum S0
    if efron:
        dsd = sd1 @ v
        d_alpha = -(u1 * ds0 - u2 * dsd)
        d_b = -(u2 * ds0 - u3 * dsd)
    else:
        d_alpha = -u1 * ds0
    d_a = _scan(d_alpha, start, reverse=True)
    out = -(gram @ v) - s1.T @ d_a
    return out + sd1.T @ d_b if efron else out


def _value_grad_parts(beta, X, d, efron, strata):
    value, score, cache = _parts(X @ beta, d, efron, strata)
    return value, X.T @ score, cache


@functools.partial(jax.custom_jvp, nondiff_argnums=(3, 4))
def _value_grad(beta, X, d, efron, strata):
    return _value_grad_parts(beta, X, d, efron, strata)[:2]


@_value_grad.defjvp
def _value_grad_jvp(efron, strata, primals, tangents):
    beta, X, d = primals
    v = tangents[0]
    value, grad, cache = _value_grad_parts(beta, X, d, efron, strata)
    shared = _curvature(X, d, efron, strata, cache)
    return (value, grad), (jnp.dot(grad, v), _hvp(d, efron, strata, shared, v))


@functools.partial(jax.custom_jvp, nondiff_argnums=(3, 4))
def _value(beta, X, d, efron, strata):
    return _parts(X @ beta, d, efron, strata)[0]


@_value.defjvp
def _value_jvp(efron, strata, primals, tangents):
    value, grad = _value_grad(*primals, efron, strata)
    return value, jnp.dot(grad, tangents[0])


def partial_loglik(beta, X, d, efron: bool, strata: bool):
    """The weighted partial log-likelihood at the coefficients ``beta`` of the
    sorted rows ``X`` and ``d`` (the layout of :func:`likelihax.models.cox.coxph`;
    ``d["stratum_start"]`` where ``strata``), differentiable in ``beta`` only
    (the data and weights are constants here; the rows' terms of
    :class:`~likelihax.models.cox._CoxLoglik` differentiate in the weights).

    Examples
    --------
    >>> import numpy as np, jax, jax.numpy as jnp
    >>> from likelihax.core import x64_scope
    >>> from likelihax.models._cox_partial import partial_loglik
    >>> d = {"w": np.ones(3), "event": np.ones(3), "group": np.arange(3),
    ...      "mw": np.ones(3), "frac": np.zeros(3)}   # times 3, 2, 1
    >>> X = np.array([[0.0], [1.0], [-0.4]])
    >>> eta = 0.5 * X[:, 0]
    >>> by_hand = (0.0 + 0.5 - np.log(1 + np.exp(0.5))
    ...            - 0.2 - np.log(np.sum(np.exp(eta))))
    >>> with x64_scope():
    ...     ll = partial_loglik(jnp.array([0.5]), X, d, True, False)
    >>> bool(np.isclose(ll, by_hand, rtol=1e-14))
    True
    """
    return _value(beta, X, d, efron, strata)
