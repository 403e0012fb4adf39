"""The normal-task submitter's rules, driven as a state machine: no process, no socket.

Each test feeds `SubmissionState` the events the IO adapter would (a task is ready, a lease
is granted, a push is answered or lost, a timer fires) and checks the actions it returns.
"""

from __future__ import annotations

import pytest

from ray import exceptions as rex
from ray._private import ids
from ray._private.generated import common_pb2, core_worker_pb2
from ray._private.rpc.errors import Unavailable
from ray._private.rpc.push_stream import NotSent, StreamEnded
from ray._private.worker.submission import (
    CallLater,
    Complete,
    Fail,
    InspectDeadWorker,
    LeaseGrant,
    Push,
    RequestLease,
    ReturnLease,
    SendCancel,
    SubmissionState,
    WarnInfeasible,
)
from ray._private.worker.tasks import NormalTask, TaskState

JOB = ids.job_id_from_int(1)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_state(
    clock: Clock | None = None, max_in_flight: int = 2, max_pending_leases: int = 1
) -> SubmissionState:
    return SubmissionState(
        max_in_flight=max_in_flight,
        idle_lease_s=0.05,
        pipeline_backoff_s=1.0,
        max_lease_failures=3,
        clock=clock or Clock(),
        max_pending_leases=max_pending_leases,
    )


def make_task(
    max_retries: int = 3,
    resources: dict[str, float] | None = None,
    retry_exceptions: bool = False,
    max_calls: int = 0,
) -> NormalTask:
    task_id = ids.new_task_id(JOB)
    spec = common_pb2.TaskSpec(
        task_id=task_id,
        job_id=JOB,
        type=common_pb2.TASK_TYPE_NORMAL,
        name="f",
        num_returns=1,
        required_resources=resources or {"CPU": 1.0},
        max_retries=max_retries,
        retry_exceptions=retry_exceptions,
        max_calls=max_calls,
        return_ids=[ids.object_id_for_return(task_id, 1)],
    )
    task = NormalTask(spec, max_retries, [], max_retries=max_retries)
    task.state = TaskState.QUEUED
    return task


def grant(n: int = 0) -> LeaseGrant:
    worker_id = bytes([n + 1]) * 28
    address = common_pb2.Address(ip_address="127.0.0.1", port=1000 + n, worker_id=worker_id)
    return LeaseGrant(bytes([n + 1]) * 28, address, 4000 + n, {})


def of(actions: list, kind: type) -> list:
    return [a for a in actions if isinstance(a, kind)]


def ok_reply(task: NormalTask, **fields: object) -> core_worker_pb2.PushTaskReply:
    reply = core_worker_pb2.PushTaskReply(task_id=task.task_id, **fields)
    reply.return_objects.add(object_id=task.spec.return_ids[0], data=b"x")
    return reply


def submit_and_lease(state: SubmissionState, *tasks: NormalTask) -> list:
    """Submits tasks of one shape and grants one lease; returns the actions of the grant."""
    actions = []
    for task in tasks:
        actions += state.submit(task)
    assert len(of(actions, RequestLease)) == 1, "one lease request per shape at a time"
    return state.lease_granted(tasks[0].shape, grant())


# ---- leases: one request per shape, reuse, return when idle ---------------------------------


def test_one_lease_request_per_shape_and_reuse() -> None:
    state = make_state(max_in_flight=1)
    a, b = make_task(), make_task()
    pushes = of(submit_and_lease(state, a, b), Push)
    assert [p.task for p in pushes] == [a]  # one in flight; b waits for the lease
    actions = state.replied(a, ok_reply(a))
    assert of(actions, Complete)[0].task is a
    assert [p.task for p in of(actions, Push)] == [b]  # the same lease is reused
    assert of(actions, Push)[0].lease is pushes[0].lease
    assert not of(actions, RequestLease)


def test_other_shapes_get_their_own_lease() -> None:
    state = make_state()
    cpu, gpu = make_task(), make_task(resources={"GPU": 1.0})
    requests = of(state.submit(cpu) + state.submit(gpu), RequestLease)
    assert {tuple(r.shape.resources) for r in requests} == {("CPU",), ("GPU",)}


