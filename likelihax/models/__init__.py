"""Ready-made likelihoods, built only on the public engine.

What to use when:

* :func:`fit_distribution` fits a univariate family to a sample (closed-form
  MLEs are checked against the numerical fit in the tests);
  :func:`method_of_moments` and :func:`compare_mle_mom` give the moment
  estimates beside the MLE.
* :func:`glm` fits generalized linear models (formula or arrays; R's
  conventions for dispersion, deviance and AIC); see :mod:`likelihax.models.glm`,
  whose registry of families and links :func:`likelihax.mixed` shares.
* :func:`mnlogit` (multinomial logit, as statsmodels ``MNLogit`` and
  ``nnet::multinom``) and :func:`ordinal` (proportional odds, as
  ``MASS::polr``) for categorical responses.
* :class:`Surv` holds a survival response as arrays (``Surv(time, event)``,
  ``Surv(lower, upper, type="interval")``), the response of
  :func:`likelihax.survreg` and :func:`likelihax.coxph` with a covariate
  matrix in place of a formula.
* :func:`class_weights`, :func:`weighted_logit` and :func:`focal_logit` handle
  class imbalance (weighted likelihood and focal loss, with sandwich SEs); see
  :mod:`likelihax.models.imbalance`.

Every model result carries a :class:`~likelihax.results.ModelInfo` as
``model_info`` (kind, family, link, flags such as ``"separation"`` or
``"singular"``), in its engine fit too; the results that wrap the engine's
:class:`~likelihax.FitResult` hold it in ``.fit``, and every inference function
accepts them as they are.
"""

from .distributions import FAMILIES as FAMILIES
from .distributions import compare_mle_mom as compare_mle_mom
from .distributions import fit_distribution as fit_distribution
from .distributions import method_of_moments as method_of_moments
from .glm import GLMResult as GLMResult
from .glm import Separation as Separation
from .glm import SeparationWarning as SeparationWarning
from .glm import glm as glm
from .imbalance import class_weights as class_weights
from .imbalance import focal_logit as focal_logit
from .imbalance import focal_loss as focal_loss
from .imbalance import weighted_logit as weighted_logit
from .multinomial import MultinomialFit as MultinomialFit
from .multinomial import mnlogit as mnlogit
from .ordinal import OrdinalFit as OrdinalFit
from .ordinal import ordinal as ordinal
from .survival import Surv as Surv
from . import _responses as _responses  # registers the models' response distributions
from . import _responses_dist as _responses_dist
from . import _responses_latent as _responses_latent
from . import _responses_more as _responses_more
from . import _predictor_more as _predictor_more  # registers the imbalance fits' predictor
from . import _predictor_mixture as _predictor_mixture  # registers the mixtures' predictor

__all__ = [
    "FAMILIES",
    "GLMResult",
    "MultinomialFit",
    "OrdinalFit",
    "Separation",
    "SeparationWarning",
    "Surv",
    "class_weights",
    "compare_mle_mom",
    "fit_distribution",
    "focal_logit",
    "focal_loss",
    "glm",
    "method_of_moments",
    "mnlogit",
    "ordinal",
    "weighted_logit",
]
