r"""Gaussian mixtures: full, diagonal, tied and spherical covariances, any K and d.

.. math::

    p(x_i) = \sum_{k=1}^K \pi_k\, \mathcal N(x_i; \mu_k, \Sigma_k),

fitted by EM with the weighted closed-form M-step

.. math::

    N_k = \sum_i r_{ik},\quad \pi_k = N_k / \sum_j N_j,\quad
    \mu_k = \frac{1}{N_k}\sum_i r_{ik} x_i,\quad
    \Sigma_k = \frac{1}{N_k}\sum_i r_{ik}(x_i-\mu_k)(x_i-\mu_k)^\top

(``r_ik`` include the sample weights; tied: :math:`\Sigma = \sum_k N_k\Sigma_k
/ \sum_k N_k`; diagonal and spherical keep the diagonal, or its mean), then
polished by the engine's Newton on the marginal likelihood, which gives the
standard errors (observed information by autodiff). No regularization is added
to the covariances (scikit-learn adds ``reg_covar=1e-6``; set it to 0 to
compare).

**Parameters** (natural scale, as reported): ``weights`` (``simplex``),
``means`` (K, d), and ``cov``: a list of K ``cov_matrix`` (full), one
``cov_matrix`` (tied), or ``var``: (K, d) (diag) or (K,) (spherical)
``positive`` variances. The log-density never calls LAPACK (see
:mod:`likelihax.optimize._linalg`), so the engine's Hessian cannot hit
the known batched-Cholesky hang.

**Label switching.** Components are reported sorted by the first coordinate of
their mean (increasing).

**Starts.** ``starts`` starting points run at once under ``vmap``: k-means++
seeding (D² sampling from a ``jax.random`` key, then soft assignment to the
nearest center) or random responsibilities; the best non-degenerate optimum is
kept and the spread is in ``fit.em.starts``.
"""

from __future__ import annotations

from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from ...core import x64_scope
from ...optimize import mvn_logpdf
from ...parameters import Param
from ...parameters import constraints as C
from ...results import ModelInfo
from ._finite import (
    check_k,
    empty_components,
    fit_mixture,
    prepare_weights,
    stack_inits,
    weights_param,
)
from ._options import MixtureOptions, mixture_options

__all__ = ["gaussian_mixture", "gmm_complete", "kmeanspp_resp"]

COVARIANCE_TYPES = ("full", "diag", "tied", "spherical")
_LOG2PI = float(np.log(2.0 * np.pi))


# ----- complete-data log-densities (one function per covariance type) --------------------
def _complete_full(p, data):
    x = data["x"]
    cov = jnp.stack(p["cov"])
    return jnp.log(p["weights"]) + mvn_logpdf(x[:, None, :], p["means"][None], cov)


def _complete_tied(p, data):
    x = data["x"]
    return jnp.log(p["weights"]) + mvn_logpdf(x[:, None, :], p["means"][None], p["cov"])


def _complete_diag(p, data):
    x, var = data["x"], p["var"]
    r = x[:, None, :] - p["means"][None]
    ld = -0.5 * jnp.sum(_LOG2PI + jnp.log(var)[None] + r * r / var[None], axis=-1)
    return jnp.log(p["weights"]) + ld


def _complete_spherical(p, data):
    x, var = data["x"], p["var"]
    d = x.shape[1]
    r = x[:, None, :] - p["means"][None]
    ss = jnp.sum(r * r, axis=-1)
    ld = -0.5 * (d * (_LOG2PI + jnp.log(var))[None] + ss / var[None])
    return jnp.log(p["weights"]) + ld


_COMPLETE = {
    "full": _complete_full,
    "tied": _complete_tied,
    "diag": _complete_diag,
    "spherical": _complete_spherical,
}


def gmm_complete(covariance: str):
    """The complete-data log-density of a Gaussian mixture, for :func:`em`.

    ``complete(params, {"x": x}) -> (n, K)`` with the parameter layout of the
    module notes.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.mixtures import gmm_complete
    >>> c = gmm_complete("spherical")
    >>> p = {"weights": np.array([0.5, 0.5]), "means": np.zeros((2, 1)),
    ...      "var": np.array([1.0, 1.0])}
    >>> round(float(c(p, {"x": np.zeros((1, 1))})[0, 0]), 6)  # log(0.5 N(0;0,1))
    -1.612086
    """
    if covariance not in COVARIANCE_TYPES:
        raise ValueError(
            f"covariance must be one of {COVARIANCE_TYPES}; got {covariance!r}."
        )
    return _COMPLETE[covariance]


