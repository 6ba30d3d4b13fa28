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

Package layout
--------------
Each layer imports only from the layers below it (checked by import-linter
with the contract in ``.importlinter``, run by the test suite); a subpackage's
``__init__`` lists the names the layers above may use.

==========================  =====================================================
``diagnostics``, ``plots``  the applied-work checklist, IM test; plot records
                            and their drawing
``models``, ``bayes``       ready-made models (GLM, mixed, mixtures, EM,
                            ordinal, multinomial, distributions, imbalance);
                            MAP, Laplace and NUTS posteriors
``inference``               covariance kinds on request, delta method, Wald /
                            LR / score tests, profiles, bootstrap, surfaces
``engine``                  ``fit``: input checks, the compiled fit and refit
                            programs, the curvature probe, warnings
``results``                 ``FitResult`` (a frozen record), ``ModelResult``
                            (the base of model results), summaries, saving
``objective``               ``Problem`` (the log-likelihood on the optimizer's
                            scale and its derivatives); the covariance kinds
``optimize``                solvers (Newton, L-BFGS, optax) under one
                            while-loop driver, small-matrix linear algebra
``data``                    checking, staging, sharding and streaming data
``parameters``              ``Param``, constraints, the flat parameter layout
``core``                    ``Status``, warning classes, precision, cache
==========================  =====================================================

