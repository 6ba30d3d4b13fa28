r"""Penalized regression splines with smoothing parameters by REML (``lx.gam``; R ``mgcv``).

``lx.gam("y ~ x + s(z) + s(w, bs='cc', k=15)", df, family="poisson")`` fits
a generalized additive model: parametric terms as in :func:`likelihax.glm` and
a smooth function per ``s(var, bs=..., k=...)`` term, penalized by its
wiggliness :math:`\beta^\top S\beta`. The bases, each as mgcv's of that name
(``likelihax.models._smooths`` has the details):

* ``bs="cr"`` (the default), cubic regression spline: ``k`` knots (default
  10) placed as mgcv's ``place.knots`` (evenly through the sorted distinct
  values), evaluated by formulaic's ``cubic_spline`` (the natural cubic
  spline parametrised by its values at the knots), penalty :math:`\int
  f''(x)^2 dx` (:func:`cr_penalty`).
* ``bs="cc"``, cyclic cubic regression spline: the same knots, value and
  first two derivatives equal at the end knots (for a periodic covariate such
  as the time of day), penalty :math:`\int f''(x)^2 dx`.
* ``bs="ps"``, P-spline (Eilers and Marx): ``k`` cubic B-splines on evenly
  spaced knots, the second-order difference penalty.
* ``bs="tp"``, thin-plate regression spline (mgcv's default basis): the
  truncated eigenbasis (``k`` functions) of the thin-plate spline at the
  distinct values, penalty :math:`\int f''(x)^2 dx`.

Each smooth is centred (its values sum to zero over the data: the
sum-to-zero constraint absorbed by a QR factorization, as mgcv), which
leaves :math:`k - 1` coefficients, one of them (the linear function)
unpenalized, or none for a cyclic smooth.

**Penalties on parametric coefficients** (mgcv's ``paraPen``):
``penalty={"ridge": ["x1", "x2"]}`` adds :math:`\lambda\,\beta^\top\beta/2`
(or :math:`\lambda\,\beta^\top S\beta/2` with a given :math:`S`) to the
penalty, with its own smoothing parameter: ridge regression with the amount of
shrinkage chosen by REML, or held at a given value with ``sp=``. (A fixed
quadratic penalty on the parameters of any custom likelihood is a Gaussian
prior: :func:`likelihax.fit_map` with :class:`likelihax.priors.Normal`.)

**Estimation.** The penalty is a Gaussian prior on the spline coefficients,
:math:`\beta_j \sim N(0, (\lambda_j S_j)^{-})`, and the smoothing parameters
:math:`\lambda_j` (with the dispersion where the family has one) maximize the
marginal likelihood with every coefficient integrated out, parametric ones
with a flat prior: REML for the Gaussian family (the Laplace approximation is
exact there) and its Laplace approximation (LAML) for the others, the
criterion of ``gam(..., method = "REML")``. That is one model for the engine:
the Laplace approximation of :func:`likelihax.models.random_effects.integrate`
over the coefficients, maximized over :math:`\log\lambda` by Newton with the
exact Hessian (``result.fit``: the smoothing parameters with their standard
errors). The coefficients are then the posterior mode and their covariance
the Bayesian :math:`V_p = (X^\top W X/\phi + S_\lambda)^{-1}` (mgcv's
``vcov``), and the effective degrees of freedom the diagonal of
:math:`F = V_p X^\top W X/\phi` summed per term.

References
----------
Wood, S. N. (2011). Fast stable restricted maximum likelihood and marginal
likelihood estimation of semiparametric generalized linear models. *J. R.
Statist. Soc. B* 73, 3-36. Wood, S. N. (2017). *Generalized Additive Models:
An Introduction with R*, 2nd ed., sec. 5.3 (the bases).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.stats as sst

from ..core import format_pvalue, x64_scope
from ..engine import fit as engine_fit
from ..parameters import Param
from ..results import ModelInfo
from ..parameters import constraints as C
from ._design import column_values, design, model_matrix
from ._predictor_more import gam_predictor
from ._smooths import Smooth, cr_penalty, make_smooth, parse_formula, place_knots
from .glm import LINKS, get_family
from .random_effects import integrate

__all__ = ["GamResult", "cr_penalty", "gam", "place_knots"]


# ----- the model -----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _GamJoint:
    """Joint log-density of the rows and all coefficients ``beta`` (module notes)."""

    family: Any
    link: Any
    blocks: tuple  # (start, stop) of each penalized term's coefficients
    labels: tuple  # the terms' labels (keys of params["lambda"])

    def __call__(self, p, d):
        beta = p["beta"]
        eta = d["X"] @ beta + d["offset"]
        phi = p["sigma"] ** 2 if self.family.dispersion else 1.0
        alpha = p.get("alpha")
        rows = self.family.loglik(d["y"], eta, self.link.inverse(eta), self.link, d["m"], phi,
                                  alpha)  # fmt: skip
        prior = 0.0
        for j, (a, b) in enumerate(self.blocks):
            bj, lam = beta[a:b], p["lambda"][self.labels[j]]
            prior = prior + (-0.5 * lam * bj @ d[f"S{j}"] @ bj
                             + 0.5 * d[f"rank{j}"] * (jnp.log(lam) - math.log(2 * math.pi))
                             + 0.5 * d[f"logdet{j}"])  # fmt: skip
        return rows, jnp.reshape(prior, (1,))


def _coef_posterior(p, d):
    """The coefficients' Gaussian posterior log-density (up to a constant)."""
    e = p["beta"] - d["m"]
    return -0.5 * e @ d["P"] @ e


