"""The worked example and the teaching notebook run end to end.

* ``examples/quickstart.py`` runs in a fresh interpreter, exits 0, prints the
  three fit summaries and confirms the closed forms it checks itself.
* ``notebooks/01_likelihood_basics.ipynb`` executes without errors under
  nbclient; its last cell asserts that the fitted p-hat equals the sample mean
  and the SE equals sqrt(p(1-p)/n).
* ``examples/mlp_imbalance.py`` (an MLP trained by mini-batches) runs in this
  process, and its printed comparison supports the claims it makes.
"""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart.py"
NOTEBOOK = ROOT / "notebooks" / "01_likelihood_basics.ipynb"


def _env():
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")  # never open a window
    return env


def test_quickstart_runs_and_prints_three_summaries():
    proc = subprocess.run(
        [sys.executable, str(QUICKSTART)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    out = proc.stdout
    assert out.count("likelihax maximum-likelihood fit") == 3
    models = re.findall(r"^Model:\s+(\w+)", out, flags=re.MULTILINE)
    assert models == ["bernoulli", "normal", "logistic"]
    # one coefficient row per parameter, every fit converged
    labels = ("p", "mu", "sigma", "intercept", "beta[0]", "beta[1]", "beta[2]")
    rows = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert set(labels) <= rows, set(labels) - rows
    assert len(re.findall(r"Converged:\s+yes", out)) == 3
    # the script's own closed-form checks passed (it exits non-zero otherwise)
    assert out.count(" OK") == 4
    assert "MISMATCH" not in out


def test_notebook_executes_and_matches_closed_form():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # The committed notebook is clean: no outputs, no execution counts.
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None

    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError on any failing cell

    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    # Both figures were drawn, the summary was displayed as HTML.
    outputs = [o for c in code for o in c.outputs]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2
    html = [o.get("data", {}).get("text/html", "") for o in outputs]
    assert any("likelihax-summary" in h for h in html)
    # The last cell asserts p-hat == sample mean and SE == sqrt(p(1-p)/n).
    last = "".join(o.get("text", "") for o in code[-1].outputs)
    assert "OK: p-hat equals the sample mean" in last


def test_distributions_example_runs():
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "distributions.py")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "gamma: maximum likelihood vs method of moments" in out.stdout
    assert "zip" in out.stdout and "right-censored" in out.stdout
    assert out.stdout.count("Converged:                         yes") == 2


def test_multi_device_example_runs():
    """Two processes joined by jax.distributed, 4 devices: same fit as one device."""
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "multi_device.py")],
        capture_output=True, text=True, timeout=600, check=False, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "2 processes, 4 devices (2 per process)" in out.stdout
    assert "OK: the sharded fit equals the single-device fit" in out.stdout


def test_latent_ar1_example_runs():
    """A Poisson state-space model through lx.integrate, beside glmmTMB's ar1()."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "latent_ar1.py")],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    table = out.stdout.split("rel. diff", 1)[1].splitlines()
    rows = [ln.split() for ln in table if ln.startswith(("logLik", "mu "))]
    assert len(rows) == 2 and all(float(r[-1]) < 1e-6 for r in rows)  # relative


def test_latent_gmrf_example_runs(capsys):
    """A Poisson count per lattice site with a CAR field through lx.integrate, beside
    the dense Laplace approximation written in R."""
    runpy.run_path(str(ROOT / "examples" / "latent_gmrf.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "144 sites, 264 edges; latent pattern: 552 terms, 2 colours" in out
    table = out.split("rel. diff", 1)[1].splitlines()
    rows = {ln.split()[0]: float(ln.split()[-1]) for ln in table
            if ln.startswith(("logLik", "mu ", "tau ", "rho "))}  # fmt: skip
    assert len(rows) == 4 and rows["logLik"] < 1e-6 and max(rows.values()) < 1e-4  # relative
    assert "OK: log-likelihood, estimates, SE of mu and conditional modes agree with R" in out


def test_mlp_imbalance_example_runs_and_its_claims_hold(capsys):
    """An MLP trained by mini-batches three ways, beside the logistic regression."""
    runpy.run_path(str(ROOT / "examples" / "mlp_imbalance.py"), run_name="__main__")
    out = capsys.readouterr().out
    rows = {ln[:24].strip(): ln[24:].split() for ln in out.splitlines()
            if ln.startswith(("MLP, ", "logistic regression "))}  # fmt: skip
    assert len(rows) == 4
    loglik = {k: float(v[2]) for k, v in rows.items()}
    mean_p = {k: float(v[4]) for k, v in rows.items()}
    observed = float(out.split("(observed rate)", 1)[1].split()[0])
    # trained as a likelihood: the best held-out log-likelihood of the three MLPs,
    # and a mean prediction near the observed rate; class weights inflate it
    assert loglik["MLP, likelihood"] > max(loglik["MLP, class-weighted"],
                                           loglik["MLP, focal (gamma=2)"])  # fmt: skip
    assert abs(mean_p["MLP, likelihood"] - observed) < 0.25 * observed
    assert mean_p["MLP, class-weighted"] > 3 * observed
    assert mean_p["MLP, focal (gamma=2)"] > 2 * observed
    # the logistic regression converged with standard errors; the MLP has none
    assert "Converged:                         yes" in out
    assert "MLP (225 parameters): 0 finite standard errors" in out
    assert "not positive definite" in out or "The information has rank" in out
