r"""Univariate distribution fitting: maximum likelihood and the method of moments.

:func:`fit_distribution` hands a family's log-density to :func:`likelihax.fit`
(same engine, same result, same standard errors); :func:`method_of_moments`
gives moment estimates with delta-method standard errors; :func:`compare_mle_mom`
puts both side by side with the log-likelihood at each.

Parametrizations follow R (``MASS::fitdistr``) and scipy:

================  ===========================  ==========================================
family            parameters                   density / mass
================  ===========================  ==========================================
``normal``        mu, sigma > 0                R ``dnorm(mean, sd)``
``lognormal``     mu, sigma > 0 (log scale)    R ``dlnorm(meanlog, sdlog)``
``exponential``   rate > 0                     R ``dexp(rate)``
``gamma``         shape > 0, rate > 0          R ``dgamma(shape, rate)``
``weibull``       shape > 0, scale > 0         R ``dweibull(shape, scale)``
``beta``          a > 0, b > 0                 R ``dbeta(shape1, shape2)``
``student_t``     loc, scale > 0, df > 0       scipy ``t(df, loc, scale)``
``logistic``      loc, scale > 0               R ``dlogis(location, scale)``
``gumbel``        loc, scale > 0               scipy ``gumbel_r`` (maxima)
``pareto``        shape > 0; scale = min(x)    scipy ``pareto(b, scale)``; scale fixed
``poisson``       rate > 0                     R ``dpois(lambda)``
``binomial``      prob in (0, 1); ``trials``   R ``dbinom(size, prob)``
``negbin``        size > 0, mu > 0             R ``dnbinom(size, mu)`` (NB2)
``geometric``     prob in (0, 1)               R ``dgeom(prob)``: failures before success
``zip``           pi in (0, 1), rate > 0       zero-inflated Poisson
================  ===========================  ==========================================

The Pareto scale is estimated by the sample minimum and then held fixed (the
likelihood is maximal at the edge of the support, where Fisher-information
standard errors do not apply); only the shape gets a standard error.

Method of moments: each family writes its estimator as a function of the first
raw sample moments :math:`\hat r_j = n^{-1}\sum_i x_i^j`; standard errors come
from the delta method, :math:`J\,\widehat{\mathrm{Cov}}(\hat r)\,J^\top` with
:math:`\widehat{\mathrm{Cov}}(\hat r)_{jk} = n^{-1}\widehat{\mathrm{Cov}}(x^j, x^k)`
and :math:`J` by autodiff.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import jax.numpy as jnp
import numpy as np

from ..core import x64_scope
from ..engine import check_fit_options, fit
from ..inference import delta_se
from ..parameters import constraints as C
from ..results import FitResult, ModelInfo, Summary
from ._densities import (
    _CLOSED,
    _LOG_CDF_SF,
    _MOM,
    _N_MOMENTS,
    _make_censored,
    beta,
    binomial,
    exponential,
    gamma,
    geometric,
    gumbel,
    logistic,
    lognormal,
    negbin,
    normal,
    pareto,
    poisson,
    student_t,
    weibull,
    zip_poisson,
)

__all__ = [
    "Distribution",
    "FAMILIES",
    "compare_mle_mom",
    "fit_distribution",
    "method_of_moments",
]


# ----- the catalogue ---------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Distribution:
    """A univariate distribution of the catalogue :data:`FAMILIES`: log-density,
    parameters, constraints, support. (The families of regression models are
    :class:`likelihax.models.glm._family.Family`.)"""

    name: str
    loglik: Callable
    params: tuple[str, ...]
    constraints: tuple[tuple[str, C.Constraint], ...]
    support: Callable[[np.ndarray], np.ndarray]
    support_text: str
    discrete: bool = False

    @property
    def has_closed_form(self) -> bool:
        """Whether the MLE has a closed form (checked against the fit in the tests)."""
        return self.name in _CLOSED


_POS = C.positive
_UNIT = C.unit_interval


def _fam(fn, params, cons, support, text, discrete=False, name=None):
    return Distribution(
        name or fn.__name__, fn, params, tuple(cons.items()), support, text, discrete
    )


_all = lambda x: np.ones(x.shape, bool)  # noqa: E731
_positive = lambda x: x > 0  # noqa: E731
_counts = lambda x: (x >= 0) & (x == np.round(x))  # noqa: E731

FAMILIES: dict[str, Distribution] = {
    f.name: f
    for f in [
        _fam(normal, ("mu", "sigma"), {"sigma": _POS}, _all, "real numbers"),
        _fam(lognormal, ("mu", "sigma"), {"sigma": _POS}, _positive, "x > 0"),
        _fam(exponential, ("rate",), {"rate": _POS}, lambda x: x >= 0, "x >= 0"),
        _fam(gamma, ("shape", "rate"), {"shape": _POS, "rate": _POS}, _positive, "x > 0"),
        _fam(weibull, ("shape", "scale"), {"shape": _POS, "scale": _POS}, _positive, "x > 0"),
        _fam(beta, ("a", "b"), {"a": _POS, "b": _POS}, lambda x: (x > 0) & (x < 1), "0 < x < 1"),
        _fam(student_t, ("loc", "scale", "df"), {"scale": _POS, "df": _POS}, _all, "real numbers"),
        _fam(logistic, ("loc", "scale"), {"scale": _POS}, _all, "real numbers"),
        _fam(gumbel, ("loc", "scale"), {"scale": _POS}, _all, "real numbers"),
        _fam(pareto, ("shape", "scale"), {"shape": _POS, "scale": C.fixed}, _positive, "x > 0"),
        _fam(poisson, ("rate",), {"rate": _POS}, _counts, "counts 0, 1, 2, ...", True),
        _fam(binomial, ("prob",), {"prob": _UNIT}, _counts, "counts 0..trials", True),
        _fam(negbin, ("size", "mu"), {"size": _POS, "mu": _POS}, _counts, "counts 0, 1, 2, ...", True),
        _fam(geometric, ("prob",), {"prob": _UNIT}, _counts, "counts 0, 1, 2, ...", True),
        _fam(zip_poisson, ("pi", "rate"), {"pi": _UNIT, "rate": _POS}, _counts, "counts 0, 1, 2, ...", True, "zip"),
    ]
}  # fmt: skip


_CENSORED: dict[str, Callable] = {
    n: _make_censored(n, FAMILIES[n].loglik) for n in _LOG_CDF_SF
}


def _prepare_censored(fam: Distribution, lower, upper):
    """Validated interval data: rows with lower == upper are exact observations,
    lower = -inf left-censored, upper = +inf right-censored, else interval."""
    if fam.name not in _CENSORED:
        raise NotImplementedError(
            f"Censored data are supported for {', '.join(_CENSORED)}; not for "
            f"{fam.name} (censoring is defined here for continuous families with "
            "a CDF that is twice differentiable in the parameters)."
        )
    if upper is None:
        raise ValueError("Give both `lower` and `upper` for censored data.")
    lo = np.asarray(lower, dtype=np.float64)
    hi = np.asarray(upper, dtype=np.float64)
    if lo.ndim != 1 or lo.shape != hi.shape:
        raise ValueError(
            f"`lower` and `upper` must be 1-D arrays of one length; got shapes "
            f"{lo.shape} and {hi.shape}."
        )
    checks = [
        (np.isnan(lo) | np.isnan(hi), "are NaN (use -inf / +inf for open bounds)"),
        (lo > hi, "have lower > upper"),
        (np.isinf(lo) & np.isinf(hi), "are censored on both sides (no information)"),
        (np.isfinite(lo) & ~fam.support(np.where(np.isfinite(lo), lo, 1.0)),
         f"have a finite lower bound outside the support ({fam.support_text})"),
        (np.isfinite(hi) & ~fam.support(np.where(np.isfinite(hi), hi, 1.0)),
         f"have a finite upper bound outside the support ({fam.support_text})"),
    ]  # fmt: skip
    for bad, what in checks:
        if bad.any():
            rows = np.flatnonzero(bad)
            raise ValueError(f"{rows.size} row(s) {what}: rows {rows[:5].tolist()}.")
    finite = np.concatenate([lo[np.isfinite(lo)], hi[np.isfinite(hi)]])
    fill = np.median(finite)
    kind = np.where(
        lo == hi, 0, np.where(np.isinf(lo), 1, np.where(np.isinf(hi), 2, 3))
    )
    lo_f = np.where(np.isfinite(lo), lo, fill)
    hi_f = np.where(np.isfinite(hi), hi, fill)
    # interval rows need hi > lo for log(F(hi) - F(lo)); others just a finite
    # value inside the support (beta: below 1), where log F(hi) is finite
    spare = np.maximum(hi_f, lo_f) + np.abs(lo_f) + 1.0
    spare = np.where(fam.support(spare), spare, fill)
    hi_f = np.where(kind == 3, hi_f, spare)
    hi_f = np.where(kind == 1, np.where(np.isfinite(hi), hi, fill), hi_f)
    pseudo = np.where(
        kind == 0, lo, np.where(kind == 2, lo, np.where(kind == 1, hi, (lo + hi) / 2))
    )
    data = {"lo": lo_f, "hi": hi_f, "kind": kind.astype(np.int8)}
    return pseudo, data


def _family(name) -> Distribution:
    if isinstance(name, Distribution):
        return name
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(
            f"Unknown family {name!r}. Families: {', '.join(FAMILIES)}."
        ) from None


def _prepare(fam: Distribution, x, trials):
    """Validated sample, data dict and constants (minimum, trials) for ``fam``."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"x has dtype {arr.dtype}; {fam.name} needs numbers.")
    arr = arr.astype(np.float64)
    if arr.ndim != 1:
        raise ValueError(
            f"x must be one-dimensional (a sample); got shape {arr.shape}."
        )
    if arr.size < 2:
        raise ValueError(f"x has {arr.size} value(s); fitting needs at least 2.")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(
            f"x has {int(bad.sum())} NaN or infinite value(s) (first rows: "
            f"{np.flatnonzero(bad)[:5].tolist()}); remove them before fitting."
        )
    outside = ~fam.support(arr)
    consts: dict[str, Any] = {"xmin": arr.min()}
    data: dict[str, Any] = {"x": arr}
    if fam.name == "binomial":
        if trials is None:
            raise ValueError("The binomial family needs `trials` (an int or an array).")
        n = np.broadcast_to(np.asarray(trials, dtype=np.float64), arr.shape)
        outside |= (arr > n) | (n != np.round(n)) | (n < 1)
        data["trials"] = np.array(n)
        consts.update(trials_mean=n.mean(), trials_sum=n.sum())
    elif trials is not None:
        raise ValueError(f"`trials` is for the binomial family, not {fam.name}.")
    if outside.any():
        rows = np.flatnonzero(outside)
        raise ValueError(
            f"{rows.size} value(s) of x lie outside the support of {fam.name} "
            f"({fam.support_text}): rows {rows[:5].tolist()}, values "
            f"{arr[rows[:5]].tolist()}."
        )
    return arr, data, consts


