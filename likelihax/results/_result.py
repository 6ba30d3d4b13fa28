"""The fit result: an immutable pytree of estimates, information and diagnostics.

A :class:`FitResult` holds arrays only (plus static metadata), so it can be
returned from ``jax.vmap``/``jax.jit``: fitting many data sets in one compiled
call gives one result with a leading batch axis. Methods only compute derived
quantities (SEs, AIC, ...) or delegate to the renderers in
:mod:`likelihax.results._summary`.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..core._status import Status
from ._summary import pandas_for

__all__ = ["FitResult", "Covariance", "MultiStart"]

_FIELDS = (
    "u", "params_flat", "loglik", "grad", "information", "cov_u", "cov",
    "status", "iterations", "n_evals", "edm", "cond", "trace", "flat", "multistart",
    "restarts",
)  # fmt: skip
_META = (
    "spec", "name", "method", "cov_kind", "dtype", "per_obs", "nobs", "loglik_fn",
    "fisher_fn", "weight_type", "likelihood", "annot", "cov_scale", "static",
    "estimator",
)  # fmt: skip
_META_DEFAULTS = dict(
    fisher_fn=None, weight_type=None, likelihood=True, annot=(None, (), (), 0),
    cov_scale=None, static=None, estimator=None,  # "MAP" from lx.fit_map
)  # fmt: skip


def _xp(a):
    return np if isinstance(a, (np.ndarray, np.generic)) else jnp


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


@jax.tree_util.register_pytree_node_class
class FitResult:
    """Result of :func:`likelihax.fit`.

    Attributes
    ----------
    params : pytree
        Estimates on the natural scale, shaped like the starting values.
    se : pytree
        Standard errors (delta method for constrained parameters; NaN for
        fixed parameters and when the information is not positive definite).
    cov : Covariance
        Labelled covariance of the reported natural-scale elements.
    loglik : float
        Maximized log-likelihood.
    nobs : int or None
        Number of observations.
    n_params : int
        Number of estimated (free) parameters.
    aic, bic : float
        :math:`-2\\ell + 2k` and :math:`-2\\ell + k\\log n`.
    converged : bool
        True when the stopping rule was met and the information is positive definite.
    status : Status
        Outcome, with :attr:`message`.
    iterations, n_evals : int
        Accepted steps and evaluations of (value, gradient[, Hessian]).
    grad_norm : float
        :math:`\\max_j |\\partial\\ell/\\partial u_j|` at the estimate (unconstrained scale).
    edm : float
        Estimated distance to the maximum, :math:`\\tfrac12 g^\\top H^{-1} g`.
    condition_number : float
        Condition number of the scaled information :math:`D^{-1/2} H D^{-1/2}`.
    params_unconstrained, cov_unconstrained, information : arrays
        The optimizer's scale: estimates, covariance and observed information
        (:math:`-\\nabla^2 \\ell` at the last evaluated point), labelled by
        ``unconstrained_labels`` (JAX's key order, which may differ from ``labels``).
    trace : array
        Log-likelihood at each accepted iterate (NaN-padded to ``max_steps + 1``).
    multistart : MultiStart or None
        Per-start outcomes when ``starts`` was given.
    """

    def __init__(self, fields: dict, meta: dict):
        for k in _FIELDS:
            setattr(self, "_" + k, fields.get(k))
        for k in _META:
            setattr(self, "_" + k, meta[k] if k in meta else _META_DEFAULTS[k])
        self._data = None
        self._weights = None

    # ----- pytree ----------------------------------------------------------------
    def tree_flatten(self):
        children = tuple(getattr(self, "_" + k) for k in _FIELDS)
        aux = tuple(getattr(self, "_" + k) for k in _META)
        return children, aux

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(dict(zip(_FIELDS, children)), dict(zip(_META, aux)))

    @classmethod
    def _from_core(cls, out: dict, multistart=None, **meta) -> "FitResult":
        fields = dict(out)
        fields["multistart"] = multistart
        return cls(fields, meta)

    # ----- estimates ---------------------------------------------------------------
    @property
    def curvature_drop(self):
        """Smallest log-likelihood drop one standard error from the estimate,
        along the weakest direction of the information (the way it rises) and the
        Newton direction.

        About 0.5 at a well-determined maximum (exactly 0.5 for a quadratic
        log-likelihood); near 0 or negative where the likelihood is flat or still
        rising there, which :func:`likelihax.fit` reports as
        ``Status.unbounded`` or ``Status.at_boundary``. NaN when not computed
        (information not positive definite, streamed data, a loaded result).
        """
        return np.nan if self._flat is None else self._flat

    @property
    def restarts(self) -> int:
        """Times the optimizer was restarted from a probe point with a higher
        log-likelihood than where it had stopped (see :func:`likelihax.fit`,
        Notes); 0 when it stopped at a maximum the first time, and for a loaded
        result."""
        return 0 if self._restarts is None else self._restarts

    @property
    def params(self):
        return self._spec.unflatten_natural(self._params_flat)

    @property
    def _is_host(self) -> bool:
        return isinstance(self._params_flat, np.ndarray)

    @property
    def _fixed_mask(self) -> np.ndarray:
        return np.array(
            [c.name == "fixed" for c in self._spec.element_constraints], dtype=bool
        )

    @property
    def _se_flat(self):
        xp = _xp(self._cov)
        i = np.arange(self._cov.shape[-1])
        se = xp.sqrt(self._cov[..., i, i])
        return xp.where(self._fixed_mask, np.nan, se)

    @property
    def se(self):
        return self._spec.unflatten_natural(self._se_flat)

    @property
    def labels(self) -> list[str]:
        """Labels of the reported natural-scale elements."""
        lab = self._spec.labels
        return [lab[i] for i in self._spec.reported]

    @property
    def cov(self) -> Covariance:
        idx = np.asarray(self._spec.reported)
        fixed = self._fixed_mask[idx]
        m = self._cov[..., idx[:, None], idx[None, :]]
        # Fixed parameters have no sampling variance to report: NaN, as their SE.
        m = _xp(m).where(fixed[:, None] | fixed[None, :], np.nan, m)
        return Covariance(m, self.labels, self._cov_kind, self.cov_description)

    @property
    def cov_description(self) -> str:
        """One line saying how the covariance was computed."""
        from ..objective._covariance import DESCRIPTIONS

        text = DESCRIPTIONS[self._cov_kind]
        if self._cov_scale is not None:
            text += f", times {self._cov_scale[1]}"
        return text

    # ----- derived results -------------------------------------------------------
    def _replace(self, **meta) -> "FitResult":
        children, aux = self.tree_flatten()
        fields = dict(zip(_FIELDS, children))
        m = dict(zip(_META, aux))
        m.update(meta)
        new = FitResult(fields, m)
        new._data, new._weights = self._data, self._weights
        return new

    def scale_cov(self, factor, description: str) -> "FitResult":
        """A result whose covariance is multiplied by ``factor``.

        For quasi-likelihood dispersion: R's ``summary.glm`` reports
        :math:`\\hat\\phi\\,\\mathcal I^{-1}` with the Pearson estimate
        :math:`\\hat\\phi`. ``description`` (e.g. ``"dispersion 1.23 (Pearson
        chi2 / df)"``) is shown with the covariance. Covariances of the same
        kind asked for later with :meth:`vcov` are scaled too.

        Examples
        --------
        >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
        >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0),
        ...            {"mu": 0.0}, {"y": np.array([0.5, 1.5, 1.0, 3.0])})
        >>> g = f.scale_cov(4.0, "4 (example)")
        >>> round(float(g.se["mu"] / f.se["mu"]), 6)
        2.0
        """
        factor = float(factor) if self._is_host else factor
        if self._is_host and not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"factor must be positive and finite; got {factor}.")
        old = 1.0 if self._cov_scale is None else self._cov_scale[0]
        new = self._replace(cov_scale=(old * factor, description))
        new._cov = self._cov * factor
        new._cov_u = self._cov_u * factor
        return new

    def annotate(
        self, name=None, header=(), notes=(), extra_params: int = 0
    ) -> "FitResult":
        """A result whose summary shows ``name``, extra ``header`` rows and ``notes``.

        For models built on :func:`likelihax.fit` that describe themselves
        (family, link, deviance, ...) without subclassing the result.
        ``extra_params`` counts parameters estimated outside the fit (e.g. a
        GLM dispersion), which AIC and BIC then include, as R's ``logLik``
        ``df`` does.

        Examples
        --------
        >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
        >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0),
        ...            {"mu": 0.0}, {"y": np.array([0.5, 1.5])})
        >>> g = f.annotate("Known-variance normal", [("Sigma", "1 (known)")])
        >>> ("Sigma", "1 (known)") in g.summary().header
        True
        """
        n0, h0, t0, e0 = self._annot
        annot = (
            name if name is not None else n0,
            tuple(h0) + tuple((str(a), str(b)) for a, b in header),
            tuple(t0) + tuple(str(t) for t in notes),
            int(e0) + int(extra_params),
        )
        return self._replace(annot=annot)

    @property
    def params_unconstrained(self):
        """Estimates on the optimizer's (unconstrained) scale; see ``unconstrained_labels``."""
        return self._u

    @property
    def unconstrained_labels(self) -> list[str]:
        """Labels of ``params_unconstrained``, ``information`` and ``cov_unconstrained``.

        In JAX's flattening order (dict keys sorted), e.g. ``["beta[0]", ...,
        "intercept", "log(sigma)"]``; fixed parameters are left out.
        """
        return self._spec.free_labels

    @property
    def cov_unconstrained(self):
        return self._cov_u

    @property
    def information(self):
        return self._information

    @property
    def trace(self):
        return self._trace

    @property
    def multistart(self):
        return self._multistart

    # ----- scalars -----------------------------------------------------------------
    @property
    def loglik(self):
        return self._loglik

    @property
    def nobs(self):
        return self._nobs

    @property
    def n_params(self) -> int:
        return self._spec.n_free

    @property
    def aic(self):
        """:math:`-2\\ell + 2k`; NaN when the objective is not a likelihood."""
        if not self._likelihood or self._weight_type == "importance" or self._estimator:
            return math.nan
        return -2.0 * self._loglik + 2.0 * (self.n_params + self._annot[3])

    @property
    def bic(self):
        """:math:`-2\\ell + k \\log n`; NaN when the objective is not a likelihood."""
        n = self._nobs
        if not self._likelihood or self._weight_type == "importance" or self._estimator:
            return math.nan
        k = self.n_params + self._annot[3]
        return -2.0 * self._loglik + k * (math.log(n) if n else math.nan)

    @property
    def is_likelihood(self) -> bool:
        """False for an M-estimation objective (``likelihood=False``).

        A fit with importance weights is a likelihood fit whose weighted
        objective is a pseudo-likelihood: its ``aic`` and ``bic`` are NaN too.
        """
        return bool(self._likelihood)

    @property
    def weight_type(self):
        """``"frequency"``, ``"importance"``, or None for an unweighted fit."""
        return self._weight_type

    @property
    def status(self):
        s = self._status
        return Status(int(s)) if np.ndim(s) == 0 and self._is_host else s

    @property
    def message(self) -> str:
        return Status(int(self._status)).message

    @property
    def converged(self):
        return self._status == Status.success.value

    @property
    def iterations(self):
        return self._iterations

    @property
    def n_evals(self):
        return self._n_evals

    @property
    def grad_norm(self):
        xp = _xp(self._grad)
        return xp.max(xp.abs(self._grad), axis=-1)

    @property
    def edm(self):
        return self._edm

    @property
    def condition_number(self):
        return self._cond

    @property
    def method(self) -> str:
        return self._method

    @property
    def dtype(self) -> str:
        return self._dtype

    # ----- inference -----------------------------------------------------------------
    def conf_int(self, alpha: float = 0.05, method: str = "wald"):
        r"""Confidence intervals for every parameter.

        Parameters
        ----------
        alpha : float
            1 - confidence level.
        method : {"wald", "transformed"}
            ``"wald"``: :math:`\hat\theta \mp z_{1-\alpha/2}\,\mathrm{SE}` on the
            natural scale (as statsmodels and R's ``confint.default``).
            ``"transformed"``: the Wald interval on the unconstrained scale mapped
            back through the constraint, so it respects bounds (for ``positive``
            it is :math:`\hat\theta\,e^{\mp z\,\mathrm{SE}/\hat\theta}`); for
            elementwise constraints (real, positive, greater_than, less_than,
            interval) and fixed parameters.

        Returns
        -------
        (lower, upper) : tuple of pytrees shaped like ``params``

        Examples
        --------
        >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
        >>> y = np.array([0.3, 1.2, 2.5, 0.9, 1.6])
        >>> fit = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0),
        ...              {"mu": 0.0}, {"y": y})
        >>> lo, hi = fit.conf_int(0.05)
        >>> round(float(hi["mu"] - lo["mu"]), 4)  # 2 * 1.96 / sqrt(5)
        1.753
        """
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
        if method not in ("wald", "transformed"):
            raise ValueError(f"method must be 'wald' or 'transformed'; got {method!r}.")
        z = NormalDist().inv_cdf(1 - alpha / 2)
        flat, se = self._params_flat, self._se_flat
        un = self._spec.unflatten_natural
        if method == "wald":
            return un(flat - z * se), un(flat + z * se)
        from ..core._precision import x64_scope

        with x64_scope():
            return self._transformed_interval(z, un)

    def _transformed_interval(self, z, un):
        from ..parameters import constraints as C

        spec = self._spec
        elementwise = (type(C.real), C.greater_than, C.less_than, C.interval)
        xp = _xp(self._u)
        i = np.arange(self._cov_u.shape[-1])
        se_u = xp.sqrt(self._cov_u[..., i, i])
        lo, hi, off_u, off_x = [], [], 0, 0
        for k, (c, shape) in enumerate(zip(spec.constraints, spec.shapes)):
            m = math.prod(shape)
            x = self._params_flat[..., off_x : off_x + m]
            off_x += m
            if spec.is_fixed(k):
                lo.append(x * np.nan)
                hi.append(x * np.nan)
                continue
            if not isinstance(c, elementwise):
                raise ValueError(
                    f"method='transformed' needs an elementwise constraint; "
                    f"'{spec.names[k]}' is {c.name}. Use method='wald'."
                )
            u = self._u[..., off_u : off_u + m]
            s = se_u[..., off_u : off_u + m]
            off_u += m
            to_x = lambda v: xp.reshape(  # noqa: E731
                np.asarray(c.forward(v, v.shape))
                if xp is np
                else c.forward(v, v.shape),
                v.shape,
            )
            lo.append(to_x(u - z * s))
            hi.append(to_x(u + z * s))
        return un(xp.concatenate(lo, axis=-1)), un(xp.concatenate(hi, axis=-1))

    def vcov(
        self, kind: str, data: Any = None, weights: Any = None, **kwargs: Any
    ) -> Covariance:
        """Covariance of another kind at the estimate; see :func:`likelihax.vcov`.

        Kinds ``"oim"``, ``"eim"``, ``"opg"``, ``"sandwich"``, ``"hc1"`` and
        ``"cluster"`` (``groups=``); ``data`` and ``weights`` default to those
        of the fit.
        """
        from ..inference._vcov import vcov

        return vcov(self, kind, data, weights, **kwargs)

    def weak_directions(self, n_max: int = 3) -> list[str]:
        """Eigen-directions of the scaled information with the smallest eigenvalues.

        Each is written as a combination of unconstrained parameters, e.g.
        ``"0.707*beta[1] - 0.707*beta[2] (eigenvalue 1.2e-17)"``.
        """
        lam, dirs = scaled_directions(
            self._information, self._spec.free_labels, n_max, 1e-6, 0.1
        )
        if lam is None:
            return ["information is not finite"]
        return [direction_text(d, ".3g") for d in dirs]

    # ----- saving ----------------------------------------------------------------------
    def save(self, path):
        """Write ``path.json`` and ``path.npz``; see :func:`likelihax.save_result`.

        Reload with :func:`likelihax.load_result` (no pickle: the log-likelihood
        function and the data are not saved).
        """
        from ._io import save_result

        return save_result(self, path)

    # ----- display ---------------------------------------------------------------------
    def summary(self, alpha: float = 0.05):
        """Summary record; print it, or use ``to_text``/``to_html``/``to_frame``."""
        from ._summary import build_summary

        return build_summary(self, alpha)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __repr__(self) -> str:
        if not self._is_host or np.ndim(self._loglik) != 0:
            return (
                f"FitResult(batched or traced, loglik shape {np.shape(self._loglik)})"
            )
        return (
            f"FitResult({self._name}: loglik={float(self._loglik):.6g}, "
            f"k={self.n_params}, status={self.status.name})"
        )

    def __getitem__(self, i) -> "FitResult":
        """Pick one result out of a batched result (from ``jax.vmap`` or ``fit_many``)."""
        return jax.tree_util.tree_map(lambda a: np.asarray(a)[i], self)


