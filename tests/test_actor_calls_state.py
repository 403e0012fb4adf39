"""Actor calls as state machines, without processes: the caller's side (`ActorCallsState`:
order, sequence numbers, restarts, retries, scope) and the actor's side (`CallOrder`:
per-caller order and sequence gaps), and the worker's pipelined queue (`PipelinedTasks`)."""

from __future__ import annotations

import grpc

from ray import exceptions as rex
from ray._private import ids
from ray._private.generated import common_pb2, core_worker_pb2
from ray._private.rpc.errors import DeadlineExceeded, Unavailable
from ray._private.rpc.push_stream import NotSent, StreamEnded
from ray._private.worker import errors
from ray._private.worker.actor_calls import (
    ActorCallsState,
    CancelCall,
    CompleteCall,
    FailCall,
    KillOutOfScope,
    PushCall,
    ReleaseArgs,
    ResolveActor,
)
from ray._private.worker.call_order import CallOrder
from ray._private.worker.pipeline import PipelinedTasks
from ray._private.worker.tasks import ActorCall, TaskState

JOB = ids.job_id_from_int(7)
ACTOR = ids.new_actor_id(JOB)
_order = iter(range(10**9))


def make_call(retries: int = 0, resolved: bool = True) -> ActorCall:
    task_id = ids.new_task_id(JOB)
    spec = common_pb2.TaskSpec(
        task_id=task_id,
        job_id=JOB,
        type=common_pb2.TASK_TYPE_ACTOR,
        name="A.m",
        num_returns=1,
        actor_id=ACTOR,
        caller_address=common_pb2.Address(worker_id=b"c" * 28),
        return_ids=[ids.object_id_for_return(task_id, 1)],
    )
    call = ActorCall(spec, retries, [], actor_id=ACTOR, order=next(_order))
    if resolved:
        call.state = TaskState.QUEUED
    return call


def worker(n: int) -> common_pb2.Address:
    return common_pb2.Address(ip_address="127.0.0.1", port=2000 + n, worker_id=bytes([n]) * 28)


def of(actions: list, kind: type) -> list:
    return [a for a in actions if isinstance(a, kind)]


def reply_for(call: ActorCall, **fields: object) -> core_worker_pb2.PushTaskReply:
    return core_worker_pb2.PushTaskReply(task_id=call.task_id, **fields)


def alive_with(state: ActorCallsState, *calls: ActorCall, address=None) -> list:
    actions = []
    for call in calls:
        actions += state.submit(call, max_in_flight=32)
    assert len(of(actions, ResolveActor)) == 1, "the address is looked up once"
    for call in calls:
        actions += state.call_ready(call)
    return state.address_found(ACTOR, address or worker(1), restarted=False)


def test_calls_go_in_submission_order_with_sequence_numbers() -> None:
    state = ActorCallsState()
    calls = [make_call() for _ in range(4)]
    pushes = of(alive_with(state, *calls), PushCall)
    assert [p.call for p in pushes] == calls
    assert [p.call.spec.sequence_number for p in pushes] == [0, 1, 2, 3]


def test_a_call_waiting_for_its_arguments_holds_back_later_calls() -> None:
    state = ActorCallsState()
    first, second = make_call(resolved=False), make_call()
    pushes = of(alive_with(state, first, second), PushCall)
    assert pushes == []  # `second` is ready but must not overtake `first`
    first.state = TaskState.QUEUED
    assert [p.call for p in of(state.call_ready(first), PushCall)] == [first, second]


def test_in_flight_limit() -> None:
    state = ActorCallsState()
    calls = [make_call() for _ in range(3)]
    for call in calls:
        state.submit(call, max_in_flight=2)
    assert len(of(state.address_found(ACTOR, worker(1), False), PushCall)) == 2
    actions = state.call_replied(calls[0], worker(1), reply_for(calls[0]))
    assert of(actions, CompleteCall)[0].call is calls[0]
    assert [p.call for p in of(actions, PushCall)] == [calls[2]]


