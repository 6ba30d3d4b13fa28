"""Saving and loading fit results (JSON + .npz, never pickle).

Round trips: a plain fit with constraints and vector parameters, a GLM result,
a fit with a sandwich covariance and a multi-start fit each come back with the
same estimates, standard errors, covariance, log-likelihood, AIC/BIC,
intervals, summary (text and HTML) and labels; the numbers themselves are
checked against closed forms and statsmodels. Loaded results refuse what needs
the log-likelihood function; damaged files raise clear errors.
"""

from __future__ import annotations

import json
import math
import zipfile

import jax.scipy.stats as st
import numpy as np
import pytest
import statsmodels.api as sm

import likelihax as lx


def _regression(p, d):
    mu = p["intercept"] + d["X"] @ p["beta"]
    return st.norm.logpdf(d["y"], mu, p["sigma"])


@pytest.fixture(scope="module")
def reg_data(make_rng):
    rng = make_rng(31)
    n = 60
    X = rng.normal(size=(n, 2))
    y = 0.5 + X @ np.array([1.0, -2.0]) + rng.normal(scale=0.7, size=n)
    return {"X": X, "y": y}


@pytest.fixture(scope="module")
def reg_fit(reg_data):
    return lx.fit(
        _regression, {"intercept": 0.0, "beta": np.zeros(2), "sigma": 1.0},
        reg_data, constraints={"sigma": lx.constraints.positive},
    )  # fmt: skip


def _same(a, b):
    """Exact equality of two pytrees of arrays (NaN equal to NaN)."""
    la, lb = (np.asarray(x) for x in (a, b))
    assert la.shape == lb.shape
    np.testing.assert_array_equal(la, lb)


def _assert_round_trip(orig, back):
    for k in orig.params:
        _same(orig.params[k], back.params[k])
        _same(orig.se[k], back.se[k])
    assert back.labels == orig.labels
    _same(orig.cov.matrix, back.cov.matrix)
    assert back.cov.labels == orig.cov.labels
    assert back.cov.description == orig.cov.description
    assert float(back.loglik) == float(orig.loglik)
    for a in ("aic", "bic"):
        assert float(getattr(back, a)) == float(getattr(orig, a))
    lo0, hi0 = orig.conf_int(0.1)
    lo1, hi1 = back.conf_int(0.1)
    for k in orig.params:
        _same(lo0[k], lo1[k])
        _same(hi0[k], hi1[k])
    _same(orig.trace, back.trace)
    _same(orig.params_unconstrained, back.params_unconstrained)
    assert back.unconstrained_labels == orig.unconstrained_labels
    assert back.status == orig.status and bool(back.converged) == bool(orig.converged)
    assert back.nobs == orig.nobs and back.n_params == orig.n_params


def test_plain_fit_round_trip(reg_fit, reg_data, tmp_path):
    fit = reg_fit
    paths = fit.save(tmp_path / "reg")
    assert [p.name for p in paths] == ["reg.json", "reg.npz"]
    back = lx.load_result(tmp_path / "reg")
    _assert_round_trip(fit, back)
    assert back.summary().to_text() == fit.summary().to_text()
    assert back.summary().to_html() == fit.summary().to_html()
    assert back._repr_html_() == fit._repr_html_()
    assert list(back.params) == ["intercept", "beta", "sigma"]  # written order
    # the numbers are the OLS estimates (independent reference: statsmodels)
    X = sm.add_constant(reg_data["X"])
    ols = sm.OLS(reg_data["y"], X).fit()
    np.testing.assert_allclose(back.params["beta"], ols.params[1:], rtol=1e-6)
    sigma_mle = math.sqrt(ols.ssr / len(reg_data["y"]))
    np.testing.assert_allclose(back.params["sigma"], sigma_mle, rtol=1e-6)
    np.testing.assert_allclose(back.loglik, ols.llf, rtol=1e-9)
    # the transformed interval needs the constraint: rebuilt by name
    lo, hi = back.conf_int(method="transformed")
    lo0, hi0 = fit.conf_int(method="transformed")
    np.testing.assert_allclose(lo["sigma"], lo0["sigma"], rtol=1e-14)
    np.testing.assert_allclose(hi["sigma"], hi0["sigma"], rtol=1e-14)
    # Wald test and delta method work from the stored covariance
    t0 = lx.wald_test(fit, "beta[0] = 0")
    t1 = lx.wald_test(back, "beta[0] = 0")
    assert t1.statistic == pytest.approx(t0.statistic, rel=1e-12)


