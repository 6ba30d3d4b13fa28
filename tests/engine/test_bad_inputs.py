"""Bad inputs get a clear ValueError/TypeError naming the field, row, option or entry.

Covers: data fields of one row broadcast against n rows; date and duration
columns; NaN/inf in streamed sources; invalid options of ``fit`` and of the
entry points that pass them on; ``fit_distribution`` on samples whose MLE does
not exist; damaged files given to ``load_result``.
"""

import datetime
import hashlib
import io
import json
import zipfile

import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import pandas as pd
import pytest

import likelihax as lx

POS = {"sigma": lx.constraints.positive}


def normal_mean(p, d):
    return st.norm.logpdf(d["y"], p["mu"], 1.0)


def linear(p, d):
    return st.norm.logpdf(d["y"], d["X"] @ p["b"], 1.0)


@pytest.fixture
def reg():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(100, 2))
    return X, X @ np.array([1.0, -0.5]) + rng.normal(size=100)


# ----- fields of one row broadcast against n rows ------------------------------------
def test_response_of_one_row_beside_a_matrix_of_100(reg):
    X, y = reg
    with pytest.raises(
        ValueError,
        match=r"Data field 'y' has 1 row \(shape \(1,\)\) but field 'X' "
        r"has 100 and the log-likelihood returns 100 values.*pass it as a scalar",
    ):
        lx.fit(linear, {"b": np.zeros(2)}, {"y": y[:1], "X": X})


def test_design_of_one_row_beside_a_response_of_100(reg):
    X, y = reg
    with pytest.raises(
        ValueError,
        match=r"Data field 'X' has 1 row \(shape \(1, 2\)\) but field 'y' "
        r"has 100.*pass it as shape \(2,\)",
    ):
        lx.fit(linear, {"b": np.zeros(2)}, {"y": y, "X": X[:1]})


def test_one_row_against_a_scalar_total(reg):
    X, y = reg

    def total(p, d):
        return jnp.sum(linear(p, d))

    with pytest.raises(
        ValueError, match="Data field 'y' has 1 row.*sums over 100 rows"
    ):
        lx.fit(total, {"b": np.zeros(2)}, {"y": y[:1], "X": X})


def test_nested_field_is_named(reg):
    X, y = reg

    def nested(p, d):
        return st.norm.logpdf(d["resp"]["y"], d["X"] @ p["b"], 1.0)

    with pytest.raises(ValueError, match=r"Data field 'resp\.y' has 1 row"):
        lx.fit(nested, {"b": np.zeros(2)}, {"resp": {"y": y[:1]}, "X": X})


def test_a_one_knot_vector_is_not_a_row():
    # knots of shape (1,): compared with every row and summed over the knots,
    # so its axis is not the observation axis and the fit is accepted.
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 200)
    y = 1.0 + 2.0 * (x > 0.4) + rng.normal(size=200)

    def step(p, d):
        above = jnp.sum(d["x"][:, None] > d["knots"][None, :], axis=1)
        return st.norm.logpdf(d["y"], p["a"] + p["b"] * above, 1.0)

    f = lx.fit(step, {"a": 0.0, "b": 0.0}, {"x": x, "y": y, "knots": np.array([0.4])})
    lo, hi = y[x <= 0.4].mean(), y[x > 0.4].mean()  # least squares = group means
    assert float(f.params["a"]) == pytest.approx(lo, rel=1e-10)
    assert float(f.params["b"]) == pytest.approx(hi - lo, rel=1e-10)


def test_a_one_by_one_matrix_is_not_a_row():
    # A (p, p) matrix of a model with p = 1 multiplies the covariates; its
    # leading axis is contracted with theirs, not broadcast over observations.
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 1))
    y = 3.0 * X[:, 0] + rng.normal(size=80)
    S = np.array([[2.0]])

    def scaled(p, d):
        return st.norm.logpdf(d["y"], (d["X"] @ d["S"]) @ p["b"], 1.0)

    f = lx.fit(scaled, {"b": np.zeros(1)}, {"y": y, "X": X, "S": S})
    ref = np.linalg.lstsq(X @ S, y, rcond=None)[0]
    np.testing.assert_allclose(f.params["b"], ref, rtol=1e-10)


# ----- dates and durations ------------------------------------------------------------
def test_datetime_column_of_a_data_frame_is_named():
    df = pd.DataFrame(
        {"y": np.arange(5.0), "when": pd.date_range("2024-01-01", periods=5)}
    )
    before = df.copy()
    with pytest.raises(TypeError, match="Data field 'when' holds dates or times"):
        lx.fit(normal_mean, {"mu": 0.0}, df)
    pd.testing.assert_frame_equal(df, before)


