"""Which latent entries each term of a joint log-density touches, and their colouring.

:class:`LatentPattern` records, for a joint log-density that returns its terms,
the latent entries each term depends on, coloured so that no term touches two
entries of one colour (Curtis, Powell and Reid's grouping); the general
Laplace approximation (:func:`likelihax.models.random_effects.integrate`)
assembles the latent Hessian from one second-order forward pass per pair of
colours. :func:`latent_pattern` detects the pattern from the log-density;
:meth:`LatentPattern.from_supports` declares it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ...core import x64_scope
from ...optimize import SparsePattern, border_pairs, qdldl_available

__all__ = ["LatentPattern", "latent_pattern"]


# A bordered Hessian's border is held dense when its Schur complement costs at
# most this many times the pairs' products as one matrix product (and the
# dense border has at most DENSE_BORDER_SIZE entries); see ``pairs`` below.
# (A Poisson GLMM with 2,000 x 200 crossed levels: the gradient of the
# log-determinant in a third of the time; InstEval, 2,000 times the work:
# pairs.)
DENSE_BORDER = 128
DENSE_BORDER_SIZE = 2**25

# Without lead blocks, a latent Hessian of at least LARGE entries is held in
# band storage or, when qdldl is installed, in sparse storage; band storage
# where its work n (b + 1)^2 is at most BAND_COST times the sparse factor's
# sum of squared column counts (see ``LatentPattern.from_supports``). Measured
# on a 2-core CPU, a Poisson GMRF's marginal and gradient: a series (b = 1) in
# band storage 0.17 s, sparse 0.29 s (T = 10,000); a 100 x 100 lattice (b =
# 100) 4.8 s against 0.49 s; a Delaunay mesh of 2,000 points (b = 188) 13.4 s
# against 0.15 s.
LARGE = 1000
BAND_COST = 2.0


# ----- which latent entries each term touches ---------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class LatentPattern:
    """Which latent entries each term of a joint log-density touches, coloured.

    Two patterns with the same content are equal (and hash alike), so a model
    built again for the same data reuses its compiled programs.

    Build it with :func:`latent_pattern` (detected from the log-density) or
    :meth:`from_supports` (declared). ``columns[c, i]`` is the latent entry of
    colour ``c`` that term ``i`` touches, or -1; no term touches two entries of
    one colour.

    Attributes
    ----------
    n_terms, n_latent : int
        Terms of the joint (its flattened output) and latent entries.
    colors : ndarray (n_latent,)
        The colour of each latent entry.
    columns : ndarray (n_colors, n_terms)
        Per colour, the latent entry each term touches (-1: none).
    lead : tuple or None
        ``(n, q)`` when the first ``n q`` latent entries form ``n`` blocks of
        ``q`` that no term links (the levels of a random-effect term): the
        latent Hessian is then held as a :class:`likelihax.optimize.Bordered`
        matrix and factorized block by block. None: held dense.
    border : ndarray (n, m) or None
        With ``lead``: the other latent entries (numbered from 0 after the
        blocks) each block meets in some term, padded with 0.
    pairs : ndarray (3, P) or None
        With ``lead``: the slot pairs of the border that make the Schur
        complement (:func:`likelihax.optimize.border_pairs`); None when the
        border is held dense instead, its Schur complement one matrix
        product (where that costs at most ``DENSE_BORDER`` times the pairs'
        products: a sorted gather and scatter of the pairs costs about that
        much more per product than a matrix product on XLA:CPU).
    perm, bandwidth : ndarray (n_latent,), int, or None
        Without ``lead``, when the latent Hessian is banded after its entries
        are put in reverse Cuthill-McKee order: the order (``perm[i]``, the
        entry at position ``i``) and the bandwidth. It is then held in band
        storage (:class:`likelihax.optimize.Banded`). None: held dense.
    sparse : SparsePattern or None
        Without ``lead`` and band: the structure of the latent Hessian's upper
        triangle, which is then held in sparse storage
        (:class:`likelihax.optimize.SparseSym`) and factorized by QDLDL's
        sparse LDL' factorization after an approximate minimum degree
        ordering. None: not sparse.
    targets : tuple of ndarray
        Per pair of colours ``a <= b`` (in the order of the passes), ``(2,
        n_terms)`` flat positions where each term's second derivative is
        added in the Hessian's storage (:meth:`storage_size`; the last
        position takes what is not stored).
    """

    n_terms: int
    n_latent: int
    colors: np.ndarray
    columns: np.ndarray
    lead: tuple | None = None
    border: np.ndarray | None = None
    targets: tuple = ()
    pairs: np.ndarray | None = None
    perm: np.ndarray | None = None
    bandwidth: int | None = None
    sparse: SparsePattern | None = None

    @functools.cached_property
    def _digest(self) -> str:
        """Hash of the whole content (equal patterns share compiled programs)."""
        h = hashlib.sha256(repr((self.n_terms, self.n_latent, self.lead)).encode())
        h.update(repr(self.bandwidth).encode())
        h.update(repr(None if self.sparse is None else self.sparse.digest).encode())
        arrays = (self.colors, self.columns, self.border, self.pairs, self.perm, *self.targets)
        for a in arrays:
            if a is not None:
                a = np.ascontiguousarray(a)
                h.update(repr((a.dtype.str, a.shape)).encode())
                h.update(a.tobytes())
        return h.hexdigest()

    def __eq__(self, other) -> bool:
        return isinstance(other, LatentPattern) and self._digest == other._digest

    def __hash__(self) -> int:
        return hash(self._digest)

    @property
    def storage_size(self) -> int:
        """Length of the flat storage of the Hessian (plus one discard slot)."""
        n = self.n_latent
        if self.bandwidth is not None:
            return (self.bandwidth + 1) * n + 1
        if self.sparse is not None:
            return self.sparse.nnz + 1
        if self.lead is None:
            return n * n + 1
        n1, q1 = self.lead
        r = n - n1 * q1
        return n1 * q1 * q1 + n1 * q1 * self.border.shape[1] + r * r + 1

    @property
    def n_colors(self) -> int:
        return int(self.columns.shape[0])

    @property
    def passes(self) -> int:
        """Second-order forward passes per latent Hessian: ``C (C + 1) / 2``."""
        return self.n_colors * (self.n_colors + 1) // 2

    @classmethod
    def from_supports(cls, rows, cols, n_terms: int, n_latent: int,
                      lead: tuple | None = None, colors=None,
                      banded: bool | None = None,
                      sparse: bool | None = None) -> LatentPattern:  # fmt: skip
        r"""Declare the pattern: term ``rows[k]`` touches latent entry ``cols[k]``.

        Parameters
        ----------
        rows, cols : array_like of int
            Pairs (term, latent entry), in any order, repeats allowed.
        n_terms, n_latent : int
            Number of terms (length of the joint's flattened output) and of
            latent entries.
        lead : tuple (n, q), optional
            The first ``n q`` entries are ``n`` blocks of ``q`` that no term
            links (see the class attributes); checked.
        colors : array_like of int (n_latent,), optional
            A colouring known from the model (e.g. one colour per
            random-effect term and effect: no row touches two levels of one
            term), checked: no term may touch two entries of one colour.
            Default: a greedy colouring.
        banded : bool, optional
            Without ``lead``: hold the latent Hessian in band storage after a
            reverse Cuthill-McKee ordering (True), not in band storage
            (False), or automatically (None, the default; see the notes).
        sparse : bool, optional
            Without ``lead``: hold the latent Hessian in sparse storage,
            factorized by QDLDL's sparse LDL' factorization after an
            approximate minimum degree ordering (True; needs the ``qdldl``
            package, ``pip install 'likelihax[sparse]'``), never (False), or
            automatically (None, the default).

        Returns
        -------
        LatentPattern

        Raises
        ------
        ValueError
            An index out of range, or a term or a latent entry that nothing
            touches (an entry no term touches has no curvature: the Laplace
            approximation is not defined); ``sparse=True`` with ``lead`` or
            with ``banded=True``.
        ImportError
            ``sparse=True`` without the ``qdldl`` package.

        Notes
        -----
        The automatic layout (``lead``, ``banded`` and ``sparse`` not given):
        dense below 1,000 latent entries. From 1,000 on, with ``qdldl``
        installed: band storage when the band :math:`b` after reverse
        Cuthill-McKee is at most 1 wide or its work :math:`n (b + 1)^2` is at
        most twice the sparse factor's :math:`\sum_j c_j^2` (:math:`c_j`
        entries in column :math:`j` of :math:`L`): a latent series; else
        sparse storage: a lattice field, an irregular mesh, a random geometric
        graph. Without ``qdldl``: band storage when the band holds less than
        a quarter of the matrix, else dense.

        Examples
        --------
        Two crossed factors, three observations: a colour per factor.

        >>> from likelihax.models.random_effects import LatentPattern
        >>> pat = LatentPattern.from_supports([0, 0, 1, 1, 2, 2], [0, 2, 1, 2, 0, 3],
        ...                                   n_terms=3, n_latent=4)
        >>> pat.n_colors, pat.colors.tolist()
        (2, [0, 0, 1, 1])
        """
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        n_terms, n_latent = int(n_terms), int(n_latent)
        if rows.shape != cols.shape:
            raise ValueError(f"rows and cols differ in length ({rows.size}, {cols.size}).")
        if rows.size and (rows.min() < 0 or rows.max() >= n_terms):
            raise ValueError(f"A term index is outside 0..{n_terms - 1}.")
        if cols.size and (cols.min() < 0 or cols.max() >= n_latent):
            raise ValueError(f"A latent index is outside 0..{n_latent - 1}.")
        untouched = np.setdiff1d(np.arange(n_latent), cols)
        if untouched.size:
            raise ValueError(
                f"Latent entries {untouched[:10].tolist()} are touched by no term of "
                "the joint log-density: the density does not depend on them, so "
                "they cannot be integrated out (give every latent entry a prior term)."
            )
        if colors is None:
            colors = _color(rows, cols, n_latent)
        else:
            colors = np.asarray(colors, dtype=np.int64).ravel()
            if colors.shape != (n_latent,) or colors.min(initial=0) < 0:
                raise ValueError(f"colors must be {n_latent} integers >= 0.")
            touched = np.unique(rows * n_latent + cols)
            t_rows, t_cols = touched // n_latent, touched % n_latent
            if np.unique(t_rows * (colors.max() + 1) + colors[t_cols]).size != touched.size:
                raise ValueError("colors: a term touches two latent entries of one colour.")
        columns = np.full((int(colors.max()) + 1, n_terms), -1, dtype=np.int32)
        columns[colors[cols], rows] = cols
        border = pairs = perm = band = sp_pat = None
        if sparse and (lead is not None or banded):
            raise ValueError("sparse=True excludes lead blocks and banded=True: choose one "
                             "layout of the latent Hessian.")  # fmt: skip
        if lead is not None:
            lead = tuple(int(x) for x in lead)
            border, counts = _border(rows, cols, n_latent, lead)
            r = n_latent - lead[0] * lead[1]
            n_pairs = lead[1] ** 2 * int(np.sum(counts * (counts + 1) // 2))
            dense_work = lead[0] * lead[1] * r * r
            if dense_work > DENSE_BORDER * n_pairs or lead[0] * lead[1] * r > DENSE_BORDER_SIZE:
                pairs = border_pairs(border, counts, r)
        else:
            perm, band, sp_pat = _layout(rows, cols, n_latent, banded, sparse)
        targets = _targets(columns, n_latent, lead, border, perm, band, sp_pat)
        return cls(n_terms, n_latent, colors, columns, lead, border, targets, pairs, perm,
                   band, sp_pat)  # fmt: skip


def _layout(rows, cols, n_latent, banded, sparse) -> tuple:
    """``(perm, bandwidth, sparse pattern)`` of a Hessian without lead blocks
    (see :meth:`LatentPattern.from_supports`); all None: dense."""
    large = n_latent >= LARGE
    want_band = banded or (banded is None and not sparse and large)
    want_sparse = sparse or (sparse is None and large and not banded and qdldl_available())
    if not (want_band or want_sparse):
        return None, None, None
    if sparse and not qdldl_available():
        raise ImportError("sparse=True needs the qdldl package: "
                          "pip install 'likelihax[sparse]' (or pip install qdldl).")  # fmt: skip
    i, j = _adjacency(rows, cols, n_latent)
    sp_pat = SparsePattern(i, j, n_latent) if want_sparse else None
    if want_band:
        perm, band = _band(i, j, n_latent)
        if banded or (sp_pat is None and 4 * (band + 1) <= n_latent):
            return perm, band, None
        if sp_pat is not None and (band <= 1 or n_latent * (band + 1) ** 2 <= BAND_COST
                                   * np.sum(sp_pat.factor_counts().astype(float) ** 2)):
            return perm, band, None
    return None, None, sp_pat


def _border(rows, cols, n_latent, lead) -> np.ndarray:
    """The other entries each lead block meets, ``(n, m)`` padded with 0, and
    their number per block; ValueError when a term links two lead blocks."""
    n1, q1 = lead
    K = n1 * q1
    if n1 < 1 or q1 < 1 or K > n_latent:
        raise ValueError(f"lead {lead} does not fit {n_latent} latent entries.")
    keys = np.unique(rows * np.int64(n_latent) + cols)  # 1-D keys: a faster unique
    pairs = np.stack([keys // n_latent, keys % n_latent], 1)
    in_lead = pairs[:, 1] < K
    lead_pairs = pairs[in_lead]
    blk = lead_pairs[:, 1] // q1
    first = np.full(int(rows.max()) + 1 if rows.size else 0, -1)
    first[lead_pairs[:, 0]] = blk
    if np.any(first[lead_pairs[:, 0]] != blk):
        raise ValueError(
            f"lead {lead}: a term touches two of the first {n1} blocks, which must not "
            "interact (they are the levels of one random-effect term)."
        )
    rest = pairs[~in_lead]
    tb = first[rest[:, 0]]
    keep = tb >= 0
    r = max(n_latent - K, 1)
    link_keys = np.unique(tb[keep] * np.int64(r) + (rest[keep, 1] - K))
    links = np.stack([link_keys // r, link_keys % r], 1)
    counts = np.bincount(links[:, 0], minlength=n1) if links.size else np.zeros(n1, int)
    m = max(1, int(counts.max()) if counts.size else 1)
    border = np.zeros((n1, m), np.int32)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(links.shape[0]) - start[links[:, 0]] if links.size else []
    if links.size:
        border[links[:, 0], slot] = links[:, 1]
    return border, counts


def _adjacency(rows, cols, n_latent) -> tuple:
    """Pairs ``(i, j)`` of latent entries that one term touches (both orders,
    the diagonal included): the pattern of the latent Hessian."""
    order = np.lexsort((cols, rows))
    r, c = rows[order], cols[order]
    start = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
    size = np.diff(np.r_[start, r.size])
    # all pairs of entries within each term
    first = np.repeat(start, size * size)
    k = np.arange(first.size) - np.repeat(np.cumsum(size * size) - size * size, size * size)
    m = np.repeat(size, size * size)
    return c[first + k // m], c[first + k % m]


def _band(i, j, n_latent) -> tuple:
    """Reverse Cuthill-McKee order of the latent entries (adjacent: a pair
    ``(i, j)`` of :func:`_adjacency`) and the bandwidth of the Hessian in that
    order."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    G = sp.csr_matrix((np.ones(i.size), (i, j)), shape=(n_latent, n_latent))
    perm = np.asarray(reverse_cuthill_mckee(G, symmetric_mode=True), np.int64)
    iperm = np.empty_like(perm)
    iperm[perm] = np.arange(n_latent)
    band = int(np.max(np.abs(iperm[i] - iperm[j]), initial=0))
    return perm, band


