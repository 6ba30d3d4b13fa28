r"""Profile likelihood: curves and intervals for any fitted model.

For a parameter :math:`\theta_j` the profile log-likelihood is
:math:`\ell_p(v) = \max_{\theta: \theta_j = v} \ell(\theta)`. The profile
interval at level :math:`1-\alpha` is
:math:`\{v: 2(\hat\ell - \ell_p(v)) \le \chi^2_{1,1-\alpha}\}` (Wilks); unlike
the Wald interval it is not symmetric, respects parameter bounds and does not
depend on the parametrization. It is what R's ``confint`` reports for
binomial and Poisson ``glm`` fits (MASS's ``profile.glm``; for the other
families see "Model results" below), ``bbmle::confint``, and MINOS in
MINUIT/iminuit.

How it is computed
------------------
Profiles are taken on the optimizer's unconstrained scale
(:math:`u_j = \log\sigma` for a positive :math:`\sigma`, ...): for the
elementwise constraints (real, positive, greater_than, less_than, interval)
the map to the natural scale is monotone, so intervals map back exactly.
Each constrained maximization is the engine's own fit with coordinate
:math:`u_j` held fixed (:meth:`~likelihax.objective._problem.Problem.pinned`),
warm-started at the MLE; because the coordinate and its value are traced
arguments, **every parameter at every value is one** ``vmap`` **of one compiled
program**.

Intervals solve :math:`r(t) = z_{1-\alpha/2}` on each side of the estimate,
with :math:`r(t) = \sqrt{2(\hat\ell - \ell_p(\hat u_j \pm t))}` (the signed
root statistic, nearly linear in :math:`t`): start at the Wald distance, then
secant steps from the origin (:math:`r(0)=0`). All endpoints of all parameters
advance together, one batched fit per round, until :math:`|r - z|` is below
``tol``. A side whose statistic stays below :math:`z` up to ``max_se`` standard
errors, or whose fits fail there, is reported as **open** (NaN endpoint); a
profile that falls again on the way out (checked at interior points) is
flagged **non-monotone**.

Model results
-------------
:func:`profile` and :func:`profile_ci` accept a model result (a GLM, mixed,
ordinal or multinomial model) as well as a :class:`~likelihax.FitResult`, and
refit its full likelihood (see :func:`likelihax.results.as_fit`). For
the results of :func:`likelihax.glm` with a dispersion :math:`\phi` (Gaussian,
gamma, inverse Gaussian) that is the likelihood in :math:`(\beta, \phi)`: at
each value of :math:`\beta_j` the other coefficients *and* :math:`\phi` are
maximized out, and :math:`\hat\ell` is the joint maximum (for the gamma
family above R's ``logLik``, which evaluates the density at :math:`\phi =
D/n`). The dispersion itself can be profiled by its label ``"dispersion"``.
For the Gaussian linear model the statistic is
:math:`2(\hat\ell - \ell_p(v)) = n\log(\mathrm{RSS}_v/\mathrm{RSS})`, with
:math:`\mathrm{RSS}_v` the residual sum of squares with :math:`\beta_j = v`,
so the interval is :math:`\hat\beta_j \pm \sqrt{c_{jj}\,\mathrm{RSS}\,
(e^{z^2/n} - 1)}`, :math:`c_{jj} = [(X^\top X)^{-1}]_{jj}`.

**R's** ``confint`` **of a** ``glm`` (``profile.glm`` of MASS 7.3) is a
different statistic for these families: the signed
root of :math:`(D_v - \hat D)/\hat\phi_P`, the deviance change scaled by the
Pearson dispersion :math:`\hat\phi_P = X^2/(n-p)` of the full model, held
fixed, cut at normal quantiles (:math:`t`/:math:`F` quantiles only bound its
profiling grid) and interpolated by a spline through that grid. For the
Gaussian linear model that is the Wald interval :math:`\hat\beta_j \pm
z\,\mathrm{SE}_j` (:math:`\mathrm{SE}` with :math:`\hat\phi_P`), and the
full profile interval above is that interval times
:math:`\sqrt{(n-p)(e^{z^2/n} - 1)}/z = \sqrt{(n-p)/n}\,(1 + z^2/(4n) +
\dots)`. For the gamma and inverse Gaussian the full profile statistic is,
to first order, the deviance change over the maximum-likelihood dispersion
instead of :math:`\hat\phi_P`. The two agree as :math:`n \to \infty`. For the
binomial and Poisson families (:math:`\phi = 1`) both are
:math:`2(\hat\ell - \ell_p) = \chi^2_{1,1-\alpha}` and agree up to R's
interpolation. For NB2 MASS profiles with :math:`\theta = 1/\alpha` held at
its estimate; here :math:`\alpha` is maximized out.
"""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist
from typing import Any, Sequence

