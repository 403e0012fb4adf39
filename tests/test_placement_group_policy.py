"""Placement group bundles without processes: where the bundle policy puts bundles (all or
none, per strategy), the resource names a bundle adds, and a node's reservations (prepare,
commit, give back)."""

from __future__ import annotations

import pytest

from ray._private.generated import common_pb2
from ray._private.node_manager.bundle_reservations import BundleError, BundleReservations
from ray._private.scheduling import bundles as policy
from ray._private.scheduling.bundles import BundleNode, place_bundles
from ray._private.scheduling.resources import NodeResources, to_fixed

A, B, C = b"A" * 28, b"B" * 28, b"C" * 28


def node(node_id: bytes, total: dict, available: dict | None = None) -> BundleNode:
    return BundleNode(node_id, to_fixed(total), to_fixed(total if available is None else available))


def demand(*bundles: dict) -> dict[int, dict[str, int]]:
    return {i: to_fixed(b) for i, b in enumerate(bundles)}


def test_strict_pack_puts_every_bundle_on_one_node():
    nodes = [node(A, {"CPU": 2}), node(B, {"CPU": 4})]
    placement = place_bundles(demand({"CPU": 1}, {"CPU": 2}), policy.STRICT_PACK, nodes)
    assert placement.nodes == {0: B, 1: B}


def test_strict_pack_that_fits_no_single_node_is_infeasible_not_split():
    nodes = [node(A, {"CPU": 2}), node(B, {"CPU": 2})]
    placement = place_bundles(demand({"CPU": 2}, {"CPU": 1}), policy.STRICT_PACK, nodes)
    assert placement.nodes == {}
    assert placement.infeasible
    assert "STRICT_PACK" in placement.reason


def test_strict_pack_waits_when_the_node_is_busy_now():
    nodes = [node(A, {"CPU": 4}, {"CPU": 1})]
    placement = place_bundles(demand({"CPU": 1}, {"CPU": 1}), policy.STRICT_PACK, nodes)
    assert placement.nodes == {}
    assert not placement.infeasible


def test_pack_uses_one_node_when_one_fits_all():
    nodes = [node(A, {"CPU": 4}), node(B, {"CPU": 4})]
    placement = place_bundles(demand({"CPU": 1}, {"CPU": 1}, {"CPU": 2}), policy.PACK, nodes)
    assert len(set(placement.nodes.values())) == 1


def test_pack_spills_over_to_more_nodes_when_needed():
    nodes = [node(A, {"CPU": 2}), node(B, {"CPU": 2})]
    placement = place_bundles(demand({"CPU": 2}, {"CPU": 1}, {"CPU": 1}), policy.PACK, nodes)
    assert sorted(placement.nodes) == [0, 1, 2]
    used = list(placement.nodes.values())
    assert used.count(A) + used.count(B) == 3
    assert {used.count(A), used.count(B)} == {1, 2}


def test_spread_prefers_distinct_nodes_but_may_share():
    nodes = [node(A, {"CPU": 4}), node(B, {"CPU": 4})]
    placement = place_bundles(demand({"CPU": 1}, {"CPU": 1}), policy.SPREAD, nodes)
    assert set(placement.nodes.values()) == {A, B}
    three = place_bundles(demand({"CPU": 1}, {"CPU": 1}, {"CPU": 1}), policy.SPREAD, nodes)
    assert sorted(three.nodes) == [0, 1, 2]
    assert set(three.nodes.values()) == {A, B}


def test_strict_spread_needs_one_node_per_bundle():
    nodes = [node(A, {"CPU": 1}), node(B, {"CPU": 1}), node(C, {"CPU": 1})]
    placement = place_bundles(
        demand({"CPU": 1}, {"CPU": 1}, {"CPU": 1}), policy.STRICT_SPREAD, nodes
    )
    assert sorted(placement.nodes.values()) == [A, B, C]
    too_many = place_bundles(demand(*[{"CPU": 1}] * 4), policy.STRICT_SPREAD, nodes)
    assert too_many.nodes == {}
    assert too_many.infeasible
    assert "4 distinct nodes" in too_many.reason


def test_strict_spread_matches_big_bundles_to_big_nodes():
    # Greedy in bundle order would put bundle 0 on B and leave bundle 1 nowhere.
    nodes = [node(A, {"CPU": 1}), node(B, {"CPU": 4})]
    placement = place_bundles(demand({"CPU": 1}, {"CPU": 3}), policy.STRICT_SPREAD, nodes)
    assert placement.nodes == {0: A, 1: B}


def test_rescheduling_keeps_placed_bundles_and_avoids_their_nodes():
    nodes = [node(A, {"CPU": 2}), node(C, {"CPU": 2})]
    # Bundle 0 stayed on A; bundle 1 lost its node and must go elsewhere under STRICT_SPREAD.
    placement = place_bundles({1: to_fixed({"CPU": 1})}, policy.STRICT_SPREAD, nodes, {0: A})
    assert placement.nodes == {1: C}
    only_a = place_bundles({1: to_fixed({"CPU": 1})}, policy.STRICT_SPREAD, nodes[:1], {0: A})
    assert only_a.nodes == {}


