"""Actor resources and lifetime, each test on a fresh cluster."""

from __future__ import annotations

import os

import psutil
from utils import wait_for_condition

import ray


@ray.remote
class Counter:
    def __init__(self) -> None:
        self.value = 0

    def increment(self) -> int:
        self.value += 1
        return self.value

    def get(self) -> int:
        return self.value


def test_actor_without_handles_exits_and_frees_resources(ray_start_regular) -> None:
    @ray.remote(num_cpus=1)
    class Holder:
        def pid(self) -> int:
            return os.getpid()

    h = Holder.remote()
    pid = ray.get(h.pid.remote())
    wait_for_condition(lambda: ray.available_resources().get("CPU", 0) == 1.0)
    del h
    wait_for_condition(lambda: not psutil.pid_exists(pid), timeout=15)
    wait_for_condition(lambda: ray.available_resources().get("CPU", 0) == 2.0, timeout=15)


def test_actor_resources_and_gpus(shutdown_only) -> None:
    ray.init(num_cpus=2, num_gpus=2, resources={"Custom": 1})

    @ray.remote(num_gpus=0.5)
    class GpuActor:
        def ids(self) -> tuple:
            return ray.get_gpu_ids(), os.environ.get("CUDA_VISIBLE_DEVICES")

    a, b = GpuActor.remote(), GpuActor.remote()
    (ids_a, env_a), (ids_b, env_b) = ray.get([a.ids.remote(), b.ids.remote()])
    assert len(ids_a) == 1 and env_a == str(ids_a[0])
    assert len(ids_b) == 1 and env_b == str(ids_b[0])
    # Default actors hold no CPU while alive.
    plain = [Counter.remote() for _ in range(4)]
    assert ray.get([p.increment.remote() for p in plain]) == [1] * 4
    wait_for_condition(lambda: ray.available_resources().get("CPU") == 2.0)
    c = Counter.options(num_cpus=1, resources={"Custom": 1}).remote()
    ray.get(c.get.remote())
    wait_for_condition(lambda: ray.available_resources().get("CPU") == 1.0)
    assert "Custom" not in ray.available_resources()


def test_infeasible_actor_stays_pending_and_warns(shutdown_only, capfd) -> None:
    ray.init(num_cpus=1)

    @ray.remote(num_gpus=1)
    class NeedsGpu:
        def ping(self) -> str:
            return "pong"

    a = NeedsGpu.remote()
    ready, _ = ray.wait([a.ping.remote()], timeout=1.0)
    assert ready == []

    def warned() -> bool:
        return "no node can ever hold this actor's resources" in capfd.readouterr().err

    wait_for_condition(warned, timeout=10)
