"""Placement groups: the GCS owns them and reserves their bundles on the node managers.

A group is PENDING until its bundles fit; then one placer thread picks their nodes with the
sans-IO policy (`scheduling/bundles.py`) and reserves them in two phases: prepare on every
chosen node (each node takes all of its bundles or none), then commit on every node. If any
prepare or commit fails, what was reserved is given back and the group waits for the next
round, so a group is never half placed. A node that dies takes its bundles with it: the group
is RESCHEDULING until they are placed again on the survivors. Removal returns every bundle
(the node managers kill the workers using them) and kills the group's actors.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ray._private.generated import common_pb2, gcs_pb2
from ray._private.rpc import errors as rpc_errors
from ray._private.rpc.node_manager_client import NodeManagerClient
from ray._private.scheduling import bundles as policy
from ray._private.scheduling.resources import to_fixed

logger = logging.getLogger(__name__)

# How often pending groups are tried again when nothing wakes the placer.
RETRY_PERIOD_S = 0.5
# Bundle RPC deadline.
BUNDLE_RPC_TIMEOUT_S = 10.0

PENDING = gcs_pb2.PLACEMENT_GROUP_STATE_PENDING
CREATED = gcs_pb2.PLACEMENT_GROUP_STATE_CREATED
REMOVED = gcs_pb2.PLACEMENT_GROUP_STATE_REMOVED
RESCHEDULING = gcs_pb2.PLACEMENT_GROUP_STATE_RESCHEDULING

STRATEGY_NAMES = {
    gcs_pb2.PLACEMENT_STRATEGY_PACK: policy.PACK,
    gcs_pb2.PLACEMENT_STRATEGY_SPREAD: policy.SPREAD,
    gcs_pb2.PLACEMENT_STRATEGY_STRICT_PACK: policy.STRICT_PACK,
    gcs_pb2.PLACEMENT_STRATEGY_STRICT_SPREAD: policy.STRICT_SPREAD,
}


class PlacementGroupNameTaken(Exception):
    """The name is used by another group of the namespace that is not removed."""


class InvalidPlacementGroup(Exception):
    """The request describes no valid group."""


@dataclass
class _Reserved:
    """What one placement round reserved on one node."""

    node: common_pb2.NodeInfo
    indexes: list[int]
    committed: bool = False


def _now_ms() -> int:
    return int(time.time() * 1000)


class PlacementGroupManager:
    """Every placement group of the cluster, by id.

    Args:
        alive_nodes: The alive nodes with their last reported resources.
        node_client: A node manager client for HOST:PORT.
        adjust_node: Adds (positive) or takes off (negative) resources of a node in the
            GCS's view until its next heartbeat says what it has (total, available).
        kill_actors: Kills the actors placed in a removed group.
    """

    def __init__(
        self,
        alive_nodes: Callable[[], list[common_pb2.NodeInfo]],
        node_client: Callable[[str], NodeManagerClient],
        adjust_node: Callable[[bytes, Mapping[str, float], Mapping[str, float]], None],
        kill_actors: Callable[[bytes], None],
    ) -> None:
        self._alive_nodes = alive_nodes
        self._node_client = node_client
        self._adjust_node = adjust_node
        self._kill_actors = kill_actors
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._groups: dict[bytes, gcs_pb2.PlacementGroupInfo] = {}
        self._names: dict[tuple[str, str], bytes] = {}
        self._listeners: list[Callable[[bytes], None]] = []
        self._stop = threading.Event()
        self._kick = False
        self._warned: set[bytes] = set()
        # Groups whose last placement found them infeasible (no node could ever hold them).
        self._infeasible: set[bytes] = set()
        self._thread = threading.Thread(target=self._place_forever, name="pg-placer", daemon=True)
        self._thread.start()

    # ---- requests ---------------------------------------------------------------------

    def create(self, info: gcs_pb2.PlacementGroupInfo) -> None:
        """Raises PlacementGroupNameTaken, InvalidPlacementGroup."""
        if not info.placement_group_id:
            raise InvalidPlacementGroup("placement_group_id is required")
        if not info.bundles:
            raise InvalidPlacementGroup("a placement group needs at least one bundle")
        if info.strategy not in STRATEGY_NAMES:
            raise InvalidPlacementGroup(f"unknown placement strategy {info.strategy}")
        for bundle in info.bundles:
            if not to_fixed(bundle.resources):
                raise InvalidPlacementGroup(
                    f"bundle {bundle.bundle_index} asks for nothing: every bundle needs a "
                    "positive amount of some resource"
                )
        with self._lock:
            if info.placement_group_id in self._groups:
                return
            key = (info.ray_namespace, info.name)
            if info.name and key in self._names:
                raise PlacementGroupNameTaken(
                    f"a placement group named {info.name!r} already exists in namespace "
                    f"{info.ray_namespace!r}; remove it first or use another name"
                )
            group = gcs_pb2.PlacementGroupInfo()
            group.CopyFrom(info)
            for index, bundle in enumerate(group.bundles):
                bundle.bundle_index = index
                bundle.placement_group_id = group.placement_group_id
                bundle.node_id = b""
            group.state = PENDING
            group.created_at_ms = group.state_changed_at_ms = _now_ms()
            self._groups[group.placement_group_id] = group
            if info.name:
                self._names[key] = group.placement_group_id
            self._kick_locked()
        logger.info(
            "placement group %s (%d bundles, %s) created",
            info.placement_group_id.hex()[:12],
            len(info.bundles),
            STRATEGY_NAMES[info.strategy],
        )

    def remove(self, pg_id: bytes) -> bool:
        """Removes a group (idempotent); False if it is unknown."""
        with self._lock:
            group = self._groups.get(pg_id)
            if group is None:
                return False
            if group.state == REMOVED:
                return True
            held = self._placed(group)
            for bundle in group.bundles:
                bundle.node_id = b""
            self._set_state(group, REMOVED)
            if group.name:
                self._names.pop((group.ray_namespace, group.name), None)
            resources = {b.bundle_index: dict(b.resources) for b in group.bundles}
        self._notify(pg_id)
        try:
            self._kill_actors(pg_id)
        except Exception:  # noqa: BLE001 - the bundles are returned all the same
            logger.exception("could not kill the actors of placement group %s", pg_id.hex())
        for reserved in held:
            self._give_back(pg_id, reserved, resources)
        logger.info("placement group %s removed", pg_id.hex()[:12])
        return True

    def get(self, pg_id: bytes) -> gcs_pb2.PlacementGroupInfo | None:
        with self._lock:
            group = self._groups.get(pg_id)
            return _copy(group) if group is not None else None

    def get_by_name(self, name: str, namespace: str) -> gcs_pb2.PlacementGroupInfo | None:
        with self._lock:
            pg_id = self._names.get((namespace, name))
            return _copy(self._groups[pg_id]) if pg_id is not None else None

    def all(self) -> list[gcs_pb2.PlacementGroupInfo]:
        with self._lock:
            return [_copy(g) for g in self._groups.values()]

    def add_listener(self, listener: Callable[[bytes], None]) -> None:
        """`listener(pg_id)` is called (any thread) when a group's state changes."""
        self._listeners.append(listener)

    def pending_demand(self) -> list[common_pb2.ResourceDemand]:
        """The bundles of groups that wait, by shape (kind "placement group bundle")."""
        counts: dict[tuple, int] = {}
        with self._lock:
            for group in self._groups.values():
                if group.state not in (PENDING, RESCHEDULING):
                    continue
                infeasible = group.placement_group_id in self._infeasible
                for bundle in group.bundles:
                    if not bundle.node_id:
                        key = (infeasible, tuple(sorted(bundle.resources.items())))
                        counts[key] = counts.get(key, 0) + 1
        return [
            common_pb2.ResourceDemand(
                shape=dict(shape),
                count=count,
                kind="placement group bundle",
                infeasible=infeasible,
            )
            for (infeasible, shape), count in counts.items()
        ]

    # ---- events -----------------------------------------------------------------------

    def on_node_added(self) -> None:
        with self._lock:
            self._kick_locked()

    def on_node_dead(self, node_id: bytes) -> None:
        changed = []
        with self._lock:
            for group in self._groups.values():
                if group.state == REMOVED:
                    continue
                lost = [b for b in group.bundles if b.node_id == node_id]
                if not lost:
                    continue
                for bundle in lost:
                    bundle.node_id = b""
                self._set_state(group, RESCHEDULING)
                changed.append(group.placement_group_id)
            if changed:
                self._kick_locked()
        for pg_id in changed:
            logger.info(
                "placement group %s lost bundles on dead node %s; placing them again",
                pg_id.hex()[:12],
                node_id.hex()[:12],
            )
            self._notify(pg_id)

    def on_job_finished(self, job_id: bytes) -> None:
        """Removes the job's groups that are not detached."""
        with self._lock:
            doomed = [
                g.placement_group_id
                for g in self._groups.values()
                if g.creator_job_id == job_id and not g.is_detached and g.state != REMOVED
            ]
        for pg_id in doomed:
            self.remove(pg_id)

    def check_creators(self, job_gone: Callable[[bytes], bool]) -> None:
        """Removes the non-detached groups of jobs whose driver is gone (killed without
        saying goodbye)."""
        with self._lock:
            jobs = {
                g.creator_job_id
                for g in self._groups.values()
                if not g.is_detached and g.state != REMOVED and g.creator_job_id
            }
        for job_id in jobs:
            if job_gone(job_id):
                logger.info(
                    "the driver of job %s is gone; removing its placement groups", job_id.hex()
                )
                self.on_job_finished(job_id)

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._kick_locked()
        self._thread.join(timeout=5)

    # ---- placement --------------------------------------------------------------------

    def _kick_locked(self) -> None:
        self._kick = True
        self._wake.notify_all()

    def _place_forever(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                if not self._kick:
                    self._wake.wait(RETRY_PERIOD_S)
                self._kick = False
                waiting = [
                    g.placement_group_id
                    for g in sorted(self._groups.values(), key=lambda g: g.created_at_ms)
                    if g.state in (PENDING, RESCHEDULING)
                ]
            if self._stop.is_set():
                return
            for pg_id in waiting:
                try:
                    self._try_place(pg_id)
                except Exception:  # noqa: BLE001 - one bad group must not stop the placer
                    logger.exception("placing placement group %s failed", pg_id.hex())

    def _try_place(self, pg_id: bytes) -> None:
        nodes = {n.node_id: n for n in self._alive_nodes()}
        with self._lock:
            group = self._groups.get(pg_id)
            if group is None or group.state not in (PENDING, RESCHEDULING):
                return
            unplaced = {
                b.bundle_index: to_fixed(b.resources) for b in group.bundles if not b.node_id
            }
            placed = {b.bundle_index: b.node_id for b in group.bundles if b.node_id}
            strategy = STRATEGY_NAMES[group.strategy]
            resources = {b.bundle_index: dict(b.resources) for b in group.bundles}
        if not unplaced:
            return
        views = [
            policy.BundleNode(node_id, to_fixed(n.resources.total), to_fixed(n.resources.available))
            for node_id, n in nodes.items()
        ]
        placement = policy.place_bundles(unplaced, strategy, views, placed)
        if not placement.nodes:
            self._still_pending(pg_id, placement)
            return
        by_node: dict[bytes, list[int]] = {}
        for index, node_id in sorted(placement.nodes.items()):
            by_node.setdefault(node_id, []).append(index)
        reserved = [_Reserved(nodes[node_id], indexes) for node_id, indexes in by_node.items()]
        if not self._reserve(pg_id, reserved, resources):
            return
        with self._lock:
            group = self._groups.get(pg_id)
            removed = group is None or group.state == REMOVED
            # A node that died while its bundles were reserved (its death was handled before
            # they were recorded): give everything back and place the group again. Checked
            # under the lock, so a death after this sees the recorded bundles.
            alive = {n.node_id for n in self._alive_nodes()}
            lost = not set(by_node) <= alive
            if lost:
                self._kick_locked()
            if not removed and not lost:
                for index, node_id in placement.nodes.items():
                    group.bundles[index].node_id = node_id
                group.pending_reason = ""
                self._set_state(group, CREATED)
                self._warned.discard(pg_id)
                self._infeasible.discard(pg_id)
        if removed or lost:
            for r in reserved:
                self._give_back(pg_id, r, resources)
            return
        logger.info("placement group %s placed on %d node(s)", pg_id.hex()[:12], len(by_node))
        self._notify(pg_id)

    def _reserve(
        self, pg_id: bytes, reserved: list[_Reserved], resources: dict[int, dict[str, float]]
    ) -> bool:
        """Prepare on every node, then commit on every node; all or nothing."""
        done: list[_Reserved] = []
        try:
            for r in reserved:
                bundles = [
                    common_pb2.Bundle(
                        placement_group_id=pg_id, bundle_index=i, resources=resources[i]
                    )
                    for i in r.indexes
                ]
                self._client(r.node).prepare_bundles(bundles, BUNDLE_RPC_TIMEOUT_S)
                done.append(r)
            for r in reserved:
                self._client(r.node).commit_bundles(pg_id, r.indexes, BUNDLE_RPC_TIMEOUT_S)
                r.committed = True
                self._adjust_view(pg_id, r, resources, sign=1)
        except rpc_errors.RpcFailure as err:
            logger.debug("reserving placement group %s failed: %s", pg_id.hex()[:12], err)
            for r in done:
                self._give_back(pg_id, r, resources)
            return False
        return True

    def _give_back(
        self, pg_id: bytes, reserved: _Reserved, resources: dict[int, dict[str, float]]
    ) -> None:
        try:
            self._client(reserved.node).return_bundles(
                pg_id, reserved.indexes, BUNDLE_RPC_TIMEOUT_S
            )
        except rpc_errors.RpcFailure as err:
            logger.warning(
                "could not return bundles of placement group %s on node %s: %s",
                pg_id.hex()[:12],
                reserved.node.node_id.hex()[:12],
                err,
            )
        if reserved.committed:
            self._adjust_view(pg_id, reserved, resources, sign=-1)
            reserved.committed = False

    def _adjust_view(
        self,
        pg_id: bytes,
        reserved: _Reserved,
        resources: dict[int, dict[str, float]],
        sign: int,
    ) -> None:
        added = policy.committed_resources(
            [(i, resources[i]) for i in reserved.indexes], pg_id.hex()
        )
        taken: dict[str, float] = {}
        for i in reserved.indexes:
            for name, amount in resources[i].items():
                taken[name] = taken.get(name, 0.0) + amount
        total = {k: sign * v for k, v in added.items()}
        available = {**total, **{k: -sign * v for k, v in taken.items()}}
        self._adjust_node(reserved.node.node_id, total, available)

    def _client(self, node: common_pb2.NodeInfo) -> NodeManagerClient:
        return self._node_client(f"{node.node_manager_address}:{node.node_manager_port}")

    def _still_pending(self, pg_id: bytes, placement: policy.Placement) -> None:
        with self._lock:
            group = self._groups.get(pg_id)
            if group is None:
                return
            group.pending_reason = placement.reason
            if placement.infeasible:
                self._infeasible.add(pg_id)
            else:
                self._infeasible.discard(pg_id)
            warn = placement.infeasible and pg_id not in self._warned
            if warn:
                self._warned.add(pg_id)
        if warn:
            logger.warning(
                "placement group %s waits: %s; it is created when nodes with the resources join",
                pg_id.hex()[:12],
                placement.reason,
            )

    def _placed(self, group: gcs_pb2.PlacementGroupInfo) -> list[_Reserved]:
        """Its placed bundles by node (lock held)."""
        nodes = {n.node_id: n for n in self._alive_nodes()}
        by_node: dict[bytes, list[int]] = {}
        for bundle in group.bundles:
            if bundle.node_id:
                by_node.setdefault(bundle.node_id, []).append(bundle.bundle_index)
        return [
            _Reserved(nodes[node_id], indexes, committed=True)
            for node_id, indexes in by_node.items()
            if node_id in nodes
        ]

    def _set_state(self, group: gcs_pb2.PlacementGroupInfo, state: int) -> None:
        group.state = state
        group.state_changed_at_ms = _now_ms()

    def _notify(self, pg_id: bytes) -> None:
        for listener in self._listeners:
            try:
                listener(pg_id)
            except Exception:  # noqa: BLE001 - a listener must not break the manager
                logger.exception("placement group listener failed")


def _copy(group: gcs_pb2.PlacementGroupInfo) -> gcs_pb2.PlacementGroupInfo:
    out = gcs_pb2.PlacementGroupInfo()
    out.CopyFrom(group)
    return out
