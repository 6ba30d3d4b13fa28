r"""Comparing fits of different kinds: likelihood ratios with boundary nulls, and Vuong's test.

Which to use
------------
* :func:`compare_lr`: nested models, possibly of different kinds (a GLM
  against the mixed model that adds a random effect, Poisson against NB2).
  When the restriction puts parameters on the boundary of their space (a
  variance or an NB2 :math:`\alpha` equal to 0), the null distribution of
  the LR statistic is a chi-bar-squared mixture, not :math:`\chi^2`.
* :func:`vuong_test`: non-nested models of the same response (Poisson against
  zero-inflated Poisson), from the per-observation log-likelihoods
  (:func:`loglik_obs`).

Boundary nulls
--------------
The restricted model fixes :math:`k` parameters of the full one at the lower
bound of their support (constraint ``positive``: standard deviations,
variances, dispersions) and :math:`d` others at interior values. Then

.. math::
   LR \;\sim\; \sum_{j=0}^{k} \binom{k}{j} 2^{-k}\, \chi^2_{d+j}

(:math:`\chi^2_0` a point mass at 0) when the :math:`k` boundary parameters
are asymptotically independent (Self and Liang, 1987, case of orthogonal
components: independent variance components such as ``(1 | a) + (1 | b)``
or ``(x || g)``), and, for :math:`k = 1`, when the :math:`d` others are the
covariances of the new random effect with :math:`q = d` existing ones
(Stram and Lee, 1994: :math:`\tfrac12\chi^2_q + \tfrac12\chi^2_{q+1}`).
With :math:`k = 1, d = 0` this is the familiar
:math:`\tfrac12\chi^2_0 + \tfrac12\chi^2_1` (Stata's ``chibar2(01)``),
whose p-value is half the :math:`\chi^2_1` one. Other configurations
(:math:`k > 1` together with :math:`d > 0`) have weights that depend on
the information matrix; give them as ``mixture=``.

:math:`k` is read from the fits' constraints: the free parameters of the full
model whose labels the restricted model lacks and whose support is
:math:`(0, \infty)`, less those of the restricted model whose labels the full
one lacks (a dispersion named differently, such as a GLM's ``dispersion``
and a mixed model's ``sigma``).

References
----------
Self, S. G. and Liang, K.-Y. (1987). Asymptotic properties of maximum
likelihood estimators and likelihood ratio tests under nonstandard
conditions. *JASA* 82, 605-610.
Stram, D. O. and Lee, J. W. (1994). Variance components testing in the
longitudinal mixed effects model. *Biometrics* 50, 1171-1177.
Vuong, Q. H. (1989). Likelihood ratio tests for model selection and
non-nested hypotheses. *Econometrica* 57, 307-333.
"""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist

import numpy as np

from ..core import format_pvalue, x64_scope
from ..results import as_fit
from ._tails import chi2_sf

__all__ = ["LRComparison", "VuongResult", "compare_lr", "loglik_obs", "vuong_test"]


@dataclasses.dataclass(frozen=True)
class LRComparison:
    """Outcome of :func:`compare_lr`.

    Attributes
    ----------
    statistic : float
        :math:`LR = 2(\\ell_{\\mathrm{full}} - \\ell_{\\mathrm{restricted}})`.
    df : int
        Number of restrictions (difference in free parameters).
    pvalue : float
    distribution : str
        ``"chi2"`` or ``"chibar2"``.
    mixture : dict
        Degrees of freedom -> weight of the null distribution (``{df: 1.0}``
        for :math:`\\chi^2`).
    boundary : tuple of str
        Labels of the full model's parameters whose null value is on the
        boundary.
    loglik : tuple of float
        (restricted, full) log-likelihoods.
    """

    __test__ = False

    statistic: float
    df: int
    pvalue: float
    distribution: str
    mixture: dict
    boundary: tuple
    loglik: tuple

    def __iter__(self):
        """``stat, p, df = result``."""
        return iter((self.statistic, self.pvalue, self.df))

    def __repr__(self) -> str:
        mix = " + ".join(f"{w:g} chi2({d})" for d, w in sorted(self.mixture.items()))
        on = f" (boundary: {', '.join(self.boundary)})" if self.boundary else ""
        return (f"LR test{on}\n  LR = {self.statistic:.6g}, null {mix}, "
                f"p-value = {format_pvalue(self.pvalue)}")  # fmt: skip


def _chi2_tail(x: float, df: int) -> float:
    if df == 0:  # point mass at 0
        return 0.0 if x > 0 else 1.0
    return chi2_sf(x, df)


def chibar_weights(k: int, d: int = 0) -> dict:
    r"""Weights of :math:`\sum_j \binom{k}{j}2^{-k}\chi^2_{d+j}` (module notes), by df."""
    return {d + j: math.comb(k, j) / 2.0**k for j in range(k + 1)}


