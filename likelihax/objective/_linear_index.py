r"""Value, gradient and Hessian through the linear predictors of a separable log-likelihood.

Why
---
The Hessian of :math:`f(u) = -\sum_i \ell_i(u)` by forward-over-reverse
autodiff pushes all :math:`k` parameter directions through every operation on
the data. For the usual model, term :math:`i` depends on the parameters
through a few *linear predictors* :math:`\eta_i = x_i^\top B` and a few
*global* quantities :math:`s` (an intercept, a dispersion), so

.. math::

   \nabla^2 f = J^\top \Big[\begin{smallmatrix}
       X^\top D X & X^\top E \\ E^\top X & F_{ss}
   \end{smallmatrix}\Big] J + \textstyle\sum_p (\partial f/\partial\theta_p)\,
   \nabla^2 \theta_p(u),

with :math:`\theta = (B, s)` as functions of :math:`u`,
:math:`J = \partial\theta/\partial u`, and per-row second derivatives
:math:`D_i = \partial^2 f / \partial\eta_i^2` and :math:`E_i = \partial^2 f /
\partial\eta_i \partial s`. When term :math:`i` depends on row :math:`i` only
(the per-observation contract), those per-row derivatives come from *one*
tangent per predictor column (all rows at once: the Hessian in
:math:`\eta` is diagonal) plus one per element of :math:`s`. A logistic
regression with 21 coefficients needs 2 tangents instead of 21, and its
Hessian is the single product :math:`X^\top D X`, as a hand-written Newton
step would compute it.

How
---
:func:`plan` traces the per-observation log-likelihood to a jaxpr and checks,
operation by operation, that every quantity that depends on the data is
computed *row-wise* (elementwise operations, reductions and contractions over
other axes, lookups into global tables, ...); anything else (a cumulative sum
or a slice along the observations, a loop over rows, an unknown primitive)
means no plan and the ordinary Hessian. It cuts the jaxpr where parameters
meet data: a ``dot_general`` of a data matrix with parameters becomes an
input :math:`\eta`, any other parameter quantity entering a row-wise
operation becomes an input :math:`s`. :func:`value_grad_hessian` then
evaluates the parameter part (no data) and the data part (as a function of
:math:`\eta, s`) separately and assembles the formula above. A plan that would
need at least as many tangents as there are parameters is not used.

The result is the exact Hessian (not an approximation) whenever the plan
exists; the tests compare it with ``jax.hessian`` for GLMs, NB2, multinomial
and ordinal models, and check that row-coupled models (autoregressive terms,
cumulative sums) get no plan.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

import jax
import jax.numpy as jnp

from ._gram import available as gram_ok
from ._gram import gram
from ._rowwise import Eta, NoPlan, analyze, ancestry, needed, run, selects, size

__all__ = ["one_gram", "plan", "value_grad_hessian"]


@dataclasses.dataclass(frozen=True)
class Plan:
    jaxpr: Any
    consts: tuple
    etas: tuple  # of Eta
    globals_: tuple  # s-cut vars
    n_tangents: int
    n_params: int  # the first n_params invars are the parameter leaves


# ----- analysis ------------------------------------------------------------------------


def plan(fn, p_leaves, data_leaves, obs_flags, n: int, k: int):
    """A :class:`Plan` for ``fn(*p_leaves, *data_leaves)`` (terms of shape (n,)), or None.

    ``obs_flags[i]``: data leaf ``i`` is split by observation (leading axis
    ``n``); ``k`` is the number of free parameters (no plan unless it needs
    fewer tangents).
    """
    closed = jax.make_jaxpr(fn)(*p_leaves, *data_leaves)
    jaxpr = closed.jaxpr
    n_p = len(p_leaves)
    if len(jaxpr.outvars) != 1 or jaxpr.outvars[0].aval.shape != (n,):
        return None
    in_udep = [True] * n_p + [False] * len(data_leaves)
    in_obs = [None] * n_p + [0 if f else None for f in obs_flags]
    cuts = {"etas": [], "globals": []}
    try:
        out_obs = analyze(jaxpr, in_udep, in_obs, n, cuts)
    except NoPlan:
        return None
    if out_obs != [0] or not cuts["etas"]:
        return None
    etas = tuple(cuts["etas"])
    # Globals: where a parameter quantity enters a row-wise operation, or,
    # when cheaper, the parameter inputs it is computed from (a dispersion
    # rather than the table of log-gamma differences built from it).
    anc = ancestry(jaxpr, n_p)
    chosen: list = []
    for v in sorted(cuts["globals"], key=size, reverse=True):
        leaves = [jaxpr.invars[i] for i in sorted(anc.get(v, ()))]
        new = [x for x in leaves if x not in chosen]
        if leaves and sum(size(x) for x in new) <= size(v):
            chosen.extend(new)
        elif v not in chosen:
            chosen.append(v)
    direct = list(dict.fromkeys(cuts["globals"]))
    glob = tuple(min((chosen, direct), key=lambda c: sum(size(x) for x in c)))
    if any(not jnp.issubdtype(v.aval.dtype, jnp.floating) for v in glob):
        return None
    n_t = sum(e.m for e in etas) + sum(size(v) for v in glob)
    if n_t >= k:
        return None
    p = Plan(jaxpr, tuple(closed.consts), etas, glob, n_t, n_p)
    if not _prunes_params(p):
        return None
    return p


# ----- evaluation ----------------------------------------------------------------------


def _prunes_params(p: Plan) -> bool:
    """The data part must need no parameter input that is not cut."""
    provided = {e.out for e in p.etas} | set(p.globals_)
    need, _ = needed(p.jaxpr, p.jaxpr.outvars, provided)
    return not any(v in need for v in p.jaxpr.invars[: p.n_params] if v not in provided)


def _canon_data(e: Eta, D):
    return D if e.data_obs_axis == 0 else D.T  # (n, p)


def _canon_param(e: Eta, B):
    if B.ndim == 1:
        return B[:, None]
    return B if e.param_contract == 0 else B.T  # (p, m)


def _eta_value_shape(e: Eta, eta_nm):
    """(n, m) -> the layout of the dot's output."""
    if len(e.out.aval.shape) == 1:
        return eta_nm[:, 0]
    return eta_nm if e.data_is_lhs else eta_nm.T