import jax.numpy as jnp
import numpy as np

from ..core import Status, x64_scope
from ..results import as_fit, pandas_for
from ._refit import Refitter

__all__ = ["profile", "profile_ci", "Profile", "ProfileCI"]



# ----- mapping labels to unconstrained coordinates ----------------------------------------
def _coordinates(spec):
    """``label -> (free index, constraint)`` for every elementwise-constrained free element."""
    out = {}
    labels = spec.labels
    off_x = off_u = 0
    for i, (c, shape, m_u) in enumerate(
        zip(spec.constraints, spec.shapes, spec.free_sizes)
    ):
        m = math.prod(shape)
        if not spec.is_fixed(i) and c.elementwise:
            for t in range(m):
                out[labels[off_x + t]] = (off_u + t, c)
        off_x += m
        off_u += 0 if spec.is_fixed(i) else m_u
    return out


def _select(fit, which, what="profiled", default=None):
    """Labels to profile and their coordinates; ``which=None``: those of
    ``default`` (a list of labels, default ``fit.labels``) that can be."""
    coords = _coordinates(fit.spec)
    if which is None:
        return [lab for lab in default or fit.labels if lab in coords], coords
    if isinstance(which, str):
        which = [which]
    out = []
    for lab in which:
        if lab not in coords:
            if lab in fit.labels:
                raise ValueError(
                    f"'{lab}' cannot be {what}: it is fixed or has a "
                    "non-elementwise constraint (simplex, ordered, covariance)."
                )
            raise KeyError(f"'{lab}' is not a parameter label; labels: {fit.labels}.")
        out.append(lab)
    return out, coords


def _naturals(cons, us) -> np.ndarray:
    """Natural-scale values ``c.forward(u)`` of coordinates, one call per constraint.

    Every profiled coordinate has an elementwise constraint, so the values
    sharing a constraint are mapped together (a profile of 10 parameters: one
    small JAX call instead of 30).
    """
    us = np.asarray(us, dtype=np.float64)
    out = np.empty_like(us)
    groups: dict = {}
    for i, c in enumerate(cons):
        groups.setdefault(id(c), (c, []))[1].append(i)
    with x64_scope():
        for c, idx in groups.values():
            v = c.forward(jnp.asarray(us[idx], jnp.float64), (len(idx),))
            out[idx] = np.asarray(v, dtype=np.float64).reshape(-1)
    return out


def _fits(obj):
    """The fit to refit (full likelihood) and the labels profiled by default.

    See :func:`likelihax.results.as_fit`: a model result's
    ``likelihood_fit`` is refitted (nuisance parameters maximized out), and
    by default the parameters it reports (those of ``.fit``) are profiled.
    """
    return as_fit(obj, likelihood=True), as_fit(obj).labels


def _runner(fit, data, weights):
    if not fit.is_likelihood or fit.weight_type == "importance":
        raise ValueError(
            "Profile likelihood intervals need a log-likelihood; this fit's "
            "objective is not one (M-estimation or importance weights)."
        )
    return Refitter(fit, data, weights, "profile", polish=False)


def _se_u(fit, j):
    fit.full_cov("A profile")
    v = float(np.asarray(fit.cov_unconstrained)[j, j])
    return math.sqrt(v) if v > 0 and math.isfinite(v) else 1.0


# ----- profile curves ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Profile:
    """Profile log-likelihood curves.

    Attributes
    ----------
    curves : dict
        ``label -> dict(value, loglik, z, status, monotone)``: natural-scale
        values, profile log-likelihood, signed root statistic
        :math:`\\operatorname{sign}(v-\\hat\\theta)\\sqrt{2(\\hat\\ell-\\ell_p)}`,
        solver status per point, and whether ``z`` increases along the grid.
    estimate : dict
        ``label -> MLE``.
    loglik : float
        Maximized log-likelihood.
    """

    curves: dict
    estimate: dict
    loglik: float

    def to_frame(self):
        """Long DataFrame: parameter, value, loglik, z, status (needs pandas)."""
        pd = pandas_for("Profile.to_frame")

        rows = []
        for lab, c in self.curves.items():
            for v, ll, z, s in zip(c["value"], c["loglik"], c["z"], c["status"]):
                rows.append((lab, v, ll, z, int(s)))
        return pd.DataFrame(rows, columns=["parameter", "value", "loglik", "z", "status"])


