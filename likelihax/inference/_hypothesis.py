r"""Hypothesis tests: Wald, likelihood ratio and score (Lagrange multiplier).

Which to use
------------
* :func:`wald_test` needs only the fit of the larger model: linear hypotheses
  :math:`R\theta = q` written with parameter labels (``"beta[1] = beta[2]"``)
  or as a matrix, and nonlinear ones :math:`g(\theta) = 0` given as a
  function (delta method). It uses the fit's covariance, or any other kind
  (``cov="sandwich"``, a cluster :class:`~likelihax.Covariance`), so it has a
  robust version.
* :func:`lr_test` needs fits of both models; it is invariant to
  reparametrization and usually the most accurate of the three in small samples.
* :func:`score_test` needs only the fit of the smaller model, with the larger
  model's log-likelihood evaluated there (score and information by autodiff).

Formulas
--------
With :math:`\hat V` the covariance of :math:`\hat\theta`, :math:`m` the number
of restrictions:

.. math::
   W = (R\hat\theta - q)^\top (R\hat V R^\top)^{-1} (R\hat\theta - q)
   \;\sim\; \chi^2_m,
   \qquad W_{\mathrm{nl}} = g^\top (G\hat V G^\top)^{-1} g,\; G = \partial g/\partial\theta,

and with ``use_f=True`` the F form :math:`F = W/m \sim F(m,\ n-k)`, as
statsmodels ``wald_test(..., use_f=True)`` (``df_denom`` is the residual
degrees of freedom :math:`n - k`).

.. math::
   LR = 2(\ell_{\mathrm{full}} - \ell_{\mathrm{restricted}}) \sim \chi^2_{k_f - k_r},
   \qquad
   LM = s(\tilde\theta)^\top \mathcal J(\tilde\theta)^{-1} s(\tilde\theta) \sim \chi^2_{k_f - k_r},

with :math:`s` and :math:`\mathcal J` the score and information of the full
model at the restricted estimate :math:`\tilde\theta` (natural scale; observed
:math:`-\nabla^2\ell`, expected, or outer product of scores).

References
----------
Engle, R. F. (1984). Wald, likelihood ratio, and Lagrange multiplier tests in
econometrics. In *Handbook of Econometrics*, vol. 2, ch. 13. North-Holland.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ..core import format_pvalue, x64_scope
from ..results import as_fit
from ._delta import _evaluate, _natural_cov
from ._parse import parse_hypothesis
from ._tails import chi2_sf, f_sf

__all__ = ["TestResult", "lr_test", "score_test", "wald_test"]


# --------------------------------------------------------------------------------------
# result record and p-values
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TestResult:
    """Outcome of a hypothesis test.

    Attributes
    ----------
    test : str
        ``"Wald"``, ``"LR"`` or ``"score"``.
    statistic : float
        :math:`\\chi^2` statistic, or the F statistic when ``distribution == "F"``.
    df : int
        Degrees of freedom (number of restrictions).
    pvalue : float
    distribution : str
        ``"chi2"`` or ``"F"``.
    df_denom : float or None
        Denominator degrees of freedom of the F form.
    hypothesis : str
        The null hypothesis in words.
    """

    __test__ = False  # not a pytest class

    test: str
    statistic: float
    df: int
    pvalue: float
    distribution: str = "chi2"
    df_denom: float | None = None
    hypothesis: str = ""

    def __iter__(self):
        """``stat, p, df = result``, as statsmodels' ``compare_lr_test``."""
        return iter((self.statistic, self.pvalue, self.df))

    def __repr__(self) -> str:
        if self.distribution == "F":
            dist = f"F({self.df}, {self.df_denom:g})"
        else:
            dist = f"chi2({self.df})"
        head = f"{self.test} test" + (f": {self.hypothesis}" if self.hypothesis else "")
        stat = f"{dist} = {self.statistic:.6g}"
        return f"{head}\n  {stat}, p-value = {format_pvalue(self.pvalue)}"


