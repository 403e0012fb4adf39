"""The scheduler without processes: the placement policy over a cluster view, and one node's
lease queue (events in, decisions out)."""

from __future__ import annotations

import collections

import pytest

from ray._private.generated import common_pb2
from ray._private.scheduling.node_scheduler import (
    Grant,
    NodeScheduler,
    QueuedLease,
    Reject,
    Spill,
    StartWorkers,
)
from ray._private.scheduling.policy import ClusterView, NodeView
from ray._private.scheduling.resources import NodeResources, to_fixed

LOCAL = b"L" * 28
B = b"B" * 28
C = b"C" * 28


def node_info(node_id: bytes, total: dict, available: dict | None = None, port: int = 1):
    info = common_pb2.NodeInfo(
        node_id=node_id,
        state=common_pb2.NODE_STATE_ALIVE,
        node_manager_address="127.0.0.1",
        node_manager_port=port,
    )
    info.resources.total.update(total)
    info.resources.available.update(total if available is None else available)
    return info


def spread() -> common_pb2.SchedulingStrategy:
    return common_pb2.SchedulingStrategy(spread=common_pb2.SpreadSchedulingStrategy())


def affinity(node_id: bytes, soft: bool) -> common_pb2.SchedulingStrategy:
    return common_pb2.SchedulingStrategy(
        node_affinity=common_pb2.NodeAffinitySchedulingStrategy(node_id=node_id, soft=soft)
    )


def local_view(total: dict, available: dict | None = None) -> NodeView:
    return NodeView(LOCAL, to_fixed(total), to_fixed(total if available is None else available))


def cpu(n: float) -> dict[str, int]:
    return to_fixed({"CPU": n})


# ---- policy -----------------------------------------------------------------------------


def test_default_packs_the_local_node_then_spills_to_the_least_loaded_free_node():
    view = ClusterView(LOCAL)
    view.update(
        [
            node_info(B, {"CPU": 4}, {"CPU": 1}),
            node_info(C, {"CPU": 4}, {"CPU": 3}),
            node_info(LOCAL, {"CPU": 2}),  # the local node itself is skipped
        ]
    )
    assert set(view.nodes) == {B, C}
    assert view.choose(cpu(1), None, local_view({"CPU": 2})).local
    busy = local_view({"CPU": 2}, {"CPU": 0})
    choice = view.choose(cpu(1), None, busy)
    assert choice.node.node_id == C and not choice.local
    # Nothing free anywhere: queue locally, since this node could hold it.
    view.update([node_info(B, {"CPU": 4}, {"CPU": 0})])
    assert view.choose(cpu(1), None, busy).local


def test_custom_resources_pin_work_to_the_nodes_that_have_them():
    view = ClusterView(LOCAL)
    view.update([node_info(B, {"CPU": 1, "side": 1}, {"CPU": 0, "side": 1})])
    choice = view.choose(to_fixed({"side": 1}), None, local_view({"CPU": 8}))
    assert choice.node.node_id == B
    # Busy there: still goes there (it queues on the only node that could ever hold it).
    view.update([node_info(B, {"CPU": 1, "side": 1}, {"CPU": 0, "side": 0})])
    assert view.choose(to_fixed({"side": 1}), None, local_view({"CPU": 8})).node.node_id == B
    nowhere = view.choose(to_fixed({"other": 1}), None, local_view({"CPU": 8}))
    assert nowhere.node is None and nowhere.infeasible and not nowhere.error


def test_spread_round_robins_over_nodes_that_fit():
    view = ClusterView(LOCAL)
    view.update(
        [node_info(B, {"CPU": 2}), node_info(C, {"CPU": 2}), node_info(b"D" * 28, {"GPU": 1})]
    )
    local = local_view({"CPU": 2})
    picks = [view.choose(cpu(1), spread(), local).node.node_id for _ in range(6)]
    assert sorted(picks) == sorted([LOCAL, B, C] * 2)
    assert b"D" * 28 not in picks  # cannot hold a CPU task


