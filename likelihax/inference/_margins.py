r"""Marginal effects and contrasts by automatic differentiation of a prediction.

For a prediction :math:`\hat y_i = g(\hat\theta, x_i)` of a
:class:`~likelihax.inference.Predictor`, :func:`slopes` reports

* ``at="overall"`` (default): the average marginal effect
  :math:`\frac1m\sum_i \partial g(\hat\theta, x_i)/\partial x_{ij}` over the
  rows (R ``marginaleffects::avg_slopes``, statsmodels
  ``get_margeff(at="overall")``, Stata ``margins, dydx(*)``);
* ``at="mean"``: the effect at one row holding every numeric covariate at its
  mean and every other at its most frequent value (``slopes(m, newdata =
  "mean")``, ``get_margeff(at="mean")``, Stata ``atmeans``);
* ``at="all"``: one effect per row (``slopes(m)``, ``get_margeff(at="all")``);
* ``at={"x": values, ...}``: at the mean row with those covariates set (every
  combination of the values; ``slopes(m, newdata = datagrid(x = values))``).

The derivative with respect to the covariate is exact: forward-mode
automatic differentiation (``jax.jvp``, one pass, each row's prediction
depending on its own covariates) of the prediction as a JAX function of the
covariate, then the delta method (a second ``jax.jacfwd``) with respect to the
parameters, so the standard errors carry no finite-difference error. For a
plain fit the covariate is a field of the data ``fn`` reads and the derivative
goes through ``fn``. For a model built from a formula (or a model matrix) the
design is rebuilt as an affine JAX function of the covariate,
:math:`X(x) = X(x_0) + (x - x_0)\,\partial X/\partial x`, which holds exactly
whenever the model matrix is linear in the covariate (``x``, ``x:z``,
``x:C(g)``, ``center(x)``, ``scale(x)``); a nonlinear transform (``np.log(x)``,
``I(x**2)``, splines) is detected (the design at three values of the covariate
is not on a line) and raises a ``ValueError``: write the prediction as
``fn(params, data)`` of the raw covariate instead. Where the model knows its
design's derivative in closed form (a GAM's smooth bases,
:attr:`~likelihax.inference.Predictor.design_slope`), those columns take it,
:math:`X(x) = X(x_0) + (x - x_0)\,X'(x_0)`, which has the design's exact
derivative at :math:`x_0`, all the slope reads.

``slope`` also gives elasticities as statsmodels' ``method``: ``"eyex"``
:math:`\partial\log y/\partial\log x`, ``"dyex"`` :math:`\partial y/\partial\log
x`, ``"eydx"`` :math:`\partial\log y/\partial x` (each row's, then averaged).
``dummy=True`` replaces the derivative of a 0/1 covariate by the discrete
change :math:`g(x{=}1) - g(x{=}0)`, and ``count=True`` that of a
nonnegative integer covariate by :math:`\{g(x+1) - g(x-1)\}/2`, both as
statsmodels' ``get_margeff(dummy=True, count=True)``. A covariate that is not
numeric (string, categorical, boolean) always gets contrasts of each level
against the first (``avg_slopes`` does the same).

:func:`comparisons` reports contrasts: the change from ``x`` to ``x + 1`` (or
to ``x + d``), between two given values ``(a, b)``, or of each level of a factor
against its first, as differences or ratios (R ``avg_comparisons``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..core import x64_scope
from ._predictions import as_jax, estimate_table, frame_columns, tidy
from ._predictor import predictor_of

__all__ = ["slopes", "comparisons", "datagrid"]

SLOPES = {"dydx": "dY/dX", "eyex": "eY/eX", "dyex": "dY/eX", "eydx": "eY/dX"}


# ----- frames ------------------------------------------------------------------------------
def _is_frame(frame) -> bool:
    return hasattr(frame, "columns") and hasattr(frame, "iloc")


def _names(frame) -> list:
    return [str(c) for c in frame.columns] if _is_frame(frame) else list(frame)


def _column(frame, v):
    if v not in _names(frame):
        raise ValueError(
            f"variables: {v!r} is not a covariate of the rows; they have {_names(frame)}."
        )
    return frame[v].to_numpy() if _is_frame(frame) else np.asarray(frame[v])


def _with(frame, v, values):
    """``frame`` with column ``v`` replaced (a new frame; the caller's is untouched)."""
    if _is_frame(frame):
        old = frame[v]
        if str(old.dtype) == "category":
            import pandas as pd

            values = pd.Categorical(np.broadcast_to(values, len(frame)),
                                    categories=old.cat.categories)  # fmt: skip
        return frame.assign(**{v: values})
    return {**frame, v: np.broadcast_to(np.asarray(values), np.shape(frame[v])).copy()}


def _numeric(a) -> bool:
    return np.asarray(a).dtype.kind in "iuf"


def _typical(a, factor: bool = False):
    """The mean of a numeric column, the most frequent value of another."""
    if _numeric(a) and not factor:
        return float(np.mean(np.asarray(a, dtype=np.float64)))
    vals, counts = np.unique(np.asarray(a).astype(str), return_counts=True)
    first = {str(x): x for x in reversed(list(a))}
    return first[vals[int(np.argmax(counts))]]


def _length(frame) -> int:
    if _is_frame(frame):
        return len(frame)
    sizes = [len(v) for v in frame.values() if not isinstance(v, dict) and np.ndim(v) == 1]
    return max(sizes) if sizes else 1


def _at_rows(frame, at, factors=()):
    """The rows at which effects are evaluated, and whether they are averaged."""
    if isinstance(at, str):
        if at not in ("overall", "all", "mean"):
            raise ValueError(
                f"at must be 'overall', 'all', 'mean' or a dict of values; got {at!r}."
            )
        if at != "mean":
            return frame, at == "overall"
        at = {}
    if not isinstance(at, dict):
        raise TypeError(f"at must be a string or a dict of values; got {type(at).__name__}.")
    m = _length(frame)
    if _is_frame(frame):
        base = {str(c): _typical(frame[c].to_numpy(), str(c) in factors)
                for c in frame.columns}  # fmt: skip
    else:
        base = {k: (_typical(v, k in factors) if np.ndim(v) == 1 and len(v) == m else v)
                for k, v in frame.items()}  # fmt: skip
    for v in at:
        _column(frame, v)
    keys = list(at)
    grid = list(itertools.product(*[np.atleast_1d(np.asarray(at[k], dtype=object))
                                    for k in keys]))  # fmt: skip
    rows = {k: [base[k]] * len(grid) for k in base}
    for j, k in enumerate(keys):
        rows[k] = [g[j] for g in grid]
    if _is_frame(frame):
        import pandas as pd

        out = pd.DataFrame({k: np.asarray(rows[k]) for k in rows})
        for c in frame.columns:
            if str(frame[c].dtype) == "category":
                out[c] = pd.Categorical(out[c], categories=frame[c].cat.categories)
        return out, False
    return {k: (np.asarray(rows[k]) if k in keys or (np.ndim(frame[k]) == 1 and
                                                     len(frame[k]) == m) else base[k])
            for k in rows}, False  # fmt: skip


def _levels(frame, v, fitted):
    col = fitted[v] if _is_frame(fitted) and v in _names(fitted) else frame[v]
    if _is_frame(fitted) and str(getattr(col, "dtype", "")) == "category":
        return list(col.cat.categories)
    vals = np.asarray(col)
    return sorted(set(vals.tolist()), key=str) if vals.dtype.kind == "O" else list(np.unique(vals))


def datagrid(result, newdata: Any = None, *, which: str | None = None,
             fn: Callable | None = None, **values):
    r"""Rows at typical values: every covariate at its mean (numeric) or most
    frequent value, the named ones at every combination of the given values.

    As R's ``marginaleffects::datagrid``; the rows to pass as ``newdata`` to
    :func:`likelihax.predict`.

    Parameters
    ----------
    result : FitResult or model result
    newdata : DataFrame or dict, optional
        Rows whose typical values are used (default: the fitted rows).
    which, fn
        As :func:`likelihax.predict` (they choose the predictor, hence the rows).
    **values
        Covariate name -> value or list of values.

    Returns
    -------
    DataFrame or dict
        A frame of the model's kind (a dict for ``fn``).

    Examples
    --------
    >>> import numpy as np, pandas as pd, likelihax as lx
    >>> df = pd.DataFrame({"y": [1.0, 2, 4, 3, 5, 8], "x": [1.0, 2, 3, 4, 5, 6],
    ...                    "g": ["a", "b", "b", "a", "b", "b"]})
    >>> r = lx.glm("y ~ x + g", df, family="poisson")
    >>> lx.inference.datagrid(r, x=[0.0, 10.0])[["x", "g"]].values.tolist()
    [[0.0, 'b'], [10.0, 'b']]
    """
    pred = predictor_of(result, which, fn)
    return _at_rows(pred.rows(newdata), values, pred.factors)[0]


# ----- the prediction as a function of parameters and covariate -----------------------------
def _data_of(pred, frame):
    with x64_scope():
        return as_jax(pred.build(frame))


def _affine(pred, frame, v, x0):
    """``x -> data``: the design as a JAX function of covariate ``v`` (module notes)."""
    if pred.traced:
        data = _data_of(pred, frame)

        def at(x):
            return {**data, v: x}

        return at
    try:
        D0 = pred.build(frame)
        D1 = pred.build(_with(frame, v, x0 + 1.0))
        D2 = pred.build(_with(frame, v, x0 + 2.5))
    except Exception as e:  # noqa: BLE001 - formulaic raises many kinds
        raise ValueError(f"Cannot rebuild the design with {v!r} moved: {e}") from e
    leaves0, tree = jax.tree_util.tree_flatten(D0)
    leaves1, leaves2 = jax.tree_util.tree_leaves(D1), jax.tree_util.tree_leaves(D2)
    known = ([None] * len(leaves0) if pred.design_slope is None
             else jax.tree_util.tree_leaves(pred.design_slope(frame, v)))  # fmt: skip
    slopes = []
    for a, b, c, e in zip(leaves0, leaves1, leaves2, known):
        a, b, c = (np.asarray(t) for t in (a, b, c))
        d = (b - a).astype(np.float64)
        scale = 1.0 + np.max(np.abs(a), initial=0.0) + np.max(np.abs(c), initial=0.0)
        rule = np.ones(d.shape, bool) if e is None else np.isnan(np.asarray(e))
        linear = np.allclose((c - a)[rule], 2.5 * d[rule], rtol=0, atol=1e-9 * scale)
        if e is not None:  # the model's closed-form derivative where it has one
            d = np.where(rule, d, np.asarray(e, dtype=np.float64))
        if a.dtype.kind not in "f" and np.any(d != 0) or not linear:
            raise ValueError(
                f"The model's design is not linear in {v!r} (a transform such as "
                f"np.log({v}), I({v}**2) or a spline, or {v!r} used as a factor): its "
                f"derivative with respect to {v!r} cannot be taken through the model "
                f"matrix. Write the prediction as a JAX function of the raw covariate, "
                f"lx.slopes(fit, variables=[{v!r}], fn=lambda params, data: ...), or "
                "use lx.comparisons for a discrete change."
            )
        slopes.append(d if np.any(d != 0) else None)
    with x64_scope():
        base = [jnp.asarray(t) for t in as_jax(leaves0)]
        x0j = jnp.asarray(np.asarray(x0, dtype=np.float64))

    def at(x):
        out = []
        for a, d in zip(base, slopes):
            if d is None:
                out.append(a)
            else:
                shift = jnp.reshape(x - x0j, (-1,) + (1,) * (d.ndim - 1))
                out.append(a + shift * jnp.asarray(d))
        return jax.tree_util.tree_unflatten(tree, out)

    return at


def _as_2d(y):
    return y[:, None] if y.ndim == 1 else y


def _slope_fn(pred, frame, v, slope: str, average: bool) -> Callable:
    spec = pred.fit.spec
    x0 = np.asarray(_column(frame, v), dtype=np.float64)
    data_at = _affine(pred, frame, v, x0)

    def g(theta):
        params = spec.unflatten_natural(theta)
        x = jnp.asarray(x0)
        y, dy = jax.jvp(lambda x: _as_2d(pred.fn(params, data_at(x))), (x,), (jnp.ones_like(x),))
        if slope[:2] == "ey":
            dy = dy / y
        if slope[2:] == "ex":
            dy = dy * x[:, None]
        return jnp.ravel(jnp.mean(dy, axis=0) if average else dy)

    return g


def _change_fn(pred, lo, hi, comparison: str, average: bool, half: bool = False):
    spec = pred.fit.spec
    d_lo, d_hi = _data_of(pred, lo), _data_of(pred, hi)

    def g(theta):
        params = spec.unflatten_natural(theta)
        a, b = _as_2d(pred.fn(params, d_lo)), _as_2d(pred.fn(params, d_hi))
        if comparison == "ratio":
            out = b / a
        elif comparison == "lnratio":
            out = jnp.log(b) - jnp.log(a)
        else:
            out = b - a
        out = out / 2.0 if half else out
        return jnp.ravel(jnp.mean(out, axis=0) if average else out)

    return g


def _owner(result, pred, fn):
    """What the intervals read (and the bootstrap refits): the model result, or
    the predictor's own fit (``fn``'s, or a GAM's coefficients)."""
    from ..results import as_fit

    return result if fn is None and pred.fit is as_fit(result) else pred.fit


# ----- the tables --------------------------------------------------------------------------
def _table(result, pred, pieces, frame, average, options):
    """Stack the effects ``pieces`` ``[(term, contrast, g)]`` into one table;
    ``result`` is what the bootstrap refits (the model result, or the plain fit)."""
    m = _length(frame)
    gs = [g for _, _, g in pieces]

    def g_all(theta):
        return jnp.concatenate([g(theta) for g in gs])

    table = estimate_table(result, g_all, default_cov=pred.natural_cov, **options)
    with x64_scope():
        th = jnp.asarray(np.asarray(pred.fit.params_flat, np.float64))
        k = jax.eval_shape(pred.fn, pred.fit.spec.unflatten_natural(th),
                           _data_of(pred, frame)).shape
    classes = pred.classes if len(k) == 2 else None
    if len(k) == 2 and classes is None:
        classes = tuple(range(k[1]))
    n = 1 if average else m
    size = n * (1 if classes is None else len(classes))
    frames = []
    for j, (term, contrast, _) in enumerate(pieces):
        part = {c: v[j * size:(j + 1) * size] for c, v in table.items()}
        cols = {} if average else frame_columns(frame, m)
        df = tidy(cols, part, classes, n)
        df.insert(0, "contrast", contrast)
        df.insert(0, "term", term)
        frames.append(df if not average else df.drop(columns="rowid"))
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


def _setup(result, which, fn, newdata, at, variables):
    pred = predictor_of(result, which, fn)
    base = pred.rows(newdata)
    frame, average = _at_rows(base, at, pred.factors)
    if variables is None:
        variables = list(pred.variables)
        if not variables:
            raise ValueError(
                "variables: name the covariates (fields of the data fn reads)."
            )
    elif isinstance(variables, str):
        variables = [variables]
    return pred, base, frame, average, variables


def _label(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _factor_pieces(pred, frame, base, v, levels, comparison, average, pairs=None):
    sep = " / " if comparison == "ratio" else " - "
    pairs = pairs or [(levels[0], lv) for lv in levels[1:]]
    return [(v, f"{_label(b)}{sep}{_label(a)}", _change_fn(pred, _with(frame, v, a), _with(frame, v, b),
                                           comparison, average)) for a, b in pairs]


def slopes(
    result,
    variables: Any = None,
    *,
    newdata: Any = None,
    at: Any = "overall",
    which: str | None = None,
    fn: Callable | None = None,
    slope: str = "dydx",
    dummy: bool = False,
    count: bool = False,
    se: bool = True,
    interval: str | None = "delta",
    level: float = 0.95,
    cov: Any = None,
    n_draws: int = 1000,
    seed: int = 0,
):
    r"""Marginal effects (slopes) of covariates, with standard errors, as a table.

    Parameters
    ----------
    result : FitResult or model result
        As :func:`likelihax.predict`.
    variables : str or list of str, optional
        Covariates (columns of the rows, or fields of the data ``fn`` reads).
        Default: every covariate of the model's formula (an array model: each
        non-constant model-matrix column); required with ``fn``.
    newdata : DataFrame, dict or array, optional
        The rows (default: the fitted rows).
    at : {"overall", "mean", "all"} or dict
        Average over the rows, at the mean row, per row, or at given values
        (module notes).
    which : str, optional
        The model's quantity (as :func:`likelihax.predict`).
    fn : callable, optional
        ``fn(params, data)``, the prediction (a plain :func:`likelihax.fit`).
    slope : {"dydx", "eyex", "dyex", "eydx"}
        Derivative or elasticity (statsmodels' ``method``).
    dummy, count : bool
        Discrete changes for 0/1 and count covariates (statsmodels'
        ``dummy=`` and ``count=``).
    se, interval, level, cov, n_draws, seed
        As :func:`likelihax.predict`.

    Returns
    -------
    pandas.DataFrame
        ``term``, ``contrast`` (``"dY/dX"``, ``"b - a"``, ...), ``group`` for
        per-class predictions, the rows' columns with ``at="all"`` or a dict,
        ``estimate``, ``std_error``, ``statistic``, ``p_value``, ``conf_low``,
        ``conf_high``.

    Raises
    ------
    ValueError
        An unknown variable or option, or a design not linear in the covariate.

    Examples
    --------
    The average marginal effect of a logistic regression, against its closed
    form :math:`\frac1n\sum_i \hat p_i(1 - \hat p_i)\,\hat\beta_1`:

    >>> import numpy as np, likelihax as lx
    >>> x = np.linspace(-2, 2, 40)
    >>> y = (np.sin(5 * x) + x > 0).astype(float)
    >>> r = lx.glm(y, np.column_stack([np.ones(40), x]), family="binomial",
    ...            columns=["one", "x"])
    >>> t = lx.slopes(r)
    >>> p = r.fitted
    >>> bool(np.isclose(t.estimate[0], np.mean(p * (1 - p)) * r.coef[1]))
    True
    >>> t.term[0], t.contrast[0]
    ('x', 'dY/dX')
    """
    if slope not in SLOPES:
        raise ValueError(f"slope must be one of {tuple(SLOPES)}; got {slope!r}.")
    pred, base, frame, average, variables = _setup(result, which, fn, newdata, at, variables)
    pieces = []
    for v in variables:
        col = _column(frame, v)
        fitted = np.asarray(_column(base, v))
        if not _numeric(col) or col.dtype.kind == "b" or v in pred.factors:
            pieces += _factor_pieces(pred, frame, base, v, _levels(frame, v, base),
                                     "lnratio" if slope[:2] == "ey" else "difference",
                                     average)  # fmt: skip
            continue
        is_dummy = set(np.unique(fitted).tolist()) == {0, 1}
        is_count = (np.all(fitted % 1 == 0) and np.all(fitted >= 0) and not is_dummy
                    and np.var(fitted) > 0)  # fmt: skip
        comp = "lnratio" if slope[:2] == "ey" else "difference"
        if dummy and is_dummy:
            pieces.append((v, "1 - 0", _change_fn(pred, _with(frame, v, 0.0),
                                                  _with(frame, v, 1.0), comp, average)))
        elif count and is_count:
            x = np.asarray(col, dtype=np.float64)
            pieces.append((v, "(+1) - (-1), halved", _change_fn(
                pred, _with(frame, v, x - 1.0), _with(frame, v, x + 1.0), comp, average,
                half=True)))  # fmt: skip
        else:
            pieces.append((v, SLOPES[slope], _slope_fn(pred, frame, v, slope, average)))
    options = dict(se=se, interval=interval, level=level, cov=cov, n_draws=n_draws,
                   seed=seed)  # fmt: skip
    return _table(_owner(result, pred, fn), pred, pieces, frame, average,
                  options)


def comparisons(
    result,
    variables: Any = None,
    *,
    newdata: Any = None,
    at: Any = "overall",
    which: str | None = None,
    fn: Callable | None = None,
    comparison: str = "difference",
    se: bool = True,
    interval: str | None = "delta",
    level: float = 0.95,
    cov: Any = None,
    n_draws: int = 1000,
    seed: int = 0,
):
    r"""Contrasts of predictions between values or levels of covariates, as a table.

    Parameters
    ----------
    result : FitResult or model result
    variables : str, list or dict, optional
        Covariates; a dict gives each one's change: a number ``d`` (from
        ``x`` to ``x + d``), a pair ``(a, b)`` (from ``a`` to ``b``, every
        row), or None (numeric: ``+1``; factor: each level against the first).
        Default: every covariate of the model.
    newdata, at, which, fn
        As :func:`slopes`.
    comparison : {"difference", "ratio"}
        :math:`g(b) - g(a)` or :math:`g(b)/g(a)` (each row's, then averaged).
    se, interval, level, cov, n_draws, seed
        As :func:`likelihax.predict`.

    Returns
    -------
    pandas.DataFrame
        As :func:`slopes`; ``contrast`` reads ``"+1"``, ``"b - a"`` or
        ``"b / a"``.

    Examples
    --------
    The change in a Poisson mean from ``x = 0`` to ``x = 1`` at every row is
    :math:`e^{\beta_0}(e^{\beta_1} - 1)`:

    >>> import numpy as np, likelihax as lx
    >>> x = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
    >>> r = lx.glm(np.array([1, 2, 2, 4, 5, 9]), np.column_stack([np.ones(6), x]),
    ...            family="poisson", columns=["one", "x"])
    >>> t = lx.comparisons(r, {"x": (0.0, 1.0)})
    >>> b0, b1 = r.coef
    >>> bool(np.isclose(t.estimate[0], np.exp(b0) * (np.exp(b1) - 1)))
    True
    """
    if comparison not in ("difference", "ratio"):
        raise ValueError(f"comparison must be 'difference' or 'ratio'; got {comparison!r}.")
    changes = variables if isinstance(variables, dict) else None
    names = list(variables) if changes is not None else variables
    pred, base, frame, average, names = _setup(result, which, fn, newdata, at, names)
    pieces = []
    for v in names:
        col = _column(frame, v)
        change = None if changes is None else changes[v]
        if isinstance(change, (tuple, list)):
            a, b = change
            pieces += _factor_pieces(pred, frame, base, v, None, comparison, average,
                                     pairs=[(a, b)])  # fmt: skip
        elif not _numeric(col) or col.dtype.kind == "b" or v in pred.factors:
            if change is not None:
                raise ValueError(f"variables: give the factor {v!r} a pair (a, b) or None.")
            pieces += _factor_pieces(pred, frame, base, v, _levels(frame, v, base),
                                     comparison, average)  # fmt: skip
        else:
            d = 1.0 if change is None else float(change)
            x = np.asarray(col, dtype=np.float64)
            pieces.append((v, f"+{d:g}", _change_fn(pred, frame, _with(frame, v, x + d),
                                                    comparison, average)))  # fmt: skip
    options = dict(se=se, interval=interval, level=level, cov=cov, n_draws=n_draws,
                   seed=seed)  # fmt: skip
    return _table(_owner(result, pred, fn), pred, pieces, frame, average,
                  options)
