"""The fit result: an immutable pytree of estimates, information and diagnostics.

A :class:`FitResult` holds arrays only (plus static metadata), so it can be
returned from ``jax.vmap``/``jax.jit``: fitting many data sets in one compiled
call gives one result with a leading batch axis. Methods only compute derived
quantities (SEs, AIC, ...) or delegate to the renderers in
:mod:`likelihax.results._summary`.
"""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..core import Status
from ._directions import direction_text, scaled_directions
from ._records import Annotation, Covariance, FitSetup, ModelInfo, MultiStart

__all__ = ["Annotation", "Covariance", "FitResult", "FitSetup", "ModelInfo", "MultiStart"]

def _xp(a):
    return np if isinstance(a, (np.ndarray, np.generic)) else jnp


# Array outputs of the engine's compiled programs -> FitResult fields.
ENGINE_FIELDS = {
    "u": "params_unconstrained", "params_flat": "params_flat", "loglik": "loglik",
    "grad": "grad", "information": "information", "cov_u": "cov_unconstrained",
    "cov": "cov_flat", "status": "status_code", "iterations": "iterations",
    "n_evals": "n_evals", "edm": "edm", "cond": "condition_number",
    "trace": "trace", "flat": "curvature_drop", "restarts": "restarts",
    "cov_partial": "cov_partial",
}  # fmt: skip


