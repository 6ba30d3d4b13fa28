r"""Response distributions of the multivariate mixtures: Gaussian mixtures and
latent class models, for :func:`likelihax.simulate` and
:func:`likelihax.quantile_residuals`.

**Draws.** Each row draws its component :math:`z_i \sim
\mathrm{Categorical}(\pi)`, then its response given :math:`z_i`: a Gaussian
mixture :math:`x_i = \mu_{z_i} + L_{z_i} e_i`, :math:`e_i \sim N(0, I_d)`,
:math:`L_k L_k^\top = \Sigma_k` (the Cholesky factors are computed once, on
the host); a latent class model, each item independently from its category
probabilities in class :math:`z_i`. One data set is ``(n_obs, d)`` points or
``(n_obs, J)`` codes, so :func:`likelihax.simulate` returns ``(n, n_obs, d)``
(or ``(n, n_obs, J)``), all ``n`` in one ``jax.vmap``.

**Quantile residuals** are those of each coordinate (item) of each row
against its marginal law, a mixture over the components:
:math:`F_{ij}(y) = \sum_k \pi_k \Phi((y - \mu_{kj})/\sqrt{\Sigma_{k,jj}})`
for a Gaussian mixture, :math:`P(Y_{ij} \le c) = \sum_k \pi_k
\sum_{c' \le c} \rho_{kjc'}` for item :math:`j` of a latent class model (the
jump at the observed code filled at random, in the order of the codes). They
come flattened row by row (``n_obs * d`` values; column ``j`` of row ``i``
at ``i * d + j``), each uniform under the model; a row's residuals are
dependent (they share the row's component), so test their uniformity one
coordinate at a time (``res.uniform.reshape(n_obs, d)[:, j]``). The fitted
value of each is its marginal mean (for an item: the mean of its code).
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from ...results import Response

__all__ = ["multivariate_response"]


def _rows(r, newdata, key):
    if newdata is None:
        return np.asarray(r.setup.data[key], dtype=np.float64)
    a = newdata[key] if isinstance(newdata, Mapping) else newdata
    return np.array(a, dtype=np.float64)


def _gaussian_parts(p, k, d):
    """Component covariances ``(k, d, d)`` of Gaussian-mixture parameters."""
    if "cov" in p:
        c = np.asarray(p["cov"], dtype=np.float64).reshape(-1, d, d)
        return np.broadcast_to(c, (k, d, d))
    v = np.broadcast_to(np.asarray(p["var"], dtype=np.float64).reshape(k, -1), (k, d))
    return np.stack([np.diag(row) for row in v])


def _gaussian(r, newdata):
    p = r.params
    w = np.asarray(p["weights"], dtype=np.float64).reshape(-1)
    means = np.asarray(p["means"], dtype=np.float64)
    k, d = means.shape
    S = _gaussian_parts(p, k, d)
    x = _rows(r, newdata, "x")
    x = x[:, None] if x.ndim == 1 else x
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"newdata must be points (m, {d}); got shape {x.shape}.")
    n = x.shape[0]
    params = {"logw": jnp.log(jnp.asarray(w)), "means": jnp.asarray(means),
              "L": jnp.asarray(np.linalg.cholesky(S)),
              "sd": jnp.asarray(np.sqrt(np.diagonal(S, axis1=1, axis2=2))),
              "w": jnp.asarray(w)}  # fmt: skip

    def sample(key, q, dd):
        k1, k2 = jax.random.split(key)
        z = jax.random.categorical(k1, q["logw"], shape=(n,))
        e = jax.random.normal(k2, (n, d))
        return q["means"][z] + jnp.einsum("nij,nj->ni", q["L"][z], e)

    def cdf(q, dd, yy):
        y = jnp.reshape(yy, (n, d))
        f = jsp.ndtr((y[:, None, :] - q["means"][None]) / q["sd"][None])  # (n, k, d)
        f = jnp.einsum("k,nkd->nd", q["w"], f).reshape(-1)
        return f, f

    fitted = np.tile(w @ means, n)
    return Response(sample, params, {}, x, fitted, cdf, False)


def _categorical(r, newdata):
    p = r.params
    w = np.asarray(p["weights"], dtype=np.float64).reshape(-1)
    k = w.size
    cats = [int(np.size(a)) for a in p["probs"][0]]
    J = len(cats)
    y = _rows(r, newdata, "y")
    if y.ndim != 2 or y.shape[1] != J:
        raise ValueError(f"newdata must be codes (m, {J}); got shape {y.shape}.")
    bad = np.flatnonzero(np.any(~np.isfinite(y) | (y < 0) | (y != np.round(y))
                                | (y >= np.array(cats)[None, :]), axis=1))  # fmt: skip
    if bad.size:
        raise ValueError(
            f"newdata rows {bad[:5].tolist()} are not codes 0 .. C_j - 1 (C_j = {cats})."
        )
    n = y.shape[0]
    top = max(cats)
    # per item (k, top) probabilities, padded with 0 past the item's categories
    P = np.zeros((J, k, top))
    for j, c in enumerate(cats):
        P[j, :, :c] = np.stack([np.asarray(p["probs"][g][j], np.float64) for g in range(k)])
    marg = np.einsum("k,jkc->jc", w, P)  # (J, top) marginal category probabilities
    params = {"logw": jnp.log(jnp.asarray(w)), "logP": jnp.log(jnp.asarray(P)),
              "cum": jnp.asarray(np.cumsum(marg, axis=1))}  # fmt: skip

    def sample(key, q, dd):
        k1, k2 = jax.random.split(key)
        z = jax.random.categorical(k1, q["logw"], shape=(n,))
        logits = jnp.transpose(q["logP"][:, z, :], (1, 0, 2))  # (n, J, top)
        return jax.random.categorical(k2, logits, axis=-1).astype(jnp.float64)

    def cdf(q, dd, yy):
        c = jnp.reshape(yy, (n, J)).astype(jnp.int32)
        cum = q["cum"]
        hi = cum[jnp.arange(J)[None, :], c]
        lo = jnp.where(c > 0, cum[jnp.arange(J)[None, :], jnp.maximum(c - 1, 0)], 0.0)
        return lo.reshape(-1), hi.reshape(-1)

    fitted = np.tile(marg @ np.arange(top, dtype=np.float64), n)
    return Response(sample, params, {}, y, fitted, cdf, True)


def multivariate_response(r, newdata):
    """The :class:`~likelihax.results.Response` of a Gaussian mixture or a latent
    class fit (module notes); ``newdata``: points ``(m, d)`` or codes ``(m, J)``,
    or a dict with them under ``"x"`` (``"y"``).

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(0, 1, (60, 2)), rng.normal(5, 1, (40, 2))])
    >>> fit = lx.gaussian_mixture(x, 2, starts=2)
    >>> lx.simulate(fit, n=3, seed=1).shape
    (3, 100, 2)
    """
    if r.model_info.family == "gaussian":
        return _gaussian(r, newdata)
    return _categorical(r, newdata)
