"""Streamed data (memory maps, Parquet, Arrow): same fit as in memory, block by block."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import likelihax as lx

N, P = 20_011, 3  # N is not a multiple of the block size


def logistic(params, data):
    eta = params["a"] + data["X"] @ params["b"]
    return data["y"] * eta - jnp.logaddexp(0.0, eta)


START = {"a": 0.0, "b": np.zeros(P)}


@pytest.fixture(scope="module")
def arrays():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((N, P))
    eta = 0.3 + X @ np.array([0.7, -0.4, 0.2])
    y = (rng.random(N) < 1 / (1 + np.exp(-eta))).astype(float)
    w = rng.integers(0, 3, N).astype(float)
    return X, y, w


@pytest.fixture(scope="module")
def memmaps(arrays, tmp_path_factory):
    X, y, _ = arrays
    d = tmp_path_factory.mktemp("mm")
    Xm = np.memmap(d / "X.f64", dtype="float64", mode="w+", shape=X.shape)
    Xm[:] = X
    Xm.flush()
    ym = np.memmap(d / "y.f64", dtype="float64", mode="w+", shape=y.shape)
    ym[:] = y
    ym.flush()
    return (
        np.memmap(d / "X.f64", dtype="float64", mode="r", shape=X.shape),
        np.memmap(d / "y.f64", dtype="float64", mode="r", shape=y.shape),
    )


@pytest.fixture(scope="module")
def parquet_path(arrays, tmp_path_factory):
    X, y, _ = arrays
    path = tmp_path_factory.mktemp("pq") / "d.parquet"
    cols = {f"x{j}": X[:, j] for j in range(P)} | {"y": y}
    pq.write_table(pa.table(cols), path, row_group_size=3_000)  # misaligned with blocks
    return path


@pytest.fixture(scope="module")
def arrow_path(arrays, tmp_path_factory):
    X, y, _ = arrays
    path = tmp_path_factory.mktemp("arrow") / "d.arrow"
    t = pa.table({f"x{j}": X[:, j] for j in range(P)} | {"y": y})
    with pa.ipc.new_file(str(path), t.schema) as wr:
        for b in t.to_batches(max_chunksize=4_321):
            wr.write_batch(b)
    return path


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


class _Recorder(lx.ArraySource):
    """An ArraySource that records the size of every read (memory bound)."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.sizes = []

    def read(self, start, stop):
        self.sizes.append(stop - start)
        return super().read(start, stop)


@pytest.mark.parametrize("cov", ["oim", "sandwich", "opg"])
def test_memmap_source_equals_in_memory(arrays, memmaps, cov):
    X, y, _ = arrays
    ref = lx.fit(logistic, START, {"X": X, "y": y}, cov=cov)
    src = _Recorder({"X": memmaps[0], "y": memmaps[1]}, chunk_size=4_096)
    f = lx.fit(logistic, START, src, cov=cov)
    assert f.converged and f.nobs == N
    assert _rel(f.params["b"], ref.params["b"]) < 1e-10
    assert _rel(f.cov, ref.cov) < 1e-10
    assert abs(float(f.loglik) - float(ref.loglik)) < 1e-9 * abs(float(ref.loglik))
    # memory is bounded by the block: no read is larger than chunk_size
    assert max(src.sizes) == 4_096


def test_parquet_and_arrow_sources_equal_in_memory(arrays, parquet_path, arrow_path):
    X, y, _ = arrays
    ref = lx.fit(logistic, START, {"X": X, "y": y}, cov="sandwich")
    fields = {"X": [f"x{j}" for j in range(P)], "y": "y"}
    for src in (
        lx.ParquetSource(parquet_path, fields, chunk_size=5_000),
        lx.ParquetSource(arrow_path, fields, chunk_size=5_000, format="arrow"),
    ):
        f = lx.fit(logistic, START, src, cov="sandwich")
        assert _rel(f.params["b"], ref.params["b"]) < 1e-10
        assert _rel(f.cov, ref.cov) < 1e-10


@pytest.mark.parametrize("weight_type", ["frequency", "importance"])
def test_weights_with_a_source(arrays, memmaps, weight_type):
    X, y, w = arrays
    kw = dict(weights=w, weight_type=weight_type)
    ref = lx.fit(logistic, START, {"X": X, "y": y}, **kw)
    f = lx.fit(logistic, START, lx.ArraySource({"X": memmaps[0], "y": memmaps[1]},
                                               chunk_size=6_000), **kw)  # fmt: skip
    assert f.nobs == ref.nobs
    assert _rel(f.cov, ref.cov) < 1e-10


