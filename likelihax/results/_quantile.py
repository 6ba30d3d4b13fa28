r"""Randomized quantile residuals: standard normal (or uniform) under a correctly
specified model, whatever its family.

They read the model's response distribution (:func:`response_of`); the tests
of them are in :mod:`likelihax.diagnostics`, their plot in
:mod:`likelihax.plots`.

Two constructions, chosen by ``method``:

* ``"exact"`` (Dunn & Smyth 1996), for models whose response has a CDF in
  closed form: :math:`u_i = F(y_i^-) + U_i\,(F(y_i) - F(y_i^-))`, :math:`U_i
  \sim U(0, 1)`; for a continuous response :math:`u_i = F(y_i)`, for a
  discrete one the jump at :math:`y_i` is filled at random; censored rows of
  a survival model draw :math:`u_i` on the interval their bounds allow.
* ``"simulation"`` (DHARMa's scaled residuals, Hartig 2022): with
  :math:`S` simulated responses :math:`y_{ij}^*` of row :math:`i`,
  :math:`u_i = \hat F_i(y_i^-) + U_i\,(\hat F_i(y_i) - \hat F_i(y_i^-))`,
  :math:`\hat F_i(y^-) = \#\{j: y_{ij}^* < y\}/S` and
  :math:`\hat F_i(y) = \#\{j: y_{ij}^* \le y\}/S` (the empirical CDF, ties
  randomized). Models without a closed-form CDF (mixed models drawing new
  random effects) use it.

Normal scores are :math:`r_i = \Phi^{-1}(u_i)`, with :math:`u_i` kept in
:math:`[1/(2S), 1 - 1/(2S)]` for simulation residuals (an observation outside
every simulation would otherwise be infinite).

References
----------
Dunn, P. K. & Smyth, G. K. (1996). Randomized quantile residuals. *J. Comput.
Graph. Stat.* 5, 236-244.
Hartig, F. (2022). DHARMa: residual diagnostics for hierarchical regression
models. R package, version 0.4.6.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..core import x64_scope
from ._response import draw_responses, response_of

__all__ = ["QuantileResiduals", "observed_response", "quantile_residuals"]

_METHODS = ("auto", "exact", "simulation")


class QuantileResiduals(NamedTuple):
    """Randomized quantile residuals of a fit.

    Attributes
    ----------
    residuals : ndarray
        Normal scores :math:`\\Phi^{-1}(u_i)`.
    uniform : ndarray
        :math:`u_i`, uniform on (0, 1) under the model.
    fitted : ndarray
        Fitted means (the x axis of a residual-vs-fitted plot).
    observed : ndarray
        The observed responses.
    method : str
        ``"exact"`` or ``"simulation"``.
    simulated : ndarray or None
        The simulations, ``(n_sims, n_obs)``, of a ``"simulation"`` residual.
    """

    residuals: np.ndarray
    uniform: np.ndarray
    fitted: np.ndarray
    observed: np.ndarray
    method: str
    simulated: np.ndarray | None = None


def observed_response(resp, observed):
    """The observed responses of ``resp``'s rows, or ``observed`` where given.

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> from likelihax.results import observed_response, response_of
    >>> r = lx.glm(np.array([0, 2, 1, 4]), np.ones((4, 1)), family="poisson")
    >>> observed_response(response_of(r), None).tolist()
    [0.0, 2.0, 1.0, 4.0]
    """
    y = resp.y if observed is None else np.asarray(observed, dtype=np.float64)
    if y is None:
        raise ValueError(
            "observed= is needed: the model does not record its response "
            "(a custom lx.fit with sampler=): pass the observed responses."
        )
    return np.asarray(y, dtype=np.float64).reshape(-1)


def _uniforms(uniforms, n, seed):
    if uniforms is None:
        return np.random.default_rng(seed).random(n)
    u = np.asarray(uniforms, dtype=np.float64).reshape(-1)
    if u.shape != (n,) or np.any((u < 0) | (u > 1)):
        raise ValueError(f"uniforms must be {n} numbers in [0, 1]; got shape {u.shape}.")
    return u


def quantile_residuals(
    result: Any,
    *,
    method: str = "auto",
    n_sims: int = 250,
    seed: int = 0,
    conditional: bool | None = None,
    sampler: Any = None,
    observed: Any = None,
    uniforms: Any = None,
) -> QuantileResiduals:
    r"""Randomized quantile residuals (Dunn-Smyth, or DHARMa's simulated ones).

    Parameters
    ----------
    result : model result or FitResult
    method : {"auto", "exact", "simulation"}
        ``"auto"``: ``"exact"`` where the model's response has a closed-form
        CDF (GLMs, counts with extra zeros, beta, survival, ordinal, mixtures,
        mixed models with ``conditional=True``), else ``"simulation"``.
    n_sims : int
        Simulations for ``"simulation"`` (DHARMa's default 250).
    seed : int
        Seed of the simulations and of the randomization.
    conditional : bool, optional
        Mixed models: residuals given the estimated random effects (True) or
        over new random effects (False, the default; simulation).
    sampler : callable, optional
        ``sampler(key, params, data) -> y`` for a custom :func:`likelihax.fit`
        (then ``observed=`` too; always ``"simulation"``).
    observed : array, optional
        The observed responses, where the result does not hold them.
    uniforms : array, optional
        The randomization :math:`U_i` (default drawn from ``seed``).

    Returns
    -------
    QuantileResiduals
        One residual per row; for a multivariate response (the points of a
        Gaussian mixture, the item codes of a latent class model) one per
        coordinate, flattened row by row, each against its marginal law.

    Raises
    ------
    ValueError
        ``method="exact"`` for a model without a closed-form CDF, an unordered
        categorical response, or bad options.

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> y = rng.poisson(np.exp(0.5 + 0.5 * x))
    >>> r = lx.glm(y, np.column_stack([np.ones(400), x]), family="poisson")
    >>> res = lx.quantile_residuals(r)
    >>> res.method, res.residuals.shape
    ('exact', (400,))
    >>> lx.uniformity_test(res).pvalue > 0.05
    True
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}.")
    if isinstance(n_sims, bool) or not isinstance(n_sims, (int, np.integer)) or n_sims < 2:
        raise ValueError(f"n_sims must be an integer of at least 2; got {n_sims!r}.")
    resp = response_of(result, None, conditional, sampler)
    if getattr(result, "model_info", None) is not None and (
        result.model_info.kind == "multinomial"
    ):
        raise ValueError(
            "A multinomial (unordered) response has no quantile residuals: its "
            "categories have no order. Use an ordinal model if they have one."
        )
    y = observed_response(resp, observed)
    if method == "exact" and resp.cdf is None:
        raise ValueError(
            "method='exact' needs a closed-form CDF, which this model's response "
            "does not have (mixed models over new random effects, custom samplers): "
            "use method='simulation'."
        )
    from scipy import stats  # (here: importing likelihax does not import SciPy)

    use_exact = method == "exact" or (method == "auto" and resp.cdf is not None)
    U = _uniforms(uniforms, y.size, seed)
    sims = None
    if use_exact:
        with x64_scope():
            lo, hi = jax.jit(resp.cdf)(resp.params, resp.data, jnp.asarray(y))
            lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        u = lo + U * (hi - lo)
        r = stats.norm.ppf(np.clip(u, 1e-16, 1 - 1e-16))
    else:
        sims = draw_responses(resp, int(n_sims), seed).reshape(int(n_sims), -1)
        lo = np.mean(sims < y[None, :], axis=0)
        hi = np.mean(sims <= y[None, :], axis=0)
        u = np.where(hi > lo, lo + U * (hi - lo), lo)
        eps = 0.5 / n_sims
        r = stats.norm.ppf(np.clip(u, eps, 1.0 - eps))
    fitted = (np.full(y.shape, np.nan) if resp.fitted is None
              else np.asarray(resp.fitted, dtype=np.float64))  # fmt: skip
    return QuantileResiduals(r, u, fitted, y, "exact" if use_exact else "simulation", sims)
