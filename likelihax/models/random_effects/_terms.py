r"""Mixed models with several random-effect terms: crossed, nested, uncorrelated.

Term :math:`t` has :math:`q_t` effects for each of the :math:`n_t` levels of
its grouping factor, :math:`b_{t,l} = L_t v_{t,l}` with
:math:`v_{t,l} \sim N(0, I_{q_t})` (:math:`L_t` lower triangular: ``L_diag``
and ``L_off`` of the term, named ``L_diag(<term>)``, ``L_off(<term>)``, or
plain ``L_diag``, ``L_off`` in a one-term model), and
row :math:`i` adds :math:`\sum_t z_{t,i}^\top b_{t, l_t(i)}` to its linear
predictor. All the spherical effects form one latent vector :math:`v` of
length :math:`\sum_t n_t q_t`; with :math:`\Lambda` the block-diagonal matrix
of the :math:`I_{n_t} \otimes L_t` and :math:`Z` the sparse design of the
effects, the linear predictor is :math:`X\beta + Z\Lambda v`.

Gaussian family (exact)
-----------------------
With :math:`V = \sigma^2 I + Z\Lambda\Lambda^\top Z^\top`,
:math:`M = I + \Lambda^\top Z^\top Z \Lambda/\sigma^2` and
:math:`c = \Lambda^\top Z^\top r`, :math:`r = y - X\beta` (Woodbury):
:math:`\log\det V = n \log\sigma^2 + \log\det M` and
:math:`r^\top V^{-1} r = (r^\top r - c^\top M^{-1} c/\sigma^2)/\sigma^2`. Every
quantity comes from the cross-products :math:`Z^\top Z, Z^\top X, Z^\top y,
X^\top X, X^\top y, y^\top y`, computed once, so an evaluation costs one
Cholesky factorization of :math:`M` whatever the number of rows.

REML (the default for the Gaussian family, as ``lmer``) adds
:math:`\frac p2\log 2\pi - \frac12\log\det(X^\top V^{-1} X)` to the log-likelihood
and keeps :math:`\beta` among the estimated parameters: the correction does
not depend on :math:`\beta`, so the maximum over :math:`\beta` is the GLS
estimate and the maximum over the variance parameters is the REML one; the
maximum value is the REML log-likelihood (lme4's ``REMLcrit`` is minus twice
it), the :math:`\beta\beta` block of the information is
:math:`X^\top V^{-1} X` (lme4's ``vcov``), and the variance parameters' block
of the inverse information is that of the restricted likelihood.

Other families (Laplace)
------------------------
The joint log-density of the rows and :math:`v` is handed to
:func:`likelihax.models.random_effects.integrate` with a declared
:class:`LatentPattern` (each row touches its level of each term, each prior
term one entry), so the latent Hessian takes a few coloured passes (2 for two
crossed intercepts) instead of one per latent entry.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ...optimize import Bordered, border_pairs, bordered_chol, chol, chol_solve, spd_inverse_logdet
from ..glm._family import CANONICAL_KERNELS, Family
from ..glm._link import Link
from ._formula import MixedDesign
from ._joint import integrate
from ._pattern import LatentPattern

__all__ = ["RemlLaplace", "TermLayout", "gaussian_sufficient", "row_loglik", "terms_joint", "terms_layout"]


def _L(p, q, diag: str = "L_diag", off: str = "L_off"):
    """Lower-triangular Cholesky factor from ``p[diag]`` (q,) and ``p[off]``."""
    L = jnp.diag(jnp.reshape(p[diag], (q,)))
    if q > 1:
        r, c = np.tril_indices(q, -1)
        L = L.at[r, c].set(p[off])
    return L


@dataclasses.dataclass(frozen=True)
class TermLayout:
    """Where each term's effects sit in the latent vector and its parameter names."""

    keys: tuple  # term labels ("g", "g.1" for a repeated grouping factor)
    qs: tuple  # effects per level
    n_levels: tuple
    offsets: tuple  # start of each term in v

    @property
    def n_latent(self) -> int:
        return int(sum(q * n for q, n in zip(self.qs, self.n_levels)))

    def diag(self, t: int) -> str:
        """Name of term ``t``'s ``L_diag`` (plain ``L_diag`` for a one-term model)."""
        return "L_diag" if len(self.keys) == 1 else f"L_diag({self.keys[t]})"

    def off(self, t: int) -> str:
        return "L_off" if len(self.keys) == 1 else f"L_off({self.keys[t]})"

    def lam_vec(self, p, v):
        """:math:`\\Lambda v`: each term's effects :math:`b_{t,l} = L_t v_{t,l}`."""
        parts = []
        for t, (q, n, o) in enumerate(zip(self.qs, self.n_levels, self.offsets)):
            L = _L(p, q, self.diag(t), self.off(t))
            parts.append(jnp.ravel(jnp.reshape(v[o : o + n * q], (n, q)) @ L.T))
        return jnp.concatenate(parts)

    @property
    def lead(self) -> int:
        """Length of the first term's part of ``v`` (its blocks are eliminated first)."""
        return self.qs[0] * self.n_levels[0]

    def lam_rest(self, p, M):
        """:math:`M\\Lambda_2`, :math:`\\Lambda_2` the block of the terms after the
        first, for ``M`` with ``n_latent - lead`` columns."""
        parts = [M[:, :0]]
        for t in range(1, len(self.qs)):
            q, n, o = self.qs[t], self.n_levels[t], self.offsets[t] - self.lead
            L = _L(p, q, self.diag(t), self.off(t))
            block = jnp.reshape(M[:, o : o + n * q], (M.shape[0], n, q)) @ L
            parts.append(jnp.reshape(block, (M.shape[0], n * q)))
        return jnp.concatenate(parts, axis=1)

    def lam_lead(self, p, B):
        """:math:`L_1^\\top B_l` for blocks ``B`` ``(n_1, q_1, k)``."""
        L = _L(p, self.qs[0], self.diag(0), self.off(0))
        return jnp.einsum("ij,nik->njk", L, B)


