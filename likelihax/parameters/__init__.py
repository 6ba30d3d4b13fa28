"""Parameters: named leaves, their constraints and the flat layout the engine uses.

:class:`Param` and the constraints are what a user writes; :class:`ParamSpec`
(from :func:`build_spec`) maps the parameter pytree to the optimizer's flat
unconstrained vector and back, and labels each element.
"""

from . import constraints as constraints
from ._param import Param as Param
from ._param import ParamSpec as ParamSpec
from ._param import build_spec as build_spec
from ._param import element_labels as element_labels
from ._param import path_name as path_name
