"""The core worker: the runtime embedded in every driver and worker process.

It owns the objects its process creates (reference counts, values, where
large ones are stored), submits tasks and actor calls, fetches objects it
borrows from their owners, and serves other processes through its own gRPC
server (DESIGN.md section 2).
"""

from __future__ import annotations

import enum
import logging
import os
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc

from ray import exceptions as rex
from ray._private import constants, ids, rpc, serialization
from ray._private.gcs.client import GcsClient
from ray._private.generated import common_pb2, core_worker_pb2, core_worker_pb2_grpc, gcs_pb2
from ray._private.node_manager.client import NodeManagerClient
from ray._private.object_ref import ObjectRef, collect_borrows
from ray._private.object_store import map_object, write_object_fd
from ray._private.worker import errors
from ray._private.worker.borrow_notifier import OrderedSender
from ray._private.worker.client import CoreWorkerClient
from ray._private.worker.dependency_resolver import DependencyResolver
from ray._private.worker.function_manager import FunctionManager
from ray._private.worker.memory_store import MemoryStore, StoredObject
from ray._private.worker.push_stream import PushStreams
from ray._private.worker.reference_counter import ReferenceCounter
from ray._private.worker.task_manager import TaskEntry, TaskManager
from ray._private.worker.task_submitter import NormalTaskSubmitter
from ray._private.worker.timers import Timers

logger = logging.getLogger(__name__)


class WorkerMode(enum.Enum):
    DRIVER = "driver"
    WORKER = "worker"


class TaskContext(threading.local):
    """What the current thread is running."""

    task_id: bytes = b""
    task_name: str = ""
    actor_id: bytes = b""
    resource_ids: dict[str, list[int]] = {}
    is_normal_task: bool = False


