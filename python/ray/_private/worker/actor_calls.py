"""Actor calls as explicit state: per actor, the calls not yet sent and those in flight (sans-IO).

`ActorCallsState` applies the rules; `actor_submitter.py` feeds it events and
carries out its actions. Tests drive it without processes or sockets.

The rules (DESIGN.md sections 3 and 7):

- order: calls of one caller to one actor are sent in submission order, each
  with the next sequence number of the actor's current worker (a new worker
  starts again at 0). A call waits for its owned arguments; later calls wait
  behind it. At most `max_in_flight` calls are in flight.
- address: calls wait until the actor's address is known (after creation, a
  restart, or a failed call); `ResolveActor` asks the GCS.
- failure of a call in flight: if it never reached the actor it is sent again
  to the restarted actor; else it is retried there while `max_task_retries`
  allows; otherwise it is failed once the new address is known (the actor
  restarted) or the actor is dead.
- exceptions: a call that raised is sent again while `max_task_retries` allows if
  it was made with `retry_exceptions` (True, or a list the exception is one of).
- death: every pending, lost and in-flight call fails with the death's cause,
  and so does every later call.
- scope: an actor this process created (not detached) whose handles all went
  out of scope is killed once it has nothing pending or in flight.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ray._private import serialization
from ray._private.generated import common_pb2, core_worker_pb2
from ray._private.rpc import errors as rpc_errors
from ray._private.rpc.push_stream import NotSent
from ray._private.worker import errors
from ray._private.worker.task_manager import cancelled_error
from ray._private.worker.tasks import ActorCall, TaskState

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class ActorQueue:
    """One actor as this process calls it."""

    actor_id: bytes
    class_name: str
    pending: deque = field(default_factory=deque)
    in_flight: dict[bytes, ActorCall] = field(default_factory=dict)
    address: common_pb2.Address | None = None
    next_seq: int = 0
    # The worker the sequence numbers count for.
    seq_worker: bytes = b""
    max_in_flight: int = 32
    dead: common_pb2.ErrorInfo | None = None
    resolving: bool = False
    # The worker a call failed on: its address is stale until the GCS says otherwise.
    failed_worker: bytes = b""
    # Calls in flight when their worker failed, that may not be retried.
    lost: list[ActorCall] = field(default_factory=list)
    # Created by this process (it owns the actor's lifetime unless detached).
    owned: bool = False
    detached: bool = False
    out_of_scope: bool = False
    killed_for_scope: bool = False
    creation_arg_ids: list[bytes] = field(default_factory=list)
    creation_keep: list[Any] = field(default_factory=list)
    # Since when the GCS has not answered while the address is being looked up (0: it does).
    gcs_silent_since: float = 0.0


# ---- actions ---------------------------------------------------------------------------


class PushCall(NamedTuple):
    queue: ActorQueue
    address: common_pb2.Address
    request: core_worker_pb2.PushTaskRequest
    call: ActorCall


class CompleteCall(NamedTuple):
    call: ActorCall
    reply: core_worker_pb2.PushTaskReply


class FailCall(NamedTuple):
    call: ActorCall
    error: BaseException


class ResolveActor(NamedTuple):
    """Find the actor's live address (GCS), then feed address_found or actor_dead."""

    queue: ActorQueue


class ReleaseArgs(NamedTuple):
    arg_ids: list[bytes]


class KillOutOfScope(NamedTuple):
    actor_id: bytes


class CancelCall(NamedTuple):
    address: common_pb2.Address
    call: ActorCall


ActorAction = (
    PushCall | CompleteCall | FailCall | ResolveActor | ReleaseArgs | KillOutOfScope | CancelCall
)

_RESTARTED = (
    "The actor died unexpectedly before finishing this task; it has been restarted. Set "
    "max_task_retries to retry calls that were running."
)
_CONNECTION_LOST = (
    "The connection to the actor failed while this call was in flight; it may or may not have "
    "run. Set max_task_retries to retry such calls."
)


