"""Covariance of another kind for an existing fit (pure function of the result)."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from .._precision import x64_scope
from .._status import Status
from ..data._dataset import prepare_data
from ..optimize._problem import Problem
from ._covariance import COV_KINDS, DESCRIPTIONS, analyze_information, covariances

__all__ = ["vcov"]


@dataclasses.dataclass(frozen=True)
class _VStatic:
    loglik: Callable
    spec: Any
    kind: str
    nobs: int


def _vcov_core(static: _VStatic, u, H, fixed_leaves, data):
    problem = Problem(static.loglik, static.spec, fixed_leaves, data, static.nobs)
    _, _, _, Hinv = analyze_information(H, jnp.zeros_like(u), 0.0)
    return covariances(problem, static.kind, u, Hinv)[1]


_vcov_jit = jax.jit(_vcov_core, static_argnums=0)


def vcov(fit, kind: str, data: Any = None):
    """Covariance of kind ``"oim"``, ``"opg"`` or ``"sandwich"`` at a fit's estimate.

    Parameters
    ----------
    fit : FitResult
    kind : str
        See :mod:`likelihax.inference._covariance` for the formulas.
    data : pytree, optional
        The data of the fit. Default: the data object passed to ``fit``, which
        the result holds by reference (like statsmodels) rather than as a copy,
        so a result does not keep a converted copy of large data alive.

    Returns
    -------
    Covariance
        Labelled natural-scale covariance.

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> y = np.array([0.1, 1.5, 0.7, 2.2, 1.1, 0.4])
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], p["s"]),
    ...            {"mu": 0.0, "s": 1.0}, {"y": y},
    ...            constraints={"s": lx.constraints.positive})
    >>> bool(np.isclose(f.vcov("sandwich")["mu", "mu"], f.cov["mu", "mu"]))
    True
    """
    from ..results._result import Covariance

    if kind not in COV_KINDS:
        raise ValueError(f"kind must be one of {COV_KINDS}; got {kind!r}.")
    if kind != "oim" and not fit._per_obs:
        raise ValueError(
            f"cov kind {kind!r} needs one log-likelihood value per observation; this "
            "model's log-likelihood returns a scalar."
        )
    with x64_scope():
        if data is None:
            data = fit._data
            if data is None and kind != "oim":
                raise ValueError(
                    "This result carries no data (it came out of a transform); pass data=."
                )
        if data is not None:
            data = prepare_data(data, np.dtype(fit.dtype))
        fixed = [jnp.asarray(x) for x in jax.tree_util.tree_leaves(fit.params)]
        static = _VStatic(fit._loglik_fn, fit._spec, kind, int(fit.nobs or 1))
        H = jnp.asarray(fit.information)
        if int(fit._status) in (
            Status.information_singular,
            Status.information_indefinite,
        ):
            H = jnp.full_like(H, jnp.nan)
        cov = np.asarray(
            _vcov_jit(static, jnp.asarray(fit.params_unconstrained), H, fixed, data)
        )
    idx = np.asarray(fit._spec.reported)
    return Covariance(cov[np.ix_(idx, idx)], fit.labels, kind, DESCRIPTIONS[kind])
