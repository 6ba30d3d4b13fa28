"""One fit across several devices and several processes (hosts), with jax.distributed.

Run it as it is and it demonstrates everything on this machine::

    python examples/multi_device.py

It starts two worker processes, each seeing two virtual CPU devices, joins them
into one JAX runtime with ``jax.distributed.initialize`` (4 devices in all), and
fits a logistic regression with the observation axis sharded over the 4
devices: ``lx.fit(..., devices=jax.devices())``. XLA partitions the compiled
fit and all-reduces the log-likelihood, gradient and Hessian sums between the
processes; likelihax has no communication code of its own. Process 0 prints
the summary and checks it against a single-device fit.

The recipe on a real cluster (one process per host, or per GPU)
----------------------------------------------------------------
1. Start the same script on every host with its rank::

       python my_fit.py --coordinator host0:12345 --num-processes 8 --process-id $RANK

   (on SLURM, Open MPI or Cloud TPU, ``jax.distributed.initialize()`` with no
   arguments finds these itself).
2. In the script, *before any other JAX call*::

       jax.distributed.initialize(coordinator, num_processes, process_id)
       # CPU hosts only: jax.config.update("jax_cpu_collectives_implementation", "gloo")

3. Give every process the same data (e.g. a ``numpy.memmap`` of one file on
   shared storage: only the rows of the process's own devices are copied to
   them) and fit with ``devices=jax.devices()`` (all devices of all processes).
   Every process gets the same result; let process 0 print or save it.

Worker processes are started with ``subprocess``; ``--worker`` is internal.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys

N_PROCESSES = 2
DEVICES_PER_PROCESS = 2


def simulate():
    import numpy as np

    rng = np.random.default_rng(2024)
    n = 10_001  # not a multiple of the 4 devices: rows are padded with weight 0
    X = rng.standard_normal((n, 3))
    eta = 0.3 + X @ np.array([0.8, -0.5, 0.25])
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    return {"X": X, "y": y}


def worker(coordinator: str, process_id: int) -> None:
    os.environ["XLA_FLAGS"] = (
        f"--xla_force_host_platform_device_count={DEVICES_PER_PROCESS}"
    )
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator, N_PROCESSES, process_id)

    import jax.numpy as jnp
    import numpy as np

    import likelihax as lx

    def logistic(params, data):
        eta = params["intercept"] + data["X"] @ params["beta"]
        return data["y"] * eta - jnp.logaddexp(0.0, eta)

    data = simulate()
    start = {"intercept": 0.0, "beta": np.zeros(3)}
    fit = lx.fit(logistic, start, data, devices=jax.devices())
    if process_id == 0:
        print(
            f"{jax.process_count()} processes, {jax.device_count()} devices "
            f"({jax.local_device_count()} per process)"
        )
        print(fit.summary())
        one = lx.fit(logistic, start, data, devices=jax.local_devices()[:1])
        diff = max(
            float(np.max(np.abs(np.asarray(fit.params[k]) - np.asarray(one.params[k]))))
            for k in start
        )
        print(f"max |estimate difference| vs one device: {diff:.2e}")
        if diff > 1e-10:
            raise SystemExit("sharded fit differs from the single-device fit")
        print("OK: the sharded fit equals the single-device fit")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--coordinator", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        worker(args.coordinator, args.worker)
        return 0
    coordinator = f"127.0.0.1:{_free_port()}"
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", str(i), "--coordinator", coordinator],
            env=env, stdout=subprocess.PIPE if i else None,
            stderr=subprocess.DEVNULL if i else None,
        )  # fmt: skip
        for i in range(N_PROCESSES)
    ]
    codes = []
    for p in procs:
        try:
            p.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
        codes.append(p.returncode)
    if any(codes):
        print(f"worker exit codes: {codes}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
