"""Owner-based distributed reference counting (DESIGN.md section 4).

Sans-IO: the counter only keeps counts and reports, through two callbacks
called outside its lock, what must happen when an object becomes unreferenced:
an owned object is freed; a borrowed one is released back to its owner.

An object lives while any of these hold:
- a local `ObjectRef` in this process (`local`),
- a pending task submitted by this process takes it as an argument (`submitted`),
- another process borrows it (owned objects: `borrowers`),
- an object that contains it lives (the container's entry holds a local count on it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ray._private.generated import common_pb2

logger = logging.getLogger(__name__)


@dataclass
class _Ref:
    owner: common_pb2.Address | None  # None: this process owns it
    local: int = 0
    submitted: int = 0
    borrowers: dict[bytes, common_pb2.Address] = field(default_factory=dict)
    nested: list[tuple[bytes, common_pb2.Address | None]] = field(default_factory=list)
    store_nodes: set[bytes] = field(default_factory=set)
    registered: bool = False
    # A ref made from an id alone (no owner given, not created here): no one to ask.
    orphan: bool = False

    def unreferenced(self) -> bool:
        return self.local <= 0 and self.submitted <= 0 and not self.borrowers


FreedCallback = Callable[[list[tuple[bytes, set[bytes]]]], None]
ReleasedCallback = Callable[[list[tuple[common_pb2.Address, bytes]]], None]


class ReferenceCounter:
    """Counts references to objects this process owns or borrows."""

    def __init__(self, on_freed: FreedCallback, on_released: ReleasedCallback) -> None:
        self._lock = threading.Lock()
        self._refs: dict[bytes, _Ref] = {}
        self._on_freed = on_freed
        self._on_released = on_released

    # ---- counts ----------------------------------------------------------------------

    def add_owned(self, object_id: bytes) -> None:
        """Registers an object this process owns (before its first ObjectRef exists)."""
        with self._lock:
            ref = self._refs.get(object_id)
            if ref is None:
                self._refs[object_id] = _Ref(owner=None)
            else:
                ref.orphan = False

    def add_local(self, object_id: bytes, owner: common_pb2.Address | None) -> bool:
        """Counts one more local reference.

        Returns:
            True if this created a new borrowed entry (the owner must be told).
        """
        with self._lock:
            ref = self._refs.get(object_id)
            if ref is None:
                ref = _Ref(owner=owner, orphan=owner is None)
                self._refs[object_id] = ref
                ref.local = 1
                return owner is not None
            ref.local += 1
            return False

    def remove_local(self, object_id: bytes) -> None:
        self._decrement([object_id], "local")

    def add_submitted(self, object_ids: Iterable[bytes]) -> None:
        with self._lock:
            for oid in object_ids:
                ref = self._refs.get(oid)
                if ref is not None:
                    ref.submitted += 1

    def remove_submitted(self, object_ids: Iterable[bytes]) -> None:
        self._decrement(list(object_ids), "submitted")

    def add_borrower(self, object_id: bytes, borrower: common_pb2.Address) -> bool:
        """Records a borrower of an owned object; False if the object is already gone."""
        with self._lock:
            ref = self._refs.get(object_id)
            if ref is None or ref.owner is not None:
                return False
            ref.borrowers[borrower.worker_id] = borrower
            return True

    def remove_borrower(self, object_id: bytes, borrower_worker_id: bytes) -> None:
        freed: list = []
        released: list = []
        with self._lock:
            ref = self._refs.get(object_id)
            if ref is None or ref.borrowers.pop(borrower_worker_id, None) is None:
                return
            self._collect(object_id, ref, freed, released)
        self._notify(freed, released)

    def remove_borrowers_on(self, worker_ids: set[bytes]) -> None:
        """Drops every borrow by processes that died."""
        freed: list = []
        released: list = []
        with self._lock:
            for oid, ref in list(self._refs.items()):
                if ref.borrowers and any(w in ref.borrowers for w in worker_ids):
                    for w in worker_ids:
                        ref.borrowers.pop(w, None)
                    self._collect(oid, ref, freed, released)
        self._notify(freed, released)

    def set_nested(
        self,
        object_id: bytes,
        nested: list[tuple[bytes, common_pb2.Address | None]],
        my_worker_id: bytes = b"",
    ) -> None:
        """Records refs contained in an object's value; they live at least as long as it.

        Each contained ref gets one local count, released when the container goes.
        Borrowed ones are already registered with their owners (by us, or by the
        worker that returned the container on our behalf). With `my_worker_id`,
        the worker also registered us as a borrower of contained refs we own
        ourselves, to keep them alive until now: that self-borrow is dropped here.
        If the container is already gone, the contained refs are released at once.
        """
        if not nested:
            return
        freed: list = []
        released: list = []
        with self._lock:
            container = self._refs.get(object_id)
            held = []
            for oid, owner in nested:
                inner = self._refs.get(oid)
                if inner is None:
                    if owner is None:
                        continue  # an owned object that is already gone
                    inner = _Ref(owner=owner, registered=True)
                    self._refs[oid] = inner
                inner.local += 1
                held.append((oid, owner))
                if owner is None and my_worker_id:
                    inner.borrowers.pop(my_worker_id, None)
            if container is not None:
                container.nested.extend(held)
            else:
                for oid, _ in held:
                    inner = self._refs[oid]
                    inner.local -= 1
                    self._collect(oid, inner, freed, released)
        self._notify(freed, released)

    def add_store_location(self, object_id: bytes, node_id: bytes) -> None:
        with self._lock:
            ref = self._refs.get(object_id)
            if ref is not None:
                ref.store_nodes.add(node_id)

    def drop_store_node(self, node_id: bytes) -> list[bytes]:
        """A node died: forgets it as a location; returns owned objects it held the only copy of."""
        lost = []
        with self._lock:
            for oid, ref in self._refs.items():
                if ref.owner is None and node_id in ref.store_nodes:
                    ref.store_nodes.discard(node_id)
                    if not ref.store_nodes:
                        lost.append(oid)
        return lost

    def mark_registered(self, object_ids: Iterable[bytes]) -> None:
        with self._lock:
            for oid in object_ids:
                ref = self._refs.get(oid)
                if ref is not None:
                    ref.registered = True

    # ---- queries ---------------------------------------------------------------------

    def has(self, object_id: bytes) -> bool:
        return object_id in self._refs

    def owned_by_me(self, object_id: bytes) -> bool:
        ref = self._refs.get(object_id)
        return ref is not None and ref.owner is None and not ref.orphan

    def has_no_owner(self, object_id: bytes) -> bool:
        """A ref made from an id alone: nobody known owns it."""
        ref = self._refs.get(object_id)
        return ref is not None and ref.orphan

    def counts(self, object_id: bytes) -> tuple[int, int, int] | None:
        """(local, submitted, borrowers) for tests and debugging."""
        ref = self._refs.get(object_id)
        return None if ref is None else (ref.local, ref.submitted, len(ref.borrowers))

    def borrower_addresses(self) -> list[common_pb2.Address]:
        """Distinct processes that borrow objects owned here."""
        with self._lock:
            out: dict[bytes, common_pb2.Address] = {}
            for ref in self._refs.values():
                out.update(ref.borrowers)
            return list(out.values())

    def num_objects(self) -> int:
        return len(self._refs)

    # ---- internals -------------------------------------------------------------------

    def _decrement(self, object_ids: list[bytes], kind: str) -> None:
        if not object_ids:
            return
        freed: list = []
        released: list = []
        with self._lock:
            for oid in object_ids:
                ref = self._refs.get(oid)
                if ref is None:
                    continue
                setattr(ref, kind, getattr(ref, kind) - 1)
                self._collect(oid, ref, freed, released)
        self._notify(freed, released)

    def _collect(self, object_id: bytes, ref: _Ref, freed: list, released: list) -> None:
        """Removes an unreferenced entry and, transitively, what only it kept alive. Lock held."""
        stack = [(object_id, ref)]
        while stack:
            oid, r = stack.pop()
            if not r.unreferenced() or self._refs.get(oid) is not r:
                continue
            del self._refs[oid]
            if r.owner is None:
                freed.append((oid, r.store_nodes))
            elif r.registered:
                released.append((r.owner, oid))
            for inner_id, _ in r.nested:
                inner = self._refs.get(inner_id)
                if inner is not None:
                    inner.local -= 1
                    stack.append((inner_id, inner))

    def _notify(self, freed: list, released: list) -> None:
        if freed:
            self._on_freed(freed)
        if released:
            self._on_released(released)
