"""Persistent compilation cache: compile a model once per machine, not once per process.

A fit is one XLA program per (model, solver, shapes). Within a process JAX
keeps it in memory; across processes JAX's *persistent compilation cache*
stores the compiled executable on disk, so a second process that fits the same
model skips XLA compilation (the dominant part of a cold start).

Policy
------
On ``import likelihax``:

* if the environment variable ``LIKELIHAX_COMPILATION_CACHE`` is ``0``,
  ``off``, ``false`` or ``no``, nothing is changed;
* else, if you already configured a JAX cache directory
  (``jax_compilation_cache_dir`` or ``JAX_COMPILATION_CACHE_DIR``), yours is
  used as it is, with your settings;
* else the cache directory is set to ``LIKELIHAX_COMPILATION_CACHE`` when it
  names a directory, or to ``$XDG_CACHE_HOME/likelihax/jax`` (default
  ``~/.cache/likelihax/jax``), and JAX's threshold
  ``jax_persistent_cache_min_compile_time_secs`` is lowered from 1 s to 0.1 s
  so that small models, which compile in well under a second, are cached too
  (while the many tiny programs of eager JAX operations are not).

JAX's cache is process-wide: with it on, other JAX programs of the process are
cached in the same directory. Turn it off with ``LIKELIHAX_COMPILATION_CACHE=0``
before importing likelihax, or at any time with
``jax.config.update("jax_enable_compilation_cache", False)``. The directory
may be deleted at any time; entries are keyed on the program, the JAX version
and the device, so stale entries are never used.
"""

from __future__ import annotations

import os

import jax

__all__ = ["compilation_cache_dir", "configure_compilation_cache"]

ENV = "LIKELIHAX_COMPILATION_CACHE"
_OFF = ("0", "off", "false", "no")
_ON = ("", "1", "on", "true", "yes")


def _default_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return os.path.join(base, "likelihax", "jax")


def configure_compilation_cache() -> str | None:
    """Apply the policy in the module notes; return the directory likelihax set, if any."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() in _OFF:
        return None
    if jax.config.jax_compilation_cache_dir or os.environ.get(
        "JAX_COMPILATION_CACHE_DIR"
    ):
        return None
    path = _default_dir() if value.lower() in _ON else os.path.expanduser(value)
    try:
        os.makedirs(path, exist_ok=True)
        if not os.access(path, os.W_OK):
            return None
    except OSError:
        return None  # read-only home, no cache: everything still works
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
    return path


def compilation_cache_dir() -> str | None:
    """The persistent compilation cache directory in use (None when off).

    Examples
    --------
    >>> import likelihax as lx
    >>> d = lx.compilation_cache_dir()
    >>> d is None or isinstance(d, str)
    True
    """
    if not jax.config.jax_enable_compilation_cache:
        return None
    return jax.config.jax_compilation_cache_dir or None
