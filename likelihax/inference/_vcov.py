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
    fisher: Callable | None
    weight_type: str
    recompute: bool  # evaluate the information at u instead of using H


def _vcov_core(static: _VStatic, u, H, fixed_leaves, data, weights):
    problem = Problem(
        static.loglik, static.spec, fixed_leaves, data, static.nobs, 0, weights,
        static.fisher,
    )  # fmt: skip
    if static.recompute:
        if static.kind == "eim":
            H = problem.value_grad_fisher(u)[2]
        else:
            H = problem.value_grad_hessian(u)[2]
    _, _, _, Hinv = analyze_information(H, jnp.zeros_like(u), 0.0)
    return covariances(problem, static.kind, u, Hinv, static.weight_type)[1]


_vcov_jit = jax.jit(_vcov_core, static_argnums=0)


def vcov(fit, kind: str, data: Any = None, weights: Any = None):
    """Covariance of kind ``"oim"``, ``"eim"``, ``"opg"`` or ``"sandwich"`` at a fit's estimate.

    Parameters
    ----------
    fit : FitResult
    kind : str
        See :mod:`likelihax.inference._covariance` for the formulas. ``"eim"``
        needs a model with expected information (``Model(..., fisher=...)``).
    data : pytree, optional
        The data of the fit. Default: the data object passed to ``fit``, which
        the result holds by reference (like statsmodels) rather than as a copy,
        so a result does not keep a converted copy of large data alive.
    weights : array, optional
        The weights of the fit (default: those passed to ``fit``).

    Returns
    -------
    Covariance
        Labelled natural-scale covariance. A dispersion factor set with
        :meth:`FitResult.scale_cov` multiplies ``"oim"`` and ``"eim"``.

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
    from .._fit import _prepare_weights
    from ..results._result import Covariance

    if kind not in COV_KINDS:
        raise ValueError(f"kind must be one of {COV_KINDS}; got {kind!r}.")
    if kind != "oim" and not fit._per_obs and kind != "eim":
        raise ValueError(
            f"cov kind {kind!r} needs one log-likelihood value per observation; this "
            "model's log-likelihood returns a scalar."
        )
    if kind == "eim" and fit._fisher_fn is None:
        raise ValueError(
            "kind='eim' needs the model's expected information: build it with "
            "lx.Model(loglik, params, fisher=fn) (see likelihax.Model)."
        )
    stored = "eim" if fit._cov_kind == "eim" else "oim"
    recompute = kind in ("oim", "eim") and kind != stored
    recompute |= kind in ("opg", "sandwich") and stored == "eim"
    with x64_scope():
        if data is None:
            data = fit._data
            if data is None and (kind != "oim" or recompute):
                raise ValueError(
                    "This result carries no data (it came out of a transform); pass data=."
                )
        if weights is None:
            weights = fit._weights
        w = None
        if data is not None:
            data = prepare_data(data, np.dtype(fit.dtype))
            if weights is not None:
                n_rows = jax.eval_shape(fit._loglik_fn, fit.params, data).shape[0]
                w = _prepare_weights(weights, n_rows, True, np.dtype(fit.dtype))
        fixed = [jnp.asarray(x) for x in jax.tree_util.tree_leaves(fit.params)]
        static = _VStatic(
            fit._loglik_fn, fit._spec, kind, int(fit.nobs or 1), fit._fisher_fn,
            fit.weight_type or "frequency", bool(recompute),
        )  # fmt: skip
        H = jnp.asarray(fit.information)
        if int(fit._status) in (
            Status.information_singular,
            Status.information_indefinite,
        ):
            H = jnp.full_like(H, jnp.nan)
        cov = np.asarray(
            _vcov_jit(static, jnp.asarray(fit.params_unconstrained), H, fixed, data, w)
        )
    desc = DESCRIPTIONS[kind]
    if kind in ("oim", "eim") and fit._cov_scale is not None:
        cov = cov * fit._cov_scale[0]
        desc += f", times {fit._cov_scale[1]}"
    idx = np.asarray(fit._spec.reported)
    return Covariance(cov[np.ix_(idx, idx)], fit.labels, kind, desc)
