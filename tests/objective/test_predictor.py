"""The Hessian through linear predictors (objective._linear_index) against jax.hessian.

Each model is written as a user would; the reference is the plain
forward-over-reverse Hessian of the same objective. Row-coupled models must get
no plan (they would otherwise get a wrong Hessian). The objective under test is
the one a fit runs: ``Problem.from_static`` of the program record of a real
``lx.fit`` (``fit.setup.program``), never a record built here by hand.
"""

import numpy as np
import pytest

import jax
import jax.numpy as jnp
import jax.scipy.stats as jst

import likelihax as lx
from likelihax.core import x64_scope
from likelihax.data import prepare_data
from likelihax.objective import Problem
from likelihax.objective import _linear_index as P


@pytest.fixture(autouse=True)
def _x64():
    """float64 for these tests only (the global JAX setting is left alone)."""
    with x64_scope():
        yield

rng = np.random.default_rng(11)
N, p = 60, 3
X = rng.standard_normal((N, p))
Z = rng.standard_normal((N, 2))
ybin = (rng.random(N) < 0.4).astype(float)
ycount = rng.negative_binomial(1.5, 1.5 / (1.5 + np.exp(0.7 + 0.5 * X[:, 0]))).astype(float)
ycls = rng.integers(0, 3, N)
yord = rng.integers(0, 4, N)
ynorm = rng.standard_normal(N) + X @ np.array([0.5, -1.0, 0.2])
w = rng.random(N) + 0.5


def logistic(pr, d):
    eta = pr["a"] + d["X"] @ pr["b"]
    return d["y"] * eta - jnp.logaddexp(0.0, eta)


def probit_two_predictors(pr, d):  # two data matrices, a transposed product
    eta = pr["b"] @ d["X"].T + d["Z"] @ pr["c"]
    return jst.norm.logcdf(jnp.where(d["y"] > 0, eta, -eta))


def negbin(pr, d):  # dispersion through a table gathered by count (as lx.glm)
    mu = jnp.exp(d["X"] @ pr["b"] + pr["a"])
    size = 1.0 / pr["alpha"]
    logs = jnp.log(size + d["grid"][0])
    table = jnp.concatenate([jnp.zeros(1), jnp.cumsum(logs)])
    return (
        table[d["yi"]]
        + size * (jnp.log(size) - jnp.log(size + mu))
        + d["y"] * (jnp.log(mu) - jnp.log(size + mu))
    )


def normal(pr, d):  # a scale parameter and a predictor
    return jst.norm.logpdf(d["y"], d["X"] @ pr["b"], pr["sigma"])


def multinomial(pr, d):  # a (p, m) coefficient matrix
    eta = jnp.concatenate([jnp.zeros((N, 1)), d["X"] @ pr["B"]], axis=1)
    return jnp.take_along_axis(jax.nn.log_softmax(eta, axis=1), d["c"][:, None], 1)[:, 0]


def ordinal(pr, d):  # cut-points gathered by category
    eta = d["X"] @ pr["b"]
    cuts = jnp.concatenate([jnp.array([-jnp.inf]), pr["cuts"], jnp.array([jnp.inf])])
    hi = jax.nn.sigmoid(cuts[d["k"] + 1] - eta)
    lo = jax.nn.sigmoid(cuts[d["k"]] - eta)
    return jnp.log(hi - lo)


K = int(ycount.max())
DATA = {
    "X": X, "Z": Z, "y": ybin, "yc": ycount, "c": ycls, "k": yord, "yn": ynorm,
    "grid": np.arange(max(K, 1), dtype=float)[None, :], "yi": ycount.astype(np.int32),
}  # fmt: skip

MODELS = {
    "logistic": (logistic, {"a": 0.1, "b": np.array([0.2, -0.1, 0.3])}, {"y": "y"}),
    "probit": (probit_two_predictors, {"b": np.array([0.2, -0.1, 0.3]),
                                       "c": np.array([0.4, 0.1])}, {"y": "y"}),
    "negbin": (negbin, {"a": 0.5, "b": np.array([0.1, 0.2, -0.1]), "alpha": 0.7},
               {"y": "yc"}),
    "normal": (normal, {"b": np.array([0.4, -0.8, 0.1]), "sigma": 1.3}, {"y": "yn"}),
    "multinomial": (multinomial, {"B": rng.standard_normal((p, 2)) * 0.3}, {}),
    "ordinal": (ordinal, {"b": np.array([0.3, -0.2, 0.1]),
                          "cuts": np.array([-1.0, 0.0, 1.2])}, {}),
}  # fmt: skip


def _model_data(remap):
    d = dict(DATA)
    for k_, v in remap.items():
        d[k_] = DATA[v]
    return d


