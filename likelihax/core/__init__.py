"""The base layer: status codes, warning classes, precision, the compilation cache
and the p-value format.

Every other layer may import these names; this layer imports nothing of likelihax.
"""

from ._cache import compilation_cache_dir as compilation_cache_dir
from ._cache import configure_compilation_cache as configure_compilation_cache
from ._format import format_pvalue as format_pvalue
from ._precision import from_wire_device as from_wire_device
from ._precision import from_wire_host as from_wire_host
from ._precision import resolve_dtype as resolve_dtype
from ._precision import to_wire_device as to_wire_device
from ._precision import to_wire_host as to_wire_host
from ._precision import wire_struct as wire_struct
from ._precision import x64_scope as x64_scope
from ._status import Status as Status
from ._warnings import ConvergenceWarning as ConvergenceWarning
from ._warnings import InformationWarning as InformationWarning
from ._warnings import LikelihaxWarning as LikelihaxWarning
from ._warnings import PrecisionWarning as PrecisionWarning
