"""Large SPD factorizations on the host: values and derivatives, and no deadlock.

On XLA:CPU (jaxlib 0.10.2, 2 cores) a compiled program with two LAPACK
Cholesky factorizations running at once can deadlock in the intra-op thread
pool. ``spd_inverse_logdet`` factorizes on the host instead; the subprocess test
runs many compiled Hessians of a function with two independent factorizations
and must finish.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from likelihax.core import x64_scope
from likelihax.optimize import gershgorin_shift, host_direction, spd_inverse_logdet, spd_solve


def _spd(n, seed):
    G = np.random.default_rng(seed).normal(size=(n, n))
    return G @ G.T + n * np.eye(n)


def _reference(A):
    return jnp.linalg.inv(A), jnp.linalg.slogdet(A)[1]


def _check_derivatives(n, seeds):
    """Value, gradient and Hessian of a function of spd_inverse_logdet of an
    n x n matrix equal those through jnp.linalg; returns ``(f, t)``."""
    A0, B = jnp.asarray(_spd(n, seeds[0])), jnp.asarray(_spd(n, seeds[1]))

    def f(t, inv_logdet):
        inv, ld = inv_logdet(A0 + t[0] * B + t[1] ** 2 * jnp.eye(n))
        return ld + jnp.sum(inv[:2, :2]) * t[1]

    t = jnp.array([0.3, 0.7])
    for op in (lambda g: g, jax.grad, jax.hessian):
        np.testing.assert_allclose(op(lambda t: f(t, spd_inverse_logdet))(t),
                                   op(lambda t: f(t, _reference))(t), rtol=1e-10)  # fmt: skip
    return f, t


def test_values_and_derivatives_equal_jnp_linalg():
    with x64_scope():
        f, t = _check_derivatives(30, (0, 1))
        # Under jit and vmap as well, in float64 (the callback's thread does not
        # share the 64-bit scope: values cross as words).
        ts = jnp.stack([t, t * 1.1])
        got = jax.jit(jax.vmap(lambda t: f(t, spd_inverse_logdet)))(ts)
        np.testing.assert_allclose(got, jax.vmap(lambda t: f(t, _reference))(ts), rtol=1e-13)


def test_small_matrices_use_the_unrolled_cholesky_without_a_callback():
    """Up to SMALL_SPD rows: values and derivatives of jnp.linalg's, NaN where
    the matrix is not positive definite, and no host callback in the program
    (so the persistent compilation cache keeps it)."""
    from likelihax.optimize._host import SMALL_SPD

    n = min(5, SMALL_SPD)
    with x64_scope():
        _check_derivatives(n, (2, 3))
        A0 = jnp.asarray(_spd(n, 2))
        inv, ld = spd_inverse_logdet(-A0)
        assert bool(jnp.isnan(ld)) and bool(jnp.all(jnp.isnan(inv)))
        assert "callback" not in jax.jit(spd_inverse_logdet).lower(A0).as_text()
        big = jnp.asarray(_spd(SMALL_SPD + 1, 4))
        assert "callback" in jax.jit(spd_inverse_logdet).lower(big).as_text()


def test_solve_derivatives_equal_jnp_linalg():
    """spd_solve differentiates through A and b only (inv is A^-1): its first
    and second derivatives are those of jnp.linalg.solve."""
    with x64_scope():
        A0 = jnp.asarray(_spd(6, 7))
        b0 = jnp.asarray(np.random.default_rng(8).normal(size=(6, 2)))
        E = jnp.asarray(np.random.default_rng(9).normal(size=(6, 6)))

        def f(t, solve):
            A = A0 * jnp.exp(t[0]) + t[1] * (E + E.T)
            x = solve(A, b0 * t[2])
            return jnp.sum(x * b0) + jnp.sum(x**2)

        mine = lambda A, b: spd_solve(A, spd_inverse_logdet(A)[0], b)  # noqa: E731
        t = jnp.array([0.2, 0.05, 1.3])
        np.testing.assert_allclose(f(t, mine), f(t, jnp.linalg.solve), rtol=1e-12)
        np.testing.assert_allclose(jax.grad(f)(t, mine), jax.grad(f)(t, jnp.linalg.solve),
                                   rtol=1e-10)  # fmt: skip
        np.testing.assert_allclose(jax.hessian(f)(t, mine),
                                   jax.hessian(f)(t, jnp.linalg.solve), rtol=1e-9, atol=1e-12)


def test_not_positive_definite_is_nan_and_direction_is_descent():
    with x64_scope():
        inv, ld = spd_inverse_logdet(-jnp.eye(3))
        assert np.isnan(float(ld)) and np.all(np.isnan(np.asarray(inv)))
        A = jnp.array([[1.0, 2.0], [2.0, 1.0]])  # indefinite
        g = jnp.array([1.0, -0.5])
        d, ok = host_direction(A, g, gershgorin_shift(A))
        assert not bool(ok) and float(g @ d) < 0


@pytest.mark.parametrize("trial", range(2))
def test_concurrent_factorizations_finish(trial):
    child = textwrap.dedent(
        """
        import numpy as np, jax, jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        from likelihax.optimize import spd_inverse_logdet
        rng = np.random.default_rng(0)
        G1, G2 = rng.normal(size=(2, 200, 200))
        A1, A2 = jnp.asarray(G1 @ G1.T + 200 * np.eye(200)), jnp.asarray(G2 @ G2.T)
        def f(t):  # two independent factorizations in one program
            a = spd_inverse_logdet(A1 * jnp.exp(t[0]) + t[1] * jnp.eye(200))[1]
            b = spd_inverse_logdet(A2 + jnp.exp(t[1]) * 200 * jnp.eye(200))[1]
            return a * b
        h = jax.jit(jax.hessian(f))
        for _ in range(200):
            H = h(jnp.array([0.1, 0.2]))
        print(float(jax.block_until_ready(H)[0, 0]))
        """
    )
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                         timeout=180)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert np.isfinite(float(out.stdout.strip().splitlines()[-1]))
