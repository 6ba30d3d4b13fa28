r"""The response distribution of a fitted model, and new responses drawn from it.

A model says how to draw its response at the fitted parameters through a
:class:`Response` record, built by a function registered for its
``model_info.kind`` (:func:`register_response`; the model modules register
theirs). :func:`simulate` draws ``n`` response vectors at once: one
``jax.vmap`` over ``n`` keys split from one seed, compiled once. Quantile
residuals read the same record: its ``cdf`` where the model has one in closed
form, its simulations otherwise.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import functools

import jax
import numpy as np

from ..core import x64_scope
from ._model_result import as_fit
from ._result import FitResult

__all__ = ["Response", "draw_responses", "register_response", "response_of", "simulate"]


class Response(NamedTuple):
    r"""A model's response distribution at its estimates.

    Attributes
    ----------
    sample : callable
        ``sample(key, params, data) -> y``: one response per row (JAX,
        traceable: :func:`simulate` maps it over keys).
    params, data : pytree
        Its arguments: the fitted quantities (means, dispersions, ...) and the
        rows' data.
    y : ndarray or None
        The observed response of the rows (None for new rows).
    fitted : ndarray
        The fitted mean of each row (the x axis of residual plots).
    cdf : callable or None
        ``cdf(params, data, y) -> (lower, upper)``, :math:`P(Y < y)` and
        :math:`P(Y \le y)` per row (equal for a continuous response); None
        when there is no closed form.
    discrete : bool
        Integer-valued response (counts, classes, binomial successes).
    """

    sample: Callable
    params: Any
    data: Any
    y: Any
    fitted: Any
    cdf: Callable | None = None
    discrete: bool = False


_BUILDERS: dict[str, Callable] = {}


def register_response(kind: str, builder: Callable, *, model_result: bool = True) -> None:
    """Register ``builder(result, newdata, conditional) -> Response`` for
    results whose ``model_info.kind`` is ``kind``.

    ``model_result``: the builder reads the model's result (a
    :class:`ModelResult` such as a ``GLMResult``), not the engine's fit it
    holds; :func:`response_of` then says so when given the bare fit.

    Examples
    --------
    >>> from likelihax.results import register_response
    >>> register_response("doc-example", lambda r, newdata, conditional: None)
    """
    _BUILDERS[kind] = (builder, model_result)


def _custom(fit, newdata, sampler):
    params = fit.params
    data = fit.setup.data if newdata is None else newdata
    if data is None:
        raise ValueError(
            "sampler= needs the rows' data: the fit holds none, pass newdata=."
        )
    return Response(sampler, params, data, None, None)


def response_of(result, newdata=None, conditional=None, sampler=None) -> Response:
    """The :class:`Response` of a fitted model.

    Parameters
    ----------
    result : model result or FitResult
    newdata : optional
        New rows, in the form the model's ``predict`` takes.
    conditional : bool or None
        Mixed models: draw given the estimated random effects (True) or with
        new random effects (False, the default); other models take None.
    sampler : callable, optional
        ``sampler(key, params, data) -> y`` for a fit of a custom
        log-likelihood (:func:`likelihax.fit`), with the fit's natural
        parameters and its data (or ``newdata``).

    Returns
    -------
    Response

    Raises
    ------
    ValueError
        The model has no registered response distribution and no ``sampler``.

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> from likelihax.results import response_of
    >>> r = lx.glm(np.array([0, 2, 1, 4]), np.ones((4, 1)), family="poisson")
    >>> resp = response_of(r)
    >>> resp.fitted.round(4).tolist(), resp.discrete
    ([1.75, 1.75, 1.75, 1.75], True)
    """
    fit = as_fit(result)
    if sampler is not None:
        if not callable(sampler):
            raise TypeError(
                f"sampler must be a function (key, params, data) -> y; got "
                f"{type(sampler).__name__}."
            )
        return _custom(fit, newdata, sampler)
    kind = fit.model_info.kind
    builder, model_result = _BUILDERS.get(kind, (None, False))
    if builder is None:
        raise ValueError(
            f"No response distribution is known for a {kind!r} result: pass "
            "sampler=(key, params, data) -> y, a JAX function drawing one response "
            "per row at the parameters."
        )
    if model_result and isinstance(result, FitResult):
        raise ValueError(
            f"This is the engine's fit of a {kind!r} model: simulate from the model's "
            "result (the object the model function returned, e.g. lx.glm(...)), "
            "which knows its response distribution, not from its .fit."
        )
    if conditional is not None and kind != "mixed":
        raise ValueError(
            f"conditional= applies to mixed models (random effects); this is a "
            f"{kind!r} result."
        )
    with x64_scope():
        return builder(result, newdata, conditional)


def _keys(seed, n):
    if isinstance(seed, (int, np.integer)):
        return jax.random.split(jax.random.key(int(seed)), n)
    return jax.random.split(seed, n)


@functools.partial(jax.jit, static_argnums=0)
def _draw_many(sample, keys, params, data):
    # params and data are arguments (not constants baked into the program), so
    # refits of the same shapes compile to the same program (persistent cache)
    return jax.vmap(lambda k: sample(k, params, data))(keys)


def draw_responses(resp: Response, n: int, seed=0) -> np.ndarray:
    """``n`` draws of ``resp``'s response, ``(n, n_obs)``, in one vmap.

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> from likelihax.results import draw_responses, response_of
    >>> r = lx.glm(np.array([0, 2, 1, 4]), np.ones((4, 1)), family="poisson")
    >>> draw_responses(response_of(r), 5, seed=0).shape
    (5, 4)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer (simulations); got {n!r}.")
    with x64_scope():
        keys = _keys(seed, int(n))
        out = np.asarray(_draw_many(resp.sample, keys, resp.params, resp.data),
                         dtype=np.float64)  # fmt: skip
    # (a multivariate response, Gaussian-mixture points or item codes: (rows, d),
    # shaped as the observed responses)
    multi = out.ndim == 3 and resp.y is not None and np.shape(resp.y) == out.shape[1:]
    if out.ndim != 2 and not multi:
        raise ValueError(
            "The sampler must return one response per row (a 1-D array); it "
            f"returned shape {out.shape[1:]}."
        )
    return out


