r"""``fit_stochastic``: mini-batch optimization for huge data, finished by the exact engine.

Two phases, one answer:

1. **Stochastic phase.** Any optax transformation (Adam by default) runs on the
   mean negative log-likelihood of random mini-batches (each row's term times
   its weight, with ``weights=``), on the unconstrained
   scale. Steps run in compiled segments of ``log_every`` steps (one
   ``lax.scan`` each); between segments the host reports progress (a callback
   with step, mean mini-batch loss and gradient norm, or a printed line) and
   may save a checkpoint. Batches are drawn with replacement from in-memory
   data (each row equally likely), or read as random aligned blocks of
   ``batch_size`` rows from a data source (:mod:`likelihax.data._source`), so a
   file larger than memory is never loaded whole.
2. **Exact phase.** :func:`likelihax.fit` starts from the stochastic estimate
   and takes full Newton steps on all the data (chunked, or streamed block by
   block from a source) until its own stopping rule holds. The estimate,
   log-likelihood and standard errors are therefore those of the exact MLE,
   not of a noisy iterate: the stochastic phase only has to get close enough
   for Newton to converge in a few passes. ``polish=False`` skips the steps
   and evaluates the log-likelihood, information and covariance at the
   stochastic estimate itself (status ``max_steps``: it is not an optimum).

Stopping and resuming
---------------------
The state after every segment (unconstrained parameters, optimizer state,
step count and random key) is in ``result.state``; pass it back as
``resume=`` to continue, or give ``checkpoint=path`` to have it written to an
``.npz`` file after every segment and read it back with
``lx.StochasticState.load(path)``. A callback returning ``True`` stops the
stochastic phase early (the exact phase still runs), and so does
``KeyboardInterrupt`` (Ctrl-C) between segments.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # optax is imported when used
    import optax

import jax
import jax.numpy as jnp
import numpy as np

from ..core import resolve_dtype, x64_scope
from ..data import is_source, prepare_data
from ..parameters import build_spec
from ._fit import fit as engine_fit
from ._model import Model
from ._program import prepare_weights

__all__ = ["fit_stochastic", "StochasticState", "StochasticFit"]


@dataclasses.dataclass(frozen=True)
class StochasticState:
    """Where the stochastic phase stopped: enough to resume it exactly.

    Attributes
    ----------
    u : ndarray
        Parameters on the unconstrained scale.
    opt_leaves : list of ndarray
        Leaves of the optax state (its structure comes from the optimizer).
    step : int
    key : ndarray
        Raw ``jax.random`` key data for the next segment.
    """

    u: np.ndarray
    opt_leaves: list
    step: int
    key: np.ndarray

    def save(self, path) -> None:
        """Write to an ``.npz`` file (atomically: a temporary file, then rename)."""
        import os

        tmp = f"{path}.tmp.npz"
        arrays = {f"opt_{i}": np.asarray(x) for i, x in enumerate(self.opt_leaves)}
        np.savez(tmp, u=self.u, step=self.step, key=self.key, **arrays)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path) -> "StochasticState":
        """Read a state written by :meth:`save`."""
        with np.load(path) as z:
            n = sum(1 for k in z.files if k.startswith("opt_"))
            return cls(
                u=z["u"], opt_leaves=[z[f"opt_{i}"] for i in range(n)],
                step=int(z["step"]), key=z["key"],
            )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class StochasticFit:
    """Result of :func:`fit_stochastic`.

    Attributes
    ----------
    fit : FitResult
        The exact phase: estimates, standard errors, log-likelihood, status.
    state : StochasticState
        To resume the stochastic phase (``resume=``).
    history : dict
        ``step``, ``loss`` (mean mini-batch negative log-likelihood over each
        segment), ``grad_norm`` (of the last mini-batch gradient) and
        ``seconds``, one entry per segment.
    stopped_early : bool
        The callback or Ctrl-C stopped the stochastic phase.
    """

    fit: Any
    state: StochasticState
    history: dict
    stopped_early: bool

    def summary(self):
        """The exact fit's summary."""
        return self.fit.summary()

    def __getattr__(self, name):
        # params, se, cov, loglik, converged, ...: those of the exact fit
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.fit, name)


@dataclasses.dataclass(frozen=True, eq=False)
class _StochasticProgram:
    loglik: Callable
    spec: Any
    optimizer: Any
    batch: int
    nobs: int
    steps: int
    source: Any