def _pieces(p: Plan, to_leaves, data_leaves, objective, transposed):
    """The parts shared by :func:`value_grad_hessian` and :func:`values`.

    Returns ``theta`` (u -> the flat predictor coefficients and globals, no
    data rows touched), ``split`` (that vector -> coefficient matrices and
    globals), the data matrices ``Xs`` (n, p_j), their transposes ``XTs``
    (the stored copy where ``transposed`` has one), ``F`` (predictors and
    globals -> the objective) and the globals' shapes and sizes.
    """
    jx = p.jaxpr
    base = dict(zip(jx.constvars, p.consts))
    data_vars = jx.invars[p.n_params :]
    base.update(zip(data_vars, data_leaves))
    etas, glob = p.etas, p.globals_
    t_of = {}
    if transposed is not None:
        t_of = {v: t for v, t in zip(data_vars, transposed) if t is not None}

    # Parameter part: B_j and s as functions of u (no data rows are touched),
    # and the data operands (no parameters).
    def theta(v):
        env = dict(base)
        env.update(zip(jx.invars[: p.n_params], to_leaves(v)))
        vals = run(jx, env, [e.param for e in etas] + list(glob))
        Bs = [_canon_param(e, b) for e, b in zip(etas, vals[: len(etas)])]
        return jnp.concatenate(
            [b.reshape(-1) for b in Bs] + [s.reshape(-1) for s in vals[len(etas):]]
        )

    Xs = [_canon_data(e, d) for e, d in zip(etas, run(jx, base, [e.data for e in etas]))]
    # X' of each (n, p) data matrix: the stored transpose when there is one.
    XTs = [
        t_of[e.data] if e.data_obs_axis == 0 and e.data in t_of else X.T
        for e, X in zip(etas, Xs)
    ]
    sizes_B = [X.shape[1] * e.m for X, e in zip(Xs, etas)]
    shapes_s = [v.aval.shape for v in glob]
    sizes_s = [int(np.prod(s)) for s in shapes_s]

    def split(th):
        out, i = [], 0
        for X, e, sz in zip(Xs, etas, sizes_B):
            out.append(th[i : i + sz].reshape(X.shape[1], e.m))
            i += sz
        ss = []
        for shp, sz in zip(shapes_s, sizes_s):
            ss.append(th[i : i + sz].reshape(shp))
            i += sz
        return out, ss

    def F(eta_list, s_list):
        env = dict(base)
        for e, val in zip(etas, eta_list):
            env[e.out] = _eta_value_shape(e, val)
        env.update(zip(glob, s_list))
        (terms,) = run(jx, env, jx.outvars)
        return objective(terms)

    return theta, split, Xs, XTs, F, (shapes_s, sizes_s)


