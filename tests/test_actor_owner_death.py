"""Actors die with their owner (the driver or worker that created them) unless detached.

Upstream semantics: a non-detached actor's lifetime is tied to its owner process; when the
owner dies (even by SIGKILL) or its job ends, the actor is killed and not restarted, whatever
its max_restarts. A detached actor (`lifetime="detached"`) survives its creator.
"""

from __future__ import annotations

import os
import signal
import subprocess

import psutil
import pytest
from utils import start_driver, wait_for_condition

import ray

pytestmark = pytest.mark.timeout(300)

# How long the cluster may take to notice an owner's death and end its actors.
DEATH_WAIT_S = 60

DRIVER = """
import os, time, ray
ray.init(address="auto", namespace="owner_death")

@ray.remote(max_restarts=-1)
class Pid:
    def pid(self):
        return os.getpid()

a = Pid.options(name={name!r}, lifetime={lifetime!r}).remote()
print("ACTOR", ray.get(a.pid.remote()), flush=True)
time.sleep(600)
"""


def _read_marker(driver: subprocess.Popen, marker: str) -> str:
    """The first line of the driver's output that starts with `marker` (its rest)."""
    seen = []
    for line in driver.stdout:
        seen.append(line)
        if line.startswith(marker):
            return line[len(marker) :].strip()
    raise AssertionError(f"the driver never printed {marker!r}; its output:\n{''.join(seen)}")


def _sigkill(driver: subprocess.Popen) -> None:
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait(timeout=30)
    driver.stdout.close()


def _start(cluster, name: str, lifetime: str | None) -> tuple[subprocess.Popen, int]:
    driver = start_driver(DRIVER.format(name=name, lifetime=lifetime), env=cluster.env())
    try:
        pid = int(_read_marker(driver, "ACTOR"))
    except BaseException:
        _sigkill(driver)
        raise
    return driver, pid


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("ray_start_cluster", [{"num_nodes": 1, "num_cpus": 2}], indirect=True)
def test_actor_dies_when_its_driver_is_sigkilled(ray_start_cluster) -> None:
    driver, pid = _start(ray_start_cluster, "mine", None)
    assert psutil.pid_exists(pid)
    _sigkill(driver)
    wait_for_condition(lambda: _gone(pid), timeout=DEATH_WAIT_S)
    # Not restarted (max_restarts=-1 is not spent on its owner's death): the name is free.
    with pytest.raises(ValueError):
        ray.get_actor("mine", namespace="owner_death")


@pytest.mark.parametrize("ray_start_cluster", [{"num_nodes": 1, "num_cpus": 2}], indirect=True)
def test_detached_actor_survives_its_driver_sigkill(ray_start_cluster) -> None:
    driver, pid = _start(ray_start_cluster, "kept", "detached")
    _sigkill(driver)
    # Its owner's death is noticed within DEATH_WAIT_S; an actor that lives past a
    # non-detached actor's death (checked on the same cluster below) survived it.
    other, other_pid = _start(ray_start_cluster, "mine", None)
    _sigkill(other)
    wait_for_condition(lambda: _gone(other_pid), timeout=DEATH_WAIT_S)
    assert not _gone(pid)
    handle = ray.get_actor("kept", namespace="owner_death")
    assert ray.get(handle.pid.remote(), timeout=60) == pid
    ray.kill(handle)
    wait_for_condition(lambda: _gone(pid), timeout=DEATH_WAIT_S)


@ray.remote(max_restarts=-1)
class Child:
    def __init__(self, owner_pid: int) -> None:
        self.owner_pid = owner_pid

    def pids(self) -> tuple[int, int]:
        return self.owner_pid, os.getpid()


@ray.remote(max_retries=0)
def make_child_and_wait() -> None:
    import time

    child = Child.options(name="child", namespace="owner_death").remote(os.getpid())
    ray.get(child.pids.remote())
    time.sleep(600)