# --------------------------------------------------------------------------------------
# parsing linear hypotheses written with labels
# --------------------------------------------------------------------------------------



@jax.jit
def _wald_core(diff, C):
    """``diff' C^-1 diff`` (NaN when ``C`` is not positive definite)."""
    L = jnp.linalg.cholesky(C)
    z = jax.scipy.linalg.solve_triangular(L, diff, lower=True)
    return jnp.sum(z * z)


def _quad(diff: np.ndarray, C: np.ndarray) -> float:
    with x64_scope():
        return float(_wald_core(jnp.asarray(diff), jnp.asarray(C)))


def _describe_rows(R, q, labels) -> str:
    """``R theta = q`` written out with labels, e.g. ``"beta[1] - beta[2] = 0"``."""
    parts = []
    for row, b in zip(R, q):
        text = ""
        for lab, v in zip(labels, row):
            if v == 0:
                continue
            mag = "" if abs(v) == 1 else f"{abs(v):g}*"
            sign = ("-" if v < 0 else "") if not text else (" - " if v < 0 else " + ")
            text += f"{sign}{mag}{lab}"
        parts.append(f"{text} = {b:g}")
    return ", ".join(parts)


def wald_test(
    fit,
    hypothesis: Any,
    q: Any = None,
    *,
    cov: Any = None,
    use_f: bool = False,
    df_denom: float | None = None,
) -> TestResult:
    r"""Wald test of linear or nonlinear restrictions on the parameters.

    Parameters
    ----------
    fit : FitResult
        Or a model result holding one (``lx.glm(...)``).
    hypothesis : str, array or callable
        * a string of restrictions written with parameter labels
          (``fit.labels``), separated by commas: ``"beta[1] = beta[2]"``,
          ``"beta[0] = 0, beta[3] = 0"``, ``"2*a - b = 1"``; sums, differences,
          products and quotients by numbers and parentheses are allowed (parsed,
          never evaluated), a restriction without ``=`` means ``= 0``;
        * a matrix ``R`` (``(m, k)``, or ``(k,)`` for one restriction) over
          ``fit.labels``, testing :math:`R\theta = q`;
        * a function ``g(params)`` returning an array or pytree, testing
          :math:`g(\theta) = q` by the delta method.
    q : array, optional
        Right-hand side for a matrix or function hypothesis (default 0).
    cov : None, str or Covariance, optional
        Covariance to use: the fit's (default), a kind name (``"sandwich"``,
        ``"hc1"``, ...) or a :class:`~likelihax.Covariance` (e.g. from
        ``lx.vcov(fit, "cluster", groups=g)``).
    use_f : bool
        Report :math:`F = W/m` against :math:`F(m, \text{df\_denom})` instead
        of :math:`W` against :math:`\chi^2_m` (statsmodels ``use_f``).
    df_denom : float, optional
        Denominator degrees of freedom of the F form; default
        :math:`n - k` (``fit.nobs - fit.n_params``).

    Returns
    -------
    TestResult
        ``statistic``, ``df``, ``pvalue``, ``distribution`` and the hypothesis.

    Raises
    ------
    ValueError
        An unknown label or unparseable text, redundant restrictions (``R`` or
        the Jacobian of ``g`` not of full row rank), or a restriction on a
        fixed parameter.

    Notes
    -----
    Formulas in :mod:`likelihax.inference._hypothesis`. The statistic is not
    invariant to how a nonlinear restriction is written (Gregory and Veall,
    1985); prefer :func:`lr_test` when both fits are at hand.

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> y1 = np.array([1.2, 0.8, 1.9, 1.4, 0.6]); y2 = np.array([2.1, 1.7, 2.9, 2.2])
    >>> def two_means(p, d):
    ...     return st.norm.logpdf(d["y"], p["mu"][d["g"]], 1.0)
    >>> d = {"y": np.r_[y1, y2], "g": np.r_[np.zeros(5, int), np.ones(4, int)]}
    >>> f = lx.fit(two_means, {"mu": np.zeros(2)}, d)
    >>> t = lx.inference.wald_test(f, "mu[0] = mu[1]")
    >>> z2 = (y1.mean() - y2.mean()) ** 2 / (1 / 5 + 1 / 4)  # known variance 1
    >>> bool(np.isclose(t.statistic, z2)), t.df
    (True, 1)
    """
    fit = as_fit(fit)
    V, kind, _ = _natural_cov(fit, cov)
    spec = fit.spec
    labels = fit.labels
    idx = np.asarray(spec.reported)
    if callable(hypothesis):
        val, J, C, _ = _evaluate(fit, hypothesis, V)
        target = np.zeros_like(val) if q is None else np.ravel(np.asarray(q, float))
        if target.shape != val.shape:
            raise ValueError(
                f"q has {target.size} values but the function returns {val.size}."
            )
        _check_rank(J, "the Jacobian of the restriction function")
        diff = val - target
        text = f"{getattr(hypothesis, '__name__', 'g')}(params) = q (delta method)"
    else:
        if isinstance(hypothesis, str):
            if q is not None:
                raise ValueError("q is for a matrix hypothesis; write it in the text.")
            R, target = parse_hypothesis(hypothesis, labels)
            text = hypothesis
        else:
            R = np.atleast_2d(np.asarray(hypothesis, dtype=float))
            if R.ndim != 2 or R.shape[1] != len(labels):
                raise ValueError(
                    f"R must have {len(labels)} columns, one per label of fit.labels "
                    f"{labels}; got shape {np.shape(hypothesis)}."
                )
            target = (
                np.zeros(R.shape[0]) if q is None else np.ravel(np.asarray(q, float))
            )
            if target.shape != (R.shape[0],):
                raise ValueError(f"q must have {R.shape[0]} values; got {target.size}.")
            text = _describe_rows(R, target, labels)
        _check_rank(R, "the restriction matrix R")
        fixed = np.array([c.name == "fixed" for c in spec.element_constraints])[idx]
        if np.any((R != 0) & fixed[None, :]):
            bad = [labels[j] for j in np.flatnonzero(np.any(R != 0, 0) & fixed)]
            raise ValueError(
                f"The hypothesis involves fixed parameter(s) {bad}, which were not "
                "estimated and have no sampling variance."
            )
        theta = np.asarray(fit.params_flat, dtype=float)[idx]
        diff = R @ theta - target
        C = R @ V[np.ix_(idx, idx)] @ R.T
    m = diff.shape[0]
    W = _quad(diff, C)
    if kind != fit.cov_kind:
        text += f" [cov: {kind}]"
    if use_f:
        d2 = float(fit.nobs - fit.n_params) if df_denom is None else float(df_denom)
        return TestResult("Wald", W / m, m, f_sf(W / m, m, d2), "F", d2, text)
    return TestResult("Wald", W, m, chi2_sf(W, m), "chi2", None, text)


