"""Checks of a saved result's files before anything is built from them.

A damaged or hostile ``.json``/``.npz`` pair must fail with an error that names
the entry or array, never allocate what the file does not hold, and never
build a result whose shapes, status codes or sizes disagree with each other.
:func:`likelihax.load_result` runs these checks in order: the JSON's declared
sizes, the ``.npz`` members' headers, then the loaded arrays.
"""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np

from ..core import Status
from ._codec import MAX_TREE_DEPTH, _tree_depth

def _bad(json_path, why: str) -> ValueError:
    return ValueError(f"Cannot load {str(json_path)!r}: {why}")


def _check_npz_sizes(blob: bytes, source: str) -> None:
    """Compare the size of every array declared in the ``.npz`` with the file.

    Each array of an ``.npz`` is a ``.npy`` member whose header declares its
    shape and dtype; NumPy allocates that much memory before reading the data,
    so a damaged header would ask for far more memory than the file holds.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
    except zipfile.BadZipFile as e:
        raise _bad(source, f"the .npz is not a valid NumPy archive ({e}).") from None
    with zf:
        for info in zf.infolist():
            name = info.filename.removesuffix(".npy")
            if info.file_size > len(blob):
                raise _bad(
                    source,
                    f"array {name!r} declares {info.file_size} bytes, more than "
                    f"the whole .npz ({len(blob)} bytes).",
                )
            with zf.open(info) as f:
                try:
                    shape, dtype = _npy_header(f)
                except (ValueError, EOFError, zipfile.BadZipFile) as e:
                    msg = f"array {name!r} has a damaged header ({e})."
                    raise _bad(source, msg) from None
                held = info.file_size - f.tell()
            need = math.prod(shape) * dtype.itemsize
            if need > held:
                raise _bad(
                    source,
                    f"array {name!r} declares shape {shape} ({need} bytes) but the "
                    f".npz holds {held} bytes of it.",
                )


def _npy_header(f) -> tuple:
    """Shape and dtype from the header of a ``.npy`` stream (data left unread)."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    return shape, dtype


def _is_shape(shape) -> bool:
    return isinstance(shape, list) and all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
    )


def _check_declared(meta: dict, blob: bytes, source: str) -> None:
    """Sizes, depth and status in the JSON, checked before anything is built.

    A size is "far larger than the file" when it counts more elements than the
    ``.npz`` has bytes: every natural parameter value and every array element
    is stored in the ``.npz`` at least once, in at least one byte.
    """
    if _tree_depth(meta["params_tree"]) > MAX_TREE_DEPTH:
        raise _bad(
            source,
            f"entry 'params_tree' is nested more than {MAX_TREE_DEPTH} levels deep "
            "(a damaged file).",
        )
    total, largest = 0, (-1, None)
    for p in meta["params"]:
        if not _is_shape(p["shape"]):
            raise _bad(
                source,
                f"entry 'params' gives parameter {p['name']!r} the shape "
                f"{p['shape']!r}; shapes are lists of sizes >= 0.",
            )
        size = math.prod(p["shape"])
        total += size
        largest = max(largest, (size, p["name"]), key=lambda t: t[0])
    if total > len(blob):
        raise _bad(
            source,
            f"entry 'params' declares {total} parameter values (parameter "
            f"{largest[1]!r} alone {largest[0]}), far more than the "
            f"{len(blob)}-byte .npz holds.",
        )
    for k, a in meta["arrays"].items():
        if not _is_shape(a["shape"]):
            raise _bad(
                source,
                f"entry 'arrays' gives {k!r} the shape {a['shape']!r}; shapes are "
                "lists of sizes >= 0.",
            )
        if math.prod(a["shape"]) > len(blob):
            raise _bad(
                source,
                f"entry 'arrays' declares {k!r} of shape {tuple(a['shape'])}, far "
                f"larger than the {len(blob)}-byte .npz.",
            )
    if meta["status"] not in Status.__members__:
        raise _bad(
            source,
            f"entry 'status' is {meta['status']!r}, which is not a likelihax.Status "
            f"({', '.join(Status.__members__)}).",
        )


def _check_status(arrays: dict, meta: dict, source: str) -> None:
    """Every status code is a :class:`Status`, and the JSON names the fit's."""
    known = [s.value for s in Status]
    for k in ("status", "multistart_status"):
        if k not in arrays:
            continue
        codes = arrays[k]
        bad = codes[~np.isin(codes, known)] if codes.dtype.kind in "iu" else codes
        if bad.size:
            raise _bad(
                source,
                f"array {k!r} holds the status code {bad.reshape(-1)[0].item()!r}, "
                f"which is not a likelihax.Status (integer codes {min(known)}-"
                f"{max(known)}).",
            )
    saved = Status(int(arrays["status"])).name
    if saved != meta["status"]:
        raise _bad(
            source,
            f"entry 'status' is {meta['status']!r} but array 'status' holds "
            f"{saved!r}.",
        )


def _check_shapes(arrays, expected, spec, source):
    k_nat, k_free = spec.n_natural, spec.n_free
    want = {
        "params": (k_nat,), "se": (k_nat,), "cov": (k_nat, k_nat),
        "params_unconstrained": (k_free,), "gradient": (k_free,),
        "information": (k_free, k_free), "cov_unconstrained": (k_free, k_free),
        "loglik": (), "status": (), "iterations": (), "n_evals": (), "edm": (),
        "condition_number": (),
    }  # fmt: skip
    for k, a in arrays.items():
        listed = tuple(expected[k]["shape"])
        if a.shape != listed:
            raise _bad(source, f"array {k!r} has shape {a.shape} in the .npz but "
                       f"{listed} in the JSON.")  # fmt: skip
        if k in want and a.shape != want[k]:
            raise _bad(
                source,
                f"array {k!r} has shape {a.shape}; the parameters "
                f"({k_nat} natural, {k_free} free values) need {want[k]}.",
            )
        if a.dtype.kind not in "biuf":
            raise _bad(source, f"array {k!r} has dtype {a.dtype}; expected numbers.")
    if arrays["trace"].ndim != 1:
        raise _bad(source, "the optimizer trace must be one-dimensional.")
    if "multistart_params" in arrays:
        s = arrays["multistart_loglik"].shape
        if arrays["multistart_params"].shape != s + (k_nat,):
            raise _bad(source, "multi-start arrays do not fit the parameters.")
