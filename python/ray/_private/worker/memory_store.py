"""The in-process store of object values and readiness.

The owner keeps small values here (inline) and, for large ones, where they are
stored. Borrowers cache what they fetched. Waiters are woken per object, so a
wait over many objects costs O(1) per arriving object.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ray._private.generated import common_pb2
from ray._private.serialization import frame_format

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class StoredObject:
    """A ready object: its frame (inline), or where a node's shared-memory store holds it.

    Never changed once made (not frozen only because frozen dataclasses are slow to build,
    and one is built per task on the hot path).
    """

    data: bytes | None
    in_store: bool = False
    node_id: bytes = b""
    size_bytes: int = 0
    is_error: bool = False
    nested_refs: tuple = ()

    @classmethod
    def from_proto(cls, ret: common_pb2.ReturnObject) -> StoredObject:
        """What an owner sent: the inline frame, or where the value is stored."""
        inline = not ret.in_store
        return cls(
            ret.data if inline else None,
            ret.in_store,
            ret.node_id,
            ret.size_bytes,
            is_error=inline and frame_format(ret.data) == common_pb2.OBJECT_FORMAT_ERROR,
            nested_refs=tuple(ret.nested_refs),
        )

    def to_proto(
        self, object_id: bytes, into: common_pb2.ReturnObject | None = None
    ) -> common_pb2.ReturnObject:
        """The object as a ReturnObject (filled into `into`, a fresh message, if given: a
        message added in place to a reply costs no copy)."""
        ret = common_pb2.ReturnObject() if into is None else into
        ret.object_id = object_id
        if self.data is not None:
            ret.data = self.data
        if self.in_store:
            ret.in_store = True
        if self.node_id:
            ret.node_id = self.node_id
        ret.size_bytes = self.size_bytes
        if self.nested_refs:
            ret.nested_refs.extend(self.nested_refs)
        return ret


class _Waiter:
    __slots__ = ("needed", "event")

    def __init__(self, needed: int) -> None:
        self.needed = needed
        self.event = threading.Event()


class MemoryStore:
    """Object id -> StoredObject, with blocking waits and ready callbacks.

    Args:
        defer: Runs a ready callback later, on another thread (the core worker's event
            loop). `put` is called on transport threads (gRPC callbacks, stream readers),
            which must not run arbitrary callbacks inline. Without it callbacks run inline.
    """

    def __init__(self, defer: Callable[[Callable[[], None]], None] | None = None) -> None:
        self._defer = defer
        self._lock = threading.Lock()
        self._objects: dict[bytes, StoredObject] = {}
        self._waiters: dict[bytes, list[_Waiter]] = {}
        # Object id -> (callback, run inline) pairs.
        self._callbacks: dict[bytes, list[tuple[Callable[[StoredObject], None], bool]]] = {}

    def put(self, object_id: bytes, obj: StoredObject) -> None:
        """Stores a ready object and wakes whoever waits for it. A second put is ignored."""
        with self._lock:
            if object_id in self._objects:
                return
            self._objects[object_id] = obj
            waiters = self._waiters.pop(object_id, ())
            for w in waiters:
                w.needed -= 1
                if w.needed <= 0:
                    w.event.set()
            callbacks = self._callbacks.pop(object_id, ())
        for cb, inline in callbacks:
            if self._defer is not None and not inline:
                self._defer(lambda cb=cb: _run(cb, obj))
            else:
                _run(cb, obj)

    def get(self, object_id: bytes) -> StoredObject | None:
        return self._objects.get(object_id)

    def ready_among(self, object_ids: list[bytes]) -> set[bytes]:
        """The ids that are ready now."""
        objects = self._objects
        return {oid for oid in object_ids if oid in objects}

    def contains(self, object_id: bytes) -> bool:
        return object_id in self._objects

    def delete(self, object_ids: Iterable[bytes]) -> None:
        with self._lock:
            for oid in object_ids:
                self._objects.pop(oid, None)

    def on_ready(
        self, object_id: bytes, callback: Callable[[StoredObject], None], inline: bool = False
    ) -> None:
        """Calls `callback(obj)` when the object is ready (at once if it is).

        With `inline`, it runs on the thread that stores the object even where callbacks are
        deferred: only for a callback that never blocks (it hands the object to a queue).
        """
        with self._lock:
            obj = self._objects.get(object_id)
            if obj is None:
                self._callbacks.setdefault(object_id, []).append((callback, inline))
                return
        callback(obj)

    def remove_callback(self, object_id: bytes, callback: Callable[[StoredObject], None]) -> None:
        """Forgets a ready callback that is no longer wanted (its object may never come)."""
        with self._lock:
            callbacks = self._callbacks.get(object_id)
            if callbacks is not None:
                for i, (cb, _) in enumerate(callbacks):
                    if cb == callback:
                        del callbacks[i]
                        break
                if not callbacks:
                    del self._callbacks[object_id]

    def wait(self, object_ids: list[bytes], num_ready: int, timeout_s: float | None) -> set[bytes]:
        """Waits until `num_ready` of the (distinct) ids are ready or the timeout passes.

        Returns:
            The ids that are ready when it returns.
        """
        with self._lock:
            missing = [oid for oid in object_ids if oid not in self._objects]
            ready_count = len(object_ids) - len(missing)
            if ready_count >= num_ready or timeout_s == 0:
                return {oid for oid in object_ids if oid in self._objects}
            waiter = _Waiter(num_ready - ready_count)
            for oid in missing:
                self._waiters.setdefault(oid, []).append(waiter)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        try:
            while not waiter.event.is_set():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                # Wake regularly so Ctrl-C reaches the main thread.
                waiter.event.wait(0.5 if left is None else min(left, 0.5))
        finally:
            with self._lock:
                for oid in missing:
                    lst = self._waiters.get(oid)
                    if lst is not None:
                        try:
                            lst.remove(waiter)
                        except ValueError:
                            pass
                        if not lst:
                            del self._waiters[oid]
        return {oid for oid in object_ids if oid in self._objects}

    def __len__(self) -> int:
        return len(self._objects)


def _run(callback: Callable[[StoredObject], None], obj: StoredObject) -> None:
    try:
        callback(obj)
    except Exception:  # noqa: BLE001 - a callback must not break the store
        logger.exception("object ready callback failed")
