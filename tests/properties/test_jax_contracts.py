"""JAX-level contracts: precision scope, vmap, compilation cache, pytrees, solvers.

References are independent of the feature under test: a batched fit is compared
with separate fits, a chunked fit with an unchunked one, first-order solvers and
float32 with the float64 Newton optimum, and the multi-start optimum of a
bimodal likelihood with a grid search done in SciPy.
"""

from __future__ import annotations

import logging

import jax
import jax.numpy as jnp
import jax.scipy.stats as jst
import numpy as np
import optax
import pytest
from scipy import optimize, special, stats

import likelihax as lx


def logistic_loglik(params, data):
    eta = data["X"] @ params["beta"]
    return data["y"] * eta - jnp.logaddexp(0.0, eta)


N, K, B = 1000, 4, 5
BETA0 = {"beta": np.zeros(K)}


@pytest.fixture(scope="module")
def logistic_sets(make_rng):
    """B logistic data sets of N rows (intercept + 3 covariates), stacked."""
    rng = make_rng(100)
    X = np.concatenate([np.ones((B, N, 1)), rng.normal(size=(B, N, K - 1))], axis=-1)
    beta = np.array([-0.4, 0.8, -1.2, 0.5])
    y = (rng.random((B, N)) < 1.0 / (1.0 + np.exp(-X @ beta))).astype(float)
    return {"X": X, "y": y}


def _one(sets, b):
    return {k: v[b] for k, v in sets.items()}


@pytest.fixture(scope="module")
def loop_fits(logistic_sets):
    """Separate float64 Newton fits, unchunked: the reference for several tests."""
    return [
        lx.fit(logistic_loglik, BETA0, _one(logistic_sets, b), chunk_size=False)
        for b in range(B)
    ]


# --------------------------------------------------------------------------------------
# precision scope
# --------------------------------------------------------------------------------------


def test_x64_stays_off_and_results_are_float64(logistic_sets):
    # Run with x64 explicitly off, whatever other test modules may have set.
    with jax.enable_x64(False):
        assert not jax.config.jax_enable_x64
        fit = lx.fit(logistic_loglik, BETA0, _one(logistic_sets, 0))
        assert not jax.config.jax_enable_x64, "fit() turned x64 on globally"
        assert jnp.asarray(1.0).dtype == jnp.float32  # user's default is untouched
        assert fit.converged
        for name, a in [
            ("params", fit.params["beta"]), ("se", fit.se["beta"]),
            ("cov", fit.cov.matrix), ("loglik", fit.loglik),
            ("params_unconstrained", fit.params_unconstrained),
        ]:  # fmt: skip
            assert isinstance(a, np.ndarray), name
            assert a.dtype == np.float64, (name, a.dtype)
        assert fit.dtype == "float64"
        # float64 accuracy although JAX's default is float32: the score is ~0
        X, y = _one(logistic_sets, 0)["X"], _one(logistic_sets, 0)["y"]
        p = 1.0 / (1.0 + np.exp(-X @ fit.params["beta"]))
        assert np.max(np.abs(X.T @ (y - p))) < 1e-5


# --------------------------------------------------------------------------------------
# vmap / fit_many
# --------------------------------------------------------------------------------------


def test_fit_many_equals_loop(logistic_sets, loop_fits):
    with jax.enable_x64(False):
        fits = lx.fit_many(logistic_loglik, BETA0, logistic_sets)
        assert not jax.config.jax_enable_x64, "fit_many() turned x64 on globally"
    assert isinstance(fits.params["beta"], np.ndarray)
    assert fits.params["beta"].dtype == np.float64
    assert fits.se["beta"].dtype == np.float64
    assert np.shape(fits.params["beta"]) == (B, K)
    assert np.all(fits.converged)
    for b, ref in enumerate(loop_fits):
        np.testing.assert_allclose(
            fits.params["beta"][b], ref.params["beta"], rtol=1e-10, atol=1e-12
        )
        np.testing.assert_allclose(fits.se["beta"][b], ref.se["beta"], rtol=1e-10)
        np.testing.assert_allclose(fits.loglik[b], ref.loglik, rtol=1e-12)
        one = fits[b]
        np.testing.assert_allclose(
            one.params["beta"], ref.params["beta"], rtol=1e-10, atol=1e-12
        )
        np.testing.assert_allclose(one.se["beta"], ref.se["beta"], rtol=1e-10)
        assert one.converged