# Families whose maximum-likelihood estimate does not exist for a constant
# sample: the likelihood keeps rising as the parameter named runs to a
# boundary of its range (a constant sample has no spread for a scale, or for a
# shape that measures spread, to estimate).
_POISSON_LIMIT = " (its limit is the Poisson distribution: fit family 'poisson')"
_CONSTANT_NO_MLE = {
    "normal": ("sigma goes to 0", ""),
    "lognormal": ("sigma goes to 0", ""),
    "gamma": ("shape goes to infinity", ""),
    "weibull": ("shape goes to infinity", ""),
    "beta": ("a and b go to infinity", ""),
    "student_t": ("scale goes to 0", ""),
    "logistic": ("scale goes to 0", ""),
    "gumbel": ("scale goes to 0", ""),
    "pareto": ("shape goes to infinity (every value equals the scale, min(x))", ""),
    "negbin": ("size goes to infinity", _POISSON_LIMIT),
    "zip": ("pi goes to 0", _POISSON_LIMIT),
}
# A constant c > 0 has a finite estimate for these (exponential rate 1/c,
# Poisson rate c, geometric prob 1/(1 + c)); all zeros put it on the boundary.
_ZERO_NO_MLE = {
    "exponential": ("rate goes to infinity", ""),
    "poisson": ("rate goes to 0", ""),
    "geometric": ("prob goes to 1", ""),
    "negbin": ("mu goes to 0", ""),
    "zip": ("pi goes to 1 or rate goes to 0", ""),
}


