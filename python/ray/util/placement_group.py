"""Placement groups: bundles of resources reserved together (atomically) across the cluster,
into which tasks and actors are then scheduled."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from ray._private import placement_group as _pg
from ray._private import runtime
from ray._private.generated import gcs_pb2
from ray._private.object_ref import ObjectRef
from ray._private.rpc import errors as rpc_errors

logger = logging.getLogger(__name__)

__all__ = [
    "PlacementGroup",
    "PlacementGroupID",
    "get_current_placement_group",
    "get_placement_group",
    "placement_group",
    "placement_group_table",
    "remove_placement_group",
]

VALID_PLACEMENT_GROUP_STRATEGIES = {"PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD"}

_STATE_NAMES = {
    gcs_pb2.PLACEMENT_GROUP_STATE_PENDING: "PENDING",
    gcs_pb2.PLACEMENT_GROUP_STATE_CREATED: "CREATED",
    gcs_pb2.PLACEMENT_GROUP_STATE_REMOVED: "REMOVED",
    gcs_pb2.PLACEMENT_GROUP_STATE_RESCHEDULING: "RESCHEDULING",
}
_STRATEGY_NAMES = {
    gcs_pb2.PLACEMENT_STRATEGY_PACK: "PACK",
    gcs_pb2.PLACEMENT_STRATEGY_SPREAD: "SPREAD",
    gcs_pb2.PLACEMENT_STRATEGY_STRICT_PACK: "STRICT_PACK",
    gcs_pb2.PLACEMENT_STRATEGY_STRICT_SPREAD: "STRICT_SPREAD",
}
# Bytes of a placement group id (as in Ray: 14 unique bytes and the job id).
_ID_UNIQUE_BYTES = 14


class PlacementGroupID:
    """The id of a placement group."""

    def __init__(self, id_bytes: bytes) -> None:
        self._bytes = bytes(id_bytes)

    @classmethod
    def nil(cls) -> PlacementGroupID:
        return cls(b"")

    def binary(self) -> bytes:
        return self._bytes

    def hex(self) -> str:
        return self._bytes.hex()

    def is_nil(self) -> bool:
        return not self._bytes

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlacementGroupID) and other._bytes == self._bytes

    def __hash__(self) -> int:
        return hash(self._bytes)

    def __repr__(self) -> str:
        return f"PlacementGroupID({self.hex()})"


class PlacementGroup:
    """A handle to a placement group.

    Args:
        id: The group's id.
        bundle_cache: Its bundles, if known (read from the GCS otherwise).
    """

    def __init__(
        self, id: PlacementGroupID | bytes, bundle_cache: list[dict] | None = None
    ) -> None:
        self.id = id if isinstance(id, PlacementGroupID) else PlacementGroupID(id)
        self.bundle_cache = bundle_cache

    @staticmethod
    def empty() -> PlacementGroup:
        return PlacementGroup(PlacementGroupID.nil())

    @property
    def is_empty(self) -> bool:
        return self.id.is_nil()

    def ready(self) -> ObjectRef:
        """An ObjectRef that resolves (to this group) once every bundle is reserved.

        Use it with `ray.get(pg.ready(), timeout=...)` or `ray.wait([pg.ready()], ...)`.
        """
        cw = runtime.core_worker()
        return _pg.ready_ref(cw, self.id.binary(), self)

    def wait(self, timeout_seconds: float | int = 30) -> bool:
        """Waits until the group is created; False if it is not within `timeout_seconds`."""
        cw = runtime.core_worker()
        deadline = time.monotonic() + max(float(timeout_seconds), 0.0)
        while True:
            left = deadline - time.monotonic()
            try:
                reply = cw.gcs.wait_placement_group(
                    self.id.binary(), max(min(left, _pg.READY_POLL_S), 0.0)
                )
            except rpc_errors.NotFound:
                raise ValueError(f"placement group {self.id.hex()} does not exist") from None
            if reply.ready:
                return True
            if reply.state == gcs_pb2.PLACEMENT_GROUP_STATE_REMOVED or left <= 0:
                return False

    @property
    def bundle_specs(self) -> list[dict[str, float]]:
        """The bundles' resources, in order."""
        if self.bundle_cache is None:
            info = _get_info(self.id.binary())
            self.bundle_cache = [dict(b.resources) for b in info.bundles]
        return [dict(b) for b in self.bundle_cache]

    @property
    def bundle_count(self) -> int:
        return len(self.bundle_specs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlacementGroup) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"PlacementGroup(id={self.id.hex()})"

    def __reduce__(self) -> tuple:
        return PlacementGroup, (self.id.binary(), self.bundle_cache)


