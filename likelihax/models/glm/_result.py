r"""The result of :func:`likelihax.models.glm.glm`: the engine's fit plus GLM statistics.

:class:`GLMResult` is composed around the engine's :class:`~likelihax.FitResult`
(``result.fit``; no subclass): estimates, standard errors, covariance and
intervals delegate to it; deviance, dispersion, residuals, pseudo-R² and
predictions are computed here from the fitted means.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ...core import x64_scope
from ...inference import delta_se
from ...parameters import constraints as C
from ...results import ModelInfo, ModelResult
from .._design import model_matrix
from .._predictor import glm_predictor
from ._conventions import convention_loglik
from ._family import DISPERSION
from ._separation import Separation, SeparationWarning, find_separation

__all__ = ["GLMResult", "Separation", "SeparationWarning"]


def _host(fn, *args):
    with x64_scope():
        return np.asarray(fn(*(jnp.asarray(a) for a in args)))


@functools.partial(jax.jit, static_argnums=0)
def _total_loglik(loglik, params, data, w):
    """The weighted total ``sum_i w_i l_i`` of a per-row log-likelihood, as the
    engine's value (compiled once per model and shapes)."""
    ll = loglik(params, data)
    return jnp.sum(ll if w is None else w * ll)


# Power of the dispersion in each covariance kind: the information scales as
# 1/phi, the outer product of scores as 1/phi^2, and the sandwich kinds not at all.
_COV_PHI_POWER = {"oim": 1, "eim": 1, "opg": 2}


def _at_dispersion(fit, data, phi: float, loglik: float):
    r"""``fit`` (dispersion 1) as the fit of the same model with the dispersion
    held at ``phi``, without fitting again.

    The estimates do not depend on :math:`\phi`. The log-likelihood of an
    exponential-dispersion family is :math:`A(\beta)/\phi + c(y, \phi)`, so
    its gradient, information and EDM scale by :math:`1/\phi`, the
    covariance by :math:`\phi^k` (``_COV_PHI_POWER``), and the log-likelihood
    at each iterate is :math:`\ell_\phi + (\ell_1^{(t)} - \ell_1)/\phi`;
    ``loglik`` is :math:`\ell_\phi`, the value at the estimate, and ``data``
    the data with ``phi`` (for refits: bootstrap, profiles, :func:`vcov`).
    """
    scale = phi ** _COV_PHI_POWER.get(fit.cov_kind, 0)
    dtype = np.asarray(fit.loglik).dtype
    return fit.replace(
        loglik=np.asarray(loglik, dtype=dtype),
        trace=loglik + (fit.trace - fit.loglik) / phi,
        grad=fit.grad / phi,
        information=fit.information / phi,
        edm=fit.edm / phi,
        cov_flat=fit.cov_flat * scale,
        cov_unconstrained=fit.cov_unconstrained * scale,
        data=data,
    )


