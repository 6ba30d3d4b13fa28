r"""Response distributions of the fixed-effect models, for ``simulate`` and residuals.

One builder per ``model_info.kind``, registered with
:func:`likelihax.results.register_response`; each returns a
:class:`~likelihax.results.Response` at the estimates (the fitted means from
the model's own ``predict``). GLM-type models draw with their family's
sampler and read their family's CDF (:attr:`Family.sample`,
:attr:`Family.cdf`, beside the family's log-density), so the draws, the
quantile residuals and the likelihood use one definition of the response.

=====================  ====================================================
kind                   response
=====================  ====================================================
glm, glm_dispersion,   the family at :math:`\hat\mu_i` (and :math:`\hat\phi`,
firth                  :math:`\hat\alpha`)
zeroinfl, hurdle,      counts with extra zeros (inverse CDF on a grid)
zerotrunc
betareg                beta with mean :math:`\mu` and precision :math:`\phi`
survival, tobit        latent times (AFT); Tobit censored at the fit's limits
ordinal, multinomial   class index 0..K-1 (ordinal: with its CDF)
=====================  ====================================================
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..results import Response, register_response
from .glm import get_family

__all__: list[str] = []


def _f64(a):
    return jnp.asarray(np.asarray(a, dtype=np.float64))


# ----- GLM families --------------------------------------------------------------------
def _family_response(fam, mu, y, m, phi, alpha) -> Response:
    mu = np.asarray(mu, dtype=np.float64)
    params = {"mu": _f64(mu), "phi": _f64(phi), "alpha": _f64(1.0 if alpha is None else alpha)}
    data = {"m": _f64(np.broadcast_to(m, mu.shape))}

    def sample(key, p, d):
        return fam.sample(key, p["mu"], d["m"], p["phi"], p["alpha"])

    def cdf(p, d, yy):
        return fam.cdf(yy, p["mu"], d["m"], p["phi"], p["alpha"])

    discrete = fam.name in ("binomial", "poisson", "negative.binomial")
    return Response(sample, params, data, y, mu, cdf, discrete)


def _glm(r, newdata, conditional):
    fam = get_family(r.family)
    mu = r.predict(newdata)
    phi = r.dispersion if fam.dispersion else 1.0
    if newdata is None:
        y, m = np.asarray(r._data["y"]), np.asarray(r._data["m"])
        w = r._w
        if fam.dispersion and w is not None and r._weight_type == "variance":
            # prior weights divide the variance (R's simulate.glm: sd sqrt(phi / w))
            phi = phi / np.where(w > 0, w, 1.0)
    else:
        y, m = None, 1.0
    return _family_response(fam, mu, y, m, phi, r.alpha)


def _glm_dispersion(r, newdata, conditional):
    fam = get_family(r.family)
    mu = r.predict(newdata)
    phi = r.predict(newdata, which="dispersion")
    y = None if newdata is not None else np.asarray(r._dx.y, dtype=np.float64)
    alpha = phi if fam.has_alpha else None
    return _family_response(fam, mu, y, 1.0, 1.0 if fam.has_alpha else phi, alpha)


def _firth(r, newdata, conditional):
    fam = get_family(r.family)
    mu = np.asarray(r.predict(newdata), dtype=np.float64)
    d = r.fit.setup.data
    m = np.asarray(d.get("m", 1.0)) if newdata is None else np.ones_like(mu)
    y = None if newdata is not None else np.asarray(d["y"], dtype=np.float64)
    resp = _family_response(fam, mu, y, m, 1.0, None)
    if fam.name != "binomial":
        return resp
    # Firth's binomial response is the number of successes of m trials
    def sample(key, p, dd):
        return dd["m"] * fam.sample(key, p["mu"], dd["m"], 1.0, 1.0)

    def cdf(p, dd, yy):
        m_ = dd["m"]
        return fam.cdf(yy / jnp.where(m_ > 0, m_, 1.0), p["mu"], m_, 1.0, 1.0)

    return resp._replace(sample=sample, cdf=cdf, fitted=mu * np.broadcast_to(m, mu.shape))


# ----- counts with extra zeros ------------------------------------------------------------
def _count_cdf_table(mu, alpha, top):
    """P(Y <= k) of the Poisson / NB2 count density, k = 0..top-1, ``(n, top)``:
    cumulative sums of the probabilities (log-gammas compile and run faster
    than the incomplete gamma and beta functions on a whole grid)."""
    k = jnp.arange(top, dtype=jnp.float64)[None, :]
    mu = mu[:, None]
    lk = jax.scipy.special.gammaln(k + 1.0)
    if alpha is None:
        logp = k * jnp.log(mu) - mu - lk
    else:
        size = 1.0 / alpha
        logp = (jax.scipy.special.gammaln(k + size) - jax.scipy.special.gammaln(size)
                - lk + size * jnp.log(size / (size + mu)) + k * jnp.log(mu / (size + mu)))  # fmt: skip
    return jnp.minimum(jnp.cumsum(jnp.exp(logp), axis=1), 1.0)


def _counts(r, newdata, conditional):
    kind = r.kind
    mu = np.asarray(r.predict(newdata, which="count"), dtype=np.float64)
    pi = (np.zeros_like(mu) if kind == "zerotrunc"
          else np.asarray(r.predict(newdata, which="zero_part"), dtype=np.float64))  # fmt: skip
    alpha = float(r.fit.params["alpha"]) if r.dist == "negbin" else None
    var = mu + (0.0 if alpha is None else alpha) * mu**2
    top = int(np.ceil(np.max(mu + 12.0 * np.sqrt(var))) + 25) if mu.size else 1
    params = {"mu": _f64(mu), "pi": _f64(pi)}

    def mix(p, F):
        """CDF of the observed response from the count density's CDF ``F``."""
        F0 = F[..., :1]
        pi_ = p["pi"].reshape(p["pi"].shape + (1,) * (F.ndim - 1))
        if kind == "zeroinfl":  # pi: P(structural zero)
            return pi_ + (1.0 - pi_) * F
        trunc = (F - F0) / (1.0 - F0)
        if kind == "zerotrunc":
            return trunc
        return (1.0 - pi_) + pi_ * trunc  # hurdle: pi = P(y > 0)

    def sample(key, p, d):
        table = mix(p, _count_cdf_table(p["mu"], alpha, top))
        u = jax.random.uniform(key, p["mu"].shape)
        return jnp.sum(table < u[:, None], axis=1).astype(jnp.float64)

    def cdf(p, d, yy):
        table = mix(p, _count_cdf_table(p["mu"], alpha, top))
        padded = jnp.concatenate([jnp.zeros_like(table[:, :1]), table], axis=1)
        k = jnp.clip(yy, 0, top - 1).astype(jnp.int32)
        rows = jnp.arange(yy.shape[0])
        hi = jnp.where(yy >= top, 1.0, padded[rows, k + 1])
        return padded[rows, k], hi

    y = None if newdata is not None else np.asarray(r._count.y, dtype=np.float64)
    fitted = np.asarray(r.predict(newdata), dtype=np.float64)
    return Response(sample, params, {}, y, fitted, cdf, True)


