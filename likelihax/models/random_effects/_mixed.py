r"""Linear and generalized linear mixed models from lme4-style formulas.

:func:`mixed` fits, for groups :math:`g` with rows :math:`i`,

.. math::

    \eta_{gi} = x_{gi}^\top\beta + z_{gi}^\top b_g, \qquad
    b_g = L v_g,\quad v_g \sim N(0, I_q), \qquad
    \Sigma = \operatorname{Cov}(b_g) = L L^\top,

with :math:`y_{gi} \mid b_g` normal (identity link, SD :math:`\sigma`),
Poisson (log link) or binomial (logit link): the families and links of
:func:`likelihax.glm` (:data:`likelihax.models.glm.FAMILIES`), whose
log-densities and starting values (IRLS) are used here. :math:`L` is lower triangular
with a positive diagonal (parameters ``L_diag``, on the log scale inside the
optimizer, and ``L_off``); the spherical random effects :math:`v_g` are
integrated out by the Laplace approximation (:func:`laplace`), which is exact
for the linear mixed model, and the per-group marginal log-likelihoods are
fitted by the one engine (:func:`likelihax.fit`, Newton, observed information).
As lme4's, the parametrization by :math:`v_g` keeps the inner problem well
posed when a variance goes to zero (:math:`A_g = I + L^\top Z_g^\top W_g Z_g L`).

Standard errors
---------------
Every parameter gets the inverse observed information of the Laplace
log-likelihood (``kind="full"``). For the fixed effects of a *linear* mixed
model lme4's ``vcov`` is instead conditional on the variance parameters,
:math:`\hat\sigma^2 (R_X^\top R_X)^{-1} = (X^\top \hat V^{-1} X)^{-1}`, the
inverse of the :math:`\beta\beta` block of the information rather than the
:math:`\beta` block of its inverse (the two differ because the observed
information has :math:`\beta`-variance cross terms); ``kind="conditional"``
gives it, and the summary of a Gaussian model shows it (as lme4's
``summary.merMod``). For GLMMs lme4 ``glmer`` and glmmTMB report the
:math:`\beta` block of the inverse joint Hessian, as the default ``"full"``.
SDs and correlations of the random effects get delta-method SEs.

Conditional modes (:meth:`MixedResult.ranef`) are :math:`\hat b_g = L\hat v_g`
with conditional SDs from :math:`L A_g^{-1} L^\top` (lme4's ``condVar``).

Boundary fits
-------------
When a random-effect SD goes to zero (lme4's "boundary (singular) fit"), the
log-scale diagonal of :math:`L` runs away and the information becomes singular.
A fit is flagged singular when a diagonal element of :math:`L` (relative to
:math:`\sigma` for the Gaussian family, as lme4's :math:`\theta`) is below
``1e-4``; a :class:`SingularFitWarning` names the term, ``converged`` is False
and the summary says so. The engine's own curvature probe reports such a fit
as ``Status.at_boundary`` (its warning is replaced by the one naming the term).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import jax.numpy as jnp
import numpy as np

from ...core import InformationWarning, Status, x64_scope
from ...engine import fit as engine_fit
from ...optimize import chol, chol_logdet, chol_solve, spd_inverse_logdet
from ...parameters import constraints as C
from ..glm._family import (
    CANONICAL_KERNELS,
    CONST_TERMS,
    Family,
    const_terms,
    get_family,
)
from ..glm._link import LINKS, Link
from ..glm._starts import irls
from ._formula import MixedDesign, mixed_design
from ._laplace import laplace, pad_groups
from ._result import MixedResult, SingularFitWarning
from ._terms import (
    _L,
    GaussianTerms,
    RemlLaplace,
    gaussian_sufficient,
    row_loglik,
    terms_joint,
    terms_layout,
)

__all__ = ["MixedResult", "SingularFitWarning", "mixed"]

_RESERVED = ("sigma", "alpha", "L_diag", "L_off", "v")


@dataclasses.dataclass(frozen=True)
class _Joint:
    """Joint log-density of one group's rows and its spherical effects ``v``.

    The rows' log-density is the GLM family's (the natural-parameter kernel
    for a canonical link, as :func:`likelihax.glm` evaluates it), less its
    parameter-free terms, which enter once per group as ``d["const"]``.
    """

    family: Family
    link: Link
    fixed: tuple
    q: int

    def __call__(self, p, d):
        beta = jnp.stack([p[c] for c in self.fixed])
        u = _L(p, self.q) @ p["v"]
        eta = d["X"] @ beta + d["Z"] @ u + d["offset"]
        ll = row_loglik(self.family, self.link, p, d["y"], eta, d.get("m", 1.0))
        prior = -0.5 * jnp.sum(p["v"] ** 2) - 0.5 * self.q * math.log(2 * math.pi)
        return jnp.sum(d["mask"] * ll) + d["const"] + prior


@dataclasses.dataclass(frozen=True)
class _GaussianMarginal:
    r"""Exact per-group log-likelihood of the linear mixed model (closed form).

    With :math:`V_g = \sigma^2 I + Z_g L L^\top Z_g^\top`,
    :math:`M_g = I_q + L^\top Z_g^\top Z_g L / \sigma^2` and :math:`r = y_g -
    X_g\beta`: :math:`\log\det V_g = 2 n_g\log\sigma + \log\det M_g` and
    :math:`r^\top V_g^{-1} r = (r^\top r - s^\top M_g^{-1} s/\sigma^2)/\sigma^2`,
    :math:`s = L^\top Z_g^\top r` (Woodbury), computed from per-group
    cross-products, so the cost per group does not depend on its size. This is
    the Laplace log-likelihood of :class:`_Joint` (the joint is quadratic in
    the random effects), checked equal in the tests; it is what the engine
    fits for the Gaussian family, the Laplace object giving the conditional
    modes.
    """

    fixed: tuple
    q: int
    reml: bool = False

    def __call__(self, p, d):
        beta = jnp.stack([p[c] for c in self.fixed])
        L = _L(p, self.q)
        s2 = p["sigma"] ** 2
        ZL = d["ZZ"] @ L  # (G, q, q): Z'Z L
        M = jnp.eye(self.q) + jnp.einsum("ji,gjk->gik", L, ZL) / s2
        Zr = d["Zy"] - d["ZX"] @ beta
        rr = (
            d["yy"] - 2 * d["Xy"] @ beta + jnp.einsum("gij,i,j->g", d["XX"], beta, beta)
        )
        s = Zr @ L  # (G, q): L'Z'r
        F = chol(M)
        quad = (rr - jnp.sum(s * chol_solve(F, s), axis=-1) / s2) / s2
        n = d["n"]
        ll = -0.5 * (n * math.log(2 * math.pi) + n * jnp.log(s2) + chol_logdet(F)
                     + quad)  # fmt: skip
        if not self.reml:
            return ll
        # REML (see ._terms): X'V^-1 X summed over the groups, one scalar.
        D = jnp.einsum("ji,gjk->kgi", L, d["ZX"])  # (p, G, q): L'Z'X per column
        XVX = (jnp.sum(d["XX"], 0) - jnp.einsum("agi,bgi->ab", D, chol_solve(F, D))
               / s2) / s2  # fmt: skip
        p_ = len(self.fixed)
        return (jnp.sum(ll) + 0.5 * p_ * math.log(2 * math.pi)
                - 0.5 * spd_inverse_logdet(XVX)[1])  # fmt: skip


def _cross_products(padded):
    """Per-group cross-products of the padded Gaussian data."""
    X, Z, y, w = padded["X"], padded["Z"], padded["y"], padded["mask"]
    Xw, Zw = X * w[..., None], Z * w[..., None]
    return {
        "yy": np.einsum("gi,gi->g", y * w, y), "Xy": np.einsum("gia,gi->ga", Xw, y),
        "XX": np.einsum("gia,gib->gab", Xw, X), "Zy": np.einsum("gia,gi->ga", Zw, y),
        "ZX": np.einsum("gia,gib->gab", Zw, X), "ZZ": np.einsum("gia,gib->gab", Zw, Z),
        "n": w.sum(axis=1),
    }  # fmt: skip


def _const(fam: Family, link: Link, y, m):
    """Parameter-free terms of the rows' log-densities (log binomial
    coefficients, -log y!) where :func:`row_loglik` leaves them out (the
    canonical kernels), computed once; zeros elsewhere."""
    if (fam.name, link.name) in CANONICAL_KERNELS and fam.name in CONST_TERMS:
        return const_terms(fam.name, y, m)
    return np.zeros(y.shape[0])


def _response(fam: Family, y, trials, response):
    """``(y on the mean scale, trials m)`` after checking the support: the
    binomial response is the proportion of successes (0 where there are no
    trials), as in :func:`likelihax.glm`."""
    if fam.name == "poisson" and (np.any(y < 0) or np.any(y != np.round(y))):
        raise ValueError(
            f"The Poisson response {response!r} must be non-negative integer counts."
        )
    if fam.name != "binomial":
        bad = np.flatnonzero(~np.asarray(fam.support(y), bool))
        if bad.size:
            raise ValueError(
                f"The {fam.name} response {response!r} must be {fam.support_text}; "
                f"rows {bad[:5].tolist()} are not (values {y[bad[:5]].tolist()})."
            )
        return y, np.ones_like(y)
    if trials is None:
        if np.any((y != 0) & (y != 1)):
            raise ValueError(
                f"The binomial response {response!r} must be 0/1, "
                "cbind(successes, failures), or proportions with weights= "
                "(the numbers of trials)."
            )
        return y, np.ones_like(y)
    if np.any(trials < 0) or np.any(y < 0) or np.any(y > trials + 1e-9):
        raise ValueError(
            f"The binomial response {response!r} needs 0 <= successes <= trials "
            "(proportions between 0 and 1 with weights=)."
        )
    return np.where(trials > 0, y / np.where(trials > 0, trials, 1.0), 0.0), trials


def mixed(
    formula: str,
    data: Any,
    family: str = "gaussian",
    *,
    link: str | None = None,
    offset: Any = None,
    weights: Any = None,
    missing: str = "raise",
    start: dict | None = None,
    reml: bool | None = None,
    n_agq: int = 1,
    **fit_kwargs: Any,
) -> MixedResult:
    r"""Fit a linear or generalized linear mixed model from an lme4-style formula.

    Parameters
    ----------
    formula : str
        ``"y ~ x + (1 + x | g)"``: fixed effects as in :func:`likelihax.glm`,
        plus random-effect terms ``(expr | g)`` (``(x | g)`` has a correlated
        random intercept and slope, ``(0 + x | g)`` a slope only), as many as
        needed: crossed ``(1 | a) + (1 | b)``, nested ``(1 | a/b)``,
        interactions ``(1 | a:b)``, uncorrelated ``(x || g)``. Binomial responses: 0/1, ``cbind(successes, failures)``, or
        proportions with ``weights=`` the numbers of trials.
    data : pandas.DataFrame or dict of columns
        Not modified.
    family : str
        A family of :func:`likelihax.glm` (its names and aliases: ``"gaussian"``,
        ``"binomial"``, ``"poisson"``, ``"negative_binomial"`` (NB2, glmmTMB's
        ``nbinom2``, dispersion ``alpha`` = 1/theta), ``"gamma"``,
        ``"inverse_gaussian"``). Families with a dispersion get the parameter
        ``sigma`` with :math:`\phi = \sigma^2` (the residual SD for the
        Gaussian; glmmTMB's ``sigma`` for the Gamma).
    link : str, optional
        One of the family's links (:func:`likelihax.glm`'s); default the
        canonical one, as R. The Gaussian family takes the identity link.
    offset : str or array, optional
        A column name or an array added to the linear predictor (e.g. log
        exposure).
    weights : str or array, optional
        Binomial trials for a proportion response (as ``glmer``'s ``weights``).
    missing : {"raise", "drop"}
        Rows with missing values in a variable of the formula.
    start : dict, optional
        Starting values by parameter name (fixed-effect names, ``sigma``,
        ``L_diag``, ``L_off``; with several terms ``L_diag(<term>)``,
        ``L_off(<term>)``).
    reml : bool, optional
        Restricted maximum likelihood. Default: True for the Gaussian family
        (as ``lmer``; exact), False otherwise. For other families, the fixed
        effects are integrated out with the random effects by one Laplace
        approximation (glmmTMB's ``REML = TRUE``; see
        :class:`~likelihax.models.random_effects._terms.RemlLaplace`).
    n_agq : int
        Adaptive Gauss-Hermite quadrature nodes per group (``glmer``'s
        ``nAGQ``) for a GLMM with one scalar random effect (``(1 | g)``); 1,
        the default, is the Laplace approximation.
    **fit_kwargs
        Passed to :func:`likelihax.fit` (``max_steps``, ``tol``, ``verbose``, ...).

    Returns
    -------
    MixedResult
        Fixed effects, random-effect SDs and correlations, conditional modes,
        log-likelihood, AIC/BIC, and an lme4-like ``summary()``.

    Raises
    ------
    KeyError
        A grouping column or the offset column is not in ``data``.
    ValueError
        An unknown family or a link the family does not have, missing values
        (``missing="raise"``), a response outside the family's support, a
        rank-deficient fixed or random design, a grouping factor with one
        level, a Gaussian model with no more observations than random effects
        of a term, ``n_agq > 1`` without one scalar random-effect term.
    NotImplementedError
        The Gaussian family with a link other than the identity; a grouping
        expression other than column names joined by ``:`` or ``/``.

    Notes
    -----
    Laplace approximation of :math:`\int p(y \mid b)\,p(b)\,db` (exact for
    the Gaussian family; lme4 ``lmer``, ``glmer(nAGQ = 1)`` and glmmTMB compute
    the same quantity). One term: the groups are independent and solved as a
    batch (:mod:`likelihax.models.random_effects._mixed`: parametrization,
    standard errors, boundary check). Several terms: all random effects at
    once, exactly from cross-products for the Gaussian family, by
    :func:`integrate` with the design's sparsity otherwise
    (:mod:`likelihax.models.random_effects._terms`, also for REML).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from likelihax.models.random_effects import mixed
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(20), 8)
    >>> x = rng.normal(size=160)
    >>> y = 1.0 + 0.5 * x + rng.normal(size=20)[g] + 0.5 * rng.normal(size=160)
    >>> m = mixed("y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": g}))
    >>> bool(m.converged), m.ngroups, round(m.fixef["x"], 2)
    (True, 20, 0.63)
    >>> m.model_info.kind, m.model_info.family, m.model_info.link
    ('mixed', 'gaussian', 'identity')
    """
    fam = get_family(family)
    link_name = fam.canonical if link is None else str(link)
    if link_name not in fam.links:
        raise ValueError(
            f"link {link_name!r} is not a link of the {fam.name} family: one of "
            f"{', '.join(fam.links)}."
        )
    gauss = fam.name == "gaussian"
    if gauss and link_name != "identity":
        raise NotImplementedError(
            "mixed() fits the Gaussian family with the identity link (the exact "
            f"linear mixed model); got link {link_name!r}."
        )
    link = LINKS[link_name]
    if weights is not None and fam.name != "binomial":
        raise NotImplementedError(
            "weights= gives the binomial numbers of trials for a proportion "
            f"response; weights for the {fam.name} family are not supported."
        )
    reml = gauss if reml is None else bool(reml)
    des = mixed_design(formula, data, weights=weights, missing=missing, offset=offset)
    y, m = _response(fam, des.y, des.trials, des.response)
    clash = [c for c in des.fixed_names if c in _RESERVED or c.startswith("L_")]
    if clash:
        raise ValueError(
            f"Fixed-effect column(s) {clash} clash with parameter names {_RESERVED}; "
            "rename those columns."
        )
    n = des.X.shape[0]
    for t in des.terms:
        if gauss and (t.n_levels >= n or n <= t.n_levels * t.q):
            raise ValueError(
                f"The grouping factor {t.group!r} has {t.n_levels} levels for {n} "
                f"observations and {t.q} random effect(s) per level: the random-effect "
                "variance(s) and the residual variance are not identified (lme4: "
                "'number of levels of each grouping factor must be < number of "
                "observations'). Use fewer random effects or a coarser grouping."
            )
    if int(n_agq) < 1:
        raise ValueError(f"n_agq must be an integer >= 1 (1: Laplace); got {n_agq}.")
    if int(n_agq) != 1 and (gauss or len(des.terms) > 1 or des.terms[0].q != 1 or reml):
        raise ValueError(
            f"n_agq={n_agq}: adaptive Gauss-Hermite quadrature (n_agq > 1) needs a "
            "GLMM (not the Gaussian family, whose likelihood is exact) fitted by "
            "maximum likelihood (reml=False) with one scalar random-effect term such "
            "as '(1 | g)', as glmer's nAGQ."
        )
    if len(des.terms) > 1 or (reml and not gauss):
        return _fit_terms(fam, link, des, y, m, formula, start, reml, fit_kwargs)
    q = des.Z.shape[1]
    # Parameter-free terms of the rows' log-densities (log binomial
    # coefficients, -log y!), summed per group once instead of at every
    # evaluation; the Gaussian density keeps its constant.
    const = _const(fam, link, y, m)
    cols = {"y": y - des.offset if gauss else y, "X": des.X, "Z": des.Z,
            "const": const, "offset": np.zeros(n) if gauss else des.offset}  # fmt: skip
    if fam.name == "binomial":
        cols["m"] = m
    padded, levels = pad_groups(des.groups, cols)
    padded["const"] = np.sum(padded["const"] * padded["mask"], axis=1)
    params, cons = _start_values(fam, link, des, y, m, start)
    model = laplace(_Joint(fam, link, tuple(des.fixed_names), q), {"v": q},
                    quadratic=gauss, n_agq=int(n_agq))  # fmt: skip
    loglik, fit_data = model, padded
    if gauss:
        loglik = _GaussianMarginal(tuple(des.fixed_names), q, reml)
        fit_data = _cross_products(padded)
    if reml:  # one restricted log-likelihood, not one value per group
        fit_kwargs = {"nobs": n, **fit_kwargs}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = engine_fit(loglik, params, fit_data, constraints=cons, **fit_kwargs)
    fit = fit.annotate(
        name=f"Mixed ({fam.name})",
        header=[("Groups", f"{des.group}: {len(levels)}"), ("Rows", str(n))],
        notes=[
            f"Formula: {formula}.",
            (
                "Observations here are the groups (one marginal log-likelihood "
                "each), so this BIC uses log(groups); MixedResult.bic uses "
                "log(rows) as lme4. L_diag, L_off: Cholesky factor of the "
                "random-effect covariance (see MixedResult.varcorr for SDs and "
                "correlations)."
            ),
        ],
    )
    res = MixedResult(fit, des, fam.name, link.name, formula, levels, padded, model,
                      reml=reml)
    _rewarn(caught, res)
    return res


def _fit_terms(fam, link, des, y, m, formula, start, reml, fit_kwargs):
    """Several terms, or a GLMM by REML: the models of :mod:`._terms` through the engine."""
    gauss = fam.name == "gaussian"
    n = des.X.shape[0]
    lay = terms_layout(des)
    const = _const(fam, link, y, m)
    cols = {"y": y, "X": des.X, "const": const, "offset": des.offset}
    if gauss:  # the offset moves into the response of the exact model
        cols["y"], cols["offset"] = y - des.offset, np.zeros(n)
    if fam.name == "binomial":
        cols["m"] = m
    model, row_data = terms_joint(fam, link, des, lay, cols, gauss, reml and not gauss)
    loglik, fit_data = model, row_data
    if gauss:
        loglik = GaussianTerms(tuple(des.fixed_names), lay, reml)
        fit_data = gaussian_sufficient(des, lay, cols["y"])
    elif reml:  # the fixed effects integrated out with the random effects
        loglik = RemlLaplace(model, tuple(des.fixed_names), lay.n_latent)
    params, cons = _start_values(fam, link, des, y, m, start, lay)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = engine_fit(loglik, params, fit_data, constraints=cons, nobs=n, **fit_kwargs)
    groups = ", ".join(f"{t.group}: {t.n_levels}" for t in des.terms)
    how = ("REML" if gauss else "REML, Laplace") if reml else ("exact ML" if gauss else "Laplace")
    fit = fit.annotate(
        name=f"Mixed ({fam.name}, {how})",
        header=[("Groups", groups), ("Rows", str(n))],
        notes=[f"Formula: {formula}.",
               "L_diag(<term>), L_off(<term>): Cholesky factor of each term's "
               "random-effect covariance (see MixedResult.varcorr for SDs and "
               "correlations)."],
    )  # fmt: skip
    res = MixedResult(fit, des, fam.name, link.name, formula, des.terms[0].levels,
                      row_data, model, layout=lay, reml=reml)  # fmt: skip
    _rewarn(caught, res)
    return res


def _start_values(fam: Family, link: Link, des: MixedDesign, y, m, start, lay=None):
    """Fixed effects of the GLM without random effects (IRLS to convergence),
    random-effect SDs of half the residual SD (Gaussian) or 0.5, by column
    scale. ``lay``: the parameter names of several terms (else ``L_diag``,
    ``L_off`` of the one term)."""
    gauss = fam.name == "gaussian"
    off = des.offset
    beta = irls(fam, link, des.X, y, m, 1.0, off, steps=1 if gauss else 25, tol=1e-8)
    beta = np.zeros(des.X.shape[1]) if beta is None else beta
    params = {c: float(b) for c, b in zip(des.fixed_names, beta)}
    scale = 0.5
    cons = {}
    if gauss:
        sigma = float(np.std(y - off - des.X @ beta)) or 1.0
        params["sigma"] = sigma
        scale = 0.5 * sigma
        cons["sigma"] = C.positive
    elif fam.dispersion or fam.has_alpha:
        # Moment estimates at the fit without random effects: Pearson's phi
        # (sigma = sqrt(phi)), or NB2's alpha from Var = mu + alpha mu^2.
        with x64_scope():
            mu = np.asarray(link.inverse(jnp.asarray(des.X @ beta + off)))
        if fam.has_alpha:
            a = np.mean(((y - mu) ** 2 - mu) / np.maximum(mu, 1e-8) ** 2)
            params["alpha"] = float(np.clip(a, 0.05, 10.0))
            cons["alpha"] = C.positive
        else:
            v = np.asarray(fam.variance(jnp.asarray(mu), None))
            phi = float(np.mean((y - mu) ** 2 / np.maximum(v, 1e-12)))
            params["sigma"] = math.sqrt(phi) if math.isfinite(phi) and phi > 0 else 1.0
            cons["sigma"] = C.positive
    resid, weight = _working(fam, link, des, y, m, beta, params)
    total_var = 0.0  # of the random intercepts' sum, for the fixed effects below
    for t, term in enumerate(des.terms if lay is not None else des.terms[:1]):
        diag, off_name = (lay.diag(t), lay.off(t)) if lay is not None else ("L_diag", "L_off")
        rms = np.sqrt(np.mean(term.Z**2, axis=0))
        rms = np.where(rms > 0, rms, 1.0)
        params[diag] = _moment_sd(term, resid, weight, scale / rms)
        if np.all(term.Z[:, 0] == 1.0):
            total_var += float(params[diag][0]) ** 2
        cons[diag] = C.positive
        if term.q > 1:
            params[off_name] = np.zeros(term.q * (term.q - 1) // 2)
    _conditional_start(params, des, link, total_var)
    for k, v in (start or {}).items():
        if k not in params:
            raise ValueError(f"start names {k!r}, not a parameter: {list(params)}.")
        params[k] = np.asarray(v, dtype=float) if np.ndim(v) else float(v)
    return params, cons


def _working(fam, link, des, y, m, beta, params):
    """Working residuals :math:`(y - \\mu)/\\mu'(\\eta)` and weights
    :math:`m \\mu'^2 / (\\phi V(\\mu))` of the fit without random effects
    (IRLS's, on the scale of the linear predictor)."""
    eta = des.X @ beta + des.offset
    with x64_scope():
        mu = np.asarray(link.inverse(jnp.asarray(eta)))
        d = np.asarray(link.deriv(jnp.asarray(eta)))
        v = np.asarray(fam.variance(jnp.asarray(mu), params.get("alpha", 1.0)))
    phi = params["sigma"] ** 2 if "sigma" in params else 1.0
    ok = np.isfinite(d) & (np.abs(d) > 0) & np.isfinite(v) & (v > 0)
    d, v = np.where(ok, d, 1.0), np.where(ok, v, 1.0)
    return np.where(ok, (y - mu) / d, 0.0), np.where(ok, m * d**2 / (phi * v), 0.0)


def _moment_sd(term, resid, weight, default):
    """Start SDs of a term's effects from the working residuals and weights of
    the fit without random effects (:func:`_working`; for the Gaussian family
    the residuals, weighted by :math:`1/\\hat\\sigma^2`): per level and
    column, the weighted regression of the residuals on that column (one
    scoring step for the level's effect), whose spread over the levels less
    its sampling variance estimates the effect's variance (a moment estimate,
    as ANOVA's, ignoring the other terms). Kept within ``[default / 20, 4
    default]``: a start near the estimate spares Newton the saddle at a zero
    SD that a start far above it can overshoot to, and the steps a start far
    from it costs."""
    n_l = term.n_levels
    sd = np.array(default, dtype=float)
    for j in range(term.q):
        z = term.Z[:, j]
        zz = np.bincount(term.codes, weight * z * z, minlength=n_l)
        ze = np.bincount(term.codes, weight * z * resid, minlength=n_l)
        ok = zz > 0
        if np.sum(ok) < 2:
            continue
        b = ze[ok] / zz[ok]
        var = np.mean(b**2) - np.mean(1.0 / zz[ok])
        sd[j] = np.sqrt(max(var, 0.0))
    return np.clip(sd, np.asarray(default) / 20.0, 4.0 * np.asarray(default))


def _conditional_start(params, des, link, total_var):
    """Fixed effects of the fit without random effects moved towards the
    conditional (subject-specific) ones, given the variance ``total_var`` of
    the random intercepts: for the log link the intercept less half of it
    (:math:`E e^b = e^{\\sigma^2/2}`), for the logit link all coefficients
    times :math:`\\sqrt{1 + 0.346\\,\\sigma^2}` (Zeger, Liang & Albert, 1988)."""
    if total_var <= 0:
        return
    if link.name == "log" and "(Intercept)" in des.fixed_names:
        params["(Intercept)"] -= 0.5 * total_var
    elif link.name == "logit":
        k = math.sqrt(1.0 + 0.346 * total_var)
        for c in des.fixed_names:
            params[c] *= k


# Engine outcomes that a boundary fit explains: the curvature probe's
# at_boundary/unbounded and a singular or indefinite information. Each comes
# with an InformationWarning, as does a converged fit whose information is
# ill-conditioned.
_BOUNDARY_STATUSES = (
    Status.at_boundary,
    Status.unbounded,
    Status.information_singular,
    Status.information_indefinite,
)


def _rewarn(caught, res: MixedResult):
    """Re-emit the engine's warnings; add the boundary (singular) warning.

    At a boundary fit the engine's :class:`~likelihax.core.InformationWarning`
    is replaced by the :class:`SingularFitWarning` naming the term, except
    after a restart from a point that was not a maximum (that warning is
    about several maxima, not about the boundary).
    """
    st = res.fit.status
    explained = res.singular and (
        st in _BOUNDARY_STATUSES or (st == Status.success and not int(res.fit.restarts))
    )
    for w in caught:
        if explained and issubclass(w.category, InformationWarning):
            continue
        warnings.warn(w.message, w.category, stacklevel=3)
    if res.singular:
        warnings.warn(res.singular_message, SingularFitWarning, stacklevel=3)
