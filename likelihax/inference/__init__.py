"""What the estimate means: covariances, tests, functions of the parameters.

Covariance
    :func:`vcov` (or ``fit.vcov(kind)``) computes the covariance of another
    kind for an existing fit: ``"oim"`` (inverse observed information,
    default), ``"eim"`` (expected information), ``"opg"`` (outer product of
    scores), ``"sandwich"`` (robust, HC0), ``"hc1"`` (HC0 times n/(n-k)) and
    ``"cluster"`` (one- or two-way cluster-robust, ``groups=``). Formulas are in
    :mod:`likelihax.inference._covariance`.
Tests
    :func:`wald_test` (linear restrictions written with labels, a matrix, or a
    nonlinear function; only the larger fit needed; any covariance),
    :func:`lr_test` (both fits; the usual first choice when both are at hand),
    :func:`score_test` (only the restricted fit, with the larger model's
    log-likelihood). They return a :class:`TestResult`.
Functions of the parameters
    :func:`delta_method` gives estimates, standard errors and Wald intervals of
    any function of the parameters (``jax.jacobian``).
Model comparison
    :func:`ic_table` tabulates AIC, AICc, BIC, delta AIC and Akaike weights of
    fits to the same data.
Profile likelihood, bootstrap, starting values
    :func:`profile` and :func:`profile_ci` (:mod:`._profile`),
    :func:`bootstrap` (:mod:`._bootstrap`) and :func:`start_sensitivity`
    (:mod:`._starts`); also exported at the top level (``lx.profile_ci``).
"""

from ._covariance import COV_KINDS as COV_KINDS
from ._covariance import VCOV_KINDS as VCOV_KINDS
from ._delta import DeltaResult as DeltaResult
from ._delta import delta_method as delta_method
from ._hypothesis import TestResult as TestResult
from ._hypothesis import lr_test as lr_test
from ._hypothesis import score_test as score_test
from ._hypothesis import wald_test as wald_test
from ._ictab import ICTable as ICTable
from ._ictab import ic_table as ic_table
from ._bootstrap import Bootstrap as Bootstrap
from ._bootstrap import bootstrap as bootstrap
from ._profile import Profile as Profile
from ._profile import ProfileCI as ProfileCI
from ._profile import profile as profile
from ._profile import profile_ci as profile_ci
from ._starts import StartSensitivity as StartSensitivity
from ._starts import start_sensitivity as start_sensitivity
from ._vcov import vcov as vcov

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
    "ic_table",
    "lr_test",
    "score_test",
    "vcov",
    "wald_test",
]
