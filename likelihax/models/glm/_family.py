r"""Exponential-dispersion families (and NB2) for generalized linear models.

A :class:`Family` is a per-observation log-density, a variance function, a unit
deviance, a canonical link and the range of the response; nothing inherits.
:data:`FAMILIES` is the package's one registry of them: :func:`~likelihax.glm`
and :func:`~likelihax.models.random_effects.mixed` both take their family from
it (:func:`get_family`), with links from :data:`~likelihax.models.glm.LINKS`.

Conventions (as R's ``family`` objects): the binomial response is the
proportion :math:`y_i = k_i / m_i` of :math:`m_i` trials (``m_i = 1`` for 0/1
data); the dispersion :math:`\phi` enters the Gaussian as :math:`\sigma^2`, the
gamma as shape :math:`1/\phi` with scale :math:`\mu\phi` (R's ``dgamma``) and the
inverse Gaussian as :math:`\lambda = 1/\phi`. NB2 has
:math:`V(\mu) = \mu + \alpha\mu^2` (size :math:`1/\alpha`).

===================  =================  ==================  ======================
family               variance           canonical link      other links
===================  =================  ==================  ======================
gaussian             1                  identity            log, inverse
binomial             mu (1 - mu)        logit               probit, cloglog, log
poisson              mu                 log                 identity, sqrt
Gamma                mu^2               inverse             log, identity
inverse.gaussian     mu^3               1/mu^2              log, inverse, identity
negative.binomial    mu + alpha mu^2    log                 identity, sqrt
===================  =================  ==================  ======================
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import jax.scipy.stats as st
import numpy as np

from ...core import x64_scope
from ...data import checked_view

__all__ = ["CANONICAL_KERNELS", "DISPERSION", "FAMILIES", "Family", "get_family"]

_LOG_2PI = float(np.log(2 * np.pi))

# Name of the dispersion when it is a parameter of the fit (the full
# likelihood of a family with ``dispersion=True``; see GLMResult.likelihood_fit).
DISPERSION = "dispersion"


@dataclasses.dataclass(frozen=True)
class Family:
    """A GLM family.

    Attributes
    ----------
    name : str
        R's name (``"binomial"``, ``"Gamma"``, ``"inverse.gaussian"``, ...).
    canonical : str
        Name of the canonical link.
    links : tuple of str
        Links this family accepts.
    loglik : callable
        ``loglik(y, eta, mu, link, m, phi, alpha)``: log-density of each
        observation (JAX).
    variance : callable
        ``variance(mu, alpha)``: :math:`V(\\mu)` (per trial for the binomial).
    unit_deviance : callable
        ``unit_deviance(y, mu, alpha)`` (NumPy): :math:`d(y, \\mu)` with deviance
        :math:`D = \\sum_i w_i m_i d(y_i, \\mu_i)`.
    support : callable
        ``support(y) -> bool array``: which responses are in the support.
    support_text : str
    mu_valid : callable
        Which means are in range (NumPy).
    mustart : callable
        ``mustart(y, m)``: starting means, as R's ``family$initialize``.
    dispersion : bool
        Whether :math:`\\phi` is estimated (Pearson) rather than 1.
    """

    name: str
    canonical: str
    links: tuple
    loglik: Callable
    variance: Callable
    unit_deviance: Callable
    support: Callable
    support_text: str
    mu_valid: Callable
    mustart: Callable
    dispersion: bool = False

    @property
    def has_alpha(self) -> bool:
        """Whether the family has the NB2 dispersion parameter ``alpha``."""
        return self.name == "negative.binomial"

    @property
    def sample(self) -> Callable | None:
        """``sample(key, mu, m, phi, alpha)``: one response per row (JAX), on
        the scale of :attr:`loglik` (the binomial proportion); None if the
        family has no sampler."""
        return RESPONSE.get(self.name, (None, None))[0]

    @property
    def cdf(self) -> Callable | None:
        """``cdf(y, mu, m, phi, alpha)``: ``(P(Y < y), P(Y <= y))`` per row
        (JAX; equal for continuous families); None if not available."""
        return RESPONSE.get(self.name, (None, None))[1]


def _xlogy_ratio(y, mu):
    """y log(y / mu), 0 where y == 0 (NumPy)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)


def _safe_times(k, logp):
    # k log p with 0 where k == 0 (even if log p = -inf), under autodiff
    return jnp.where(k > 0, k * jnp.where(k > 0, logp, 0.0), 0.0)


