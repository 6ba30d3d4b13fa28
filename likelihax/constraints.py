"""Public alias of :mod:`likelihax.parameters.constraints`."""

from .parameters.constraints import *  # noqa: F401,F403
from .parameters.constraints import __all__ as __all__  # noqa: F401
from .parameters.constraints import __doc__ as __doc__  # noqa: F401
