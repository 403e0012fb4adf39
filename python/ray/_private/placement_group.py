"""The driver/worker side of placement groups: options of tasks and actors placed in a group
(their resources renamed to the bundle's, `scheduling/bundles.py`), the group a running task
is in, and the object behind `PlacementGroup.ready()`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from ray import exceptions as rex
from ray._private import constants, ids, serialization
from ray._private.generated import common_pb2, gcs_pb2
from ray._private.object_ref import ObjectRef
from ray._private.rpc import errors as rpc_errors
from ray._private.worker.errors import error_frame

logger = logging.getLogger(__name__)

# One long-poll of the GCS while `ready()` waits.
READY_POLL_S = 5.0


def current(cw: Any) -> common_pb2.PlacementGroupSchedulingStrategy | None:
    """The group the running task or actor was placed in (None in a driver or outside one)."""
    if cw.actor_id:
        return getattr(cw, "actor_placement_group", None)
    return getattr(cw.context, "placement_group", None)


def strategy_of(spec: common_pb2.TaskSpec) -> common_pb2.PlacementGroupSchedulingStrategy | None:
    strategy = spec.scheduling_strategy
    if strategy.WhichOneof("kind") == "placement_group":
        return strategy.placement_group
    return None


def _fits(demand: Mapping[str, float], bundle: Mapping[str, float]) -> bool:
    return all(bundle.get(k, 0.0) + 1e-9 >= v for k, v in demand.items() if v)


def _specs_of(pg_id: bytes) -> list[dict[str, float]]:
    from ray._private import runtime

    info = runtime.core_worker().gcs.get_placement_group(pg_id)
    if info is None:
        raise ValueError(f"placement group {pg_id.hex()} does not exist")
    return [dict(b.resources) for b in info.bundles]


def resolve(
    options: Mapping[str, Any],
    resources: dict[str, float],
    placement_resources: dict[str, float] | None,
    strategy: common_pb2.SchedulingStrategy | None,
    what: str,
) -> tuple[dict[str, float], dict[str, float] | None, common_pb2.SchedulingStrategy | None]:
    """Applies a placement group choice (the strategy, the legacy options, or a group whose
    tasks capture their children) to a task's or actor's resources and strategy.

    Raises:
        ValueError: The bundle index is out of range, or the request fits no bundle.
    """
    value = options.get("scheduling_strategy")
    legacy = options.get("placement_group", "default")
    pg: Any = None
    index: Any = -1
    capture = False
    if type(value).__name__ == "PlacementGroupSchedulingStrategy":
        pg = value.placement_group
        index = value.placement_group_bundle_index
        capture = bool(value.placement_group_capture_child_tasks)
    elif legacy not in ("default", None):
        if not hasattr(legacy, "bundle_specs"):
            raise TypeError(
                f"placement_group must be a PlacementGroup or None, got {type(legacy).__name__}"
            )
        pg = legacy
        index = options.get("placement_group_bundle_index", -1)
        capture = bool(options.get("placement_group_capture_child_tasks"))
    pg_id = b""
    specs: list[dict[str, float]] = []
    if pg is not None:
        if not hasattr(pg, "bundle_specs"):
            raise TypeError(f"placement_group must be a PlacementGroup, got {type(pg).__name__}")
        pg_id = pg.id.binary()
        if pg_id:
            specs = pg.bundle_specs
    elif value is None and legacy == "default":
        from ray._private import runtime

        parent = current(runtime.core_worker()) if runtime.is_initialized() else None
        if parent is not None and parent.placement_group_capture_child_tasks:
            pg_id = parent.placement_group_id
            specs = _specs_of(pg_id)
            capture = True
    if not pg_id:
        return resources, placement_resources, strategy
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError(f"placement_group_bundle_index must be an int, got {index!r}")
    if index < -1 or index >= len(specs):
        raise ValueError(
            f"placement_group_bundle_index {index} is out of range: the placement group has "
            f"{len(specs)} bundle(s) (use -1 for any bundle, or 0..{len(specs) - 1})"
        )
    candidates = specs if index == -1 else [specs[index]]
    for demand in (resources, placement_resources or {}):
        if not any(_fits(demand, b) for b in candidates):
            which = "any bundle" if index == -1 else f"bundle {index}"
            raise ValueError(
                f"Cannot schedule {what} with the placement group because the resource request "
                f"{dict(demand)} cannot fit into {which} of the placement group, {candidates}. "
                "Ask for less, or create the group with larger bundles."
            )
    from ray._private.scheduling import bundles  # loaded by the first placement group use

    pg_hex = pg_id.hex()
    out = common_pb2.SchedulingStrategy()
    out.placement_group.placement_group_id = pg_id
    out.placement_group.placement_group_bundle_index = index
    out.placement_group.placement_group_capture_child_tasks = capture
    renamed = bundles.task_resources(resources, index, pg_hex)
    placement = (
        None
        if placement_resources is None
        else bundles.task_resources(placement_resources, index, pg_hex)
    )
    return renamed, placement, out


def is_capturing(cw: Any) -> bool:
    """The running task's children go into its group unless told otherwise."""
    if cw is None:
        return False
    parent = current(cw)
    return parent is not None and parent.placement_group_capture_child_tasks


