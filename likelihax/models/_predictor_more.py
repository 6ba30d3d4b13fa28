r"""Predictors of the GAMs and of the class-imbalance fits (:mod:`likelihax.models._predictor`).

* :func:`gam_predictor` (``GamResult.predictor``): the mean or the linear
  predictor :math:`x^\top\beta` of a GAM, with its coefficients' Bayesian
  covariance :math:`V_p` (mgcv's ``predict.gam(se.fit = TRUE)``). The engine's
  fit of a GAM is of its smoothing parameters; the predictions read
  ``GamResult.coef_fit``, the coefficients' posterior :math:`N(\hat\beta, V_p)`
  as a fit, so delta-method and simulation intervals are mgcv's.
* :func:`logit_fit_predictor`, registered for the fits of
  :func:`likelihax.weighted_logit` and :func:`likelihax.focal_logit` (a
  :class:`~likelihax.FitResult` whose ``model_info.kind`` says what it is):
  the probability :math:`\sigma(x^\top\beta)` (``"response"``) or
  ``"link"``, as ``predict_proba``. Rows: a DataFrame (or dict) of the
  fitted columns, or an array ``(m, p)`` of them.
"""

from __future__ import annotations

import numpy as np

from ..inference import Predictor, register_predictor
from ._predictor import _user_frame, categorical_variables

__all__ = ["gam_predictor", "logit_fit_predictor"]


def gam_predictor(self, which: str | None = None) -> Predictor:
    r"""Predictor of a GAM: ``"response"`` :math:`g^{-1}(x^\top\beta)` or ``"link"``,
    with :math:`V_p` (module notes); as :meth:`GamResult.predict`.

    Examples
    --------
    >>> import numpy as np, pandas as pd, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(0, 1, 200)
    >>> r = lx.gam("y ~ s(x)", pd.DataFrame({"x": x, "y": np.sin(6 * x) + rng.normal(size=200)}))
    >>> t = lx.predict(r, pd.DataFrame({"x": [0.5]}))
    >>> mu, se = r.predict(pd.DataFrame({"x": [0.5]}), se=True)
    >>> bool(np.isclose(t.estimate[0], mu[0])), bool(np.isclose(t.std_error[0], se[0]))
    (True, True)
    """
    from .glm import LINKS

    which = "response" if which is None else which
    if which not in ("response", "link"):
        raise ValueError(f"which must be 'response' or 'link' for a GAM; got {which!r}.")
    inverse = LINKS[self.link].inverse
    para = self._para
    frame = para.frame
    needed = {str(v) for v in para.spec.required_variables} | {s.var for s in self.smooths}
    variables = tuple(c for c in frame.columns if str(c) in needed and str(c) != para.response)

    def fn(p, d):
        eta = d["X"] @ p["beta"]
        return eta if which == "link" else inverse(eta)

    def design_slope(fr, v):
        """The smooth columns' derivatives in ``v`` (their bases' closed form);
        NaN for the parametric columns, which take the linear rule."""
        fr = _user_frame(fr)
        p = len(self._perm)
        parts = [np.full((len(fr), p), np.nan)]
        for sm in self.smooths:
            width = sm.Z.shape[1]
            parts.append(sm.slope(fr[sm.var].to_numpy(np.float64)) if sm.var == v
                         else np.zeros((len(fr), width)))  # fmt: skip
        return {"X": np.column_stack(parts)}

    return Predictor(self.coef_fit, fn, lambda fr: {"X": self._matrix(fr)}, frame,
                     _user_frame, which, None, variables,
                     factors=categorical_variables(para.spec), natural_cov=self.Vp,
                     link=("link", inverse) if which == "response" else None,
                     design_slope=design_slope)  # fmt: skip


def logit_fit_predictor(fit, which: str | None = None) -> Predictor:
    r"""Predictor of a :func:`likelihax.weighted_logit` or
    :func:`likelihax.focal_logit` fit: ``"response"`` (the probability, as
    ``predict_proba``) or ``"link"`` (module notes).

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> from likelihax.models.imbalance import predict_proba
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [2.5]])
    >>> f = lx.weighted_logit(np.array([0, 0, 1, 1, 1, 0]), x, class_weight=None)
    >>> t = lx.predict(f, np.array([[1.5]]))
    >>> bool(np.isclose(t.estimate[0], predict_proba(f, np.array([[1.5]]))[0]))
    True
    """
    import jax.numpy as jnp
    import pandas as pd

    which = "response" if which is None else which
    if which not in ("response", "link"):
        raise ValueError(f"which must be 'response' or 'link'; got {which!r}.")
    names = list(fit.labels)  # "intercept", then the columns as written
    cols = names[1:]
    keys = sorted(names)  # the engine's order of the coefficients and of data["X"]
    Xd = np.asarray(fit.setup.data["X"], dtype=np.float64)
    frame = pd.DataFrame({c: Xd[:, keys.index(c)] for c in cols})

    def as_frame(newdata):
        if isinstance(newdata, (pd.DataFrame, dict)):
            df = _user_frame(newdata)
            missing = [c for c in cols if c not in df.columns]
            if missing:
                raise ValueError(f"newdata lacks the fitted column(s) {missing}.")
            return df
        X = np.asarray(newdata, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(cols):
            raise ValueError(f"newdata must have shape (m, {len(cols)}) (columns {cols}); "
                             f"got {X.shape}.")  # fmt: skip
        return pd.DataFrame(X, columns=cols)

    def build(fr):
        m = len(fr)
        return {"X": np.column_stack([np.ones(m) if k == names[0] else
                                      fr[k].to_numpy(dtype=np.float64) for k in keys])}  # fmt: skip

    def fn(p, d):
        eta = d["X"] @ jnp.stack([p[k] for k in keys])
        return eta if which == "link" else 1.0 / (1.0 + jnp.exp(-eta))

    const = np.all(Xd == Xd[:1], axis=0)
    variables = tuple(c for c in cols if not const[keys.index(c)])
    return Predictor(fit, fn, build, frame, as_frame, which, None, variables,
                     link=("link", lambda e: 1.0 / (1.0 + jnp.exp(-e)))
                     if which == "response" else None)  # fmt: skip


for _kind in ("weighted_logit", "focal_logit"):
    register_predictor(_kind, logit_fit_predictor)
