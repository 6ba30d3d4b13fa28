r"""The generalized gamma error law of accelerated-failure-time models (Prentice, 1974).

:math:`\log T = \mu + \sigma W` with, for a shape :math:`Q \ne 0`,
:math:`a = Q^{-2}` and :math:`u = a\,e^{Q W} \sim \mathrm{Gamma}(a, 1)`. The
standard :math:`W` has

.. math::

   \log f_W(w) = \log|Q| + a\log a - \log\Gamma(a) + a\,(Q w - e^{Q w}),

:math:`F_W(w) = P(a, u)` for :math:`Q > 0` and :math:`Q(a, u)` (the upper
regularized incomplete gamma) for :math:`Q < 0`. :math:`Q = 1` is the
Weibull (minimum extreme-value :math:`W`), :math:`Q = \sigma` the gamma,
:math:`Q \to 0` the log-normal. This is the parametrisation of R
``flexsurv``'s ``gengamma`` (``mu``, ``sigma``, ``Q``).

Near :math:`Q = 0` the formulas lose accuracy in the shape's derivatives
(the gamma shape :math:`a` grows like :math:`Q^{-2}`, and the second
derivative in :math:`Q` at :math:`|Q| = 0.01` is off by half). For
:math:`|Q| <` :data:`Q_SMALL` the three functions are therefore the
Lagrange polynomial in :math:`Q` through their values at :data:`N_NODES`
Chebyshev nodes on :math:`[-q_0, q_0]`, :math:`q_0 =` :data:`Q_NODES`, the
middle node being the log-normal limit itself: smooth in :math:`Q`, and
within about :math:`10^{-9}` of the exact values and :math:`10^{-6}` of
their second derivatives for :math:`|w| \le 4` (checked against mpmath in
``tests/models/test_gengamma.py``).

The log CDF and survival functions come from :mod:`._special`, twice
differentiable in the shape. Quantiles (:func:`quantile`) are SciPy's
``gammaincinv`` on the host, differentiated by the implicit function
theorem, so that delta-method standard errors of predicted medians are
exact; below :math:`|Q| = 10^{-6}` they are the normal quantiles (an error
of :math:`O(Q)`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from ._special import gamma_logcdf, gamma_logsf

__all__ = ["N_NODES", "Q_NODES", "Q_SMALL", "logs", "quantile"]

Q_SMALL = 0.1
Q_NODES = 0.15
N_NODES = 7


def _exact(w, q):
    """``(log f, log F, log S)`` for a shape ``q`` away from 0."""
    a = 1.0 / (q * q)
    qw = q * w
    # a (Q w - e^{Q w}) = -a - a (expm1(Q w) - Q w): the large -a cancels
    # against a log a - log Gamma(a) up to O(log a)
    lf = jnp.log(jnp.abs(q)) + a * jnp.log(a) - jsp.gammaln(a) - a - a * (jnp.expm1(qw) - qw)
    u = a * jnp.exp(qw)
    lower, upper = gamma_logcdf(u, a), gamma_logsf(u, a)
    pos = q > 0
    return lf, jnp.where(pos, lower, upper), jnp.where(pos, upper, lower)


def _normal(w):
    return -0.5 * w * w - 0.5 * np.log(2 * np.pi), jsp.log_ndtr(w), jsp.log_ndtr(-w)


# Chebyshev nodes on [-Q_NODES, Q_NODES]; the middle one is 0 (the normal limit)
_NODES = Q_NODES * np.cos((2 * np.arange(N_NODES) + 1) * np.pi / (2 * N_NODES))


def _interpolated(w, q):
    """Lagrange interpolation in the shape through the nodes, for |q| < Q_SMALL.

    The nodes other than 0 are evaluated in one batched call (one copy of the
    incomplete gamma function in the compiled program)."""
    z = _NODES[np.abs(_NODES) > 1e-12]
    wide = jnp.broadcast_to(w, (len(z),) + jnp.shape(w))
    ex = _exact(wide, jnp.asarray(z).reshape((-1,) + (1,) * jnp.ndim(w)))
    nodes = list(z) + [0.0]
    out = []
    for v_nodes, v_zero in zip(ex, _normal(w)):
        vals = list(v_nodes) + [v_zero]
        total = 0.0
        for j, zj in enumerate(nodes):
            weight = 1.0
            for m, zm in enumerate(nodes):
                if m != j:
                    weight = weight * (q - zm) / (zj - zm)
            total = total + weight * vals[j]
        out.append(total)
    return tuple(out)


def logs(w, q):
    """``(log f, log F, log S)`` of the standard generalized gamma :math:`W` at ``w``.

    Examples
    --------
    >>> import jax, numpy as np, scipy.stats as ss
    >>> from likelihax.models._gengamma import logs
    >>> with jax.enable_x64(True):
    ...     lf, lF, lS = (float(v) for v in logs(0.3, 1.0))
    >>> e = np.exp(0.3)   # Q = 1: the minimum extreme-value law, S = exp(-e^w)
    >>> bool(np.allclose([lf, lS], [0.3 - e, -e], rtol=1e-13))
    True
    """
    w = jnp.asarray(w, jnp.float64)
    q = jnp.asarray(q, jnp.float64)
    small = jnp.abs(q) < Q_SMALL
    if q.ndim == 0:  # the usual case: one shape for all rows; evaluate one branch
        return jax.lax.cond(small, _interpolated, lambda w_, q_: _exact(w_, q_), w, q)
    qs = jnp.where(small, Q_SMALL, q)
    near, far = _interpolated(w, q), _exact(w, qs)
    return tuple(jnp.where(small, a, b) for a, b in zip(near, far))


def _gammaincinv_host(a, p):
    from scipy.special import gammaincinv

    return np.asarray(gammaincinv(np.asarray(a), np.asarray(p)), dtype=np.float64)


@jax.custom_jvp
def _gamma_quantile(a, p):
    """x with P(a, x) = p (SciPy on the host)."""
    a, p = jnp.broadcast_arrays(jnp.asarray(a, jnp.float64), jnp.asarray(p, jnp.float64))
    return jax.pure_callback(_gammaincinv_host, jax.ShapeDtypeStruct(a.shape, jnp.float64),
                             a, p, vmap_method="expand_dims")  # fmt: skip


@_gamma_quantile.defjvp
def _gamma_quantile_jvp(primals, tangents):
    a, p = jnp.broadcast_arrays(*(jnp.asarray(v, jnp.float64) for v in primals))
    da, dp = (jnp.broadcast_to(t, a.shape) for t in tangents)
    x = _gamma_quantile(a, p)
    # P(a, x(a, p)) = p:  f(x) dx + dP/da da = dp
    log_f = (a - 1.0) * jnp.log(x) - x - jsp.gammaln(a)
    dlogP_da = jax.jvp(lambda s: gamma_logcdf(x, s), (a,), (jnp.ones_like(a),))[1]
    dx = (dp - p * dlogP_da * da) * jnp.exp(-log_f)
    return x, dx


def quantile(prob, q):
    """The ``prob`` quantile of the standard generalized gamma :math:`W` (shape ``q``).

    Examples
    --------
    >>> import jax, numpy as np
    >>> from likelihax.models._gengamma import quantile
    >>> with jax.enable_x64(True):
    ...     w = float(quantile(0.5, 1.0))
    >>> bool(np.isclose(w, np.log(np.log(2.0)), rtol=1e-12))   # Weibull median
    True
    """
    prob = jnp.asarray(prob, jnp.float64)
    q = jnp.asarray(q, jnp.float64)
    small = jnp.abs(q) < 1e-6
    qs = jnp.where(small, 1.0, q)
    a = 1.0 / (qs * qs)
    x = _gamma_quantile(a, jnp.where(qs > 0, prob, 1.0 - prob))
    return jnp.where(small, jsp.ndtri(prob), jnp.log(x / a) / qs)
