"""Ownership: the objects this process owns or borrows (DESIGN.md section 4), at the frame level.

- put: small frames stay in the in-process `MemoryStore`; large ones are written
  to this node's shared-memory store and pinned for this owner.
- get / wait: values owned here arrive by themselves (task replies); borrowed
  ones are long-polled from their owners (`GetObjectStatus`); large ones are
  mapped from the store of the node that has them, zero copy.
- borrowers: who else holds refs to objects owned here (`AddBorrowers`), and
  the owners told about refs this process borrows, in order (`OrderedSender`).
- freeing: when the `ReferenceCounter` says an owned object is unreferenced,
  its value and every store copy go; a borrowed one is released to its owner.

Everything here takes and returns frames (bytes or memoryviews); Python values
are `values.py`'s business.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from typing import Any

from ray import exceptions as rex
from ray._private import constants, ids, serialization
from ray._private.event_loop import EventLoop
from ray._private.generated import common_pb2, core_worker_pb2, node_manager_pb2
from ray._private.object_ref import ObjectRef
from ray._private.object_store import map_object, write_object_fd, written_path
from ray._private.rpc import errors as rpc_errors
from ray._private.rpc.core_worker_client import CoreWorkerClients, address_str
from ray._private.serialization import SerializedObject
from ray._private.worker import errors
from ray._private.worker.borrow_notifier import OrderedSender
from ray._private.worker.interfaces import NodeDirectory, ObjectStoreClient
from ray._private.worker.memory_store import MemoryStore, StoredObject
from ray._private.worker.reference_counter import ReferenceCounter

logger = logging.getLogger(__name__)

# A frame as `get_frames` hands it out: inline bytes, or a read-only view of shared memory.
Frame = bytes | memoryview

# How often owned objects' borrowers are checked for liveness.
BORROWER_CHECK_PERIOD_S = 5.0


class Ownership:
    """Puts, gets, fetches and frees objects for one process.

    Args:
        address: This process's address (the owner address of what it puts).
        store: This node's object store (the node manager).
        nodes: Object stores of other nodes, to free copies there.
        workers: Clients of other core workers (owners and borrowers).
        loop: Runs deferred work (ready callbacks, poll retries, periodic checks).
        blocking: Runs work that may block on the network (liveness checks).
        on_blocked: Called with True before this thread blocks in get/wait and with False
            after; returns whether it told anyone (a leased worker lends its CPUs).
        shutting_down: True once the process is stopping.
    """

    def __init__(
        self,
        address: common_pb2.Address,
        store: ObjectStoreClient,
        nodes: NodeDirectory,
        workers: CoreWorkerClients,
        loop: EventLoop,
        blocking: Executor,
        on_blocked: Callable[[bool], bool],
        shutting_down: Callable[[], bool],
    ) -> None:
        self.address = address
        self.node_id = address.node_id
        self._store = store
        self._nodes = nodes
        self._workers = workers
        self._loop = loop
        self._blocking = blocking
        self._on_blocked = on_blocked
        self._shutting_down = shutting_down
        self.memory_store = MemoryStore(loop.call_soon)
        self.refs = _CopyTrackingCounter(self._on_freed, self._on_released)
        self._owner_sender = OrderedSender("owner-notify")
        self._fetching: set[bytes] = set()
        self._fetch_lock = threading.Lock()
        # Mappings of store objects this process read, kept while it references them.
        self._mapped: dict[bytes, memoryview] = {}
        # This node's store directory (workers learn it when they register): objects stored on
        # this node are mapped from `<store_dir>/<id hex>` without asking the node manager.
        self.store_dir = ""
        # Called with the ids of freed owned objects (actor handles go out of scope).
        self.freed_listeners: list[Callable[[list[bytes]], None]] = []
        # Called with owned objects whose stored copies a get found gone (and why): Lineage
        # rebuilds them or makes them hold an error, so the get waits for the outcome.
        self.lost_listeners: list[Callable[[list[bytes], str], None]] = []

    def is_me(self, address: common_pb2.Address | None) -> bool:
        return address is None or address.worker_id == self.address.worker_id

    # ---- put -------------------------------------------------------------------------

    def put_frame(
        self,
        frame: SerializedObject | bytes,
        contained: Sequence[ObjectRef] = (),
        job_id: bytes = b"",
        object_id: bytes = b"",
    ) -> ObjectRef:
        """Stores a frame as a new object owned by this process (pinned while its ref lives)."""
        oid = object_id or ids.new_put_object_id(job_id or b"\0\0\0\0")
        self.refs.add_owned(oid)
        stored = self.store_frame(oid, frame, contained)
        ref = ObjectRef(oid, None)
        self._hold_nested(oid, contained)
        self.memory_store.put(oid, stored)
        return ref

    def _hold_nested(self, oid: bytes, contained: Sequence[ObjectRef]) -> None:
        if contained:
            self.refs.set_nested(
                oid, [(r._id, None if self.is_me(r._owner) else r._owner) for r in contained]
            )

    def store_frame(
        self,
        oid: bytes,
        frame: SerializedObject | bytes,
        contained: Sequence[ObjectRef] = (),
        owner: common_pb2.Address | None = None,
    ) -> StoredObject:
        """Keeps a small frame inline, or writes a large one to this node's shared-memory store.

        Raises:
            ObjectStoreFullError: The store cannot hold it, even after spilling.
        """
        ser = frame if isinstance(frame, SerializedObject) else None
        size = ser.total_size if ser is not None else len(frame)
        nested = tuple(self._ref_proto(r) for r in contained) if contained else ()
        if size <= constants.MAX_INLINE_OBJECT_BYTES:
            if ser is not None:
                data = ser.to_bytes()
                is_error = ser.format == common_pb2.OBJECT_FORMAT_ERROR
            else:
                data = bytes(frame)
                is_error = serialization.frame_format(data) == common_pb2.OBJECT_FORMAT_ERROR
            return StoredObject(data, size_bytes=size, nested_refs=nested, is_error=is_error)
        owner = owner or self.address
        self.write_to_store(
            oid, size, ser.write_to_fd if ser is not None else _writer(frame), owner
        )
        if owner is self.address:
            self.refs.add_store_location(oid, self.node_id)
        return StoredObject(
            None, in_store=True, node_id=self.node_id, size_bytes=size, nested_refs=nested
        )

    def put_chunks(
        self,
        object_id: bytes,
        size: int,
        chunks: Iterable[Any],
        contained: Sequence[ObjectRef] = (),
    ) -> ObjectRef:
        """Stores a frame that arrives in pieces, in order, without ever holding it whole.

        A small frame is joined in memory; a large one is written into this node's store
        as its pieces arrive, then checked (layout only) and sealed.

        Raises:
            ValueError: The pieces do not add up to `size`, or the frame is malformed.
            ObjectStoreFullError: The store cannot hold it.
        """
        if size <= constants.MAX_INLINE_OBJECT_BYTES:
            data = b"".join(bytes(c) for c in chunks)
            if len(data) != size:
                raise ValueError(f"the chunks hold {len(data)} bytes, not the {size} announced")
            serialization.check_frame(data)
            return self.put_frame(data, contained, object_id=object_id)
        owner = self.address
        try:
            path = self._store.create_object(object_id, size, owner, owner)
        except rpc_errors.ResourceExhausted as err:
            raise rex.ObjectStoreFullError(err.details) from None
        fd = -1
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            written = 0
            for chunk in chunks:
                view = memoryview(chunk).cast("B")
                if written + len(view) > size:
                    raise ValueError(f"the chunks hold more than the {size} bytes announced")
                while view:
                    n = os.pwrite(fd, view, written)
                    written += n
                    view = view[n:]
            if written != size:
                raise ValueError(f"the chunks hold {written} bytes, not the {size} announced")
            os.close(fd)
            fd = -1
            serialization.check_frame(map_object(path, size), deep=False)
        except BaseException:
            if fd >= 0:
                os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(path)
            self._store.abort_object(object_id)  # drops the reservation
            raise
        self._store.seal_object(object_id, True, owner)
        self.refs.add_owned(object_id)
        self.refs.add_store_location(object_id, self.node_id)
        nested = tuple(self._ref_proto(r) for r in contained)
        ref = ObjectRef(object_id, None)
        self._hold_nested(object_id, contained)
        self.memory_store.put(
            object_id,
            StoredObject(
                None, in_store=True, node_id=self.node_id, size_bytes=size, nested_refs=nested
            ),
        )
        return ref

    def write_to_store(
        self, oid: bytes, size: int, write: Callable[[int], None], owner: common_pb2.Address
    ) -> None:
        """Creates, writes (through `write(fd)`) and seals an object in this node's store.

        Raises:
            ObjectStoreFullError: No room, or the write failed.
        """
        if self.store_dir and self._put_written(oid, size, write, owner):
            return
        try:
            path = self._store.create_object(oid, size, owner, self.address)
        except rpc_errors.ResourceExhausted as err:
            raise rex.ObjectStoreFullError(err.details) from None
        if not self.store_dir:
            # Later puts write straight into the store's folder (see `_put_written`).
            self.store_dir = os.path.dirname(path)
        try:
            write_object_fd(path, write)
        except OSError as err:
            self._store.abort_object(oid)
            raise rex.ObjectStoreFullError(
                f"could not write a {size}-byte object to shared memory ({err}); free space in "
                "/dev/shm or lower object_store_memory"
            ) from err
        self._store.seal_object(oid, True, owner)

    def _put_written(
        self, oid: bytes, size: int, write: Callable[[int], None], owner: common_pb2.Address
    ) -> bool:
        """Writes the object into the store's folder, then hands it in with one rpc.

        Returns:
            False if the caller should go through CreateObject instead (the write failed,
            e.g. /dev/shm is full and the store must make room first, or the file went).

        Raises:
            ObjectStoreFullError: The store has no room even after spilling.
        """
        try:
            write_object_fd(written_path(self.store_dir, self.address.worker_id, oid), write)
        except OSError as err:
            logger.debug(
                "writing %s into the store folder failed (%s); creating it", oid.hex(), err
            )
            return False
        try:
            self._store.put_object(oid, size, owner, self.address)
        except rpc_errors.ResourceExhausted as err:
            raise rex.ObjectStoreFullError(err.details) from None
        except rpc_errors.NotFound:
            return False
        return True

    def _ref_proto(self, ref: ObjectRef) -> common_pb2.ObjectReference:
        return common_pb2.ObjectReference(
            object_id=ref._id, owner_address=ref._owner or self.address
        )

    # ---- get / wait ------------------------------------------------------------------

    def get_frames(self, refs: Sequence[ObjectRef], timeout: float | None) -> list[Frame]:
        """The frames of `refs`, in order, once all are ready.

        Raises:
            GetTimeoutError: Not all were ready within `timeout` seconds.
            ObjectLostError: A large object's stored copy is gone.
            ReferenceCountingAssertionError: An object was freed while waiting.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                return self._get_frames(refs, timeout, deadline)
            except _CopiesLost as lost:
                for listener in self.lost_listeners:
                    listener(lost.object_ids, lost.why)
            if deadline is not None:
                timeout = max(0.0, deadline - time.monotonic())

    def _get_frames(
        self, refs: Sequence[ObjectRef], timeout: float | None, deadline: float | None
    ) -> list[Frame]:
        if len(refs) == 1:  # the common `ray.get(ref)` of a small value that is here
            stored = self.memory_store.get(refs[0]._id)
            if stored is not None and not stored.in_store:
                return [stored.data]
        oids = [r._id for r in refs]
        unique = list(dict.fromkeys(oids))
        missing = [oid for oid in unique if not self.memory_store.contains(oid)]
        if missing:
            orphan = next((oid for oid in missing if self.refs.has_no_owner(oid)), None)
            if orphan is not None:
                raise rex.OwnerUnknownError(orphan.hex(), "")
            missing_set = set(missing)
            self.start_fetches([r for r in refs if r._id in missing_set])
            blocked = self._on_blocked(True)
            try:
                ready = self.memory_store.wait(missing, len(missing), timeout)
            finally:
                if blocked:
                    self._on_blocked(False)
            if len(ready) < len(missing):
                not_ready = [oid.hex() for oid in missing if oid not in ready]
                raise rex.GetTimeoutError(
                    f"Get timed out after {timeout}s: {len(not_ready)} of {len(unique)} object(s) "
                    f"not ready yet (first: {', '.join(not_ready[:3])})."
                )
        stored = {oid: self.memory_store.get(oid) for oid in unique}
        owners = {r._id: r._owner for r in refs}
        views = self._load_from_store(
            {oid: (s, owners[oid]) for oid, s in stored.items() if s is not None and s.in_store},
            deadline,
        )
        out: list[Frame] = []
        for oid in oids:
            s = stored[oid]
            if s is None:  # freed concurrently (the ref was dropped while we waited)
                raise rex.ReferenceCountingAssertionError(oid.hex(), "")
            out.append(views.get(oid, s.data))
        return out

    def read_task_args(self, args: Sequence[common_pb2.ObjectReference]) -> list[Frame]:
        """The frames of a task's by-reference arguments that their owner said are stored on
        this node.

        The owner holds every argument until the task ends, so they are not borrowed here (no
        borrower registration, no status poll): each is mapped from its file at once; one whose
        file is gone (spilled) is read through this node's store (restored), in one request.

        Raises:
            ObjectLostError: No copy could be read.
        """
        frames: list[Frame | None] = [None] * len(args)
        wanted: dict[bytes, tuple[StoredObject, common_pb2.Address | None]] = {}
        for i, arg in enumerate(args):
            oid = arg.object_id
            view = self._mapped.get(oid)
            if view is None and self.store_dir and arg.store_node_id == self.node_id:
                with contextlib.suppress(FileNotFoundError):
                    view = map_object(os.path.join(self.store_dir, oid.hex()), arg.size_bytes)
            if view is not None:
                frames[i] = view
            elif oid not in wanted:
                owner = None if self.is_me(arg.owner_address) else arg.owner_address
                stored = StoredObject(None, True, arg.store_node_id, arg.size_bytes)
                wanted[oid] = (stored, owner)
        if wanted:
            try:
                views = self._load_from_store(wanted, None)
            except _CopiesLost as lost:
                oid = lost.object_ids[0]
                raise rex.ObjectLostError(oid.hex(), address_str(self.address)) from None
            for i, arg in enumerate(args):
                if frames[i] is None:
                    frames[i] = views[arg.object_id]
        return frames  # type: ignore[return-value]

    def _load_from_store(
        self,
        wanted: dict[bytes, tuple[StoredObject, common_pb2.Address | None]],
        deadline: float | None,
    ) -> dict[bytes, memoryview]:
        """Maps stored objects, zero copy; the node manager first pulls those on other nodes.

        Args:
            wanted: For each object, where it is stored and its owner (None: this process).
            deadline: When the get gives up (monotonic), None for no limit.

        Raises:
            ObjectLostError: No copy could be read.
            GetTimeoutError: Copies were still arriving at the deadline.
            ObjectFetchTimedOutError: Without a deadline, copies took the node's whole limit.
            ObjectStoreFullError: This node's store has no room for a pulled copy.
        """
        if not wanted:
            return {}
        views: dict[bytes, memoryview] = {}
        for oid in wanted:
            view = self._mapped.get(oid)
            if view is not None:
                views[oid] = view
        if len(views) == len(wanted):
            return views
        for _attempt in range(3):
            todo = [oid for oid in wanted if oid not in views]
            for loc in self._locate(todo, wanted, deadline):
                oid = loc.object_id
                stored, owner = wanted[oid]
                if not loc.found:
                    if self.lost_listeners and self.refs.owned_by_me(oid):
                        raise _CopiesLost([oid], "no node could serve a copy of it")
                    raise rex.ObjectLostError(oid.hex(), address_str(owner or self.address))
                try:
                    view = map_object(loc.path, loc.size_bytes)
                except FileNotFoundError:
                    continue  # spilled or evicted between the lookup and the map: look again
                views[oid] = view
                if self.refs.has(oid):
                    self._mapped[oid] = view
                    if stored.node_id != self.node_id and self.refs.owned_by_me(oid):
                        # A copy now lives on this node too: free it with the primary.
                        self.refs.add_store_location(oid, self.node_id)
            if len(views) == len(wanted):
                return views
        oid = next(o for o in wanted if o not in views)
        raise rex.ObjectLostError(oid.hex(), address_str(wanted[oid][1] or self.address))

    def _locate(
        self,
        oids: list[bytes],
        wanted: dict[bytes, tuple[StoredObject, common_pb2.Address | None]],
        deadline: float | None,
    ) -> list[node_manager_pb2.ObjectLocation]:
        """Asks this node's store for the objects, naming where copies are and who owns them."""
        owners = [wanted[oid][1] or self.address for oid in oids]
        locations = [wanted[oid][0].node_id for oid in oids]
        timeout_s = None if deadline is None else max(0.001, deadline - time.monotonic())
        remote = [oid for oid, node in zip(oids, locations, strict=True) if node != self.node_id]
        try:
            return self._store.get_objects(oids, owners, locations, timeout_s)
        except rpc_errors.DeadlineExceeded as err:
            first = (remote or oids)[0].hex()
            if deadline is not None:
                raise rex.GetTimeoutError(
                    f"Get timed out: {len(remote)} object(s) were still arriving from other "
                    f"nodes when the timeout passed (first: {first}); {err.details}"
                ) from None
            raise rex.ObjectFetchTimedOutError(
                first, address_str(wanted[(remote or oids)[0]][1] or self.address)
            ) from None
        except rpc_errors.ResourceExhausted as err:
            raise rex.ObjectStoreFullError(err.details) from None

    def wait(
        self, refs: Sequence[ObjectRef], num_returns: int, timeout: float | None
    ) -> tuple[list[ObjectRef], list[ObjectRef]]:
        """(ready, not_ready): at most `num_returns` ready refs, both in input order."""
        oids = [r._id for r in refs]
        store = self.memory_store
        ready_set = store.ready_among(oids)
        if len(ready_set) < num_returns and timeout != 0:
            self.start_fetches([r for r in refs if r._id not in ready_set])
            blocked = self._on_blocked(True)
            try:
                ready_set = store.wait(oids, num_returns, timeout)
            finally:
                if blocked:
                    self._on_blocked(False)
        ready: list[ObjectRef] = []
        not_ready: list[ObjectRef] = []
        room = num_returns
        for r in refs:
            if room and r._id in ready_set:
                ready.append(r)
                room -= 1
            else:
                not_ready.append(r)
        return ready, not_ready

    def on_ready(self, ref: ObjectRef, callback: Callable[[], None]) -> None:
        """Calls `callback()` (on the event loop) once the object is ready here."""
        if not self.memory_store.contains(ref._id):
            self.start_fetches([ref])
        self.memory_store.on_ready(ref._id, lambda _obj: callback())

    def start_fetches(self, refs: Sequence[ObjectRef]) -> None:
        """Long-polls owners for borrowed objects that are not here yet."""
        by_owner: dict[bytes, tuple[common_pb2.Address, list[bytes]]] = {}
        with self._fetch_lock:
            for r in refs:
                if (
                    r._owner is None  # owned here: its value arrives without asking
                    or self.is_me(r._owner)
                    or r._id in self._fetching
                    or self.memory_store.contains(r._id)
                ):
                    continue
                self._fetching.add(r._id)
                by_owner.setdefault(r._owner.worker_id, (r._owner, []))[1].append(r._id)
        for owner, oids in by_owner.values():
            self._poll_owner(owner, oids)

    def _poll_owner(self, owner: common_pb2.Address, oids: list[bytes]) -> None:
        self._workers.get(owner).get_object_status_async(
            oids,
            constants.LONG_POLL_S,
            1,
            lambda reply, failure: self._on_status(owner, oids, reply, failure),
        )

    def _on_status(
        self,
        owner: common_pb2.Address,
        oids: list[bytes],
        reply: core_worker_pb2.GetObjectStatusReply | None,
        failure: rpc_errors.RpcFailure | None,
    ) -> None:
        if failure is not None:
            if self._shutting_down():
                return
            if rpc_errors.is_unreachable(failure):
                for oid in oids:
                    frame = errors.error_frame(rex.OwnerDiedError(oid.hex(), address_str(owner)))
                    self.memory_store.put(oid, StoredObject(frame, is_error=True))
                with self._fetch_lock:
                    self._fetching.difference_update(oids)
                return
            logger.debug("object status poll failed (%s); retrying", failure)
            self._loop.call_later(0.5, lambda: self._poll_owner(owner, oids))
            return
        pending = []
        for entry in reply.objects:
            oid = entry.object_id
            if entry.status == core_worker_pb2.OBJECT_STATUS_READY:
                self.memory_store.put(oid, StoredObject.from_proto(entry.object))
            elif entry.status == core_worker_pb2.OBJECT_STATUS_UNKNOWN:
                frame = errors.error_frame(
                    rex.ReferenceCountingAssertionError(oid.hex(), address_str(owner))
                )
                self.memory_store.put(oid, StoredObject(frame, is_error=True))
            elif self.refs.has(oid):
                pending.append(oid)
        with self._fetch_lock:
            self._fetching.difference_update(set(oids) - set(pending))
        if pending and not self._shutting_down():
            self._poll_owner(owner, pending)

    # ---- task returns ----------------------------------------------------------------

    def store_returned_object(self, ret: common_pb2.ReturnObject) -> None:
        """Caller side: records a task's return object (or frees it if nobody wants it)."""
        oid = ret.object_id
        nested = (
            [
                (r.object_id, None if self.is_me(r.owner_address) else r.owner_address)
                for r in ret.nested_refs
            ]
            if ret.nested_refs
            else None
        )
        if not self.refs.has(oid):
            if ret.in_store:
                self._on_freed([(oid, {ret.node_id})])
            if nested:
                self.refs.set_nested(oid, nested, self.address.worker_id)
            return
        if ret.in_store:
            self.refs.add_store_location(oid, ret.node_id)
        if nested:
            self.refs.set_nested(oid, nested, self.address.worker_id)
        self.memory_store.put(oid, StoredObject.from_proto(ret))

    def store_error(self, object_ids: Sequence[bytes], frame: bytes) -> None:
        """Makes the objects (those still referenced) hold an ERROR frame."""
        stored = StoredObject(frame, is_error=True, size_bytes=len(frame))
        for oid in object_ids:
            if self.refs.has(oid):
                self.memory_store.put(oid, stored)

    # ---- owner services --------------------------------------------------------------

    def object_status(
        self, oids: list[bytes], wait_s: float, num_ready: int
    ) -> core_worker_pb2.GetObjectStatusReply:
        known = [
            oid for oid in oids if self.refs.owned_by_me(oid) or self.memory_store.contains(oid)
        ]
        pending = [oid for oid in known if not self.memory_store.contains(oid)]
        if pending and wait_s > 0:
            want = (
                len(pending) if num_ready <= 0 else max(1, num_ready - (len(known) - len(pending)))
            )
            self.memory_store.wait(pending, want, wait_s)
        reply = core_worker_pb2.GetObjectStatusReply()
        for oid in oids:
            stored = self.memory_store.get(oid)
            if stored is not None:
                reply.objects.add(
                    object_id=oid,
                    status=core_worker_pb2.OBJECT_STATUS_READY,
                    object=stored.to_proto(oid),
                )
            elif oid in known and self.refs.has(oid):
                reply.objects.add(object_id=oid, status=core_worker_pb2.OBJECT_STATUS_PENDING)
            else:
                reply.objects.add(object_id=oid, status=core_worker_pb2.OBJECT_STATUS_UNKNOWN)
        return reply

    def register_borrows(self, borrows: list[tuple[bytes, common_pb2.Address]]) -> None:
        """Tells owners that this process now borrows these objects (waits for them)."""
        for owner, oids in _by_owner(borrows).values():
            client = self._workers.get(owner)
            try:
                self._owner_sender.call(
                    lambda c=client, o=oids: c.add_borrowers(o, self.address), wait=True
                )
                self.refs.mark_registered(oids)
            except Exception as err:  # noqa: BLE001 - owner gone: gets will say so
                logger.debug("could not register borrow with owner: %s", err)

    def add_borrowers_for(
        self, refs: Sequence[common_pb2.ObjectReference], borrower: common_pb2.Address
    ) -> None:
        """Registers `borrower` (the caller of a task) for refs inside a returned value."""
        foreign = []
        for r in refs:
            if self.is_me(r.owner_address):
                self.refs.add_borrower(r.object_id, borrower)
            else:
                foreign.append((r.object_id, r.owner_address))
        for owner, oids in _by_owner(foreign).values():
            client = self._workers.get(owner)
            try:
                self._owner_sender.call(
                    lambda c=client, o=oids: c.add_borrowers(o, borrower), wait=True
                )
            except Exception as err:  # noqa: BLE001
                logger.debug("could not register borrower for returned refs: %s", err)

    def start_borrower_checks(self) -> None:
        """Forgets, every few seconds, borrowers that died (their borrows must not keep objects forever)."""

        def submit() -> None:
            if not self._shutting_down():
                try:
                    self._blocking.submit(self._check_borrowers)
                except RuntimeError:  # the pool closed: shutting down
                    pass

        if not self._shutting_down():
            self._loop.call_later(BORROWER_CHECK_PERIOD_S, submit)

    def _check_borrowers(self) -> None:
        try:
            dead = {
                address.worker_id
                for address in self.refs.borrower_addresses()
                if self._workers.get(address).is_gone()
            }
            if dead:
                self.refs.remove_borrowers_on(dead)
        finally:
            self.start_borrower_checks()

    # ---- freeing ---------------------------------------------------------------------

    def _on_freed(self, freed: list[tuple[bytes, set[bytes]]]) -> None:
        # Runs once per freed task return: the common case (one inline value) stays short.
        oids = []
        on_nodes: dict[bytes, list[bytes]] = {}
        get = self.memory_store.get
        for oid, nodes in freed:
            oids.append(oid)
            if not nodes:
                continue
            stored = get(oid)
            if stored is not None and not stored.in_store:
                continue  # an inline value has no store copies (borrowers' nodes are none)
            for node in nodes:
                on_nodes.setdefault(node, []).append(oid)
        self.memory_store.delete(oids)
        if self._mapped:
            for oid in oids:
                self._mapped.pop(oid, None)
        for listener in self.freed_listeners:
            listener(oids)
        for node, node_oids in on_nodes.items():
            if self._shutting_down():
                break
            client = self._store if node == self.node_id else self._nodes.object_store(node)
            if client is not None:
                try:
                    client.free_objects(node_oids)
                except Exception as err:  # noqa: BLE001
                    logger.debug("free_objects failed: %s", err)

    def _on_released(self, released: list[tuple[common_pb2.Address, bytes]]) -> None:
        self.memory_store.delete([oid for _, oid in released])
        for _, oid in released:
            self._mapped.pop(oid, None)
        if self._shutting_down():
            return
        for owner, oids in _by_owner([(oid, owner) for owner, oid in released]).values():
            client = self._workers.get(owner)
            self._owner_sender.call(
                lambda c=client, o=oids: c.remove_borrowers(o, self.address), wait=False
            )

    def stop(self) -> None:
        self._owner_sender.stop()