# At most this many column blocks are spread by selects (_weighted_columns);
# each output element of the fused loop goes through one select per block.
SELECT_BLOCKS = 4


def _weighted_columns(blocks, n, dtype, select=True):
    """The ``(n, c)`` matrix ``[v_1 * M_1, v_2 * M_2, ...]`` for column blocks
    ``(v_b, M_b)``: a per-row vector ``v_b`` times a data matrix ``M_b`` (or
    times 1 for ``M_b = None``).

    With few blocks, as the product ``[M_1, M_2, ...] * W`` where ``W`` spreads
    each vector over its block's columns by selects, instead of concatenating
    the per-row products: XLA:CPU compiles a concatenation inside the fused
    loop to a branch per element, which keeps the loop from being vectorized
    (and the stacked matrices, which do not change between evaluations, are
    hoisted out of a solver's loop): a value, gradient and Hessian cost less
    for the NB2 model (3 blocks) and a logistic regression with few columns,
    and the same with many columns. Only with ``select`` (the whole data,
    with their stored transposes): on blocks of rows (chunked data) the
    stacked matrices are rebuilt for every block, which costs more than the
    vectorized loop saves. With many blocks (multinomial models) the select
    chain grows with the number of blocks, so they are concatenated too.
    """
    if not select or len(blocks) > SELECT_BLOCKS:
        return jnp.concatenate(
            [v[:, None] if M is None else v[:, None] * M for v, M in blocks], axis=1
        )
    ones = jnp.ones((n, 1), dtype)
    src = jnp.concatenate([ones if M is None else M for _, M in blocks], axis=1)
    widths = [1 if M is None else M.shape[1] for _, M in blocks]
    owner = np.repeat(np.arange(len(blocks)), widths)
    W = jnp.zeros(src.shape, dtype)
    for b, (v, _) in enumerate(blocks):
        W = jnp.where((owner == b)[None, :], v[:, None], W)
    return src * W


# From this many columns, X' diag(v) X is computed block by block, its lower
# triangle only (see ``_symmetric_product``), in SYM_SPLIT column blocks.
SYM_MIN_COLUMNS = 256
SYM_SPLIT = 3


def one_gram(p: Plan) -> bool:
    """Whether the Hessian through ``p`` is one ``X' D X`` by BLAS ``syrk``
    (:mod:`likelihax.objective._gram`) and a few weighted columns.

    One predictor of one data matrix with at least ``SYM_MIN_COLUMNS``
    columns, on the CPU: such an evaluation needs no more memory than the
    data (``syrk`` reads them in place), so chunked data are read whole for
    it (``Problem._whole``). The plan's avals hold the shapes.
    """
    if len(p.etas) != 1 or p.etas[0].m != 1 or sum(size(v) for v in p.globals_) > 8:
        return False
    e = p.etas[0]
    shape, dtype = e.data.aval.shape, e.data.aval.dtype
    return (
        len(shape) == 2 and shape[1 - e.data_obs_axis] >= SYM_MIN_COLUMNS
        and jax.default_backend() == "cpu" and dtype in (jnp.float32, jnp.float64)
    )  # fmt: skip


