"""Warnings and errors for a finished fit: non-finite starts, statuses, ill-conditioning.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # optax is imported when used
    pass

import numpy as np

from ..core import ConvergenceWarning, InformationWarning, Status, x64_scope
from ..results import FitResult, rank_text
from ._compiled import to_unconstrained
from ._program import ILL_CONDITIONED


def report(result: FitResult, fn, spec, fixed, jdata, warn):
    """Raise for a non-finite start; warn for the other non-success statuses."""
    st = result.status
    if st == Status.nonfinite_start:
        raise ValueError(_nonfinite_start_message(fn, spec, fixed, jdata))
    if st == Status.not_separable:
        raise ValueError(st.message)
    if not warn:
        return
    if st == Status.success:
        cond = float(np.asarray(result.condition_number))
        if cond >= ILL_CONDITIONED[result.dtype]:
            eps = float(np.finfo(result.dtype).eps)
            warnings.warn(
                f"The information is ill-conditioned (scaled condition number "
                f"{cond:.2g}): the estimates are at the maximum, but the standard "
                f"errors carry a relative rounding error of order {2 * cond * eps:.0e} "
                "(the information's entries are sums with relative rounding errors of "
                f"a few times {eps:.1e}). Center and scale the covariates (e.g. year - 2000 "
                "instead of year) or reparametrize for full precision.",
                InformationWarning,
                stacklevel=3,
            )
        if result.restarts:
            warnings.warn(
                f"The optimizer stopped {result.restarts} time(s) at a point that is "
                "not a maximum (a point one standard error away had a higher "
                "log-likelihood) and was restarted from there; it then converged. "
                "The log-likelihood may have several local maxima: compare fits "
                "from other starting values (`starts=`).",
                InformationWarning,
                stacklevel=3,
            )
        return
    if st in (Status.unbounded, Status.at_boundary):
        drop = float(np.asarray(result.curvature_drop))
        warnings.warn(
            f"{st.message} One standard error along {_uphill_text(result)} the "
            f"log-likelihood changes by {-drop:.3g}, where a well-determined maximum "
            "drops by about 0.5.",
            InformationWarning,
            stacklevel=3,
        )
        return
    # where the information is not positive definite, its rank (see rank_text)
    rank = ""
    if result.information is not None and not np.isfinite(
        float(np.asarray(result.condition_number))
    ):
        rank = " " + rank_text(result.information, result.dtype)
    if st in (Status.information_singular, Status.information_indefinite):
        weak = result.weak_directions()
        warnings.warn(
            f"{st.message} Weak direction(s): {weak}.{rank.rstrip()}",
            InformationWarning,
            stacklevel=3,
        )
    else:
        warnings.warn(st.message + rank.rstrip(), ConvergenceWarning, stacklevel=3)


def _uphill_text(result: FitResult) -> str:
    """The direction in which the log-likelihood still rises at the estimate
    (the Newton direction, or the weakest direction when the gradient is 0),
    as loadings on the unconstrained parameters."""
    if result.information is None:  # matrix-free: no matrix to solve with
        return "a weak direction (" + result.weak_directions(1)[0] + ")"
    H = np.asarray(result.information, dtype=float)
    g = np.asarray(result.grad, dtype=float)
    d = np.linalg.lstsq(H, g, rcond=None)[0] if np.any(g != 0) else None
    if d is None or not np.all(np.isfinite(d)) or not np.any(d):
        return result.weak_directions(1)[0].split(" (")[0]
    d = d / np.abs(d).max()
    labels = result.unconstrained_labels
    terms = [(v, labels[i]) for i, v in enumerate(d) if abs(v) >= 0.1]
    terms.sort(key=lambda t: -abs(t[0]))
    text = " ".join(f"{'-' if v < 0 else '+'} {abs(v):.3g}*{k}" for v, k in terms)
    return f"[{text.lstrip('+ ')}]"


def _first_nonfinite_block(fn, spec, fixed, source):
    """Rows of the first block with non-finite terms at the start (host loop)."""
    with x64_scope():
        p0 = spec.to_natural(to_unconstrained(spec, fixed), fixed)
        for start, block in source.host_blocks():
            terms = np.asarray(fn(p0, block))
            bad = np.flatnonzero(~np.isfinite(terms))
            if bad.size:
                return (bad + start).tolist()[:5]
    return []


def _nonfinite_start_message(fn, spec, fixed, jdata) -> str:
    msg = Status.nonfinite_start.message
    if hasattr(jdata, "host_blocks"):  # streamed data: look block by block
        rows = _first_nonfinite_block(fn, spec, fixed, jdata)
        if rows:
            return f"{msg} Observations with a non-finite log-likelihood: {rows}."
        return f"{msg} The log-likelihood is finite but its gradient or Hessian is not."
    with x64_scope():
        u0 = to_unconstrained(spec, fixed)
        terms = np.asarray(fn(spec.to_natural(u0, fixed), jdata))
    msg = Status.nonfinite_start.message
    if terms.ndim == 1:
        bad = np.flatnonzero(~np.isfinite(terms))
        if bad.size:
            return (
                f"{msg} {bad.size} of {terms.size} observations give a non-finite "
                f"log-likelihood (first: {bad[:5].tolist()}, values "
                f"{terms[bad[:5]].tolist()})."
            )
        return f"{msg} The log-likelihood is finite but its gradient or Hessian is not."
    return f"{msg} The log-likelihood at the start is {float(terms)}."