def test_time_zone_aware_column_is_named():
    df = pd.DataFrame(
        {
            "y": np.arange(4.0),
            "stamp": pd.date_range("2024-01-01", periods=4, tz="Europe/Paris"),
        }
    )
    with pytest.raises(TypeError, match="Data field 'stamp' holds dates or times"):
        lx.fit(normal_mean, {"mu": 0.0}, df)


def test_timedelta_and_object_dates_are_named():
    y = np.arange(3.0)
    with pytest.raises(TypeError, match="Data field 'wait' holds durations"):
        wait = np.array([1, 2, 3], dtype="timedelta64[s]")
        lx.fit(normal_mean, {"mu": 0.0}, {"y": y, "wait": wait})
    days = np.array([datetime.date(2024, 1, d) for d in (1, 2, 3)], dtype=object)
    with pytest.raises(TypeError, match="Data field 'day' holds dates or times"):
        lx.fit(normal_mean, {"mu": 0.0}, {"y": y, "day": days})


# ----- NaN and inf in streamed data ---------------------------------------------------
def _rate(p, d):
    return jnp.log(p["rate"]) - p["rate"] * d["y"]


RATE = {"rate": lx.constraints.positive}


def test_nan_in_an_array_source_block_is_a_value_error():
    y = np.random.default_rng(0).exponential(size=1000)
    y[500] = np.nan
    src = lx.ArraySource({"y": y}, chunk_size=256)
    with pytest.raises(
        ValueError, match=r"Data field 'y' has NaN values at rows \[500\]"
    ):
        lx.fit(_rate, {"rate": 1.0}, src, constraints=RATE)
    try:
        lx.fit(_rate, {"rate": 1.0}, src, constraints=RATE)
    except ValueError:
        caught = True
    else:  # pragma: no cover - the fit must raise
        caught = False
    assert caught


def test_inf_in_a_memory_map_names_rows(tmp_path):
    path = tmp_path / "y.f64"
    y = np.memmap(path, dtype="float64", mode="w+", shape=(3000,))
    y[:] = 1.0
    y[[10, 2999]] = np.inf
    y.flush()
    src = lx.ArraySource({"y": np.memmap(path, dtype="float64", mode="r")})
    with pytest.raises(
        ValueError, match=r"'y' has infinite values at rows \[10, 2999\]"
    ):
        lx.fit(_rate, {"rate": 1.0}, src, constraints=RATE)


def test_float64_beyond_float32_range_is_infinite_in_float32():
    y = np.ones(100)
    y[7] = 1e300
    src = lx.ArraySource({"y": y})
    with pytest.raises(ValueError, match=r"'y' has infinite values at rows \[7\]"):
        lx.fit(_rate, {"rate": 1.0}, src, constraints=RATE, dtype="float32")


def test_nan_in_a_parquet_source_names_field_and_row(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    y = np.ones(50)
    y[33] = np.nan
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"y": y}), path, row_group_size=20)
    src = lx.ParquetSource(path, {"y": "y"}, chunk_size=16)
    with pytest.raises(
        ValueError, match=r"Data field 'y' has NaN values at rows \[33\]"
    ):
        lx.fit(_rate, {"rate": 1.0}, src, constraints=RATE)


def test_nan_source_fails_before_the_stochastic_phase():
    y = np.ones(400)
    y[123] = np.nan
    src = lx.ArraySource({"y": y}, chunk_size=100)
    with pytest.raises(ValueError, match=r"'y' has NaN values at rows \[123\]"):
        lx.fit_stochastic(_rate, {"rate": 1.0}, src, constraints=RATE, steps=10,
                          batch_size=50)  # fmt: skip


class _Counting(lx.DataSource):
    def __init__(self, y):
        self.y, self.n, self.fields, self.reads = y, y.shape[0], {"y": ((), y.dtype)}, 0

    def read(self, start, stop):
        self.reads += 1
        return {"y": self.y[start:stop]}


def test_a_clean_source_is_checked_once_per_precision():
    src = _Counting(np.full(10, 2.0))
    f1 = lx.fit(_rate, {"rate": 1.0}, src, constraints=RATE)
    after_first = src.reads
    f2 = lx.fit(_rate, {"rate": 1.0}, src, constraints=RATE)
    # The second fit reads exactly as many blocks as the first, less the check.
    assert src.reads - after_first == after_first - 1
    assert float(f1.params["rate"]) == float(f2.params["rate"]) == pytest.approx(0.5)


