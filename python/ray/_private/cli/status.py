"""What `ray status` prints: the nodes (alive and dead), the resources each has and uses,
and the demand that waits, split into what fits nowhere right now and what fits nowhere
ever. The formatting is a pure function of the GCS's `GetClusterStatus` reply (and each
node manager's store statistics), so it is tested without a cluster."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ray._private.generated import common_pb2, gcs_pb2, node_manager_pb2

logger = logging.getLogger(__name__)

_FIRST = {"CPU": 0, "GPU": 1, "memory": 2, "object_store_memory": 3}


@dataclass(frozen=True)
class NodeStore:
    """What a node manager said about its object store and workers (or why it did not)."""

    stats: node_manager_pb2.GetNodeStatsReply | None = None
    error: str = ""


def format_bytes(n: float) -> str:
    """`1536` -> `1.5 KiB`."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def format_amount(name: str, value: float) -> str:
    """An amount of a resource: bytes for memory, else the plain number (`0.5`, `2`)."""
    if name in ("memory", "object_store_memory"):
        return format_bytes(value)
    return f"{value:g}"


def ordered(resources: Mapping[str, float]) -> list[tuple[str, float]]:
    """CPU, GPU and memory first, then the rest by name."""
    return sorted(resources.items(), key=lambda kv: (_FIRST.get(kv[0], 9), kv[0]))


def format_resources(resources: Mapping[str, float]) -> str:
    """`CPU 2, accel 1`, or `none`."""
    return ", ".join(f"{n} {format_amount(n, v)}" for n, v in ordered(resources)) or "none"


def format_shape(shape: Mapping[str, float]) -> str:
    """A demand's shape as `{CPU: 1, accel: 2}`."""
    return "{" + ", ".join(f"{n}: {format_amount(n, v)}" for n, v in ordered(shape)) + "}"


def _used(total: Mapping[str, float], available: Mapping[str, float]) -> dict[str, float]:
    return {name: max(0.0, value - available.get(name, 0.0)) for name, value in total.items()}


def _usage(total: Mapping[str, float], used: Mapping[str, float]) -> str:
    return (
        ", ".join(
            f"{name} {format_amount(name, used.get(name, 0.0))}/{format_amount(name, value)}"
            for name, value in ordered(total)
        )
        or "none"
    )


def _node_line(node: common_pb2.NodeInfo) -> str:
    state = "ALIVE" if node.state == common_pb2.NODE_STATE_ALIVE else "DEAD "
    address = f"{node.node_manager_address}:{node.node_manager_port}"
    role = "  head" if node.is_head else ""
    return f"  {state}  {node.node_id.hex()[:12]}  {address}{role}"


def metrics_url(node: common_pb2.NodeInfo) -> str:
    """Where the node serves its Prometheus metrics."""
    return f"http://{node.node_manager_address}:{node.metrics_export_port}/metrics"


def _store_line(store: NodeStore | None) -> str:
    if store is None or store.stats is None:
        why = store.error if store is not None else "not asked"
        return f"unknown: the node manager did not answer ({why})"
    s = store.stats
    return (
        f"{format_bytes(s.object_store_used_bytes)} used of "
        f"{format_bytes(s.object_store_capacity_bytes)}, {s.num_objects} object(s), "
        f"{s.num_spilled_objects} spilled ({format_bytes(s.spilled_bytes)}); "
        f"{s.num_workers} worker(s), {s.num_pending_leases} pending lease(s)"
    )


def _demand_lines(demand: Iterable[common_pb2.ResourceDemand]) -> list[str]:
    entries = [d for d in demand if d.count > 0]
    if not entries:
        return ["Demand: none (nothing waits for resources)"]
    lines = ["Demand:"]
    for infeasible, title in (
        (False, "Waiting (fit nowhere right now; they start when resources free up):"),
        (True, "Infeasible (fit nowhere ever: no node has these resources; add one that does):"),
    ):
        group = sorted(
            (d for d in entries if d.infeasible == infeasible),
            key=lambda d: (d.kind, format_shape(d.shape)),
        )
        lines.append(f"  {title}")
        if not group:
            lines.append("    none")
        for d in group:
            kind = d.kind or "task"
            lines.append(
                f"    {d.count} {kind}{'s' if d.count != 1 else ''}  {format_shape(d.shape)}"
            )
    return lines


def format_status(
    address: str,
    session_name: str,
    reply: gcs_pb2.GetClusterStatusReply,
    stores: Mapping[bytes, NodeStore],
) -> str:
    """The text of `ray status`.

    Args:
        address: The GCS address.
        session_name: The cluster's session name.
        reply: The GCS's `GetClusterStatus` reply.
        stores: What each alive node's manager said about its store, by node id.

    Returns:
        The report, lines joined with newlines.
    """
    alive = [n for n in reply.nodes if n.state == common_pb2.NODE_STATE_ALIVE]
    dead = [n for n in reply.nodes if n.state != common_pb2.NODE_STATE_ALIVE]

    def order(n: common_pb2.NodeInfo) -> tuple:
        return (not n.is_head, n.node_manager_address, n.node_manager_port)

    lines = [
        f"======== Cluster {address} ({session_name}) ========",
        f"Nodes: {len(alive)} alive, {len(dead)} dead",
    ]
    total: dict[str, float] = {}
    used: dict[str, float] = {}
    store_used = store_capacity = 0
    for node in sorted(alive, key=order):
        # A placement group's bundle resources (`CPU_group_...`) are shown as the plain
        # resources they reserve, which count as used.
        node_total = {k: v for k, v in node.resources.total.items() if "_group_" not in k}
        node_used = _used(node_total, node.resources.available)
        lines.append(_node_line(node))
        lines.append(f"         resources (used/total): {_usage(node_total, node_used)}")
        store = stores.get(node.node_id)
        lines.append(f"         object store: {_store_line(store)}")
        if node.metrics_export_port:
            lines.append(f"         metrics: {metrics_url(node)}")
        if store is not None and store.stats is not None:
            store_used += store.stats.object_store_used_bytes
            store_capacity += store.stats.object_store_capacity_bytes
        for name, value in node_total.items():
            total[name] = total.get(name, 0.0) + value
            used[name] = used.get(name, 0.0) + node_used[name]
    for node in sorted(dead, key=order):
        lines.append(f"{_node_line(node)}  ({node.death_reason or 'no reason given'})")
    lines.append("Resources of the alive nodes (used / total):")
    width = max((len(name) for name in total), default=0)
    for name, value in ordered(total):
        lines.append(
            f"  {name:<{width}}  {format_amount(name, used[name])} / {format_amount(name, value)}"
        )
    if not total:
        lines.append("  none")
    lines.append(f"Object store: {format_bytes(store_used)} used of {format_bytes(store_capacity)}")
    lines += _demand_lines(reply.demand)
    return "\n".join(lines)