def as_fit(obj, *, likelihood: bool = False) -> FitResult:
    """The single :class:`FitResult` behind ``obj``, for every inference function.

    The protocol: a model result (:class:`~likelihax.GLMResult`, ``MixedResult``,
    ``OrdinalFit``, ``MultinomialFit``, ...) holds the engine's fit in ``.fit``,
    whose estimates, covariance and log-likelihood are the ones it reports. A
    model result whose ``.fit`` holds a nuisance parameter fixed at an estimate
    (the dispersion of a Gaussian, gamma or inverse Gaussian GLM) also has
    ``.likelihood_fit``: the same model with that parameter free, at the joint
    maximum of the likelihood. Functions that maximize the likelihood again
    under constraints (profiles) ask for it with ``likelihood=True``; every
    other function reads ``.fit``.

    Parameters
    ----------
    obj : FitResult or model result
    likelihood : bool
        Return ``obj.likelihood_fit`` where ``obj`` has one (else as ``False``).

    Returns
    -------
    FitResult

    Raises
    ------
    TypeError
        ``obj`` is neither a FitResult nor holds one in ``.fit``.
    ValueError
        A batched or traced result (from ``jax.vmap`` or inside ``jax.jit``).

    Examples
    --------
    >>> import numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> f = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0),
    ...            {"mu": 0.0}, {"y": np.array([0.5, 1.5])})
    >>> from likelihax.results._result import as_fit
    >>> as_fit(f) is f
    True
    """
    if isinstance(obj, FitResult):
        fit = obj
    else:
        fit = getattr(obj, "fit", None)
        if likelihood and isinstance(fit, FitResult):
            fit = getattr(obj, "likelihood_fit", fit)
    if not isinstance(fit, FitResult):
        raise TypeError(
            "Expected a likelihax FitResult (from lx.fit) or a model result holding "
            "one in `.fit` (GLMResult, MixedResult, OrdinalFit, MultinomialFit, "
            f"...); got {type(obj).__name__}."
        )
    if not fit._is_host or np.ndim(fit._loglik) != 0:
        raise ValueError(
            "This is a batched (or traced) result; pick one fit first, e.g. fits[b]."
        )
    return fit


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
