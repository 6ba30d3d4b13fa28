"""What a compiled fit returns: its status from the solver, the information and
the probe, and its output record, shared by the dense and matrix-free fits."""

from __future__ import annotations

import jax.numpy as jnp

from ..core import Status


def fit_status(solver_code, info_code, probe_code, gap, dtype):
    """The fit's status: the solver's failure, else the information's verdict,
    else the probe's; ``not_separable`` where the log-likelihood is not a sum
    of per-observation terms after all (``gap``, see ``Problem.separable_gap``)."""
    status = jnp.where(solver_code != Status.success.value, solver_code, info_code)
    status = jnp.where(status == Status.success.value, probe_code, status)
    sep_tol = 1e-4 if dtype == jnp.float32 else 1e-9
    return jnp.where(gap > sep_tol, Status.not_separable.value, status).astype(jnp.int32)


def fit_outputs(static, s, f, g, fixed_leaves, probe, restarts, **fields) -> dict:
    """The record of a compiled fit from the solver's state ``s`` and final
    value ``f`` and gradient ``g`` (minimized: signs flipped here), the probe,
    and the ``fields`` its kind computes (status, EDM, condition number,
    information and covariances)."""
    return dict(
        u=s.u,
        params_flat=static.spec.natural_flat(s.u, fixed_leaves),
        loglik=-f,
        grad=-g,
        iterations=jnp.maximum(s.n_iter, 0),
        n_evals=s.n_eval,
        trace=-s.trace,
        flat=probe.drop,
        restarts=restarts,
        **fields,
    )