def _is_reml(obj) -> bool:
    return bool(getattr(obj, "reml", False))


def _response(obj):
    """The response of a model result, where it exposes its design (else None)."""
    for name in ("design", "_design"):
        y = getattr(getattr(obj, name, None), "y", None)
        if y is not None:
            return np.asarray(y, dtype=np.float64)
    return None


def _rows(obj, fit) -> float:
    n = getattr(obj, "nobs", None)
    return float(fit.nobs if n is None else n)


def _check_comparable(restricted, full, fits) -> None:
    for role, obj, fit in zip(("restricted", "full"), (restricted, full), fits):
        if _is_reml(obj):
            raise ValueError(
                f"The {role} fit is REML: its restricted log-likelihood is not on the "
                "scale of a maximum-likelihood one (and differs with the fixed effects). "
                "Refit with reml=False."
            )
        if not fit.is_likelihood:
            raise ValueError(
                f"The {role} fit is not a likelihood (M-estimation or importance "
                "weights): a likelihood-ratio test does not apply."
            )
        if not bool(fit.converged):
            raise ValueError(f"The {role} fit did not converge: {fit.message}")
    n_r, n_f = _rows(restricted, fits[0]), _rows(full, fits[1])
    if n_r != n_f:
        raise ValueError(
            f"The fits have different numbers of observations ({n_r:g} and {n_f:g}): "
            "a likelihood-ratio test compares fits of the same data."
        )
    y_r, y_f = _response(restricted), _response(full)
    if y_r is not None and y_f is not None and (
        y_r.shape != y_f.shape or not np.allclose(np.sort(y_r), np.sort(y_f), rtol=1e-12)
    ):
        raise ValueError(
            "The fits have different responses: a likelihood-ratio test compares "
            "fits of the same data."
        )


def _positive_free(fit, labels) -> list:
    """Labels among ``labels`` of free parameters with support (0, inf)."""
    spec, out, off = fit.spec, [], 0
    for i, (c, shape) in enumerate(zip(spec.constraints, spec.shapes)):
        m = math.prod(shape)
        names = spec.labels[off : off + m]
        off += m
        if spec.is_fixed(i) or not c.elementwise or c.bounds() != (0.0, math.inf):
            continue
        out += [lab for lab in names if lab in labels]
    return out


# Names models give their dispersion parameter (a GLM's "dispersion", a mixed
# model's "sigma", ...): used only to leave them out of the labels reported.
_DISPERSION_NAMES = ("sigma", "dispersion", "phi", "scale")


def _boundary(fit_r, fit_f) -> tuple:
    """Labels of the full fit's parameters on the boundary under the null, and
    their number net of renamed dispersions (module notes)."""
    lab_r, lab_f = set(fit_r.labels), set(fit_f.labels)
    extra_f = _positive_free(fit_f, lab_f - lab_r)
    extra_r = _positive_free(fit_r, lab_r - lab_f)
    k = len(extra_f) - len(extra_r)
    # the full model's names of a renamed dispersion are not on the boundary
    renamed = [lab for lab in extra_f if lab in _DISPERSION_NAMES][: len(extra_r)]
    return tuple(lab for lab in extra_f if lab not in renamed), k