@dataclasses.dataclass(frozen=True, eq=False)
class FitResult:
    """Result of :func:`likelihax.fit`: an immutable record, and a JAX pytree.

    The array fields are the pytree's leaves, so a result can be returned from
    ``jax.vmap``/``jax.jit`` (fitting many data sets in one compiled call gives
    one result with a leading batch axis); ``setup``, ``annotation``,
    ``cov_kind``, ``cov_scale`` and ``nobs`` are static. Methods that change
    something (:meth:`annotate`, :meth:`scale_cov`) return a new result.

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
        Outcome, with :attr:`message`; ``status_code`` holds it as an integer array.
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
    params_flat, cov_flat : arrays
        Natural-scale estimates and their covariance, flattened in the order of
        ``setup.spec.labels`` (fixed parameters included).
    trace : array
        Log-likelihood at each accepted iterate (NaN-padded to ``max_steps + 1``).
    curvature_drop : float
        See the property's description below.
    multistart : MultiStart or None
        Per-start outcomes when ``starts`` was given.
    restarts : int
        Restarts from a probe point (see :func:`likelihax.fit`, Notes).
    setup : FitSetup
        The log-likelihood, parameter layout, data and compiled program.
    annotation : Annotation
        How the result describes itself in summaries.
    model_info : ModelInfo
        What the result is (``kind="fit"`` for :func:`likelihax.fit`; models
        built on it set their own).
    """

    params_unconstrained: Any
    params_flat: Any
    loglik: Any
    grad: Any
    information: Any
    cov_unconstrained: Any
    cov_flat: Any
    status_code: Any
    iterations: Any
    n_evals: Any
    edm: Any
    condition_number: Any
    trace: Any
    curvature_drop: Any = np.nan
    multistart: Any = None
    restarts: Any = 0
    setup: FitSetup = None
    annotation: Annotation = Annotation()
    cov_kind: str = "oim"
    cov_scale: Any = None
    nobs: Any = None
    model_info: ModelInfo = ModelInfo()
    # A matrix-free fit (likelihax.engine._matrix_free) has no information and
    # no full covariance (those fields are None) but the covariance of its
    # requested parameters: (natural, cov, free, cov_u, residual).
    cov_partial: Any = None

    @classmethod
    def from_fit(cls, fit: "FitResult", **extra) -> "FitResult":
        """A result of this class (a subclass registered with
        :func:`register_result_class`) with ``fit``'s fields and ``extra`` ones."""
        fields = {f.name: getattr(fit, f.name) for f in dataclasses.fields(FitResult)}
        return cls(**{**fields, **extra})

    @classmethod
    def from_engine(cls, out: dict, multistart=None, **static) -> "FitResult":
        """A result from the engine's output arrays (keys of ``ENGINE_FIELDS``)."""
        fields = {ENGINE_FIELDS[k]: v for k, v in out.items()}
        if fields.get("curvature_drop") is None:
            fields["curvature_drop"] = np.nan
        if fields.get("restarts") is None:
            fields["restarts"] = 0
        fields.setdefault("cov_partial", None)
        return cls(**fields, multistart=multistart, **static)

    def replace(self, **changes) -> "FitResult":
        """A copy with some fields (or ``setup`` fields, by name) changed."""
        setup_keys = {f.name for f in dataclasses.fields(FitSetup)}
        own = {k: v for k, v in changes.items() if k not in setup_keys}
        moved = {k: v for k, v in changes.items() if k in setup_keys}
        if moved:
            own["setup"] = dataclasses.replace(self.setup, **moved)
        return dataclasses.replace(self, **own)

    @property
    def spec(self):
        """The parameter layout (``setup.spec``)."""
        return self.setup.spec

    @property
    def name(self) -> str:
        """The model's name, as the summary shows it."""
        return self.annotation.name or self.setup.name

    @property
    def on_host(self) -> bool:
        """True for a result held in NumPy arrays (not traced inside ``jax.jit``)."""
        return isinstance(self.params_flat, np.ndarray)

    @property
    def is_single(self) -> bool:
        """True for one fit on the host (not batched by ``vmap``, not traced)."""
        return self.on_host and np.ndim(self.loglik) == 0

    # ----- estimates ---------------------------------------------------------------
    # ``curvature_drop`` (a field): smallest log-likelihood drop one standard
    # error from the estimate, along the weakest direction of the information
    # (the way it rises) and the Newton direction. About 0.5 at a
    # well-determined maximum (exactly 0.5 for a quadratic log-likelihood); near
    # 0 or negative where the likelihood is flat or still rising there, which
    # :func:`likelihax.fit` reports as ``Status.unbounded`` or
    # ``Status.at_boundary``. NaN when not computed (information not positive
    # definite, streamed data, a loaded result).

    @property
    def params(self):
        return self.spec.unflatten_natural(self.params_flat)

    @property
    def fit(self) -> "FitResult":
        """This result: the protocol every model result answers (``.fit`` is
        the engine's result; see :class:`~likelihax.results.ModelResult`)."""
        return self

    @property
    def fixed_mask(self) -> np.ndarray:
        """True for each natural-scale element held fixed."""
        return np.array(
            [c.name == "fixed" for c in self.spec.element_constraints], dtype=bool
        )

    @property
    def se_flat(self):
        """Standard errors flattened like ``params_flat`` (NaN where fixed, and
        in a matrix-free fit for the parameters not requested)."""
        if self.cov_flat is None:  # matrix-free: the requested parameters only
            part = self.cov_partial
            se = np.full(np.shape(self.params_flat), np.nan)
            se[..., np.asarray(part.natural)] = np.sqrt(np.diagonal(part.cov, 0, -2, -1))
            return np.where(self.fixed_mask, np.nan, se)
        xp = _xp(self.cov_flat)
        i = np.arange(self.cov_flat.shape[-1])
        se = xp.sqrt(self.cov_flat[..., i, i])
        return xp.where(self.fixed_mask, np.nan, se)

    def full_cov(self, what: str):
        """``cov_flat``, or a ``ValueError`` naming ``what`` for a matrix-free
        fit, which has the covariance of its requested parameters only."""
        if self.cov_flat is None:
            raise ValueError(
                f"{what} needs the covariance of every parameter, but this fit is "
                "matrix-free: it has the covariance of the parameters in cov_params "
                "only (fit.cov). Refit with matrix_free=False (if the k x k "
                "information fits in memory)."
            )
        return self.cov_flat

    @property
    def se(self):
        return self.spec.unflatten_natural(self.se_flat)

    @property
    def labels(self) -> list[str]:
        """Labels of the reported natural-scale elements."""
        lab = self.spec.labels
        return [lab[i] for i in self.spec.reported]

    @property
    def cov(self) -> Covariance:
        idx = np.asarray(self.spec.reported)
        fixed = self.fixed_mask[idx]
        if self.cov_flat is None:  # matrix-free: the requested parameters only
            part = self.cov_partial
            pos = {int(j): i for i, j in enumerate(np.asarray(part.natural))}
            keep = np.array([int(j) in pos for j in idx], bool)
            idx, fixed = idx[keep], fixed[keep]
            rows = np.array([pos[int(j)] for j in idx], int)
            m = np.asarray(part.cov)[..., rows[:, None], rows[None, :]]
            labels = [self.spec.labels[j] for j in idx]
            return Covariance(m, labels, self.cov_kind, self.cov_description)
        m = self.cov_flat[..., idx[:, None], idx[None, :]]
        # Fixed parameters have no sampling variance to report: NaN, as their SE.
        m = _xp(m).where(fixed[:, None] | fixed[None, :], np.nan, m)
        return Covariance(m, self.labels, self.cov_kind, self.cov_description)

    @property
    def cov_description(self) -> str:
        """One line saying how the covariance was computed."""
        from ..objective import DESCRIPTIONS

        text = DESCRIPTIONS[self.cov_kind]
        if self.cov_scale is not None:
            text += f", times {self.cov_scale[1]}"
        return text

    # ----- derived results -------------------------------------------------------
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
        factor = float(factor) if self.on_host else factor
        if self.on_host and not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"factor must be positive and finite; got {factor}.")
        old = 1.0 if self.cov_scale is None else self.cov_scale[0]
        return dataclasses.replace(
            self,
            cov_scale=(old * factor, description),
            cov_flat=self.cov_flat * factor,
            cov_unconstrained=self.cov_unconstrained * factor,
        )

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
        a = self.annotation
        annotation = Annotation(
            name if name is not None else a.name,
            tuple(a.header) + tuple((str(x), str(y)) for x, y in header),
            tuple(a.notes) + tuple(str(t) for t in notes),
            int(a.extra_params) + int(extra_params),
        )
        return dataclasses.replace(self, annotation=annotation)

    @property
    def unconstrained_labels(self) -> list[str]:
        """Labels of ``params_unconstrained``, ``information`` and ``cov_unconstrained``.

        In JAX's flattening order (dict keys sorted), e.g. ``["beta[0]", ...,
        "intercept", "log(sigma)"]``; fixed parameters are left out.
        """
        return self.spec.free_labels

    # ----- scalars -----------------------------------------------------------------
    @property
    def n_params(self) -> int:
        return self.spec.n_free

    @property
    def _information_criteria_apply(self) -> bool:
        s = self.setup
        return s.likelihood and s.weight_type != "importance" and not s.estimator

    @property
    def aic(self):
        """:math:`-2\\ell + 2k`; NaN when the objective is not a likelihood."""
        if not self._information_criteria_apply:
            return math.nan
        return -2.0 * self.loglik + 2.0 * (
            self.n_params + self.annotation.extra_params
        )

    @property
    def bic(self):
        """:math:`-2\\ell + k \\log n`; NaN when the objective is not a likelihood."""
        n = self.nobs
        if not self._information_criteria_apply:
            return math.nan
        k = self.n_params + self.annotation.extra_params
        return -2.0 * self.loglik + k * (math.log(n) if n else math.nan)

    @property
    def is_likelihood(self) -> bool:
        """False for an M-estimation objective (``likelihood=False``).

        A fit with importance weights is a likelihood fit whose weighted
        objective is a pseudo-likelihood: its ``aic`` and ``bic`` are NaN too.
        """
        return bool(self.setup.likelihood)

    @property
    def weight_type(self):
        """``"frequency"``, ``"importance"``, or None for an unweighted fit."""
        return self.setup.weight_type

    @property
    def status(self):
        s = self.status_code
        return Status(int(s)) if np.ndim(s) == 0 and self.on_host else s

    @property
    def message(self) -> str:
        return Status(int(self.status_code)).message

    @property
    def converged(self):
        return self.status_code == Status.success.value

    @property
    def grad_norm(self):
        xp = _xp(self.grad)
        return xp.max(xp.abs(self.grad), axis=-1)

    @property
    def method(self) -> str:
        return self.setup.method

    @property
    def dtype(self) -> str:
        return self.setup.dtype

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
        flat, se = self.params_flat, self.se_flat
        un = self.spec.unflatten_natural
        if method == "wald":
            return un(flat - z * se), un(flat + z * se)
        from ..core import x64_scope

        with x64_scope():
            return self._transformed_interval(z, un)

    def _transformed_interval(self, z, un):

        spec = self.spec
        xp = _xp(self.params_unconstrained)
        i = np.arange(self.cov_unconstrained.shape[-1])
        se_u = xp.sqrt(self.cov_unconstrained[..., i, i])
        lo, hi, off_u, off_x = [], [], 0, 0
        for k, (c, shape) in enumerate(zip(spec.constraints, spec.shapes)):
            m = math.prod(shape)
            x = self.params_flat[..., off_x : off_x + m]
            off_x += m
            if spec.is_fixed(k):
                lo.append(x * np.nan)
                hi.append(x * np.nan)
                continue
            if not c.elementwise:
                raise ValueError(
                    f"method='transformed' needs an elementwise constraint; "
                    f"'{spec.names[k]}' is {c.name}. Use method='wald'."
                )
            u = self.params_unconstrained[..., off_u : off_u + m]
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

        Any kind of :func:`likelihax.vcov` (``"oim"``, ``"sandwich"``,
        ``"hc3"``, ``"stata"``, ``"cluster"`` with ``groups=``, ``"hac"``,
        ...), with its keyword options; ``data`` and ``weights`` default to
        those of the fit.
        """
        from ..inference import vcov

        return vcov(self, kind, data, weights, **kwargs)

    def weak_directions(self, n_max: int = 3) -> list[str]:
        """Eigen-directions of the scaled information with the smallest eigenvalues.

        Each is written as a combination of unconstrained parameters, e.g.
        ``"0.707*beta[1] - 0.707*beta[2] (eigenvalue 1.2e-17)"``.
        """
        if self.information is None:
            return ["not resolved (a matrix-free fit forms no information matrix)"]
        lam, dirs = scaled_directions(
            self.information, self.spec.free_labels, n_max, 1e-6, 0.1
        )
        if lam is None:
            return ["information is not finite"]
        return [direction_text(d, ".3g") for d in dirs]

    # ----- saving ----------------------------------------------------------------------
    def simulate(self, n: int = 1, seed=0, newdata=None, *, conditional=None,
                 sampler=None):  # fmt: skip
        """New responses, ``(n, n_obs)``; see :func:`likelihax.simulate`."""
        from ._response import simulate

        return simulate(self, n, seed, newdata, conditional=conditional, sampler=sampler)

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
        if not self.is_single:
            return (
                f"FitResult(batched or traced, loglik shape {np.shape(self.loglik)})"
            )
        return (
            f"FitResult({self.name}: loglik={float(self.loglik):.6g}, "
            f"k={self.n_params}, status={self.status.name})"
        )

    def __getitem__(self, i) -> "FitResult":
        """Pick one result out of a batched result (from ``jax.vmap`` or ``fit_many``)."""
        return jax.tree_util.tree_map(lambda a: np.asarray(a)[i], self)


_DATA_FIELDS = (*ENGINE_FIELDS.values(), "multistart")
_META_FIELDS = ("setup", "annotation", "cov_kind", "cov_scale", "nobs", "model_info")


def register_result_class(cls, meta: tuple = ()):
    """Register a :class:`FitResult` subclass (a frozen dataclass adding static
    fields ``meta``, declared with ``repr=False`` so that it keeps the
    result's short repr) as a JAX pytree; returns ``cls``.

    Examples
    --------
    >>> import dataclasses
    >>> from likelihax.results import FitResult, register_result_class
    >>> @dataclasses.dataclass(frozen=True, eq=False, repr=False)
    ... class TaggedFit(FitResult):
    ...     tag: str = ""
    >>> register_result_class(TaggedFit, meta=("tag",)) is TaggedFit
    True
    """
    if not (
        isinstance(cls, type)
        and issubclass(cls, FitResult)
        and dataclasses.is_dataclass(cls)
    ):
        raise TypeError(
            "register_result_class takes a dataclass subclass of FitResult; got "
            f"{cls!r}."
        )
    names = {f.name for f in dataclasses.fields(cls)}
    missing = [m for m in meta if m not in names]
    if missing:
        raise ValueError(f"meta names fields that {cls.__name__} lacks: {missing}.")
    jax.tree_util.register_dataclass(
        cls, data_fields=list(_DATA_FIELDS), meta_fields=[*_META_FIELDS, *meta]
    )
    return cls


register_result_class(FitResult)
