"""Work spread over a cluster of real nodes: custom resources, SPREAD, node affinity, a node that
joins later, chains of tasks between nodes, actors on remote nodes, and losing a node
mid-workload (tasks retried elsewhere, actors restarted elsewhere, lost outputs rebuilt)."""

from __future__ import annotations

import collections
import os
import time

import numpy as np
import pytest
from utils import wait_for_condition

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

pytestmark = pytest.mark.timeout(180)

MB = 1 << 20


@ray.remote
def where(seconds: float = 0.0) -> str:
    time.sleep(seconds)
    return ray.get_runtime_context().get_node_id()


def hex_id(node) -> str:
    return node.node_id.hex()


def test_work_lands_on_the_node_with_the_custom_resource(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=2)
    side = cluster.add_node(num_cpus=1, resources={"side": 1})
    cluster.connect()
    nodes = ray.get([where.options(resources={"side": 1}).remote() for _ in range(4)], timeout=60)
    assert set(nodes) == {hex_id(side)}

    @ray.remote(num_cpus=0, resources={"side": 1})
    class OnSide:
        def node(self):
            return ray.get_runtime_context().get_node_id()

    assert ray.get(OnSide.remote().node.remote(), timeout=60) == hex_id(side)


def test_spread_uses_every_node(ray_start_cluster):
    cluster = ray_start_cluster
    nodes = [cluster.add_node(num_cpus=2) for _ in range(3)]
    cluster.connect()
    everywhere = {hex_id(n) for n in nodes}
    seen = []

    def one_batch_covers_every_node() -> bool:
        # The driver's node learns of the others with their heartbeats (a second or so).
        placed = ray.get(
            [where.options(scheduling_strategy="SPREAD").remote(0.2) for _ in range(12)],
            timeout=90,
        )
        seen.append(collections.Counter(placed))
        return set(placed) == everywhere

    wait_for_condition(one_batch_covers_every_node, timeout=30, retry_interval_ms=100)
    assert set(seen[-1]) == everywhere and max(seen[-1].values()) <= 6, seen


def test_default_strategy_spills_to_other_nodes_when_the_local_one_is_full(ray_start_cluster):
    cluster = ray_start_cluster
    head = cluster.add_node(num_cpus=1)
    other = cluster.add_node(num_cpus=2)
    cluster.connect()
    placed = collections.Counter(ray.get([where.remote(0.5) for _ in range(6)], timeout=90))
    assert placed[hex_id(other)] >= 2 and placed[hex_id(head)] >= 1, placed


def test_node_affinity_hard_and_soft(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    target = cluster.add_node(num_cpus=1)
    cluster.connect()
    hard = NodeAffinitySchedulingStrategy(hex_id(target), soft=False)
    assert (
        ray.get([where.options(scheduling_strategy=hard).remote() for _ in range(3)])
        == [hex_id(target)] * 3
    )
    gone = "ab" * 28
    with pytest.raises(ray.exceptions.TaskUnschedulableError, match="soft=True"):
        ray.get(
            where.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(gone, soft=False)
            ).remote(),
            timeout=60,
        )
    soft = NodeAffinitySchedulingStrategy(gone, soft=True)
    assert ray.get(where.options(scheduling_strategy=soft).remote(), timeout=60)

    @ray.remote(num_cpus=0)
    class Pinned:
        def node(self):
            return ray.get_runtime_context().get_node_id()

    pinned = Pinned.options(scheduling_strategy=hard).remote()
    assert ray.get(pinned.node.remote(), timeout=60) == hex_id(target)
    nowhere = Pinned.options(
        scheduling_strategy=NodeAffinitySchedulingStrategy(gone, soft=False)
    ).remote()
    with pytest.raises(ray.exceptions.ActorUnschedulableError):
        ray.get(nowhere.node.remote(), timeout=60)


