"""Bad input gets a clear error; every status is reachable and reported.

Each test asserts the text of the message: what happened and what to do.
"""

import re
import warnings

import jax
import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import pytest

import likelihax as lx


def normal(params, data):
    return st.norm.logpdf(data["y"], params["mu"], params["sigma"])


POS = {"sigma": lx.constraints.positive}


@pytest.fixture
def y():
    return np.random.default_rng(1).normal(1.0, 2.0, size=50)


# ----- data ------------------------------------------------------------------------
@pytest.mark.parametrize("bad, word", [(np.nan, "NaN"), (np.inf, "infinite")])
def test_nonfinite_data_names_field_and_rows(y, bad, word):
    y = y.copy()
    y[[3, 7]] = bad
    with pytest.raises(
        ValueError,
        match=rf"Data field 'y' has 2 {word} value\(s\) \(first rows: \[3, 7\]\)",
    ):
        lx.fit(normal, {"mu": 0.0, "sigma": 1.0}, {"y": y}, constraints=POS)


def test_nested_field_name_in_error():
    x = np.ones((10, 2))
    x[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"Data field 'cov.x'"):
        lx.fit(
            lambda p, d: -(p["b"] ** 2) * jnp.sum(d["cov"]["x"], axis=1),
            {"b": 0.0},
            {"cov": {"x": x}},
        )


def test_empty_data():
    with pytest.raises(ValueError, match="Data field 'y' is empty"):
        lx.fit(normal, {"mu": 0.0, "sigma": 1.0}, {"y": np.zeros(0)}, constraints=POS)


def test_string_data():
    with pytest.raises(TypeError, match="Data field 'g' has dtype <U1.*integer codes"):
        lx.fit(
            normal,
            {"mu": 0.0, "sigma": 1.0},
            {"y": np.ones(3), "g": np.array(list("abc"))},
            constraints=POS,
        )


def test_integer_data_kept_exact_and_equal_to_float():
    counts = np.array([0, 3, 1, 4, 2, 2, 5])

    def poisson(p, d):
        return st.poisson.logpmf(d["k"], p["lam"])

    f_int = lx.fit(
        poisson,
        {"lam": 1.0},
        {"k": counts},
        constraints={"lam": lx.constraints.positive},
    )
    f_flt = lx.fit(
        poisson,
        {"lam": 1.0},
        {"k": counts.astype(float)},
        constraints={"lam": lx.constraints.positive},
    )
    assert f_int.params["lam"] == pytest.approx(counts.mean(), rel=1e-12)
    assert f_int.loglik == pytest.approx(f_flt.loglik, rel=1e-13)


def test_integer_too_large_for_precision():
    with pytest.raises(ValueError, match="integers larger than .* cannot represent"):
        lx.fit(
            lambda p, d: -(p["a"] ** 2) + 0.0 * d["k"],
            {"a": 1.0},
            {"k": np.array([2**60, 1])},
        )


def test_dataframe_input_and_not_mutated(y):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"y": y})
    before = df.copy(deep=True)
    f = lx.fit(normal, {"mu": 0.0, "sigma": 1.0}, df, constraints=POS)
    assert f.params["mu"] == pytest.approx(y.mean(), rel=1e-10)
    pd.testing.assert_frame_equal(df, before)


def test_caller_arrays_not_modified(y):
    y0 = y.copy()
    start = {"mu": np.array(0.0), "sigma": np.array(1.0)}
    lx.fit(normal, start, {"y": y}, constraints=POS)
    np.testing.assert_array_equal(y, y0)
    assert float(start["mu"]) == 0.0 and float(start["sigma"]) == 1.0


# ----- the log-likelihood ---------------------------------------------------------------
def test_wrong_output_shape(y):
    with pytest.raises(
        ValueError, match=r"one value per observation \(shape \(n,\)\).*shape \(50, 1\)"
    ):
        lx.fit(
            lambda p, d: normal(p, d)[:, None],
            {"mu": 0.0, "sigma": 1.0},
            {"y": y},
            constraints=POS,
        )


def test_non_array_output(y):
    with pytest.raises(TypeError, match="must return one array"):
        lx.fit(
            lambda p, d: (normal(p, d), 1.0),
            {"mu": 0.0, "sigma": 1.0},
            {"y": y},
            constraints=POS,
        )


