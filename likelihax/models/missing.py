r"""Multivariate normal with values missing at random: EM and full-information ML.

Model: :math:`x_i \sim \mathcal N_d(\mu, \Sigma)`, with the entries marked NaN
missing at random (MAR; Rubin, 1976), so the likelihood of the observed
entries alone gives valid inference. With :math:`o_i` the observed coordinates
of row :math:`i`,

.. math::

    \ell(\mu, \Sigma) = \sum_i w_i \log \mathcal N\!\left(x_{i,o_i};\
        \mu_{o_i},\ \Sigma_{o_i o_i}\right).

**Direct FIML** (``method="fiml"``): each term is computed with static shapes
by masking: with :math:`m_i` the 0/1 mask and :math:`M_i = \operatorname{diag}
(m_i)`, :math:`\Sigma^*_i = M_i\Sigma M_i + (I - M_i)` and
:math:`r_i = M_i(x_i - \mu)`, :math:`\log\mathcal N(r_i; 0, \Sigma^*_i)` equals
the observed-coordinate density times :math:`(2\pi)^{-(d-|o_i|)/2}`, which is
added back. The factorization is unrolled (no LAPACK call; see
:mod:`likelihax.optimize._linalg`), so the engine's Hessian is safe from
the known batched-Cholesky hang. The engine's Newton maximizes it and gives the
observed-information standard errors.

**EM** (``method="em"``, default; Dempster, Laird & Rubin, 1977; Little &
Rubin, 2019, sec. 11.2): the E-step replaces missing entries by their
conditional means :math:`\hat x_{i,m} = \mu_m + \Sigma_{mo}\Sigma_{oo}^{-1}
(x_{i,o} - \mu_o)` and adds their conditional covariance
:math:`C_i = \Sigma_{mm} - \Sigma_{mo}\Sigma_{oo}^{-1}\Sigma_{om}`; the M-step is
:math:`\mu = \sum w_i\hat x_i / \sum w_i`,
:math:`\Sigma = \sum w_i[(\hat x_i-\mu)(\hat x_i-\mu)^\top + C_i]/\sum w_i`.
The iterations are run by the library's EM driver
(:mod:`likelihax.models._em_driver`, as for mixtures): the observed-data
log-likelihood is tracked every iteration (a decrease is reported), and
``fit.em.status`` is a :class:`~likelihax.Status`. The EM estimate is then handed to the engine on the FIML
log-likelihood (Newton polish and standard errors), so both methods return the
same kind of :class:`~likelihax.FitResult` at the same optimum.

Rows with no observed value carry no information and are dropped (counted in
the summary header).

References
----------
Rubin, D. B. (1976). Inference and missing data. *Biometrika* 63, 581-592.
Little, R. J. A. & Rubin, D. B. (2019). *Statistical Analysis with Missing
Data*, 3rd ed. Wiley. Anderson, T. W. (1957). Maximum likelihood estimates
for a multivariate normal distribution when some observations are missing.
*JASA* 52, 200-203.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from ..core import Status, x64_scope
from ..engine import check_fit_options
from ..optimize import mvn_logpdf
from ..parameters import Param
from ..parameters import constraints as C
from ._em_driver import em_finish, em_loop, em_record, prepare_weights, warn_em

__all__ = ["mvn_fiml_loglik", "mvn_missing"]

_LOG2PI = float(np.log(2.0 * np.pi))


def mvn_fiml_loglik(params, data):
    """Per-row observed-data normal log-density (FIML), masked with static shapes.

    ``data = {"x": values (missing entries any finite number), "mask": 1.0
    where observed, 0.0 where missing}``; ``params = {"mean", "cov"}``.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.missing import mvn_fiml_loglik
    >>> p = {"mean": np.zeros(2), "cov": np.eye(2)}
    >>> d = {"x": np.array([[0.0, 0.0]]), "mask": np.array([[1.0, 0.0]])}
    >>> round(float(mvn_fiml_loglik(p, d)[0]), 6)  # log N(0; 0, 1)
    -0.918939
    """
    x, m = data["x"], data["mask"]
    mu, S = params["mean"], params["cov"]
    d = x.shape[1]
    star = m[:, :, None] * m[:, None, :] * S[None] + (1.0 - m)[:, :, None] * jnp.eye(d)
    r = m * (x - mu[None])
    return mvn_logpdf(r, 0.0, star) + 0.5 * _LOG2PI * jnp.sum(1.0 - m, axis=1)


def _em_step(mu, S, x, m, w):
    """One EM update (E-step conditional moments, M-step), plain LAPACK (no AD)."""
    d = x.shape[1]
    star = m[:, :, None] * m[:, None, :] * S[None] + (1.0 - m)[:, :, None] * jnp.eye(d)
    r = m * (x - mu[None])
    SM = S[None] * m[:, None, :]  # Sigma M
    sol = jnp.linalg.solve(star, r[..., None])[..., 0]  # Sigma*^-1 r
    xhat = mu[None] + jnp.einsum("nij,nj->ni", SM, sol)
    xhat = jnp.where(m > 0, x, xhat)
    A = jnp.linalg.solve(star, jnp.swapaxes(SM, 1, 2))  # Sigma*^-1 M Sigma
    Cond = (S[None] - SM @ A) * ((1.0 - m)[:, :, None] * (1.0 - m)[:, None, :])
    wsum = jnp.sum(w)
    mu_new = jnp.sum(w[:, None] * xhat, axis=0) / wsum
    dev = xhat - mu_new[None]
    S_new = jnp.einsum("n,ni,nj->ij", w, dev, dev) + jnp.einsum("n,nij->ij", w, Cond)
    S_new = S_new / wsum
    return mu_new, 0.5 * (S_new + S_new.T)


@functools.partial(jax.jit, static_argnames="max_steps")
def _em_run(mu0, S0, x, m, w, tol, max_steps):
    """EM from ``(mu0, S0)`` by the library's EM driver."""

    def estep(theta):
        mu, S = theta
        fiml = mvn_fiml_loglik({"mean": mu, "cov": S}, {"x": x, "mask": m})
        return jnp.sum(w * fiml), None

    def mstep(theta, _):
        return _em_step(*theta, x, m, w), None

    return em_loop(
        estep, mstep, (mu0, S0), total_weight=jnp.sum(w), max_steps=max_steps, tol=tol
    )


