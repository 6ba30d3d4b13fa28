"""The log-densities of :mod:`likelihax.models.distributions`, their censored
forms (log CDF and log survival function), the method-of-moments estimators as
functions of raw moments, and the closed-form maximum-likelihood estimates."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import jax.scipy.stats as st
import numpy as np

from . import _special


# ----- log-densities (module-level functions: one compiled program per family) -----
def normal(p, d):
    return st.norm.logpdf(d["x"], p["mu"], p["sigma"])


def lognormal(p, d):
    logx = jnp.log(d["x"])
    return st.norm.logpdf(logx, p["mu"], p["sigma"]) - logx


def exponential(p, d):
    return jnp.log(p["rate"]) - p["rate"] * d["x"]


def gamma(p, d):
    return st.gamma.logpdf(d["x"], p["shape"], scale=1.0 / p["rate"])


def weibull(p, d):
    k, lam = p["shape"], p["scale"]
    z = d["x"] / lam
    return jnp.log(k / lam) + (k - 1.0) * jnp.log(z) - z**k


def beta(p, d):
    # written out: jax.scipy.stats.beta.logpdf goes through jsp.betaln, which on
    # jax 0.10.2 is off by ~1e-6 (betaln(8, 2)); gammaln is accurate to 1e-15
    a, b, x = p["a"], p["b"], d["x"]
    log_b = jsp.gammaln(a) + jsp.gammaln(b) - jsp.gammaln(a + b)
    return (a - 1.0) * jnp.log(x) + (b - 1.0) * jnp.log1p(-x) - log_b


def student_t(p, d):
    return st.t.logpdf(d["x"], p["df"], p["loc"], p["scale"])


def logistic(p, d):
    return st.logistic.logpdf(d["x"], p["loc"], p["scale"])


def gumbel(p, d):
    # Written out: jax.scipy.stats.gumbel_r.logpdf is not twice differentiable
    # in its parameters on jax 0.10 (float0 tangent in the Hessian).
    z = (d["x"] - p["loc"]) / p["scale"]
    return -jnp.log(p["scale"]) - z - jnp.exp(-z)


def pareto(p, d):
    b, xm = p["shape"], p["scale"]
    return jnp.log(b) + b * jnp.log(xm) - (b + 1.0) * jnp.log(d["x"])


def poisson(p, d):
    return st.poisson.logpmf(d["x"], p["rate"])


def binomial(p, d):
    return st.binom.logpmf(d["x"], d["trials"], p["prob"])


def negbin(p, d):
    size, mu = p["size"], p["mu"]
    x = d["x"]
    return (
        jsp.gammaln(x + size)
        - jsp.gammaln(size)
        - jsp.gammaln(x + 1.0)
        + size * (jnp.log(size) - jnp.log(size + mu))
        + x * (jnp.log(mu) - jnp.log(size + mu))
    )


def geometric(p, d):
    return jnp.log(p["prob"]) + d["x"] * jnp.log1p(-p["prob"])


def zip_poisson(p, d):
    pi, lam, x = p["pi"], p["rate"], d["x"]
    zero = jnp.logaddexp(jnp.log(pi), jnp.log1p(-pi) - lam)
    positive = jnp.log1p(-pi) + st.poisson.logpmf(x, lam)
    return jnp.where(x == 0, zero, positive)


# ----- censored data: log CDF and log survival function -----------------------------
_log1mexp = _special.log1mexp


def _z(p, x):
    return (x - p["loc"]) / p["scale"]


# family -> (log F(x), log S(x)), each twice differentiable in the parameters.
# Gamma, beta and Student t go through the custom_jvp rules of ``_special``
# (JAX cannot differentiate the incomplete gamma/beta functions twice in
# their shapes).
_LOG_CDF_SF: dict[str, tuple[Callable, Callable]] = {
    "normal": (
        lambda p, x: st.norm.logcdf((x - p["mu"]) / p["sigma"]),
        lambda p, x: st.norm.logcdf((p["mu"] - x) / p["sigma"]),
    ),
    "lognormal": (
        lambda p, x: st.norm.logcdf((jnp.log(x) - p["mu"]) / p["sigma"]),
        lambda p, x: st.norm.logcdf((p["mu"] - jnp.log(x)) / p["sigma"]),
    ),
    "exponential": (
        lambda p, x: _log1mexp(-p["rate"] * x),
        lambda p, x: -p["rate"] * x,
    ),
    "weibull": (
        lambda p, x: _log1mexp(-((x / p["scale"]) ** p["shape"])),
        lambda p, x: -((x / p["scale"]) ** p["shape"]),
    ),
    "logistic": (
        lambda p, x: jax.nn.log_sigmoid(_z(p, x)),
        lambda p, x: jax.nn.log_sigmoid(-_z(p, x)),
    ),
    "gumbel": (
        lambda p, x: -jnp.exp(-_z(p, x)),
        lambda p, x: _log1mexp(-jnp.exp(-_z(p, x))),
    ),
    "gamma": (
        lambda p, x: _special.gamma_logcdf(x, p["shape"], p["rate"]),
        lambda p, x: _special.gamma_logsf(x, p["shape"], p["rate"]),
    ),
    "beta": (
        lambda p, x: _special.beta_logcdf(x, p["a"], p["b"]),
        lambda p, x: _special.beta_logsf(x, p["a"], p["b"]),
    ),
    "student_t": (
        lambda p, x: _special.t_logcdf(x, p["df"], p["loc"], p["scale"]),
        lambda p, x: _special.t_logsf(x, p["df"], p["loc"], p["scale"]),
    ),
}


def _make_censored(name: str, logpdf: Callable) -> Callable:
    log_cdf, log_sf = _LOG_CDF_SF[name]

    def loglik(p, d):
        # d["kind"]: 0 exact, 1 left-, 2 right-, 3 interval-censored. The bounds
        # are finite and inside the support in every row (open ends hold a
        # placeholder), so no masked branch yields NaN, which would still
        # poison gradients through jnp.where.
        lo, hi, kind = d["lo"], d["hi"], d["kind"]
        log_f_hi, log_f_lo = log_cdf(p, hi), log_cdf(p, lo)
        # log(F(hi) - F(lo)), with a constant in the rows that are not intervals
        gap = jnp.where(kind == 3, log_f_lo - log_f_hi, -1.0)
        between = log_f_hi + _log1mexp(gap)
        out = jnp.where(kind == 0, logpdf(p, {"x": lo}), between)
        out = jnp.where(kind == 1, log_f_hi, out)
        return jnp.where(kind == 2, log_sf(p, lo), out)

    loglik.__name__ = f"{name}_censored"
    return loglik


# ----- method of moments, as functions of raw moments r = (r1, r2, r3, r4) ---------
def _var(r):
    return r[1] - r[0] ** 2


def _weibull_shape(cv2):
    """Solve Gamma(1+2/k)/Gamma(1+1/k)^2 - 1 = cv2 for k (bisection, then Newton).

    The Newton steps at the root carry the exact implicit derivative dk/dcv2,
    so delta-method standard errors are right although bisection has none.
    """

    def F(k):
        return jnp.exp(jsp.gammaln(1 + 2 / k) - 2 * jsp.gammaln(1 + 1 / k)) - 1 - cv2

    lo, hi = jnp.asarray(0.05), jnp.asarray(500.0)

    def bisect(_, bounds):
        lo, hi = bounds
        mid = jnp.sqrt(lo * hi)
        up = F(mid) > 0  # F decreases in k
        return jnp.where(up, mid, lo), jnp.where(up, hi, mid)

    lo, hi = jax.lax.fori_loop(0, 80, bisect, (lo, hi))
    k = jax.lax.stop_gradient(jnp.sqrt(lo * hi))
    for _ in range(2):
        k = k - F(k) / jax.grad(F)(k)
    return k


def _mom_student_t(r):
    m, v = r[0], _var(r)
    m4 = r[3] - 4 * m * r[2] + 6 * m**2 * r[1] - 3 * m**4
    excess = m4 / v**2 - 3.0
    df = 4.0 + 6.0 / excess
    return {"loc": m, "scale": jnp.sqrt(v * (df - 2.0) / df), "df": df}


_EULER = 0.5772156649015329

_MOM: dict[str, Callable] = {
    "normal": lambda r, c: {"mu": r[0], "sigma": jnp.sqrt(_var(r))},
    "lognormal": lambda r, c: (
        lambda s2: {"mu": jnp.log(r[0]) - s2 / 2, "sigma": jnp.sqrt(s2)}
    )(jnp.log1p(_var(r) / r[0] ** 2)),
    "exponential": lambda r, c: {"rate": 1.0 / r[0]},
    "gamma": lambda r, c: {"shape": r[0] ** 2 / _var(r), "rate": r[0] / _var(r)},
    "weibull": lambda r, c: (
        lambda k: {"shape": k, "scale": r[0] / jnp.exp(jsp.gammaln(1 + 1 / k))}
    )(_weibull_shape(_var(r) / r[0] ** 2)),
    "beta": lambda r, c: (lambda s: {"a": r[0] * s, "b": (1 - r[0]) * s})(
        r[0] * (1 - r[0]) / _var(r) - 1
    ),
    "student_t": lambda r, c: _mom_student_t(r),
    "logistic": lambda r, c: {"loc": r[0], "scale": jnp.sqrt(3 * _var(r)) / jnp.pi},
    "gumbel": lambda r, c: (lambda s: {"loc": r[0] - _EULER * s, "scale": s})(
        jnp.sqrt(6 * _var(r)) / jnp.pi
    ),
    "pareto": lambda r, c: {"shape": r[0] / (r[0] - c["xmin"]), "scale": c["xmin"]},
    "poisson": lambda r, c: {"rate": r[0]},
    "binomial": lambda r, c: {"prob": r[0] / c["trials_mean"]},
    "negbin": lambda r, c: {"size": r[0] ** 2 / (_var(r) - r[0]), "mu": r[0]},
    "geometric": lambda r, c: {"prob": 1.0 / (1.0 + r[0])},
    "zip": lambda r, c: (lambda lam: {"pi": 1.0 - r[0] / lam, "rate": lam})(
        _var(r) / r[0] + r[0] - 1.0
    ),
}
_N_MOMENTS = {"student_t": 4}


# ----- closed-form maximum-likelihood estimates (numpy) ------------------------------
def _mle_normal(x, c):
    return {"mu": x.mean(), "sigma": x.std()}


def _mle_lognormal(x, c):
    lx = np.log(x)
    return {"mu": lx.mean(), "sigma": lx.std()}


_CLOSED: dict[str, Callable] = {
    "normal": _mle_normal,
    "lognormal": _mle_lognormal,
    "exponential": lambda x, c: {"rate": 1.0 / x.mean()},
    "pareto": lambda x, c: {
        "shape": x.size / np.log(x / c["xmin"]).sum(),
        "scale": c["xmin"],
    },
    "poisson": lambda x, c: {"rate": x.mean()},
    "binomial": lambda x, c: {"prob": x.sum() / c["trials_sum"]},
    "geometric": lambda x, c: {"prob": 1.0 / (1.0 + x.mean())},
}
