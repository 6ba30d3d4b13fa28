r"""Beta regression for rates and proportions in (0, 1) (R ``betareg``, statsmodels ``BetaModel``).

The mean-precision parametrisation of Ferrari and Cribari-Neto: :math:`y \sim
\mathrm{Beta}(\mu\phi, (1 - \mu)\phi)`, so :math:`E y = \mu` and
:math:`\operatorname{Var} y = \mu(1 - \mu)/(1 + \phi)`, with
:math:`g(\mu) = x^\top\beta` (logit by default; probit, cloglog, loglog,
cauchit) and :math:`\log\phi = z^\top\gamma` (the precision submodel; a
constant without a ``|`` part). The formula is ``betareg``'s:
``"y ~ x1 + x2 | z1"``. Parameters: ``mean`` and ``precision`` (dicts by
column).

A response of exactly 0 or 1 has no Beta density: it is an error naming the
rows, and ``squeeze="smithson"`` applies Smithson and Verkuilen's transform
:math:`(y (n - 1) + 1/2)/n` by name.

References
----------
Ferrari, S. & Cribari-Neto, F. (2004). Beta regression for modelling rates and
proportions. *J. Appl. Stat.* 31, 799-815. Smithson, M. & Verkuilen, J.
(2006). A better lemon squeezer? *Psychological Methods* 11, 54-71.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..engine import Model
from ..results import ModelInfo, ModelResult
from ._design import check_rank, model_matrix
from ._predictor import beta_predictor
from ._predict import delta_predict
from .counts import _designs, _names

__all__ = ["BetaResult", "betareg"]

_LINKS = {
    "logit": jax.nn.sigmoid,
    "probit": jax.scipy.special.ndtr,
    "cloglog": lambda e: -jnp.expm1(-jnp.exp(e)),
    "loglog": lambda e: jnp.exp(-jnp.exp(-e)),
    "cauchit": lambda e: 0.5 + jnp.arctan(e) / jnp.pi,
}


@dataclasses.dataclass(frozen=True)
class _BetaLoglik:
    mean: tuple
    precision: tuple
    link: str

    @property
    def __name__(self) -> str:
        return f"beta regression ({self.link})"

    def mu_phi(self, p, X, Z):
        mu = _LINKS[self.link](X @ jnp.stack([p["mean"][c] for c in self.mean]))
        phi = jnp.exp(Z @ jnp.stack([p["precision"][c] for c in self.precision]))
        return mu, phi

    def __call__(self, p, d):
        mu, phi = self.mu_phi(p, d["X"], d["Z"])
        a, b = mu * phi, (1.0 - mu) * phi
        lg = jax.scipy.special.gammaln
        return (lg(phi) - lg(a) - lg(b) + (a - 1.0) * d["log_y"]
                + (b - 1.0) * d["log1m_y"])  # fmt: skip


class BetaResult(ModelResult):
    """Result of :func:`betareg`.

    Attributes
    ----------
    fit : FitResult
        ``fit.params["mean"][column]``, ``fit.params["precision"][column]``.
    link : str
    mean_columns, precision_columns : list of str
    nobs : int
    """

    def __init__(self, fit, link, dx, dz, loglik):
        self.fit, self.link, self._dx, self._dz, self._loglik = fit, link, dx, dz, loglik
        self.mean_columns = list(loglik.mean)
        self.precision_columns = list(loglik.precision)
        self.nobs = dx.nobs

    @property
    def coef(self) -> dict:
        """Coefficients, the precision ones prefixed ``(phi)_`` as ``betareg`` names them."""
        p = self.fit.params
        out = {c: float(p["mean"][c]) for c in self.mean_columns}
        out.update({f"(phi)_{c}": float(p["precision"][c]) for c in self.precision_columns})
        return out

    predictor = beta_predictor  # the protocol of lx.predict and lx.slopes

    def predict(self, newdata: Any = None, which: str = "response", se: bool = False):
        """The mean ``"response"`` :math:`\\mu`, the ``"precision"`` :math:`\\phi`,
        the ``"variance"`` :math:`\\mu(1-\\mu)/(1+\\phi)` or the linear predictor
        ``"link"``, with delta-method SEs on request.

        Examples
        --------
        >>> import numpy as np, pandas as pd, likelihax as lx
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=500)
        >>> mu = 1 / (1 + np.exp(-(0.3 + 0.8 * x)))
        >>> y = rng.beta(mu * 20, (1 - mu) * 20)
        >>> r = lx.betareg("y ~ x", pd.DataFrame({"y": y, "x": x}))
        >>> m, se = r.predict(pd.DataFrame({"x": [0.0]}), se=True)
        >>> round(float(m[0]), 1), bool(se[0] < 0.02)
        (0.6, True)
        """
        kinds = ("response", "precision", "variance", "link")
        if which not in kinds:
            raise ValueError(f"which must be one of {kinds}; got {which!r}.")
        if newdata is None:
            X, Z = self._dx.X, self._dz.X
        else:
            X, Z = model_matrix(self._dx, newdata), model_matrix(self._dz, newdata)
        f = self._prediction_fn(which)
        return delta_predict(lambda p: f(p, X, Z), self.fit, se)

    def _prediction_fn(self, which: str):
        """``f(p, X, Z)``: the prediction ``which`` as a JAX function of the
        parameters and the mean's and precision's designs (:meth:`predict`, and
        the ``predictor`` protocol of :func:`likelihax.predict`)."""
        lik = self._loglik

        def f(p, X, Z):
            if which == "link":
                return jnp.asarray(X) @ jnp.stack([p["mean"][c] for c in lik.mean])
            mu, phi = lik.mu_phi(p, jnp.asarray(X), jnp.asarray(Z))
            return {"response": mu, "precision": phi,
                    "variance": mu * (1.0 - mu) / (1.0 + phi)}[which]  # fmt: skip

        return f


def betareg(formula_or_y, data_or_X=None, *, Z=None, link: str = "logit",
            squeeze: str | None = None, missing: str = "raise", **fit_kwargs) -> BetaResult:  # fmt: skip
    """Beta regression with a precision submodel (module notes).

    Parameters
    ----------
    formula_or_y : str or array
        ``"y ~ x1 + x2 | z1"`` (mean regressors, then precision regressors;
        without ``|`` a constant precision), or the response with
        ``data_or_X`` the mean's model matrix.
    data_or_X : DataFrame, dict of columns, or array
        Not modified.
    Z : array, optional
        The precision's model matrix (arrays; default a column of ones).
    link : {"logit", "probit", "cloglog", "loglog", "cauchit"}
        Link of the mean (the precision's is log).
    squeeze : {None, "smithson"}
        ``"smithson"``: map the response to ``(y (n - 1) + 0.5) / n`` first,
        so that 0 and 1 are allowed.
    missing : {"raise", "drop"}
    **fit_kwargs
        Passed to :func:`likelihax.fit`.

    Returns
    -------
    BetaResult

    Raises
    ------
    ValueError
        A response outside (0, 1) without ``squeeze`` (naming the rows; 0 and
        1 suggest ``squeeze="smithson"``), or outside [0, 1] with it; an
        unknown ``link`` or ``squeeze``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, likelihax as lx
    >>> rng = np.random.default_rng(1)
    >>> x, z = rng.normal(size=(2, 3000))
    >>> mu, phi = 1 / (1 + np.exp(-(-0.5 + 0.5 * x))), np.exp(2.0 + 0.5 * z)
    >>> df = pd.DataFrame({"y": rng.beta(mu * phi, (1 - mu) * phi), "x": x, "z": z})
    >>> {k: round(v, 1) for k, v in lx.betareg("y ~ x | z", df).coef.items()}
    {'(Intercept)': -0.5, 'x': 0.5, '(phi)_(Intercept)': 2.0, '(phi)_z': 0.5}
    """
    if link not in _LINKS:
        raise ValueError(f"link must be one of {list(_LINKS)}; got {link!r}.")
    if squeeze not in (None, "smithson"):
        raise ValueError(f"squeeze must be None or 'smithson'; got {squeeze!r}.")
    if isinstance(formula_or_y, str) and "|" not in formula_or_y:
        formula_or_y = formula_or_y + " | 1"
    if not isinstance(formula_or_y, str) and Z is None and data_or_X is not None:
        Z = np.ones((np.shape(data_or_X)[0], 1))
    dx, dz = _designs("betareg", formula_or_y, data_or_X, Z, None, None, missing)
    y = np.asarray(dx.y, dtype=np.float64)
    rows, n = dx.rows, y.size
    bad = ~np.isfinite(y) | (y < 0) | (y > 1)
    if np.any(bad):
        raise ValueError(f"Rows {rows[bad][:5].tolist()} have a response outside [0, 1] "
                         f"({int(bad.sum())} in all).")  # fmt: skip
    ends = (y == 0) | (y == 1)
    if squeeze == "smithson":
        y = (y * (n - 1) + 0.5) / n
    elif np.any(ends):
        raise ValueError(
            f"Rows {rows[ends][:5].tolist()} have a response of exactly 0 or 1 "
            f"({int(ends.sum())} in all), which the Beta density excludes. Pass "
            "squeeze='smithson' for Smithson and Verkuilen's (y (n - 1) + 0.5) / n, "
            "or model the zeros and ones separately."
        )
    mcols, pcols = _names(dx.columns), _names(dz.columns)
    check_rank(dx.X, mcols)
    check_rank(dz.X, pcols)
    # Start: least squares of logit(y); the precision from the moments.
    yl = np.log(y / (1 - y))
    b = np.linalg.lstsq(dx.X, yl, rcond=None)[0] if link == "logit" else np.zeros(len(mcols))
    if link == "logit":
        m = 1 / (1 + np.exp(-(dx.X @ b)))
        phi0 = max(float(np.mean(m * (1 - m)) / max(float(np.var(y - m)), 1e-12) - 1.0), 1.0)
    else:
        phi0 = max(float(np.mean(y) * (1 - np.mean(y)) / max(float(np.var(y)), 1e-12)) - 1, 1.0)
    g = np.zeros(len(pcols))
    g[pcols.index("(Intercept)") if "(Intercept)" in pcols else 0] = np.log(phi0)
    params = {"mean": dict(zip(mcols, map(float, b))), "precision": dict(zip(pcols, map(float, g)))}
    loglik = _BetaLoglik(tuple(mcols), tuple(pcols), link)
    data = {"X": dx.X, "Z": dz.X, "log_y": np.log(y), "log1m_y": np.log1p(-y)}
    res = Model(loglik, params, name="Beta regression").fit(data, **fit_kwargs)
    header = [("Response", dx.response), ("Rows", str(n)), ("Link", f"{link} (precision: log)")]
    if squeeze:
        header.append(("Squeeze", "Smithson-Verkuilen (y (n - 1) + 0.5) / n"))
    notes = ["y ~ Beta(mu phi, (1 - mu) phi): mean.* for g(mu), precision.* for log(phi)."]
    res = res.annotate("Beta regression", header, notes).replace(
        model_info=ModelInfo(kind="betareg", family="beta", link=link))
    return BetaResult(res, link, dx, dz, loglik)