def _check_rank(R: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(R)):
        raise ValueError(f"{what} is not finite.")
    rank = np.linalg.matrix_rank(R)
    if rank < R.shape[0]:
        raise ValueError(
            f"{what} has {R.shape[0]} rows but rank {rank}: some restrictions are "
            "redundant (implied by the others). Drop them."
        )


# --------------------------------------------------------------------------------------
# likelihood ratio test
# --------------------------------------------------------------------------------------


def _require_likelihood(fit, role: str) -> None:
    if not fit.is_likelihood:
        raise ValueError(
            f"The {role} fit is an M-estimation objective (likelihood=False), not a "
            "log-likelihood, so likelihood-based tests do not apply; use wald_test "
            "with a robust covariance."
        )
    if fit.weight_type == "importance":
        raise ValueError(
            f"The {role} fit uses importance weights: its weighted objective is a "
            "pseudo-likelihood, whose ratio is not chi-squared. Use wald_test with "
            "cov='sandwich'."
        )


def lr_test(restricted, full, *, df: int | None = None) -> TestResult:
    r"""Likelihood-ratio test of a restricted (nested) model against a fuller one.

    Parameters
    ----------
    restricted, full : FitResult
        Fits of the smaller and the larger model to the same data; the smaller
        model must be a special case of the larger (nesting is the caller's
        responsibility; the checks below only catch implausible pairs).
    df : int, optional
        Number of restrictions; default the difference in the numbers of
        estimated parameters (including any counted by
        ``annotate(extra_params=)``).

    Returns
    -------
    TestResult
        :math:`LR = 2(\ell_{\mathrm{full}} - \ell_{\mathrm{restricted}})`
        against :math:`\chi^2_{\mathrm{df}}`; it unpacks as ``stat, p, df``
        like statsmodels' ``compare_lr_test``.

    Raises
    ------
    ValueError
        A fit that is not a likelihood (``is_likelihood`` False) or uses
        importance weights; different ``nobs``; ``df`` not positive (arguments
        swapped?); the restricted log-likelihood above the full one by more
        than rounding (not nested, or the full fit did not reach its maximum).

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> y = np.array([0.2, 1.9, 1.1, 2.8, 0.7, 1.6, 2.2, 1.3])
    >>> f0 = lx.fit(lambda p, d: st.norm.logpdf(d["y"], 0.0, p["s"]),
    ...             {"s": 1.0}, {"y": y}, constraints={"s": lx.constraints.positive})
    >>> f1 = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], p["s"]),
    ...             {"mu": 0.0, "s": 1.0}, {"y": y},
    ...             constraints={"s": lx.constraints.positive})
    >>> t = lx.inference.lr_test(f0, f1)
    >>> n = len(y)  # closed form: n log(sum y^2 / sum (y - ybar)^2)
    >>> lr = n * np.log(np.sum(y**2) / np.sum((y - y.mean()) ** 2))
    >>> bool(np.isclose(t.statistic, lr)), t.df
    (True, 1)
    """
    restricted, full = as_fit(restricted), as_fit(full)
    _require_likelihood(restricted, "restricted")
    _require_likelihood(full, "full")
    if restricted.nobs != full.nobs:
        raise ValueError(
            f"The fits have different numbers of observations ({restricted.nobs} and "
            f"{full.nobs}); a likelihood-ratio test compares fits of the same data."
        )
    k_r = restricted.n_params + restricted.annotation.extra_params
    k_f = full.n_params + full.annotation.extra_params
    if df is None:
        df = k_f - k_r
    if df <= 0:
        raise ValueError(
            f"The full model has {k_f} parameters and the restricted one {k_r}: df "
            f"= {df}. Pass the restricted fit first, lr_test(restricted, full), or "
            "give df= when the restriction does not change the count."
        )
    ll_r, ll_f = float(restricted.loglik), float(full.loglik)
    lr = 2.0 * (ll_f - ll_r)
    tol = 1e-6 * max(1.0, abs(ll_f))
    if lr < -2.0 * tol:
        raise ValueError(
            f"The restricted log-likelihood ({ll_r:.8g}) exceeds the full one "
            f"({ll_f:.8g}): (a) the models are not nested, (b) the arguments are "
            "swapped, or (c) the full fit stopped short of its maximum (check "
            "full.converged; refit from the restricted estimate)."
        )
    lr = max(lr, 0.0)  # rounding of two equal maxima
    text = f"restricted ({_count(k_r)}) within full ({_count(k_f)})"
    return TestResult("LR", lr, int(df), chi2_sf(lr, df), "chi2", None, text)


