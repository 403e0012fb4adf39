"""A generator task on another node than its caller: values stored on that node's store are
read by the caller as they are yielded, and freed on that node once the refs go.

(Its own module: the cluster fixture cannot share a process with test_generators.py's
shared single-node cluster.)
"""

from __future__ import annotations

import gc

import numpy as np
import pytest
from utils import wait_for_condition, wait_for_file

import ray

MB = 1024 * 1024


def _store_empty() -> bool:
    from ray._private import runtime

    s = runtime.core_worker().nm.stats()
    assert s.num_objects == 0, f"{s.num_objects} object(s) still in the head's store"
    return True


@pytest.mark.timeout(300)
@pytest.mark.slow
def test_generator_on_another_node(ray_start_cluster, tmp_path):
    from ray._private.rpc.gcs_client import GcsClient
    from ray._private.rpc.node_manager_client import NodeManagerClient

    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    node_b = cluster.add_node(num_cpus=1, resources={"nodeB": 1})
    cluster.wait_for_nodes()
    cluster.connect()
    release = str(tmp_path / "release")

    @ray.remote(resources={"nodeB": 0.1})
    def on_b(release: str):
        yield np.full(MB, 1, dtype=np.uint8)
        wait_for_file(release)
        yield np.full(MB, 2, dtype=np.uint8)

    gen = on_b.remote(release)
    first = ray.get(next(gen), timeout=120)
    assert first[0] == 1 and first.nbytes == MB
    open(release, "w").close()
    assert [int(ray.get(r, timeout=120)[0]) for r in gen] == [2]
    del first, gen
    gc.collect()
    (b,) = [
        n
        for n in GcsClient(cluster.address, cluster.token).get_all_nodes()
        if n.node_id == node_b.node_id
    ]
    client = NodeManagerClient(f"{b.node_manager_address}:{b.node_manager_port}", cluster.token)
    wait_for_condition(lambda: client.stats().num_objects == 0, timeout=60)
    wait_for_condition(_store_empty, timeout=60)
