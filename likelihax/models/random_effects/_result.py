"""Result of :func:`~likelihax.models.random_effects.mixed` and its lme4-like summary.

See :mod:`likelihax.models.random_effects._mixed` for the model, the standard
errors (``vcov("conditional")`` as lme4 ``lmer``, ``"full"`` as ``glmer`` and
glmmTMB) and the boundary (singular) check.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from ...core import LikelihaxWarning, x64_scope
from ...inference import delta_method
from ...results import ModelInfo, ModelResult, pandas_for
from ._formula import MixedDesign

__all__ = ["MixedResult", "MixedSummary", "SingularFitWarning"]

_SINGULAR_TOL = 1e-4


class SingularFitWarning(LikelihaxWarning):
    """A random-effect variance (or correlation) is at the boundary."""


def _L(p, q):
    """Lower-triangular Cholesky factor from ``L_diag`` (q,) and ``L_off``."""
    L = jnp.diag(jnp.reshape(p["L_diag"], (q,)))
    if q > 1:
        r, c = np.tril_indices(q, -1)
        L = L.at[r, c].set(p["L_off"])
    return L


class MixedResult(ModelResult):
    """Result of :func:`mixed`; wraps the engine's :class:`~likelihax.FitResult`.

    Attributes
    ----------
    fit : FitResult
        The engine's fit of the Laplace log-likelihood (parameters: fixed
        effects by column name, ``L_diag``, ``L_off``, ``sigma``); accepted,
        as this result, by every inference function.
    model_info : ModelInfo
        Kind ``"mixed"``, family, link, and the flag ``"singular"`` at a
        boundary fit (``fit.model_info``).
    family, link, formula, group : str
    fixed_names, random_names : list of str
    levels : ndarray
        Group labels, in the order of :meth:`ranef`.
    nobs, ngroups : int
        Rows used and number of groups.
    """

    def __init__(self, fit, des: MixedDesign, family, link, formula, levels, data,
                 model):  # fmt: skip
        self.fit = fit
        self.family = family
        self.link = link
        self.formula = formula
        self.group = des.group
        self.fixed_names = list(des.fixed_names)
        self.random_names = list(des.random_names)
        self.levels = levels
        self.nobs = int(des.X.shape[0])
        self.ngroups = len(levels)
        self.n_dropped = des.n_dropped
        self.n_singletons = int(np.sum(data["mask"].sum(axis=1) == 1))
        self._data = data
        self._model = model
        self._q = len(des.random_names)
        info = ModelInfo(kind="mixed", family=family, link=link,
                         flags=("singular",) if self.singular else ())  # fmt: skip
        self.fit = fit.replace(model_info=info)

    # ----- estimates --------------------------------------------------------------
    @property
    def fixef(self) -> dict:
        """Fixed-effect estimates by column name."""
        return {c: float(self.fit.params[c]) for c in self.fixed_names}

    def vcov(self, kind: str | None = None) -> np.ndarray:
        r"""Covariance of the fixed effects.

        Parameters
        ----------
        kind : {"conditional", "full"}, optional
            ``"full"``: the :math:`\beta` block of the inverse observed
            information (all parameters estimated; lme4 ``glmer``, glmmTMB).
            ``"conditional"``: inverse of the :math:`\beta\beta` block,
            i.e. given the variance parameters (lme4 ``lmer``'s
            :math:`\sigma^2 (R_X^\top R_X)^{-1}`). Default: conditional for the
            Gaussian family, full otherwise, as lme4.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from likelihax.models.random_effects import mixed
        >>> rng = np.random.default_rng(0)
        >>> g = np.repeat(np.arange(10), 5)
        >>> y = rng.normal(size=10)[g] + rng.normal(size=50)
        >>> m = mixed("y ~ 1 + (1 | g)", pd.DataFrame({"y": y, "g": g}))
        >>> m.vcov("conditional").shape, m.vcov("full").shape
        ((1, 1), (1, 1))
        """
        kind = kind or ("conditional" if self.family == "gaussian" else "full")
        if kind == "full":
            cov = self.fit.cov
            return np.array([[float(cov[a, b]) for b in self.fixed_names]
                             for a in self.fixed_names])  # fmt: skip
        if kind == "conditional":
            lab = self.fit.unconstrained_labels
            idx = [lab.index(c) for c in self.fixed_names]
            info = np.asarray(self.fit.information)[np.ix_(idx, idx)]
            return np.linalg.inv(info)
        raise ValueError(f"kind must be 'conditional' or 'full'; got {kind!r}.")

    @property
    def se(self) -> dict:
        """Fixed-effect standard errors, as the summary shows (see :meth:`vcov`)."""
        return dict(zip(self.fixed_names, np.sqrt(np.diag(self.vcov()))))

    @property
    def L(self) -> np.ndarray:
        """Cholesky factor of the random-effect covariance."""
        p = self.fit.params
        with x64_scope():
            return np.asarray(_L({k: jnp.asarray(v) for k, v in p.items()}, self._q))

    @property
    def sigma(self) -> float:
        """Residual SD (Gaussian), else 1."""
        return float(self.fit.params["sigma"]) if self.family == "gaussian" else 1.0

    def varcorr(self):
        """Random-effect SDs and correlations with delta-method SEs.

        Returns
        -------
        DeltaResult
            Labels ``"sd(<term>)"`` and ``"cor(<a>,<b>)"`` (and ``"sigma"``
            for the Gaussian family); ``.estimate``, ``.se``, ``.summary()``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from likelihax.models.random_effects import mixed
        >>> rng = np.random.default_rng(0)
        >>> g = np.repeat(np.arange(30), 6)
        >>> y = 2 * rng.normal(size=30)[g] + rng.normal(size=180)
        >>> vc = mixed("y ~ 1 + (1 | g)", pd.DataFrame({"y": y, "g": g})).varcorr()
        >>> vc.labels
        ['sd((Intercept))', 'sigma']
        """
        q, names = self._q, self.random_names
        labels = [f"sd({n})" for n in names]
        labels += [f"cor({names[i]},{names[j]})" for i in range(q) for j in range(i)]
        gauss = self.family == "gaussian"
        labels += ["sigma"] if gauss else []

        def fn(p):
            L = _L(p, q)
            S = L @ L.T
            sd = jnp.sqrt(jnp.diag(S))
            cor = [S[i, j] / (sd[i] * sd[j]) for i in range(q) for j in range(i)]
            out = [sd] + ([jnp.stack(cor)] if cor else [])
            out += [jnp.reshape(p["sigma"], (1,))] if gauss else []
            return jnp.concatenate(out)

        return delta_method(self.fit, fn, names=labels)

    def ranef(self):
        """Conditional modes of the random effects with conditional SDs.

        Returns
        -------
        pandas.DataFrame
            One row per group (index: the group labels), columns the random
            terms and ``se(<term>)``. Modes :math:`L\\hat v_g`, SDs from
            :math:`L A_g^{-1} L^\\top` (lme4 ``ranef(condVar = TRUE)``).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from likelihax.models.random_effects import mixed
        >>> rng = np.random.default_rng(0)
        >>> g = np.repeat(np.arange(10), 5)
        >>> y = rng.normal(size=10)[g] + rng.normal(size=50)
        >>> re = mixed("y ~ 1 + (1 | g)", pd.DataFrame({"y": y, "g": g})).ranef()
        >>> list(re.columns), re.shape
        (['(Intercept)', 'se((Intercept))'], (10, 2))
        """
        pd = pandas_for("MixedResult.ranef")

        re = self._model.random_effects(dict(self.fit.params), self._data)
        L = self.L
        b = re.modes["v"] @ L.T
        cov = np.einsum("ij,gjk,lk->gil", L, re.cov, L)
        se = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        df = pd.DataFrame(b, columns=self.random_names, index=self.levels)
        for j, n in enumerate(self.random_names):
            df[f"se({n})"] = se[:, j]
        df.index.name = self.group
        return df

    # ----- fit statistics -----------------------------------------------------------
    @property
    def singular(self) -> bool:
        """True at a boundary fit (a relative Cholesky diagonal below 1e-4)."""
        d = np.abs(np.diag(self.L)) / self.sigma
        return bool(np.any(~np.isfinite(d)) or np.any(d < _SINGULAR_TOL))

    @property
    def singular_message(self) -> str:
        d = np.abs(np.diag(self.L)) / self.sigma
        bad = [f"L_diag[{j}] ({self.random_names[j]}|{self.group})"
               for j in range(self._q) if not d[j] >= _SINGULAR_TOL]  # fmt: skip
        return (
            f"boundary (singular) fit: the random-effect covariance is singular "
            f"along {', '.join(bad)} (relative Cholesky diagonal < {_SINGULAR_TOL}; "
            "the SD of that term, or its part not explained by the terms before "
            "it, is estimated as zero). Its standard errors and the information "
            "are not meaningful there. Remedies: (a) drop that random term or its "
            "correlation, (b) check whether the groups vary at all in it, (c) "
            "compare with the simpler model by a likelihood-ratio test."
        )

    @property
    def converged(self) -> bool:
        """The engine converged and the fit is not at the boundary."""
        return bool(self.fit.converged) and not self.singular

    @property
    def message(self) -> str:
        """What happened, with a remedy (empty on success)."""
        if self.singular:
            return self.singular_message
        return self.fit.message

    # ----- display ----------------------------------------------------------------------
    def summary(self) -> MixedSummary:
        """An lme4-like summary (fit statistics, random effects, fixed effects).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from likelihax.models.random_effects import mixed
        >>> rng = np.random.default_rng(0)
        >>> g = np.repeat(np.arange(10), 5)
        >>> y = rng.normal(size=10)[g] + rng.normal(size=50)
        >>> s = mixed("y ~ 1 + (1 | g)", pd.DataFrame({"y": y, "g": g})).summary()
        >>> "Random effects:" in s.to_text()
        True
        """
        return MixedSummary(self)

    def annotated_fit(self):
        """The engine fit with this model's header rows (family, link, formula,
        groups, random-effect SDs) and notes: what :meth:`save` writes, so that
        a reloaded result still says what was fitted.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from likelihax.models.random_effects import mixed
        >>> rng = np.random.default_rng(0)
        >>> g = np.repeat(np.arange(10), 5)
        >>> y = rng.normal(size=10)[g] + rng.normal(size=50)
        >>> fit = mixed("y ~ 1 + (1 | g)", pd.DataFrame({"y": y, "g": g})).annotated_fit()
        >>> dict(fit.annotation.header)["Groups"]
        'g: 10'
        """
        vc = self.varcorr()
        header = [("Family", self.family), ("Link", self.link),
                  ("Formula", self.formula), ("Groups", f"{self.group}: {self.ngroups}")]
        header += [(k, f"{v:.6g}") for k, v in zip(vc.labels, np.asarray(vc.estimate))]
        notes = [self.singular_message] if self.singular else []
        return self.fit.annotate(name=_title(self).split("\n")[0], header=header,
                                 notes=notes)  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"MixedResult({self.family}: {self.formula}; loglik={self.loglik:.6g}, "
            f"nobs={self.nobs}, groups={self.ngroups})"
        )


def _title(r: MixedResult) -> str:
    if r.family == "gaussian":
        return "Linear mixed model fit by maximum likelihood (exact)"
    return (
        "Generalized linear mixed model fit by maximum likelihood (Laplace)\n"
        f" Family: {r.family} ({r.link})"
    )


class MixedSummary:
    """Text of :meth:`MixedResult.summary` (``to_text()``, ``str``, Jupyter)."""

    def __init__(self, res: MixedResult):
        self.res = res

    def to_text(self) -> str:
        """The summary as plain text, laid out like lme4's ``summary.merMod``."""
        r = self.res
        lines = [_title(r) + "  [likelihax]", f"Formula: {r.formula}", ""]
        lines.append(
            f"{'AIC':>10}{'BIC':>10}{'logLik':>10}{'deviance':>10}{'df.resid':>9}"
        )
        lines.append(
            f"{r.aic:>10.1f}{r.bic:>10.1f}{r.loglik:>10.1f}{-2 * r.loglik:>10.1f}"
            f"{r.nobs - r.n_params:>9d}"
        )
        lines += ["", "Random effects:"]
        vc = r.varcorr()
        est = dict(zip(vc.labels, np.ravel(vc.values)))
        ses = dict(zip(vc.labels, np.ravel(vc.se_flat)))
        q, names = r._q, r.random_names
        w = max([len(n) for n in names] + [11])
        head = f" {'Groups':<10}{'Name':<{w}} {'Std.Dev.':>9} {'(SE)':>9}"
        lines.append(head + ("  Corr" if q > 1 else ""))
        for i, n in enumerate(names):
            grp = r.group if i == 0 else ""
            row = f" {grp:<10}{n:<{w}} {est[f'sd({n})']:>9.4f} {ses[f'sd({n})']:>9.4f}"
            cors = [est[f"cor({n},{names[j]})"] for j in range(i)]
            lines.append(row + "".join(f" {c:>6.3f}" for c in cors))
        if r.family == "gaussian":
            lines.append(
                f" {'Residual':<10}{'':<{w}} {est['sigma']:>9.4f} {ses['sigma']:>9.4f}"
            )
        lines.append(f"Number of obs: {r.nobs}, groups:  {r.group}, {r.ngroups}")
        lines += ["", "Fixed effects:"]
        se = r.se
        wf = max(len(c) for c in r.fixed_names + ["Estimate"])
        lines.append(
            f"{'':<{wf}} {'Estimate':>11} {'Std. Error':>11} {'z value':>8} {'Pr(>|z|)':>10}"
        )
        for c in r.fixed_names:
            b, s = r.fixef[c], se[c]
            z = b / s if s > 0 else float("nan")
            p = math.erfc(abs(z) / math.sqrt(2.0)) if math.isfinite(z) else float("nan")
            ptxt = "<1e-300" if p < 1e-300 else f"{p:.3g}"  # below: underflow
            lines.append(f"{c:<{wf}} {b:>11.5g} {s:>11.5g} {z:>8.3f} {ptxt:>10}")
        how = "exact marginal" if r.family == "gaussian" else "Laplace"
        lines += [
            "",
            (
                f"Status: {'boundary (singular) fit; engine ' if r.singular else ''}"
                f"{r.fit.status.name}; {r.fit.iterations} Newton iterations "
                f"({how}, {r.ngroups} groups solved as a batch)."
            ),
        ]
        notes = []
        if r.family == "gaussian":
            notes.append(
                "Fixed-effect SEs conditional on the variance parameters, as lme4's "
                "vcov: (X'V^-1 X)^-1; vcov('full') gives the block of the inverse "
                "observed information. Variance-component SEs: delta method."
            )
        if r.singular:
            notes.append(r.singular_message)
        if not r.fit.converged and r.fit.message:
            notes.append(r.fit.message)
        if r.n_singletons:
            notes.append(f"{r.n_singletons} group(s) have a single observation.")
        if r.n_dropped:
            notes.append(f"{r.n_dropped} rows with missing values were dropped.")
        lines += [f"Note: {n}" for n in notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.to_text())}</pre>"