class ActorCallsState:
    """Every actor this process calls. Not thread-safe: the adapter serializes calls."""

    def __init__(self) -> None:
        self.queues: dict[bytes, ActorQueue] = {}
        # Handle objects of actors created here -> actor id.
        self.handle_objects: dict[bytes, bytes] = {}

    def queue(self, actor_id: bytes, class_name: str = "") -> ActorQueue:
        aq = self.queues.get(actor_id)
        if aq is None:
            aq = ActorQueue(actor_id, class_name)
            self.queues[actor_id] = aq
        return aq

    # ---- events ----------------------------------------------------------------------

    def created(
        self,
        actor_id: bytes,
        class_name: str,
        handle_oid: bytes,
        arg_ids: list[bytes],
        keep: list[Any],
        detached: bool,
    ) -> list[ActorAction]:
        """This process created the actor (it owns its lifetime unless detached)."""
        aq = self.queue(actor_id, class_name)
        aq.owned = True
        aq.detached = detached
        aq.creation_arg_ids = arg_ids
        aq.creation_keep = keep
        self.handle_objects[handle_oid] = actor_id
        return self._resolve(aq)

    def submit(self, call: ActorCall, max_in_flight: int) -> list[ActorAction]:
        aq = self.queues.get(call.actor_id) or self.queue(call.actor_id)
        aq.max_in_flight = max_in_flight
        if aq.dead is not None:
            return [FailCall(call, errors.actor_died_error(aq.actor_id, aq.dead))]
        aq.pending.append(call)
        if aq.address is None:
            return self._resolve(aq)
        return self._send(aq) if call.state is not TaskState.WAITING_FOR_DEPS else []

    def call_ready(self, call: ActorCall) -> list[ActorAction]:
        """The call's owned arguments are ready."""
        return self._send(self.queue(call.actor_id))

    def _send(self, aq: ActorQueue) -> list[ActorAction]:
        """Sends resolved calls at the head of the queue, in order."""
        actions: list[ActorAction] = []
        pending = aq.pending
        while (
            pending
            and aq.address is not None
            and aq.dead is None
            and len(aq.in_flight) < aq.max_in_flight
        ):
            call = pending[0]
            state = call.state
            if state is TaskState.FINISHED:
                pending.popleft()
                continue
            if state is TaskState.WAITING_FOR_DEPS:
                break
            pending.popleft()
            call.spec.sequence_number = aq.next_seq
            aq.next_seq += 1
            call.sent_to = aq.address
            call.state = TaskState.PUSHED
            aq.in_flight[call.task_id] = call
            request = call.request or core_worker_pb2.PushTaskRequest(
                task_spec=call.spec, caller_worker_id=call.spec.caller_address.worker_id
            )
            call.request = None  # later sends build a new request around the same spec
            actions.append(PushCall(aq, aq.address, request, call))
        if aq.out_of_scope:
            actions += self._maybe_kill_out_of_scope(aq)
        return actions

    def call_replied(
        self, call: ActorCall, address: common_pb2.Address, reply: core_worker_pb2.PushTaskReply
    ) -> list[ActorAction]:
        aq = self.queues.get(call.actor_id) or self.queue(call.actor_id)
        aq.in_flight.pop(call.task_id, None)
        if reply.is_application_error and _retry_on_error(call, reply):
            if call.retries_left > 0:
                call.retries_left -= 1
            call.spec.attempt_number += 1
            self._requeue(aq, call)
            return self._send(aq)
        actions: list[ActorAction] = [CompleteCall(call, reply)]
        actions += self._send(aq)
        if (
            reply.worker_exiting
            and aq.address is not None
            and aq.address.worker_id == address.worker_id
        ):
            aq.address = None
            aq.failed_worker = address.worker_id
            actions += self._resolve(aq)
        if aq.out_of_scope:
            actions += self._maybe_kill_out_of_scope(aq)
        return actions

    def call_failed(
        self, call: ActorCall, address: common_pb2.Address, failure: BaseException
    ) -> list[ActorAction]:
        aq = self.queue(call.actor_id)
        aq.in_flight.pop(call.task_id, None)
        if aq.address is not None and aq.address.worker_id == address.worker_id:
            aq.address = None
        aq.failed_worker = address.worker_id
        if never_delivered(failure) and not call.cancelled:
            self._requeue(aq, call)  # it never ran: send it to the restarted actor
        elif call.retries_left != 0 and not call.cancelled:
            if call.retries_left > 0:
                call.retries_left -= 1
            call.spec.attempt_number += 1
            self._requeue(aq, call)
        else:
            aq.lost.append(call)
        return self._resolve(aq)

    def _requeue(self, aq: ActorQueue, call: ActorCall) -> None:
        call.state = TaskState.QUEUED
        call.sent_to = None
        items = list(aq.pending)
        index = next((i for i, c in enumerate(items) if c.order > call.order), len(items))
        aq.pending.insert(index, call)

    def _resolve(self, aq: ActorQueue) -> list[ActorAction]:
        if aq.resolving or aq.dead is not None:
            return []
        aq.resolving = True
        return [ResolveActor(aq)]

    def address_found(
        self, actor_id: bytes, address: common_pb2.Address, restarted: bool
    ) -> list[ActorAction]:
        """The actor is alive at `address` (`restarted`: on a new worker)."""
        aq = self.queue(actor_id)
        aq.resolving = False
        aq.failed_worker = b""
        if aq.seq_worker != address.worker_id:  # a new process: its call order starts at 0
            aq.seq_worker = address.worker_id
            aq.next_seq = 0
        aq.address = address
        lost, aq.lost = aq.lost, []
        actions: list[ActorAction] = self._release_creation_args(aq)
        cause = common_pb2.ErrorInfo(
            type=common_pb2.ERROR_TYPE_ACTOR_DIED,
            actor_id=actor_id,
            message=_RESTARTED if restarted else _CONNECTION_LOST,
        )
        for call in lost:
            actions.append(FailCall(call, errors.actor_died_error(actor_id, cause)))
        return actions + self._send(aq)

    def unavailable(self, actor_id: bytes, why: str) -> list[ActorAction]:
        """The actor's state cannot be learned (the GCS is gone): its calls fail from now on."""
        cause = common_pb2.ErrorInfo(
            type=common_pb2.ERROR_TYPE_ACTOR_UNAVAILABLE, actor_id=actor_id, message=why
        )
        return self.actor_dead(actor_id, cause)

    def actor_dead(self, actor_id: bytes, cause: common_pb2.ErrorInfo) -> list[ActorAction]:
        aq = self.queue(actor_id)
        aq.dead = cause
        aq.resolving = False
        aq.address = None
        calls = list(aq.pending) + aq.lost + list(aq.in_flight.values())
        aq.pending.clear()
        aq.lost = []
        aq.in_flight.clear()
        error = errors.actor_died_error(actor_id, cause)
        return self._release_creation_args(aq) + [FailCall(c, error) for c in calls]

    def _release_creation_args(self, aq: ActorQueue) -> list[ActorAction]:
        if not aq.creation_arg_ids:
            return []
        arg_ids, aq.creation_arg_ids = aq.creation_arg_ids, []
        aq.creation_keep = []
        return [ReleaseArgs(arg_ids)]

    def objects_freed(self, oids: list[bytes]) -> list[ActorAction]:
        """Owned objects went away: an actor whose handle object is among them is out of scope."""
        actions: list[ActorAction] = []
        for oid in oids:
            actor_id = self.handle_objects.pop(oid, None)
            if actor_id is None:
                continue
            aq = self.queues.get(actor_id)
            if aq is not None and not aq.detached:
                aq.out_of_scope = True
                actions += self._maybe_kill_out_of_scope(aq)
        return actions

    def _maybe_kill_out_of_scope(self, aq: ActorQueue) -> list[ActorAction]:
        if (
            not aq.out_of_scope
            or aq.killed_for_scope
            or aq.pending
            or aq.in_flight
            or aq.dead is not None
        ):
            return []
        aq.killed_for_scope = True
        return [KillOutOfScope(aq.actor_id)]

    def cancel(self, call: ActorCall) -> list[ActorAction]:
        call.cancelled = True
        aq = self.queue(call.actor_id)
        if call in aq.pending:
            aq.pending.remove(call)
            return [FailCall(call, cancelled_error(call))]
        if call.task_id in aq.in_flight and call.sent_to is not None:
            return [CancelCall(call.sent_to, call)]
        return []

    def stop(self) -> None:
        for aq in self.queues.values():
            aq.resolving = False


def _retry_on_error(call: ActorCall, reply: core_worker_pb2.PushTaskReply) -> bool:
    """Whether a call that replied is to run again: it raised, and retry_exceptions allows
    it (for that exception) while retries are left."""
    if not (
        reply.is_application_error
        and call.spec.retry_exceptions
        and call.retries_left != 0
        and not call.cancelled
        and not reply.worker_exiting
    ):
        return False
    if call.retry_types is None:
        return True
    if not reply.return_objects or not reply.return_objects[0].data:
        return False
    value = serialization.deserialize(reply.return_objects[0].data)
    if not isinstance(value, serialization.ErrorValue):
        return False
    return isinstance(errors.to_exception(value.info), call.retry_types)


def never_delivered(failure: BaseException) -> bool:
    """True when the call was never sent, or could not even connect (the actor never saw it)."""
    if isinstance(failure, NotSent):
        return True
    if not isinstance(failure, rpc_errors.Unavailable):
        return False
    details = (failure.details or "").lower()
    return "failed to connect" in details or "connection refused" in details
