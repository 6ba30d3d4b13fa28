"""The checklist's items: each a function of a fit returning a :class:`CheckItem`.

Every item measures something with the engine's and the inference layer's
pieces (no new optimizer loop, no new covariance code) and turns the number
into a verdict with a threshold that the caller can change.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import jax
import jax.numpy as jnp
import numpy as np

from ..core import Status, format_pvalue, x64_scope
from ..results import direction_text, scaled_directions
from ._report import CheckItem

__all__ = [
    "check_boundary",
    "check_convergence",
    "check_im",
    "check_independence",
    "check_information",
    "check_mom",
    "check_separation",
    "check_starts",
]


def _f(x, fmt=".3g") -> str:
    x = float(x)
    return format(x, fmt) if math.isfinite(x) else str(x)


# ----- independence --------------------------------------------------------------
def check_independence(fit, data=None, groups=None, ratio_warn=1.5) -> CheckItem:
    """The assumed structure: independent per-observation terms (cluster check)."""
    name = "model assumed"
    if not fit.setup.per_obs:
        return CheckItem(
            name, "skip",
            "The log-likelihood returns a scalar total: how observations depend on "
            "each other is inside the user's function, and no per-observation "
            "check (scores, sandwich, IM test, clusters) can be run.",
            "Return one log-likelihood value per observation (drop the final sum) "
            "when the observations are independent.",
        )  # fmt: skip
    kind = "log-likelihood" if fit.is_likelihood else "M-estimation objective"
    text = (
        f"The {kind} is a sum of n = {fit.nobs:g} per-observation terms: the "
        "observations are assumed independent given the parameters"
    )
    if fit.setup.program is not None and fit.setup.program.chunk:
        text += " (each term depends on its own row only: checked by the engine)"
    if fit.weight_type is not None:
        text += f"; {fit.weight_type} weights"
    if groups is None:
        return CheckItem(
            name, "ok", text + ".",
            "If rows share a cluster (repeated measures, households, sites), pass "
            "groups= to compare cluster-robust and sandwich standard errors, or "
            "model the dependence (lx.mixed).",
            {"nobs": fit.nobs},
        )  # fmt: skip
    from ..inference import vcov

    se_c = np.sqrt(np.diag(np.asarray(vcov(fit, "cluster", data, groups=groups))))
    se_s = np.sqrt(np.diag(np.asarray(vcov(fit, "sandwich", data))))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = se_c / se_s
    j = int(np.nanargmax(np.abs(np.log(ratio)))) if np.any(np.isfinite(ratio)) else 0
    lab = fit.labels[j]
    text += (
        f". Cluster-robust / sandwich SE ratio: largest departure {_f(ratio[j])} "
        f"({lab})"
    )
    vals = {"nobs": fit.nobs, "cluster_ratio": dict(zip(fit.labels, ratio.tolist()))}
    if not (1 / ratio_warn <= ratio[j] <= ratio_warn):
        return CheckItem(
            name, "warn", text + ": observations within a cluster are correlated.",
            "Report cluster-robust standard errors (lx.vcov(fit, 'cluster', "
            "groups=...)), or model the dependence (random effects: lx.mixed).",
            vals,
        )  # fmt: skip
    return CheckItem(name, "ok", text + ": no sign of within-cluster correlation.",
                     "", vals)  # fmt: skip


# ----- convergence -------------------------------------------------------------------
def check_convergence(fit, tol_warn=1e-6, tol_fail=1e-2) -> CheckItem:
    r"""Status and the scaled gradient :math:`g^\top H^{-1} g` (Newton decrement)."""
    name = "convergence"
    st = Status(int(fit.status_code))
    g = np.asarray(fit.grad, dtype=float)
    dec = 2.0 * float(fit.edm)
    if fit.information is None:  # matrix-free: the requested coordinates only
        part = fit.cov_partial
        se_u = np.zeros(g.shape)
        se_u[np.asarray(part.free)] = np.sqrt(np.abs(np.diag(np.asarray(part.cov_u))))
    else:
        H = np.asarray(fit.information, dtype=float)
        if not math.isfinite(dec) and np.all(np.isfinite(H)):
            dec = float(g @ np.linalg.pinv(H) @ g)
        cu = np.asarray(fit.cov_unconstrained, dtype=float)
        se_u = np.sqrt(np.abs(np.diag(cu))) if cu.size else np.zeros(0)
    gse = float(np.max(np.abs(g) * se_u)) if g.size else 0.0
    ev = (
        f"status {st.name}; iterations {int(fit.iterations)}; scaled gradient "
        f"g'H^-1 g = {_f(dec, '.2e')} (the squared distance to the maximum in "
        f"standard-error units); max_j |g_j| se_j = {_f(gse, '.2e')}; "
        f"max |g| = {_f(fit.grad_norm, '.2e')}"
    )
    vals = {"status": st.name, "scaled_gradient": dec, "grad_se": gse}
    if st in (Status.max_steps, Status.nonfinite):
        return CheckItem(name, "fail", ev + ".", st.message, vals)
    if st == Status.line_search_failed:
        if math.isfinite(dec) and dec <= tol_warn:
            return CheckItem(
                name, "warn",
                ev + ": the line search stalled, but at the maximum to rounding.",
                "Usually harmless (the tolerance is below the precision of the "
                "log-likelihood); loosen tol/gtol to end cleanly.", vals,
            )  # fmt: skip
        return CheckItem(name, "fail", ev + ".", st.message, vals)
    if not math.isfinite(dec) or dec > tol_fail:
        return CheckItem(
            name, "fail", ev + ": the estimate is not at a maximum.",
            "Refit with a larger max_steps or from better starting values; "
            "rescale covariates so that parameters are of order one.", vals,
        )  # fmt: skip
    if dec > tol_warn:
        return CheckItem(
            name, "warn", ev + ": the estimate is close to, not at, the maximum.",
            "Tighten the tolerance (tol=, gtol=) or refit with method='newton'.",
            vals,
        )  # fmt: skip
    return CheckItem(name, "ok", ev + ".", "", vals)


# ----- information ---------------------------------------------------------------------
def weak_directions(fit, cond_warn=1e4, n_max=3):
    """Eigen-directions of the scaled information that make it ill-conditioned.

    Returns ``(cond, lam_min, directions)``; each direction is a dict with
    ``eigenvalue`` (scaled) and ``loadings`` (unconstrained label -> loading,
    largest 1, loadings under 0.2 left out).
    """
    if fit.information is None:  # a matrix-free fit (no matrix to decompose)
        return math.nan, math.nan, []
    lam, dirs = scaled_directions(
        fit.information, fit.unconstrained_labels, n_max,
        lambda lam: lam[-1] / cond_warn, 0.2,
    )  # fmt: skip
    if lam is None:
        return math.nan, math.nan, []
    cond = lam[-1] / lam[0] if lam[0] > 0 else math.inf
    out = [{"eigenvalue": e, "loadings": load} for e, load in dirs]
    return float(cond), float(lam[0]), out


def _describe(direction) -> str:
    return direction_text((direction["eigenvalue"], direction["loadings"]), ".2g")


def check_information(fit, cond_warn=1e4) -> CheckItem:
    """Positive definiteness, condition number and weak directions of the information."""
    name = "information"
    st = Status(int(fit.status_code))
    cond, lam0, dirs = weak_directions(fit, cond_warn)
    vals = {"cond": cond, "min_eigenvalue": lam0, "weak": dirs}
    if not math.isfinite(lam0):
        return CheckItem(name, "fail", "The information matrix is not finite.",
                         "Check the log-likelihood for NaN at the estimate.", vals)  # fmt: skip
    weak = "; ".join(_describe(d) for d in dirs)
    named = sorted({k for d in dirs for k in d["loadings"]})
    if st in (Status.information_singular, Status.information_indefinite) or lam0 <= 0:
        what = (
            "singular"
            if lam0 > -1e-10 and st != Status.information_indefinite
            else ("not positive definite (a saddle point or minimum)")
        )
        return CheckItem(
            name, "fail",
            f"The observed information is {what}: smallest scaled eigenvalue "
            f"{lam0:.2g}. Weak direction(s): {weak}.",
            f"The combination of {', '.join(named)} is not identified by the data: "
            "drop or fix a redundant parameter, remove collinear covariates, or "
            "add information (data, a prior). If it is a saddle point, refit from "
            "other starts.", vals,
        )  # fmt: skip
    ev = (
        f"Positive definite; condition number of the scaled information "
        f"D^-1/2 H D^-1/2 = {cond:.3g}"
    )
    if cond > cond_warn:
        return CheckItem(
            name, "warn", ev + f" (above {cond_warn:g}). Weak direction(s): {weak}.",
            f"{', '.join(named)} are nearly confounded: their estimates are "
            "strongly correlated and individually imprecise. Centre or rescale "
            "covariates, drop one of a collinear set, or reparametrize (e.g. "
            "a contrast instead of two levels).", vals,
        )  # fmt: skip
    return CheckItem(name, "ok", ev + ".", "", vals)


# ----- boundary --------------------------------------------------------------------------
def _bounded_elements(fit):
    """(label, estimate, se, lower, upper) of reported elements with bounds."""
    spec = fit.spec
    est = np.asarray(fit.params_flat, dtype=float)
    se = np.asarray(fit.se_flat, dtype=float)
    labels = spec.labels
    out = []
    off = 0
    for c, shape in zip(spec.constraints, spec.shapes):
        m = math.prod(shape)
        rep = set(c.reported(shape))
        for j in range(m):
            i = off + j
            if j not in rep or c.name == "fixed":
                continue
            b = c.bounds()
            if b is None and c.name == "simplex":
                b = (0.0, 1.0)
            elif b is None and c.name == "corr_matrix":
                b = (-1.0, 1.0)
            elif b is None and c.name == "cov_matrix" and j // shape[0] == j % shape[0]:
                b = (0.0, math.inf)
            if b is not None:
                out.append((labels[i], est[i], se[i], float(b[0]), float(b[1])))
        off += m
    return out


def check_boundary(fit, n_se=2.0) -> CheckItem:
    """Estimates at, or within ``n_se`` standard errors of, a constraint bound."""
    name = "boundary"
    elems = _bounded_elements(fit)
    if not elems:
        return CheckItem(name, "skip", "No parameter has a bounded constraint.")
    at, near, vals = [], [], {}
    for lab, x, s, lo, hi in elems:
        dist, b = min((x - lo, lo), (hi - x, hi))
        scale = max(1.0, abs(b)) if math.isfinite(b) else 1.0
        z = dist / s if (math.isfinite(s) and s > 0) else math.nan
        vals[lab] = {"estimate": x, "bound": b, "distance_se": z}
        if (
            dist <= 1e-6 * scale
            or (math.isfinite(z) and z < 0.1)
            or (not math.isfinite(z) and dist <= 1e-4 * scale)
        ):
            at.append(f"{lab} = {x:.4g} (bound {b:g})")
        elif not math.isfinite(z) or z < n_se:
            near.append(f"{lab} = {x:.4g}, {_f(z, '.2f')} SE from {b:g}")
    checked = f"{len(elems)} bounded element(s) checked"
    advice = (
        "Wald intervals and z-tests are unreliable at a boundary: use profile "
        "intervals (lx.profile_ci) or the transformed interval "
        "(fit.conf_int(method='transformed')); a likelihood-ratio test of a "
        "boundary value has a mixture-of-chi-squares null (Self and Liang, 1987)."
    )
    if at:
        return CheckItem(
            name, "fail",
            f"{checked}; at the boundary: {'; '.join(at)}.",
            "The maximum is on the edge of the parameter space (e.g. a variance "
            "or mixing weight of 0): the model may be too large (drop the "
            "component) or the data do not support it. " + advice, vals,
        )  # fmt: skip
    if near:
        return CheckItem(name, "warn",
                         f"{checked}; within {n_se:g} SE of a bound: {'; '.join(near)}.",
                         advice, vals)  # fmt: skip
    return CheckItem(
        name,
        "ok",
        f"{checked}; all more than {n_se:g} SE from their bounds.",
        "",
        vals,
    )


# ----- starting values ---------------------------------------------------------------
def _multistart(fit, data, n_starts, scale, key):
    """Refit from ``n_starts`` points around the estimate; a MultiStart record."""
    from ..inference import Refitter
    from ..results import MultiStart

    rf = Refitter(fit, data, None, "check the starting values of")
    key = jax.random.key(0) if key is None else key
    with x64_scope():
        noise = np.asarray(jax.random.normal(key, (n_starts - 1, rf.k), jnp.float64))
    out = rf.restarted(np.vstack([rf.u_hat[None], rf.u_hat[None] + scale * noise]))
    return MultiStart(out["loglik"], out["status"], out["params_flat"])


def check_starts(
    fit, data=None, n_starts=20, scale=1.0, key=None, tol=1e-6
) -> CheckItem:
    """Many starts fitted together: does every start reach the fit's optimum?"""
    name = "starting values"
    if n_starts is None or int(n_starts) < 2:
        return CheckItem(name, "skip", "Not run (starts < 2).",
                         "Pass starts=20 (or more) to check.")  # fmt: skip
    ms = fit.multistart
    source = "the fit's own multi-start"
    if ms is None:
        if fit.setup.program is None:
            return CheckItem(
                name, "skip",
                "The result does not carry its fitting setup (it came out of a "
                "transform), so it cannot be refitted.",
            )  # fmt: skip
        ms = _multistart(fit, data, int(n_starts), float(scale), key)
        source = f"{int(n_starts)} starts around the estimate (sd {scale:g} on the unconstrained scale)"
    sm = ms.summary(tol)
    fit_ll = float(fit.loglik)
    best = sm["best_loglik"]
    thr = tol * max(1.0, abs(fit_ll))
    vals = dict(sm, share_at_best=sm["at_best"] / sm["starts"], fit_loglik=fit_ll)
    ev = (
        f"{source}: {sm['converged']} of {sm['starts']} converged, {sm['at_best']} "
        f"({sm['at_best'] / sm['starts']:.0%}) reached the best optimum; "
        f"{len(sm['optima'])} distinct optim{'um' if len(sm['optima']) == 1 else 'a'}"
    )
    if sm["optima"]:
        ev += " (loglik " + ", ".join(f"{v:.8g}" for v in sm["optima"][:4]) + ")"
    if math.isfinite(best) and best > fit_ll + thr:
        return CheckItem(
            name, "fail",
            ev + f"; the best is higher than the fit's {fit_ll:.8g}: the reported "
            "estimate is a local, not the global, maximum.",
            "Refit with several starts (lx.fit(..., starts=50)) or from the better "
            "optimum; for mixtures, lx.start_sensitivity lists the optima.", vals,
        )  # fmt: skip
    if len(sm["optima"]) > 1:
        return CheckItem(
            name, "warn",
            ev + "; the fit is at the best one found.",
            "The likelihood has several local maxima: keep fitting from many "
            "starts (starts=), and check that the best optimum is a sensible one "
            "(lx.start_sensitivity lists the estimates at each).", vals,
        )  # fmt: skip
    if sm["converged"] == 0:
        return CheckItem(name, "warn", ev + ".",
                         "No random start converged: try a smaller start_scale.",
                         vals)  # fmt: skip
    return CheckItem(name, "ok", ev + "; it is the fit's.", "", vals)


