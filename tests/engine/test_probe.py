"""The curvature probe's consequences, checked against independent answers
(issue 18, items 2 and 3): restarts reach the higher maximum that scipy finds,
a variance at its bound is reported with its boundary estimate, and failed
bootstrap replicates can be kept and are marked.
"""

import warnings

import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import pytest
from scipy import optimize

import likelihax as lx


def _bump(p, d):
    x = p["x"]
    return -(x**2) / 2 + 2 * jnp.exp(-((x - 1.0) ** 2) / (2 * 0.2**2))


def _bump_np(x):
    return -(x**2) / 2 + 2 * np.exp(-((x - 1.0) ** 2) / (2 * 0.2**2))


def test_restart_reaches_the_higher_maximum():
    """From x = -0.5 Newton stops at the local maximum near 0; one SE away
    (x near 1) is 1.5 higher: restarted, it ends at the global maximum,
    which scipy finds on a bracket around it."""
    ref = optimize.minimize_scalar(lambda x: -_bump_np(x), bounds=(0.5, 1.5),
                                   method="bounded", options={"xatol": 1e-12})  # fmt: skip
    with pytest.warns(lx.InformationWarning, match="restarted"):
        f = lx.fit(_bump, {"x": -0.5}, None, nobs=1)
    assert f.converged and f.restarts == 1
    assert float(f.params["x"]) == pytest.approx(ref.x, abs=1e-8)
    assert f.loglik == pytest.approx(-ref.fun, rel=1e-12)


def test_restarts_under_vmap_of_many_starts():
    """Multi-start: every start near the local maximum is restarted in the
    batched program and all end at the global maximum."""
    starts = [{"x": -0.5}, {"x": -0.2}, {"x": 1.2}]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lx.InformationWarning)
        f = lx.fit(_bump, {"x": -0.5}, None, nobs=1, starts=starts)
    summary = f.multistart.summary()
    assert summary["converged"] == 3 and summary["at_best"] == 3


def test_variance_at_its_bound():
    """Known sampling variance 4 exceeds the spread of y: the MLE of tau^2 is 0
    (closed form: the sample variance about the mean is below 4), mu is then
    the sample mean; the fit says at_boundary, with tau^2 near 0."""
    y = np.random.default_rng(1).normal(0, 1.0, 40)
    assert np.var(y) < 4.0

    def meta(p, d):
        return st.norm.logpdf(d["y"], p["mu"], jnp.sqrt(p["tau2"] + 4.0))

    with pytest.warns(lx.InformationWarning, match="bound of a constrained"):
        f = lx.fit(meta, {"mu": 0.0, "tau2": 1.0}, {"y": y},
                   constraints={"tau2": lx.constraints.positive})  # fmt: skip
    assert f.status == lx.Status.at_boundary and not f.converged
    assert float(f.params["tau2"]) < 1e-6
    assert float(f.params["mu"]) == pytest.approx(y.mean(), abs=1e-6)


def _logit(p, d):
    eta = p["a"] + p["b"] * d["x"]
    return d["y"] * eta - jnp.logaddexp(0.0, eta)


def test_bootstrap_keeps_failed_replicates_on_request():
    rng = np.random.default_rng(3)
    x = rng.normal(size=15)
    y = (x + rng.normal(size=15) * 0.6 > 0).astype(float)
    f = lx.fit(_logit, {"a": 0.0, "b": 0.0}, {"x": x, "y": y})
    with pytest.warns(lx.ConvergenceWarning, match="left out"):
        drop = lx.bootstrap(f, 100, seed=1)
    with pytest.warns(lx.ConvergenceWarning, match="kept"):
        keep = lx.bootstrap(f, 100, seed=1, failed="keep")
    assert keep.replicates.shape == (100, 2)
    bad = keep.status != lx.Status.success.value
    assert bad.sum() == drop.n_failed == keep.n_failed > 0
    assert np.all(keep.status[bad] == lx.Status.unbounded.value)
    np.testing.assert_array_equal(keep.replicates[~bad], drop.replicates)
    # a separated resample runs off: its slope is far beyond the others
    assert np.min(np.abs(keep.replicates[bad, 1])) > np.max(np.abs(drop.replicates[:, 1]))
    with pytest.raises(ValueError, match="failed must be"):
        lx.bootstrap(f, 10, failed="ignore")


@pytest.mark.parametrize(
    "constraint, shape",
    [(lx.constraints.real, (2,)), (lx.constraints.positive, ()),
     (lx.constraints.greater_than(-1.0), (3,)), (lx.constraints.less_than(2.0), ()),
     (lx.constraints.interval(0.0, 2.0), (2,)), (lx.constraints.unit_interval, ()),
     (lx.constraints.ordered, (4,)), (lx.constraints.simplex, (3,)),
     (lx.constraints.cov_matrix, (3, 3)), (lx.constraints.corr_matrix, (3, 3))],
)  # fmt: skip
def test_static_toward_bound_tables_agree_with_forward(constraint, shape):
    """The built-in constraints state which way leads to a bound; the generic
    rule, computed from ``forward`` (what a user-defined constraint gets), agrees."""
    from likelihax.parameters.constraints import _toward_bound

    stated = constraint.toward_bound(shape)
    k = constraint.free_size(shape)
    if constraint.elementwise:
        found = tuple(np.repeat(a, k) for a in _toward_bound(constraint, ()))
    else:
        found = _toward_bound(constraint, shape)
    for a, b in zip(stated, found):
        np.testing.assert_array_equal(a, b)