def test_restarted_actor_numbers_from_zero_and_lost_calls_fail() -> None:
    state = ActorCallsState()
    a, b = make_call(retries=0), make_call(retries=1)
    alive_with(state, a, b)
    lost = StreamEnded("the actor's worker died")
    assert of(state.call_failed(a, worker(1), lost), ResolveActor)
    assert state.call_failed(b, worker(1), lost) == []  # already resolving
    c = make_call()
    state.submit(c, max_in_flight=32)
    state.call_ready(c)
    actions = state.address_found(ACTOR, worker(2), restarted=True)
    (fail,) = of(actions, FailCall)
    assert fail.call is a and isinstance(fail.error, rex.ActorDiedError)
    assert "restarted" in str(fail.error)
    pushes = of(actions, PushCall)
    # b is retried (max_task_retries=1) before c, keeping its place; numbering restarts.
    assert [p.call for p in pushes] == [b, c]
    assert [p.call.spec.sequence_number for p in pushes] == [0, 1]
    assert b.retries_left == 0 and b.spec.attempt_number == 1


def test_a_call_never_delivered_is_resent_without_using_a_retry() -> None:
    state = ActorCallsState()
    call = make_call(retries=0)
    alive_with(state, call)
    state.call_failed(call, worker(1), NotSent("stream broke before sending"))
    pushes = of(state.address_found(ACTOR, worker(2), True), PushCall)
    assert [p.call for p in pushes] == [call] and call.retries_left == 0


