"""Batched refits of an existing fit: the engine's setting, reused.

Profile likelihood and the bootstrap both refit a model many times with one
thing changed (a coordinate held fixed, or the observation weights) under
``vmap``. :class:`Refitter` holds what they share: the fit's compiled setting
(the engine's ``FitProgram``), its validated data and weights, and its estimate
as the warm start.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from ..core import x64_scope
from ..data import prepare_data

__all__ = ["Refitter"]


class Refitter:
    """A fit's compiled setting, data, weights and estimate, for batched refits.

    ``what`` names the caller in error messages (``"profile"``, ``"bootstrap"``).
    ``polish=False`` makes a Newton solver stop without its final polishing step.
    """

    def __init__(self, fit, data, weights, what: str, *, polish: bool = True):
        from ..engine import prepare_weights

        if fit.setup.program is None:
            raise ValueError(
                "This result does not carry its fitting setup (it came out of a "
                f"transform); {what} a result returned by likelihax.fit."
            )
        if not fit.is_single:
            raise ValueError(f"{what.capitalize()} a single fit, not a batched or "
                             "traced result: index it first (fits[i]).")
        # Refits compute no covariance: one program per model, whatever the
        # fit's covariance kind or verbosity.
        self.static = dataclasses.replace(fit.setup.program, cov="oim", verbose=False)
        batched = getattr(self.static.loglik, "batched", None)
        if callable(batched):
            # A model may carry the same log-likelihood written for batched
            # refits (``loglik.batched``: same values, a layout that suits
            # vmap; the GLMs do, see likelihax.models.glm._glm).
            self.static = dataclasses.replace(self.static, loglik=batched)
        if not polish and self.static.solver.polish:
            # No final polishing step (see Newton.polish). In float64 the EDM
            # rule is made 1000x tighter instead: Newton's quadratic convergence
            # usually meets it with the same number of steps, and a replicate's
            # error stays below sqrt(2e-3 tol) standard errors.
            solver = self.static.solver
            tol = solver.tol * (1e-3 if np.dtype(fit.dtype) == np.float64 else 1.0)
            solver = dataclasses.replace(solver, polish=False, tol=tol)
            self.static = dataclasses.replace(self.static, solver=solver)
        dtype = np.dtype(fit.dtype)
        streamed = fit.setup.program.source is not None
        if streamed and data is not None:
            raise ValueError(
                f"This fit reads its data from a source; {what} it without data= "
                "(the source is read again), or fit the new data first."
            )
        data = fit.setup.data if data is None else data
        if data is None:
            raise ValueError("This result carries no data; pass data=.")
        weights = fit.setup.weights if weights is None else weights
        with x64_scope():
            # Streamed data stay in their source (read again block by block).
            self.data = None if streamed else prepare_data(data, dtype)
            self.w = (
                None
                if weights is None
                else prepare_weights(weights, self.static.nobs, True, dtype)
            )
            # The estimate's leaves: fixed parameters keep their values.
            self.fixed = [
                jnp.asarray(x, dtype) for x in jax.tree_util.tree_leaves(fit.params)
            ]
            self.u_hat_j = jnp.asarray(fit.params_unconstrained, dtype)
        self.u_hat = np.asarray(fit.params_unconstrained, dtype=float)
        self.k = self.u_hat.size
        self.dtype = dtype

    def pinned(self, idx, u_vals, starts=None):
        """Fits with ``u[idx[b]] = u_vals[b]`` (profile); loglik, status, u, ...

        ``idx`` and ``u_vals`` of shape ``(B,)`` pin one coordinate per fit, of
        shape ``(B, m)`` pin ``m`` coordinates (profile surfaces).
        """
        from ..engine import profile_many

        idx = np.asarray(idx)
        B = idx.shape[0]
        E = np.zeros((*idx.shape, self.k))
        np.put_along_axis(E, idx[..., None], 1.0, axis=-1)
        U0 = np.tile(self.u_hat, (B, 1)) if starts is None else starts
        with x64_scope():
            out = profile_many(
                self.static, jnp.asarray(U0, self.dtype), self.fixed, self.data,
                self.w, jnp.asarray(E, self.dtype), jnp.asarray(u_vals, self.dtype),
            )  # fmt: skip
            return jax.tree_util.tree_map(np.asarray, out)

    def reweighted(self, W):
        """Fits with observation weights ``W[b]`` (bootstrap, jackknife)."""
        from ..engine import refit_weights_many

        with x64_scope():
            out = refit_weights_many(
                self.static, self.u_hat_j, self.fixed, self.data,
                jnp.asarray(W, self.dtype),
            )  # fmt: skip
            return jax.tree_util.tree_map(np.asarray, out)

    def restarted(self, U0):
        """Fits from the starting points stacked in ``U0`` (unconstrained, (S, k))."""
        from ..engine import refit_starts_many

        with x64_scope():
            out = refit_starts_many(
                self.static, jnp.asarray(U0, self.dtype), self.fixed, self.data, self.w
            )
            return jax.tree_util.tree_map(np.asarray, out)

    def values(self, U):
        """Log-likelihood at each point stacked in ``U`` (unconstrained, (B, k))."""
        from ..engine import values_many

        with x64_scope():
            out = values_many(
                self.static, jnp.asarray(U, self.dtype), self.fixed, self.data, self.w
            )
            return np.asarray(out, dtype=float)

    def resimulated(self, D):
        """Fits to the data sets stacked in ``D`` (parametric bootstrap)."""
        from ..engine import refit_data_many

        if self.static.source is not None:
            raise ValueError(
                "A parametric bootstrap simulates data in memory; it is not "
                "available for a fit to streamed data (a source)."
            )

        with x64_scope():
            out = refit_data_many(self.static, self.u_hat_j, self.fixed, D, self.w)
            return jax.tree_util.tree_map(np.asarray, out)
