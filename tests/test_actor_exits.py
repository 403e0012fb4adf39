"""How an actor's own exit is treated, as in Ray: `sys.exit()` and `os._exit(n)` in its code are
the actor dying (restarted under `max_restarts`, calls retried under `max_task_retries`, else
RayActorError), while `ray.actor.exit_actor()` is an intentional exit (never restarted)."""

from __future__ import annotations

import os
import sys

import pytest

import ray
from ray.exceptions import RayActorError, RayTaskError

pytestmark = pytest.mark.timeout(120)


@ray.remote(max_restarts=1)
class Exiter:
    def __init__(self) -> None:
        self.pid = os.getpid()

    def get_pid(self) -> int:
        return self.pid

    def sys_exit(self, code) -> None:
        sys.exit(code)

    def os_exit(self, code: int) -> None:
        os._exit(code)

    def exit_actor(self) -> None:
        ray.actor.exit_actor()


@pytest.mark.parametrize("how", ["sys_exit_0", "sys_exit_1", "sys_exit_text", "os_exit_0"])
def test_own_exit_is_a_death_and_restarts(ray_start_regular_shared, how: str) -> None:
    actor = Exiter.remote()
    first = ray.get(actor.get_pid.remote(), timeout=60)
    method, arg = {
        "sys_exit_0": (actor.sys_exit, 0),
        "sys_exit_1": (actor.sys_exit, 1),
        "sys_exit_text": (actor.sys_exit, "bye"),
        "os_exit_0": (actor.os_exit, 0),
    }[how]
    with pytest.raises(RayActorError):
        ray.get(method.remote(arg), timeout=60)
    # Restarted (max_restarts=1): a new process serves the next call.
    second = ray.get(actor.get_pid.remote(), timeout=60)
    assert second != first
    # The restart is used up: the next death is final.
    with pytest.raises(RayActorError):
        ray.get(method.remote(arg), timeout=60)
    with pytest.raises(RayActorError, match="died"):
        ray.get(actor.get_pid.remote(), timeout=60)


def test_calls_are_retried_after_a_sys_exit_under_max_task_retries(
    ray_start_regular_shared, tmp_path
) -> None:
    @ray.remote(max_restarts=1, max_task_retries=1)
    class ExitOnce:
        def run(self, marker: str) -> int:
            if not os.path.exists(marker):
                open(marker, "w").close()  # noqa: SIM115
                sys.exit(3)
            return os.getpid()

    marker = str(tmp_path / "exited-once")
    actor = ExitOnce.remote()
    assert ray.get(actor.run.remote(marker), timeout=60) != os.getpid()
    assert os.path.exists(marker)  # the first attempt ran and exited


def test_exit_actor_is_intentional_and_not_restarted(ray_start_regular_shared) -> None:
    actor = Exiter.remote()
    ray.get(actor.get_pid.remote(), timeout=60)
    ray.get(actor.exit_actor.remote(), timeout=60)
    with pytest.raises(RayActorError, match="on purpose"):
        ray.get(actor.get_pid.remote(), timeout=60)


def test_sys_exit_in_a_task_is_its_error(ray_start_regular_shared) -> None:
    @ray.remote(max_retries=0)
    def leave() -> None:
        sys.exit(2)

    with pytest.raises(RayTaskError) as info:
        ray.get(leave.remote(), timeout=60)
    assert "SystemExit" in str(info.value)
