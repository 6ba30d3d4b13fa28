"""Shared fixtures: fixed-seed random number generators, golden text files.

Nothing here changes JAX's global configuration. In particular x64 mode is
*not* enabled: likelihax must compute in float64 through its own scoped
``jax.enable_x64`` and leave ``jax.config.jax_enable_x64`` as the user set it
(checked in ``properties/test_jax_contracts.py``).

The test folders mirror the package (``tests/engine/``, ``tests/models/glm/``,
...); this file, the reference data (``tests/reference/``) and the golden
texts (``tests/golden/``) stay at the top of ``tests/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SEED = 20240607

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
# LIKELIHAX_UPDATE_GOLDEN=1 python -m pytest ...: write the golden files anew.
UPDATE_GOLDEN = os.environ.get("LIKELIHAX_UPDATE_GOLDEN", "") not in ("", "0")


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh NumPy generator with a fixed seed, one per test."""
    return np.random.default_rng(SEED)


@pytest.fixture(scope="session")
def make_rng():
    """Factory of fixed-seed generators for module-scoped data fixtures.

    ``make_rng(salt)`` returns ``np.random.default_rng([SEED, salt])``: each
    data set gets its own reproducible stream, independent of test order.
    """

    def _make(salt: int = 0) -> np.random.Generator:
        return np.random.default_rng([SEED, int(salt)])

    return _make


@pytest.fixture
def golden():
    """``golden(name, text)``: assert that ``text`` equals ``tests/golden/<name>``.

    With the environment variable ``LIKELIHAX_UPDATE_GOLDEN=1`` the file is
    written from ``text`` instead and the test is skipped (so a regeneration
    run is never mistaken for a check); review the diff before committing.
    The comparison ignores one trailing newline of the file.
    """

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / name
        if UPDATE_GOLDEN:
            path.write_text(text.rstrip("\n") + "\n")
            pytest.skip(f"golden file written: {path}")
        if not path.exists():
            raise AssertionError(
                f"no golden file {path}; run with LIKELIHAX_UPDATE_GOLDEN=1 to write it"
            )
        assert text == path.read_text().rstrip("\n")

    return check


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each test module.

    Every XLA:CPU executable holds dozens of memory mappings; the whole suite
    compiles thousands of programs, and one process would otherwise reach the
    kernel's limit on mappings (``vm.max_map_count``, 65530 by default) and
    crash. Clearing the caches between modules keeps the count bounded;
    programs are recompiled (or loaded from the persistent cache) when needed.
    """
    yield
    import gc

    import jax

    jax.clear_caches()
    gc.collect()