def _batch(static: _StochasticProgram, data, w, key):
    """A mini-batch of the data and its rows' weights (None without weights)."""
    if static.source is not None:
        nb = max(static.nobs // static.batch, 1)
        i = jax.random.randint(key, (), 0, nb)
        start = jnp.minimum(i * static.batch, static.nobs - static.batch)
        wb = None if w is None else jax.lax.dynamic_slice(w, (start,), (static.batch,))
        return static.source.block(start, static.batch), wb
    idx = jax.random.randint(key, (static.batch,), 0, static.nobs)
    return jax.tree_util.tree_map(
        lambda x: x[idx] if jnp.ndim(x) >= 1 and jnp.shape(x)[0] == static.nobs else x,
        data,
    ), (None if w is None else w[idx])


def _segment(static: _StochasticProgram, u, opt_state, key, fixed, data, w):
    def loss(v, batch):
        params = static.spec.to_natural(v, fixed)
        terms = static.loglik(params, batch[0])
        return -jnp.mean(terms if batch[1] is None else batch[1] * terms)

    def step(carry, _):
        u, opt_state, key = carry
        key, sub = jax.random.split(key)
        value, g = jax.value_and_grad(loss)(u, _batch(static, data, w, sub))
        updates, opt_state = static.optimizer.update(g, opt_state, u)
        ok = jnp.isfinite(value) & jnp.all(jnp.isfinite(g))
        u_new = jnp.where(ok, u + updates, u)  # optax.apply_updates for one array
        return (u_new, opt_state, key), (value, jnp.linalg.norm(g))

    (u, opt_state, key), (values, gnorms) = jax.lax.scan(
        step, (u, opt_state, key), None, length=static.steps
    )
    return u, opt_state, key, values, gnorms


_segment_jit = jax.jit(_segment, static_argnums=0)


def fit_stochastic(
    loglik: Callable | Model,
    params: Any = None,
    data: Any = None,
    *,
    constraints: dict | None = None,
    optimizer: optax.GradientTransformation | None = None,
    batch_size: int = 1024,
    steps: int = 2000,
    log_every: int = 100,
    callback: Callable | None = None,
    progress: bool = False,
    checkpoint: Any = None,
    resume: StochasticState | None = None,
    polish: bool = True,
    seed: int = 0,
    **fit_kwargs: Any,
) -> StochasticFit:
    """Fit by mini-batch optimization, then finish exactly (see the module notes).

    Parameters
    ----------
    loglik, params, data, constraints
        As for :func:`likelihax.fit`; ``data`` may be arrays or a data source
        (:class:`~likelihax.ArraySource`, :class:`~likelihax.ParquetSource`).
        The log-likelihood must return one value per observation. ``params``
        may be any pytree of arrays: nested dicts, the array part of an
        Equinox module (``eqx.partition(model, eqx.is_inexact_array)``), a
        Flax NNX state (``nnx.split``, merged back with ``nnx.merge`` inside
        the log-likelihood) or Flax Linen variables; the result's ``params``
        and ``se`` have the same structure. For a neural network, whose
        parameters are not identified, ``polish=False`` is usually what is
        wanted; where the information is not positive definite the summary
        gives no standard errors and says why (its rank and signs).
    optimizer : optax.GradientTransformation
        Default ``optax.adam(1e-2)``, on the mean negative log-likelihood.
    batch_size : int
        Rows per mini-batch.
    steps : int
        Stochastic steps in this call (a resumed run adds them).
    log_every : int
        Steps per compiled segment; progress is reported after each.
    callback : callable, optional
        ``callback(step, loss, grad_norm) -> bool | None`` after each segment;
        returning True stops the stochastic phase.
    progress : bool
        Print a line per segment (step, loss, gradient norm, steps/s).
    checkpoint : path, optional
        Write the state to this ``.npz`` file after every segment.
    resume : StochasticState, optional
        Continue from a previous run's ``state`` (same model and optimizer).
    polish : bool
        Run the exact Newton phase (default). False: evaluate the information
        and covariance at the stochastic estimate without moving.
    seed : int
        Seed of the mini-batch draws (ignored when resuming: the state's key).
    **fit_kwargs
        Passed to :func:`likelihax.fit` for the exact phase (``cov=``,
        ``weights=``, ``max_steps=``, ...). ``weights=`` (one per row) also
        weight the stochastic phase: its loss is the mean of
        minus each row's log-likelihood times its weight over the
        mini-batch's rows.

    Returns
    -------
    StochasticFit
        ``.fit`` (the exact FitResult; its attributes are also reachable
        directly), ``.state``, ``.history``.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal(20_000); y = (rng.random(20_000) < 1 / (1 + np.exp(-x)))
    >>> def logit(p, d):
    ...     eta = p["a"] + p["b"] * d["x"]
    ...     return d["y"] * eta - jnp.logaddexp(0.0, eta)
    >>> res = lx.fit_stochastic(logit, {"a": 0.0, "b": 0.0},
    ...                         {"x": x, "y": y.astype(float)}, steps=300)
    >>> exact = lx.fit(logit, {"a": 0.0, "b": 0.0}, {"x": x, "y": y.astype(float)})
    >>> bool(np.allclose(res.params["b"], exact.params["b"], rtol=1e-9))
    True
    """
    if isinstance(loglik, Model):
        model, data = loglik, params
        spec, leaves, fn = model.spec, model.init_leaves, model.loglik
        if constraints is not None:
            raise TypeError("Give constraints when building the Model, not here.")
    else:
        if params is None:
            raise TypeError("fit_stochastic(loglik, params, data): params is missing.")
        model, fn = None, loglik
    for name, v in (("batch_size", batch_size), ("steps", steps),
                    ("log_every", log_every)):  # fmt: skip
        if int(v) < 1:
            raise ValueError(f"{name} must be a positive integer; got {v}.")
    import optax

    optimizer = optax.adam(1e-2) if optimizer is None else optimizer
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(
            "optimizer must be an optax.GradientTransformation (e.g. optax.adam(1e-2))."
        )
    wdtype = resolve_dtype(fit_kwargs.get("dtype"))
    with x64_scope():
        if model is None:
            spec, leaves = build_spec(params, constraints)
        if is_source(data):
            src = data.bind(wdtype, min(int(batch_size), data.n))
            n, jdata = data.n, None
        else:
            src, jdata = None, prepare_data(data, wdtype)
            p_struct = jax.tree_util.tree_unflatten(
                spec.treedef, [jax.ShapeDtypeStruct(s, wdtype) for s in spec.shapes]
            )
            out = jax.eval_shape(fn, p_struct, jdata)
            if out.ndim != 1:
                raise ValueError(
                    "fit_stochastic needs one log-likelihood value per observation "
                    f"(mini-batches are rows); the log-likelihood returned shape "
                    f"{out.shape}."
                )
            n = out.shape[0]
        w = prepare_weights(fit_kwargs.get("weights"), n, True, wdtype)
        fixed = [jnp.asarray(x, wdtype) for x in leaves]
        u0 = spec.to_unconstrained(fixed)
        b = min(int(batch_size), n)
        seg = min(int(log_every), int(steps))
        static = _StochasticProgram(fn, spec, optimizer, b, n, seg, src)
        if resume is None:
            u, opt_state = u0, optimizer.init(u0)
            key, step0 = jax.random.key(seed), 0
        else:
            u = jnp.asarray(resume.u, wdtype)
            if u.shape != u0.shape:
                raise ValueError(
                    f"resume= holds {u.shape[0]} parameters; this model has "
                    f"{u0.shape[0]}."
                )
            treedef = jax.tree_util.tree_structure(optimizer.init(u0))
            opt_state = jax.tree_util.tree_unflatten(
                treedef, [jnp.asarray(x) for x in resume.opt_leaves]
            )
            key = jax.random.wrap_key_data(jnp.asarray(resume.key))
            step0 = int(resume.step)
        hist = {"step": [], "loss": [], "grad_norm": [], "seconds": []}
        done, stopped, t0 = 0, False, time.perf_counter()
        try:
            while done < steps:
                if steps - done < seg:  # a shorter last segment (one more compile)
                    static = dataclasses.replace(static, steps=steps - done)
                u, opt_state, key, values, gnorms = _segment_jit(
                    static, u, opt_state, key, fixed, jdata, w
                )
                done += static.steps
                vals = np.asarray(values)
                loss = float(np.nanmean(vals)) if np.any(np.isfinite(vals)) else math.nan
                gn = float(np.asarray(gnorms)[-1])
                hist["step"].append(step0 + done)
                hist["loss"].append(loss)
                hist["grad_norm"].append(gn)
                hist["seconds"].append(time.perf_counter() - t0)
                state = _state(u, opt_state, step0 + done, key)
                if checkpoint is not None:
                    state.save(checkpoint)
                if progress:
                    rate = done / max(hist["seconds"][-1], 1e-9)
                    print(
                        f"likelihax: step {step0 + done:7d}  loss {loss: .8g}  "
                        f"|grad| {gn:.3e}  {rate:,.0f} steps/s",
                        flush=True,
                    )
                if callback is not None and callback(step0 + done, loss, gn):
                    stopped = True
                    break
        except KeyboardInterrupt:
            stopped = True
        state = _state(u, opt_state, step0 + done, key)
        natural = [np.asarray(x) for x in jax.tree_util.tree_leaves(spec.to_natural(u, fixed))]
    kw = dict(fit_kwargs)
    if not polish:
        kw["max_steps"] = 0  # evaluate at the start only (see the module notes)
    if model is not None:
        moved = copy.copy(model)
        moved.init_leaves = natural
        exact = engine_fit(moved, data, **kw)
    else:
        # in the caller's structure, dicts in the order written (their labels' order)
        start = spec.unflatten_natural(np.concatenate([np.ravel(x) for x in natural]))
        exact = engine_fit(fn, start, data, constraints=constraints, **kw)
    exact = exact.annotate(notes=(_note(step0 + done, b, polish, exact.converged),))
    return StochasticFit(exact, state, {k: np.asarray(v) for k, v in hist.items()},
                         stopped)  # fmt: skip


def _note(steps, batch, polish, converged) -> str:
    """The summary's note on how the estimate was found."""
    how = (
        "information and covariance at that point (not polished)."
        if not polish
        else "then Newton on all the data (the estimate is the exact MLE)."
        if converged
        else "then Newton on all the data, which did not converge (see the "
        "status): the estimate is not the MLE."
    )
    return f"Started from {steps} mini-batch steps (optax, batch {batch}); {how}"


def _state(u, opt_state, step, key):
    return StochasticState(
        u=np.asarray(u), opt_leaves=[np.asarray(x) for x in jax.tree_util.tree_leaves(opt_state)],
        step=int(step), key=np.asarray(jax.random.key_data(key)),
    )  # fmt: skip