def terms_layout(des: MixedDesign) -> TermLayout:
    """Term labels (lme4's ``g``, ``g.1`` for repeats), sizes and offsets (the
    terms in the design's order: most effects first, as lme4 orders them)."""
    keys, seen = [], {}
    for t in des.terms:
        k = seen.get(t.group, 0)
        keys.append(t.group if k == 0 else f"{t.group}.{k}")
        seen[t.group] = k + 1
    qs = tuple(t.q for t in des.terms)
    ns = tuple(t.n_levels for t in des.terms)
    offsets = tuple(int(o) for o in np.cumsum([0] + [q * n for q, n in zip(qs, ns)])[:-1])
    return TermLayout(tuple(keys), qs, ns, offsets)


def _z_columns(des: MixedDesign, lay: TermLayout):
    """``(cols, vals)``: (n, sum q_t) latent column and covariate of each row's effects."""
    cols, vals = [], []
    for t, o in zip(des.terms, lay.offsets):
        for j in range(t.q):
            cols.append(o + t.codes * t.q + j)
            vals.append(t.Z[:, j])
    return np.stack(cols, 1).astype(np.int32), np.stack(vals, 1)


def gaussian_sufficient(des: MixedDesign, lay: TermLayout, y) -> dict:
    """Cross-products of the Gaussian marginal (module notes), computed once, in
    the bordered layout: the first term's blocks (``*1``) and the rest (``*2``)."""
    import scipy.sparse as sp

    n, n_u, k = y.shape[0], lay.n_latent, lay.lead
    n1, q1 = lay.n_levels[0], lay.qs[0]
    cols, vals = _z_columns(des, lay)
    rows = np.repeat(np.arange(n), cols.shape[1])
    Z = sp.csr_matrix((vals.ravel(), (rows, cols.ravel())), shape=(n, n_u)).tocsc()
    Z1, Z2 = Z[:, :k], Z[:, k:]
    t0 = des.terms[0]
    ZZ11 = np.zeros((n1, q1, q1))
    np.add.at(ZZ11, t0.codes, t0.Z[:, :, None] * t0.Z[:, None, :])
    X = des.X
    B = (Z1.T @ Z2).tocsr()  # (n1 q1, r)
    out = {}
    if all(q == 1 for q in lay.qs[1:]):
        # A sparse border: each level of the first term meets few others.
        cols = [np.unique(B[g * q1 : (g + 1) * q1].indices) for g in range(n1)]
        m = max(1, max(c.size for c in cols))
        C = np.zeros((n1, m), np.int32)
        V = np.zeros((n1, q1, m))
        for g, c in enumerate(cols):
            C[g, : c.size] = c
            V[g, :, : c.size] = B[g * q1 : (g + 1) * q1][:, c].toarray()
        counts = np.array([c.size for c in cols])
        out = {"ZZ12_cols": C, "ZZ12_vals": V, "ZZ12_pairs": border_pairs(C, counts, n_u - k)}
    return out | {
        "ZZ11": ZZ11, "ZZ12": None if out else B.toarray().reshape(n1, q1, n_u - k),
        "ZZ22": np.asarray((Z2.T @ Z2).todense()),
        "ZX1": np.asarray(Z1.T @ X).reshape(n1, q1, -1), "ZX2": np.asarray(Z2.T @ X),
        "Zy1": np.asarray(Z1.T @ y).reshape(n1, q1), "Zy2": np.asarray(Z2.T @ y),
        "XX": X.T @ X, "Xy": X.T @ y, "yy": float(y @ y), "n": float(n),
    }  # fmt: skip


