"""The checklist's residual item, and advice that depends on what the model is.

The item simulates from the fitted model and runs the residual tests of
:mod:`._residuals` (uniformity of the quantile residuals, dispersion and, for
counts, zeros). What to change when a test fails depends on the model: a
Poisson fit is pointed to the negative binomial, a negative binomial fit to
a zero-inflated or hurdle one, a zero-inflated fit is never told to add zero
inflation. :func:`model_advice` holds these rules, keyed by the result's
``model_info`` (kind, family), never by its class or its summary text.
"""

from __future__ import annotations

from ._report import CheckItem

__all__ = ["check_residuals", "model_advice"]

# Response kinds with counts, for the zero-inflation test.
_COUNT_FAMILIES = ("poisson", "negative.binomial", "negbin")
_ZERO_KINDS = ("zeroinfl", "hurdle", "zerotrunc")


# Kinds whose responses may be censored.
_CENSORED_KINDS = frozenset({"survival", "tobit", "cox"})


def _is_count(info) -> bool:
    return info.kind in _ZERO_KINDS or info.family in _COUNT_FAMILIES


def model_advice(info, finding: str) -> str:
    """What to change in a model of kind ``info`` for ``finding``.

    ``finding`` is ``"overdispersion"``, ``"underdispersion"``,
    ``"excess_zeros"``, ``"too_few_zeros"`` or ``"shape"`` (quantile
    residuals not uniform).

    Examples
    --------
    >>> from likelihax.results import ModelInfo
    >>> from likelihax.diagnostics._checks_residuals import model_advice
    >>> model_advice(ModelInfo("glm", "poisson"), "overdispersion")[:43]
    "negative binomial (lx.glm(family='nb2')) or"
    >>> "zero" in model_advice(ModelInfo("zeroinfl", "poisson"), "excess_zeros")
    True
    """
    kind, fam = info.kind, info.family
    nb = fam in ("negative.binomial", "negbin")
    if kind in _ZERO_KINDS:
        return {
            "overdispersion": ("a negative binomial count part (dist='negbin')" if not nb
                               else "covariates in the count part, or random effects for "
                               "dependent rows"),
            "underdispersion": "fewer parameters, or a count law with less spread",
            "excess_zeros": "covariates in the zero part (the formula after '|')",
            "too_few_zeros": "covariates in the zero part (the formula after '|'); "
                             "a hurdle model if zeros come from one process only",
            "shape": ("a negative binomial count part (dist='negbin')" if not nb
                      else "more covariates (or smooth terms) in either part"),
        }[finding]  # fmt: skip
    if kind == "mixed":
        return {
            "overdispersion": ("family='negative_binomial', or an observation-level "
                               "random effect (1 | obs)" if fam == "poisson"
                               else "more random effects or covariates; a dispersion "
                               "that varies with covariates"),
            "underdispersion": "fewer random effects; check the random-effect structure",
            "excess_zeros": ("family='negative_binomial' first; a zero-inflated mixed "
                             "model (glmmTMB's ziformula) if zeros remain in excess"),
            "too_few_zeros": "a hurdle or truncated count model of the positive counts",
            "shape": "random slopes or more covariates; another family or link",
        }[finding]  # fmt: skip
    if kind == "mixture":
        return "more components (lx.choose_k) or another component family"
    if fam == "poisson" or fam is None and kind == "fit":
        return {
            "overdispersion": "negative binomial (lx.glm(family='nb2')) or quasi-Poisson "
                              "standard errors (cov='sandwich'); dependent rows: lx.mixed",
            "underdispersion": "robust standard errors (cov='sandwich'); a count law with "
                               "less spread than Poisson",
            "excess_zeros": "zero-inflated or hurdle Poisson (lx.zeroinfl, lx.hurdle), or "
                            "negative binomial if the counts are overdispersed as well",
            "too_few_zeros": "a hurdle model (lx.hurdle) or the zero-truncated law of the "
                             "positive counts (lx.zerotrunc)",
            "shape": "negative binomial (family='nb2'); check the mean (link, covariates)",
        }[finding]  # fmt: skip
    if nb:
        return {
            "overdispersion": "a dispersion that varies with covariates (dispformula=), "
                              "or random effects for dependent rows (lx.mixed)",
            "underdispersion": "Poisson (family='poisson') if alpha is near 0; robust SEs",
            "excess_zeros": "zero-inflated or hurdle negative binomial "
                            "(lx.zeroinfl(..., dist='negbin'), lx.hurdle(..., dist='negbin'))",
            "too_few_zeros": "a hurdle negative binomial (lx.hurdle(..., dist='negbin'))",
            "shape": "a dispersion submodel (dispformula=); check the mean (link, covariates)",
        }[finding]  # fmt: skip
    if fam == "binomial":
        return ("for successes out of several trials, a random effect per group or "
                "observation (lx.mixed) or quasi-binomial SEs; for 0/1 responses, the "
                "mean (link, interactions, smooth terms with lx.gam)")
    if fam in ("gaussian", "normal"):
        return ("heavy tails: Student-t; skewness: a log-normal or gamma law; "
                "heteroskedasticity: a dispersion submodel (dispformula=)")
    if fam in ("Gamma", "inverse.gaussian"):
        return ("another variance function (Gamma vs inverse Gaussian vs log-normal), "
                "or a dispersion submodel (dispformula=)")
    return "another response distribution, or covariates the mean is missing"


