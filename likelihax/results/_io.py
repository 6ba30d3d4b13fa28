r"""Save a fit result to JSON plus ``.npz`` and load it back, without pickle.

``save_result(fit, "out/model")`` writes two files:

* ``out/model.json``: what a person (or another program) reads: format version,
  parameter names, shapes, labels and constraints (by name and bounds), method,
  status, convergence, log-likelihood, ``nobs``, ``k``, AIC/BIC, covariance kind
  and its description, precision, estimates with standard errors, the
  likelihax/JAX/NumPy versions, the date, and the SHA-256 of the ``.npz``;
* ``out/model.npz``: the numbers (natural and unconstrained estimates, standard
  errors, covariances, gradient, information, optimizer trace, multi-start
  outcomes), written with :func:`numpy.savez` and read with
  ``allow_pickle=False``.

:func:`load_result` rebuilds a :class:`~likelihax.FitResult` whose estimates,
standard errors, covariance, log-likelihood, AIC/BIC, intervals, summary and
labels equal the saved ones, and whose Wald tests, delta method and
likelihood-ratio tests work. The log-likelihood function and the data are not
saved (a Python function cannot be stored without pickle, which can run
arbitrary code when loaded): whatever needs them (another covariance kind,
profiles, bootstrap, score tests, refits) raises an error that says so.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import io
import json
import os
from pathlib import Path

import jax
import numpy as np

from ..core import Status
from ..parameters import ParamSpec
from ._codec import (
    _decode_constraint,
    _decode_tree,
    _encode_constraint,
    _encode_tree,
    _nobs,
    _num,
)
from ._io_checks import (
    _bad,
    _check_declared,
    _check_npz_sizes,
    _check_shapes,
    _check_status,
)
from ._records import Annotation, FitSetup, MultiStart
from ._result import FitResult, register_result_class

__all__ = ["LoadedFitResult", "load_result", "save_result"]

FORMAT = "likelihax-result"
FORMAT_VERSION = 1

# npz array name -> FitResult field (the names a reader of the .npz sees).
_ARRAYS = {
    "params": "params_flat",
    "params_unconstrained": "params_unconstrained",
    "loglik": "loglik",
    "gradient": "grad",
    "information": "information",
    "cov_unconstrained": "cov_unconstrained",
    "cov": "cov_flat",
    "status": "status_code",
    "iterations": "iterations",
    "n_evals": "n_evals",
    "edm": "edm",
    "condition_number": "condition_number",
    "trace": "trace",
}


class _NotSaved:
    """Marker for what a saved result does not carry (function, data, setup)."""

    def __init__(self, source: str):
        self.source = source

    def __eq__(self, other):
        return isinstance(other, _NotSaved) and other.source == self.source

    def __hash__(self):
        return hash(("_NotSaved", self.source))


def _refusal(source: str) -> str:
    return (
        f"This result was loaded from {source!r} by likelihax.load_result: it "
        "holds the estimates, covariance, log-likelihood and summary, but not the "
        "log-likelihood function or the data (saved results never contain Python "
        "code: storing a function would need pickle, which can run arbitrary code "
        "when loaded). Refits, profiles, bootstraps, score tests and other "
        "covariance kinds need the function and the data: fit the model again "
        "with likelihax.fit (the saved estimates make good starting values: "
        "result.params). Wald tests, the delta method, conf_int, summary and "
        "likelihood-ratio tests work on the loaded result."
    )


class _LoadedSetup(FitSetup):
    """The setup of a loaded result: reading what was not saved (the
    log-likelihood function, the compiled program, the data) raises a
    ``ValueError`` that says why."""

    def __getattribute__(self, name):
        value = object.__getattribute__(self, name)
        if isinstance(value, _NotSaved):
            raise ValueError(_refusal(value.source))  # noqa: TRY004 - a value problem
        return value


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class LoadedFitResult(FitResult):
    """A :class:`~likelihax.FitResult` read back by :func:`load_result`.

    It behaves as the saved result for everything computed from the stored
    numbers; operations that need the log-likelihood function or the data raise
    a ``ValueError`` that explains why (see :func:`load_result`).
    """

    @property
    def source(self) -> str:
        """The JSON file this result was loaded from."""
        return object.__getattribute__(self.setup, "loglik_fn").source


register_result_class(LoadedFitResult)


def _stems(path) -> tuple[Path, Path]:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"path must be a file stem (str or pathlib.Path); got {type(path).__name__}."
        )
    p = Path(path)
    if p.suffix in (".json", ".npz"):
        p = p.with_suffix("")
    return p.with_name(p.name + ".json"), p.with_name(p.name + ".npz")


def _engine_result(result) -> FitResult:
    """The FitResult to save: ``result`` itself, or a model result's engine fit
    annotated with the model's summary rows (its ``annotated_fit()``, where the
    model's summary has rows of its own)."""
    if isinstance(result, FitResult):
        return result
    fit = getattr(result, "fit", None)
    if not isinstance(fit, FitResult) or not callable(getattr(result, "summary", None)):
        raise TypeError(
            "save_result saves a likelihax.FitResult or a model result that holds "
            f"one in `.fit` (GLMResult, MultinomialFit, ...); got {type(result).__name__}."
        )
    annotated = getattr(result, "annotated_fit", None)
    if callable(annotated):
        return annotated()
    if str(result.summary()) != str(fit.summary()):
        raise ValueError(
            f"{type(result).__name__}.summary() is not the engine's summary and it "
            "has no annotated_fit(), so save_result cannot keep it; save the "
            "engine's result instead: save_result(result.fit, path)."
        )
    return fit