def _targets(columns, n_latent, lead, border, perm=None, band=None, sparse=None) -> tuple:
    """Flat storage positions of each term's Hessian entry, per pair of colours
    (see :attr:`LatentPattern.targets`)."""
    n = n_latent
    C = columns.shape[0]
    if band is not None:
        size = (band + 1) * n
        iperm = np.empty_like(perm)
        iperm[perm] = np.arange(n)
    elif sparse is not None:
        size = sparse.nnz
    elif lead is None:
        size = n * n
    else:
        n1, q1 = lead
        K, r, m = n1 * q1, n - n1 * q1, border.shape[1]
        o12, o22 = n1 * q1 * q1, n1 * q1 * q1 + n1 * q1 * m
        size = o22 + r * r
        keys = (np.arange(n1)[:, None] * max(r, 1) + border).ravel()
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
    dump = size

    def pos(j, k):
        """Position of entry (j, k); the discard slot where not stored."""
        ok = (j >= 0) & (k >= 0)
        j, k = np.where(ok, j, 0), np.where(ok, k, 0)
        if band is not None:  # lower band storage: (r - c) n + c for r >= c
            r_, c_ = iperm[j], iperm[k]
            return np.where(ok & (r_ >= c_) & (r_ - c_ <= band), (r_ - c_) * n + c_, dump)
        if sparse is not None:  # the upper triangle: entry (j, k) for j <= k
            at = sparse.position(j, k)
            return np.where(ok & (j <= k) & (at >= 0), at, dump)
        if lead is None:
            return np.where(ok, j * n + k, dump)
        out = np.full(j.shape, dump)
        both = ok & (j < K) & (k < K)
        out[both] = (j[both] // q1) * q1 * q1 + (j[both] % q1) * q1 + k[both] % q1
        mixed = ok & (j < K) & (k >= K)
        if mixed.any():
            lj, kk = j[mixed] // q1, k[mixed] - K
            at = np.searchsorted(sorted_keys, lj * max(r, 1) + kk)
            slot = order[np.minimum(at, order.size - 1)] % m
            out[mixed] = o12 + lj * q1 * m + (j[mixed] % q1) * m + slot
        rest = ok & (j >= K) & (k >= K)
        out[rest] = o22 + (j[rest] - K) * r + (k[rest] - K)
        return out

    out = []
    for a in range(C):
        for b in range(a, C):
            ja, jb = columns[a].astype(np.int64), columns[b].astype(np.int64)
            t1 = pos(ja, jb)
            t2 = pos(jb, ja) if a != b else np.full(ja.shape, dump)
            out.append(np.stack([t1, t2]).astype(np.int64))
    return tuple(out)


def _color(rows, cols, n_latent) -> np.ndarray:
    """Greedy colouring of the latent entries: two entries that one term touches
    differ in colour (the column-intersection graph of Curtis, Powell and Reid),
    entries taken in decreasing order of their number of neighbours."""
    pairs = np.unique(np.stack([rows, cols], 1), axis=0)
    by_term = np.split(pairs[:, 1], np.flatnonzero(np.diff(pairs[:, 0])) + 1)
    neighbours = [set() for _ in range(n_latent)]
    for group in by_term:
        if group.size > 1:
            g = group.tolist()
            for j in g:
                neighbours[j].update(g)
    colors = np.full(n_latent, -1, dtype=np.int64)
    for j in sorted(range(n_latent), key=lambda j: -len(neighbours[j])):
        used = {colors[k] for k in neighbours[j] if k != j and colors[k] >= 0}
        c = 0
        while c in used:
            c += 1
        colors[j] = c
    return colors


def latent_pattern(joint, params, data, random, *, seed: int = 0,
                   banded: bool | None = None,
                   sparse: bool | None = None) -> LatentPattern:  # fmt: skip
    """Detect which latent entries each term of ``joint`` touches.

    The Jacobian of the joint's terms with respect to the latent vector is
    evaluated densely (one forward pass per latent entry, in chunks) at two
    random points near ``params`` (latent values and parameters jittered, so
    that a parameter at a special value such as a zero correlation does not
    hide a dependence); an entry is touched where either is non-zero (or not
    finite). When no term links two entries of the first latent leaf's
    leading axis (the levels of a random-effect term), they become the
    pattern's ``lead`` blocks. The cost is of the order of ``n_latent``
    evaluations of the joint, once per data set; declare the pattern with
    :meth:`LatentPattern.from_supports` where the structure is known.

    Parameters
    ----------
    joint : callable
        ``joint(params, data)`` returning the terms of the log-density (an
        array or a pytree of arrays; their sum is the log-density).
    params : dict
        Values of the parameters and of the latent leaves named in ``random``
        (their shapes are read from here when ``random`` lists names).
    data : pytree
        The data.
    random : dict or sequence of str
        The latent leaves (name -> shape, or names).
    seed : int
        Seed of the random points.
    banded, sparse : bool, optional
        Band or sparse storage of the latent Hessian (see
        :meth:`LatentPattern.from_supports`); by default chosen by size and
        structure. Either set to True skips the lead blocks.

    Returns
    -------
    LatentPattern

    Examples
    --------
    An AR(1) latent series: each prior term touches two neighbouring states,
    each observation one; two colours.

    >>> import numpy as np, jax.numpy as jnp, jax.scipy.stats as st
    >>> from likelihax.models.random_effects import latent_pattern
    >>> def joint(p, d):
    ...     u = p["u"]
    ...     return (st.poisson.logpmf(d["y"], jnp.exp(p["mu"] + u)),
    ...             st.norm.logpdf(u[1:], p["rho"] * u[:-1], 1.0),
    ...             st.norm.logpdf(u[0], 0.0, 1.0))
    >>> pat = latent_pattern(joint, {"mu": 0.0, "rho": 0.5, "u": np.zeros(6)},
    ...                      {"y": np.arange(6.0)}, ["u"])
    >>> pat.n_terms, pat.n_colors
    (12, 2)
    """
    items = _random_items(random, params)
    with x64_scope():
        theta, u0 = _split(params, items)
        theta = jax.tree_util.tree_map(lambda v: jnp.asarray(v, jnp.float64), theta)
        n_u = sum(math.prod(s) for _, s in items)
        terms = functools.partial(_terms, joint, items, data=data)
        rng = np.random.default_rng(seed)
        chunk = max(1, min(n_u, 256))
        found = []
        for _ in range(2):
            u = jnp.asarray(u0 + 0.5 * rng.standard_normal(n_u))
            # Relative and absolute jitter: a parameter at 0 (a correlation on
            # its link scale) could otherwise hide a dependence.
            th = jax.tree_util.tree_map(
                lambda v: v * (1.0 + 0.1 * rng.standard_normal(np.shape(v)))
                + 0.05 * rng.standard_normal(np.shape(v)),
                theta,
            )
            jvp = jax.jit(jax.vmap(lambda e, u=u, th=th: jax.jvp(
                lambda v: terms(th, v), (u,), (e,))[1]))  # fmt: skip
            for s in range(0, n_u, chunk):
                idx = np.arange(s, min(s + chunk, n_u))
                E = np.zeros((idx.size, n_u))
                E[np.arange(idx.size), idx] = 1.0
                J = np.asarray(jvp(jnp.asarray(E)))  # (chunk, n_terms)
                c, r = np.nonzero(J != 0)  # NaN counts as touched
                found.append(np.stack([r, idx[c]], 1))
        n_terms = int(terms(theta, jnp.asarray(u0)).shape[0])
    pairs = np.unique(np.concatenate(found), axis=0)
    # The first latent leaf as lead blocks ((G, q): G blocks of q; (n,): n of 1)
    # when no term links two of them.
    shape = items[0][1]
    lead = (shape[0], math.prod(shape[1:]))
    if not (banded or sparse):
        try:
            return LatentPattern.from_supports(pairs[:, 0], pairs[:, 1], n_terms, n_u, lead)
        except ValueError:
            pass
    return LatentPattern.from_supports(pairs[:, 0], pairs[:, 1], n_terms, n_u, banded=banded,
                                       sparse=sparse)  # fmt: skip


def _random_items(random, params=None) -> tuple:
    if isinstance(random, str):
        random = [random]
    if isinstance(random, Mapping):
        raw = list(random.items())
    else:
        if params is None:
            raise ValueError("random must map each latent leaf to its shape.")
        missing = [r for r in random if r not in params]
        if missing:
            raise ValueError(f"random names {missing}, which are not in params.")
        raw = [(r, np.shape(params[r])) for r in random]
    if not raw:
        raise ValueError("random must name at least one latent leaf, e.g. {'u': 100}.")
    items = []
    for name, shape in raw:
        shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
        if math.prod(shape) < 1:
            raise ValueError(f"Latent leaf {name!r} has size 0 (shape {shape}).")
        items.append((str(name), shape))
    return tuple(items)


def _split(params, items):
    """``(theta, u0)``: the parameters without the latent leaves, and the flat
    latent values (zeros where ``params`` does not give them)."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict; got {type(params).__name__}.")
    theta = {k: v for k, v in params.items() if k not in dict(items)}
    parts = []
    for name, shape in items:
        v = params.get(name, np.zeros(shape))
        if np.shape(v) != shape:
            raise ValueError(f"Latent leaf {name!r} has shape {np.shape(v)}, not {shape}.")
        parts.append(np.ravel(np.asarray(v, dtype=float)))
    return theta, np.concatenate(parts)


def _unflatten(items, u) -> dict:
    out, i = {}, 0
    for name, shape in items:
        k = math.prod(shape)
        out[name] = jnp.reshape(u[i : i + k], shape)
        i += k
    return out


def _terms(joint, items, theta, u, data):
    p = dict(theta)
    p.update(_unflatten(items, u))
    leaves = jax.tree_util.tree_leaves(joint(p, data))
    return jnp.concatenate([jnp.ravel(leaf) for leaf in leaves])
