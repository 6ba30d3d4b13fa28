"""Observation axis sharded across devices: same fit as on one device.

The multi-device checks run in a subprocess whose JAX sees four virtual CPU
devices (``--xla_force_host_platform_device_count=4`` must be set before JAX
starts, so it cannot be done in this process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import likelihax as lx

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import json, os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    import numpy as np, jax, jax.numpy as jnp, likelihax as lx

    rng = np.random.default_rng(7)
    n = 1003                                  # not a multiple of 4 (or of 3)
    X = rng.standard_normal((n, 3))
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ [0.5, -1.0, 0.2])))).astype(float)
    w = rng.integers(0, 3, n).astype(float)
    X0, y0 = X.copy(), y.copy()

    def logit(p, d):
        eta = p["a"] + d["X"] @ p["b"]
        return d["y"] * eta - jnp.logaddexp(0.0, eta)

    start = {"a": 0.0, "b": np.zeros(3)}
    out = {"devices": jax.device_count()}

    def rel(a, b):
        a, b = np.asarray(a), np.asarray(b)
        return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))

    cases = {
        "oim_all": dict(devices="all"),
        "opg_3": dict(cov="opg", devices=jax.devices()[:3]),
        "sandwich_mesh": dict(cov="sandwich",
                              devices=jax.sharding.Mesh(np.array(jax.devices()), ("x",))),
        "freq_weights": dict(weights=w, devices="all"),
        "importance": dict(weights=w + 0.5, weight_type="importance", devices="all"),
        "lbfgs": dict(method="lbfgs", devices="all"),
    }
    for name, kw in cases.items():
        dev = kw.pop("devices")
        one = lx.fit(logit, start, {"X": X, "y": y}, **kw)
        many = lx.fit(logit, start, {"X": X, "y": y}, devices=dev, **kw)
        out[name] = dict(
            params=rel(many.params["b"], one.params["b"]),
            a=rel(many.params["a"], one.params["a"]),
            cov=rel(many.cov, one.cov),
            loglik=rel(many.loglik, one.loglik),
            nobs=[one.nobs, many.nobs],
            weight_type=[one.weight_type, many.weight_type],
            converged=bool(many.converged),
            aic=[float(one.aic), float(many.aic)],
        )
    # a bootstrap of a sharded fit refits on the caller's (unsharded) data
    many = lx.fit(logit, start, {"X": X, "y": y}, devices="all")
    one = lx.fit(logit, start, {"X": X, "y": y})
    bm = lx.bootstrap(many, n_boot=20, seed=3)
    bo = lx.bootstrap(one, n_boot=20, seed=3)
    out["bootstrap"] = rel(np.asarray(bm.se), np.asarray(bo.se))
    out["untouched"] = bool(np.array_equal(X, X0) and np.array_equal(y, y0))
    print("RESULT" + json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def sharded():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("XLA_FLAGS", None)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env,
        timeout=600, cwd=str(ROOT),
    )  # fmt: skip
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
    assert proc.returncode == 0 and line, proc.stderr[-3000:]
    return json.loads(line[0][len("RESULT") :])


def test_four_virtual_devices(sharded):
    assert sharded["devices"] == 4


@pytest.mark.parametrize(
    "case", ["oim_all", "opg_3", "sandwich_mesh", "freq_weights", "importance", "lbfgs"]
)
def test_sharded_equals_single_device(sharded, case):
    r = sharded[case]
    assert r["converged"]
    tol = 1e-6 if case == "lbfgs" else 1e-10  # L-BFGS stops on its gradient rule
    assert r["params"] < tol and r["a"] < tol
    assert r["cov"] < (1e-5 if case == "lbfgs" else 1e-10)
    assert r["loglik"] < 1e-12
    # padding rows (weight 0) are not observations: nobs, AIC and the weight
    # type reported are those of the single-device fit
    assert r["nobs"][0] == r["nobs"][1]
    assert r["weight_type"][0] == r["weight_type"][1]
    if case != "importance":
        assert abs(r["aic"][0] - r["aic"][1]) < 1e-8


def test_sharded_fit_bootstraps_like_unsharded(sharded):
    assert sharded["bootstrap"] < 1e-8
    assert sharded["untouched"]


def _logit(p, d):
    eta = p["a"] + d["X"] @ p["b"]
    return d["y"] * eta - jnp.logaddexp(0.0, eta)


def _data(n=50):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 2))
    y = (rng.random(n) < 0.5).astype(float)
    return {"X": X, "y": y}


def test_single_device_is_plain_fit():
    d = _data()
    a = lx.fit(_logit, {"a": 0.0, "b": np.zeros(2)}, d)
    b = lx.fit(_logit, {"a": 0.0, "b": np.zeros(2)}, d, devices="all")
    np.testing.assert_allclose(np.asarray(b.cov), np.asarray(a.cov), rtol=1e-12)
    assert b.weight_type is None


def test_devices_errors():
    d = _data()
    with pytest.raises(ValueError, match="'all'"):
        lx.fit(_logit, {"a": 0.0, "b": np.zeros(2)}, d, devices="gpus")
    with pytest.raises(TypeError, match="jax.Device"):
        lx.fit(_logit, {"a": 0.0, "b": np.zeros(2)}, d, devices=[0, 1])
    with pytest.raises(ValueError, match="empty"):
        lx.fit(_logit, {"a": 0.0, "b": np.zeros(2)}, d, devices=[])
    two = [jax.devices()[0], jax.devices()[0]]
    with pytest.raises(ValueError, match="twice"):
        lx.fit(_logit, {"a": 0.0, "b": np.zeros(2)}, d, devices=two)
