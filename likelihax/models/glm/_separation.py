"""Separation of a binary or binomial GLM's responses: the warning, the record and the check."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...core import LikelihaxWarning

__all__ = ["Separation", "SeparationWarning", "find_separation"]


class SeparationWarning(LikelihaxWarning):
    """Complete or quasi-complete separation in a binary or binomial model."""


class Separation(NamedTuple):
    """Separation of a binary or binomial GLM's responses (:attr:`GLMResult.separation`).

    Attributes
    ----------
    kind : str
        ``"complete"`` (every response perfectly predicted along the
        direction), ``"quasi-complete"`` (some), or ``"possible"`` (fitted
        probabilities at 0 or 1, but without scipy the linear program that
        confirms it did not run; see ``detail``).
    columns : tuple of str
        Model-matrix columns that the separating direction involves.
    direction : tuple of float or None
        The separating direction :math:`d`, one loading per coefficient (in
        :attr:`GLMResult.columns` order, each column scaled by its largest
        absolute value); None for ``"possible"``.
    n_separated : int or None
        Responses perfectly predicted (``(2y - 1) x'd > 0``).
    n_responses : int
        Responses checked: rows of positive weight, a binomial row counting
        once for its successes and once for its failures.
    detail : str
        For ``"possible"``: the weakest direction of the information.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from likelihax.models.glm import glm
    >>> x = np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0])
    >>> X = np.column_stack([np.ones(6), x])
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # the SeparationWarning
    ...     res = glm((x > 0).astype(float), X, family="binomial", columns=["c", "x"])
    >>> res.separation.kind, res.separation.columns, res.model_info.flags
    ('complete', ('x',), ('separation',))
    """

    kind: str
    columns: tuple
    direction: tuple | None
    n_separated: int | None
    n_responses: int
    detail: str = ""

    @property
    def finding(self) -> str:
        """What was found, in one sentence."""
        if self.kind == "possible":
            where = self.detail
        else:
            where = (
                f"{self.n_separated} of {self.n_responses} responses are perfectly "
                "predicted"
            )
        involves = (
            f"; the separating direction involves {', '.join(self.columns)}"
            if self.columns else ""
        )  # fmt: skip
        return (
            f"{self.kind.capitalize()} separation: {where} (fitted probabilities "
            f"within 1e-8 of 0 or 1){involves}."
        )

    @property
    def remedy(self) -> str:
        """What it means for the estimates, and what to do."""
        return (
            "The maximum-likelihood estimates do not exist (they diverge along "
            "that direction) and their standard errors are meaningless. Remedies: "
            "(a) drop or merge the separating variables or levels, (b) Firth's "
            "penalized likelihood (lx.firth, finite estimates with profile "
            "intervals) or Bayesian logistic regression, (c) exact logistic "
            "regression."
        )

    @property
    def message(self) -> str:
        """:attr:`finding` and :attr:`remedy`: the text of the warning."""
        return f"{self.finding} {self.remedy}"


def find_separation(glm_res) -> Separation | None:
    """The :class:`Separation` of the binary responses of a GLM result, or None."""
    keep = glm_res._wn > 0
    if glm_res._link.name == "logit" and "_lazy" in glm_res.__dict__:
        # Screen on the linear predictor alone (no deviance pass): a fitted
        # probability within 1e-8 of 0 or 1 needs |eta| > logit(1 - 1e-8).
        eta = glm_res.design.X @ glm_res.coef + glm_res._data["offset"]
        if not np.any(keep & (np.abs(eta) > 18.42)):
            return None
    mu, y, m = glm_res.fitted, glm_res._data["y"], glm_res._data["m"]
    if not np.any(keep & ((mu < 1e-8) | (mu > 1 - 1e-8))):
        return None
    X = glm_res.design.X[keep]
    k, f = (m * y)[keep], (m * (1 - y))[keep]
    A = np.concatenate([X[k > 0], -X[f > 0]])
    scale = np.abs(A).max(axis=0)
    A = A / np.where(scale > 0, scale, 1.0)
    try:
        from scipy.optimize import linprog
    except ImportError:
        weak = glm_res.fit.weak_directions(1)
        return Separation("possible", (), None, None, A.shape[0],
                          f"weak direction {weak}")  # fmt: skip
    # Konis (2007): maximize sum_j a_j'd subject to a_j'd >= 0, -1 <= d <= 1
    res = linprog(-A.sum(axis=0), A_ub=-A, b_ub=np.zeros(A.shape[0]),
                  bounds=[(-1, 1)] * A.shape[1], method="highs")  # fmt: skip
    if res.status != 0 or -res.fun <= 1e-7 * A.shape[0]:
        return None
    # complete separation: some d with a_j'd >= t > 0 for every j
    k = A.shape[1]
    full = linprog(np.r_[np.zeros(k), -1.0], A_ub=np.c_[-A, np.ones(len(A))],
                   b_ub=np.zeros(len(A)), bounds=[(-1, 1)] * k + [(None, 1)],
                   method="highs")  # fmt: skip
    complete = full.status == 0 and -full.fun > 1e-7
    d = full.x[:k] if complete else res.x
    s = A @ d
    return Separation(
        kind="complete" if np.all(s > 1e-7) else "quasi-complete",
        columns=tuple(c for c, v in zip(glm_res.columns, d) if abs(v) > 1e-6),
        direction=tuple(float(v) for v in d),
        n_separated=int(np.sum(s > 1e-7)),
        n_responses=int(A.shape[0]),
    )
