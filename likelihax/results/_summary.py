"""Summary of a fit: a record of numbers and labels, and its renderers.

Compute first, format second: :func:`build_summary` returns a :class:`Summary`
(header rows, coefficient table, notes); ``to_text``, ``to_html`` (also shown by
Jupyter) and ``to_frame`` (pandas) only format it.
"""

from __future__ import annotations

import dataclasses
import html
import math
from statistics import NormalDist

import numpy as np

from ..core import Status
from ..objective import COVARIANCES
from ._directions import rank_text

__all__ = ["Summary", "TextReport", "build_summary", "pandas_for"]


def pandas_for(what: str):
    """The pandas module, or an ImportError saying that ``what`` needs it."""
    try:
        import pandas
    except ImportError as e:
        msg = f"{what} needs pandas: pip install 'likelihax[pandas]'."
        raise ImportError(msg) from e
    return pandas


class TextReport:
    """Base of a report printed as its text: ``str`` and ``repr`` give ``to_text()``.

    A subclass defines ``to_text()``. A dataclass subclass is declared with
    ``repr=False``: otherwise the dataclass writes its own ``__repr__`` over
    this one.

    Examples
    --------
    >>> from likelihax.results import TextReport
    >>> class Note(TextReport):
    ...     def to_text(self):
    ...         return "Note: fitted."
    >>> Note()
    Note: fitted.
    >>> str(Note())
    'Note: fitted.'
    """

    __slots__ = ()

    def to_text(self) -> str:  # pragma: no cover - each report defines it
        raise NotImplementedError

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()


@dataclasses.dataclass(frozen=True, repr=False)
class Summary(TextReport):
    """Numbers of a fit summary, ready to render.

    Attributes
    ----------
    title : str
    header : list of (str, str)
        Model, observations, log-likelihood, AIC/BIC, solver, status, ...
    columns : list of str
    rows : list of (label, values)
    notes : list of str
        Warnings and explanations in plain text.
    """

    title: str
    header: list
    columns: list
    rows: list
    notes: list

    def to_text(self) -> str:
        """Plain-text table, like statsmodels' summary.

        The frame is 78 characters wide, or as wide as the coefficient table
        when long labels make it wider; no line passes the frame.
        """
        wl = max([len(r[0]) for r in self.rows] + [9])
        width = max(78, wl + 11 * len(self.columns))
        lines = [self.title.center(width), "=" * width]
        # Pairs longer than half the width get a line of their own, first (so
        # no line passes the frame); the others go in two columns.
        fits = [(k, v) for k, v in self.header if len(k) < 16 and len(str(v)) <= 22]
        for k, v in self.header:
            if (k, v) in fits:
                continue
            text = f"{k}: {v}"
            lines.append(_wrap(text, width) if len(text) > width
                         else f"{k + ':':<16}{str(v):>{width - 16}}")  # fmt: skip
        half = (len(fits) + 1) // 2
        left, right = fits[:half], fits[half:]
        for i in range(half):
            lt = f"{left[i][0] + ':':<16}{left[i][1]:>22}"
            rt = f"{right[i][0] + ':':<16}{right[i][1]:>22}" if i < len(right) else ""
            lines.append(f"{lt}  {rt}".rstrip())
        lines.append("=" * width)
        lines.append(" " * wl + "".join(f" {c:>10}" for c in self.columns))
        lines.append("-" * width)
        for label, vals in self.rows:
            lines.append(f"{label:<{wl}}"
                         + "".join(_cell(c, v) for c, v in zip(self.columns, vals)))  # fmt: skip
        lines.append("=" * width)
        for note in self.notes:
            lines.append(_wrap("Note: " + note, width))
        return "\n".join(lines)

    def to_html(self) -> str:
        """HTML tables (header, coefficients, notes)."""
        e = html.escape
        head = "".join(
            f"<tr><th style='text-align:left'>{e(k)}</th><td>{e(v)}</td></tr>"
            for k, v in self.header
        )
        cols = "".join(f"<th>{e(c)}</th>" for c in self.columns)
        body = "".join(
            f"<tr><th style='text-align:left'>{e(lab)}</th>"
            + "".join(f"<td>{e(_cell(c, v).strip())}</td>" for c, v in zip(self.columns, vals))
            + "</tr>"
            for lab, vals in self.rows
        )
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        return (
            f"<div class='likelihax-summary'><h4>{e(self.title)}</h4>"
            f"<table>{head}</table>"
            f"<table><thead><tr><th></th>{cols}</tr></thead><tbody>{body}</tbody></table>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_frame(self):
        """Coefficient table as a pandas DataFrame (needs pandas)."""
        pd = pandas_for("Summary.to_frame")
        return pd.DataFrame(
            [list(v) for _, v in self.rows],
            index=[lab for lab, _ in self.rows],
            columns=self.columns,
        )


def format_cell(v) -> str:
    """Right-aligned in 11 characters, always with a leading space."""
    if isinstance(v, str):
        return f" {v:>10}"
    if v is None or not math.isfinite(v):
        return f" {'nan' if v is None or math.isnan(v) else ('inf' if v > 0 else '-inf'):>10}"
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
        return f" {v:>10.3e}"
    return f" {v:>10.4f}"


def _cell(column: str, v) -> str:
    """:func:`format_cell`, except that a p-value below the smallest double
    (computed as 0) reads ``<1e-300`` rather than ``0.0000``."""
    if column.startswith("P>") and isinstance(v, (int, float)) and v == 0:
        return f" {'<1e-300':>10}"
    return format_cell(v)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width, subsequent_indent="      "))


