"""Scheduling strategies for `.options(scheduling_strategy=...)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["NodeAffinitySchedulingStrategy", "PlacementGroupSchedulingStrategy"]


@dataclass(frozen=True)
class NodeAffinitySchedulingStrategy:
    """Run on the node with `node_id` (hex); with `soft`, elsewhere if that node cannot."""

    node_id: str
    soft: bool


class PlacementGroupSchedulingStrategy:
    """Run in a placement group's bundle.

    Args:
        placement_group: The group.
        placement_group_bundle_index: The bundle (-1: any bundle of the group).
        placement_group_capture_child_tasks: Tasks and actors started from inside also run
            in the group unless they say otherwise.
    """

    def __init__(
        self,
        placement_group: Any,
        placement_group_bundle_index: int = -1,
        placement_group_capture_child_tasks: bool | None = None,
    ) -> None:
        self.placement_group = placement_group
        self.placement_group_bundle_index = placement_group_bundle_index
        self.placement_group_capture_child_tasks = placement_group_capture_child_tasks

    def __repr__(self) -> str:
        return (
            f"PlacementGroupSchedulingStrategy({self.placement_group!r}, "
            f"placement_group_bundle_index={self.placement_group_bundle_index}, "
            f"placement_group_capture_child_tasks={self.placement_group_capture_child_tasks})"
        )
