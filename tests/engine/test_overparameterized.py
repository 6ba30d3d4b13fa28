"""Over-parameterised models: the information's rank deficiency is reported.

A ReLU unit ``a + c * relu(w * x)`` identifies only the product ``c * w``
(``(c, w) -> (c / t, w * t)`` leaves the likelihood unchanged), as a neural
network's hidden units do: the fit reaches the maximum of the identified
model (checked against the fit of ``a + beta * relu(x)``), says that the
information has rank 2 of 3, and gives no standard errors. A prior
(``lx.fit_map``) restores a positive definite curvature. The eigenvalue
counts behind the message follow Sylvester's law of inertia (the scaling does
not change the signs), checked on matrices built with known eigenvalues.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import likelihax as lx
from likelihax.results import eigen_counts, rank_text

rng = np.random.default_rng(1)
x = rng.normal(size=2000)
y = (rng.uniform(size=2000) < 1 / (1 + np.exp(-(-0.5 + 1.5 * np.maximum(x, 0))))).astype(float)
DATA = {"x": x, "y": y}


def _bernoulli(eta, y):
    return y * eta - jnp.logaddexp(0.0, eta)


def relu_unit(p, d):
    return _bernoulli(p["a"] + p["c"] * jax.nn.relu(p["w"] * d["x"]), d["y"])


def identified(p, d):
    return _bernoulli(p["a"] + p["beta"] * jax.nn.relu(d["x"]), d["y"])


@pytest.mark.parametrize("eigs, counts", [([2.0, 1.0, 0.0], (2, 1, 0)),
                                          ([3.0, -1.0, 0.0, 0.0], (1, 2, 1)),
                                          ([1.0, 0.5, 0.25], (3, 0, 0))])  # fmt: skip
def test_eigen_counts_are_the_inertia(eigs, counts):
    q, _ = np.linalg.qr(np.random.default_rng(len(eigs)).normal(size=(len(eigs),) * 2))
    H = q @ np.diag(eigs) @ q.T
    assert eigen_counts(H) == counts
    assert np.linalg.matrix_rank(H) == counts[0] + counts[2]
    assert (rank_text(H) == "") == (counts[1] == counts[2] == 0)


def test_a_relu_unit_reports_rank_2_of_3_and_no_standard_errors():
    ref = lx.fit(identified, {"a": 0.0, "beta": 1.0}, DATA)
    with pytest.warns(lx.InformationWarning, match="rank 2 of 3"):
        f = lx.fit(relu_unit, {"a": 0.0, "c": 1.0, "w": 1.0}, DATA)
    assert f.status == lx.Status.information_singular and not f.converged
    # the maximum of the identified model: a and the product c * w
    assert float(f.loglik) == pytest.approx(float(ref.loglik), rel=1e-12)
    assert float(f.params["c"] * f.params["w"]) == pytest.approx(float(ref.params["beta"]),
                                                                 rel=1e-8)  # fmt: skip
    assert np.all(np.isnan(np.asarray(f.se_flat)))
    text = f.summary().to_text()
    assert "rank 2 of 3 (1 zero eigenvalue)" in text
    # asking for curvature anyway: a Normal prior (an L2 penalty) makes it positive definite
    m = lx.fit_map(relu_unit, {"a": 0.0, "c": 1.0, "w": 1.0}, DATA,
                   priors={"c": lx.priors.Normal(0.0, 1.0), "w": lx.priors.Normal(0.0, 1.0)})  # fmt: skip
    assert m.converged and np.all(np.isfinite(np.asarray(m.se_flat)))
    assert float(m.params["c"]) == pytest.approx(float(m.params["w"]), rel=1e-6)


def test_a_point_that_is_not_a_maximum_says_so():
    # at a start near zero the information of the ReLU unit is not positive
    # definite; the summary and the warning say so
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = lx.fit(relu_unit, {"a": 0.0, "c": 0.1, "w": 0.1}, DATA, max_steps=0)
    counts = eigen_counts(f.information)
    assert f.status == lx.Status.max_steps and counts[2] > 0
    text = f.summary().to_text()
    assert f"{counts[2]} {'is' if counts[2] == 1 else 'are'} negative" in text
    assert "not a maximum" in " ".join(text.split())
    assert any("not a maximum" in str(m.message) for m in w)


def test_fit_stochastic_says_when_newton_did_not_converge():
    res = lx.fit_stochastic(identified, {"a": 0.0, "beta": 0.0}, DATA, steps=20,
                            log_every=20, max_steps=1, warn=False)  # fmt: skip
    assert res.status == lx.Status.max_steps
    text = " ".join(res.summary().to_text().split())
    assert "which did not converge" in text and "exact MLE" not in text


def test_large_informations_are_not_decomposed_for_the_message():
    H = -np.eye(2001)
    assert "not counted for more than 2000 parameters" in rank_text(H)
    assert eigen_counts(H) == (0, 0, 2001)  # on request it counts them
