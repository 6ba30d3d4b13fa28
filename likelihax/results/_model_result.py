"""The one idiom of a per-model result: the engine's fit in ``.fit``, readings of it around it.

Every model function returns one of two things, and both answer the same
protocol (``.fit`` is the engine's :class:`~likelihax.FitResult`,
``.model_info`` says what the model is):

* a :class:`~likelihax.FitResult` itself (or a registered subclass such as an
  EM fit), when the model adds nothing a user reads beyond the engine's
  estimates: :func:`likelihax.fit_distribution`, the mixtures, the class-imbalance
  fits; :attr:`FitResult.fit` is the result itself;
* a :class:`ModelResult` subclass, when the model has readings of its own
  (coefficient tables, predictions, residuals, random effects): it holds the
  engine's fit in ``.fit`` and inherits from this class the readings every
  model shares, delegated to that fit.

Inference functions read ``.fit`` (through :func:`~likelihax.results.as_fit`),
so they accept either.
"""

from __future__ import annotations

import math

from ._records import ModelInfo
from ._result import FitResult


class ModelResult:
    """Base class of the results of model functions that wrap a :class:`~likelihax.FitResult`.

    A subclass sets ``fit`` (an attribute or a dataclass field) and may
    override :meth:`annotated_fit` to add its own summary rows, which
    :meth:`summary` and :meth:`save` then show and save. Everything here is
    read from ``fit``; a subclass overrides a reading whose convention differs
    (for example R's count of parameters of a GLM with a dispersion).

    Examples
    --------
    >>> import dataclasses, numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> from likelihax.results import ModelResult
    >>> @dataclasses.dataclass(frozen=True)
    ... class MeanFit(ModelResult):
    ...     fit: lx.FitResult
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0),
    ...            {"mu": 0.0}, {"y": np.array([0.5, 1.5])})
    >>> r = MeanFit(f)
    >>> round(float(r.params["mu"]), 6), r.converged, r.fit is f.fit
    (1.0, True, True)
    """

    __slots__ = ()

    # ----- what it is ------------------------------------------------------------------
    @property
    def model_info(self) -> ModelInfo:
        """What this result is: ``fit.model_info`` (kind, family, link, flags)."""
        return self.fit.model_info

    # ----- estimates -------------------------------------------------------------------
    @property
    def params(self):
        """Estimates as the engine's pytree (``fit.params``)."""
        return self.fit.params

    @property
    def se(self):
        """Standard errors, shaped like :attr:`params`."""
        return self.fit.se

    @property
    def cov(self):
        """Labelled covariance (:class:`~likelihax.Covariance`)."""
        return self.fit.cov

    def conf_int(self, alpha: float = 0.05):
        """Wald intervals ``(lower, upper)``, each shaped like :attr:`params`."""
        return self.fit.conf_int(alpha)

    # ----- status ----------------------------------------------------------------------
    @property
    def status(self):
        """The engine's :class:`~likelihax.Status`."""
        return self.fit.status

    @property
    def converged(self) -> bool:
        """The engine reached a maximum (``fit.converged``)."""
        return bool(self.fit.converged)

    @property
    def message(self) -> str:
        """What happened, with a remedy (empty on success)."""
        return self.fit.message

    # ----- fit statistics ----------------------------------------------------------------
    @property
    def loglik(self) -> float:
        """The maximized log-likelihood."""
        return float(self.fit.loglik)

    @property
    def n_params(self) -> int:
        """Estimated parameters (the count the information criteria use)."""
        return int(self.fit.n_params)

    @property
    def aic(self) -> float:
        """:math:`-2\\ell + 2k`, ``k`` = :attr:`n_params`."""
        return -2.0 * self.loglik + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        """:math:`-2\\ell + k \\log n`, ``n`` the model's ``nobs`` (the fit's
        where the model has none)."""
        n = getattr(self, "nobs", None) or self.fit.nobs
        return -2.0 * self.loglik + self.n_params * (math.log(n) if n else math.nan)

    def simulate(self, n: int = 1, seed=0, newdata=None, *, conditional=None,
                 sampler=None):  # fmt: skip
        """New responses, ``(n, n_obs)``; see :func:`likelihax.simulate`."""
        from ._response import simulate

        return simulate(self, n, seed, newdata, conditional=conditional, sampler=sampler)

    # ----- display and saving ------------------------------------------------------------
    def annotated_fit(self):
        """The engine fit with this model's summary rows (what :meth:`summary`
        shows and :meth:`save` writes); here the fit itself."""
        return self.fit

    def summary(self, alpha: float = 0.05):
        """The summary of :meth:`annotated_fit` (see :meth:`likelihax.FitResult.summary`)."""
        return self.annotated_fit().summary(alpha)

    def save(self, path):
        """Write ``path.json`` and ``path.npz``: :meth:`annotated_fit`; see
        :func:`likelihax.save_result` (reload with :func:`likelihax.load_result`)."""
        return self.annotated_fit().save(path)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


def as_fit(obj, *, likelihood: bool = False) -> FitResult:
    """The single :class:`FitResult` behind ``obj``, for every inference function.

    The protocol: every result holds the engine's fit in ``.fit`` (a
    :class:`FitResult` is its own ``.fit``; a model result, a
    :class:`~likelihax.results.ModelResult` such as :class:`~likelihax.GLMResult`,
    ``MixedResult``, ``OrdinalFit`` or ``MultinomialFit``, wraps it),
    whose estimates, covariance and log-likelihood are the ones it reports. A
    model result whose ``.fit`` holds a nuisance parameter fixed at an estimate
    (the dispersion of a Gaussian, gamma or inverse Gaussian GLM) also has
    ``.likelihood_fit``: the same model with that parameter free, at the joint
    maximum of the likelihood. Functions that maximize the likelihood again
    under constraints (profiles) ask for it with ``likelihood=True``; every
    other function reads ``.fit``.

    Parameters
    ----------
    obj : FitResult or model result
    likelihood : bool
        Return ``obj.likelihood_fit`` where ``obj`` has one (else as ``False``).

    Returns
    -------
    FitResult

    Raises
    ------
    TypeError
        ``obj`` is neither a FitResult nor holds one in ``.fit``.
    ValueError
        A batched or traced result (from ``jax.vmap`` or inside ``jax.jit``).

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0),
    ...            {"mu": 0.0}, {"y": np.array([0.5, 1.5])})
    >>> from likelihax.results import as_fit
    >>> as_fit(f) is f
    True
    """
    fit = getattr(obj, "fit", None)
    if likelihood and isinstance(fit, FitResult):
        fit = getattr(obj, "likelihood_fit", fit)
    if not isinstance(fit, FitResult):
        raise TypeError(
            "Expected a likelihax FitResult (from lx.fit) or a model result holding "
            "one in `.fit` (GLMResult, MixedResult, OrdinalFit, MultinomialFit, "
            f"...); got {type(obj).__name__}."
        )
    if not fit.is_single:
        raise ValueError(
            "This is a batched (or traced) result; pick one fit first, e.g. fits[b]."
        )
    return fit
