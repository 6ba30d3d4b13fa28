"""The README's Python code blocks run, in order, as one script, and the output
it shows is the output they print.

Every fenced ``python`` block of README.md is joined (later blocks use names
from earlier ones, as a reader would run them) and executed in a fresh
process with a non-interactive plotting backend. Each number in a ``text``
block that follows a code block (the README's abbreviated copies of printed
output) must appear in what the script printed, so a change in the software
that changes a shown result fails here.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _blocks(kind):
    return re.findall(rf"```{kind}\n(.*?)```", README, re.S)


def test_readme_code_blocks_run_and_print_what_the_readme_shows(tmp_path):
    code = "\n\n".join(_blocks("python"))
    assert code.count("lx.") >= 5, "the README's python blocks were not found"
    script = tmp_path / "readme_blocks.py"
    script.write_text(code)
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))  # fmt: skip
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    # numbers shown in the README's printed-output blocks that follow a python block
    shown = re.findall(r"```python\n.*?```\n```text\n(.*?)```", README, re.S)
    assert shown, "no printed output is shown after a python block"
    for text in shown:
        for number in re.findall(r"\d+\.\d+(?:e-?\d+)?", text):
            assert number in run.stdout, (number, run.stdout[-3000:])