# ----- options ------------------------------------------------------------------------
BAD_OPTIONS = [
    ("max_steps", -1, ValueError, r"max_steps must be a whole number >= 0 .*; got -1"),
    ("max_steps", 2.5, ValueError, r"max_steps must be a whole number >= 0"),
    ("max_steps", "10", TypeError, r"max_steps must be a number; got str"),
    ("max_steps", True, TypeError, r"max_steps must be a number; got bool"),
    ("tol", -1e-8, ValueError, r"tol must be a finite number >= 0; got -1e-08"),
    ("tol", float("nan"), ValueError, r"tol must be a finite number >= 0; got nan"),
    ("tol", "tight", TypeError, r"tol must be a number; got str"),
    ("gtol", float("inf"), ValueError, r"gtol must be a finite number >= 0; got inf"),
    ("rtol", -1.0, ValueError, r"rtol must be a finite number >= 0"),
    ("starts", 0, ValueError, r"starts must be >= 1"),
    ("starts", 2.0, TypeError, r"starts must be an int.*got float"),
    ("starts", True, TypeError, r"starts must be an int.*got bool"),
    ("starts", "ab", TypeError, r"starts must be an int.*got str"),
    ("start_scale", 0.0, ValueError, r"start_scale must be a finite number > 0"),
    ("start_scale", "wide", TypeError, r"start_scale must be a number"),
    ("chunk_size", 0, ValueError, r"chunk_size must be a positive integer or False"),
    ("chunk_size", 10.5, ValueError, r"chunk_size must be a positive integer"),
    ("chunk_size", "auto", TypeError, r"chunk_size must be a number"),
    ("dtype", "quad", TypeError, r"dtype must be 'float64'.*not a data type"),
    ("dtype", "int32", ValueError, r"dtype must be 'float64'"),
    ("cov", 3, TypeError, r"cov must be a string"),
    ("cov", "hc4", ValueError, r"cov must be one of"),
    ("nobs", 0, ValueError, r"nobs must be a finite number > 0; got 0"),
    ("nobs", "many", TypeError, r"nobs must be a number"),
    ("method", "simplex", ValueError, r"Unknown method 'simplex'"),
]


@pytest.mark.parametrize("name, value, exc, match", BAD_OPTIONS)
def test_bad_fit_options_are_named(name, value, exc, match):
    y = np.array([0.5, 1.5, 2.0, 3.0])
    with pytest.raises(exc, match=match):
        lx.fit(normal_mean, {"mu": 0.0}, {"y": y}, **{name: value})


def test_whole_float_options_and_zero_steps_are_accepted():
    y = np.array([0.5, 1.5, 2.0, 3.0])
    f = lx.fit(normal_mean, {"mu": 0.0}, {"y": y}, max_steps=1e2, chunk_size=2.0)
    assert float(f.params["mu"]) == pytest.approx(y.mean(), rel=1e-12)
    # max_steps=0 evaluates at the start: the estimate is the starting value.
    with pytest.warns(lx.ConvergenceWarning, match="Stopped at max_steps"):
        f0 = lx.fit(normal_mean, {"mu": 0.25}, {"y": y}, max_steps=0)
    assert f0.status == lx.Status.max_steps and float(f0.params["mu"]) == 0.25


def test_options_are_checked_by_entry_points_that_pass_them_on(reg):
    X, y = reg
    with pytest.raises(ValueError, match="max_steps must be a whole number >= 0"):
        lx.glm(y, X, max_steps=-3)
    with pytest.raises(ValueError, match="tol must be a finite number >= 0"):
        lx.fit_distribution("normal", y, tol=-1.0)
    with pytest.raises(TypeError, match="gtol must be a number"):
        lx.fit_many(normal_mean, {"mu": 0.0}, {"y": np.ones((2, 3))}, gtol="x")
    with pytest.raises(ValueError, match="max_steps must be a whole number >= 0"):
        lx.fit_map(normal_mean, {"mu": 0.0}, {"y": y}, max_steps=-1)