def test_a_burst_asks_for_as_many_leases_as_its_queue_fills_within_the_bound() -> None:
    state = make_state(max_in_flight=2, max_pending_leases=3)
    tasks = [make_task() for _ in range(10)]
    requests = [len(of(state.submit(task), RequestLease)) for task in tasks]
    # One per two queued tasks (each lease takes two), never more than three at once.
    assert requests == [1, 0, 1, 0, 1, 0, 0, 0, 0, 0]
    shape = tasks[0].shape
    assert shape.pending_lease_requests == 3
    actions = state.lease_granted(shape, grant())
    assert [p.task for p in of(actions, Push)] == tasks[:2]
    # Eight still queued: the granted request is replaced, back to three in flight.
    assert len(of(actions, RequestLease)) == 1 and shape.pending_lease_requests == 3
    actions = state.lease_granted(shape, grant(1)) + state.lease_granted(shape, grant(2))
    assert [p.task for p in of(actions, Push)] == tasks[2:6]
    # Four queued: two leases would take them, and one request is still out besides.
    assert len(of(actions, RequestLease)) == 1 and shape.pending_lease_requests == 2


def test_after_a_failed_request_the_shape_asks_one_lease_at_a_time() -> None:
    state = make_state(max_in_flight=1, max_pending_leases=3)
    tasks = [make_task() for _ in range(5)]
    assert sum(len(of(state.submit(t), RequestLease)) for t in tasks) == 3
    shape = tasks[0].shape
    # The first two failures wait for the last request's answer; it fails too: one retry,
    # counted as one failure.
    assert state.lease_failed(shape, Unavailable(_code(), "refused")) == []
    assert state.lease_failed(shape, Unavailable(_code(), "refused")) == []
    (retry,) = of(state.lease_failed(shape, Unavailable(_code(), "refused")), CallLater)
    assert shape.lease_failures == 2
    assert len(of(retry.event(), RequestLease)) == 1
    actions = state.lease_failed(shape, Unavailable(_code(), "refused"))
    (retry,) = of(actions, CallLater)
    assert len(of(retry.event(), RequestLease)) == 1 and shape.pending_lease_requests == 1
    # A grant ends the failure streak: the queue may use three requests again.
    actions = state.lease_granted(shape, grant())
    assert len(of(actions, Push)) == 1
    assert shape.lease_failures == 0 and shape.pending_lease_requests == 3


def test_idle_lease_is_returned_after_its_timer() -> None:
    clock = Clock()
    state = make_state(clock)
    task = make_task()
    lease = of(submit_and_lease(state, task), Push)[0].lease
    timers = of(state.replied(task, ok_reply(task)), CallLater)
    assert len(timers) == 1 and timers[0].delay_s == pytest.approx(0.05)
    clock.now += 0.06
    returned = of(timers[0].event(), ReturnLease)
    assert returned == [ReturnLease(lease, False)]
    assert lease not in task.shape.leases


def test_one_idle_check_per_idle_spell_not_per_task() -> None:
    clock = Clock()
    state = make_state(clock)
    tasks = [make_task() for _ in range(5)]
    of(submit_and_lease(state, tasks[0]), Push)
    timers = of(state.replied(tasks[0], ok_reply(tasks[0])), CallLater)
    for task in tasks[1:]:  # the lease is reused while its check is pending
        assert of(state.submit(task), Push)
        timers += of(state.replied(task, ok_reply(task)), CallLater)
    assert len(timers) == 1
    clock.now += 0.03  # the check fires 30 ms into the last idle spell: look again later
    (again,) = of(timers[0].event(), CallLater)
    assert again.delay_s == pytest.approx(0.02)
    clock.now += 0.1
    assert of(again.event(), ReturnLease)


def test_idle_check_is_void_when_the_lease_is_busy() -> None:
    state = make_state()
    a, b = make_task(), make_task()
    of(submit_and_lease(state, a), Push)
    timer = of(state.replied(a, ok_reply(a)), CallLater)[-1]
    assert of(state.submit(b), Push)  # reuses the idle lease before the timer fires
    assert timer.event() == []


def test_lease_failures_back_off_then_fail_the_queue() -> None:
    state = make_state()
    task = make_task()
    (request,) = of(state.submit(task), RequestLease)
    for attempt in range(1, 4):
        actions = state.lease_failed(request.shape, Unavailable(_code(), "refused"))
        (retry,) = of(actions, CallLater)
        assert retry.delay_s == pytest.approx(0.1 * attempt)
        assert of(retry.event(), RequestLease)
    (fail,) = of(state.lease_failed(request.shape, Unavailable(_code(), "refused")), Fail)
    assert fail.task is task and isinstance(fail.error, rex.RaySystemError)