def simulate(result, n: int = 1, seed=0, newdata=None, *, conditional=None,
             sampler=None) -> np.ndarray:  # fmt: skip
    r"""New responses from a fitted model, ``(n, n_obs)``.

    Each row is one data set drawn from the model's response distribution at
    the estimates (R's ``simulate``): GLMs of every family, count models with
    extra zeros, beta, dispersion, survival, ordinal and multinomial models,
    mixed models and mixtures. All ``n`` draws are one ``jax.vmap`` over keys
    split from ``seed``, so the same seed gives the same draws.

    Parameters
    ----------
    result : model result or FitResult
    n : int
        Number of simulated data sets.
    seed : int or jax.random key
    newdata : optional
        New rows (the form the model's ``predict`` takes); default the fitted rows.
    conditional : bool, optional
        Mixed models only: ``True`` draws given the estimated random effects
        (lme4's ``re.form = NULL``); ``False`` (default) draws new random
        effects from their fitted distribution (``re.form = NA``, DHARMa's
        default).
    sampler : callable, optional
        For a custom :func:`likelihax.fit`: ``sampler(key, params, data) -> y``
        (JAX), called with the fit's natural parameters and data.

    Returns
    -------
    ndarray, shape (n, n_obs)
        Responses on the scale of the fitted response (a proportion for a
        binomial GLM with trials; class indices 0..K-1 for categorical
        models); ``(n, n_obs, d)`` for a multivariate response (the points of
        a Gaussian mixture, the item codes of a latent class model).

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> y = np.array([0.0, 2, 1, 4, 3, 1])
    >>> r = lx.glm(y, np.ones((6, 1)), family="poisson")
    >>> sims = lx.simulate(r, n=4000, seed=1)
    >>> sims.shape, bool(abs(sims.mean() - y.mean()) < 0.05)
    ((4000, 6), True)

    A custom log-likelihood with its own sampler:

    >>> import jax, jax.scipy.stats as st
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0), {"mu": 0.0},
    ...            {"y": y})
    >>> draw = lambda key, p, d: p["mu"] + jax.random.normal(key, d["y"].shape)
    >>> lx.simulate(f, n=3, sampler=draw).shape
    (3, 6)
    """
    return draw_responses(response_of(result, newdata, conditional, sampler), n, seed)