@dataclasses.dataclass(frozen=True)
class GamResult:
    """Result of :func:`gam`.

    Attributes
    ----------
    fit : FitResult
        The engine's fit of the smoothing parameters (``lambda``, per
        penalized term, of the unscaled penalty) and the dispersion (``sigma``,
        :math:`\\sqrt\\phi`; NB2 ``alpha``) by REML/LAML; ``fit.loglik`` is
        the maximized marginal log-likelihood.
    coef : dict
        Coefficients (posterior modes): parametric by column, smooths as
        ``s(x).1``, ``s(x).2``, ...
    Vp : ndarray
        Their Bayesian covariance (mgcv's ``vcov``).
    edf : dict
        Effective degrees of freedom per penalized term (smooth or penalty).
    at_limit : tuple
        Labels of the terms held at :math:`\\lambda = \\infty` (the criterion
        rises towards it: a smooth is linear, penalized coefficients zero).
    edf_total : float
        Of the whole model (parametric terms count one each).
    """

    fit: Any
    coef: dict
    Vp: np.ndarray
    edf: dict
    edf_total: float
    family: str
    link: str
    smooths: tuple
    at_limit: tuple
    _para: Any = dataclasses.field(repr=False)
    _beta: np.ndarray = dataclasses.field(repr=False)
    _X: np.ndarray = dataclasses.field(repr=False)
    _perm: np.ndarray = dataclasses.field(repr=False)

    @property
    def loglik(self) -> float:
        """The maximized REML (Gaussian) or LAML marginal log-likelihood."""
        return self.fit.loglik

    @property
    def converged(self) -> bool:
        return self.fit.converged

    @property
    def se(self) -> dict:
        """Standard errors of :attr:`coef` from :attr:`Vp`."""
        return dict(zip(self.coef, np.sqrt(np.diag(self.Vp))))

    @property
    def model_info(self) -> ModelInfo:
        """What this result is (``kind="gam"``, its family and link)."""
        return self.fit.model_info

    @functools.cached_property
    def coef_fit(self):
        """The coefficients' posterior :math:`N(\\hat\\beta, V_p)` as a fit
        (``params["beta"]``, in the order of :attr:`coef`; covariance
        :attr:`Vp`): what :func:`likelihax.predict` and
        :func:`likelihax.slopes` read, so their standard errors are mgcv's
        ``predict.gam(se.fit = TRUE)``. Bootstrap intervals are not available
        from it (it has no rows to resample)."""
        P = np.linalg.inv(self.Vp)
        beta = np.asarray(self._beta, dtype=np.float64)
        f = engine_fit(_coef_posterior, {"beta": beta}, {"m": beta, "P": (P + P.T) / 2})
        return f.replace(params_flat=beta, cov_flat=np.asarray(self.Vp, dtype=np.float64),
                         model_info=ModelInfo(kind="gam_coefficients"))

    predictor = gam_predictor  # the protocol of lx.predict and lx.slopes

    def simulate(self, n: int = 1, seed=0, newdata=None):
        """New responses, ``(n, n_obs)``: the family at the fitted means with
        the REML/LAML scale; see :func:`likelihax.simulate`."""
        from ..results import simulate

        return simulate(self, n, seed, newdata)

    def _matrix(self, newdata):
        Xp = model_matrix(self._para, newdata)[:, self._perm]
        import pandas as pd

        df = newdata if isinstance(newdata, pd.DataFrame) else pd.DataFrame(dict(newdata))
        parts = [Xp] + [s.basis(column_values(df, s.var, s.label)) for s in self.smooths]
        return np.column_stack(parts)

    def predict(self, newdata: Any = None, which: str = "response", se: bool = False):
        """The mean (``"response"``) or linear predictor (``"link"``) at new
        rows, with standard errors from :attr:`Vp` (the response's by the
        delta method) on request. Values of a smooth's variable outside its
        knots are clamped to the end knots for ``bs="cr"``, wrapped into the
        period for ``"cc"``; ``"ps"`` and ``"tp"`` smooths continue linearly.

        Examples
        --------
        >>> import numpy as np, pandas as pd, likelihax as lx
        >>> rng = np.random.default_rng(0)
        >>> x = rng.uniform(0, 1, 300)
        >>> df = pd.DataFrame({"x": x, "y": np.sin(6 * x) + 0.3 * rng.normal(size=300)})
        >>> r = lx.gam("y ~ s(x)", df)
        >>> mu, se = r.predict(pd.DataFrame({"x": [0.25]}), se=True)
        >>> bool(abs(mu[0] - np.sin(1.5)) < 3 * se[0]), bool(se[0] < 0.1)
        (True, True)
        """
        if which not in ("response", "link"):
            raise ValueError(f"which must be 'response' or 'link'; got {which!r}.")
        X = self._X if newdata is None else self._matrix(newdata)
        eta = X @ self._beta
        link = LINKS[self.link]
        with x64_scope():
            mu = np.asarray(link.inverse(jnp.asarray(eta)))
            dmu = np.asarray(link.deriv(jnp.asarray(eta)))
        out = eta if which == "link" else mu
        if not se:
            return out
        s_eta = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", X, self.Vp, X), 0.0))
        return out, (s_eta if which == "link" else np.abs(dmu) * s_eta)

    def summary(self) -> str:
        """Parametric coefficients (Wald tests with :attr:`Vp`), the smooth
        terms' EDF and smoothing parameters, and the criterion."""
        se = self.se
        lines = [f"Generalized additive model ({self.family}, {self.link} link), smoothing "
                 f"parameters by {'REML' if self.family == 'gaussian' else 'LAML'}",
                 f"Marginal log-likelihood: {self.loglik:.6f}   EDF: {self.edf_total:.3f}",
                 "", f"{'':<24}{'estimate':>12}{'std.err':>12}{'z':>10}{'P>|z|':>12}"]  # fmt: skip
        for c in self._para.columns:
            name = "(Intercept)" if c == "Intercept" else c
            z = self.coef[name] / se[name]
            p = 2 * sst.norm.sf(abs(z))
            ptxt = format_pvalue(p)
            lines.append(f"{name:<24}{self.coef[name]:>12.5g}{se[name]:>12.5g}{z:>10.3f}{ptxt:>12}")
        lines += ["", f"{'penalty':<24}{'edf':>12}{'lambda':>14}"]
        for lab, e in self.edf.items():
            lv = float(self.fit.params["lambda"][lab])
            lines.append(f"{lab:<24}{e:>12.4f}{lv:>14.5g}"
                         + ("  (at lambda = infinity)" if lab in self.at_limit else ""))
        if "sigma" in self.fit.params:
            lines.append(f"scale (phi): {float(self.fit.params['sigma']) ** 2:.6g}")
        return "\n".join(lines)