def _get_info(pg_id: bytes) -> gcs_pb2.PlacementGroupInfo:
    info = runtime.core_worker().gcs.get_placement_group(pg_id)
    if info is None:
        raise ValueError(f"placement group {pg_id.hex()} does not exist")
    return info


def _validate_bundles(bundles: Any) -> list[dict[str, float]]:
    if not isinstance(bundles, (list, tuple)) or not bundles:
        raise ValueError(
            "The placement group `bundles` argument must be a non-empty list of resource "
            f"dicts, like [{{'CPU': 1}}], got {bundles!r}"
        )
    out = []
    for bundle in bundles:
        if not isinstance(bundle, dict):
            raise ValueError(f"each bundle must be a dict of resource amounts, got {bundle!r}")
        for name, amount in bundle.items():
            if not isinstance(name, str):
                raise ValueError(f"resource names must be strings, got {name!r}")
            if not isinstance(amount, (int, float)) or isinstance(amount, bool) or amount < 0:
                raise ValueError(
                    f"resource {name!r} of a bundle must be a non-negative number, got {amount!r}"
                )
        if not any(bundle.values()):
            raise ValueError(
                "Bundles cannot be an empty dictionary or resources with only 0 values. "
                f"Bundles: {list(bundles)}"
            )
        out.append({k: float(v) for k, v in bundle.items() if v})
    return out


def placement_group(
    bundles: list[dict[str, float]],
    strategy: str = "PACK",
    name: str = "",
    lifetime: str | None = None,
    _max_cpu_fraction_per_node: float = 1.0,
    _soft_target_node_id: str | None = None,
    bundle_label_selector: list[dict[str, str]] | None = None,
) -> PlacementGroup:
    """Asynchronously creates a placement group: the bundles are reserved as soon as they fit.

    Args:
        bundles: Resource dicts, one per bundle (each reserved on a single node).
        strategy: "PACK" (as few nodes as possible), "SPREAD" (distinct nodes, best
            effort), "STRICT_PACK" (all on one node) or "STRICT_SPREAD" (each on a different
            node).
        name: A name to look the group up by (`get_placement_group`), unique per namespace.
        lifetime: None (removed when the creating job ends) or "detached".

    Returns:
        The group's handle; `ready()` / `wait()` tell when it is created.

    Raises:
        ValueError: Malformed bundles, strategy or lifetime, or the name is taken.
    """
    specs = _validate_bundles(bundles)
    if strategy not in VALID_PLACEMENT_GROUP_STRATEGIES:
        raise ValueError(
            f"Invalid placement group strategy {strategy!r}. Supported strategies are: "
            f"{sorted(VALID_PLACEMENT_GROUP_STRATEGIES)}."
        )
    if lifetime not in (None, "detached"):
        raise ValueError(
            "Placement group `lifetime` argument must be either `None` or 'detached'. "
            f"Got {lifetime!r}."
        )
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if not 0 < _max_cpu_fraction_per_node <= 1:
        raise ValueError("_max_cpu_fraction_per_node must be a float between 0 and 1")
    if _max_cpu_fraction_per_node != 1.0 or _soft_target_node_id or bundle_label_selector:
        logger.warning(
            "placement_group(): _max_cpu_fraction_per_node, _soft_target_node_id and "
            "bundle_label_selector are accepted but not applied by this runtime"
        )
    cw = runtime.core_worker()
    job_id = cw.job_id or b"\0\0\0\0"
    pg_id = os.urandom(_ID_UNIQUE_BYTES) + job_id
    info = _pg.info_to_proto(
        pg_id, specs, strategy, name, cw.namespace, lifetime == "detached", cw.job_id
    )
    try:
        cw.gcs.create_placement_group(info)
    except rpc_errors.AlreadyExists as err:
        raise ValueError(err.details) from None
    except rpc_errors.InvalidArgument as err:
        raise ValueError(err.details) from None
    return PlacementGroup(PlacementGroupID(pg_id), specs)


