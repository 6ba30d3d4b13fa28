"""Data at the boundary: validation and conversion before anything is compiled.

``data`` is any pytree of arrays (usually a dict), or a pandas DataFrame, which is
turned into a dict of its columns. Rules, checked on the host before compiling:

* floating fields are converted to the working precision (float64 by default);
  integer and boolean fields are kept exactly as they are, so they can be used as
  counts or as indices (``params["alpha"][data["group"]]``);
* NaN or infinite values raise an error naming the field and the first rows;
* empty fields, non-numeric fields (strings, objects, complex, dates and
  durations) and integers too large to be represented exactly in the working
  precision raise an error;
* a field of one row that the log-likelihood broadcasts against the ``n`` rows
  of the other fields raises an error (:func:`check_row_broadcast`): one value
  per observation needs ``n`` rows, and one value shared by all observations is
  passed as a scalar.

The caller's arrays are never modified: conversion makes new arrays.
"""

from __future__ import annotations

import sys
import threading
import warnings
import weakref
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..core import PrecisionWarning

__all__ = ["prepare_data", "leading_nobs", "is_traced", "check_row_broadcast"]


def is_traced(tree: Any) -> bool:
    """True when any leaf is a JAX tracer (we are inside jit/vmap/grad)."""
    return any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(tree))


def _as_tree(data: Any) -> Any:
    mod = type(data).__module__
    if mod.startswith("pandas") and hasattr(data, "columns"):
        for c in data.columns:
            # (time-zone aware columns would become objects in to_numpy)
            if getattr(data[c].dtype, "kind", None) in ("M", "m"):
                raise _time_error(str(c), data[c].dtype, data[c].dtype.kind == "m")
        return {str(c): data[c].to_numpy() for c in data.columns}
    return data


def _time_error(name: str, dtype, durations: bool) -> TypeError:
    if durations:
        what, how = "durations", "t / np.timedelta64(1, 's') (pandas: "
        how += "df[col].dt.total_seconds())"
    else:
        what, how = "dates or times", "(t - t0) / np.timedelta64(1, 'D') (pandas: "
        how += "(df[col] - t0).dt.days), the days since a reference date t0"
    return TypeError(
        f"Data field '{name}' holds {what} (dtype {dtype}); likelihax needs numbers. "
        f"Convert it to a number in a unit of your choice, e.g. {how}."
    )


def _time_kind(x: np.ndarray) -> str:
    """``"m"`` (durations), ``"M"`` (dates or times) or ``""``; an object array is
    judged by its first element (no pass over the data)."""
    import datetime

    if x.dtype.kind in "Mm":
        return x.dtype.kind
    first = x.flat[0] if x.dtype.kind == "O" and x.size else None
    if isinstance(first, (datetime.timedelta, np.timedelta64)):
        return "m"
    if isinstance(first, (datetime.date, datetime.time, np.datetime64)):
        return "M"
    return ""


def _field_name(path) -> str:
    from ..parameters import path_name

    return path_name(path) if path else "data"


class _Checked(np.ndarray):
    """A read-only view of an array that likelihax has already checked (floats
    finite, integers exactly representable in the working precision).

    A model that validates its design matrix (``lx.glm``) hands the engine this
    view, so :func:`prepare_data` does not read the matrix a second time for
    NaN/inf (one pass over the matrix fewer). Arrays computed from it are plain
    ``ndarray`` (``__array_wrap__``), so no derived value inherits the mark.
    """

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        out = np.asarray(arr)
        return out[()] if return_scalar else out


def checked_view(x: np.ndarray) -> np.ndarray:
    """``x`` (already checked finite by the caller) marked as such; see ``_Checked``."""
    v = np.asarray(x).view(_Checked)
    v.flags.writeable = False
    return v


# JAX arrays made by ``checked_device``, by id (an entry goes with its array).
_CHECKED_DEVICE: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def checked_device(x: np.ndarray, dtype=np.float64) -> jax.Array:
    """``x`` (already checked finite by the caller) as a JAX array of ``dtype``
    that :func:`prepare_data` takes without reading it again.

    For a model that uses the same array on the device before the fit (the NB2
    starting values of ``lx.glm``): one transfer instead of two, and no
    device-side NaN/inf check (a pass over the array fewer, on every fit).
    """
    from ..core import x64_scope

    with x64_scope():
        arr = _to_device(np.asarray(x), dtype)
    _CHECKED_DEVICE[id(arr)] = arr
    return arr


