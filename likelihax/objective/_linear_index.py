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
from jax.extend import core as jcore

__all__ = ["plan", "value_grad_hessian"]

_ELEMENTWISE = frozenset(
    """
    abs acos acosh add and asin asinh atan atan2 atanh bessel_i0e bessel_i1e cbrt ceil
    clamp conj convert_element_type copy copy_p cos cosh digamma div eq erf erf_inv
    erfc exp exp2 expm1 floor ge gt igamma igamma_grad_a igammac imag integer_pow
    is_finite le lgamma log log1p logistic lt max min mul ne neg nextafter not or
    polygamma pow random_gamma_grad real reduce_precision regularized_incomplete_beta
    rem round rsqrt select_n sign sin sinh sqrt square sub tan tanh xor zeta
    shift_left shift_right_arithmetic shift_right_logical population_count
    pvary sharding_constraint optimization_barrier stop_gradient
    """.split()
)
_REDUCE = frozenset(
    "reduce_sum reduce_max reduce_min reduce_prod reduce_and reduce_or reduce_xor "
    "argmax argmin".split()
)
_CUMULATIVE = frozenset("cumsum cumprod cummax cummin cumlogsumexp".split())
_CALLS = frozenset(
    "pjit jit closed_call core_call custom_jvp_call custom_vjp_call "
    "custom_vjp_call_jaxpr remat checkpoint".split()
)


