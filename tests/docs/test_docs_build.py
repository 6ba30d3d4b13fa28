"""The documentation site builds with ``mkdocs build --strict``.

The build here renders the notebooks without executing them
(``LIKELIHAX_DOCS_EXECUTE=false``, read by ``mkdocs.yml``), so it checks the
site's structure, the guide pages' links and the API reference generated from
the docstrings (any mkdocstrings or griffe warning fails it) in well under a
minute. The full build, which executes every notebook, is the README's
documentation command; the notebooks themselves are executed by
``test_notebooks.py``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "mkdocs.yml"
DOCS_PACKAGES = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python",
                 "mkdocs_jupyter")  # fmt: skip


def _nav_notebooks() -> list[str]:
    return re.findall(r"notebooks/([\w.-]+\.ipynb)", CONFIG.read_text())


def test_every_notebook_is_in_the_nav():
    listed = _nav_notebooks()
    on_disk = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(listed) == on_disk, (
        "mkdocs.yml's Notebooks section must list every notebook in notebooks/"
    )


def test_every_nav_page_exists():
    pages = re.findall(r":\s+([\w./-]+\.(?:md|ipynb))\s*$", CONFIG.read_text(), re.M)
    assert pages
    missing = [p for p in pages if not (ROOT / "docs" / p).exists()]
    assert not missing, f"pages in mkdocs.yml's nav that do not exist: {missing}"


def test_site_builds_strict_without_executing_notebooks(tmp_path):
    absent = []
    for name in DOCS_PACKAGES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            absent.append(name)
    if absent:
        pytest.skip(
            f"documentation tools not installed ({', '.join(absent)}): "
            "pip install -e '.[docs]'"
        )
    env = dict(os.environ)
    env["LIKELIHAX_DOCS_EXECUTE"] = "false"
    env["NO_MKDOCS_2_WARNING"] = "1"
    # The API reference imports likelihax from this checkout.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{log[-6000:]}"
    for page in ["index.html", "getting-started/index.html", "coming-from/index.html",
                 "api/fitting/index.html", "api/plots/index.html"]:  # fmt: skip
        assert (site / page).exists(), page
    for name in _nav_notebooks():
        assert (site / "notebooks" / Path(name).stem / "index.html").exists(), name
    fitting = (site / "api" / "fitting" / "index.html").read_text()
    assert "likelihax.fit" in fitting and "Parameters" in fitting