def gam(formula: str, data: Any, family: str = "gaussian", link: str | None = None, *,
        penalty: dict | None = None, sp: dict | None = None, offset: Any = None,
        missing: str = "raise", **fit_kwargs) -> GamResult:  # fmt: skip
    """Generalized additive model: penalized regression splines, smoothing by REML (module notes).

    Parameters
    ----------
    formula : str
        ``"y ~ x1 + s(x2) + s(x3, k=20)"``: parametric terms as in
        :func:`likelihax.glm` and ``s(var, bs="cr", k=10)`` smooths, ``bs``
        one of ``"cr"`` (cubic regression spline, the default), ``"cc"``
        (cyclic), ``"ps"`` (P-spline) and ``"tp"`` (thin-plate regression
        spline); ``k`` (default 10) is the number of knots (``"cr"``,
        ``"cc"``) or basis functions, at least 3 (4 for ``"cc"`` and
        ``"ps"``) and at most the variable's distinct values.
    data : DataFrame or dict of columns
        Not modified.
    family, link : str
        A family of :func:`likelihax.glm` (default Gaussian) and its link.
    penalty : dict, optional
        Quadratic penalties on parametric coefficients (mgcv's ``paraPen``),
        each with its own smoothing parameter: ``{label: [columns]}`` for a
        ridge (identity) penalty, or ``{label: ([columns], S)}`` with a
        symmetric positive semi-definite ``S``. Columns are named as in the
        summary (``"x"``, ``"g[T.b]"``).
    sp : dict, optional
        Smoothing parameters held at given values, by label (``"s(x)"`` or a
        penalty's label); the others by REML. At least one parameter (a
        smoothing parameter or the dispersion) must remain to estimate.
    offset : column name or array, optional
    missing : {"raise", "drop"}
    **fit_kwargs
        Passed to :func:`likelihax.fit` (the smoothing parameters' fit).

    Returns
    -------
    GamResult

    Raises
    ------
    ValueError
        An ``s()`` term with an unknown basis or options other than ``k`` and
        ``bs`` (the message names the term and lists the bases), ``k`` below
        the basis's least or above the variable's distinct values; no
        ``s()`` term or penalty; a penalty naming an unknown or intercept column, or a
        column twice; an ``S`` of the wrong shape, not symmetric or not
        positive semi-definite; ``sp`` for an unknown label.

    Examples
    --------
    >>> import numpy as np, pandas as pd, likelihax as lx
    >>> rng = np.random.default_rng(1)
    >>> x, z = rng.uniform(0, 1, (2, 400))
    >>> y = rng.poisson(np.exp(1 + np.sin(2 * np.pi * x) + 0.5 * z))
    >>> r = lx.gam("y ~ z + s(x)", pd.DataFrame({"y": y, "x": x, "z": z}), family="poisson")
    >>> round(r.coef["z"], 1), 4 < r.edf["s(x)"] < 9
    (0.5, True)

    A cyclic smooth of the hour of the day:

    >>> hour = rng.uniform(0, 24, 300)
    >>> y = np.cos(2 * np.pi * hour / 24) + 0.3 * rng.normal(size=300)
    >>> r = lx.gam("y ~ s(hour, bs='cc', k=8)", pd.DataFrame({"y": y, "hour": hour}))
    >>> bool(abs(r.predict(pd.DataFrame({"hour": [12.0]}))[0] + 1) < 0.15)
    True
    """
    fam = get_family(family)
    lnk = LINKS[link or fam.canonical]
    para_f, specs = parse_formula(formula, bool(penalty))
    extra = {} if offset is None else {"offset": offset}
    # The smooths' variables as extras: the missing-value rule covers them.
    extra.update({f"s({var})": var for var, *_ in specs})
    para = design(para_f, data, missing=missing, extra=extra)
    X, names, terms, blocks, perm = _assemble(para, specs, penalty or {})
    y = np.asarray(para.y, dtype=np.float64)
    n = y.size
    off = np.broadcast_to(np.asarray(para.extra.get("offset", 0.0), np.float64), (n,)).copy()
    d = {"y": y, "X": X, "offset": off, "m": np.ones(n)}
    for j, t in enumerate(terms):
        d[f"S{j}"], d[f"rank{j}"], d[f"logdet{j}"] = t.S, np.float64(t.rank), np.float64(t.logdet)
    labels = tuple(t.label for t in terms)
    params = _starts(fam, lnk, X, y, off, terms, blocks, sp or {})
    joint = _GamJoint(fam, lnk, tuple(blocks), labels)
    quad = fam.name == "gaussian" and lnk.name == "identity"
    model = integrate(joint, {"beta": X.shape[1]}, quadratic=quad)
    fit, F, beta, Vp, limit = _estimate(model, params, d, n, terms, blocks, fit_kwargs)
    note = ["lambda: coefficient of each penalty (for a smooth the integral of f''^2, "
            "unscaled)."]  # fmt: skip
    if limit:
        note.append(f"{', '.join(limit)}: at lambda = infinity (the criterion increases up "
                    "to it: a smooth is linear, penalized coefficients zero); lambda held "
                    "where the fit reached.")  # fmt: skip
    fit = fit.annotate("GAM smoothing parameters (REML/LAML)",
                       [("Rows", str(n)), ("Penalties", ", ".join(labels))], note  # fmt: skip
                       ).replace(model_info=ModelInfo(kind="gam", family=fam.name, link=lnk.name))
    edf = {t.label: float(np.trace(F[a:b, a:b])) for t, (a, b) in zip(terms, blocks)}
    smooths = tuple(t for t in terms if isinstance(t, Smooth))
    return GamResult(fit, dict(zip(names, map(float, beta))), Vp, edf, float(np.trace(F)),
                     fam.name, lnk.name, smooths, tuple(limit), para, beta, X, perm)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class _Penalty:
    """A quadratic penalty on parametric coefficients (``gam(penalty=)``)."""

    label: str
    columns: tuple
    S: np.ndarray
    rank: int
    logdet: float