class _NoPlan(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class _Eta:
    """A cut ``dot_general(data, B)``: ``out`` becomes the input ``eta`` (n, m)."""

    out: Any  # the dot's output var
    data: Any  # the data operand var (obs-dependent, parameter-free)
    param: Any  # the parameter operand var (global)
    data_obs_axis: int  # 0 or 1 of the 2-D data operand
    param_contract: int  # contracted axis of the parameter operand
    data_is_lhs: bool
    m: int


@dataclasses.dataclass(frozen=True)
class Plan:
    jaxpr: Any
    consts: tuple
    etas: tuple  # of _Eta
    globals_: tuple  # s-cut vars
    n_tangents: int
    n_params: int  # the first n_params invars are the parameter leaves


# ----- analysis ------------------------------------------------------------------------
def _obs_of(v, obs):
    return None if isinstance(v, jcore.Literal) else obs.get(v)


def _udep_of(v, udep):
    return False if isinstance(v, jcore.Literal) else udep.get(v, False)


def _row_rule(eqn, o_in, n):
    """Observation axis of each output of a row-wise ``eqn``; raises _NoPlan otherwise."""
    name = eqn.primitive.name
    p = eqn.params
    avals_in = [v.aval for v in eqn.invars]
    outs = eqn.outvars
    obs_axes = {a for a in o_in if a is not None}
    if name in _ELEMENTWISE:
        if len(obs_axes) != 1:
            raise _NoPlan
        a = obs_axes.pop()
        shape = outs[0].aval.shape
        for av, o in zip(avals_in, o_in):
            if o is None and av.shape not in ((), shape):
                raise _NoPlan
        return [a] * len(outs)
    (a,) = obs_axes if len(obs_axes) == 1 else (None,)
    if name == "broadcast_in_dim":
        bd = p["broadcast_dimensions"]
        out = bd[o_in[0]]
        if p["shape"][out] != n:
            raise _NoPlan
        return [out]
    if name == "transpose":
        return [list(p["permutation"]).index(o_in[0])]
    if name in _REDUCE:
        axes = tuple(p["axes"])
        if o_in[0] in axes:
            raise _NoPlan
        return [o_in[0] - sum(x < o_in[0] for x in axes)]
    if name in _CUMULATIVE:
        if p["axis"] == o_in[0]:
            raise _NoPlan
        return [o_in[0]]
    if name == "squeeze":
        dims = tuple(p["dimensions"])
        if o_in[0] in dims:
            raise _NoPlan
        return [o_in[0] - sum(x < o_in[0] for x in dims)]
    if name == "reshape":
        if o_in[0] != 0 or p.get("dimensions") is not None or p["new_sizes"][0] != n:
            raise _NoPlan
        return [0]
    if name == "rev":
        if o_in[0] in tuple(p["dimensions"]):
            raise _NoPlan
        return [o_in[0]]
    if name in ("concatenate", "split"):
        axis = p["dimension"] if name == "concatenate" else p["axis"]
        if a is None or axis == a or any(o not in (None, a) for o in o_in):
            raise _NoPlan
        return [a] * len(outs)
    if name == "pad":
        if tuple(p["padding_config"][o_in[0]]) != (0, 0, 0) or o_in[1] is not None:
            raise _NoPlan
        return [o_in[0]]
    if name == "slice":
        ax = o_in[0]
        st = p["strides"]
        if p["start_indices"][ax] != 0 or p["limit_indices"][ax] != n or (
            st is not None and st[ax] != 1
        ):
            raise _NoPlan
        return [ax]
    if name == "sort":
        if a is None or p["dimension"] == a or any(o not in (None, a) for o in o_in):
            raise _NoPlan
        return [a] * len(outs)
    if name == "dot_general":
        (lc, rc), (lb, rb) = p["dimension_numbers"]
        ol, orr = o_in
        r_l, r_r = len(avals_in[0].shape), len(avals_in[1].shape)
        if ol is not None and orr is not None:
            if ol in lb and orr in rb and list(lb).index(ol) == list(rb).index(orr):
                return [list(lb).index(ol)]
            raise _NoPlan
        if ol is not None:
            if ol in lc or ol in lb:
                raise _NoPlan
            free = [d for d in range(r_l) if d not in lc and d not in lb]
            return [len(lb) + free.index(ol)]
        if orr in rc or orr in rb:
            raise _NoPlan
        free_l = r_l - len(lc) - len(lb)
        free = [d for d in range(r_r) if d not in rc and d not in rb]
        return [len(lb) + free_l + free.index(orr)]
    if name == "gather":
        dn = p["dimension_numbers"]
        oo, oi = o_in
        idx_rank = len(avals_in[1].shape)
        if oi is None or oi == idx_rank - 1:
            raise _NoPlan
        if oo is not None:
            if oo not in dn.operand_batching_dims:
                raise _NoPlan
            q = list(dn.operand_batching_dims).index(oo)
            if dn.start_indices_batching_dims[q] != oi:
                raise _NoPlan
        elif dn.operand_batching_dims:
            raise _NoPlan
        out_rank = len(outs[0].aval.shape)
        batch_pos = [d for d in range(out_rank) if d not in dn.offset_dims]
        return [batch_pos[oi]]
    raise _NoPlan


def _sub_jaxpr(eqn):
    subs = list(jcore.jaxprs_in_params(eqn.params))
    if len(subs) < 1:
        raise _NoPlan
    return subs[0]


def _analyze(jaxpr, in_udep, in_obs, n, cuts=None):
    """Observation axis of each output; raises _NoPlan unless every step is row-wise.

    Vars are classified as parameter-dependent and by their observation axis;
    ``cuts`` (top level only) collects where parameters meet the rows.
    """
    udep, obs = {}, {}
    for v, ud, ob in zip(jaxpr.invars, in_udep, in_obs):
        udep[v], obs[v] = ud, ob
    for v in jaxpr.constvars:
        udep[v], obs[v] = False, None
    for eqn in jaxpr.eqns:
        u_in = [_udep_of(v, udep) for v in eqn.invars]
        o_in = [_obs_of(v, obs) for v in eqn.invars]
        any_u = any(u_in)
        if all(o is None for o in o_in):
            for v in eqn.outvars:
                udep[v], obs[v] = any_u, None
            continue
        if eqn.effects:
            raise _NoPlan
        name = eqn.primitive.name
        if name in _CALLS:
            sub = _sub_jaxpr(eqn)
            k = len(sub.invars)
            o_out = _analyze(sub, u_in[-k:], o_in[-k:], n)
        else:
            o_out = _row_rule(eqn, o_in, n)
        if cuts is not None and any_u:
            eta = _eta_cut(eqn, u_in, o_in) if name == "dot_general" else None
            if eta is not None:
                cuts["etas"].append(eta)
            else:
                for v, ud, ob in zip(eqn.invars, u_in, o_in):
                    if ud and ob is None and v not in cuts["globals"]:
                        cuts["globals"].append(v)
        for v, ob in zip(eqn.outvars, o_out):
            udep[v], obs[v] = any_u, ob
    return [_obs_of(v, obs) for v in jaxpr.outvars]


def _eta_cut(eqn, u_in, o_in):
    """An ``_Eta`` when ``eqn`` is data (n, p) times parameters (p,) or (p, m) / (m, p)."""
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    if lb or rb or len(lc) != 1:
        return None
    for data_is_lhs in (True, False):
        di, pi = (0, 1) if data_is_lhs else (1, 0)
        if u_in[di] or o_in[di] is None or not u_in[pi] or o_in[pi] is not None:
            continue
        dvar, pvar = eqn.invars[di], eqn.invars[pi]
        dshape, pshape = dvar.aval.shape, pvar.aval.shape
        dc = (lc if data_is_lhs else rc)[0]
        pc = (rc if data_is_lhs else lc)[0]
        if len(dshape) != 2 or len(pshape) not in (1, 2) or dc == o_in[di]:
            return None
        m = 1 if len(pshape) == 1 else pshape[1 - pc]
        return _Eta(eqn.outvars[0], dvar, pvar, o_in[di], pc, data_is_lhs, m)
    return None


def _ancestry(jaxpr, n_p):
    """For each parameter-dependent var outside the rows: the parameter inputs it uses."""
    anc = {v: frozenset([i]) for i, v in enumerate(jaxpr.invars[:n_p])}
    for eqn in jaxpr.eqns:
        a = frozenset().union(
            *[anc.get(v, frozenset()) for v in eqn.invars if not isinstance(v, jcore.Literal)]
        )
        for v in eqn.outvars:
            anc[v] = a
    return anc


def _size(v) -> int:
    return int(np.prod(v.aval.shape, dtype=np.int64))


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
        out_obs = _analyze(jaxpr, in_udep, in_obs, n, cuts)
    except _NoPlan:
        return None
    if out_obs != [0] or not cuts["etas"]:
        return None
    etas = tuple(cuts["etas"])
    # Globals: where a parameter quantity enters a row-wise operation, or,
    # when cheaper, the parameter inputs it is computed from (a dispersion
    # rather than the table of log-gamma differences built from it).
    anc = _ancestry(jaxpr, n_p)
    chosen: list = []
    for v in sorted(cuts["globals"], key=_size, reverse=True):
        leaves = [jaxpr.invars[i] for i in sorted(anc.get(v, ()))]
        new = [x for x in leaves if x not in chosen]
        if leaves and sum(_size(x) for x in new) <= _size(v):
            chosen.extend(new)
        elif v not in chosen:
            chosen.append(v)
    direct = list(dict.fromkeys(cuts["globals"]))
    glob = tuple(min((chosen, direct), key=lambda c: sum(_size(x) for x in c)))
    if any(not jnp.issubdtype(v.aval.dtype, jnp.floating) for v in glob):
        return None
    n_t = sum(e.m for e in etas) + sum(_size(v) for v in glob)
    if n_t >= k:
        return None
    p = Plan(jaxpr, tuple(closed.consts), etas, glob, n_t, n_p)
    if not _prunes_params(p):
        return None
    return p


# ----- evaluation ----------------------------------------------------------------------
def _needed(jaxpr, targets, provided):
    need = {v for v in targets if not isinstance(v, jcore.Literal) and v not in provided}
    eqns = []
    for eqn in reversed(jaxpr.eqns):
        if any(v in need for v in eqn.outvars):
            eqns.append(eqn)
            for v in eqn.invars:
                if not isinstance(v, jcore.Literal) and v not in provided:
                    need.add(v)
    return need, eqns[::-1]


def _prunes_params(p: Plan) -> bool:
    """The data part must need no parameter input that is not cut."""
    provided = {e.out for e in p.etas} | set(p.globals_)
    need, _ = _needed(p.jaxpr, p.jaxpr.outvars, provided)
    return not any(v in need for v in p.jaxpr.invars[: p.n_params] if v not in provided)


def _run(jaxpr, env, targets):
    """Evaluate only what ``targets`` need, starting from ``env`` (var -> value)."""
    _, eqns = _needed(jaxpr, targets, env)
    env = dict(env)

    def read(v):
        return v.val if isinstance(v, jcore.Literal) else env[v]

    for eqn in eqns:
        bind_params = eqn.primitive.get_bind_params(eqn.params)
        with eqn.ctx.manager:
            ans = eqn.primitive.bind(*[read(v) for v in eqn.invars], **bind_params)
        if eqn.primitive.multiple_results:
            env.update(zip(eqn.outvars, ans))
        else:
            env[eqn.outvars[0]] = ans
    return [read(v) for v in targets]


def _canon_data(e: _Eta, D):
    return D if e.data_obs_axis == 0 else D.T  # (n, p)


def _canon_param(e: _Eta, B):
    if B.ndim == 1:
        return B[:, None]
    return B if e.param_contract == 0 else B.T  # (p, m)


def _eta_value_shape(e: _Eta, eta_nm):
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
        vals = _run(jx, env, [e.param for e in etas] + list(glob))
        Bs = [_canon_param(e, b) for e, b in zip(etas, vals[: len(etas)])]
        return jnp.concatenate(
            [b.reshape(-1) for b in Bs] + [s.reshape(-1) for s in vals[len(etas):]]
        )

    Xs = [_canon_data(e, d) for e, d in zip(etas, _run(jx, base, [e.data for e in etas]))]
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
        (terms,) = _run(jx, env, jx.outvars)
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
        bottom = jnp.concatenate([top[:, P_B:].T, gss[n_eta_t:].T], axis=1)
        H_th = jnp.concatenate([top, bottom], axis=0)
    else:
        H_th = top
    H_th = 0.5 * (H_th + H_th.T)

    J = jax.jacfwd(theta)(u)  # (P, k): no data rows
    g_fixed = jax.lax.stop_gradient(g_th)
    curv = jax.hessian(lambda v: jnp.dot(g_fixed, theta(v)))(u)
    H = J.T @ H_th @ J + curv
    return f, J.T @ g_th, 0.5 * (H + H.T)
