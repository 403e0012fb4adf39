"""The objects of one node: its shared-memory store, who owns each object, who writes it.

`NodeObjects` wraps the `ObjectStore` with a lock of its own (a transfer or a
spill never stalls leasing) and keeps, for every object, the process that owns
it (given at creation and seal) and, while it is being written, the process that
writes it. When an owner dies its objects are freed; when a writer dies before
sealing, the creation is aborted. Owners and writers that are this node's own
workers are known dead as soon as they exit (`process_died`); the others
(drivers, client sessions, workers of other nodes) are probed every second
(`sweep`).

Secondary copies pulled from other nodes (`object_transfer.py`) are tracked the same way,
under the object's owner, with no writer: `create_copy`, then `seal_copy` (unpinned).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ray._private.generated import common_pb2, node_manager_pb2
from ray._private.object_store import ObjectStore, StoreStats, written_path

logger = logging.getLogger(__name__)


@dataclass
class _Tracked:
    owner: bytes
    writer: bytes = b""


class NodeObjects:
    """Thread-safe store access with owner and writer tracking.

    Args:
        store: The node's object store.
        is_local_worker: Whether a worker id is one of this node's live worker processes
            (their deaths arrive through `process_died`, so they are never probed).
        is_gone: Whether the process at an address is certainly gone (a probe).
    """

    def __init__(
        self,
        store: ObjectStore,
        is_local_worker: Callable[[bytes], bool],
        is_gone: Callable[[common_pb2.Address], bool],
    ) -> None:
        self._store = store
        self._is_local_worker = is_local_worker
        self._is_gone = is_gone
        self._lock = threading.Lock()
        self._tracked: dict[bytes, _Tracked] = {}
        self._by_owner: dict[bytes, set[bytes]] = defaultdict(set)
        self._by_writer: dict[bytes, set[bytes]] = defaultdict(set)
        self._addresses: dict[bytes, common_pb2.Address] = {}
        self.num_freed_for_dead_owners = 0
        self.num_aborted = 0

    # ---- writer side -----------------------------------------------------------------

    def create(
        self,
        object_id: bytes,
        size: int,
        owner: common_pb2.Address | None,
        writer: common_pb2.Address | None,
    ) -> str:
        """Reserves room; raises ObjectExistsError or ObjectStoreFullError (see ObjectStore)."""
        with self._lock:
            path = self._store.create(object_id, size)
            owner_id = self._remember(owner)
            tracked = _Tracked(owner_id, self._remember(writer))
            self._tracked[object_id] = tracked
            if owner_id:
                self._by_owner[owner_id].add(object_id)
            if tracked.writer:
                self._by_writer[tracked.writer].add(object_id)
            return path

    def seal(self, object_id: bytes, pin: bool, owner: common_pb2.Address | None) -> None:
        """Raises KeyError if the object was never created (or was freed)."""
        with self._lock:
            self._store.seal(object_id, pin)
            tracked = self._tracked.get(object_id)
            if tracked is None:
                tracked = self._tracked[object_id] = _Tracked(b"")
            self._drop_writer(object_id, tracked)
            owner_id = self._remember(owner)
            if owner_id and owner_id != tracked.owner:
                self._drop_owner(object_id, tracked)
                tracked.owner = owner_id
                self._by_owner[owner_id].add(object_id)

    def put_written(
        self,
        object_id: bytes,
        size: int,
        pin: bool,
        owner: common_pb2.Address | None,
        writer_id: bytes,
    ) -> str:
        """Takes in an object its writer already wrote, sealed (see `ObjectStore.put_written`).

        Raises:
            ObjectExistsError, ObjectStoreFullError, FileNotFoundError: As the store does.
        """
        written = written_path(self._store.shm_dir, writer_id, object_id)
        with self._lock:
            path = self._store.put_written(object_id, size, written, pin)
            owner_id = self._remember(owner)
            self._tracked[object_id] = _Tracked(owner_id)
            if owner_id:
                self._by_owner[owner_id].add(object_id)
            return path

    def create_copy(self, object_id: bytes, size: int, owner: common_pb2.Address | None) -> str:
        """Reserves room for a secondary copy that this node itself writes (a pull).

        The copy is tracked under `owner` like a primary copy, so it is freed when the owner
        frees the object or dies. It has no writer process: if the pull fails, `abort` it.

        Raises:
            ObjectExistsError: The object is here already (sealed, being written or spilled).
            ObjectStoreFullError: No room even after evicting and spilling.
        """
        return self.create(object_id, size, owner, None)

    def seal_copy(self, object_id: bytes, owner: common_pb2.Address | None) -> bool:
        """Seals a pulled copy unpinned (evictable: the primary copy lives elsewhere).

        Returns:
            False if the object was freed while it was pulled (nothing is left of it).
        """
        try:
            self.seal(object_id, False, owner)
        except KeyError:
            return False
        return True

    def abort(self, object_id: bytes) -> bool:
        """Drops an unsealed creation (its writer failed); False if it is not one."""
        with self._lock:
            if self._store.contains(object_id):
                return False
            tracked = self._tracked.pop(object_id, None)
            if tracked is None:
                return False
            self._forget(object_id, tracked)
            self._store.abort(object_id)
            self.num_aborted += 1
            return True

    # ---- reader side and lifetime ----------------------------------------------------

    def locations(self, object_ids: Iterable[bytes]) -> list[node_manager_pb2.ObjectLocation]:
        """Where sealed objects are (restoring spilled ones); raises ObjectStoreFullError."""
        out = []
        with self._lock:
            for oid in object_ids:
                found = self._store.get(oid)
                if found is None:
                    out.append(node_manager_pb2.ObjectLocation(object_id=oid, found=False))
                else:
                    out.append(
                        node_manager_pb2.ObjectLocation(
                            object_id=oid, found=True, path=found[0], size_bytes=found[1]
                        )
                    )
        return out

    def free(self, object_ids: Iterable[bytes]) -> None:
        with self._lock:
            self._free(list(object_ids))

    def _free(self, object_ids: list[bytes]) -> None:
        for oid in object_ids:
            tracked = self._tracked.pop(oid, None)
            if tracked is not None:
                self._forget(oid, tracked)
        self._store.free(object_ids)

    def stats(self) -> StoreStats:
        with self._lock:
            return self._store.stats()

    def shutdown(self) -> None:
        with self._lock:
            self._store.shutdown()
            self._tracked.clear()
            self._by_owner.clear()
            self._by_writer.clear()

    # ---- dead owners and writers -----------------------------------------------------

    def process_died(self, worker_id: bytes) -> None:
        """A process is gone: free what it owned, abort what it was writing."""
        with self._lock:
            owned = list(self._by_owner.pop(worker_id, ()))
            writing = list(self._by_writer.pop(worker_id, ()))
            self._addresses.pop(worker_id, None)
            unsealed = [oid for oid in writing if not self._store.contains(oid)]
            self._store.drop_written(worker_id)
            if owned:
                self.num_freed_for_dead_owners += len(owned)
                logger.info(
                    "freeing %d object(s) of process %s, which died",
                    len(owned),
                    worker_id.hex()[:12],
                )
                self._free(owned)
            for oid in unsealed:
                tracked = self._tracked.pop(oid, None)
                if tracked is not None:
                    self._forget(oid, tracked)
                self._store.abort(oid)
                self.num_aborted += 1

    def sweep(self) -> None:
        """Probes owners and writers that are not this node's workers; handles the dead."""
        with self._lock:
            candidates = [
                (wid, addr)
                for wid, addr in self._addresses.items()
                if (wid in self._by_owner or wid in self._by_writer)
                and not self._is_local_worker(wid)
            ]
        for worker_id, address in candidates:
            if self._is_gone(address):
                self.process_died(worker_id)

    # ---- bookkeeping (lock held) -----------------------------------------------------

    def _remember(self, address: common_pb2.Address | None) -> bytes:
        if address is None or not address.worker_id:
            return b""
        if address.worker_id not in self._addresses and address.port:
            copy = common_pb2.Address()
            copy.CopyFrom(address)
            self._addresses[address.worker_id] = copy
        return address.worker_id

    def _drop_writer(self, object_id: bytes, tracked: _Tracked) -> None:
        if tracked.writer:
            writing = self._by_writer.get(tracked.writer)
            if writing is not None:
                writing.discard(object_id)
                if not writing:
                    del self._by_writer[tracked.writer]
            tracked.writer = b""

    def _drop_owner(self, object_id: bytes, tracked: _Tracked) -> None:
        if tracked.owner:
            owned = self._by_owner.get(tracked.owner)
            if owned is not None:
                owned.discard(object_id)
                if not owned:
                    del self._by_owner[tracked.owner]

    def _forget(self, object_id: bytes, tracked: _Tracked) -> None:
        owner, writer = tracked.owner, tracked.writer
        self._drop_writer(object_id, tracked)
        self._drop_owner(object_id, tracked)
        for worker_id in (owner, writer):
            if worker_id and worker_id not in self._by_owner and worker_id not in self._by_writer:
                self._addresses.pop(worker_id, None)