# Aligned host buffers for large arrays on the CPU backend, reused between fits
# (see ``_to_device``): at most ``_STAGING_MAX`` of them and ``_STAGING_BYTES``
# in all, most recently used last. A larger array gets a buffer of its own,
# freed with its JAX array, so big data sets are not kept in memory
# after their fit.
_STAGING: list = []
_STAGING_MAX = 2
_STAGING_BYTES = 1 << 30
_STAGING_LOCK = threading.Lock()


def _staging_view(nbytes: int, dtype, shape) -> np.ndarray:
    """A 64-byte-aligned writable array of ``shape``, in a reused buffer if one
    of about that size is free (no JAX array holds it), else in a new one."""
    need = nbytes + 64
    with _STAGING_LOCK:
        buf = None
        for i in range(len(_STAGING)):
            b = _STAGING[i]
            # References: the list, ``b`` and getrefcount's argument. A JAX
            # array made from a view of it holds one more until it is freed.
            if need <= b.nbytes <= need + need // 4 and sys.getrefcount(b) <= 3:
                buf = _STAGING.pop(i)
                break
            del b
        if buf is None:
            buf = np.empty(need, dtype=np.uint8)
        if need <= _STAGING_BYTES:
            _STAGING.append(buf)
            while len(_STAGING) > _STAGING_MAX or sum(b.nbytes for b in _STAGING) > (
                _STAGING_BYTES
            ):
                _STAGING.pop(0)
        off = (-buf.ctypes.data) % 64
        return buf[off : off + nbytes].view(dtype).reshape(shape)


def _host_copy(x: np.ndarray, dtype) -> np.ndarray:
    """``x`` converted to ``dtype`` in a host array that ``jax.device_put`` may adopt
    (never aliasing ``x``; see :func:`_to_device`)."""
    dtype = np.dtype(dtype)
    nbytes = x.size * dtype.itemsize
    if jax.default_backend() != "cpu" or nbytes < (1 << 22):
        # Small arrays: copied by ``device_put`` (a view of the caller's array
        # would do; the transfer copies it).
        return np.asarray(x, dtype=dtype)
    out = _staging_view(nbytes, dtype, x.shape)
    np.copyto(out, x, casting="unsafe")
    return out


def _to_device(x: np.ndarray, dtype) -> jax.Array:
    """A new JAX array holding ``x`` converted to ``dtype`` (never aliasing ``x``).

    On the CPU backend, large arrays are copied by NumPy into a 64-byte-aligned
    buffer that ``jax.device_put`` then adopts without a second copy (the CPU
    client wraps an aligned host buffer; the array keeps it alive). ``jax.device_put``
    of the caller's own (16-byte-aligned) array copies into a buffer XLA
    allocates, more slowly than NumPy's copy. The aligned buffers are kept and
    reused by later fits (at most ``_STAGING_MAX`` and 1 GiB in all, each
    reused only when no JAX array holds it any more): a fresh buffer's pages
    are faulted in by the copy, which, depending on the process's memory
    state, can cost many times a copy into a reused buffer, whose pages are
    already mapped. The buffer is *not* handed over through DLPack: a
    DLPack-imported NumPy buffer still alive at interpreter exit aborts the
    process ("terminate called without an active exception", exit status 134)
    in about half of the runs. :func:`prepare_data` hands all the leaves of a
    data set to one ``jax.device_put`` call, which pays the per-call overhead
    once rather than once per leaf.
    """
    return jax.device_put(_host_copy(x, dtype))


