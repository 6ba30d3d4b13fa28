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
