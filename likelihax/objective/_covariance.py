r"""Covariance of the estimates from autodiff information matrices.

With :math:`\ell_i(\theta)` the log-likelihood of observation :math:`i`,
:math:`s_i = \nabla \ell_i` its score and :math:`H = -\sum_i \nabla^2 \ell_i`
the observed information (all at the estimate :math:`\hat\theta`), :math:`n`
observations, :math:`k` free parameters and :math:`G` clusters:

``"oim"`` (default)
    Inverse observed information, :math:`\hat V = H^{-1}`. Valid when the model
    is correctly specified.
``"opg"``
    Outer product of gradients (BHHH), :math:`\hat V = (\sum_i s_i s_i^\top)^{-1}`.
    Asymptotically equal to ``"oim"`` under correct specification.
``"sandwich"`` (also ``"hc0"``)
    Robust (Huber-White, HC0), :math:`\hat V = H^{-1} (\sum_i s_i s_i^\top) H^{-1}`.
    Valid under misspecification of the distribution as long as observations are
    independent and the estimating equations have mean zero (White, 1982). It
    equals statsmodels ``cov_type="HC0"`` (no small-sample factor).
``"hc1"``
    The sandwich times :math:`n/(n-k)`, as statsmodels'
    ``OLS(...).fit(cov_type="HC1")`` and Stata's ``regress, robust``.
    (statsmodels' MLE models, e.g. ``Logit``, ``Poisson`` and ``GLM``,
    silently return HC0 for ``cov_type="HC1"``.)
``"hc2"``, ``"hc3"``
    The sandwich with each score divided by :math:`(1-h_i)^{1/2}` (HC2) or
    :math:`1-h_i` (HC3), :math:`h_i` the hat value of the working-weight
    regression (:mod:`likelihax.objective._robust`; needs a model with
    ``fisher=``, as every GLM). R's ``sandwich::vcovHC(type="HC2"/"HC3")`` for
    ``lm`` and for ``glm`` with a canonical link (R builds the bread of a
    ``glm`` from the expected information, this kind from the observed one: they
    differ for non-canonical links); statsmodels ``OLS`` ``cov_type="HC2"/"HC3"``.
``"stata"``
    The sandwich times :math:`n/(n-1)`: Stata's ``vce(robust)`` for maximum
    likelihood commands (``logit``, ``poisson``, ``glm``, ``ml``). With
    cluster labels (:func:`~likelihax.inference.vcov`, ``groups=``), the
    cluster sandwich below with :math:`c = G/(G-1)`: Stata's
    ``vce(cluster g)`` for those commands, and R's ``sandwich::vcovCL`` default
    for a ``glm`` (``type="HC0"``, ``cadjust=TRUE``).
``"cluster"`` (only through :func:`~likelihax.inference.vcov`, which takes the groups)
    Cluster-robust, :math:`\hat V = c\,H^{-1} (\sum_g S_g S_g^\top) H^{-1}`
    with :math:`S_g = \sum_{i\in g} s_i` the score of cluster :math:`g`, and by
    default statsmodels' small-sample factor
    :math:`c = \frac{G}{G-1}\,\frac{n-1}{n-k}` (Stata's ``regress,
    vce(cluster g)``; R ``vcovCL(type="HC1")``). Two-way clustering (Cameron,
    Gelbach and Miller, 2011) is :math:`\hat V_1 + \hat V_2 - \hat V_{12}`, with
    :math:`\hat V_{12}` clustered by the intersection of the two groupings.
    By default each term carries its own factor (statsmodels ``cov_type=
    "cluster"`` with two group columns, R ``vcovCL(cluster = ~a + b, type =
    "HC1")``); ``correction="min"`` applies one factor to the sum,
    :math:`\frac{G_{\min}}{G_{\min}-1}\frac{n-1}{n-k}` with :math:`G_{\min}`
    the smaller number of clusters (Stata's ``ivreg2, cluster(a b) small``,
    ``reghdfe``). Valid for observations correlated within clusters and
    independent between them, with many clusters.
``"crv3"`` (only through :func:`~likelihax.inference.vcov`)
    Leave-one-cluster-out jackknife, :math:`\hat V = \frac{G-1}{G}\sum_g
    (\hat\theta_{(g)} - \hat\theta)(\hat\theta_{(g)} - \hat\theta)^\top`, with
    :math:`\hat\theta_{(g)}` the estimate refitted without cluster :math:`g`
    (CRV3 of MacKinnon, Nielsen and Webb, 2023, centred at the estimate; for
    linear regression it equals the closed form :math:`\frac{G-1}{G}\sum_g
    (X^\top X - X_g^\top X_g)^{-1} X_g^\top e_g e_g^\top X_g (X^\top X -
    X_g^\top X_g)^{-1}`). Stata's ``vce(jackknife)`` centres at the mean of
    the :math:`\hat\theta_{(g)}` instead (as R's ``sandwich::vcovJK`` by
    default; ``center="estimate"`` gives this kind), which is smaller by
    :math:`(G-1)(\bar\theta - \hat\theta)(\bar\theta - \hat\theta)^\top`.
``"hac"``
    Newey-West: the sandwich with the Bartlett-weighted autocovariances of
    the scores in row order (:mod:`likelihax.objective._robust`), lags up to
    ``maxlags`` (default :math:`\lfloor 4(n/100)^{2/9}\rfloor`;
    ``"nw1994"``: Newey and West's automatic lag, as R's ``NeweyWest(fit,
    prewhite = FALSE)``); times
    :math:`n/(n-k)` with ``correction=True``. statsmodels ``cov_type="HAC"``
    (``maxlags``, ``use_correction``); R ``sandwich::NeweyWest(lag = L,
    prewhite = FALSE, adjust = correction)``; Stata ``newey, lag(L)`` (with the
    correction) and ``ivreg2, robust bw(L+1)`` (without).
``"driscoll-kraay"`` (only through :func:`~likelihax.inference.vcov`, ``time=``)
    Newey-West over the sums of the scores within each period (Driscoll and
    Kraay, 1998): statsmodels ``cov_type="nw-groupsum"``, Stata ``xtscc,
    lag(L)`` and ``ivreg2, dkraay(L+1)``, R ``sandwich::vcovPL(cluster = ~id,
    order.by = ~time, lag = L, adjust = FALSE)``; the default lag rule uses
    the number of periods :math:`T`. ``correction=True`` multiplies by
    :math:`n/(n-k)` (statsmodels ``use_correction="hac"``),
    ``correction="cluster"`` by :math:`\frac{T}{T-1}\frac{n-1}{n-k}`
    (``ivreg2, dkraay(L+1) small``, statsmodels ``use_correction="cluster"``).

Which option of R (``sandwich``), Stata and statsmodels each name equals (the
guide page ``docs/guide/covariance-names.md`` says which of these the tests
check against that tool's numbers):

| likelihax | factor | R (sandwich) | Stata | statsmodels |
|---|---|---|---|---|
| hc0 / sandwich | 1 | vcovHC(type="HC0") | ivreg2, robust | cov_type="HC0" |
| hc1 | n/(n-k) | vcovHC(type="HC1") | regress, vce(robust) | OLS cov_type="HC1" |
| hc2, hc3 | leverage | vcovHC(type="HC2"/"HC3") | regress, vce(hc2)/vce(hc3) | OLS, WLS "HC2"/"HC3" |
| stata | n/(n-1) | (vcovHC HC0 times it) | poisson/nbreg/glm, vce(robust) | |
| stata, groups=g | G/(G-1) per term | vcovCL(cluster=g) for a glm | poisson/nbreg/glm, vce(cluster g) | |
| cluster, groups=g | G/(G-1) (n-1)/(n-k) per term | vcovCL(cluster=g, type="HC1") | regress, vce(cluster g) | cov_type="cluster" |
| cluster, two groupings, correction="min" | Gmin/(Gmin-1) (n-1)/(n-k) once | vcovCL(cluster=~a+b, type="HC1", cadjust=FALSE) times the factor | ivreg2, cluster(a b) small | |
| crv3, groups=g | (G-1)/G | vcovJK(cluster=g, center="estimate") | (vce(jackknife) centres at the mean) | |
| hac, maxlags=L | Bartlett | NeweyWest(lag=L, prewhite=FALSE, adjust=correction) | ivreg2, robust bw(L+1); newey, lag(L) with correction=True | cov_type="HAC", maxlags=L |
| driscoll-kraay, time=t | Bartlett over periods | vcovPL(cluster=~id, order.by=~t, lag=L, adjust=FALSE) | xtscc, lag(L); ivreg2, dkraay(L+1) (small: correction="cluster") | cov_type="nw-groupsum" |

The matrices are computed on the unconstrained scale :math:`u` and carried to
the natural scale by the delta method, :math:`J \hat V_u J^\top` with
:math:`J = \partial\theta/\partial u`; at a maximum this equals the natural-scale
formula, so a model written with ``sigma`` or ``log_sigma`` gets the same SEs.
Every kind but ``"oim"`` and ``"eim"`` needs one log-likelihood value per
observation.

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
* either kind, clustered or serially correlated: :math:`S_g = \sum_{i\in g}
  w_i s_i` (a frequency-weighted row stands for copies that all lie in its
  cluster or period).

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

Newey, W. K. and West, K. D. (1994). Automatic lag selection in covariance
matrix estimation. *Review of Economic Studies*, 61(4), 631-653.

Driscoll, J. C. and Kraay, A. C. (1998). Consistent covariance matrix
estimation with spatially dependent panel data. *Review of Economics and
Statistics*, 80(4), 549-560.

MacKinnon, J. G., Nielsen, M. O. and Webb, M. D. (2023). Cluster-robust
inference: A guide to empirical practice. *Journal of Econometrics*, 232(2),
272-299.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp

from ..core import Status
from . import _robust
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
        Needs cluster (or period) labels, so only :func:`likelihax.vcov`
        computes it (not ``fit(cov=)``).
    compute : callable
        ``compute(problem, u, Hinv, weight_type, clusters, options) -> cov_u``,
        the covariance on the unconstrained scale (module notes). ``"crv3"``
        refits the model, which :func:`likelihax.vcov` does; its ``compute``
        raises.
    takes_groups : bool
        Accepts cluster labels without needing them (``"stata"``).
    """

    name: str
    description: str
    information: str
    per_obs: bool
    robust: bool
    needs_groups: bool
    compute: Callable | None
    takes_groups: bool = False


