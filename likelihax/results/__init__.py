"""Results: the fit record, its covariance and summaries, and saving them without pickle."""

from ._result import Covariance as Covariance
from ._result import FitResult as FitResult
from ._result import MultiStart as MultiStart
from ._result import as_fit as as_fit
from ._summary import Summary as Summary
from ._summary import pandas_for as pandas_for
