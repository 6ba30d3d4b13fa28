"""Sensitivity to starting values: many starts fitted together, optima compared.

A likelihood with several local maxima (mixtures, latent classes, some
nonlinear models) can give different estimates from different starting values.
:func:`start_sensitivity` draws random starts around the given ones on the
unconstrained scale, fits them all in one ``vmap``ped call (the engine's
``starts=``), and reports how many reach the best optimum and which distinct
optima were found, with their log-likelihoods and estimates.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

__all__ = ["start_sensitivity", "StartSensitivity"]


@dataclasses.dataclass(frozen=True)
class StartSensitivity:
    """Outcome of a multi-start check.

    Attributes
    ----------
    n_starts, n_converged, n_at_best : int
        Starts, starts whose fit converged, and converged starts that reached
        the best log-likelihood (within ``tol``).
    optima : list of dict
        Distinct optima, best first: ``loglik``, ``count`` (starts reaching
        it) and ``params`` (label -> estimate of the first start there).
    fit : FitResult
        The best fit (with ``fit.multistart`` holding every start).
    """

    n_starts: int
    n_converged: int
    n_at_best: int
    optima: list
    fit: Any

    @property
    def share_at_best(self) -> float:
        """Share of all starts that reached the best optimum."""
        return self.n_at_best / self.n_starts

    def __repr__(self) -> str:
        lines = [
            f"Starting-value sensitivity: {self.n_at_best} of {self.n_starts} starts "
            f"reached the best optimum ({self.share_at_best:.0%}); "
            f"{self.n_converged} converged; {len(self.optima)} distinct optima",
        ]
        for k, o in enumerate(self.optima[:5]):
            pars = ", ".join(f"{a}={v:.4g}" for a, v in list(o["params"].items())[:6])
            lines.append(
                f"  optimum {k + 1}: loglik {o['loglik']:.8g}, {o['count']} starts; {pars}"
            )
        return "\n".join(lines)


def start_sensitivity(
    loglik: Any,
    params: Any = None,
    data: Any = None,
    *,
    n_starts: int = 50,
    scale: float = 1.0,
    seed: int = 0,
    tol: float = 1e-6,
    **fit_kwargs: Any,
) -> StartSensitivity:
    """Fit from many random starts at once and report the optima reached.

    Parameters
    ----------
    loglik, params, data
        As in :func:`likelihax.fit` (or a :class:`~likelihax.Model` and data).
    n_starts : int
        Number of starts (the given start plus ``n_starts - 1`` random ones).
    scale : float
        Standard deviation of the random starts on the unconstrained scale.
    seed : int
        Seed of the random starts.
    tol : float
        Two optima are the same when their log-likelihoods differ by less than
        ``tol * max(1, |best|)``.
    **fit_kwargs
        Passed to :func:`likelihax.fit`.

    Returns
    -------
    StartSensitivity

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp, jax.scipy.stats as st, likelihax as lx
    >>> y = np.r_[np.random.default_rng(0).normal(-2, 0.5, 60),
    ...           np.random.default_rng(1).normal(2, 0.5, 40)]
    >>> def mix(p, d):  # two-component normal mixture, equal known sd
    ...     a = jnp.log(p["w"]) + st.norm.logpdf(d["y"], p["m1"], 0.5)
    ...     b = jnp.log1p(-p["w"]) + st.norm.logpdf(d["y"], p["m2"], 0.5)
    ...     return jnp.logaddexp(a, b)
    >>> rep = lx.start_sensitivity(mix, {"w": 0.5, "m1": -1.0, "m2": 1.0}, {"y": y},
    ...                            n_starts=20, scale=2.0,
    ...                            constraints={"w": lx.constraints.unit_interval},
    ...                            warn=False)
    >>> rep.n_starts, rep.optima[0]["count"] >= 1
    (20, True)
    """
    import jax

    from ..engine import fit as _fit

    if int(n_starts) < 2:
        raise ValueError(f"n_starts must be at least 2; got {n_starts}.")
    f = _fit(
        loglik, params, data, starts=int(n_starts), start_scale=scale,
        key=jax.random.key(seed), **fit_kwargs,
    )  # fmt: skip
    ms = f.multistart
    ll = np.asarray(ms.loglik, dtype=float)
    ok = (np.asarray(ms.status) == 0) & np.isfinite(ll)
    P = np.asarray(ms.params_flat, dtype=float)
    idx = np.asarray(f.spec.reported)
    labels = f.labels
    optima: list = []
    if ok.any():
        best = ll[ok].max()
        thr = tol * max(1.0, abs(best))
        for i in np.argsort(-np.where(ok, ll, -np.inf)):
            if not ok[i]:
                break
            for o in optima:
                if abs(ll[i] - o["loglik"]) <= thr:
                    o["count"] += 1
                    break
            else:
                optima.append(
                    dict(
                        loglik=float(ll[i]), count=1,
                        params=dict(zip(labels, P[i][idx].tolist())),
                    )
                )  # fmt: skip
        at_best = optima[0]["count"]
    else:
        at_best = 0
    return StartSensitivity(
        n_starts=int(n_starts), n_converged=int(ok.sum()), n_at_best=int(at_best),
        optima=optima, fit=f,
    )  # fmt: skip
