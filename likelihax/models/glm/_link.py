r"""Link functions of generalized linear models.

A :class:`Link` is three functions: the link :math:`\eta = g(\mu)`, its inverse
:math:`\mu = g^{-1}(\eta)` and the derivative :math:`d\mu/d\eta` as a function
of :math:`\eta`. Links for probabilities also give :math:`\log\mu` and
:math:`\log(1-\mu)` in terms of :math:`\eta` directly, which keeps the
binomial log-likelihood finite and smooth far into the tails. No link inherits
from another.

This is the package's one table of links: :func:`~likelihax.models.glm.glm`,
:func:`~likelihax.models.random_effects.mixed` and the cumulative links of
:func:`~likelihax.models.ordinal.ordinal` (where the inverse link is the
distribution function :math:`F`, ``log_mu``/``log1m_mu`` its log and log
survival, ``deriv`` its density and ``link`` its quantile) all read it.

All functions take and return JAX arrays; they are used under ``jit``.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import jax.scipy.stats as st

from .._special import log1mexp as _log1mexp

__all__ = ["LINKS", "Link"]


@dataclasses.dataclass(frozen=True)
class Link:
    r"""A GLM link: ``link(mu)``, ``inverse(eta)``, ``deriv(eta)`` = dmu/deta.

    Attributes
    ----------
    name : str
        As in R's ``make.link`` (``"logit"``, ``"1/mu^2"``, ...).
    link, inverse, deriv : callable
    log_inverse, log1m_inverse : callable or None
        :math:`\log\mu(\eta)` and :math:`\log(1-\mu(\eta))` where a stable form
        exists (probability links).
    eta_valid : callable
        Which :math:`\eta` give a :math:`\mu` in the link's range (e.g. > 0 for
        ``inverse``); the family adds its own range of :math:`\mu`.
    finite_log, finite_log1m : bool
        Whether ``log_mu`` / ``log1m_mu`` are finite at every finite
        :math:`\eta` (log: :math:`\log\mu = \eta`; logit: both), so that
        :math:`k \log\mu` needs no guard against :math:`0 \cdot (-\infty)`.
    """

    name: str
    link: Callable
    inverse: Callable
    deriv: Callable
    log_inverse: Callable | None = None
    log1m_inverse: Callable | None = None
    eta_valid: Callable = lambda eta: jnp.isfinite(eta)
    finite_log: bool = False
    finite_log1m: bool = False

    def log_mu(self, eta):
        """:math:`\\log\\mu(\\eta)`, stable where the link provides it."""
        if self.log_inverse is not None:
            return self.log_inverse(eta)
        return jnp.log(self.inverse(eta))

    def log1m_mu(self, eta):
        """:math:`\\log(1 - \\mu(\\eta))`, stable where the link provides it."""
        if self.log1m_inverse is not None:
            return self.log1m_inverse(eta)
        return jnp.log1p(-self.inverse(eta))


def _positive(eta):
    return eta > 0


LINKS: dict[str, Link] = {
    link.name: link
    for link in [
        Link("identity", lambda mu: mu, lambda eta: eta, jnp.ones_like),
        Link("log", jnp.log, jnp.exp, jnp.exp, log_inverse=lambda eta: eta,
             log1m_inverse=_log1mexp,  # NaN for eta >= 0 (mu >= 1)
             finite_log=True),
        Link("logit", jsp.logit, jax.nn.sigmoid,
             lambda eta: jax.nn.sigmoid(eta) * jax.nn.sigmoid(-eta),
             log_inverse=jax.nn.log_sigmoid,
             log1m_inverse=lambda eta: jax.nn.log_sigmoid(-eta),
             finite_log=True, finite_log1m=True),
        Link("probit", jsp.ndtri, jsp.ndtr, st.norm.pdf,
             log_inverse=st.norm.logcdf,
             log1m_inverse=lambda eta: st.norm.logcdf(-eta)),
        Link("cloglog", lambda mu: jnp.log(-jnp.log1p(-mu)),
             lambda eta: -jnp.expm1(-jnp.exp(eta)),
             lambda eta: jnp.exp(eta - jnp.exp(eta)),
             log_inverse=lambda eta: _log1mexp(-jnp.exp(eta)),
             log1m_inverse=lambda eta: -jnp.exp(eta)),
        Link("inverse", lambda mu: 1.0 / mu, lambda eta: 1.0 / eta,
             lambda eta: -1.0 / eta**2, eta_valid=_positive),
        Link("1/mu^2", lambda mu: 1.0 / mu**2, lambda eta: 1.0 / jnp.sqrt(eta),
             lambda eta: -0.5 * eta**-1.5, eta_valid=_positive),
        Link("sqrt", jnp.sqrt, lambda eta: eta**2, lambda eta: 2.0 * eta,
             eta_valid=_positive),
    ]
}  # fmt: skip
LINKS["inverse_squared"] = LINKS["1/mu^2"]
