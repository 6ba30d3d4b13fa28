r"""What the plots draw: plain records of numpy arrays, computed without matplotlib.

Each plot in :mod:`likelihax.plots` draws one of these records, so the numbers
behind a figure can be checked (and reused) on their own:

- :func:`loglik_surface` -- the log-likelihood over a grid of two parameters
  (the others at the MLE, or profiled out), with the likelihood-ratio region
  level and the Wald ellipse;
- :func:`calibration_curve` -- observed frequency against mean predicted
  probability per bin (as scikit-learn's ``calibration_curve``);
- :func:`distribution_check` -- fitted density on a grid and QQ points for a
  fit of :func:`likelihax.fit_distribution`;
- :func:`mixture_density` -- component densities of a univariate mixture, or
  component ellipses of a Gaussian mixture;
- :func:`optimizer_trace` -- the log-likelihood at each accepted iterate;
- :func:`forest_table` -- estimates and Wald intervals of one or several fits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import numpy as np

from ..inference import LoglikSurface, loglik_surface
from ..results import as_fit

__all__ = [
    "CalibrationCurve",
    "DistributionCheck",
    "ForestTable",
    "LoglikSurface",
    "MixtureDensity",
    "OptimizerTrace",
    "calibration_curve",
    "distribution_check",
    "forest_table",
    "loglik_surface",
    "mixture_density",
    "optimizer_trace",
]


def _check_alpha(alpha):
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}.")


# ----- 2-D log-likelihood surface: computed in likelihax.inference ----------------------
# ----- calibration curve ------------------------------------------------------------------
class CalibrationCurve(NamedTuple):
    """Observed frequency against mean predicted probability per bin.

    Attributes
    ----------
    prob_true : ndarray
        Fraction of positives in each non-empty bin.
    prob_pred : ndarray
        Mean predicted probability in each non-empty bin.
    counts : ndarray of int
        Observations in each non-empty bin.
    edges : ndarray
        Bin edges (``bins + 1`` values, including empty bins).
    strategy : str
    brier : float
        Brier score :math:`\\frac1n\\sum_i (p_i - y_i)^2`.
    """

    prob_true: np.ndarray
    prob_pred: np.ndarray
    counts: np.ndarray
    edges: np.ndarray
    strategy: str
    brier: float


def calibration_curve(
    y, p, bins: int = 10, strategy: str = "uniform"
) -> CalibrationCurve:
    r"""Calibration (reliability) curve of predicted probabilities.

    Bins the predictions and compares, per non-empty bin, the fraction of
    positives with the mean prediction; a calibrated model lies on the
    diagonal. Binning is that of scikit-learn's
    ``sklearn.calibration.calibration_curve`` (so the numbers agree).

    Parameters
    ----------
    y : array_like (n,)
        Binary outcomes (0/1 or booleans).
    p : array_like (n,)
        Predicted probabilities of ``y = 1``, in [0, 1].
    bins : int
        Number of bins.
    strategy : {"uniform", "quantile"}
        Equal-width bins on [0, 1], or bins with equal numbers of predictions.

    Returns
    -------
    CalibrationCurve

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> y = np.array([0, 0, 1, 1, 1, 0])
    >>> p = np.array([0.1, 0.2, 0.8, 0.9, 0.7, 0.3])
    >>> c = lx.calibration_curve(y, p, bins=2)
    >>> c.prob_true.tolist(), np.round(c.prob_pred, 3).tolist()
    ([0.0, 1.0], [0.2, 0.8])
    """
    ya = np.asarray(y)
    pa = np.asarray(p, dtype=float)
    if ya.ndim != 1 or pa.shape != ya.shape:
        raise ValueError(
            f"y and p must be 1-D arrays of the same length; got shapes "
            f"{ya.shape} and {pa.shape}."
        )
    if ya.size == 0:
        raise ValueError("y and p are empty.")
    if ya.dtype.kind not in "biuf" or not np.all(np.isin(ya, (0, 1))):
        raise ValueError("y must be binary (0/1 or booleans).")
    if not np.all(np.isfinite(pa)) or pa.min() < 0 or pa.max() > 1:
        raise ValueError("p must be probabilities in [0, 1] (no NaN).")
    if int(bins) != bins or bins < 1:
        raise ValueError(f"bins must be a positive integer; got {bins}.")
    bins = int(bins)
    ya = ya.astype(float)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, bins + 1)
    elif strategy == "quantile":
        edges = np.percentile(pa, np.linspace(0.0, 100.0, bins + 1))
    else:
        raise ValueError(f"strategy must be 'uniform' or 'quantile'; got {strategy!r}.")
    ids = np.searchsorted(edges[1:-1], pa)
    total = np.bincount(ids, minlength=len(edges))
    s_pred = np.bincount(ids, weights=pa, minlength=len(edges))
    s_true = np.bincount(ids, weights=ya, minlength=len(edges))
    nz = total != 0
    return CalibrationCurve(
        prob_true=s_true[nz] / total[nz], prob_pred=s_pred[nz] / total[nz],
        counts=total[nz], edges=edges, strategy=strategy,
        brier=float(np.mean((pa - ya) ** 2)),
    )  # fmt: skip


# ----- distribution fits: density and QQ points ---------------------------------------------
class DistributionCheck(NamedTuple):
    """Fitted density over a grid and QQ points for a univariate distribution fit.

    Attributes
    ----------
    family : str
    discrete : bool
    params : dict
        The fitted parameters (floats).
    sample : ndarray
        The data, sorted.
    grid, density : ndarray
        Support points and the fitted density there (the probability mass
        function at the integers for a discrete family).
    theoretical : ndarray
        Fitted quantiles at the plotting positions of ``sample`` (Filliben's,
        as ``scipy.stats.probplot``).
    """

    family: str
    discrete: bool
    params: dict
    sample: np.ndarray
    grid: np.ndarray
    density: np.ndarray
    theoretical: np.ndarray


def _scipy_dist(family: str, p: dict, data: dict):
    """The fitted family as a frozen ``scipy.stats`` distribution."""
    from scipy import stats as ss

    if family == "zip":
        raise ValueError("QQ points are not available for the zero-inflated Poisson.")
    table = {
        "normal": lambda: ss.norm(p["mu"], p["sigma"]),
        "lognormal": lambda: ss.lognorm(p["sigma"], scale=math.exp(p["mu"])),
        "exponential": lambda: ss.expon(scale=1 / p["rate"]),
        "gamma": lambda: ss.gamma(p["shape"], scale=1 / p["rate"]),
        "weibull": lambda: ss.weibull_min(p["shape"], scale=p["scale"]),
        "beta": lambda: ss.beta(p["a"], p["b"]),
        "student_t": lambda: ss.t(p["df"], p["loc"], p["scale"]),
        "logistic": lambda: ss.logistic(p["loc"], p["scale"]),
        "gumbel": lambda: ss.gumbel_r(p["loc"], p["scale"]),
        "pareto": lambda: ss.pareto(p["shape"], scale=p["scale"]),
        "poisson": lambda: ss.poisson(p["rate"]),
        "binomial": lambda: ss.binom(int(np.max(data["trials"])), p["prob"]),
        "negbin": lambda: ss.nbinom(p["size"], p["size"] / (p["size"] + p["mu"])),
        "geometric": lambda: ss.geom(p["prob"], loc=-1),
    }
    return table[family]()


def _family_of(fit) -> str:
    from ..models import FAMILIES

    info = fit.model_info
    if info.kind == "distribution" and info.family in FAMILIES:
        return info.family
    raise ValueError(
        "This fit does not come from lx.fit_distribution; pass family=... "
        f"(one of {sorted(FAMILIES)})."
    )


def _plotting_positions(n: int) -> np.ndarray:
    """Filliben's order-statistic medians (``scipy.stats.probplot``)."""
    m = (np.arange(1, n + 1) - 0.3175) / (n + 0.365)
    m[-1] = 0.5 ** (1.0 / n)
    m[0] = 1.0 - m[-1]
    return m