# ----- closed-form M-steps ---------------------------------------------------------------
# All weighted sums over the data come from one matrix product r' F with the
# features F = [1, x - c, (x - c)_i (x - c)_j] (c: the data mean, so the
# second moments are centered near the data and lose few digits to
# cancellation): XLA:CPU runs the product as one GEMM, several times faster
# than the column reductions of a centered two-pass formula.
def _sums(resp, x, squares: str):
    c = jnp.mean(x, axis=0)
    xc = x - c
    d = x.shape[1]
    if squares == "outer":
        sq = (xc[:, :, None] * xc[:, None, :]).reshape(x.shape[0], d * d)
    else:
        sq = xc * xc
    F = jnp.concatenate([jnp.ones((x.shape[0], 1), x.dtype), xc, sq], axis=1)
    M = resp.T @ F
    nk = M[:, 0]
    m = M[:, 1 : 1 + d] / nk[:, None]
    return nk, m + c[None], m, M[:, 1 + d :] / nk[:, None]


def _mstep_full(resp, data, p):
    x = data["x"]
    d = x.shape[1]
    nk, means, m, sq = _sums(resp, x, "outer")
    S = sq.reshape(-1, d, d) - m[:, :, None] * m[:, None, :]
    return {"cov": [S[k] for k in range(S.shape[0])], "means": means,
            "weights": nk / jnp.sum(nk)}  # fmt: skip


def _mstep_tied(resp, data, p):
    x = data["x"]
    d = x.shape[1]
    nk, means, m, sq = _sums(resp, x, "outer")
    S = sq.reshape(-1, d, d) - m[:, :, None] * m[:, None, :]
    tied = jnp.einsum("k,kij->ij", nk, S) / jnp.sum(nk)
    return {"cov": tied, "means": means, "weights": nk / jnp.sum(nk)}


def _mstep_diag(resp, data, p):
    nk, means, m, sq = _sums(resp, data["x"], "diag")
    return {"means": means, "var": sq - m * m, "weights": nk / jnp.sum(nk)}


def _mstep_spherical(resp, data, p):
    out = _mstep_diag(resp, data, p)
    out["var"] = jnp.mean(out["var"], axis=1)
    return out


_MSTEP = {
    "full": _mstep_full,
    "tied": _mstep_tied,
    "diag": _mstep_diag,
    "spherical": _mstep_spherical,
}


# ----- starts ----------------------------------------------------------------------------
def kmeanspp_resp(key, x, k: int, soft: float = 0.05):
    """Responsibilities from k-means++ seeding (D² sampling of ``k`` centers).

    Each point goes to its nearest center with weight ``1 - soft`` and
    ``soft / k`` to every center, so no starting covariance is singular.

    Examples
    --------
    >>> import jax, numpy as np
    >>> from likelihax.models.mixtures import kmeanspp_resp
    >>> x = np.array([[0.0], [0.1], [10.0], [10.1]])
    >>> r = kmeanspp_resp(jax.random.key(0), x, 2, soft=0.0)
    >>> sorted(np.asarray(r).sum(0).tolist())
    [2.0, 2.0]
    """
    x = jnp.asarray(x)
    n = x.shape[0]
    keys = jax.random.split(key, k)
    first = jax.random.randint(keys[0], (), 0, n)
    centers = [x[first]]
    d2 = jnp.sum((x - centers[0]) ** 2, axis=1)
    for j in range(1, k):
        logits = jnp.where(d2 > 0, jnp.log(jnp.where(d2 > 0, d2, 1.0)), -jnp.inf)
        idx = jax.random.categorical(keys[j], logits)
        centers.append(x[idx])
        d2 = jnp.minimum(d2, jnp.sum((x - centers[-1]) ** 2, axis=1))
    cen = jnp.stack(centers)
    dist = jnp.sum((x[:, None, :] - cen[None]) ** 2, axis=-1)
    hard = jax.nn.one_hot(jnp.argmin(dist, axis=1), k, dtype=x.dtype)
    return (1.0 - soft) * hard + soft / k


def _random_resp(key, x, k):
    u = jax.random.uniform(key, (x.shape[0], k), x.dtype)
    return u / jnp.sum(u, axis=1, keepdims=True)


