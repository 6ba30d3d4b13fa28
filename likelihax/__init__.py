"""likelihax: maximum-likelihood estimation on JAX.

Write a log-likelihood as a plain JAX function of named parameters and data;
:func:`fit` finds the maximum-likelihood estimate under ``jit`` and reports
estimates with Fisher-information standard errors.

Examples
--------
>>> import numpy as np, jax.numpy as jnp, likelihax as lx
>>> def poisson(params, data):
...     lam = params["rate"]
...     return data["y"] * jnp.log(lam) - lam
>>> fit = lx.fit(poisson, {"rate": 1.0}, {"y": np.array([2, 3, 1, 4])},
...              constraints={"rate": lx.constraints.positive})
>>> round(float(fit.params["rate"]), 6)
2.5
"""

from ._cache import configure_compilation_cache as _configure_cache

_configure_cache()

from . import constraints as constraints  # noqa: E402
from . import inference as inference  # noqa: E402
from ._cache import compilation_cache_dir as compilation_cache_dir  # noqa: E402
from ._fit import fit as fit
from .data._source import ArraySource as ArraySource
from .data._source import DataSource as DataSource
from .data._source import ParquetSource as ParquetSource
from ._many import fit_many as fit_many
from ._stochastic import StochasticFit as StochasticFit
from ._stochastic import StochasticState as StochasticState
from ._stochastic import fit_stochastic as fit_stochastic
from ._status import Status as Status
from ._warnings import ConvergenceWarning as ConvergenceWarning
from ._warnings import InformationWarning as InformationWarning
from ._warnings import LikelihaxWarning as LikelihaxWarning
from ._warnings import PrecisionWarning as PrecisionWarning
from .inference import vcov as vcov
from .inference import delta_method as delta_method
from .inference import ic_table as ic_table
from .inference import lr_test as lr_test
from .inference import score_test as score_test
from .inference import wald_test as wald_test
from .inference._bootstrap import bootstrap as bootstrap
from .inference._profile import profile as profile
from .inference._profile import profile_ci as profile_ci
from .inference._starts import start_sensitivity as start_sensitivity
from .model._model import Model as Model
from .model._param import Param as Param
from .models.distributions import FAMILIES as FAMILIES
from .models.distributions import compare_mle_mom as compare_mle_mom
from .models.distributions import fit_distribution as fit_distribution
from .models.distributions import method_of_moments as method_of_moments
from .models.glm import GLMResult as GLMResult
from .models.glm import SeparationWarning as SeparationWarning
from .models.glm import glm as glm
from .models.imbalance import class_weights as class_weights
from .models.imbalance import focal_logit as focal_logit
from .models.imbalance import focal_loss as focal_loss
from .models.imbalance import weighted_logit as weighted_logit
from .models.missing import mvn_missing as mvn_missing
from .models.mixtures import EMResult as EMResult
from .models.mixtures import choose_k as choose_k
from .models.mixtures import em as em
from .models.mixtures import gaussian_mixture as gaussian_mixture
from .models.mixtures import latent_class as latent_class
from .models.mixtures import mixture_regression as mixture_regression
from .models.mixtures import poisson_mixture as poisson_mixture
from .models.mixtures import univariate_mixture as univariate_mixture
from .models.multinomial import MultinomialFit as MultinomialFit
from .models.random_effects import MixedResult as MixedResult
from .models.random_effects import SingularFitWarning as SingularFitWarning
from .models.random_effects import laplace as laplace
from .models.random_effects import mixed as mixed
from .models.random_effects import pad_groups as pad_groups
from .models.multinomial import mnlogit as mnlogit
from .models.ordinal import OrdinalFit as OrdinalFit
from .models.ordinal import ordinal as ordinal
from .results import Covariance as Covariance
from .results import FitResult as FitResult
from .results import Summary as Summary

__version__ = "0.1.0"

__all__ = [
    "ArraySource",
    "ConvergenceWarning",
    "Covariance",
    "DataSource",
    "EMResult",
    "FAMILIES",
    "FitResult",
    "GLMResult",
    "InformationWarning",
    "LikelihaxWarning",
    "MixedResult",
    "Model",
    "MultinomialFit",
    "OrdinalFit",
    "Param",
    "ParquetSource",
    "PrecisionWarning",
    "SeparationWarning",
    "SingularFitWarning",
    "Status",
    "StochasticFit",
    "StochasticState",
    "Summary",
    "bootstrap",
    "choose_k",
    "class_weights",
    "compare_mle_mom",
    "compilation_cache_dir",
    "constraints",
    "delta_method",
    "em",
    "fit",
    "fit_distribution",
    "fit_many",
    "fit_stochastic",
    "focal_logit",
    "focal_loss",
    "gaussian_mixture",
    "glm",
    "ic_table",
    "inference",
    "laplace",
    "latent_class",
    "lr_test",
    "method_of_moments",
    "mixed",
    "mixture_regression",
    "mnlogit",
    "mvn_missing",
    "ordinal",
    "pad_groups",
    "poisson_mixture",
    "profile",
    "profile_ci",
    "score_test",
    "start_sensitivity",
    "univariate_mixture",
    "vcov",
    "wald_test",
    "weighted_logit",
]
