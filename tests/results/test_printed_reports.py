"""What the user's process prints: status names, one p-value format, framed text.

* ``print(fit.status)`` shows the status name (not ``Status.success`` or 0);
* every printed p-value (summary column, Wald/LR/score test lines, the
  information-matrix test and its checklist item, the delta-method,
  mixed-model and GAM tables) uses one format,
  :func:`likelihax.core.format_pvalue`, the rule of the summary's column;
* text reports fit their frame: no line of the fit summary (whose frame widens
  for long labels), the checklist or the posterior comparison is wider than
  its ``=``/``-`` rules, and the mixed-model summary's free text is wrapped to
  80 columns.
"""

from __future__ import annotations

import math
import re

import jax.numpy as jnp
import jax.scipy.stats as jst
import numpy as np
import pandas as pd
import pytest

import likelihax as lx
from likelihax.bayes._compare import Comparison
from likelihax.core import format_pvalue
from likelihax.diagnostics import CheckItem, ChecklistReport
from likelihax.results._summary import _cell


def _normal(p, d):
    return jst.norm.logpdf(d["y"], p["mu"], p["sigma"])


@pytest.fixture(scope="module")
def normal_fit(make_rng):
    y = make_rng(11).normal(0.3, 1.2, size=80)
    return lx.fit(_normal, {"mu": 0.0, "sigma": 1.0}, {"y": y},
                  constraints={"sigma": lx.constraints.positive})  # fmt: skip


# ----- status -------------------------------------------------------------------
def test_print_status_shows_its_name(normal_fit, capsys):
    print(normal_fit.status)
    assert capsys.readouterr().out == "success\n"
    for s in lx.Status:
        assert str(s) == f"{s}" == s.name


# ----- p-values -----------------------------------------------------------------
@pytest.mark.parametrize(
    "p", [1.0, 0.5, 0.04999, 0.0012, 0.001, 0.000999, 3.2e-7, 1e-300, 0.0, math.nan]
)
def test_pvalue_format_is_the_summary_column_rule(p):
    assert format_pvalue(p) == _cell("P>|z|", p).strip()


def test_format_pvalue_cases():
    assert format_pvalue(0.5) == "0.5000"
    assert format_pvalue(0.0012) == "0.0012"
    assert format_pvalue(3.2e-7) == "3.200e-07"
    assert format_pvalue(0.0) == "<1e-300"
    assert format_pvalue(math.nan) == format_pvalue(None) == "nan"


def _shown_pvalue(text: str) -> str:
    return re.search(r"p-value = (\S+)", text).group(1)


def test_test_lines_use_the_pvalue_format(normal_fit):
    fit = normal_fit
    far = lx.wald_test(fit, "mu = 100")  # p underflows to 0
    near = lx.wald_test(fit, "mu = 0.3")
    for t in (far, near):
        assert _shown_pvalue(repr(t)) == format_pvalue(t.pvalue)
    assert _shown_pvalue(repr(far)) == "<1e-300"
    im = lx.im_test(fit)
    assert _shown_pvalue(im.to_text()) == format_pvalue(im.pvalue)
    assert f"p-value = {format_pvalue(im.pvalue)} " in im._repr_html_()


def test_mixed_summary_uses_the_pvalue_format_and_wraps(make_rng):
    rng = make_rng(12)
    g = np.repeat(np.arange(12), 6)
    x = rng.normal(size=g.size)
    y = 1.0 + 3.0 * x + rng.normal(size=12)[g] + rng.normal(0, 0.5, g.size)
    m = lx.mixed("y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": g}))
    text = m.summary().to_text()
    rows = {ln.split()[0]: ln.split()[-1] for ln in text.splitlines()
            if ln.startswith(("(Intercept)", "x "))}  # fmt: skip
    se = m.se
    for name in ("(Intercept)", "x"):
        z = m.fixef[name] / se[name]
        assert rows[name] == format_pvalue(math.erfc(abs(z) / math.sqrt(2.0)))
    free_text = [ln for ln in text.splitlines() if ln.startswith(("Note:", "Status:"))]
    assert free_text and all(len(ln) <= 80 for ln in text.splitlines())


# ----- frames -------------------------------------------------------------------
def _frame_width(text: str) -> int:
    rules = [ln for ln in text.splitlines() if ln and set(ln) <= {"=", "-"}]
    assert rules, "no frame found"
    return max(len(ln) for ln in rules)


def test_checklist_text_fits_its_frame():
    long = "CustomModel (" + ", ".join(f"parameter_{i}" for i in range(20)) + ")"
    report = ChecklistReport(
        items=(CheckItem("convergence", "ok", "status success " * 20, "try " * 30),),
        model=long,
    )
    text = report.to_text()
    width = _frame_width(text)
    assert all(len(ln) <= width for ln in text.splitlines())
    assert "parameter_19" in text


def test_posterior_comparison_fits_its_frame():
    comp = Comparison(
        rows=[("mu", "MLE", 0.1, 0.2, -0.3, 0.5), ("mu", "NUTS", 0.1, 0.2, -0.3, 0.5)],
        alpha=0.05,
        notes=["MLE, MAP: estimate with standard error and Wald interval; Laplace, "
               "NUTS: posterior mean, sd and equal-tailed interval of the draws."],
    )  # fmt: skip
    text = comp.to_text()
    width = _frame_width(text)
    assert all(len(ln) <= width for ln in text.splitlines())
    assert "equal-tailed" in text


def test_delta_method_table_uses_the_pvalue_format(normal_fit):
    r = lx.delta_method(normal_fit, lambda p: jnp.stack([p["sigma"], p["mu"] - 50.0]),
                        names=["sigma", "far"])  # fmt: skip
    text = r.summary()
    rows = [ln.split() for ln in text.splitlines()[2:]]
    assert [row[4] for row in rows] == [format_pvalue(p) for p in r.pvalues]
    assert rows[1][4] == "<1e-300"


def test_fit_summary_with_long_labels_fits_its_frame(make_rng):
    long = "a_parameter_name_long_enough_to_widen_the_coefficient_table"
    rng = make_rng(13)
    x = rng.normal(size=60)
    y = 1.0 + 0.5 * x + rng.normal(size=60)

    def model(p, d):
        return jst.norm.logpdf(d["y"], p[long] + p["slope"] * d["x"], 1.0)

    fit = lx.fit(model, {long: 0.0, "slope": 0.0}, {"x": x, "y": y})
    text = fit.summary().to_text()
    width = _frame_width(text)
    assert width > 78 and long in text
    assert all(len(ln) <= width for ln in text.splitlines())
    rules = [ln for ln in text.splitlines() if ln and set(ln) <= {"=", "-"}]
    assert all(len(ln) == width for ln in rules)


def test_fit_summary_frame_is_78_wide_for_short_labels(normal_fit):
    text = normal_fit.summary().to_text()
    assert _frame_width(text) == 78
    assert all(len(ln) <= 78 for ln in text.splitlines())


def test_checklist_im_item_uses_the_pvalue_format(normal_fit):
    item = lx.checklist(normal_fit)["misspecification (IM test)"]
    shown = re.search(r"p = (\S+?)\. ", item.evidence).group(1)
    assert shown == format_pvalue(item.values["pvalue"])
