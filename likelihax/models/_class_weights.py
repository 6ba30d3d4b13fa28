"""Class weights and the focal loss, for :mod:`likelihax.models.imbalance`."""

from __future__ import annotations

import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ..core import x64_scope

__all__ = ["class_weights", "focal_loss"]


# ----- class weights ------------------------------------------------------------------
def class_weights(y, kind: str | Mapping = "balanced") -> np.ndarray:
    r"""Per-observation weights for a class-imbalanced response.

    Parameters
    ----------
    y : array_like (n,)
        Class labels (numbers, strings or booleans); any number of classes.
    kind : "balanced" or dict
        ``"balanced"``: class :math:`c` gets :math:`n / (K\,n_c)`, with
        :math:`K` classes and :math:`n_c` observations in class :math:`c`
        (as scikit-learn's ``compute_class_weight("balanced")``), so every
        class carries the same total weight :math:`n/K`. A dict maps every
        class to a positive weight.

    Returns
    -------
    ndarray (n,)
        Weight of each observation (float64; a new array).

    Raises
    ------
    ValueError
        ``y`` empty, not one-dimensional or with missing values; an unknown
        ``kind``; a dict that names a class not in ``y``, misses a class of
        ``y``, or gives a weight that is not a positive finite number.

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.imbalance import class_weights
    >>> y = np.array([0, 0, 0, 1])
    >>> class_weights(y).tolist()  # 4 / (2 * 3) and 4 / (2 * 1)
    [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
    >>> class_weights(y, {0: 1.0, 1: 5.0}).tolist()
    [1.0, 1.0, 1.0, 5.0]
    """
    arr = _labels(y)
    classes, inverse, counts = np.unique(arr, return_inverse=True, return_counts=True)
    if isinstance(kind, str):
        if kind != "balanced":
            raise ValueError(
                f"Unknown class weighting {kind!r}: use 'balanced' or a dict "
                "{class: weight}."
            )
        per_class = arr.size / (classes.size * counts.astype(np.float64))
    elif isinstance(kind, Mapping):
        per_class = _dict_weights(kind, classes)
    else:
        raise TypeError(
            "class weights must be 'balanced' or a dict {class: weight}; got "
            f"{type(kind).__name__}."
        )
    return per_class[inverse.reshape(-1)]


def _labels(y) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(
            f"y must be one-dimensional (one label per observation); got shape "
            f"{arr.shape}."
        )
    if arr.size == 0:
        raise ValueError("y is empty: class weights need at least one observation.")
    if arr.dtype.kind == "O":
        missing = [i for i, v in enumerate(arr) if v is None or _is_nan(v)]
    elif arr.dtype.kind in "fc":
        missing = np.flatnonzero(np.isnan(arr)).tolist()
    else:
        missing = []
    if missing:
        raise ValueError(
            f"y has {len(missing)} missing value(s) (first rows: {missing[:5]}); "
            "drop those rows first."
        )
    return arr


def _is_nan(v) -> bool:
    try:
        return math.isnan(v)
    except TypeError:  # not a number: a label such as a string
        return False


def _dict_weights(kind: Mapping, classes: np.ndarray) -> np.ndarray:
    present = classes.tolist()
    unknown = [k for k in kind if k not in present]
    if unknown:
        raise ValueError(
            f"class weights name class(es) {unknown} that do not occur in y; "
            f"the classes of y are {present}."
        )
    missing = [c for c in present if c not in kind]
    if missing:
        raise ValueError(
            f"class weights give no weight for class(es) {missing} of y; give a "
            f"weight for every class ({present})."
        )
    out = []
    for c in present:
        w = kind[c]
        try:
            wf = float(w)
        except (TypeError, ValueError):
            raise TypeError(f"class weight for {c!r} is not a number: {w!r}.") from None
        if not (math.isfinite(wf) and wf > 0):
            raise ValueError(
                f"class weight for {c!r} is {w!r}; class weights must be positive "
                "finite numbers (to drop a class, drop its rows)."
            )
        out.append(wf)
    return np.asarray(out, dtype=np.float64)


# ----- focal loss -----------------------------------------------------------------------
def _minus_focal(eta, y, a, gamma):
    """``-FL = a (1 - p_t)^gamma log p_t`` from the logit, with log-sigmoids."""
    s = (2.0 * y - 1.0) * eta
    return a * jnp.exp(gamma * jax.nn.log_sigmoid(-s)) * jax.nn.log_sigmoid(s)


def focal_loss(logits, y, *, gamma: float = 2.0, alpha: float | None = None):
    r"""Focal loss of binary logits (Lin et al., 2017), one value per observation.

    .. math::

        \mathrm{FL}_i = -\alpha_{t,i}\,(1 - p_{t,i})^\gamma \log p_{t,i},
        \qquad p_{t,i} = \sigma\bigl((2y_i - 1)\,\eta_i\bigr),

    computed from the logits :math:`\eta_i` with log-sigmoids (finite for every
    finite logit). :math:`\alpha_t` is ``alpha`` for :math:`y = 1` and
    ``1 - alpha`` for :math:`y = 0` (1 when ``alpha`` is None). With
    ``gamma=0`` and ``alpha=None`` it is the logistic deviance
    :math:`-\log p_t`.

    Parameters
    ----------
    logits : array_like (n,)
        Linear predictors :math:`\eta_i`.
    y : array_like (n,)
        Binary responses, 0 or 1.
    gamma : float
        Focusing parameter, :math:`\gamma \ge 0`.
    alpha : float in (0, 1), optional
        Weight of the positive class.

    Returns
    -------
    ndarray or jax.Array (n,)
        The loss (non-negative). NumPy or list inputs give a float64 NumPy
        array (computed in a scoped float64 mode); JAX inputs give a JAX array
        in their precision, so the function can be used under ``jit`` and
        ``grad``. ``y``, ``gamma`` and ``alpha`` are not checked (they may be
        traced).

    Examples
    --------
    >>> import numpy as np
    >>> from likelihax.models.imbalance import focal_loss
    >>> eta = np.array([2.0, -1.0, -800.0])
    >>> loss = focal_loss(eta, np.array([1, 1, 1]), gamma=2.0)
    >>> p = 1 / (1 + np.exp(-eta[:2]))
    >>> bool(np.allclose(loss[:2], -(1 - p) ** 2 * np.log(p), rtol=1e-12))
    True
    >>> float(loss[2])  # -log sigmoid(-800) = 800, with no log(0)
    800.0
    """
    host = not any(isinstance(v, jax.Array) for v in (logits, y, gamma, alpha))
    if not host:
        return _focal_jax(jnp.asarray(logits), y, gamma, alpha)
    with x64_scope():
        eta = jnp.asarray(np.asarray(logits, dtype=np.float64))
        return np.asarray(
            _focal_jax(eta, np.asarray(y, dtype=np.float64), gamma, alpha)
        )


def _focal_jax(eta, y, gamma, alpha):
    y = jnp.asarray(y, eta.dtype)
    a = 1.0 if alpha is None else jnp.where(y == 1, alpha, 1.0 - alpha)
    return -_minus_focal(eta, y, a, gamma)
