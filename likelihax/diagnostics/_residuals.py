"""The residual tests of simulated responses (DHARMa's ``testUniformity``,
``testDispersion``, ``testZeroInflation``).

:func:`uniformity_test` tests randomized quantile residuals
(:func:`~likelihax.quantile_residuals`); :func:`dispersion_test` and
:func:`zero_inflation_test` compare a summary of the data with the same
summary of data sets drawn from the fitted model (:func:`~likelihax.simulate`).

References
----------
Hartig, F. (2022). DHARMa: residual diagnostics for hierarchical regression
models. R package, version 0.4.6.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy import stats

from .. import models as _models  # noqa: F401  (registers the models' responses)
from ..results import (
    QuantileResiduals,
    draw_responses,
    observed_response,
    quantile_residuals,
    response_of,
    simulate,
)

__all__ = [
    "QuantileResiduals",
    "ResidualTest",
    "dispersion_test",
    "quantile_residuals",
    "simulate",
    "uniformity_test",
    "zero_inflation_test",
]

_ALTERNATIVES = ("two.sided", "greater", "less")


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
    y = observed_response(resp, observed)
    return resp, y, draw_responses(resp, int(n_sims), seed).reshape(int(n_sims), -1)


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
