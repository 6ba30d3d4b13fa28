r"""The prediction protocol: a JAX function of the parameters and the data of new rows.

Every prediction, marginal effect and contrast (:func:`likelihax.predict`,
:func:`likelihax.slopes`, :func:`likelihax.comparisons`) is computed from one
:class:`Predictor`:

* ``fn(params, data)``, a JAX function of the natural-scale parameter pytree
  and a pytree of per-row arrays, returning one value per row ``(m,)`` or one
  per row and class ``(m, k)``;
* ``build(frame)``, which turns the rows a user gives (a DataFrame of the
  model's covariates, or a dict of arrays) into that data pytree (for a
  formula model: the model matrix, offsets, random-effect codes).

A model result takes part by a method ``predictor(which=None)`` returning a
:class:`Predictor` for one of its natural quantities (mean, linear predictor,
per-class probability, zero probability, population-level mean, ...); the
functions above call it, so adding a model needs no change here. A plain
:func:`likelihax.fit` result predicts any ``fn(params, data)`` the user writes
(:func:`fn_predictor`), with the fit's data as the default rows. A model whose
result is the engine's :class:`~likelihax.FitResult` itself (the
class-imbalance fits) registers its predictor for its ``model_info.kind``
(:func:`register_predictor`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..results import as_fit

__all__ = ["Predictor", "fn_predictor", "predictor_of", "register_predictor"]


@dataclasses.dataclass(frozen=True)
class Predictor:
    """How a result predicts: ``fn(params, build(frame))`` over rows ``frame``.

    Attributes
    ----------
    fit : FitResult
        The engine's fit whose estimates and covariance are used.
    fn : callable
        ``fn(params, data) -> (m,) or (m, k)``, a JAX function.
    build : callable
        ``build(frame) -> data``: the data pytree of the rows ``frame``.
    frame : DataFrame or dict or None
        The fitted rows (their covariates), used when no new rows are given.
    as_frame : callable
        Turns a user's ``newdata`` (DataFrame, dict, or array for array fits)
        into a frame ``build`` accepts.
    which : str
        The quantity predicted (``"response"``, ``"link"``, ``"prob"``, ...).
    classes : tuple or None
        Labels of the second axis of ``fn``'s value (per-class predictions).
    variables : tuple
        Covariates whose effects :func:`likelihax.slopes` reports by default.
    traced : bool
        True when ``build`` is itself a JAX function of the frame's arrays (then
        slopes differentiate through it directly).
    factors : tuple
        Numeric covariates the model treats as categorical (``C(x)``): their
        effects are contrasts between levels.
    link : tuple or None
        ``(which, inverse)`` when the prediction is an inverse link of another
        of the model's predictions (a GLM's mean of its linear predictor), for
        intervals made on that scale (``ci_scale="link"``).
    design_slope : callable or None
        ``design_slope(frame, v)``: the derivative of ``build(frame)``'s
        leaves with respect to covariate ``v``, row by row, where the model
        knows it in closed form (a spline basis), NaN elsewhere (those
        entries are derived by :func:`likelihax.slopes`' linear rule).
    natural_cov : ndarray or None
        The model's own covariance convention over every natural-scale element
        (``fit.spec.labels``), used when the user gives no ``cov``; None: the
        fit's (e.g. a linear mixed model's fixed effects given the variance
        parameters, as lme4's ``vcov``).

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> from likelihax.inference import fn_predictor
    >>> d = {"x": np.array([0.0, 1.0, 2.0]), "y": np.array([0.1, 1.2, 1.9])}
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["b"] * d["x"], 1.0),
    ...            {"b": 0.0}, d)
    >>> pr = fn_predictor(f, lambda p, d: p["b"] * d["x"])
    >>> pr.which, sorted(pr.frame)
    ('fn', ['x', 'y'])
    """

    fit: Any
    fn: Callable
    build: Callable
    frame: Any
    as_frame: Callable
    which: str = "response"
    classes: tuple | None = None
    variables: tuple = ()
    traced: bool = False
    factors: tuple = ()
    natural_cov: Any = None
    link: Any = None
    design_slope: Callable | None = None

    def rows(self, newdata):
        """The frame of ``newdata`` (the fitted rows when None)."""
        if newdata is None:
            if self.frame is None:
                raise ValueError(
                    "This result keeps no covariates of its fitted rows: pass newdata."
                )
            return self.frame
        return self.as_frame(newdata)


def _dict_frame(newdata) -> dict:
    """A dict of NumPy arrays from a dict or DataFrame (the caller's is not touched)."""
    if hasattr(newdata, "columns") and hasattr(newdata, "to_numpy"):
        return {str(c): newdata[c].to_numpy() for c in newdata.columns}
    if isinstance(newdata, Mapping):
        return {k: (np.asarray(v) if not isinstance(v, Mapping) else _dict_frame(v))
                for k, v in newdata.items()}  # fmt: skip
    raise TypeError(
        "With fn=..., newdata must be the data fn reads: a dict of arrays or a "
        f"DataFrame; got {type(newdata).__name__}."
    )


def fn_predictor(fit, fn: Callable, data: Any = None) -> Predictor:
    """A :class:`Predictor` of ``fn(params, data)`` for any fit.

    Parameters
    ----------
    fit : FitResult or model result
    fn : callable
        JAX function ``fn(params, data)`` of the parameter pytree
        (``fit.params``, natural scale) and a dict of arrays, returning one
        value per row (or ``(m, k)``).
    data : dict or DataFrame, optional
        The default rows; the fit's data when None.

    Returns
    -------
    Predictor

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> from likelihax.inference import fn_predictor
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0),
    ...            {"mu": 0.0}, {"y": np.array([1.0, 3.0])})
    >>> fn_predictor(f, lambda p, d: p["mu"] + 0 * d["y"]).traced
    True
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function fn(params, data); got {type(fn)}.")
    fit = as_fit(fit)
    base = fit.setup.data if data is None else data
    frame = None if base is None else _dict_frame(base)
    return Predictor(fit=fit, fn=fn, build=lambda fr: fr, frame=frame,
                     as_frame=_dict_frame, which="fn", traced=True)  # fmt: skip


_BY_KIND: dict = {}


def register_predictor(kind: str, predictor: Callable) -> None:
    """Register ``predictor(fit, which) -> Predictor`` for results that are a
    :class:`~likelihax.FitResult` whose ``model_info.kind`` is ``kind``.

    Examples
    --------
    >>> from likelihax.inference import register_predictor
    >>> register_predictor("doc-example", lambda fit, which: None)
    """
    _BY_KIND[kind] = predictor


def predictor_of(result, which: str | None = None, fn: Callable | None = None) -> Predictor:
    """The :class:`Predictor` of ``result``: ``fn``'s, or the model's own.

    Parameters
    ----------
    result : FitResult or model result
    which : str, optional
        The model's quantity (its ``predictor(which)``); None for its default.
    fn : callable, optional
        ``fn(params, data)``; then ``which`` must be None.

    Returns
    -------
    Predictor

    Raises
    ------
    TypeError
        No ``fn`` and the result has no ``predictor`` method (a plain fit).

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> from likelihax.inference import predictor_of
    >>> X = np.column_stack([np.ones(5), [1.0, 2, 3, 4, 5]])
    >>> r = lx.glm(np.array([1, 3, 2, 6, 8]), X, family="poisson")
    >>> predictor_of(r).which, predictor_of(r, "link").which
    ('response', 'link')
    """
    if fn is not None:
        if which is not None:
            raise ValueError("Give fn or which, not both: fn defines the prediction.")
        return fn_predictor(result, fn)
    method = getattr(type(result), "predictor", None)
    kind = getattr(getattr(result, "model_info", None), "kind", None)
    if method is None and kind in _BY_KIND:
        return _BY_KIND[kind](result, which)
    if method is None:
        raise TypeError(
            f"{type(result).__name__} has no predictions of its own (no predictor() "
            "method): pass fn=lambda params, data: ..., a JAX function of the "
            "parameters and the data returning one value per row."
        )
    return result.predictor(which)