def profile(
    fit,
    which: str | Sequence[str] | None = None,
    *,
    n_points: int = 21,
    span: float = 3.0,
    data: Any = None,
    weights: Any = None,
) -> Profile:
    """Profile log-likelihood of one or more parameters, all in one compiled call.

    Parameters
    ----------
    fit : FitResult or model result
        A maximum-likelihood fit from :func:`likelihax.fit`, or a model result
        holding one (:func:`likelihax.glm`, :func:`likelihax.mixed`, ...; see
        the module notes for GLMs with a dispersion).
    which : str or list of str, optional
        Parameter labels (default: every free parameter with an elementwise
        constraint that ``fit`` reports).
    n_points : int
        Grid points per parameter (odd numbers include the estimate).
    span : float
        The grid covers ``span`` standard errors on each side of the estimate,
        on the unconstrained scale (so it stays inside bounds).
    data, weights
        Default: those of the fit.

    Returns
    -------
    Profile

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp, likelihax as lx
    >>> y = np.array([0.4, 1.9, 0.7, 3.1, 1.2, 0.2, 2.4, 0.9])
    >>> f = lx.fit(lambda p, d: jnp.log(p["rate"]) - p["rate"] * d["y"],
    ...            {"rate": 1.0}, {"y": y},
    ...            constraints={"rate": lx.constraints.positive})
    >>> pr = lx.profile(f, n_points=5)
    >>> c = pr.curves["rate"]
    >>> bool(np.all(np.diff(c["z"]) > 0)), round(float(max(c["loglik"])), 6)
    (True, -10.400837)
    """
    fit, reported = _fits(fit)
    runner = _runner(fit, data, weights)
    labels, coords = _select(fit, which, default=reported)
    if n_points < 2:
        raise ValueError(f"n_points must be at least 2; got {n_points}.")
    grid = np.linspace(-span, span, int(n_points))
    idx, vals = [], []
    for lab in labels:
        j, _ = coords[lab]
        idx.extend([j] * len(grid))
        vals.extend(runner.u_hat[j] + grid * _se_u(fit, j))
    out = runner.pinned(np.array(idx), np.array(vals))
    ll_hat = float(fit.loglik)
    curves, est = {}, {}
    n = len(grid)
    for i, lab in enumerate(labels):
        j, c = coords[lab]
        sl = slice(i * n, (i + 1) * n)
        ll = out["loglik"][sl]
        u = np.array(vals[sl])
        dev = np.maximum(2.0 * (ll_hat - ll), 0.0)
        z = np.sign(u - runner.u_hat[j]) * np.sqrt(dev)
        value = _naturals([c] * len(u), u)
        ok = out["status"][sl] == Status.success.value
        zz = z[ok & np.isfinite(z)]
        curves[lab] = dict(
            value=value, loglik=ll, z=z, status=out["status"][sl],
            monotone=bool(np.all(np.diff(zz) > 0)) if zz.size > 1 else True,
        )  # fmt: skip
        est[lab] = float(_naturals([c], [runner.u_hat[j]])[0])
    return Profile(curves, est, ll_hat)


