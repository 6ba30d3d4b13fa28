"""Fit one model to many data sets in one compiled call (``vmap`` over data)."""

from __future__ import annotations

from typing import Any, Callable

import jax
import numpy as np

from ..core import resolve_dtype, x64_scope
from ..data import prepare_data
from ..results import FitResult
from ._fit import fit

__all__ = ["fit_many"]


def fit_many(loglik: Callable, params: Any, datasets: Any, **kwargs) -> FitResult:
    """Fit the same model to a batch of data sets at once.

    Every leaf of ``datasets`` has a leading batch axis; data set ``b`` is
    ``jax.tree.map(lambda x: x[b], datasets)``. The fits run as one compiled,
    vectorized program (``jax.vmap`` of :func:`fit`), in float64 by default.
    A plain ``jax.vmap(lambda d: lx.fit(...))`` works too when JAX's x64 mode is
    on; this function sets the precision scope for you and checks the data.

    Parameters
    ----------
    loglik, params
        As in :func:`fit`.
    datasets : pytree
        Data sets stacked along a leading axis.
    **kwargs
        Options of :func:`fit` (``starts`` is not supported here).

    Returns
    -------
    FitResult
        Batched result: every array has a leading axis of length B; ``fits[b]``
        is the result of data set ``b``. Statuses are per data set; no warnings
        are emitted, so check ``fits.converged``.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp, likelihax as lx
    >>> def poisson(params, data):
    ...     return data["y"] * params["log_rate"] - jnp.exp(params["log_rate"])
    >>> ys = np.array([[1, 2, 3], [2, 4, 6]])
    >>> fits = lx.fit_many(poisson, {"log_rate": 0.0}, {"y": ys})
    >>> np.round(np.exp(fits.params["log_rate"]), 6).tolist()
    [2.0, 4.0]
    """
    if "starts" in kwargs:
        raise TypeError(
            "fit_many does not take `starts`; fit each data set with fit()."
        )
    kwargs["warn"] = False
    dtype = resolve_dtype(kwargs.get("dtype"))
    with x64_scope():
        data = prepare_data(datasets, dtype)
        sizes = {np.shape(x)[0] for x in jax.tree_util.tree_leaves(data)}
        if len(sizes) != 1:
            raise ValueError(
                "Every leaf of `datasets` needs the same leading (batch) axis; got "
                f"lengths {sorted(sizes)}."
            )
        res = jax.vmap(lambda d: fit(loglik, params, d, **kwargs))(data)
        res = jax.tree_util.tree_map(np.asarray, res)
    return res