def test_node_affinity_hard_and_soft():
    view = ClusterView(LOCAL)
    view.update([node_info(B, {"CPU": 2}, {"CPU": 0})])
    local = local_view({"CPU": 2})
    # Hard affinity to a busy node still goes there.
    assert view.choose(cpu(1), affinity(B, soft=False), local).node.node_id == B
    assert view.choose(cpu(1), affinity(LOCAL, soft=False), local).local
    gone = view.choose(cpu(1), affinity(C, soft=False), local)
    assert gone.node is None and "not alive" in gone.error and "soft=True" in gone.error
    too_small = view.choose(cpu(4), affinity(B, soft=False), local)
    assert "can never hold" in too_small.error
    # Soft: falls back to the default strategy.
    assert view.choose(cpu(1), affinity(C, soft=True), local).local


def test_a_request_sent_here_by_another_node_stays_or_is_infeasible():
    view = ClusterView(LOCAL)
    view.update([node_info(B, {"CPU": 8})])
    busy = local_view({"CPU": 2}, {"CPU": 0})
    assert view.choose(cpu(1), spread(), busy, may_spill=False).local
    refused = view.choose(cpu(4), None, busy, may_spill=False)
    assert refused.node is None and refused.infeasible


def test_reserve_spreads_one_burst():
    view = ClusterView(LOCAL)
    view.update([node_info(B, {"CPU": 1}), node_info(C, {"CPU": 1})])
    busy = local_view({"CPU": 1}, {"CPU": 0})
    first = view.choose(cpu(1), None, busy).node
    view.reserve(first.node_id, cpu(1))
    second = view.choose(cpu(1), None, busy).node
    assert {first.node_id, second.node_id} == {B, C}


# ---- one node's queue -------------------------------------------------------------------


def lease(n: int, need: dict, **kw) -> QueuedLease:
    fixed = to_fixed(need)
    return QueuedLease(bytes([n]) * 28, fixed, fixed, **kw)


def scheduler(total: dict, others=()) -> NodeScheduler:
    s = NodeScheduler(LOCAL, NodeResources(total), max_starting=4)
    s.view.update(list(others))
    return s


def test_requests_wait_for_workers_and_are_granted_in_order():
    s = scheduler({"CPU": 2})
    assert s.request(lease(1, {"CPU": 1})) == [StartWorkers(1)]
    assert s.request(lease(2, {"CPU": 1})) == [StartWorkers(1)]
    # A third does not fit: no worker is started for it.
    assert s.request(lease(3, {"CPU": 1})) == []
    assert s.starting == 2
    (grant,) = s.worker_registered(b"w1")
    assert isinstance(grant, Grant) and grant.lease.lease_id == bytes([1]) * 28
    assert grant.worker_id == b"w1"
    (grant2,) = s.worker_registered(b"w2")
    assert grant2.lease.lease_id == bytes([2]) * 28
    assert s.resources.available["CPU"] == 0
    # The first lease ends: its worker comes back and the third request gets it.
    assert s.release(grant.alloc) == [StartWorkers(1)]
    (grant3,) = s.worker_idle(b"w1")
    assert grant3.lease.lease_id == bytes([3]) * 28


def test_a_request_that_does_not_fit_never_blocks_one_that_does():
    s = scheduler({"CPU": 2, "GPU": 1})
    s.idle = [b"w1", b"w2"]
    gpu_a = s.request(lease(1, {"GPU": 1}))
    assert isinstance(gpu_a[0], Grant)
    assert s.request(lease(2, {"GPU": 1})) == []  # waits for the GPU
    (cpu_grant,) = s.request(lease(3, {"CPU": 1}))
    assert cpu_grant.lease.lease_id == bytes([3]) * 28


def test_a_queued_request_spills_when_another_node_frees_up():
    s = scheduler({"CPU": 1}, [node_info(B, {"CPU": 1}, {"CPU": 0})])
    s.idle = [b"w1"]
    (first,) = s.request(lease(1, {"CPU": 1}))
    assert isinstance(first, Grant)
    assert s.request(lease(2, {"CPU": 1})) == []  # nothing free anywhere: queued here
    assert len(s.queue) == 1
    (spill,) = s.view_changed([node_info(B, {"CPU": 1}, {"CPU": 1})])
    assert isinstance(spill, Spill) and spill.node.node_id == B
    assert s.queue == []
    # The spilled-to node is counted busy until it reports again.
    assert s.view.nodes[B].available["CPU"] == 0