def test_unknown_name_in_loglik(y):
    def typo(p, d):
        return st.norm.logpdf(d["y"], p["mu"], p["sigmaa"])

    with pytest.raises(KeyError, match="asked for 'sigmaa'.*Parameters: mu, sigma"):
        lx.fit(typo, {"mu": 0.0, "sigma": 1.0}, {"y": y}, constraints=POS)


def test_nonfinite_at_start_lists_observations():
    x = np.array([0.5, 1.5, -0.2, 2.0])

    def bad(p, d):  # log of a negative number for x < 0 at the start
        return jnp.log(d["x"] * p["a"])

    with pytest.raises(
        ValueError,
        match=r"not finite at the starting values.*1 of 4 observations.*first: \[2\]",
    ):
        lx.fit(bad, {"a": 1.0}, {"x": x})


def test_not_separable_detected():
    y = np.random.default_rng(0).normal(size=400)

    def centred(p, d):  # uses the data mean: term i depends on all rows
        return st.norm.logpdf(d["y"] - jnp.mean(d["y"]), p["mu"], 1.0)

    with pytest.raises(ValueError, match="depends on other observations"):
        lx.fit(centred, {"mu": 0.0}, {"y": y}, chunk_size=100)
    f = lx.fit(centred, {"mu": 0.0}, {"y": y}, chunk_size=False)
    assert f.params["mu"] == pytest.approx(0.0, abs=1e-12)


# ----- parameters and options -------------------------------------------------------------
def test_unknown_constraint_name(y):
    with pytest.raises(
        ValueError,
        match="Constraint given for 'sd', which matches no parameter. Parameters are: mu, sigma",
    ):
        lx.fit(
            normal,
            {"mu": 0.0, "sigma": 1.0},
            {"y": y},
            constraints={"sd": lx.constraints.positive},
        )


def test_start_outside_constraint(y):
    with pytest.raises(
        ValueError,
        match=r"Starting value of 'sigma' = -1.0 is outside its constraint positive: it must be > 0",
    ):
        lx.fit(normal, {"mu": 0.0, "sigma": -1.0}, {"y": y}, constraints=POS)


def test_constraint_shape_mismatch():
    with pytest.raises(
        ValueError, match="Parameter 'S': cov_matrix needs a square matrix"
    ):
        lx.fit(
            lambda p, d: -jnp.sum(p["S"]),
            {"S": jnp.ones(3)},
            None,
            constraints={"S": lx.constraints.cov_matrix},
        )


def test_nonfinite_start_value(y):
    with pytest.raises(ValueError, match="Starting value of 'mu' is not finite"):
        lx.fit(normal, {"mu": np.nan, "sigma": 1.0}, {"y": y}, constraints=POS)


def test_all_fixed(y):
    with pytest.raises(ValueError, match="All parameters are fixed"):
        lx.fit(
            normal,
            {"mu": 0.0, "sigma": 1.0},
            {"y": y},
            constraints={"mu": lx.constraints.fixed, "sigma": lx.constraints.fixed},
        )


def test_bad_options(y):
    start = {"mu": 0.0, "sigma": 1.0}
    with pytest.raises(ValueError, match="Unknown method 'nelder'"):
        lx.fit(normal, start, {"y": y}, constraints=POS, method="nelder")
    with pytest.raises(ValueError, match="cov must be one of"):
        lx.fit(normal, start, {"y": y}, constraints=POS, cov="hc4")
    with pytest.raises(ValueError, match="dtype must be 'float64'"):
        lx.fit(normal, start, {"y": y}, constraints=POS, dtype="float16")
    with pytest.raises(
        ValueError, match="needs one log-likelihood value per observation"
    ):
        lx.fit(
            lambda p, d: jnp.sum(normal(p, d)),
            start,
            {"y": y},
            constraints=POS,
            cov="sandwich",
        )


# ----- statuses ----------------------------------------------------------------------------
def test_max_steps_status_and_warning(y):
    with pytest.warns(lx.ConvergenceWarning, match="Stopped at max_steps"):
        f = lx.fit(
            normal, {"mu": 0.0, "sigma": 1.0}, {"y": y}, constraints=POS, max_steps=1
        )
    assert f.status == lx.Status.max_steps and not f.converged
    assert "max_steps" in f.summary().to_text()