def distribution_check(
    fit, x=None, *, family: str | None = None, n_grid: int = 200
) -> DistributionCheck:
    """Fitted density and QQ points for a fit of :func:`likelihax.fit_distribution`.

    Parameters
    ----------
    fit : FitResult
        From :func:`likelihax.fit_distribution` (uncensored data).
    x : array_like, optional
        The sample (default: the fit's data).
    family : str, optional
        Family name, if it cannot be read from the fit.
    n_grid : int
        Grid points for a continuous density.

    Returns
    -------
    DistributionCheck

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> x = np.array([0.5, 1.2, 0.3, 2.0, 0.9])
    >>> d = lx.plots.distribution_check(lx.fit_distribution("exponential", x))
    >>> d.family, d.discrete, d.sample.tolist()
    ('exponential', False, [0.3, 0.5, 0.9, 1.2, 2.0])
    """
    name = _family_of(fit) if family is None else family
    data = fit.setup.data if fit.setup.data is not None else {}
    if x is None:
        if "x" not in data:
            raise ValueError("This fit carries no sample (censored data?); pass x=.")
        x = data["x"]
    xs = np.sort(np.asarray(x, dtype=float).ravel())
    if xs.size < 2 or not np.all(np.isfinite(xs)):
        raise ValueError("x must hold at least 2 finite values.")
    params = {k: float(np.asarray(v)) for k, v in fit.params.items()}
    if name == "binomial" and np.ptp(np.asarray(data.get("trials", 0))) != 0:
        raise ValueError(
            "QQ points need one binomial distribution: the numbers of trials differ "
            "between observations."
        )
    dist = _scipy_dist(name, params, data)
    from ..models.distributions import FAMILIES

    discrete = FAMILIES[name].discrete
    theoretical = dist.ppf(_plotting_positions(xs.size))
    if discrete:
        hi = max(xs.max(), dist.ppf(0.999))
        grid = np.arange(0.0, hi + 1.0)
        density = dist.pmf(grid)
    else:
        lo, hi = dist.ppf([0.001, 0.999])
        lo, hi = min(lo, xs.min()), max(hi, xs.max())
        grid = np.linspace(lo, hi, int(n_grid))
        density = dist.pdf(grid)
    return DistributionCheck(name, discrete, params, xs, grid, density, theoretical)


