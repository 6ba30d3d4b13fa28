"""Forward-mode Jacobians that skip multiplying data by the identity basis.

Why
---
``jax.jacfwd(grad)(u)`` pushes the ``k`` columns of the identity through the
gradient at once. In a model with a linear predictor ``X @ beta`` the first
thing that happens to the tangents is ``X @ E[:, 1:]``, an ``(n, p) x (p, k)``
matrix product whose result is just the columns of ``X`` (zero-padded for the
other parameters). XLA does not simplify a product with a constant identity,
so with ``jax.jacfwd`` every Newton step pays for two passes of ``n p k``
multiply-adds where the Hessian ``X' W X`` needs one: on the CPU that product
is a large share of an evaluation of value, gradient and Hessian for a
logistic regression, which the same terms written by hand do not compute.

How
---
:func:`jacfwd` traces the vectorised JVP to a jaxpr with the basis as an
*input*, then evaluates that jaxpr with a small interpreter that knows the
basis's value:

* values computed from known inputs only (slices, transposes, broadcasts of
  the basis) are computed at trace time, as NumPy constants, while they stay
  small;
* a ``dot_general`` with one operand known and that operand a *selection*
  (each output column picks at most one input element, times a constant:
  columns of the identity, possibly scaled or zero) is replaced by slices of
  the other operand, zero blocks and a constant scale, concatenated; XLA
  fuses those into their consumer;
* every other equation is bound as it is (``jax.core.eval_jaxpr``'s loop),
  recursing into nested ``jit`` calls, so the result is exactly what
  ``jax.jacfwd`` computes, up to the order of floating-point additions that no
  longer happen (adding exact zeros).

Nothing else changes: control flow, custom derivatives and large captured
constants are bound untouched. The rewrite only ever removes multiplications
by exact zeros and ones, so it cannot change a result beyond rounding; the
tests compare it with ``jax.jacfwd`` on models with and without linear
predictors, under ``vmap`` and ``jit``.
"""

from __future__ import annotations

import numpy as np

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["jacfwd"]

# Largest known intermediate (elements) computed at trace time; larger ones are
# left to XLA. Also the largest parameter count the rewrite is used for.
_KNOWN_MAX = 1 << 18
_K_MAX = 512
# With three or fewer parameters the product with the basis is cheap and the
# extra trace of the rewrite (and, in a fresh process, importing jax.extend)
# would cost more than it saves.
_K_MIN = 4
_CALLS = ("pjit", "jit", "closed_call", "core_call")


def jacfwd(fun, has_aux: bool = False):
    """Like ``jax.jacfwd(fun, has_aux=has_aux)`` for a 1-D first argument.

    ``fun(u, *args)``; the Jacobian has shape ``out.shape + (k,)``. Products of
    data with the identity basis become slices (module notes).

    Examples
    --------
    >>> import jax.numpy as jnp, numpy as np
    >>> from likelihax.objective._structured import jacfwd
    >>> X = jnp.asarray(np.arange(12.0).reshape(3, 4))
    >>> J = jacfwd(lambda u, X: jnp.tanh(X @ u[1:] + u[0]))(jnp.zeros(5), X)
    >>> bool(jnp.allclose(J, jnp.concatenate([jnp.ones((3, 1)), X], 1)))
    True
    """

    def jac(u, *args):
        k = u.shape[0]
        if u.ndim != 1 or k > _K_MAX or k < _K_MIN:
            return jax.jacfwd(fun, has_aux=has_aux)(u, *args)
        basis = np.eye(k, dtype=np.dtype(u.dtype))

        def pushed(u, E, *args):
            def one(t):
                return jax.jvp(lambda v: fun(v, *args), (u,), (t,), has_aux=has_aux)

            if has_aux:
                out = jax.vmap(one, out_axes=(None, -1, None))(E)
                return out[1], out[2]
            return jax.vmap(one, out_axes=(None, -1))(E)[1]

        closed, shapes = jax.make_jaxpr(pushed, return_shape=True)(u, basis, *args)
        flat, _ = jax.tree_util.tree_flatten((u, basis, *args))
        n_u = 1
        known_in = [None] * len(flat)
        known_in[n_u] = basis  # the basis is the second flat input
        outs = _eval(closed.jaxpr, closed.consts, flat, known_in)
        return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(shapes), outs)

    return jac