# --------------------------------------------------------------------------------------
# score (Lagrange multiplier) test
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _ScoreProgram:
    loglik: Callable
    fisher: Callable | None
    information: str
    free: tuple  # bool per flattened natural element


def _score_core(static: _ScoreProgram, params, data, w):
    flat0, unravel = ravel_pytree(params)
    free = np.asarray(static.free)

    def terms(x):
        t = static.loglik(unravel(x), data)
        return t

    def total(x):
        t = terms(x)
        if w is not None:
            t = jnp.where(w > 0, w * t, 0.0)
        return jnp.sum(t)

    g = jax.grad(total)(flat0)
    if static.information == "oim":
        info = -jax.hessian(total)(flat0)
    elif static.information == "opg":
        S = jax.jacfwd(terms)(flat0)
        ww = jnp.ones(S.shape[0], S.dtype) if w is None else jnp.where(w > 0, w, 0.0)
        S = jnp.where(ww[:, None] > 0, S, 0.0)
        info = (S * ww[:, None]).T @ S
    else:  # "eim": J' c J through the model's linear predictors
        eta, c = static.fisher(unravel(flat0), data)
        c = jax.lax.stop_gradient(c)
        J = jax.jacfwd(lambda x: static.fisher(unravel(x), data)[0])(flat0)
        ww = jnp.ones(eta.shape[:1], eta.dtype) if w is None else w
        if eta.ndim == 1:
            cw = jnp.where(ww > 0, ww * c, 0.0)
            info = (J * cw[:, None]).T @ J
        else:
            cw = jnp.where((ww > 0)[:, None, None], ww[:, None, None] * c, 0.0)
            info = jnp.einsum("nak,nab,nbl->kl", J, cw, J)
    g, info = g[free], info[np.ix_(free, free)]
    info = 0.5 * (info + info.T)
    return g, info, _wald_core(g, info)


