r"""The :class:`~likelihax.inference.Predictor` of each model result.

Each model result class binds one of these functions as its ``predictor``
method (``predictor = glm_predictor``): it returns the model's prediction as a
JAX function of the parameter pytree and the data of the rows (model matrix,
offset, random-effect codes), and how to build those data from a frame of
covariates. :func:`likelihax.predict`, :func:`likelihax.slopes` and
:func:`likelihax.comparisons` work from that alone.

Frames. A formula model's rows are a DataFrame of its covariates (the fitted
rows are the kept rows of the data); an array model's rows are a DataFrame
whose columns are the model-matrix columns (so a marginal effect is with
respect to a column, as statsmodels' ``get_margeff``). A nonzero offset of the
fitted rows travels as the column ``"(offset)"``; new rows may give one the
same way (default 0). Where the fit read its offset or exposure from data
columns (``offset="o"``, ``exposure="t"``), rows that have those columns take
their offset from them (:func:`frame_offset`), and rows without them are an
error rather than a prediction at exposure 1.
"""

from __future__ import annotations

import numpy as np

from ..inference import Predictor
from ._design import model_matrix

__all__ = ["beta_predictor", "count_predictor", "cox_predictor", "dispersion_predictor",
           "firth_predictor", "glm_predictor", "mixed_predictor", "mnlogit_predictor",
           "ordinal_predictor", "survival_predictor"]

OFFSET = "(offset)"


def _pandas():
    import pandas as pd

    return pd


def categorical_variables(spec) -> tuple:
    """Variables that a formulaic model spec encodes as categorical (``C(x)``, strings)."""
    out = set()
    for factor in getattr(spec, "factors", ()):
        kind, _ = spec.encoder_state.get(str(factor), (None, None))
        if kind is not None and str(getattr(kind, "value", kind)) == "categorical":
            out |= {str(v) for v in factor.required_variables}
    return tuple(sorted(out))


def _user_frame(newdata):
    """A new DataFrame of ``newdata`` (a DataFrame is copied shallowly, never written)."""
    pd = _pandas()
    if isinstance(newdata, pd.DataFrame):
        return newdata.reset_index(drop=True)
    if isinstance(newdata, dict):
        return pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in newdata.items()})
    raise TypeError(
        "newdata must be a DataFrame or a dict of columns for a formula model; got "
        f"{type(newdata).__name__}."
    )


class DesignRows:
    """Frames of a :class:`~likelihax.models._design.Design`: fitted rows, new rows,
    and the model matrix and offset of a frame."""

    def __init__(self, des, offset=None, drop: int | None = None):
        pd = _pandas()
        self.des, self.drop = des, drop
        if des.spec is None:
            frame = pd.DataFrame(des.X, columns=list(des.columns))
            const = np.all(des.X == des.X[:1], axis=0)
            self.variables = tuple(c for c, k in zip(des.columns, const) if not k)
            self.factors = ()
        else:
            frame = des.frame
            needed = {str(v) for v in des.spec.required_variables}
            self.variables = tuple(c for c in frame.columns
                                   if str(c) in needed and str(c) != des.response)
            self.factors = categorical_variables(des.spec)
        if offset is not None and np.any(np.asarray(offset) != 0):
            frame = frame.assign(**{OFFSET: np.asarray(offset, dtype=np.float64)})
        self.frame = frame

    def as_frame(self, newdata):
        des = self.des
        if des.spec is not None:
            return _user_frame(newdata)
        pd = _pandas()
        if isinstance(newdata, (pd.DataFrame, dict)):
            df = _user_frame(newdata)
            missing = [c for c in des.columns if c not in df.columns]
            if missing:
                raise ValueError(
                    f"newdata lacks the model-matrix columns {missing} (an array fit's "
                    f"rows are its columns {list(des.columns)})."
                )
            return df
        X = model_matrix(des, newdata)
        return pd.DataFrame(X, columns=list(des.columns))

    def matrix(self, frame) -> np.ndarray:
        des = self.des
        if des.spec is None:
            X = frame[list(des.columns)].to_numpy(dtype=np.float64)
        else:
            X = model_matrix(des, frame)
        return X if self.drop is None or des.spec is None else np.delete(X, self.drop, 1)

    def offset(self, frame) -> np.ndarray:
        return frame_offset(self.des, frame)


