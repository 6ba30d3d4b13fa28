r"""Randomized quantile residuals and the residual tests of simulated responses.

Use :func:`quantile_residuals` for residuals that are standard normal (or
uniform) under a correctly specified model, whatever its family; use
:func:`uniformity_test`, :func:`dispersion_test` and
:func:`zero_inflation_test` to test them (DHARMa's ``testUniformity``, ``testDispersion``, ``testZeroInflation``). Every function
reads the model's response distribution (:func:`simulate` draws from it).

Two constructions, chosen by ``method``:

* ``"exact"`` (Dunn & Smyth 1996), for models whose response has a CDF in
  closed form: :math:`u_i = F(y_i^-) + U_i\,(F(y_i) - F(y_i^-))`, :math:`U_i
  \sim U(0, 1)`; for a continuous response :math:`u_i = F(y_i)`, for a
  discrete one the jump at :math:`y_i` is filled at random; censored rows of
  a survival model draw :math:`u_i` on the interval their bounds allow.
* ``"simulation"`` (DHARMa's scaled residuals, Hartig 2022): with
  :math:`S` simulated responses :math:`y_{ij}^*` of row :math:`i`,
  :math:`u_i = \hat F_i(y_i^-) + U_i\,(\hat F_i(y_i) - \hat F_i(y_i^-))`,
  :math:`\hat F_i(y^-) = \#\{j: y_{ij}^* < y\}/S` and
  :math:`\hat F_i(y) = \#\{j: y_{ij}^* \le y\}/S` (the empirical CDF, ties
  randomized). Models without a closed-form CDF (mixed models drawing new
  random effects) use it.

Normal scores are :math:`r_i = \Phi^{-1}(u_i)`, with :math:`u_i` kept in
:math:`[1/(2S), 1 - 1/(2S)]` for simulation residuals (an observation outside
every simulation would otherwise be infinite).

References
----------
Dunn, P. K. & Smyth, G. K. (1996). Randomized quantile residuals. *J. Comput.
Graph. Stat.* 5, 236-244.
Hartig, F. (2022). DHARMa: residual diagnostics for hierarchical regression
models. R package, version 0.4.6.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from .. import models as _models  # noqa: F401  (registers the models' responses)
from ..core import x64_scope
from ..results import draw_responses, response_of, simulate

__all__ = [
    "QuantileResiduals",
    "ResidualTest",
    "quantile_residuals",
    "simulate",
    "dispersion_test",
    "uniformity_test",
    "zero_inflation_test",
]

_METHODS = ("auto", "exact", "simulation")
_ALTERNATIVES = ("two.sided", "greater", "less")


class QuantileResiduals(NamedTuple):
    """Randomized quantile residuals of a fit.

    Attributes
    ----------
    residuals : ndarray
        Normal scores :math:`\\Phi^{-1}(u_i)`.
    uniform : ndarray
        :math:`u_i`, uniform on (0, 1) under the model.
    fitted : ndarray
        Fitted means (the x axis of a residual-vs-fitted plot).
    observed : ndarray
        The observed responses.
    method : str
        ``"exact"`` or ``"simulation"``.
    simulated : ndarray or None
        The simulations, ``(n_sims, n_obs)``, of a ``"simulation"`` residual.
    """

    residuals: np.ndarray
    uniform: np.ndarray
    fitted: np.ndarray
    observed: np.ndarray
    method: str
    simulated: np.ndarray | None = None


class ResidualTest(NamedTuple):
    """A test on simulated responses or residuals.

    Attributes
    ----------
    name : str
    statistic : float
        KS distance (uniformity), or the ratio observed / mean simulated
        (dispersion, zeros).
    pvalue : float
    alternative : str
    observed : float
        The statistic's summary of the data (variance about the fitted means,
        number of zeros); NaN for the KS test.
    simulated : ndarray or None
        The same summary of each simulated data set.
    """

    name: str
    statistic: float
    pvalue: float
    alternative: str
    observed: float = float("nan")
    simulated: np.ndarray | None = None

    def __str__(self) -> str:
        return (f"{self.name}: statistic {self.statistic:.4g}, p = {self.pvalue:.4g} "
                f"({self.alternative})")  # fmt: skip


def _observed(resp, observed):
    y = resp.y if observed is None else np.asarray(observed, dtype=np.float64)
    if y is None:
        raise ValueError(
            "observed= is needed: the model does not record its response "
            "(a custom lx.fit with sampler=): pass the observed responses."
        )
    return np.asarray(y, dtype=np.float64).reshape(-1)


def _uniforms(uniforms, n, seed):
    if uniforms is None:
        return np.random.default_rng(seed).random(n)
    u = np.asarray(uniforms, dtype=np.float64).reshape(-1)
    if u.shape != (n,) or np.any((u < 0) | (u > 1)):
        raise ValueError(f"uniforms must be {n} numbers in [0, 1]; got shape {u.shape}.")
    return u


def quantile_residuals(
    result: Any,
    *,
    method: str = "auto",
    n_sims: int = 250,
    seed: int = 0,
    conditional: bool | None = None,
    sampler: Any = None,
    observed: Any = None,
    uniforms: Any = None,
) -> QuantileResiduals:
    r"""Randomized quantile residuals (Dunn-Smyth, or DHARMa's simulated ones).

    Parameters
    ----------
    result : model result or FitResult
    method : {"auto", "exact", "simulation"}
        ``"auto"``: ``"exact"`` where the model's response has a closed-form
        CDF (GLMs, counts with extra zeros, beta, survival, ordinal, mixtures,
        mixed models with ``conditional=True``), else ``"simulation"``.
    n_sims : int
        Simulations for ``"simulation"`` (DHARMa's default 250).
    seed : int
        Seed of the simulations and of the randomization.
    conditional : bool, optional
        Mixed models: residuals given the estimated random effects (True) or
        over new random effects (False, the default; simulation).
    sampler : callable, optional
        ``sampler(key, params, data) -> y`` for a custom :func:`likelihax.fit`
        (then ``observed=`` too; always ``"simulation"``).
    observed : array, optional
        The observed responses, where the result does not hold them.
    uniforms : array, optional
        The randomization :math:`U_i` (default drawn from ``seed``).

    Returns
    -------
    QuantileResiduals

    Raises
    ------
    ValueError
        ``method="exact"`` for a model without a closed-form CDF, an unordered
        categorical response, or bad options.

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> y = rng.poisson(np.exp(0.5 + 0.5 * x))
    >>> r = lx.glm(y, np.column_stack([np.ones(400), x]), family="poisson")
    >>> res = lx.quantile_residuals(r)
    >>> res.method, res.residuals.shape
    ('exact', (400,))
    >>> lx.uniformity_test(res).pvalue > 0.05
    True
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}.")
    if isinstance(n_sims, bool) or not isinstance(n_sims, (int, np.integer)) or n_sims < 2:
        raise ValueError(f"n_sims must be an integer of at least 2; got {n_sims!r}.")
    resp = response_of(result, None, conditional, sampler)
    if getattr(result, "model_info", None) is not None and (
        result.model_info.kind == "multinomial"
    ):
        raise ValueError(
            "A multinomial (unordered) response has no quantile residuals: its "
            "categories have no order. Use an ordinal model if they have one."
        )
    y = _observed(resp, observed)
    if method == "exact" and resp.cdf is None:
        raise ValueError(
            "method='exact' needs a closed-form CDF, which this model's response "
            "does not have (mixed models over new random effects, custom samplers): "
            "use method='simulation'."
        )
    use_exact = method == "exact" or (method == "auto" and resp.cdf is not None)
    U = _uniforms(uniforms, y.size, seed)
    sims = None
    if use_exact:
        with x64_scope():
            lo, hi = jax.jit(resp.cdf)(resp.params, resp.data, jnp.asarray(y))
            lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        u = lo + U * (hi - lo)
        r = stats.norm.ppf(np.clip(u, 1e-16, 1 - 1e-16))
    else:
        sims = draw_responses(resp, int(n_sims), seed)
        lo = np.mean(sims < y[None, :], axis=0)
        hi = np.mean(sims <= y[None, :], axis=0)
        u = np.where(hi > lo, lo + U * (hi - lo), lo)
        eps = 0.5 / n_sims
        r = stats.norm.ppf(np.clip(u, eps, 1.0 - eps))
    fitted = (np.full(y.shape, np.nan) if resp.fitted is None
              else np.asarray(resp.fitted, dtype=np.float64))  # fmt: skip
    return QuantileResiduals(r, u, fitted, y, "exact" if use_exact else "simulation", sims)


def uniformity_test(res: QuantileResiduals, alternative: str = "two.sided") -> ResidualTest:
    r"""Kolmogorov-Smirnov test that the quantile residuals are uniform (DHARMa's
    ``testUniformity``).

    Parameters
    ----------
    res : QuantileResiduals
    alternative : {"two.sided", "greater", "less"}

    Returns
    -------
    ResidualTest
        Statistic :math:`D = \sup_u |\hat F_n(u) - u|` and its p-value
        (``scipy.stats.kstest``, exact for small samples).

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> y = np.random.default_rng(1).poisson(3.0, size=300)
    >>> r = lx.glm(y, np.ones((300, 1)), family="poisson")
    >>> t = lx.uniformity_test(lx.quantile_residuals(r))
    >>> t.name, bool(t.pvalue > 0.05)
    ('uniformity (KS)', True)
    """
    if alternative not in _ALTERNATIVES:
        raise ValueError(f"alternative must be one of {_ALTERNATIVES}; got {alternative!r}.")
    if not isinstance(res, QuantileResiduals):
        raise TypeError(
            f"uniformity_test takes quantile_residuals(...); got {type(res).__name__}."
        )
    alt = {"two.sided": "two-sided"}.get(alternative, alternative)
    t = stats.kstest(res.uniform, "uniform", alternative=alt)
    return ResidualTest("uniformity (KS)", float(t.statistic), float(t.pvalue), alternative)


def _pvalue(sim, obs, alternative):
    """DHARMa's ``getP``: the share of simulations at least as extreme."""
    greater = float(np.mean(sim >= obs))
    less = float(np.mean(sim <= obs))
    if alternative == "greater":
        return greater
    if alternative == "less":
        return less
    return min(1.0, 2.0 * min(greater, less))


def _simulated(result, n_sims, seed, conditional, sampler, observed):
    resp = response_of(result, None, conditional, sampler)
    y = _observed(resp, observed)
    return resp, y, draw_responses(resp, int(n_sims), seed)


def dispersion_test(result: Any, *, n_sims: int = 250, seed: int = 0,
                    alternative: str = "two.sided", conditional: bool | None = None,
                    sampler: Any = None, observed: Any = None) -> ResidualTest:  # fmt: skip
    r"""DHARMa's nonparametric dispersion test: the spread of the data about the
    fitted means against that of simulated data.

    .. math::

        T = \frac{\operatorname{var}(y - \hat\mu)}
                 {\frac1S\sum_j \operatorname{var}(y^*_j - \hat\mu)},

    with the p-value the share of simulated :math:`\operatorname{var}(y^*_j
    - \hat\mu)` at least as extreme as the observed one (two-sided: twice the
    smaller tail, at most 1). :math:`T > 1`: overdispersion.

    Parameters
    ----------
    result : model result or FitResult
    n_sims, seed : int
        Simulations (as :func:`simulate`).
    alternative : {"two.sided", "greater", "less"}
        ``"greater"`` tests for overdispersion only.
    conditional, sampler, observed
        As in :func:`quantile_residuals`.

    Returns
    -------
    ResidualTest

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> y = rng.negative_binomial(1.0, 1 / (1 + 4.0), size=300)   # NB, mean 4
    >>> r = lx.glm(y, np.ones((300, 1)), family="poisson")
    >>> t = lx.dispersion_test(r)
    >>> bool(t.statistic > 2), t.pvalue < 0.01
    (True, True)
    """
    _check_test_options(n_sims, alternative)
    resp, y, sims = _simulated(result, n_sims, seed, conditional, sampler, observed)
    mu = _fitted(resp, sims)
    obs = float(np.var(y - mu, ddof=1))
    sim = np.var(sims - mu[None, :], axis=1, ddof=1)
    return ResidualTest("dispersion (simulated variance ratio)", obs / float(np.mean(sim)),
                        _pvalue(sim, obs, alternative), alternative, obs, sim)  # fmt: skip


def zero_inflation_test(result: Any, *, n_sims: int = 250, seed: int = 0,
                        alternative: str = "two.sided", conditional: bool | None = None,
                        sampler: Any = None, observed: Any = None) -> ResidualTest:  # fmt: skip
    r"""Observed against simulated numbers of zeros (DHARMa's ``testZeroInflation``).

    The statistic is :math:`\#\{y_i = 0\} / \overline{\#\{y^*_{ij} = 0\}}`
    (above 1: more zeros than the model expects); the p-value is the share of
    simulated counts at least as extreme (two-sided: twice the smaller tail).

    Parameters
    ----------
    result : model result or FitResult
    n_sims, seed : int
    alternative : {"two.sided", "greater", "less"}
    conditional, sampler, observed
        As in :func:`quantile_residuals`.

    Returns
    -------
    ResidualTest

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> y = np.where(rng.random(400) < 0.3, 0, rng.poisson(3.0, 400))
    >>> t = lx.zero_inflation_test(lx.glm(y, np.ones((400, 1)), family="poisson"))
    >>> bool(t.statistic > 1.5), t.pvalue < 0.01
    (True, True)
    """
    _check_test_options(n_sims, alternative)
    resp, y, sims = _simulated(result, n_sims, seed, conditional, sampler, observed)
    obs = float(np.sum(y == 0))
    sim = np.sum(sims == 0, axis=1).astype(np.float64)
    ratio = obs / float(np.mean(sim)) if np.mean(sim) > 0 else (
        np.inf if obs > 0 else np.nan)  # fmt: skip
    return ResidualTest("zero-inflation (observed / simulated zeros)", float(ratio),
                        _pvalue(sim, obs, alternative), alternative, obs, sim)  # fmt: skip


def _check_test_options(n_sims, alternative):
    if isinstance(n_sims, bool) or not isinstance(n_sims, (int, np.integer)) or n_sims < 2:
        raise ValueError(f"n_sims must be an integer of at least 2; got {n_sims!r}.")
    if alternative not in _ALTERNATIVES:
        raise ValueError(f"alternative must be one of {_ALTERNATIVES}; got {alternative!r}.")


def _fitted(resp, sims):
    """The fitted means; the simulations' row means where the model gives none."""
    if resp.fitted is None:
        return sims.mean(axis=0)
    return np.asarray(resp.fitted, dtype=np.float64)