# --------------------------------------------------------------------------------------
# compilation cache
# --------------------------------------------------------------------------------------


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _compiles(fn):
    """Run ``fn`` with compile logging on; return the names of programs compiled.

    On jax 0.10.2, ``jax.log_compiles()`` makes ``jax._src.interpreters.pxla`` log
    "Compiling jit(<name>) with global shapes ..." once per XLA compilation.
    """
    logger = logging.getLogger("jax")
    handler = _Records()
    logger.addHandler(handler)
    try:
        with jax.log_compiles():
            fn()
    finally:
        logger.removeHandler(handler)
    return [
        m.split(" with ")[0][len("Compiling ") :]
        for m in handler.messages
        if m.startswith("Compiling ")
    ]


def test_second_fit_with_same_shapes_does_not_recompile(rng):
    # A fresh function object: the first fit must compile the core program.
    from likelihax.engine import _compiled

    programs = (_compiled.fit_program, _compiled.fit_program_small)

    def cached():  # entries in the in-memory caches of the compiled fit programs
        return sum(p._cache_size() for p in programs)

    def gamma_loglik(params, data):
        return jst.gamma.logpdf(data["y"], params["shape"], scale=1.0 / params["rate"])

    cons = {"shape": lx.constraints.positive, "rate": lx.constraints.positive}
    y1, y2 = rng.gamma(2.0, 1.5, size=200), rng.gamma(5.0, 0.3, size=200)
    before = cached()
    first = _compiles(
        lambda: lx.fit(
            gamma_loglik, {"shape": 1.0, "rate": 1.0}, {"y": y1}, constraints=cons
        )
    )
    # One new compiled program (independent of logging, which a program loaded
    # from the persistent compilation cache may not produce) ...
    assert cached() == before + 1
    # ... which, when the compile log was captured, is the core program:
    # jit(fit_core), or jit(fit_core_small) for small data.
    if first:
        assert any(name.startswith("jit(fit_core") for name in first), first

    out = {}
    second = _compiles(
        lambda: out.setdefault(
            "fit",
            lx.fit(
                gamma_loglik, {"shape": 3.0, "rate": 2.0}, {"y": y2}, constraints=cons
            ),
        )
    )
    assert cached() == before + 1  # the second fit reused the program
    assert not any(name.startswith("jit(fit_core") for name in second)
    assert second == [], f"second fit compiled {second}"
    # and the second fit really used the new data. Gamma MLE: the shape solves
    # log(a) - digamma(a) = log(mean y) - mean(log y), and rate = a / mean y.
    c = np.log(y2.mean()) - np.log(y2).mean()
    a = optimize.brentq(
        lambda t: np.log(t) - special.digamma(t) - c, 1e-3, 1e3, xtol=1e-14
    )
    fit = out["fit"]
    assert fit.converged
    np.testing.assert_allclose(fit.params["shape"], a, rtol=1e-6)
    np.testing.assert_allclose(fit.params["rate"], a / y2.mean(), rtol=1e-6)