def _symmetric_product(XT, v, X):
    """``X' diag(v) X`` (symmetric) from its lower block triangle.

    A general matrix product computes both triangles; with the columns in
    ``SYM_SPLIT`` blocks, the ``SYM_SPLIT * (SYM_SPLIT + 1) / 2`` products of
    the lower triangle's blocks (BLAS's ``syrk`` does the same) take two
    thirds of the flops at ``SYM_SPLIT = 3``, and each is still a large
    matrix product. ``XT`` is ``X``'s stored ``(k, n)`` transpose.
    """
    W = X * v[:, None]
    cuts = np.linspace(0, X.shape[1], SYM_SPLIT + 1).astype(int)
    blk = {}
    for b in range(SYM_SPLIT):
        for c in range(b + 1):
            blk[b, c] = XT[cuts[b] : cuts[b + 1]] @ W[:, cuts[c] : cuts[c + 1]]
    rows = [
        jnp.concatenate([blk[b, c] if c <= b else blk[c, b].T for c in range(SYM_SPLIT)],
                        axis=1)
        for b in range(SYM_SPLIT)
    ]  # fmt: skip
    return jnp.concatenate(rows, axis=0)


def values(p: Plan, U, to_leaves, data_leaves, objective, transposed=None):
    """``objective(terms)`` at each of a few points, the rows of ``U`` (K, k).

    One evaluation of the data part per point (a Python loop: for the two
    points of the curvature probe). ``vmap`` of the whole log-likelihood
    computes ``X [b_1 ... b_K]`` (n, K) and then transposes every per-row
    quantity to (K, n) inside the fused loop, which XLA:CPU cannot
    vectorize; K separate evaluations each keep a vectorized loop.
    """
    theta, split, Xs, XTs, F, _ = _pieces(p, to_leaves, data_leaves, objective,
                                          transposed)  # fmt: skip
    out = []
    for k in range(U.shape[0]):
        Bs, ss = split(theta(U[k]))
        out.append(F([XT.T @ B for XT, B in zip(XTs, Bs)], ss))
    return jnp.stack(out)


def _selection(theta, u):
    """``sel`` with ``theta(v) = v[sel]`` for every ``v`` (int32), or None.

    Where every coefficient and global is an element of ``u`` (parameters
    without transforms, only split, reshaped and reordered), the chain rule's
    ``J' H_th J`` is a reordering of ``H_th``: forming the ``k x k`` ``J`` and
    multiplying would cost two ``k^3`` products (at ``k = 5,000`` more than
    the Hessian's ``X' D X``).
    """
    k = u.shape[0]
    if k > 2 ** jnp.finfo(u.dtype).nmant:  # (the indices below are exact floats)
        return None
    closed = jax.make_jaxpr(theta)(jax.ShapeDtypeStruct(u.shape, u.dtype))
    if not selects(closed.jaxpr):
        return None
    with jax.ensure_compile_time_eval():  # concrete where theta needs no traced value
        return theta(jnp.arange(k, dtype=u.dtype)).astype(jnp.int32)


def _permutation(sel, k: int):
    """The inverse permutation ``inv`` with ``u = theta[inv]`` where ``sel``
    (concrete) is a permutation of ``range(k)``; else None (a traced
    ``sel``, or elements of ``u`` used twice or not at all)."""
    try:
        s = np.asarray(sel)
    except (TypeError, jax.errors.TracerArrayConversionError):
        return None
    if s.shape != (k,) or not np.array_equal(np.sort(s), np.arange(k)):
        return None
    inv = np.empty(k, np.int32)
    inv[s] = np.arange(k, dtype=np.int32)
    return inv


