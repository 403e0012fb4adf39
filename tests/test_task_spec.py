"""TaskSpecBuilder, without processes: the actor call's request carries a complete spec."""

from __future__ import annotations

from ray._private import ids
from ray._private.generated import common_pb2
from ray._private.worker.task_spec import BuiltArgs, TaskSpecBuilder, return_ids
from ray._private.worker.tasks import ActorCall

JOB = ids.job_id_from_int(3)
ACTOR = ids.new_actor_id(JOB)
CALLER = common_pb2.Address(ip_address="127.0.0.1", port=1, worker_id=b"w" * 28, node_id=b"n" * 28)
METHOD = common_pb2.FunctionDescriptor(
    language=common_pb2.LANGUAGE_PYTHON, class_name="Counter", function_name="incr"
)


def builder(parent: bytes = b"") -> TaskSpecBuilder:
    def put_frame(frame, contained):
        raise AssertionError("small arguments stay inline")

    return TaskSpecBuilder(lambda: JOB, CALLER, lambda: parent, put_frame)


def test_a_plain_call_sets_only_what_it_needs() -> None:
    request = builder().actor_call(ACTOR, METHOD, BuiltArgs([], [], []), 1, 0, "Counter.incr")
    spec = request.task_spec
    assert request.caller_worker_id == CALLER.worker_id
    assert {f.name for f, _ in spec.ListFields()} == {
        "task_id",
        "job_id",
        "type",
        "name",
        "function",
        "num_returns",
        "caller_address",
        "actor_id",
        "return_ids",
    }
    assert spec.type == common_pb2.TASK_TYPE_ACTOR
    assert spec.job_id == JOB and ids.job_id_of_task(spec.task_id) == JOB
    assert spec.function == METHOD and spec.caller_address == CALLER
    assert list(spec.return_ids) == [ids.object_id_for_return(spec.task_id, 1)]


def test_every_option_reaches_the_spec() -> None:
    arg = common_pb2.TaskArg(inline_data=b"frame")
    request = builder(parent=b"p" * 24).actor_call(
        ACTOR,
        METHOD,
        BuiltArgs([arg], [], []),
        3,
        2,
        "custom",
        task_id=ids.new_task_id(JOB),
        concurrency_group="io",
        retry_exceptions=True,
        generator_kind=common_pb2.GENERATOR_KIND_STREAMING,
        generator_backpressure=4,
    )
    spec = request.task_spec
    assert list(spec.args) == [arg]
    assert spec.max_retries == 2 and spec.retry_exceptions
    assert spec.parent_task_id == b"p" * 24
    assert spec.concurrency_group == "io" and spec.name == "custom"
    assert spec.generator_kind == common_pb2.GENERATOR_KIND_STREAMING
    assert spec.generator_backpressure_num_objects == 4
    assert list(spec.return_ids) == [ids.object_id_for_return(spec.task_id, i) for i in (1, 2, 3)]


def test_the_record_shares_the_requests_spec() -> None:
    """The call is sent without a copy: what the submitter writes (the sequence number) is in
    the request that goes out."""
    request = builder().actor_call(ACTOR, METHOD, BuiltArgs([], [], []), 1, 0, "Counter.incr")
    call = ActorCall(request.task_spec, 0, [], actor_id=ACTOR, request=request)
    assert call.task_id == request.task_spec.task_id
    call.spec.sequence_number = 7
    assert request.task_spec.sequence_number == 7


def test_return_ids() -> None:
    task_id = ids.new_task_id(JOB)
    assert return_ids(task_id, 0) == []
    assert return_ids(task_id, 2) == [ids.object_id_for_return(task_id, i) for i in (1, 2)]
