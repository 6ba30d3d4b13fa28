r"""Mixture of linear regressions (normal errors), by EM.

.. math::

    p(y_i \mid x_i) = \sum_{k=1}^K \pi_k\,
    \mathcal N\!\left(y_i;\ x_i^\top\beta_k,\ \sigma_k^2\right)

(DeSarbo & Cron, 1988; R ``flexmix`` with ``FLXMRglm(family="gaussian")``).
The M-step is weighted least squares per component,
:math:`\beta_k = (X^\top R_k X)^{-1} X^\top R_k y`,
:math:`\sigma_k^2 = \sum_i r_{ik}(y_i - x_i^\top\beta_k)^2 / N_k`, with
:math:`R_k = \operatorname{diag}(r_{\cdot k})` including sample weights.
Parameters: ``weights`` (``simplex``), ``coef`` (K, p) and ``sd`` (K,)
``positive``. **Label switching**: components sorted by their first
coefficient (the intercept when ``intercept=True``), increasing.

References
----------
DeSarbo, W. S. & Cron, W. L. (1988). A maximum likelihood methodology for
clusterwise linear regression. *Journal of Classification* 5, 249-282.
"""

from __future__ import annotations

from typing import Any, Literal

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

__all__ = ["mixture_regression"]


def _complete(p, d):
    mu = d["X"] @ p["coef"].T  # (n, K)
    z = (d["y"][:, None] - mu) / p["sd"][None]
    return (
        jnp.log(p["weights"]) - 0.5 * z * z - jnp.log(p["sd"][None])
        - 0.5 * jnp.log(2.0 * jnp.pi)
    )  # fmt: skip


def _mstep(r, d, p):
    X, y = d["X"], d["y"]
    nk = jnp.sum(r, axis=0)
    xtx = jnp.einsum("nk,ni,nj->kij", r, X, X)
    xty = jnp.einsum("nk,ni,n->ki", r, X, y)
    coef = jnp.linalg.solve(xtx, xty[..., None])[..., 0]
    res = y[:, None] - X @ coef.T
    sd = jnp.sqrt(jnp.sum(r * res * res, axis=0) / nk)
    return {"weights": nk / jnp.sum(nk), "coef": coef, "sd": sd}


def _canonical(p):
    o = np.argsort(np.asarray(p["coef"])[:, 0], kind="stable")
    return {name: np.asarray(v)[o] for name, v in p.items()}


def _diagnose(scale):
    def check(p):
        empty, out = empty_components(p)
        coef, sd = np.asarray(p["coef"]), np.asarray(p["sd"], dtype=float)
        for j in range(len(sd)):
            if j in empty:
                continue
            if not np.all(np.isfinite(coef[j])):
                out.append(
                    f"the coefficients of component {j} are not determined (its "
                    f"weighted design is singular; parameter 'coef[{j}]')"
                )
            elif not sd[j] ** 2 > 1e-10 * scale:
                out.append(
                    f"the residual variance of component {j} collapsed (sd "
                    f"{sd[j]:.3g}; parameter 'sd[{j}]'): it fits its points "
                    "exactly, where the likelihood is unbounded"
                )
        return out

    return check


@mixture_options
def mixture_regression(
    y: Any,
    X: Any,
    k: int,
    *,
    intercept: bool = True,
    weights: Any = None,
    init: Literal["random", "kmeans++"] | dict | list = "random",
    options: MixtureOptions,
):
    r"""Mixture of ``k`` linear regressions with normal errors, by EM.

    Parameters
    ----------
    y : array (n,)
    X : array (n, p) or (n,)
        Covariates; a column of ones is prepended when ``intercept``.
    k : int
        Number of components.
    intercept : bool
        Add an intercept column (``coef[:, 0]``).
    weights : array (n,), optional
        Frequency weights.
    init : {"random", "kmeans++"}, dict or list of dicts
        Random responsibilities (default), k-means++ on ``(X, y)``, or
        explicit starts with keys ``weights``, ``coef``, ``sd``.
    starts, key, accelerate, method, max_steps, tol, cov, se, warn
        As in :func:`gaussian_mixture`.

    Returns
    -------
    FitResult
        Components sorted by ``coef[:, 0]``; ``fit.em`` has the EM record.
        ``fit.model_info.flags`` holds ``"intercept"`` when one was added;
        :func:`likelihax.predict` gives the marginal and component means of new
        rows, and with their ``y`` the posterior and the density.

    Raises
    ------
    ValueError
        Bad shapes or values, or every start degenerating (named component).

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.mixtures import mixture_regression
    >>> rng = np.random.default_rng(2)
    >>> x = rng.uniform(0, 10, 400)
    >>> z = rng.random(400) < 0.5
    >>> y = np.where(z, 1 + 2 * x, 8 - x) + rng.normal(0, 0.5, 400)
    >>> fit = mixture_regression(y, x, 2, starts=5)
    >>> np.round(fit.params["coef"], 1).tolist()
    [[1.0, 2.0], [7.9, -1.0]]
    """
    ya, Xa = _check(y, X, intercept)
    n, p = Xa.shape
    check_k(k, np.column_stack([Xa, ya]), "rows of (X, y)")
    w = prepare_weights(weights, n)
    data = {"X": Xa, "y": ya}
    if isinstance(init, (dict, list)):
        start = stack_inits(init, {"weights": (k,), "coef": (k, p), "sd": (k,)},
                            "mixture_regression")  # fmt: skip
    else:
        feats = np.column_stack([Xa[:, int(intercept) :], ya])
        feats = (feats - feats.mean(0)) / np.where(feats.std(0) > 0, feats.std(0), 1)
        start = seeded_starts(options.key, feats, w, k, options.starts, init,
                              _mstep, data)  # fmt: skip
    first = {name: np.asarray(v[0]) for name, v in start.items()}
    template = {"weights": weights_param(first["weights"]),
                "coef": Param(first["coef"]), "sd": Param(first["sd"], C.positive)}  # fmt: skip
    return fit_mixture(
        complete=_complete, mstep=_mstep, template=template, start_params=start,
        data=data, weights=w, diagnose=_diagnose(float(np.var(ya)) or 1.0),
        canonical=_canonical, name=f"Mixture of linear regressions (K={k})",
        header=[("Components", f"{k} (normal errors, p={p})")], options=options,
        model_info=ModelInfo(kind="mixture", family="normal_regression", n_components=k,
                             flags=("intercept",) if intercept else ()),
    )  # fmt: skip


def _check(y, X, intercept):
    try:
        ya = np.array(y, dtype=np.float64)
        Xa = np.array(X, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"y and X must be numeric: {e}") from None
    Xa = Xa[:, None] if Xa.ndim == 1 else Xa
    if ya.ndim != 1 or Xa.ndim != 2 or Xa.shape[0] != ya.shape[0] or ya.size == 0:
        raise ValueError(
            f"y must be a vector with one value per row of X; got y {ya.shape}, "
            f"X {Xa.shape}."
        )
    bad = np.flatnonzero(~(np.isfinite(ya) & np.all(np.isfinite(Xa), axis=1)))
    if bad.size:
        raise ValueError(
            f"{bad.size} row(s) of (y, X) have NaN or infinite values (first rows "
            f"{bad[:5].tolist()}); remove them."
        )
    if intercept:
        Xa = np.column_stack([np.ones(len(ya)), Xa])
    return ya, Xa
