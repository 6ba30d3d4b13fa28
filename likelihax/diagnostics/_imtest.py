r"""The information-matrix test of White (1982), in the OPG form.

A correctly specified likelihood satisfies the information-matrix equality
:math:`E[\nabla^2 \ell_i + s_i s_i^\top] = 0` at the true parameter
(:math:`s_i = \nabla \ell_i`). Its sample analogue,
:math:`\sum_i d_i` with :math:`d_i = \operatorname{vech}(\nabla^2 \ell_i + s_i
s_i^\top)` at the estimate, should then be near zero; when it is not, the
observed information (inverse-Hessian standard errors) and the outer product
of scores disagree, and only the sandwich covariance is valid.

Chesher (1983) and Lancaster (1984) compute the test as :math:`n R^2` of the
artificial regression of a column of ones on :math:`[s_i^\top, d_i^\top]`
(the uncentered :math:`R^2`), which is :math:`\chi^2_q` under correct
specification, :math:`q` the number of columns of :math:`d` not collinear with
the scores (at most :math:`k(k+1)/2` for :math:`k` parameters; fewer when some
elements of :math:`d_i` are identically zero or linear in the scores, as the
intercept-by-intercept element of a Poisson regression).

The statistic is the same whatever the parametrization: on the unconstrained
scale :math:`u`, :math:`\nabla^2_u \ell_i = J^\top \nabla^2_\theta \ell_i J +
\sum_m s_{\theta,im} \nabla^2_u \theta_m` adds only terms linear in the scores,
which are in the regression already. It is computed on the optimizer's scale.

The OPG form is known to reject too often in small samples (Davidson and
MacKinnon, 1992; Orme, 1990): read a p-value near the threshold with care,
and look at the standard-error ratios alongside it.

References
----------
White, H. (1982). Maximum likelihood estimation of misspecified models.
*Econometrica*, 50(1), 1-25.

Chesher, A. (1983). The information matrix test: simplified calculation via a
score test interpretation. *Economics Letters*, 13(1), 45-48.

Lancaster, T. (1984). The covariance matrix of the information matrix test.
*Econometrica*, 52(4), 1051-1053.

Davidson, R. and MacKinnon, J. G. (1992). A new form of the information matrix
test. *Econometrica*, 60(1), 145-157.
"""

from __future__ import annotations

import dataclasses
import html
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..core import format_pvalue, x64_scope
from ..data import prepare_data
from ..inference import chi2_sf
from ..objective import Problem
from ..results import TextReport, as_fit

__all__ = ["IMTest", "im_test"]


def _derivs(loglik, spec, u, fixed, data):
    """Per-observation scores ``(n, k)`` and Hessians ``(n, k, k)`` at ``u``."""
    problem = Problem(loglik, spec, fixed, data)
    s = jax.jacfwd(problem.loglik_terms)(u)
    H = jax.jacfwd(jax.jacfwd(problem.loglik_terms))(u)
    return s, H


_derivs_jit = jax.jit(_derivs, static_argnums=(0, 1))


def observation_derivatives(fit, data=None):
    """Per-observation scores and Hessians of a fit (unconstrained scale), on the host.

    Raises ``ValueError`` with the reason when the fit cannot give them.
    """
    if not fit.setup.per_obs:
        raise ValueError(
            "The log-likelihood returns a scalar total, so there are no "
            "per-observation scores; return one value per observation."
        )
    if fit.setup.program is not None and fit.setup.program.source is not None:
        raise ValueError(
            "The fit reads its data from a source (streamed); per-observation "
            "Hessians need the data in memory."
        )
    if not fit.is_single:
        raise ValueError("Give a single fit, not a batched result: index it (fits[i]).")
    data = fit.setup.data if data is None else data
    if data is None:
        raise ValueError("This result carries no data; pass data=.")
    dtype = np.dtype(fit.dtype)
    with x64_scope():
        jdata = prepare_data(data, dtype)
        fixed = [jnp.asarray(x, dtype) for x in jax.tree_util.tree_leaves(fit.params)]
        u = jnp.asarray(fit.params_unconstrained, dtype)
        s, H = _derivs_jit(fit.setup.loglik_fn, fit.spec, u, fixed, jdata)
        return np.asarray(s, dtype=float), np.asarray(H, dtype=float)


