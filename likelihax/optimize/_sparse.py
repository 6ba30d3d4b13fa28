r"""Symmetric sparse matrices: QDLDL's sparse LDL' factorization, differentiable once.

The latent Hessian of a Gaussian Markov random field on an irregular graph (a
spatial mesh, a random geometric graph) has a few non-zero entries per row but
no narrow band in any ordering. Held dense, 10,000 latent values need an
800 MB matrix and a :math:`3 \cdot 10^{11}`-flop factorization; a sparse
factorization after a fill-reducing ordering needs some hundred thousand
numbers and a few milliseconds.

:class:`SparseSym` holds the upper triangle of a symmetric matrix in
compressed sparse column (CSC) storage, its structure
(:class:`SparsePattern`) static, its values a JAX array. The factorization is
QDLDL's (the sparse LDL' factorization of OSQP, with an approximate minimum
degree ordering: :math:`P A P^\top = L D L^\top`, ``pip install
'likelihax[sparse]'``), run on the host through ``buffer_callback`` (``host_call``). The
ordering and the symbolic analysis are computed once per structure and the
last numeric factorization is kept, so a solve or log-determinant of the
same matrix does not factorize again. Derivatives:

* :func:`sparse_solve` :math:`x = A^{-1} c` is a
  ``jax.lax.custom_linear_solve`` whose matrix product is written with JAX
  operations on the stored values: linear in :math:`c`, with the rule
  :math:`dx = A^{-1}(dc - dA\,x)`, differentiable to any order.
* :func:`sparse_logdet` (the sum of :math:`\log D`; NaN where a pivot is not
  positive, i.e. where :math:`A` is not positive definite) has the rule
  :math:`d\log\det A = \operatorname{tr}(Z\,dA)`, which reads :math:`Z = A^{-1}`
  only on the stored pattern of :math:`A`. Those entries come from the
  recursion of Takahashi, Fagan and Chin (1973) on the LDL' factor, which
  gives :math:`Z` on the pattern of :math:`L + L^\top` (it contains that of
  :math:`A`) from the last column to the first:

  .. math::

      Z_{S j} = -Z_{S S}\, L_{S j}, \qquad
      Z_{j j} = 1/D_j - L_{S j}^\top Z_{S j},

  with :math:`S` the rows of column :math:`j` of :math:`L` below the
  diagonal (:func:`ldl_selected_inverse`, one small dense product per column
  in NumPy). Neither QDLDL nor SciPy (nor CHOLMOD's Python bindings) return
  selected inverses; the recursion reads an existing factor and factorizes
  nothing. The rule is not differentiable again (a second derivative of
  :math:`\log\det A` needs entries of :math:`A^{-1}` off the pattern): models
  that need curvature differentiate the exact gradient instead, as for
  :mod:`likelihax.optimize._banded`.

Reference: Takahashi, K., Fagan, J. & Chin, M.-S. (1973). Formation of a sparse
bus impedance matrix and its application to short circuit study. *8th PICA
Conference Proceedings*, 63-69.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import importlib.util
import threading

import jax
import jax.numpy as jnp
import numpy as np

from ._host import host_call

__all__ = [
    "SparsePattern",
    "SparseSym",
    "ldl_selected_inverse",
    "qdldl_available",
    "sparse_direction",
    "sparse_logdet",
    "sparse_selected_inverse",
    "sparse_solve",
]

_MISSING = ("The sparse layout of the latent Hessian needs the qdldl package: "
            "pip install 'likelihax[sparse]' (or pip install qdldl).")  # fmt: skip


def qdldl_available() -> bool:
    """Whether the optional ``qdldl`` package (``likelihax[sparse]``) is installed."""
    return importlib.util.find_spec("qdldl") is not None


def _require_qdldl():
    try:
        import qdldl
    except ImportError as e:
        raise ImportError(_MISSING) from e
    return qdldl


class SparsePattern:
    """Structure of a symmetric sparse matrix: its upper triangle in CSC storage.

    Stored entry ``k`` is ``(rows[k], cols[k])`` with ``rows[k] <= cols[k]``,
    sorted by column, then row; every diagonal entry is stored. Two patterns
    with the same structure are equal and hash alike.

    Parameters
    ----------
    i, j : array_like of int
        Entries ``(i, j)`` that may be non-zero (either triangle, repeats
        allowed); the diagonal is added.
    n : int
        Order of the matrix.

    Examples
    --------
    >>> from likelihax.optimize import SparsePattern
    >>> pat = SparsePattern([0, 2], [1, 0], 3)     # a path 1 - 0 - 2
    >>> pat.nnz, pat.rows.tolist(), pat.cols.tolist()
    (5, [0, 0, 1, 0, 2], [0, 1, 1, 2, 2])
    >>> pat.position([1, 2, 1], [0, 0, 2]).tolist()  # (1, 2) is not stored
    [1, 3, -1]
    """

    def __init__(self, i, j, n: int):
        n = int(n)
        i = np.asarray(i, dtype=np.int64).ravel()
        j = np.asarray(j, dtype=np.int64).ravel()
        if i.shape != j.shape:
            raise ValueError(f"i and j differ in length ({i.size}, {j.size}).")
        if n < 1 or (i.size and (min(i.min(), j.min()) < 0 or max(i.max(), j.max()) >= n)):
            raise ValueError(f"An index is outside 0..{n - 1} (or n = {n} < 1).")
        lo = np.concatenate([np.minimum(i, j), np.arange(n)])
        hi = np.concatenate([np.maximum(i, j), np.arange(n)])
        keys = np.unique(hi * n + lo)  # sorted by column, then row
        self.n = n
        small = np.int32 if n < 2**31 else np.int64  # index arrays for JAX, any precision
        self.cols, self.rows = (keys // n).astype(small), (keys % n).astype(small)
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(self.cols, minlength=n))])
        self._keys = keys
        self.diag = np.flatnonzero(self.rows == self.cols).astype(small)
        h = hashlib.sha256(repr(n).encode())
        h.update(keys.tobytes())
        self.digest = h.hexdigest()

    @property
    def nnz(self) -> int:
        """Number of stored entries (the upper triangle with the diagonal)."""
        return int(self._keys.size)

    def position(self, i, j) -> np.ndarray:
        """Flat positions of entries ``(i, j)`` (either triangle); -1 where not stored."""
        i, j = np.asarray(i, np.int64), np.asarray(j, np.int64)
        key = np.maximum(i, j) * self.n + np.minimum(i, j)
        at = np.minimum(np.searchsorted(self._keys, key), self.nnz - 1)
        return np.where(self._keys[at] == key, at, -1)

    def factor_counts(self) -> np.ndarray:
        """Entries per column of QDLDL's factor :math:`L` (its diagonal
        included) after its ordering: the symbolic cost of the factorization,
        :math:`\\sum_j c_j^2` flops up to a constant, as for the selected
        inverse. Computed from a diagonally dominant matrix of this pattern
        (needs ``qdldl``)."""
        import scipy.sparse as sp

        qdldl = _require_qdldl()
        off = self.rows != self.cols
        deg = np.bincount(self.rows[off], minlength=self.n) + np.bincount(
            self.cols[off], minlength=self.n)  # fmt: skip
        values = np.where(off, -1.0, 0.0)
        values[self.diag] = deg + 1.0
        U = sp.csc_matrix((values, self.rows, self.indptr), shape=(self.n, self.n))
        L = qdldl.Solver(U, upper=True).factors()[0].tocsc()
        return np.diff(L.indptr) + 1

    def __eq__(self, other) -> bool:
        return isinstance(other, SparsePattern) and self.digest == other.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        return f"SparsePattern(n={self.n}, nnz={self.nnz})"


@jax.tree_util.register_pytree_node_class
class SparseSym:
    """A symmetric sparse matrix: ``values`` on a static :class:`SparsePattern`.

    Attributes
    ----------
    values : array (nnz,)
        The stored entries of the upper triangle, in the pattern's order.
    pattern : SparsePattern
    """

    def __init__(self, values, pattern: SparsePattern):
        self.values = values
        self.pattern = pattern

    def tree_flatten(self):
        return (self.values,), self.pattern

    @classmethod
    def tree_unflatten(cls, pattern, children):
        return cls(children[0], pattern)

    @property
    def n(self) -> int:
        return self.pattern.n

    def matvec(self, x):
        """:math:`A x` for ``x`` ``(n,)`` or ``(n, k)``."""
        p = self.pattern
        v = self.values if x.ndim == 1 else self.values[:, None]
        off = jnp.asarray(p.rows != p.cols)
        v_off = v * (off if x.ndim == 1 else off[:, None])
        y = jnp.zeros_like(x).at[p.rows].add(v * x[p.cols])
        return y.at[p.cols].add(v_off * x[p.rows])

    def dense(self) -> jax.Array:
        """The whole ``(n, n)`` matrix (tests, small cases)."""
        p = self.pattern
        M = jnp.zeros((p.n, p.n), self.values.dtype).at[p.rows, p.cols].set(self.values)
        return M.at[p.cols, p.rows].set(self.values)

    def diagonal(self):
        return self.values[self.pattern.diag]

    def shift(self, tau):
        """:math:`A + \\tau I`."""
        return SparseSym(self.values.at[self.pattern.diag].add(tau), self.pattern)

    def gershgorin_shift(self):
        """Smallest :math:`\\tau \\ge 0` making :math:`A + \\tau I` diagonally
        dominant, plus :math:`10^{-8}` of the largest diagonal entry."""
        p = self.pattern
        a = jnp.where(jnp.asarray(p.rows != p.cols), jnp.abs(self.values), 0.0)
        off = jnp.zeros((p.n,), self.values.dtype).at[p.rows].add(a).at[p.cols].add(a)
        d = self.diagonal()
        need = jnp.max(off - d, initial=0.0)
        return jnp.maximum(need, 0.0) + 1e-8 * jnp.max(jnp.abs(d), initial=0.0)


# ----- the selected inverse ---------------------------------------------------------------
def _takahashi_plan(indptr, indices, n):
    """Per column j of L (rows S): the flat positions of Z[S, S] in the storage
    ``concat(Z on L's pattern, diag Z)``, and their offsets."""
    nnz = int(indptr[-1])
    cnt = np.diff(indptr).astype(np.int64)
    keys = np.repeat(np.arange(n, dtype=np.int64), cnt) * n + indices
    sz2 = cnt * cnt
    off = np.concatenate([[0], np.cumsum(sz2)])
    jj = np.repeat(np.arange(n), sz2)
    k = np.arange(off[-1], dtype=np.int64) - off[jj]
    s = np.maximum(cnt[jj], 1)
    a = indices[indptr[jj] + k // s].astype(np.int64)
    b = indices[indptr[jj] + k % s].astype(np.int64)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    pos = np.searchsorted(keys, lo * n + hi)
    pos = np.where(lo == hi, nnz + lo, pos)
    bad = (lo != hi) & (keys[np.minimum(pos, max(nnz - 1, 0))] != lo * n + hi)
    if np.any(bad):  # not a Cholesky pattern (fill missing)
        raise ValueError("L's pattern is not closed under elimination (not a Cholesky factor).")
    dtype = np.int32 if nnz + n < 2**31 else np.int64
    return pos.astype(dtype), off


def ldl_selected_inverse(L, D, plan=None):
    """Entries of :math:`A^{-1}` on the pattern of :math:`L + L^\\top`, from
    :math:`A = L D L^\\top` (Takahashi's recursion; module notes).

    Parameters
    ----------
    L : scipy.sparse matrix (n, n)
        Strictly lower triangular part of the unit lower factor, CSC with its
        rows sorted in each column (QDLDL's ``factors()``).
    D : array (n,)
        The pivots.
    plan : tuple, optional
        The symbolic plan of L's pattern, reused between calls with the same
        pattern (internal).

    Returns
    -------
    z : ndarray (nnz(L),)
        :math:`(A^{-1})_{ij}` for the stored entries ``(i, j)`` of ``L``
        (``L.indices``, ``L.indptr``).
    zd : ndarray (n,)
        The diagonal of :math:`A^{-1}`.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from likelihax.optimize import ldl_selected_inverse
    >>> L = sp.csc_matrix(np.array([[0, 0, 0], [0.5, 0, 0], [0, 0.25, 0]]))
    >>> D = np.array([2.0, 1.0, 4.0])
    >>> U = np.eye(3) + L.toarray()
    >>> Zi = np.linalg.inv(U @ np.diag(D) @ U.T)
    >>> z, zd = ldl_selected_inverse(L, D)
    >>> bool(np.allclose(zd, np.diag(Zi))), bool(np.allclose(z, [Zi[1, 0], Zi[2, 1]]))
    (True, True)
    """
    L = L.tocsc()
    L.sort_indices()
    n = L.shape[0]
    ip, ix, lx = L.indptr, L.indices, np.asarray(L.data, np.float64)
    nnz = int(ip[-1])
    pos, off = _takahashi_plan(ip, ix, n) if plan is None else plan
    D = np.asarray(D, np.float64)
    z = np.zeros(nnz + n)
    for j in range(n - 1, -1, -1):
        l0, l1 = ip[j], ip[j + 1]
        if l1 == l0:
            z[nnz + j] = 1.0 / D[j]
            continue
        s = l1 - l0
        lj = lx[l0:l1]
        zs = -(z[pos[off[j] : off[j + 1]]].reshape(s, s) @ lj)
        z[l0:l1] = zs
        z[nnz + j] = 1.0 / D[j] - lj @ zs
    return z[:nnz], z[nnz:]


# ----- the host side: QDLDL, one cached symbolic analysis per structure --------------------
class _Entry:
    """The solver of one structure and its last numeric factorization."""

    def __init__(self):
        self.lock = threading.Lock()
        self.solver = None
        self.values = None  # the values last factorized
        self.ok = False
        self.factors = None  # (L, D, p) of those values
        self.plan = None  # the selected inverse's plan and its map to A's storage
        self.to_a = None
        self.plan_of = None  # (p, L.indptr) the plan was made for


_CACHE: collections.OrderedDict = collections.OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def _entry(pattern: SparsePattern) -> _Entry:
    with _CACHE_LOCK:
        e = _CACHE.pop(pattern.digest, None) or _Entry()
        _CACHE[pattern.digest] = e
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return e


def _factorize(e: _Entry, pattern: SparsePattern, values) -> bool:
    """Hold the LDL' factorization of ``values`` in ``e`` (under ``e.lock``);
    whether every pivot is positive (the matrix positive definite)."""
    if e.values is not None and np.array_equal(e.values, values):
        return e.ok
    import scipy.sparse as sp

    qdldl = _require_qdldl()
    e.values, e.ok, e.factors = values.copy(), False, None
    if not np.all(np.isfinite(values)):
        return False
    U = sp.csc_matrix((values, pattern.rows, pattern.indptr), shape=(pattern.n, pattern.n))
    try:
        if e.solver is None:
            e.solver = qdldl.Solver(U, upper=True)
        else:  # the same structure: the ordering and symbolic analysis are kept
            e.solver.update(U, upper=True)
        L, D, p = e.solver.factors()
    except (RuntimeError, ValueError):  # a zero pivot in the first factorization
        e.solver = None
        return False
    e.factors = (L, np.asarray(D, np.float64), np.asarray(p, np.int64))
    e.ok = bool(np.all(np.isfinite(D)) and np.all(np.asarray(D) > 0))
    return e.ok


def _selected(e: _Entry, pattern: SparsePattern) -> np.ndarray:
    """:math:`A^{-1}` on A's stored entries, from the factorization held in ``e``."""
    L, D, p = e.factors
    L = L.tocsc()
    L.sort_indices()
    n = pattern.n
    if e.plan_of is None or not (np.array_equal(e.plan_of[0], p)
                                 and np.array_equal(e.plan_of[1], L.indptr)):  # fmt: skip
        e.plan_of = (p, L.indptr.copy())
        e.plan = _takahashi_plan(L.indptr, L.indices, n)
        iperm = np.empty_like(p)
        iperm[p] = np.arange(n)
        a, b = iperm[pattern.rows], iperm[pattern.cols]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        cnt = np.diff(L.indptr)
        keys = np.repeat(np.arange(n, dtype=np.int64), cnt) * n + L.indices
        at = np.searchsorted(keys, lo * n + hi)
        e.to_a = np.where(lo == hi, L.nnz + lo, at)
    z, zd = ldl_selected_inverse(L, D, e.plan)
    return np.concatenate([z, zd])[e.to_a]


def _host_logdet(values, *, pattern, dtype, inverse):
    values = values.astype(np.float64)
    e = _entry(pattern)
    with e.lock:
        if _factorize(e, pattern, values):
            ld = np.sum(np.log(e.factors[1]))
            z = _selected(e, pattern) if inverse else None
        else:
            ld, z = np.nan, np.full(pattern.nnz, np.nan)
    return (ld, z) if inverse else (ld,)


def _host_solve(values, c, *, pattern, dtype):
    values, c = values.astype(np.float64), c.astype(np.float64)
    e = _entry(pattern)
    with e.lock:
        if not _factorize(e, pattern, values):
            return (np.full(c.shape, np.nan),)
        C = c.reshape(pattern.n, -1)
        x = np.stack([e.solver.solve(np.ascontiguousarray(C[:, k]))
                      for k in range(C.shape[1])], axis=1)  # fmt: skip
    return (x.reshape(c.shape),)


def _callback(fn, shapes, dtype, *args):
    return host_call(fn, shapes, dtype, *args)


# ----- the JAX side ------------------------------------------------------------------------
@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _logdet(pattern, values):
    fn = functools.partial(_host_logdet, pattern=pattern, inverse=False)
    return _callback(fn, [()], values.dtype, values)[0]


@_logdet.defjvp
def _logdet_jvp(pattern, primals, tangents):
    (v,), (dv,) = primals, tangents
    fn = functools.partial(_host_logdet, pattern=pattern, inverse=True)
    ld, z = _callback(fn, [(), (pattern.nnz,)], v.dtype, jax.lax.stop_gradient(v))
    w = jnp.asarray(np.where(pattern.rows == pattern.cols, 1.0, 2.0), v.dtype)
    return ld, jnp.sum(w * z * dv)


def sparse_logdet(A: SparseSym):
    """:math:`\\log\\det A` of a symmetric positive-definite sparse matrix (the
    sum of the logarithms of QDLDL's pivots); NaN where a pivot is not positive
    (:math:`A` not positive definite). Differentiable once (module notes).

    Examples
    --------
    >>> import math, jax.numpy as jnp
    >>> from likelihax.optimize import SparsePattern, SparseSym, sparse_logdet
    >>> pat = SparsePattern([0, 1], [1, 2], 3)          # tridiagonal 3 x 3
    >>> A = SparseSym(jnp.array([4.0, 1.0, 5.0, 2.0, 6.0]), pat)
    >>> abs(float(sparse_logdet(A)) - math.log(98.0)) < 1e-5   # det = 4*26 - 1*6
    True
    """
    return _logdet(A.pattern, A.values)


def sparse_selected_inverse(A: SparseSym):
    """:math:`A^{-1}` on the stored entries of ``A`` (NaN where not positive
    definite); not differentiable.

    Returns
    -------
    array (nnz,)
        :math:`(A^{-1})_{ij}` for the stored entries ``(rows[k], cols[k])``
        of ``A.pattern``: the diagonal gives the variances of a Gaussian
        with precision :math:`A`.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp
    >>> from likelihax.optimize import SparsePattern, SparseSym, sparse_selected_inverse
    >>> A = SparseSym(jnp.array([4.0, 1.0, 5.0, 2.0, 6.0]), SparsePattern([0, 1], [1, 2], 3))
    >>> Zi = np.linalg.inv(np.asarray(A.dense()))
    >>> z = np.asarray(sparse_selected_inverse(A))
    >>> bool(np.allclose(z, Zi[A.pattern.rows, A.pattern.cols]))
    True
    """
    fn = functools.partial(_host_logdet, pattern=A.pattern, inverse=True)
    v = jax.lax.stop_gradient(A.values)
    return _callback(fn, [(), (A.pattern.nnz,)], v.dtype, v)[1]


def sparse_solve(A: SparseSym, c):
    """:math:`A^{-1} c` for a symmetric positive-definite sparse ``A`` and ``c``
    ``(n,)`` or ``(n, k)``; NaN where ``A`` is not positive definite.

    A ``jax.lax.custom_linear_solve`` around QDLDL's solve: linear in ``c``
    (so transposable, for reverse mode) and differentiable in ``A`` to any
    order, by :math:`dx = A^{-1}(dc - dA\\,x)`.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from likelihax.optimize import SparsePattern, SparseSym, sparse_solve
    >>> A = SparseSym(jnp.array([2.0, 1.0, 2.0]), SparsePattern([0], [1], 2))
    >>> [round(float(v), 6) for v in sparse_solve(A, jnp.array([3.0, 3.0]))]
    [1.0, 1.0]
    """
    dtype = jnp.result_type(A.values, c)
    values, c = A.values.astype(dtype), c.astype(dtype)
    host = jax.lax.stop_gradient(values)
    fn = functools.partial(_host_solve, pattern=A.pattern)

    def solve(_, rhs):
        return _callback(fn, [rhs.shape], dtype, host, rhs)[0]

    return jax.lax.custom_linear_solve(SparseSym(values, A.pattern).matvec, c, solve,
                                       symmetric=True)  # fmt: skip


def sparse_direction(A: SparseSym, g):
    """Newton direction :math:`-A^{-1} g`; where :math:`A` is not positive
    definite, of :math:`A + \\tau I` with its Gershgorin shift (a descent
    direction). Not for differentiation."""
    x = sparse_solve(A, g)
    x = jax.lax.cond(jnp.all(jnp.isfinite(x)), lambda _: x,
                     lambda _: sparse_solve(A.shift(A.gershgorin_shift()), g), None)  # fmt: skip
    return -x