# ----- mixtures ---------------------------------------------------------------------------------
class MixtureDensity(NamedTuple):
    """Component densities of a fitted mixture.

    Attributes
    ----------
    family : str
        ``"normal"``, ``"poisson"``, ``"exponential"`` (univariate) or
        ``"gaussian"`` (multivariate, from :func:`likelihax.gaussian_mixture`).
    weights : ndarray (K,)
    grid : ndarray
        Univariate: evaluation points (integers for Poisson). Multivariate: empty.
    components : ndarray (K, len(grid))
        :math:`\\pi_k f_k(x)` on the grid (univariate).
    total : ndarray
        Mixture density on the grid (the sum of ``components``).
    means, covs : ndarray (K, d), (K, d, d)
        Multivariate component means and covariances (univariate: empty).
    """

    family: str
    weights: np.ndarray
    grid: np.ndarray
    components: np.ndarray
    total: np.ndarray
    means: np.ndarray
    covs: np.ndarray


def _mixture_family(fit) -> str:
    info = fit.model_info
    if info.kind == "mixture" and info.family is not None:
        return info.family
    raise ValueError(
        "fit must come from lx.gaussian_mixture or lx.univariate_mixture "
        f"(its model_info says kind={info.kind!r})."
    )


def _gmm_covs(p, k, d):
    if "cov" in p:
        c = np.asarray(p["cov"], dtype=float)
        return np.broadcast_to(c.reshape(-1, d, d), (k, d, d)).copy()
    v = np.asarray(p["var"], dtype=float)
    v = np.broadcast_to(v.reshape(k, -1), (k, d))
    return np.stack([np.diag(r) for r in v])


