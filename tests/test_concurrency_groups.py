"""Concurrency groups of actors (`concurrency_groups=`, `@ray.method(concurrency_group=)`,
`.options(concurrency_group=)`), threaded and async.

Calls block on a signal actor until the test releases them; the actor counts the calls of
each group running at once. Each group reaches its limit while the others run too, and no
group ever exceeds it.
"""

from __future__ import annotations

import threading

import pytest
from utils import SignalActor, wait_for_condition

import ray

pytestmark = pytest.mark.timeout(300)


Signal = ray.remote(num_cpus=0)(SignalActor)


class _Counts:
    """Calls running now and the most ever running at once, by group."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: dict[str, int] = {}
        self.peak: dict[str, int] = {}

    def enter(self, group: str) -> None:
        with self.lock:
            self.now[group] = self.now.get(group, 0) + 1
            self.peak[group] = max(self.peak.get(group, 0), self.now[group])

    def leave(self, group: str) -> None:
        with self.lock:
            self.now[group] -= 1


@ray.remote(concurrency_groups={"io": 2, "compute": 4})
class Threaded:
    def __init__(self, signal) -> None:
        self.signal = signal
        self.tally = _Counts()

    def _block(self, group: str) -> str:
        self.tally.enter(group)
        try:
            ray.get(self.signal.wait.remote(), timeout=240)
        finally:
            self.tally.leave(group)
        return threading.current_thread().name

    @ray.method(concurrency_group="io")
    def io(self) -> str:
        return self._block("io")

    @ray.method(concurrency_group="compute")
    def compute(self) -> str:
        return self._block("compute")

    def plain(self) -> str:
        return self._block("default")

    def generic(self, group: str) -> str:
        return self._block(group)

    @ray.method(concurrency_group="io")
    def counts(self) -> tuple[dict, dict]:
        return dict(self.tally.now), dict(self.tally.peak)


@ray.remote(concurrency_groups={"io": 2, "compute": 4}, max_concurrency=3)
class Async:
    def __init__(self, signal) -> None:
        self.signal = signal
        # Each group runs on an event loop (a thread) of its own.
        self.tally = _Counts()

    async def _block(self, group: str) -> str:
        self.tally.enter(group)
        try:
            await self.signal.wait.remote()
        finally:
            self.tally.leave(group)
        return group

    @ray.method(concurrency_group="io")
    async def io(self) -> str:
        return await self._block("io")

    @ray.method(concurrency_group="compute")
    async def compute(self) -> str:
        return await self._block("compute")

    async def plain(self) -> str:
        return await self._block("default")

    async def generic(self, group: str) -> str:
        return await self._block(group)

    @ray.method(concurrency_group="compute")
    async def counts(self) -> tuple[dict, dict]:
        return dict(self.tally.now), dict(self.tally.peak)

    async def ping(self) -> str:
        return "pong"

    @ray.method(concurrency_group="io")
    def hold(self) -> str:
        # A sync method blocks its group's event loop, and only that one.
        ray.get(self.signal.wait.remote(), timeout=240)
        return "held"


def _wait_counts(actor, want: dict[str, int]) -> dict:
    def reached():
        now, _ = ray.get(actor.counts.remote(), timeout=60)
        assert {g: now.get(g, 0) for g in want} == want, now
        return True

    wait_for_condition(reached, timeout=60)
    return ray.get(actor.counts.remote(), timeout=60)[1]


def test_threaded_groups_run_side_by_side_up_to_their_limits(ray_start_regular) -> None:
    signal = Signal.remote()
    a = Threaded.remote(signal)
    # The default group has max_concurrency=1 thread, "io" 2 and "compute" 4; counts()
    # runs in "io", so 1 io call is left blocked to leave it a thread.
    io = [a.io.remote() for _ in range(1)]
    compute = [a.compute.remote() for _ in range(6)]
    plain = [a.plain.remote() for _ in range(3)]
    _wait_counts(a, {"io": 1, "compute": 4, "default": 1})
    ray.get(signal.send.remote())
    names = ray.get(io + compute + plain, timeout=120)
    _, peak = ray.get(a.counts.remote())
    assert peak == {"io": 1, "compute": 4, "default": 1}
    # Each group has threads of its own.
    assert {n.split("_")[0] for n in names} == {"actor-io", "actor-compute", "actor-default"}


def test_threaded_io_group_limit(ray_start_regular) -> None:
    signal = Signal.remote()
    a = Threaded.remote(signal)
    io = [a.io.remote() for _ in range(5)]
    # counts() is in "io" too: run it in "compute" to watch while io is full.
    watch = a.counts.options(concurrency_group="compute")

    def full():
        now, _ = ray.get(watch.remote(), timeout=60)
        assert now.get("io") == 2, now
        return True

    wait_for_condition(full, timeout=60)
    ray.get(signal.send.remote())
    ray.get(io, timeout=120)
    _, peak = ray.get(watch.remote())
    assert peak["io"] == 2


def test_options_concurrency_group_on_a_call(ray_start_regular) -> None:
    signal = Signal.remote()
    a = Threaded.remote(signal)
    # A method of the default group sent to "compute": four run at once beside the default's one.
    moved = [a.generic.options(concurrency_group="compute").remote("moved") for _ in range(4)]
    plain = a.plain.remote()
    _wait_counts(a, {"moved": 4, "default": 1})
    ray.get(signal.send.remote())
    ray.get([*moved, plain], timeout=120)


def test_async_groups_run_side_by_side_up_to_their_limits(ray_start_regular) -> None:
    signal = Signal.remote()
    a = Async.remote(signal)
    # "io" (2) runs io() and default-group methods sent to it; "compute" (4) runs compute()
    # and counts(), so 3 compute() calls leave counts() a slot; the default group has
    # max_concurrency=3.
    io = [a.io.remote() for _ in range(3)]
    moved = [a.generic.options(concurrency_group="io").remote("io") for _ in range(3)]
    compute = [a.compute.remote() for _ in range(3)]
    plain = [a.plain.remote() for _ in range(5)]
    _wait_counts(a, {"io": 2, "compute": 3, "default": 3})
    ray.get(signal.send.remote())
    done = ray.get(io + moved + compute + plain, timeout=120)
    assert done == ["io"] * 6 + ["compute"] * 3 + ["default"] * 5
    _, peak = ray.get(a.counts.remote())
    assert peak == {"io": 2, "compute": 3, "default": 3}


def test_async_group_blocked_by_a_sync_call_does_not_stall_the_others(ray_start_regular) -> None:
    signal = Signal.remote()
    a = Async.remote(signal)
    held = a.hold.remote()
    # "compute" and the default group have loops of their own: they answer while io's
    # loop is blocked.
    assert ray.get(a.counts.remote(), timeout=60) == ({}, {})
    assert ray.get(a.ping.remote(), timeout=60) == "pong"
    ready, _ = ray.wait([held], timeout=0)
    assert not ready
    ray.get(signal.send.remote())
    assert ray.get(held, timeout=60) == "held"


def test_unknown_group_is_an_error(ray_start_regular) -> None:
    signal = Signal.remote()
    a = Threaded.remote(signal)
    with pytest.raises(ray.exceptions.RayTaskError, match="concurrency group 'nope'"):
        ray.get(a.plain.options(concurrency_group="nope").remote(), timeout=60)

    @ray.remote(concurrency_groups={"io": 1})
    class Wrong:
        @ray.method(concurrency_group="cpu")
        def f(self) -> str:
            return "f"

    with pytest.raises(ValueError, match="does not define"):
        Wrong.remote()
    # The groups may come with .options() instead.
    assert ray.get(Wrong.options(concurrency_groups={"cpu": 1}).remote().f.remote()) == "f"

    with pytest.raises(ValueError, match="max concurrency >= 1"):
        ray.remote(concurrency_groups={"io": 0})(type("Z", (), {"f": lambda self: None}))