def frame_offset(des, frame) -> np.ndarray:
    r"""The offset of the rows of ``frame`` (module notes).

    Where the fit took its offset and exposure from data columns (``offset="o"``,
    ``exposure="t"``) and ``frame`` has those columns, from them:
    :math:`o + \log t`, so a new row's exposure counts; else from the column
    ``"(offset)"``; else 0. A frame without either, for a fit whose offset
    came from columns, is an error naming them (a prediction at exposure 1
    would be silently per unit of exposure).
    """
    src = getattr(des, "sources", None) or {}
    named = {k: src[k] for k in ("offset", "exposure") if k in src}
    if named and all(c in frame.columns for c in named.values()):
        off = np.zeros(len(frame))
        if "offset" in named:
            off = off + frame[named["offset"]].to_numpy(dtype=np.float64)
        if "exposure" in named:
            t = frame[named["exposure"]].to_numpy(dtype=np.float64)
            if not np.all(t > 0):
                bad = np.flatnonzero(~(t > 0))[:5].tolist()
                raise ValueError(
                    f"Exposure column {named['exposure']!r} must be > 0; rows {bad} are not."
                )
            off = off + np.log(t)
        return off
    if OFFSET in frame.columns:
        return frame[OFFSET].to_numpy(dtype=np.float64)
    if named:
        missing = [c for c in named.values() if c not in frame.columns]
        raise ValueError(
            f"The model was fitted with {', '.join(f'{k}={v!r}' for k, v in named.items())}; "
            f"the rows to predict lack the column(s) {missing}. Give them (or the "
            f"offset itself as a column {OFFSET!r})."
        )
    return np.zeros(len(frame))


def glm_predictor(self, which: str | None = None) -> Predictor:
    r"""Predictor of a GLM: ``"response"`` :math:`g^{-1}(x^\top\beta + o)` or ``"link"``.

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> X = np.column_stack([np.ones(5), [1.0, 2, 3, 4, 5]])
    >>> r = lx.glm(np.array([1, 3, 2, 6, 8]), X, family="poisson")
    >>> p = r.predictor("link")
    >>> p.which, p.variables
    ('link', ('x1',))
    """
    which = "response" if which is None else which
    if which not in ("response", "link"):
        raise ValueError(f"which must be 'response' or 'link' for a GLM; got {which!r}.")
    rows = DesignRows(self.design, self._data["offset"])
    cols, inverse = tuple(self.columns), self._link.inverse

    def fn(p, d):
        import jax.numpy as jnp

        eta = d["X"] @ jnp.stack([p[c] for c in cols]) + d["offset"]
        return eta if which == "link" else inverse(eta)

    return Predictor(self.fit, fn, lambda fr: {"X": rows.matrix(fr), "offset": rows.offset(fr)},
                     rows.frame, rows.as_frame, which, None, rows.variables,
                     factors=rows.factors,
                     link=("link", inverse) if which == "response" else None)  # fmt: skip


