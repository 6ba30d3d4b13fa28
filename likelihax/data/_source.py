"""Data larger than memory: sources read block by block during the fit.

A source stands for ``n`` rows of named fields that are never loaded whole.
``lx.fit(loglik, params, source)`` evaluates the log-likelihood, gradient and
Hessian (and the scores of the OPG/sandwich covariances) as sums over blocks of
``chunk_size`` rows; each block is read on the host when the compiled program
asks for it (``jax.pure_callback`` inside the block loop of
:mod:`likelihax.objective._problem`), so memory is bounded by the block, not by
``n``. The results equal the in-memory fit to rounding (the sums are the same,
accumulated in the same blocks).

Sources
-------
:class:`ArraySource`
    Arrays that support row slicing: NumPy arrays, ``numpy.memmap`` (a file
    of any size; only the rows of a block are paged in), or array-likes such as
    HDF5/zarr datasets.
:class:`ParquetSource`
    A Parquet file (or an Arrow IPC/Feather file with ``format="arrow"``) read
    by row groups / record batches with pyarrow (``pip install
    'likelihax[big]'``). A field is one column, or a list of columns stacked
    into a matrix (a design matrix stored column-wise).

NaN or infinite values raise a ``ValueError`` naming the field and the rows
before anything is compiled: the first fit of a source (at each working
precision) reads its floating fields once on the host to check them, as
:func:`likelihax.fit` checks arrays in memory. Later fits of the same source
object skip that pass. Every block is checked again as the fit reads it, so a
value that became NaN after the first check (a file written in between) still
stops the fit, with the same message inside a JAX runtime error. Each pass of
the optimizer (one per Newton iteration) reads the data once, so a fit reads
the file about as many times as it takes iterations: put it on fast storage,
or let the operating system's page cache hold it.
"""

from __future__ import annotations

import dataclasses
import math
from collections import OrderedDict
from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ..core import from_wire_device, to_wire_host, wire_struct

__all__ = ["DataSource", "ArraySource", "ParquetSource", "is_source"]


def is_source(x) -> bool:
    return isinstance(x, DataSource)