# ----- save ---------------------------------------------------------------------------
def save_result(result, path) -> tuple[Path, Path]:
    """Save a fit result as ``path.json`` (metadata) and ``path.npz`` (arrays).

    Parameters
    ----------
    result : FitResult, or a model result holding one in ``.fit``
        A single (not batched) result. A :class:`~likelihax.GLMResult` or
        :class:`~likelihax.MultinomialFit` is saved as its engine fit, with the
        model's summary rows and notes (family, deviance, ...).
    path : str or Path
        File stem; ``.json`` and ``.npz`` are appended (a given ``.json`` or
        ``.npz`` suffix is replaced). Existing files are overwritten.

    Returns
    -------
    (json_path, npz_path) : tuple of Path

    Raises
    ------
    TypeError
        ``result`` is not a fit result.
    ValueError
        A batched or traced result, parameters in a container other than
        dicts/lists/tuples, or a constraint that is not a built-in one.

    Notes
    -----
    Nothing is pickled: the JSON is plain text and the ``.npz`` holds numeric
    arrays only. The log-likelihood function and the data are not saved, so a
    loaded result cannot be refitted (see :func:`load_result`).

    Examples
    --------
    >>> import tempfile, os, numpy as np, jax.scipy.stats as st, likelihax as lx
    >>> y = np.array([0.3, 1.2, 2.5, 0.9, 1.6])
    >>> fit = lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], p["sigma"]),
    ...              {"mu": 0.0, "sigma": 1.0}, {"y": y},
    ...              constraints={"sigma": lx.constraints.positive})
    >>> stem = os.path.join(tempfile.mkdtemp(), "normal")
    >>> [p.name for p in lx.save_result(fit, stem)]
    ['normal.json', 'normal.npz']
    >>> back = lx.load_result(stem)
    >>> bool(np.allclose(back.se["sigma"], fit.se["sigma"], rtol=0, atol=0))
    True
    """
    fit = _engine_result(result)
    if not fit.is_single:
        raise ValueError(
            "save_result saves a single fit, not a batched or traced result: "
            "index it first (fits[i])."
        )
    if fit.cov_flat is None:
        raise ValueError(
            "save_result writes the information and the full covariance, which a "
            "matrix-free fit does not have: save its params, se and cov instead, or "
            "refit with matrix_free=False."
        )
    spec = fit.spec
    n = len(spec.names)
    skeleton = jax.tree_util.tree_unflatten(spec.treedef, list(range(n)))
    tree = _encode_tree(skeleton)
    params = [
        {
            "name": name, "shape": list(shape),
            "constraint": _encode_constraint(c, name),
        }
        for name, shape, c in zip(spec.names, spec.shapes, spec.constraints)
    ]  # fmt: skip
    arrays = {k: np.asarray(getattr(fit, f)) for k, f in _ARRAYS.items()}
    arrays["se"] = np.asarray(fit.se_flat)
    if fit.multistart is not None:
        ms = fit.multistart
        arrays["multistart_loglik"] = np.asarray(ms.loglik)
        arrays["multistart_status"] = np.asarray(ms.status)
        arrays["multistart_params"] = np.asarray(ms.params_flat)
    for k, a in arrays.items():
        if a.dtype.kind not in "biuf":
            raise ValueError(f"array {k!r} has dtype {a.dtype}; expected numbers.")
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    blob = buf.getvalue()

    name, header, notes, extra_k = fit.annotation
    se = arrays["se"]
    est = arrays["params"]
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "versions": {
            "likelihax": _version(),
            "jax": jax.__version__,
            "numpy": np.__version__,
        },
        "model": fit.setup.name,
        "method": fit.method,
        "status": Status(int(fit.status_code)).name,
        "converged": bool(fit.converged),
        "loglik": _num(fit.loglik),
        "nobs": _nobs(fit.nobs),
        "k": fit.n_params,
        "aic": _num(fit.aic),
        "bic": _num(fit.bic),
        "cov_kind": fit.cov_kind,
        "cov_description": fit.cov_description,
        "cov_scale": None
        if fit.cov_scale is None
        else [_num(fit.cov_scale[0]), str(fit.cov_scale[1])],
        "dtype": fit.dtype,
        "per_obs": bool(fit.setup.per_obs),
        "likelihood": bool(fit.setup.likelihood),
        "weight_type": fit.setup.weight_type,
        "estimator": fit.setup.estimator,
        "annotation": {
            "name": name,
            "header": [list(r) for r in header],
            "notes": list(notes),
            "extra_params": int(extra_k),
        },
        "params_tree": tree,
        "params": params,
        "order": list(spec.order),
        "labels": fit.labels,
        "estimates": [
            {"label": spec.labels[i], "estimate": _num(est[i]), "se": _num(se[i])}
            for i in spec.reported
        ],
        "arrays": {
            k: {"shape": list(a.shape), "dtype": a.dtype.name}
            for k, a in arrays.items()
        },
        "npz_sha256": hashlib.sha256(blob).hexdigest(),
    }
    json_path, npz_path = _stems(path)
    if not json_path.parent.is_dir():
        raise FileNotFoundError(
            f"Cannot save to {json_path.with_suffix('')}: the folder "
            f"{json_path.parent} does not exist. Create it first "
            "(pathlib.Path(folder).mkdir(parents=True))."
        )
    npz_path.write_bytes(blob)
    json_path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return json_path, npz_path