def _fit_problem(loglik, start, data, constraints=None, weights=None, cov=None,
                 fisher=None):  # fmt: skip
    """``(problem, spec, fixed)``: the objective of the program that ``lx.fit``
    compiles for this model (its record ``fit.setup.program``, from a one-step
    fit), on ``data`` staged as the engine stages it, with ``weights``."""
    model = lx.Model(loglik, start, constraints=constraints, fisher=fisher)
    fit = lx.fit(model, data, weights=weights, cov=cov, max_steps=1, warn=False)
    fixed = [jnp.asarray(x, jnp.float64) for x in model.init_leaves]
    jdata = prepare_data(data, np.float64)
    w = None if weights is None else jnp.asarray(weights)
    pr = Problem.from_static(fit.setup.program, fixed, jdata, w)
    return pr, fit.setup.spec, fixed


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("weighted", [False, True])
def test_hessian_matches_jax_hessian(name, weighted, monkeypatch):
    import likelihax.objective._linear_index as linear_index
    import likelihax.objective._problem as problem_module

    loglik, start, remap = MODELS[name]
    cons = {"sigma": lx.constraints.positive, "alpha": lx.constraints.positive}
    pr, spec, fixed = _fit_problem(
        loglik, start, _model_data(remap),
        constraints={k_: v for k_, v in cons.items() if k_ in start},
        weights=w if weighted else None,
    )  # fmt: skip
    monkeypatch.setattr(problem_module, "LARGE_ROWS", 1)  # transposes for N = 60 too
    data = pr.data
    u0 = spec.to_unconstrained(fixed)
    # Independent reference: jax.hessian of the same (weighted) objective.
    for u in (u0, u0 + 0.1 * jnp.arange(1, u0.size + 1) / u0.size):
        assert pr._vgh_predictor(u, data, pr.weights) is not None, name
        f, g, H = jax.jit(pr.value_grad_hessian)(u)
        f0 = pr.value(u)
        g0 = jax.grad(pr.value)(u)
        H0 = jax.hessian(pr.value)(u)
        assert float(f) == pytest.approx(float(f0), rel=1e-12)
        np.testing.assert_allclose(g, g0, rtol=1e-9, atol=1e-12 * float(jnp.max(jnp.abs(g0))))
        np.testing.assert_allclose(H, H0, rtol=1e-9, atol=1e-12 * float(jnp.max(jnp.abs(H0))))
        # The same through the stored transposes of the data matrices (a
        # fit's program) and, for a few points at once, the values.
        prt = pr.with_transposed_data()
        assert prt.transposed is not None
        f1, g1, H1 = jax.jit(prt.value_grad_hessian)(u)
        assert float(f1) == pytest.approx(float(f0), rel=1e-12)
        np.testing.assert_allclose(g1, g0, rtol=1e-9, atol=1e-12 * float(jnp.max(jnp.abs(g0))))
        np.testing.assert_allclose(H1, H0, rtol=1e-9, atol=1e-12 * float(jnp.max(jnp.abs(H0))))
        U = jnp.stack([u, u0, 0.5 * u])
        np.testing.assert_allclose(jax.jit(prt.values)(U), jax.vmap(pr.value)(U), rtol=1e-12)
        # X' D X by its lower block triangle (wide designs; here at any width)
        monkeypatch.setattr(linear_index, "SYM_MIN_COLUMNS", 1)
        H2 = prt.value_grad_hessian(u)[2]
        np.testing.assert_allclose(H2, H0, rtol=1e-9, atol=1e-12 * float(jnp.max(jnp.abs(H0))))


def test_fit_matches_plain_hessian_fit(monkeypatch):
    """A fit through the predictor Hessian equals the fit with it switched off."""
    data = _model_data({"y": "yc"})
    start = {"a": 0.5, "b": np.zeros(p), "alpha": 1.0}
    fast = lx.fit(negbin, start, data, constraints={"alpha": lx.constraints.positive})
    monkeypatch.setattr(P, "plan", lambda *a, **k: None)
    jax.clear_caches()
    plain = lx.fit(negbin, start, data, constraints={"alpha": lx.constraints.positive})
    for key in ("a", "b", "alpha"):
        np.testing.assert_allclose(fast.params[key], plain.params[key], rtol=1e-10)
        np.testing.assert_allclose(fast.se[key], plain.se[key], rtol=1e-8)


def _plan_of(loglik, params, data):
    pl, pdef = jax.tree_util.tree_flatten(params)
    dl, ddef = jax.tree_util.tree_flatten(data)
    k = sum(int(np.size(x)) for x in pl)

    def fn(*lv):
        return loglik(jax.tree_util.tree_unflatten(pdef, lv[: len(pl)]),
                      jax.tree_util.tree_unflatten(ddef, lv[len(pl):]))

    flags = [np.ndim(x) >= 1 and np.shape(x)[0] == N for x in dl]
    return P.plan(fn, [jnp.asarray(x) for x in pl], [jnp.asarray(x) for x in dl],
                  flags, N, k + 5)


