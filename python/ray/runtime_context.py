"""The runtime context of the current driver or worker (`ray.get_runtime_context()`)."""

from __future__ import annotations

import logging

from ray._private.runtime_context import RuntimeContext, get_runtime_context

logger = logging.getLogger(__name__)

__all__ = ["RuntimeContext", "get_runtime_context"]