def test_json_is_readable_and_npz_has_no_pickle(reg_fit, tmp_path):
    json_path, npz_path = lx.save_result(reg_fit, tmp_path / "r.json")
    meta = json.loads(json_path.read_text())
    assert meta["format"] == "likelihax-result" and meta["format_version"] == 1
    assert meta["labels"] == ["intercept", "beta[0]", "beta[1]", "sigma"]
    assert meta["k"] == 4 and meta["nobs"] == 60
    assert meta["method"] == reg_fit.method and meta["converged"] is True
    assert meta["loglik"] == pytest.approx(float(reg_fit.loglik), rel=1e-15)
    assert meta["aic"] == pytest.approx(-2 * float(reg_fit.loglik) + 8, rel=1e-15)
    cons = {p["name"]: p["constraint"]["name"] for p in meta["params"]}
    assert cons == {"beta": "real", "intercept": "real", "sigma": "positive"}
    assert {p["name"]: p["shape"] for p in meta["params"]}["beta"] == [2]
    assert meta["cov_kind"] == "oim" and "observed information" in meta[
        "cov_description"]  # fmt: skip
    assert meta["dtype"] == "float64" and "jax" in meta["versions"]
    # every member of the .npz is a plain numeric .npy (loads without pickle)
    with np.load(npz_path, allow_pickle=False) as z:
        for k in z.files:
            assert z[k].dtype.kind in "biuf", k
        np.testing.assert_array_equal(z["se"], np.sqrt(np.diag(z["cov"])))
    with zipfile.ZipFile(npz_path) as zf:  # arrays only: one .npy per array
        assert sorted(zf.namelist()) == sorted(f"{k}.npy" for k in meta["arrays"])


def test_glm_result_round_trip(tmp_path, make_rng):
    rng = make_rng(32)
    n = 80
    x = rng.normal(size=n)
    y = rng.poisson(np.exp(0.3 + 0.6 * x))
    X = np.column_stack([np.ones(n), x])
    res = lx.glm(y, X, family="poisson")
    res.save(tmp_path / "glm")  # = lx.save_result(res, path)
    back = lx.load_result(tmp_path / "glm")
    _assert_round_trip(res.fit, back)
    assert back.summary().to_text() == res.summary().to_text()
    assert back.summary().to_html() == res.summary().to_html()
    assert float(back.aic) == pytest.approx(res.aic, rel=1e-14)
    ref = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    np.testing.assert_allclose(float(back.aic), ref.aic, rtol=1e-8)
    np.testing.assert_allclose(back.cov.matrix, ref.cov_params(), rtol=1e-6)


def test_gaussian_glm_keeps_dispersion_scaling(tmp_path, make_rng):
    rng = make_rng(33)
    n = 50
    x = rng.normal(size=n)
    y = 1.0 + 2.0 * x + rng.normal(scale=1.5, size=n)
    X = np.column_stack([np.ones(n), x])
    res = lx.glm(y, X, family="gaussian")
    lx.save_result(res, tmp_path / "g")
    back = lx.load_result(tmp_path / "g")
    assert back.summary().to_text() == res.summary().to_text()
    assert float(back.aic) == pytest.approx(res.aic, rel=1e-14)  # counts phi
    ols = sm.OLS(y, X).fit()
    np.testing.assert_allclose(back.cov.matrix, ols.cov_params(), rtol=1e-6)
    np.testing.assert_allclose(float(back.aic), ols.aic + 2, rtol=1e-9)  # + phi


def test_sandwich_fit_round_trip(reg_data, tmp_path):
    fit = lx.fit(
        _regression, {"intercept": 0.0, "beta": np.zeros(2), "sigma": 1.0},
        reg_data, constraints={"sigma": lx.constraints.positive}, cov="sandwich",
    )  # fmt: skip
    fit.save(tmp_path / "sw")
    back = lx.load_result(tmp_path / "sw")
    _assert_round_trip(fit, back)
    assert back.summary().to_text() == fit.summary().to_text()
    assert "sandwich" in back.cov.description
    # HC0 of the coefficients equals statsmodels' (the sigma row differs)
    X = sm.add_constant(reg_data["X"])
    hc0 = sm.OLS(reg_data["y"], X).fit(cov_type="HC0").cov_params()
    np.testing.assert_allclose(np.asarray(back.cov.matrix)[:3, :3], hc0, rtol=1e-5)