def mnlogit_predictor(self, which: str | None = None) -> Predictor:
    r"""Predictor of a multinomial logit: ``"prob"``, the probability of each level.

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> x = np.linspace(-2, 2, 30)
    >>> y = np.where(x + np.sin(7 * x) > 0.5, "c", np.where(x + np.cos(5 * x) > -0.5, "b", "a"))
    >>> r = lx.mnlogit(y, np.column_stack([np.ones(30), x]))
    >>> r.predictor().classes
    ('a', 'b', 'c')
    """
    if which not in (None, "prob"):
        raise ValueError(f"which must be 'prob' for a multinomial logit; got {which!r}.")
    rows = DesignRows(self.design)
    cols, keys = tuple(self.columns), tuple(self._keys)
    names = [str(v) for v in self.levels]
    base_j = names.index(str(self.base))

    def fn(p, d):
        import jax
        import jax.numpy as jnp

        B = jnp.stack([jnp.stack([p[k][c] for c in cols]) for k in keys])  # (K-1, p)
        eta = d["X"] @ B.T
        eta = jnp.insert(eta, base_j, 0.0, axis=1)
        return jax.nn.softmax(eta, axis=1)

    return Predictor(self.fit, fn, lambda fr: {"X": rows.matrix(fr)}, rows.frame,
                     rows.as_frame, "prob", tuple(names), rows.variables,
                     factors=rows.factors)  # fmt: skip


def ordinal_predictor(self, which: str | None = None) -> Predictor:
    r"""Predictor of a cumulative-link model: ``"prob"``, the probability of each level.

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> x = np.linspace(-2, 2, 40)
    >>> y = np.digitize(x + np.sin(9 * x), [-0.7, 0.7])
    >>> r = lx.ordinal(y, x[:, None])
    >>> pr = r.predictor()
    >>> pr.classes, pr.which
    (('0', '1', '2'), 'prob')
    """
    from .glm._link import LINKS
    from .ordinal import _log_probs

    if which not in (None, "prob"):
        raise ValueError(f"which must be 'prob' for an ordinal model; got {which!r}.")
    rows = DesignRows(self.design, drop=self._drop)
    cols, link = tuple(self.columns), LINKS[self.link]

    def fn(p, d):
        import jax.numpy as jnp

        xb = d["X"] @ jnp.stack([p["beta"][c] for c in cols])
        return jnp.exp(_log_probs(link, jnp.asarray(p["zeta"])[None, :] - xb[:, None]))

    return Predictor(self.fit, fn, lambda fr: {"X": rows.matrix(fr)}, rows.frame,
                     rows.as_frame, "prob", tuple(str(v) for v in self.levels),
                     rows.variables, factors=rows.factors)  # fmt: skip


def mixed_predictor(self, which: str | None = None) -> Predictor:
    r"""Predictor of a mixed model.

    ``which``: ``"response"`` (default; conditional on the random effects'
    modes, lme4's ``re.form = NULL``, a new level at 0), ``"link"``,
    ``"population"`` (:math:`g^{-1}(x^\top\beta)`, ``re.form = NA``) or
    ``"population_link"``. The modes are held at their estimates: the standard
    errors cover the uncertainty of the fixed effects (and of nothing else),
    as R's ``marginaleffects`` for ``lme4`` fits.

    Examples
    --------
    >>> import numpy as np, pandas as pd, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(8), 5)
    >>> df = pd.DataFrame({"y": 1.0 + rng.normal(size=8)[g] + rng.normal(size=40), "g": g})
    >>> m = lx.mixed("y ~ 1 + (1 | g)", df)
    >>> m.predictor("population").which
    'population'
    """
    from .glm._link import LINKS
    from .random_effects._formula import new_design

    kinds = ("response", "link", "population", "population_link")
    which = "response" if which is None else which
    if which not in kinds:
        raise ValueError(f"which must be one of {kinds} for a mixed model; got {which!r}.")
    des, cols, inverse = self._design, tuple(self.fixed_names), LINKS[self.link].inverse
    conditional = not which.startswith("population")
    effects = self._effects() if conditional else None
    frame = des.frame
    if frame is not None and np.any(des.offset != 0):
        frame = frame.assign(**{OFFSET: des.offset})
    random = {str(t.group) for t in des.terms} | {c for t in des.terms for c in
                                                  str(t.group).split(":")}  # fmt: skip
    needed = {str(v) for v in des.fixed_spec.required_variables}
    variables = tuple(c for c in (frame.columns if frame is not None else ())
                      if str(c) in needed and str(c) not in random)  # fmt: skip

    def build(fr):
        X, zs = new_design(des, fr)
        re = np.zeros(X.shape[0])
        if conditional:
            for (Z, codes), b in zip(zs, effects):
                re += np.where(codes >= 0, np.sum(Z * b[np.maximum(codes, 0)], axis=1), 0.0)
        return {"X": X, "offset": frame_offset(des, fr) + re}

    def fn(p, d):
        import jax.numpy as jnp

        eta = d["X"] @ jnp.stack([p[c] for c in cols]) + d["offset"]
        return eta if which.endswith("link") else inverse(eta)

    # The model's covariance of the fixed effects (lme4's convention, MixedResult.vcov);
    # the predictions depend on no other parameter.
    labels = list(self.fit.spec.labels)
    idx = [labels.index(c) for c in cols]
    V = np.zeros((len(labels), len(labels)))
    V[np.ix_(idx, idx)] = self.vcov()
    link = None if which.endswith("link") else (
        "population_link" if which == "population" else "link", inverse)
    return Predictor(self.fit, fn, build, frame, _user_frame, which, None, variables,
                     factors=categorical_variables(des.fixed_spec), natural_cov=V,
                     link=link)


