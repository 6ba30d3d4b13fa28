"""The records a fit result is made of: its setup, annotation and model
information, multi-start outcomes, and the labelled covariance matrix."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple

import numpy as np

from ._summary import pandas_for

__all__ = ["Annotation", "Covariance", "FitSetup", "ModelInfo", "MultiStart"]


class MultiStart(NamedTuple):
    """Outcome of every start of a multi-start fit.

    Attributes
    ----------
    loglik : array (S,)
        Final log-likelihood of each start.
    status : array (S,)
        Status code of each start.
    params_flat : array (S, p)
        Natural-scale estimates of each start (flattened).
    """

    loglik: Any
    status: Any
    params_flat: Any

    def summary(self, tol: float = 1e-6) -> dict:
        """Counts: starts, converged, reaching the best optimum, distinct optima.

        Two optima are the same when their log-likelihoods differ by less than
        ``tol * max(1, |best|)``.
        """
        ll = np.asarray(self.loglik, dtype=float)
        ok = (np.asarray(self.status) == 0) & np.isfinite(ll)
        best = ll[ok].max() if ok.any() else np.nan
        thr = tol * max(1.0, abs(best)) if ok.any() else np.nan
        optima: list[float] = []
        for v in np.sort(ll[ok])[::-1]:
            if not optima or abs(v - optima[-1]) > thr:
                optima.append(float(v))
        return {
            "starts": int(ll.size),
            "converged": int(ok.sum()),
            "at_best": int((ok & (np.abs(ll - best) <= thr)).sum()) if ok.any() else 0,
            "best_loglik": float(best),
            "optima": optima,
            "loglik_spread": float(ll[ok].max() - ll[ok].min()) if ok.any() else np.nan,
        }


class Covariance:
    """A labelled covariance matrix of the natural-scale estimates.

    Attributes
    ----------
    matrix : ndarray (k, k)
    labels : list of str
    kind : str
        ``"oim"``, ``"opg"`` or ``"sandwich"``.
    description : str
        One line saying how it was computed.
    """

    def __init__(self, matrix, labels, kind, description):
        self.matrix = matrix
        self.labels = list(labels)
        self.kind = kind
        self.description = description

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.matrix, dtype=dtype)

    @property
    def shape(self):
        return np.shape(self.matrix)

    def __getitem__(self, key):
        """``cov["beta[0]", "beta[1]"]``, or positional indexing on the matrix."""
        if isinstance(key, tuple) and all(isinstance(k, str) for k in key):
            i, j = (self._index(k) for k in key)
            return self.matrix[..., i, j]
        if isinstance(key, str):
            return self.matrix[..., self._index(key), :]
        return self.matrix[key]

    def _index(self, label: str) -> int:
        try:
            return self.labels.index(label)
        except ValueError:
            raise KeyError(
                f"{label!r} is not a parameter label; labels are {self.labels}."
            ) from None

    def to_frame(self):
        """The matrix as a pandas DataFrame with labelled rows and columns."""
        pd = pandas_for("Covariance.to_frame")

        return pd.DataFrame(
            np.asarray(self.matrix), index=self.labels, columns=self.labels
        )

    def __repr__(self) -> str:
        m = np.asarray(self.matrix)
        if m.ndim != 2:
            return f"Covariance(kind={self.kind!r}, batched shape {m.shape})"
        w = max([len(s) for s in self.labels] + [10])
        head = " " * w + "".join(f"{s:>13.12}" for s in self.labels)
        rows = [
            f"{lab:<{w}}" + "".join(f"{v:>13.5g}" for v in row)
            for lab, row in zip(self.labels, m)
        ]
        return f"Covariance ({self.kind}: {self.description})\n" + "\n".join(
            [head, *rows]
        )


class Annotation(NamedTuple):
    """How a model built on :func:`likelihax.fit` describes itself in summaries.

    Attributes
    ----------
    name : str or None
        Title of the summary (default: the setup's name).
    header : tuple of (str, str)
        Extra header rows (family, link, deviance, ...).
    notes : tuple of str
        Notes printed under the table.
    extra_params : int
        Parameters estimated outside the fit (e.g. a GLM dispersion), counted
        by AIC and BIC as R's ``logLik`` ``df`` counts them.
    """

    name: str | None = None
    header: tuple = ()
    notes: tuple = ()
    extra_params: int = 0


class ModelInfo(NamedTuple):
    """What a result is, for code that acts on it (plots, diagnostics, refits).

    Every result carries one as ``model_info``; code reads these fields, never
    summary headers or warning texts.

    Attributes
    ----------
    kind : str
        ``"fit"`` (a custom log-likelihood), ``"glm"``, ``"mixed"``,
        ``"mixture"``, ``"em"``, ``"multinomial"``, ``"ordinal"``,
        ``"distribution"``, ``"map"``, ...
    family : str or None
        Distribution family (``"poisson"``, ``"gaussian"``, ...) where there is one.
    link : str or None
        Link function where there is one.
    n_components : int or None
        Mixture components, for mixtures.
    flags : tuple of str
        Facts about the fit a tool may act on, e.g. ``"separation"`` (a GLM
        whose estimates diverge), ``"singular"`` (a mixed model at the boundary).
    """

    kind: str = "fit"
    family: str | None = None
    link: str | None = None
    n_components: int | None = None
    flags: tuple = ()


@dataclasses.dataclass(frozen=True, eq=False)
class FitSetup:
    """How a fit was set up: what refits, covariances and tests need to run the
    model again.

    Attributes
    ----------
    spec : ParamSpec
        The parameter layout (names, shapes, constraints, labels).
    loglik_fn : callable
        The log-likelihood ``loglik(params, data)``.
    fisher_fn : callable or None
        The expected-information function, where the model has one.
    program : object
        The engine's record of the compiled program (solver, covariance kind,
        shapes); the refit programs run it again.
    per_obs : bool
        True when ``loglik_fn`` returns one value per observation.
    method : str
        The solver's name.
    dtype : str
        Working precision.
    name : str
        The model's name.
    weight_type : str or None
        ``"frequency"``, ``"importance"``, or None for an unweighted fit.
    likelihood : bool
        False for an M-estimation objective.
    estimator : str or None
        ``"MAP"`` for :func:`likelihax.fit_map`; None for maximum likelihood.
    data, weights : object
        The caller's data and weights, by reference (None for batched or traced
        results).
    """

    spec: Any
    loglik_fn: Callable | None = None
    fisher_fn: Callable | None = None
    program: Any = None
    per_obs: bool = True
    method: str = "newton"
    dtype: str = "float64"
    name: str = "model"
    weight_type: str | None = None
    likelihood: bool = True
    estimator: str | None = None
    data: Any = None
    weights: Any = None
