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

The matrices are computed on the unconstrained scale :math:`u` and carried to
the natural scale by the delta method, :math:`J \hat V_u J^\top` with
:math:`J = \partial\theta/\partial u`; at a maximum this equals the natural-scale
formula, so a model written with ``sigma`` or ``log_sigma`` gets the same SEs.
``"opg"`` and ``"sandwich"`` need one log-likelihood value per observation.

References
----------
White, H. (1982). Maximum likelihood estimation of misspecified models.
*Econometrica*, 50(1), 1-25.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._status import Status

__all__ = ["COV_KINDS", "DESCRIPTIONS", "check_information", "cov_unconstrained"]

COV_KINDS = ("oim", "opg", "sandwich")

DESCRIPTIONS = {
    "oim": "inverse observed information (-Hessian of the log-likelihood)",
    "opg": "outer product of per-observation scores (BHHH)",
    "sandwich": "robust sandwich H^-1 (sum s_i s_i') H^-1 (HC0); valid under "
    "misspecified distributions for independent observations",
}


def check_information(H, rel_tol):
    r"""Classify the information matrix ``H``.

    The test uses the *scaled* information :math:`S = D^{-1/2} H D^{-1/2}`,
    :math:`D = \operatorname{diag}(H)`, whose eigenvalues do not depend on the
    units of the parameters. ``H`` is singular when :math:`\lambda_{\min}(S) \le`
    ``rel_tol`` in absolute value, indefinite when it is below ``-rel_tol``
    (or any diagonal element is not positive).

    Returns
    -------
    code : int array
        ``Status.success``, ``information_singular`` or ``information_indefinite``.
    cond : array
        Condition number :math:`\lambda_{\max}(S)/\lambda_{\min}(S)` (inf if not PD).
    """
    k = H.shape[0]
    if k == 0:
        return jnp.asarray(Status.success.value, jnp.int32), jnp.ones((), H.dtype)
    diag = jnp.diag(H)
    scale = 1.0 / jnp.sqrt(jnp.where(diag > 0, diag, 1.0))
    S = H * scale[:, None] * scale[None, :]
    lam = jnp.linalg.eigvalsh(S)
    lo, hi = lam[0], lam[-1]
    nonpos_diag = jnp.any(~(diag > 0))
    indefinite = nonpos_diag | (lo < -rel_tol)
    singular = (~indefinite) & (lo <= rel_tol)
    code = jnp.where(
        indefinite,
        Status.information_indefinite.value,
        jnp.where(singular, Status.information_singular.value, Status.success.value),
    )
    cond = jnp.where(indefinite | singular | ~jnp.isfinite(lo), jnp.inf, hi / lo)
    return code.astype(jnp.int32), cond


def _inv_pd(A):
    """Inverse of a positive-definite matrix by Cholesky (NaN if not PD)."""
    L = jnp.linalg.cholesky(A)
    eye = jnp.eye(A.shape[0], dtype=A.dtype)
    return jax.scipy.linalg.cho_solve((L, True), eye)


def cov_unconstrained(kind: str, H, scores=None):
    """Covariance on the unconstrained scale (see module notes for formulas).

    ``scores`` is the ``(n, k)`` matrix of per-observation scores, needed for
    ``"opg"`` and ``"sandwich"``.
    """
    if kind == "oim":
        return _inv_pd(H)
    B = scores.T @ scores
    if kind == "opg":
        return _inv_pd(B)
    if kind == "sandwich":
        Hinv = _inv_pd(H)
        V = Hinv @ B @ Hinv
        return 0.5 * (V + V.T)
    raise ValueError(f"Unknown covariance kind {kind!r}; use one of {COV_KINDS}.")


def covariances(problem, kind: str, u, H, info_ok):
    """Unconstrained and natural-scale covariance at ``u`` (delta method).

    Returns ``(cov_u, cov_natural)``; both NaN when ``info_ok`` is false.
    """
    scores = None
    if kind != "oim":
        scores = jax.jacfwd(problem.loglik_terms)(u)
    cov_u = jnp.where(info_ok, cov_unconstrained(kind, H, scores), jnp.nan)
    J = jax.jacfwd(lambda v: problem.spec.natural_flat(v, problem.fixed_leaves))(u)
    return cov_u, J @ cov_u @ J.T
