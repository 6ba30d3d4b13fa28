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

from ...core import LikelihaxWarning
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
from ._conventions import check_options, fixed_nb_alpha, proportion_trials
from ._link import LINKS, Link
from ._result import GLMResult, SeparationWarning
from ._starts import (
    _nb_params,
    _nb_start,
    _start,
    irls,
)

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


def _dispersion_model(fam, lnk, formula_or_y, data_or_X, dispformula, extra, weighting,
                      **kw):  # fmt: skip
    """A dispersion submodel: :func:`likelihax.models.dispersion.glm_dispersion`."""
    from ..dispersion import glm_dispersion

    given = [k for k, v in extra.items() if v is not None]
    if given or weighting:
        raise ValueError(f"dispformula: {given or ['weight_type']} not supported with a "
                         "dispersion model (offset and frequency weights are).")  # fmt: skip
    return glm_dispersion(fam, lnk, formula_or_y, data_or_X, dispformula, **kw)


def _method_cov(fam, lnk, method, cov, importance, nb_alpha):
    """The default solver and covariance of a GLM (see :func:`glm`)."""
    # Canonical link: observed = expected information, so Newton *is* Fisher
    # scoring; the engine's fused Newton pass is the faster of the two.
    canonical = lnk.name == fam.canonical
    method = method or ("newton" if fam.has_alpha or canonical else "fisher")
    if method == "fisher" and fam.has_alpha and nb_alpha is None:
        raise ValueError(
            "method='fisher' is not available for NB2 (alpha's expected "
            "information has no closed form; cov='eim' uses its observed "
            "information, as MASS::glm.nb); use method='newton' (default)."
        )
    if cov is None and not importance:
        # (NB2: the log link is not canonical; a fixed alpha takes "eim", as R)
        cov = "oim" if (nb_alpha is None and (fam.has_alpha or canonical)) else "eim"
    return method, cov


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
    # (GLM results scale the full covariance by the dispersion: never matrix-free)
    return engine_fit(model, data, method=method, cov=cov, weights=w,
                      weight_type=weight_type, matrix_free=False, **fit_kwargs)  # fmt: skip


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
    dispformula: Any = None,
    alpha: float | None = None,
    theta: float | None = None,
    llf_convention: str = "R",
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
        as three identical rows, like statsmodels ``freq_weights``).
    weight_type : {"frequency", "variance", "importance"}
        ``"variance"``: prior weights (R ``glm(weights=)``, statsmodels
        ``var_weights``), row :math:`i` with dispersion :math:`\phi/w_i`;
        ``nobs`` counts rows, not weights. ``"importance"``: a weighted
        pseudo-likelihood with sandwich standard errors. See
        :mod:`likelihax.models.glm._conventions`.
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
    dispformula : str or array, optional
        A log-linear model of the dispersion, ``"~ z1 + z2"`` (with arrays,
        its model matrix), for the Gaussian, gamma, inverse Gaussian and NB2
        families (R ``dglm``, glmmTMB's ``dispformula``): all coefficients by
        maximum likelihood; returns a
        :class:`~likelihax.models.dispersion.DispersionResult` (see
        :mod:`likelihax.models.dispersion`).
    alpha, theta : float, optional
        NB2 only: the dispersion :math:`\alpha` (or :math:`\theta =
        1/\alpha`) held fixed instead of estimated, as statsmodels
        ``GLM(family=NegativeBinomial(alpha=))`` and R
        ``glm(family=MASS::negative.binomial(theta))``; standard errors from
        the expected information (``cov="eim"``), and AIC counts the
        coefficients only.
    llf_convention : {"R", "statsmodels", "stata"}
        Dispersion at which the log-likelihood of the Gaussian, gamma and
        inverse Gaussian families is reported (R's ``logLik.glm``,
        statsmodels' ``llf``, Stata's ``glm``; see
        :mod:`likelihax.models.glm._conventions`). Other families: no effect.
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
    convention = check_options(weight_type, llf_convention, weights, cov)
    nb_alpha = fixed_nb_alpha(fam, alpha, theta)
    # (Variance weights enter the log-likelihood as frequency weights do: the
    # estimates and the information are the same; nobs and the reported
    # log-likelihood differ, in GLMResult.)
    eweights = "frequency" if weight_type == "variance" else weight_type
    if dispformula is not None:  # a dispersion submodel: another model (its module)
        extra = {"trials": trials, "exposure": exposure, "columns": columns,
                 "method": method, "cov": cov, "alpha/theta": nb_alpha}  # fmt: skip
        return _dispersion_model(fam, lnk, formula_or_y, data_or_X, dispformula, extra,
                                 weight_type != "frequency" or convention != "R",
                                 offset=offset, weights=weights, missing=missing,
                                 start=start, **fit_kwargs)  # fmt: skip
    if exposure is not None and lnk.name != "log":
        raise ValueError(
            f"exposure= needs the log link (it adds log(exposure) to the linear "
            f"predictor); the link is {lnk.name!r}. Use offset= instead."
        )
    des = _inputs(formula_or_y, data_or_X, weights=weights, offset=offset,
                  exposure=exposure, trials=trials, missing=missing, columns=columns)  # fmt: skip
    des = proportion_trials(fam, des, weight_type)  # R's glm(s/n ~ x, weights = n)
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
    if weight_type == "variance" and w is not None and np.any(w < 0):
        raise ValueError("weights: variance (prior) weights must be >= 0.")
    if start is None and nb_alpha is not None:
        beta0 = _poisson_start(lnk, des, y, off, w, eweights, fit_kwargs)
    elif start is None and fam.has_alpha:
        # NB2 starts from the Poisson fit (as MASS::glm.nb), below.
        beta0 = None
    elif start is None:
        beta0 = _start(fam, lnk, des.X, y, m, wn, off, des.columns,
                       cheap=lnk.name == fam.canonical)
    else:
        beta0 = np.asarray(start, dtype=np.float64).reshape(-1)
        if beta0.shape != (des.X.shape[1],):
            raise ValueError(f"start must have {des.X.shape[1]} values (one per column).")
    method, cov = _method_cov(fam, lnk, method, cov, w is not None and
                              weight_type == "importance", nb_alpha)  # fmt: skip
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
        if nb_alpha is not None:
            params["alpha"], constraints = nb_alpha, {"alpha": C.fixed}
    else:
        params = dict(zip(des.columns, beta0.tolist()))
    engine = functools.partial(_engine, fam, lnk, w=w, weight_type=eweights,
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
            beta0 = _poisson_start(lnk, des, y, off, w, eweights, fit_kwargs)
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
                               _start, convention, nb_alpha is not None)
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
