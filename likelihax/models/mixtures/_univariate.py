r"""Univariate finite mixtures: Poisson, normal and exponential components.

.. math::

    p(y_i) = \sum_{k=1}^K \pi_k f(y_i; \theta_k)

with closed-form weighted M-steps (:math:`N_k = \sum_i r_{ik}`):

==============  ===========================  ==========================================
family          parameters                   M-step
==============  ===========================  ==========================================
``poisson``     ``rate`` (K,) positive       :math:`\lambda_k = \sum_i r_{ik} y_i / N_k`
``exponential`` ``rate`` (K,) positive       :math:`\lambda_k = N_k / \sum_i r_{ik} y_i`
``normal``      ``mean`` (K,), ``sd`` (K,)   weighted mean and (ML) standard deviation
==============  ===========================  ==========================================

and ``weights`` (``simplex``). **Label switching**: components are sorted by
rate (Poisson, exponential) or by mean (normal), increasing. Standard errors
come from the engine's observed information of the marginal likelihood (see
:mod:`likelihax.models.mixtures._em`).
"""

from __future__ import annotations

from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from ...parameters import Param
from ...parameters import constraints as C
from ...results import ModelInfo
from ._finite import (
    check_k,
    empty_components,
    fit_mixture,
    prepare_weights,
    seeded_starts,
    stack_inits,
    weights_param,
)
from ._options import MixtureOptions, mixture_options

__all__ = ["poisson_mixture", "univariate_mixture"]

FAMILIES = ("poisson", "normal", "exponential")


def _complete_poisson(p, d):
    y = d["y"][:, None]
    lam = p["rate"][None]
    return (
        jnp.log(p["weights"])
        + y * jnp.log(lam)
        - lam
        - jax.scipy.special.gammaln(y + 1.0)
    )


def _complete_exponential(p, d):
    lam = p["rate"][None]
    return jnp.log(p["weights"]) + jnp.log(lam) - lam * d["y"][:, None]


def _complete_normal(p, d):
    z = (d["y"][:, None] - p["mean"][None]) / p["sd"][None]
    return (
        jnp.log(p["weights"]) - 0.5 * z * z - jnp.log(p["sd"][None])
        - 0.5 * jnp.log(2.0 * jnp.pi)
    )  # fmt: skip


def _mstep_poisson(r, d, p):
    nk = jnp.sum(r, axis=0)
    return {"weights": nk / jnp.sum(nk), "rate": (r.T @ d["y"]) / nk}


def _mstep_exponential(r, d, p):
    nk = jnp.sum(r, axis=0)
    return {"weights": nk / jnp.sum(nk), "rate": nk / (r.T @ d["y"])}


def _mstep_normal(r, d, p):
    nk = jnp.sum(r, axis=0)
    mean = (r.T @ d["y"]) / nk
    var = jnp.sum(r * (d["y"][:, None] - mean[None]) ** 2, axis=0) / nk
    return {"weights": nk / jnp.sum(nk), "mean": mean, "sd": jnp.sqrt(var)}


_COMPLETE = {"poisson": _complete_poisson, "exponential": _complete_exponential,
             "normal": _complete_normal}  # fmt: skip
_MSTEP = {"poisson": _mstep_poisson, "exponential": _mstep_exponential,
          "normal": _mstep_normal}  # fmt: skip


def _check_y(y, family):
    try:
        ya = np.array(y, dtype=np.float64)  # a copy
    except (TypeError, ValueError) as e:
        raise TypeError(f"y must be a numeric vector: {e}") from None
    if ya.ndim != 1 or ya.size == 0:
        raise ValueError(f"y must be a non-empty vector; got shape {ya.shape}.")
    bad = np.flatnonzero(~np.isfinite(ya))
    if bad.size:
        raise ValueError(
            f"y has {bad.size} NaN or infinite value(s) (first rows "
            f"{bad[:5].tolist()}); remove them."
        )
    if family == "poisson" and np.any((ya < 0) | (ya != np.round(ya))):
        rows = np.flatnonzero((ya < 0) | (ya != np.round(ya)))
        raise ValueError(
            f"A Poisson mixture needs non-negative integer counts; rows "
            f"{rows[:5].tolist()} are not."
        )
    if family == "exponential" and np.any(ya < 0):
        rows = np.flatnonzero(ya < 0)
        raise ValueError(
            f"An exponential mixture needs y >= 0; rows {rows[:5].tolist()} are negative."
        )
    return ya


