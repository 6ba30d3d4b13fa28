"""Weak directions of an information matrix, as text for warnings and checks."""

from __future__ import annotations

import numpy as np

__all__ = ["direction_text", "scaled_directions"]


def scaled_directions(H, labels, n_max: int, limit, min_loading: float):
    r"""Eigenvalues of the scaled information and its weakest directions.

    :math:`S = D^{-1/2} H D^{-1/2}` (:math:`D = \operatorname{diag} H`) has
    eigenvalues ``lam`` (ascending). The first direction, and each next one of
    the ``n_max`` with an eigenvalue at most ``limit`` (a number, or a
    function of ``lam``), is returned as
    ``(eigenvalue, {label: loading})``: loadings scaled so that the largest is
    +1, those under ``min_loading`` in size left out, largest first. ``lam`` is
    None when the information is not finite.
    """
    H = np.asarray(H, dtype=float)
    d = np.diag(H)
    s = 1.0 / np.sqrt(np.where(d > 0, d, 1.0))
    S = H * s[:, None] * s[None, :]
    if not np.all(np.isfinite(S)):
        return None, []
    lam, Q = np.linalg.eigh(0.5 * (S + S.T))
    limit = limit(lam) if callable(limit) else limit
    out = []
    for j in range(min(n_max, lam.size)):
        if j > 0 and lam[j] > limit:
            break
        v = Q[:, j] / np.abs(Q[:, j]).max()
        if v[np.argmax(np.abs(v))] < 0:
            v = -v
        order = [i for i in np.argsort(-np.abs(v)) if abs(v[i]) >= min_loading]
        out.append((float(lam[j]), {labels[i]: float(v[i]) for i in order}))
    return lam, out


def direction_text(direction, fmt: str = ".3g") -> str:
    """``"[0.71*a - 0.71*b] (scaled eigenvalue 1e-17)"`` for one direction."""
    eigenvalue, loadings = direction
    terms = " ".join(
        f"{'-' if v < 0 else '+'} {abs(v):{fmt}}*{k}" for k, v in loadings.items()
    ).lstrip("+ ")
    return f"[{terms}] (scaled eigenvalue {eigenvalue:{fmt}})"


# A scaled eigenvalue this small counts as zero: the engine's singularity test
# (``analyze_information``, called with ``likelihax.engine``'s INFO_TOL).
ZERO_EIGENVALUE = {"float64": 1e-13, "float32": 1e-5}


# rank_text counts eigenvalues up to this many parameters (one eigvalsh on the host).
MAX_COUNTED = 2000


def eigen_counts(H, dtype: str = "float64"):
    """``(positive, zero, negative)``: signs of the scaled information's eigenvalues.

    The scaled information is :math:`D^{-1/2} H D^{-1/2}` (as in
    :func:`scaled_directions`); an eigenvalue counts as zero when its size is at
    most ``ZERO_EIGENVALUE[dtype]`` or :math:`k\\,\\varepsilon\\,\\lambda_{\\max}`
    (NumPy's numerical rank). The rank is ``positive + negative``. None when
    ``H`` is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.results import eigen_counts
    >>> eigen_counts(np.array([[1.0, 1.0], [1.0, 1.0]]))  # rank 1 of 2
    (1, 1, 0)
    >>> eigen_counts(np.diag([2.0, 1.0, -1.0]))
    (2, 0, 1)
    """
    H = np.asarray(H)
    eps = float(np.finfo(H.dtype if H.dtype.kind == "f" else float).eps)
    H = H.astype(float)
    if H.size == 0 or not np.all(np.isfinite(H)):
        return None
    d = np.abs(np.diag(H))
    s = 1.0 / np.sqrt(np.where(d > 0, d, 1.0))
    lam = np.linalg.eigvalsh(0.5 * (H + H.T) * s[:, None] * s[None, :])
    tol = max(ZERO_EIGENVALUE.get(dtype, 1e-13), lam.size * eps * np.abs(lam).max())
    return int((lam > tol).sum()), int((np.abs(lam) <= tol).sum()), int((lam < -tol).sum())


def rank_text(H, dtype: str = "float64") -> str:
    """What the signs of the information's eigenvalues mean, for summaries and
    warnings where the information is not positive definite ("" where it is).

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.results import rank_text
    >>> rank_text(np.array([[1.0, 1.0], [1.0, 1.0]]))[:53]
    'The information has rank 1 of 2 (1 zero eigenvalue): '
    >>> rank_text(np.eye(2))
    ''
    """
    k = np.shape(H)[-1]
    if k > MAX_COUNTED:  # a full eigen-decomposition would take long
        return (
            f"The information is not positive definite (or not finite), so no "
            f"standard errors are given (NaN); the signs of its eigenvalues are not "
            f"counted for more than {MAX_COUNTED} parameters "
            "(likelihax.results.eigen_counts(fit.information) counts them)."
        )
    counts = eigen_counts(H, dtype)
    if counts is None:
        return "The information is not finite: no standard errors."
    pos, zero, neg = counts
    k = pos + zero + neg
    if zero == 0 and neg == 0:
        return ""
    if neg:
        text = (
            f"The information is not positive definite: of its {k} eigenvalues "
            f"(scaled), {neg} {'is' if neg == 1 else 'are'} negative"
            + (f" and {zero} zero" if zero else "")
            + f" (rank {pos + neg} of {k}), so this point is not a maximum and "
            "no standard errors are given (NaN)."
        )
    else:
        text = (
            f"The information has rank {pos} of {k} ({zero} zero "
            f"eigenvalue{'' if zero == 1 else 's'}): {zero} combination"
            f"{'' if zero == 1 else 's'} of the parameters "
            f"{'is' if zero == 1 else 'are'} not identified by the data, so no "
            "standard errors are given (NaN)."
        )
    return text + (
        " A model with more parameters than the data identify (collinear "
        "covariates; a neural network, whose hidden units can be permuted, "
        "rescaled or switched off without changing the likelihood) has no Wald "
        "inference on them: drop or fix the redundant ones, compare fits by "
        "held-out log-likelihood, or give a prior (lx.fit_map; a Normal prior is "
        "an L2 penalty) for a positive definite curvature."
    )
