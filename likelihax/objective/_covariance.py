r"""Covariance of the estimates from autodiff information matrices.

With :math:`\ell_i(\theta)` the log-likelihood of observation :math:`i`,
:math:`s_i = \nabla \ell_i` its score and :math:`H = -\sum_i \nabla^2 \ell_i`
the observed information (all at the estimate :math:`\hat\theta`):

``"oim"`` (default)
    Inverse observed information, :math:`\hat V = H^{-1}`. Valid when the model
    is correctly specified.
``"opg"``
    Outer product of gradients (BHHH), :math:`\hat V = (\sum_i s_i s_i^\top)^{-1}`.
    Asymptotically equal to ``"oim"`` under correct specification.
``"sandwich"``
    Robust (Huber-White, HC0), :math:`\hat V = H^{-1} (\sum_i s_i s_i^\top) H^{-1}`.
    Valid under misspecification of the distribution as long as observations are
    independent and the estimating equations have mean zero (White, 1982). It
    equals statsmodels ``cov_type="HC0"`` (no small-sample factor).
``"hc1"``
    The sandwich times :math:`n/(n-k)` (:math:`k` free parameters), as
    statsmodels' ``OLS(...).fit(cov_type="HC1")`` and Stata's ``regress,
    robust``. (statsmodels' MLE models, e.g. ``Logit``, ``Poisson`` and
    ``GLM``, silently return HC0 for ``cov_type="HC1"``.)
``"cluster"`` (only through :func:`~likelihax.inference.vcov`, which takes the groups)
    Cluster-robust, :math:`\hat V = c\,H^{-1} (\sum_g S_g S_g^\top) H^{-1}`
    with :math:`S_g = \sum_{i\in g} s_i` the score of cluster :math:`g`, and by
    default statsmodels' small-sample factor
    :math:`c = \frac{G}{G-1}\,\frac{n-1}{n-k}` (:math:`G` clusters).
    Two-way clustering (Cameron, Gelbach and Miller, 2011) is
    :math:`\hat V_1 + \hat V_2 - \hat V_{12}`, with :math:`\hat V_{12}` clustered
    by the intersection of the two groupings and each term carrying its own
    factor, as statsmodels ``cov_type="cluster"`` with two group columns. Valid
    for observations correlated within clusters and independent between them,
    with many clusters.

The matrices are computed on the unconstrained scale :math:`u` and carried to
the natural scale by the delta method, :math:`J \hat V_u J^\top` with
:math:`J = \partial\theta/\partial u`; at a maximum this equals the natural-scale
formula, so a model written with ``sigma`` or ``log_sigma`` gets the same SEs.
``"opg"`` and ``"sandwich"`` need one log-likelihood value per observation.

``"eim"``
    Inverse expected (Fisher) information :math:`\mathcal I^{-1}`, for models
    that provide it (``Model(..., fisher=...)``; see
    :mod:`likelihax.objective._problem`). It is what R's ``summary.glm`` and
    statsmodels' GLM report; for canonical links it equals ``"oim"``.

Weights
-------
With observation weights :math:`w_i` the objective is :math:`\sum_i w_i\ell_i`
and :math:`H`, :math:`\mathcal I` carry the weights. The meat of OPG and the
sandwich depends on what the weights mean:

* **frequency** weights (row :math:`i` stands for :math:`w_i` identical rows):
  :math:`B = \sum_i w_i s_i s_i^\top`, so every covariance equals the one of
  the data with duplicated rows;
* **importance** (sampling, analytic, class) weights (a weighted estimating
  equation :math:`\sum_i w_i s_i = 0`): :math:`B = \sum_i w_i^2 s_i s_i^\top`.
* either kind, clustered: :math:`S_g = \sum_{i\in g} w_i s_i` (a frequency-
  weighted row stands for copies that all lie in its cluster).

The :math:`n` of the small-sample factors is the number of rows, the sum of
frequency weights, or the number of positive importance weights (as
``fit.nobs``).
  :math:`H^{-1}` alone is not a valid covariance then (the weighted objective is
  not the log-likelihood of the data), so the default is ``"sandwich"``.

References
----------
White, H. (1982). Maximum likelihood estimation of misspecified models.
*Econometrica*, 50(1), 1-25.

Cameron, A. C., Gelbach, J. B. and Miller, D. L. (2011). Robust inference with
multiway clustering. *Journal of Business & Economic Statistics*, 29(2), 238-249.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp

from ..core import Status
from ..optimize import (
    as_factor,
    factor_extremes,
    factor_inverse,
    newton_direction,
    scaled_factor,
)

__all__ = [
    "COVARIANCES",
    "COV_KINDS",
    "CovarianceKind",
    "DESCRIPTIONS",
    "ROBUST_KINDS",
    "VCOV_KINDS",
    "analyze_information",
    "covariances",
]


@dataclasses.dataclass(frozen=True)
class CovarianceKind:
    """One kind of covariance of the estimates: the registry entry.

    A new kind is one entry of :data:`COVARIANCES`; the engine (``fit(cov=)``),
    :func:`likelihax.vcov`, summaries and saved results read everything about
    it from here.

    Attributes
    ----------
    name : str
        What users pass (``cov="sandwich"``).
    description : str
        One line shown with the covariance.
    information : {"observed", "expected"}
        The information matrix it is built on (``H`` or the Fisher information).
    per_obs : bool
        Needs one log-likelihood value per observation (the scores).
    robust : bool
        Valid under a misspecified distribution.
    needs_groups : bool
        Needs cluster labels, so only :func:`likelihax.vcov` computes it (not
        ``fit(cov=)``).
    compute : callable
        ``compute(problem, u, Hinv, weight_type, clusters) -> cov_u``, the
        covariance on the unconstrained scale (module notes).
    """

    name: str
    description: str
    information: str
    per_obs: bool
    robust: bool
    needs_groups: bool
    compute: Callable


def _inverse_information(problem, u, Hinv, weight_type, clusters):
    return Hinv


def _opg(problem, u, Hinv, weight_type, clusters):
    B, _ = problem.meat(u, weight_type)
    return jnp.where(jnp.all(jnp.isfinite(Hinv)), _inv_pd(B), jnp.nan)


def _sandwich(problem, u, Hinv, weight_type, clusters, small_sample=False):
    B, n = problem.meat(u, weight_type)
    cov_u = Hinv @ B @ Hinv
    cov_u = 0.5 * (cov_u + cov_u.T)
    return cov_u * (n / (n - u.shape[0])) if small_sample else cov_u


def _hc1(problem, u, Hinv, weight_type, clusters):
    return _sandwich(problem, u, Hinv, weight_type, clusters, small_sample=True)


def _cluster(problem, u, Hinv, weight_type, clusters):
    scores = problem.scores(u)
    if scores.ndim != 2:
        raise ValueError(
            "cov='cluster' needs one log-likelihood value per observation, but "
            "the log-likelihood returns a scalar. Return the per-observation "
            "terms (drop the final sum) or use cov='oim'."
        )
    w = problem.weights
    n, k = _effective_nobs(scores, w, weight_type), u.shape[0]
    return _cluster_cov(scores, w, Hinv, clusters, n, k)


_ROBUST_NOTE = "valid under misspecified distributions for independent observations"
COVARIANCES: dict[str, CovarianceKind] = {
    c.name: c
    for c in (
        CovarianceKind(
            "oim", "inverse observed information (-Hessian of the log-likelihood)",
            "observed", False, False, False, _inverse_information,
        ),
        CovarianceKind(
            "eim", "inverse expected (Fisher) information",
            "expected", False, False, False, _inverse_information,
        ),
        CovarianceKind(
            "opg", "outer product of per-observation scores (BHHH)",
            "observed", True, False, False, _opg,
        ),
        CovarianceKind(
            "sandwich", "robust sandwich H^-1 (sum s_i s_i') H^-1 (HC0); "
            + _ROBUST_NOTE, "observed", True, True, False, _sandwich,
        ),
        CovarianceKind(
            "hc1", "robust sandwich (HC0) times n/(n-k) (HC1); " + _ROBUST_NOTE,
            "observed", True, True, False, _hc1,
        ),
        CovarianceKind(
            "cluster", "cluster-robust sandwich H^-1 (sum_g S_g S_g') H^-1; valid for "
            "observations correlated within clusters, independent between them",
            "observed", True, True, True, _cluster,
        ),
    )
}  # fmt: skip
# Kinds fit(cov=) computes; those needing more than the fit (cluster labels)
# only through vcov().
COV_KINDS = tuple(k for k, c in COVARIANCES.items() if not c.needs_groups)
VCOV_KINDS = tuple(COVARIANCES)
ROBUST_KINDS = tuple(k for k, c in COVARIANCES.items() if c.robust)
DESCRIPTIONS = {k: c.description for k, c in COVARIANCES.items()}


def analyze_information(H, g, rel_tol, eig=None):
    r"""Classify the information ``H`` and invert it, from one factorization.

    ``eig``, the :class:`~likelihax.optimize.ScaledFactor` of ``H`` (or the
    output of :func:`~likelihax.optimize.scaled_eigh`), is reused when given;
    beyond ``EIGEN_MAX`` parameters the extreme eigenvalues come from its
    Cholesky factor by inverse and power iteration
    (:func:`~likelihax.optimize.factor_extremes`). The test uses the *scaled* information :math:`S = D^{-1/2} H D^{-1/2}`,
    :math:`D = \operatorname{diag}(H)`, whose eigenvalues do not depend on the
    units of the parameters. ``H`` is indefinite when any diagonal element is
    negative or :math:`\lambda_{\min}(S) < -` ``rel_tol``, singular when
    :math:`|\lambda_{\min}(S)| \le` ``rel_tol``.

    Returns
    -------
    code : int array
        ``Status.success``, ``information_singular`` or ``information_indefinite``.
    cond : array
        Condition number :math:`\lambda_{\max}(S)/\lambda_{\min}(S)` (inf if not PD).
    edm : array
        :math:`\tfrac12 g^\top H^{-1} g` (with the eigenvalue floor of Newton's
        direction when ``H`` is not positive definite).
    Hinv : array
        :math:`H^{-1}` when positive definite, else NaN.
    """
    f = scaled_factor(H) if eig is None else as_factor(eig)
    lo, hi, _ = factor_extremes(f)
    # (A zero diagonal with a zero row, a parameter the log-likelihood does not
    # depend on, is a zero eigenvalue of S: singular, not indefinite.)
    indefinite = jnp.any(~(jnp.diag(H) >= 0)) | (lo < -rel_tol)
    singular = (~indefinite) & (lo <= rel_tol)
    code = jnp.where(
        indefinite,
        Status.information_indefinite.value,
        jnp.where(singular, Status.information_singular.value, Status.success.value),
    ).astype(jnp.int32)
    ok = ~(indefinite | singular) & jnp.isfinite(lo) & jnp.isfinite(hi)
    cond = jnp.where(ok, hi / lo, jnp.inf)
    _, edm, _ = newton_direction(H, g, f)
    return code, cond, edm, jnp.where(ok, factor_inverse(f), jnp.nan)


def _inv_pd(A):
    """Inverse of a symmetric positive-definite matrix (NaN if not PD)."""
    f = scaled_factor(A)
    pd = f.chol | (f.lam[0] > 0)
    return jnp.where(pd & jnp.all(jnp.diag(A) > 0), factor_inverse(f), jnp.nan)


def covariances(
    problem, kind: str, u, Hinv, weight_type: str = "frequency", clusters=()
):
    """Unconstrained and natural-scale covariance at ``u`` (delta method).

    ``Hinv`` is the inverse of the information of ``kind`` (observed, or
    expected for ``"eim"``; NaN when it is not positive definite, which makes
    every kind NaN). ``"opg"``, ``"sandwich"``, ``"hc1"`` and ``"cluster"`` use
    the ``(n, k)`` matrix of per-observation scores, weighted as the module
    notes say. For ``"cluster"``, ``clusters`` is a sequence of
    ``(codes, n_groups, sign, correction)``: integer cluster codes ``(n,)`` in
    ``0..n_groups-1`` (traced), and static ``n_groups``, ``sign`` (+1, or -1
    for the intersection term of two-way clustering) and ``correction`` (bool).
    """
    if kind not in COVARIANCES:
        raise ValueError(f"Unknown covariance kind {kind!r}; use one of {VCOV_KINDS}.")
    cov_u = COVARIANCES[kind].compute(problem, u, Hinv, weight_type, clusters)
    J = jax.jacfwd(lambda v: problem.spec.natural_flat(v, problem.fixed_leaves))(u)
    return cov_u, J @ cov_u @ J.T


def _effective_nobs(scores, w, weight_type):
    """Rows, sum of frequency weights, or number of positive importance weights."""
    if w is None:
        return jnp.asarray(scores.shape[0], scores.dtype)
    if weight_type == "frequency":
        return jnp.sum(jnp.where(w > 0, w, 0.0))
    return jnp.sum(w > 0).astype(scores.dtype)


def _cluster_cov(scores, w, Hinv, clusters, n, k):
    r"""Sum over groupings of ``sign * c * Hinv (S' S) Hinv`` (module notes)."""
    if w is None:
        ws = scores
    else:
        ws = jnp.where(w[:, None] > 0, w[:, None] * scores, 0.0)
    cov_u = jnp.zeros_like(Hinv)
    for codes, n_groups, sign, correction in clusters:
        S = jax.ops.segment_sum(ws, codes, num_segments=n_groups)
        V = Hinv @ (S.T @ S) @ Hinv
        c = n_groups / (n_groups - 1.0) * (n - 1.0) / (n - k) if correction else 1.0
        cov_u = cov_u + sign * c * V
    return 0.5 * (cov_u + cov_u.T)
