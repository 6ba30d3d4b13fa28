"""Display: summary text against a golden file, HTML, DataFrame, and pandas absent.

The golden file is ``tests/golden/normal_summary.txt`` (checked by the ``golden``
fixture of ``tests/conftest.py``; ``LIKELIHAX_UPDATE_GOLDEN=1`` rewrites it). The
other result types have theirs in ``test_golden_summaries.py``.
"""

import re
import sys

import jax.scipy.stats as jst
import numpy as np
import pytest

import likelihax as lx

# Lines whose last digits depend on rounding in the last iterations.
VOLATILE = re.compile(r"max\|grad\||EDM:|Cond\. number")


def _fit():
    y = np.array([2.1, 3.4, 1.9, 4.2, 2.8, 3.3, 2.2, 3.9, 2.6, 3.1])

    def normal(p, d):
        return jst.norm.logpdf(d["y"], p["mu"], p["sigma"])

    return lx.fit(
        normal,
        {"mu": 0.0, "sigma": 1.0},
        {"y": y},
        constraints={"sigma": lx.constraints.positive},
    )


def _stable(text):
    return "\n".join(
        re.sub(r"(max\|grad\|:|EDM:|Cond\. number:)\s+\S+", r"\1 *", line)
        if VOLATILE.search(line) else line
        for line in text.splitlines()
    )  # fmt: skip


def test_summary_text_matches_golden(golden):
    text = _stable(_fit().summary().to_text())
    golden("normal_summary.txt", text)


def test_summary_numbers_are_the_closed_forms():
    fit = _fit()
    y = np.array([2.1, 3.4, 1.9, 4.2, 2.8, 3.3, 2.2, 3.9, 2.6, 3.1])
    frame = fit.summary().to_frame()
    assert list(frame.index) == ["mu", "sigma"]
    assert frame.loc["mu", "estimate"] == pytest.approx(y.mean(), rel=1e-12)
    # SEs come from the information at the last evaluated iterate, which the
    # final Newton step moves by <~1e-4 SE: agreement ~1e-8 (see fit, Notes).
    assert frame.loc["sigma", "std.err"] == pytest.approx(
        y.std() / np.sqrt(20), rel=1e-7
    )


def test_summary_html():
    html = _fit()._repr_html_()
    assert "<table>" in html and "sigma" in html and "Log-likelihood" in html


def test_without_pandas(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    fit = _fit()  # fitting never needs pandas
    assert "mu" in fit.summary().to_text()
    with pytest.raises(ImportError, match=r"pip install 'likelihax\[pandas\]'"):
        fit.summary().to_frame()
    with pytest.raises(ImportError, match="Covariance.to_frame needs pandas"):
        fit.cov.to_frame()


def test_batched_summary_needs_indexing():
    ys = np.random.default_rng(0).normal(size=(3, 20))
    fits = lx.fit_many(
        lambda p, d: jst.norm.logpdf(d["y"], p["mu"], 1.0), {"mu": 0.0}, {"y": ys}
    )
    with pytest.raises(ValueError, match=r"index a batched result first: fits\[i\]"):
        fits.summary()
    assert fits[1].params["mu"] == pytest.approx(ys[1].mean(), rel=1e-10)


def test_verbose_prints_each_step(capfd):
    fit = None
    y = np.random.default_rng(0).normal(2.0, 1.0, 50)
    fit = lx.fit(
        lambda p, d: jst.norm.logpdf(d["y"], p["mu"], 1.0), {"mu": 0.0}, {"y": y},
        verbose=True,
    )  # fmt: skip
    out = capfd.readouterr().out
    steps = [line for line in out.splitlines() if line.startswith("likelihax: step")]
    assert len(steps) >= int(fit.iterations) + 1
    assert "loglik" in steps[-1] and "max|grad|" in steps[-1]


def test_header_lines_stay_within_the_frame():
    """A header value too long for its half of the 78 characters gets a line
    of its own instead of pushing its row past the frame."""
    import numpy as np

    import likelihax as lx

    rng = np.random.default_rng(0)
    y = rng.normal(size=50)
    f = lx.fit(lambda p, d: -0.5 * (d["y"] - p["mu"]) ** 2, {"mu": 0.0}, {"y": y})
    f = f.annotate("A model whose name is much longer than twenty-two characters",
                   [("Formula", "y ~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11 + "
                                "x12 + x13 + x14 + x15")], [])  # fmt: skip
    text = str(f.summary())
    header = text.split("=" * 78)[1]
    assert max(len(line) for line in header.splitlines()) <= 78, header
    assert "much longer than twenty-two" in header and "x15" in header


def test_p_values_below_the_smallest_double_are_not_printed_as_zero():
    import jax.scipy.stats as st
    import numpy as np

    import likelihax as lx

    y = np.random.default_rng(0).normal(100.0, 1.0, 500)  # z about 2,200
    f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0), {"mu": 0.0}, {"y": y})
    row = [line for line in str(f.summary()).splitlines() if line.startswith("mu ")][0]
    assert "<1e-300" in row and "0.0000" not in row
