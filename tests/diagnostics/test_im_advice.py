"""The checklist's advice when the information-matrix equality fails depends on the model."""

from __future__ import annotations

import numpy as np

import likelihax as lx

rng = np.random.default_rng(7)
x = rng.normal(size=2000)
X = np.column_stack([np.ones(2000), x])
IM = "misspecification (IM test)"


def _im(result):
    return lx.checklist(result)[IM]


def test_an_overdispersed_poisson_fit_is_pointed_to_the_negative_binomial():
    counts = rng.poisson(rng.gamma(2.0, np.exp(0.5 + 0.4 * x) / 2.0))
    item = _im(lx.glm(counts, X, family="poisson", columns=["const", "x"]))
    assert item.verdict == "warn" and "instead of Poisson" in item.advice


def test_a_heavy_tailed_normal_fit_is_not_told_about_counts():
    y = 1.0 + 0.5 * x + rng.standard_t(2.5, size=2000) * np.exp(0.5 * x)
    item = _im(lx.glm(y, X, family="gaussian", columns=["const", "x"]))
    assert item.verdict == "warn"
    assert "Student-t" in item.advice and "Poisson" not in item.advice


def test_a_negative_binomial_fit_is_not_told_to_use_one():
    # a dispersion that depends on x: NB2 with one dispersion is misspecified
    shape = np.where(x > 0, 8.0, 0.4)
    counts = rng.poisson(rng.gamma(shape, np.exp(1.0 + 0.4 * x) / shape))
    item = _im(lx.glm(counts, X, family="negative.binomial", columns=["const", "x"]))
    assert item.verdict == "warn", item.evidence
    assert "instead of Poisson" not in item.advice and "dispformula" in item.advice