def _chain_rule(theta, u, g_th, H_th):
    """``(g, H)`` in ``u`` from ``(g_th, H_th)`` in ``theta(u)``: a gather or
    sums where ``theta`` selects elements of ``u``, else ``J' H_th J`` plus
    the curvature of ``theta``."""
    sel = _selection(theta, u)
    if sel is not None:
        # theta(u) = u[sel]: J is a 0/1 selection, so J' H_th J and J' g_th
        # are sums of H_th's and g_th's entries (no k x k products)
        k = u.shape[0]
        perm = _permutation(sel, k)
        if perm is not None and np.array_equal(perm, np.arange(k)):
            return g_th, H_th
        if perm is not None:  # each element of u once: a gather
            return g_th[perm], H_th[perm][:, perm]
        g = jnp.zeros((k,), g_th.dtype).at[sel].add(g_th)
        A = jnp.zeros((k, H_th.shape[1]), H_th.dtype).at[sel].add(H_th)
        H = jnp.zeros((k, k), H_th.dtype).at[:, sel].add(A)
        return g, 0.5 * (H + H.T)  # (the sums' order differs by side)
    J = jax.jacfwd(theta)(u)  # (P, k): no data rows
    g_fixed = jax.lax.stop_gradient(g_th)
    curv = jax.hessian(lambda v: jnp.dot(g_fixed, theta(v)))(u)
    H = J.T @ H_th @ J + curv
    return J.T @ g_th, 0.5 * (H + H.T)