def _version() -> str:
    """The installed likelihax version (read from the package metadata, so that
    this layer does not import the top-level package)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("likelihax")
    except PackageNotFoundError:
        return "unknown"


# ----- load ---------------------------------------------------------------------------


def load_result(path) -> LoadedFitResult:
    """Load a result written by :func:`save_result` (or ``FitResult.save``).

    Parameters
    ----------
    path : str or Path
        The stem given to :func:`save_result` (``.json``/``.npz`` may be given).

    Returns
    -------
    LoadedFitResult
        A :class:`~likelihax.FitResult`: ``params``, ``se``, ``cov``,
        ``loglik``, ``aic``, ``bic``, ``conf_int()``, ``summary()``, labels,
        status and trace as saved. Operations that need the log-likelihood
        function or the data (refit, ``profile``, ``bootstrap``, ``score_test``,
        ``vcov`` of another kind) raise ``ValueError`` saying so.

    Raises
    ------
    FileNotFoundError
        The ``.json`` or the ``.npz`` is missing.
    ValueError
        Not a likelihax result, a newer format version, an ``.npz`` that does
        not match its ``.json`` (checksum), arrays whose shapes do not fit
        the parameters, arrays or parameters declared far larger than the
        ``.npz`` file, a status code that is not a :class:`~likelihax.Status`,
        or a parameter tree nested more than ``MAX_TREE_DEPTH`` (64) levels
        deep. The message names the entry.

    Examples
    --------
    >>> import tempfile, os, numpy as np, jax.numpy as jnp, likelihax as lx
    >>> fit = lx.fit(lambda p, d: d["y"] * jnp.log(p["rate"]) - p["rate"],
    ...              {"rate": 1.0}, {"y": np.array([2, 3, 1, 4])},
    ...              constraints={"rate": lx.constraints.positive})
    >>> stem = os.path.join(tempfile.mkdtemp(), "pois")
    >>> _ = fit.save(stem)
    >>> back = lx.load_result(stem)
    >>> round(float(back.params["rate"]), 6), back.labels
    (2.5, ['rate'])
    """
    json_path, npz_path = _stems(path)
    if not json_path.exists():
        raise FileNotFoundError(
            f"{str(json_path)!r} does not exist; give the stem passed to save_result."
        )
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise _bad(json_path, f"not valid JSON ({e}).") from None
    except RecursionError:
        raise _bad(
            json_path, "its JSON is nested too deeply to read (a damaged file)."
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _bad(json_path, "not a likelihax result file (no 'format': "
                   f"{FORMAT!r} entry).")  # fmt: skip
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise _bad(
            json_path,
            f"format_version {version!r}; this likelihax reads version "
            f"{FORMAT_VERSION}. "
            + ("Upgrade likelihax to load it." if isinstance(version, int)
               and version > FORMAT_VERSION else "The file is damaged."),
        )  # fmt: skip
    if not npz_path.exists():
        raise FileNotFoundError(
            f"{str(npz_path)!r} is missing: a saved result is a pair of files, "
            f"{json_path.name} (metadata) and {npz_path.name} (the arrays); copy "
            "both."
        )
    blob = npz_path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta.get("npz_sha256"):
        raise _bad(
            json_path,
            f"{npz_path.name} does not match it (SHA-256 differs): the arrays were "
            "changed after saving, or the two files come from different saves.",
        )
    try:
        return _rebuild(meta, blob, str(json_path))
    except (KeyError, TypeError, IndexError, AttributeError, OverflowError) as e:
        raise _bad(json_path, f"missing or malformed entry ({e!r}).") from None


def _rebuild(meta: dict, blob: bytes, source: str) -> LoadedFitResult:
    _check_declared(meta, blob, source)
    _check_npz_sizes(blob, source)
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    expected = meta["arrays"]
    if set(arrays) != set(expected):
        raise _bad(source, f"the .npz holds {sorted(arrays)}, the JSON lists "
                   f"{sorted(expected)}.")  # fmt: skip
    try:
        tree = _decode_tree(meta["params_tree"])
        cons = tuple(_decode_constraint(p["constraint"]) for p in meta["params"])
    except ValueError as e:
        raise _bad(source, f"{e}; the file was written by another version.") from None
    treedef = jax.tree_util.tree_structure(tree)
    names = tuple(p["name"] for p in meta["params"])
    shapes = tuple(tuple(int(s) for s in p["shape"]) for p in meta["params"])
    if treedef.num_leaves != len(names):
        raise _bad(source, f"the parameter tree has {treedef.num_leaves} leaves "
                   f"but {len(names)} parameters are listed.")  # fmt: skip
    spec = ParamSpec(treedef, names, shapes, cons, tuple(meta["order"]))
    _check_shapes(arrays, expected, spec, source)
    _check_status(arrays, meta, source)
    fields = {f: arrays[k] for k, f in _ARRAYS.items()}
    fields["multistart"] = None
    if "multistart_loglik" in arrays:
        fields["multistart"] = MultiStart(
            arrays["multistart_loglik"], arrays["multistart_status"],
            arrays["multistart_params"],
        )  # fmt: skip
    a = meta["annotation"]
    scale = meta["cov_scale"]
    marker = _NotSaved(source)
    setup = _LoadedSetup(
        spec=spec, loglik_fn=marker, fisher_fn=marker, program=marker,
        per_obs=meta["per_obs"], method=meta["method"], dtype=meta["dtype"],
        name=meta["model"], weight_type=meta["weight_type"],
        likelihood=meta["likelihood"], estimator=meta.get("estimator"),
        data=marker, weights=marker,
    )  # fmt: skip
    out = LoadedFitResult(
        **fields, curvature_drop=np.nan, restarts=0, setup=setup,
        annotation=Annotation(a["name"], tuple(tuple(r) for r in a["header"]),
                              tuple(a["notes"]), int(a["extra_params"])),
        cov_kind=meta["cov_kind"], nobs=meta["nobs"],
        cov_scale=None if scale is None else (float(scale[0]), scale[1]),
    )  # fmt: skip
    if out.labels != meta["labels"]:
        raise _bad(source, "the labels rebuilt from the parameters differ from the "
                   "saved labels.")  # fmt: skip
    return out