def test_vcov_and_bootstrap_reread_the_source(arrays, memmaps):
    X, y, _ = arrays
    ref = lx.fit(logistic, START, {"X": X, "y": y})
    f = lx.fit(logistic, START, lx.ArraySource({"X": memmaps[0], "y": memmaps[1]},
                                               chunk_size=5_000))  # fmt: skip
    assert _rel(f.vcov("hc1"), ref.vcov("hc1")) < 1e-10
    b_ref = lx.bootstrap(ref, n_boot=8, seed=5)
    b = lx.bootstrap(f, n_boot=8, seed=5)
    assert _rel(b.se, b_ref.se) < 1e-8
    with pytest.raises(ValueError, match="source"):
        f.vcov("opg", data={"X": X, "y": y})
    with pytest.raises(ValueError, match="streamed"):
        f.vcov("cluster", groups=np.arange(N) % 7)


def test_nan_in_a_memory_map_names_field_and_rows(tmp_path):
    y = np.memmap(tmp_path / "y", dtype="float64", mode="w+", shape=(5_000,))
    y[:] = 1.0
    y[4_321] = np.nan
    y.flush()
    src = lx.ArraySource({"y": np.memmap(tmp_path / "y", dtype="float64", mode="r")},
                         chunk_size=1_000)  # fmt: skip
    with pytest.raises(Exception, match=r"field 'y' has NaN values at rows \[4321\]"):
        lx.fit(lambda p, d: -0.5 * (d["y"] - p["mu"]) ** 2, {"mu": 0.0}, src)


def test_nonfinite_start_on_a_source_lists_rows():
    x = np.ones(3_000)
    x[2_500] = -1.0
    src = lx.ArraySource({"x": x}, chunk_size=1_000)
    with pytest.raises(ValueError, match=r"non-finite log-likelihood: \[2500\]"):
        lx.fit(lambda p, d: jnp.log(d["x"]) * p["a"] - p["a"] ** 2, {"a": 1.0}, src)


def test_source_errors(arrays, parquet_path):
    X, y, _ = arrays
    with pytest.raises(ValueError, match="rows but the other fields"):
        lx.ArraySource({"X": X, "y": y[:-1]})
    with pytest.raises(TypeError, match="dict of named arrays"):
        lx.ArraySource([X, y])
    with pytest.raises(TypeError, match="needs numbers"):
        lx.ArraySource({"s": np.array(["a", "b"])})
    with pytest.raises(KeyError, match="not in"):
        lx.ParquetSource(parquet_path, {"X": ["x0", "nope"]})
    src = lx.ArraySource({"X": X, "y": y}, chunk_size=5_000)
    with pytest.raises(ValueError, match="chunk_size"):
        lx.fit(logistic, START, src, chunk_size=100)
    with pytest.raises(ValueError, match="devices="):
        lx.fit(logistic, START, src, devices="all")
    with pytest.raises(ValueError, match="one log-likelihood value per observation"):
        lx.fit(lambda p, d: jnp.sum(logistic(p, d)), START, src)
    with pytest.raises(ValueError, match="parametric bootstrap"):
        f = lx.fit(logistic, START, src)
        lx.bootstrap(f, n_boot=2, method="parametric",
                     simulate=lambda key, params, data: data)  # fmt: skip


def test_caller_memmap_untouched(arrays, memmaps):
    X, y, _ = arrays
    before = np.array(memmaps[0][:10])
    lx.fit(logistic, START, lx.ArraySource({"X": memmaps[0], "y": memmaps[1]}))
    np.testing.assert_array_equal(memmaps[0][:10], before)
    np.testing.assert_array_equal(np.asarray(memmaps[1]), y)


def test_copy_on_write_memmap_keeps_the_callers_edits(tmp_path):
    """Blocks of a mode='c' memmap are not unmapped: the caller's in-memory
    edits (private pages) survive the fit and are the data it sees."""
    path = tmp_path / "y.f64"
    y = np.memmap(path, dtype="float64", mode="w+", shape=(4_000,))
    y[:] = 1.0
    y.flush()
    yc = np.memmap(path, dtype="float64", mode="c", shape=(4_000,))
    yc[:2_000] = 3.0  # private edits, never written to the file
    src = lx.ArraySource({"y": yc}, chunk_size=500)
    f = lx.fit(lambda p, d: -0.5 * (d["y"] - p["mu"]) ** 2, {"mu": 0.0}, src)
    assert abs(float(f.params["mu"]) - 2.0) < 1e-12
    assert np.all(yc[:2_000] == 3.0) and np.all(yc[2_000:] == 1.0)
