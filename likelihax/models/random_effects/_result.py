"""Result of :func:`~likelihax.models.random_effects.mixed` and its lme4-like summary.

See :mod:`likelihax.models.random_effects._mixed` for the model, the standard
errors (``vcov("conditional")`` as lme4 ``lmer``, ``"full"`` as ``glmer`` and
glmmTMB) and the boundary (singular) check.
"""

from __future__ import annotations

import math
import textwrap

import jax.numpy as jnp
import numpy as np

from ...core import LikelihaxWarning, format_pvalue, x64_scope
from ...inference import delta_method
from ...results import ModelInfo, ModelResult, pandas_for
from ._formula import MixedDesign
from .._predictor import mixed_predictor
from ._terms import _L

__all__ = ["MixedResult", "MixedSummary", "SingularFitWarning"]

_SINGULAR_TOL = 1e-4
_WIDTH = 80  # the summary's text lines, as lme4's at the default console width


def _fill(text: str) -> str:
    """``text`` wrapped to the summary's width, continuation lines indented."""
    return textwrap.fill(text, _WIDTH, subsequent_indent="      ")


class SingularFitWarning(LikelihaxWarning):
    """A random-effect variance (or correlation) is at the boundary."""




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
        Group labels (of the first term), in the order of :meth:`ranef`.
    nobs, ngroups : int
        Rows used and number of groups (of the first term).
    terms : list of TermDesign
        The random-effect terms (grouping factor, effect names, levels).
    reml : bool
        Fitted by restricted maximum likelihood (then :attr:`loglik` is the
        REML log-likelihood, lme4's ``REMLcrit`` is ``-2 * loglik``).
    """

    def __init__(self, fit, des: MixedDesign, family, link, formula, levels, data,
                 model, layout=None, reml: bool = False):  # fmt: skip
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
        self.terms = list(des.terms)
        self.reml = bool(reml)
        self._layout = layout  # None: the one-term model of the per-group Laplace
        if layout is None:
            self.n_singletons = int(np.sum(data["mask"].sum(axis=1) == 1))
        else:
            counts = [np.bincount(t.codes, minlength=t.n_levels) for t in self.terms]
            self.n_singletons = int(sum(np.sum(c == 1) for c in counts))
        self._data = data
        self._model = model
        self._design = des
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
        """Cholesky factor of the random-effect covariance (of the first term)."""
        return self.L_of(0)

    def _keys(self, t: int) -> tuple[str, str]:
        """Parameter names of term ``t``'s Cholesky factor."""
        if self._layout is None:
            return "L_diag", "L_off"
        return self._layout.diag(t), self._layout.off(t)

    def _label(self, t: int) -> str:
        """Term label in varcorr names: empty for a one-term model."""
        lay = self._layout
        return "" if lay is None or len(lay.keys) == 1 else "|" + lay.keys[t]

    def L_of(self, t: int) -> np.ndarray:
        """Cholesky factor of term ``t``'s random-effect covariance."""
        p = self.fit.params
        with x64_scope():
            jp = {k: jnp.asarray(v) for k, v in p.items()}
            return np.asarray(_L(jp, self.terms[t].q, *self._keys(t)))

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
        labels, gauss = [], self.family == "gaussian"
        for t, term in enumerate(self.terms):
            q, names, tag = term.q, term.names, self._label(t)
            labels += [f"sd({n}{tag})" for n in names]
            labels += [f"cor({names[i]},{names[j]}{tag})" for i in range(q) for j in range(i)]
        labels += ["sigma"] if gauss else []

        def fn(p):
            out = []
            for t, term in enumerate(self.terms):
                q = term.q
                L = _L(p, q, *self._keys(t))
                S = L @ L.T
                sd = jnp.sqrt(jnp.diag(S))
                cor = [S[i, j] / (sd[i] * sd[j]) for i in range(q) for j in range(i)]
                out += [sd] + ([jnp.stack(cor)] if cor else [])
            out += [jnp.reshape(p["sigma"], (1,))] if gauss else []
            return jnp.concatenate(out)

        return delta_method(self.fit, fn, names=labels)

    def ranef(self):
        """Conditional modes of the random effects with conditional SDs.

        Returns
        -------
        pandas.DataFrame or dict of them
            One row per group (index: the group labels), columns the random
            terms and ``se(<term>)``. Modes :math:`L\\hat v_g`, SDs from
            :math:`L A_g^{-1} L^\\top` (lme4 ``ranef(condVar = TRUE)``). With
            several terms, a dict of such frames by term label (the grouping
            factor, ``g.1`` for its second term).

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
        if self._layout is not None:
            out = self._ranef_terms(pd)
            return next(iter(out.values())) if len(out) == 1 else out
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

    def _effects(self) -> list:
        """Conditional modes of each term's effects, ``(n_levels, q)`` arrays."""
        v = self._model.random_effects(dict(self.fit.params), self._data).modes["v"]
        if self._layout is None:
            return [np.asarray(v) @ self.L.T]
        out, lay = [], self._layout
        for t, term in enumerate(self.terms):
            o = lay.offsets[t]
            out.append(v[o : o + term.n_levels * term.q].reshape(term.n_levels, term.q)
                       @ self.L_of(t).T)  # fmt: skip
        return out

    predictor = mixed_predictor  # the protocol of lx.predict and lx.slopes

    def predict(self, newdata=None, which: str = "response", kind: str = "conditional",
                se: bool = False, offset=None):  # fmt: skip
        r"""Predictions, given the random effects or at the population level.

        Parameters
        ----------
        newdata : DataFrame or dict, optional
            Rows with the formula's columns (the grouping factors too for
            ``kind="conditional"``). Default: the fitted rows, with their offset.
        which : {"response", "link"}
            The mean :math:`g^{-1}(\eta)` (a probability for the binomial
            family) or the linear predictor :math:`\eta`.
        kind : {"conditional", "population"}
            ``"conditional"`` (lme4's ``re.form = NULL``): :math:`\eta = x^\top
            \hat\beta + z^\top \hat b` with the conditional modes of the rows'
            levels; a level the fit did not see gets :math:`b = 0` (lme4's
            ``allow.new.levels = TRUE``). ``"population"`` (``re.form = NA``):
            :math:`\eta = x^\top\hat\beta`.
        se : bool
            Also return delta-method standard errors of population-level
            predictions, from :meth:`vcov` (automatic differentiation).
        offset : array or column name of ``newdata``, optional
            The offset of new rows (default none).

        Returns
        -------
        ndarray, or (ndarray, ndarray) with ``se=True``

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from likelihax.models.random_effects import mixed
        >>> rng = np.random.default_rng(0)
        >>> g = np.repeat(np.arange(10), 5)
        >>> y = 2.0 + rng.normal(size=10)[g] + rng.normal(size=50)
        >>> m = mixed("y ~ 1 + (1 | g)", pd.DataFrame({"y": y, "g": g}))
        >>> new = pd.DataFrame({"g": [0, 99]})   # a fitted level and a new one
        >>> cond = m.predict(new)
        >>> bool(np.isclose(cond[1], m.fixef["(Intercept)"]))   # new level: b = 0
        True
        >>> pop, se = m.predict(new, kind="population", se=True)
        >>> bool(np.allclose(pop, m.fixef["(Intercept)"])), bool(se[0] > 0)
        (True, True)
        """
        from ...inference import delta_se
        from ..glm._link import LINKS
        from ._formula import new_design

        if which not in ("response", "link"):
            raise ValueError(f"which must be 'response' or 'link'; got {which!r}.")
        if kind not in ("conditional", "population"):
            raise ValueError(f"kind must be 'conditional' or 'population'; got {kind!r}.")
        if se and kind == "conditional":
            raise ValueError(
                "se=True gives standard errors of population-level predictions "
                "(kind='population'); conditional predictions depend on the "
                "random effects' conditional modes, whose uncertainty the "
                "delta method over the fixed effects does not cover."
            )
        des = self._design
        if newdata is None:
            X, off = des.X, des.offset
            zs = [(t.Z, t.codes) for t in self.terms]
        else:
            X, zs = new_design(des, newdata)
            off = np.zeros(X.shape[0])
            if offset is not None:
                off = np.asarray(newdata[offset] if isinstance(offset, str) else offset,
                                 dtype=np.float64).reshape(-1)  # fmt: skip
        eta0 = np.asarray(off, dtype=np.float64).copy()
        if kind == "conditional":
            for (Z, codes), b in zip(zs, self._effects()):
                eta0 += np.where(codes >= 0,
                                 np.sum(Z * b[np.maximum(codes, 0)], axis=1), 0.0)  # fmt: skip
        link = LINKS[self.link]
        beta = np.array([self.fixef[c] for c in self.fixed_names])

        def f(b):
            eta = jnp.asarray(X) @ b + jnp.asarray(eta0)
            return eta if which == "link" else link.inverse(eta)

        if not se:
            with x64_scope():
                return np.asarray(f(jnp.asarray(beta)))
        val, _, sd = delta_se(f, beta, self.vcov())
        return np.asarray(val), np.asarray(sd)

    def _ranef_terms(self, pd) -> dict:
        """Several terms: one DataFrame per term (keyed as :func:`varcorr`'s labels)."""
        re = self._model.random_effects(dict(self.fit.params), self._data, full=True)
        v, cov = re.modes["v"], re.cov
        out, lay = {}, self._layout
        for t, term in enumerate(self.terms):
            q, n, o = term.q, term.n_levels, lay.offsets[t]
            L = self.L_of(t)
            b = v[o : o + n * q].reshape(n, q) @ L.T
            idx = o + np.arange(n)[:, None] * q + np.arange(q)[None, :]
            blocks = cov[idx[:, :, None], idx[:, None, :]]  # (n, q, q)
            se = np.sqrt(np.diagonal(np.einsum("ij,gjk,lk->gil", L, blocks, L), 0, 1, 2))
            df = pd.DataFrame(b, columns=term.names, index=term.levels)
            for j, nm in enumerate(term.names):
                df[f"se({nm})"] = se[:, j]
            df.index.name = term.group
            out[lay.keys[t]] = df
        return out

    # ----- fit statistics -----------------------------------------------------------
    @property
    def singular(self) -> bool:
        """True at a boundary fit (a relative Cholesky diagonal below 1e-4)."""
        return bool(self._singular_terms())

    def _singular_terms(self) -> list[str]:
        """``L_diag[j] (<name>|<group>)`` of each relative diagonal below the tolerance."""
        bad = []
        for t, term in enumerate(self.terms):
            d = np.abs(np.diag(self.L_of(t))) / self.sigma
            key = self._keys(t)[0]
            bad += [f"{key}[{j}] ({term.names[j]}|{term.group})"
                    for j in range(term.q) if not d[j] >= _SINGULAR_TOL]  # fmt: skip
        return bad

    @property
    def singular_message(self) -> str:
        bad = self._singular_terms()
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
                  ("Formula", self.formula),
                  ("Groups", ", ".join(dict.fromkeys(f"{t.group}: {t.n_levels}"
                                                     for t in self.terms)))]
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
        return ("Linear mixed model fit by REML (exact)" if r.reml
                else "Linear mixed model fit by maximum likelihood (exact)")  # fmt: skip
    k = int(getattr(r._model, "n_agq", 1))
    how = "Laplace" if k == 1 else f"Adaptive Gauss-Hermite Quadrature, nAGQ = {k}"
    crit = "REML" if r.reml else "maximum likelihood"
    return (
        f"Generalized linear mixed model fit by {crit} ({how})\n"
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
        if r.reml:
            lines.append(f"REML criterion at convergence: {-2 * r.loglik:.4f}")
        lines += ["", "Random effects:"]
        vc = r.varcorr()
        est = dict(zip(vc.labels, np.ravel(vc.values)))
        ses = dict(zip(vc.labels, np.ravel(vc.se_flat)))
        all_names = [n for t in r.terms for n in t.names]
        w = max([len(n) for n in all_names] + [11])
        wg = max([len(t.group) for t in r.terms] + [9]) + 1
        head = f" {'Groups':<{wg}}{'Name':<{w}} {'Std.Dev.':>9} {'(SE)':>9}"
        lines.append(head + ("  Corr" if any(t.q > 1 for t in r.terms) else ""))
        for t, term in enumerate(r.terms):
            names, tag = term.names, r._label(t)
            for i, n in enumerate(names):
                grp = term.group if i == 0 else ""
                sd = f"sd({n}{tag})"
                row = f" {grp:<{wg}}{n:<{w}} {est[sd]:>9.4f} {ses[sd]:>9.4f}"
                cors = [est[f"cor({n},{names[j]}{tag})"] for j in range(i)]
                lines.append(row + "".join(f" {c:>6.3f}" for c in cors))
        if r.family == "gaussian":
            lines.append(
                f" {'Residual':<{wg}}{'':<{w}} {est['sigma']:>9.4f} {ses['sigma']:>9.4f}"
            )
        extra = [(k, f"{k} (NB2, Var = mu + alpha mu^2)" if k == "alpha" else
                  f"{k} (dispersion phi = sigma^2)")
                 for k in ("alpha", "sigma") if k in r.fit.params and r.family != "gaussian"]
        for k, text in extra:
            se_k = float(r.fit.se[k])
            lines.append(f" {text}: {float(r.fit.params[k]):.6g} (SE {se_k:.4g})")
        groups = "; ".join(dict.fromkeys(f"{t.group}, {t.n_levels}" for t in r.terms))
        lines.append(_fill(f"Number of obs: {r.nobs}, groups:  {groups}"))
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
            ptxt = format_pvalue(p)
            lines.append(f"{c:<{wf}} {b:>11.5g} {s:>11.5g} {z:>8.3f} {ptxt:>10}")
        how = "exact marginal" if r.family == "gaussian" else "Laplace"
        where = (f"{r.ngroups} groups solved as a batch" if r._layout is None
                 else f"{r._layout.n_latent} random effects jointly")  # fmt: skip
        lines += [
            "",
            _fill(
                f"Status: {'boundary (singular) fit; engine ' if r.singular else ''}"
                f"{r.fit.status.name}; {r.fit.iterations} Newton iterations "
                f"({how}, {where})."
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
        lines += [_fill(f"Note: {n}") for n in notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.to_text())}</pre>"