def info_to_proto(
    pg_id: bytes,
    bundle_list: list[dict[str, float]],
    strategy: str,
    name: str,
    namespace: str,
    detached: bool,
    job_id: bytes,
) -> gcs_pb2.PlacementGroupInfo:
    info = gcs_pb2.PlacementGroupInfo(
        placement_group_id=pg_id,
        name=name,
        ray_namespace=namespace,
        strategy=getattr(gcs_pb2, f"PLACEMENT_STRATEGY_{strategy}"),
        is_detached=detached,
        creator_job_id=job_id,
    )
    for index, bundle in enumerate(bundle_list):
        info.bundles.add(
            placement_group_id=pg_id,
            bundle_index=index,
            resources={k: float(v) for k, v in bundle.items() if v},
        )
    return info


def ready_ref(cw: Any, pg_id: bytes, value: Any) -> ObjectRef:
    """An object (owned here) that becomes `value` once the group is created."""
    oid = ids.new_put_object_id(cw.job_id or b"\0\0\0\0")
    cw.refs.add_owned(oid)
    ref = ObjectRef(oid, None)
    threading.Thread(
        target=_resolve_when_ready,
        args=(cw, pg_id, oid, value),
        name="pg-ready",
        daemon=True,
    ).start()
    return ref


def _resolve_when_ready(cw: Any, pg_id: bytes, oid: bytes, value: Any) -> None:
    backoff = 0.1
    while not cw.shutting_down:
        try:
            reply = cw.gcs.wait_placement_group(pg_id, READY_POLL_S)
        except rpc_errors.NotFound:
            _store(cw, oid, error=f"placement group {pg_id.hex()} does not exist")
            return
        except rpc_errors.RpcFailure as err:
            logger.debug("waiting for placement group %s: %s", pg_id.hex()[:12], err)
            time.sleep(backoff)
            backoff = min(backoff * 2, constants.LONG_POLL_S)
            continue
        if reply.ready:
            _store(cw, oid, value=value)
            return
        if reply.state == gcs_pb2.PLACEMENT_GROUP_STATE_REMOVED:
            _store(
                cw,
                oid,
                error=(
                    f"placement group {pg_id.hex()} was removed before it was ready; "
                    "create a new one"
                ),
            )
            return


def _store(cw: Any, oid: bytes, value: Any = None, error: str = "") -> None:
    try:
        if error:
            cw.ownership.store_error([oid], error_frame(rex.RaySystemError(error)))
            return
        if not cw.refs.has(oid):
            return  # nobody holds the ref any more
        ser = serialization.serialize(value, path="placement group ready() value")
        cw.memory_store.put(oid, cw.ownership.store_frame(oid, ser))
    except Exception as err:  # noqa: BLE001 - the process may be shutting down
        logger.debug("could not resolve a placement group ready() object: %s", err)
