r"""MCMC convergence diagnostics: split R-hat and bulk effective sample size.

Both take draws of one scalar quantity as an array ``(chains, draws)`` (or
``(chains, draws, k)`` for ``k`` quantities at once) and run on the host in
NumPy.

- Split :math:`\hat R` (Gelman et al., BDA3, sec. 11.4): each chain is cut in
  two halves; with :math:`W` the mean within-half variance and :math:`B/n`
  the variance of the half means,
  :math:`\hat R = \sqrt{((n-1)W/n + B/n)/W}`. Values above 1.01 say the
  chains have not mixed.
- Bulk ESS (Vehtari, Gelman, Simpson, Carpenter and Bürkner 2021, Bayesian
  Analysis 16(2)): the draws are rank-normalized
  (:math:`z = \Phi^{-1}((r - 3/8)/(S + 1/4))`), split, and the ESS is
  :math:`MN/\hat\tau` with :math:`\hat\tau = -1 + 2\sum_t \hat P_t` from the
  autocorrelations (FFT) combined across chains, summed in pairs by Geyer's
  initial monotone sequence, as in Stan.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ess_bulk", "split_rhat"]


def _as_chains(x, what: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim not in (2, 3):
        raise ValueError(
            f"{what} needs draws shaped (chains, draws) or (chains, draws, k); "
            f"got shape {a.shape}."
        )
    if a.shape[1] < 4:
        raise ValueError(f"{what} needs at least 4 draws per chain; got {a.shape[1]}.")
    return a if a.ndim == 3 else a[..., None]


def _per_quantity(x, what: str, stat) -> np.ndarray:
    """``stat`` of the draws ``x`` as (chains, draws, k), one value per quantity:
    a 0-d array for 2-d ``x``."""
    out = stat(_as_chains(x, what))
    return out[0] if np.ndim(x) == 2 else out


def _split(a: np.ndarray) -> np.ndarray:
    """(chains, draws, k) -> (2 chains, draws // 2, k); an odd last draw is dropped."""
    h = a.shape[1] // 2
    return np.concatenate([a[:, :h], a[:, a.shape[1] - h :]], axis=0)


def _rhat(a: np.ndarray) -> np.ndarray:
    n = a.shape[1]
    w = a.var(axis=1, ddof=1).mean(axis=0)
    b_over_n = a.mean(axis=1).var(axis=0, ddof=1)
    var_plus = (n - 1) / n * w + b_over_n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(var_plus / w)


def split_rhat(x) -> np.ndarray:
    r"""Split :math:`\hat R` of each quantity.

    Parameters
    ----------
    x : array (chains, draws) or (chains, draws, k)

    Returns
    -------
    ndarray
        Scalar (as a 0-d array) for 2-d input, else shape ``(k,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.bayes import split_rhat
    >>> x = np.random.default_rng(0).normal(size=(4, 1000))
    >>> bool(abs(float(split_rhat(x)) - 1) < 0.01)
    True
    >>> bool(split_rhat(x + np.arange(4)[:, None]) > 1.5)  # chains disagree
    True
    """
    return _per_quantity(x, "split_rhat", lambda a: _rhat(_split(a)))


def _rank_normalize(a: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri
    from scipy.stats import rankdata

    c, d, k = a.shape
    flat = a.reshape(c * d, k)
    r = rankdata(flat, axis=0, method="average")
    return ndtri((r - 0.375) / (c * d + 0.25)).reshape(c, d, k)


def _autocov(a: np.ndarray) -> np.ndarray:
    """Biased autocovariance along axis 1 (FFT), per chain and quantity."""
    n = a.shape[1]
    x = a - a.mean(axis=1, keepdims=True)
    m = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(x, n=m, axis=1)
    return np.fft.irfft(f * np.conj(f), n=m, axis=1)[:, :n] / n


def _ess(a: np.ndarray) -> np.ndarray:
    """ESS of (chains, draws, k) draws (Stan's algorithm, Geyer pairs)."""
    m, n, k = a.shape
    acov = _autocov(a)
    chain_var = acov[:, 0] * n / (n - 1)
    mean_var = chain_var.mean(axis=0)
    var_plus = mean_var * (n - 1) / n
    if m > 1:
        var_plus = var_plus + a.mean(axis=1).var(axis=0, ddof=1)
    out = np.empty(k)
    for j in range(k):
        if not (var_plus[j] > 0):
            out[j] = 0.0 if np.all(np.isfinite(a[..., j])) else math.nan
            continue
        rho = 1.0 - (mean_var[j] - acov[:, :, j].mean(axis=0)) / var_plus[j]
        rho[0] = 1.0
        # Geyer's initial positive sequence of pair sums, made monotone.
        pairs = rho[: 2 * (n // 2)].reshape(-1, 2).sum(axis=1)
        stop = np.flatnonzero(pairs <= 0)
        pairs = pairs[: stop[0] if stop.size else pairs.size]
        pairs = np.minimum.accumulate(pairs)
        tau = -1.0 + 2.0 * pairs.sum()
        out[j] = m * n / max(tau, 1.0 / math.log10(m * n))
    return out


def ess_bulk(x) -> np.ndarray:
    """Bulk effective sample size of each quantity (rank-normalized split chains).

    Parameters
    ----------
    x : array (chains, draws) or (chains, draws, k)
        As for :func:`split_rhat`.

    Returns
    -------
    ndarray
        One ESS per quantity, shaped as :func:`split_rhat`'s result.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.bayes import ess_bulk
    >>> x = np.random.default_rng(0).normal(size=(4, 500))   # independent draws
    >>> bool(1600 < float(ess_bulk(x)) < 2400)
    True
    """
    return _per_quantity(x, "ess_bulk", lambda a: _ess(_split(_rank_normalize(a))))
