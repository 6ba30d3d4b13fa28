r"""Response distributions of models with latent variables: mixed models and mixtures.

Mixed models (:func:`likelihax.mixed`) draw in one of two ways:

* **unconditional** (the default, lme4's ``simulate(re.form = NA)`` and
  DHARMa's default): new random effects :math:`b = L v`, :math:`v \sim
  N(0, I)` per level and term, then the rows given them;
* **conditional** (``conditional=True``, ``re.form = NULL``): the rows given
  the estimated random effects (the conditional modes).

The rows' law given the random effects is the GLM family's (its sampler,
beside its log-density). The unconditional response has no closed-form CDF
(an integral over the random effects), so its quantile residuals are
simulation-based; given the modes the family's CDF applies.

Univariate mixtures (Poisson, normal, exponential) and mixtures of normal
regressions draw a component with the mixing weights, then the response from
it; their CDF is the weighted sum of the components'.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from ..results import Response, register_response
from .glm import LINKS, get_family

__all__: list[str] = []


def _f64(a):
    return jnp.asarray(np.asarray(a, dtype=np.float64))


# ----- mixed models ------------------------------------------------------------------------
def _mixed(r, newdata, conditional):
    from .random_effects._formula import new_design

    fam = get_family(r.family)
    if fam.sample is None:
        raise ValueError(f"No sampler for the {r.family!r} family of this mixed model.")
    link = LINKS[r.link]
    par = r.fit.params
    phi = float(par["sigma"]) ** 2 if fam.dispersion else 1.0
    alpha = float(par["alpha"]) if fam.has_alpha else 1.0
    des = r._design
    if newdata is None:
        X, off = des.X, des.offset
        zs = [(t.Z, t.codes) for t in r.terms]
        trials = des.trials
        m = np.ones(X.shape[0]) if trials is None else np.asarray(trials, np.float64)
        y = np.asarray(des.y, dtype=np.float64)
        y = np.where(m > 0, y / np.where(m > 0, m, 1.0), 0.0) if trials is not None else y
    else:
        X, zs = new_design(des, newdata)
        off, m, y = np.zeros(X.shape[0]), np.ones(X.shape[0]), None
    params = {"phi": _f64(phi), "alpha": _f64(alpha)}
    data = {"m": _f64(m)}
    if conditional:
        eta = np.asarray(r.predict(newdata, which="link", kind="conditional"))
        params["mu"] = _f64(link.inverse(jnp.asarray(eta)))

        def sample(key, p, d):
            return fam.sample(key, p["mu"], d["m"], p["phi"], p["alpha"])

        def cdf(p, d, yy):
            return fam.cdf(yy, p["mu"], d["m"], p["phi"], p["alpha"])

        return Response(sample, params, data, y, np.asarray(params["mu"]), cdf,
                        fam.name != "gaussian" and not fam.dispersion)  # fmt: skip
    beta = np.array([float(par[c]) for c in r.fixed_names])
    params["eta0"] = _f64(X @ beta + off)
    params["L"] = [_f64(r.L_of(t)) for t in range(len(r.terms))]
    data["Z"] = [_f64(Z) for Z, _ in zs]
    data["codes"] = [jnp.asarray(np.asarray(c, np.int32)) for _, c in zs]
    sizes = [(t.n_levels, t.q) for t in r.terms]

    def sample_u(key, p, d):
        keys = jax.random.split(key, len(sizes) + 1)
        eta = p["eta0"]
        for t, (n_lev, q) in enumerate(sizes):
            b = jax.random.normal(keys[t], (n_lev + 1, q)) @ p["L"][t].T
            codes = d["codes"][t]
            # a level new to the fit (code -1) draws its own effect as well
            idx = jnp.where(codes >= 0, codes, n_lev)
            eta = eta + jnp.sum(d["Z"][t] * b[idx], axis=1)
        mu = link.inverse(eta)
        return fam.sample(keys[-1], mu, d["m"], p["phi"], p["alpha"])

    fitted = np.asarray(r.predict(newdata, kind="population"))
    return Response(sample_u, params, data, y, fitted, None,
                    fam.name != "gaussian" and not fam.dispersion)  # fmt: skip


# ----- mixtures ------------------------------------------------------------------------------
def _component_parts(family, p):
    """Per-component (sampler, cdf, mean) of a univariate mixture's family."""
    if family == "poisson":
        return (lambda key, c, sh: jax.random.poisson(key, p["rate"][c], sh).astype(jnp.float64),
                lambda y: (jnp.where(y[:, None] < 1, 0.0, jsp.gammaincc(
                    jnp.maximum(y[:, None], 1.0), p["rate"][None])),
                    jsp.gammaincc(y[:, None] + 1.0, p["rate"][None])),
                p["rate"])  # fmt: skip
    if family == "exponential":
        def cdf_e(y):
            f = -jnp.expm1(-p["rate"][None] * y[:, None])
            return f, f

        return (lambda key, c, sh: jax.random.exponential(key, sh) / p["rate"][c],
                cdf_e, 1.0 / p["rate"])  # fmt: skip

    def cdf_n(y):
        f = jsp.ndtr((y[:, None] - p["mean"][None]) / p["sd"][None])
        return f, f

    return (lambda key, c, sh: p["mean"][c] + p["sd"][c] * jax.random.normal(key, sh),
            cdf_n, p["mean"])  # fmt: skip


def _mixture(r, newdata, conditional):
    info = r.model_info
    fam = info.family
    if fam in ("gaussian", "categorical"):  # Gaussian mixtures, latent class models
        from .mixtures._simulate import multivariate_response

        return multivariate_response(r, newdata)
    if fam not in ("poisson", "normal", "exponential", "normal_regression"):
        raise ValueError(
            f"simulate: mixtures of {fam!r} components have no built-in sampler; pass "
            "sampler=(key, params, data) -> y."
        )
    d = r.setup.data if newdata is None else newdata
    params = {k: _f64(v) for k, v in r.params.items()}
    w = params["weights"]
    if fam == "normal_regression":
        X = _f64(d["X"])

        def sample_r(key, p, dd):
            k1, k2 = jax.random.split(key)
            c = jax.random.categorical(k1, jnp.log(p["weights"]), shape=(X.shape[0],))
            mu = jnp.sum(X * p["coef"][c], axis=1)
            return mu + p["sd"][c] * jax.random.normal(k2, mu.shape)

        def cdf_r(p, dd, yy):
            f = jsp.ndtr((yy[:, None] - X @ p["coef"].T) / p["sd"][None]) @ p["weights"]
            return f, f

        y = None if newdata is not None and "y" not in d else np.asarray(d["y"], float)
        fitted = np.asarray((X @ params["coef"].T) @ w)
        return Response(sample_r, params, {}, y, fitted, cdf_r, False)
    y = np.asarray(d["y"], dtype=np.float64)

    def sample(key, p, dd):
        k1, k2 = jax.random.split(key)
        c = jax.random.categorical(k1, jnp.log(p["weights"]), shape=y.shape)
        return _component_parts(fam, p)[0](k2, c, y.shape)

    def cdf(p, dd, yy):
        lo, hi = _component_parts(fam, p)[1](yy)
        return lo @ p["weights"], hi @ p["weights"]

    fitted = np.full(y.shape, float(_component_parts(fam, params)[2] @ w))
    return Response(sample, params, {}, y, fitted, cdf, fam == "poisson")


register_response("mixed", _mixed)
register_response("mixture", _mixture, model_result=False)
