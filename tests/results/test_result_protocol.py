"""Every model result works with every inference function (one protocol: ``as_fit``).

The results of ``lx.glm``, ``lx.mixed``, ``lx.ordinal`` and ``lx.mnlogit`` go
to ``lx.vcov``, ``lx.profile``, ``lx.profile_ci``, ``lx.bootstrap``,
``lx.wald_test``, ``lx.lr_test`` and ``lx.checklist`` as they are, and give the
numbers of the engine fit they hold (``result.fit``). The one documented
difference: profiles of a GLM with a dispersion maximize the dispersion out
(``result.likelihood_fit``; checked against R, closed forms and scipy in
``models/glm/test_glm_eim_profile.py``). References here: statsmodels ``GLM``
(gamma, covariance kinds) and ``MNLogit`` (HC0), and the Poisson deviance
difference (R's ``anova``) for the likelihood-ratio test.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import likelihax as lx
from likelihax.results import as_fit

N = 60


@pytest.fixture(scope="module")
def sim(make_rng):
    rng = make_rng(18)
    x = rng.normal(size=N)
    x2 = rng.normal(size=N)
    g = np.repeat(np.arange(10), N // 10)
    return dict(
        x=x, x2=x2, g=g,
        X=np.column_stack([np.ones(N), x, x2]),
        counts=rng.poisson(np.exp(0.4 + 0.3 * x + 0.2 * x2)),
        positive=rng.gamma(3.0, np.exp(0.5 + 0.3 * x) / 3.0),
        grouped=1.0 + 0.5 * x + 0.3 * x2 + rng.normal(size=10)[g]
        + 0.6 * rng.normal(size=N),
        levels=np.digitize(0.8 * x + 0.5 * x2 + rng.logistic(size=N), [-0.8, 0.8]),
    )  # fmt: skip


def _build(kind, s, full=True):
    """(result, its restricted model) of one kind; ``full=False``: without x2."""
    X = s["X"] if full else s["X"][:, :2]
    cols = ["c", "x", "x2"][: X.shape[1]]
    if kind == "glm":
        return lx.glm(s["counts"], X, family="poisson", columns=cols)
    if kind == "mixed":
        df = pd.DataFrame({"y": s["grouped"], "x": s["x"], "x2": s["x2"], "g": s["g"]})
        # ML: one log-likelihood per group, which OPG, sandwich and the
        # bootstrap need (the REML criterion is one number for all groups).
        return lx.mixed("y ~ x + x2 + (1 | g)" if full else "y ~ x + (1 | g)", df,
                        reml=False)  # fmt: skip
    if kind == "ordinal":
        return lx.ordinal(s["levels"], X[:, 1:], columns=cols[1:])
    return lx.mnlogit(s["levels"], X, columns=cols)


KINDS = ["glm", "mixed", "ordinal", "mnlogit"]


@pytest.fixture(scope="module", params=KINDS)
def pair(request, sim):
    return request.param, _build(request.param, sim), _build(request.param, sim, False)


def _same_cov(a, b):
    assert a.labels == b.labels and a.kind == b.kind
    assert a.description == b.description
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=0)


def test_vcov_of_a_model_result_is_that_of_its_fit(pair):
    kind, res, _ = pair
    # (The mixed and ordinal models have no expected information.)
    kinds = ["oim", "opg", "sandwich", "hc1"] + (["eim"] if kind in ("glm", "mnlogit")
                                                  else [])  # fmt: skip
    for k in kinds:
        _same_cov(lx.vcov(res, k), lx.vcov(res.fit, k))
    groups = np.arange(N) % 7
    _same_cov(
        lx.vcov(res, "cluster", groups=groups[: res.fit.nobs]),
        lx.vcov(res.fit, "cluster", groups=groups[: res.fit.nobs]),
    )


def test_profile_and_profile_ci_of_a_model_result_are_those_of_its_fit(pair):
    _, res, _ = pair
    ci, ci_fit = lx.profile_ci(res), lx.profile_ci(res.fit)
    # (Every parameter but the ordinal cut-points, which are ordered.)
    assert ci.labels == ci_fit.labels == [
        lab for lab in res.fit.labels if not lab.startswith("zeta")
    ]
    for a in ("estimate", "lower", "upper"):
        np.testing.assert_allclose(getattr(ci, a), getattr(ci_fit, a), rtol=1e-12)
    lab = res.fit.labels[0]
    pr, pr_fit = lx.profile(res, lab, n_points=3), lx.profile(res.fit, lab, n_points=3)
    np.testing.assert_allclose(pr.curves[lab]["loglik"], pr_fit.curves[lab]["loglik"],
                               rtol=1e-12)  # fmt: skip
    assert pr.loglik == pr_fit.loglik


def test_bootstrap_of_a_model_result_is_that_of_its_fit(pair):
    _, res, _ = pair
    b, b_fit = lx.bootstrap(res, 8, seed=3), lx.bootstrap(res.fit, 8, seed=3)
    assert b.labels == b_fit.labels == res.fit.labels
    assert b.n_failed == b_fit.n_failed
    np.testing.assert_allclose(b.replicates, b_fit.replicates, rtol=1e-12)


def test_tests_and_checklist_still_accept_model_results(pair):
    kind, res, small = pair
    lab = res.fit.labels[0]
    w, w_fit = lx.wald_test(res, f"{lab} = 0"), lx.wald_test(res.fit, f"{lab} = 0")
    assert w.statistic == pytest.approx(w_fit.statistic, rel=1e-12)
    lr, lr_fit = lx.lr_test(small, res), lx.lr_test(small.fit, res.fit)
    df = 2 if kind == "mnlogit" else 1  # x2 in each of the two equations
    assert (lr.statistic, lr.df) == (pytest.approx(lr_fit.statistic, rel=1e-12), df)
    if kind == "glm":  # Poisson: 2 (l1 - l0) is the deviance difference (anova)
        assert lr.statistic == pytest.approx(small.deviance - res.deviance, rel=1e-9)
        assert lr.pvalue == pytest.approx(stats.chi2.sf(lr.statistic, 1), rel=1e-9)
    rep, rep_fit = lx.checklist(res, starts=None), lx.checklist(res.fit, starts=None)
    sim = "residuals (simulation)"  # reads the model result's response distribution
    assert {k: v for k, v in rep.verdicts.items() if k != sim} == {
        k: v for k, v in rep_fit.verdicts.items() if k != sim}
    assert rep_fit[sim].verdict == "skip"


# ----- a GLM with a dispersion: what the numbers mean ---------------------------------
@pytest.fixture(scope="module")
def gamma(sim):
    return lx.glm(sim["positive"], sim["X"][:, :2], family="gamma", link="log",
                  columns=["c", "x"])  # fmt: skip


@pytest.mark.parametrize(
    "kind, fit_kw",
    [("eim", {}), ("oim", {"method": "newton"}), ("sandwich", {"cov_type": "HC0"})],
)
def test_gamma_glm_vcov_kinds_match_statsmodels(gamma, sim, kind, fit_kw):
    sm = pytest.importorskip("statsmodels.api")
    model = sm.GLM(sim["positive"], sim["X"][:, :2],
                   family=sm.families.Gamma(sm.families.links.Log()))  # fmt: skip
    ref = model.fit(tol=1e-13, **fit_kw) if not fit_kw.get("method") else model.fit(
        method="newton", tol=1e-13, max_start_irls=0, start_params=gamma.coef
    )
    np.testing.assert_allclose(np.asarray(lx.vcov(gamma, kind)), ref.cov_params(),
                               rtol=1e-6)  # fmt: skip
    _same_cov(lx.vcov(gamma, kind), lx.vcov(gamma.fit, kind))


def test_gamma_glm_bootstrap_is_its_fit_and_profiles_free_the_dispersion(gamma):
    b, b_fit = lx.bootstrap(gamma, 8, seed=1), lx.bootstrap(gamma.fit, 8, seed=1)
    np.testing.assert_allclose(b.replicates, b_fit.replicates, rtol=1e-12)
    ci = lx.profile_ci(gamma)
    assert ci.labels == ["c", "x"]
    full = lx.profile_ci(gamma.likelihood_fit, ["c", "x"])
    np.testing.assert_allclose(ci.lower, full.lower, rtol=1e-12)
    np.testing.assert_allclose(ci.upper, full.upper, rtol=1e-12)
    # The engine fit holds the dispersion at D/n (R's logLik.glm), which moves
    # the interval (the statistic is about the deviance change over D/n
    # instead of over the maximum-likelihood dispersion).
    fixed = lx.profile_ci(gamma.fit)
    assert np.all(np.abs(fixed.upper - ci.upper) > 1e-3 * (ci.upper - ci.lower))
    assert as_fit(gamma, likelihood=True) is gamma.likelihood_fit
    assert as_fit(gamma) is gamma.fit


def test_loglik_surface_of_a_model_result_is_that_of_its_likelihood(gamma):
    """The surface of a GLM result is that of its full likelihood (dispersion
    maximized out), centred at its maximum."""
    s = lx.loglik_surface(gamma, "c", "x", grid=5, profile=True)
    ref = lx.loglik_surface(gamma.likelihood_fit, "c", "x", grid=5, profile=True)
    np.testing.assert_allclose(s.loglik, ref.loglik, rtol=1e-12)
    assert s.loglik_max == pytest.approx(float(gamma.likelihood_fit.loglik), rel=1e-12)


def test_mnlogit_sandwich_matches_statsmodels_hc0(sim):
    sm = pytest.importorskip("statsmodels.api")
    res = _build("mnlogit", sim)
    ref = sm.MNLogit(sim["levels"], sim["X"]).fit(
        method="newton", tol=1e-14, disp=0, cov_type="HC0"
    )
    # Both order the parameters by equation, then column.
    assert res.fit.labels[:4] == ["y=1.c", "y=1.x", "y=1.x2", "y=2.c"]
    np.testing.assert_allclose(np.asarray(lx.vcov(res, "sandwich")),
                               np.asarray(ref.cov_params()), rtol=1e-6)  # fmt: skip


def test_anything_else_is_refused_by_type(sim):
    for fn in (lambda o: lx.vcov(o, "oim"), lx.profile_ci, lx.profile,
               lambda o: lx.bootstrap(o, 4)):  # fmt: skip
        with pytest.raises(TypeError, match="Expected a likelihax FitResult"):
            fn({"params": [1.0]})
