"""Public alias of :mod:`likelihax.model.constraints`."""

from .model.constraints import *  # noqa: F401,F403
from .model.constraints import __all__ as __all__  # noqa: F401
from .model.constraints import __doc__ as __doc__  # noqa: F401