def _init_params(key, x, w, k, covariance, init):
    resp = kmeanspp_resp(key, x, k) if init == "kmeans++" else _random_resp(key, x, k)
    p = _MSTEP[covariance](resp * w[:, None], {"x": x}, None)
    if covariance == "full":  # symmetrize exactly: cov_matrix checks symmetry
        p["cov"] = [0.5 * (s + s.T) for s in p["cov"]]
    elif covariance == "tied":
        p["cov"] = 0.5 * (p["cov"] + p["cov"].T)
    return p


_init_many = jax.jit(
    jax.vmap(_init_params, in_axes=(0, None, None, None, None, None)),
    static_argnums=(3, 4, 5),
)


def _template(p, covariance):
    t = {"weights": weights_param(p["weights"]), "means": Param(np.asarray(p["means"]))}
    if covariance == "full":
        t["cov"] = [Param(np.asarray(s), C.cov_matrix) for s in p["cov"]]
    elif covariance == "tied":
        t["cov"] = Param(np.asarray(p["cov"]), C.cov_matrix)
    else:
        t["var"] = Param(np.asarray(p["var"]), C.positive)
    return t


def _canonical(covariance):
    def sort(p):
        order = np.argsort(np.asarray(p["means"])[:, 0], kind="stable")
        q = dict(p)
        q["weights"] = np.asarray(p["weights"])[order]
        q["means"] = np.asarray(p["means"])[order]
        if covariance == "full":
            q["cov"] = [np.asarray(p["cov"][j]) for j in order]
        elif covariance in ("diag", "spherical"):
            q["var"] = np.asarray(p["var"])[order]
        return q

    return sort


def _diagnose(covariance, scale):
    """Names of empty and collapsed components of a host-side estimate."""

    def check(p):
        empty, out = empty_components(p)
        if covariance == "full":
            mats = [(f"the covariance of component {j}", f"cov[{j}]", np.asarray(s))
                    for j, s in enumerate(p["cov"])]  # fmt: skip
        elif covariance == "tied":
            mats = [("the tied covariance", "cov", np.asarray(p["cov"]))]
        else:
            var = np.asarray(p["var"], dtype=float)
            var = var if var.ndim == 2 else var[:, None]
            mats = [(f"the variance of component {j}", f"var[{j}]", np.diag(v))
                    for j, v in enumerate(var)]  # fmt: skip
        for j, (who, name, m) in enumerate(mats):
            if j in empty and covariance != "tied":
                continue  # already reported as empty
            ok = np.all(np.isfinite(m))
            low = float(np.min(np.linalg.eigvalsh(m))) if ok else float("nan")
            if not low > 1e-10 * scale:
                out.append(
                    f"{who} collapsed (variance to 0: smallest eigenvalue "
                    f"{low:.3g}; parameter '{name}'), where the likelihood is "
                    "unbounded"
                )
        return out

    return check