def ar1(pr, d):  # term i uses row i - 1: not row-wise
    eta = d["X"] @ pr["b"]
    prev = jnp.concatenate([jnp.zeros(1), d["y"][:-1]])
    return jst.norm.logpdf(d["y"], eta + pr["rho"] * prev, 1.0)


def cox_like(pr, d):  # a cumulative sum over rows (risk sets)
    eta = d["X"] @ pr["b"]
    return eta - jnp.log(jnp.cumsum(jnp.exp(eta)[::-1])[::-1])


def centred(pr, d):  # a mean over rows
    eta = d["X"] @ pr["b"]
    return -((eta - jnp.mean(eta)) ** 2)


@pytest.mark.parametrize("loglik", [ar1, cox_like, centred])
def test_row_coupled_models_get_no_plan(loglik):
    params = {"b": jnp.zeros(p), "rho": 0.3}
    data = {"X": X, "y": ynorm}
    assert _plan_of(loglik, params, data) is None


def test_plan_tangent_counts():
    """One tangent per predictor column and per (cheapest) global input."""
    pl = _plan_of(logistic, {"a": 0.0, "b": jnp.zeros(p)}, {"X": X, "y": ybin})
    assert pl.n_tangents == 2  # eta and the intercept
    pl = _plan_of(negbin, {"a": 0.0, "b": jnp.zeros(p), "alpha": 1.0},
                  {"X": X, "y": ycount, "grid": DATA["grid"], "yi": DATA["yi"]})
    assert pl.n_tangents == 3  # eta, the intercept, alpha (not its table)
    pl = _plan_of(multinomial, {"B": jnp.zeros((p, 2))}, {"X": X, "c": ycls})
    assert pl.n_tangents == 2  # two predictor columns


def test_batched_refits_use_the_autodiff_hessian():
    """Under vmap (bootstrap, profiles) the predictor Hessian is not used (it
    would form a weighted copy of the data per replicate), and the batched
    Hessians still equal jax.hessian's."""
    loglik, start, remap = MODELS["logistic"]
    pr, spec, fixed = _fit_problem(loglik, start, _model_data(remap))
    data = pr.data
    U = jnp.stack([spec.to_unconstrained(fixed)] * 2)
    U = U + jnp.array([[0.0], [0.1]])
    seen = []
    jax.vmap(lambda u: seen.append(pr._vgh_predictor(u, data)) or u)(U)
    assert seen == [None]
    H = jax.vmap(lambda u: pr.value_grad_hessian(u)[2])(U)
    np.testing.assert_allclose(H, jax.vmap(jax.hessian(pr.value))(U), rtol=1e-10)


def _nb_problem(n_rows, seed=5):
    """An NB2 problem with ``n_rows`` rows (the ``negbin`` model above)."""
    r = np.random.default_rng(seed)
    Xn = r.standard_normal((n_rows, p))
    mu = np.exp(0.3 + Xn @ np.array([0.4, -0.3, 0.2]))
    yc = r.negative_binomial(2.0, 2.0 / (2.0 + mu)).astype(float)
    data = {"X": Xn, "y": yc, "yi": yc.astype(np.int32),
            "grid": np.arange(max(int(yc.max()), 1), dtype=float)[None, :]}  # fmt: skip
    start = {"a": 0.0, "b": np.zeros(p), "alpha": 1.0}
    pr, spec, fixed = _fit_problem(negbin, start, data, {"alpha": lx.constraints.positive})
    assert pr.nobs == n_rows
    return pr.with_transposed_data(), spec.to_unconstrained(fixed)


def test_newton_chord_steps_report_the_exact_point(monkeypatch):
    """With chord steps (value and gradient only, the previous Hessian) the
    reported point is still evaluated fully: its value, gradient and Hessian
    are jax's at that point; the estimate equals Newton's without them."""
    from likelihax.optimize import _newton
    from likelihax.optimize._loop import run

    pr, u0 = _nb_problem(5000)
    assert pr.chord_steps
    solve = jax.jit(lambda u: run(_newton.Newton(), pr, u, 100))
    s = solve(u0)
    assert int(s.code) == 0 and bool(s.fresh)
    assert int(s.n_hess) < int(s.n_eval)  # at least one chord step was taken
    np.testing.assert_allclose(s.f, pr.value(s.u), rtol=1e-13)
    np.testing.assert_allclose(s.g, jax.grad(pr.value)(s.u), rtol=1e-9, atol=1e-9)
    H = jax.hessian(pr.value)(s.u)
    np.testing.assert_allclose(s.H, H, rtol=1e-9, atol=1e-9 * float(jnp.max(jnp.abs(H))))
    se = np.sqrt(np.diag(np.linalg.inv(np.asarray(H))))

    monkeypatch.setattr(_newton, "CHORD_EDM", -1.0)  # never: full Newton steps
    s_newton = jax.jit(lambda u: run(_newton.Newton(), pr, u, 100))(u0)
    assert int(s_newton.n_hess) == int(s_newton.n_eval)
    assert np.all(np.abs(np.asarray(s.u - s_newton.u)) < 1e-7 * se)
    assert float(s.f) == pytest.approx(float(s_newton.f), rel=1e-14)


