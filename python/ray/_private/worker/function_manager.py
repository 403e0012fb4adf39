"""Exported function and class definitions: pickled once, named by content hash."""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import threading
from typing import Any

import cloudpickle

from ray._private.gcs.client import GcsClient

logger = logging.getLogger(__name__)

KV_NAMESPACE = "fun"


class FunctionManager:
    """Exports definitions to the GCS once per process and loads them by hash."""

    def __init__(self, gcs: GcsClient) -> None:
        self._gcs = gcs
        self._lock = threading.Lock()
        self._exported: set[bytes] = set()
        self._loaded: dict[bytes, Any] = {}

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

    def export(self, function_hash: bytes, data: bytes) -> None:
        """Stores a definition in the GCS, with the exporter's import path (once per process)."""
        if function_hash in self._exported:
            return
        record = pickle.dumps({"sys_path": [p for p in sys.path if p], "definition": data})
        self._gcs.kv_put(KV_NAMESPACE, function_hash, record, overwrite=False)
        with self._lock:
            self._exported.add(function_hash)

    def load(self, function_hash: bytes, name: str) -> Any:
        fn = self._loaded.get(function_hash)
        if fn is not None:
            return fn
        data = self._gcs.kv_get(KV_NAMESPACE, function_hash)
        if data is None:
            raise RuntimeError(
                f"the definition of {name} ({function_hash.hex()[:12]}) is not in the GCS"
            )
        record = pickle.loads(data)
        # Definitions pickled by reference import their module: use the exporter's path.
        for entry in record["sys_path"]:
            if entry not in sys.path and os.path.isdir(entry):
                sys.path.append(entry)
        fn = cloudpickle.loads(record["definition"])
        with self._lock:
            self._loaded[function_hash] = fn
            self._exported.add(function_hash)
        return fn