def _rank(A, rtol=1e-8):
    if A.shape[1] == 0:
        return 0, np.zeros((A.shape[0], 0))
    norms = np.sqrt(np.sum(A * A, axis=0))
    A = A / np.where(norms > 0, norms, 1.0)
    U, sv, _ = np.linalg.svd(A, full_matrices=False)
    r = int(np.sum(sv > rtol * max(sv.max(initial=0.0), 1e-300)))
    return r, U[:, :r]


def opg_regression(s, H, w=None):
    r"""``(statistic, df)`` of the OPG information-matrix regression.

    ``s`` (n, k) scores, ``H`` (n, k, k) Hessians, ``w`` frequency weights.
    The statistic is :math:`\sum_i w_i - \mathrm{SSR}`, the explained sum of
    squares of the weighted regression of ones on :math:`[s_i, d_i]`.
    """
    n, k = s.shape
    iu = np.triu_indices(k)
    D = (H + s[:, :, None] * s[:, None, :])[:, iu[0], iu[1]]
    sw = np.ones(n) if w is None else np.sqrt(np.asarray(w, dtype=float))
    keep = sw > 0
    Z = np.concatenate([s, D], axis=1)[keep] * sw[keep, None]
    r_all, U = _rank(Z)
    r_s, _ = _rank(s[keep] * sw[keep, None])
    y = sw[keep]
    stat = float(np.sum((U.T @ y) ** 2))
    return stat, r_all - r_s


@dataclasses.dataclass(frozen=True, repr=False)
class IMTest(TextReport):
    """Outcome of :func:`im_test`.

    Attributes
    ----------
    statistic : float
        :math:`n R^2` of the OPG regression.
    df : int
        Degrees of freedom: elements of the information-matrix equality that
        are tested (not identically zero or linear in the scores).
    pvalue : float
        :math:`P(\\chi^2_{df} > \\text{statistic})`.
    nobs : float
        Observations in the regression (sum of frequency weights).
    labels : tuple of str
        Parameter labels (natural scale) of the standard-error table.
    se_oim, se_sandwich, se_ratio : ndarray
        Standard errors from the inverse observed information and from the
        sandwich, and their ratio (sandwich / observed). Ratios far from 1
        point at the parameters whose inference the misspecification affects.
    """

    statistic: float
    df: int
    pvalue: float
    nobs: float
    labels: tuple
    se_oim: Any
    se_sandwich: Any
    se_ratio: Any

    def max_ratio_deviation(self) -> tuple[str, float]:
        """Label and ratio of the SE ratio farthest from 1 on the log scale."""
        r = np.asarray(self.se_ratio, dtype=float)
        dev = np.where(
            np.isfinite(r) & (r > 0), np.abs(np.log(np.where(r > 0, r, 1))), -1
        )
        if dev.size == 0 or dev.max() < 0:
            return ("", math.nan)
        j = int(np.argmax(dev))
        return self.labels[j], float(r[j])

    def to_text(self) -> str:
        """Plain-text report: the test and the table of standard errors."""
        lines = [
            "Information-matrix test (White 1982; OPG form of Chesher/Lancaster)",
            (
                f"  n R^2 = {self.statistic:.6g}, df = {self.df}, p-value = "
                f"{format_pvalue(self.pvalue)}   (n = {self.nobs:g})"
            ),
        ]
        w = max([len(s) for s in self.labels] + [9])
        lines.append(
            f"  {'parameter':<{w}} {'SE (OIM)':>12} {'SE (sandwich)':>14} {'ratio':>8}"
        )
        for lab, a, b, r in zip(
            self.labels, self.se_oim, self.se_sandwich, self.se_ratio
        ):
            lines.append(f"  {lab:<{w}} {a:>12.5g} {b:>14.5g} {r:>8.3f}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        rows = "".join(
            f"<tr><th style='text-align:left'>{e(lab)}</th><td>{a:.5g}</td>"
            f"<td>{b:.5g}</td><td>{r:.3f}</td></tr>"
            for lab, a, b, r in zip(self.labels, self.se_oim, self.se_sandwich,
                                    self.se_ratio)
        )  # fmt: skip
        return (
            "<div class='likelihax-imtest'><h4>Information-matrix test</h4>"
            f"<p>n R<sup>2</sup> = {self.statistic:.6g}, df = {self.df}, "
            f"p-value = {format_pvalue(self.pvalue)} (n = {self.nobs:g})</p>"
            "<table><thead><tr><th>parameter</th><th>SE (OIM)</th>"
            f"<th>SE (sandwich)</th><th>ratio</th></tr></thead><tbody>{rows}"
            "</tbody></table></div>"
        )