def _canonical(family):
    key = "mean" if family == "normal" else "rate"

    def sort(p):
        o = np.argsort(np.asarray(p[key]), kind="stable")
        return {name: np.asarray(v)[o] for name, v in p.items()}

    return sort


def _diagnose(family, scale):
    def check(p):
        empty, out = empty_components(p)
        if family == "normal":
            sd = np.asarray(p["sd"], dtype=float)
            for j in np.flatnonzero(~(sd * sd > 1e-10 * scale)):
                if j not in empty:
                    out.append(
                        f"the variance of component {j} collapsed (sd {sd[j]:.3g}; "
                        f"parameter 'sd[{j}]'), where the likelihood is unbounded"
                    )
        else:
            rate = np.asarray(p["rate"], dtype=float)
            for j in np.flatnonzero(~(np.isfinite(rate) & (rate > 0))):
                if j not in empty:
                    out.append(
                        f"the rate of component {j} reached the boundary "
                        f"({rate[j]:.3g}; parameter 'rate[{j}]')"
                    )
        return out

    return check


@mixture_options
def univariate_mixture(
    y: Any,
    k: int,
    family: Literal["poisson", "normal", "exponential"] = "normal",
    *,
    weights: Any = None,
    init: Literal["kmeans++", "random"] | dict | list = "kmeans++",
    options: MixtureOptions,
):
    r"""Finite mixture of Poisson, normal or exponential distributions by EM.

    Parameters
    ----------
    y : array (n,)
        Observations (counts for ``"poisson"``, :math:`y \ge 0` for
        ``"exponential"``).
    k : int
        Number of components (at most the number of distinct values).
    family : {"poisson", "normal", "exponential"}
    weights : array (n,), optional
        Frequency weights.
    init, starts, key, accelerate, method, max_steps, tol, cov, se, warn
        As in :func:`gaussian_mixture`; an explicit ``init`` has the keys
        ``weights`` and ``rate`` (or ``mean`` and ``sd``).

    Returns
    -------
    FitResult
        Components sorted by rate (or mean); ``fit.em`` has the EM record.

    Raises
    ------
    ValueError
        Bad values, ``k`` above the number of distinct values, or every start
        degenerating (the message names the component and parameter).

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.mixtures import univariate_mixture
    >>> rng = np.random.default_rng(1)
    >>> y = np.concatenate([rng.normal(0, 1, 300), rng.normal(6, 1, 200)])
    >>> fit = univariate_mixture(y, 2, "normal", starts=3)
    >>> np.round(fit.params["mean"], 1).tolist()
    [-0.1, 6.1]
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}; got {family!r}.")
    ya = _check_y(y, family)
    n = ya.size
    check_k(k, ya, "values")
    w = prepare_weights(weights, n)
    mstep = _MSTEP[family]
    if isinstance(init, (dict, list)):
        names = ("mean", "sd") if family == "normal" else ("rate",)
        start = stack_inits(
            init, {"weights": (k,), **{m: (k,) for m in names}}, f"family={family!r}"
        )
    else:
        start = seeded_starts(options.key, ya, w, k, options.starts, init, mstep,
                              {"y": ya})  # fmt: skip
    first = {name: np.asarray(v[0]) for name, v in start.items()}
    template = {"weights": weights_param(first["weights"])}
    if family == "normal":
        template["mean"] = Param(first["mean"])
        template["sd"] = Param(first["sd"], C.positive)
    else:
        template["rate"] = Param(first["rate"], C.positive)
    scale = float(np.var(ya)) or 1.0
    return fit_mixture(
        complete=_COMPLETE[family], mstep=mstep, template=template,
        start_params=start, data={"y": ya}, weights=w,
        diagnose=_diagnose(family, scale), canonical=_canonical(family),
        name=f"{family.capitalize()} mixture (K={k})",
        header=[("Components", f"{k} ({family})")], options=options,
        model_info=ModelInfo(kind="mixture", family=family, n_components=k),
    )  # fmt: skip


def poisson_mixture(y: Any, k: int, **kwargs):
    """Poisson mixture: :func:`univariate_mixture` with ``family="poisson"``.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.mixtures import poisson_mixture
    >>> y = np.array([0, 1, 0, 2, 1, 0, 9, 11, 8, 10, 12, 1])
    >>> fit = poisson_mixture(y, 2, starts=3)
    >>> np.round(fit.params["rate"], 3).tolist()
    [0.712, 9.973]
    """
    return univariate_mixture(y, k, "poisson", **kwargs)
