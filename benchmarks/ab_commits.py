"""A/B benchmark of two versions of likelihax on the GLM workloads, interleaved.

Compares the speed of two versions of the engine on the small model of
``bench_latency.py`` (normal, 100 rows: its first call is compile time), and
the workloads of
``bench_glm.py`` (logistic N = 1e6, p = 20; Poisson N = 1e6, p = 10; NB2
N = 1e5, p = 5; same simulations and seeds), each fitted by ``lx.glm`` and by
the same model written as a custom log-likelihood through ``lx.fit`` (the
``bench_logistic.py`` fit for the logistic workload), with standard errors,
and the bootstrap of ``bench_bootstrap.py`` (1,000 replicates of the binomial
GLM on N = 1,000, p = 5).

Each version runs in its own fresh process (``likelihax`` imported from a git
worktree of the base commit, or from this checkout), and the processes
alternate A B A B ... for ``--rounds`` rounds, so both see the same drift of
the machine. In a process every method gets one untimed warm-up call (its
time, compilation included with JAX's persistent cache off, is reported as
"first call") and ``--repeats`` timed calls; the table shows, per method, the
median over rounds of each round's median, and the ratio B / A.

    python benchmarks/ab_commits.py --base HEAD~1            # this checkout vs HEAD~1
    python benchmarks/ab_commits.py --base a8f12ed --rounds 4 --workloads nb2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def child(tree: str, workloads: list[str], repeats: int, n_scale: float) -> dict:
    """Time every method of every workload with likelihax from ``tree``."""
    sys.path.insert(0, tree)
    sys.path.insert(1, str(HERE))
    import jax
    import numpy as np

    import likelihax as lx

    assert Path(lx.__file__).resolve().is_relative_to(Path(tree).resolve()), lx.__file__
    from bench_glm import WORKLOADS, likelihax_methods, make_data

    out, methods = {}, {}
    if "small" in workloads:  # bench_latency.py's model: compile-bound
        import jax.scipy.stats as st

        y_small = np.random.default_rng(0).normal(1.0, 2.0, 100)

        def normal(q, d):
            return st.norm.logpdf(d["y"], q["mu"], q["sigma"])

        def small():
            f = lx.fit(normal, {"mu": 0.0, "sigma": 1.0}, {"y": y_small},
                       constraints={"sigma": lx.constraints.positive})  # fmt: skip
            jax.block_until_ready((f.params, f.se))
            return f

        methods["small"] = [("normal, 100 rows (lx.fit)", small,
                              lambda f: {"params": [float(f.params["mu"])]})]  # fmt: skip
    if "bootstrap" in workloads:  # bench_bootstrap.py's default workload
        from bench_logistic import simulate

        Xs, yb, _ = simulate(1000, 5, 0)
        Xb = np.column_stack([np.ones(1000), Xs])

        def boot_fit():
            return lx.glm(yb, Xb, family="binomial")

        g = boot_fit()

        def boot():
            b = lx.bootstrap(g.fit, 1000, seed=1)
            jax.block_until_ready(b.replicates)
            return g

        methods["bootstrap"] = [
            ("lx.bootstrap(lx.glm binomial fit), 1,000 replicates", boot,
             lambda r: {"params": []}),
        ]  # fmt: skip
    for w in workloads:
        if w in ("small", "bootstrap"):
            _time(out, w, methods[w], repeats)
            continue
        n, p = WORKLOADS[w]
        X, Xc, y, _ = make_data(w, int(n * n_scale), p, seed=0)
        _time(out, w, likelihax_methods(lx, w, Xc, y), repeats)
        del X, Xc, y
        jax.clear_caches()
    return out


def _time(out: dict, workload: str, methods, repeats: int) -> None:
    """First call and ``repeats`` timed calls of each ``(name, run, extract)``."""
    import numpy as np

    for name, run, extract in methods:
        t0 = time.perf_counter()
        r = run()
        first = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        fit = getattr(r, "fit", r)
        out[f"{workload}: {name}"] = {
            "first": first, "median": statistics.median(times),
            "status": fit.status.name, "iters": int(np.asarray(fit.iterations)),
            "evals": int(np.asarray(fit.n_evals)),
            "params": np.asarray(extract(r)["params"]).tolist(),
        }  # fmt: skip


def worktree(base: str) -> str:
    path = tempfile.mkdtemp(prefix="likelihax-base-")
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", path, base],
                   check=True, capture_output=True)  # fmt: skip
    return path


def main(args) -> None:
    base = worktree(args.base)
    trees = {"A": base, "B": str(ROOT)}
    label = {"A": f"base {args.base}", "B": "the working tree"}
    env = dict(os.environ, LIKELIHAX_COMPILATION_CACHE="0")
    runs: dict[str, list] = {"A": [], "B": []}
    try:
        for r in range(args.rounds):
            for v in ("AB" if r % 2 == 0 else "BA"):
                cmd = [sys.executable, __file__, "--child", trees[v], "--workloads",
                       args.workloads, "--repeats", str(args.repeats),
                       "--n-scale", str(args.n_scale)]  # fmt: skip
                res = subprocess.run(cmd, env=env, check=True, capture_output=True,
                                     text=True)  # fmt: skip
                runs[v].append(json.loads(res.stdout.strip().splitlines()[-1]))
                print(f"round {r + 1} {label[v]}: done", file=sys.stderr)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", base],
                       capture_output=True)  # fmt: skip
    lines = [
        f"A = {label['A']}, B = {label['B']}; {args.rounds} rounds, processes "
        f"alternating, {args.repeats} timed calls each; medians over rounds of "
        "each round's median, seconds",
        "",
        "| method | A warm | B warm | B/A | A first call | B first call | "
        "evaluations A/B | status B |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key in runs["A"][0]:
        med = {v: statistics.median(x[key]["median"] for x in runs[v]) for v in "AB"}
        first = {v: statistics.median(x[key]["first"] for x in runs[v]) for v in "AB"}
        ev = f"{runs['A'][0][key]['evals']}/{runs['B'][0][key]['evals']}"
        lines.append(
            f"| {key} | {med['A']:.4f} | {med['B']:.4f} | {med['B'] / med['A']:.2f} | "
            f"{first['A']:.2f} | {first['B']:.2f} | {ev} | "
            f"{runs['B'][0][key]['status']} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.write_results:
        from bench_logistic import results_head, write_results

        cmd = " ".join(["python benchmarks/ab_commits.py"] + sys.argv[1:])
        write_results(f"## A/B: likelihax {args.base} against the working tree",
                      results_head(cmd) + table + "\n")  # fmt: skip


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default="HEAD~1", help="commit to compare with")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--workloads", default="small,logistic,poisson,nb2,bootstrap")
    ap.add_argument("--n-scale", type=float, default=1.0)
    ap.add_argument("--write-results", action="store_true",
                    help="write/replace this comparison's section in RESULTS.md")
    ap.add_argument("--child", metavar="TREE", help=argparse.SUPPRESS)
    a = ap.parse_args()
    sys.path.insert(0, str(HERE))
    if a.child:
        res = child(a.child, a.workloads.split(","), a.repeats, a.n_scale)
        print(json.dumps(res))
    else:
        main(a)