def _no_mle(fam: Distribution, arr: np.ndarray, data: dict) -> None:
    """Raise for a sample whose maximum-likelihood estimate does not exist.

    A constant sample, for the families of ``_CONSTANT_NO_MLE`` (and all zeros
    for those of ``_ZERO_NO_MLE``); binomial counts that are all 0 or all equal
    to their trials, whose estimate ``sum(x) / sum(trials)`` is 0 or 1.
    """
    if fam.name == "binomial":
        total, trials = arr.sum(), data["trials"].sum()
        if total == 0 or total == trials:
            what = "0" if total == 0 else "equal to its number of trials"
            raise ValueError(
                f"Every count in x is {what}, so the binomial estimate of prob is "
                f"{0 if total == 0 else 1}, on the boundary of (0, 1): the "
                "maximum-likelihood estimate does not exist inside the parameter "
                "space and has no standard error. Check the data, or report "
                "the proportion with an exact (Clopper-Pearson) interval."
            )
        return
    lo, hi = arr.min(), arr.max()
    if lo != hi:
        return
    why = (_ZERO_NO_MLE.get(fam.name) if lo == 0 else None) or _CONSTANT_NO_MLE.get(
        fam.name
    )
    if why is not None:
        raise ValueError(
            f"x is constant (all {arr.size} values equal {lo:g}), so the "
            f"{fam.name} family cannot be estimated: the likelihood keeps rising "
            f"as {why[0]}, and the maximum-likelihood estimate does not "
            f"exist{why[1]}. Check the data (a column filled with one value?), or "
            "fit a family whose parameters a constant sample determines."
        )


