"""likelihax quickstart: three maximum-likelihood fits on simulated data.

Run it with

    pip install -e ".[examples]" && python examples/quickstart.py

A model is a plain JAX function ``loglik(params, data)`` that returns one
log-likelihood value per observation. ``lx.fit`` maximizes the sum, and reports
estimates with standard errors from the observed Fisher information.

1. Bernoulli with an unknown probability p (closed form: the sample mean).
2. Normal with unknown mean and standard deviation (closed forms too).
3. Logistic regression with an intercept and three covariates.
"""

import jax
import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np

import likelihax as lx

rng = np.random.default_rng(2024)  # fixed seed: the output is reproducible


def check(name, got, expected, tol=1e-6):
    """Print a fitted value next to its closed form, and stop if they differ."""
    ok = abs(got - expected) <= tol * max(1.0, abs(expected))
    print(
        f"  {name:<30} fitted {got:.8f}   closed form {expected:.8f}   "
        f"{'OK' if ok else 'MISMATCH'}"
    )
    if not ok:
        raise SystemExit(f"{name}: fitted value differs from its closed form")


# ---------------------------------------------------------------------------
# 1. Bernoulli: y_i ~ Bernoulli(p), written out by hand
# ---------------------------------------------------------------------------
def bernoulli(params, data):
    p, y = params["p"], data["y"]
    # log P(y_i | p) = y_i log p + (1 - y_i) log(1 - p), one value per observation
    return y * jnp.log(p) + (1 - y) * jnp.log1p(-p)


y = rng.binomial(1, 0.3, size=200)
fit = lx.fit(
    bernoulli,
    {"p": 0.5},  # starting value
    {"y": y},  # data: a dict of arrays
    constraints={"p": lx.constraints.unit_interval},  # 0 < p < 1
)
print(fit.summary())

n, p_bar = y.size, y.mean()
print("\nBernoulli closed forms:")
check("p-hat = sample mean", float(fit.params["p"]), p_bar)
check("SE = sqrt(p(1-p)/n)", float(fit.se["p"]), np.sqrt(p_bar * (1 - p_bar) / n))
lower, upper = fit.conf_int(0.05)  # Wald interval, p-hat -/+ 1.96 SE
print(f"  95% Wald interval for p: [{float(lower['p']):.4f}, {float(upper['p']):.4f}]")


# ---------------------------------------------------------------------------
# 2. Normal: y_i ~ N(mu, sigma^2) with sigma > 0
# ---------------------------------------------------------------------------
def normal(params, data):
    return st.norm.logpdf(data["y"], params["mu"], params["sigma"])


x = rng.normal(loc=3.0, scale=1.5, size=500)
fit = lx.fit(
    normal,
    {"mu": 0.0, "sigma": 1.0},
    {"y": x},
    constraints={"sigma": lx.constraints.positive},
)
print("\n" + str(fit.summary()))

print("\nNormal closed forms (the MLE of sigma uses the biased, 1/n variance):")
check("mu-hat = sample mean", float(fit.params["mu"]), x.mean())
check("sigma-hat = sqrt(var, ddof=0)", float(fit.params["sigma"]), x.std(ddof=0))


# ---------------------------------------------------------------------------
# 3. Logistic regression: P(y_i = 1) = sigmoid(intercept + x_i' beta)
# ---------------------------------------------------------------------------
def logistic(params, data):
    eta = params["intercept"] + data["X"] @ params["beta"]
    # log P(y_i | eta_i), written stably: y log s(eta) + (1 - y) log s(-eta)
    y = data["y"]
    return y * jax.nn.log_sigmoid(eta) + (1 - y) * jax.nn.log_sigmoid(-eta)


n = 1000
X = rng.normal(size=(n, 3))
true_beta = np.array([1.0, -0.5, 0.25])
y = rng.binomial(1, 1 / (1 + np.exp(-(-0.5 + X @ true_beta))))

# Parameters can be arrays: "beta" is a vector, labelled beta[0], beta[1], beta[2].
# (Like every JAX pytree, a dict's keys are ordered alphabetically in the output.)
fit = lx.fit(logistic, {"intercept": 0.0, "beta": np.zeros(3)}, {"X": X, "y": y})
print("\n" + str(fit.summary()))
print("\nTrue values: intercept -0.5, beta", true_beta.tolist())
print("Estimates:", {k: np.round(v, 3).tolist() for k, v in fit.params.items()})
