"""Results: the fit record, its covariance and summaries, and saving them without pickle."""

from ._directions import direction_text as direction_text
from ._directions import eigen_counts as eigen_counts
from ._directions import rank_text as rank_text
from ._directions import scaled_directions as scaled_directions
from ._io import load_result as load_result
from ._io import save_result as save_result
from ._records import Annotation as Annotation
from ._records import Covariance as Covariance
from ._records import FitSetup as FitSetup
from ._records import ModelInfo as ModelInfo
from ._records import MultiStart as MultiStart
from ._result import FitResult as FitResult
from ._model_result import as_fit as as_fit
from ._result import register_result_class as register_result_class
from ._summary import Summary as Summary
from ._summary import TextReport as TextReport
from ._summary import format_cell as format_cell
from ._summary import pandas_for as pandas_for
from ._model_result import ModelResult as ModelResult
from ._response import Response as Response
from ._response import draw_responses as draw_responses
from ._response import register_response as register_response
from ._response import response_of as response_of
from ._response import simulate as simulate
