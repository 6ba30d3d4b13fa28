"""Engine: observation weights, Fisher scoring / expected information, M-estimation,
covariance scaling and result annotation.

References are independent: duplicated rows (frequency weights), closed-form
numpy formulas for the logistic and probit information and sandwich, and the
closed-form expected information of the normal model.
"""

import jax
import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import pytest
from scipy.stats import norm as sp_norm

import likelihax as lx


def logistic(p, d):
    eta = d["X"] @ p["b"]
    return d["y"] * eta - jnp.logaddexp(0.0, eta)


def logistic_fisher(p, d):
    eta = d["X"] @ p["b"]
    mu = jax.nn.sigmoid(eta)
    return eta, mu * (1 - mu)


def probit(p, d):
    eta = d["X"] @ p["b"]
    return d["y"] * st.norm.logcdf(eta) + (1 - d["y"]) * st.norm.logcdf(-eta)


def probit_fisher(p, d):
    eta = d["X"] @ p["b"]
    mu = st.norm.cdf(eta)
    return eta, st.norm.pdf(eta) ** 2 / (mu * (1 - mu))


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(11)
    n = 400
    X = np.c_[np.ones(n), rng.normal(size=(n, 2))]
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ [0.3, 1.0, -0.5]))).astype(float)
    w = rng.integers(0, 4, n)
    return {"X": X, "y": y}, w


LOGIT = lx.Model(logistic, {"b": jnp.zeros(3)}, fisher=logistic_fisher)
PROBIT = lx.Model(probit, {"b": jnp.zeros(3)}, fisher=probit_fisher)


def test_frequency_weights_equal_duplicated_rows(binary):
    data, w = binary
    a = lx.fit(LOGIT, data, weights=w)
    dup = {k: np.repeat(v, w, axis=0) for k, v in data.items()}
    b = lx.fit(LOGIT, dup)
    np.testing.assert_allclose(a.params["b"], b.params["b"], rtol=1e-12)
    np.testing.assert_allclose(a.se["b"], b.se["b"], rtol=1e-12)
    np.testing.assert_allclose(a.loglik, b.loglik, rtol=1e-12)
    assert a.nobs == b.nobs == int(w.sum())
    np.testing.assert_allclose(a.bic, b.bic, rtol=1e-12)
    for kind in ("opg", "sandwich", "eim"):
        np.testing.assert_allclose(
            a.vcov(kind).matrix, b.vcov(kind).matrix, rtol=1e-10, atol=1e-15
        )
    assert "Frequency weights" in a.summary().to_text()


def test_importance_weights_sandwich_matches_closed_form(binary):
    data, w = binary
    w = w + 0.5  # non-integer sampling weights
    f = lx.fit(LOGIT, data, weights=w, weight_type="importance")
    assert f.cov.kind == "sandwich" and f.nobs == len(w)
    assert np.isnan(f.aic) and np.isnan(f.bic)
    X, y = data["X"], data["y"]
    b = np.asarray(f.params["b"])
    p = 1 / (1 + np.exp(-X @ b))
    np.testing.assert_allclose(X.T @ (w * (y - p)), 0, atol=1e-10)  # weighted score
    H = (X * (w * p * (1 - p))[:, None]).T @ X
    B = (X * (w**2 * (y - p) ** 2)[:, None]).T @ X
    Hi = np.linalg.inv(H)
    np.testing.assert_allclose(f.cov.matrix, Hi @ B @ Hi, rtol=1e-10)
    text = f.summary().to_text()
    assert "Importance weights" in text and "AIC:" not in text
    # Asking for the inverse information with importance weights is allowed but flagged.
    g = lx.fit(LOGIT, data, weights=w, weight_type="importance", cov="oim")
    np.testing.assert_allclose(g.cov.matrix, Hi, rtol=1e-10)
    assert "not valid in general" in g.summary().to_text()


