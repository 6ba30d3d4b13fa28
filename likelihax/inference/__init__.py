"""What the estimate means: covariances, tests, functions of the parameters.

Covariance
    :func:`vcov` (or ``fit.vcov(kind)``) computes the covariance of another
    kind for an existing fit: ``"oim"`` (inverse observed information,
    default), ``"eim"`` (expected information), ``"opg"`` (outer product of
    scores), ``"sandwich"``/``"hc0"`` (robust, HC0), ``"hc1"`` (HC0 times
    n/(n-k)), ``"hc2"``/``"hc3"`` (leverage-adjusted), ``"stata"`` (Stata's
    factors for ML models), ``"cluster"`` (one- or two-way cluster-robust,
    ``groups=``), ``"crv3"`` (leave-one-cluster-out jackknife), ``"hac"``
    (Newey-West) and ``"driscoll-kraay"`` (``time=``). Formulas, and which
    option of R, Stata and statsmodels each equals, are in
    :mod:`likelihax.objective._covariance`.
Tests
    :func:`wald_test` (linear restrictions written with labels, a matrix, or a
    nonlinear function; only the larger fit needed; any covariance),
    :func:`lr_test` (both fits; the usual first choice when both are at hand),
    :func:`score_test` (only the restricted fit, with the larger model's
    log-likelihood). They return a :class:`TestResult`.
Functions of the parameters
    :func:`delta_method` gives estimates, standard errors and Wald intervals of
    any function of the parameters (``jax.jacobian``).
Predictions and marginal effects
    :func:`predict` (a tidy table of predictions with delta-method,
    simulation or bootstrap intervals, for any model with a ``predictor``
    method or any ``fn(params, data)``), :func:`slopes` (average marginal
    effects, effects at the mean or at given values) and :func:`comparisons`
    (contrasts between levels or values); the protocol is :class:`Predictor`.
Model comparison
    :func:`ic_table` tabulates AIC, AICc, BIC, delta AIC and Akaike weights of
    fits to the same data; :func:`compare_lr` tests nested fits of different
    kinds (a GLM against a mixed model, Poisson against NB2) with a
    chi-bar-squared null when a variance is 0 under the restriction;
    :func:`vuong_test` compares non-nested ones (:mod:`._compare`).
Profile likelihood, bootstrap, starting values
    :func:`profile` and :func:`profile_ci` (:mod:`._profile`),
    :func:`bootstrap` (:mod:`._bootstrap`) and :func:`start_sensitivity`
    (:mod:`._starts`); also exported at the top level (``lx.profile_ci``).
"""

from ..objective import COV_KINDS as COV_KINDS
from ..objective import VCOV_KINDS as VCOV_KINDS

# Everything else loads on first use (``from likelihax.inference import
# profile_ci`` works as usual): the engine imports ``_covariance`` for every
# fit, and a script that only fits should not pay for the whole toolkit.
_LAZY = {
    "Bootstrap": "_bootstrap",
    "DeltaResult": "_delta",
    "ICTable": "_ictab",
    "Profile": "_profile",
    "ProfileCI": "_profile",
    "StartSensitivity": "_starts",
    "TestResult": "_hypothesis",
    "bootstrap": "_bootstrap",
    "delta_method": "_delta",
    "delta_se": "_delta",
    "ic_table": "_ictab",
    "LRComparison": "_compare",
    "VuongResult": "_compare",
    "compare_lr": "_compare",
    "loglik_obs": "_compare",
    "vuong_test": "_compare",
    "lr_test": "_hypothesis",
    "profile": "_profile",
    "profile_ci": "_profile",
    "score_test": "_hypothesis",
    "start_sensitivity": "_starts",
    "vcov": "_vcov",
    "wald_test": "_hypothesis",
    "LoglikSurface": "_surface",
    "loglik_surface": "_surface",
    "Refitter": "_refit",
    "chi2_ppf": "_tails",
    "chi2_sf": "_tails",
    "f_sf": "_tails",
    "Predictor": "_predictor",
    "fn_predictor": "_predictor",
    "predictor_of": "_predictor",
    "register_predictor": "_predictor",
    "predict": "_predictions",
    "estimate_table": "_predictions",
    "slopes": "_margins",
    "comparisons": "_margins",
    "datagrid": "_margins",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'likelihax.inference' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Bootstrap",
    "COV_KINDS",
    "Profile",
    "ProfileCI",
    "StartSensitivity",
    "bootstrap",
    "profile",
    "profile_ci",
    "start_sensitivity",
    "VCOV_KINDS",
    "DeltaResult",
    "ICTable",
    "TestResult",
    "delta_method",
    "delta_se",
    "ic_table",
    "LRComparison",
    "VuongResult",
    "compare_lr",
    "loglik_obs",
    "vuong_test",
    "lr_test",
    "score_test",
    "vcov",
    "wald_test",
    "LoglikSurface",
    "loglik_surface",
    "Refitter",
    "chi2_ppf",
    "chi2_sf",
    "f_sf",
    "Predictor",
    "fn_predictor",
    "predictor_of",
    "register_predictor",
    "predict",
    "estimate_table",
    "slopes",
    "comparisons",
    "datagrid",
]