def _inverse_information(problem, u, Hinv, weight_type, clusters, options=None):
    return Hinv


def _opg(problem, u, Hinv, weight_type, clusters, options=None):
    B, _ = problem.meat(u, weight_type)
    return jnp.where(jnp.all(jnp.isfinite(Hinv)), _inv_pd(B), jnp.nan)


def _sandwich(problem, u, Hinv, weight_type, clusters, options=None, dof=None):
    """HC0; with ``dof = d``, times :math:`n/(n-d)`."""
    B, n = problem.meat(u, weight_type)
    cov_u = Hinv @ B @ Hinv
    cov_u = 0.5 * (cov_u + cov_u.T)
    return cov_u if dof is None else cov_u * (n / (n - dof))


def _hc1(problem, u, Hinv, weight_type, clusters, options=None):
    return _sandwich(problem, u, Hinv, weight_type, clusters, dof=u.shape[0])


def _stata(problem, u, Hinv, weight_type, clusters, options=None):
    if clusters:
        return _cluster(problem, u, Hinv, weight_type, clusters, kind="stata")
    return _sandwich(problem, u, Hinv, weight_type, clusters, dof=1)


def _cluster(problem, u, Hinv, weight_type, clusters, options=None, kind="cluster"):
    scores = problem.scores(u)
    if scores.ndim != 2:
        raise ValueError(
            f"cov={kind!r} needs one log-likelihood value per observation, but "
            "the log-likelihood returns a scalar. Return the per-observation "
            "terms (drop the final sum) or use cov='oim'."
        )
    w = problem.weights
    n, k = _effective_nobs(scores, w, weight_type), u.shape[0]
    return _cluster_cov(scores, w, Hinv, clusters, n, k)


