r"""lme4-style mixed-model formulas: split off ``( ... | g )``, build the designs.

``"y ~ x + (1 + x | g)"`` is split into the fixed part ``"y ~ x"`` and one
random-effect term ``(1 + x | g)``; both model matrices are built with
formulaic on the same rows (treatment contrasts, transforms, ``0 +`` to drop
an intercept; as in R, ``(x | g)`` includes the intercept and ``(0 + x | g)``
does not). The binomial response may be ``cbind(successes, failures)``, whose
two arguments are column names or expressions evaluated with
``DataFrame.eval`` (``cbind(incidence, size - incidence)``).

One grouping factor: the Laplace engine integrates over independent groups, so
crossed or nested factors (``(1 | a) + (1 | b)``, ``(1 | a/b)``) and
uncorrelated terms (``||``) are rejected with a message.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np

from .._design import check_rank

__all__ = ["MixedDesign", "mixed_design", "split_formula"]


def _bar_terms(rhs: str) -> tuple[str, list[str]]:
    """Remove top-level ``( ... | ... )`` groups from ``rhs``; return (rest, terms)."""
    terms, out, i = [], [], 0
    while i < len(rhs):
        if rhs[i] == "(":
            depth, j = 0, i
            while j < len(rhs):
                depth += rhs[j] == "("
                depth -= rhs[j] == ")"
                if depth == 0:
                    break
                j += 1
            if depth != 0:
                raise ValueError(f"Unbalanced parentheses in the formula: {rhs!r}.")
            inner = rhs[i + 1 : j]
            if "|" in inner:
                terms.append(inner.strip())
                out.append(" ")
            else:
                out.append(rhs[i : j + 1])
            i = j + 1
        else:
            out.append(rhs[i])
            i += 1
    return "".join(out), terms


def split_formula(formula: str) -> tuple[str, str, str, str]:
    """``(response, fixed_rhs, random_rhs, group)`` of an lme4-style formula.

    Examples
    --------
    >>> from likelihax.models.random_effects._formula import split_formula
    >>> split_formula("Reaction ~ Days + (Days | Subject)")
    ('Reaction', 'Days', '1 + Days', 'Subject')
    >>> split_formula("y ~ (1 | g)")
    ('y', '1', '1', 'g')
    """
    if not isinstance(formula, str) or "~" not in formula:
        raise ValueError(
            f"The formula needs a response: 'y ~ x + (1 + x | g)'; got {formula!r}."
        )
    lhs, rhs = formula.split("~", 1)
    rest, terms = _bar_terms(rhs)
    if not terms:
        raise ValueError(
            f"The formula {formula!r} has no random-effect term; add one like "
            "'(1 | g)' or '(1 + x | g)', or fit a fixed-effects model with lx.glm."
        )
    if len(terms) > 1:
        raise NotImplementedError(
            f"The formula has {len(terms)} random-effect terms ({terms}); likelihax "
            "supports one grouping factor with one (possibly correlated) term, "
            "e.g. '(1 + x | g)'. Crossed or multiple terms are not supported yet."
        )
    term = terms[0]
    if "||" in term:
        raise NotImplementedError(
            f"'{term}': uncorrelated random effects ('||') are not supported; use "
            "'|' (correlated intercept and slopes)."
        )
    expr, group = (s.strip() for s in term.split("|", 1))
    if not re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*", group):
        raise NotImplementedError(
            f"The grouping factor {group!r} must be one column name; nested or "
            "interaction groupings ('a/b', 'a:b') are not supported. Make a column "
            "with one label per group instead."
        )
    if not expr:
        raise ValueError(f"The random-effect term '({term})' has nothing before '|'.")
    explicit = re.search(r"(^|\+)\s*[01]\s*(\+|$)|-\s*1", expr)
    random_rhs = expr if explicit else "1 + " + expr
    fixed = re.sub(r"\+\s*(\+\s*)+", "+ ", rest).strip().strip("+").strip()
    fixed = fixed or "1"
    return lhs.strip(), fixed, random_rhs, group


@dataclasses.dataclass(frozen=True)
class MixedDesign:
    """Fixed and random design of the kept rows, sorted by nothing (input order)."""

    y: np.ndarray  # (n,) response (successes for cbind)
    trials: np.ndarray | None  # (n,) binomial trials
    X: np.ndarray  # (n, p)
    Z: np.ndarray  # (n, q)
    groups: np.ndarray  # (n,) labels
    fixed_names: list
    random_names: list
    response: str
    group: str
    rows: np.ndarray
    n_dropped: int


def _rname(c: str) -> str:
    return "(Intercept)" if c == "Intercept" else c


def _eval(df, expr: str, what: str) -> np.ndarray:
    expr = expr.strip()
    if expr in df.columns:
        return np.asarray(df[expr], dtype=np.float64)
    try:
        return np.asarray(df.eval(expr), dtype=np.float64)
    except Exception as e:  # noqa: BLE001 - pandas raises many kinds
        raise ValueError(f"Cannot evaluate {what} {expr!r}: {e}") from None


def _response(df, lhs: str, weights):
    m = re.fullmatch(r"\s*cbind\s*\((.*)\)\s*", lhs)
    if m:
        parts = _split_args(m.group(1))
        if len(parts) != 2:
            raise ValueError(
                f"cbind() needs two arguments (successes, failures): {lhs!r}."
            )
        s = _eval(df, parts[0], "the successes")
        f = _eval(df, parts[1], "the failures")
        return s, s + f
    y = _eval(df, lhs, "the response")
    if weights is not None:  # proportions with trials as weights (glmer)
        return y * weights, weights
    return y, None


def _split_args(s: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in s:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [p.strip() for p in parts + [cur]]


def _variables(formulaic, rhs: str, df) -> list[str]:
    vs = formulaic.Formula(rhs).required_variables
    return [str(v) for v in vs if str(v) in df.columns]


def mixed_design(
    formula: str, data: Any, *, weights: Any = None, missing: str = "raise"
) -> MixedDesign:
    """Designs of an lme4-style formula on ``data`` (rows with NaN handled).

    Raises
    ------
    ValueError, KeyError
        Unknown grouping column, missing values (``missing="raise"``),
        rank-deficient fixed design.
    """
    try:
        import formulaic
        import pandas as pd
    except ImportError as e:  # pragma: no cover - optional dependency
        raise ImportError(
            "lme4-style formulas need formulaic and pandas: "
            "pip install 'likelihax[formula]'."
        ) from e
    if missing not in ("raise", "drop"):
        raise ValueError(f"missing must be 'raise' or 'drop'; got {missing!r}.")
    lhs, fixed_rhs, random_rhs, group = split_formula(formula)
    df = data if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))
    if group not in df.columns:
        raise KeyError(
            f"The grouping factor {group!r} is not a column of the data; columns "
            f"are {[str(c) for c in df.columns]}."
        )
    w = None
    if weights is not None:
        w = np.asarray(df[weights] if isinstance(weights, str) else weights, float)
        if w.shape != (len(df),):
            raise ValueError(f"weights must have one value per row ({len(df)}).")
    lhs_vars = [c for c in df.columns if re.search(rf"\b{re.escape(str(c))}\b", lhs)]
    cols = sorted(
        set(_variables(formulaic, fixed_rhs, df))
        | set(_variables(formulaic, random_rhs, df)) | set(lhs_vars) | {group},
        key=str,
    )  # fmt: skip
    miss = df[cols].isna().to_numpy()
    bad = miss.any(axis=1) | (np.isnan(w) if w is not None else False)
    if bad.any() and missing == "raise":
        which = [f"{c}: {int(miss[:, j].sum())}" for j, c in enumerate(cols)
                 if miss[:, j].any()]  # fmt: skip
        if w is not None and np.isnan(w).any():
            which.append(f"weights: {int(np.isnan(w).sum())}")
        raise ValueError(
            f"{int(bad.sum())} of {len(df)} rows have missing values (NaN/None) "
            f"({'; '.join(which)}); first rows {np.flatnonzero(bad)[:5].tolist()}. "
            "Remove or impute them, or pass missing='drop'."
        )
    rows = np.flatnonzero(~bad)
    if rows.size == 0:
        raise ValueError("Every row has a missing value; nothing is left to fit.")
    sub = df.iloc[rows].reset_index(drop=True)
    y, trials = _response(sub, lhs, None if w is None else w[rows])
    X = formulaic.model_matrix(fixed_rhs, sub)
    Z = formulaic.model_matrix(random_rhs, sub)
    Xa = np.asarray(X.to_numpy(dtype=np.float64))
    Za = np.asarray(Z.to_numpy(dtype=np.float64))
    fixed_names = [_rname(str(c)) for c in X.columns]
    random_names = [_rname(str(c)) for c in Z.columns]
    for name, A, nm in (("fixed", Xa, fixed_names), ("random", Za, random_names)):
        if not np.all(np.isfinite(A)):
            raise ValueError(f"The {name}-effects design has non-finite entries.")
        check_rank(A, nm)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"The response {lhs!r} has non-finite values.")
    return MixedDesign(
        y=y, trials=trials, X=Xa, Z=Za, groups=sub[group].to_numpy(),
        fixed_names=fixed_names, random_names=random_names, response=lhs,
        group=group, rows=rows, n_dropped=int(bad.sum()),
    )  # fmt: skip