def check_residuals(result, alpha: float = 0.05, n_sims: int = 250, seed: int = 0
                    ) -> CheckItem:  # fmt: skip
    """Quantile residuals and the simulation tests, with model-aware advice."""
    from ._residuals import (
        dispersion_test,
        quantile_residuals,
        uniformity_test,
        zero_inflation_test,
    )

    name = "residuals (simulation)"
    info = result.model_info
    try:
        res = quantile_residuals(result, n_sims=n_sims, seed=seed)
    except ValueError as err:
        return CheckItem(
            name, "skip", str(err),
            "For a custom lx.fit, run lx.quantile_residuals(fit, sampler=..., "
            "observed=...) with a sampler of its response.",
        )  # fmt: skip
    tests = [uniformity_test(res)]
    # (censored responses: the spread of observed and simulated times is not
    # comparable; their quantile residuals handle the censoring exactly)
    if info.kind not in _CENSORED_KINDS:
        tests.append(dispersion_test(result, n_sims=n_sims, seed=seed))
    if _is_count(info):
        tests.append(zero_inflation_test(result, n_sims=n_sims, seed=seed))
    vals = {t.name: {"statistic": t.statistic, "pvalue": t.pvalue} for t in tests}
    vals["method"] = res.method
    ev = (f"{res.method} quantile residuals ({n_sims} simulations for the tests): "
          + "; ".join(f"{t.name} {t.statistic:.3g}, p = {t.pvalue:.3g}" for t in tests))  # fmt: skip
    findings = []
    uni = tests[0]
    for t in tests[1:]:
        if t.pvalue < alpha and t.name.startswith("dispersion"):
            findings.append("overdispersion" if t.statistic > 1 else "underdispersion")
        elif t.pvalue < alpha:
            findings.append("excess_zeros" if t.statistic > 1 else "too_few_zeros")
    if uni.pvalue < alpha and not findings:
        findings.append("shape")
    if not findings:
        return CheckItem(name, "ok", ev + ": the data look like draws from the model.",
                         "", vals)  # fmt: skip
    words = {"overdispersion": "more spread than the model allows",
             "underdispersion": "less spread than the model allows",
             "excess_zeros": "more zeros than the model expects",
             "too_few_zeros": "fewer zeros than the model expects",
             "shape": "the residuals are not uniform"}  # fmt: skip
    advice = "; ".join(f"{words[f]}: {model_advice(info, f)}" for f in findings)
    vals["findings"] = findings
    return CheckItem(name, "warn", ev + ": " + "; ".join(words[f] for f in findings) + ".",
                     "Consider " + advice + ". Plot them: lx.plot_residuals(result).",
                     vals)  # fmt: skip