def mixture_density(fit, x, *, n_grid: int = 300) -> MixtureDensity:
    """Weighted component densities of a fitted mixture over the data's range.

    Parameters
    ----------
    fit : FitResult
        From :func:`likelihax.univariate_mixture` (normal, Poisson,
        exponential) or :func:`likelihax.gaussian_mixture`.
    x : array_like
        The data (sets the grid's range).
    n_grid : int
        Grid points for a continuous family.

    Returns
    -------
    MixtureDensity

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> rng = np.random.default_rng(1)
    >>> y = np.concatenate([rng.normal(0, 1, 150), rng.normal(5, 1, 100)])
    >>> m = lx.plots.mixture_density(lx.univariate_mixture(y, 2, starts=2), y)
    >>> m.family, m.components.shape
    ('normal', (2, 300))
    """
    from scipy import stats as ss

    fam = _mixture_family(fit)
    p = {k: np.asarray(v, dtype=float) for k, v in fit.params.items()}
    w = p["weights"]
    xa = np.asarray(x, dtype=float)
    if fam == "gaussian":
        means = p["means"].reshape(w.size, -1)
        d = means.shape[1]
        covs = _gmm_covs(p, w.size, d)
        if d == 1:
            fam, p = "normal", {"mean": means[:, 0], "sd": np.sqrt(covs[:, 0, 0])}
        else:
            empty = np.zeros((0,))
            return MixtureDensity(fam, w, empty, empty, empty, means, covs)
    xa = xa.ravel()
    if fam == "poisson":
        grid = np.arange(0.0, xa.max() + 1.0)
        comp = np.stack([ss.poisson.pmf(grid, r) for r in p["rate"]])
    else:
        span = xa.max() - xa.min()
        lo = xa.min() - 0.05 * span
        grid = np.linspace(max(lo, 0.0) if fam == "exponential" else lo,
                           xa.max() + 0.05 * span, int(n_grid))  # fmt: skip
        if fam == "normal":
            comp = np.stack(
                [ss.norm.pdf(grid, m, s) for m, s in zip(p["mean"], p["sd"])]
            )
        else:
            comp = np.stack([ss.expon.pdf(grid, scale=1 / r) for r in p["rate"]])
    comp = w[:, None] * comp
    empty = np.zeros((0,))
    return MixtureDensity(fam, w, grid, comp, comp.sum(0), empty, empty)


# ----- optimizer trace ----------------------------------------------------------------------------
class OptimizerTrace(NamedTuple):
    """Log-likelihood along the optimization.

    Attributes
    ----------
    iteration : ndarray
        0 (the start), 1, 2, ... for each accepted step.
    loglik : ndarray
        Log-likelihood at each iterate.
    em_loglik : ndarray
        EM log-likelihood per EM iteration, for mixtures (else empty).
    method : str
    converged : bool
    """

    iteration: np.ndarray
    loglik: np.ndarray
    em_loglik: np.ndarray
    method: str
    converged: bool


