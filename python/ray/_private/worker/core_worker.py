"""The core worker: the runtime embedded in every driver and worker process.

`CoreWorker` is the composition root: it builds the parts, hands each the few
collaborators it uses (`interfaces.py`), and offers the frames-level core API
that the Python API (`values.py`, `ray/actor.py`, ...), the client gateway and
the Java/C++ runners drive. No part imports this module.

The parts:

- `Ownership` (`ownership.py`): put, get and wait on frames; fetching borrowed
  objects; borrowers; freeing. It holds the `MemoryStore` and `ReferenceCounter`.
- `TaskSpecBuilder` (`task_spec.py`): every TaskSpec this process sends.
- `TaskManager` (`task_manager.py`): pending tasks, completed or failed once.
- `DependencyResolver`: waits for owned arguments.
- `NormalTaskSubmitter` over `SubmissionState` (leases, pushes, retries).
- `ActorTaskSubmitter` over `ActorCallsState` (per-actor order, restarts).
- `TaskExecutor` with its runners (workers only), fed by `CoreWorkerServicer`.

Thread map (which thread runs what):

- main thread: user code. In a driver, API calls (submit, get, wait). In a
  worker, `TaskExecutor.run_forever`: normal tasks and plain actors' calls.
- rpc server pool (`rpc`, grows to 1100): incoming calls: owner services
  (GetObjectStatus long-polls, borrowers), unary PushTask (held while the task
  runs), and each open PushTaskStream's reply generator.
- push-stream threads, per open stream: `push-stream` (caller side: reads
  replies and runs the submitters' reply events) and `push-stream-in` (worker
  side: hands arriving tasks to the executor). gRPC's own request thread sends
  a stream's batches.
- gRPC callback threads, one per pinned channel: replies of async unary calls
  (leases, object status polls, actor info polls, unary pushes).
- `cw-loop` (`EventLoop`): timers (idle leases, retries, back-offs, stream
  reaping, pipelining and sequence-gap watches) and deferred callbacks: objects
  becoming ready run their dependants here, never on a transport thread.
- `cw-blocking` pool (8): work that can block on the network: asking a node how
  a worker died, borrower liveness checks, probing a stale actor, out-of-scope
  actor kills.
- `owner-notify`: borrow registrations and releases, in order, per process.
- `ref-release`: refs the garbage collector dropped inside a lock.
- workers only: `actor-loop` (asyncio actors), the `actor` pool (threaded
  actors), `lifeline` (exit when the node manager goes).
- drivers only: `gcs-subscriber` (worker logs and warnings for this job).

Events from transport threads only change state under a part's lock and queue
sends; anything longer is handed to the loop or the blocking pool.
"""

from __future__ import annotations

import enum
import itertools
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ray import exceptions as rex
from ray._private import constants, ids
from ray._private.event_loop import EventLoop
from ray._private.generated import common_pb2, core_worker_pb2, core_worker_pb2_grpc, gcs_pb2
from ray._private.object_ref import ObjectRef
from ray._private.rpc import channels
from ray._private.rpc import errors as rpc_errors
from ray._private.rpc.core_worker_client import CoreWorkerClients
from ray._private.rpc.gcs_client import GcsClient
from ray._private.rpc.node_manager_client import NodeManagerClient
from ray._private.rpc.push_stream import PushStreams
from ray._private.serialization import SerializedObject
from ray._private.worker import placement_group_warning
from ray._private.worker.actor_calls import ActorCallsState
from ray._private.worker.actor_submitter import ActorTaskSubmitter
from ray._private.worker.dependency_resolver import DependencyResolver
from ray._private.worker.function_manager import FunctionManager
from ray._private.worker.generators import GeneratorStreams
from ray._private.worker.lineage import Lineage
from ray._private.worker.ownership import Frame, Ownership
from ray._private.worker.runners import ResultFrame
from ray._private.worker.service import CoreWorkerServicer
from ray._private.worker.submission import SubmissionState
from ray._private.worker.task_manager import TaskManager
from ray._private.worker.task_spec import ActorOptions, Arg, TaskOptions, TaskSpecBuilder
from ray._private.worker.task_submitter import NormalTaskSubmitter
from ray._private.worker.tasks import ActorCall, NormalTask, Task

