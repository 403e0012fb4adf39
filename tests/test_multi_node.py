"""Smoke test of the `ray_start_cluster` fixture: real node processes register with the GCS
and leave it when removed. (Scheduling across nodes is tested once it is built.)
"""

from __future__ import annotations

import pytest
from utils import wait_for_condition

import ray

pytestmark = pytest.mark.timeout(120)


def test_nodes_register_and_leave(ray_start_cluster):
    cluster = ray_start_cluster
    head = cluster.add_node(num_cpus=1)
    worker = cluster.add_node(num_cpus=2, resources={"Extra": 1})
    cluster.wait_for_nodes(timeout=30)
    assert cluster.alive_node_ids() == {head.node_id, worker.node_id}

    cluster.connect()
    nodes = {n["NodeID"]: n for n in ray.nodes()}
    assert set(nodes) == {head.node_id.hex(), worker.node_id.hex()}
    assert all(n["Alive"] for n in nodes.values())
    assert nodes[head.node_id.hex()]["IsHead"] is True
    assert nodes[worker.node_id.hex()]["IsHead"] is False
    total = ray.cluster_resources()
    assert total["CPU"] == 3 and total["Extra"] == 1

    cluster.remove_node(worker)

    def worker_dead():
        alive = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
        assert alive == {head.node_id.hex()}, alive
        return True

    wait_for_condition(worker_dead, timeout=30)
    assert ray.cluster_resources()["CPU"] == 1
