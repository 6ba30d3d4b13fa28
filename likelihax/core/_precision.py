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

__all__ = [
    "from_wire_device",
    "from_wire_host",
    "resolve_dtype",
    "to_wire_device",
    "to_wire_host",
    "wire_struct",
    "x64_scope",
]


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


# ----- 8-byte values through a host callback ------------------------------------------
# JAX converts a callback's operands and results to the dtypes allowed in the
# thread that runs the callback, and that XLA thread does not share the scoped
# 64-bit setting of the fit: float64 (and int64) values would be rounded to
# 32 bits on the way. They travel instead as pairs of uint32 (a trailing axis
# of 2) and are bit-cast back on the other side; 4-byte values pass as they are.
def wire_struct(shape, dtype) -> jax.ShapeDtypeStruct:
    """The callback-side shape and dtype of values of ``shape`` and ``dtype``."""
    if np.dtype(dtype).itemsize == 8:
        return jax.ShapeDtypeStruct((*shape, 2), np.uint32)
    return jax.ShapeDtypeStruct(tuple(shape), dtype)


def to_wire_host(x) -> np.ndarray:
    """Host side, leaving the callback: 8-byte values as uint32 pairs.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.core import from_wire_host, to_wire_host
    >>> w = to_wire_host(np.array([1.5, -2.0]))
    >>> w.dtype, w.shape, from_wire_host(w, np.float64).tolist()
    (dtype('uint32'), (2, 2), [1.5, -2.0])
    """
    x = np.asarray(x)
    if x.dtype.itemsize != 8:
        return x
    x = np.array(x, order="C")
    return x.reshape(-1).view(np.uint32).reshape((*x.shape, 2))


def from_wire_host(w, dtype) -> np.ndarray:
    """Host side, entering the callback: the values of :func:`to_wire_device`."""
    dtype = np.dtype(dtype)
    if dtype.itemsize != 8:
        return np.asarray(w, dtype=dtype)
    w = np.array(w, dtype=np.uint32, order="C")
    return w.reshape(-1).view(dtype).reshape(w.shape[:-1])


def to_wire_device(x):
    """Device side, entering the callback: 8-byte values as uint32 pairs."""
    if np.dtype(x.dtype).itemsize != 8:
        return x
    return jax.lax.bitcast_convert_type(x, np.uint32)


def from_wire_device(w, dtype):
    """Device side, leaving the callback: the values of :func:`to_wire_host`."""
    if np.dtype(dtype).itemsize != 8:
        return w
    return jax.lax.bitcast_convert_type(w, dtype)