def test_max_steps_on_a_kink():
    def kinked(p, d):  # maximum at a kink: the gradient never vanishes
        return -100.0 * jnp.abs(p["m"] - 0.3) - 0.5 * p["m"] ** 2

    with pytest.warns(lx.ConvergenceWarning, match="Stopped at max_steps"):
        f = lx.fit(kinked, {"m": 0.0}, None, max_steps=30)
    assert f.status == lx.Status.max_steps
    assert f.params["m"] == pytest.approx(0.3, abs=1e-6)


def test_line_search_failed_when_value_is_too_coarse():
    def coarse(p, d):  # value rounded to 0.01 (too little precision), smooth gradient
        q = -((p["m"] - 0.3) ** 4)
        return q + jax.lax.stop_gradient(jnp.round(q, 2) - q)

    with pytest.warns(lx.ConvergenceWarning, match="line search found no step"):
        f = lx.fit(coarse, {"m": 0.0}, None)
    assert f.status == lx.Status.line_search_failed
    assert "line_search_failed" in f.summary().to_text()


def test_nonfinite_during_fit():
    def cliff(p, d):  # increasing, undefined beyond 1: every long step is NaN
        return jnp.where(p["m"] < 1.0, p["m"], jnp.nan)

    with pytest.warns(lx.ConvergenceWarning, match="became NaN or infinite"):
        f = lx.fit(cliff, {"m": 0.0}, None)
    assert f.status == lx.Status.nonfinite


def test_singular_information_names_parameters():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    X = np.column_stack([x, x[:, 0]])  # third column duplicates the first
    yb = (rng.random(200) < 0.5).astype(float)

    def logit(p, d):
        eta = d["X"] @ p["beta"]
        return d["y"] * eta - jnp.logaddexp(0.0, eta)

    with pytest.warns(
        lx.InformationWarning,
        match=r"singular.*beta\[0\].*beta\[2\]|singular.*beta\[2\].*beta\[0\]",
    ):
        f = lx.fit(logit, {"beta": jnp.zeros(3)}, {"X": X, "y": yb})
    assert f.status == lx.Status.information_singular
    assert np.all(np.isnan(f.se["beta"]))
    assert "Weak direction" in f.summary().to_text()


def test_indefinite_information_at_a_saddle():
    def saddle(p, d):
        return -(p["a"] ** 2) + p["b"] ** 2

    with pytest.warns(lx.InformationWarning, match="not positive definite"):
        f = lx.fit(saddle, {"a": 0.0, "b": 0.0}, None)
    assert f.status == lx.Status.information_indefinite
    assert np.isnan(f.se["a"]) and np.isnan(f.se["b"])


def test_warn_false_is_silent_but_status_kept(y):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = lx.fit(
            normal,
            {"mu": 0.0, "sigma": 1.0},
            {"y": y},
            constraints=POS,
            max_steps=1,
            warn=False,
        )
    assert f.status == lx.Status.max_steps


def test_every_status_has_a_message():
    for s in lx.Status:
        assert s.message and s.message[0].isupper()
    assert re.search("try", lx.Status.max_steps.message, re.IGNORECASE)


def test_raw_vmap_outside_x64_warns_about_float32_inputs():
    def poisson(p, d):
        return d["y"] * p["log_rate"] - jnp.exp(p["log_rate"])

    ys = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
    assert not jax.config.jax_enable_x64
    with pytest.warns(lx.PrecisionWarning, match="round float64 inputs to float32"):
        jax.vmap(lambda d: lx.fit(poisson, {"log_rate": 0.0}, d))({"y": ys})
    with jax.enable_x64(True), warnings.catch_warnings():
        warnings.simplefilter("error")
        fits = jax.vmap(lambda d: lx.fit(poisson, {"log_rate": 0.0}, d))({"y": ys})
    np.testing.assert_allclose(np.exp(fits.params["log_rate"]), [2.0, 4.0], rtol=1e-12)