def compare_lr(restricted, full, *, boundary="auto", mixture=None) -> LRComparison:
    r"""Likelihood-ratio test of nested fits of any kinds, boundary nulls included.

    Parameters
    ----------
    restricted, full : result of any model (GLM, mixed model, count model,
        :func:`likelihax.fit`)
        Fits of the same data by maximum likelihood; the restricted model is
        a special case of the full one (nesting is the caller's claim).
    boundary : {"auto", "chibar", "none"}
        ``"auto"``: a chi-bar-squared null when the restriction sets
        parameters of support :math:`(0, \infty)` to 0 (module notes), else
        :math:`\chi^2`. ``"chibar"``: the same, and an error when no
        parameter is on the boundary. ``"none"``: :math:`\chi^2_{df}`.
    mixture : dict, optional
        The null distribution's weights by degrees of freedom, e.g.
        ``{1: 0.25, 2: 0.5, 3: 0.25}`` (they must sum to 1); overrides
        ``boundary``.

    Returns
    -------
    LRComparison

    Raises
    ------
    ValueError
        A REML fit (refit by ML), a fit that is not a likelihood or did not
        converge, different numbers of observations or responses, ``df <= 0``,
        the restricted log-likelihood above the full one, a boundary
        configuration without a standard null distribution (give ``mixture``),
        bad ``boundary`` or ``mixture``.

    Notes
    -----
    Log-likelihoods are read from each result's full-likelihood fit
    (:func:`likelihax.results.as_fit` with ``likelihood=True``): for a
    Gaussian, gamma or inverse Gaussian GLM the fit with the dispersion at its
    maximum-likelihood value, as in the mixed model's likelihood. Both include
    every constant of the densities.

    Examples
    --------
    A Poisson fit within NB2 (:math:`\alpha = 0` on the boundary):

    >>> import numpy as np, likelihax as lx
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=300)
    >>> y = rng.negative_binomial(2, 2 / (2 + np.exp(0.5 + 0.3 * x)))
    >>> X = np.column_stack([np.ones(300), x])
    >>> t = lx.inference.compare_lr(lx.glm(y, X, family="poisson"),
    ...                             lx.glm(y, X, family="nb2"))
    >>> t.distribution, t.boundary, t.mixture
    ('chibar2', ('alpha',), {0: 0.5, 1: 0.5})
    >>> bool(np.isclose(t.pvalue, 0.5 * lx.inference.chi2_sf(t.statistic, 1)))
    True
    """
    if boundary not in ("auto", "chibar", "none"):
        raise ValueError(f"boundary must be 'auto', 'chibar' or 'none'; got {boundary!r}.")
    fits = (as_fit(restricted, likelihood=True), as_fit(full, likelihood=True))
    _check_comparable(restricted, full, fits)
    fit_r, fit_f = fits
    df = int(fit_f.n_params - fit_r.n_params)
    if df <= 0:
        raise ValueError(
            f"The full model has {fit_f.n_params} free parameters and the restricted "
            f"one {fit_r.n_params}: pass the restricted fit first."
        )
    ll_r, ll_f = float(fit_r.loglik), float(fit_f.loglik)
    lr = 2.0 * (ll_f - ll_r)
    if lr < -2e-6 * max(1.0, abs(ll_f)):
        raise ValueError(
            f"The restricted log-likelihood ({ll_r:.8g}) exceeds the full one "
            f"({ll_f:.8g}): the models are not nested, the arguments are swapped, or "
            "the full fit stopped short of its maximum."
        )
    lr = max(lr, 0.0)
    on, k = _boundary(fit_r, fit_f)
    if mixture is not None:
        mix = {int(d): float(w) for d, w in dict(mixture).items()}
        if any(d < 0 or w < 0 for d, w in mix.items()) or abs(sum(mix.values()) - 1) > 1e-9:
            raise ValueError(f"mixture must map df >= 0 to weights >= 0 summing to 1; "
                             f"got {mixture!r}.")  # fmt: skip
    elif boundary == "none" or (boundary == "auto" and k <= 0):
        mix, on = {df: 1.0}, ()
    elif k <= 0:
        raise ValueError(
            "boundary='chibar': no parameter of the full model is on the boundary "
            "under the restriction (none of support (0, inf) is dropped)."
        )
    elif k > 1 and df > k:
        raise ValueError(
            f"{k} parameters on the boundary ({', '.join(on)}) together with "
            f"{df - k} interior ones: the chi-bar-squared weights depend on the "
            "information matrix. Give them as mixture={df: weight, ...}, or "
            "boundary='none' for the conservative chi2 test."
        )
    else:
        mix = chibar_weights(k, df - k)
    p = sum(w * _chi2_tail(lr, d) for d, w in mix.items())
    dist = "chi2" if len(mix) == 1 else "chibar2"
    return LRComparison(lr, df, float(p), dist, mix, tuple(on), (ll_r, ll_f))


# --------------------------------------------------------------------------------------
# Vuong's test
# --------------------------------------------------------------------------------------


def loglik_obs(result) -> np.ndarray:
    """Per-observation log-likelihood contributions :math:`\\ell_i(\\hat\\theta)`.

    Parameters
    ----------
    result : FitResult or model result
        A fit whose log-likelihood returns one value per observation.

    Returns
    -------
    ndarray (n,)
        Unweighted terms; with frequency weights ``fit.loglik`` is their
        weighted sum.

    Raises
    ------
    ValueError
        A scalar log-likelihood (no per-observation terms), a fit without its
        data, or a batched fit.

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> X = np.column_stack([np.ones(5), [1.0, 2, 3, 4, 5]])
    >>> res = lx.glm(np.array([1, 3, 2, 6, 8]), X, family="poisson")
    >>> ll = lx.inference.loglik_obs(res)
    >>> ll.shape, bool(np.isclose(ll.sum(), res.loglik))
    ((5,), True)
    """
    fit = as_fit(result)
    s = fit.setup
    if not s.per_obs or s.loglik_fn is None or s.data is None:
        raise ValueError(
            "This fit has no per-observation log-likelihood (its log-likelihood "
            "returns a scalar, or its data were not kept)."
        )
    with x64_scope():
        return np.asarray(s.loglik_fn(fit.params, s.data), dtype=np.float64).reshape(-1)


