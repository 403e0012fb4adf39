"""Scheduling strategies for `.options(scheduling_strategy=...)`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NodeAffinitySchedulingStrategy"]


@dataclass(frozen=True)
class NodeAffinitySchedulingStrategy:
    """Run on the node with `node_id` (hex); with `soft`, elsewhere if that node cannot."""

    node_id: str
    soft: bool