def test_multistart_fit_round_trip(tmp_path, make_rng):
    rng = make_rng(34)
    y = np.r_[rng.normal(-1.5, 0.5, 40), rng.normal(1.5, 0.5, 60)]

    def mix(p, d):
        a = st.norm.logpdf(d["y"], p["m"][0], 0.5)
        b = st.norm.logpdf(d["y"], p["m"][1], 0.5)
        return _logmix(a, b, p["w"])

    fit = lx.fit(
        mix, {"w": 0.5, "m": np.array([-1.0, 1.0]), "ok": lx.Param(0.5, fixed=True)},
        {"y": y}, constraints={"w": lx.constraints.unit_interval}, starts=4,
    )  # fmt: skip
    fit.save(tmp_path / "ms")
    back = lx.load_result(tmp_path / "ms")
    _assert_round_trip(fit, back)
    assert back.summary().to_text() == fit.summary().to_text()
    assert back.multistart.summary() == fit.multistart.summary()
    assert np.isnan(back.se["ok"]) and float(back.params["ok"]) == 0.5
    # reference: the weight of the first component is near its sample share
    assert float(back.params["w"]) == pytest.approx(0.4, abs=0.05)


def _logmix(a, b, w):
    import jax.numpy as jnp

    return jnp.logaddexp(jnp.log(w) + a, jnp.log1p(-w) + b)


def test_loaded_result_refuses_what_needs_the_function(reg_fit, reg_data, tmp_path):
    reg_fit.save(tmp_path / "r")
    back = lx.load_result(tmp_path / "r")
    msg = "loaded from .*not the log-likelihood function"
    with pytest.raises(ValueError, match=msg):
        lx.profile(back, "sigma")
    with pytest.raises(ValueError, match=msg):
        lx.bootstrap(back, 10)
    with pytest.raises(ValueError, match=msg):
        back.vcov("opg")
    with pytest.raises(ValueError, match=msg):
        back.vcov("sandwich", data=reg_data)
    assert "pickle" in str(pytest.raises(ValueError, back.vcov, "oim").value)
    assert back.source.endswith("r.json")
    # a loaded result can still be annotated and indexed like any result
    assert back.annotate("saved").summary().header[0] == ("Model", "saved")
    # and the likelihood-ratio test against a fresh restricted fit works
    restricted = lx.fit(
        _regression, {"intercept": 0.0, "beta": lx.Param(np.zeros(2), fixed=True),
                      "sigma": 1.0},
        reg_data, constraints={"sigma": lx.constraints.positive},
    )  # fmt: skip
    t = lx.lr_test(restricted, back)
    assert t.statistic == pytest.approx(
        2 * (float(reg_fit.loglik) - float(restricted.loglik)), rel=1e-12
    )


def test_bad_files_give_clear_errors(reg_fit, tmp_path):
    stem = tmp_path / "r"
    json_path, npz_path = reg_fit.save(stem)
    meta = json.loads(json_path.read_text())

    with pytest.raises(FileNotFoundError, match="does not exist"):
        lx.load_result(tmp_path / "nothing")

    def write(m):
        json_path.write_text(json.dumps(m))

    write(dict(meta, format_version=99))
    with pytest.raises(ValueError, match="format_version 99.*Upgrade likelihax"):
        lx.load_result(stem)
    write({"hello": 1})
    with pytest.raises(ValueError, match="not a likelihax result"):
        lx.load_result(stem)
    json_path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        lx.load_result(stem)

    write(meta)
    blob = npz_path.read_bytes()
    with np.load(npz_path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["cov"] = arrays["cov"][:3, :3]  # tampered shape
    np.savez(npz_path, **arrays)
    with pytest.raises(ValueError, match="SHA-256 differs"):
        lx.load_result(stem)
    # the same tampering with the checksum and listed shape updated to match
    import hashlib

    m2 = json.loads(json.dumps(meta))
    m2["npz_sha256"] = hashlib.sha256(npz_path.read_bytes()).hexdigest()
    write(m2)
    with pytest.raises(ValueError, match="'cov' has shape \\(3, 3\\) in the .npz"):
        lx.load_result(stem)
    m2["arrays"]["cov"]["shape"] = [3, 3]
    write(m2)
    with pytest.raises(ValueError, match="'cov' has shape \\(3, 3\\); the parameters"):
        lx.load_result(stem)

    write(meta)
    npz_path.write_bytes(blob)
    assert float(lx.load_result(stem).loglik) == float(reg_fit.loglik)
    npz_path.unlink()
    with pytest.raises(FileNotFoundError, match="r.npz' is missing.*copy both"):
        lx.load_result(stem)


def test_unsaveable_inputs(reg_fit, tmp_path):
    with pytest.raises(TypeError, match="saves a likelihax.FitResult"):
        lx.save_result({"a": 1}, tmp_path / "x")
    ys = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
    fits = lx.fit_many(
        lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0), {"mu": 0.0}, {"y": ys}
    )
    with pytest.raises(ValueError, match="batched or traced.*fits\\[i\\]"):
        lx.save_result(fits, tmp_path / "x")
    one = fits[1]
    one.save(tmp_path / "one")
    assert float(lx.load_result(tmp_path / "one").params["mu"]) == pytest.approx(4.0)


