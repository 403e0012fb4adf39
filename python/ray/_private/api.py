"""The functions of the public API (re-exported by `ray/__init__.py`)."""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Sequence
from typing import Any

from ray._private import runtime, values
from ray._private.generated import common_pb2
from ray._private.object_ref import ObjectRef
from ray._private.object_ref_generator import ObjectRefGenerator
from ray._private.remote_function import RemoteFunction

logger = logging.getLogger(__name__)


def remote(*args: Any, **kwargs: Any) -> Any:
    """Makes a function a remote function (task) or a class an actor class.

    Usable bare (`@ray.remote`) or with options (`@ray.remote(num_cpus=2)`).
    """
    if len(args) == 1 and not kwargs and callable(args[0]):
        return _make_remote(args[0], {})
    if args:
        raise TypeError("@ray.remote takes either a function/class, or keyword options only")

    def decorator(target: Any) -> Any:
        return _make_remote(target, kwargs)

    return decorator


def _make_remote(target: Any, options: dict[str, Any]) -> Any:
    if inspect.isclass(target):
        from ray.actor import ActorClass

        return ActorClass._from_class(target, options)
    if inspect.isfunction(target) or inspect.isbuiltin(target) or callable(target):
        return RemoteFunction(target, options)
    raise TypeError(f"@ray.remote must decorate a function or a class, not {type(target).__name__}")


