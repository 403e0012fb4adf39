"""Generator tasks: streaming (`ObjectRefGenerator`, the default for a body that yields) and
dynamic (`DynamicObjectRefGenerator`), on tasks, sync actors and async actors.

Values are read before their task ends (the generators here block on a file that the test
creates only after reading the first value), `async for` and `ray.wait` take generators,
backpressure pauses the generator, errors surface at the position where the task failed,
`ray.cancel` stops the task, crashed tasks are retried without duplicating values, and the
store is empty again once the refs go.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time

import numpy as np
import pytest
from utils import wait_for_condition, wait_for_file

import ray
from ray.exceptions import (
    GetTimeoutError,
    RayActorError,
    RayTaskError,
    TaskCancelledError,
    WorkerCrashedError,
)

pytestmark = pytest.mark.timeout(180)

MB = 1024 * 1024


def _count_files(directory: str, prefix: str) -> int:
    return sum(1 for name in os.listdir(directory) if name.startswith(prefix))


def _attempt(path: str) -> int:
    """Records one attempt (a line) and returns its number, from 1."""
    with open(path, "a") as f:
        f.write("x\n")
    with open(path) as f:
        return len(f.readlines())


def _stats():
    from ray._private import runtime

    return runtime.core_worker().nm.stats()


def _store_empty() -> bool:
    s = _stats()
    assert s.num_objects == 0 and s.object_store_used_bytes == 0, (
        f"{s.num_objects} object(s), {s.object_store_used_bytes} bytes still in the store"
    )
    return True


# ---- the generators under test ---------------------------------------------------------------


@ray.remote
def gated(release: str):
    yield "first"
    yield "released" if wait_for_file(release) else "timed out"
    yield "last"


@ray.remote
def count(n: int):
    yield from range(n)


@ray.remote
def fails_after(k: int):
    yield from range(k)
    raise ValueError(f"failed after {k}")


@ray.remote
class SyncActor:
    def gated(self, release: str):
        yield "first"
        yield "released" if wait_for_file(release) else "timed out"
        yield "last"

    def fails_after(self, k: int):
        yield from range(k)
        raise ValueError(f"failed after {k}")

    def produce(self, directory: str, n: int):
        for i in range(n):
            open(os.path.join(directory, f"made-{i}"), "w").close()
            yield i

    def crash_after(self, k: int, read: str):
        yield from range(k)
        wait_for_file(read)  # the values reach the caller before the crash
        os._exit(1)


@ray.remote
class AsyncActor:
    async def gated(self, release: str):
        yield "first"
        ok = await asyncio.to_thread(wait_for_file, release)
        yield "released" if ok else "timed out"
        yield "last"

    async def fails_after(self, k: int):
        for i in range(k):
            await asyncio.sleep(0)
            yield i
        raise ValueError(f"failed after {k}")


def _gated(kind: str):
    if kind == "task":
        return gated, None
    actor = SyncActor.remote() if kind == "sync actor" else AsyncActor.remote()
    return actor.gated, actor


KINDS = ["task", "sync actor", "async actor"]


# ---- streaming: values arrive as they are yielded --------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_first_value_is_read_before_the_task_ends(ray_start_regular_shared, tmp_path, kind):
    method, _actor = _gated(kind)
    release = str(tmp_path / "release")
    gen = method.remote(release)
    assert isinstance(gen, ray.ObjectRefGenerator)
    first = next(gen)
    # The task cannot end before `release` exists, and the test creates it only now.
    assert ray.get(first, timeout=60) == "first"
    ready, _ = ray.wait([gen.completed()], timeout=0)
    assert not ready, "the generator task ended before the test released it"
    open(release, "w").close()
    assert [ray.get(ref, timeout=60) for ref in gen] == ["released", "last"]
    assert gen.is_finished()
    with pytest.raises(StopIteration):
        next(gen)


def test_for_loop_and_next(ray_start_regular_shared):
    gen = count.remote(5)
    with pytest.raises(ValueError, match="iterate it"):
        ray.get(gen)
    with pytest.raises(NotImplementedError):
        gen.send(1)
    assert ray.get(gen.send(None)) == 0
    assert ray.get(next(gen)) == 1
    assert [ray.get(r) for r in gen] == [2, 3, 4]
    gen = count.remote(5)
    assert ray.get(next(gen)) == 0
    assert [ray.get(r) for r in gen] == [1, 2, 3, 4]
    assert [ray.get(r) for r in count.remote(0)] == []


def test_many_values_in_order(ray_start_regular_shared):
    assert [ray.get(r) for r in count.remote(2000)] == list(range(2000))


def test_async_for_and_anext(ray_start_regular_shared):
    async def consume():
        gen = count.remote(4)
        first = await gen.__anext__()
        rest = [ref async for ref in gen]
        with pytest.raises(StopAsyncIteration):
            await gen.__anext__()
        return [await first] + [await r for r in rest]

    assert asyncio.run(consume()) == [0, 1, 2, 3]


def test_async_for_on_an_async_actor(ray_start_regular_shared, tmp_path):
    actor = AsyncActor.remote()
    release = str(tmp_path / "release")

    async def consume():
        gen = actor.gated.remote(release)
        values = []
        async for ref in gen:
            values.append(await ref)
            if len(values) == 1:
                open(release, "w").close()
        return values

    assert asyncio.run(consume()) == ["first", "released", "last"]


def test_next_sync_times_out(ray_start_regular_shared, tmp_path):
    release = str(tmp_path / "release")
    gen = gated.remote(release)
    assert ray.get(gen._next_sync(timeout_s=60)) == "first"
    assert not gen.next_ready()
    assert gen._next_sync(timeout_s=0.5).is_nil()
    open(release, "w").close()
    wait_for_condition(gen.next_ready, timeout=60)
    assert [ray.get(r) for r in gen] == ["released", "last"]


# ---- ray.wait ----------------------------------------------------------------------------------


def test_wait_takes_generators(ray_start_regular_shared, tmp_path):
    release = str(tmp_path / "release")
    blocked = gated.remote(release)
    assert ray.get(next(blocked), timeout=60) == "first"
    # `blocked` waits for the file now; `quick` yields at once.
    quick = count.remote(1)
    ready, not_ready = ray.wait([blocked, quick], num_returns=1, timeout=60)
    assert ready == [quick] and not_ready == [blocked]
    ready, not_ready = ray.wait([blocked], timeout=0.5)
    assert ready == [] and not_ready == [blocked]
    # A plain ref beside the generators.
    ref = ray.put(1)
    ready, not_ready = ray.wait([blocked, ref], num_returns=2, timeout=0.5)
    assert ready == [ref] and not_ready == [blocked]
    open(release, "w").close()
    ready, _ = ray.wait([blocked], timeout=60)
    assert ready == [blocked]
    assert ray.get(next(blocked)) == "released"
    assert [ray.get(r) for r in quick] == [0]
    # An ended generator is ready (its next() raises StopIteration at once).
    ready, _ = ray.wait([quick], timeout=60)
    assert ready == [quick]
    with pytest.raises(StopIteration):
        next(quick)
    assert [ray.get(r) for r in blocked] == ["last"]


def test_wait_rejects_duplicates(ray_start_regular_shared):
    gen = count.remote(1)
    with pytest.raises(ValueError, match="unique"):
        ray.wait([gen, gen])
    list(gen)


# ---- backpressure ------------------------------------------------------------------------------


@pytest.mark.parametrize("on_actor", [False, True])
def test_backpressure_pauses_the_generator(ray_start_regular_shared, tmp_path, on_actor):
    directory = str(tmp_path)

    @ray.remote(_generator_backpressure_num_objects=2)
    def produce(directory: str, n: int):
        for i in range(n):
            open(os.path.join(directory, f"made-{i}"), "w").close()
            yield i

    if on_actor:
        actor = SyncActor.remote()
        gen = actor.produce.options(_generator_backpressure_num_objects=2).remote(directory, 6)
    else:
        gen = produce.remote(directory, 6)
    wait_for_condition(lambda: _count_files(directory, "made-") == 2, timeout=60)
    # Two values are unconsumed: the generator must not go on. Give it time to (wrongly) do so.
    time.sleep(1.0)
    assert _count_files(directory, "made-") == 2
    assert ray.get(next(gen)) == 0
    wait_for_condition(lambda: _count_files(directory, "made-") == 3, timeout=60)
    time.sleep(0.5)
    assert _count_files(directory, "made-") == 3
    assert [ray.get(r) for r in gen] == [1, 2, 3, 4, 5]
    assert _count_files(directory, "made-") == 6


def test_without_backpressure_the_generator_runs_ahead(ray_start_regular_shared, tmp_path):
    directory = str(tmp_path)
    actor = SyncActor.remote()
    gen = actor.produce.remote(directory, 6)
    wait_for_condition(lambda: _count_files(directory, "made-") == 6, timeout=60)
    assert [ray.get(r) for r in gen] == list(range(6))


# ---- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_exception_surfaces_at_its_position(ray_start_regular_shared, kind):
    if kind == "task":
        method = fails_after
    else:
        method = (SyncActor if kind == "sync actor" else AsyncActor).remote().fails_after
    gen = method.remote(2)
    assert ray.get(next(gen)) == 0
    assert ray.get(next(gen)) == 1
    bad = next(gen)
    with pytest.raises(RayTaskError) as info:
        ray.get(bad)
    assert isinstance(info.value, ValueError)
    assert "failed after 2" in str(info.value)
    with pytest.raises(StopIteration):
        next(gen)


def test_not_a_generator_with_streaming_fails_clearly(ray_start_regular_shared):
    @ray.remote(num_returns="streaming")
    def plain():
        return 1

    gen = plain.remote()
    with pytest.raises(TypeError, match="not a generator"):
        ray.get(next(gen))
    with pytest.raises(StopIteration):
        next(gen)


def test_unserializable_value_is_the_error_item(ray_start_regular_shared):
    @ray.remote
    def lock():
        yield 1
        yield __import__("threading").Lock()

    gen2 = lock.remote()
    assert ray.get(next(gen2)) == 1
    with pytest.raises(Exception, match="(?i)lock"):
        ray.get(next(gen2))
    with pytest.raises(StopIteration):
        next(gen2)


def test_generator_cannot_be_passed_to_a_task(ray_start_regular_shared):
    @ray.remote
    def take(x):
        return x

    gen = count.remote(1)
    with pytest.raises(TypeError, match="ObjectRefGenerator cannot be passed"):
        take.remote(gen)
    assert [ray.get(r) for r in gen] == [0]


# ---- cancel ------------------------------------------------------------------------------------


def test_cancel_stops_the_task(ray_start_regular_shared, tmp_path):
    directory = str(tmp_path)

    @ray.remote(max_retries=0)
    def endless(directory: str):
        i = 0
        while i < 100_000:  # bounded, but far beyond the test
            open(os.path.join(directory, f"made-{i}"), "w").close()
            yield i
            i += 1
            time.sleep(0.05)

    gen = endless.remote(directory)
    assert ray.get(next(gen)) == 0
    ray.cancel(gen)
    values, error = [], None
    for ref in gen:
        try:
            values.append(ray.get(ref, timeout=60))
        except TaskCancelledError as err:
            error = err
    assert error is not None, f"no TaskCancelledError after {values}"
    assert values == list(range(1, len(values) + 1))
    made = _count_files(directory, "made-")
    time.sleep(0.5)
    assert _count_files(directory, "made-") == made, "the task kept running after cancel"
    # The worker survived the cancel and runs the next task.
    assert [ray.get(r) for r in count.remote(2)] == [0, 1]


# ---- worker crashes ----------------------------------------------------------------------------


def test_crash_is_retried_without_duplicates(ray_start_regular_shared, tmp_path):
    attempts = str(tmp_path / "attempts")

    @ray.remote(max_retries=1)
    def flaky(attempts: str):
        n = _attempt(attempts)
        yield 0
        yield 1
        if n == 1:
            os._exit(1)
        yield 2
        yield 3

    gen = flaky.remote(attempts)
    assert [ray.get(r, timeout=60) for r in gen] == [0, 1, 2, 3]
    with open(attempts) as f:
        assert len(f.readlines()) == 2


def test_crash_out_of_retries_raises_at_the_next_value(ray_start_regular_shared, tmp_path):
    read = str(tmp_path / "read")

    @ray.remote(max_retries=0)
    def dies(read: str):
        yield 0
        yield 1
        wait_for_file(read)  # the values reach the caller before the crash
        os._exit(1)

    gen = dies.remote(read)
    assert ray.get(next(gen), timeout=60) == 0
    assert ray.get(next(gen), timeout=60) == 1
    open(read, "w").close()
    with pytest.raises(WorkerCrashedError):
        ray.get(next(gen), timeout=60)
    with pytest.raises(StopIteration):
        next(gen)


def test_actor_crash_raises_actor_error(ray_start_regular_shared, tmp_path):
    read = str(tmp_path / "read")
    actor = SyncActor.remote()
    gen = actor.crash_after.remote(2, read)
    assert [ray.get(next(gen), timeout=60) for _ in range(2)] == [0, 1]
    open(read, "w").close()
    with pytest.raises(RayActorError):
        ray.get(next(gen), timeout=60)
    with pytest.raises(StopIteration):
        next(gen)


# ---- dynamic -----------------------------------------------------------------------------------


def test_dynamic_generator(ray_start_regular_shared):
    @ray.remote(num_returns="dynamic")
    def split(n: int):
        for i in range(n):
            yield i * i

    ref = split.remote(4)
    assert isinstance(ref, ray.ObjectRef)
    dynamic = ray.get(ref)
    assert isinstance(dynamic, ray.DynamicObjectRefGenerator)
    assert len(dynamic) == 4
    assert [ray.get(r) for r in dynamic] == [0, 1, 4, 9]

    @ray.remote
    def total(dynamic):
        return sum(ray.get(list(dynamic)))

    # The generator's refs work in another process too (the argument is resolved to it).
    assert ray.get(total.remote(ref)) == 14


def test_dynamic_on_an_actor_method(ray_start_regular_shared):
    @ray.remote
    class Splitter:
        @ray.method(num_returns="dynamic")
        def split(self, n: int):
            yield from range(n)

    actor = Splitter.remote()
    assert [ray.get(r) for r in ray.get(actor.split.remote(3))] == [0, 1, 2]


def test_dynamic_error_raises_on_get(ray_start_regular_shared):
    @ray.remote(num_returns="dynamic")
    def fails():
        yield 1
        raise ValueError("dynamic failed")

    dynamic = ray.get(fails.remote())
    refs = list(dynamic)
    assert ray.get(refs[0]) == 1
    with pytest.raises(ValueError, match="dynamic failed"):
        ray.get(refs[1])


# ---- reference counting ------------------------------------------------------------------------


def test_large_values_are_freed(ray_start_regular_shared):
    @ray.remote
    def big(n: int):
        for i in range(n):
            yield np.full(MB, i, dtype=np.uint8)

    gen = big.remote(4)
    for i, ref in enumerate(gen):
        value = ray.get(ref)
        assert value[0] == i and value.nbytes == MB
        del value, ref
    del gen
    gc.collect()
    wait_for_condition(_store_empty, timeout=30)

    # Dropping a generator with values it never read frees them too.
    gen = big.remote(3)
    wait_for_condition(lambda: _stats().num_objects == 3, timeout=60)
    ray.get(gen.completed(), timeout=60)
    del gen
    gc.collect()
    wait_for_condition(_store_empty, timeout=30)

    # And a dynamic generator's values go with its one ref.
    ref = big.options(num_returns="dynamic").remote(2)
    values = [ray.get(r) for r in ray.get(ref)]
    assert [v[0] for v in values] == [0, 1]
    del values, ref
    gc.collect()
    wait_for_condition(_store_empty, timeout=30)


def test_consumed_ref_outlives_the_generator(ray_start_regular_shared):
    gen = count.remote(3)
    refs = list(gen)
    del gen
    gc.collect()
    assert ray.get(refs) == [0, 1, 2]


# ---- options -----------------------------------------------------------------------------------


def test_num_returns_validation(ray_start_regular_shared):
    with pytest.raises(ValueError, match="streaming"):

        @ray.remote(num_returns="many")
        def f():
            yield 1

    with pytest.raises(ValueError, match="non-negative"):
        count.options(num_returns=-1)
    with pytest.raises(ValueError, match="_generator_backpressure_num_objects"):
        count.options(_generator_backpressure_num_objects=0)
    with pytest.raises(ValueError, match="streaming"):
        SyncActor.remote().gated.options(num_returns="many")
    # Explicit "streaming" on a generator works as the default does.
    assert [ray.get(r) for r in count.options(num_returns="streaming").remote(2)] == [0, 1]


# ---- more places a generator runs or is read ---------------------------------------------------


def test_generator_read_inside_a_task(ray_start_regular_shared):
    @ray.remote
    def consume(n: int) -> list:
        return [ray.get(r) for r in count.remote(n)]

    # Two consumers on a 2-CPU node: each lends its CPU while it waits for its generator.
    assert ray.get([consume.remote(3), consume.remote(4)], timeout=120) == [
        [0, 1, 2],
        [0, 1, 2, 3],
    ]


def test_cancel_an_actor_generator(ray_start_regular_shared, tmp_path):
    directory = str(tmp_path)

    @ray.remote
    class Endless:
        def run(self, directory: str):
            for i in range(100_000):
                open(os.path.join(directory, f"made-{i}"), "w").close()
                yield i
                time.sleep(0.05)

        def ping(self) -> str:
            return "alive"

    actor = Endless.remote()
    gen = actor.run.remote(directory)
    assert ray.get(next(gen), timeout=60) == 0
    ray.cancel(gen)
    with pytest.raises(TaskCancelledError):
        for ref in gen:
            ray.get(ref, timeout=60)
    made = _count_files(directory, "made-")
    time.sleep(0.5)
    assert _count_files(directory, "made-") == made, "the method kept running after cancel"
    assert ray.get(actor.ping.remote(), timeout=60) == "alive"


def test_actor_restart_retries_the_generator(ray_start_regular_shared, tmp_path):
    attempts = str(tmp_path / "attempts")

    @ray.remote(max_restarts=1, max_task_retries=1)
    class Flaky:
        def values(self, attempts: str):
            n = _attempt(attempts)
            yield "a"
            yield "b"
            if n == 1:
                os._exit(1)
            yield "c"

    actor = Flaky.remote()
    assert [ray.get(r, timeout=60) for r in actor.values.remote(attempts)] == ["a", "b", "c"]


# ---- the caller's stream state, without processes ----------------------------------------------


class _Objects:
    """The parts of Ownership that GeneratorStreams uses: a reference counter and a store."""

    def __init__(self) -> None:
        from ray._private.worker.memory_store import MemoryStore
        from ray._private.worker.reference_counter import ReferenceCounter

        self.memory_store = MemoryStore()
        self.freed: list[bytes] = []
        self.refs = ReferenceCounter(self._on_freed, lambda released: None)

    def _on_freed(self, freed) -> None:
        self.freed += [oid for oid, _ in freed]
        self.memory_store.delete([oid for oid, _ in freed])

    def store_returned_object(self, ret) -> None:
        from ray._private.worker.memory_store import StoredObject

        if self.refs.has(ret.object_id):
            self.memory_store.put(ret.object_id, StoredObject.from_proto(ret))


def _streams_with_task(kind=None):
    from ray._private import ids
    from ray._private.generated import common_pb2
    from ray._private.worker.generators import GeneratorStreams

    objects = _Objects()
    streams = GeneratorStreams(objects, lambda blocked: False)
    task_id = ids.new_task_id(b"\0\0\0\1")
    spec = common_pb2.TaskSpec(
        task_id=task_id,
        generator_kind=kind or common_pb2.GENERATOR_KIND_STREAMING,
        return_ids=[ids.object_id_for_return(task_id, 1)],
    )
    streams.register(spec)
    return objects, streams, spec


def _report(streams, spec, start, values, **wait):
    from ray._private import serialization
    from ray._private.generated import common_pb2, core_worker_pb2
    from ray._private.worker.generators import item_id

    returns = []
    for i, value in enumerate(values):
        data = serialization.serialize(value).to_bytes()
        returns.append(
            common_pb2.ReturnObject(
                object_id=item_id(spec.task_id, start + i), data=data, size_bytes=len(data)
            )
        )
    request = core_worker_pb2.ReportGeneratorItemReturnsRequest(
        task_id=spec.task_id, item_index=start, returns=returns, **wait
    )
    return streams.report(request)


def _value(objects, ref):
    from ray._private import serialization

    value = serialization.deserialize(objects.memory_store.get(ref.binary()).data)
    if isinstance(value, serialization.ErrorValue):
        from ray._private.worker import errors

        return errors.to_exception(value.info)
    return value


def _end(objects, spec, error=None):
    from ray._private import serialization
    from ray._private.worker import errors
    from ray._private.worker.memory_store import StoredObject

    if error is None:
        frame = serialization.serialize(None).to_bytes()
    else:
        frame = errors.error_frame(error, spec.task_id)
    objects.memory_store.put(
        spec.return_ids[0], StoredObject(frame, is_error=error is not None, size_bytes=len(frame))
    )


def test_stream_ignores_items_reported_again():
    objects, streams, spec = _streams_with_task()
    assert _report(streams, spec, 0, ["a", "b"]).num_consumed == 0
    first = streams.next_ref(spec.task_id, 1)
    assert _value(objects, first) == "a"
    # A retried attempt reports from the start again: only the new item counts.
    _report(streams, spec, 0, ["A", "B", "c"])
    rest = [streams.next_ref(spec.task_id, 1) for _ in range(2)]
    assert [_value(objects, r) for r in rest] == ["b", "c"]
    _end(objects, spec)
    assert streams.next_ref(spec.task_id, 1) is None
    assert streams.is_finished(spec.task_id)


def test_stream_error_at_the_end_is_the_next_item():
    objects, streams, spec = _streams_with_task()
    _report(streams, spec, 0, [1])
    _end(objects, spec, WorkerCrashedError("the worker died"))
    assert _value(objects, streams.next_ref(spec.task_id, 1)) == 1
    assert isinstance(_value(objects, streams.next_ref(spec.task_id, 1)), WorkerCrashedError)
    assert streams.next_ref(spec.task_id, 1) is None


def test_stream_next_times_out_and_has_next():
    objects, streams, spec = _streams_with_task()
    assert not streams.has_next(spec.task_id)
    with pytest.raises(GetTimeoutError, match="item 0"):
        streams.next_ref(spec.task_id, 0.05)
    _report(streams, spec, 0, [1])
    assert streams.has_next(spec.task_id)


def test_stream_backpressure_reply_waits_for_consumption():
    import threading

    objects, streams, spec = _streams_with_task()
    _report(streams, spec, 0, [0, 1])
    replies = []
    poll = threading.Thread(
        target=lambda: replies.append(
            _report(streams, spec, 2, [], wait_timeout_ms=30_000, wait_consumed_below=1)
        )
    )
    poll.start()
    streams.next_ref(spec.task_id, 1)
    poll.join(30)
    assert replies and replies[0].num_consumed == 1 and not replies[0].stop


def test_dropped_stream_stops_the_producer():
    # (That the unread items' memory is freed is test_large_values_are_freed's job.)
    objects, streams, spec = _streams_with_task()
    _report(streams, spec, 0, [0, 1, 2])
    held = streams.next_ref(spec.task_id, 1)
    streams.drop(spec.task_id)
    assert streams.next_ref(spec.task_id, 1) is None
    assert _value(objects, held) == 0
    reply = _report(streams, spec, 3, [3])
    assert reply.stop


def test_dropping_the_generator_stops_the_task(ray_start_regular_shared, tmp_path):
    directory = str(tmp_path)

    @ray.remote(max_retries=0)
    def endless(directory: str):
        for i in range(100_000):
            open(os.path.join(directory, f"made-{i}"), "w").close()
            yield i
            time.sleep(0.02)

    gen = endless.remote(directory)
    assert ray.get(next(gen), timeout=60) == 0
    done = gen.completed()
    del gen
    gc.collect()
    assert ray.get(done, timeout=60) is None
    made = _count_files(directory, "made-")
    assert made < 100_000


def test_yielded_refs_inside_values_are_freed(ray_start_regular_shared):
    @ray.remote
    def wrapped(n: int):
        for i in range(n):
            yield [ray.put(np.full(MB, i, dtype=np.uint8))]

    values = []
    for ref in wrapped.remote(3):
        (inner,) = ray.get(ref)
        values.append(int(ray.get(inner)[0]))
    assert values == [0, 1, 2]
    del ref, inner
    gc.collect()
    wait_for_condition(_store_empty, timeout=30)


def test_retry_exceptions_reruns_a_failed_generator(ray_start_regular_shared, tmp_path):
    attempts = str(tmp_path / "attempts")

    @ray.remote(retry_exceptions=True, max_retries=1)
    def flaky(attempts: str):
        n = _attempt(attempts)
        yield 0
        yield 1
        if n == 1:
            raise ValueError("first attempt fails")
        yield 2

    assert [ray.get(r, timeout=60) for r in flaky.remote(attempts)] == [0, 1, 2]
    with open(attempts) as f:
        assert len(f.readlines()) == 2
