r"""Bootstrap: nonparametric, cluster and parametric, with percentile, basic and BCa intervals.

Every replicate is a refit by the engine, warm-started at the estimate, and
the replicates run as one ``vmap``ped, compiled program per batch:

* **nonparametric**: a resample of the rows is a vector of *frequency weights*
  (multinomial counts summing to :math:`n`), so the data keep their shape and
  every replicate is the same program with different weights;
* **cluster**: whole groups are resampled; a row's weight is the number of
  times its group was drawn;
* **parametric**: ``simulate(key, params, data)`` draws a new data set of the
  same shapes from the fitted model; the replicates are ``vmap``ped over the
  simulated data.

Weights the fit already had multiply the resampling counts. Replicates run in
batches whose size bounds the memory (``batch_size``). A replicate whose
solver does not report success is **counted and left out**, never averaged
in; :attr:`Bootstrap.n_failed` says how many.

Intervals (Efron & Tibshirani, 1993, ch. 13-14), with :math:`\hat\theta^*_{(q)}`
the :math:`q` quantile of the replicates:

* percentile: :math:`[\hat\theta^*_{(\alpha/2)}, \hat\theta^*_{(1-\alpha/2)}]`;
* basic: :math:`[2\hat\theta - \hat\theta^*_{(1-\alpha/2)}, 2\hat\theta - \hat\theta^*_{(\alpha/2)}]`;
* BCa: percentile levels :math:`\Phi(z_0 + (z_0 + z_q)/(1 - a(z_0 + z_q)))`
  with bias correction :math:`z_0 = \Phi^{-1}(\#\{\hat\theta^* < \hat\theta\}/B)`
  and acceleration :math:`a` from the jackknife (leave one row, or one cluster,
  out; also refits under ``vmap``).

References
----------
Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*.
Chapman & Hall.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from statistics import NormalDist
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from ..core import ConvergenceWarning, Status, x64_scope
from ..results import as_fit, pandas_for
from ._refit import Refitter

__all__ = ["bootstrap", "Bootstrap", "resample_counts"]

_ND = NormalDist()


def resample_counts(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """``(size, n)`` counts of ``n`` draws with replacement from ``n`` units.

    Multinomial(n, 1/n) counts, drawn as ``rng.integers(0, n, (size, n))``
    and counted with one ``bincount``: ``n`` uniform integers per replicate and
    one vectorized count, where ``rng.multinomial`` with ``n`` categories draws
    ``n`` conditional binomials per replicate, each dearer than an integer.
    """
    idx = rng.integers(0, n, size=(size, n))
    flat = (idx + n * np.arange(size)[:, None]).ravel()
    return np.bincount(flat, minlength=size * n).reshape(size, n)


@functools.partial(jax.jit, static_argnums=0)
def _simulate_many(simulate, keys, params, data):
    """Data sets drawn by ``simulate`` for each key, cast to ``data``'s dtypes.

    Jitted once per simulator (``simulate`` is static), not once per call.
    """

    def one(key):
        new = simulate(key, params, data)
        return jax.tree_util.tree_map(lambda x, d: jnp.asarray(x, d.dtype), new, data)

    return jax.vmap(one)(keys)


def _batches(total: int, size: int):
    for start in range(0, total, size):
        yield start, min(total, start + size)


@dataclasses.dataclass
class Bootstrap:
    """Bootstrap replicates of a fit, with standard errors and intervals.

    Attributes
    ----------
    labels : list of str
        Parameter labels (reported order).
    estimate : ndarray (p,)
        The original estimate.
    replicates : ndarray (B_ok, p)
        Estimates of the successful replicates.
    n_boot, n_failed : int
        Replicates asked for, and those whose fit failed (left out with
        ``failed="drop"``).
    method : str
        ``"nonparametric"``, ``"cluster"`` or ``"parametric"``.
    failures : dict
        Failed replicates by status name (``{"unbounded": 3}``: three resamples
        whose maximum is at infinity, e.g. separated in a binary model).
    status : ndarray (len(replicates),)
        :class:`~likelihax.Status` code of each row of ``replicates`` (all
        ``Status.success`` with ``failed="drop"``).
    """

    labels: list
    estimate: np.ndarray
    replicates: np.ndarray
    n_boot: int
    n_failed: int
    method: str
    failures: dict = dataclasses.field(default_factory=dict)
    status: np.ndarray | None = None
    _jack: Callable | None = dataclasses.field(default=None, repr=False)

    @property
    def se(self) -> np.ndarray:
        """Bootstrap standard errors (standard deviation of the replicates, ddof 1)."""
        return np.std(self.replicates, axis=0, ddof=1)

    @property
    def bias(self) -> np.ndarray:
        """Mean of the replicates minus the estimate."""
        return self.replicates.mean(axis=0) - self.estimate

    def conf_int(self, alpha: float = 0.05, method: str = "percentile"):
        """``(lower, upper)`` arrays; ``method`` is ``"percentile"``, ``"basic"`` or ``"bca"``."""
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
        R = self.replicates
        if R.shape[0] < 2:
            raise ValueError("Fewer than two successful replicates: no interval.")
        q = np.array([alpha / 2, 1 - alpha / 2])
        if method == "percentile":
            lo, hi = np.quantile(R, q, axis=0)
            return lo, hi
        if method == "basic":
            lo, hi = np.quantile(R, q, axis=0)
            return 2 * self.estimate - hi, 2 * self.estimate - lo
        if method == "bca":
            if self._jack is None:
                raise ValueError(
                    "BCa needs the jackknife, which is not available here."
                )
            theta_j = self._jack()
            d = theta_j.mean(axis=0) - theta_j
            a = (d**3).sum(0) / (6.0 * np.maximum((d**2).sum(0), 1e-300) ** 1.5)
            below = (R < self.estimate).mean(0) + 0.5 * (R == self.estimate).mean(0)
            z0 = np.array([_ND.inv_cdf(min(max(b, 1e-12), 1 - 1e-12)) for b in below])
            out = []
            for zq in (_ND.inv_cdf(alpha / 2), _ND.inv_cdf(1 - alpha / 2)):
                lev = np.array(
                    [
                        _ND.cdf(z0[j] + (z0[j] + zq) / (1 - a[j] * (z0[j] + zq)))
                        for j in range(R.shape[1])
                    ]
                )
                out.append(
                    np.array([np.quantile(R[:, j], lev[j]) for j in range(R.shape[1])])
                )
            return out[0], out[1]
        raise ValueError(
            f"method must be 'percentile', 'basic' or 'bca'; got {method!r}."
        )

    def to_frame(self, alpha: float = 0.05):
        """Estimate, bootstrap SE, bias and percentile interval per parameter (pandas)."""
        pd = pandas_for("Bootstrap.to_frame")

        lo, hi = self.conf_int(alpha)
        return pd.DataFrame(
            dict(
                estimate=self.estimate, se=self.se, bias=self.bias, lower=lo, upper=hi
            ),
            index=self.labels,
        )

    def __repr__(self) -> str:
        lo, hi = self.conf_int()
        w = max([len(s) for s in self.labels] + [9])
        lines = [
            f"Bootstrap ({self.method}): {self.n_boot - self.n_failed} of "
            f"{self.n_boot} replicates succeeded ({self.n_failed} failed, "
            f"{'kept' if len(self.replicates) == self.n_boot else 'left out'})",
            f"{'':<{w}} {'estimate':>12} {'boot.se':>12} {'bias':>12} "
            f"{'[2.5%':>12} {'97.5%]':>12}",
        ]
        for j, lab in enumerate(self.labels):
            lines.append(
                f"{lab:<{w}} {self.estimate[j]:>12.6g} {self.se[j]:>12.6g} "
                f"{self.bias[j]:>12.4g} {lo[j]:>12.6g} {hi[j]:>12.6g}"
            )
        return "\n".join(lines)


def _memory_budget() -> int:
    """Bytes a batch of replicates may use: 64 MiB on the host, an eighth of an
    accelerator's memory (larger batches keep a GPU busy).

    On a CPU, batches whose working set stays near the size of the caches run
    faster than one large batch, whose working set spills from the caches to
    main memory on every pass over the data (e.g. 1,000 replicates of a
    6-parameter logistic fit with N = 1,000: batches of 100-250 rather than
    500).
    """
    dev = jax.devices()[0]
    if dev.platform != "cpu":
        try:
            limit = int(dev.memory_stats()["bytes_limit"])
            return max(256 << 20, limit // 8)
        except Exception:  # noqa: BLE001 - memory_stats is optional per backend
            pass
    return 64 << 20


def bootstrap(
    fit,
    n_boot: int = 1000,
    *,
    method: str = "nonparametric",
    groups: Any = None,
    simulate: Callable | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    data: Any = None,
    weights: Any = None,
    failed: str = "drop",
) -> Bootstrap:
    """Bootstrap a fit: every replicate refitted by the engine, in vmapped batches.

    Parameters
    ----------
    fit : FitResult or model result
        A fit from :func:`likelihax.fit` (per-observation log-likelihood for
        the nonparametric and cluster bootstrap), or a model result holding one
        in ``.fit`` (:func:`likelihax.glm`, :func:`likelihax.mixed`, ...),
        whose parameters are then bootstrapped.
    n_boot : int
        Number of replicates.
    method : {"nonparametric", "cluster", "parametric"}
    groups : array (n,), optional
        Cluster labels, for ``method="cluster"``.
    simulate : callable, optional
        ``simulate(key, params, data) -> data`` for ``method="parametric"``:
        a JAX function drawing a data set of the same structure and shapes
        from the model at ``params`` (natural scale).
    seed : int
        Seed of the resampling (NumPy for the counts, JAX keys for ``simulate``).
    batch_size : int, optional
        Replicates per compiled call (default: about 256 MB of per-observation
        work per batch).
    data, weights
        Default: those of the fit.
    failed : {"drop", "keep"}
        Replicates whose fit did not end at a finite maximum (any status but
        ``Status.success``: a resample separated in a binary model is
        ``unbounded``, one with a variance at 0 ``at_boundary``) are counted
        in ``n_failed`` and ``failures`` and, with ``"drop"`` (default), left
        out of the replicates; ``"keep"`` keeps them, marked in ``status``.
        Either way a ``ConvergenceWarning`` says how many failed and why:
        dropping them conditions the bootstrap distribution on a finite
        estimate, keeping them puts arbitrary large values into it.

    Returns
    -------
    Bootstrap

    Warns
    -----
    ConvergenceWarning
        When replicates failed.

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> y = np.random.default_rng(0).normal(1.0, 2.0, size=50)
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], p["s"]),
    ...            {"mu": 0.0, "s": 1.0}, {"y": y},
    ...            constraints={"s": lx.constraints.positive})
    >>> b = lx.bootstrap(f, 200, seed=1)
    >>> b.n_failed, bool(abs(b.se[0] / float(f.se["mu"]) - 1) < 0.25)
    (0, True)
    """
    if method not in ("nonparametric", "cluster", "parametric"):
        raise ValueError(
            "method must be 'nonparametric', 'cluster' or 'parametric'; "
            f"got {method!r}."
        )
    if int(n_boot) < 2:
        raise ValueError(f"n_boot must be at least 2; got {n_boot}.")
    if failed not in ("drop", "keep"):
        raise ValueError(f"failed must be 'drop' or 'keep'; got {failed!r}.")
    n_boot = int(n_boot)
    fit = as_fit(fit)
    runner = Refitter(fit, data, weights, "bootstrap", polish=False)
    n = runner.static.nobs
    if method != "parametric" and not fit.setup.per_obs:
        raise ValueError(
            "The nonparametric and cluster bootstrap resample observations: the "
            "log-likelihood must return one value per observation."
        )
    rng = np.random.default_rng(seed)
    base_w = None if runner.w is None else np.asarray(runner.w)
    if batch_size is not None and int(batch_size) < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size}.")
    if batch_size is None:
        per_rep = max(n, 1) * (runner.k + 4) * 8 * 4
        most = int(max(1, min(n_boot, _memory_budget() // per_rep)))
        # Equal batches (one compiled program), e.g. 2 x 500 rather than 838 + 162.
        batch_size = -(-n_boot // -(-n_boot // most))
    idx = np.asarray(fit.spec.reported)

    if method == "cluster":
        if groups is None:
            raise ValueError("method='cluster' needs groups= (one label per row).")
        g = np.asarray(groups)
        if g.shape != (n,):
            raise ValueError(f"groups must have shape ({n},); got {g.shape}.")
        _, gid = np.unique(g, return_inverse=True)
        n_groups = int(gid.max()) + 1
        if n_groups < 2:
            raise ValueError("The cluster bootstrap needs at least two groups.")
    if method == "parametric" and simulate is None:
        raise ValueError("method='parametric' needs simulate(key, params, data).")

    def weighted(W):
        return W if base_w is None else W * base_w[None, :]

    def draw_weights(b):
        if method == "nonparametric":
            return weighted(resample_counts(rng, n, b).astype(float))
        return weighted(resample_counts(rng, n_groups, b)[:, gid].astype(float))

    reps, fails, codes = [], 0, []
    if method == "parametric":
        keys = jax.random.split(jax.random.key(seed), n_boot)
        with x64_scope():
            p_j = jax.tree_util.tree_map(
                lambda x: jnp.asarray(x, runner.dtype), fit.params
            )
    for a, b in _batches(n_boot, batch_size):
        if method == "parametric":
            with x64_scope():
                D = _simulate_many(simulate, keys[a:b], p_j, runner.data)
            out = runner.resimulated(D)
        else:
            out = runner.reweighted(draw_weights(b - a))
        code = np.asarray(out["status"])
        ok = (code == Status.success.value) & np.all(
            np.isfinite(out["params_flat"]), axis=1
        )
        # (A finite status with non-finite estimates counts as non-finite.)
        code = np.where(ok | (code != Status.success.value), code,
                        Status.nonfinite.value)  # fmt: skip
        fails += int((~ok).sum())
        keep = ok if failed == "drop" else np.ones_like(ok)
        reps.append(out["params_flat"][keep][:, idx])
        codes.append(code[keep] if failed == "keep" else code[~ok])

    def jackknife():
        """Leave-one-out (row, or cluster) estimates, for BCa's acceleration.

        The leave-one-out weights are built batch by batch (never the full
        units x n matrix).
        """
        units = n_groups if method == "cluster" else n
        est = []
        for a, b in _batches(units, batch_size):
            if method == "cluster":
                W = (gid[None, :] != np.arange(a, b)[:, None]).astype(float)
            else:
                W = np.ones((b - a, n))
                W[np.arange(b - a), np.arange(a, b)] = 0.0
            est.append(runner.reweighted(weighted(W))["params_flat"][:, idx])
        return np.concatenate(est)

    estimate = np.asarray(fit.params_flat, dtype=float)[idx]
    R = np.concatenate(reps) if reps else np.zeros((0, idx.size))
    codes = np.concatenate(codes) if codes else np.zeros(0, np.int32)
    bad = codes[codes != Status.success.value]
    failures = {Status(int(c)).name: int((bad == c).sum()) for c in np.unique(bad)}
    status = codes if failed == "keep" else np.zeros(len(R), np.int32)
    if fails:
        why = ", ".join(f"{k}: {v}" for k, v in failures.items())
        what = ("left out (failed='drop'): the bootstrap distribution is "
                "conditional on a finite estimate" if failed == "drop" else
                "kept (failed='keep'), marked in .status")  # fmt: skip
        warnings.warn(
            f"{fails} of {n_boot} bootstrap replicates did not end at a finite "
            f"maximum ({why}) and were {what}. Many failures (e.g. separated "
            "resamples of a small binary data set) make bootstrap standard errors "
            "and intervals unreliable; see Status.<name>.message.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return Bootstrap(
        labels=fit.labels, estimate=estimate, replicates=R, n_boot=n_boot,
        n_failed=fails, method=method, failures=failures, status=status,
        _jack=jackknife if fit.setup.per_obs else None,
    )  # fmt: skip