def test_weights_chunked_equal_unchunked(binary):
    data, w = binary
    a = lx.fit(LOGIT, data, weights=w, chunk_size=False)
    b = lx.fit(LOGIT, data, weights=w, chunk_size=37)
    np.testing.assert_allclose(a.params["b"], b.params["b"], rtol=1e-12)
    np.testing.assert_allclose(a.se["b"], b.se["b"], rtol=1e-12)
    c = lx.fit(LOGIT, data, weights=w, method="fisher", cov="eim", chunk_size=37)
    np.testing.assert_allclose(c.se["b"], a.se["b"], rtol=1e-10)


def test_fisher_scoring_equals_newton_for_canonical_link(binary):
    data, _ = binary
    nt = lx.fit(LOGIT, data)
    fs = lx.fit(LOGIT, data, method="fisher", cov="eim")
    assert fs.method == "fisher" and fs.cov.kind == "eim"
    np.testing.assert_allclose(fs.params["b"], nt.params["b"], rtol=1e-12)
    np.testing.assert_allclose(fs.se["b"], nt.se["b"], rtol=1e-12)
    np.testing.assert_allclose(fs.vcov("oim").matrix, nt.cov.matrix, rtol=1e-12)


def test_probit_expected_information_closed_form(binary):
    data, _ = binary
    nt = lx.fit(PROBIT, data)  # observed information
    fs = lx.fit(PROBIT, data, method="fisher", cov="eim")
    np.testing.assert_allclose(fs.params["b"], nt.params["b"], rtol=1e-10)
    X = data["X"]
    eta = X @ np.asarray(fs.params["b"])
    mu = sp_norm.cdf(eta)
    c = sp_norm.pdf(eta) ** 2 / (mu * (1 - mu))
    eim_inv = np.linalg.inv((X * c[:, None]).T @ X)
    np.testing.assert_allclose(fs.cov.matrix, eim_inv, rtol=1e-10)
    # Non-canonical link: observed and expected information differ.
    assert not np.allclose(nt.cov.matrix, eim_inv, rtol=1e-4)
    np.testing.assert_allclose(nt.vcov("eim").matrix, eim_inv, rtol=1e-8)
    np.testing.assert_allclose(fs.vcov("oim").matrix, nt.cov.matrix, rtol=1e-8)


def test_vector_linear_predictor_expected_information():
    # Normal(mu, sigma) with eta = (mu, log sigma): E-information diag(1/s^2, 2) per row.
    y = np.array([0.3, -1.2, 2.2, 0.8, 1.9, -0.4, 1.1])
    n = len(y)

    def ll(p, d):
        return st.norm.logpdf(d["y"], p["mu"], jnp.exp(p["log_s"]))

    def fisher(p, d):
        eta = jnp.stack([jnp.full(n, p["mu"]), jnp.full(n, p["log_s"])], axis=1)
        c = jnp.zeros((n, 2, 2)).at[:, 0, 0].set(jnp.exp(-2 * p["log_s"]))
        return eta, c.at[:, 1, 1].set(2.0)

    m = lx.Model(ll, {"mu": 0.0, "log_s": 0.0}, fisher=fisher)
    f = lx.fit(m, {"y": y}, method="fisher", cov="eim")
    s = y.std()
    np.testing.assert_allclose(f.params["mu"], y.mean(), rtol=1e-12)
    np.testing.assert_allclose(np.exp(f.params["log_s"]), s, rtol=1e-12)
    np.testing.assert_allclose(f.se["mu"], s / np.sqrt(n), rtol=1e-10)
    np.testing.assert_allclose(f.se["log_s"], np.sqrt(1 / (2 * n)), rtol=1e-10)


