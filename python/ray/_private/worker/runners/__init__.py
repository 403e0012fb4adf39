"""Runners: the executor's per-language part, taking argument frames and returning result frames.

The executor (`task_executor.py`) dispatches each task on its
`FunctionDescriptor.language`. A runner finds the function or class, turns the
argument frames into its language's values, runs the code, and returns one
frame per return value. User code failing raises an exception from `run`; the
executor turns it into an ERROR value.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from ray._private.generated import common_pb2

logger = logging.getLogger(__name__)


class Runner(Protocol):
    """Runs the code of one language."""

    def create_actor(self, spec: common_pb2.TaskSpec, args: Sequence[Any]) -> Any:
        """Creates the actor instance (returned as an opaque handle for later calls)."""

    def run(self, spec: common_pb2.TaskSpec, args: Sequence[Any], actor: Any) -> Any:
        """Runs a task (`actor` is None) or an actor method.

        Returns:
            One frame per return (`SerializedObject` or bytes), or, for an asyncio actor's
            `async def` method, an awaitable of that list.
        """
