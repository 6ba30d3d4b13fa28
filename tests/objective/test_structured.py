"""``optimize._structured.jacfwd`` against ``jax.jacfwd`` (the reference).

The rewrite must give jax.jacfwd's numbers for any function, and must remove
the product of the data with the identity basis where there is one.
"""

import numpy as np
import pytest

import jax
import jax.numpy as jnp

import likelihax as lx
from likelihax.core._precision import x64_scope
from likelihax.objective import _structured
from likelihax.objective._structured import jacfwd



@pytest.fixture(autouse=True)
def _x64():
    """float64 for these tests only (the global JAX setting is left alone)."""
    with x64_scope():
        yield

rng = np.random.default_rng(7)
N = 40
X = rng.standard_normal((N, 4))
Y = (rng.random(N) < 0.4).astype(float)


def logistic(u, X, y):
    eta = u[0] + X @ u[1:5]
    return -jnp.sum(y * eta - jnp.logaddexp(0.0, eta))


def grad_aux(fn):
    def g(v, *args):
        f, gg = jax.value_and_grad(fn)(v, *args)
        return gg, (f, gg)

    return g


def multinomial(u, X, y):
    B = u[:8].reshape(4, 2)
    eta = jnp.concatenate([jnp.zeros((N, 1)), X @ B], 1)
    return -jnp.sum(jax.nn.log_softmax(eta)[:, 0] * y)


def transposed(u, X, y):  # the basis on the left of the product: beta @ X.T
    eta = (u[1:5] @ X.T) * 3.0 + u[0]
    return jnp.sum(jnp.exp(-0.5 * eta**2) * (1 + y))


def scaled(u, X, y):  # a constant times the parameters before the product
    eta = X @ (2.5 * u[1:5]) - jnp.exp(u[5])
    return jnp.sum(jnp.log1p(eta**2)) + jnp.sum(y * eta)


def no_data(u, X, y):  # no linear predictor: nothing to rewrite
    return jnp.sum(jnp.sin(u) * jnp.cumsum(u) ** 2)


def einsum_model(u, X, y):
    return jnp.sum(jnp.tanh(jnp.einsum("ij,j->i", X, u[:4]) + u[4] * y))


CASES = [
    (logistic, 5),
    (multinomial, 8),
    (transposed, 5),
    (scaled, 6),
    (no_data, 3),
    (einsum_model, 5),
]


@pytest.mark.parametrize("fn,k", CASES, ids=lambda c: getattr(c, "__name__", str(c)))
def test_hessian_equals_jax_jacfwd(fn, k):
    u = jnp.asarray(rng.standard_normal(k))
    H0, (f0, g0) = jax.jacfwd(grad_aux(fn), has_aux=True)(u, X, Y)
    H1, (f1, g1) = jacfwd(grad_aux(fn), has_aux=True)(u, X, Y)
    H2, _ = jax.jit(jacfwd(grad_aux(fn), has_aux=True))(u, X, Y)
    np.testing.assert_allclose(H1, H0, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H2, H0, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g1, g0, rtol=1e-14)
    assert float(f1) == pytest.approx(float(f0), rel=1e-14)


@pytest.mark.parametrize("fn,k", CASES[:4], ids=lambda c: getattr(c, "__name__", str(c)))
def test_jacobian_under_vmap_and_float32(fn, k):
    U = jnp.asarray(rng.standard_normal((3, k)))
    terms = lambda u, X, y: jax.grad(fn)(u, X, y)  # noqa: E731
    J0 = jax.vmap(jax.jacfwd(terms), (0, None, None))(U, X, Y)
    J1 = jax.jit(jax.vmap(jacfwd(terms), (0, None, None)))(U, X, Y)
    np.testing.assert_allclose(J1, J0, rtol=1e-12, atol=1e-12)
    U32, X32, Y32 = U.astype(jnp.float32), X.astype(jnp.float32), Y.astype(jnp.float32)
    J32 = jax.vmap(jacfwd(terms), (0, None, None))(U32, X32, Y32)
    assert J32.dtype == jnp.float32
    np.testing.assert_allclose(J32, J0, rtol=2e-4, atol=2e-4)


def test_concrete_data_in_closure_and_fallback(monkeypatch):
    u = jnp.asarray(rng.standard_normal(5))
    closed = lambda v: jax.grad(logistic)(v, X, Y)  # noqa: E731
    np.testing.assert_allclose(jacfwd(closed)(u), jax.jacfwd(closed)(u), rtol=1e-12)
    monkeypatch.setattr(_structured, "_K_MAX", 2)  # more parameters: plain jacfwd
    np.testing.assert_allclose(jacfwd(closed)(u), jax.jacfwd(closed)(u), rtol=1e-12)


def _big_dots(fun, *args):
    """dot_general equations with the observation axis in an operand (recursively)."""
    jaxpr = jax.make_jaxpr(fun)(*args).jaxpr

    def walk(jx):
        n = 0
        for e in jx.eqns:
            if e.primitive.name == "dot_general" and any(
                N in getattr(v.aval, "shape", ()) for v in e.invars
            ):
                n += 1
            for sub in jax.extend.core.jaxprs_in_params(e.params):
                n += walk(sub)
        return n

    return walk(jaxpr)


def test_identity_product_removed():
    """The Hessian of a linear-predictor model needs X'WX and X'r, X u: 3 data dots,
    where jax.jacfwd has a fourth (X times the basis)."""
    u = jnp.zeros(5)
    plain = _big_dots(jax.jacfwd(grad_aux(logistic), has_aux=True), u, X, Y)
    fast = _big_dots(jacfwd(grad_aux(logistic), has_aux=True), u, X, Y)
    assert plain == 4
    assert fast == 3


def test_fit_uses_it_and_matches_plain_newton(monkeypatch):
    """A logistic fit's estimates and SEs are the same with the rewrite switched off."""
    data = {"x": np.asarray(X), "y": np.asarray(Y)}

    def loglik(p, d):
        eta = p["a"] + d["x"] @ p["b"]
        return d["y"] * eta - jnp.logaddexp(0.0, eta)

    start = {"a": 0.0, "b": jnp.zeros(4)}
    fast = lx.fit(loglik, start, data)
    monkeypatch.setattr(_structured, "_K_MAX", 0)
    jax.clear_caches()  # retrace the fit program without the rewrite
    plain = lx.fit(loglik, start, data)
    np.testing.assert_allclose(fast.params["b"], plain.params["b"], rtol=1e-10)
    np.testing.assert_allclose(fast.se["b"], plain.se["b"], rtol=1e-10)
