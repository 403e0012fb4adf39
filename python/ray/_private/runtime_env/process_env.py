"""The runtime env of this process (the job's on a driver, the worker's own on a worker) and the
env of each task or actor it submits: the submitted env merged over this one."""

from __future__ import annotations

import json
import logging
import threading
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ray._private.runtime_env import validation

if TYPE_CHECKING:
    from ray._private.runtime_env.packaging import PackageUploader

logger = logging.getLogger(__name__)


def _cache_key(env: dict[str, Any]) -> str:
    def default(value: Any) -> str:
        if isinstance(value, types.ModuleType):
            return f"<module {value.__name__}>"
        return repr(value)

    return json.dumps(env, sort_keys=True, default=default)


class ProcessEnv:
    """What a process's submissions inherit.

    Args:
        base: This process's env, resolved (packages as URIs).
        uploader: Uploads the packages of submitted envs.
    """

    def __init__(self, base: dict[str, Any], uploader: Uploader) -> None:
        self.base = dict(base)
        self.serialized = validation.serialize(self.base)
        self._uploader = uploader
        self._lock = threading.Lock()
        # Resolved envs by the submitted dict: a directory is zipped and hashed once per process.
        self._cache: dict[str, str] = {}

    @classmethod
    def for_job(cls, runtime_env: Any, uploader: Uploader) -> ProcessEnv:
        """A driver's: the job's runtime_env, validated and its packages uploaded."""
        return cls(uploader.resolve(validation.validate(runtime_env)), uploader)

    def for_submission(self, runtime_env: Any) -> str:
        """The serialized env of a task or actor whose `runtime_env` option is `runtime_env`."""
        if runtime_env is None:
            return self.serialized
        child = validation.validate(runtime_env)
        key = _cache_key(child)
        with self._lock:
            done = self._cache.get(key)
        if done is not None:
            return done
        resolved = validation.serialize(validation.merge(self.base, self._uploader.resolve(child)))
        with self._lock:
            self._cache[key] = resolved
        return resolved


def submission_env(cw: Any, runtime_env: Any) -> str:
    """The serialized env for a submission from the process of core worker `cw`."""
    process_env = getattr(cw, "runtime_env", None)
    if process_env is None:
        process_env = ProcessEnv({}, uploader_for(cw.gcs))
        cw.runtime_env = process_env
    return process_env.for_submission(runtime_env)


class Uploader:
    """Resolves envs, loading the packaging code (zip, hash, upload) only for an env that has
    packages (`working_dir`, `py_modules`)."""

    def __init__(
        self, exists: Callable[[str, bytes], bool], put: Callable[[str, bytes, bytes], Any]
    ) -> None:
        self._exists = exists
        self._put = put
        self._packages: PackageUploader | None = None

    def resolve(self, env: dict[str, Any]) -> dict[str, Any]:
        """A validated env with its local paths replaced by uploaded package URIs."""
        out = dict(env)
        excludes = list(out.pop("excludes", None) or [])
        if not (out.get("working_dir") or out.get("py_modules")):
            return out
        if self._packages is None:
            from ray._private.runtime_env.packaging import PackageUploader

            self._packages = PackageUploader(self._exists, self._put)
        if out.get("working_dir"):
            out["working_dir"] = self._packages.working_dir(out["working_dir"], excludes)
        if out.get("py_modules"):
            out["py_modules"] = [self._packages.py_module(m, excludes) for m in out["py_modules"]]
        return out


def uploader_for(gcs: Any) -> Uploader:
    """An uploader over a GCS client (kv_keys / kv_put)."""
    return Uploader(
        lambda ns, key: key in gcs.kv_keys(ns, key),
        lambda ns, key, value: gcs.kv_put(ns, key, value, overwrite=False),
    )