def test_placement_is_all_or_nothing():
    nodes = [node(A, {"CPU": 2})]
    placement = place_bundles(demand({"CPU": 1}, {"CPU": 1}, {"CPU": 1}), policy.PACK, nodes)
    assert placement.nodes == {}
    assert not placement.infeasible  # A could hold each bundle, just not all now


def test_a_bundle_no_node_can_ever_hold_is_infeasible():
    nodes = [node(A, {"CPU": 2})]
    placement = place_bundles(demand({"GPU": 1}), policy.SPREAD, nodes)
    assert placement.infeasible
    assert "GPU" in placement.reason


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="STRICT_SPREAD"):
        place_bundles(demand({"CPU": 1}), "EVERYWHERE", [node(A, {"CPU": 1})])


def test_bundle_resource_names():
    added = policy.committed_resources([(0, {"CPU": 1}), (1, {"CPU": 2})], "ab")
    assert added["CPU_group_0_ab"] == 1
    assert added["CPU_group_1_ab"] == 2
    assert added["CPU_group_ab"] == 3
    assert added["bundle_group_ab"] == 2 * policy.BUNDLE_UNITS
    task = policy.task_resources({"CPU": 1}, 1, "ab")
    assert task == {"CPU_group_1_ab": 1.0, "bundle_group_1_ab": policy.TASK_BUNDLE_SHARE}
    anywhere = policy.task_resources({}, -1, "ab")
    assert anywhere == {"bundle_group_ab": policy.TASK_BUNDLE_SHARE}


def bundle(pg: bytes, index: int, resources: dict) -> common_pb2.Bundle:
    return common_pb2.Bundle(placement_group_id=pg, bundle_index=index, resources=resources)


def test_node_reservation_prepare_commit_give_back():
    resources = NodeResources({"CPU": 4})
    held = BundleReservations(resources)
    pg = b"\x01" * 18
    held.prepare([bundle(pg, 0, {"CPU": 1}), bundle(pg, 1, {"CPU": 2})])
    assert resources.available["CPU"] == to_fixed({"CPU": 1})["CPU"]
    # Not usable before commit.
    assert f"CPU_group_0_{pg.hex()}" not in resources.total
    held.commit(pg, [0, 1])
    assert resources.available[f"CPU_group_{pg.hex()}"] == to_fixed({"CPU": 3})["CPU"]
    # A task in bundle 1 takes its share.
    task = resources.allocate(to_fixed(policy.task_resources({"CPU": 2}, 1, pg.hex())))
    gone = held.give_back(pg)
    assert f"CPU_group_1_{pg.hex()}" in gone
    assert resources.total == to_fixed({"CPU": 4})
    assert resources.available == to_fixed({"CPU": 4})
    # The task's lease ends later: it releases nothing that is gone.
    resources.release(task)
    assert resources.available == to_fixed({"CPU": 4})


def test_node_reservation_is_all_or_none():
    resources = NodeResources({"CPU": 2})
    held = BundleReservations(resources)
    pg = b"\x02" * 18
    with pytest.raises(BundleError, match="free"):
        held.prepare([bundle(pg, 0, {"CPU": 1}), bundle(pg, 1, {"CPU": 2})])
    assert resources.available == to_fixed({"CPU": 2})
    assert held.groups() == set()
    with pytest.raises(BundleError, match="not prepared"):
        held.commit(pg, [0])


def test_node_reservation_prepare_is_idempotent():
    resources = NodeResources({"CPU": 2})
    held = BundleReservations(resources)
    pg = b"\x03" * 18
    held.prepare([bundle(pg, 0, {"CPU": 1})])
    held.prepare([bundle(pg, 0, {"CPU": 1})])
    assert resources.available["CPU"] == to_fixed({"CPU": 1})["CPU"]
    held.give_back(pg, [0])
    assert resources.available == to_fixed({"CPU": 2})


def test_node_reservation_gives_a_bundle_its_gpus():
    resources = NodeResources({"CPU": 2, "GPU": 2})
    held = BundleReservations(resources)
    pg = b"\x04" * 18
    held.prepare([bundle(pg, 0, {"GPU": 1}), bundle(pg, 1, {"GPU": 1})])
    held.commit(pg, [0, 1])
    first = resources.allocate(to_fixed(policy.task_resources({"GPU": 1}, 0, pg.hex())))
    second = resources.allocate(to_fixed(policy.task_resources({"GPU": 1}, 1, pg.hex())))
    (picked_0,) = first.instances[f"GPU_group_0_{pg.hex()}"]
    (picked_1,) = second.instances[f"GPU_group_1_{pg.hex()}"]
    # Each bundle holds one real device, and the two differ.
    assert {picked_0[0], picked_1[0]} == {0, 1}
    held.give_back(pg)
    resources.release(first)
    resources.release(second)
    assert resources.available == to_fixed({"CPU": 2, "GPU": 2})
    assert resources.instances == {"GPU": [10_000, 10_000]}
