"""Actors against a real cluster: creation, ordering, handles, names, lifetime, failures, concurrency."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import psutil
import pytest
from utils import wait_for_condition

import ray
from ray.exceptions import ActorDiedError, RayActorError, RayTaskError
from ray.util import ActorPool


@ray.remote
class Counter:
    def __init__(self, start: int = 0) -> None:
        self.value = start

    def increment(self) -> int:
        self.value += 1
        return self.value

    def get(self) -> int:
        return self.value

    def pid(self) -> int:
        return os.getpid()

    def gpu_ids(self) -> tuple:
        return ray.get_gpu_ids(), os.environ.get("CUDA_VISIBLE_DEVICES")

    def fail(self) -> None:
        raise ValueError("method failed")


def test_seed_counter_example(ray_start_regular_shared) -> None:
    counters = [Counter.remote() for _ in range(10)]
    assert ray.get([c.increment.remote() for c in counters]) == [1] * 10
    assert ray.get([counters[0].increment.remote() for _ in range(5)]) == [2, 3, 4, 5, 6]


def test_each_actor_is_its_own_process(ray_start_regular_shared) -> None:
    a, b = Counter.remote(), Counter.remote()
    pa, pb = ray.get([a.pid.remote(), b.pid.remote()])
    assert pa != pb and pa != os.getpid()


def test_constructor_args_and_object_ref_args(ray_start_regular_shared) -> None:
    ref = ray.put(41)
    c = Counter.remote(ref)
    assert ray.get(c.increment.remote()) == 42
    c2 = Counter.options(name=None).remote(start=10)
    assert ray.get(c2.get.remote()) == 10


def test_calls_from_one_caller_run_in_order(ray_start_regular_shared) -> None:
    @ray.remote
    class Log:
        def __init__(self) -> None:
            self.items: list[int] = []

        def add(self, x: int, delay: float) -> None:
            time.sleep(delay)
            self.items.append(x)

        def items_(self) -> list[int]:
            return self.items

    log = Log.remote()
    slow = ray.put(0.05)
    refs = [log.add.remote(i, slow if i % 3 == 0 else 0.0) for i in range(30)]
    ray.get(refs)
    assert ray.get(log.items_.remote()) == list(range(30))


def test_calls_on_different_actors_run_in_parallel(ray_start_regular_shared) -> None:
    @ray.remote
    class Sleeper:
        def sleep(self, s: float) -> float:
            time.sleep(s)
            return s

    a, b = Sleeper.remote(), Sleeper.remote()
    ray.get([a.sleep.remote(0), b.sleep.remote(0)])
    start = time.monotonic()
    ray.get([a.sleep.remote(1.0), b.sleep.remote(1.0)])
    assert time.monotonic() - start < 1.9


def test_method_exception_keeps_actor_alive(ray_start_regular_shared) -> None:
    c = Counter.remote()
    with pytest.raises(ValueError, match="method failed") as info:
        ray.get(c.fail.remote())
    assert isinstance(info.value, RayTaskError)
    assert ray.get(c.increment.remote()) == 1


def test_init_failure_fails_every_call(ray_start_regular_shared) -> None:
    @ray.remote
    class Broken:
        def __init__(self) -> None:
            raise ZeroDivisionError("bad init")

        def f(self) -> int:
            return 1

    b = Broken.remote()
    for _ in range(2):
        with pytest.raises(RayActorError) as info:
            ray.get(b.f.remote(), timeout=30)
        assert "bad init" in str(info.value)
        assert info.value.actor_init_failed
        assert isinstance(info.value, ActorDiedError)


def test_an_argument_that_cannot_be_read_fails_the_creation(ray_start_regular_shared) -> None:
    """A constructor argument whose owner died fails the actor's creation (the actor is dead,
    naming the cause), rather than leaving an actor with no instance."""

    @ray.remote
    class Owner:
        def make(self) -> list:
            return [ray.put(b"x" * 1000)]

    @ray.remote
    class Reader:
        def __init__(self, data) -> None:
            self.data = data

        def size(self) -> int:
            return len(self.data)

    owner = Owner.remote()
    (ref,) = ray.get(owner.make.remote(), timeout=30)
    ray.kill(owner)
    with pytest.raises(RayActorError):
        ray.get(owner.make.remote(), timeout=30)
    reader = Reader.remote(ref)
    for _ in range(2):
        with pytest.raises(ActorDiedError) as info:
            ray.get(reader.size.remote(), timeout=30)
        assert info.value.actor_init_failed
        assert "OwnerDiedError" in str(info.value) and ref.hex() in str(info.value)


def test_handles_passed_to_tasks_and_actors(ray_start_regular_shared) -> None:
    c = Counter.remote()

    @ray.remote
    def bump(counter, n: int) -> list[int]:
        return [ray.get(counter.increment.remote()) for _ in range(n)]

    @ray.remote
    class Caller:
        def call(self, counter, n: int) -> list[int]:
            return [ray.get(counter.increment.remote()) for _ in range(n)]

    caller = Caller.remote()
    results = ray.get([bump.remote(c, 10), caller.call.remote(c, 10)])
    for seq in results:  # each caller sees its own increments in order
        assert seq == sorted(seq)
    assert sorted(results[0] + results[1]) == list(range(1, 21))
    assert ray.get(c.get.remote()) == 20


def test_named_actors(ray_start_regular_shared) -> None:
    c = Counter.options(name="named-counter").remote()
    ray.get(c.increment.remote())
    same = ray.get_actor("named-counter")
    assert ray.get(same.increment.remote()) == 2
    again = Counter.options(name="named-counter", get_if_exists=True).remote()
    assert ray.get(again.increment.remote()) == 3
    with pytest.raises(ValueError, match="already taken"):
        Counter.options(name="named-counter").remote()
    with pytest.raises(ValueError, match="no-such-actor"):
        ray.get_actor("no-such-actor")
    assert "named-counter" in ray.util.list_named_actors()


def test_named_actor_namespaces(ray_start_regular_shared) -> None:
    a = Counter.options(name="ns-counter", namespace="alpha").remote()
    b = Counter.options(name="ns-counter", namespace="beta").remote(100)
    ray.get([a.get.remote(), b.get.remote()])
    assert ray.get(ray.get_actor("ns-counter", namespace="alpha").get.remote()) == 0
    assert ray.get(ray.get_actor("ns-counter", namespace="beta").get.remote()) == 100
    with pytest.raises(ValueError):
        ray.get_actor("ns-counter")  # not in this job's namespace


def test_kill_makes_later_calls_fail(ray_start_regular_shared) -> None:
    c = Counter.remote()
    pid = ray.get(c.pid.remote())
    ray.kill(c)
    with pytest.raises(ActorDiedError, match="killed"):
        ray.get(c.increment.remote(), timeout=30)
    wait_for_condition(lambda: not psutil.pid_exists(pid), timeout=10)


def test_restart_after_sigkill(ray_start_regular_shared) -> None:
    @ray.remote(max_restarts=2)
    class Restartable:
        def __init__(self) -> None:
            self.calls = 0

        def call(self) -> int:
            self.calls += 1
            return self.calls

        def pid(self) -> int:
            return os.getpid()

    r = Restartable.remote()
    assert ray.get(r.call.remote()) == 1
    for _ in range(2):
        pid = ray.get(r.pid.remote())
        os.kill(pid, signal.SIGKILL)
        # State is rebuilt by __init__ on the new process.
        assert wait_for_condition(lambda: _call_or_none(r) == 1, timeout=30)
        assert ray.get(r.pid.remote()) != pid
    pid = ray.get(r.pid.remote())
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(ActorDiedError, match="SIGKILL|signal 9"):
        for _ in range(100):
            ray.get(r.call.remote(), timeout=30)
            time.sleep(0.1)


def _call_or_none(actor) -> int | None:
    try:
        return ray.get(actor.call.remote(), timeout=30)
    except RayActorError:
        return None


def test_max_task_retries_retries_calls_in_flight(ray_start_regular_shared, tmp_path) -> None:
    @ray.remote(max_restarts=1, max_task_retries=1)
    class Flaky:
        def work(self, marker: str) -> str:
            if not os.path.exists(marker):
                open(marker, "w").close()
                os.kill(os.getpid(), signal.SIGKILL)
            return "done"

    f = Flaky.remote()
    assert ray.get(f.work.remote(str(tmp_path / "m")), timeout=60) == "done"


def test_call_in_flight_fails_without_task_retries(ray_start_regular_shared) -> None:
    @ray.remote(max_restarts=1)
    class Dies:
        def die(self) -> None:
            os.kill(os.getpid(), signal.SIGKILL)

        def ok(self) -> str:
            return "ok"

    d = Dies.remote()
    with pytest.raises(RayActorError):
        ray.get(d.die.remote(), timeout=30)
    assert wait_for_condition(lambda: _ok_or_none(d) == "ok", timeout=30)


def _ok_or_none(actor) -> str | None:
    try:
        return ray.get(actor.ok.remote(), timeout=30)
    except RayActorError:
        return None


def test_async_actor_interleaves(ray_start_regular_shared) -> None:
    @ray.remote
    class AsyncActor:
        def __init__(self) -> None:
            self.running = 0
            self.peak = 0

        async def work(self, delay: float) -> int:
            self.running += 1
            self.peak = max(self.peak, self.running)
            await asyncio.sleep(delay)
            self.running -= 1
            return self.peak

        async def peak_(self) -> int:
            return self.peak

    a = AsyncActor.remote()
    start = time.monotonic()
    ray.get([a.work.remote(0.5) for _ in range(20)])
    assert time.monotonic() - start < 5
    assert ray.get(a.peak_.remote()) > 1


def test_async_actor_max_concurrency(ray_start_regular_shared) -> None:
    @ray.remote(max_concurrency=2)
    class Limited:
        def __init__(self) -> None:
            self.running = 0
            self.peak = 0

        async def work(self) -> None:
            self.running += 1
            self.peak = max(self.peak, self.running)
            await asyncio.sleep(0.1)
            self.running -= 1

        async def peak_(self) -> int:
            return self.peak

    a = Limited.remote()
    ray.get([a.work.remote() for _ in range(10)])
    assert ray.get(a.peak_.remote()) == 2


def test_threaded_actor(ray_start_regular_shared) -> None:
    @ray.remote(max_concurrency=4)
    class Threaded:
        def __init__(self) -> None:
            import threading

            self.lock = threading.Lock()
            self.running = 0
            self.peak = 0

        def work(self) -> None:
            with self.lock:
                self.running += 1
                self.peak = max(self.peak, self.running)
            time.sleep(0.3)
            with self.lock:
                self.running -= 1

        def peak_(self) -> int:
            return self.peak

    t = Threaded.remote()
    ray.get([t.work.remote() for _ in range(8)])
    assert ray.get(t.peak_.remote()) == 4


def test_await_refs_and_get_inside_actors(ray_start_regular_shared) -> None:
    @ray.remote
    def square(x: int) -> int:
        return x * x

    @ray.remote
    class Awaiter:
        async def via_await(self, x: int) -> int:
            return await square.remote(x)

        def via_get(self, x: int) -> int:
            return ray.get(square.remote(x))

    a = Awaiter.remote()
    assert ray.get([a.via_await.remote(3), a.via_get.remote(4)]) == [9, 16]


def test_method_num_returns(ray_start_regular_shared) -> None:
    @ray.remote
    class Multi:
        @ray.method(num_returns=2)
        def pair(self) -> tuple[int, int]:
            return 1, 2

        def three(self) -> tuple[int, int, int]:
            return 1, 2, 3

    m = Multi.remote()
    x, y = m.pair.remote()
    assert ray.get([x, y]) == [1, 2]
    refs = m.three.options(num_returns=3).remote()
    assert ray.get(refs) == [1, 2, 3]


def test_exit_actor(ray_start_regular_shared) -> None:
    @ray.remote
    class Quitter:
        def quit(self) -> None:
            ray.actor.exit_actor()

        def ping(self) -> str:
            return "pong"

    q = Quitter.remote()
    assert ray.get(q.ping.remote()) == "pong"
    ray.get(q.quit.remote())
    with pytest.raises(ActorDiedError, match="exited"):
        for _ in range(100):
            ray.get(q.ping.remote(), timeout=30)
            time.sleep(0.05)


def test_actor_pool(ray_start_regular_shared) -> None:
    @ray.remote
    class Doubler:
        def double(self, x: int) -> int:
            return 2 * x

    pool = ActorPool([Doubler.remote(), Doubler.remote()])
    assert list(pool.map(lambda a, v: a.double.remote(v), range(6))) == [0, 2, 4, 6, 8, 10]
    assert sorted(pool.map_unordered(lambda a, v: a.double.remote(v), range(6))) == [
        0,
        2,
        4,
        6,
        8,
        10,
    ]
    pool.submit(lambda a, v: a.double.remote(v), 21)
    assert pool.has_next()
    assert pool.get_next() == 42


def test_direct_instantiation_is_an_error(ray_start_regular_shared) -> None:
    with pytest.raises(TypeError, match="Counter.remote"):
        Counter()
    c = Counter.remote()
    with pytest.raises(TypeError, match="increment.remote"):
        c.increment()
    with pytest.raises(AttributeError):
        c.no_such_method  # noqa: B018