def _bdim(x, shape, broadcast_dimensions, **_):
    expanded = [1] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
        expanded[d] = x.shape[i]
    return np.broadcast_to(x.reshape(expanded), shape)


def _slice(x, start_indices, limit_indices, strides=None, **_):
    st = strides or (1,) * x.ndim
    return x[tuple(slice(a, b, c) for a, b, c in zip(start_indices, limit_indices, st))]


def _reshape(x, new_sizes, dimensions=None, **_):
    if dimensions is not None:
        x = np.transpose(x, dimensions)
    return np.reshape(x, new_sizes)


# Operations on known values (the basis and what is cut from it) are done in
# NumPy at trace time: JAX's eager dispatch would compile one small program per
# operation, which costs more than the rewrite saves on a small model.
_NUMPY = {
    "slice": _slice,
    "squeeze": lambda x, dimensions, **_: np.squeeze(x, axis=tuple(dimensions)),
    "reshape": _reshape,
    "broadcast_in_dim": _bdim,
    "transpose": lambda x, permutation, **_: np.transpose(x, permutation),
    "convert_element_type": lambda x, new_dtype, **_: x.astype(new_dtype),
    "concatenate": lambda *xs, dimension, **_: np.concatenate(xs, axis=dimension),
    "neg": lambda x, **_: -x,
    "mul": lambda x, y, **_: x * y,
    "add": lambda x, y, **_: x + y,
    "sub": lambda x, y, **_: x - y,
    "copy": lambda x, **_: x,
    "copy_p": lambda x, **_: x,
}


def _small_concrete(x):
    """``x`` as a NumPy array when it is concrete and small, else ``None``."""
    if isinstance(x, jax.core.Tracer):
        return None
    try:
        size = int(np.size(x))
    except Exception:  # noqa: BLE001 - tokens and other non-arrays
        return None
    if size > _KNOWN_MAX:
        return None
    try:
        return np.asarray(x)
    except Exception:  # noqa: BLE001
        return None


def _eval(jaxpr, consts, args, known_args):
    """``jax.core.eval_jaxpr`` with known-value propagation (module notes)."""
    # Imported here: importing jax.extend is a noticeable part of a fresh
    # process's start, and models with fewer than _K_MIN parameters never get
    # this far.
    from jax.extend import core as jcore
    env: dict = {}
    known: dict = {}

    def read(v):
        if isinstance(v, jcore.Literal):
            return v.val
        return env[v]

    def read_known(v):
        if isinstance(v, jcore.Literal):
            kv = _small_concrete(v.val)
            return None if kv is None else kv.astype(v.aval.dtype)
        return known.get(v)

    def write(v, val, kv=None):
        if kv is not None and hasattr(v.aval, "dtype"):
            kv = np.asarray(kv, dtype=v.aval.dtype)
            val = kv
        env[v] = val
        if kv is not None:
            known[v] = kv

    for v, c in zip(jaxpr.constvars, consts):
        write(v, c, _small_concrete(c))
    for v, a, kv in zip(jaxpr.invars, args, known_args):
        write(v, a if kv is None else kv, kv)

    for eqn in jaxpr.eqns:
        invals = [read(v) for v in eqn.invars]
        kin = [read_known(v) for v in eqn.invars]
        name = eqn.primitive.name
        outs = None
        kouts = None
        if name in _CALLS and "jaxpr" in eqn.params and not eqn.effects:
            inner = eqn.params["jaxpr"]
            outs = _eval(inner.jaxpr, inner.consts, invals, kin)
            kouts = [_small_concrete(o) if isinstance(o, np.ndarray) else None
                     for o in outs]
        elif (
            invals
            and all(k is not None for k in kin)
            and name in _NUMPY
            and all(np.prod(v.aval.shape, dtype=np.int64) <= _KNOWN_MAX
                    for v in eqn.outvars)
        ):
            res = _NUMPY[name](*kin, **eqn.params)
            kouts = [np.asarray(res, dtype=eqn.outvars[0].aval.dtype)]
            outs = kouts
        elif name == "dot_general" and (kin[0] is not None) != (kin[1] is not None):
            outs = _selection_dot(eqn, invals, kin)
        if outs is None:
            bind_params = eqn.primitive.get_bind_params(eqn.params)
            with eqn.ctx.manager:
                res = eqn.primitive.bind(*invals, **bind_params)
            outs = res if eqn.primitive.multiple_results else [res]
        if kouts is None:
            kouts = [None] * len(outs)
        for v, o, ko in zip(eqn.outvars, outs, kouts):
            write(v, o, ko)
    return [read(v) for v in jaxpr.outvars]