def test_remaining_messages(y):
    start = {"mu": 0.0, "sigma": 1.0}
    d = {"y": y}
    with pytest.raises(TypeError, match="must be floating point"):
        lx.fit(
            lambda p, dd: (dd["y"] > p["mu"]).astype(jnp.int32),
            start,
            d,
            constraints=POS,
        )
    with pytest.raises(
        ValueError, match="nobs=3 but the log-likelihood returns 50 values"
    ):
        lx.fit(normal, start, d, constraints=POS, nobs=3)
    with pytest.raises(
        ValueError, match="chunk_size must be a positive integer or False"
    ):
        lx.fit(normal, start, d, constraints=POS, chunk_size=0)
    with pytest.raises(ValueError, match="starts must be >= 1"):
        lx.fit(normal, start, d, constraints=POS, starts=0)
    with pytest.raises(ValueError, match="starts is an empty list"):
        lx.fit(normal, start, d, constraints=POS, starts=[])
    with pytest.raises(ValueError, match=r"starts\[0\] does not have the structure"):
        lx.fit(
            normal,
            start,
            d,
            constraints=POS,
            starts=[{"mu": np.zeros(2), "sigma": 1.0}],
        )
    with pytest.raises(ValueError, match=r"starts\[0\]: Starting value of 'sigma'"):
        lx.fit(normal, start, d, constraints=POS, starts=[{"mu": 0.0, "sigma": -2.0}])
    with pytest.raises(TypeError, match="`params` \\(starting values\\) is missing"):
        lx.fit(normal)
    with pytest.raises(TypeError, match="must be a log-likelihood function"):
        lx.fit("normal", start, d)
    with pytest.raises(
        ValueError, match="`tol` \\(EDM rule\\) applies to method='newton' and 'newton-cg' only"
    ):
        lx.fit(normal, start, d, constraints=POS, method="lbfgs", tol=1e-3)
    with pytest.raises(TypeError, match="method must be 'newton'"):
        lx.fit(normal, start, d, constraints=POS, method=42)
    with pytest.raises(TypeError, match="is not a constraint"):
        lx.fit(normal, start, d, constraints={"sigma": "positive"})
    with pytest.raises(ValueError, match="interval\\(a, b\\) needs a < b"):
        lx.constraints.interval(1.0, 0.0)
    with pytest.raises(ValueError, match="`params` is empty"):
        lx.fit(normal, {}, d)


def test_model_and_result_messages(y):
    model = lx.Model(
        normal, {"mu": 0.0, "sigma": lx.Param(1.0, lx.constraints.positive)}
    )
    assert "sigma: positive" in repr(model)
    with pytest.raises(TypeError, match=r"Call fit\(model, data, ...\)"):
        lx.fit(model, {"y": y}, {"y": y})
    with pytest.raises(TypeError, match="Give constraints when building the Model"):
        lx.fit(model, {"y": y}, constraints=POS)
    with pytest.raises(TypeError, match="loglik must be a function"):
        lx.Model(3.0, {"mu": 0.0})
    fit = model.fit({"y": y})
    with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\)"):
        fit.conf_int(1.5)
    with pytest.raises(ValueError, match="kind must be one of"):
        fit.vcov("hc4")
    with pytest.raises(KeyError, match="'tau' is not a parameter label"):
        fit.cov["tau", "mu"]
    scalar = lx.fit(
        lambda p, d: jnp.sum(normal(p, d)),
        {"mu": 0.0, "sigma": 1.0},
        {"y": y},
        constraints=POS,
    )
    assert scalar.nobs == 50  # inferred from the data's leading dimension
    with pytest.raises(
        ValueError, match="needs one log-likelihood value per observation"
    ):
        scalar.vcov("opg")
    assert "only curvature-based" in scalar.summary().to_text()


@pytest.mark.parametrize("chunk", [1, 33, 60, 99])
def test_any_chunk_size_gives_the_unchunked_fit(chunk):
    y = np.random.default_rng(0).normal(size=100)

    def model(p, d):
        return st.norm.logpdf(d["y"], p["mu"], p["sigma"])

    ref = lx.fit(
        model, {"mu": 0.0, "sigma": 1.0}, {"y": y}, constraints=POS, chunk_size=False
    )
    f = lx.fit(
        model, {"mu": 0.0, "sigma": 1.0}, {"y": y}, constraints=POS, chunk_size=chunk
    )
    np.testing.assert_allclose(f.params["mu"], ref.params["mu"], rtol=1e-12)
    np.testing.assert_allclose(f.se["sigma"], ref.se["sigma"], rtol=1e-10)
    assert f.loglik == pytest.approx(ref.loglik, rel=1e-13)


