"""Random effects integrated out by the Laplace approximation.

What to use when:

* :func:`mixed` fits linear mixed models (REML by default, or ML) and
  Poisson/binomial GLMMs from an lme4-style formula (``"y ~ x + (1 + x | g)"``):
  any number of random-effect terms (crossed, nested, uncorrelated ``||``),
  correlated random intercepts and slopes; :class:`MixedResult` gives fixed
  effects (``vcov("conditional")`` as lme4's ``lmer``, ``"full"`` as
  ``glmer``/glmmTMB), ``varcorr()``, ``ranef()`` and an lme4-like
  ``summary()``.
* :func:`laplace` integrates random effects out of any joint log-density you
  write for one group (``joint(params, data_g)``); the result is a per-group
  log-likelihood for :func:`likelihax.fit`. :func:`pad_groups` arranges
  per-row data by group (``(G, m, ...)`` arrays and a ``mask``).
* :func:`integrate` integrates any latent vector out of a joint log-density
  written for the whole data set (TMB's ``random=``): crossed and nested
  factors, latent time series, spatial fields. :func:`latent_pattern` detects
  which latent entries each term touches (or declare it with
  :meth:`LatentPattern.from_supports`), so the latent Hessian takes a few
  derivative passes instead of one per entry.
"""

from ._joint import JointLaplace as JointLaplace
from ._joint import LatentModes as LatentModes
from ._joint import integrate as integrate
from ._laplace import Laplace as Laplace
from ._laplace import RandomEffects as RandomEffects
from ._laplace import laplace as laplace
from ._laplace import pad_groups as pad_groups
from ._mixed import mixed as mixed
from ._pattern import LatentPattern as LatentPattern
from ._pattern import latent_pattern as latent_pattern
from ._result import MixedResult as MixedResult
from ._result import SingularFitWarning as SingularFitWarning

__all__ = [
    "JointLaplace",
    "Laplace",
    "LatentModes",
    "LatentPattern",
    "MixedResult",
    "RandomEffects",
    "SingularFitWarning",
    "integrate",
    "laplace",
    "latent_pattern",
    "mixed",
    "pad_groups",
]
