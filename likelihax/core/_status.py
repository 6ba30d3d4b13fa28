"""Status codes of a fit, each with a message that says what happened and what to try.

The codes are plain integers inside compiled code (so they survive ``jit`` and
``vmap``) and become a :class:`Status` on the host.
"""

from __future__ import annotations

import enum

__all__ = ["Status"]


class Status(enum.IntEnum):
    """Outcome of a fit.

    ``Status.success`` is the only outcome for which ``fit.converged`` is true:
    the stopping rule was met at a finite maximum (a positive definite
    information, and nothing higher one standard error away; see
    :func:`likelihax.fit`, Notes). Every other member's :attr:`message` names
    the problem and what to try: ``unbounded`` (the maximum is at infinity,
    e.g. separation), ``at_boundary`` (on a bound of a constrained parameter),
    ``not_maximum`` (a higher point nearby), ``information_singular`` (not
    identified), ``information_indefinite`` (a saddle point or minimum),
    ``max_steps``, ``line_search_failed``, ``nonfinite``, ``nonfinite_start``
    and ``not_separable``.

    The EM iterations of latent-variable models (``fit.em.status``; see
    :func:`likelihax.models.mixtures.em`) report ``success``, ``max_steps``,
    ``nonfinite`` and two outcomes of their own: ``not_monotone`` (the
    log-likelihood decreased) and ``degenerate`` (an empty or collapsed
    component). ``likelihax.models.mixtures.EMStatus`` is another name for
    this class, kept for code that uses it.

    Examples
    --------
    >>> from likelihax import Status
    >>> Status.max_steps.message.startswith("Stopped at max_steps")
    True
    >>> print(Status.success)
    success
    >>> f"{Status.at_boundary}", int(Status.at_boundary)
    ('at_boundary', 9)
    """

    success = 0
    max_steps = 1
    line_search_failed = 2
    nonfinite = 3
    information_singular = 4
    information_indefinite = 5
    nonfinite_start = 6
    not_separable = 7
    unbounded = 8
    at_boundary = 9
    not_maximum = 10
    not_monotone = 11
    degenerate = 12

    @property
    def message(self) -> str:
        """Readable explanation of the status, with remedies."""
        return _MESSAGES[self]

    def __str__(self) -> str:
        # The name, not the number (IntEnum prints its value since Python 3.11).
        return self.name

    def __format__(self, spec: str) -> str:
        # f"{status}" reads as print does; numeric formats ("d") give the number.
        return format(int(self), spec) if spec and spec[-1] in "dnxXob" else format(self.name, spec)


_MESSAGES = {
    Status.success: "Converged: the stopping rule was met and the information matrix "
    "is positive definite.",
    Status.max_steps: "Stopped at max_steps before the stopping rule was met. Try "
    "(a) a larger `max_steps`, (b) better starting values, (c) rescaling covariates "
    "so that parameters are of order one, or (d) method='newton' if a first-order "
    "method was used.",
    Status.line_search_failed: "The line search found no step that increases the "
    "log-likelihood, although the stopping rule was not met. Likely causes: (a) the "
    "tolerance is below the numerical precision of the log-likelihood (common in "
    "float32), (b) the log-likelihood is not smooth (kinks, rounding, `jnp.where` "
    "branches), or (c) a parameter runs to a constraint boundary or infinity. Check "
    "`fit.grad_norm`, loosen `tol`/`gtol`, or reparametrize.",
    Status.nonfinite: "The log-likelihood or its gradient became NaN or infinite "
    "during the fit and no finite step could be found. Check the log-likelihood for "
    "log(0), division by zero or overflow (use jnp.logaddexp, jax.nn.log_sigmoid, "
    "jax.scipy.special.xlogy), and constrain parameters to their support.",
    Status.information_singular: "The stopping rule was met but the information "
    "matrix is singular: some combination of parameters is not identified by the "
    "data (see the weak directions in the warnings). Standard errors are NaN. Remove "
    "or fix redundant parameters, or check for collinear covariates.",
    Status.information_indefinite: "The stopping rule was met at a point where the "
    "information matrix is not positive definite: this is a saddle point or a "
    "minimum, not a maximum of the log-likelihood. Standard errors are NaN. Try "
    "other starting values (`starts=`).",
    Status.nonfinite_start: "The log-likelihood is not finite at the starting "
    "values. Choose starting values inside the support of the model.",
    Status.not_separable: "The log-likelihood returns one value per observation, "
    "but a value changes when the data are split into blocks, so the value of one "
    "observation depends on other observations (for example a mean over the data, "
    "or lagged values). Per-observation terms must depend on their own row only: "
    "return the scalar total instead, or pass chunk_size=False.",
    Status.unbounded: "The log-likelihood is still rising, or flat, one standard "
    "error from the estimate: its supremum is approached as some parameters run to "
    "infinity (complete or quasi-complete separation in a binary model, a count "
    "response that is all zero, a level with no events), so no finite maximum "
    "exists. The estimate is only where the optimizer stopped, and its standard "
    "errors, tests and intervals are not valid. Check the data for separation or "
    "empty categories, drop or merge the parameters involved, or use a penalized "
    "likelihood (a prior with lx.fit_map).",
    Status.at_boundary: "The log-likelihood is still rising, or flat, one standard "
    "error from the estimate, towards a bound of a constrained parameter (a "
    "variance or scale running to 0, a probability to 0 or 1): the maximum is on the "
    "boundary of the parameter space. The estimate approaches that boundary value, "
    "but standard errors and Wald tests are not valid there; fix the parameter at "
    "its bound and compare the fits with a likelihood-ratio test (whose reference "
    "distribution is a mixture of chi-squares at a boundary), or use profile "
    "likelihood intervals.",
    Status.not_maximum: "The stopping rule was met, but a point one standard error "
    "away has a higher log-likelihood, and restarting the optimizer from such points "
    "did not end at a maximum: the estimate is not a maximum of the log-likelihood. "
    "Try other starting values (`starts=`) or reparametrize.",
    Status.not_monotone: "The observed-data log-likelihood decreased during EM, "
    "which an exact E-step and an M-step that increases Q cannot do: (a) the "
    "closed-form `mstep` does not maximize the expected complete-data "
    "log-likelihood (check it, with the weights: resp rows sum to w_i), or (b) "
    "`complete` is not log p(x_i, z_i = k).",
    Status.degenerate: "EM reached a degenerate point of the parameter space: a "
    "component with no weight, or a variance or covariance that collapsed to "
    "zero, where the likelihood is unbounded or the components are not "
    "identified. Try (a) fewer components, (b) other starts (`starts=`, `key=`), "
    "or (c) a more constrained covariance.",
}
