r"""Prior distributions for :func:`likelihax.fit_map`, :func:`likelihax.nuts`.

Each prior is an immutable record of its hyperparameters with a
``log_prob(x)`` method: the log density on the **natural scale** of the
parameter, elementwise, computed with :mod:`jax.scipy.stats` (normalized, so
log posteriors of different priors are comparable). Hyperparameters may be
scalars or arrays that broadcast to the parameter's shape (independent priors
per element).

Each prior also names its ``support``, a :mod:`likelihax.constraints`
constraint: a parameter given a prior on :math:`(0, \infty)` (``HalfNormal``,
``Gamma``, ...) is estimated on the log scale unless another compatible
constraint is given.

=================  ==========================================  =====================
prior              density                                     support
=================  ==========================================  =====================
``Normal``         :math:`N(\mu, \sigma^2)`                    real
``StudentT``       Student t, ``df`` degrees, location/scale   real
``Cauchy``         Cauchy(location, scale)                     real
``Flat``           1 (improper)                                real
``HalfNormal``     :math:`2\,N(x; 0, \sigma^2)`                positive
``HalfCauchy``     :math:`2\,\mathrm{Cauchy}(x; 0, s)`         positive
``Exponential``    :math:`\lambda e^{-\lambda x}`              positive
``Gamma``          shape :math:`a`, rate :math:`b`             positive
``InverseGamma``   shape :math:`a`, scale :math:`b`            positive
``LogNormal``      :math:`\log x \sim N(\mu, \sigma^2)`        positive
``Beta``           :math:`x^{a-1}(1-x)^{b-1}/B(a, b)`          unit_interval
``Uniform``        :math:`1/(h - l)` on :math:`(l, h)`         interval(l, h)
=================  ==========================================  =====================

Examples
--------
>>> import likelihax as lx
>>> p = lx.priors.Normal(0.0, 10.0)
>>> round(float(p.log_prob(0.0)), 6)  # -log(10 sqrt(2 pi))
-3.221524
>>> lx.priors.Beta(2, 3).support
unit_interval
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax.numpy as jnp
import jax.scipy.stats as jst
import numpy as np
from jax.scipy.special import gammaln

from ..parameters import constraints as C

__all__ = [
    "Beta",
    "Cauchy",
    "Exponential",
    "Flat",
    "Gamma",
    "HalfCauchy",
    "HalfNormal",
    "InverseGamma",
    "LogNormal",
    "Normal",
    "Prior",
    "StudentT",
    "Uniform",
]


def _hashable(name: str, v: Any, prior: str, positive: bool):
    """A float, or a nested tuple for an array (priors are hashable: the fit's
    compiled program is cached on them); checked finite (and > 0)."""
    a = np.asarray(v, dtype=float)
    if a.size == 0:
        raise ValueError(f"{prior}: `{name}` is empty.")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{prior}: `{name}` must be finite; got {v!r}.")
    if positive and not np.all(a > 0):
        raise ValueError(f"{prior}: `{name}` must be > 0; got {v!r}.")
    return float(a) if a.ndim == 0 else _nested(a)


def _nested(a: np.ndarray):
    return tuple(_nested(r) for r in a) if a.ndim > 1 else tuple(a.tolist())


def _b(v, x):
    """Hyperparameter ``v`` as an array of ``x``'s dtype broadcast to its shape."""
    return jnp.broadcast_to(jnp.asarray(v, x.dtype), x.shape)


def format_cell(v) -> str:
    return f"{v:g}" if isinstance(v, float) else "[...]"


