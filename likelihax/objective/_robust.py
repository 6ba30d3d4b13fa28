r"""Robust covariance kinds beyond HC0/HC1: leverage (HC2, HC3) and serial correlation.

The formulas and the table of equivalent R, Stata and statsmodels options are
in :mod:`likelihax.objective._covariance`; this module computes them on the
unconstrained scale, as ``compute(problem, u, Hinv, weight_type, clusters,
options)`` entries of its registry.

Leverage
--------
The hat value of row :math:`i` is that of the working-weight regression of
the model's expected information (``Model(..., fisher=)``, which every GLM
has): with linear predictors :math:`\eta_i`, :math:`J_i = \partial\eta_i /
\partial u` and :math:`c_i` the information of :math:`\ell_i` with respect to
:math:`\eta_i`,

.. math:: h_i = w_i \operatorname{tr}\big(c_i\, J_i\, \mathcal I^{-1} J_i^\top\big),
   \qquad \mathcal I = \textstyle\sum_j w_j J_j^\top c_j J_j,

so :math:`\sum_i h_i = k` (with importance weights; with frequency weights
the factor :math:`w_i` is left out, the leverage of one copy of the row, so
that HC2/HC3 equal those of the data with duplicated rows). For a GLM this is
:math:`w_i c_i x_i^\top (X^\top W X)^{-1} x_i`, R's ``hatvalues(glm)``, and for
a linear model the diagonal of :math:`X (X^\top X)^{-1} X^\top`. A model
with several linear predictors sums over them (NB2's dispersion counts as
one; R's ``vcovHC`` of a ``glm.nb`` treats it as known instead). A model
without ``fisher=`` has no such regression and gets an error naming the kind.

Serial correlation
------------------
With :math:`S_t` the weighted score of period :math:`t` (one row per period
for ``"hac"``, the sum over the rows of a period for ``"driscoll-kraay"``),
in time order, the meat is Bartlett-weighted,

.. math:: B = \Gamma_0 + \textstyle\sum_{l=1}^{L} \big(1 - \tfrac{l}{L+1}\big)
   (\Gamma_l + \Gamma_l^\top), \qquad \Gamma_l = \sum_{t > l} S_t S_{t-l}^\top,

with :math:`L` the largest lag (``maxlags``), by default
:math:`\lfloor 4 (T/100)^{2/9} \rfloor` for :math:`T` periods, or chosen
from the data by Newey and West (1994)'s rule (``maxlags="nw1994"``,
:func:`newey_west_lag`).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from ..optimize import factor_inverse, scaled_factor
from ._structured import jacfwd

__all__ = [
    "CovOptions",
    "bartlett_meat",
    "default_maxlags",
    "hac",
    "hc2",
    "hc3",
    "leverage",
    "meat_weights",
    "driscoll_kraay",
    "newey_west_lag",
    "serial_scores",
]


def meat_weights(n, dtype, w, mask, weight_type):
    """``(v, n_eff)``: per-row factors of the meat (``w``, ``w**2`` or 1; 0
    for masked rows and rows without weight) and the block's effective count
    (see :meth:`likelihax.objective._problem.Problem.meat`)."""
    m = jnp.ones((n,), dtype) if mask is None else (mask > 0)
    if w is None:
        vv = m.astype(dtype)
        return vv, jnp.sum(vv)
    keep = (w > 0) & (m > 0)
    vv = jnp.where(keep, w if weight_type == "frequency" else w * w, 0.0)
    if weight_type == "frequency":
        return vv, jnp.sum(jnp.where(keep, w, 0.0))
    return vv, jnp.sum(keep).astype(dtype)


@dataclasses.dataclass(frozen=True)
class CovOptions:
    """Static options of the serial-correlation kinds (hashable: part of a program).

    ``maxlags``: the largest lag :math:`L` (None: the rule of
    :func:`default_maxlags`); ``correction``: False, True (times
    :math:`n/(n-k)`) or ``"cluster"`` (times :math:`\frac{T}{T-1}
    \frac{n-1}{n-k}`, :math:`T` periods).
    """

    maxlags: int | None = None
    correction: bool | str = False


def default_maxlags(n_periods: int) -> int:
    r"""The fixed bandwidth rule :math:`\lfloor 4 (T/100)^{2/9} \rfloor`.

    Newey and West (1994)'s rule of thumb for the Bartlett kernel, the default
    of statsmodels' ``cov_hac``/``cov_nw_groupsum`` when no ``nlags`` is given.

    Examples
    --------
    >>> from likelihax.objective._robust import default_maxlags
    >>> default_maxlags(202), default_maxlags(100), default_maxlags(20)
    (4, 4, 2)
    """
    return int(math.floor(4.0 * (n_periods / 100.0) ** (2.0 / 9.0)))


def _scores_2d(problem, u, kind):
    scores = problem.scores(u)
    if scores.ndim != 2:
        raise ValueError(
            f"cov={kind!r} needs one log-likelihood value per observation, but the "
            "log-likelihood returns a scalar. Return the per-observation terms "
            "(drop the final sum) or use cov='oim'."
        )
    return scores


def _inverse(A):
    f = scaled_factor(A)
    return factor_inverse(f)


def _symmetric_sandwich(Hinv, B):
    cov = Hinv @ B @ Hinv
    return 0.5 * (cov + cov.T)


def leverage(problem, u, kind="hc3", weight_type="frequency"):
    r"""``(n,)`` hat values of the working-weight regression (module notes).

    With frequency weights, :math:`h_i` is the leverage of one copy of row
    :math:`i` (without the factor :math:`w_i`), so that HC2/HC3 equal those of
    the data with duplicated rows; with importance weights it includes
    :math:`w_i`, as R's ``hatvalues`` of a ``glm`` with prior weights and
    statsmodels' ``WLS``.

    Raises ``ValueError`` naming ``kind`` when the model gives no expected
    information through linear predictors (``Model(..., fisher=)``).
    """
    if problem.fisher is None:
        raise ValueError(
            f"cov={kind!r} needs leverages (hat values), which are defined through "
            "the model's linear predictors: build the model with "
            "lx.Model(loglik, params, fisher=fn) (every lx.glm model has one), or "
            "use cov='hc1' or cov='sandwich', which need no leverage."
        )
    fixed, data = problem.fixed_leaves, problem.data

    def eta_fn(v):
        return problem.fisher(problem.spec.to_natural(problem.pinned(v), fixed), data)[0]

    eta, c = problem.fisher(problem.params(u), data)
    J = jacfwd(eta_fn)(u)  # (n, k) or (n, m, k)
    Iinv = _inverse(problem.value_grad_fisher(u)[2])
    if eta.ndim == 1:
        h = c * jnp.einsum("nk,kl,nl->n", J, Iinv, J)
    else:
        h = jnp.einsum("nak,kl,nbl,nab->n", J, Iinv, J, c)
    w = problem.weights
    if w is None:
        return h
    return jnp.where(w > 0, w * h if weight_type == "importance" else h, 0.0)


def _meat_factors(problem, weight_type, dtype, n):
    """Per-row :math:`v_i` of the meat (1, :math:`w_i`, or :math:`w_i^2`)."""
    w = problem.weights
    if w is None:
        return jnp.ones(n, dtype)
    return jnp.where(w > 0, w if weight_type == "frequency" else w * w, 0.0)


def _hc_leverage(problem, u, Hinv, weight_type, power, kind):
    scores = _scores_2d(problem, u, kind)
    h = leverage(problem, u, kind, weight_type)
    v = _meat_factors(problem, weight_type, scores.dtype, scores.shape[0])
    a = jnp.where(v > 0, v / (1.0 - h) ** power, 0.0)
    s = jnp.where((v > 0)[:, None], scores, 0.0)
    return _symmetric_sandwich(Hinv, (s * a[:, None]).T @ s)


def hc2(problem, u, Hinv, weight_type, clusters=(), options=None):
    r"""HC2: scores scaled by :math:`(1-h_i)^{-1/2}`."""
    return _hc_leverage(problem, u, Hinv, weight_type, 1.0, "hc2")


def hc3(problem, u, Hinv, weight_type, clusters=(), options=None):
    r"""HC3: scores scaled by :math:`(1-h_i)^{-1}`."""
    return _hc_leverage(problem, u, Hinv, weight_type, 2.0, "hc3")


def bartlett_meat(S, maxlags: int):
    r"""Bartlett-weighted sum of autocovariances of the rows of ``S`` (module notes)."""
    T = S.shape[0]
    L = int(maxlags)
    rows = jnp.arange(T)

    def body(lag, B):
        shifted = jnp.where((rows >= lag)[:, None], jnp.roll(S, lag, axis=0), 0.0)
        G = shifted.T @ S  # (k, k): sum over t of S_{t-lag} S_t'
        wl = 1.0 - lag / (L + 1.0)
        return B + wl * (G + G.T)

    # (Lags beyond T - 1 have no pairs of periods.)
    return jax.lax.fori_loop(1, min(L, T - 1) + 1, body, S.T @ S)


def _weighted_scores(problem, u, kind):
    scores = _scores_2d(problem, u, kind)
    w = problem.weights
    if w is None:
        return scores
    return jnp.where(w[:, None] > 0, w[:, None] * scores, 0.0)


def _effective_n(problem, n_rows, weight_type, dtype):
    w = problem.weights
    if w is None:
        return jnp.asarray(n_rows, dtype)
    if weight_type == "frequency":
        return jnp.sum(jnp.where(w > 0, w, 0.0))
    return jnp.sum(w > 0).astype(dtype)


def _serial(problem, u, Hinv, weight_type, S, options, n_rows):
    opts = options if options is not None else CovOptions()
    L = default_maxlags(S.shape[0]) if opts.maxlags is None else opts.maxlags
    cov = _symmetric_sandwich(Hinv, bartlett_meat(S, L))
    if opts.correction:
        n = _effective_n(problem, n_rows, weight_type, S.dtype)
        k = u.shape[0]
        if opts.correction == "cluster":
            T = S.shape[0]
            return cov * T / (T - 1.0) * (n - 1.0) / (n - k)
        cov = cov * n / (n - k)
    return cov


def serial_scores(problem, u, clusters=()):
    r"""``(T, k)`` scores :math:`S_t` of the periods in time order (module notes).

    The weighted scores of the rows, or with ``clusters = ((codes, T, ...),)``
    their sums over the rows of each period.
    """
    kind = "driscoll-kraay" if clusters else "hac"
    ws = _weighted_scores(problem, u, kind)
    if not clusters:
        return ws
    codes, n_periods = clusters[0][0], clusters[0][1]
    return jax.ops.segment_sum(ws, codes, num_segments=n_periods)


def hac(problem, u, Hinv, weight_type, clusters=(), options=None):
    r"""Newey-West: Bartlett kernel over the rows in their order (module notes)."""
    S = serial_scores(problem, u)
    return _serial(problem, u, Hinv, weight_type, S, options, S.shape[0])


def driscoll_kraay(problem, u, Hinv, weight_type, clusters=(), options=None):
    r"""Driscoll-Kraay: Newey-West over the period sums of the scores.

    ``clusters`` holds one entry, ``(codes, n_periods, ...)``: the period of
    each row as an integer in time order.
    """
    S = serial_scores(problem, u, clusters)
    return _serial(problem, u, Hinv, weight_type, S, options, clusters[0][0].shape[0])


def newey_west_lag(S, weights=None) -> int:
    r"""Newey and West (1994)'s automatic lag for the Bartlett kernel.

    With :math:`h_t = S_t^\top w` (``weights``: 1 per parameter by default),
    :math:`\hat\sigma_j = \frac1T \sum_{t>j} h_t h_{t-j}` for
    :math:`j \le m = \lfloor 4 (T/100)^{2/9} \rfloor`,
    :math:`s_0 = \hat\sigma_0 + 2\sum_{j\ge1} \hat\sigma_j` and
    :math:`s_1 = 2\sum_{j\ge1} j\,\hat\sigma_j`, the bandwidth is
    :math:`1.1447\,(s_1/s_0)^{2/3}\,T^{1/3}` and the lag its integer part:
    R's ``floor(sandwich::bwNeweyWest(x, prewhite = 0))``, the lag of
    ``NeweyWest(x, prewhite = FALSE)`` (R gives the intercept weight 0).

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.objective._robust import newey_west_lag
    >>> e = np.random.default_rng(0).normal(size=(400, 1))
    >>> S = np.cumsum(e, axis=0) * 0.1 + e  # positively autocorrelated
    >>> newey_west_lag(S) > newey_west_lag(e)
    True
    """
    S = np.asarray(S, dtype=float)
    T = S.shape[0]
    w = np.ones(S.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    hw = S @ w
    m = default_maxlags(T)
    sigma = np.array([hw[: T - j] @ hw[j:] / T for j in range(m + 1)])
    s0 = sigma[0] + 2.0 * sigma[1:].sum()
    s1 = 2.0 * np.sum(np.arange(1, m + 1) * sigma[1:])
    bw = 1.1447 * ((s1 / s0) ** 2) ** (1.0 / 3.0) * T ** (1.0 / 3.0)
    if not np.isfinite(bw):
        raise ValueError(
            "maxlags='nw1994': the automatic lag is not finite (the weighted "
            "scores have no variance); give maxlags= as a number."
        )
    return int(np.floor(bw))
