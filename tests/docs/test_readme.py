"""The README's code runs, shows what it prints, and its commands and links hold.

* Every fenced ``python`` block of README.md runs on its own (in a fresh
  namespace, so each block defines its own data, as a reader copying one block
  would run it), all in one fresh process with a non-interactive plotting
  backend. Each number in a ``text`` block that follows a python block (the
  README's abbreviated copy of that block's output) must appear in what that
  block printed, so a change in the software that changes a shown result fails.
* The test command the README gives is the one ``.ci/run`` runs, and the
  example command names an extra and a script that exist.
* Every relative link and image of the README points to a file of the
  repository (and a ``#fragment`` into a Markdown page to one of its headings).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
MARK = "<<<README python block {}>>>"

DRIVER = """
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

blocks = json.loads(open(sys.argv[1]).read())
for i, code in enumerate(blocks):
    print({mark!r}.format(i), flush=True)
    exec(compile(code, f"README.md python block {{i + 1}}", "exec"), {{"__name__": "__main__"}})
    plt.close("all")
    print(flush=True)
"""


def _fences() -> list[re.Match]:
    """The README's fenced blocks in order (kind in group 1, body in group 2)."""
    return list(re.finditer(r"^```(\w*)\n(.*?)^```$", README, re.S | re.M))


def _python_blocks() -> list[str]:
    return [f.group(2) for f in _fences() if f.group(1) == "python"]


def test_readme_code_blocks_run_alone_and_print_what_the_readme_shows(tmp_path):
    blocks = _python_blocks()
    assert len(blocks) >= 2 and sum(b.count("lx.") for b in blocks) >= 5, (
        "the README's python blocks were not found"
    )
    for i, code in enumerate(blocks, 1):
        assert "import likelihax as lx" in code, f"python block {i} does not import likelihax"
    (tmp_path / "blocks.json").write_text(json.dumps(blocks))
    (tmp_path / "driver.py").write_text(DRIVER.format(mark=MARK))
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))  # fmt: skip
    run = subprocess.run([sys.executable, "driver.py", "blocks.json"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    outputs = re.split(r"<<<README python block \d+>>>\n", run.stdout)[1:]
    assert len(outputs) == len(blocks), run.stdout[-3000:]

    # numbers shown in the printed-output blocks must come from the block above them
    shown = 0
    fences = _fences()
    for before, after in zip(fences, fences[1:]):
        if not (before.group(1) == "python" and after.group(1) == "text"
                and README[before.end():after.start()].strip() == ""):  # fmt: skip
            continue
        index = blocks.index(before.group(2))
        numbers = re.findall(r"\d+\.\d+(?:e-?\d+)?", after.group(2))
        assert numbers, "a printed-output block shows no number"
        for number in numbers:
            assert number in outputs[index], (index + 1, number, outputs[index][-3000:])
        shown += 1
    assert shown, "no printed output is shown after a python block"


def test_readme_commands_are_the_ones_that_run():
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = 'pip install -e ".[test]" && python -m pytest'
    assert test_command in README
    assert test_command in ci, ".ci/run no longer runs the README's test command"

    example = re.search(r'pip install -e "\.\[(\w+)\]" && python (examples/\S+\.py)', README)
    assert example, "the README's example command was not found"
    pyproject = (ROOT / "pyproject.toml").read_text()
    table = pyproject.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    extras = set(re.findall(r"^([\w-]+)\s*=", table, re.M))
    assert {"examples", "test"} <= extras, extras
    assert example.group(1) in extras
    assert (ROOT / example.group(2)).is_file()
    for extra in re.findall(r'pip install -e "\.\[([\w,]+)\]"', README):
        for name in extra.split(","):
            assert name in extras, f"the README names an extra that does not exist: {name}"


def _anchor(heading: str) -> str:
    """The id MkDocs (Python-Markdown's toc) gives a heading."""
    text = re.sub(r"[`*]", "", heading).strip().lower()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[-\s]+", "-", text).strip("-")


def test_readme_links_point_to_files_that_exist():
    targets = re.findall(r"\]\(([^)\s]+)\)", README) + re.findall(r'src="([^"]+)"', README)
    local = [t for t in targets if not re.match(r"[a-z]+://|mailto:", t)]
    assert len(local) >= 20, local
    broken = []
    for target in local:
        path, _, fragment = target.partition("#")
        file = ROOT / path
        if not file.exists():
            broken.append(target)
        elif fragment and file.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", file.read_text(), re.M)
            if fragment not in {_anchor(h) for h in headings}:
                broken.append(target)
    assert not broken, f"README links to missing files or headings: {broken}"
