"""A rare positive class: plain logistic MLE, class weights and focal loss.

Simulated credit defaults (about 3% positives, n = 20,000, four features) are
fitted three ways; for each we print the coefficients with standard errors,
recall and precision of the rare class at the threshold 0.5, and calibration
(mean predicted probability against the observed rate, Brier score and a
10-bin reliability table).

Run:  python examples/imbalanced.py
"""

from __future__ import annotations

import math
import textwrap

import numpy as np

from likelihax.models.imbalance import (
    class_weights,
    focal_logit,
    predict_proba,
    weighted_logit,
)

COLUMNS = ["utilization", "late_payments", "income", "tenure"]
TRUE_BETA = np.array([1.2, 0.8, -0.5, -0.3])
TRUE_INTERCEPT = -4.3


def make_data(n: int = 20_000, seed: int = 2024):
    """Features (n, 4) and a 0/1 default indicator from a logistic model."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(COLUMNS)))
    p = 1.0 / (1.0 + np.exp(-(TRUE_INTERCEPT + X @ TRUE_BETA)))
    y = (rng.random(n) < p).astype(np.int64)
    return X, y


def classification(p, y, threshold=0.5):
    """Recall and precision of the positive class at ``threshold``."""
    pred = p >= threshold
    tp = int(np.sum(pred & (y == 1)))
    recall = tp / int(np.sum(y == 1))
    precision = tp / int(np.sum(pred)) if pred.any() else math.nan
    return recall, precision


def reliability_table(p, y, bins=10):
    """Rows (bin, count, mean predicted, observed rate) over equal-width bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        m = idx == b
        if m.any():
            rows.append(
                (edges[b], edges[b + 1], int(m.sum()), p[m].mean(), y[m].mean())
            )
        else:
            rows.append((edges[b], edges[b + 1], 0, math.nan, math.nan))
    return rows


def report(title, se_reason, fit, X, y):
    """Print the summary and the classification/calibration numbers."""
    print(f"=== {title} ===")
    print(textwrap.fill(f"Standard errors: {se_reason}.", 78))
    print(fit.summary())
    p = predict_proba(fit, X)
    recall, precision = classification(p, y)
    se_rate = math.sqrt(y.mean() * (1 - y.mean()) / y.size)
    print(f"recall (y=1, p >= 0.5):    {recall:.4f}")
    print(f"precision (y=1, p >= 0.5): {precision:.4f}")
    print(
        f"mean predicted {p.mean():.4f} vs observed rate {y.mean():.4f} "
        f"(difference {(p.mean() - y.mean()) / se_rate:+.1f} binomial SE)"
    )
    print(f"Brier score: {np.mean((p - y) ** 2):.5f}")
    print("Reliability table (equal-width bins of the predicted probability):")
    print(f"  {'bin':>11}  {'n':>6}  {'mean p':>7}  {'observed':>8}")
    for lo, hi, count, mp, obs in reliability_table(p, y):
        if count:
            print(f"  [{lo:.1f}, {hi:.1f})  {count:>6}  {mp:>7.4f}  {obs:>8.4f}")
        else:
            print(f"  [{lo:.1f}, {hi:.1f})  {count:>6}  {'-':>7}  {'-':>8}")
    print()
    return p, recall


def main():
    X, y = make_data()
    print(
        f"{y.size} observations, {int(y.sum())} positives "
        f"({100 * y.mean():.2f}%); true intercept {TRUE_INTERCEPT}, "
        f"slopes {TRUE_BETA.tolist()}\n"
    )
    plain = weighted_logit(y, X, class_weight=None, columns=COLUMNS)
    weighted = weighted_logit(y, X, class_weight="balanced", columns=COLUMNS)
    focal = focal_logit(y, X, gamma=2.0, columns=COLUMNS)

    p0, r0 = report(
        "plain logistic MLE",
        "inverse observed information (a correctly specified likelihood)",
        plain, X, y,
    )  # fmt: skip
    p1, r1 = report(
        "class-weighted ('balanced') logistic",
        "sandwich, because the class weights turn the objective into a weighted "
        "estimating equation, not the likelihood of the data",
        weighted, X, y,
    )  # fmt: skip
    p2, r2 = report(
        "focal loss (gamma = 2)",
        "sandwich, because minus the focal loss is an M-estimation objective, "
        "not a likelihood",
        focal, X, y,
    )  # fmt: skip

    w = class_weights(y)
    log_ratio = math.log(w[y == 1][0] / w[y == 0][0])
    shift = float(weighted.params["intercept"] - plain.params["intercept"])
    shrink = float(focal.params["utilization"] / plain.params["utilization"])
    print("What the numbers say")
    say(
        f"Plain MLE is calibrated: its mean predicted probability equals the "
        f"observed rate ({p0.mean():.4f} vs {y.mean():.4f}; the intercept's score "
        f"equation forces this), but at the threshold 0.5 it finds only "
        f"{100 * r0:.1f}% of the rare class."
    )
    say(
        f"Class weights raise that recall to {100 * r1:.1f}% at the cost of "
        f"calibration: the mean predicted probability is {p1.mean():.4f}, "
        f"{p1.mean() / y.mean():.1f} times the observed rate. The intercept moves "
        f"by {shift:.3f}, about log(w1/w0) = {log_ratio:.3f}, while the slopes "
        "barely change (for a correct logistic model the weighted fit is the "
        "same model with the log-odds shifted by log(w1/w0))."
    )
    say(
        f"Focal loss down-weights well-classified observations (most of them easy "
        f"negatives here). Its recall at 0.5 is {100 * r2:.1f}%, and it distorts "
        f"calibration too: the slopes shrink (utilization {shrink:.2f} times the "
        f"MLE), which pulls the probabilities towards the middle (mean "
        f"{p2.mean():.4f}; Brier score {np.mean((p2 - y) ** 2):.5f} against "
        f"{np.mean((p0 - y) ** 2):.5f} for plain MLE)."
    )
    say(
        "To trade precision for recall without losing calibration, keep the "
        "plain MLE and lower the threshold."
    )


def say(text):
    print(textwrap.fill(text, 78, initial_indent="* ", subsequent_indent="  "))


if __name__ == "__main__":
    main()