def count_predictor(self, which: str | None = None) -> Predictor:
    r"""Predictor of a zero-inflated, hurdle or zero-truncated count model.

    ``which``: ``"response"`` (default, the mean of :math:`y`), ``"zero"``
    (:math:`P(y = 0)`), ``"count"`` (the count component's mean),
    ``"zero_part"`` (the zero part's probability) or ``"prob"``
    (:math:`P(y = k)`, ``k = 0..max(y)``, one class per ``k``), as
    :meth:`CountResult.predict`. Formula fits only.

    Examples
    --------
    >>> import numpy as np, pandas as pd, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=300)
    >>> y = np.where(rng.random(300) < 0.3, 0, rng.poisson(np.exp(0.5 + 0.4 * x)))
    >>> r = lx.zeroinfl("y ~ x", pd.DataFrame({"y": y, "x": x}))
    >>> t = lx.predict(r, which="zero")
    >>> bool(np.allclose(t.estimate, r.predict(which="zero")))
    True
    """
    which = "response" if which is None else which
    kinds = ("response", "zero", "zero_part", "count", "prob")
    if which not in kinds:
        raise ValueError(f"which must be one of {kinds} for a count model; got {which!r}.")
    if which == "zero_part" and self.kind == "zerotrunc":
        raise ValueError("A zero-truncated model has no zero part.")
    cd, zd = self._count, self._zero
    if cd.frame is None:
        raise ValueError(
            "lx.predict needs a count model fitted from a formula (an array fit: use "
            "its predict method, or lx.predict(result.fit, fn=...))."
        )
    k = np.arange(int(np.max(cd.y)) + 1)
    f = self._prediction_fn(which, k)
    trunc = self.kind == "zerotrunc"
    frame, variables, factors = _formula_rows(cd, [cd.spec] + ([] if trunc else [zd.spec]))

    def build(fr):
        X = model_matrix(cd, fr)
        return {"X": X, "Z": X if trunc else model_matrix(zd, fr),
                "offset": frame_offset(cd, fr)}  # fmt: skip

    return Predictor(self.fit, lambda p, d: f(p, d["X"], d["Z"], d["offset"]), build,
                     frame, _user_frame, which,
                     tuple(str(v) for v in k) if which == "prob" else None,
                     variables, factors=factors)  # fmt: skip


def _formula_rows(des, specs):
    """``(frame, variables, factors)`` of a formula model whose parts read the
    right-hand sides ``specs`` (a mean and a zero or precision part): the kept
    rows, with a nonzero offset as the column ``"(offset)"``; the covariates
    the parts read (not the response); and the categorical ones."""
    off = des.extra.get("offset")
    frame = des.frame if off is None or not np.any(off) else des.frame.assign(**{OFFSET: off})
    needed = {str(v) for s in specs for v in s.required_variables}
    variables = tuple(c for c in frame.columns if str(c) in needed and str(c) != des.response)
    factors = tuple(sorted({v for s in specs for v in categorical_variables(s)}))
    return frame, variables, factors