@dataclasses.dataclass(frozen=True)
class GaussianTerms:
    """Exact (ML or REML) log-likelihood of a linear mixed model with several terms."""

    fixed: tuple
    layout: TermLayout
    reml: bool

    @property
    def __name__(self) -> str:
        return "REML" if self.reml else "ML"

    def __call__(self, p, d):
        beta = jnp.stack([p[c] for c in self.fixed])
        s2 = p["sigma"] ** 2
        lay = self.layout
        q1, r = lay.qs[0], lay.n_latent - lay.lead
        # M = I + Lambda' Z'Z Lambda / s2, bordered (likelihax.optimize.Bordered).
        M11 = jnp.eye(q1) + jnp.swapaxes(lay.lam_lead(p, jnp.swapaxes(
            lay.lam_lead(p, d["ZZ11"]), 1, 2)), 1, 2) / s2  # fmt: skip
        M22 = jnp.eye(r) + lay.lam_rest(p, lay.lam_rest(p, d["ZZ22"]).T) / s2
        if d.get("ZZ12") is None:  # sparse border; the other terms are scalar
            scale = lay.lam_rest(p, jnp.ones((1, r), M22.dtype))[0]
            cols = d["ZZ12_cols"]
            M12 = lay.lam_lead(p, d["ZZ12_vals"]) * scale[cols][:, None, :] / s2
            F = bordered_chol(Bordered(M11, M12, M22, cols, d["ZZ12_pairs"]))
        else:
            A12 = lay.lam_lead(p, d["ZZ12"])  # L1' Z1'Z2, (n1, q1, r)
            M12 = jnp.reshape(lay.lam_rest(p, jnp.reshape(A12, (-1, r))), A12.shape) / s2
            F = bordered_chol(Bordered(M11, M12, M22))
        c1 = lay.lam_lead(p, (d["Zy1"] - d["ZX1"] @ beta)[..., None])  # (n1, q1, 1)
        c2 = lay.lam_rest(p, (d["Zy2"] - d["ZX2"] @ beta)[None, :]).T  # (r, 1)
        x1, x2 = F.solve(c1, c2)
        cmc = jnp.sum(c1 * x1) + jnp.sum(c2 * x2)
        rr = d["yy"] - 2 * d["Xy"] @ beta + beta @ d["XX"] @ beta
        quad = (rr - cmc / s2) / s2
        n = d["n"]
        ll = -0.5 * (n * math.log(2 * math.pi) + n * jnp.log(s2) + F.logdet() + quad)
        if not self.reml:
            return ll
        D1 = lay.lam_lead(p, d["ZX1"])  # Lambda' Z'X, (n1, q1, p)
        D2 = lay.lam_rest(p, d["ZX2"].T).T  # (r, p)
        y1, y2 = F.solve(D1, D2)
        XVX = (d["XX"] - (jnp.einsum("njp,njk->pk", D1, y1) + D2.T @ y2) / s2) / s2
        p_ = len(self.fixed)
        return ll + 0.5 * p_ * math.log(2 * math.pi) - 0.5 * spd_inverse_logdet(XVX)[1]


def row_loglik(family: Family, link: Link, p, y, eta, m):
    """The rows' log-densities: for a canonical link without dispersion the
    natural-parameter kernel (as :func:`likelihax.glm` evaluates it, less the
    parameter-free terms, added once by the caller), else the family's whole
    log-density with
    :math:`\\phi = \\sigma^2` (``sigma``) and the NB2 ``alpha``."""
    kernel = CANONICAL_KERNELS.get((family.name, link.name))
    if kernel is not None:
        return kernel(y, eta, m)
    phi = p["sigma"] ** 2 if family.dispersion else 1.0
    alpha = p["alpha"] if family.has_alpha else None
    return family.loglik(y, eta, link.inverse(eta), link, m, phi, alpha)


@dataclasses.dataclass(frozen=True)
class TermsJoint:
    """Joint log-density of the rows and the spherical effects ``v`` (all terms).

    Returns its terms: the rows' log-densities (less their parameter-free
    terms, in ``d["const"]``) and the standard-normal prior of each entry of
    ``v``. With ``reml``, the fixed effects are the last entries of the latent
    vector, with a flat prior (no term), and ``v`` its first
    ``layout.n_latent`` entries.
    """

    family: Family
    link: Link
    fixed: tuple
    layout: TermLayout
    reml: bool = False

    def __call__(self, p, d):
        n_u = self.layout.n_latent
        if self.reml:
            v, beta = p["v"][:n_u], p["v"][n_u:]
        else:
            v, beta = p["v"], jnp.stack([p[c] for c in self.fixed])
        b = self.layout.lam_vec(p, v)
        eta = d["X"] @ beta + jnp.sum(d["Zval"] * b[d["Zcol"]], axis=1) + d["offset"]
        ll = row_loglik(self.family, self.link, p, d["y"], eta, d.get("m", 1.0))
        prior = -0.5 * v**2 - 0.5 * math.log(2 * math.pi)
        return ll + d["const"], prior


