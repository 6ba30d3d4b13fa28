"""Row-wise analysis of a jaxpr: which values follow the observations, and where parameters meet data.

:func:`analyze` walks a traced per-observation log-likelihood operation by
operation and returns the observation axis of each output, raising
:class:`NoPlan` at the first step that couples rows (a cumulative sum or a
slice along the observations, a loop over rows, an unknown primitive). With
``cuts`` it also records where parameters meet the rows: a ``dot_general`` of
a data matrix with parameters (an :class:`Eta`) or any other parameter
quantity entering a row-wise operation (a global). :mod:`._linear_index`
builds its plan on this; :func:`run` evaluates only the part of a jaxpr that
given outputs need.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from jax.extend import core as jcore

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


class NoPlan(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Eta:
    """A cut ``dot_general(data, B)``: ``out`` becomes the input ``eta`` (n, m)."""

    out: Any  # the dot's output var
    data: Any  # the data operand var (obs-dependent, parameter-free)
    param: Any  # the parameter operand var (global)
    data_obs_axis: int  # 0 or 1 of the 2-D data operand
    param_contract: int  # contracted axis of the parameter operand
    data_is_lhs: bool
    m: int


def _obs_of(v, obs):
    return None if isinstance(v, jcore.Literal) else obs.get(v)


def _udep_of(v, udep):
    return False if isinstance(v, jcore.Literal) else udep.get(v, False)


def _row_rule(eqn, o_in, n):
    """Observation axis of each output of a row-wise ``eqn``; raises NoPlan otherwise."""
    name = eqn.primitive.name
    p = eqn.params
    avals_in = [v.aval for v in eqn.invars]
    outs = eqn.outvars
    obs_axes = {a for a in o_in if a is not None}
    if name in _ELEMENTWISE:
        if len(obs_axes) != 1:
            raise NoPlan
        a = obs_axes.pop()
        shape = outs[0].aval.shape
        for av, o in zip(avals_in, o_in):
            if o is None and av.shape not in ((), shape):
                raise NoPlan
        return [a] * len(outs)
    (a,) = obs_axes if len(obs_axes) == 1 else (None,)
    if name == "broadcast_in_dim":
        bd = p["broadcast_dimensions"]
        out = bd[o_in[0]]
        if p["shape"][out] != n:
            raise NoPlan
        return [out]
    if name == "transpose":
        return [list(p["permutation"]).index(o_in[0])]
    if name in _REDUCE:
        axes = tuple(p["axes"])
        if o_in[0] in axes:
            raise NoPlan
        return [o_in[0] - sum(x < o_in[0] for x in axes)]
    if name in _CUMULATIVE:
        if p["axis"] == o_in[0]:
            raise NoPlan
        return [o_in[0]]
    if name == "squeeze":
        dims = tuple(p["dimensions"])
        if o_in[0] in dims:
            raise NoPlan
        return [o_in[0] - sum(x < o_in[0] for x in dims)]
    if name == "reshape":
        if o_in[0] != 0 or p.get("dimensions") is not None or p["new_sizes"][0] != n:
            raise NoPlan
        return [0]
    if name == "rev":
        if o_in[0] in tuple(p["dimensions"]):
            raise NoPlan
        return [o_in[0]]
    if name in ("concatenate", "split"):
        axis = p["dimension"] if name == "concatenate" else p["axis"]
        if a is None or axis == a or any(o not in (None, a) for o in o_in):
            raise NoPlan
        return [a] * len(outs)
    if name == "pad":
        if tuple(p["padding_config"][o_in[0]]) != (0, 0, 0) or o_in[1] is not None:
            raise NoPlan
        return [o_in[0]]
    if name == "slice":
        ax = o_in[0]
        st = p["strides"]
        if p["start_indices"][ax] != 0 or p["limit_indices"][ax] != n or (
            st is not None and st[ax] != 1
        ):
            raise NoPlan
        return [ax]
    if name == "sort":
        if a is None or p["dimension"] == a or any(o not in (None, a) for o in o_in):
            raise NoPlan
        return [a] * len(outs)
    if name == "dot_general":
        (lc, rc), (lb, rb) = p["dimension_numbers"]
        ol, orr = o_in
        r_l, r_r = len(avals_in[0].shape), len(avals_in[1].shape)
        if ol is not None and orr is not None:
            if ol in lb and orr in rb and list(lb).index(ol) == list(rb).index(orr):
                return [list(lb).index(ol)]
            raise NoPlan
        if ol is not None:
            if ol in lc or ol in lb:
                raise NoPlan
            free = [d for d in range(r_l) if d not in lc and d not in lb]
            return [len(lb) + free.index(ol)]
        if orr in rc or orr in rb:
            raise NoPlan
        free_l = r_l - len(lc) - len(lb)
        free = [d for d in range(r_r) if d not in rc and d not in rb]
        return [len(lb) + free_l + free.index(orr)]
    if name == "gather":
        dn = p["dimension_numbers"]
        oo, oi = o_in
        idx_rank = len(avals_in[1].shape)
        if oi is None or oi == idx_rank - 1:
            raise NoPlan
        if oo is not None:
            if oo not in dn.operand_batching_dims:
                raise NoPlan
            q = list(dn.operand_batching_dims).index(oo)
            if dn.start_indices_batching_dims[q] != oi:
                raise NoPlan
        elif dn.operand_batching_dims:
            raise NoPlan
        out_rank = len(outs[0].aval.shape)
        batch_pos = [d for d in range(out_rank) if d not in dn.offset_dims]
        return [batch_pos[oi]]
    raise NoPlan


def _sub_jaxpr(eqn):
    subs = list(jcore.jaxprs_in_params(eqn.params))
    if len(subs) < 1:
        raise NoPlan
    return subs[0]


def analyze(jaxpr, in_udep, in_obs, n, cuts=None):
    """Observation axis of each output; raises NoPlan unless every step is row-wise.

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
            raise NoPlan
        name = eqn.primitive.name
        if name in _CALLS:
            sub = _sub_jaxpr(eqn)
            k = len(sub.invars)
            o_out = analyze(sub, u_in[-k:], o_in[-k:], n)
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
    """An ``Eta`` when ``eqn`` is data (n, p) times parameters (p,) or (p, m) / (m, p)."""
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
        return Eta(eqn.outvars[0], dvar, pvar, o_in[di], pc, data_is_lhs, m)
    return None


