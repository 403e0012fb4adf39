"""Python function and class definitions: exported once by content hash, or found by module and name.

A driver's functions (often defined in `__main__` or a notebook) are pickled
with cloudpickle and stored in the GCS key-value store as a `FunctionExport`
under their content hash; workers load them once. A descriptor without a hash,
`(PYTHON, "module", "fn")` (what the client gateway and other languages send),
is imported from the worker's path, which includes the job's code search path.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import sys
import threading
from typing import Any, Protocol

import cloudpickle

from ray._private.generated import common_pb2

logger = logging.getLogger(__name__)

KV_NAMESPACE = "fun"


class FunctionTable(Protocol):
    """The GCS key-value store, as far as definitions go."""

    def kv_put(self, namespace: str, key: bytes, value: bytes, overwrite: bool = True) -> bool: ...

    def kv_get(self, namespace: str, key: bytes) -> bytes | None: ...


class FunctionNotFoundError(Exception):
    """A descriptor names a module, function, class or definition that is not there."""


class FunctionManager:
    """Exports definitions to the GCS once per process and loads them by hash or by name."""

    def __init__(self, table: FunctionTable) -> None:
        self._table = table
        self._lock = threading.Lock()
        self._exported: set[bytes] = set()
        # What this process exported (sent along with its first task on each lease).
        self._records: dict[bytes, common_pb2.FunctionExport] = {}
        # Definitions that arrived with a task, not loaded yet.
        self._received: dict[bytes, common_pb2.FunctionExport] = {}
        self._loaded: dict[bytes, Any] = {}
        self._by_name: dict[tuple[str, str], Any] = {}

    @staticmethod
    def pickle(obj: Any, what: str) -> tuple[bytes, bytes]:
        """Pickles a function or class; returns (hash, bytes).

        Raises:
            TypeError: The definition cannot be pickled (names what and why).
        """
        try:
            data = cloudpickle.dumps(obj)
        except Exception as err:
            raise TypeError(
                f"could not serialize {what}: {err}. A remote function or actor class must only "
                "capture picklable values; create locks, sockets and clients inside it instead."
            ) from err
        return hashlib.sha256(data).digest()[:20], data

    def export(
        self, function_hash: bytes, data: bytes, what: str = "", module: str = "", name: str = ""
    ) -> None:
        """Stores a definition in the GCS, with the exporter's import path (once per process)."""
        if function_hash in self._exported:
            return
        record = common_pb2.FunctionExport(
            definition=data,
            sys_path=[p for p in sys.path if p],
            description=what,
            module_name=module,
            name=name,
        )
        self._table.kv_put(KV_NAMESPACE, function_hash, record.SerializeToString(), overwrite=False)
        with self._lock:
            self._exported.add(function_hash)
            self._records[function_hash] = record

    def record(self, function_hash: bytes) -> common_pb2.FunctionExport | None:
        """The definition this process exported under `function_hash`, if it did."""
        return self._records.get(function_hash)

    def receive(self, function_hash: bytes, record: common_pb2.FunctionExport) -> None:
        """A definition that came with a task: used instead of asking the GCS."""
        if function_hash not in self._loaded:
            self._received[function_hash] = record

    def load(self, descriptor: common_pb2.FunctionDescriptor, display_name: str) -> Any:
        """The function (or class) a descriptor names.

        Raises:
            FunctionNotFoundError: Nothing by that hash or name (the message says what).
        """
        if descriptor.function_hash:
            return self._load_by_hash(descriptor.function_hash, display_name)
        name = descriptor.class_name or descriptor.function_name
        return self.load_by_name(descriptor.module_name, name)

    def _load_by_hash(self, function_hash: bytes, display_name: str) -> Any:
        fn = self._loaded.get(function_hash)
        if fn is not None:
            return fn
        record = self._received.pop(function_hash, None) or self._records.get(function_hash)
        if record is None:
            data = self._table.kv_get(KV_NAMESPACE, function_hash)
            if data is None:
                raise FunctionNotFoundError(
                    f"the definition of {display_name} ({function_hash.hex()[:12]}) is not in "
                    "the GCS"
                )
            record = common_pb2.FunctionExport.FromString(data)
        # Definitions pickled by reference import their module: use the exporter's path.
        for entry in record.sys_path:
            if entry not in sys.path and os.path.isdir(entry):
                sys.path.append(entry)
        fn = cloudpickle.loads(record.definition)
        with self._lock:
            self._loaded[function_hash] = fn
            self._exported.add(function_hash)
        return fn

    def load_by_name(self, module_name: str, name: str) -> Any:
        """`module.name`, imported from this process's path (`@ray.remote` wrappers unwrapped).

        Raises:
            FunctionNotFoundError: No such module, or no such attribute in it.
        """
        key = (module_name, name)
        found = self._by_name.get(key)
        if found is not None:
            return found
        if not module_name or not name:
            raise FunctionNotFoundError(
                f"a Python function descriptor needs a module and a name, got {module_name!r} "
                f"and {name!r}"
            )
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise FunctionNotFoundError(
                f"cannot import Python module {module_name!r}: {err}. Put it on the job's code "
                "search path (or the workers' PYTHONPATH)."
            ) from err
        target: Any = module
        for part in name.split("."):
            try:
                target = getattr(target, part)
            except AttributeError:
                raise FunctionNotFoundError(
                    f"Python module {module_name!r} has no {name!r}"
                ) from None
        target = unwrap(target)
        with self._lock:
            self._by_name[key] = target
        return target


def unwrap(target: Any) -> Any:
    """The plain function or class behind a `@ray.remote` wrapper (it sets `__ray_remote_target__`)."""
    return getattr(target, "__ray_remote_target__", target)