def test_infeasible_warns_once_and_retries() -> None:
    state = make_state()
    task = make_task(resources={"Nowhere": 1.0})
    (request,) = of(state.submit(task), RequestLease)
    first = state.lease_not_granted(request.shape, infeasible=True)
    assert len(of(first, WarnInfeasible)) == 1
    again = of(of(first, CallLater)[0].event(), RequestLease)
    second = state.lease_not_granted(again[0].shape, infeasible=True)
    assert not of(second, WarnInfeasible)


# ---- pipelining and give-back ---------------------------------------------------------------


def test_a_task_waits_behind_a_running_one_and_is_given_back() -> None:
    clock = Clock()
    state = make_state(clock)
    a, b = make_task(), make_task()
    pushes = of(submit_and_lease(state, a, b), Push)
    assert [p.task for p in pushes] == [a, b]  # b is queued behind a on the same worker
    assert b.behind is a
    # The worker hands b back (a blocked): b goes back to the head of the queue for free...
    given_back = core_worker_pb2.PushTaskReply(task_id=b.task_id, not_run=True)
    actions = state.replied(b, given_back)
    assert not of(actions, Complete) and not of(actions, Fail)
    assert b.retries_left == 3 and b.spec.attempt_number == 0
    # ...and that worker gets no waiting task during its back-off: b asks for a new lease.
    assert of(actions, RequestLease) and not of(actions, Push)
    assert list(b.shape.queue) == [b]
    # After the back-off the worker may take a waiting task again.
    clock.now += 1.5
    c = make_task()
    assert [p.task for p in of(state.submit(c), Push)] == [b]


def test_max_calls_tasks_never_wait_behind_another() -> None:
    state = make_state()
    a, b = make_task(max_calls=1), make_task(max_calls=1)
    assert [p.task for p in of(submit_and_lease(state, a, b), Push)] == [a]


def test_worker_exiting_after_max_calls_returns_its_lease() -> None:
    state = make_state()
    task = make_task(max_calls=1)
    lease = of(submit_and_lease(state, task), Push)[0].lease
    actions = state.replied(task, ok_reply(task, worker_exiting=True))
    assert ReturnLease(lease, True) in actions
    assert lease.dead and lease not in task.shape.leases


# ---- worker deaths: free retry, retries, crash error ----------------------------------------


def test_task_queued_behind_a_crash_gets_a_free_retry() -> None:
    state = make_state()
    running, waiting = make_task(max_retries=0), make_task(max_retries=0)
    pushes = of(submit_and_lease(state, running, waiting), Push)
    lease = pushes[0].lease
    lost = StreamEnded("the worker died")
    # The running one dies with the worker: no retries left, so it fails with the cause.
    (inspect,) = of(state.push_failed(running, lost), InspectDeadWorker)
    assert not inspect.not_started
    info = common_pb2.WorkerExitInfo(exit_code=1, description="exited with code 1")
    (fail,) = of(state.worker_died(running, lease, lost, False, info), Fail)
    assert isinstance(fail.error, rex.WorkerCrashedError)
    assert "exited with code 1" in str(fail.error)
    # The one waiting behind it had not started: it runs again without using a retry.
    (inspect,) = of(state.push_failed(waiting, lost), InspectDeadWorker)
    assert inspect.not_started
    actions = state.worker_died(waiting, lease, lost, True, info)
    assert not of(actions, Fail)
    assert waiting.free_retries == 1 and waiting.spec.attempt_number == 0
    assert of(actions, RequestLease)  # the dead lease is gone: a new one is needed


def test_free_retries_are_bounded() -> None:
    state = make_state()
    running, waiting = make_task(max_retries=0), make_task(max_retries=0)
    waiting.free_retries = 3
    of(submit_and_lease(state, running, waiting), Push)
    (inspect,) = of(state.push_failed(waiting, StreamEnded("died")), InspectDeadWorker)
    assert not inspect.not_started


def test_never_sent_task_is_retried_for_free() -> None:
    state = make_state()
    task = make_task(max_retries=0)
    lease = of(submit_and_lease(state, task), Push)[0].lease
    failure = NotSent("the stream broke before it was sent")
    of(state.push_failed(task, failure), InspectDeadWorker)
    actions = state.worker_died(task, lease, failure, False, None)
    assert not of(actions, Fail) and task.spec.attempt_number == 0
    assert ReturnLease(lease, True) in actions  # the node did not say: end the lease