# ----- beta regression -----------------------------------------------------------------------
def _beta(r, newdata, conditional):
    mu = np.asarray(r.predict(newdata), dtype=np.float64)
    phi = np.asarray(r.predict(newdata, which="precision"), dtype=np.float64)
    params = {"a": _f64(mu * phi), "b": _f64((1.0 - mu) * phi)}

    def sample(key, p, d):
        return jax.random.beta(key, p["a"], p["b"])

    def cdf(p, d, yy):
        f = jax.scipy.special.betainc(p["a"], p["b"], yy)
        return f, f

    y = None
    if newdata is None:
        y = np.asarray(r._dx.y, dtype=np.float64)
    return Response(sample, params, {}, y, mu, cdf, False)


# ----- survival (AFT) and Tobit ------------------------------------------------------------
def _survival(r, newdata, conditional):
    from ._surv import new_matrix
    from .survival import _w_logs, _w_quantile

    lik = r._loglik
    X = new_matrix(r._design, newdata)
    par = r.fit.params
    eta = X @ np.array([float(par["beta"][c]) for c in lik.columns])
    s = 1.0 if lik.dist == "exponential" else float(par["scale"])
    q = lik.shape(par)
    q = None if q is None else float(q)
    params = {"eta": _f64(eta), "s": _f64(s)}
    d = r.fit.setup.data
    lo_lim, hi_lim = -np.inf, np.inf
    if not lik.log_scale and newdata is None:  # Tobit: the limits of its censored rows
        kind = np.asarray(d["kind"])
        if np.any(kind == 1):
            lo_lim = float(np.max(np.asarray(d["hi"])[kind == 1]))
        if np.any(kind == 2):
            hi_lim = float(np.min(np.asarray(d["lo"])[kind == 2]))

    def sample(key, p, dd):
        u = jax.random.uniform(key, p["eta"].shape, minval=1e-300)
        z = p["eta"] + p["s"] * _w_quantile(lik.dist, u, q)
        return jnp.exp(z) if lik.log_scale else jnp.clip(z, lo_lim, hi_lim)

    def F(p, x):
        return jnp.exp(_w_logs(lik.dist, (x - p["eta"]) / p["s"], q)[1])

    def cdf(p, dd, yy):
        # censored rows: the interval of F their bounds allow (Dunn & Smyth, 1996)
        kind = dd["kind"]
        Flo, Fhi = F(p, dd["lo"]), F(p, dd["hi"])
        lower = jnp.where(kind == 1, 0.0, Flo)
        upper = jnp.where(kind == 0, Flo, jnp.where(kind == 2, 1.0, Fhi))
        return lower, upper

    if newdata is not None:
        return Response(sample, params, {}, None, _median(lik, eta, s, q), None, False)
    data = {k: _f64(d[k]) for k in ("lo", "hi", "kind")}
    y = np.asarray(d["lo"], dtype=np.float64)
    y = np.exp(y) if lik.log_scale else y
    return Response(sample, params, data, y, _median(lik, eta, s, q), cdf, False)