_score_jit = jax.jit(_score_core, static_argnums=0)


def score_test(
    restricted,
    loglik: Any,
    params: Any,
    data: Any = None,
    weights: Any = None,
    *,
    information: str = "oim",
    fixed: Any = (),
    df: int | None = None,
) -> TestResult:
    r"""Score (Lagrange multiplier) test of a restricted fit against a larger model.

    The larger model is never fitted: its score and information are evaluated
    at the restricted estimate by autodiff.

    Parameters
    ----------
    restricted : FitResult
        Fit of the restricted model (supplies the data, weights and the number
        of restricted parameters).
    loglik : callable or Model
        Log-likelihood of the full model, ``loglik(params, data)`` (one value
        per observation or a total), or an :class:`~likelihax.Model` (its
        ``fisher`` serves ``information="eim"``; its fixed parameters are
        excluded).
    params : pytree
        Full-model parameters at the restricted estimate (natural scale), e.g.
        ``{**restricted.params, "gamma": 0.0}``.
    data, weights : optional
        Default: those of the restricted fit.
    information : {"oim", "eim", "opg"}
        Information matrix: observed :math:`-\nabla^2\ell` (default;
        statsmodels ``GLM.score_test(observed=True)``), expected (needs a
        ``Model`` with ``fisher=``; ``observed=False``) or the outer product of
        the per-observation scores (the :math:`nR^2` form).
    fixed : sequence of str
        Names (top-level keys) of parameters in ``params`` that are known
        constants in the full model, not estimated.
    df : int, optional
        Number of restrictions; default the number of full-model parameters
        minus ``restricted.n_params``.

    Returns
    -------
    TestResult
        :math:`LM = s^\top \mathcal J^{-1} s` against :math:`\chi^2_{\mathrm{df}}`
        (score :math:`s` and information :math:`\mathcal J` of the full model on
        the natural scale of ``params``).

    Raises
    ------
    ValueError
        The restricted fit is not a likelihood or uses importance weights; a
        bad ``information``; ``df`` not positive.

    Examples
    --------
    Equal means of two groups with known variance 1: the restricted fit has one
    common mean; the full model one mean per group, evaluated at the common
    estimate. Here :math:`LM = \sum_j n_j(\bar y_j - \bar y)^2`:

    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> d = {"y": np.array([1.2, 0.8, 1.9, 1.4, 0.6, 2.1, 1.7, 2.9, 2.2]),
    ...      "g": np.array([0, 0, 0, 0, 0, 1, 1, 1, 1])}
    >>> f0 = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0), {"mu": 0.0}, d)
    >>> def full(p, d):
    ...     return st.norm.logpdf(d["y"], p["mu"][d["g"]], 1.0)
    >>> m = float(f0.params["mu"])
    >>> t = lx.inference.score_test(f0, full, {"mu": np.array([m, m])})
    >>> y, g = d["y"], d["g"]
    >>> between = 5 * (y[g == 0].mean() - m) ** 2 + 4 * (y[g == 1].mean() - m) ** 2
    >>> bool(np.isclose(t.statistic, between)), t.df
    (True, 1)
    """
    from ..data import prepare_data
    from ..engine import Model, prepare_weights

    restricted = as_fit(restricted)
    _require_likelihood(restricted, "restricted")
    if information not in ("oim", "eim", "opg"):
        raise ValueError(
            f"information must be 'oim', 'eim' or 'opg'; got {information!r}."
        )
    fisher = None
    fixed_names = set(fixed)
    if isinstance(loglik, Model):
        fisher = loglik.fisher
        fixed_names |= {
            n for i, n in enumerate(loglik.spec.names) if loglik.spec.is_fixed(i)
        }
        loglik = loglik.loglik
    if not callable(loglik):
        raise TypeError(f"loglik must be a function or a Model; got {type(loglik)}.")
    if information == "eim" and fisher is None:
        raise ValueError(
            "information='eim' needs the full model's expected information: pass "
            "lx.Model(loglik, params, fisher=fn)."
        )
    if data is None:
        data = restricted.setup.data
        if data is None:
            raise ValueError("The restricted fit carries no data; pass data=.")
    if weights is None:
        weights = restricted.setup.weights
    paths = jax.tree_util.tree_flatten_with_path(params)[0]
    free = []
    names = set()
    for path, leaf in paths:
        top = path[0].key if path and hasattr(path[0], "key") else None
        names.add(top)
        free.extend([top not in fixed_names] * int(np.size(leaf)))
    unknown = fixed_names - names
    if unknown:
        raise ValueError(f"fixed names {sorted(unknown)} are not keys of params.")
    with x64_scope():
        dt = np.dtype(restricted.dtype)
        jdata = prepare_data(data, dt)
        jparams = jax.tree_util.tree_map(lambda x: jnp.asarray(x, dt), params)
        out = jax.eval_shape(loglik, jparams, jdata)
        w = None
        if weights is not None:
            w = prepare_weights(weights, out.shape[0] if out.shape else None,
                                 out.shape != (), dt)  # fmt: skip
        if information == "opg" and out.shape == ():
            raise ValueError(
                "information='opg' needs one log-likelihood value per observation."
            )
        static = _ScoreProgram(loglik, fisher, information, tuple(free))
        _, _, lm = _score_jit(static, jparams, jdata, w)
        lm = float(lm)
    k_full = int(sum(free))
    if df is None:
        df = k_full - (restricted.n_params)
    if df <= 0:
        raise ValueError(
            f"The full model has {k_full} free parameters and the restricted fit "
            f"{restricted.n_params}: df = {df}. Give df= (the number of restrictions)."
        )
    text = f"restricted fit against the full model ({_count(k_full)})"
    return TestResult("score", lm, int(df), chi2_sf(lm, df), "chi2", None, text)


def _count(k: int) -> str:
    """``"1 parameter"``, ``"3 parameters"``."""
    return f"{k} parameter" if k == 1 else f"{k} parameters"
