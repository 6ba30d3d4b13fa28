"""Render every likelihax plot for small generated data.

Usage::

    python examples/gallery.py [outdir]      # default: docs/img/

Writes one PNG per plot (dpi 80) and prints their names. Each plot draws what a
compute function returned (``lx.profile``, ``lx.loglik_surface``,
``lx.calibration_curve``, ...); see :mod:`likelihax.plots`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window

import jax.numpy as jnp
import jax.scipy.stats as st
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import likelihax as lx

DPI = 80


def _regression(p, d):
    mu = p["intercept"] + p["slope"] * d["x"]
    return st.norm.logpdf(d["y"], mu, p["sigma"])


def _logit(p, d):
    eta = p["intercept"] + d["X"] @ p["beta"]
    return d["y"] * eta - jnp.logaddexp(0.0, eta)


def _save(obj, path: Path) -> Path:
    fig = obj if isinstance(obj, matplotlib.figure.Figure) else obj.figure
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def render(outdir: str | Path = "docs/img") -> list[Path]:
    """Render the gallery into ``outdir``; returns the written files."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    files = []

    # Linear regression with normal errors: profile, contour, trace, forest.
    x = rng.uniform(-2, 2, 60)
    y = 1.0 + 0.8 * x + rng.normal(0, 0.7, 60)
    reg = lx.fit(_regression, {"intercept": 0.0, "slope": 0.0, "sigma": 1.0},
                 {"x": x, "y": y}, constraints={"sigma": lx.constraints.positive})  # fmt: skip
    prof = lx.profile(reg, "sigma", n_points=21)
    ci = lx.profile_ci(reg, "sigma")
    files.append(_save(lx.plots.plot_profile(prof, ci=ci), out / "profile.png"))
    surf = lx.loglik_surface(reg, "intercept", "slope", grid=31, profile=True)
    files.append(_save(lx.plots.plot_contour(surf), out / "contour.png"))
    files.append(_save(lx.plots.plot_trace(reg), out / "trace.png"))

    # Logistic regression: forest plot of two fits, calibration curve.
    X = rng.normal(size=(400, 3))
    eta = -0.5 + X @ np.array([1.0, -0.7, 0.0])
    yb = (rng.uniform(size=400) < 1 / (1 + np.exp(-eta))).astype(float)
    start = {"intercept": 0.0, "beta": np.zeros(3)}
    full = lx.fit(_logit, start, {"X": X, "y": yb})
    half = lx.fit(_logit, start, {"X": X[:200], "y": yb[:200]})
    files.append(_save(lx.plots.plot_forest([full, half], names=["n=400", "n=200"]),
                       out / "forest.png"))  # fmt: skip
    p_hat = 1 / (1 + np.exp(-(full.params["intercept"] + X @ full.params["beta"])))
    curve = lx.calibration_curve(yb, p_hat, bins=8)
    files.append(_save(lx.plots.plot_calibration(curve), out / "calibration.png"))
    # The same model as a GLM: predicted probability over x0 (others at their means).
    glm = lx.glm(yb, np.column_stack([np.ones(400), X]), family="binomial",
                 columns=["const", "x0", "x1", "x2"])  # fmt: skip
    ax = lx.plot_predictions(glm, "x0", ci_scale="link")
    ax.set_ylabel("P(y = 1), 95% band")
    files.append(_save(ax, out / "predictions.png"))

    # Distribution fits: continuous and discrete.
    g = rng.gamma(2.5, 1.2, 300)
    files.append(_save(lx.plots.plot_distribution(lx.fit_distribution("gamma", g)),
                       out / "distribution_gamma.png"))  # fmt: skip
    k = rng.negative_binomial(3, 0.4, 300)
    files.append(_save(lx.plots.plot_distribution(lx.fit_distribution("negbin", k)),
                       out / "distribution_negbin.png"))  # fmt: skip

    # Mixtures: univariate normal and a 2-D Gaussian mixture.
    m = np.concatenate([rng.normal(0, 1, 200), rng.normal(4, 0.8, 120)])
    mix = lx.univariate_mixture(m, 2, "normal", starts=3)
    files.append(_save(lx.plots.plot_mixture(mix, m), out / "mixture.png"))
    pts = np.concatenate([rng.normal([0, 0], 1, (150, 2)),
                          rng.normal([4, 3], [1.0, 0.5], (100, 2))])  # fmt: skip
    gmm = lx.gaussian_mixture(pts, 2, starts=3)
    files.append(_save(lx.plots.plot_mixture(gmm, pts), out / "mixture_2d.png"))
    files += _counts(out)
    return files


def _counts(out: Path) -> list[Path]:
    """Quantile residuals of the README's overdispersed counts: Poisson and NB2 fits."""
    rng = np.random.default_rng(2)  # the README's data
    df = pd.DataFrame({"x": rng.normal(size=500), "t": rng.uniform(1, 3, size=500)})
    mu = df["t"] * np.exp(0.2 + 0.5 * df["x"])
    df["y"] = rng.poisson(rng.gamma(2.0, mu / 2.0))
    pois = lx.glm("y ~ x", df, family="poisson", exposure="t")
    nb = lx.glm("y ~ x", df, family="nb2", exposure="t")
    # QQ plot and residuals vs fitted, one row per fit.
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.4))
    for row, (name, fit) in zip(axes, [("Poisson", pois), ("negative binomial", nb)]):
        lx.plot_residuals(fit, axes=row)
        for ax in row:
            ax.set_title(f"{name}: {ax.get_title()}")
    fig.tight_layout()
    return [_save(fig, out / "residuals.png")]


if __name__ == "__main__":
    for f in render(sys.argv[1] if len(sys.argv) > 1 else "docs/img"):
        print(f)
