"""Precision policy.

likelihax computes in float64 by default without touching the user's global JAX
configuration: every fit and every inference function runs inside a scoped
``jax.enable_x64(True)``, and floating inputs are converted to the working
dtype there. float32 is used only when asked for (``dtype="float32"``), and
summaries say which precision was used. Integer and boolean data keep their
dtype (they are exact). Results are returned as NumPy arrays, which keep their
float64 dtype whatever the global JAX setting is.
"""

from __future__ import annotations

import contextlib

import jax
import numpy as np

__all__ = ["resolve_dtype", "x64_scope"]


def resolve_dtype(dtype) -> np.dtype:
    """``None``/"float64" -> float64; "float32" -> float32; anything else raises."""
    if dtype is None:
        return np.dtype(np.float64)
    d = np.dtype(dtype)
    if d not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(
            f"dtype must be 'float64' (default) or 'float32'; got {dtype!r}."
        )
    return d


def x64_scope():
    """Context in which float64 arrays can be created (a no-op if x64 is on)."""
    if jax.config.jax_enable_x64:
        return contextlib.nullcontext()
    return jax.enable_x64(True)
