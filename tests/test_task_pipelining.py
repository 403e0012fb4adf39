"""A leased worker gets its next task while it runs the current one (MAX_TASKS_IN_FLIGHT_PER_WORKER).

A task queued that way must never wait on the one ahead of it: the worker gives it back when
that task blocks in get/wait or runs long, and the submitter schedules it again without
using a retry.
"""

from __future__ import annotations

import time

import pytest

import ray

pytestmark = pytest.mark.timeout(180)


@ray.remote(num_cpus=0)
class Signal:
    def __init__(self) -> None:
        self.ready = False

    def send(self) -> None:
        self.ready = True

    def is_set(self) -> bool:
        return self.ready


@ray.remote(max_retries=0)
def wait_for(signal) -> str:
    while not ray.get(signal.is_set.remote()):
        time.sleep(0.01)
    return "released"


@ray.remote(max_retries=0)
def send(signal) -> str:
    ray.get(signal.send.remote())
    return "sent"


@ray.remote(max_retries=0)
def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@ray.remote(max_retries=0)
def quick(i: int) -> int:
    return i


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 1}], indirect=True)
def test_task_queued_behind_a_blocked_task_still_runs(ray_start_regular):
    """On one CPU the sender can only be queued behind the waiter; it must not deadlock."""
    signal = Signal.remote()
    waiter = wait_for.remote(signal)
    sender = send.remote(signal)
    assert ray.get([waiter, sender], timeout=120) == ["released", "sent"]


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2}], indirect=True)
def test_short_tasks_do_not_wait_behind_a_long_one(ray_start_regular):
    ray.get([quick.remote(i) for i in range(4)])  # two leased workers
    long = sleep.remote(30)
    shorts = [quick.remote(i) for i in range(20)]
    ready, _ = ray.wait(shorts, num_returns=len(shorts), timeout=20)
    assert len(ready) == len(shorts), "short tasks waited behind the long one"
    assert ray.get(shorts) == list(range(20))
    ray.cancel(long, force=True)


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2}], indirect=True)
def test_many_tasks_finish_with_no_retries(ray_start_regular):
    """Tasks given back do not use a retry: with max_retries=0 every one still succeeds."""
    refs = [sleep.remote(0.03 if i % 7 == 0 else 0) for i in range(300)]
    assert len(ray.get(refs, timeout=120)) == 300


@ray.remote(max_retries=0)
def crash() -> None:
    import os

    time.sleep(0.005)
    os._exit(1)


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 1}], indirect=True)
def test_task_waiting_behind_a_crash_runs_elsewhere(ray_start_regular):
    """The crash fails only the task that crashed; the ones queued behind it never started,
    so they run again without using a retry (they have max_retries=0)."""
    for _ in range(3):
        crashed = crash.remote()
        after = [quick.remote(i) for i in range(3)]
        with pytest.raises(ray.exceptions.WorkerCrashedError):
            ray.get(crashed, timeout=60)
        assert ray.get(after, timeout=60) == [0, 1, 2]
