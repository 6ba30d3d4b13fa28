"""The objective handed to every solver: minus the log-likelihood on the unconstrained scale.

One sign convention: solvers minimize :math:`f(u) = -\\sum_i w_i \\ell_i(\\theta(u))`
(:math:`w_i = 1` without weights), and the information is :math:`\\nabla^2 f`.
Nothing outside this module changes the sign.

Expected information
--------------------
A model may describe its expected (Fisher) information through linear
predictors: ``fisher(params, data) -> (eta, c)`` with ``eta`` of shape ``(n,)``
or ``(n, m)`` and ``c`` the information of :math:`\\ell_i` with respect to
:math:`\\eta_i`, shape ``(n,)`` or ``(n, m, m)``. Then

.. math:: \\mathcal I(u) = \\sum_i w_i J_i^\\top c_i J_i,
   \\qquad J_i = \\partial \\eta_i / \\partial u,

with :math:`J_i` by forward-mode autodiff. This "Gauss-Newton through the linear
predictor" form covers GLMs (:math:`c_i = \\mu'(\\eta_i)^2 / V(\\mu_i)`),
multinomial logit (:math:`c_i = \\operatorname{diag} p_i - p_i p_i^\\top`) and
any model whose score is a function of a few linear predictors; Fisher scoring
(IRLS for GLMs) uses it in place of the Hessian. On the unconstrained scale it
is :math:`J_\\theta^\\top \\mathcal I_\\theta J_\\theta`, which at the optimum is the
expected information transformed exactly.

Chunked evaluation
------------------
For a per-observation log-likelihood, the value, gradient and Hessian are sums
over observations. With ``chunk > 0`` they are accumulated over blocks of
``chunk`` observations in a ``lax.fori_loop`` (when ``chunk`` does not divide
the number of observations, the last block overlaps the one before it and the
overlap is masked out).
Every data leaf whose leading dimension is ``nobs`` is split; other leaves are
passed whole to every block. This bounds the working memory by the block and
keeps the contraction over observations cache-friendly: XLA:CPU computes a
21x21 ``X' W X`` over 10^6 rows faster as 100 accumulated blocks, each of
which stays in the cache, than as one dot. It relies on the per-observation
contract: term ``i`` depends on row ``i`` of those leaves only (checked at the
start, see ``separable_gap``).

Forward-mode Jacobians
----------------------
The Hessian (forward-over-reverse), the Jacobian of the linear predictors and
the per-observation scores come from :func:`likelihax.objective._structured.jacfwd`,
which is ``jax.jacfwd`` without the product of the data with the identity
basis (``X @ I`` becomes ``X``): one matrix product per evaluation fewer for
any model with a linear predictor.

When the log-likelihood is row-wise (checked on its jaxpr) and reaches the
parameters through linear predictors ``X @ beta`` and a few global quantities,
the value, gradient and Hessian of a Newton step come from
:mod:`likelihax.objective._linear_index` instead: one tangent per predictor column
and per global input rather than one per parameter, and ``X' D X`` as the
single large product. Other models (row-coupled terms, no linear predictor)
use the forward-over-reverse Hessian above.

A model's own total
-------------------
A model whose per-observation terms are expensive to differentiate as such
(the Cox model's terms are derivatives of the partial likelihood with respect
to the rows' weights) may define ``total(params, data)``, equal to the sum of
its terms; the value, gradient and Hessian of an unweighted, unblocked
objective are then taken from it, and the terms serve the per-observation
scores (OPG, sandwich, clusters).

Warm starts
-----------
A model whose evaluation solves an inner problem (the mode of the latent
variables of a Laplace approximation) may keep state between evaluations:
``warm_start(params, data) -> state`` and ``warm_call(params, data, state) ->
(log-likelihood, new state)``, where the log-likelihood must not depend on
the state beyond the inner solver's tolerance (and its derivatives not at
all). A problem with ``warm`` set evaluates the model from that state, and
:meth:`value_grad_hessian_warm` / :meth:`value_and_grad_warm` also return the
state at the point evaluated, from the same pass. Newton carries the state of
its last accepted iterate, so each trial's inner solve starts from the mode of
a nearby point (TMB's ``last.par`` idea) instead of from scratch. A Poisson
GLMM with 2,000 x 200 crossed levels needs 2 to 3 inner Newton steps per
evaluation this way instead of 10. Not for chunked or streamed data.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp

from ._robust import meat_weights
from ._structured import jacfwd

__all__ = ["Problem"]

# From this many observations (evaluated all at once) a fit's program on the
# CPU keeps a transposed copy of its data matrices and evaluates the curvature
# probe's points through the linear predictors: faster to run, slower to
# compile (see ``Problem.with_transposed_data`` and ``Problem.values``). Both
# answer XLA:CPU's code generation; other backends keep the plain program.
LARGE_ROWS = 4096
# Matrix-free fits: coordinates of parameters this small are handled exactly
# (see Problem.small_coordinates).
SMALL_COORDINATES = 32


def _under_vmap() -> bool:
    """True while tracing under ``jax.vmap`` (batched refits: bootstrap, profiles).

    The predictor Hessian is for single fits: batched over replicates it
    forms a ``(B, n, p)`` weighted copy of the data per evaluation, which
    makes it slower there than the forward-over-reverse Hessian (e.g. for
    1,000 bootstrap refits of a logistic regression, N = 1,000, p = 5).
    """
    from jax.extend import core as jcore

    check = getattr(jcore, "unsafe_am_i_under_a_vmap_DO_NOT_USE", None)
    return bool(check()) if check is not None else True


def _objective(terms, w=None, mask=None):
    """Minus the (weighted, masked) sum of the log-likelihood terms."""
    if w is not None:
        terms = w * terms
    if mask is not None:
        # where, not multiply: a masked row contributes exactly zero.
        terms = jnp.where(mask > 0, terms, 0.0)
    if w is not None:
        # A zero weight drops its row even where its term is not finite.
        terms = jnp.where(w > 0, terms, 0.0)
    return -jnp.sum(terms)


@dataclasses.dataclass(frozen=True)
class Problem:
    """Objective and derivatives for one data set; built inside compiled code."""

    loglik: Callable[[Any, Any], jax.Array]
    spec: Any  # ParamSpec
    fixed_leaves: Any
    data: Any
    nobs: int = 1
    chunk: int = 0
    weights: Any = None  # (n,) observation weights, or None
    fisher: Callable | None = None  # (params, data) -> (eta, c); module notes
    pin: Any = None  # (e, c): hold e.u at c (profile likelihood); see ``pinned``
    source: Any = None  # a likelihax.data source: blocks are read from it (module notes)
    # Per data leaf: its (k, n) transpose, or None (see ``with_transposed_data``).
    transposed: Any = None
    warm: Any = None  # a warm-started model's state (module notes), or None
    # Blocks only bound memory (wide rows; see ``_whole``)
    wide: bool = False

    @classmethod
    def from_static(cls, static, fixed_leaves, data, weights, pin=None) -> "Problem":
        """The problem of a compiled program's static setting (``loglik``, ``spec``,
        ``nobs``, ``chunk``, ``fisher``, ``source``) and its traced arguments."""
        return cls(
            static.loglik, static.spec, fixed_leaves, data, static.nobs, static.chunk,
            weights, static.fisher, pin, source=static.source,
            wide=getattr(static, "wide", False),
        )  # fmt: skip

    def small_coordinates(self, limit: int = SMALL_COORDINATES) -> tuple[int, ...]:
        """Unconstrained indices of the free parameters with at most ``limit``
        elements, smallest parameters first, at most ``limit`` in all (static).

        The coordinates a matrix-free fit treats exactly (one product with the
        unit vector each): scalars and short vectors such as an intercept or a
        dispersion, which the large arrays' coordinates are coupled to (see
        :func:`likelihax.optimize.hutchinson_diagonal`).
        """
        spec, start, blocks = self.spec, 0, []
        for i, size in enumerate(spec.free_sizes):
            if spec.is_fixed(i):
                continue
            if size <= limit:
                blocks.append((size, start))
            start += size
        out: list[int] = []
        for size, s0 in sorted(blocks):
            if len(out) + size > limit:
                break
            out.extend(range(s0, s0 + size))
        return tuple(sorted(out))

    @property
    def chord_steps(self) -> bool:
        """Whether Newton may take chord steps here (see ``_newton``): at
        least ``LARGE_ROWS`` observations, where a value and gradient cost
        clearly less than a full evaluation, and not under ``vmap``, where
        ``lax.cond`` would evaluate both branches."""
        return self.nobs >= LARGE_ROWS and not _under_vmap()

    def with_transposed_data(self, u=None) -> "Problem":
        """This problem with a ``(k, n)`` copy of each ``(n, k)`` floating data matrix.

        For a fit's compiled program, made once before the solver's loop. The
        linear-predictor Hessian contracts the data matrix with its weighted
        copy over the observations, ``X' [D X, ...]``; XLA:CPU computes that
        product faster with ``X'`` stored row by row (each output element a
        contiguous dot product) than with ``X``, and the linear predictor
        ``X b`` as fast. One copy per fit instead of a transposition inside
        every evaluation; a matrix the evaluation does
        not use is dropped by XLA. Not for chunked or streamed data (the
        blocks are sliced from the rows), nor below ``LARGE_ROWS`` rows, where
        the program's compile time matters more than its run time. Nor where
        (with ``u``, the start) the Hessian is one ``X' D X`` by ``syrk``,
        which reads ``X`` in place: the copy would serve a few columns.
        """
        if (
            self.chunk or self.source is not None or self.data is None
            or self.nobs < LARGE_ROWS or jax.default_backend() != "cpu"
        ):  # fmt: skip
            return self
        if u is not None and (found := self._predictor_plan(u, self.data)) is not None:
            from . import _linear_index as predictor

            if predictor.one_gram(found[0]):
                return self
        leaves = jax.tree_util.tree_leaves(self.data)
        t = tuple(
            jnp.transpose(x)
            if (
                jnp.ndim(x) == 2 and jnp.shape(x)[0] == self.nobs and jnp.shape(x)[1] > 1
                and jnp.issubdtype(jnp.result_type(x), jnp.floating)
            )
            else None
            for x in leaves
        )  # fmt: skip
        if not any(x is not None for x in t):
            return self
        return dataclasses.replace(self, transposed=t)

    def pinned(self, u):
        r"""``u`` with the coordinate ``e`` held at ``c`` when ``pin = (e, c)``.

        Profile likelihood: with a unit vector :math:`e` (a traced argument, so
        every coordinate and value is profiled by one ``vmap``ped program), the
        log-likelihood is evaluated at :math:`u - e(e^\top u) + e c`, and the
        objective gets :math:`\tfrac12 (e^\top u - c)^2` so that it stays
        strictly convex along :math:`e` (its minimum there is at :math:`c`,
        where the term is zero).
        """
        if self.pin is None:
            return u
        e, c = self.pin
        if jnp.ndim(e) == 2:  # several coordinates (rows of e orthonormal): 2-D surfaces
            return u - e.T @ (e @ u - c)
        return u - e * jnp.dot(e, u) + e * c

    def _pin_terms(self, u, n_out):
        """Value, gradient and Hessian of the pinning term (zeros without a pin)."""
        if self.pin is None:
            return None
        e, c = self.pin
        if jnp.ndim(e) == 2:
            r = e @ u - c
            ee = e.T @ e
            return (0.5 * jnp.dot(r, r), e.T @ r, 0.5 * (ee + ee.T))[:n_out]
        r = jnp.dot(e, u) - c
        return (0.5 * r * r, r * e, jnp.outer(e, e))[:n_out]

    def _with_pin(self, out, u, n_out):
        extra = self._pin_terms(u, n_out)
        if extra is None:
            return out
        if n_out == 1:
            return out + extra[0]
        return tuple(a + b for a, b in zip(out, extra))

    def params(self, u):
        """Natural-scale parameter pytree at ``u``."""
        return self.spec.to_natural(self.pinned(u), self.fixed_leaves)

    def loglik_terms(self, u, data=None) -> jax.Array:
        """Whatever the user's function returns: per observation, or a scalar."""
        data = self.data if data is None else data
        if self.warm is not None:  # started from the state (module notes)
            return self.loglik.warm_call(self.params(u), data, self.warm)[0]
        return self.loglik(self.params(u), data)

    # ----- warm starts (module notes) --------------------------------------------------
    def _warm_ok(self) -> bool:
        return (callable(getattr(self.loglik, "warm_call", None))
                and not self.chunk and self.source is None)  # fmt: skip

    def init_warm(self, u):
        """The model's state to start its first evaluation from (its
        ``warm_start(params, data)``), or None for a model without one."""
        if not self._warm_ok():
            return None
        return self.loglik.warm_start(self.params(u), self.data)

    def with_warm(self, warm) -> "Problem":
        """This problem with its model started from ``warm`` (None: unchanged)."""
        return self if warm is None else dataclasses.replace(self, warm=warm)

    def _warm_value(self, v):
        terms, state = self.loglik.warm_call(self.params(v), self.data, self.warm)
        return _objective(terms, self.weights), state

    def value_and_grad_warm(self, u):
        """``(f, g, state)``: :meth:`value_and_grad` and the model's state at
        ``u`` (``self.warm`` for a model without one)."""
        if self.warm is None or not self._warm_ok():
            return (*self.value_and_grad(u), self.warm)
        (f, state), g = jax.value_and_grad(self._warm_value, has_aux=True)(u)
        f, g = self._with_pin((f, g), u, 2)
        return f, g, state

    def value_grad_hessian_warm(self, u):
        """``(f, g, H, state)``: :meth:`value_grad_hessian` and the model's
        state at ``u``, from the same pass."""
        if self.warm is None or not self._warm_ok():
            return (*self.value_grad_hessian(u), self.warm)

        def grad_with_aux(v):
            (f, state), g = jax.value_and_grad(self._warm_value, has_aux=True)(v)
            return g, (f, g, state)

        H, (f, g, state) = jacfwd(grad_with_aux, has_aux=True)(u)
        f, g, H = self._with_pin((f, g, H), u, 3)
        return f, g, 0.5 * (H + H.T), state

    def _value(self, u, data, w=None, mask=None):
        total = getattr(self.loglik, "total", None)
        if total is not None and w is None and mask is None and self.warm is None:
            return -total(self.params(u), data)  # the model's own sum (module notes)
        return _objective(self.loglik_terms(u, data), w, mask)

    def _predictor_plan(self, u, data):
        """``(plan, data leaves)`` for the linear-predictor path, or None (see
        ``_linear_index``)."""
        if (
            self.source is not None or self.data is None or u.shape[-1] < 3
            or _under_vmap()
        ):  # fmt: skip
            return None  # (fewer than 3 parameters: never fewer tangents)
        from . import _linear_index as predictor

        flags = [self._is_obs(x) for x in jax.tree_util.tree_leaves(self.data)]
        leaves, tdef = jax.tree_util.tree_flatten(data)
        if len(leaves) != len(flags) or not any(flags):
            return None
        n = jnp.shape(leaves[flags.index(True)])[0]

        p_leaves, p_def = jax.tree_util.tree_flatten(self.params(u))
        n_p = len(p_leaves)

        def fn(*lv):
            return self.loglik(
                jax.tree_util.tree_unflatten(p_def, lv[:n_p]),
                jax.tree_util.tree_unflatten(tdef, lv[n_p:]),
            )

        p = predictor.plan(fn, p_leaves, leaves, flags, n, u.shape[-1])
        return None if p is None else (p, leaves)

    def _vgh_predictor(self, u, data, w=None, mask=None):
        """``(f, g, H)`` through the linear predictors, or None (see ``_linear_index``)."""
        found = self._predictor_plan(u, data)
        if found is None:
            return None
        from . import _linear_index as predictor

        p, leaves = found
        # Transposed copies apply to the whole data only (no chunks).
        trans = self.transposed if data is self.data else None
        return predictor.value_grad_hessian(
            p, u, lambda v: jax.tree_util.tree_leaves(self.params(v)), leaves,
            lambda t: _objective(t, w, mask), transposed=trans,
        )

    def values(self, U):
        """The objective at each of a few points, the rows of ``U`` (K, k):
        ``vmap`` of :meth:`value`, or, for a model with linear predictors and
        the whole data at once (at least ``LARGE_ROWS`` rows; ``vmap``
        compiles faster), one evaluation per point through them (see
        ``_linear_index.values``)."""
        found = (
            None
            if self.chunk or self.pin is not None or self.nobs < LARGE_ROWS
            or jax.default_backend() != "cpu"
            else self._predictor_plan(U[0], self.data)
        )  # fmt: skip
        if found is None:
            return jax.vmap(self.value)(U)
        from . import _linear_index as predictor

        p, leaves = found
        return predictor.values(
            p, U, lambda v: jax.tree_util.tree_leaves(self.params(v)), leaves,
            lambda t: _objective(t, self.weights), transposed=self.transposed,
        )

    def _vg(self, u, data, w=None, mask=None):
        return jax.value_and_grad(self._value)(u, data, w, mask)

    def _vgh(self, u, data, w=None, mask=None):
        fast = None if self.warm is not None else self._vgh_predictor(u, data, w, mask)
        if fast is not None:
            return fast

        def grad_with_aux(v):
            f, g = jax.value_and_grad(self._value)(v, data, w, mask)
            return g, (f, g)

        H, (f, g) = jacfwd(grad_with_aux, has_aux=True)(u)
        return f, g, 0.5 * (H + H.T)

    def _fisher_block(self, u, data, w=None, mask=None):
        """Expected information of one block (module notes)."""
        fixed = self.fixed_leaves

        def eta_fn(v):
            return self.fisher(self.spec.to_natural(self.pinned(v), fixed), data)[0]

        eta, c = self.fisher(self.spec.to_natural(self.pinned(u), fixed), data)
        c = jax.lax.stop_gradient(c)
        J = jacfwd(eta_fn)(u)  # (n, k) or (n, m, k)
        wt = jnp.ones(eta.shape[:1], u.dtype) if w is None else w
        if mask is not None:
            wt = jnp.where(mask > 0, wt, 0.0)
        if eta.ndim == 1:
            cw = jnp.where(wt > 0, wt * c, 0.0)
            return (J * cw[:, None]).T @ J
        cw = jnp.where((wt > 0)[:, None, None], wt[:, None, None] * c, 0.0)
        return jnp.einsum("nak,nab,nbl->kl", J, cw, J)

    def _vgf(self, u, data, w=None, mask=None):
        f, g = self._vg(u, data, w, mask)
        return f, g, self._fisher_block(u, data, w, mask)

    # ----- chunking ------------------------------------------------------------------
    def _is_obs(self, x) -> bool:
        return jnp.ndim(x) >= 1 and jnp.shape(x)[0] == self.nobs

    def _block(self, start, size):
        """Rows ``start:start+size`` of the per-observation leaves (others whole).

        With a ``source``, the rows are read from it on the host by a callback
        (the data never exist whole on the device).
        """
        if self.source is not None:
            return self.source.block(start, size)
        return jax.tree_util.tree_map(
            lambda x: (
                jax.lax.dynamic_slice_in_dim(x, start, size) if self._is_obs(x) else x
            ),
            self.data,
        )

    def _wblock(self, start, size):
        if self.weights is None:
            return None
        return jax.lax.dynamic_slice_in_dim(self.weights, start, size)

    def _whole(self, u, hessian: bool = False) -> bool:
        """Whether an evaluation reads the whole data although ``chunk`` is set.

        With the default blocks of wide rows (``wide``) the blocks bound the
        memory of evaluations that grow with the number of parameters (a
        Hessian's tangents, per-row scores); reading a block copies it. The
        value and gradient need no more than the data, and so does a Hessian
        that is one ``X' D X`` by BLAS ``syrk`` (see
        ``_linear_index.one_gram``): those read the data in place.
        """
        if not (self.chunk and self.wide) or self.source is not None:
            return False
        if not hessian:
            return True
        found = self._predictor_plan(u, self.data)
        if found is None:
            return False
        from . import _linear_index as predictor

        return predictor.one_gram(found[0])

    def _accumulate(self, fn, u, n_out: int, whole: bool = False):
        """Sum of ``fn(u, block, mask)`` over blocks of observations (module notes).

        ``fn(u, data, weights, mask)`` returns ``n_out`` of (value, gradient,
        Hessian or expected information).

        Blocks are read in place with ``dynamic_slice`` inside a ``fori_loop``
        (no reshaped copy of the data). When ``chunk`` does not divide ``nobs``
        the last block is the final ``chunk`` rows, with the rows already
        counted masked out, so the program holds a single block evaluation.
        """
        if not self.chunk or whole:
            return fn(u, self.data, self.weights)
        n, b = self.nobs, self.chunk
        nb = -(-n // b)
        rows = jnp.arange(b)
        # Zeros shaped like fn's output (f; f, g; f, g, H; or anything else).
        shapes = jax.eval_shape(
            lambda v: fn(v, self._block(0, b), self._wblock(0, b), rows), u
        )
        zero = jax.tree_util.tree_map(lambda x: jnp.zeros(x.shape, x.dtype), shapes)

        def body(i, acc):
            start = jnp.minimum(i * b, n - b)
            mask = (start + rows >= i * b).astype(jnp.int8)
            out = fn(u, self._block(start, b), self._wblock(start, b), mask)
            return jax.tree_util.tree_map(jnp.add, acc, out)

        return jax.lax.fori_loop(0, nb, body, zero)

    def separable_gap(self, u):
        """Largest change of the first ``2 * chunk`` terms when evaluated in two halves.

        Zero (up to rounding) when each term depends on its own row only.
        """
        if not self.chunk:
            return jnp.zeros((), jnp.result_type(u))
        # (One block's worth for streamed data: no read exceeds a block.)
        m = min((1 if self.source is not None else 2) * self.chunk, self.nobs)
        h = m // 2
        whole = self.loglik_terms(u, self._block(0, m))
        parts = jnp.concatenate(
            [
                self.loglik_terms(u, self._block(0, h)),
                self.loglik_terms(u, self._block(h, m - h)),
            ]
        )
        scale = 1.0 + jnp.abs(whole)
        return jnp.max(
            jnp.where(jnp.isfinite(whole), jnp.abs(whole - parts) / scale, 0.0)
        )

    # ----- public --------------------------------------------------------------------
    def value(self, u) -> jax.Array:
        """Objective :math:`f(u) = -\\ell(\\theta(u))`."""
        return self._with_pin(
            self._accumulate(self._value, u, 1, self._whole(u)), u, 1
        )

    def value_and_grad(self, u):
        return self._with_pin(self._accumulate(self._vg, u, 2, self._whole(u)), u, 2)

    def value_grad_fisher(self, u):
        """``(f, g, I)`` with ``I`` the expected information (module notes)."""
        if self.fisher is None:
            raise ValueError(
                "Fisher scoring and cov='eim' need the expected information: build "
                "the model with lx.Model(..., fisher=fn) (see likelihax.Model)."
            )
        f, g, info = self._with_pin(self._accumulate(self._vgf, u, 3), u, 3)
        return f, g, 0.5 * (info + info.T)

    def scores(self, u):
        """``(n, k)`` per-observation scores of the *unweighted* terms."""
        if self.source is not None:
            raise ValueError(
                "Per-observation scores of streamed data are not kept in memory; "
                "the OPG and sandwich covariances are accumulated block by block."
            )
        return jacfwd(self.loglik_terms)(u)

    def meat(self, u, weight_type: str = "frequency"):
        r"""``(B, n_eff)``: :math:`B = \sum_i v_i s_i s_i^\top` and the effective count.

        :math:`s_i` is the score of the unweighted term :math:`i`;
        :math:`v_i = w_i` for frequency weights, :math:`w_i^2` for importance
        weights, 1 without weights. ``n_eff`` is the number of rows, the sum of
        frequency weights, or the number of positive importance weights.
        Accumulated over blocks like the Hessian (module notes), so the robust
        covariances of a chunked or streamed fit need no ``(n, k)`` matrix.
        """

        def block(v, data, w=None, mask=None):
            s = jacfwd(lambda x: self.loglik_terms(x, data))(v)
            if s.ndim != 2:
                raise ValueError(
                    "The OPG and sandwich covariances need one log-likelihood value "
                    "per observation, but the log-likelihood returns a scalar."
                )
            vv, cnt = meat_weights(s.shape[0], s.dtype, w, mask, weight_type)
            s = jnp.where((vv > 0)[:, None], s, 0.0)
            return (s * vv[:, None]).T @ s, cnt

        return self._accumulate(block, u, 2)

    def value_grad_hessian(self, u):
        """``(f, g, H)`` at ``u`` in one fused pass (forward-over-reverse).

        The Hessian is the forward-mode Jacobian of the gradient; the value and
        gradient ride along as auxiliary outputs of the same computation, so a
        Newton step reads the data once for all three. Every block's Hessian
        is exactly symmetric (``_vgh``), and so is their sum: no ``k x k``
        transposition here.
        """
        whole = self.warm is None and self._whole(u, hessian=True)
        return self._with_pin(self._accumulate(self._vgh, u, 3, whole), u, 3)
