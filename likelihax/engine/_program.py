"""The compiled program's static record, the solver factory and weight checks.

:class:`FitProgram` holds everything a compiled fit depends on besides array
values (log-likelihood, parameter layout, solver, covariance kind, sizes); it is
the static argument of every compiled program of :mod:`._compiled`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # optax is imported when used
    pass

import jax
import jax.numpy as jnp
import numpy as np

from ..data import is_traced
from ..optimize import Newton, NewtonCG, Solver
from ..parameters import ParamSpec

# The information is singular when the smallest eigenvalue of its scaled form
# (largest about 1 to k) is at most this: in float64 an eigenvalue of 1e-13 is
# resolved to about 0.2% (its rounding error is about k * eps), so standard
# errors are still meaningful up to scaled condition numbers of about 1e13
# (the same resolution as R's rank test of the design, singular values of the
# scaled columns below 1e-7). Beyond it, see ILL_CONDITIONED.
INFO_TOL = {"float64": 1e-13, "float32": 1e-5}
# Standard errors from an information with this scaled condition number or
# more carry a relative rounding error of about 2 cond eps (the information's
# entries are sums with relative error eps; measured on raw-year polynomials,
# tests/engine/test_ill_conditioned.py), near or above 1e-6: the fit warns.
ILL_CONDITIONED = {"float64": 1e9, "float32": 1e3}
WEIGHT_TYPES = ("frequency", "importance")


@dataclasses.dataclass(frozen=True)
class FitProgram:
    """Everything the compiled program depends on besides array values."""

    loglik: Callable
    spec: ParamSpec
    solver: Any
    cov: str
    max_steps: int
    nobs: int
    per_obs: bool
    verbose: bool
    info_tol: float
    chunk: int = 0
    fisher: Callable | None = None
    weight_type: str = "frequency"
    source: Any = None  # a bound likelihax.data source (streamed data), or None
    # No k x k matrix (likelihax.engine._matrix_free): the covariance of the
    # free coordinates ``cov_free`` (natural elements ``cov_natural``) only.
    matrix_free: bool = False
    cov_free: tuple = ()
    cov_natural: tuple = ()
    # Default blocks of wide rows (see ``chunk_rows``): only the evaluations
    # that need memory beyond the data read them (``Problem.wide``).
    wide: bool = False


def make_solver(method, dtype, tol, gtol, rtol):
    """The solver for ``fit(method=...)``: a name (with the defaults for the
    working precision), a solver object (:class:`likelihax.optimize.Solver`,
    used as given) or an optax transformation."""
    if isinstance(method, Solver) and not isinstance(method, str):
        options = (("tol", tol), ("gtol", gtol), ("rtol", rtol))
        given = [k for k, v in options if v is not None]
        if given:
            raise ValueError(
                f"method is a solver object ({method.name}); give "
                f"{', '.join(given)} to the solver, e.g. "
                "likelihax.optimize.Newton(tol=1e-12), not to fit()."
            )
        return method
    f32 = dtype == np.float32
    kw = {}
    if gtol is not None:
        kw["gtol"] = float(gtol)
    if rtol is not None:
        kw["rtol"] = float(rtol)
    if isinstance(method, str):
        if method in ("newton", "fisher"):
            # Fisher scoring converges linearly where the link is not canonical,
            # so its final step gains less than Newton's: a tighter EDM rule.
            default = (1e-5 if f32 else 1e-9) if method == "newton" else (
                1e-7 if f32 else 1e-15
            )
            return Newton(
                tol=float(tol if tol is not None else default),
                name=method,
                information="expected" if method == "fisher" else "observed",
                **kw,
            )
        if method == "newton-cg":
            return NewtonCG(tol=float(tol if tol is not None else (1e-5 if f32 else 1e-9)), **kw)
        if tol is not None:
            raise ValueError(
                "`tol` (EDM rule) applies to method='newton' and 'newton-cg' only; use "
                "gtol/rtol."
            )
        if method in ("bfgs", "lbfgs"):
            from ..optimize import LBFGS  # optax: imported when used

            kw.setdefault("gtol", 1e-5 if f32 else 1e-9)
            return LBFGS(memory_size=100 if method == "bfgs" else 10, name=method, **kw)
        raise ValueError(
            f"Unknown method {method!r}. Use 'newton' (default), 'newton-cg', 'fisher', "
            "'bfgs', 'lbfgs', or an optax.GradientTransformation such as optax.adam(1e-2)."
        )
    import optax  # imported when used: only optax solvers pay for loading it

    from ..optimize import OptaxSolver

    if isinstance(method, optax.GradientTransformation):
        if tol is not None:
            raise ValueError(
                "`tol` (EDM rule) applies to method='newton' and 'newton-cg' only; use "
                "gtol/rtol."
            )
        kw.setdefault("gtol", 1e-5 if f32 else 1e-9)
        return OptaxSolver(method, **kw)
    raise TypeError(
        "method must be 'newton', 'fisher', 'bfgs', 'lbfgs', a solver object "
        "(likelihax.optimize.Solver, e.g. likelihax.optimize.Newton(tol=1e-12)) or "
        f"an optax.GradientTransformation; got {type(method).__name__}."
    )


def prepare_weights(weights, n, per_obs, dtype):
    """Validated observation weights as a JAX array of the working dtype (or None)."""
    if weights is None:
        return None
    if not per_obs:
        raise ValueError(
            "weights need one log-likelihood value per observation, but the "
            "log-likelihood returns a scalar total. Return the per-observation terms."
        )
    if is_traced(weights):
        w = jnp.asarray(weights, dtype)
    else:
        wn = np.asarray(weights)
        if wn.dtype.kind not in "biuf":
            raise TypeError(f"weights must be numeric; got dtype {wn.dtype}.")
        wn = wn.astype(dtype)  # a copy: the caller's array is never touched
        if wn.shape != (n,):
            raise ValueError(
                f"weights must have shape ({n},), one per observation; got {wn.shape}."
            )
        bad = np.flatnonzero(~np.isfinite(wn))
        if bad.size:
            raise ValueError(
                f"weights contain {bad.size} non-finite value(s) (first rows: "
                f"{bad[:5].tolist()}); give finite, non-negative weights."
            )
        neg = np.flatnonzero(wn < 0)
        if neg.size:
            raise ValueError(
                f"weights must be non-negative; {neg.size} are negative (first rows: "
                f"{neg[:5].tolist()})."
            )
        if not np.any(wn > 0):
            raise ValueError("All weights are zero: there is nothing to fit.")
        w = jnp.asarray(wn)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},); got {w.shape}.")
    return w


# Data per block of chunked evaluation; rows of at least WIDE_ROW_BYTES
# (256 float64 columns) get the larger blocks.
CHUNK_BYTES = 1 << 21
WIDE_ROW_BYTES = 2048
WIDE_CHUNK_BYTES = 1 << 27


def _row_bytes(data, n) -> int:
    return sum(
        int(np.prod(np.shape(x)[1:])) * np.dtype(jnp.result_type(x)).itemsize
        for x in jax.tree_util.tree_leaves(data)
        if np.ndim(x) >= 1 and np.shape(x)[0] == n
    )


def chunk_rows(chunk_size, data, n, per_obs) -> int:
    """Rows per block for chunked evaluation (0: no chunking)."""
    if chunk_size is False or not per_obs or not n:
        return 0
    if chunk_size is not None and chunk_size is not True:
        if int(chunk_size) < 1:
            raise ValueError(
                f"chunk_size must be a positive integer or False; got {chunk_size}."
            )
        return int(chunk_size) if int(chunk_size) < n else 0
    row_bytes = _row_bytes(data, n)
    # Narrow rows: blocks of about 2 MiB, which stay in cache. Wide rows (many
    # columns, hence usually many parameters): blocks of about 128 MiB, so that
    # each block's Hessian is one large matrix product; smaller blocks spend
    # more time per block than the product saves (p = 1,000 columns: 256-row
    # blocks are 6x slower than the whole data at once).
    budget = CHUNK_BYTES if row_bytes < WIDE_ROW_BYTES else WIDE_CHUNK_BYTES
    rows = int(np.clip(budget // max(row_bytes, 1), 256, 65536))
    return rows if n >= 4 * rows else 0


def wide_blocks(chunk_size, data, n, chunk: int) -> bool:
    """Whether the blocks are the default ones of wide rows (``chunk_rows``).

    Their purpose is a bound on memory, not speed: reading a block copies it,
    so the evaluations whose memory does not grow with the number of
    parameters read the whole data instead (``Problem.wide``). Blocks the
    caller chose (``chunk_size``) apply to every evaluation.
    """
    default = chunk_size is None or chunk_size is True
    return bool(chunk and default and _row_bytes(data, n) >= WIDE_ROW_BYTES)
