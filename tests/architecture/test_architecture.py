"""The package's layers hold: the import-linter contract in ``.importlinter``,
and no private name crosses a subpackage boundary (``likelihax/__init__.py``
states the layers)."""

from __future__ import annotations

import ast
import os
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "likelihax"


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        yield path, ".".join(parts), is_pkg


def _imports(path, module, is_pkg):
    """``(line, target module, imported name)`` of every ``from ... import``."""
    package = module if is_pkg else module.rsplit(".", 1)[0]
    with warnings.catch_warnings():  # a docstring's escape is not this test's concern
        warnings.simplefilter("ignore")
        tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package.split(".")
            base = base[: len(base) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        if target == "likelihax" or target.startswith("likelihax."):
            for alias in node.names:
                yield node.lineno, target, alias.name


def _subpackage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_module(name: str) -> bool:
    path = ROOT / name.replace(".", "/")
    return path.is_dir() or path.with_suffix(".py").exists()


def test_layers_contract_holds():
    cli = pytest.importorskip("importlinter.cli")
    cwd = os.getcwd()
    os.chdir(ROOT)  # import-linter reads the package from the working folder
    try:
        code = cli.lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True)
    finally:
        os.chdir(cwd)
    assert code == 0, "import-linter: a layer imports from a layer above it (see output)"


def test_no_private_name_crosses_a_subpackage():
    bad = []
    for path, module, is_pkg in _modules():
        for line, target, name in _imports(path, module, is_pkg):
            if _subpackage(target) == _subpackage(module) or name == "*":
                continue
            full = f"{target}.{name}"
            private_module = any(p.startswith("_") for p in target.split(".")[1:])
            dunder = name.startswith("__") and name.endswith("__")
            if name.startswith("_") and not dunder and not (
                _is_module(full) and not private_module
            ):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name} from {target}")
    assert not bad, "\n".join(bad)


def _private_module_imports(subpackages=None):
    """Imports of another subpackage's private module or private name."""
    bad = []
    for path, module, is_pkg in _modules():
        sub = _subpackage(module)
        if path.parent == PKG:  # the top-level facade (likelihax, likelihax.constraints)
            continue
        if subpackages is not None and sub not in subpackages:
            continue
        for line, target, name in _imports(path, module, is_pkg):
            if _subpackage(target) in (sub, ""):
                continue
            full = f"{target}.{name}"
            parts = (full if _is_module(full) else target).split(".")[1:]
            if any(p.startswith("_") for p in parts) or name.startswith("_"):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name} from {target}")
    return bad


def test_models_import_only_exported_names():
    """``likelihax/models`` uses other subpackages through their ``__init__``
    exports only (never a private module), so the engine can change inside."""
    bad = _private_module_imports({"models"})
    assert not bad, "\n".join(bad)


def test_every_layer_imports_only_exported_names():
    """The same for every subpackage: a layer's private modules are its own."""
    bad = _private_module_imports()
    assert not bad, "\n".join(bad)


def test_solver_objects_are_accepted_as_method():
    """``method=`` takes a solver object meeting the Solver contract; its
    options are the object's, and the result equals the named method's."""
    import jax.scipy.stats as st
    import numpy as np

    import likelihax as lx
    from likelihax.optimize import LBFGS, Newton, Solver

    y = np.array([0.3, 1.2, 2.5, 0.9, 1.6, -0.4, 1.1])

    def normal(p, d):
        return st.norm.logpdf(d["y"], p["mu"], p["sigma"])

    start = {"mu": 0.0, "sigma": 1.0}
    cons = {"sigma": lx.constraints.positive}
    assert isinstance(Newton(), Solver) and isinstance(LBFGS(), Solver)
    a = lx.fit(normal, start, {"y": y}, constraints=cons)
    b = lx.fit(normal, start, {"y": y}, constraints=cons, method=Newton(tol=1e-12))
    c = lx.fit(normal, start, {"y": y}, constraints=cons, method=LBFGS(gtol=1e-10))
    assert b.method == "newton" and c.method == "lbfgs"
    for r in (b, c):
        assert r.converged
        np.testing.assert_allclose(r.params["mu"], y.mean(), rtol=1e-8)
        np.testing.assert_allclose(r.params["sigma"], y.std(), rtol=1e-7)
    np.testing.assert_allclose(a.se["mu"], b.se["mu"], rtol=1e-10)
    with pytest.raises(ValueError, match="give tol to the solver"):
        lx.fit(normal, start, {"y": y}, constraints=cons, method=Newton(), tol=1e-8)


# ----- sizes ----------------------------------------------------------------------------
MAX_MODULE_LINES = 600
MAX_FUNCTION_CODE_LINES = 120


def test_no_module_over_600_lines():
    """A module that grows past 600 lines holds two subjects: split it."""
    long = {}
    for path in PKG.rglob("*.py"):
        n = len(path.read_text().splitlines())
        if n > MAX_MODULE_LINES:
            long[str(path.relative_to(ROOT))] = n
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def _code_lines(fn: ast.FunctionDef) -> int:
    """Lines of a function's body without its docstring (examples included there)."""
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return body[-1].end_lineno - body[0].lineno + 1 if body else 0


def test_no_function_over_120_code_lines():
    """Function bodies (docstrings aside: public ones carry examples) stay readable."""
    long = {}
    for path in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = _code_lines(node)
                if n > MAX_FUNCTION_CODE_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.name}"] = n
    assert not long, f"functions over {MAX_FUNCTION_CODE_LINES} code lines: {long}"


def test_no_control_character_in_sources():
    """A tab, backspace or form feed in a source file is almost always an escape
    sequence (``\\theta``, ``\\beta``, ``\\frac``) swallowed by a string that
    was not raw: it renders as garbage in the documentation."""
    found = {}
    for path in [*PKG.rglob("*.py"), *(ROOT / "examples").rglob("*.py"),
                 *(ROOT / "benchmarks").rglob("*.py")]:  # fmt: skip
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if any(c in line for c in "\t\b\f"):
                found.setdefault(str(path.relative_to(ROOT)), []).append(i)
    assert not found, f"control characters (tab, backspace, form feed) at lines: {found}"
