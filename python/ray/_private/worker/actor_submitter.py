"""Sends actor method calls straight to the actor's worker, in order per caller (DESIGN.md section 3).

Per actor this process calls, an `_ActorQueue` keeps the calls not yet sent
(in submission order) and the ones in flight. The actor's address comes from
the GCS (a long-poll while it is pending or restarting). When the actor's
worker dies, calls in flight are retried on the restarted actor if
`max_task_retries` allows, else they fail with `ActorDiedError`.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc

from ray import exceptions as rex
from ray._private import constants, ids
from ray._private.generated import common_pb2, core_worker_pb2, gcs_pb2
from ray._private.worker import errors, push_stream
from ray._private.worker.task_manager import TaskEntry

if TYPE_CHECKING:
    from ray._private.object_ref import ObjectRef
    from ray._private.worker.core_worker import CoreWorker

logger = logging.getLogger(__name__)

_order = itertools.count()


@dataclass(eq=False)
class _ActorQueue:
    actor_id: bytes
    class_name: str
    pending: deque = field(default_factory=deque)
    in_flight: dict = field(default_factory=dict)
    address: common_pb2.Address | None = None
    next_seq: int = 0
    # The worker the sequence numbers count for.
    seq_worker: bytes = b""
    max_in_flight: int = 32
    dead: common_pb2.ErrorInfo | None = None
    resolving: bool = False
    failed_worker: bytes = b""
    lost: list = field(default_factory=list)
    owned: bool = False
    detached: bool = False
    out_of_scope: bool = False
    killed_for_scope: bool = False
    creation_arg_ids: list = field(default_factory=list)
    creation_keep: list = field(default_factory=list)


class ActorTaskSubmitter:
    def __init__(self, cw: CoreWorker) -> None:
        self._cw = cw
        self._lock = threading.RLock()
        self._queues: dict[bytes, _ActorQueue] = {}
        self._handle_objects: dict[bytes, bytes] = {}

    def start(self) -> None:
        pass

    def stop(self) -> None:
        with self._lock:
            queues = list(self._queues.values())
        for aq in queues:
            aq.resolving = False

    # ---- creation --------------------------------------------------------------------

    def register_created(
        self,
        actor_id: bytes,
        class_name: str,
        handle_oid: bytes,
        arg_ids: list[bytes],
        keep: list,
        detached: bool,
    ) -> None:
        """Called by the creator: it owns the actor's lifetime (unless detached)."""
        cw = self._cw
        cw.refs.add_submitted(arg_ids)
        with self._lock:
            aq = self._queue(actor_id, class_name)
            aq.owned = True
            aq.detached = detached
            aq.creation_arg_ids = arg_ids
            aq.creation_keep = keep
            self._handle_objects[handle_oid] = actor_id
            self._start_resolving(aq)

    def _queue(self, actor_id: bytes, class_name: str) -> _ActorQueue:
        aq = self._queues.get(actor_id)
        if aq is None:
            aq = _ActorQueue(actor_id, class_name)
            self._queues[actor_id] = aq
        return aq

    # ---- calls -----------------------------------------------------------------------

    def submit(
        self,
        actor_id: bytes,
        class_name: str,
        method: str,
        args: tuple,
        kwargs: dict,
        num_returns: int,
        max_task_retries: int,
        max_concurrency: int = 1,
        name: str | None = None,
    ) -> list[ObjectRef]:
        cw = self._cw
        task_args, arg_ids, keep = cw.build_args(args, kwargs)
        # The spec is built inside its first request, which is sent without a copy.
        request = core_worker_pb2.PushTaskRequest(
            task_spec=common_pb2.TaskSpec(
                task_id=ids.new_task_id(cw.job_id or actor_id[-4:]),
                job_id=cw.job_id or actor_id[-4:],
                type=common_pb2.TASK_TYPE_ACTOR,
                name=name or f"{class_name}.{method}",
                function=common_pb2.FunctionDescriptor(
                    language=common_pb2.LANGUAGE_PYTHON,
                    class_name=class_name,
                    function_name=method,
                ),
                args=task_args,
                num_returns=num_returns,
                caller_address=cw.address,
                actor_id=actor_id,
                max_retries=max_task_retries,
                parent_task_id=cw.context.task_id,
            ),
            caller_worker_id=cw.worker_id,
        )
        spec = request.task_spec
        refs = cw.new_return_refs(spec)
        entry = TaskEntry(spec, max_task_retries, arg_ids)
        entry.extra["keep"] = keep
        entry.extra["order"] = next(_order)
        entry.extra["request"] = request
        cw.task_manager.add(entry)
        with self._lock:
            aq = self._queue(actor_id, class_name)
            # Enough calls in flight to keep the actor busy, not thousands on one channel.
            aq.max_in_flight = min(
                max(max_concurrency, constants.ACTOR_CALLS_IN_FLIGHT_MIN),
                constants.ACTOR_CALLS_IN_FLIGHT_MAX,
            )
            entry.key = aq
            if aq.dead is not None:
                dead = aq.dead
            else:
                dead = None
                aq.pending.append(entry)
                if aq.address is None:
                    self._start_resolving(aq)
        if dead is not None:
            self._fail(entry, dead)
            return refs
        cw.resolver.resolve(entry, lambda e: self._resolved(aq))
        return refs

    def _resolved(self, aq: _ActorQueue) -> None:
        with self._lock:
            self._send(aq)

    def _send(self, aq: _ActorQueue) -> None:
        """Sends resolved calls at the head of the queue, in order. Lock held."""
        cw = self._cw
        while (
            aq.pending
            and aq.address is not None
            and aq.dead is None
            and len(aq.in_flight) < aq.max_in_flight
        ):
            entry = aq.pending[0]
            if entry.finished:
                aq.pending.popleft()
                continue
            if not entry.extra.get("resolved"):
                return
            aq.pending.popleft()
            entry.spec.sequence_number = aq.next_seq
            aq.next_seq += 1
            entry.worker = aq.address
            aq.in_flight[entry.spec.task_id] = entry
            req = entry.extra.pop("request", None) or core_worker_pb2.PushTaskRequest(
                task_spec=entry.spec, caller_worker_id=cw.worker_id
            )
            address = aq.address
            cw.push_streams.push(
                address, req, lambda r, err, e=entry, a=address: self._on_done(aq, e, a, r, err)
            )
        self._maybe_kill_out_of_scope(aq)

    def _on_done(
        self,
        aq: _ActorQueue,
        entry: TaskEntry,
        address: common_pb2.Address,
        reply: core_worker_pb2.PushTaskReply | None,
        err: grpc.RpcError | None,
    ) -> None:
        cw = self._cw
        if err is not None:
            logger.warning(
                "actor call %s failed: %s %s", entry.spec.name, err.code(), err.details()
            )
            with self._lock:
                aq.in_flight.pop(entry.spec.task_id, None)
                if aq.address is not None and aq.address.worker_id == address.worker_id:
                    aq.address = None
                aq.failed_worker = address.worker_id
                if _never_delivered(err) and not entry.cancelled:
                    self._requeue(aq, entry)  # it never ran: send it to the restarted actor
                elif entry.retries_left != 0 and not entry.cancelled:
                    if entry.retries_left > 0:
                        entry.retries_left -= 1
                    entry.spec.attempt_number += 1
                    self._requeue(aq, entry)
                else:
                    aq.lost.append(entry)
                self._start_resolving(aq)
            return
        with self._lock:
            aq.in_flight.pop(entry.spec.task_id, None)
        cw.task_manager.complete(entry, reply)
        with self._lock:
            self._send(aq)
            if (
                reply.worker_exiting
                and aq.address is not None
                and aq.address.worker_id == address.worker_id
            ):
                aq.address = None
                aq.failed_worker = address.worker_id
                self._start_resolving(aq)
            self._maybe_kill_out_of_scope(aq)

    def _requeue(self, aq: _ActorQueue, entry: TaskEntry) -> None:
        order = entry.extra["order"]
        items = list(aq.pending)
        index = next((i for i, e in enumerate(items) if e.extra["order"] > order), len(items))
        aq.pending.insert(index, entry)

    # ---- actor address ---------------------------------------------------------------

    def _start_resolving(self, aq: _ActorQueue) -> None:
        if aq.resolving or aq.dead is not None:
            return
        aq.resolving = True
        threading.Thread(
            target=self._resolve, args=(aq,), name="actor-resolve", daemon=True
        ).start()

    def _resolve(self, aq: _ActorQueue) -> None:
        """Finds the actor's live address (after creation, a restart or a failed call)."""
        cw = self._cw
        backoff = 0.02
        stale_since = 0.0
        while aq.resolving and not cw.shutting_down:
            try:
                info = cw.gcs.get_actor_info(aq.actor_id, wait_timeout_s=constants.LONG_POLL_S)
            except Exception as err:  # noqa: BLE001 - the GCS may restart
                logger.debug("get_actor_info failed: %s", err)
                time.sleep(0.2)
                continue
            if info is None:
                info = gcs_pb2.ActorInfo(state=gcs_pb2.ACTOR_STATE_DEAD)
                info.death_cause.message = "The actor is unknown to the GCS."
            if info.state == gcs_pb2.ACTOR_STATE_DEAD:
                self._on_dead(aq, info.death_cause)
                return
            if info.state == gcs_pb2.ACTOR_STATE_ALIVE:
                if info.address.worker_id != aq.failed_worker:
                    self._use_address(aq, info.address, restarted=True)
                    return
                # The GCS still lists the worker a call failed on: it is dying, or the
                # failure was a passing network error. Ask the worker itself.
                stale_since = stale_since or time.monotonic()
                if (
                    time.monotonic() - stale_since > 1.0
                    and not cw.worker_client(info.address).is_gone()
                ):
                    logger.warning(
                        "actor %s is reachable again after a failed call", ids.short(aq.actor_id)
                    )
                    self._use_address(aq, info.address, restarted=False)
                    return
            time.sleep(backoff)
            backoff = min(backoff * 2, 0.5)

    def _use_address(self, aq: _ActorQueue, address: common_pb2.Address, restarted: bool) -> None:
        """Sends queued calls to `address`; fails calls that were lost on the way."""
        with self._lock:
            aq.resolving = False
            aq.failed_worker = b""
            if aq.seq_worker != address.worker_id:  # a new process: its call order starts at 0
                aq.seq_worker = address.worker_id
                aq.next_seq = 0
            aq.address = address
            lost, aq.lost = aq.lost, []
            self._release_creation_args(aq)
        if restarted:
            message = (
                "The actor died unexpectedly before finishing this task; it has been "
                "restarted. Set max_task_retries to retry calls that were running."
            )
        else:
            message = (
                "The connection to the actor failed while this call was in flight; it may or "
                "may not have run. Set max_task_retries to retry such calls."
            )
        for entry in lost:
            self._fail(
                entry,
                common_pb2.ErrorInfo(
                    type=common_pb2.ERROR_TYPE_ACTOR_DIED, actor_id=aq.actor_id, message=message
                ),
            )
        with self._lock:
            self._send(aq)

    def _on_dead(self, aq: _ActorQueue, cause: common_pb2.ErrorInfo) -> None:
        with self._lock:
            aq.dead = cause
            aq.resolving = False
            aq.address = None
            entries = list(aq.pending) + aq.lost + list(aq.in_flight.values())
            aq.pending.clear()
            aq.lost = []
            self._release_creation_args(aq)
        for entry in entries:
            self._fail(entry, cause)

    def _release_creation_args(self, aq: _ActorQueue) -> None:
        if aq.creation_arg_ids:
            self._cw.refs.remove_submitted(aq.creation_arg_ids)
            aq.creation_arg_ids = []
            aq.creation_keep = []

    def _fail(self, entry: TaskEntry, cause: common_pb2.ErrorInfo) -> None:
        self._cw.task_manager.fail(entry, actor_died_error(entry.spec.actor_id, cause))

    # ---- lifetime --------------------------------------------------------------------

    def on_objects_freed(self, oids: list[bytes]) -> None:
        handles = self._handle_objects
        if not any(oid in handles for oid in oids):
            return  # the common case: no actor handle among them
        with self._lock:
            for oid in oids:
                actor_id = self._handle_objects.pop(oid, None)
                if actor_id is None:
                    continue
                aq = self._queues.get(actor_id)
                if aq is not None and not aq.detached:
                    aq.out_of_scope = True
                    self._maybe_kill_out_of_scope(aq)

    def _maybe_kill_out_of_scope(self, aq: _ActorQueue) -> None:
        if (
            not aq.out_of_scope
            or aq.killed_for_scope
            or aq.pending
            or aq.in_flight
            or aq.dead is not None
        ):
            return
        aq.killed_for_scope = True
        cw = self._cw
        if cw.shutting_down:
            return

        def kill() -> None:
            try:
                cw.gcs.kill_actor(
                    aq.actor_id,
                    no_restart=True,
                    force=False,
                    reason="all handles went out of scope",
                )
            except Exception as err:  # noqa: BLE001
                logger.debug("out-of-scope kill failed: %s", err)

        cw.callbacks.submit(kill)

    def cancel(self, entry: TaskEntry) -> None:
        entry.cancelled = True
        aq = entry.key
        with self._lock:
            queued = aq is not None and entry in aq.pending
            if queued:
                aq.pending.remove(entry)
            worker = entry.worker if entry.spec.task_id in (aq.in_flight if aq else {}) else None
        if queued:
            self._cw.task_manager.fail(entry, rex.TaskCancelledError(entry.spec.task_id.hex()))
        elif worker is not None:
            self._cw.worker_client(worker).cancel_task(entry.spec.task_id, False, False)


def _never_delivered(err: grpc.RpcError) -> bool:
    """True when the call was never sent, or could not even connect (the actor never saw it)."""
    if isinstance(err, push_stream.NotSent):
        return True
    details = (err.details() or "").lower()
    return err.code() == grpc.StatusCode.UNAVAILABLE and (
        "failed to connect" in details or "connection refused" in details
    )


def actor_died_error(actor_id: bytes, cause: common_pb2.ErrorInfo) -> rex.RayActorError:
    """The error raised for calls on a dead actor, with the cause from its death."""
    inner: Any = None
    init_failed = False
    message = cause.message or "The actor died."
    if cause.python_exception:
        inner = errors.to_exception(cause)
        if isinstance(inner, rex.RayTaskError):
            init_failed = True
            message = f"The actor died because an error was raised in its __init__:\n{inner}"
        elif isinstance(inner, rex.RayActorError):
            return inner
    return rex.ActorDiedError(actor_id.hex(), message, actor_init_failed=init_failed, cause=inner)
