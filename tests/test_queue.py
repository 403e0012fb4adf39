"""`ray.util.queue.Queue`: an actor-backed FIFO shared by the driver, tasks and actors."""

from __future__ import annotations

import asyncio
import queue as std_queue

import pytest
from utils import wait_for_condition

import ray
from ray.exceptions import RayActorError
from ray.util.queue import Empty, Full, Queue

TIMEOUT_S = 60


def test_put_get_in_order_and_sizes(ray_start_regular) -> None:
    q = Queue()
    assert q.empty() and not q.full() and q.qsize() == 0 and q.size() == 0 and len(q) == 0
    for item in range(5):
        q.put(item)
    q.put_nowait({"five": 5})
    assert q.qsize() == 6 and len(q) == 6 and not q.empty()
    assert not q.full()  # no maxsize: never full
    assert [q.get() for _ in range(5)] == [0, 1, 2, 3, 4]
    assert q.get_nowait() == {"five": 5}
    assert q.empty()


def test_exceptions_are_the_standard_queue_ones() -> None:
    assert issubclass(Empty, std_queue.Empty) and issubclass(Full, std_queue.Full)


def test_nowait_raises_at_once_and_blocking_calls_time_out(ray_start_regular) -> None:
    q = Queue(maxsize=2)
    with pytest.raises(Empty):
        q.get_nowait()
    with pytest.raises(Empty):
        q.get(block=False)
    with pytest.raises(Empty):
        q.get(timeout=0.2)
    q.put(1)
    q.put(2)
    assert q.full()
    with pytest.raises(Full):
        q.put_nowait(3)
    with pytest.raises(Full):
        q.put(3, block=False)
    with pytest.raises(Full):
        q.put(3, timeout=0.2)
    with pytest.raises(ValueError, match="non-negative"):
        q.put(3, timeout=-1)
    with pytest.raises(ValueError, match="non-negative"):
        q.get(timeout=-1)
    # Nothing was lost or added by the failed calls.
    assert [q.get(timeout=TIMEOUT_S), q.get(timeout=TIMEOUT_S)] == [1, 2]


def test_batches_are_all_or_nothing(ray_start_regular) -> None:
    q = Queue(maxsize=3)
    with pytest.raises(TypeError):
        q.put_nowait_batch((1, 2))
    q.put_nowait_batch([1, 2])
    with pytest.raises(Full, match="Cannot add 2 items"):
        q.put_nowait_batch([3, 4])
    assert q.qsize() == 2
    with pytest.raises(Empty, match="Cannot get 3 items"):
        q.get_nowait_batch(3)
    with pytest.raises(TypeError):
        q.get_nowait_batch("2")
    with pytest.raises(ValueError):
        q.get_nowait_batch(-1)
    assert q.get_nowait_batch(0) == []
    assert q.get_nowait_batch(2) == [1, 2]
    assert q.empty()


def test_a_blocked_get_returns_when_a_task_puts(ray_start_regular) -> None:
    q = Queue()

    @ray.remote
    def put_later(q: Queue, item: str) -> None:
        q.put(item)

    ref = put_later.remote(q, "hello")
    assert q.get(timeout=TIMEOUT_S) == "hello"
    ray.get(ref, timeout=TIMEOUT_S)


def test_a_blocked_put_returns_when_the_driver_gets(ray_start_regular) -> None:
    q = Queue(maxsize=1)
    q.put("first")

    @ray.remote
    def put_blocking(q: Queue) -> str:
        q.put("second", timeout=TIMEOUT_S)
        return "done"

    ref = put_blocking.remote(q)
    ready, _ = ray.wait([ref], timeout=0.5)
    assert ready == []  # the queue is full: the task waits for room
    assert q.get(timeout=TIMEOUT_S) == "first"
    assert ray.get(ref, timeout=TIMEOUT_S) == "done"
    assert q.get(timeout=TIMEOUT_S) == "second"


def test_producer_task_and_consumer_actor(ray_start_regular) -> None:
    q = Queue(maxsize=4)

    @ray.remote
    def produce(q: Queue, n: int) -> int:
        for i in range(n):
            q.put(i, timeout=TIMEOUT_S)
        q.put(None, timeout=TIMEOUT_S)
        return n

    @ray.remote
    class Consumer:
        def __init__(self, q: Queue) -> None:
            self.q = q

        def drain(self) -> list:
            out = []
            while (item := self.q.get(timeout=TIMEOUT_S)) is not None:
                out.append(item)
            return out

    consumer = Consumer.remote(q)
    drained = consumer.drain.remote()
    assert ray.get(produce.remote(q, 20), timeout=TIMEOUT_S) == 20
    assert ray.get(drained, timeout=TIMEOUT_S) == list(range(20))
    assert q.empty()


def test_async_put_and_get(ray_start_regular) -> None:
    q = Queue(maxsize=1)

    async def main() -> list:
        await q.put_async("a")
        with pytest.raises(Full):
            await q.put_async("b", block=False)
        with pytest.raises(Full):
            await q.put_async("b", timeout=0.2)
        first = await q.get_async()
        with pytest.raises(Empty):
            await q.get_async(block=False)
        with pytest.raises(Empty):
            await q.get_async(timeout=0.2)
        return [first]

    assert asyncio.run(main()) == ["a"]

    @ray.remote
    class AsyncUser:
        async def roundtrip(self, q: Queue) -> str:
            await q.put_async("from an async actor")
            return await q.get_async(timeout=TIMEOUT_S)

    user = AsyncUser.remote()
    assert ray.get(user.roundtrip.remote(q), timeout=TIMEOUT_S) == "from an async actor"


def test_actor_options_are_applied(ray_start_regular) -> None:
    q = Queue(actor_options={"name": "shared-queue", "num_cpus": 0})
    q.put(42)
    same = ray.get_actor("shared-queue")
    assert ray.get(same.qsize.remote()) == 1
    assert q.get() == 42


@pytest.mark.parametrize("force", [False, True])
def test_shutdown_ends_the_actor(ray_start_regular, force: bool) -> None:
    q = Queue()
    q.put(1)
    actor = q.actor
    q.shutdown(force=force, grace_period_s=TIMEOUT_S)
    assert q.actor is None
    with pytest.raises(RuntimeError, match="shut down"):
        q.put(2)

    def actor_gone() -> bool:
        try:
            ray.get(actor.qsize.remote(), timeout=TIMEOUT_S)
        except RayActorError:
            return True
        return False

    wait_for_condition(actor_gone, timeout=TIMEOUT_S)
    q.shutdown()  # twice is fine
