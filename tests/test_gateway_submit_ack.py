"""The Submit stream holds an acknowledgement back while results it was asked for are on
their way, so both travel in one reply (SUBMIT_ACK_HOLD_S, here made long so that the test
does not depend on timing), and sends it at once when no result was asked for."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from gateway_client import GatewayClient, python_function, value
from utils import assert_no_leaks, child_processes, shm_entries

import ray
from ray._private import runtime, serialization

pytestmark = pytest.mark.timeout(240)

CODE = str(Path(__file__).parent / "gateway_code")


def frame(v: object) -> bytes:
    return serialization.serialize(v).to_bytes()


@pytest.fixture(scope="module")
def client():
    shm_before = shm_entries()
    seen = []
    with pytest.MonkeyPatch.context() as env:
        # The session owner (started by the node manager) inherits it.
        env.setenv("RAY_SUBMIT_ACK_HOLD_S", "30")
        info = ray.init(num_cpus=2, namespace="gateway-ack-tests")
    try:
        c = GatewayClient(
            info.address_info["gcs_address"], runtime._node.token, code_search_path=[CODE]
        )
        try:
            yield c
        finally:
            c.close()
    finally:
        seen.extend(child_processes())
        ray.shutdown()
        assert_no_leaks(shm_before, seen)


def test_an_acknowledgement_waits_for_the_results_on_their_way(client):
    item, oid = client.task_item(python_function("gateway_targets", "sleep"), [value(frame(0.3))])
    item.return_results = True
    (reply,) = client.submit_replies([item], count=1)
    assert reply.num_accepted == 1
    assert [r.object_id for r in reply.results] == [oid]
    assert serialization.deserialize(reply.results[0].frame) == 0.3


def test_an_acknowledgement_without_results_asked_for_goes_at_once(client):
    item, _ = client.task_item(python_function("gateway_targets", "sleep"), [value(frame(20))])
    start = time.monotonic()
    (reply,) = client.submit_replies([item], count=1)
    assert reply.num_accepted == 1 and not reply.results
    # Not held back for the task (20 s) nor for the hold (30 s).
    assert time.monotonic() - start < 15
