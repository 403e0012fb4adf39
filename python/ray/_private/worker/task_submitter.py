"""Submits normal tasks: resolves their dependencies, leases workers and pushes tasks to them.

The hot path (DESIGN.md section 3): a lease is requested once per resource
shape and reused for every queued task of that shape; it is returned when no
task has needed it for a short while.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import grpc

from ray import exceptions as rex
from ray._private import constants, ids, serialization
from ray._private.generated import common_pb2, core_worker_pb2, node_manager_pb2
from ray._private.worker import errors, push_stream
from ray._private.worker.task_manager import TaskEntry

if TYPE_CHECKING:
    from ray._private.worker.core_worker import CoreWorker

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class LeasedWorker:
    lease_id: bytes
    address: common_pb2.Address
    pid: int
    resource_ids: dict[str, list[int]]
    nm: object
    in_flight: int = 0
    # No task is queued behind a running one on this worker before this time.
    pipeline_after: float = 0.0
    dead: bool = False
    idle_epoch: int = 0
    # Tasks pushed and not answered, in push order.
    tasks: dict = field(default_factory=dict)


@dataclass(eq=False)
class _KeyState:
    resources: dict[str, float]
    strategy: common_pb2.SchedulingStrategy
    queue: deque = field(default_factory=deque)
    workers: list[LeasedWorker] = field(default_factory=list)
    pending_leases: int = 0
    warned_infeasible: bool = False
    lease_failures: int = 0


class NormalTaskSubmitter:
    """Queues ready tasks per resource shape and pushes them to leased workers."""

    def __init__(self, cw: CoreWorker) -> None:
        self._cw = cw
        self._lock = threading.RLock()
        self._keys: dict[tuple, _KeyState] = {}
        self._max_in_flight = constants.MAX_TASKS_IN_FLIGHT_PER_WORKER

    # ---- submission ------------------------------------------------------------------

    def submit(self, entry: TaskEntry) -> None:
        self._cw.resolver.resolve(entry, self.queue)

    def queue(self, entry: TaskEntry) -> None:
        if entry.cancelled:
            self._cw.task_manager.fail(entry, rex.TaskCancelledError(entry.spec.task_id.hex()))
            return
        spec = entry.spec
        key = (
            tuple(sorted(spec.required_resources.items())),
            spec.scheduling_strategy.SerializeToString(),
        )
        with self._lock:
            ks = self._keys.get(key)
            if ks is None:
                ks = _KeyState(dict(spec.required_resources), spec.scheduling_strategy)
                self._keys[key] = ks
            entry.key = ks
            ks.queue.append(entry)
            self._pump(ks)

    # ---- leases ----------------------------------------------------------------------

    def _pump(self, ks: _KeyState) -> None:
        """Pushes queued tasks to workers with room; asks for a lease if tasks are left. Lock held."""
        now = time.monotonic()
        while ks.queue:
            # An idle worker first; else queue the task behind a running one (the worker
            # gives it back if that one blocks or runs long).
            may_wait = ks.queue[0].spec.max_calls == 0
            worker = None
            for w in ks.workers:
                if w.dead:
                    continue
                if w.in_flight == 0:
                    worker = w
                    break
                if (
                    may_wait
                    and w.in_flight < self._max_in_flight
                    and now >= w.pipeline_after
                    and (worker is None or w.in_flight < worker.in_flight)
                ):
                    worker = w
            if worker is None:
                break
            self._push(worker, ks.queue.popleft())
        if ks.queue and ks.pending_leases == 0:
            self._request_lease(ks)
        for w in ks.workers:
            if w.in_flight == 0 and not ks.queue:
                self._schedule_idle_return(ks, w)

    def _request_lease(self, ks: _KeyState, nm: object | None = None) -> None:
        cw = self._cw
        nm = nm or cw.nm
        ks.pending_leases += 1
        head = ks.queue[0].spec if ks.queue else None
        req = node_manager_pb2.RequestWorkerLeaseRequest(
            lease_id=ids.new_unique_id(),
            job_id=cw.job_id,
            resources=ks.resources,
            scheduling_strategy=ks.strategy,
            task_name=head.name if head else "",
            timeout_ms=int(constants.LONG_POLL_S * 1000),
            requester_address=cw.address,
        )
        fut = nm.request_lease_future(req, constants.LONG_POLL_S + constants.RPC_TIMEOUT_S)
        fut.add_done_callback(lambda f: self._on_lease_reply(ks, nm, req.lease_id, f))

    def _on_lease_reply(self, ks: _KeyState, nm: object, lease_id: bytes, fut: grpc.Future) -> None:
        cw = self._cw
        try:
            reply = fut.result()
        except grpc.RpcError as err:
            with self._lock:
                ks.pending_leases -= 1
                ks.lease_failures += 1
                failures = ks.lease_failures
            if cw.shutting_down:
                return
            logger.warning("lease request failed (%s); retrying", err.code())
            if failures > 20:
                self._fail_queue(
                    ks, rex.RaySystemError(f"the node manager is unreachable: {err.details()}")
                )
                return
            cw.timers.call_later(min(0.1 * failures, 2.0), lambda: self._retry_lease(ks))
            return
        with self._lock:
            ks.pending_leases -= 1
            ks.lease_failures = 0
            if reply.worker_address.port:
                w = LeasedWorker(
                    lease_id,
                    reply.worker_address,
                    reply.worker_pid,
                    {k: [i.index for i in v.ids] for k, v in reply.resource_ids.items()},
                    nm,
                )
                ks.workers.append(w)
                self._pump(ks)
                return
            if reply.infeasible:
                if not ks.warned_infeasible:
                    ks.warned_infeasible = True
                    cw.warn_infeasible(ks.resources, len(ks.queue))
                cw.timers.call_later(1.0, lambda: self._retry_lease(ks))
                return
            if ks.queue:
                self._pump(ks)

    def _retry_lease(self, ks: _KeyState) -> None:
        with self._lock:
            if ks.queue and ks.pending_leases == 0 and not self._cw.shutting_down:
                self._request_lease(ks)

    def _schedule_idle_return(self, ks: _KeyState, w: LeasedWorker) -> None:
        w.idle_epoch += 1
        epoch = w.idle_epoch
        self._cw.timers.call_later(
            constants.IDLE_LEASE_TIMEOUT_S, lambda: self._maybe_return(ks, w, epoch)
        )

    def _maybe_return(self, ks: _KeyState, w: LeasedWorker, epoch: int) -> None:
        with self._lock:
            if w.idle_epoch != epoch or w.in_flight or ks.queue or w.dead or w not in ks.workers:
                return
            ks.workers.remove(w)
        self._return(w)

    def _return(self, w: LeasedWorker, disconnect: bool = False) -> None:
        try:
            w.nm.return_worker(w.lease_id, disconnect)
        except Exception as err:  # noqa: BLE001 - the node may be gone
            logger.debug("return_worker failed: %s", err)

    def return_all(self) -> None:
        with self._lock:
            workers = [w for ks in self._keys.values() for w in ks.workers]
            for ks in self._keys.values():
                ks.workers.clear()
        for w in workers:
            self._return(w)

    def _fail_queue(self, ks: _KeyState, exc: BaseException) -> None:
        with self._lock:
            entries = list(ks.queue)
            ks.queue.clear()
        for entry in entries:
            self._cw.task_manager.fail(entry, exc)

    # ---- pushing ---------------------------------------------------------------------

    def _push(self, w: LeasedWorker, entry: TaskEntry) -> None:
        """Sends one task to a leased worker. Lock held."""
        w.in_flight += 1
        w.idle_epoch += 1
        entry.worker = w
        # The task it waits behind on the worker, if any (see _on_push_done).
        entry.extra["behind"] = next(reversed(w.tasks.values()), None)
        entry.extra["answered"] = False
        w.tasks[entry.spec.task_id] = entry
        req = core_worker_pb2.PushTaskRequest(task_spec=entry.spec)
        for name, index_list in w.resource_ids.items():
            req.resource_ids[name].ids.extend(index_list)
        self._cw.push_streams.push(
            w.address, req, lambda reply, err: self._on_push_done(w, entry, reply, err)
        )

    def _on_push_done(
        self,
        w: LeasedWorker,
        entry: TaskEntry,
        reply: core_worker_pb2.PushTaskReply | None,
        err: grpc.RpcError | None,
    ) -> None:
        cw = self._cw
        ks = entry.key
        if err is not None:
            # A task still waiting behind an unanswered one had not started when the
            # worker died: it gets another try that does not use a retry (at most 3).
            behind = entry.extra.pop("behind", None)
            not_started = (
                behind is not None
                and not behind.extra.get("answered")
                and entry.extra.get("free_retries", 0) < 3
            )
            with self._lock:
                w.in_flight -= 1
                w.tasks.pop(entry.spec.task_id, None)
                if not w.dead:
                    w.dead = True
                    if w in ks.workers:
                        ks.workers.remove(w)
            cw.callbacks.submit(self._handle_worker_failure, w, entry, err, not_started)
            return
        entry.extra["answered"] = True
        entry.extra.pop("behind", None)
        if reply.not_run:
            self._given_back(w, entry)
            return
        with self._lock:
            w.in_flight -= 1
            w.tasks.pop(entry.spec.task_id, None)
            exiting = reply.worker_exiting and not w.dead
            if exiting:
                w.dead = True
                if w in ks.workers:
                    ks.workers.remove(w)
        if exiting:
            self._return(w, disconnect=True)
        if (
            reply.is_application_error
            and entry.spec.retry_exceptions
            and entry.retries_left != 0
            and not entry.cancelled
            and _retryable(entry, reply)
        ):
            self._retry(entry)
        else:
            cw.task_manager.complete(entry, reply)
        with self._lock:
            self._pump(ks)

    def _given_back(self, w: LeasedWorker, entry: TaskEntry) -> None:
        """The worker did not run the task (the one ahead of it blocked or ran long)."""
        with self._lock:
            w.in_flight -= 1
            w.tasks.pop(entry.spec.task_id, None)
            w.pipeline_after = time.monotonic() + constants.PIPELINE_BACKOFF_S
            entry.worker = None
            if not entry.cancelled:
                entry.key.queue.appendleft(entry)
                self._pump(entry.key)
                return
        self._cw.task_manager.fail(entry, rex.TaskCancelledError(entry.spec.task_id.hex()))
        with self._lock:
            self._pump(entry.key)

    def _handle_worker_failure(
        self, w: LeasedWorker, entry: TaskEntry, err: grpc.RpcError, not_started: bool = False
    ) -> None:
        """The worker died (or is unreachable) with the task: retry it or fail with the cause."""
        cw = self._cw
        info = None
        try:
            info = w.nm.failure_cause(w.address.worker_id, timeout_s=5.0)
        except Exception as exc:  # noqa: BLE001 - the node may be gone too
            logger.debug("no failure cause: %s", exc)
        if info is None:
            # Unreachable but maybe alive: make sure the lease ends.
            self._return(w, disconnect=True)
        if entry.cancelled:
            cw.task_manager.fail(entry, rex.TaskCancelledError(entry.spec.task_id.hex()))
        elif isinstance(err, push_stream.NotSent) and not cw.shutting_down:
            self._retry(entry, count=False)  # the worker never saw it
        elif not_started and not cw.shutting_down:
            entry.extra["free_retries"] = entry.extra.get("free_retries", 0) + 1
            self._retry(entry, count=False)
        elif entry.retries_left != 0 and not cw.shutting_down:
            logger.info(
                "task %s failed because its worker died (%s); retrying",
                entry.spec.name,
                info.description if info else err.code(),
            )
            self._retry(entry)
        else:
            cw.task_manager.fail(entry, cw.task_manager.crash_error(entry, info, w.pid))
        with self._lock:
            if entry.key is not None:
                self._pump(entry.key)

    def _retry(self, entry: TaskEntry, count: bool = True) -> None:
        if count:
            if entry.retries_left > 0:
                entry.retries_left -= 1
            entry.spec.attempt_number += 1
        entry.worker = None
        with self._lock:
            entry.key.queue.append(entry)
            self._pump(entry.key)

    # ---- cancellation ----------------------------------------------------------------

    def cancel(self, entry: TaskEntry, force: bool, recursive: bool) -> None:
        entry.cancelled = True
        entry.force_cancel = force
        with self._lock:
            ks = entry.key
            queued = ks is not None and entry in ks.queue
            if queued:
                ks.queue.remove(entry)
            worker = entry.worker
        if queued or (entry.pending_deps > 0 and worker is None):
            self._cw.task_manager.fail(entry, rex.TaskCancelledError(entry.spec.task_id.hex()))
            return
        if worker is not None:
            self._cw.worker_client(worker.address).cancel_task(entry.spec.task_id, force, recursive)


def _retryable(entry: TaskEntry, reply: core_worker_pb2.PushTaskReply) -> bool:
    """With `retry_exceptions=[types]`, only those exceptions are retried."""
    types = entry.extra.get("retry_types")
    if types is None:
        return True
    if not reply.return_objects:
        return False
    value = serialization.deserialize(reply.return_objects[0].data)
    if not isinstance(value, serialization.ErrorValue):
        return False
    return isinstance(errors.to_exception(value.info), types)
