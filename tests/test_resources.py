"""Resources on one node: totals, availability, GPUs (none are needed: `ray.init(num_gpus=...)`
declares them), custom resources, infeasible requests and CPU lending by blocked tasks.

Each test starts its own cluster with the resources it needs.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from utils import wait_for_condition

import ray

pytestmark = pytest.mark.timeout(90)


def _record_interval(path: str, seconds: float) -> None:
    """Appends this run's [start, end] wall-clock interval to `path` (one JSON line)."""
    start = time.time()
    time.sleep(seconds)
    with open(path, "a") as f:
        f.write(json.dumps([start, time.time()]) + "\n")


def _intervals(path) -> list[list[float]]:
    return sorted(json.loads(line) for line in open(path))


def _max_overlap(intervals: list[list[float]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


def _barrier(directory: str, name: str, parties: int, timeout: float = 30) -> bool:
    """Each party creates a file; returns True once all `parties` files exist (False on timeout)."""
    open(os.path.join(directory, name), "w").close()
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(os.listdir(directory)) >= parties:
            return True
        time.sleep(0.02)
    return False


def _without_memory(resources: dict[str, float]) -> dict[str, float]:
    """Every node also offers `memory` (its available RAM less the store), which varies."""
    return {k: v for k, v in resources.items() if k != "memory"}


# ---- totals and availability ------------------------------------------------------------------


@pytest.mark.parametrize(
    "ray_start_regular",
    [{"num_cpus": 3, "num_gpus": 2, "resources": {"Custom": 2, "Other": 0.5}}],
    indirect=True,
)
def test_init_resources_in_cluster_resources(ray_start_regular):
    total = ray.cluster_resources()
    assert total["CPU"] == 3
    assert total["GPU"] == 2
    assert total["Custom"] == 2
    assert total["Other"] == 0.5
    node = ray.nodes()[0]
    assert node["Resources"]["Custom"] == 2


def test_default_num_cpus_is_detected(shutdown_only):
    ray.init()
    assert ray.cluster_resources()["CPU"] == len(os.sched_getaffinity(0))


def test_cpu_and_gpu_in_resources_is_rejected(shutdown_only):
    with pytest.raises(ValueError):
        ray.init(num_cpus=1, resources={"CPU": 2})
    assert not ray.is_initialized()


@pytest.mark.parametrize(
    "ray_start_regular", [{"num_cpus": 3, "resources": {"Custom": 2}}], indirect=True
)
def test_available_resources_drop_while_task_runs(ray_start_regular, tmp_path):
    release = tmp_path / "release"
    started = tmp_path / "started"

    @ray.remote(num_cpus=2, resources={"Custom": 1})
    def hold(started, release):
        open(started, "w").close()
        deadline = time.time() + 60
        while not os.path.exists(release) and time.time() < deadline:
            time.sleep(0.02)
        return "released"

    wait_for_condition(
        lambda: _without_memory(ray.available_resources()) == {"CPU": 3, "Custom": 2}
    )
    ref = hold.remote(str(started), str(release))
    wait_for_condition(lambda: started.exists(), timeout=30)
    available = ray.available_resources()
    assert available.get("CPU") == 1 and available.get("Custom") == 1, available
    open(release, "w").close()
    assert ray.get(ref, timeout=30) == "released"
    wait_for_condition(
        lambda: _without_memory(ray.available_resources()) == {"CPU": 3, "Custom": 2}
    )


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2}], indirect=True)
def test_default_task_takes_one_cpu(ray_start_regular, tmp_path):
    release = tmp_path / "release"

    @ray.remote
    def hold(release):
        while not os.path.exists(release):
            time.sleep(0.02)

    ref = hold.remote(str(release))
    wait_for_condition(lambda: ray.available_resources().get("CPU") == 1, timeout=30)
    open(release, "w").close()
    ray.get(ref, timeout=30)


