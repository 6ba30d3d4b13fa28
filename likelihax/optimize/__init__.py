"""Solvers: the while-loop driver, Newton's method, the optax-based solvers and
small-matrix linear algebra.

Every solver meets the contract of :class:`Solver` (``init``, ``step``,
``final``; ``name``, ``information``, ``polish``, ``default_max_steps``) and is
run by :func:`run` under one ``jax.lax.while_loop``. A solver sees the problem
only through its value and derivative methods (see :class:`Solver`) and never
imports the objective. ``fit(method=...)`` takes a solver object as well as a
name: ``lx.fit(..., method=lx.optimize.Newton(tol=1e-12))``.
"""

from ._banded import Banded as Banded
from ._banded import banded_cholesky as banded_cholesky
from ._banded import banded_direction as banded_direction
from ._banded import banded_logdet as banded_logdet
from ._banded import banded_solve as banded_solve
from ._banded import selected_inverse as selected_inverse
from ._bordered import Bordered as Bordered
from ._bordered import BorderedFactor as BorderedFactor
from ._bordered import border_pairs as border_pairs
from ._bordered import bordered_chol as bordered_chol
from ._dense import cholesky_direction as cholesky_direction
from ._host import host_direction as host_direction
from ._host import spd_inverse_logdet as spd_inverse_logdet
from ._host import spd_solve as spd_solve
from ._dense import gershgorin_shift as gershgorin_shift
from ._factor import EIGEN_MAX as EIGEN_MAX
from ._factor import ScaledFactor as ScaledFactor
from ._factor import as_factor as as_factor
from ._factor import factor_direction as factor_direction
from ._factor import factor_extremes as factor_extremes
from ._factor import factor_inverse as factor_inverse
from ._factor import lanczos_extremes as lanczos_extremes
from ._factor import scaled_eigh as scaled_eigh
from ._factor import scaled_factor as scaled_factor
from ._jacobi import small_linalg as small_linalg
from ._linalg import chol as chol
from ._linalg import chol_inverse as chol_inverse
from ._linalg import chol_logdet as chol_logdet
from ._linalg import chol_solve as chol_solve
from ._linalg import mvn_logpdf as mvn_logpdf
from ._linalg import solve_lower as solve_lower
from ._loop import record as record
from ._loop import run as run
from ._loop import stopping_rule as stopping_rule
from ._newton import POLISHED as POLISHED
from ._newton import Newton as Newton
from ._newton import armijo as armijo
from ._newton import backtrack as backtrack
from ._newton import newton_direction as newton_direction
from ._newton import newton_step as newton_step
from ._newton import shorter_step as shorter_step
from ._newton_cg import NewtonCG as NewtonCG
from ._newton_cg import cg_direction as cg_direction
from ._solver import Solver as Solver
from ._sparse import SparsePattern as SparsePattern
from ._sparse import SparseSym as SparseSym
from ._sparse import ldl_selected_inverse as ldl_selected_inverse
from ._sparse import qdldl_available as qdldl_available
from ._sparse import sparse_direction as sparse_direction
from ._sparse import sparse_logdet as sparse_logdet
from ._sparse import sparse_selected_inverse as sparse_selected_inverse
from ._sparse import sparse_solve as sparse_solve
from ._newton_cg import hutchinson_diagonal as hutchinson_diagonal


def __getattr__(name):
    # The optax-based solvers import optax, which a fit with Newton never needs.
    if name in ("LBFGS", "OptaxSolver"):
        from . import _optax_solvers

        return getattr(_optax_solvers, name)
    raise AttributeError(f"module 'likelihax.optimize' has no attribute {name!r}")