# ----- method of moments ---------------------------------------------------------------
def _distribution_family(fit, family):
    """The distribution family of a fit of :func:`likelihax.fit_distribution`
    (from its ``model_info``; censored fits have no moment estimator), or the
    one given."""
    from ..models import FAMILIES

    if family is not None:
        if family not in FAMILIES:
            raise ValueError(
                f"Unknown family {family!r}. Families: {', '.join(FAMILIES)}."
            )
        return FAMILIES[family]
    info = getattr(fit, "model_info", None)
    if info is None or info.kind != "distribution" or "censored" in info.flags:
        return None
    return FAMILIES.get(info.family)


def check_mom(fit, data=None, family=None, alpha=0.05) -> CheckItem:
    r"""MLE vs method of moments (a Hausman-type comparison), distribution fits."""
    name = "method of moments"
    fam = _distribution_family(fit, family)
    if fam is None:
        return CheckItem(
            name, "skip",
            "Not a univariate distribution fit (lx.fit_distribution): no "
            "method-of-moments estimator to compare with.",
            "For a distribution fitted with lx.fit, pass family= to compare.",
        )  # fmt: skip
    if fam.name == "pareto":
        return CheckItem(name, "skip", "Pareto: the scale is the sample minimum; "
                         "no moment comparison.")  # fmt: skip
    from ..models.distributions import method_of_moments

    d = fit.setup.data if data is None else data
    fields = [k for k, v in d.items() if np.ndim(v) == 1] if isinstance(d, dict) else []
    key = "x" if "x" in fields else (fields[0] if len(fields) == 1 else None)
    if key is None:
        return CheckItem(
            name, "skip",
            "The fit's data have no sample field 'x' (nor a single 1-D field).",
        )  # fmt: skip
    mom = method_of_moments(fam.name, d[key], trials=d.get("trials"))
    rows, zs = [], {}
    for p in fam.params:
        m, s = float(fit.params[p]), float(fit.se[p])
        mm, ms = mom["params"][p], mom["se"][p]
        if not math.isfinite(mm):
            return CheckItem(
                name, "skip",
                f"The moment equations of {fam.name} have no valid solution for these "
                "data (e.g. variance below the mean for the negative binomial).",
                "That alone says the family does not match the sample moments.",
            )  # fmt: skip
        diff = mm - m
        if abs(diff) <= 1e-8 * (1 + abs(m)):
            zs[p] = 0.0
        else:
            # MLE efficient under the model: Var(MoM - MLE) = Var(MoM) - Var(MLE).
            v = ms * ms - s * s
            zs[p] = diff / math.sqrt(v if v > 0 else ms * ms)
        rows.append(f"{p}: MLE {m:.4g}, MoM {mm:.4g} (z {zs[p]:.2f})")
    zmax = max(abs(z) for z in zs.values())
    p_bonf = min(1.0, len(zs) * 2 * NormalDist().cdf(-zmax))
    vals = {"z": zs, "pvalue": p_bonf, "mom": mom["params"]}
    ev = (
        f"{fam.name}: " + "; ".join(rows) + f". Largest |z| {zmax:.2f} "
        f"(z = difference / sqrt(Var MoM - Var MLE), Hausman); Bonferroni p = "
        f"{p_bonf:.3g}"
    )
    if p_bonf < alpha:
        return CheckItem(
            name, "warn", ev + ": the two estimators disagree.",
            "Under the model both estimate the same thing; a disagreement says "
            f"the {fam.name} family does not describe the data (compare families "
            "with lx.ic_table, look at a QQ plot, or use robust SEs).", vals,
        )  # fmt: skip
    return CheckItem(name, "ok", ev + ": they agree.", "", vals)


