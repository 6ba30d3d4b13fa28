r"""Reporting conventions of GLMs: prior (variance) weights, a fixed NB2 dispersion,
and the log-likelihood at R's, statsmodels' and Stata's dispersion.

The estimates of a GLM do not depend on these choices; the reported
log-likelihood (hence AIC, BIC and likelihood-ratio statistics), the number of
observations and the dispersion do.

**Weights.** ``weight_type="frequency"``: a row of weight :math:`w_i` counts as
:math:`w_i` identical rows (statsmodels ``freq_weights``); ``nobs`` is
:math:`\sum_i w_i`. ``weight_type="variance"``: prior weights (R
``glm(weights=)``, statsmodels ``var_weights``), row :math:`i` has dispersion
:math:`\phi/w_i`; ``nobs`` is the number of rows of positive weight, so
:math:`\hat\phi = X^2/(n - p)` with :math:`X^2 = \sum_i w_i (y_i -
\hat\mu_i)^2/V(\hat\mu_i)`. Estimates and (model-based) standard errors are
R's and statsmodels' for both; robust covariances of a variance-weighted fit
come from ``res.fit.vcov(kind)`` (the meat with :math:`w_i^2`, as
statsmodels).

**Binomial proportions with prior weights.** As R's ``glm(s / n ~ x,
binomial, weights = n)``, a binomial response of proportions :math:`y_i \in
[0, 1]` with ``weight_type="variance"`` weights :math:`w_i` is the model of
:math:`w_i y_i` successes in :math:`w_i` trials, the same as ``trials=``
(R's ``cbind(s, n - s)``): same estimates, standard errors, deviance and
log-likelihood, which for the binomial includes :math:`\log\binom{w_i}{w_i
y_i}` as R's ``logLik``. The weights must then be whole numbers of trials
(> 0) and :math:`w_i y_i` whole numbers of successes. A 0/1 response with
prior weights needs no such reading: its binomial coefficients are 1.

**Log-likelihood of the Gaussian, gamma and inverse Gaussian families**
(``llf_convention``; the other families have no free dispersion and every
tool reports :math:`\sum_i w_i \ell_i`):

==============  ============================================================
``"R"``         R's ``logLik.glm`` (the family's ``aic``): Gaussian, the
                density of row :math:`i` at :math:`\phi/w_i` with
                :math:`\phi = D/n`; gamma and inverse Gaussian,
                :math:`\sum_i w_i \ell_i(\phi)` at :math:`\phi = D/\sum_i w_i`
                (so R treats prior weights of these two families as
                frequencies here). With frequency weights every family is
                :math:`\sum_i w_i\ell_i(D/\sum_i w_i)`.
``"statsmodels"``  statsmodels ``GLMResults.llf``: the density of row
                :math:`i` at :math:`\phi/v_i` (:math:`v_i` the variance weight,
                1 without), times its frequency weight, at the Pearson
                :math:`\phi = X^2/(n-p)`; for the identity-link Gaussian at
                :math:`\phi = D/n`.
``"stata"``     Stata ``glm``: the Gaussian at :math:`\phi = D/n` (as R); the
                gamma and inverse Gaussian at :math:`\phi = 1` (row :math:`i`
                at :math:`1/v_i`). Stata rescales analytic weights
                (``aweight``) to sum to the number of rows first; pass them
                rescaled to get its numbers. (Stata's ``regress`` with
                ``aweight``: :math:`-\tfrac{n}{2}(1 + \log 2\pi + \log(D/n))`,
                which is this value less :math:`\tfrac12\sum_i \log v_i`.)
==============  ============================================================
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
import numpy as np

from ...core import x64_scope

__all__ = ["LLF_CONVENTIONS", "WEIGHT_TYPES", "convention_loglik", "fixed_nb_alpha",
           "proportion_trials"]

LLF_CONVENTIONS = ("R", "statsmodels", "stata")
WEIGHT_TYPES = ("frequency", "variance", "importance")
# Covariance kinds that read the scores of single rows: computed during the fit
# their meat would treat variance weights as frequencies (afterwards, through
# the result's weight type "variance", it does not).
_ROBUST = ("sandwich", "hc0", "hc1", "hc2", "hc3", "stata", "cluster", "crv3", "opg",
           "hac", "driscoll-kraay")  # fmt: skip


def check_options(weight_type, llf_convention, weights, cov):
    """Validate ``weight_type`` and ``llf_convention``; return the convention's
    canonical name."""
    if weight_type not in WEIGHT_TYPES:
        raise ValueError(f"weight_type must be one of {WEIGHT_TYPES}; got {weight_type!r}.")
    names = {c.lower(): c for c in LLF_CONVENTIONS}
    if not isinstance(llf_convention, str) or llf_convention.lower() not in names:
        raise ValueError(
            f"llf_convention must be one of {LLF_CONVENTIONS}; got {llf_convention!r}."
        )
    if weight_type == "variance" and weights is not None and cov in _ROBUST:
        raise ValueError(
            f"cov={cov!r} with weight_type='variance': fit with the default cov and "
            f"ask for it afterwards, res.fit.vcov({cov!r}) (prior weights in the "
            "meat, as statsmodels' var_weights)."
        )
    return names[llf_convention.lower()]


def fixed_nb_alpha(fam, alpha, theta):
    """The fixed NB2 dispersion :math:`\\alpha` given as ``alpha`` or ``theta``
    (:math:`= 1/\\alpha`), or None when it is estimated."""
    if alpha is None and theta is None:
        return None
    if not fam.has_alpha:
        raise ValueError(
            f"alpha= / theta= fix the NB2 dispersion; the family is {fam.name!r}. Use "
            "family='negative_binomial'."
        )
    if alpha is not None and theta is not None:
        raise ValueError("Give alpha= or theta= (theta = 1/alpha), not both.")
    name, value = ("alpha", alpha) if alpha is not None else ("theta", theta)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}= must be a number; got {type(value).__name__}.") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}= must be a finite number > 0; got {value!r}.")
    return value if name == "alpha" else 1.0 / value


def convention_loglik(fam, link, data, eta, mu, w, weight_type, dev, x2, df_resid,
                      nobs, convention):  # fmt: skip
    """``(phi, loglik)``: the dispersion at which the log-likelihood of a Gaussian,
    gamma or inverse Gaussian GLM is reported, and its value (module notes).

    ``phi`` is NaN where it is not one number for every row (variance weights
    with the Gaussian R convention is still one number: the rows' own
    dispersions are ``phi / w``)."""
    y, m = data["y"], data["m"]
    n_rows = y.shape[0]
    ones = np.ones(n_rows)
    wn = ones if w is None else np.asarray(w, dtype=np.float64)
    variance = weight_type == "variance" and w is not None
    v, f = (wn, ones) if variance else (ones, wn)  # variance and frequency weights
    keep = wn > 0
    gaussian = fam.name == "gaussian"
    if convention == "statsmodels":
        if gaussian and link.name == "identity":
            phi = dev / nobs
        else:
            phi = x2 / df_resid if df_resid > 0 else math.nan
    elif convention == "stata" and not gaussian:
        phi = 1.0
    elif convention == "R" and variance and not gaussian:
        # R's gamma and inverse.gaussian aic: dispersion D / sum(w), weights
        # multiplying the log-density (as frequencies)
        phi, v, f = dev / float(np.sum(wn)), ones, wn
    else:
        phi = dev / nobs
    if not phi > 0:
        return phi, math.nan
    with x64_scope():
        vv = jnp.asarray(np.where(keep, v, 1.0))
        ll = fam.loglik(jnp.asarray(y), jnp.asarray(eta), jnp.asarray(mu), link,
                        jnp.asarray(m), phi / vv, None)  # fmt: skip
        ll = np.asarray(ll)
    return phi, float(np.sum(np.where(keep, f * ll, 0.0)))


def proportion_trials(fam, des, weight_type):
    """The design of binomial proportions with prior weights as successes out of
    trials (module notes); ``des`` itself for every other GLM."""
    w = des.extra.get("weights")
    if (fam.name != "binomial" or weight_type != "variance" or w is None
            or "trials" in des.extra):  # fmt: skip
        return des
    y = np.asarray(des.y, dtype=np.float64)
    if np.all((y == 0) | (y == 1)) or not np.all((y >= 0) & (y <= 1)):
        return des  # binary (as it is), or not proportions (the response check says so)
    s = w * y

    def bad(mask, what):
        rows = des.rows[np.flatnonzero(mask)[:5]].tolist()
        raise ValueError(
            f"weights: a binomial response of proportions with prior weights is "
            f"successes out of weights trials (R's glm(s/n ~ x, binomial, weights = "
            f"n)); rows {rows} {what}. Or give the successes with trials=."
        )

    if np.any(~((w > 0) & (w == np.round(w)))):
        bad(~((w > 0) & (w == np.round(w))), "have weights that are not whole "
            "numbers of trials (>= 1)")
    if np.any(np.abs(s - np.round(s)) > 1e-8 * np.maximum(w, 1.0)):
        bad(np.abs(s - np.round(s)) > 1e-8 * np.maximum(w, 1.0),
            "have weights * y that are not whole numbers of successes")
    extra = {k: v for k, v in des.extra.items() if k != "weights"}
    extra["trials"] = np.asarray(w, dtype=np.float64)
    return dataclasses.replace(des, y=np.round(s), extra=extra)