def value_grad_hessian(p: Plan, u, to_leaves, data_leaves, objective, transposed=None):
    """``(f, g, H)`` of ``objective(terms)`` at ``u`` (module notes).

    ``to_leaves(u)`` gives the parameter leaves; ``objective(terms) -> scalar``
    applies weights and masks (minus the sum). ``transposed``: per data leaf,
    its ``(k, n)`` transpose or None (see ``Problem.with_transposed_data``);
    a data matrix that is a leaf with a transpose is contracted through it.
    """
    etas, glob = p.etas, p.globals_
    theta, split, Xs, XTs, F, (shapes_s, sizes_s) = _pieces(
        p, to_leaves, data_leaves, objective, transposed
    )
    th = theta(u)
    Bs, ss = split(th)
    etas_nm = [XT.T @ B for XT, B in zip(XTs, Bs)]

    def grads(eta_list, s_list):
        f, (ge, gs) = jax.value_and_grad(F, argnums=(0, 1))(eta_list, s_list)
        return (ge, gs), f

    # Tangents: one per predictor column (every row at once) and one per global;
    # tangent block i is columns t_start[i]:t_start[i + 1] of the identity.
    T = p.n_tangents
    n = etas_nm[0].shape[0]
    t_start = np.cumsum([0] + [e.m for e in etas] + sizes_s)
    eye = np.eye(T, dtype=np.dtype(u.dtype))
    t_eta = [
        jnp.broadcast_to(jnp.asarray(eye[:, t_start[j] : t_start[j + 1]])[:, None, :],
                         (T, n, e.m))  # fmt: skip
        for j, e in enumerate(etas)
    ]
    t_s = [
        jnp.asarray(eye[:, t_start[i] : t_start[i + 1]].reshape((T,) + tuple(shp)))
        for i, shp in enumerate(shapes_s, start=len(etas))
    ]

    def push(te, ts):
        return jax.jvp(grads, (etas_nm, ss), (te, ts), has_aux=True)

    (ge, gs), (dge, dgs), f = jax.vmap(push, out_axes=(None, 0, None))(t_eta, t_s)

    # Gradient and Hessian in theta = (vec B_1, ..., vec s). For each data
    # matrix X_j, everything it is contracted with (D-weighted copies of the
    # data matrices, the eta-gradient, the eta/global cross derivatives) goes
    # into one product X_j' [ ... ]: a single pass over X_j.
    n_eta_t = int(t_start[len(etas)])
    S = T - n_eta_t
    # Stored transposes (see Problem.with_transposed_data) come with the whole
    # data, not blocks of rows: the stacked matrices below are loop-invariant.
    stored = transposed is not None
    # X' D X from one triangle: by BLAS syrk (any block of rows, on the CPU)
    # or from the stored transpose's lower block triangle (the whole data).
    exact_sym = (len(Xs) == 1 and etas[0].m == 1 and Xs[0].shape[1] >= SYM_MIN_COLUMNS
                 and (stored or gram_ok(Xs[0])))  # fmt: skip
    g_parts, rows = [], []
    for j, (Xj, ej, XjT) in enumerate(zip(Xs, etas, XTs)):
        dj = dge[j]  # (T, n, m_j): derivative of grad eta_j along each tangent
        # Column blocks of [...]: a per-row vector times a data matrix (the
        # D-weighted copies) or times 1 (eta-gradient, cross derivatives).
        blocks, at, off = [], {}, 0
        for c1 in range(ej.m):
            for kk, (Xk, ek) in enumerate(zip(Xs, etas)):
                for c2 in range(ek.m):
                    blocks.append((dj[t_start[kk] + c2, :, c1], Xk))
                    at[c1, kk, c2] = off
                    off += Xk.shape[1]
        g_off = off
        blocks += [(ge[j][:, c], None) for c in range(ej.m)]
        if S:
            cross = jnp.moveaxis(dj[n_eta_t:], 0, -1).reshape(n, ej.m * S)
            blocks += [(cross[:, c], None) for c in range(ej.m * S)]
        if exact_sym:
            # one predictor (a GLM): X' D X by BLAS syrk or its lower block
            # triangle (exactly symmetric), the rest apart
            xdx = gram(Xj, blocks[0][0]) if gram_ok(Xj) else _symmetric_product(
                XjT, blocks[0][0], Xj)  # fmt: skip
            G = jnp.concatenate(
                [xdx, XjT @ _weighted_columns(blocks[1:], n, XjT.dtype, stored)], axis=1
            )  # fmt: skip
        else:
            G = XjT @ _weighted_columns(blocks, n, XjT.dtype, stored)
        pj = Xj.shape[1]
        g_parts.append(G[:, g_off : g_off + ej.m].reshape(-1))
        row = []
        for kk, (Xk, ek) in enumerate(zip(Xs, etas)):
            pk = Xk.shape[1]
            blk = jnp.stack(
                [
                    jnp.stack([G[:, at[c1, kk, c2] : at[c1, kk, c2] + pk]
                               for c2 in range(ek.m)], axis=-1)
                    for c1 in range(ej.m)
                ],
                axis=1,
            )  # (p_j, m_j, p_k, m_k), the order of vec(B) (row-major)
            row.append(blk.reshape(pj * ej.m, pk * ek.m))
        if S:
            row.append(G[:, g_off + ej.m :].reshape(pj * ej.m, S))
        rows.append(jnp.concatenate(row, axis=1))
    g_parts += [g.reshape(-1) for g in gs]
    g_th = jnp.concatenate(g_parts)
    top = jnp.concatenate(rows, axis=0)  # (P_B, P_B + S)
    if glob:
        P_B = top.shape[0]
        gss = jnp.concatenate([d.reshape(T, -1) for d in dgs], axis=1)  # (T, S)
        Fss = gss[n_eta_t:].T
        if exact_sym:
            Fss = 0.5 * (Fss + Fss.T)
        bottom = jnp.concatenate([top[:, P_B:].T, Fss], axis=1)
        H_th = jnp.concatenate([top, bottom], axis=0)
    else:
        H_th = top
    if not exact_sym:  # (else symmetric by construction: no k x k transpose)
        H_th = 0.5 * (H_th + H_th.T)

    return (f, *_chain_rule(theta, u, g_th, H_th))