class CoreWorker:
    """One per process; reached through `ray._private.object_ref.get_core_worker()`."""

    def __init__(
        self,
        mode: WorkerMode,
        gcs_address: str,
        token: str,
        node_manager_address: str,
        node_id: bytes,
        session_dir: str,
        namespace: str,
        worker_id: bytes | None = None,
        host: str = "127.0.0.1",
        log_to_driver: bool = True,
    ) -> None:
        self.mode = mode
        self.worker_id = worker_id or ids.new_unique_id()
        self.token = token
        self.token_md = rpc.token_metadata(token)
        self.session_dir = session_dir
        self.namespace = namespace
        self.node_id = node_id
        self.gcs = GcsClient(gcs_address, token)
        self.nm = NodeManagerClient(node_manager_address, token)
        self.memory_store = MemoryStore()
        self.refs = ReferenceCounter(self._on_freed, self._on_released)
        self.timers = Timers()
        self.push_streams = PushStreams(self.worker_client, self.timers)
        self.callbacks = ThreadPoolExecutor(max_workers=8, thread_name_prefix="cw-callback")
        self.owner_sender = OrderedSender("owner-notify")
        self.functions = FunctionManager(self.gcs)
        self.task_manager = TaskManager(self)
        self.resolver = DependencyResolver(self)
        self.submitter = NormalTaskSubmitter(self)
        self.context = TaskContext()
        self.shutting_down = False
        self.job_id = b""
        self._clients: dict[bytes, CoreWorkerClient] = {}
        self._clients_lock = threading.Lock()
        self._fetching: set[bytes] = set()
        # Mappings of store objects this process read, kept while it references them.
        self._mapped: dict[bytes, memoryview] = {}
        self._fetch_lock = threading.Lock()
        self._stop_subscriptions = threading.Event()
        self.executor: Any = None
        self.actor_id = b""
        from ray._private.worker.actor_submitter import ActorTaskSubmitter
        from ray._private.worker.service import CoreWorkerServicer

        self.actor_submitter = ActorTaskSubmitter(self)
        self._server, port = rpc.create_server(
            [
                lambda s: core_worker_pb2_grpc.add_CoreWorkerServiceServicer_to_server(
                    CoreWorkerServicer(self), s
                )
            ],
            token,
            host=host,
            port=0,
            # Each open push stream and each unary call in flight holds a thread (unary
            # PushTask calls to an async actor may run 1000 at once); the pool only grows
            # as calls arrive.
            max_workers=1100,
        )
        self.address = common_pb2.Address(
            node_id=node_id, ip_address=host, port=port, worker_id=self.worker_id
        )
        if mode == WorkerMode.DRIVER:
            self.job_id = self.gcs.register_job(self.address, os.getpid(), namespace)
            if log_to_driver:
                from ray._private.worker.log_printer import LogPrinter

                printer = LogPrinter(self.job_id)
                self.gcs.subscribe(
                    [gcs_pb2.CHANNEL_LOGS, gcs_pb2.CHANNEL_ERRORS],
                    self.job_id,
                    printer.handle,
                    self._stop_subscriptions,
                )
        self.actor_submitter.start()
        self._schedule_borrower_check()

    # ---- clients ---------------------------------------------------------------------

    def worker_client(self, address: common_pb2.Address) -> CoreWorkerClient:
        key = address.worker_id or f"{address.ip_address}:{address.port}".encode()
        client = self._clients.get(key)
        if client is None or client.address.port != address.port:
            with self._clients_lock:
                client = CoreWorkerClient(address, self.token_md)
                self._clients[key] = client
        return client

    def is_me(self, address: common_pb2.Address | None) -> bool:
        return address is None or address.worker_id == self.worker_id

    # ---- put -------------------------------------------------------------------------

    def put(self, value: Any, _owner: Any = None) -> ObjectRef:
        """Stores a value; returns a reference this process owns (pinned while it lives)."""
        if isinstance(value, ObjectRef):
            raise TypeError(
                "ray.put() of an ObjectRef is not allowed: pass the ref itself, or wrap it "
                "in a list to store a reference to it"
            )
        return self._put_serialized(serialization.serialize(value, path="ray.put() value"))

    def _put_serialized(self, ser: serialization.SerializedObject) -> ObjectRef:
        """Stores a serialized value as a new object owned by this process."""
        oid = ids.new_put_object_id(self.job_id or b"\0\0\0\0")
        self.refs.add_owned(oid)
        stored = self._store_serialized(oid, ser)
        ref = ObjectRef(oid, None)
        self._hold_nested(oid, ser.contained_refs)
        self.memory_store.put(oid, stored)
        return ref

    def _hold_nested(self, oid: bytes, contained: list) -> None:
        if contained:
            self.refs.set_nested(
                oid, [(r._id, None if self.is_me(r._owner) else r._owner) for r in contained]
            )

    def _store_serialized(
        self,
        oid: bytes,
        ser: serialization.SerializedObject,
        owner: common_pb2.Address | None = None,
    ) -> StoredObject:
        """Keeps a small value inline, or writes a large one to this node's shared-memory store."""
        size = ser.total_size
        nested = tuple(self._ref_proto(r) for r in ser.contained_refs)
        if size <= constants.MAX_INLINE_OBJECT_BYTES:
            return StoredObject(
                ser.to_bytes(),
                size_bytes=size,
                nested_refs=nested,
                is_error=ser.format == common_pb2.OBJECT_FORMAT_ERROR,
            )
        owner = owner or self.address
        try:
            path = self.nm.create_object(oid, size, owner)
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise rex.ObjectStoreFullError(err.details()) from None
            raise
        try:
            write_object_fd(path, ser.write_to_fd)
        except OSError as err:
            raise rex.ObjectStoreFullError(
                f"could not write a {size}-byte object to shared memory ({err}); free space in /dev/shm "
                "or lower object_store_memory"
            ) from err
        self.nm.seal_object(oid, True, owner)
        if owner is self.address:
            self.refs.add_store_location(oid, self.node_id)
        return StoredObject(
            None, in_store=True, node_id=self.node_id, size_bytes=size, nested_refs=nested
        )

    def _ref_proto(self, ref: ObjectRef) -> common_pb2.ObjectReference:
        return common_pb2.ObjectReference(
            object_id=ref._id, owner_address=ref._owner or self.address
        )

    # ---- get / wait ------------------------------------------------------------------

    def get_objects(self, refs: list[ObjectRef], timeout: float | None) -> list[Any]:
        """Values of `refs`, in order; raises the first error among them, or GetTimeoutError."""
        oids = [r._id for r in refs]
        unique = list(dict.fromkeys(oids))
        missing = [oid for oid in unique if not self.memory_store.contains(oid)]
        if missing:
            missing_set = set(missing)
            self._start_fetches([r for r in refs if r._id in missing_set])
            blocked = self._notify_blocked(True)
            try:
                ready = self.memory_store.wait(missing, len(missing), timeout)
            finally:
                if blocked:
                    self._notify_blocked(False)
            if len(ready) < len(missing):
                not_ready = [oid.hex() for oid in missing if oid not in ready]
                raise rex.GetTimeoutError(
                    f"Get timed out after {timeout}s: {len(not_ready)} of {len(unique)} object(s) "
                    f"not ready yet (first: {', '.join(not_ready[:3])})."
                )
        stored = {oid: self.memory_store.get(oid) for oid in unique}
        views = self._load_from_store(
            [oid for oid, s in stored.items() if s is not None and s.in_store], refs
        )
        out = []
        for oid in oids:
            s = stored[oid]
            if s is None:  # freed concurrently (the ref was dropped while we waited)
                raise rex.ReferenceCountingAssertionError(oid.hex(), "")
            out.append(self._deserialize(views.get(oid, s.data)))
        return out

    def _deserialize(self, data: Any) -> Any:
        with collect_borrows():
            value = serialization.deserialize(data)
        if isinstance(value, serialization.ErrorValue):
            raise errors.to_exception(value.info)
        return value

    def _load_from_store(self, oids: list[bytes], refs: list[ObjectRef]) -> dict[bytes, memoryview]:
        if not oids:
            return {}
        views: dict[bytes, memoryview] = {}
        for oid in oids:
            view = self._mapped.get(oid)
            if view is not None:
                views[oid] = view
        if len(views) == len(oids):
            return views
        for _attempt in range(3):
            locations = self.nm.get_objects([o for o in oids if o not in views])
            for loc in locations:
                if not loc.found:
                    raise rex.ObjectLostError(loc.object_id.hex(), "")
                try:
                    view = map_object(loc.path, loc.size_bytes)
                except FileNotFoundError:
                    continue  # spilled or evicted between the lookup and the map: look again
                views[loc.object_id] = view
                if self.refs.has(loc.object_id):
                    self._mapped[loc.object_id] = view
            if len(views) == len(oids):
                return views
        raise rex.ObjectLostError(next(o for o in oids if o not in views).hex(), "")

    def wait(
        self,
        refs: list[ObjectRef],
        num_returns: int,
        timeout: float | None,
        fetch_local: bool = True,
    ) -> tuple[list[ObjectRef], list[ObjectRef]]:
        oids = [r._id for r in refs]
        store = self.memory_store
        ready_set = store.ready_among(oids)
        if len(ready_set) < num_returns and timeout != 0:
            self._start_fetches([r for r in refs if r._id not in ready_set])
            blocked = self._notify_blocked(True)
            try:
                ready_set = store.wait(oids, num_returns, timeout)
            finally:
                if blocked:
                    self._notify_blocked(False)
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

    def on_object_ready(self, ref: ObjectRef, callback: Any) -> None:
        if not self.memory_store.contains(ref._id):
            self._start_fetches([ref])
        self.memory_store.on_ready(ref._id, lambda _obj: callback())

    def _notify_blocked(self, blocked: bool) -> bool:
        if self.mode != WorkerMode.WORKER or not self.context.is_normal_task:
            return False
        if blocked and self.executor is not None:
            self.executor.give_back_waiting()
        try:
            self.nm.notify_blocked(self.worker_id, blocked)
        except grpc.RpcError as err:
            logger.debug("notify_blocked failed: %s", err.code())
        return True

    def _start_fetches(self, refs: list[ObjectRef]) -> None:
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
        client = self.worker_client(owner)
        fut = client.get_object_status_future(oids, constants.LONG_POLL_S, num_ready=1)
        fut.add_done_callback(lambda f: self._on_status(owner, oids, f))

    def _on_status(self, owner: common_pb2.Address, oids: list[bytes], fut: grpc.Future) -> None:
        try:
            reply = fut.result()
        except grpc.RpcError as err:
            if self.shutting_down:
                return
            if err.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                owner_str = f"{owner.ip_address}:{owner.port}"
                for oid in oids:
                    frame = errors.error_frame(rex.OwnerDiedError(oid.hex(), owner_str))
                    self.memory_store.put(oid, StoredObject(frame, is_error=True))
                with self._fetch_lock:
                    self._fetching.difference_update(oids)
                return
            logger.debug("object status poll failed (%s); retrying", err.code())
            self.timers.call_later(0.5, lambda: self._poll_owner(owner, oids))
            return
        pending = []
        for entry in reply.objects:
            oid = entry.object_id
            if entry.status == core_worker_pb2.OBJECT_STATUS_READY:
                obj = entry.object
                self.memory_store.put(
                    oid,
                    StoredObject(
                        obj.data if not obj.in_store else None,
                        obj.in_store,
                        obj.node_id,
                        obj.size_bytes,
                        is_error=not obj.in_store
                        and serialization.frame_format(obj.data) == common_pb2.OBJECT_FORMAT_ERROR,
                        nested_refs=tuple(obj.nested_refs),
                    ),
                )
            elif entry.status == core_worker_pb2.OBJECT_STATUS_UNKNOWN:
                frame = errors.error_frame(
                    rex.ReferenceCountingAssertionError(
                        oid.hex(), f"{owner.ip_address}:{owner.port}"
                    )
                )
                self.memory_store.put(oid, StoredObject(frame, is_error=True))
            elif self.refs.has(oid):
                pending.append(oid)
        with self._fetch_lock:
            self._fetching.difference_update(set(oids) - set(pending))
        if pending and not self.shutting_down:
            self._poll_owner(owner, pending)

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
        by_owner: dict[bytes, tuple[common_pb2.Address, list[bytes]]] = {}
        for oid, owner in borrows:
            by_owner.setdefault(owner.worker_id, (owner, []))[1].append(oid)
        for owner, oids in by_owner.values():
            client = self.worker_client(owner)

            def add(client: CoreWorkerClient = client, oids: list[bytes] = oids) -> None:
                client.add_borrowers(oids, self.address)

            try:
                self.owner_sender.call(add, wait=True)
                self.refs.mark_registered(oids)
            except Exception as err:  # noqa: BLE001 - owner gone: gets will say so
                logger.debug("could not register borrow with owner: %s", err)

    def add_borrowers_for(
        self, refs: list[common_pb2.ObjectReference], borrower: common_pb2.Address
    ) -> None:
        """Registers `borrower` (the caller of a task) for refs inside a returned value."""
        by_owner: dict[bytes, tuple[common_pb2.Address, list[bytes]]] = {}
        for r in refs:
            if self.is_me(r.owner_address):
                self.refs.add_borrower(r.object_id, borrower)
            else:
                by_owner.setdefault(r.owner_address.worker_id, (r.owner_address, []))[1].append(
                    r.object_id
                )
        for owner, oids in by_owner.values():
            client = self.worker_client(owner)
            try:
                self.owner_sender.call(
                    lambda c=client, o=oids: c.add_borrowers(o, borrower), wait=True
                )
            except Exception as err:  # noqa: BLE001
                logger.debug("could not register borrower for returned refs: %s", err)

    def _check_borrowers(self) -> None:
        """Forgets borrowers that died, so their borrows do not keep objects alive forever."""
        if self.shutting_down:
            return
        try:
            dead = set()
            for address in self.refs.borrower_addresses():
                try:
                    self.worker_client(address).stub.GetObjectStatus(
                        core_worker_pb2.GetObjectStatusRequest(),
                        timeout=2.0,
                        metadata=self.token_md,
                    )
                except grpc.RpcError as err:
                    if err.code() == grpc.StatusCode.UNAVAILABLE:
                        dead.add(address.worker_id)
            if dead:
                self.refs.remove_borrowers_on(dead)
        finally:
            self._schedule_borrower_check()

    def _schedule_borrower_check(self) -> None:
        def submit() -> None:
            if not self.shutting_down:
                try:
                    self.callbacks.submit(self._check_borrowers)
                except RuntimeError:  # the pool closed: shutting down
                    pass

        if not self.shutting_down:
            self.timers.call_later(5.0, submit)

    def _on_freed(self, freed: list[tuple[bytes, set[bytes]]]) -> None:
        oids = [oid for oid, _ in freed]
        self.memory_store.delete(oids)
        for oid in oids:
            self._mapped.pop(oid, None)
        self.actor_submitter.on_objects_freed(oids)
        on_nodes: dict[bytes, list[bytes]] = defaultdict(list)
        for oid, nodes in freed:
            for node in nodes:
                on_nodes[node].append(oid)
        for node, node_oids in on_nodes.items():
            if self.shutting_down:
                break
            client = self.nm if node == self.node_id else self._node_client(node)
            if client is not None:
                try:
                    client.free_objects(node_oids)
                except Exception as err:  # noqa: BLE001
                    logger.debug("free_objects failed: %s", err)

    def _node_client(self, node_id: bytes) -> NodeManagerClient | None:
        for node in self.gcs.get_all_nodes():
            if node.node_id == node_id and node.state == gcs_pb2.NODE_STATE_ALIVE:
                return NodeManagerClient(
                    f"{node.node_manager_address}:{node.node_manager_port}", self.token
                )
        return None

    def _on_released(self, released: list[tuple[common_pb2.Address, bytes]]) -> None:
        self.memory_store.delete([oid for _, oid in released])
        for _, oid in released:
            self._mapped.pop(oid, None)
        if self.shutting_down:
            return
        by_owner: dict[bytes, tuple[common_pb2.Address, list[bytes]]] = {}
        for owner, oid in released:
            by_owner.setdefault(owner.worker_id, (owner, []))[1].append(oid)
        for owner, oids in by_owner.values():
            client = self.worker_client(owner)
            self.owner_sender.call(
                lambda c=client, o=oids: c.remove_borrowers(o, self.address), wait=False
            )

    # ---- tasks -----------------------------------------------------------------------

    def build_args(
        self, args: tuple, kwargs: dict
    ) -> tuple[list[common_pb2.TaskArg], list[bytes], list[ObjectRef]]:
        """Turns call arguments into TaskArgs.

        Returns:
            The args, the ids they reference (held while the task is pending) and
            the ObjectRefs of large arguments put into the store for this call.
        """
        out: list[common_pb2.TaskArg] = []
        arg_ids: list[bytes] = []
        keep: list[ObjectRef] = []
        items = [(f"args[{i}]", "", a) for i, a in enumerate(args)]
        items += [(f"kwargs[{k!r}]", k, v) for k, v in kwargs.items()]
        for path, keyword, value in items:
            arg = common_pb2.TaskArg(keyword=keyword)
            if type(value) is ObjectRef:
                arg.object_ref.object_id = value._id
                arg.object_ref.owner_address.CopyFrom(value._owner or self.address)
                arg_ids.append(value._id)
            else:
                ser = serialization.serialize(value, path=path)
                if ser.total_size <= constants.MAX_INLINE_OBJECT_BYTES:
                    arg.inline_data = ser.to_bytes()
                    for r in ser.contained_refs:
                        arg.nested_refs.append(self._ref_proto(r))
                        arg_ids.append(r._id)
                else:  # large arguments go to the object store, as Ray does
                    ref = self._put_serialized(ser)
                    keep.append(ref)
                    arg.object_ref.object_id = ref._id
                    arg.object_ref.owner_address.CopyFrom(self.address)
                    arg_ids.append(ref._id)
            out.append(arg)
        return out, arg_ids, keep

    def new_return_refs(self, spec: common_pb2.TaskSpec) -> list[ObjectRef]:
        refs = []
        for i in range(spec.num_returns):
            oid = ids.object_id_for_return(spec.task_id, i + 1)
            spec.return_ids.append(oid)
            self.refs.add_owned(oid)
            refs.append(ObjectRef(oid, None))
        return refs

    def submit_task(
        self,
        function: common_pb2.FunctionDescriptor,
        name: str,
        args: tuple,
        kwargs: dict,
        num_returns: int,
        resources: dict[str, float],
        max_retries: int,
        retry_exceptions: bool | list[type] | tuple[type, ...],
        strategy: common_pb2.SchedulingStrategy | None = None,
        max_calls: int = 0,
    ) -> list[ObjectRef]:
        task_args, arg_ids, keep = self.build_args(args, kwargs)
        spec = common_pb2.TaskSpec(
            task_id=ids.new_task_id(self.job_id),
            job_id=self.job_id,
            type=common_pb2.TASK_TYPE_NORMAL,
            name=name,
            function=function,
            args=task_args,
            num_returns=num_returns,
            required_resources=resources,
            caller_address=self.address,
            max_retries=max_retries,
            retry_exceptions=bool(retry_exceptions),
            parent_task_id=self.context.task_id,
            max_calls=max_calls,
        )
        if strategy is not None:
            spec.scheduling_strategy.CopyFrom(strategy)
        refs = self.new_return_refs(spec)
        entry = TaskEntry(spec, max_retries, arg_ids)
        entry.extra["max_retries"] = max_retries
        entry.extra["keep"] = keep
        if isinstance(retry_exceptions, (list, tuple)):
            entry.extra["retry_types"] = tuple(retry_exceptions)
        self.task_manager.add(entry)
        self.submitter.submit(entry)
        return refs

    def store_returned_object(self, ret: common_pb2.ReturnObject) -> None:
        """Caller side: records a task's return object (or frees it if nobody wants it)."""
        oid = ret.object_id
        nested = [
            (r.object_id, None if self.is_me(r.owner_address) else r.owner_address)
            for r in ret.nested_refs
        ]
        if not self.refs.has(oid):
            if ret.in_store:
                self._on_freed([(oid, {ret.node_id})])
            self.refs.set_nested(oid, nested, self.worker_id)
            return
        if ret.in_store:
            self.refs.add_store_location(oid, ret.node_id)
        self.refs.set_nested(oid, nested, self.worker_id)
        is_error = (
            not ret.in_store
            and serialization.frame_format(ret.data) == common_pb2.OBJECT_FORMAT_ERROR
        )
        self.memory_store.put(
            oid,
            StoredObject(
                None if ret.in_store else ret.data,
                ret.in_store,
                ret.node_id,
                ret.size_bytes,
                is_error=is_error,
                nested_refs=tuple(ret.nested_refs),
            ),
        )

    def cancel(self, ref: ObjectRef, force: bool, recursive: bool) -> None:
        if not self.is_me(ref._owner):
            raise ValueError(
                "ray.cancel() works only on refs returned by tasks this process submitted"
            )
        entry = self.task_manager.get(ids.task_id_of_object(ref._id))
        if entry is None:
            return
        if entry.spec.type == common_pb2.TASK_TYPE_ACTOR and force:
            raise ValueError(
                "force=True is not supported for actor tasks; use ray.kill() on the actor"
            )
        if entry.spec.type == common_pb2.TASK_TYPE_ACTOR:
            self.actor_submitter.cancel(entry)
        else:
            self.submitter.cancel(entry, force, recursive)

    def cancel_children(self, parent_task_id: bytes, force: bool) -> None:
        """Cancels the tasks this process submitted while running `parent_task_id` (recursive cancel)."""
        children = [
            e
            for e in list(self.task_manager.tasks.values())
            if e.spec.parent_task_id == parent_task_id
        ]
        for entry in children:
            if entry.spec.type == common_pb2.TASK_TYPE_NORMAL:
                try:
                    self.submitter.cancel(entry, force, True)
                except Exception as err:  # noqa: BLE001 - best effort
                    logger.debug("could not cancel child task: %s", err)

    def warn_infeasible(self, resources: dict[str, float], num_tasks: int) -> None:
        total: dict[str, float] = defaultdict(float)
        try:
            for node in self.gcs.get_all_nodes():
                if node.state == gcs_pb2.NODE_STATE_ALIVE:
                    for k, v in node.resources.total.items():
                        total[k] += v
        except Exception:  # noqa: BLE001 - the warning is still useful without totals
            pass
        logger.warning(
            "A task needs %s but no node in the cluster has that much (cluster total: %s). "
            "It stays pending until a node that fits joins; %d task(s) are waiting. "
            "Lower the task's resource request or add a node with these resources.",
            dict(resources),
            dict(total),
            num_tasks,
        )
        print(
            f"Warning: The following resource request cannot be scheduled right now: {dict(resources)}. "
            f"No node can ever satisfy it (cluster total: {dict(total)}); the task stays pending.",
            file=sys.stderr,
        )

    # ---- shutdown --------------------------------------------------------------------

    def shutdown(self) -> None:
        if self.shutting_down:
            return
        self.shutting_down = True
        self.actor_submitter.stop()
        try:
            self.submitter.return_all()
        except Exception:  # noqa: BLE001
            pass
        if self.mode == WorkerMode.DRIVER and self.job_id:
            try:
                self.gcs.mark_job_finished(self.job_id)
            except Exception as err:  # noqa: BLE001 - the cluster may be gone
                logger.debug("mark_job_finished failed: %s", err)
        self._stop_subscriptions.set()
        self.push_streams.close_all()
        self.timers.stop()
        self.owner_sender.stop()
        self.callbacks.shutdown(wait=False, cancel_futures=True)
        self._server.stop(grace=0)
        time.sleep(0)