def _median(lik, eta, s, q):
    from .survival import _w_quantile

    m = eta + s * float(_w_quantile(lik.dist, 0.5, q))
    return np.exp(m) if lik.log_scale else m


# ----- categorical responses ------------------------------------------------------------
def _categorical(r, newdata, ordered):
    from .multinomial import _codes

    P = np.asarray(r.predict_proba(newdata), dtype=np.float64)
    params = {"logp": _f64(np.log(np.maximum(P, 1e-300)))}

    def sample(key, p, d):
        return jax.random.categorical(key, p["logp"], axis=-1).astype(jnp.float64)

    def cdf(p, d, yy):
        cum = jnp.cumsum(jnp.exp(p["logp"]), axis=1)
        padded = jnp.concatenate([jnp.zeros_like(cum[:, :1]), cum], axis=1)
        k = yy.astype(jnp.int32)
        rows = jnp.arange(yy.shape[0])
        return padded[rows, k], jnp.minimum(padded[rows, k + 1], 1.0)

    y = None
    if newdata is None:
        y = _codes(r.design.y, list(r.levels), r.design.response, ordered_hint=ordered)[1]
        y = y.astype(np.float64)
    fitted = P @ np.arange(P.shape[1], dtype=np.float64)  # the mean class index
    return Response(sample, params, {}, y, fitted, cdf if ordered else None, True)


for _kind, _builder in {
    "glm": _glm,
    "glm_dispersion": _glm_dispersion,
    "firth": _firth,
    "zeroinfl": _counts,
    "hurdle": _counts,
    "zerotrunc": _counts,
    "betareg": _beta,
    "survival": _survival,
    "tobit": _survival,
    "ordinal": lambda r, newdata, c: _categorical(r, newdata, True),
    "multinomial": lambda r, newdata, c: _categorical(r, newdata, False),
}.items():
    register_response(_kind, _builder)
