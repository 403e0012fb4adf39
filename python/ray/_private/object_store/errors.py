"""Errors raised by the node's object store.

These are internal: the node manager's servicer maps them to gRPC status codes
(``RESOURCE_EXHAUSTED`` and ``ALREADY_EXISTS``) and the core worker turns the
former into the public ``ray.exceptions.ObjectStoreFullError``.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


class ObjectStoreFullError(Exception):
    """No room for an object, even after evicting and spilling everything possible.

    Args:
        object_id: The object that did not fit.
        size_bytes: Its size.
        capacity_bytes: The store's capacity.
        used_bytes: Bytes in use when the request failed.
        unsealed_bytes: Of those, bytes held by objects still being written
            (which can be neither evicted nor spilled).
    """

    def __init__(
        self,
        object_id: bytes,
        size_bytes: int,
        capacity_bytes: int,
        used_bytes: int,
        unsealed_bytes: int = 0,
    ) -> None:
        self.object_id = object_id
        self.size_bytes = size_bytes
        self.capacity_bytes = capacity_bytes
        self.used_bytes = used_bytes
        self.unsealed_bytes = unsealed_bytes
        super().__init__(self._message())

    def _message(self) -> str:
        what = f"Cannot store object {self.object_id.hex()} of {self.size_bytes} bytes"
        if self.size_bytes > self.capacity_bytes:
            return (
                f"{what}: it is larger than the whole object store "
                f"({self.capacity_bytes} bytes). Raise object_store_memory "
                "(ray.init(object_store_memory=...) or ray start --object-store-memory) "
                "or split the data into smaller objects."
            )
        return (
            f"{what}: the object store is full ({self.used_bytes} of "
            f"{self.capacity_bytes} bytes in use, {self.unsealed_bytes} bytes by objects "
            "still being written) and nothing more could be evicted or spilled to disk. "
            "Free references to objects you no longer need (del the ObjectRefs) or raise "
            "object_store_memory."
        )

    def __reduce__(self) -> tuple:
        return (
            type(self),
            (
                self.object_id,
                self.size_bytes,
                self.capacity_bytes,
                self.used_bytes,
                self.unsealed_bytes,
            ),
        )


class ObjectExistsError(Exception):
    """An object with this id was already created in the store (sealed or not).

    Args:
        object_id: The id that already exists.
    """

    def __init__(self, object_id: bytes) -> None:
        self.object_id = object_id
        super().__init__(
            f"Object {object_id.hex()} already exists in the object store; objects are "
            "immutable, so create it under a new id or free the old one first."
        )

    def __reduce__(self) -> tuple:
        return (type(self), (self.object_id,))