def _by_refits(problem, u, Hinv, weight_type, clusters, options=None):
    raise ValueError(
        "cov='crv3' refits the model once per cluster: compute it with "
        "lx.vcov(fit, 'crv3', groups=g)."
    )


_ROBUST_NOTE = "valid under misspecified distributions for independent observations"
_CLUSTER_NOTE = (
    "valid for observations correlated within clusters, independent between them"
)
_SERIAL_NOTE = "valid under heteroskedasticity and autocorrelation"
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
            "hc0", "robust sandwich H^-1 (sum s_i s_i') H^-1 (HC0); "
            + _ROBUST_NOTE, "observed", True, True, False, _sandwich,
        ),
        CovarianceKind(
            "hc1", "robust sandwich (HC0) times n/(n-k) (HC1); " + _ROBUST_NOTE,
            "observed", True, True, False, _hc1,
        ),
        CovarianceKind(
            "hc2", "robust sandwich with scores over sqrt(1-h_i), h_i the leverage "
            "(HC2); " + _ROBUST_NOTE, "observed", True, True, False, _robust.hc2,
        ),
        CovarianceKind(
            "hc3", "robust sandwich with scores over 1-h_i, h_i the leverage "
            "(HC3); " + _ROBUST_NOTE, "observed", True, True, False, _robust.hc3,
        ),
        CovarianceKind(
            "stata", "robust sandwich (HC0) times n/(n-1), Stata's vce(robust) for "
            "ML models; " + _ROBUST_NOTE, "observed", True, True, False, _stata,
            takes_groups=True,
        ),
        CovarianceKind(
            "cluster", "cluster-robust sandwich H^-1 (sum_g S_g S_g') H^-1; "
            + _CLUSTER_NOTE, "observed", True, True, True, _cluster,
        ),
        CovarianceKind(
            "crv3", "leave-one-cluster-out jackknife (G-1)/G sum_g (b_(g) - b)"
            "(b_(g) - b)' (CRV3); " + _CLUSTER_NOTE,
            "observed", True, True, True, _by_refits,
        ),
        CovarianceKind(
            "hac", "Newey-West sandwich (Bartlett kernel over the rows in order; "
            "maxlags floor(4 (n/100)^(2/9)) unless given); "
            + _SERIAL_NOTE, "observed", True, True, False, _robust.hac,
        ),
        CovarianceKind(
            "driscoll-kraay", "Driscoll-Kraay sandwich (Newey-West over the period "
            "sums of the scores); " + _SERIAL_NOTE + " across periods and "
            "dependence within them", "observed", True, True, True,
            _robust.driscoll_kraay,
        ),
    )
}  # fmt: skip
# Kinds fit(cov=) computes; those needing more than the fit (cluster labels)
# only through vcov().
COV_KINDS = tuple(k for k, c in COVARIANCES.items() if not c.needs_groups)
VCOV_KINDS = tuple(COVARIANCES)
ROBUST_KINDS = tuple(k for k, c in COVARIANCES.items() if c.robust)
DESCRIPTIONS = {k: c.description for k, c in COVARIANCES.items()}


