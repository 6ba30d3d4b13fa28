"""Ready-made likelihoods, built only on the public engine.

Use :func:`fit_distribution` to fit a univariate family to a sample (closed-form
MLEs are checked against the numerical fit in the tests) and
:func:`method_of_moments` for the moment estimates.
"""

from .distributions import FAMILIES as FAMILIES
from .distributions import compare_mle_mom as compare_mle_mom
from .distributions import fit_distribution as fit_distribution
from .distributions import method_of_moments as method_of_moments

__all__ = ["FAMILIES", "compare_mle_mom", "fit_distribution", "method_of_moments"]
