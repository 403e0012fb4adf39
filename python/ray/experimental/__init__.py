"""Experimental APIs, as upstream's `ray.experimental`."""

from __future__ import annotations

__all__: list[str] = []
