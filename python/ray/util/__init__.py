"""Utilities on top of the core API."""

from __future__ import annotations

from ray.util.actor_pool import ActorPool
from ray.util.named_actors import list_named_actors

__all__ = ["ActorPool", "list_named_actors"]
