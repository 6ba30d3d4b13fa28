"""Run the benchmark scripts one after another and update RESULTS.md.

One command::

    pip install -e ".[bench,big]" && python benchmarks/run_all.py

runs, each beside the competitors installed on this machine (missing ones are
skipped with a message by the scripts themselves):

=================  ==========================================================
bench_logistic     logistic regression N = 1e6, p = 20: custom log-likelihood
                   vs statsmodels, scikit-learn (lbfgs, newton-cholesky), glum;
                   cold start in fresh processes
bench_glm          logistic and Poisson GLMs at N = 1e6, NB2 at N = 1e5,
                   through the GLM API and as custom log-likelihoods
bench_bootstrap    1,000 bootstrap replicates of a logistic regression vs a
                   statsmodels loop
bench_profile      profile intervals of all 10 parameters, together vs one by one
bench_gmm          Gaussian mixture EM, N = 1e6, d = 2, K = 5 vs scikit-learn
bench_mixed        linear mixed model and Poisson GLMM vs lme4, glmmTMB,
                   statsmodels MixedLM
bench_latency      process start to first summary (small model), fresh processes
bench_chunked      exact logistic fit to N = 5e7 rows streamed from disk
=================  ==========================================================

Each script writes its own section of ``benchmarks/RESULTS.md``
(``--write-results``) with the date, machine and library versions, and
prints its targets as PASS/FAIL lines. Timings are medians over repeats on a
quiet machine (``--wait-quiet`` is passed to scripts that support it).

Options: ``--only bench_glm,bench_gmm`` runs a subset; ``--quick`` passes
small sizes for a smoke run (not written to RESULTS.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

SUITE = [
    ("bench_logistic", ["--wait-quiet", "60"], ["--n", "20000", "--repeats", "2"]),
    ("bench_glm", ["--wait-quiet", "60"], ["--n-scale", "0.02", "--repeats", "2"]),
    ("bench_bootstrap", ["--wait-quiet", "60"],
     ["--n-boot", "50", "--repeats", "1", "--sm-repeats", "1"]),
    ("bench_profile", ["--wait-quiet", "60"], ["--repeats", "2"]),
    ("bench_gmm", [], ["--n", "20000", "--repeats", "1", "--sk-repeats", "1"]),
    ("bench_mixed", [], ["--groups", "200", "--repeats", "1", "--sm-repeats", "1"]),
    ("bench_latency", ["--wait-quiet", "60"], ["--repeats", "2"]),
    ("bench_chunked", [], ["--n", "1000000", "--p", "5"]),
]


# Scripts that print their report but do not write RESULTS.md themselves: their
# output is recorded verbatim in a section of their own.
CAPTURED = {"bench_gmm", "bench_mixed"}


def _run_captured(name: str, script: Path, extra: list) -> int:
    import datetime

    sys.path.insert(0, str(HERE))
    from bench_logistic import _lx_provenance, machine_info, write_results

    proc = subprocess.run([sys.executable, str(script), *extra], capture_output=True,
                          text=True)  # fmt: skip
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr[-2000:])
    if proc.returncode == 0:
        import likelihax as lx

        info = machine_info()
        head = (
            f"Command: `python benchmarks/{name}.py {' '.join(extra)}` (output "
            f"recorded by `benchmarks/run_all.py`)\n\n"
            f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} "
            f"UTC\n\nMachine: {info['cpu']}, {info['cores']} cores; Python "
            f"{info['python']}, jax {info['jax']}; {_lx_provenance(lx)}\n\n"
        )
        write_results(f"## {name} (report as printed)",
                      head + "```\n" + proc.stdout.strip() + "\n```\n")  # fmt: skip
    return proc.returncode


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="comma-separated script names")
    ap.add_argument("--quick", action="store_true", help="small sizes, no RESULTS.md")
    args = ap.parse_args(argv)
    only = set(filter(None, args.only.split(",")))
    failed = []
    for name, full, quick in SUITE:
        if only and name not in only:
            continue
        script = HERE / f"{name}.py"
        if not script.exists():
            print(f"== {name}: not present, skipped", flush=True)
            continue
        if args.quick:
            if quick is None:
                print(f"== {name}: no quick mode, skipped", flush=True)
                continue
            extra = quick
        else:
            extra = [*full] + ([] if name in CAPTURED else ["--write-results"])
        print(f"== {name} {' '.join(extra)}", flush=True)
        t = time.perf_counter()
        if name in CAPTURED and not args.quick:
            rc = _run_captured(name, script, extra)
        else:
            rc = subprocess.call([sys.executable, str(script), *extra])
        print(f"== {name}: exit {rc} after {time.perf_counter() - t:.0f} s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