def _penalty(label, spec, names) -> _Penalty:
    cols, S = (spec, None) if not isinstance(spec, tuple) else spec
    cols = [cols] if isinstance(cols, str) else list(cols)
    for c in cols:
        if c not in names or c == "(Intercept)":
            raise ValueError(f"penalty[{label!r}]: {c!r} is not a penalizable column of the "
                             f"formula ({[n for n in names if n != '(Intercept)']}).")  # fmt: skip
    S = np.eye(len(cols)) if S is None else np.asarray(S, dtype=np.float64)
    if S.shape != (len(cols),) * 2 or not np.allclose(S, S.T, atol=1e-12 * np.abs(S).max()):
        raise ValueError(f"penalty[{label!r}]: S must be a symmetric {len(cols)} x "
                         f"{len(cols)} matrix; got shape {S.shape}.")  # fmt: skip
    ev = np.linalg.eigvalsh(S)
    if ev.min() < -1e-10 * max(ev.max(), 1e-300) or ev.max() <= 0:
        raise ValueError(f"penalty[{label!r}]: S must be positive semi-definite and non-zero.")
    rank = int(np.sum(ev > ev.max() * 1e-10))
    return _Penalty(label, tuple(cols), S, rank, float(np.sum(np.log(ev[-rank:]))))


