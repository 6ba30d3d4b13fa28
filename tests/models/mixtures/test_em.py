"""Generic EM (likelihax.models.mixtures.em): closed-form and Newton M-steps,
SQUAREM, monotonicity reporting, statuses, and agreement with direct Newton on
the marginal likelihood; plus a timeout guard against the known Hessian hang,
and the shared Newton step (likelihax.optimize.newton_step, backtrack) that the
Newton M-step uses."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import jax.scipy.stats as jst
import numpy as np
import pytest
import scipy.stats as sst

import likelihax as lx
from likelihax.models.mixtures import em, marginal_loglik
from likelihax.optimize import backtrack, newton_direction, newton_step

CONS = {"w": lx.constraints.simplex, "rate": lx.constraints.positive}


def poisson_complete(p, d):
    return jnp.log(p["w"]) + jst.poisson.logpmf(d["y"][:, None], p["rate"])


def poisson_mstep(r, d, p):
    nk = r.sum(0)
    return {"rate": r.T @ d["y"] / nk, "w": nk / nk.sum()}


@pytest.fixture(scope="module")
def counts(make_rng):
    rng = make_rng(11)
    z = rng.random(400) < 0.35
    return {"y": np.where(z, rng.poisson(1.5, 400), rng.poisson(7.0, 400))}


START = {"w": np.array([0.5, 0.5]), "rate": np.array([1.0, 5.0])}


def scipy_loglik(params, y):
    w, rate = params["w"], params["rate"]
    dens = sum(w[k] * sst.poisson.pmf(y, rate[k]) for k in range(len(w)))
    return float(np.sum(np.log(dens)))


@pytest.fixture(scope="module")
def fits(counts):
    closed = em(poisson_complete, START, counts, mstep=poisson_mstep, constraints=CONS)
    newton_m = em(poisson_complete, START, counts, constraints=CONS, newton_steps=2)
    squarem = em(poisson_complete, START, counts, mstep=poisson_mstep,
                 constraints=CONS, accelerate="squarem")  # fmt: skip
    direct = em(poisson_complete, START, counts, constraints=CONS, method="newton")
    return closed, newton_m, squarem, direct


def test_em_and_newton_agree(fits, counts):
    closed, newton_m, squarem, direct = fits
    for f in (newton_m, squarem, direct):
        np.testing.assert_allclose(f.params["rate"], closed.params["rate"], rtol=1e-6)
        np.testing.assert_allclose(f.params["w"], closed.params["w"], rtol=1e-6)
        np.testing.assert_allclose(f.se["rate"], closed.se["rate"], rtol=1e-5)
        assert f.loglik == pytest.approx(closed.loglik, rel=1e-10)
    # The log-likelihood is the independent scipy mixture density at the estimate.
    assert closed.loglik == pytest.approx(scipy_loglik(closed.params, counts["y"]),
                                          rel=1e-10)  # fmt: skip
    assert direct.em is None
    assert closed.converged and closed.em.status == lx.Status.success


def test_em_monotone_trace_and_annotation(fits, counts):
    closed, newton_m, squarem, _ = fits
    for f in (closed, newton_m, squarem):
        tr = np.asarray(f.em.trace)
        assert f.em.monotone and f.em.first_decrease == -1
        assert np.all(np.diff(tr) >= -1e-9 * abs(tr[-1]))
        assert len(tr) == f.em.iterations + 1
    # EM's own log-likelihood at its estimate, and at the start, match scipy.
    assert closed.em.trace[0] == pytest.approx(scipy_loglik(START, counts["y"]),
                                               rel=1e-12)  # fmt: skip
    assert squarem.em.iterations < closed.em.iterations
    head = dict(closed.summary().header)
    assert head["EM iterations"] == str(closed.em.iterations)
    assert head["EM monotone"] == "yes"
    assert "SQUAREM" in dict(squarem.summary().header)["Estimation"]


def test_standard_errors_are_engine_information(fits):
    closed = fits[0]
    # Engine result: vcov is the inverse observed information of the marginal
    # likelihood; the Wald test and the summary work as for any fit.
    assert closed.cov_description.startswith("inverse observed information")
    w = lx.wald_test(closed, lambda p: p["rate"][1] - p["rate"][0])
    assert w.pvalue < 1e-10


def test_frequency_weights_equal_duplicated_rows(counts):
    y = counts["y"][:120]
    wts = np.tile([1, 2, 3], 40)
    a = em(poisson_complete, START, {"y": y}, mstep=poisson_mstep, constraints=CONS,
           weights=wts)  # fmt: skip
    b = em(poisson_complete, START, {"y": np.repeat(y, wts)}, mstep=poisson_mstep,
           constraints=CONS)  # fmt: skip
    np.testing.assert_allclose(a.params["rate"], b.params["rate"], rtol=1e-8)
    np.testing.assert_allclose(a.se["rate"], b.se["rate"], rtol=1e-6)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-10)


def test_decrease_is_reported(counts):
    # A wrong "M-step" that jumps to a fixed poor point: the log-likelihood drops.
    def bad_mstep(r, d, p):
        return {"rate": jnp.array([3.0, 4.0]), "w": jnp.array([0.5, 0.5])}

    good = em(poisson_complete, START, counts, mstep=poisson_mstep, constraints=CONS)
    with pytest.warns(lx.ConvergenceWarning, match="log-likelihood decreased"):
        f = em(poisson_complete, good.params, counts, mstep=bad_mstep,
               constraints=CONS)  # fmt: skip
    assert f.em.status == lx.Status.not_monotone and not f.em.monotone
    assert f.em.first_decrease == 1 and f.em.max_decrease > 1.0
    assert "First decrease at iteration 1" in f.em.message
    assert dict(f.summary().header)["EM monotone"] == "no"
    assert any("decreased" in t for t in f.summary().notes)


def test_max_steps_status(counts):
    f = em(poisson_complete, START, counts, mstep=poisson_mstep, constraints=CONS,
           max_steps=2)  # fmt: skip
    assert f.em.status == lx.Status.max_steps and f.em.iterations == 2
    assert f.em.message.startswith("EM stopped at max_steps")
    assert f.converged  # the engine's Newton polish still reaches the maximum
    assert any("max_steps" in t for t in f.summary().notes)


def test_multiple_starts(counts):
    starts = [
        START,
        {"w": np.array([0.3, 0.7]), "rate": np.array([2.0, 9.0])},
        {"w": np.array([0.5, 0.5]), "rate": np.array([4.0, 4.01])},
    ]
    f = em(poisson_complete, START, counts, mstep=poisson_mstep, constraints=CONS,
           starts=starts)  # fmt: skip
    s = f.em.starts
    assert s["starts"] == 3 and s["at_best"] >= 2 and len(s["logliks"]) == 3
    assert s["best_loglik"] == pytest.approx(max(s["logliks"]))


def test_errors(counts):
    with pytest.raises(ValueError, match=r"must return an \(n, K\) array"):
        em(lambda p, d: jnp.sum(poisson_complete(p, d), 1), START, counts,
           constraints=CONS)  # fmt: skip
    with pytest.raises(ValueError, match="method must be 'em' or 'newton'"):
        em(poisson_complete, START, counts, method="bfgs")
    with pytest.raises(ValueError, match="accelerate must be None or 'squarem'"):
        em(poisson_complete, START, counts, accelerate="aitken")
    with pytest.raises(ValueError, match="max_steps must be >= 1"):
        em(poisson_complete, START, counts, max_steps=0)
    with pytest.raises(TypeError, match="mstep must be a function"):
        em(poisson_complete, START, counts, mstep=3)
    with pytest.raises(TypeError, match="complete must be a function"):
        em(None, START, counts)
    with pytest.raises(ValueError, match="mstep returned 1 parameter arrays"):
        em(poisson_complete, START, counts, constraints=CONS,
           mstep=lambda r, d, p: {"rate": p["rate"]})  # fmt: skip
    with pytest.raises(ValueError, match="NaN"):
        em(poisson_complete, START, {"y": np.array([1.0, np.nan])}, constraints=CONS)
    # Every start non-finite (an M-step returning NaN).
    with pytest.raises(ValueError, match="became NaN or infinite during EM"):
        em(poisson_complete, START, counts, constraints=CONS,
           mstep=lambda r, d, p: {"rate": jnp.array([jnp.nan, 1.0]),
                                  "w": jnp.array([0.5, 0.5])})  # fmt: skip
    assert lx.Status.degenerate.message.startswith("EM reached a degenerate point")


def test_em_outcomes_are_status_members():
    """EM reports likelihax.Status; the former EMStatus is an alias of it."""
    from likelihax.models.mixtures import EMStatus

    assert EMStatus is lx.Status
    # The engine's codes keep their numbers; EM's own come after them.
    assert lx.Status.success == 0 and lx.Status.max_steps == 1
    assert lx.Status.nonfinite == 3 and lx.Status.not_maximum == 10
    assert lx.Status.not_monotone == 11 and lx.Status.degenerate == 12
    assert lx.Status.not_monotone.message.startswith("The observed-data")


def test_option_checks_are_the_engines(counts):
    with pytest.raises(ValueError, match="cov must be one of"):
        em(poisson_complete, START, counts, mstep=poisson_mstep, cov="robust")
    with pytest.raises(ValueError, match="tol must be a finite number >= 0"):
        em(poisson_complete, START, counts, mstep=poisson_mstep, tol=-1.0)
    with pytest.raises(TypeError, match="max_steps must be a number"):
        em(poisson_complete, START, counts, mstep=poisson_mstep, max_steps="50")
    with pytest.raises(ValueError, match="newton_steps must be an integer >= 1"):
        em(poisson_complete, START, counts, newton_steps=0)


def test_newton_step_is_exact_on_a_quadratic():
    A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    c = np.array([1.0, -2.0, 0.5])

    def f(x):
        return 0.5 * x @ jnp.asarray(A) @ x - jnp.asarray(c) @ x

    with jax.enable_x64(True):
        x, fx, ok = jax.jit(lambda x0: newton_step(f, x0))(jnp.zeros(3))
    np.testing.assert_allclose(x, np.linalg.solve(A, c), rtol=1e-13)
    assert bool(ok) and float(fx) == pytest.approx(-0.5 * c @ np.linalg.solve(A, c))


def test_newton_step_descends_where_the_hessian_is_indefinite():
    # f = x^4/4 - x^2/2 + y^2 at (0.2, 1): Hessian diag(0.12 - 1, 2) is
    # indefinite; the step must still lower f, and it keeps the exact Newton
    # step along y, the direction of positive curvature.
    def f(v):
        return v[0] ** 4 / 4 - v[0] ** 2 / 2 + v[1] ** 2

    with jax.enable_x64(True):
        x0 = jnp.array([0.2, 1.0])
        x, fx, ok = newton_step(f, x0)
        d, edm, _ = newton_direction(jax.hessian(f)(x0), jax.grad(f)(x0))
        f0 = float(f(x0))
    assert bool(ok) and float(fx) < f0
    assert float(d[0]) > 0  # away from the local maximum at 0
    assert float(d[1]) == pytest.approx(-1.0, rel=1e-12) and float(edm) > 0


def test_backtrack_under_vmap_and_rejecting_nonfinite_trials():
    # log barrier: a full step from x = 1 along d = -2 leaves the domain (NaN),
    # so the search must shorten the step into it and satisfy Armijo there.
    def f(x):
        return jnp.sum(x - jnp.log(x))

    with jax.enable_x64(True):
        xs = jnp.array([[1.5], [3.0], [0.2]])
        ds = jnp.array([[-2.0], [-4.0], [0.5]])

        def one(x, d):
            f0, g = jax.value_and_grad(f)(x)
            return backtrack(f, x, d, f0, jnp.dot(g, d))

        t, ft, ok = jax.vmap(one)(xs, ds)
    t, ft, ok = np.asarray(t), np.asarray(ft), np.asarray(ok)
    assert ok.all() and np.all(np.isfinite(ft))
    for x, d, ti, fi in zip(np.asarray(xs)[:, 0], np.asarray(ds)[:, 0], t, ft):
        f0, slope = x - np.log(x), (1 - 1 / x) * d
        assert fi == pytest.approx((x + ti * d) - np.log(x + ti * d), rel=1e-12)
        assert fi <= f0 + 1e-4 * ti * slope
    assert t[0] < 1.0 and t[1] < 1.0 and t[2] == 1.0


def test_marginal_loglik_is_cached():
    assert marginal_loglik(poisson_complete) is marginal_loglik(poisson_complete)


HANG_CHILD = textwrap.dedent(
    """
    import numpy as np
    from likelihax.models.mixtures import gaussian_mixture
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(m, 1.0, (300, 3)) for m in (0.0, 4.0, 8.0)])
    fit = gaussian_mixture(x, 3, starts=2)
    assert fit.converged, fit.status
    print("ok", float(fit.loglik))
    """
)


def test_gmm_hessian_does_not_hang():
    """Engine Hessian of a K=3, d=3 full-covariance mixture (batched matrices).

    The known hazard (jaxlib 0.10.2) is jit(hessian) over batched
    ``jnp.linalg.cholesky``; mixtures use an unrolled factorization instead.
    A fresh process with a time limit catches a regression (a hang).
    """
    try:
        out = subprocess.run(
            [sys.executable, "-c", HANG_CHILD], capture_output=True, text=True,
            timeout=240, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:  # pragma: no cover - the regression
        pytest.fail("Gaussian-mixture fit (engine Hessian) hung for 240 s.")
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("ok")


def test_em_only_result(fits, counts):
    from likelihax.models.mixtures import EMResult

    r = em(poisson_complete, START, counts, mstep=poisson_mstep, constraints=CONS,
           se=False, tol=1e-13)  # fmt: skip
    assert isinstance(r, EMResult) and r.converged
    np.testing.assert_allclose(r.params["rate"], fits[0].params["rate"], rtol=1e-6)
    assert r.loglik == pytest.approx(scipy_loglik(r.params, counts["y"]), rel=1e-12)
    with pytest.raises(ValueError, match="se=False skips the engine"):
        em(poisson_complete, START, counts, method="newton", se=False)
