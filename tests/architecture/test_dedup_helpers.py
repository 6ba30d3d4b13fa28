"""The helpers that give shared logic one home: the text-report base, the
mixtures' empty-component messages, the plots' shared docstring sections and
the location-scale priors."""

from __future__ import annotations

import dataclasses

import jax.scipy.stats as jst
import numpy as np
import pytest

import likelihax as lx
from likelihax.results import TextReport


def test_text_report_gives_str_and_repr_of_dataclass_reports():
    @dataclasses.dataclass(frozen=True, repr=False)
    class Report(TextReport):
        value: float

        def to_text(self):
            return f"value {self.value:g}"

    r = Report(2.5)
    assert repr(r) == str(r) == "value 2.5"
    assert r == Report(2.5) and hash(r) == hash(Report(2.5))


def test_reports_print_as_their_text():
    y = np.array([0.3, 1.2, 2.5, 0.9, 1.6, -0.4, 1.1])
    f = lx.fit(lambda p, d: jst.norm.logpdf(d["y"], p["mu"], p["sigma"]),
               {"mu": 0.0, "sigma": 1.0}, {"y": y},
               constraints={"sigma": lx.constraints.positive})  # fmt: skip
    reports = [f.summary(), lx.im_test(f), lx.inference.ic_table(f, f)]
    for r in reports:
        assert isinstance(r, TextReport)
        assert repr(r) == str(r) == r.to_text()
    assert lx.im_test(f)._repr_html_().startswith("<div class='likelihax-imtest'>")


def test_empty_components_names_each_empty_one():
    from likelihax.models.mixtures._finite import empty_components

    p = {"weights": np.array([0.6, 0.0, 0.4, 1e-9])}
    empty, msgs = empty_components(p)
    assert empty == {1, 3}
    assert msgs == [
        "component 1 is empty (weight 0; parameter 'weights[1]')",
        "component 3 is empty (weight 1e-09; parameter 'weights[3]')",
    ]
    assert empty_components({"weights": np.array([1.0])}) == (set(), [])
    assert empty_components(p, "class")[1][0].startswith("class 1 is empty")


def test_plot_docstrings_have_their_shared_sections_filled():
    from likelihax.plots import _draw

    for name in _draw.__all__:
        doc = getattr(_draw, name).__doc__
        assert "{ax}" not in doc and "{returns_axes}" not in doc
        assert 'matplotlib.use("Agg")' in doc


@pytest.mark.parametrize(
    "prior, logpdf",
    [
        (lx.priors.Normal(0.5, 2.0), lambda x: jst.norm.logpdf(x, 0.5, 2.0)),
        (lx.priors.Cauchy(-1.0, 0.5), lambda x: jst.cauchy.logpdf(x, -1.0, 0.5)),
        (lx.priors.HalfNormal(2.0),
         lambda x: np.log(2.0) + jst.norm.logpdf(x, 0.0, 2.0)),
        (lx.priors.HalfCauchy(0.5),
         lambda x: np.log(2.0) + jst.cauchy.logpdf(x, 0.0, 0.5)),
    ],
)  # fmt: skip
def test_location_scale_priors(prior, logpdf):
    x = np.array([0.3, 1.0, 4.0])
    np.testing.assert_allclose(prior.log_prob(x), logpdf(x), rtol=1e-6)
    if prior.support is lx.constraints.positive:
        assert float(prior.log_prob(-1.0)) == -np.inf
    assert lx.priors.Normal(0.0, 1.0) != lx.priors.Cauchy(0.0, 1.0)
    assert repr(prior).startswith(type(prior).__name__ + "(")
