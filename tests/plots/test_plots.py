"""Plots: the compute records against independent references, and what is drawn.

Compute functions are checked numerically (closed forms, scipy, scikit-learn);
each plot is rendered to PNG with the Agg backend and its artists are checked
against the numbers they should show (profile_ci endpoints, conf_int segments,
the LR-region contour level, ...).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import jax.numpy as jnp
import jax.scipy.stats as jst
import matplotlib
import numpy as np
import pytest
from scipy import stats

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import likelihax as lx
from likelihax.core._precision import x64_scope

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _png(obj, path: Path) -> None:
    fig = obj if isinstance(obj, matplotlib.figure.Figure) else obj.figure
    fig.savefig(path, dpi=50)
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 1000


def _gid(ax, gid):
    found = [a for a in ax.get_children() if a.get_gid() == gid]
    assert found, f"no artist with gid {gid!r}"
    return found[0]


# ----- shared fits ----------------------------------------------------------------------
def _regression(p, d):
    return jst.norm.logpdf(d["y"], p["a"] + p["b"] * d["x"], p["sigma"])


@pytest.fixture(scope="module")
def reg(make_rng):
    rng = make_rng(1)
    x = rng.uniform(-2, 2, 40)
    y = 0.5 + 1.2 * x + rng.normal(0, 0.8, 40)
    fit = lx.fit(_regression, {"a": 0.0, "b": 0.0, "sigma": 1.0}, {"x": x, "y": y},
                 constraints={"sigma": lx.constraints.positive})  # fmt: skip
    return fit, x, y


def _logit(p, d):
    eta = p["intercept"] + d["X"] @ p["beta"]
    return d["y"] * eta - jnp.logaddexp(0.0, eta)


@pytest.fixture(scope="module")
def logit(make_rng):
    rng = make_rng(2)
    X = rng.normal(size=(300, 2))
    eta = -0.3 + X @ np.array([1.0, -0.5])
    y = (rng.uniform(size=300) < 1 / (1 + np.exp(-eta))).astype(float)
    fit = lx.fit(_logit, {"intercept": 0.0, "beta": np.zeros(2)}, {"X": X, "y": y})
    return fit, X, y


# ----- loglik_surface --------------------------------------------------------------------
def test_surface_slice_matches_scipy(reg, tmp_path):
    fit, x, y = reg
    s = lx.loglik_surface(fit, "a", "sigma", grid=(np.linspace(0.2, 0.8, 5),
                                                  np.linspace(0.6, 1.1, 4)))  # fmt: skip
    assert s.loglik.shape == (4, 5) and not s.profile
    b = float(fit.params["b"])
    ref = np.array(
        [[stats.norm.logpdf(y, a + b * x, sg).sum() for a in s.x] for sg in s.y]
    )
    np.testing.assert_allclose(s.loglik, ref, rtol=1e-10)
    np.testing.assert_allclose(s.x, np.linspace(0.2, 0.8, 5), rtol=1e-12)
    assert s.level == pytest.approx(float(fit.loglik) - stats.chi2.ppf(0.95, 2) / 2)
    # The Wald ellipse is the chi2_2 contour of the fit's covariance.
    V = np.asarray(fit.cov.matrix)[np.ix_([0, 2], [0, 2])]
    d = s.ellipse - s.estimate
    q = np.einsum("ni,ij,nj->n", d, np.linalg.inv(V), d)
    np.testing.assert_allclose(q, stats.chi2.ppf(0.95, 2), rtol=1e-8)


def test_surface_profile_matches_closed_form(reg, tmp_path):
    fit, x, y = reg
    s = lx.loglik_surface(fit, "a", "b", grid=9, profile=True)
    # With (a, b) held, sigma^2 = RSS/n maximizes: l_p = -n/2 (log(2 pi RSS/n) + 1).
    n = x.size
    rss = np.array([[np.sum((y - a - b * x) ** 2) for a in s.x] for b in s.y])
    ref = -n / 2 * (np.log(2 * np.pi * rss / n) + 1)
    np.testing.assert_allclose(s.loglik, ref, rtol=1e-8)
    assert np.all(s.status == 0)
    # Default grid: symmetric around the estimate, the centre is the maximum.
    assert s.loglik[4, 4] == pytest.approx(float(fit.loglik), rel=1e-10)
    ax = lx.plots.plot_contour(s)
    cs = _gid(ax, "lr-region")
    np.testing.assert_allclose(
        cs.levels, [float(fit.loglik) - stats.chi2.ppf(0.95, 2) / 2]
    )
    np.testing.assert_allclose(_gid(ax, "wald-ellipse").get_xydata(), s.ellipse)
    _png(ax, tmp_path / "contour.png")


def test_surface_profile_over_positive_parameter(reg):
    """Pinning a log-scale coordinate: l_p(b, sigma) maximizes a in closed form."""
    fit, x, y = reg
    s = lx.loglik_surface(fit, "b", "sigma", grid=5, profile=True, span=2.0)
    ref = np.array([[stats.norm.logpdf(y, np.mean(y - b * x) + b * x, sg).sum()
                     for b in s.x] for sg in s.y])  # fmt: skip
    np.testing.assert_allclose(s.loglik, ref, rtol=1e-8)
    assert np.all(s.y > 0)


def test_surface_errors(reg):
    fit = reg[0]
    with pytest.raises(ValueError, match="two different parameters"):
        lx.loglik_surface(fit, "a", "a")
    with pytest.raises(KeyError, match="not a parameter label"):
        lx.loglik_surface(fit, "a", "nope")
    with pytest.raises(ValueError, match="outside the parameter's constraint"):
        lx.loglik_surface(fit, "a", "sigma", grid=(np.r_[0.0, 1.0], np.r_[-1.0, 1.0]))
    with pytest.raises(ValueError, match="alpha"):
        lx.loglik_surface(fit, "a", "b", alpha=1.5)


# ----- profile plot ------------------------------------------------------------------------
def test_plot_profile_marks_profile_ci(reg, tmp_path):
    fit = reg[0]
    prof_all = lx.profile(fit, n_points=11)  # one batched call for every parameter
    prof = lx.profile(fit, "sigma", n_points=11)  # sigma only
    assert list(prof.curves) == ["sigma"]
    np.testing.assert_allclose(
        prof.curves["sigma"]["value"], prof_all.curves["sigma"]["value"], rtol=1e-12
    )
    ci = lx.profile_ci(fit, "sigma")
    ax = lx.plots.plot_profile(prof, ci=ci)
    segs = _gid(ax, "interval").get_segments()
    np.testing.assert_allclose(sorted(s[0][0] for s in segs), ci["sigma"], rtol=1e-12)
    thr = _gid(ax, "threshold").get_ydata()[0]
    assert thr == pytest.approx(float(fit.loglik) - stats.chi2.ppf(0.95, 1) / 2)
    _png(ax, tmp_path / "profile.png")
    # Without ci: crossings interpolated on the grid, close to the exact ones.
    ax2 = lx.plots.plot_profile(prof)
    ends = sorted(s[0][0] for s in _gid(ax2, "interval").get_segments())
    np.testing.assert_allclose(ends, ci["sigma"], rtol=1e-2)
    fig = lx.plots.plot_profile(prof_all)
    assert len(fig.axes) == 3
    with pytest.raises(KeyError, match="not profiled"):
        lx.plots.plot_profile(prof, "a")
    with pytest.raises(KeyError, match="no interval for 'a'"):
        lx.plots.plot_profile(prof_all, "a", ci=ci)


# ----- trace -------------------------------------------------------------------------------
def test_trace(reg, tmp_path):
    fit = reg[0]
    t = lx.plots.optimizer_trace(fit)
    assert t.loglik.size == int(fit.iterations) + 1
    assert t.loglik[-1] == pytest.approx(float(fit.loglik), rel=1e-12)
    assert np.all(np.diff(t.loglik) >= -1e-9)  # accepted Newton steps ascend
    ax = lx.plots.plot_trace(fit)
    np.testing.assert_allclose(_gid(ax, "trace").get_ydata(), t.loglik)
    _png(ax, tmp_path / "trace.png")


# ----- forest ------------------------------------------------------------------------------
def test_forest_bars_equal_conf_int(reg, logit, tmp_path):
    fit = logit[0]
    half = lx.fit(_logit, {"intercept": 0.0, "beta": np.zeros(2)},
                  {"X": logit[1][:150], "y": logit[2][:150]})  # fmt: skip
    ax = lx.plots.plot_forest([fit, half], names=["all", "half"], alpha=0.1)
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "intercept",
        "beta[0]",
        "beta[1]",
    ]
    for i, f in enumerate([fit, half]):
        lo, hi = f.conf_int(0.1)
        ref_lo = np.r_[float(lo["intercept"]), np.asarray(lo["beta"])]
        ref_hi = np.r_[float(hi["intercept"]), np.asarray(hi["beta"])]
        segs = np.array(_gid(ax, f"ci-{i}").get_segments())
        np.testing.assert_allclose(segs[:, 0, 0], ref_lo, rtol=1e-12)
        np.testing.assert_allclose(segs[:, 1, 0], ref_hi, rtol=1e-12)
    _png(ax, tmp_path / "forest.png")
    # A fit lacking a parameter leaves a gap (NaN), labels in first-seen order.
    t = lx.plots.forest_table([reg[0], fit])
    assert t.labels[:3] == ["a", "b", "sigma"] and np.isnan(t.estimate[1, 0])
    with pytest.raises(TypeError, match="FitResult"):
        lx.plots.forest_table([object()])


# ----- calibration -------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_calibration_matches_sklearn(logit, strategy, tmp_path):
    from sklearn.calibration import calibration_curve as sk_curve

    fit, X, y = logit
    p = 1 / (
        1
        + np.exp(-(float(fit.params["intercept"]) + X @ np.asarray(fit.params["beta"])))
    )
    c = lx.calibration_curve(y, p, bins=7, strategy=strategy)
    prob_true, prob_pred = sk_curve(y, p, n_bins=7, strategy=strategy)
    np.testing.assert_allclose(c.prob_true, prob_true, rtol=1e-12)
    np.testing.assert_allclose(c.prob_pred, prob_pred, rtol=1e-12)
    assert c.counts.sum() == y.size
    assert c.brier == pytest.approx(np.mean((p - y) ** 2))
    ax = lx.plots.plot_calibration(c)
    xy = _gid(ax, "calibration").get_xydata()
    np.testing.assert_allclose(xy, np.c_[prob_pred, prob_true])
    _png(ax, tmp_path / "calibration.png")


def test_calibration_errors():
    with pytest.raises(ValueError, match="binary"):
        lx.calibration_curve([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="probabilities"):
        lx.calibration_curve([0, 1], [0.1, 1.2])
    with pytest.raises(ValueError, match="same length"):
        lx.calibration_curve([0, 1], [0.1])
    with pytest.raises(ValueError, match="strategy"):
        lx.calibration_curve([0, 1], [0.1, 0.9], strategy="equal")


# ----- distributions -----------------------------------------------------------------------
def test_distribution_continuous_vs_scipy(make_rng, tmp_path):
    x = make_rng(3).gamma(2.0, 1.5, 300)
    x_copy = x.copy()
    fit = lx.fit_distribution("gamma", x)
    d = lx.plots.distribution_check(fit)
    a, rate = float(fit.params["shape"]), float(fit.params["rate"])
    osm, osr = stats.probplot(x, dist=stats.gamma(a, scale=1 / rate), fit=False)
    np.testing.assert_allclose(d.theoretical, osm, rtol=1e-10)
    np.testing.assert_allclose(d.sample, osr)
    np.testing.assert_allclose(d.density, stats.gamma.pdf(d.grid, a, scale=1 / rate))
    assert not d.discrete
    fig = lx.plots.plot_distribution(fit, x)
    qq = _gid(fig.axes[1], "qq").get_xydata()
    np.testing.assert_allclose(qq, np.c_[osm, osr])
    _png(fig, tmp_path / "gamma.png")
    np.testing.assert_array_equal(x, x_copy)


def test_distribution_discrete_vs_scipy(make_rng, tmp_path):
    k = make_rng(4).poisson(3.0, 80)
    fit = lx.fit_distribution("poisson", k)
    d = lx.plots.distribution_check(fit)
    lam = float(fit.params["rate"])
    osm, _ = stats.probplot(k, dist=stats.poisson(lam), fit=False)
    np.testing.assert_allclose(d.theoretical, osm)
    assert d.discrete and np.all(d.grid == np.round(d.grid))
    np.testing.assert_allclose(d.density, stats.poisson.pmf(d.grid, lam))
    fig = lx.plots.plot_distribution(d)
    np.testing.assert_allclose(_gid(fig.axes[0], "density").get_ydata(), d.density)
    _png(fig, tmp_path / "poisson.png")
    with pytest.raises(ValueError, match="fit_distribution"):
        lx.plots.distribution_check(lx.fit(_regression, {"a": 0.0, "b": 0.0, "sigma": 1.0},
                                           {"x": np.r_[0.0, 1, 2], "y": np.r_[0.1, 1, 2.2]},
                                           constraints={"sigma": lx.constraints.positive}))  # fmt: skip


# ----- mixtures ----------------------------------------------------------------------------
def test_univariate_mixture_components(make_rng, tmp_path):
    rng = make_rng(5)
    # Same sizes as examples/gallery.py: the gallery test reuses the compiled EM.
    y = np.concatenate([rng.normal(0, 1, 200), rng.normal(5, 1, 120)])
    fit = lx.univariate_mixture(y, 2, "normal", starts=3)
    m = lx.plots.mixture_density(fit, y)
    w, mu, sd = (np.asarray(fit.params[k]) for k in ("weights", "mean", "sd"))
    ref = w[:, None] * stats.norm.pdf(m.grid[None, :], mu[:, None], sd[:, None])
    np.testing.assert_allclose(m.components, ref, rtol=1e-12)
    np.testing.assert_allclose(m.total, ref.sum(0))
    ax = lx.plots.plot_mixture(fit, y)
    np.testing.assert_allclose(_gid(ax, "component-1").get_ydata(), ref[1])
    _png(ax, tmp_path / "mixture.png")
    # EM then Newton: the trace shows both, EM first.
    t = lx.plots.optimizer_trace(fit)
    assert t.em_loglik.size > 1 and t.loglik[-1] == pytest.approx(float(fit.loglik))
    _png(lx.plots.plot_trace(fit), tmp_path / "trace_em.png")


def test_gaussian_mixture_2d(make_rng, tmp_path):
    rng = make_rng(6)
    pts = np.concatenate(
        [rng.normal([0, 0], 1, (150, 2)), rng.normal([5, 4], 0.7, (100, 2))]
    )
    fit = lx.gaussian_mixture(pts, 2, starts=3)
    m = lx.plots.mixture_density(fit, pts)
    np.testing.assert_allclose(m.covs, np.asarray(fit.params["cov"]))
    ax = lx.plots.plot_mixture(fit, pts)
    e = _gid(ax, "component-0").get_xydata() - m.means[0]
    q = np.einsum("ni,ij,nj->n", e, np.linalg.inv(m.covs[0]), e)
    np.testing.assert_allclose(q, stats.chi2.ppf(0.95, 2), rtol=1e-8)
    _png(ax, tmp_path / "gmm.png")


# ----- optional dependency, gallery ---------------------------------------------------------
def test_without_matplotlib_says_how_to_install(monkeypatch, logit):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install likelihax\[plot\]"):
        lx.plots.plot_forest(logit[0])
    # The compute functions need no matplotlib.
    assert lx.plots.forest_table(logit[0]).labels == ["intercept", "beta[0]", "beta[1]"]


def _luminance(color) -> float:
    """WCAG relative luminance of a matplotlib colour."""
    rgb = np.asarray(matplotlib.colors.to_rgb(color))
    lin = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(lin @ np.array([0.2126, 0.7152, 0.0722]))


def _contrast(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _handle_colors(handle) -> list:
    """The colours a legend handle draws: line, markers, outlines, fills."""
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    out = []
    if isinstance(handle, Line2D):
        if handle.get_linestyle() not in ("None", "none", "", " "):
            out.append(handle.get_color())
        if handle.get_marker() not in ("None", "none", "", " ", None):
            out += [handle.get_markerfacecolor(), handle.get_markeredgecolor()]
    elif isinstance(handle, Patch):
        out.append(handle.get_facecolor())
        if handle.get_linewidth() > 0:
            out.append(handle.get_edgecolor())
    elif isinstance(handle, Collection):
        out += list(handle.get_facecolors()) + list(handle.get_edgecolors())
    for effect in handle.get_path_effects():  # e.g. a dark outline (Stroke)
        fg = getattr(effect, "_gc", {}).get("foreground")
        if fg is not None:
            out.append(fg)
    return [c for c in out if not isinstance(c, str) or c.lower() != "none"]


def _check_legends(fig) -> int:
    """Every legend entry has a colour that stands out from the legend box."""
    n = 0
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_frame().get_facecolor()
        for handle, text in zip(legend.legend_handles, legend.get_texts()):
            colors = _handle_colors(handle)
            best = max((_contrast(c, box) for c in colors), default=1.0)
            assert best >= 1.5, (
                f"legend entry {text.get_text()!r} is invisible on its legend box "
                f"(colours {colors}, box {box})"
            )
            n += 1
    return n


def test_gallery_renders_every_plot(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "gallery", ROOT / "examples" / "gallery.py"
    )
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    entries = []
    savefig = matplotlib.figure.Figure.savefig

    def checked_savefig(fig, *args, **kwargs):
        entries.append(_check_legends(fig))
        return savefig(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", checked_savefig)
    files = gallery.render(tmp_path)
    assert len(files) == 11
    for f in files:
        assert f.parent == tmp_path and f.read_bytes()[:8] == PNG
    assert len(entries) == 11 and sum(entries) >= 15  # every figure's legend checked


def test_contour_wald_entry_is_visible_in_the_legend(reg):
    fit = reg[0]
    ax = lx.plots.plot_contour(lx.loglik_surface(fit, "a", "b", grid=9))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Wald 95%" in labels
    assert _check_legends(ax.figure) == len(labels)


# ----- more references ----------------------------------------------------------------------
_FAMILY_PARAMS = {
    "normal": {"mu": 0.3, "sigma": 1.7},
    "lognormal": {"mu": 0.2, "sigma": 0.6},
    "exponential": {"rate": 1.3},
    "gamma": {"shape": 2.2, "rate": 0.7},
    "weibull": {"shape": 1.6, "scale": 2.1},
    "beta": {"a": 2.5, "b": 1.5},
    "student_t": {"loc": 0.4, "scale": 1.2, "df": 4.5},
    "logistic": {"loc": -0.3, "scale": 0.8},
    "gumbel": {"loc": 0.5, "scale": 1.4},
    "pareto": {"shape": 2.5, "scale": 1.2},
    "poisson": {"rate": 3.4},
    "binomial": {"prob": 0.35},
    "negbin": {"size": 2.3, "mu": 4.1},
    "geometric": {"prob": 0.3},
}


@pytest.mark.parametrize("name", sorted(_FAMILY_PARAMS))
def test_scipy_distribution_matches_family_density(name):
    """The scipy distribution behind the QQ points is the family's own density."""
    from likelihax.models.distributions import FAMILIES
    from likelihax.plots._compute import _scipy_dist

    p = _FAMILY_PARAMS[name]
    data = {"trials": np.full(5, 9.0)}
    dist = _scipy_dist(name, p, data)
    fam = FAMILIES[name]
    x = dist.ppf(np.array([0.1, 0.3, 0.5, 0.7, 0.9]))
    with x64_scope():
        d = {"x": jnp.asarray(x), "trials": jnp.full(5, 9.0)}
        ours = np.asarray(fam.loglik({k: jnp.asarray(v) for k, v in p.items()}, d))
    assert ours.dtype == np.float64
    ref = dist.logpmf(x) if fam.discrete else dist.logpdf(x)
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)