def remove_placement_group(placement_group: PlacementGroup) -> None:
    """Removes the group: its resources are returned and the tasks and actors in it are killed.

    Raises:
        ValueError: The group does not exist.
    """
    if not isinstance(placement_group, PlacementGroup):
        raise TypeError(f"expected a PlacementGroup, got {type(placement_group).__name__}")
    try:
        runtime.core_worker().gcs.remove_placement_group(placement_group.id.binary())
    except rpc_errors.NotFound:
        raise ValueError(f"placement group {placement_group.id.hex()} does not exist") from None


def get_placement_group(placement_group_name: str) -> PlacementGroup:
    """The live (not removed) group of that name in the current namespace.

    Raises:
        ValueError: There is none.
    """
    if not placement_group_name:
        raise ValueError("Please supply a non-empty value to get_placement_group")
    cw = runtime.core_worker()
    info = cw.gcs.get_placement_group(name=placement_group_name, namespace=cw.namespace)
    if info is None:
        raise ValueError(f"Failed to look up placement group with name: {placement_group_name}")
    return PlacementGroup(
        PlacementGroupID(info.placement_group_id), [dict(b.resources) for b in info.bundles]
    )


def _table_entry(info: gcs_pb2.PlacementGroupInfo) -> dict[str, Any]:
    state = _STATE_NAMES.get(info.state, "PENDING")
    created = info.state == gcs_pb2.PLACEMENT_GROUP_STATE_CREATED
    return {
        "placement_group_id": info.placement_group_id.hex(),
        "name": info.name,
        "bundles": {b.bundle_index: dict(b.resources) for b in info.bundles},
        "bundles_to_node_id": {b.bundle_index: b.node_id.hex() for b in info.bundles if b.node_id},
        "strategy": _STRATEGY_NAMES.get(info.strategy, "PACK"),
        "state": state,
        "stats": {
            "end_to_end_creation_latency_ms": (
                float(info.state_changed_at_ms - info.created_at_ms) if created else 0.0
            ),
            "scheduling_state": "FINISHED" if created else state,
        },
    }


def placement_group_table(placement_group: PlacementGroup | None = None) -> dict[str, Any]:
    """The state of one group (a dict), or of every group (a dict by id hex)."""
    cw = runtime.core_worker()
    if placement_group is not None:
        info = cw.gcs.get_placement_group(placement_group.id.binary())
        return {} if info is None else _table_entry(info)
    return {
        info.placement_group_id.hex(): _table_entry(info) for info in cw.gcs.list_placement_groups()
    }


def get_current_placement_group() -> PlacementGroup | None:
    """The group the current task or actor runs in; None in a driver or outside any group."""
    if not runtime.is_initialized():
        return None
    current = _pg.current(runtime.core_worker())
    if current is None or not current.placement_group_id:
        return None
    return PlacementGroup(PlacementGroupID(current.placement_group_id))


def check_placement_group_index(placement_group: PlacementGroup, bundle_index: int) -> None:
    """Raises ValueError if `bundle_index` is not -1 or a bundle of the group."""
    count = placement_group.bundle_count
    if bundle_index < -1 or bundle_index >= count:
        raise ValueError(
            f"placement_group_bundle_index {bundle_index} is out of range: the group has "
            f"{count} bundle(s)"
        )
