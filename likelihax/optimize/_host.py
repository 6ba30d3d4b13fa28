r"""Large symmetric positive-definite matrices factorized on the host, differentiable.

Why: on XLA:CPU with jaxlib 0.10.2, a compiled program that runs two LAPACK
Cholesky factorizations (``jnp.linalg.cholesky``) at the same time on a
two-thread pool can deadlock: each kernel waits inside
``ParallelBatchMap`` for work that needs a free pool thread, and none is free
(seen in the value, gradient and Hessian programs of the Laplace
approximation, single 200 x 200 matrices; reproduced by
``tests/optimize/test_host_linalg.py::test_concurrent_factorizations_finish``).
The small matrices of the package avoid LAPACK altogether
(:mod:`likelihax.optimize._linalg`); a matrix of hundreds or thousands of rows
is instead factorized here by SciPy's LAPACK on the host, outside XLA's
thread pool, through ``jax.experimental.buffer_callback``: the callback reads
the device buffers in place and writes its results into the output buffers.
(``jax.pure_callback`` would copy each operand into a new device array on the
callback's thread, which waits for a pool thread of its own and can deadlock
on a small pool, and it rounds 64-bit values outside a 64-bit scope.)

:func:`spd_inverse_logdet` returns :math:`A^{-1}` and :math:`\log\det A`
with the derivative rules :math:`d\log\det A = \operatorname{tr}(A^{-1} dA)`
and :math:`dA^{-1} = -A^{-1}\,dA\,A^{-1}`, written with matrix products only,
so derivatives of any order (the engine's forward-over-reverse Hessian) are
exact and never call back. Solves are products with the inverse, whose
rounding error is of the order of the condition number times the machine
epsilon: the latent Hessians this serves include a prior precision and are
well conditioned.

On an accelerator, where XLA's own factorizations have no such hazard, the
device's Cholesky is used instead (no transfer to the host).

A program with a host callback is never written to JAX's persistent
compilation cache (the callback's pointer is part of the program, so its
key differs in every process): every new process compiles it again, seconds
for a fit. So the callbacks serve only where they are needed or pay for
that: matrices of at most ``SMALL_SPD`` rows go through the unrolled
Cholesky of :mod:`likelihax.optimize._linalg` (no LAPACK, no callback; a
mixed model's ``X' V^{-1} X`` of a few fixed effects, Firth's information),
and :func:`cholesky_inverse` calls LAPACK's ``potri`` from ``HOST_INVERSE_MIN``
rows, below which XLA's triangular solves take milliseconds.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental.buffer_callback import buffer_callback

__all__ = ["cholesky_inverse", "host_call", "host_direction", "spd_inverse_logdet", "spd_solve"]

# Up to this many rows: the unrolled Cholesky, in the program (module notes).
SMALL_SPD = 12
# From this many rows: the covariance's inverse by LAPACK potri on the host.
HOST_INVERSE_MIN = 1024


def _on_cpu() -> bool:
    return jax.default_backend() == "cpu"


def host_call(fn, shapes, dtype, *args):
    """``fn(*arrays, dtype=dtype)`` on the host, its tuple of NumPy results
    written into outputs of ``shapes`` (each of ``dtype``).

    Through ``buffer_callback`` (module notes): the arguments, cast to
    ``dtype``, are read in place, and ``fn`` must not write to them.
    Sequential under ``vmap``.
    """
    dt = np.dtype(dtype)

    def run(ctx, out, *bufs):
        del ctx
        res = fn(*(np.asarray(b) for b in bufs), dtype=dt)
        for o, r in zip(out, res, strict=True):
            np.asarray(o)[...] = r

    structs = tuple(jax.ShapeDtypeStruct(tuple(sh), dt) for sh in shapes)
    return buffer_callback(run, structs, vmap_method="sequential")(
        *(a.astype(dt) for a in args))


def _host_inverse_logdet(ctx, out, A):
    """Write ``A^-1`` and ``log det A`` into ``out`` (NaN where ``A`` is not
    positive definite), by LAPACK ``potrf`` and ``potri``."""
    from scipy.linalg import lapack

    del ctx
    inv_out, ld_out = (np.asarray(o) for o in out)
    A = np.asarray(A)
    potrf, potri = lapack.get_lapack_funcs(("potrf", "potri"), (A,))
    c, info = potrf(A, lower=1)
    if info == 0:
        inv, info = potri(c, lower=1)  # the inverse from the factor, lower triangle
    if info != 0 or not np.all(np.isfinite(c)):
        inv_out[...] = np.nan
        ld_out[...] = np.nan
        return
    inv_out[...] = np.tril(inv)
    inv_out += np.tril(inv, -1).T
    ld_out[...] = 2.0 * np.sum(np.log(np.diag(c)))


@jax.custom_jvp
def spd_inverse_logdet(A):
    """:math:`(A^{-1}, \\log\\det A)` of a symmetric positive-definite matrix.

    NaN (both) where ``A`` is not positive definite. Differentiable to any
    order (module notes).

    Parameters
    ----------
    A : array (n, n)

    Returns
    -------
    inverse : array (n, n)
    logdet : scalar

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from likelihax.optimize import spd_inverse_logdet
    >>> inv, ld = spd_inverse_logdet(jnp.array([[4.0, 2.0], [2.0, 5.0]]))
    >>> round(float(ld), 6), round(float(inv[0, 0]), 6)
    (2.772589, 0.3125)
    >>> g = jax.grad(lambda t: spd_inverse_logdet(jnp.eye(2) * t)[1])(2.0)
    >>> round(float(g), 6)
    1.0
    """
    if A.ndim == 2 and A.shape[0] <= SMALL_SPD:
        from ._linalg import chol, chol_inverse, chol_logdet

        L = chol(A)  # NaN where A is not positive definite
        return chol_inverse(L), chol_logdet(L)
    if not _on_cpu():
        L = jnp.linalg.cholesky(A)
        n = A.shape[0]
        inv = jax.scipy.linalg.cho_solve((L, True), jnp.eye(n, dtype=A.dtype))
        return inv, 2.0 * jnp.sum(jnp.log(jnp.diagonal(L)))
    if A.dtype not in (jnp.float32, jnp.float64):
        A = A.astype(jnp.result_type(float))
    shapes = (jax.ShapeDtypeStruct(A.shape, A.dtype), jax.ShapeDtypeStruct((), A.dtype))
    return buffer_callback(_host_inverse_logdet, shapes, vmap_method="sequential")(A)


@spd_inverse_logdet.defjvp
def _spd_inverse_logdet_jvp(primals, tangents):
    (A,), (dA,) = primals, tangents
    inv, ld = spd_inverse_logdet(A)
    return (inv, ld), (-inv @ dA @ inv, jnp.sum(inv * dA.T))


@jax.custom_jvp
def spd_solve(A, inv, b):
    """:math:`A^{-1} b` from ``inv`` :math:`= A^{-1}` (:func:`spd_inverse_logdet`),
    differentiated through ``A`` and ``b`` only.

    The derivative, :math:`A^{-1}(db - dA\\,x)`, takes matrix-vector products:
    written as ``inv @ b``, reverse mode would form the outer product of the
    cotangents and multiply it by the inverse on both sides (two
    :math:`O(n^3)` products, and more for the engine's second derivatives).
    The tangent of ``inv`` is ignored: ``inv`` must be :math:`A^{-1}`.

    Parameters
    ----------
    A : array (n, n)
        Symmetric positive definite.
    inv : array (n, n)
        Its inverse.
    b : array (n,) or (n, k)

    Returns
    -------
    array like ``b``

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from likelihax.optimize import spd_inverse_logdet, spd_solve
    >>> def f(t):
    ...     A = jnp.array([[4.0, 1.0], [1.0, 3.0]]) * t
    ...     return spd_solve(A, spd_inverse_logdet(A)[0], jnp.ones(2))[0]
    >>> round(float(jax.grad(f)(2.0)), 6) == round(-float(f(2.0)) / 2.0, 6)
    True
    """
    return inv @ b


@spd_solve.defjvp
def _spd_solve_jvp(primals, tangents):
    (_, inv, b), (dA, _, db) = primals, tangents
    x = inv @ b
    return x, inv @ (db - dA @ x)


def _host_solve(ctx, out, A, g, tau):
    """Write ``-A^-1 g`` (of ``A + tau I`` where ``A`` is not positive
    definite) and whether ``A`` was into ``out``."""
    import scipy.linalg as sl

    del ctx
    d_out, ok_out = (np.asarray(o) for o in out)
    A, g, tau = np.asarray(A), np.asarray(g), float(np.asarray(tau))
    try:
        c = sl.cho_factor(A, lower=True, check_finite=False)
        ok = True
    except (np.linalg.LinAlgError, ValueError):
        c = sl.cho_factor(A + tau * np.eye(A.shape[0], dtype=A.dtype), lower=True,
                          check_finite=False)  # fmt: skip
        ok = False
    d_out[...] = -sl.cho_solve(c, g, check_finite=False)
    ok_out[...] = ok


def host_direction(A, g, shift):
    """Newton direction :math:`-A^{-1} g` by a Cholesky factorization on the
    host; where ``A`` is not positive definite, of :math:`A + \\tau I` with
    :math:`\\tau` = ``shift`` (:func:`likelihax.optimize.cholesky_direction`
    passes the Gershgorin bound). Not differentiable: for iterations, not for
    values the engine differentiates.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import host_direction
    >>> d, ok = host_direction(jnp.array([[2.0, 0.0], [0.0, 4.0]]), jnp.array([2.0, 2.0]),
    ...                        0.0)
    >>> [round(float(v), 6) for v in d], bool(ok)
    ([-1.0, -0.5], True)
    """
    dtype = jnp.result_type(A, g)
    A, g, tau = A.astype(dtype), g.astype(dtype), jnp.asarray(shift, dtype)
    shapes = (jax.ShapeDtypeStruct(g.shape, dtype), jax.ShapeDtypeStruct((), np.bool_))
    return buffer_callback(_host_solve, shapes, vmap_method="sequential")(A, g, tau)


def _host_cholesky_inverse(ctx, out, L):
    """Write ``(L L')^-1`` into ``out`` by LAPACK ``potri`` (NaN if it fails)."""
    from scipy.linalg import lapack

    del ctx
    res = np.asarray(out)
    L = np.asarray(L)
    potri = lapack.get_lapack_funcs("potri", (L,))
    inv, info = potri(L, lower=1)  # the lower triangle
    if info != 0 or not np.all(np.isfinite(np.diagonal(inv))):
        res[...] = np.nan
        return
    res[...] = np.tril(inv)
    res += np.tril(inv, -1).T


@jax.custom_jvp
def cholesky_inverse(L):
    r"""``(L L')^{-1}`` from a lower Cholesky factor ``L``, exactly symmetric.

    On the CPU from ``HOST_INVERSE_MIN`` rows, LAPACK's ``potri`` on the host
    (``buffer_callback``: the factor is read in place): :math:`2k^3/3` flops,
    a third of the two triangular solves against the identity
    (``cho_solve``), which smaller matrices and accelerators run. Derivatives by :math:`d(S^{-1}) = -S^{-1}\,dS\,S^{-1}`
    in JAX operations.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize._host import cholesky_inverse
    >>> L = jnp.linalg.cholesky(jnp.array([[4.0, 2.0], [2.0, 3.0]]))
    >>> (cholesky_inverse(L) * 8).round(6).tolist()
    [[3.0, -2.0], [-2.0, 4.0]]
    """
    k = L.shape[-1]
    if (not _on_cpu() or L.ndim != 2 or k < HOST_INVERSE_MIN
            or L.dtype not in (jnp.float32, jnp.float64)):  # fmt: skip
        from jax.scipy.linalg import cho_solve

        inv = cho_solve((L, True), jnp.eye(k, dtype=L.dtype))
        return 0.5 * (inv + inv.T)
    run = buffer_callback(_host_cholesky_inverse, jax.ShapeDtypeStruct((k, k), L.dtype),
                          vmap_method="sequential")  # fmt: skip
    return run(L)


@cholesky_inverse.defjvp
def _cholesky_inverse_jvp(primals, tangents):
    (L,), (dL,) = primals, tangents
    inv = cholesky_inverse(L)
    dS = dL @ L.T
    return inv, -inv @ (dS + dS.T) @ inv
