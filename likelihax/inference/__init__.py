"""What the estimate means: covariance of the estimates.

Use :func:`vcov` (or ``fit.vcov(kind)``) to get the covariance of another kind
for an existing fit: ``"oim"`` (inverse observed information, default),
``"opg"`` (outer product of scores) and ``"sandwich"`` (robust, HC0). Formulas
are in :mod:`likelihax.inference._covariance`.
"""

from ._covariance import COV_KINDS as COV_KINDS
from ._vcov import vcov as vcov

__all__ = ["COV_KINDS", "vcov"]