# ----- information-matrix test -------------------------------------------------------
# A rejection of the IM test warns only when some SE changes by more than this
# factor: the OPG form over-rejects when n is small for its degrees of freedom
# (Orme 1990), and a departure that leaves the SEs alone does not change inference.
MATERIAL_RATIO = 1.2


# What to change when the information-matrix equality fails, by family
# (ModelInfo.family of GLMs, count and distribution fits).
_VARIANCE_ADVICE = {
    "poisson": "overdispersed counts: negative binomial (NB2) instead of Poisson; "
               "more zeros than either allows: lx.zeroinfl or lx.hurdle",
    "negative.binomial": "a dispersion that varies with covariates: dispformula=; "
                         "excess zeros: lx.zeroinfl or lx.hurdle; dependent rows: "
                         "lx.mixed",
    "negbin": "a dispersion that varies with covariates: dispformula=; excess zeros: "
              "lx.zeroinfl or lx.hurdle",
    "gaussian": "heavy tails: Student-t instead of normal; heteroskedasticity: a "
                "dispersion submodel (dispformula=)",
    "normal": "heavy tails: Student-t instead of normal; skewness: a log-normal "
              "or gamma law",
    "binomial": "overdispersion between groups of trials: a random effect "
                "(lx.mixed); for 0/1 responses, a misspecified mean: another link "
                "or smooth terms (lx.gam)",
    "Gamma": "a dispersion that varies with covariates: dispformula=; another "
             "variance function (inverse Gaussian, log-normal)",
}
_GENERIC_ADVICE = ("overdispersed counts: NB2 instead of Poisson; heavy tails: Student-t "
                   "instead of normal; heteroskedasticity: model the scale")