def test_a_task_that_fits_only_on_a_node_that_joins_later_runs_when_it_joins(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    cluster.connect()
    ref = where.options(resources={"late": 1}).remote()
    ready, _ = ray.wait([ref], timeout=3)
    assert not ready
    late = cluster.add_node(num_cpus=1, resources={"late": 1})
    assert ray.get(ref, timeout=60) == hex_id(late)


def test_a_chain_of_tasks_alternating_between_nodes(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    a = cluster.add_node(num_cpus=1, resources={"a": 1})
    b = cluster.add_node(num_cpus=1, resources={"b": 1})
    cluster.connect()

    @ray.remote
    def step(array, expected_node):
        assert ray.get_runtime_context().get_node_id() == expected_node
        return array + 1

    value = np.zeros(2 * MB, dtype=np.int64)  # 16 MB: passed through the stores
    ref = ray.put(value)
    for i in range(6):
        node = a if i % 2 == 0 else b
        ref = step.options(resources={"a" if node is a else "b": 1}).remote(ref, hex_id(node))
    result = ray.get(ref, timeout=120)
    assert (
        result.shape == value.shape and int(result[0]) == 6 and int(result.sum()) == 6 * value.size
    )


def test_an_actor_on_a_remote_node_called_from_tasks_on_a_third(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    home = cluster.add_node(num_cpus=1, resources={"home": 1})
    callers = cluster.add_node(num_cpus=2, resources={"callers": 2})
    cluster.connect()

    @ray.remote(num_cpus=0, resources={"home": 0.1})
    class Counter:
        def __init__(self):
            self.n = 0

        def add(self, k):
            self.n += k
            return self.n, ray.get_runtime_context().get_node_id()

    @ray.remote(resources={"callers": 1})
    def call(counter, k):
        total, actor_node = ray.get(counter.add.remote(k))
        return ray.get_runtime_context().get_node_id(), actor_node

    counter = Counter.remote()
    out = ray.get([call.remote(counter, k) for k in range(1, 6)], timeout=120)
    assert {task_node for task_node, _ in out} == {hex_id(callers)}
    assert {actor_node for _, actor_node in out} == {hex_id(home)}
    total, _ = ray.get(counter.add.remote(0), timeout=30)
    assert total == 15


def test_losing_a_node_mid_workload(ray_start_cluster):
    cluster = ray_start_cluster
    head = cluster.add_node(num_cpus=2, resources={"spare": 1})
    doomed = cluster.add_node(num_cpus=2, resources={"doomed": 1})
    cluster.connect()
    doomed_id = hex_id(doomed)
    on_doomed = NodeAffinitySchedulingStrategy(doomed_id, soft=True)

    @ray.remote(max_retries=3)
    def slow(seconds):
        time.sleep(seconds)
        return ray.get_runtime_context().get_node_id()

    @ray.remote(max_retries=2)
    def make(n):
        return np.full(n, 3, dtype=np.uint8)

    @ray.remote(num_cpus=0, max_restarts=1, max_task_retries=-1)
    class Survivor:
        def node(self):
            return ray.get_runtime_context().get_node_id()

        def pid(self):
            return os.getpid()

    survivor = Survivor.options(scheduling_strategy=on_doomed).remote()
    assert ray.get(survivor.node.remote(), timeout=60) == doomed_id
    output = make.options(scheduling_strategy=on_doomed).remote(4 * MB)
    ray.wait([output], timeout=60)

    @ray.remote(num_cpus=0, resources={"doomed": 0.1})
    def put_there():
        return [ray.put(np.ones(2 * MB, dtype=np.uint8))]

    # A ray.put object made (and owned) on the doomed node dies with its owner.
    put_on_doomed = ray.get(put_there.remote(), timeout=60)[0]
    running = [slow.options(scheduling_strategy=on_doomed).remote(5) for _ in range(2)]
    time.sleep(1.5)

    cluster.kill_node(doomed)
    # Running tasks are retried on the surviving node.
    assert set(ray.get(running, timeout=90)) == {hex_id(head)}
    # The actor restarts there.
    wait_for_condition(lambda: ray.get(survivor.node.remote(), timeout=30) == hex_id(head), 90)
    # The lost task output is rebuilt by running its task again.
    rebuilt = ray.get(output, timeout=90)
    assert rebuilt.size == 4 * MB and int(rebuilt[:10].sum()) == 30
    with pytest.raises(ray.exceptions.ObjectLostError):
        ray.get(put_on_doomed, timeout=60)
    alive = {n["NodeID"]: n["Alive"] for n in ray.nodes()}
    assert alive[doomed_id] is False and alive[hex_id(head)] is True
    assert ray.cluster_resources().get("doomed", 0) == 0


def test_lost_put_object_owned_by_the_driver_raises(ray_start_cluster):
    """A ray.put object owned by the driver whose only copy was pulled nowhere else stays on
    the driver's node; an object made by a max_retries=0 task on a lost node cannot be rebuilt."""
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    doomed = cluster.add_node(num_cpus=1, resources={"doomed": 1})
    cluster.connect()

    @ray.remote(max_retries=0, resources={"doomed": 1})
    def once():
        return np.ones(2 * MB, dtype=np.uint8)

    ref = once.remote()
    ray.wait([ref], timeout=60)
    cluster.kill_node(doomed)
    with pytest.raises(ray.exceptions.ObjectLostError, match="max_retries=0"):
        ray.get(ref, timeout=90)