def im_test(fit, data: Any = None) -> IMTest:
    r"""Information-matrix test of correct specification, with SE ratios.

    Parameters
    ----------
    fit : FitResult or a model result with ``.fit`` (e.g. ``GLMResult``)
        A maximum-likelihood fit whose log-likelihood returns one value per
        observation.
    data : pytree, optional
        The data of the fit (default: the data the fit holds).

    Returns
    -------
    IMTest
        The statistic :math:`nR^2`, its degrees of freedom and p-value, and
        the table of observed-information vs sandwich standard errors.

    Raises
    ------
    ValueError
        The log-likelihood returns a scalar total (no per-observation scores),
        the objective is not a likelihood (``likelihood=False`` or importance
        weights: the equality does not hold by construction), streamed data,
        or a batched result.

    Notes
    -----
    With per-observation scores :math:`s_i` and Hessians :math:`H_i` at the
    estimate, :math:`d_i = \operatorname{vech}(H_i + s_i s_i^\top)`, the
    statistic is :math:`n R^2_u` of the regression of :math:`1` on
    :math:`[s_i, d_i]` (uncentered :math:`R^2`), :math:`\chi^2_q` under correct
    specification with :math:`q = \operatorname{rank}[S, D] -
    \operatorname{rank} S`. Frequency weights weight the regression rows (the
    same as duplicated rows). See the module notes for the references and
    the finite-sample caveat.

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> y = np.random.default_rng(1).standard_t(2.5, size=400)  # heavy tails
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], p["sigma"]),
    ...            {"mu": 0.0, "sigma": 1.0}, {"y": y},
    ...            constraints={"sigma": lx.constraints.positive})
    >>> t = lx.im_test(f)
    >>> t.df, bool(t.pvalue < 0.01)  # skewness and kurtosis (Hall, 1987)
    (2, True)
    >>> bool(t.se_ratio[1] > 1.5)  # SE of sigma: sandwich >> observed
    True
    """
    from ..inference import vcov

    fit = as_fit(fit)
    if not fit.is_likelihood or fit.weight_type == "importance":
        raise ValueError(
            "The information-matrix test needs a likelihood: this fit's objective "
            "is an M-estimation objective or a weighted pseudo-likelihood, for which "
            "the information-matrix equality does not hold by construction (use "
            "the sandwich covariance, which the fit already does by default)."
        )
    s, H = observation_derivatives(fit, data)
    w = None
    if fit.weight_type == "frequency":
        w = np.asarray(fit.setup.weights, dtype=float)
    stat, df = opg_regression(s, H, w)
    nobs = float(s.shape[0] if w is None else np.sum(w))
    se_o = np.sqrt(np.diag(np.asarray(vcov(fit, "oim", data).matrix, dtype=float)))
    se_s = np.sqrt(np.diag(np.asarray(vcov(fit, "sandwich", data).matrix, dtype=float)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = se_s / se_o
    return IMTest(
        statistic=stat, df=int(df), pvalue=chi2_sf(stat, df), nobs=nobs,
        labels=tuple(fit.labels), se_oim=se_o, se_sandwich=se_s, se_ratio=ratio,
    )  # fmt: skip
