r"""Latent class analysis: categorical indicators, conditionally independent given class.

.. math::

    P(y_i) = \sum_{k=1}^K \pi_k \prod_{j=1}^J \rho_{k j, y_{ij}}

(Lazarsfeld & Henry, 1968; R ``poLCA``). The M-step is closed form:
:math:`\pi_k = N_k/\sum N`, :math:`\rho_{kjc} = \sum_i r_{ik}\,1(y_{ij}=c)/N_k`.
Parameters: ``weights`` (``simplex``) and ``probs[k][j]``, the category
probabilities of item ``j`` in class ``k`` (each a ``simplex``). **Label
switching**: classes sorted by decreasing weight (largest class first).

A probability estimated at (or very near) 0 lies on the boundary of the
parameter space; the engine then reports a singular information matrix for it
(``InformationWarning``), as poLCA reports such estimates without SEs.

References
----------
Lazarsfeld, P. F. & Henry, N. W. (1968). *Latent Structure Analysis*.
Houghton Mifflin. Linzer, D. A. & Lewis, J. B. (2011). poLCA: An R package for
polytomous variable latent class analysis. *J. Stat. Softw.* 42(10).
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
    weights_param,
)
from ._options import MixtureOptions, mixture_options

__all__ = ["latent_class"]


def _complete(p, d):
    y = d["y"]
    out = jnp.log(p["weights"])[None, :]
    for j in range(y.shape[1]):
        P = jnp.stack([p["probs"][k][j] for k in range(len(p["probs"]))])  # (K, C_j)
        out = out + jnp.log(P)[:, y[:, j]].T
    return out


def _mstep(r, d, p):
    nk = jnp.sum(r, axis=0)
    per_item = [(r.T @ oh) / nk[:, None] for oh in d["onehot"]]  # (K, C_j) each
    probs = [[per_item[j][k] for j in range(len(per_item))] for k in range(r.shape[1])]
    return {"weights": nk / jnp.sum(nk), "probs": probs}


def _canonical(p):
    o = np.argsort(-np.asarray(p["weights"]), kind="stable")
    return {"weights": np.asarray(p["weights"])[o],
            "probs": [[np.asarray(a) for a in p["probs"][k]] for k in o]}  # fmt: skip


def _diagnose(p):
    _, out = empty_components(p, "class")
    for k, items in enumerate(p["probs"]):
        for j, a in enumerate(items):
            if not np.all(np.isfinite(np.asarray(a))):
                out.append(
                    f"the probabilities of item {j} in class {k} are not finite "
                    f"(parameter 'probs[{k}][{j}]')"
                )
    return out


@mixture_options
def latent_class(
    y: Any,
    k: int,
    *,
    n_categories: Any = None,
    weights: Any = None,
    init: Literal["random", "kmeans++"] = "random",
    options: MixtureOptions,
):
    r"""Latent class model for categorical indicators, by EM.

    Parameters
    ----------
    y : int array (n, J)
        Category codes ``0, 1, ..., C_j - 1`` of ``J`` items.
    k : int
        Number of latent classes.
    n_categories : int or sequence of int, optional
        ``C_j`` per item (default: largest code + 1); every item needs >= 2.
    weights : array (n,), optional
        Frequency weights (e.g. counts of response patterns).
    init : {"random", "kmeans++"}
        Random responsibilities (default) or k-means++ on the codes.
    starts, key, accelerate, method, max_steps, tol, cov, se, warn
        As in :func:`gaussian_mixture`.

    Returns
    -------
    FitResult
        Classes sorted by decreasing weight; ``fit.params["probs"][k][j]`` are
        the category probabilities of item ``j`` in class ``k``.

    Raises
    ------
    ValueError
        Codes that are not integers in range, items with one category,
        ``k`` above the number of distinct response patterns, or every start
        degenerating.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.mixtures import latent_class
    >>> rng = np.random.default_rng(3)
    >>> z = rng.random(600) < 0.4
    >>> p = np.where(z[:, None], 0.85, 0.15)
    >>> y = (rng.random((600, 4)) < p).astype(int)
    >>> fit = latent_class(y, 2, starts=5)
    >>> round(float(fit.params["weights"][0]), 1)
    0.6
    """
    ya, cats = _check(y, n_categories)
    n, J = ya.shape
    check_k(k, ya, "response patterns")
    w = prepare_weights(weights, n)
    onehot = [np.eye(c)[ya[:, j]] for j, c in enumerate(cats)]
    data = {"y": ya, "onehot": onehot}
    if init not in ("random", "kmeans++"):
        raise ValueError(f"init must be 'random' or 'kmeans++'; got {init!r}.")
    start = seeded_starts(options.key, np.concatenate(onehot, axis=1), w, k,
                          options.starts, init, _mstep, data)  # fmt: skip
    first = jax.tree_util.tree_map(lambda a: np.asarray(a[0]), start)
    template = {
        "weights": weights_param(first["weights"]),
        "probs": [[Param(first["probs"][c][j], C.simplex) for j in range(J)]
                  for c in range(k)],
    }  # fmt: skip
    return fit_mixture(
        complete=_complete, mstep=_mstep, template=template, start_params=start,
        data=data, weights=w, diagnose=_diagnose, canonical=_canonical,
        name=f"Latent class model (K={k})",
        header=[("Classes", f"{k} ({J} items, categories {list(cats)})")],
        options=options,
        model_info=ModelInfo(kind="mixture", family="categorical", n_components=k),
    )  # fmt: skip


def _check(y, n_categories):
    try:
        ya = np.array(y, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"y must be an integer array of category codes: {e}") from None
    if ya.ndim != 2 or ya.shape[0] == 0 or ya.shape[1] == 0:
        raise ValueError(f"y must be an (n, J) array of codes; got shape {ya.shape}.")
    bad = ~np.isfinite(ya) | (ya < 0) | (ya != np.round(np.nan_to_num(ya)))
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise ValueError(
            f"y must hold integer codes 0, 1, ..., C_j - 1; rows {rows[:5].tolist()} "
            "do not (NaN, negative or fractional)."
        )
    ya = ya.astype(np.int64)
    J = ya.shape[1]
    top = ya.max(axis=0) + 1
    if n_categories is None:
        cats = top
    else:
        cats = np.broadcast_to(np.asarray(n_categories, dtype=np.int64), (J,))
        over = np.flatnonzero(top > cats)
        if over.size:
            raise ValueError(
                f"Item(s) {over.tolist()} have codes >= n_categories "
                f"({cats[over].tolist()})."
            )
    few = np.flatnonzero(cats < 2)
    if few.size:
        raise ValueError(
            f"Item(s) {few.tolist()} have fewer than 2 categories; remove them "
            "(a constant item carries no information about the classes)."
        )
    return ya, tuple(int(c) for c in cats)
