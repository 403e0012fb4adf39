"""Worker side: enter the runtime env the node manager started this worker for.

The packages of the env are fetched from the GCS KV store and unpacked once per node, under
`<session>/runtime_resources/{working_dir,py_modules}_files/_ray_pkg_<hash>/` (a file lock
makes concurrent workers of the node unpack each package once). The worker then runs with
cwd = its working_dir, and `sys.path` starts with the working_dir and the py_modules.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ray._private.runtime_env import KV_NAMESPACE, URI_PREFIX
from ray._private.runtime_env.validation import RuntimeEnvError, deserialize

logger = logging.getLogger(__name__)


def _package_name(uri: str) -> str:
    if not uri.startswith(URI_PREFIX) or not uri.endswith(".zip"):
        raise RuntimeEnvError(f"runtime_env package {uri!r} is not a gcs://_ray_pkg_<hash>.zip URI")
    return uri[len(URI_PREFIX) : -len(".zip")]


def _strip_single_top_dir(target: Path) -> None:
    """A working_dir .zip with one top-level directory holds the working_dir inside it."""
    entries = [p for p in target.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        inner = entries[0]
        for child in list(inner.iterdir()):
            shutil.move(str(child), str(target / child.name))
        inner.rmdir()


def unpack(
    uri: str,
    kind: str,
    resources_dir: Path,
    kv_get: Callable[[str, bytes], bytes | None],
) -> Path:
    """The local directory of a package, fetched and unpacked on the first use on this node."""
    base = resources_dir / f"{kind}_files"
    base.mkdir(parents=True, exist_ok=True)
    target = base / _package_name(uri)
    if target.is_dir():
        return target
    with open(base / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_dir():
            return target
        data = kv_get(KV_NAMESPACE, uri.encode())
        if data is None:
            raise RuntimeEnvError(
                f"runtime_env package {uri} is not in the GCS (was the cluster restarted?); "
                f"submit the task again from a driver so it uploads the package"
            )
        tmp = base / f".{target.name}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        import zipfile  # loaded only where packages are used

        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            zf.extractall(tmp)
        if kind == "working_dir":
            _strip_single_top_dir(tmp)
        os.rename(tmp, target)
        logger.info("unpacked runtime_env package %s into %s", uri, target)
    return target


def enter(
    serialized: str,
    session_dir: str,
    kv_get: Callable[[str, bytes], bytes | None],
) -> dict[str, Any]:
    """Sets this process up for its env (packages, cwd, sys.path); returns the env."""
    env = deserialize(serialized)
    resources_dir = Path(session_dir) / "runtime_resources"
    paths: list[str] = []
    working_dir = env.get("working_dir")
    if working_dir:
        local = unpack(working_dir, "working_dir", resources_dir, kv_get)
        os.chdir(local)
        paths.append(str(local))
    for uri in env.get("py_modules") or []:
        paths.append(str(unpack(uri, "py_modules", resources_dir, kv_get)))
    for path in reversed(paths):
        if path not in sys.path:
            sys.path.insert(0, path)
    if paths:
        os.environ["PYTHONPATH"] = os.pathsep.join(
            paths + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        )
    return env