def _child_pids() -> tuple[int, int] | None:
    try:
        child = ray.get_actor("child", namespace="owner_death")
    except ValueError:
        return None
    return ray.get(child.pids.remote(), timeout=60)


@pytest.mark.parametrize("ray_start_cluster", [{"num_nodes": 1, "num_cpus": 3}], indirect=True)
def test_actor_dies_when_the_worker_of_the_task_that_made_it_is_killed(
    ray_start_cluster,
) -> None:
    ref = make_child_and_wait.remote()
    wait_for_condition(lambda: _child_pids() is not None, timeout=DEATH_WAIT_S)
    owner_pid, pid = _child_pids()
    assert owner_pid != pid
    os.kill(owner_pid, signal.SIGKILL)
    with pytest.raises(ray.exceptions.WorkerCrashedError):
        ray.get(ref, timeout=DEATH_WAIT_S)
    wait_for_condition(lambda: _gone(pid), timeout=DEATH_WAIT_S)
    # Killed for good (max_restarts=-1 is not spent on it): its name is free again.
    assert _child_pids() is None


@pytest.mark.parametrize("ray_start_cluster", [{"num_nodes": 1, "num_cpus": 3}], indirect=True)
def test_detached_actor_made_by_a_task_outlives_its_worker(ray_start_cluster) -> None:
    @ray.remote(max_retries=0)
    def make_detached() -> int:
        kept = Child.options(name="kept", namespace="owner_death", lifetime="detached").remote(
            os.getpid()
        )
        return ray.get(kept.pids.remote())[1]

    pid = ray.get(make_detached.remote(), timeout=DEATH_WAIT_S)
    ref = make_child_and_wait.remote()
    wait_for_condition(lambda: _child_pids() is not None, timeout=DEATH_WAIT_S)
    owner_pid, child_pid = _child_pids()
    os.kill(owner_pid, signal.SIGKILL)
    with pytest.raises(ray.exceptions.WorkerCrashedError):
        ray.get(ref, timeout=DEATH_WAIT_S)
    wait_for_condition(lambda: _gone(child_pid), timeout=DEATH_WAIT_S)
    kept = ray.get_actor("kept", namespace="owner_death")
    assert ray.get(kept.pids.remote(), timeout=60)[1] == pid
    ray.kill(kept)
    wait_for_condition(lambda: _gone(pid), timeout=DEATH_WAIT_S)


@ray.remote
class Parent:
    def __init__(self) -> None:
        self.child = Child.remote(os.getpid())

    def child_pid(self) -> int:
        return ray.get(self.child.pids.remote())[1]


def test_actor_made_by_an_actor_dies_when_that_actor_is_killed(ray_start_regular) -> None:
    parent = Parent.remote()
    pid = ray.get(parent.child_pid.remote(), timeout=DEATH_WAIT_S)
    ray.kill(parent)
    wait_for_condition(lambda: _gone(pid), timeout=DEATH_WAIT_S)


@pytest.mark.slow
def test_actor_dies_when_its_owners_node_is_lost(ray_start_cluster) -> None:
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1, resources={"near": 1})
    far = cluster.add_node(num_cpus=1, resources={"far": 1})
    cluster.connect()

    @ray.remote(num_cpus=0, resources={"far": 1}, max_retries=0)
    def make_near_child() -> None:
        import time

        child = Child.options(
            name="child", namespace="owner_death", num_cpus=0, resources={"near": 0.1}
        ).remote(os.getpid())
        ray.get(child.pids.remote())
        time.sleep(600)

    ref = make_near_child.remote()
    wait_for_condition(lambda: _child_pids() is not None, timeout=DEATH_WAIT_S)
    _, pid = _child_pids()
    assert psutil.pid_exists(pid)  # on the head node: it outlives the lost node
    cluster.kill_node(far)
    with pytest.raises((ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError)):
        ray.get(ref, timeout=DEATH_WAIT_S * 2)
    wait_for_condition(lambda: _gone(pid), timeout=DEATH_WAIT_S)
    assert _child_pids() is None
