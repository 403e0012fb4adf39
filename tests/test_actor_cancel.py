"""`ray.cancel` of actor method calls, as upstream documents it.

- async actor: a running call's coroutine is cancelled (it sees asyncio.CancelledError) and
  the caller's get raises TaskCancelledError; a call waiting for a slot never runs.
- sync actor: a call that has not started is dropped (TaskCancelledError); a running one is
  not interrupted (actors have state) and returns its result.
- force=True is refused for actor calls (ValueError).
"""

from __future__ import annotations

import asyncio

import pytest
from utils import SignalActor, wait_for_condition

import ray
from ray.exceptions import TaskCancelledError

pytestmark = pytest.mark.timeout(300)


Signal = ray.remote(num_cpus=0)(SignalActor)


@ray.remote
class AsyncActor:
    def __init__(self, signal) -> None:
        self.signal = signal
        self.started: list[str] = []
        self.saw_cancel: list[str] = []

    async def block(self, tag: str) -> str:
        self.started.append(tag)
        try:
            await self.signal.wait.remote()
        except asyncio.CancelledError:
            self.saw_cancel.append(tag)
            raise
        return tag

    async def state(self) -> tuple[list[str], list[str]]:
        return list(self.started), list(self.saw_cancel)


@ray.remote
class SyncActor:
    def __init__(self, signal) -> None:
        self.signal = signal
        self.started: list[str] = []

    def block(self, tag: str) -> str:
        self.started.append(tag)
        ray.get(self.signal.wait.remote(), timeout=240)
        return tag

    def state(self) -> list[str]:
        return list(self.started)


def _started(actor, tag: str) -> bool:
    state = ray.get(actor.state.remote(), timeout=60)
    started = state[0] if isinstance(state, tuple) else state
    assert tag in started, started
    return True


def test_cancel_running_async_call_cancels_its_coroutine(ray_start_regular) -> None:
    signal = Signal.remote()
    a = AsyncActor.remote(signal)
    ref = a.block.remote("x")
    wait_for_condition(lambda: _started(a, "x"), timeout=60)
    ray.cancel(ref)
    with pytest.raises(TaskCancelledError):
        ray.get(ref, timeout=60)
    wait_for_condition(lambda: ray.get(a.state.remote())[1] == ["x"], timeout=60)
    # The actor lives on and serves later calls.
    later = a.block.remote("y")
    ray.get(signal.send.remote())
    assert ray.get(later, timeout=60) == "y"


def test_cancel_async_call_waiting_for_a_slot_never_runs_it(ray_start_regular) -> None:
    signal = Signal.remote()
    # One call at a time in the default group; state() is watched from a group of its own.
    a = AsyncActor.options(max_concurrency=1, concurrency_groups={"watch": 1}).remote(signal)
    watch = a.state.options(concurrency_group="watch")
    first = a.block.remote("first")
    queued = a.block.remote("queued")
    wait_for_condition(lambda: "first" in ray.get(watch.remote(), timeout=60)[0], timeout=60)
    ray.cancel(queued)
    with pytest.raises(TaskCancelledError):
        ray.get(queued, timeout=60)
    ray.get(signal.send.remote())
    assert ray.get(first, timeout=60) == "first"
    assert ray.get(watch.remote()) == (["first"], [])


def test_cancel_sync_call_not_started_drops_it(ray_start_regular) -> None:
    signal = Signal.remote()
    a = SyncActor.remote(signal)
    first = a.block.remote("first")
    queued = a.block.remote("queued")
    after = a.state.remote()
    ray.cancel(queued)
    with pytest.raises(TaskCancelledError):
        ray.get(queued, timeout=60)
    ray.get(signal.send.remote())
    assert ray.get(first, timeout=60) == "first"
    # The call after the dropped one runs, and the dropped one never did.
    assert ray.get(after, timeout=60) == ["first"]
    assert ray.get(a.state.remote()) == ["first"]


def test_cancel_running_sync_call_does_not_interrupt_it(ray_start_regular) -> None:
    signal = Signal.remote()
    a = SyncActor.options(max_concurrency=2).remote(signal)
    ref = a.block.remote("x")
    wait_for_condition(lambda: _started(a, "x"), timeout=60)
    ray.cancel(ref)
    # Still running: an interrupted call would have finished with an error by now.
    ready, _ = ray.wait([ref], timeout=2)
    assert not ready
    ray.get(signal.send.remote())
    assert ray.get(ref, timeout=60) == "x"


def test_force_cancel_of_an_actor_call_is_refused(ray_start_regular) -> None:
    signal = Signal.remote()
    a = AsyncActor.remote(signal)
    ref = a.block.remote("x")
    with pytest.raises(ValueError, match="force=True is not supported for actor tasks"):
        ray.cancel(ref, force=True)
    ray.get(signal.send.remote())
    assert ray.get(ref, timeout=60) == "x"
