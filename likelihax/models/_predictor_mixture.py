r"""Predictor of the finite mixtures (:mod:`likelihax.models.mixtures`), for
:func:`likelihax.predict`.

A mixture's fit is the engine's :class:`~likelihax.FitResult`, whose
``model_info`` says what it is (``kind="mixture"``, the ``family``, and in
``flags`` the covariance structure of a Gaussian mixture and whether a mixture
of regressions added an intercept); :func:`mixture_predictor` is registered
for that kind. With :math:`c_{ik} = \log\pi_k + \log f_k(y_i)` (the model's own
complete-data log-density), the quantities ``which`` are

=====================  =====================================================
``"posterior"``        :math:`P(k \mid y_i) = e^{c_{ik}} / \sum_j e^{c_{ij}}`
                       (Bayes' rule), one column per component (default,
                       except for mixtures of regressions)
``"log_density"``      :math:`\log p(y_i) = \log\sum_k e^{c_{ik}}`
``"density"``          :math:`p(y_i)`
``"mean"``             the marginal mean :math:`\sum_k \pi_k \mu_k`: a rate,
                       :math:`1/\text{rate}` or a mean (univariate), the mean
                       vector (Gaussian, one column per coordinate), the
                       probability of each item's categories (latent class:
                       the mean of the one-hot response), or
                       :math:`\sum_k\pi_k x_i^\top\beta_k` (regressions, the
                       default there)
``"component_mean"``   :math:`x_i^\top\beta_k`, one column per component
                       (regressions)
=====================  =====================================================

Standard errors are the delta method's over the fit's covariance (or
simulation and bootstrap intervals), as for every predictor. The
posterior and the density of a new row depend on the row; the marginal mean of
a mixture without covariates does not (every row gets the same value).

Rows (``newdata``): a univariate mixture's values ``y`` (an array, or a
column ``"y"``); a Gaussian mixture's points, an array ``(m, d)`` or columns
``x0 .. x{d-1}``; a latent class model's integer codes, an array ``(m, J)``
or columns ``item0 .. item{J-1}``; a mixture of regressions' covariates as
given to :func:`~likelihax.models.mixtures.mixture_regression` (without the
intercept column it adds), an array or columns ``x{j}`` named after
``coef[:, j]``, with a column ``"y"`` for the quantities that need the
response (``"posterior"``, ``"density"``, ``"log_density"``). A dict may
also give the arrays under the fit's own names (``"y"``, ``"x"``, ``"X"``).
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ..inference import Predictor, register_predictor

__all__ = ["mixture_predictor"]

QUANTITIES = ("posterior", "log_density", "density", "mean")
NEEDS_Y = ("posterior", "log_density", "density")


def _pandas():
    import pandas as pd

    return pd


def _columns(newdata, names, key, what):
    """An ``(m, len(names))`` float array from a frame/dict with columns ``names``
    (or the array under ``key``), or from an array; None when a column is absent."""
    pd = _pandas()
    if isinstance(newdata, (pd.DataFrame, Mapping)):
        if all(c in newdata for c in names):
            return np.column_stack([np.asarray(newdata[c], dtype=np.float64).reshape(-1)
                                    for c in names])  # fmt: skip
        if key not in newdata:
            return None
        newdata = newdata[key]
    try:
        a = np.array(newdata, dtype=np.float64)  # a copy: the caller's is untouched
    except (TypeError, ValueError) as e:
        raise TypeError(f"newdata must be numeric {what}: {e}") from None
    if a.ndim <= 1 and len(names) == 1:
        return a.reshape(-1, 1)
    if a.ndim == 1 and a.size == len(names):
        return a[None, :]
    return a


def _check_block(a, names, what):
    if a is None or a.ndim != 2 or a.shape[1] != len(names) or a.shape[0] == 0:
        shape = None if a is None else a.shape
        raise ValueError(
            f"newdata must give {what}: an array (m, {len(names)}) or the column(s) "
            f"{list(names)}; got {'no such columns' if a is None else f'shape {shape}'}."
        )
    bad = np.flatnonzero(~np.all(np.isfinite(a), axis=1))
    if bad.size:
        raise ValueError(f"newdata rows {bad[:5].tolist()} have NaN or infinite values.")
    return a


class _Layout:
    """What a mixture's rows are and how its quantities are computed."""

    def __init__(self, fit):
        from .mixtures._gaussian import gmm_complete
        from .mixtures._latent_class import _complete as lca_complete
        from .mixtures._regression import _complete as reg_complete
        from .mixtures._univariate import _COMPLETE

        info, data = fit.model_info, fit.setup.data
        self.family, self.k = info.family, int(info.n_components)
        p = fit.params
        if self.family in _COMPLETE:
            self.names, self.key = ("y",), "y"
            self.complete = _COMPLETE[self.family]
            self.fitted = np.asarray(data["y"], dtype=np.float64)[:, None]
        elif self.family == "gaussian":
            d = np.asarray(p["means"]).shape[1]
            self.names, self.key = tuple(f"x{j}" for j in range(d)), "x"
            cov = [f for f in info.flags if f.startswith("covariance=")]
            self.complete = gmm_complete(cov[0].split("=", 1)[1] if cov else _covariance(p))
            self.fitted = np.asarray(data["x"], dtype=np.float64)
        elif self.family == "categorical":
            self.cats = tuple(int(np.size(a)) for a in p["probs"][0])
            self.names, self.key = tuple(f"item{j}" for j in range(len(self.cats))), "y"
            self.complete = lca_complete
            self.fitted = np.asarray(data["y"], dtype=np.float64)
        elif self.family == "normal_regression":
            X = np.asarray(data["X"], dtype=np.float64)
            self.intercept = "intercept" in info.flags
            first = int(self.intercept)
            self.names, self.key = tuple(f"x{j}" for j in range(first, X.shape[1])), "X"
            self.complete = reg_complete
            self.fitted = np.column_stack([X[:, first:], np.asarray(data["y"], np.float64)])
        else:
            raise ValueError(
                f"lx.predict knows no quantities of a mixture of {self.family!r} "
                "components: pass fn=lambda params, data: ..."
            )

    @property
    def regression(self) -> bool:
        return self.family == "normal_regression"

    def frame(self, a, y=None):
        pd = _pandas()
        df = pd.DataFrame(a, columns=list(self.names))
        if self.family == "categorical":
            df = df.astype(np.int64)
        if y is not None:
            df["y"] = y
        return df

    def fitted_frame(self):
        if self.regression:
            return self.frame(self.fitted[:, :-1], self.fitted[:, -1])
        return self.frame(self.fitted)

    def as_frame(self, newdata):
        what = {"gaussian": "points", "categorical": "category codes",
                "normal_regression": "covariates"}.get(self.family, "values y")  # fmt: skip
        a = _check_block(_columns(newdata, self.names, self.key, what), self.names, what)
        y = None
        if self.regression and isinstance(newdata, (_pandas().DataFrame, Mapping)):
            if "y" in newdata:
                y = np.array(newdata["y"], dtype=np.float64).reshape(-1)
                if y.shape != (a.shape[0],) or not np.all(np.isfinite(y)):
                    raise ValueError(f"newdata['y'] must be {a.shape[0]} finite numbers.")
        self._check_support(a)
        return self.frame(a, y)

    def _check_support(self, a):
        fam = self.family
        if fam == "categorical":
            bad = (a < 0) | (a != np.round(a)) | (a >= np.array(self.cats)[None, :])
            what = f"codes 0 .. C_j - 1 (C_j = {list(self.cats)})"
        elif fam == "poisson":
            bad, what = (a < 0) | (a != np.round(a)), "non-negative integer counts"
        elif fam == "exponential":
            bad, what = a < 0, "values >= 0"
        else:
            return
        rows = np.flatnonzero(np.any(bad, axis=1))
        if rows.size:
            raise ValueError(
                f"newdata rows {rows[:5].tolist()} are outside the support of this "
                f"{fam} mixture ({what})."
            )

    def build(self, frame, needs_y):
        a = frame[list(self.names)].to_numpy()
        if self.family == "categorical":
            return {"y": a.astype(np.int64)}
        a = a.astype(np.float64)
        if self.family == "gaussian":
            return {"x": a}
        if not self.regression:
            return {"y": a[:, 0]}
        X = np.column_stack([np.ones(len(a)), a]) if self.intercept else a
        if not needs_y:
            return {"X": X}
        if "y" not in frame.columns:
            raise ValueError(
                "This prediction of a mixture of regressions needs the response: give "
                "newdata a column 'y' (the posterior and the density are of (x, y))."
            )
        return {"X": X, "y": frame["y"].to_numpy(dtype=np.float64)}

    def mean(self, p, d):
        """The marginal mean (module notes)."""
        w = p["weights"]
        fam = self.family
        if self.regression:
            return (d["X"] @ p["coef"].T) @ w
        if fam == "gaussian":
            return jnp.broadcast_to(w @ p["means"], (d["x"].shape[0], p["means"].shape[1]))
        if fam == "categorical":
            items = [sum(w[k] * p["probs"][k][j] for k in range(self.k))
                     for j in range(len(self.cats))]  # fmt: skip
            return jnp.broadcast_to(jnp.concatenate(items), (d["y"].shape[0], sum(self.cats)))
        comp = {"poisson": lambda: p["rate"], "exponential": lambda: 1.0 / p["rate"],
                "normal": lambda: p["mean"]}[fam]()  # fmt: skip
        return jnp.full(d["y"].shape, w @ comp)

    def mean_classes(self):
        if self.family == "gaussian":
            return self.names
        if self.family == "categorical":
            return tuple(f"item{j}={c}" for j, n in enumerate(self.cats) for c in range(n))
        return None


