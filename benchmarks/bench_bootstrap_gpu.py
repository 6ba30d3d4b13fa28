"""Benchmark: B = 100,000 nonparametric bootstrap replicates on a GPU.

A logistic regression (N = 1,000, p = 5 plus intercept, seed 0) fitted with
``lx.glm`` and as a custom log-likelihood; ``lx.bootstrap(fit, B)`` timed warm
(median of ``--repeats`` after one untimed call) for B = 1,000 and B = 100,000,
with the time per replicate. For scale, a statsmodels ``Logit`` loop over 1,000
of the same kind of resamples on the host CPU is timed and its time per
replicate extrapolated to 100,000 (it is linear in B).

    python benchmarks/bench_bootstrap_gpu.py            # on a machine with a GPU
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--big", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    import jax
    import jax.numpy as jnp

    import likelihax as lx

    dev = jax.devices()[0]
    print(f"JAX {jax.__version__} on {dev.platform}: {dev.device_kind}", flush=True)
    rng = np.random.default_rng(0)
    n, p = 1000, 5
    X = rng.standard_normal((n, p))
    beta = rng.uniform(-0.5, 0.5, p)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.2 + X @ beta)))).astype(float)

    def logit(params, data):
        eta = params["a"] + data["X"] @ params["b"]
        return data["y"] * eta - jnp.logaddexp(0.0, eta)

    fits = {
        "lx.glm": lx.glm(y, np.column_stack([np.ones(n), X]), family="binomial").fit,
        "custom loglik": lx.fit(logit, {"a": 0.0, "b": np.zeros(p)}, {"X": X, "y": y}),
    }
    rows = []
    for name, f in fits.items():
        for B in (1000, args.big):
            t = time.perf_counter()
            r = lx.bootstrap(f, B, seed=1)
            first = time.perf_counter() - t
            ts = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                r = lx.bootstrap(f, B, seed=1)
                ts.append(time.perf_counter() - t)
            med = statistics.median(ts)
            rows.append((name, B, med, first, r.n_failed if hasattr(r, "n_failed") else "",
                         np.asarray(r.se)[:2]))
            print(f"{name:14s} B={B:7d}  warm median {med:8.3f} s  "
                  f"({1e6 * med / B:7.1f} us/replicate)  first call {first:6.2f} s  "
                  f"se[:2] {np.asarray(r.se)[:2]}", flush=True)
    try:
        import statsmodels.api as sm

        Xc = sm.add_constant(X)
        W = rng.multinomial(n, np.full(n, 1 / n), size=1000)
        t = time.perf_counter()
        for w in W:
            idx = np.repeat(np.arange(n), w)
            res = sm.Logit(y[idx], Xc[idx]).fit(disp=0)
            _ = res.params
        sm_s = time.perf_counter() - t
        print(f"statsmodels Logit loop, B=1000 on the host CPU: {sm_s:.2f} s "
              f"({1e6 * sm_s / 1000:.0f} us/replicate; {sm_s * args.big / 1000:.0f} s "
              f"extrapolated to B={args.big})", flush=True)
        for name, B, med, *_ in rows:
            print(f"ratio statsmodels/likelihax per replicate, {name}, B={B}: "
                  f"{(sm_s / 1000) / (med / B):.0f}x")
    except ImportError:
        print("statsmodels not installed: no host reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
