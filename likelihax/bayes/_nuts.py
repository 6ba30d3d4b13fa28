r"""Posterior sampling by NUTS (blackjax), started from the Laplace approximation.

The sampler runs on the unconstrained scale, on the log density of
:mod:`likelihax.bayes._laplace` (log posterior + log-Jacobian), so every draw
respects the constraints once mapped back. The MAP and the Laplace
approximation give it everything it needs:

- **starts**: each chain starts at a draw from the Laplace normal
  :math:`N(\hat u, H^{-1})` (near the mode and dispersed like the posterior,
  so R-hat can detect chains that do not mix);
- **mass matrix**: the inverse mass matrix is the dense Laplace covariance
  :math:`H^{-1}`, kept fixed (no mass-matrix adaptation: it already holds the
  posterior's scales and correlations, and a fixed one keeps short runs
  reproducible and comparable with the Laplace approximation);
- **step size**: tuned per chain in a short warm-up by dual averaging
  (Hoffman and Gelman 2014, blackjax's ``dual_averaging_adaptation``)
  towards the target acceptance rate; warm-up draws are discarded.

Chains run under ``jax.vmap`` and the whole sampler (warm-up and sampling,
two ``lax.scan`` loops) is one ``jax.jit`` program, cached on the model and
shapes. Diagnostics: split R-hat and bulk ESS per parameter
(:mod:`likelihax.bayes._diagnostics`) and the number of divergent
transitions.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..core import x64_scope
from ..results import Summary
from ._diagnostics import ess_bulk, split_rhat
from ._laplace import LaplacePosterior, PosteriorDraws, laplace_posterior

__all__ = ["NUTSResult", "nuts"]


def _blackjax():
    try:
        import blackjax
        from blackjax.adaptation.step_size import dual_averaging_adaptation
    except ImportError as e:
        raise ImportError(
            "lx.nuts needs blackjax, an optional dependency: "
            "pip install likelihax[bayes] (or pip install blackjax)."
        ) from e
    return blackjax, dual_averaging_adaptation


def _run_impl(density, n_warmup, n_draws, target, keys, u0, inv_mass, data):
    blackjax, dual_averaging = _blackjax()

    def logdensity(u):
        return density.log_density(u, data)

    def one_chain(key, u_init):
        # One scan and one NUTS kernel for warm-up and sampling (half the
        # compile time of two loops): the step size is the dual-averaging
        # iterate during warm-up, then its final average.
        da_init, da_update, da_final = dual_averaging(target)
        state = blackjax.nuts(logdensity, 1.0, inv_mass).init(u_init)

        def step(carry, xs):
            st, da = carry
            i, k = xs
            warming = i < n_warmup
            eps = jnp.where(warming, jnp.exp(da.log_step_size), da_final(da))
            st, info = blackjax.nuts(logdensity, eps, inv_mass).step(k, st)
            da_new = da_update(da, info.acceptance_rate)
            da = jax.tree_util.tree_map(
                lambda a, b: jnp.where(warming, a, b), da_new, da
            )
            out = (st.position, info.is_divergent, info.acceptance_rate,
                   info.num_integration_steps, eps)  # fmt: skip
            return (st, da), out

        n = n_warmup + n_draws
        xs = (jnp.arange(n), jax.random.split(key, n))
        _, out = jax.lax.scan(step, (state, da_init(jnp.ones((), u_init.dtype))), xs)
        pos, div, acc, nsteps, eps = (o[n_warmup:] for o in out)
        return pos, div, acc, nsteps, eps[-1]

    return jax.vmap(one_chain)(keys, u0)


# Small programs on the CPU compile for latency (as likelihax.fit does).
_run_fast = jax.jit(
    _run_impl, static_argnums=(0, 1, 2, 3),
    compiler_options={"xla_cpu_use_fusion_emitters": False,
                      "xla_backend_optimization_level": 0},
)  # fmt: skip
_run_default = jax.jit(_run_impl, static_argnums=(0, 1, 2, 3))


def _run(*args):
    return (_run_fast if jax.default_backend() == "cpu" else _run_default)(*args)


class NUTSResult(PosteriorDraws):
    """Posterior draws from :func:`nuts`, with diagnostics.

    Attributes
    ----------
    draws : ndarray (chains, draws, p)
        Natural-scale draws of every element (flat; see :attr:`samples`).
    draws_u : ndarray (chains, draws, k)
        The sampler's unconstrained draws.
    divergent : ndarray of bool (chains, draws)
    step_size : ndarray (chains,)
        Step sizes found by the warm-up.
    accept : ndarray (chains, draws)
        Acceptance statistics.
    n_steps : ndarray (chains, draws)
        Leapfrog steps per draw.
    rhat, ess : ndarray (p_reported,)
        Split R-hat and bulk ESS of each reported element (``labels``).
    laplace : LaplacePosterior
        The approximation that gave the starts and the mass matrix.
    """

    def __init__(
        self, laplace, draws_u, draws, divergent, accept, n_steps, step, warmup,
        start="laplace",
    ):  # fmt: skip
        self.laplace = laplace
        self.start = start
        super().__init__(draws_u, draws, laplace._spec)
        self.divergent = divergent
        self.accept = accept
        self.n_steps = n_steps
        self.step_size = step
        self.warmup = warmup
        rep = self._reported()
        self.rhat = split_rhat(rep)
        self.ess = ess_bulk(rep)

    @property
    def labels(self) -> list[str]:
        return self.laplace.labels

    @property
    def n_divergent(self) -> int:
        return int(np.sum(self.divergent))

    def summary(self, alpha: float = 0.05) -> Summary:
        """Summary record: mean, sd, interval, R-hat, bulk ESS per parameter."""
        lo, hi = self.interval(alpha)
        rows = [
            (lab, [m, s, a, b, r, e])
            for lab, m, s, a, b, r, e in zip(
                self.labels, self.mean, self.sd, lo, hi, self.rhat, self.ess
            )
        ]
        c, d = self.divergent.shape
        header = [
            ("Model", str(self.laplace.map_fit.annotation.name)),
            ("Sampler", "NUTS (blackjax)"),
            ("Chains", str(c)),
            ("Draws/chain", f"{d} (+{self.warmup} warm-up)"),
            ("Divergences", str(self.n_divergent)),
            ("Step size", ", ".join(f"{s:.3g}" for s in self.step_size)),
            ("Mean accept", f"{float(np.mean(self.accept)):.3f}"),
            ("Max R-hat", f"{float(np.max(self.rhat)):.4f}"),
            ("Min ESS", f"{float(np.min(self.ess)):.0f}"),
        ]
        notes = [
            (
                "NUTS on the unconstrained scale (log-Jacobian included); chains "
                + (
                    "started at draws from the Laplace approximation"
                    if self.start == "laplace"
                    else "all started at the mode"
                )
                + "; inverse mass "
                "matrix = Laplace covariance (dense, fixed); step size by dual "
                "averaging during warm-up."
            ),
            (
                "r_hat: split R-hat (want < 1.01); ess: bulk effective sample size "
                "(rank-normalized split chains; want > 100 per chain)."
            ),
        ]
        bad = [lab for lab, r in zip(self.labels, self.rhat) if not r < 1.01]
        if bad:
            notes.append(
                f"WARNING: R-hat >= 1.01 for {', '.join(bad)}: the chains have not "
                "mixed; run longer (more draws/warmup)."
            )
        if self.n_divergent:
            notes.append(
                f"WARNING: {self.n_divergent} divergent transitions: the sampler "
                "missed curved regions of the posterior; raise target_accept or "
                "reparametrize."
            )
        cols = ["mean", "sd", f"{alpha / 2:g}", f"{1 - alpha / 2:g}", "r_hat", "ess"]
        return Summary("likelihax NUTS posterior", header, cols, rows, notes)

    def __repr__(self) -> str:
        c, d = self.divergent.shape
        return (
            f"NUTSResult({len(self.labels)} parameters, {c} chains x {d} draws, "
            f"{self.n_divergent} divergent, max R-hat {float(np.max(self.rhat)):.3f})"
        )


def nuts(
    map_fit,
    *,
    chains: int = 4,
    draws: int = 1000,
    warmup: int = 500,
    target_accept: float = 0.8,
    key: Any = None,
    laplace: LaplacePosterior | None = None,
    start: str = "laplace",
) -> NUTSResult:
    r"""Sample the posterior behind a MAP fit with NUTS (blackjax).

    Parameters
    ----------
    map_fit : FitResult
        Result of :func:`likelihax.fit_map` (priors and data are taken from it).
    chains : int
        Number of chains, run in parallel under ``vmap`` (default 4).
    draws : int
        Kept draws per chain (default 1000).
    warmup : int
        Warm-up iterations per chain for the step size (default 500; discarded).
    target_accept : float
        Target acceptance rate of the step-size adaptation (default 0.8).
    key : jax.random key, optional
        Default ``jax.random.key(0)``.
    laplace : LaplacePosterior, optional
        The Laplace approximation to start from (computed when not given).
    start : {"laplace", "map"}
        ``"laplace"`` (default): each chain starts at its own draw from the
        Laplace normal around the mode, so that R-hat can see chains that do
        not mix; ``"map"``: every chain starts exactly at the mode.

    Returns
    -------
    NUTSResult
        Draws on the natural scale, split R-hat, bulk ESS, divergences,
        ``summary()``.

    Raises
    ------
    ImportError
        blackjax is not installed: ``pip install likelihax[bayes]``.
    TypeError, ValueError
        As :func:`likelihax.laplace_posterior`; bad sizes.

    Notes
    -----
    See the module notes of :mod:`likelihax.bayes._nuts` (starts, fixed dense
    mass matrix from the Laplace covariance, dual-averaging step size). The
    program is compiled once per model, data shapes and (chains, draws,
    warmup); a second call with another key reuses it.

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> y = np.array([0.8, 1.9, 1.1, 2.4])
    >>> m = lx.fit_map(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0),
    ...                {"mu": 0.0}, {"y": y}, priors={"mu": lx.priors.Normal(0, 1)})
    >>> post = lx.nuts(m, chains=2, draws=200, warmup=100)
    >>> bool(abs(post.mean[0] - 1.24) < 0.15), bool(post.rhat[0] < 1.05)
    (True, True)
    """
    _blackjax()
    for name, v, lo in (
        ("chains", chains, 1),
        ("draws", draws, 4),
        ("warmup", warmup, 1),
    ):
        if int(v) != v or int(v) < lo:
            raise ValueError(f"{name} must be an integer >= {lo}; got {v}.")
    if not 0 < target_accept < 1:
        raise ValueError(f"target_accept must be in (0, 1); got {target_accept}.")
    if start not in ("laplace", "map"):
        raise ValueError(f"start must be 'laplace' or 'map'; got {start!r}.")
    if laplace is None:
        laplace = laplace_posterior(map_fit, draws=1)
    elif not isinstance(laplace, LaplacePosterior) or laplace.map_fit is not map_fit:
        raise ValueError("laplace must be lx.laplace_posterior(map_fit) of this fit.")
    density = laplace.density
    from ..data import prepare_data

    with x64_scope():
        key = jax.random.key(0) if key is None else key
        k_start, k_run = jax.random.split(key)
        cov = jnp.asarray(laplace.cov_u)
        L = jnp.linalg.cholesky(cov)
        z = jax.random.normal(k_start, (int(chains), cov.shape[0]), jnp.float64)
        u0 = jnp.asarray(laplace.mode_u) + (z @ L.T if start == "laplace" else 0.0 * z)
        data = prepare_data(map_fit.setup.data, np.float64)
        pos, div, acc, nsteps, step = _run(
            density, int(warmup), int(draws), float(target_accept),
            jax.random.split(k_run, int(chains)), u0, cov, data,
        )  # fmt: skip
        c, d, k = pos.shape
        nat = jax.jit(jax.vmap(density.natural_flat))(pos.reshape(c * d, k))
        nat = np.asarray(nat).reshape(c, d, -1)
    return NUTSResult(
        laplace, np.asarray(pos), nat, np.asarray(div), np.asarray(acc),
        np.asarray(nsteps), np.asarray(step), int(warmup), start,
    )  # fmt: skip
