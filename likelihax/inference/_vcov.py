"""Covariance of another kind for an existing fit (pure function of the result)."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from ..core import Status, x64_scope
from ..data import prepare_data
from ..objective import (
    COVARIANCES,
    CovOptions,
    DESCRIPTIONS,
    VCOV_KINDS,
    Problem,
    analyze_information,
    covariances,
    default_maxlags,
    newey_west_lag,
    serial_scores,
)
from ..results import as_fit

__all__ = ["vcov"]


@dataclasses.dataclass(frozen=True)
class _VcovProgram:
    loglik: Callable
    spec: Any
    kind: str
    nobs: int
    fisher: Callable | None
    weight_type: str
    recompute: bool  # evaluate the information at u instead of using H
    clusters: tuple = ()  # ((n_groups, sign, factor, dof), ...): see covariances
    chunk: int = 0
    source: Any = None  # streamed data (see likelihax.data._source)
    options: Any = None  # CovOptions of "hac" and "driscoll-kraay"


def _vcov_core(static: _VcovProgram, u, H, fixed_leaves, data, weights, codes=()):
    problem = Problem.from_static(static, fixed_leaves, data, weights)
    if static.recompute:
        if COVARIANCES[static.kind].information == "expected":
            H = problem.value_grad_fisher(u)[2]
        else:
            H = problem.value_grad_hessian(u)[2]
    _, _, _, Hinv = analyze_information(H, jnp.zeros_like(u), 0.0)
    clusters = tuple((c, *meta) for c, meta in zip(codes, static.clusters))
    cov = covariances(
        problem, static.kind, u, Hinv, static.weight_type, clusters, static.options
    )[1]
    return cov, jnp.diag(H)


_vcov_jit = jax.jit(_vcov_core, static_argnums=0)


def _serial_scores_core(static: _VcovProgram, u, fixed_leaves, data, weights, codes=()):
    problem = Problem.from_static(static, fixed_leaves, data, weights)
    clusters = tuple((c, *meta) for c, meta in zip(codes, static.clusters))
    return serial_scores(problem, u, clusters)


_serial_scores_jit = jax.jit(_serial_scores_core, static_argnums=0)
# Parameters that R's bwNeweyWest leaves out of the automatic lag (weight 0).
_INTERCEPTS = ("Intercept", "(Intercept)", "const")


def vcov(
    fit,
    kind: str,
    data: Any = None,
    weights: Any = None,
    *,
    groups: Any = None,
    correction: bool | str | None = None,
    maxlags: int | None = None,
    time: Any = None,
):
    r"""Covariance of another kind at a fit's estimate.

    Parameters
    ----------
    fit : FitResult or model result
        A fit from :func:`likelihax.fit`, or a model result holding one in
        ``.fit`` (:func:`likelihax.glm`, :func:`likelihax.mixed`,
        :func:`likelihax.ordinal`, :func:`likelihax.mnlogit`, ...): the
        covariance is that of ``fit.fit``'s parameters (see Notes for GLMs).
    kind : str
        ``"oim"``, ``"eim"``, ``"opg"``, ``"sandwich"`` (or ``"hc0"``),
        ``"hc1"``, ``"hc2"``, ``"hc3"``, ``"stata"``, ``"cluster"``,
        ``"crv3"``, ``"hac"`` or ``"driscoll-kraay"``. See
        :mod:`likelihax.objective._covariance` for the formulas and the
        equivalent options of R, Stata and statsmodels. ``"eim"``, ``"hc2"``
        and ``"hc3"`` need a model with expected information
        (``Model(..., fisher=...)``, as every GLM).
    data : pytree, optional
        The data of the fit. Default: the data object passed to ``fit``, which
        the result holds by reference (like statsmodels) rather than as a copy,
        so a result does not keep a converted copy of large data alive.
    weights : array, optional
        The weights of the fit (default: those passed to ``fit``).
    groups : array or pair of arrays, optional
        For ``"cluster"`` and ``"crv3"`` (required) and ``"stata"`` (optional):
        one cluster label per observation (any hashable values: ints,
        strings, ...) for one-way clustering; for ``"cluster"`` and
        ``"stata"`` also a tuple of two such arrays, or an ``(n, 2)`` array,
        for two-way clustering.
    correction : bool or "min", optional
        The small-sample factor. ``"cluster"``: True (default) gives each
        term :math:`G/(G-1)\cdot(n-1)/(n-k)` (statsmodels'
        ``use_correction=True``, Stata's ``regress``); ``"min"`` applies
        :math:`G_{\min}/(G_{\min}-1)\cdot(n-1)/(n-k)` once to the two-way sum
        (Stata's ``ivreg2, small``); False none. ``"stata"`` with ``groups``:
        True (default) :math:`G/(G-1)` per term, ``"min"`` once, False none.
        ``"hac"``, ``"driscoll-kraay"``: True multiplies by :math:`n/(n-k)`
        (default False); for ``"driscoll-kraay"``, ``"cluster"`` multiplies by
        :math:`T/(T-1)\cdot(n-1)/(n-k)` with :math:`T` periods (Stata's
        ``ivreg2, dkraay() small``).
    maxlags : int or "nw1994", optional
        For ``"hac"`` and ``"driscoll-kraay"``: the largest lag of the
        Bartlett kernel, ``>= 0``. Default :math:`\lfloor 4(T/100)^{2/9}
        \rfloor` with :math:`T` the number of rows (``"hac"``) or periods.
        ``"nw1994"`` chooses it from the scores by Newey and West (1994)'s
        rule with weight 0 for a parameter labelled ``Intercept``, as R's
        ``NeweyWest(fit, prewhite = FALSE)``
        (:func:`~likelihax.objective._robust.newey_west_lag`).
    time : array, optional
        For ``"driscoll-kraay"`` (required): the period of each observation;
        any sortable labels, whose sorted order is the time order.

    Returns
    -------
    Covariance
        Labelled natural-scale covariance. A dispersion factor set with
        :meth:`FitResult.scale_cov` multiplies ``"oim"`` and ``"eim"``.

    Raises
    ------
    TypeError
        ``fit`` is neither a FitResult nor a model result holding one.
    ValueError
        An unknown ``kind``; ``"eim"``, ``"hc2"`` or ``"hc3"`` for a model
        without expected information; a kind that needs per-observation
        scores for a scalar log-likelihood; ``groups``, ``time``, ``maxlags``
        or ``correction`` missing for, or given to, a kind that does not take
        them; an invalid value of one of them.

    Warns
    -----
    ConvergenceWarning
        ``"crv3"``: a refit without one cluster did not end at a finite
        maximum (the covariance is then NaN).

    Notes
    -----
    **GLMs** (:func:`likelihax.glm`). The coefficients' covariance, in the
    conventions of statsmodels ``GLM`` and R, with :math:`\hat\phi_P =
    X^2/(n-p)` (Pearson) and :math:`\hat\phi_D = D/n` (the dispersion at which
    R's ``logLik.glm`` evaluates the density) for the Gaussian, gamma and
    inverse Gaussian families, :math:`\phi = 1` otherwise:

    * ``"eim"``: :math:`\hat\phi_P\,\mathcal I_1^{-1}` (expected information at
      :math:`\phi = 1`): R's ``vcov(glm)`` and statsmodels ``GLM.fit()``;
    * ``"oim"``: :math:`\hat\phi_P\,H_1^{-1}` (observed information at
      :math:`\phi = 1`; the same matrix for canonical links): statsmodels
      ``GLM.fit(method="newton")``;
    * ``"sandwich"``: :math:`H^{-1} B H^{-1}`, in which :math:`\phi` cancels:
      statsmodels ``GLM.fit(cov_type="HC0")`` (observed-information bread);
      ``"hc1"`` times :math:`n/(n-p)`; the other robust kinds are free of
      :math:`\phi` as well;
    * ``"opg"``: :math:`B^{-1}` with the scores at :math:`\hat\phi_D` (so it
      scales as :math:`\hat\phi_D^2`; other dispersion estimates give other
      OPG matrices).

    NB2 (``family="negative_binomial"``): :math:`(\beta, \alpha)` jointly;
    ``"eim"`` is MASS's ``glm.nb`` convention (see :func:`likelihax.glm`).

    ``"hac"`` assumes the rows are in time order, one per period.
    ``"crv3"`` refits the model once per cluster (in batches, from the
    estimate), so it costs :math:`G` fits.

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> y = np.array([0.1, 1.5, 0.7, 2.2, 1.1, 0.4])
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], p["s"]),
    ...            {"mu": 0.0, "s": 1.0}, {"y": y},
    ...            constraints={"s": lx.constraints.positive})
    >>> bool(np.isclose(f.vcov("sandwich")["mu", "mu"], f.cov["mu", "mu"]))
    True
    >>> c = lx.vcov(f, "cluster", groups=[0, 0, 1, 1, 2, 2], correction=False)
    >>> c.description.split("; ")[-1]
    'one-way, 3 clusters'
    >>> r = float(lx.vcov(f, "stata")["mu", "mu"] / f.vcov("hc0")["mu", "mu"])
    >>> round(r, 12)  # n / (n - 1)
    1.2
    >>> h = lx.vcov(f, "hac", maxlags=1)
    >>> h.description.split("; ")[-1]
    'Bartlett kernel, maxlags 1'
    """
    fit = as_fit(fit)
    cov, desc = _vcov_natural(fit, kind, data, weights, groups, correction,
                              maxlags, time)  # fmt: skip
    from ..results import Covariance

    idx = np.asarray(fit.spec.reported)
    return Covariance(cov[np.ix_(idx, idx)], fit.labels, kind, desc)


def _check_options(kind, groups, correction, maxlags, time):
    """Which of ``groups``, ``correction``, ``maxlags``, ``time`` ``kind`` takes."""
    entry = COVARIANCES[kind]
    if entry.needs_groups and kind != "driscoll-kraay" and groups is None:
        raise ValueError(
            f"kind={kind!r} needs groups= (one cluster label per observation)."
        )
    if groups is not None and not (entry.needs_groups or entry.takes_groups):
        raise ValueError(
            "groups= is for kind='cluster' only (and for 'stata' and 'crv3'); "
            f"got kind={kind!r}."
        )
    if kind == "driscoll-kraay":
        if groups is not None:
            raise ValueError(
                "kind='driscoll-kraay' takes the periods as time=, not groups=."
            )
        if time is None:
            raise ValueError(
                "kind='driscoll-kraay' needs time= (the period of each observation)."
            )
    elif time is not None:
        raise ValueError(f"time= is for kind='driscoll-kraay' only; got kind={kind!r}.")
    serial = kind in ("hac", "driscoll-kraay")
    if maxlags is not None:
        if not serial:
            raise ValueError(
                f"maxlags= is for kind='hac' or 'driscoll-kraay' only; got kind={kind!r}."
            )
        auto = isinstance(maxlags, str) and maxlags == "nw1994"
        if not auto and (isinstance(maxlags, (bool, np.bool_)) or not isinstance(
            maxlags, (int, np.integer)
        ) or maxlags < 0):  # fmt: skip
            raise ValueError(
                "maxlags must be a whole number >= 0 or 'nw1994' (Newey and West's "
                f"automatic lag); got {maxlags!r}."
            )
    if correction is None:
        return
    if serial:
        dk = kind == "driscoll-kraay"
        flag = isinstance(correction, (bool, np.bool_))
        if not (flag or (dk and isinstance(correction, str) and correction == "cluster")):
            raise ValueError(
                f"correction for kind={kind!r} must be True or False (times n/(n-k))"
                + (" or 'cluster' (times T/(T-1)*(n-1)/(n-k))" if dk else "")
                + f"; got {correction!r}."
            )
    elif kind in ("cluster", "stata"):
        if not (isinstance(correction, (bool, np.bool_))
                or (isinstance(correction, str) and correction == "min")):  # fmt: skip
            raise ValueError(
                f"correction must be True, False or 'min'; got {correction!r}."
            )
        if kind == "stata" and groups is None:
            raise ValueError(
                "correction= of kind='stata' sets the cluster factor: it needs "
                "groups= (without them the factor is n/(n-1))."
            )
    else:
        raise ValueError(
            f"correction= is for kinds 'cluster', 'stata', 'hac' and "
            f"'driscoll-kraay'; got kind={kind!r}."
        )


def _vcov_natural(fit, kind, data=None, weights=None, groups=None, correction=None,
                  maxlags=None, time=None):  # fmt: skip
    """Covariance of every natural-scale element (``fit.spec.labels``) and its description."""

    if kind not in VCOV_KINDS:
        raise ValueError(f"kind must be one of {VCOV_KINDS}; got {kind!r}.")
    entry = COVARIANCES[kind]
    if entry.per_obs and not fit.setup.per_obs:
        raise ValueError(
            f"cov kind {kind!r} needs one log-likelihood value per observation; this "
            "model's log-likelihood returns a scalar."
        )
    if kind in ("eim", "hc2", "hc3") and fit.setup.fisher_fn is None:
        what = "expected information" if kind == "eim" else "leverages (hat values)"
        raise ValueError(
            f"kind={kind!r} needs the model's {what}: build it with "
            "lx.Model(loglik, params, fisher=fn) (see likelihax.Model)"
            + ("." if kind == "eim" else ", or use kind='hc1' or 'sandwich'.")
        )
    _check_options(kind, groups, correction, maxlags, time)
    # The fit holds the inverse of one information (observed or expected):
    # another kind built on the other one computes it again.
    recompute = entry.information != COVARIANCES[fit.cov_kind].information
    src = fit.setup.program.source if fit.setup.program is not None else None
    opts = CovOptions(
        maxlags if maxlags is None or isinstance(maxlags, str) else int(maxlags),
        correction if isinstance(correction, str) else bool(correction or False),
    )
    if src is not None:
        if data is not None:
            raise ValueError(
                "This fit reads its data from a source; call vcov without data=."
            )
        if kind not in ("oim", "eim", "opg", "sandwich", "hc0", "hc1") and not (
            kind == "stata" and groups is None
        ):
            raise ValueError(
                f"kind={kind!r} needs the per-observation scores in memory; it is "
                "not available for streamed data (a source)."
            )
        cov, gdesc = _vcov_streamed(fit, kind, recompute, weights, src), ""
    elif kind == "crv3":
        from ._jackknife import crv3

        cov, gdesc = crv3(fit, data, weights, groups)
    else:
        cov, gdesc = _vcov_in_memory(fit, kind, recompute, data, weights, groups,
                                     correction, time, opts)  # fmt: skip
    desc = DESCRIPTIONS[kind] + gdesc
    if kind == "stata" and groups is not None:
        desc = (
            "cluster-robust sandwich H^-1 (sum_g S_g S_g') H^-1, Stata's "
            "vce(cluster) for ML models; valid for observations correlated within "
            "clusters, independent between them" + gdesc
        )
    if not entry.per_obs and fit.cov_scale is not None:
        cov = cov * fit.cov_scale[0]
        desc += f", times {fit.cov_scale[1]}"
    return cov, desc


def _vcov_in_memory(fit, kind, recompute, data, weights, groups, correction, time,
                    opts):  # fmt: skip
    from ..engine import prepare_weights

    with x64_scope():
        if data is None:
            data = fit.setup.data
            if data is None and (kind != "oim" or recompute):
                raise ValueError(
                    "This result carries no data (it came out of a transform); pass data=."
                )
        if weights is None:
            weights = fit.setup.weights
        w = None
        n_rows = None
        if data is not None:
            data = prepare_data(data, np.dtype(fit.dtype))
            if fit.setup.per_obs:
                n_rows = jax.eval_shape(fit.setup.loglik_fn, fit.params, data).shape[0]
            if weights is not None:
                w = prepare_weights(weights, n_rows, True, np.dtype(fit.dtype))
        codes, meta, gdesc = (), (), ""
        if groups is not None:
            codes, meta, gdesc = _cluster_codes(groups, n_rows, kind, correction)
        elif time is not None:
            codes, meta, gdesc = _period_codes(time, n_rows)
        static = _VcovProgram(
            fit.setup.loglik_fn, fit.spec, kind, int(fit.nobs or 1), fit.setup.fisher_fn,
            fit.weight_type or "frequency", bool(recompute), meta, options=opts,
        )  # fmt: skip
        fixed, u, H = _at_estimate(fit)
        if kind in ("hac", "driscoll-kraay"):
            auto = opts.maxlags == "nw1994"
            if auto:
                S = _serial_scores_jit(static, u, fixed, data, w, codes)
                lag_w = [0.0 if lab in _INTERCEPTS else 1.0
                         for lab in fit.unconstrained_labels]  # fmt: skip
                opts = CovOptions(newey_west_lag(S, lag_w), opts.correction)
                static = dataclasses.replace(static, options=opts)
            gdesc += _serial_text(opts, n_rows if time is None else meta[0][0], auto)
        cov, diag = _vcov_jit(static, u, H, fixed, data, w, codes)
    _check_eim(fit, kind, diag)
    return np.asarray(cov), gdesc


def _serial_text(opts, n_periods, auto=False):
    L = default_maxlags(n_periods) if opts.maxlags is None else opts.maxlags
    rule = " (floor(4 (T/100)^(2/9)))" if opts.maxlags is None else ""
    rule = " (Newey-West 1994 automatic)" if auto else rule
    text = f"; Bartlett kernel, maxlags {L}{rule}"
    if opts.correction == "cluster":
        return text + ", times T/(T-1)*(n-1)/(n-k)"
    return text + ", times n/(n-k)" if opts.correction else text


def _check_eim(fit, kind, diag):
    """Refuse an expected information that ignores a parameter.

    A model's ``fisher`` describes the information through linear predictors;
    a parameter that enters none of them (e.g. a dispersion left out) gets an
    exactly zero row, and the inverse would be NaN without a word.
    """
    if kind != "eim":
        return
    zero = np.flatnonzero(np.asarray(diag) == 0.0)
    if zero.size:
        names = [fit.unconstrained_labels[i] for i in zero]
        raise ValueError(
            f"kind='eim': the model's expected information is zero for {names}: "
            "its linear predictors (the first output of fisher=) do not depend "
            "on them, so the matrix is singular. Add them to fisher= (see "
            "likelihax.Model) or use kind='oim'."
        )


def _at_estimate(fit):
    """Fixed leaves, unconstrained estimate and information (NaN if singular)."""
    fixed = [jnp.asarray(x) for x in jax.tree_util.tree_leaves(fit.params)]
    fit.full_cov("lx.vcov")
    H = jnp.asarray(fit.information)
    if int(fit.status_code) in (
        Status.information_singular,
        Status.information_indefinite,
    ):
        H = jnp.full_like(H, jnp.nan)
    return fixed, jnp.asarray(fit.params_unconstrained), H


def _label_codes(groups, n_rows, what="groups", two_way=True):
    """Integer codes ``0..G-1`` (in sorted label order) of one or two groupings."""
    if (
        two_way
        and isinstance(groups, (tuple, list))
        and len(groups) == 2
        and all(np.ndim(g) == 1 for g in groups)
    ):
        cols = [np.asarray(g) for g in groups]
    else:
        arr = np.asarray(groups)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim == 1:
            cols = [arr]
        elif two_way and arr.ndim == 2 and arr.shape[1] == 2:
            cols = [arr[:, 0], arr[:, 1]]
        else:
            raise ValueError(
                f"{what} must be one label per observation (1-D)"
                + (", or two groupings (a pair of 1-D arrays or an (n, 2) array)"
                   if two_way else "")
                + f"; got shape {arr.shape}."
            )  # fmt: skip
    inverse = []
    for g in cols:
        if n_rows is not None and g.shape[0] != n_rows:
            raise ValueError(
                f"{what} has {g.shape[0]} labels but the log-likelihood returns "
                f"{n_rows} observations; give one "
                + ("cluster label" if what == "groups" else "label")
                + " per observation."
            )
        if g.dtype.kind == "f" and not np.all(np.isfinite(g)):
            raise ValueError(
                f"{what} contains NaN or inf labels at rows "
                f"{np.flatnonzero(~np.isfinite(g))[:5].tolist()}; every observation "
                "needs one."
            )
        inverse.append(np.unique(g, return_inverse=True)[1].ravel())
    return inverse


def _cluster_codes(groups, n_rows, kind="cluster", correction=None):
    """Integer codes, static ``(n_groups, sign, factor, dof)`` and a description."""
    inverse = _label_codes(groups, n_rows, two_way=kind != "crv3")
    n_ways = len(inverse)
    if n_ways == 2:
        both = inverse[0] * (inverse[1].max() + 1) + inverse[1]
        inverse.append(np.unique(both, return_inverse=True)[1].ravel())
    sizes = [int(c.max()) + 1 for c in inverse]
    for G in sizes[:n_ways]:
        if G < 2:
            raise ValueError(
                "cluster-robust covariance needs at least 2 clusters; a grouping "
                "has only 1."
            )
    mode = True if correction is None else correction
    mode = mode if isinstance(mode, str) else bool(mode)
    g_min = min(sizes[:n_ways])
    dof = bool(mode) and kind == "cluster"
    signs = (1.0,) if n_ways == 1 else (1.0, 1.0, -1.0)

    def factor(G):
        if mode is False:
            return 1.0
        Gc = g_min if mode == "min" else G
        return Gc / (Gc - 1.0)

    meta = tuple((G, s, factor(G), dof) for G, s in zip(sizes, signs))
    codes = tuple(jnp.asarray(c, jnp.int32) for c in inverse)
    way = "one-way" if n_ways == 1 else "two-way"
    text = f"; {way}, {' and '.join(str(G) for G in sizes[:n_ways])} clusters"
    if mode is not False:
        G = "G_min/(G_min-1)" if mode == "min" and n_ways == 2 else "G/(G-1)"
        text += f", small-sample factor {G}" + ("*(n-1)/(n-k)" if dof else "")
        text += " applied once" if mode == "min" and n_ways == 2 else ""
    return codes, meta, text


def _period_codes(time, n_rows):
    """Period codes in time order, ``((T, 1, 1, False),)`` and a description."""
    (codes,) = _label_codes(time, n_rows, "time", two_way=False)
    T = int(codes.max()) + 1
    if T < 2:
        raise ValueError("kind='driscoll-kraay' needs at least 2 periods in time=.")
    return (jnp.asarray(codes, jnp.int32),), ((T, 1.0, 1.0, False),), f"; {T} periods"


def _vcov_streamed(fit, kind, recompute, weights, src):
    """:func:`_vcov_natural` for a fit to a data source (blocks read again)."""
    from ..engine import prepare_weights

    with x64_scope():
        weights = fit.setup.weights if weights is None else weights
        dt = np.dtype(fit.dtype)
        w = None if weights is None else prepare_weights(weights, src.source.n, True, dt)
        static = _VcovProgram(
            fit.setup.loglik_fn, fit.spec, kind, int(src.source.n), fit.setup.fisher_fn,
            fit.weight_type or "frequency", bool(recompute), (), src.chunk, src,
        )  # fmt: skip
        fixed, u, H = _at_estimate(fit)
        cov, diag = _vcov_jit(static, u, H, fixed, None, w, ())
    _check_eim(fit, kind, diag)
    return np.asarray(cov)
