"""Utilities on top of the core API."""

from __future__ import annotations

from ray.util.actor_pool import ActorPool
from ray.util.named_actors import list_named_actors
from ray.util.placement_group import (
    get_current_placement_group,
    get_placement_group,
    placement_group,
    placement_group_table,
    remove_placement_group,
)

__all__ = [
    "ActorPool",
    "get_current_placement_group",
    "get_placement_group",
    "list_named_actors",
    "placement_group",
    "placement_group_table",
    "remove_placement_group",
]