def test_m_estimation_objective(binary):
    data, _ = binary

    def neg_huberish(p, d):  # not a likelihood: minus a loss
        r = d["y"] - jax.nn.sigmoid(d["X"] @ p["b"])
        return -(r**2)

    f = lx.fit(neg_huberish, {"b": jnp.zeros(3)}, data, likelihood=False)
    assert not f.is_likelihood and f.cov.kind == "sandwich"
    assert np.isnan(f.aic) and np.isnan(f.bic)
    # Independent sandwich: numpy finite differences of the estimating functions.
    X, y = data["X"], data["y"]
    b0 = np.asarray(f.params["b"])

    def psi(b):  # (n, k) per-observation gradient of -(y - sigmoid)^2
        p = 1 / (1 + np.exp(-X @ b))
        return (2 * (y - p) * p * (1 - p))[:, None] * X

    h = 1e-6
    A = np.stack(
        [(psi(b0 + h * e).sum(0) - psi(b0 - h * e).sum(0)) / (2 * h) for e in np.eye(3)],
        axis=1,
    )
    P = psi(b0)
    Ai = np.linalg.inv(A)
    np.testing.assert_allclose(f.cov.matrix, Ai @ (P.T @ P) @ Ai.T, rtol=1e-6)
    text = f.summary().to_text()
    assert "M-estimation" in text and "AIC:" not in text


def test_scale_cov_and_annotate(binary):
    data, _ = binary
    f = lx.fit(LOGIT, data, method="fisher", cov="eim")
    g = f.scale_cov(2.25, "dispersion 2.25 (test)")
    np.testing.assert_allclose(g.se["b"], 1.5 * np.asarray(f.se["b"]), rtol=1e-14)
    np.testing.assert_allclose(g.vcov("eim").matrix, 2.25 * f.cov.matrix, rtol=1e-12)
    np.testing.assert_allclose(g.vcov("sandwich").matrix, f.vcov("sandwich").matrix)
    assert "dispersion 2.25 (test)" in g.cov.description
    h = g.annotate("Binomial GLM", [("Link", "logit")], ["A note."])
    s = h.summary()
    assert ("Model", "Binomial GLM") in s.header and ("Link", "logit") in s.header
    assert "A note." in s.notes
    np.testing.assert_allclose(h.se["b"], g.se["b"])
    with pytest.raises(ValueError, match="positive and finite"):
        f.scale_cov(-1.0, "bad")


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(weights=np.ones(3)), ValueError, r"shape \(400,\)"),
        (dict(weights=-np.ones(400)), ValueError, "non-negative"),
        (dict(weights=np.r_[np.nan, np.ones(399)]), ValueError, "non-finite"),
        (dict(weights=np.zeros(400)), ValueError, "All weights are zero"),
        (dict(weights=np.array(["a"] * 400)), TypeError, "numeric"),
        (dict(weights=np.ones(400), weight_type="analytic"), ValueError, "weight_type"),
    ],
)
def test_weight_errors(binary, kwargs, exc, match):
    data, _ = binary
    with pytest.raises(exc, match=match):
        lx.fit(LOGIT, data, **kwargs)


def test_fisher_needs_expected_information(binary):
    data, _ = binary
    for kw in (dict(method="fisher"), dict(cov="eim")):
        with pytest.raises(ValueError, match="fisher=fn"):
            lx.fit(logistic, {"b": jnp.zeros(3)}, data, **kw)
    f = lx.fit(logistic, {"b": jnp.zeros(3)}, data)
    with pytest.raises(ValueError, match="fisher=fn"):
        f.vcov("eim")


def test_weights_need_per_observation_terms(binary):
    data, w = binary
    with pytest.raises(ValueError, match="per-observation"):
        lx.fit(lambda p, d: jnp.sum(logistic(p, d)), {"b": jnp.zeros(3)}, data, weights=w)


def test_weights_not_mutated(binary):
    data, w = binary
    w = w.astype(float)
    before = w.copy()
    lx.fit(LOGIT, data, weights=w, weight_type="importance")
    np.testing.assert_array_equal(w, before)


def test_weights_vmap_bootstrap_style(binary):
    # Weights are a traced argument: a vmap over weight vectors is one program.
    data, _ = binary
    rng = np.random.default_rng(3)
    W = rng.multinomial(400, np.full(400, 1 / 400), size=3).astype(float)
    with jax.enable_x64(True):
        batched = jax.vmap(lambda w: lx.fit(LOGIT, data, weights=w).params["b"])(
            jnp.asarray(W)
        )
    for i in range(3):
        one = lx.fit(LOGIT, data, weights=W[i]).params["b"]
        np.testing.assert_allclose(batched[i], one, rtol=1e-10)