def analyze_information(H, g, rel_tol, eig=None, extremes=None):
    r"""Classify the information ``H`` and invert it, from one factorization.

    ``eig``, the :class:`~likelihax.optimize.ScaledFactor` of ``H`` (or the
    output of :func:`~likelihax.optimize.scaled_eigh`), is reused when given;
    beyond ``EIGEN_MAX`` parameters the extreme eigenvalues come from its
    Cholesky factor by inverse and power iteration
    (:func:`~likelihax.optimize.factor_extremes`), or are given as
    ``extremes = (lo, hi)`` where the caller has them from the same factor. The test uses the *scaled* information :math:`S = D^{-1/2} H D^{-1/2}`,
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
    lo, hi = factor_extremes(f)[:2] if extremes is None else extremes
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
    problem, kind: str, u, Hinv, weight_type: str = "frequency", clusters=(),
    options=None,
):  # fmt: skip
    """Unconstrained and natural-scale covariance at ``u`` (delta method).

    ``Hinv`` is the inverse of the information of ``kind`` (observed, or
    expected for ``"eim"``; NaN when it is not positive definite, which makes
    every kind NaN). Every kind but ``"oim"`` and ``"eim"`` uses the
    per-observation scores, weighted as the module notes say. For
    ``"cluster"`` and ``"stata"``, ``clusters`` is a sequence of
    ``(codes, n_groups, sign, factor, dof)``: integer cluster codes ``(n,)``
    in ``0..n_groups-1`` (traced), and static ``n_groups``, ``sign`` (+1, or
    -1 for the intersection term of two-way clustering), ``factor`` (the
    :math:`G/(G-1)` part of the small-sample factor, 1 for none) and ``dof``
    (bool: times :math:`(n-1)/(n-k)`). For ``"driscoll-kraay"`` it holds one
    entry whose codes are the periods in time order. ``options``, a
    :class:`~likelihax.objective._robust.CovOptions`, sets the lags and
    correction of ``"hac"`` and ``"driscoll-kraay"`` (None: the defaults).
    """
    if kind not in COVARIANCES:
        raise ValueError(f"Unknown covariance kind {kind!r}; use one of {VCOV_KINDS}.")
    cov_u = COVARIANCES[kind].compute(problem, u, Hinv, weight_type, clusters, options)
    return cov_u, delta_cov(lambda v: problem.spec.natural_flat(v, problem.fixed_leaves), u,
                            cov_u)  # fmt: skip


# Up to this many parameters the delta method forms J (see ``delta_cov``).
DELTA_DENSE_MAX = 256


def delta_cov(fn, u, cov_u):
    r"""``J cov_u J'`` for the Jacobian ``J`` of ``fn`` at ``u``, by products
    with ``J`` (``jax.jvp``), never forming ``J``.

    Each constraint transforms its own parameter, mostly elementwise (or not
    at all), so a product with ``J`` costs :math:`O(k)` and the two sides
    :math:`O(k^2)`; the two :math:`k^3` matrix products of ``J @ cov_u @ J.T``
    took longer than the fit's Hessian at thousands of parameters. Up to
    ``DELTA_DENSE_MAX`` parameters ``J`` is formed (exact zeros of
    ``cov_u`` stay exact).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.objective._covariance import delta_cov
    >>> C = jnp.array([[1.0, 0.5], [0.5, 2.0]])
    >>> delta_cov(jnp.exp, jnp.zeros(2), C).tolist()
    [[1.0, 0.5], [0.5, 2.0]]
    """

    if u.shape[0] <= DELTA_DENSE_MAX:  # small: the products with J are cheap
        J = jax.jacfwd(fn)(u)
        return J @ cov_u @ J.T

    def times_j(t):
        return jax.jvp(fn, (u,), (t,))[1]

    A = jax.vmap(times_j)(cov_u)  # rows J cov_u[r]: (cov_u J')
    return jax.vmap(times_j, in_axes=1, out_axes=1)(A)  # J (cov_u J')


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
    for codes, n_groups, sign, factor, dof in clusters:
        S = jax.ops.segment_sum(ws, codes, num_segments=n_groups)
        V = Hinv @ (S.T @ S) @ Hinv
        c = factor * (n - 1.0) / (n - k) if dof else factor
        cov_u = cov_u + sign * c * V
    return 0.5 * (cov_u + cov_u.T)
