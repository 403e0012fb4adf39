"""Cluster membership: registered nodes, their resources and liveness."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping

from ray._private.generated import common_pb2

logger = logging.getLogger(__name__)


class NodeTable:
    """Nodes by id. A node that misses heartbeats for `timeout_s` is declared dead."""

    def __init__(self, timeout_s: float, on_change: Callable[[common_pb2.NodeInfo], None]) -> None:
        self._lock = threading.Lock()
        self._nodes: dict[bytes, common_pb2.NodeInfo] = {}
        self._last_seen: dict[bytes, float] = {}
        # What each alive node reported queued in its last heartbeat.
        self._demand: dict[bytes, list[common_pb2.ResourceDemand]] = {}
        self._timeout_s = timeout_s
        self._on_change = on_change

    def register(self, node: common_pb2.NodeInfo) -> None:
        info = common_pb2.NodeInfo()
        info.CopyFrom(node)
        info.state = common_pb2.NODE_STATE_ALIVE
        with self._lock:
            self._nodes[info.node_id] = info
            self._last_seen[info.node_id] = time.monotonic()
        logger.info(
            "node %s registered at %s:%d",
            info.node_id.hex()[:12],
            info.node_manager_address,
            info.node_manager_port,
        )
        self._on_change(info)

    def heartbeat(
        self,
        node_id: bytes,
        available: Mapping[str, float],
        demand: Iterable[common_pb2.ResourceDemand] = (),
    ) -> list[common_pb2.NodeInfo] | None:
        """Records a heartbeat; returns the alive nodes (None if this one is unknown or dead)."""
        with self._lock:
            info = self._nodes.get(node_id)
            if info is None or info.state != common_pb2.NODE_STATE_ALIVE:
                return None
            self._last_seen[node_id] = time.monotonic()
            info.resources.available.clear()
            info.resources.available.update(available)
            self._demand[node_id] = list(demand)
            return [
                _copy(n) for n in self._nodes.values() if n.state == common_pb2.NODE_STATE_ALIVE
            ]

    def adjust_resources(
        self, node_id: bytes, total: Mapping[str, float], available: Mapping[str, float]
    ) -> None:
        """Adds the deltas to a node's resources (a placement group bundle was committed or
        returned there); its next heartbeat reports the real availability."""
        with self._lock:
            info = self._nodes.get(node_id)
            if info is None or info.state != common_pb2.NODE_STATE_ALIVE:
                return
            for amounts, deltas in (
                (info.resources.total, total),
                (info.resources.available, available),
            ):
                for name, delta in deltas.items():
                    left = amounts.get(name, 0.0) + delta
                    if left > 1e-9:
                        amounts[name] = left
                    else:
                        amounts.pop(name, None)

    def demand(self) -> list[common_pb2.ResourceDemand]:
        """What the alive nodes reported queued, summed by kind and shape."""
        with self._lock:
            reported = [d for nid, ds in self._demand.items() for d in ds]
        return merge_demand(reported)

    def mark_dead(self, node_id: bytes, reason: str) -> bool:
        with self._lock:
            info = self._nodes.get(node_id)
            if info is None or info.state == common_pb2.NODE_STATE_DEAD:
                return False
            info.state = common_pb2.NODE_STATE_DEAD
            info.death_reason = reason
            self._demand.pop(node_id, None)
            info.resources.available.clear()
            snapshot = common_pb2.NodeInfo()
            snapshot.CopyFrom(info)
        logger.info("node %s is dead: %s", node_id.hex()[:12], reason)
        self._on_change(snapshot)
        return True

    def check_timeouts(self) -> None:
        now = time.monotonic()
        with self._lock:
            late = [
                nid
                for nid, info in self._nodes.items()
                if info.state == common_pb2.NODE_STATE_ALIVE
                and now - self._last_seen.get(nid, now) > self._timeout_s
            ]
        for nid in late:
            self.mark_dead(nid, f"missed heartbeats for {self._timeout_s:.1f}s")

    def get(self, node_id: bytes) -> common_pb2.NodeInfo | None:
        with self._lock:
            info = self._nodes.get(node_id)
            if info is None:
                return None
            copy = common_pb2.NodeInfo()
            copy.CopyFrom(info)
            return copy

    def all(self) -> list[common_pb2.NodeInfo]:
        with self._lock:
            out = []
            for info in self._nodes.values():
                copy = common_pb2.NodeInfo()
                copy.CopyFrom(info)
                out.append(copy)
            return out

    def alive(self) -> list[common_pb2.NodeInfo]:
        return [n for n in self.all() if n.state == common_pb2.NODE_STATE_ALIVE]


def merge_demand(demands: Iterable[common_pb2.ResourceDemand]) -> list[common_pb2.ResourceDemand]:
    """Sums demand entries of the same kind, shape and feasibility."""
    merged: dict[tuple, common_pb2.ResourceDemand] = {}
    for d in demands:
        key = (d.kind, d.infeasible, tuple(sorted(d.shape.items())))
        entry = merged.get(key)
        if entry is None:
            entry = merged[key] = common_pb2.ResourceDemand(
                shape=d.shape, kind=d.kind, infeasible=d.infeasible
            )
        entry.count += d.count
    return list(merged.values())


def _copy(info: common_pb2.NodeInfo) -> common_pb2.NodeInfo:
    copy = common_pb2.NodeInfo()
    copy.CopyFrom(info)
    return copy
