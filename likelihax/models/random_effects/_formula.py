r"""lme4-style mixed-model formulas: split off ``( ... | g )``, build the designs.

``"y ~ x + (1 + x | g)"`` is split into the fixed part ``"y ~ x"`` and the
random-effect terms, here ``(1 + x | g)``; the model matrices are built with
formulaic on the same rows (treatment contrasts, transforms, ``0 +`` to drop
an intercept; as in R, ``(x | g)`` includes the intercept and ``(0 + x | g)``
does not). The binomial response may be ``cbind(successes, failures)``, whose
two arguments are column names or expressions evaluated with
``DataFrame.eval`` (``cbind(incidence, size - incidence)``).

Any number of terms, as lme4 reads them: crossed factors ``(1 | a) + (1 |
b)``; nesting ``(1 | a/b)``, which is ``(1 | a) + (1 | a:b)``; interactions
``a:b`` as grouping factors (levels ``"<a>:<b>"``); and ``(1 + x || g)``,
uncorrelated effects, which is ``(1 | g) + (0 + x | g)``. Each term becomes a
:class:`TermDesign` (its effects' covariates, the level of each row).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np

from .._design import check_rank, column_values

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


def split_formula(formula: str) -> tuple[str, str, list]:
    """``(response, fixed_rhs, bars)`` of an lme4-style formula.

    ``bars`` lists each random-effect term as ``(random_rhs, group,
    correlated)``: the model-matrix formula of its effects (``"1 + x"``; as in
    R, ``(x | g)`` includes the intercept, ``(0 + x | g)`` does not), the
    grouping expression (a column, ``a:b`` for an interaction, ``a/b`` for
    ``b`` nested in ``a``), and False for ``||`` (uncorrelated effects).

    Examples
    --------
    >>> from likelihax.models.random_effects._formula import split_formula
    >>> split_formula("Reaction ~ Days + (Days | Subject)")
    ('Reaction', 'Days', [('1 + Days', 'Subject', True)])
    >>> split_formula("y ~ (1 | a) + (x || b)")
    ('y', '1', [('1', 'a', True), ('1 + x', 'b', False)])
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
    bars = []
    for term in terms:
        correlated = "||" not in term
        expr, group = (s.strip() for s in term.replace("||", "|").split("|", 1))
        if "|" in group:
            raise ValueError(f"The random-effect term '({term})' has more than one bar.")
        if not re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*(\s*[:/]\s*[A-Za-z_.][A-Za-z0-9_.]*)*",
                            group):  # fmt: skip
            raise NotImplementedError(
                f"The grouping factor {group!r} in '({term})' must be column names "
                "joined by ':' (interaction) or '/' (nesting), e.g. 'g', 'a:b', 'a/b'."
            )
        if not expr:
            raise ValueError(f"The random-effect term '({term})' has nothing before '|'.")
        explicit = re.search(r"(^|\+)\s*[01]\s*(\+|$)|-\s*1", expr)
        bars.append((expr if explicit else "1 + " + expr, re.sub(r"\s+", "", group),
                     correlated))  # fmt: skip
    fixed = re.sub(r"\+\s*(\+\s*)+", "+ ", rest).strip().strip("+").strip()
    fixed = fixed or "1"
    return lhs.strip(), fixed, bars


def group_factors(group: str) -> list[str]:
    """The grouping factors of one bar: ``a/b/c`` is ``a``, ``a:b``, ``a:b:c``.

    Examples
    --------
    >>> from likelihax.models.random_effects._formula import group_factors
    >>> group_factors("a/b"), group_factors("a:b")
    (['a', 'a:b'], ['a:b'])
    """
    parts = group.split("/")
    return [":".join(parts[: i + 1]) for i in range(len(parts))]


@dataclasses.dataclass(frozen=True)
class TermDesign:
    """One random-effect term: effects ``names`` for each level of ``group``.

    ``Z[i]`` are row ``i``'s covariates of the effects, ``codes[i]`` its
    level (an index into ``levels``); ``correlated`` is False for a term of a
    ``||`` bar (one effect, uncorrelated with the bar's others).
    """

    group: str
    names: list
    Z: np.ndarray  # (n, q)
    codes: np.ndarray  # (n,) int
    levels: np.ndarray
    spec: Any = None  # formulaic ModelSpec of the bar's left side (for new data)
    cols: tuple = ()  # this term's columns of that design (a || bar splits them)

    @property
    def q(self) -> int:
        return len(self.names)

    @property
    def n_levels(self) -> int:
        return len(self.levels)


@dataclasses.dataclass(frozen=True)
class MixedDesign:
    """Fixed and random design of the kept rows (input order).

    ``terms`` lists the random-effect terms; ``Z``, ``groups``,
    ``random_names`` and ``group`` describe the first (the only one of a
    one-term model).
    """

    y: np.ndarray  # (n,) response (successes for cbind)
    trials: np.ndarray | None  # (n,) binomial trials
    X: np.ndarray  # (n, p)
    terms: tuple  # of TermDesign
    fixed_names: list
    response: str
    rows: np.ndarray
    n_dropped: int
    offset: np.ndarray  # (n,), zeros without an offset
    fixed_spec: Any = None  # formulaic ModelSpec of the fixed effects (for new data)
    frame: Any = None  # the kept rows of the data (predictions, marginal effects)

    @property
    def Z(self) -> np.ndarray:
        return self.terms[0].Z

    @property
    def groups(self) -> np.ndarray:
        t = self.terms[0]
        return t.levels[t.codes]

    @property
    def random_names(self) -> list:
        return self.terms[0].names

    @property
    def group(self) -> str:
        return self.terms[0].group


def _rname(c: str) -> str:
    return "(Intercept)" if c == "Intercept" else c


