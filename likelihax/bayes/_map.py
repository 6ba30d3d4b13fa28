r"""MAP estimation: :func:`likelihax.fit` of log-likelihood + log prior.

The posterior mode is found by the same engine (the same solvers, the same
result type and summary), applied to the scalar objective

.. math:: \log p(\theta \mid y) = \ell(\theta) + \sum_j \log \pi_j(\theta_j) + c,

maximized over the natural-scale parameters :math:`\theta` (through the same
unconstrained map as the MLE, but without a Jacobian: the MAP is the mode of
the posterior density of :math:`\theta`). Its "standard errors" are the
square roots of the diagonal of the inverse negative Hessian of the log
posterior: the Laplace approximation on the natural scale.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..core import x64_scope
from ..engine import Model, is_model_call
from ..parameters import Param, ParamSpec, build_spec
from ..parameters import constraints as C
from ..results import ModelInfo
from .priors import Flat, Prior

__all__ = ["LogPosterior", "fit_map"]

# Constraints whose forward map acts element by element (diagonal Jacobian).


@dataclasses.dataclass(frozen=True)
class LogPosterior:
    """Log-likelihood + log prior as one scalar objective ``f(params, data)``.

    Hashable (the user's function and the priors), so a second MAP fit with
    the same model and priors reuses the compiled program.

    Attributes
    ----------
    loglik : callable
        The user's ``loglik(params, data)`` (per observation or total).
    priors : tuple
        One :class:`~likelihax.priors.Prior` per parameter leaf, in JAX's
        flattening order.
    names : tuple of str
        Leaf names, in the same order.
    """

    loglik: Callable
    priors: tuple
    names: tuple

    @property
    def __name__(self) -> str:  # read by lx.fit for the model name
        return getattr(self.loglik, "__name__", "loglik")

    def log_prior(self, params):
        """Sum of the priors' log densities at ``params`` (natural scale)."""
        leaves = jax.tree_util.tree_leaves(params)
        total = jnp.zeros((), jnp.result_type(*leaves))
        for prior, x in zip(self.priors, leaves):
            total = total + jnp.sum(prior.log_prob(x))
        return total

    def log_likelihood(self, params, data):
        """Total log-likelihood (the user's per-observation terms summed)."""
        return jnp.sum(self.loglik(params, data))

    def __call__(self, params, data):
        return self.log_likelihood(params, data) + self.log_prior(params)


def _bounds(c: C.Constraint) -> tuple[float, float]:
    b = c.bounds()
    return (-math.inf, math.inf) if b is None else (float(b[0]), float(b[1]))


def resolve_priors(
    spec: ParamSpec, priors: Mapping[str, Prior] | None, user_constraints: set
) -> tuple[tuple, dict]:
    """One prior per leaf (``Flat`` where none is given) and the constraints
    implied by the priors' supports.

    ``user_constraints``: leaf names whose constraint the user chose. A
    parameter with a bounded prior and no chosen constraint gets the prior's
    support as its constraint; a chosen constraint must lie inside the support.
    """
    priors = dict(priors or {})
    per_leaf: list[Prior] = [Flat()] * len(spec.names)
    for key, prior in priors.items():
        if not isinstance(prior, Prior):
            raise TypeError(
                f"priors[{key!r}] = {prior!r} is not a prior; use one of "
                "likelihax.priors (Normal(0, 10), HalfNormal(5), Beta(2, 2), ...)."
            )
        hits = [
            i for i, n in enumerate(spec.names)
            if n == key or n.startswith((key + ".", key + "["))
        ]  # fmt: skip
        if not hits:
            raise ValueError(
                f"A prior is given for {key!r}, which matches no parameter. "
                f"Parameters are: {', '.join(spec.names)}."
            )
        for i in hits:
            shape = spec.shapes[i]
            try:
                ok = np.broadcast_shapes(prior.batch_shape, shape) == shape
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(
                    f"The prior {prior!r} of '{spec.names[i]}' has hyperparameters "
                    f"of shape {prior.batch_shape}, which do not broadcast to the "
                    f"parameter's shape {shape}."
                )
            per_leaf[i] = prior
    implied = {}
    for i, (name, c, prior) in enumerate(zip(spec.names, spec.constraints, per_leaf)):
        if spec.is_fixed(i):
            continue
        s_lo, s_hi = _bounds(prior.support)
        if name not in user_constraints and c is C.real and prior.support is not C.real:
            implied[name] = prior.support
            continue
        lo, hi = _bounds(c)
        if lo < s_lo or hi > s_hi:
            raise ValueError(
                f"The prior {prior!r} of '{name}' has support {prior.support.name}, "
                f"but the parameter is constrained to {c.name}: the log posterior "
                f"would be -inf on part of its range. Leave the constraint out "
                f"(the prior's support is then used) or give "
                f"constraints={{'{name}': lx.constraints.{_suggest(prior.support)}}}."
            )
    return tuple(per_leaf), implied


def _suggest(c: C.Constraint) -> str:
    if isinstance(c, C.interval):
        return (
            c.name
            if c.name == "unit_interval"
            else f"interval({c.lower:g}, {c.upper:g})"
        )
    return c.name


def log_abs_det_jacobian(spec: ParamSpec, u):
    r""":math:`\log|\det \partial\theta/\partial u|` of the unconstrained map.

    Only elementwise constraints (real, positive, greater/less than,
    interval), whose Jacobian is diagonal: the sum of
    :math:`\log|\mathrm{d}\theta_i/\mathrm{d}u_i|`.
    """
    total = jnp.zeros((), u.dtype)
    off = 0
    for i, (c, shape) in enumerate(zip(spec.constraints, spec.shapes)):
        if spec.is_fixed(i):
            continue
        m = spec.free_sizes[i]
        if c is C.real:
            off += m
            continue
        ui = u[off : off + m]
        off += m
        fwd = lambda v, c=c: jnp.ravel(c.forward(v, (v.shape[0],)))
        _, d = jax.jvp(fwd, (ui,), (jnp.ones_like(ui),))
        total = total + jnp.sum(jnp.log(jnp.abs(d)))
    return total


def check_elementwise(spec: ParamSpec, what: str) -> None:
    """Raise unless every free parameter has an elementwise constraint."""
    for i, (name, c) in enumerate(zip(spec.names, spec.constraints)):
        if not spec.is_fixed(i) and not c.elementwise:
            raise ValueError(
                f"{what} needs elementwise constraints (real, positive, interval, "
                f"...); '{name}' is {c.name}, whose Jacobian is not implemented. "
                "Reparametrize it with unconstrained or elementwise parameters."
            )


def _leaf_constraints(spec: ParamSpec, constraints) -> set:
    """Leaf names whose constraint the user chose (not real, or in constraints=)."""
    chosen = {n for n, c in zip(spec.names, spec.constraints) if c is not C.real}
    for key in constraints or {}:
        chosen.update(
            n for n in spec.names
            if n == key or n.startswith((key + ".", key + "["))
        )  # fmt: skip
    return chosen


def fit_map(
    loglik: Callable | Model,
    params: Any = None,
    data: Any = None,
    *,
    priors: Mapping[str, Prior] | None = None,
    constraints: Mapping[str, C.Constraint] | None = None,
    method: Any = "newton",
    max_steps: int | None = None,
    warn: bool = True,
    **fit_kwargs: Any,
):
    r"""Maximum a posteriori estimate: :func:`likelihax.fit` of loglik + log prior.

    Parameters
    ----------
    loglik : callable or Model
        ``loglik(params, data)``, as for :func:`likelihax.fit` (a
        :class:`likelihax.Model` too; then the second argument is ``data``).
    params : pytree
        Starting values on the natural scale.
    data : pytree or DataFrame
        The data, as for :func:`likelihax.fit`.
    priors : dict
        Parameter name (top-level key or full label, as for ``constraints``)
        -> prior from :mod:`likelihax.priors`. A vector parameter gets
        independent priors, with scalar or array hyperparameters. Parameters
        without a prior get the improper ``Flat()`` prior (listed in the
        summary).
    constraints : dict, optional
        As for :func:`likelihax.fit`. A parameter with a bounded prior and no
        constraint is constrained to the prior's support (``HalfNormal`` ->
        positive, ``Beta`` -> unit interval, ``Uniform(a, b)`` -> interval).
    method, max_steps, warn, **fit_kwargs
        Passed to :func:`likelihax.fit` (``dtype``, ``tol``, ``starts``, ...).
        Weights and covariance kinds other than ``"oim"`` are not available:
        the objective is a posterior, not a sum over observations.

    Returns
    -------
    FitResult
        ``params`` is the posterior mode, ``se``/``cov`` the inverse negative
        Hessian of the log posterior (natural scale, delta method), ``loglik``
        the log posterior :math:`\ell(\theta) + \log\pi(\theta)` at the mode.
        The summary is labelled MAP and shows the log-likelihood and log
        prior separately (no AIC/BIC: they are not defined for a MAP).

    Raises
    ------
    ValueError
        A prior for a name that is not a parameter; hyperparameters that do
        not broadcast to the parameter's shape; a constraint outside the
        prior's support.
    TypeError
        A prior that is not a :mod:`likelihax.priors` object.

    Notes
    -----
    The mode is that of the density of :math:`\theta` (no Jacobian of the
    unconstrained map), so a ``Flat`` prior gives exactly the MLE and a
    conjugate model gives its posterior mode in closed form; e.g. a
    Beta(:math:`a`, :math:`b`) prior on a binomial proportion with :math:`s`
    successes in :math:`n` trials gives :math:`(a + s - 1)/(a + b + n - 2)`.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp, likelihax as lx
    >>> def bernoulli(params, data):
    ...     p = params["p"]
    ...     return data["y"] * jnp.log(p) + (1 - data["y"]) * jnp.log1p(-p)
    >>> y = np.array([1, 0, 1, 1, 0, 1, 1, 1])          # s = 6, n = 8
    >>> m = lx.fit_map(bernoulli, {"p": 0.5}, {"y": y},
    ...                priors={"p": lx.priors.Beta(2, 2)})
    >>> round(float(m.params["p"]), 6)                    # (2 + 6 - 1) / (2 + 2 + 8 - 2)
    0.7
    >>> m.summary().title
    'likelihax MAP fit (posterior mode)'
    """
    from ..engine import fit

    for bad in ("weights", "cov", "likelihood", "nobs"):
        if bad in fit_kwargs:
            raise TypeError(
                f"fit_map does not take {bad}=: the objective is a log posterior "
                "(one total, curvature-based covariance)."
            )
    if is_model_call(loglik, params, data, constraints, caller="fit_map"):
        model, data = loglik, params
        fn = model.loglik
        params = jax.tree_util.tree_unflatten(
            model.spec.treedef,
            [Param(x, c) for x, c in zip(model.init_leaves, model.spec.constraints)],
        )
        constraints = {}
    else:
        fn = loglik
    spec0, _ = build_spec(params, constraints)
    chosen = _leaf_constraints(spec0, constraints)
    per_leaf, implied = resolve_priors(spec0, priors, chosen)
    all_constraints = {**dict(constraints or {}), **implied}
    objective = LogPosterior(fn, per_leaf, spec0.names)
    with x64_scope():
        nobs = _nobs(fn, params, data)
    result = fit(
        objective, params, data, constraints=all_constraints, method=method,
        max_steps=max_steps, warn=warn, nobs=nobs, **fit_kwargs,
    )  # fmt: skip
    return _label_map(result, objective, data)


def _nobs(fn, params, data):
    """Number of observations (length of the per-observation terms), or None."""
    from ..data import prepare_data

    try:
        leaves = jax.tree_util.tree_leaves(
            params, is_leaf=lambda x: isinstance(x, Param)
        )
        treedef = jax.tree_util.tree_structure(
            params, is_leaf=lambda x: isinstance(x, Param)
        )
        p = jax.tree_util.tree_unflatten(
            treedef,
            [
                jax.ShapeDtypeStruct(np.shape(x.init if isinstance(x, Param) else x),
                                     jnp.float64)
                for x in leaves
            ],
        )  # fmt: skip
        out = jax.eval_shape(fn, p, prepare_data(data, np.float64))
    except (TypeError, ValueError, KeyError, IndexError):  # lx.fit reports these
        return None
    return int(out.shape[0]) if len(out.shape) == 1 else None


def _label_map(result, objective: LogPosterior, data):
    """The engine's result, labelled MAP, with log-likelihood and log prior."""
    if not result.on_host:
        return result.replace(estimator="MAP", model_info=ModelInfo(kind="map"))
    with x64_scope():
        p = jax.tree_util.tree_map(jnp.asarray, result.params)
        from ..data import prepare_data

        ll = float(objective.log_likelihood(p, prepare_data(data, np.float64)))
        lp = float(objective.log_prior(p))
    flat = [
        n for i, (n, pr) in enumerate(zip(objective.names, objective.priors))
        if isinstance(pr, Flat) and not result.spec.is_fixed(i)
    ]  # fmt: skip
    prior_text = "; ".join(
        f"{n} ~ {pr!r}" for n, pr in zip(objective.names, objective.priors)
    )
    notes = [f"Priors: {prior_text}."]
    if flat:
        notes.append(
            f"No prior given for {', '.join(flat)}: flat (improper) prior, for which "
            "the MAP equals the MLE."
        )
    notes.append(
        "MAP: posterior mode of the natural-scale parameters. Std.err, z, p and "
        "intervals come from the inverse negative Hessian of the log posterior "
        "(normal approximation at the mode); for posterior intervals use "
        "lx.laplace_posterior or lx.nuts."
    )
    out = result.replace(estimator="MAP", model_info=ModelInfo(kind="map")).annotate(
        f"MAP: {objective.__name__}",
        [("Log-likelihood", f"{ll:.8g}"), ("Log-prior", f"{lp:.8g}")],
        notes,
    )
    return out
