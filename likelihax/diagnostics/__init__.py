"""Diagnostics of a fit: is the model credible, and is the estimate a maximum?

Use :func:`checklist` first: one call on any fit (a ``FitResult``, or a model
result such as a ``GLMResult``) returns a :class:`ChecklistReport` with a
verdict and advice per item: the independence assumed, convergence, the
information matrix and its weak directions, estimates at a boundary,
sensitivity to starting values, agreement with the method of moments, the
information-matrix test, and separation in binary models. Use
:func:`im_test` alone for the information-matrix test of White (1982) with its
table of observed vs sandwich standard errors.
"""

from ._checklist import checklist as checklist
from ._imtest import IMTest as IMTest
from ._imtest import im_test as im_test
from ._report import CheckItem as CheckItem
from ._report import ChecklistReport as ChecklistReport

__all__ = ["CheckItem", "ChecklistReport", "IMTest", "checklist", "im_test"]
