"""How the estimate is shown: :class:`FitResult`, :class:`Summary`, :class:`Covariance`."""

from ._result import Covariance as Covariance
from ._result import FitResult as FitResult
from ._result import MultiStart as MultiStart
from ._summary import Summary as Summary

__all__ = ["Covariance", "FitResult", "MultiStart", "Summary"]