def _times(k, logp, finite: bool):
    """``k log p``, guarded by :func:`_safe_times` unless ``log p`` is finite
    at every finite linear predictor (``finite``: ``Link.finite_log`` or
    ``Link.finite_log1m``). The guard's selects in every row cost XLA:CPU's
    fused loops their vectorization (see :func:`_ll_negbin`)."""
    return k * logp if finite else _safe_times(k, logp)


# ----- log-densities (JAX) ----------------------------------------------------------
# Natural-parameter form m (y eta - b(eta)) of the canonical (family, link)
# pairs without a dispersion, less the parameter-free terms (``CONST_TERMS``):
# one transcendental per row, and the mean is always in range.
CANONICAL_KERNELS = {
    ("binomial", "logit"): lambda y, eta, m: m * (y * eta - jnp.logaddexp(0.0, eta)),
    ("poisson", "log"): lambda y, eta, m: y * eta - jnp.exp(eta),
}


def _ll_gaussian(y, eta, mu, link, m, phi, alpha):
    return st.norm.logpdf(y, mu, jnp.sqrt(phi))


def _lchoose(y, m):
    k = m * y
    return jsp.gammaln(m + 1.0) - jsp.gammaln(k + 1.0) - jsp.gammaln(m - k + 1.0)


def _neg_lfact(y, m):
    return -jsp.gammaln(y + 1.0)


# Parameter-free terms of the log-densities (log binomial coefficients,
# -log y!): computed once per data set and passed in as ``const``, so the
# optimizer's loop does not re-evaluate gammaln on every row at every step.
CONST_TERMS = {
    "binomial": _lchoose,
    "poisson": _neg_lfact,
    "negative.binomial": _neg_lfact,
}

# Largest integer for which :func:`const_terms` reads log k! from a table
# (building it costs about as much per entry as a log-gamma per row, so it is
# also used only when the largest count is small beside the number of rows).
LFACT_TABLE_MAX = 1 << 16