# ---- GPUs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2, "num_gpus": 2}], indirect=True)
def test_fractional_gpu_sets_cuda_visible_devices(ray_start_regular):
    @ray.remote(num_gpus=0.5)
    def h():
        return os.environ.get("CUDA_VISIBLE_DEVICES"), ray.get_gpu_ids()

    visible, gpu_ids = ray.get(h.remote())
    assert len(gpu_ids) == 1
    assert int(gpu_ids[0]) in (0, 1)
    assert visible == str(gpu_ids[0])
    assert ray.get_gpu_ids() == []


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2, "num_gpus": 1}], indirect=True)
def test_two_half_gpu_tasks_share_one_gpu(ray_start_regular, tmp_path):
    @ray.remote(num_gpus=0.5)
    def half(directory, name):
        together = _barrier(directory, name, 2)
        return together, os.environ.get("CUDA_VISIBLE_DEVICES"), ray.get_gpu_ids()

    refs = [half.remote(str(tmp_path), f"t{i}") for i in range(2)]
    results = ray.get(refs, timeout=60)
    assert all(together for together, _, _ in results), "the two 0.5-GPU tasks did not run at once"
    assert [visible for _, visible, _ in results] == ["0", "0"]
    assert [list(map(int, ids)) for _, _, ids in results] == [[0], [0]]


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2, "num_gpus": 2}], indirect=True)
def test_whole_gpu_tasks_get_distinct_gpus(ray_start_regular, tmp_path):
    @ray.remote(num_gpus=1)
    def whole(directory, name):
        together = _barrier(directory, name, 2)
        return together, os.environ.get("CUDA_VISIBLE_DEVICES"), [int(i) for i in ray.get_gpu_ids()]

    results = ray.get([whole.remote(str(tmp_path), f"t{i}") for i in range(2)], timeout=60)
    assert all(together for together, _, _ in results)
    ids = sorted(i for _, _, gpu_ids in results for i in gpu_ids)
    assert ids == [0, 1]
    assert sorted(visible for _, visible, _ in results) == ["0", "1"]


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2, "num_gpus": 2}], indirect=True)
def test_two_gpu_task_sees_both(ray_start_regular):
    @ray.remote(num_gpus=2)
    def both():
        return os.environ.get("CUDA_VISIBLE_DEVICES"), sorted(int(i) for i in ray.get_gpu_ids())

    visible, ids = ray.get(both.remote(), timeout=60)
    assert ids == [0, 1]
    assert sorted(visible.split(",")) == ["0", "1"]


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2, "num_gpus": 1}], indirect=True)
def test_cpu_task_after_gpu_task_sees_no_gpu(ray_start_regular):
    @ray.remote(num_gpus=1)
    def gpu():
        return os.environ.get("CUDA_VISIBLE_DEVICES")

    @ray.remote
    def cpu():
        return ray.get_gpu_ids(), os.environ.get("CUDA_VISIBLE_DEVICES")

    assert ray.get(gpu.remote()) == "0"
    for ids, visible in ray.get([cpu.remote() for _ in range(4)]):
        assert ids == []
        assert visible in (None, "")