class DataSource:
    """Rows of named fields, read a block at a time (see the module notes).

    Subclasses set ``n`` (rows) and ``fields`` (name -> ``(row_shape, dtype)``)
    and implement ``read(start, stop) -> dict`` of NumPy arrays.
    """

    n: int
    fields: dict
    chunk_size: int | None = None

    def read(self, start: int, stop: int) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    # ----- used by the engine ------------------------------------------------------
    def default_chunk(self) -> int:
        """Rows per block: ``chunk_size``, else about 16 MiB of data per block."""
        if self.chunk_size is not None:
            b = int(self.chunk_size)
            if b < 1:
                raise ValueError(f"chunk_size must be >= 1; got {self.chunk_size}.")
            return min(b, self.n)
        row = sum(
            math.prod(shape) * np.dtype(dt).itemsize for shape, dt in self.fields.values()
        )
        return int(min(self.n, np.clip((16 << 20) // max(row, 1), 1024, 1 << 20)))

    def bind(self, dtype, chunk: int) -> "_Bound":
        """The source as the compiled program sees it: working dtype, block size.

        Raises
        ------
        ValueError
            A floating field holds NaN or infinite values (in the working
            dtype), naming the field and the first rows; see
            :meth:`check_finite`.
        """
        self.check_finite(dtype)
        return _Bound(self, np.dtype(dtype).name, int(chunk))

    def check_finite(self, dtype) -> None:
        """Raise a ``ValueError`` naming the field and rows of any NaN/inf value.

        Reads the floating fields once on the host, in blocks of about 64 MiB
        (converted to the working ``dtype``, where a float64 value beyond the
        float32 range becomes infinite). A source passes once per working
        dtype: later calls return at once.
        """
        work = np.dtype(dtype).name
        passed = self.__dict__.setdefault("_finite_in", set())
        if work in passed:
            return
        floats = {
            k: _working_dtype(dt, work)
            for k, (_, dt) in self.fields.items()
            if np.dtype(dt).kind == "f"
        }
        row = sum(
            math.prod(self.fields[k][0]) * np.dtype(self.fields[k][1]).itemsize
            for k in floats
        )
        step = max(1, (64 << 20) // max(row, 1))
        for start in range(0, self.n if floats else 0, step):
            self._check_rows(start, min(start + step, self.n), floats)
        passed.add(work)

    def _check_rows(self, start: int, stop: int, floats: dict) -> None:
        """Check rows ``start:stop`` of the fields ``floats`` (name -> dtype)."""
        raw = self.read(start, stop)
        for k, dt in floats.items():
            _check_block(k, _cast(raw[k], dt), start)

    def __repr__(self) -> str:
        f = ", ".join(f"{k}: {s}" for k, (s, _) in self.fields.items())
        return f"{type(self).__name__}(n={self.n}, fields={{{f}}})"


def _working_dtype(dt, work):
    dt = np.dtype(dt)
    return np.dtype(work) if dt.kind == "f" else dt


def _cast(x, dtype) -> np.ndarray:
    """``x`` as ``dtype`` (no copy if it is already); values beyond the range of
    a narrower float become infinite, which :func:`_check_block` reports."""
    with np.errstate(over="ignore"):
        return np.asarray(x).astype(dtype, copy=False)


def _check_block(name, x, start):
    if x.dtype.kind != "f":
        return
    with np.errstate(over="ignore", invalid="ignore"):
        ok = np.isfinite(x.sum())
    if ok:
        return
    bad = ~np.isfinite(x)
    rows = np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1)) + start
    kind = "NaN" if np.isnan(x).any() else "infinite"
    raise ValueError(
        f"Data field '{name}' has {kind} values at rows {rows[:5].tolist()}"
        f"{' ...' if rows.size > 5 else ''} (found while reading rows "
        f"{start}-{start + x.shape[0] - 1} of the source). Remove or impute them "
        "before fitting."
    )


@dataclasses.dataclass(frozen=True, eq=False)
class _Bound:
    """A source bound to a working dtype and block size (hashable by identity)."""

    source: DataSource
    dtype: str
    chunk: int

    def struct(self, rows: int | None = None) -> dict:
        rows = self.chunk if rows is None else rows
        return {
            k: jax.ShapeDtypeStruct((rows, *shape), _working_dtype(dt, self.dtype))
            for k, (shape, dt) in self.source.fields.items()
        }

    def _read(self, start, size):
        start = int(start)
        raw = self.source.read(start, start + size)
        out = {}
        for k, (shape, dt) in self.source.fields.items():
            x = np.asarray(raw[k])
            want = (size, *shape)
            if x.shape != want:
                raise ValueError(
                    f"Source field '{k}' returned shape {x.shape} for rows "
                    f"{start}-{start + size - 1}; expected {want}."
                )
            x = _cast(x, _working_dtype(dt, self.dtype))
            _check_block(k, x, start)
            out[k] = x
        return out

    def block(self, start, size: int) -> dict:
        """Rows ``start:start+size`` as device arrays, read on the host (traced).

        8-byte values travel through the callback as pairs of ``uint32`` and
        are bit-cast back in the program: JAX canonicalizes a callback's
        results in the calling thread, whose scoped x64 setting is not that of
        the fit, and would otherwise round float64 to float32.
        """
        want = self.struct(size)
        wire = {k: wire_struct(v.shape, v.dtype) for k, v in want.items()}

        def read(s):
            return {k: to_wire_host(x) for k, x in self._read(s, size).items()}

        got = jax.pure_callback(
            read, wire, jnp.asarray(start), vmap_method="broadcast_all"
        )
        return {k: from_wire_device(got[k], want[k].dtype) for k in want}

    def host_blocks(self):
        """Iterate over ``(start, block)`` on the host (error messages)."""
        for start in range(0, self.source.n, self.chunk):
            size = min(self.chunk, self.source.n - start)
            yield start, self._read(start, size)


# ----- arrays and memory maps ---------------------------------------------------------
class ArraySource(DataSource):
    """Fields held in row-sliceable arrays, e.g. ``numpy.memmap`` files.

    Parameters
    ----------
    fields : dict
        Name -> array with the rows on its first axis (NumPy array,
        ``numpy.memmap``, or anything with ``shape``, ``dtype`` and slicing,
        such as an HDF5 dataset). All fields have the same number of rows.
    chunk_size : int, optional
        Rows per block (default: about 16 MiB of data per block).

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp, tempfile, os, likelihax as lx
    >>> path = os.path.join(tempfile.mkdtemp(), "y.f64")
    >>> y = np.memmap(path, dtype="float64", mode="w+", shape=(10_000,))
    >>> y[:] = np.random.default_rng(0).exponential(2.0, 10_000); y.flush()
    >>> src = lx.ArraySource({"y": np.memmap(path, dtype="float64", mode="r")},
    ...                      chunk_size=4096)
    >>> f = lx.fit(lambda p, d: jnp.log(p["rate"]) - p["rate"] * d["y"],
    ...            {"rate": 1.0}, src, constraints={"rate": lx.constraints.positive})
    >>> bool(np.isclose(f.params["rate"], 1 / np.asarray(y).mean()))
    True
    """

    def __init__(self, fields: Mapping[str, Any], chunk_size: int | None = None):
        if not isinstance(fields, Mapping) or not fields:
            raise TypeError("ArraySource needs a dict of named arrays.")
        n = None
        spec = {}
        for k, a in fields.items():
            shape = getattr(a, "shape", None)
            dt = getattr(a, "dtype", None)
            if shape is None or dt is None or len(shape) == 0:
                raise TypeError(
                    f"Field '{k}' must be an array with rows on its first axis "
                    f"(shape and dtype); got {type(a).__name__}."
                )
            dt = np.dtype(dt)
            if dt.kind not in "biuf":
                raise TypeError(f"Field '{k}' has dtype {dt}; likelihax needs numbers.")
            if n is not None and shape[0] != n:
                raise ValueError(
                    f"Field '{k}' has {shape[0]} rows but the other fields have {n}; "
                    "every field needs one row per observation."
                )
            n = int(shape[0])
            spec[str(k)] = (tuple(int(s) for s in shape[1:]), dt)
        if n == 0:
            raise ValueError("The source has no rows.")
        self.arrays = dict(fields)
        self.n = n
        self.fields = spec
        self.chunk_size = chunk_size

    def read(self, start: int, stop: int) -> dict:
        out = {}
        for k, a in self.arrays.items():
            out[k] = np.array(a[start:stop])  # a copy: the block owns its memory
            _release_pages(a, start, stop)
        return out

    def _check_rows(self, start: int, stop: int, floats: dict) -> None:
        # Slices of NumPy arrays and memory maps are views: no copy unless the
        # working dtype differs.
        for k, dt in floats.items():
            a = self.arrays[k]
            _check_block(k, _cast(a[start:stop], dt), start)
            _release_pages(a, start, stop)


def _release_pages(a, start: int, stop: int) -> None:
    """Unmap the pages of rows ``start:stop`` of a ``numpy.memmap`` once copied.

    Pages of a memory-mapped file that were read stay mapped in the process
    (and count in its resident memory) until they are unmapped, so a pass over
    an 8 GB file would leave 8 GB resident. ``madvise(MADV_DONTNEED)`` drops
    them from this process (the operating system's page cache keeps them, so
    the next pass reads them from memory if it can): resident memory stays
    bounded by the block. Arrays that are not memory maps are left alone.
    """
    import mmap

    mm = getattr(a, "_mmap", None)
    if mm is None or not hasattr(mm, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
        return
    if getattr(a, "mode", "c") not in ("r", "r+", "w+", "readonly", "readwrite", "write"):
        # A copy-on-write map ("c") keeps the caller's edits in private pages,
        # which MADV_DONTNEED would discard: leave those mapped.
        return
    try:
        base = np.frombuffer(mm, np.uint8).ctypes.data
        row = a.strides[0]
        lo = a.ctypes.data - base + start * row
        hi = min(a.ctypes.data - base + stop * row, len(mm))
        lo -= lo % mmap.PAGESIZE
        if hi > lo >= 0:
            mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
    except (ValueError, OSError, TypeError):  # a closed map or an odd view: skip
        return


# ----- Parquet / Arrow -------------------------------------------------------------------
class ParquetSource(DataSource):
    """A Parquet (or Arrow IPC) file read by row groups.

    Parameters
    ----------
    path : str or path-like
    fields : dict, optional
        Name -> column name (a vector field) or list of column names (stacked
        into an ``(n, len(columns))`` matrix). Default: one field per column.
    chunk_size : int, optional
        Rows per block (default: about 16 MiB of data per block). Blocks need
        not align with row groups; the last few row groups read are cached.
    format : {"parquet", "arrow"}
        ``"arrow"`` reads an Arrow IPC (Feather v2) file by record batches.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa, pyarrow.parquet as pq, tempfile, os
    >>> import jax.numpy as jnp, likelihax as lx
    >>> path = os.path.join(tempfile.mkdtemp(), "d.parquet")
    >>> rng = np.random.default_rng(0)
    >>> pq.write_table(pa.table({"y": rng.poisson(3.0, 5000).astype(float)}), path,
    ...                row_group_size=1000)
    >>> src = lx.ParquetSource(path, {"y": "y"}, chunk_size=1500)
    >>> f = lx.fit(lambda p, d: d["y"] * jnp.log(p["lam"]) - p["lam"], {"lam": 1.0},
    ...            src, constraints={"lam": lx.constraints.positive})
    >>> round(float(f.params["lam"]), 4) == round(float(pq.read_table(path)["y"]
    ...                                               .to_numpy().mean()), 4)
    True
    """

    def __init__(
        self,
        path: Any,
        fields: Mapping[str, str | Sequence[str]] | None = None,
        chunk_size: int | None = None,
        format: str = "parquet",
    ):
        try:
            import pyarrow as pa
        except ImportError as e:  # pragma: no cover - depends on the install
            raise ImportError(
                "ParquetSource needs pyarrow: pip install 'likelihax[big]'."
            ) from e
        self.path = str(path)
        self.format = format
        if format == "parquet":
            import pyarrow.parquet as pq

            self._file = pq.ParquetFile(self.path)
            schema = self._file.schema_arrow
            md = self._file.metadata
            sizes = [md.row_group(i).num_rows for i in range(md.num_row_groups)]
        elif format == "arrow":
            self._file = pa.ipc.open_file(pa.memory_map(self.path, "r"))
            schema = self._file.schema
            sizes = [
                self._file.get_batch(i).num_rows
                for i in range(self._file.num_record_batches)
            ]
        else:
            raise ValueError(f"format must be 'parquet' or 'arrow'; got {format!r}.")
        names = list(schema.names)
        if fields is None:
            fields = {c: c for c in names}
        spec, cols = {}, {}
        for k, c in fields.items():
            cs = [c] if isinstance(c, str) else list(c)
            missing = [x for x in cs if x not in names]
            if missing:
                raise KeyError(
                    f"Field '{k}': column(s) {missing} not in {self.path}; "
                    f"columns: {names}."
                )
            dts = [np.dtype(schema.field(x).type.to_pandas_dtype()) for x in cs]
            for x, dt in zip(cs, dts):
                if dt.kind not in "biuf":
                    raise TypeError(
                        f"Column '{x}' has type {schema.field(x).type}; likelihax "
                        "needs numbers."
                    )
            dt = np.result_type(*dts)
            spec[str(k)] = ((), dt) if isinstance(c, str) else ((len(cs),), dt)
            cols[str(k)] = cs
        self.fields, self._cols = spec, cols
        self._columns = sorted({x for cs in cols.values() for x in cs})
        self._offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.n = int(self._offsets[-1])
        if self.n == 0:
            raise ValueError(f"{self.path} has no rows.")
        self.chunk_size = chunk_size
        self._cache: OrderedDict = OrderedDict()

    def _group(self, i: int) -> dict:
        if i in self._cache:
            self._cache.move_to_end(i)
            return self._cache[i]
        if self.format == "parquet":
            t = self._file.read_row_group(i, columns=self._columns)
        else:
            t = self._file.get_batch(i).select(self._columns)
        g = {c: t.column(c).to_numpy() for c in self._columns}
        self._cache[i] = g
        while len(self._cache) > 3:
            self._cache.popitem(last=False)
        return g

    def read(self, start: int, stop: int) -> dict:
        first = int(np.searchsorted(self._offsets, start, side="right") - 1)
        last = int(np.searchsorted(self._offsets, stop, side="left") - 1)
        parts = {c: [] for c in self._columns}
        for i in range(first, last + 1):
            g = self._group(i)
            lo = max(start - self._offsets[i], 0)
            hi = min(stop - self._offsets[i], self._offsets[i + 1] - self._offsets[i])
            for c in self._columns:
                parts[c].append(g[c][lo:hi])
        col = {c: np.concatenate(v) if len(v) > 1 else v[0] for c, v in parts.items()}
        out = {}
        for k, (shape, _) in self.fields.items():
            cs = self._cols[k]
            out[k] = col[cs[0]] if shape == () else np.column_stack([col[c] for c in cs])
        return out