def _formula_only(des, model: str):
    if des.frame is None:
        raise ValueError(
            f"lx.predict needs a {model} fitted from a formula (an array fit: use its "
            "predict method, or lx.predict(result.fit, fn=...))."
        )


def beta_predictor(self, which: str | None = None) -> Predictor:
    r"""Predictor of a beta regression: ``"response"`` (the mean), ``"precision"``,
    ``"variance"`` or ``"link"``, as :meth:`BetaResult.predict` (formula fits).

    Examples
    --------
    >>> import numpy as np, pandas as pd, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=200)
    >>> mu = 1 / (1 + np.exp(-(0.3 + 0.8 * x)))
    >>> r = lx.betareg("y ~ x", pd.DataFrame({"y": rng.beta(mu * 20, (1 - mu) * 20), "x": x}))
    >>> bool(np.allclose(lx.predict(r, se=False).estimate, r.predict()))
    True
    """
    which = "response" if which is None else which
    kinds = ("response", "precision", "variance", "link")
    if which not in kinds:
        raise ValueError(f"which must be one of {kinds} for a beta regression; got {which!r}.")
    dx, dz = self._dx, self._dz
    _formula_only(dx, "beta regression")
    f = self._prediction_fn(which)
    frame, variables, factors = _formula_rows(dx, [dx.spec, dz.spec])
    return Predictor(self.fit, lambda p, d: f(p, d["X"], d["Z"]),
                     lambda fr: {"X": model_matrix(dx, fr), "Z": model_matrix(dz, fr)},
                     frame, _user_frame, which, None, variables, factors=factors)  # fmt: skip


def firth_predictor(self, which: str | None = None) -> Predictor:
    r"""Predictor of a Firth-penalized logistic or Poisson regression:
    ``"response"`` or ``"link"``.

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> X = np.column_stack([np.ones(6), [0.0, 0, 0, 1, 1, 1]])
    >>> r = lx.firth(np.array([0, 0, 1, 1, 1, 1]), X)
    >>> round(float(lx.predict(r, np.array([[1.0, 1.0]])).estimate[0]), 4)
    0.875
    """
    which = "response" if which is None else which
    if which not in ("response", "link"):
        raise ValueError(f"which must be 'response' or 'link'; got {which!r}.")
    rows = DesignRows(self._design)
    f = self._prediction_fn(which)
    return Predictor(self.fit, lambda p, d: f(p, d["X"]), lambda fr: {"X": rows.matrix(fr)},
                     rows.frame, rows.as_frame, which, None, rows.variables,
                     factors=rows.factors)  # fmt: skip


def survival_predictor(self, which: str | None = None) -> Predictor:
    r"""Predictor of a parametric survival (or Tobit) model: ``"median"``
    (default) or ``"lp"``, as :meth:`SurvivalResult.predict`. Survival
    probabilities at given times and other quantiles: ``result.predict(...,
    se=True)``, or :func:`likelihax.predict` with ``fn``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=200)
    >>> t = np.exp(1.0 + 0.5 * x + 0.7 * np.log(rng.exponential(size=200)))
    >>> r = lx.survreg("Surv(t, d) ~ x", pd.DataFrame({"t": t, "d": 1, "x": x}))
    >>> bool(np.allclose(lx.predict(r).estimate, r.predict()))
    True
    """
    from ._surv import new_matrix

    which = "median" if which is None else which
    if which not in ("median", "lp"):
        raise ValueError(
            f"which must be 'median' or 'lp' for lx.predict of a survival model; got "
            f"{which!r} (survival curves and quantiles: result.predict)."
        )
    des = self._design
    rows = DesignRows(des)
    f = self._prediction_fn(which, np.array([0.5]), False, None)

    def as_frame(newdata):
        if des.spec is not None:
            return _user_frame(newdata)
        return _pandas().DataFrame(new_matrix(des, newdata), columns=list(des.columns))

    return Predictor(self.fit, lambda p, d: f(p, d["X"]), lambda fr: {"X": rows.matrix(fr)},
                     rows.frame, as_frame, which, None, rows.variables,
                     factors=rows.factors)  # fmt: skip


