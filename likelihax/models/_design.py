r"""Design matrices for regression models: formulas (formulaic) or plain arrays.

:func:`design` turns a formula over a DataFrame into a :class:`Design` (response,
float64 model matrix, column names, which rows were kept, per-row extras such as
weights or offsets); :func:`from_arrays` does the same for arrays;
:func:`model_matrix` builds the matrix for new data (for prediction) and
:func:`check_rank` rejects collinear columns by name before any fit.

Formulas use `formulaic <https://matthewwardrop.github.io/formulaic/>`_ (the
``formula`` extra: ``pip install 'likelihax[formula]'``): categorical columns and
``C(g)`` get treatment contrasts, ``a:b`` interactions, ``a*b`` both, and
transforms such as ``np.log(x)`` or ``center(x)`` are evaluated on the kept rows,
so new data reuse the same levels and centring (as R's ``model.frame``).

Missing values (NaN, None, NA) in any variable of the formula or in an extra
column are an error by default (``missing="raise"``, naming the columns and the
count); ``missing="drop"`` drops those rows and reports ``n_dropped``, as R's
``na.omit``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

__all__ = ["Design", "check_rank", "column_values", "design", "from_arrays", "model_matrix"]

_INSTALL = "pip install 'likelihax[formula]'"


@dataclasses.dataclass(frozen=True)
class Design:
    """A response and its model matrix, ready for a likelihood.

    Attributes
    ----------
    y : ndarray or pandas.Categorical
        Response of the kept rows, as given: numeric, object, or (for a pandas
        categorical column) a ``pandas.Categorical`` keeping its category order.
    X : ndarray (n, p)
        float64 model matrix.
    columns : list of str
        Names of the columns of ``X`` (formulaic's naming: ``"Intercept"``,
        ``"x"``, ``"g[T.b]"``, ``"x:g[T.b]"``).
    response : str
        Name of the response term.
    rows : ndarray of int
        Positions (0-based, not index labels) of the kept rows in the input.
    n_dropped : int
        Rows dropped for missing values (``missing="drop"``).
    spec : formulaic.ModelSpec or None
        Right-hand-side specification, to build ``X`` for new data; None for arrays.
    extra : dict
        Named per-row float64 arrays (weights, offset, ...) of the kept rows.
    frame : DataFrame or None
        The kept rows of the data (a new frame; formula designs only), for
        predictions and marginal effects over the fitted rows.
    sources : dict
        The data columns the extras named by column came from (``"offset"``,
        ``"exposure"``, ...), so new rows' extras can be read the same way.
    """

    y: Any
    X: np.ndarray
    columns: list
    response: str
    rows: np.ndarray
    n_dropped: int
    spec: Any
    extra: dict
    frame: Any = None
    sources: dict = dataclasses.field(default_factory=dict)

    @property
    def nobs(self) -> int:
        """Number of kept rows."""
        return int(self.X.shape[0])


def split_top_level(text: str, sep: str) -> list:
    """``text`` split at each ``sep`` outside parentheses, parts stripped.

    Examples
    --------
    >>> from likelihax.models._design import split_top_level
    >>> split_top_level("a + s(x, k=3) + b", "+")
    ['a', 's(x, k=3)', 'b']
    """
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == sep and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return parts


def with_response_placeholder(df):
    """``df`` (not copied: its columns are shared, never written to) with a
    zero column ``_lx_response``, the response of a right-hand-side-only
    formula."""
    out = df.copy(deep=False)
    out["_lx_response"] = 0.0
    return out


def column_values(df, expr: str, what: str) -> np.ndarray:
    """A column of ``df``, or an expression over its columns (``status == 2``,
    ``np.log(t)``), as float64; a ValueError naming ``what`` otherwise.

    Examples
    --------
    >>> import pandas as pd
    >>> from likelihax.models._design import column_values
    >>> column_values(pd.DataFrame({"s": [1, 2, 2]}), "s == 2", "event").tolist()
    [0.0, 1.0, 1.0]
    """
    expr = expr.strip()
    if expr in df.columns:
        return np.asarray(df[expr], dtype=np.float64)
    try:
        return np.asarray(df.eval(expr), dtype=np.float64)
    except Exception as e:  # noqa: BLE001 - pandas raises many kinds
        raise ValueError(f"Cannot evaluate the {what} {expr!r}: {e}") from None


def _formulaic():
    try:
        import formulaic
        import pandas as pd
    except ImportError as e:
        raise ImportError(
            f"Formulas need the optional packages formulaic and pandas: {_INSTALL} "
            "(or pass arrays: y and a model matrix X)."
        ) from e
    return formulaic, pd


def _as_frame(data, pd):
    if isinstance(data, pd.DataFrame):
        # A new frame sharing the caller's columns (never written to), with
        # positions as its index; the caller's frame is untouched.
        out = data.copy(deep=False)
        out.index = pd.RangeIndex(len(out))
        return out
    if isinstance(data, dict):
        try:
            return pd.DataFrame({k: np.asarray(v) if np.ndim(v) else v
                                 for k, v in data.items()})  # fmt: skip
        except ValueError as e:
            raise ValueError(
                f"The columns of `data` must all have the same length: {e}"
            ) from e
    raise TypeError(
        "With a formula, `data` must be a pandas DataFrame or a dict of columns; "
        f"got {type(data).__name__}."
    )


def _extra_columns(extra, df):
    """name -> float64 array of len(df); also the data columns they came from."""
    out, sources = {}, {}
    for name, v in (extra or {}).items():
        if v is None:
            continue
        if isinstance(v, str):
            if v not in df.columns:
                raise KeyError(
                    f"{name}={v!r} is not a column of data; columns: "
                    f"{', '.join(map(str, df.columns))}."
                )
            sources[name] = v
            v = df[v].to_numpy()
        try:
            a = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise TypeError(f"`{name}` must be numeric: {e}") from e
        if a.ndim != 1 or a.shape[0] != len(df):
            raise ValueError(
                f"`{name}` must be one value per row of data ({len(df)} rows); got "
                f"shape {a.shape}."
            )
        out[name] = a
    return out, sources


def _missing_message(df, cols, extras, sources, dropped):
    counts = []
    for c in cols:
        k = int(df[c].isna().sum())
        if k:
            counts.append(f"column {c!r}: {k}")
    for name, a in extras.items():
        if name in sources and sources[name] in cols:
            continue
        k = int(np.isnan(a).sum())
        if k:
            src = f"column {sources[name]!r}" if name in sources else name
            counts.append(f"{src} ({name}): {k}")
    rows = np.flatnonzero(dropped)
    return (
        f"{rows.size} of {len(df)} rows have missing values ("
        + "; ".join(counts or ["in a transformed variable"])
        + f"); first rows {rows[:5].tolist()}. Remove or impute them, or pass "
        "missing='drop' to drop those rows (the count is reported)."
    )


def design(
    formula: str, data: Any, *, missing: str = "raise", extra: dict | None = None
) -> Design:
    """Response and model matrix from a formula, with R's missing-value handling.

    Parameters
    ----------
    formula : str
        ``"y ~ x + C(g) + x:g"`` (formulaic syntax; ``0 +`` or ``- 1`` removes
        the intercept). The response may be a column or an expression
        (``np.log(y)``).
    data : pandas.DataFrame or dict of columns
        Not modified.
    missing : {"raise", "drop"}
        What to do with rows that have missing values in a variable of the
        formula or in an ``extra`` column.
    extra : dict, optional
        Name -> column name in ``data`` or array of ``len(data)`` (weights,
        offset, exposure, trials); returned in ``Design.extra`` for the kept rows.

    Returns
    -------
    Design

    Raises
    ------
    ValueError
        Missing values with ``missing="raise"`` (naming the columns and rows), a
        formula without ``~``, non-finite model-matrix entries, a multi-column
        response.
    ImportError
        formulaic or pandas is not installed.

    Examples
    --------
    >>> import pandas as pd
    >>> from likelihax.models._design import design
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 4.0, None], "x": [0.0, 1.0, 2.0, 3.0],
    ...                    "g": ["a", "b", "a", "b"]})
    >>> d = design("y ~ x + g", df, missing="drop")
    >>> d.columns, d.n_dropped, d.rows.tolist()
    (['Intercept', 'x', 'g[T.b]'], 1, [0, 1, 2])
    """
    formulaic, pd = _formulaic()
    if missing not in ("raise", "drop"):
        raise ValueError(f"missing must be 'raise' or 'drop'; got {missing!r}.")
    if not isinstance(formula, str) or "~" not in formula:
        raise ValueError(
            f"The formula needs a response: 'y ~ x1 + x2'; got {formula!r}."
        )
    df = _as_frame(data, pd)
    if len(df) == 0:
        raise ValueError("`data` has no rows.")
    form = formulaic.Formula(formula)
    response = str(form.lhs).strip()
    plain_y = response in df.columns
    extras, sources = _extra_columns(extra, df)
    variables = sorted(
        {str(v) for v in form.required_variables if str(v) in df.columns}, key=str
    )
    # pass 1: which rows have a missing value anywhere
    what = form.rhs if plain_y else formula
    kept = formulaic.model_matrix(what, df, na_action="drop")
    kept_index = (kept.rhs if not plain_y else kept).index
    ok = np.zeros(len(df), bool)
    ok[np.asarray(kept_index)] = True
    if plain_y:
        ok &= ~df[response].isna().to_numpy()
    for a in extras.values():
        ok &= ~np.isnan(a)
    if not ok.all() and missing == "raise":
        raise ValueError(_missing_message(df, variables, extras, sources, ~ok))
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        raise ValueError("Every row has a missing value; nothing is left to fit.")
    if rows.size == len(df):  # every row kept: pass 1 is the model matrix
        sub, mm = df, kept  # (df: a new frame sharing the caller's columns, never written to)
    else:  # pass 2: on the kept rows, so levels and stateful transforms use them only
        sub = df.iloc[rows].reset_index(drop=True)
        mm = formulaic.model_matrix(formula if not plain_y else form.rhs, sub)
    rhs = mm.rhs if not plain_y else mm
    if plain_y:
        col = sub[response]
        if isinstance(col.dtype, pd.CategoricalDtype):
            y = pd.Categorical(col)  # keeps the categories and their order
        else:
            y = col.to_numpy()
    else:
        lhs = mm.lhs
        if lhs.shape[1] != 1:
            raise ValueError(
                f"The response {response!r} gives {lhs.shape[1]} columns; give one."
            )
        y = lhs.to_numpy(dtype=np.float64)[:, 0]
    X = _finite_matrix(rhs.to_numpy(dtype=np.float64), list(rhs.columns), rows)
    return Design(
        y=y, X=X, columns=[str(c) for c in rhs.columns], response=response,
        rows=rows, n_dropped=int(len(df) - rows.size), spec=rhs.model_spec,
        extra={k: a[rows] for k, a in extras.items()}, frame=sub, sources=sources,
    )  # fmt: skip


def _finite_matrix(X, columns, rows):
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(X, axis=None)):
            return X  # fast path: a sum is finite only if every entry is
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = np.nonzero(bad)
        cols = sorted({columns[j] for j in c})
        raise ValueError(
            f"The model matrix has non-finite values in column(s) {cols} at rows "
            f"{rows[np.unique(r)][:5].tolist()} (e.g. log of zero); transform or "
            "remove those rows."
        )
    return X


def from_arrays(y: Any, X: Any, columns: list | None = None) -> Design:
    """A :class:`Design` from a response and a model matrix given as arrays.

    Parameters
    ----------
    y : array_like (n,)
        Response (numeric, or labels for multinomial/ordinal models).
    X : array_like (n, p) or (n,)
        Model matrix (add the intercept column yourself); a pandas DataFrame
        gives its column names.
    columns : list of str, optional
        Column names; default ``["x0", "x1", ...]`` (or the DataFrame's).

    Returns
    -------
    Design

    Raises
    ------
    ValueError
        Shapes that do not match, or non-finite values (naming the rows).

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models._design import from_arrays
    >>> d = from_arrays([0, 1, 1], np.array([[1.0, 0.5], [1.0, 1.5], [1.0, 2.0]]))
    >>> d.columns, d.X.shape
    (['x0', 'x1'], (3, 2))
    """
    if columns is None and hasattr(X, "columns"):
        columns = [str(c) for c in X.columns]
    if hasattr(y, "to_numpy") and not _is_categorical(y):
        y = y.to_numpy()
    try:
        # No copy of a float64 X (at N = 10^6 a copy costs more than a fit
        # iteration): a read-only view, so nothing in likelihax can write to
        # the caller's array.
        Xa = np.asarray(X, dtype=np.float64).view()
        Xa.flags.writeable = False
    except (TypeError, ValueError) as e:
        raise TypeError(f"X must be a numeric matrix: {e}") from e
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    if Xa.ndim != 2:
        raise ValueError(f"X must be a matrix (n, p); got shape {Xa.shape}.")
    ya = y if _is_categorical(y) else np.array(y)
    if np.ndim(ya) != 1:
        raise ValueError(f"y must be one value per row (shape (n,)); got {np.shape(ya)}.")
    if len(ya) != Xa.shape[0]:
        raise ValueError(
            f"y has {len(ya)} values but X has {Xa.shape[0]} rows; they must match."
        )
    if Xa.shape[0] == 0:
        raise ValueError("y and X have no rows.")
    columns = [f"x{j}" for j in range(Xa.shape[1])] if columns is None else columns
    columns = [str(c) for c in columns]
    if len(columns) != Xa.shape[1]:
        raise ValueError(
            f"{len(columns)} column names for {Xa.shape[1]} columns of X."
        )
    rows = np.arange(Xa.shape[0])
    _finite_matrix(Xa, columns, rows)
    if not _is_categorical(ya) and np.issubdtype(ya.dtype, np.number):
        bad = np.flatnonzero(~np.isfinite(ya.astype(np.float64)))
        if bad.size:
            raise ValueError(
                f"y has {bad.size} non-finite value(s) (NaN/inf) at rows "
                f"{bad[:5].tolist()}; remove them."
            )
    return Design(ya, Xa, columns, "y", rows, 0, None, {})


def _is_categorical(y) -> bool:
    return type(y).__name__ == "Categorical" and hasattr(y, "categories")


def model_matrix(design: Design, newdata: Any) -> np.ndarray:
    """The model matrix of ``design`` for new data, with the same columns.

    Parameters
    ----------
    design : Design
    newdata : DataFrame or dict (formula designs) or array (array designs)

    Returns
    -------
    ndarray (m, p), float64

    Examples
    --------
    >>> import pandas as pd
    >>> from likelihax.models._design import design, model_matrix
    >>> d = design("y ~ x + g", pd.DataFrame({"y": [1., 2., 3.], "x": [1., 2., 3.],
    ...                                       "g": ["a", "b", "a"]}))
    >>> model_matrix(d, pd.DataFrame({"x": [5.0], "g": ["b"]})).tolist()
    [[1.0, 5.0, 1.0]]
    """
    p = len(design.columns)
    if design.spec is None:
        if hasattr(newdata, "columns") and not hasattr(newdata, "shape"):
            raise TypeError("This design came from arrays: give newdata as a matrix.")
        X = np.array(newdata, dtype=np.float64)
        X = X[:, None] if X.ndim == 1 and p == 1 else X
        if X.ndim == 1 and X.shape[0] == p:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != p:
            raise ValueError(
                f"newdata must have {p} columns ({', '.join(design.columns)}); got "
                f"shape {X.shape}."
            )
        return _finite_matrix(X, design.columns, np.arange(X.shape[0]))
    _, pd = _formulaic()
    df = _as_frame(newdata, pd)
    try:
        mm = design.spec.get_model_matrix(df, na_action="raise")
    except Exception as e:  # formulaic raises several types for unknown levels
        raise ValueError(f"Cannot build the model matrix for newdata: {e}") from e
    if [str(c) for c in mm.columns] != list(design.columns):
        raise ValueError(
            f"newdata gives columns {list(mm.columns)}, expected {design.columns}."
        )
    return _finite_matrix(mm.to_numpy(dtype=np.float64), design.columns,
                          np.arange(len(df)))  # fmt: skip


def check_rank(X: Any, columns: list) -> None:
    r"""Raise if the columns of ``X`` are linearly dependent, naming them.

    Each column is scaled to unit length; if the smallest singular value is
    below ``1e-7`` the columns are scanned left to right (as R's pivoting
    QR in ``lm``/``glm``) and every column whose least-squares residual on the
    kept earlier columns is below ``1e-7`` is reported with the combination that
    reproduces it. Nearly collinear designs that pass are left to the fit's
    information diagnostics.

    Parameters
    ----------
    X : array_like (n, p)
    columns : list of str

    Raises
    ------
    ValueError
        Naming each aliased column and the columns it is a combination of.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models._design import check_rank
    >>> X = np.array([[1.0, 1, 2], [1, 2, 3], [1, 3, 4], [1, 5, 6]])
    >>> check_rank(X, ["Intercept", "a", "b"])
    Traceback (most recent call last):
    ...
    ValueError: The model matrix is rank deficient (rank 2 of 3 columns): 'b' = 1*'Intercept' + 1*'a'. Remove the aliased column(s) or redefine the variables.
    """
    X = np.asarray(X, dtype=np.float64)
    n, p = X.shape
    tol = 1e-7
    # Fast path on the p x p Gram matrix (one pass over X): when the scaled
    # Gram matrix is clearly positive definite the columns are independent.
    # Its eigenvalues are the squared singular values of the scaled X, known
    # to about p*eps, so only a clear margin (s_min > 1e-5) decides here;
    # anything closer goes to the exact scan below.
    G = X.T @ X
    norms = np.sqrt(np.maximum(np.diag(G), 0.0))
    if p <= n and np.all(norms > 0):
        S = G / np.outer(norms, norms)
        if np.linalg.eigvalsh(S)[0] > 1e-10:
            return
    Xs = X / np.where(norms > 0, norms, 1.0)
    if p <= n and np.all(norms > 0):
        s = np.linalg.svd(Xs, compute_uv=False)
        if s[-1] > tol:
            return
    kept: list[int] = []
    notes = []
    for j in range(p):
        if norms[j] == 0:
            notes.append(f"{columns[j]!r} is all zeros")
            continue
        if kept:
            A = Xs[:, kept]
            coef, *_ = np.linalg.lstsq(A, Xs[:, j], rcond=None)
            resid = np.linalg.norm(Xs[:, j] - A @ coef)
        else:
            coef, resid = np.zeros(0), 1.0
        if resid > tol and len(kept) < n:
            kept.append(j)
            continue
        c = coef * norms[j] / norms[kept]  # back to the unscaled columns
        terms = [
            f"{'-' if v < 0 else '+'} {abs(v):.4g}*{columns[k]!r}"
            for v, k in zip(c, kept)
            if abs(v) > 1e-8 * max(1.0, np.abs(c).max())
        ]
        text = " ".join(terms).lstrip("+ ") if terms else "0"
        notes.append(f"{columns[j]!r} = {text}")
    if not notes:
        return
    raise ValueError(
        f"The model matrix is rank deficient (rank {len(kept)} of {p} columns): "
        + "; ".join(notes)
        + ". Remove the aliased column(s) or redefine the variables."
    )
