"""Storage behind the GCS tables: an interface with an in-memory implementation."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod

logger = logging.getLogger(__name__)


class KvStorage(ABC):
    """A namespaced key-value store. A persistent backend lets the head restart without loss."""

    @abstractmethod
    def put(self, namespace: str, key: bytes, value: bytes, overwrite: bool) -> bool:
        """Stores a value; returns True when the key is new."""

    @abstractmethod
    def get(self, namespace: str, key: bytes) -> bytes | None:
        """Reads a value, None when absent."""

    @abstractmethod
    def delete(self, namespace: str, key: bytes, by_prefix: bool) -> int:
        """Deletes a key (or all keys with the prefix); returns how many went."""

    @abstractmethod
    def keys(self, namespace: str, prefix: bytes) -> list[bytes]:
        """Lists keys starting with `prefix`."""


class InMemoryKvStorage(KvStorage):
    """The default storage: a dict per namespace, lost when the GCS exits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, dict[bytes, bytes]] = {}

    def put(self, namespace: str, key: bytes, value: bytes, overwrite: bool) -> bool:
        with self._lock:
            table = self._data.setdefault(namespace, {})
            added = key not in table
            if added or overwrite:
                table[key] = value
            return added

    def get(self, namespace: str, key: bytes) -> bytes | None:
        with self._lock:
            return self._data.get(namespace, {}).get(key)

    def delete(self, namespace: str, key: bytes, by_prefix: bool) -> int:
        with self._lock:
            table = self._data.get(namespace, {})
            if not by_prefix:
                return 1 if table.pop(key, None) is not None else 0
            doomed = [k for k in table if k.startswith(key)]
            for k in doomed:
                del table[k]
            return len(doomed)

    def keys(self, namespace: str, prefix: bytes) -> list[bytes]:
        with self._lock:
            return [k for k in self._data.get(namespace, {}) if k.startswith(prefix)]
