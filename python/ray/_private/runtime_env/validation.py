"""Checks and merges runtime_env dicts (the fields this runtime supports, as Ray spells them)."""

from __future__ import annotations

import json
import logging
import types
from typing import Any

logger = logging.getLogger(__name__)

# Fields honoured by this runtime.
SUPPORTED_FIELDS = ("env_vars", "working_dir", "py_modules", "excludes", "config")
# Fields Ray has that this runtime refuses (named in the error).
KNOWN_UNSUPPORTED_FIELDS = (
    "pip",
    "conda",
    "uv",
    "container",
    "image_uri",
    "java_jars",
    "nsight",
    "mpi",
    "worker_process_setup_hook",
    "_nsight",
    "_inject_current_ray",
)
# `config` (RuntimeEnvConfig) keys accepted; they do not change how the env runs here.
CONFIG_FIELDS = ("setup_timeout_seconds", "eager_install", "log_files")


class RuntimeEnvError(ValueError):
    """A runtime_env names a field this runtime does not support, or a field is malformed."""


def validate(runtime_env: Any) -> dict[str, Any]:
    """Checks a user's runtime_env and returns it as a plain dict (None: empty).

    Raises:
        RuntimeEnvError: A field is unsupported or malformed.
        TypeError: `runtime_env` is not a dict.
    """
    if runtime_env is None:
        return {}
    if not isinstance(runtime_env, dict):
        raise TypeError(
            f"runtime_env must be a dict or a ray.runtime_env.RuntimeEnv, got "
            f"{type(runtime_env).__name__}"
        )
    env = dict(runtime_env)
    for name in env:
        if name in SUPPORTED_FIELDS:
            continue
        if name in KNOWN_UNSUPPORTED_FIELDS:
            raise RuntimeEnvError(
                f"runtime_env field {name!r} is not supported by this runtime (it supports "
                f"{', '.join(SUPPORTED_FIELDS)}). Install what the task needs on every node "
                f"beforehand, or ship pure-Python code with 'working_dir' or 'py_modules'."
            )
        raise RuntimeEnvError(
            f"Unknown runtime_env field {name!r}: this runtime supports "
            f"{', '.join(SUPPORTED_FIELDS)}. Check the spelling of the field."
        )
    env_vars = env.get("env_vars")
    if env_vars is not None:
        if not isinstance(env_vars, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env_vars.items()
        ):
            raise TypeError(
                f"runtime_env['env_vars'] must be a dict of str to str, got {env_vars!r}"
            )
    working_dir = env.get("working_dir")
    if working_dir is not None and not isinstance(working_dir, str):
        raise TypeError(
            f"runtime_env['working_dir'] must be a path (str) to a local directory or .zip file, "
            f"got {type(working_dir).__name__}"
        )
    py_modules = env.get("py_modules")
    if py_modules is not None:
        if not isinstance(py_modules, (list, tuple)):
            raise TypeError(
                f"runtime_env['py_modules'] must be a list of paths or modules, got "
                f"{type(py_modules).__name__}"
            )
        for entry in py_modules:
            if not isinstance(entry, (str, types.ModuleType)):
                raise TypeError(
                    f"each runtime_env['py_modules'] entry must be a path (str) or an imported "
                    f"module, got {entry!r}"
                )
    excludes = env.get("excludes")
    if excludes is not None and (
        not isinstance(excludes, (list, tuple)) or not all(isinstance(e, str) for e in excludes)
    ):
        raise TypeError(f"runtime_env['excludes'] must be a list of str patterns, got {excludes!r}")
    config = env.get("config")
    if config is not None:
        if not isinstance(config, dict):
            config = dict(config)  # a RuntimeEnvConfig
        unknown = set(config) - set(CONFIG_FIELDS)
        if unknown:
            raise RuntimeEnvError(
                f"runtime_env['config'] has unknown keys {sorted(unknown)}; valid keys: "
                f"{', '.join(CONFIG_FIELDS)}"
            )
        env["config"] = dict(config)
    return env


def merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """The env of a task or actor whose own env is `child`, submitted where `parent` holds.

    As Ray merges them: each field the child sets replaces the parent's, except `env_vars`,
    which are merged (the child's value wins for a name both set).
    """
    out = dict(parent)
    for key, value in child.items():
        if key == "env_vars" and isinstance(parent.get("env_vars"), dict):
            out["env_vars"] = {**parent["env_vars"], **value}
        else:
            out[key] = value
    return {k: v for k, v in out.items() if v is not None}


def serialize(env: dict[str, Any]) -> str:
    """The canonical JSON of a resolved env ("" for an empty one)."""
    env = {k: v for k, v in env.items() if v not in (None, {}, [])}
    if not env:
        return ""
    return json.dumps(env, sort_keys=True, separators=(",", ":"))


def deserialize(serialized: str) -> dict[str, Any]:
    return json.loads(serialized) if serialized else {}
