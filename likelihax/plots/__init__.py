"""Plots of fits (matplotlib, optional: ``pip install likelihax[plot]``).

Every plot draws what a compute function returned, and returns the Axes (or
the Figure, for plots with several panels); none calls ``plt.show()``. Pass
``ax=`` to draw into an existing Axes.

What to use when
----------------
- Is the interval of one parameter asymmetric? :func:`plot_profile` of
  :func:`likelihax.profile` (with :func:`likelihax.profile_ci` to mark it).
- Are two parameters correlated, is the Wald ellipse adequate?
  :func:`plot_contour` of :func:`likelihax.loglik_surface`.
- Did the optimizer converge smoothly? :func:`plot_trace` of a fit.
- Does a fitted distribution match the data? :func:`plot_distribution`
  (density over histogram, and a QQ plot).
- What did a mixture find? :func:`plot_mixture` (components over the data).
- Are predicted probabilities calibrated? :func:`plot_calibration` of
  :func:`likelihax.calibration_curve`.
- Estimates and intervals at a glance, or across models: :func:`plot_forest`.
- Do the residuals look like draws from the model? :func:`plot_residuals`
  (QQ and residual vs fitted, of :func:`likelihax.quantile_residuals`).
- What does the model predict over one covariate? :func:`plot_predictions`
  of :func:`prediction_grid` (a band from :func:`likelihax.predict`).

The compute functions (:func:`loglik_surface`, :func:`calibration_curve`,
:func:`distribution_check`, :func:`mixture_density`, :func:`optimizer_trace`,
:func:`forest_table`) need no matplotlib.
"""

from . import _compute, _draw, _predictions, _residuals
from ._compute import *  # noqa: F403 - the names listed in _compute.__all__
from ._draw import *  # noqa: F403 - the names listed in _draw.__all__
from ._predictions import *  # noqa: F403 - the names listed in _predictions.__all__
from ._residuals import plot_residuals as plot_residuals

__all__ = [*_compute.__all__, *_draw.__all__, *_predictions.__all__, *_residuals.__all__]