def optimizer_trace(fit) -> OptimizerTrace:
    """The fit's recorded trace: log-likelihood at each accepted iterate.

    ``FitResult.trace`` holds the log-likelihood at the start and after each
    accepted step, NaN-padded to ``max_steps + 1``; the padding is dropped.
    EM fits also give the EM log-likelihood per iteration (``fit.em.trace``).

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp, likelihax as lx
    >>> f = lx.fit(lambda p, d: jnp.log(p["rate"]) - p["rate"] * d["y"],
    ...            {"rate": 5.0}, {"y": np.array([0.5, 1.2, 0.3, 2.0])},
    ...            constraints={"rate": lx.constraints.positive})
    >>> t = lx.plots.optimizer_trace(f)
    >>> int(t.iteration[0]), bool(np.isclose(t.loglik[-1], f.loglik))
    (0, True)
    """
    tr = getattr(fit, "trace", None)
    if tr is None:
        raise ValueError("This result has no optimizer trace (fit.trace is None).")
    tr = np.asarray(tr, dtype=float)
    if tr.ndim != 1:
        raise ValueError("Give a single fit, not a batched result: index it first.")
    ll = tr[np.isfinite(tr)]
    em = getattr(fit, "em", None)
    em_ll = np.asarray(em.trace, dtype=float) if em is not None else np.zeros(0)
    em_ll = em_ll[np.isfinite(em_ll)]
    return OptimizerTrace(
        np.arange(ll.size), ll, em_ll, str(fit.method), bool(fit.converged)
    )


# ----- forest plot table ---------------------------------------------------------------------------
class ForestTable(NamedTuple):
    """Estimates and Wald intervals of one or several fits.

    Attributes
    ----------
    labels : list of str
        Parameter labels, in order of first appearance.
    names : list of str
        One name per fit.
    estimate, lower, upper : ndarray (n_fits, n_labels)
        NaN where a fit lacks the parameter.
    level : float
    """

    labels: list
    names: list
    estimate: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float



def _flat(fit, tree):
    leaves = jax.tree_util.tree_leaves(tree)
    flat = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in leaves])
    return flat[np.asarray(fit.spec.reported)]


def forest_table(
    fits: Any,
    alpha: float = 0.05,
    *,
    names: Sequence[str] | None = None,
    params: Sequence[str] | None = None,
) -> ForestTable:
    """Estimates and Wald confidence intervals (``fit.conf_int``) for a forest plot.

    Parameters
    ----------
    fits : FitResult or list of FitResult
        One fit or several (side by side); results with a ``.fit`` attribute
        (e.g. :func:`likelihax.glm`) are accepted.
    alpha : float
        1 - confidence level.
    names : list of str, optional
        A name per fit (default ``"fit 1"``, ...).
    params : list of str, optional
        Labels to show (default: all).

    Returns
    -------
    ForestTable

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0),
    ...            {"mu": 0.0}, {"y": np.array([0.5, 1.5, 1.0, 3.0])})
    >>> t = lx.plots.forest_table(f)
    >>> t.labels, np.round(t.upper - t.lower, 3).tolist()  # 2 * 1.96 / 2
    (['mu'], [[1.96]])
    """
    _check_alpha(alpha)
    items = list(fits) if isinstance(fits, (list, tuple)) else [fits]
    if not items:
        raise ValueError("fits is empty.")
    items = [as_fit(f) for f in items]
    if names is None:
        names = [f"fit {i + 1}" for i in range(len(items))] if len(items) > 1 else [""]
    if len(names) != len(items):
        raise ValueError(f"names has {len(names)} entries for {len(items)} fits.")
    rows = []
    for f in items:
        lo, hi = f.conf_int(alpha)
        est = _flat(f, f.params)
        rows.append(dict(zip(f.labels, zip(est, _flat(f, lo), _flat(f, hi)))))
    labels = list(dict.fromkeys(lab for r in rows for lab in r))
    if params is not None:
        missing = [q for q in params if q not in labels]
        if missing:
            raise KeyError(f"{missing} are not parameter labels; labels: {labels}.")
        labels = list(params)
    arr = np.full((3, len(items), len(labels)), np.nan)
    for i, r in enumerate(rows):
        for j, lab in enumerate(labels):
            if lab in r:
                arr[:, i, j] = r[lab]
    return ForestTable(labels, list(names), arr[0], arr[1], arr[2], 1 - alpha)
