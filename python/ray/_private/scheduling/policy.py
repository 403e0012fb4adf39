"""The cluster's resource view and where a request should run (sans-IO).

A node manager keeps a `ClusterView` of the other alive nodes, refreshed from its heartbeat
replies, and asks it where a lease request should go: here, another node (spillback), nowhere
yet (infeasible: no alive node can ever hold it), or nowhere at all (an error: hard affinity to
a node that is gone). The GCS asks the same view where to place an actor (it has no "here").

Strategies, as in Ray:
- default: this node if it has the resources free now; else the least loaded node that has
  them free now; else queue here if this node could ever hold it; else the least loaded node
  that could; else infeasible.
- SPREAD: round robin over the nodes that could hold it, preferring those free now.
- node affinity: that node; if it is gone or can never hold the request, the default
  strategy when `soft`, else an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from ray._private.generated import common_pb2
from ray._private.scheduling.resources import to_fixed, to_float


@dataclass(eq=False)
class NodeView:
    """What the scheduler knows of one node (amounts in fixed point)."""

    node_id: bytes
    total: dict[str, int]
    available: dict[str, int]
    info: common_pb2.NodeInfo = field(default_factory=common_pb2.NodeInfo)

    def fits_total(self, demand: Mapping[str, int]) -> bool:
        return all(self.total.get(k, 0) >= v for k, v in demand.items())

    def fits_now(self, demand: Mapping[str, int]) -> bool:
        return all(self.available.get(k, 0) >= v for k, v in demand.items())

    def used_share(self, demand: Mapping[str, int]) -> float:
        """The largest used share over the resources `demand` names (may exceed 1)."""
        used = [
            1 - self.available.get(k, 0) / self.total[k] for k in demand if self.total.get(k, 0) > 0
        ]
        return max(used, default=0.0)

    def load(self) -> float:
        """The largest used share over the node's resources (0 idle, 1 full)."""
        used = [1 - self.available.get(k, 0) / v for k, v in self.total.items() if v > 0]
        return max(used, default=0.0)


class Choice(NamedTuple):
    """Where a request should go."""

    # The node (None: nowhere for now).
    node: NodeView | None
    # It is the node that asked.
    local: bool = False
    # No alive node can ever hold the request: it waits for one to join.
    infeasible: bool = False
    # The request must fail with this message (hard affinity that cannot be met).
    error: str = ""


def _strategy_kind(strategy: common_pb2.SchedulingStrategy | None) -> str:
    if strategy is None:
        return ""
    return strategy.WhichOneof("kind") or ""


class ClusterView:
    """The alive nodes other than the local one, with their last reported resources."""

    def __init__(self, local_id: bytes | None = None) -> None:
        self.local_id = local_id
        self.nodes: dict[bytes, NodeView] = {}
        self.spread_next = 0

    def update(self, infos: Iterable[common_pb2.NodeInfo]) -> None:
        """Replaces the view with the alive nodes in `infos` (the local node is skipped)."""
        nodes = {}
        for info in infos:
            if info.state == common_pb2.NODE_STATE_DEAD or info.node_id == self.local_id:
                continue
            nodes[info.node_id] = NodeView(
                info.node_id,
                to_fixed(info.resources.total),
                to_fixed(info.resources.available),
                info,
            )
        self.nodes = nodes

    def reserve(self, node_id: bytes, demand: Mapping[str, int]) -> None:
        """Counts a request sent to a node until its next report (so one burst spreads out)."""
        node = self.nodes.get(node_id)
        if node is not None:
            for k, v in demand.items():
                node.available[k] = node.available.get(k, 0) - v

    def choose(
        self,
        demand: Mapping[str, int],
        strategy: common_pb2.SchedulingStrategy | None,
        local: NodeView | None = None,
        may_spill: bool = True,
    ) -> Choice:
        """Where a request for `demand` should run; `local` is the asking node (if any).

        `may_spill=False`: the request was sent here by another node and stays here (or is
        infeasible).
        """
        if not may_spill:
            if local is not None and local.fits_total(demand):
                return Choice(local, local=True)
            return Choice(None, infeasible=True)
        kind = _strategy_kind(strategy)
        if kind == "node_affinity":
            affinity = strategy.node_affinity
            target = self._node(affinity.node_id, local)
            if target is not None and target.fits_total(demand):
                return Choice(target, local=target is local)
            if not affinity.soft:
                why = "is not alive" if target is None else "can never hold the request"
                return Choice(
                    None,
                    error=(
                        f"the task requires node {affinity.node_id.hex()[:16]} "
                        f"(NodeAffinitySchedulingStrategy, soft=False), which {why} "
                        f"(needs {_show(demand)}); pass soft=True to run elsewhere"
                    ),
                )
        elif kind == "spread":
            return self._spread(demand, local)
        return self._default(demand, local)

    def _node(self, node_id: bytes, local: NodeView | None) -> NodeView | None:
        if local is not None and node_id == local.node_id:
            return local
        return self.nodes.get(node_id)

    def _all(self, local: NodeView | None) -> list[NodeView]:
        others = [n for _, n in sorted(self.nodes.items())]
        return ([local] if local is not None else []) + others

    def _default(self, demand: Mapping[str, int], local: NodeView | None) -> Choice:
        if local is not None and local.fits_now(demand):
            return Choice(local, local=True)
        others = self._all(None)
        free = [n for n in others if n.fits_now(demand)]
        if free:
            return Choice(min(free, key=NodeView.load))
        if local is not None and local.fits_total(demand):
            return Choice(local, local=True)
        feasible = [n for n in others if n.fits_total(demand)]
        if feasible:
            return Choice(min(feasible, key=NodeView.load))
        return Choice(None, infeasible=True)

    def _spread(self, demand: Mapping[str, int], local: NodeView | None) -> Choice:
        feasible = [n for n in self._all(local) if n.fits_total(demand)]
        if not feasible:
            return Choice(None, infeasible=True)
        free = [n for n in feasible if n.fits_now(demand)] or feasible
        # The least used node for this request's resources (what is queued or was just sent
        # there counts as used); ties go round-robin in a fixed order (by id), starting after
        # the last one chosen.
        ordered = sorted(free, key=lambda n: n.node_id)
        start = self.spread_next % len(ordered)
        rotated = ordered[start:] + ordered[:start]
        node = min(rotated, key=lambda n: n.used_share(demand))
        self.spread_next = ordered.index(node) + 1
        return Choice(node, local=node is local)


def _show(demand: Mapping[str, int]) -> str:
    return str(to_float(demand))
