r"""CRV3: the leave-one-cluster-out jackknife covariance, by refitting.

.. math:: \hat V = \frac{G-1}{G} \sum_{g=1}^{G}
   (\hat\theta_{(g)} - \hat\theta)(\hat\theta_{(g)} - \hat\theta)^\top,

with :math:`\hat\theta_{(g)}` the estimate without the rows of cluster
:math:`g` (their weights set to zero), refitted from :math:`\hat\theta` by the
fit's own solver, :math:`G` fits in batches under ``vmap``
(:class:`~likelihax.inference._refit.Refitter`). It is computed on the
natural scale of the parameters, as a jackknife of the reported estimates.
For linear regression the refits are exact and it equals MacKinnon, Nielsen
and Webb (2023)'s closed form; for other models it is the jackknife itself,
not a one-step approximation of it.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..core import ConvergenceWarning, Status
from ._refit import Refitter

__all__ = ["crv3"]

_BATCH = 256


def crv3(fit, data, weights, groups):
    """``(cov, description)``: CRV3 over every natural-scale element."""
    from ._vcov import _cluster_codes

    runner = Refitter(fit, data, weights, "compute kind='crv3' for")
    n = runner.static.nobs
    codes, meta, _ = _cluster_codes(groups, n, "crv3", False)
    gid = np.asarray(codes[0])
    G = meta[0][0]
    base = None if runner.w is None else np.asarray(runner.w, dtype=float)
    theta = np.asarray(fit.params_flat, dtype=float)
    dev, bad = [], []
    for a in range(0, G, _BATCH):
        b = min(G, a + _BATCH)
        W = (gid[None, :] != np.arange(a, b)[:, None]).astype(float)
        if base is not None:
            W = W * base[None, :]
        out = runner.reweighted(W)
        est = np.asarray(out["params_flat"], dtype=float)
        ok = (np.asarray(out["status"]) == Status.success.value) & np.all(
            np.isfinite(est), axis=1
        )
        bad.extend((a + np.flatnonzero(~ok)).tolist())
        dev.append(est - theta[None, :])
    D = np.concatenate(dev)
    cov = (G - 1.0) / G * (D.T @ D)
    if bad:
        warnings.warn(
            f"kind='crv3': the refit without cluster(s) {bad[:5]} (code order, of "
            f"{G}) did not end at a finite maximum; the covariance is NaN. A cluster "
            "that alone identifies a parameter (a cluster-level dummy, a category "
            "seen in one cluster only) has no leave-one-out estimate.",
            ConvergenceWarning,
            stacklevel=3,
        )
        cov = np.full_like(cov, np.nan)
    text = f"; {G} clusters, {G} refits, centred at the estimate"
    return cov, text
