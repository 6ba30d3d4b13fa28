"""Latent-variable models fitted by EM, with standard errors from the engine.

What to use when:

* :func:`em`: any model with a discrete latent variable; write the
  complete-data log-density ``complete(params, data) -> (n, K)`` and, when
  you have one, a closed-form M-step. Standard errors, summary and tests come
  from :func:`likelihax.fit` on the marginal likelihood.
* :func:`gaussian_mixture`: Gaussian mixtures (full, diag, tied, spherical).
* :func:`univariate_mixture` / :func:`poisson_mixture`: Poisson, normal and
  exponential mixtures.
* :func:`mixture_regression`: mixture of linear regressions.
* :func:`latent_class`: latent class analysis of categorical items.
* :func:`choose_k`: information criteria (AIC, BIC) over the number of
  components.

After the fit, :func:`likelihax.predict` gives the posterior component
probabilities of new rows, their (log) density and the marginal mean (and a
mixture of regressions' component means), with delta-method standard errors;
:func:`likelihax.simulate` draws new data sets and
:func:`likelihax.quantile_residuals` checks the fit (every ready-made mixture).

Every mixture runs many starts at once (``vmap``), keeps the best
non-degenerate one, reports the spread (``fit.em.starts``), and reports its
components in a documented canonical order (label switching).

The outcome of the EM iterations, ``fit.em.status``, is a
:class:`likelihax.Status` (``success``, ``max_steps``, ``not_monotone``,
``nonfinite``, ``degenerate``). ``EMStatus`` is a deprecated alias of
:class:`likelihax.Status`, kept so that code written against it still runs;
use ``likelihax.Status``.
"""

from ._em import EMInfo as EMInfo
from ._em import EMResult as EMResult
from ._em import EMStatus as EMStatus
from ._em import em as em
from ._em import marginal_loglik as marginal_loglik
from ._finite import choose_k as choose_k
from ._gaussian import gaussian_mixture as gaussian_mixture
from ._gaussian import gmm_complete as gmm_complete
from ._gaussian import kmeanspp_resp as kmeanspp_resp
from ._latent_class import latent_class as latent_class
from ._regression import mixture_regression as mixture_regression
from ._univariate import poisson_mixture as poisson_mixture
from ._univariate import univariate_mixture as univariate_mixture

__all__ = [
    "EMInfo",
    "EMResult",
    "EMStatus",
    "choose_k",
    "em",
    "gaussian_mixture",
    "gmm_complete",
    "kmeanspp_resp",
    "latent_class",
    "marginal_loglik",
    "mixture_regression",
    "poisson_mixture",
    "univariate_mixture",
]