def test_forest_of_glm_matches_statsmodels(logit):
    import statsmodels.api as sm

    _, X, y = logit
    g = lx.glm(y, X, family="binomial")
    ax = lx.plots.plot_forest(g)
    ref = sm.GLM(y, X, family=sm.families.Binomial()).fit().conf_int(0.05)
    segs = np.array(_gid(ax, "ci-0").get_segments())
    np.testing.assert_allclose(segs[:, 0, 0], ref[:, 0], rtol=1e-6)
    np.testing.assert_allclose(segs[:, 1, 0], ref[:, 1], rtol=1e-6)


def test_poisson_mixture_components(make_rng, tmp_path):
    rng = make_rng(7)
    y = np.concatenate([rng.poisson(1.0, 150), rng.poisson(7.0, 100)])
    fit = lx.poisson_mixture(y, 2, starts=2)
    m = lx.plots.mixture_density(fit, y)
    assert m.family == "poisson" and np.all(m.grid == np.arange(y.max() + 1))
    w, rate = np.asarray(fit.params["weights"]), np.asarray(fit.params["rate"])
    ref = w[:, None] * stats.poisson.pmf(m.grid[None, :], rate[:, None])
    np.testing.assert_allclose(m.components, ref, rtol=1e-12)
    _png(lx.plots.plot_mixture(fit, y), tmp_path / "poisson_mixture.png")