def _assemble(para, specs, penalty):
    """The model matrix (unpenalized parametric columns, each penalty's
    columns, each smooth's basis), coefficient names, the penalized terms,
    their column blocks and the parametric columns' order."""
    names = ["(Intercept)" if c == "Intercept" else c for c in para.columns]
    pens = [_penalty(lab, spec, names) for lab, spec in penalty.items()]
    used = [c for p in pens for c in p.columns]
    if len(set(used)) < len(used):
        raise ValueError(f"A column is in two penalties: {sorted(used)}.")
    free = [c for c in names if c not in used]
    perm = [names.index(c) for c in free + used]
    cols, out_names, terms, blocks = [para.X[:, perm]], free + used, [], []
    start = len(free)
    for p in pens:
        terms.append(p)
        blocks.append((start, start + len(p.columns)))
        start += len(p.columns)
    for var, k, bs in specs:
        sm, Xs = make_smooth(var, np.asarray(para.extra[f"s({var})"], dtype=np.float64), k, bs)
        terms.append(sm)
        cols.append(Xs)
        blocks.append((start, start + Xs.shape[1]))
        out_names += [f"{sm.label}.{i + 1}" for i in range(Xs.shape[1])]
        start += Xs.shape[1]
    return np.column_stack(cols), out_names, terms, blocks, np.asarray(perm)


