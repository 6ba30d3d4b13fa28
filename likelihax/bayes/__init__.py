"""From MLE to Bayesian inference with the same log-density.

What to use when:

- :mod:`likelihax.priors`: priors per parameter, on the natural scale.
- :func:`fit_map`: the posterior mode (MAP) by the same engine as
  :func:`likelihax.fit`, with the same result type and summary (labelled MAP).
  Cheap; a point estimate with curvature-based errors.
- :func:`laplace_posterior`: a multivariate normal approximation of the
  posterior on the unconstrained scale (Jacobian included), with draws mapped
  to the natural scale. Good when the posterior is close to normal there.
- :func:`nuts`: exact posterior sampling by NUTS (blackjax, optional extra
  ``pip install likelihax[bayes]``), started at the Laplace mode with the
  Laplace covariance as inverse mass matrix; reports split R-hat, bulk ESS and
  divergences.
- :func:`compare_posteriors`: MLE, MAP, Laplace and NUTS side by side.
- :func:`split_rhat`, :func:`ess_bulk`: convergence diagnostics of any
  ``(chains, draws)`` array.
"""

from . import priors as priors
from ._compare import Comparison as Comparison
from ._compare import compare_posteriors as compare_posteriors
from ._diagnostics import ess_bulk as ess_bulk
from ._diagnostics import split_rhat as split_rhat
from ._laplace import LaplacePosterior as LaplacePosterior
from ._laplace import laplace_posterior as laplace_posterior
from ._map import LogPosterior as LogPosterior
from ._map import fit_map as fit_map
from ._nuts import NUTSResult as NUTSResult
from ._nuts import nuts as nuts

__all__ = [
    "Comparison",
    "LaplacePosterior",
    "LogPosterior",
    "NUTSResult",
    "compare_posteriors",
    "ess_bulk",
    "fit_map",
    "laplace_posterior",
    "nuts",
    "priors",
    "split_rhat",
]