def test_newton_takes_no_chord_steps_when_batched_or_small():
    from likelihax.optimize._newton import Newton
    from likelihax.optimize._loop import run

    pr, u0 = _nb_problem(5000)
    many = jax.jit(jax.vmap(lambda u: run(Newton(), pr, u, 100)))(jnp.stack([u0, u0 + 0.1]))
    np.testing.assert_array_equal(many.n_hess, many.n_eval)  # vmap: lax.cond evaluates both
    small, u0s = _nb_problem(500)
    assert not small.chord_steps
    s = jax.jit(lambda u: run(Newton(), small, u, 100))(u0s)
    assert int(s.code) == 0 and int(s.n_hess) == int(s.n_eval)


def test_fisher_scoring_chord_steps_report_the_exact_point(monkeypatch):
    """Fisher scoring (a probit model, not canonical) with chord steps: the
    reported expected information is the model's at the reported point, and
    the estimate equals Fisher scoring's without chord steps."""
    from likelihax.optimize import _newton
    from likelihax.optimize._loop import run

    def probit(pr, d):
        eta = d["X"] @ pr["b"]
        return jnp.where(d["y"] > 0, jst.norm.logcdf(eta), jst.norm.logcdf(-eta))

    def probit_fisher(pr, d):
        eta = d["X"] @ pr["b"]
        mu = jst.norm.cdf(eta)
        return eta, jst.norm.pdf(eta) ** 2 / (mu * (1 - mu))

    r = np.random.default_rng(3)
    n = 6000
    Xn = np.column_stack([np.ones(n), r.standard_normal((n, 2))])
    yb = (r.random(n) < 1 / (1 + np.exp(-Xn @ np.array([0.2, 0.8, -0.5])))).astype(float)
    pr, spec, fixed = _fit_problem(probit, {"b": np.zeros(3)}, {"X": Xn, "y": yb},
                                   cov="eim", fisher=probit_fisher)  # fmt: skip
    assert pr.nobs == n and pr.fisher is probit_fisher
    u0 = spec.to_unconstrained(fixed)
    scoring = _newton.Newton(tol=1e-15, information="expected")
    s = jax.jit(lambda u: run(scoring, pr, u, 100))(u0)
    assert int(s.code) == 0 and bool(s.fresh)
    assert int(s.n_hess) < int(s.n_eval)
    f, g, info = jax.jit(pr.value_grad_fisher)(s.u)
    np.testing.assert_allclose(s.f, f, rtol=1e-14)
    np.testing.assert_allclose(s.H, info, rtol=1e-12)
    se = np.sqrt(np.diag(np.linalg.inv(np.asarray(info))))

    monkeypatch.setattr(_newton, "CHORD_EDM", -1.0)
    s_plain = jax.jit(lambda u: run(scoring, pr, u, 100))(u0)
    assert int(s_plain.n_hess) == int(s_plain.n_eval)
    assert np.all(np.abs(np.asarray(s.u - s_plain.u)) < 1e-7 * se)


@pytest.mark.parametrize("name, constrained, expect", [
    ("logistic", False, True), ("multinomial", False, True),
    ("negbin", True, False), ("normal", True, False),
    ("ordinal", False, True),
])  # fmt: skip
def test_parameters_without_transforms_are_reordered_not_multiplied(
    name, constrained, expect, monkeypatch
):
    """Where the coefficients are the elements of ``u`` (no constraint
    transforms), ``J' H_th J`` is a reordering (``_selection``); elsewhere
    the general chain rule. The Hessians themselves are checked against
    ``jax.hessian`` above, for both kinds."""
    import likelihax.objective._linear_index as linear_index

    loglik, start, remap = MODELS[name]
    cons = {"alpha": lx.constraints.positive, "sigma": lx.constraints.positive}
    pr, spec, fixed = _fit_problem(
        loglik, start, _model_data(remap),
        constraints={k_: v for k_, v in cons.items() if k_ in start and constrained},
    )  # fmt: skip
    seen = []
    real = linear_index._selection

    def spy(theta, u):
        out = real(theta, u)
        seen.append(out is not None)
        return out

    monkeypatch.setattr(linear_index, "_selection", spy)
    pr.value_grad_hessian(spec.to_unconstrained(fixed))
    assert seen == [expect]
