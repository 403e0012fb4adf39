"""Sends actor method calls straight to the actor's worker, in order per caller (DESIGN.md section 3).

Carries out what `ActorCallsState` decides. The actor's address comes from the
GCS (a long-poll while it is pending or restarting), asked without holding a
thread: the reply arrives on a gRPC callback thread and the next poll is
scheduled on the event loop.

Threads: as in `task_submitter.py`, each event runs under one lock and pushes
are sent under it (so sequence numbers reach the worker in order); completing
and failing calls happens after it is released.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor

from ray._private import constants, ids
from ray._private.generated import common_pb2, core_worker_pb2, gcs_pb2
from ray._private.rpc import errors as rpc_errors
from ray._private.worker.actor_calls import (
    ActorAction,
    ActorCallsState,
    ActorQueue,
    CancelCall,
    CompleteCall,
    FailCall,
    KillOutOfScope,
    PushCall,
    ReleaseArgs,
    ResolveActor,
)
from ray._private.worker.interfaces import (
    ActorDirectory,
    Deferred,
    DependencyWaiter,
    Pusher,
    TaskCanceller,
    TaskSink,
    WorkerProbe,
)
from ray._private.worker.tasks import ActorCall, TaskState

logger = logging.getLogger(__name__)


class ActorTaskSubmitter:
    """Submits actor calls and follows the actors' addresses.

    Args:
        state: The actor-call state machine.
        resolver: Waits for owned arguments.
        tasks: Completes and fails calls.
        pusher: Sends calls to actor workers.
        actors: The GCS's actor table.
        probe: Tells whether a worker is gone.
        canceller: Sends cancels.
        release_args: Drops the "submitted" count of creation arguments.
        loop: Runs timers.
        blocking: Runs blocking work (GCS kills, liveness probes).
        stopping: True once the process is shutting down.
    """

    def __init__(
        self,
        state: ActorCallsState,
        resolver: DependencyWaiter,
        tasks: TaskSink,
        pusher: Pusher,
        actors: ActorDirectory,
        probe: WorkerProbe,
        canceller: TaskCanceller,
        release_args: Callable[[Iterable[bytes]], None],
        loop: Deferred,
        blocking: Executor,
        stopping: Callable[[], bool],
    ) -> None:
        self._state = state
        self._resolver = resolver
        self._tasks = tasks
        self._pusher = pusher
        self._actors = actors
        self._probe = probe
        self._canceller = canceller
        self._release_args = release_args
        self._loop = loop
        self._blocking = blocking
        self._stopping = stopping
        self._lock = threading.RLock()

    # ---- events ----------------------------------------------------------------------

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
        self._handle(self._state.created, actor_id, class_name, handle_oid, arg_ids, keep, detached)

    def submit(self, call: ActorCall, max_concurrency: int) -> None:
        # Enough calls in flight to keep the actor busy, not thousands on one channel.
        max_in_flight = min(
            max(max_concurrency, constants.ACTOR_CALLS_IN_FLIGHT_MIN),
            constants.ACTOR_CALLS_IN_FLIGHT_MAX,
        )
        if not call.spec.args:  # nothing to wait for: queue and send in one step
            call.state = TaskState.QUEUED
            self._handle(self._state.submit, call, max_in_flight)
            return
        self._handle(self._state.submit, call, max_in_flight)
        if not call.finished:
            self._resolver.resolve(call, lambda c: self._handle(self._state.call_ready, c))

    def cancel(self, call: ActorCall) -> None:
        self._handle(self._state.cancel, call)

    def on_objects_freed(self, oids: list[bytes]) -> None:
        handles = self._state.handle_objects
        if not handles or handles.keys().isdisjoint(oids):
            return  # the common case: no actor handle among them
        self._handle(self._state.objects_freed, oids)

    def stop(self) -> None:
        with self._lock:
            self._state.stop()

    def _handle(self, event: Callable[..., list[ActorAction]], *args: object) -> None:
        later = None
        with self._lock:
            for action in event(*args):
                if type(action) is PushCall:
                    self._push(action)
                elif later is None:
                    later = [action]
                else:
                    later.append(action)
        if later is not None:
            for action in later:
                self._apply(action)

    # ---- actions ---------------------------------------------------------------------

    def _apply(self, action: ActorAction) -> None:
        if isinstance(action, CompleteCall):
            self._tasks.complete(action.call, action.reply)
        elif isinstance(action, FailCall):
            self._tasks.fail(action.call, action.error)
        elif isinstance(action, ResolveActor):
            self._poll(action.queue, 0.02, 0.0)
        elif isinstance(action, ReleaseArgs):
            self._release_args(action.arg_ids)
        elif isinstance(action, KillOutOfScope):
            if not self._stopping():
                self._blocking.submit(self._kill_out_of_scope, action.actor_id)
        elif isinstance(action, CancelCall):
            self._canceller.cancel_task(action.address, action.call.task_id, False, False)
        else:  # pragma: no cover - a new action without a handler
            raise AssertionError(f"unhandled action {action!r}")

    def _push(self, action: PushCall) -> None:
        call, address = action.call, action.address

        def done(
            reply: core_worker_pb2.PushTaskReply | None, failure: rpc_errors.RpcFailure | None
        ) -> None:
            if failure is not None:
                logger.warning("actor call %s failed: %s", call.name, failure)
                self._handle(self._state.call_failed, call, address, failure)
            else:
                self._handle(self._state.call_replied, call, address, reply)

        self._pusher.push(address, action.request, done)

    def _kill_out_of_scope(self, actor_id: bytes) -> None:
        try:
            self._actors.kill_actor(
                actor_id, no_restart=True, force=False, reason="all handles went out of scope"
            )
        except Exception as err:  # noqa: BLE001
            logger.debug("out-of-scope kill failed: %s", err)

    # ---- actor address ---------------------------------------------------------------

    def _poll(self, aq: ActorQueue, backoff: float, stale_since: float) -> None:
        """Asks the GCS for the actor's live address (after creation, a restart or a failed call)."""
        if not aq.resolving or self._stopping():
            return
        self._actors.get_actor_info_async(
            aq.actor_id,
            constants.LONG_POLL_S,
            lambda reply, failure: self._on_info(aq, backoff, stale_since, reply, failure),
        )

    def _on_info(
        self,
        aq: ActorQueue,
        backoff: float,
        stale_since: float,
        reply: gcs_pb2.GetActorInfoReply | None,
        failure: rpc_errors.RpcFailure | None,
    ) -> None:
        if failure is not None and not isinstance(failure, rpc_errors.NotFound):
            now = time.monotonic()
            aq.gcs_silent_since = aq.gcs_silent_since or now
            if now - aq.gcs_silent_since > constants.GCS_GRACE_S:
                why = (
                    f"The actor's state cannot be learned: the GCS has not answered for "
                    f"{constants.GCS_GRACE_S:.0f}s ({failure})."
                )
                self._handle(self._state.unavailable, aq.actor_id, why)
                return
            logger.debug("get_actor_info failed: %s", failure)
            self._loop.call_later(0.2, lambda: self._poll(aq, backoff, stale_since))
            return
        aq.gcs_silent_since = 0.0
        if failure is not None:
            info = gcs_pb2.ActorInfo(state=gcs_pb2.ACTOR_STATE_DEAD)
            info.death_cause.message = "The actor is unknown to the GCS."
        else:
            info = reply.actor
        if info.state == gcs_pb2.ACTOR_STATE_DEAD:
            self._handle(self._state.actor_dead, aq.actor_id, info.death_cause)
            return
        if info.state == gcs_pb2.ACTOR_STATE_ALIVE:
            if info.address.worker_id != aq.failed_worker:
                self._handle(self._state.address_found, aq.actor_id, info.address, True)
                return
            # The GCS still lists the worker a call failed on: it is dying, or the failure
            # was a passing network error. Ask the worker itself.
            stale_since = stale_since or time.monotonic()
            if time.monotonic() - stale_since > 1.0:
                self._blocking.submit(self._probe_stale, aq, info.address, backoff, stale_since)
                return
        next_backoff = min(backoff * 2, 0.5)
        self._loop.call_later(backoff, lambda: self._poll(aq, next_backoff, stale_since))

    def _probe_stale(
        self, aq: ActorQueue, address: common_pb2.Address, backoff: float, stale_since: float
    ) -> None:
        if not self._probe.is_gone(address):
            logger.warning(
                "actor %s is reachable again after a failed call", ids.short(aq.actor_id)
            )
            self._handle(self._state.address_found, aq.actor_id, address, False)
            return
        self._loop.call_later(backoff, lambda: self._poll(aq, min(backoff * 2, 0.5), stale_since))
