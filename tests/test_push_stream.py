"""The task push stream (PushTaskStream): the token check, batching under load, order,
closing when idle, and tasks on a stream whose worker dies."""

from __future__ import annotations

import os
import signal

import grpc
import pytest
from utils import wait_for_condition

import ray
from ray._private import constants, runtime
from ray._private.generated import common_pb2, core_worker_pb2, core_worker_pb2_grpc

pytestmark = pytest.mark.timeout(120)


@ray.remote
class Counter:
    def __init__(self) -> None:
        self.value = 0

    def increment(self) -> int:
        self.value += 1
        return self.value

    def pid(self) -> int:
        return os.getpid()


def _open_stream(metadata: tuple) -> grpc.StatusCode:
    """Opens a PushTaskStream to the driver's own core worker; returns how it ended."""
    cw = runtime.core_worker()
    channel = grpc.insecure_channel(f"{cw.address.ip_address}:{cw.address.port}")
    try:
        stub = core_worker_pb2_grpc.CoreWorkerServiceStub(channel)
        batch = core_worker_pb2.PushTaskStreamRequest(
            requests=[core_worker_pb2.PushTaskRequest(task_spec=common_pb2.TaskSpec(name="x"))]
        )
        with pytest.raises(grpc.RpcError) as info:
            list(stub.PushTaskStream(iter([batch]), timeout=10, metadata=metadata))
        return info.value.code()
    finally:
        channel.close()


def test_stream_requires_the_cluster_token(ray_start_regular_shared):
    assert _open_stream(()) == grpc.StatusCode.UNAUTHENTICATED
    assert _open_stream((("x-ray-token", "wrong"),)) == grpc.StatusCode.UNAUTHENTICATED
    # With the token the call gets through to the driver, which runs no tasks.
    token_md = runtime.core_worker().token_md
    assert _open_stream(token_md) == grpc.StatusCode.FAILED_PRECONDITION


def test_burst_of_calls_keeps_order(ray_start_regular_shared):
    counter = Counter.remote()
    refs = [counter.increment.remote() for _ in range(3000)]
    assert ray.get(refs) == list(range(1, 3001))


def test_idle_stream_closes_and_a_new_one_opens(ray_start_regular_shared, monkeypatch):
    monkeypatch.setattr(constants, "STREAM_IDLE_S", 0.2)
    streams = runtime.core_worker().push_streams
    counter = Counter.remote()
    assert ray.get(counter.increment.remote()) == 1
    wait_for_condition(lambda: not streams._streams, timeout=15)
    assert ray.get([counter.increment.remote() for _ in range(5)]) == [2, 3, 4, 5, 6]


def test_calls_on_a_stream_whose_worker_dies_fail_or_retry(ray_start_regular_shared):
    @ray.remote(max_restarts=1, max_task_retries=0)
    class Sleeper:
        def pid(self) -> int:
            return os.getpid()

        def sleep(self, s: float) -> str:
            import time

            time.sleep(s)
            return "done"

    actor = Sleeper.remote()
    pid = ray.get(actor.pid.remote())
    in_flight = [actor.sleep.remote(30) for _ in range(3)]
    wait_for_condition(lambda: runtime.core_worker().push_streams._streams, timeout=10)
    os.kill(pid, signal.SIGKILL)
    for ref in in_flight:
        with pytest.raises(ray.exceptions.RayActorError):
            ray.get(ref, timeout=60)
    # The restarted actor gets a new stream.
    assert ray.get(actor.pid.remote(), timeout=60) != pid


def test_past_the_stream_limit_calls_go_unary(ray_start_regular_shared, monkeypatch):
    monkeypatch.setattr(constants, "MAX_PUSH_STREAMS", 1)
    streams = runtime.core_worker().push_streams
    wait_for_condition(lambda: not streams._streams, timeout=15)
    counters = [Counter.remote() for _ in range(3)]
    for expected in (1, 2, 3):
        assert ray.get([c.increment.remote() for c in counters]) == [expected] * 3
    assert len(streams._streams) == 1
