"""A reusable model: a log-likelihood plus its parameter specification."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ..parameters import build_spec
from ..parameters import constraints as C

__all__ = ["Model"]


class Model:
    """A log-likelihood with named, constrained parameters, ready to fit many times.

    Parameters
    ----------
    loglik : callable
        ``loglik(params, data)`` returning one log-likelihood value per
        observation (shape ``(n,)``, preferred) or the scalar total. Per-observation
        values enable OPG and sandwich covariances; a scalar gives
        curvature-based inference only.
    params : pytree
        Starting values (natural scale); leaves may be :class:`~likelihax.Param`.
    constraints : dict, optional
        Parameter name -> constraint (see :mod:`likelihax.constraints`).
    name : str, optional
        Shown in summaries; default the function's name.
    fisher : callable, optional
        Expected information through linear predictors:
        ``fisher(params, data) -> (eta, c)`` with ``eta`` of shape ``(n,)`` or
        ``(n, m)`` and ``c``, the information of each term with respect to its
        ``eta``, of shape ``(n,)`` or ``(n, m, m)``. Enables
        ``method="fisher"`` (Fisher scoring) and ``cov="eim"``; see
        :mod:`likelihax.objective._problem`.
    likelihood : bool
        False when ``loglik`` is an M-estimation objective rather than a
        log-likelihood (e.g. minus a focal loss): sandwich covariance by
        default, no AIC/BIC.

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> def normal(params, data):
    ...     return st.norm.logpdf(data["y"], params["mu"], params["sigma"])
    >>> model = lx.Model(normal, {"mu": 0.0,
    ...                           "sigma": lx.Param(1.0, lx.constraints.positive)})
    >>> fit = model.fit({"y": np.array([1.0, 2.0, 4.0])})
    >>> round(float(fit.params["mu"]), 6)
    2.333333
    """

    def __init__(
        self,
        loglik: Callable[[Any, Any], Any],
        params: Any,
        constraints: Mapping[str, C.Constraint] | None = None,
        name: str | None = None,
        fisher: Callable[[Any, Any], Any] | None = None,
        likelihood: bool = True,
    ):
        if not callable(loglik):
            raise TypeError(
                f"loglik must be a function loglik(params, data); got {type(loglik)}."
            )
        self.loglik = loglik
        self.spec, self.init_leaves = build_spec(params, constraints)
        self.name = name or getattr(loglik, "__name__", "model")
        if fisher is not None and not callable(fisher):
            raise TypeError(
                f"fisher must be a function fisher(params, data); got {type(fisher)}."
            )
        self.fisher = fisher
        self.likelihood = bool(likelihood)

    @property
    def init(self):
        """Starting values as a pytree (natural scale)."""
        import jax

        return jax.tree_util.tree_unflatten(self.spec.treedef, self.init_leaves)

    def fit(self, data: Any, **kwargs):
        """Fit to ``data``; keywords as in :func:`likelihax.fit`."""
        from ._fit import fit

        return fit(self, data, **kwargs)

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{n}: {c.name}" if c is not C.real else n
            for n, c in zip(self.spec.names, self.spec.constraints)
        )
        return f"Model({self.name}; {parts})"
