"""lx.plot_residuals draws the quantile residuals it is given (QQ and vs fitted)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.stats as ss  # noqa: E402

import likelihax as lx  # noqa: E402


def _points(ax, gid):
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == gid]
    return np.asarray(line.get_xdata()), np.asarray(line.get_ydata())


def test_plot_residuals_draws_the_record(make_rng):
    rng = make_rng(61)
    x = rng.normal(size=150)
    y = rng.poisson(np.exp(0.3 + 0.5 * x))
    r = lx.glm(y, np.column_stack([np.ones(150), x]), family="poisson")
    res = lx.quantile_residuals(r)
    fig = lx.plot_residuals(res)
    ax_qq, ax_rf = fig.axes
    tx, ty = _points(ax_qq, "qq-points")
    np.testing.assert_allclose(ty, np.sort(res.residuals))
    np.testing.assert_allclose(tx, ss.norm.ppf((np.arange(1, 151) - 0.5) / 150))
    fx, fy = _points(ax_rf, "resid-points")
    np.testing.assert_allclose(fx, r.fitted)
    np.testing.assert_allclose(fy, res.residuals)
    plt.close(fig)
    # from the model result, on the uniform scale, into given axes
    fig, axes = plt.subplots(1, 2)
    assert lx.plot_residuals(r, scale="uniform", axes=axes) is fig
    np.testing.assert_allclose(_points(axes[0], "qq-points")[1], np.sort(res.uniform))
    plt.close(fig)
    with pytest.raises(ValueError, match="scale must be"):
        lx.plot_residuals(res, scale="log")
