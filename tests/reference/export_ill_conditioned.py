"""Write ``ill_conditioned_data.csv``: raw-calendar-year regressions (issue 18, item 1).

Deterministic (NumPy ``default_rng(18)``); the responses of four models on
raw years, whose designs ``1, year, year^2`` have scaled information condition
numbers from about 1e9 to 1e12. ``ill_conditioned.R`` fits them in R.

Run: ``python tests/reference/export_ill_conditioned.py``.
"""

from pathlib import Path

import numpy as np


def make():
    rng = np.random.default_rng(18)
    rows = []
    # (set, first year, last year, replicates per year)
    for name, lo, hi, k in [
        ("gauss_1950", 1950, 2010, 5),
        ("gauss_2000", 2000, 2010, 20),
        ("pois_1980", 1980, 2010, 8),
        ("logit_1990", 1990, 2010, 30),
        ("nls_1980", 1980, 2010, 6),
    ]:
        year = np.repeat(np.arange(lo, hi + 1), k).astype(float)
        t = (year - 0.5 * (lo + hi)) / (0.5 * (hi - lo))
        if name.startswith("gauss"):
            y = 1.0 + 0.5 * t - 0.8 * t**2 + rng.normal(0.0, 0.3, year.size)
        elif name.startswith("pois"):
            y = rng.poisson(np.exp(1.0 + 0.5 * t - 0.8 * t**2)).astype(float)
        elif name.startswith("logit"):
            p = 1.0 / (1.0 + np.exp(-(0.3 + 1.0 * t - 1.5 * t**2)))
            y = rng.binomial(1, p).astype(float)
        else:  # nonlinear least squares: y = exp(b0 + b1 year + b2 year^2) + noise
            y = np.exp(1.0 + 0.5 * t - 0.8 * t**2) + rng.normal(0.0, 0.2, year.size)
        rows += [(name, yr, v) for yr, v in zip(year, y)]
    return rows


if __name__ == "__main__":
    out = Path(__file__).with_name("ill_conditioned_data.csv")
    with out.open("w") as fh:
        fh.write("set,year,y\n")
        for name, yr, v in make():
            fh.write(f"{name},{yr:.0f},{float(v)!r}\n")
