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

The compute functions (:func:`loglik_surface`, :func:`calibration_curve`,
:func:`distribution_check`, :func:`mixture_density`, :func:`optimizer_trace`,
:func:`forest_table`) need no matplotlib.
"""

from ._compute import CalibrationCurve as CalibrationCurve
from ._compute import DistributionCheck as DistributionCheck
from ._compute import ForestTable as ForestTable
from ._compute import LoglikSurface as LoglikSurface
from ._compute import MixtureDensity as MixtureDensity
from ._compute import OptimizerTrace as OptimizerTrace
from ._compute import calibration_curve as calibration_curve
from ._compute import distribution_check as distribution_check
from ._compute import forest_table as forest_table
from ._compute import loglik_surface as loglik_surface
from ._compute import mixture_density as mixture_density
from ._compute import optimizer_trace as optimizer_trace
from ._draw import plot_calibration as plot_calibration
from ._draw import plot_contour as plot_contour
from ._draw import plot_distribution as plot_distribution
from ._draw import plot_forest as plot_forest
from ._draw import plot_mixture as plot_mixture
from ._draw import plot_profile as plot_profile
from ._draw import plot_trace as plot_trace

__all__ = [
    "CalibrationCurve",
    "DistributionCheck",
    "ForestTable",
    "LoglikSurface",
    "MixtureDensity",
    "OptimizerTrace",
    "calibration_curve",
    "distribution_check",
    "forest_table",
    "loglik_surface",
    "mixture_density",
    "optimizer_trace",
    "plot_calibration",
    "plot_contour",
    "plot_distribution",
    "plot_forest",
    "plot_mixture",
    "plot_profile",
    "plot_trace",
]