# ----- profile intervals ------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ProfileCI:
    """Profile-likelihood confidence intervals.

    Attributes
    ----------
    labels : list of str
    estimate, lower, upper : ndarray
        Natural scale; an open side is NaN.
    open_lower, open_upper : ndarray of bool
        The statistic stayed below the critical value up to the search limit
        (or the fits failed there): the interval is unbounded on that side
        within the search, e.g. at a boundary or under separation.
    monotone : ndarray of bool
        False when the profile falls again between the estimate and an endpoint.
    level : float
    """

    labels: list
    estimate: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    open_lower: np.ndarray
    open_upper: np.ndarray
    monotone: np.ndarray
    level: float

    def __getitem__(self, label):
        i = self.labels.index(label)
        return float(self.lower[i]), float(self.upper[i])

    def to_frame(self):
        """DataFrame indexed by parameter (needs pandas)."""
        pd = pandas_for("ProfileCI.to_frame")

        return pd.DataFrame(
            dict(
                estimate=self.estimate, lower=self.lower, upper=self.upper,
                open_lower=self.open_lower, open_upper=self.open_upper,
                monotone=self.monotone,
            ),
            index=self.labels,
        )  # fmt: skip

    def __repr__(self) -> str:
        w = max([len(s) for s in self.labels] + [9])
        lo, hi = f"{(1 - self.level) / 2:g}", f"{1 - (1 - self.level) / 2:g}"
        lines = [
            f"Profile-likelihood {self.level:.0%} intervals",
            f"{'':<{w}} {'estimate':>12} {'[' + lo:>12} {hi + ']':>12}  flags",
        ]
        for i, lab in enumerate(self.labels):
            flags = []
            if self.open_lower[i]:
                flags.append("open below")
            if self.open_upper[i]:
                flags.append("open above")
            if not self.monotone[i]:
                flags.append("non-monotone")
            lines.append(
                f"{lab:<{w}} {self.estimate[i]:>12.6g} {self.lower[i]:>12.6g} "
                f"{self.upper[i]:>12.6g}  {', '.join(flags)}"
            )
        return "\n".join(lines)


