"""`ray.ObjectRef`: a reference to an object, counted by its owner."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging
import queue
import threading
from typing import Any

from ray._private import serialization
from ray._private.generated import common_pb2

logger = logging.getLogger(__name__)

# The core worker of this process (set by ray.init or the worker main).
_core_worker: Any = None
_deserialized = threading.local()
_owner_cache: dict[bytes, common_pb2.Address] = {}


def set_core_worker(cw: Any) -> None:
    global _core_worker
    _core_worker = cw
    if cw is not None:
        _start_releaser()


# The garbage collector runs at any allocation, also while this thread holds a lock of
# the runtime; a reference it collects is released on another thread, not in place.
_collecting = False
_to_release: queue.SimpleQueue = queue.SimpleQueue()  # put() is safe inside __del__
_releaser_lock = threading.Lock()
_releaser: threading.Thread | None = None


def _on_gc(phase: str, info: dict) -> None:
    global _collecting
    _collecting = phase == "start"


gc.callbacks.append(_on_gc)


def _start_releaser() -> None:
    global _releaser
    with _releaser_lock:
        if _releaser is None:
            _releaser = threading.Thread(target=_release_forever, name="ref-release", daemon=True)
            _releaser.start()


def _release_forever() -> None:
    while True:
        cw, object_id = _to_release.get()
        try:
            cw.refs.remove_local(object_id)
        except Exception:  # noqa: BLE001 - interpreter or runtime shutdown
            pass


def get_core_worker() -> Any:
    return _core_worker


# How values are read (`values.get`, which registers itself): this module sits below it.
_read_values: Any = None


def set_value_reader(read: Any) -> None:
    """Sets the function `future()` and `await ref` read values with."""
    global _read_values
    _read_values = read


class ObjectRef:
    """A reference to an immutable object that may not exist yet.

    Equality and hashing follow the object id. Pickling an ObjectRef inside
    another value passes the reference (the receiver becomes a borrower).
    """

    __slots__ = ("_id", "_owner", "_counted", "__weakref__")

    def __init__(
        self, object_id: bytes, owner: common_pb2.Address | None = None, _counted: bool = True
    ) -> None:
        if not isinstance(object_id, bytes) or len(object_id) != 28:
            raise ValueError(f"an object id is 28 bytes, got {object_id!r}")
        self._id = object_id
        self._owner = owner
        self._counted = None
        cw = _core_worker
        if _counted and cw is not None:
            if cw.refs.add_local(object_id, owner):
                _note_new_borrow(cw, object_id, owner)
            # The core worker that counts this ref (a later ray.init has its own).
            self._counted = cw

    def __del__(self) -> None:
        cw = self._counted
        if cw is not None:
            if _collecting:
                _to_release.put((cw, self._id))
                return
            try:
                cw.refs.remove_local(self._id)
            except Exception:  # noqa: BLE001 - interpreter shutdown
                pass

    def binary(self) -> bytes:
        """The id as bytes."""
        return self._id

    def hex(self) -> str:
        """The id as a hex string."""
        return self._id.hex()

    def task_id(self) -> bytes:
        return self._id[:24]

    def job_id(self) -> bytes:
        return self._id[20:24]

    def owner_address(self) -> common_pb2.Address | None:
        return self._owner

    def is_nil(self) -> bool:
        return self._id == b"\xff" * 28

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectRef) and other._id == self._id

    def __hash__(self) -> int:
        return hash(self._id)

    def __repr__(self) -> str:
        return f"ObjectRef({self._id.hex()})"

    def __reduce__(self) -> tuple:
        serialization.record_contained_ref(self)
        cw = _core_worker
        owner = self._owner
        if owner is None and cw is not None:
            owner = cw.address
        return (_restore, (self._id, owner.SerializeToString() if owner is not None else b""))

    def future(self) -> concurrent.futures.Future:
        """A concurrent.futures.Future that resolves to the value (or raises its error)."""
        fut: concurrent.futures.Future = concurrent.futures.Future()
        ref = self

        def run() -> None:
            try:
                fut.set_result(_read_values(_core_worker, [ref], None)[0])
            except BaseException as err:  # noqa: BLE001 - delivered through the future
                fut.set_exception(err)

        _core_worker.on_object_ready(
            self, lambda: threading.Thread(target=run, daemon=True).start()
        )
        return fut

    def __await__(self):  # noqa: ANN204
        return asyncio.wrap_future(self.future()).__await__()


def _restore(object_id: bytes, owner_bytes: bytes) -> ObjectRef:
    owner = None
    cw = _core_worker
    if owner_bytes:
        owner = _owner_cache.get(owner_bytes)
        if owner is None:
            owner = common_pb2.Address.FromString(owner_bytes)
            if len(_owner_cache) < 10_000:
                _owner_cache[owner_bytes] = owner
        if cw is not None and owner.worker_id == cw.worker_id:
            owner = None
    return ObjectRef(object_id, owner)


def _note_new_borrow(cw: Any, object_id: bytes, owner: common_pb2.Address) -> None:
    pending = getattr(_deserialized, "pending", None)
    if pending is not None:
        pending.append((object_id, owner))
    else:
        cw.register_borrows([(object_id, owner)])


class collect_borrows:  # noqa: N801 - used as a context manager
    """Collects refs to register with their owners during a deserialization, then registers them in one go."""

    def __enter__(self) -> list:
        self._outer = getattr(_deserialized, "pending", None)
        _deserialized.pending = []
        return _deserialized.pending

    def __exit__(self, *exc: object) -> None:
        pending = _deserialized.pending
        _deserialized.pending = self._outer
        if pending and _core_worker is not None:
            _core_worker.register_borrows(pending)
