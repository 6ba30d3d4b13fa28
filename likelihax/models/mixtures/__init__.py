"""Latent-variable models fitted by EM, with standard errors from the engine.

What to use when:

* :func:`em`: any model with a discrete latent variable; write the
  complete-data log-density ``complete(params, data) -> (n, K)`` and, when
  you have one, a closed-form M-step.
"""

from ._em import EMInfo as EMInfo
from ._em import EMStatus as EMStatus
from ._em import em as em
from ._em import marginal_loglik as marginal_loglik

__all__ = ["EMInfo", "EMStatus", "em", "marginal_loglik"]
