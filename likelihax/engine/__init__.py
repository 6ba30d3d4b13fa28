"""The fit service: from a log-likelihood, starting values and data to a :class:`~likelihax.FitResult`.

:func:`fit` (:mod:`._fit`) checks the input (:mod:`._checks`), builds the
static record of the compiled program (:class:`FitProgram`, :mod:`._program`),
runs the compiled program for the model's shapes (:mod:`._compiled`; cached, so
a second fit with the same shapes does not recompile), in which the solver's
stopping point is probed and the solver restarted where it is not a maximum
(:mod:`._probe`), and reports (:mod:`._report`). The refit programs run many
fits of one model at once with the same program (bootstrap, profiles, start
sensitivity, log-likelihood surfaces) for :mod:`likelihax.inference`.
"""

from ._compiled import profile_many as profile_many
from ._compiled import refit_data_many as refit_data_many
from ._compiled import refit_starts_many as refit_starts_many
from ._compiled import refit_weights_many as refit_weights_many
from ._compiled import values_many as values_many
from ._fit import fit as fit
from ._fit import is_model_call as is_model_call
from ._model import Model as Model
from ._options import check_fit_options as check_fit_options
from ._program import FitProgram as FitProgram
from ._program import prepare_weights as prepare_weights
