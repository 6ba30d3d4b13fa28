"""Results: the fit record, its covariance and summaries, and saving them without pickle."""

from ._result import Annotation as Annotation
from ._result import Covariance as Covariance
from ._result import FitResult as FitResult
from ._result import FitSetup as FitSetup
from ._result import ModelInfo as ModelInfo
from ._result import MultiStart as MultiStart
from ._result import as_fit as as_fit
from ._result import register_result_class as register_result_class
from ._summary import Summary as Summary
from ._summary import format_cell as format_cell
from ._summary import pandas_for as pandas_for
from ._io import load_result as load_result
from ._io import save_result as save_result