def test_worker_death_uses_retries_then_fails() -> None:
    state = make_state()
    task = make_task(max_retries=1)
    for attempt in range(2):
        if attempt == 0:
            lease = of(submit_and_lease(state, task), Push)[0].lease
        else:
            lease = of(state.lease_granted(task.shape, grant(attempt)), Push)[0].lease
        of(state.push_failed(task, StreamEnded("died")), InspectDeadWorker)
        actions = state.worker_died(task, lease, StreamEnded("died"), False, None)
        if attempt == 0:
            assert not of(actions, Fail)
            assert task.retries_left == 0 and task.spec.attempt_number == 1
    (fail,) = of(actions, Fail)
    assert isinstance(fail.error, rex.WorkerCrashedError) and "ran 2 time(s)" in str(fail.error)


def test_no_retry_while_stopping() -> None:
    state = make_state()
    task = make_task(max_retries=3)
    lease = of(submit_and_lease(state, task), Push)[0].lease
    of(state.push_failed(task, StreamEnded("died")), InspectDeadWorker)
    actions = state.worker_died(task, lease, StreamEnded("died"), False, None, stopping=True)
    assert of(actions, Fail)


# ---- application errors and retry_exceptions ------------------------------------------------


def _error_reply(task: NormalTask) -> core_worker_pb2.PushTaskReply:
    return ok_reply(task, is_application_error=True)


def test_application_error_completes_without_retry_exceptions() -> None:
    state = make_state()
    task = make_task(max_retries=3)
    of(submit_and_lease(state, task), Push)
    actions = state.replied(task, _error_reply(task))
    assert of(actions, Complete) and task.retries_left == 3


def test_retry_exceptions_retries_until_retries_run_out() -> None:
    state = make_state()
    task = make_task(max_retries=1, retry_exceptions=True)
    of(submit_and_lease(state, task), Push)
    first = state.replied(task, _error_reply(task))
    assert not of(first, Complete)
    assert [p.task for p in of(first, Push)] == [task] and task.retries_left == 0
    assert of(state.replied(task, _error_reply(task)), Complete)


def test_exception_type_not_in_retry_list_is_not_retried() -> None:
    state = make_state()
    task = make_task(max_retries=3, retry_exceptions=True)
    of(submit_and_lease(state, task), Push)
    assert of(state.replied(task, _error_reply(task), retryable=False), Complete)


# ---- cancellation ---------------------------------------------------------------------------


def test_cancel_of_a_queued_task_fails_it_at_once() -> None:
    state = make_state()
    task = make_task()
    state.submit(task)
    (fail,) = of(state.cancel(task, force=False, recursive=True), Fail)
    assert isinstance(fail.error, rex.TaskCancelledError) and not task.shape.queue


def test_cancel_of_a_task_waiting_for_dependencies_fails_it() -> None:
    state = make_state()
    task = make_task()
    task.state = TaskState.WAITING_FOR_DEPS
    assert of(state.cancel(task, force=False, recursive=False), Fail)
    assert task.cancelled


def test_cancel_of_a_running_task_is_sent_to_its_worker() -> None:
    state = make_state()
    task = make_task()
    lease = of(submit_and_lease(state, task), Push)[0].lease
    assert state.cancel(task, force=True, recursive=False) == [SendCancel(lease, task, True, False)]
    # A cancelled task whose worker died is not retried.
    of(state.push_failed(task, StreamEnded("killed")), InspectDeadWorker)
    (fail,) = of(state.worker_died(task, lease, StreamEnded("killed"), False, None), Fail)
    assert isinstance(fail.error, rex.TaskCancelledError)


def test_cancelled_task_given_back_fails() -> None:
    state = make_state()
    a, b = make_task(), make_task()
    of(submit_and_lease(state, a, b), Push)
    assert of(state.cancel(b, force=False, recursive=False), SendCancel)
    actions = state.replied(b, core_worker_pb2.PushTaskReply(task_id=b.task_id, not_run=True))
    assert isinstance(of(actions, Fail)[0].error, rex.TaskCancelledError)


def test_drain_returns_every_lease_and_ends_workers_still_running_a_task() -> None:
    state = make_state()
    task = make_task()
    lease = of(submit_and_lease(state, task), Push)[0].lease
    # Its task still runs: the worker is returned with disconnect (the node manager ends it
    # rather than marking a busy worker idle).
    assert state.drain() == [ReturnLease(lease, True)]
    state = make_state()
    task = make_task()
    lease = of(submit_and_lease(state, task), Push)[0].lease
    state.replied(task, ok_reply(task))
    assert state.drain() == [ReturnLease(lease, False)]


def _code():  # noqa: ANN202
    import grpc

    return grpc.StatusCode.UNAVAILABLE
