"""Matrix-free fits: the covariance of requested parameters by CG equals the dense one.

The dense fit (itself tested against statsmodels, R and closed forms) is the
reference where both run; the errors name the option; a separated fit is
not reported as a success.
"""

from __future__ import annotations

import os
import tempfile

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import likelihax as lx


def _normal_reg(p, d):
    r = (d["y"] - p["a"] - d["X"] @ p["b"]) / p["sigma"]
    return -0.5 * r**2 - jnp.log(p["sigma"])


def _logistic(p, d):
    eta = p["a"] + d["X"] @ p["b"]
    return d["y"] * eta - jnp.logaddexp(0.0, eta)


@pytest.fixture(scope="module")
def reg():
    rng = np.random.default_rng(0)
    n, k = 1500, 60
    X = rng.normal(size=(n, k)) * np.exp(np.linspace(-1, 1, k))
    # heavy-tailed, heteroskedastic errors: sandwich and OIM differ
    e = rng.standard_t(5, size=n) * (1 + np.abs(X[:, 0]) / 3)
    y = 1.0 + X @ rng.uniform(-0.2, 0.2, k) + e
    start = {"a": 0.0, "b": np.zeros(k), "sigma": 1.0}
    return {"X": X, "y": y}, start, {"sigma": lx.constraints.positive}


@pytest.mark.parametrize("cov", ["oim", "sandwich", "hc1", "opg"])
def test_matrix_free_covariance_equals_the_dense_one(reg, cov):
    data, start, cons = reg
    kw = dict(constraints=cons, method="newton-cg", cov=cov)
    dense = lx.fit(_normal_reg, start, data, **kw)
    mf = lx.fit(_normal_reg, start, data, matrix_free=True, cov_params=["a", "b", "sigma"], **kw)
    assert mf.information is None and mf.cov_flat is None and str(mf.status) == "success"
    assert mf.loglik == pytest.approx(dense.loglik, rel=1e-12)
    np.testing.assert_allclose(mf.se_flat, dense.se_flat, rtol=1e-6)
    # every entry, on the scale of the SEs (correlations to 1e-8)
    C, D = np.asarray(mf.cov), np.asarray(dense.cov)
    s = np.sqrt(np.diag(D))
    np.testing.assert_allclose(C / np.outer(s, s), D / np.outer(s, s), atol=1e-8)
    assert float(mf.cov_partial.residual) <= 1e-10
    # the constrained scale by the delta method, as the dense fit
    assert float(mf.se["sigma"]) == pytest.approx(float(dense.se["sigma"]), rel=1e-6)


def test_importance_weights_and_lbfgs(reg):
    data, start, cons = reg
    w = np.random.default_rng(1).uniform(0.2, 3.0, size=data["y"].shape[0])
    kw = dict(constraints=cons, weights=w, weight_type="importance", method="lbfgs")
    dense = lx.fit(_normal_reg, start, data, **kw)
    mf = lx.fit(_normal_reg, start, data, matrix_free=True, cov_params=["b"], **kw)
    assert mf.cov_kind == "sandwich" and mf.converged
    np.testing.assert_allclose(np.asarray(mf.se["b"]), np.asarray(dense.se["b"]), rtol=1e-5)
    assert np.isnan(float(mf.se["a"])) and np.isnan(float(mf.se["sigma"]))


def test_default_requests_scalars_and_small_arrays(reg):
    data, start, cons = reg
    big = {"a": 0.0, "b": np.zeros(60), "sigma": 1.0}
    mf = lx.fit(_normal_reg, big, data, constraints=cons, method="newton-cg", matrix_free=True)
    dense = lx.fit(_normal_reg, big, data, constraints=cons)
    # b has 60 elements (at most 100): reported; all match the dense fit
    np.testing.assert_allclose(mf.se_flat, dense.se_flat, rtol=1e-6)
    few = {"a": 0.0, "b": np.zeros(60), "sigma": 1.0}
    from likelihax.engine import _matrix_free

    free, natural = _matrix_free.cov_indices(
        lx.fit(_normal_reg, few, data, constraints=cons).spec, None
    )
    assert len(free) == len(natural) == 62
    old = _matrix_free.SMALL_ARRAY
    try:
        _matrix_free.SMALL_ARRAY = 10
        mf = lx.fit(_normal_reg, few, data, constraints=cons, method="newton-cg",
                    matrix_free=True)  # fmt: skip
    finally:
        _matrix_free.SMALL_ARRAY = old
    assert np.all(np.isnan(np.asarray(mf.se["b"])))
    assert float(mf.se["a"]) == pytest.approx(float(dense.se["a"]), rel=1e-6)
    assert mf.cov.labels == ["a", "sigma"]


def test_the_default_is_matrix_free_beyond_the_threshold(reg, monkeypatch):
    from likelihax.engine import _options

    data, start, cons = reg
    monkeypatch.setattr(_options, "NEWTON_CG_ABOVE", 50)
    auto = lx.fit(_normal_reg, start, data, constraints=cons)
    assert auto.method == "newton-cg" and auto.information is None and auto.converged
    dense = lx.fit(_normal_reg, start, data, constraints=cons, method="newton",
                   matrix_free=False)  # fmt: skip
    assert dense.information is not None
    np.testing.assert_allclose(auto.se_flat, dense.se_flat, rtol=1e-6)