def test_second_fit_does_not_trace_the_loglik_again(rng):
    """The shape check traces the log-likelihood once per (parameter, data)
    shapes: a second fit with the same shapes runs no Python of the
    log-likelihood; new data shapes are traced (and checked) again, and a bad
    shape is still rejected after a good one was cached."""
    calls = []

    def normal(params, data):
        calls.append(1)
        return jst.norm.logpdf(data["y"], params["mu"], params["sigma"])

    cons = {"sigma": lx.constraints.positive}
    y = rng.normal(2.0, 3.0, size=300)
    a = lx.fit(normal, {"mu": 0.0, "sigma": 1.0}, {"y": y}, constraints=cons)
    n_first = len(calls)
    assert n_first >= 1
    b = lx.fit(normal, {"mu": 1.0, "sigma": 2.0}, {"y": y[::-1].copy()}, constraints=cons)
    assert len(calls) == n_first, "the second fit traced the log-likelihood again"
    np.testing.assert_allclose(b.params["mu"], y.mean(), rtol=1e-10)
    np.testing.assert_allclose(a.params["sigma"], y.std(), rtol=1e-8)
    lx.fit(normal, {"mu": 0.0, "sigma": 1.0}, {"y": y[:100]}, constraints=cons)
    assert len(calls) > n_first  # new shapes: traced (and compiled) again
    with pytest.raises(ValueError, match="one value per observation"):
        lx.fit(normal, {"mu": 0.0, "sigma": 1.0}, {"y": y.reshape(100, 3)},
               constraints=cons)  # fmt: skip


# --------------------------------------------------------------------------------------
# FitResult is a pytree
# --------------------------------------------------------------------------------------


def test_fitresult_is_a_pytree(loop_fits):
    fit = loop_fits[0]
    leaves, treedef = jax.tree.flatten(fit)
    assert leaves, "FitResult has no array leaves"
    again = jax.tree.unflatten(treedef, leaves)
    np.testing.assert_array_equal(again.params["beta"], fit.params["beta"])
    np.testing.assert_array_equal(again.se["beta"], fit.se["beta"])

    doubled = jax.tree.map(lambda x: 2 * x, fit)
    np.testing.assert_allclose(
        doubled.params["beta"], 2 * fit.params["beta"], rtol=1e-15
    )

    # Default (x64 off): jit passes the leaves through, as float32
    through32 = jax.jit(lambda r: r)(fit)
    assert isinstance(through32, lx.FitResult)
    np.testing.assert_allclose(
        np.asarray(through32.params["beta"]), fit.params["beta"], rtol=1e-6
    )
    np.testing.assert_allclose(
        np.asarray(through32.se["beta"]), fit.se["beta"], rtol=1e-6
    )

    with jax.enable_x64(True):  # float64 leaves stay float64 through jit
        through = jax.jit(lambda r: r)(fit)
        assert isinstance(through, lx.FitResult)
        np.testing.assert_array_equal(
            np.asarray(through.params["beta"]), fit.params["beta"]
        )
        np.testing.assert_array_equal(np.asarray(through.se["beta"]), fit.se["beta"])
        np.testing.assert_array_equal(np.asarray(through.loglik), fit.loglik)
        # properties work on traced results inside jit
        z = jax.jit(lambda r: r.params["beta"] / r.se["beta"])(fit)
        np.testing.assert_allclose(
            np.asarray(z), fit.params["beta"] / fit.se["beta"], rtol=1e-14
        )


# --------------------------------------------------------------------------------------
# float32 on request
# --------------------------------------------------------------------------------------


def test_float32_on_request(logistic_sets, loop_fits):
    ref = loop_fits[0]
    fit = lx.fit(logistic_loglik, BETA0, _one(logistic_sets, 0), dtype="float32")
    assert fit.converged
    assert fit.dtype == "float32"
    summary = fit.summary()
    assert dict(summary.header)["Precision"] == "float32"
    assert "float32" in summary.to_text()
    arrays = [
        ("params", fit.params["beta"]),
        ("se", fit.se["beta"]),
        ("cov", fit.cov.matrix),
    ]
    for name, a in arrays:
        assert np.asarray(a).dtype == np.float32, name
    np.testing.assert_allclose(fit.params["beta"], ref.params["beta"], atol=1e-4)
    np.testing.assert_allclose(fit.se["beta"], ref.se["beta"], atol=1e-4)
    np.testing.assert_allclose(fit.loglik, ref.loglik, rtol=1e-5)


# --------------------------------------------------------------------------------------
# chunked evaluation
# --------------------------------------------------------------------------------------