def _variance_advice(fit) -> str:
    info = getattr(fit, "model_info", None)
    if getattr(info, "kind", None) in ("zeroinfl", "hurdle", "mixed"):
        from ._checks_residuals import model_advice

        return model_advice(info, "shape")
    return _VARIANCE_ADVICE.get(getattr(info, "family", None), _GENERIC_ADVICE)


def check_im(fit, data=None, alpha=0.05, ratio_warn=1.5) -> CheckItem:
    """The information-matrix test and the sandwich / observed SE ratios."""
    from ._imtest import im_test

    name = "misspecification (IM test)"
    try:
        t = im_test(fit, data)
    except ValueError as err:
        return CheckItem(name, "skip", str(err))
    if t.df == 0:
        return CheckItem(
            name, "skip",
            "No element of the information-matrix equality can be tested: every "
            "one is identically zero or linear in the scores (e.g. a degenerate "
            "fit whose scores all vanish).",
        )  # fmt: skip
    lab, r = t.max_ratio_deviation()
    ratios = "; ".join(f"{a} {b:.3g}" for a, b in zip(t.labels, t.se_ratio))
    ev = (
        f"White's information-matrix test: n R^2 = {t.statistic:.4g}, df {t.df}, "
        f"p = {format_pvalue(t.pvalue)}. Sandwich / observed SE ratios: {ratios}"
    )
    vals = {"statistic": t.statistic, "df": t.df, "pvalue": t.pvalue,
            "se_ratio": dict(zip(t.labels, t.se_ratio.tolist())), "test": t}  # fmt: skip
    bad_ratio = math.isfinite(r) and not (1 / ratio_warn <= r <= ratio_warn)
    material = math.isfinite(r) and not (1 / MATERIAL_RATIO <= r <= MATERIAL_RATIO)
    rejected = math.isfinite(t.pvalue) and t.pvalue < alpha
    if bad_ratio or (rejected and material):
        return CheckItem(
            name, "warn",
            ev + ": the information-matrix equality fails (the sandwich SE of "
            f"{lab} is {r:.3g} times the observed one).",
            "The observed-information SEs are not valid: report robust SEs "
            "(cov='sandwich'), or change the model so that its variance matches "
            f"the data ({_variance_advice(fit)}).",
            vals,
        )  # fmt: skip
    if rejected:
        return CheckItem(
            name, "ok",
            ev + f": the test rejects, but every SE ratio is within "
            f"{MATERIAL_RATIO - 1:.0%} of 1, so the departure it detects barely "
            "affects the standard errors (and the OPG form over-rejects in small "
            "samples or with many parameters).",
            "Robust SEs (cov='sandwich') are a cheap safeguard.", vals,
        )  # fmt: skip
    return CheckItem(name, "ok", ev + ": no evidence against the model.", "", vals)


# ----- separation ------------------------------------------------------------------------
def check_separation(result) -> CheckItem:
    """Complete or quasi-complete separation of a binomial GLM (read from the
    result's ``separation`` record and ``model_info``)."""
    name = "separation"
    info = getattr(result, "model_info", None)
    if info is None or info.kind != "glm":
        return CheckItem(
            name, "skip",
            "Separation is checked for binomial GLM results (lx.glm); this is not one.",
        )  # fmt: skip
    if info.family != "binomial":
        return CheckItem(name, "skip", f"Not a binary response ({info.family} GLM).")
    sep = result.separation
    if sep is not None:
        return CheckItem(name, "fail", sep.finding,
                         sep.remedy,
                         {"separated": True, "kind": sep.kind,
                          "columns": list(sep.columns)})  # fmt: skip
    return CheckItem(
        name, "ok",
        "No fitted probability within 1e-8 of 0 or 1 (no complete or quasi-complete "
        "separation).", "", {"separated": False},
    )  # fmt: skip
