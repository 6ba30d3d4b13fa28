"""Standard errors of the count models in high precision (mpmath), for the tests.

The log-likelihoods of the zero-inflated and hurdle Poisson and negative
binomial models, written out independently (mpmath, 50 digits), are
differentiated twice by central differences with step 1e-15 (truncation error
about 1e-30) at the estimates that tests/reference/count_models.R stored
("coef_exact", pscl's estimates polished by Newton steps); the SEs are the
square roots of the diagonal of the inverse negative Hessian. This is the
reference for standard errors at 1e-8 (numDeriv's SEs in that file are good to
1e-6 - 1e-5 only).

Run from the repository root (a few minutes):
    python tests/reference/count_models_se.py
Writes tests/reference/count_models_se.csv (model, term, value); terms as
count_models_results.csv, "logtheta" for log(theta) = -log(alpha).
"""

from __future__ import annotations

import csv
import multiprocessing
import pathlib

import pandas as pd

REF = pathlib.Path(__file__).resolve().parent
FULL = ["fem", "mar", "kid5", "phd", "ment"]
MODELS = {  # name: (kind, count regressors, zero regressors, negbin, offset)
    "zip_full": ("zeroinfl", FULL, FULL, False, False),
    "zinb": ("zeroinfl", FULL, ["ment"], True, False),
    "hp": ("hurdle", FULL, ["ment"], False, False),
    "hnb": ("hurdle", FULL, FULL, True, False),
    "zip_off": ("zeroinfl", ["fem", "ment"], ["ment"], False, True),
}


def loglik(name, par):
    import mpmath as mp

    data = pd.read_csv(REF / "count_models_data_biochemists.csv")
    kind, cx, cz, nb, off = MODELS[name]
    kx, kz = len(cx) + 1, len(cz) + 1
    b, g = par[:kx], par[kx : kx + kz]
    th = mp.exp(par[-1]) if nb else None
    total = mp.mpf(0)
    for _, row in data.iterrows():
        y = int(row.art)
        eta = b[0] + sum(b[j + 1] * mp.mpf(float(row[c])) for j, c in enumerate(cx))
        if off:
            eta += mp.log(mp.mpf(float(row.phd)))
        mu = mp.exp(eta)
        gz = g[0] + sum(g[j + 1] * mp.mpf(float(row[c])) for j, c in enumerate(cz))
        p = 1 / (1 + mp.exp(-gz))
        if nb:
            lf = (mp.loggamma(y + th) - mp.loggamma(th) - mp.loggamma(y + 1)
                  + th * mp.log(th / (th + mu)) + y * mp.log(mu / (th + mu)))  # fmt: skip
            f0 = (th / (th + mu)) ** th
        else:
            lf = y * eta - mu - mp.loggamma(y + 1)
            f0 = mp.exp(-mu)
        if kind == "zeroinfl":
            total += mp.log(p + (1 - p) * f0) if y == 0 else mp.log(1 - p) + lf
        else:
            total += mp.log(1 - p) if y == 0 else mp.log(p) + lf - mp.log(1 - f0)
    return total


def ses(name):
    import mpmath as mp  # a reference-only dependency, imported when run

    mp.mp.dps = 50
    res = pd.read_csv(REF / "count_models_results.csv")
    r = res[(res.model == name) & (res.kind == "coef_exact")]
    terms = list(r.term)
    x = [mp.mpf(repr(float(v))) for v in r.value]
    k, h = len(x), mp.mpf("1e-15")

    def f(dx):
        return loglik(name, [a + d for a, d in zip(x, dx)])

    H = mp.matrix(k, k)
    for i in range(k):
        for j in range(i, k):
            val = 0
            for si, sj, sign in ((1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)):
                dx = [mp.mpf(0)] * k
                dx[i] += si * h
                dx[j] += sj * h
                val += sign * f(dx)
            H[i, j] = H[j, i] = val / (4 * h * h)
    cov = -(H**-1)
    return [(name, t, mp.nstr(mp.sqrt(cov[i, i]), 17)) for i, t in enumerate(terms)]


if __name__ == "__main__":
    with multiprocessing.Pool(2) as pool:
        rows = [row for out in pool.map(ses, list(MODELS)) for row in out]
    with open(REF / "count_models_se.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["model", "term", "value"])
        w.writerows(rows)
    print(f"wrote {len(rows)} rows")
