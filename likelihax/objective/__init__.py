"""The objective: a log-likelihood on the optimizer's scale, its derivatives, and
the covariance kinds computed from them.

:class:`Problem` wraps ``loglik(params, data)`` with the parameter layout and
weights and gives value, gradient, Hessian, per-observation scores and the
expected information; :func:`covariances` and :data:`COV_KINDS` are the one
registry of covariance kinds (name, description, what each needs).
"""

from ._covariance import COV_KINDS as COV_KINDS
from ._covariance import COVARIANCES as COVARIANCES
from ._covariance import CovarianceKind as CovarianceKind
from ._covariance import DESCRIPTIONS as DESCRIPTIONS
from ._covariance import ROBUST_KINDS as ROBUST_KINDS
from ._covariance import VCOV_KINDS as VCOV_KINDS
from ._covariance import analyze_information as analyze_information
from ._covariance import covariances as covariances
from ._problem import Problem as Problem
from ._structured import jacfwd as jacfwd
from ._robust import CovOptions as CovOptions
from ._robust import default_maxlags as default_maxlags
from ._matrix_free import MATRIX_FREE_KINDS as MATRIX_FREE_KINDS
from ._matrix_free import hvp_at as hvp_at
from ._matrix_free import matrix_free_covariance as matrix_free_covariance
from ._robust import newey_west_lag as newey_west_lag
from ._robust import serial_scores as serial_scores