def _covariance(p) -> str:
    """The covariance structure of Gaussian-mixture parameters (module notes)."""
    if "cov" in p:
        return "full" if isinstance(p["cov"], (list, tuple)) else "tied"
    return "diag" if np.ndim(p["var"]) == 2 else "spherical"


def mixture_predictor(fit, which: str | None = None) -> Predictor:
    r"""Predictor of a finite mixture: ``"posterior"``, ``"log_density"``,
    ``"density"``, ``"mean"`` and, for mixtures of regressions,
    ``"component_mean"`` (module notes).

    Parameters
    ----------
    fit : FitResult
        From :func:`~likelihax.models.mixtures.univariate_mixture`,
        :func:`~likelihax.models.mixtures.gaussian_mixture`,
        :func:`~likelihax.models.mixtures.mixture_regression` or
        :func:`~likelihax.models.mixtures.latent_class`.
    which : str, optional
        The quantity; default ``"posterior"`` (``"mean"`` for regressions).

    Returns
    -------
    Predictor

    Examples
    --------
    The posterior of a new point by Bayes' rule, with its delta-method SE:

    >>> import numpy as np, likelihax as lx
    >>> from scipy import stats
    >>> rng = np.random.default_rng(1)
    >>> y = np.concatenate([rng.normal(0, 1, 150), rng.normal(4, 1, 100)])
    >>> fit = lx.univariate_mixture(y, 2, "normal", starts=2)
    >>> t = lx.predict(fit, np.array([2.0]))
    >>> p = fit.params
    >>> f = p["weights"] * stats.norm.pdf(2.0, p["mean"], p["sd"])
    >>> bool(np.allclose(t.estimate, f / f.sum())), t.group.tolist()
    (True, [0, 1])
    """
    lay = _Layout(fit)
    which = ("mean" if lay.regression else "posterior") if which is None else which
    kinds = QUANTITIES + (("component_mean",) if lay.regression else ())
    if which not in kinds:
        raise ValueError(f"which must be one of {kinds} for this mixture; got {which!r}.")
    needs_y = which in NEEDS_Y
    complete = lay.complete

    def fn(p, d):
        if which == "mean":
            return lay.mean(p, d)
        if which == "component_mean":
            return d["X"] @ p["coef"].T
        c = complete(p, d)
        if which == "posterior":
            return jax.nn.softmax(c, axis=1)
        ld = jax.scipy.special.logsumexp(c, axis=1)
        return ld if which == "log_density" else jnp.exp(ld)

    classes = (tuple(range(lay.k)) if which in ("posterior", "component_mean")
               else lay.mean_classes() if which == "mean" else None)  # fmt: skip
    return Predictor(fit, fn, lambda fr: lay.build(fr, needs_y), lay.fitted_frame(),
                     lay.as_frame, which, classes,
                     lay.names if lay.regression else ())  # fmt: skip


register_predictor("mixture", mixture_predictor)
