"""Side-by-side table of MLE, MAP, Laplace and NUTS estimates and intervals."""

from __future__ import annotations

import dataclasses
import html
import textwrap
from statistics import NormalDist

import numpy as np

from ..results import TextReport, format_cell, pandas_for
from ._laplace import LaplacePosterior
from ._nuts import NUTSResult

__all__ = ["Comparison", "compare_posteriors"]


@dataclasses.dataclass(frozen=True, repr=False)
class Comparison(TextReport):
    """Rows ``(parameter, method, estimate, sd, lower, upper)``.

    ``estimate`` is the point estimate of each method (MLE, MAP, posterior
    mean for Laplace and NUTS); ``sd`` the standard error or posterior sd;
    ``lower``/``upper`` the Wald interval (MLE, MAP) or the equal-tailed
    posterior interval (Laplace, NUTS).
    """

    rows: list
    alpha: float
    notes: list

    @property
    def columns(self) -> list[str]:
        return ["estimate", "sd", f"{self.alpha / 2:g}", f"{1 - self.alpha / 2:g}"]

    def to_text(self) -> str:
        """Plain-text table, one block of rows per parameter."""
        wl = max([len(r[0]) for r in self.rows] + [9])
        wm = max([len(r[1]) for r in self.rows] + [6])
        head = f"{'parameter':<{wl}}  {'method':<{wm}}" + "".join(
            f" {c:>10}" for c in self.columns
        )
        lines = [
            "likelihax: MLE, MAP and posterior side by side",
            head,
            "-" * len(head),
        ]
        last = None
        for lab, meth, *vals in self.rows:
            shown = lab if lab != last else ""
            last = lab
            lines.append(
                f"{shown:<{wl}}  {meth:<{wm}}" + "".join(format_cell(v) for v in vals)
            )
        lines.append("-" * len(head))
        width = len(head)  # notes wrapped to the frame of the table
        lines.extend(
            textwrap.fill("Note: " + n, width, subsequent_indent=" " * 6,
                          break_on_hyphens=False)
            for n in self.notes
        )
        return "\n".join(lines)

    def to_html(self) -> str:
        """HTML table (also shown by Jupyter)."""
        e = html.escape
        cols = "".join(
            f"<th>{e(c)}</th>" for c in ["parameter", "method", *self.columns]
        )
        body = "".join(
            "<tr>" + f"<th style='text-align:left'>{e(lab)}</th><td>{e(m)}</td>"
            + "".join(f"<td>{e(format_cell(v).strip())}</td>" for v in vals) + "</tr>"
            for lab, m, *vals in self.rows
        )  # fmt: skip
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        return (
            "<div class='likelihax-summary'><h4>MLE, MAP and posterior</h4>"
            f"<table><thead><tr>{cols}</tr></thead><tbody>{body}</tbody></table>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_frame(self):
        """DataFrame indexed by (parameter, method) (needs pandas)."""
        pd = pandas_for("Comparison.to_frame")
        index = pd.MultiIndex.from_tuples(
            [(r[0], r[1]) for r in self.rows], names=["parameter", "method"]
        )
        return pd.DataFrame(
            [r[2:] for r in self.rows], index=index, columns=self.columns
        )


def _wald(fit, z):
    idx = np.asarray(fit.spec.reported)
    est = np.asarray(fit.params_flat, dtype=float)[idx]
    se = np.asarray(fit.se_flat, dtype=float)[idx]
    return est, se, est - z * se, est + z * se


def compare_posteriors(
    mle=None, map=None, laplace=None, nuts=None, *, alpha: float = 0.05
) -> Comparison:
    """MLE, MAP, Laplace and NUTS estimates and intervals side by side.

    Parameters
    ----------
    mle : FitResult, optional
        From :func:`likelihax.fit` (Wald interval).
    map : FitResult, optional
        From :func:`likelihax.fit_map` (Wald interval from the log posterior's
        curvature).
    laplace : LaplacePosterior, optional
        From :func:`likelihax.laplace_posterior` (posterior mean, sd and
        equal-tailed interval of its draws).
    nuts : NUTSResult, optional
        From :func:`likelihax.nuts` (same, from the MCMC draws).
    alpha : float
        Intervals have level ``1 - alpha`` (default 0.95).

    Returns
    -------
    Comparison
        ``to_text()``, ``to_html()`` (Jupyter), ``to_frame()`` (pandas).

    Raises
    ------
    ValueError
        Nothing to compare, or results whose parameter labels differ.

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> ll = lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0)
    >>> y = np.array([0.8, 1.9, 1.1, 2.4])
    >>> mle = lx.fit(ll, {"mu": 0.0}, {"y": y})
    >>> m = lx.fit_map(ll, {"mu": 0.0}, {"y": y}, priors={"mu": lx.priors.Normal(0, 1)})
    >>> t = lx.compare_posteriors(mle=mle, map=m, laplace=lx.laplace_posterior(m))
    >>> [(r[1], round(r[2], 3)) for r in t.rows[:2]]    # ybar; 6.2 / (4 + 1)
    [('MLE', 1.55), ('MAP', 1.24)]
    >>> t.rows[2][1], bool(abs(t.rows[2][2] - 1.24) < 0.05)  # mean of 4000 draws
    ('Laplace', True)
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
    z = NormalDist().inv_cdf(1 - alpha / 2)
    blocks, labels = [], None
    for name, obj in (("MLE", mle), ("MAP", map), ("Laplace", laplace), ("NUTS", nuts)):
        if obj is None:
            continue
        if isinstance(obj, (LaplacePosterior, NUTSResult)):
            if name in ("MLE", "MAP"):
                raise TypeError(
                    f"{name.lower()}= takes a FitResult, not {type(obj).__name__}."
                )
            lo, hi = obj.interval(alpha)
            vals, lab = (obj.mean, obj.sd, lo, hi), obj.labels
        else:
            if name in ("Laplace", "NUTS") or not hasattr(obj, "se_flat"):
                raise TypeError(
                    f"{name.lower()}= got {type(obj).__name__}; give "
                    + ("a FitResult." if name in ("MLE", "MAP") else
                       "lx.laplace_posterior(...) / lx.nuts(...) results.")
                )  # fmt: skip
            vals, lab = _wald(obj, z), obj.labels
        if labels is not None and lab != labels:
            raise ValueError(
                f"The {name} result has parameters {lab}, the others {labels}: "
                "compare results of the same model."
            )
        labels = lab
        blocks.append((name, vals))
    if not blocks:
        raise ValueError(
            "Nothing to compare: give at least one of mle, map, laplace, nuts."
        )
    rows = [
        (lab, name, *(float(v[j]) for v in vals))
        for j, lab in enumerate(labels)
        for name, vals in blocks
    ]
    notes = [
        (
            "MLE, MAP: estimate with standard error and Wald interval; Laplace, NUTS: "
            "posterior mean, sd and equal-tailed interval of the draws."
        )
    ]
    return Comparison(rows, alpha, notes)