def _raw_moments(x, k):
    return np.array([np.mean(x**j) for j in range(1, k + 1)])


def method_of_moments(family, x, *, trials=None) -> dict:
    """Method-of-moments estimates with delta-method standard errors.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    x : array_like
        The sample (one-dimensional).
    trials : int or array, optional
        Number of trials (binomial only).

    Returns
    -------
    dict
        ``{"params": {name: estimate}, "se": {name: standard error}}``; values
        are NaN where the moment equations have no valid solution (e.g.
        ``negbin`` with variance below the mean).

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> x = np.array([1.0, 2.0, 4.0, 3.0])
    >>> mom = lx.method_of_moments("gamma", x)
    >>> round(float(mom["params"]["shape"]), 4)  # mean^2 / variance = 6.25 / 1.25
    5.0
    """
    fam = _family(family)
    arr, _, consts = _prepare(fam, x, trials)
    k = _N_MOMENTS.get(fam.name, 2)
    r = _raw_moments(arr, k)
    powers = np.stack([arr**j for j in range(1, k + 1)], axis=1)
    cov_r = np.cov(powers, rowvar=False, bias=True).reshape(k, k) / arr.size
    mom = _MOM[fam.name]
    val, J, s = delta_se(
        lambda rr: jnp.stack([mom(rr, consts)[n] for n in fam.params]), r, cov_r
    )
    est = {n: float(v) for n, v in zip(fam.params, val)}
    # A parameter that does not depend on the moments (the Pareto scale, the
    # sample minimum) has no delta-method standard error.
    se = {n: float(e) if np.any(j) else math.nan for n, j, e in zip(fam.params, J, s)}
    valid = _valid_start(fam, est)
    if not valid:
        est = {n: math.nan for n in est}
        se = {n: math.nan for n in se}
    return {"params": est, "se": se}


