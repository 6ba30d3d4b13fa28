"""Benchmark: profile-likelihood intervals for every parameter, together vs one by one.

What is measured
----------------
A 10-parameter logistic regression (intercept + 9 standard-normal covariates,
N = 2,000 by default, fixed seed) is fitted once with ``lx.fit``. Then the 95%
profile-likelihood intervals of all 10 parameters are computed

* together: ``lx.profile_ci(fit)``, where every endpoint of every parameter
  advances in the same batched (vmapped) engine call per root-finding round;
* one after another: ``lx.profile_ci(fit, which=label)`` for each label in a
  Python loop, the same engine and algorithm with a batch of 2 endpoints.

Both are warm (one untimed call first, so both programs are compiled); the
table shows medians over ``--repeats`` calls and the ratio. The intervals of
the two must agree (max relative difference printed). Target:
together at least 3x faster than one after another.

Rerun
-----
    python benchmarks/bench_profile.py                     # a few seconds
    python benchmarks/bench_profile.py --write-results     # update RESULTS.md
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_logistic import (  # noqa: E402
    BUSY_WARN,
    REPO_ROOT,
    RESULTS_PATH,
    _lx_provenance,
    loglik,
    machine_info,
    simulate,
    time_method,
    wait_until_quiet,
    write_results,
)

GOAL = 3.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="rows (default 2,000)")
    ap.add_argument("--p", type=int, default=9, help="covariates besides intercept")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS")
    ap.add_argument("--write-results", action="store_true")
    args = ap.parse_args(argv)

    import likelihax as lx

    X, y, _ = simulate(args.n, args.p, args.seed)
    data = {"X": X, "y": y}
    fit = lx.fit(loglik, {"intercept": 0.0, "beta": np.zeros(args.p)}, data)
    labels = fit.labels
    if args.wait_quiet:
        wait_until_quiet(args.wait_quiet)

    def together():
        return lx.profile_ci(fit)

    def one_by_one():
        return [lx.profile_ci(fit, which=lab) for lab in labels]

    t_all, first_all, ci_all, _, load_all = time_method(together, args.repeats)
    t_one, first_one, ci_one, _, load_one = time_method(one_by_one, args.repeats)
    lo1 = np.array([c.lower[0] for c in ci_one])
    hi1 = np.array([c.upper[0] for c in ci_one])
    diff = float(
        np.max(np.abs(np.r_[ci_all.lower - lo1, ci_all.upper - hi1])
               / np.abs(np.r_[lo1, hi1]))
    )  # fmt: skip
    m_all, m_one = statistics.median(t_all), statistics.median(t_one)
    ratio = m_one / m_all
    info = machine_info()
    rows = [
        ("together: lx.profile_ci(fit)", m_all, min(t_all), first_all, load_all),
        ("one by one: profile_ci(fit, which=label) x 10", m_one, min(t_one),
         first_one, load_one),
    ]  # fmt: skip
    md = [
        "| method | median s | min s | first call s | other CPU |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, med, mn, first, load in rows:
        md.append(f"| {name} | {med:.4f} | {mn:.4f} | {first:.3f} | {load:.0%} |")
    verdict = "PASS" if ratio >= GOAL else "FAIL"
    lines = [
        f"Profile intervals of all {len(labels)} parameters, logistic regression "
        f"N={args.n}, p={args.p}+1, warm medians of {args.repeats}:",
        *md,
        "",
        f"Ratio one-by-one / together: {ratio:.2f}x  [{verdict}] (goal >= {GOAL:g}x).",
        f"Intervals agree: max relative difference {diff:.1e}.",
    ]
    if max(load_all, load_one) > BUSY_WARN:
        lines.append("WARNING: the machine was busy; timings are unreliable.")
    print("\n".join(lines))
    if args.write_results:
        head = (
            f"Command: `python benchmarks/bench_profile.py --write-results`\n\n"
            f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC\n\n"
            f"Machine: {info['cpu']}, {info['cores']} cores; jax {info['jax']} "
            f"({info['jax_device']}); {_lx_provenance(lx)}.\n\n"
        )
        write_results(
            f"## Profile intervals, all parameters, N={args.n}, p={args.p}+1",
            head + "\n".join(lines) + "\n",
        )
        print(f"\nwrote {RESULTS_PATH.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
