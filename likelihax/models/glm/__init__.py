"""Generalized linear models: a family's log-density handed to :func:`likelihax.fit`.

Use :func:`glm` with a formula over a DataFrame (``pip install
'likelihax[formula]'``) or with a response array and a model matrix. Families:
Gaussian, binomial (0/1 or successes of ``trials``), Poisson, gamma, inverse
Gaussian and NB2; links as in R. Fisher scoring (IRLS) by default; standard
errors, deviance, dispersion and log-likelihood as R's ``glm``. The result,
:class:`GLMResult`, wraps the engine's :class:`~likelihax.FitResult`
(``result.fit``). Binary responses separated by the predictors give a
:class:`SeparationWarning` naming the variables, and the facts as
:attr:`GLMResult.separation` (a :class:`Separation`) and the flag
``"separation"`` in ``result.model_info``.

:data:`FAMILIES` and :data:`LINKS` are the package's one registry of families
and links: :func:`likelihax.models.random_effects.mixed` and the cumulative
links of :func:`likelihax.models.ordinal.ordinal` read them too.
"""

from ._family import FAMILIES as FAMILIES
from ._family import Family as Family
from ._family import get_family as get_family
from ._glm import glm as glm
from ._link import LINKS as LINKS
from ._link import Link as Link
from ._result import GLMResult as GLMResult
from ._separation import Separation as Separation
from ._separation import SeparationWarning as SeparationWarning

__all__ = [
    "FAMILIES",
    "Family",
    "GLMResult",
    "LINKS",
    "Link",
    "Separation",
    "SeparationWarning",
    "get_family",
    "glm",
]
