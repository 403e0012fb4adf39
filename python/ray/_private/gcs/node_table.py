"""Cluster membership: registered nodes, their resources and liveness."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ray._private.generated import common_pb2

logger = logging.getLogger(__name__)


class NodeTable:
    """Nodes by id. A node that misses heartbeats for `timeout_s` is declared dead."""

    def __init__(self, timeout_s: float, on_change: Callable[[common_pb2.NodeInfo], None]) -> None:
        self._lock = threading.Lock()
        self._nodes: dict[bytes, common_pb2.NodeInfo] = {}
        self._last_seen: dict[bytes, float] = {}
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

    def heartbeat(self, node_id: bytes, available: dict[str, float]) -> bool:
        """Records a heartbeat; False if the node is unknown or already dead."""
        with self._lock:
            info = self._nodes.get(node_id)
            if info is None or info.state != common_pb2.NODE_STATE_ALIVE:
                return False
            self._last_seen[node_id] = time.monotonic()
            info.resources.available.clear()
            info.resources.available.update(available)
            return True

    def mark_dead(self, node_id: bytes, reason: str) -> bool:
        with self._lock:
            info = self._nodes.get(node_id)
            if info is None or info.state == common_pb2.NODE_STATE_DEAD:
                return False
            info.state = common_pb2.NODE_STATE_DEAD
            info.death_reason = reason
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