@mixture_options
def gaussian_mixture(
    x: Any,
    k: int,
    covariance: Literal["full", "diag", "tied", "spherical"] = "full",
    *,
    weights: Any = None,
    init: Literal["kmeans++", "random"] | dict | list = "kmeans++",
    options: MixtureOptions,
):
    r"""Gaussian mixture by EM, with standard errors from the marginal likelihood.

    Parameters
    ----------
    x : array (n, d) or (n,)
        Observations (no NaN: see :func:`likelihax.models.missing.mvn_missing`
        for missing values).
    k : int
        Number of components.
    covariance : {"full", "diag", "tied", "spherical"}
        Covariance structure (as scikit-learn's ``covariance_type``).
    weights : array (n,), optional
        Frequency (sample) weights.
    init : {"kmeans++", "random"}, dict or list of dicts
        Seeding of the starts, or explicit starting parameters (keys
        ``weights``, ``means`` and ``cov`` or ``var``, as in the module notes).
    starts : int
        Number of seeded starts (ignored for explicit ``init``).
    key : jax.random key, optional
        Default ``jax.random.key(0)``.
    accelerate : {"squarem"}, optional
        SQUAREM acceleration of EM.
    method : {"em", "newton"}
        ``"newton"``: the engine's Newton on the marginal likelihood from the
        (first) start, no EM.
    max_steps, tol : int, float
        EM stops when the mean log-likelihood per observation rises by at most
        ``tol`` (scikit-learn's rule), or after ``max_steps`` iterations.
    cov : str, optional
        Covariance kind of the estimates (default ``"oim"``).
    se : bool
        False: EM only, no Newton polish or standard errors; returns an
        :class:`~likelihax.models.mixtures.EMResult` (much faster for large
        ``n``: the engine's exact Hessian costs about as much as one gradient
        pass over the data per parameter).
    warn : bool
        Warn about degenerate starts and convergence problems.

    Returns
    -------
    FitResult or EMResult
        Components sorted by the first coordinate of the mean; ``fit.em`` has
        the EM record (iterations, monotonicity, starts).
        ``fit.model_info.flags`` records the covariance structure
        (``"covariance=full"``, ...); :func:`likelihax.predict` gives the
        posterior of new points, their density and the marginal mean, and
        :func:`likelihax.simulate` new points.

    Raises
    ------
    ValueError
        NaN or infinite values, bad shapes, ``k`` above the number of distinct
        rows, or every start degenerating (the message names the component
        and parameter: empty component, covariance collapsing to 0).

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.mixtures import gaussian_mixture
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(0, 1, (150, 2)), rng.normal(5, 1, (100, 2))])
    >>> fit = gaussian_mixture(x, 2, starts=4)
    >>> np.round(fit.params["weights"], 2).tolist()
    [0.6, 0.4]
    """
    if covariance not in COVARIANCE_TYPES:
        raise ValueError(
            f"covariance must be one of {COVARIANCE_TYPES}; got {covariance!r}."
        )
    xa = _check_x(x)
    n, d = xa.shape
    check_k(k, xa, "rows")
    w = prepare_weights(weights, n)
    wj = np.ones(n) if w is None else w
    scale = float(np.max(np.var(xa, axis=0))) or 1.0
    starts, key = options.starts, options.key
    with x64_scope():
        if isinstance(init, (dict, list)):
            start_params = stack_inits(
                init, _init_shapes(k, d, covariance), f"covariance={covariance!r}"
            )
            if covariance == "full":  # one (d, d) matrix per component
                start_params["cov"] = [start_params["cov"][:, j] for j in range(k)]
        elif init in ("kmeans++", "random"):
            if int(starts) < 1:
                raise ValueError(f"starts must be >= 1; got {starts}.")
            keys = jax.random.split(jax.random.key(0) if key is None else key, starts)
            start_params = _init_many(
                keys, jnp.asarray(xa), jnp.asarray(wj), int(k), covariance, init
            )
        else:
            raise ValueError(
                f"init must be 'kmeans++', 'random', a dict or a list of dicts; "
                f"got {init!r}."
            )
        first = jax.tree_util.tree_map(lambda a: np.asarray(a[0]), start_params)
        template = _template(first, covariance)
    return fit_mixture(
        complete=_COMPLETE[covariance], mstep=_MSTEP[covariance], template=template,
        start_params=start_params, data={"x": xa}, weights=w,
        diagnose=_diagnose(covariance, scale), canonical=_canonical(covariance),
        name=f"Gaussian mixture (K={k}, {covariance})",
        header=[("Components", f"{k} ({covariance} covariance, d={d})")],
        options=options,
        model_info=ModelInfo(kind="mixture", family="gaussian", n_components=k,
                             flags=(f"covariance={covariance}",)),
    )  # fmt: skip


def _check_x(x) -> np.ndarray:
    try:
        xa = np.array(x, dtype=np.float64)  # a copy: the caller's array is untouched
    except (TypeError, ValueError) as e:
        raise TypeError(f"x must be a numeric array: {e}") from None
    if xa.ndim == 1:
        xa = xa[:, None]
    if xa.ndim != 2 or xa.shape[0] == 0 or xa.shape[1] == 0:
        raise ValueError(f"x must be an (n, d) array with n, d >= 1; got {xa.shape}.")
    bad = np.flatnonzero(~np.all(np.isfinite(xa), axis=1))
    if bad.size:
        raise ValueError(
            f"x has {bad.size} row(s) with NaN or infinite values (first rows "
            f"{bad[:5].tolist()}). Drop them, or for values missing at random use "
            "likelihax.models.missing.mvn_missing."
        )
    return xa


def _init_shapes(k, d, covariance):
    """Shapes of the entries of an explicit start (module notes)."""
    by_type = {"full": ("cov", (k, d, d)), "tied": ("cov", (d, d)),
               "diag": ("var", (k, d)), "spherical": ("var", (k,))}  # fmt: skip
    name, shape = by_type[covariance]
    return {"weights": (k,), "means": (k, d), name: shape}
