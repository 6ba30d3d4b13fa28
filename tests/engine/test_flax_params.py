"""Parameters as Flax parameter trees: NNX states and Linen variable dicts.

A logistic regression written as a Flax layer (an ``nnx.Linear`` split by
``nnx.split`` and merged back inside the log-likelihood; an ``nn.Dense`` whose
``init`` returns the variables, as a dict or a ``FrozenDict``) is the same
likelihood as the flat-dict model ``a + X @ b``: the same estimates, SEs and
log-likelihood in ``lx.fit``; the same MAP with a Gaussian prior in
``lx.fit_map`` (an L2 penalty, checked against the closed-form condition that
the penalized score vanishes); and in ``lx.fit_stochastic`` the exact MLE after
polishing, and a point within a small fraction of a standard error of it
before. Each result's parameters come back in the caller's structure (an
``nnx.State`` that ``nnx.merge`` accepts, a ``FrozenDict``, a dict). The flat
fit is itself tested against statsmodels (tests/engine/test_reference.py).
An NNX state that holds more than parameters (a dropout layer's random key) is
refused with the advice to split off the ``nnx.Param`` part, and that split
fits as the flat model.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import likelihax as lx

flax = pytest.importorskip("flax")
from flax import nnx  # noqa: E402
from flax import linen as nn  # noqa: E402
from flax.core import FrozenDict, freeze  # noqa: E402

rng = np.random.default_rng(0)
X = rng.normal(size=(800, 3))
Y = (rng.uniform(size=800) < 1 / (1 + np.exp(-(0.3 + X @ [1.0, -0.5, 0.25])))).astype(float)
DATA = {"X": X, "y": Y}
TAU = 0.5


def _bernoulli(eta, y):
    return y * eta - jnp.logaddexp(0.0, eta)


def flat(p, d):
    return _bernoulli(p["a"] + d["X"] @ p["b"], d["y"])


FLAT0 = {"a": 0.0, "b": np.zeros(3)}


@pytest.fixture(scope="module")
def ref():
    return lx.fit(flat, FLAT0, DATA)


@pytest.fixture(scope="module")
def ref_map():
    return lx.fit_map(flat, FLAT0, DATA, priors={"a": lx.priors.Normal(0.0, TAU),
                                                 "b": lx.priors.Normal(0.0, TAU)})  # fmt: skip


def _nnx_layer():
    layer = nnx.Linear(3, 1, rngs=nnx.Rngs(0))
    graphdef, state = nnx.split(layer)

    def loglik(p, d):
        return _bernoulli(nnx.merge(graphdef, p)(d["X"])[:, 0], d["y"])

    return graphdef, state, loglik


DENSE = nn.Dense(1)


def linen_loglik(p, d):
    return _bernoulli(DENSE.apply(p, d["X"])[:, 0], d["y"])


def _linen_vars(frozen: bool):
    v = DENSE.init(jax.random.key(0), X[:1])
    return freeze(v) if frozen else dict(v)


def _flat_of_nnx(tree):
    """(intercept, slopes) of an nnx.Linear state (the caller's structure)."""
    return float(np.ravel(tree["bias"][...])[0]), np.ravel(tree["kernel"][...])


def _flat_of_linen(tree):
    return float(np.ravel(tree["params"]["bias"])[0]), np.ravel(tree["params"]["kernel"])


def _assert_same_fit(a, b_slopes, loglik, f, tol=1e-10):
    assert f.converged
    assert float(f.loglik) == pytest.approx(float(loglik), rel=1e-13)
    np.testing.assert_allclose(b_slopes, np.asarray(f.params["b"]), rtol=tol)
    assert a == pytest.approx(float(f.params["a"]), rel=tol)


def _penalized_score(a, b):
    """X1'(y - mu) - theta / tau^2: zero at the MAP under Normal(0, tau) priors."""
    X1 = np.column_stack([np.ones(len(Y)), X])
    theta = np.concatenate([[a], b])
    mu = 1 / (1 + np.exp(-(X1 @ theta)))
    return X1.T @ (Y - mu) - theta / TAU**2


def test_an_nnx_state_fits_as_the_flat_dict(ref):
    graphdef, state, loglik = _nnx_layer()
    f = lx.fit(loglik, state, DATA)
    assert isinstance(f.params, nnx.State) and isinstance(f.se, nnx.State)
    a, b = _flat_of_nnx(f.params)
    _assert_same_fit(a, b, ref.loglik, ref)
    se_a, se_b = _flat_of_nnx(f.se)
    np.testing.assert_allclose(se_b, np.asarray(ref.se["b"]), rtol=1e-10)
    assert se_a == pytest.approx(float(ref.se["a"]), rel=1e-10)
    layer = nnx.merge(graphdef, f.params)  # the caller's structure comes back
    assert isinstance(layer, nnx.Linear)
    np.testing.assert_allclose(np.ravel(layer.kernel[...]), np.asarray(ref.params["b"]),
                               rtol=1e-10)  # fmt: skip
    assert f.n_params == 4 and f.labels[0] in ("bias.value[0]", "kernel.value[0,0]")


@pytest.mark.parametrize("frozen", [False, True], ids=["dict", "FrozenDict"])
def test_linen_variables_fit_as_the_flat_dict(ref, frozen):
    f = lx.fit(linen_loglik, _linen_vars(frozen), DATA)
    assert isinstance(f.params, FrozenDict if frozen else dict)
    a, b = _flat_of_linen(f.params)
    _assert_same_fit(a, b, ref.loglik, ref)
    se_a, se_b = _flat_of_linen(f.se)
    np.testing.assert_allclose(se_b, np.asarray(ref.se["b"]), rtol=1e-10)
    assert se_a == pytest.approx(float(ref.se["a"]), rel=1e-10)
    assert f.labels == ["params.kernel[0,0]", "params.kernel[1,0]",
                        "params.kernel[2,0]", "params.bias[0]"]  # fmt: skip


def test_fit_map_with_flax_trees_is_the_l2_penalized_fit(ref_map):
    graphdef, state, loglik = _nnx_layer()
    normal = lx.priors.Normal(0.0, TAU)
    m_nnx = lx.fit_map(loglik, state, DATA, priors={"kernel": normal, "bias": normal})
    m_linen = lx.fit_map(linen_loglik, _linen_vars(True), DATA, priors={"params": normal})
    assert isinstance(m_nnx.params, nnx.State) and isinstance(m_linen.params, FrozenDict)
    for (a, b), m in [(_flat_of_nnx(m_nnx.params), m_nnx),
                      (_flat_of_linen(m_linen.params), m_linen)]:  # fmt: skip
        np.testing.assert_allclose(_penalized_score(a, b), 0.0, atol=1e-8)
        _assert_same_fit(a, b, ref_map.loglik, ref_map)
        assert float(m.loglik) == pytest.approx(float(ref_map.loglik), rel=1e-13)
    np.testing.assert_allclose(_flat_of_linen(m_linen.se)[1], np.asarray(ref_map.se["b"]),
                               rtol=1e-10)  # fmt: skip


def test_fit_stochastic_with_flax_trees(ref):
    graphdef, state, loglik = _nnx_layer()
    polished = lx.fit_stochastic(loglik, state, DATA, batch_size=128, steps=300)
    assert isinstance(polished.params, nnx.State)
    a, b = _flat_of_nnx(polished.params)
    _assert_same_fit(a, b, ref.loglik, ref, tol=1e-8)
    np.testing.assert_allclose(_flat_of_nnx(polished.se)[1], np.asarray(ref.se["b"]),
                               rtol=1e-7)  # fmt: skip
    # unpolished: the mini-batch iterate alone (Adam with a decaying step)
    # lands within a small fraction of a standard error of the full-batch MLE
    adam = optax.adam(optax.cosine_decay_schedule(0.05, 1500))
    raw = lx.fit_stochastic(linen_loglik, _linen_vars(False), DATA, batch_size=200,
                            steps=1500, log_every=500, optimizer=adam, polish=False,
                            warn=False)  # fmt: skip
    assert isinstance(raw.params, dict) and raw.status == lx.Status.max_steps
    a, b = _flat_of_linen(raw.params)
    z = (np.concatenate([[a], b]) - np.concatenate([[ref.params["a"]], ref.params["b"]]))
    z /= np.concatenate([[ref.se["a"]], ref.se["b"]])
    assert np.max(np.abs(z)) < 0.2


class _Dropped(nnx.Module):
    """A linear layer with dropout: its state holds a random key and a counter."""

    def __init__(self, rngs):
        self.lin = nnx.Linear(3, 1, rngs=rngs)
        self.drop = nnx.Dropout(0.1, rngs=rngs)

    def __call__(self, x):
        return self.drop(self.lin(x), deterministic=True)


def test_nnx_state_beyond_params_is_refused_and_split_off(ref):
    model = _Dropped(nnx.Rngs(0))
    graphdef, state = nnx.split(model)

    def whole(p, d):
        return _bernoulli(nnx.merge(graphdef, p)(d["X"])[:, 0], d["y"])

    with pytest.raises(TypeError, match=r"drop\.rngs.*nnx\.split\(model, nnx\.Param, \.\.\.\)"):
        lx.fit(whole, state, DATA)
    # the advice: estimate the Params, close over the rest
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def loglik(p, d):
        return _bernoulli(nnx.merge(graphdef, p, rest)(d["X"])[:, 0], d["y"])

    f = lx.fit(loglik, params, DATA)
    assert f.n_params == 4
    a, b = float(np.ravel(f.params["lin"]["bias"][...])[0]), np.ravel(f.params["lin"]["kernel"][...])
    _assert_same_fit(a, b, ref.loglik, ref)
