"""Predictions of model results with delta-method standard errors.

:func:`delta_predict` evaluates a prediction written as a JAX function of the
whole parameter pytree at the estimates and, on request, its delta-method
SEs with the fit's covariance (the Jacobian by automatic differentiation).
The model results of :mod:`likelihax.models.counts` and
:mod:`likelihax.models.survival` share it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..core import x64_scope
from ..results import FitResult

__all__ = ["delta_predict"]


def delta_predict(f, fit: FitResult, se: bool):
    r"""``f(params)`` at ``fit``'s estimates, with delta-method SEs when ``se``.

    Parameters
    ----------
    f : callable
        JAX function of the parameter pytree returning an array.
    fit : FitResult
    se : bool

    Returns
    -------
    ndarray, or (ndarray, ndarray) with ``se``: the values and
    :math:`\sqrt{\operatorname{diag}(J V J^\top)}`, :math:`J` the Jacobian
    in the flat natural parameters and :math:`V` ``fit.cov_flat``.

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> from likelihax.models._predict import delta_predict
    >>> y = np.array([0.5, 1.5, 1.0, 2.0])
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0), {"mu": 0.0}, {"y": y})
    >>> val, se = delta_predict(lambda p: 2.0 * p["mu"], f, True)
    >>> round(float(val), 6), round(float(se), 6)   # 2 * mean, 2 / sqrt(n)
    (2.5, 1.0)

    Each parameter gets its own variance, whatever the order of the names:

    >>> g = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["z"], 1.0)
    ...            + st.norm.logpdf(d["y"], p["a"], 2.0), {"z": 0.0, "a": 0.0}, {"y": y})
    >>> [round(float(s), 6) for s in delta_predict(lambda p: p["a"], g, True)]
    [1.25, 1.0]
    """
    with x64_scope():
        # The flat parameters in the order of ``fit.cov_flat`` (the spec's).
        flat = jnp.asarray(np.asarray(fit.params_flat, dtype=np.float64))
        unravel = fit.spec.unflatten_natural
        val = np.asarray(f(unravel(flat)))
        if not se:
            return val
        J = np.asarray(jax.jacfwd(lambda v: f(unravel(v)))(flat))
    V = np.asarray(fit.full_cov("Standard errors of predictions"), dtype=np.float64)
    J = J.reshape(-1, flat.size)
    sd = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", J, V, J), 0.0))
    return val, sd.reshape(val.shape)