def mvn_missing(
    x: Any,
    *,
    method: Literal["em", "fiml"] = "em",
    weights: Any = None,
    max_steps: int = 1000,
    tol: float = 1e-10,
    cov: Literal["oim", "opg", "sandwich"] | None = None,
    warn: bool = True,
):
    r"""Mean and covariance of a multivariate normal with values missing at random.

    Parameters
    ----------
    x : array (n, d)
        Data; NaN marks a missing value (the caller's array is not modified).
    method : {"em", "fiml"}
        EM then the engine's Newton on the FIML log-likelihood (default), or
        the engine's Newton directly (from the available-case means and
        variances). Both give the same optimum and standard errors.
    weights : array (n,), optional
        Frequency weights.
    max_steps, tol : int, float
        EM limits: stop when the mean log-likelihood per row rises by at most
        ``tol``.
    cov : str, optional
        Covariance kind of the estimates (default ``"oim"``: observed
        information, which is valid under MAR; the expected information is not).
    warn : bool
        Warn when EM was not monotone.

    Returns
    -------
    FitResult
        Parameters ``mean`` (d,) and ``cov`` (d, d); ``fit.em`` is the EM
        record (None for ``"fiml"``).

    Raises
    ------
    TypeError
        ``cov``, ``max_steps`` or ``tol`` of the wrong kind (the checks of
        :func:`likelihax.fit`); ``x`` not numeric.
    ValueError
        Infinite values, a column with fewer than 2 observed values, bad
        shapes, an option out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.missing import mvn_missing
    >>> x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 4.0],
    ...               [5.0, np.nan], [0.5, 1.0]])
    >>> fit = mvn_missing(x)
    >>> round(float(fit.params["mean"][0]), 6)  # all of column 0 is observed
    2.583333
    """
    if method not in ("em", "fiml"):
        raise ValueError(f"method must be 'em' or 'fiml'; got {method!r}.")
    check_fit_options(cov=cov, max_steps=max_steps, tol=tol)
    xa, mask, keep = _check(x)
    dropped = int((~keep).sum())
    n, d = xa.shape
    w = prepare_weights(weights, keep.size)
    w = None if w is None else w[keep]
    wj = np.ones(n) if w is None else w
    mu0 = np.array([np.average(xa[mask[:, j] > 0, j], weights=wj[mask[:, j] > 0])
                    for j in range(d)])  # fmt: skip
    var0 = np.array([np.average((xa[mask[:, j] > 0, j] - mu0[j]) ** 2,
                                weights=wj[mask[:, j] > 0]) for j in range(d)])  # fmt: skip
    if np.any(~(var0 > 0)):
        j = int(np.flatnonzero(~(var0 > 0))[0])
        raise ValueError(
            f"Column {j} has no variation among its observed values: its variance "
            "would be estimated as 0 (the likelihood is unbounded). Remove it."
        )
    S0 = np.diag(var0)
    data = {"x": np.where(mask > 0, xa, 0.0), "mask": mask}
    pct = 100.0 * (1.0 - mask.mean())
    header = [("Missing", f"{pct:.1f}% of values (MAR assumed)"),
              ("Patterns", str(len(np.unique(mask, axis=0))))]  # fmt: skip
    if dropped:
        header.append(("Rows dropped", f"{dropped} (no observed value)"))
    info = None
    if method == "em":
        with x64_scope():
            out = _em_run(
                jnp.asarray(mu0), jnp.asarray(S0), jnp.asarray(data["x"]),
                jnp.asarray(mask), jnp.asarray(wj), float(tol),
                max_steps=int(max_steps),
            )  # fmt: skip
            out = jax.tree_util.tree_map(np.asarray, out)
        info = em_record(out)
        if info.status == Status.nonfinite:
            raise ValueError(f"{info.message} (at iteration {info.iterations}).")
        if warn:
            warn_em(info, stacklevel=2)
        mu, S = out["theta"]
        mu0, S0 = mu, 0.5 * (S + S.T)
    params = {
        "mean": Param(np.asarray(mu0)),
        "cov": Param(np.asarray(S0), C.cov_matrix),
    }
    return em_finish(
        mvn_fiml_loglik, params, data, w, info, cov=cov, warn=warn,
        name="Multivariate normal, missing at random", header=header,
        target="the FIML log-likelihood",
    )  # fmt: skip


def _check(x):
    try:
        xa = np.array(x, dtype=np.float64)  # a copy
    except (TypeError, ValueError) as e:
        raise TypeError(f"x must be a numeric array (NaN for missing): {e}") from None
    xa = xa[:, None] if xa.ndim == 1 else xa
    if xa.ndim != 2 or xa.shape[0] == 0 or xa.shape[1] == 0:
        raise ValueError(f"x must be an (n, d) array; got shape {xa.shape}.")
    inf = np.flatnonzero(np.any(np.isinf(xa), axis=1))
    if inf.size:
        raise ValueError(
            f"x has infinite values (first rows {inf[:5].tolist()}); NaN marks a "
            "missing value, infinity is not allowed."
        )
    obs = ~np.isnan(xa)
    few = np.flatnonzero(obs.sum(axis=0) < 2)
    if few.size:
        raise ValueError(
            f"Column(s) {few.tolist()} have fewer than 2 observed values: their "
            "mean and variance are not identified. Remove them."
        )
    keep = obs.any(axis=1)
    xa = xa[keep]
    return np.where(np.isnan(xa), 0.0, xa), obs[keep].astype(np.float64), keep
