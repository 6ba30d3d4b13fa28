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
from ..optimize._newton import newton_direction, scaled_eigh

__all__ = ["COV_KINDS", "DESCRIPTIONS", "analyze_information", "covariances"]

COV_KINDS = ("oim", "opg", "sandwich")

DESCRIPTIONS = {
    "oim": "inverse observed information (-Hessian of the log-likelihood)",
    "opg": "outer product of per-observation scores (BHHH)",
    "sandwich": "robust sandwich H^-1 (sum s_i s_i') H^-1 (HC0); valid under "
    "misspecified distributions for independent observations",
}


def analyze_information(H, g, rel_tol, eig=None):
    r"""Classify the information ``H`` and invert it, from one eigen-decomposition.

    ``eig``, the output of :func:`~likelihax.optimize._newton.scaled_eigh` for
    ``H``, is reused when given. The test uses the *scaled* information :math:`S = D^{-1/2} H D^{-1/2}`,
    :math:`D = \operatorname{diag}(H)`, whose eigenvalues do not depend on the
    units of the parameters. ``H`` is indefinite when any diagonal element is not
    positive or :math:`\lambda_{\min}(S) < -` ``rel_tol``, singular when
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
    lam, Q, scale = scaled_eigh(H) if eig is None else eig
    lo, hi = lam[0], lam[-1]
    indefinite = jnp.any(~(jnp.diag(H) > 0)) | (lo < -rel_tol)
    singular = (~indefinite) & (lo <= rel_tol)
    code = jnp.where(
        indefinite,
        Status.information_indefinite.value,
        jnp.where(singular, Status.information_singular.value, Status.success.value),
    ).astype(jnp.int32)
    ok = ~(indefinite | singular) & jnp.all(jnp.isfinite(lam))
    cond = jnp.where(ok, hi / lo, jnp.inf)
    _, edm, _ = newton_direction(H, g, (lam, Q, scale))
    return code, cond, edm, _inverse(lam, Q, scale, ok)


def _inverse(lam, Q, scale, ok):
    """``A^-1`` from the scaled eigen-decomposition of ``A``; NaN where not ``ok``."""
    inv = (Q / lam) @ Q.T * scale[:, None] * scale[None, :]
    return jnp.where(ok, 0.5 * (inv + inv.T), jnp.nan)


def _inv_pd(A):
    """Inverse of a symmetric positive-definite matrix (NaN if not PD)."""
    lam, Q, scale = scaled_eigh(A)
    return _inverse(lam, Q, scale, (lam[0] > 0) & jnp.all(jnp.diag(A) > 0))


def covariances(problem, kind: str, u, Hinv):
    """Unconstrained and natural-scale covariance at ``u`` (delta method).

    ``Hinv`` is the inverse observed information (NaN when it is not positive
    definite, which makes every kind NaN). ``"opg"`` and ``"sandwich"`` use the
    ``(n, k)`` matrix of per-observation scores.
    """
    if kind == "oim":
        cov_u = Hinv
    elif kind in ("opg", "sandwich"):
        scores = jax.jacfwd(problem.loglik_terms)(u)
        B = scores.T @ scores
        if kind == "opg":
            cov_u = jnp.where(jnp.all(jnp.isfinite(Hinv)), _inv_pd(B), jnp.nan)
        else:
            cov_u = Hinv @ B @ Hinv
            cov_u = 0.5 * (cov_u + cov_u.T)
    else:
        raise ValueError(f"Unknown covariance kind {kind!r}; use one of {COV_KINDS}.")
    J = jax.jacfwd(lambda v: problem.spec.natural_flat(v, problem.fixed_leaves))(u)
    return cov_u, J @ cov_u @ J.T
