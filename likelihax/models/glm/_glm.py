r"""Generalized linear models through the likelihax engine.

:func:`glm` builds the per-observation log-density of a family and link and the
model's expected information through the linear predictor,
:math:`c_i = m_i\,\mu'(\eta_i)^2 / (V(\mu_i)\,\phi)`, and hands both to
:func:`likelihax.fit`; ``method="fisher"`` (default) is Fisher scoring, which
for GLMs is R's IRLS. Standard errors, log-likelihood, deviance and dispersion
follow R's ``glm``/``summary.glm`` (and statsmodels ``GLM``); NB2 estimates
:math:`\alpha` jointly by maximum likelihood (as statsmodels
``NegativeBinomial(loglike_method="nb2")``).
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ...core import LikelihaxWarning, x64_scope
from ...data import checked_device, checked_view
from ...engine import Model
from ...engine import fit as engine_fit
from ...parameters import constraints as C
from .._design import Design, check_rank, design, from_arrays
from ._family import (
    CANONICAL_KERNELS,
    CONST_TERMS,
    DISPERSION,
    Family,
    const_terms,
    count_table,
    get_family,
)
from ._link import LINKS, Link
from ._result import GLMResult, SeparationWarning

__all__ = ["GLMResult", "SeparationWarning", "glm", "irls"]


# ----- model functions: one object per (family, link, columns), so fits reuse the
# compiled program


@functools.lru_cache(maxsize=256)
def _model_fns(family: Family, link: Link, columns: tuple, scalar: str | None):
    loglik, fisher = _build_fns(family, link, columns, scalar, batched=False)
    # The same log-likelihood for batched refits (bootstrap, profiles): see
    # likelihax.inference._refit.Refitter.
    loglik.batched = _build_fns(family, link, columns, scalar, batched=True)[0]
    return loglik, fisher


def _build_fns(family, link, columns, scalar, batched):
    """Log-likelihood and expected information of one GLM.

    ``scalar`` names the parameter besides the coefficients: ``"alpha"``
    (NB2), ``DISPERSION`` (the dispersion as a parameter instead of the data
    field ``phi``), or None.
    """

    def beta(p):
        return jnp.stack([p[c] for c in columns])

    def linear(p, d):
        # Same numbers, two layouts. Under vmap over replicates, X @ beta puts
        # the replicate axis last in eta and XLA:CPU transposes (B, n) arrays
        # against the replicate-first weights at every evaluation; beta @ X'
        # puts it first (1,000 bootstrap refits of a logistic regression, N =
        # 1,000: 3x faster). For one fit X @ beta is the faster (N = 10^6: 25%).
        if batched:
            return beta(p) @ d["X"].T + d["offset"]
        return d["X"] @ beta(p) + d["offset"]

    def eta_mu(p, d):
        eta = linear(p, d)
        return eta, link.inverse(eta)

    def alpha_phi(p, d, value=None):
        """``(alpha, phi)``, with ``value`` in place of the scalar parameter."""
        a = p[scalar] if value is None and scalar else value
        return (a, d["phi"]) if scalar == "alpha" else (None, a if scalar else d["phi"])

    canonical_kernel = CANONICAL_KERNELS.get((family.name, link.name))

    def terms(p, d, value=None):
        eta, mu = eta_mu(p, d)
        alpha, phi = alpha_phi(p, d, value)
        kw = {"const": d["const"]} if "const" in d else {}
        if "grid" in d:
            kw["table"] = (d["yi"], d["grid"])
        ll = family.loglik(d["y"], eta, mu, link, d["m"], phi, alpha, **kw)
        # NaN outside the range of the mean (mu <= 0 for identity-link Poisson,
        # mu >= 1 for log-link binomial), where the density formula can still be
        # finite: the line search then steps back into the range.
        return jnp.where(link.eta_valid(eta) & family.mu_valid(mu), ll, jnp.nan)

    def loglik(p, d):
        if canonical_kernel is not None and "const" in d:
            # Natural-parameter form (y*eta - b(eta)) * m + const: one
            # transcendental per row, and the mean is always in range.
            eta = linear(p, d)
            return canonical_kernel(d["y"], eta, d["m"]) + d["const"]
        return terms(p, d)

    def fisher(p, d):
        eta, mu = eta_mu(p, d)
        alpha, phi = alpha_phi(p, d)
        c = d["m"] * link.deriv(eta) ** 2 / family.variance(mu, alpha) / phi
        if not scalar:
            return eta, c
        # The scalar parameter s is a second linear predictor (eta_i2 = s).
        # Its cross information with the coefficients is zero in expectation
        # (E d2l/dbeta ds = 0 for NB2's alpha and for phi); its own entry is
        # the observed -d2 l_i / ds2 (forward over forward mode: l_i depends on
        # s through row i only), as MASS's theta.ml for NB2.
        s, one = p[scalar], jnp.ones_like(p[scalar])

        def d_ds(v):
            return jax.jvp(lambda t: terms(p, d, t), (v,), (one,))[1]

        c_s = -jax.jvp(d_ds, (s,), (one,))[1]
        eta2 = jnp.stack([eta, jnp.broadcast_to(s, eta.shape)], axis=-1)
        zero = jnp.zeros_like(c)
        c2 = jnp.stack([jnp.stack([c, zero], -1), jnp.stack([zero, c_s], -1)], -2)
        return eta2, c2

    loglik.__name__ = f"glm_{family.name}_{link.name}"
    return loglik, fisher


def _resolve_link(fam: Family, link) -> Link:
    name = fam.canonical if link is None else link
    if isinstance(name, Link):
        return name
    if name not in LINKS or LINKS[name].name not in fam.links:
        raise ValueError(
            f"Link {name!r} is not available for the {fam.name} family; use one "
            f"of {', '.join(fam.links)}."
        )
    return LINKS[name]


def _bad_rows(mask, rows, what, hint):
    bad = np.flatnonzero(mask)
    if bad.size:
        raise ValueError(
            f"{bad.size} response value(s) {what}: rows {rows[bad[:5]].tolist()}"
            f"{' ...' if bad.size > 5 else ''}. {hint}"
        )


def _response(fam: Family, des: Design, trials):
    """(y on the mean scale, trials m) after checking the support."""
    y = des.y
    if not np.issubdtype(np.asarray(y).dtype, np.number) and np.asarray(y).dtype != bool:
        raise TypeError(
            f"The response {des.response!r} must be numeric for a GLM; got dtype "
            f"{np.asarray(y).dtype}. Code a binary outcome as 0/1."
        )
    y = np.asarray(y, dtype=np.float64)
    if trials is not None and fam.name != "binomial":
        raise ValueError("`trials` applies to the binomial family only.")
    m = _filled(1.0, y.shape[0])
    if fam.name == "binomial":
        if trials is None:
            _bad_rows(~((y == 0) | (y == 1)), des.rows, "are not 0 or 1",
                      "A binary response must be 0/1; for counts of successes give "
                      "trials=.")  # fmt: skip
        else:
            m = trials
            _bad_rows(~((m > 0) & (m == np.round(m))), des.rows,
                      "have trials that are not positive integers",
                      "Give the number of trials (>= 1) of each row.")  # fmt: skip
            _bad_rows(~((y >= 0) & (y == np.round(y))), des.rows,
                      "are not non-negative integer successes",
                      "The response is the number of successes.")  # fmt: skip
            _bad_rows(y > m, des.rows, "have successes > trials",
                      "Check the response and the trials columns.")  # fmt: skip
            y = y / m
        return y, m
    if fam.name in ("poisson", "negative.binomial"):
        _bad_rows(y < 0, des.rows, "are negative counts",
                  f"The {fam.name} family needs counts 0, 1, 2, ....")  # fmt: skip
    _bad_rows(~fam.support(y), des.rows, f"are outside the support ({fam.support_text})",
              f"The {fam.name} family needs {fam.support_text}.")  # fmt: skip
    return y, m


def _inputs(formula_or_y, data_or_X, *, weights, offset, exposure, trials, missing,
            columns):  # fmt: skip
    extra = {"weights": weights, "offset": offset, "exposure": exposure,
             "trials": trials}  # fmt: skip
    if isinstance(formula_or_y, str):
        if data_or_X is None:
            raise TypeError("glm(formula, data): `data` is missing.")
        return design(formula_or_y, data_or_X, missing=missing,
                      extra={k: v for k, v in extra.items() if v is not None})  # fmt: skip
    if data_or_X is None:
        raise TypeError("glm(y, X): the model matrix X is missing.")
    des = from_arrays(formula_or_y, data_or_X, columns)
    ex = {}
    for k, v in extra.items():
        if v is None:
            continue
        a = np.array(v, dtype=np.float64)
        if a.shape != (des.nobs,):
            raise ValueError(
                f"`{k}` must have one value per row ({des.nobs}); got shape {a.shape}."
            )
        if not np.all(np.isfinite(a)):
            bad = np.flatnonzero(~np.isfinite(a))
            raise ValueError(f"`{k}` has non-finite values at rows {bad[:5].tolist()}.")
        ex[k] = a
    return Design(des.y, des.X, des.columns, des.response, des.rows, 0, None, ex)


def _valid_eta(fam, link, eta):
    with x64_scope():
        ok = np.asarray(link.eta_valid(jnp.asarray(eta)))
        mu = np.asarray(link.inverse(jnp.asarray(eta)))
    return bool(np.all(ok & fam.mu_valid(mu)))


def _intercept_start(fam, link, X, y, m, w, offset):
    """Intercept = link(weighted mean of y), other coefficients 0 (or None)."""
    # A column equal to 1 in the first and last rows and in about a thousand
    # rows between is taken as the intercept *of the start* (a full check reads
    # a strided column of X: 11 ms at N = 1e6). Were it not constant, the start
    # would still be valid: canonical links accept any linear predictor and
    # the others are checked on every row below.
    step = max(1, X.shape[0] // 1024)
    cand = np.flatnonzero((X[0] == 1.0) & (X[-1] == 1.0))
    ones = [j for j in cand if np.all(X[::step, j] == 1.0)]
    if not ones:
        return None
    beta = np.zeros(X.shape[1])
    ybar = np.sum(w * m * y) / np.sum(w * m)
    with x64_scope():
        beta[ones[0]] = float(link.link(jnp.asarray(ybar)))
    if not np.all(np.isfinite(beta)):
        return None
    # Logit-binomial and log-Poisson accept every linear predictor: no check.
    if (fam.name, link.name) in CANONICAL_KERNELS or _valid_eta(
        fam, link, X @ beta + offset
    ):
        return beta
    return None


def _start(fam, link, X, y, m, w, offset, columns, cheap=False):
    """Starting coefficients: R's first IRLS step from ``family$mustart``; if that
    leaves the range of the mean, intercept = link(weighted mean of y), others 0.

    ``cheap``: try the intercept-only start first (canonical links, where
    Newton converges from it in about one more step than from the IRLS step,
    which needs a weighted least-squares pass over the data).
    """
    if cheap:
        beta = _intercept_start(fam, link, X, y, m, w, offset)
        if beta is not None:
            return beta
    beta = irls(fam, link, X, y, m, w, offset)
    if beta is not None:
        return beta
    beta = _intercept_start(fam, link, X, y, m, w, offset)
    if beta is not None:
        return beta
    raise ValueError(
        f"Cannot find starting values inside the range of the {fam.name} mean with "
        f"the {link.name} link (columns {columns}). Pass start= (coefficients in "
        "column order) giving a valid mean for every row."
    )


def irls(fam, link, X, y, m, w, offset, steps: int = 1, tol: float = 0.0):
    r"""Coefficients after up to ``steps`` IRLS steps from R's ``family$mustart``
    (NumPy), or None when the first step leaves the range of the mean.

    Each step is the weighted least-squares fit of the working response
    :math:`z = \eta - o + (y - \mu)/\mu'(\eta)` with weights
    :math:`w m \mu'(\eta)^2 / V(\mu)`; the iteration stops after ``steps``
    steps, when the coefficients move by less than ``tol``, or before a step
    that leaves the range of the mean (the last valid coefficients are
    returned). ``y`` is on the mean scale (proportions for the binomial, of
    ``m`` trials).

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.glm import LINKS, get_family, glm
    >>> from likelihax.models.glm._glm import irls
    >>> X = np.column_stack([np.ones(5), [1.0, 2, 3, 4, 5]])
    >>> y = np.array([1.0, 3, 2, 6, 8])
    >>> beta = irls(get_family("poisson"), LINKS["log"], X, y, 1.0, 1.0, 0.0,
    ...             steps=50, tol=1e-12)
    >>> bool(np.allclose(beta, glm(y, X, family="poisson").coef, rtol=1e-8))  # the MLE
    True
    """
    with x64_scope():
        mu = fam.mustart(y, m)
        eta = np.asarray(link.link(jnp.asarray(mu)))
    if not (np.all(np.isfinite(eta)) and _valid_eta(fam, link, eta)):
        return None
    beta = None
    for k in range(steps):
        if k:
            mu = _mu(link, eta)
        with x64_scope():
            d = np.asarray(link.deriv(jnp.asarray(eta)))
            v = np.asarray(fam.variance(jnp.asarray(mu), 1.0))
        z = eta - offset + (y - mu) / d
        wt2 = w * m * d**2 / v
        # Weighted least squares by the p x p normal equations (one pass over
        # X; a QR/SVD of the n x p matrix costs several times more at large n).
        XtW = X.T * wt2
        try:
            new = np.linalg.solve(XtW @ X, XtW @ z)
        except np.linalg.LinAlgError:
            wt = np.sqrt(wt2)
            new, *_ = np.linalg.lstsq(X * wt[:, None], z * wt, rcond=None)
        eta_new = X @ new + offset
        if not (np.all(np.isfinite(new)) and _valid_eta(fam, link, eta_new)):
            break
        done = beta is not None and np.max(np.abs(new - beta)) < tol
        beta, eta = new, eta_new
        if done:
            break
    return beta


def _lean(data: dict) -> dict:
    """The engine's copy of the data: a per-row offset of zeros, trials of ones
    and constant terms of zeros become scalars, so the compiled log-likelihood
    reads only ``y`` and ``X`` per row (as a hand-written one would)."""
    out = dict(data)
    for key, value in (("offset", 0.0), ("m", 1.0), ("const", 0.0)):
        x = out.get(key)
        if isinstance(x, np.ndarray) and x.ndim == 1 and (
            (x.strides == (0,) and x.size and x[0] == value)  # a _filled() row
            or bool(np.all(x == value))
        ):
            out[key] = np.float64(value)
    return out


def _filled(value: float, n: int) -> np.ndarray:
    """``n`` copies of ``value`` as a read-only view of one number (no memory,
    and :func:`_lean` knows it without reading ``n`` values)."""
    return np.broadcast_to(np.float64(value), (n,))


def _engine(fam, link, columns, params, data, constraints, *, w, weight_type, method,
            cov, fit_kwargs, free_dispersion=False):  # fmt: skip
    """The engine's fit of one GLM; ``free_dispersion``: the dispersion is the
    parameter ``DISPERSION`` in ``params`` (the full likelihood) rather than
    the data field ``phi``."""
    data = _lean(data)
    scalar = "alpha" if fam.has_alpha else (DISPERSION if free_dispersion else None)
    loglik, fisher = _model_fns(fam, link, tuple(columns), scalar)
    model = Model(loglik, params, constraints=constraints,
                  name=f"GLM {fam.name} ({link.name})", fisher=fisher)  # fmt: skip
    return engine_fit(model, data, method=method, cov=cov, weights=w,
                      weight_type=weight_type, **fit_kwargs)  # fmt: skip


def glm(
    formula_or_y: Any,
    data_or_X: Any = None,
    family: str | Family = "gaussian",
    link: str | None = None,
    *,
    weights: Any = None,
    weight_type: str = "frequency",
    offset: Any = None,
    exposure: Any = None,
    trials: Any = None,
    missing: str = "raise",
    method: str | None = None,
    cov: str | None = None,
    start: Any = None,
    columns: list | None = None,
    **fit_kwargs: Any,
) -> "GLMResult":
    r"""Fit a generalized linear model by maximum likelihood.

    Parameters
    ----------
    formula_or_y : str or array_like
        A formula ``"y ~ x + C(g) + x:g"`` (needs the ``formula`` extra:
        ``pip install 'likelihax[formula]'``), or the response as an array.
    data_or_X : DataFrame, dict or array_like
        The data for a formula (not modified), or the model matrix ``X`` (n, p)
        with the response array (add an intercept column yourself).
    family : str
        ``"gaussian"``, ``"binomial"``, ``"poisson"``, ``"gamma"``,
        ``"inverse_gaussian"`` or ``"negative_binomial"`` (NB2; R's names work too).
    link : str, optional
        Default the canonical link; see :mod:`likelihax.models.glm._family`.
    weights : column name or array, optional
        Observation weights, ``"frequency"`` by default (a row of weight 3 counts
        as three identical rows, like statsmodels ``freq_weights``); with
        ``weight_type="importance"`` a weighted pseudo-likelihood with sandwich
        standard errors. (R's prior weights for the Gaussian, gamma and inverse
        Gaussian families are variance weights, which differ in the dispersion.)
    offset, exposure : column name or array, optional
        Added to the linear predictor; ``exposure`` adds :math:`\log` exposure and
        needs the log link.
    trials : column name or array, optional
        Binomial numbers of trials; the response is then the number of successes.
    missing : {"raise", "drop"}
        Rows with missing values: an error, or dropped and counted.
    method : {"fisher", "newton", "bfgs", "lbfgs"}, optional
        Default ``"fisher"`` (IRLS) for non-canonical links; ``"newton"`` for
        canonical links (where it is the same iteration: observed and expected
        information coincide, and the engine's fused Newton pass is faster)
        and for NB2.
    cov : str, optional
        Default ``"eim"`` (R and statsmodels: the inverse expected information,
        times the dispersion); ``"oim"`` for canonical links (the same matrix)
        and NB2 (whose ``"eim"`` follows MASS's ``glm.nb``, see Notes);
        ``"sandwich"`` with importance weights.
    start : array_like, optional
        Starting coefficients in column order (default: R's first IRLS step).
    columns : list of str, optional
        Names of the columns of an array ``X``.
    **fit_kwargs
        Passed to :func:`likelihax.fit` (``max_steps``, ``tol``, ...).

    Returns
    -------
    GLMResult

    Raises
    ------
    ValueError
        Responses outside the family's support (naming rows), a rank-deficient
        model matrix (naming the aliased columns), missing values with
        ``missing="raise"``, ``exposure`` with a non-log link, an unknown family
        or link.

    Warns
    -----
    SeparationWarning
        Binary or binomial response separated by the predictors (Notes).

    Notes
    -----
    **Estimation.** :math:`\eta_i = x_i^\top\beta + o_i`, :math:`\mu_i =
    g^{-1}(\eta_i)`. The log-density of each observation and the expected
    information :math:`\sum_i w_i c_i x_i x_i^\top`,
    :math:`c_i = m_i\,\mu'(\eta_i)^2/V(\mu_i)`, go to :func:`likelihax.fit`;
    Fisher scoring with this information is IRLS. The estimates do not depend
    on :math:`\phi`.

    **Dispersion and standard errors** (as R's ``summary.glm`` and statsmodels
    ``GLM``): :math:`\phi = 1` for binomial and Poisson; for the Gaussian, gamma
    and inverse Gaussian :math:`\hat\phi = X^2/(n - p)` with Pearson
    :math:`X^2 = \sum_i w_i m_i (y_i - \hat\mu_i)^2 / V(\hat\mu_i)`, and
    :math:`\mathrm{SE} = \sqrt{\hat\phi\,[\mathcal I^{-1}]_{jj}}` (expected
    information). NB2: :math:`(\beta, \alpha)` jointly by maximum likelihood,
    inverse observed information by default. With ``cov="eim"``, MASS's
    ``glm.nb`` convention: the coefficients' block is the expected information
    :math:`\sum_i w_i c_i x_i x_i^\top` at :math:`\hat\alpha` (for the log
    link :math:`c_i = \mu_i/(1 + \alpha\mu_i)`), the cross block is zero (its
    expectation), and :math:`\alpha` has its observed information
    :math:`-\partial^2\ell/\partial\alpha^2` at :math:`\hat\beta` (no closed
    form for its expectation). So the coefficients' SEs are those of
    ``summary(glm.nb(...))`` and statsmodels ``GLM(y, X,
    family=NegativeBinomial(alpha=alpha_hat))``, and
    :math:`\mathrm{SE}(\hat\alpha) = \mathrm{SE}(\hat\theta)/\hat\theta^2`
    with MASS's ``SE.theta`` for :math:`\theta = 1/\alpha`.

    **Log-likelihood and AIC** follow R's ``logLik.glm``: for the Gaussian,
    gamma and inverse Gaussian the density is evaluated at
    :math:`\phi = D/n` (deviance over observations; for the Gaussian this is the
    ML :math:`\hat\sigma^2`), and AIC counts :math:`p + 1` parameters.
    statsmodels' ``llf`` agrees for binomial, Poisson, NB2 and the
    identity-link Gaussian; for the gamma, inverse Gaussian and log-link
    Gaussian it evaluates the density at the Pearson :math:`\hat\phi` instead
    (``family.loglike(y, mu, scale=D/n)`` gives R's value). The engine's summary
    header counts :math:`p` parameters in its AIC; :attr:`GLMResult.aic` is R's.

    **Separation** (binomial): when some fitted means are within 1e-8 of 0 or 1,
    the linear program of Konis (2007) checks for a direction :math:`d \ne 0`
    with :math:`(2y_i - 1)\,x_i^\top d \ge 0` for every row (with scipy; else the
    weakest direction of the information is reported). The MLE does not exist
    then; the warning names the variables of that direction.

    References
    ----------
    McCullagh, P. and Nelder, J. A. (1989). *Generalized Linear Models*, 2nd ed.
    Konis, K. (2007). Linear programming algorithms for detecting separated data
    in binary logistic regression models. DPhil thesis, Oxford.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from likelihax.models.glm import glm
    >>> df = pd.DataFrame({"y": [2, 3, 6, 7, 8, 9, 10, 12, 15],
    ...                    "x": [1.0, 2, 3, 4, 5, 6, 7, 8, 9]})
    >>> res = glm("y ~ x", df, family="poisson")
    >>> np.round(res.coef, 6).tolist()
    [0.981845, 0.194838]
    >>> round(float(res.deviance), 6)
    1.510273
    """
    fam = get_family(family)
    lnk = _resolve_link(fam, link)
    if exposure is not None and lnk.name != "log":
        raise ValueError(
            f"exposure= needs the log link (it adds log(exposure) to the linear "
            f"predictor); the link is {lnk.name!r}. Use offset= instead."
        )
    des = _inputs(formula_or_y, data_or_X, weights=weights, offset=offset,
                  exposure=exposure, trials=trials, missing=missing, columns=columns)  # fmt: skip
    y, m = _response(fam, des, des.extra.get("trials"))
    n = des.nobs
    off = des.extra.get("offset", _filled(0.0, n))
    if "exposure" in des.extra:
        ex = des.extra["exposure"]
        _bad_rows(~(ex > 0), des.rows, "have exposure <= 0", "Exposure must be > 0.")
        off = off + np.log(ex)
    w = des.extra.get("weights")
    if fam.has_alpha and "alpha" in des.columns:
        raise ValueError("A column is named 'alpha', the NB2 dispersion; rename it.")
    wn = np.ones(n) if w is None else w
    if start is None and fam.has_alpha:
        # NB2 starts from the Poisson fit (as MASS::glm.nb), below.
        beta0 = None
    elif start is None:
        beta0 = _start(fam, lnk, des.X, y, m, wn, off, des.columns,
                       cheap=lnk.name == fam.canonical)
    else:
        beta0 = np.asarray(start, dtype=np.float64).reshape(-1)
        if beta0.shape != (des.X.shape[1],):
            raise ValueError(f"start must have {des.X.shape[1]} values (one per column).")
    # Canonical link: observed = expected information, so Newton *is* Fisher
    # scoring; the engine's fused Newton pass is the faster of the two.
    canonical = lnk.name == fam.canonical
    method = method or ("newton" if fam.has_alpha or canonical else "fisher")
    if method == "fisher" and fam.has_alpha:
        raise ValueError(
            "method='fisher' is not available for NB2 (alpha's expected "
            "information has no closed form; cov='eim' uses its observed "
            "information, as MASS::glm.nb); use method='newton' (default)."
        )
    if cov is None and not (w is not None and weight_type == "importance"):
        cov = "oim" if fam.has_alpha or canonical else "eim"
    # Every field was checked finite above or when the design was built (or
    # is computed from checked ones): the engine does not read them again.
    data = {"y": checked_view(y), "X": checked_view(des.X), "offset": checked_view(off),
            "m": checked_view(m), "phi": np.float64(1.0)}  # fmt: skip
    if fam.name == "binomial" and bool(np.all(m == 1.0)):
        data["const"] = _filled(0.0, n)  # log C(1, y) = 0 for 0/1 responses
    elif fam.name in CONST_TERMS:
        # Poisson and NB2 responses passed their support check (counts).
        data["const"] = checked_view(const_terms(fam.name, y, m, counts=True))
    constraints = None
    irls_start = False
    edata = data  # the engine's data (the result keeps ``data``)
    if fam.has_alpha:
        data.update(count_table(y, n))
        if beta0 is None:
            # IRLS steps (one Poisson, then NB2 with alpha by moments) instead
            # of MASS::glm.nb's Poisson fit; if NB2 does not converge from
            # there, it is refitted from the Poisson MLE (below). X and y go
            # to the device once, for the start and the fit.
            edata = {**data, "X": checked_device(des.X), "y": checked_device(y)}
            params = _nb_start(lnk, des.columns, edata, off, w)
            if params is None:
                beta0 = _start(get_family("poisson"), lnk, des.X, y, np.ones_like(y),
                               wn, off, des.columns)  # fmt: skip
            irls_start = True
        if beta0 is not None:
            params = _nb_params(lnk, des, y, off, wn, beta0)
        constraints = {"alpha": C.positive}
    else:
        params = dict(zip(des.columns, beta0.tolist()))
    engine = functools.partial(_engine, fam, lnk, w=w, weight_type=weight_type,
                               method=method, cov=cov, fit_kwargs=fit_kwargs)  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit1 = engine(des.columns, params, edata, constraints)
        except ValueError:
            # (A start from a sample of rows can leave the range of the mean
            # on a row outside the sample; a data problem raises again below.)
            if not irls_start:
                raise
            fit1 = None
        if irls_start and (fit1 is None or not bool(fit1.converged)):
            del caught[:]
            beta0 = _poisson_start(lnk, des, y, off, w, weight_type, fit_kwargs)
            params = _nb_params(lnk, des, y, off, wn, beta0)
            fit1 = engine(des.columns, params, edata, constraints)
        fit1 = fit1.replace(data=data)  # host arrays, as for every other fit
        # Aliased columns make the information singular; only then (or when it
        # is badly conditioned) is the design scanned for the columns to name.
        # A well-conditioned information proves full rank without a pass over X.
        cond = float(np.asarray(fit1.condition_number))
        if not (math.isfinite(cond) and cond < 1e10):
            check_rank(des.X, des.columns)
        res = GLMResult._build(fit1, fam, lnk, des, data, w, weight_type, engine,
                               _start)
        sep = res._find_separation() if fam.name == "binomial" else None
        res._with_separation(sep)
    for c in caught:
        # Under separation the engine's warnings (unbounded estimates, a
        # singular information) have that one cause, which the
        # SeparationWarning names.
        if sep is None or not issubclass(c.category, LikelihaxWarning):
            warnings.warn_explicit(c.message, c.category, c.filename, c.lineno)
    if sep is not None:
        warnings.warn(sep.message, SeparationWarning, stacklevel=2)
    return res


def _mu(link, eta):
    with x64_scope():
        return np.asarray(link.inverse(jnp.asarray(eta)))


def _moment_alpha(y, mu, w):
    """Method-of-moments NB2 dispersion, the weighted mean of
    ``((y - mu)^2 - mu) / mu^2`` (NumPy or JAX arrays; floored at 0.1 by the callers)."""
    return (w * ((y - mu) ** 2 - mu) / mu**2).sum() / w.sum()


def _nb_params(lnk, des, y, off, wn, beta0):
    """NB2 starting values: the coefficients and alpha by the method of moments."""
    mu = _mu(lnk, des.X @ beta0 + off)
    alpha = max(float(_moment_alpha(y, mu, wn)), 0.1)
    return {**dict(zip(des.columns, beta0.tolist())), "alpha": alpha}


# IRLS steps of NB2 after the Poisson one in the start (see _nb_start), and
# the rows they use at most.
NB_START_STEPS = 2
NB_START_ROWS = 32_768


@functools.cache
def _nb_start_program(link_name: str, tail: bool = True):
    """Compiled NB2 start for one link (see :func:`_nb_start`); ``tail=False``:
    alpha from the rows of the steps too, and no further check of the start
    on every row."""
    fam, lnk = get_family("negative_binomial"), LINKS[link_name]

    def valid(eta):
        return jnp.all(jnp.isfinite(eta) & lnk.eta_valid(eta) & fam.mu_valid(lnk.inverse(eta)))

    def alpha(y, mu, w):
        return jnp.maximum(_moment_alpha(y, mu, w), 0.1)

    def take(a, rows):  # rows of a per-row field (weights and offsets may be scalars)
        return a if rows is None or jnp.ndim(a) == 0 else a[rows]

    @jax.jit
    def program(X, y, w, off, rows):
        full = (X, y, w, off)
        X, y, w, off = (take(a, rows) for a in full)  # the steps on a sample of rows
        # X' stored row by row, made once before the loop: XLA:CPU's X' [W X]
        # is about twice as fast that way (see Problem.with_transposed_data).
        XT = jnp.transpose(X)
        mu0 = fam.mustart(y, 1.0)
        eta0 = lnk.link(mu0)

        def step(i, state):
            # IRLS step i: Poisson working weights (V = mu) first, then NB2
            # ones (V = mu + alpha mu^2, alpha by moments at the current means).
            beta, eta, mu, ok = state
            a = jnp.where(i == 0, 0.0, alpha(y, mu, w))
            if link_name == "log":  # d mu / d eta = mu
                wt = w * mu / (1.0 + a * mu)
                z = eta - off + (y - mu) / mu
            else:
                d = lnk.deriv(eta)
                wt = w * d**2 / (mu + a * mu**2)
                z = eta - off + (y - mu) / d
            # X' [W X, W z] in one product: one pass over X' (start 10% faster).
            G = XT @ jnp.concatenate([X * wt[:, None], (wt * z)[:, None]], axis=1)
            nxt = jnp.linalg.solve(G[:, :-1], G[:, -1])
            eta_nxt = X @ nxt + off
            ok_nxt = valid(eta_nxt)
            # The Poisson step is always taken (its validity decides ``ok``); an
            # NB2 step only when it stays in the range of the mean.
            first = i == 0
            take_it = first | (ok & ok_nxt)
            ok = jnp.where(first, ok_nxt & ok0, ok)
            beta = jnp.where(take_it, nxt, beta)
            eta = jnp.where(take_it, eta_nxt, eta)
            return beta, eta, lnk.inverse(eta), ok

        beta0 = jnp.zeros(X.shape[1], X.dtype)
        ok0 = valid(eta0)
        beta, _, mu_s, ok = jax.lax.fori_loop(
            0, 1 + NB_START_STEPS, step, (beta0, eta0, mu0, jnp.asarray(True))
        )
        if not tail:
            return beta, alpha(y, mu_s, jnp.broadcast_to(w, y.shape)), ok
        X, y, w, off = full
        eta = X @ beta + off  # every row: valid, and alpha by moments
        w = jnp.broadcast_to(w, y.shape)
        return beta, alpha(y, lnk.inverse(eta), w), ok & valid(eta)

    return program


@functools.lru_cache(maxsize=8)
def _sample_rows(n: int, size: int) -> np.ndarray:
    """A fixed random sample of ``size`` row indices out of ``n``, sorted
    (read-only; drawing and sorting it costs about 1 ms, so it is kept)."""
    rows = np.sort(np.random.default_rng(0).integers(0, n, size))
    rows.flags.writeable = False
    return rows


def _nb_start(lnk, columns, data, off, w):
    r"""NB2 starting values, or ``None`` when no valid start is found this way.

    One IRLS step of the Poisson model from R's ``mustart`` (as for the other
    families), then ``NB_START_STEPS`` IRLS steps of NB2 with alpha by the
    method of moments at the current means (working weights
    :math:`w\,(d\mu/d\eta)^2 / (\mu + \alpha\mu^2)`), and alpha by moments
    at the result. A step that leaves the range of the mean is not taken.

    With more than ``2 * NB_START_ROWS`` rows, the steps use a fixed random
    sample of ``NB_START_ROWS`` rows: a start only has to be near the optimum,
    and the sample's estimate is within a few standard errors of it, where
    Newton's convergence is quadratic. For the identity and sqrt links the
    range of the mean and alpha are then checked and computed on every row;
    for the log link (every finite linear predictor is in range) alpha comes
    from the sample too, and the fit's first evaluation is the check (a start
    that fails it is replaced by the Poisson MLE, see :func:`glm`; on the
    benchmark's model this saves 3-5% of the fit). One compiled call, on the
    device arrays ``data["X"]`` and ``data["y"]`` that the fit then uses. On
    the benchmark's N = 1e5 model the NB2 Newton iterations go from 7 (10
    evaluations, from the Poisson step alone) to 3 (4 evaluations; 4 on all
    rows for 8 simulated data sets, 4.1 on average with the sample), and the
    start takes about half as long as on all rows (6 ms against 12 ms,
    measured interleaved). (MASS::glm.nb fits the Poisson model first.)
    Estimates do not depend on the start beyond the convergence tolerance
    (tested).
    """
    X = data["X"]
    n = X.shape[0]
    rows = _sample_rows(n, NB_START_ROWS) if n > 2 * NB_START_ROWS else None
    # Zero offsets and unit weights go in as scalars (no per-row transfer).
    off = np.float64(0.0) if not np.any(off) else off
    w = np.float64(1.0) if w is None else w
    with x64_scope():
        # Without a sample the steps already saw every row. With one, the log
        # link maps every finite linear predictor into the range of the mean,
        # so its start is not checked on every row here: the fit's first
        # evaluation does that (and glm() falls back when it fails).
        program = _nb_start_program(lnk.name, rows is not None and lnk.name != "log")
        beta, a0, ok = program(X, data["y"], w, off, rows)
        beta, a0 = np.asarray(beta), float(a0)
    if not bool(ok) or not (np.all(np.isfinite(beta)) and math.isfinite(a0)):
        return None
    return {**dict(zip(columns, beta.tolist())), "alpha": a0}


def _poisson_start(lnk, des, y, off, w, weight_type, fit_kwargs):
    """NB2 starting coefficients: the Poisson fit (as MASS::glm.nb)."""
    pois = get_family("poisson")
    wn = np.ones(des.nobs) if w is None else w
    beta0 = _start(pois, lnk, des.X, y, np.ones_like(y), wn, off, des.columns)
    # const = 0: only the coefficients are used, so the log(y!) terms are left
    # out and the canonical kernel y*eta - exp(eta) is evaluated (no log-gamma).
    data = {"y": y, "X": des.X, "offset": off, "m": np.ones_like(y),
            "phi": np.float64(1.0), "const": np.float64(0.0)}  # fmt: skip
    kw = {k: v for k, v in fit_kwargs.items() if k != "warn"} | {"warn": False}
    f = _engine(pois, lnk, des.columns, dict(zip(des.columns, beta0.tolist())), data,
                None, w=w, weight_type=weight_type, method="fisher", cov="eim",
                fit_kwargs=kw)  # fmt: skip
    params = f.params
    b = np.array([float(params[c]) for c in des.columns])
    return b if np.all(np.isfinite(b)) else beta0

