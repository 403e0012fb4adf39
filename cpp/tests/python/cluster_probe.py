"""What the C++ cluster tests (cpp/tests/started_cluster_test.cc) read of a running cluster:
the object stores and the worker processes of its nodes, as `ray status` reads them.

    python cluster_probe.py HOST:PORT
    python cluster_probe.py HOST:PORT --until-objects N --until-bytes B --timeout S

Prints one line `num_objects=N used_bytes=B cpus_free=F worker_pids=P,P,...` (sums over the
alive nodes; cpus_free is 1 when every CPU is available, else 0). With --until-*, polls every
0.2 s until the stores hold exactly that (and every CPU is free), then prints the last
reading; exits 1 if they never did within the timeout. The token is found by address
(the record `ray start` keeps for this user), or RAY_CLUSTER_TOKEN.
"""

from __future__ import annotations

import argparse
import sys
import time

from ray._private import session
from ray._private.generated import common_pb2
from ray._private.rpc.gcs_client import GcsClient
from ray._private.rpc.node_manager_client import NodeManagerClient


def read(address: str, token: str) -> tuple[int, int, bool, list[int]]:
    objects = used = 0
    cpus_free = True
    pids: list[int] = []
    for node in GcsClient(address, token).get_all_nodes():
        if node.state != common_pb2.NODE_STATE_ALIVE:
            continue
        nm = NodeManagerClient(f"{node.node_manager_address}:{node.node_manager_port}", token)
        stats = nm.stats(timeout_s=5)
        objects += stats.num_objects
        used += stats.object_store_used_bytes
        pids += list(stats.worker_pids)
        total, available = stats.resources.total, stats.resources.available
        cpus_free = cpus_free and available.get("CPU", 0.0) == total.get("CPU", 0.0)
    return objects, used, cpus_free, sorted(pids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("address")
    parser.add_argument("--until-objects", type=int, default=None)
    parser.add_argument("--until-bytes", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=30.0)
    opts = parser.parse_args()
    token = session.find_token(opts.address)
    if not token:
        print(f"no token for {opts.address}", file=sys.stderr)
        return 2
    deadline = time.monotonic() + opts.timeout
    while True:
        objects, used, cpus_free, pids = read(opts.address, token)
        met = (
            (opts.until_objects is None or objects == opts.until_objects)
            and (opts.until_bytes is None or used == opts.until_bytes)
            and (opts.until_objects is None or cpus_free)
        )
        if met or time.monotonic() > deadline:
            print(
                f"num_objects={objects} used_bytes={used} cpus_free={int(cpus_free)} "
                f"worker_pids={','.join(map(str, pids))}"
            )
            return 0 if met else 1
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
