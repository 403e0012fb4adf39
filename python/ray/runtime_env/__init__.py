"""`RuntimeEnv` and `RuntimeEnvConfig`: the environment a job, task or actor runs in.

This runtime honours `env_vars`, `working_dir` (a local directory or .zip file), `py_modules`
(local directories, .py or .zip files, or imported modules), `excludes` and `config`; any other
field (pip, conda, uv, container, image_uri, ...) is refused with an error naming it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ray._private.runtime_env import validation

logger = logging.getLogger(__name__)

__all__ = ["RuntimeEnv", "RuntimeEnvConfig"]


class RuntimeEnvConfig(dict):
    """Options of how a runtime env is set up.

    Args:
        setup_timeout_seconds: How long setting the env up may take (-1: no limit).
        eager_install: Whether a job's env is set up when the job starts.
        log_files: Files whose content is shown when setting up fails.
    """

    def __init__(
        self,
        setup_timeout_seconds: int = 600,
        eager_install: bool = True,
        log_files: list[str] | None = None,
    ) -> None:
        if not isinstance(setup_timeout_seconds, int) or (
            setup_timeout_seconds <= 0 and setup_timeout_seconds != -1
        ):
            raise ValueError(
                f"setup_timeout_seconds must be a positive integer or -1, got "
                f"{setup_timeout_seconds!r}"
            )
        if not isinstance(eager_install, bool):
            raise TypeError(f"eager_install must be a bool, got {eager_install!r}")
        super().__init__(
            setup_timeout_seconds=setup_timeout_seconds,
            eager_install=eager_install,
            log_files=list(log_files or []),
        )

    @staticmethod
    def parse_and_validate_runtime_env_config(config: dict | RuntimeEnvConfig) -> RuntimeEnvConfig:
        """A RuntimeEnvConfig from a dict of its fields."""
        if isinstance(config, RuntimeEnvConfig):
            return config
        if not isinstance(config, dict):
            raise TypeError(f"runtime_env config must be a dict, got {type(config).__name__}")
        return RuntimeEnvConfig(**config)


class RuntimeEnv(dict):
    """A runtime env, as a dict of its fields (pass it as `runtime_env=`).

    Args:
        py_modules: Local directories, .py or .zip files, or modules put on `sys.path`.
        working_dir: A local directory or .zip file: the worker's cwd, and on `sys.path`.
        env_vars: Environment variables of the worker.
        config: A `RuntimeEnvConfig` (or a dict of its fields).
        **kwargs: Other fields; each one this runtime does not support is refused.

    Raises:
        ValueError: A field is not supported by this runtime, or is malformed.
    """

    def __init__(
        self,
        *,
        py_modules: list[Any] | None = None,
        working_dir: str | None = None,
        env_vars: dict[str, str] | None = None,
        config: dict | RuntimeEnvConfig | None = None,
        _validate: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        fields: dict[str, Any] = {
            "py_modules": py_modules,
            "working_dir": working_dir,
            "env_vars": env_vars,
            **kwargs,
        }
        if config is not None:
            fields["config"] = RuntimeEnvConfig.parse_and_validate_runtime_env_config(config)
        fields = {k: v for k, v in fields.items() if v is not None}
        if _validate:
            validation.validate(fields)
        self.update(fields)

    def working_dir(self) -> str:
        return self.get("working_dir", "")

    def py_modules(self) -> list[str]:
        return list(self.get("py_modules", []))

    def env_vars(self) -> dict[str, str]:
        return dict(self.get("env_vars", {}))

    def has_working_dir(self) -> bool:
        return bool(self.get("working_dir"))

    def has_py_modules(self) -> bool:
        return bool(self.get("py_modules"))

    def to_dict(self) -> dict[str, Any]:
        return dict(self)

    def serialize(self) -> str:
        return json.dumps(dict(self), sort_keys=True)

    @classmethod
    def deserialize(cls, serialized_runtime_env: str) -> RuntimeEnv:
        return cls(_validate=False, **(json.loads(serialized_runtime_env or "{}")))
