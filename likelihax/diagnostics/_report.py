"""The checklist's record and its renderers (compute first, format second)."""

from __future__ import annotations

import dataclasses
import html
import textwrap
from typing import Any, Literal

from ..results import TextReport, pandas_for

__all__ = ["VERDICTS", "CheckItem", "ChecklistReport"]

Verdict = Literal["ok", "warn", "fail", "skip"]
VERDICTS = ("ok", "warn", "fail", "skip")
_RANK = {"skip": 0, "ok": 1, "warn": 2, "fail": 3}
_COLOR = {"ok": "#1a7f37", "warn": "#9a6700", "fail": "#cf222e", "skip": "#6e7781"}


@dataclasses.dataclass(frozen=True)
class CheckItem:
    """One item of the checklist.

    Attributes
    ----------
    name : str
        Short name (``"convergence"``, ``"information"``, ...).
    verdict : {"ok", "warn", "fail", "skip"}
        ``"skip"``: the fit cannot support the check (``evidence`` says why).
    evidence : str
        What was measured, in one or two sentences with the numbers.
    advice : str
        What to do about it (empty when nothing needs doing).
    values : dict
        The numbers behind the verdict, for programs (e.g. ``"cond"``,
        ``"pvalue"``, ``"weak"``).
    """

    name: str
    verdict: Verdict
    evidence: str
    advice: str = ""
    values: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(
                f"verdict must be one of {VERDICTS}; got {self.verdict!r}."
            )


@dataclasses.dataclass(frozen=True, repr=False)
class ChecklistReport(TextReport):
    """Verdicts and advice of :func:`~likelihax.checklist`, item by item.

    Print it (text) or show it in Jupyter (HTML). ``report["convergence"]``
    gives one :class:`CheckItem`.

    Attributes
    ----------
    items : tuple of CheckItem
    model : str
        What was checked (name, parameters, observations).
    """

    items: tuple
    model: str = ""

    @property
    def verdict(self) -> str:
        """The worst verdict of the items that ran (``"skip"`` if none ran)."""
        return max((it.verdict for it in self.items), key=_RANK.__getitem__,
                   default="skip")  # fmt: skip

    @property
    def verdicts(self) -> dict:
        """Item name -> verdict."""
        return {it.name: it.verdict for it in self.items}

    def __getitem__(self, name: str) -> CheckItem:
        for it in self.items:
            if it.name == name:
                return it
        raise KeyError(
            f"No checklist item {name!r}; items are {[it.name for it in self.items]}."
        )

    def __iter__(self):
        return iter(self.items)

    def to_text(self, width: int = 88) -> str:
        """Plain text: one block per item, verdict first."""
        counts = {v: sum(it.verdict == v for it in self.items) for v in VERDICTS}
        head = f"Applied-work checklist: {self.verdict.upper()}"
        lines = [head, "=" * width]
        if self.model:
            lines.append(textwrap.fill(self.model, width, subsequent_indent="  "))
        lines.append(", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v]) + ".")
        lines.append("-" * width)
        for it in self.items:
            tag = f"[{it.verdict.upper():>4}] {it.name}: "
            lines.append(
                textwrap.fill(tag + it.evidence, width, subsequent_indent=" " * 7)
            )
            if it.advice:
                lines.append(
                    textwrap.fill(
                        "-> " + it.advice,
                        width,
                        initial_indent=" " * 7,
                        subsequent_indent=" " * 10,
                    )
                )
        lines.append("=" * width)
        return "\n".join(lines)

    def to_html(self) -> str:
        """An HTML table: item, verdict (coloured), evidence, advice."""
        e = html.escape

        def badge(v):
            return (
                f"<span style='color:white;background:{_COLOR[v]};padding:1px 6px;"
                f"border-radius:3px;font-weight:bold'>{v.upper()}</span>"
            )

        rows = "".join(
            f"<tr><th style='text-align:left;vertical-align:top'>{e(it.name)}</th>"
            f"<td style='vertical-align:top'>{badge(it.verdict)}</td>"
            f"<td style='text-align:left'>{e(it.evidence)}</td>"
            f"<td style='text-align:left'>{e(it.advice)}</td></tr>"
            for it in self.items
        )
        return (
            "<div class='likelihax-checklist'>"
            f"<h4>Applied-work checklist: {badge(self.verdict)}</h4>"
            + (f"<p>{e(self.model)}</p>" if self.model else "")
            + "<table><thead><tr><th>item</th><th>verdict</th><th>evidence</th>"
            f"<th>advice</th></tr></thead><tbody>{rows}</tbody></table></div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_frame(self) -> Any:
        """The items as a pandas DataFrame (needs pandas)."""
        pd = pandas_for("ChecklistReport.to_frame")
        return pd.DataFrame(
            [(it.verdict, it.evidence, it.advice) for it in self.items],
            index=[it.name for it in self.items],
            columns=["verdict", "evidence", "advice"],
        )