Where things go: a covariance kind in ``objective/_covariance.py``; a GLM
family in ``models/glm/_family.py``; a constraint as a class in
``parameters/constraints.py``; a solver in ``optimize/`` (the contract is in
``likelihax.optimize``); a model as a log-likelihood handed to
:func:`likelihax.fit` in ``models/``, returning the ``FitResult`` or, when the
model has readings of its own, a ``ModelResult`` that wraps it (both answer
``.fit`` and ``.model_info``).
"""

from .core._cache import configure_compilation_cache as _configure_cache

_configure_cache()

from . import constraints as constraints  # noqa: E402
from . import inference as inference  # noqa: E402
from .core._cache import compilation_cache_dir as compilation_cache_dir  # noqa: E402
from .engine._fit import fit as fit
from .core._status import Status as Status
from .core._warnings import ConvergenceWarning as ConvergenceWarning
from .core._warnings import InformationWarning as InformationWarning
from .core._warnings import LikelihaxWarning as LikelihaxWarning
from .core._warnings import PrecisionWarning as PrecisionWarning
from .engine._model import Model as Model
from .parameters._param import Param as Param
from .results import Covariance as Covariance
from .results import FitResult as FitResult
from .results import Summary as Summary

# Ready-made models are imported on first use (``lx.glm``, ``lx.mixed``, ...):
# ``import likelihax`` stays fast for a script that only calls ``lx.fit``.
_LAZY = {
    # The inference toolkit, streaming and plots load on first use too: a fresh
    # process that fits one model imports only the engine.
    "ArraySource": ("data._source", "ArraySource"),
    "DataSource": ("data._source", "DataSource"),
    "ParquetSource": ("data._source", "ParquetSource"),
    "StochasticFit": ("engine._stochastic", "StochasticFit"),
    "StochasticState": ("engine._stochastic", "StochasticState"),
    "bootstrap": ("inference._bootstrap", "bootstrap"),
    "delta_method": ("inference._delta", "delta_method"),
    "predict": ("inference._predictions", "predict"),
    "slopes": ("inference._margins", "slopes"),
    "comparisons": ("inference._margins", "comparisons"),
    "plot_predictions": ("plots", "plot_predictions"),
    "fit_many": ("engine._many", "fit_many"),
    "fit_stochastic": ("engine._stochastic", "fit_stochastic"),
    "ic_table": ("inference._ictab", "ic_table"),
    "compare_lr": ("inference._compare", "compare_lr"),
    "vuong_test": ("inference._compare", "vuong_test"),
    "lr_test": ("inference._hypothesis", "lr_test"),
    "plots": ("plots", None),
    "profile": ("inference._profile", "profile"),
    "profile_ci": ("inference._profile", "profile_ci"),
    "score_test": ("inference._hypothesis", "score_test"),
    "start_sensitivity": ("inference._starts", "start_sensitivity"),
    "vcov": ("inference._vcov", "vcov"),
    "wald_test": ("inference._hypothesis", "wald_test"),
    "BetaResult": ("models.beta", "BetaResult"),
    "ChecklistReport": ("diagnostics", "ChecklistReport"),
    "CountResult": ("models.counts", "CountResult"),
    "CoxResult": ("models.cox", "CoxResult"),
    "EMResult": ("models.mixtures", "EMResult"),
    "FirthResult": ("models.firth", "FirthResult"),
    "FAMILIES": ("models.distributions", "FAMILIES"),
    "GLMResult": ("models.glm", "GLMResult"),
    "LatentPattern": ("models.random_effects", "LatentPattern"),
    "MixedResult": ("models.random_effects", "MixedResult"),
    "MultinomialFit": ("models.multinomial", "MultinomialFit"),
    "OrdinalFit": ("models.ordinal", "OrdinalFit"),
    "SeparationWarning": ("models.glm", "SeparationWarning"),
    "SingularFitWarning": ("models.random_effects", "SingularFitWarning"),
    "SurvivalResult": ("models.survival", "SurvivalResult"),
    "Surv": ("models.survival", "Surv"),
    "betareg": ("models.beta", "betareg"),
    "calibration_curve": ("plots", "calibration_curve"),
    "checklist": ("diagnostics", "checklist"),
    "choose_k": ("models.mixtures", "choose_k"),
    "class_weights": ("models.imbalance", "class_weights"),
    "compare_mle_mom": ("models.distributions", "compare_mle_mom"),
    "compare_posteriors": ("bayes", "compare_posteriors"),
    "coxph": ("models.cox", "coxph"),
    "em": ("models.mixtures", "em"),
    "firth": ("models.firth", "firth"),
    "fit_distribution": ("models.distributions", "fit_distribution"),
    "fit_map": ("bayes", "fit_map"),
    "focal_logit": ("models.imbalance", "focal_logit"),
    "focal_loss": ("models.imbalance", "focal_loss"),
    "gam": ("models.gam", "gam"),
    "gaussian_mixture": ("models.mixtures", "gaussian_mixture"),
    "glm": ("models.glm", "glm"),
    "hurdle": ("models.counts", "hurdle"),
    "im_test": ("diagnostics", "im_test"),
    "simulate": ("diagnostics", "simulate"),
    "quantile_residuals": ("diagnostics", "quantile_residuals"),
    "QuantileResiduals": ("diagnostics", "QuantileResiduals"),
    "ResidualTest": ("diagnostics", "ResidualTest"),
    "uniformity_test": ("diagnostics", "uniformity_test"),
    "dispersion_test": ("diagnostics", "dispersion_test"),
    "zero_inflation_test": ("diagnostics", "zero_inflation_test"),
    "plot_residuals": ("plots", "plot_residuals"),
    "integrate": ("models.random_effects", "integrate"),
    "laplace": ("models.random_effects", "laplace"),
    "latent_pattern": ("models.random_effects", "latent_pattern"),
    "laplace_posterior": ("bayes", "laplace_posterior"),
    "latent_class": ("models.mixtures", "latent_class"),
    "load_result": ("results._io", "load_result"),
    "loglik_surface": ("inference._surface", "loglik_surface"),
    "method_of_moments": ("models.distributions", "method_of_moments"),
    "mixed": ("models.random_effects", "mixed"),
    "mixture_regression": ("models.mixtures", "mixture_regression"),
    "mnlogit": ("models.multinomial", "mnlogit"),
    "mvn_missing": ("models.missing", "mvn_missing"),
    "nuts": ("bayes", "nuts"),
    "ordinal": ("models.ordinal", "ordinal"),
    "pad_groups": ("models.random_effects", "pad_groups"),
    "poisson_mixture": ("models.mixtures", "poisson_mixture"),
    "priors": ("bayes", "priors"),
    "save_result": ("results._io", "save_result"),
    "survreg": ("models.survival", "survreg"),
    "tobit": ("models.survival", "tobit"),
    "univariate_mixture": ("models.mixtures", "univariate_mixture"),
    "weighted_logit": ("models.imbalance", "weighted_logit"),
    "zeroinfl": ("models.counts", "zeroinfl"),
    "zerotrunc": ("models.counts", "zerotrunc"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        mod = importlib.import_module(f".{module}", __name__)
        value = mod if attr is None else getattr(mod, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'likelihax' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

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
    "Surv",
    "betareg",
    "bootstrap",
    "calibration_curve",
    "choose_k",
    "class_weights",
    "compare_mle_mom",
    "compare_posteriors",
    "compilation_cache_dir",
    "constraints",
    "comparisons",
    "delta_method",
    "em",
    "firth",
    "fit",
    "plot_predictions",
    "predict",
    "slopes",
    "simulate",
    "quantile_residuals",
    "uniformity_test",
    "dispersion_test",
    "zero_inflation_test",
    "plot_residuals",
    "fit_distribution",
    "fit_map",
    "fit_many",
    "fit_stochastic",
    "focal_logit",
    "focal_loss",
    "gam",
    "gaussian_mixture",
    "coxph",
    "glm",
    "hurdle",
    "ic_table",
    "compare_lr",
    "vuong_test",
    "inference",
    "integrate",
    "laplace",
    "laplace_posterior",
    "latent_pattern",
    "LatentPattern",
    "latent_class",
    "load_result",
    "loglik_surface",
    "lr_test",
    "method_of_moments",
    "mixed",
    "mixture_regression",
    "mnlogit",
    "mvn_missing",
    "nuts",
    "ordinal",
    "pad_groups",
    "plots",
    "poisson_mixture",
    "priors",
    "profile",
    "profile_ci",
    "save_result",
    "score_test",
    "start_sensitivity",
    "survreg",
    "tobit",
    "univariate_mixture",
    "vcov",
    "wald_test",
    "weighted_logit",
    "zeroinfl",
    "zerotrunc",
]
