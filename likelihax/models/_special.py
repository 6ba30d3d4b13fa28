r"""Log CDF and log survival of the gamma, beta and Student-t laws, twice differentiable.

JAX 0.10 differentiates the regularized incomplete gamma function
:math:`P(a, x)` once in its shape (``igamma_grad_a``) but not twice, and the
regularized incomplete beta function :math:`I_x(a, b)` not at all in
:math:`a, b`; Newton's exact Hessian (and so every standard error of a
censored gamma, beta or Student-t fit) needs both. The functions here are
``jax.custom_jvp`` rules, differentiable twice in every argument:

* **x** (the argument): the analytic density, :math:`\partial_x \log F = f / F`
  and :math:`\partial_x \log S = -f / S`.
* **gamma shape** :math:`a`: the analytic first derivative
  :math:`g = \partial_a \log F` from ``igamma_grad_a`` (XLA evaluates it in the
  small tail, so it keeps its relative accuracy there), the analytic cross
  derivative :math:`\partial_x g = (\partial_x \log F)(\log x - \psi(a) - g)`
  (from :math:`\partial_a \partial_x F = \partial_x F\,(\log x - \psi(a))`),
  and :math:`\partial_a g` by a five-point central difference of :math:`g`
  with step :math:`h = 2\cdot 10^{-3}\min(a, \sqrt a)`, the scale on which
  :math:`g` varies (truncation :math:`O(h^4)`, rounding
  :math:`O(\epsilon / h)`: about :math:`10^{-11}` relative).
* **beta shapes** :math:`a, b` (and the Student-t degrees of freedom): automatic
  differentiation of a continued fraction for :math:`\log I_x(a, b)`
  (Numerical Recipes ``betacf`` with the modified Lentz method, a fixed
  :data:`BETA_CF_TERMS` terms so that reverse mode works), always evaluated on
  the side where it converges quickly, :math:`x < (a+1)/(a+b+2)`, using
  :math:`I_x(a, b) = 1 - I_{1-x}(b, a)`; the other tail is ``log1mexp`` of it.

:func:`delta_se` gives the delta-method standard errors of a function of
estimates by forward-mode differentiation; the models' predictions and
moment estimators use it.

Accuracy (``tests/models/distributions/test_censored_special.py``, against mpmath at 40 digits):
values to about 1e-13 relative, first and second derivatives to about 1e-9
relative or better for shapes in [0.05, 1e3] (the continued fraction needs
about :math:`\sqrt{\max(a, b)}` terms; beyond shapes of about 1e4 it is
truncated).

References
----------
Press, Teukolsky, Vetterling and Flannery (2007), *Numerical Recipes*, 3rd ed.,
section 6.4 (incomplete beta function). Maechler (2012), "Accurately computing
log(1 - exp(-|a|))", Rmpfr vignette.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
from jax.lax import igamma_grad_a

__all__ = [
    "BETA_CF_TERMS",
    "beta_logcdf",
    "beta_logsf",
    "gamma_logcdf",
    "gamma_logsf",
    "log1mexp",
    "t_logcdf",
    "t_logsf",
]

BETA_CF_TERMS = 300
_TINY = 1e-300


def log1mexp(a):
    """log(1 - exp(a)) for a < 0, accurate near 0 and for very negative a.

    Each branch gets a safe input where it is masked (double ``where``), so
    neither produces NaN derivatives (Maechler, 2012).
    """
    near = a > -0.6931471805599453
    a_near = jnp.where(near, a, -1.0)
    a_far = jnp.where(near, -1.0, a)
    return jnp.where(near, jnp.log(-jnp.expm1(a_near)), jnp.log1p(-jnp.exp(a_far)))


# ----- gamma: log P(a, x) and log Q(a, x), x on the standard (rate 1) scale ---------
def _gamma_logpdf(a, x):
    return (a - 1.0) * jnp.log(x) - x - jsp.gammaln(a)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _log_igamma(upper, a, x):
    # each of P and Q is accurate relative to itself; log F = log1p(-(1 - F))
    # when F > 1/2 keeps the relative accuracy of log F near 0.
    p, q = jsp.gammainc(a, x), jsp.gammaincc(a, x)
    f, c = (q, p) if upper else (p, q)
    return jnp.where(f > 0.5, jnp.log1p(-c), jnp.log(f))


def _dx_log_igamma(upper, a, x, y):
    r = jnp.exp(_gamma_logpdf(a, x) - y)
    return -r if upper else r


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _da_log_igamma(upper, a, x):
    """g = d log F / da (F = P, or Q if upper) from the analytic igamma_grad_a."""
    y = _log_igamma(upper, a, x)
    g = igamma_grad_a(a, x) * jnp.exp(-y)
    return -g if upper else g


def _fd_step(a):
    return 2e-3 * jnp.minimum(a, jnp.sqrt(a))


def _zero(t):
    return isinstance(t, jax.custom_derivatives.SymbolicZero)


# symbolic zeros: a shape that is a constant (not differentiated) costs no
# igamma_grad_a and no finite difference
def _log_igamma_jvp(upper, primals, tangents):
    a, x = primals
    da, dx = tangents
    y = _log_igamma(upper, a, x)
    dy = jnp.zeros(jnp.broadcast_shapes(jnp.shape(a), jnp.shape(x)), y.dtype)
    if not _zero(da):
        dy = dy + _da_log_igamma(upper, a, x) * da
    if not _zero(dx):
        dy = dy + _dx_log_igamma(upper, a, x, y) * dx
    return y, dy


_log_igamma.defjvp(_log_igamma_jvp, symbolic_zeros=True)


def _da_log_igamma_jvp(upper, primals, tangents):
    a, x = jnp.broadcast_arrays(*primals)
    da, dx = tangents
    g = _da_log_igamma(upper, a, x)
    dg = jnp.zeros_like(g)
    if not _zero(da):
        h = _fd_step(a)
        # the four shifted shapes in one call: one copy of the igamma code in the
        # compiled program instead of four
        k = jnp.array([-2.0, -1.0, 1.0, 2.0]).reshape((4,) + (1,) * jnp.ndim(a))
        gs = _da_log_igamma(upper, a + k * h, jnp.broadcast_to(x, (4,) + x.shape))
        dg = dg + (gs[0] - 8 * gs[1] + 8 * gs[2] - gs[3]) / (12 * h) * da
    if not _zero(dx):
        r = _dx_log_igamma(upper, a, x, _log_igamma(upper, a, x))
        dg = dg + r * (jnp.log(x) - jsp.digamma(a) - g) * dx
    return g, dg


_da_log_igamma.defjvp(_da_log_igamma_jvp, symbolic_zeros=True)


def gamma_logcdf(x, shape, rate=1.0):
    """log F(x) of the gamma law (R ``pgamma(x, shape, rate, log.p = TRUE)``).

    Examples
    --------
    >>> import jax, scipy.stats as ss
    >>> from likelihax.models._special import gamma_logcdf
    >>> with jax.enable_x64(True):
    ...     v = float(gamma_logcdf(1.5, 2.5, 2.0))
    ...     d2 = float(jax.grad(jax.grad(gamma_logcdf, 1), 1)(1.5, 2.5, 2.0))
    >>> bool(abs(v - ss.gamma.logcdf(1.5, 2.5, scale=0.5)) < 1e-14)
    True
    >>> round(d2, 8)  # d^2/dshape^2; finite differences of scipy: -0.16494698
    -0.16494698
    """
    return _log_igamma(False, shape, x * rate)


def gamma_logsf(x, shape, rate=1.0):
    """log S(x) = log(1 - F(x)) of the gamma law, accurate in the upper tail."""
    return _log_igamma(True, shape, x * rate)


# ----- beta: continued fraction, differentiated by JAX ---------------------------------
def _betaln(a, b):
    # not jax.scipy.special.betaln: on jax 0.10.2 it is off by ~1e-6 at
    # betaln(8, 2) (scipy and mpmath agree to 1e-16 with this sum)
    return jsp.gammaln(a) + jsp.gammaln(b) - jsp.gammaln(a + b)


def _log_betacf(a, b, x):
    """log of the continued fraction of I_x(a, b) (modified Lentz, fixed length)."""

    def clamp(v):
        return jnp.where(jnp.abs(v) < _TINY, _TINY, v)

    qab, qap, qam = a + b, a + 1.0, a - 1.0
    d = 1.0 / clamp(1.0 - qab * x / qap)

    def body(m, carry):
        c, d, logh = carry
        m = m + 1.0
        m2 = 2.0 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 / clamp(1.0 + aa * d)
        c = clamp(1.0 + aa / c)
        logh = logh + jnp.log(d * c)
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 / clamp(1.0 + aa * d)
        c = clamp(1.0 + aa / c)
        return c, d, logh + jnp.log(d * c)

    one = jnp.ones_like(d)
    _, _, logh = jax.lax.fori_loop(0, BETA_CF_TERMS, body, (one, d, jnp.log(d)))
    return logh


def _log_ibeta_pair(a, b, x, y):
    """(log I_x(a, b), log(1 - I_x(a, b))) given x and y = 1 - x (both exact).

    The continued fraction runs once, on the side where it converges:
    ``I_x(a, b)`` if ``x < (a + 1)/(a + b + 2)``, else ``I_y(b, a)``.
    """
    a, b, x, y = jnp.broadcast_arrays(a, b, x, y)
    lower = x * (a + b + 2.0) < a + 1.0
    a_, b_ = jnp.where(lower, a, b), jnp.where(lower, b, a)
    x_, y_ = jnp.where(lower, x, y), jnp.where(lower, y, x)
    small = (
        a_ * jnp.log(x_)
        + b_ * jnp.log(y_)
        - jnp.log(a_)
        - _betaln(a_, b_)
        + _log_betacf(a_, b_, x_)
    )
    # the small side is at most ~0.99 or so; keep log1mexp's argument negative
    small = jnp.minimum(small, -1e-300)
    other = log1mexp(small)
    return jnp.where(lower, small, other), jnp.where(lower, other, small)


def _make_log_cdf_sf(pair, logpdf):
    """custom_jvp log F(x, *shapes) and log S(x, *shapes) from a differentiable
    ``pair(x, *shapes) -> (log F, log S)`` and the analytic log density."""

    def build(which, sign):
        @jax.custom_jvp
        def fn(x, *shapes):
            return pair(x, *shapes)[which]

        @fn.defjvp
        def fn_jvp(primals, tangents):
            x, *shapes = primals
            dx, *dshapes = tangents
            # shape coefficients by forward mode (jacfwd, one pass per shape):
            # the tangent is then linear in plain arrays, and a reverse pass
            # never has to transpose the continued fraction's loop
            y = fn(x, *shapes)
            full = tuple(jnp.broadcast_to(v, jnp.shape(y)) for v in shapes)

            def partial_(i):  # elementwise d pair / d shape_i by one jvp
                unit = tuple(
                    jnp.full_like(v, float(i == j)) for j, v in enumerate(full)
                )
                return jax.jvp(lambda *s: pair(x, *s)[which], full, unit)[1]

            dy = sum(partial_(i) * t for i, t in enumerate(dshapes))
            return y, dy + sign * jnp.exp(logpdf(x, *shapes) - y) * dx

        return fn

    return build(0, 1.0), build(1, -1.0)


def _beta_pair(x, a, b):
    return _log_ibeta_pair(a, b, x, 1.0 - x)


def _beta_logpdf(x, a, b):
    return (a - 1.0) * jnp.log(x) + (b - 1.0) * jnp.log1p(-x) - _betaln(a, b)


_beta_logcdf, _beta_logsf = _make_log_cdf_sf(_beta_pair, _beta_logpdf)


def beta_logcdf(x, a, b):
    """log F(x) of the beta law (R ``pbeta(x, a, b, log.p = TRUE)``).

    Examples
    --------
    >>> import jax, scipy.stats as ss
    >>> from likelihax.models._special import beta_logcdf
    >>> with jax.enable_x64(True):
    ...     v = float(beta_logcdf(0.3, 2.0, 3.5))
    >>> bool(abs(v - ss.beta.logcdf(0.3, 2.0, 3.5)) < 1e-13)
    True
    """
    return _beta_logcdf(x, a, b)


def beta_logsf(x, a, b):
    """log S(x) of the beta law, accurate in the upper tail."""
    return _beta_logsf(x, a, b)


# ----- Student t: F(z) = 1 - I_w(df/2, 1/2) / 2 for z > 0, w = df / (df + z^2) -----------
def _t_pair(z, df):
    # |z| floored: at z = 0 the tail is 1/2 for every df (d/d df = 0); the floor
    # keeps log(z^2) finite so that derivatives there are 0, not NaN.
    az = jnp.maximum(jnp.abs(z), 1e-100)
    z2 = az * az
    w, y = df / (df + z2), z2 / (df + z2)
    log_tail, log_body = _log_ibeta_pair(df / 2.0, 0.5, w, y)
    log_tail = log_tail - 0.6931471805599453  # P(T > |z|) = I_w(df/2, 1/2) / 2
    log_body = log1mexp(log_tail)
    neg = z < 0
    return jnp.where(neg, log_tail, log_body), jnp.where(neg, log_body, log_tail)


def _t_logpdf(z, df):
    return (
        jsp.gammaln((df + 1.0) / 2.0)
        - jsp.gammaln(df / 2.0)
        - 0.5 * jnp.log(df * jnp.pi)
        - (df + 1.0) / 2.0 * jnp.log1p(z * z / df)
    )


_t_logcdf, _t_logsf = _make_log_cdf_sf(_t_pair, _t_logpdf)


def t_logcdf(x, df, loc=0.0, scale=1.0):
    """log F(x) of Student's t law (scipy ``t.logcdf(x, df, loc, scale)``)."""
    return _t_logcdf((x - loc) / scale, df)


def t_logsf(x, df, loc=0.0, scale=1.0):
    """log S(x) of Student's t law, accurate in the upper tail."""
    return _t_logsf((x - loc) / scale, df)
