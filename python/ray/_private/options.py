"""Validation of `@ray.remote(...)` and `.options(...)` arguments for tasks and actors."""

from __future__ import annotations

import logging
import math
from typing import Any

from ray._private.generated import common_pb2
from ray._private.runtime_env import validation as runtime_env_validation

logger = logging.getLogger(__name__)

COMMON_OPTIONS = {
    "num_cpus",
    "num_gpus",
    "memory",
    "resources",
    "accelerator_type",
    "runtime_env",
    "scheduling_strategy",
    "name",
    "namespace",
    "object_store_memory",
    "label_selector",
    "_metadata",
    "placement_group",
    "placement_group_bundle_index",
    "placement_group_capture_child_tasks",
    "enable_task_events",
}
# `accelerator_type="A100"` asks for this much of the node resource "accelerator_type:A100".
ACCELERATOR_TYPE_PREFIX = "accelerator_type:"
ACCELERATOR_TYPE_AMOUNT = 0.001
TASK_OPTIONS = COMMON_OPTIONS | {
    "num_returns",
    "max_retries",
    "retry_exceptions",
    "max_calls",
    "_generator_backpressure_num_objects",
}
ACTOR_OPTIONS = COMMON_OPTIONS | {
    "max_restarts",
    "max_task_retries",
    "max_concurrency",
    "lifetime",
    "get_if_exists",
    "concurrency_groups",
    "max_pending_calls",
    "allow_out_of_order_execution",
}


def validate(options: dict[str, Any], allowed: set[str], what: str) -> None:
    """Raises ValueError for unknown or malformed options."""
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(
            f"Invalid option(s) for {what}: {sorted(unknown)}. Valid options: {sorted(allowed)}"
        )
    for key in ("num_cpus", "num_gpus", "memory"):
        value = options.get(key)
        if value is not None and (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not math.isfinite(value)
            or value < 0
        ):
            raise ValueError(f"{key} must be a finite, non-negative number, got {value!r}")
    gpus = options.get("num_gpus")
    if gpus is not None and gpus > 1 and float(gpus) != int(gpus):
        raise ValueError(f"num_gpus above 1 must be a whole number, got {gpus}")
    res = options.get("resources")
    if res is not None:
        if not isinstance(res, dict):
            raise TypeError(f"resources must be a dict, got {type(res).__name__}")
        for name, value in res.items():
            if name in ("CPU", "GPU"):
                raise ValueError(
                    f"Use the num_{name.lower()}s option instead of resources={{'{name}': ...}}"
                )
            if (
                not isinstance(value, (int, float))
                or isinstance(value, bool)
                or not math.isfinite(value)
                or value < 0
            ):
                raise ValueError(
                    f"resource {name!r} must be a finite, non-negative number, got {value!r}"
                )
    nr = options.get("num_returns")
    if (
        nr is not None
        and nr not in ("streaming", "dynamic")
        and (not isinstance(nr, int) or isinstance(nr, bool) or nr < 0)
    ):
        raise ValueError(
            f"num_returns must be a non-negative integer, 'streaming' or 'dynamic', got {nr!r}"
        )
    bp = options.get("_generator_backpressure_num_objects")
    if bp is not None and (not isinstance(bp, int) or isinstance(bp, bool) or bp == 0 or bp < -1):
        raise ValueError(
            "_generator_backpressure_num_objects must be a positive integer (or -1 for no "
            f"limit), got {bp!r}"
        )
    mr = options.get("max_retries")
    if mr is not None and (not isinstance(mr, int) or mr < -1):
        raise ValueError(f"max_retries must be an integer >= -1, got {mr!r}")
    mc = options.get("max_concurrency")
    if mc is not None and (not isinstance(mc, int) or mc < 1):
        raise ValueError(f"max_concurrency must be a positive integer, got {mc!r}")
    retry = options.get("retry_exceptions")
    if retry is not None and not isinstance(retry, bool):
        if not isinstance(retry, (list, tuple)) or not all(
            isinstance(t, type) and issubclass(t, BaseException) for t in retry
        ):
            raise TypeError(
                f"retry_exceptions must be a bool or a list of exception types, got {retry!r}"
            )
    lifetime = options.get("lifetime")
    if lifetime not in (None, "detached", "non_detached"):
        raise ValueError(f"lifetime must be 'detached' or 'non_detached', got {lifetime!r}")
    accelerator_type = options.get("accelerator_type")
    if accelerator_type is not None and not isinstance(accelerator_type, str):
        raise TypeError(
            f"accelerator_type must be a str (see ray.util.accelerators), got {accelerator_type!r}"
        )
    # Unsupported runtime_env fields are refused here, before anything is submitted.
    runtime_env_validation.validate(options.get("runtime_env"))


def resource_request(options: dict[str, Any], default_cpus: float) -> dict[str, float]:
    """The resources a task or actor asks for."""
    out: dict[str, float] = {}
    cpus = options.get("num_cpus")
    cpus = default_cpus if cpus is None else cpus
    if cpus:
        out["CPU"] = float(cpus)
    if options.get("num_gpus"):
        out["GPU"] = float(options["num_gpus"])
    if options.get("memory"):
        out["memory"] = float(options["memory"])
    for name, value in (options.get("resources") or {}).items():
        if value:
            out[name] = float(value)
    if options.get("accelerator_type"):
        # As Ray does: a sliver of the resource every node with that accelerator offers.
        out[f"{ACCELERATOR_TYPE_PREFIX}{options['accelerator_type']}"] = ACCELERATOR_TYPE_AMOUNT
    return out


def scheduling_strategy(value: Any) -> common_pb2.SchedulingStrategy | None:
    """Converts a Ray scheduling strategy option to its proto."""
    if value is None or value == "DEFAULT":
        return None
    strategy = common_pb2.SchedulingStrategy()
    if value == "SPREAD":
        strategy.spread.SetInParent()
        return strategy
    if type(value).__name__ == "PlacementGroupSchedulingStrategy":
        return None  # applied with the resources: placement_group.resolve
    node_id = getattr(value, "node_id", None)
    if node_id is not None:
        strategy.node_affinity.node_id = (
            bytes.fromhex(node_id) if isinstance(node_id, str) else node_id
        )
        strategy.node_affinity.soft = bool(getattr(value, "soft", False))
        return strategy
    raise ValueError(
        f"unsupported scheduling_strategy {value!r}: use 'DEFAULT', 'SPREAD', NodeAffinitySchedulingStrategy or PlacementGroupSchedulingStrategy"
    )
