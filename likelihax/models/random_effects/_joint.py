r"""The Laplace approximation over any latent vector of a whole-data joint log-density.

The user writes :math:`h(\theta, u) = \log p(y, u \mid \theta)` for the whole
data set, with the latent variables :math:`u` (random effects of several
crossed or nested factors, a latent time series, a spatial field) among the
parameters, and names them (TMB's ``random=``). :func:`integrate` returns the
Laplace-approximated marginal log-likelihood

.. math::

    \ell(\theta) = h(\theta, \hat u) + \frac n2 \log 2\pi - \frac12 \log\det A,
    \qquad A = -\nabla^2_u h(\theta, \hat u),
    \qquad \hat u(\theta) = \arg\max_u h(\theta, u),

as an ordinary ``loglik(params, data)`` for :func:`likelihax.fit`, which then
estimates :math:`\theta` with its Newton solver and reports standard errors,
tests and intervals as for any model. It is exact when :math:`h` is quadratic
in :math:`u` (Gaussian data and latent variables, identity link).

Computation
-----------
* **Inner Newton.** :math:`\hat u` by Newton's method from :math:`u = 0` (in a
  fit, from the mode at the outer solver's last accepted iterate: the
  engine's warm starts, ``warm_call``; see :class:`likelihax.objective.Problem`), each
  direction one Cholesky solve of :math:`A`
  (:func:`likelihax.optimize.cholesky_direction`), with the optimizer's
  backtracking line search, until the step is below ``inner_tol``; the last
  step is taken, so the error is of order ``inner_tol``:sup:`2` (the
  log-determinant is not stationary at :math:`\hat u`, so the mode must be
  accurate to rounding).
* **The latent Hessian from its sparsity.** :math:`A` is sparse in every
  structured model: an observation touches one level of each factor, a prior
  term of a latent series touches neighbouring states. When ``joint`` returns
  its terms (an array, or a pytree of arrays, whose sum is :math:`h`) and a
  :class:`LatentPattern` says which latent entries each term touches (detected
  from the log-density by :func:`latent_pattern`, or declared), the latent
  entries are coloured so that no term touches two entries of one colour; for
  colours :math:`a \le b` one second-order forward derivative of all terms
  along the indicator directions of :math:`a` and :math:`b` gives, for every
  term, its Hessian entry at its own pair of columns, and these are added
  into :math:`A`. Two crossed factors take 3 such passes, however many levels
  they have, instead of one pass per latent entry; the passes run batched
  (``jax.vmap``), so the program holds one copy of the joint however many
  colours there are (a triangulated mesh takes 5 or 6). Without a pattern,
  :math:`A` is ``jax.hessian`` (one pass per latent entry).
* **Factorization.** By the pattern's layout: dense, factorized by LAPACK's
  Cholesky; bordered block-diagonal (the levels of one random-effect term
  first, :class:`likelihax.optimize.Bordered`); or banded after a reverse
  Cuthill-McKee ordering (a latent series, a lattice field:
  :class:`likelihax.optimize.Banded`, LAPACK's banded Cholesky); or sparse
  (an irregular mesh, a lattice field: :class:`likelihax.optimize.SparseSym`,
  QDLDL's sparse LDL' factorization after an approximate minimum degree
  ordering; :meth:`LatentPattern.from_supports` states the automatic
  choice). The per-group special case (:func:`likelihax.models.random_effects.laplace`)
  factorizes its small blocks in a batch instead.
* **Derivatives in** :math:`\theta`. :math:`\hat u(\theta)` is a
  ``jax.custom_jvp`` function with the implicit-function-theorem derivative
  :math:`\partial\hat u/\partial\theta = A^{-1}\partial_\theta\nabla_u h`,
  whose rule calls the mode function again; the log-determinant is
  differentiated through the Cholesky factorization. The gradient of
  :math:`\ell` and the engine's forward-over-reverse Hessian are therefore
  exact (second derivatives of :math:`\hat u` included), and the inner
  iterations are never unrolled. In band or sparse storage the gradient is
  exact (the log-determinant's derivative reads :math:`A^{-1}` on the band,
  or on the factor's pattern: the selected inverse) but a second derivative
  of the log-determinant would need entries of :math:`A^{-1}` outside it:
  the observed information is
  then the central difference of the exact gradient (step
  :math:`\epsilon^{1/3}` relative, about :math:`10^{-10}` relative error),
  as TMB's ``sdreport`` computes it.

If :math:`A` is not positive definite at the inner optimum, the marginal is
NaN and the fit reports a non-finite status rather than a number.

References
----------
Kristensen, K., Nielsen, A., Berg, C. W., Skaug, H. & Bell, B. M. (2016). TMB:
automatic differentiation and Laplace approximation. *J. Stat. Softw.* 70(5).
Curtis, A. R., Powell, M. J. D. & Reid, J. K. (1974). On the estimation of
sparse Jacobian matrices. *IMA J. Appl. Math.* 13, 117-119.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ...core import x64_scope
from ...optimize import (
    Banded,
    Bordered,
    SparseSym,
    banded_cholesky,
    banded_direction,
    banded_logdet,
    banded_solve,
    selected_inverse,
    bordered_chol,
    cholesky_direction,
    sparse_direction,
    sparse_logdet,
    sparse_selected_inverse,
    sparse_solve,
    spd_inverse_logdet,
    spd_solve,
)
from ._inner import as_float64, inner_newton, latent_free
from ._pattern import LatentPattern, _random_items, _terms

__all__ = ["JointLaplace", "LatentModes", "integrate"]


# ----- the marginal log-likelihood ----------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class JointLaplace:
    """Laplace marginal log-likelihood of a whole-data joint; build it with :func:`integrate`.

    ``marginal(params, data)`` returns the scalar Laplace log-likelihood.
    Models with the same joint (an equal object: the same function, or equal
    dataclass instances), latent shapes, pattern content and options are
    equal, and reuse the engine's compiled programs across fits.
    """

    joint: Callable[[Any, Any], Any]
    random: tuple  # ((name, shape), ...)
    pattern: LatentPattern | None = None
    max_inner_steps: int = 50
    inner_tol: float = 1e-10
    quadratic: bool = False

    @property
    def n_latent(self) -> int:
        """Length of the latent vector."""
        return sum(math.prod(s) for _, s in self.random)

    @property
    def __name__(self) -> str:  # shown as the model name in summaries
        return "Laplace(" + getattr(self.joint, "__name__", "joint") + ")"

    def _h(self, theta, u, data):
        return jnp.sum(_terms(self.joint, self.random, theta, u, data))

    def _neg_hess(self, theta, u, data):
        """:math:`A = -\\nabla^2_u h`: dense, or in the pattern's layout (a
        :class:`~likelihax.optimize.Bordered`, :class:`~likelihax.optimize.Banded`
        or :class:`~likelihax.optimize.SparseSym` matrix; module notes)."""
        pat = self.pattern
        if pat is None:
            return -jax.hessian(self._h, argnums=1)(theta, u, data)
        terms = functools.partial(_terms, self.joint, self.random, theta, data=data)
        E = jnp.asarray(
            (pat.colors[None, :] == np.arange(pat.n_colors)[:, None]).astype(float), u.dtype
        )
        # All passes batched: one copy of the joint in the program (its
        # primal computed once), however many pairs of colours.
        ia, ib = np.triu_indices(pat.n_colors)
        d2 = jax.vmap(lambda ea, eb: jax.jvp(lambda v: jax.jvp(terms, (v,), (ea,))[1], (u,),
                                             (eb,))[1])(E[ia], E[ib])  # fmt: skip
        t = np.stack(pat.targets, axis=1)  # (2, passes, n_terms)
        t = t.astype(np.int32) if pat.storage_size < 2**31 else t
        buf = jnp.zeros((pat.storage_size,), u.dtype).at[t[0]].add(-d2).at[t[1]].add(-d2)
        return _unpack(pat, buf[:-1])

    def _newton(self, theta, data, start=None):
        """Inner Newton for :math:`\\hat u` (module notes), minimizing :math:`-h`,
        from ``start`` (where finite; else from zero)."""
        dt = jnp.result_type(*jax.tree_util.tree_leaves(theta))
        u0 = jnp.zeros((self.n_latent,), dt)
        if start is not None:
            u0 = jnp.where(jnp.all(jnp.isfinite(start)), start.astype(dt), u0)

        def negh(u):
            return -self._h(theta, u, data)

        if self.quadratic:  # one Newton step from 0 is exact
            return u0 + _direction(self._neg_hess(theta, u0, data), jax.grad(negh)(u0))

        def direction(u, g):
            return _direction(self._neg_hess(theta, u, data), g)

        return inner_newton(negh, direction, u0, self.inner_tol, self.max_inner_steps)

    def __call__(self, params, data):
        """The Laplace marginal log-likelihood (a scalar)."""
        return self.warm_call(params, data, None)[0]

    # The engine's warm starts (likelihax.objective.Problem): the inner
    # Newton starts from the mode of the last accepted outer iterate.
    def warm_start(self, params, data):
        """The state of a first evaluation: the latent vector at zero."""
        dt = jnp.result_type(*jax.tree_util.tree_leaves(self._theta(params)))
        return jnp.zeros((self.n_latent,), dt)

    def warm_call(self, params, data, start):
        """``(marginal, mode)`` with the inner Newton started at ``start``
        (None: at zero). The marginal and its derivatives do not depend on
        ``start`` (beyond the inner tolerance, squared)."""
        pat = self.pattern
        if pat is not None and (pat.bandwidth is not None or pat.sparse is not None):
            ll = _curvature_by_gradient(self, params, data, start)
            return ll, jax.lax.stop_gradient(_mode(self, self._theta(params), data, start))
        ll, u, _ = self.parts(params, data, start)
        return ll, jax.lax.stop_gradient(u)

    def _marginal(self, params, data, start=None):
        return self.parts(params, data, start)[0]

    def parts(self, params, data, start=None):
        """``(marginal, mode, factor)``: the Laplace log-likelihood, the mode
        :math:`\\hat u` (flat) and the factor of :math:`A` (``logdet()``,
        ``solve(b)``), all differentiable in ``params`` (a model built on the
        Laplace approximation, such as the REML of
        :mod:`likelihax.models.random_effects._terms`, reads the mode and
        solves with the factor)."""
        theta = self._theta(params)
        u = _mode(self, theta, data, start)
        F = _factor(self._neg_hess(theta, u, data))
        ll = (self._h(theta, u, data) + 0.5 * self.n_latent * math.log(2 * math.pi)
              - 0.5 * F.logdet())  # fmt: skip
        return ll, u, F

    def _theta(self, params):
        return latent_free(params, self.random, "latent")

    # ----- after the fit --------------------------------------------------------------------
    def random_effects(self, params, data, full: bool = False) -> LatentModes:
        """Conditional modes of the latent variables and their conditional SDs.

        Parameters
        ----------
        params : dict
            Parameter values, usually ``fit.params``.
        data : pytree
            The data of the fit.
        full : bool
            Also return the whole conditional covariance :math:`A^{-1}`.

        Returns
        -------
        LatentModes
            ``modes`` and ``se`` (dicts shaped like the latent leaves), and
            ``cov`` (``(n, n)``, :math:`A^{-1}`, with ``full=True``): the mode
            :math:`\\hat u` and :math:`\\sqrt{\\mathrm{diag}(A^{-1})}`, the
            conditional SDs given the data at ``params`` (TMB's
            ``sdreport(...)$diag.cov.random`` without the parameter
            uncertainty, lme4's ``condVar``).

        Examples
        --------
        >>> import numpy as np, jax.scipy.stats as st
        >>> from likelihax.models.random_effects import integrate
        >>> def joint(p, d):   # y_gi = mu + b_g + e_gi, two groups
        ...     return (st.norm.logpdf(d["y"], p["mu"] + p["b"][d["g"]], 1.0),
        ...             st.norm.logpdf(p["b"], 0.0, 1.0))
        >>> m = integrate(joint, {"b": 2})
        >>> re = m.random_effects({"mu": 0.0}, {"y": np.array([1.0, 1.0, -1.0, 0.0]),
        ...                                     "g": np.array([0, 0, 1, 1])})
        >>> np.round(re.modes["b"], 6).tolist(), round(float(re.se["b"][0]), 6)
        ([0.666667, -0.333333], 0.57735)
        """
        with x64_scope():
            theta, data = as_float64(self._theta(params), data)
            u, var, cov = _modes_jit(self, theta, data, bool(full))
            u, var = np.asarray(u), np.asarray(var)
            cov = None if cov is None else np.asarray(cov)
        modes, ses, i = {}, {}, 0
        for name, shape in self.random:
            k = math.prod(shape)
            modes[name] = u[i : i + k].reshape(shape)
            ses[name] = np.sqrt(var[i : i + k]).reshape(shape)
            i += k
        return LatentModes(modes, ses, cov if full else None)


class LatentModes(NamedTuple):
    """Conditional modes of latent variables with their conditional SDs
    (and, on request, their conditional covariance, flattened)."""

    modes: dict
    se: dict
    cov: np.ndarray | None = None


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _mode(lap: JointLaplace, theta, data, start=None):
    return lap._newton(theta, data, start)


@_mode.defjvp
def _mode_jvp(lap: JointLaplace, primals, tangents):
    theta, data, start = primals
    dtheta = tangents[0]  # the data and the start are not differentiated
    u = _mode(lap, theta, data, start)  # the rule's own function: derivatives of any order
    A = lap._neg_hess(theta, u, data)

    def grad_u(th):
        return jax.grad(lap._h, argnums=1)(th, u, data)

    _, rhs = jax.jvp(grad_u, (theta,), (dtheta,))
    return u, _factor(A).solve(rhs)


# ----- second derivatives of a banded model: differences of the exact gradient --------------
@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _curvature_by_gradient(lap: JointLaplace, params, data, start=None):
    return lap._marginal(params, data, start)


@_curvature_by_gradient.defjvp
def _curvature_by_gradient_jvp(lap: JointLaplace, primals, tangents):
    params, data, start = primals
    g = _exact_gradient(lap, params, data, start)
    dot = sum(jnp.vdot(a, b) for a, b in zip(jax.tree_util.tree_leaves(g),
                                             jax.tree_util.tree_leaves(tangents[0])))  # fmt: skip
    return _curvature_by_gradient(lap, params, data, start), dot


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _exact_gradient(lap: JointLaplace, params, data, start=None):
    return jax.grad(lap._marginal)(params, data, start)


@_exact_gradient.defjvp
def _exact_gradient_jvp(lap: JointLaplace, primals, tangents):
    """Central difference of the exact gradient along the tangent, with a step
    of :math:`\\epsilon^{1/3}` relative to the parameters' size (truncation
    and rounding errors both of order :math:`\\epsilon^{2/3}`, about
    :math:`10^{-10}` relative)."""
    params, data, start = primals
    dp = tangents[0]
    leaves = jax.tree_util.tree_leaves(params)
    dleaves = jax.tree_util.tree_leaves(dp)
    size = jnp.max(jnp.stack([jnp.max(jnp.abs(x), initial=0.0) for x in leaves]))
    dsize = jnp.max(jnp.stack([jnp.max(jnp.abs(x), initial=0.0) for x in dleaves]))
    h = 6e-6 * jnp.maximum(size, 1.0) / jnp.where(dsize > 0, dsize, 1.0)
    up = jax.tree_util.tree_map(lambda x, d: x + h * d, params, dp)
    down = jax.tree_util.tree_map(lambda x, d: x - h * d, params, dp)
    g_up, g_down = _exact_gradient(lap, up, data, start), _exact_gradient(lap, down, data, start)
    dg = jax.tree_util.tree_map(lambda a, b: (a - b) / (2.0 * h), g_up, g_down)
    return _exact_gradient(lap, params, data, start), dg


@functools.partial(jax.jit, static_argnums=(0, 3))
def _modes_jit(lap: JointLaplace, theta, data, full: bool):
    """Modes, conditional variances and (``full``) the conditional covariance."""
    u = lap._newton(theta, data)
    A = lap._neg_hess(theta, u, data)
    if isinstance(A, Banded) and not full:  # the diagonal of the selected inverse
        var = A.from_band(selected_inverse(banded_cholesky(A.ab))[0])
        return u, var, None
    if isinstance(A, SparseSym) and not full:
        return u, sparse_selected_inverse(A)[A.pattern.diag], None
    cov = _factor(A).solve(jnp.eye(u.shape[0], dtype=u.dtype))
    return u, jnp.diagonal(cov), cov if full else None


# ----- the latent Hessian, dense or bordered ----------------------------------------------
def _unpack(pat: LatentPattern, flat):
    """The Hessian from its flat storage (:attr:`LatentPattern.targets`)."""
    n = pat.n_latent
    if pat.bandwidth is not None:
        return Banded(jnp.reshape(flat, (pat.bandwidth + 1, n)), jnp.asarray(pat.perm))
    if pat.sparse is not None:
        return SparseSym(flat, pat.sparse)
    if pat.lead is None:
        A = jnp.reshape(flat, (n, n))
        return A
    n1, q1 = pat.lead
    m, r = pat.border.shape[1], n - n1 * q1
    o12, o22 = n1 * q1 * q1, n1 * q1 * q1 + n1 * q1 * m
    A11 = jnp.reshape(flat[:o12], (n1, q1, q1))
    A12 = jnp.reshape(flat[o12:o22], (n1, q1, m))
    A22 = jnp.reshape(flat[o22:], (r, r))
    A = Bordered(A11, A12, A22, jnp.asarray(pat.border),
                 None if pat.pairs is None else jnp.asarray(pat.pairs))  # fmt: skip
    if pat.pairs is None:  # a dense border (LatentPattern.pairs)
        A = A._replace(A12=A.border(), cols=None)
    return A


class _Dense(NamedTuple):
    A: jax.Array
    inv: jax.Array
    ld: jax.Array

    def logdet(self):
        return self.ld

    def solve(self, b):
        return spd_solve(self.A, self.inv, b)


class _Blocks(NamedTuple):
    F: Any  # BorderedFactor
    n1: int
    q1: int

    def logdet(self):
        return self.F.logdet()

    def solve(self, b):
        """``b`` (n,) or (n, k) in the latent order."""
        vec = b.ndim == 1
        B = b[:, None] if vec else b
        K = self.n1 * self.q1
        x1, x2 = self.F.solve(jnp.reshape(B[:K], (self.n1, self.q1, -1)), B[K:])
        x = jnp.concatenate([jnp.reshape(x1, (K, -1)), x2], axis=0)
        return x[:, 0] if vec else x


class _Band(NamedTuple):
    A: Banded

    def logdet(self):
        return banded_logdet(self.A.ab)

    def solve(self, b):
        return self.A.from_band(banded_solve(self.A.ab, self.A.to_band(b)))


class _Sparse(NamedTuple):
    A: SparseSym

    def logdet(self):
        return sparse_logdet(self.A)

    def solve(self, b):
        return sparse_solve(self.A, b)


def _factor(A):
    """Cholesky factor of the latent Hessian (NaN where not positive definite)."""
    if isinstance(A, Banded):
        return _Band(A)
    if isinstance(A, SparseSym):
        return _Sparse(A)
    if isinstance(A, Bordered):
        n1, q1 = A.A11.shape[:2]
        return _Blocks(bordered_chol(A), n1, q1)
    return _Dense(A, *spd_inverse_logdet(A))


def _direction(A, g):
    """Newton direction :math:`-A^{-1} g`; where :math:`A` is not positive
    definite, of :math:`A + \\tau I` with its Gershgorin shift (a descent
    direction), as :func:`likelihax.optimize.cholesky_direction`."""
    if isinstance(A, Banded):
        return banded_direction(A, g)
    if isinstance(A, SparseSym):
        return sparse_direction(A, g)
    if not isinstance(A, Bordered):
        return cholesky_direction(A, g)[0]
    F = bordered_chol(A)
    F = jax.lax.cond(F.is_finite(), lambda _: F,
                     lambda _: bordered_chol(A.shift(A.gershgorin_shift())), None)  # fmt: skip
    n1, q1 = A.A11.shape[:2]
    return -_Blocks(F, n1, q1).solve(g)


def integrate(
    joint: Callable[[Any, Any], Any],
    random: Mapping[str, int | tuple],
    *,
    pattern: LatentPattern | None = None,
    max_inner_steps: int = 50,
    inner_tol: float = 1e-10,
    quadratic: bool = False,
) -> JointLaplace:
    r"""Integrate latent variables out of a whole-data joint log-density (Laplace).

    Parameters
    ----------
    joint : callable
        ``joint(params, data)``: :math:`\log p(y \mid u, \theta) + \log p(u
        \mid \theta)` for the whole data set, as a scalar or as its terms (an
        array or a pytree of arrays that are summed). ``params`` holds the
        parameters being estimated plus the latent leaves named in ``random``.
    random : dict
        Latent leaf name -> size (int) or shape.
    pattern : LatentPattern, optional
        Which latent entries each term touches (:func:`latent_pattern`
        detects it, :meth:`LatentPattern.from_supports` declares it): the
        latent Hessian is then assembled from a few coloured derivative passes
        (module notes). Needs ``joint`` to return its terms. Default: the
        dense ``jax.hessian``, one pass per latent entry.
    max_inner_steps : int
        Limit on the inner Newton steps per evaluation.
    inner_tol : float
        Inner Newton stops after a step smaller than ``inner_tol * (1 + |u|)``.
    quadratic : bool
        Declare ``joint`` quadratic in the latent variables: the mode is one
        Newton step from zero. Wrong if the joint is not quadratic.

    Returns
    -------
    JointLaplace
        ``marginal(params, data) -> scalar``, the Laplace log-likelihood, for
        :func:`likelihax.fit` (pass ``nobs=`` there for BIC).
        ``marginal.random_effects(fit.params, data)`` gives the conditional
        modes and SDs of the latent variables.

    Raises
    ------
    ValueError
        ``random`` empty or with a size-0 leaf; a pattern whose number of
        latent entries differs from ``random``'s.

    Notes
    -----
    The gradient of the marginal is exact, by implicit differentiation of the
    mode; its Hessian (the engine's observed information, hence the standard
    errors) is the exact second derivative of the Laplace marginal, computed by
    forward-over-reverse differentiation through the mode's implicit
    derivative and the Cholesky factorization (for a pattern in band or
    sparse storage: the central difference of the exact gradient, about
    :math:`10^{-10}` relative; module notes). The per-group
    :func:`likelihax.models.random_effects.laplace` computes the same value for
    independent groups, faster.

    Examples
    --------
    Crossed random intercepts, :math:`y = \mu + a_{i} + b_{j} + e`:

    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> from likelihax.models.random_effects import integrate, latent_pattern
    >>> rng = np.random.default_rng(0)
    >>> i, j = rng.integers(0, 8, 120), rng.integers(0, 5, 120)
    >>> y = 1.0 + rng.normal(size=8)[i] + rng.normal(size=5)[j] + rng.normal(size=120)
    >>> data = {"y": y, "i": i, "j": j}
    >>> def joint(p, d):
    ...     mu = p["mu"] + p["a"][d["i"]] + p["b"][d["j"]]
    ...     return (st.norm.logpdf(d["y"], mu, p["s"]), st.norm.logpdf(p["a"], 0, p["sa"]),
    ...             st.norm.logpdf(p["b"], 0, p["sb"]))
    >>> start = {"mu": 0.0, "s": 1.0, "sa": 1.0, "sb": 1.0}
    >>> pat = latent_pattern(joint, {**start, "a": np.zeros(8), "b": np.zeros(5)}, data,
    ...                      ["a", "b"])
    >>> m = integrate(joint, {"a": 8, "b": 5}, pattern=pat, quadratic=True)
    >>> pos = lx.constraints.positive
    >>> fit = lx.fit(m, start, data, constraints={"s": pos, "sa": pos, "sb": pos})
    >>> bool(fit.converged), pat.n_colors
    (True, 2)
    """
    if not callable(joint):
        raise TypeError(f"joint must be a function joint(params, data); got {joint!r}.")
    if not isinstance(random, Mapping):
        raise ValueError("random must map each latent leaf to its size, e.g. {'u': 100}.")
    items = _random_items(random)
    n_u = sum(math.prod(s) for _, s in items)
    if pattern is not None:
        if not isinstance(pattern, LatentPattern):
            raise TypeError(
                f"pattern must be a LatentPattern; got {type(pattern).__name__}."
            )
        if pattern.n_latent != n_u:
            raise ValueError(
                f"pattern has {pattern.n_latent} latent entries; random declares {n_u}."
            )
    if int(max_inner_steps) < 1:
        raise ValueError(f"max_inner_steps must be >= 1; got {max_inner_steps}.")
    return JointLaplace(joint, items, pattern, int(max_inner_steps), float(inner_tol),
                        bool(quadratic))  # fmt: skip