@dataclasses.dataclass(frozen=True)
class VuongResult:
    """Outcome of :func:`vuong_test` (as ``pscl::vuong`` prints it).

    Attributes
    ----------
    statistic : dict
        ``"raw"``, ``"aic"``, ``"bic"``: the z statistics.
    pvalue : dict
        One-sided p-values, in the direction of each statistic's sign.
    preferred : dict
        ``"model1"`` (z > 0) or ``"model2"`` for each correction.
    nobs : int
    k : tuple of int
        Parameters counted for each model.
    """

    __test__ = False

    statistic: dict
    pvalue: dict
    preferred: dict
    nobs: int
    k: tuple

    def __repr__(self) -> str:
        rows = [f"  {name:<4} z = {self.statistic[name]:9.5f}   {self.preferred[name]} "
                f"better, p = {format_pvalue(self.pvalue[name])}"
                for name in ("raw", "aic", "bic")]  # fmt: skip
        return "Vuong non-nested test (N(0, 1) if the models fit equally well)\n" + "\n".join(
            rows
        )


def vuong_test(model1, model2, *, k1: int | None = None, k2: int | None = None) -> VuongResult:
    r"""Vuong's test of two non-nested models of the same response.

    With :math:`m_i = \ell_{1i} - \ell_{2i}` the per-observation difference of
    log-likelihoods, :math:`z = \sum_i (m_i - c) / (\sqrt n\, s)` where
    :math:`s` is the standard deviation (denominator :math:`n - 1`) of
    :math:`m_i - c` and :math:`c` is 0 (raw), :math:`(k_1 - k_2)/n`
    (AIC-corrected) or :math:`(k_1 - k_2)\log n/(2n)` (BIC-corrected), as
    ``pscl::vuong``. :math:`z > 0` favours model 1; p-values are one-sided,
    :math:`1 - \Phi(z)` for :math:`z > 0` and :math:`\Phi(z)` otherwise.

    Parameters
    ----------
    model1, model2 : model results or FitResult
        Unweighted fits of the same response with per-observation
        log-likelihoods (:func:`loglik_obs`).
    k1, k2 : int, optional
        Parameters counted in the corrections; default each result's
        ``n_params``. ``pscl::vuong`` counts ``length(coef(m))``, which
        leaves out a negative binomial's theta: pass ``k2=`` to match it.

    Returns
    -------
    VuongResult

    Raises
    ------
    ValueError
        Different numbers of observations or responses, weighted fits,
        non-finite log-likelihood terms, or identical per-observation
        log-likelihoods (:math:`s = 0`).

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> y = np.where(rng.random(400) < 0.3, 0, rng.poisson(np.exp(0.8 + 0.4 * x)))
    >>> X = np.column_stack([np.ones(400), x])
    >>> v = lx.inference.vuong_test(lx.glm(y, X, family="poisson"),
    ...                             lx.zeroinfl(y, X, Z=X))
    >>> v.preferred["raw"], v.pvalue["raw"] < 1e-3
    ('model2', True)
    """
    l1, l2 = loglik_obs(model1), loglik_obs(model2)
    for name, obj in (("model1", model1), ("model2", model2)):
        if as_fit(obj).setup.weights is not None:
            raise ValueError(f"{name} is a weighted fit; Vuong's test takes unweighted fits.")
    if l1.shape != l2.shape:
        raise ValueError(
            f"The models have different numbers of observations ({l1.size} and {l2.size})."
        )
    y1, y2 = _response(model1), _response(model2)
    if y1 is not None and y2 is not None and not np.array_equal(y1, y2):
        raise ValueError("The models have different responses (rows must match in order).")
    m = l1 - l2
    if not np.all(np.isfinite(m)):
        raise ValueError("Non-finite per-observation log-likelihoods (fitted probability 0?).")
    n = m.size
    k = tuple(int(getattr(obj, "n_params", as_fit(obj).n_params) if kk is None else kk)
              for obj, kk in ((model1, k1), (model2, k2)))  # fmt: skip
    shifts = {"raw": 0.0, "aic": (k[0] - k[1]) / n,
              "bic": (k[0] - k[1]) * math.log(n) / (2.0 * n)}  # fmt: skip
    s = float(np.std(m, ddof=1))
    if not s > 0:
        raise ValueError("The models' per-observation log-likelihoods are identical.")
    z = {name: float(np.sum(m - c)) / (s * math.sqrt(n)) for name, c in shifts.items()}
    cdf = NormalDist().cdf
    p = {name: (1.0 - cdf(v)) if v > 0 else cdf(v) for name, v in z.items()}
    pref = {name: "model1" if v > 0 else "model2" for name, v in z.items()}
    return VuongResult(z, p, pref, n, k)