def _valid_start(fam: Distribution, est: dict) -> bool:
    cons = dict(fam.constraints)
    for n, v in est.items():
        if not math.isfinite(v):
            return False
        c = cons.get(n, C.real)
        if c is not C.fixed and c.violation(np.asarray(v)) is not None:
            return False
    return True


_DEFAULT_START = {
    "negbin": lambda x: {"size": 1e3, "mu": max(x.mean(), 1e-3)},
    "zip": lambda x: {"pi": 0.1, "rate": max(x.mean(), 1e-3)},
    "student_t": lambda x: {
        "loc": np.median(x),
        "scale": max(x.std(), 1e-6),
        "df": 5.0,
    },
}


def fit_distribution(
    family, x=None, *, lower=None, upper=None, trials=None, start=None, **fit_kwargs
) -> FitResult:
    r"""Maximum-likelihood fit of a univariate family to a sample.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES` (see the module notes for parametrizations).
    x : array_like
        The sample (one-dimensional, finite, inside the family's support).
    lower, upper : array_like, optional
        Censored data instead of ``x`` (families normal, lognormal,
        exponential, gamma, weibull, beta, student_t, logistic, gumbel; the
        gamma, beta and Student-t CDFs have custom derivatives in their shape
        parameters, see ``likelihax.models._special``). Observation ``i``
        lies in ``[lower[i], upper[i]]``: equal bounds are an exact value, ``lower = -inf`` is left-censored at
        ``upper``, ``upper = +inf`` right-censored at ``lower``, and anything
        else interval-censored. The log-likelihood terms are
        :math:`\log f(x)`, :math:`\log F(u)`, :math:`\log S(l)` and
        :math:`\log(F(u) - F(l))`.
    trials : int or array, optional
        Number of trials (binomial only).
    start : dict, optional
        Starting values; default the method-of-moments estimates (or a safe
        default where those are invalid).
    **fit_kwargs
        Passed to :func:`likelihax.fit` (``method``, ``cov``, ``starts``, ...).

    Returns
    -------
    FitResult
        As from :func:`likelihax.fit`, with ``model_info`` of kind
        ``"distribution"`` naming the family (flag ``"censored"`` for censored
        data).

    Raises
    ------
    ValueError
        Unknown family, values outside the support (rows named), NaN/inf; a
        sample for which the maximum-likelihood estimate does not exist: a
        constant sample for every family but ``exponential``, ``poisson`` and
        ``geometric`` (where a constant ``c > 0`` has a finite estimate), and
        binomial counts that are all 0 or all equal to their trials.
    TypeError, ValueError
        An invalid option in ``fit_kwargs`` (see :func:`likelihax.fit`).

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> x = np.array([0.5, 1.2, 0.3, 2.0, 0.9])
    >>> fit = lx.fit_distribution("exponential", x)
    >>> bool(np.isclose(fit.params["rate"], 1 / x.mean(), rtol=1e-10))
    True
    >>> fit.model_info.kind, fit.model_info.family
    ('distribution', 'exponential')
    """
    fam = _family(family)
    check_fit_options(**fit_kwargs)
    loglik = fam.loglik
    if lower is not None or upper is not None:
        if x is not None:
            raise ValueError("Give either `x` or censored `lower`/`upper`, not both.")
        x, cens = _prepare_censored(fam, lower, upper)
        loglik = _CENSORED[fam.name]
    elif x is None:
        raise ValueError("Give the sample `x` (or `lower`/`upper` for censored data).")
    arr, data, consts = _prepare(fam, x, trials)
    if loglik is not fam.loglik:
        if np.all(cens["kind"] == 0):  # every value exact: as an uncensored sample
            _no_mle(fam, arr, data)
        data = cens
    else:
        _no_mle(fam, arr, data)
    if start is None:
        mom = method_of_moments(fam, arr, trials=trials)["params"]
        start = mom if _valid_start(fam, mom) else _DEFAULT_START[fam.name](arr)
        if fam.name == "student_t":  # MoM df can be huge or <= 2; keep it moderate
            start = dict(start, df=float(np.clip(start["df"], 2.5, 100.0)))
    start = {n: float(start[n]) for n in fam.params}
    if fam.name == "pareto":
        start["scale"] = float(consts["xmin"])
    res = fit(loglik, start, data, constraints=dict(fam.constraints), **fit_kwargs)
    flags = ("censored",) if loglik is not fam.loglik else ()
    return res.replace(
        model_info=ModelInfo(kind="distribution", family=fam.name, flags=flags)
    )


