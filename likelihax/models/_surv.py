"""The survival response, from a formula or from arrays, for :func:`survreg`,
:func:`tobit` and :func:`coxph`.

:class:`Surv` is the response as arrays, R's ``Surv(time, event)`` and
``Surv(lower, upper, type = "interval2")``; :func:`inputs` reads a formula
and its data frame or a response and a covariate matrix ``X`` into the same
:class:`~likelihax.models._design.Design`, so that both give the same fit.
:func:`new_matrix` builds the model matrix of new rows for either.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, NamedTuple

import numpy as np

from ._design import (
    Design,
    column_values,
    design,
    from_arrays,
    model_matrix,
    split_top_level,
    with_response_placeholder,
)

__all__ = ["Surv"]

_EVENT_HINT = "have event codes other than 0/1 (write e.g. Surv(time, status == 2))"


def rows_error(bad, rows, text):
    """ValueError naming the first rows (positions in the input) where ``bad``."""
    if np.any(bad):
        raise ValueError(f"Rows {rows[bad][:5].tolist()} {text} ({int(np.sum(bad))} in all).")


def event_bounds(time, event, rows):
    """Right-censored ``(time, event)`` as bounds: ``(time, time)`` for an
    event, ``(time, NaN)`` for a censored row; errors naming the rows."""
    rows_error(np.isnan(time) | np.isnan(event), rows, "have a missing time or event")
    rows_error(~np.isin(event, (0.0, 1.0)), rows, _EVENT_HINT)
    return time, np.where(event == 1, time, np.nan)


def check_order(lo, hi, rows):
    """Interval bounds (NaN: unbounded on that side): errors naming the rows
    with no bound or a lower bound above the upper one."""
    rows_error(np.isnan(lo) & np.isnan(hi), rows, "have neither a lower nor an upper bound")
    rows_error(~np.isnan(lo) & ~np.isnan(hi) & (lo > hi), rows,
               "have a lower bound above the upper bound")  # fmt: skip


def surv_parts(lhs: str):
    """``Surv(a, b)`` or ``Surv(a, b, type='interval')`` -> (a, b, interval)."""
    m = re.fullmatch(r"\s*Surv\s*\((.*)\)\s*", lhs)
    if not m:
        raise ValueError(
            f"The response must be Surv(time, event) or Surv(lower, upper, "
            f"type='interval'); got {lhs.strip()!r}."
        )
    parts = split_top_level(m.group(1), ",")
    interval = False
    if len(parts) == 3:
        t = re.fullmatch(r"type\s*=\s*['\"](\w+)['\"]", parts[2])
        if not t or t.group(1) not in ("interval", "interval2"):
            raise ValueError(f"Surv(...): the third argument must be type='interval'; "
                             f"got {parts[2]!r}.")  # fmt: skip
        interval = True
    elif len(parts) != 2:
        raise ValueError(f"Surv(...) takes two arguments (and type='interval'); got {lhs!r}.")
    return parts[0], parts[1], interval


def _vector(values, name, owner="Surv"):
    """A float64 copy (read-only) of one value per row."""
    if isinstance(values, str):
        raise TypeError(f"{owner}: {name} must be an array of numbers; got the string "
                        f"{values!r} (a column name belongs in a formula: "
                        "'Surv(time, event) ~ x').")  # fmt: skip
    try:
        a = np.array(values, dtype=np.float64)  # a copy: the caller's array is never shared
    except (TypeError, ValueError) as e:
        raise TypeError(f"{owner}: {name} must be numbers: {e}") from None
    if a.ndim != 1:
        raise ValueError(f"{owner}: {name} must be one value per row (shape (n,)); got "
                         f"{a.shape}.")  # fmt: skip
    a.flags.writeable = False
    return a


@dataclasses.dataclass(frozen=True, init=False, eq=False)
class Surv:
    """A survival response as arrays, R's ``Surv()``: the response of
    :func:`likelihax.survreg` and :func:`likelihax.coxph` with a covariate
    matrix ``X`` in place of a formula and its data.

    ``Surv(time, event)``: right-censored times (``event`` 1 for an event, 0
    for a censored row; booleans such as ``status == 2`` count as 1/0).
    ``Surv(lower, upper, type="interval")``: interval-censored times in
    ``(lower, upper]`` (NaN ``lower``: left-censored at ``upper``; NaN
    ``upper``: right-censored at ``lower``; equal bounds: an exact time), as
    the formula's ``Surv(lower, upper, type='interval')``.

    Parameters
    ----------
    time : array_like (n,)
        Event or censoring times; with ``type="interval"`` the lower bounds.
    event : array_like (n,)
        0/1 event indicators; with ``type="interval"`` the upper bounds.
    type : {"right", "interval"}
        ``"interval2"`` (R's name for these NaN-bounded intervals) is read as
        ``"interval"``.

    Attributes
    ----------
    time : ndarray (n,)
        float64, read-only (a copy of the input; so are the others).
    event : ndarray (n,) or None
        The 0/1 indicators (None for intervals).
    upper : ndarray (n,) or None
        The upper bounds (None for right censoring).
    type : str
        ``"right"`` or ``"interval"``.

    Raises
    ------
    ValueError
        Arrays of different lengths or not one-dimensional; missing times or
        events, event codes other than 0/1, infinite times; an interval with
        neither bound or with its lower bound above its upper one (naming the
        rows). Positive times are checked by the model (a log-scale survreg
        needs them, Tobit does not).
    TypeError
        Values that are not numbers.

    Examples
    --------
    >>> import numpy as np, likelihax as lx
    >>> s = lx.Surv([5.0, 8.0, 12.0, 3.0], [1, 0, 1, True])
    >>> s, s.event.tolist()
    (Surv(4 rows, right-censored: 3 events), [1.0, 0.0, 1.0, 1.0])
    >>> lx.Surv([2.0, np.nan, 4.0], [3.0, 1.0, np.nan], type="interval")
    Surv(3 rows, interval-censored: 0 exact, 1 left, 1 right, 1 interval)
    >>> lx.Surv([1.0, 2.0, 3.0], [1, 2, 0])
    Traceback (most recent call last):
    ValueError: Rows [1] have event codes other than 0/1 (write e.g. Surv(time, status == 2)) (1 in all).
    """

    time: np.ndarray
    event: np.ndarray | None
    upper: np.ndarray | None
    type: str

    def __init__(self, time: Any, event: Any, type: str = "right"):  # noqa: A002 - R's name
        if type not in ("right", "interval", "interval2"):
            raise ValueError(f"Surv: type must be 'right' or 'interval'; got {type!r}.")
        interval = type != "right"
        second = "upper" if interval else "event"
        a, b = _vector(time, "time" if not interval else "lower"), _vector(event, second)
        if a.size != b.size:
            raise ValueError(f"Surv: {'lower' if interval else 'time'} has {a.size} values "
                             f"and {second} has {b.size}; give one of each per row.")  # fmt: skip
        if a.size == 0:
            raise ValueError("Surv: no rows.")
        rows = np.arange(a.size)
        if interval:
            check_order(a, b, rows)
        else:
            event_bounds(a, b, rows)
            rows_error(np.isinf(a), rows, "have infinite times")
        set_ = object.__setattr__
        set_(self, "time", a)
        set_(self, "event", None if interval else b)
        set_(self, "upper", b if interval else None)
        set_(self, "type", "interval" if interval else "right")

    def __len__(self) -> int:
        return int(self.time.size)

    def __repr__(self) -> str:
        n = len(self)
        if self.type == "right":
            return f"Surv({n} rows, right-censored: {int(self.event.sum())} events)"
        lo, hi = np.isnan(self.time), np.isnan(self.upper)
        exact = int(np.sum(~lo & ~hi & (self.time == self.upper)))
        both = int(np.sum(~lo & ~hi)) - exact
        return (f"Surv({n} rows, interval-censored: {exact} exact, {int(lo.sum())} left, "
                f"{int(hi.sum())} right, {both} interval)")  # fmt: skip


# ----- the inputs of a fit ---------------------------------------------------------------------
class Inputs(NamedTuple):
    """A fit's rows: the design of the kept rows, the two response columns of
    all input rows (``second`` None for Tobit), whether they are interval
    bounds, and the data frame (None for arrays)."""

    des: Design
    first: np.ndarray
    second: np.ndarray | None
    interval: bool
    frame: Any


def new_matrix(des: Design, newdata: Any) -> np.ndarray:
    """The model matrix for ``predict``: the fitted rows' (``newdata`` None), a
    formula's for new data, or an array fit's: ``newdata`` a DataFrame or dict
    with ``X``'s columns (by name) or an array with as many columns as ``X``,
    and the intercept column added where the fit added it (an array design's
    columns start with ``"Intercept"`` only then: :func:`inputs`)."""
    import pandas as pd

    if newdata is None:
        return des.X
    if des.spec is not None:
        return model_matrix(des, newdata)
    intercept = des.columns[:1] == ["Intercept"]
    cols = list(des.columns[1:] if intercept else des.columns)
    if hasattr(newdata, "keys") and not isinstance(newdata, np.ndarray):
        df = newdata if isinstance(newdata, pd.DataFrame) else pd.DataFrame(dict(newdata))
        absent = [c for c in cols if c not in df.columns]
        if absent:
            raise ValueError(f"newdata lacks the column(s) {absent} of X (X's columns: "
                             f"{cols}).")  # fmt: skip
        newdata = df[cols].to_numpy(dtype=np.float64) if cols else np.zeros((len(df), 0))
    if cols:  # the shape and finiteness checks of an array design
        X = model_matrix(dataclasses.replace(des, columns=cols), newdata)
    else:
        X = np.zeros((np.shape(newdata)[0], 0))
    return np.column_stack([np.ones(X.shape[0]), X]) if intercept else X


def _frame(data):
    import pandas as pd

    if isinstance(data, np.ndarray) or (data is not None and not hasattr(data, "keys")):
        raise TypeError(f"A formula reads its variables from data, a DataFrame or dict of "
                        f"columns; got {type(data).__name__}. With a covariate matrix X, "
                        "give the response as arrays: lx.Surv(time, event) (or y for "
                        "tobit) in place of the formula.")  # fmt: skip
    return data if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))


def inputs(fn: str, formula_or_y: Any, data_or_X: Any, *, missing: str,
           response: str) -> Inputs:  # fmt: skip
    """The rows of a fit from a formula and its data, or from a response and
    ``X`` (``response``: ``"surv"`` for survreg, ``"cox"``, ``"y"`` for
    tobit; an intercept is added to ``X`` except for Cox)."""
    if data_or_X is None:
        raise TypeError(f"{fn}() needs the data of the formula, or the covariate matrix X "
                        "after the response.")  # fmt: skip
    if isinstance(formula_or_y, str):
        if "~" not in formula_or_y:
            example = "'y ~ x'" if response == "y" else "'Surv(time, event) ~ x'"
            raise ValueError(f"The formula needs a response: {example}; got {formula_or_y!r}.")
        df = _frame(data_or_X)
        lhs, rhs = formula_or_y.split("~", 1)
        if response == "y":
            first, second, interval = column_values(df, lhs.strip(), "response"), None, False
        else:
            a, b, interval = surv_parts(lhs)
            first = column_values(df, a, "time")
            second = column_values(df, b, "event" if not interval else "upper bound")
        # the model matrix on the rows without missing covariates (the bounds may be NaN)
        des = design(f"_lx_response ~ {rhs}", with_response_placeholder(df), missing=missing)
        return Inputs(des, first, second, interval, df)
    if missing != "raise":
        raise TypeError(f"missing={missing!r} applies to a formula's data; with arrays, drop "
                        "the rows with missing values before the fit.")  # fmt: skip
    if response == "y":
        first, second, interval = _vector(formula_or_y, "y", fn), None, False
    elif isinstance(formula_or_y, Surv):
        first, interval = formula_or_y.time, formula_or_y.type == "interval"
        second = formula_or_y.upper if interval else formula_or_y.event
    else:
        raise TypeError(f"{fn}() takes a formula 'Surv(time, event) ~ x' with its data, or "
                        f"lx.Surv(time, event) with a covariate matrix X; got a response of "
                        f"type {type(formula_or_y).__name__}.")  # fmt: skip
    n = first.size
    if hasattr(data_or_X, "keys") and not hasattr(data_or_X, "columns"):  # a dict of columns
        import pandas as pd

        data_or_X = pd.DataFrame(dict(data_or_X))
    if np.ndim(data_or_X) >= 1 and np.shape(data_or_X)[0] != n:
        raise ValueError(f"X has {np.shape(data_or_X)[0]} rows and the response has {n}; "
                         "give one row of X per response.")  # fmt: skip
    bare = from_arrays(np.zeros(n), data_or_X)  # a read-only view of X, checked finite
    cols = list(bare.columns)
    intercept = response != "cox"
    named = sorted({c for c in cols if cols.count(c) > 1 or c in ("Intercept", "(Intercept)")})
    if named:
        raise ValueError(f"X's column names {named} are repeated or the intercept's; rename "
                         "them (the fit adds '(Intercept)' itself, except for Cox).")  # fmt: skip
    _no_constant_column(bare.X, cols, fn, intercept)
    X = np.column_stack([np.ones(n), bare.X]) if intercept else bare.X
    des = dataclasses.replace(bare, y=np.zeros(n), X=X, response="Surv" if response != "y"
                              else "y", columns=(["Intercept"] if intercept else []) + cols)  # fmt: skip
    return Inputs(des, first, second, interval, None)


def _no_constant_column(X, cols, fn, intercept):
    if X.shape[0] < 2:
        return
    flat = [c for j, c in enumerate(cols) if np.all(X[:, j] == X[0, j])]
    if not flat:
        return
    why = (f"{fn}() adds the intercept '(Intercept)' itself, as a formula does, so a "
           "constant column is aliased with it" if intercept else
           "the baseline hazard absorbs a constant (a Cox model has no intercept)")  # fmt: skip
    raise ValueError(f"X's column(s) {flat} are constant: {why}. Drop them from X.")


def per_row(frame: Any, value: Any, name: str, n_input: int, read=None) -> np.ndarray:
    """An option with one value per input row: a column of ``frame`` (by name;
    formulas only: ``read(frame, column, name)`` or the plain column) or an array."""
    if isinstance(value, str):
        if frame is None:
            raise TypeError(f"{name}={value!r} names a column, which needs a formula and a "
                            f"DataFrame; with arrays give {name} as an array (one value per "
                            "row).")  # fmt: skip
        return np.asarray(read(frame, value, name) if read else frame[value])
    out = np.asarray(value)
    if out.ndim != 1 or out.shape[0] != n_input:
        raise ValueError(f"{name} must have one value per row ({n_input}); got shape "
                         f"{out.shape}.")  # fmt: skip
    return out
