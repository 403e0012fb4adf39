"""Submits normal tasks: carries out what `SubmissionState` decides (leases, pushes, retries).

The hot path (DESIGN.md section 3): a lease is requested once per resource
shape and reused for every queued task of that shape; it is returned when no
task has needed it for a short while.

Threads: events arrive on the caller's thread (submit, cancel), on gRPC
callback threads (lease replies), on push-stream reader threads (task
replies) and on the event loop (timers). Each event runs the state machine
under one lock; pushes are sent under it too (they only queue the request on a
stream, so the worker sees a lease's tasks in the order the state chose), and
everything else (completing a task, lease rpcs) runs after the lock is released.
Asking a node how a worker died can block for seconds: that goes to the
blocking pool.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor

from ray._private import constants, ids, serialization
from ray._private.generated import common_pb2, core_worker_pb2, node_manager_pb2
from ray._private.rpc import errors as rpc_errors
from ray._private.worker import errors
from ray._private.worker.interfaces import (
    Deferred,
    DependencyWaiter,
    Pusher,
    TaskCanceller,
    TaskSink,
)
from ray._private.worker.submission import (
    Action,
    CallLater,
    Complete,
    Fail,
    InspectDeadWorker,
    Lease,
    LeaseGrant,
    Push,
    RequestLease,
    ReturnLease,
    SendCancel,
    Shape,
    SubmissionState,
    WarnInfeasible,
)
from ray._private.worker.tasks import NormalTask

logger = logging.getLogger(__name__)


class NormalTaskSubmitter:
    """Queues ready tasks per resource shape and pushes them to leased workers.

    Args:
        state: The submission state machine.
        resolver: Waits for owned arguments.
        tasks: Completes and fails tasks.
        pusher: Sends tasks to workers.
        node_manager: This node's node manager (leases are asked of it first).
        node_manager_at: The node manager at HOST:PORT (where a lease request was spilled).
        canceller: Sends cancels to workers.
        loop: Runs timers.
        blocking: Runs blocking work (asking a node how a worker died).
        requester: Who asks for leases: job id (read per request) and address.
        warn_infeasible: Tells the user about a request no node can satisfy.
        stopping: True once the process is shutting down.
        function_record: The definition this process exported under a hash.
        job_config: The config of a job by id (sent to workers with the job's first task).
    """

    def __init__(
        self,
        state: SubmissionState,
        resolver: DependencyWaiter,
        tasks: TaskSink,
        pusher: Pusher,
        node_manager: object,
        node_manager_at: Callable[[str], object],
        canceller: TaskCanceller,
        loop: Deferred,
        blocking: Executor,
        job_id: Callable[[], bytes],
        address: common_pb2.Address,
        warn_infeasible: Callable[[dict[str, float], int], None],
        stopping: Callable[[], bool],
        function_record: Callable[[bytes], common_pb2.FunctionExport | None] = lambda h: None,
        job_config: Callable[[bytes], common_pb2.JobConfig] = lambda _job_id: (
            common_pb2.JobConfig()
        ),
    ) -> None:
        self._state = state
        self._resolver = resolver
        self._tasks = tasks
        self._pusher = pusher
        self._nm = node_manager
        self._nm_at = node_manager_at
        self._canceller = canceller
        self._loop = loop
        self._blocking = blocking
        self._job_id = job_id
        self._address = address
        self._warn_infeasible = warn_infeasible
        self._stopping = stopping
        self._function_record = function_record
        self._job_config = job_config
        # Reentrant: a push whose call fails at once runs its callback on this thread.
        self._lock = threading.RLock()

    # ---- events ----------------------------------------------------------------------

    def submit(self, task: NormalTask) -> None:
        self._resolver.resolve(task, lambda t: self._handle(self._state.submit, t))

    def cancel(self, task: NormalTask, force: bool, recursive: bool) -> None:
        self._handle(self._state.cancel, task, force, recursive)

    def return_all(self) -> None:
        self._handle(self._state.drain)

    def _handle(self, event: Callable[..., list[Action]], *args: object) -> None:
        """Runs one event; pushes go out under the lock, the other actions after it."""
        with self._lock:
            actions = event(*args)
            later = []
            for action in actions:
                if isinstance(action, Push):
                    self._push(action.lease, action.task)
                else:
                    later.append(action)
        for action in later:
            self._apply(action)

    # ---- actions ---------------------------------------------------------------------

    def _apply(self, action: Action) -> None:
        if isinstance(action, Complete):
            self._tasks.complete(action.task, action.reply)
        elif isinstance(action, Fail):
            self._tasks.fail(action.task, action.error)
        elif isinstance(action, RequestLease):
            self._request_lease(action.shape, action.task_name)
        elif isinstance(action, ReturnLease):
            self._return(action.lease, action.disconnect)
        elif isinstance(action, CallLater):
            self._loop.call_later(action.delay_s, lambda e=action.event: self._handle(e))
        elif isinstance(action, InspectDeadWorker):
            self._inspect_later(action)
        elif isinstance(action, SendCancel):
            self._canceller.cancel_task(
                action.lease.address, action.task.task_id, action.force, action.recursive
            )
        elif isinstance(action, WarnInfeasible):
            self._warn_infeasible(action.shape.resources, action.num_tasks)
        else:  # pragma: no cover - a new action without a handler
            raise AssertionError(f"unhandled action {action!r}")

    def _push(self, lease: Lease, task: NormalTask) -> None:
        spec = task.spec
        req = core_worker_pb2.PushTaskRequest(task_spec=spec)
        for name, index_list in lease.resource_ids.items():
            req.resource_ids[name].ids.extend(index_list)
        # The first task of a function (and of a job) on a lease carries its definition (and
        # the job's config): the worker runs it without asking the GCS.
        function_hash = spec.function.function_hash
        if function_hash and function_hash not in lease.sent:
            lease.sent.add(function_hash)
            record = self._function_record(function_hash)
            if record is not None:
                req.function_export.CopyFrom(record)
        if spec.job_id not in lease.sent:
            lease.sent.add(spec.job_id)
            req.job_config.CopyFrom(self._job_config(spec.job_id))
        self._pusher.push(
            lease.address, req, lambda reply, failure: self._on_pushed(task, reply, failure)
        )

    def _on_pushed(
        self,
        task: NormalTask,
        reply: core_worker_pb2.PushTaskReply | None,
        failure: rpc_errors.RpcFailure | None,
    ) -> None:
        if failure is not None:
            self._handle(self._state.push_failed, task, failure)
        else:
            self._handle(self._state.replied, task, reply, _retryable(task, reply))

    def _inspect_later(self, action: InspectDeadWorker) -> None:
        """Asks the node how the worker died, off this thread (the answer may take seconds)."""
        if not self._stopping():
            try:
                self._blocking.submit(self._inspect, action)
                return
            except RuntimeError:  # the blocking pool was shut down: this process is stopping
                pass
        self._inspect(action, ask=False)

    def _inspect(self, action: InspectDeadWorker, ask: bool = True) -> None:
        lease = action.lease
        info = None
        try:
            if ask:
                info = lease.node.failure_cause(lease.address.worker_id, timeout_s=5.0)
        except Exception as exc:  # noqa: BLE001 - the node may be gone too
            logger.debug("no failure cause: %s", exc)
        self._handle(
            self._state.worker_died,
            action.task,
            lease,
            action.failure,
            action.not_started,
            info,
            self._stopping(),
        )

    def _request_lease(
        self, shape: Shape, task_name: str, nm: object = None, spilled: bool = False
    ) -> None:
        """Asks this node for a lease (or, after a spillback, the node it named)."""
        nm = nm or self._nm
        req = node_manager_pb2.RequestWorkerLeaseRequest(
            lease_id=ids.new_unique_id(),
            job_id=self._job_id(),
            resources=shape.resources,
            scheduling_strategy=shape.strategy,
            task_name=task_name,
            timeout_ms=int(constants.LONG_POLL_S * 1000),
            requester_address=self._address,
            grant_or_reject=spilled,
            backlog=len(shape.queue),
            serialized_runtime_env=shape.runtime_env,
        )

        def done(
            reply: node_manager_pb2.RequestWorkerLeaseReply | None,
            failure: rpc_errors.RpcFailure | None,
        ) -> None:
            if failure is not None:
                if self._stopping():
                    return
                logger.warning("lease request to %s failed (%s); retrying", nm.address, failure)
                if spilled:
                    self._handle(self._state.spill_failed, shape, failure)
                else:
                    self._handle(self._state.lease_failed, shape, failure)
            elif reply.worker_address.port:
                grant = LeaseGrant(
                    req.lease_id,
                    reply.worker_address,
                    reply.worker_pid,
                    {k: [i.index for i in v.ids] for k, v in reply.resource_ids.items()},
                    nm,
                )
                self._handle(self._state.lease_granted, shape, grant)
            elif reply.spillback_node.node_id and not spilled:
                node = reply.spillback_node
                target = self._nm_at(f"{node.node_manager_address}:{node.node_manager_port}")
                self._request_lease(shape, task_name, target, spilled=True)
            elif reply.error:
                self._handle(self._state.lease_unschedulable, shape, reply.error)
            else:
                self._handle(self._state.lease_not_granted, shape, reply.infeasible)

        nm.request_lease_async(req, constants.LONG_POLL_S + constants.RPC_TIMEOUT_S, done)

    def _return(self, lease: Lease, disconnect: bool) -> None:
        try:
            lease.node.return_worker(lease.lease_id, disconnect)
        except Exception as err:  # noqa: BLE001 - the node may be gone
            logger.debug("return_worker failed: %s", err)


def _retryable(task: NormalTask, reply: core_worker_pb2.PushTaskReply) -> bool:
    """With `retry_exceptions=[types]`, only those exceptions are retried."""
    types = task.retry_types
    if types is None or not reply.is_application_error:
        return True
    if not reply.return_objects:
        return False
    value = serialization.deserialize(reply.return_objects[0].data)
    if not isinstance(value, serialization.ErrorValue):
        return False
    return isinstance(errors.to_exception(value.info), types)