def prepare_data(data: Any, dtype) -> Any:
    """Validate ``data`` and convert its leaves to JAX arrays (see module notes).

    Raises
    ------
    ValueError
        NaN/inf values, empty fields, integers not exactly representable.
    TypeError
        Non-numeric fields.
    """
    data = _as_tree(data)
    if data is None:
        return None
    if is_traced(data):
        low = [
            x.dtype
            for x in jax.tree_util.tree_leaves(data)
            if jnp.issubdtype(x.dtype, jnp.floating)
            and jnp.finfo(x.dtype).bits < np.finfo(dtype).bits
        ]
        if low:
            warnings.warn(
                f"Data arrive inside a JAX transformation as {low[0]}, below the "
                f"working precision {np.dtype(dtype).name}: jax.vmap/jax.jit outside "
                "x64 mode round float64 inputs to float32 before likelihax sees them. "
                "Use lx.fit_many for batches of data sets, or run the transformation "
                "inside `with jax.enable_x64(True):`.",
                PrecisionWarning,
                stacklevel=4,
            )
        return jax.tree_util.tree_map(
            lambda x: x.astype(dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x,
            data,
        )
    flat, treedef = jax.tree_util.tree_flatten_with_path(data)
    out = []
    host = []  # (position in out, host array): moved to the device in one call
    limit = 2 ** (np.finfo(dtype).nmant + 1)
    for path, leaf in flat:
        name = _field_name(path)
        if isinstance(leaf, jax.Array):
            out.append(_check_jax_leaf(leaf, name, dtype))
            continue
        checked = isinstance(leaf, _Checked) and leaf.dtype.kind == "f"
        x = np.asarray(leaf)
        kind = _time_kind(x)
        if kind:
            raise _time_error(name, x.dtype, kind == "m")
        if x.dtype.kind in "OUSV" or x.dtype.kind == "c":
            raise TypeError(
                f"Data field '{name}' has dtype {x.dtype}; likelihax needs numbers. "
                "Encode categories as integer codes or dummy columns, and pass "
                "complex data as separate real and imaginary parts."
            )
        if x.size == 0:
            raise ValueError(
                f"Data field '{name}' is empty (shape {x.shape}); a likelihood needs "
                "at least one observation."
            )
        if x.dtype.kind == "f":
            # Fast path: the sum is finite unless a value is NaN/inf (or the sum
            # overflows); only then look element by element (no big temporary).
            with np.errstate(over="ignore", invalid="ignore"):
                total = 0.0 if checked else x.sum()
            bad = np.zeros((), bool) if np.isfinite(total) else ~np.isfinite(x)
            if bad.any():
                kind = "NaN" if np.isnan(x).any() else "infinite"
                raise _nonfinite_error(name, bad, kind)
            host.append((len(out), _host_copy(x, dtype)))
            out.append(None)
        elif x.dtype.kind in "iu":
            if (
                not isinstance(leaf, _Checked)  # (a model's own small integers)
                and x.size and np.abs(x.astype(np.float64)).max() > limit
            ):  # fmt: skip
                raise ValueError(
                    f"Data field '{name}' holds integers larger than {limit:.0f} in "
                    f"magnitude, which {np.dtype(dtype).name} cannot represent "
                    "exactly. Rescale them or pass them as floats on purpose."
                )
            host.append((len(out), _host_copy(x, x.dtype)))
            out.append(None)
        else:  # bool (every other kind was rejected above)
            host.append((len(out), np.array(x)))
            out.append(None)
    if host:
        for (i, _), arr in zip(host, jax.device_put([h for _, h in host])):
            out[i] = arr
    return jax.tree_util.tree_unflatten(treedef, out)


def _nonfinite_error(name: str, bad: np.ndarray, kind: str) -> ValueError:
    rows = np.unique(np.argwhere(bad)[:, 0]) if bad.ndim else np.array([0])
    return ValueError(
        f"Data field '{name}' has {int(bad.sum())} {kind} value(s) "
        f"(first rows: {rows[:5].tolist()}). Remove or impute those rows "
        "before fitting; likelihax does not drop them silently."
    )


def _check_jax_leaf(x: jax.Array, name: str, dtype) -> jax.Array:
    """Checks of :func:`prepare_data` for a leaf already on a device (no host copy)."""
    if _CHECKED_DEVICE.get(id(x)) is x and x.dtype == np.dtype(dtype):
        return x
    if not (
        jnp.issubdtype(x.dtype, jnp.number) or x.dtype == jnp.bool_
    ) or jnp.iscomplexobj(x):
        raise TypeError(
            f"Data field '{name}' has dtype {x.dtype}; likelihax needs real numbers."
        )
    if x.size == 0:
        raise ValueError(f"Data field '{name}' is empty (shape {x.shape}).")
    if jnp.issubdtype(x.dtype, jnp.floating):
        if jnp.finfo(x.dtype).bits < np.finfo(dtype).bits:
            warnings.warn(
                f"Data field '{name}' is a {x.dtype} JAX array: its values were "
                f"rounded to {x.dtype} before likelihax saw them (JAX makes float32 "
                "arrays unless x64 is on). Pass NumPy arrays, or create the JAX "
                "arrays inside `with jax.enable_x64(True):`.",
                PrecisionWarning,
                stacklevel=4,
            )
        x = x.astype(dtype)
        if not bool(jnp.all(jnp.isfinite(x))):
            raise _nonfinite_error(
                name, np.asarray(~jnp.isfinite(x)), "NaN or infinite"
            )
    return x


def leading_nobs(data: Any) -> int | None:
    """The common leading dimension of the data leaves, if there is one."""
    dims = {
        int(np.shape(x)[0]) for x in jax.tree_util.tree_leaves(data) if np.ndim(x) >= 1
    }
    return dims.pop() if len(dims) == 1 else None


def check_row_broadcast(data: Any, out_shape: tuple, trace) -> None:
    """Reject a data field of one row that is broadcast against ``n`` rows.

    A field with a leading axis of length 1 beside fields of ``n > 1`` rows
    (``y`` of shape ``(1,)`` next to ``X`` of shape ``(100, 2)``) is broadcast
    by NumPy rules to every observation, and the fit would silently use its one
    row ``n`` times. Such a field is rejected when the log-likelihood pairs its
    leading axis with the observation axis: evaluated (shapes only, no FLOPs)
    with that axis of length ``m`` not in ``{1, n}`` it fails, and with length
    ``n`` it returns the same shape as before. Fields whose leading axis is not
    the observation axis (a knot vector of one knot, a ``(1, 1)`` matrix of a
    one-dimensional model, a vector that is indexed or reduced) evaluate with
    any length, or not with ``n``, and are accepted. Only fields of one leading
    row beside a field of ``n`` rows are looked at, so data without such a
    field cost nothing.

    Parameters
    ----------
    data : pytree
        The prepared data (arrays, tracers or ``jax.ShapeDtypeStruct``).
    out_shape : tuple
        Shape the log-likelihood returns: ``(n,)``, or ``()`` for a scalar
        total (then ``n`` is the leading length shared by the other fields).
    trace : callable
        ``trace(data_struct) -> shape``: the log-likelihood's output shape for
        data of those shapes; raises if it cannot be evaluated on them.

    Raises
    ------
    ValueError
        Naming the field, its row count and the row count of the others.

    Examples
    --------
    >>> import numpy as np, jax, likelihax as lx
    >>> from likelihax.data._dataset import check_row_broadcast
    >>> loglik = lambda d: -0.5 * (d["y"] - d["x"]) ** 2
    >>> trace = lambda d: jax.eval_shape(loglik, d).shape
    >>> check_row_broadcast({"y": np.zeros(5), "x": np.ones(5)}, (5,), trace)
    >>> check_row_broadcast({"y": np.zeros(1), "x": np.ones(5)}, (5,), trace)
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Data field 'y' has 1 row (shape (1,)) but field 'x' has 5 and ...
    """
    if data is None:
        return
    leaves, treedef = jax.tree_util.tree_flatten(data)
    shapes = [tuple(np.shape(x)) for x in leaves]
    lead = [s[0] if s else None for s in shapes]
    if 1 not in lead:
        return
    if out_shape:
        n = out_shape[0]
    else:
        many = {d for d in lead if d is not None and d > 1}
        n = many.pop() if len(many) == 1 else 0
    if n < 2 or n not in lead:
        return
    structs = [
        jax.ShapeDtypeStruct(s, jnp.result_type(x)) for s, x in zip(shapes, leaves)
    ]
    m = 3 if n == 2 else 2

    def shape_with(i, rows):
        probe = list(structs)
        probe[i] = jax.ShapeDtypeStruct((rows, *shapes[i][1:]), structs[i].dtype)
        try:
            return tuple(trace(jax.tree_util.tree_unflatten(treedef, probe)))
        except Exception:  # noqa: BLE001 - a probe: any failure means "does not fit"
            return None

    for i, d in enumerate(lead):
        if d != 1 or shape_with(i, m) is not None:
            continue
        if shape_with(i, n) != tuple(out_shape):
            continue
        paths = [p for p, _ in jax.tree_util.tree_flatten_with_path(data)[0]]
        name, other = _field_name(paths[i]), _field_name(paths[lead.index(n)])
        returns = (
            f"the log-likelihood returns {n} values"
            if out_shape
            else f"the log-likelihood sums over {n} rows"
        )
        shared = "a scalar" if shapes[i] == (1,) else f"shape {shapes[i][1:]}"
        raise ValueError(
            f"Data field '{name}' has 1 row (shape {shapes[i]}) but field '{other}' "
            f"has {n} and {returns}: the one row of '{name}' would be broadcast to "
            f"every observation. (a) If '{name}' holds one value per observation, "
            f"it is missing rows: give all {n}. (b) If it is one value shared by all "
            f"observations, pass it as {shared}, without the leading axis of length 1."
        )