def _selection(K: np.ndarray, axis: int):
    """``(idx, val)`` if every column of ``K`` (``axis`` = contracted) has <= 1 nonzero."""
    M = np.moveaxis(K, axis, 0).reshape(K.shape[axis], -1)
    nz = M != 0
    if np.any(nz.sum(0) > 1):
        return None
    idx = np.argmax(nz, axis=0)
    val = M[idx, np.arange(M.shape[1])] * nz.any(0)
    return idx, val


def _segments(idx, val):
    """Runs ``(start_col, stop_col, first_idx, scale)``: consecutive picks, one scale."""
    runs = []
    j, F = 0, len(idx)
    while j < F:
        s = j
        if val[j] == 0:
            while j + 1 < F and val[j + 1] == 0:
                j += 1
        else:
            while j + 1 < F and val[j + 1] == val[s] and idx[j + 1] == idx[j] + 1:
                j += 1
        runs.append((s, j + 1, int(idx[s]), val[s]))
        j += 1
    return runs


def _selection_dot(eqn, invals, kin):
    """Rewrite ``dot_general(A, K)`` / ``dot_general(K, A)`` with a selection ``K``."""
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    if lb or rb or len(lc) != 1 or len(rc) != 1:
        return None
    k_is_rhs = kin[1] is not None
    K = kin[1] if k_is_rhs else kin[0]
    A = invals[0] if k_is_rhs else invals[1]
    ka = int(rc[0] if k_is_rhs else lc[0])
    aa = int(lc[0] if k_is_rhs else rc[0])
    sel = _selection(K, ka)
    if sel is None:
        return None
    idx, val = sel
    out_aval = eqn.outvars[0].aval
    dt = out_aval.dtype
    runs = _segments(idx, val)
    if len(runs) > 8:
        return None  # a scattered pick: a gather is not clearly cheaper
    A = jnp.moveaxis(A, aa, -1)
    pieces = []
    for s, e, i0, scale in runs:
        if scale == 0:
            pieces.append(jnp.zeros(A.shape[:-1] + (e - s,), dt))
            continue
        piece = lax.slice_in_dim(A, i0, i0 + (e - s), axis=A.ndim - 1).astype(dt)
        if scale != 1:
            piece = piece * jnp.asarray(scale, dt)
        pieces.append(piece)
    T = pieces[0] if len(pieces) == 1 else jnp.concatenate(pieces, axis=-1)
    free_k = tuple(d for i, d in enumerate(K.shape) if i != ka)
    T = T.reshape(A.shape[:-1] + free_k)
    if not k_is_rhs:  # output is K's free dims, then A's free dims
        nA = A.ndim - 1
        nK = len(free_k)
        T = jnp.transpose(T, tuple(range(nA, nA + nK)) + tuple(range(nA)))
    if T.shape != tuple(out_aval.shape):  # pragma: no cover - defensive
        return None
    return [T]