logger = logging.getLogger(__name__)

# Submission order of actor calls across the process (requeued calls keep their place).
_order = itertools.count()


class WorkerMode(enum.Enum):
    DRIVER = "driver"
    WORKER = "worker"


class TaskContext(threading.local):
    """What the current thread is running."""

    task_id: bytes = b""
    task_name: str = ""
    actor_id: bytes = b""
    resource_ids: dict[str, list[int]] = {}
    # The resources the running task holds (its request).
    assigned_resources: dict[str, float] = {}
    is_normal_task: bool = False
    # The placement group the running task was placed in (None outside one).
    placement_group: common_pb2.PlacementGroupSchedulingStrategy | None = None


@dataclass(frozen=True)
class CreatedActor:
    """The result of `create_actor`."""

    actor_id: bytes
    # The handle's object (owned here; the actor lives while it does, unless detached).
    handle_ref: ObjectRef | None
    # With get_if_exists: the live actor that already had the name.
    existing: gcs_pb2.ActorInfo | None = None


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
        job_config: common_pb2.JobConfig | None = None,
        worker_id: bytes | None = None,
        host: str = "127.0.0.1",
        log_to_driver: bool = True,
        extra_services: Sequence[Callable[[Any], None]] = (),
        server_options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        self.mode = mode
        self.worker_id = worker_id or ids.new_unique_id()
        self.token = token
        self.token_md = channels.token_metadata(token)
        self.session_dir = session_dir
        self.job_config = job_config or common_pb2.JobConfig()
        self.namespace = self.job_config.ray_namespace
        self.node_id = node_id
        self.job_id = b""
        self.actor_id = b""
        # The actor this worker hosts: its instance ids (GPUs), resources, and whether it
        # was restarted. Calls run on any thread, so these are not in the thread's context.
        self.actor_resource_ids: dict[str, list[int]] = {}
        self.actor_resources: dict[str, float] = {}
        self.actor_restarted = False
        # This process's runtime env (a runtime_env.ProcessEnv: the job's on a driver, the
        # worker's own on a worker), set by ray.init and the worker's entry point.
        self.runtime_env: Any = None
        # The placement group the hosted actor was placed in (None outside one).
        self.actor_placement_group: common_pb2.PlacementGroupSchedulingStrategy | None = None
        self.shutting_down = False
        # Why this process's node manager is gone, once it is (every call then fails).
        self.node_failure = ""
        self.executor: Any = None
        self.context = TaskContext()
        # The port is filled in once the server is bound; every part shares this message.
        self.address = common_pb2.Address(
            node_id=node_id, ip_address=host, worker_id=self.worker_id
        )

        self.loop = EventLoop("cw-loop")
        self.blocking = ThreadPoolExecutor(max_workers=8, thread_name_prefix="cw-blocking")
        self.gcs = GcsClient(gcs_address, token)
        self.nm = NodeManagerClient(node_manager_address, token)
        self.workers = CoreWorkerClients(token)
        self._node_clients: dict[bytes, NodeManagerClient] = {}
        self._nm_by_address: dict[str, NodeManagerClient] = {}
        self._watch_lock = threading.Lock()
        self._watching_nodes = False
        self._job_configs: dict[bytes, common_pb2.JobConfig] = {}

        stopping = self._stopping
        self.ownership = Ownership(
            self.address,
            self.nm,
            self,
            self.workers,
            self.loop,
            self.blocking,
            self._notify_blocked,
            stopping,
        )
        self.refs = self.ownership.refs
        self.memory_store = self.ownership.memory_store
        self.push_streams = PushStreams(self.workers.get, self.loop)
        self.functions = FunctionManager(self.gcs)
        self.lineage = Lineage(
            self.refs.add_submitted,
            self.refs.remove_submitted,
            self.refs.drop_store_node,
            self.memory_store.delete,
            self._resubmit,
            self.ownership.store_error,
        )
        self.tasks = TaskManager(
            self.refs.add_submitted,
            self.refs.remove_submitted,
            self.ownership.store_returned_object,
            self.ownership.store_error,
            self._task_completed,
        )
        self.resolver = DependencyResolver(
            self.memory_store, self.refs.owned_by_me, self.tasks.fail
        )
        self.specs = TaskSpecBuilder(
            lambda: self.job_id, self.address, lambda: self.context.task_id, self._put_arg
        )
        self.submitter = NormalTaskSubmitter(
            SubmissionState(
                constants.MAX_TASKS_IN_FLIGHT_PER_WORKER,
                constants.IDLE_LEASE_TIMEOUT_S,
                constants.PIPELINE_BACKOFF_S,
                max_pending_leases=constants.MAX_PENDING_LEASE_REQUESTS,
            ),
            self.resolver,
            self.tasks,
            self.push_streams,
            self.nm,
            self.node_manager_at,
            self,
            self.loop,
            self.blocking,
            lambda: self.job_id,
            self.address,
            self._warn_infeasible,
            stopping,
            self.functions.record,
            self._config_to_send,
        )
        self.actor_submitter = ActorTaskSubmitter(
            ActorCallsState(),
            self.resolver,
            self.tasks,
            self.push_streams,
            self.gcs,
            self,
            self,
            self.refs.remove_submitted,
            self.loop,
            self.blocking,
            stopping,
        )
        self.ownership.freed_listeners.append(self.actor_submitter.on_objects_freed)
        self.ownership.freed_listeners.append(self.lineage.freed)
        self.generators = GeneratorStreams(self.ownership, self._notify_blocked)
        self.ownership.freed_listeners.append(self.generators.on_objects_freed)
        self.ownership.lost_listeners.append(self.lineage.lost)

        self._server, port = channels.create_server(
            [
                lambda s: core_worker_pb2_grpc.add_CoreWorkerServiceServicer_to_server(
                    CoreWorkerServicer(self.ownership, lambda: self.executor, self.generators),
                    s,
                ),
                *extra_services,
            ],
            token,
            host=host,
            port=0,
            # Each open push stream and each unary call in flight holds a thread (unary
            # PushTask calls to an async actor may run 1000 at once); the pool only grows
            # as calls arrive.
            max_workers=1100,
            options=server_options,
        )
        self.address.port = port
        self._stop_subscriptions = threading.Event()
        self._log_printer: Any = None
        if mode == WorkerMode.DRIVER:
            if not self.namespace:
                self.namespace = os.urandom(8).hex()
                self.job_config.ray_namespace = self.namespace
            self.job_id = self.gcs.register_job(self.address, os.getpid(), self.job_config)
            if log_to_driver:
                from ray._private.worker.log_printer import LogPrinter

                printer = LogPrinter(
                    self.job_id, host, lambda: self.gcs.get_all_nodes(timeout_s=5.0)
                )
                self._log_printer = printer
                self.gcs.subscribe(
                    [gcs_pb2.CHANNEL_LOGS, gcs_pb2.CHANNEL_ERRORS],
                    self.job_id,
                    printer.handle,
                    self._stop_subscriptions,
                )
        self.ownership.start_borrower_checks()

    def _stopping(self) -> bool:
        return self.shutting_down

    def is_me(self, address: common_pb2.Address | None) -> bool:
        return address is None or address.worker_id == self.worker_id

    # ---- frames-level core API: objects ----------------------------------------------

    def put_frame(
        self,
        frame: SerializedObject | bytes,
        contained: Sequence[ObjectRef] = (),
        object_id: bytes = b"",
    ) -> ObjectRef:
        """Stores a frame as an object owned here; pinned while the returned ref lives.

        Raises:
            ObjectStoreFullError: Not even spilling makes room.
        """
        self._check_node()
        return self.ownership.put_frame(frame, contained, self.job_id, object_id)

    def _put_arg(
        self, frame: SerializedObject | bytes, contained: Sequence[ObjectRef]
    ) -> ObjectRef:
        return self.ownership.put_frame(frame, contained, self.job_id)

    def get_frames(self, refs: Sequence[ObjectRef], timeout: float | None) -> list[Frame]:
        """The frames of `refs` in order (ERROR frames included), once all are ready.

        Raises:
            GetTimeoutError: Not all were ready within `timeout` seconds.
        """
        return self.ownership.get_frames(refs, timeout)

    def read_task_args(self, args: Sequence[common_pb2.ObjectReference]) -> list[Frame]:
        """The frames of a task's stored by-reference arguments (Ownership.read_task_args)."""
        return self.ownership.read_task_args(args)

    def wait(
        self,
        refs: Sequence[ObjectRef],
        num_returns: int,
        timeout: float | None,
        fetch_local: bool = True,
    ) -> tuple[list[ObjectRef], list[ObjectRef]]:
        return self.ownership.wait(refs, num_returns, timeout)

    def on_object_ready(self, ref: ObjectRef, callback: Any) -> None:
        self.ownership.on_ready(ref, callback)

    def add_local_ref(self, object_id: bytes, owner: common_pb2.Address | None) -> ObjectRef:
        """A new counted reference to an object (registers the borrow if it is owned elsewhere)."""
        return ObjectRef(object_id, None if self.is_me(owner) else owner)

    def register_borrows(self, borrows: list[tuple[bytes, common_pb2.Address]]) -> None:
        self.ownership.register_borrows(borrows)

    # ---- frames-level core API: tasks and actors -------------------------------------

    # ---- other nodes -----------------------------------------------------------------

    def _task_completed(self, task: Task, reply: core_worker_pb2.PushTaskReply) -> None:
        if isinstance(task, NormalTask):
            self.lineage.task_finished(task, reply)
            if any(r.in_store and r.node_id != self.node_id for r in reply.return_objects):
                self.watch_nodes()  # its outputs live on another node: hear if it dies

    def _resubmit(self, task: NormalTask) -> None:
        """Runs a finished task again (Lineage rebuilds its lost outputs)."""
        self.tasks.add(task)
        self.submitter.submit(task)

    def watch_nodes(self) -> None:
        """Subscribes (once) to node deaths: outputs lost with a node are rebuilt or fail."""
        with self._watch_lock:
            if self._watching_nodes or self.shutting_down:
                return
            self._watching_nodes = True
        self.blocking.submit(
            self.gcs.subscribe,
            [gcs_pb2.CHANNEL_NODE_STATE],
            b"",
            self._on_node_state,
            self._stop_subscriptions,
        )

    def _on_node_state(self, msg: gcs_pb2.PubMessage) -> None:
        info = msg.node_info
        if info.state == common_pb2.NODE_STATE_DEAD and info.node_id != self.node_id:
            self.blocking.submit(self.lineage.node_died, info.node_id)

    def node_died(self, reason: str) -> None:
        """This node's node manager is gone: fail what is pending, refuse what comes."""
        if self.node_failure or self.shutting_down:
            return
        self.node_failure = reason
        logger.error("%s", reason)
        error = rex.NodeDiedError(reason)
        for task in self.tasks.pending():
            self.tasks.fail(task, error)

    def _check_node(self) -> None:
        if self.node_failure:
            raise rex.NodeDiedError(self.node_failure)

    def submit_task(
        self,
        function: common_pb2.FunctionDescriptor,
        args: Sequence[Arg],
        options: TaskOptions,
        task_id: bytes = b"",
    ) -> list[ObjectRef]:
        """Submits a normal task; returns refs to its returns (owned here)."""
        self._check_node()
        built = self.specs.build_args(args)
        spec = self.specs.normal_task(function, built, options, task_id)
        refs = self._own_returns(spec)
        retry = options.retry_exceptions
        task = NormalTask(
            spec,
            options.max_retries,
            built.arg_ids,
            built.keep,
            max_retries=options.max_retries,
            retry_types=tuple(retry) if isinstance(retry, (list, tuple)) else None,
        )
        if spec.generator_kind:
            self.generators.register(spec)
        self.tasks.add(task)
        self.submitter.submit(task)
        return refs

    def _own_returns(self, spec: common_pb2.TaskSpec) -> list[ObjectRef]:
        refs = []
        for oid in spec.return_ids:
            self.refs.add_owned(oid)
            refs.append(ObjectRef(oid, None))
        return refs

    def create_actor(
        self,
        actor_class: common_pb2.FunctionDescriptor,
        args: Sequence[Arg],
        options: ActorOptions,
        actor_id: bytes = b"",
    ) -> CreatedActor:
        """Creates an actor through the GCS; calls may be submitted at once.

        Raises:
            ValueError: The name is taken in the namespace (and not get_if_exists).
        """
        self._check_node()
        built = self.specs.build_args(args)
        spec = self.specs.actor_creation(actor_class, built, options, actor_id)
        actor_id = spec.actor_creation.actor_id
        (handle_oid,) = spec.return_ids
        self.refs.add_owned(handle_oid)
        handle_ref = ObjectRef(handle_oid, None)
        try:
            reply = self.gcs.create_actor(spec, options.get_if_exists)
        except rpc_errors.AlreadyExists as err:
            raise ValueError(err.details) from None
        if reply.already_existed:
            return CreatedActor(reply.actor.actor_id, None, reply.actor)
        self.actor_submitter.register_created(
            actor_id, options.class_name, handle_oid, built.arg_ids, built.keep, options.detached
        )
        return CreatedActor(actor_id, handle_ref)

    def submit_actor_call(
        self,
        actor_id: bytes,
        method: common_pb2.FunctionDescriptor,
        args: Sequence[Arg],
        num_returns: int,
        max_task_retries: int,
        max_concurrency: int,
        name: str,
        task_id: bytes = b"",
        concurrency_group: str = "",
        retry_exceptions: bool | Sequence[type] = False,
        generator_kind: int = 0,
        generator_backpressure: int = 0,
    ) -> list[ObjectRef]:
        """Calls an actor method; calls from this process run in the order they were made.

        `concurrency_group` names the actor's group it runs in ("": its method's);
        `retry_exceptions` (True or exception types) retries it, under `max_task_retries`,
        when it raises.
        """
        if self.node_failure:
            raise rex.NodeDiedError(self.node_failure)
        built = self.specs.build_args(args)
        request = self.specs.actor_call(
            actor_id,
            method,
            built,
            num_returns,
            max_task_retries,
            name,
            task_id,
            concurrency_group,
            bool(retry_exceptions),
            generator_kind,
            generator_backpressure,
        )
        spec = request.task_spec
        if generator_kind:
            self.generators.register(spec)
        refs = self._own_returns(spec)
        call = ActorCall(
            spec,
            max_task_retries,
            built.arg_ids,
            built.keep,
            actor_id=actor_id,
            order=next(_order),
            request=request,
            retry_types=(
                tuple(retry_exceptions) if isinstance(retry_exceptions, (list, tuple)) else None
            ),
        )
        self.tasks.add(call)
        self.actor_submitter.submit(call, max_concurrency)
        return refs

    def kill_actor(self, actor_id: bytes, no_restart: bool) -> None:
        """Kills an actor at once (`ray.kill`).

        Raises:
            ValueError: The GCS does not know the actor.
        """
        try:
            self.gcs.kill_actor(actor_id, no_restart, force=True, reason="ray.kill() was called")
        except rpc_errors.NotFound:
            raise ValueError(f"unknown actor {actor_id.hex()}") from None

    def cancel(self, ref: ObjectRef, force: bool, recursive: bool) -> None:
        if not self.is_me(ref._owner):
            raise ValueError(
                "ray.cancel() works only on refs returned by tasks this process submitted"
            )
        task = self.tasks.get(ids.task_id_of_object(ref._id))
        if task is None:
            return
        if isinstance(task, ActorCall):
            if force:
                raise ValueError(
                    "force=True is not supported for actor tasks; use ray.kill() on the actor"
                )
            self.actor_submitter.cancel(task)
        else:
            self.submitter.cancel(task, force, recursive)

    def cancel_children(self, parent_task_id: bytes, force: bool) -> None:
        """Cancels the tasks this process submitted while running `parent_task_id` (recursive cancel)."""
        for task in self.tasks.children_of(parent_task_id):
            if isinstance(task, NormalTask):
                try:
                    self.submitter.cancel(task, force, True)
                except Exception as err:  # noqa: BLE001 - best effort
                    logger.debug("could not cancel child task: %s", err)

    # ---- collaborators the parts are given -------------------------------------------

    def node_manager_at(self, address: str) -> NodeManagerClient:
        """The node manager at HOST:PORT (a lease request spilled there)."""
        if address == self.nm.address:
            return self.nm
        client = self._nm_by_address.get(address)
        if client is None:
            client = self._nm_by_address.setdefault(address, NodeManagerClient(address, self.token))
        return client

    def _node_manager_of(self, node: common_pb2.NodeInfo) -> NodeManagerClient:
        return self.node_manager_at(f"{node.node_manager_address}:{node.node_manager_port}")

    def object_store(self, node_id: bytes) -> NodeManagerClient | None:
        """NodeDirectory: the node manager of another node (None if it is not alive)."""
        client = self._node_clients.get(node_id)
        if client is not None:
            return client
        for node in self.gcs.get_all_nodes():
            if node.node_id == node_id and node.state == common_pb2.NODE_STATE_ALIVE:
                client = NodeManagerClient(
                    f"{node.node_manager_address}:{node.node_manager_port}", self.token
                )
                self._node_clients[node_id] = client
                return client
        return None

    def is_gone(self, address: common_pb2.Address) -> bool:
        """WorkerProbe."""
        return self.workers.get(address).is_gone()

    def cancel_task(
        self, address: common_pb2.Address, task_id: bytes, force: bool, recursive: bool
    ) -> None:
        """TaskCanceller."""
        self.workers.get(address).cancel_task(task_id, force, recursive)

    def _notify_blocked(self, blocked: bool) -> bool:
        """A leased worker blocked in get/wait lends its CPUs (and gives back waiting tasks)."""
        if self.mode != WorkerMode.WORKER or not self.context.is_normal_task:
            return False
        if blocked and self.executor is not None:
            self.executor.give_back_waiting()
        try:
            self.nm.notify_blocked(self.worker_id, blocked)
        except rpc_errors.RpcFailure as err:
            logger.debug("notify_blocked failed: %s", err)
        return True

    def _warn_infeasible(self, resources: dict[str, float], num_tasks: int) -> None:
        if any("_group_" in name for name in resources):
            # Placed in a placement group that is not created (yet): the tasks wait for it,
            # unless it was removed.
            text = placement_group_warning.removed_warning(self.gcs, resources, num_tasks)
            if text:
                logger.warning(text)
                self._tell_driver("Warning", text)
            return
        try:
            nodes = [
                dict(n.resources.total)
                for n in self.gcs.get_all_nodes(timeout_s=5)
                if n.state == common_pb2.NODE_STATE_ALIVE
            ]
        except rpc_errors.RpcFailure:
            nodes = []
        if any(all(n.get(k, 0.0) >= v for k, v in resources.items()) for n in nodes):
            return  # a node that fits has just joined: the retried request goes there
        text = (
            f"The following resource request cannot be scheduled right now: {dict(resources)}. "
            f"No node of the cluster has that much (alive nodes: {nodes}); {num_tasks} task(s) "
            "wait until a node that fits joins. Lower the request or add a node with these "
            "resources."
        )
        logger.warning(text)
        self._tell_driver("Warning", text)

    def _tell_driver(self, kind: str, text: str) -> None:
        """Shows a message on the job's driver terminal (published to the GCS)."""
        msg = gcs_pb2.PubMessage(channel=gcs_pb2.CHANNEL_ERRORS)
        msg.driver_message.job_id = self.job_id
        msg.driver_message.kind = kind
        msg.driver_message.message = text
        try:
            self.gcs.publish([msg])
        except rpc_errors.RpcFailure as err:
            logger.debug("could not tell the driver: %s", err)

    # ---- ExecutionContext (workers) ---------------------------------------------------

    def receive(self, request: core_worker_pb2.PushTaskRequest) -> None:
        """Takes what a push brought along: the function's definition, the job's config."""
        spec = request.task_spec
        if request.HasField("function_export"):
            self.functions.receive(spec.function.function_hash, request.function_export)
        if request.HasField("job_config") and spec.job_id not in self._job_configs:
            self._use_job_config(spec.job_id, request.job_config)

    def begin_task(self, spec: common_pb2.TaskSpec) -> None:
        """A task of `spec.job_id` starts on this thread: use that job's config."""
        job_id = spec.job_id
        if job_id == self.job_id:
            return
        self.job_id = job_id
        config = self._job_configs.get(job_id)
        if config is None:
            config = self._load_job_config(job_id)
        self.namespace = config.ray_namespace

    def _config_to_send(self, job_id: bytes) -> common_pb2.JobConfig:
        """The config of the job a submitted task belongs to: a driver's own, or (a worker's
        nested task) the job's as this process learned it (never the worker's empty one)."""
        if self.mode == WorkerMode.DRIVER and job_id == self.job_id:
            return self.job_config
        return self.job_config_of(job_id)

    def job_config_of(self, job_id: bytes) -> common_pb2.JobConfig:
        """The config of a job (cached; read from the GCS the first time)."""
        config = self._job_configs.get(job_id)
        return config if config is not None else self._load_job_config(job_id)

    def _load_job_config(self, job_id: bytes) -> common_pb2.JobConfig:
        try:
            config = self.gcs.get_job_config(job_id) or common_pb2.JobConfig()
        except rpc_errors.RpcFailure as err:
            logger.warning("could not read the config of job %s: %s", job_id.hex(), err)
            return common_pb2.JobConfig()
        return self._use_job_config(job_id, config)

    def _use_job_config(self, job_id: bytes, config: common_pb2.JobConfig) -> common_pb2.JobConfig:
        for entry in config.code_search_path:
            if os.path.isdir(entry) and entry not in sys.path:
                sys.path.insert(0, entry)
        self._job_configs[job_id] = config
        return config

    def store_return(
        self,
        object_id: bytes,
        frame: SerializedObject | bytes,
        owner: common_pb2.Address,
        into: common_pb2.ReturnObject | None = None,
    ) -> common_pb2.ReturnObject:
        """Stores one return value for the task's caller; refs inside it are lent to the caller.

        The ReturnObject is filled into `into` if given (one added to the reply in place)."""
        if isinstance(frame, SerializedObject):
            contained = frame.contained_refs
        elif isinstance(frame, ResultFrame):
            frame, contained = frame.frame, frame.contained
        else:
            contained = []
        stored = self.ownership.store_frame(object_id, frame, contained, owner=owner)
        ret = stored.to_proto(object_id, into)
        if contained:
            self.ownership.add_borrowers_for(list(ret.nested_refs), owner)
        return ret

    def report_generator_items(
        self,
        owner: common_pb2.Address,
        request: core_worker_pb2.ReportGeneratorItemReturnsRequest,
        timeout_s: float,
    ) -> core_worker_pb2.ReportGeneratorItemReturnsReply:
        """Sends values a generator task yielded to the task's caller (GeneratorDriver)."""
        return self.workers.get(owner).report_generator_item_returns(request, timeout_s)

    def set_actor(
        self,
        actor_id: bytes,
        resource_ids: dict[str, list[int]],
        resources: dict[str, float],
        restarted: bool,
    ) -> None:
        self.actor_id = actor_id
        self.actor_resource_ids = resource_ids
        self.actor_resources = resources
        self.actor_restarted = restarted

    def assigned_resources(self) -> dict[str, float]:
        """What the current task (or the actor this worker hosts) holds."""
        if self.actor_id:
            return dict(self.actor_resources)
        return dict(self.context.assigned_resources)

    def assigned_instance_ids(self) -> dict[str, list[int]]:
        """Instance ids (GPUs) of the current task or the hosted actor."""
        if self.actor_id:
            return dict(self.actor_resource_ids)
        return dict(self.context.resource_ids)

    # ---- shutdown --------------------------------------------------------------------

    def shutdown(self) -> None:
        if self.shutting_down:
            return
        self.shutting_down = True
        if self._log_printer is not None and not self.node_failure:
            # Everything the job's workers printed before their replies is printed first.
            self._log_printer.drain(self.gcs, self._node_manager_of, constants.LOG_DRAIN_TIMEOUT_S)
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
        self.loop.stop()
        self.ownership.stop()
        self.blocking.shutdown(wait=False, cancel_futures=True)
        self._server.stop(grace=0)
        time.sleep(0)
