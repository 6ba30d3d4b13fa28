r"""GLMs with a dispersion submodel (``lx.glm(..., dispformula=)``; R ``dglm``, glmmTMB).

The mean is a GLM, :math:`g(\mu_i) = x_i^\top\beta + o_i`, and the dispersion
has its own log-linear model, :math:`\log\phi_i = z_i^\top\gamma` (Smyth, 1989),
so the variance is :math:`\phi_i V(\mu_i)` with a :math:`\phi` per row:

* Gaussian: :math:`\phi = \sigma^2`;
* Gamma: :math:`\phi = 1/\nu` (:math:`\nu` the shape; the coefficient of
  variation is :math:`\sqrt\phi`);
* inverse Gaussian: :math:`\phi` with :math:`\operatorname{Var} y = \phi\mu^3`;
* NB2: :math:`\phi = \alpha`, :math:`\operatorname{Var} y = \mu + \alpha\mu^2`.

This is ``dglm``'s scale (log of the GLM dispersion). glmmTMB writes the same
model with the same Gaussian coefficients (:math:`\log\sigma^2`) and, for the
gamma and NB2 families, their negatives (its :math:`\log\nu`, the shape, and
:math:`\log\theta = -\log\alpha`); the log-likelihoods are the same. All coefficients are estimated jointly by
maximum likelihood (glmmTMB's and ``dglm(method = "ml")``'s estimates), with
the inverse observed information as covariance; there is no Pearson scale.

The formula interface is ``lx.glm("y ~ x1 + x2", df, family="gamma",
link="log", dispformula="~ z1 + z2")``; with arrays, ``dispformula`` is the
dispersion's model matrix. Parameters: ``mean`` and ``dispersion`` (dicts by
column).

References
----------
Smyth, G. K. (1989). Generalized linear models with varying dispersion.
*J. R. Statist. Soc. B* 51, 47-60.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp
import numpy as np

from ..engine import Model
from ..results import ModelInfo, ModelResult
from ._design import check_rank, model_matrix
from ._predictor import dispersion_predictor
from ._predict import delta_predict
from .counts import _designs, _names
from .glm import Family, Link, glm

__all__ = ["DispersionResult", "glm_dispersion"]

@dataclasses.dataclass(frozen=True)
class _DispersionLoglik:
    family: Family
    link: Link
    mean: tuple
    dispersion: tuple

    @property
    def __name__(self) -> str:
        return f"{self.family.name} GLM with a dispersion model ({self.link.name})"

    def parts(self, p, X, Z, offset):
        """``(eta, mu, phi)`` per row."""
        eta = X @ jnp.stack([p["mean"][c] for c in self.mean]) + offset
        phi = jnp.exp(Z @ jnp.stack([p["dispersion"][c] for c in self.dispersion]))
        return eta, self.link.inverse(eta), phi

    def __call__(self, p, d):
        eta, mu, phi = self.parts(p, d["X"], d["Z"], d["offset"])
        if self.family.has_alpha:
            return self.family.loglik(d["y"], eta, mu, self.link, 1.0, 1.0, phi)
        return self.family.loglik(d["y"], eta, mu, self.link, 1.0, phi, None)


@dataclasses.dataclass(frozen=True)
class DispersionResult(ModelResult):
    """Result of ``lx.glm(..., dispformula=...)`` (module notes).

    Attributes
    ----------
    fit : FitResult
        ``fit.params["mean"][column]``, ``fit.params["dispersion"][column]``.
    family, link : str
    mean_columns, dispersion_columns : list of str
    nobs : int
    """

    fit: Any
    family: str
    link: str
    mean_columns: list
    dispersion_columns: list
    nobs: int
    _dx: Any = dataclasses.field(repr=False)
    _dz: Any = dataclasses.field(repr=False)
    _loglik: Any = dataclasses.field(repr=False)

    @property
    def coef(self) -> dict:
        """Coefficients, the dispersion ones prefixed ``(disp)_``."""
        p = self.fit.params
        out = {c: float(p["mean"][c]) for c in self.mean_columns}
        out.update({f"(disp)_{c}": float(p["dispersion"][c]) for c in self.dispersion_columns})
        return out

    predictor = dispersion_predictor  # the protocol of lx.predict and lx.slopes

    def predict(self, newdata: Any = None, which: str = "response", se: bool = False,
                offset: Any = None):  # fmt: skip
        """The mean ``"response"`` :math:`\\mu`, the linear predictor ``"link"``,
        the ``"dispersion"`` :math:`\\phi` or the ``"variance"`` of the
        response (:math:`\\phi V(\\mu)`; NB2: :math:`\\mu + \\alpha\\mu^2`), with
        delta-method SEs on request.

        Parameters
        ----------
        newdata : DataFrame, dict or array, optional
            Rows with the columns of both formulas (default: the fitted rows,
            with their offset).
        which : {"response", "link", "dispersion", "variance"}
        se : bool
        offset : array_like, optional
            Offset of the new rows (default 0).

        Examples
        --------
        >>> import numpy as np, pandas as pd, likelihax as lx
        >>> rng = np.random.default_rng(0)
        >>> x, z = rng.normal(size=(2, 2000))
        >>> y = 1.0 + x + np.exp(0.5 * (0.2 + 0.6 * z)) * rng.normal(size=2000)
        >>> r = lx.glm("y ~ x", pd.DataFrame({"y": y, "x": x, "z": z}), dispformula="~ z")
        >>> phi = r.predict(pd.DataFrame({"x": [0.0], "z": [0.0]}), which="dispersion")
        >>> round(float(phi[0]), 1)   # exp(0.2)
        1.2
        """
        kinds = ("response", "link", "dispersion", "variance")
        if which not in kinds:
            raise ValueError(f"which must be one of {kinds}; got {which!r}.")
        if newdata is None:
            X, Z, off = self._dx.X, self._dz.X, self._dx.extra.get("offset", 0.0)
        else:
            X, Z = model_matrix(self._dx, newdata), model_matrix(self._dz, newdata)
            off = 0.0 if offset is None else np.asarray(offset, dtype=np.float64)
        f = self._prediction_fn(which)
        return delta_predict(lambda p: f(p, X, Z, off), self.fit, se)

    def _prediction_fn(self, which: str):
        """``f(p, X, Z, off)``: the prediction ``which`` as a JAX function of the
        parameters and the designs (:meth:`predict`, and the ``predictor``
        protocol of :func:`likelihax.predict`)."""
        lik, fam = self._loglik, self._loglik.family

        def f(p, X, Z, off):
            eta, mu, phi = lik.parts(p, jnp.asarray(X), jnp.asarray(Z), off)
            if which == "variance":
                return (fam.variance(mu, phi) if fam.has_alpha
                        else phi * fam.variance(mu, None))  # fmt: skip
            return {"response": mu, "link": eta, "dispersion": phi}[which]

        return f


def glm_dispersion(fam: Family, lnk: Link, formula_or_y, data_or_X, dispformula, *,
                   offset=None, weights=None, missing="raise", start=None,
                   **fit_kwargs) -> DispersionResult:  # fmt: skip
    """``lx.glm(..., dispformula=)`` (module notes): the family and link
    resolved by :func:`likelihax.models.glm.glm`."""
    if not (fam.dispersion or fam.has_alpha):
        raise ValueError(
            f"dispformula: the {fam.name} family has no dispersion parameter (phi = "
            "1); it applies to gaussian, Gamma, inverse.gaussian and "
            "negative.binomial."
        )
    if isinstance(formula_or_y, str):
        if not isinstance(dispformula, str):
            raise TypeError("With a formula, dispformula is a formula too: '~ z1 + z2'.")
        rhs = dispformula.split("~", 1)[-1].strip()
        if not rhs:
            raise ValueError(f"dispformula needs a right-hand side: '~ z'; got {dispformula!r}.")
        formula_or_y, Z = f"{formula_or_y} | {rhs}", None
    else:
        Z = np.ones((np.shape(data_or_X)[0], 1)) if dispformula is None else dispformula
    dx, dz = _designs("glm", formula_or_y, data_or_X, Z, offset, weights, missing)
    y = np.asarray(dx.y, dtype=np.float64)
    bad = ~np.asarray(fam.support(y), bool)
    if np.any(bad):
        raise ValueError(f"Rows {dx.rows[bad][:5].tolist()} have a response outside the "
                         f"{fam.name} family's support ({fam.support_text}).")  # fmt: skip
    mcols, dcols = _names(dx.columns), _names(dz.columns)
    check_rank(dx.X, mcols)
    check_rank(dz.X, dcols)
    off = np.broadcast_to(np.asarray(dx.extra.get("offset", 0.0), np.float64), y.shape)
    w = dx.extra.get("weights")
    params = _start(fam, lnk, dx.X, dz.X, y, off, w, mcols, dcols, start)
    loglik = _DispersionLoglik(fam, lnk, tuple(mcols), tuple(dcols))
    data = {"y": y, "X": dx.X, "Z": dz.X, "offset": np.array(off)}
    name = f"{fam.name} GLM, dispersion model"
    res = Model(loglik, params, name=name).fit(data, weights=w, **fit_kwargs)
    what = "alpha (Var = mu + alpha mu^2)" if fam.has_alpha else "phi (Var = phi V(mu))"
    header = [("Response", dx.response), ("Rows", str(y.size)),
              ("Link", f"{lnk.name} (dispersion: log)")]  # fmt: skip
    notes = [f"mean.* for g(mu); dispersion.* for log {what}."]
    res = res.annotate(name, header, notes).replace(
        model_info=ModelInfo(kind="glm_dispersion", family=fam.name, link=lnk.name))
    return DispersionResult(res, fam.name, lnk.name, mcols, dcols, y.size, dx, dz, loglik)


def _start(fam, lnk, X, Z, y, off, w, mcols, dcols, start):
    """The GLM without a dispersion model; the dispersion's intercept at its
    estimate (Pearson's phi, or NB2's alpha), the other coefficients zero."""
    g = glm(y, X, family=fam, link=lnk.name, offset=off, weights=w)
    beta = np.asarray(g.coef, dtype=np.float64)
    level = float(g.fit.params["alpha"]) if fam.has_alpha else float(g.dispersion)
    gamma = np.zeros(len(dcols))
    gamma[dcols.index("(Intercept)") if "(Intercept)" in dcols else 0] = np.log(max(level, 1e-8))
    params = {"mean": dict(zip(mcols, map(float, beta))),
              "dispersion": dict(zip(dcols, map(float, gamma)))}  # fmt: skip
    for part, values in (start or {}).items():
        if part not in params or not isinstance(values, dict):
            raise ValueError("start: {'mean': {column: value}, 'dispersion': {column: value}}.")
        for k, v in values.items():
            if k not in params[part]:
                raise ValueError(f"start[{part!r}] names {k!r}, not a column: {list(params[part])}.")
            params[part][k] = float(v)
    return params
