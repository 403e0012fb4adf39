"""RequestWorkerLease as node_manager.proto documents it, against a real node manager."""

from __future__ import annotations

import pytest
from utils import wait_for_condition

import ray
from ray._private import ids, runtime
from ray._private.generated import node_manager_pb2

pytestmark = pytest.mark.timeout(120)


def _request(cw, resources: dict[str, float], timeout_ms: int, lease_id: bytes | None = None):
    return node_manager_pb2.RequestWorkerLeaseRequest(
        lease_id=lease_id or ids.new_unique_id(),
        job_id=cw.job_id,
        resources=resources,
        timeout_ms=timeout_ms,
        requester_address=cw.address,
    )


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 1}], indirect=True)
def test_lease_not_granted_in_time_gets_an_empty_reply_and_leaves_the_queue(ray_start_regular):
    cw = runtime.core_worker()
    first = _request(cw, {"CPU": 1.0}, 10_000)
    granted = cw.nm.request_lease(first, timeout_s=30)
    assert granted.worker_address.port and not granted.infeasible
    # A retry of the same request gets the same lease (idempotent per lease_id).
    again = cw.nm.request_lease(first, timeout_s=30)
    assert again.worker_address.worker_id == granted.worker_address.worker_id
    # The node is full: a second request waits its timeout, then gets an empty reply.
    waiting = cw.nm.request_lease(_request(cw, {"CPU": 1.0}, 300), timeout_s=30)
    assert not waiting.worker_address.port and not waiting.infeasible and not waiting.canceled
    wait_for_condition(lambda: cw.nm.stats().num_pending_leases == 0, timeout=10)
    # More than the node has is infeasible at once.
    assert cw.nm.request_lease(_request(cw, {"CPU": 5.0}, 10_000), timeout_s=30).infeasible
    cw.nm.return_worker(first.lease_id)

    @ray.remote
    def one() -> int:
        return 1

    assert ray.get(one.remote(), timeout=60) == 1  # the CPU is free again
