"""``fit``: maximum-likelihood estimation of any JAX log-likelihood.

The host-side wrapper checks the input (structure at trace time, values on the
host), then calls one compiled program that runs the solver's while-loop and
computes the information, its diagnostics and the covariance. The compiled
program is cached on (log-likelihood, parameter spec, solver, covariance kind,
shapes), so a second fit with the same shapes does not recompile.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Sequence

if TYPE_CHECKING:  # optax is imported when used
    import optax

import jax
import jax.numpy as jnp
import numpy as np

from ..core import resolve_dtype, x64_scope
from ..data import (
    is_source,
    is_traced,
    leading_nobs,
    prepare_data,
    resolve_devices,
    shard_observations,
)
from ..objective import COV_KINDS, COVARIANCES
from ..parameters import constraints as C
from ..results import FitResult, FitSetup
from ._checks import check_loglik, check_rows, resolve_starts
from ._compiled import (
    fit_program,
    fit_program_small,
    fit_starts_program,
    fit_starts_program_small,
    is_small,
    pick_best,
    to_unconstrained,
)
from ._model import Model
from ._matrix_free import resolve_matrix_free
from ._options import check_fit_options, default_method
from ._program import (
    INFO_TOL,
    WEIGHT_TYPES,
    FitProgram,
    chunk_rows,
    make_solver,
    prepare_weights,
    wide_blocks,
)
from ._report import report

__all__ = ["fit"]

Method = Literal["newton", "newton-cg", "fisher", "bfgs", "lbfgs"]

def fit(
    loglik: Callable | Model,
    params: Any = None,
    data: Any = None,
    *,
    constraints: Mapping[str, C.Constraint] | None = None,
    method: Method | optax.GradientTransformation | None = None,
    cov: str | None = None,
    weights: Any = None,
    weight_type: Literal["frequency", "importance"] = "frequency",
    likelihood: bool | None = None,
    dtype: Literal["float64", "float32"] | None = None,
    max_steps: int | None = None,
    tol: float | None = None,
    gtol: float | None = None,
    rtol: float | None = None,
    starts: int | list | None = None,
    start_scale: float = 1.0,
    key: jax.Array | None = None,
    nobs: int | None = None,
    chunk_size: int | bool | None = None,
    devices: Any = None,
    verbose: bool = False,
    warn: bool = True,
    matrix_free: bool | None = None,
    cov_params: Sequence[str] | None = None,
) -> FitResult:
    r"""Maximum-likelihood estimate of a JAX log-likelihood, with standard errors.

    Parameters
    ----------
    loglik : callable or Model
        ``loglik(params, data)`` returning one log-likelihood value per
        observation (shape ``(n,)``; preferred) or a scalar total. Or a
        :class:`Model`, in which case the second argument is ``data``.
    params : pytree
        Starting values on the natural scale: a dict (possibly nested) of
        scalars and arrays, or of :class:`Param`. Labels come from the keys
        (``beta[0]``, ``beta[1]``, ...).
    data : pytree or pandas.DataFrame
        Passed to ``loglik`` after validation: floating fields are converted to
        the working precision; NaN/inf raise an error naming the field.
    constraints : dict, optional
        Parameter name -> constraint from :mod:`likelihax.constraints`.
    method : {"newton", "newton-cg", "fisher", "bfgs", "lbfgs"} or optax.GradientTransformation
        Default: ``"newton"`` up to 8,192 free parameters, ``"newton-cg"``
        beyond (why: :func:`likelihax.engine._options.default_method`).
        ``"newton"``: exact autodiff Hessian with line search.
        ``"newton-cg"``: truncated Newton, the Newton direction by conjugate
        gradients on Hessian-vector products (no Hessian during the search;
        see :mod:`likelihax.optimize._newton_cg`).
        ``"fisher"``: Fisher scoring (IRLS for GLMs), the same loop with the
        model's expected information (needs ``Model(..., fisher=...)``).
        ``"bfgs"``/``"lbfgs"``: optax L-BFGS with zoom line search (memory 100 / 10).
        An optax transformation (e.g. ``optax.adam(1e-2)``) runs on the mean
        negative log-likelihood.
    cov : str, optional
        Covariance of the estimates, one of ``COV_KINDS``: ``"oim"``,
        ``"eim"``, ``"opg"``, ``"sandwich"``/``"hc0"``, ``"hc1"``, ``"hc2"``,
        ``"hc3"``, ``"stata"``, ``"hac"`` (see
        :mod:`likelihax.objective._covariance`; the kinds that need cluster
        labels or options come from :func:`likelihax.vcov`). Default
        ``"oim"`` (inverse observed information); ``"sandwich"`` with
        importance weights or ``likelihood=False``.
    weights : array (n,), optional
        Non-negative observation weights: the objective is
        :math:`\sum_i w_i \ell_i`.
    weight_type : {"frequency", "importance"}
        ``"frequency"``: row :math:`i` stands for :math:`w_i` identical rows
        (every result equals the fit to the duplicated data; ``nobs`` is
        :math:`\sum w_i`). ``"importance"`` (sampling, analytic or class
        weights): a weighted estimating equation; the default covariance is the
        sandwich with meat :math:`\sum_i w_i^2 s_i s_i^\top`, ``nobs`` counts
        the rows with :math:`w_i > 0`, and the summary says why.
    likelihood : bool, optional
        ``False`` marks ``loglik`` as an M-estimation objective that is not a
        log-likelihood (e.g. minus a focal loss): sandwich covariance by
        default, no AIC/BIC. Default: the Model's setting, else True.
    dtype : {"float64", "float32"}, optional
        Working precision; float64 unless float32 is asked for.
    max_steps : int, optional
        Step limit (default 100 for Newton, 1000 for L-BFGS, 10000 for optax).
    tol : float, optional
        Newton stops when EDM :math:`=\tfrac12 g^\top H^{-1} g \le` ``tol``
        (default 1e-9 in float64, 1e-5 in float32; 1e-15 and 1e-7 for
        ``"fisher"``, whose convergence is only linear for non-canonical
        links); one more step then brings the error of the estimate to the
        order of EDM² (see Notes).
    gtol : float, optional
        Stop when :math:`\max|g| \le` ``gtol`` :math:`\max(1, |\ell|)`
        (default 0 for Newton, 1e-9 otherwise).
    rtol : float, optional
        Stop when the relative change of the log-likelihood and of the
        parameters between iterations are both below ``rtol`` (default off).
    starts : int or list of pytrees, optional
        Multi-start: fit from several starting points at once (``vmap``); an int
        ``S`` draws ``S - 1`` points around ``params`` on the unconstrained scale
        (normal, sd ``start_scale``). The best optimum is returned; the spread is
        in ``fit.multistart``.
    start_scale : float
        Standard deviation of random starts on the unconstrained scale.
    key : jax.random key, optional
        Key for random starts (default ``jax.random.key(0)``).
    nobs : int, optional
        Number of observations, for BIC, when ``loglik`` returns a scalar.
    chunk_size : int or False, optional
        Accumulate value, gradient and Hessian over blocks of this many
        observations (see :mod:`likelihax.objective._problem`). Default: about
        2 MiB of per-observation data per block (128 MiB for rows of 256 or
        more float64 values) when there are at least four blocks; ``False``
        evaluates all observations at once. Results agree to rounding. The
        default blocks of wide rows bound memory only: the value, the
        gradient and a one-predictor Hessian by ``syrk`` read the whole data.
    devices : "all", list of jax.Device, jax.sharding.Mesh, optional
        Shard the observation axis across these devices (``"all"``: every
        local device): per-observation data fields and weights are split by
        rows, XLA partitions the compiled fit and reduces the sums across
        devices (see :mod:`likelihax.data._shard`). Results equal the
        single-device fit to rounding. Needs per-observation terms.
    verbose : bool
        Print the log-likelihood at every step (``jax.debug.print``).
    warn : bool
        Emit warnings for non-convergence and information problems (default).
    matrix_free : bool, optional
        Never form the :math:`k \times k` information: diagnostics from
        Hessian-vector products and the covariance of ``cov_params`` only, by
        conjugate-gradient solves (see :mod:`likelihax.engine._matrix_free`).
        Default: beyond 8,192 free parameters, unless ``method`` is
        ``"newton"`` or ``"fisher"``. Needs ``method="newton-cg"``
        (the default there), ``"lbfgs"``, ``"bfgs"`` or an optax transformation,
        and ``cov`` in ``"oim"``, ``"sandwich"``, ``"hc1"``, ``"stata"``,
        ``"opg"``.
    cov_params : list of str, optional
        Matrix-free fits only: the parameters whose covariance (and SEs) is
        computed. Default: every scalar and every array of at most 100
        elements; SEs of the others are NaN.

    Returns
    -------
    FitResult
        Estimates, standard errors, covariance, log-likelihood, diagnostics.

    Raises
    ------
    ValueError, TypeError, KeyError
        Bad input, detected before compiling: NaN/inf or empty data, a
        log-likelihood of the wrong shape, unknown constraint names, starting
        values outside their constraint; and a non-finite log-likelihood at the
        starting values (with the offending observations).

    Warns
    -----
    ConvergenceWarning
        The stopping rule was not met, or the end point is not a maximum
        (``fit.status`` says why).
    InformationWarning
        The information is singular or indefinite (SEs are NaN; the warning
        names the parameters along the weak direction); the maximum is at
        infinity or on the boundary of the parameter space
        (``Status.unbounded``, ``Status.at_boundary``; the warning names the
        direction); the information is so ill-conditioned (scaled condition
        number 1e9 or more in float64) that the standard errors carry a
        rounding error above about 1e-6 (the warning gives it); or the
        optimizer was restarted from a higher point (``fit.restarts``).

    Notes
    -----
    Solvers minimize :math:`-\ell(\theta(u))` over unconstrained :math:`u`.
    Where the solver stops, the log-likelihood is probed one standard error
    away, along the weakest direction of the information (the way it rises)
    and the Newton direction (closer where the value there is not finite): a point
    more than ``RISE`` (1e-3) higher than the
    quadratic model allows restarts the solver from there (at most
    ``MAX_RESTARTS``, 3, times; then ``Status.not_maximum``), and a drop
    below ``FLAT_DROP`` (0.05, against 0.5 for a quadratic maximum) gives
    ``Status.unbounded`` or ``Status.at_boundary``. So ``fit.converged`` (only
    for ``Status.success``) means a finite maximum with a positive definite
    information at which that probe found nothing higher.
    Newton ends with one extra full step after its stopping rule is met (see
    :mod:`likelihax.optimize._newton`), so its estimates are accurate to about
    rounding and everything reported is evaluated at the estimate.
    Estimates and standard errors are reported on the natural scale (delta
    method); the unconstrained ones are ``fit.params_unconstrained`` and
    ``fit.cov_unconstrained``. Computation runs in a scoped float64 mode
    (see :mod:`likelihax.core._precision`); the user's JAX configuration is left alone.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp, likelihax as lx
    >>> def bernoulli(params, data):
    ...     p = params["p"]
    ...     return data["y"] * jnp.log(p) + (1 - data["y"]) * jnp.log1p(-p)
    >>> y = np.array([1, 0, 1, 1, 0, 1, 1, 1])
    >>> fit = lx.fit(bernoulli, {"p": 0.5}, {"y": y},
    ...              constraints={"p": lx.constraints.unit_interval})
    >>> round(float(fit.params["p"]), 6), round(float(fit.se["p"]), 6)
    (0.75, 0.153093)
    """
    check_fit_options(method=method, cov=cov, dtype=dtype, max_steps=max_steps, tol=tol,
                      gtol=gtol, rtol=rtol, starts=starts, start_scale=start_scale,
                      nobs=nobs, chunk_size=chunk_size)  # fmt: skip
    model, data, likelihood = _as_model(loglik, params, data, constraints, likelihood)
    if weight_type not in WEIGHT_TYPES:
        raise ValueError(
            f"weight_type must be one of {WEIGHT_TYPES}; got {weight_type!r}."
        )
    cov = _resolve_cov(cov, method, model.fisher, likelihood, weights, weight_type)
    wdtype = resolve_dtype(dtype)
    with x64_scope():
        spec, leaves, fn = model.spec, model.init_leaves, model.loglik
        if spec.n_free == 0:
            raise ValueError("All parameters are fixed: there is nothing to estimate.")
        traced = is_traced(data) or (weights is not None and is_traced(weights))
        staged = _stage_data(model, data, wdtype, chunk_size, devices, nobs)
        jdata, source, out_shape, per_obs, n = staged
        w = prepare_weights(weights, n, per_obs, wdtype)
        if w is not None and not traced:
            wn = np.asarray(w)
            n = float(wn.sum()) if weight_type == "frequency" else int((wn > 0).sum())
            if weight_type == "frequency" and n == round(n):
                n = int(round(n))
        if COVARIANCES[cov].per_obs and not per_obs:
            raise ValueError(
                f"cov={cov!r} needs one log-likelihood value per observation, but the "
                "log-likelihood returns a scalar. Return the per-observation terms "
                "(drop the final sum) or use cov='oim'."
            )
        shard = _resolve_shards(devices, per_obs, traced)
        if method is None:
            method = default_method(spec.n_free)
        free_opts = resolve_matrix_free(matrix_free, cov_params, spec, method, cov)
        solver = make_solver(method, wdtype, tol, gtol, rtol)
        if max_steps is None:
            max_steps = solver.default_max_steps
        rows = out_shape[0] if per_obs else n
        chunk = (source.chunk if source is not None
                 else chunk_rows(chunk_size, jdata, rows, per_obs))  # fmt: skip
        program = FitProgram(
            loglik=fn, spec=spec, solver=solver, cov=cov, max_steps=int(max_steps),
            nobs=int(rows if per_obs else (n or 1)), per_obs=per_obs,
            verbose=bool(verbose), info_tol=INFO_TOL[wdtype.name],
            chunk=chunk, wide=source is None and wide_blocks(chunk_size, jdata, rows, chunk),
            fisher=model.fisher, weight_type=weight_type, source=source, **free_opts,
        )  # fmt: skip
        # Host arrays go to the compiled program with its arguments (cheaper
        # than a jnp.asarray each); JAX arrays and tracers stay where they are.
        fixed = [
            jnp.asarray(x, wdtype) if isinstance(x, jax.Array) else np.asarray(x, wdtype)
            for x in leaves
        ]
        if starts is None:
            u_starts = None
        else:
            u0 = to_unconstrained(spec, fixed)
            u_starts = resolve_starts(starts, spec, leaves, u0, key, start_scale)
        out, multi = _run(program, u_starts, fixed, jdata, w, shard, traced, wdtype)
        setup = FitSetup(
            spec=spec, loglik_fn=fn, fisher_fn=model.fisher, program=program,
            per_obs=per_obs, method=solver.name, dtype=wdtype.name, name=model.name,
            weight_type=None if w is None else weight_type,
            likelihood=likelihood,
            # the caller's objects, by reference (no copy kept)
            data=None if traced else data, weights=None if traced else weights,
        )  # fmt: skip
        result = FitResult.from_engine(out, multi, setup=setup, cov_kind=cov, nobs=n)
    if not traced:
        report(result, fn, spec, fixed, jdata if source is None else source, warn)
    return result


def is_model_call(loglik, params, data, constraints, caller: str = "fit") -> bool:
    """Check the arguments of a function called like :func:`fit`, in either form.

    The two forms are ``caller(model, data, ...)``, with a :class:`Model` that
    holds the starting values and constraints, and
    ``caller(loglik, params, data, constraints=...)``, with a function.

    Parameters
    ----------
    loglik : Model or callable
        The first argument.
    params : pytree or None
        The second argument: the starting values, or the data in the Model form.
    data : pytree or None
        The third argument; None in the Model form.
    constraints : dict or None
        None in the Model form.
    caller : str
        The function's name, for the error messages.

    Returns
    -------
    bool
        True for the Model form, False for the function form.

    Raises
    ------
    TypeError
        A Model given with ``data`` or ``constraints``; a first argument that is
        neither a Model nor callable; a function without ``params``.

    Examples
    --------
    >>> import likelihax as lx
    >>> m = lx.Model(lambda p, d: -p["a"] ** 2, {"a": 1.0})
    >>> lx.engine.is_model_call(m, {"y": 1.0}, None, None)
    True
    >>> lx.engine.is_model_call(m.loglik, {"a": 1.0}, {"y": 1.0}, None)
    False
    """
    if isinstance(loglik, Model):
        if data is not None:
            raise TypeError(
                f"Call {caller}(model, data, ...): a Model already holds params."
            )
        if constraints is not None:
            raise TypeError(
                f"Give constraints when building the Model, not to {caller}()."
            )
        return True
    if not callable(loglik):
        raise TypeError(
            "The first argument must be a log-likelihood function "
            f"loglik(params, data) or a likelihax.Model; got {type(loglik).__name__}."
        )
    if params is None:
        raise TypeError(
            f"{caller}(loglik, params, data): `params` (starting values) is missing."
        )
    return False


def _as_model(loglik, params, data, constraints, likelihood):
    """``(model, data, likelihood)`` from either call form: ``fit(model, data)`` or
    ``fit(loglik, params, data, constraints=...)``."""
    if is_model_call(loglik, params, data, constraints):
        model, data = loglik, params
        return model, data, model.likelihood if likelihood is None else bool(likelihood)
    with x64_scope():
        model = Model(
            loglik, params, constraints,
            name=getattr(loglik, "__name__", "loglik"),
        )  # fmt: skip
    return model, data, True if likelihood is None else bool(likelihood)


def _resolve_cov(cov, method, fisher, likelihood, weights, weight_type) -> str:
    """The covariance kind: the one asked for, or the default for the objective."""
    if cov is None:
        robust = not likelihood or (
            weights is not None and weight_type == "importance"
        )
        cov = "sandwich" if robust else "oim"
    expected = method == "fisher" or getattr(method, "information", "") == "expected"
    if (cov == "eim" or expected) and fisher is None:
        raise ValueError(
            f"{'cov=' + repr(cov) if cov == 'eim' else 'method=' + repr(method)} "
            "needs the model's expected information: build it with "
            "lx.Model(loglik, params, fisher=fn), where fn(params, data) returns "
            "(eta, c) (see likelihax.Model)."
        )
    if cov not in COV_KINDS:
        raise ValueError(f"cov must be one of {COV_KINDS}; got {cov!r}.")
    return cov


def _stage_data(model, data, wdtype, chunk_size, devices, nobs):
    """``(jdata, source, out_shape, per_obs, n)``: the data checked and staged
    (or a bound streamed source), the log-likelihood's output shape, and the
    number of observations."""
    spec, leaves, fn = model.spec, model.init_leaves, model.loglik
    source = jdata = None
    if is_source(data):
        if chunk_size is not None and chunk_size is not True:
            raise ValueError(
                "Streamed data are read in blocks of the source's chunk_size; "
                "give chunk_size= when building the source, not to fit()."
            )
        source = data.bind(wdtype, data.default_chunk())
        out_shape = check_loglik(fn, spec, leaves, source.struct(), wdtype)
        if out_shape != (source.chunk,):
            raise ValueError(
                "Streamed data need one log-likelihood value per observation: "
                f"for a block of {source.chunk} rows the log-likelihood "
                f"returned shape {out_shape}."
            )
        out_shape = (data.n,)
        if devices is not None:
            raise ValueError(
                "devices= is not available for streamed data (a source); load "
                "the data as arrays to shard them across devices."
            )
    else:
        jdata = prepare_data(data, wdtype)
        out_shape = check_loglik(fn, spec, leaves, jdata, wdtype)
        check_rows(fn, spec, leaves, jdata, out_shape, wdtype)
    per_obs = out_shape != ()
    if per_obs:
        n = out_shape[0]
        if n == 0:
            raise ValueError("The log-likelihood returned zero observations.")
    else:
        n = nobs if nobs is not None else leading_nobs(jdata)
    if nobs is not None and per_obs and nobs != n:
        raise ValueError(f"nobs={nobs} but the log-likelihood returns {n} values.")
    return jdata, source, out_shape, per_obs, n


def _resolve_shards(devices, per_obs, traced):
    """The devices to shard the observations over, or None for one device."""
    shard = resolve_devices(devices)
    if shard is None or len(shard) < 2:
        return None  # one device: the ordinary placement
    if not per_obs:
        raise ValueError(
            "devices= shards the observations, so the log-likelihood must "
            "return one value per observation (it returns a scalar total)."
        )
    if traced:
        raise ValueError(
            "devices= cannot be used inside jax.jit/vmap (the data are "
            "traced); place the data with jax.device_put and a "
            "NamedSharding yourself instead."
        )
    return shard


def _run(program, u_starts, fixed, jdata, w, shard, traced, wdtype):
    """Run the compiled program (one start, or the best of ``u_starts``):
    ``(out, multistart)``, host arrays unless traced."""
    run_program, run_data, run_w = program, jdata, w
    if shard is not None:
        run_data, run_w, n_pad = shard_observations(
            jdata, w, program.nobs, shard, wdtype
        )
        wt = program.weight_type if w is not None else "frequency"
        run_program = dataclasses.replace(program, nobs=n_pad, chunk=0, weight_type=wt)
    small = is_small(run_data, run_w) and shard is None
    if u_starts is None:
        core = fit_program_small if small else fit_program
        out, multi = core(run_program, None, fixed, run_data, run_w), None
    else:
        many = fit_starts_program_small if small else fit_starts_program
        outs = many(run_program, u_starts, fixed, run_data, run_w)
        out, multi = pick_best(outs, traced)
    if not traced:
        out = jax.tree_util.tree_map(np.asarray, out)
    return out, multi
