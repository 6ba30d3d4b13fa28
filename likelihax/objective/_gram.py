r"""The weighted Gram matrix :math:`X^\top \mathrm{diag}(v) X` by BLAS's ``syrk``.

Why
---
The Hessian of a model with one linear predictor (a GLM) is dominated by
:math:`X^\top D X`: at 20,000 rows and 5,000 columns, 5e11 flops as a general
matrix product. The product is symmetric, and BLAS's symmetric rank-k update
(``?syrk``) computes one triangle: half the flops, at the machine's matrix
product speed. XLA has no symmetric product, and its CPU ``dot`` runs below
OpenBLAS's ``dgemm``: ``syrk`` from a host callback takes about half the time
of XLA's lower block triangle
(:func:`likelihax.objective._linear_index._symmetric_product`); the
measurements are in ``benchmarks/RESULTS.md`` (many parameters).

How
---
On the host (``buffer_callback``, below): with :math:`v \ge 0`,
:math:`X^\top D X = W^\top W` for :math:`W = \mathrm{diag}(\sqrt v) X`, one
``syrk`` (over blocks of rows, so that the scaled copy stays small); rows
with :math:`v < 0` (a non-concave term) go into a second ``syrk`` that is
subtracted. A non-finite :math:`v` gives a NaN matrix (the
solver treats it as a failed evaluation). The upper triangle is filled from
the lower. SciPy's BLAS wrappers (``scipy.linalg.blas``) provide ``syrk``;
no library offers it as a JAX operation.

Differentiating the product (rare: a Hessian inside another derivative)
goes through the same formula in JAX operations (``custom_jvp``), so the
callback is never differentiated. The callback is
``jax.experimental.buffer_callback``: it reads the device buffers in place
and writes its result into the output buffer. ``jax.pure_callback`` would copy
the data matrix into a new device array on every call (hundreds of
megabytes), a transfer that waits for a thread of XLA's pool while the
callback holds one (a deadlock with a one-thread pool), and would round
float64 values to float32 outside a 64-bit scope. Only for CPU arrays of
``float32`` or ``float64``; :func:`available` says when.
"""

from __future__ import annotations

import numpy as np

import jax
import jax.numpy as jnp

from jax.experimental.buffer_callback import buffer_callback

__all__ = ["available", "gram"]


# Rows scaled at a time (bytes): memory beside the data stays bounded.
BLOCK_BYTES = 1 << 25


def available(X) -> bool:
    """Whether :func:`gram` applies to ``X``: a 2-D float32/float64 array on
    the CPU backend."""
    return (
        jax.default_backend() == "cpu"
        and jnp.ndim(X) == 2
        and jnp.result_type(X) in (jnp.float32, jnp.float64)
    )


def _host_gram(ctx, out, X, v):
    """Write ``X' diag(v) X`` into ``out``, by ``syrk`` (module notes)."""
    from scipy.linalg import blas

    del ctx
    X, v, C = np.asarray(X), np.asarray(v), np.asarray(out)
    if not np.all(np.isfinite(v)):
        C[...] = np.nan
        return
    syrk = blas.dsyrk if X.dtype == np.float64 else blas.ssyrk
    # C is row-major, so C.T is the column-major array BLAS writes into; the
    # lower triangle of C.T is the upper triangle of C.
    C[...] = 0.0

    # the scaled rows go through one buffer of about BLOCK_BYTES (not a copy
    # of the whole matrix); the sum over blocks costs no measurable time
    step = max(256, BLOCK_BYTES // max(X.shape[1] * X.itemsize, 1))
    buf = np.empty((min(step, X.shape[0]), X.shape[1]), X.dtype)

    def add(rows, w, alpha):  # C.T's lower triangle += alpha rows' diag(w) rows
        for i in range(0, rows.shape[0], step):
            W = buf[: min(step, rows.shape[0] - i)]
            np.multiply(rows[i : i + step], np.sqrt(w[i : i + step])[:, None], out=W)
            syrk(alpha, W.T, beta=1.0, c=C.T, trans=0, lower=1, overwrite_c=1)

    neg = v < 0
    if neg.any():
        add(X[~neg], v[~neg], 1.0)
        add(X[neg], -v[neg], -1.0)
    else:
        add(X, v, 1.0)
    C += np.triu(C, 1).T


@jax.custom_jvp
def gram(X, v):
    r"""``X' diag(v) X`` (symmetric) for ``X`` (n, k) and ``v`` (n,), by BLAS ``syrk``.

    Parameters
    ----------
    X : jax.Array
        The (n, k) data matrix (float32 or float64, CPU backend: see
        :func:`available`).
    v : jax.Array
        The (n,) row weights, of any sign.

    Returns
    -------
    jax.Array
        The (k, k) symmetric matrix, exactly symmetric.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp
    >>> from likelihax.objective._gram import gram
    >>> X = jnp.asarray(np.arange(6.0).reshape(3, 2))
    >>> v = jnp.asarray([1.0, -2.0, 0.5])
    >>> bool(jnp.allclose(gram(X, v), X.T @ (X * v[:, None])))
    True
    """
    k = X.shape[1]
    run = buffer_callback(
        _host_gram, jax.ShapeDtypeStruct((k, k), X.dtype), vmap_method="sequential"
    )
    return run(X, v.astype(X.dtype))


@gram.defjvp
def _gram_jvp(primals, tangents):
    X, v = primals
    dX, dv = tangents
    _, dG = jax.jvp(lambda X, v: X.T @ (X * v[:, None]), (X, v), (dX, dv))
    return gram(X, v), dG