class _CopiesLost(Exception):
    """A get found the stored copies of owned objects gone (handled inside `get_frames`)."""

    def __init__(self, object_ids: list[bytes], why: str) -> None:
        super().__init__(why)
        self.object_ids = object_ids
        self.why = why


class _CopyTrackingCounter(ReferenceCounter):
    """The reference counter, plus: a borrower's node may hold a copy of what it borrows.

    Every process that reads a borrowed object registers with its owner first (AddBorrowers,
    with its address, which names its node), and a read on another node than the object's
    pulls a copy there. So the owner counts each borrower's node as a store location, and
    freeing the object frees that node's copy too (freeing where there is none is a no-op).
    The owner's own reads record their node themselves (`_load_from_store`).
    """

    def add_borrower(self, object_id: bytes, borrower: common_pb2.Address) -> bool:
        added = super().add_borrower(object_id, borrower)
        if added and borrower.node_id:
            self.add_store_location(object_id, borrower.node_id)
        return added


def _by_owner(
    items: Sequence[tuple[bytes, common_pb2.Address]],
) -> dict[bytes, tuple[common_pb2.Address, list[bytes]]]:
    out: dict[bytes, tuple[common_pb2.Address, list[bytes]]] = {}
    for oid, owner in items:
        out.setdefault(owner.worker_id, (owner, []))[1].append(oid)
    return out


def _writer(data: Any) -> Callable[[int], None]:
    """A write(fd) for a plain frame (bytes-like)."""
    view = memoryview(data).cast("B")

    def write(fd: int) -> None:
        offset = 0
        while offset < len(view):
            offset += os.pwrite(fd, view[offset:], offset)

    return write
