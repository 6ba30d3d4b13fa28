"""Every teaching notebook in ``notebooks/`` executes end to end.

Notebook 01 has its own, more detailed test in ``test_examples.py``. The other
notebooks carry their checks in their last cells: each ends with ``assert``
statements against closed forms or independent references (scipy, statsmodels,
scikit-learn) and prints a line starting with ``OK:`` per check. This test

* requires the committed notebook to be clean (no outputs, no execution counts),
* executes it with nbclient in a fresh kernel (any failing cell fails the test),
* requires at least one ``OK:`` line, at least one drawn figure, and no error output.

The per-notebook wall time is printed (``pytest -s``); the issue's budget is
60 s per notebook on 2 CPU cores. The cell timeout below is a hang guard, not a
performance test.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(
    p for p in (ROOT / "notebooks").glob("*.ipynb") if not p.name.startswith("01_")
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_and_checks_pass(path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, (
            f"{path.name} is committed with outputs; clear them before committing"
        )
    assert nb.cells[0].cell_type == "markdown", "a notebook opens with its story"

    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on any failing cell
    elapsed = time.perf_counter() - start
    print(f"{path.name}: executed in {elapsed:.1f} s")

    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "OK:" in text, f"{path.name} printed no 'OK:' check line"
    assert any("image/png" in o.get("data", {}) for o in outputs), (
        f"{path.name} drew no figure"
    )
