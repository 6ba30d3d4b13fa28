r"""Random effects integrated out by the Laplace approximation, for the one engine.

The user writes the joint log-density of one group's data and its random
effects, :math:`h_g(\theta, b) = \log p(y_g, b \mid \theta)` with
:math:`b \in \mathbb R^q`, and names the random effects. :func:`laplace` turns it
into a per-group marginal log-likelihood,

.. math::

    \ell_g(\theta) = h_g(\theta, \hat b_g) + \frac q2 \log 2\pi
        - \frac12 \log\det A_g,
    \qquad A_g = -\nabla^2_b h_g(\theta, \hat b_g),
    \qquad \hat b_g(\theta) = \arg\max_b h_g(\theta, b),

which is exact when :math:`h_g` is quadratic in :math:`b` (linear mixed models)
and the usual Laplace approximation otherwise (lme4 ``glmer(nAGQ = 1)``,
glmmTMB). The result is an ordinary ``loglik(params, data)`` returning one value
per group, so :func:`likelihax.fit` and :class:`likelihax.Model` fit it with
their Newton solver, standard errors, summaries and inference tools: the groups
are the engine's observations.

Computation
-----------
* **Data layout.** Groups are independent, so the data are arranged with the
  group as the leading axis, each group padded to a common size with a
  ``mask`` (:func:`pad_groups`); shapes are static and the groups are solved
  as a batch of small problems by ``vmap``. The Hessian in :math:`b` over all
  groups is block diagonal, so the cost grows linearly in the number of groups.
* **Inner Newton.** :math:`\hat b_g` is found by Newton's method from
  :math:`b = 0`, with the optimizer's direction and line search
  (:func:`likelihax.optimize.newton_direction`, whose eigen-decomposition is
  the LAPACK-free Jacobi one, and :func:`likelihax.optimize.backtrack`), until
  the Newton step is below ``inner_tol``; that last step is taken too, so the
  error is of order ``inner_tol``:sup:`2`. (The mode must be accurate to
  rounding: the log-determinant term is not stationary at :math:`\hat b`, so
  an error :math:`\delta` in the mode is an error of order :math:`\delta` in
  :math:`\ell_g`.) Where :math:`A_g` is not positive definite (far from the
  mode of a joint that is not log-concave), the direction uses the absolute
  values of its eigenvalues, still an ascent direction.
* **Implicit differentiation.** :math:`\hat b_g(\theta)` is a
  ``jax.custom_jvp`` function with the implicit-function-theorem derivative
  :math:`\partial\hat b/\partial\theta = A^{-1}\,\partial_\theta\nabla_b h`;
  the rule is written in differentiable JAX operations and calls the mode
  function again, so the engine's forward-over-reverse Hessian of
  :math:`\sum_g \ell_g` is exact (second derivatives of :math:`\hat b` included)
  and the inner iterations are never unrolled.
* **Small blocks.** :math:`A_g` is factored by an unrolled Cholesky for the
  static :math:`q` (:func:`likelihax.optimize.chol`), never by
  ``jnp.linalg.cholesky`` on a batch: that path can hang in
  ``jax.jit(jax.hessian(...))`` with jaxlib 0.10.2. The test
  ``tests/models/mixed/test_laplace.py::test_outer_hessian_does_not_hang``
  runs the outer Hessian in a subprocess with a timeout.

If :math:`A_g` is not positive definite at the inner optimum (a joint density
that is not log-concave in :math:`b`), the group's value is NaN and the fit
reports a non-finite status rather than a number.

References
----------
Tierney, L. & Kadane, J. B. (1986). Accurate approximations for posterior
moments and marginal densities. *JASA* 81, 82-86.
Kristensen, K. et al. (2016). TMB: automatic differentiation and Laplace
approximation. *J. Stat. Softw.* 70(5).
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
    chol,
    chol_inverse,
    chol_logdet,
    chol_solve,
    newton_direction,
    scaled_eigh,
)
from ._inner import as_float64, inner_newton, latent_free

__all__ = ["Laplace", "RandomEffects", "laplace", "pad_groups"]


@dataclasses.dataclass(frozen=True)
class Laplace:
    """Per-group Laplace marginal log-likelihood; build it with :func:`laplace`.

    Calling it as ``marginal(params, data)`` returns the ``(G,)`` Laplace
    log-likelihoods of the groups. Equal objects (same ``joint`` function,
    random effects and options) share the engine's compiled programs.
    """

    joint: Callable[[Any, Any], Any]
    random: tuple  # ((name, shape), ...)
    max_inner_steps: int = 50
    inner_tol: float = 1e-10
    quadratic: bool = False
    n_agq: int = 1

    @property
    def q(self) -> int:
        """Number of random effects per group."""
        return sum(math.prod(s) for _, s in self.random)

    @property
    def __name__(self) -> str:  # shown as the model name in summaries
        return "Laplace(" + getattr(self.joint, "__name__", "joint") + ")"

    # ----- one group ----------------------------------------------------------
    def _unflatten(self, b):
        out, i = {}, 0
        for name, shape in self.random:
            k = math.prod(shape)
            out[name] = jnp.reshape(b[i : i + k], shape)
            i += k
        return out

    def _h(self, theta, b, data_g):
        p = dict(theta)
        p.update(self._unflatten(b))
        return jnp.sum(self.joint(p, data_g))

    def _neg_hess(self, theta, b, data_g):
        return -jax.hessian(self._h, argnums=1)(theta, b, data_g)

    def _newton(self, theta, data_g):
        """Inner Newton for :math:`\\hat b_g` (module notes), minimizing :math:`-h`."""
        q = self.q
        dt = jnp.result_type(*jax.tree_util.tree_leaves(theta))
        h = functools.partial(self._h, theta, data_g=data_g)

        def negh(b):
            return -h(b)

        b0 = jnp.zeros((q,), dt)
        if self.quadratic:  # one Newton step from 0 is exact
            return chol_solve(chol(-jax.hessian(h)(b0)), jax.grad(h)(b0))

        def direction(b, g):
            H = jax.hessian(negh)(b)
            return newton_direction(H, g, scaled_eigh(H, jacobi=True))[0]

        return inner_newton(negh, direction, b0, self.inner_tol, self.max_inner_steps)

    def _group(self, theta, data_g):
        b = _mode(self, theta, data_g)
        A = self._neg_hess(theta, b, data_g)
        if self.n_agq > 1:
            return self._agq(theta, b, A, data_g)
        return (
            self._h(theta, b, data_g)
            + 0.5 * self.q * math.log(2 * math.pi)
            - 0.5 * chol_logdet(chol(A))
        )

    def _agq(self, theta, b, A, data_g):
        """Adaptive Gauss-Hermite quadrature around the mode (one random effect):
        :math:`\\log\\int e^{h} \\approx \\log(\\sqrt2 s) + \\log\\sum_k w_k
        e^{x_k^2 + h(\\hat b + \\sqrt2 s x_k)}`, :math:`s = A^{-1/2}`; one node
        is the Laplace approximation."""
        x, w = np.polynomial.hermite.hermgauss(self.n_agq)
        s = jnp.sqrt(2.0 / A[0, 0])
        nodes = b[0] + s * jnp.asarray(x, b.dtype)
        hs = jax.vmap(lambda bk: self._h(theta, jnp.reshape(bk, (1,)), data_g))(nodes)
        return jnp.log(s) + jax.scipy.special.logsumexp(
            jnp.asarray(np.log(w) + x**2, b.dtype) + hs
        )

    # ----- the per-group log-likelihood handed to the engine --------------------
    def __call__(self, params, data):
        """``(G,)`` Laplace marginal log-likelihoods of the groups."""
        theta = self._theta(params)
        return jax.vmap(self._group, in_axes=(None, 0))(theta, data)

    def _theta(self, params):
        return latent_free(params, self.random, "random effects")

    # ----- after the fit --------------------------------------------------------
    def random_effects(self, params, data) -> RandomEffects:
        """Conditional modes of the random effects and their conditional covariance.

        Parameters
        ----------
        params : dict
            Parameter values, usually ``fit.params``.
        data : pytree
            The grouped data the fit used (leading axis = groups).

        Returns
        -------
        RandomEffects
            ``modes`` and ``se`` (dicts of ``(G, *shape)`` arrays) and ``cov``
            (``(G, q, q)``, :math:`A_g^{-1}`: the conditional covariance of the
            random effects given the data at the estimated parameters, as
            lme4's ``condVar``).

        Examples
        --------
        >>> import numpy as np, jax.scipy.stats as st
        >>> from likelihax.models.random_effects import laplace
        >>> def joint(p, d):   # y_gi = mu + b_g + e_gi
        ...     return (st.norm.logpdf(d["y"], p["mu"] + p["b"][0], 1.0).sum()
        ...             + st.norm.logpdf(p["b"][0], 0.0, 1.0))
        >>> m = laplace(joint, random={"b": 1})
        >>> re = m.random_effects({"mu": 0.0}, {"y": np.array([[1.0, 1.0], [-1.0, 0.0]])})
        >>> np.round(re.modes["b"][:, 0], 6).tolist(), round(float(re.se["b"][0, 0]), 6)
        ([0.666667, -0.333333], 0.57735)
        """
        with x64_scope():
            theta, data = as_float64(params, data)
            b, cov = _modes_jit(self, theta, data)
            b, cov = np.asarray(b), np.asarray(cov)
        se = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
        G = b.shape[0]
        modes, ses, i = {}, {}, 0
        for name, shape in self.random:
            k = math.prod(shape)
            modes[name] = b[:, i : i + k].reshape((G, *shape))
            ses[name] = se[:, i : i + k].reshape((G, *shape))
            i += k
        return RandomEffects(modes, ses, cov)


class RandomEffects(NamedTuple):
    """Conditional modes of random effects with conditional SEs and covariances."""

    modes: dict
    se: dict
    cov: np.ndarray


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _mode(lap: Laplace, theta, data_g):
    return lap._newton(theta, data_g)


@_mode.defjvp
def _mode_jvp(lap: Laplace, primals, tangents):
    theta, data_g = primals
    dtheta = tangents[0]  # data are not differentiated
    b = _mode(lap, theta, data_g)  # calling the rule's own function: any order
    A = lap._neg_hess(theta, b, data_g)

    def grad_b(th):
        return jax.grad(lap._h, argnums=1)(th, b, data_g)

    _, rhs = jax.jvp(grad_b, (theta,), (dtheta,))
    return b, chol_solve(chol(A), rhs)


@functools.partial(jax.jit, static_argnums=0)
def _modes_jit(lap: Laplace, theta, data):
    def one(data_g):
        b = lap._newton(theta, data_g)
        return b, chol_inverse(chol(lap._neg_hess(theta, b, data_g)))

    return jax.vmap(one)(data)


def laplace(
    joint: Callable[[Any, Any], Any],
    random: Mapping[str, int | tuple],
    *,
    max_inner_steps: int = 50,
    inner_tol: float = 1e-10,
    quadratic: bool = False,
    n_agq: int = 1,
) -> Laplace:
    r"""Integrate random effects out of a joint log-density (Laplace approximation).

    Parameters
    ----------
    joint : callable
        ``joint(params, data_g)``: the log-density of one group's data and its
        random effects, :math:`\log p(y_g \mid b_g, \theta) + \log p(b_g \mid
        \theta)` (a scalar, or terms that are summed). ``params`` is the dict of
        the parameters being estimated plus one entry per random effect;
        ``data_g`` is the group's slice of the data (leading axis removed).
        Padded rows must contribute zero: multiply by ``data_g["mask"]`` (see
        :func:`pad_groups`).
    random : dict
        Name -> size (int) or shape of each random effect of a group.
    max_inner_steps : int
        Limit on the inner Newton steps per group and evaluation.
    inner_tol : float
        Inner Newton stops after a step smaller than ``inner_tol * (1 + |b|)``.
    quadratic : bool
        Declare ``joint`` quadratic in the random effects (Gaussian data with an
        identity link and Gaussian random effects): the mode is then one Newton
        step from zero, taken without the iteration loop. Wrong if the joint is
        not quadratic.
    n_agq : int
        Nodes of adaptive Gauss-Hermite quadrature (lme4's ``nAGQ``) around
        each group's mode, for one scalar random effect per group; 1 (the
        default) is the Laplace approximation. The quadrature is centred at
        the mode and scaled by the curvature there, as ``glmer``'s.

    Returns
    -------
    Laplace
        ``marginal(params, data) -> (G,)``, the Laplace log-likelihood of each
        group (data with the group as leading axis), to pass to
        :func:`likelihax.fit` or :class:`likelihax.Model`. After the fit,
        ``marginal.random_effects(fit.params, data)`` gives the conditional
        modes and conditional standard errors.

    Notes
    -----
    :math:`\ell_g(\theta) = h_g(\theta,\hat b_g) + \tfrac q2\log 2\pi -
    \tfrac12\log\det(-\nabla_b^2 h_g)`; the gradient uses the implicit
    derivative of :math:`\hat b_g(\theta)` (module notes of
    :mod:`likelihax.models.random_effects._laplace`). Standard errors of the
    parameters are the engine's (inverse observed information of
    :math:`\sum_g \ell_g`). Exact for joint densities quadratic in :math:`b`.

    Examples
    --------
    Random-intercept normal model :math:`y_{gi} = \mu + b_g + e_{gi}`:

    >>> import numpy as np, jax.numpy as jnp, jax.scipy.stats as st, likelihax as lx
    >>> from likelihax.models.random_effects import laplace, pad_groups
    >>> def joint(p, d):
    ...     ll = st.norm.logpdf(d["y"], p["mu"] + p["b"][0], p["sigma"])
    ...     return jnp.sum(d["mask"] * ll) + st.norm.logpdf(p["b"][0], 0.0, p["tau"])
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(30), 5)
    >>> y = 2.0 + rng.normal(size=30)[g] + rng.normal(size=150)
    >>> data, levels = pad_groups(g, {"y": y})
    >>> fit = lx.fit(laplace(joint, {"b": 1}), {"mu": 0.0, "sigma": 1.0, "tau": 1.0},
    ...              data, constraints={"sigma": lx.constraints.positive,
    ...                                 "tau": lx.constraints.positive})
    >>> bool(fit.converged), data["y"].shape
    (True, (30, 5))
    """
    if not callable(joint):
        raise TypeError(
            f"joint must be a function joint(params, data_g); got {joint!r}."
        )
    if not isinstance(random, Mapping) or not random:
        raise ValueError(
            "random must name the random effects and their sizes, e.g. {'b': 2}."
        )
    items = []
    for name, shape in random.items():
        shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
        if math.prod(shape) < 1:
            raise ValueError(f"Random effect {name!r} has size 0 (shape {shape}).")
        items.append((str(name), shape))
    if int(max_inner_steps) < 1:
        raise ValueError(f"max_inner_steps must be >= 1; got {max_inner_steps}.")
    q = sum(math.prod(s) for _, s in items)
    if int(n_agq) < 1 or (int(n_agq) > 1 and q != 1):
        raise ValueError(
            f"n_agq must be >= 1, and above 1 only with one scalar random effect per "
            f"group (here {q}); got {n_agq}."
        )
    return Laplace(joint, tuple(items), int(max_inner_steps), float(inner_tol),
                   bool(quadratic), int(n_agq))  # fmt: skip


def pad_groups(groups: Any, data: Mapping[str, Any]) -> tuple[dict, np.ndarray]:
    """Arrange per-row arrays by group: ``(G, m, ...)`` arrays plus a ``mask``.

    Parameters
    ----------
    groups : array (n,)
        Group label of each row (any sortable labels).
    data : dict
        Name -> array with ``n`` rows. Not modified.

    Returns
    -------
    padded : dict
        Each array reshaped to ``(G, m, ...)`` with ``m`` the largest group size
        (rows in their original order within a group; padding rows are zero),
        plus ``"mask"`` (``(G, m)``, 1.0 for real rows, 0.0 for padding).
    levels : ndarray
        The sorted group labels, in the order of the leading axis.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.random_effects import pad_groups
    >>> d, lev = pad_groups(np.array(["b", "a", "b"]), {"y": np.array([1.0, 2.0, 3.0])})
    >>> lev.tolist(), d["y"].tolist(), d["mask"].tolist()
    (['a', 'b'], [[2.0, 0.0], [1.0, 3.0]], [[1.0, 0.0], [1.0, 1.0]])
    """
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ValueError(f"groups must be one label per row; got shape {groups.shape}.")
    levels, code = np.unique(groups, return_inverse=True)
    n, G = groups.shape[0], levels.shape[0]
    order = np.argsort(code, kind="stable")
    counts = np.bincount(code, minlength=G)
    m = int(counts.max()) if n else 0
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.arange(n) - np.repeat(starts, counts)  # position within the group
    gi = code[order]
    out = {}
    for name, x in data.items():
        x = np.asarray(x)
        if x.shape[:1] != (n,):
            raise ValueError(f"data[{name!r}] has {x.shape[:1]} rows; groups has {n}.")
        buf = np.zeros((G, m, *x.shape[1:]), dtype=x.dtype)
        buf[gi, pos] = x[order]
        out[name] = buf
    mask = np.zeros((G, m))
    mask[gi, pos] = 1.0
    out["mask"] = mask
    return out, levels
