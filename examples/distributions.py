"""Fitting distributions: maximum likelihood, method of moments, censored data.

Run:  python examples/distributions.py
"""

import numpy as np

import likelihax as lx

rng = np.random.default_rng(11)

# 1. Waiting times: gamma by maximum likelihood and by the method of moments.
waits = rng.gamma(shape=2.0, scale=1.5, size=300)
print(lx.compare_mle_mom("gamma", waits))
print()

# 2. Counts with extra zeros: a zero-inflated Poisson against a plain Poisson.
counts = np.where(rng.random(400) < 0.3, 0, rng.poisson(3.0, 400))
zip_fit = lx.fit_distribution("zip", counts)
poisson_fit = lx.fit_distribution("poisson", counts)
print(zip_fit.summary())
print(f"AIC: zero-inflated Poisson {float(zip_fit.aic):.1f}, "
      f"Poisson {float(poisson_fit.aic):.1f} (lower is better)\n")  # fmt: skip

# 3. Component lifetimes with right-censoring (the study ended before some failed).
life = 3.0 * rng.weibull(1.5, size=200)
end_of_study = rng.uniform(1.0, 6.0, size=200)
observed = np.minimum(life, end_of_study)
failed = life <= end_of_study
fit = lx.fit_distribution(
    "weibull", lower=observed, upper=np.where(failed, observed, np.inf)
)
print(fit.summary())
print(f"{(~failed).sum()} of {failed.size} lifetimes right-censored; "
      "ignoring censoring would bias the scale downwards:")  # fmt: skip
naive = lx.fit_distribution("weibull", observed)
print(f"  scale with censoring {float(fit.params['scale']):.3f}, "
      f"treating censored times as failures {float(naive.params['scale']):.3f}")  # fmt: skip