def test_rejections_infeasible_and_unschedulable():
    s = scheduler({"CPU": 1}, [node_info(B, {"CPU": 1})])
    (infeasible,) = s.request(lease(1, {"CPU": 8}))
    assert infeasible == Reject(infeasible.lease, True, "")
    (unschedulable,) = s.request(lease(2, {"CPU": 1}, strategy=affinity(C, soft=False)))
    assert isinstance(unschedulable, Reject) and not unschedulable.infeasible
    assert "not alive" in unschedulable.error
    (spill,) = s.request(lease(3, {"CPU": 1}, strategy=affinity(B, soft=False)))
    assert isinstance(spill, Spill)


def test_a_spilled_request_is_not_spilled_again():
    s = scheduler({"CPU": 1}, [node_info(B, {"CPU": 4})])
    s.idle = [b"w1"]
    s.request(lease(1, {"CPU": 1}))
    assert s.request(lease(2, {"CPU": 1}, may_spill=False)) == []
    assert s.view_changed([node_info(B, {"CPU": 4})]) == []
    assert len(s.queue) == 1


def test_demand_counts_waiting_requests_by_shape_and_backlog():
    s = scheduler({"CPU": 1})
    s.idle = [b"w1"]
    s.request(lease(1, {"CPU": 1}))
    s.request(lease(2, {"CPU": 1}, backlog=7))
    s.request(lease(3, {"CPU": 1}, backlog=3, kind="actor"))
    demand = {(d.kind, tuple(d.shape.items())): d.count for d in s.demand()}
    assert demand == {("task", (("CPU", 1.0),)): 7, ("actor", (("CPU", 1.0),)): 3}


def test_cancel_and_gone_workers():
    s = scheduler({"CPU": 1})
    s.request(lease(1, {"CPU": 1}))
    assert s.starting == 1
    assert s.cancel(bytes([1]) * 28) is not None
    assert s.cancel(bytes([1]) * 28) is None
    s.worker_gone(b"w-starting", was_starting=True)
    assert s.starting == 0
    s.idle = [b"w1"]
    assert s.take_idle(b"w1") and not s.take_idle(b"w1")


@pytest.mark.parametrize("soft", [True, False])
def test_affinity_to_this_node_is_queued_here(soft):
    s = scheduler({"CPU": 1}, [node_info(B, {"CPU": 4})])
    s.idle = [b"w1"]
    s.request(lease(1, {"CPU": 1}))
    assert s.request(lease(2, {"CPU": 1}, strategy=affinity(LOCAL, soft))) == []
    # B is free, but the request asked for this node, which can hold it: it stays (soft
    # affinity falls back only when the node is gone or too small).
    decisions = s.view_changed([node_info(B, {"CPU": 4})])
    assert decisions == [] and len(s.queue) == 1


def test_a_spread_burst_counts_requests_queued_here_as_taken():
    """Twelve SPREAD requests on three 2-CPU nodes, before any worker starts: four per node
    (the requests queued here for a worker count against this node, as the spilled ones count
    against the nodes they went to)."""
    C = b"c" * 28
    s = scheduler({"CPU": 2}, [node_info(B, {"CPU": 2}), node_info(C, {"CPU": 2})])
    placed = collections.Counter()
    for n in range(12):
        for decision in s.request(lease(n, {"CPU": 1}, strategy=spread())):
            if isinstance(decision, Spill):
                placed[decision.node.node_id] += 1
    placed[LOCAL] = len(s.queue)
    assert placed == {LOCAL: 4, B: 4, C: 4}
    # The default strategy packs this node first, then spills what would wait here.
    s = scheduler({"CPU": 2}, [node_info(B, {"CPU": 2})])
    spilled = [
        d for n in range(3) for d in s.request(lease(n, {"CPU": 1})) if isinstance(d, Spill)
    ]
    assert len(s.queue) == 2 and len(spilled) == 1 and spilled[0].node.node_id == B
