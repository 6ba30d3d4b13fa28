"""Starting values for :func:`~likelihax.models.glm.glm`: a mean-only start,
IRLS steps (R's ``glm.fit`` start), and the negative binomial's start on a
sample of rows."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from ...core import x64_scope
from ._family import (
    CANONICAL_KERNELS,
    get_family,
)
from ._link import LINKS


def _valid_eta(fam, link, eta):
    with x64_scope():
        ok = np.asarray(link.eta_valid(jnp.asarray(eta)))
        mu = np.asarray(link.inverse(jnp.asarray(eta)))
    return bool(np.all(ok & fam.mu_valid(mu)))


def _intercept_start(fam, link, X, y, m, w, offset):
    """Intercept = link(weighted mean of y), other coefficients 0 (or None)."""
    # A column equal to 1 in the first and last rows and in about a thousand
    # rows between is taken as the intercept *of the start* (a full check reads
    # a strided column of X: 11 ms at N = 1e6). Were it not constant, the start
    # would still be valid: canonical links accept any linear predictor and
    # the others are checked on every row below.
    step = max(1, X.shape[0] // 1024)
    cand = np.flatnonzero((X[0] == 1.0) & (X[-1] == 1.0))
    ones = [j for j in cand if np.all(X[::step, j] == 1.0)]
    if not ones:
        return None
    beta = np.zeros(X.shape[1])
    ybar = np.sum(w * m * y) / np.sum(w * m)
    with x64_scope():
        beta[ones[0]] = float(link.link(jnp.asarray(ybar)))
    if not np.all(np.isfinite(beta)):
        return None
    # Logit-binomial and log-Poisson accept every linear predictor: no check.
    if (fam.name, link.name) in CANONICAL_KERNELS or _valid_eta(
        fam, link, X @ beta + offset
    ):
        return beta
    return None


def _start(fam, link, X, y, m, w, offset, columns, cheap=False):
    """Starting coefficients: R's first IRLS step from ``family$mustart``; if that
    leaves the range of the mean, intercept = link(weighted mean of y), others 0.

    ``cheap``: try the intercept-only start first (canonical links, where
    Newton converges from it in about one more step than from the IRLS step,
    which needs a weighted least-squares pass over the data).
    """
    if cheap:
        beta = _intercept_start(fam, link, X, y, m, w, offset)
        if beta is not None:
            return beta
    beta = irls(fam, link, X, y, m, w, offset)
    if beta is not None:
        return beta
    beta = _intercept_start(fam, link, X, y, m, w, offset)
    if beta is not None:
        return beta
    raise ValueError(
        f"Cannot find starting values inside the range of the {fam.name} mean with "
        f"the {link.name} link (columns {columns}). Pass start= (coefficients in "
        "column order) giving a valid mean for every row."
    )


def irls(fam, link, X, y, m, w, offset, steps: int = 1, tol: float = 0.0):
    r"""Coefficients after up to ``steps`` IRLS steps from R's ``family$mustart``
    (NumPy), or None when the first step leaves the range of the mean.

    Each step is the weighted least-squares fit of the working response
    :math:`z = \eta - o + (y - \mu)/\mu'(\eta)` with weights
    :math:`w m \mu'(\eta)^2 / V(\mu)`; the iteration stops after ``steps``
    steps, when the coefficients move by less than ``tol``, or before a step
    that leaves the range of the mean (the last valid coefficients are
    returned). ``y`` is on the mean scale (proportions for the binomial, of
    ``m`` trials).

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.glm import LINKS, get_family, glm
    >>> from likelihax.models.glm._starts import irls
    >>> X = np.column_stack([np.ones(5), [1.0, 2, 3, 4, 5]])
    >>> y = np.array([1.0, 3, 2, 6, 8])
    >>> beta = irls(get_family("poisson"), LINKS["log"], X, y, 1.0, 1.0, 0.0,
    ...             steps=50, tol=1e-12)
    >>> bool(np.allclose(beta, glm(y, X, family="poisson").coef, rtol=1e-8))  # the MLE
    True
    """
    with x64_scope():
        mu = fam.mustart(y, m)
        eta = np.asarray(link.link(jnp.asarray(mu)))
    if not (np.all(np.isfinite(eta)) and _valid_eta(fam, link, eta)):
        return None
    beta = None
    for k in range(steps):
        if k:
            mu = _mu(link, eta)
        with x64_scope():
            d = np.asarray(link.deriv(jnp.asarray(eta)))
            v = np.asarray(fam.variance(jnp.asarray(mu), 1.0))
        z = eta - offset + (y - mu) / d
        wt2 = w * m * d**2 / v
        # Weighted least squares by the p x p normal equations (one pass over
        # X; a QR/SVD of the n x p matrix costs several times more at large n).
        XtW = X.T * wt2
        try:
            new = np.linalg.solve(XtW @ X, XtW @ z)
        except np.linalg.LinAlgError:
            wt = np.sqrt(wt2)
            new, *_ = np.linalg.lstsq(X * wt[:, None], z * wt, rcond=None)
        eta_new = X @ new + offset
        if not (np.all(np.isfinite(new)) and _valid_eta(fam, link, eta_new)):
            break
        done = beta is not None and np.max(np.abs(new - beta)) < tol
        beta, eta = new, eta_new
        if done:
            break
    return beta


def _mu(link, eta):
    with x64_scope():
        return np.asarray(link.inverse(jnp.asarray(eta)))


def _moment_alpha(y, mu, w):
    """Method-of-moments NB2 dispersion, the weighted mean of
    ``((y - mu)^2 - mu) / mu^2`` (NumPy or JAX arrays; floored at 0.1 by the callers)."""
    return (w * ((y - mu) ** 2 - mu) / mu**2).sum() / w.sum()


def _nb_params(lnk, des, y, off, wn, beta0):
    """NB2 starting values: the coefficients and alpha by the method of moments."""
    mu = _mu(lnk, des.X @ beta0 + off)
    alpha = max(float(_moment_alpha(y, mu, wn)), 0.1)
    return {**dict(zip(des.columns, beta0.tolist())), "alpha": alpha}


# IRLS steps of NB2 after the Poisson one in the start (see _nb_start), and
# the rows they use at most.
NB_START_STEPS = 2
NB_START_ROWS = 32_768


@functools.cache
def _nb_start_program(link_name: str, tail: bool = True):
    """Compiled NB2 start for one link (see :func:`_nb_start`); ``tail=False``:
    alpha from the rows of the steps too, and no further check of the start
    on every row."""
    fam, lnk = get_family("negative_binomial"), LINKS[link_name]

    def valid(eta):
        return jnp.all(jnp.isfinite(eta) & lnk.eta_valid(eta) & fam.mu_valid(lnk.inverse(eta)))

    def alpha(y, mu, w):
        return jnp.maximum(_moment_alpha(y, mu, w), 0.1)

    def take(a, rows):  # rows of a per-row field (weights and offsets may be scalars)
        return a if rows is None or jnp.ndim(a) == 0 else a[rows]

    @jax.jit
    def program(X, y, w, off, rows):
        full = (X, y, w, off)
        X, y, w, off = (take(a, rows) for a in full)  # the steps on a sample of rows
        # X' stored row by row, made once before the loop: XLA:CPU's X' [W X]
        # is about twice as fast that way (see Problem.with_transposed_data).
        XT = jnp.transpose(X)
        mu0 = fam.mustart(y, 1.0)
        eta0 = lnk.link(mu0)

        def step(i, state):
            # IRLS step i: Poisson working weights (V = mu) first, then NB2
            # ones (V = mu + alpha mu^2, alpha by moments at the current means).
            beta, eta, mu, ok = state
            a = jnp.where(i == 0, 0.0, alpha(y, mu, w))
            if link_name == "log":  # d mu / d eta = mu
                wt = w * mu / (1.0 + a * mu)
                z = eta - off + (y - mu) / mu
            else:
                d = lnk.deriv(eta)
                wt = w * d**2 / (mu + a * mu**2)
                z = eta - off + (y - mu) / d
            # X' [W X, W z] in one product: one pass over X' (start 10% faster).
            G = XT @ jnp.concatenate([X * wt[:, None], (wt * z)[:, None]], axis=1)
            nxt = jnp.linalg.solve(G[:, :-1], G[:, -1])
            eta_nxt = X @ nxt + off
            ok_nxt = valid(eta_nxt)
            # The Poisson step is always taken (its validity decides ``ok``); an
            # NB2 step only when it stays in the range of the mean.
            first = i == 0
            take_it = first | (ok & ok_nxt)
            ok = jnp.where(first, ok_nxt & ok0, ok)
            beta = jnp.where(take_it, nxt, beta)
            eta = jnp.where(take_it, eta_nxt, eta)
            return beta, eta, lnk.inverse(eta), ok

        beta0 = jnp.zeros(X.shape[1], X.dtype)
        ok0 = valid(eta0)
        beta, _, mu_s, ok = jax.lax.fori_loop(
            0, 1 + NB_START_STEPS, step, (beta0, eta0, mu0, jnp.asarray(True))
        )
        if not tail:
            return beta, alpha(y, mu_s, jnp.broadcast_to(w, y.shape)), ok
        X, y, w, off = full
        eta = X @ beta + off  # every row: valid, and alpha by moments
        w = jnp.broadcast_to(w, y.shape)
        return beta, alpha(y, lnk.inverse(eta), w), ok & valid(eta)

    return program


@functools.lru_cache(maxsize=8)
def _sample_rows(n: int, size: int) -> np.ndarray:
    """A fixed random sample of ``size`` row indices out of ``n``, sorted
    (read-only; drawing and sorting it costs about 1 ms, so it is kept)."""
    rows = np.sort(np.random.default_rng(0).integers(0, n, size))
    rows.flags.writeable = False
    return rows


def _nb_start(lnk, columns, data, off, w):
    r"""NB2 starting values, or ``None`` when no valid start is found this way.

    One IRLS step of the Poisson model from R's ``mustart`` (as for the other
    families), then ``NB_START_STEPS`` IRLS steps of NB2 with alpha by the
    method of moments at the current means (working weights
    :math:`w\,(d\mu/d\eta)^2 / (\mu + \alpha\mu^2)`), and alpha by moments
    at the result. A step that leaves the range of the mean is not taken.

    With more than ``2 * NB_START_ROWS`` rows, the steps use a fixed random
    sample of ``NB_START_ROWS`` rows: a start only has to be near the optimum,
    and the sample's estimate is within a few standard errors of it, where
    Newton's convergence is quadratic. For the identity and sqrt links the
    range of the mean and alpha are then checked and computed on every row;
    for the log link (every finite linear predictor is in range) alpha comes
    from the sample too, and the fit's first evaluation is the check (a start
    that fails it is replaced by the Poisson MLE, see :func:`glm`; on the
    benchmark's model this saves 3-5% of the fit). One compiled call, on the
    device arrays ``data["X"]`` and ``data["y"]`` that the fit then uses. On
    the benchmark's N = 1e5 model the NB2 Newton iterations go from 7 (10
    evaluations, from the Poisson step alone) to 3 (4 evaluations; 4 on all
    rows for 8 simulated data sets, 4.1 on average with the sample), and the
    start takes about half as long as on all rows (6 ms against 12 ms,
    measured interleaved). (MASS::glm.nb fits the Poisson model first.)
    Estimates do not depend on the start beyond the convergence tolerance
    (tested).
    """
    X = data["X"]
    n = X.shape[0]
    rows = _sample_rows(n, NB_START_ROWS) if n > 2 * NB_START_ROWS else None
    # Zero offsets and unit weights go in as scalars (no per-row transfer).
    off = np.float64(0.0) if not np.any(off) else off
    w = np.float64(1.0) if w is None else w
    with x64_scope():
        # Without a sample the steps already saw every row. With one, the log
        # link maps every finite linear predictor into the range of the mean,
        # so its start is not checked on every row here: the fit's first
        # evaluation does that (and glm() falls back when it fails).
        program = _nb_start_program(lnk.name, rows is not None and lnk.name != "log")
        beta, a0, ok = program(X, data["y"], w, off, rows)
        beta, a0 = np.asarray(beta), float(a0)
    if not bool(ok) or not (np.all(np.isfinite(beta)) and math.isfinite(a0)):
        return None
    return {**dict(zip(columns, beta.tolist())), "alpha": a0}