def _check_timeout(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or math.isnan(timeout):
        raise TypeError(f"timeout must be a number or None, got {timeout!r}")
    if timeout < 0:
        raise ValueError(f"timeout must be >= 0, got {timeout}")
    return float(timeout)


def get(object_refs: Any, *, timeout: float | None = None) -> Any:
    """Returns the value of an ObjectRef, or the values of a list of them (in order).

    Raises:
        GetTimeoutError: Not ready within `timeout` seconds.
        RayTaskError: The task that makes the object raised (also an instance of the cause's type).
    """
    timeout = _check_timeout(timeout)
    cw = runtime.core_worker()
    if isinstance(object_refs, ObjectRef):
        return values.value_of(cw.get_frames([object_refs], timeout)[0])
    if isinstance(object_refs, (list, tuple)):
        for r in object_refs:
            if not isinstance(r, ObjectRef):
                raise TypeError(
                    f"ray.get() takes an ObjectRef or a list of ObjectRefs; the list holds a {type(r).__name__}"
                )
        return values.get(cw, list(object_refs), timeout)
    if hasattr(object_refs, "__ray_object_ref__"):
        return values.get(cw, [object_refs.__ray_object_ref__()], timeout)[0]
    if isinstance(object_refs, ObjectRefGenerator):
        raise ValueError(
            "ray.get() does not take an ObjectRefGenerator: iterate it (`for ref in gen`) and "
            "ray.get each ref it yields"
        )
    raise ValueError(
        f"Invalid type of object refs, {type(object_refs)}, is given. 'object_refs' must either be an "
        "ObjectRef or a list of ObjectRefs."
    )


def put(value: Any, *, _owner: Any = None) -> ObjectRef:
    """Stores a value in the object store and returns its ObjectRef."""
    return values.put(runtime.core_worker(), value)


def wait(
    object_refs: Sequence[ObjectRef],
    *,
    num_returns: int = 1,
    timeout: float | None = None,
    fetch_local: bool = True,
) -> tuple[list[ObjectRef], list[ObjectRef]]:
    """Returns (ready, not_ready): at most `num_returns` ready refs, in input order.

    The list may hold ObjectRefGenerators too: one is ready when its next ref is ready to be
    read (or the generator has ended). Returns early when `timeout` (seconds) passes.
    """
    if isinstance(object_refs, ObjectRef):
        raise TypeError("wait() expected a list of ray.ObjectRef, got a single ray.ObjectRef")
    if not isinstance(object_refs, (list, tuple)):
        raise TypeError(f"wait() expected a list of ray.ObjectRef, got {type(object_refs)}")
    generators = False
    for r in object_refs:
        if not isinstance(r, ObjectRef):
            if isinstance(r, ObjectRefGenerator):
                generators = True
                continue
            raise TypeError(
                f"wait() expected a list of ray.ObjectRef or ray.ObjectRefGenerator, got a list "
                f"containing {type(r)}"
            )
    timeout = _check_timeout(timeout)
    if generators:
        return _wait_with_generators(list(object_refs), num_returns, timeout)
    if len({r._id for r in object_refs}) != len(object_refs):
        raise ValueError("Wait requires a list of unique object refs.")
    if not isinstance(num_returns, int) or num_returns <= 0:
        raise ValueError(f"Invalid number of objects to return {num_returns}.")
    if num_returns > len(object_refs):
        raise ValueError(
            f"num_returns ({num_returns}) cannot be greater than the number of objects provided ({len(object_refs)})."
        )
    if not object_refs:
        return [], []
    return runtime.core_worker().wait(list(object_refs), num_returns, timeout, fetch_local)


def _wait_with_generators(
    entries: list[Any], num_returns: int, timeout: float | None
) -> tuple[list[Any], list[Any]]:
    keys = [e.task_id() if isinstance(e, ObjectRefGenerator) else e._id for e in entries]
    if len(set(keys)) != len(keys):
        raise ValueError("Wait requires a list of unique object refs.")
    if not isinstance(num_returns, int) or num_returns <= 0:
        raise ValueError(f"Invalid number of objects to return {num_returns}.")
    if num_returns > len(entries):
        raise ValueError(
            f"num_returns ({num_returns}) cannot be greater than the number of objects provided ({len(entries)})."
        )
    cw = runtime.core_worker()
    cw.ownership.start_fetches([e for e in entries if isinstance(e, ObjectRef)])

    def probes(entry: Any) -> list[bytes] | None:
        if isinstance(entry, ObjectRef):
            return [entry._id]
        if entry._has_next():
            return None
        return entry._probe_ids() or None

    return cw.generators.wait(entries, probes, num_returns, timeout)


def cancel(object_ref: ObjectRef, *, force: bool = False, recursive: bool = True) -> None:
    """Cancels the task that makes `object_ref` (or streams an ObjectRefGenerator's values);
    its `get` (the generator's next value) then raises TaskCancelledError."""
    if isinstance(object_ref, ObjectRefGenerator):
        object_ref = object_ref.completed()
    if not isinstance(object_ref, ObjectRef):
        raise TypeError(f"ray.cancel() only supports ObjectRefs, got {type(object_ref)}")
    runtime.core_worker().cancel(object_ref, force, recursive)


def _alive_nodes() -> list[common_pb2.NodeInfo]:
    return [
        n
        for n in runtime.core_worker().gcs.get_all_nodes()
        if n.state == common_pb2.NODE_STATE_ALIVE
    ]


def cluster_resources() -> dict[str, float]:
    """Total resources of the alive nodes."""
    out: dict[str, float] = {}
    for node in _alive_nodes():
        for name, value in node.resources.total.items():
            out[name] = out.get(name, 0) + value
    return out


def available_resources() -> dict[str, float]:
    """Resources not in use right now, summed over alive nodes (as of their last heartbeat)."""
    cw = runtime.core_worker()
    out: dict[str, float] = {}
    for node in _alive_nodes():
        available = dict(node.resources.available)
        if node.node_id == cw.node_id:
            available = dict(cw.nm.stats().resources.available)
        for name, value in available.items():
            if value > 0:
                out[name] = out.get(name, 0) + value
    return out


def nodes() -> list[dict[str, Any]]:
    """Every node the cluster knows, alive or dead, in Ray's format."""
    out = []
    for node in runtime.core_worker().gcs.get_all_nodes():
        out.append(
            {
                "NodeID": node.node_id.hex(),
                "Alive": node.state == common_pb2.NODE_STATE_ALIVE,
                "NodeManagerAddress": node.node_manager_address,
                "NodeManagerHostname": node.node_name,
                "NodeManagerPort": node.node_manager_port,
                "Resources": dict(node.resources.total),
                "ObjectStoreMemory": node.object_store_memory_bytes,
                "IsHead": node.is_head,
                "DeathReason": node.death_reason,
                "MetricsExportPort": node.metrics_export_port,
            }
        )
    return out


def get_gpu_ids() -> list[int]:
    """The GPU ids assigned to the current task or actor (empty on the driver)."""
    cw = runtime.core_worker()
    return list(cw.assigned_instance_ids().get("GPU", []))
