"""Shared fixtures: fixed-seed random number generators.

Nothing here changes JAX's global configuration. In particular x64 mode is
*not* enabled: likelihax must compute in float64 through its own scoped
``jax.enable_x64`` and leave ``jax.config.jax_enable_x64`` as the user set it
(checked in ``properties/test_jax_contracts.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

SEED = 20240607


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
