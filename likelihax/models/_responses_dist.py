r"""Response distributions of univariate distribution fits (:func:`likelihax.fit_distribution`).

Each family of :data:`likelihax.models.FAMILIES` draws by its standard
construction (inverse CDF where it is explicit) and has its CDF in closed form;
the parametrizations are those of the family's log-density
(:mod:`likelihax.models._densities`). Censored fits are not simulated (the
censoring mechanism is not part of the model).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from ..results import Response, register_response
from .glm import get_family

__all__: list[str] = []

_POIS, _NB, _BIN = get_family("poisson"), get_family("nb2"), get_family("binomial")


def _same(f):
    return f, f


def _t_cdf(x, df):
    # P(T <= t) from the regularized incomplete beta function
    tail = 0.5 * jsp.betainc(0.5 * df, 0.5, df / (df + x * x))
    return jnp.where(x > 0, 1.0 - tail, tail)


# name -> (sample(key, p, shape, d), cdf(p, y, d) -> (F(y-), F(y)), mean(p, d))
_LAWS = {
    "normal": (lambda k, p, s, d: p["mu"] + p["sigma"] * jax.random.normal(k, s),
               lambda p, y, d: _same(jsp.ndtr((y - p["mu"]) / p["sigma"]))),
    "lognormal": (lambda k, p, s, d: jnp.exp(p["mu"] + p["sigma"] * jax.random.normal(k, s)),
                  lambda p, y, d: _same(jsp.ndtr((jnp.log(y) - p["mu"]) / p["sigma"]))),
    "exponential": (lambda k, p, s, d: jax.random.exponential(k, s) / p["rate"],
                    lambda p, y, d: _same(-jnp.expm1(-p["rate"] * y))),
    "gamma": (lambda k, p, s, d: jax.random.gamma(k, p["shape"], s) / p["rate"],
              lambda p, y, d: _same(jsp.gammainc(p["shape"], p["rate"] * y))),
    "weibull": (lambda k, p, s, d: p["scale"] * jax.random.exponential(k, s) ** (1 / p["shape"]),
                lambda p, y, d: _same(-jnp.expm1(-((y / p["scale"]) ** p["shape"])))),
    "beta": (lambda k, p, s, d: jax.random.beta(k, p["a"], p["b"], s),
             lambda p, y, d: _same(jsp.betainc(p["a"], p["b"], y))),
    "student_t": (lambda k, p, s, d: p["loc"] + p["scale"] * jax.random.t(k, p["df"], s),
                  lambda p, y, d: _same(_t_cdf((y - p["loc"]) / p["scale"], p["df"]))),
    "logistic": (lambda k, p, s, d: p["loc"] + p["scale"] * jax.random.logistic(k, s),
                 lambda p, y, d: _same(jax.nn.sigmoid((y - p["loc"]) / p["scale"]))),
    "gumbel": (lambda k, p, s, d: p["loc"] + p["scale"] * jax.random.gumbel(k, s),
               lambda p, y, d: _same(jnp.exp(-jnp.exp(-(y - p["loc"]) / p["scale"])))),
    "pareto": (lambda k, p, s, d: p["scale"] * jnp.exp(jax.random.exponential(k, s) / p["shape"]),
               lambda p, y, d: _same(-jnp.expm1(p["shape"] * jnp.log(p["scale"] / y)))),
    "poisson": (lambda k, p, s, d: _POIS.sample(k, jnp.full(s, p["rate"]), 1.0, 1.0, 1.0),
                lambda p, y, d: _POIS.cdf(y, p["rate"], 1.0, 1.0, 1.0)),
    "negbin": (lambda k, p, s, d: _NB.sample(k, jnp.full(s, p["mu"]), 1.0, 1.0, 1 / p["size"]),
               lambda p, y, d: _NB.cdf(y, p["mu"], 1.0, 1.0, 1 / p["size"])),
    "binomial": (lambda k, p, s, d: d["trials"] * _BIN.sample(k, jnp.full(s, p["prob"]),
                                                              d["trials"], 1.0, 1.0),
                 lambda p, y, d: _BIN.cdf(y / d["trials"], p["prob"], d["trials"], 1.0, 1.0)),
    "geometric": (lambda k, p, s, d: jnp.floor(jax.random.exponential(k, s)
                                               / -jnp.log1p(-p["prob"])),
                  lambda p, y, d: (-jnp.expm1(y * jnp.log1p(-p["prob"])),
                                   -jnp.expm1((y + 1.0) * jnp.log1p(-p["prob"])))),
}  # fmt: skip


def _zip_sample(k, p, s, d):
    k1, k2 = jax.random.split(k)
    y = _POIS.sample(k2, jnp.full(s, p["rate"]), 1.0, 1.0, 1.0)
    return jnp.where(jax.random.uniform(k1, s) < p["pi"], 0.0, y)


def _zip_cdf(p, y, d):
    lo, hi = _POIS.cdf(y, p["rate"], 1.0, 1.0, 1.0)
    return p["pi"] + (1 - p["pi"]) * lo * (y > 0), p["pi"] + (1 - p["pi"]) * hi


_LAWS["zip"] = (_zip_sample, _zip_cdf)


def _distribution(r, newdata, conditional):
    info = r.model_info
    if "censored" in info.flags:
        raise ValueError(
            "A censored distribution fit is not simulated: its censoring is not part "
            "of the model. Refit the exact sample, or pass sampler=."
        )
    law = _LAWS.get(info.family)
    if law is None:
        raise ValueError(f"No sampler for the {info.family!r} distribution: pass sampler=.")
    sample_law, cdf_law = law
    d = r.setup.data
    x = np.asarray(d["x"], dtype=np.float64)
    params = {k: jnp.asarray(np.asarray(v, np.float64)) for k, v in r.params.items()}
    data = {"trials": jnp.asarray(np.asarray(d["trials"], np.float64))} if "trials" in d else {}
    shape = x.shape

    def sample(key, p, dd):
        return jnp.asarray(sample_law(key, p, shape, dd), jnp.float64)

    def cdf(p, dd, y):
        return cdf_law(p, y, dd)

    discrete = info.family in ("poisson", "negbin", "binomial", "geometric", "zip")
    return Response(sample, params, data, x, None, cdf, discrete)


register_response("distribution", _distribution, model_result=False)
