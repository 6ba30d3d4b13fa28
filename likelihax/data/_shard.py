"""The observation axis sharded across devices with :mod:`jax.sharding`.

``lx.fit(..., devices="all")`` places every per-observation data field (leading
dimension ``n``) and the observation weights on a one-axis device mesh,
``NamedSharding(Mesh(devices, ("obs",)), P("obs"))``, and everything else
(parameters, small fields) replicated. The fit's compiled program is then
partitioned by XLA (GSPMD): each device evaluates the log-likelihood, gradient
and Hessian terms of its own rows and XLA inserts the all-reduce of the sums.
There is no likelihax-specific communication code, so the same program runs on
CPU devices, GPUs or TPUs, and on several hosts once ``jax.distributed`` is
initialized (see ``examples/multi_device.py``).

Rows are padded to a multiple of the number of devices by repeating the last
row with **weight zero**: padded rows contribute nothing to any sum (value,
gradient, information, scores), so estimates, standard errors and the
log-likelihood equal those of the unsharded fit (to rounding of the order of
the summation). An unweighted fit is run with unit frequency weights, which is
the same fit.

Sharded fits evaluate all rows of a device at once (no chunking: a block loop
over a sharded array would gather it); memory per device is about ``n / D``
rows of data.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["resolve_devices", "shard_observations"]


def resolve_devices(devices: Any) -> list | None:
    """``None`` (default placement), or the list of devices to shard over."""
    if devices is None:
        return None
    if isinstance(devices, str):
        if devices != "all":
            raise ValueError(
                f"devices must be 'all', a list of jax devices or None; got {devices!r}."
            )
        return list(jax.local_devices())
    if isinstance(devices, jax.sharding.Mesh):
        return list(devices.devices.flat)
    if isinstance(devices, Sequence) and all(
        isinstance(d, jax.Device) for d in devices
    ):
        if len(devices) == 0:
            raise ValueError("devices is an empty list; give at least one device.")
        if len({d.id for d in devices}) != len(devices):
            raise ValueError("devices lists the same device twice.")
        return list(devices)
    raise TypeError(
        "devices must be 'all', a list of jax.Device (e.g. jax.devices()[:4]), a "
        f"jax.sharding.Mesh, or None; got {type(devices).__name__}."
    )


def shard_observations(data: Any, weights, n: int, devices: list, dtype):
    """Pad rows to a multiple of ``len(devices)`` and shard them (module notes).

    Returns ``(data, weights, n_padded)``; ``weights`` is never None (unit
    weights for an unweighted fit, zero on the padded rows).
    """
    d = len(devices)
    n_pad = -(-n // d) * d
    extra = n_pad - n
    mesh = jax.sharding.Mesh(np.array(devices), ("obs",))
    rows = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("obs"))
    whole = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())

    def place(x):
        if jnp.ndim(x) >= 1 and jnp.shape(x)[0] == n:
            if extra:
                x = np.asarray(x)
                x = np.concatenate([x, np.repeat(x[-1:], extra, axis=0)], axis=0)
            return jax.device_put(x, rows)
        return jax.device_put(x, whole)

    w = np.ones(n, dtype) if weights is None else np.asarray(weights, dtype)
    w = np.concatenate([w, np.zeros(extra, dtype)])
    return (
        jax.tree_util.tree_map(place, data),
        jax.device_put(w, rows),
        n_pad,
    )