def _log_factorials(k: int) -> np.ndarray:
    """``log(j!)`` for ``j = 0..k``: cumulative sums of ``log j`` in blocks of
    256 rows, each block started from ``math.lgamma``, so rounding does not
    accumulate along the table (tested against ``scipy.special.gammaln``)."""
    j = np.arange(-(-(k + 1) // 256) * 256, dtype=np.float64).reshape(-1, 256)
    logs = np.log(np.maximum(j, 1.0))
    logs[:, 0] = 0.0  # each block's first log j! is its start value
    start = np.array([math.lgamma(r + 1.0) for r in j[:, 0]])
    return (np.cumsum(logs, axis=1) + start[:, None]).reshape(-1)[: k + 1]


def const_terms(name: str, y, m, counts: bool = False):
    """The family's parameter-free terms per row (``CONST_TERMS``), on the host.

    Integer counts (binomial: successes ``m * y`` within 1e-9 of an integer,
    the rounding of a proportion) up to ``LFACT_TABLE_MAX`` read ``log k!``
    from a table (N = 1e5 counts: 0.5 ms instead of 3 ms for a log-gamma per
    row); anything else is evaluated with ``gammaln`` as in the log-density.
    ``counts=True``: ``y`` is already known to hold non-negative integers
    (Poisson and NB2 responses after their support check), so they are not
    checked again.
    """
    y, m = np.asarray(y, np.float64), np.asarray(m, np.float64)
    if counts and name != "binomial" and y.size:
        top = float(y.max())
        if top <= min(LFACT_TABLE_MAX, max(256, y.size // 4)):
            return -_log_factorials(int(top))[y.astype(np.int64)]
    k = m * y if name == "binomial" else y
    ki = np.round(k)
    top = np.max(m if name == "binomial" else y, initial=0.0)
    if (
        y.size
        and 0 <= np.min(ki) and top <= min(LFACT_TABLE_MAX, max(256, y.size // 4))
        and np.all(np.abs(k - ki) <= 1e-9 * np.maximum(1.0, ki))
        and (name != "binomial" or np.all(np.floor(m) == m))
    ):  # fmt: skip
        lf = _log_factorials(int(top))
        if name == "binomial":
            ki, mi = ki.astype(np.int64), m.astype(np.int64)
            return lf[mi] - lf[ki] - lf[mi - ki]
        return -lf[ki.astype(np.int64)]
    with x64_scope():
        return np.asarray(jax.jit(CONST_TERMS[name])(jnp.asarray(y), jnp.asarray(m)))


def _ll_binomial(y, eta, mu, link, m, phi, alpha, const=None):
    k = m * y
    lchoose = _lchoose(y, m) if const is None else const
    return (
        lchoose
        + _times(k, link.log_mu(eta), link.finite_log)
        + _times(m - k, link.log1m_mu(eta), link.finite_log1m)
    )


def _ll_poisson(y, eta, mu, link, m, phi, alpha, const=None):
    c = _neg_lfact(y, m) if const is None else const
    return _times(y, link.log_mu(eta), link.finite_log) - mu + c


def _ll_gamma(y, eta, mu, link, m, phi, alpha):
    return st.gamma.logpdf(y, 1.0 / phi, scale=mu * phi)


def _ll_inverse_gaussian(y, eta, mu, link, m, phi, alpha):
    return -0.5 * (_LOG_2PI + jnp.log(phi) + 3.0 * jnp.log(y)) - (y - mu) ** 2 / (
        2.0 * phi * y * mu**2
    )


# Largest count for which NB2 evaluates log Gamma(y + r) - log Gamma(r) from a
# table (see ``lgamma_ratio``); above it, two gammaln calls per row.
NB_TABLE_MAX = 50_000


def count_table(y, nobs: int):
    """Data fields for :func:`lgamma_ratio`: integer counts and the grid ``0..K-1``.

    Returns ``{}`` (use ``gammaln``) when the largest count ``K`` exceeds
    ``NB_TABLE_MAX`` or the number of rows (the table would cost more than it
    saves). The grid has shape ``(1, K)`` so that it is never mistaken for a
    per-observation field.
    """
    k = int(np.max(y)) if np.size(y) else 0
    if k > NB_TABLE_MAX or k > max(nobs, 64):
        return {}
    return {
        "yi": checked_view(np.asarray(y).astype(np.int32)),  # counts <= NB_TABLE_MAX
        "grid": np.arange(max(k, 1), dtype=np.float64)[None, :],
    }


def lgamma_ratio(r, yi, grid):
    r""":math:`\log\Gamma(y_i + r) - \log\Gamma(r) = \sum_{j<y_i} \log(r + j)` for integer counts.

    The cumulative sums over ``j = 0..K-1`` form a table of ``K`` values,
    gathered at each row's count: ``K`` logarithms per evaluation instead of
    two log-gamma functions (and, under autodiff, digamma and trigamma) per
    row. Exact for integer ``y_i`` (the identity
    :math:`\Gamma(y + r) = \Gamma(r)\prod_{j<y}(r + j)`), and more accurate
    than the difference of two large log-gammas when :math:`r` is large
    (:math:`\alpha \to 0`).

    Row ``i`` reads entry ``y_i - 1`` of the inclusive cumulative sum and
    zeros ``y_i = 0`` with a select, rather than reading entry ``y_i`` of the
    sum with a zero concatenated in front: XLA:CPU fuses the table into the
    per-row loop, and a concatenation there compiles to a branch per row that
    keeps the loop's logarithms and exponentials from being vectorized (NB2,
    N = 1e5, one core: 2.1 ms against 1.4 ms for a log-likelihood value).
    """
    table = jnp.cumsum(jnp.log(r + grid[0]))
    return jnp.where(yi > 0, table[jnp.maximum(yi - 1, 0)], 0.0)


def _ll_negbin(y, eta, mu, link, m, phi, alpha, const=None, table=None):
    """NB2 log-likelihood per row, as
    :math:`\\log\\Gamma(y + s) - \\log\\Gamma(s) - \\log y! + s \\log s
    - (y + s) \\log(s + \\mu) + y \\log\\mu` with :math:`s = 1/\\alpha`.

    For the log link :math:`y \\log\\mu = y\\eta` needs no guard (the
    linear predictor is finite); other links guard :math:`0 \\log 0`. Written
    this way (one product with :math:`\\log(s + \\mu)`, no select), XLA:CPU
    evaluates the NB2 benchmark's model (N = 1e5, one core) 8-13% faster than
    as :math:`s(\\log s - \\log(s + \\mu)) + y(\\log\\mu - \\log(s + \\mu))` with a
    guarded product (three Hessians, a gradient and two values, measured
    interleaved in one process); the rounding is the same (the difference of
    the two large terms in :math:`s` when :math:`\\alpha \\to 0`).
    """
    size = 1.0 / alpha
    log_size_mu = jnp.log(size + mu)
    c = _neg_lfact(y, m) if const is None else const
    lg = (
        jsp.gammaln(y + size) - jsp.gammaln(size)
        if table is None
        else lgamma_ratio(size, *table)
    )
    y_log_mu = _times(y, link.log_mu(eta), link.finite_log)
    return lg + c + size * jnp.log(size) - (y + size) * log_size_mu + y_log_mu


# ----- response distributions (JAX): samplers and CDFs beside the log-densities --------
# ``sample(key, mu, m, phi, alpha)`` draws one response per row on the scale of
# the log-density (the binomial proportion k / m); ``cdf(y, mu, m, phi, alpha)``
# returns (F(y-), F(y)): P(Y < y) and P(Y <= y), equal for continuous families.
def _rs_gaussian(key, mu, m, phi, alpha):
    return mu + jnp.sqrt(phi) * jax.random.normal(key, jnp.shape(mu))


def _cdf_gaussian(y, mu, m, phi, alpha):
    f = jsp.ndtr((y - mu) / jnp.sqrt(phi))
    return f, f


def _rs_binomial(key, mu, m, phi, alpha):
    m = jnp.broadcast_to(jnp.asarray(m, jnp.result_type(float)), jnp.shape(mu))
    k = jax.random.binomial(key, m, mu, shape=jnp.shape(mu))
    return jnp.where(m > 0, k / jnp.where(m > 0, m, 1.0), 0.0)


def _binom_cdf(k, m, mu):
    # P(K <= k) = I_{1-mu}(m - k, k + 1) for 0 <= k < m
    inner = jsp.betainc(jnp.maximum(m - k, 1e-300), k + 1.0, 1.0 - mu)
    return jnp.where(k < 0, 0.0, jnp.where(k >= m, 1.0, inner))


def _cdf_binomial(y, mu, m, phi, alpha):
    m = jnp.broadcast_to(jnp.asarray(m, jnp.result_type(float)), jnp.shape(y))
    k = jnp.round(m * y)
    return _binom_cdf(k - 1.0, m, mu), _binom_cdf(k, m, mu)


def _rs_poisson(key, mu, m, phi, alpha):
    return jax.random.poisson(key, mu, jnp.shape(mu)).astype(jnp.result_type(float))


def _pois_cdf(k, mu):
    return jnp.where(k < 0, 0.0, jsp.gammaincc(jnp.maximum(k, 0.0) + 1.0, mu))


def _cdf_poisson(y, mu, m, phi, alpha):
    return _pois_cdf(y - 1.0, mu), _pois_cdf(y, mu)


def _rs_gamma(key, mu, m, phi, alpha):
    return jax.random.gamma(key, 1.0 / phi, jnp.shape(mu)) * mu * phi


def _cdf_gamma(y, mu, m, phi, alpha):
    f = jsp.gammainc(1.0 / phi, y / (mu * phi))
    return f, f


def _rs_inverse_gaussian(key, mu, m, phi, alpha):
    # Michael, Schucany & Haas (1976), with lambda = 1 / phi
    k1, k2 = jax.random.split(key)
    lam = 1.0 / phi
    v = jax.random.normal(k1, jnp.shape(mu)) ** 2
    x = mu + mu**2 * v / (2.0 * lam) - mu / (2.0 * lam) * jnp.sqrt(
        4.0 * mu * lam * v + (mu * v) ** 2
    )
    u = jax.random.uniform(k2, jnp.shape(mu))
    return jnp.where(u <= mu / (mu + x), x, mu**2 / x)


def _cdf_inverse_gaussian(y, mu, m, phi, alpha):
    r = jnp.sqrt(1.0 / (phi * y))
    f = jsp.ndtr(r * (y / mu - 1.0)) + jnp.exp(
        2.0 / (phi * mu) + jsp.log_ndtr(-r * (y / mu + 1.0))
    )
    return f, f


def _rs_negbin(key, mu, m, phi, alpha):
    # NB2 as the Poisson-gamma mixture: rate ~ Gamma(shape 1/alpha, scale alpha mu)
    k1, k2 = jax.random.split(key)
    rate = jax.random.gamma(k1, 1.0 / alpha, jnp.shape(mu)) * alpha * mu
    return _rs_poisson(k2, rate, m, phi, alpha)


def _nb_cdf(k, mu, alpha):
    size = 1.0 / alpha
    inner = jsp.betainc(size, jnp.maximum(k, 0.0) + 1.0, size / (size + mu))
    return jnp.where(k < 0, 0.0, inner)


def _cdf_negbin(y, mu, m, phi, alpha):
    return _nb_cdf(y - 1.0, mu, alpha), _nb_cdf(y, mu, alpha)


# (sampler, cdf) by family name; ``Family.sample`` and ``Family.cdf`` read it.
RESPONSE = {
    "gaussian": (_rs_gaussian, _cdf_gaussian),
    "binomial": (_rs_binomial, _cdf_binomial),
    "poisson": (_rs_poisson, _cdf_poisson),
    "Gamma": (_rs_gamma, _cdf_gamma),
    "inverse.gaussian": (_rs_inverse_gaussian, _cdf_inverse_gaussian),
    "negative.binomial": (_rs_negbin, _cdf_negbin),
}


# ----- unit deviances (NumPy) --------------------------------------------------------
def _dev_binomial(y, mu, alpha):
    return 2.0 * (_xlogy_ratio(y, mu) + _xlogy_ratio(1.0 - y, 1.0 - mu))


def _dev_poisson(y, mu, alpha):
    return 2.0 * (_xlogy_ratio(y, mu) - (y - mu))


def _dev_gamma(y, mu, alpha):
    return 2.0 * (-np.log(y / mu) + (y - mu) / mu)


def _dev_negbin(y, mu, alpha):
    s = 1.0 / alpha
    return 2.0 * (_xlogy_ratio(y, mu) - (y + s) * np.log((y + s) / (mu + s)))


def _counts(y):
    return (y >= 0) & (y == np.round(y))


def _pos(mu):
    return mu > 0


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in [
        Family("gaussian", "identity", ("identity", "log", "inverse"), _ll_gaussian,
               lambda mu, a: jnp.ones_like(mu), lambda y, mu, a: (y - mu) ** 2,
               lambda y: np.isfinite(y), "real numbers", jnp.isfinite,
               lambda y, m: y, dispersion=True),
        Family("binomial", "logit", ("logit", "probit", "cloglog", "log"),
               _ll_binomial, lambda mu, a: mu * (1.0 - mu), _dev_binomial,
               lambda y: (y >= 0) & (y <= 1), "0/1 or successes 0..trials",
               lambda mu: (mu > 0) & (mu < 1), lambda y, m: (m * y + 0.5) / (m + 1.0)),
        Family("poisson", "log", ("log", "identity", "sqrt"), _ll_poisson,
               lambda mu, a: mu, _dev_poisson, _counts, "counts 0, 1, 2, ...", _pos,
               lambda y, m: y + 0.1),
        Family("Gamma", "inverse", ("inverse", "log", "identity"), _ll_gamma,
               lambda mu, a: mu**2, _dev_gamma, lambda y: y > 0, "y > 0", _pos,
               lambda y, m: y, dispersion=True),
        Family("inverse.gaussian", "1/mu^2", ("1/mu^2", "log", "inverse", "identity"),
               _ll_inverse_gaussian, lambda mu, a: mu**3,
               lambda y, mu, a: (y - mu) ** 2 / (y * mu**2), lambda y: y > 0, "y > 0",
               _pos, lambda y, m: y, dispersion=True),
        Family("negative.binomial", "log", ("log", "identity", "sqrt"), _ll_negbin,
               lambda mu, a: mu + a * mu**2, _dev_negbin, _counts,
               "counts 0, 1, 2, ...", _pos, lambda y, m: y + 0.1),
    ]
}  # fmt: skip

_ALIASES = {
    "normal": "gaussian", "gamma": "Gamma", "inverse_gaussian": "inverse.gaussian",
    "inverse-gaussian": "inverse.gaussian", "negative_binomial": "negative.binomial",
    "negbin": "negative.binomial", "nb2": "negative.binomial",
}  # fmt: skip


def get_family(family) -> Family:
    """The :class:`Family` for a name (R's or an alias) or a Family object.

    Raises
    ------
    ValueError
        An unknown name (the message lists the families and aliases).

    Examples
    --------
    >>> from likelihax.models.glm import get_family
    >>> fam = get_family("nb2")
    >>> fam.name, fam.canonical, fam.dispersion
    ('negative.binomial', 'log', False)
    """
    if isinstance(family, Family):
        return family
    if not isinstance(family, str):
        raise TypeError(f"family must be a name (str); got {type(family).__name__}.")
    name = _ALIASES.get(family.lower(), family)
    name = {"gamma": "Gamma"}.get(name, name)
    if name not in FAMILIES:
        raise ValueError(
            f"Unknown family {family!r}. Families: {', '.join(FAMILIES)} (aliases: "
            f"{', '.join(_ALIASES)})."
        )
    return FAMILIES[name]