def _num(x, fmt=".6g") -> str:
    x = float(x)
    return format(x, fmt) if math.isfinite(x) else str(x)


def _nobs_text(fit) -> str:
    n = fit.nobs
    if not n:
        return "n/a"
    if isinstance(n, float) and not float(n).is_integer():
        return format(n, ".6g")
    return str(int(n))


def build_summary(fit, alpha: float = 0.05) -> Summary:
    """Collect the numbers of a :class:`FitResult` into a :class:`Summary`."""
    if not fit.is_single:
        raise ValueError(
            "summary() needs a single fit; index a batched result first: fits[i]."
        )
    z = NormalDist().inv_cdf(1 - alpha / 2)
    is_map = fit.setup.estimator == "MAP"  # from lx.fit_map
    lo_q, hi_q = alpha / 2, 1 - alpha / 2
    columns = ["estimate", "std.err", "z", "P>|z|", f"[{lo_q:g}", f"{hi_q:g}]"]
    rows, near = _coefficient_rows(fit, z)
    notes = _notes(fit, near, is_map)
    lik = fit.is_likelihood
    title = "likelihax maximum-likelihood fit" if lik else "likelihax M-estimation fit"
    if is_map:
        title = "likelihax MAP fit (posterior mode)"
    return Summary(title, _header(fit, is_map), columns, rows, notes)


def _header(fit, is_map: bool) -> list:
    """The summary's header rows: model, fit statistics, optimizer diagnostics."""
    extra_k = fit.annotation.extra_params
    lik = fit.is_likelihood
    k_text = str(fit.n_params) + (f" (+{extra_k} in AIC)" if extra_k else "")
    header = [
        ("Model", fit.name),
        ("Observations", _nobs_text(fit)),
        ("Parameters", k_text),
    ]
    if is_map:
        header += [("Log-posterior", _num(fit.loglik, ".8g"))]
    elif lik and fit.weight_type == "importance":
        header += [("Weighted loglik", _num(fit.loglik, ".8g"))]
    elif lik:
        header += [
            ("Log-likelihood", _num(fit.loglik, ".8g")),
            ("AIC", _num(fit.aic, ".8g")),
            ("BIC", _num(fit.bic, ".8g")),
        ]
    else:
        header += [("Objective", _num(fit.loglik, ".8g"))]
    return header + [
        ("Method", fit.method),
        ("Iterations", f"{int(fit.iterations)} ({int(fit.n_evals)} evals)"),
        ("Converged", "yes" if fit.converged else "NO"),
        ("Status", fit.status.name),
        ("Covariance", fit.cov_kind),
        ("Precision", fit.dtype),
        ("max|grad|", _num(fit.grad_norm, ".2e")),
        ("EDM", _num(fit.edm, ".2e")),
        ("Cond. number", _num(fit.condition_number, ".3g")),
        *fit.annotation.header,
    ]


