"""The Cox partial likelihood with closed-form derivatives (``_cox_partial``)
against automatic differentiation of the rows' terms of the same likelihood."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from likelihax.core import x64_scope
from likelihax.models._cox_partial import partial_loglik
from likelihax.models.cox import _CoxLoglik, _sorted_layout


def _data(n, n_strata, weighted, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    t = np.ceil(rng.exponential(size=n) * 5)  # many ties
    e = (rng.random(n) < 0.7).astype(float)
    order, lay = _sorted_layout(t, e, rng.integers(0, n_strata, n))
    w = (rng.uniform(0.5, 2.0, n) if weighted else np.ones(n))[order]
    nd = np.maximum(lay["n_dead"], 1)
    mw = np.bincount(lay["group"], weights=w * lay["event"], minlength=nd.size) / nd
    return {"X": X[order], "w": w, **lay, "mw": mw, "frac": lay["rank"] / nd[lay["group"]]}


@pytest.mark.parametrize("n_strata, weighted, efron",
                         [(1, False, True), (3, True, True), (3, True, False), (1, False, False)])
def test_value_gradient_hessian_match_autodiff(n_strata, weighted, efron):
    d = _data(300, n_strata, weighted, seed=n_strata + 2 * weighted + 4 * efron)
    rows = _CoxLoglik(tuple("abcd"), efron)
    b = jnp.array([0.3, -0.2, 0.1, 0.5])
    with x64_scope():
        ref = lambda v: rows.partial(v, d["w"], d)  # noqa: E731
        new = lambda v: partial_loglik(v, d["X"], d, efron, n_strata > 1)  # noqa: E731
        pairs = [(ref(b), jax.jit(new)(b)), (jax.grad(ref)(b), jax.jit(jax.grad(new))(b)),
                 (jax.hessian(ref)(b), jax.jit(jax.jacfwd(jax.grad(new)))(b))]  # fmt: skip
        assert float(jnp.sum(jnp.asarray(d["event"]))) > 0
        for a, c in pairs:
            a, c = np.asarray(a), np.asarray(c)
            np.testing.assert_allclose(c, a, rtol=1e-12, atol=1e-12 * np.abs(a).max())


def test_rows_terms_sum_to_the_total():
    d = _data(200, 2, True, seed=9)
    lik = _CoxLoglik(tuple("abcd"), True, True)
    p = {"beta": {"a": 0.2, "b": -0.1, "c": 0.4, "d": 0.0}}
    with x64_scope():
        terms = float(jnp.sum(lik(jax.tree.map(jnp.float64, p), d)))
        total = float(lik.total(jax.tree.map(jnp.float64, p), d))
    np.testing.assert_allclose(terms, total, rtol=1e-12)
