"""Listing named actors."""

from __future__ import annotations

from typing import Any

from ray._private import runtime

__all__ = ["list_named_actors"]


def list_named_actors(all_namespaces: bool = False) -> list[Any]:
    """Names of live named actors in the current namespace, or `{"name", "namespace"}` dicts for all."""
    cw = runtime.core_worker()
    actors = cw.gcs.list_named_actors(cw.namespace, all_namespaces)
    if all_namespaces:
        return [{"name": a.name, "namespace": a.ray_namespace} for a in actors]
    return [a.name for a in actors]