def _estimate(model, params, d, n, terms, blocks, fit_kwargs):
    """The engine's REML/LAML fit; terms whose criterion rises towards
    lambda = infinity are held at their limit and the others fitted again.

    A term is at its limit when its penalized directions keep less than
    ``LINEAR_EDF`` effective degrees of freedom against the rows' curvature of
    its own block (generalized eigenvalues, free of the cancellation in
    ``I - Vp S``). It is then held at the lambda that leaves them
    ``LIMIT_EDF``: the fit is the linear limit to that accuracy, while the
    criterion stays computable (at lambda near 1e12 the joint Hessian's
    condition number reaches 1/eps and the criterion is rounding noise).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = engine_fit(model, params, d, nobs=n, **fit_kwargs)
        F, beta, Vp, H = _posterior(model, fit, d)
        lam = {t.label: float(fit.params["lambda"][t.label]) for t in terms}
        mus = [_penalty_eigs(H[a:b, a:b], t.S, t.rank) for t, (a, b) in zip(terms, blocks)]
        limit = [t.label for t, mu in zip(terms, mus)
                 if np.sum(1.0 / (1.0 + lam[t.label] * mu)) < LINEAR_EDF]  # fmt: skip
        if not fit.converged and limit:
            params = {k: v for k, v in fit.params.items() if k != "lambda"}
            params["lambda"] = {}
            for t, mu in zip(terms, mus):
                v = lam[t.label]
                if t.label in limit:  # sum 1/(1 + lam mu) <= LIMIT_EDF
                    v = len(mu) / (LIMIT_EDF * float(np.min(mu)))
                fixed = t.label in limit or _fixed(fit, t.label)
                params["lambda"][t.label] = Param(v, C.positive, fixed=fixed)
            caught.clear()
            fit = engine_fit(model, params, d, nobs=n, **fit_kwargs)
            F, beta, Vp, H = _posterior(model, fit, d)
        else:
            limit = []
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=3)
    return fit, F, beta, Vp, limit


def _penalty_eigs(Hb, S, rank):
    """The ``rank`` positive generalized eigenvalues of ``S v = mu Hb v``: a
    penalized direction keeps ``1 / (1 + lambda mu)`` degrees of freedom."""
    from scipy.linalg import LinAlgError, eigh

    Hb = (Hb + Hb.T) / 2 + 1e-12 * np.trace(Hb) / len(Hb) * np.eye(len(Hb))
    try:
        mu = eigh(S, Hb, eigvals_only=True)  # ascending
    except LinAlgError:  # no curvature from the rows: nothing limits lambda
        return np.full(rank, np.inf)
    return np.maximum(mu[len(mu) - rank :], 1e-300)


def _fixed(fit, label) -> bool:
    return bool(fit.fixed_mask[fit.labels.index(f"lambda.{label}")])


# A smooth whose penalized part keeps less than this many effective degrees of
# freedom is at its linear limit (lambda -> infinity).
LINEAR_EDF = 1e-2
# ... and one at its limit is held where they keep this many.
LIMIT_EDF = 1e-7


def _posterior(model, fit, d):
    """``(F, beta, Vp, H)``: the EDF matrix, the coefficients' mode, their
    Bayesian covariance and the rows' curvature at the fit's smoothing
    parameters."""
    re_ = model.random_effects(fit.params, d, full=True)
    beta, Vp = np.asarray(re_.modes["beta"]), np.asarray(re_.cov)
    # F = Vp H_data, with the rows' own curvature: I - Vp S_lambda is the same
    # matrix but cancels to rounding noise when a lambda runs to infinity.
    with x64_scope():
        params = {k: v for k, v in fit.params.items() if k != "beta"}

        def rows(b):
            return jnp.sum(model.joint({**params, "beta": b}, d)[0])

        H = -np.asarray(jax.hessian(rows)(jnp.asarray(beta)))
    return Vp @ H, beta, Vp, H


def _starts(fam, lnk, X, y, off, terms, blocks, sp):
    """Smoothing parameters that weigh each penalty like the data's curvature
    of its block (mgcv's ``initial.sp`` idea), at the GLM working weights of
    the unpenalized start; the dispersion from the residuals."""
    with x64_scope():
        mu0 = np.asarray(fam.mustart(y, 1.0), dtype=np.float64)
        eta0 = np.asarray(lnk.link(jnp.asarray(mu0)))
        dmu = np.asarray(lnk.deriv(jnp.asarray(eta0)))
        v = np.asarray(fam.variance(jnp.asarray(mu0), 1.0))
    w = dmu**2 / np.maximum(v, 1e-12)
    params = {}
    if fam.dispersion:
        beta = np.linalg.lstsq(X, y - off, rcond=None)[0]
        sigma = float(np.std(y - off - X @ beta)) or 1.0
        params["sigma"] = Param(sigma, C.positive)
        w = w / sigma**2 if fam.name == "gaussian" else w
    if fam.has_alpha:
        params["alpha"] = Param(0.5, C.positive)
    params["lambda"] = {}
    for t, (a, b) in zip(terms, blocks):
        xw = np.sum(w[:, None] * X[:, a:b] ** 2, axis=0).mean()
        lam = xw / max(np.trace(t.S) / t.rank, 1e-300) / 10.0
        params["lambda"][t.label] = Param(float(lam), C.positive)
    for lab, v in sp.items():
        if lab not in params["lambda"]:
            raise ValueError(f"sp names {lab!r}, not a penalty: {list(params['lambda'])}.")
        if not v > 0:
            raise ValueError(f"sp[{lab!r}] must be positive; got {v}.")
        params["lambda"][lab] = Param(float(v), C.positive, fixed=True)
    return params