@dataclasses.dataclass(frozen=True)
class Prior:
    """Abstract prior: ``log_prob`` (natural scale, elementwise) and ``support``."""

    _positive = ()  # names of hyperparameters that must be > 0

    def __post_init__(self):
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            object.__setattr__(
                self,
                f.name,
                _hashable(f.name, v, type(self).__name__, f.name in self._positive),
            )

    #: The constraint matching the support of the prior (a class attribute,
    #: or a property where it depends on the hyperparameters).
    support = C.real

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Broadcast shape of the hyperparameters (``()`` for scalars)."""
        return np.broadcast_shapes(
            *(np.shape(getattr(self, f.name)) for f in dataclasses.fields(self)), ()
        )

    def log_prob(self, x):
        """Elementwise log density at ``x`` (natural scale); -inf outside the support."""
        x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(jnp.result_type(float))
        return self._log_prob(x)

    def _log_prob(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(format_cell(getattr(self, f.name)) for f in dataclasses.fields(self))
        return f"{type(self).__name__}({args})"


def _positive_part(x, logp):
    return jnp.where(x > 0, logp, -jnp.inf)


@dataclasses.dataclass(frozen=True, repr=False)
class _LocationScale(Prior):
    """A symmetric density of :mod:`jax.scipy.stats` with ``loc`` and ``scale``;
    a subclass names it as ``_logpdf(x, loc, scale)``."""

    loc: Any = 0.0
    scale: Any = 1.0
    _positive = ("scale",)

    def _log_prob(self, x):
        return self._logpdf(x, _b(self.loc, x), _b(self.scale, x))


@dataclasses.dataclass(frozen=True, repr=False)
class _Half(Prior):
    """A ``_LocationScale`` density folded onto x > 0 (twice it at loc 0)."""

    scale: Any = 1.0
    _positive = ("scale",)
    support = C.positive

    def _log_prob(self, x):
        logp = self._logpdf(x, jnp.zeros_like(x), _b(self.scale, x))
        return _positive_part(x, math.log(2.0) + logp)


@dataclasses.dataclass(frozen=True, repr=False)
class Normal(_LocationScale):
    """Normal prior with mean ``loc`` and standard deviation ``scale``."""

    _logpdf = staticmethod(jst.norm.logpdf)


@dataclasses.dataclass(frozen=True, repr=False)
class HalfNormal(_Half):
    """Half-normal prior on :math:`x > 0`: :math:`2\\,N(x; 0, \\mathrm{scale}^2)`."""

    _logpdf = staticmethod(jst.norm.logpdf)


@dataclasses.dataclass(frozen=True, repr=False)
class Exponential(Prior):
    """Exponential prior with ``rate`` :math:`\\lambda` (mean :math:`1/\\lambda`)."""

    rate: Any = 1.0
    _positive = ("rate",)
    support = C.positive

    def _log_prob(self, x):
        lam = _b(self.rate, x)
        return _positive_part(x, jnp.log(lam) - lam * x)


@dataclasses.dataclass(frozen=True, repr=False)
class Gamma(Prior):
    """Gamma prior with ``shape`` :math:`a` and ``rate`` :math:`b` (mean :math:`a/b`)."""

    shape: Any = 1.0
    rate: Any = 1.0
    _positive = ("shape", "rate")
    support = C.positive

    def _log_prob(self, x):
        b = _b(self.rate, x)
        return _positive_part(
            x, jst.gamma.logpdf(x * b, _b(self.shape, x)) + jnp.log(b)
        )


@dataclasses.dataclass(frozen=True, repr=False)
class InverseGamma(Prior):
    """Inverse-gamma prior: :math:`1/x \\sim` Gamma(``shape``, rate = ``scale``)."""

    shape: Any = 1.0
    scale: Any = 1.0
    _positive = ("shape", "scale")
    support = C.positive

    def _log_prob(self, x):
        a, b = _b(self.shape, x), _b(self.scale, x)
        xs = jnp.where(x > 0, x, 1.0)
        logp = a * jnp.log(b) - gammaln(a) - (a + 1) * jnp.log(xs) - b / xs
        return _positive_part(x, logp)


@dataclasses.dataclass(frozen=True, repr=False)
class Beta(Prior):
    """Beta(:math:`a`, :math:`b`) prior on :math:`(0, 1)`."""

    a: Any = 1.0
    b: Any = 1.0
    _positive = ("a", "b")
    support = C.unit_interval

    def _log_prob(self, x):
        inside = (x > 0) & (x < 1)
        return jnp.where(
            inside, jst.beta.logpdf(x, _b(self.a, x), _b(self.b, x)), -jnp.inf
        )


@dataclasses.dataclass(frozen=True, repr=False)
class LogNormal(Prior):
    """Log-normal prior: :math:`\\log x \\sim N(\\mu, \\sigma^2)`."""

    mu: Any = 0.0
    sigma: Any = 1.0
    _positive = ("sigma",)
    support = C.positive

    def _log_prob(self, x):
        lx = jnp.log(jnp.where(x > 0, x, 1.0))
        return _positive_part(
            x, jst.norm.logpdf(lx, _b(self.mu, x), _b(self.sigma, x)) - lx
        )


@dataclasses.dataclass(frozen=True, repr=False)
class StudentT(Prior):
    """Student-t prior with ``df`` degrees of freedom, ``loc`` and ``scale``."""

    df: Any = 3.0
    loc: Any = 0.0
    scale: Any = 1.0
    _positive = ("df", "scale")

    def _log_prob(self, x):
        return jst.t.logpdf(x, _b(self.df, x), _b(self.loc, x), _b(self.scale, x))


@dataclasses.dataclass(frozen=True, repr=False)
class Cauchy(_LocationScale):
    """Cauchy prior with ``loc`` and ``scale``."""

    _logpdf = staticmethod(jst.cauchy.logpdf)


@dataclasses.dataclass(frozen=True, repr=False)
class HalfCauchy(_Half):
    """Half-Cauchy prior on :math:`x > 0` with ``scale``."""

    _logpdf = staticmethod(jst.cauchy.logpdf)


@dataclasses.dataclass(frozen=True, repr=False)
class Uniform(Prior):
    """Uniform prior on :math:`(\\mathrm{low}, \\mathrm{high})` (scalar bounds)."""

    low: Any = 0.0
    high: Any = 1.0

    def __post_init__(self):
        super().__post_init__()
        if not (isinstance(self.low, float) and isinstance(self.high, float)):
            raise TypeError("Uniform: `low` and `high` must be scalars.")
        if not self.low < self.high:
            raise ValueError(
                f"Uniform: needs low < high; got low={self.low}, high={self.high}."
            )

    @property
    def support(self):
        return C.interval(self.low, self.high)

    def _log_prob(self, x):
        inside = (x > self.low) & (x < self.high)
        return jnp.where(inside, -math.log(self.high - self.low), -jnp.inf) + 0.0 * x


@dataclasses.dataclass(frozen=True, repr=False)
class Flat(Prior):
    """Improper flat prior (log density 0): the MAP is then the MLE."""

    def _log_prob(self, x):
        return jnp.zeros_like(x)
