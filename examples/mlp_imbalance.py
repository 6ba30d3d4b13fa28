"""A neural network as a likelihood: an MLP classifier for a rare class.

scikit-learn's ``make_classification`` draws 40,000 rows with 12 features and
a 2% positive class; half train, half are held out. A one-hidden-layer MLP
(12 -> 16 tanh units -> 1 logit; 225 parameters in a nested dict, the layout
of a Flax Linen parameter tree) is trained by mini-batches with
``lx.fit_stochastic`` three ways:

* as a likelihood (the Bernoulli log-likelihood of the logits),
* with "balanced" class weights (a weighted estimating equation),
* with the focal loss (gamma = 2; an M-estimation objective),

and compared on the held-out half: recall and precision of the rare class at
the threshold 0.5, held-out log-likelihood, Brier score and a reliability
table (mean predicted probability against observed rate, by deciles of the
prediction). A logistic regression on the same data comes last, with its
standard errors; the MLP's summary shows where that inference stops: its
information is not positive definite, so it has no standard errors, and the
summary says why.

Run:  python examples/mlp_imbalance.py
"""

from __future__ import annotations

import math
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import make_classification

import likelihax as lx
from likelihax.models.imbalance import predict_proba

N_FEATURES, HIDDEN, STEPS, BATCH = 12, 16, 1500, 256


def make_data(n: int = 40_000, seed: int = 0):
    """(train, test): dicts of features ``X`` (n/2, 12) and 0/1 labels ``y``."""
    X, y = make_classification(
        n_samples=n, n_features=N_FEATURES, n_informative=6, n_redundant=0,
        weights=[0.98], flip_y=0.01, class_sep=1.0, random_state=seed,
    )  # fmt: skip
    half = n // 2
    train = {"X": X[:half], "y": y[:half].astype(float)}
    test = {"X": X[half:], "y": y[half:].astype(float)}
    return train, test


def init_mlp(seed: int = 0) -> dict:
    """Starting weights, scaled by 1/sqrt(fan-in); zero biases."""
    k1, k2 = jax.random.split(jax.random.key(seed))
    w1 = jax.random.normal(k1, (N_FEATURES, HIDDEN)) / math.sqrt(N_FEATURES)
    w2 = jax.random.normal(k2, (HIDDEN,)) / math.sqrt(HIDDEN)
    return {
        "hidden": {"kernel": np.asarray(w1), "bias": np.zeros(HIDDEN)},
        "out": {"kernel": np.asarray(w2), "bias": 0.0},
    }


def logits(params, X):
    """The MLP: one tanh hidden layer, one logit per row."""
    h = jnp.tanh(X @ params["hidden"]["kernel"] + params["hidden"]["bias"])
    return h @ params["out"]["kernel"] + params["out"]["bias"]


def bernoulli(params, data):
    """Bernoulli log-likelihood of each row, from the logits."""
    eta = logits(params, data["X"])
    return data["y"] * eta - jnp.logaddexp(0.0, eta)


def minus_focal(params, data):
    """Minus the focal loss (gamma = 2) of each row: an M-estimation objective."""
    return -lx.focal_loss(logits(params, data["X"]), data["y"], gamma=2.0)


def train(objective, data, **fit_kwargs):
    """Adam on mini-batches (a cosine-decaying step), no Newton polish: the
    information and covariance are evaluated where the mini-batches stop."""
    adam = optax.adam(optax.cosine_decay_schedule(3e-2, STEPS))
    return lx.fit_stochastic(
        objective, init_mlp(), data, optimizer=adam, steps=STEPS,
        batch_size=BATCH, log_every=STEPS // 3, polish=False, warn=False,
        **fit_kwargs,
    )  # fmt: skip


def held_out(p, y, threshold: float = 0.5) -> dict:
    """Recall and precision at ``threshold``, mean log-likelihood, Brier score."""
    pred = p >= threshold
    tp = int(np.sum(pred & (y == 1)))
    q = np.clip(p, 1e-15, 1 - 1e-15)
    return {
        "recall": tp / int(np.sum(y == 1)),
        "precision": tp / int(pred.sum()) if pred.any() else math.nan,
        "loglik": float(np.mean(y * np.log(q) + (1 - y) * np.log1p(-q))),
        "brier": float(np.mean((p - y) ** 2)),
        "mean_p": float(p.mean()),
    }