def test_chunked_equals_unchunked(logistic_sets, loop_fits):
    ref = loop_fits[1]  # chunk_size=False
    # 15 blocks of 64 rows and a remainder of 40
    fit = lx.fit(logistic_loglik, BETA0, _one(logistic_sets, 1), chunk_size=64)
    assert fit.converged
    np.testing.assert_allclose(
        fit.params["beta"], ref.params["beta"], rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(fit.se["beta"], ref.se["beta"], rtol=1e-10)
    np.testing.assert_allclose(fit.loglik, ref.loglik, rtol=1e-12)


# --------------------------------------------------------------------------------------
# multi-start
# --------------------------------------------------------------------------------------


def cauchy_loglik(params, data):
    return jst.cauchy.logpdf(data["z"], params["loc"], 1.0)


def test_multistart_finds_global_optimum_of_bimodal_likelihood(make_rng):
    rng = make_rng(200)
    # Cauchy location, two clusters: a global maximum near 0, a local one near 10
    z = np.concatenate(
        [0.5 * rng.standard_cauchy(30), 10 + 0.5 * rng.standard_cauchy(20)]
    )
    data = {"z": z}

    # Independent reference: grid search + bounded refinement in SciPy
    def negll(loc):
        return -stats.cauchy.logpdf(z, loc, 1.0).sum()

    grid = np.linspace(-20, 30, 5001)
    vals = -stats.cauchy.logpdf(z[None, :], grid[:, None], 1.0).sum(axis=1)
    g0 = grid[np.argmin(vals)]
    best = optimize.minimize_scalar(
        negll, bounds=(g0 - 0.02, g0 + 0.02), method="bounded", options={"xatol": 1e-10}
    )
    assert abs(best.x) < 2  # the global mode is the cluster near 0

    single = lx.fit(cauchy_loglik, {"loc": 10.0}, data)
    assert single.converged
    assert abs(single.params["loc"] - 10) < 2  # stuck at the local optimum

    multi = lx.fit(cauchy_loglik, {"loc": 10.0}, data, starts=5, start_scale=10.0)
    s = multi.multistart.summary()
    assert s["starts"] == 5
    assert np.shape(multi.multistart.loglik) == (5,)
    assert multi.loglik >= single.loglik
    np.testing.assert_allclose(s["best_loglik"], multi.loglik, rtol=1e-12)
    assert len(s["optima"]) >= 2  # both modes were found by some start
    # the best start is the global optimum found by SciPy
    np.testing.assert_allclose(multi.params["loc"], best.x, atol=1e-6)
    np.testing.assert_allclose(multi.loglik, -best.fun, rtol=1e-9)
    assert "Multi-start" in multi.summary().to_text()


# --------------------------------------------------------------------------------------
# other solvers reach the Newton optimum
# --------------------------------------------------------------------------------------


def test_lbfgs_reaches_newton_optimum(logistic_sets, loop_fits):
    ref = loop_fits[2]
    fit = lx.fit(logistic_loglik, BETA0, _one(logistic_sets, 2), method="lbfgs")
    assert fit.converged and fit.method == "lbfgs"
    np.testing.assert_allclose(fit.params["beta"], ref.params["beta"], rtol=1e-6)
    np.testing.assert_allclose(fit.se["beta"], ref.se["beta"], rtol=1e-6)
    np.testing.assert_allclose(fit.loglik, ref.loglik, rtol=1e-9)


def test_optax_adam_reaches_newton_optimum(logistic_sets, loop_fits):
    ref = loop_fits[3]
    fit = lx.fit(
        logistic_loglik, BETA0, _one(logistic_sets, 3),
        method=optax.adam(0.05), max_steps=5000,
    )  # fmt: skip
    assert fit.converged, fit.status
    np.testing.assert_allclose(fit.params["beta"], ref.params["beta"], atol=1e-4)
    np.testing.assert_allclose(fit.se["beta"], ref.se["beta"], rtol=1e-4)
    np.testing.assert_allclose(fit.loglik, ref.loglik, rtol=1e-7)
