"""The solver contract: what :func:`~likelihax.optimize.run` and the engine need
of a solver."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["Solver"]


@runtime_checkable
class Solver(Protocol):
    """A solver maximizing a log-likelihood (minimizing ``problem.value``).

    A solver is a frozen dataclass (hashable: it is part of the compiled
    program's static key) whose fields are its options, with these attributes
    and methods. :func:`~likelihax.optimize.run` drives it under one
    ``jax.lax.while_loop``; the engine reads only what is listed here.

    Attributes
    ----------
    name : str
        Shown in summaries (``fit.method``).
    information : {"observed", "expected"}
        The information matrix :meth:`final` returns; the engine computes the
        other one where the covariance kind needs it.
    polish : bool
        True when the solver ends with polishing steps that refits may skip
        (then it also has a ``tol`` field, the EDM rule, that refits tighten).
    default_max_steps : int
        Accepted steps allowed when ``fit(max_steps=None)``.

    Methods
    -------
    init(problem, u0, max_steps) -> state
        The first state at ``u0``. ``state`` is a NamedTuple with at least
        ``u, f, g, done, code, n_iter, n_eval, trace`` (``f`` is the value
        minimized, ``code`` a :class:`~likelihax.Status` value, ``trace`` the
        log-likelihood of each accepted iterate, see
        :func:`~likelihax.optimize.record`).
    step(problem, state) -> state
        One accepted iterate (the solver bounds its own inner retries) and
        the stopping rule (:func:`~likelihax.optimize.stopping_rule`).
    final(problem, state) -> (f, g, H, eig)
        Value, gradient and information at ``state.u``, and the scaled
        eigen-decomposition of ``H`` when the solver has it (else None).

    ``problem`` is seen only through ``value``, ``value_and_grad``,
    ``value_grad_hessian`` (and ``value_grad_fisher`` for
    ``information="expected"``), ``nobs`` and ``chord_steps``; see
    :class:`likelihax.objective.Problem`.

    Examples
    --------
    >>> from likelihax.optimize import Newton, Solver
    >>> isinstance(Newton(), Solver), Newton().default_max_steps
    (True, 100)
    """

    name: str
    information: str
    polish: bool
    default_max_steps: int

    def init(self, problem: Any, u0: Any, max_steps: int) -> Any: ...

    def step(self, problem: Any, state: Any) -> Any: ...

    def final(self, problem: Any, state: Any) -> tuple: ...
