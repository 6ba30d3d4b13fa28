r"""Laplace approximation of the posterior on the unconstrained scale.

With :math:`\theta = T(u)` the map from unconstrained coordinates, the
posterior density of :math:`u` is

.. math:: \log p(u \mid y) = \ell(T(u)) + \log\pi(T(u))
          + \log|\det \partial T/\partial u| + c,

a proper density on :math:`\mathbb R^k` (the Jacobian term makes it so). The
Laplace approximation is the normal :math:`N(\hat u, H^{-1})` at its mode
:math:`\hat u` with :math:`H = -\nabla^2 \log p(\hat u \mid y)`; its draws,
mapped through :math:`T`, approximate the posterior of :math:`\theta` (and
respect the constraints). The mode :math:`\hat u` is found by
:func:`likelihax.fit` itself, started at the MAP; for unconstrained
parameters it is the MAP, otherwise it differs from :math:`T^{-1}` (MAP) by
the Jacobian's pull (e.g. for a Poisson rate :math:`\lambda = e^u` with a
Gamma(:math:`a`, :math:`b`) prior, the MAP is :math:`(a + s - 1)/(b + n)` and
:math:`e^{\hat u} = (a + s)/(b + n)`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..core import x64_scope
from ..parameters import ParamSpec
from ..results import Summary
from ._map import LogPosterior, check_elementwise, log_abs_det_jacobian
from .priors import _nested

__all__ = ["LaplacePosterior", "UnconstrainedDensity", "laplace_posterior"]


@dataclasses.dataclass(frozen=True)
class UnconstrainedDensity:
    """Log posterior density of the unconstrained vector ``params["u"]``.

    Hashable (compiled programs are cached on it): fixed parameter values are
    kept as nested tuples.
    """

    logpost: LogPosterior
    spec: ParamSpec
    fixed: tuple

    @property
    def __name__(self) -> str:
        return "log_posterior_u"

    def fixed_leaves(self, dtype):
        return [None if v is None else jnp.asarray(v, dtype) for v in self.fixed]

    def natural(self, u):
        """Natural-scale parameter pytree at ``u``."""
        return self.spec.to_natural(u, self.fixed_leaves(u.dtype))

    def natural_flat(self, u):
        return self.spec.natural_flat(u, self.fixed_leaves(u.dtype))

    def log_density(self, u, data):
        return self.logpost(self.natural(u), data) + log_abs_det_jacobian(self.spec, u)

    def __call__(self, params, data):
        return self.log_density(params["u"], data)


def unconstrained_density(map_fit, what: str) -> UnconstrainedDensity:
    """The density of ``u`` behind a MAP fit (checks it is one)."""
    setup = getattr(map_fit, "setup", None)
    logpost = getattr(setup, "loglik_fn", None)
    if getattr(setup, "estimator", None) != "MAP" or not isinstance(
        logpost, LogPosterior
    ):
        raise TypeError(
            f"{what} needs the result of lx.fit_map (the posterior mode); got "
            f"{type(map_fit).__name__}. Fit with lx.fit_map(loglik, params, data, "
            "priors={...}) first."
        )
    if not map_fit.is_single:
        raise ValueError(f"{what} needs a single MAP fit, not a batched one.")
    spec = map_fit.spec
    check_elementwise(spec, what)
    flat = np.asarray(map_fit.params_flat, dtype=float)
    fixed, off = [], 0
    for i, shape in enumerate(spec.shapes):
        m = math.prod(shape)
        v = flat[off : off + m].reshape(shape)
        off += m
        fixed.append(
            (float(v) if v.ndim == 0 else _nested(v)) if spec.is_fixed(i) else None
        )
    return UnconstrainedDensity(logpost, spec, tuple(fixed))


_natural_many = jax.jit(
    lambda dens, U: jax.vmap(dens.natural_flat)(U), static_argnums=0
)


class PosteriorDraws:
    """What every draw-based posterior shares: its draws and the parameters' layout.

    Parameters
    ----------
    draws_u : ndarray (..., k)
        The draws of the unconstrained vector.
    draws : ndarray (..., p)
        The same draws on the natural scale, all elements, flat; the leading
        axes are the draws (or chains x draws).
    spec : ParamSpec
        Layout of the parameters (labels, reported elements, pytree).
    """

    def __init__(self, draws_u, draws, spec: ParamSpec):
        self.draws_u = draws_u
        self.draws = draws
        self._spec = spec

    @property
    def samples(self):
        """Draws as a pytree shaped like the parameters, with the leading draw axes."""
        return self._spec.unflatten_natural(self.draws)

    def _reported(self) -> np.ndarray:
        """The reported elements: ``(..., k_reported)``."""
        return self.draws[..., np.asarray(self._spec.reported)]

    def _pooled(self) -> np.ndarray:
        """The reported elements, all draws pooled: ``(n, k_reported)``."""
        d = self._reported()
        return d.reshape(-1, d.shape[-1])

    @property
    def mean(self) -> np.ndarray:
        """Posterior means of the reported elements (Monte Carlo over the draws)."""
        return self._pooled().mean(axis=0)

    @property
    def sd(self) -> np.ndarray:
        return self._pooled().std(axis=0, ddof=1)

    def interval(self, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """Equal-tailed ``1 - alpha`` posterior intervals (quantiles of all draws)."""
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
        d = self._pooled()
        return np.quantile(d, alpha / 2, axis=0), np.quantile(d, 1 - alpha / 2, axis=0)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


class LaplacePosterior(PosteriorDraws):
    """Normal approximation of the posterior; see :func:`laplace_posterior`.

    Attributes
    ----------
    mode_u : ndarray (k,)
        Mode of the posterior density of the unconstrained vector.
    cov_u : ndarray (k, k)
        Inverse negative Hessian of that log density at the mode.
    draws : ndarray (S, p)
        Draws mapped to the natural scale, all elements, flat (see ``labels``
        and :attr:`samples` for a pytree).
    labels : list of str
        Labels of the reported elements (as in the MAP fit).
    map_fit : FitResult
        The MAP fit it was started from.
    """

    def __init__(self, map_fit, density, mode_u, cov_u, draws_u, draws):
        super().__init__(draws_u, draws, density.spec)
        self.map_fit = map_fit
        self.density = density
        self.mode_u = mode_u
        self.cov_u = cov_u

    @property
    def labels(self) -> list[str]:
        lab = self._spec.labels
        return [lab[i] for i in self._spec.reported]

    def summary(self, alpha: float = 0.05) -> Summary:
        """Summary record (mode, mean, sd, interval) with text/HTML/DataFrame views."""
        lo, hi = self.interval(alpha)
        with x64_scope():
            mode = np.asarray(self.density.natural_flat(jnp.asarray(self.mode_u)))
        mode = mode[np.asarray(self._spec.reported)]
        rows = [
            (lab, [m, a, s, l, h])
            for lab, m, a, s, l, h in zip(self.labels, mode, self.mean, self.sd, lo, hi)
        ]
        header = [
            ("Model", str(self.map_fit.annotation.name or self.map_fit.setup.name)),
            ("Draws", str(self.draws.shape[0])),
            ("Observations", str(self.map_fit.nobs)),
            ("Parameters", str(self.mode_u.shape[0])),
        ]
        notes = [
            (
                "Laplace approximation: normal on the unconstrained scale at the mode "
                "of the posterior density there (Jacobian of the transforms included), "
                "covariance the inverse negative Hessian; draws mapped to the natural "
                "scale. 'mode' is the transformed mode (equals the MAP for "
                "unconstrained parameters)."
            ),
        ]
        cols = ["mode", "mean", "sd", f"{alpha / 2:g}", f"{1 - alpha / 2:g}"]
        return Summary("likelihax Laplace posterior", header, cols, rows, notes)

    def __repr__(self) -> str:
        return (
            f"LaplacePosterior({len(self.labels)} parameters, "
            f"{self.draws.shape[0]} draws)"
        )


def laplace_posterior(map_fit, *, draws: int = 4000, key: Any = None):
    r"""Laplace approximation of the posterior behind a MAP fit.

    Parameters
    ----------
    map_fit : FitResult
        Result of :func:`likelihax.fit_map`.
    draws : int
        Number of draws from the approximation (default 4000).
    key : jax.random key, optional
        Default ``jax.random.key(0)``.

    Returns
    -------
    LaplacePosterior
        Mode and covariance on the unconstrained scale, draws on the natural
        scale, ``summary()``.

    Raises
    ------
    TypeError
        ``map_fit`` is not from :func:`likelihax.fit_map`.
    ValueError
        A non-elementwise constraint (simplex, matrices), or a log density
        whose negative Hessian is not positive definite at its mode.

    Notes
    -----
    See the module notes: the normal is fitted on the unconstrained scale,
    including :math:`\log|\det\partial\theta/\partial u|`, at the mode of that
    density, found by :func:`likelihax.fit` started at the MAP. For a normal
    mean with known variance and a normal prior it is the exact posterior.

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> y = np.array([0.8, 1.9, 1.1, 2.4])
    >>> m = lx.fit_map(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0),
    ...                {"mu": 0.0}, {"y": y}, priors={"mu": lx.priors.Normal(0, 1)})
    >>> post = lx.laplace_posterior(m)
    >>> round(float(post.mode_u[0]), 6), round(float(post.cov_u[0, 0]), 6)  # 6.2/5, 1/5
    (1.24, 0.2)
    """
    from ..core import Status
    from ..engine import fit

    density = unconstrained_density(map_fit, "laplace_posterior")
    if int(draws) < 1:
        raise ValueError(f"draws must be >= 1; got {draws}.")
    u_map = np.asarray(map_fit.params_unconstrained, dtype=float)
    mode_fit = fit(density, {"u": u_map}, map_fit.setup.data, nobs=map_fit.nobs, warn=False)
    if mode_fit.status != Status.success:
        raise ValueError(
            "The Laplace approximation failed: at the mode of the unconstrained "
            f"posterior density the fit reports {mode_fit.status.name}: "
            f"{mode_fit.message} Likely causes: (a) an improper posterior (a flat "
            "prior on a parameter the data do not identify); (b) a posterior far "
            "from normal. Give proper priors, or sample with lx.nuts."
        )
    mode_u = np.asarray(mode_fit.params_unconstrained, dtype=float)
    cov_u = np.asarray(mode_fit.cov_unconstrained, dtype=float)
    with x64_scope():
        key = jax.random.key(0) if key is None else key
        z = np.asarray(jax.random.normal(key, (int(draws), mode_u.size), jnp.float64))
        L = np.linalg.cholesky(cov_u)
        draws_u = mode_u + z @ L.T
        nat = np.asarray(_natural_many(density, jnp.asarray(draws_u)))
    return LaplacePosterior(map_fit, density, mode_u, cov_u, draws_u, nat)