def test_errors_name_the_option(reg):
    data, start, cons = reg
    with pytest.raises(ValueError, match="method='newton'"):
        lx.fit(_normal_reg, start, data, constraints=cons, matrix_free=True, method="newton")
    with pytest.raises(ValueError, match="cov='hac' needs the k x k"):
        lx.fit(_normal_reg, start, data, constraints=cons, matrix_free=True,
               method="newton-cg", cov="hac")  # fmt: skip
    with pytest.raises(ValueError, match="cov_params names \\['beta'\\]"):
        lx.fit(_normal_reg, start, data, constraints=cons, matrix_free=True,
               method="newton-cg", cov_params=["beta"])  # fmt: skip
    with pytest.raises(ValueError, match="cov_params chooses"):
        lx.fit(_normal_reg, start, data, constraints=cons, cov_params=["b"])
    with pytest.raises(TypeError, match="matrix_free must be"):
        lx.fit(_normal_reg, start, data, constraints=cons, matrix_free="yes")
    mf = lx.fit(_normal_reg, start, data, constraints=cons, method="newton-cg",
                matrix_free=True)  # fmt: skip
    with pytest.raises(ValueError, match="The delta method needs the covariance of every"):
        lx.delta_method(mf, lambda p: p["a"] + p["sigma"])
    with pytest.raises(ValueError, match="matrix-free"):
        lx.save_result(mf, os.path.join(tempfile.mkdtemp(), "mf"))
    assert "matrix-free" in mf.weak_directions()[0]


def test_separation_is_not_a_success():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 70))
    y = (X[:, 0] > 0).astype(float)
    with pytest.warns(lx.InformationWarning):
        f = lx.fit(_logistic, {"a": 0.0, "b": np.zeros(70)}, {"X": X, "y": y},
                   method="newton-cg", matrix_free=True)  # fmt: skip
    assert not f.converged and str(f.status) != "success"


def test_small_coordinates_are_the_scalars_and_short_vectors():
    """``Problem.small_coordinates``: the unconstrained indices of the small
    free parameters, whatever their place in the vector; fixed ones skipped."""
    from likelihax.objective import Problem
    from likelihax.parameters import build_spec

    start = {"a": 0.0, "b": np.zeros(50), "c": np.zeros(3), "d": 1.0, "e": 2.0}
    spec, _ = build_spec(start, {"e": lx.constraints.fixed})
    problem = Problem(loglik=None, spec=spec, fixed_leaves=None, data=None)
    # unconstrained layout in the spec's order, the fixed "e" taking no place
    order = list(spec.names)
    sizes = [0 if spec.is_fixed(i) else spec.free_sizes[i] for i in range(len(order))]
    starts = np.cumsum([0] + sizes)
    where = {n: list(range(starts[i], starts[i + 1])) for i, n in enumerate(order)}
    assert where["e"] == []
    assert problem.small_coordinates() == tuple(sorted(where["a"] + where["c"] + where["d"]))
    # the limit counts coordinates: the smallest parameters first
    assert problem.small_coordinates(2) == tuple(sorted(where["a"] + where["d"]))


def test_intercept_beside_a_sparse_design_is_taken_out_of_the_diagonal_estimate():
    """Hutchinson's estimate of the information's diagonal for a sparse
    logistic regression with an intercept, against the exact diagonal
    X'DX + penalty computed with numpy: the intercept's coupling to every
    coefficient swamps the plain estimate; with its column taken exactly
    the estimate is several times closer, and the CG solve for the
    intercept's variance needs far fewer products."""
    with jax.enable_x64(True):
        _intercept_beside_a_sparse_design()


def _intercept_beside_a_sparse_design():
    from likelihax.optimize import cg_direction, hutchinson_diagonal

    rng = np.random.default_rng(1)
    n, p, per = 6000, 3000, 10
    cols = rng.integers(0, p, size=(n, per))
    vals = np.full((n, per), 1.0 / np.sqrt(per))
    X = np.zeros((n, p))
    np.add.at(X, (np.repeat(np.arange(n), per), cols.ravel()), vals.ravel())
    X1 = np.column_stack([np.ones(n), X])  # the intercept first
    mu = 1.0 / (1.0 + np.exp(-(0.3 + X @ rng.normal(size=p) * 0.5)))
    H = (X1 * (mu * (1 - mu))[:, None]).T @ X1 + np.diag(np.r_[0.0, np.ones(p)])
    Hj = jnp.asarray(H)
    hvp = lambda v: Hj @ v  # noqa: E731
    exact = np.diag(H)
    plain = np.asarray(hutchinson_diagonal(hvp, p + 1, jnp.float64))
    taken = np.asarray(hutchinson_diagonal(hvp, p + 1, jnp.float64, exact=(0,)))
    err_plain = np.median(np.abs(plain - exact)[1:] / exact[1:])
    err_taken = np.median(np.abs(taken - exact)[1:] / exact[1:])
    assert taken[0] == pytest.approx(exact[0], rel=1e-12)
    assert err_taken < err_plain / 3
    e = jnp.zeros(p + 1).at[0].set(1.0)
    var = np.linalg.solve(H, np.eye(p + 1)[:, 0])[0]
    iters = {}
    for name, dg in (("plain", plain), ("taken", taken)):
        d, it = cg_direction(hvp, -e, 2000, 1e-10, jnp.asarray(1.0 / dg))
        assert float(d[0]) == pytest.approx(var, rel=1e-8)
        iters[name] = int(it)
    assert iters["taken"] < iters["plain"] / 2
