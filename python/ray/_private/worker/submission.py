"""Normal task submission as explicit state: events in, actions out (sans-IO).

`SubmissionState` holds the queues and leases of one process and applies the
submitter's rules; `task_submitter.py` feeds it events (a task is ready, a lease
was granted, a push was answered or lost, a timer fired) and carries out the
actions it returns (request a lease, push a task, return a lease, complete or
fail a task, ...). Tests drive it directly, without processes or sockets.

The rules (DESIGN.md section 3):

- queue: a ready task joins the queue of its shape (resources + strategy + runtime env).
- lease: a shape with queued tasks keeps lease requests in flight, as many as its
  queue could fill (`max_in_flight` tasks per lease) up to `max_pending_leases`, so a
  burst gets its workers (spilled ones too) in one round of requests rather than one
  after another; after a failed request it asks for one at a time until one succeeds.
  A granted lease is reused for every queued task of the shape.
- push: a queued task goes to an idle worker of its shape, else it waits on a
  busy one behind the task it runs (pipelining): at most `max_in_flight` per
  worker, not on a worker in its back-off, never for `max_calls` tasks, least
  loaded first.
- give-back: a worker hands back a task waiting behind one that blocked or ran
  long (`reply.not_run`): it goes back to the head of its queue without using a
  retry, and that worker gets no waiting task for `pipeline_backoff_s`.
- reply: completes the task, unless it raised and `retry_exceptions` allows a
  retry (retries left, and the exception's type is retryable).
- worker death: the lease is dead. A task the worker never got (`NotSent`) is
  queued again for free; so is one that waited behind a task with no answer
  yet (it had not started; at most `max_free_retries` times). Otherwise it is
  retried while `max_retries` allows, then fails with `WorkerCrashedError`
  naming how the worker died (the node is asked first).
- idle: a lease with nothing to do for `idle_lease_s` is returned.
- cancel: a queued (or still unresolved) task fails at once; a pushed one gets
  a cancel sent to its worker.
- lease failures: retried with back-off; after `max_lease_failures` in a row
  the shape's queue fails. An infeasible request warns once and is retried; one
  that can never be granted (hard node affinity) fails the shape's queue.
- spillback: a node may answer "ask that node"; the adapter asks it (the lease
  request stays the same one here).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

from ray import exceptions as rex
from ray._private import constants
from ray._private.generated import common_pb2, core_worker_pb2
from ray._private.rpc.push_stream import NotSent
from ray._private.worker.task_manager import cancelled_error, crash_error
from ray._private.worker.tasks import NormalTask, TaskState

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Lease:
    """A worker leased from a node manager."""

    lease_id: bytes
    address: common_pb2.Address
    pid: int
    resource_ids: dict[str, list[int]]
    # The node manager to return it to (opaque here).
    node: Any = None
    # Tasks pushed and not answered, in push order.
    tasks: dict[bytes, NormalTask] = field(default_factory=dict)
    # No task waits behind a running one on this worker before this time.
    pipeline_after: float = 0.0
    dead: bool = False
    # Function hashes and jobs whose definition and config went to the worker already.
    sent: set = field(default_factory=set)
    # When it last became idle (0: busy), and whether an idle check is scheduled. One check
    # is pending per idle lease at most (not one per task that finished on it).
    idle_since: float = 0.0
    idle_check: bool = False

    @property
    def in_flight(self) -> int:
        return len(self.tasks)


@dataclass(eq=False)
class Shape:
    """The tasks of one resource shape and scheduling strategy, and their leases."""

    resources: dict[str, float]
    strategy: common_pb2.SchedulingStrategy
    queue: deque = field(default_factory=deque)
    leases: list[Lease] = field(default_factory=list)
    pending_lease_requests: int = 0
    warned_infeasible: bool = False
    lease_failures: int = 0
    # Its leases' workers run in this runtime env (JSON; "" for none).
    runtime_env: str = ""


class LeaseGrant(NamedTuple):
    lease_id: bytes
    address: common_pb2.Address
    pid: int
    resource_ids: dict[str, list[int]]
    node: Any = None


# ---- actions ---------------------------------------------------------------------------


class RequestLease(NamedTuple):
    shape: Shape
    # The first queued task, for the node's logs.
    task_name: str


class Push(NamedTuple):
    lease: Lease
    task: NormalTask


class ReturnLease(NamedTuple):
    lease: Lease
    disconnect: bool


class Complete(NamedTuple):
    task: NormalTask
    reply: core_worker_pb2.PushTaskReply


class Fail(NamedTuple):
    task: NormalTask
    error: BaseException


class InspectDeadWorker(NamedTuple):
    """Ask the node how the worker died, then feed `worker_died`."""

    lease: Lease
    task: NormalTask
    failure: BaseException
    not_started: bool


class SendCancel(NamedTuple):
    lease: Lease
    task: NormalTask
    force: bool
    recursive: bool


class CallLater(NamedTuple):
    """Feed `event()` (a bound method of the state) after `delay_s`."""

    delay_s: float
    event: Callable[[], list]


class WarnInfeasible(NamedTuple):
    shape: Shape
    num_tasks: int


Action = (
    RequestLease
    | Push
    | ReturnLease
    | Complete
    | Fail
    | InspectDeadWorker
    | SendCancel
    | CallLater
    | WarnInfeasible
)


class SubmissionState:
    """The queues and leases of one process. Not thread-safe: the adapter serializes calls."""

    def __init__(
        self,
        max_in_flight: int,
        idle_lease_s: float,
        pipeline_backoff_s: float,
        max_lease_failures: int = 20,
        max_free_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
        max_pending_leases: int = 1,
    ) -> None:
        self.max_in_flight = max_in_flight
        self.max_pending_leases = max(1, max_pending_leases)
        self.idle_lease_s = idle_lease_s
        self.pipeline_backoff_s = pipeline_backoff_s
        self.max_lease_failures = max_lease_failures
        self.max_free_retries = max_free_retries
        self._clock = clock
        self.shapes: dict[tuple, Shape] = {}

    # ---- submission ------------------------------------------------------------------

    def submit(self, task: NormalTask) -> list[Action]:
        """A task whose owned arguments are ready."""
        if task.cancelled:
            return [Fail(task, cancelled_error(task))]
        spec = task.spec
        key = (
            tuple(sorted(spec.required_resources.items())),
            spec.scheduling_strategy.SerializeToString(),
            spec.serialized_runtime_env,
        )
        shape = self.shapes.get(key)
        if shape is None:
            shape = Shape(
                dict(spec.required_resources),
                spec.scheduling_strategy,
                runtime_env=spec.serialized_runtime_env,
            )
            self.shapes[key] = shape
        task.shape = shape
        task.state = TaskState.QUEUED
        shape.queue.append(task)
        return self._pump(shape)

    def _pump(self, shape: Shape) -> list[Action]:
        """Pushes queued tasks to workers with room; asks for a lease if tasks are left."""
        actions: list[Action] = []
        queue = shape.queue
        if queue:
            now = self._clock()
            max_in_flight = self.max_in_flight
            while queue:
                may_wait = queue[0].spec.max_calls == 0
                lease = None
                best = max_in_flight
                for candidate in shape.leases:
                    if candidate.dead:
                        continue
                    busy = len(candidate.tasks)
                    if busy == 0:
                        lease = candidate
                        break
                    if may_wait and busy < best and now >= candidate.pipeline_after:
                        lease, best = candidate, busy
                if lease is None:
                    break
                actions.append(self._push(lease, queue.popleft()))
            if queue:
                actions += self._request_leases(shape)
        if not queue:
            for lease in shape.leases:
                if not lease.tasks:
                    if not lease.idle_since:
                        lease.idle_since = self._clock()
                    if not lease.idle_check:
                        lease.idle_check = True
                        actions.append(
                            CallLater(self.idle_lease_s, partial(self.idle_timeout, lease))
                        )
        return actions

    def _request_leases(self, shape: Shape) -> list[Action]:
        """Lease requests for the queue: enough to run it all, within the bounds (see the
        module docstring); one at a time while requests fail."""
        if shape.lease_failures:
            wanted = 1
        else:
            per_lease = max(self.max_in_flight, 1)
            wanted = min(self.max_pending_leases, -(-len(shape.queue) // per_lease))
        actions: list[Action] = []
        name = shape.queue[0].spec.name
        while shape.pending_lease_requests < wanted:
            shape.pending_lease_requests += 1
            actions.append(RequestLease(shape, name))
        return actions

    def _push(self, lease: Lease, task: NormalTask) -> Push:
        lease.idle_since = 0.0
        task.lease = lease
        task.state = TaskState.PUSHED
        # The task it waits behind on the worker, if any (see push_failed).
        task.behind = next(reversed(lease.tasks.values()), None)
        task.answered = False
        lease.tasks[task.task_id] = task
        return Push(lease, task)

    # ---- leases ----------------------------------------------------------------------

    def lease_granted(self, shape: Shape, grant: LeaseGrant) -> list[Action]:
        shape.pending_lease_requests -= 1
        shape.lease_failures = 0
        lease = Lease(grant.lease_id, grant.address, grant.pid, grant.resource_ids, grant.node)
        shape.leases.append(lease)
        return self._pump(shape)

    def lease_not_granted(self, shape: Shape, infeasible: bool) -> list[Action]:
        """The node answered without a worker: infeasible, or cancelled (ask again)."""
        shape.pending_lease_requests -= 1
        shape.lease_failures = 0
        if infeasible:
            actions: list[Action] = []
            if not shape.warned_infeasible:
                shape.warned_infeasible = True
                actions.append(WarnInfeasible(shape, len(shape.queue)))
            actions.append(CallLater(1.0, partial(self.retry_lease, shape)))
            return actions
        return self._pump(shape)

    def spill_failed(self, shape: Shape, failure: BaseException) -> list[Action]:
        """The node a request was spilled to did not answer (it may have died): ask this
        node again soon. Not a failure of this node, so it does not count toward failing."""
        shape.pending_lease_requests -= 1
        return [CallLater(0.5, partial(self.retry_lease, shape))]

    def lease_unschedulable(self, shape: Shape, error: str) -> list[Action]:
        """The node says the shape can never be granted (hard affinity): its tasks fail."""
        shape.pending_lease_requests -= 1
        tasks = list(shape.queue)
        shape.queue.clear()
        if shape.runtime_env and error.startswith(constants.RUNTIME_ENV_SETUP_FAILED):
            return [Fail(task, rex.RuntimeEnvSetupError(error)) for task in tasks]
        return [Fail(task, rex.TaskUnschedulableError(error)) for task in tasks]

    def lease_failed(self, shape: Shape, failure: BaseException) -> list[Action]:
        shape.pending_lease_requests -= 1
        if shape.pending_lease_requests > 0:
            # Another request of the shape is still out: its answer decides what comes next.
            # Until a request succeeds the shape asks for one lease at a time, so a node that
            # is down costs one failure per round, as with a single request.
            shape.lease_failures = max(shape.lease_failures, 1)
            return []
        shape.lease_failures += 1
        if shape.lease_failures > self.max_lease_failures:
            tasks = list(shape.queue)
            shape.queue.clear()
            error = rex.RaySystemError(f"the node manager is unreachable: {failure}")
            return [Fail(task, error) for task in tasks]
        return [CallLater(min(0.1 * shape.lease_failures, 2.0), partial(self.retry_lease, shape))]

    def retry_lease(self, shape: Shape) -> list[Action]:
        if shape.queue and shape.pending_lease_requests == 0:
            shape.pending_lease_requests += 1
            return [RequestLease(shape, shape.queue[0].spec.name)]
        return []

    def idle_timeout(self, lease: Lease) -> list[Action]:
        """Returns the lease if it has been idle for idle_lease_s; else looks again later."""
        lease.idle_check = False
        shape = self._shape_of(lease)
        if lease.tasks or lease.dead or shape is None or shape.queue or not lease.idle_since:
            return []  # busy: the next idle spell schedules a new check
        left = lease.idle_since + self.idle_lease_s - self._clock()
        if left > 0:
            lease.idle_check = True
            return [CallLater(left, partial(self.idle_timeout, lease))]
        shape.leases.remove(lease)
        return [ReturnLease(lease, False)]

    def _shape_of(self, lease: Lease) -> Shape | None:
        for shape in self.shapes.values():
            if lease in shape.leases:
                return shape
        return None

    # ---- replies ---------------------------------------------------------------------

    def replied(
        self, task: NormalTask, reply: core_worker_pb2.PushTaskReply, retryable: bool = True
    ) -> list[Action]:
        """The worker answered. `retryable`: the exception it raised may be retried."""
        lease, shape = task.lease, task.shape
        task.answered = True
        task.behind = None
        lease.tasks.pop(task.task_id, None)
        if reply.not_run:
            return self._given_back(lease, task)
        actions: list[Action] = []
        if reply.worker_exiting and not lease.dead:
            lease.dead = True
            if lease in shape.leases:
                shape.leases.remove(lease)
            actions.append(ReturnLease(lease, True))
        if (
            reply.is_application_error
            and task.spec.retry_exceptions
            and task.retries_left != 0
            and not task.cancelled
            and retryable
        ):
            actions += self._retry(task, count=True)
        else:
            actions.append(Complete(task, reply))
            actions += self._pump(shape)
        return actions

    def _given_back(self, lease: Lease, task: NormalTask) -> list[Action]:
        lease.pipeline_after = self._clock() + self.pipeline_backoff_s
        task.lease = None
        if task.cancelled:
            return [Fail(task, cancelled_error(task)), *self._pump(task.shape)]
        task.state = TaskState.QUEUED
        task.shape.queue.appendleft(task)
        return self._pump(task.shape)

    def push_failed(self, task: NormalTask, failure: BaseException) -> list[Action]:
        """The push was lost: the worker died, or the connection to it broke."""
        lease, shape = task.lease, task.shape
        # A task still waiting behind an unanswered one had not started when the worker
        # died: it gets another try that does not use a retry.
        behind = task.behind
        task.behind = None
        not_started = (
            behind is not None and not behind.answered and task.free_retries < self.max_free_retries
        )
        lease.tasks.pop(task.task_id, None)
        if not lease.dead:
            lease.dead = True
            if lease in shape.leases:
                shape.leases.remove(lease)
        return [InspectDeadWorker(lease, task, failure, not_started)]

    def worker_died(
        self,
        task: NormalTask,
        lease: Lease,
        failure: BaseException,
        not_started: bool,
        info: common_pb2.WorkerExitInfo | None,
        stopping: bool = False,
    ) -> list[Action]:
        """How the worker died is known (`info`, None if the node did not say): decide."""
        actions: list[Action] = []
        if info is None:
            actions.append(ReturnLease(lease, True))  # unreachable but maybe alive: end it
        if task.cancelled:
            actions.append(Fail(task, cancelled_error(task)))
        elif isinstance(failure, NotSent) and not stopping:
            actions += self._retry(task, count=False)  # the worker never saw it
        elif not_started and not stopping:
            task.free_retries += 1
            actions += self._retry(task, count=False)
        elif task.retries_left != 0 and not stopping:
            logger.info(
                "task %s failed because its worker died (%s); retrying",
                task.name,
                info.description if info else failure,
            )
            actions += self._retry(task, count=True)
        else:
            actions.append(Fail(task, crash_error(task, info, lease.pid)))
        if task.shape is not None:
            actions += self._pump(task.shape)
        return actions

    def _retry(self, task: NormalTask, count: bool) -> list[Action]:
        if count:
            if task.retries_left > 0:
                task.retries_left -= 1
            task.spec.attempt_number += 1
        task.lease = None
        task.state = TaskState.QUEUED
        task.shape.queue.append(task)
        return self._pump(task.shape)

    # ---- cancellation and shutdown ---------------------------------------------------

    def cancel(self, task: NormalTask, force: bool, recursive: bool) -> list[Action]:
        task.cancelled = True
        task.force_cancel = force
        shape = task.shape
        if shape is not None and task in shape.queue:
            shape.queue.remove(task)
            return [Fail(task, cancelled_error(task))]
        if task.state == TaskState.WAITING_FOR_DEPS:
            return [Fail(task, cancelled_error(task))]
        if task.state == TaskState.PUSHED and task.lease is not None:
            return [SendCancel(task.lease, task, force, recursive)]
        return []

    def drain(self) -> list[Action]:
        """Returns every lease (the process is stopping). A worker still running a task of
        this process is returned with disconnect (the node manager ends it): nobody waits for
        that task any more, and an idle-marked busy worker would block the next tasks."""
        actions: list[Action] = []
        for shape in self.shapes.values():
            actions += [ReturnLease(lease, bool(lease.tasks)) for lease in shape.leases]
            shape.leases.clear()
        return actions
