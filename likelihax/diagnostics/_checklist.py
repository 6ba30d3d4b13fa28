"""``checklist``: the applied-work checklist of a fit, in one call."""

from __future__ import annotations

from typing import Any

import jax

from ..results import as_fit
from . import _checks as K
from ._checks_residuals import check_residuals
from ._report import ChecklistReport

__all__ = ["checklist"]


def checklist(
    fit: Any,
    data: Any = None,
    *,
    groups: Any = None,
    starts: int | None = 20,
    start_scale: float = 1.0,
    key: jax.Array | None = None,
    family: str | None = None,
    alpha: float = 0.05,
    cond_warn: float = 1e4,
    boundary_se: float = 2.0,
    se_ratio_warn: float = 1.5,
    items: tuple | list | None = None,
    n_sims: int = 250,
) -> ChecklistReport:
    r"""Run the applied-work checklist on a fit: a verdict and advice per item.

    Items, in order (each ``"ok"``, ``"warn"``, ``"fail"`` or ``"skip"`` with
    the reason when the fit cannot support it):

    1. **model assumed**: the log-likelihood is a sum of independent
       per-observation terms; with ``groups=``, cluster-robust vs sandwich
       standard errors (ratio outside ``[1/se_ratio_warn, se_ratio_warn]``:
       warn).
    2. **convergence**: the status and the scaled gradient
       :math:`g^\top H^{-1} g` (the squared distance to the maximum in
       standard-error units; warn above 1e-6, fail above 1e-2 or for a failed
       status), with :math:`\max_j |g_j|\,\mathrm{se}_j`.
    3. **information**: positive definite (else fail), the condition number of
       the scaled information :math:`D^{-1/2} H D^{-1/2}` (warn above
       ``cond_warn``), and the weak directions (eigenvectors of the smallest
       eigenvalues) named by the parameters that load on them.
    4. **boundary**: estimates at (fail) or within ``boundary_se`` standard
       errors (warn) of the bounds of their constraint (positive, interval,
       unit interval, simplex, correlation, variance).
    5. **starting values**: ``starts`` refits from random points around the
       estimate (normal, sd ``start_scale`` on the unconstrained scale), all in
       one ``vmap``; fail when one reaches a higher log-likelihood than the
       fit, warn when there are several optima. A fit made with ``starts=``
       is judged on its own starts.
    6. **method of moments**: for distribution fits
       (:func:`~likelihax.fit_distribution`, or ``family=``), the
       Hausman-type :math:`z = (\hat\theta_{MoM} - \hat\theta_{ML}) /
       \sqrt{\widehat{\mathrm{Var}}_{MoM} - \widehat{\mathrm{Var}}_{ML}}`
       per parameter; warn when the Bonferroni p-value is below ``alpha``.
    7. **misspecification (IM test)**: :func:`im_test`; warn when a sandwich /
       observed SE ratio leaves ``[1/se_ratio_warn, se_ratio_warn]``, or when
       the test's p-value is below ``alpha`` and some ratio leaves
       ``[1/1.2, 1.2]`` (a rejection that leaves every SE within 20% is
       reported, but as ok: the OPG form over-rejects in small samples).
    8. **separation**: binomial GLMs (:func:`~likelihax.glm` results).
    9. **residuals (simulation)**: models with a response distribution
       (:func:`~likelihax.simulate`): randomized quantile residuals
       (:func:`~likelihax.quantile_residuals`), their uniformity (KS), the
       dispersion test and, for counts, the zero-inflation test, each at
       level ``alpha`` (warn on a rejection). The advice depends on the
       model: a Poisson fit is pointed to the negative binomial, a negative
       binomial one with excess zeros to zero-inflated or hurdle models, a
       zero-inflated one to its zero part.

    Parameters
    ----------
    fit : FitResult or a model result with ``.fit`` (GLMResult, MixedResult, ...)
    data : pytree, optional
        The data of the fit (default: the data the fit holds).
    groups : array, optional
        Cluster labels, one per observation, for the independence item.
    starts : int or None
        Number of starts for the starting-value item (``None``: skipped).
    start_scale : float
        Standard deviation of the random starts on the unconstrained scale.
    key : jax.random key, optional
        Key of the random starts (default ``jax.random.key(0)``).
    family : str, optional
        Distribution family of a fit made with :func:`likelihax.fit`, for the
        method-of-moments item (found automatically for ``fit_distribution``).
    alpha : float
        Level of the IM and method-of-moments tests.
    cond_warn, boundary_se, se_ratio_warn : float
        Thresholds (see the items).
    items : sequence of str, optional
        Run only these items (names as above, e.g. ``["convergence",
        "information"]``); default all.
    n_sims : int
        Simulated data sets of the residual item.

    Returns
    -------
    ChecklistReport
        ``print(report)`` for text, HTML in Jupyter; ``report.verdict`` is the
        worst verdict, ``report["information"]`` one item.

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> x = np.random.default_rng(0).gamma(3.0, 2.0, size=300)
    >>> rep = lx.checklist(lx.fit_distribution("gamma", x), starts=8)
    >>> rep.verdict
    'ok'
    >>> [it.name for it in rep][:3]
    ['model assumed', 'convergence', 'information']
    >>> rep["starting values"].values["at_best"]
    8
    """
    inner = as_fit(fit)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
    if starts is not None and int(starts) < 2:
        raise ValueError(
            f"starts must be at least 2 (or None to skip the check); got {starts}."
        )
    for nm, v in (("cond_warn", cond_warn), ("boundary_se", boundary_se)):
        if not v > 0:
            raise ValueError(f"{nm} must be positive; got {v}.")
    if not se_ratio_warn > 1:
        raise ValueError(f"se_ratio_warn must be > 1; got {se_ratio_warn}.")
    if not inner.is_single:
        raise ValueError(
            "checklist needs a single fit, not a batched result: index it (fits[i])."
        )
    runners = {
        "model assumed": lambda: K.check_independence(inner, data, groups,
                                                      se_ratio_warn),
        "convergence": lambda: K.check_convergence(inner),
        "information": lambda: K.check_information(inner, cond_warn),
        "boundary": lambda: K.check_boundary(inner, boundary_se),
        "starting values": lambda: K.check_starts(inner, data, starts, start_scale,
                                                  key),
        "method of moments": lambda: K.check_mom(inner, data, family, alpha),
        "misspecification (IM test)": lambda: K.check_im(inner, data, alpha,
                                                         se_ratio_warn),
        "separation": lambda: K.check_separation(fit),
        "residuals (simulation)": lambda: check_residuals(fit, alpha, n_sims),
    }  # fmt: skip
    if items is None:
        items = list(runners)
    elif isinstance(items, str) or any(i not in runners for i in items):
        raise ValueError(
            f"items must be a list of item names from {list(runners)}; got {items!r}."
        )
    out = tuple(runners[i]() for i in runners if i in items)
    model = (
        f"{type(fit).__name__} ({inner.setup.name}): {inner.n_params} free parameter(s), "
        f"n = {inner.nobs}, loglik {float(inner.loglik):.8g}"
    )
    return ChecklistReport(out, model)