# ----- fit_distribution where no MLE exists -------------------------------------------
@pytest.mark.parametrize(
    "family, value, why",
    [
        ("normal", 2.0, "sigma goes to 0"),
        ("lognormal", 2.0, "sigma goes to 0"),
        ("gamma", 2.0, "shape goes to infinity"),
        ("weibull", 2.0, "shape goes to infinity"),
        ("beta", 0.5, "a and b go to infinity"),
        ("student_t", -1.0, "scale goes to 0"),
        ("logistic", 0.0, "scale goes to 0"),
        ("gumbel", 3.0, "scale goes to 0"),
        ("pareto", 2.0, "shape goes to infinity"),
        ("negbin", 2.0, "size goes to infinity.*family 'poisson'"),
        ("zip", 2.0, "pi goes to 0.*family 'poisson'"),
        ("exponential", 0.0, "rate goes to infinity"),
        ("poisson", 0.0, "rate goes to 0"),
        ("geometric", 0.0, "prob goes to 1"),
        ("negbin", 0.0, "mu goes to 0"),
        ("zip", 0.0, "pi goes to 1 or rate goes to 0"),
    ],
)
def test_constant_sample_without_an_mle(family, value, why):
    x = np.full(25, value)
    with pytest.raises(
        ValueError,
        match=rf"x is constant \(all 25 values equal {value:g}\), so the {family} "
        rf"family cannot be estimated: the likelihood keeps rising as {why}",
    ):
        lx.fit_distribution(family, x)


def test_binomial_counts_on_the_boundary():
    with pytest.raises(ValueError, match="Every count in x is 0.*boundary"):
        lx.fit_distribution("binomial", np.zeros(10), trials=3)
    with pytest.raises(ValueError, match="equal to its number of trials"):
        lx.fit_distribution("binomial", np.array([1, 2, 3]), trials=np.array([1, 2, 3]))


def test_censored_sample_of_exact_equal_values_has_no_mle():
    x = np.full(12, 1.5)
    with pytest.raises(ValueError, match="x is constant.*weibull family"):
        lx.fit_distribution("weibull", lower=x, upper=x)


@pytest.mark.parametrize(
    "family, c, kw, name, est, se",
    [
        # closed forms: exponential rate 1/c with information n / rate^2;
        # Poisson rate c with information n / c; geometric prob 1/(1+c) with
        # information n / (p^2 (1-p)); binomial prob c/m with information
        # n m / (p (1-p)).
        ("exponential", 2.0, {}, "rate", 0.5, 0.5 / np.sqrt(30)),
        ("poisson", 3.0, {}, "rate", 3.0, np.sqrt(3.0 / 30)),
        ("geometric", 2.0, {}, "prob", 1 / 3, np.sqrt((1 / 9) * (2 / 3) / 30)),
        ("binomial", 1.0, {"trials": 4}, "prob", 0.25, np.sqrt(0.25 * 0.75 / 120)),
    ],
)
def test_constant_sample_with_a_finite_mle(family, c, kw, name, est, se):
    f = lx.fit_distribution(family, np.full(30, c), **kw)
    assert f.converged
    assert float(f.params[name]) == pytest.approx(est, rel=1e-9)
    assert float(f.se[name]) == pytest.approx(se, rel=1e-6)


# ----- load_result on damaged files ---------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    f = lx.fit(
        lambda p, d: st.norm.logpdf(d["y"], p["mu"], p["sigma"]),
        {"mu": 0.0, "sigma": 1.0},
        {"y": np.array([0.3, 1.2, 2.5, 0.9, 1.6])},
        constraints=POS,
    )
    stem = tmp_path / "r"
    json_path, npz_path = f.save(stem)
    return stem, json_path, npz_path


def _write(json_path, npz_path, meta, blob):
    npz_path.write_bytes(blob)
    json_path.write_text(
        json.dumps(dict(meta, npz_sha256=hashlib.sha256(blob).hexdigest()))
    )