def test_multinomial_result_and_resave(tmp_path, make_rng):
    rng = make_rng(35)
    n = 90
    x = rng.normal(size=n)
    y = np.where(x + rng.logistic(size=n) > 0.5, "c", rng.choice(["a", "b"], n))
    X = np.column_stack([np.ones(n), x])
    res = lx.mnlogit(y, X, columns=["const", "x"])
    res.save(tmp_path / "mn")  # = lx.save_result(res, path)
    back = lx.load_result(tmp_path / "mn")
    _assert_round_trip(res.fit, back)
    assert back.summary().to_text() == res.summary().to_text()
    codes = np.searchsorted(np.array(res.levels), y)
    ref = sm.MNLogit(codes, X).fit(disp=0, method="newton")
    np.testing.assert_allclose(float(back.loglik), ref.llf, rtol=1e-10)
    # a loaded result saves again, unchanged
    back.save(tmp_path / "again")
    again = lx.load_result(tmp_path / "again")
    _assert_round_trip(back, again)
    assert again.summary().to_html() == res.summary().to_html()


def test_model_result_with_own_summary_is_refused(reg_fit, tmp_path):
    class Custom:
        fit = reg_fit

        def summary(self):
            return lx.Summary("custom", [("Model", "x")], ["a"], [], [])

    with pytest.raises(ValueError, match="save_result\\(result.fit, path\\)"):
        lx.save_result(Custom(), tmp_path / "c")


def test_map_fit_round_trip_keeps_its_label(tmp_path):
    """A MAP (lx.fit_map) reloads as a MAP: title, log-posterior row, no AIC."""
    import jax.numpy as jnp

    y = np.array([1.0, 0, 1, 1, 0, 1, 1, 1])

    def ll(p, d):
        return d["y"] * jnp.log(p["p"]) + (1 - d["y"]) * jnp.log1p(-p["p"])

    m = lx.fit_map(ll, {"p": 0.5}, {"y": y}, priors={"p": lx.priors.Beta(2.0, 2.0)})
    lx.save_result(m, tmp_path / "map")
    back = lx.load_result(tmp_path / "map")
    # Beta(2, 2) prior, 6 of 8: posterior mode (a + s - 1) / (a + b + n - 2).
    assert math.isclose(float(back.params["p"]), 7 / 10, rel_tol=1e-9)
    text = str(back.summary())
    assert text == str(m.summary())
    assert "MAP fit" in text and "Log-posterior" in text
    assert math.isnan(back.aic) and math.isnan(back.bic)


def test_save_to_missing_folder_or_bad_path(tmp_path, make_rng):
    y = make_rng(3).normal(size=20)
    fit = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], p["s"]),
                 {"mu": 0.0, "s": 1.0}, {"y": y},
                 constraints={"s": lx.constraints.positive})  # fmt: skip
    with pytest.raises(FileNotFoundError, match="folder .* does not exist"):
        fit.save(tmp_path / "missing" / "r")
    assert not (tmp_path / "missing").exists()
    with pytest.raises(TypeError, match="path must be a file stem"):
        fit.save(123)
