"""Former home of the unrolled small Cholesky; now :mod:`likelihax.optimize._linalg`.

Kept only as a re-export for modules of this package that still import from
here; import these names from :mod:`likelihax.optimize` instead.
"""

from ...optimize import chol as chol
from ...optimize import chol_inverse as chol_inverse
from ...optimize import chol_logdet as chol_logdet
from ...optimize import chol_solve as chol_solve

__all__ = ["chol", "chol_inverse", "chol_logdet", "chol_solve"]
