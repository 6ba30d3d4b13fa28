"""Latent-variable models fitted by EM, with standard errors from the engine.

What to use when:

* :func:`em`: any model with a discrete latent variable; write the
  complete-data log-density ``complete(params, data) -> (n, K)`` and, when
  you have one, a closed-form M-step.
* :func:`gaussian_mixture`: Gaussian mixtures (full, diag, tied, spherical).
"""

from ._em import EMInfo as EMInfo
from ._em import EMStatus as EMStatus
from ._em import em as em
from ._em import marginal_loglik as marginal_loglik
from ._gaussian import gaussian_mixture as gaussian_mixture
from ._gaussian import gmm_complete as gmm_complete
from ._gaussian import kmeanspp_resp as kmeanspp_resp

__all__ = [
    "EMInfo",
    "EMStatus",
    "em",
    "gaussian_mixture",
    "gmm_complete",
    "kmeanspp_resp",
    "marginal_loglik",
]