def ancestry(jaxpr, n_p):
    """For each parameter-dependent var outside the rows: the parameter inputs it uses."""
    anc = {v: frozenset([i]) for i, v in enumerate(jaxpr.invars[:n_p])}
    for eqn in jaxpr.eqns:
        a = frozenset().union(
            *[anc.get(v, frozenset()) for v in eqn.invars if not isinstance(v, jcore.Literal)]
        )
        for v in eqn.outvars:
            anc[v] = a
    return anc


def size(v) -> int:
    return int(np.prod(v.aval.shape, dtype=np.int64))


def needed(jaxpr, targets, provided):
    need = {v for v in targets if not isinstance(v, jcore.Literal) and v not in provided}
    eqns = []
    for eqn in reversed(jaxpr.eqns):
        if any(v in need for v in eqn.outvars):
            eqns.append(eqn)
            for v in eqn.invars:
                if not isinstance(v, jcore.Literal) and v not in provided:
                    need.add(v)
    return need, eqns[::-1]


def run(jaxpr, env, targets):
    """Evaluate only what ``targets`` need, starting from ``env`` (var -> value)."""
    _, eqns = needed(jaxpr, targets, env)
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


# Primitives that only copy, move or reshape the elements of their operands.
_STRUCTURAL = frozenset(
    "slice reshape concatenate squeeze expand_dims broadcast_in_dim "
    "convert_element_type copy copy_p transpose split rev".split()
)


def selects(jaxpr) -> bool:
    """Whether every output of ``jaxpr`` is a selection of its inputs' elements.

    True when every equation only moves, copies or reshapes elements
    (``_STRUCTURAL``, or a call whose body does) of values that are
    themselves selections of the inputs, and every output is one: then the
    Jacobian of the outputs in the inputs is a 0/1 matrix with one 1 per
    output element. A literal, a constant or any arithmetic makes it False.
    """
    sel = set(jaxpr.invars)
    for eqn in jaxpr.eqns:
        if any(isinstance(v, jcore.Literal) or v not in sel for v in eqn.invars):
            return False
        name = eqn.primitive.name
        if name in _CALLS:
            subs = list(jcore.jaxprs_in_params(eqn.params))
            if len(subs) != 1 or not selects(subs[0]):
                return False
        elif name not in _STRUCTURAL:
            return False
        sel.update(eqn.outvars)
    return all(not isinstance(v, jcore.Literal) and v in sel for v in jaxpr.outvars)