def test_newton_survives_indefinite_hessian_far_from_the_maximum():
    """Cauchy location: far from the data the Hessian of -loglik is negative
    (indefinite); the modified Newton step still climbs to the maximum."""
    y = np.array([-0.3, 0.1, 0.4, 0.2, -0.1])

    def cauchy(p, d):
        return -jnp.log1p((d["y"] - p["m"]) ** 2)

    f = lx.fit(cauchy, {"m": 8.0}, {"y": y})
    assert f.converged
    grid = np.linspace(-1, 1, 200001)
    best = grid[np.argmax([-np.log1p((y - g) ** 2).sum() for g in grid])]
    assert f.params["m"] == pytest.approx(best, abs=2e-5)


def test_newton_survives_nonfinite_trial_points():
    """Poisson rate without a constraint: the first full Newton step lands at a
    negative rate (log of a negative number = NaN); backtracking recovers."""
    k = np.array([0, 1, 0, 2, 1, 0, 0, 1])

    def poisson(p, d):
        return d["k"] * jnp.log(p["rate"]) - p["rate"]

    f = lx.fit(poisson, {"rate": 5.0}, {"k": k})
    assert f.converged
    assert f.params["rate"] == pytest.approx(k.mean(), rel=1e-12)
    assert int(f.n_evals) > int(f.iterations) + 1  # some trials were rejected


def test_float32_jax_array_data_warns(y):
    y32 = jnp.asarray(y, dtype=jnp.float32)
    with pytest.warns(
        lx.PrecisionWarning, match="Data field 'y' is a float32 JAX array"
    ):
        lx.fit(normal, {"mu": 0.0, "sigma": 1.0}, {"y": y32}, constraints=POS)
    with jax.enable_x64(True), warnings.catch_warnings():
        warnings.simplefilter("error")
        f = lx.fit(
            normal, {"mu": 0.0, "sigma": 1.0}, {"y": jnp.asarray(y)}, constraints=POS
        )
    assert f.params["mu"] == pytest.approx(y.mean(), rel=1e-12)


def test_flat_likelihood_at_the_estimate_is_reported():
    """Complete separation: the Newton loop 'converges' (the gradient vanishes
    exponentially) and the scaled information is well conditioned, but the
    log-likelihood still rises one SE further: Status.unbounded, not success,
    with an InformationWarning naming the direction, and curvature_drop shows it
    (closed form 0.5 when quadratic)."""
    import jax.numpy as jnp
    import jax.scipy.stats as jst

    def logit(p, d):
        eta = p["a"] + p["b"] * d["x"]
        return d["y"] * eta - jnp.logaddexp(0.0, eta)

    x = np.array([-3.0, -2, -1, -0.5, 0.5, 1, 2, 3])
    y = (x > 0).astype(float)  # completely separated at x = 0
    with pytest.warns(lx.InformationWarning, match="still rising.* along .*b"):
        f = lx.fit(logit, {"a": 0.0, "b": 0.0}, {"x": x, "y": y})
    assert f.status == lx.Status.unbounded and not f.converged
    assert f.curvature_drop < 1e-6
    # Overlapping classes: a proper maximum, no warning.
    y2 = y.copy()
    y2[[3, 4]] = [1.0, 0.0]
    assert 0.3 < lx.fit(logit, {"a": 0.0, "b": 0.0}, {"x": x, "y": y2}).curvature_drop < 0.6
    # A normal mean with known sigma has a quadratic log-likelihood: exactly 0.5.
    yy = np.random.default_rng(0).normal(size=50)
    f3 = lx.fit(lambda p, d: jst.norm.logpdf(d["y"], p["mu"], 1.0), {"mu": 0.0}, {"y": yy})
    assert f3.curvature_drop == pytest.approx(0.5, abs=1e-12)