def profile_ci(
    fit,
    which: str | Sequence[str] | None = None,
    alpha: float = 0.05,
    *,
    tol: float = 1e-9,
    max_rounds: int = 40,
    max_se: float = 50.0,
    data: Any = None,
    weights: Any = None,
) -> ProfileCI:
    """Profile-likelihood confidence intervals (asymmetric, like MINOS or R ``confint``).

    Parameters
    ----------
    fit : FitResult or model result
        As for :func:`profile`.
    which : str or list of str, optional
        As for :func:`profile`.
    alpha : float
        1 - confidence level.
    tol : float
        Stop when the signed root statistic is within ``tol`` of the critical
        value at every endpoint.
    max_rounds : int
        Batched root-finding rounds (each is one compiled, vmapped call).
    max_se : float
        Search limit, in standard errors on the unconstrained scale; beyond it
        a side is reported open.
    data, weights
        As for :func:`profile`.

    Returns
    -------
    ProfileCI

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp, likelihax as lx
    >>> y = np.array([0.4, 1.9, 0.7, 3.1, 1.2, 0.2, 2.4, 0.9])
    >>> f = lx.fit(lambda p, d: jnp.log(p["rate"]) - p["rate"] * d["y"],
    ...            {"rate": 1.0}, {"y": y},
    ...            constraints={"rate": lx.constraints.positive})
    >>> ci = lx.profile_ci(f)
    >>> lo, hi = ci["rate"]
    >>> round(lo, 4), round(hi, 4)  # asymmetric around the MLE 0.7407
    (0.3385, 1.3788)
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
    fit, reported = _fits(fit)
    runner = _runner(fit, data, weights)
    labels, coords = _select(fit, which, default=reported)
    z = NormalDist().inv_cdf(1 - alpha / 2)
    ll_hat = float(fit.loglik)
    m = len(labels)
    J = np.array([coords[lab][0] for lab in labels])
    se = np.array([_se_u(fit, j) for j in J])
    side = np.r_[-np.ones(m), np.ones(m)]  # lower endpoints, then upper
    jj = np.r_[J, J]
    ss = np.r_[se, se]
    u0 = runner.u_hat[jj]
    t_max = max_se * ss
    # Where the constrained optimum moves per unit of t: for a quadratic
    # log-likelihood the profile path is the line u_hat + t * side * V[:, j] / V[j, j]
    # (V the covariance on the unconstrained scale). Each round's fits start
    # on the path predicted from the last two solutions (the Wald line at
    # first), closer to their optimum than the last solution is: fewer Newton
    # steps in the later rounds.
    fit.full_cov("A profile")
    V = np.asarray(fit.cov_unconstrained, np.float64)
    wald = V[jj] / np.where(ss > 0, ss**2, 1.0)[:, None] * side[:, None]
    if not np.all(np.isfinite(wald)):
        wald = np.zeros_like(wald)
    wald[np.arange(2 * m), jj] = side

    def stat(t, starts):
        out = runner.pinned(jj, u0 + side * t, starts)
        ok = (out["status"] == Status.success.value) & np.isfinite(out["loglik"])
        r = np.sqrt(np.maximum(2.0 * (ll_hat - out["loglik"]), 0.0))
        return np.where(ok, r, np.nan), out["u"]

    # Secant iteration on r(t) = z from (0, 0) and the Wald distance.
    t_prev, r_prev = np.zeros(2 * m), np.zeros(2 * m)
    t = np.minimum(z * ss, t_max)
    r, u_sol = stat(t, runner.u_hat + t[:, None] * wald)
    u_prev = np.tile(runner.u_hat, (2 * m, 1))
    done = np.zeros(2 * m, bool)
    open_ = np.zeros(2 * m, bool)
    for _ in range(max_rounds):
        bad = ~np.isfinite(r)
        done = (np.abs(r - z) <= tol) & ~bad
        at_limit = (t >= t_max * (1 - 1e-12)) & ~bad & (r < z)
        open_ = at_limit
        if np.all(done | open_):
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = (r - r_prev) / np.where(t != t_prev, t - t_prev, np.nan)
            step = (z - r) / slope
        t_new = np.where(np.isfinite(step) & (slope > 0), t + step, 2.0 * t)
        # Fits that failed: back off halfway towards the last good point.
        t_new = np.where(bad, 0.5 * (t + t_prev), t_new)
        t_new = np.clip(t_new, 0.05 * t, np.minimum(4.0 * t, t_max))
        t_new = np.where(done | open_, t, t_new)
        keep = ~bad
        with np.errstate(divide="ignore", invalid="ignore"):
            path = (u_sol - u_prev) / (t - t_prev)[:, None]  # d u / d t, secant
        path = np.where(np.isfinite(path).all(axis=1)[:, None], path, wald)
        start = np.where(
            keep[:, None], u_sol + (t_new - t)[:, None] * path,
            runner.u_hat + t_new[:, None] * wald,
        )
        u_prev = np.where(keep[:, None], u_sol, u_prev)
        t_prev = np.where(keep, t, t_prev)
        r_prev = np.where(keep, r, r_prev)
        t = t_new
        r_new, u_new = stat(t, start)
        # A side that is finished keeps its solution (its fit is repeated only
        # because the batch has a fixed shape).
        fin = done | open_
        r = np.where(fin, r, r_new)
        u_sol = np.where(fin[:, None], u_sol, u_new)
    open_ = open_ | ~(done | open_)  # not found within the rounds: say so
    # Monotonicity: the statistic must rise through interior points.
    # One call per fraction, each of the rounds' batch size: the rounds'
    # compiled program is reused, and a batch three times larger costs more
    # than three of them on the CPU (its working set leaves the cache).
    # Each interior fit starts on the line from the estimate to the endpoint's
    # solution, close to its own optimum (the profile path is smooth).
    fr = np.array([0.25, 0.5, 0.75])
    u_end = np.where(np.isfinite(r)[:, None], u_sol, runner.u_hat)
    r_in = np.empty((3, 2 * m))
    for i, f in enumerate(fr):
        out = runner.pinned(
            jj, u0 + side * f * t, runner.u_hat + f * (u_end - runner.u_hat)
        )
        r_in[i] = np.sqrt(np.maximum(2.0 * (ll_hat - out["loglik"]), 0.0))
    r_all = np.vstack([np.zeros(2 * m), r_in, np.where(np.isfinite(r), r, np.inf)])
    mono_side = np.all(np.diff(r_all, axis=0) > -1e-9, axis=0)
    cons = [coords[lab][1] for lab in labels]
    nat = _naturals(cons * 3, np.r_[u0 + side * t, runner.u_hat[J]])
    ends = np.where(open_, np.nan, nat[: 2 * m])
    est = nat[2 * m :]
    # A decreasing map from u to the natural value (less_than) swaps the sides.
    flip = np.array([not coords[lab][1].increasing for lab in labels])
    lo_i = np.where(flip, np.arange(m) + m, np.arange(m))
    hi_i = np.where(flip, np.arange(m), np.arange(m) + m)
    return ProfileCI(
        labels=list(labels), estimate=est, lower=ends[lo_i], upper=ends[hi_i],
        open_lower=open_[lo_i], open_upper=open_[hi_i],
        monotone=mono_side[:m] & mono_side[m:], level=1 - alpha,
    )  # fmt: skip
