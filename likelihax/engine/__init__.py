"""The fit service: from a log-likelihood, starting values and data to a :class:`FitResult`.

:func:`fit` checks the input, builds the compiled program for the model's
shapes (cached: a second fit with the same shapes does not recompile), runs the
solver, probes the curvature at the stopping point, and reports. The refit
programs (:func:`refit_programs`) run many fits of one model at once (bootstrap,
profiles, start sensitivity) with the same setup.
"""

from ._fit import fit as fit
from ._fit import prepare_weights as prepare_weights
from ._model import Model as Model
from ._options import check_fit_options as check_fit_options
