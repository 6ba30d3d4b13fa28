"""Diagnostics of a fit: is the model credible, and is the estimate a maximum?

Use :func:`checklist` first: one call on any fit (a ``FitResult``, or a model
result such as a ``GLMResult``) returns a :class:`ChecklistReport` with a
verdict and advice per item: the independence assumed, convergence, the
information matrix and its weak directions, estimates at a boundary,
sensitivity to starting values, agreement with the method of moments, the
information-matrix test, and separation in binary models. Use
:func:`im_test` alone for the information-matrix test of White (1982) with its
table of observed vs sandwich standard errors.

:func:`simulate` draws new responses from any fitted model;
:func:`quantile_residuals` gives randomized quantile residuals (Dunn-Smyth
where the response has a closed-form CDF, DHARMa's simulation-based ones
otherwise), tested by :func:`uniformity_test`, :func:`dispersion_test` and
:func:`zero_inflation_test`.
"""

from ._checklist import checklist as checklist
from ._imtest import IMTest as IMTest
from ._imtest import im_test as im_test
from ._report import CheckItem as CheckItem
from ._report import ChecklistReport as ChecklistReport
from ._residuals import QuantileResiduals as QuantileResiduals
from ._residuals import ResidualTest as ResidualTest
from ._residuals import dispersion_test as dispersion_test
from ._residuals import quantile_residuals as quantile_residuals
from ._residuals import simulate as simulate
from ._residuals import uniformity_test as uniformity_test
from ._residuals import zero_inflation_test as zero_inflation_test

__all__ = [
    "CheckItem",
    "ChecklistReport",
    "IMTest",
    "QuantileResiduals",
    "ResidualTest",
    "checklist",
    "dispersion_test",
    "im_test",
    "quantile_residuals",
    "simulate",
    "uniformity_test",
    "zero_inflation_test",
]