def dispersion_predictor(self, which: str | None = None) -> Predictor:
    r"""Predictor of a GLM with a dispersion submodel: ``"response"``, ``"link"``,
    ``"dispersion"`` or ``"variance"``, as its ``predict`` (formula fits).

    Examples
    --------
    >>> import numpy as np, pandas as pd, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> x, z = rng.normal(size=(2, 300))
    >>> y = 1.0 + x + np.exp(0.5 * (0.2 + 0.6 * z)) * rng.normal(size=300)
    >>> r = lx.glm("y ~ x", pd.DataFrame({"y": y, "x": x, "z": z}), dispformula="~ z")
    >>> t = lx.predict(r, which="dispersion", se=False)
    >>> bool(np.allclose(t.estimate, r.predict(which="dispersion")))
    True
    """
    which = "response" if which is None else which
    kinds = ("response", "link", "dispersion", "variance")
    if which not in kinds:
        raise ValueError(f"which must be one of {kinds}; got {which!r}.")
    dx, dz = self._dx, self._dz
    _formula_only(dx, "GLM with a dispersion formula")
    f = self._prediction_fn(which)
    frame, variables, factors = _formula_rows(dx, [dx.spec, dz.spec])

    def build(fr):
        return {"X": model_matrix(dx, fr), "Z": model_matrix(dz, fr),
                "offset": frame_offset(dx, fr)}  # fmt: skip

    return Predictor(self.fit, lambda p, d: f(p, d["X"], d["Z"], d["offset"]), build,
                     frame, _user_frame, which, None, variables, factors=factors)  # fmt: skip


def cox_predictor(self, which: str | None = None) -> Predictor:
    r"""Predictor of a Cox model: ``"lp"`` :math:`x^\top\beta` (default) or
    ``"risk"`` :math:`e^{x^\top\beta}`, uncentred (``coxph``'s ``reference =
    "zero"``). Survival curves with survfit's standard errors:
    ``result.predict(which="survival", times=..., se=True)``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=200)
    >>> t = rng.exponential(np.exp(-0.5 * x))
    >>> r = lx.coxph("Surv(t, d) ~ x", pd.DataFrame({"t": t, "d": 1, "x": x}))
    >>> s = lx.slopes(r, which="lp")   # d lp / dx = beta
    >>> bool(np.isclose(s.estimate[0], np.log(r.hazard_ratio["x"])))
    True
    """
    from ._surv import new_matrix

    which = "lp" if which is None else which
    if which not in ("lp", "risk"):
        raise ValueError(
            f"which must be 'lp' or 'risk' for lx.predict of a Cox model; got {which!r} "
            "(survival curves: result.predict(which='survival', times=...))."
        )
    des, keep, cols = self._design, self._keep, list(self.columns)
    rows = DesignRows(des)

    def fn(p, d):
        import jax.numpy as jnp

        eta = d["X"] @ jnp.stack([p["beta"][c] for c in cols])
        return eta if which == "lp" else jnp.exp(eta)

    def as_frame(newdata):
        if des.spec is not None:
            return _user_frame(newdata)
        return _pandas().DataFrame(new_matrix(des, newdata), columns=list(des.columns))

    return Predictor(self.fit, fn, lambda fr: {"X": rows.matrix(fr)[:, keep]}, rows.frame,
                     as_frame, which, None, rows.variables, factors=rows.factors,
                     link=("lp", np.exp) if which == "risk" else None)  # fmt: skip
