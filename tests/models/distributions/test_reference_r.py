"""Distribution fits against R MASS::fitdistr (numbers made by tests/reference/fitdistr.R).

R is not needed to run this test: the script's output is committed beside it
(R 4.2.2, MASS 7.3-58.2). fitdistr's closed-form families are exact; the others
come from BFGS (reltol 1e-15) with SEs from optim's finite-difference Hessian,
so those references carry about 1e-5 relative error, and likelihax must reach
at least R's log-likelihood.
"""

import csv
import pathlib

import numpy as np
import pytest

import likelihax as lx

REF = pathlib.Path(__file__).resolve().parents[2] / "reference"
NAMES = {"mean": "mu", "sd": "sigma", "meanlog": "mu", "sdlog": "sigma",
         "lambda": "rate", "location": "loc", "m": "loc", "s": "scale"}  # fmt: skip
CLOSED = {"normal", "lognormal", "exponential", "poisson", "geometric"}


def _load():
    with open(REF / "fitdistr_data.csv") as f:
        rows = list(csv.DictReader(f))
    data = {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}
    with open(REF / "fitdistr_results.csv") as f:
        results = list(csv.DictReader(f))
    return data, results


DATA, RESULTS = _load()


@pytest.mark.parametrize("family", sorted({r["family"] for r in RESULTS}))
def test_fitdistr(family):
    fit = lx.fit_distribution(family, DATA[family])
    assert fit.converged
    rows = [r for r in RESULTS if r["family"] == family]
    ll_r = float(rows[0]["loglik"])
    if family in CLOSED:
        assert float(fit.loglik) == pytest.approx(ll_r, rel=1e-12)
        rtol_est, rtol_se = 1e-10, 1e-6
    else:
        assert float(fit.loglik) >= ll_r - 1e-9
        assert float(fit.loglik) == pytest.approx(ll_r, rel=1e-9)
        rtol_est, rtol_se = 1e-5, 2e-5
    for r in rows:
        name = NAMES.get(r["param"], r["param"])
        assert float(fit.params[name]) == pytest.approx(
            float(r["estimate"]), rel=rtol_est
        )
        assert float(fit.se[name]) == pytest.approx(float(r["se"]), rel=rtol_se)