def closed_form_mle(family, x, *, trials=None) -> dict | None:
    """The closed-form MLE where one exists (else ``None``); used to check fits."""
    fam = _family(family)
    arr, _, consts = _prepare(fam, x, trials)
    f = _CLOSED.get(fam.name)
    return None if f is None else {k: float(v) for k, v in f(arr, consts).items()}


def compare_mle_mom(family, x, *, trials=None, **fit_kwargs) -> Summary:
    """MLE beside the method of moments: estimates, standard errors, log-likelihood.

    Returns a :class:`~likelihax.Summary` (``print`` it, or ``.to_frame()``).

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> x = np.random.default_rng(0).gamma(2.0, 1.5, size=200)
    >>> table = lx.compare_mle_mom("gamma", x)
    >>> table.columns
    ['MLE', 'SE (MLE)', 'MoM', 'SE (MoM)', 'MoM - MLE']
    """
    fam = _family(family)
    fit_ = fit_distribution(fam, x, trials=trials, **fit_kwargs)
    mom = method_of_moments(fam, x, trials=trials)
    arr, data, _ = _prepare(fam, x, trials)
    ll_mom = math.nan
    if _valid_start(fam, mom["params"]):
        with x64_scope():
            p = {k: jnp.asarray(v) for k, v in mom["params"].items()}
            ll_mom = float(
                jnp.sum(fam.loglik(p, {k: jnp.asarray(v) for k, v in data.items()}))
            )
    rows = []
    for n in fam.params:
        m, s = float(fit_.params[n]), float(fit_.se[n])
        mm, ms = mom["params"][n], mom["se"][n]
        rows.append((n, [m, s, mm, ms, mm - m]))
    header = [
        ("Family", fam.name),
        ("Observations", str(arr.size)),
        ("Loglik at MLE", f"{float(fit_.loglik):.8g}"),
        ("Loglik at MoM", f"{ll_mom:.8g}"),
        ("MLE converged", "yes" if bool(fit_.converged) else "NO"),
        ("MLE closed form", "yes" if fam.has_closed_form else "no"),
    ]
    notes = [
        "SE (MLE): inverse observed information (delta method on constrained "
        "parameters); SE (MoM): delta method on the raw sample moments.",
    ]
    if fam.name == "pareto":
        notes.append("Pareto scale: the sample minimum, held fixed (no SE).")
    return Summary(
        f"{fam.name}: maximum likelihood vs method of moments",
        header,
        ["MLE", "SE (MLE)", "MoM", "SE (MoM)", "MoM - MLE"],
        rows,
        notes,
    )
