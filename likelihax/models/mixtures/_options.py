"""The options every ready-made mixture takes: the starts, EM and the engine fit.

:class:`MixtureOptions` holds them with their defaults and their checks;
:func:`mixture_options` makes them keyword-only parameters of a mixture
function's public signature and hands them to the function as one record.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Literal

import jax

from ...engine import check_fit_options
from ._em import check_method

__all__ = ["MixtureOptions", "mixture_options"]


@dataclasses.dataclass(frozen=True)
class MixtureOptions:
    """Options shared by the ready-made mixtures (see :func:`gaussian_mixture`).

    Attributes
    ----------
    starts : int
        Number of seeded starts (ignored for explicit ``init``).
    key : jax.random key, optional
        Seed of the starts; ``None`` is ``jax.random.key(0)``.
    accelerate : {"squarem"}, optional
        SQUAREM acceleration of EM.
    method : {"em", "newton"}
        ``"newton"``: the engine's Newton from the first start, no EM.
    max_steps, tol : int, float
        EM's iteration limit and stopping rule.
    cov : str, optional
        Covariance kind of the estimates.
    se : bool
        False: EM only, no engine fit or standard errors.
    warn : bool
        Warn about degenerate starts and convergence problems.
    """

    starts: int = 10
    key: jax.Array | None = None
    accelerate: Literal["squarem"] | None = None
    method: Literal["em", "newton"] = "em"
    max_steps: int = 1000
    tol: float = 1e-10
    cov: Literal["oim", "opg", "sandwich"] | None = None
    se: bool = True
    warn: bool = True

    def check(self) -> None:
        """Raise a ``TypeError``/``ValueError`` naming the first invalid option.

        ``starts`` and ``key`` are checked where the starts are seeded (they
        do not matter for an explicit ``init``).
        """
        check_method(self.method, self.se)
        check_fit_options(cov=self.cov, max_steps=self.max_steps, tol=self.tol)


_FIELDS = tuple(dataclasses.fields(MixtureOptions))


def mixture_options(fn: Callable) -> Callable:
    """``fn(..., *, options)`` called as ``fn(..., *, starts=10, key=None, ...)``.

    The fields of :class:`MixtureOptions` follow ``fn``'s own parameters as
    keyword-only parameters of the public signature (``inspect.signature``
    and ``help`` show them with their defaults); they reach ``fn`` as one
    :class:`MixtureOptions` in its keyword-only parameter ``options``. Other
    keywords go to ``fn`` unchanged, so an unknown one is refused by ``fn``
    itself, under its name.
    """
    own = inspect.signature(fn)
    if "options" not in own.parameters:
        raise TypeError(f"{fn.__name__} needs a keyword-only parameter 'options'.")
    shared = [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default,
                          annotation=f.type)
        for f in _FIELDS
    ]  # fmt: skip
    kept = [p for p in own.parameters.values() if p.name != "options"]

    @functools.wraps(fn)
    def call(*args, **kwargs):
        given = {f.name: kwargs.pop(f.name) for f in _FIELDS if f.name in kwargs}
        return fn(*args, **kwargs, options=MixtureOptions(**given))

    call.__signature__ = own.replace(parameters=kept + shared)
    return call
