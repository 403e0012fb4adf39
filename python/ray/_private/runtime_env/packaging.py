"""Driver side: local working_dir / py_modules become content-addressed zips in the GCS KV store.

A package is named `gcs://_ray_pkg_<hash>.zip`, the hash taken over the relative paths and
contents of its files, so the same files make the same URI and are uploaded only once.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import logging
import os
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ray._private import constants
from ray._private.runtime_env import KV_NAMESPACE, URI_PREFIX
from ray._private.runtime_env.validation import RuntimeEnvError

logger = logging.getLogger(__name__)

PKG_PREFIX = "_ray_pkg_"
# A file larger than this gets a warning (it is probably not code).
FILE_SIZE_WARNING_BYTES = 10 * 1024 * 1024


def max_package_bytes() -> int:
    """The largest package (Ray bounds it by its gRPC message size, RAY_max_grpc_message_size)."""
    value = os.environ.get("RAY_max_grpc_message_size")
    if value:
        try:
            return int(value)
        except ValueError:
            raise RuntimeEnvError(
                f"RAY_max_grpc_message_size={value!r} is not an integer number of bytes"
            ) from None
    return constants.RUNTIME_ENV_MAX_PACKAGE_BYTES


def _mib(num_bytes: float) -> str:
    return f"{num_bytes / 1024**2:.2f}MiB"


def _excluded(rel: str, patterns: list[str]) -> bool:
    """gitignore-like: a pattern matches the relative path, or any one of its parts."""
    parts = rel.split("/")
    for pattern in patterns:
        pat = pattern.strip("/")
        if not pat:
            continue
        if fnmatch.fnmatch(rel, pat) or any(fnmatch.fnmatch(p, pat) for p in parts):
            return True
        if rel.startswith(pat + "/"):
            return True
    return False


def _ignore_file_patterns(root: Path) -> list[str]:
    """The patterns of the root's .gitignore and .rayignore (as Ray honours them; negations
    are not supported and are skipped)."""
    patterns = []
    for name in (".gitignore", ".rayignore"):
        try:
            lines = (root / name).read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            line = line.strip()
            if line and not line.startswith(("#", "!")):
                patterns.append(line)
    return patterns


def _files(root: Path, excludes: list[str]) -> list[tuple[str, Path]]:
    excludes = [*excludes, *_ignore_file_patterns(root)]
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        rel_dir = base.relative_to(root).as_posix()
        keep = []
        for d in sorted(dirnames):
            rel = d if rel_dir == "." else f"{rel_dir}/{d}"
            if d != "__pycache__" and not _excluded(rel, excludes):
                keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if not _excluded(rel, excludes):
                out.append((rel, base / name))
    return out


def _zip(entries: list[tuple[str, Path]], what: str) -> tuple[str, bytes]:
    """Zips (archive name, file) entries; returns (hash, zip bytes)."""
    limit = max_package_bytes()
    total = 0
    digest = hashlib.sha1()
    buf = io.BytesIO()
    import zipfile  # loaded only where packages are used

    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, path in entries:
            size = path.stat().st_size
            total += size
            if size > FILE_SIZE_WARNING_BYTES:
                logger.warning(
                    "File %s is very large (%s) for a runtime_env %s; exclude it with the "
                    "'excludes' field if it is not needed",
                    path,
                    _mib(size),
                    what,
                )
            if total > limit:
                break
            data = path.read_bytes()
            digest.update(arcname.encode() + b"\0" + len(data).to_bytes(8, "little"))
            digest.update(data)
            zf.writestr(arcname, data)
    data = buf.getvalue()
    if total > limit or len(data) > limit:
        raise RuntimeEnvError(
            f"The runtime_env {what} is too large: its files add up to more than the maximum "
            f"package size of {_mib(limit)}. Exclude large files with the runtime_env "
            f"'excludes' field (e.g. excludes=['*.bin', 'data/']), or ship less code."
        )
    return digest.hexdigest()[:32], data


def _zip_file(path: Path, what: str) -> tuple[str, bytes]:
    """A .zip given by the user, as it is."""
    limit = max_package_bytes()
    size = path.stat().st_size
    if size > limit:
        raise RuntimeEnvError(
            f"The runtime_env {what} {path} is {_mib(size)}, more than the maximum package size "
            f"of {_mib(limit)}. Ship less code, or exclude large files."
        )
    data = path.read_bytes()
    import zipfile  # loaded only where packages are used

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise RuntimeEnvError(f"The runtime_env {what} {path} is not a valid .zip file")
    return hashlib.sha1(data).hexdigest()[:32], data


class PackageUploader:
    """Uploads packages to the GCS KV store, each URI once per process.

    Args:
        kv_exists: (namespace, key) -> whether the key is stored.
        kv_put: (namespace, key, value) -> stores it.
    """

    def __init__(
        self,
        kv_exists: Callable[[str, bytes], bool],
        kv_put: Callable[[str, bytes, bytes], Any],
    ) -> None:
        self._exists = kv_exists
        self._put = kv_put
        self._uploaded: set[str] = set()

    def upload(self, digest: str, data: bytes) -> str:
        uri = f"{URI_PREFIX}{PKG_PREFIX}{digest}.zip"
        if uri not in self._uploaded:
            key = uri.encode()
            if not self._exists(KV_NAMESPACE, key):
                logger.info("uploading runtime_env package %s (%s)", uri, _mib(len(data)))
                self._put(KV_NAMESPACE, key, data)
            self._uploaded.add(uri)
        return uri

    def working_dir(self, working_dir: str, excludes: list[str]) -> str:
        """The URI of a working_dir (a local directory or .zip file, or already a gcs:// URI)."""
        if working_dir.startswith(URI_PREFIX):
            return working_dir
        if "://" in working_dir:
            raise RuntimeEnvError(
                f"runtime_env working_dir {working_dir!r}: remote URIs are not supported by this "
                f"runtime; give a local directory or .zip file"
            )
        path = Path(working_dir).expanduser().resolve()
        if path.is_dir():
            digest, data = _zip(
                [(rel, p) for rel, p in _files(path, excludes)], f"working_dir {path}"
            )
        elif path.is_file() and path.suffix == ".zip":
            digest, data = _zip_file(path, "working_dir")
        else:
            raise RuntimeEnvError(
                f"runtime_env working_dir {working_dir!r} is neither an existing local directory "
                f"nor a .zip file"
            )
        return self.upload(digest, data)

    def py_module(self, module: str | types.ModuleType, excludes: list[str]) -> str:
        """The URI of one py_modules entry: a package directory, a .py or .zip file, a module."""
        if isinstance(module, types.ModuleType):
            paths = list(getattr(module, "__path__", []) or [])
            if paths:
                path = Path(paths[0])
            elif getattr(module, "__file__", None):
                path = Path(module.__file__)
            else:
                raise RuntimeEnvError(
                    f"runtime_env py_modules: module {module.__name__!r} has no files to ship"
                )
        else:
            if module.startswith(URI_PREFIX):
                return module
            if "://" in module:
                raise RuntimeEnvError(
                    f"runtime_env py_modules entry {module!r}: remote URIs are not supported by "
                    f"this runtime; give a local directory, .py or .zip file, or a module"
                )
            path = Path(module).expanduser().resolve()
        what = f"py_modules entry {path}"
        if path.is_dir():
            # The directory itself is the importable package: keep its name in the archive.
            entries = [(f"{path.name}/{rel}", p) for rel, p in _files(path, excludes)]
            digest, data = _zip(entries, what)
        elif path.is_file() and path.suffix == ".zip":
            digest, data = _zip_file(path, "py_modules entry")
        elif path.is_file() and path.suffix == ".py":
            digest, data = _zip([(path.name, path)], what)
        else:
            raise RuntimeEnvError(
                f"runtime_env py_modules entry {str(module)!r} is not an existing directory, "
                f".py file or .zip file"
            )
        return self.upload(digest, data)