def _coefficient_rows(fit, z: float):
    """``(rows, near)``: one row per reported element, and the labels whose Wald
    interval crosses a bound of their constraint."""
    spec = fit.spec
    labels_all = spec.labels
    est = np.asarray(fit.params_flat, dtype=float)
    se = np.asarray(fit.se_flat, dtype=float)
    cons = spec.element_constraints
    rows, near = [], []
    for i in spec.reported:
        c = cons[i]
        if c.name == "fixed":
            rows.append((labels_all[i], [est[i], "fixed", "", "", "", ""]))
            continue
        zval = est[i] / se[i] if se[i] > 0 else math.nan
        p = math.erfc(abs(zval) / math.sqrt(2)) if math.isfinite(zval) else math.nan
        rows.append(
            (
                labels_all[i],
                [est[i], se[i], zval, p, est[i] - z * se[i], est[i] + z * se[i]],
            )
        )
        b = c.bounds()
        if b is not None and math.isfinite(se[i]):
            if est[i] - z * se[i] < b[0] or est[i] + z * se[i] > b[1]:
                near.append(labels_all[i])
    return rows, near


def _notes(fit, near: list, is_map: bool) -> list:
    """The notes under the table: covariance, weights, constraints, status."""
    lik = fit.is_likelihood
    cons = fit.spec.element_constraints
    st = fit.status
    notes = [
        "Covariance: inverse negative Hessian of the log posterior."
        if is_map
        else f"Covariance: {fit.cov_description}."
    ]
    if not lik:
        notes.append(
            "M-estimation: the objective is not a log-likelihood, so there is no "
            "AIC, BIC or likelihood-ratio test; standard errors should come from "
            "the sandwich (the inverse curvature alone is not a covariance)."
        )
    if fit.weight_type == "frequency":
        notes.append(
            "Frequency weights: each row counts as many identical observations as "
            "its weight (results equal those of the duplicated data)."
        )
    elif fit.weight_type == "importance":
        notes.append(
            "Importance weights: the weighted objective is not the log-likelihood "
            "of the data, so the inverse information is not a valid covariance; "
            "the sandwich H^-1 (sum w_i^2 s_i s_i') H^-1 is. No AIC/BIC: the "
            "weighted log-likelihood is not a likelihood."
        )
        if not COVARIANCES[fit.cov_kind].robust:
            notes.append(
                f"WARNING: covariance {fit.cov_kind!r} was requested with "
                "importance weights; its standard errors are not valid in general."
            )
    notes.extend(fit.annotation.notes)
    if any(c.name not in ("real", "fixed") for c in cons):
        notes.append(
            "Constrained parameters: estimated on an unconstrained scale; estimates "
            "and standard errors shown on the natural scale (delta method)."
        )
    if near:
        notes.append(
            f"The Wald interval of {', '.join(near)} crosses its constraint bound: "
            "the estimate is within a few standard errors of the boundary, so "
            "Wald inference is unreliable there (the interval on the unconstrained "
            "scale, transformed back, respects the bound)."
        )
    if not fit.setup.per_obs and not is_map:
        notes.append(
            "The log-likelihood returns a scalar total: only curvature-based "
            "(observed-information) inference is available."
        )
    if fit.dtype == "float32":
        notes.append(
            "Computed in float32 on request: expect about 6-7 significant digits at "
            "best, fewer for ill-conditioned models."
        )
    if st != Status.success:
        notes.append(st.message)
        if st in (Status.information_singular, Status.information_indefinite):
            notes.append("Weak direction(s): " + "; ".join(fit.weak_directions()))
        if fit.information is not None and not math.isfinite(float(fit.condition_number)):
            notes.append(rank_text(fit.information, fit.dtype))
            notes = [n for n in notes if n]
    elif (
        math.isfinite(float(fit.condition_number)) and float(fit.condition_number) > 1e8
    ):
        notes.append(
            f"The information matrix is ill-conditioned (scaled condition number "
            f"{float(fit.condition_number):.2g}); weak direction(s): "
            + "; ".join(fit.weak_directions(1))
        )
    if fit.multistart is not None:
        ms = fit.multistart.summary()
        notes.append(
            f"Multi-start: {ms['at_best']} of {ms['starts']} starts reached the best "
            f"optimum ({ms['converged']} converged); distinct optima (loglik): "
            + ", ".join(f"{v:.8g}" for v in ms["optima"][:5])
        )
    return notes