def test_connection_refused_counts_as_never_delivered() -> None:
    state = ActorCallsState()
    call = make_call(retries=0)
    alive_with(state, call)
    refused = Unavailable(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses")
    state.call_failed(call, worker(1), refused)
    assert of(state.address_found(ACTOR, worker(2), True), PushCall)


def test_same_worker_after_a_passing_error_fails_the_lost_call_as_maybe_run() -> None:
    state = ActorCallsState()
    call = make_call(retries=0)
    alive_with(state, call)
    state.call_failed(call, worker(1), DeadlineExceeded(grpc.StatusCode.DEADLINE_EXCEEDED, "slow"))
    actions = state.address_found(ACTOR, worker(1), restarted=False)
    (fail,) = of(actions, FailCall)
    assert "may or may not have run" in str(fail.error)


def test_death_fails_pending_and_later_calls() -> None:
    state = ActorCallsState()
    in_flight, pending = make_call(), make_call()
    alive_with(state, in_flight)
    state.submit(pending, max_in_flight=32)
    cause = common_pb2.ErrorInfo(type=common_pb2.ERROR_TYPE_ACTOR_DIED, message="it was killed")
    actions = state.actor_dead(ACTOR, cause)
    assert {f.call for f in of(actions, FailCall)} == {in_flight, pending}
    later = make_call()
    (fail,) = of(state.submit(later, max_in_flight=32), FailCall)
    assert isinstance(fail.error, rex.ActorDiedError) and "killed" in str(fail.error)


def test_creation_arguments_are_released_once_the_actor_is_known() -> None:
    state = ActorCallsState()
    actions = state.created(ACTOR, "A", b"h" * 28, [b"arg"], ["keep"], detached=False)
    assert of(actions, ResolveActor)
    assert of(state.address_found(ACTOR, worker(1), False), ReleaseArgs) == [ReleaseArgs([b"arg"])]


def test_out_of_scope_actor_is_killed_when_idle() -> None:
    state = ActorCallsState()
    state.created(ACTOR, "A", b"h" * 28, [], [], detached=False)
    call = make_call()
    state.submit(call, max_in_flight=32)
    state.address_found(ACTOR, worker(1), False)
    assert state.objects_freed([b"h" * 28]) == []  # a call is still in flight
    actions = state.call_replied(call, worker(1), reply_for(call))
    assert of(actions, KillOutOfScope) == [KillOutOfScope(ACTOR)]


def test_detached_actor_is_not_killed_out_of_scope() -> None:
    state = ActorCallsState()
    state.created(ACTOR, "A", b"h" * 28, [], [], detached=True)
    assert state.objects_freed([b"h" * 28]) == []


def test_cancel_pending_and_in_flight_calls() -> None:
    state = ActorCallsState()
    in_flight, pending = make_call(), make_call(resolved=False)
    alive_with(state, in_flight)
    state.submit(pending, max_in_flight=32)
    (fail,) = of(state.cancel(pending), FailCall)
    assert isinstance(fail.error, rex.TaskCancelledError)
    assert state.cancel(in_flight) == [CancelCall(worker(1), in_flight)]


# ---- the actor's side: per-caller order and sequence gaps ----------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_calls_run_in_sequence_order_whatever_the_arrival_order() -> None:
    order: CallOrder[str] = CallOrder(10.0, Clock())
    assert order.arrive(b"a", 1, "a1") == []
    assert order.arrive(b"a", 2, "a2") == []
    assert order.arrive(b"b", 0, "b0") == ["b0"]  # callers are independent
    assert order.arrive(b"a", 0, "a0") == ["a0", "a1", "a2"]
    assert order.arrive(b"a", 1, "resent") == ["resent"]  # below the next: a resend


def test_a_gap_is_skipped_after_the_timeout() -> None:
    clock = Clock()
    order: CallOrder[str] = CallOrder(10.0, clock)
    order.arrive(b"a", 0, "a0")
    assert order.arrive(b"a", 2, "a2") == []  # a1 never arrives
    assert order.has_gaps()
    clock.now = 9.0
    assert order.skip_gaps() == []
    clock.now = 10.5
    assert order.skip_gaps() == ["a2"]
    assert not order.has_gaps()
    assert order.arrive(b"a", 3, "a3") == ["a3"]


def test_a_restarted_callers_numbering_starts_over_for_a_new_worker() -> None:
    # A new actor process has a new CallOrder: a caller's calls start at 0 again.
    order: CallOrder[str] = CallOrder(10.0, Clock())
    assert order.arrive(b"a", 0, "x") == ["x"]


# ---- the worker's side of pipelining --------------------------------------------------------


class Job:
    def __init__(self) -> None:
        self.waiting = False
        self.given_back = False
        self.queued_at = 0.0


def test_a_task_behind_a_running_one_is_given_back_after_the_wait() -> None:
    clock = Clock()
    queue = PipelinedTasks(0.02, clock)
    running, waiting = Job(), Job()
    assert queue.arrive(running) is False
    assert queue.arrive(waiting) is True
    assert queue.expired() == ([], 0.02)
    clock.now = 0.03
    expired, again = queue.expired()
    assert expired == [waiting] and again is None and waiting.given_back
    assert queue.start(running) is True
    assert queue.start(waiting) is False  # the main thread must not run it any more


def test_waiting_task_that_starts_in_time_is_not_given_back() -> None:
    clock = Clock()
    queue = PipelinedTasks(0.02, clock)
    running, waiting = Job(), Job()
    queue.arrive(running)
    queue.arrive(waiting)
    queue.finished()
    assert queue.start(waiting) is True
    clock.now = 1.0
    assert queue.expired() == ([], None)


def test_blocking_gives_back_every_waiting_task() -> None:
    queue = PipelinedTasks(0.02, Clock())
    jobs = [Job() for _ in range(3)]
    for job in jobs:
        queue.arrive(job)
    assert queue.give_back_all() == jobs[1:]
    assert all(j.given_back for j in jobs[1:])


def _error_reply(call: ActorCall, exc: BaseException) -> core_worker_pb2.PushTaskReply:
    frame = errors.error_frame(exc, call.task_id)
    reply = reply_for(call, is_application_error=True)
    reply.return_objects.add(object_id=call.spec.return_ids[0], data=frame, size_bytes=len(frame))
    return reply


def test_call_that_raised_is_retried_under_retry_exceptions() -> None:
    state = ActorCallsState()
    call = make_call(retries=1)
    call.spec.retry_exceptions = True
    (push,) = of(alive_with(state, call), PushCall)
    again = state.call_replied(call, push.address, _error_reply(call, ValueError("boom")))
    assert not of(again, CompleteCall)
    (retry,) = of(again, PushCall)
    assert retry.call is call and call.spec.attempt_number == 1 and call.retries_left == 0
    # Out of retries: the error is its result.
    done = state.call_replied(call, retry.address, _error_reply(call, ValueError("boom")))
    assert [a.call for a in of(done, CompleteCall)] == [call]


def test_call_that_raised_is_not_retried_without_retry_exceptions_or_other_types() -> None:
    state = ActorCallsState()
    plain, typed = make_call(retries=3), make_call(retries=3)
    typed.spec.retry_exceptions = True
    typed.retry_types = (KeyError,)
    pushes = of(alive_with(state, plain, typed), PushCall)
    for push in pushes:
        actions = state.call_replied(push.call, push.address, _error_reply(push.call, ValueError()))
        assert [a.call for a in of(actions, CompleteCall)] == [push.call]
        assert not of(actions, PushCall)