def _arrays(npz_path):
    with np.load(npz_path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _npz(arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_npz_header_declaring_a_huge_array(saved):
    stem, json_path, npz_path = saved
    meta = json.loads(json_path.read_text())
    raw = npz_path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "trace.npy":
                f = io.BytesIO(data)
                np.lib.format.read_magic(f)
                np.lib.format.read_array_header_1_0(f)
                head = io.BytesIO()
                np.lib.format.write_array_header_1_0(
                    head, {"descr": "<f8", "fortran_order": False, "shape": (10**11,)}
                )
                data = head.getvalue() + f.read()
            zout.writestr(info.filename, data)
    _write(json_path, npz_path, meta, out.getvalue())
    with pytest.raises(
        ValueError,
        match=r"array 'trace' declares shape \(100000000000,\) "
        r"\(800000000000 bytes\) but the \.npz holds \d+ bytes",
    ):
        lx.load_result(stem)


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda m: m["params"][0].update(shape=[10**6, 10**6]),
         (r"entry 'params' declares 1000000000001 parameter values \(parameter 'mu' "
          r"alone 1000000000000\), far more")),
        (lambda m: m["arrays"]["cov"].update(shape=[10**9, 10**9]),
         r"entry 'arrays' declares 'cov' of shape \(1000000000, 1000000000\), far"),
        (lambda m: m["params"][1].update(shape=[-2]),
         r"entry 'params' gives parameter 'sigma' the shape \[-2\]"),
        (lambda m: m.update(status="exploded"),
         r"entry 'status' is 'exploded', which is not a likelihax.Status"),
        (lambda m: m.update(params_tree=json.loads('{"list": [' * 70 + '{"leaf": 0}'
                                                   + "]}" * 70)),
         r"entry 'params_tree' is nested more than 64 levels deep"),
    ],
)  # fmt: skip
def test_json_entries_that_do_not_fit_the_file(saved, edit, match):
    stem, json_path, npz_path = saved
    meta = json.loads(json_path.read_text())
    edit(meta)
    _write(json_path, npz_path, meta, npz_path.read_bytes())
    with pytest.raises(ValueError, match=match):
        lx.load_result(stem)


def test_json_nested_beyond_what_python_parses(saved):
    stem, json_path, _ = saved
    text = json_path.read_text()
    deep = '{"list": [' * 100_000 + '{"leaf": 0}' + "]}" * 100_000
    json_path.write_text(
        text.replace('"params_tree": {', f'"params_tree": {deep}, "x": {{', 1)
    )
    with pytest.raises(ValueError, match="nested too deeply to read"):
        lx.load_result(stem)


@pytest.mark.parametrize("key", ["status", "multistart_status"])
def test_unknown_status_codes(saved, key):
    stem, json_path, npz_path = saved
    meta = json.loads(json_path.read_text())
    arrays = _arrays(npz_path)
    if key == "status":
        arrays["status"] = np.array(99, np.int32)
    else:  # a multi-start record with one unknown code
        k = arrays["params"].shape[0]
        arrays.update(
            multistart_loglik=np.zeros(2),
            multistart_status=np.array([0, 42], np.int32),
            multistart_params=np.zeros((2, k)),
        )
        for name in ("multistart_loglik", "multistart_status", "multistart_params"):
            meta["arrays"][name] = {"shape": list(arrays[name].shape),
                                    "dtype": arrays[name].dtype.name}  # fmt: skip
    _write(json_path, npz_path, meta, _npz(arrays))
    code = 99 if key == "status" else 42
    with pytest.raises(
        ValueError,
        match=rf"array '{key}' holds the status code {code}, which is not "
        r"a likelihax.Status",
    ):
        lx.load_result(stem)


def test_status_entry_must_agree_with_the_array(saved):
    stem, json_path, npz_path = saved
    meta = json.loads(json_path.read_text())
    meta["status"] = "max_steps"
    _write(json_path, npz_path, meta, npz_path.read_bytes())
    with pytest.raises(
        ValueError,
        match="entry 'status' is 'max_steps' but array 'status' holds 'success'",
    ):
        lx.load_result(stem)


def test_new_public_helpers_refuse_bad_input():
    """Constraint records, delta_se, register_result_class and fit(method=)
    name what is wrong, and delta_se leaves the caller's arrays as they were."""
    import jax.numpy as jnp

    from likelihax import constraints as C
    from likelihax.inference import delta_se
    from likelihax.results import register_result_class

    with pytest.raises(TypeError, match="read from a dict"):
        C.from_dict([1])
    with pytest.raises(ValueError, match="needs the field 'upper'"):
        C.from_dict({"kind": "interval", "lower": 0.0})
    assert C.from_dict(C.less_than(2.0).to_dict()) == C.less_than(2.0)
    with pytest.raises(ValueError, match=r"V of shape \(3, 3\)"):
        delta_se(lambda b: b, np.ones(2), np.eye(3))
    with pytest.raises(TypeError, match="dataclass subclass of FitResult"):
        register_result_class(int)
    with pytest.raises(TypeError, match="a solver object"):
        lx.fit(lambda p, d: -(p["m"] ** 2), {"m": 0.0}, {}, method=3)
    x, V = np.array([0.0, 1.0]), np.diag([0.04, 0.01])
    x0, V0 = x.copy(), V.copy()
    _, _, se = delta_se(lambda b: jnp.exp(b), x, V)
    np.testing.assert_allclose(se, np.exp(x) * np.sqrt(np.diag(V)), rtol=1e-12)
    assert np.array_equal(x, x0) and np.array_equal(V, V0)
