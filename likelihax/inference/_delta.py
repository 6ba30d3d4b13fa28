r"""Delta method: estimates, standard errors and Wald intervals of functions of the parameters.

For a function :math:`g(\theta)` of the natural-scale parameters (scalar,
vector or pytree valued), with :math:`\hat V` the covariance of
:math:`\hat\theta`,

.. math:: \widehat{\operatorname{Cov}}\,g(\hat\theta) = G \hat V G^\top,
   \qquad G = \partial g / \partial\theta \,\big|_{\hat\theta},

with :math:`G` by ``jax.jacobian`` (exact, no finite differences). Intervals
are Wald intervals :math:`g \mp z_{1-\alpha/2}\,\mathrm{SE}` and the
:math:`z` statistic tests :math:`g(\theta) = 0`. This is Stata's ``nlcom`` and
R's ``car::deltaMethod``; it is accurate when :math:`g` is close to linear
over the sampling spread of :math:`\hat\theta`.

References
----------
Oehlert, G. W. (1992). A note on the delta method. *The American
Statistician*, 46(1), 27-29.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from statistics import NormalDist
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..core import format_pvalue, x64_scope
from ..objective import COVARIANCES
from ..parameters import element_labels, path_name
from ..results import as_fit, pandas_for

__all__ = ["DeltaResult", "delta_method", "delta_se"]



def _natural_cov(fit, cov):
    """Covariance over every natural-scale element (``fit.spec.labels``).

    ``cov``: None (the fit's), a kind name (recomputed with :func:`vcov`), or a
    :class:`Covariance`/array over ``fit.labels``. Fixed parameters get zero
    variance (they are constants). Returns ``(matrix, kind, description)``.
    """
    from ..results import Covariance
    from ._vcov import _vcov_natural

    spec = fit.spec
    fixed = np.array([c.name == "fixed" for c in spec.element_constraints])
    if cov is None:
        V = np.array(fit.full_cov("The delta method"), dtype=float)
        kind, desc = fit.cov_kind, fit.cov_description
    elif isinstance(cov, str):
        if cov in COVARIANCES and COVARIANCES[cov].needs_groups:
            what = "time=t" if cov == "driscoll-kraay" else "groups=g"
            raise ValueError(
                f"cov={cov!r} needs the cluster labels (or periods): pass "
                f"cov=lx.vcov(fit, {cov!r}, {what})."
            )
        V, desc = _vcov_natural(fit, cov)
        kind = cov
    else:
        M = np.asarray(cov, dtype=float)
        kind = cov.kind if isinstance(cov, Covariance) else "user"
        desc = cov.description if isinstance(cov, Covariance) else "given by the user"
        k = len(fit.labels)
        if M.shape != (k, k):
            raise ValueError(
                f"cov must be {k} x {k}, over fit.labels {fit.labels}; got shape "
                f"{M.shape}."
            )
        if len(spec.reported) != spec.n_natural:
            raise ValueError(
                "This model has parameters reported in part (e.g. the lower triangle "
                "of a symmetric matrix), so a covariance over fit.labels cannot be "
                "expanded to all elements: pass cov as a kind name ('sandwich', ...) "
                "instead."
            )
        idx = np.asarray(spec.reported)
        V = np.zeros((spec.n_natural, spec.n_natural))
        V[np.ix_(idx, idx)] = M
    V = np.where(fixed[:, None] | fixed[None, :], 0.0, V)
    return V, kind, desc


def _output_labels(out, names, default: str) -> list[str]:
    """Labels of the flattened leaves of ``out`` (``fn``'s value)."""
    leaves = jax.tree_util.tree_flatten_with_path(out)[0]
    labels: list[str] = []
    for path, leaf in leaves:
        name = path_name(path) if path else default
        labels.extend(element_labels(name, tuple(np.shape(leaf))))
    if names is None:
        return labels
    names = [names] if isinstance(names, str) else list(names)
    if len(names) != len(labels):
        raise ValueError(
            f"names has {len(names)} entries but the function returns {len(labels)} "
            "values."
        )
    return [str(s) for s in names]


def delta_se(fn, x, V):
    r"""Value, Jacobian and delta-method standard errors of ``fn`` at ``x``.

    :math:`\mathrm{SE}_i = \sqrt{(J V J^\top)_{ii}}` with :math:`J =
    \partial\,\mathrm{fn}/\partial x` by forward-mode differentiation (one
    pass per element of ``x``, so ``fn`` may have many outputs) and ``V`` the
    covariance of ``x``; only the diagonal is formed (no :math:`m \times m`
    matrix for :math:`m` outputs). Evaluated in float64.

    Parameters
    ----------
    fn : callable
        JAX function from a vector (k,) to a vector (m,).
    x : array_like (k,)
    V : array_like (k, k)

    Returns
    -------
    value : ndarray (m,)
    jacobian : ndarray (m, k)
    se : ndarray (m,)

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp
    >>> from likelihax.inference import delta_se
    >>> val, J, se = delta_se(lambda b: jnp.exp(b), np.array([0.0, 1.0]),
    ...                       np.diag([0.04, 0.01]))
    >>> np.round(se, 6).tolist()  # exp(b) * SE(b)
    [0.2, 0.271828]
    """
    x = np.asarray(x, dtype=np.float64)
    V = np.asarray(V, dtype=np.float64)
    if x.ndim != 1 or V.shape != (x.size, x.size):
        raise ValueError(
            f"delta_se needs a vector x (k,) and its covariance V (k, k); got x of "
            f"shape {x.shape} and V of shape {V.shape}."
        )
    with x64_scope():
        xj = jnp.asarray(x)
        value = np.asarray(fn(xj))
        J = np.asarray(jax.jacfwd(fn)(xj)).reshape(value.size, x.size)
    return value, J, np.sqrt(np.einsum("ij,jk,ik->i", J, V, J))


@functools.partial(jax.jit, static_argnums=(0, 1))
def _delta_core(fn, spec, flat, V):
    """Value, Jacobian and delta-method covariance of ``fn`` at ``flat``."""

    def g(x):
        out = fn(spec.unflatten_natural(x))
        leaves = jax.tree_util.tree_leaves(out)
        return jnp.concatenate([jnp.ravel(jnp.asarray(v, x.dtype)) for v in leaves])

    val = g(flat)
    J = jax.jacobian(g)(flat)
    C = J @ V @ J.T
    return val, J, 0.5 * (C + C.T)


def _evaluate(fit, fn, V):
    """``(value, jacobian, covariance, output treedef/shapes)`` of ``fn`` at the estimate."""
    with x64_scope():
        flat = jnp.asarray(np.asarray(fit.params_flat, dtype=float))
        shape = jax.eval_shape(fn, fit.spec.unflatten_natural(flat))
        for leaf in jax.tree_util.tree_leaves(shape):
            if not jnp.issubdtype(leaf.dtype, jnp.inexact) and not jnp.issubdtype(
                leaf.dtype, jnp.integer
            ):
                raise TypeError(f"fn must return numbers; got dtype {leaf.dtype}.")
        if not jax.tree_util.tree_leaves(shape):
            raise ValueError("fn returned no values.")
        try:
            val, J, C = _delta_core(fn, fit.spec, flat, jnp.asarray(V))
        except (TypeError, ValueError) as e:  # an unhashable callable
            if "hashable" not in str(e):
                raise
            val, J, C = _delta_core.__wrapped__(fn, fit.spec, flat, jnp.asarray(V))
    return np.asarray(val), np.asarray(J), np.asarray(C), shape


class DeltaResult:
    """Estimates of a function of the parameters with delta-method uncertainty.

    Attributes
    ----------
    estimate, se : pytree
        Shaped like the function's value.
    cov : Covariance
        Labelled covariance of the flattened values.
    labels : list of str
    jacobian : ndarray (m, p)
        :math:`\\partial g/\\partial\\theta` over every natural-scale parameter
        element (``fit.spec.labels`` order).
    alpha : float
        1 - confidence level of :meth:`conf_int` and the summary.
    """

    def __init__(self, values, se, cov, labels, jacobian, treedef_shape, alpha):
        self.values = values
        self.se_flat = se
        self.cov = cov
        self.labels = labels
        self.jacobian = jacobian
        self._shape = treedef_shape
        self.alpha = alpha

    def _unflatten(self, flat):
        leaves, treedef = jax.tree_util.tree_flatten(self._shape)
        out, off = [], 0
        for leaf in leaves:
            m = math.prod(leaf.shape)
            v = np.asarray(flat[off : off + m]).reshape(leaf.shape)
            out.append(v if leaf.shape else float(v))
            off += m
        return jax.tree_util.tree_unflatten(treedef, out)

    @property
    def estimate(self):
        return self._unflatten(self.values)

    @property
    def se(self):
        return self._unflatten(self.se_flat)

    @property
    def z(self) -> np.ndarray:
        """:math:`g/\\mathrm{SE}`, the Wald statistic of :math:`g(\\theta) = 0`."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.values / self.se_flat

    @property
    def pvalues(self) -> np.ndarray:
        """Two-sided normal p-values of :math:`g(\\theta) = 0`."""
        return np.array([math.erfc(abs(z) / math.sqrt(2.0)) for z in self.z])

    def conf_int(self, alpha: float | None = None):
        """Wald intervals ``(lower, upper)``, each shaped like the estimate."""
        alpha = self.alpha if alpha is None else alpha
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
        q = NormalDist().inv_cdf(1 - alpha / 2)
        lo, hi = self.values - q * self.se_flat, self.values + q * self.se_flat
        return self._unflatten(lo), self._unflatten(hi)

    def _rows(self):
        q = NormalDist().inv_cdf(1 - self.alpha / 2)
        return [
            (lab, v, s, z, p, v - q * s, v + q * s)
            for lab, v, s, z, p in zip(
                self.labels, self.values, self.se_flat, self.z, self.pvalues
            )
        ]

    def to_frame(self):
        """The table as a pandas DataFrame (estimate, std.err, z, P>|z|, interval)."""
        pd = pandas_for("DeltaResult.to_frame")
        a = self.alpha
        cols = ["estimate", "std.err", "z", "P>|z|", f"[{a / 2:g}", f"{1 - a / 2:g}]"]
        rows = self._rows()
        return pd.DataFrame([r[1:] for r in rows], index=[r[0] for r in rows],
                            columns=cols)  # fmt: skip

    def summary(self) -> str:
        """The table as text."""
        a = self.alpha
        w = max([len(s) for s in self.labels] + [8])
        head = f"{'':<{w}}" + "".join(
            f"{c:>11}"
            for c in (
                "estimate",
                "std.err",
                "z",
                "P>|z|",
                f"[{a / 2:g}",
                f"{1 - a / 2:g}]",
            )
        )
        lines = [f"Delta method (covariance: {self.cov.kind})", head]
        for lab, v, s, z, p, lo, hi in self._rows():
            lines.append(
                f"{lab:<{w}}"
                + "".join(f"{x:>11.4g}" for x in (v, s, z))
                + f"{format_pvalue(p):>11}"
                + "".join(f"{x:>11.4g}" for x in (lo, hi))
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def delta_method(
    fit,
    fn: Callable[[Any], Any],
    names: Any = None,
    cov: Any = None,
    alpha: float = 0.05,
) -> DeltaResult:
    r"""Estimate, standard error and Wald interval of a function of the parameters.

    Parameters
    ----------
    fit : FitResult
        Or a model result holding one (``lx.glm(...)``).
    fn : callable
        ``fn(params) -> value``, a JAX-differentiable function of the parameter
        pytree (natural scale, shaped like ``fit.params``) returning a scalar,
        an array or a pytree of arrays.
    names : str or list of str, optional
        Labels of the flattened values. Default: the pytree paths of the value
        (``"ratio"``, ``"odds[0]"``, ...), or ``fn``'s name for a bare array.
    cov : None, str or Covariance, optional
        Covariance of the estimates: the fit's (default), a kind name for
        :func:`~likelihax.inference.vcov` (``"sandwich"``, ``"hc1"``, ...), or a
        :class:`~likelihax.Covariance` such as ``lx.vcov(fit, "cluster",
        groups=g)``.
    alpha : float
        1 - confidence level of the intervals.

    Returns
    -------
    DeltaResult
        ``estimate``, ``se`` (shaped like ``fn``'s value), ``cov`` (labelled),
        ``conf_int()``, ``z``, ``pvalues``, ``summary()`` and ``to_frame()``.

    Notes
    -----
    :math:`\widehat{\operatorname{Cov}}\,g(\hat\theta) = G\hat V G^\top` with
    :math:`G = \partial g/\partial\theta` from ``jax.jacobian`` (module notes of
    :mod:`likelihax.inference._delta`).

    Examples
    --------
    Normal mean and standard deviation; the coefficient of variation
    :math:`\sigma/\mu`:

    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> y = np.array([2.1, 3.4, 2.9, 4.2, 3.3, 2.6])
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], p["s"]),
    ...            {"mu": 1.0, "s": 1.0}, {"y": y},
    ...            constraints={"s": lx.constraints.positive})
    >>> r = lx.inference.delta_method(f, lambda p: p["s"] / p["mu"], names="cv")
    >>> mu, s = y.mean(), y.std()
    >>> se = np.hypot(s / mu**2 * f.se["mu"], f.se["s"] / mu)  # closed form
    >>> bool(np.isclose(r.estimate, s / mu)), bool(np.isclose(r.se, se))
    (True, True)
    """
    fit = as_fit(fit)
    if not callable(fn):
        raise TypeError(f"fn must be a function of the parameters; got {type(fn)}.")
    V, kind, desc = _natural_cov(fit, cov)
    val, J, C, shape = _evaluate(fit, fn, V)
    default = getattr(fn, "__name__", "f")
    labels = _output_labels(shape, names, "f" if default == "<lambda>" else default)
    from ..results import Covariance

    se = np.sqrt(np.where(np.diag(C) >= 0, np.diag(C), np.nan))
    return DeltaResult(
        val, se, Covariance(C, labels, kind, desc), labels, J, shape, alpha
    )