class GLMResult(ModelResult):
    """A fitted generalized linear model.

    Attributes
    ----------
    fit : FitResult
        The engine's result (covariance already times the dispersion).
    likelihood_fit : FitResult
        The full likelihood with the dispersion free, for profiles (see the
        property).
    family, link : str
        R's names.
    columns : list of str
        Names of the coefficients (model-matrix columns).
    coef : ndarray (p,)
        Coefficients in column order (``params`` is the engine's dict).
    deviance, null_deviance, pearson_chi2 : float
        :math:`D = \\sum_i w_i m_i d(y_i, \\hat\\mu_i)`; the deviance of the
        intercept-only model with the same weights and offset (R's
        ``null.deviance``); :math:`\\sum_i w_i m_i (y_i - \\hat\\mu_i)^2 /
        V(\\hat\\mu_i)`.
    dispersion : float
        1 for binomial, Poisson and NB2; Pearson :math:`X^2/(n-p)` otherwise.
    df_resid, df_model : float
        :math:`n - p` and :math:`p - 1` (with an intercept), ``n`` = ``nobs``.
    fitted : ndarray
        :math:`\\hat\\mu` (a probability for the binomial).
    n_dropped : int
        Rows dropped for missing values.
    separation : Separation or None
        Binary and binomial models whose responses the predictors separate
        (:class:`Separation`: kind, columns, direction, counts); None otherwise.
    llf_convention : str
        ``"R"``, ``"statsmodels"`` or ``"stata"``: the dispersion at which
        :attr:`loglik` is reported (:mod:`likelihax.models.glm._conventions`).
    alpha_fixed : bool
        NB2 with :math:`\\alpha` given (``alpha=``/``theta=``), not estimated.
    model_info : ModelInfo
        Kind ``"glm"``, family, link, and the flag ``"separation"`` when
        :attr:`separation` is set (``fit.model_info``, so that the engine's
        result says the same).
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    # ----- construction --------------------------------------------------------------
    # Statistics computed on first access (a pass over the data each): a fit
    # whose deviance or residuals are never asked for does not pay for them.
    _LAZY = ("eta", "fitted", "deviance", "pearson_chi2")

    def __getattr__(self, name):
        if name in GLMResult._LAZY and "_lazy" in self.__dict__:
            self.__dict__.update(GLMResult._statistics(*self.__dict__.pop("_lazy")))
            return self.__dict__[name]
        raise AttributeError(name)

    @staticmethod
    def _statistics(fam, link, des, data, beta, alpha, wn):
        eta = des.X @ beta + data["offset"]
        mu = _host(link.inverse, eta)
        y, m = data["y"], data["m"]
        dev = float(np.sum(wn * m * fam.unit_deviance(y, mu, alpha)))
        var = _host(lambda a: fam.variance(a, alpha), mu)
        with np.errstate(divide="ignore", invalid="ignore"):
            # var = 0 only where a fitted mean reached the boundary (separation),
            # where the residual is 0 too: the row adds nothing to X^2.
            r2 = np.where(var > 0, (y - mu) ** 2 / var, 0.0)
        x2 = float(np.sum(wn * m * r2))
        return dict(eta=eta, fitted=mu, deviance=dev, pearson_chi2=x2)

    @classmethod
    def _build(cls, fit1, fam, link, des, data, w, weight_type, engine, start_fn,
               convention="R", alpha_fixed=False):
        cols = list(des.columns)
        params = fit1.params  # rebuilt on each access: read it once
        beta = np.array([float(params[c]) for c in cols])
        alpha = float(params["alpha"]) if fam.has_alpha else None
        y = data["y"]
        wn = np.ones_like(y) if w is None else w
        nobs = float(wn.sum()) if weight_type == "frequency" or w is None else float(
            (wn > 0).sum()
        )
        lazy = (fam, link, des, data, beta, alpha, wn)
        p = len(cols)
        df_resid = nobs - p
        fit = fit1
        phi = 1.0
        stats = {}
        if fam.dispersion:
            stats = cls._statistics(*lazy)
            dev, x2 = stats["deviance"], stats["pearson_chi2"]
            phi = x2 / df_resid if df_resid > 0 else math.nan
            phi_ll, ll = dev / nobs, None
            if convention != "R" or weight_type == "variance":  # (_conventions)
                eta = stats["eta"]
                phi_ll, ll = convention_loglik(fam, link, data, eta, stats["fitted"], w,
                                               weight_type, dev, x2, df_resid, nobs,
                                               convention)  # fmt: skip
            if phi_ll > 0 and bool(fit1.converged):
                # R's logLik.glm: the density at phi = D/n (module notes of _glm).
                # (Not after a failed fit: that fit's status stands.)
                data_ll = data | {"phi": np.float64(phi_ll)}
                if ll is None:
                    with x64_scope():
                        ll = _total_loglik(
                            fit1.setup.loglik_fn, {c: float(params[c]) for c in cols},
                            data_ll, None if w is None else np.asarray(w),
                        )  # fmt: skip
                fit = _at_dispersion(fit1, data_ll, phi_ll, float(ll))
                if fit.cov_kind in ("oim", "eim") and math.isfinite(phi):
                    fit = fit.scale_cov(
                        phi / phi_ll, f"dispersion {phi:.6g} (Pearson chi2 / df_resid)"
                    )
        fit = fit.replace(
            model_info=ModelInfo(kind="glm", family=fam.name, link=link.name)
        )
        if weight_type == "variance" and w is not None:
            # (fitted as frequency weights: same estimates and information;
            # rows are the observations, and robust meats square the weights)
            fit = fit.replace(weight_type="variance", nobs=int(nobs))
        return cls(
            fit=fit, _fam=fam, _link=link, design=des, _data=data, _w=w,
            _wn=wn, _weight_type=weight_type, _engine=engine, _start_fn=start_fn,
            columns=cols, coef=beta, alpha=alpha, nobs=nobs, df_resid=df_resid,
            dispersion=phi, n_dropped=des.n_dropped, separation=None,
            llf_convention=convention, alpha_fixed=alpha_fixed,
            **(stats or {"_lazy": lazy}),
        )  # fmt: skip

    def _with_separation(self, sep: "Separation | None") -> None:
        """Record the separation check (:func:`glm` calls this once, after the fit)."""
        self.separation = sep
        if sep is not None:
            self.fit = self.fit.replace(
                model_info=self.fit.model_info._replace(flags=("separation",))
            )

    # ----- readings of its own (the rest is ModelResult's, from ``fit``) ----------------
    @property
    def family(self) -> str:
        return self._fam.name

    @property
    def link(self) -> str:
        return self._link.name

    @property
    def n_params(self) -> int:
        """Estimated parameters, the dispersion included (as R's AIC counts)."""
        return (len(self.columns) + int(self._fam.dispersion)
                + int(self._fam.has_alpha and not self.alpha_fixed))

    @property
    def df_model(self) -> float:
        return len(self.columns) - int(self._intercept_col() is not None)

    @property
    def beta_cov(self) -> np.ndarray:
        """Covariance of :attr:`coef` (column order), as an array."""
        cov = self.fit.cov
        idx = [cov.labels.index(c) for c in self.columns]
        return np.asarray(cov.matrix)[np.ix_(idx, idx)]

    def conf_int(self, alpha: float = 0.05, method: str = "wald"):
        r"""Wald intervals, on the natural or (for NB2's :math:`\alpha`) the log scale.

        Parameters
        ----------
        alpha : float
            1 - confidence level.
        method : {"wald", "log"}
            ``"wald"``: :math:`\hat\theta \mp z\,\mathrm{SE}` for every
            parameter (R's ``confint.default``, statsmodels). ``"log"``: the
            coefficients as ``"wald"``, and NB2's :math:`\alpha` as
            :math:`\exp(\log\hat\alpha \mp z\,\mathrm{SE}/\hat\alpha)`,
            the interval of :math:`\ln\alpha` mapped back, as Stata's
            ``nbreg`` and ``glm`` report it (always positive).

        Returns
        -------
        (lower, upper) : tuple of dicts keyed like :attr:`params`

        Examples
        --------
        >>> import numpy as np
        >>> from likelihax.models.glm import glm
        >>> X = np.column_stack([np.ones(8), [0.0, 1, 2, 3, 4, 5, 6, 7]])
        >>> y = np.array([0, 2, 1, 5, 2, 9, 4, 14])
        >>> res = glm(y, X, family="negative_binomial")
        >>> lo, hi = res.conf_int(method="log")
        >>> a, s = float(res.params["alpha"]), float(res.se["alpha"])
        >>> bool(np.isclose(hi["alpha"], a * np.exp(1.959964 * s / a)))
        True
        """
        if method not in ("wald", "log"):
            raise ValueError(f"method must be 'wald' or 'log'; got {method!r}.")
        return self.fit.conf_int(alpha, "wald" if method == "wald" else "transformed")

    @property
    def se_coef(self) -> np.ndarray:
        """Standard errors of :attr:`coef` (column order)."""
        return np.sqrt(np.diag(self.beta_cov))

    @functools.cached_property
    def likelihood_fit(self):
        r"""The fit of the full likelihood, every parameter free (for profiles).

        For the Gaussian, gamma and inverse Gaussian families :attr:`fit`
        holds the dispersion fixed at :math:`D/n` (R's ``logLik.glm``); here it
        is the parameter ``"dispersion"`` (:math:`\phi > 0`), estimated with
        the coefficients by maximum likelihood. The coefficients are the same
        (:math:`\hat\beta` does not depend on :math:`\phi`); the MLE of
        :math:`\phi` is :math:`D/n` for the Gaussian and inverse Gaussian, and
        for the gamma the root of :math:`\log\nu - \psi(\nu) = D/(2n)`,
        :math:`\nu = 1/\phi` (McCullagh and Nelder, 1989, sec. 8.3.2), so
        its log-likelihood is at least R's. Other families: :attr:`fit`.
        :func:`likelihax.profile` and :func:`likelihax.profile_ci` refit this
        one (see :func:`likelihax.results.as_fit`).

        Raises
        ------
        ValueError
            A coefficient is named ``"dispersion"``, or the deviance is 0.

        Examples
        --------
        >>> import numpy as np
        >>> from likelihax.models.glm import glm
        >>> X = np.column_stack([np.ones(6), [0.0, 1, 2, 3, 4, 5]])
        >>> res = glm(np.array([1.1, 1.9, 3.2, 3.8, 5.1, 6.2]), X)
        >>> full = res.likelihood_fit
        >>> full.labels
        ['x0', 'x1', 'dispersion']
        >>> bool(np.isclose(full.params["dispersion"], res.deviance / 6))
        True
        """
        if not self._fam.dispersion:
            return self.fit
        if DISPERSION in self.columns:
            raise ValueError(
                f"A coefficient is named {DISPERSION!r}, the name of the dispersion "
                "in the full likelihood (profiles); rename that column."
            )
        if not self.deviance > 0:
            raise ValueError(
                "The deviance is 0 (a perfect fit): the maximum-likelihood "
                "dispersion is 0 and the full likelihood has no maximum."
            )
        params = dict(zip(self.columns, self.coef.tolist()))
        params[DISPERSION] = self.deviance / self.nobs
        return self._engine(
            self.columns, params, self._data, {DISPERSION: C.positive},
            free_dispersion=True, method="newton", cov="oim",
        )  # fmt: skip

    # ----- residuals ----------------------------------------------------------------
    @property
    def resid_response(self) -> np.ndarray:
        """:math:`y_i - \\hat\\mu_i`; proportions for the binomial, as R (statsmodels
        multiplies by the trials)."""
        return self._data["y"] - self.fitted

    @property
    def resid_pearson(self) -> np.ndarray:
        """:math:`(y_i - \\hat\\mu_i)\\sqrt{m_i / V(\\hat\\mu_i)}`."""
        var = _host(lambda a: self._fam.variance(a, self.alpha), self.fitted)
        return self.resid_response * np.sqrt(self._data["m"] / var)

    @property
    def resid_deviance(self) -> np.ndarray:
        """:math:`\\operatorname{sign}(y_i - \\hat\\mu_i)\\sqrt{m_i d(y_i, \\hat\\mu_i)}`."""
        d = self._fam.unit_deviance(self._data["y"], self.fitted, self.alpha)
        return np.sign(self.resid_response) * np.sqrt(np.maximum(self._data["m"] * d, 0))

    # ----- null model and pseudo R2 -------------------------------------------------------
    def _intercept_col(self):
        ones = np.flatnonzero(np.all(self.design.X == 1.0, axis=0))
        return None if ones.size == 0 else self.columns[int(ones[0])]

    @functools.cached_property
    def _null(self):
        """(fitted means, deviance, log-likelihood) of the intercept-only model."""
        fam, link, d = self._fam, self._link, self._data
        y, m, off, wn = d["y"], d["m"], d["offset"], self._wn
        icol = self._intercept_col()
        if icol is None:  # R: the null model is the offset alone
            mu0 = _host(link.inverse, off)
        elif not np.any(off):  # the MLE of a constant mean is the weighted mean
            mu0 = np.full_like(y, np.sum(wn * m * y) / np.sum(wn * m))
        else:  # R refits y ~ 1 + offset
            X1 = np.ones((y.shape[0], 1))
            b0 = self._start_fn(fam, link, X1, y, m, wn, off, [icol])
            params, cons = {icol: float(b0[0])}, None
            if fam.has_alpha:
                params["alpha"], cons = self.alpha, {"alpha": C.fixed}
            f = self._engine([icol], params, d | {"X": X1}, cons)
            mu0 = _host(link.inverse, float(f.params[icol]) + off)
        dev0 = float(np.sum(wn * m * fam.unit_deviance(y, mu0, self.alpha)))
        phi = dev0 / self.nobs if fam.dispersion else 1.0
        eta0 = _host(link.link, mu0)
        ll = _host(
            lambda yy, e, mu, mm: fam.loglik(yy, e, mu, link, mm, phi, self.alpha),
            y, eta0, mu0, m,
        )  # fmt: skip
        return mu0, dev0, float(np.sum(wn * ll))

    @property
    def null_deviance(self) -> float:
        return self._null[1]

    @property
    def loglik_null(self) -> float:
        """Log-likelihood of the intercept-only model (same conventions)."""
        return self._null[2]

    def pseudo_r2(self, kind: str = "mcfadden") -> float:
        r"""Pseudo R²: ``"mcfadden"`` :math:`1 - \ell/\ell_0` or ``"cox_snell"``
        :math:`1 - \exp(2(\ell_0 - \ell)/n)`.

        Examples
        --------
        >>> import numpy as np
        >>> from likelihax.models.glm import glm
        >>> X = np.column_stack([np.ones(6), [0.0, 1, 2, 3, 4, 5]])
        >>> res = glm(np.array([0, 0, 1, 0, 1, 1]), X, family="binomial")
        >>> round(res.pseudo_r2("mcfadden"), 6)
        0.40417
        """
        ll, ll0 = self.loglik, self.loglik_null
        if kind == "mcfadden":
            return 1.0 - ll / ll0
        if kind == "cox_snell":
            return 1.0 - math.exp(2.0 * (ll0 - ll) / self.nobs)
        raise ValueError(f"kind must be 'mcfadden' or 'cox_snell'; got {kind!r}.")

    # ----- prediction --------------------------------------------------------------------
    predictor = glm_predictor  # the protocol of lx.predict and lx.slopes

    def predict(self, newdata: Any = None, which: str = "response", se: bool = False,
                offset: Any = None, exposure: Any = None):  # fmt: skip
        r"""Predicted means or linear predictors, optionally with delta-method SEs.

        Parameters
        ----------
        newdata : DataFrame, dict or array, optional
            Default: the fitted rows (with their offset).
        which : {"response", "link"}
            :math:`\hat\mu = g^{-1}(x^\top\hat\beta + o)` or :math:`\hat\eta`.
        se : bool
            Also return delta-method standard errors, the square roots of the
            diagonal of :math:`J V J^\top` with :math:`J =
            \partial(\text{prediction})/\partial\beta` (automatic
            differentiation) and :math:`V` the covariance of :math:`\hat\beta`.
        offset, exposure : array or column name of ``newdata``, optional
            For new data (default none).

        Returns
        -------
        ndarray, or (ndarray, ndarray) with ``se=True``

        Examples
        --------
        >>> import numpy as np
        >>> from likelihax.models.glm import glm
        >>> X = np.column_stack([np.ones(5), [1.0, 2, 3, 4, 5]])
        >>> res = glm(np.array([1, 3, 2, 6, 8]), X, family="poisson")
        >>> mu, se = res.predict(np.array([[1.0, 6.0]]), se=True)
        >>> np.round(mu, 4).tolist(), np.round(se, 4).tolist()
        ([13.0732], [5.8447])
        """
        if which not in ("response", "link"):
            raise ValueError(f"which must be 'response' or 'link'; got {which!r}.")
        if newdata is None:
            X, off = self.design.X, self._data["offset"]
        else:
            X = model_matrix(self.design, newdata)
            off = np.zeros(X.shape[0])
            for arr, log in ((offset, False), (exposure, True)):
                if arr is None:
                    continue
                if isinstance(arr, str):
                    arr = np.asarray(newdata[arr], dtype=np.float64)
                a = np.asarray(arr, dtype=np.float64).reshape(-1)
                off = off + (np.log(a) if log else a)
        link = self._link

        def f(b):
            eta = jnp.asarray(X) @ b + jnp.asarray(off)
            return eta if which == "link" else link.inverse(eta)

        if not se:
            with x64_scope():
                return np.asarray(f(jnp.asarray(self.coef)))
        val, _, sd = delta_se(f, self.coef, self.beta_cov)
        return val, sd

    # ----- separation ----------------------------------------------------------------------
    def _find_separation(self) -> Separation | None:
        """The :class:`Separation` of the binary responses, or None."""
        return find_separation(self)

    # ----- display -------------------------------------------------------------------------
    def annotated_fit(self):
        """The engine fit annotated with this model's summary rows and notes (what
        :meth:`summary` shows and :func:`likelihax.save_result` saves).

        Examples
        --------
        >>> import numpy as np
        >>> from likelihax.models.glm import glm
        >>> X = np.column_stack([np.ones(5), [1.0, 2, 3, 4, 5]])
        >>> res = glm(np.array([1, 3, 2, 6, 8]), X, family="poisson")
        >>> fit = res.annotated_fit()
        >>> fit.name, dict(fit.annotation.header)["Link"]
        ('GLM: poisson (log)', 'log')
        """
        header = [
            ("Family", self.family), ("Link", self.link),
            ("Deviance", f"{self.deviance:.8g}"),
            ("Null deviance", f"{self.null_deviance:.8g}"),
            ("Df residuals", f"{self.df_resid:g}"),
            ("Pearson chi2", f"{self.pearson_chi2:.8g}"),
            ("Dispersion", f"{self.dispersion:.6g}" + ("" if self._fam.dispersion
                                                       else " (fixed)")),
            ("Pseudo R2 (McFadden)", f"{self.pseudo_r2('mcfadden'):.4f}"),
        ]  # fmt: skip
        notes = []
        if self.n_dropped:
            header.append(("Rows dropped (missing)", str(self.n_dropped)))
            notes.append(f"{self.n_dropped} rows with missing values were dropped.")
        if self._fam.dispersion:
            where = {"R": "R's logLik.glm", "statsmodels": "statsmodels' llf",
                     "stata": "Stata's glm"}[self.llf_convention]  # fmt: skip
            notes.append(
                f"Log-likelihood as {where} (see likelihax.models.glm._conventions); "
                "AIC and BIC count the dispersion as a parameter, as R's do."
            )
        if self._weight_type == "variance" and self._w is not None:
            notes.append("Prior (variance) weights: row i has dispersion phi / w_i, as R's "
                         "glm(weights=) and statsmodels' var_weights.")  # fmt: skip
        if self.alpha_fixed:
            notes.append(f"NB2 dispersion alpha fixed at {self.alpha:.6g} (not estimated).")
        if self._fam.has_alpha and self.fit.cov_kind == "eim":
            notes.append(
                "Covariance as MASS::glm.nb: expected information of the "
                "coefficients at the estimated alpha, observed information of "
                "alpha, cross terms zero (their expectation)."
            )
        if self.separation is not None:
            notes.append(self.separation.message)
        return self.fit.annotate(
            name=f"GLM: {self.family} ({self.link})", header=header, notes=notes,
            extra_params=int(self._fam.dispersion),
        )

    def __repr__(self) -> str:
        return (
            f"GLMResult({self.family}/{self.link}: deviance={self.deviance:.6g}, "
            f"loglik={self.loglik:.6g}, p={len(self.columns)}, nobs={self.nobs:g})"
        )