def terms_joint(fam: Family, link: Link, des: MixedDesign, lay: TermLayout, cols: dict,
                gauss: bool, reml: bool = False):  # fmt: skip
    """``(marginal, data)``: the Laplace marginal of :class:`TermsJoint` with its
    declared pattern, and the row data it reads. With ``reml`` the fixed
    effects are latent too (:class:`RemlLaplace`)."""
    zcol, zval = _z_columns(des, lay)
    n, n_u = zcol.shape[0], lay.n_latent
    p = des.X.shape[1] if reml else 0
    rows = [np.repeat(np.arange(n), zcol.shape[1]), n + np.arange(n_u)]
    latent = [zcol.ravel(), np.arange(n_u)]
    if reml:  # each row touches every fixed effect whose column it has
        r, j = np.nonzero(des.X)
        rows.append(r)
        latent.append(n_u + j)
    # A colour per term and effect (a row touches one level of each term),
    # then one per fixed effect.
    base = np.cumsum([0, *lay.qs])
    colors = np.concatenate([b + np.tile(np.arange(q), n_l)
                             for b, q, n_l in zip(base, lay.qs, lay.n_levels)]
                            + [base[-1] + np.arange(p)])  # fmt: skip
    pattern = LatentPattern.from_supports(np.concatenate(rows), np.concatenate(latent),
                                          n + n_u, n_u + p, colors=colors,
                                          lead=(lay.n_levels[0], lay.qs[0]))  # fmt: skip
    joint = TermsJoint(fam, link, tuple(des.fixed_names), lay, reml)
    data = dict(cols, Zcol=zcol, Zval=zval)
    return integrate(joint, {"v": n_u + p}, pattern=pattern, quadratic=gauss), data


@dataclasses.dataclass(frozen=True)
class RemlLaplace:
    r"""REML log-likelihood of a GLMM (glmmTMB's ``REML = TRUE``), for the engine.

    The restricted log-likelihood :math:`\ell_R(\theta)` integrates the fixed
    effects, with a flat prior, out with the random effects (one Laplace
    approximation over both: ``laplace``, of a :class:`TermsJoint` with
    ``reml``). The fixed effects' estimates are then the joint mode
    :math:`\hat\beta(\theta)`, with the conditional covariance
    :math:`C(\theta)`, the :math:`\beta` block of :math:`A^{-1}`. This model
    keeps :math:`\beta` among the engine's parameters:

    .. math::

        F(\beta, \theta) = \ell_R(\theta)
            - \tfrac12 (\beta - \hat\beta(\theta))^\top C(\theta)^{-1}
              (\beta - \hat\beta(\theta)),

    whose maximum over :math:`\beta` is :math:`\hat\beta(\theta)` with the
    value :math:`\ell_R(\theta)`. So the engine's estimates are the REML ones,
    its maximum is the REML log-likelihood, the :math:`\beta\beta` block of the
    information is :math:`C^{-1}` (glmmTMB's and lme4's conditional
    ``vcov``), and the inverse information adds to :math:`C` the variance
    that :math:`\hat\beta` inherits from :math:`\hat\theta` (the "full"
    covariance). For the Gaussian family this is the REML of
    :class:`GaussianTerms` (tested).
    """

    laplace: Any  # JointLaplace
    fixed: tuple
    n_u: int

    @property
    def __name__(self) -> str:
        return "REML(Laplace)"

    def __call__(self, params, data):
        return self.warm_call(params, data, None)[0]

    def warm_start(self, params, data):
        """The Laplace approximation's warm start (``likelihax.objective.Problem``)."""
        return self.laplace.warm_start(self._theta(params), data)

    def _theta(self, params):
        return {k: v for k, v in params.items() if k not in self.fixed}

    def warm_call(self, params, data, start):
        """``(log-likelihood, joint mode)``, the inner Newton from ``start``."""
        theta = self._theta(params)
        ll, u, F = self.laplace.parts(theta, data, start)
        p = len(self.fixed)
        E = jnp.zeros((self.n_u + p, p), u.dtype).at[self.n_u + jnp.arange(p), jnp.arange(p)].set(1)
        C = F.solve(E)[self.n_u :]
        d = jnp.stack([params[c] for c in self.fixed]) - u[self.n_u :]
        return ll - 0.5 * d @ chol_solve(chol(0.5 * (C + C.T)), d), jax.lax.stop_gradient(u)