def reliability(p, y, bins: int = 10):
    """(mean predicted, observed rate) in each decile of the predictions."""
    edges = np.quantile(p, np.linspace(0, 1, bins + 1))
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    return np.array([(p[idx == b].mean(), y[idx == b].mean()) for b in range(bins)
                     if np.any(idx == b)])  # fmt: skip


def fit_all(train_data):
    """The three MLPs and the logistic regression, fitted on ``train_data``."""
    weights = lx.class_weights(train_data["y"])
    fits = {
        "MLP, likelihood": train(bernoulli, train_data),
        "MLP, class-weighted": train(bernoulli, train_data, weights=weights,
                                     weight_type="importance"),  # fmt: skip
        "MLP, focal (gamma=2)": train(minus_focal, train_data, likelihood=False),
    }
    logit = lx.weighted_logit(train_data["y"], train_data["X"], class_weight=None)
    return fits, logit


def predictions(fits, logit, X) -> dict:
    """Held-out probabilities of every model."""
    with jax.enable_x64(True):  # float64, the precision of the fits
        probs = {k: np.asarray(jax.nn.sigmoid(logits(f.params, X))) for k, f in fits.items()}
    probs["logistic regression"] = predict_proba(logit, X)
    return probs


def say(text):
    print(textwrap.fill(text, 78, initial_indent="* ", subsequent_indent="  "))


def main():
    train_data, test = make_data()
    y = test["y"]
    print(f"train {train_data['y'].size} rows ({int(train_data['y'].sum())} positive), "
          f"test {y.size} rows ({int(y.sum())} positive)\n")  # fmt: skip
    fits, logit = fit_all(train_data)
    probs = predictions(fits, logit, test["X"])
    scores = {k: held_out(p, y) for k, p in probs.items()}
    print(f"{'held-out (threshold 0.5)':<24} {'recall':>7} {'precis.':>7} "
          f"{'loglik/row':>10} {'Brier':>8} {'mean p':>7}")  # fmt: skip
    for k, s in scores.items():
        print(f"{k:<24} {s['recall']:>7.3f} {s['precision']:>7.3f} {s['loglik']:>10.5f} "
              f"{s['brier']:>8.5f} {s['mean_p']:>7.4f}")  # fmt: skip
    print(f"{'(observed rate)':<24} {'':>7} {'':>7} {'':>10} {'':>8} {y.mean():>7.4f}\n")
    print("Reliability by deciles of the prediction (mean predicted -> observed):")
    for k, p in probs.items():
        pairs = " ".join(f"{a:.3f}->{b:.3f}" for a, b in reliability(p, y)[-3:])
        print(f"  {k:<24} top three deciles: {pairs}")
    print()
    print(logit.summary())
    mlp = fits["MLP, likelihood"].fit
    finite = int(np.isfinite(np.asarray(mlp.se_flat)).sum())
    print(f"\nMLP ({mlp.n_params} parameters): {finite} finite standard errors; "
          "the summary's notes:")  # fmt: skip
    for note in mlp.summary().notes:
        print(textwrap.fill("Note: " + note, 78, subsequent_indent="      "))
    print("\nWhat the numbers say")
    lik, wtd, foc = (scores[k] for k in fits)
    say(f"Trained as a likelihood, the MLP's mean predicted probability is "
        f"{lik['mean_p']:.4f} against an observed rate of {y.mean():.4f}; at the "
        f"threshold 0.5 it finds {100 * lik['recall']:.1f}% of the rare class.")
    say(f"Class weights raise that recall to {100 * wtd['recall']:.1f}% (precision "
        f"{wtd['precision']:.3f}), focal loss gives {100 * foc['recall']:.1f}%; both "
        f"give up calibration (mean predicted {wtd['mean_p']:.4f} and "
        f"{foc['mean_p']:.4f}) and held-out log-likelihood ({wtd['loglik']:.4f} and "
        f"{foc['loglik']:.4f} per row, against {lik['loglik']:.4f}).")
    say(f"The logistic regression scores {scores['logistic regression']['loglik']:.4f} "
        "per row on held-out data and has standard errors; the MLP has none: its "
        "parameters are not identified (its hidden units can be permuted, and the "
        "signs of a tanh unit's weights flipped, without changing the likelihood), "
        "and where the mini-batches stop its information is not positive definite, "
        "as its summary says.")


if __name__ == "__main__":
    main()
