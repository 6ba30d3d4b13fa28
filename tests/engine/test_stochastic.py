"""Mini-batch fitting finished by the exact engine: same MLE as lx.fit, resumable."""

from __future__ import annotations

import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import optax
import pytest

import likelihax as lx

N = 30_000


def logistic(params, data):
    eta = params["a"] + data["X"] @ params["b"]
    return data["y"] * eta - jnp.logaddexp(0.0, eta)


def normal(params, data):
    return st.norm.logpdf(data["y"], params["mu"], params["sigma"])


START = {"a": 0.0, "b": np.zeros(2)}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((N, 2))
    y = (rng.random(N) < 1 / (1 + np.exp(-(0.5 + X @ [1.0, -0.7])))).astype(float)
    return {"X": X, "y": y}


@pytest.fixture(scope="module")
def exact(data):
    return lx.fit(logistic, START, data)


def test_polished_result_is_the_exact_mle(data, exact):
    res = lx.fit_stochastic(logistic, START, data, steps=400, batch_size=256)
    assert res.converged
    np.testing.assert_allclose(res.params["b"], exact.params["b"], rtol=1e-9)
    np.testing.assert_allclose(res.cov, exact.cov, rtol=1e-7)
    assert abs(float(res.loglik) - float(exact.loglik)) < 1e-8
    # the stochastic phase got close: Newton needed few passes from there
    assert res.fit.iterations <= exact.iterations
    assert "mini-batch steps" in str(res.summary())
    assert res.history["step"].tolist() == [100, 200, 300, 400]
    assert np.all(np.isfinite(res.history["loss"]))


def test_constraints_and_model(data):
    y = {"y": np.random.default_rng(1).normal(2.0, 3.0, 5_000)}
    ref = lx.fit(normal, {"mu": 0.0, "sigma": 1.0}, y,
                 constraints={"sigma": lx.constraints.positive})  # fmt: skip
    res = lx.fit_stochastic(normal, {"mu": 0.0, "sigma": 1.0}, y,
                            constraints={"sigma": lx.constraints.positive},
                            optimizer=optax.adam(0.05), steps=300)  # fmt: skip
    np.testing.assert_allclose(res.params["sigma"], ref.params["sigma"], rtol=1e-9)
    np.testing.assert_allclose(res.se["sigma"], ref.se["sigma"], rtol=1e-7)
    model = lx.Model(normal, {"mu": 0.0, "sigma": lx.Param(1.0, lx.constraints.positive)})
    res_m = lx.fit_stochastic(model, y, steps=200, optimizer=optax.adam(0.05))
    np.testing.assert_allclose(res_m.params["mu"], ref.params["mu"], rtol=1e-9)


def test_streamed_source(data, exact, tmp_path):
    X = np.memmap(tmp_path / "X", dtype="float64", mode="w+", shape=data["X"].shape)
    X[:] = data["X"]
    X.flush()
    src = lx.ArraySource({"X": np.memmap(tmp_path / "X", dtype="float64", mode="r",
                                         shape=data["X"].shape), "y": data["y"]},
                         chunk_size=7_000)  # fmt: skip
    res = lx.fit_stochastic(logistic, START, src, steps=300, batch_size=512,
                            cov="sandwich")  # fmt: skip
    ref = lx.fit(logistic, START, data, cov="sandwich")
    np.testing.assert_allclose(res.params["b"], exact.params["b"], rtol=1e-9)
    np.testing.assert_allclose(res.cov, ref.cov, rtol=1e-7)


def test_unpolished_evaluates_at_the_stochastic_point(data, exact):
    with pytest.warns(lx.ConvergenceWarning, match="max_steps"):
        res = lx.fit_stochastic(logistic, START, data, steps=100, polish=False)
    u = res.state.u
    np.testing.assert_allclose(res.params_unconstrained, u, rtol=0, atol=0)
    assert not res.converged
    assert float(res.loglik) <= float(exact.loglik)
    assert np.all(np.isfinite(res.se["b"]))


def test_weights_weight_the_mini_batches(data):
    # class weights shift the intercept by about log(w1 / w0) = 1.39 (100 SEs); the
    # unpolished mini-batch point must be at the weighted optimum, not the plain one
    w = np.where(data["y"] == 1, 2.0, 0.5)
    ref = lx.fit(logistic, START, data, weights=w, weight_type="importance")
    plain = lx.fit(logistic, START, data)
    adam = optax.adam(optax.cosine_decay_schedule(0.05, 1000))
    res = lx.fit_stochastic(logistic, START, data, weights=w, weight_type="importance",
                            optimizer=adam, steps=1000, log_every=500, batch_size=512,
                            polish=False, warn=False)  # fmt: skip
    se = float(ref.se["a"])
    assert abs(float(res.params["a"]) - float(ref.params["a"])) < se
    assert abs(float(plain.params["a"]) - float(ref.params["a"])) > 50 * se
    np.testing.assert_allclose(res.params["b"], ref.params["b"], atol=se)
    assert res.cov_kind == "sandwich"


def test_callback_stops_and_resume_continues(data, tmp_path):
    seen = []

    def cb(step, loss, gnorm):
        seen.append((step, loss, gnorm))
        return step >= 200

    ck = tmp_path / "state.npz"
    a = lx.fit_stochastic(logistic, START, data, steps=1_000, callback=cb,
                          checkpoint=ck, polish=True)  # fmt: skip
    assert a.stopped_early and [s for s, _, _ in seen] == [100, 200]
    assert a.state.step == 200
    loaded = lx.StochasticState.load(ck)
    np.testing.assert_array_equal(loaded.u, a.state.u)
    b = lx.fit_stochastic(logistic, START, data, steps=200, resume=loaded)
    whole = lx.fit_stochastic(logistic, START, data, steps=400)
    assert b.state.step == 400
    np.testing.assert_allclose(b.state.u, whole.state.u, rtol=1e-12, atol=1e-14)


def test_progress_lines(data, capsys):
    lx.fit_stochastic(logistic, START, data, steps=200, progress=True)
    out = capsys.readouterr().out
    assert out.count("likelihax: step") == 2 and "steps/s" in out


def test_errors(data):
    with pytest.raises(ValueError, match="one log-likelihood value per observation"):
        lx.fit_stochastic(lambda p, d: jnp.sum(logistic(p, d)), START, data)
    with pytest.raises(TypeError, match="optax.GradientTransformation"):
        lx.fit_stochastic(logistic, START, data, optimizer="adam")
    with pytest.raises(ValueError, match="batch_size must be a positive"):
        lx.fit_stochastic(logistic, START, data, batch_size=0)
    bad = lx.StochasticState(u=np.zeros(5), opt_leaves=[], step=0,
                             key=np.zeros(2, np.uint32))  # fmt: skip
    with pytest.raises(ValueError, match="resume= holds 5 parameters"):
        lx.fit_stochastic(logistic, START, data, resume=bad)