def test_gpus_detected_from_cuda_visible_devices(shutdown_only, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2")
    ray.init(num_cpus=1)
    assert ray.cluster_resources()["GPU"] == 3


def test_gpu_ids_follow_cuda_visible_devices(shutdown_only, monkeypatch):
    """With CUDA_VISIBLE_DEVICES=2,5 a task gets device 2 or 5, not a renumbered 0 or 1 (as in Ray)."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,5")
    ray.init(num_cpus=1)
    assert ray.cluster_resources()["GPU"] == 2

    @ray.remote(num_gpus=1)
    def f():
        return os.environ.get("CUDA_VISIBLE_DEVICES"), [int(i) for i in ray.get_gpu_ids()]

    visible, ids = ray.get(f.remote(), timeout=60)
    assert visible in ("2", "5")
    assert ids == [int(visible)]


def test_no_gpus_when_none_visible(shutdown_only, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    ray.init(num_cpus=1)
    assert ray.cluster_resources().get("GPU", 0) == 0


# ---- concurrency limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ray_start_regular", [{"num_cpus": 2, "resources": {"Custom": 1}}], indirect=True
)
def test_custom_resource_limits_concurrency(ray_start_regular, tmp_path):
    path = str(tmp_path / "intervals")

    # The seed's example: @ray.remote(resources={'Custom': 1}).
    @ray.remote(resources={"Custom": 1})
    def f(path):
        _record_interval(path, 0.3)
        return 1

    assert ray.get([f.remote(path) for _ in range(3)], timeout=60) == [1, 1, 1]
    intervals = _intervals(path)
    assert len(intervals) == 3
    assert _max_overlap(intervals) == 1, f"tasks needing Custom=1 overlapped: {intervals}"


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2}], indirect=True)
def test_cpu_requests_limit_concurrency(ray_start_regular, tmp_path):
    path = str(tmp_path / "intervals")

    @ray.remote(num_cpus=2)
    def whole_node(path):
        _record_interval(path, 0.3)

    ray.get([whole_node.remote(path) for _ in range(3)], timeout=60)
    intervals = _intervals(path)
    assert len(intervals) == 3 and _max_overlap(intervals) == 1, intervals


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2}], indirect=True)
def test_fractional_cpus_run_together(ray_start_regular, tmp_path):
    @ray.remote(num_cpus=0.5)
    def quarter(directory, name):
        return _barrier(directory, name, 4)

    assert (
        ray.get([quarter.remote(str(tmp_path), f"t{i}") for i in range(4)], timeout=60)
        == [True] * 4
    )


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 1}], indirect=True)
def test_zero_cpu_task_runs_while_cpus_are_busy(ray_start_regular, tmp_path):
    release = tmp_path / "release"

    @ray.remote
    def hold(release):
        while not os.path.exists(release):
            time.sleep(0.02)
        return "held"

    @ray.remote(num_cpus=0)
    def free():
        return "free"

    held = hold.remote(str(release))
    wait_for_condition(lambda: ray.available_resources().get("CPU", 0) == 0, timeout=30)
    assert ray.get(free.remote(), timeout=30) == "free"
    open(release, "w").close()
    assert ray.get(held, timeout=30) == "held"


# ---- infeasible requests ------------------------------------------------------------------------


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2}], indirect=True)
def test_infeasible_task_stays_pending_and_warns(ray_start_regular, capfd):
    @ray.remote(num_cpus=100)
    def too_big():
        return 1

    ref = too_big.remote()
    ready, not_ready = ray.wait([ref], timeout=1)
    assert ready == [] and not_ready == [ref]
    seen = []

    def warned():
        seen.append(capfd.readouterr().err)
        text = "".join(seen)
        assert "Warning: The following resource request cannot be scheduled" in text, text[-2000:]
        return True

    wait_for_condition(warned, timeout=10)

    # The rest of the cluster keeps working.
    @ray.remote
    def small():
        return 2

    assert ray.get(small.remote(), timeout=30) == 2
    ready, _ = ray.wait([ref], timeout=0.5)
    assert ready == []


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2}], indirect=True)
def test_unknown_custom_resource_is_infeasible(ray_start_regular, capfd):
    @ray.remote(resources={"Nowhere": 1})
    def f():
        return 1

    ref = f.remote()
    ready, not_ready = ray.wait([ref], timeout=1)
    assert not_ready == [ref]
    seen = []

    def warned():
        seen.append(capfd.readouterr().err)
        text = "".join(seen)
        assert "cannot be scheduled" in text and "Nowhere" in text, text[-2000:]
        return True

    wait_for_condition(warned, timeout=10)


def test_gpu_task_without_gpus_is_infeasible(shutdown_only, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    ray.init(num_cpus=1)

    @ray.remote(num_gpus=1)
    def f():
        return 1

    ready, not_ready = ray.wait([f.remote()], timeout=1)
    assert ready == [] and len(not_ready) == 1


# ---- blocked tasks lend their CPU ---------------------------------------------------------------


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 1}], indirect=True)
def test_nested_get_with_one_cpu_does_not_deadlock(ray_start_regular):
    @ray.remote
    def child(x):
        return x * 2

    @ray.remote
    def parent():
        return ray.get([child.remote(i) for i in range(3)])

    assert ray.get(parent.remote(), timeout=60) == [0, 2, 4]


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 1}], indirect=True)
def test_deep_nesting_with_one_cpu(ray_start_regular):
    @ray.remote
    def depth(n):
        if n == 0:
            return 0
        return ray.get(depth.remote(n - 1)) + 1

    assert ray.get(depth.remote(4), timeout=60) == 4


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 1}], indirect=True)
def test_wait_in_task_with_one_cpu(ray_start_regular):
    @ray.remote
    def child():
        return "child"

    @ray.remote
    def parent():
        ref = child.remote()
        # While it waits, the parent must lend its CPU so the child can run (as ray.get does).
        ready, _ = ray.wait([ref], timeout=10)
        return ray.get(ready)

    assert ray.get(parent.remote(), timeout=60) == ["child"]


# ---- the memory resource ------------------------------------------------------------------------

GiB = 1024**3


@pytest.mark.parametrize(
    "ray_start_regular", [{"num_cpus": 1, "object_store_memory": 100 * 1024**2}], indirect=True
)
def test_every_node_offers_memory_by_default(ray_start_regular):
    from ray._private.node import system_memory

    memory = ray.cluster_resources()["memory"]
    # The available RAM less the object store: positive, whole bytes, and at most the total.
    assert 0 < memory <= system_memory() - 100 * 1024**2
    assert memory == int(memory)
    assert ray.nodes()[0]["Resources"]["memory"] == memory
    assert ray.available_resources()["memory"] == memory


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2, "_memory": 3 * GiB}], indirect=True)
def test_memory_requests_schedule_and_limit_concurrency(ray_start_regular, tmp_path):
    assert ray.cluster_resources()["memory"] == 3 * GiB
    path = str(tmp_path / "intervals")

    # Upstream's example: reserve 2 GiB of the node's memory for the task.
    @ray.remote(memory=2 * GiB)
    def big(path):
        _record_interval(path, 0.3)
        return ray.get_runtime_context().get_assigned_resources().get("memory")

    assigned = ray.get([big.remote(path) for _ in range(3)], timeout=60)
    assert assigned == [2 * GiB] * 3
    intervals = _intervals(path)
    # 2 CPUs would run two at once, but only one 2 GiB reservation fits in 3 GiB.
    assert len(intervals) == 3 and _max_overlap(intervals) == 1, intervals


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2, "_memory": 3 * GiB}], indirect=True)
def test_actor_holds_its_memory_while_alive(ray_start_regular):
    @ray.remote(memory=GiB)
    class Holder:
        def ping(self):
            return "pong"

    holder = Holder.remote()
    assert ray.get(holder.ping.remote(), timeout=60) == "pong"
    wait_for_condition(lambda: ray.available_resources().get("memory") == 2 * GiB, timeout=30)
    ray.kill(holder)
    wait_for_condition(lambda: ray.available_resources().get("memory") == 3 * GiB, timeout=30)


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2, "_memory": GiB}], indirect=True)
def test_more_memory_than_any_node_has_is_infeasible(ray_start_regular, capfd):
    @ray.remote(memory=2 * GiB)
    def too_big():
        return 1

    ref = too_big.remote()
    ready, _ = ray.wait([ref], timeout=1)
    assert ready == []
    seen = []

    def warned():
        seen.append(capfd.readouterr().err)
        text = "".join(seen)
        assert "Warning: The following resource request cannot be scheduled" in text, text[-2000:]
        assert "'memory': 2147483648.0" in text, text[-2000:]
        return True

    wait_for_condition(warned, timeout=30)

    @ray.remote(memory=GiB // 2)
    def fits():
        return 2

    assert ray.get(fits.remote(), timeout=60) == 2
