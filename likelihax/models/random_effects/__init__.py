"""Random effects integrated out by the Laplace approximation.

What to use when:

* :func:`mixed` fits linear mixed models and Poisson/binomial GLMMs from an
  lme4-style formula (``"y ~ x + (1 + x | g)"``): one grouping factor, with
  correlated random intercepts and slopes; :class:`MixedResult` gives fixed
  effects (``vcov("conditional")`` as lme4's ``lmer``, ``"full"`` as
  ``glmer``/glmmTMB), ``varcorr()``, ``ranef()`` and an lme4-like
  ``summary()``.
* :func:`laplace` integrates random effects out of any joint log-density you
  write for one group (``joint(params, data_g)``); the result is a per-group
  log-likelihood for :func:`likelihax.fit`. :func:`pad_groups` arranges
  per-row data by group (``(G, m, ...)`` arrays and a ``mask``).
"""

from ._laplace import Laplace as Laplace
from ._laplace import RandomEffects as RandomEffects
from ._laplace import laplace as laplace
from ._laplace import pad_groups as pad_groups
from ._mixed import mixed as mixed
from ._result import MixedResult as MixedResult
from ._result import SingularFitWarning as SingularFitWarning

__all__ = [
    "Laplace",
    "MixedResult",
    "RandomEffects",
    "SingularFitWarning",
    "laplace",
    "mixed",
    "pad_groups",
]