def _response(df, lhs: str, weights):
    m = re.fullmatch(r"\s*cbind\s*\((.*)\)\s*", lhs)
    if m:
        parts = _split_args(m.group(1))
        if len(parts) != 2:
            raise ValueError(
                f"cbind() needs two arguments (successes, failures): {lhs!r}."
            )
        s = column_values(df, parts[0], "successes")
        f = column_values(df, parts[1], "failures")
        return s, s + f
    y = column_values(df, lhs, "response")
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
    formula: str, data: Any, *, weights: Any = None, missing: str = "raise",
    offset: Any = None,
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
    lhs, fixed_rhs, bars = split_formula(formula)
    df = data if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))
    group_cols = sorted({c for _, g, _ in bars for c in re.split("[:/]", g)})
    for c in group_cols:
        if c not in df.columns:
            raise KeyError(
                f"The grouping factor {c!r} is not a column of the data; columns "
                f"are {[str(c) for c in df.columns]}."
            )
    w = None
    if weights is not None:
        w = np.asarray(df[weights] if isinstance(weights, str) else weights, float)
        if w.shape != (len(df),):
            raise ValueError(f"weights must have one value per row ({len(df)}).")
    off = np.zeros(len(df))
    if offset is not None:
        if isinstance(offset, str) and offset not in df.columns:
            raise KeyError(f"The offset column {offset!r} is not a column of the data.")
        off = np.asarray(df[offset] if isinstance(offset, str) else offset, float)
        if off.shape != (len(df),):
            raise ValueError(f"offset must have one value per row ({len(df)}).")
    lhs_vars = [c for c in df.columns if re.search(rf"\b{re.escape(str(c))}\b", lhs)]
    cols = sorted(
        set(_variables(formulaic, fixed_rhs, df)).union(
            *[_variables(formulaic, r, df) for r, _, _ in bars]
        ) | set(lhs_vars) | set(group_cols),
        key=str,
    )  # fmt: skip
    miss = df[cols].isna().to_numpy()
    bad = miss.any(axis=1) | (np.isnan(w) if w is not None else False) | np.isnan(off)
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
    Xa = np.asarray(X.to_numpy(dtype=np.float64))
    fixed_names = [_rname(str(c)) for c in X.columns]
    if not np.all(np.isfinite(Xa)):
        raise ValueError("The fixed-effects design has non-finite entries.")
    check_rank(Xa, fixed_names)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"The response {lhs!r} has non-finite values.")
    terms = []
    for random_rhs, group, correlated in bars:
        try:
            Z = formulaic.model_matrix(random_rhs, sub)
        except Exception as e:  # noqa: BLE001 - formulaic raises many kinds
            raise ValueError(
                f"Cannot build the random-effect term ({random_rhs} | {group}): {e}"
            ) from None
        Za = np.asarray(Z.to_numpy(dtype=np.float64))
        names = [_rname(str(c)) for c in Z.columns]
        if not np.all(np.isfinite(Za)):
            raise ValueError(f"The random-effects design of ({random_rhs} | {group}) "
                             "has non-finite entries.")  # fmt: skip
        check_rank(Za, names)
        blocks = [(Za, names, tuple(range(len(names))))] if correlated else [
            (Za[:, [j]], [nm], (j,)) for j, nm in enumerate(names)]  # fmt: skip
        for factor in group_factors(group):
            labels = _labels(sub, factor)
            levels, codes = np.unique(labels, return_inverse=True)
            if len(levels) < 2:
                raise ValueError(
                    f"The grouping factor {factor!r} has {len(levels)} level in the rows "
                    "used: a random effect needs at least 2 levels (lme4: 'grouping "
                    "factors must have > 1 sampled level'). Drop the term."
                )
            for Zb, nb, jb in blocks:
                terms.append(TermDesign(factor, nb, Zb, codes.astype(np.int32), levels,
                                        Z.model_spec, jb))  # fmt: skip
    # As lme4: terms with more levels first (stable). The first term's levels
    # are then eliminated first (likelihax.optimize.Bordered).
    terms.sort(key=lambda t: -t.n_levels * t.q)
    return MixedDesign(
        y=y, trials=trials, X=Xa, terms=tuple(terms), fixed_names=fixed_names,
        response=lhs, rows=rows, n_dropped=int(bad.sum()), offset=off[rows],
        fixed_spec=X.model_spec, frame=sub,
    )  # fmt: skip


def new_design(des: MixedDesign, data: Any) -> tuple:
    """``(X, [(Z, codes), ...])`` of new rows for a fitted design: the fixed
    design and, per term, the effects' covariates and the level of each row
    (-1 for a level the fit did not see). Categorical columns keep the
    fitted levels (formulaic's model spec)."""
    import pandas as pd

    df = data if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))
    X = np.asarray(des.fixed_spec.get_model_matrix(df).to_numpy(dtype=np.float64))
    out = []
    for t in des.terms:
        for c in t.group.split(":"):
            if c not in df.columns:
                raise KeyError(f"The grouping factor {c!r} is not a column of the new data.")
        Z = np.asarray(t.spec.get_model_matrix(df).to_numpy(dtype=np.float64))[:, list(t.cols)]
        index = {str(v): i for i, v in enumerate(t.levels)}
        codes = np.array([index.get(str(v), -1) for v in _labels(df, t.group)], dtype=np.int64)
        out.append((Z, codes))
    return X, out


def _labels(df, factor: str) -> np.ndarray:
    """Level labels of a grouping factor: a column, or ``a:b`` (lme4's
    interaction labels ``"<a>:<b>"``)."""
    cols = factor.split(":")
    if len(cols) == 1:
        return df[cols[0]].to_numpy()
    return np.array([":".join(str(v) for v in row) for row in
                     zip(*(df[c].to_numpy() for c in cols))])  # fmt: skip
