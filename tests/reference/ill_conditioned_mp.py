"""50-digit maximum-likelihood solutions of ``ill_conditioned_data.csv``.

An independent check of R's numbers in ``ill_conditioned_results.csv`` (which
agree with these to 1e-10 in the estimates, 1e-10 in the GLM standard errors),
and the reference for the standard errors of the nonlinear model, where R's
``solve`` of the observed information carries a rounding error of about 2e-5.
Newton's method in ``mpmath`` at 50 significant digits from R's estimates,
until the step is below 1e-40 relative; standard errors from the inverse
information (the expected one times R's dispersion ``RSS / (n - 3)`` for the
Gaussian GLMs; the observed one of the coefficients at ``sigma^2 = RSS / n``
for the nonlinear model). Writes ``ill_conditioned_mp.csv``.

Run: ``python tests/reference/ill_conditioned_mp.py`` (needs mpmath).
"""

import csv
from pathlib import Path

try:  # needed only to run the script (the test suite imports it for doctests)
    import mpmath as mp
except ImportError:  # pragma: no cover
    mp = None

HERE = Path(__file__).parent
TERMS = ["(Intercept)", "year", "I(year^2)"]
KIND = {"gauss": "gaussian", "pois": "poisson", "logit": "binomial", "nls": "nls"}


def _terms(kind, y, eta):
    """Per-observation (log-likelihood kernel, score factor, information factor)."""
    if kind == "gaussian":
        return -((y - eta) ** 2) / 2, y - eta, mp.mpf(1)
    if kind == "nls":
        mu = mp.exp(eta)
        return -((y - mu) ** 2) / 2, (y - mu) * mu, mu * mu - (y - mu) * mu
    if kind == "poisson":
        mu = mp.exp(eta)
        return y * eta - mu, y - mu, mu
    p = 1 / (1 + mp.exp(-eta))
    return y * eta - mp.log(1 + mp.exp(eta)), y - p, p * (1 - p)


def solve(rows, kind, b):
    b = [mp.mpf(v) for v in b]
    for _ in range(50):
        g, H, ll = mp.matrix(3, 1), mp.matrix(3, 3), mp.mpf(0)
        for yr, y in rows:
            x = [mp.mpf(1), yr, yr**2]
            t, s, w = _terms(kind, y, b[0] + b[1] * yr + b[2] * yr**2)
            ll += t
            for j in range(3):
                g[j] += s * x[j]
                for k in range(3):
                    H[j, k] += w * x[j] * x[k]
        step = mp.lu_solve(H, g)
        if max(abs(step[j] / b[j]) for j in range(3)) < mp.mpf(10) ** -40:
            return b, H, ll
        b = [b[j] + step[j] for j in range(3)]
    raise RuntimeError("no convergence")


def main():
    mp.mp.dps = 50
    data = list(csv.DictReader((HERE / "ill_conditioned_data.csv").open()))
    ref = {(r["set"], r["term"], r["kind"]): r["value"]
           for r in csv.DictReader((HERE / "ill_conditioned_results.csv").open())}
    out = []
    for name in dict.fromkeys(r["set"] for r in data):
        kind = KIND[name.split("_")[0]]
        rows = [(mp.mpf(r["year"]), mp.mpf(r["y"])) for r in data if r["set"] == name]
        n = len(rows)
        b, H, ll = solve(rows, kind, [ref[(name, t, "estimate")] for t in TERMS])
        V = mp.inverse(H)
        if kind in ("gaussian", "nls"):
            rss = -2 * ll
            s2 = rss / n
            V = V * (rss / (n - 3) if kind == "gaussian" else s2)
            ll = -n / 2 * (mp.log(2 * mp.pi * s2) + 1)
            if kind == "nls":
                out += [(name, "sigma", "estimate", mp.sqrt(s2)),
                        (name, "sigma", "se", mp.sqrt(s2 / (2 * n)))]
        elif kind == "poisson":
            ll -= sum(mp.loggamma(y + 1) for _, y in rows)
        for j, t in enumerate(TERMS):
            out += [(name, t, "estimate", b[j]), (name, t, "se", mp.sqrt(V[j, j]))]
        out.append((name, "", "loglik", ll))
    with (HERE / "ill_conditioned_mp.csv").open("w") as fh:
        fh.write("set,term,kind,value\n")
        for name, term, kind, v in out:
            fh.write(f"{name},{term},{kind},{mp.nstr(v, 25)}\n")


if __name__ == "__main__":
    main()
